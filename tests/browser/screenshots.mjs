#!/usr/bin/env node
// screenshots.mjs: the README's pictures of the demo portal, docs/screenshots/portal-*.png.
//
// Runs the same flows as the browser tests (so the pictures show flows that
// pass) and keeps one PNG per page. By hand, after building:
//
//   cd tests/browser && npm ci
//   node screenshots.mjs ../../_build          (or IMZALA_PORTAL=... IMZALA_CLI=... node screenshots.mjs)
//
// The pictures hold no secrets: a demo person, a code that has expired by
// the time anyone reads it, and no PIN. Each one is kept under ~150 KB.

import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const build = process.argv[2];
if (build) {
  process.env.IMZALA_PORTAL ??= resolve(build, 'src/portal/imzala-portal');
  process.env.IMZALA_CLI ??= resolve(build, 'src/cli/imzala-cli');
}
process.env.LANGUAGE ??= 'en';

const { withHarness } = await import('./harness.mjs');
const flows = await import('./flows.mjs');

const out = resolve(here, '../../docs/screenshots');
mkdirSync(out, { recursive: true });
const written = [];

// Keeps the pages named in @wanted, as docs/screenshots/portal-<label>.png.
function keep(wanted) {
  return (label) => {
    if (!wanted.includes(label))
      return null;
    const file = join(out, `portal-${label}.png`);
    written.push(file);
    return file;
  };
}

await withHarness({ name: 'docs', shotFile: keep(['ana-sayfa', 'giris-kod', 'islemler', 'eonay',
                                                  'eonay-sonuc', 'basvuru-eonayli-sonuc']) },
  async (h) => {
    await flows.signedLogin(h);
    await flows.giveConsent(h);
    await flows.fillApplication(h);
    await flows.applyWithConsent(h);
  });

await withHarness({ name: 'docs', shotFile: keep(['basvuru-giris', 'basvuru-form-hata', 'basvuru-form',
                                                  'basvuru-yontem', 'basvuru-kod', 'basvuru-sonuc']) },
  async (h) => {
    await flows.fillApplication(h);
    await flows.applyWithSignature(h);
  });

await withHarness({ name: 'docs', shotFile: keep(['kilit', 'kilit-kod', 'kilit-sonuc']) },
  (h) => flows.unblockCard(h));

// Full-page PNGs of plain pages are small; a palette brings a large one down.
for (const file of written) {
  if (statSync(file).size > 150 * 1024)
    execFileSync('convert', [file, '-colors', '256', '-define', 'png:compression-level=9', file]);
  console.log(`${file} (${Math.round(statSync(file).size / 1024)} KB)`);
}
