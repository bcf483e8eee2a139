#!/usr/bin/env bash
# ingest.sh [--small] [--rounds N] [--out DIR]: v6rep-ingest read speed, side by side in one run:
#   a capture of 10 million SYNs: v6rep-ingest --sensor FILE  vs  tcpdump -r FILE -w /dev/null
#   a 30-million-line maillog:     v6rep-ingest --rejects FILE vs  grep -c 'blocked using' FILE
# in interleaved rounds (wall and CPU time, max RSS of each). Target: ingest at no less than half the
# peers' speed, with memory bounded by the time windows, not the input size. --small: 1M / 3M.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
SYNS=10000000; LINES=30000000; ROUNDS=3; OUT=contrib/bench/out/ingest
while [ $# -gt 0 ]; do
	case $1 in
	--small) SYNS=1000000; LINES=3000000 ;;
	--rounds) ROUNDS=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: $0 [--small] [--rounds N] [--out DIR]" >&2; exit 1 ;;
	esac
	shift
done
command -v tcpdump >/dev/null || { echo "ingest.sh: installing tcpdump"; apt-get install -y -qq tcpdump >/dev/null; }
make -s build/v6rep-ingest
mkdir -p "$OUT"
CAP=$OUT/syns-$SYNS.pcap; LOG=$OUT/maillog-$LINES
[ -s "$CAP" ] || python3 contrib/bench/gen_syns.py "$CAP" "$SYNS"
[ -s "$LOG" ] || python3 tests/data/mlog/gen_maillog.py "$LINES" > "$LOG"
touch -d "$(tail -n 1 "$LOG" | cut -c1-15) $(date +%Y)" "$LOG" 2>/dev/null || true

# run NAME CMD...: prints "NAME wall_s cpu_s maxrss_kb" (resource usage of the child alone).
run() {
	local name=$1; shift
	python3 - "$name" "$@" <<'PY'
import os, subprocess, sys, time
# Output goes to a pipe, not /dev/null: GNU grep stops at the first match when it sees /dev/null.
t = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
for _ in iter(lambda: p.stdout.read(1 << 16), b''):
    pass
_, status, ru = os.wait4(p.pid, 0)
wall = time.monotonic() - t
if status:
    sys.exit(f"{sys.argv[1]} failed (status {status})")
print(f"{sys.argv[1]} {wall:.2f} {ru.ru_utime + ru.ru_stime:.2f} {ru.ru_maxrss}")
PY
}
CSV=$OUT/rounds.csv
echo "round,program,wall_s,cpu_s,maxrss_kb" > "$CSV"
for r in $(seq 1 "$ROUNDS"); do
	rm -rf "$OUT/db"
	for line in \
		"$(run tcpdump tcpdump -r "$CAP" -w /dev/null)" \
		"$(run ingest-capture build/v6rep-ingest --db "$OUT/db" --sensor "$CAP" --p0f-fp tests/data/p0f/p0f.fp)" \
		"$(run grep grep -c 'blocked using' "$LOG")" \
		"$(rm -rf "$OUT/db"; run ingest-maillog build/v6rep-ingest --db "$OUT/db" --rejects "$LOG" --log-timezone UTC)"; do
		echo "$r,${line// /,}" >> "$CSV"
		echo "round $r: $line"
	done
	rm -rf "$OUT/db"
done
python3 - "$CSV" "$SYNS" "$LINES" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault(r['program'], []).append(r)
def med(p, k): return statistics.median(float(r[k]) for r in by[p])
def ratio(a, b):  # median over rounds of the per-round speed ratio a/b (time b / time a)
    return statistics.median(float(y['wall_s']) / float(x['wall_s']) for x, y in zip(by[a], by[b]))
print(f"\n| input | program | median wall s | median CPU s | max RSS MB |")
print("|---|---|---|---|---|")
for inp, progs in ((f"{int(sys.argv[2]):,} SYNs", ('tcpdump', 'ingest-capture')),
                   (f"{int(sys.argv[3]):,} log lines", ('grep', 'ingest-maillog'))):
    for p in progs:
        print(f"| {inp} | {p} | {med(p, 'wall_s'):.2f} | {med(p, 'cpu_s'):.2f} | {max(int(r['maxrss_kb']) for r in by[p]) / 1024:.0f} |")
print(f"\ningest speed / tcpdump speed (median of per-round ratios): {ratio('ingest-capture', 'tcpdump'):.2f}")
print(f"ingest speed / grep -c speed (median of per-round ratios): {ratio('ingest-maillog', 'grep'):.2f}")
PY
