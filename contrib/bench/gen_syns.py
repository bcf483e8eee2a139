#!/usr/bin/env python3
# gen_syns.py OUT N [DAYS]: a pcap of N sensor SYNs (Ethernet, Linux and Windows shapes, IPv4 and IPv6)
# spread over DAYS days from a large population of sources, for the ingest read-speed benchmark.
# Deterministic (seed 1). Streams its output; memory stays small whatever N.
import random, struct, sys

out_path, n = sys.argv[1], int(sys.argv[2])
days = float(sys.argv[3]) if len(sys.argv) > 3 else 30.0
rnd = random.Random(1)
opts_linux = struct.pack('!BBH', 2, 4, 1460) + b'\x04\x02' + struct.pack('!BBII', 8, 10, 1234, 0) + b'\x01' + struct.pack('!BBB', 3, 3, 7)
opts_win = struct.pack('!BBH', 2, 4, 1460) + b'\x01' + struct.pack('!BBB', 3, 3, 8) + b'\x01\x01\x04\x02'
eth4 = b'\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00'
eth6 = eth4[:12] + b'\x86\xdd'
dst4 = bytes([198, 51, 100, 25])
dst6 = bytes.fromhex('20010db8ffff00000000000000000025')
v4s = [bytes([rnd.randrange(1, 224), rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)]) for _ in range(50000)]
v6s = [bytes([0x24, rnd.randrange(256)]) + rnd.randbytes(6) + rnd.randbytes(8) for _ in range(50000)]
span = days * 86400.0
t0 = 1700000000.0
with open(out_path, 'wb', buffering=1 << 24) as out:
    out.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
    chunk = []
    for i in range(n):
        t = t0 + span * i / n
        win = i % 3 == 0
        opts = opts_win if win else opts_linux
        tcp = struct.pack('!HHIIBBHHH', 1024 + rnd.randrange(64000), 25, rnd.getrandbits(32), 0,
                          (20 + len(opts)) // 4 << 4, 0x02, 8192 if win else 64240, 0, 0) + opts
        if i & 1:
            ip = struct.pack('!IHBB', 6 << 28, len(tcp), 6, 117 if win else 52) + v6s[rnd.randrange(len(v6s))] + dst6
            p = eth6 + ip + tcp
        else:
            ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), rnd.getrandbits(16), 0x4000,
                             117 if win else 52, 6, 0, v4s[rnd.randrange(len(v4s))], dst4)
            p = eth4 + ip + tcp
        sec = int(t)
        chunk.append(struct.pack('<IIII', sec, int((t - sec) * 1e6), len(p), len(p)) + p)
        if len(chunk) == 100000:
            out.write(b''.join(chunk))
            chunk = []
    out.write(b''.join(chunk))
