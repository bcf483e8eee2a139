#!/usr/bin/env python3
"""xfrget.py: a minimal AXFR/IXFR client for contrib/bench/xfr.sh (python3 standard library only).

Asks HOST:PORT for an AXFR (or an IXFR from SERIAL) of ZONE over TCP and reads the answer without
decoding the records, so that the client costs nothing next to the server: the end is found by
counting occurrences of the first SOA's last 20 RDATA bytes (serial and timers, which no server
compresses): twice for a whole zone, three times for a condensed incremental answer, once for
"up to date". Prints one line:

  messages=N bytes=N records=N seconds=S form=axfr|incremental|current

  xfrget.py HOST PORT ZONE [SERIAL]        (only 127.0.0.1 and ::1; 600 s deadline)
"""
import socket
import struct
import sys
import time


def skip_name(m, off):
    for _ in range(128):
        n = m[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
    raise ValueError("name too long")


def first_soa_rdata(m):
    """The RDATA of the first answer record of the first message (the SOA)."""
    off = skip_name(m, 12) + 4
    off = skip_name(m, off)
    t, c, ttl, rdlen = struct.unpack("!HHIH", m[off:off + 10])
    if t != 6:
        raise ValueError("first record is type %d, not SOA" % t)
    return m[off + 10:off + 10 + rdlen]


def query(zone, serial):
    qtype = 252 if serial is None else 251
    q = struct.pack("!HHHHHH", 0x7171, 0, 1, 0, 0 if serial is None else 1, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in zone.strip(".").split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    if serial is not None:   # the client's SOA: root names, the serial, zero timers
        q += b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 0, 22) + b"\0\0"
        q += struct.pack("!IIIII", serial, 0, 0, 0, 0)
    return struct.pack("!H", len(q)) + q


def main():
    host, port, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    serial = int(sys.argv[4]) if len(sys.argv) > 4 else None
    if host not in ("127.0.0.1", "::1"):
        sys.exit("only 127.0.0.1 and ::1")
    s = socket.create_connection((host, port), timeout=600)
    t0 = time.monotonic()
    s.sendall(query(zone, serial))
    f = s.makefile("rb", buffering=1 << 20)
    msgs = total = rrs = seen = 0
    soa = None
    want = 2
    form = "axfr"
    while True:
        h = f.read(2)
        if len(h) < 2:
            sys.exit("connection closed after %d messages" % msgs)
        (n,) = struct.unpack("!H", h)
        m = f.read(n)
        msgs += 1
        total += n + 2
        if m[3] & 0xF:
            sys.exit("rcode %d" % (m[3] & 0xF))
        an = struct.unpack("!H", m[6:8])[0]
        rrs += an
        if soa is None:
            soa = first_soa_rdata(m)[-20:]
            if serial is not None:
                old = struct.pack("!I", serial) + soa[-16:]
                if an == 1:
                    form, want = "current", 1
                elif old in m:
                    form, want = "incremental", 3
        seen += m.count(soa)
        if seen >= want:
            break
    dt = time.monotonic() - t0
    print("messages=%d bytes=%d records=%d seconds=%.3f form=%s" % (msgs, total, rrs, dt, form))


if __name__ == "__main__":
    main()
