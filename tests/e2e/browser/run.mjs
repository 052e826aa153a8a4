// Real-browser end-to-end test of the payments web front end.
//
//   BASE_URL=http://127.0.0.1:8080 OUTDIR=/tmp/shots node run.mjs
//
// Drives Debian's /usr/bin/chromium (headless) with playwright-core against the
// real stack: nginx serving web/ at / and proxying the API. Prints one line per
// check and ends with "browser: N passed, M failed"; exits 1 on any failure.

import { chromium } from 'playwright-core';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
const OUTDIR = process.env.OUTDIR || '';
if (!BASE_URL || !OUTDIR) {
  console.error('BASE_URL and OUTDIR must be set');
  process.exit(2);
}
fs.mkdirSync(OUTDIR, { recursive: true });

const T = 10000; // every single wait is bounded by this (ms)
const API_PATHS = new Set(['/register', '/login', '/balance', '/transfer', '/transactions', '/healthz', '/password', '/logout',
  '/transfers/batch', '/statement', '/holds', '/fees']);
// Paths of the API with an id: /holds/7, /holds/7/capture, /transfers/7/refund.
const isApiPath = (p) => API_PATHS.has(p) || /^\/(holds|transfers)\/[0-9]+(\/[a-z]+)?$/.test(p);
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const FEE = 75; // cents; the fee GET /fees says on the test stack (the default)

// ------------------------------------------------------------------ harness

const results = [];
async function test(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`ok   - ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    results.push({ name, ok: false });
    console.log(`FAIL - ${name}: ${String(e && e.message ? e.message : e).split('\n').slice(0, 6).join('\n       ')}`);
  }
}

function finish(code) {
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`browser: ${passed} passed, ${failed} failed`);
  process.exit(code ?? (failed ? 1 : 0));
}

// The whole run is bounded too.
const watchdog = setTimeout(() => {
  results.push({ name: 'whole run finished within 240 s', ok: false });
  console.log('FAIL - whole run finished within 240 s');
  finish(1);
}, 240000);

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const cents = (n) => {
  const s = String(n).padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
};

// ------------------------------------------------------------ page helpers

async function gotoHome(page) {
  await collectCsp(); // violations recorded on the page being left
  const resp = await page.goto(`${BASE_URL}/`, { waitUntil: 'load', timeout: 15000 });
  await page.waitForSelector('html[data-ready="true"]', { state: 'attached', timeout: T });
  return resp;
}

async function visible(page, sel) {
  await page.waitForSelector(sel, { state: 'visible', timeout: T });
}

async function textOf(page, sel) {
  await visible(page, sel);
  return (await page.textContent(sel)).trim();
}

async function waitText(page, sel, re) {
  await page.waitForFunction(
    ([s, src, flags]) => {
      const el = document.querySelector(s);
      return !!el && !el.hidden && el.offsetParent !== null && new RegExp(src, flags).test(el.textContent);
    },
    [sel, re.source, re.flags],
    { timeout: T },
  ).catch(async () => {
    const got = await page.evaluate((s) => {
      const el = document.querySelector(s);
      return el ? `${el.hidden ? '[hidden] ' : ''}${el.textContent}` : '(missing)';
    }, sel);
    throw new Error(`${sel} should match ${re}, but is ${JSON.stringify(got)}`);
  });
  return (await page.textContent(sel)).trim();
}

async function expectBalance(page, expected) {
  await page.waitForFunction(
    (want) => {
      const el = document.getElementById('balance-amount');
      return el && el.dataset.state === 'ready' && el.textContent === want;
    },
    expected,
    { timeout: T },
  ).catch(async () => {
    const got = await page.evaluate(() => {
      const el = document.getElementById('balance-amount');
      return `${el.textContent} (${el.dataset.state})`;
    });
    throw new Error(`balance should be ${expected}, but is ${got}`);
  });
}

/** Expected balance := what the page shows now (each test then checks its own delta). */
async function syncBalance(page) {
  await idle(page);
  const text = (await page.textContent('#balance-amount')).trim();
  const m = /^(\d+)\.(\d\d)$/.exec(text);
  assert(m, `balance is not shown as an amount: ${JSON.stringify(text)}`);
  return Number(m[1]) * 100 + Number(m[2]);
}

async function register(page, username, password) {
  await page.fill('#register-username', username);
  await page.fill('#register-password', password);
  await page.click('#register-btn');
}

async function login(page, username, password) {
  await page.fill('#login-username', username);
  await page.fill('#login-password', password);
  await page.click('#login-btn');
}

async function expectSignedIn(page, username) {
  await visible(page, '#dashboard-view');
  await waitText(page, '#current-user', new RegExp(`^${username.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
}

async function logout(page) {
  await page.click('#logout-btn');
  await visible(page, '#auth-view');
}

/** The token the page keeps for its session. */
async function storedToken(page) {
  return page.evaluate(() => JSON.parse(sessionStorage.getItem('payments.session')).token);
}

/** The status GET /balance answers with this token, asked from the page. */
async function tokenStatus(page, token) {
  return page.evaluate(async (t) => {
    const r = await fetch('/balance', {
      headers: { Authorization: `Bearer ${t}` }, cache: 'no-store', credentials: 'omit',
    });
    await r.text(); // read whole, so that the recorder sees the body
    return r.status;
  }, token);
}

async function topup(page, amount) {
  await page.fill('#topup-amount', amount);
  await page.click('#topup-btn');
}

async function review(page, to, amount) {
  await page.fill('#transfer-to', to);
  await page.fill('#transfer-amount', amount);
  await page.click('#review-btn');
  await visible(page, '#transfer-preview');
}

async function idle(page) {
  // No request of the page in flight: all buttons enabled again, balance loaded.
  await page.waitForFunction(() => {
    const b = document.getElementById('balance-amount');
    return b.dataset.state !== 'loading' && !document.querySelector('form[aria-busy="true"]');
  }, null, { timeout: T });
}

async function historyItems(page) {
  return page.$$eval('#history-list > li', (lis) => lis.map((li) => ({
    id: Number(li.dataset.id),
    type: li.dataset.type,
    title: li.querySelector('.tx-title').textContent,
    amount: li.querySelector('.tx-amount').textContent,
    meta: li.querySelector('.tx-meta').textContent,
  })));
}

/** The API straight from this test (not the page): checks what the page did. */
async function apiAs(token, method, p, body) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${BASE_URL}${p}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, data: await res.json().catch(() => null) };
}

async function tokenOf(username, password) {
  const r = await apiAs(null, 'POST', '/login', { username, password });
  eq(r.status, 200, `login of ${username} through the API`);
  return r.data.token;
}

async function noHorizontalOverflow(page) {
  const r = await page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const wide = [];
    for (const el of document.querySelectorAll('body *')) {
      const rect = el.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      if (rect.right > vw + 0.5 || rect.left < -0.5) wide.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} right=${Math.round(rect.right)}`);
    }
    return { vw, sw: document.documentElement.scrollWidth, bw: document.body.scrollWidth, wide: wide.slice(0, 5) };
  });
  assert(r.sw <= r.vw && r.bw <= r.vw, `page is wider than the viewport: scrollWidth ${r.sw}/${r.bw} > ${r.vw}`);
  assert(r.wide.length === 0, `elements stick out of the ${r.vw}px viewport: ${r.wide.join(', ')}`);
}

// ---------------------------------------------------------------------- run

const suffix = randomBytes(4).toString('hex');
const userA = `e2e.long-${suffix}_`.padEnd(32, 'a'); // the longest allowed username
const userB = `e2e_bob_${suffix}`;
const passA = `correct horse ${suffix}`;
const passB = `battery staple ${suffix}`;
const newPassB = `new battery ${suffix}`;
assert(userA.length === 32, 'userA must be 32 characters');

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  timeout: 30000,
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
// Record CSP violations (init scripts are injected by the browser, not subject to the page's CSP).
await context.addInitScript(() => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`);
  });
});
const page = await context.newPage();
page.setDefaultTimeout(T);
page.setDefaultNavigationTimeout(15000);

const consoleProblems = [];
const cspViolations = [];
page.on('console', (msg) => {
  if (msg.type() !== 'error') return;
  const text = msg.text();
  const url = msg.location() && msg.location().url ? msg.location().url : '';
  let p = '';
  try { p = new URL(url).pathname; } catch { /* not a URL */ }
  // The browser logs every API answer >= 400 (and aborted requests) as
  // "Failed to load resource"; those are the errors this test provokes on purpose.
  if (/^Failed to load resource/.test(text) && isApiPath(p)) return;
  consoleProblems.push(`console.error: ${text} ${url}`);
});
page.on('pageerror', (err) => consoleProblems.push(`page error: ${err.message}`));

const requests = []; // { method, url, path, headers, body }
page.on('request', (req) => {
  const u = new URL(req.url());
  if (u.protocol === 'data:' || u.protocol === 'blob:') return;
  requests.push({ method: req.method(), url: req.url(), path: u.pathname, headers: req.headers(), body: req.postData() });
});

// The real server's answers to the page's API calls go to the file
// PAYD_RECORD names, when it does, one JSON line each, for
// tests/openapi/check.mjs to validate against docs/openapi.yaml. An answer
// that a test fulfils itself (page.route) has no server address and is
// left out.
const recordings = [];
page.on('response', (resp) => {
  const type = resp.request().resourceType();
  if (!process.env.PAYD_RECORD || (type !== 'fetch' && type !== 'xhr')) return;
  recordings.push((async () => {
    if (!(await resp.serverAddr())) return null;
    const u = new URL(resp.url());
    let body = '';
    try { body = await resp.text(); } catch { /* no body */ }
    return JSON.stringify({
      source: 'browser', method: resp.request().method(), path: u.pathname + u.search,
      status: resp.status(), headers: await resp.allHeaders(), body,
    });
  })());
});

async function saveRecordings() {
  const lines = (await Promise.allSettled(recordings))
    .filter((r) => r.status === 'fulfilled' && r.value).map((r) => `${r.value}\n`);
  if (process.env.PAYD_RECORD) fs.appendFileSync(process.env.PAYD_RECORD, lines.join(''));
}

async function collectCsp() {
  try {
    const v = await page.evaluate(() => window.__cspViolations.splice(0));
    cspViolations.push(...v);
  } catch { /* page navigating */ }
}

let balanceA = 0; // expected balance of A, in cents

try {
  await test('page is served at / with a strict CSP and no inline script or style', async () => {
    const resp = await gotoHome(page);
    eq(resp.status(), 200, 'status of GET /');
    const h = resp.headers();
    const csp = h['content-security-policy'] || '';
    assert(/default-src 'self'/.test(csp), `Content-Security-Policy missing or weak: ${JSON.stringify(csp)}`);
    assert(!/unsafe-inline|unsafe-eval/.test(csp), `CSP allows unsafe-*: ${csp}`);
    eq(h['x-content-type-options'], 'nosniff', 'X-Content-Type-Options');
    const inline = await page.evaluate(() => {
      const found = [];
      if (document.querySelectorAll('script:not([src])').length) found.push('inline <script>');
      if (document.querySelectorAll('style').length) found.push('<style>');
      if (document.querySelectorAll('[style]').length) found.push('style= attribute');
      for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(`${a.name}= on <${el.tagName.toLowerCase()}>`);
      }
      for (const s of document.querySelectorAll('script[src], link[href]')) {
        const u = new URL(s.src || s.href, location.href);
        if (u.origin !== location.origin && u.protocol !== 'data:') found.push(`external ${u.href}`);
      }
      return found;
    });
    eq(inline.join(', '), '', 'inline code or external resources');
    const sheets = await page.evaluate(() => document.styleSheets.length);
    assert(sheets >= 1, 'style.css was not applied');
    await visible(page, '#login-form');
    await visible(page, '#register-form');
  });

  await test('every input has a <label>', async () => {
    const unlabeled = await page.evaluate(() => [...document.querySelectorAll('input, select, textarea')]
      .filter((i) => !i.labels || i.labels.length === 0 || !i.labels[0].textContent.trim())
      .map((i) => i.id || i.name));
    eq(unlabeled.join(', '), '', 'inputs without a label');
    await page.screenshot({ path: path.join(OUTDIR, 'login.png'), fullPage: true });
  });

  await test('registration is validated with sentences next to the fields', async () => {
    await register(page, 'ab', 'short');
    await waitText(page, '#register-username-error', /3 to 32 characters/);
    await waitText(page, '#register-password-error', /8 to 128 characters/);
    eq(await page.getAttribute('#register-username', 'aria-invalid'), 'true', 'aria-invalid on username');
  });

  await test('registering a new user logs them in (second user, B)', async () => {
    await register(page, userB, passB);
    await expectSignedIn(page, userB);
    await expectBalance(page, '0.00');
    await waitText(page, '#history-empty', /No transactions yet/);
    const ls = await page.evaluate(() => ({ local: localStorage.length, url: location.href }));
    eq(ls.local, 0, 'localStorage entries');
    assert(!/token|eyJ/.test(ls.url), `token in the URL: ${ls.url}`);
    await logout(page);
  });

  await test('a taken username (any case) shows username_taken next to the username', async () => {
    await register(page, userB.toUpperCase(), passB);
    const msg = await waitText(page, '#register-username-error', /already taken/);
    assert(msg.includes(userB.toUpperCase()), `message should name the username: ${msg}`);
    await visible(page, '#auth-view');
  });

  await test('a wrong password shows invalid_credentials as a sentence', async () => {
    await login(page, userB, `${passB}-wrong`);
    await waitText(page, '#login-password-error', /username or password is wrong/);
    assert(await page.isVisible('#auth-view'), 'still signed out');
  });

  await test('a 32-character username registers, shows and wraps without widening the page', async () => {
    await page.fill('#register-username', '');
    await register(page, userA, passA);
    await expectSignedIn(page, userA);
    await expectBalance(page, '0.00');
    await noHorizontalOverflow(page);
  });

  await test('an invalid top-up amount is refused with a sentence next to the amount', async () => {
    for (const bad of ['1.005', '-5', 'abc', '0']) {
      await topup(page, bad);
      await waitText(page, '#topup-amount-error', /at most two decimals/);
    }
    await expectBalance(page, '0.00');
  });

  await test('a top-up of "25.5" raises the balance to 25.50', async () => {
    await topup(page, '25.5');
    balanceA += 2550;
    await expectBalance(page, cents(balanceA));
    await waitText(page, '#notice', /Added 25\.50/);
    const post = requests.filter((r) => r.method === 'POST' && r.path === '/balance').pop();
    eq(post && JSON.parse(post.body).amount, '25.50', 'amount sent to POST /balance');
    assert(UUID_RE.test(post.headers['idempotency-key'] || ''), 'top-up carries a UUID Idempotency-Key');
    assert(/^Bearer \S+$/.test(post.headers.authorization || ''), 'top-up carries Authorization: Bearer');
  });

  await test('sending money shows the fee before confirming, then moves amount + fee', async () => {
    await review(page, userB, '10');
    eq(await textOf(page, '#preview-summary'), 'You send 10.00 + fee 0.75 = 10.75', 'fee preview');
    eq(await textOf(page, '#preview-recipient'), `${userB} receives 10.00.`, 'recipient line');
    const before = requests.filter((r) => r.path === '/transfer').length;
    eq(before, 0, 'no transfer request before confirming');
    await page.click('#confirm-btn');
    await waitText(page, '#notice', new RegExp(`Sent 10\\.00 to ${userB} \\(fee 0\\.75\\)`));
    balanceA -= 1000 + FEE;
    await expectBalance(page, cents(balanceA));
    assert(await page.isHidden('#transfer-preview'), 'preview closed after success');
    await page.screenshot({ path: path.join(OUTDIR, 'dashboard.png'), fullPage: true });
  });

  await test('double-clicking "Confirm and send" charges exactly once', async () => {
    balanceA = await syncBalance(page);
    const n0 = requests.filter((r) => r.path === '/transfer').length;
    await review(page, userB, '1.00');
    eq(await textOf(page, '#preview-summary'), 'You send 1.00 + fee 0.75 = 1.75', 'fee preview');
    await page.dblclick('#confirm-btn');
    await waitText(page, '#notice', /Sent 1\.00/);
    balanceA -= 100 + FEE;
    await expectBalance(page, cents(balanceA));
    await page.waitForTimeout(600);
    await page.click('#refresh-btn');
    await expectBalance(page, cents(balanceA));
    const sent = requests.filter((r) => r.path === '/transfer').slice(n0);
    const keys = new Set(sent.map((r) => r.headers['idempotency-key']));
    eq(keys.size, 1, 'distinct Idempotency-Keys sent for one double-clicked payment');
    eq(sent.length, 1, 'POST /transfer requests sent (the button is disabled while in flight)');
    assert(UUID_RE.test([...keys][0] || ''), 'Idempotency-Key is a UUID');
  });

  await test('a retry after a lost response reuses the Idempotency-Key and charges once', async () => {
    balanceA = await syncBalance(page);
    const n0 = requests.filter((r) => r.path === '/transfer').length;
    let served = 0;
    // The first attempt reaches the server, but its answer is lost on the way back.
    await page.route('**/transfer', async (route) => {
      if (served++ === 0) {
        const resp = await route.fetch({ timeout: T });
        if (resp.status() !== 201) throw new Error(`first attempt got ${resp.status()}`);
        await route.abort('connectionreset');
      } else {
        await route.continue();
      }
    });
    try {
      await review(page, userB, '2.00');
      await page.click('#confirm-btn');
      await waitText(page, '#transfer-form-error', /Service unavailable.*will not be charged twice/);
      eq(await textOf(page, '#confirm-btn'), 'Retry send', 'confirm button label');
      await page.click('#confirm-btn');
      await waitText(page, '#notice', /Sent 2\.00/);
    } finally {
      await page.unroute('**/transfer');
    }
    balanceA -= 200 + FEE;
    await expectBalance(page, cents(balanceA));
    const sent = requests.filter((r) => r.path === '/transfer').slice(n0);
    eq(sent.length, 2, 'transfer requests (attempt + retry)');
    eq(sent[0].headers['idempotency-key'], sent[1].headers['idempotency-key'], 'Idempotency-Key of the retry');
    eq(sent[0].body, sent[1].body, 'body of the retry');
    // A new payment afterwards gets a new key.
    assert(UUID_RE.test(sent[0].headers['idempotency-key']), 'Idempotency-Key is a UUID');
  });

  await test('an overdraft shows the insufficient-funds sentence and changes nothing', async () => {
    balanceA = await syncBalance(page);
    await review(page, userB, '1000.00');
    eq(await textOf(page, '#preview-summary'), 'You send 1000.00 + fee 0.75 = 1000.75', 'fee preview');
    await page.click('#confirm-btn');
    await waitText(page, '#transfer-amount-error', /Insufficient funds: sending 1000\.00 costs 1000\.75/);
    eq(await page.getAttribute('#transfer-amount', 'aria-invalid'), 'true', 'aria-invalid on amount');
    await expectBalance(page, cents(balanceA));
  });

  await test('the previews use the fee GET /fees says, and show none without it', async () => {
    const reload = async () => {
      await gotoHome(page);
      await expectSignedIn(page, userA);
      await idle(page);
    };
    // Another configured fee: 0.30 plus 125 basis points, rounded half up.
    await page.route('**/fees', (route) => route.fulfill({
      status: 200, contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ fixed: '0.30', bps: 125, currency: 'USD' }),
    }));
    try {
      await reload();
      await review(page, userB, '10');
      await waitText(page, '#preview-summary', /^You send 10\.00 \+ fee 0\.43 = 10\.43$/);
      await page.click('#cancel-btn');
      await page.fill('#batch-lines', `${userB},0.40\n${userB},1.00\n`);
      await page.click('#batch-review-btn');
      await waitText(page, '#batch-summary', /^2 payments: you send 1\.40 \+ fees 0\.62 = 2\.02$/);
      await page.click('#batch-cancel-btn');
      await page.unroute('**/fees');
      // The service cannot say: the preview shows no fee rather than a guess.
      await page.route('**/fees', (route) => route.fulfill({
        status: 503, contentType: 'application/json; charset=utf-8',
        body: JSON.stringify({ error: { code: 'unavailable', message: 'The service is temporarily unavailable; retry later.' } }),
      }));
      await reload();
      await review(page, userB, '10');
      await waitText(page, '#preview-summary', /^You send 10\.00 \+ the service's fee \(shown once sent\)$/);
      await page.click('#cancel-btn');
    } finally {
      await page.unroute('**/fees');
    }
    // The server's own fee again.
    await reload();
    await review(page, userB, '10');
    await waitText(page, '#preview-summary', /^You send 10\.00 \+ fee 0\.75 = 10\.75$/);
    await page.click('#cancel-btn');
    const asked = requests.filter((r) => r.path === '/fees');
    assert(asked.length >= 3 && asked.every((r) => r.method === 'GET' && !r.headers.authorization),
      'the page asks GET /fees, without its token');
    await expectBalance(page, cents(balanceA));
  });

  await test('an unknown recipient shows recipient_not_found next to the recipient', async () => {
    balanceA = await syncBalance(page);
    const nobody = `nobody_${suffix}`;
    await review(page, nobody, '1.00');
    await page.click('#confirm-btn');
    await waitText(page, '#transfer-to-error', new RegExp(`no user called “${nobody}”`));
    await expectBalance(page, cents(balanceA));
  });

  await test('HTML typed as the recipient is shown as text, never parsed', async () => {
    balanceA = await syncBalance(page);
    for (const evil of ['<b>x</b>', '<img src=x onerror="window.__xss=1">']) {
      await review(page, evil, '1.00');
      eq(await textOf(page, '#preview-recipient'), `${evil} receives 1.00.`, 'preview shows the raw text');
      await page.click('#confirm-btn');
      const msg = await waitText(page, '#transfer-to-error', /./);
      assert(msg.includes(evil), `error should echo the recipient as text: ${msg}`);
      await idle(page);
      const dom = await page.evaluate(() => ({
        b: document.querySelectorAll('body b').length,
        img: document.querySelectorAll('body img').length,
        xss: window.__xss,
      }));
      eq(dom.b, 0, '<b> elements created');
      eq(dom.img, 0, '<img> elements created');
      eq(dom.xss, undefined, 'injected handler ran');
    }
    await expectBalance(page, cents(balanceA));
  });

  await test('rate limiting (429) and an unavailable service (503, network) are explained', async () => {
    balanceA = await syncBalance(page);
    const cases = [
      [(r) => r.fulfill({ status: 429, headers: { 'Retry-After': '3' }, contentType: 'application/json; charset=utf-8', body: '{"error":{"code":"rate_limited","message":"Too many requests."}}' }), /Too many requests.*wait 3 seconds/],
      [(r) => r.fulfill({ status: 503, contentType: 'application/json; charset=utf-8', body: '{"error":{"code":"unavailable","message":"Service unavailable."}}' }), /Service unavailable/],
      [(r) => r.abort('connectionrefused'), /Service unavailable/],
    ];
    for (const [handler, re] of cases) {
      await page.route('**/balance', (route) => (route.request().method() === 'POST' ? handler(route) : route.continue()));
      try {
        await topup(page, '1.00');
        await waitText(page, '#topup-form-error', re);
        await idle(page);
      } finally {
        await page.unroute('**/balance');
      }
    }
    await expectBalance(page, cents(balanceA));
  });

  await test('the page can be used with the keyboard alone (Tab to top-up, Enter)', async () => {
    balanceA = await syncBalance(page);
    await page.fill('#topup-amount', '');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());
    let reached = false;
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement && document.activeElement.id === 'topup-amount');
    }
    assert(reached, 'Tab never reached the top-up amount field');
    await page.keyboard.type('0.5');
    await page.keyboard.press('Enter');
    balanceA += 50;
    await expectBalance(page, cents(balanceA));
    await waitText(page, '#notice', /Added 0\.50/);
  });

  await test('history lists every entry newest first, with a working "Load more"', async () => {
    balanceA = await syncBalance(page);
    for (let i = 1; i <= 7; i++) {
      await topup(page, `0.0${i}`);
      balanceA += i;
      await expectBalance(page, cents(balanceA));
      await idle(page);
    }
    // A: 9 deposits + 3 transfers out = 12 entries; pages of 10.
    await page.waitForFunction(() => document.querySelectorAll('#history-list > li').length === 10, null, { timeout: T });
    await visible(page, '#load-more-btn');
    await page.click('#load-more-btn');
    await page.waitForFunction(() => document.querySelectorAll('#history-list > li').length === 12, null, { timeout: T });
    await page.waitForSelector('#load-more-btn', { state: 'hidden', timeout: T });
    const items = await historyItems(page);
    const ids = items.map((t) => t.id);
    eq(new Set(ids).size, ids.length, 'unique ids');
    assert(ids.every((id, i) => i === 0 || id < ids[i - 1]), `newest first: ${ids.join(',')}`);
    eq(items.filter((t) => t.type === 'deposit').length, 9, 'deposits');
    const outs = items.filter((t) => t.type === 'transfer_out');
    eq(outs.map((t) => t.amount).join(' '), '−2.75 −1.75 −10.75', 'transfers out (amount + fee)');
    assert(outs.every((t) => t.title === `Sent to ${userB}`), `titles: ${outs.map((t) => t.title)}`);
    assert(outs[0].meta.includes('2.00 + fee 0.75'), `meta shows amount and fee: ${outs[0].meta}`);
    eq(items[0].meta.includes(`balance ${cents(balanceA)}`), true, 'newest entry shows balance_after');
    const deposit = items.find((t) => t.amount === '+25.50');
    assert(deposit && deposit.title === 'Top-up', 'the 25.50 top-up is listed');
    await page.locator('.history-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUTDIR, 'history.png'), fullPage: true });
  });

  await test('the recipient logs in and sees the money and the transfers in', async () => {
    await logout(page);
    await waitText(page, '#notice', /logged out/);
    await login(page, userB, passB);
    await expectSignedIn(page, userB);
    await expectBalance(page, cents(1000 + 100 + 200));
    await page.waitForFunction(() => document.querySelectorAll('#history-list > li').length === 3, null, { timeout: T });
    const items = await historyItems(page);
    eq(items.map((t) => `${t.type} ${t.amount}`).join(', '),
      'transfer_in +2.00, transfer_in +1.00, transfer_in +10.00', 'B history');
    assert(items.every((t) => t.title === `Received from ${userA}`), `titles: ${items.map((t) => t.title)}`);
    assert(await page.isHidden('#load-more-btn'), 'no "Load more" on a single page');
  });

  await test('changing the password: a wrong one is refused; then old tokens are refused and only the new one logs in', async () => {
    const oldToken = await storedToken(page);
    await page.fill('#password-current', `${passB}-wrong`);
    await page.fill('#password-new', newPassB);
    await page.click('#password-btn');
    await waitText(page, '#password-current-error', /current password is wrong/);
    assert(await page.isVisible('#dashboard-view'), 'still signed in after a wrong current password');
    eq(await tokenStatus(page, oldToken), 200, 'the token after a refused change');
    await page.fill('#password-current', passB);
    await page.fill('#password-new', 'short');
    await page.click('#password-btn');
    await waitText(page, '#password-new-error', /8 to 128 characters/);
    await page.fill('#password-new', newPassB);
    await page.click('#password-btn');
    await visible(page, '#auth-view');
    await waitText(page, '#notice', /password has been changed.*Please log in again/);
    eq(await page.evaluate(() => sessionStorage.getItem('payments.session')), null, 'stored session after the change');
    eq(await tokenStatus(page, oldToken), 401, 'the token from before the change');
    await login(page, userB, passB);
    await waitText(page, '#login-password-error', /username or password is wrong/);
    await login(page, userB, newPassB);
    await expectSignedIn(page, userB);
    await expectBalance(page, cents(1000 + 100 + 200));
  });

  await test('"Log out everywhere" ends every session and asks to log in again', async () => {
    const oldToken = await storedToken(page);
    await page.locator('.security-card').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUTDIR, 'security.png'), fullPage: true });
    await page.click('#logout-all-btn');
    await visible(page, '#auth-view');
    await waitText(page, '#notice', /logged out on every device\. Please log in again/);
    eq(await tokenStatus(page, oldToken), 401, 'the token from before the logout');
    await login(page, userB, newPassB);
    await expectSignedIn(page, userB);
    await expectBalance(page, cents(1000 + 100 + 200));
  });

  await test('"Pay many": pasted lines, total with fees, one key per attempt, per-line results', async () => {
    // Signed in as B, who holds 13.00.
    await idle(page);
    let balance = await syncBalance(page);
    const missing = `nobody_${suffix}`;
    await page.fill('#batch-lines', `${userA},1.00\n\n${missing},0.50\n`);
    await page.click('#batch-review-btn');
    await visible(page, '#batch-preview');
    await waitText(page, '#batch-summary', /^2 payments: you send 1\.50 \+ fees 1\.50 = 3\.00$/);
    const before = requests.length;
    await page.click('#batch-confirm-btn');
    // All or nothing (the default): line 3 is refused, nothing moves.
    await waitText(page, '#batch-results', new RegExp(`Line 3: ${missing} 0\\.50: there is no user called`));
    await waitText(page, '#batch-form-error', /Nothing was sent/);
    await idle(page);
    await expectBalance(page, cents(balance));
    // Each on its own: line 1 is paid, line 3 refused; a new attempt, a new key.
    await page.uncheck('#batch-atomic');
    await page.click('#batch-review-btn');
    await visible(page, '#batch-preview');
    await page.click('#batch-confirm-btn');
    await waitText(page, '#batch-results', /Line 1: .* 1\.00: sent \(fee 0\.75\)\./);
    balance -= 100 + FEE;
    await expectBalance(page, cents(balance));
    const posts = requests.slice(before).filter((r) => r.method === 'POST' && r.path === '/transfers/batch');
    eq(posts.length, 2, 'POST /transfers/batch requests');
    const keys = posts.map((r) => r.headers['idempotency-key']);
    assert(keys.every((k) => UUID_RE.test(k || '')), `keys: ${keys}`);
    assert(keys[0] !== keys[1], 'a new Idempotency-Key for the second attempt');
    eq(JSON.parse(posts[1].body).atomic, false, 'atomic sent');
    eq(JSON.parse(posts[1].body).transfers.length, 2, 'transfers sent');
    // A CSV file fills the lines (a header line is skipped).
    await page.setInputFiles('#batch-file', {
      name: 'payouts.csv', mimeType: 'text/csv', buffer: Buffer.from(`name,amount\r\n"${userA}",0.25\r\n`),
    });
    await page.waitForFunction(() => document.getElementById('batch-lines').value.includes('0.25'), null, { timeout: T });
    await page.click('#batch-review-btn');
    await waitText(page, '#batch-summary', /^1 payment: you send 0\.25 \+ fees 0\.75 = 1\.00$/);
    await page.click('#batch-confirm-btn');
    await waitText(page, '#batch-results', /Line 2: .* 0\.25: sent/);
    balance -= 25 + FEE;
    await expectBalance(page, cents(balance));
    await page.locator('#batch-heading').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUTDIR, 'pay-many.png'), fullPage: true });
  });

  await test('"Statement": a date range adds up, and "Download CSV" gives the same entries', async () => {
    await idle(page);
    const balance = await syncBalance(page);
    const today = new Date().toISOString().slice(0, 10);
    await page.fill('#statement-from', today);
    await page.fill('#statement-to', today);
    await page.click('#statement-btn');
    await visible(page, '#statement-view');
    eq(await textOf(page, '#statement-closing'), cents(balance), 'closing balance');
    const n = await page.$$eval('#statement-list > li', (lis) => lis.length);
    const amounts = ['#statement-opening', '#statement-in', '#statement-out', '#statement-closing'];
    const [open, inn, out, close] = await Promise.all(amounts.map((sel) => textOf(page, sel)));
    const c = (t) => Math.round(Number(t) * 100);
    eq(c(open) + c(inn) - c(out), c(close), 'opening + in - out');
    await visible(page, '#statement-csv');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('#statement-csv')]);
    const file = path.join(OUTDIR, 'statement.csv');
    await download.saveAs(file);
    const lines = fs.readFileSync(file, 'utf8').split('\r\n').filter(Boolean);
    eq(lines[0], 'id,type,amount,fee,counterparty,balance_after,created_at,transfer_id', 'CSV header');
    eq(lines.length - 1, n, 'CSV lines');
    assert(download.suggestedFilename().endsWith('.csv'), `file name ${download.suggestedFilename()}`);
    // The last day before the first: explained next to the field.
    await page.fill('#statement-to', '2000-01-01');
    await page.click('#statement-btn');
    await waitText(page, '#statement-to-error', /cannot come before/);
    await page.locator('#statement-heading').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(OUTDIR, 'statement.png'), fullPage: true });
  });

  await test('holds: the recipient captures part of one, voids another, refunds; checked through the API', async () => {
    // B's balance as it stands after the tests before; all is relative to it.
    await idle(page);
    const start = await syncBalance(page);
    const tokenA = await tokenOf(userA, passA);
    const tokenB = await tokenOf(userB, newPassB); // changed by the test above
    const h1 = await apiAs(tokenA, 'POST', '/holds', { to: userB, amount: '5.00' });
    eq(h1.status, 201, 'hold 1');
    const h2 = await apiAs(tokenA, 'POST', '/holds', { to: userB, amount: '2.00' });
    eq(h2.status, 201, 'hold 2');
    // B reserves 1.00 for A: the page shows available beside the balance.
    const h3 = await apiAs(tokenB, 'POST', '/holds', { to: userA, amount: '1.00' });
    eq(h3.status, 201, 'hold 3');
    await page.click('#refresh-btn');
    await waitText(page, '#balance-available',
      new RegExp(`^Available: ${cents(start - 175).replace('.', '\\.')}$`));
    const row1 = `#holds-list > li[data-id="${h1.data.id}"]`;
    const row2 = `#holds-list > li[data-id="${h2.data.id}"]`;
    await visible(page, `${row1} .capture-btn`);
    eq(await page.inputValue(`${row1} .capture-amount`), '5.00', 'capture amount offered');
    // Pending first: both of A's holds come before anything else.
    const order = await page.$$eval('#holds-list > li', (lis) => lis.map((li) => li.dataset.status));
    eq(order.slice(0, 3).join(','), 'pending,pending,pending', 'pending holds first');
    await page.fill(`${row1} .capture-amount`, '3.00');
    await page.click(`${row1} .capture-btn`);
    await waitText(page, '#notice', /Captured 3\.00/);
    await page.waitForSelector(`${row1}[data-status="captured"]`, { timeout: T });
    await page.click(`${row2} .void-btn`);
    await waitText(page, '#notice', /Voided/);
    await page.waitForSelector(`${row2}[data-status="voided"]`, { timeout: T });
    const g1 = await apiAs(tokenA, 'GET', `/holds/${h1.data.id}`);
    eq(`${g1.data.status} ${g1.data.captured}`, 'captured 3.00', 'hold 1 through the API');
    const g2 = await apiAs(tokenA, 'GET', `/holds/${h2.data.id}`);
    eq(g2.data.status, 'voided', 'hold 2 through the API');
    const balA = await apiAs(tokenA, 'GET', '/balance');
    eq(balA.data.available, balA.data.balance, "A's available once both holds ended");
    await expectBalance(page, cents(start + 300));
    // Refund the capture: the amount offered is what is left (3.00).
    const tid = g1.data.transfer_id;
    const item = `#history-list > li[data-id="${tid}"]`;
    await page.click(`${item} .refund-btn`);
    await visible(page, `${item} .refund-amount`);
    eq(await page.inputValue(`${item} .refund-amount`), '3.00', 'refund amount offered');
    await page.fill(`${item} .refund-amount`, '1.00');
    await page.click(`${item} .refund-confirm`);
    await waitText(page, '#notice', /Refunded 1\.00/);
    await expectBalance(page, cents(start + 200));
    await page.click(`${item} .refund-btn`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.value === '2.00', `${item} .refund-amount`, { timeout: T });
    const t = await apiAs(tokenB, 'GET', `/transfers/${tid}`);
    eq(`${t.data.refunded} ${t.data.refunds.length} ${t.data.hold_id}`, `1.00 1 ${h1.data.id}`, 'the transfer through the API');
    const first = (await historyItems(page))[0];
    eq(`${first.type} ${first.amount}`, 'refund_out −1.00', 'the refund in the history');
    // B's own hold ends too: A, its recipient, voids it.
    eq((await apiAs(tokenA, 'POST', `/holds/${h3.data.id}/void`)).status, 200, 'hold 3 voided');
    await page.click('#refresh-btn');
    await page.waitForFunction(() => document.getElementById('balance-available').hidden, null, { timeout: T });
    await page.screenshot({ path: path.join(OUTDIR, 'holds.png'), fullPage: true });
  });

  await test('at 375px wide nothing overflows horizontally', async () => {
    await page.setViewportSize({ width: 375, height: 812 });
    await page.waitForTimeout(200);
    await noHorizontalOverflow(page);
    // The longest content: a preview naming the 32-character user, and an error.
    await review(page, userA, '1.00');
    await noHorizontalOverflow(page);
    await page.fill('#topup-amount', 'abc');
    await page.click('#topup-btn');
    await waitText(page, '#topup-amount-error', /at most two decimals/);
    await noHorizontalOverflow(page);
    const small = await page.$$eval('button, input', (els) => els
      .filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 40)
      .map((e) => e.id));
    eq(small.join(', '), '', 'controls smaller than a touch target');
    await page.screenshot({ path: path.join(OUTDIR, 'mobile.png'), fullPage: true });
    await page.click('#cancel-btn');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await test('an expired or rejected token (401) logs the user out with a clear message', async () => {
    // Tamper with the stored token: the real server must answer 401.
    await page.evaluate(() => {
      const s = JSON.parse(sessionStorage.getItem('payments.session'));
      s.token = `${s.token.slice(0, -4)}AAAA`;
      sessionStorage.setItem('payments.session', JSON.stringify(s));
    });
    await gotoHome(page);
    await visible(page, '#auth-view');
    await waitText(page, '#notice', /session has expired\. Please log in again/);
    eq(await page.evaluate(() => sessionStorage.getItem('payments.session')), null, 'stored session after 401');
    eq(await page.isHidden('#dashboard-view'), true, 'dashboard hidden');
    eq((await page.textContent('#history-list')).trim(), '', 'history cleared');
  });

  await test('the token is never in a URL or a cookie', async () => {
    const tokens = new Set(requests.map((r) => (r.headers.authorization || '').replace(/^Bearer /, '')).filter(Boolean));
    assert(tokens.size >= 2, 'expected tokens of both users to be used');
    for (const r of requests) {
      for (const t of tokens) assert(!r.url.includes(t.split('.')[2] || t), `token in URL ${r.url}`);
      assert(!r.headers.cookie, `cookie sent to ${r.url}`);
    }
    const cookies = await context.cookies();
    eq(cookies.length, 0, 'cookies set');
    const navigated = requests.filter((r) => r.path !== '/' && !isApiPath(r.path) && !/\.(js|css)$/.test(r.path));
    eq(navigated.map((r) => r.url).join(', '), '', 'requests to unexpected URLs');
  });

  await collectCsp();
  await test('no console errors, page errors or CSP violations', async () => {
    await collectCsp();
    const all = [...consoleProblems, ...cspViolations.map((v) => `CSP violation: ${v}`)];
    eq(all.join('\n'), '', 'browser problems');
  });
} catch (e) {
  results.push({ name: 'harness', ok: false });
  console.log(`FAIL - harness: ${e && e.stack ? e.stack : e}`);
} finally {
  clearTimeout(watchdog);
  await saveRecordings().catch((e) => {
    results.push({ name: 'recording responses', ok: false });
    console.log(`FAIL - recording responses: ${e}`);
  });
  await browser.close().catch(() => {});
}
finish();
