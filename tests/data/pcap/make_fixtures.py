#!/usr/bin/env python3
"""make_fixtures.py: writes the crafted capture fixtures of tests/check_pcap.c (run from this folder).

The real loopback captures beside them (lo-*.pcap, any-*.pcap) come from tcpdump, see README.
Every packet here is built byte by byte with struct, so each field the tests assert is visible below.
"""
import os
import struct

T0 = 1700000000  # 2023-11-14 22:13:20 UTC


# ---- TCP options -------------------------------------------------------------------------------
def mss(v): return struct.pack('!BBH', 2, 4, v)
def ws(v): return struct.pack('!BBB', 3, 3, v)
SOK = b'\x04\x02'
NOP = b'\x01'
EOL = b'\x00'
def ts(a, b=0): return struct.pack('!BBII', 8, 10, a, b)

LINUX = mss(1460) + SOK + ts(12345678) + NOP + ws(7)                    # mss,sok,ts,nop,ws
WINDOWS = mss(1460) + NOP + ws(8) + NOP + NOP + SOK                     # mss,nop,ws,nop,nop,sok
MACOS = mss(1460) + NOP + ws(6) + NOP + NOP + ts(987654) + SOK + EOL + b'\x00'  # ...,sok,eol+1


def tcp(sport, dport, seq=1000, ack=0, flags=0x02, win=64240, opts=b'', urg=0, doff=None,
        payload=b'', res=0):
    assert len(opts) % 4 == 0, 'pad the options'
    if doff is None:
        doff = (20 + len(opts)) // 4
    return struct.pack('!HHIIBBHHH', sport, dport, seq, ack, doff << 4 | res, flags, win, 0,
                       urg) + opts + payload


def v4(s):
    return bytes(int(x) for x in s.split('.'))


def v6(s):
    import ipaddress
    return ipaddress.IPv6Address(s).packed


def ip4(src, dst, payload, ttl=64, ident=0x1234, df=True, tos=0, opts=b'', proto=6, frag=0,
        mf=False, mbz=False, tot=None):
    assert len(opts) % 4 == 0
    hl = 20 + len(opts)
    fo = frag | (0x2000 if mf else 0) | (0x4000 if df else 0) | (0x8000 if mbz else 0)
    if tot is None:
        tot = hl + len(payload)
    return struct.pack('!BBHHHBBH4s4s', 0x40 | hl // 4, tos, tot, ident, fo, ttl, proto, 0,
                       v4(src), v4(dst)) + opts + payload


def ip6(src, dst, payload, hlim=64, flow=0, tc=0, nh=6, plen=None):
    if plen is None:
        plen = len(payload)
    return struct.pack('!IHBB16s16s', 6 << 28 | tc << 20 | flow, plen, nh, hlim, v6(src),
                       v6(dst)) + payload


def ext(nh, body_len8, fill=0):
    """An (HdrExtLen+1)*8 byte extension header: Hop-by-Hop, Routing, Destination, ..."""
    total = (body_len8 + 1) * 8
    return bytes([nh, body_len8]) + bytes([fill]) * (total - 2)


def frag(nh, offset, more):
    return struct.pack('!BBHI', nh, 0, offset << 3 | (1 if more else 0), 0xabcdef01)


def ah(nh, plen):
    """Authentication Header, (plen+2)*4 bytes."""
    total = (plen + 2) * 4
    return bytes([nh, plen]) + b'\x00' * (total - 2)


# ---- link layers -------------------------------------------------------------------------------
def eth(payload, etype, tags=()):
    hdr = b'\x02\x00\x00\x00\x00\x01' + b'\x02\x00\x00\x00\x00\x02'
    for tpid, vid in tags:
        hdr += struct.pack('!H', tpid) + struct.pack('!H', vid)
    frame = hdr + struct.pack('!H', etype) + payload
    return frame + b'\x00' * max(0, 60 - len(frame))   # Ethernet minimum frame


def null_le(af, payload): return struct.pack('<I', af) + payload
def null_be(af, payload): return struct.pack('>I', af) + payload


# ---- files -------------------------------------------------------------------------------------
def pcap(name, linktype, packets, magic=0xa1b2c3d4, endian='<', snaplen=262144, cut=None):
    """Classic pcap; packets are bytes or (bytes, caplen_override)."""
    out = struct.pack(endian + 'IHHiIII', magic, 2, 4, 0, 0, snaplen, linktype)
    nano = magic == 0xa1b23c4d
    for i, p in enumerate(packets):
        caplen = len(p)
        if isinstance(p, tuple):
            p, caplen = p
        sub = (i * 1000 + 7) * (1000 if nano else 1)
        out += struct.pack(endian + 'IIII', T0 + i, sub, caplen, len(p)) + p
    if cut is not None:
        out = out[:cut]
    with open(name, 'wb') as f:
        f.write(out)
    return out


def ng_block(btype, body, e='<'):
    body += b'\x00' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack(e + 'II', btype, n) + body + struct.pack(e + 'I', n)


def ng_opt(code, val, e='<'):
    return struct.pack(e + 'HH', code, len(val)) + val + b'\x00' * (-len(val) % 4)


def ng_shb(e='<'):
    return ng_block(0x0A0D0D0A, struct.pack(e + 'IHHq', 0x1A2B3C4D, 1, 0, -1), e)


def ng_idb(linktype, tsresol=None, e='<'):
    body = struct.pack(e + 'HHI', linktype, 0, 262144)
    if tsresol is not None:
        body += ng_opt(9, bytes([tsresol]), e) + ng_opt(0, b'', e)
    return ng_block(1, body, e)


def ng_epb(ts_units, pkt, iface=0, e='<'):
    body = struct.pack(e + 'IIIII', iface, ts_units >> 32, ts_units & 0xffffffff, len(pkt),
                       len(pkt)) + pkt
    return ng_block(6, body, e)


def ng_spb(pkt, e='<'):
    return ng_block(3, struct.pack(e + 'I', len(pkt)) + pkt, e)


def ng_nrb(e='<'):
    rec = struct.pack(e + 'HH', 1, 4 + 12) + v4('192.0.2.10') + b'mx.test\x00abc\x00'
    return ng_block(4, rec + b'\x00' * (-len(rec) % 4) + struct.pack(e + 'HH', 0, 0), e)


def write(name, data):
    with open(name, 'wb') as f:
        f.write(data)


# ---- the fixtures -------------------------------------------------------------------------------
C4, S4 = '192.0.2.10', '198.51.100.25'
C6, S6 = '2001:db8:1::10', '2001:db8:ffff::25'


def main():
    syn_win = ip4(C4, S4, tcp(49152, 25, seq=0x01020304, win=8192, opts=WINDOWS), ttl=117)
    syn_mac6 = ip6(C6, S6, tcp(50000, 25, seq=77, win=65535, opts=MACOS), flow=0x12345)
    syn_lin6 = ip6(C6, S6, tcp(40001, 25, seq=78, opts=LINUX), hlim=51)
    rst = ip4(S4, C4, tcp(25, 49152, seq=0, ack=0x01020305, flags=0x14, win=0))

    pcap('null.pcap', 0, [
        null_le(2, syn_win),        # Linux / BSD little-endian AF_INET
        null_le(30, syn_mac6),      # Darwin AF_INET6
        null_be(24, syn_lin6),      # big-endian NetBSD/OpenBSD AF_INET6
        null_le(10, syn_lin6),      # Linux AF_INET6
        null_le(2, rst),            # not a SYN
        null_le(7, syn_win),        # AF 7: not IP
    ])

    syn_lin4 = ip4(C4, S4, tcp(40000, 25, seq=5, opts=LINUX), ttl=52, ident=0x4242)
    bare4 = ip4('203.0.113.7', S4, tcp(1025, 25, seq=9, win=1234), ttl=60, ident=0, df=False)
    arp = b'\x00\x01\x08\x00\x06\x04\x00\x01' + b'\x00' * 20
    pcap('vlan.pcap', 1, [
        eth(syn_lin4, 0x0800, tags=[(0x8100, 100)]),
        eth(syn_lin6, 0x86dd, tags=[(0x88a8, 7), (0x8100, 200)]),
        eth(bare4, 0x0800),                                  # padded to 60 bytes
        eth(arp, 0x0806),                                    # not IP
        b'\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x81\x00\x00',  # tag cut short
    ])

    pcap('raw101.pcap', 101, [syn_lin4, syn_mac6])
    pcap('raw14.pcap', 14, [syn_mac6, syn_lin4])
    pcap('ipv4.pcap', 228, [syn_win, syn_lin6])              # IPv6 on DLT_IPV4: malformed
    pcap('ipv6.pcap', 229, [syn_lin6])

    # IPv6 extension headers.
    t = tcp(40100, 25, seq=100, opts=LINUX)
    pcap('v6ext.pcap', 101, [
        ip6(C6, S6, ext(60, 1) + ext(43, 2) + ext(6, 0) + t, nh=0, flow=0xfffff, tc=0x01),
        ip6(C6, S6, frag(6, 0, True) + tcp(40101, 25, seq=101, opts=LINUX), nh=44),
        ip6(C6, S6, frag(6, 185, False) + b'\x00' * 24, nh=44),             # later fragment
        ip6(C6, S6, ah(6, 4) + tcp(40102, 25, seq=102, opts=LINUX), nh=51),
        ip6(C6, S6, ext(6, 0) + tcp(40103, 25, seq=103, opts=LINUX), nh=140),  # Shim6
        ip6(C6, S6, b'\x00\x00\x00\x01' + b'\x00' * 28, nh=50),               # ESP
        ip6(C6, S6, b'\x00' * 8, nh=59),                                     # no next header
        ip6(C6, S6, b'\x06\x10' + b'\x00' * 6, nh=0),                         # HbH past the end
        ip6(C6, S6, ext(6, 1) + tcp(40104, 25, seq=104, opts=LINUX), nh=135),  # Mobility
    ])

    # IPv4 options, quirks and fragments, on Ethernet.
    pcap('v4opts.pcap', 1, [
        eth(ip4(C4, S4, tcp(41000, 25, seq=1, opts=LINUX), opts=b'\x01\x01\x01\x00', tos=0x02,
                ident=0, df=False, mbz=True), 0x0800),
        eth(ip4(C4, S4, tcp(41001, 25, seq=2, opts=WINDOWS), opts=b'\x07\x27\x04' + b'\x00' * 37),
            0x0800),
        eth(ip4(C4, S4, tcp(41002, 25, seq=3, opts=LINUX), mf=True), 0x0800),   # first fragment
        eth(ip4(C4, S4, b'\x00' * 16, frag=3), 0x0800),                          # later fragment
        eth(ip4(C4, S4, b'\x00' * 16, proto=17), 0x0800),                        # UDP
    ])

    # TCP quirks and options: source port 2000+i identifies packet i (check_pcap.c's table).
    q = []
    def syn(i, **kw):
        kw.setdefault('seq', 0x11111111)
        kw.setdefault('dport', 25)
        dport = kw.pop('dport')
        ipkw = kw.pop('ip', {})
        q.append(ip4(C4, S4, tcp(2000 + i, dport, **kw), **ipkw))
    syn(0, opts=LINUX)                                              # clean Linux
    syn(1, opts=WINDOWS, seq=0)                                     # seq-
    syn(2, ack=5)                                                   # ack+
    syn(3, urg=9)                                                   # uptr+
    syn(4, flags=0x02 | 0x20 | 0x08)                                # urgf+ pushf+
    syn(5, flags=0x02 | 0x40 | 0x80)                                # ECE CWR: ecn
    syn(6, opts=ts(0, 7) + NOP + NOP)                               # ts1- ts2+
    syn(7, opts=mss(1400) + EOL + b'\x00\x05\x00')                  # eol+3, opt+
    syn(8, opts=MACOS)                                              # eol+1
    syn(9, opts=ws(15) + NOP)                                       # exws
    syn(10, opts=b'\x02\x05\x05\xb4')                               # MSS length 5: bad
    syn(11, opts=NOP + NOP + NOP + b'\x02')                         # MSS cut off: bad
    syn(12, opts=b'\x1e\x04\x00\x00')                               # unknown kind 30
    syn(13, opts=b'\x1e\x01\x00\x00')                               # unknown, length 1: bad
    syn(14, opts=b'\x05\x0a' + b'\x00' * 8 + NOP + NOP)             # SACK 10
    syn(15, opts=b'\x05\x08' + b'\x00' * 6)                         # SACK too short: bad
    syn(16, opts=NOP * 40)                                          # 40 NOPs: 24 kept, bad
    syn(17, opts=LINUX, payload=b'EHLO x\r\n')                      # payload
    syn(18, opts=LINUX, res=0x01)                                   # NS bit: ecn
    syn(19, opts=LINUX, dport=587)                                  # other port: skipped
    syn(20, flags=0x12)                                             # SYN+ACK: skipped
    syn(21, flags=0x06)                                             # SYN+RST: skipped
    syn(22, flags=0x03)                                             # SYN+FIN: skipped
    syn(23, flags=0x10)                                             # ACK: skipped
    syn(24, opts=LINUX, doff=4)                                     # doff < 5: malformed
    syn(25, opts=LINUX, doff=15)                                    # doff past end: malformed
    syn(26, opts=ws(3) + b'\x04\x03' + b'\x08\x0b' + b'\x00' * 5)   # SOK len 3, TS len 11: bad
    syn(27, opts=ts(1, 0)[:6] + EOL * 2)                 # TS cut: bad
    pcap('quirks.pcap', 101, q)

    # Malformed packets around one good SYN (last).
    good = ip4(C4, S4, tcp(3000, 25, opts=LINUX))
    pcap('malformed.pcap', 101, [
        b'\x45\x00',                                               # 2 bytes
        ip4(C4, S4, tcp(3001, 25))[:30],                           # TCP cut short by snaplen
        b'\x44' + good[1:],                                        # IHL 4
        b'\x4f' + good[1:],                                        # IHL 15, no room
        good[:2] + struct.pack('!H', 10) + good[4:],               # total length < IHL
        good[:2] + struct.pack('!H', 30) + good[4:],               # total length cuts TCP
        ip6(C6, S6, b'', plen=0) + tcp(3002, 25),                  # IPv6 payload length 0
        ip6(C6, S6, tcp(3003, 25))[:50],                           # IPv6 TCP cut short
        b'\x65' + good[1:],                                        # version 6, IPv4 inside
        b'\x15' + good[1:],                                        # version 1: not IP
        good,
    ])

    # Byte order, precision, caplen.
    pcap('be.pcap', 1, [eth(syn_lin4, 0x0800), eth(syn_win, 0x0800)], endian='>')
    pcap('nano.pcap', 229, [syn_lin6, syn_mac6], magic=0xa1b23c4d)

    # pcapng: microsecond default, with NRB and SPB; nanoseconds big-endian; mixed link types.
    e1, e2 = eth(syn_lin4, 0x0800), eth(syn_lin6, 0x86dd)
    us = (T0 + 5) * 1000000 + 123456
    write('us.pcapng', ng_shb() + ng_idb(1) + ng_epb(us, e1) + ng_nrb() +
          ng_epb(us + 1, eth(rst, 0x0800)) + ng_spb(eth(syn_win, 0x0800)) + ng_epb(us + 2, e2))
    ns = (T0 + 6) * 1000000000 + 987654321
    write('ns-be.pcapng', ng_shb('>') + ng_idb(101, tsresol=9, e='>') +
          ng_epb(ns, syn_lin4, e='>') + ng_epb(ns + 1000, syn_mac6, e='>'))
    write('mixed-link.pcapng', ng_shb() + ng_idb(1) + ng_epb(us, e1) + ng_idb(101) +
          ng_epb(us + 1, syn_lin4, iface=1))

    # Broken files.
    full = pcap('truncated.pcap', 1, [eth(syn_lin4, 0x0800), eth(rst, 0x0800),
                                      eth(syn_win, 0x0800), eth(syn_lin6, 0x86dd)])
    rec = [24]
    for p in (eth(syn_lin4, 0x0800), eth(rst, 0x0800), eth(syn_win, 0x0800)):
        rec.append(rec[-1] + 16 + len(p))
    write('truncated.pcap', full[:rec[3] + 16 + 30])               # cut inside record 4's data
    write('truncated-hdr.pcap', full[:rec[2] + 9])                 # cut inside record 3's header
    write('short-header.pcap', full[:10])
    write('bad-magic.pcap', b'\x00\x01\x02\x03' + full[4:200])
    write('empty.pcap', b'')
    pcap('unknown-link.pcap', 105, [syn_lin4])   # 802.11: no decoder
    pcap('huge-caplen.pcap', 1, [eth(syn_lin4, 0x0800), (eth(syn_win, 0x0800), 0x7fffffff)])


if __name__ == '__main__':
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    main()
