// The NES application for MEB staff, with both signing methods.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withHarness } from './harness.mjs';
import { applyWithConsent, applyWithSignature, control, fillApplication, giveConsent, signedLogin } from './flows.mjs';

test('Başvuru, E-İmzalı: the form and the Taahhütname signed by imzala-cli', { timeout: 240000 }, async () => {
  await withHarness({ name: 'basvuru-eimzali' }, async (h) => {
    await fillApplication(h);
    // Without e-onay the E-Onaylı method cannot be used.
    const eonayli = control(h.page, /E-Onaylı/i);
    if (await eonayli.count() > 0)
      assert.equal(await eonayli.isEnabled(), false, 'E-Onaylı is offered without e-onay');
    await applyWithSignature(h);
  });
});

test('Başvuru, E-Onaylı after e-onay: no card needed', { timeout: 300000 }, async () => {
  await withHarness({ name: 'basvuru-eonayli' }, async (h) => {
    await signedLogin(h);
    await giveConsent(h);
    await fillApplication(h);
    await applyWithConsent(h);
  });
});

test('Başvuru, Yenileme (E-Onaylı): accepted, and waits until two months before the certificate expires', { timeout: 300000 }, async () => {
  await withHarness({ name: 'basvuru-yenileme' }, async (h) => {
    await signedLogin(h);
    await giveConsent(h);
    await fillApplication(h, { renewal: true });
    await applyWithConsent(h, { renewal: true });
  });
});

test('Başvuru, Yenileme (E-İmzalı): waits too, and the page says until when', { timeout: 240000 }, async () => {
  await withHarness({ name: 'basvuru-yenileme-eimzali' }, async (h) => {
    await fillApplication(h, { renewal: true });
    await applyWithSignature(h, { renewal: true });
  });
});
