#!/usr/bin/env python3
"""free-ports.py N: N free TCP ports on the loopback, distinct, on one line.

They are held open together while they are picked, so that the kernel
does not hand out the same port twice (tests/test-nginx.sh, tools/bench).
"""
import socket
import sys

sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
