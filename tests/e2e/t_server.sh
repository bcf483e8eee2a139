#!/usr/bin/env bash
# t_server.sh: every v6repd answer behaviour, end to end, over 127.0.0.1 and ::1, UDP and TCP.
#
# The store is made with `v6rep import` (nested /48 -> /64 -> /128 listings, exclusions, an IPv4
# /24, a /49 off a nibble boundary, a lone /128, a long reason); the daemon reads a config file
# with a TXT template using {addr} and {prefix}. Usage: bash t_server.sh BUILD_DIR

. "$(dirname "$0")/lib.sh" "$@"
need_bins

DB=$T/db
CONF=$T/v6repd.conf
LIST=$T/listings.txt
NEG_TTL=123
TTL=300
IDLE=2
MAXCONN=4
THREADS=2
LONG_REASON="long-$(printf 'L%.0s' $(seq 1 600))-end"

cat >"$LIST" <<EOF
# nested listings inside 2001:db8:aaaa::/48
2001:db8:aaaa::/48 127.0.0.2 bad network aaaa
2001:db8:aaaa:1::/64 127.0.0.3 bad subnet aaaa:1
2001:db8:aaaa:1::5 127.0.0.4
!2001:db8:aaaa:1::9
# an excluded /64 with a listing below it, and one with nothing below
!2001:db8:aaaa:2::/64 customer network
2001:db8:aaaa:2::7 127.0.0.5 relisted inside the exclusion
!2001:db8:aaaa:3::/64
# a /49, not on a nibble boundary
2001:db8:bbbb:8000::/49 127.0.0.7 upper half of bbbb
# a lone /128 with no covering listing
2001:db8:cccc:1::42 127.0.0.8 lone host
# a long reason (TC over UDP with a 512-byte buffer)
2001:db8:dddd::/48 127.0.0.9 $LONG_REASON
# IPv4
192.0.2.0/24 127.0.0.6 ipv4 net
EOF

write_conf() { # write_conf TEMPLATE TTL
	cat >"$CONF" <<EOF
# v6repd settings for t_server.sh
ns ns1.v6bl.test
ns ns2.example.net
negative-ttl $NEG_TTL
ttl $2
txt-template "$1"
default-reason "listed by the e2e test"
tcp-idle-timeout $IDLE
tcp-max-connections $MAXCONN
threads $THREADS
log-level info
EOF
}
TEMPLATE='v6bl {code} {addr} in {prefix}: {reason}'
write_conf "$TEMPLATE" "$TTL"

if ! v6r_must "import the listings file" import "$LIST"; then finish; fi
start_v6repd --config "$CONF" || finish

# soa_serial: the serial of the SOA in the last answer.
soa_serial() {
	local f
	r_join AN SOA
	read -ra f <<<"$R_JOIN"
	printf '%s\n' "${f[2]:-}"
}

# ---- checks of one answer, by kind ----
#   a CODE      listed: A = CODE with TTL $TTL, AA set, RA unset
#   txt TEXT    listed: TXT with TTL $TTL equal to TEXT, or containing the rest when it starts
#               with '~'
#   pa CODE     a partial name strictly inside a listing with nothing more specific on its
#               path: the covering listing's wildcard gives its A record (RFC 4592, LK_LISTED)
#   nx          NXDOMAIN, no answer, the SOA in authority with the negative TTL, AA set
#   nodata      NOERROR, no answer, the SOA in authority with the negative TTL, AA set
#   exists      NOERROR, AA set (NODATA or wildcard records: DESIGN.md leaves that open)
#   refused     REFUSED, RA unset
check_one() {
	local kind=$1 arg=$2
	case $kind in
	a)
		expect_rcode NOERROR && expect_a "$arg" && expect_flag aa && expect_noflag ra &&
			expect_eq "$RD: A TTL" "$TTL" "$(r_ttl AN A)"
		;;
	txt)
		expect_rcode NOERROR || return 1
		expect_eq "$RD: TXT TTL" "$TTL" "$(r_ttl AN TXT)"
		if [[ $arg == "~"* ]]; then expect_txt_contains "${arg#"~"}"; else expect_txt "$arg"; fi
		;;
	pa) expect_rcode NOERROR && expect_a "$arg" && expect_flag aa ;;
	nx) expect_rcode NXDOMAIN && expect_answers 0 && expect_soa_auth "$NEG_TTL" && expect_flag aa ;;
	nodata) expect_rcode NOERROR && expect_answers 0 && expect_soa_auth "$NEG_TTL" && expect_flag aa ;;
	exists) expect_rcode NOERROR && expect_flag aa ;;
	refused) expect_rcode REFUSED && expect_noflag ra ;;
	*) fail "check_one: unknown kind $kind" ;;
	esac
}

# qline NAME TYPE: dig's question line for NAME and TYPE, lower case (as compared below).
qline() { local n=${1,,}; printf ';%s. in %s\n' "${n%.}" "${2,,}"; }

# check KIND NAME TYPE [ARG]: queries NAME over every transport now and checks each answer; while
# TABLE_MODE is set, only records the check in TABLE for run_table.
SEP=$'\x1f'
TABLE=()
TABLE_MODE=""
check() {
	local kind=$1 name=$2 type=$3 arg=${4:-} t
	if [ -n "$TABLE_MODE" ]; then
		TABLE+=("$kind$SEP$name$SEP$type$SEP$arg")
		return 0
	fi
	for t in "${TRANSPORTS[@]}"; do
		set -- $t
		dq "$1" "$2" "$name" "$type"
		check_one "$kind" "$arg"
	done
}

# run_table: runs the recorded checks with one dig process per transport, then empties TABLE.
run_table() {
	local t e i kind name type arg args
	local -a f
	for t in "${TRANSPORTS[@]}"; do
		set -- $t
		args=()
		for e in "${TABLE[@]}"; do
			IFS=$SEP read -r kind name type arg <<<"$e"
			args+=("$name" "$type")
		done
		dq_batch "$1" "$2" "${args[@]}"
		# Each output must be the answer to its own query (same question), else go one by one.
		for i in "${!TABLE[@]}"; do
			IFS=$SEP read -r kind name type arg <<<"${TABLE[$i]}"
			R=${B_OUT[$i]:-}
			parse_r
			if [ -n "$R_RCODE" ] && [ "${R_QUESTION,,}" != "$(qline "$name" "$type")" ]; then
				fail "batch @$1/$2: output $i of $B_N is for '$R_QUESTION', expected ';$name. IN $type'; querying one by one"
				B_OUT=()
				break
			fi
		done
		for i in "${!TABLE[@]}"; do
			IFS=$SEP read -r kind name type arg <<<"${TABLE[$i]}"
			if [ "${#B_OUT[@]}" -gt 0 ]; then
				R=${B_OUT[$i]}
				RD="$name $type @$1/$2"
				parse_r
			else
				dq "$1" "$2" "$name" "$type"
			fi
			check_one "$kind" "$arg"
		done
	done
	TABLE=()
}

# The shorthands used below.
listed() { # listed NAME CODE [TXT]
	check a "$1" A "$2"
	[ -z "${3:-}" ] || check txt "$1" TXT "$3"
}
nxdomain() { check nx "$1" "${2:-A}"; }
nodata() { check nodata "$1" "${2:-A}"; }
exists() { check exists "$1" A; }
partial_listed() { check pa "$1" A "$2"; }
refused() { check refused "$1" "${2:-A}"; }
p() { echo "$(rev "$1" "$2").$ZONE"; }

TABLE_MODE=1
# ---- full names ----
note "full names: listed, not listed, nested, excluded"
listed "$(n6 2001:db8:aaaa::1234)" 127.0.0.2 \
	"v6bl 127.0.0.2 2001:db8:aaaa::1234 in 2001:db8:aaaa::/48: bad network aaaa"
listed "$(n6 2001:db8:aaaa:ffff:ffff:ffff:ffff:ffff)" 127.0.0.2 \
	"v6bl 127.0.0.2 2001:db8:aaaa:ffff:ffff:ffff:ffff:ffff in 2001:db8:aaaa::/48: bad network aaaa"
listed "$(n6 2001:db8:aaaa:1::1)" 127.0.0.3 \
	"v6bl 127.0.0.3 2001:db8:aaaa:1::1 in 2001:db8:aaaa:1::/64: bad subnet aaaa:1"
listed "$(n6 2001:db8:aaaa:1::5)" 127.0.0.4 \
	"v6bl 127.0.0.4 2001:db8:aaaa:1::5 in 2001:db8:aaaa:1::5/128: listed by the e2e test"
nxdomain "$(n6 2001:db8:aaaa:1::9)"
nxdomain "$(n6 2001:db8:aaaa:2::1)"
listed "$(n6 2001:db8:aaaa:2::7)" 127.0.0.5 \
	"v6bl 127.0.0.5 2001:db8:aaaa:2::7 in 2001:db8:aaaa:2::7/128: relisted inside the exclusion"
nxdomain "$(n6 2001:db8:aaaa:3::1)"
nxdomain "$(n6 2001:db8:aaab::1)"
nxdomain "$(n6 2001:db8::1)"
nxdomain "$(n6 ::1)"
listed "$(n6 2001:db8:bbbb:8000::1)" 127.0.0.7 \
	"v6bl 127.0.0.7 2001:db8:bbbb:8000::1 in 2001:db8:bbbb:8000::/49: upper half of bbbb"
listed "$(n6 2001:db8:bbbb:ffff:ffff:ffff:ffff:ffff)" 127.0.0.7 "~in 2001:db8:bbbb:8000::/49"
nxdomain "$(n6 2001:db8:bbbb:7fff:ffff:ffff:ffff:ffff)"
nxdomain "$(n6 2001:db8:bbbb::1)"
listed "$(n6 2001:db8:cccc:1::42)" 127.0.0.8 "v6bl 127.0.0.8 2001:db8:cccc:1::42 in 2001:db8:cccc:1::42/128: lone host"
nxdomain "$(n6 2001:db8:cccc:1::41)"
nxdomain "$(n6 2001:db8:cccc:1::43)"

note "other types on a listed name: NOERROR NODATA with the SOA"
L1=$(n6 2001:db8:aaaa::1234)
for ty in AAAA MX CAA TYPE65280 NS SOA; do nodata "$L1" "$ty"; done
nxdomain "$(n6 2001:db8:aaab::1)" AAAA
nxdomain "$(n6 2001:db8:aaab::1)" TXT

# ---- partial names ----
note "partial names: NXDOMAIN only where nothing is listed at/below and nothing covers"
exists "$(p 2001:db8:aaaa:: 12)"              # the /48 listing's own node
nodata "$(p 2001:db8:: 8)"                     # above every listing
nodata "$(p 2001:: 4)"                         # 1.0.0.2: nibbles (above listings) beat IPv4 2.0.0.1
exists "$(p 2000:: 1)"                         # "2"
nxdomain "$(p 3fff:: 1)"                       # "3": nothing below
nxdomain "$(p 2001:db9:: 8)"
nxdomain "$(p 2001:db8:aaab:: 12)"
partial_listed "$(p 2001:db8:aaaa:5:: 16)" 127.0.0.2
partial_listed "$(p 2001:db8:aaaa:5:: 13)" 127.0.0.2
exists "$(p 2001:db8:aaaa:1:: 16)"             # the /64 listing's node
partial_listed "$(p 2001:db8:aaaa:1:: 20)" 127.0.0.3
partial_listed "$(p 2001:db8:aaaa:1::5 31)" 127.0.0.3  # /124 holding the /128 listing and the hole
exists "$(p 2001:db8:aaaa:2:: 16)"             # excluded /64, a listing below it
nodata "$(p 2001:db8:aaaa:2:: 20)"             # inside the exclusion, on the path to ::7
nodata "$(p 2001:db8:aaaa:2::7 31)"
nxdomain "$(p 2001:db8:aaaa:2:1:: 20)"         # inside the exclusion, nothing below
nxdomain "$(p 2001:db8:aaaa:2::17 31)"
nxdomain "$(p 2001:db8:aaaa:3:: 16)"           # excluded /64, nothing below
nxdomain "$(p 2001:db8:aaaa:3:: 20)"
nodata "$(p 2001:db8:bbbb:: 12)"               # above the /49
exists "$(p 2001:db8:bbbb:8000:: 13)"          # a nibble piece of the /49
partial_listed "$(p 2001:db8:bbbb:f000:: 14)" 127.0.0.7
partial_listed "$(p 2001:db8:bbbb:8000:: 16)" 127.0.0.7
nxdomain "$(p 2001:db8:bbbb:7000:: 13)"        # the lower half of bbbb is not listed
nxdomain "$(p 2001:db8:bbbb:: 13)"
nxdomain "$(p 2001:db8:bbbb:7000:: 16)"
nodata "$(p 2001:db8:cccc:1::42 12)"           # on the path to the lone /128
nodata "$(p 2001:db8:cccc:1::42 16)"
nodata "$(p 2001:db8:cccc:1::42 31)"
nxdomain "$(p 2001:db8:cccc:2:: 16)"
nxdomain "$(p 2001:db8:cccc:1::52 31)"
note "names with a non-nibble label"
partial_listed "foo.$(p 2001:db8:aaaa:5:: 16)" 127.0.0.2
nxdomain "foo.$(p 2001:db8:cccc:1:: 16)"
nxdomain "foo.$ZONE"

# ---- IPv4 and the RFC 5782 test points ----
note "IPv4 d.c.b.a names"
listed "1.2.0.192.$ZONE" 127.0.0.6 "v6bl 127.0.0.6 192.0.2.1 in 192.0.2.0/24: ipv4 net"
listed "255.2.0.192.$ZONE" 127.0.0.6 "~in 192.0.2.0/24: ipv4 net"
nxdomain "1.3.0.192.$ZONE"
nxdomain "1.2.0.193.$ZONE"
exists "2.0.192.$ZONE"
nodata "0.192.$ZONE"
nodata "192.$ZONE"
nxdomain "3.0.192.$ZONE"
nxdomain "193.$ZONE"
listed "$(n6 ::ffff:c000:201)" 127.0.0.6       # the same entry, as an IPv4-mapped nibble name
note "RFC 5782 test points"
listed "$(n6 ::ffff:7f00:2)" 127.0.0.2 "~v6bl 127.0.0.2 "
listed "2.0.0.127.$ZONE" 127.0.0.2 "~v6bl 127.0.0.2 "
nxdomain "$(n6 ::ffff:7f00:1)"
nxdomain "1.0.0.127.$ZONE"

# ---- apex ----
note "apex: SOA (serial = v6rep serial), NS, ANY"
SERIAL=$(tool_serial)
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	dq "$1" "$2" "$ZONE" SOA
	if expect_rcode NOERROR && expect_flag aa && expect_answers 1; then
		read -r mname rname serial refresh retry expire minimum <<<"$(r_rr AN SOA)"
		expect_eq "$RD: SOA serial = v6rep serial" "$SERIAL" "$serial"
		expect_eq "$RD: SOA mname" "ns1.v6bl.test." "$mname"
		expect_eq "$RD: SOA rname" "hostmaster.v6bl.test." "$rname"
		expect_eq "$RD: SOA minimum" "$NEG_TTL" "$minimum"
	fi
	dq "$1" "$2" "$ZONE" NS
	expect_rcode NOERROR && expect_flag aa &&
		expect_eq "$RD: NS set" "ns1.v6bl.test. ns2.example.net." "$(r_rr AN NS | sort | tr '\n' ' ' | sed 's/ $//')"
	dq "$1" "$2" "$ZONE" ANY
	if expect_rcode NOERROR && expect_flag aa; then
		expect_match "$RD: ANY answer holds the apex records" '(SOA|NS)' "${R_AN_TYPE[*]}"
	fi
done
nodata "$ZONE" A
nodata "$ZONE" TXT
nodata "$ZONE" AAAA

note "out of zone: REFUSED"
refused example.com
refused test SOA
refused xv6bl.test
refused "1.xv6bl.test"
refused . NS
refused "v6bl.test.example" A

note "running the checks recorded above over every transport"
run_table
TABLE_MODE=""

# ---- header flags and opcodes ----
note "RD copied, RA never set, AA set"
RD_NAMES=("$L1" "$(n6 2001:db8:aaab::1)" example.com "$ZONE")
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	args=()
	for nm in "${RD_NAMES[@]}"; do args+=("$nm" A +rec "$nm" A +norec); done
	dq_batch "$1" "$2" "${args[@]}"
	expect_eq "RD batch @$1/$2: outputs" "$((2 * ${#RD_NAMES[@]}))" "$B_N"
	i=0
	for nm in "${RD_NAMES[@]}"; do
		for rd in rec norec; do
			R=${B_OUT[$i]:-}
			RD="$nm A @$1/$2 +$rd"
			parse_r
			i=$((i + 1))
			expect_eq "$RD: question" "$(qline "$nm" A)" "${R_QUESTION,,}" || continue
			if [ "$rd" = rec ]; then expect_flag rd; else expect_noflag rd; fi
			expect_noflag ra
		done
	done
done

note "opcodes other than QUERY: NOTIMP with the opcode echoed"
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	for op in notify update status; do
		dq "$1" "$2" "$ZONE" SOA +opcode=$op
		expect_rcode NOTIMP && expect_eq "$RD: opcode echoed" "${op^^}" "$R_OPCODE"
	done
	out=$("${DNSRAW[@]}" query "$1" "$PORT" "$2" "$ZONE" SOA opcode=5 id=4242)
	expect_match "raw UPDATE @$1/$2" '^id=4242 qr=1 opcode=5 .*rcode=NOTIMP' "$out"
	out=$("${DNSRAW[@]}" query "$1" "$PORT" "$2" "$ZONE" SOA opcode=4 id=4243 rd=1)
	expect_match "raw NOTIFY with RD @$1/$2" '^id=4243 qr=1 opcode=4 .*rd=1 ra=0 rcode=NOTIMP' "$out"
done

note "no question: FORMERR"
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	dq "$1" "$2" "$ZONE" SOA +header-only +nocookie
	expect_rcode FORMERR
done

# ---- 0x20 ----
note "0x20: the question is echoed byte for byte"
MIXED=$(rev 2001:db8:aaaa::1234 | sed 's/a\.a\.a\.a/A.a.A.a/; s/8\.b/8.B/').V6bl.TeSt
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	for nm in "$MIXED" "Ab.c.D.v6BL.TeSt" "V6BL.test"; do
		dq "$1" "$2" "$nm" A
		reply_ok || continue
		expect_eq "$RD: question section" ";$nm. IN A" "$R_QUESTION"
		out=$("${DNSRAW[@]}" case "$1" "$PORT" "$2" "$nm" A)
		expect_match "raw question bytes for $nm @$1/$2" '^same=yes' "$out"
	done
	dq "$1" "$2" "$MIXED" A
	expect_a 127.0.0.2
	dq "$1" "$2" "Ab.c.D.v6BL.TeSt" A
	expect_rcode NXDOMAIN
done

# ---- EDNS ----
note "EDNS0 (RFC 6891)"
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	dq "$1" "$2" "$L1" A +noedns
	expect_rcode NOERROR && expect_eq "$RD: no OPT without EDNS" "" "$R_EDNS"
	dq "$1" "$2" "$L1" A +edns=0 +nodnssec
	expect_rcode NOERROR && expect_match "$RD: OPT version 0, DO clear" '^; EDNS: version: 0, flags:;' "$R_EDNS"
	dq "$1" "$2" "$L1" A +edns=1 +noednsnegotiation
	expect_rcode BADVERS && expect_match "$RD: OPT version 0 in BADVERS" '^; EDNS: version: 0,' "$R_EDNS"
	expect_answers 0
	dq "$1" "$2" "$L1" A +dnssec
	expect_rcode NOERROR && expect_match "$RD: DO copied" '^; EDNS: version: 0, flags: do;' "$R_EDNS"
	dq "$1" "$2" "$(n6 2001:db8:aaab::1)" A +dnssec
	expect_rcode NXDOMAIN && expect_match "$RD: DO copied" '^; EDNS: version: 0, flags: do;' "$R_EDNS"
	dq "$1" "$2" "$L1" A +ednsopt=65001:abcd
	expect_rcode NOERROR && expect_a 127.0.0.2
	dq "$1" "$2" "$L1" A +ednsflags=0x4000
	expect_rcode NOERROR && expect_a 127.0.0.2 &&
		expect_eq "$RD: unknown EDNS flag not echoed" "" "$([[ $R_EDNS == *MBZ* ]] && echo "$R_EDNS")"
done

note "TC: a long TXT over UDP with 512 bytes, the whole answer over TCP"
LONGN=$(n6 2001:db8:dddd::1)
LONG_TXT="v6bl 127.0.0.9 2001:db8:dddd::1 in 2001:db8:dddd::/48: $LONG_REASON"
for srv in 127.0.0.1 ::1; do
	dq "$srv" udp "$LONGN" TXT +bufsize=512 +ignore
	expect_rcode NOERROR && expect_flag tc
	dq "$srv" udp "$LONGN" TXT +noedns +ignore
	expect_rcode NOERROR && expect_flag tc
	dq "$srv" udp "$LONGN" TXT +bufsize=4096 +ignore
	expect_rcode NOERROR && expect_noflag tc && expect_txt "$LONG_TXT"
	dq "$srv" tcp "$LONGN" TXT +bufsize=512
	expect_rcode NOERROR && expect_noflag tc && expect_txt "$LONG_TXT"
	dq "$srv" tcp "$LONGN" TXT +noedns
	expect_rcode NOERROR && expect_noflag tc && expect_txt "$LONG_TXT"
	dq "$srv" udp "$LONGN" A +bufsize=512
	expect_rcode NOERROR && expect_noflag tc && expect_a 127.0.0.9
done

# ---- TCP: pipelining, kdig keepopen, drill ----
note "TCP pipelining: 10 queries in one write"
PIPE=()
PIPE_EXP=""
for i in 0 1 2 3 4 5 6 7 8 9; do
	case $((i % 3)) in
	0) PIPE+=("$(n6 2001:db8:aaaa::$i):A"); PIPE_EXP+="$i:NOERROR:an1," ;;
	1) PIPE+=("$(n6 2001:db8:aaab::$i):A"); PIPE_EXP+="$i:NXDOMAIN:an0," ;;
	2) PIPE+=("$(n6 2001:db8:aaaa:1::$i):TXT"); PIPE_EXP+="$i:NOERROR:an1," ;;
	esac
done
PIPE_EXP=${PIPE_EXP%,}
for srv in 127.0.0.1 ::1; do
	out=$("${DNSRAW[@]}" pipeline "$srv" "$PORT" "${PIPE[@]}")
	expect_match "pipelined @$srv: 10 answers, every id once" '^answers=10 of=10 ids_ok=yes ' "$out"
	expect_eq "pipelined @$srv: per-query results" "$PIPE_EXP" "$(sed -n 's/.*results=//p' <<<"$out")"
	note "pipelined @$srv: $(grep -o 'in_order=[a-z]*' <<<"$out") (RFC 7766 allows either)"
done

note "kdig: several queries on one kept-open TCP connection"
for srv in 127.0.0.1 ::1; do
	out=$(kdig @"$srv" -p "$PORT" +tcp +keepopen +norec +time=2 +retry=0 \
		"$L1" A "$(n6 2001:db8:aaab::1)" A "$(n6 2001:db8:aaaa:1::5)" TXT "$ZONE" SOA 2>&1)
	expect_eq "kdig +keepopen @$srv: statuses" "NOERROR NXDOMAIN NOERROR NOERROR" \
		"$(grep -o 'status: [A-Z]*' <<<"$out" | awk '{print $2}' | tr '\n' ' ' | sed 's/ $//')"
	expect_match "kdig +keepopen @$srv: A record" "IN[[:space:]]+A[[:space:]]+127\.0\.0\.2" "$out"
done
note "kdig: EDNS version 1 -> BADVERS"
out=$(kdig @127.0.0.1 -p "$PORT" +edns=1 +norec +time=2 +retry=0 "$L1" A 2>&1)
expect_match "kdig +edns=1" 'status: BADVERS' "$out"

note "drill"
out=$(drill -p "$PORT" "$L1" @127.0.0.1 A 2>&1)
expect_match "drill rcode" 'rcode: NOERROR' "$out"
expect_match "drill A" "IN[[:space:]]+A[[:space:]]+127\.0\.0\.2" "$out"

# ---- TCP resource limits ----
note "TCP idle timeout ($IDLE s)"
out=$("${DNSRAW[@]}" idle 127.0.0.1 "$PORT" "$L1" 1 10)
expect_match "idle after one query @127.0.0.1: closed" '^answered=1 closed=(eof|reset) ' "$out"
after=$(sed -n 's/.*after=\([0-9.]*\).*/\1/p' <<<"$out")
expect_match "idle close delay ${after:-?}s in [$((IDLE - 1)), $((IDLE + 3))]" 'yes' \
	"$(awk -v a="${after:-99}" -v i="$IDLE" 'BEGIN {print (a >= i - 1 && a <= i + 3) ? "yes" : "no"}')"
out=$("${DNSRAW[@]}" idle ::1 "$PORT" "$L1" 0 10)
expect_match "idle without a query @::1: closed" '^answered=0 closed=(eof|reset) ' "$out"
after=$(sed -n 's/.*after=\([0-9.]*\).*/\1/p' <<<"$out")
expect_match "idle close delay ${after:-?}s <= $((IDLE + 3))" 'yes' \
	"$(awk -v a="${after:-99}" -v i="$IDLE" 'BEGIN {print (a <= i + 3) ? "yes" : "no"}')"

note "TCP connection limit ($MAXCONN)"
NCONN=$((MAXCONN * 3))
out=$("${DNSRAW[@]}" connlimit 127.0.0.1 "$PORT" "$L1" "$NCONN")
ans=$(sed -n 's/^answered=\([0-9]*\).*/\1/p' <<<"$out")
closed=$(sed -n 's/.*closed=\([0-9]*\).*/\1/p' <<<"$out")
silent=$(sed -n 's/.*silent=\([0-9]*\).*/\1/p' <<<"$out")
expect_match "$NCONN connections: some answered, at most $MAXCONN ($out)" 'yes' \
	"$( [ "${ans:-0}" -ge 1 ] && [ "${ans:-99}" -le "$MAXCONN" ] && echo yes || echo no)"
expect_eq "$NCONN connections: the extra ones closed, none left hanging ($out)" \
	"$((NCONN - ${ans:-0}))" "$(( ${closed:-0} + $(sed -n 's/.*refused=\([0-9]*\).*/\1/p' <<<"$out") ))"
expect_eq "$NCONN connections: none silent" 0 "${silent:-?}"
sleep 0.5
dq 127.0.0.1 tcp "$L1" A
expect_rcode NOERROR && expect_a 127.0.0.2

note "a stalled TCP client does not stop others being served"
READY=$T/stall.ready
rss_kb() { local k v _; while read -r k v _; do [ "$k" = VmRSS: ] && { echo "$v"; return; }; done <"/proc/$D_PID/status"; }
RSS0=$(rss_kb)
"${DNSRAW[@]}" stall 127.0.0.1 "$PORT" "$L1" 200000 6 "$READY" >"$T/stall.out" 2>&1 &
STALL=$!
bg_add "$STALL"
for i in $(seq 1 50); do [ -s "$READY" ] && break; sleep 0.1; done
expect_eq "staller connected" "connected" "$(cat "$READY" 2>/dev/null)"
sleep 1
for round in 1 2 3; do
	for t in "${TRANSPORTS[@]}"; do
		set -- $t
		dq "$1" "$2" "$L1" A
		expect_rcode NOERROR && expect_a 127.0.0.2
	done
	sleep 0.5
done
RSS1=$(rss_kb)
expect_match "v6repd memory while a client does not read: RSS ${RSS0} kB -> ${RSS1} kB (growth < 32 MB)" yes \
	"$( [ $((${RSS1:-0} - ${RSS0:-0})) -lt 32768 ] && echo yes || echo no)"
for i in $(seq 1 100); do alive "$STALL" || break; sleep 0.1; done
kill_bg "$STALL"
note "staller: $(cat "$T/stall.out")"
daemon_alive "after the stalled client"

# ---- live changes through the store ----
note "v6rep add/allow/del while the server runs: seen by the very next query"
S0=$(tool_serial)
dq 127.0.0.1 udp "$ZONE" SOA
expect_eq "SOA serial before changes" "$S0" "$(soa_serial)"
NEW=$(n6 2001:db8:eeee::1)
nxdomain "$NEW"
if v6r_must "add a listing" add 2001:db8:eeee::1 --code 127.0.0.10 --reason "added live"; then
	listed "$NEW" 127.0.0.10 "v6bl 127.0.0.10 2001:db8:eeee::1 in 2001:db8:eeee::1/128: added live"
fi
S1=$(tool_serial)
expect_match "serial increased after add ($S0 -> $S1)" yes "$( [ "${S1:-0}" -gt "${S0:-0}" ] && echo yes || echo no)"
for t in "${TRANSPORTS[@]}"; do
	set -- $t
	dq "$1" "$2" "$ZONE" SOA
	expect_eq "$RD: SOA serial after add" "$S1" "$(soa_serial)"
done
v6r_must "delete it" del 2001:db8:eeee::1 && nxdomain "$NEW"
S2=$(tool_serial)
expect_match "serial increased after del ($S1 -> $S2)" yes "$( [ "${S2:-0}" -gt "${S1:-0}" ] && echo yes || echo no)"
dq ::1 tcp "$ZONE" SOA
expect_eq "$RD: SOA serial after del" "$S2" "$(soa_serial)"
HOLE=$(n6 2001:db8:aaaa:4::1)
listed "$HOLE" 127.0.0.2
v6r_must "exclude a /64 inside the /48" allow 2001:db8:aaaa:4::/64 && nxdomain "$HOLE"
v6r_must "remove the exclusion" del 2001:db8:aaaa:4::/64 && listed "$HOLE" 127.0.0.2

note "an expiring listing stops being served after it expires"
EXP=$(n6 2001:db8:eeee::2)
t0=$(date +%s)
if v6r_must "add a listing expiring in 2 s" add 2001:db8:eeee::2 --code 127.0.0.11 --expires 2s; then
	dq 127.0.0.1 udp "$EXP" A
	expect_rcode NOERROR && expect_a 127.0.0.11
	for i in $(seq 1 60); do [ "$(date +%s)" -ge $((t0 + 4)) ] && break; sleep 0.1; done
	nxdomain "$EXP"
fi

# ---- SIGHUP ----
note "SIGHUP after editing the config: new TXT template and TTL, same process"
write_conf 'changed {addr} of {prefix}' 77
kill -HUP "$D_PID"
got=""
for i in $(seq 1 50); do
	dq 127.0.0.1 udp "$L1" TXT
	r_txt_join
	got=$R_JOIN
	[[ $got == changed* ]] && break
	sleep 0.1
done
expect_eq "TXT after SIGHUP" "changed 2001:db8:aaaa::1234 of 2001:db8:aaaa::/48" "$got"
TTL=77
listed "$L1" 127.0.0.2 "changed 2001:db8:aaaa::1234 of 2001:db8:aaaa::/48"
listed "$(n6 2001:db8:aaaa:1::5)" 127.0.0.4 "changed 2001:db8:aaaa:1::5 of 2001:db8:aaaa:1::5/128"
daemon_alive "after SIGHUP"

note "SIGTERM: exit status 0"
stop_v6repd
finish
