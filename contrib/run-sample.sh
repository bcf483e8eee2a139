#!/usr/bin/env bash
# run-sample.sh: the main job on the embedded default (called by `make run`): imports the sample
# listings into the project's own store (data/db) and serves them on 127.0.0.1:5353 and [::1]:5353.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
DB=data/db
ZONE=v6bl.test
PORT=${PORT:-5353}

mkdir -p data
"$BUILD/v6rep" --db "$DB" import --replace contrib/sample/listings.txt
cat <<MSG

v6repd is starting on 127.0.0.1:$PORT and [::1]:$PORT for zone $ZONE (store: $DB). Try, in another shell:

  dig @127.0.0.1 -p $PORT +norec 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2.$ZONE A    # 2001:db8:bad::1 listed: 127.0.0.2
  dig @127.0.0.1 -p $PORT +norec 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.a.b.0.8.b.d.0.1.0.0.2.$ZONE TXT  # its reason
  dig @::1 -p $PORT +norec 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.5.2.0.0.d.a.b.0.8.b.d.0.1.0.0.2.$ZONE A # 2001:db8:bad:25::1 allowed: NXDOMAIN
  dig @127.0.0.1 -p $PORT +norec 1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.f.e.e.b.8.b.d.0.1.0.0.2.$ZONE A # 2001:db8:beef::1 not listed: NXDOMAIN
  dig @127.0.0.1 -p $PORT +norec 5.2.0.192.$ZONE A                                                  # 192.0.2.5 listed
  $BUILD/v6rep --db $DB add 2001:db8:beef::/48 --reason "added by hand"                            # then the dig above answers at once
  $BUILD/v6rep --db $DB lookup 2001:db8:bad:25::99

Stop it with Ctrl-C.
MSG
exec "$BUILD/v6repd" --db "$DB" --zone "$ZONE" --listen "127.0.0.1:$PORT" --listen "[::1]:$PORT" --threads 2
