// A loopback webhook receiver for the channels tests and benchmark (node's http module).
//
//   node webhook_sink.js --port-file F --secret S [--log requests.jsonl]
//
// Listens on 127.0.0.1 on a free port (written to --port-file once listening). Every request is
// answered by its path, so tests script the receiver:
//   /script/500,200   the n-th request to this path gets the n-th status (the last one repeats)
//   /sleep/MS         answers 200 after MS milliseconds
//   anything else     200
// A 429 or 503 answer carries "Retry-After: 7". With --log, each request is appended as one JSON
// line: method, path, headers, body, and sig_ok, this receiver's own check of
// X-Waymark-Signature (HMAC-SHA256 over timestamp + "." + body, compared in constant time).
// Stops on SIGTERM/SIGINT, or by itself after --max-seconds.
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].slice(2)] = process.argv[i + 1];
}
const secret = args.secret || '';
const seen = new Map();

function signatureOk(headers, body) {
  const ts = headers['x-waymark-timestamp'] || '';
  const given = Buffer.from(headers['x-waymark-signature'] || '');
  const want = Buffer.from('v1=' + crypto.createHmac('sha256', secret).update(ts + '.')
    .update(body).digest('hex'));
  return given.length === want.length && crypto.timingSafeEqual(given, want);
}

function statusFor(path) {
  const m = /^\/script\/([0-9,]+)$/.exec(path);
  if (!m) return 200;
  const codes = m[1].split(',').map(Number);
  const n = seen.get(path) || 0;
  seen.set(path, n + 1);
  return codes[Math.min(n, codes.length - 1)];
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    if (args.log) {
      const rec = { method: req.method, path: req.url, headers: req.headers,
        body: body.toString('utf8'), sig_ok: signatureOk(req.headers, body),
        client_port: req.socket.remotePort };
      fs.appendFileSync(args.log, JSON.stringify(rec) + '\n');
    }
    const status = statusFor(req.url);
    const headers = { 'Content-Type': 'application/json' };
    if (status === 429 || status === 503) headers['Retry-After'] = '7';
    const answer = () => { res.writeHead(status, headers); res.end(`{"status":${status}}`); };
    const sleep = /^\/sleep\/(\d+)$/.exec(req.url);
    if (sleep) setTimeout(answer, Number(sleep[1])); else answer();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(args['port-file'] + '.tmp', String(server.address().port));
  fs.renameSync(args['port-file'] + '.tmp', args['port-file']);
});
const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
setTimeout(stop, Number(args['max-seconds'] || 600) * 1000).unref();
