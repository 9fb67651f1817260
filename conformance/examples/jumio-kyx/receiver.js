// A Jumio KYX callback receiver to copy (Node.js standard library only).
//
//   node receiver.js  # POST http://127.0.0.1:9000/webhooks/jumio
//
// kycsim's conformance suite certifies it (cmd/kycsim/examples_test.go runs
// `kycsim conform` against it).
'use strict';
const http = require('node:http');
const net = require('node:net');

const MAX_BODY = 1 << 20; // Jumio's callbacks are well under a kilobyte
// The addresses Jumio sends callbacks from (AMER, EMEA, APAC; see "Callback"
// in Jumio's documentation). A KYX callback carries no signature: its source
// address is its only proof.
const JUMIO_SOURCES = '34.202.241.227,34.226.103.119,34.226.254.127,52.8.136.236,54.177.61.57,54.183.15.212,' +
  '34.253.41.236,35.157.27.193,52.48.0.25,52.57.194.92,52.58.113.86,52.209.180.134,' +
  '3.0.109.121,52.76.184.73,52.77.102.92,13.238.100.17,13.238.203.238,52.64.132.26';
const sources = new net.BlockList();
for (const s of (process.env.JUMIO_SOURCES || JUMIO_SOURCES).split(',')) sources.addAddress(s.trim());
// The statuses in order: a final one (3) is never replaced by an earlier
// stage arriving late.
const STAGE = { ACQUISITION_STARTED: 1, ACQUIRED: 2, PROCESSED: 3, SESSION_EXPIRED: 3, TOKEN_EXPIRED: 3 };

// sentAt reads callbackSentAt (RFC 3339, fresh on every redelivery);
// unreadable counts as the oldest.
function sentAt(s) {
  const t = typeof s === 'string' ? Date.parse(s) : NaN;
  return Number.isNaN(t) ? -Infinity : t;
}

// The receiver's state stands for your database: make (workflow id, status)
// a unique index and insert-or-ignore, so that two copies of a callback
// racing each other are acted on once.
const seen = new Set();
const workflows = new Map(); // workflowExecution.id -> {events, status, at}

// act acts on a workflow's status once: a redelivery carries a fresh
// callbackSentAt, so dedupe on id and status, never on the timestamp.
function act(id, status, at) {
  const key = JSON.stringify([id, status]);
  if (seen.has(key)) return; // a redelivery: already acted on
  seen.add(key);
  if (!workflows.has(id)) workflows.set(id, { events: 0, status: null, at: -Infinity });
  const wf = workflows.get(id);
  wf.events++;
  const now = STAGE[status], held = STAGE[wf.status] || 0;
  if (now > held || (now === held && at >= wf.at)) Object.assign(wf, { status, at });
  // Once PROCESSED, fetch the result from workflowExecution.href with your API token.
}

// callback answers 400 to content it cannot use (never 5xx: Jumio would
// retry it in vain), 200 to the rest.
function callback(body) {
  let cb;
  try {
    cb = JSON.parse(body.toString('utf8'));
  } catch {
    return [400, 'not JSON'];
  }
  const wf = cb && cb.workflowExecution;
  if (!wf || typeof wf.id !== 'string' || !wf.id || !Object.hasOwn(STAGE, wf.status)) {
    return [400, 'not a KYX callback with a documented status'];
  }
  act(wf.id, wf.status, sentAt(cb.callbackSentAt));
  return [200, ''];
}

const server = http.createServer((req, res) => {
  const reply = ([code, text]) => res.writeHead(code, { 'Content-Type': 'text/plain' }).end(text);
  if (req.method === 'GET' && req.url.startsWith('/_probe/')) {
    // What the receiver did for a workflow, for kycsim's conformance suite
    // (a test-only endpoint).
    const wf = workflows.get(decodeURIComponent(req.url.slice('/_probe/'.length))) || { events: 0, status: null };
    return res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ events: wf.events, status: wf.status }));
  }
  if (req.method !== 'POST' || req.url !== '/webhooks/jumio') return reply([404, 'not found']);
  // The peer address, never X-Forwarded-For: anyone can forge that header.
  const peer = req.socket.remoteAddress.replace(/^::ffff:/, '');
  if (!sources.check(peer, net.isIPv6(peer) ? 'ipv6' : 'ipv4')) return reply([403, 'not a Jumio callback address']);
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > MAX_BODY) req.destroy(); // too large: drop the connection
    else chunks.push(c);
  });
  req.on('end', () => reply(callback(Buffer.concat(chunks))));
});

const addr = process.env.ADDR || '127.0.0.1:9000';
const i = addr.lastIndexOf(':');
server.listen(Number(addr.slice(i + 1)), addr.slice(0, i), () => {
  console.log(`listening on http://${addr.slice(0, i)}:${server.address().port}`);
});
