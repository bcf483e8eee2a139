#!/usr/bin/env bash
# t_xfr.sh: v6repd as a hidden primary: NSD and Knot (and BIND's named when installed) transfer
# the zone by AXFR with TSIG, are NOTIFYed of changes made with `v6rep add/del/allow/import` and by
# v6rep-ingest, and
# follow by IXFR; then each answers like v6repd for a sample of names (tests/e2e/xfrcmp.py).
# Refusals: an address not in allow-transfer, a wrong TSIG key, no TSIG, AXFR over UDP.
# Each secondary transfers from its own loopback address (NSD 127.0.0.2, Knot 127.0.0.3, named
# 127.0.0.4), so v6repd's log tells which one got an incremental IXFR.
# Usage: bash t_xfr.sh BUILD_DIR. Every daemon runs on 127.0.0.1 high ports with its own config
# in the temp dir, and is stopped at the end; every wait is bounded.

. "$(dirname "$0")/lib.sh" "$@"
need_bins

SAMPLE=${XFR_SAMPLE:-10000}       # names compared per secondary (each asked for A and TXT)
DB=$T/db
LIST=$T/listings.txt
XFRCMP=("$PY" "$E2E_DIR/xfrcmp.py")
SECRET=$(head -c 32 /dev/urandom | base64)
BADSECRET=$(head -c 32 /dev/urandom | base64)
KEY=xfrkey

for b in nsd knotd kdig dig; do
	if ! command -v "$b" >/dev/null; then
		fail "missing $b (make deps installs nsd, knot, knot-dnsutils, bind9-dnsutils)"
		finish
	fi
done

# ---- the store: nested listings, exclusions, IPv4, off-nibble prefixes (bounded, seeded) ----
"$PY" - "$LIST" <<'EOF'
import ipaddress, random, sys
rng = random.Random(7)
out = []
def v6(net): return str(net)
for i in range(300):                                   # /48s, some with /64s and /128s inside
    base = ipaddress.ip_network(((0x2001_0db8 << 96) | (rng.getrandbits(16) << 80), 48))
    out.append("%s 127.0.0.%d net %d" % (base, rng.choice([2, 3]), i))
    for k in range(rng.randint(0, 3)):
        sub = ipaddress.ip_network((int(base.network_address) | (rng.getrandbits(16) << 64), 64))
        out.append(("!%s allowed %d.%d" if rng.random() < 0.4 else "%s 127.0.0.4 sub %d.%d") % (sub, i, k))
        if rng.random() < 0.5:
            h = ipaddress.ip_address(int(sub.network_address) | rng.getrandbits(64))
            out.append(("!%s host %d.%d" if rng.random() < 0.3 else "%s 127.0.0.5 host %d.%d") % (h, i, k))
for i in range(600):                                   # lone /64s and /128s elsewhere
    a = (0x2a00 << 112) | (rng.getrandbits(44) << 68)
    if rng.random() < 0.5:
        out.append("%s 127.0.0.2 lone64 %d" % (ipaddress.ip_network((a, 64)), i))
    else:
        out.append("%s 127.0.0.6 lone128 %d" % (ipaddress.ip_address(a | rng.getrandbits(64)), i))
for i in range(40):                                    # off a nibble boundary
    plen = rng.choice([45, 50, 57, 63])
    a = ((0x2c0f << 112) | (rng.getrandbits(40) << 72)) & ~((1 << (128 - plen)) - 1)
    out.append("%s 127.0.0.7 odd %d" % (ipaddress.ip_network((a, plen)), i))
for i in range(200):                                   # IPv4
    if rng.random() < 0.3:
        out.append("%s 127.0.0.8 v4net %d" % (ipaddress.ip_network((rng.getrandbits(24) << 8, 24)), i))
    else:
        out.append("%s 127.0.0.9 v4host %d" % (ipaddress.ip_address(rng.getrandbits(32) | 1), i))
seen, lines = set(), []
for l in out:
    p = l.split()[0].lstrip("!")
    if p not in seen:
        seen.add(p)
        lines.append(l)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
v6r_must "import the listings" import "$LIST" || finish
note "store: $(wc -l <"$LIST") entries, serial $(tool_serial)"

NSD_PORT=$(pick_port) || finish
KNOT_PORT=$(pick_port) || finish
BIND_PORT=""
HAVE_BIND=""
if command -v named >/dev/null; then
	HAVE_BIND=1
	BIND_PORT=$(pick_port) || finish
else
	note "named (bind9) is not installed: BIND is not tried as a third secondary"
fi
NOTIFY=(--notify "127.0.0.1:$NSD_PORT" --notify "127.0.0.1:$KNOT_PORT")
[ -n "$HAVE_BIND" ] && NOTIFY+=(--notify "127.0.0.1:$BIND_PORT")

start_v6repd --allow-transfer 127.0.0.1 --allow-transfer 127.0.0.2/31 --allow-transfer 127.0.0.4 \
	--tsig-key "$KEY:hmac-sha256:$SECRET" "${NOTIFY[@]}" \
	--notify-interval 1 --log-level info || finish

# ---- the secondaries ----

start_nsd() {
	local d=$T/nsd
	mkdir -p "$d"
	cat >"$d/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $NSD_PORT
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$d"
	database: ""
	zonelistfile: "$d/zone.list"
	pidfile: "$d/nsd.pid"
	xfrdfile: "$d/xfrd.state"
	xfrdir: "$d"
	logfile: "$d/nsd.log"
	verbosity: 2
	xfrd-reload-timeout: 0
	rrl-ratelimit: 0
remote-control:
	control-enable: no
key:
	name: "$KEY"
	algorithm: hmac-sha256
	secret: "$SECRET"
zone:
	name: "$ZONE"
	zonefile: "$ZONE.zone"
	request-xfr: 127.0.0.1@$PORT $KEY
	allow-notify: 127.0.0.1 $KEY
	outgoing-interface: 127.0.0.2
EOF
	nsd -d -c "$d/nsd.conf" >"$d/stderr.log" 2>&1 &
	NSD_PID=$!
	bg_add "$NSD_PID"
	NSD_LOG=$d/nsd.log
}

start_knot() {
	local d=$T/knot
	mkdir -p "$d"
	cat >"$d/knot.conf" <<EOF
server:
    listen: 127.0.0.1@$KNOT_PORT
    rundir: "$d"
log:
  - target: "$d/knot.log"
    any: info
database:
    storage: "$d"
key:
  - id: $KEY
    algorithm: hmac-sha256
    secret: $SECRET
remote:
  - id: v6repd
    address: 127.0.0.1@$PORT
    via: 127.0.0.3
    key: $KEY
acl:
  - id: notify_from_v6repd
    address: 127.0.0.1
    key: $KEY
    action: notify
zone:
  - domain: $ZONE
    storage: "$d"
    file: "$ZONE.zone"
    master: v6repd
    acl: notify_from_v6repd
    zonefile-sync: -1
    journal-content: changes
EOF
	knotd -c "$d/knot.conf" >"$d/stderr.log" 2>&1 &
	KNOT_PID=$!
	bg_add "$KNOT_PID"
	KNOT_LOG=$d/knot.log
}

start_bind() {
	local d=$T/bind
	mkdir -p "$d"
	cat >"$d/named.conf" <<EOF
options {
	directory "$d";
	listen-on port $BIND_PORT { 127.0.0.1; };
	listen-on-v6 { none; };
	pid-file "$d/named.pid";
	recursion no;
	notify no;
	transfer-source 127.0.0.4;
	query-source address 127.0.0.4;
};
key "$KEY" { algorithm hmac-sha256; secret "$SECRET"; };
server 127.0.0.1 { keys { $KEY; }; request-ixfr yes; };
zone "$ZONE" { type secondary; file "$ZONE.zone"; primaries port $PORT { 127.0.0.1 key $KEY; };
	allow-notify { key $KEY; }; };
EOF
	named -g -c "$d/named.conf" -p "$BIND_PORT" >"$d/stderr.log" 2>&1 &
	BIND_PID=$!
	bg_add "$BIND_PID"
	BIND_LOG=$d/stderr.log         # named -g logs to stderr whatever the logging section says
}

# soa_serial PORT: the SOA serial a server on 127.0.0.1:PORT answers (empty when none).
soa_serial() {
	dig @127.0.0.1 -p "$1" +time=1 +tries=1 +norecurse +short "$ZONE" SOA 2>/dev/null |
		awk 'NF >= 7 { print $3; exit }'
}

# wait_serial WHAT PORT SERIAL SECONDS: bounded wait until the server answers SERIAL.
wait_serial() {
	local end=$((SECONDS + $4)) got=""
	while [ "$SECONDS" -lt "$end" ]; do
		got=$(soa_serial "$2")
		[ "$got" = "$3" ] && { ok "$1 has serial $3"; return 0; }
		sleep 0.2
	done
	fail "$1 did not reach serial $3 within $4 s (it answers '$got')"
	return 1
}

# compare WHAT PORT: xfrcmp of v6repd against the secondary on PORT.
compare() {
	local out
	"$V6REP" --db "$DB" list >"$T/entries.txt" 2>/dev/null
	out=$("${XFRCMP[@]}" --zone "$ZONE" --ref "127.0.0.1:$PORT" --sec "127.0.0.1:$2" \
		--count "$SAMPLE" --seed "$RANDOM" <"$T/entries.txt" 2>&1)
	if [ $? -eq 0 ]; then
		ok "$1 answers like v6repd: $(head -n 1 <<<"$out")"
	else
		fail "$1 answers differ from v6repd: $(head -n 1 <<<"$out")"
		sed -n '2,21p' <<<"$out" | sed 's/^/#   /'
	fi
}

# log_has WHAT FILE REGEX: the log file has a line matching REGEX (bounded wait, 10 s).
log_has() {
	local i
	for i in $(seq 1 50); do
		grep -qE "$3" "$2" 2>/dev/null && { ok "$1"; return 0; }
		sleep 0.2
	done
	fail "$1: no line matching /$3/ in $(basename "$2")"
	tail -n 5 "$2" 2>/dev/null | sed 's/^/#   /'
	return 1
}

count_lines() { grep -cE "$2" "$1" 2>/dev/null || true; }

start_nsd
start_knot
[ -n "$HAVE_BIND" ] && start_bind
SERIAL=$(tool_serial)
wait_serial "NSD (AXFR)" "$NSD_PORT" "$SERIAL" 30
wait_serial "Knot (AXFR)" "$KNOT_PORT" "$SERIAL" 30
[ -n "$HAVE_BIND" ] && wait_serial "named (AXFR)" "$BIND_PORT" "$SERIAL" 30
log_has "NSD logs the AXFR" "$NSD_LOG" "AXFR|received update to serial $SERIAL"
log_has "Knot logs an incoming AXFR" "$KNOT_LOG" "AXFR, incoming.*finished"
log_has "v6repd logs the signed AXFRs" "$D_LOG" "AXFR of $ZONE serial $SERIAL to 127\.0\.0\.[2-4]:[0-9]+ done"
compare "NSD after AXFR" "$NSD_PORT"
compare "Knot after AXFR" "$KNOT_PORT"
[ -n "$HAVE_BIND" ] && compare "named after AXFR" "$BIND_PORT"

# ---- changes: add, del, allow, a small import; each reaches the secondaries by IXFR ----
KNOT_IXFR0=$(count_lines "$KNOT_LOG" "IXFR, incoming.*finished")
V6_IXFR0=$(count_lines "$D_LOG" "IXFR of .* done \(incremental\)")
first48=$(grep -m1 -E '^2001:db8:[0-9a-f]+::/48' "$LIST" | awk '{print $1}')
lone=$(grep -m1 'lone128' "$LIST" | awk '{print $1}')
v6r_must "add a /64" add 2001:db8:fff0:1::/64 --code 127.0.0.3 --reason "added by t_xfr"
v6r_must "add a /128 inside a /48" add "${first48%%::/48}:77::1" --reason "inside $first48"
v6r_must "exclude a /64 inside a /48" allow "${first48%%::/48}:88::/64"
v6r_must "delete a lone /128" del "$lone"
cat >"$T/more.txt" <<EOF
2001:db8:fff1::/48 127.0.0.2 imported net
2001:db8:fff1:5::/64 127.0.0.4 imported sub
!2001:db8:fff1:6::/64 imported hole
2001:db8:fff2::42 127.0.0.6 imported host
203.0.113.0/24 127.0.0.8 imported v4 net
EOF
v6r_must "import a few entries" import "$T/more.txt"
SERIAL=$(tool_serial)
wait_serial "NSD (after NOTIFY)" "$NSD_PORT" "$SERIAL" 30
wait_serial "Knot (after NOTIFY)" "$KNOT_PORT" "$SERIAL" 30
[ -n "$HAVE_BIND" ] && wait_serial "named (after NOTIFY)" "$BIND_PORT" "$SERIAL" 30
log_has "v6repd sent NOTIFY for serial $SERIAL" "$D_LOG" "serial $SERIAL: sending NOTIFY"
log_has "v6repd sent incremental IXFRs" "$D_LOG" "IXFR of $ZONE serial [0-9]+ to .* done \(incremental\)"
n=$(count_lines "$D_LOG" "IXFR of .* done \(incremental\)")
[ "$n" -gt "$V6_IXFR0" ] && ok "v6repd: $((n - V6_IXFR0)) incremental IXFRs" || fail "v6repd sent no incremental IXFR"
# NSD 4.6 logs "received update ... of N bytes" for IXFR and AXFR alike: v6repd's log tells.
log_has "NSD took an incremental IXFR (from 127.0.0.2)" "$D_LOG" "IXFR of $ZONE serial [0-9]+ to 127\.0\.0\.2:[0-9]+ done \(incremental\)"
log_has "NSD applied it" "$NSD_LOG" "received update to serial $SERIAL .* of [0-9]{2,4} bytes"
log_has "Knot took an incremental IXFR (from 127.0.0.3)" "$D_LOG" "IXFR of $ZONE serial [0-9]+ to 127\.0\.0\.3:[0-9]+ done \(incremental\)"
[ -n "$HAVE_BIND" ] && log_has "named took an incremental IXFR (from 127.0.0.4)" "$D_LOG" "IXFR of $ZONE serial [0-9]+ to 127\.0\.0\.4:[0-9]+ done \(incremental\)"
[ -n "$HAVE_BIND" ] && log_has "named applied it" "$BIND_LOG" "Transfer completed: 1 messages, [0-9]{1,3} records.*serial $SERIAL"
n=$(count_lines "$KNOT_LOG" "IXFR, incoming.*finished")
[ "$n" -gt "$KNOT_IXFR0" ] && ok "Knot took IXFR ($((n - KNOT_IXFR0)) transfers)" || fail "Knot log shows no incoming IXFR"
if grep -qE "IXFR, incoming.*(fallback to AXFR|failed)" "$KNOT_LOG"; then
	fail "Knot fell back to AXFR or failed an IXFR: $(grep -m1 -E 'IXFR, incoming.*(fallback|failed)' "$KNOT_LOG")"
fi
compare "NSD after IXFR" "$NSD_PORT"
compare "Knot after IXFR" "$KNOT_PORT"
[ -n "$HAVE_BIND" ] && compare "named after IXFR" "$BIND_PORT"

# ---- a batch written by ingest (simulated sensor traffic) reaches them by IXFR too ----
ROOT=$(cd "$E2E_DIR/../.." && pwd)
"$PY" "$ROOT/contrib/sim/v6sim.py" --seed 11 --scale small --out "$T/sim" >/dev/null
touch -d "$(sed -n 's/.*\.\. \([0-9T:-]*Z\).*/\1/p' "$T/sim/summary.txt" | head -1)" "$T/sim/maillog"
V6_IXFR1=$(count_lines "$D_LOG" "IXFR of .* done")
if "$BUILD/v6rep-ingest" --db "$DB" --sensor "$T/sim/sensor.pcap" --rejects "$T/sim/maillog" \
	--log-timezone UTC --expire-after 3650d --p0f-fp "$ROOT/tests/data/p0f/p0f.fp" 2>"$T/ingest.err"; then
	ok "ingest committed its batch: $(tail -n 1 "$T/ingest.err")"
else
	fail "ingest failed: $(tail -n 1 "$T/ingest.err")"
fi
DAEMON_LOGS+=("$T/ingest.err")
SERIAL=$(tool_serial)
wait_serial "NSD (after ingest)" "$NSD_PORT" "$SERIAL" 30
wait_serial "Knot (after ingest)" "$KNOT_PORT" "$SERIAL" 30
[ -n "$HAVE_BIND" ] && wait_serial "named (after ingest)" "$BIND_PORT" "$SERIAL" 30
n=$(count_lines "$D_LOG" "IXFR of .* done")
[ "$n" -gt "$V6_IXFR1" ] && ok "v6repd served $((n - V6_IXFR1)) IXFRs for ingest's batch" \
	|| fail "no IXFR after ingest's batch"
compare "NSD after ingest" "$NSD_PORT"
compare "Knot after ingest" "$KNOT_PORT"
[ -n "$HAVE_BIND" ] && compare "named after ingest" "$BIND_PORT"

# ---- refusals and transports ----
out=$(dig @::1 -p "$PORT" +tcp +time=3 +tries=1 -y "hmac-sha256:$KEY:$SECRET" "$ZONE" AXFR 2>&1)
expect_match "AXFR from ::1 (not in allow-transfer) is refused" "REFUSED|[Tt]ransfer failed" "$out"
log_has "v6repd logs the refusal with peer and reason" "$D_LOG" "refused AXFR of $ZONE from \[::1\]:[0-9]+ \(address not in allow-transfer\)"
out=$(dig @127.0.0.1 -p "$PORT" +tcp +time=3 +tries=1 -y "hmac-sha256:$KEY:$BADSECRET" "$ZONE" AXFR 2>&1)
if grep -qE "IN[[:space:]]+(A|TXT)[[:space:]]" <<<"$out"; then
	fail "AXFR with a wrong TSIG secret returned records"
else
	ok "AXFR with a wrong TSIG secret returns no records: $(grep -m1 -E 'NOTAUTH|tsig|TSIG|failed' <<<"$out")"
fi
log_has "v6repd logs BADSIG" "$D_LOG" "refused AXFR from 127.0.0.1:[0-9]+ \(TSIG BADSIG with key $KEY"
out=$(kdig @127.0.0.1 -p "$PORT" +tcp +time=3 +retry=0 -y "hmac-sha256:otherkey:$SECRET" "$ZONE" AXFR 2>&1)
expect_match "AXFR with an unknown key name is refused (kdig)" "NOTAUTH|BADKEY" "$out"
out=$(dig @127.0.0.1 -p "$PORT" +tcp +time=3 +tries=1 "$ZONE" AXFR 2>&1)
expect_match "AXFR without TSIG is refused (a key is set)" "REFUSED|[Tt]ransfer failed" "$out"
out=$(kdig @127.0.0.1 -p "$PORT" +tcp +time=5 +retry=0 -y "hmac-sha256:$KEY:$SECRET" "$ZONE" AXFR 2>&1)
expect_match "AXFR with the key succeeds (kdig verifies every message's TSIG)" "Received [0-9]+ B \\(([0-9]+) messages?, ([0-9]+) records\\)" "$out"
out=$("${DNSRAW[@]}" query 127.0.0.1 "$PORT" udp "$ZONE" TYPE252 2>&1)
expect_match "AXFR over UDP is FORMERR" "rcode=FORMERR" "$out"
out=$(dig @127.0.0.1 -p "$PORT" +notcp +time=2 +tries=1 -y "hmac-sha256:$KEY:$SECRET" "$ZONE" "IXFR=$SERIAL" 2>&1)
expect_match "IXFR over UDP from the current serial is the SOA alone" "SOA.* $SERIAL " "$out"
S_BEFORE=$(tool_serial)
v6r_must "add one more listing" add 2001:db8:fff3::1 --code 127.0.0.7 --reason udp-ixfr
S_AFTER=$(tool_serial)
out=$(dig @127.0.0.1 -p "$PORT" +notcp +time=2 +tries=1 -y "hmac-sha256:$KEY:$SECRET" "$ZONE" "IXFR=$S_BEFORE" 2>&1)
if grep -q "SOA.* $S_AFTER " <<<"$out" && grep -q "SOA.* $S_BEFORE " <<<"$out" &&
	grep -qE "IN[[:space:]]+A[[:space:]]+127\.0\.0\.7" <<<"$out" && ! grep -q "tsig.*fail\|verify" <<<"$out"; then
	ok "IXFR over UDP with a small difference answers it in one signed datagram"
else
	fail "IXFR over UDP from $S_BEFORE: $(short "$out")"
fi
out=$(dig @127.0.0.1 -p "$PORT" +time=2 +tries=1 -y "hmac-sha256:$KEY:$SECRET" "$ZONE" SOA 2>&1)
if grep -q "status: NOERROR" <<<"$out" && ! grep -qi "could.*n.t verify\|tsig.*fail\|expected a TSIG" <<<"$out"; then
	ok "a signed SOA query gets a signed NOERROR answer"
else
	fail "signed SOA query: $(short "$out")"
fi

stop_v6repd
log_has "v6repd counted the transfers" "$D_LOG" "transfers: [1-9][0-9]* AXFR, [1-9][0-9]* IXFR"
kill_bg "$NSD_PID"
kill_bg "$KNOT_PID"
[ -n "$HAVE_BIND" ] && kill_bg "$BIND_PID"

# ---- a stalled secondary: a big zone, a client that asks AXFR and reads nothing ----
# The transfer must stop at the queue bound (v6repd's memory stays flat), be aborted after
# xfr-timeout, and end its read transaction; v6repd keeps answering meanwhile.
"$PY" - "$T/big.txt" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(150000):
        f.write("2001:db8:%x:%x::/64 127.0.0.2 stall test %d\n" % (0x100 + i // 65536, i % 65536, i))
PYEOF
DB=$T/bigdb
v6r_must "import 150,000 listings" import "$T/big.txt"
PORT=""
start_v6repd --allow-transfer 127.0.0.1 --xfr-timeout 5 --log-level info || finish
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$D_PID/status"; }
RSS0=$(rss_kb)
"$PY" - "$PORT" "$ZONE" >"$T/stall.out" 2>&1 <<'PYEOF' &
import socket, struct, sys, time
port, zone = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
q = struct.pack("!HHHHHH", 0x5151, 0, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in zone.split(".")) + b"\0" + struct.pack("!HH", 252, 1)
s.sendall(struct.pack("!H", len(q)) + q)
got = len(s.recv(4096))
time.sleep(9)                       # read nothing more: v6repd must give up after 5 s
n, end = 0, time.monotonic() + 10
try:
    s.settimeout(2)
    while time.monotonic() < end:
        b = s.recv(65536)
        if not b:
            print("closed after", got + n, "bytes")
            break
        n += len(b)
    else:
        print("not closed after", got + n, "bytes")
except (socket.timeout, ConnectionResetError) as e:
    print("closed or stuck:", type(e).__name__, "after", got + n, "bytes")
PYEOF
STALL_PID=$!
bg_add "$STALL_PID"
sleep 3
RSS1=$(rss_kb)
dq 127.0.0.1 udp "$ZONE" SOA
expect_rcode NOERROR
if [ $((RSS1 - RSS0)) -lt 65536 ]; then
	ok "v6repd memory stays bounded while a secondary stalls (RSS $RSS0 -> $RSS1 KiB)"
else
	fail "v6repd RSS grew from $RSS0 to $RSS1 KiB during a stalled transfer"
fi
for i in $(seq 1 250); do alive "$STALL_PID" || break; sleep 0.1; done
expect_match "the stalled transfer was cut off" "closed after [0-9]+ bytes|ConnectionResetError" "$(cat "$T/stall.out")"
log_has "v6repd logs the stalled transfer as failed" "$D_LOG" "failed to send AXFR of $ZONE to 127\.0\.0\.1:[0-9]+ \(connection closed or stalled"
stop_v6repd
finish
