#!/bin/bash
# test-nginx.sh: the portal behind the nginx site that the package ships
# (docs/deploy/nginx-imzala-portal.conf), with a real nginx and the real
# imzala-portal and imzala-cli. TAP.
#
# The site is used as shipped; tests/nginx-front.sh changes only what a
# test cannot have (ports on the loopback instead of 80 and 443, certificate
# paths, the portal's port) and wraps it in a minimal nginx.conf. What is
# asserted:
#   - imzala-cli fetches, signs and submits through nginx (the portal's
#     SQLite row says "done");
#   - the portal's guess limit counts each client behind nginx on its own
#     (--trusted-proxy and X-Forwarded-For): one client locked out, another
#     served; and the audit rows name the clients;
#   - nginx keeps its connections to the portal (the upstream keepalive):
#     after 120 requests through nginx, past the 100 that one connection
#     carries, every one was answered 200 and connections to the portal
#     are still open (/proc/net/tcp); without the upstream block nginx
#     closes each after its request.
#
# nginx is $IMZALA_NGINX (tests/meson.build: /usr/sbin/nginx, or the binary
# tools/install-deps unpacks from Debian's package into .deps/nginx); the
# test is skipped when there is none.
set -uo pipefail

NGINX=${IMZALA_NGINX:-}
PORTAL=${IMZALA_PORTAL:?}
CLI=${IMZALA_CLI:?}
SITE=${IMZALA_NGINX_SITE:?}
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so
PIN=123456
TCKN=12345678950

if [ -z "$NGINX" ] || [ ! -x "$NGINX" ]; then
  echo "1..0 # SKIP nginx is not available (tools/install-deps unpacks it into .deps/nginx)"
  exit 0
fi

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { # DESCRIPTION COMMAND...: ok when the command succeeds
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}

TMP=$(mktemp -d /tmp/imzala-test-nginx.XXXXXX)
PORTAL_PID=
NGINX_PID=
cleanup() {
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null
  [ -n "$PORTAL_PID" ] && kill "$PORTAL_PID" 2>/dev/null
  wait 2>/dev/null
  if [ -n "${IMZALA_TEST_KEEP:-}" ]; then echo "# kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

echo "1..8"

# ---- The portal, on the loopback, trusting the proxy's address ----
# Three free ports on the loopback, distinct: the portal's, nginx's HTTPS
# and its redirect.
read -r PORTAL_PORT EDGE_PORT REDIRECT_PORT < <(python3 "$(dirname "$0")/free-ports.py" 3)
URL=https://localhost:$EDGE_PORT
"$PORTAL" --state "$TMP/state" enrol --tckn $TCKN --name "AYŞE YILMAZ" --security-word kelebek \
  --sicil-no 12345 --card-dir "$TMP/card" > "$TMP/enrol.log" 2>&1 \
  || { echo "Bail out! enrol failed: $(tail -n 1 "$TMP/enrol.log")"; exit 1; }
"$PORTAL" --state "$TMP/state" --listen 127.0.0.1:$PORTAL_PORT --public-url "$URL" --trusted-proxy 127.0.0.1 \
  > "$TMP/portal.out" 2> "$TMP/portal.log" &
PORTAL_PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$TMP/portal.out" 2>/dev/null && break; sleep 0.1; done
grep -q 'listening on' "$TMP/portal.out" || { echo "Bail out! the portal did not start: $(cat "$TMP/portal.log")"; exit 1; }
PORTAL_CA=$TMP/state/ca/root-ca.pem

# ---- nginx: the shipped site, with the test's ports and paths ----
"$(dirname "$0")/nginx-front.sh" "$SITE" "$TMP/nginx" "$PORTAL_PORT" "$EDGE_PORT" "$REDIRECT_PORT" "$PORTAL_CA"
# The site still names the portal's port and none of the shipped ones.
check "the shipped site is used with the test's ports and paths" \
  bash -c "grep -v '^ *#' '$TMP/nginx/site.conf' > '$TMP/nginx/site.directives' && grep -q 'server 127.0.0.1:$PORTAL_PORT;' '$TMP/nginx/site.directives' && grep -q 'proxy_pass https://imzala_portal;' '$TMP/nginx/site.directives' && ! grep -q -e 8443 -e /etc/ -e ' 80;' -e ' 443 ' '$TMP/nginx/site.directives'"
"$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" 2>> "$TMP/nginx/error.log" &
NGINX_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null --cacert "$TMP/nginx/edge-ca.pem" "$URL/ca.pem" && break; sleep 0.1; done
check "nginx serves the portal's pages" curl -sf -o /dev/null --cacert "$TMP/nginx/edge-ca.pem" "$URL/ca.pem"

# ---- imzala-cli through nginx ----
new_code() { # SOURCE-ADDRESS: a login request made from that address, through nginx
  curl -s --cacert "$TMP/nginx/edge-ca.pem" --interface "$1" -H 'Content-Type: application/json' \
    -d "{\"tckn\": \"$TCKN\"}" "$URL/api/v1/browser/login" | sed -n 's/.*"code" *: *"\([^"]*\)".*/\1/p'
}
code=$(new_code 127.0.0.21)
echo $PIN > "$TMP/pin"
SOFTHSM2_CONF=$TMP/card/softhsm2.conf "$CLI" portal --no-registered --module $SOFTHSM \
  --portal-ca "$TMP/nginx/edge-ca.pem" --portal "$URL" --code "$code" --pin-fd 3 3< "$TMP/pin" \
  > "$TMP/cli.out" 2> "$TMP/cli.err"
cli_status=$?
state=$(sqlite3 "$TMP/state/portal.sqlite3" "SELECT state FROM requests WHERE code = '$(echo "$code" | tr -d -)'" 2>&1)
if [ $cli_status -eq 0 ] && [ "$state" = done ]; then
  ok "imzala-cli portal signs through nginx (request $code done)"
else
  not_ok "imzala-cli portal signs through nginx (exit $cli_status, state '$state')"
  sed 's/^/# /' "$TMP/cli.err"
fi

# ---- Each client behind nginx has its own guess limit ----
guess() { # SOURCE-ADDRESS: the status of a wrong code's GET through nginx
  curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/nginx/edge-ca.pem" --interface "$1" \
    "$URL/api/v1/requests/BBBBBBBBBBBB"
}
statuses=""
for _ in $(seq 1 11); do statuses="$statuses $(guess 127.0.0.22)"; done
check "one client's 11th wrong guess through nginx is refused (429):$statuses" \
  test "$statuses" = " 404 404 404 404 404 404 404 404 404 404 429"
other=$(guess 127.0.0.23)
check "another client through nginx is still served (404, got $other)" test "$other" = 404
# A client that forges X-Forwarded-For still counts as itself: nginx appends
# the address it was connected from, and the portal takes the last.
forged=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/nginx/edge-ca.pem" --interface 127.0.0.22 \
  -H 'X-Forwarded-For: 127.0.0.24' "$URL/api/v1/requests/BBBBBBBBBBBB")
check "a forged X-Forwarded-For does not lift the limit (429, got $forged)" test "$forged" = 429
rows=$(sqlite3 "$TMP/state/portal.sqlite3" \
  "SELECT group_concat(DISTINCT address) FROM (SELECT address FROM events WHERE kind = 'wrong-code' ORDER BY address)")
check "the audit rows name the clients, not nginx ($rows)" test "$rows" = "127.0.0.22,127.0.0.23"

# ---- nginx keeps its connections to the portal ----
# The portal's side of each connection nginx holds open to it, in
# /proc/net/tcp (local port = the portal's, state 01 = established).
portal_connections() {
  awk -v port="$(printf '%04X' "$PORTAL_PORT")" \
    '$2 ~ ":" port "$" && $4 == "01" { n++ } END { print n + 0 }' /proc/net/tcp
}
# From an address each, as 120 clients: the site's limit_req lets one
# address make 21 requests at once, then 10 a second.
codes=""
for i in $(seq 1 120); do
  codes="$codes $(curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/nginx/edge-ca.pem" --interface "127.0.1.$i" \
    "$URL/ca.pem")"
done
kept=$(portal_connections)
bad=$(echo "$codes" | tr ' ' '\n' | grep -c -v -e '^200$' -e '^$')
if [ "$kept" -ge 1 ] && [ "$bad" -eq 0 ]; then
  ok "nginx keeps its connections to the portal ($kept open after 120 requests, all answered 200)"
else
  not_ok "nginx keeps its connections to the portal ($kept open after 120 requests; answers:$codes)"
  tail -n 20 "$TMP/nginx/error.log" | sed 's/^/# /'
fi

exit $failed
