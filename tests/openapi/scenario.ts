// A short scenario through the client generated from docs/openapi.yaml
// (openapi-typescript's types, openapi-fetch's calls): register, log in,
// top up, the fee, transfer, a refund, history, with both token schemes and one
// refusal.
// tsc checks every call against the generated types before it runs.
//
//   PAYD_URL=http://127.0.0.1:8080 [PAYD_RECORD=file] node gen/out/scenario.js
import fs from 'node:fs';
import { randomBytes, randomUUID } from 'node:crypto';
import createClient from 'openapi-fetch';
import type { paths } from './gen/payd.js';

const baseUrl = process.env.PAYD_URL || '';
if (!baseUrl) {
  console.error('PAYD_URL must be set');
  process.exit(2);
}

// Each answer is recorded for tests/openapi/check.mjs, like the suites'.
async function recordingFetch(req: Request): Promise<Response> {
  const method = req.method;
  const res = await fetch(req);
  const file = process.env.PAYD_RECORD;
  if (file) {
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => {
      headers[k] = v;
    });
    const u = new URL(req.url);
    const body = await res.clone().text();
    fs.appendFileSync(file, `${JSON.stringify({
      source: 'generated-client', method, path: u.pathname + u.search, status: res.status, headers, body,
    })}\n`);
  }
  return res;
}

const api = createClient<paths>({ baseUrl, fetch: recordingFetch });

let failed = 0;
function check(what: string, ok: boolean, detail: unknown): void {
  console.log(`${ok ? 'ok  ' : 'FAIL'} - ${what}${ok ? '' : `: ${JSON.stringify(detail)}`}`);
  if (!ok) failed++;
}

const suffix = randomBytes(4).toString('hex');
const alice = { username: `oa_alice_${suffix}`, password: 'correct horse' };
const bob = { username: `oa_bob_${suffix}`, password: 'battery staple' };

for (const who of [alice, bob]) {
  const { data, response } = await api.POST('/register', { body: who });
  check(`register ${who.username}`, response.status === 201 && data?.username === who.username && data.balance === '0.00', data);
}

const { data: login, response: loginRes } = await api.POST('/login', { body: alice });
check('log in', loginRes.status === 200 && login?.token_type === 'Bearer', login);
const token = login?.token ?? '';
const bearer = { Authorization: `Bearer ${token}` };

const key = randomUUID();
const topUps: Array<[string, string | null]> = [
  ['top up 10.00', null],
  ['the same top-up again: replayed, not added', 'true'],
];
for (const [attempt, replayed] of topUps) {
  const { data, response } = await api.POST('/balance', {
    params: { header: { 'Idempotency-Key': key } },
    headers: bearer,
    body: { amount: '10.00' },
  });
  const header = response.headers.get('Idempotent-Replayed');
  check(attempt, response.status === 200 && data?.balance === '10.00' && header === replayed, { data, header });
}

// The fee a transfer will pay, as a client previews it (public, no token).
const { data: fees, response: feesRes } = await api.GET('/fees');
check('the fee: GET /fees', feesRes.status === 200 && fees?.fixed === '0.75' && fees.bps === 0, fees);

const { data: sent, response: sentRes } = await api.POST('/transfer', {
  headers: bearer,
  body: { to: bob.username, amount: 2.5 },
});
check('transfer 2.50 to bob', sentRes.status === 201 && sent?.amount === '2.50' && sent.fee === '0.75' && sent.balance === '6.75', sent);

const { error: refused, response: refusedRes } = await api.POST('/transfer', {
  headers: bearer,
  body: { to: bob.username, amount: '100.00' },
});
check('an overdraft is refused', refusedRes.status === 422 && refused?.error.code === 'insufficient_funds', refused);

// A path parameter, and the recipient's refund of part of the transfer.
const { data: bobLogin } = await api.POST('/login', { body: bob });
const { data: refund, response: refundRes } = await api.POST('/transfers/{id}/refund', {
  params: { path: { id: sent?.id ?? 0 } },
  headers: { Authorization: `Bearer ${bobLogin?.token ?? ''}` },
  body: { amount: '1.00' },
});
check('bob refunds 1.00', refundRes.status === 201 && refund?.amount === '1.00' && refund.to === alice.username, refund);
const { data: detail, response: detailRes } = await api.GET('/transfers/{id}', {
  params: { path: { id: sent?.id ?? 0 } },
  headers: bearer,
});
check('the transfer shows its refund', detailRes.status === 200 && detail?.refunded === '1.00' && detail.refunds.length === 1, detail);

const { data: page, response: pageRes } = await api.GET('/transactions', {
  params: { query: { limit: 10 } },
  headers: bearer,
});
const types = (page?.transactions ?? []).map((t) => `${t.type} ${t.amount}`);
check('history, newest first', pageRes.status === 200 &&
  types.join(', ') === 'refund_in 1.00, transfer_out 2.50, deposit 10.00' && page?.next_before === null, page);

// The other scheme the service accepts: "Authorization: JWT <token>".
const { data: bal, response: balRes } = await api.GET('/balance', { headers: { Authorization: `JWT ${token}` } });
check('balance with the JWT scheme', balRes.status === 200 && bal?.balance === '7.75' && bal.currency === 'USD', bal);

const { error: anon, response: anonRes } = await api.GET('/balance');
check('no token: 401', anonRes.status === 401 && anon?.error.code === 'unauthorized', anon);

console.log(`generated client: ${failed ? `${failed} failed` : 'all passed'}`);
process.exit(failed ? 1 : 0);
