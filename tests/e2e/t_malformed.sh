#!/usr/bin/env bash
# t_malformed.sh: several hundred malformed packets over UDP and TCP (fixed seed); afterwards the
# same v6repd process still answers correctly and its log shows no crash or sanitizer report.
# Usage: bash t_malformed.sh BUILD_DIR

. "$(dirname "$0")/lib.sh" "$@"
need_bins

DB=$T/db
SEED=${E2E_SEED:-20240501}
cat >"$T/listings.txt" <<'EOF'
2001:db8:aaaa::/48 127.0.0.2 bad network
!2001:db8:aaaa:1::/64
192.0.2.0/24 127.0.0.3 ipv4 net
EOF
if ! v6r_must "import listings" import "$T/listings.txt"; then finish; fi
cat >"$T/v6repd.conf" <<'EOF'
tcp-idle-timeout 3
threads 2
EOF
start_v6repd --config "$T/v6repd.conf" || finish
PID0=$D_PID

LISTED=$(n6 2001:db8:aaaa::1)
UNLISTED=$(n6 2001:db8:aaaa:1::1)

sane_answers() { # sane_answers WHAT: the daemon answers all transports correctly
	local what=$1 t
	for t in "${TRANSPORTS[@]}"; do
		set -- $t
		dq "$1" "$2" "$LISTED" A
		expect_rcode NOERROR && expect_a 127.0.0.2
		dq "$1" "$2" "$UNLISTED" A
		expect_rcode NXDOMAIN && expect_soa_auth
		dq "$1" "$2" "1.2.0.192.$ZONE" TXT
		expect_rcode NOERROR && expect_txt_contains "ipv4 net"
	done
	daemon_alive "$what"
}

sane_answers "before the malformed packets"

for srv in 127.0.0.1 ::1; do
	note "malformed packets to $srv (seed $SEED)"
	out=$("${DNSRAW[@]}" malformed "$srv" "$PORT" "$ZONE" "$SEED" 2>&1)
	printf '# %s\n' "$out"
	udp=$(sed -n 's/.*udp_sent=\([0-9]*\).*/\1/p' <<<"$out")
	tcp=$(sed -n 's/.*tcp_sent=\([0-9]*\).*/\1/p' <<<"$out")
	expect_match "UDP malformed packets sent to $srv (>= 300): ${udp:-none}" yes \
		"$( [ "${udp:-0}" -ge 300 ] && echo yes || echo no)"
	expect_match "TCP malformed streams sent to $srv (>= 50): ${tcp:-none}" yes \
		"$( [ "${tcp:-0}" -ge 50 ] && echo yes || echo no)"
	expect_eq "replies to malformed packets to $srv were well formed (same id, QR set, none to responses)" \
		"0" "$(sed -n 's/.*problems=\([0-9]*\).*/\1/p' <<<"$out")"
	daemon_alive "after the malformed packets to $srv"
done

sane_answers "after the malformed packets"
expect_eq "same v6repd pid" "$PID0" "$D_PID"
scan_log "$D_LOG" && ok "no sanitizer or crash report in the log while running"
stop_v6repd
finish
