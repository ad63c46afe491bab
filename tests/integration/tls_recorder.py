#!/usr/bin/env python3
"""A loopback TLS server for the tests that records the application bytes it
receives (decrypted), so a test can tell whether anything crossed.

Usage: tls_recorder.py CERT KEY PORT_FILE OUTPUT_FILE
Serves CERT (with its chain) on an ephemeral 127.0.0.1 port at security level
0 (weak test certificates must still be served; $RECORDER_CIPHERS, if set, is
the TLS 1.2 cipher string), writes the port to PORT_FILE
once listening, appends what each connection sends to OUTPUT_FILE and answers
each read with "ok"."""
import os
import socket
import ssl
import sys
import threading

cert, key, port_file, output = sys.argv[1:5]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.set_ciphers(os.environ.get("RECORDER_CIPHERS", "ALL:@SECLEVEL=0"))
if "RECORDER_CIPHERS" in os.environ:  # TLS 1.2 suites only
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(cert, key)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(32)
lock = threading.Lock()


def serve(conn):
    try:
        with ctx.wrap_socket(conn, server_side=True) as s:
            s.settimeout(10)
            while True:
                data = s.recv(4096)
                if not data:
                    break
                with lock, open(output, "ab") as out:
                    out.write(data)
                s.sendall(b"ok\n")
    except (OSError, ssl.SSLError):
        pass


with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
