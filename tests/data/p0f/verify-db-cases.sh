#!/bin/bash
# verify-db-cases.sh: checks check_p0f.c's database tables against the real p0f: every error case
# must make p0f abort at the same line, every accept case must load (except the two leniencies
# listed in the table's comment). Run from the repository root; needs p0f, cc and check.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/dump.c" <<'C'
#include "tests/check_p0f.c"
int main(int argc, char **argv)
{
	char path[4096];
	for (size_t i = 0; i < sizeof db_err_cases / sizeof db_err_cases[0]; i++) {
		snprintf(path, sizeof path, "%s/err%02zu.fp", argv[1], i);
		FILE *f = fopen(path, "w"); fputs(db_err_cases[i].text, f); fclose(f);
		snprintf(path, sizeof path, "%s/err%02zu.want", argv[1], i);
		f = fopen(path, "w"); fputs(db_err_cases[i].err, f); fclose(f);
	}
	for (size_t i = 0; i < sizeof db_ok_cases / sizeof db_ok_cases[0]; i++) {
		snprintf(path, sizeof path, "%s/ok%02zu.fp", argv[1], i);
		FILE *f = fopen(path, "w"); fputs(db_ok_cases[i].text, f); fclose(f);
	}
	(void)argc;
	return 0;
}
C
cc -D_GNU_SOURCE -std=c11 -w -I. -o "$tmp/dump" "$tmp/dump.c" ingest/p0f.c ingest/pcap.c zone/addr.c zone/err.c \
	$(pkg-config --libs check) -lpcap -llmdb -lz -lpthread
"$tmp/dump" "$tmp"
bad=0
for f in "$tmp"/*.fp; do
	n=$(basename "$f" .fp)
	out=$(p0f -f "$f" -r tests/data/p0f/crafted.pcap -o "$tmp/x.log" 2>&1 | tr -d '\033' | grep -a -E 'ABORT|Loaded|No signatures' | head -1 || true)
	rm -f "$tmp/x.log"
	case $n in
	err*)
		line=$(sed -n 's/^t\.fp:\([0-9]*\):.*/\1/p' "$tmp/$n.want")
		if ! grep -q "ABORT.* line $line" <<<"$out"; then echo "$n: p0f says: $out (want line $line)"; bad=1; fi ;;
	ok03|ok04)
		;;  # CRLF and junk in skipped sections: accepted here, refused by p0f
	ok*)
		if grep -q ABORT <<<"$out" && ! grep -q 'Loaded\|No signatures' <<<"$out"; then echo "$n: p0f says: $out"; bad=1; fi ;;
	esac
done
[ $bad = 0 ] && echo "all database cases agree with p0f"
exit $bad
