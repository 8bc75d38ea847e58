// What the pages say to a person who types something wrong: no request is
// made, and the page says why in Turkish.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './harness.mjs';
import { control, waitForText } from './flows.mjs';

let h;

before(async () => {
  h = await Harness.start({ name: 'hatalar' });
});

after(async () => {
  await h?.close();
});

function requests() {
  return h.sql('SELECT count(*) AS n FROM requests')[0].n;
}

test('E-imzalı Giriş with a T.C. kimlik no whose check digits are wrong', async () => {
  await h.page.goto(h.url + '/giris');
  await h.page.getByLabel('T.C. Kimlik No', { exact: true }).fill('12345678951');
  await control(h.page, /^Giriş$/).click();
  await waitForText(h.page, 'Geçerli bir T.C. kimlik numarası giriniz.');
  await h.screenshot('giris-hatali-tckn');
  assert.equal(requests(), 0);
});

test('Başvuru with a sicil no that is not the person\'s', async () => {
  await h.page.goto(h.url + '/basvuru');
  await h.page.getByLabel('T.C. Kimlik No', { exact: true }).fill(h.person.tckn);
  await h.page.getByLabel('Sicil No', { exact: true }).fill('999999');
  await control(h.page, /^Giriş$/).click();
  await waitForText(h.page, 'T.C. kimlik numarası ile sicil numarası eşleşmiyor.');
  await h.screenshot('basvuru-hatali-sicil');
  assert.equal(await h.page.getByRole('heading', { name: 'Başvuru Formu', exact: true }).isVisible(), false);
});

test('Kilit Çözme with a wrong security word', async () => {
  await h.page.goto(h.url + '/kilit');
  await h.page.getByLabel('T.C. Kimlik No', { exact: true }).fill(h.person.tckn);
  await h.page.getByLabel('Güvenlik Sözcüğü').fill('yanlis-sozcuk');
  await control(h.page, 'Devam Et').click();
  await waitForText(h.page, 'T.C. kimlik numarası veya güvenlik sözcüğü hatalı.');
  await h.screenshot('kilit-hatali-sozcuk');
  assert.equal(requests(), 0);
  const events = h.sql("SELECT count(*) AS n FROM events WHERE kind = 'identity-mismatch'")[0].n;
  assert.ok(events >= 1, 'the wrong pair was not counted as a wrong guess');
});

test('E-Onay without signing in first', async () => {
  await h.page.goto(h.url + '/eonay');
  await waitForText(h.page, 'E-Onay vermek için önce');
  assert.equal(await h.page.getByLabel('KABUL EDİYORUM').isVisible(), false);
});

test('Dates as Turkish users see them: DD.MM.YYYY, not the en-US MM/DD/YYYY', async () => {
  await h.page.goto(h.url + '/basvuru');
  // A date field's shown format cannot be read from the DOM; Chromium's
  // validation message formats a date the same way (its UI locale).
  const message = await h.page.evaluate(() => {
    const field = document.createElement('input');
    field.type = 'date';
    field.min = '2000-01-31';
    field.value = '1999-12-31';
    return field.validationMessage;
  });
  assert.match(message, /31\.01\.2000/, `the browser formats dates as: ${message}`);
});
