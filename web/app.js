// Payments web front end. Plain ES module, no framework, no network access
// outside this origin. Everything that comes from the API or from the user is
// put on the page with textContent, never as HTML.
//
// Money is handled as integer cents (BigInt) from the moment it is typed to the
// moment it is shown; a binary float is never involved.

/* ------------------------------------------------------------------ config */

const MAX_AMOUNT_CENTS = 100000000000n; // 1000000000.00, the API maximum
const HISTORY_PAGE = 10;
const BATCH_MAX = 1000; // POST /transfers/batch: 1 to 1000 payments
const REQUEST_TIMEOUT_MS = 15000;
const SESSION_KEY = 'payments.session';
const USERNAME_RE = /^[A-Za-z0-9_.-]{3,32}$/;

/* ------------------------------------------------------------------- money */

/**
 * Parse the text of an amount ("12.5", "12.50", "12") into integer cents with
 * string operations only. Returns a BigInt, or null when the text is not a
 * positive amount with at most two fractional digits.
 */
export function parseCents(text) {
  const s = String(text).trim();
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(s);
  if (!m) return null;
  const whole = m[1].replace(/^0+(?=[0-9])/, '');
  if (whole.length > 13) return null; // far above any valid amount
  const frac = (m[2] || '').padEnd(2, '0');
  return BigInt(whole) * 100n + BigInt(frac);
}

/** Format integer cents as "12.50" (a leading "-" for negatives). */
export function formatCents(cents) {
  let c = BigInt(cents);
  const neg = c < 0n;
  if (neg) c = -c;
  const s = c.toString().padStart(3, '0');
  return (neg ? '-' : '') + s.slice(0, -2) + '.' + s.slice(-2);
}

/** Cents of an API amount string such as "10.00"; null if malformed. */
function apiCents(value) {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const s = String(value);
  const neg = s.startsWith('-');
  const c = parseCents(neg ? s.slice(1) : s);
  if (c === null) return null;
  return neg ? -c : c;
}

/**
 * The fee of a transfer of `cents` under `f` ({ fixed, bps } from GET /fees,
 * BigInt), as the server computes it (money_fee in app/money.c): the fixed
 * part plus bps basis points of the amount, that part rounded half up to the
 * cent, in integers.
 */
export function feeCents(cents, f) {
  return f.fixed + (cents * f.bps + 5000n) / 10000n;
}

/* --------------------------------------------------------------- utilities */

const $ = (id) => document.getElementById(id);

function newIdempotencyKey() {
  if (globalThis.crypto && typeof crypto.randomUUID === 'function') {
    return crypto.randomUUID();
  }
  // crypto.randomUUID only exists in secure contexts (https, localhost);
  // getRandomValues exists everywhere: build a version 4 UUID from it.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function utf8Length(s) {
  return new TextEncoder().encode(s).length;
}

function formatDate(iso) {
  if (typeof iso !== 'string') return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  });
}

/** Claims of a JWT (no verification: only used to show the user's name). */
function jwtClaims(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/* ----------------------------------------------------------------- session */

// The token lives in memory and in sessionStorage (so a reload of the tab keeps
// the user signed in); it is never put in a URL or a cookie.
let session = null; // { token, username, expiresAt }
let expiryTimer = null;

function saveSession(s) {
  session = s;
  try {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify(s));
  } catch { /* storage disabled: memory only */ }
  scheduleExpiry();
}

function loadSession() {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw);
    if (!s || typeof s.token !== 'string' || typeof s.expiresAt !== 'number') return null;
    if (s.expiresAt <= Date.now()) {
      sessionStorage.removeItem(SESSION_KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

function clearSession() {
  session = null;
  if (expiryTimer) clearTimeout(expiryTimer);
  expiryTimer = null;
  try {
    sessionStorage.removeItem(SESSION_KEY);
  } catch { /* ignore */ }
}

function scheduleExpiry() {
  if (expiryTimer) clearTimeout(expiryTimer);
  expiryTimer = null;
  if (!session) return;
  const ms = session.expiresAt - Date.now();
  // setTimeout cannot wait longer than ~24.8 days; tokens live minutes.
  expiryTimer = setTimeout(() => sessionExpired(), Math.max(0, Math.min(ms, 2147483000)));
}

/* --------------------------------------------------------------------- API */

class SessionExpired extends Error {}

/**
 * Call the API. Resolves to
 *   { ok, status, data, code, message, network, retryAfter }
 * and never rejects for HTTP or network failures. A 401 on an authenticated
 * call logs the user out and rejects with SessionExpired.
 */
async function api(method, path, { body, auth = true, idempotencyKey } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (auth) {
    if (!session) throw new SessionExpired();
    headers.Authorization = `Bearer ${session.token}`;
  }
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;

  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), REQUEST_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      redirect: 'error',
      signal: ctrl.signal,
    });
  } catch {
    return { ok: false, status: 0, network: true, code: 'network', message: '' };
  } finally {
    clearTimeout(timer);
  }

  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }

  if (res.status === 401 && auth) {
    sessionExpired();
    throw new SessionExpired();
  }

  const err = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : null;
  const retryAfter = Number.parseInt(res.headers.get('Retry-After') || '', 10);
  return {
    ok: res.ok,
    status: res.status,
    data,
    network: false,
    code: err && typeof err.code === 'string' ? err.code : (res.ok ? '' : `http_${res.status}`),
    message: err && typeof err.message === 'string' ? err.message : '',
    retryAfter: Number.isFinite(retryAfter) ? retryAfter : null,
  };
}

/* -------------------------------------------------------------------- fees */

// The service's transfer fee, from GET /fees: { fixed, bps } (BigInt), or
// null while it is unknown; the previews then show no fee. What a transfer
// was charged is always the "fee" the server answers with it.
let fees = null;

/** Reads GET /fees (public) into `fees`, then updates an open preview. */
async function loadFees() {
  let r;
  try {
    r = await api('GET', '/fees', { auth: false });
  } catch {
    return;
  }
  const d = r.ok && r.data && typeof r.data === 'object' ? r.data : null;
  const fixed = d ? apiCents(d.fixed) : null;
  if (fixed === null || fixed < 0n || !Number.isInteger(d.bps) || d.bps < 0 || d.bps > 10000) return;
  fees = { fixed, bps: BigInt(d.bps) };
  if (transferAttempt && !$('transfer-preview').hidden) showTransferSummary(transferAttempt.amount);
  if (batchAttempt && !$('batch-preview').hidden) showBatchSummary(batchAttempt.lines);
}

/* ------------------------------------------------------- errors as words */

const UNAVAILABLE = 'Service unavailable: the payment service cannot be reached right now. Please try again in a moment.';

/** Sentences for the failures that are the same for every form. */
function commonSentence(r) {
  if (r.network || r.status === 502 || r.status === 503 || r.status === 504 || r.code === 'unavailable') {
    return UNAVAILABLE;
  }
  if (r.status === 429 || r.code === 'rate_limited' || r.code === 'too_many_requests') {
    return r.retryAfter
      ? `Too many requests: you are being rate limited. Please wait ${r.retryAfter} seconds and try again.`
      : 'Too many requests: you are being rate limited. Please wait a moment and try again.';
  }
  if (r.status === 413) return 'That request is too large.';
  if (r.status >= 500) return `Something went wrong on our side (error ${r.status}). Please try again.`;
  return null;
}

/** Whether the outcome of a money-moving request is unknown (worth a retry with the same key). */
function outcomeUnknown(r) {
  return r.network || r.status >= 500 || r.status === 429 || r.code === 'request_in_progress';
}

function amountSentence() {
  return 'Enter an amount greater than 0 with at most two decimals, for example 10.50 (at most 1000000000.00).';
}

/* ------------------------------------------------------------ form helpers */

function showFieldError(inputId, text) {
  const input = $(inputId);
  const p = $(`${inputId}-error`);
  p.textContent = text;
  p.hidden = false;
  input.setAttribute('aria-invalid', 'true');
}

function showError(id, text) {
  const p = $(id);
  p.textContent = text;
  p.hidden = false;
}

function clearErrors(container) {
  for (const p of container.querySelectorAll('.field-error, .form-error')) {
    p.textContent = '';
    p.hidden = true;
  }
  for (const i of container.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
}

function focusFirstInvalid(container) {
  const el = container.querySelector('[aria-invalid="true"]');
  if (el) el.focus();
}

function setBusy(form, busy) {
  form.setAttribute('aria-busy', busy ? 'true' : 'false');
  for (const el of form.querySelectorAll('input, button')) el.disabled = busy;
}

let noticeTimer = null;
function notify(text, kind = 'info') {
  const n = $('notice');
  if (noticeTimer) clearTimeout(noticeTimer);
  noticeTimer = null;
  n.textContent = text;
  n.className = `notice notice-${kind}`;
  n.hidden = !text;
  if (text && kind === 'success') {
    noticeTimer = setTimeout(() => { n.hidden = true; }, 8000);
  }
}

/* ------------------------------------------------------------------- views */

function showAuth() {
  $('dashboard-view').hidden = true;
  $('session-bar').hidden = true;
  $('auth-view').hidden = false;
  $('current-user').textContent = '';
}

function showDashboard() {
  $('auth-view').hidden = true;
  $('dashboard-view').hidden = false;
  $('session-bar').hidden = false;
  $('current-user').textContent = session.username;
}

function resetDashboard() {
  $('balance-amount').textContent = '…';
  $('balance-amount').dataset.state = 'loading';
  $('balance-currency').textContent = '';
  $('history-list').replaceChildren();
  $('history-empty').hidden = true;
  $('holds-list').replaceChildren();
  $('holds-empty').hidden = true;
  $('balance-available').hidden = true;
  $('load-more-btn').hidden = true;
  $('topup-form').reset();
  $('transfer-form').reset();
  $('password-form').reset();
  hidePreview();
  transferAttempt = null;
  topupAttempt = null;
  clearErrors($('dashboard-view'));
  setBusy($('topup-form'), false);
  setBusy($('transfer-form'), false);
  setBusy($('password-form'), false);
  $('logout-all-btn').disabled = false;
  resetBatch();
  resetStatement();
}

function logout(message, kind = 'info') {
  clearSession();
  historyGeneration += 1;
  balanceGeneration += 1;
  holdsGeneration += 1;
  resetDashboard();
  showAuth();
  notify(message, kind);
  $('login-username').focus();
}

function sessionExpired() {
  if (!session) return;
  logout('Your session has expired. Please log in again.', 'error');
}

async function startSession(token, expiresIn, typedUsername) {
  const claims = jwtClaims(token);
  const seconds = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 900;
  // expires_in is relative, so a wrong clock on this computer does not matter.
  const expiresAt = Date.now() + seconds * 1000;
  const username = claims && typeof claims.name === 'string' ? claims.name : typedUsername;
  saveSession({ token, username, expiresAt });
  resetDashboard();
  showDashboard();
  $('balance-heading').focus();
  await refreshAll();
}

/* -------------------------------------------------------- balance, history */

let balanceGeneration = 0;

async function refreshBalance() {
  if (!session) return;
  const gen = ++balanceGeneration;
  const el = $('balance-amount');
  el.dataset.state = 'loading';
  let r;
  try {
    r = await api('GET', '/balance');
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  }
  if (gen !== balanceGeneration) return;
  const err = $('balance-error');
  if (r.ok && r.data && apiCents(r.data.balance) !== null) {
    el.textContent = formatCents(apiCents(r.data.balance));
    el.dataset.state = 'ready';
    // "available" beside the balance when holds reserve part of it.
    const avail = apiCents(r.data.available);
    const availEl = $('balance-available');
    availEl.hidden = avail === null || avail === apiCents(r.data.balance);
    availEl.textContent = avail === null ? '' : `Available: ${formatCents(avail)}`;
    $('balance-currency').textContent = typeof r.data.currency === 'string' ? r.data.currency : '';
    if (typeof r.data.username === 'string' && r.data.username) {
      session.username = r.data.username;
      $('current-user').textContent = r.data.username;
    }
    err.hidden = true;
    err.textContent = '';
  } else {
    el.dataset.state = 'error';
    showError('balance-error', commonSentence(r) || `Your balance could not be loaded (error ${r.status}).`);
  }
}

let historyGeneration = 0;
let nextBefore = null;

function txTitle(tx) {
  const who = typeof tx.counterparty === 'string' ? tx.counterparty : '';
  switch (tx.type) {
    case 'deposit': return 'Top-up';
    case 'transfer_out': return `Sent to ${who}`;
    case 'transfer_in': return `Received from ${who}`;
    case 'refund_out': return `Refunded to ${who}`;
    case 'refund_in': return `Refund from ${who}`;
    case 'reversal_out': return `Reversed: given back to ${who}`;
    case 'reversal_in': return `Reversed: paid back by ${who}`;
    default: return String(tx.type);
  }
}

function renderTx(tx) {
  const li = document.createElement('li');
  li.className = `tx tx-${String(tx.type).replace(/[^a-z_]/g, '')}`;
  li.dataset.id = String(tx.id);
  li.dataset.type = String(tx.type);

  const amount = apiCents(tx.amount);
  const fee = apiCents(tx.fee) ?? 0n;
  let signed = '';
  if (amount !== null) {
    if (tx.type === 'transfer_out') signed = `−${formatCents(amount + fee)}`;
    else if (tx.type === 'refund_out' || tx.type === 'reversal_out') signed = `−${formatCents(amount)}`;
    else if (tx.type === 'reversal_in') signed = `+${formatCents(amount + fee)}`;
    else signed = `+${formatCents(amount)}`;
  }

  const row = document.createElement('div');
  row.className = 'tx-row';
  const title = document.createElement('span');
  title.className = 'tx-title';
  title.textContent = txTitle(tx);
  const amt = document.createElement('span');
  amt.className = 'tx-amount';
  amt.textContent = signed;
  row.append(title, amt);

  const meta = document.createElement('div');
  meta.className = 'tx-meta';
  const parts = [`#${tx.id}`];
  if (tx.type === 'transfer_out' && amount !== null) parts.push(`${formatCents(amount)} + fee ${formatCents(fee)}`);
  if (tx.type === 'reversal_in' && amount !== null) parts.push(`${formatCents(amount)} + fee ${formatCents(fee)} back`);
  if (Number.isSafeInteger(tx.transfer_id)) parts.push(`of #${tx.transfer_id}`);
  if (apiCents(tx.balance_after) !== null) parts.push(`balance ${formatCents(apiCents(tx.balance_after))}`);
  const metaText = document.createElement('span');
  metaText.textContent = parts.join(' · ');
  const time = document.createElement('time');
  if (typeof tx.created_at === 'string') time.dateTime = tx.created_at;
  time.textContent = formatDate(tx.created_at);
  meta.append(metaText, time);

  li.append(row, meta);
  if (tx.type === 'transfer_in') li.append(refundControls(tx));
  return li;
}

async function loadHistory(reset) {
  if (!session) return;
  const gen = reset ? ++historyGeneration : historyGeneration;
  const list = $('history-list');
  const more = $('load-more-btn');
  const params = new URLSearchParams({ limit: String(HISTORY_PAGE) });
  if (!reset && nextBefore !== null) params.set('before', String(nextBefore));
  more.disabled = true;
  let r;
  try {
    r = await api('GET', `/transactions?${params}`);
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    more.disabled = false;
  }
  if (gen !== historyGeneration) return; // a newer refresh superseded this one
  const err = $('history-error');
  if (!r.ok || !r.data || !Array.isArray(r.data.transactions)) {
    showError('history-error', commonSentence(r) || `Your history could not be loaded (error ${r.status}).`);
    return;
  }
  err.hidden = true;
  err.textContent = '';
  const items = r.data.transactions.map(renderTx);
  if (reset) list.replaceChildren(...items);
  else list.append(...items);
  const nb = r.data.next_before;
  nextBefore = nb === null || nb === undefined ? null : nb;
  more.hidden = nextBefore === null;
  $('history-empty').hidden = list.children.length > 0;
}

async function refreshAll() {
  await Promise.all([refreshBalance(), loadHistory(true), loadHolds(), loadFees()]);
}

/* ------------------------------------------------------- refunds, holds */

/** A button with its text and class. */
function button(text, cls) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = cls;
  b.textContent = text;
  return b;
}

/** An amount input with an accessible name. */
function amountInput(label, cls) {
  const i = document.createElement('input');
  i.type = 'text';
  i.inputMode = 'decimal';
  i.autocomplete = 'off';
  i.maxLength = 20;
  i.className = cls;
  i.setAttribute('aria-label', label);
  return i;
}

/** Sentence for a refused refund, capture or void. */
function moneyActionSentence(r) {
  switch (r.code) {
    case 'refund_exceeds_transfer': return 'That is more than is left to refund of this payment.';
    case 'insufficient_funds': return 'Your available balance does not cover this.';
    case 'invalid_amount': return r.status === 422 ? 'That is more than the hold.' : amountSentence();
    case 'hold_not_pending': return 'This hold was already captured or voided.';
    case 'hold_expired': return 'This hold has expired.';
    case 'limit_exceeded': return 'This would take a balance over the maximum, so nothing was moved.';
    default: return commonSentence(r) || r.message || `It failed (error ${r.status}).`;
  }
}

/**
 * "Refund" on a received payment: asks the server what is left to refund
 * (GET /transfers/{id}), offers it as the amount, and sends the refund with
 * one Idempotency-Key per attempt.
 */
function refundControls(tx) {
  const box = document.createElement('div');
  box.className = 'tx-actions';
  const open = button('Refund', 'btn btn-secondary btn-small refund-btn');
  const input = amountInput(`Amount to refund of #${tx.id}`, 'refund-amount');
  const send = button('Confirm refund', 'btn btn-small refund-confirm');
  const err = document.createElement('p');
  err.className = 'form-error';
  err.setAttribute('role', 'alert');
  input.hidden = true;
  send.hidden = true;
  err.hidden = true;
  let key = null;
  open.addEventListener('click', async () => {
    let r;
    try {
      r = await api('GET', `/transfers/${encodeURIComponent(tx.id)}`);
    } catch (e) {
      if (e instanceof SessionExpired) return;
      throw e;
    }
    const amount = r.ok && r.data ? apiCents(r.data.amount) : null;
    const refunded = r.ok && r.data ? apiCents(r.data.refunded) : null;
    if (amount === null || refunded === null) {
      err.textContent = moneyActionSentence(r);
      err.hidden = false;
      return;
    }
    input.value = formatCents(amount - refunded);
    input.hidden = false;
    send.hidden = false;
    key = newIdempotencyKey();
    input.focus();
  });
  input.addEventListener('input', () => { key = newIdempotencyKey(); });
  send.addEventListener('click', async () => {
    const cents = parseCents(input.value);
    err.hidden = true;
    if (cents === null || cents <= 0n || cents > MAX_AMOUNT_CENTS) {
      err.textContent = amountSentence();
      err.hidden = false;
      return;
    }
    send.disabled = true;
    let r;
    try {
      r = await api('POST', `/transfers/${encodeURIComponent(tx.id)}/refund`, {
        body: { amount: formatCents(cents) },
        idempotencyKey: key,
      });
    } catch (e) {
      if (e instanceof SessionExpired) return;
      throw e;
    } finally {
      send.disabled = false;
    }
    if (r.ok) {
      notify(`Refunded ${formatCents(cents)} to ${tx.counterparty}.`, 'success');
      await refreshAll();
    } else {
      if (!outcomeUnknown(r)) key = newIdempotencyKey();
      err.textContent = moneyActionSentence(r);
      err.hidden = false;
    }
  });
  box.append(open, input, send, err);
  return box;
}

const HOLD_STATUS_ORDER = { pending: 0, captured: 1, voided: 2, expired: 3 };

/** One hold: who, how much, its status; capture and void for its recipient. */
function renderHold(h) {
  const li = document.createElement('li');
  li.className = `tx hold hold-${String(h.status).replace(/[^a-z]/g, '')}`;
  li.dataset.id = String(h.id);
  li.dataset.status = String(h.status);
  const mine = session && typeof h.to === 'string' && h.to.toLowerCase() === session.username.toLowerCase();
  const row = document.createElement('div');
  row.className = 'tx-row';
  const title = document.createElement('span');
  title.className = 'tx-title';
  title.textContent = mine ? `Hold from ${h.from}` : `Hold for ${h.to}`;
  const amt = document.createElement('span');
  amt.className = 'tx-amount';
  const amount = apiCents(h.amount);
  amt.textContent = amount === null ? '' : formatCents(amount);
  row.append(title, amt);
  const meta = document.createElement('div');
  meta.className = 'tx-meta';
  const parts = [`#${h.id}`, String(h.status)];
  if (h.status === 'captured' && apiCents(h.captured) !== null) parts.push(`captured ${formatCents(apiCents(h.captured))}`);
  if (h.status === 'pending') parts.push(`expires ${formatDate(h.expires_at)}`);
  const metaText = document.createElement('span');
  metaText.className = 'hold-status';
  metaText.textContent = parts.join(' · ');
  meta.append(metaText);
  li.append(row, meta);
  if (mine && h.status === 'pending') li.append(holdControls(h));
  return li;
}

/** Capture (with an amount, default the whole hold) and void. */
function holdControls(h) {
  const box = document.createElement('div');
  box.className = 'tx-actions';
  const input = amountInput(`Amount to capture of hold #${h.id}`, 'capture-amount');
  input.value = typeof h.amount === 'string' ? h.amount : '';
  const capture = button('Capture', 'btn btn-small capture-btn');
  const voidBtn = button('Void', 'btn btn-secondary btn-small void-btn');
  const err = document.createElement('p');
  err.className = 'form-error';
  err.setAttribute('role', 'alert');
  err.hidden = true;
  // One key per action and amount: a retry after an unknown outcome repeats it.
  const keys = new Map();
  const keyFor = (what) => {
    if (!keys.has(what)) keys.set(what, newIdempotencyKey());
    return keys.get(what);
  };
  async function act(what, body) {
    capture.disabled = true;
    voidBtn.disabled = true;
    err.hidden = true;
    const tag = `${what}:${body ? body.amount : ''}`;
    let r;
    try {
      r = await api('POST', `/holds/${encodeURIComponent(h.id)}/${what}`, { body, idempotencyKey: keyFor(tag) });
    } catch (e) {
      if (e instanceof SessionExpired) return;
      throw e;
    } finally {
      capture.disabled = false;
      voidBtn.disabled = false;
    }
    if (!outcomeUnknown(r)) keys.delete(tag);
    if (r.ok) {
      notify(what === 'capture' ? `Captured ${body.amount} from ${h.from}.` : `Voided the hold of ${h.from}.`, 'success');
      await refreshAll();
    } else {
      err.textContent = moneyActionSentence(r);
      err.hidden = false;
    }
  }
  capture.addEventListener('click', () => {
    const cents = parseCents(input.value);
    if (cents === null || cents <= 0n || cents > MAX_AMOUNT_CENTS) {
      err.textContent = amountSentence();
      err.hidden = false;
      return;
    }
    act('capture', { amount: formatCents(cents) });
  });
  voidBtn.addEventListener('click', () => { act('void', undefined); });
  box.append(input, capture, voidBtn, err);
  return box;
}

let holdsGeneration = 0;

/** The caller's latest holds, pending first, newest first within each. */
async function loadHolds() {
  if (!session) return;
  const gen = ++holdsGeneration;
  let r;
  try {
    r = await api('GET', '/holds?limit=50');
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  }
  if (gen !== holdsGeneration) return;
  if (!r.ok || !r.data || !Array.isArray(r.data.holds)) {
    showError('holds-error', commonSentence(r) || `Your holds could not be loaded (error ${r.status}).`);
    return;
  }
  $('holds-error').hidden = true;
  const holds = r.data.holds.slice().sort((a, b) =>
    (HOLD_STATUS_ORDER[a.status] ?? 9) - (HOLD_STATUS_ORDER[b.status] ?? 9) || b.id - a.id);
  $('holds-list').replaceChildren(...holds.map(renderHold));
  $('holds-empty').hidden = holds.length > 0;
}

/* ------------------------------------------------------------ auth forms */

function validateCredentials(prefix, username, password, registering) {
  let ok = true;
  if (!username) {
    showFieldError(`${prefix}-username`, 'Enter your username.');
    ok = false;
  } else if (registering && !USERNAME_RE.test(username)) {
    showFieldError(`${prefix}-username`,
      'A username must be 3 to 32 characters long and use only letters, digits, underscores, dots and hyphens.');
    ok = false;
  }
  if (!password) {
    showFieldError(`${prefix}-password`, 'Enter your password.');
    ok = false;
  } else if (registering && (utf8Length(password) < 8 || utf8Length(password) > 128)) {
    showFieldError(`${prefix}-password`, 'A password must be 8 to 128 characters long.');
    ok = false;
  }
  return ok;
}

async function login(username, password, prefix) {
  const r = await api('POST', '/login', { body: { username, password }, auth: false });
  if (r.ok && r.data && typeof r.data.token === 'string') {
    $(`${prefix}-form`).reset();
    await startSession(r.data.token, r.data.expires_in, username);
    return true;
  }
  if (r.code === 'invalid_credentials' || r.status === 401) {
    showFieldError(`${prefix}-password`, 'The username or password is wrong. Check both and try again.');
  } else {
    showError(`${prefix}-form-error`, commonSentence(r) || r.message || `Logging in failed (error ${r.status}).`);
  }
  return false;
}

async function onLogin(ev) {
  ev.preventDefault();
  const form = $('login-form');
  clearErrors(form);
  notify('');
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  if (!validateCredentials('login', username, password, false)) {
    focusFirstInvalid(form);
    return;
  }
  setBusy(form, true);
  let ok = false;
  try {
    ok = await login(username, password, 'login');
  } finally {
    setBusy(form, false);
  }
  if (!ok) focusFirstInvalid(form);
}

async function onRegister(ev) {
  ev.preventDefault();
  const form = $('register-form');
  clearErrors(form);
  notify('');
  const username = $('register-username').value.trim();
  const password = $('register-password').value;
  if (!validateCredentials('register', username, password, true)) {
    focusFirstInvalid(form);
    return;
  }
  setBusy(form, true);
  let ok = false;
  try {
    const r = await api('POST', '/register', { body: { username, password }, auth: false });
    if (r.ok) {
      ok = await login(username, password, 'register');
      if (ok) notify(`Welcome, ${session.username}! Your account has been created.`, 'success');
    } else if (r.code === 'username_taken' || r.status === 409) {
      showFieldError('register-username', `The username “${username}” is already taken. Please choose another one.`);
    } else if (r.code === 'invalid_request') {
      if (/password/i.test(r.message)) {
        showFieldError('register-password', 'A password must be 8 to 128 characters long.');
      } else {
        showFieldError('register-username',
          'A username must be 3 to 32 characters long and use only letters, digits, underscores, dots and hyphens.');
      }
    } else {
      showError('register-form-error', commonSentence(r) || r.message || `Creating the account failed (error ${r.status}).`);
    }
  } finally {
    setBusy(form, false);
  }
  if (!ok) focusFirstInvalid(form);
}

/* -------------------------------------------------------------- security */

// Both end every session of the account on the server (the token
// generation rises): the page then forgets its token and asks to log in.

function passwordErrors(current, next) {
  let ok = true;
  if (!current) {
    showFieldError('password-current', 'Enter your current password.');
    ok = false;
  }
  if (utf8Length(next) < 8 || utf8Length(next) > 128) {
    showFieldError('password-new', 'A password must be 8 to 128 characters long.');
    ok = false;
  }
  return ok;
}

async function onPasswordChange(ev) {
  ev.preventDefault();
  if (!session) return;
  const form = $('password-form');
  clearErrors(form);
  notify('');
  const current = $('password-current').value;
  const next = $('password-new').value;
  if (!passwordErrors(current, next)) {
    focusFirstInvalid(form);
    return;
  }
  setBusy(form, true);
  let r = null;
  try {
    r = await api('POST', '/password', { body: { password: current, new_password: next } });
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    setBusy(form, false);
  }
  if (r.ok) {
    form.reset();
    logout('Your password has been changed and every device has been logged out. Please log in again with your new password.', 'success');
    return;
  }
  if (r.code === 'invalid_credentials' || r.status === 403) {
    showFieldError('password-current', 'The current password is wrong. Nothing was changed.');
  } else if (r.code === 'invalid_request') {
    showFieldError('password-new', 'A password must be 8 to 128 characters long.');
  } else {
    showError('password-form-error', commonSentence(r) || r.message || `Changing the password failed (error ${r.status}).`);
  }
  focusFirstInvalid(form);
}

async function onLogoutAll() {
  if (!session) return;
  const btn = $('logout-all-btn');
  $('logout-all-error').hidden = true;
  btn.disabled = true;
  let r = null;
  try {
    r = await api('POST', '/logout');
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    btn.disabled = false;
  }
  if (r.ok) {
    logout('You have been logged out on every device. Please log in again.', 'success');
    return;
  }
  showError('logout-all-error', commonSentence(r) || r.message || `Logging out everywhere failed (error ${r.status}).`);
}

/* ---------------------------------------------------------------- top-up */

// One attempt = one confirmed submission of a given amount. Its Idempotency-Key
// is kept while the outcome is unknown (network failure, 5xx, 429), so that
// submitting the same amount again retries the same attempt and cannot pay twice.
let topupAttempt = null; // { amount: BigInt, key }
let topupInFlight = false;

async function onTopup(ev) {
  ev.preventDefault();
  if (topupInFlight || !session) return;
  const form = $('topup-form');
  clearErrors(form);
  const cents = parseCents($('topup-amount').value);
  if (cents === null || cents <= 0n || cents > MAX_AMOUNT_CENTS) {
    showFieldError('topup-amount', amountSentence());
    focusFirstInvalid(form);
    return;
  }
  if (!topupAttempt || topupAttempt.amount !== cents) {
    topupAttempt = { amount: cents, key: newIdempotencyKey() };
  }
  const attempt = topupAttempt;
  topupInFlight = true;
  setBusy(form, true);
  let r = null;
  try {
    r = await api('POST', '/balance', { body: { amount: formatCents(cents) }, idempotencyKey: attempt.key });
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    topupInFlight = false;
    setBusy(form, false);
  }
  if (r.ok) {
    topupAttempt = null;
    form.reset();
    notify(`Added ${formatCents(cents)} to your balance.`, 'success');
  } else {
    if (!outcomeUnknown(r)) topupAttempt = null;
    if (r.code === 'invalid_amount' || (r.code === 'invalid_request' && /amount/i.test(r.message))) {
      showFieldError('topup-amount', amountSentence());
    } else if (r.code === 'limit_exceeded') {
      showFieldError('topup-amount', 'This top-up would take your balance over the maximum of 10000000000000.00, so it was not made.');
    } else if (r.code === 'idempotency_key_reused') {
      showError('topup-form-error', 'This attempt was already used for a different amount. Please submit again.');
    } else if (r.code === 'request_in_progress') {
      showError('topup-form-error', 'Your previous top-up is still being processed. Wait a moment and submit again.');
    } else {
      showError('topup-form-error', commonSentence(r) || r.message || `The top-up failed (error ${r.status}).`);
    }
    focusFirstInvalid(form);
  }
  await refreshAll();
}

/* -------------------------------------------------------------- transfer */

let transferAttempt = null; // { to, amount: BigInt, key }
let transferInFlight = false;

function hidePreview() {
  $('transfer-preview').hidden = true;
  $('confirm-btn').textContent = 'Confirm and send';
}

function onReview(ev) {
  ev.preventDefault();
  if (transferInFlight || !session) return;
  const form = $('transfer-form');
  clearErrors($('transfer-preview').parentElement);
  hidePreview();
  const to = $('transfer-to').value.trim();
  const cents = parseCents($('transfer-amount').value);
  let ok = true;
  if (!to) {
    showFieldError('transfer-to', 'Enter the username of the person you want to pay.');
    ok = false;
  } else if (to.toLowerCase() === session.username.toLowerCase()) {
    showFieldError('transfer-to', 'You cannot send money to yourself.');
    ok = false;
  }
  if (cents === null || cents <= 0n || cents > MAX_AMOUNT_CENTS) {
    showFieldError('transfer-amount', amountSentence());
    ok = false;
  }
  if (!ok) {
    focusFirstInvalid(form);
    return;
  }
  // A new attempt (new key) unless the previous one, for the same payment, is unresolved.
  if (!transferAttempt || transferAttempt.to !== to || transferAttempt.amount !== cents) {
    transferAttempt = { to, amount: cents, key: newIdempotencyKey() };
  }
  showTransferSummary(cents);
  if (!fees) loadFees();
  $('preview-recipient').textContent = `${to} receives ${formatCents(cents)}.`;
  $('confirm-btn').textContent = 'Confirm and send';
  $('transfer-preview').hidden = false;
  $('confirm-btn').focus();
}

/** "You send 10.00 + fee 0.75 = 10.75", with the fee of GET /fees if known. */
function showTransferSummary(cents) {
  $('preview-summary').textContent = fees
    ? `You send ${formatCents(cents)} + fee ${formatCents(feeCents(cents, fees))} = ${formatCents(cents + feeCents(cents, fees))}`
    : `You send ${formatCents(cents)} + the service's fee (shown once sent)`;
}

function transferFieldsChanged() {
  // Editing the payment cancels the preview; the attempt (and its key) is only
  // reused if the same payment is reviewed again.
  if (!transferInFlight) hidePreview();
}

function onCancel() {
  if (transferInFlight) return;
  hidePreview();
  $('transfer-amount').focus();
}

async function onConfirm() {
  if (transferInFlight || !session || !transferAttempt) return;
  const attempt = transferAttempt;
  const form = $('transfer-form');
  const confirmBtn = $('confirm-btn');
  transferInFlight = true;
  // Disabled synchronously, in the click handler: a double-click sends once.
  confirmBtn.disabled = true;
  $('cancel-btn').disabled = true;
  setBusy(form, true);
  confirmBtn.textContent = 'Sending…';
  clearErrors($('transfer-preview').parentElement);

  let r = null;
  try {
    r = await api('POST', '/transfer', {
      body: { to: attempt.to, amount: formatCents(attempt.amount) },
      idempotencyKey: attempt.key,
    });
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    transferInFlight = false;
    confirmBtn.disabled = false;
    $('cancel-btn').disabled = false;
    setBusy(form, false);
    confirmBtn.textContent = 'Confirm and send';
  }

  if (r.ok) {
    transferAttempt = null;
    form.reset();
    hidePreview();
    const fee = r.data ? apiCents(r.data.fee) : null;
    notify(`Sent ${formatCents(attempt.amount)} to ${attempt.to}${fee === null ? '' : ` (fee ${formatCents(fee)})`}.`, 'success');
    $('transfer-to').focus();
  } else if (outcomeUnknown(r)) {
    // Keep the attempt and its key: "Retry" repeats the same request, and the
    // server answers a repeat with the first result instead of paying twice.
    confirmBtn.textContent = 'Retry send';
    const text = r.code === 'request_in_progress'
      ? 'This payment is still being processed. Wait a moment, then press “Retry send”: it will not be charged twice.'
      : `${commonSentence(r)} Pressing “Retry send” repeats this same payment; it will not be charged twice.`;
    showError('transfer-form-error', text);
    confirmBtn.focus();
  } else {
    transferAttempt = null;
    hidePreview();
    transferError(r, attempt);
    focusFirstInvalid(form);
  }
  await refreshAll();
}

function transferError(r, attempt) {
  const amount = formatCents(attempt.amount);
  switch (r.code) {
    case 'insufficient_funds':
      showFieldError('transfer-amount', fees
        ? `Insufficient funds: sending ${amount} costs ${formatCents(attempt.amount + feeCents(attempt.amount, fees))} with the fee, which is more than your balance.`
        : `Insufficient funds: sending ${amount} with its fee costs more than your balance.`);
      return;
    case 'recipient_not_found':
      showFieldError('transfer-to', `There is no user called “${attempt.to}”. Check the username.`);
      return;
    case 'invalid_amount':
      showFieldError('transfer-amount', amountSentence());
      return;
    case 'limit_exceeded':
      showFieldError('transfer-amount', 'This transfer would take the recipient over the maximum balance, so it was not made.');
      return;
    case 'idempotency_key_reused':
      showError('transfer-form-error', 'This attempt was already used for a different payment. Please review and send again.');
      $('transfer-preview').hidden = false;
      return;
    case 'invalid_request':
      if (/yourself|self|same/i.test(r.message)) {
        showFieldError('transfer-to', 'You cannot send money to yourself.');
      } else if (/amount/i.test(r.message)) {
        showFieldError('transfer-amount', amountSentence());
      } else {
        showFieldError('transfer-to', `“${attempt.to}” is not a valid username. Check the recipient.`);
      }
      return;
    default:
      if (r.status === 404) {
        showFieldError('transfer-to', `There is no user called “${attempt.to}”. Check the username.`);
      } else {
        showFieldError('transfer-amount', commonSentence(r) || r.message || `The transfer failed (error ${r.status}).`);
      }
  }
}

/* ------------------------------------------------------------- pay many */

// One batch is one attempt with one Idempotency-Key, like a single payment:
// "Retry" after an unknown outcome repeats the same key and body.
let batchAttempt = null; // { lines: [{ line, to, amount }], atomic, key, text }
let batchInFlight = false;

/** Fields of one CSV line (RFC 4180 quotes allowed), or null. */
function csvFields(line) {
  const out = [];
  let i = 0;
  while (i <= line.length) {
    let f = '';
    if (line[i] === '"') {
      i += 1;
      for (;;) {
        if (i >= line.length) return null;
        if (line[i] === '"' && line[i + 1] === '"') { f += '"'; i += 2; continue; }
        if (line[i] === '"') { i += 1; break; }
        f += line[i];
        i += 1;
      }
      if (i < line.length && line[i] !== ',') return null;
    } else {
      const j = line.indexOf(',', i);
      f = j < 0 ? line.slice(i) : line.slice(i, j);
      i = j < 0 ? line.length : j;
    }
    out.push(f.trim());
    i += 1;
  }
  return out;
}

/**
 * The payments of the text: one "name,amount" a line, blank lines skipped,
 * a first line "name,amount" (a header) too. Returns { lines, errors }.
 */
export function parseBatch(text) {
  const lines = [];
  const errors = [];
  String(text).split(/\r\n|\n|\r/).forEach((raw, i) => {
    if (!raw.trim()) return;
    const f = csvFields(raw);
    if (i === 0 && f && f.length === 2 && /^(name|to|username)$/i.test(f[0]) && /^amount$/i.test(f[1])) return;
    const cents = f && f.length === 2 ? parseCents(f[1]) : null;
    if (!f || f.length !== 2 || !USERNAME_RE.test(f[0])) {
      errors.push(`Line ${i + 1}: write a username, a comma and an amount.`);
    } else if (cents === null || cents <= 0n || cents > MAX_AMOUNT_CENTS) {
      errors.push(`Line ${i + 1}: ${amountSentence()}`);
    } else if (session && f[0].toLowerCase() === session.username.toLowerCase()) {
      errors.push(`Line ${i + 1}: you cannot send money to yourself.`);
    } else {
      lines.push({ line: i + 1, to: f[0], amount: cents });
    }
  });
  return { lines, errors };
}

function hideBatchPreview() {
  $('batch-preview').hidden = true;
  $('batch-confirm-btn').textContent = 'Confirm and send all';
}

function resetBatch() {
  hideBatchPreview();
  batchAttempt = null;
  $('batch-form').reset();
  $('batch-results').replaceChildren();
  $('batch-results').hidden = true;
  setBusy($('batch-form'), false);
}

function onBatchReview(ev) {
  ev.preventDefault();
  if (batchInFlight || !session) return;
  const form = $('batch-form');
  clearErrors(form.parentElement);
  hideBatchPreview();
  const text = $('batch-lines').value;
  const { lines, errors } = parseBatch(text);
  if (errors.length === 0 && lines.length === 0) errors.push('Enter at least one payment.');
  if (lines.length > BATCH_MAX) errors.push(`At most ${BATCH_MAX} payments at once.`);
  if (errors.length) {
    showFieldError('batch-lines', errors.slice(0, 5).join(' '));
    focusFirstInvalid(form);
    return;
  }
  const atomic = $('batch-atomic').checked;
  if (!batchAttempt || batchAttempt.text !== text || batchAttempt.atomic !== atomic) {
    batchAttempt = { lines, atomic, text, key: newIdempotencyKey() };
  }
  showBatchSummary(lines);
  if (!fees) loadFees();
  $('batch-preview').hidden = false;
  $('batch-confirm-btn').focus();
}

/** "2 payments: you send 1.50 + fees 1.50 = 3.00", each line's fee its own. */
function showBatchSummary(lines) {
  const total = lines.reduce((a, l) => a + l.amount, 0n);
  const head = `${lines.length} payment${lines.length === 1 ? '' : 's'}: you send ${formatCents(total)}`;
  if (!fees) {
    $('batch-summary').textContent = `${head} + the service's fees (shown once sent)`;
    return;
  }
  const sum = lines.reduce((a, l) => a + feeCents(l.amount, fees), 0n);
  $('batch-summary').textContent = `${head} + fees ${formatCents(sum)} = ${formatCents(total + sum)}`;
}

function onBatchFile() {
  const file = $('batch-file').files[0];
  if (!file) return;
  // 1000 lines of at most ~50 bytes: anything far larger is not a payment list.
  if (file.size > 256 * 1024) {
    showFieldError('batch-lines', 'That file is too large for one batch (at most 1000 lines).');
    return;
  }
  file.text().then((t) => {
    $('batch-lines').value = t;
    hideBatchPreview();
  });
}

/** One line of the results list. */
function batchResult(line, ok, text) {
  const li = document.createElement('li');
  li.className = ok ? 'batch-ok' : 'batch-failed';
  li.dataset.line = String(line.line);
  li.textContent = `Line ${line.line}: ${line.to} ${formatCents(line.amount)}: ${text}`;
  return li;
}

function itemSentence(code, line) {
  switch (code) {
    case 'recipient_not_found': return `there is no user called “${line.to}”.`;
    case 'insufficient_funds': return 'not enough money left for this one and its fee.';
    case 'limit_exceeded': return 'the recipient would go over the maximum balance.';
    case 'invalid_amount': return amountSentence();
    default: return 'refused.';
  }
}

/** Per-line results of a batch answer. */
function showBatchResults(attempt, r) {
  const list = $('batch-results');
  const items = [];
  if (r.ok && Array.isArray(r.data && r.data.transfers)) {
    r.data.transfers.forEach((t, i) => items.push(batchResult(attempt.lines[i], true, `sent (fee ${t.fee}).`)));
  } else if (r.ok && Array.isArray(r.data && r.data.results)) {
    for (const res of r.data.results) {
      const line = attempt.lines[res.index];
      if (!line) continue;
      items.push(res.status === 201
        ? batchResult(line, true, `sent (fee ${res.transfer.fee}).`)
        : batchResult(line, false, itemSentence(res.error && res.error.code, line)));
    }
  } else if (r.data && r.data.error && Array.isArray(r.data.error.items)) {
    for (const it of r.data.error.items) {
      const line = attempt.lines[it.index];
      if (line) items.push(batchResult(line, false, itemSentence(it.code, line)));
    }
  }
  list.replaceChildren(...items);
  list.hidden = items.length === 0;
}

async function onBatchConfirm() {
  if (batchInFlight || !session || !batchAttempt) return;
  const attempt = batchAttempt;
  const form = $('batch-form');
  const btn = $('batch-confirm-btn');
  batchInFlight = true;
  btn.disabled = true;
  $('batch-cancel-btn').disabled = true;
  setBusy(form, true);
  btn.textContent = 'Sending…';
  clearErrors(form.parentElement);
  let r = null;
  try {
    r = await api('POST', '/transfers/batch', {
      body: {
        atomic: attempt.atomic,
        transfers: attempt.lines.map((l) => ({ to: l.to, amount: formatCents(l.amount) })),
      },
      idempotencyKey: attempt.key,
    });
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    batchInFlight = false;
    btn.disabled = false;
    $('batch-cancel-btn').disabled = false;
    setBusy(form, false);
    btn.textContent = 'Confirm and send all';
  }
  if (outcomeUnknown(r)) {
    btn.textContent = 'Retry send all';
    showError('batch-form-error',
      `${commonSentence(r) || 'The outcome is unknown.'} Pressing “Retry send all” repeats these same payments; none will be made twice.`);
    btn.focus();
  } else {
    batchAttempt = null;
    hideBatchPreview();
    showBatchResults(attempt, r);
    if (r.ok) {
      const sent = (r.data.transfers || r.data.results.filter((x) => x.status === 201)).length;
      notify(`Sent ${sent} of ${attempt.lines.length} payments.`, 'success');
    } else if (r.code === 'batch_rejected') {
      showError('batch-form-error', 'Nothing was sent: the payments listed below were refused.');
    } else {
      showError('batch-form-error', commonSentence(r) || r.message || `The payments failed (error ${r.status}).`);
    }
  }
  await refreshAll();
}

/* ------------------------------------------------------------- statement */

let statementUrl = null; // the CSV download's object URL

function resetStatement() {
  $('statement-form').reset();
  $('statement-view').hidden = true;
  $('statement-list').replaceChildren();
  if (statementUrl) URL.revokeObjectURL(statementUrl);
  statementUrl = null;
  $('statement-csv').hidden = true;
}

/** "2026-11-26" (a date input's value) + days -> "2026-11-27T00:00:00Z". */
function dayStart(date, days = 0) {
  const d = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return null;
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

async function onStatement(ev) {
  ev.preventDefault();
  if (!session) return;
  const form = $('statement-form');
  clearErrors(form);
  const from = dayStart($('statement-from').value);
  const to = dayStart($('statement-to').value, 1);
  if (!from) showFieldError('statement-from', 'Pick the first day.');
  if (!to) showFieldError('statement-to', 'Pick the last day.');
  if (from && to && from >= to) showFieldError('statement-to', 'The last day cannot come before the first.');
  if (!from || !to || from >= to) {
    focusFirstInvalid(form);
    return;
  }
  const query = `/statement?${new URLSearchParams({ from, to })}`;
  setBusy(form, true);
  let r;
  try {
    r = await api('GET', query);
  } catch (e) {
    if (e instanceof SessionExpired) return;
    throw e;
  } finally {
    setBusy(form, false);
  }
  if (!r.ok) {
    const text = r.code === 'range_too_large'
      ? 'That period has more than 10000 entries: pick a shorter one.'
      : r.code === 'invalid_request' ? 'Pick at most 366 days.' : (commonSentence(r) || r.message);
    showError('statement-form-error', text);
    return;
  }
  const d = r.data;
  $('statement-opening').textContent = d.opening_balance;
  $('statement-in').textContent = d.total_in;
  $('statement-out').textContent = d.total_out;
  $('statement-fees').textContent = d.total_fees;
  $('statement-closing').textContent = d.closing_balance;
  $('statement-list').replaceChildren(...d.entries.map(renderTx));
  $('statement-view').hidden = false;
  await statementCsv(query, from, to);
}

/** Fetches the same statement as CSV and offers it as a download. */
async function statementCsv(query, from, to) {
  const link = $('statement-csv');
  link.hidden = true;
  if (statementUrl) URL.revokeObjectURL(statementUrl);
  statementUrl = null;
  let res;
  try {
    res = await fetch(query, {
      headers: { Accept: 'text/csv', Authorization: `Bearer ${session.token}` },
      credentials: 'omit', cache: 'no-store', redirect: 'error',
    });
  } catch {
    return;
  }
  if (!res.ok) return;
  const text = await res.text();
  statementUrl = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  link.href = statementUrl;
  link.download = `statement-${from.slice(0, 10)}-${to.slice(0, 10)}.csv`;
  link.hidden = false;
}

/* ------------------------------------------------------------------ wiring */

function init() {
  $('login-form').addEventListener('submit', onLogin);
  $('register-form').addEventListener('submit', onRegister);
  $('logout-btn').addEventListener('click', () => logout('You have been logged out.'));
  $('refresh-btn').addEventListener('click', () => { refreshAll(); });
  $('topup-form').addEventListener('submit', onTopup);
  $('transfer-form').addEventListener('submit', onReview);
  $('transfer-to').addEventListener('input', transferFieldsChanged);
  $('transfer-amount').addEventListener('input', transferFieldsChanged);
  $('confirm-btn').addEventListener('click', onConfirm);
  $('cancel-btn').addEventListener('click', onCancel);
  $('load-more-btn').addEventListener('click', () => { loadHistory(false); });
  $('password-form').addEventListener('submit', onPasswordChange);
  $('logout-all-btn').addEventListener('click', () => { onLogoutAll(); });
  $('batch-form').addEventListener('submit', onBatchReview);
  $('batch-file').addEventListener('change', onBatchFile);
  $('batch-lines').addEventListener('input', () => { if (!batchInFlight) hideBatchPreview(); });
  $('batch-atomic').addEventListener('change', () => { if (!batchInFlight) hideBatchPreview(); });
  $('batch-confirm-btn').addEventListener('click', onBatchConfirm);
  $('batch-cancel-btn').addEventListener('click', () => { if (!batchInFlight) hideBatchPreview(); });
  $('statement-form').addEventListener('submit', onStatement);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && !$('transfer-preview').hidden) onCancel();
  });

  loadFees();
  const restored = loadSession();
  if (restored) {
    session = restored;
    scheduleExpiry();
    showDashboard();
    refreshAll();
  } else {
    showAuth();
  }
  document.documentElement.dataset.ready = 'true';
}

init();
