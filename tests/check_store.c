/* check_store.c: unit tests of the LMDB store: entries, serial, longest-prefix match, map growth, corruption. */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "../zone/store.h"
#include "suites.h"

#define NOW 1000000u           /* the clock the lookups are given */
#define SMALL_MAP ((size_t)64 << 10)

/* The tcase's base directory is made in the parent (unchecked fixture) so it is removed even
 * when a test dies; each test works in its own directory below it. */
static char base[64];
static char dir[128];
static store *st;

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void base_setup(void)
{
	strcpy(base, "/tmp/v6r-store-XXXXXX");
	if (!mkdtemp(base))
		abort();
}

static void base_teardown(void)
{
	rm_rf(base);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "%s/t-XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int rc = store_open(&st, dir, 0, 0);
	ck_assert_msg(rc == 0, "store_open: %s", store_open_error());
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	rm_rf(dir);
}

/* ---- Helpers ---- */

static addr_pfx P(const char *s)
{
	addr_pfx p;
	int rc = addr_parse(s, strlen(s), 0, &p);
	ck_assert_msg(rc == 0, "addr_parse %s: %d", s, rc);
	return p;
}

static store_entry E(const char *cidr, store_kind kind, uint64_t expires, const char *reason)
{
	store_entry e;
	memset(&e, 0, sizeof(e));
	e.pfx = P(cidr);
	e.kind = kind;
	e.origin = STORE_ORIGIN_OPERATOR;
	if (kind == STORE_LISTING) {
		e.code[0] = 127;
		e.code[3] = 2;
	}
	e.created = 100;
	e.updated = 200;
	e.expires = expires;
	e.reason = reason;
	e.reason_len = reason ? strlen(reason) : 0;
	return e;
}

struct puts {
	const store_entry *e;
	size_t n;
	int calls;
	int ret;            /* what fn returns after the puts */
};

static int put_all(store_txn *t, void *arg)
{
	struct puts *b = arg;
	b->calls++;
	for (size_t i = 0; i < b->n; i++) {
		int rc = store_put(t, &b->e[i]);
		if (rc)
			return rc;
	}
	return b->ret;
}

static int put_entries(store *s, const store_entry *e, size_t n)
{
	struct puts b = { e, n, 0, 0 };
	return store_write(s, put_all, &b);
}

static void put1(const char *cidr, store_kind kind, uint64_t expires)
{
	store_entry e = E(cidr, kind, expires, "test");
	ck_assert_int_eq(put_entries(st, &e, 1), 0);
}

struct getter {
	addr_pfx p;
	store_entry e;
	int rc;
	char reason[STORE_REASON_MAX];
};

static int get_fn(store_txn *t, void *arg)
{
	struct getter *g = arg;
	g->rc = store_get(t, &g->p, &g->e);
	if (g->rc == 0 && g->e.reason_len) {
		memcpy(g->reason, g->e.reason, g->e.reason_len);
		g->e.reason = g->reason;
	}
	return 0;
}

static int get1(store *s, const char *cidr, store_entry *out)
{
	static struct getter g;
	g.p = P(cidr);
	ck_assert_int_eq(store_write(s, get_fn, &g), 0);
	if (out)
		*out = g.e;
	return g.rc;
}

static int del_fn(store_txn *t, void *arg)
{
	return store_del(t, arg);
}

static int count_fn(const store_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count(store *s, unsigned kind)
{
	size_t n = 0;
	ck_assert_int_eq(store_foreach(s, kind, count_fn, &n), 0);
	return n;
}

static uint32_t serial(store *s)
{
	uint32_t v;
	ck_assert_int_eq(store_serial(s, &v), 0);
	return v;
}

static bool serial_gt(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* lpm through a fresh reader snapshot. */
static int lpm(const char *addr, unsigned minlen, unsigned maxlen, store_entry *e)
{
	store_reader *r;
	addr_pfx a = P(addr);
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	int rc = store_lpm(r, a.a, minlen, maxlen, NOW, e);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

static int below(const char *cidr)
{
	store_reader *r;
	addr_pfx p = P(cidr);
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	int rc = store_listed_below(r, &p, NOW);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

static void pfx_str(const addr_pfx *p, char *buf)
{
	ck_assert_int_gt(addr_format(p, buf, ADDR_PFX_STRLEN), 0);
}

/* Writes one raw value with plain LMDB calls (the store must be closed). */
static void raw_put(const char *db, const void *k, size_t kn, const void *v, size_t vn)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, dir, 0, 0640), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
	MDB_val kv = { kn, (void *)k }, dv = { vn, (void *)v };
	ck_assert_int_eq(mdb_put(txn, dbi, &kv, &dv, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void reopen(void)
{
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
}

static void key_of(const char *cidr, uint8_t key[17])
{
	addr_pfx p = P(cidr);
	memcpy(key, p.a, 16);
	key[16] = p.len;
}

/* ---- Entries ---- */

START_TEST(roundtrip)
{
	store_entry e = E("2001:db8:1::/48", STORE_LISTING, 5000, "spam source");
	e.origin = STORE_ORIGIN_SENSOR;
	e.code[3] = 4;
	ck_assert_int_eq(put_entries(st, &e, 1), 0);

	store_entry g;
	ck_assert_int_eq(get1(st, "2001:db8:1::/48", &g), 0);
	ck_assert_int_eq(g.kind, STORE_LISTING);
	ck_assert_int_eq(addr_pfx_cmp(&g.pfx, &e.pfx), 0);
	ck_assert_uint_eq(g.origin, STORE_ORIGIN_SENSOR);
	ck_assert_mem_eq(g.code, ((uint8_t[]){ 127, 0, 0, 4 }), 4);
	ck_assert_uint_eq(g.created, 100);
	ck_assert_uint_eq(g.updated, 200);
	ck_assert_uint_eq(g.expires, 5000);
	ck_assert_uint_eq(g.reason_len, strlen("spam source"));
	ck_assert_mem_eq(g.reason, "spam source", g.reason_len);
	ck_assert_int_eq(get1(st, "2001:db8::/47", NULL), V6R_ENOTFOUND);
	ck_assert_int_eq(get1(st, "2001:db8:1::/49", NULL), V6R_ENOTFOUND);

	addr_pfx p = P("2001:db8:1::/48");
	ck_assert_int_eq(store_write(st, del_fn, &p), 0);
	ck_assert_int_eq(get1(st, "2001:db8:1::/48", NULL), V6R_ENOTFOUND);
	ck_assert_int_eq(store_write(st, del_fn, &p), V6R_ENOTFOUND);
	ck_assert_uint_eq(count(st, 0), 0);
	ck_assert_str_eq(store_origin_name(STORE_ORIGIN_AGGREGATE), "aggregate");
	ck_assert_str_eq(store_origin_name(9), "unknown");
}
END_TEST

START_TEST(replace)
{
	store_entry a = E("2001:db8::/32", STORE_LISTING, 0, "first");
	store_entry b = E("2001:db8::/32", STORE_LISTING, 0, "second reason");
	b.code[3] = 3;
	ck_assert_int_eq(put_entries(st, &a, 1), 0);
	ck_assert_int_eq(put_entries(st, &b, 1), 0);
	store_entry g;
	ck_assert_int_eq(get1(st, "2001:db8::/32", &g), 0);
	ck_assert_uint_eq(g.code[3], 3);
	ck_assert_mem_eq(g.reason, "second reason", g.reason_len);
	store_stats s;
	ck_assert_int_eq(store_get_stats(st, NOW, &s), 0);
	ck_assert_uint_eq(s.listings, 1);
	ck_assert_uint_eq(s.by_len[0][32], 1);
	/* The length count must not have been bumped twice: after a delete nothing is in use. */
	addr_pfx p = P("2001:db8::/32");
	ck_assert_int_eq(store_write(st, del_fn, &p), 0);
	store_entry l = E("2001:db8::/64", STORE_LISTING, 0, "x");
	ck_assert_int_eq(put_entries(st, &l, 1), 0);
	ck_assert_int_eq(lpm("2001:db8::1", 0, 128, &g), 0);
	ck_assert_uint_eq(g.pfx.len, 64);
}
END_TEST

START_TEST(kind_switch)
{
	store_entry g;
	put1("2001:db8:5::/48", STORE_LISTING, 0);
	ck_assert_int_eq(lpm("2001:db8:5::1", 0, 128, &g), 0);
	ck_assert_int_eq(g.kind, STORE_LISTING);

	put1("2001:db8:5::/48", STORE_EXCLUSION, 0);
	ck_assert_int_eq(get1(st, "2001:db8:5::/48", &g), 0);
	ck_assert_int_eq(g.kind, STORE_EXCLUSION);
	ck_assert_mem_eq(g.code, ((uint8_t[]){ 0, 0, 0, 0 }), 4);
	ck_assert_uint_eq(count(st, STORE_LISTING), 0);
	ck_assert_uint_eq(count(st, STORE_EXCLUSION), 1);
	ck_assert_int_eq(lpm("2001:db8:5::1", 0, 128, &g), 0);
	ck_assert_int_eq(g.kind, STORE_EXCLUSION);

	put1("2001:db8:5::/48", STORE_LISTING, 0);
	ck_assert_uint_eq(count(st, STORE_LISTING), 1);
	ck_assert_uint_eq(count(st, STORE_EXCLUSION), 0);
	ck_assert_int_eq(lpm("2001:db8:5::1", 0, 128, &g), 0);
	ck_assert_int_eq(g.kind, STORE_LISTING);
	store_stats s;
	ck_assert_int_eq(store_get_stats(st, NOW, &s), 0);
	ck_assert_uint_eq(s.by_len[1][48], 0);
	ck_assert_uint_eq(s.by_len[0][48], 1);
}
END_TEST

START_TEST(validation)
{
	store_entry e = E("2001:db8::/32", STORE_LISTING, 0, "x");
	e.code[0] = 10;
	ck_assert_int_eq(put_entries(st, &e, 1), V6R_ECODE);
	e = E("2001:db8::/32", STORE_EXCLUSION, 0, "x");
	ck_assert_int_eq(put_entries(st, &e, 1), 0);  /* exclusions carry no code */

	static char big[STORE_REASON_MAX + 1];
	memset(big, 'r', sizeof(big));
	e = E("2001:db8::/48", STORE_LISTING, 0, NULL);
	e.reason = big;
	e.reason_len = STORE_REASON_MAX + 1;
	ck_assert_int_eq(put_entries(st, &e, 1), V6R_ERANGE);
	e.reason_len = STORE_REASON_MAX;
	ck_assert_int_eq(put_entries(st, &e, 1), 0);
	store_entry g;
	ck_assert_int_eq(get1(st, "2001:db8::/48", &g), 0);
	ck_assert_uint_eq(g.reason_len, STORE_REASON_MAX);

	e = E("2001:db8::/32", STORE_LISTING, 0, "x");
	e.pfx.len = 16;  /* 2001:db8:: has bits set beyond /16 */
	ck_assert_int_eq(put_entries(st, &e, 1), V6R_EHOSTBITS);
	e.pfx.len = 129;
	ck_assert_int_eq(put_entries(st, &e, 1), V6R_ERANGE);
	e = E("2001:db8::/32", 7, 0, "x");
	ck_assert_int_eq(put_entries(st, &e, 1), V6R_EINVAL);
}
END_TEST

/* ---- Serial ---- */

static int noop_fn(store_txn *t, void *arg)
{
	store_entry g;
	addr_pfx p = P("2001:db8:77::/48");
	ck_assert_int_eq(store_get(t, &p, &g), V6R_ENOTFOUND);
	ck_assert_int_eq(store_del(t, &p), V6R_ENOTFOUND);
	*(uint32_t *)arg = store_txn_serial(t);
	return 0;
}

struct serial_batch {
	store_entry e;
	uint32_t txn_serial;
};

static int put_serial_fn(store_txn *t, void *arg)
{
	struct serial_batch *b = arg;
	b->txn_serial = store_txn_serial(t);
	return store_put(t, &b->e);
}

static void put_serial(uint32_t raw)
{
	uint8_t v[4] = { raw & 0xff, (raw >> 8) & 0xff, (raw >> 16) & 0xff, raw >> 24 };
	store_close(st);
	st = NULL;
	raw_put("meta", "serial", 6, v, 4);
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
}

START_TEST(serial_rules)
{
	/* A new store starts at the clock. */
	char sub[192];
	snprintf(sub, sizeof(sub), "%s/fresh", dir);
	uint32_t t0 = (uint32_t)time(NULL);
	store *s2;
	ck_assert_int_eq(store_open(&s2, sub, 0, 0), 0);
	uint32_t t1 = (uint32_t)time(NULL);
	uint32_t s0 = serial(s2);
	ck_assert_uint_ge(s0, t0);
	ck_assert_uint_le(s0, t1);
	store_close(s2);

	/* A change increases it, and the transaction knows the value it commits with. */
	uint32_t before = serial(st);
	struct serial_batch b = { E("2001:db8::/32", STORE_LISTING, 0, "x"), 0 };
	ck_assert_int_eq(store_write(st, put_serial_fn, &b), 0);
	uint32_t after = serial(st);
	ck_assert(serial_gt(after, before));
	ck_assert_uint_eq(after, b.txn_serial);

	/* No change, the same record again, or a failed batch: no new serial. */
	uint32_t would;
	ck_assert_int_eq(store_write(st, noop_fn, &would), 0);
	ck_assert(serial_gt(would, after));
	ck_assert_uint_eq(serial(st), after);
	ck_assert_int_eq(store_write(st, put_serial_fn, &b), 0);
	ck_assert_uint_eq(serial(st), after);
	store_entry bad = E("2001:db8:1::/48", STORE_LISTING, 0, "x");
	struct puts fail = { &bad, 1, 0, V6R_EINVAL };
	ck_assert_int_eq(store_write(st, put_all, &fail), V6R_EINVAL);
	ck_assert_uint_eq(serial(st), after);

	/* A serial behind the clock jumps to the clock (RFC 1982 arithmetic). */
	put_serial(1000);
	b.e.code[3] = 5;
	uint32_t c0 = (uint32_t)time(NULL);
	ck_assert_int_eq(store_write(st, put_serial_fn, &b), 0);
	uint32_t c1 = (uint32_t)time(NULL);
	ck_assert_uint_ge(serial(st), c0);
	ck_assert_uint_le(serial(st), c1);

	/* A serial ahead of the clock just counts on, also across the 2^32 wrap. */
	uint32_t ahead = (uint32_t)time(NULL) + 100000;
	put_serial(ahead);
	b.e.code[3] = 6;
	ck_assert_int_eq(store_write(st, put_serial_fn, &b), 0);
	ck_assert_uint_eq(serial(st), ahead + 1);
	put_serial(0xffffffffu);
	b.e.code[3] = 7;
	ck_assert_int_eq(store_write(st, put_serial_fn, &b), 0);
	uint32_t wrapped = serial(st);
	ck_assert(serial_gt(wrapped, 0xffffffffu));
}
END_TEST

/* ---- Longest-prefix match ---- */

static const struct {
	const char *pfx;
	store_kind kind;
} nested[] = {
	{ "2001:db8::/32", STORE_LISTING },
	{ "2001:db8:1::/48", STORE_EXCLUSION },
	{ "2001:db8:1:2::/64", STORE_LISTING },
	{ "2001:db8:1:2::5/128", STORE_EXCLUSION },
	{ "2001:db8:1:2::6/127", STORE_LISTING },
	{ "2001:db8:2::/48", STORE_LISTING },
	{ "2001:db8:3::/48", STORE_EXCLUSION },
	{ "2001:db8:3:4::/64", STORE_LISTING },
	{ "2001:db8:3:4:8000::/65", STORE_EXCLUSION },
	{ "2001:db8:3:4:8000::1/128", STORE_LISTING },
	{ "2001:db8:ffff:ff00::/56", STORE_EXCLUSION },
	{ "3000::/4", STORE_LISTING },
};

static const struct lpm_case {
	const char *addr;
	const char *want;        /* deciding prefix, NULL for none */
	store_kind kind;
} lpm_cases[] = {
	{ "2001:db8::", "2001:db8::/32", STORE_LISTING },
	{ "2001:db8:ffff::1", "2001:db8::/32", STORE_LISTING },
	{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:ffff:ff00::/56", STORE_EXCLUSION },
	{ "2001:db8:ffff:feff:ffff:ffff:ffff:ffff", "2001:db8::/32", STORE_LISTING },
	{ "2001:db8:1::1", "2001:db8:1::/48", STORE_EXCLUSION },
	{ "2001:db8:1:1:ffff:ffff:ffff:ffff", "2001:db8:1::/48", STORE_EXCLUSION },
	{ "2001:db8:1:2::1", "2001:db8:1:2::/64", STORE_LISTING },
	{ "2001:db8:1:2::4", "2001:db8:1:2::/64", STORE_LISTING },
	{ "2001:db8:1:2::5", "2001:db8:1:2::5/128", STORE_EXCLUSION },
	{ "2001:db8:1:2::6", "2001:db8:1:2::6/127", STORE_LISTING },
	{ "2001:db8:1:2::7", "2001:db8:1:2::6/127", STORE_LISTING },
	{ "2001:db8:1:2::8", "2001:db8:1:2::/64", STORE_LISTING },
	{ "2001:db8:1:3::1", "2001:db8:1::/48", STORE_EXCLUSION },
	{ "2001:db8:2::1", "2001:db8:2::/48", STORE_LISTING },
	{ "2001:db8:3::1", "2001:db8:3::/48", STORE_EXCLUSION },
	{ "2001:db8:3:4::9", "2001:db8:3:4::/64", STORE_LISTING },
	{ "2001:db8:3:4:8000::", "2001:db8:3:4:8000::/65", STORE_EXCLUSION },
	{ "2001:db8:3:4:8000::1", "2001:db8:3:4:8000::1/128", STORE_LISTING },
	{ "2001:db8:3:4:8000::2", "2001:db8:3:4:8000::/65", STORE_EXCLUSION },
	{ "2001:db8:3:4:7fff:ffff:ffff:ffff", "2001:db8:3:4::/64", STORE_LISTING },
	{ "2001:db8:3:5::9", "2001:db8:3::/48", STORE_EXCLUSION },
	{ "3fff:ffff::1", "3000::/4", STORE_LISTING },
	{ "2001:db9::1", NULL, 0 },
	{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", NULL, 0 },
	{ "::", NULL, 0 },
	{ "::1", NULL, 0 },
	{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", NULL, 0 },
	{ "4000::", NULL, 0 },
};

static void put_nested(void)
{
	store_entry e[sizeof(nested) / sizeof(nested[0])];
	for (size_t i = 0; i < sizeof(nested) / sizeof(nested[0]); i++)
		e[i] = E(nested[i].pfx, nested[i].kind, 0, "nested");
	ck_assert_int_eq(put_entries(st, e, sizeof(nested) / sizeof(nested[0])), 0);
}

START_TEST(lpm_nested)
{
	const struct lpm_case *c = &lpm_cases[_i];
	put_nested();
	store_entry e;
	int rc = lpm(c->addr, 0, 128, &e);
	if (!c->want) {
		ck_assert_msg(rc == V6R_ENOTFOUND, "%s: rc %d", c->addr, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s: rc %d", c->addr, rc);
	char got[ADDR_PFX_STRLEN];
	pfx_str(&e.pfx, got);
	addr_pfx want = P(c->want);
	ck_assert_msg(addr_pfx_cmp(&e.pfx, &want) == 0, "%s: got %s want %s", c->addr, got, c->want);
	ck_assert_int_eq(e.kind, c->kind);
	ck_assert_mem_eq(e.reason, "nested", e.reason_len);
}
END_TEST

static const struct bound_case {
	const char *addr;
	unsigned minlen, maxlen;
	const char *want;
	store_kind kind;
} bound_cases[] = {
	{ "192.0.2.1", 96, 128, "192.0.2.0/24", STORE_LISTING },
	{ "192.0.2.200", 96, 128, "192.0.2.128/25", STORE_EXCLUSION },
	{ "192.0.2.200", 96, 120, "192.0.2.0/24", STORE_LISTING },
	{ "192.0.2.200", 96, 119, "0.0.0.0/0", STORE_LISTING },
	{ "192.0.2.201", 96, 128, "192.0.2.201/32", STORE_LISTING },
	{ "192.0.2.201", 121, 121, "192.0.2.128/25", STORE_EXCLUSION },
	{ "192.0.2.201", 122, 127, NULL, 0 },
	{ "198.51.100.1", 96, 128, "0.0.0.0/0", STORE_LISTING },
	{ "198.51.100.1", 97, 128, NULL, 0 },
	{ "198.51.100.1", 0, 95, "::/8", STORE_LISTING },
	{ "198.51.100.1", 0, 7, NULL, 0 },
	{ "198.51.100.1", 9, 95, NULL, 0 },
	{ "192.0.2.1", 0, 128, "192.0.2.0/24", STORE_LISTING },
	{ "192.0.2.1", 121, 120, NULL, 0 },
	{ "2001:db8::1", 96, 128, NULL, 0 },
};

START_TEST(lpm_bounds)
{
	const struct bound_case *c = &bound_cases[_i];
	store_entry ents[] = {
		E("::/8", STORE_LISTING, 0, "low"),
		E("0.0.0.0/0", STORE_LISTING, 0, "all v4"),       /* ::ffff:0:0/96 */
		E("192.0.2.0/24", STORE_LISTING, 0, "net"),
		E("192.0.2.128/25", STORE_EXCLUSION, 0, "hole"),
		E("192.0.2.201/32", STORE_LISTING, 0, "host"),
	};
	ck_assert_int_eq(put_entries(st, ents, 5), 0);
	store_entry e;
	int rc = lpm(c->addr, c->minlen, c->maxlen, &e);
	if (!c->want) {
		ck_assert_msg(rc == V6R_ENOTFOUND, "%s [%u,%u]: rc %d", c->addr, c->minlen, c->maxlen, rc);
		return;
	}
	ck_assert_msg(rc == 0, "%s [%u,%u]: rc %d", c->addr, c->minlen, c->maxlen, rc);
	addr_pfx want = P(c->want);
	char got[ADDR_PFX_STRLEN];
	pfx_str(&e.pfx, got);
	ck_assert_msg(addr_pfx_cmp(&e.pfx, &want) == 0, "%s [%u,%u]: got %s want %s", c->addr,
	              c->minlen, c->maxlen, got, c->want);
	ck_assert_int_eq(e.kind, c->kind);
}
END_TEST

START_TEST(expiry)
{
	store_entry ents[] = {
		E("2001:db8:1::/48", STORE_LISTING, 0, "live"),
		E("2001:db8:1:1::/64", STORE_LISTING, NOW - 1, "expired"),
		E("2001:db8:1:2::/64", STORE_LISTING, NOW, "expires now"),
		E("2001:db8:1:3::/64", STORE_LISTING, NOW + 1, "still live"),
		E("2001:db8:1:4::/64", STORE_EXCLUSION, NOW - 5, "expired hole"),
		E("2001:db8:1:5::/64", STORE_LISTING, NOW - 5, "expired"),
		E("2001:db8:1:5::/80", STORE_EXCLUSION, NOW - 5, "expired hole"),
		E("2001:db8:1:5::1/128", STORE_LISTING, NOW - 5, "expired"),
		E("2001:db8:2::/48", STORE_LISTING, NOW - 1, "expired alone"),
	};
	ck_assert_int_eq(put_entries(st, ents, sizeof(ents) / sizeof(ents[0])), 0);
	store_entry e;
	ck_assert_int_eq(lpm("2001:db8:1:1::1", 0, 128, &e), 0);
	ck_assert_uint_eq(e.pfx.len, 48);
	ck_assert_int_eq(lpm("2001:db8:1:2::1", 0, 128, &e), 0);
	ck_assert_uint_eq(e.pfx.len, 48);
	ck_assert_int_eq(lpm("2001:db8:1:3::1", 0, 128, &e), 0);
	ck_assert_uint_eq(e.pfx.len, 64);
	ck_assert_uint_eq(e.expires, NOW + 1);
	ck_assert_int_eq(lpm("2001:db8:1:4::1", 0, 128, &e), 0);
	ck_assert_int_eq(e.kind, STORE_LISTING);
	ck_assert_uint_eq(e.pfx.len, 48);
	ck_assert_int_eq(lpm("2001:db8:1:5::1", 0, 128, &e), 0);
	ck_assert_int_eq(e.kind, STORE_LISTING);
	ck_assert_uint_eq(e.pfx.len, 48);
	ck_assert_int_eq(lpm("2001:db8:2::1", 0, 128, &e), V6R_ENOTFOUND);
	ck_assert_int_eq(lpm("2001:db8:1:5::1", 0, 47, &e), V6R_ENOTFOUND);
}
END_TEST

static int purge_fn(store_txn *t, void *arg)
{
	return store_purge_expired(t, NOW, arg);
}

static int clear_fn(store_txn *t, void *arg)
{
	(void)arg;
	return store_clear(t);
}

START_TEST(purge_and_clear)
{
	store_entry ents[] = {
		E("2001:db8:1::/48", STORE_LISTING, 0, "live"),
		E("2001:db8:1:1::/64", STORE_LISTING, NOW - 1, "expired"),
		E("2001:db8:1:2::/64", STORE_LISTING, NOW, "expires now"),
		E("2001:db8:1:3::/64", STORE_LISTING, NOW + 1, "still live"),
		E("2001:db8:1:4::/64", STORE_EXCLUSION, NOW - 5, "expired hole"),
		E("2001:db8:1:5::/64", STORE_EXCLUSION, 0, "hole"),
	};
	ck_assert_int_eq(put_entries(st, ents, 6), 0);
	uint32_t s0 = serial(st);
	size_t removed = 0;
	ck_assert_int_eq(store_write(st, purge_fn, &removed), 0);
	ck_assert_uint_eq(removed, 3);
	ck_assert(serial_gt(serial(st), s0));
	ck_assert_uint_eq(count(st, STORE_LISTING), 2);
	ck_assert_uint_eq(count(st, STORE_EXCLUSION), 1);
	store_stats s;
	ck_assert_int_eq(store_get_stats(st, NOW, &s), 0);
	ck_assert_uint_eq(s.by_len[0][64], 1);
	ck_assert_uint_eq(s.by_len[1][64], 1);
	ck_assert_uint_eq(s.expired, 0);
	store_entry e;
	ck_assert_int_eq(lpm("2001:db8:1:3::1", 0, 128, &e), 0);
	ck_assert_uint_eq(e.pfx.len, 64);
	ck_assert_int_eq(lpm("2001:db8:1:5::1", 0, 128, &e), 0);
	ck_assert_int_eq(e.kind, STORE_EXCLUSION);

	/* Nothing left to purge: no new serial. */
	uint32_t s1 = serial(st);
	ck_assert_int_eq(store_write(st, purge_fn, &removed), 0);
	ck_assert_uint_eq(removed, 0);
	ck_assert_uint_eq(serial(st), s1);

	ck_assert_int_eq(store_write(st, clear_fn, NULL), 0);
	ck_assert(serial_gt(serial(st), s1));
	ck_assert_uint_eq(count(st, 0), 0);
	uint32_t s2 = serial(st);
	ck_assert_int_eq(store_write(st, clear_fn, NULL), 0);  /* clearing nothing changes nothing */
	ck_assert_uint_eq(serial(st), s2);
	ck_assert_int_eq(lpm("2001:db8:1:3::1", 0, 128, &e), V6R_ENOTFOUND);
	/* The length counts were reset too: a new entry is found at its length. */
	put1("2001:db8:1:3::/64", STORE_EXCLUSION, 0);
	ck_assert_int_eq(lpm("2001:db8:1:3::1", 0, 128, &e), 0);
	ck_assert_int_eq(e.kind, STORE_EXCLUSION);
	ck_assert_int_eq(store_get_stats(st, NOW, &s), 0);
	ck_assert_uint_eq(s.listings, 0);
	ck_assert_uint_eq(s.exclusions, 1);
}
END_TEST

static const struct below_case {
	const char *pfx;
	int want;
} below_cases[] = {
	{ "::/0", 1 },
	{ "2001:db8::/32", 1 },
	{ "2001:db8:1::/48", 1 },
	{ "2001:db8:1::/60", 1 },
	{ "2001:db8:1:10::/60", 0 },
	{ "2001:db8:1:2::/63", 1 },
	{ "2001:db8:1:2::/64", 1 },       /* the listing itself */
	{ "2001:db8:1:2::/80", 0 },       /* covered, not below */
	{ "2001:db8:1:2::/128", 0 },
	{ "2001:db8:1:3::/64", 0 },
	{ "2001:db8:5::/48", 0 },         /* only exclusions below */
	{ "2001:db8:5:1::/64", 0 },
	{ "2001:db8:6::/48", 0 },         /* only an expired listing below */
	{ "2001:db8:6:1::/64", 0 },
	{ "2001:db8:7::/48", 1 },         /* expired itself, a live listing below */
	{ "2001:db8:7:1:2::/80", 1 },
	{ "2001:db8:4::/47", 0 },
	{ "2001:db8:4::/46", 1 },
	{ "2001:db9::/32", 0 },
	{ "2001:db8:ffff::/48", 0 },
	{ "ffff::/16", 0 },
};

START_TEST(listed_below)
{
	const struct below_case *c = &below_cases[_i];
	store_entry ents[] = {
		E("2001:db8:1:2::/64", STORE_LISTING, 0, "x"),
		E("2001:db8:5::/48", STORE_EXCLUSION, 0, "x"),
		E("2001:db8:5:1::/64", STORE_EXCLUSION, 0, "x"),
		E("2001:db8:6:1::/64", STORE_LISTING, NOW - 1, "x"),
		E("2001:db8:6:1::5/128", STORE_LISTING, NOW, "x"),
		E("2001:db8:7::/48", STORE_LISTING, NOW - 1, "x"),
		E("2001:db8:7:1:2::/80", STORE_LISTING, 0, "x"),
	};
	ck_assert_int_eq(put_entries(st, ents, sizeof(ents) / sizeof(ents[0])), 0);
	int rc = below(c->pfx);
	ck_assert_msg(rc == c->want, "%s: got %d want %d", c->pfx, rc, c->want);
}
END_TEST

/* ---- Randomized comparison with a linear scan ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct model {
	addr_pfx p;
	store_kind kind;
	uint64_t expires;
	bool present;
};

#define RAND_ENTRIES 3000
#define RAND_QUERIES 4000

static struct model mdl[RAND_ENTRIES];
static size_t n_mdl;
static uint8_t bases[8][16];

static void rand_addr(uint8_t a[16])
{
	/* Mostly near a few bases so that entries nest; sometimes anywhere. */
	uint64_t x = rnd(), y = rnd();
	memcpy(a, &x, 8);
	memcpy(a + 8, &y, 8);
	if (rnd() % 8) {
		unsigned keep = (unsigned)(rnd() % 64);
		const uint8_t *b = bases[rnd() % 8];
		for (unsigned i = 0; i < keep; i++) {
			uint8_t bit = (uint8_t)(0x80 >> (i % 8));
			a[i / 8] = (uint8_t)((a[i / 8] & ~bit) | (b[i / 8] & bit));
		}
	}
}

static unsigned rand_len(void)
{
	static const uint8_t lens[] = { 0, 8, 16, 24, 32, 36, 40, 44, 48, 52, 56, 60, 64,
	                                64, 64, 72, 80, 96, 112, 120, 124, 127, 128, 128, 128 };
	if (rnd() % 10 == 0)
		return (unsigned)(rnd() % 129);
	return lens[rnd() % sizeof(lens)];
}

static int brute_lpm(const uint8_t a[16], unsigned minlen, unsigned maxlen)
{
	int best = -1;
	for (size_t i = 0; i < n_mdl; i++) {
		const struct model *m = &mdl[i];
		if (!m->present || m->p.len < minlen || m->p.len > maxlen)
			continue;
		if ((m->expires && m->expires <= NOW) || !addr_contains(&m->p, a))
			continue;
		if (best < 0 || m->p.len > mdl[best].p.len)
			best = (int)i;
	}
	return best;
}

static int brute_below(const addr_pfx *p)
{
	for (size_t i = 0; i < n_mdl; i++) {
		const struct model *m = &mdl[i];
		if (m->present && m->kind == STORE_LISTING && (!m->expires || m->expires > NOW) &&
		    addr_pfx_within(&m->p, p))
			return 1;
	}
	return 0;
}

struct rand_batch {
	size_t from, to;
	addr_pfx del[64];
	size_t ndel;
};

static int rand_fn(store_txn *t, void *arg)
{
	const struct rand_batch *b = arg;
	for (size_t i = b->from; i < b->to; i++) {
		store_entry e = E("::/0", mdl[i].kind, mdl[i].expires, "r");
		e.pfx = mdl[i].p;
		int rc = store_put(t, &e);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < b->ndel; i++) {
		int rc = store_del(t, &b->del[i]);
		if (rc && rc != V6R_ENOTFOUND)
			return rc;
	}
	return 0;
}

/* Builds the model (later duplicates replace earlier ones) and writes it in batches. */
static void rand_fill(void)
{
	for (unsigned i = 0; i < 8; i++)
		rand_addr(bases[i]);
	for (size_t done = 0; done < RAND_ENTRIES;) {
		struct rand_batch b = { done, done + 300, { { { 0 }, 0 } }, 0 };
		for (size_t i = b.from; i < b.to; i++) {
			struct model *m = &mdl[i];
			rand_addr(m->p.a);
			m->p.len = (uint8_t)rand_len();
			addr_mask(m->p.a, m->p.len);
			m->kind = rnd() % 10 < 7 ? STORE_LISTING : STORE_EXCLUSION;
			uint64_t ex = rnd() % 10;
			m->expires = ex < 6 ? 0 : ex < 8 ? NOW - rnd() % 1000 : NOW + 1 + rnd() % 1000;
			m->present = true;
			for (size_t j = 0; j < i; j++)
				if (mdl[j].present && addr_pfx_cmp(&mdl[j].p, &m->p) == 0)
					mdl[j].present = false;
		}
		n_mdl = b.to;
		for (; b.ndel < 30; b.ndel++) {
			b.del[b.ndel] = mdl[rnd() % n_mdl].p;
			for (size_t j = 0; j < n_mdl; j++)
				if (addr_pfx_cmp(&mdl[j].p, &b.del[b.ndel]) == 0)
					mdl[j].present = false;
		}
		ck_assert_int_eq(store_write(st, rand_fn, &b), 0);
		done = b.to;
	}
}

START_TEST(lpm_random)
{
	rng_state = 20240601;
	rand_fill();
	store_reader *r;
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	for (unsigned q = 0; q < RAND_QUERIES; q++) {
		uint8_t a[16];
		rand_addr(a);
		if (q % 2) {  /* inside an entry, at its edges or in its middle */
			const struct model *m = &mdl[rnd() % n_mdl];
			addr_pfx p = m->p;
			unsigned mode = (unsigned)(rnd() % 3);
			for (unsigned i = p.len; i < 128; i++) {
				uint8_t bit = (uint8_t)(0x80 >> (i % 8));
				bool on = mode == 0 ? false : mode == 1 ? true : (a[i / 8] & bit);
				p.a[i / 8] = (uint8_t)(on ? p.a[i / 8] | bit : p.a[i / 8] & ~bit);
			}
			memcpy(a, p.a, 16);
		}
		unsigned minlen = 0, maxlen = 128;
		if (rnd() % 3 == 0) {
			minlen = (unsigned)(rnd() % 129);
			maxlen = minlen + (unsigned)(rnd() % (129 - minlen));
		}
		store_entry e;
		int rc = store_lpm(r, a, minlen, maxlen, NOW, &e);
		int want = brute_lpm(a, minlen, maxlen);
		char as[ADDR_PFX_STRLEN];
		addr_format_addr(a, false, as, sizeof(as));
		if (want < 0) {
			ck_assert_msg(rc == V6R_ENOTFOUND, "q%u %s [%u,%u]: rc %d, want none", q, as,
			              minlen, maxlen, rc);
			continue;
		}
		char ws[ADDR_PFX_STRLEN];
		pfx_str(&mdl[want].p, ws);
		ck_assert_msg(rc == 0, "q%u %s [%u,%u]: rc %d, want %s", q, as, minlen, maxlen, rc, ws);
		char gs[ADDR_PFX_STRLEN];
		pfx_str(&e.pfx, gs);
		ck_assert_msg(addr_pfx_cmp(&e.pfx, &mdl[want].p) == 0 && e.kind == mdl[want].kind,
		              "q%u %s [%u,%u]: got %s kind %d, want %s kind %d", q, as, minlen, maxlen,
		              gs, e.kind, ws, mdl[want].kind);
	}
	for (unsigned q = 0; q < RAND_QUERIES / 4; q++) {
		addr_pfx p;
		rand_addr(p.a);
		p.len = (uint8_t)rand_len();
		addr_mask(p.a, p.len);
		char ps[ADDR_PFX_STRLEN];
		pfx_str(&p, ps);
		ck_assert_msg(store_listed_below(r, &p, NOW) == brute_below(&p), "below %s", ps);
	}
	store_reader_end(r);
	store_reader_free(r);
}
END_TEST

/* ---- Map growth and failed batches ---- */

#define MANY 5000

static void many_entries(store_entry *e, size_t n, unsigned seed)
{
	static const char reason[] = "listed by the map growth test, forty+ bytes";
	for (size_t i = 0; i < n; i++) {
		char s[64];
		snprintf(s, sizeof(s), "2001:db8:%x:%x::%zx/128", seed, (unsigned)(i / 1000), i);
		e[i] = E(s, STORE_LISTING, 0, reason);
	}
}

START_TEST(map_full_grows)
{
	char sub[192];
	snprintf(sub, sizeof(sub), "%s/small", dir);
	store *s;
	ck_assert_int_eq(store_open(&s, sub, 0, SMALL_MAP), 0);
	store_stats before;
	ck_assert_int_eq(store_get_stats(s, NOW, &before), 0);
	ck_assert_uint_eq(before.map_size, SMALL_MAP);

	static store_entry e[MANY];
	many_entries(e, MANY, 1);
	struct puts b = { e, MANY, 0, 0 };
	ck_assert_int_eq(store_write(s, put_all, &b), 0);
	ck_assert_int_gt(b.calls, 1);  /* the batch was rerun after growing the map */

	store_stats after;
	ck_assert_int_eq(store_get_stats(s, NOW, &after), 0);
	ck_assert_uint_eq(after.listings, MANY);
	ck_assert_uint_eq(after.by_len[0][128], MANY);
	ck_assert_uint_gt(after.map_size, SMALL_MAP);
	ck_assert_uint_le(after.used_bytes, after.map_size);
	ck_assert_uint_gt(after.used_bytes, SMALL_MAP / 2);

	store_reader *r;
	ck_assert_int_eq(store_reader_new(s, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	for (size_t i = 0; i < MANY; i++) {
		store_entry g;
		ck_assert_int_eq(store_lpm(r, e[i].pfx.a, 0, 128, NOW, &g), 0);
		ck_assert_int_eq(addr_pfx_cmp(&g.pfx, &e[i].pfx), 0);
	}
	store_reader_free(r);  /* frees while active: ends it first */
	store_close(s);

	/* Reopening with a smaller size keeps the grown map. */
	ck_assert_int_eq(store_open(&s, sub, 0, SMALL_MAP), 0);
	store_stats again;
	ck_assert_int_eq(store_get_stats(s, NOW, &again), 0);
	ck_assert_uint_ge(again.map_size, after.map_size);
	store_close(s);
}
END_TEST

START_TEST(failed_batch_leaves_nothing)
{
	static store_entry e[200];
	many_entries(e, 200, 2);
	uint32_t s0 = serial(st);
	struct puts b = { e, 200, 0, V6R_EINVAL };
	ck_assert_int_eq(store_write(st, put_all, &b), V6R_EINVAL);
	b.ret = 7;  /* any non-zero value of fn comes back as is */
	ck_assert_int_eq(store_write(st, put_all, &b), 7);
	ck_assert_uint_eq(count(st, 0), 0);
	ck_assert_uint_eq(serial(st), s0);
	store_entry g;
	ck_assert_int_eq(lpm("2001:db8:2::1", 0, 128, &g), V6R_ENOTFOUND);
	/* A bad entry in the middle fails the whole batch as well. */
	e[100].code[0] = 128;
	b.ret = 0;
	ck_assert_int_eq(store_write(st, put_all, &b), V6R_ECODE);
	ck_assert_uint_eq(count(st, 0), 0);
}
END_TEST

/* ---- Corruption and open errors ---- */

START_TEST(corrupt_record)
{
	put1("2001:db8:1::/48", STORE_LISTING, 0);
	put1("2001:db8:2::/48", STORE_LISTING, 0);
	put1("2001:db8:3::/48", STORE_EXCLUSION, 0);
	put1("2001:db8:4::/48", STORE_LISTING, 0);
	store_close(st);
	st = NULL;
	uint8_t key[17], v2[40] = { 2 }, shortv[10] = { 1 };
	key_of("2001:db8:1::/48", key);
	raw_put("listings", key, 17, v2, sizeof(v2));          /* unknown record version */
	key_of("2001:db8:2::/48", key);
	raw_put("listings", key, 17, shortv, sizeof(shortv));  /* truncated */
	key_of("2001:db8:3::/48", key);
	raw_put("exclusions", key, 17, shortv, 0);             /* empty */
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);

	store_entry e;
	ck_assert_int_eq(lpm("2001:db8:1::1", 0, 128, &e), V6R_ECORRUPT);
	ck_assert_int_eq(lpm("2001:db8:2::1", 0, 128, &e), V6R_ECORRUPT);
	ck_assert_int_eq(lpm("2001:db8:3::1", 0, 128, &e), V6R_ECORRUPT);
	ck_assert_int_eq(lpm("2001:db8:4::1", 0, 128, &e), 0);
	ck_assert_int_eq(get1(st, "2001:db8:1::/48", NULL), V6R_ECORRUPT);
	ck_assert_int_eq(below("2001:db8:2::/48"), V6R_ECORRUPT);
	ck_assert_int_eq(below("2001:db8:4::/48"), 1);
	size_t n = 0;
	ck_assert_int_eq(store_foreach(st, 0, count_fn, &n), V6R_ECORRUPT);
	store_stats s;
	ck_assert_int_eq(store_get_stats(st, NOW, &s), V6R_ECORRUPT);

	/* A key of the wrong size. */
	store_close(st);
	st = NULL;
	raw_put("listings", "short", 5, v2, sizeof(v2));
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
	n = 0;
	ck_assert_int_eq(store_foreach(st, STORE_LISTING, count_fn, &n), V6R_ECORRUPT);

	/* Broken meta: readers and writers refuse. */
	store_close(st);
	st = NULL;
	raw_put("meta", "lens", 4, v2, 12);
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
	store_reader *r;
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), V6R_ECORRUPT);
	ck_assert_ptr_nonnull(strstr(store_lasterr(st), "lens"));
	store_reader_free(r);
	ck_assert_int_eq(put_entries(st, NULL, 0), V6R_ECORRUPT);
}
END_TEST

START_TEST(open_errors)
{
	char path[256];
	store *s = (store *)1;

	snprintf(path, sizeof(path), "%s/missing", dir);
	ck_assert_int_eq(store_open(&s, path, STORE_RDONLY, 0), V6R_EIO);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(store_open_error(), "failed to open store"));
	ck_assert_ptr_nonnull(strstr(store_open_error(), path));

	snprintf(path, sizeof(path), "%s/file", dir);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/sub", dir);
	ck_assert_int_eq(store_open(&s, path, 0, 0), V6R_EIO);
	ck_assert_ptr_nonnull(strstr(store_open_error(), "file"));

	/* mkdir -p with 0750. */
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(store_open(&s, path, 0, 0), 0);
	struct stat sb;
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0750);
	store_close(s);

	/* Read-only: reads work, writes are refused. (One environment handle per process at a
	 * time: LMDB's fcntl locks do not survive a second handle being closed.) */
	put1("2001:db8::/32", STORE_LISTING, 0);
	store_close(st);
	st = NULL;
	ck_assert_int_eq(store_open(&s, dir, STORE_RDONLY, 0), 0);
	ck_assert_uint_eq(count(s, 0), 1);
	ck_assert_int_eq(put_entries(s, NULL, 0), V6R_EINVAL);
	store_close(s);

	/* A store of another version. */
	uint8_t v[4] = { 2, 0, 0, 0 };
	raw_put("meta", "version", 7, v, 4);
	ck_assert_int_eq(store_open(&s, dir, 0, 0), V6R_EVERSION);
	ck_assert_ptr_nonnull(strstr(store_open_error(), "version"));
	ck_assert_int_eq(store_open(&s, dir, STORE_RDONLY, 0), V6R_EVERSION);
	v[0] = 1;
	raw_put("meta", "version", 7, v, 4);
	reopen();
}
END_TEST

/* ---- Readers ---- */

START_TEST(reader_sees_commits)
{
	store_reader *r;
	store_entry e;
	addr_pfx a = P("2001:db8:9::1");
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	uint32_t s0 = store_reader_serial(r);
	ck_assert_uint_eq(s0, serial(st));
	ck_assert_int_eq(store_lpm(r, a.a, 0, 128, NOW, &e), V6R_ENOTFOUND);
	store_reader_end(r);

	put1("2001:db8:9::/48", STORE_LISTING, 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert(serial_gt(store_reader_serial(r), s0));
	ck_assert_int_eq(store_lpm(r, a.a, 0, 128, NOW, &e), 0);
	ck_assert_uint_eq(e.pfx.len, 48);

	/* A snapshot does not change under an open reader; the next begin sees the commit. */
	uint32_t s1 = store_reader_serial(r);
	put1("2001:db8:9::/64", STORE_EXCLUSION, 0);
	ck_assert_int_eq(store_lpm(r, a.a, 0, 128, NOW, &e), 0);
	ck_assert_int_eq(e.kind, STORE_LISTING);
	ck_assert_uint_eq(store_reader_serial(r), s1);
	store_reader_end(r);
	ck_assert_int_eq(store_lpm(r, a.a, 0, 128, NOW, &e), V6R_EINVAL);  /* not begun */
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert_int_eq(store_lpm(r, a.a, 0, 128, NOW, &e), 0);
	ck_assert_int_eq(e.kind, STORE_EXCLUSION);
	ck_assert(serial_gt(store_reader_serial(r), s1));
	store_reader_end(r);

	/* Many recycled begins with no commit keep working. */
	for (int i = 0; i < 1000; i++) {
		ck_assert_int_eq(store_reader_begin(r), 0);
		store_reader_end(r);
	}
	store_reader_free(r);
}
END_TEST

START_TEST(reader_after_other_process_grew_map)
{
	char sub[192];
	snprintf(sub, sizeof(sub), "%s/shared", dir);
	store *s;
	ck_assert_int_eq(store_open(&s, sub, 0, SMALL_MAP), 0);
	store_reader *r;
	ck_assert_int_eq(store_reader_new(s, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	uint32_t s0 = store_reader_serial(r);
	store_reader_end(r);

	/* Another process (its own environment handle) fills the store far past our map. */
	static store_entry e[MANY];
	many_entries(e, MANY, 3);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		store *w;
		if (store_open(&w, sub, 0, SMALL_MAP) != 0)
			_exit(2);
		int rc = put_entries(w, e, MANY);
		store_close(w);
		_exit(rc == 0 ? 0 : 3);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);

	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert(serial_gt(store_reader_serial(r), s0));
	for (size_t i = 0; i < MANY; i += 7) {
		store_entry g;
		ck_assert_int_eq(store_lpm(r, e[i].pfx.a, 0, 128, NOW, &g), 0);
		ck_assert_int_eq(addr_pfx_cmp(&g.pfx, &e[i].pfx), 0);
	}
	store_reader_end(r);
	store_stats st2;
	ck_assert_int_eq(store_get_stats(s, NOW, &st2), 0);
	ck_assert_uint_gt(st2.map_size, SMALL_MAP);
	ck_assert_uint_eq(st2.listings, MANY);
	store_reader_free(r);
	store_close(s);
}
END_TEST

/* Reader threads query while the writer grows a small map under them. */
struct rthread {
	store *s;
	int errors;
	unsigned seen;
};

#define T_BATCHES 30
#define T_PER 200

static void *reader_thread(void *arg)
{
	struct rthread *t = arg;
	store_reader *r;
	if (store_reader_new(t->s, &r) != 0) {
		t->errors++;
		return NULL;
	}
	unsigned last = 0;
	for (int it = 0; it < 400 && last < T_BATCHES; it++) {
		if (store_reader_begin(r) != 0) {
			t->errors++;
			break;
		}
		/* Batches commit in order, so the visible ones are a prefix of them. */
		unsigned vis = 0;
		for (unsigned b = 0; b < T_BATCHES; b++) {
			store_entry e;
			addr_pfx a;
			char s[64];
			snprintf(s, sizeof(s), "2001:db8:%x::1", b);
			addr_parse(s, strlen(s), 0, &a);
			int rc = store_lpm(r, a.a, 0, 128, NOW, &e);
			if (rc == 0 && vis == b)
				vis++;
			else if (rc == 0 || rc != V6R_ENOTFOUND)
				t->errors++;
		}
		if (vis < last)
			t->errors++;
		last = vis;
		store_reader_end(r);
		usleep(1000);
	}
	t->seen = last;
	store_reader_free(r);
	return NULL;
}

START_TEST(threads_and_growth)
{
	char sub[192];
	snprintf(sub, sizeof(sub), "%s/threads", dir);
	store *s;
	ck_assert_int_eq(store_open(&s, sub, 0, SMALL_MAP), 0);
	pthread_t th[4];
	struct rthread t[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct rthread){ s, 0, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, reader_thread, &t[i]), 0);
	}
	static store_entry e[T_PER];
	for (unsigned b = 0; b < T_BATCHES; b++) {
		for (unsigned i = 0; i < T_PER; i++) {
			char c[64];
			/* One /48 per batch, padding /128s elsewhere to grow the map. */
			if (i == 0)
				snprintf(c, sizeof(c), "2001:db8:%x::/48", b);
			else
				snprintf(c, sizeof(c), "2001:db9:%x:%x::/64", b, i);
			e[i] = E(c, STORE_LISTING, 0, "padding padding padding padding padding");
		}
		ck_assert_int_eq(put_entries(s, e, T_PER), 0);
	}
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(t[i].errors, 0);
	}
	store_stats ss;
	ck_assert_int_eq(store_get_stats(s, NOW, &ss), 0);
	ck_assert_uint_gt(ss.map_size, SMALL_MAP);
	store_close(s);
}
END_TEST

START_TEST(stats)
{
	store_entry ents[] = {
		E("2001:db8:1::/48", STORE_LISTING, 0, "a"),
		E("2001:db8:2::/48", STORE_LISTING, NOW - 1, "b"),
		E("2001:db8:3::/64", STORE_LISTING, 0, "c"),
		E("2001:db8:4::/64", STORE_EXCLUSION, 0, "d"),
		E("192.0.2.1/32", STORE_LISTING, NOW + 10, "e"),
	};
	ents[0].origin = STORE_ORIGIN_SENSOR;
	ents[1].origin = STORE_ORIGIN_AGGREGATE;
	ents[2].origin = STORE_ORIGIN_SENSOR;
	ck_assert_int_eq(put_entries(st, ents, 5), 0);
	store_stats s;
	ck_assert_int_eq(store_get_stats(st, NOW, &s), 0);
	ck_assert_uint_eq(s.serial, serial(st));
	ck_assert_uint_eq(s.listings, 4);
	ck_assert_uint_eq(s.exclusions, 1);
	ck_assert_uint_eq(s.by_len[0][48], 2);
	ck_assert_uint_eq(s.by_len[0][64], 1);
	ck_assert_uint_eq(s.by_len[0][128], 1);
	ck_assert_uint_eq(s.by_len[1][64], 1);
	ck_assert_uint_eq(s.by_origin[STORE_ORIGIN_OPERATOR], 1);
	ck_assert_uint_eq(s.by_origin[STORE_ORIGIN_SENSOR], 2);
	ck_assert_uint_eq(s.by_origin[STORE_ORIGIN_AGGREGATE], 1);
	ck_assert_uint_eq(s.expired, 1);
	ck_assert_uint_eq(s.map_size, STORE_DEFAULT_MAPSIZE);
	ck_assert_uint_gt(s.used_bytes, 0);
	ck_assert_str_eq(store_lasterr(st), "");
}
END_TEST

Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	struct {
		const char *name;
		const TTest *test;
		int n;
	} cases[] = {
		{ "entries", roundtrip, 1 },
		{ "replace", replace, 1 },
		{ "kind_switch", kind_switch, 1 },
		{ "validation", validation, 1 },
		{ "serial", serial_rules, 1 },
		{ "lpm_nested", lpm_nested, sizeof(lpm_cases) / sizeof(lpm_cases[0]) },
		{ "lpm_bounds", lpm_bounds, sizeof(bound_cases) / sizeof(bound_cases[0]) },
		{ "expiry", expiry, 1 },
		{ "purge_clear", purge_and_clear, 1 },
		{ "listed_below", listed_below, sizeof(below_cases) / sizeof(below_cases[0]) },
		{ "lpm_random", lpm_random, 1 },
		{ "map_full", map_full_grows, 1 },
		{ "failed_batch", failed_batch_leaves_nothing, 1 },
		{ "corrupt", corrupt_record, 1 },
		{ "open_errors", open_errors, 1 },
		{ "reader", reader_sees_commits, 1 },
		{ "reader_resize", reader_after_other_process_grew_map, 1 },
		{ "threads", threads_and_growth, 1 },
		{ "stats", stats, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 120);
		tcase_add_unchecked_fixture(tc, base_setup, base_teardown);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_loop_test(tc, cases[i].test, 0, cases[i].n);
		suite_add_tcase(s, tc);
	}
	return s;
}
