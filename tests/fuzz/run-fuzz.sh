#!/bin/bash
# run-fuzz.sh HARNESS NAME CORPUS_DIR SRC_DIR: one harness as a test.
#
# Replays the seeds made at test time (CORPUS_DIR/NAME), the regression
# seeds committed in tests/fuzz/regressions/NAME (inputs that once crashed
# a harness), and what earlier runs found (CORPUS_DIR/NAME.found), then
# fuzzes for IMZALA_FUZZ_SECONDS (default 20) seconds. A crash, a leak, a
# sanitizer report or a time-out of one input fails the test; libFuzzer
# writes the input as crash-* (or leak-*, timeout-*) in CORPUS_DIR/NAME.artifacts/.
set -uo pipefail

harness=${1:?usage: run-fuzz.sh HARNESS NAME CORPUS_DIR SRC_DIR}
name=${2:?}
corpus=${3:?}
srcdir=${4:?}
seconds=${IMZALA_FUZZ_SECONDS:-20}

found=$corpus/$name.found
artifacts=$corpus/$name.artifacts
mkdir -p "$found" "$artifacts"
dirs=("$found" "$corpus/$name")
[ -d "$srcdir/regressions/$name" ] && dirs+=("$srcdir/regressions/$name")

export IMZALA_FUZZ_TRUST=$corpus/trust.pem
# -error_exitcode=1: libFuzzer's own default, 77, is what meson counts as a
# skipped test, so a crash passed as "SKIP".
exec "$harness" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2560 -error_exitcode=1 \
  -max_len=65536 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dirs[@]}"
