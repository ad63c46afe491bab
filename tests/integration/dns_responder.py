#!/usr/bin/env python3
"""A loopback DNS responder for t_dns.sh: answers every A query with
10.53.53.53 (other types: no answer), and appends each query's name to LOG.

Usage: dns_responder.py ADDR PORT LOG READY (READY is created once bound).
"""
import socket
import struct
import sys

addr, port, log, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sock.bind((addr, port))
open(ready, "w").close()


def qname(packet):
    labels, pos = [], 12
    while pos < len(packet) and packet[pos] != 0:
        n = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + n].decode("ascii", "replace"))
        pos += 1 + n
    return ".".join(labels), pos + 1


while True:
    packet, peer = sock.recvfrom(4096)
    if len(packet) < 12:
        continue
    name, pos = qname(packet)
    qtype, = struct.unpack(">H", packet[pos:pos + 2])
    with open(log, "a") as f:
        f.write("%s %d\n" % (name, qtype))
    question = packet[12:pos + 4]
    answers = b""
    if qtype == 1:
        answers = struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([10, 53, 53, 53])
    header = packet[:2] + struct.pack(">HHHHH", 0x8180, 1, 1 if answers else 0, 0, 0)
    sock.sendto(header + question + answers, peer)
