// The lost card (issue 10): a card that signed in a moment ago is revoked
// with `imzala-portal revoke` (as a CA does on a kayıp/çalıntı bildirimi);
// from then on the portal refuses it, imzala-cli says the portal's reason,
// and the E-imzalı Giriş page stops waiting and says why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { withHarness } from './harness.mjs';
import {
  assertCodeOver, bodyText, control, readCodeWithCountdown, requestRow, signedLogin, waitForText,
} from './flows.mjs';

const LOST = 'Kartınız iptal edilmiş (kayıp/çalıntı bildirimi)';

test('a revoked (lost) card can no longer sign in, and the giriş page says why', { timeout: 180000 }, async () => {
  await withHarness({ name: 'kayip-kart' }, async (h) => {
    await signedLogin(h);

    const revoke = spawnSync(h.portalBin, ['--state', h.stateDir, 'revoke', '--tckn', h.person.tckn],
                             { encoding: 'utf8', timeout: 60000 });
    assert.equal(revoke.status, 0, `imzala-portal revoke failed:\n${revoke.stderr}${revoke.stdout}`);
    assert.match(revoke.stdout, new RegExp(`Revoked certificate \\S+ of ${h.person.tckn} \\(keyCompromise\\)`));

    const page = h.page;
    await page.goto(h.url + '/giris');
    await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
    await control(page, /^(Giriş|Giriş Yap|Devam Et|Kod Al)$/).click();
    const code = await readCodeWithCountdown(page);

    const result = await h.runCli(code);
    assert.equal(result.status, 5, `the revoked card was accepted:\n${result.stdout}`);
    assert.match(result.stderr, new RegExp(`^imzala-cli: ${LOST.replace(/[()]/g, '\\$&')}`, 'm'));

    // The page stops waiting at once (one try is enough: every card of the
    // person is revoked) and says why.
    await waitForText(page, LOST);
    const text = await bodyText(page);
    assert.match(text, /Yeni bir kart için sertifika başvurusu yapınız\./);
    await assertCodeOver(page);
    await h.screenshot('giris-kayip-kart');
    assert.equal(page.url(), h.url + '/giris');

    const row = requestRow(h, code);
    assert.equal(row.state, 'failed');
    assert.equal(row.signatures, 0);
    assert.equal(row.rejected, 1);
    const events = h.sql(`SELECT detail FROM events WHERE kind = 'rejected' AND request = ${row.id}`);
    assert.deepEqual(events.map((e) => e.detail), ['certificate-revoked']);
  });
});
