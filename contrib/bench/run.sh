#!/usr/bin/env bash
# run.sh: benchmark v6repd against rbldnsd and NSD on the same listings (see README.md here).
#
#   contrib/bench/run.sh [--small] [--rounds N] [--out DIR] [--build DIR] [-- BENCH_PY_OPTIONS]
#
# Installs dnsperf, rbldnsd and nsd from Debian when missing (without letting Debian start their
# daemons), builds v6repd and v6rep when needed, then runs bench.py, which does the work and
# writes DIR/results.md, DIR/runs.csv and DIR/results.json. Every server it starts is stopped at
# the end, also on Ctrl-C or an error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
out=/tmp/v6rep-bench
build=
small=0
rounds=
extra=()
cmdline="contrib/bench/run.sh $*"

usage() {
	sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--small) small=1 ;;
	--rounds) rounds=${2:?--rounds needs a number}; shift ;;
	--rounds=*) rounds=${1#*=} ;;
	--out) out=${2:?--out needs a directory}; shift ;;
	--out=*) out=${1#*=} ;;
	--build) build=${2:?--build needs a directory}; shift ;;
	--build=*) build=${1#*=} ;;
	-h|--help) usage 0 ;;
	--) shift; extra=("$@"); break ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage 2 >&2 ;;
	esac
	shift
done
case "${rounds:-5}" in
''|*[!0-9]*) echo "run.sh: --rounds wants a number, not '$rounds'" >&2; exit 2 ;;
esac

# ---- packages: dnsperf, rbldnsd, nsd (and taskset, python3) ----
need=()
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v rbldnsd >/dev/null || need+=(rbldnsd)
command -v nsd >/dev/null || need+=(nsd)
command -v taskset >/dev/null || need+=(util-linux)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "run.sh: missing ${need[*]}; run as root or install them" >&2
		exit 1
	fi
	made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		# Debian's invoke-rc.d asks this script first; 101 = "do not start any service".
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	echo "run.sh: installing ${need[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	timeout 900 apt-get update -qq
	timeout 1800 apt-get install -y -qq --no-install-recommends "${need[@]}"
	if [ "$made_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: note: not root: cold-start runs (drop_caches) and perf may be skipped" >&2
fi

# ---- binaries ----
if [ -z "$build" ]; then
	build=$top/build
	echo "run.sh: make build/v6repd build/v6rep" >&2
	make -C "$top" -s build/v6repd build/v6rep
fi
for b in v6repd v6rep; do
	if [ ! -x "$build/$b" ]; then
		echo "run.sh: $build/$b is missing (build it with make)" >&2
		exit 1
	fi
done

mkdir -p "$out"
out=$(cd "$out" && pwd)

# ---- clean-up: the driver stops its servers itself; this catches a driver that died hard ----
driver=
cleanup() {
	local rc=$?
	if [ -n "$driver" ] && kill -0 "$driver" 2>/dev/null; then
		kill -TERM "$driver" 2>/dev/null || true
		for _ in $(seq 1 50); do kill -0 "$driver" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$driver" 2>/dev/null || true
	fi
	if [ -f "$out/pids" ]; then
		while read -r pid; do
			if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
		done < "$out/pids"
		sleep 1
		while read -r pid; do
			if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi
		done < "$out/pids"
		rm -f "$out/pids"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

args=(--out "$out" --build "$build" --cmdline "$cmdline")
if [ "$small" = 1 ]; then
	args+=(--sets "s20k:20000,s100k:100000" --queries 60000 --rounds "${rounds:-2}" --duration 3
	       --warmup 1 --add-tries 5 --cold-starts 1)
else
	args+=(--rounds "${rounds:-5}")
fi
python3 "$here/bench.py" "${args[@]}" "${extra[@]}" &
driver=$!
wait "$driver"
