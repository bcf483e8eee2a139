#!/usr/bin/env bash
# t_ingest.sh: v6rep-ingest end to end: real samples, idempotent re-runs, simulated traffic scored against
# its ground truth, and --follow through log rotation (rename and copytruncate) and kill -9 + restart,
# compared with a one-shot run on the same inputs (nothing lost, nothing counted twice).
set -u
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
INGEST=$BUILD/v6rep-ingest
TOOL=$BUILD/v6rep
SIM=$ROOT/contrib/sim/v6sim.py
SCORE=$ROOT/contrib/sim/score.py
W=$T

# check WHAT COMMAND...: ok when the command succeeds; its output is shown when it does not.
check() {
	local what=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$what"; else fail "$what"; printf '%s\n' "$out" | head -n 20 | sed 's/^/#   /'; fi
}
DAEMON_LOGS+=("$W/samples.err" "$W/ref.err" "$W/follow.err")
COMMON=(--log-timezone UTC --expire-after 3650d --allowlist "$ROOT/contrib/allowlist.txt" --p0f-fp "$ROOT/tests/data/p0f/p0f.fp")

# ---- 1. the real samples (Postfix smtpd and postscreen logs, a tcpdump capture) ----
"$INGEST" --db "$W/samples" --sensor "$ROOT/tests/data/pcap/smtp-traffic.pcap" \
	--rejects "$ROOT/tests/data/mlog/postfix-smtpd.log" --rejects "$ROOT/tests/data/mlog/postfix-postscreen.log" \
	--report "${COMMON[@]}" > "$W/samples.report" 2> "$W/samples.err"
check "ingest reads the samples" test $? -eq 0
check "10 SYNs counted" grep -q '^SYNs 10,' "$W/samples.report"
check "12 DNSBL rejections (all IPv6) counted" grep -q 'DNSBL rejections 12 (IPv6 12)' "$W/samples.report"
check "no bad lines or input errors" grep -q 'bad input lines 0, input errors 0' "$W/samples.report"
s1=$("$TOOL" --db "$W/samples" serial)
"$INGEST" --db "$W/samples" --sensor "$ROOT/tests/data/pcap/smtp-traffic.pcap" \
	--rejects "$ROOT/tests/data/mlog/postfix-smtpd.log" "${COMMON[@]}" 2> "$W/samples2.err"
check "second run reads nothing new" grep -q ' 0 SYNs, 0 rejections' "$W/samples2.err"
expect_eq "second run leaves the serial alone" "$s1" "$("$TOOL" --db "$W/samples" serial)"

# ---- 2. simulated traffic, scored against the simulator's ground truth ----
check "the simulator's own tests pass" timeout 300 python3 "$ROOT/contrib/sim/test_sim.py"
python3 "$SIM" --seed 11 --scale small --out "$W/sim" > /dev/null
check "simulator wrote its outputs" test -s "$W/sim/sensor.pcap" -a -s "$W/sim/maillog"
end=$(sed -n 's/.*\.\. \([0-9T:-]*Z\).*/\1/p' "$W/sim/summary.txt" | head -1)
touch -d "$end" "$W/sim/maillog"     # RFC 3164 stamps have no year: it comes from the file time
"$INGEST" --db "$W/ref" --sensor "$W/sim/sensor.pcap" --rejects "$W/sim/maillog" "${COMMON[@]}" 2> "$W/ref.err"
check "one-shot ingest of the simulation" test $? -eq 0
"$TOOL" --db "$W/ref" list --format import > "$W/ref.list"
python3 "$SCORE" --truth "$W/sim/truth.jsonl" "$W/ref.list" > "$W/score.txt" 2>&1
note "$(head -3 "$W/score.txt" | tr '\n' ';')"
# The issue's targets (precision >= 0.98, recall >= 0.90, no legitimate /48), on a seed not tuned for.
check "recall of associable spammers >= 0.90" \
	awk '/^recall/ { exit !($2 >= 0.90) }' "$W/score.txt"
check "precision over listed addresses >= 0.98" \
	awk '/^precision/ { exit !($2 >= 0.98) }' "$W/score.txt"
check "no /48 holding a legitimate sender listed" grep -q '^legit48 0 ' "$W/score.txt"
s1=$("$TOOL" --db "$W/ref" serial)
"$INGEST" --db "$W/ref" --sensor "$W/sim/sensor.pcap" --rejects "$W/sim/maillog" "${COMMON[@]}" 2> /dev/null
expect_eq "re-running on the same inputs changes nothing" "$s1" "$("$TOOL" --db "$W/ref" serial)"
"$INGEST" --db "$W/stale" --sensor "$W/sim/sensor.pcap" --rejects "$W/sim/maillog" --log-timezone UTC \
	2> "$W/stale.err"
check "old evidence lists nothing today (30 d expiry)" test -z "$("$TOOL" --db "$W/stale" list --kind listings)"

# ---- 3. --follow: rotation, kill -9, restart ----
python3 - "$W/sim/sensor.pcap" "$W/parts" <<'EOF'
import os, struct, sys
src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
data = open(src, 'rb').read()
hdr, off, recs = data[:24], 24, []
end = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
while off + 16 <= len(data):
    caplen = struct.unpack(end + 'I', data[off + 8:off + 12])[0]
    recs.append(data[off:off + 16 + caplen])
    off += 16 + caplen
n = len(recs)
for i, (a, b) in enumerate([(0, n // 3), (n // 3, 2 * n // 3), (2 * n // 3, n)]):
    with open(os.path.join(out, 'cap%d.pcap' % i), 'wb') as f:
        f.write(hdr + b''.join(recs[a:b]))
EOF
lines=$(wc -l < "$W/sim/maillog")
split -l $(( (lines + 3) / 4 )) -d "$W/sim/maillog" "$W/parts/log"
mkdir -p "$W/f/cap"
LOG=$W/f/maillog
: > "$LOG"
touch -d "$end" "$LOG"
start_ingest() {
	"$INGEST" --db "$W/fdb" --follow --sensor "$W/f/cap" --rejects "$LOG" --batch-interval 1 \
		"${COMMON[@]}" 2>> "$W/follow.err" &
	FPID=$!
	bg_add "$FPID"
}
feed_log() { cat "$1" >> "$LOG"; touch -d "$end" "$LOG"; }
feed_cap() { cp "$W/parts/$1" "$W/f/cap/.tmp" && mv "$W/f/cap/.tmp" "$W/f/cap/$1"; }
wait_committed() {   # until the store has seen the given log offset: ingest commits every second
	sleep 3
}
start_ingest
feed_log "$W/parts/log00"; feed_cap cap0.pcap
wait_committed
kill -9 "$FPID"; wait "$FPID" 2>/dev/null
check "ingest killed with -9" true
feed_log "$W/parts/log01"                # written while ingest is down
mv "$LOG" "$LOG.1"                       # rename rotation while down: the tail is in maillog.1
: > "$LOG"; touch -d "$end" "$LOG"
start_ingest
feed_cap cap1.pcap
wait_committed
feed_log "$W/parts/log02"
wait_committed
cp "$LOG" "$LOG.2" && : > "$LOG"          # copytruncate, after ingest has read the file
feed_log "$W/parts/log03"; feed_cap cap2.pcap
wait_committed
kill -9 "$FPID"; wait "$FPID" 2>/dev/null
start_ingest                              # restart once more, then stop cleanly
wait_committed
kill -TERM "$FPID"; wait "$FPID"
check "ingest --follow stops cleanly on SIGTERM" test $? -eq 0
# The attempts of the last minute wait for input that may still come; a one-shot run on the same
# store (what an operator does to drain it) continues from the cursors and decides them.
"$INGEST" --db "$W/fdb" --sensor "$W/f/cap" --rejects "$LOG" "${COMMON[@]}" 2>> "$W/follow.err"
check "one-shot run drains what --follow left pending" test $? -eq 0
check "follow mode reported no input errors" bash -c "! grep -q 'error:' '$W/follow.err'"
"$TOOL" --db "$W/fdb" list --format import > "$W/follow.list"
# Every rejection line was counted exactly once across the rotations and kills: the running total
# that commits with the read positions equals the one-shot run's.
expect_eq "the running total of rejection lines is what the one-shot run read" \
	"$(sed -n 's/.* SYNs, \([0-9]*\) rejections.*/\1/p' "$W/ref.err" | head -1)" "$(python3 "$E2E_DIR/rejsum.py" "$W/ref")"
expect_eq "rejection events after rotation, copytruncate and kill -9" \
	"$(python3 "$E2E_DIR/rejsum.py" "$W/ref")" "$(python3 "$E2E_DIR/rejsum.py" "$W/fdb")"
# Nothing counted twice: no listing has more attempts or SYNs in its evidence than one-shot gave.
evidence() {
	while read -r pfx rest; do
		case $pfx in \#*|'') continue;; esac
		printf '%s %s\n' "$pfx" "$("$TOOL" --db "$1" lookup "${pfx%/*}" |
			sed -n 's/.*evidence .*attempts=\([0-9]*\) syns=\([0-9]*\).*/\1 \2/p')"
	done < "$2"
}
evidence "$W/ref" "$W/ref.list" | sort > "$W/ref.ev"
evidence "$W/fdb" "$W/follow.list" | sort > "$W/follow.ev"
check "evidence was read for the listings" test "$(awk 'NF == 3' "$W/follow.ev" | wc -l)" -ge 40
check "no listing counts more attempts or SYNs than one-shot" \
	bash -c "join '$W/ref.ev' '$W/follow.ev' | awk 'NF == 5 && (\$4 > \$2 || \$5 > \$3) { print; bad = 1 } END { exit bad }'"
# Known gap (see the issue note): association state (hosts per /64, NAT ties) is not persisted,
# and live inputs are decided in arrival order, so --follow with restarts lists a little
# differently from one-shot. Reported, not asserted.
note "listings differing from one-shot after --follow: $(diff "$W/ref.list" "$W/follow.list" | grep -c '^>') of $(grep -c '' "$W/ref.list")"
# --follow decides in arrival order and restarts lose the attempts in flight, so its listings can
# differ from one-shot's; how well they score is shown, not asserted (see the issue note).
note "--follow scored: $(python3 "$SCORE" --truth "$W/sim/truth.jsonl" "$W/follow.list" 2>&1 | head -2 | tr '\n' ';')"
finish
