#!/usr/bin/env bash
# t_rbldnsd.sh: `v6rep list --format rbldnsd` served by a real rbldnsd answers as v6rep decides.
#
# usage: bash t_rbldnsd.sh BUILD_DIR
#
# Imports listings with nesting, exclusions, off-nibble lengths, IPv4, an expired entry and TXT
# text that needs escaping for rbldnsd ($, a leading =, # ; : quotes, UTF-8); exports the rbldnsd
# dataset; starts rbldnsd on a free port on 127.0.0.1 (and v6repd, when built, on the same
# store); then for every probe address compares each server's rcode, A and TXT with the verdict
# of `v6rep lookup` (lk_addr and the TXT template, as v6repd uses them). Without rbldnsd the
# script says SKIP and passes.

. "$(dirname "$0")/lib.sh" "$@"

for tool in rbldnsd dig; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		note "SKIP: $tool is not installed"
		finish
	fi
done
[ -x "$V6REP" ] || { fail "missing executable $V6REP (build first)"; finish; }

chmod 755 "$T"     # rbldnsd reads its data after dropping to an unprivileged user
DB=$T/db
CONF=$T/v6rep.conf
cat >"$CONF" <<EOF
db $DB
zone $ZONE
ns ns1.$ZONE
txt-template "{reason} [{addr} in {prefix}, {code}, {zone}] costs \$5"
EOF
V() { "$V6REP" --config "$CONF" "$@"; }

cat >"$T/listings" <<'EOF'
# nested listings and exclusions, IPv6
2001:db8::/32 127.0.0.4 big net
!2001:db8:1::/48 customer
2001:db8:1:2::/64 127.0.0.5 "nested $1 50$ # hash; semi: colon \"quoted\""
!2001:db8:1:2:3::/80
2001:db8:abc0::/44 127.0.0.6 off the nibble boundary
2001:db8:abc0::1 127.0.0.7 one host
2001:db8:ffff::1
2001:db8:eeee::/48 127.0.0.13 =starts with an equals sign
# IPv4
192.0.2.0/24 127.0.0.3 v4 net
!192.0.2.128/25
192.0.2.200/30 127.0.0.10 relisted inside an exclusion
198.51.100.7 127.0.0.8 v4 host é
127.0.0.0/8 127.0.0.11 loopback (the test points still win)
EOF

if V import "$T/listings" >"$T/out" 2>&1; then ok "import"; else fail "import: $(cat "$T/out")"; finish; fi
if V add 2001:db9:dead::/48 --code 127.0.0.12 --reason "expires at once" --expires 1s >"$T/out" 2>&1; then
	ok "add an entry expiring in 1s"
else
	fail "add --expires: $(cat "$T/out")"
fi
sleep 2     # that /48 has expired now: neither lookup nor the export may list it

if V list --format rbldnsd >"$T/data" 2>"$T/out"; then ok "list --format rbldnsd"; else fail "export: $(cat "$T/out")"; finish; fi
chmod 644 "$T/data"
grep -q 'dead' "$T/data" && fail "the expired entry is in the export"

# ---- rbldnsd ----
RPORT=$(pick_port) || finish
USER_OPT=()
[ "$(id -u)" = 0 ] && USER_OPT=(-u nobody)   # rbldnsd refuses to run as root
rbldnsd -n "${USER_OPT[@]}" -b "127.0.0.1/$RPORT" "$ZONE:combined:$T/data" >"$T/rbldnsd.log" 2>&1 &
RBL_PID=$!
bg_add "$RBL_PID"
up=""
for _ in $(seq 1 50); do
	if dig +norec +tries=1 +time=1 -p "$RPORT" @127.0.0.1 "2.0.0.127.$ZONE" A 2>/dev/null |
		grep -q 'status: NOERROR'; then
		up=1
		break
	fi
	alive "$RBL_PID" || break
	sleep 0.1
done
if [ -n "$up" ]; then
	ok "rbldnsd answers on 127.0.0.1/$RPORT"
else
	fail "rbldnsd did not answer on port $RPORT"
	sed 's/^/#   /' "$T/rbldnsd.log"
	finish
fi

# ---- v6repd on the same store, when built ----
SERVERS=("rbldnsd 127.0.0.1 $RPORT")
if [ -x "$V6REPD" ]; then
	if start_v6repd --config "$CONF"; then
		SERVERS+=("v6repd 127.0.0.1 $PORT")
	fi
else
	note "v6repd not built: comparing rbldnsd with v6rep lookup only"
fi

# qname ADDR: the reversed query name (RFC 5782) in the zone: octets for a dotted quad, nibbles
# (lib.sh's rev) for IPv6 written in hex groups.
qname() {
	local o1 o2 o3 o4
	if [[ $1 == *.*.*.* ]]; then
		IFS=. read -r o1 o2 o3 o4 <<<"$1"
		printf '%s.%s.%s.%s.%s\n' "$o4" "$o3" "$o2" "$o1" "$ZONE"
	else
		n6 "$1"
	fi
}

# txt_unescape RDATA: the character-strings of dig's TXT rdata ("a" "b\"c\195\169"), joined and
# unescaped (\" \\ and decimal \DDD), without forking.
txt_unescape() {
	local s=$1 out="" i=0 c inq=""
	while [ "$i" -lt "${#s}" ]; do
		c=${s:i:1}
		if [ "$c" = '"' ]; then
			if [ -n "$inq" ]; then inq=""; else inq=1; fi
			i=$((i + 1))
		elif [ -z "$inq" ]; then
			i=$((i + 1))
		elif [ "$c" = '\' ] && [[ ${s:i+1:3} =~ ^[0-9]{3}$ ]]; then
			printf -v c '\\x%02x' "$((10#${s:i+1:3}))"
			printf -v c "$c"
			out+=$c
			i=$((i + 4))
		elif [ "$c" = '\' ]; then
			out+=${s:i+1:1}
			i=$((i + 2))
		else
			out+=$c
			i=$((i + 1))
		fi
	done
	printf '%s' "$out"
}

# ask_all HOST PORT NAME...: one dig run asking A and TXT for every name (forks are slow here);
# fills ST["NAME"] (rcode of the A query), AR["NAME"] (A rdata, blank-separated) and
# TX["NAME"] (TXT text, unescaped), NAME without the trailing dot.
declare -A ST AR TX
ask_all() {
	local host=$1 port=$2 n line qname="" qtype="" status="" re_q re_rr
	shift 2
	local args=()
	for n in "$@"; do args+=("$n" A "$n" TXT); done
	ST=() AR=() TX=()
	re_q='^;([^[:space:]]+)\.[[:space:]]+IN[[:space:]]+([A-Z]+)'
	re_rr='^([^;[:space:]][^[:space:]]*)\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+(A|TXT)[[:space:]]+(.*)$'
	while IFS= read -r line; do
		if [[ $line =~ status:\ ([A-Z]+), ]]; then
			status=${BASH_REMATCH[1]}
		elif [[ $line =~ $re_q ]]; then
			qname=${BASH_REMATCH[1]} qtype=${BASH_REMATCH[2]}
			[ "$qtype" = A ] && ST[$qname]=$status
		elif [[ $line =~ $re_rr ]]; then
			if [ "${BASH_REMATCH[2]}" = A ]; then
				AR[${BASH_REMATCH[1]}]+="${AR[${BASH_REMATCH[1]}]:+ }${BASH_REMATCH[3]}"
			else
				TX[${BASH_REMATCH[1]}]+=$(txt_unescape "${BASH_REMATCH[3]}")
			fi
		fi
	done < <(dig +norec +tries=1 +time=2 -p "$port" @"$host" "${args[@]}" 2>&1)
}

# Mapped IPv6 addresses (::ffff:a.b.c.d) are decided by rbldnsd's IPv4 dataset, which prints
# {addr} as a.b.c.d where v6repd prints ::ffff:a.b.c.d, so their TXT is not compared.
ADDRS=(
	2001:db8::1 2001:db8:1::1 2001:db8:1:2::1 2001:db8:1:2:3::1 2001:db8:1:2:4::1
	2001:db8:abcf:ffff::1 2001:db8:abd0::1 2001:db8:abc0::1 2001:db8:abc0::2
	2001:db8:ffff::1 2001:db8:ffff::2 2001:db8:eeee::1 2001:db9::1 2001:db9:dead::1 ::1
	192.0.2.5 192.0.2.129 192.0.2.201 192.0.2.204 198.51.100.7 198.51.100.8
	127.0.0.2 127.0.0.1 127.0.0.5 ::ffff:c000:205 ::ffff:c000:281 ::ffff:7f00:2 ::ffff:7f00:1
)

# What `v6rep lookup` decides: WANT_A (empty when not listed), WANT_TXT, VERDICT per address.
declare -A WANT_A WANT_TXT VERDICT QNAME
NAMES=()
for addr in "${ADDRS[@]}"; do
	QNAME[$addr]=$(qname "$addr")
	NAMES+=("${QNAME[$addr]}")
	V lookup "$addr" >"$T/lookup" 2>&1 || fail "lookup $addr: $(cat "$T/lookup")"
	VERDICT[$addr]=$(head -n1 "$T/lookup")
	WANT_A[$addr]="" WANT_TXT[$addr]=""
	if [ "${VERDICT[$addr]}" = "$addr: listed" ]; then
		WANT_A[$addr]=$(sed -n 's/^  code     //p' "$T/lookup")
		WANT_TXT[$addr]=$(sed -n 's/^  txt      //p' "$T/lookup")
	fi
done

for srv in "${SERVERS[@]}"; do
	read -r label host port <<<"$srv"
	ask_all "$host" "$port" "${NAMES[@]}"
	for addr in "${ADDRS[@]}"; do
		n=${QNAME[$addr]} st=${ST[${QNAME[$addr]}]:-} a=${AR[${QNAME[$addr]}]:-}
		txt=${TX[${QNAME[$addr]}]:-}
		if [ -z "${WANT_A[$addr]}" ]; then
			if [ "$st" = NXDOMAIN ] && [ -z "$a" ]; then
				ok "$label $addr: NXDOMAIN (${VERDICT[$addr]})"
			else
				fail "$label $addr: expected NXDOMAIN (${VERDICT[$addr]}), got '$st' A '$a'"
			fi
		elif [ "$st" != NOERROR ] || [ "$a" != "${WANT_A[$addr]}" ]; then
			fail "$label $addr: expected NOERROR A ${WANT_A[$addr]}, got '$st' A '$a'"
		elif [[ $addr != ::ffff:* ]] && [ "$txt" != "${WANT_TXT[$addr]}" ]; then
			fail "$label $addr: TXT expected '${WANT_TXT[$addr]}', got '$txt'"
		else
			ok "$label $addr: A $a TXT '$txt'"
		fi
	done
done

if [ "$N_FAIL" -ne 0 ]; then
	note "---- the rbldnsd dataset ----"
	sed 's/^/#   /' "$T/data"
	note "---- rbldnsd log ----"
	sed 's/^/#   /' "$T/rbldnsd.log"
fi
[ -n "${D_PID:-}" ] && stop_v6repd
finish
