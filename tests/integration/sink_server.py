#!/usr/bin/env python3
"""A loopback TCP server for the tests: records every byte it receives.

Usage: sink_server.py [--reply TEXT] [--v6] PORT_FILE OUTPUT_FILE
Binds an ephemeral port on 127.0.0.1 (or ::1), writes the port number to
PORT_FILE once it listens (readiness), appends what each connection sends to
OUTPUT_FILE, and with --reply sends TEXT to each new connection first."""
import argparse
import os
import socket
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--reply", default=None)
ap.add_argument("--v6", action="store_true")
ap.add_argument("port_file")
ap.add_argument("output")
args = ap.parse_args()

family = socket.AF_INET6 if args.v6 else socket.AF_INET
srv = socket.socket(family, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("::1" if args.v6 else "127.0.0.1", 0))
srv.listen(64)
lock = threading.Lock()


def serve(conn):
    with conn:
        if args.reply is not None:
            try:
                conn.sendall(args.reply.encode())
            except OSError:
                return
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            with lock, open(args.output, "ab") as out:
                out.write(data)


open(args.output, "ab").close()
with open(args.port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(args.port_file + ".tmp", args.port_file)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
