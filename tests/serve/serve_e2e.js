// End-to-end test of `waymark serve` with real parts: the official Segment Node client
// (@segment/analytics-node) sends identify, track, page and batch calls; Node's own HTTP client
// (fetch) reads the state back through the admin API; a local HTTP server receives the signed
// webhook. A wait of 2 s fires in real time, a send reaches the outbox, the goal converts, a new
// journey version is created and published, the server shuts down on SIGTERM and comes back
// with its state. Malformed requests get their status and JSON error while the server goes on.
//
//   node serve_e2e.js PATH/TO/waymark CONFIG_TEMPLATE
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { Analytics } = require('@segment/analytics-node');

const [bin, configTemplate] = process.argv.slice(2);
const WRITE_KEY = 'wk-e2e';
const ADMIN = 'admin-e2e-token';
const SECRET = 'hook-secret';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-serve-e2e-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the webhook receiver ----
const hooks = [];
function startReceiver() {
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const ts = req.headers['x-waymark-timestamp'];
      const want = 'v1=' + crypto.createHmac('sha256', SECRET).update(`${ts}.${body}`).digest('hex');
      hooks.push({
        path: req.url, body, valid: req.headers['x-waymark-signature'] === want,
        key: req.headers['idempotency-key'],
      });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

// ---- the server under test ----
let proc = null;
let port = 0;
let log = '';
async function startServe(configPath) {
  const portFile = path.join(tmp, 'port');
  fs.rmSync(portFile, { force: true });
  log = '';
  proc = spawn(bin, ['serve', '--config', configPath, '--data-dir', path.join(tmp, 'data'),
    '--listen', '127.0.0.1:0', '--port-file', portFile, '--shards', '2',
    '--outbox', path.join(tmp, 'outbox.jsonl'), '--webhook-secret', SECRET], {
    env: { ...process.env, WAYMARK_WRITE_KEY: WRITE_KEY, WAYMARK_ADMIN_TOKEN: ADMIN },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  proc.stderr.on('data', (d) => (log += d));
  for (let i = 0; i < 200; i++) {
    if (fs.existsSync(portFile)) {
      port = Number(fs.readFileSync(portFile, 'utf8').trim());
      return;
    }
    if (proc.exitCode !== null) throw new Error(`waymark serve exited early:\n${log}`);
    await sleep(50);
  }
  throw new Error(`waymark serve did not start:\n${log}`);
}
async function stopServe() {
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  proc.kill('SIGTERM');
  const { code } = await exited;
  assert.equal(code, 0, `waymark serve exit code after SIGTERM:\n${log}`);
  assert.match(log, /stopped/);
}

async function admin(method, p, body) {
  const res = await fetch(`http://127.0.0.1:${port}/admin/v1/${p}`, {
    method, body, headers: { Authorization: `Bearer ${ADMIN}` },
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}
async function waitFor(what, fn, ms = 10000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
function basic(key) { return 'Basic ' + Buffer.from(`${key}:`).toString('base64'); }
async function post(p, body, headers = { Authorization: basic(WRITE_KEY) }) {
  const res = await fetch(`http://127.0.0.1:${port}${p}`, {
    method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers },
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { /* checked by the caller */ }
  return { status: res.status, json, text };
}

async function segmentCalls() {
  const analytics = new Analytics({
    writeKey: WRITE_KEY, host: `http://127.0.0.1:${port}`, path: '/v1/batch',
    flushAt: 5, flushInterval: 100, maxRetries: 2,
  });
  const errors = [];
  analytics.on('error', (e) => errors.push(e));
  analytics.identify({ userId: 'u-1', traits: { email: 'ada@example.com', name: 'Ada' },
    context: { timezone: 'Europe/Berlin' } });
  analytics.page({ anonymousId: 'anon-1', name: 'Home', properties: { path: '/' } });
  analytics.track({ anonymousId: 'anon-1', event: 'Product Viewed', properties: { product_id: 'p-9' } });
  // Linking the anonymous visitor to u-1 moves its browse instance into u-1's profile.
  analytics.track({ userId: 'u-1', anonymousId: 'anon-1', event: 'Product Viewed',
    properties: { product_id: 'p-10' } });
  for (let i = 0; i < 12; i++) {
    analytics.track({ anonymousId: `visitor-${i}`, event: 'Signed Up', properties: { i } });
  }
  await analytics.closeAndFlush({ timeout: 15000 });
  assert.deepEqual(errors.map(String), []);
}

async function malformedMatrix() {
  const cases = [
    ['invalid JSON', '/v1/track', '{"userId":', undefined, 400, 'invalid_json'],
    ['wrong type', '/v1/track', '{"userId":"x","event":5}', undefined, 400, 'invalid_event'],
    ['missing ids', '/v1/track', '{"event":"A"}', undefined, 400, 'invalid_event'],
    ['no auth', '/v1/track', '{"userId":"x","event":"A"}', {}, 401, 'unauthorized'],
    ['wrong key', '/v1/track', '{"userId":"x","event":"A"}', { Authorization: basic('nope') }, 401, 'unauthorized'],
    ['unknown path', '/v1/nothing', '{}', undefined, 404, 'not_found'],
    ['batch not a list', '/v1/batch', '{"batch":3}', undefined, 400, 'invalid_body'],
    ['oversized event', '/v1/track',
      JSON.stringify({ userId: 'x', event: 'A', properties: { pad: 'x'.repeat(40 * 1024) } }),
      undefined, 413, 'body_too_large'],
  ];
  for (const [name, p, body, headers, status, code] of cases) {
    const r = await post(p, body, headers);
    assert.equal(r.status, status, `${name}: ${r.text}`);
    assert.equal(r.json?.error?.code, code, `${name}: ${r.text}`);
  }
  const get = await fetch(`http://127.0.0.1:${port}/v1/track`);
  assert.equal(get.status, 405);
  assert.equal((await get.json()).error.code, 'method_not_allowed');

  // A half-sent request is timed out while others are served.
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.on('connect', r));
  sock.write('POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"us');
  assert.equal((await fetch(`http://127.0.0.1:${port}/health`)).status, 200);
  sock.destroy();

  // In a batch, valid events beside an invalid one are applied; the invalid one is named.
  const r = await post('/v1/batch', JSON.stringify({ batch: [
    { type: 'track', userId: 'batch-1', event: 'Product Viewed', properties: { product_id: 'b' } },
    { type: 'track', event: 'No Ids' },
    { type: 'identify', userId: 'batch-1', traits: { email: 'b1@example.com' } },
  ] }));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.accepted, 2);
  assert.equal(r.json.rejected.length, 1);
  assert.equal(r.json.rejected[0].index, 1);
  const p = await waitFor('batch-1 profile', async () => {
    const res = await admin('GET', 'profiles/batch-1');
    return res.status === 200 && res.json.event_count === 2 ? res.json : null;
  });
  assert.equal(p.traits.email, 'b1@example.com');
}

async function main() {
  const receiver = await startReceiver();
  const config = fs.readFileSync(configTemplate, 'utf8')
    .replace('${WEBHOOK_PORT}', String(receiver.address().port));
  const configPath = path.join(tmp, 'config.yaml');
  fs.writeFileSync(configPath, config);
  await startServe(configPath);
  assert.match(log, /serving listen=127\.0\.0\.1:\d+ shards=2/);

  // Journeys come from the config file, published.
  let r = await admin('GET', 'journeys');
  assert.equal(r.status, 200);
  assert.deepEqual(r.json.map((j) => [j.id, j.status, j.version]),
                   [['browse', 'active', 1], ['order_crm', 'active', 1]]);

  await segmentCalls();
  let u1 = await waitFor('u-1 with two events', async () => {
    const res = await admin('GET', 'profiles/u-1');
    return res.status === 200 && res.json.event_count === 4 ? res.json : null;
  });
  assert.equal(u1.traits.email, 'ada@example.com');
  assert.equal(u1.timezone, 'Europe/Berlin');
  assert.deepEqual(u1.anonymous_ids, ['anon-1']);
  assert.equal(u1.instances.length, 1, JSON.stringify(u1.instances));
  assert.equal(u1.instances[0].journey, 'browse');
  assert.equal((await admin('GET', 'profiles/anon-1')).json.id, 'u-1');

  // The 2 s wait fires on the wall clock; the send reaches the outbox and its file.
  const sent = await waitFor('the browse reminder', async () => {
    const res = await admin('GET', 'outbox?status=delivered');
    return res.json.find((e) => e.message.profile === 'u-1' && e.message.step === 'remind');
  });
  assert.equal(sent.message.channel, 'email');
  assert.equal(sent.message.to, 'ada@example.com');
  assert.equal(sent.message.subject, 'Still looking at p-9?');
  const lines = fs.readFileSync(path.join(tmp, 'outbox.jsonl'), 'utf8').trim().split('\n');
  assert.ok(lines.some((l) => JSON.parse(l).id === sent.id));
  u1 = (await admin('GET', 'profiles/u-1')).json;
  assert.equal(u1.messages[0].outcome, 'sent');

  // The goal converts; the order goes to the CRM webhook, signed, keyed by its message id.
  await post('/v1/track', JSON.stringify({ userId: 'u-1', event: 'Order Completed',
    properties: { order_id: 'o-1', revenue: 30 } }));
  const hook = await waitFor('the CRM webhook', async () => hooks[0]);
  assert.equal(hook.path, '/crm');
  assert.ok(hook.valid, 'webhook signature verifies');
  assert.deepEqual(JSON.parse(hook.body), { user: 'u-1', order: 'o-1', total: 30 });
  assert.match(hook.key, /^[0-9a-f]{16}$/);
  const stats = await waitFor('the conversion', async () => {
    const res = await admin('GET', 'journeys/browse/stats');
    return res.json.goal.treated_conversions === 1 ? res.json : null;
  });
  assert.equal(stats.entered, 1);
  assert.equal(stats.steps[1].sent.email, 1);

  await malformedMatrix();

  // A new version of browse: created as a draft, published; new entries take it.
  r = await admin('POST', 'journeys', [
    'id: browse', 'name: Browse reminder v2', 'trigger: { event: Product Viewed }',
    'goal: { event: Order Completed, within: 1h }', 'steps:', '  - { id: wait_1s, wait: 1s }',
    '  - { id: remind, send: { channel: email, template: browse_reminder } }'].join('\n'));
  assert.equal(r.status, 201, JSON.stringify(r.json));
  assert.deepEqual(r.json, { id: 'browse', version: 2, state: 'draft' });
  r = await admin('POST', 'journeys', 'id: browse\ntrigger: { event: X }\nsteps:\n  - { id: a, wiat: 1s }\n');
  assert.equal(r.status, 422);
  assert.equal(r.json.error.code, 'invalid_journey');
  assert.ok(r.json.error.errors.length >= 1);
  assert.match(r.json.error.errors[0], /^\S+:\d+:\d+: /);
  r = await admin('POST', 'journeys/browse/publish?version=2');
  assert.equal(r.status, 200, JSON.stringify(r.json));
  await post('/v1/track', JSON.stringify({ userId: 'u-2', event: 'Product Viewed',
    properties: { product_id: 'p-1' } }));
  const u2 = await waitFor('u-2 on version 2', async () => {
    const res = await admin('GET', 'profiles/u-2');
    return res.status === 200 && res.json.instances.length === 1 ? res.json : null;
  });
  assert.equal(u2.instances[0].version, 2);
  assert.equal(u2.instances[0].step, 'wait_1s');

  r = await admin('POST', 'journeys/browse/pause');
  assert.equal(r.status, 200);
  await post('/v1/track', JSON.stringify({ userId: 'u-3', event: 'Product Viewed' }));
  await waitFor('u-3', async () => (await admin('GET', 'profiles/u-3')).status === 200);
  assert.equal((await admin('GET', 'profiles/u-3')).json.instances.length, 0);

  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`, {
    headers: { Authorization: `Bearer ${ADMIN}` } })).text();
  assert.match(metrics, /^waymark_engine_events_journaled_total \d+$/m);
  assert.match(metrics, /^waymark_sends_total\{channel="webhook",outcome="delivered"\} 1$/m);
  assert.match(metrics, /^waymark_http_request_duration_seconds_bucket/m);

  // A clean stop, then a restart on the same data directory keeps everything.
  await stopServe();
  await startServe(configPath);
  assert.match(log, /recovered data_dir=.* profiles=\d+/);
  u1 = (await admin('GET', 'profiles/u-1')).json;
  assert.equal(u1.event_count, 5);
  r = await admin('GET', 'journeys/browse');
  assert.equal(r.json.status, 'paused');
  assert.equal(r.json.version, 2);
  const after = await admin('GET', 'journeys/browse/stats');
  assert.equal(after.json.goal.treated_conversions, 1);
  await stopServe();

  receiver.close();
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log('serve_e2e: ok');
}

main().catch((err) => {
  console.error(err);
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  console.error(log);
  process.exit(1);
});
