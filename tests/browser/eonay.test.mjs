// E-Onay İşlemleri: KABUL EDİYORUM + Devam Et, the consent text signed.

import { test } from 'node:test';
import { withHarness } from './harness.mjs';
import { giveConsent, signedLogin } from './flows.mjs';

test('E-Onay: KABUL EDİYORUM signed by imzala-cli gives "Seçiminiz kaydedildi"', { timeout: 240000 }, async () => {
  await withHarness({ name: 'eonay' }, async (h) => {
    await signedLogin(h);
    await giveConsent(h);
  });
});
