/* store.h: the LMDB store of listings and exclusions, with longest-prefix match and a serial. */
#ifndef V6R_STORE_H
#define V6R_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/*
 * Layout: one LMDB environment (a directory) with named databases
 *   "listings"   key = 16 address bytes + 1 length byte (17 bytes), value = store_entry record
 *   "exclusions" same key, same record (code 0): prefixes that are never listed
 *   "meta"       "version" u32, "serial" u32, "lens" 2 x 129 u32 counts of entries per prefix
 *                length (listings, then exclusions), "created" u64; all little-endian
 *   "evidence"   key as listings, value = opaque evidence bytes (zone/evid.h)
 *   "aux"        namespaced ingest state (cursors, reject index); "journal" reserved for IXFR
 * Keys sort by address bytes, then length, which makes "anything at or below P" one range probe
 * and lets the longest-prefix match jump between the prefix lengths in use.
 *
 * Record (little-endian): u8 version=1, u8 origin, u16 flags=0, 4 code bytes (a.b.c.d), u64
 * created, u64 updated, u64 expires (0 = never), then the reason bytes (no NUL), at most
 * STORE_REASON_MAX of them.
 */

#define STORE_REASON_MAX 1024u
#define STORE_DEFAULT_MAPSIZE ((size_t)1 << 30)       /* 1 GiB, grown by doubling when full */
#define STORE_MAX_MAPSIZE ((size_t)1 << 40)

typedef enum store_kind {
	STORE_LISTING = 1,
	STORE_EXCLUSION = 2,
} store_kind;

typedef enum store_origin {
	STORE_ORIGIN_OPERATOR = 0,
	STORE_ORIGIN_SENSOR = 1,
	STORE_ORIGIN_AGGREGATE = 2,
} store_origin;

/* Returns "operator", "sensor", "aggregate" or "unknown". */
const char *store_origin_name(unsigned origin);

typedef struct store_entry {
	addr_pfx pfx;
	store_kind kind;
	uint8_t origin;        /* store_origin */
	uint8_t code[4];       /* A record data, 127.0.0.0/8; zero for exclusions */
	uint64_t created;      /* unix seconds */
	uint64_t updated;
	uint64_t expires;      /* unix seconds, 0 = never; expired entries are ignored by lookups */
	const char *reason;    /* not NUL-terminated; borrowed (see the functions) */
	size_t reason_len;
} store_entry;

typedef struct store store;

/* Flags for store_open. */
#define STORE_RDONLY 0x1u   /* open for reading only (no create, no writes) */
#define STORE_NOSYNC 0x2u   /* no fsync at commit: scratch stores only (a crash may lose commits) */

/*
 * Opens (creating the directory and databases unless STORE_RDONLY) the store in directory dir.
 * mapsize 0 means STORE_DEFAULT_MAPSIZE, or the size the store already has when larger. Runs
 * mdb_reader_check to clear stale readers. Returns 0, V6R_ENOMEM, V6R_EIO (directory), V6R_ESTORE
 * or V6R_EVERSION; on failure *out is NULL and store_open_error() holds the reason text.
 */
int store_open(store **out, const char *dir, unsigned flags, size_t mapsize);
const char *store_open_error(void);  /* thread-local text of the last store_open failure */
void store_close(store *st);

/* Text of the last LMDB failure seen through st (for messages); "" when none. */
const char *store_lasterr(const store *st);

/* Serial of the last committed state, read in a fresh transaction. */
int store_serial(store *st, uint32_t *serial);

/* ---- Readers: one per thread, recycled with begin/end around each query. ---- */

typedef struct store_reader store_reader;

int store_reader_new(store *st, store_reader **out);
void store_reader_free(store_reader *r);

/*
 * Starts reading the newest committed snapshot (mdb_txn_renew; handles MDB_MAP_RESIZED). Meta
 * (serial, lengths in use) is re-read only when the snapshot changed. Entries returned between
 * begin and end borrow their reason from the snapshot and are invalid after end.
 */
int store_reader_begin(store_reader *r);
void store_reader_end(store_reader *r);
uint32_t store_reader_serial(const store_reader *r);

/*
 * Longest-prefix match of address a over listings and exclusions together, considering only
 * entries whose length is in [minlen, maxlen] and that have not expired at `now`. On a match
 * fills *e (e->kind says listing or exclusion) and returns 0; returns V6R_ENOTFOUND when no
 * entry covers a, or V6R_ESTORE / V6R_ECORRUPT. Allocates nothing; cost is bounded by the
 * number of prefix lengths in use, not by the number of entries.
 */
int store_lpm(store_reader *r, const uint8_t a[16], unsigned minlen, unsigned maxlen,
              uint64_t now, store_entry *e);

/*
 * Whether an unexpired listing (not an exclusion) lies at or below prefix p: a listing of length
 * >= p->len inside p. Returns 1, 0 or a negative error. One range probe (expired listings in
 * the range are skipped).
 */
int store_listed_below(store_reader *r, const addr_pfx *p, uint64_t now);

/* ---- Writers: short transactions under LMDB's single writer lock. ---- */

typedef struct store_txn store_txn;

/*
 * Runs fn(txn, arg) in one write transaction and commits it when fn returns 0; when fn returns
 * non-zero the transaction is aborted and that value returned. When the map fills up (in fn or
 * at commit) the whole batch is aborted, the map doubled (up to STORE_MAX_MAPSIZE) and fn is run
 * again from the start, so fn must be restartable (it is given a fresh transaction). A commit
 * that changed anything increases the serial. Returns 0, fn's error, V6R_EMAPFULL or V6R_ESTORE.
 * Nothing of a failed batch is ever visible.
 */
typedef int (*store_write_fn)(store_txn *txn, void *arg);
int store_write(store *st, store_write_fn fn, void *arg);

/*
 * Inserts or replaces the entry for e->pfx (of e->kind); the same prefix of the other kind is
 * removed, since a prefix is either listed or excluded. The reason is copied. Returns 0,
 * V6R_ECODE (listing code outside 127/8), V6R_ERANGE (reason too long), V6R_EMAPFULL, V6R_ESTORE.
 */
int store_put(store_txn *t, const store_entry *e);

/* Looks up the exact prefix p in either database (reason borrowed until the txn ends). */
int store_get(store_txn *t, const addr_pfx *p, store_entry *e);

/* Removes the exact prefix p (listing or exclusion). Returns 0 or V6R_ENOTFOUND. */
int store_del(store_txn *t, const addr_pfx *p);

/*
 * Visits every entry of `kind` (0 = listings then exclusions) in key order inside the
 * transaction; entries are borrowed for the call only. fn returning non-zero stops the walk
 * and is returned. Deleting from inside fn is not allowed.
 */
typedef int (*store_iter_fn)(const store_entry *e, void *arg);
int store_txn_foreach(store_txn *t, unsigned kind, store_iter_fn fn, void *arg);

/* Removes every entry whose expiry is <= now; *removed gets the count. */
int store_purge_expired(store_txn *t, uint64_t now, size_t *removed);

/* Removes all listings and exclusions (for import --replace). */
int store_clear(store_txn *t);

/*
 * Evidence of an entry: opaque bytes (zone/evid.h encodes them) keyed by prefix, at most
 * STORE_EVIDENCE_MAX. len 0 deletes. Writing evidence commits the batch but does not change the
 * serial, since answers do not depend on it. get borrows until the transaction ends.
 */
#define STORE_EVIDENCE_MAX 4096u
int store_evidence_put(store_txn *t, const addr_pfx *p, const void *data, size_t len);
int store_evidence_get(store_txn *t, const addr_pfx *p, const void **data, size_t *len);
/* Copies the evidence of p into buf in a read transaction of its own. */
int store_evidence_read(store *st, const addr_pfx *p, void *buf, size_t cap, size_t *len);

/*
 * Auxiliary data of the programs that write the store (ingest's input cursors and reject index):
 * values under a namespace and key, outside the zone (no serial change). vlen 0 deletes. The
 * foreach walk visits one namespace in key order; fn gets the key without the namespace.
 */
#define STORE_AUX_KEY_MAX 480u
int store_aux_put(store_txn *t, const char *ns, const void *key, size_t klen, const void *val,
                  size_t vlen);
int store_aux_get(store_txn *t, const char *ns, const void *key, size_t klen, const void **val,
                  size_t *vlen);
typedef int (*store_aux_fn)(const uint8_t *key, size_t klen, const void *val, size_t vlen,
                            void *arg);
int store_aux_foreach(store_txn *t, const char *ns, store_aux_fn fn, void *arg);

/*
 * Longest unexpired entry of one kind (STORE_LISTING or STORE_EXCLUSION) covering a with length
 * in [minlen, maxlen], inside a write transaction (sees its own uncommitted changes). Returns 0,
 * V6R_ENOTFOUND or an error. Ingest uses it to keep out of excluded prefixes.
 */
int store_txn_lpm(store_txn *t, const uint8_t a[16], unsigned minlen, unsigned maxlen,
                  unsigned kind, uint64_t now, store_entry *e);

/* Visits the entries of one kind at or below prefix p, in key order (one range walk). */
int store_txn_walk_within(store_txn *t, unsigned kind, const addr_pfx *p, store_iter_fn fn,
                          void *arg);

/* Serial that this transaction will commit with (the current one + change). */
uint32_t store_txn_serial(const store_txn *t);

/* ---- Journal (IXFR, server/xfr.c) ---- */

/*
 * Every committed change of listings and exclusions is recorded in the same write transaction
 * as entry-level changes per serial in the "journal" database: (serial, prefix, old entry or
 * none, new entry or none), from store_put, store_del and store_purge_expired. The journal keeps
 * at most `limit` entries (change records plus one header per commit): each commit drops the
 * oldest commits beyond it. A commit with more changes than the limit, and store_clear, empty
 * the journal instead (IXFR from before such a commit is answered by a full zone). Evidence and
 * aux writes are not journaled (they do not change the serial).
 *
 * Layout: key = u64 commit sequence (big-endian) + u32 index (big-endian); index 0 is the
 * commit header: u8 version=1, 3 zero bytes, u32 serial before, u32 serial after, u32 change
 * count, u64 commit time (little-endian); index 1..n the changes: u8 version=1, u8 old kind,
 * u8 new kind (0 none, 1 listing, 2 exclusion), u8 0, 17 key bytes, u16 old length, u16 new
 * length, the old record, the new record (record layout as in "listings").
 */
#define STORE_JOURNAL_DEFAULT 100000u

/* Sets the journal bound for the writes made through st (default STORE_JOURNAL_DEFAULT). */
void store_set_journal_limit(store *st, uint32_t entries);

typedef struct store_change {
	uint32_t serial;           /* the serial the commit of this change produced */
	addr_pfx pfx;
	const store_entry *old;    /* NULL: the prefix had no entry before */
	const store_entry *cur;    /* NULL: the change removed it */
} store_change;

typedef int (*store_change_fn)(const store_change *c, void *arg);

/*
 * Visits, in commit order, every change committed after serial `from` up to the reader's
 * snapshot (which it must be inside). Returns 0; V6R_ENOTFOUND when the journal does not
 * reach back to `from` without a gap (or from is the current serial: nothing to visit is not
 * an error then, it returns 0); fn's non-zero value; V6R_ECORRUPT or V6R_ESTORE. Entries are
 * borrowed until store_reader_end.
 */
int store_journal_since(store_reader *r, uint32_t from, store_change_fn fn, void *arg);

/* Journal entries (headers and changes) in the reader's snapshot, for statistics and tests. */
int store_journal_count(store_reader *r, uint64_t *entries);

/*
 * Visits the entries of one kind at or below prefix p in the reader's snapshot, in key order
 * (one range walk). Entries are borrowed for the call only.
 */
int store_reader_walk_within(store_reader *r, unsigned kind, const addr_pfx *p,
                             store_iter_fn fn, void *arg);

/* ---- Read-only walks and statistics (each in its own read transaction). ---- */

/* Same as store_txn_foreach, in a read transaction. */
int store_foreach(store *st, unsigned kind, store_iter_fn fn, void *arg);

typedef struct store_stats {
	uint32_t serial;
	uint64_t listings, exclusions;
	uint32_t by_len[2][129];     /* [0] listings, [1] exclusions, per prefix length */
	uint64_t by_origin[3];       /* listings per store_origin */
	uint64_t expired;            /* listings whose expiry has passed (still stored) */
	uint64_t map_size, used_bytes;
} store_stats;

int store_get_stats(store *st, uint64_t now, store_stats *s);

#endif
