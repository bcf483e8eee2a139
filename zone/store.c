/* store.c: the LMDB store of listings and exclusions, with longest-prefix match and a serial. */
#include "store.h"

#include <errno.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"

#define STORE_VERSION 1u
#define KEY_LEN 17u
#define REC_HDR 32u            /* record bytes before the reason */
#define LENS_N 129u
#define LENS_BYTES (2u * LENS_N * 4u)
#define MAX_ROUNDS 64          /* map adoptions and doublings one store_write may do */
#define MAX_ADOPT 4            /* MDB_MAP_RESIZED retries for one read transaction */
#define HOLD_SLOTS 8           /* stores one thread may have transactions open in at once */

enum { DB_LISTINGS, DB_EXCLUSIONS, DB_META, DB_EVIDENCE, DB_JOURNAL, DB_AUX, DB_COUNT };

static const char *const db_names[DB_COUNT] = {
	"listings", "exclusions", "meta", "evidence", "journal", "aux",
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	unsigned flags;
	/*
	 * Remapping (mdb_env_set_mapsize) is only safe while no transaction of this process is
	 * active, so every transaction holds this lock shared and a remap takes it exclusively.
	 * It is writer-preferring, which is why nested holds by one thread are counted (tl_hold)
	 * instead of locked twice.
	 */
	pthread_rwlock_t maplock;
	pthread_mutex_t errlock;
	char lasterr[256];
	uint32_t jlimit;           /* journal entries kept (store_set_journal_limit) */
};

struct store_reader {
	store *st;
	MDB_txn *txn;              /* reset between queries, renewed by begin */
	MDB_cursor *cur[2];        /* listings, exclusions; renewed with the txn */
	bool active;
	bool cached;               /* serial and inuse belong to snapshot `snap` */
	size_t snap;
	uint32_t serial;
	uint64_t inuse[2][3];      /* bit L set: some entry of length L exists (per kind) */
};

struct store_txn {
	store *st;
	MDB_txn *txn;
	uint32_t lens[2][LENS_N];
	uint32_t serial_old, serial_next;
	uint64_t jseq;             /* journal sequence of this commit, 0 until first needed */
	uint32_t jcount;           /* changes journaled so far */
	bool jreset;               /* too many changes: empty the journal at commit instead */
	bool dirty;                /* something changed: commit and bump the serial */
	bool aux_dirty;            /* evidence or aux data changed: commit, serial unchanged */
	bool mapfull;              /* an operation hit MDB_MAP_FULL: grow and rerun */
};

/* ---- Errors ---- */

static __thread char open_err[512];

const char *store_open_error(void)
{
	return open_err;
}

static void set_err(store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(store *st, const char *fmt, ...)
{
	va_list ap;
	pthread_mutex_lock(&st->errlock);
	va_start(ap, fmt);
	vsnprintf(st->lasterr, sizeof(st->lasterr), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&st->errlock);
}

const char *store_lasterr(const store *st)
{
	return st ? st->lasterr : "";
}

/* Converts an LMDB (or errno) code, keeping its text in lasterr. */
static int mdb_fail(store *st, int mrc, const char *what)
{
	set_err(st, "failed to %s (%s)", what, mdb_strerror(mrc));
	if (mrc == MDB_MAP_FULL)
		return V6R_EMAPFULL;
	if (mrc == ENOMEM)
		return V6R_ENOMEM;
	return V6R_ESTORE;
}

/* Same inside a write transaction: a full map marks the batch for a rerun with a bigger map. */
static int txn_fail(store_txn *t, int mrc, const char *what)
{
	if (mrc == MDB_MAP_FULL)
		t->mapfull = true;
	return mdb_fail(t->st, mrc, what);
}

const char *store_origin_name(unsigned origin)
{
	switch (origin) {
	case STORE_ORIGIN_OPERATOR:  return "operator";
	case STORE_ORIGIN_SENSOR:    return "sensor";
	case STORE_ORIGIN_AGGREGATE: return "aggregate";
	default:                     return "unknown";
	}
}

/* ---- Little-endian fields, keys and records ---- */

static void put_le(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void key_encode(const addr_pfx *p, uint8_t key[KEY_LEN])
{
	memcpy(key, p->a, 16);
	key[16] = p->len;
}

static int key_decode(const MDB_val *k, addr_pfx *p)
{
	if (k->mv_size != KEY_LEN || ((const uint8_t *)k->mv_data)[16] > 128)
		return V6R_ECORRUPT;
	memcpy(p->a, k->mv_data, 16);
	p->len = ((const uint8_t *)k->mv_data)[16];
	return 0;
}

/* Writes the record of e into buf (REC_HDR + STORE_REASON_MAX bytes); returns its size. */
static size_t rec_encode(const store_entry *e, uint8_t *buf)
{
	buf[0] = STORE_VERSION;
	buf[1] = e->origin;
	put_le(buf + 2, 0, 2);
	if (e->kind == STORE_LISTING)
		memcpy(buf + 4, e->code, 4);
	else
		memset(buf + 4, 0, 4);
	put_le(buf + 8, e->created, 8);
	put_le(buf + 16, e->updated, 8);
	put_le(buf + 24, e->expires, 8);
	if (e->reason_len)
		memcpy(buf + REC_HDR, e->reason, e->reason_len);
	return REC_HDR + e->reason_len;
}

/* Fills e from a stored record (the reason is borrowed from v). */
static int rec_decode(const MDB_val *v, store_kind kind, store_entry *e)
{
	const uint8_t *b = v->mv_data;
	if (v->mv_size < REC_HDR || v->mv_size > REC_HDR + STORE_REASON_MAX || b[0] != STORE_VERSION)
		return V6R_ECORRUPT;
	e->kind = kind;
	e->origin = b[1];
	memcpy(e->code, b + 4, 4);
	e->created = get_le(b + 8, 8);
	e->updated = get_le(b + 16, 8);
	e->expires = get_le(b + 24, 8);
	e->reason = (const char *)b + REC_HDR;
	e->reason_len = v->mv_size - REC_HDR;
	return 0;
}

static int entry_decode(const MDB_val *k, const MDB_val *v, store_kind kind, store_entry *e)
{
	int rc = key_decode(k, &e->pfx);
	return rc ? rc : rec_decode(v, kind, e);
}

static bool live(uint64_t expires, uint64_t now)
{
	return expires == 0 || expires > now;
}

static store_kind kind_of(unsigned k)
{
	return k == 0 ? STORE_LISTING : STORE_EXCLUSION;
}

/* RFC 1982: old+1, or the clock when it is ahead, so a serial also tracks time. */
static uint32_t serial_next(uint32_t old, uint64_t now)
{
	uint32_t inc = old + 1, clock = (uint32_t)now;
	return (int32_t)(clock - inc) > 0 ? clock : inc;
}

/* ---- Map lock: shared by transactions, exclusive for remapping ---- */

struct hold {
	const store *st;
	unsigned depth;
};

static __thread struct hold tl_hold[HOLD_SLOTS];

static struct hold *hold_find(const store *st)
{
	for (unsigned i = 0; i < HOLD_SLOTS; i++)
		if (tl_hold[i].st == st)
			return &tl_hold[i];
	return NULL;
}

static int map_enter(store *st)
{
	struct hold *h = hold_find(st);
	if (h) {
		h->depth++;
		return 0;
	}
	h = hold_find(NULL);
	if (!h) {
		set_err(st, "failed to begin transaction (too many stores open in one thread)");
		return V6R_ELOCKED;
	}
	if (pthread_rwlock_rdlock(&st->maplock) != 0) {
		set_err(st, "failed to begin transaction (map lock)");
		return V6R_ELOCKED;
	}
	h->st = st;
	h->depth = 1;
	return 0;
}

static void map_leave(store *st)
{
	struct hold *h = hold_find(st);
	if (!h || --h->depth > 0)
		return;
	h->st = NULL;
	pthread_rwlock_unlock(&st->maplock);
}

/*
 * Remaps the environment: size 0 adopts the size another process gave the map; grow doubles
 * it (or adopts a larger size), up to STORE_MAX_MAPSIZE. The calling thread must not be inside
 * a transaction of st, or the remap would pull the map from under it.
 */
static int map_resize(store *st, bool grow)
{
	if (hold_find(st)) {
		set_err(st, "failed to resize store map (a transaction is open in this thread)");
		return grow ? V6R_EMAPFULL : V6R_ESTORE;
	}
	MDB_envinfo info;
	pthread_rwlock_wrlock(&st->maplock);
	mdb_env_info(st->env, &info);
	size_t cur = info.me_mapsize;
	int mrc = mdb_env_set_mapsize(st->env, 0);
	if (mrc == 0 && grow) {
		mdb_env_info(st->env, &info);
		size_t want = cur >= STORE_MAX_MAPSIZE / 2 ? STORE_MAX_MAPSIZE : 2 * cur;
		if (info.me_mapsize > want)
			want = info.me_mapsize;
		if (want <= cur)
			mrc = MDB_MAP_FULL;
		else
			mrc = mdb_env_set_mapsize(st->env, want);
	}
	pthread_rwlock_unlock(&st->maplock);
	return mrc ? mdb_fail(st, mrc, "resize store map") : 0;
}

/* A read transaction of its own (map lock held until ro_end). */
static int ro_begin(store *st, MDB_txn **txn)
{
	for (int tries = 0;; tries++) {
		int rc = map_enter(st);
		if (rc)
			return rc;
		int mrc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn);
		if (mrc == 0)
			return 0;
		map_leave(st);
		if (mrc != MDB_MAP_RESIZED || tries >= MAX_ADOPT)
			return mdb_fail(st, mrc, "begin read transaction");
		rc = map_resize(st, false);
		if (rc)
			return rc;
	}
}

static void ro_end(store *st, MDB_txn *txn)
{
	mdb_txn_abort(txn);
	map_leave(st);
}

/* ---- Meta ---- */

static int meta_get(store *st, MDB_txn *txn, const char *name, MDB_val *v)
{
	MDB_val k = { strlen(name), (void *)name };
	int mrc = mdb_get(txn, st->dbi[DB_META], &k, v);
	if (mrc == MDB_NOTFOUND) {
		set_err(st, "failed to read store meta \"%s\" (missing)", name);
		return V6R_ECORRUPT;
	}
	return mrc ? mdb_fail(st, mrc, "read store meta") : 0;
}

static int meta_u32(store *st, MDB_txn *txn, const char *name, uint32_t *out)
{
	MDB_val v;
	int rc = meta_get(st, txn, name, &v);
	if (rc)
		return rc;
	if (v.mv_size != 4) {
		set_err(st, "failed to read store meta \"%s\" (size %zu)", name, v.mv_size);
		return V6R_ECORRUPT;
	}
	*out = (uint32_t)get_le(v.mv_data, 4);
	return 0;
}

static int meta_lens(store *st, MDB_txn *txn, uint32_t lens[2][LENS_N])
{
	MDB_val v;
	int rc = meta_get(st, txn, "lens", &v);
	if (rc)
		return rc;
	if (v.mv_size != LENS_BYTES) {
		set_err(st, "failed to read store meta \"lens\" (size %zu)", v.mv_size);
		return V6R_ECORRUPT;
	}
	for (unsigned i = 0; i < 2 * LENS_N; i++)
		lens[i / LENS_N][i % LENS_N] = (uint32_t)get_le((const uint8_t *)v.mv_data + 4 * i, 4);
	return 0;
}

static int meta_put(store *st, MDB_txn *txn, const char *name, const void *data, size_t n)
{
	MDB_val k = { strlen(name), (void *)name }, v = { n, (void *)data };
	return mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
}

static int meta_put_lens(store *st, MDB_txn *txn, uint32_t lens[2][LENS_N])
{
	uint8_t buf[LENS_BYTES];
	for (unsigned i = 0; i < 2 * LENS_N; i++)
		put_le(buf + 4 * i, lens[i / LENS_N][i % LENS_N], 4);
	return meta_put(st, txn, "lens", buf, sizeof(buf));
}

int store_serial(store *st, uint32_t *serial)
{
	MDB_txn *txn;
	int rc = ro_begin(st, &txn);
	if (rc)
		return rc;
	rc = meta_u32(st, txn, "serial", serial);
	ro_end(st, txn);
	return rc;
}

/* ---- Open and close ---- */

static int open_fail(int rc, const char *dir, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int open_fail(int rc, const char *dir, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(open_err, sizeof(open_err), "failed to open store %s (%s)", dir, why);
	return rc;
}

/* mkdir -p with mode 0750. */
static int make_dirs(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(path))
		return open_fail(V6R_EIO, dir, "bad directory name");
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0750) != 0 && errno != EEXIST)
			return open_fail(V6R_EIO, dir, "mkdir %s: %s", path, strerror(errno));
		path[i] = c;
	}
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return open_fail(V6R_EIO, dir, "not a directory");
	return 0;
}

static bool data_file_exists(const char *dir)
{
	char path[4096];
	struct stat sb;
	if (snprintf(path, sizeof(path), "%s/data.mdb", dir) >= (int)sizeof(path))
		return false;
	return stat(path, &sb) == 0;
}

static int env_fail(int mrc, const char *dir, const char *what)
{
	int rc = V6R_ESTORE;
	if (mrc == ENOMEM)
		rc = V6R_ENOMEM;
	else if (mrc == MDB_MAP_FULL)
		rc = V6R_EMAPFULL;
	else if (mrc == MDB_VERSION_MISMATCH)
		rc = V6R_EVERSION;
	else if (mrc > 0)
		rc = V6R_EIO;  /* errno from the directory or the files */
	return open_fail(rc, dir, "%s: %s", what, mdb_strerror(mrc));
}

/*
 * Creates and opens the environment. A new map gets the requested size; an existing one keeps
 * the size it has when that is larger (LMDB adopts it when none is set before opening).
 */
static int env_open(store *st, const char *dir, size_t mapsize)
{
	bool fresh = !data_file_exists(dir);
	size_t want = mapsize ? mapsize : STORE_DEFAULT_MAPSIZE;
	if (want > STORE_MAX_MAPSIZE)
		want = STORE_MAX_MAPSIZE;
	int mrc = mdb_env_create(&st->env);
	if (mrc)
		return env_fail(mrc, dir, "create environment");
	mdb_env_set_maxdbs(st->env, 8);
	mdb_env_set_maxreaders(st->env, 256);
	if (fresh)
		mdb_env_set_mapsize(st->env, want);
	unsigned fl = MDB_NOTLS | ((st->flags & STORE_RDONLY) ? MDB_RDONLY : 0) |
	              ((st->flags & STORE_NOSYNC) ? MDB_NOSYNC | MDB_NOMETASYNC : 0);
	mrc = mdb_env_open(st->env, dir, fl, 0640);
	if (mrc)
		return env_fail(mrc, dir, "open environment");
	int dead = 0;
	mdb_reader_check(st->env, &dead);
	MDB_envinfo info;
	mdb_env_info(st->env, &info);
	if (info.me_mapsize < want && (mrc = mdb_env_set_mapsize(st->env, want)) != 0)
		return env_fail(mrc, dir, "set map size");
	return 0;
}

/* Checks the version of an existing store, or lays out a new one. */
static int meta_init(store *st, MDB_txn *txn, const char *dir, bool *created)
{
	MDB_val k = { 7, "version" }, v;
	int mrc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	*created = false;
	if (mrc == 0) {
		if (v.mv_size != 4 || get_le(v.mv_data, 4) != STORE_VERSION)
			return open_fail(V6R_EVERSION, dir, "store version is not %u", STORE_VERSION);
		return 0;
	}
	if (mrc != MDB_NOTFOUND)
		return env_fail(mrc, dir, "read meta");
	if (st->flags & STORE_RDONLY)
		return open_fail(V6R_ESTORE, dir, "not initialised");
	uint64_t now = (uint64_t)time(NULL);
	uint8_t ver[4], serial[4], created_at[8];
	uint32_t lens[2][LENS_N] = { { 0 } };
	put_le(ver, STORE_VERSION, 4);
	put_le(serial, (uint32_t)now, 4);  /* a recreated store outranks the old one */
	put_le(created_at, now, 8);
	if ((mrc = meta_put(st, txn, "version", ver, 4)) != 0 ||
	    (mrc = meta_put(st, txn, "serial", serial, 4)) != 0 ||
	    (mrc = meta_put(st, txn, "created", created_at, 8)) != 0 ||
	    (mrc = meta_put_lens(st, txn, lens)) != 0)
		return env_fail(mrc, dir, "write meta");
	*created = true;
	return 0;
}

/* Opens (creating unless read-only) the named databases and checks or writes meta. */
static int db_open_once(store *st, const char *dir)
{
	bool ro = st->flags & STORE_RDONLY, created;
	MDB_txn *txn;
	int mrc = mdb_txn_begin(st->env, NULL, ro ? MDB_RDONLY : 0, &txn);
	if (mrc)
		return env_fail(mrc, dir, "begin transaction");
	for (unsigned i = 0; i < DB_COUNT; i++) {
		mrc = mdb_dbi_open(txn, db_names[i], ro ? 0 : MDB_CREATE, &st->dbi[i]);
		if (mrc) {
			mdb_txn_abort(txn);
			if (mrc == MDB_NOTFOUND)
				return open_fail(V6R_ESTORE, dir, "not initialised: no database %s",
				                 db_names[i]);
			return env_fail(mrc, dir, "open database");
		}
	}
	int rc = meta_init(st, txn, dir, &created);
	if (rc) {
		mdb_txn_abort(txn);
		return rc;
	}
	mrc = mdb_txn_commit(txn);  /* also keeps the DBI handles of a read transaction */
	return mrc ? env_fail(mrc, dir, "commit") : 0;
}

static int db_open(store *st, const char *dir)
{
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int rc = db_open_once(st, dir);
		if (rc != V6R_EMAPFULL)
			return rc;
		if (map_resize(st, true) != 0)
			return open_fail(V6R_EMAPFULL, dir, "%s", st->lasterr);
	}
	return open_fail(V6R_EMAPFULL, dir, "map full");
}

int store_open(store **out, const char *dir, unsigned flags, size_t mapsize)
{
	int rc;
	*out = NULL;
	open_err[0] = '\0';
	store *st = calloc(1, sizeof(*st));
	if (!st)
		return open_fail(V6R_ENOMEM, dir, "out of memory");
	st->flags = flags;
	st->jlimit = STORE_JOURNAL_DEFAULT;
	pthread_rwlockattr_t attr;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->maplock, &attr);
	pthread_rwlockattr_destroy(&attr);
	pthread_mutex_init(&st->errlock, NULL);
	if (!(flags & STORE_RDONLY) && (rc = make_dirs(dir)) != 0)
		goto fail;
	if ((rc = env_open(st, dir, mapsize)) != 0)
		goto fail;
	if ((rc = db_open(st, dir)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void store_close(store *st)
{
	if (!st)
		return;
	if (st->env)
		mdb_env_close(st->env);
	pthread_rwlock_destroy(&st->maplock);
	pthread_mutex_destroy(&st->errlock);
	free(st);
}

/* ---- Readers ---- */

int store_reader_new(store *st, store_reader **out)
{
	*out = NULL;
	store_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return V6R_ENOMEM;
	r->st = st;
	int rc = ro_begin(st, &r->txn);
	if (rc) {
		free(r);
		return rc;
	}
	int mrc = 0;
	for (unsigned k = 0; k < 2 && mrc == 0; k++)
		mrc = mdb_cursor_open(r->txn, st->dbi[DB_LISTINGS + k], &r->cur[k]);
	mdb_txn_reset(r->txn);
	map_leave(st);
	if (mrc) {
		rc = mdb_fail(st, mrc, "open cursor");
		store_reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void store_reader_free(store_reader *r)
{
	if (!r)
		return;
	if (r->active)
		store_reader_end(r);
	for (unsigned k = 0; k < 2; k++)
		if (r->cur[k])
			mdb_cursor_close(r->cur[k]);
	mdb_txn_abort(r->txn);
	free(r);
}

/* Reloads serial and lengths in use for the reader's new snapshot. */
static int reader_meta(store_reader *r)
{
	uint32_t lens[2][LENS_N];
	int rc = meta_u32(r->st, r->txn, "serial", &r->serial);
	if (rc == 0)
		rc = meta_lens(r->st, r->txn, lens);
	if (rc)
		return rc;
	memset(r->inuse, 0, sizeof(r->inuse));
	for (unsigned k = 0; k < 2; k++)
		for (unsigned l = 0; l < LENS_N; l++)
			if (lens[k][l])
				r->inuse[k][l / 64] |= (uint64_t)1 << (l % 64);
	r->snap = mdb_txn_id(r->txn);
	r->cached = true;
	return 0;
}

/*
 * Renews the reader's transaction, adopting a map that another process grew. The shared map
 * lock taken here is released by store_reader_end, so a reader begins and ends on one thread.
 */
static int reader_renew(store_reader *r)
{
	store *st = r->st;
	for (int tries = 0;; tries++) {
		int rc = map_enter(st);
		if (rc)
			return rc;
		int mrc = mdb_txn_renew(r->txn);
		if (mrc == 0)
			return 0;
		map_leave(st);
		if (mrc != MDB_MAP_RESIZED || tries >= MAX_ADOPT)
			return mdb_fail(st, mrc, "renew read transaction");
		rc = map_resize(st, false);
		if (rc)
			return rc;
	}
}

int store_reader_begin(store_reader *r)
{
	if (r->active)
		store_reader_end(r);
	int rc = reader_renew(r);
	if (rc)
		return rc;
	r->active = true;
	int mrc = 0;
	for (unsigned k = 0; k < 2 && mrc == 0; k++)
		mrc = mdb_cursor_renew(r->txn, r->cur[k]);
	if (mrc)
		rc = mdb_fail(r->st, mrc, "renew cursor");
	else if (!r->cached || mdb_txn_id(r->txn) != r->snap)
		rc = reader_meta(r);
	if (rc) {
		r->cached = false;
		store_reader_end(r);
	}
	return rc;
}

void store_reader_end(store_reader *r)
{
	if (!r->active)
		return;
	mdb_txn_reset(r->txn);
	r->active = false;
	map_leave(r->st);
}

uint32_t store_reader_serial(const store_reader *r)
{
	return r->serial;
}

/* ---- Longest-prefix match ---- */

/* The greatest length in [lo, hi] whose bit is set in b, or -1. */
static int len_highest(const uint64_t b[3], int lo, int hi)
{
	if (hi > 128)
		hi = 128;
	if (lo < 0)
		lo = 0;
	if (hi < lo)
		return -1;
	for (int w = hi / 64; w >= 0 && w * 64 + 63 >= lo; w--) {
		uint64_t m = b[w];
		if (w == hi / 64 && hi % 64 < 63)
			m &= ((uint64_t)2 << (hi % 64)) - 1;
		if (m) {
			int l = w * 64 + 63 - __builtin_clzll(m);
			return l >= lo ? l : -1;
		}
	}
	return -1;
}

/* Positions cur at the greatest key <= key; MDB_NOTFOUND when there is none. */
static int seek_le(MDB_cursor *cur, const uint8_t key[KEY_LEN], MDB_val *k, MDB_val *v)
{
	k->mv_size = KEY_LEN;
	k->mv_data = (void *)key;
	int mrc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (mrc == MDB_NOTFOUND)
		return mdb_cursor_get(cur, k, v, MDB_LAST);
	if (mrc == 0 && memcmp(k->mv_data, key, KEY_LEN) != 0)
		return mdb_cursor_get(cur, k, v, MDB_PREV);
	return mrc;
}

/*
 * Longest unexpired entry of kind k covering a with length in [minlen, maxlen]. With L the
 * longest length in use not yet ruled out, the greatest key E <= mask(a,L)||L is examined.
 * Every entry C covering a with length <= L sorts at or before E. If E covers a, every such C
 * contains E, so E is the longest of them: unexpired it is the answer, expired only lengths
 * below it remain. If E does not cover a, E differs from a at bit cpl(E,a) < L where a has a 1,
 * and any C longer than cpl(E,a) would sort after E: only lengths <= cpl(E,a) remain.
 */
static int lpm_kind(store_reader *r, unsigned k, const uint8_t a[16], unsigned minlen,
                    unsigned maxlen, uint64_t now, store_entry *e)
{
	uint8_t key[KEY_LEN];
	MDB_val kv, dv;
	int l = len_highest(r->inuse[k], (int)minlen, (int)maxlen);
	while (l >= 0) {
		memcpy(key, a, 16);
		addr_mask(key, (unsigned)l);
		key[16] = (uint8_t)l;
		int mrc = seek_le(r->cur[k], key, &kv, &dv);
		if (mrc == MDB_NOTFOUND)
			return V6R_ENOTFOUND;
		if (mrc)
			return mdb_fail(r->st, mrc, "search store");
		addr_pfx p;
		if (key_decode(&kv, &p))
			return V6R_ECORRUPT;
		int bound = (int)addr_cpl(p.a, a);
		if (bound >= p.len) {
			if (p.len < minlen)
				return V6R_ENOTFOUND;
			int rc = rec_decode(&dv, kind_of(k), e);
			if (rc)
				return rc;
			if (live(e->expires, now)) {
				e->pfx = p;
				return 0;
			}
			bound = p.len - 1;
		}
		l = len_highest(r->inuse[k], (int)minlen, bound < l ? bound : l - 1);
	}
	return V6R_ENOTFOUND;
}

int store_lpm(store_reader *r, const uint8_t a[16], unsigned minlen, unsigned maxlen,
              uint64_t now, store_entry *e)
{
	if (!r->active)
		return V6R_EINVAL;
	if (maxlen > 128)
		maxlen = 128;
	if (minlen > maxlen)
		return V6R_ENOTFOUND;
	store_entry lst;
	int rc = lpm_kind(r, 0, a, minlen, maxlen, now, &lst);
	if (rc && rc != V6R_ENOTFOUND)
		return rc;
	bool listed = rc == 0;
	unsigned xmin = listed ? lst.pfx.len + 1u : minlen;
	if (xmin <= maxlen && len_highest(r->inuse[1], (int)xmin, (int)maxlen) >= 0) {
		rc = lpm_kind(r, 1, a, xmin, maxlen, now, e);
		if (rc != V6R_ENOTFOUND)
			return rc;  /* a longer exclusion decides, or an error */
	}
	if (!listed)
		return V6R_ENOTFOUND;
	*e = lst;
	return 0;
}

int store_listed_below(store_reader *r, const addr_pfx *p, uint64_t now)
{
	if (!r->active || p->len > 128)
		return V6R_EINVAL;
	if (len_highest(r->inuse[0], p->len, 128) < 0)
		return 0;
	addr_pfx q = *p;
	addr_mask(q.a, q.len);
	uint8_t key[KEY_LEN];
	key_encode(&q, key);
	MDB_val kv = { KEY_LEN, key }, dv;
	int mrc = mdb_cursor_get(r->cur[0], &kv, &dv, MDB_SET_RANGE);
	for (; mrc == 0; mrc = mdb_cursor_get(r->cur[0], &kv, &dv, MDB_NEXT)) {
		/* Keys >= q||len that still start with q are exactly the listings at or below q. */
		store_entry e;
		if (kv.mv_size != KEY_LEN || addr_cpl(kv.mv_data, q.a) < q.len)
			return 0;
		int rc = rec_decode(&dv, STORE_LISTING, &e);
		if (rc)
			return rc;
		if (live(e.expires, now))
			return 1;
	}
	return mrc == MDB_NOTFOUND ? 0 : mdb_fail(r->st, mrc, "search store");
}

/* ---- Journal (IXFR): entry-level changes per commit, written with the commit ---- */

#define JKEY_LEN 12u           /* u64 commit sequence + u32 index, big-endian */
#define JHDR_LEN 24u           /* commit header value */
#define JREC_HDR 25u           /* change value before the two records */
#define JREC_MAX (JREC_HDR + 2u * (REC_HDR + STORE_REASON_MAX))

void store_set_journal_limit(store *st, uint32_t entries)
{
	st->jlimit = entries;
}

static void put_be(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static uint64_t get_be(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void jkey(uint8_t k[JKEY_LEN], uint64_t seq, uint32_t idx)
{
	put_be(k, seq, 8);
	put_be(k + 8, idx, 4);
}

/* Picks this commit's sequence number: one past the last one in the journal. */
static int journal_seq(store_txn *t)
{
	MDB_cursor *cur;
	MDB_val kv, dv;
	if (t->jseq)
		return 0;
	int mrc = mdb_cursor_open(t->txn, t->st->dbi[DB_JOURNAL], &cur);
	if (mrc)
		return txn_fail(t, mrc, "open journal cursor");
	mrc = mdb_cursor_get(cur, &kv, &dv, MDB_LAST);
	mdb_cursor_close(cur);
	if (mrc == MDB_NOTFOUND) {
		t->jseq = 1;
		return 0;
	}
	if (mrc)
		return txn_fail(t, mrc, "read journal");
	if (kv.mv_size != JKEY_LEN)
		return V6R_ECORRUPT;
	t->jseq = get_be(kv.mv_data, 8) + 1;
	return 0;
}

/*
 * Records one change of the entry with key `key`: the old record (kind okind, 0 = none) and
 * the new one (nkind, 0 = removed). Once a commit has more changes than the journal may keep,
 * nothing more is recorded and the journal is emptied at commit.
 */
static int journal_add(store_txn *t, const uint8_t key[KEY_LEN], unsigned okind,
                       const MDB_val *ov, unsigned nkind, const MDB_val *nv)
{
	if (t->jreset)
		return 0;
	if ((uint64_t)t->jcount + 2 > t->st->jlimit) {
		t->jreset = true;
		return 0;
	}
	int rc = journal_seq(t);
	if (rc)
		return rc;
	uint8_t k[JKEY_LEN], v[JREC_MAX];
	size_t olen = okind ? ov->mv_size : 0, nlen = nkind ? nv->mv_size : 0;
	v[0] = 1;
	v[1] = (uint8_t)okind;
	v[2] = (uint8_t)nkind;
	v[3] = 0;
	memcpy(v + 4, key, KEY_LEN);
	put_le(v + 21, olen, 2);
	put_le(v + 23, nlen, 2);
	if (olen)
		memcpy(v + JREC_HDR, ov->mv_data, olen);
	if (nlen)
		memcpy(v + JREC_HDR + olen, nv->mv_data, nlen);
	jkey(k, t->jseq, ++t->jcount);
	MDB_val kv = { JKEY_LEN, k }, dv = { JREC_HDR + olen + nlen, v };
	int mrc = mdb_put(t->txn, t->st->dbi[DB_JOURNAL], &kv, &dv, MDB_APPEND);
	return mrc ? txn_fail(t, mrc, "write journal") : 0;
}

/* Deletes the oldest commits until the journal holds at most jlimit entries. */
static int journal_trim(store_txn *t)
{
	MDB_dbi dbi = t->st->dbi[DB_JOURNAL];
	MDB_stat ms;
	MDB_cursor *cur;
	MDB_val kv, dv;
	int mrc = mdb_stat(t->txn, dbi, &ms);
	if (mrc == 0)
		mrc = mdb_cursor_open(t->txn, dbi, &cur);
	if (mrc)
		return txn_fail(t, mrc, "trim journal");
	size_t n = ms.ms_entries;
	while (n > t->st->jlimit && (mrc = mdb_cursor_get(cur, &kv, &dv, MDB_FIRST)) == 0) {
		uint64_t seq = kv.mv_size == JKEY_LEN ? get_be(kv.mv_data, 8) : 0;
		if (seq == t->jseq)
			break;         /* never this commit: it fits by construction */
		do {
			if ((mrc = mdb_cursor_del(cur, 0)) != 0)
				break;
			n--;
			mrc = mdb_cursor_get(cur, &kv, &dv, MDB_GET_CURRENT);
		} while (mrc == 0 && kv.mv_size == JKEY_LEN && get_be(kv.mv_data, 8) == seq);
		if (mrc && mrc != MDB_NOTFOUND)
			break;
		mrc = 0;
	}
	mdb_cursor_close(cur);
	return mrc && mrc != MDB_NOTFOUND ? txn_fail(t, mrc, "trim journal") : 0;
}

/* At commit of a changed batch: the header (serial before and after), then the trim. */
static int journal_commit(store_txn *t)
{
	MDB_dbi dbi = t->st->dbi[DB_JOURNAL];
	if (t->jreset || t->st->jlimit < 2) {
		int mrc = mdb_drop(t->txn, dbi, 0);
		return mrc ? txn_fail(t, mrc, "empty journal") : 0;
	}
	int rc = journal_seq(t);
	if (rc)
		return rc;
	uint8_t k[JKEY_LEN], v[JHDR_LEN] = { 1 };
	put_le(v + 4, t->serial_old, 4);
	put_le(v + 8, t->serial_next, 4);
	put_le(v + 12, t->jcount, 4);
	put_le(v + 16, (uint64_t)time(NULL), 8);
	jkey(k, t->jseq, 0);
	MDB_val kv = { JKEY_LEN, k }, dv = { JHDR_LEN, v };
	int mrc = mdb_put(t->txn, dbi, &kv, &dv, 0);
	if (mrc)
		return txn_fail(t, mrc, "write journal");
	return journal_trim(t);
}

typedef struct jhdr {
	uint64_t seq;
	uint32_t from, to, count;
} jhdr;

/* Reads the header at the cursor (which must be at a key of index 0). */
static int jhdr_read(const MDB_val *kv, const MDB_val *dv, jhdr *h)
{
	const uint8_t *v = dv->mv_data;
	if (kv->mv_size != JKEY_LEN || get_be((const uint8_t *)kv->mv_data + 8, 4) != 0 ||
	    dv->mv_size != JHDR_LEN || v[0] != 1)
		return V6R_ECORRUPT;
	h->seq = get_be(kv->mv_data, 8);
	h->from = (uint32_t)get_le(v + 4, 4);
	h->to = (uint32_t)get_le(v + 8, 4);
	h->count = (uint32_t)get_le(v + 12, 4);
	return 0;
}

/* Positions cur at the header of the first commit with sequence >= seq. */
static int jhdr_seek(MDB_cursor *cur, uint64_t seq, jhdr *h)
{
	uint8_t k[JKEY_LEN];
	jkey(k, seq, 0);
	MDB_val kv = { JKEY_LEN, k }, dv;
	int mrc = mdb_cursor_get(cur, &kv, &dv, MDB_SET_RANGE);
	if (mrc)
		return mrc;
	return jhdr_read(&kv, &dv, h) ? MDB_CORRUPTED : 0;
}

/*
 * Finds the commit that starts at serial `from` and checks that the commits after it follow
 * each other (each starts where the one before ended) up to the snapshot's serial.
 */
static int journal_find(store_reader *r, MDB_cursor *cur, uint32_t from, uint64_t *start)
{
	jhdr h;
	bool found = false;
	uint32_t at = 0;
	int mrc = jhdr_seek(cur, 0, &h);
	for (; mrc == 0; mrc = jhdr_seek(cur, h.seq + 1, &h)) {
		if (!found && h.from == from) {
			found = true;
			*start = h.seq;
		} else if (found && h.from != at) {
			found = false;     /* a gap: writes that were not journaled */
		}
		at = h.to;
	}
	if (mrc == MDB_CORRUPTED)
		return V6R_ECORRUPT;
	if (mrc != MDB_NOTFOUND)
		return mdb_fail(r->st, mrc, "read journal");
	return found && at == r->serial ? 0 : V6R_ENOTFOUND;
}

/* Decodes a change value; the records are borrowed from v. */
static int jrec_decode(const MDB_val *v, addr_pfx *p, store_entry *o, store_entry *n,
                       bool *has_o, bool *has_n)
{
	const uint8_t *b = v->mv_data;
	if (v->mv_size < JREC_HDR || b[0] != 1 || b[1] > 2 || b[2] > 2)
		return V6R_ECORRUPT;
	size_t olen = (size_t)get_le(b + 21, 2), nlen = (size_t)get_le(b + 23, 2);
	if (JREC_HDR + olen + nlen != v->mv_size)
		return V6R_ECORRUPT;
	MDB_val kv = { KEY_LEN, (void *)(b + 4) };
	MDB_val ov = { olen, (void *)(b + JREC_HDR) }, nv = { nlen, (void *)(b + JREC_HDR + olen) };
	int rc = key_decode(&kv, p);
	*has_o = b[1] != 0;
	*has_n = b[2] != 0;
	if (rc == 0 && *has_o && (rc = rec_decode(&ov, kind_of(b[1] - 1u), o)) == 0)
		o->pfx = *p;
	if (rc == 0 && *has_n && (rc = rec_decode(&nv, kind_of(b[2] - 1u), n)) == 0)
		n->pfx = *p;
	return rc;
}

/* Visits the changes of every commit from sequence `start` on. */
static int journal_visit(store_reader *r, MDB_cursor *cur, uint64_t start, store_change_fn fn,
                         void *arg)
{
	uint8_t k[JKEY_LEN];
	jkey(k, start, 0);
	MDB_val kv = { JKEY_LEN, k }, dv;
	uint32_t serial = 0;
	int rc = 0, mrc;
	for (mrc = mdb_cursor_get(cur, &kv, &dv, MDB_SET_RANGE); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(cur, &kv, &dv, MDB_NEXT)) {
		if (kv.mv_size != JKEY_LEN)
			return V6R_ECORRUPT;
		if (get_be((const uint8_t *)kv.mv_data + 8, 4) == 0) {
			jhdr h;
			if ((rc = jhdr_read(&kv, &dv, &h)) == 0)
				serial = h.to;
			continue;
		}
		store_entry o, n;
		store_change c = { .serial = serial };
		bool ho, hn;
		if ((rc = jrec_decode(&dv, &c.pfx, &o, &n, &ho, &hn)) != 0)
			break;
		c.old = ho ? &o : NULL;
		c.cur = hn ? &n : NULL;
		rc = fn(&c, arg);
	}
	if (rc)
		return rc;
	return mrc == MDB_NOTFOUND || mrc == 0 ? 0 : mdb_fail(r->st, mrc, "read journal");
}

int store_journal_since(store_reader *r, uint32_t from, store_change_fn fn, void *arg)
{
	MDB_cursor *cur;
	uint64_t start = 0;
	if (!r->active)
		return V6R_EINVAL;
	if (from == r->serial)
		return 0;
	int mrc = mdb_cursor_open(r->txn, r->st->dbi[DB_JOURNAL], &cur);
	if (mrc)
		return mdb_fail(r->st, mrc, "open journal cursor");
	int rc = journal_find(r, cur, from, &start);
	if (rc == 0)
		rc = journal_visit(r, cur, start, fn, arg);
	mdb_cursor_close(cur);
	return rc;
}

int store_journal_count(store_reader *r, uint64_t *entries)
{
	MDB_stat ms;
	if (!r->active)
		return V6R_EINVAL;
	int mrc = mdb_stat(r->txn, r->st->dbi[DB_JOURNAL], &ms);
	if (mrc)
		return mdb_fail(r->st, mrc, "read journal");
	*entries = ms.ms_entries;
	return 0;
}

/*
 * Visits the entries of DB k at or below q (masked) in key order: keys from q||len on that still
 * start with q. Returns fn's non-zero code, or 0 with the last LMDB code in *mrc (MDB_NOTFOUND
 * at the end) and what failed in *what. A cursor of its own: fn may run lookups on the caller's cursors.
 */
static int walk_below(MDB_txn *txn, MDB_dbi dbi, unsigned k, const addr_pfx *q, store_iter_fn fn,
                      void *arg, int *mrc, const char **what)
{
	uint8_t key[KEY_LEN];
	key_encode(q, key);
	MDB_val kv = { KEY_LEN, key }, dv;
	MDB_cursor *cur;
	int rc = 0;
	*what = "open cursor";
	if ((*mrc = mdb_cursor_open(txn, dbi, &cur)) != 0)
		return 0;
	*what = "walk store";
	for (*mrc = mdb_cursor_get(cur, &kv, &dv, MDB_SET_RANGE); *mrc == 0 && rc == 0;
	     *mrc = mdb_cursor_get(cur, &kv, &dv, MDB_NEXT)) {
		store_entry e;
		if (kv.mv_size != KEY_LEN || addr_cpl(kv.mv_data, q->a) < q->len)
			break;
		rc = entry_decode(&kv, &dv, kind_of(k), &e);
		if (rc == 0)
			rc = fn(&e, arg);
	}
	mdb_cursor_close(cur);
	return rc;
}

int store_reader_walk_within(store_reader *r, unsigned kind, const addr_pfx *p,
                             store_iter_fn fn, void *arg)
{
	if (!r->active || p->len > 128)
		return V6R_EINVAL;
	unsigned k = kind == STORE_LISTING ? 0 : 1;
	addr_pfx q = *p;
	addr_mask(q.a, q.len);
	const char *what;
	int mrc, rc = walk_below(r->txn, r->st->dbi[DB_LISTINGS + k], k, &q, fn, arg, &mrc, &what);
	if (rc)
		return rc;
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : mdb_fail(r->st, mrc, what);
}

/* ---- Writers ---- */

static int txn_begin(store *st, store_txn *t, bool *resized)
{
	memset(t, 0, sizeof(*t));
	t->st = st;
	*resized = false;
	int mrc = mdb_txn_begin(st->env, NULL, 0, &t->txn);
	if (mrc == MDB_MAP_RESIZED)
		*resized = true;
	if (mrc)
		return mdb_fail(st, mrc, "begin write transaction");
	uint32_t old;
	int rc = meta_u32(st, t->txn, "serial", &old);
	if (rc == 0)
		rc = meta_lens(st, t->txn, t->lens);
	if (rc) {
		mdb_txn_abort(t->txn);
		return rc;
	}
	t->serial_old = old;
	t->serial_next = serial_next(old, (uint64_t)time(NULL));
	return 0;
}

/* Commits a changed batch with the next serial and the new length counts; aborts an unchanged one. */
static int txn_commit(store_txn *t)
{
	if (!t->dirty && !t->aux_dirty) {
		mdb_txn_abort(t->txn);
		return 0;
	}
	if (!t->dirty) {
		int mrc = mdb_txn_commit(t->txn);
		return mrc ? txn_fail(t, mrc, "commit store transaction") : 0;
	}
	uint8_t serial[4];
	put_le(serial, t->serial_next, 4);
	int rc = journal_commit(t);
	if (rc) {
		mdb_txn_abort(t->txn);
		return rc;
	}
	int mrc = meta_put(t->st, t->txn, "serial", serial, 4);
	if (mrc == 0)
		mrc = meta_put_lens(t->st, t->txn, t->lens);
	if (mrc) {
		mdb_txn_abort(t->txn);
		return txn_fail(t, mrc, "write store meta");
	}
	mrc = mdb_txn_commit(t->txn);  /* frees the transaction, also on failure */
	return mrc ? txn_fail(t, mrc, "commit store transaction") : 0;
}

/* One attempt of a batch; *again says whether to remap (grow or adopt) and rerun it. */
static int write_once(store *st, store_write_fn fn, void *arg, int *again)
{
	store_txn t;
	bool resized;
	*again = 0;
	int rc = map_enter(st);
	if (rc)
		return rc;
	rc = txn_begin(st, &t, &resized);
	if (rc) {
		*again = resized ? 1 : 0;
		goto out;
	}
	rc = fn(&t, arg);
	if (rc || t.mapfull) {
		mdb_txn_abort(t.txn);
		*again = t.mapfull ? 2 : 0;
		goto out;
	}
	rc = txn_commit(&t);
	*again = t.mapfull ? 2 : 0;
out:
	map_leave(st);
	return rc;
}

int store_write(store *st, store_write_fn fn, void *arg)
{
	if (st->flags & STORE_RDONLY) {
		set_err(st, "failed to write store (opened read-only)");
		return V6R_EINVAL;
	}
	for (int round = 0; round < MAX_ROUNDS; round++) {
		int again, rc = write_once(st, fn, arg, &again);
		if (!again)
			return rc;
		rc = map_resize(st, again == 2);
		if (rc)
			return rc;
	}
	return V6R_EMAPFULL;
}

uint32_t store_txn_serial(const store_txn *t)
{
	return t->serial_next;
}

static int pfx_check(const addr_pfx *p)
{
	if (p->len > 128)
		return V6R_ERANGE;
	addr_pfx q = *p;
	addr_mask(q.a, q.len);
	return memcmp(q.a, p->a, 16) ? V6R_EHOSTBITS : 0;
}

static int entry_check(const store_entry *e)
{
	int rc = pfx_check(&e->pfx);
	if (rc)
		return rc;
	if (e->kind != STORE_LISTING && e->kind != STORE_EXCLUSION)
		return V6R_EINVAL;
	if (e->kind == STORE_LISTING && e->code[0] != 127)
		return V6R_ECODE;
	if (e->reason_len > STORE_REASON_MAX)
		return V6R_ERANGE;
	if (e->reason_len && !e->reason)
		return V6R_EINVAL;
	return 0;
}

static void lens_dec(uint32_t *n)
{
	if (*n)
		(*n)--;
}

int store_put(store_txn *t, const store_entry *e)
{
	int rc = entry_check(e);
	if (rc)
		return rc;
	unsigned k = e->kind == STORE_LISTING ? 0 : 1, len = e->pfx.len;
	uint8_t key[KEY_LEN], rec[REC_HDR + STORE_REASON_MAX];
	key_encode(&e->pfx, key);
	MDB_val kv = { KEY_LEN, key }, nv = { rec_encode(e, rec), rec }, old;
	MDB_dbi mine = t->st->dbi[DB_LISTINGS + k], other = t->st->dbi[DB_LISTINGS + !k];
	int mrc = mdb_get(t->txn, mine, &kv, &old);
	if (mrc == 0 && old.mv_size == nv.mv_size && memcmp(old.mv_data, rec, nv.mv_size) == 0)
		return 0;  /* unchanged: not a change of the serial either */
	if (mrc != 0 && mrc != MDB_NOTFOUND)
		return txn_fail(t, mrc, "read store entry");
	unsigned okind = mrc == 0 ? k + 1 : 0;
	uint8_t orec[REC_HDR + STORE_REASON_MAX];
	MDB_val ov = { 0, orec };
	if (mrc == 0) {
		ov.mv_size = old.mv_size <= sizeof(orec) ? old.mv_size : sizeof(orec);
		memcpy(orec, old.mv_data, ov.mv_size);
		mrc = MDB_NOTFOUND;    /* the other kind cannot hold the prefix too */
	} else {
		t->lens[k][len]++;
		mrc = mdb_get(t->txn, other, &kv, &old);
		if (mrc == 0) {
			okind = !k + 1;
			ov.mv_size = old.mv_size <= sizeof(orec) ? old.mv_size : sizeof(orec);
			memcpy(orec, old.mv_data, ov.mv_size);
			mrc = mdb_del(t->txn, other, &kv, NULL);
		}
	}
	if (mrc == 0)
		lens_dec(&t->lens[!k][len]);
	else if (mrc != MDB_NOTFOUND)
		return txn_fail(t, mrc, "delete store entry");
	if ((rc = journal_add(t, key, okind, &ov, k + 1, &nv)) != 0)
		return rc;
	mrc = mdb_put(t->txn, mine, &kv, &nv, 0);
	if (mrc)
		return txn_fail(t, mrc, "write store entry");
	t->dirty = true;
	return 0;
}

/*
 * Finds prefix p (checked, key written to key) in the listings or the exclusions. Returns 0 with
 * *k (0 listings, 1 exclusions) and *v set, V6R_ENOTFOUND, or an error.
 */
static int find_entry(store_txn *t, const addr_pfx *p, uint8_t key[KEY_LEN], unsigned *k,
                      MDB_val *v)
{
	int rc = pfx_check(p);
	if (rc)
		return rc;
	key_encode(p, key);
	for (*k = 0; *k < 2; (*k)++) {
		MDB_val kv = { KEY_LEN, key };
		int mrc = mdb_get(t->txn, t->st->dbi[DB_LISTINGS + *k], &kv, v);
		if (mrc == MDB_NOTFOUND)
			continue;
		return mrc ? txn_fail(t, mrc, "read store entry") : 0;
	}
	return V6R_ENOTFOUND;
}

int store_get(store_txn *t, const addr_pfx *p, store_entry *e)
{
	uint8_t key[KEY_LEN];
	unsigned k;
	MDB_val v;
	int rc = find_entry(t, p, key, &k, &v);
	if (rc)
		return rc;
	e->pfx = *p;
	return rec_decode(&v, kind_of(k), e);
}

int store_del(store_txn *t, const addr_pfx *p)
{
	uint8_t key[KEY_LEN];
	unsigned k;
	MDB_val old;
	int rc = find_entry(t, p, key, &k, &old);
	if (rc)
		return rc;
	uint8_t orec[REC_HDR + STORE_REASON_MAX];
	MDB_val kv = { KEY_LEN, key },
	        ov = { old.mv_size <= sizeof(orec) ? old.mv_size : sizeof(orec), orec };
	memcpy(orec, old.mv_data, ov.mv_size);
	if ((rc = journal_add(t, key, k + 1, &ov, 0, NULL)) != 0)
		return rc;
	int mrc = mdb_del(t->txn, t->st->dbi[DB_LISTINGS + k], &kv, NULL);
	if (mrc)
		return txn_fail(t, mrc, "delete store entry");
	lens_dec(&t->lens[k][p->len]);
	t->dirty = true;
	return 0;
}

/* Walks database k of txn in key order. */
static int walk(store *st, MDB_txn *txn, unsigned k, store_iter_fn fn, void *arg)
{
	MDB_cursor *cur;
	MDB_val kv, dv;
	int mrc = mdb_cursor_open(txn, st->dbi[DB_LISTINGS + k], &cur);
	if (mrc)
		return mdb_fail(st, mrc, "open cursor");
	int rc = 0;
	while ((mrc = mdb_cursor_get(cur, &kv, &dv, MDB_NEXT)) == 0) {
		store_entry e;
		if ((rc = entry_decode(&kv, &dv, kind_of(k), &e)) != 0)
			break;
		if ((rc = fn(&e, arg)) != 0)
			break;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = mdb_fail(st, mrc, "read store");
	mdb_cursor_close(cur);
	return rc;
}

static int walk_kinds(store *st, MDB_txn *txn, unsigned kind, store_iter_fn fn, void *arg)
{
	if (kind > STORE_EXCLUSION)
		return V6R_EINVAL;
	for (unsigned k = 0; k < 2; k++) {
		if (kind != 0 && kind_of(k) != kind)
			continue;
		int rc = walk(st, txn, k, fn, arg);
		if (rc)
			return rc;
	}
	return 0;
}

int store_txn_foreach(store_txn *t, unsigned kind, store_iter_fn fn, void *arg)
{
	return walk_kinds(t->st, t->txn, kind, fn, arg);
}

int store_foreach(store *st, unsigned kind, store_iter_fn fn, void *arg)
{
	MDB_txn *txn;
	int rc = ro_begin(st, &txn);
	if (rc)
		return rc;
	rc = walk_kinds(st, txn, kind, fn, arg);
	ro_end(st, txn);
	return rc;
}

/* Deletes the expired entries of database k. */
static int purge_db(store_txn *t, unsigned k, uint64_t now, size_t *removed)
{
	MDB_cursor *cur;
	MDB_val kv, dv;
	int mrc = mdb_cursor_open(t->txn, t->st->dbi[DB_LISTINGS + k], &cur);
	if (mrc)
		return txn_fail(t, mrc, "open cursor");
	int rc = 0;
	while ((mrc = mdb_cursor_get(cur, &kv, &dv, MDB_NEXT)) == 0) {
		store_entry e;
		if ((rc = entry_decode(&kv, &dv, kind_of(k), &e)) != 0)
			break;
		if (live(e.expires, now))
			continue;
		uint8_t key[KEY_LEN], orec[REC_HDR + STORE_REASON_MAX];
		MDB_val ov = { dv.mv_size <= sizeof(orec) ? dv.mv_size : sizeof(orec), orec };
		memcpy(key, kv.mv_data, KEY_LEN);
		memcpy(orec, dv.mv_data, ov.mv_size);
		if ((rc = journal_add(t, key, k + 1, &ov, 0, NULL)) != 0)
			break;
		/* After a delete the cursor sits on the next entry; MDB_NEXT returns that one. */
		if ((mrc = mdb_cursor_del(cur, 0)) != 0)
			break;
		lens_dec(&t->lens[k][e.pfx.len]);
		t->dirty = true;
		(*removed)++;
	}
	if (rc == 0 && mrc != MDB_NOTFOUND)
		rc = txn_fail(t, mrc, "purge store");
	mdb_cursor_close(cur);
	return rc;
}

int store_purge_expired(store_txn *t, uint64_t now, size_t *removed)
{
	size_t n = 0;
	int rc = purge_db(t, 0, now, &n);
	if (rc == 0)
		rc = purge_db(t, 1, now, &n);
	if (removed)
		*removed = n;
	return rc;
}

int store_clear(store_txn *t)
{
	for (unsigned k = 0; k < 2; k++) {
		MDB_stat ms;
		MDB_dbi dbi = t->st->dbi[DB_LISTINGS + k];
		int mrc = mdb_stat(t->txn, dbi, &ms);
		if (mrc == 0 && ms.ms_entries == 0)
			continue;
		if (mrc == 0)
			mrc = mdb_drop(t->txn, dbi, 0);
		if (mrc)
			return txn_fail(t, mrc, "clear store");
		memset(t->lens[k], 0, sizeof(t->lens[k]));
		t->dirty = true;
		t->jreset = true;      /* every entry changed: IXFR from before is a full zone */
	}
	return 0;
}

/* ---- Statistics ---- */

struct stats_walk {
	store_stats *s;
	uint64_t now;
};

static int stats_add(const store_entry *e, void *arg)
{
	struct stats_walk *w = arg;
	unsigned k = e->kind == STORE_LISTING ? 0 : 1;
	w->s->by_len[k][e->pfx.len]++;
	if (k == 1) {
		w->s->exclusions++;
		return 0;
	}
	w->s->listings++;
	if (e->origin < 3)
		w->s->by_origin[e->origin]++;
	if (!live(e->expires, w->now))
		w->s->expired++;
	return 0;
}

int store_get_stats(store *st, uint64_t now, store_stats *s)
{
	memset(s, 0, sizeof(*s));
	MDB_txn *txn;
	int rc = ro_begin(st, &txn);
	if (rc)
		return rc;
	struct stats_walk w = { s, now };
	rc = meta_u32(st, txn, "serial", &s->serial);
	if (rc == 0)
		rc = walk_kinds(st, txn, 0, stats_add, &w);
	MDB_envinfo info;
	MDB_stat ms;
	mdb_env_info(st->env, &info);
	mdb_env_stat(st->env, &ms);
	s->map_size = info.me_mapsize;
	s->used_bytes = (uint64_t)ms.ms_psize * (info.me_last_pgno + 1);
	ro_end(st, txn);
	return rc;
}

/* ---- Evidence and auxiliary data (ingest state), outside the zone's serial ---- */

int store_evidence_put(store_txn *t, const addr_pfx *p, const void *data, size_t len)
{
	int rc = pfx_check(p);
	if (rc)
		return rc;
	if (len > STORE_EVIDENCE_MAX)
		return V6R_ERANGE;
	uint8_t key[KEY_LEN];
	key_encode(p, key);
	MDB_val kv = { KEY_LEN, key }, v = { len, (void *)data };
	int mrc = len ? mdb_put(t->txn, t->st->dbi[DB_EVIDENCE], &kv, &v, 0)
	              : mdb_del(t->txn, t->st->dbi[DB_EVIDENCE], &kv, NULL);
	if (mrc == MDB_NOTFOUND && !len)
		return 0;
	if (mrc)
		return txn_fail(t, mrc, "write evidence");
	t->aux_dirty = true;
	return 0;
}

static int evidence_get(store *st, MDB_txn *txn, const addr_pfx *p, const void **data, size_t *len)
{
	int rc = pfx_check(p);
	if (rc)
		return rc;
	uint8_t key[KEY_LEN];
	key_encode(p, key);
	MDB_val kv = { KEY_LEN, key }, v;
	int mrc = mdb_get(txn, st->dbi[DB_EVIDENCE], &kv, &v);
	if (mrc == MDB_NOTFOUND)
		return V6R_ENOTFOUND;
	if (mrc)
		return mdb_fail(st, mrc, "read evidence");
	*data = v.mv_data;
	*len = v.mv_size;
	return 0;
}

int store_evidence_get(store_txn *t, const addr_pfx *p, const void **data, size_t *len)
{
	return evidence_get(t->st, t->txn, p, data, len);
}

int store_evidence_read(store *st, const addr_pfx *p, void *buf, size_t cap, size_t *len)
{
	MDB_txn *txn;
	const void *data;
	int rc = ro_begin(st, &txn);
	if (rc)
		return rc;
	rc = evidence_get(st, txn, p, &data, len);
	if (rc == 0 && *len > cap)
		rc = V6R_ESPACE;
	if (rc == 0)
		memcpy(buf, data, *len);
	ro_end(st, txn);
	return rc;
}

/* Aux keys are the namespace, a NUL, then the caller's key bytes. */
static int aux_key(const char *ns, const void *key, size_t klen, uint8_t *buf, MDB_val *kv)
{
	size_t n = strlen(ns);
	if (n + 1 + klen > STORE_AUX_KEY_MAX || klen == 0)
		return V6R_ERANGE;
	memcpy(buf, ns, n + 1);
	memcpy(buf + n + 1, key, klen);
	kv->mv_size = n + 1 + klen;
	kv->mv_data = buf;
	return 0;
}

int store_aux_put(store_txn *t, const char *ns, const void *key, size_t klen, const void *val,
                  size_t vlen)
{
	uint8_t kb[STORE_AUX_KEY_MAX];
	MDB_val kv, v = { vlen, (void *)val };
	int rc = aux_key(ns, key, klen, kb, &kv);
	if (rc)
		return rc;
	int mrc = vlen ? mdb_put(t->txn, t->st->dbi[DB_AUX], &kv, &v, 0)
	               : mdb_del(t->txn, t->st->dbi[DB_AUX], &kv, NULL);
	if (mrc == MDB_NOTFOUND && !vlen)
		return 0;
	if (mrc)
		return txn_fail(t, mrc, "write aux data");
	t->aux_dirty = true;
	return 0;
}

int store_aux_get(store_txn *t, const char *ns, const void *key, size_t klen, const void **val,
                  size_t *vlen)
{
	uint8_t kb[STORE_AUX_KEY_MAX];
	MDB_val kv, v;
	int rc = aux_key(ns, key, klen, kb, &kv);
	if (rc)
		return rc;
	int mrc = mdb_get(t->txn, t->st->dbi[DB_AUX], &kv, &v);
	if (mrc == MDB_NOTFOUND)
		return V6R_ENOTFOUND;
	if (mrc)
		return txn_fail(t, mrc, "read aux data");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int store_aux_foreach(store_txn *t, const char *ns, store_aux_fn fn, void *arg)
{
	size_t n = strlen(ns) + 1;
	MDB_cursor *cur;
	MDB_val kv = { n, (void *)ns }, v;
	int mrc = mdb_cursor_open(t->txn, t->st->dbi[DB_AUX], &cur);
	if (mrc)
		return txn_fail(t, mrc, "open aux cursor");
	int rc = 0;
	for (mrc = mdb_cursor_get(cur, &kv, &v, MDB_SET_RANGE); mrc == 0 && rc == 0;
	     mrc = mdb_cursor_get(cur, &kv, &v, MDB_NEXT)) {
		if (kv.mv_size < n || memcmp(kv.mv_data, ns, n) != 0)
			break;
		rc = fn((const uint8_t *)kv.mv_data + n, kv.mv_size - n, v.mv_data, v.mv_size, arg);
	}
	mdb_cursor_close(cur);
	if (rc)
		return rc;
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : txn_fail(t, mrc, "walk aux data");
}

int store_txn_lpm(store_txn *t, const uint8_t a[16], unsigned minlen, unsigned maxlen,
                  unsigned kind, uint64_t now, store_entry *e)
{
	store_reader r = { .st = t->st, .txn = t->txn, .active = true };
	unsigned k = kind == STORE_LISTING ? 0 : 1;
	for (unsigned l = 0; l < LENS_N; l++)
		if (t->lens[k][l])
			r.inuse[k][l / 64] |= (uint64_t)1 << (l % 64);
	int mrc = mdb_cursor_open(t->txn, t->st->dbi[DB_LISTINGS + k], &r.cur[k]);
	if (mrc)
		return txn_fail(t, mrc, "open cursor");
	if (maxlen > 128)
		maxlen = 128;
	int rc = minlen > maxlen ? V6R_ENOTFOUND : lpm_kind(&r, k, a, minlen, maxlen, now, e);
	mdb_cursor_close(r.cur[k]);
	return rc;
}

int store_txn_walk_within(store_txn *t, unsigned kind, const addr_pfx *p, store_iter_fn fn,
                          void *arg)
{
	int rc = pfx_check(p);
	if (rc)
		return rc;
	unsigned k = kind == STORE_LISTING ? 0 : 1;
	const char *what;
	int mrc;
	rc = walk_below(t->txn, t->st->dbi[DB_LISTINGS + k], k, p, fn, arg, &mrc, &what);
	if (rc)
		return rc;
	return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : txn_fail(t, mrc, what);
}
