// Drives the official Segment Node client (@segment/analytics-node) against
// waymark_ingest_server, then checks the events the server's file sink wrote.
//   node segment_client_e2e.js PORT WRITE_KEY OUT_JSONL
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { Analytics } = require('@segment/analytics-node');

const [port, writeKey, outFile] = process.argv.slice(2);

async function main() {
  const analytics = new Analytics({
    writeKey,
    host: `http://127.0.0.1:${port}`,
    path: '/v1/batch',
    flushAt: 10,
    flushInterval: 200,
    maxRetries: 2,
  });
  const errors = [];
  analytics.on('error', (err) => errors.push(err));

  const before = Date.now();
  analytics.identify({
    userId: 'u-1',
    traits: { name: 'Ada', plan: 'pro', age: 36 },
    context: { timezone: 'Europe/Berlin' },
  });
  analytics.track({
    userId: 'u-1',
    event: 'Order Completed',
    properties: { revenue: 42.5, currency: 'EUR', items: [{ sku: 'A-1', qty: 2 }] },
    timestamp: new Date('2026-03-08T10:00:00.000Z'),
  });
  analytics.page({ anonymousId: 'anon-9', name: 'Home', properties: { path: '/', title: 'Hi' } });
  analytics.screen({ userId: 'u-1', name: 'Settings' });
  analytics.group({ userId: 'u-1', groupId: 'g-7', traits: { company: 'Acme' } });
  analytics.alias({ userId: 'u-1', previousId: 'anon-9' });
  // Enough for several batches (flushAt 10).
  for (let i = 0; i < 35; i++) {
    analytics.track({ anonymousId: `anon-${i}`, event: 'Product Viewed', properties: { i } });
  }
  await analytics.closeAndFlush({ timeout: 20000 });
  const after = Date.now();
  assert.deepEqual(errors, [], `client reported errors: ${errors.map(String).join('; ')}`);

  const events = fs.readFileSync(outFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.length, 41, 'every event written once');
  const ids = new Set(events.map((e) => e.messageId));
  assert.equal(ids.size, 41, 'messageIds are unique');

  const byType = {};
  for (const e of events) byType[e.type] = (byType[e.type] || 0) + 1;
  assert.deepEqual(byType, { identify: 1, track: 36, page: 1, screen: 1, group: 1, alias: 1 });

  const identify = events.find((e) => e.type === 'identify');
  assert.equal(identify.userId, 'u-1');
  assert.deepEqual(identify.traits, { name: 'Ada', plan: 'pro', age: 36 });
  assert.deepEqual(identify.context, { timezone: 'Europe/Berlin' });

  const order = events.find((e) => e.event === 'Order Completed');
  assert.deepEqual(order.properties,
                   { revenue: 42.5, currency: 'EUR', items: [{ sku: 'A-1', qty: 2 }] });
  // The client's clock is the server's here, so skew correction moves the timestamp by the
  // time between sentAt and receivedAt only: a few milliseconds.
  const skew = Date.parse(order.timestamp) - Date.parse('2026-03-08T10:00:00.000Z');
  assert.ok(skew >= 0 && skew < 2000, `order timestamp off by ${skew} ms`);

  const page = events.find((e) => e.type === 'page');
  assert.equal(page.anonymousId, 'anon-9');
  assert.equal(page.name, 'Home');
  assert.deepEqual(page.properties, { path: '/', title: 'Hi' });
  assert.equal(events.find((e) => e.type === 'screen').name, 'Settings');
  const group = events.find((e) => e.type === 'group');
  assert.equal(group.groupId, 'g-7');
  assert.deepEqual(group.traits, { company: 'Acme' });
  const alias = events.find((e) => e.type === 'alias');
  assert.equal(alias.previousId, 'anon-9');
  assert.equal(alias.userId, 'u-1');

  const viewed = events.filter((e) => e.event === 'Product Viewed');
  assert.deepEqual(viewed.map((e) => e.properties.i).sort((a, b) => a - b),
                   [...Array(35).keys()]);
  for (const e of viewed) {
    const t = Date.parse(e.timestamp);
    assert.ok(t >= before - 1000 && t <= after + 1000, `timestamp ${e.timestamp} out of range`);
  }
  console.log(`segment_node_e2e: ${events.length} events checked`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
