// E-imzalı Giriş through the pages, and a code that expires on the page.

import { test } from 'node:test';
import { withHarness } from './harness.mjs';
import { expiredLogin, signedLogin } from './flows.mjs';

test('E-imzalı Giriş: the shown code signed by imzala-cli opens İşlemler Menüsü', { timeout: 180000 }, async () => {
  await withHarness({ name: 'giris' }, signedLogin);
});

test('an expired code: the page says so and imzala-cli exits 5 with the portal\'s sentence', { timeout: 180000 }, async () => {
  await withHarness({ name: 'sure-doldu', codeLifetime: 4 }, expiredLogin);
});
