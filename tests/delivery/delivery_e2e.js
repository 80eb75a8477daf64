// End-to-end delivery test of `waymark serve` with real parts: a real SMTP server on loopback
// (aiosmtpd, tests/channels/smtp_sink.py), the independent MIME parser mailparser, and Node's
// HTTP client. A profile with an email adds a product to its cart; the abandoned-cart journey
// sends an email through SMTP; the test parses the tracked link out of the received message,
// follows it (302 to the shop with the promo code), trades the landing token for the offer,
// orders, and finds the conversion credited to that email in the stats API. Along the way: the
// open pixel, the welcome message in the in-app inbox, Message Sent / Opened / Clicked events on
// the profile, and one-click unsubscribe ending the channel's consent.
//
//   node delivery_e2e.js PATH/TO/waymark
'use strict';
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { simpleParser } = require('mailparser');

const [bin] = process.argv.slice(2);
const here = __dirname;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waymark-delivery-e2e-'));
const WRITE_KEY = 'wk-delivery';
const ADMIN = 'admin-delivery';
const INBOX_SECRET = 'inbox-secret-for-tests';
const LINK_KEYS = '3:' + 'ab'.repeat(32);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = [];
let serveLog = '';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function waitFor(what, fn, ms = 15000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
function start(cmd, args, env, logTo) {
  const p = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  p.stdout.on('data', (d) => logTo(d));
  p.stderr.on('data', (d) => logTo(d));
  children.push(p);
  return p;
}

async function main() {
  // The SMTP server.
  const mailDir = path.join(tmp, 'mail');
  const smtpPortFile = path.join(tmp, 'smtp.port');
  start('/usr/bin/python3', [path.join(here, '..', 'channels', 'smtp_sink.py'),
    '--port-file', smtpPortFile, '--dir', mailDir], {}, () => {});
  const smtpPort = await waitFor('the SMTP server', async () =>
    fs.existsSync(smtpPortFile) && fs.readFileSync(smtpPortFile, 'utf8').trim());

  // The server under test, on a port known in advance so that links can name it.
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const serve = start(bin, ['serve', '--config', path.join(here, 'config.yaml'),
    '--data-dir', path.join(tmp, 'data'), '--listen', `127.0.0.1:${port}`,
    '--port-file', path.join(tmp, 'port'), '--outbox', path.join(tmp, 'outbox.jsonl'),
    '--smtp', `127.0.0.1:${smtpPort}`, '--smtp-tls', 'none', '--public-url', base], {
    WAYMARK_WRITE_KEY: WRITE_KEY, WAYMARK_ADMIN_TOKEN: ADMIN, WAYMARK_LINK_KEYS: LINK_KEYS,
    WAYMARK_INBOX_SECRET: INBOX_SECRET,
  }, (d) => (serveLog += d));
  await waitFor('waymark serve', async () => fs.existsSync(path.join(tmp, 'port')));
  assert.match(serveLog, /link_tracking=on inbox_api=enabled/);

  const auth = 'Basic ' + Buffer.from(`${WRITE_KEY}:`).toString('base64');
  const track = (body) => fetch(`${base}/v1/${body.type || 'track'}`, {
    method: 'POST', body: JSON.stringify(body),
    headers: { Authorization: auth, 'Content-Type': 'application/json' } });
  const admin = async (p) => {
    const r = await fetch(`${base}/admin/v1/${p}`, { headers: { Authorization: `Bearer ${ADMIN}` } });
    return { status: r.status, json: await r.json() };
  };

  // 1. A known customer with an email address carts a product.
  assert.equal((await track({ type: 'identify', userId: 'u-1',
    traits: { email: 'ada@example.com', first_name: 'Ada' } })).status, 200);
  assert.equal((await track({ userId: 'u-1', event: 'Product Added',
    properties: { product_id: 'sku 42', price: 25 } })).status, 200);

  // 2. One second later the reminder goes out over SMTP.
  const eml = await waitFor('the email', async () => {
    const f = fs.existsSync(mailDir) && fs.readdirSync(mailDir).find((n) => n.endsWith('.eml'));
    return f && fs.readFileSync(path.join(mailDir, f));
  });
  const mail = await simpleParser(eml);
  assert.equal(mail.subject, 'Ada, your 🛒 is waiting: sku 42');
  assert.equal(mail.from.value[0].address, 'shop@example.com');
  assert.equal(mail.from.value[0].name, 'Waymark Shop');
  assert.equal(mail.replyTo.value[0].address, 'care@example.com');
  assert.equal(mail.to.value[0].address, 'ada@example.com');
  const headerLine = (name) => {
    const h = mail.headerLines.find((l) => l.key === name);
    return h ? h.line.slice(h.line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, '').trim() : '';
  };
  const unsubscribeUrl = headerLine('list-unsubscribe').match(/^<(http[^>]+)>$/)[1];
  assert.ok(unsubscribeUrl.startsWith(`${base}/u/`), unsubscribeUrl);
  // RFC 8058 one-click needs an https URL; this test's server is plain http on loopback, so the
  // List-Unsubscribe-Post header is (rightly) left out, and the POST below is what a mail
  // provider would send.
  assert.equal(headerLine('list-unsubscribe-post'), '');
  const links = [...mail.html.matchAll(/href="([^"]+)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
  assert.equal(links.length, 2, mail.html);
  const clicks = links.slice(0, 1);
  assert.ok(clicks[0].startsWith(`${base}/c/`), clicks[0]);
  // {{ message.unsubscribe_url }} in the body is the same signed link, not click-tracked.
  assert.equal(links[1], unsubscribeUrl);
  const pixel = mail.html.match(/<img[^>]+src="([^"]+)"/)[1];
  assert.ok(pixel.startsWith(`${base}/o/`), pixel);
  assert.match(mail.text, new RegExp(`${base}/c/[A-Za-z0-9_-]+`));
  const promo = mail.text.match(/Use (CART-[0-9A-F]{8}) at/)[1];

  // 3. The open pixel is an image and records the open.
  const img = await fetch(pixel);
  assert.equal(img.status, 200);
  assert.equal(img.headers.get('content-type'), 'image/gif');

  // 4. The click redirects to the shop with the campaign, the promo code and a landing token.
  const click = await fetch(clicks[0], { redirect: 'manual' });
  assert.equal(click.status, 302);
  const dest = new URL(click.headers.get('location'));
  assert.equal(dest.origin + dest.pathname, 'https://shop.example/cart');
  assert.equal(dest.searchParams.get('item'), 'sku 42');
  assert.equal(dest.searchParams.get('utm_source'), 'waymark');
  assert.equal(dest.searchParams.get('utm_medium'), 'email');
  assert.equal(dest.searchParams.get('utm_campaign'), 'cart');
  assert.equal(dest.searchParams.get('utm_content'), 'remind');
  assert.equal(dest.searchParams.get('promo'), promo);
  // A tampered link goes to the safe page, never to a URL of the attacker's choosing.
  const forged = await fetch(clicks[0].slice(0, -3) + 'AAA?to=https://evil.example/',
    { redirect: 'manual' });
  assert.equal(forged.status, 302);
  assert.equal(forged.headers.get('location'), 'https://shop.example/oops');

  // 5. The landing page trades its token for the offer (prefilled promo code at checkout).
  const offer = await (await fetch(`${base}/v1/offer/${dest.searchParams.get('wm_t')}`)).json();
  assert.equal(offer.promo_code, promo);
  assert.equal(offer.journey, 'cart');

  // 6. The order converts, and the conversion is credited to the email's step.
  assert.equal((await track({ userId: 'u-1', event: 'Order Completed',
    properties: { order_id: 'o-1', revenue: 25, promo_code: promo } })).status, 200);
  const stats = await waitFor('the attributed conversion', async () => {
    const s = (await admin('journeys/cart/stats')).json;
    return s.goal && s.goal.treated_conversions === 1 ? s : null;
  });
  const remind = stats.steps.find((s) => s.id === 'remind');
  assert.equal(remind.sent.email, 1);
  assert.equal(remind.converted, 1, JSON.stringify(remind));
  assert.equal(remind.revenue, 25, JSON.stringify(remind));
  assert.equal(remind.clicked, 1, JSON.stringify(remind));
  assert.equal(remind.opened, 1, JSON.stringify(remind));

  // 7. Delivery outcomes and engagement are events on the profile.
  const profile = await waitFor('the engagement events', async () => {
    const p = (await admin('profiles/u-1')).json;
    const names = p.recent_events.map((e) => e.event);
    return ['track Message Sent', 'track Message Opened', 'track Message Clicked']
      .every((n) => names.includes(n)) ? p : null;
  });
  assert.equal(profile.messages.find((m) => m.step === 'remind').outcome, 'sent');

  // 8. The welcome message waits in the in-app inbox; reading it is its open.
  const inboxAuth = { Authorization: 'Bearer ' + require('node:crypto')
    .createHmac('sha256', INBOX_SECRET).update('u-1').digest('hex') };
  assert.equal((await fetch(`${base}/v1/inbox/u-1`)).status, 401);
  const inbox = await waitFor('the inbox message', async () => {
    const r = await (await fetch(`${base}/v1/inbox/u-1`, { headers: inboxAuth })).json();
    return r.messages && r.messages.length === 1 ? r : null;
  });
  assert.equal(inbox.messages[0].title, 'Welcome, Ada');
  assert.match(inbox.messages[0].body, new RegExp(`^Your first order ships free: ${base}/c/`));
  assert.equal(inbox.messages[0].read, false);
  const read = await fetch(`${base}/v1/inbox/u-1/${inbox.messages[0].id}/read`,
    { method: 'POST', headers: inboxAuth });
  assert.equal(read.status, 200);
  assert.equal((await read.json()).read, true);

  // 9. One-click unsubscribe (RFC 8058) ends email consent: the next reminder is suppressed.
  const unsub = await fetch(unsubscribeUrl, { method: 'POST', body: 'List-Unsubscribe=One-Click',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  assert.equal(unsub.status, 200);
  await waitFor('consent withdrawn', async () => {
    const p = (await admin('profiles/u-1')).json;
    return p.traits.consent && p.traits.consent.email === false;
  });
  await track({ userId: 'u-1', event: 'Product Added', properties: { product_id: 'sku-7' } });
  const suppressed = await waitFor('the suppressed second reminder', async () => {
    const p = (await admin('profiles/u-1')).json;
    return p.messages.find((m) => m.outcome === 'suppressed' && m.step === 'remind');
  });
  assert.equal(suppressed.reason, 'consent');
  assert.equal(fs.readdirSync(mailDir).filter((n) => n.endsWith('.eml')).length, 1);

  serve.kill('SIGTERM');
  await new Promise((r) => serve.on('exit', r));
  console.log('delivery_e2e: ok');
}

main().then(() => cleanup(0)).catch((err) => {
  console.error(err);
  console.error(serveLog);
  cleanup(1);
});

function cleanup(code) {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  if (code === 0) fs.rmSync(tmp, { recursive: true, force: true });
  process.exit(code);
}
