// A Sumsub webhook receiver to copy (Node.js standard library only).
//
//   SUMSUB_WEBHOOK_SECRET=s3cr3t node receiver.js  # POST http://127.0.0.1:9000/webhooks/sumsub
//
// kycsim's conformance suite certifies it (cmd/kycsim/examples_test.go runs
// `kycsim conform` against it).
'use strict';
const crypto = require('node:crypto');
const http = require('node:http');

const SECRET = process.env.SUMSUB_WEBHOOK_SECRET || '';
const MAX_BODY = 1 << 20; // Sumsub's webhooks are a few kilobytes
const ALGS = { HMAC_SHA1_HEX: 'sha1', HMAC_SHA256_HEX: 'sha256', HMAC_SHA512_HEX: 'sha512' };
const HANDLED = new Set(['applicantPending', 'applicantOnHold', 'applicantReviewed']);

// verify checks X-Payload-Digest, the HMAC of the raw body (never of
// re-encoded JSON), in constant time.
function verify(headers, body) {
  const alg = ALGS[headers['x-payload-digest-alg']];
  if (!alg) return false;
  const want = crypto.createHmac(alg, SECRET).update(body).digest();
  const got = Buffer.from(String(headers['x-payload-digest'] || ''), 'hex');
  return got.length === want.length && crypto.timingSafeEqual(got, want);
}

// createdAt reads createdAtMs, "2024-05-01 10:20:30.123" in UTC;
// unreadable counts as the oldest.
function createdAt(s) {
  const t = typeof s === 'string' ? Date.parse(s.replace(' ', 'T') + 'Z') : NaN;
  return Number.isNaN(t) ? -Infinity : t;
}

// The receiver's state stands for your database: make the event key a
// unique index and insert-or-ignore, so that two copies of a webhook racing
// each other are acted on once.
const seen = new Set();
const applicants = new Map(); // applicantId -> {events, status, at}

// act acts on a webhook once per key; a late older one does not replace
// the newer status.
function act(key, applicantId, status, at) {
  if (seen.has(key)) return; // a redelivery: already acted on
  seen.add(key);
  if (!applicants.has(applicantId)) applicants.set(applicantId, { events: 0, status: null, at: -Infinity });
  const a = applicants.get(applicantId);
  a.events++;
  if (at >= a.at) Object.assign(a, { status, at });
}

// webhook answers 401 to a bad signature, 400 to content it cannot use
// (never 5xx: Sumsub would retry it in vain), 200 to the rest.
function webhook(req, body) {
  if (!verify(req.headers, body)) return [401, 'bad signature'];
  let wh;
  try {
    wh = JSON.parse(body.toString('utf8'));
  } catch {
    return [400, 'not JSON'];
  }
  if (!wh || typeof wh.applicantId !== 'string' || !wh.applicantId || typeof wh.type !== 'string' || !wh.type) {
    return [400, 'not a Sumsub webhook'];
  }
  const answer = wh.reviewResult && wh.reviewResult.reviewAnswer;
  if (answer != null && answer !== 'GREEN' && answer !== 'RED') return [400, 'reviewAnswer is neither GREEN nor RED'];
  const status = (wh.reviewStatus || '') + (answer ? '/' + answer : '');
  if (HANDLED.has(wh.type)) { // other and future types: acknowledged, ignored
    const key = [wh.applicantId, wh.type, wh.createdAtMs, wh.correlationId, status].join('|');
    act(key, wh.applicantId, status, createdAt(wh.createdAtMs));
  }
  return [200, ''];
}

const server = http.createServer((req, res) => {
  const reply = ([code, text]) => res.writeHead(code, { 'Content-Type': 'text/plain' }).end(text);
  if (req.method === 'GET' && req.url.startsWith('/_probe/')) {
    // What the receiver did for an applicant, for kycsim's conformance
    // suite (a test-only endpoint).
    const a = applicants.get(decodeURIComponent(req.url.slice('/_probe/'.length))) || { events: 0, status: null };
    return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ events: a.events, status: a.status }));
  }
  if (req.method !== 'POST' || req.url !== '/webhooks/sumsub') return reply([404, 'not found']);
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy(); // too large: drop the connection
    else chunks.push(c);
  });
  req.on('end', () => reply(webhook(req, Buffer.concat(chunks))));
});

if (!SECRET) throw new Error("set SUMSUB_WEBHOOK_SECRET to the webhook's secret key");
const addr = process.env.ADDR || '127.0.0.1:9000';
const i = addr.lastIndexOf(':');
server.listen(Number(addr.slice(i + 1)), addr.slice(0, i), () => {
  console.log(`listening on http://${addr.slice(0, i)}:${server.address().port}`);
});
