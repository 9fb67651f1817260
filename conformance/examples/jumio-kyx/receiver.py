"""A Jumio KYX callback receiver to copy (Python 3.11+, standard library only).

    python3 receiver.py  # POST http://127.0.0.1:9000/webhooks/jumio

kycsim's conformance suite certifies it (cmd/kycsim/examples_test.go runs
`kycsim conform` against it).
"""
import ipaddress
import json
import os
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

MAX_BODY = 1 << 20  # Jumio's callbacks are well under a kilobyte
# The addresses Jumio sends callbacks from (AMER, EMEA, APAC; see "Callback"
# in Jumio's documentation). A KYX callback carries no signature: its source
# address is its only proof.
JUMIO_SOURCES = ("34.202.241.227,34.226.103.119,34.226.254.127,52.8.136.236,54.177.61.57,54.183.15.212,"
                 "34.253.41.236,35.157.27.193,52.48.0.25,52.57.194.92,52.58.113.86,52.209.180.134,"
                 "3.0.109.121,52.76.184.73,52.77.102.92,13.238.100.17,13.238.203.238,52.64.132.26")
SOURCES = {ipaddress.ip_address(s.strip()) for s in os.environ.get("JUMIO_SOURCES", JUMIO_SOURCES).split(",")}
# The statuses in order: a final one (3) is never replaced by an earlier stage arriving late.
STAGE = {"ACQUISITION_STARTED": 1, "ACQUIRED": 2, "PROCESSED": 3, "SESSION_EXPIRED": 3, "TOKEN_EXPIRED": 3}
OLDEST = datetime.min.replace(tzinfo=timezone.utc)


def sent_at(s):
    """callbackSentAt, RFC 3339 and fresh on every redelivery; unreadable counts as the oldest."""
    try:
        t = datetime.fromisoformat(s)
        return t if t.tzinfo else OLDEST
    except (TypeError, ValueError):
        return OLDEST


# The receiver's state stands for your database: make (workflow id, status) a
# unique index and insert-or-ignore, so that two copies of a callback racing
# each other are acted on once.
lock = threading.Lock()
seen = set()
workflows = {}  # workflowExecution.id -> {"events", "status", "at"}


def act(wf_id, status, at):
    """Acts on a workflow's status once: a redelivery carries a fresh
    callbackSentAt, so dedupe on id and status, never on the timestamp."""
    with lock:
        if (wf_id, status) in seen:
            return  # a redelivery: already acted on
        seen.add((wf_id, status))
        wf = workflows.setdefault(wf_id, {"events": 0, "status": None, "at": OLDEST})
        wf["events"] += 1
        new, held = STAGE[status], STAGE.get(wf["status"], 0)
        if new > held or (new == held and at >= wf["at"]):
            wf["status"], wf["at"] = status, at
        # Once PROCESSED, fetch the result from workflowExecution.href with your API token.


class Handler(BaseHTTPRequestHandler):
    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        """403 to a sender outside the allowlist (the peer address:
        X-Forwarded-For is anyone's to forge), 400 to content it cannot use
        (never 5xx: Jumio would retry it in vain), 200 to the rest."""
        if self.path != "/webhooks/jumio":
            return self.answer(404)
        if ipaddress.ip_address(self.client_address[0]) not in SOURCES:
            return self.answer(403, b"not a Jumio callback address")
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return self.answer(413, b"body too large or of unknown length")
        try:
            cb = json.loads(self.rfile.read(int(length)))
            wf_id, status = cb["workflowExecution"]["id"], cb["workflowExecution"]["status"]
        except (ValueError, KeyError, TypeError):
            return self.answer(400, b"not a KYX callback")
        if not isinstance(wf_id, str) or not wf_id or not isinstance(status, str) or status not in STAGE:
            return self.answer(400, b"not a KYX callback with a documented status")
        act(wf_id, status, sent_at(cb.get("callbackSentAt")))
        self.answer(200)

    def do_GET(self):
        """GET /_probe/{subject}: what the receiver did for a workflow, for
        kycsim's conformance suite (a test-only endpoint)."""
        if not self.path.startswith("/_probe/"):
            return self.answer(404)
        with lock:
            wf = workflows.get(unquote(self.path[len("/_probe/"):]), {"events": 0, "status": None})
            out = {"events": wf["events"], "status": wf["status"]}
        self.answer(200, json.dumps(out).encode())

    def log_message(self, *args):
        pass  # keep callbacks (personal data) out of the logs


if __name__ == "__main__":
    host, _, port = os.environ.get("ADDR", "127.0.0.1:9000").rpartition(":")
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 refuses bursts of connections
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print("listening on http://%s:%d" % server.server_address[:2], flush=True)
    server.serve_forever()
