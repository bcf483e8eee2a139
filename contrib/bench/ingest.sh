#!/usr/bin/env bash
# ingest.sh [--small] [--rounds N] [--sim SEED] [--out DIR]: v6rep-ingest read speed, side by side
# in one run, in interleaved rounds (wall and CPU time, max RSS of each):
#   a capture of 10 million SYNs: v6rep-ingest --sensor FILE  vs  tcpdump -r FILE -w /dev/null
#   a 30-million-line maillog:     v6rep-ingest --rejects FILE vs  grep -c 'blocked using' FILE
# Two kinds of input:
#   generated (always): gen_syns.py, every SYN from a random one of 100k sources on a random port
#     (no retries, no locality: each SYN is a new attempt, the hardest case for the caches), and
#     tests/data/mlog/gen_maillog.py's Postfix log;
#   simulated (--sim SEED): contrib/sim/v6sim.py --scale large, the seed's traffic (about 10M SYNs,
#     11M log lines over 30 days: retries, pools, NAT, floods), the same files ingest is scored on.
# Target: ingest at no less than half the peers' speed, with memory bounded by the time windows,
# not the input size. --small: 1M SYNs / 3M lines of the generated kind.
set -euo pipefail
cd "$(dirname "$0")/../.."
SYNS=10000000; LINES=30000000; ROUNDS=3; OUT=contrib/bench/out/ingest; SIM=
while [ $# -gt 0 ]; do
	case $1 in
	--small) SYNS=1000000; LINES=3000000 ;;
	--rounds) ROUNDS=$2; shift ;;
	--sim) SIM=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: $0 [--small] [--rounds N] [--sim SEED] [--out DIR]" >&2; exit 1 ;;
	esac
	shift
done
command -v tcpdump >/dev/null || { echo "ingest.sh: installing tcpdump"; apt-get install -y -qq tcpdump >/dev/null; }
make -s build/v6rep-ingest
mkdir -p "$OUT"
CAP=$OUT/syns-$SYNS.pcap; LOG=$OUT/maillog-$LINES
[ -s "$CAP" ] || python3 contrib/bench/gen_syns.py "$CAP" "$SYNS"
[ -s "$LOG" ] || python3 tests/data/mlog/gen_maillog.py "$LINES" > "$LOG"
# RFC 3164 stamps have no year: it comes from the file time, so the log ends at its last line.
touch -d "$(tail -n 1 "$LOG" | cut -c1-15) $(date +%Y)" "$LOG" 2>/dev/null || true
SETS="gen:$CAP:$LOG"
if [ -n "$SIM" ]; then
	SD=$OUT/sim-large-$SIM
	if [ ! -s "$SD/truth.jsonl" ]; then
		echo "ingest.sh: simulating seed $SIM at large scale (a few minutes)"
		python3 contrib/sim/v6sim.py --seed "$SIM" --scale large --out "$SD" > /dev/null
	fi
	touch -d "$(sed -n 's/.*\.\. \([0-9T:-]*Z\).*/\1/p' "$SD/summary.txt" | head -1)" "$SD/maillog"
	SETS="$SETS sim:$SD/sensor.pcap:$SD/maillog"
fi

# run NAME CMD...: prints "NAME wall_s cpu_s maxrss_kb maxanon_kb" (resource usage of the child
# alone). maxrss counts the store's file pages that LMDB maps (they grow with the store, not with
# ingest's state); maxanon, sampled from /proc every 20 ms, is the process's own memory.
run() {
	local name=$1; shift
	python3 - "$name" "$@" <<'PY'
import os, subprocess, sys, threading, time
# Output goes to a pipe, not /dev/null: GNU grep stops at the first match when it sees /dev/null.
t = time.monotonic()
p = subprocess.Popen(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
anon = [0]
def sample():
    while p.returncode is None:
        try:
            for line in open(f"/proc/{p.pid}/status"):
                if line.startswith("RssAnon:"):
                    anon[0] = max(anon[0], int(line.split()[1]))
        except OSError:
            return
        time.sleep(0.02)
threading.Thread(target=sample, daemon=True).start()
for _ in iter(lambda: p.stdout.read(1 << 16), b''):
    pass
_, status, ru = os.wait4(p.pid, 0)
p.returncode = status
wall = time.monotonic() - t
if status:
    sys.exit(f"{sys.argv[1]} failed (status {status})")
print(f"{sys.argv[1]} {wall:.2f} {ru.ru_utime + ru.ru_stime:.2f} {ru.ru_maxrss} {anon[0]}")
PY
}
CSV=$OUT/rounds.csv
echo "round,set,program,wall_s,cpu_s,maxrss_kb,maxanon_kb" > "$CSV"
for r in $(seq 1 "$ROUNDS"); do
	for set in $SETS; do
		IFS=: read -r name cap log <<< "$set"
		for line in \
			"$(run tcpdump tcpdump -r "$cap" -w /dev/null)" \
			"$(rm -rf "$OUT/db"; run ingest-capture build/v6rep-ingest --db "$OUT/db" --sensor "$cap" --p0f-fp tests/data/p0f/p0f.fp)" \
			"$(run grep grep -c 'blocked using' "$log")" \
			"$(rm -rf "$OUT/db"; run ingest-maillog build/v6rep-ingest --db "$OUT/db" --rejects "$log" --log-timezone UTC)"; do
			echo "$r,$name,${line// /,}" >> "$CSV"
			echo "round $r $name: $line"
		done
		rm -rf "$OUT/db"
	done
done
python3 - "$CSV" "$CAP" "$LOG" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
by = {}
for r in rows:
    by.setdefault((r['set'], r['program']), []).append(r)
def med(k, col): return statistics.median(float(r[col]) for r in by[k])
def ratio(s, a, b):  # median over rounds of the per-round speed ratio a/b (time b / time a)
    return statistics.median(float(y['wall_s']) / float(x['wall_s']) for x, y in zip(by[(s, a)], by[(s, b)]))
sets = sorted({r['set'] for r in rows}, key=lambda s: s != 'gen')
print("\n| input | program | median wall s | median CPU s | max RSS MB | max anonymous MB |")
print("|---|---|---|---|---|---|")
for s in sets:
    for inp, progs in (("capture", ('tcpdump', 'ingest-capture')), ("maillog", ('grep', 'ingest-maillog'))):
        for p in progs:
            print(f"| {s} {inp} | {p} | {med((s, p), 'wall_s'):.2f} | {med((s, p), 'cpu_s'):.2f} | "
                  f"{max(int(r['maxrss_kb']) for r in by[(s, p)]) / 1024:.0f} | "
                  f"{max(int(r['maxanon_kb']) for r in by[(s, p)]) / 1024:.0f} |")
print()
for s in sets:
    print(f"{s}: ingest speed / tcpdump speed {ratio(s, 'ingest-capture', 'tcpdump'):.2f}, "
          f"ingest speed / grep -c speed {ratio(s, 'ingest-maillog', 'grep'):.2f} (median of per-round ratios)")
PY
