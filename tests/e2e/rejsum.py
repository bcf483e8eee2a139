#!/usr/bin/env python3
# rejsum.py DB: sums the rejection counts of ingest's persisted reject index (aux "rej" records,
# as_rej_rec: u64 last_us, u32 count, ...), read with mdb_dump (lmdb-utils), to check that every
# log line was counted exactly once across restarts.
import subprocess, sys
out = subprocess.run(['mdb_dump', '-s', 'aux', sys.argv[1]], capture_output=True, text=True, check=True).stdout
lines = [l.strip() for l in out.splitlines()]
body = lines[lines.index('HEADER=END') + 1:]
total = 0
for key, val in zip(body[0::2], body[1::2]):
    if key.startswith('72656a00'):                      # "rej\0"
        total += int.from_bytes(bytes.fromhex(val)[8:12], 'little')
print(total)
