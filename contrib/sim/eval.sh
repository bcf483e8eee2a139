#!/usr/bin/env bash
# eval.sh [--build DIR] [--scale S] [--keep DIR] SEED...: precision and recall of v6rep-ingest on
# simulated traffic: for each seed, v6sim.py writes a capture, a maillog and the ground truth (kept
# under --keep, default /tmp/v6rep-sim, and reused), a one-shot ingest lists into a fresh store,
# and score.py compares the listings with the truth. Prints one line per seed and the worst.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build; SCALE=small; KEEP=/tmp/v6rep-sim
while [ $# -gt 0 ]; do
	case $1 in
	--build) BUILD=$2; shift 2 ;;
	--scale) SCALE=$2; shift 2 ;;
	--keep) KEEP=$2; shift 2 ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [--build DIR] [--scale S] [--keep DIR] SEED..." >&2; exit 1; }
printf "%-6s %-9s %-9s %-8s %s\n" seed precision recall legit48 listings
for seed in "$@"; do
	sim=$KEEP/$SCALE-$seed
	if [ ! -s "$sim/truth.jsonl" ]; then
		python3 "$ROOT/contrib/sim/v6sim.py" --seed "$seed" --scale "$SCALE" --out "$sim" > /dev/null
	fi
	end=$(sed -n 's/.*\.\. \([0-9T:-]*Z\).*/\1/p' "$sim/summary.txt" | head -1)
	touch -d "$end" "$sim/maillog"   # RFC 3164 stamps have no year: it comes from the file time
	db=$(mktemp -d)
	"$BUILD/v6rep-ingest" --db "$db" --sensor "$sim/sensor.pcap" --rejects "$sim/maillog" \
		--log-timezone UTC --expire-after 3650d --allowlist "$ROOT/contrib/allowlist.txt" \
		--p0f-fp "$ROOT/tests/data/p0f/p0f.fp" 2> "$sim/ingest.err"
	"$BUILD/v6rep" --db "$db" list --format import > "$sim/listed.txt"
	rm -rf "$db"
	python3 "$ROOT/contrib/sim/score.py" --truth "$sim/truth.jsonl" "$sim/listed.txt" > "$sim/score.txt" || true   # exit 1 only says a target was missed
	awk -v s="$seed" '/^precision/ {p=$2} /^recall/ {r=$2} /^legit48/ {l=$2} /^info/ {n=$2}
		END { printf "%-6s %-9s %-9s %-8s %s\n", s, p, r, l, n }' "$sim/score.txt"
done
