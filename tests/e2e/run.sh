#!/usr/bin/env bash
# run.sh: runs every end-to-end test script tests/e2e/t_*.sh against one build directory.
#
#   bash tests/e2e/run.sh BUILD_DIR [t_name ...]
#
# Prints "PASS t_x" or "FAIL t_x" per script (with the failed checks and the script's last lines
# on failure), then "N passed, M failed" alone on the last line; exits non-zero if any failed.
# Each script gets at most E2E_TIMEOUT seconds (default 600). Full logs: $E2E_LOGDIR (kept).

set -u

dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ $# -lt 1 ]; then
	echo "usage: $0 BUILD_DIR [t_name ...]" >&2
	exit 2
fi
build=$1
shift
if [ ! -d "$build" ]; then
	echo "$0: build directory '$build' does not exist" >&2
	exit 2
fi
build=$(cd "$build" && pwd)
logdir=${E2E_LOGDIR:-$(mktemp -d "${TMPDIR:-/tmp}/v6rep-e2e-logs.XXXXXX")}
mkdir -p "$logdir"
limit=${E2E_TIMEOUT:-600}

scripts=()
if [ $# -gt 0 ]; then
	for n in "$@"; do scripts+=("$dir/${n%.sh}.sh"); done
else
	for f in "$dir"/t_*.sh; do [ -e "$f" ] && scripts+=("$f"); done
fi

passed=0
failed=0
for f in "${scripts[@]}"; do
	name=$(basename "$f" .sh)
	log=$logdir/$name.log
	timeout --kill-after=15 "$limit" bash "$f" "$build" >"$log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ]; then
		echo "PASS $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name"
		[ "$rc" -eq 124 ] && echo "  (timed out after ${limit}s)"
		grep -E '^FAIL - ' "$log" | head -n 40 | sed 's/^/  /'
		echo "  ---- last lines of $log ----"
		tail -n 15 "$log" | sed 's/^/  /'
		failed=$((failed + 1))
	fi
done
echo "# logs in $logdir"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
