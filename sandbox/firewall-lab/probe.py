#!/usr/bin/env python3
"""probe.py HOST PORT... [--from SRCPORT]: PORT=open|timeout|refused|unreach(errno) for each port
(2 s each); open means the lab listener answered. --from binds that local source port."""
import socket
import sys

args = sys.argv[1:]
src = None
if "--from" in args:
    i = args.index("--from")
    src = int(args[i + 1])
    del args[i:i + 2]
host, ports = args[0], args[1:]
out = []
for p in ports:
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
    out.append("%s=%s" % (p, r))
print(" ".join(out))
