#!/usr/bin/env bash
# t_tool.sh: the operator tool `v6rep` end to end: every command, its output, exit codes and
# the all-or-nothing import. Usage: bash t_tool.sh BUILD_DIR

. "$(dirname "$0")/lib.sh" "$@"
[ -x "$V6REP" ] || { fail "missing executable $V6REP (build first)"; finish; }

DB=$T/db

# run ARGS...: runs `v6rep --db $DB ARGS`; stdout in OUT, stderr in ERR, status in RC.
run() {
	"$V6REP" --db "$DB" "$@" >"$T/stdout" 2>"$T/stderr"
	RC=$?
	OUT=$(cat "$T/stdout")
	ERR=$(cat "$T/stderr")
}
# expect_rc WHAT CODE: the last run exited with CODE.
expect_rc() {
	if [ "$RC" = "$2" ]; then ok "$1: exit $RC"; else fail "$1: exit expected $2, got $RC (stderr: $(short "$ERR"))"; fi
}
# expect_out / expect_err WHAT REGEX: stdout / stderr of the last run matches.
expect_out() { expect_match "$1 (stdout)" "$2" "$OUT"; }
# expect_line WHAT LINE: stdout of the last run has exactly this line.
expect_line() {
	if printf '%s\n' "$OUT" | grep -qxF -- "$2"; then ok "$1: '$2'"; else fail "$1: no line '$2' in '$(short "$OUT")'"; fi
}
expect_err() { expect_match "$1 (stderr)" "$2" "$ERR"; }

# ---- help and usage errors ----
run --help
expect_rc "--help" 0
expect_out "--help lists the commands" "import.*add.*del.*allow.*list.*lookup.*stats.*expire.*serial"
run import --help
expect_rc "import --help" 0
expect_out "import --help" "usage: v6rep .*import \[--replace\] FILE"
run list --help
expect_rc "list --help" 0
expect_out "list --help names the formats" "text.*import.*rbldnsd"
run frobnicate
expect_rc "unknown command" 1
expect_err "unknown command" "unknown command 'frobnicate'"
run --bogus-option serial
expect_rc "unknown global option" 1
run add
expect_rc "add without a prefix" 1
expect_err "add without a prefix" "missing argument"
run add 2001:db8::/32 --frob
expect_rc "add with an unknown option" 1
expect_err "add with an unknown option" "unknown option '--frob'"

# ---- store failures: exit 2 ----
"$V6REP" --db "$T/no/such/dir" serial >/dev/null 2>"$T/stderr"
RC=$? ERR=$(cat "$T/stderr")
expect_rc "serial on a missing store" 2
expect_err "serial on a missing store" "failed to open"
: >"$T/plainfile"
"$V6REP" --db "$T/plainfile" add 2001:db8::/32 >/dev/null 2>"$T/stderr"
RC=$? ERR=$(cat "$T/stderr")
expect_rc "add with a file as the store" 2

# ---- import ----
cat >"$T/good.txt" <<'EOF'
# a listings file
2001:db8::/32 127.0.0.4 big net
!2001:db8:1::/48 customer
2001:db8:1:2::/64 127.0.0.5 "nested # not a comment"
2001:db8:ffff::1
192.0.2.0/24 127.0.0.3 v4 net
!192.0.2.128/25
EOF
run import "$T/good.txt"
expect_rc "import" 0
expect_out "import summary" "^imported 4 listings, 2 exclusions \(6 added, 0 updated, 0 removed\), serial [0-9]+$"
S1=$(tool_serial)
expect_match "serial after import" '^[0-9]+$' "$S1"

run list
expect_rc "list" 0
expect_eq "list (text) line count" 6 "$(printf '%s\n' "$OUT" | wc -l)"
expect_line "list: a listing" "2001:db8::/32 127.0.0.4 operator - big net"
expect_line "list: quoted reason kept" "2001:db8:1:2::/64 127.0.0.5 operator - nested # not a comment"
expect_line "list: default code, no reason" "2001:db8:ffff::1/128 127.0.0.2 operator -"
expect_line "list: an exclusion" "!2001:db8:1::/48 - operator - customer"
expect_line "list: an IPv4 exclusion" "!192.0.2.128/25 - operator -"
expect_line "list: IPv4" "192.0.2.0/24 127.0.0.3 operator - v4 net"
run list --kind exclusions
expect_eq "list --kind exclusions count" 2 "$(printf '%s\n' "$OUT" | grep -c '^!')"
expect_eq "list --kind exclusions only" 2 "$(printf '%s\n' "$OUT" | wc -l)"
run list --kind listings
expect_eq "list --kind listings" "0 4" "$(printf '%s\n' "$OUT" | grep -c '^!') $(printf '%s\n' "$OUT" | wc -l)"
run list --format xml
expect_rc "list --format xml" 1
run list --format rbldnsd --kind listings
expect_rc "rbldnsd format needs all kinds" 1

# bad files: every problem reported with FILE:LINE, nothing committed
cat >"$T/bad.txt" <<'EOF'
2001:db8:aaaa::/48 127.0.0.4 fine
2001:db8::1/32 host bits
2001:db8:bbbb::/48 10.0.0.2 code outside 127/8
not-a-prefix
2001:db8:aaaa::/48 127.0.0.5 again
2001:db8:cccc::/48
!2001:db8:aaaa::/48 and as an exclusion
EOF
run list --format import
BEFORE=$OUT
run import "$T/bad.txt"
expect_rc "import of a bad file" 1
expect_err "host bits reported" "bad\.txt:2: .*2001:db8::1/32"
expect_err "bad code reported" "bad\.txt:3: .*10\.0\.0\.2"
expect_err "bad prefix reported" "bad\.txt:4: .*not-a-prefix"
expect_err "duplicate reported with both lines" "bad\.txt:5: duplicate prefix 2001:db8:aaaa::/48 \(first on line 1\)"
expect_err "listing+exclusion duplicate" "bad\.txt:7: duplicate prefix 2001:db8:aaaa::/48 \(first on line 1\)"
expect_err "nothing imported" "5 errors in .*bad\.txt, nothing imported"
expect_eq "no stdout from a failed import" "" "$OUT"
expect_eq "serial unchanged by a failed import" "$S1" "$(tool_serial)"
run list --format import
expect_eq "entries unchanged by a failed import" "$BEFORE" "$OUT"
run import "$T/missing.txt"
expect_rc "import of a missing file" 1
{ printf '2001:db8:aaaa::/48 127.0.0.4 '; printf 'x%.0s' $(seq 1 5000); printf '\n'; } >"$T/long.txt"
run import "$T/long.txt"
expect_rc "import of an over-long line" 1
expect_err "over-long line reported" "long\.txt:1: line is 5029 bytes long, more than 4096"
printf '2001:db8:aaaa::/48 127.0.0.4 crlf\r\n2001:db8:bbbb::/48 127.0.0.4 no newline at the end' >"$T/crlf.txt"
"$V6REP" --db "$T/db5" import "$T/crlf.txt" >/dev/null 2>&1
"$V6REP" --db "$T/db5" list --format import >"$T/stdout" 2>&1
expect_eq "CRLF and a last line without newline" $'2001:db8:aaaa::/48 127.0.0.4 crlf\n2001:db8:bbbb::/48 127.0.0.4 no newline at the end' "$(cat "$T/stdout")"

# ---- round trip: list --format import re-imports to the same entries ----
run list --format import
printf '%s\n' "$OUT" >"$T/export.txt"
expect_out "import format quotes a reason with #" '2001:db8:1:2::/64 127\.0\.0\.5 "nested # not a comment"'
"$V6REP" --db "$T/db2" import "$T/export.txt" >/dev/null 2>&1
"$V6REP" --db "$T/db2" list --format import >"$T/export2.txt" 2>&1
if cmp -s "$T/export.txt" "$T/export2.txt"; then ok "round trip through a fresh store is identical"; else fail "round trip differs: $(diff "$T/export.txt" "$T/export2.txt" | head -5)"; fi
"$V6REP" --db "$T/db2" list >"$T/text2.txt" 2>&1
run list
if [ "$(cut -d' ' -f1-2 "$T/text2.txt")" = "$(printf '%s\n' "$OUT" | cut -d' ' -f1-2)" ]; then
	ok "round trip: same prefixes and codes in text form"
else
	fail "round trip: text listings differ"
fi

# ---- re-import: created kept, updated refreshed; --replace removes the rest ----
run lookup 2001:db8::1
C1=$(printf '%s\n' "$OUT" | sed -n 's/^  created  //p')
U1=$(printf '%s\n' "$OUT" | sed -n 's/^  updated  //p')
sleep 1.1
run import "$T/good.txt"
expect_out "re-import counts updates" "\(0 added, 6 updated, 0 removed\)"
run lookup 2001:db8::1
expect_eq "created kept on re-import" "$C1" "$(printf '%s\n' "$OUT" | sed -n 's/^  created  //p')"
U2=$(printf '%s\n' "$OUT" | sed -n 's/^  updated  //p')
if [ "$U2" != "$U1" ]; then ok "updated refreshed on re-import ($U1 -> $U2)"; else fail "updated not refreshed ($U1)"; fi
S2=$(tool_serial)
if [ "$S2" -gt "$S1" ]; then ok "serial grew on re-import ($S1 -> $S2)"; else fail "serial did not grow ($S1 -> $S2)"; fi

printf '2001:db8::/32 127.0.0.4 big net\n2001:db8:9::/48 127.0.0.9 new one\n' >"$T/small.txt"
run import --replace "$T/small.txt"
expect_rc "import --replace" 0
expect_out "import --replace summary" "^imported 2 listings, 0 exclusions \(1 added, 1 updated, 5 removed\)"
run list --format import
expect_eq "only the file's entries remain" $'2001:db8::/32 127.0.0.4 big net\n2001:db8:9::/48 127.0.0.9 new one' "$OUT"

# standard input, and an empty --replace clears the store
printf '2001:db8:7::/48 127.0.0.7 from stdin\n' | "$V6REP" --db "$DB" import - >"$T/stdout" 2>&1
expect_match "import - (stdin)" "imported 1 listings, 0 exclusions \(1 added, 0 updated, 0 removed\)" "$(cat "$T/stdout")"
: >"$T/empty.txt"
run import --replace "$T/empty.txt"
expect_out "import --replace of an empty file" "imported 0 listings, 0 exclusions \(0 added, 0 updated, 3 removed\)"
run list
expect_eq "store empty after replace with nothing" "" "$OUT"

# ---- add / allow / del ----
run add 2001:db8:5::/48 --code 127.0.0.9 --reason "manual entry" --expires 30d
expect_rc "add" 0
expect_out "add reports" "^listed 2001:db8:5::/48 \(added\), serial [0-9]+$"
run list
expect_out "add: code, reason, RFC 3339 expiry" "^2001:db8:5::/48 127\.0\.0\.9 operator [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z manual entry$"
run add 2001:db8:5::/48 --code 127.0.0.10 --reason "manual entry"
expect_out "add again updates" "\(updated\)"
run add 2001:db8:5::1/48
expect_rc "add with host bits" 1
expect_err "add with host bits" "'2001:db8:5::1/48'.*did you mean 2001:db8:5::/48"
run add 2001:db8:zz::/48
expect_rc "add with a bad prefix" 1
expect_err "bad prefix quoted" "'2001:db8:zz::/48'"
run add 2001:db8:6::/48 --code 10.0.0.1
expect_rc "add with a code outside 127/8" 1
run add 2001:db8:6::/48 --expires soon
expect_rc "add with a bad duration" 1
run add 192.0.2.7
expect_rc "add an IPv4 address" 0
run allow 2001:db8:5:1::/64 --reason "customer"
expect_rc "allow" 0
expect_out "allow reports" "^excluded 2001:db8:5:1::/64 \(added\)"
run list --kind exclusions
expect_eq "allow stored an exclusion" "!2001:db8:5:1::/64 - operator - customer" "$OUT"

# ---- lookup ----
run lookup 2001:db8:5:2::1
expect_rc "lookup listed" 0
expect_out "lookup listed" "^2001:db8:5:2::1: listed"
expect_out "lookup shows the prefix" "  prefix   2001:db8:5::/48"
expect_out "lookup shows the code" "  code     127\.0\.0\.10"
expect_out "lookup shows the TXT" "  txt      manual entry"
run lookup 2001:db8:5:1::1
expect_rc "lookup excluded" 0
expect_out "lookup excluded" "^2001:db8:5:1::1: not listed \(excluded by 2001:db8:5:1::/64\)"
run lookup 2001:db8:4::1
expect_rc "lookup not listed" 0
expect_eq "lookup not listed" "2001:db8:4::1: not listed" "$OUT"
run lookup 192.0.2.7
expect_out "lookup IPv4" "^192\.0\.2\.7: listed"
run lookup 127.0.0.2
expect_out "lookup the RFC 5782 test point" "^127\.0\.0\.2: listed"
run lookup 2001:db8::/32
expect_rc "lookup of a prefix" 1

# ---- del ----
run del 2001:db8:5:1::/64
expect_rc "del" 0
expect_out "del reports" "^deleted 2001:db8:5:1::/64, serial [0-9]+$"
run del 2001:db8:5:1::/64
expect_rc "del of an absent prefix" 1
expect_err "del of an absent prefix" "2001:db8:5:1::/64: not listed"

# ---- expire, stats ----
run add 2001:db8:e::/48 --expires 1s --reason "short lived"
sleep 2
run stats
expect_rc "stats" 0
expect_out "stats listings" "listings +3"
expect_out "stats expired" "expired +1 "
expect_out "stats by length" "/48 +2"
expect_out "stats by origin" "operator +3"
expect_out "stats map size" "map size +[0-9]+ bytes"
run lookup 2001:db8:e::1
expect_eq "an expired entry is not listed" "2001:db8:e::1: not listed" "$OUT"
run list --format import
if printf '%s\n' "$OUT" | grep -q '2001:db8:e::'; then fail "expired entry in the import format"; else ok "expired entry left out of the import format"; fi
run expire
expect_rc "expire" 0
expect_out "expire count" "^removed 1 expired entry, serial [0-9]+$"
run expire
expect_out "expire again" "^removed 0 expired entries"
run serial
expect_match "serial command" '^[0-9]+$' "$OUT"

# ---- settings ----
cat >"$T/tool.conf" <<EOF
db $T/db3
default-code 127.0.0.42
zone v6bl.test
txt-template "{reason} ({addr} in {zone})"
EOF
"$V6REP" --config "$T/tool.conf" add 2001:db8:42::/48 >"$T/stdout" 2>&1
expect_rc "add with --config" 0
"$V6REP" --config "$T/tool.conf" lookup 2001:db8:42::1 >"$T/stdout" 2>&1
OUT=$(cat "$T/stdout")
expect_match "db and default-code from --config" "code     127\.0\.0\.42" "$OUT"
expect_match "TXT from the template, default reason" "txt      listed in v6bl\.test \(2001:db8:42::1 in v6bl\.test\)" "$OUT"
"$V6REP" --config "$T/tool.conf" --db "$DB" lookup 2001:db8:42::1 >"$T/stdout" 2>&1
expect_eq "--db overrides the config" "2001:db8:42::1: not listed" "$(cat "$T/stdout")"
"$V6REP" --config "$T/tool.conf" --default-code 127.0.0.43 --db "$T/db4" add 2001:db8:43::/48 >/dev/null 2>&1
"$V6REP" --db "$T/db4" lookup 2001:db8:43::1 >"$T/stdout" 2>&1
expect_match "a setting on the command line overrides the config" "code     127\.0\.0\.43" "$(cat "$T/stdout")"

printf 'zone v6bl.test\nttl 1x\nbogus-option 1\n' >"$T/bad.conf"
run config-check "$T/bad.conf"
expect_rc "config-check of a bad file" 1
expect_err "config-check reports each line" "bad\.conf:2:.*ttl"
expect_err "config-check reports each line" "bad\.conf:3:.*bogus-option"
run config-sample
expect_rc "config-sample" 0
printf '%s\n' "$OUT" >"$T/sample.conf"
printf 'zone v6bl.test\n' >>"$T/sample.conf"
run config-check "$T/sample.conf"
expect_rc "config-check of the sample (plus a zone)" 0
"$V6REP" --config "$T/bad.conf" serial >/dev/null 2>"$T/stderr"
RC=$? ERR=$(cat "$T/stderr")
expect_rc "a bad --config is bad input" 1
expect_err "a bad --config names file:line" "bad\.conf:2:"

finish
