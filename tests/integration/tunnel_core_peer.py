#!/usr/bin/env python3
"""The TLS server at the other end of the tunnel suites (t_tunnel_core.sh,
t_tunnel_direct.sh).

Usage: tunnel_core_peer.py MODE CERT KEY PORT_FILE LOG
Listens on an ephemeral 127.0.0.1 port (written to PORT_FILE), serves CERT
(with its chain) and, per connection:
  collect   reads to the end, then answers "got=N close_notify=yes|no" plus a
            digest of the lines it got ("child\\n" counts...), and closes
  greet     sends "220 greeting\\n" first, then as collect
  pg-S      postgres: reads the 8-byte SSLRequest, answers S, then TLS, collect
  pg-N      postgres: reads the SSLRequest, answers N, records what follows
  mtls      collect, with a client certificate required (CA: $CLIENT_CA)
  bulk      sends 204800 bytes at once (byte i is i % 251), then as collect
  drip      the same bytes in sends of 4096, 10 ms apart, then as collect
  echo1     sends the first line it reads back, then as collect (the LOG and
            the count have the line too)
  late      sends "late\\n" 1 s after the handshake and "later\\n" 0.3 s after
            that, then as collect
  burst     echo1's echo, then 0.5 s later 20 records of one line each
            ("burst00\\n"...), corked into one TCP segment, then as collect
  smallburst echo1's echo, then 0.5 s later 520 records of 100 bytes each
            (99 "s" and a newline), corked into one segment (more than the
            pump decrypts in one go, less than it reads), then as collect
  reset     reads up to a newline, then closes with SO_LINGER 0 (a TCP reset,
            no close_notify)
Every decrypted byte is appended to LOG (what crossed), plaintext that
arrives after an N too: the suites check that nothing of the program did.
"""
import os
import socket
import ssl
import struct
import sys
import threading
import time

mode, cert, key, port_file, log = sys.argv[1:6]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
if mode == "mtls":
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.environ["CLIENT_CA"])
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
lock = threading.Lock()


def record(data):
    with lock, open(log, "ab") as out:
        out.write(data)


def collect(s, got=b""):
    notify = "no"
    while True:
        try:
            data = s.recv(65536)
        except ssl.SSLEOFError:
            break
        if not data:
            notify = "yes"  # python reads close_notify as a clean EOF
            break
        record(data)
        got += data
    lines = {}
    for line in got.split(b"\n"):
        if line and len(line) < 20:
            lines[line.decode(errors="replace")] = lines.get(line.decode(errors="replace"), 0) + 1
    digest = ",".join("%s:%d" % kv for kv in sorted(lines.items()) if kv[1] < 5)
    s.sendall(("got=%d close_notify=%s lines=%s\n" % (len(got), notify, digest)).encode())


BULK = bytes(i % 251 for i in range(204800))
BURSTS = {
    "burst": [b"burst%02d\n" % i for i in range(20)],
    "smallburst": [b"s" * 99 + b"\n"] * 520,
}


def echo_first_line(s, keep):
    """Reads up to the first newline (each piece passed to keep), sends that
    line back; returns what it read."""
    first = b""
    while b"\n" not in first:
        data = s.recv(4096)
        if not data:
            break
        keep(data)
        first += data
    s.sendall(first[:first.find(b"\n") + 1])
    return first


def reset(s):
    got = b""
    while b"\n" not in got:
        data = s.recv(4096)
        if not data:
            break
        got += data
    record(got)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


def serve(conn):
    try:
        conn.settimeout(20)
        if mode.startswith("pg-"):
            req = conn.recv(8)
            if req != b"\x00\x00\x00\x08\x04\xd2\x16\x2f":
                record(b"BAD-SSLREQUEST:" + req)
                return
            conn.sendall(mode[3:].encode())
            if mode == "pg-N":
                while True:
                    data = conn.recv(4096)
                    if not data:
                        return
                    record(data)
        with ctx.wrap_socket(conn, server_side=True) as s:
            if mode == "greet":
                s.sendall(b"220 greeting\n")
            elif mode == "bulk":
                s.sendall(BULK)
            elif mode == "drip":
                for i in range(0, len(BULK), 4096):
                    s.sendall(BULK[i:i + 4096])
                    time.sleep(0.01)
            elif mode == "echo1":
                collect(s, echo_first_line(s, record))
                return
            elif mode in BURSTS:
                echo_first_line(s, lambda data: None)
                time.sleep(0.5)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 1)
                for rec in BURSTS[mode]:
                    s.sendall(rec)  # one record each
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CORK, 0)
            elif mode == "late":
                time.sleep(1.0)
                s.sendall(b"late\n")
                time.sleep(0.3)
                s.sendall(b"later\n")
            elif mode == "reset":
                reset(s)
                return
            collect(s)
            try:
                s.unwrap()
            except (OSError, ssl.SSLError):
                pass
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()


with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
