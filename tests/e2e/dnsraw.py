#!/usr/bin/env python3
"""dnsraw.py: raw DNS packet helper for the end-to-end tests (python3 stdlib only).

Subcommands print one result line (key=value ...) or "ERROR ..." and exit non-zero on failure to
run; judging the result is left to the calling shell test. Every loop is bounded in count and every
socket operation has a timeout. Only 127.0.0.1 and ::1 are ever contacted.
"""
import ipaddress
import random
import select
import socket
import struct
import sys
import time

LOCAL = ("127.0.0.1", "::1")

QTYPES = {"A": 1, "NS": 2, "SOA": 6, "MX": 15, "TXT": 16, "AAAA": 28, "ANY": 255, "CAA": 257}
OPCODES = {"QUERY": 0, "IQUERY": 1, "STATUS": 2, "NOTIFY": 4, "UPDATE": 5}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED",
          16: "BADVERS"}


def die(msg):
    print("ERROR " + msg)
    sys.exit(2)


def check_host(host):
    if host not in LOCAL:
        die("refusing to contact %s: only 127.0.0.1 and ::1" % host)
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def qtype_num(t):
    t = t.upper()
    if t in QTYPES:
        return QTYPES[t]
    if t.startswith("TYPE"):
        return int(t[4:])
    die("unknown type " + t)


def wire_name(name):
    """Presentation name to wire form, keeping the case of every byte (0x20 tests)."""
    out = b""
    for lab in name.rstrip(".").split("."):
        if lab == "":
            continue
        b = lab.encode("ascii")
        out += bytes([len(b)]) + b
    return out + b"\0"


def build_query(name, qtype="A", qid=0x1234, opcode=0, rd=False, edns=None, do=False,
                options=b"", bufsize=1232):
    flags = (opcode & 0xF) << 11
    if rd:
        flags |= 0x0100
    arcount = 1 if edns is not None else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, arcount)
    msg += wire_name(name) + struct.pack("!HH", qtype_num(qtype), 1)
    if edns is not None:
        ttl = (edns & 0xFF) << 16 | (0x8000 if do else 0)
        msg += b"\0" + struct.pack("!HHIH", 41, bufsize, ttl, len(options)) + options
    return msg


def skip_name(msg, off):
    """Returns the offset after the (possibly compressed) name at off; bounded."""
    for _ in range(128):
        if off >= len(msg):
            raise ValueError("name runs past the message")
        n = msg[off]
        if n == 0:
            return off + 1
        if n & 0xC0 == 0xC0:
            return off + 2
        off += 1 + n
    raise ValueError("name too long")


def parse(msg):
    """Header fields, the question bytes and the answer RR types of a response."""
    if len(msg) < 12:
        raise ValueError("short response (%d bytes)" % len(msg))
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    r = {"id": qid, "qr": flags >> 15 & 1, "opcode": flags >> 11 & 0xF, "aa": flags >> 10 & 1,
         "tc": flags >> 9 & 1, "rd": flags >> 8 & 1, "ra": flags >> 7 & 1,
         "rcode": flags & 0xF, "qd": qd, "an": an, "ns": ns, "ar": ar}
    off = 12
    qstart = off
    if qd >= 1:
        off = skip_name(msg, off) + 4
    r["question"] = msg[qstart:off]
    types = []
    for _ in range(min(an + ns + ar, 200)):
        off = skip_name(msg, off)
        if off + 10 > len(msg):
            raise ValueError("RR header runs past the message")
        t, c, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        if t == 41:
            r["rcode"] |= (ttl >> 24 & 0xFF) << 4
            r["edns_version"] = ttl >> 16 & 0xFF
        types.append(t)
        off += 10 + rdlen
    r["types"] = types
    return r


def rcode_name(n):
    return RCODES.get(n, str(n))


def recv_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out after %d of %d bytes" % (len(buf), n))
        s.settimeout(left)
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def tcp_read_msg(s, deadline):
    (n,) = struct.unpack("!H", recv_exact(s, 2, deadline))
    return recv_exact(s, n, deadline)


def tcp_connect(host, port, timeout=3.0):
    s = socket.socket(check_host(host), socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect((host, port))
    return s


def framed(msg):
    return struct.pack("!H", len(msg)) + msg


# ---- subcommands ----

def cmd_query(args):
    """query HOST PORT udp|tcp NAME TYPE [opcode=X] [rd=1] [id=N]: one query, prints the header."""
    host, port, proto, name, qtype = args[0], int(args[1]), args[2], args[3], args[4]
    kw = dict(a.split("=", 1) for a in args[5:])
    opcode = OPCODES.get(kw.get("opcode", "QUERY").upper(), None)
    if opcode is None:
        opcode = int(kw["opcode"])
    qid = int(kw.get("id", "4660"))
    q = build_query(name, qtype, qid=qid, opcode=opcode, rd=kw.get("rd") == "1")
    fam = check_host(host)
    deadline = time.monotonic() + 3
    if proto == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (host, port))
        resp = s.recv(65535)
    else:
        s = tcp_connect(host, port)
        s.sendall(framed(q))
        resp = tcp_read_msg(s, deadline)
    s.close()
    r = parse(resp)
    qsame = "yes" if r["question"] == q[12:12 + len(r["question"])] and r["qd"] == 1 else "no"
    print("id=%d qr=%d opcode=%d aa=%d tc=%d rd=%d ra=%d rcode=%s qd=%d an=%d question_same=%s"
          % (r["id"], r["qr"], r["opcode"], r["aa"], r["tc"], r["rd"], r["ra"],
             rcode_name(r["rcode"]), r["qd"], r["an"], qsame))


def cmd_pipeline(args):
    """pipeline HOST PORT NAME:TYPE...: all queries in one write on one TCP connection."""
    host, port, specs = args[0], int(args[1]), args[2:]
    qs = []
    for i, spec in enumerate(specs):
        name, qtype = spec.rsplit(":", 1)
        qs.append(build_query(name, qtype, qid=0x4000 + i))
    s = tcp_connect(host, port)
    s.sendall(b"".join(framed(q) for q in qs))
    deadline = time.monotonic() + 5
    got = []
    try:
        for _ in qs:
            got.append(parse(tcp_read_msg(s, deadline)))
    except (TimeoutError, EOFError, OSError, ValueError) as e:
        print("answers=%d of=%d error=%s" % (len(got), len(qs), str(e).replace(" ", "_")))
        return
    finally:
        s.close()
    ids = [r["id"] - 0x4000 for r in got]
    in_order = "yes" if ids == list(range(len(qs))) else "no"
    per = ",".join("%d:%s:an%d" % (i, rcode_name(r["rcode"]), r["an"]) for i, r in
                   sorted(zip(ids, got), key=lambda x: x[0]))
    print("answers=%d of=%d ids_ok=%s in_order=%s results=%s" %
          (len(got), len(qs), "yes" if sorted(ids) == list(range(len(qs))) else "no",
           in_order, per))


def cmd_idle(args):
    """idle HOST PORT NAME QUERY(0|1) MAXWAIT: seconds until the server closes an idle conn."""
    host, port, name, send_q, maxwait = args[0], int(args[1]), args[2], args[3], float(args[4])
    s = tcp_connect(host, port)
    start = time.monotonic()
    answered = 0
    if send_q == "1":
        s.sendall(framed(build_query(name, "A", qid=7)))
        tcp_read_msg(s, start + 3)
        answered = 1
        start = time.monotonic()
    deadline = start + maxwait
    how = "open"
    while time.monotonic() < deadline:
        r, _, _ = select.select([s], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            break
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            how = "reset"
            break
        if not data:
            how = "eof"
            break
    print("answered=%d closed=%s after=%.2f" % (answered, how, time.monotonic() - start))
    s.close()


def cmd_connlimit(args):
    """connlimit HOST PORT NAME N: opens N connections, then queries on each."""
    host, port, name, n = args[0], int(args[1]), args[2], int(args[3])
    socks = []
    for _ in range(n):
        try:
            socks.append(tcp_connect(host, port))
        except OSError:
            socks.append(None)
        time.sleep(0.02)
    time.sleep(0.3)  # let the server accept (and maybe close) them
    answered = closed = silent = refused = 0
    for s in socks:
        if s is None:
            refused += 1
            continue
        try:
            s.sendall(framed(build_query(name, "A", qid=9)))
            r = parse(tcp_read_msg(s, time.monotonic() + 1.5))
            answered += 1 if r["id"] == 9 and r["qr"] == 1 else 0
        except (EOFError, ConnectionResetError, BrokenPipeError):
            closed += 1
        except (TimeoutError, socket.timeout):
            silent += 1
        except OSError:
            closed += 1
    for s in socks:
        if s is not None:
            s.close()
    print("answered=%d closed=%d silent=%d refused=%d" % (answered, closed, silent, refused))


def cmd_stall(args):
    """stall HOST PORT NAME COUNT HOLD READYFILE: sends COUNT queries, never reads, holds."""
    host, port, name, count, hold, ready = (args[0], int(args[1]), args[2], int(args[3]),
                                            float(args[4]), args[5])
    s = tcp_connect(host, port)
    s.setblocking(False)
    blob = framed(build_query(name, "TXT", qid=1)) * count
    sent = 0
    deadline = time.monotonic() + hold
    with open(ready, "w") as f:
        f.write("connected\n")
    while sent < len(blob) and time.monotonic() < deadline:
        _, w, _ = select.select([], [s], [], 0.2)
        if not w:
            continue
        try:
            sent += s.send(blob[sent:sent + 65536])
        except BlockingIOError:
            continue
        except OSError:
            break
    left = deadline - time.monotonic()
    if left > 0:
        time.sleep(left)
    print("sent=%d of=%d" % (sent, len(blob)))
    s.close()


def cmd_case(args):
    """case HOST PORT udp|tcp NAME TYPE: prints whether the question came back byte for byte."""
    host, port, proto, name, qtype = args[0], int(args[1]), args[2], args[3], args[4]
    q = build_query(name, qtype, qid=0x2020)
    fam = check_host(host)
    if proto == "udp":
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(q, (host, port))
        resp = s.recv(65535)
    else:
        s = tcp_connect(host, port)
        s.sendall(framed(q))
        resp = tcp_read_msg(s, time.monotonic() + 3)
    s.close()
    r = parse(resp)
    print("same=%s rcode=%s sent=%s got=%s" % ("yes" if r["question"] == q[12:] else "no",
                                                rcode_name(r["rcode"]), q[12:].hex(),
                                                r["question"].hex()))


def cmd_revname(args):
    """revname ADDR [NIBBLES]: reversed nibble name (RFC 5782), lower case, no zone."""
    a = ipaddress.IPv6Address(args[0])
    n = int(args[1]) if len(args) > 1 else 32
    h = a.exploded.replace(":", "")[:n]
    print(".".join(reversed(h)))


# ---- malformed packets ----

def malformed_udp(rng, zone):
    """Yields (description, packet, expect_no_reply) with a fixed random generator."""
    good_name = wire_name("1.0.0.0." + zone)
    hdr = lambda qid, flags=0, qd=1, an=0, ns=0, ar=0: struct.pack("!HHHHHH", qid, flags, qd,
                                                                 an, ns, ar)
    tail = struct.pack("!HH", 1, 1)
    for n in range(0, 12):  # truncated headers
        yield "short header %d bytes" % n, bytes(rng.randrange(256) for _ in range(n)), False
    for qd in (0, 2, 3, 65535):
        yield "qdcount %d" % qd, hdr(rng.randrange(65536), qd=qd) + good_name + tail, False
    yield "question cut in name", hdr(11) + good_name[:5], False
    yield "question without type", hdr(12) + good_name, False
    yield "question with half type", hdr(13) + good_name + b"\0", False
    yield "qr bit set (a response)", hdr(14, flags=0x8000) + good_name + tail, True
    yield "qr bit set, qd 0", hdr(15, flags=0x8000, qd=0), True
    for L in (64, 65, 100, 127, 128, 191, 192, 255):  # bad label lengths / label types
        yield "label length byte %d" % L, hdr(16) + bytes([L]) + b"a" * 10 + b"\0" + tail, False
    yield "label longer than the packet", hdr(17) + b"\x3f" + b"a" * 5, False
    yield "name longer than 255", hdr(18) + (b"\x3f" + b"a" * 63) * 5 + b"\0" + tail, False
    yield "200 one-byte labels", hdr(19) + b"\x011" * 200 + b"\0" + tail, False
    yield "40 nibble labels", hdr(20) + b"\x011" * 40 + wire_name(zone) + tail, False
    yield "compression loop to self", hdr(21) + b"\xc0\x0c" + tail, False
    yield "compression loop two step", hdr(22) + b"\x01a\xc0\x0e\x01b\xc0\x0c" + tail, False
    yield "pointer forward", hdr(23) + b"\xc0\x20" + tail + b"\0" * 20, False
    yield "pointer out of range", hdr(24) + b"\xff\xff" + tail, False
    yield "pointer into header", hdr(25) + b"\xc0\x02" + tail, False
    yield "pointer cut", hdr(26) + b"\xc0", False
    yield "label then pointer to zone", hdr(27) + b"\x011\xc0\x0c" + tail, False
    opt = lambda rdlen, data: b"\0" + struct.pack("!HHIH", 41, 4096, 0, rdlen) + data
    q = hdr(28, ar=1) + good_name + tail
    yield "OPT rdlen beyond packet", q + opt(60000, b"\0\1"), False
    yield "OPT huge option", hdr(29, ar=1) + good_name + tail + opt(
        4004, struct.pack("!HH", 65001, 4000) + b"x" * 4000), False
    yield "OPT option len beyond rdata", hdr(30, ar=1) + good_name + tail + opt(
        4, struct.pack("!HH", 10, 500)), False
    yield "two OPTs", hdr(31, ar=2) + good_name + tail + opt(0, b"") + opt(0, b""), False
    yield "OPT with name", hdr(32, ar=1) + good_name + tail + b"\x01x\0" + struct.pack(
        "!HHIH", 41, 512, 0, 0), False
    yield "arcount 65535 one OPT", hdr(33, ar=65535) + good_name + tail + opt(0, b""), False
    yield "ancount 5 no data", hdr(34, an=5) + good_name + tail, False
    yield "nscount 65535", hdr(35, ns=65535) + good_name + tail, False
    yield "OPT cut in header", hdr(36, ar=1) + good_name + tail + b"\0\0\x29\x10", False
    for op in range(16):
        yield "opcode %d" % op, hdr(40 + op, flags=op << 11) + good_name + tail, False
    yield "class CHAOS", hdr(60) + good_name + struct.pack("!HH", 16, 3), False
    yield "class NONE", hdr(61) + good_name + struct.pack("!HH", 1, 254), False
    yield "type 0", hdr(62) + good_name + struct.pack("!HH", 0, 1), False
    yield "AXFR over UDP", hdr(63) + good_name + struct.pack("!HH", 252, 1), False
    yield "IXFR over UDP", hdr(64) + good_name + struct.pack("!HH", 251, 1), False
    yield "trailing garbage", hdr(65) + good_name + tail + b"\xde\xad" * 100, False
    yield "root name", hdr(66) + b"\0" + tail, False
    yield "label with dot and nul", hdr(67) + b"\x031.\0" + wire_name(zone) + tail, False
    yield "uppercase hex nibble", hdr(68) + wire_name("A.B." + zone) + tail, False
    yield "all flags set", hdr(69, flags=0x7FFF) + good_name + tail, False
    yield "empty packet 65507", b"\0" * 65507, False
    for i in range(300):  # random bytes and random mutations of a good query
        kind = rng.randrange(3)
        if kind == 0:
            n = rng.randrange(0, 600)
            p = bytes(rng.randrange(256) for _ in range(n))
            yield "random %d bytes" % n, p, False
        elif kind == 1:
            p = bytearray(hdr(1000 + i) + good_name + tail)
            for _ in range(rng.randrange(1, 6)):
                p[rng.randrange(2, len(p))] = rng.randrange(256)
            yield "mutated query %d" % i, bytes(p), False
        else:
            p = hdr(2000 + i, qd=1) + good_name + tail
            yield "truncated query %d" % i, p[:rng.randrange(12, len(p))], False


def udp_collect(s, wait, out):
    """Appends to out every datagram that arrives within wait seconds (bounded in count)."""
    deadline = time.monotonic() + wait
    for _ in range(64):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            break
        out.append(s.recv(65535))


def cmd_malformed(args):
    """malformed HOST PORT ZONE SEED: UDP malformed packets, then TCP ones; prints counters.

    Every UDP packet of 2 bytes or more gets a unique ID (the malformations are elsewhere), so
    that a reply, whenever it arrives, is matched to its packet: a reply must carry the ID of a
    packet that was sent, have QR set and a whole header, and not answer a packet that answer.h
    says gets no reply (shorter than a header, or QR set)."""
    host, port, zone, seed = args[0], int(args[1]), args[2], int(args[3])
    fam = check_host(host)
    rng = random.Random(seed)
    s = socket.socket(fam, socket.SOCK_DGRAM)
    addr = (host, port)
    sent = 0
    problems = []
    packets = {}      # id -> (description, expect_silence)
    replies = []
    for i, (desc, pkt, expect_silence) in enumerate(malformed_udp(rng, zone)):
        if len(pkt) > 65507:
            continue
        if len(pkt) >= 2:
            qid = 0x1000 + i
            pkt = struct.pack("!H", qid) + pkt[2:]
            silent = expect_silence or len(pkt) < 12 or bool(pkt[2] & 0x80)
            packets[qid] = (desc, silent)
        try:
            s.sendto(pkt, addr)
        except OSError as e:
            problems.append("%s: send failed (%s)" % (desc, e))
            continue
        sent += 1
        udp_collect(s, 0.3 if sent % 25 == 0 else 0.02, replies)
    udp_collect(s, 1.0, replies)
    s.close()
    answered = set()
    for rp in replies:
        if len(rp) < 12:
            problems.append("a reply shorter than a header (%d bytes)" % len(rp))
            continue
        (qid,) = struct.unpack("!H", rp[:2])
        if qid not in packets:
            problems.append("a reply with id %04x, which no packet had" % qid)
            continue
        desc, silent = packets[qid]
        if not rp[2] & 0x80:
            problems.append("%s: reply without QR" % desc)
        if silent:
            problems.append("%s: got a reply, expected none (short or QR set)" % desc)
        if qid in answered:
            problems.append("%s: more than one reply" % desc)
        answered.add(qid)
    replied = len(answered)
    tsent, tprob = malformed_tcp(host, port, zone, rng)
    problems += tprob
    print("udp_sent=%d udp_replied=%d tcp_sent=%d problems=%d" %
          (sent, replied, tsent, len(problems)))
    for p in problems[:20]:
        print("problem " + p)


def malformed_tcp(host, port, zone, rng):
    """TCP abuse: short/long length prefixes, garbage, then close. Returns (count, problems)."""
    good = build_query("1.0.0.0." + zone, "A", qid=77)
    cases = [
        ("length prefix larger than the data, then close", struct.pack("!H", 500) + good),
        ("length 65535 with 10 bytes, then close", struct.pack("!H", 65535) + b"x" * 10),
        ("half a length prefix, then close", b"\x00"),
        ("length 0", b"\x00\x00"),
        ("length 0 then a good query", b"\x00\x00" + framed(good)),
        ("length 5 garbage", b"\x00\x05hello"),
        ("length 11 short header", b"\x00\x0b" + good[:11]),
        ("random bytes", bytes(rng.randrange(256) for _ in range(300))),
        ("good query then garbage length", framed(good) + b"\xff\xff\x01"),
        ("response packet framed", framed(b"\x00\x4d\x80" + good[3:])),
    ]
    for i in range(20):
        p = bytearray(good)
        p[rng.randrange(2, len(p))] = rng.randrange(256)
        cases.append(("framed mutated query %d" % i, framed(bytes(p))))
    problems = []
    sent = 0
    for desc, data in cases:
        try:
            s = tcp_connect(host, port)
            s.sendall(data)
            sent += 1
            s.settimeout(0.2)
            try:
                s.recv(65535)
            except (socket.timeout, TimeoutError, ConnectionResetError):
                pass
            s.close()
        except OSError as e:
            problems.append("tcp %s: %s" % (desc, e))
    # Many connections that send a partial message and vanish without a FIN (RST by SO_LINGER 0).
    for i in range(30):
        try:
            s = tcp_connect(host, port)
            s.sendall(struct.pack("!H", 200) + good[:rng.randrange(0, len(good))])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
            sent += 1
        except OSError as e:
            problems.append("tcp reset %d: %s" % (i, e))
    return sent, problems


def main():
    cmds = {"query": cmd_query, "pipeline": cmd_pipeline, "idle": cmd_idle,
            "connlimit": cmd_connlimit, "stall": cmd_stall, "case": cmd_case,
            "revname": cmd_revname, "malformed": cmd_malformed}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        die("usage: dnsraw.py %s ..." % "|".join(sorted(cmds)))
    try:
        cmds[sys.argv[1]](sys.argv[2:])
    except (OSError, ValueError, EOFError, TimeoutError) as e:
        print("ERROR %s: %s" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
