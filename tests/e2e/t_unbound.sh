#!/usr/bin/env bash
# t_unbound.sh: v6repd behind a real Unbound doing QNAME minimisation (RFC 9156) with RFC 8020
# hardening: the final answers must be right even after Unbound has seen the partial names of
# unlisted neighbours first (a wrong NXDOMAIN on an empty non-terminal would hide listings).
# Runs the sequence twice: with qname-minimisation-strict no (the usual setting) and yes (where a
# wrong NXDOMAIN on any partial name becomes the final answer). Usage: bash t_unbound.sh BUILD_DIR

. "$(dirname "$0")/lib.sh" "$@"
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
need_bins "$UNBOUND"

DB=$T/db
cat >"$T/listings.txt" <<'EOF'
2001:db8:aaaa::/48 127.0.0.2 net aaaa
2001:db8:aaaa:1::/64 127.0.0.3 subnet aaaa:1
2001:db8:aaaa:1::5 127.0.0.4 host
!2001:db8:aaaa:1::9
!2001:db8:aaaa:2::/64
2001:db8:aaaa:2::7 127.0.0.5 inside the exclusion
2001:db8:bbbb:8000::/49 127.0.0.7 upper half
2001:db8:cccc:1::42 127.0.0.8 lone host
2001:db8:ffff:1:2:3:4:5 127.0.0.9 deep lone host
192.0.2.0/24 127.0.0.6 ipv4 net
EOF
if ! v6r_must "import listings" import "$T/listings.txt"; then finish; fi
start_v6repd || finish

# The order matters: each unlisted neighbour comes first, so its partial names (the nodes it
# shares with the listing) are queried, answered and cached before the listed address.
SEQ=(
	"2001:db8:cccc:1::41 NXDOMAIN"
	"2001:db8:cccc:1::42 127.0.0.8"
	"2001:db8:cccc:2::42 NXDOMAIN"
	"2001:db8:cccc:1::42 127.0.0.8"
	"2001:db8:ffff:1:2:3:4:6 NXDOMAIN"
	"2001:db8:ffff:1:2:3:4:5 127.0.0.9"
	"2001:db8:ffff:1:2:3:5:5 NXDOMAIN"
	"2001:db8:ffff:1:2:3:4:5 127.0.0.9"
	"2001:db8:aaab::1 NXDOMAIN"
	"2001:db8:aaaa::1 127.0.0.2"
	"2001:db8:aaaa:1::9 NXDOMAIN"
	"2001:db8:aaaa:1::5 127.0.0.4"
	"2001:db8:aaaa:1::6 127.0.0.3"
	"2001:db8:aaaa:2::8 NXDOMAIN"
	"2001:db8:aaaa:2::7 127.0.0.5"
	"2001:db8:aaaa:3::1 127.0.0.2"
	"2001:db8:bbbb:7fff::1 NXDOMAIN"
	"2001:db8:bbbb:8000::1 127.0.0.7"
	"2001:db8:bbbb:7fff::1 NXDOMAIN"
	"192.0.2.1 127.0.0.6"
	"192.0.3.1 NXDOMAIN"
	"127.0.0.2 127.0.0.2"
	"127.0.0.1 NXDOMAIN"
)

# qname ADDR: the query name (d.c.b.a for IPv4, nibbles otherwise).
qname() {
	if [[ $1 == *.*.*.* && $1 != *:* ]]; then
		echo "$(awk -F. '{print $4"."$3"."$2"."$1}' <<<"$1").$ZONE"
	else
		n6 "$1"
	fi
}

# start_unbound STRICT: own config in $UDIR, free port UPORT; waits (<= 10 s) until it answers.
start_unbound() {
	UDIR=$T/unbound-$1
	mkdir -p "$UDIR"
	UPORT=$(pick_port) || return 1
	cat >"$UDIR/unbound.conf" <<EOF
server:
	interface: 127.0.0.1
	port: $UPORT
	do-ip4: yes
	do-ip6: no
	do-daemonize: no
	chroot: ""
	username: ""
	directory: "$UDIR"
	pidfile: "$UDIR/unbound.pid"
	use-syslog: no
	logfile: "$UDIR/unbound.log"
	verbosity: 3
	log-queries: yes
	log-replies: yes
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	qname-minimisation: yes
	qname-minimisation-strict: $1
	aggressive-nsec: yes
	harden-below-nxdomain: yes
	do-not-query-localhost: no
	prefetch: no
	# "test." is one of Unbound's default blocked local zones (RFC 6761).
	local-zone: "test." nodefault
stub-zone:
	name: "$ZONE"
	stub-addr: 127.0.0.1@$PORT
# Keep any stray query (root priming) on this machine.
stub-zone:
	name: "."
	stub-addr: 127.0.0.1@$PORT
remote-control:
	control-enable: no
EOF
	if ! out=$(unbound-checkconf "$UDIR/unbound.conf" 2>&1); then
		fail "unbound-checkconf: $out"
		return 1
	fi
	"$UNBOUND" -d -c "$UDIR/unbound.conf" >"$UDIR/stderr.log" 2>&1 &
	U_PID=$!
	bg_add "$U_PID"
	local end=$((SECONDS + 10)) out
	while [ "$SECONDS" -lt "$end" ]; do
		alive "$U_PID" || break
		out=$(dig @127.0.0.1 -p "$UPORT" +time=1 +tries=1 "$ZONE" SOA 2>&1)
		if [[ $out == *"status: NOERROR"* ]]; then
			ok "unbound (strict $1) started on port $UPORT, pid $U_PID"
			return 0
		fi
		sleep 0.2
	done
	fail "unbound (strict $1) did not answer SOA $ZONE within 10 s"
	tail -n 20 "$UDIR/stderr.log" "$UDIR/unbound.log" 2>/dev/null | sed 's/^/#   /'
	return 1
}

stop_unbound() {
	local st
	kill -TERM "$U_PID"
	for i in $(seq 1 100); do alive "$U_PID" || break; sleep 0.1; done
	if alive "$U_PID"; then
		kill -KILL "$U_PID"
		wait "$U_PID" 2>/dev/null
		fail "unbound did not stop within 10 s of SIGTERM"
		return 1
	fi
	wait "$U_PID"
	st=$?
	expect_eq "unbound exit status" 0 "$st"
}

# run_sequence STRICT: every query through Unbound, in order, with its expected final answer.
run_sequence() {
	local item addr want name
	for item in "${SEQ[@]}"; do
		read -r addr want <<<"$item"
		name=$(qname "$addr")
		R=$(dig @127.0.0.1 -p "$UPORT" +time=4 +tries=1 +rec "$name" A 2>&1)
		parse_r
		RD="via unbound (strict $1): $addr ($name)"
		if [ "$want" = NXDOMAIN ]; then
			expect_rcode NXDOMAIN
		else
			expect_rcode NOERROR && expect_a "$want"
		fi
	done
}

# check_minimised STRICT: Unbound's log shows minimised (partial) names sent to v6repd.
check_minimised() {
	local log=$UDIR/unbound.log partial full
	partial=$(grep -E 'sending query: ' "$log" | grep -oiE '([0-9a-f]\.)+v6bl\.test\.' |
		awk -F. '{n = NF - 3; if (n < 32) print n}' | sort -un | tr '\n' ' ')
	full=$(grep -E 'sending query: ' "$log" | grep -oiE '([0-9a-f]\.)+v6bl\.test\.' |
		awk -F. '{if (NF - 3 == 32) c++} END {print c + 0}')
	expect_match "unbound (strict $1) sent partial nibble names to v6repd (label counts: ${partial:-none})" \
		'^([0-9]+ ){3,}' "$partial"
	expect_match "unbound (strict $1) sent full 32-nibble names to v6repd ($full)" '^[1-9]' "$full"
	note "examples: $(grep -E 'sending query: ' "$log" | grep -m3 -oE '[^ ]+v6bl\.test\. [A-Z]+' | tr '\n' ';')"
}

for strict in no yes; do
	note "---- unbound with qname-minimisation-strict: $strict ----"
	start_unbound "$strict" || continue
	run_sequence "$strict"
	# The same sequence again, now answered partly from Unbound's cache.
	run_sequence "$strict"
	check_minimised "$strict"
	stop_unbound
	daemon_alive "after unbound (strict $strict)"
done

stop_v6repd
finish
