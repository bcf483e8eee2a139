#!/usr/bin/env bash
# t_render_nsd.sh: `v6rep export --format zone` served by a real NSD answers as v6repd does.
#
# usage: bash t_render_nsd.sh BUILD_DIR      (E2E_SEED=N picks another random store)
#
# Builds a store from a seeded random mix of a few hundred entries (nested listings and
# exclusions, lengths off the nibble and octet boundaries, IPv4 entries, names the IPv4 and IPv6
# trees share, an expired entry), exports the zone, checks it with named-checkzone,
# nsd-checkzone and kzonecheck (each when installed), serves it with NSD (own config, free port
# on 127.0.0.1) and v6repd (same store) side by side, and asks both A and TXT for at least
# 10,000 names: full names inside, outside and at the edges of every entry, partial names at
# every depth along and beside entry paths, IPv4 names, junk below valid names. Both must agree
# on the rcode, AA, the A and TXT records and the SOA of negative answers, except for the cases
# zone/render.h documents (holes: NODATA for NXDOMAIN; junk names below IPv4 wildcards), which
# are counted apart. Without nsd the script says SKIP and passes.

. "$(dirname "$0")/lib.sh" "$@"

NSD=${NSD:-/usr/sbin/nsd}
if [ ! -x "$NSD" ]; then
	note "SKIP: nsd is not installed"
	finish
fi
need_bins
SEED=${E2E_SEED:-20241127}
note "seed $SEED"

DB=$T/db
CONF=$T/v6rep.conf
NDIR=$T/nsd
mkdir -p "$NDIR"
cat >"$CONF" <<EOF
db $DB
zone $ZONE
ns ns1.example.net
ns ns2.example.net
ttl 600
soa-ttl 3600
negative-ttl 300
txt-template "{reason} [{prefix}] code {code}"
default-reason "listed in {zone}"
EOF
V() { "$V6REP" --config "$CONF" "$@"; }

# ---- a seeded random store ----

"$PY" - "$SEED" >"$T/listings.txt" <<'EOF'
import ipaddress, random, sys
r = random.Random(int(sys.argv[1]))
roots6 = ["2001:db8::/32", "2a00:1450::/32", "fd00::/12", "2400::/12", "3000::/12", "5550::/16"]
roots4 = ["192.0.0.0/8", "10.0.0.0/8", "2.0.0.0/16", "5.5.0.0/16", "1.2.3.0/24", "127.0.0.0/16"]
ents = {}
def add(net, listing):
    key = (net.network_address, net.prefixlen)
    if key not in ents:
        ents[key] = (net, listing)
for i, t in enumerate(roots6):
    add(ipaddress.ip_network(t), i >= 3 or r.random() < 0.5)
for t in roots4:
    if r.random() < 0.5:
        add(ipaddress.ip_network(t), r.random() < 0.75)
for k in range(300):
    v4 = r.random() < 0.33
    pool = [n for n, _ in ents.values() if n.version == (4 if v4 else 6)]
    if pool and r.random() < 0.66:
        parent = r.choice(pool)
    else:
        parent = ipaddress.ip_network(r.choice(roots4 if v4 else roots6))
    room = parent.max_prefixlen - parent.prefixlen
    if room == 0:
        continue
    plen = parent.prefixlen + 1 + r.randrange(min(room, 20))
    if r.random() < 0.25:
        plen = parent.prefixlen + 1 + r.randrange(room)
    bits = r.getrandbits(plen - parent.prefixlen) << (parent.max_prefixlen - plen)
    addr = int(parent.network_address) | bits
    net = ipaddress.ip_network((addr, plen))
    add(net, r.random() < 0.66)
print("# t_render_nsd.sh seed %s" % sys.argv[1])
for i, (net, listing) in enumerate(sorted(ents.values(), key=lambda e: (e[0].version, e[0]))):
    if listing:
        reason = "r%d" % i if i % 17 else 'r%d \\"quoted\\" \\\\ ; semi' % i
        print('%s 127.0.0.%d "%s"' % (net, 2 + r.randrange(200), reason))
    else:
        print("!%s" % net)
EOF
note "$(grep -vc '^#' "$T/listings.txt") entries ($(grep -c '^!' "$T/listings.txt") exclusions)"
if V import "$T/listings.txt" >"$T/out" 2>&1; then ok "import the random store"; else fail "import: $(cat "$T/out")"; finish; fi
if V add 2001:db8:dead::/48 --code 127.0.0.99 --reason "expires at once" --expires 1s >"$T/out" 2>&1; then
	ok "add a listing that expires in 1 s"
else
	fail "add --expires: $(cat "$T/out")"
fi
sleep 2

# ---- the export ----

ZFILE=$NDIR/$ZONE.zone
if V export --format zone >"$ZFILE" 2>"$T/export.err"; then ok "export --format zone"; else fail "export: $(cat "$T/export.err")"; finish; fi
expect_eq "export warnings" "" "$(cat "$T/export.err")"
note "zone file: $(wc -l <"$ZFILE") lines, $(wc -c <"$ZFILE") bytes"
if grep -q 'd\.a\.e\.d\.8\.b\.d\.0\.1\.0\.0\.2' "$ZFILE"; then fail "the expired listing is in the zone"; else ok "the expired listing is not in the zone"; fi
first=$(grep -v '^;' "$ZFILE" | head -n 1)
expect_match "the SOA comes first" "^$ZONE\\. 3600 IN SOA ns1\\.example\\.net\\. hostmaster\\.$ZONE\\. $(V serial | grep -oE '[0-9]+' | head -n1) " "$first"
V list --format zone >"$T/list.zone" 2>/dev/null
if cmp -s <(grep -v '^;' "$ZFILE") <(grep -v '^;' "$T/list.zone"); then ok "list --format zone = export"; else fail "list --format zone differs from export"; fi

for chk in named-checkzone nsd-checkzone kzonecheck; do
	if ! command -v "$chk" >/dev/null 2>&1; then
		note "SKIP: $chk is not installed"
		continue
	fi
	case $chk in
	kzonecheck) out=$(timeout 120 kzonecheck -o "$ZONE" "$ZFILE" 2>&1) ;;
	*) out=$(timeout 120 "$chk" "$ZONE" "$ZFILE" 2>&1) ;;
	esac
	if [ $? -eq 0 ]; then ok "$chk accepts the zone"; else fail "$chk: $(short "$out")"; fi
done

# A listing the rendering cannot match (an IPv6 /4 over names IPv4 shares) is reported.
"$V6REP" --db "$T/db2" import - >/dev/null 2>&1 <<<'2000::/4 127.0.0.2 huge'
"$V6REP" --db "$T/db2" --zone "$ZONE" --ns ns1.example.net export >/dev/null 2>"$T/w.err"
expect_match "export warns about 2000::/4" "warning: 2000::/4: .*IPv4 names" "$(cat "$T/w.err")"
"$V6REP" --db "$T/db2" export >/dev/null 2>"$T/w.err"
expect_match "export without a zone is refused" "needs a zone" "$(cat "$T/w.err")"

# ---- NSD on the zone file ----

start_nsd() {
	local try
	for try in 1 2 3; do
		NPORT=$(pick_port) || return 1
		cat >"$NDIR/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $NPORT
	server-count: 1
	database: ""
	zonesdir: "$NDIR"
	pidfile: "$NDIR/nsd.pid"
	logfile: "$NDIR/nsd.log"
	xfrdfile: "$NDIR/xfrd.state"
	zonelistfile: "$NDIR/zone.list"
	xfrdir: "$NDIR"
	username: ""
	chroot: ""
	verbosity: 1
	do-ip6: no
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
remote-control:
	control-enable: no
zone:
	name: "$ZONE"
	zonefile: "$ZONE.zone"
EOF
		"$NSD" -d -c "$NDIR/nsd.conf" >"$NDIR/nsd.out" 2>&1 &
		NSD_PID=$!
		bg_add "$NSD_PID"
		local end=$((SECONDS + 60))
		while [ "$SECONDS" -lt "$end" ] && alive "$NSD_PID"; do
			if dig @127.0.0.1 -p "$NPORT" +time=1 +tries=1 +norec "$ZONE" SOA 2>/dev/null |
				grep -q 'status: NOERROR'; then
				ok "nsd answers on 127.0.0.1 port $NPORT"
				return 0
			fi
			sleep 0.2
		done
		if alive "$NSD_PID"; then
			break
		fi
		grep -qiE "in use|bind" "$NDIR/nsd.out" "$NDIR/nsd.log" 2>/dev/null || break
		note "port $NPORT taken, trying another"
	done
	fail "nsd did not answer"
	sed 's/^/#   /' "$NDIR/nsd.out" "$NDIR/nsd.log" 2>/dev/null | tail -n 20
	return 1
}
start_nsd || finish
start_v6repd --config "$CONF" || finish

# ---- the comparison ----

"$PY" - "$E2E_DIR" "$NPORT" "$PORT" "$T/listings.txt" "$ZFILE" "$SEED" "$ZONE" >"$T/compare.out" 2>&1 <<'EOF'
"""Asks NSD and v6repd the same A and TXT questions and compares what they answer."""
import ipaddress, random, select, socket, struct, sys, time
sys.path.insert(0, sys.argv[1])
import dnsraw

NPORT, VPORT = int(sys.argv[2]), int(sys.argv[3])
LISTINGS, ZFILE, SEED, ZONE = sys.argv[4], sys.argv[5], int(sys.argv[6]), sys.argv[7]
r = random.Random(SEED)
DEADLINE = time.monotonic() + 300

# ---- names ----
nets = []
for line in open(LISTINGS):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    nets.append(ipaddress.ip_network(line.split()[0].lstrip("!")))
nets.append(ipaddress.ip_network("127.0.0.2/32"))
nets.append(ipaddress.ip_network("2001:db8:dead::/48"))

def nib(a6, d):
    h = "%032x" % int(a6)
    return ".".join(reversed(h[:d]))

def mapped(a4):
    return ipaddress.IPv6Address("::ffff:" + str(a4))

names = set()
def add_v6(a6, depths):
    for d in depths:
        n = nib(a6, d)
        names.add(n)
        if d < 32 and r.random() < 0.3:   # a sibling beside the path
            names.add("%x.%s" % (r.randrange(16), n) if d < 31 else n)
        if r.random() < 0.08:
            names.add("x." + n)

def add_v4(a4):
    o = str(a4).split(".")
    for d in range(1, 5):
        names.add(".".join(reversed(o[:d])))
    names.add("x." + ".".join(reversed(o)))
    names.add("7." + ".".join(reversed(o)))

for net in nets:
    lo, hi = int(net.network_address), int(net.broadcast_address)
    top = (1 << net.max_prefixlen) - 1
    pts = {lo, hi, max(lo - 1, 0), min(hi + 1, top)}
    for _ in range(2):
        pts.add(r.randint(lo, hi))
    for p in pts:
        if net.version == 4:
            a4 = ipaddress.IPv4Address(p)
            add_v4(a4)
            a6 = mapped(a4)
        else:
            a6 = ipaddress.IPv6Address(p)
        plen = net.prefixlen + (96 if net.version == 4 else 0)
        edge = {max(1, plen // 4 - 1), max(1, plen // 4), min(32, plen // 4 + 1), 32}
        if p == lo:     # every depth along the entry's own path
            edge |= set(range(1, 33))
        add_v6(a6, edge | set(r.sample(range(1, 33), 8)))
for _ in range(2500):   # names of 1 to 4 octet labels under first octets 0..9 (shared by both trees)
    n = 1 + r.randrange(4)
    labs = [str(r.randrange(10) if i == 0 or r.random() < 0.5 else r.randrange(256)) for i in range(n)]
    names.add(".".join(reversed(labs)))
for _ in range(1500):
    names.add(nib(ipaddress.IPv6Address(r.getrandbits(128)), 32))
names = sorted(names)
r.shuffle(names)
names = names[:24000]

# holes: owners of the private-use type in the zone file
holes = set()
suffix = "." + ZONE + "."
for line in open(ZFILE):
    f = line.split()
    if len(f) >= 4 and f[3] == "TYPE65280" and f[0].endswith(suffix):
        holes.add(f[0][:-len(suffix)])

def v4_junk(name):
    """A name lk_name reads as junk below an IPv4 node (render.h: not matched)."""
    labs = name.split(".")
    octet = lambda s: s.isdigit() and len(s) <= 3 and int(s) <= 255 and (len(s) == 1 or s[0] != "0")
    multi = any(octet(l) and len(l) > 1 for l in labs)
    return multi and (len(labs) > 4 or not all(octet(l) for l in labs))

# ---- a small full parser ----
def read_name(msg, off):
    labs, jumps, end = [], 0, None
    while True:
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = (n & 0x3F) << 8 | msg[off + 1]
            jumps += 1
            if jumps > 20:
                raise ValueError("pointer loop")
            continue
        if n == 0:
            return ".".join(labs).lower(), (end if end is not None else off + 1)
        labs.append(msg[off + 1:off + 1 + n].decode("latin-1"))
        off += 1 + n

def parse(msg):
    qid, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", msg[:12])
    off = 12
    for _ in range(qd):
        off = dnsraw.skip_name(msg, off) + 4
    secs = []
    for count in (an, ns):
        rrs = []
        for _ in range(count):
            owner, off = read_name(msg, off)
            t, c, ttl, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
            rd = msg[off + 10:off + 10 + rdlen]
            if t == 1:
                data = ".".join(str(b) for b in rd)
            elif t == 16:
                parts, i = [], 0
                while i < len(rd):
                    parts.append(rd[i + 1:i + 1 + rd[i]])
                    i += 1 + rd[i]
                data = b"".join(parts).decode("latin-1")
            elif t == 6:
                mname, o = read_name(msg, off + 10)
                rname, o = read_name(msg, o)
                data = (mname, rname) + struct.unpack("!IIIII", msg[o:o + 20])
            else:
                data = rd.hex()
            rrs.append((owner, t, ttl, data))
            off += 10 + rdlen
        secs.append(sorted(rrs))
    return {"id": qid, "rcode": flags & 0xF, "aa": flags >> 10 & 1, "tc": flags >> 9 & 1,
            "an": secs[0], "ns": secs[1]}

# ---- asking, many at once ----
def ask_all(port, qs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setblocking(False)
    res = [None] * len(qs)
    pending, nxt, qid = {}, 0, 0
    tries = [0] * len(qs)
    while (nxt < len(qs) or pending) and time.monotonic() < DEADLINE:
        while nxt < len(qs) and len(pending) < 64:
            qid = (qid + 1) & 0xFFFF
            name, t = qs[nxt]
            s.sendto(dnsraw.build_query(name + "." + ZONE, t, qid=qid, edns=0), ("127.0.0.1", port))
            pending[qid] = (nxt, time.monotonic())
            tries[nxt] += 1
            nxt += 1
        rl, _, _ = select.select([s], [], [], 0.2)
        if rl:
            for _ in range(64):
                try:
                    msg = s.recv(65535)
                except BlockingIOError:
                    break
                p = parse(msg)
                if p["id"] in pending:
                    res[pending.pop(p["id"])[0]] = p
        now = time.monotonic()
        for k, (i, sent) in list(pending.items()):
            if now - sent > 2.0:
                del pending[k]
                if tries[i] < 3:
                    qid = (qid + 1) & 0xFFFF
                    name, t = qs[i]
                    s.sendto(dnsraw.build_query(name + "." + ZONE, t, qid=qid, edns=0),
                             ("127.0.0.1", port))
                    pending[qid] = (i, now)
                    tries[i] += 1
    s.close()
    return res

qs = [(n, t) for n in names for t in ("A", "TXT")]
t0 = time.monotonic()
got_n = ask_all(NPORT, qs)
got_v = ask_all(VPORT, qs)
elapsed = time.monotonic() - t0

# ---- comparing ----
stats = {k: 0 for k in ("agree", "hole", "junk_agree", "junk_differ", "unexpected", "timeout",
                        "nxdomain", "nodata", "listed", "full", "partial", "ipv4", "tc")}
bad = []
def verdict(p):
    if p["rcode"] == 3:
        return "NXDOMAIN"
    return "LISTED" if any(rr[1] in (1, 16) for rr in p["an"]) else "NODATA"
for (name, t), pn, pv in zip(qs, got_n, got_v):
    if pn is None or pv is None:
        stats["timeout"] += 1
        continue
    if pn["tc"] or pv["tc"]:
        stats["tc"] += 1
    same = (pn["rcode"], pn["aa"], pn["an"]) == (pv["rcode"], pv["aa"], pv["an"])
    if same and not pn["an"]:
        soa = lambda p: [rr for rr in p["ns"] if rr[1] == 6]
        same = soa(pn) == soa(pv) and len(soa(pn)) == 1
    if same:
        stats["agree"] += 1
        stats[verdict(pn).lower()] += 1
        labs = name.split(".")
        if all(len(l) == 1 for l in labs) and len(labs) == 32:
            stats["full"] += 1
        elif all(l.isdigit() for l in labs) and len(labs) <= 4:
            stats["ipv4"] += 1
        else:
            stats["partial"] += 1
        if v4_junk(name):
            stats["junk_agree"] += 1
        continue
    if v4_junk(name):
        stats["junk_differ"] += 1
    elif name in holes and pv["rcode"] == 3 and pn["rcode"] == 0 and not pn["an"]:
        stats["hole"] += 1
    else:
        stats["unexpected"] += 1
        if len(bad) < 25:
            bad.append("%s %s: nsd rcode=%d aa=%d an=%s ns=%s | v6repd rcode=%d aa=%d an=%s ns=%s" % (
                name, t, pn["rcode"], pn["aa"], pn["an"], pn["ns"][:1], pv["rcode"], pv["aa"],
                pv["an"], pv["ns"][:1]))
print("names=%d queries=%d each server, %.1f s" % (len(names), len(qs), elapsed))
print(" ".join("%s=%d" % kv for kv in stats.items()))
for b in bad:
    print("DIFF " + b)
EOF
cat "$T/compare.out" | sed 's/^/# /'
summary=$(grep -E '^agree=' "$T/compare.out")
nq=$(grep -oE 'names=[0-9]+' "$T/compare.out" | cut -d= -f2)
get() { grep -oE "(^| )$1=[0-9]+" <<<"$summary" | cut -d= -f2; }
if [ -z "$summary" ]; then
	fail "the comparison did not run: $(short "$(cat "$T/compare.out")")"
else
	[ "${nq:-0}" -ge 10000 ] && ok "$nq names asked (A and TXT) of both servers" || fail "only ${nq:-0} names"
	expect_eq "queries without an answer" 0 "$(get timeout)"
	expect_eq "answers that differ outside the documented cases" 0 "$(get unexpected)"
	expect_eq "truncated answers" 0 "$(get tc)"
	[ "$(get agree)" -gt 0 ] && ok "agreeing answers: $(get agree) (listed $(get listed), nodata $(get nodata), nxdomain $(get nxdomain); full $(get full), partial/junk $(get partial), ipv4 $(get ipv4))"
	note "documented differences: holes $(get hole) (NODATA at NSD, NXDOMAIN at v6repd); junk below IPv4 wildcards: $(get junk_differ) differ, $(get junk_agree) agree"
	[ "$(get listed)" -gt 1000 ] && ok "more than 1000 listed answers compared" || fail "too few listed answers: $(get listed)"
	[ "$(get nxdomain)" -gt 1000 ] && ok "more than 1000 NXDOMAIN answers compared" || fail "too few NXDOMAIN answers: $(get nxdomain)"
fi

stop_v6repd
kill_bg "$NSD_PID"
finish
