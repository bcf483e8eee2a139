#!/usr/bin/env python3
"""make_pcaps.py: writes crafted.pcap, one crafted TCP SYN per case, for checking the p0f matcher.

Each case mimics a stack from p0f.fp or exercises one rule of p0f 3.09b (quirks, TTL distance,
window forms, option layouts). Run it, then `TZ=UTC p0f -r crafted.pcap -o crafted.log`; the
test suite compares the matcher with that log. Ethernet framing, documentation addresses.
"""
import struct
import sys

T0 = 1700000000  # 2023-11-14 22:13:20 UTC

CLI4 = bytes([192, 0, 2, 10])
SRV4 = bytes([198, 51, 100, 25])
CLI6 = bytes.fromhex("20010db8000100000000000000000a0a")
SRV6 = bytes.fromhex("20010db8ffff00000000000000000025")


def opt_bytes(spec):
    out = b""
    for o in spec:
        k = o[0]
        if k == "mss":
            out += struct.pack("!BBH", 2, 4, o[1])
        elif k == "nop":
            out += b"\x01"
        elif k == "ws":
            out += struct.pack("!BBB", 3, 3, o[1])
        elif k == "sok":
            out += b"\x04\x02"
        elif k == "ts":
            out += struct.pack("!BBII", 8, 10, o[1], o[2] if len(o) > 2 else 0)
        elif k == "eol":
            out += b"\x00" + bytes(o[1])  # o[1]: the padding bytes after EOL
        elif k == "raw":
            out += o[1]
        else:
            raise ValueError(k)
    return out


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def tcp_segment(c, src, dst, v6):
    opts = opt_bytes(c.get("opts", []))
    pad = c.get("pad", None)
    if pad is None:
        pad = (-len(opts)) % 4
    opts += b"\x00" * pad
    if len(opts) > 40 or len(opts) % 4:
        raise ValueError("bad option length in %s" % c["name"])
    doff = (20 + len(opts)) // 4
    flags = c.get("flags", 0x02)
    hdr = struct.pack("!HHIIBBHHH", c.get("sport"), c.get("dport", 25), c.get("seq", 0x12345678),
                      c.get("ack", 0), (doff << 4) | c.get("ns", 0), flags, c["win"], 0,
                      c.get("urg", 0))
    seg = hdr + opts + c.get("payload", b"")
    if v6:
        pseudo = src + dst + struct.pack("!IxxxB", len(seg), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(seg))
    ck = csum(pseudo + seg)
    return seg[:16] + struct.pack("!H", ck) + seg[18:]


def ip_packet(c):
    v6 = c.get("v6", False)
    src = c.get("src", CLI6 if v6 else CLI4)
    dst = c.get("dst", SRV6 if v6 else SRV4)
    seg = tcp_segment(c, src, dst, v6)
    if v6:
        vtf = (6 << 28) | (c.get("tos", 0) << 22) | (c.get("ecn", 0) << 20) | c.get("flow", 0)
        return struct.pack("!IHBB", vtf, len(seg), 6, c["ttl"]) + src + dst + seg
    ipopts = c.get("ipopts", b"")
    ihl = (20 + len(ipopts)) // 4
    frag = (0x4000 if c.get("df", True) else 0) | (0x8000 if c.get("mbz", False) else 0)
    tos = (c.get("tos", 0) << 2) | c.get("ecn", 0)
    hdr = struct.pack("!BBHHHBBH4s4s", (4 << 4) | ihl, tos, 20 + len(ipopts) + len(seg),
                      c.get("id", 0x1c46), frag, c["ttl"], 6, 0, src, dst) + ipopts
    hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + seg


def frame(c):
    v6 = c.get("v6", False)
    eth = b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + \
        struct.pack("!H", 0x86DD if v6 else 0x0800)
    return eth + ip_packet(c)


LINUX = [("mss", 1460), ("sok",), ("ts", 0x0a0b0c0d), ("nop",), ("ws", 7)]
LINUX6 = [("mss", 1440), ("sok",), ("ts", 0x0a0b0c0d), ("nop",), ("ws", 7)]
WIN7 = [("mss", 1460), ("nop",), ("ws", 8), ("nop",), ("nop",), ("sok",)]
MAC = [("mss", 1440), ("nop",), ("ws", 6), ("nop",), ("nop",), ("ts", 0x11223344), ("sok",), ("eol", b"\x00")]


def mac(ws, mss=1440):
    return [("mss", mss), ("nop",), ("ws", ws), ("nop",), ("nop",), ("ts", 0x11223344), ("sok",),
            ("eol", b"\x00")]


CASES = [
    dict(name="win7", ttl=117, win=8192, opts=WIN7),
    dict(name="linux311", ttl=52, win=29200, opts=LINUX),
    dict(name="linux311-v6", v6=True, ttl=51, win=28800, opts=LINUX6),
    dict(name="mac-generic", ttl=60, win=65535, opts=MAC),
    dict(name="unknown-idminus", ttl=60, df=False, id=0, win=1234,
         opts=[("mss", 1400), ("nop",), ("nop",), ("ts", 5)]),
    dict(name="mac109", ttl=55, win=65535, opts=mac(4)),
    dict(name="ios", ttl=50, win=65535, opts=mac(2)),
    dict(name="macos10x", ttl=64, win=65535, opts=mac(3, 1460)),
    dict(name="freebsd9", ttl=57, win=65535, opts=[("mss", 1460), ("nop",), ("ws", 6), ("sok",), ("ts", 99)]),
    dict(name="freebsd-generic", ttl=57, win=65535, opts=[("mss", 1460), ("nop",), ("ws", 9), ("sok",), ("ts", 99)]),
    dict(name="winxp", ttl=110, win=65535, opts=[("mss", 1460), ("nop",), ("nop",), ("sok",)]),
    dict(name="win-nt6-generic", ttl=120, win=8192, opts=[("mss", 1460), ("nop",), ("ws", 4), ("nop",), ("nop",), ("sok",)]),
    dict(name="win-nt-generic", ttl=100, win=64240, opts=[("mss", 1460), ("nop",), ("ws", 8), ("nop",), ("nop",), ("sok",)]),
    dict(name="win7-v6", v6=True, ttl=118, win=8192, opts=[("mss", 1440), ("nop",), ("ws", 8), ("nop",), ("nop",), ("sok",)]),
    dict(name="linux310", ttl=61, win=14600, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 6)]),
    dict(name="linux26", ttl=48, win=5840, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 7)]),
    dict(name="linux3x-generic", ttl=47, win=14600, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 9)]),
    dict(name="linux-any-generic", ttl=47, win=12345, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 9)]),
    # mss*N where the window is a multiple of MSS-12 (timestamps in use).
    dict(name="linux-mss12", ttl=50, win=(1460 - 12) * 20, opts=LINUX),
    # window a multiple of 1460 although MSS differs (MTU 1500 on the wrong interface).
    dict(name="linux-wrongmtu", ttl=50, win=1460 * 20, opts=[("mss", 1400), ("sok",), ("ts", 7), ("nop",), ("ws", 7)]),
    # IPv6 1440-based multiple with a different MSS.
    dict(name="linux-v6-wrongmtu", v6=True, ttl=50, win=1440 * 20, opts=[("mss", 1380), ("sok",), ("ts", 7), ("nop",), ("ws", 7)]),
    dict(name="openvms-mtu", ttl=120, df=False, win=3000, opts=[("mss", 1460), ("nop",), ("ws", 0)]),
    dict(name="win-mtu1500", ttl=120, win=4500, opts=[("mss", 1380), ("nop",), ("nop",), ("sok",)]),
    # Fuzzy: df and id+ disappear.
    dict(name="fuzzy-nodf", ttl=52, df=False, id=0x1234, win=29200, opts=LINUX),
    # Fuzzy: ecn appears (ECE+CWR flags).
    dict(name="fuzzy-ecn", ttl=52, win=29200, flags=0xC2, opts=LINUX),
    # Fuzzy: ecn from IP ECT bits.
    dict(name="fuzzy-ipect", ttl=52, win=29200, ecn=2, opts=LINUX),
    # Fuzzy: TTL too far (44 hops).
    dict(name="fuzzy-far-ttl", ttl=20, win=29200, opts=LINUX),
    # Fuzzy: TTL above the signature's initial TTL.
    dict(name="fuzzy-high-ttl", ttl=100, win=29200, opts=LINUX),
    # Distance 35 still exact, 36 fuzzy (ittl 128 for Windows).
    dict(name="win7-dist35", ttl=93, win=8192, opts=WIN7),
    dict(name="win7-dist36", ttl=92, win=8192, opts=WIN7),
    # TTL 200: guess 255, distance 55 > 35 -> "200+?".
    dict(name="ttl200", ttl=200, win=8192, opts=WIN7),
    dict(name="ttl32", ttl=30, win=8192, opts=WIN7),
    # IPv6 flow label: 'flow' appears, which fuzzy matching does not allow.
    dict(name="v6-flow", v6=True, ttl=51, flow=0x12345, win=28800, opts=LINUX6),
    dict(name="v6-tos", v6=True, ttl=51, tos=8, win=28800, opts=LINUX6),
    dict(name="v4-tos", ttl=52, tos=4, win=29200, opts=LINUX),
    # Unknown option kinds, IP options, odd paddings and quirks.
    dict(name="opt-unknown", ttl=52, win=29200, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 7), ("raw", b"\x1e\x04\x00\x00")]),
    dict(name="ipopts", ttl=52, win=29200, ipopts=b"\x94\x04\x00\x00", opts=LINUX),
    dict(name="eol-nonzero", ttl=60, win=65535, opts=[("mss", 1440), ("nop",), ("ws", 6), ("nop",), ("nop",), ("ts", 1), ("sok",), ("eol", b"\x07")]),
    dict(name="eol-pad5", ttl=60, win=65535, opts=[("mss", 1440), ("eol", b"\x00\x00\x00")]),
    dict(name="payload", ttl=52, win=29200, opts=LINUX, payload=b"GET / HTTP/1.0\r\n\r\n"),
    dict(name="exws", ttl=52, win=29200, opts=[("mss", 1460), ("sok",), ("ts", 7), ("nop",), ("ws", 15)]),
    dict(name="ts1zero-ts2", ttl=52, win=29200, opts=[("mss", 1460), ("sok",), ("ts", 0, 5), ("nop",), ("ws", 7)]),
    dict(name="seq0-ack-urg-push", ttl=52, win=29200, seq=0, ack=77, urg=5, flags=0x0A, opts=LINUX),
    dict(name="urgflag", ttl=52, win=29200, flags=0x22, urg=1, opts=LINUX),
    dict(name="mbz", ttl=52, mbz=True, win=29200, opts=LINUX),
    dict(name="bad-opts", ttl=52, win=29200, opts=[("mss", 1460), ("sok",), ("raw", b"\x08\x0a\x00\x00")]),
    dict(name="bad-mss-len", ttl=52, win=29200, opts=[("raw", b"\x02\x05\x05\xb4\x00"), ("nop",), ("nop",), ("nop",)]),
    dict(name="no-opts", ttl=60, win=512),
    dict(name="nmap-syn", ttl=41, win=1024, df=False, id=0x5a5a, opts=[("mss", 1460)]),
    dict(name="nmap-syn-fuzzy", ttl=41, win=1024, df=True, opts=[("mss", 1460)]),
    dict(name="nmap-os-ack1", ttl=50, df=False, win=512, ack=1, opts=[("mss", 265), ("sok",), ("ts", 0xffffffff)]),
    # p0f 3.09b tests "ack & 1" on the raw (network order) word: only the first byte's low bit counts.
    dict(name="nmap-os", ttl=50, df=False, win=512, ack=0x01000000, opts=[("mss", 265), ("sok",), ("ts", 0xffffffff)]),
    dict(name="ack-even", ttl=52, win=29200, ack=0x02000000, opts=LINUX),
    dict(name="linux20", ttl=60, df=False, win=16384, opts=[("mss", 1460)]),
    dict(name="linux-barebone", ttl=60, win=5840, opts=[("mss", 1460)]),
    dict(name="websense", ttl=60, win=5520, opts=[("mss", 1380), ("nop",), ("nop",), ("ts", 5), ("nop",), ("ws", 7)]),
    dict(name="baidu", ttl=50, win=5840, opts=[("mss", 1460), ("sok",)] + [("nop",)] * 11 + [("ws", 7)]),
    dict(name="solaris8", ttl=60, win=32850, opts=[("nop",), ("ws", 1), ("nop",), ("nop",), ("ts", 3), ("nop",), ("nop",), ("sok",), ("mss", 1460)]),
    dict(name="blackberry", ttl=120, df=False, win=65535, opts=[("mss", 1452), ("nop",), ("nop",), ("sok",), ("nop",), ("nop",), ("ts", 3)]),
    dict(name="android", ttl=63, win=1460 * 44, opts=[("mss", 1460), ("sok",), ("ts", 3), ("nop",), ("ws", 3)]),
    dict(name="mss-small", ttl=60, win=900, opts=[("mss", 90), ("nop",), ("nop",), ("sok",)]),
    dict(name="mss-zero-win0", ttl=60, win=0, opts=[("mss", 1460), ("nop",), ("nop",), ("sok",)]),
    dict(name="many-nops", ttl=60, win=65535, opts=[("nop",)] * 28, pad=0),
    dict(name="sack-opt", ttl=60, win=65535, opts=[("mss", 1460), ("raw", b"\x05\x0a" + b"\x00" * 8)]),
    dict(name="ws-no-val-trunc", ttl=60, win=65535, opts=[("mss", 1460), ("nop",), ("nop",), ("nop",), ("raw", b"\x03")], pad=0),
    dict(name="v6-generic-mac", v6=True, ttl=60, win=65535, opts=MAC),
    dict(name="sendsyn-like", ttl=190, win=1337, opts=[("mss", 1331), ("nop",), ("eol", b"\x00" * 18)], pad=0),
]


def main(path):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, c in enumerate(CASES):
            c["sport"] = 40000 + i
            data = frame(c)
            f.write(struct.pack("<IIII", T0 + i, 0, len(data), len(data)) + data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "crafted.pcap")
