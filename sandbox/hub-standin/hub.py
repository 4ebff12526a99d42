#!/usr/bin/env python3
"""STAND-IN for the Hugging Face Hub: the few HTTP endpoints the real huggingface_hub client
(`hf download REPO --revision REV --local-dir DIR`) calls, served from a local directory, so that
the client on test hosts downloads through `hf_endpoint` with no internet. Not the Hub and not a
general mirror: test code only (sandbox/), never shipped.

What it does like the Hub (huggingface_hub 2.4 reads these):
  GET  /api/models/ORG/NAME/revision/REV   repo info: {"id", "sha", "siblings"}
  GET  /api/models/ORG/NAME/tree/REV       the file list (recursive), {"type","path","size","oid"}
  HEAD|GET /ORG/NAME/resolve/REV/PATH      X-Repo-Commit, ETag, Content-Length; Range -> 206
  errors as the Hub sends them: X-Error-Code RepoNotFound / RevisionNotFound / EntryNotFound,
  401 "Invalid credentials in Authorization header" for a token it does not know.

Repositories: ROOT/ORG/NAME/refs.json ({"main": SHA, "v1": SHA, ...}) and
ROOT/ORG/NAME/commits/SHA/<files>. A repo whose directory holds a file named `private` needs a
valid token (Authorization: Bearer TOKEN, TOKEN listed in --tokens-file); without one the Hub
answers 401 (the client reports "repository not found").

--log FILE: one JSON line per request (method, path, range, status, bytes, auth as
none|valid|invalid: never the token). --rate BYTES: files are sent at most this fast.
--stall-once-after BYTES (with --stall-file FILE): the first whole-file GET of each file larger
than BYTES sends BYTES, writes the file's path to FILE, then trickles one byte a second (so the
client neither finishes nor times out) until the client goes away or 300 s pass: a test's moment
to kill the client in the middle of a download.
"""
import argparse
import hashlib
import json
import os
import re
import select
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

REVISION_PATH = re.compile(r"^/api/models/([^/]+)/([^/]+)/revision/([^/]+)$")
TREE_PATH = re.compile(r"^/api/models/([^/]+)/([^/]+)/tree/([^/]+)(/.*)?$")
RESOLVE_PATH = re.compile(r"^/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


class Hub:
    def __init__(self, root, tokens_file, rate, log_path, stall_after=0, stall_file=None):
        self.root = os.path.abspath(root)
        self.tokens_file = tokens_file
        self.rate = rate
        self.log_path = log_path
        self.stall_after = stall_after
        self.stall_file = stall_file
        self.stalled = set()
        self.lock = threading.Lock()
        self.digests = {}

    def stall_here(self, path, size, ranged):
        """True once per file: this whole-file GET is the one to stall."""
        if not self.stall_after or ranged or size <= self.stall_after:
            return False
        with self.lock:
            if path in self.stalled:
                return False
            self.stalled.add(path)
        return True

    def tokens(self):
        if not self.tokens_file or not os.path.exists(self.tokens_file):
            return set()
        with open(self.tokens_file, encoding="utf-8") as f:
            return {line.strip() for line in f if line.strip()}

    def repo_dir(self, org, name):
        d = os.path.join(self.root, org, name)
        return d if os.path.isfile(os.path.join(d, "refs.json")) else None

    def resolve(self, repo, rev):
        """The commit SHA of a branch/tag name or of a full SHA, or None."""
        with open(os.path.join(repo, "refs.json"), encoding="utf-8") as f:
            refs = json.load(f)
        if rev in refs:
            return refs[rev]
        if re.fullmatch(r"[0-9a-f]{40}", rev) and os.path.isdir(os.path.join(repo, "commits", rev)):
            return rev
        return None

    def files(self, repo, sha):
        base = os.path.join(repo, "commits", sha)
        out = []
        for dirpath, _, names in os.walk(base):
            for n in names:
                full = os.path.join(dirpath, n)
                out.append((os.path.relpath(full, base), full))
        return sorted(out)

    def sha256(self, path):
        st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns)
        with self.lock:
            if key in self.digests:
                return self.digests[key]
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        with self.lock:
            self.digests[key] = h.hexdigest()
        return self.digests[key]

    def log(self, record):
        if not self.log_path:
            return
        with self.lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


class Handler(BaseHTTPRequestHandler):
    hub = None
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # the JSON log is ours; keep stderr quiet
        pass

    def auth(self):
        header = self.headers.get("Authorization", "")
        if not header:
            return "none"
        token = header[len("Bearer "):] if header.startswith("Bearer ") else ""
        return "valid" if token and token in self.hub.tokens() else "invalid"

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        path = unquote(urlsplit(self.path).path)
        auth = self.auth()
        record = {"method": self.command, "path": path, "range": self.headers.get("Range"), "auth": auth,
                  "time": round(time.time(), 3)}
        status, sent = 500, 0
        try:
            status, sent = self.route(path, auth, head)
        except (BrokenPipeError, ConnectionResetError) as e:
            status, sent = getattr(e, "status", status), getattr(e, "sent", sent)
            record["aborted"] = True
        finally:
            record["status"], record["bytes"] = status, sent
            self.hub.log(record)

    def error(self, status, code, message, head):
        body = json.dumps({"error": message}).encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("X-Error-Message", message)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        return status, 0

    def json(self, obj, head):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)
        return 200, len(body)

    def route(self, path, auth, head):
        m = REVISION_PATH.match(path) or TREE_PATH.match(path) or RESOLVE_PATH.match(path)
        if not m:
            return self.error(404, None, "Not Found", head)
        org, name, rev = m.group(1), m.group(2), m.group(3)
        repo = self.hub.repo_dir(org, name)
        # The Hub: a token it does not know is refused whatever the repo.
        if auth == "invalid":
            return self.error(401, None, "Invalid credentials in Authorization header", head)
        if repo is None or (os.path.exists(os.path.join(repo, "private")) and auth != "valid"):
            return self.error(401 if repo else 404, "RepoNotFound", "Repository not found", head)
        sha = self.hub.resolve(repo, rev)
        if sha is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {rev}", head)
        files = self.hub.files(repo, sha)
        if m.re is REVISION_PATH:
            return self.json({"id": f"{org}/{name}", "modelId": f"{org}/{name}", "sha": sha, "private": True,
                              "siblings": [{"rfilename": p} for p, _ in files]}, head)
        if m.re is TREE_PATH:
            return self.json([{"type": "file", "path": p, "size": os.path.getsize(f),
                               "oid": hashlib.sha1(p.encode() + sha.encode()).hexdigest()} for p, f in files], head)
        wanted = m.group(4)
        full = dict(files).get(wanted)
        if full is None:
            return self.error(404, "EntryNotFound", f"{wanted} does not exist on {rev}", head)
        return self.send_file(full, sha, head)

    def send_file(self, full, sha, head):
        size = os.path.getsize(full)
        start, end = 0, size - 1
        rng = RANGE.match(self.headers.get("Range") or "")
        if rng:
            start = int(rng.group(1))
            end = int(rng.group(2)) if rng.group(2) else size - 1
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return 416, 0
        length = end - start + 1
        self.send_response(206 if rng else 200)
        self.send_header("X-Repo-Commit", sha)
        self.send_header("ETag", f'"{self.hub.sha256(full)}"')
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if rng:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return 200, 0
        sent = 0
        stall = self.hub.stall_here(full, size, bool(rng))
        with open(full, "rb") as f:
            f.seek(start)
            began = time.monotonic()
            while sent < length:
                if stall and sent >= self.hub.stall_after:
                    stall = False
                    sent += self.trickle(f, full, sent, length)
                    continue
                chunk = f.read(min(65536, length - sent))
                if not chunk:
                    break
                try:
                    self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError) as e:
                    e.status, e.sent = 206 if rng else 200, sent
                    raise
                sent += len(chunk)
                if self.hub.rate:
                    ahead = sent / self.hub.rate - (time.monotonic() - began)
                    if ahead > 0:
                        time.sleep(ahead)
        return (206 if rng else 200), sent

    def trickle(self, f, full, sent, length):
        """One byte a second until the client has gone (then raise) or 300 s have passed."""
        if self.hub.stall_file:
            with open(self.hub.stall_file, "a", encoding="utf-8") as marker:
                marker.write(full + "\n")
        self.wfile.flush()
        deadline, extra = time.monotonic() + 300, 0
        while time.monotonic() < deadline and sent + extra < length - 1:
            readable, _, _ = select.select([self.connection], [], [], 1.0)
            if readable and not self.connection.recv(1, socket.MSG_PEEK):
                e = ConnectionResetError("client went away during the stall")
                e.status, e.sent = 200, sent + extra
                raise e
            try:
                self.wfile.write(f.read(1))
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError) as e:
                e.status, e.sent = 200, sent + extra
                raise
            extra += 1
        return extra


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8702)
    p.add_argument("--root", required=True, help="repositories: ROOT/ORG/NAME/{refs.json,commits/SHA/}")
    p.add_argument("--tokens-file", help="tokens accepted (one per line); re-read on every request")
    p.add_argument("--rate", type=int, default=0, help="bytes per second per file download (0: unlimited)")
    p.add_argument("--log", help="JSON lines, one per request")
    p.add_argument("--stall-once-after", type=int, default=0, help="bytes; see above (0: never)")
    p.add_argument("--stall-file", help="where a stall is announced (one path per line)")
    a = p.parse_args()
    Handler.hub = Hub(a.root, a.tokens_file, a.rate, a.log, a.stall_once_after, a.stall_file)
    server = ThreadingHTTPServer((a.bind, a.port), Handler)
    server.daemon_threads = True
    print(f"hub stand-in: http://{a.bind}:{a.port}/ serving {a.root}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
