#!/usr/bin/env python3
"""The TLS server at the other end of the tunnel suites (t_tunnel_core.sh).

Usage: tunnel_core_peer.py MODE CERT KEY PORT_FILE LOG
Listens on an ephemeral 127.0.0.1 port (written to PORT_FILE), serves CERT
(with its chain) and, per connection:
  collect   reads to the end, then answers "got=N close_notify=yes|no" plus a
            digest of the lines it got ("child\\n" counts...), and closes
  greet     sends "220 greeting\\n" first, then as collect
  pg-S      postgres: reads the 8-byte SSLRequest, answers S, then TLS, collect
  pg-N      postgres: reads the SSLRequest, answers N, records what follows
  mtls      collect, with a client certificate required (CA: $CLIENT_CA)
Every decrypted byte is appended to LOG (what crossed), plaintext that
arrives after an N too: the suites check that nothing of the program did.
"""
import os
import socket
import ssl
import sys
import threading

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


def collect(s):
    got = b""
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
