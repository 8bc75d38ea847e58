// harness.mjs: one demo portal, one demo card and one Chromium for a test.
//
// Everything is real: the built imzala-portal (HTTPS, SQLite) in a temporary
// state directory, a demo person enrolled with `imzala-portal enrol` (which
// makes their SoftHSM card), Debian's Chromium driven by playwright-core, and
// the built `imzala-cli portal` signing with the card. The browser verifies
// the portal's TLS certificate for real: the demo CA is trusted only in an
// NSS database under a temporary HOME that this Chromium alone uses.
//
// Binaries come from the environment (meson sets them): IMZALA_PORTAL and
// IMZALA_CLI. Screenshots go to IMZALA_BROWSER_SHOTS, or to
// $G_TEST_BUILDDIR/browser-screenshots under meson.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const here = new URL('.', import.meta.url).pathname;

if (!existsSync(join(here, 'node_modules', 'playwright-core'))) {
  // A clear message instead of a module-not-found trace: tools/run-tests
  // does this step, a developer running meson test by hand may not have.
  console.error('tests/browser/node_modules is missing: run `npm ci` in tests/browser ' +
                '(tools/run-tests does it for you).');
  process.exit(1);
}
const { chromium } = await import('playwright-core');

export const CHROMIUM = '/usr/bin/chromium';
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const DEMO_PIN = '123456';

// The flags facts.md asks for: without the background-networking ones
// Chromium floods the closed network with refused connections.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // Chromium's own locale (from chromium-l10n): date fields and the
  // browser's messages as Turkish users see them (DD.MM.YYYY), not en-US.
  // On Linux Chromium ignores this switch and reads LANGUAGE instead (see
  // chromiumEnv()); it is kept for the other platforms.
  '--lang=tr-TR',
];

// Chromium's environment: its own HOME (the NSS database) and Turkish as
// its UI locale. meson runs the tests with LANGUAGE=en (for the CLI's
// labels), which Chromium on Linux would otherwise take as its locale.
export function chromiumEnv(home) {
  return { ...process.env, HOME: home, LANGUAGE: 'tr' };
}

// A demo person with a valid T.C. kimlik no (check digits) and a sicil no.
export const PERSON = {
  tckn: '12345678950',
  name: 'AYŞE YILMAZ',
  securityWord: 'Kestane42',
  sicilNo: '4815162',
  institution: 'MEB',
};

// Another enrolled person with their own demo card, for "someone else's
// card" (also a valid T.C. kimlik no).
export const OTHER_PERSON = {
  tckn: '10000000146',
  name: 'MEHMET DEMİR',
  securityWord: 'Portakal7',
  sicilNo: '5550123',
  institution: 'MEB',
};

// The code as the pages show it: three groups of four Crockford characters.
export const CODE_PATTERN = /\b([0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4})\b/;

function binary(name) {
  const path = process.env[name];
  if (!path)
    throw new Error(`${name} is not set: run the browser tests through meson ` +
                    `(meson test -C <builddir> --suite browser) or set it to the built binary`);
  if (!existsSync(path))
    throw new Error(`${name}=${path} does not exist: build it first (ninja -C <builddir>)`);
  return path;
}

// Every child process and temp dir of every harness, so that any exit
// path ends and removes them.
const children = new Set();
const tempDirs = new Set();

function killAll(signal = 'SIGKILL') {
  for (const child of children) {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
  children.clear();
}

process.on('exit', () => {
  killAll();
  if (!process.env.IMZALA_BROWSER_KEEP) {
    for (const dir of tempDirs)
      rmSync(dir, { recursive: true, force: true });
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    killAll();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

// Collects a child's output and resolves with its exit status.
function collect(child) {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr?.setEncoding('utf8').on('data', (d) => { stderr += d; });
  return new Promise((done, fail) => {
    child.on('error', fail);
    child.on('close', (status, signal) => done({ status, signal, stdout, stderr }));
  });
}

export function screenshotDir() {
  if (process.env.IMZALA_BROWSER_SHOTS)
    return process.env.IMZALA_BROWSER_SHOTS;
  if (process.env.G_TEST_BUILDDIR)
    return join(process.env.G_TEST_BUILDDIR, 'browser-screenshots');
  return join(tmpdir(), 'imzala-browser-screenshots');
}

export class Harness {
  constructor() {
    this.dir = null;
    this.portal = null;
    this.context = null;
    this.url = null;
    this.shots = 0;
    this.person = { ...PERSON };
  }

  // Makes the temp dir, starts the portal, enrols the demo person and starts
  // the browser. Options: see #start().
  static async start(options = {}) {
    const harness = new Harness();
    try {
      await harness.#start(options);
    } catch (error) {
      await harness.close();
      throw error;
    }
    return harness;
  }

  // Registers @person and makes their demo card in @cardDir; returns the
  // card's serial.
  #enrol(person, cardDir) {
    const enrol = spawnSync(this.portalBin, [
      '--state', this.stateDir, 'enrol',
      '--tckn', person.tckn,
      '--name', person.name,
      '--security-word', person.securityWord,
      '--institution', person.institution,
      '--sicil-no', person.sicilNo,
      '--card-dir', cardDir,
    ], { encoding: 'utf8', timeout: 60000 });
    if (enrol.status !== 0)
      throw new Error(`imzala-portal enrol failed (${enrol.status}): ${enrol.stderr}${enrol.stdout}`);
    return /serial (\S+)/.exec(enrol.stdout)?.[1];
  }

  // Options: codeLifetime (seconds), name (for screenshot names), shotFile
  // (see screenshot()), otherPerson (also enrol OTHER_PERSON with a card;
  // its softhsm2.conf is this.otherSofthsmConf).
  async #start({ codeLifetime, name = 'test', shotFile, otherPerson = false }) {
    this.name = name;
    this.shotFile = shotFile;
    this.portalBin = binary('IMZALA_PORTAL');
    this.cliBin = binary('IMZALA_CLI');
    this.dir = mkdtempSync(join(tmpdir(), 'imzala-browser-'));
    tempDirs.add(this.dir);
    this.stateDir = join(this.dir, 'state');
    this.cardDir = join(this.dir, 'card');
    this.home = join(this.dir, 'home');
    this.dbFile = join(this.stateDir, 'portal.sqlite3');
    this.softhsmConf = join(this.cardDir, 'softhsm2.conf');

    const args = ['--state', this.stateDir, '--listen', '127.0.0.1:0'];
    if (codeLifetime !== undefined)
      args.push('--code-lifetime', String(codeLifetime));
    this.portal = track(spawn(this.portalBin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    this.portalLog = '';
    this.portal.stderr.setEncoding('utf8').on('data', (d) => { this.portalLog += d; });
    await this.#readPortalAnnouncement();
    await this.#waitUntilAnswering();

    // Enrolled while the portal runs (as tests/test-portal-pki.c does): the
    // portal keeps its listening URL in the state, so the cards'
    // certificates name this portal's own OCSP, CRL and CA certificate.
    this.cardSerial = this.#enrol(this.person, this.cardDir);
    if (otherPerson) {
      this.otherCardDir = join(this.dir, 'other-card');
      this.otherSofthsmConf = join(this.otherCardDir, 'softhsm2.conf');
      this.#enrol(OTHER_PERSON, this.otherCardDir);
    }

    this.#trustPortalCa();
    mkdirSync(join(this.dir, 'chromium'));
    this.context = await chromium.launchPersistentContext(join(this.dir, 'chromium'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: chromiumEnv(this.home),
      locale: 'tr-TR',
      viewport: { width: 1024, height: 768 },
    });
    this.page = this.context.pages()[0] ?? await this.context.newPage();
  }

  // The portal prints its URL and its CA file on stdout once it listens.
  async #readPortalAnnouncement() {
    let out = '';
    await new Promise((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`imzala-portal did not say where it listens:\n${out}${this.portalLog}`)), 30000);
      this.portal.on('exit', (status) => {
        clearTimeout(timer);
        fail(new Error(`imzala-portal exited (${status}) before listening:\n${out}${this.portalLog}`));
      });
      this.portal.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        const url = /listening on (https:\/\/\S+)/.exec(out);
        const ca = /--portal-ca\): (.+)\n/.exec(out);
        if (url && ca) {
          clearTimeout(timer);
          this.url = url[1];
          this.caFile = resolve(ca[1].trim());
          done();
        }
      });
    });
    this.portal.removeAllListeners('exit');
    this.portal.on('exit', () => children.delete(this.portal));
  }

  // Polls the start page over verified TLS (curl with the demo CA only).
  async #waitUntilAnswering() {
    for (let i = 0; i < 100; i++) {
      const probe = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}',
                                       '--max-time', '5', '--cacert', this.caFile, this.url + '/'],
                              { encoding: 'utf8' });
      if (probe.stdout === '200')
        return;
      await sleep(100);
    }
    throw new Error(`the portal at ${this.url} does not answer:\n${this.portalLog}`);
  }

  #trustPortalCa() {
    const nssdb = join(this.home, '.pki', 'nssdb');
    mkdirSync(nssdb, { recursive: true });
    execFileSync('certutil', ['-d', `sql:${nssdb}`, '-N', '--empty-password']);
    execFileSync('certutil', ['-d', `sql:${nssdb}`, '-A', '-t', 'C,,', '-n', 'imzala-demo', '-i', this.caFile]);
  }

  // Opens a second, separate browser (own profile, own HOME) that does not
  // trust the demo CA, to show that TLS is really verified.
  async untrustingBrowser() {
    const home = join(this.dir, 'home-untrusting');
    mkdirSync(home, { recursive: true });
    const context = await chromium.launchPersistentContext(join(this.dir, 'chromium-untrusting'), {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_ARGS,
      env: chromiumEnv(home),
    });
    this.extraContexts = [...(this.extraContexts ?? []), context];
    return context;
  }

  // Runs `imzala-cli portal` with the code the page shows. The PIN goes on
  // fd 3 through a pipe (never argv or the environment); for an unblock the
  // new PIN goes on fd 4. With `faults` the card is the fault module over
  // the same SoftHSM card (IMZALA_FAULTS words, e.g. 'pin-locked': imzala-cli
  // unblocks only a card whose PIN is locked). `cert`: --cert's value.
  async runCli(code, { pin = DEMO_PIN, newPin, softhsmConf = this.softhsmConf, faults, cert } = {}) {
    const module = faults !== undefined ? binary('IMZALA_FAULT_MODULE') : SOFTHSM_MODULE;
    const args = ['portal', '--portal', this.url, '--portal-ca', this.caFile, '--code', code,
                  '--pin-fd', '3', '--no-registered', '--module', module];
    if (cert !== undefined)
      args.push('--cert', cert);
    const stdio = ['ignore', 'pipe', 'pipe', 'pipe'];
    if (newPin !== undefined) {
      args.push('--new-pin-fd', '4');
      stdio.push('pipe');
    }
    return this.#runWithSecrets(args, stdio, { 3: pin, 4: newPin }, softhsmConf, faults);
  }

  // `imzala-cli sign` of @content with the card, PIN on fd 3.
  async sign(content, { pin = DEMO_PIN } = {}) {
    const out = join(this.dir, `signed-${Date.now()}.p7s`);
    const input = join(this.dir, `content-${Date.now()}.txt`);
    (await import('node:fs')).writeFileSync(input, content);
    const result = await this.#runWithSecrets(
      ['sign', '--no-registered', '--module', SOFTHSM_MODULE, '--pin-fd', '3', '--out', out, input],
      ['ignore', 'pipe', 'pipe', 'pipe'], { 3: pin });
    return { ...result, out };
  }

  async #runWithSecrets(args, stdio, secrets, softhsmConf = this.softhsmConf, faults = undefined) {
    const child = track(spawn(this.cliBin, args, {
      stdio,
      // English labels ("Code:", "Card to unlock:") the tests read; the
      // portal's own sentences stay Turkish.
      env: { ...process.env, SOFTHSM2_CONF: softhsmConf, LC_ALL: 'C.UTF-8', LANGUAGE: 'en',
             ...(faults !== undefined ? { IMZALA_FAULTS: faults } : {}) },
    }));
    const result = collect(child);
    for (const [fd, secret] of Object.entries(secrets)) {
      const stream = child.stdio[fd];
      if (!stream || secret === undefined)
        continue;
      // The child may exit before it reads (an expired code): ignore EPIPE.
      stream.on('error', () => {});
      stream.end(secret + '\n');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 120000);
    try {
      return await result;
    } finally {
      clearTimeout(timer);
    }
  }

  // Read-only SQL on the portal's database; rows as objects.
  sql(query) {
    const out = execFileSync('sqlite3', ['-readonly', '-json', this.dbFile, query], { encoding: 'utf8' });
    return out.trim() === '' ? [] : JSON.parse(out);
  }

  // A PNG of the page as it is now: <screenshot dir>/<test>-NN-<label>.png,
  // or, when the harness was started with shotFile (screenshots.mjs), the
  // file that function names (null: no picture of this page).
  async screenshot(label, page = this.page) {
    let file;
    if (this.shotFile) {
      file = this.shotFile(label);
      if (!file)
        return null;
    } else {
      const dir = screenshotDir();
      mkdirSync(dir, { recursive: true });
      file = join(dir, `${this.name}-${String(++this.shots).padStart(2, '0')}-${label}.png`);
    }
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  portalCaPem() {
    return readFileSync(this.caFile, 'utf8');
  }

  async close() {
    for (const context of this.extraContexts ?? [])
      await context.close().catch(() => {});
    if (this.context)
      await this.context.close().catch(() => {});
    this.context = null;
    if (this.portal && this.portal.exitCode === null && this.portal.signalCode === null) {
      const exited = new Promise((done) => this.portal.once('exit', done));
      this.portal.kill('SIGTERM');
      const timer = setTimeout(() => this.portal.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.portal = null;
    if (this.dir && !process.env.IMZALA_BROWSER_KEEP)
      rmSync(this.dir, { recursive: true, force: true });
    tempDirs.delete(this.dir);
  }
}

// Page helpers shared by the tests.

// The doğrulama kodu the page shows (display form), waiting for it.
export async function shownCode(page) {
  const locator = page.getByText(CODE_PATTERN).first();
  await locator.waitFor({ state: 'visible' });
  return CODE_PATTERN.exec(await locator.innerText())[1];
}

// The seconds left that the page counts down ("Kalan süre : 295 saniye").
export async function remainingSeconds(page) {
  const text = await page.locator('body').innerText();
  const match = /Kalan s[üu]re\s*:?\s*(\d+)/i.exec(text);
  return match ? Number(match[1]) : null;
}

// Waits until @read() returns something different from @before.
export async function changed(read, before, what = 'value') {
  for (;;) {
    const now = await read();
    if (now !== before)
      return now;
    await sleep(200);
  }
}

export function canonical(code) {
  return code.replace(/-/g, '');
}

// Runs @fn with a fresh harness and always closes it (processes killed,
// temp dir removed), also when @fn throws.
export async function withHarness(options, fn) {
  const harness = await Harness.start(options);
  try {
    return await fn(harness);
  } catch (error) {
    // What the page looked like and what the portal logged, for the log.
    if (!harness.shotFile) {
      const file = await harness.screenshot('basarisiz').catch(() => null);
      if (file)
        error.message += `\n(page at failure: ${file})`;
    }
    if (harness.portalLog)
      error.message += `\nimzala-portal stderr:\n${harness.portalLog}`;
    throw error;
  } finally {
    await harness.close();
  }
}
