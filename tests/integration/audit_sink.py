#!/usr/bin/env python3
"""Binds a Unix datagram socket (the tests' audit.socket) and appends every
datagram it receives, one per line, to a file. Exits when its parent's test
kills it. Usage: audit_sink.py SOCKET_PATH OUTPUT_FILE"""
import os
import socket
import sys

path, out = sys.argv[1], sys.argv[2]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path + ".tmp")
os.rename(path + ".tmp", path)  # the path appears only once it is bound: readiness
with open(out, "ab", buffering=0) as sink:
    while True:
        data = sock.recv(65536)
        sink.write(data.rstrip(b"\n") + b"\n")
