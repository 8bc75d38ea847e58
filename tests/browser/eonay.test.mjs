// E-Onay İşlemleri: KABUL EDİYORUM + Devam Et, the consent text signed; and
// KABUL ETMİYORUM, which is recorded too and keeps E-Onaylı başvuru closed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from './harness.mjs';
import { control, fillApplication, giveConsent, signedLogin } from './flows.mjs';

test('E-Onay: KABUL EDİYORUM signed by imzala-cli gives "Seçiminiz kaydedildi"', { timeout: 240000 }, async () => {
  await withHarness({ name: 'eonay' }, async (h) => {
    await signedLogin(h);
    await giveConsent(h);
  });
});

test('E-Onay: KABUL ETMİYORUM is recorded and E-Onaylı başvuru stays closed', { timeout: 300000 }, async () => {
  await withHarness({ name: 'eonay-ret' }, async (h) => {
    await signedLogin(h);
    await giveConsent(h, { accept: false });
    await fillApplication(h);
    assert.equal(await control(h.page, /E-Onaylı/i).isEnabled(), false);
  });
});
