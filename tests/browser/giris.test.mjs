// E-imzalı Giriş through the pages, a code used twice, and a code that
// expires on the page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from './harness.mjs';
import { expiredLogin, otherPersonsCard, signedLogin } from './flows.mjs';

test('E-imzalı Giriş: the shown code signed by imzala-cli opens İşlemler Menüsü', { timeout: 180000 }, async () => {
  await withHarness({ name: 'giris' }, async (h) => {
    const code = await signedLogin(h);

    // The code is single use: a second run is refused before any PIN.
    const again = await h.runCli(code);
    assert.equal(again.status, 5, `a used code was accepted again:\n${again.stdout}`);
    assert.match(again.stderr, /^imzala-cli: Bu doğrulama kodu daha önce kullanılmış\./m);
    assert.equal(h.sql('SELECT count(*) AS n FROM signatures')[0].n, 1);
  });
});

test('an expired code: the page says so and imzala-cli exits 5 with the portal\'s sentence', { timeout: 180000 }, async () => {
  await withHarness({ name: 'sure-doldu', codeLifetime: 8 }, expiredLogin);
});

test('another person\'s card: not chosen by imzala-cli, named by --cert and refused three times, then the page says the code is closed', { timeout: 180000 }, async () => {
  await withHarness({ name: 'baska-kart', otherPerson: true }, otherPersonsCard);
});
