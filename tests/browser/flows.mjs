// flows.mjs: the portal's flows as a person clicks through them, with the
// assertions of the browser tests. The tests (*.test.mjs) and the README
// screenshots (screenshots.mjs) both run these, so the pictures always show
// flows that pass.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CODE_PATTERN, DEMO_PIN, canonical, changed } from './harness.mjs';

export const NEW_PIN = '246810';

// What the pages must say (docs/protocol.md messages and the old guide).
export const SAYS = {
  loginDone: 'Giriş işleminiz tamamlanmıştır.',
  menu: 'İşlemler Menüsü',
  consentDone: 'Seçiminiz kaydedildi',
  applicationDone: 'Başvuru formu e-onaylama işlemi başarıyla tamamlandı',
  unblockDone: 'Kartınızın kilidi çözüldü',
  expiredPage: /süresi doldu/i,
  expiredCli: 'Doğrulama kodunun süresi dolmuş',
};

// A button or a link with this accessible name.
export function control(page, name) {
  return page.getByRole('button', { name, exact: false })
    .or(page.getByRole('link', { name, exact: false }))
    .first();
}

export async function bodyText(page) {
  return page.locator('body').innerText();
}

// The breadcrumb line under the header ("... > Başvuru Formu").
export async function breadcrumb(page) {
  return (await page.locator('.yol').innerText()).trim();
}

// The "do not close this page, it moves on by itself" warning next to a code.
export function keepOpenWarning(page) {
  return page.getByText('bu sayfayı kapatmayınız', { exact: false });
}

// Once a code has expired or was closed: the page no longer asks the person
// to wait, says why and offers a new code.
export async function assertCodeOver(page) {
  assert.equal(await keepOpenWarning(page).isVisible(), false,
               'the page still says it will move on by itself');
  assert.match(await bodyText(page), /Yeni bir kod almak için «Yeni Kod Al» düğmesine basınız\./);
  assert.equal(await page.getByRole('button', { name: 'Yeni Kod Al' }).isVisible(), true);
}

// Waits until the page's visible text matches @pattern (string or RegExp).
export async function waitForText(page, pattern, { timeout = 60000 } = {}) {
  const locator = typeof pattern === 'string'
    ? page.getByText(pattern, { exact: false })
    : page.getByText(pattern);
  await locator.first().waitFor({ state: 'visible', timeout });
}

// The code the page shows, and a check that its countdown is live: the
// seconds left decrease between two reads (no bound on how fast).
export async function readCodeWithCountdown(page) {
  const codeLocator = page.getByText(CODE_PATTERN).first();
  await codeLocator.waitFor({ state: 'visible' });
  const code = CODE_PATTERN.exec(await codeLocator.innerText())[1];

  const first = await remainingSeconds(page);
  assert.ok(first !== null, 'the page shows no "Kalan süre" countdown next to the code');
  let second = first;
  while (second === first) {
    await sleep(250);
    second = await remainingSeconds(page);
  }
  assert.ok(second !== null && second < first,
            `the countdown went from ${first} to ${second} instead of down`);
  return code;
}

export async function remainingSeconds(page) {
  const match = /Kalan s[üu]re\s*:?\s*(\d+)/i.exec(await bodyText(page));
  return match ? Number(match[1]) : null;
}

// Runs imzala-cli portal with @code and checks that it succeeded.
export async function cliSigns(h, code, { texts = 1, pin = DEMO_PIN } = {}) {
  const result = await h.runCli(code, { pin });
  assert.equal(result.status, 0, `imzala-cli portal failed (${result.status}):\n${result.stderr}\n${result.stdout}`);
  assert.match(result.stdout, new RegExp(`Code:\\s+${code}`));
  for (let i = 1; i <= texts; i++)
    assert.match(result.stdout, new RegExp(`İmzalanacak Metin ${i}:`));
  assert.doesNotMatch(result.stdout, new RegExp(`İmzalanacak Metin ${texts + 1}:`));
  return result;
}

export function requestRow(h, code) {
  const rows = h.sql(`SELECT id, purpose, state, person, choice, rejected, application,
                             (SELECT count(*) FROM signatures s WHERE s.request = r.id) AS signatures
                      FROM requests r WHERE code = '${canonical(code)}'`);
  assert.equal(rows.length, 1, `no request row for code ${code}`);
  return rows[0];
}

// ---- E-imzalı Giriş ----

// From the start page to İşlemler Menüsü. Returns the code used.
export async function signedLogin(h) {
  const page = h.page;
  await page.goto(h.url + '/');
  await waitForText(page, 'Online İşlemler');
  await h.screenshot('ana-sayfa');

  await control(page, 'E-imzalı Giriş').click();
  await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
  await h.screenshot('giris');
  await control(page, /^(Giriş|Giriş Yap|Devam Et|Kod Al)$/).click();

  const code = await readCodeWithCountdown(page);
  await waitForText(page, 'Doğrulama Kodu');
  await waitForText(page, 'Kopyalamak için buraya tıklayabilirsiniz');
  // The "İmzala ile aç" link carries this portal and this code (protocol §7).
  const link = await page.getByRole('link', { name: 'İmzala ile aç' }).getAttribute('href');
  assert.equal(link, `imzala:?portal=${encodeURIComponent(h.url)}&code=${code}`);
  await h.screenshot('giris-kod');

  const result = await cliSigns(h, code);
  assert.match(result.stdout, /Giriş işleminiz tamamlanmıştır/);

  // The page moves on by itself: nobody clicks here.
  await page.waitForURL(/\/islemler$/, { timeout: 60000 });
  await waitForText(page, SAYS.menu);
  await waitForText(page, h.person.name);
  const text = await bodyText(page);
  assert.match(text, new RegExp(`Sayın ${h.person.name}`));
  assert.match(text, /Aşağıdaki butonları kullanarak sertifika durumunuzu değiştirebilir, kişisel bilgilerinizi güncelleyebilirsiniz\./);
  await h.screenshot('islemler');

  const row = requestRow(h, code);
  assert.equal(row.purpose, 'login');
  assert.equal(row.state, 'done');
  assert.equal(row.person, h.person.tckn);
  assert.equal(row.signatures, 1);
  const signer = h.sql(`SELECT signer_subject FROM signatures WHERE request = ${row.id}`)[0];
  assert.match(signer.signer_subject, new RegExp(h.person.tckn));
  const sessions = h.sql(`SELECT count(*) AS n FROM sessions WHERE person = '${h.person.tckn}'`);
  assert.equal(sessions[0].n, 1);
  return code;
}

// ---- E-Onay ----

// From İşlemler Menüsü: KABUL EDİYORUM (or, with accept false, KABUL
// ETMİYORUM), Devam Et, the code signed.
export async function giveConsent(h, { accept = true } = {}) {
  const page = h.page;
  const label = accept ? 'KABUL EDİYORUM' : 'KABUL ETMİYORUM';
  const suffix = accept ? '' : '-ret';
  await control(page, 'E-Onay İşlemleri').click();
  await waitForText(page, 'KABUL EDİYORUM');
  await page.getByLabel(label, { exact: true }).check();
  await h.screenshot('eonay' + suffix);
  await control(page, 'Devam Et').click();

  const code = await readCodeWithCountdown(page);
  await h.screenshot('eonay-kod' + suffix);
  const result = await cliSigns(h, code);
  // The signed text is the choice made on the page.
  assert.match(result.stdout, new RegExp(`${label}\\.`));

  await waitForText(page, SAYS.consentDone);
  await waitForText(page, 'E-Onay İşlem Sonucu');
  if (accept)
    assert.match(await bodyText(page), /Seçiminiz kaydedildi\. Yeni yapacağınız başvurularda başvuru formunu doldurduktan sonra imzalama tipi olarak E-Onay seçmeniz yeterli olacaktır\./);
  await h.screenshot('eonay-sonuc' + suffix);

  const row = requestRow(h, code);
  assert.equal(row.purpose, 'consent');
  assert.equal(row.state, 'done');
  assert.equal(row.choice, accept ? 'accept' : 'reject');
  assert.equal(row.signatures, 1);
  const person = h.sql(`SELECT eonay FROM persons WHERE tckn = '${h.person.tckn}'`)[0];
  assert.equal(person.eonay, accept ? 'accepted' : 'rejected');
  return code;
}

// ---- NES application for MEB staff ----

export const FORM = {
  'Kart Okuyucu Tipi': 'Mini Kart Okuyucu',
  'Sertifika Süresi': '3 Yıl',
  'Doğum Yeri': 'ANKARA',
  'Doğum Tarihi': '1980-05-17',
  'Çalıştığı Birim': 'Bilgi İşlem Şubesi',
  'Ünvan': 'Müdür Başyardımcısı',
  'Kurum / Birim Adresi': 'Atatürk Bulvarı No: 98 Bakanlıklar',
  'İl': 'ANKARA',
  'İlçe': 'ÇANKAYA',
  'Posta Kodu': '06648',
  'E-posta': 'ayse.yilmaz@meb.example',
  'İş Telefonu': '0312 413 15 00',
  'Dahili': '1234',
  'Cep Telefonu': '0532 123 45 67',
  'Mobil Operatör Tipi': 'TURK TELEKOM',
};

// Sets a form control found by its label: a select by the option's text,
// a text-like input by typing.
async function setField(page, label, value) {
  const field = page.getByLabel(label, { exact: true }).first();
  const tag = await field.evaluate((e) => e.tagName.toLowerCase());
  if (tag === 'select')
    await field.selectOption({ label: value });
  else
    await field.fill(value);
}

async function fillApplicationForm(page, h, { postCode, kind }) {
  await setField(page, 'Başvuru Türü', kind);
  for (const [label, value] of Object.entries(FORM))
    await setField(page, label, label === 'Posta Kodu' ? postCode : value);
  await setField(page, 'Güvenlik sözcüğü nedir ?', h.person.securityWord);
  await setField(page, 'Güvenlik sözcüğü (Tekrar)', h.person.securityWord);
  await page.getByLabel('Her ikisi (E-posta+SMS)').check();
}

// T.C. kimlik no + sicil no, the form (one bad field first), Form Onayla;
// leaves the page at the choice of the signing method. @renewal: Başvuru
// Türü "Yenileme" (the demo card's certificate is the one renewed).
export async function fillApplication(h, { renewal = false } = {}) {
  const kind = renewal ? 'Yenileme' : 'Yeni Başvuru';
  const page = h.page;
  await page.goto(h.url + '/basvuru');
  await waitForText(page, 'Kullanıcı Girişi');
  assert.equal(await breadcrumb(page), 'Nitelikli Elektronik Sertifika Başvurusu > Kullanıcı Girişi');
  await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
  await page.getByLabel('Sicil No', { exact: true }).fill(h.person.sicilNo);
  await h.screenshot('basvuru-giris');
  await control(page, /^Giriş$/).click();

  await page.getByRole('heading', { name: 'Başvuru Formu', exact: true }).waitFor();
  assert.equal(await breadcrumb(page), 'Nitelikli Elektronik Sertifika Başvurusu > Başvuru Formu');
  // The fields the portal knows are filled in and cannot be changed.
  const text = await bodyText(page);
  assert.ok(text.includes(h.person.tckn) ||
            (await page.getByLabel('Kimlik No', { exact: true }).inputValue()) === h.person.tckn);

  // A post code of 3 digits: the page says what is wrong and stays.
  await fillApplicationForm(page, h, { postCode: '066', kind });
  await control(page, 'Form Onayla').click();
  await waitForText(page, '5 haneli');
  await h.screenshot('basvuru-form-hata');
  assert.equal(h.sql('SELECT count(*) AS n FROM applications')[0].n, 0);

  await setField(page, 'Posta Kodu', FORM['Posta Kodu']);
  await h.screenshot('basvuru-form');
  await control(page, 'Form Onayla').click();
  await waitForText(page, 'Başvuru Formu ve Sertifika Sahibi Taahhütnamesi İmzalama Yönteminin Belirlenmesi');
  await waitForText(page, 'Yöntem 1 : Elektronik Onaylı Başvuru Arayüzü');
  await waitForText(page, 'Yöntem 2 : Elektronik İmzalı Başvuru Arayüzü');
  assert.equal(await breadcrumb(page), 'Nitelikli Elektronik Sertifika Başvurusu > İmzalama Yöntemi');
  const rows = h.sql('SELECT state, kind, fields FROM applications');
  assert.equal(rows.length, 1);
  assert.equal(rows[0].state, 'draft');
  assert.equal(rows[0].kind, renewal ? 'yenileme' : 'yeni');
  assert.equal(JSON.parse(rows[0].fields).posta_kodu, '06648');
}

// The result as the guide shows it, whichever way the form was signed.
async function assertApplicationResult(page) {
  await waitForText(page, 'E-Onaylama Sonucu');
  assert.equal(await breadcrumb(page), 'Nitelikli Elektronik Sertifika Başvurusu > Sonuç');
  assert.match(await bodyText(page),
               /Başvuru formu e-onaylama işlemi başarıyla tamamlandı\. Başvuru formunuz sistemimize ulaştı\./);
}

// E-İmzalı: the code, both texts signed by the CLI, the success sentence.
// A renewal waits like an E-Onaylı one, and the page says until when.
export async function applyWithSignature(h, { renewal = false } = {}) {
  const page = h.page;
  await h.screenshot('basvuru-yontem');
  await control(page, /E-İmzalı/i).click();

  const code = await readCodeWithCountdown(page);
  await h.screenshot('basvuru-kod');
  const result = await cliSigns(h, code, { texts: 2 });
  assert.match(result.stdout, /İmzalanacak Metin 1: Başvuru Formu/);
  assert.match(result.stdout, /İmzalanacak Metin 2: Sertifika Sahibi Taahhütnamesi/);
  assert.match(result.stdout, /Posta Kodu: 06648/);

  await waitForText(page, SAYS.applicationDone);
  await assertApplicationResult(page);
  await h.screenshot('basvuru-sonuc');

  const row = requestRow(h, code);
  assert.equal(row.purpose, 'application');
  assert.equal(row.state, 'done');
  assert.equal(row.signatures, 2);
  const application = h.sql(`SELECT state, method, production_date FROM applications WHERE id = ${row.application}`)[0];
  assert.equal(application.method, 'esign');
  if (renewal) {
    assert.equal(application.state, 'waiting');
    await assertWaitsUntil(page, application.production_date);
  } else {
    assert.equal(application.state, 'submitted');
  }
}

// The renewal sentence with the production date as DD.MM.YYYY.
async function assertWaitsUntil(page, productionDate) {
  const day = new Date(productionDate * 1000);
  const date = [day.getUTCDate(), day.getUTCMonth() + 1].map((n) => String(n).padStart(2, '0')).join('.') +
               '.' + day.getUTCFullYear();
  assert.match(await bodyText(page), new RegExp(
    `Yenileme başvurunuz, sertifikanızın bitiş tarihine 2 ay kalana kadar \\(${date.replace(/\./g, '\\.')}\\) sistemimizde bekletilecektir\\.`));
}

// E-Onaylı (after e-onay was given): no card, the same success sentence.
// A renewal is accepted and waits until two months before the current
// certificate expires; the page says until when.
export async function applyWithConsent(h, { renewal = false } = {}) {
  const page = h.page;
  const suffix = renewal ? '-yenileme' : '';
  await h.screenshot('basvuru-yontem-eonayli' + suffix);
  await control(page, /E-Onaylı/i).click();
  await waitForText(page, SAYS.applicationDone);
  await assertApplicationResult(page);
  await h.screenshot('basvuru-eonayli-sonuc' + suffix);

  const rows = h.sql(`SELECT a.state, a.method, a.production_date, p.certificate_not_after
                      FROM applications a JOIN persons p ON p.tckn = a.person`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].method, 'eonay');
  if (renewal) {
    assert.equal(rows[0].state, 'waiting');
    assert.ok(rows[0].production_date > Date.now() / 1000, 'a renewal two years early is produced at once');
    assert.ok(rows[0].production_date < rows[0].certificate_not_after);
    await assertWaitsUntil(page, rows[0].production_date);
  } else {
    assert.equal(rows[0].state, 'submitted');
  }
  assert.equal(h.sql("SELECT count(*) AS n FROM requests WHERE purpose = 'application'")[0].n, 0);
}

// ---- Kilit Çözme ----

export async function unblockCard(h, newPin = NEW_PIN) {
  const page = h.page;
  await page.goto(h.url + '/kilit');
  await waitForText(page, /Kilit Çözme/i);
  await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
  await page.getByLabel(/Güvenlik S[öo]zc[üu]ğ[üu]/i).first().fill(h.person.securityWord);
  await h.screenshot('kilit');
  await control(page, /^(Devam Et|Giriş|Kod Al|Kilit Çöz)$/).click();

  // The second factor: the portal "sends" a code to the registered phone;
  // the demo portal shows it on /demo/sms (DEMO ONLY), read here in a tab
  // of its own as the person would read their phone.
  await waitForText(page, /Kayıtlı cep telefonunuza \(0532 \*\*\* \*\* 00\) bir doğrulama kodu gönderildi/);
  await h.screenshot('kilit-sms');
  const phone = await h.context.newPage();
  await phone.goto(h.url + '/demo/sms');
  const smsText = await phone.locator('#sms li').first().innerText();
  await phone.close();
  const sms = /Kilit çözme kodunuz (\d{6})\./.exec(smsText);
  assert.ok(sms, `no unblock code on /demo/sms: ${smsText}`);
  // A wrong code first: refused with its own message, the right one still works.
  const wrong = sms[1] === '000000' ? '111111' : '000000';
  await page.getByLabel('Cep Telefonunuza Gönderilen Kod').fill(wrong);
  await control(page, /^Kodu Onayla$/).click();
  await waitForText(page, 'Cep telefonunuza gönderilen kod hatalı.');
  await page.getByLabel('Cep Telefonunuza Gönderilen Kod').fill(sms[1]);
  await control(page, /^Kodu Onayla$/).click();

  const code = await readCodeWithCountdown(page);
  await h.screenshot('kilit-kod');

  // The demo card with its PIN locked: a portal's PUK is for such a card only.
  const result = await h.runCli(code, { newPin, faults: 'pin-locked' });
  assert.equal(result.status, 0, `imzala-cli portal (unblock) failed (${result.status}):\n${result.stderr}\n${result.stdout}`);
  assert.match(result.stdout, new RegExp(`Card to unlock:.*serial ${h.cardSerial}`));

  await waitForText(page, SAYS.unblockDone);
  await h.screenshot('kilit-sonuc');

  const row = requestRow(h, code);
  assert.equal(row.purpose, 'unblock');
  assert.equal(row.state, 'done');
  assert.equal(h.sql(`SELECT released_at IS NOT NULL AS released FROM requests WHERE id = ${row.id}`)[0].released, 1);
  return code;
}

// Signs with `imzala-cli sign` and checks the CMS with `imzala-cli verify`.
export async function signsWithPin(h, pin) {
  const result = await h.sign('Kilit çözüldükten sonra imza denemesi.\n', { pin });
  if (result.status !== 0)
    return result;
  assert.ok(existsSync(result.out));
  // --portal-ca: the card's status is at the portal's own https OCSP.
  const verify = spawnSync(h.cliBin, ['verify', '--ca', h.caFile, '--portal-ca', h.caFile, '--json', result.out],
                           { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr + verify.stdout);
  const report = JSON.parse(verify.stdout);
  assert.equal(report.valid, true);
  assert.equal(report.signer.tckn, h.person.tckn);
  return result;
}

// ---- An expired code ----

export async function expiredLogin(h) {
  const page = h.page;
  await page.goto(h.url + '/giris');
  await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
  await control(page, /^(Giriş|Giriş Yap|Devam Et|Kod Al)$/).click();
  const code = await readCodeWithCountdown(page);

  await waitForText(page, SAYS.expiredPage);
  await assertCodeOver(page);
  await h.screenshot('giris-sure-doldu');

  const result = await h.runCli(code);
  assert.equal(result.status, 5, `imzala-cli should exit 5 for an expired code:\n${result.stderr}`);
  assert.match(result.stderr, new RegExp(`^imzala-cli: ${SAYS.expiredCli}`, 'm'));
  assert.doesNotMatch(result.stdout, /İmzalanacak Metin/);

  const row = requestRow(h, code);
  assert.equal(row.state, 'expired');
  assert.equal(row.signatures, 0);
  // Still not signed in.
  assert.equal(h.sql(`SELECT count(*) AS n FROM sessions WHERE person IS NOT NULL`)[0].n, 0);
  return code;
}

// ---- Someone else's card ----

// Ayşe's login code with Mehmet's card: imzala-cli does not choose his
// certificate by itself, says whose card the request wants and signs
// nothing; then signed three times with his certificate named by --cert:
// refused each time, then the code is closed and the page says so.
export async function otherPersonsCard(h) {
  const page = h.page;
  await page.goto(h.url + '/giris');
  await page.getByLabel(/T\.?C\.? Kimlik N/i).first().fill(h.person.tckn);
  await control(page, /^(Giriş|Giriş Yap|Devam Et|Kod Al)$/).click();
  const code = await readCodeWithCountdown(page);

  const unchosen = await h.runCli(code, { softhsmConf: h.otherSofthsmConf });
  assert.equal(unchosen.status, 2, `another person's certificate was chosen:\n${unchosen.stderr}`);
  assert.match(unchosen.stderr, new RegExp(`This request is for ${h.person.name} \\(\\d{3}\\*{6}\\d{2}\\), and none of the certificates`));
  assert.match(unchosen.stderr, /MEHMET DEMİR \(\d{11}\), .*, another person's/);
  assert.doesNotMatch(unchosen.stdout, /Certificate:/);
  assert.equal(requestRow(h, code).rejected, 0);
  assert.equal(requestRow(h, code).state, 'pending');
  const his = /--cert ([0-9a-f]{64})/.exec(unchosen.stderr)[1];

  for (let attempt = 1; attempt <= 3; attempt++) {
    const result = await h.runCli(code, { softhsmConf: h.otherSofthsmConf, cert: his });
    assert.match(result.stderr, /Warning: This request is for .*; this certificate is another person's/);
    assert.equal(result.status, 5, `attempt ${attempt}: another person's card was not refused:\n${result.stdout}`);
    assert.match(result.stdout, /Certificate:\s+MEHMET DEMİR/);
    assert.match(result.stderr, /İmzalayan kişi bu işlemi başlatan kişi değil/);
    assert.equal(requestRow(h, code).rejected, attempt);
  }

  // The page stops waiting, says why, that the code is closed and what to do.
  await waitForText(page, 'bu doğrulama kodu kapatıldı ve artık kullanılamaz.');
  assert.match(await bodyText(page), /İmzalayan kişi bu işlemi başlatan kişi değil/);
  await assertCodeOver(page);
  await h.screenshot('giris-baska-kart');
  const row = requestRow(h, code);
  assert.equal(row.state, 'failed');
  assert.equal(row.signatures, 0);

  // Closed for good, even for the right card.
  const own = await h.runCli(code);
  assert.equal(own.status, 5);
  assert.match(own.stderr, /kapatıldı ve artık kullanılamaz/);
  assert.equal(page.url(), h.url + '/giris');
  assert.equal(h.sql('SELECT count(*) AS n FROM sessions WHERE person IS NOT NULL')[0].n, 0);

  // "Yeni Kod Al": a new code for the same person, waiting again; the right
  // card signs it and the page moves on.
  await page.getByRole('button', { name: 'Yeni Kod Al' }).click();
  const fresh = await changed(async () => CODE_PATTERN.exec(await bodyText(page))?.[1], code);
  assert.ok(fresh, 'no new code after Yeni Kod Al');
  assert.equal(await keepOpenWarning(page).isVisible(), true);
  assert.equal(await page.getByRole('button', { name: 'Yeni Kod Al' }).isVisible(), false);
  assert.equal(await readCodeWithCountdown(page), fresh);
  await h.screenshot('giris-yeni-kod');
  await cliSigns(h, fresh);
  await page.waitForURL(/\/islemler$/, { timeout: 60000 });
  assert.equal(requestRow(h, fresh).state, 'done');
}

