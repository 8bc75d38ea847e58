// The lost card (issue 10): a card that signed in a moment ago is revoked
// with `imzala-portal revoke` (as a CA does on a kayıp/çalıntı bildirimi);
// from then on imzala-cli refuses it before the PIN (the status from the
// portal's own OCSP), the portal refuses a signature made with it anyway,
// and the E-imzalı Giriş page stops waiting and says why.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

    // imzala-cli asks the card's OCSP responder (the portal's own, over
    // https under the portal's CA) before the PIN and refuses at once.
    const result = await h.runCli(code);
    assert.equal(result.status, 4, `the revoked card was not refused before the PIN:\n${result.stdout}`);
    assert.match(result.stderr, /^imzala-cli: Your certificate has been revoked/m);
    assert.equal(requestRow(h, code).state, 'pending');

    // A client that does not ask (the signature made with `imzala-cli sign`
    // over the text and posted as protocol §4.2 says) is refused by the
    // portal with the reason.
    const compact = code.replace(/-/g, '');
    const fetched = spawnSync('curl', ['-sS', '--cacert', h.caFile, `${h.url}/api/v1/requests/${compact}`],
                              { encoding: 'utf8' });
    assert.equal(fetched.status, 0, fetched.stderr);
    const request = JSON.parse(fetched.stdout);
    const signed = await h.sign(Buffer.from(request.texts[0].content, 'base64'));
    assert.equal(signed.status, 0, signed.stderr);
    const body = join(h.dir, 'lost-card-submission.json');
    writeFileSync(body, JSON.stringify({
      version: 1, nonce: request.nonce, signatures: [readFileSync(signed.out).toString('base64')],
    }));
    const posted = spawnSync('curl', ['-sS', '--cacert', h.caFile, '-w', '\n%{http_code}',
                                      '-H', 'Content-Type: application/json', '--data-binary', `@${body}`,
                                      `${h.url}/api/v1/requests/${compact}/signatures`], { encoding: 'utf8' });
    assert.equal(posted.status, 0, posted.stderr);
    const [answer, httpStatus] = posted.stdout.split(/\n(?=\d+$)/);
    assert.equal(httpStatus, '403', posted.stdout);
    const refusal = JSON.parse(answer).error;
    assert.equal(refusal.code, 'certificate-revoked');
    assert.ok(refusal.message.startsWith(LOST), answer);

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
