/* check_lookup.c: the answer semantics of DESIGN.md on a real store: full, partial, junk names. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "../zone/lookup.h"
#include "../zone/store.h"
#include "suites.h"

static char dir[64];
static store *st;
static store_reader *rd;
static uint64_t now;

typedef struct seed {
	const char *pfx;
	store_kind kind;
	uint8_t code;      /* last octet of 127.0.0.x */
	int64_t expires;   /* relative to now; 0 = never */
} seed;

static const seed seeds[] = {
	{ "2001:db8:aa::/48", STORE_LISTING, 2, 0 },
	{ "2001:db8:aa:1::/64", STORE_EXCLUSION, 0, 0 },
	{ "2001:db8:aa:1::25/128", STORE_LISTING, 3, 0 },
	{ "2001:db8:bb:8000::/49", STORE_LISTING, 5, 0 },
	{ "2001:db8:cc::/48", STORE_EXCLUSION, 0, 0 },
	{ "192.0.2.0/24", STORE_LISTING, 4, 0 },
	{ "2001:db8:dd::/64", STORE_LISTING, 6, -10 },
	{ "2001:db8:ee::/48", STORE_LISTING, 7, 0 },
	{ "2001:db8:ee:5::/64", STORE_LISTING, 8, -10 },
	{ "2.0.0.0/24", STORE_LISTING, 9, 0 },      /* its labels 2, 0, 0 are nibbles of 2000::/12 */
	{ "3000::/12", STORE_LISTING, 10, 0 },      /* its nibbles 3, 0, 0 are octets of 3.0.0/24 */
};

static int fill(store_txn *t, void *arg)
{
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		store_entry e = { .kind = seeds[i].kind, .origin = STORE_ORIGIN_OPERATOR,
		                  .created = now, .updated = now, .reason = "r", .reason_len = 1 };
		ck_assert_int_eq(addr_parse(seeds[i].pfx, strlen(seeds[i].pfx), 0, &e.pfx), 0);
		if (seeds[i].kind == STORE_LISTING) {
			e.code[0] = 127;
			e.code[3] = seeds[i].code;
		}
		if (seeds[i].expires)
			e.expires = (uint64_t)((int64_t)now + seeds[i].expires);
		int rc = store_put(t, &e);
		if (rc)
			return rc;
	}
	return 0;
}

static void setup(void)
{
	now = (uint64_t)time(NULL);
	strcpy(dir, "/tmp/v6rep-lk-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
	ck_assert_int_eq(store_write(st, fill, NULL), 0);
	ck_assert_int_eq(store_reader_new(st, &rd), 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	store_reader_free(rd);
	store_close(st);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* Turns "a.b.c" into wire labels; returns the label count. */
static unsigned to_wire(const char *name, uint8_t *wire, const uint8_t **labs)
{
	unsigned n = 0;
	size_t o = 0;
	const char *p = name;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		labs[n++] = wire + o;
		wire[o++] = (uint8_t)len;
		memcpy(wire + o, p, len);
		o += len;
		p += len + (dot ? 1 : 0);
	}
	wire[o] = 0;
	return n;
}

/* The nibble name of the first `nibbles` nibbles of an address, optionally with a prefix label. */
static void nib(const char *addr, unsigned nibbles, const char *junk, char *out)
{
	addr_pfx p;
	ck_assert_int_eq(addr_parse(addr, strlen(addr), ADDR_MASK_HOST, &p), 0);
	char tmp[80];
	ck_assert_int_ge(addr_nibble_name(p.a, nibbles, tmp, sizeof(tmp)), 0);
	sprintf(out, "%s%s%s", junk ? junk : "", junk ? "." : "", tmp);
}

typedef struct name_case {
	const char *addr;    /* address whose nibbles make the name, or NULL for `text` */
	unsigned nibbles;
	const char *junk;    /* extra leftmost label */
	const char *text;    /* literal name below the apex when addr is NULL */
	lk_verdict want;
	uint8_t code;        /* last octet when LK_LISTED */
	int v4;              /* expected res.v4 when listed: 0/1, -1 = don't care */
} name_case;

static const name_case cases[] = {
	/* full IPv6 names */
	{ "2001:db8:aa::1", 32, NULL, NULL, LK_LISTED, 2, 0 },
	{ "2001:db8:aa:1::1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8:aa:1::25", 32, NULL, NULL, LK_LISTED, 3, 0 },
	{ "2001:db8:bb:8000::1", 32, NULL, NULL, LK_LISTED, 5, 0 },
	{ "2001:db8:bb:7fff::1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8:dd::1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8:ee:5::1", 32, NULL, NULL, LK_LISTED, 7, 0 },
	{ "2001:db8:cc::1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "::ffff:127.0.0.2", 32, NULL, NULL, LK_LISTED, 2, 0 },
	{ "::ffff:127.0.0.1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "::ffff:192.0.2.77", 32, NULL, NULL, LK_LISTED, 4, 0 },
	/* full IPv4 names */
	{ NULL, 0, NULL, "77.2.0.192", LK_LISTED, 4, 1 },
	{ NULL, 0, NULL, "1.3.0.192", LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "2.0.0.127", LK_LISTED, 2, 1 },
	{ NULL, 0, NULL, "1.0.0.127", LK_NXDOMAIN, 0, -1 },
	/* partial IPv6 names */
	{ "2001::", 4, NULL, NULL, LK_LISTED, 9, 1 },      /* "1.0.0.2" is IPv4 2.0.0.1, in 2.0.0.0/24 */
	{ NULL, 0, NULL, "1.0.0.3", LK_NODATA, 0, -1 },    /* 3.0.0.1 unlisted; 3001::/16 under 3000::/12 */
	{ NULL, 0, NULL, "0.0.3", LK_LISTED, 10, 0 },      /* partial: the /12 itself */
	{ "2001:db8:ff::1", 32, NULL, NULL, LK_NXDOMAIN, 0, -1 }, /* 2.0.0.0/24 must not reach it */
	{ "3001:db8::1", 32, NULL, NULL, LK_LISTED, 10, 0 },
	{ "2001:db8::", 8, NULL, NULL, LK_NODATA, 0, -1 },
	{ "2001:db8::", 10, NULL, NULL, LK_NODATA, 0, -1 },  /* /40 above aa and cc */
	{ "2001:db8:aa::", 12, NULL, NULL, LK_LISTED, 2, 0 },
	{ "2001:db8:aa:f000::", 13, NULL, NULL, LK_LISTED, 2, 0 },
	{ "2001:db8:aa:1::", 16, NULL, NULL, LK_NODATA, 0, -1 }, /* excluded, /128 listed below */
	{ "2001:db8:aa:1::", 20, NULL, NULL, LK_NODATA, 0, -1 },
	{ "2001:db8:aa:1:1000::", 17, NULL, NULL, LK_NXDOMAIN, 0, -1 }, /* excluded, nothing below */
	{ "2001:db8:aa:2::", 16, NULL, NULL, LK_LISTED, 2, 0 },
	{ "2001:db8:cc::", 12, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8:bb::", 12, NULL, NULL, LK_NODATA, 0, -1 },  /* the /49 lies below */
	{ "2001:db8:bb:8000::", 13, NULL, NULL, LK_LISTED, 5, 0 },
	{ "2001:db8:bb:0::", 13, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8:dd::", 12, NULL, NULL, LK_NXDOMAIN, 0, -1 }, /* only an expired listing below */
	{ "2001:db8:dd::", 16, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	{ "::ffff:0:0", 24, NULL, NULL, LK_NODATA, 0, -1 },      /* IPv4 listings below */
	{ "3000::", 1, NULL, NULL, LK_NODATA, 0, -1 },      /* 3000::/12 lies below */
	{ "4000::", 1, NULL, NULL, LK_NXDOMAIN, 0, -1 },
	/* partial IPv4 names */
	{ NULL, 0, NULL, "2.0.192", LK_LISTED, 4, 1 },
	{ NULL, 0, NULL, "0.192", LK_NODATA, 0, -1 },
	{ NULL, 0, NULL, "192", LK_NODATA, 0, -1 },
	{ NULL, 0, NULL, "127", LK_NODATA, 0, -1 },
	{ NULL, 0, NULL, "10", LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "3.0.192", LK_NXDOMAIN, 0, -1 },
	/* junk labels */
	{ "2001:db8:aa::1", 32, "www", NULL, LK_LISTED, 2, 0 },  /* the /48 wildcard synthesises it */
	{ "2001:db8:aa:1::25", 32, "x", NULL, LK_NXDOMAIN, 0, -1 },
	{ "2001:db8::", 8, "x", NULL, LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "www", LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "x.5.2.0.192", LK_NXDOMAIN, 0, -1 },  /* more than 4 labels: no IPv4 name */
	{ NULL, 0, NULL, "x.1.0.0.127", LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "x.2.0.192", LK_NXDOMAIN, 0, -1 },
	{ NULL, 0, NULL, "01.2.0.192", LK_NXDOMAIN, 0, -1 },  /* "01" is no octet */
};

START_TEST(names)
{
	const name_case *t = &cases[_i];
	char name[200];
	uint8_t wire[256];
	const uint8_t *labs[128];
	if (t->addr)
		nib(t->addr, t->nibbles, t->junk, name);
	else
		strcpy(name, t->text);
	unsigned n = to_wire(name, wire, labs);
	lk_result res;
	ck_assert_int_eq(store_reader_begin(rd), 0);
	int rc = lk_name(rd, labs, n, now, &res);
	ck_assert_int_eq(rc, 0);
	ck_assert_msg(res.verdict == t->want, "%s: verdict %d, want %d", name, res.verdict, t->want);
	if (t->want == LK_LISTED) {
		ck_assert_msg(res.e.code[0] == 127 && res.e.code[3] == t->code, "%s: code %u.%u.%u.%u",
		              name, res.e.code[0], res.e.code[1], res.e.code[2], res.e.code[3]);
		if (t->v4 >= 0)
			ck_assert_msg(res.v4 == (t->v4 == 1), "%s: v4 %d", name, res.v4);
	}
	store_reader_end(rd);
}
END_TEST

START_TEST(full_flag)
{
	char name[200];
	uint8_t wire[256];
	const uint8_t *labs[128];
	lk_result res;
	nib("2001:db8:aa::1", 32, NULL, name);
	unsigned n = to_wire(name, wire, labs);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	ck_assert_int_eq(lk_name(rd, labs, n, now, &res), 0);
	ck_assert(res.full);
	ck_assert_uint_eq(res.addr[15], 1);
	nib("2001:db8:aa::", 13, NULL, name);
	n = to_wire(name, wire, labs);
	ck_assert_int_eq(lk_name(rd, labs, n, now, &res), 0);
	ck_assert(!res.full);
	store_reader_end(rd);
}
END_TEST

typedef struct addr_case {
	const char *addr;
	int v4;
	int listed;
	int found;
	const char *decider;  /* CIDR of the deciding entry when found */
} addr_case;

static const addr_case acases[] = {
	{ "2001:db8:aa::1", 0, 1, 1, "2001:db8:aa::/48" },
	{ "2001:db8:aa:1::1", 0, 0, 1, "2001:db8:aa:1::/64" },
	{ "2001:db8:aa:1::25", 0, 1, 1, "2001:db8:aa:1::25/128" },
	{ "2001:db8:ff::1", 0, 0, 0, NULL },
	{ "192.0.2.9", 1, 1, 1, "192.0.2.0/24" },
	{ "127.0.0.2", 1, 1, 1, "127.0.0.2/32" },
	{ "127.0.0.1", 1, 0, 0, NULL },
	{ "2001:db8:dd::1", 0, 0, 0, NULL },
};

START_TEST(addrs)
{
	const addr_case *t = &acases[_i];
	addr_pfx p;
	store_entry e;
	bool found;
	ck_assert_int_eq(addr_parse(t->addr, strlen(t->addr), 0, &p), 0);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	int rc = lk_addr(rd, p.a, t->v4, now, &e, &found);
	ck_assert_int_eq(rc, t->listed);
	ck_assert_int_eq(found, t->found);
	if (t->decider) {
		char buf[ADDR_PFX_STRLEN];
		ck_assert_int_gt(addr_format(&e.pfx, buf, sizeof(buf)), 0);
		ck_assert_str_eq(buf, t->decider);
	}
	store_reader_end(rd);
}
END_TEST

/* An expired listing stops deciding at its expiry time, not before. */
START_TEST(expiry_boundary)
{
	addr_pfx p;
	store_entry e;
	bool found;
	ck_assert_int_eq(addr_parse("2001:db8:dd::1", 14, 0, &p), 0);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	ck_assert_int_eq(lk_addr(rd, p.a, false, now - 11, &e, &found), 1);
	ck_assert_int_eq(lk_addr(rd, p.a, false, now - 10, &e, &found), 0);
	store_reader_end(rd);
}
END_TEST

Suite *lookup_suite(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc = tcase_create("lookup");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, names, 0, sizeof(cases) / sizeof(cases[0]));
	tcase_add_test(tc, full_flag);
	tcase_add_loop_test(tc, addrs, 0, sizeof(acases) / sizeof(acases[0]));
	tcase_add_test(tc, expiry_boundary);
	suite_add_tcase(s, tc);
	return s;
}
