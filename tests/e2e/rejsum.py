#!/usr/bin/env python3
# rejsum.py DB [NAME]: prints ingest's running total NAME (default "rejections") from the
# store (aux record "count\0NAME": u64 little-endian), read with mdb_dump (lmdb-utils). The total
# commits in the same transaction as the input read positions, so it equals the number of lines
# in the inputs exactly when nothing was lost or counted twice across restarts.
import subprocess, sys
name = sys.argv[2] if len(sys.argv) > 2 else 'rejections'
want = (b'count\0' + name.encode()).hex()
out = subprocess.run(['mdb_dump', '-s', 'aux', sys.argv[1]], capture_output=True, text=True, check=True).stdout
lines = [l.strip() for l in out.splitlines()]
body = lines[lines.index('HEADER=END') + 1:]
total = 0
for key, val in zip(body[0::2], body[1::2]):
    if key == want:
        total = int.from_bytes(bytes.fromhex(val)[:8], 'little')
print(total)
