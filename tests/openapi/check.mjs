// Checks of docs/openapi.yaml beyond the linter (make test-openapi).
//
//   node check.mjs routes              the app's route table against the
//                                      document, and the document's own rules
//   node check.mjs validate FILE...    recorded responses against the document
//
// A recording is one JSON object a line: {"method", "path" (with the query),
// "status", "headers" (lower-case names), "body", "source"}, written by the
// integration tests' client (tests/integration/client.c), the browser test
// and the generated client's scenario when PAYD_RECORD names the file.
// Exits 1 naming each difference; prints what to do about it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const DOC_FILE = path.join(ROOT, 'docs/openapi.yaml');
const ROUTER_FILE = path.join(ROOT, 'app/router.c');
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const JSON_TYPE = 'application/json; charset=utf-8';
const HOWTO = 'See docs/api.md, "Changing the API": every route of app/router.c is an ' +
  'operation of docs/openapi.yaml, with each status and error code it answers.';

const doc = YAML.parse(fs.readFileSync(DOC_FILE, 'utf8'));

// ------------------------------------------------------------ the document

// Follows a local $ref ("#/components/...") to what it names.
function deref(node) {
  let n = node;
  for (let i = 0; n && typeof n === 'object' && typeof n.$ref === 'string'; i++) {
    if (i > 16 || !n.$ref.startsWith('#/')) throw new Error(`unresolvable $ref ${n.$ref}`);
    n = n.$ref.slice(2).split('/').reduce((o, k) => (o == null ? o : o[k.replace(/~1/g, '/').replace(/~0/g, '~')]), doc);
    if (n === undefined) throw new Error(`dangling $ref ${node.$ref}`);
  }
  return n;
}

// Path templates: "{name}" (or ":name", "*" in the router) is one segment.
function pathKey(p) {
  return p.split('/').map((s) => (/^(\{[^}]*\}|:.+|\*)$/.test(s) ? '{}' : s)).join('/');
}

// A path's regular expression: a "{name}" segment whose parameter is an
// integer (as the app's "{id}": a positive integer, no leading zero)
// matches only that, so "/holds/abc" is an unknown path, as in the app.
function pathRegex(p) {
  const item = doc.paths[p] || {};
  const params = [...(item.parameters || []), ...METHODS.flatMap((m) => (item[m] && item[m].parameters) || [])]
    .map(deref).filter((x) => x.in === 'path');
  const re = p.split('/').map((seg) => {
    const m = /^\{([^}]*)\}$/.exec(seg);
    if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const param = params.find((x) => x.name === m[1]);
    return param && param.schema && param.schema.type === 'integer' ? '[1-9][0-9]{0,18}' : '[^/]+';
  }).join('/');
  return new RegExp(`^${re}$`);
}

function operations() {
  const ops = [];
  for (const [p, item] of Object.entries(doc.paths || {})) {
    for (const m of METHODS) {
      if (item[m]) ops.push({ path: p, method: m.toUpperCase(), op: item[m] });
    }
  }
  return ops;
}

// ------------------------------------------------------- routes (router.c)

// The entries of "static const struct route routes[] = { ... };":
// {"/path", HTTP_METHOD, handler, ROUTE_AUTH, ...}.
function routerTable() {
  const src = fs.readFileSync(ROUTER_FILE, 'utf8');
  const start = src.search(/struct route\s+routes\[\]\s*=\s*\{/);
  if (start < 0) throw new Error(`${ROUTER_FILE}: the table "routes[]" was not found`);
  const end = src.indexOf('};', start);
  const table = src.slice(start, end);
  const routes = [];
  const re = /\{\s*"([^"]+)"\s*,\s*HTTP_([A-Z]+)\s*,\s*(\w+)\s*,\s*(ROUTE_[A-Z_]+)/g;
  for (let m; (m = re.exec(table));) {
    routes.push({ path: m[1], method: m[2], handler: m[3], auth: m[4] });
  }
  if (routes.length === 0) throw new Error(`${ROUTER_FILE}: no route parsed from the table`);
  return routes;
}

function checkRoutes(problems) {
  const routes = routerTable();
  const fromApp = new Map(routes.map((r) => [`${r.method} ${pathKey(r.path)}`, r]));
  const fromDoc = new Map();
  for (const o of operations()) {
    if (o.op['x-payd-served-by'] === 'nginx') continue; // a static file
    fromDoc.set(`${o.method} ${pathKey(o.path)}`, o);
  }
  for (const [k, r] of fromApp) {
    const o = fromDoc.get(k);
    if (!o) {
      problems.push(`app/router.c serves ${r.method} ${r.path} (${r.handler}), which docs/openapi.yaml lacks: ` +
        `add it under paths: ${r.path}: ${r.method.toLowerCase()}:`);
      continue;
    }
    const isPublic = Array.isArray(o.op.security) && o.op.security.length === 0;
    if ((r.auth === 'ROUTE_PUBLIC') !== isPublic) {
      problems.push(`${r.method} ${r.path}: app/router.c says ${r.auth}, docs/openapi.yaml says ` +
        `${isPublic ? 'public (security: [])' : 'a token (the global security)'}`);
    }
  }
  for (const [k, o] of fromDoc) {
    if (!fromApp.has(k)) {
      problems.push(`docs/openapi.yaml describes ${o.method} ${o.path} (${o.op.operationId}), which app/router.c ` +
        'does not serve: remove it, or mark a file nginx serves with x-payd-served-by: nginx');
    }
  }
  return routes.length;
}

// Every media type has an example; every component is named by some $ref.
function checkDocRules(problems) {
  for (const o of operations()) {
    const where = `${o.method} ${o.path}`;
    if (!o.op.operationId) problems.push(`${where}: no operationId`);
    const body = o.op.requestBody && deref(o.op.requestBody);
    for (const [t, mt] of Object.entries((body && body.content) || {})) {
      if (mt.example === undefined && !mt.examples) problems.push(`${where}: the request body (${t}) has no example`);
    }
    for (const [status, r] of Object.entries(o.op.responses || {})) {
      for (const [t, mt] of Object.entries(deref(r).content || {})) {
        if (mt.example === undefined && !mt.examples) problems.push(`${where} ${status} (${t}): no example`);
      }
    }
  }
  const text = JSON.stringify(doc);
  for (const [kind, group] of Object.entries(doc.components || {})) {
    if (kind === 'securitySchemes') continue; // named by security, not $ref
    for (const name of Object.keys(group)) {
      if (!text.includes(`"#/components/${kind}/${name}"`)) {
        problems.push(`components.${kind}.${name} is never referenced`);
      }
    }
  }
}

// ------------------------------------------------------------- validation

function makeAjv() {
  const ajv = new Ajv2020({ strict: true, strictTypes: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat('int64', { type: 'number', validate: (n) => Number.isInteger(n) });
  ajv.addFormat('int32', { type: 'number', validate: (n) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  // The schemas' $refs "#/components/schemas/X" point into one schema of
  // all the components, added once.
  const rewrite = (node) => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!node || typeof node !== 'object') return node;
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')
        ? `components.json#/$defs/${v.slice('#/components/schemas/'.length)}` : rewrite(v);
    }
    return out;
  };
  ajv.addSchema({ $id: 'components.json', $defs: rewrite(doc.components.schemas || {}) });
  const cache = new Map();
  return (schema) => {
    if (!cache.has(schema)) cache.set(schema, ajv.compile(rewrite(schema)));
    return cache.get(schema);
  };
}

function describeErrors(errors, value, whole = '(the body)') {
  return errors.map((e) => {
    const at = e.instancePath || whole;
    const got = e.instancePath.split('/').slice(1).reduce((o, k) => (o == null ? o : o[k]), value);
    const extra = e.params && e.params.allowedValues ? ` (${e.params.allowedValues.join(', ')})` : '';
    const prop = e.params && e.params.additionalProperty ? ` "${e.params.additionalProperty}"` : '';
    return `${at} ${e.message}${extra}${prop}${e.keyword === 'additionalProperties' ? '' : `, got ${JSON.stringify(got)}`}`;
  });
}

// Which documented answer a recorded response is held to.
function match(rec, paths) {
  const unlisted = doc['x-payd-unlisted'] || {};
  if (!rec.path.startsWith('/')) return { name: `${rec.method || '-'} (no request target)`, responses: {} };
  const p = new URL(rec.path, 'http://x').pathname;
  if ((unlisted.staticPaths || []).includes(p)) return { skip: true };
  const hit = paths.find((t) => t.re.test(p));
  const shown = p.length > 60 ? `${p.slice(0, 60)}...` : p;
  if (!hit) return { name: `${rec.method} ${shown} (no such path)`, responses: unlisted.unknownPath || {} };
  const op = doc.paths[hit.path][rec.method.toLowerCase()];
  if (!op) {
    const allow = METHODS.filter((m) => doc.paths[hit.path][m]).map((m) => m.toUpperCase());
    return { name: `${rec.method} ${hit.path} (no such method)`, responses: unlisted.wrongMethod || {}, allow };
  }
  return { name: `${rec.method} ${hit.path} (${op.operationId})`, responses: op.responses || {} };
}

// The operation's own answer for the status, else one that nginx gives any
// request it cannot read (x-payd-unlisted.anyRequest).
function findResponse(responses, status) {
  const s = String(status);
  const any = (doc['x-payd-unlisted'] || {}).anyRequest || {};
  return responses[s] || responses[`${s[0]}XX`] || responses.default || any[s];
}

function validateOne(rec, m, compile) {
  const out = [];
  const def = findResponse(m.responses, rec.status);
  if (!def) return [`status ${rec.status} is not documented (documented: ${Object.keys(m.responses).join(', ') || 'none'})`];
  const r = deref(def);
  const headers = rec.headers || {};
  for (const [name, h0] of Object.entries(r.headers || {})) {
    const h = deref(h0);
    const v = headers[name.toLowerCase()];
    if (v === undefined) {
      if (h.required) out.push(`header ${name} is required and missing`);
      continue;
    }
    const check = compile(h.schema || {});
    if (!check(v)) out.push(`header ${name}: ${describeErrors(check.errors, v, 'its value').join('; ')}`);
  }
  if (m.allow && rec.status === 405) {
    const got = (headers.allow || '').split(',').map((s) => s.trim()).filter((s) => s && s !== 'HEAD');
    if (got.sort().join(', ') !== [...m.allow].sort().join(', ')) {
      out.push(`header Allow is "${headers.allow || ''}", the document lists ${m.allow.join(', ')}`);
    }
  }
  const content = r.content || {};
  const body = rec.body || '';
  if (rec.method === 'HEAD') return out;
  if (Object.keys(content).length === 0) {
    if (body.length > 0) out.push('a body was sent where the document describes none');
    return out;
  }
  const ct = headers['content-type'] || '';
  const base = ct.split(';')[0].trim().toLowerCase();
  const mt = content[base];
  if (!mt) return [...out, `Content-Type "${ct}" is not documented (${Object.keys(content).join(', ')})`];
  if (base === 'application/json') {
    if (ct !== JSON_TYPE) out.push(`Content-Type is "${ct}", not exactly "${JSON_TYPE}"`);
    let value;
    try {
      value = JSON.parse(body);
    } catch {
      return [...out, `the body is not JSON: ${body.slice(0, 80)}`];
    }
    const check = compile(mt.schema || {});
    if (!check(value)) out.push(...describeErrors(check.errors, value).map((e) => `body ${e}`));
  } else if (mt.schema && mt.schema.type === 'string' && body.length === 0) {
    out.push('the body is empty');
  }
  return out;
}

function validate(files) {
  const compile = makeAjv();
  const paths = Object.keys(doc.paths || {}).map((p) => ({ path: p, re: pathRegex(p) }));
  const failures = new Map(); // "what: problem" -> { count, example }
  const seen = new Map(); // operation -> Set(status)
  const sources = new Map(); // who recorded how many
  let n = 0;
  let skipped = 0;
  for (const f of files) {
    const lines = fs.readFileSync(f, 'utf8').split('\n').filter(Boolean);
    for (const line of lines) {
      const rec = JSON.parse(line);
      sources.set(rec.source, (sources.get(rec.source) || 0) + 1);
      const m = match(rec, paths);
      if (m.skip) {
        skipped++;
        continue;
      }
      n++;
      if (!seen.has(m.name)) seen.set(m.name, new Set());
      seen.get(m.name).add(rec.status);
      for (const p of validateOne(rec, m, compile)) {
        const k = `${m.name} ${rec.status}: ${p}`;
        const e = failures.get(k) || { count: 0, example: rec };
        e.count++;
        failures.set(k, e);
      }
    }
  }
  for (const [name, statuses] of [...seen].sort()) {
    console.log(`openapi: ${name}: ${[...statuses].sort().join(' ')}`);
  }
  // Which documented answers the run saw: a measure, not a check.
  const pairs = operations().filter((o) => o.op['x-payd-served-by'] !== 'nginx')
    .flatMap((o) => Object.keys(o.op.responses || {}).map((st) => [`${o.method} ${o.path} (${o.op.operationId})`, st]));
  const unseen = pairs.filter(([name, st]) => !(seen.get(name) || new Set()).has(Number(st)));
  console.log(`openapi: ${pairs.length - unseen.length} of the ${pairs.length} documented statuses of the API ` +
    `were answered${process.env.OPENAPI_COVERAGE ? '' : ' (OPENAPI_COVERAGE=1 lists the others)'}`);
  if (process.env.OPENAPI_COVERAGE) for (const [name, st] of unseen) console.log(`openapi: not seen: ${name} ${st}`);
  const from = [...sources].map(([s, k]) => `${k} ${s || '?'}`).join(', ');
  console.log(`openapi: ${n} responses validated against docs/openapi.yaml (recorded: ${from}; ` +
    `${skipped} of the web page skipped)`);
  if (failures.size === 0) return 0;
  for (const [k, e] of failures) {
    const src = e.example.source ? ` [${e.example.source}]` : '';
    const id = (e.example.headers || {})['x-request-id'] || '-';
    console.log(`FAIL openapi: ${k} (${e.count}x; e.g. ${e.example.method} ${e.example.path}, X-Request-Id ${id}${src})`);
  }
  console.log(`openapi: ${failures.size} kinds of response break docs/openapi.yaml. ${HOWTO}`);
  return 1;
}

// ------------------------------------------------------------------- main

const [cmd, ...args] = process.argv.slice(2);
if (cmd === 'routes') {
  const problems = [];
  const n = checkRoutes(problems);
  checkDocRules(problems);
  for (const p of problems) console.log(`FAIL openapi: ${p}`);
  if (problems.length) {
    console.log(`openapi: docs/openapi.yaml does not match the app (${problems.length} problems). ${HOWTO}`);
    process.exit(1);
  }
  console.log(`openapi: the ${n} routes of app/router.c are the operations of docs/openapi.yaml`);
} else if (cmd === 'validate' && args.length > 0) {
  process.exit(validate(args));
} else {
  console.error('usage: node check.mjs routes | validate FILE...');
  process.exit(2);
}
