// portal.js: the İmzala demo portal's pages. Plain JavaScript, no external
// assets. Each page is <body data-page="...">; the element ids are stable
// (the browser tests and docs/protocol.md §6 rely on them).
'use strict';

const $ = (id) => document.getElementById(id);

function show(id, visible = true) {
  const element = $(id);
  if (element)
    element.hidden = !visible;
}

// POST or GET to the browser API; resolves with { status, body }.
async function api(method, path, body) {
  const options = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch('/api/v1/browser/' + path, options);
  } catch (error) {
    return { status: 0, body: { error: { message: 'Portala bağlanılamadı. Lütfen tekrar deneyiniz.' } } };
  }
  let json = {};
  try {
    json = await response.json();
  } catch (error) {
    json = { error: { message: 'Portaldan beklenmeyen bir yanıt geldi.' } };
  }
  return { status: response.status, body: json };
}

function errorText(answer) {
  return (answer.body && answer.body.error && answer.body.error.message) || 'Bir hata oluştu.';
}

// The code area (the code, copy button, imzala: link, countdown and status)
// is the same on every page that makes a request; each page has only an
// empty <section id="kod-alani">, filled from here before the page's script
// runs. The ids are the ones docs/protocol.md §6.1 lists.
const CODE_AREA_HTML = `
  <h2>Doğrulama Kodu</h2>
  <ol class="adimlar">
    <li>E-imza kartınızı bilgisayarınıza takınız.</li>
    <li>İmzala uygulamasını açınız (veya aşağıdaki bağlantıya tıklayınız).</li>
    <li>Aşağıdaki doğrulama kodunu İmzala uygulamasına giriniz ve <b>İleri</b> düğmesine basınız.</li>
  </ol>
  <p class="kod"><span id="dogrulama-kodu"></span></p>
  <p><button type="button" id="kopyala">Kopyalamak için buraya tıklayabilirsiniz</button>
     <a id="imzala-link" class="dugme ikincil" href="#">İmzala ile aç</a></p>
  <p id="kalan-sure-satiri">Kalan süre: <span id="kalan-sure"></span> saniye</p>
  <p id="kod-durum" class="durum" role="status" aria-live="polite"></p>
  <button type="button" id="yeni-kod" hidden>Yeni Kod Al</button>
  <p id="kod-uyari" class="uyari">İşlem tamamlanana kadar bu sayfayı kapatmayınız. Sayfa, imzanız ulaştığında kendiliğinden ilerleyecektir.</p>
`;

function fillCodeArea() {
  const area = $('kod-alani');
  if (area && area.childElementCount === 0)
    area.innerHTML = CODE_AREA_HTML;
}

// Shows the code of a created request with a live countdown, polls its
// status, and calls onDone(status) once the signature (or the unblock
// result) has arrived. When the code expires or is closed, the page stops
// asking the person to wait and offers "Yeni Kod Al", which runs renew().
function showCode(created, { onDone, hide = [], renew }) {
  for (const id of hide)
    show(id, false);
  show('kod-alani');
  show('kod-uyari');
  show('yeni-kod', false);
  $('dogrulama-kodu').textContent = created.code;
  $('imzala-link').href = created.imzala_link;
  $('kopyala').textContent = 'Kopyalamak için buraya tıklayabilirsiniz';
  $('kod-durum').textContent = 'İmza bekleniyor.';
  $('kod-durum').classList.remove('hata');

  // Counted against the portal's clock: expires_at - server_time.
  const deadline = Date.now() + (Date.parse(created.expires_at) - Date.parse(created.server_time));
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $('kalan-sure').textContent = String(left);
    return left;
  };
  tick();
  const timer = setInterval(tick, 1000);

  $('kopyala').onclick = async () => {
    try {
      await navigator.clipboard.writeText(created.code);
      $('kopyala').textContent = 'Kopyalandı';
    } catch (error) {
      const range = document.createRange();
      range.selectNodeContents($('dogrulama-kodu'));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
    }
  };

  let finished = false;
  const poll = async () => {
    if (finished)
      return;
    const answer = await api('GET', 'requests/' + created.request_id + '/status');
    if (answer.status === 200) {
      const status = answer.body;
      if (status.state === 'done') {
        finished = true;
        clearInterval(timer);
        onDone(status);
        return;
      }
      if (status.state === 'expired' || status.state === 'failed') {
        finished = true;
        clearInterval(timer);
        $('kalan-sure').textContent = '0';
        // For a closed code the portal's message already says that it can
        // no longer be used (docs/protocol.md §4.2).
        $('kod-durum').textContent = (status.state === 'expired'
          ? 'Doğrulama kodunun süresi doldu; bu kod artık kullanılamaz.'
          : (status.message || 'İşlem tamamlanamadı.')) +
          ' Yeni bir kod almak için «Yeni Kod Al» düğmesine basınız.';
        $('kod-durum').classList.add('hata');
        // Nothing will happen by itself any more.
        show('kod-uyari', false);
        if (renew) {
          $('yeni-kod').disabled = false;
          $('yeni-kod').onclick = () => {
            $('yeni-kod').disabled = true;
            renew();
          };
          show('yeni-kod');
        }
        return;
      }
      if (status.state === 'released')
        $('kod-durum').textContent = status.message;
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}

// Makes a request with create() (resolving with the API answer) and shows
// its code; "Yeni Kod Al" makes another one the same way. A refusal is
// written into @errorId (the page's own error line the first time, the code
// area's status line afterwards).
async function requestCode(create, options, errorId) {
  const answer = await create();
  if (answer.status !== 201) {
    $(errorId).textContent = errorText(answer);
    $(errorId).classList.add('hata');
    $('yeni-kod').disabled = false;
    return;
  }
  showCode(answer.body, { ...options, renew: () => requestCode(create, options, 'kod-durum') });
}

// ---- Pages ----

const pages = {};

pages.giris = () => {
  $('giris-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('giris-hata').textContent = '';
    const tckn = $('tckn').value.trim();
    await requestCode(() => api('POST', 'login', { tckn }), {
      hide: ['giris-formu-alani'],
      onDone: (status) => { window.location.assign(status.next); },
    }, 'giris-hata');
  });
};

async function session() {
  const answer = await api('GET', 'session');
  return answer.status === 200 ? answer.body.person : null;
}

pages.islemler = async () => {
  const person = await session();
  if (!person) {
    show('oturum-yok');
    return;
  }
  $('kisi-adi').textContent = person.name;
  $('eonay-durumu').textContent = person.eonay === 'accepted'
    ? 'E-Onay: verildi. Başvurularınızda imzalama tipi olarak E-Onay seçebilirsiniz.'
    : 'E-Onay: verilmedi.';
  show('oturum');
};

pages.eonay = async () => {
  const person = await session();
  if (!person) {
    show('oturum-yok');
    return;
  }
  show('eonay-secim');
  $('eonay-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    const choice = document.querySelector('input[name="secim"]:checked');
    if (!choice) {
      $('eonay-hata').textContent = 'Lütfen KABUL EDİYORUM veya KABUL ETMİYORUM seçeneklerinden birini seçiniz.';
      return;
    }
    const value = choice.value;
    await requestCode(() => api('POST', 'consent', { choice: value }), {
      hide: ['eonay-secim'],
      onDone: (status) => {
        show('kod-alani', false);
        $('eonay-sonuc-metni').textContent = status.message;
        show('eonay-sonuc');
      },
    }, 'eonay-hata');
  });
};

pages.kilit = () => {
  // Two steps: the T.C. kimlik no and the security word make the portal send
  // a code to the registered phone (202); the same two with that code make
  // the request (201). The word stays in this closure only until then.
  let tckn = '';
  let word = '';
  const backToStart = (message = '') => {
    word = '';
    $('sms-kodu').value = '';
    show('kilit-sms', false);
    show('kod-alani', false);
    show('kilit-giris');
    $('kilit-hata').textContent = message;
    $('guvenlik-sozcugu').focus();
  };

  $('kilit-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('kilit-hata').textContent = '';
    tckn = $('tckn').value.trim();
    word = $('guvenlik-sozcugu').value;
    const answer = await api('POST', 'unblock', { tckn, security_word: word });
    if (answer.status !== 202) {
      word = '';
      $('kilit-hata').textContent = errorText(answer);
      return;
    }
    $('guvenlik-sozcugu').value = '';
    $('kilit-sms-bilgi').textContent = answer.body.message;
    $('kilit-sms-hata').textContent = '';
    show('kilit-giris', false);
    show('kilit-sms');
    $('sms-kodu').focus();
  });

  $('kilit-sms-geri').addEventListener('click', () => backToStart());

  $('kilit-sms-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('kilit-sms-hata').textContent = '';
    const answer = await api('POST', 'unblock', {
      tckn, security_word: word, sms_code: $('sms-kodu').value.trim(),
    });
    if (answer.status === 403 && answer.body.error && answer.body.error.code === 'sms-code-wrong') {
      $('kilit-sms-hata').textContent = errorText(answer);
      return;
    }
    if (answer.status !== 201) {
      backToStart(errorText(answer));
      return;
    }
    word = '';
    $('sms-kodu').value = '';
    showCode(answer.body, {
      hide: ['kilit-giris', 'kilit-sms'],
      onDone: (status) => {
        show('kod-alani', false);
        $('kilit-sonuc-metni').textContent = status.message;
        show('kilit-sonuc');
      },
      // Neither the security word nor the SMS code is kept in the page: a
      // new code needs both again, so "Yeni Kod Al" brings the form back.
      renew: () => backToStart(),
    });
  });
};

pages.basvuru = () => {
  let application = null;

  // The breadcrumb follows the step, as on the old portal: Kullanıcı Girişi,
  // Başvuru Formu, İmzalama Yöntemi, Sonuç.
  const step = (name) => { $('yol-adim').textContent = name; };

  $('basvuru-giris-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('basvuru-giris-hata').textContent = '';
    const answer = await api('POST', 'application/login', {
      tckn: $('tckn').value.trim(),
      sicil_no: $('sicil-no').value.trim(),
    });
    if (answer.status !== 200) {
      $('basvuru-giris-hata').textContent = errorText(answer);
      return;
    }
    const form = answer.body.form;
    for (const name of ['kimlik_no', 'ad', 'soyad', 'kurum_adi', 'kurum_sicil_no'])
      $('f-' + name).value = form[name] || '';
    const person = answer.body.person;
    if (person.renewal_from) {
      const from = new Date(person.renewal_from).toLocaleDateString('tr-TR');
      $('yenileme-bilgisi').textContent = 'Yenileme başvurularında sertifika bitiş tarihine 2 ay kala üretim ' +
        'yapılabilmektedir (' + from + '). Daha önce doldurulan formun talebi üretim tarihine kadar bekletilir.';
      show('yenileme-bilgisi');
    }
    show('basvuru-giris', false);
    show('basvuru-form-alani');
    step('Başvuru Formu');
  });

  $('basvuru-formu').addEventListener('submit', async (event) => {
    event.preventDefault();
    const values = {};
    for (const element of $('basvuru-formu').elements) {
      if (!element.name || element.readOnly)
        continue;
      if (element.type === 'radio') {
        if (element.checked)
          values[element.name] = element.value;
      } else {
        values[element.name] = element.value;
      }
    }
    for (const hint of document.querySelectorAll('.alan-hata'))
      hint.textContent = '';
    $('basvuru-form-hata').textContent = '';
    const answer = await api('POST', 'application/form', values);
    if (answer.status !== 200) {
      $('basvuru-form-hata').textContent = errorText(answer);
      const fields = (answer.body.error && answer.body.error.fields) || {};
      for (const [name, message] of Object.entries(fields)) {
        const hint = $('h-' + name);
        if (hint)
          hint.textContent = message;
      }
      return;
    }
    application = answer.body;
    $('form-ozeti').textContent = application.summary;
    if (application.eonay_available) {
      $('yontem-eonay-aciklama').textContent = 'E-Onaylı başvuru seçimini aktifleştirdiğiniz için Elektronik ' +
        'Onaylı Başvuru Arayüzü\'nü kullanabilirsiniz. Başvuru formu ve Sertifika Sahibi Taahhütnamesi ' +
        'elektronik ortamda ulaşacağı için başka bir işlem yapmanıza gerek kalmayacaktır.';
      $('eonayli-basvuru').disabled = false;
    } else {
      $('yontem-eonay-aciklama').textContent = 'E-Onay vermediğiniz için bu yöntem kullanılamaz. E-Onay ' +
        'vermek için e-imzalı giriş yapıp E-Onay İşlemleri bölümünü kullanınız.';
      $('eonayli-basvuru').disabled = true;
    }
    show('basvuru-form-alani', false);
    show('basvuru-yontem');
    step('İmzalama Yöntemi');
  });

  const finish = (message) => {
    show('basvuru-yontem', false);
    show('kod-alani', false);
    $('basvuru-sonuc-metni').textContent = message;
    show('basvuru-sonuc');
    step('Sonuç');
  };

  $('eonayli-basvuru').addEventListener('click', async () => {
    const answer = await api('POST', 'application/' + application.application_id + '/eonay', {});
    if (answer.status !== 200) {
      $('basvuru-yontem-hata').textContent = errorText(answer);
      return;
    }
    finish(answer.body.message);
  });

  $('eimzali-basvuru').addEventListener('click', async () => {
    // The application stays a draft until it is signed, so a new code can
    // be asked for the same application.
    const id = application.application_id;
    await requestCode(() => api('POST', 'application/' + id + '/esign', {}), {
      hide: ['basvuru-yontem'],
      onDone: (status) => finish(status.message),
    }, 'basvuru-yontem-hata');
  });
};

document.addEventListener('DOMContentLoaded', () => {
  fillCodeArea();
  const exit = $('cikis');
  if (exit) {
    exit.addEventListener('click', async (event) => {
      event.preventDefault();
      await api('POST', 'logout', {});
      window.location.assign('/');
    });
  }
  const page = pages[document.body.dataset.page];
  if (page)
    page();
});
