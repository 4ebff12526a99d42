"""The sandbox's apt mirror: a caching proxy of Debian's archive on the sandbox bridge.

The sandbox hosts have no route out, as a user's air-gapped GPU servers often have none: their
OS packages come from a mirror on their own network. This is that mirror for the sandbox. It
answers ``GET``/``HEAD /debian/...`` from its cache, and fetches what it does not have from the
upstream archive (``--upstream``, Debian's) once. Nothing is rewritten: the hosts' apt checks
Debian's own signatures on ``InRelease`` with the keyring debootstrap installed, and every index
and package against the hashes signed there, so the mirror is trusted for nothing.

Cache policy: ``pool/`` files and ``by-hash/`` indexes never change under their names, so they
are kept for good; the other ``dists/`` files (``InRelease``, ``Release``) are fetched again when
older than ``--index-max-age`` seconds, and served stale when the upstream cannot be reached.

Usage: python3 apt_proxy.py --bind IP --port PORT --upstream URL --cache DIR
Test code for the sandbox (not shipped to hosts).
"""
import argparse
import http.server
import os
import shutil
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PREFIX = "/debian/"


class Mirror:
    def __init__(self, upstream: str, cache: str, index_max_age: int):
        self.upstream = upstream.rstrip("/") + "/"
        self.cache = os.path.abspath(cache)
        self.index_max_age = index_max_age
        self.locks = {}
        self.locks_guard = threading.Lock()

    def lock_for(self, path: str) -> threading.Lock:
        with self.locks_guard:
            return self.locks.setdefault(path, threading.Lock())

    @staticmethod
    def immutable(rel: str) -> bool:
        return rel.startswith("pool/") or "/by-hash/" in rel

    def local(self, rel: str) -> str:
        path = os.path.normpath(os.path.join(self.cache, rel))
        if not path.startswith(self.cache + os.sep):
            raise ValueError("path outside the cache: " + rel)
        return path

    def fresh(self, rel: str, path: str) -> bool:
        if not os.path.isfile(path):
            return False
        if self.immutable(rel):
            return True
        return time.time() - os.path.getmtime(path) < self.index_max_age

    def fetch(self, rel: str) -> str:
        """The cached file for REL (fetched first when needed); raises FileNotFoundError."""
        path = self.local(rel)
        with self.lock_for(rel):
            if self.fresh(rel, path):
                return path
            try:
                with urllib.request.urlopen(self.upstream + rel, timeout=60) as r:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".part-")
                    with os.fdopen(fd, "wb") as out:
                        shutil.copyfileobj(r, out, 1 << 20)
                    os.replace(tmp, path)
                    log("fetched %s" % rel)
                    return path
            except urllib.error.HTTPError as e:
                if e.code == 404:
                    raise FileNotFoundError(rel) from e
                if os.path.isfile(path):
                    log("upstream answered %s for %s: serving the cached copy" % (e.code, rel))
                    return path
                raise
            except OSError as e:
                if os.path.isfile(path):
                    log("upstream unreachable for %s (%s): serving the cached copy" % (rel, e))
                    return path
                raise


def log(message: str) -> None:
    sys.stderr.write("[apt-mirror] %s\n" % message)
    sys.stderr.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    mirror: Mirror = None  # set in main

    def log_message(self, fmt, *args):
        log("%s %s" % (self.client_address[0], fmt % args))

    def do_HEAD(self):  # noqa: N802
        self.answer(with_body=False)

    def do_GET(self):  # noqa: N802
        self.answer(with_body=True)

    def answer(self, with_body: bool) -> None:
        path = self.path.split("?", 1)[0]
        if not path.startswith(PREFIX) or ".." in path:
            self.send_error(404, "only %s... is served" % PREFIX)
            return
        rel = path[len(PREFIX):]
        try:
            local = self.mirror.fetch(rel)
        except FileNotFoundError:
            self.send_error(404)
            return
        except (OSError, ValueError) as e:
            self.send_error(502, "upstream: %s" % e)
            return
        size = os.path.getsize(local)
        self.send_response(200)
        self.send_header("Content-Length", str(size))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if with_body:
            with open(local, "rb") as f:
                shutil.copyfileobj(f, self.wfile, 1 << 20)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bind", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--upstream", required=True)
    p.add_argument("--cache", required=True)
    p.add_argument("--index-max-age", type=int, default=6 * 3600)
    a = p.parse_args()
    os.makedirs(a.cache, exist_ok=True)
    Handler.mirror = Mirror(a.upstream, a.cache, a.index_max_age)
    server = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    server.daemon_threads = True
    log("serving %s on http://%s:%d%s (cache %s)" % (a.upstream, a.bind, a.port, PREFIX, a.cache))
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
