"""A Sumsub webhook receiver to copy (Python standard library only).

    SUMSUB_WEBHOOK_SECRET=s3cr3t python3 receiver.py  # POST http://127.0.0.1:9000/webhooks/sumsub

kycsim's conformance suite certifies it (cmd/kycsim/examples_test.go runs
`kycsim conform` against it).
"""
import hashlib
import hmac
import json
import os
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

SECRET = os.environ.get("SUMSUB_WEBHOOK_SECRET", "").encode()
MAX_BODY = 1 << 20  # Sumsub's webhooks are a few kilobytes
ALGS = {"HMAC_SHA1_HEX": hashlib.sha1, "HMAC_SHA256_HEX": hashlib.sha256, "HMAC_SHA512_HEX": hashlib.sha512}
HANDLED = {"applicantPending", "applicantOnHold", "applicantReviewed"}


def verify(headers, body):
    """Checks X-Payload-Digest, the HMAC of the raw body (never of re-encoded JSON)."""
    alg = ALGS.get(headers.get("X-Payload-Digest-Alg", ""))
    if alg is None:
        return False
    want = hmac.new(SECRET, body, alg).hexdigest()
    return hmac.compare_digest(want, headers.get("X-Payload-Digest", "").lower())  # constant time


def created_at(s):
    """createdAtMs, "2024-05-01 10:20:30.123" in UTC; unreadable counts as the oldest."""
    try:
        return datetime.fromisoformat(s)
    except (TypeError, ValueError):
        return datetime.min


# The receiver's state stands for your database: make the event key a unique
# index and insert-or-ignore, so that two copies of a webhook racing each other
# are acted on once.
lock = threading.Lock()
seen = set()
applicants = {}  # applicantId -> {"events", "status", "at"}


def act(key, applicant_id, status, at):
    """Acts on a webhook once per key; a late older one does not replace the newer status."""
    with lock:
        if key in seen:
            return  # a redelivery: already acted on
        seen.add(key)
        a = applicants.setdefault(applicant_id, {"events": 0, "status": None, "at": datetime.min})
        a["events"] += 1
        if at >= a["at"]:
            a["status"], a["at"] = status, at


class Handler(BaseHTTPRequestHandler):
    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        """401 to a bad signature, 400 to content it cannot use (never 5xx:
        Sumsub would retry it in vain), 200 to the rest."""
        if self.path != "/webhooks/sumsub":
            return self.answer(404)
        length = self.headers.get("Content-Length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            return self.answer(413, b"body too large or of unknown length")
        body = self.rfile.read(int(length))
        if not verify(self.headers, body):
            return self.answer(401, b"bad signature")
        try:
            wh = json.loads(body)
            applicant_id, kind = wh["applicantId"], wh["type"]
            answer = (wh.get("reviewResult") or {}).get("reviewAnswer")
        except (ValueError, KeyError, TypeError, AttributeError):
            return self.answer(400, b"not a Sumsub webhook")
        if not isinstance(applicant_id, str) or not applicant_id or not isinstance(kind, str) or not kind:
            return self.answer(400, b"not a Sumsub webhook")
        if answer not in (None, "GREEN", "RED"):
            return self.answer(400, b"reviewAnswer is neither GREEN nor RED")
        status = str(wh.get("reviewStatus") or "") + ("/" + answer if answer else "")
        if kind in HANDLED:  # other and future types: acknowledged, ignored
            stamp = wh.get("createdAtMs")
            key = "|".join(str(x) for x in (applicant_id, kind, stamp, wh.get("correlationId"), status))
            act(key, applicant_id, status, created_at(stamp))
        self.answer(200)

    def do_GET(self):
        """GET /_probe/{subject}: what the receiver did for an applicant, for
        kycsim's conformance suite (a test-only endpoint)."""
        if not self.path.startswith("/_probe/"):
            return self.answer(404)
        with lock:
            a = applicants.get(unquote(self.path[len("/_probe/"):]), {"events": 0, "status": None})
            out = {"events": a["events"], "status": a["status"]}
        self.answer(200, json.dumps(out).encode())

    def log_message(self, *args):
        pass  # keep webhooks (personal data) out of the logs


if __name__ == "__main__":
    if not SECRET:
        raise SystemExit("set SUMSUB_WEBHOOK_SECRET to the webhook's secret key")
    host, _, port = os.environ.get("ADDR", "127.0.0.1:9000").rpartition(":")
    ThreadingHTTPServer.request_queue_size = 128  # the default 5 refuses bursts of connections
    server = ThreadingHTTPServer((host, int(port)), Handler)
    print("listening on http://%s:%d" % server.server_address[:2], flush=True)
    server.serve_forever()
