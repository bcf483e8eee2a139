#!/usr/bin/env bash
# xfr.sh: zone transfer benchmark: AXFR of a large store from v6repd against NSD serving the same
# exported zone, IXFR size after N changes, and the time from `v6rep add` to the change being
# answered by a NOTIFYed NSD secondary. A benchmark, not a test; prints a report.
#
#   contrib/bench/xfr.sh [--entries N] [--changes N] [--adds N] [--out DIR] [--build DIR]
#
# Defaults: 1,000,000 entries (gen_sets.py's mix), 1,000 changes, 5 timed adds, output in
# /tmp/v6rep-xfr-bench, binaries in build/. Needs nsd (apt-get installs it when missing, with
# policy-rc.d exiting 101). Run as root from the top of the checkout. Everything listens on
# 127.0.0.1 high ports; every wait is bounded; every daemon started is stopped at the end (trap).
# Memory: NSD loading the 1M-entry zone takes several GiB and minutes (see README.md).
set -euo pipefail

ENTRIES=1000000
CHANGES=1000
ADDS=5
OUT=/tmp/v6rep-xfr-bench
BUILD=build
while [ $# -gt 0 ]; do
	case $1 in
	--entries) ENTRIES=$2; shift 2 ;;
	--changes) CHANGES=$2; shift 2 ;;
	--adds) ADDS=$2; shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	*) echo "usage: $0 [--entries N] [--changes N] [--adds N] [--out DIR] [--build DIR]" >&2; exit 2 ;;
	esac
done
HERE=$(cd "$(dirname "$0")" && pwd)
ZONE=v6bl.test
V6REP=$BUILD/v6rep
V6REPD=$BUILD/v6repd
GET=(python3 "$HERE/xfrget.py")
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${PIDS[@]}"; do
		for _ in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$p" 2>/dev/null || true
	done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v nsd >/dev/null || {
	[ -e /usr/sbin/policy-rc.d ] || { printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; }
	apt-get install -y -qq --no-install-recommends nsd >/dev/null
}
[ -x "$V6REPD" ] && [ -x "$V6REP" ] || make -j2 "$V6REPD" "$V6REP" >/dev/null

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ms() { date +%s%3N; }
soa_serial() { dig @127.0.0.1 -p "$1" +time=1 +tries=1 +short "$ZONE" SOA 2>/dev/null | awk 'NF>=7 {print $3; exit}'; }
wait_serial() { # PORT SERIAL SECONDS
	local end=$((SECONDS + $3))
	while [ "$SECONDS" -lt "$end" ]; do [ "$(soa_serial "$1")" = "$2" ] && return 0; sleep 0.05; done
	echo "timed out waiting for serial $2 on port $1" >&2
	return 1
}
# rss_mb PID: peak RSS of PID and its children (NSD forks its servers and xfrd), MiB.
rss_mb() {
	local p t=0 k
	for p in "$1" $(pgrep -P "$1" 2>/dev/null); do
		k=$(awk '/^VmHWM/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
		t=$((t + ${k:-0}))
	done
	echo $((t / 1024))
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

mkdir -p "$OUT"
REPORT=$OUT/report.txt
: >"$REPORT"
say() { echo "$*" | tee -a "$REPORT"; }

# ---- data: the store and the same zone as a master file ----
DB=$OUT/db-$ENTRIES
if [ ! -d "$DB" ]; then
	python3 "$HERE/gen_sets.py" --entries "$ENTRIES" --queries 10 --zone "$ZONE" "$OUT/set-$ENTRIES" >/dev/null
	"$V6REP" --db "$DB" import "$OUT/set-$ENTRIES/listings.txt" >/dev/null
fi
t0=$(ms)
"$V6REP" --db "$DB" --zone "$ZONE" list --format zone >"$OUT/zone.txt"
EXPORT_MS=$(($(ms) - t0))
SERIAL0=$("$V6REP" --db "$DB" serial | grep -oE '[0-9]+' | head -n1)
say "# v6rep zone transfer benchmark: $ENTRIES entries ($(grep -c . "$OUT/set-$ENTRIES/listings.txt" 2>/dev/null || echo '?') lines), $(nproc) CPUs"
say "zone file: $(wc -l <"$OUT/zone.txt") lines, $(($(stat -c %s "$OUT/zone.txt") / 1048576)) MiB, exported in $EXPORT_MS ms"

# ---- v6repd, a secondary NSD, a primary NSD with the exported file ----
VPORT=$(port)
SPORT=$(port)
PPORT=$(port)
"$V6REPD" --db "$DB" --zone "$ZONE" --listen "127.0.0.1:$VPORT" --allow-transfer 127.0.0.1 \
	--notify "127.0.0.1:$SPORT" --notify-interval 1 --threads 2 --log-level info >"$OUT/v6repd.log" 2>&1 &
VPID=$!
PIDS+=("$VPID")
wait_serial "$VPORT" "$SERIAL0" 20

nsd_conf() { # DIR PORT ZONE-LINES
	mkdir -p "$1"
	cat >"$1/nsd.conf" <<EOF
server:
	ip-address: 127.0.0.1
	port: $2
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	zonesdir: "$1"
	database: ""
	zonelistfile: "$1/zone.list"
	pidfile: "$1/nsd.pid"
	xfrdfile: "$1/xfrd.state"
	xfrdir: "$1"
	logfile: "$1/nsd.log"
	xfrd-reload-timeout: 0
	rrl-ratelimit: 0
	verbosity: 1
remote-control:
	control-enable: no
zone:
	name: "$ZONE"
$3
EOF
}

# 1. AXFR from v6repd (one read transaction, streamed), then from NSD serving the same zone file
R=$("${GET[@]}" 127.0.0.1 "$VPORT" "$ZONE")
say "AXFR v6repd: $(field records "$R") records, $(field messages "$R") messages, $(($(field bytes "$R") / 1024)) KiB, $(field seconds "$R") s; v6repd peak RSS $(rss_mb "$VPID") MiB"

rm -rf "$OUT/nsd-primary"
nsd_conf "$OUT/nsd-primary" "$PPORT" "	zonefile: \"$OUT/zone.txt\"
	provide-xfr: 127.0.0.1 NOKEY"
t0=$(ms)
nsd -d -c "$OUT/nsd-primary/nsd.conf" >"$OUT/nsd-primary/stderr.log" 2>&1 &
PPID_NSD=$!
PIDS+=("$PPID_NSD")
wait_serial "$PPORT" "$SERIAL0" 1800
say "NSD primary: zone file loaded and serving in $(($(ms) - t0)) ms, peak RSS $(rss_mb "$PPID_NSD") MiB"
R=$("${GET[@]}" 127.0.0.1 "$PPORT" "$ZONE")
say "AXFR NSD:    $(field records "$R") records, $(field messages "$R") messages, $(($(field bytes "$R") / 1024)) KiB, $(field seconds "$R") s"
kill "$PPID_NSD"

# 2. an NSD secondary of v6repd: first AXFR, through NOTIFY
rm -rf "$OUT/nsd-secondary"
nsd_conf "$OUT/nsd-secondary" "$SPORT" "	zonefile: \"$ZONE.zone\"
	request-xfr: 127.0.0.1@$VPORT NOKEY
	allow-notify: 127.0.0.1 NOKEY"
t0=$(ms)
nsd -d -c "$OUT/nsd-secondary/nsd.conf" >"$OUT/nsd-secondary/stderr.log" 2>&1 &
SPID=$!
PIDS+=("$SPID")
wait_serial "$SPORT" "$SERIAL0" 1800
say "NSD secondary of v6repd: AXFR and load in $(($(ms) - t0)) ms, peak RSS $(rss_mb "$SPID") MiB"

# 3. N changes in one import (new /64s and /128s, a few exclusions), then IXFR from v6repd
python3 - "$CHANGES" "$OUT/changes.txt" <<'EOF'
import random, sys
n, rng = int(sys.argv[1]), random.Random(99)
with open(sys.argv[2], "w") as f:
    for i in range(n):
        a = "2a0f:%x:%x:%x" % (rng.getrandbits(16), rng.getrandbits(16), rng.getrandbits(16))
        r = rng.random()
        if r < 0.6:
            f.write("%s::/64 127.0.0.2 bench change %d\n" % (a, i))
        elif r < 0.9:
            f.write("%s::%x 127.0.0.3 bench host %d\n" % (a, rng.getrandbits(16) | 1, i))
        else:
            f.write("!%s::/64 bench hole %d\n" % (a, i))
EOF
"$V6REP" --db "$DB" import "$OUT/changes.txt" >/dev/null
SERIAL1=$("$V6REP" --db "$DB" serial | grep -oE '[0-9]+' | head -n1)
R=$("${GET[@]}" 127.0.0.1 "$VPORT" "$ZONE" "$SERIAL0")
say "IXFR v6repd after $CHANGES changes: form $(field form "$R"), $(field records "$R") records, $(($(field bytes "$R") / 1024)) KiB ($(( $(field bytes "$R") / CHANGES )) bytes per change), $(field seconds "$R") s"
t0=$(ms)
wait_serial "$SPORT" "$SERIAL1" 120
say "NSD secondary at serial $SERIAL1 (NOTIFY + IXFR) $(($(ms) - t0)) ms after the IXFR above"
grep -E "IXFR to .*changes" "$OUT/v6repd.log" | tail -n 1 | sed 's/^.*: IXFR/  v6repd: IXFR/' | tee -a "$REPORT"

# 4. v6rep add -> answered by the NOTIFYed NSD secondary
lat=()
for i in $(seq 1 "$ADDS"); do
	pfx=$(printf '2a0e:beef:%x:%x::1' "$i" "$RANDOM")
	name=$(python3 -c 'import ipaddress,sys; print(".".join(reversed(ipaddress.ip_address(sys.argv[1]).exploded.replace(":", ""))) + "." + sys.argv[2])' "$pfx" "$ZONE")
	t0=$(ms)
	"$V6REP" --db "$DB" add "$pfx" --reason "bench add $i" >/dev/null
	end=$((SECONDS + 60))
	until dig @127.0.0.1 -p "$SPORT" +time=1 +tries=1 +short "$name" A 2>/dev/null | grep -q '^127\.'; do
		[ "$SECONDS" -lt "$end" ] || { echo "add $i not answered within 60 s" >&2; break; }
		sleep 0.02
	done
	lat+=($(($(ms) - t0)))
	sleep 1.2      # past notify-interval, so each add starts its own NOTIFY round
done
say "v6rep add -> answered by the NSD secondary: ${lat[*]} ms (median $(printf '%s\n' "${lat[@]}" | sort -n | sed -n "$(( (ADDS + 1) / 2 ))p") ms)"
say "report in $REPORT"
