#!/usr/bin/env python3
"""probe.py HOST PORT... [--from SRCPORT]: PORT=open|timeout|refused|unreach(errno) for each port
(2 s each, all at once); open means the lab listener answered. --from binds that local source
port (then one port at a time)."""
import socket
import sys
from concurrent.futures import ThreadPoolExecutor

args = sys.argv[1:]
src = None
if "--from" in args:
    i = args.index("--from")
    src = int(args[i + 1])
    del args[i:i + 2]
host, ports = args[0], args[1:]


def probe(p):
    s = socket.socket()
    s.settimeout(2)
    if src is not None:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("", src))
    try:
        s.connect((host, int(p)))
        data = s.recv(16)
        r = "open" if data.startswith(b"ok") else "open(not the lab listener)"
    except socket.timeout:
        r = "timeout"
    except ConnectionRefusedError:
        r = "refused"
    except OSError as e:
        r = "unreach(%s)" % e.errno
    finally:
        s.close()
    return "%s=%s" % (p, r)


with ThreadPoolExecutor(max_workers=1 if src is not None else max(1, len(ports))) as pool:
    print(" ".join(pool.map(probe, ports)))
