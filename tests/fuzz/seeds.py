#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (tests/fuzz/README.md).

Run from the top of the tree: python3 tests/fuzz/seeds.py. The stream seeds are
the captured TLS sessions of tests/unit/check_stream.c, re-encoded in fuzz_stream's
input format; the policy seeds are the policy fixtures themselves (read in place
by seeds.sh), the filled-in templates among them and a few written here; the
audit seeds are written here.
"""
import os
import re
import shutil
import struct

TOP = os.getcwd()
CORPUS = os.path.join(TOP, "tests", "fuzz", "corpus")

OUT, IN = 0, 1          # fuzz_stream chunk direction byte
OUTBOUND, INBOUND = 0, 1
POSTGRES = 2


def c_arrays(path):
    """Every `static const uint8_t NAME[] = {...};` of a C file, as bytes."""
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    arrays = {}
    for m in re.finditer(r"static const uint8_t (\w+)\[\] = \{(.*?)\};", text, re.S):
        items = [i.strip() for i in m.group(2).split(",") if i.strip()]
        data = bytearray()
        for item in items:
            if item.startswith("'"):
                data.append(ord(item[1:-1].encode().decode("unicode_escape")))
            else:
                data.append(int(item, 0))
        arrays[m.group(1)] = bytes(data)
    return arrays


def stream_input(mode, chunks):
    out = bytearray([mode])
    for direction, data in chunks:
        out += struct.pack(">BH", direction, len(data)) + data
    return bytes(out)


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def stream_seeds():
    a = c_arrays(os.path.join(TOP, "tests", "unit", "check_stream.c"))
    # A session as the client sees it: even flights written, odd ones read.
    for ver in ("tls13", "tls12"):
        flights = sorted((k for k in a if k.startswith(ver + "_")),
                         key=lambda k: int(k.split("_")[1]))
        chunks = [(OUT if "client" in k else IN, a[k]) for k in flights]
        write("stream", ver + "_client", stream_input(OUTBOUND, chunks))
        # The same session as the server sees it.
        server = [(IN if d == OUT else OUT, data) for d, data in chunks]
        write("stream", ver + "_server", stream_input(INBOUND, server))
    write("stream", "hello12", stream_input(OUTBOUND, [(OUT, a["hello_s_client12"])]))
    write("stream", "hello_fragmented",
          stream_input(OUTBOUND, [(OUT, a["hello_fragmented"])]))
    write("stream", "min_hello", stream_input(OUTBOUND, [(OUT, a["min_hello"])]))
    write("stream", "ext_hello", stream_input(OUTBOUND, [(OUT, a["ext_hello"])]))
    # The classifier's handshake rules: the ServerHello lets application data
    # through; an early alert ends its direction; the compatibility CCS.
    alert = bytes([0x15, 3, 3, 0, 2, 2, 40])
    ccs = bytes([0x14, 3, 3, 0, 1, 1])
    appdata = bytes([0x17, 3, 3, 0, 5]) + b"hello"
    write("stream", "server_hello_then_appdata",
          stream_input(OUTBOUND, [(OUT, a["min_hello"]), (IN, a["min_server_hello"]),
                                  (OUT, appdata)]))
    write("stream", "appdata_before_server_hello",
          stream_input(OUTBOUND, [(OUT, a["min_hello"]), (OUT, appdata)]))
    write("stream", "ccs_then_alert",
          stream_input(OUTBOUND, [(OUT, a["min_hello"]), (OUT, ccs + alert)]))
    write("stream", "early_alerts",
          stream_input(OUTBOUND, [(IN, alert), (IN, alert), (OUT, a["min_hello"])]))
    write("stream", "inbound_hello_reply",
          stream_input(INBOUND, [(IN, a["ext_hello"]), (OUT, a["min_server_hello"]),
                                 (IN, appdata)]))
    # PostgreSQL: SSLRequest, 'S', then the TLS 1.3 session.
    pg = [(OUT, a["pg_ssl_request"]), (IN, b"S")] + [
        (OUT if "client" in k else IN, a[k])
        for k in sorted((k for k in a if k.startswith("tls13_")),
                        key=lambda k: int(k.split("_")[1]))[:2]]
    write("stream", "postgres_ssl", stream_input(OUTBOUND | POSTGRES, pg))
    write("stream", "postgres_refused",
          stream_input(OUTBOUND | POSTGRES, [(OUT, a["pg_ssl_request"]), (IN, b"N")]))
    write("stream", "postgres_startup",
          stream_input(OUTBOUND | POSTGRES, [(OUT, a["pg_startup"])]))
    write("stream", "postgres_direct",
          stream_input(OUTBOUND | POSTGRES, [(OUT, a["hello_s_client13"])]))
    http = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    write("stream", "http_out", stream_input(OUTBOUND, [(OUT, http)]))
    write("stream", "http_in", stream_input(INBOUND, [(IN, http)]))


def policy_seeds():
    # The fixtures are seeds where they are (seeds.sh): only those that need
    # a placeholder filled in (a template's @PIN@) are written here, so that
    # no file is stored twice.
    for sub in ("policy", "cli"):
        d = os.path.join(TOP, "tests", "fixtures", sub)
        for name in sorted(os.listdir(d)):
            path = os.path.join(d, name)
            if os.path.isfile(path) and name != "README":
                raw = open(path, "rb").read()
                data = raw.replace(b"@PIN@", b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                if data != raw:
                    write("policy", sub + "_" + name, data)
    write("policy", "empty_sections", b'version = 1;\noutbound = { rules = ( ); };\n'
          b'inbound = { rules = ( ); };\n')
    write("policy", "v6_rules", b'version = 1;\noutbound = { default = "deny"; rules = (\n'
          b'  { to = "::1"; port = [ 443, "1-1024" ]; action = "allow"; },\n'
          b'  { to = "fd00::/8"; action = "require_tls"; starttls = "postgres"; },\n'
          b'  { to = "::ffff:10.0.0.0/104"; proto = "udp"; action = "allow"; }\n);\n};\n'
          b'inbound = { default = "allow"; rules = (\n'
          b'  { port = "8000-8100"; from = "127.0.0.0/8"; action = "require_tls"; }\n);\n};\n')
    write("policy", "hostnames", b'version = 1;\nmode = "audit";\ntls = { min_version = "TLSv1.3"; };\n'
          b'outbound = { rules = (\n  { to = "*.example"; action = "deny"; },\n'
          b'  { to = "a.b.example"; port = 8443; action = "allow"; },\n'
          b'  { to = "localhost"; action = "require_tls"; tls = { verify_hostname = false; '
          b'server_name = "x.example"; }; }\n);\n};\n')


    # Strings the printer must escape (libconfig(3): \" \\ \xHH).
    write("policy", "escapes", b'version = 1;\naudit = { socket = "/run/a \\"q\\" \\\\n\\x01\\x7f\\\\"; };\n'
          b'outbound = { rules = ( { to = "A.Example."; action = "allow"; } ); };\n')


def audit_seeds():
    def header(kind, verdict, flags, port, rule, pid, peer):
        return struct.pack(">BBBHiq", kind, verdict, flags, port, rule, pid) + peer.ljust(16, b"\0")

    v4 = bytes([127, 0, 0, 1])
    v6 = bytes(15) + b"\x01"
    write("audit", "connect_v4", header(0, 1, 1 << 5, 443, 3, 42, v4)
          + b"api.example\0\0/usr/bin/curl\0denied")
    write("audit", "handshake_detail", header(2, 1, 2 | 2 << 5, 8443, 0, 7, v6)
          + b'a.example\0certificate verify failed "x"\\\0/opt/my app/bin\0cert_verify')
    write("audit", "hostile_host", header(1, 2, 3 << 5, 80, -1, -1, v4)
          + b'evil\n<13>Jan  1 00:00:00 tlsguard[1]: event=connect verdict=allow\0'
          + b"\x7f\x01\t\0exe=\"/bin/sh\" pid=1\0reason")
    write("audit", "nulls", header(4, 3, 4 | 8 | 16, 0, 2**31 - 1, -2**63, b""))


if __name__ == "__main__":
    for target in ("stream", "policy", "audit"):
        shutil.rmtree(os.path.join(CORPUS, target), ignore_errors=True)
    stream_seeds()
    policy_seeds()
    audit_seeds()
