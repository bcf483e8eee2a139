#!/usr/bin/env bash
# t_enrich.sh: live PTR lookups through ldns against a real Unbound serving local PTR data (a name,
# NXDOMAIN, and a timeout on a port nobody answers), by the Check case enrich/ldns; then
# v6rep-ingest loading --asn and --ptr files, reporting counts and bad lines as file:line.
# Usage: bash t_enrich.sh BUILD_DIR

. "$(dirname "$0")/lib.sh" "$@"
ROOT=$(cd "$E2E_DIR/../.." && pwd)
UNBOUND=${UNBOUND:-/usr/sbin/unbound}
CHECK=$BUILD/check_v6rep
INGEST=$BUILD/v6rep-ingest
need_bins "$UNBOUND" "$CHECK" "$INGEST"

# start_unbound: own config in $UDIR on 127.0.0.1:$UPORT with local PTR data; waits (<= 10 s).
start_unbound() {
	UDIR=$T/unbound
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
	verbosity: 1
	log-queries: yes
	num-threads: 1
	so-reuseport: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	# Both reverse zones are answered here: names below, NXDOMAIN for the rest.
	local-zone: "2.0.192.in-addr.arpa." static
	local-zone: "8.b.d.0.1.0.0.2.ip6.arpa." static
	local-data-ptr: "192.0.2.25 3600 mail.example.org"
	local-data-ptr: "2001:db8::25 3600 mx6.example.org"
remote-control:
	control-enable: no
EOF
	local out
	if ! out=$(unbound-checkconf "$UDIR/unbound.conf" 2>&1); then
		fail "unbound-checkconf: $out"
		return 1
	fi
	"$UNBOUND" -d -c "$UDIR/unbound.conf" >"$UDIR/stderr.log" 2>&1 &
	U_PID=$!
	bg_add "$U_PID"
	local end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		alive "$U_PID" || break
		out=$(dig @127.0.0.1 -p "$UPORT" +time=1 +tries=1 -x 192.0.2.25 2>&1)
		if [[ $out == *"status: NOERROR"* ]]; then
			ok "unbound started on port $UPORT, pid $U_PID"
			return 0
		fi
		sleep 0.2
	done
	fail "unbound did not answer the PTR of 192.0.2.25 within 10 s"
	tail -n 20 "$UDIR/stderr.log" "$UDIR/unbound.log" 2>/dev/null | sed 's/^/#   /'
	return 1
}

start_unbound || finish

# The data as dig sees it, so that a failure below is the code's and not the set-up's.
R=$(dig @127.0.0.1 -p "$UPORT" +time=2 +tries=1 -x 192.0.2.25 2>&1); parse_r
RD="PTR 192.0.2.25 via unbound"; expect_rcode NOERROR
R=$(dig @127.0.0.1 -p "$UPORT" +time=2 +tries=1 -x 2001:db8::99 2>&1); parse_r
RD="PTR 2001:db8::99 via unbound"; expect_rcode NXDOMAIN

# A port nobody answers on: pick a free one and leave it unbound.
DEAD=$(pick_port) || finish

# ---- 1. the Check case enrich/ldns through the real resolver ----
qlog_ptr() { grep -cE 'info: 127\.0\.0\.1 .*(in-addr|ip6)\.arpa\. PTR IN' "$UDIR/unbound.log"; }
q0=$(qlog_ptr)
out=$(V6REP_TEST_PTR_SERVER="127.0.0.1@$UPORT" V6REP_TEST_DEAD_SERVER="127.0.0.1@$DEAD" \
	CK_RUN_SUITE=enrich CK_RUN_CASE=ldns CK_FORK=yes "$CHECK" 2>&1)
st=$?
printf '%s\n' "$out" | sed 's/^/#   /'
expect_eq "enrich/ldns exit status" 0 "$st"
expect_match "enrich/ldns ran (not skipped) and passed" '100%: Checks: 1, Failures: 0, Errors: 0' "$out"
expect_match "the timeouts were bounded and measured" 'timeout 2 took [0-9.]+ s' "$out"
if [[ $out == *skipped* ]]; then fail "enrich/ldns was skipped"; fi
expect_eq "PTR queries unbound saw from enrich/ldns (2 names, 2 NXDOMAIN, then the cache)" 4 "$(($(qlog_ptr) - q0))"

# ---- 2. v6rep-ingest loads --asn and --ptr files ----
cat >"$T/cymru.txt" <<'EOF'
Bulk mode; whois.cymru.com [2026-11-27 10:00:00 +0000]
15169   | 8.8.8.8          | 8.8.8.0/24          | US | arin     | 2023-12-28 | GOOGLE, US
NA      | 192.0.2.1        | NA                  | ZZ | NA       | NA         | NA
15169   | not-an-ip        | 8.8.8.0/24          | US | arin     | 2023-12-28 | GOOGLE, US
EOF
gzip -c "$ROOT/contrib/sample/asn-sample.pfx2as" >"$T/sample.pfx2as.gz"
printf '192.0.2.25 mail.example.org\n25.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.org.\n2001:db8::25 bad name\n' >"$T/ptr.txt"
DB=$T/db
"$INGEST" --db "$DB" --rejects "$ROOT/tests/data/mlog/postfix-smtpd.log" --log-timezone UTC \
	--asn "$T/sample.pfx2as.gz" --asn "$T/cymru.txt" --ptr "$T/ptr.txt" \
	--ptr-live yes --ptr-server "127.0.0.1@$UPORT" >"$T/ingest.out" 2>"$T/ingest.err"
st=$?
DAEMON_LOGS+=("$T/ingest.err")
sed 's/^/#   /' "$T/ingest.err"
expect_eq "v6rep-ingest with enrichment exits 0" 0 "$st"
n=$(grep -cvE '^[[:space:]]*(#|$)' "$ROOT/contrib/sample/asn-sample.pfx2as")
expect_match "pfx2as (gzip) load reported" "notice: asn: $n prefixes from $T/sample.pfx2as.gz \\(pfx2as\\)" "$(cat "$T/ingest.err")"
expect_match "Cymru load reported with its bad line" "notice: asn: 1 prefix from $T/cymru.txt \\(cymru, 1 bad line, first at $T/cymru.txt:4\\)" "$(cat "$T/ingest.err")"
expect_match "the bad Cymru line is shown" "warning: asn: skipped $T/cymru.txt:4: not an IP address" "$(cat "$T/ingest.err")"
expect_match "PTR load reported" "notice: ptr: 2 names from $T/ptr.txt \\(ptr, 1 bad line, first at $T/ptr.txt:3\\)" "$(cat "$T/ingest.err")"
expect_match "live PTR counters reported" "notice: ptr live: [0-9]+ queries" "$(cat "$T/ingest.err")"

# An unreadable ASN file stops ingest before it touches the store.
"$INGEST" --db "$T/db2" --rejects "$ROOT/tests/data/mlog/postfix-smtpd.log" \
	--asn "$T/missing.pfx2as" 2>"$T/missing.err"
st=$?
expect_eq "a missing --asn file is an error (exit 1)" 1 "$st"
expect_match "it names the file" "failed to open ASN file $T/missing.pfx2as" "$(cat "$T/missing.err")"
if [ -e "$T/db2" ]; then fail "the store was created anyway"; else ok "no store was created"; fi

# A bad ptr-server is a settings error.
"$INGEST" --db "$T/db3" --rejects "$ROOT/tests/data/mlog/postfix-smtpd.log" \
	--ptr-server resolver.example 2>"$T/badsrv.err"
expect_match "ptr-server must be ADDR[@PORT]" "ptr-server: not ADDR\\[@PORT\\]" "$(cat "$T/badsrv.err")"

kill_bg "$U_PID"
finish
