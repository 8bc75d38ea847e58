// Kilit Çözme: the portal releases the PUK to imzala-cli, which unblocks the
// demo card and sets the new PIN; the new PIN signs afterwards.
//
// SoftHSM never locks a user PIN, so the card is not blocked first; the
// exchange (fetch, serial check, PUK release, C_InitPIN, result report) is
// the same, and the PIN change proves the PUK was really used.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PIN, withHarness } from './harness.mjs';
import { NEW_PIN, signsWithPin, unblockCard } from './flows.mjs';

test('Kilit Çözme: imzala-cli unblocks the card with the released PUK and the new PIN works', { timeout: 240000 }, async () => {
  await withHarness({ name: 'kilit' }, async (h) => {
    await unblockCard(h, NEW_PIN);

    const old = await signsWithPin(h, DEMO_PIN);
    assert.equal(old.status, 3, `the old PIN still signs:\n${old.stderr}`);
    const fresh = await signsWithPin(h, NEW_PIN);
    assert.equal(fresh.status, 0, `the new PIN does not sign:\n${fresh.stderr}`);
  });
});
