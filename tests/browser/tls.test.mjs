// TLS is really verified in the browser: the demo CA is trusted only through
// the NSS database of the test's own HOME; a Chromium without it refuses.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './harness.mjs';

let h;

before(async () => {
  h = await Harness.start({ name: 'tls' });
});

after(async () => {
  await h?.close();
});

test('the portal opens over verified HTTPS in Chromium that trusts the demo CA', async () => {
  const response = await h.page.goto(h.url + '/');
  assert.equal(response.status(), 200);
  assert.match(h.page.url(), /^https:\/\/localhost:\d+\/$/);
  const security = await response.securityDetails();
  assert.ok(security, 'the page was not loaded over TLS');
  assert.match(security.protocol, /^TLS 1\.[23]$/);
  assert.equal(security.subjectName, 'localhost');
  await h.screenshot('baslangic');
});

test('a Chromium that does not trust the demo CA refuses the portal', async () => {
  const context = await h.untrustingBrowser();
  const page = context.pages()[0] ?? await context.newPage();
  await assert.rejects(page.goto(h.url + '/'), /ERR_CERT_AUTHORITY_INVALID/);
});
