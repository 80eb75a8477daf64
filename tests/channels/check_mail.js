// Parses the messages smtp_sink.py saved with mailparser (an independent MIME parser) and checks
// them against what e2e_test.cc sent (expected.json).
//
//   node check_mail.js MAIL_DIR EXPECTED_JSON
//
// For every expected message, found by Message-ID: decoded Subject and From name equal the UTF-8
// originals; To, Reply-To, Date, MIME-Version, List-Unsubscribe and List-Unsubscribe-Post are
// right; both bodies equal the originals byte for byte (mailparser presents line ends as "\n", as
// the originals are written); every href survives; and the raw text uses CRLF only, with header
// lines within 78 characters (unless one token is longer) and body lines within 998.
// Ends with "N passed, M failed" and exits non-zero on any failure.
'use strict';
const fs = require('fs');
const path = require('path');
const { simpleParser } = require('mailparser');

const [mailDir, expectedPath] = process.argv.slice(2);
let passed = 0;
let failed = 0;
function check(name, ok, detail) {
  if (ok) { passed++; return; }
  failed++;
  console.log(`FAIL ${name}${detail === undefined ? '' : ': ' + detail}`);
}
function eq(name, got, want) {
  check(name, got === want, `got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
function hrefs(html) {
  return [...html.matchAll(/href="([^"]*)"/g)].map((m) => m[1].replace(/&amp;/g, '&'));
}

function checkRaw(id, raw) {
  const text = raw.toString('latin1');
  check(`${id}: CRLF only`, !/[^\r]\n|\r[^\n]/.test(text));
  const [head] = text.split('\r\n\r\n', 1);
  for (const line of head.split('\r\n')) {
    const oneToken = !/ \S.* \S/.test(line.trim()) && line.length <= 998;
    check(`${id}: header line <= 78`, line.length <= 78 || oneToken, line);
    check(`${id}: header is ASCII`, !/[^\x20-\x7e\t]/.test(line), line);
  }
  for (const line of text.split('\r\n')) check(`${id}: line <= 998`, line.length <= 998);
}

async function main() {
  const expected = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));
  const byId = new Map();
  for (const f of fs.readdirSync(mailDir).filter((n) => n.endsWith('.eml')).sort()) {
    const raw = fs.readFileSync(path.join(mailDir, f));
    const parsed = await simpleParser(raw);
    byId.set(parsed.messageId, { raw, parsed, meta: JSON.parse(
      fs.readFileSync(path.join(mailDir, f.replace(/\.eml$/, '.json')), 'utf8')) });
  }

  for (const want of expected) {
    const wantId = '<' + (want.message_id.includes('@') ? want.message_id
      : want.message_id + want.from_address.slice(want.from_address.indexOf('@'))) + '>';
    const got = byId.get(wantId);
    check(`${wantId}: received`, got !== undefined, [...byId.keys()].join(' '));
    if (!got) continue;
    const p = got.parsed;
    const id = want.message_id;
    checkRaw(id, got.raw);

    eq(`${id}: subject`, p.subject, want.subject);
    eq(`${id}: from name`, p.from.value[0].name, want.from_name);
    eq(`${id}: from address`, p.from.value[0].address, want.from_address);
    eq(`${id}: to address`, p.to.value[0].address, want.to_address);
    eq(`${id}: envelope sender`, got.meta.mail_from, want.from_address);
    eq(`${id}: envelope recipient`, got.meta.rcpt_tos.join(','), want.to_address);
    eq(`${id}: reply-to`, p.replyTo ? p.replyTo.value[0].address : null, want.reply_to);
    eq(`${id}: MIME-Version`, p.headers.get('mime-version'), '1.0');
    check(`${id}: Date`, p.date instanceof Date && !isNaN(p.date), String(p.date));

    eq(`${id}: text`, p.text, want.text === '' ? undefined : want.text);
    eq(`${id}: html`, p.html, want.html === '' ? false : want.html);
    if (want.html !== '') eq(`${id}: links`, JSON.stringify(hrefs(p.html)),
      JSON.stringify(hrefs(want.html)));

    const lines = Object.fromEntries(p.headerLines.map((h) => [h.key,
      h.line.replace(/\r\n[ \t]/g, ' ')]));
    const parts = [];
    if (want.list_unsubscribe_url) parts.push(`<${want.list_unsubscribe_url}>`);
    if (want.list_unsubscribe_mailto) parts.push(`<mailto:${want.list_unsubscribe_mailto}>`);
    eq(`${id}: List-Unsubscribe`, lines['list-unsubscribe'],
      'List-Unsubscribe: ' + parts.join(', '));
    const list = p.headers.get('list') || {};
    eq(`${id}: parsed unsubscribe url`, (list.unsubscribe || {}).url,
      want.list_unsubscribe_url || undefined);
    eq(`${id}: List-Unsubscribe-Post`, lines['list-unsubscribe-post'],
      want.list_unsubscribe_url.startsWith('https://')
        ? 'List-Unsubscribe-Post: List-Unsubscribe=One-Click' : undefined);
  }
  console.log(`check_mail: ${expected.length} messages`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && expected.length > 0 ? 0 : 1);
}
main().catch((e) => { console.log(`FAIL ${e.stack}`); process.exit(1); });
