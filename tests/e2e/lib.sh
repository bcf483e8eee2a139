# lib.sh: shared helpers for the end-to-end tests; sourced by tests/e2e/t_*.sh with BUILD_DIR as $1.
#
# Offers: a temp dir ($T) and a trap that always stops what we started and removes it; free port
# picking; start_v6repd / stop_v6repd (exit status and sanitizer reports checked); dig wrappers
# (dq) and assertions on the last answer that print what was expected and what came back;
# finish, which prints the tally and sets the exit status. Only 127.0.0.1 and ::1 are used, and
# every wait is bounded in count and time.

set -u

E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_NAME=$(basename "$0" .sh)
if [ $# -lt 1 ] || [ ! -d "$1" ]; then
	echo "usage: $0 BUILD_DIR (a directory holding v6repd and v6rep)" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd)
V6REPD=$BUILD/v6repd
V6REP=$BUILD/v6rep
ZONE=v6bl.test
if [ -x /usr/bin/python3 ]; then PY=/usr/bin/python3; else PY=python3; fi
DNSRAW=("$PY" "$E2E_DIR/dnsraw.py")

# Sanitizer runtime settings for build-san: leak checks on, ASan errors exit with ASan's status
# (not SIGABRT), UBSan prints the stack; scan_log looks for their reports in the daemon logs.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

T=$(mktemp -d "${TMPDIR:-/tmp}/v6rep-e2e-$E2E_NAME.XXXXXX")
N_OK=0
N_FAIL=0
BG_PIDS=()          # every background process we started (daemons, helpers)
DAEMON_LOGS=()      # v6repd logs to scan for sanitizer reports
D_PID=""            # the running v6repd
D_LOG=""
PORT=""

# ---- tally ----

ok() {
	N_OK=$((N_OK + 1))
	echo "ok - $*"
}

fail() {
	N_FAIL=$((N_FAIL + 1))
	echo "FAIL - $*"
	return 1
}

note() {
	echo "# $*"
}

# expect_eq WHAT EXPECTED GOT
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1: $3"; else fail "$1: expected '$2', got '$3'"; fi
}

# short TEXT: TEXT on one line, cut to 200 characters (for messages).
short() {
	local s=${1//$'\n'/ \\n }
	[ "${#s}" -gt 200 ] && s="${s:0:200}..."
	printf '%s' "$s"
}

# expect_match WHAT EXTENDED_REGEX GOT
expect_match() {
	if [[ $3 =~ $2 ]]; then ok "$1: $(short "$3")"; else fail "$1: expected to match /$2/, got '$(short "$3")'"; fi
}

finish() {
	local log
	for log in "${DAEMON_LOGS[@]}"; do scan_log "$log"; done
	echo "# $E2E_NAME: $N_OK ok, $N_FAIL failed"
	[ "$N_FAIL" -eq 0 ]
	exit $?
}

# ---- processes ----

# alive PID: running and not a zombie.
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(sed 's/^.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}

bg_add() {
	BG_PIDS+=("$1")
}

# kill_bg PID: TERM, bounded wait, then KILL. Used for helpers and in cleanup.
kill_bg() {
	local pid=$1 i
	alive "$pid" || { wait "$pid" 2>/dev/null; return 0; }
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 50); do
		alive "$pid" || break
		sleep 0.1
	done
	if alive "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		sleep 0.1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# scan_log LOG: fails the test when a sanitizer or crash report is in the log.
SCANNED_BAD=" "      # logs already reported by scan_log
scan_log() {
	local log=$1 hits
	[ -f "$log" ] || return 0
	[[ $SCANNED_BAD == *" $log "* ]] && return 1
	hits=$(grep -E "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|AddressSanitizer:DEADLYSIGNAL|Segmentation fault|stack-overflow|SUMMARY: (Address|Undefined|Leak)Sanitizer" "$log" | head -n 5)
	if [ -n "$hits" ]; then
		SCANNED_BAD+="$log "
		fail "sanitizer/crash report in $(basename "$log"):"
		printf '#   %s\n' "$hits"
		return 1
	fi
	return 0
}

cleanup() {
	local rc=$? pid log
	for pid in "${BG_PIDS[@]}"; do
		kill_bg "$pid"
	done
	for log in "${DAEMON_LOGS[@]}"; do
		if ! scan_log "$log"; then rc=1; fi
	done
	if [ "$rc" -ne 0 ] && [ "${#DAEMON_LOGS[@]}" -gt 0 ]; then
		for log in "${DAEMON_LOGS[@]}"; do
			echo "# ---- last lines of $(basename "$log") ----"
			tail -n 15 "$log" 2>/dev/null | sed 's/^/#   /'
		done
	fi
	if [ -n "${KEEP_TMP:-}" ]; then
		echo "# temp dir kept: $T"
	else
		rm -rf "$T"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "# interrupted"; exit 130' INT TERM

# ---- ports ----

# port_free P: P is bindable for UDP and TCP on 127.0.0.1 and ::1.
port_free() {
	"$PY" - "$1" <<'EOF' 2>/dev/null
import socket, sys
p = int(sys.argv[1])
socks = []
try:
    for fam, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
        for typ in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
            s = socket.socket(fam, typ)
            socks.append(s)
            s.bind((host, p))
except OSError:
    sys.exit(1)
EOF
}

# pick_port: prints a free high port (bounded number of tries).
pick_port() {
	local i p
	for i in $(seq 1 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if port_free "$p"; then
			echo "$p"
			return 0
		fi
	done
	echo "no free port found after 50 tries" >&2
	return 1
}

# ---- the tool ----

# v6r ARGS...: runs `v6rep --db $DB ARGS`; output in V6R_OUT; returns its status.
v6r() {
	V6R_OUT=$("$V6REP" --db "$DB" "$@" 2>&1)
}

# v6r_must WHAT ARGS...: v6r, recorded as one check.
v6r_must() {
	local what=$1
	shift
	if v6r "$@"; then
		ok "$what (v6rep $*)"
	else
		fail "$what: v6rep $* exited non-zero: $V6R_OUT"
		return 1
	fi
}

# tool_serial: prints `v6rep serial` (the number only).
tool_serial() {
	"$V6REP" --db "$DB" serial 2>/dev/null | grep -oE '[0-9]+' | head -n 1
}

# ---- the daemon ----

# start_v6repd [ARGS...]: starts v6repd on $DB, zone $ZONE, 127.0.0.1:$PORT and [::1]:$PORT
# (PORT picked when empty) with ARGS appended, and waits (<= 10 s) until it answers a SOA query
# on both addresses. Sets D_PID and D_LOG. Returns non-zero (with a failed check) otherwise.
start_v6repd() {
	local try
	for try in 1 2 3; do
		[ -n "$PORT" ] || PORT=$(pick_port) || return 1
		D_LOG=$T/v6repd.$PORT.$try.log
		DAEMON_LOGS+=("$D_LOG")
		"$V6REPD" --db "$DB" --zone "$ZONE" --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" \
			"$@" >"$D_LOG" 2>&1 &
		D_PID=$!
		bg_add "$D_PID"
		if wait_ready; then
			ok "v6repd started (pid $D_PID, port $PORT)"
			return 0
		fi
		if alive "$D_PID"; then
			break
		fi
		wait "$D_PID" 2>/dev/null
		if grep -qiE "in use|EADDRINUSE" "$D_LOG"; then
			note "port $PORT taken meanwhile, trying another"
			PORT=""
			continue
		fi
		break
	done
	fail "v6repd did not start answering SOA on port $PORT within 10 s"
	sed 's/^/#   /' "$D_LOG" | tail -n 20
	return 1
}

# wait_ready: bounded wait (10 s) until both listeners answer SOA with NOERROR.
wait_ready() {
	local end=$((SECONDS + 10)) srv out done_v4="" done_v6=""
	while [ "$SECONDS" -lt "$end" ]; do
		alive "$D_PID" || return 1
		for srv in 127.0.0.1 ::1; do
			out=$(dig @"$srv" -p "$PORT" +time=1 +tries=1 +norecurse "$ZONE" SOA 2>&1)
			if [[ $out == *"status: NOERROR"* ]]; then
				[ "$srv" = ::1 ] && done_v6=1 || done_v4=1
			fi
		done
		if [ -n "$done_v4" ] && [ -n "$done_v6" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# stop_v6repd: SIGTERM, bounded wait (10 s), exit status must be 0; SIGKILL only as a last
# resort, which fails the test. The log is scanned for sanitizer reports.
stop_v6repd() {
	local i st
	[ -n "$D_PID" ] || return 0
	if ! alive "$D_PID"; then
		wait "$D_PID"
		st=$?
		fail "v6repd (pid $D_PID) had already exited (status $st) before SIGTERM"
		D_PID=""
		return 1
	fi
	kill -TERM "$D_PID"
	for i in $(seq 1 100); do
		alive "$D_PID" || break
		sleep 0.1
	done
	if alive "$D_PID"; then
		kill -KILL "$D_PID"
		wait "$D_PID" 2>/dev/null
		fail "v6repd did not exit within 10 s of SIGTERM (killed with SIGKILL)"
		D_PID=""
		return 1
	fi
	wait "$D_PID"
	st=$?
	expect_eq "v6repd exit status after SIGTERM" 0 "$st"
	scan_log "$D_LOG" && ok "no sanitizer or crash report in the v6repd log"
	D_PID=""
	[ "$st" -eq 0 ]
}

# daemon_alive WHAT: the same v6repd pid is still running.
daemon_alive() {
	if [ -n "$D_PID" ] && alive "$D_PID"; then
		ok "$1: v6repd pid $D_PID still running"
	else
		fail "$1: v6repd pid $D_PID is gone"
	fi
}

# ---- queries ----

# dq SERVER udp|tcp NAME TYPE [dig options...]: one dig query; output in R, description in RD,
# and the parsed reply in the R_* variables (parse_r).
dq() {
	local srv=$1 proto=$2 name=$3 type=$4 tcp=()
	shift 4
	[ "$proto" = tcp ] && tcp=(+tcp)
	R=$(dig @"$srv" -p "$PORT" +time=2 +tries=1 +norecurse "${tcp[@]}" "$@" "$name" "$type" 2>&1)
	RD="$name $type @$srv/$proto${*:+ $*}"
	parse_r
}

# dq_batch SERVER udp|tcp NAME TYPE [NAME TYPE ...]: one dig process for many queries (dig
# starts slowly: this is ten times faster than one dig per query). The output of query i is in
# B_OUT[i] (load it with `R=${B_OUT[i]}; parse_r`); B_N is the number of outputs found, which
# must equal the number of queries (a query that got no reply has its error lines as output).
dq_batch() {
	local srv=$1 proto=$2 tcp=() out line chunk="" got=0
	shift 2
	[ "$proto" = tcp ] && tcp=(+tcp)
	# +nocmd: no banner line, which dig cuts at a fixed length and then runs into the next line.
	out=$(dig @"$srv" -p "$PORT" +nocmd +time=2 +tries=1 +norecurse "${tcp[@]}" "$@" 2>&1)
	B_OUT=()
	while IFS= read -r line; do
		case $line in
		*";; Got answer:")
			if [ "$got" = 1 ]; then B_OUT+=("$chunk"); chunk=""; fi
			got=1
			;;
		*"no servers could be reached"*)
			if [ "$got" = 1 ]; then B_OUT+=("$chunk"); chunk=""; fi
			B_OUT+=("$chunk$line")
			chunk="" got=0
			continue
			;;
		esac
		chunk+="$line"$'\n'
	done <<<"$out"
	[ "$got" = 1 ] && B_OUT+=("$chunk")
	B_N=${#B_OUT[@]}
}

# parse_r: parses dig's output in R without forking (this machine forks slowly):
# R_RCODE R_OPCODE R_FLAGS R_EDNS R_QUESTION R_COUNT_{ANSWER,AUTHORITY}, and per record of the
# answer (AN) and authority (NS) sections the arrays R_{AN,NS}_{NAME,TTL,TYPE,DATA}.
parse_r() {
	local line sec="" re='^([^[:space:]]+)[[:space:]]+([0-9]+)[[:space:]]+([A-Z0-9]+)[[:space:]]+([A-Z0-9]+)[[:space:]]*(.*)$'
	R_RCODE="" R_OPCODE="" R_FLAGS="" R_EDNS="" R_QUESTION="" R_COUNT_ANSWER="" R_COUNT_AUTHORITY=""
	R_AN_NAME=() R_AN_TTL=() R_AN_TYPE=() R_AN_DATA=()
	R_NS_NAME=() R_NS_TTL=() R_NS_TYPE=() R_NS_DATA=()
	while IFS= read -r line; do
		case $line in
		";; ->>HEADER<<- opcode: "*)
			[ -n "$R_RCODE" ] && continue
			line=${line#*opcode: }
			R_OPCODE=${line%%,*}
			line=${line#*status: }
			R_RCODE=${line%%,*}
			;;
		";; flags:"*)
			[ -n "$R_FLAGS" ] && continue
			line=${line#;; flags:}
			R_FLAGS=" ${line%%;*} "
			R_FLAGS=${R_FLAGS//  / }
			[[ $line =~ ANSWER:\ ([0-9]+) ]] && R_COUNT_ANSWER=${BASH_REMATCH[1]}
			[[ $line =~ AUTHORITY:\ ([0-9]+) ]] && R_COUNT_AUTHORITY=${BASH_REMATCH[1]}
			;;
		"; EDNS:"*) [ -z "$R_EDNS" ] && R_EDNS=$line ;;
		";; QUESTION SECTION:") sec=QD ;;
		";; ANSWER SECTION:") sec=AN ;;
		";; AUTHORITY SECTION:") sec=NS ;;
		";; ADDITIONAL SECTION:") sec=AR ;;
		"") sec="" ;;
		";"*)
			if [ "$sec" = QD ] && [ -z "$R_QUESTION" ]; then
				[[ $line =~ ^(\;[^[:space:]]+)[[:space:]]+([A-Z]+)[[:space:]]+([A-Z0-9]+) ]] &&
					R_QUESTION="${BASH_REMATCH[1]} ${BASH_REMATCH[2]} ${BASH_REMATCH[3]}"
			fi
			;;
		*)
			[[ $sec == AN || $sec == NS ]] || continue
			[[ $line =~ $re ]] || continue
			if [ "$sec" = AN ]; then
				R_AN_NAME+=("${BASH_REMATCH[1]}") R_AN_TTL+=("${BASH_REMATCH[2]}")
				R_AN_TYPE+=("${BASH_REMATCH[4]}") R_AN_DATA+=("${BASH_REMATCH[5]}")
			else
				R_NS_NAME+=("${BASH_REMATCH[1]}") R_NS_TTL+=("${BASH_REMATCH[2]}")
				R_NS_TYPE+=("${BASH_REMATCH[4]}") R_NS_DATA+=("${BASH_REMATCH[5]}")
			fi
			;;
		esac
	done <<<"$R"
}

# r_rr AN|NS TYPE: rdata of the records of TYPE in the answer/authority section, one per line.
r_rr() {
	local -n _ty=R_$1_TYPE _da=R_$1_DATA
	local i
	for i in "${!_ty[@]}"; do
		[ "${_ty[$i]}" = "$2" ] && printf '%s\n' "${_da[$i]}"
	done
	return 0
}
# r_ttl AN|NS TYPE: TTL of the first record of TYPE.
r_ttl() {
	local -n _ty=R_$1_TYPE _tt=R_$1_TTL
	local i
	for i in "${!_ty[@]}"; do
		[ "${_ty[$i]}" = "$2" ] && { printf '%s\n' "${_tt[$i]}"; return 0; }
	done
	return 0
}
# r_join AN|NS TYPE: rdata of TYPE joined by one blank (in R_JOIN, no fork).
r_join() {
	local -n _ty=R_$1_TYPE _da=R_$1_DATA
	local i
	R_JOIN=""
	for i in "${!_ty[@]}"; do
		[ "${_ty[$i]}" = "$2" ] && R_JOIN+="${R_JOIN:+ }${_da[$i]}"
	done
	return 0
}
# r_txt_join: TXT rdata of the answer with adjacent character-strings joined ("a" "b" -> ab),
# records separated by " | " (in R_JOIN).
r_txt_join() {
	local i d
	R_JOIN=""
	for i in "${!R_AN_TYPE[@]}"; do
		[ "${R_AN_TYPE[$i]}" = TXT ] || continue
		d=${R_AN_DATA[$i]//\" \"/}
		d=${d#\"}
		d=${d%\"}
		R_JOIN+="${R_JOIN:+ | }$d"
	done
	return 0
}
r_txt() { r_txt_join; printf '%s\n' "$R_JOIN"; }

# reply_ok: dig got a DNS reply at all (else one failed check naming the transport error).
reply_ok() {
	if [ -z "$R_RCODE" ]; then
		local l first=""
		while IFS= read -r l; do
			[[ $l == ";;"* && $l != ";; global options"* ]] && { first=$l; break; }
		done <<<"$R"
		fail "$RD: no DNS reply (${first:-${R:0:120}})"
		return 1
	fi
	return 0
}

expect_rcode() {
	reply_ok || return 1
	if [ "$R_RCODE" = "$1" ]; then ok "$RD: rcode $R_RCODE"; else fail "$RD: rcode expected $1, got $R_RCODE"; fi
}

expect_flag() {
	reply_ok || return 1
	if [[ $R_FLAGS == *" $1 "* ]]; then ok "$RD: flag $1 set"; else fail "$RD: flag $1 expected set, flags were [$R_FLAGS]"; fi
}

expect_noflag() {
	reply_ok || return 1
	if [[ $R_FLAGS != *" $1 "* ]]; then ok "$RD: flag $1 unset"; else fail "$RD: flag $1 expected unset, flags were [$R_FLAGS]"; fi
}

# expect_a VALUE: exactly one A record in the answer, equal to VALUE.
expect_a() {
	reply_ok || return 1
	r_join AN A
	if [ "$R_JOIN" = "$1" ]; then ok "$RD: A $R_JOIN"; else fail "$RD: A expected '$1', got '$R_JOIN'"; fi
}

# expect_txt_contains TEXT: a TXT record in the answer contains TEXT (strings joined).
expect_txt_contains() {
	reply_ok || return 1
	r_txt_join
	if [[ -n $R_JOIN && $R_JOIN == *"$1"* ]]; then
		ok "$RD: TXT contains '$(short "$1")'"
	else
		fail "$RD: TXT expected to contain '$1', got '${R_JOIN:0:300}'"
	fi
}

# expect_txt TEXT: exactly one TXT record in the answer, equal to TEXT (strings joined).
expect_txt() {
	reply_ok || return 1
	r_txt_join
	if [ "$R_JOIN" = "$1" ]; then
		ok "$RD: TXT '$(short "$1")'"
	else
		fail "$RD: TXT expected '$(short "$1")', got '$(short "$R_JOIN")'"
	fi
}

# expect_answers N: ANSWER count in the header.
expect_answers() {
	reply_ok || return 1
	expect_eq "$RD: answer count" "$1" "$R_COUNT_ANSWER"
}

# expect_soa_auth [TTL]: exactly one SOA, owned by the apex, in the authority section (with TTL).
expect_soa_auth() {
	reply_ok || return 1
	local i owners="" ttl=""
	for i in "${!R_NS_TYPE[@]}"; do
		if [ "${R_NS_TYPE[$i]}" = SOA ]; then
			owners+="${owners:+ }${R_NS_NAME[$i],,}"
			ttl=${R_NS_TTL[$i]}
		fi
	done
	if [ "$owners" != "$ZONE." ]; then
		fail "$RD: authority expected one SOA owned by $ZONE., got '${owners}'"
		return 1
	fi
	if [ $# -ge 1 ]; then
		if [ "$ttl" = "$1" ]; then ok "$RD: SOA in authority, TTL $ttl"; else fail "$RD: SOA TTL in authority expected $1, got $ttl"; fi
	else
		ok "$RD: SOA in authority"
	fi
}

# rev ADDR [NIBBLES]: reversed nibble name (RFC 5782) of an IPv6 address written in hex groups
# (no dotted IPv4 tail), lower case, without the zone. Pure bash: no fork.
rev() {
	local a=${1,,} n=${2:-32} head tail g hex="" out="" i
	local -a hs=() ts=() groups=()
	if [[ $a == *::* ]]; then head=${a%%::*} tail=${a#*::}; else head=$a tail=""; fi
	[ -n "$head" ] && IFS=: read -ra hs <<<"$head"
	[ -n "$tail" ] && IFS=: read -ra ts <<<"$tail"
	groups=("${hs[@]}")
	for ((i = ${#hs[@]} + ${#ts[@]}; i < 8; i++)); do groups+=(0); done
	groups+=("${ts[@]}")
	for g in "${groups[@]}"; do printf -v g '%04x' "0x$g"; hex+=$g; done
	for ((i = 0; i < n; i++)); do out="${hex:i:1}${out:+.}$out"; done
	printf '%s\n' "$out"
}

# n6 ADDR [NIBBLES]: the query name in the zone.
n6() { printf '%s.%s\n' "$(rev "$@")" "$ZONE"; }

# Every transport the core checks run over.
TRANSPORTS=("127.0.0.1 udp" "127.0.0.1 tcp" "::1 udp" "::1 tcp")

# need_bins: the binaries exist (else the script fails at once).
need_bins() {
	local b
	for b in "$V6REPD" "$V6REP" "$@"; do
		if [ ! -x "$b" ]; then
			fail "missing executable $b (build first)"
			finish
		fi
	done
}
