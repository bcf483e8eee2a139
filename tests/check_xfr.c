/* check_xfr.c: the store journal, IXFR differences against full renderings, transfer messages
 * (request parsing, compression, TSIG chains checked by ldns) and the transfer settings. */
#include <arpa/inet.h>
#include <check.h>
#include <ftw.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/tsig.h"
#include "../server/xfrmsg.h"
#include "../zone/cfg.h"
#include "../zone/err.h"
#include "../zone/ixfr.h"
#include "../zone/render.h"
#include "../zone/store.h"
#include "suites.h"

static char dir[64];
static store *st;

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb; (void)type; (void)ftw;
	return remove(path);
}

static void setup(void)
{
	strcpy(dir, "/tmp/v6r-xfr-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	int rc = store_open(&st, dir, 0, 0);
	ck_assert_msg(rc == 0, "store_open: %s", store_open_error());
}

static void teardown(void)
{
	store_close(st);
	st = NULL;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- helpers: entries and batches ---- */

static addr_pfx P(const char *s)
{
	addr_pfx p;
	ck_assert_msg(addr_parse(s, strlen(s), 0, &p) == 0, "bad prefix %s", s);
	return p;
}

typedef struct op {
	char what;          /* 'L' listing, 'X' exclusion, 'D' delete, 'C' clear, 'E' purge */
	addr_pfx p;
	uint8_t code;
	uint64_t expires;
	const char *reason;
} op;

typedef struct batch {
	const op *ops;
	size_t n;
} batch;

static int apply(store_txn *t, void *arg)
{
	const batch *b = arg;
	for (size_t i = 0; i < b->n; i++) {
		const op *o = &b->ops[i];
		store_entry e = { .pfx = o->p, .kind = o->what == 'X' ? STORE_EXCLUSION : STORE_LISTING,
		                  .code = { 127, 0, 0, o->code ? o->code : 2 }, .expires = o->expires,
		                  .reason = o->reason, .reason_len = o->reason ? strlen(o->reason) : 0 };
		if (o->what == 'X')
			memset(e.code, 0, 4);
		int rc = 0;
		size_t removed;
		switch (o->what) {
		case 'D': rc = store_del(t, &o->p); break;
		case 'C': rc = store_clear(t); break;
		case 'E': rc = store_purge_expired(t, 1000, &removed); break;
		default: rc = store_put(t, &e); break;
		}
		if (rc && rc != V6R_ENOTFOUND)
			return rc;
	}
	return 0;
}

static uint32_t commit(const op *ops, size_t n)
{
	batch b = { ops, n };
	ck_assert_int_eq(store_write(st, apply, &b), 0);
	uint32_t s;
	ck_assert_int_eq(store_serial(st, &s), 0);
	return s;
}

/* ---- the journal ---- */

typedef struct seen {
	size_t n;
	char text[64][160];
} seen;

static int record_change(const store_change *c, void *arg)
{
	seen *s = arg;
	char p[ADDR_PFX_STRLEN];
	addr_format(&c->pfx, p, sizeof(p));
	ck_assert_uint_lt(s->n, 64);
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s %s%.*s -> %s%.*s", p,
	         c->old ? (c->old->kind == STORE_LISTING ? "L:" : "X:") : "-",
	         c->old ? (int)c->old->reason_len : 0, c->old ? c->old->reason : "",
	         c->cur ? (c->cur->kind == STORE_LISTING ? "L:" : "X:") : "-",
	         c->cur ? (int)c->cur->reason_len : 0, c->cur ? c->cur->reason : "");
	return 0;
}

static int since(uint32_t from, seen *s)
{
	store_reader *r;
	memset(s, 0, sizeof(*s));
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	int rc = store_journal_since(r, from, record_change, s);
	store_reader_end(r);
	store_reader_free(r);
	return rc;
}

START_TEST(journal_changes)
{
	uint32_t s0, s1, s2, s3, s4;
	ck_assert_int_eq(store_serial(st, &s0), 0);
	op a[] = { { 'L', P("2001:db8:1::/48"), 2, 0, "one" }, { 'L', P("2001:db8:2::/48"), 3, 0, "two" } };
	s1 = commit(a, 2);
	op b[] = { { 'X', P("2001:db8:1::/48"), 0, 0, "now excluded" }, { 'D', P("2001:db8:2::/48"), 0, 0, NULL },
	           { 'D', P("2001:db8:9::/48"), 0, 0, NULL } };
	s2 = commit(b, 3);
	op c[] = { { 'L', P("2001:db8:3::/64"), 4, 500, "expires" } };
	s3 = commit(c, 1);
	op d[] = { { 'E', P("::/0"), 0, 0, NULL } };
	s4 = commit(d, 1);
	seen s;
	ck_assert_int_eq(since(s0, &s), 0);
	ck_assert_uint_eq(s.n, 6);
	ck_assert_str_eq(s.text[0], "2001:db8:1::/48 - -> L:one");
	ck_assert_str_eq(s.text[1], "2001:db8:2::/48 - -> L:two");
	ck_assert_str_eq(s.text[2], "2001:db8:1::/48 L:one -> X:now excluded");
	ck_assert_str_eq(s.text[3], "2001:db8:2::/48 L:two -> -");
	ck_assert_str_eq(s.text[4], "2001:db8:3::/64 - -> L:expires");
	ck_assert_str_eq(s.text[5], "2001:db8:3::/64 L:expires -> -");
	ck_assert_int_eq(since(s2, &s), 0);
	ck_assert_uint_eq(s.n, 2);
	ck_assert_int_eq(since(s4, &s), 0);          /* current: nothing to visit */
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(since(s1 + 100000, &s), V6R_ENOTFOUND);
	(void)s3;
}
END_TEST

START_TEST(journal_bounded)
{
	uint32_t serials[40];
	store_set_journal_limit(st, 20);    /* about six commits of two changes and a header */
	for (unsigned i = 0; i < 40; i++) {
		char pfx[64];
		snprintf(pfx, sizeof(pfx), "2001:db8:%x::/48", i + 1);
		op o[] = { { 'L', P(pfx), 2, 0, "a" }, { 'L', P(pfx), 3, 0, "b" } };
		serials[i] = commit(o, 2);
	}
	store_reader *r;
	uint64_t n;
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert_int_eq(store_journal_count(r, &n), 0);
	store_reader_end(r);
	store_reader_free(r);
	ck_assert_uint_le(n, 20);
	ck_assert_uint_ge(n, 15);
	seen s;
	ck_assert_int_eq(since(serials[10], &s), V6R_ENOTFOUND);   /* dropped */
	ck_assert_int_eq(since(serials[36], &s), 0);
	ck_assert_uint_eq(s.n, 6);
	/* a batch larger than the limit empties the journal; later commits chain from it */
	op big[24];
	for (unsigned i = 0; i < 24; i++) {
		static char text[24][64];
		snprintf(text[i], sizeof(text[i]), "2001:db8:ff:%x::/64", i);
		big[i] = (op){ 'L', P(text[i]), 2, 0, NULL };
	}
	uint32_t sb = commit(big, 24);
	ck_assert_int_eq(since(serials[39], &s), V6R_ENOTFOUND);
	op one[] = { { 'D', P("2001:db8:1::/48"), 0, 0, NULL } };
	commit(one, 1);
	ck_assert_int_eq(since(sb, &s), 0);
	ck_assert_uint_eq(s.n, 1);
	op clr[] = { { 'C', P("::/0"), 0, 0, NULL } };
	uint32_t sc = commit(clr, 1);
	ck_assert_int_eq(since(sb, &s), V6R_ENOTFOUND);
	ck_assert_int_eq(since(sc, &s), 0);
}
END_TEST

/* ---- IXFR differences against two full renderings ---- */

static rd_zone *test_zone(void)
{
	static cfg c;
	char err[256];
	rd_zone *z;
	cfg_defaults(&c);
	ck_assert_int_eq(cfg_set(&c, "zone", "v6bl.test", "test", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_set(&c, "ns", "ns1.v6bl.test", "test", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_finish(&c, CFG_SERVER, err, sizeof(err)), 0);
	ck_assert_msg(rd_zone_new(&c, &z, err, sizeof(err)) == 0, "%s", err);
	return z;
}

typedef struct lines {
	char **v;
	size_t n, cap;
} lines;

static void lines_add(lines *l, const rd_rr *rr)
{
	char buf[RD_TEXT_MAX];
	ck_assert_int_gt(rd_rr_text(rr, buf, sizeof(buf)), 0);
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		ck_assert_ptr_nonnull(l->v);
	}
	l->v[l->n++] = strdup(buf);
}

static int collect(const rd_rr *rr, void *arg)
{
	if (rr->type != 6)                        /* the SOA is the IXFR framing, not content */
		lines_add(arg, rr);
	return 0;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_free(lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void render_all(const rd_zone *z, lines *out)
{
	store_reader *r;
	memset(out, 0, sizeof(*out));
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert_int_eq(rd_render(z, r, 0, collect, out), 0);
	store_reader_end(r);
	store_reader_free(r);
	qsort(out->v, out->n, sizeof(*out->v), str_cmp);
}

/* a minus b, both sorted. */
static void minus(const lines *a, const lines *b, lines *out)
{
	size_t j = 0;
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < a->n; i++) {
		while (j < b->n && strcmp(b->v[j], a->v[i]) < 0)
			j++;
		if (j < b->n && strcmp(b->v[j], a->v[i]) == 0) {
			j++;
			continue;
		}
		out->v = realloc(out->v, (out->n + 1) * sizeof(*out->v));
		out->v[out->n++] = strdup(a->v[i]);
	}
}

static void diff_lines(const ix_diff *d, bool added, lines *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < ix_diff_count(d, added); i++) {
		rd_rr rr;
		ix_diff_get(d, added, i, &rr);
		lines_add(out, &rr);
	}
	qsort(out->v, out->n, sizeof(*out->v), str_cmp);
}

static void expect_same(const lines *want, const lines *got, const char *what, int seed)
{
	size_t n = want->n < got->n ? want->n : got->n;
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(strcmp(want->v[i], got->v[i]) == 0, "seed %d, %s record %zu: want %s got %s",
		              seed, what, i, want->v[i], got->v[i]);
	ck_assert_msg(want->n == got->n, "seed %d: %s: want %zu records, got %zu (first extra: %s)",
	              seed, what, want->n, got->n,
	              want->n > got->n ? want->v[n] : got->n > n ? got->v[n] : "");
}

/* A random prefix in a few crowded /40s, so that entries nest and overlap. */
static addr_pfx random_pfx(unsigned *seed)
{
	static const unsigned lens[] = { 44, 48, 52, 56, 60, 62, 64, 72, 96, 127, 128 };
	addr_pfx p;
	memset(&p, 0, sizeof(p));
	if (rand_r(seed) % 8 == 0) {                     /* IPv4, first octet above 9 */
		p.a[10] = p.a[11] = 0xff;
		p.a[12] = (uint8_t)(10 + rand_r(seed) % 3);
		p.a[13] = (uint8_t)(rand_r(seed) % 4);
		p.a[14] = (uint8_t)(rand_r(seed) % 256);
		p.a[15] = (uint8_t)(rand_r(seed) % 256);
		p.len = (uint8_t)(96 + (unsigned[]){ 16, 20, 24, 28, 32 }[rand_r(seed) % 5]);
	} else {
		p.a[0] = 0x20;
		p.a[1] = 0x01;
		p.a[2] = 0x0d;
		p.a[3] = 0xb8;
		p.a[4] = (uint8_t)(rand_r(seed) % 3);
		for (unsigned i = 5; i < 16; i++)
			p.a[i] = (uint8_t)(rand_r(seed) % (i < 8 ? 4 : 256));
		p.len = (uint8_t)lens[rand_r(seed) % (sizeof(lens) / sizeof(lens[0]))];
	}
	addr_mask(p.a, p.len);
	return p;
}

static void random_ops(unsigned *seed, op *ops, size_t n, char (*reasons)[32])
{
	for (size_t i = 0; i < n; i++) {
		unsigned r = (unsigned)rand_r(seed) % 10;
		snprintf(reasons[i], 32, "r%u", (unsigned)rand_r(seed) % 50);
		ops[i] = (op){ r < 6 ? 'L' : r < 8 ? 'X' : 'D', random_pfx(seed),
		               (uint8_t)(2 + rand_r(seed) % 5), 0, reasons[i] };
	}
}

START_TEST(ixfr_matches_renderings)
{
	unsigned seed = 1000u + (unsigned)_i;
	static op ops[300];
	static char reasons[300][32];
	rd_zone *z = test_zone();
	random_ops(&seed, ops, 200, reasons);
	commit(ops, 200);
	uint32_t from;
	ck_assert_int_eq(store_serial(st, &from), 0);
	lines before, after, want_del, want_add, got_del, got_add;
	render_all(z, &before);
	for (unsigned k = 0; k < 3; k++) {              /* several commits after `from` */
		random_ops(&seed, ops, 12, reasons);
		commit(ops, 12);
	}
	render_all(z, &after);
	minus(&before, &after, &want_del);
	minus(&after, &before, &want_add);
	store_reader *r;
	ix_diff *d = NULL;
	char err[256];
	ix_limits lim = { 100000, 1000000, NULL };
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	int rc = ix_diff_compute(z, r, from, &lim, &d, err, sizeof(err));
	ck_assert_msg(rc == 0, "seed %d: ix_diff_compute: %s (%s)", _i, v6r_strerror(rc), err);
	diff_lines(d, false, &got_del);
	diff_lines(d, true, &got_add);
	ck_assert_uint_gt(ix_diff_changes(d), 0);      /* some random operations change nothing */
	ck_assert_uint_le(ix_diff_changes(d), 36);
	expect_same(&want_del, &got_del, "deleted", _i);
	expect_same(&want_add, &got_add, "added", _i);
	ck_assert_uint_gt(before.n, got_del.n + got_add.n);   /* a difference, not the zone */
	ix_diff_free(d);
	/* from the current serial: nothing */
	ck_assert_int_eq(ix_diff_compute(z, r, store_reader_serial(r), &lim, &d, err, sizeof(err)), 0);
	ck_assert_uint_eq(ix_diff_count(d, false) + ix_diff_count(d, true), 0);
	ix_diff_free(d);
	store_reader_end(r);
	store_reader_free(r);
	lines *all[] = { &before, &after, &want_del, &want_add, &got_del, &got_add };
	for (size_t i = 0; i < 6; i++)
		lines_free(all[i]);
	rd_zone_free(z);
}
END_TEST

START_TEST(ixfr_refuses)
{
	rd_zone *z = test_zone();
	op a[] = { { 'L', P("2001:db8::/32"), 2, 0, "x" } };
	uint32_t from = commit(a, 1);
	op b[] = { { 'L', P("8.8.8.8/32"), 2, 0, "shared names" } };
	commit(b, 1);
	store_reader *r;
	ix_diff *d = NULL;
	char err[256];
	ix_limits lim = { 100000, 1000000, NULL };
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert_int_eq(ix_diff_compute(z, r, from, &lim, &d, err, sizeof(err)), V6R_ERANGE);
	ck_assert_ptr_nonnull(strstr(err, "shared"));
	ck_assert_int_eq(ix_diff_compute(z, r, from - 5, &lim, &d, err, sizeof(err)), V6R_ENOTFOUND);
	ix_limits tiny = { 100000, 3, NULL };
	op c[] = { { 'L', P("2001:db8:1::/48"), 2, 0, "x" } };
	store_reader_end(r);
	uint32_t s2;
	ck_assert_int_eq(store_serial(st, &s2), 0);
	commit(c, 1);
	ck_assert_int_eq(store_reader_begin(r), 0);
	ck_assert_int_eq(ix_diff_compute(z, r, s2, &tiny, &d, err, sizeof(err)), V6R_ERANGE);
	store_reader_end(r);
	store_reader_free(r);
	rd_zone_free(z);
}
END_TEST

/* ---- messages ---- */

static size_t build_query(uint8_t *q, unsigned qtype, bool soa)
{
	static const uint8_t name[] = "\4v6bl\4test";
	size_t n = 12;
	memset(q, 0, 12);
	q[0] = 0xab;
	q[1] = 0xcd;
	q[5] = 1;
	memcpy(q + n, name, sizeof(name));           /* includes the root byte */
	n += sizeof(name);
	q[n++] = (uint8_t)(qtype >> 8);
	q[n++] = (uint8_t)qtype;
	q[n++] = 0;
	q[n++] = 1;
	if (soa) {
		static const uint8_t rr[] = { 0xc0, 0x0c, 0, 6, 0, 1, 0, 0, 0, 0, 0, 28,
		                              1, 'a', 0xc0, 0x0c, 1, 'b', 0xc0, 0x0c,
		                              0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 0, 0, 0, 2,
		                              0, 0, 0, 3, 0, 0, 0, 4 };
		q[9] = 1;
		memcpy(q + n, rr, sizeof(rr));
		n += sizeof(rr);
	}
	return n;
}

START_TEST(request_parse)
{
	uint8_t q[512];
	xm_req r;
	size_t n = build_query(q, XM_T_IXFR, true);
	ck_assert_int_eq(xm_parse(q, n, &r), 0);
	ck_assert_uint_eq(r.qtype, XM_T_IXFR);
	ck_assert(r.has_serial);
	ck_assert_uint_eq(r.serial, 0x12345678u);
	ck_assert(xm_qname_is(&r, (const uint8_t *)"\4v6bl\4test", 11));
	ck_assert(!xm_qname_is(&r, (const uint8_t *)"\4v6bl\3net", 10));
	n = build_query(q, XM_T_IXFR, false);
	ck_assert_int_eq(xm_parse(q, n, &r), -1);      /* IXFR needs the client's SOA */
	n = build_query(q, XM_T_AXFR, false);
	ck_assert_int_eq(xm_parse(q, n, &r), 0);
	ck_assert_int_eq(xm_parse(q, n - 3, &r), -1);
	q[5] = 2;
	ck_assert_int_eq(xm_parse(q, n, &r), -1);
	q[5] = 1;
	ck_assert_int_eq(xm_parse(q, n, &r), 0);
	uint8_t out[512];
	size_t e = xm_error(&r, XM_RC_REFUSED, out, sizeof(out));
	ck_assert_uint_eq(e, n);
	ck_assert_uint_eq(out[2] & 0x80, 0x80);
	ck_assert_uint_eq(out[3] & 0xF, XM_RC_REFUSED);
}
END_TEST

typedef struct msgs {
	unsigned n, rrs;
	size_t max;
	tsig_key key;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len;
	bool check_tsig;
	char first_owner[300], last_owner[300];
} msgs;

/* Each message parses with ldns; its owners decompress to what was added; TSIG verifies. */
static int take_msg(const uint8_t *m, size_t len, void *arg)
{
	msgs *s = arg;
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, m, len), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_qdcount(p), s->n == 0 ? 1 : 0);
	ck_assert(ldns_pkt_aa(p));
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		char *o = ldns_rdf2str(ldns_rr_owner(ldns_rr_list_rr(an, i)));
		if (s->rrs == 0)
			snprintf(s->first_owner, sizeof(s->first_owner), "%s", o);
		snprintf(s->last_owner, sizeof(s->last_owner), "%s", o);
		free(o);
		s->rrs++;
	}
	if (s->check_tsig) {
		ldns_rdf *prior = ldns_native2rdf_int16_data(s->mac_len, s->mac);
		ck_assert_msg(ldns_pkt_tsig_verify_next(p, m, len, s->key.name, s->key.secret, prior,
		                                        s->n > 0),
		              "message %u: TSIG does not verify", s->n);
		ldns_rdf_deep_free(prior);
		const ldns_rdf *mac = ldns_rr_rdf(ldns_pkt_tsig(p), 3);
		s->mac_len = ldns_rdf_size(mac) - 2;
		memcpy(s->mac, ldns_rdf_data(mac) + 2, s->mac_len);
	}
	if (len > s->max)
		s->max = len;
	s->n++;
	ldns_pkt_free(p);
	return 0;
}

static void owner_of(unsigned i, uint8_t *w, unsigned *len)
{
	/* 32 nibble labels below v6bl.test, counting up: neighbours share long suffixes */
	char hex[40];
	snprintf(hex, sizeof(hex), "20010db8%08x0000000000%06x", (i / 7) & 0xFFFFFFu, i & 0xFFFFFFu);
	unsigned o = 0;
	w[o++] = 1;
	w[o++] = '*';
	for (int k = 31; k >= 0; k--) {
		w[o++] = 1;
		w[o++] = (uint8_t)hex[k];
	}
	memcpy(w + o, "\4v6bl\4test", 11);
	*len = o + 11;
}

static void build_answer(bool with_key, unsigned nrr)
{
	uint8_t q[512];
	size_t n = build_query(q, XM_T_AXFR, false);
	xm_req r;
	ck_assert_int_eq(xm_parse(q, n, &r), 0);
	static xm_builder b;
	static msgs s;
	memset(&s, 0, sizeof(s));
	tsig_req treq = { .present = true, .mac_len = 32 };
	memset(treq.mac, 0x5a, 32);
	if (with_key) {
		strcpy(s.key.name, "xfrkey.");
		strcpy(s.key.alg, "hmac-sha256.");
		strcpy(s.key.secret, "AqW+/oESrKRn0wce1G7XqzYCJp/lk4C1eCAZnkw0sTA=");
		s.check_tsig = true;
		memcpy(s.mac, treq.mac, 32);
		s.mac_len = 32;
	}
	xm_init(&b, &r, 16000, 65535 - TSIG_ROOM, false, with_key ? &s.key : NULL, &treq,
	        take_msg, &s);
	size_t raw = 0;
	for (unsigned i = 0; i < nrr; i++) {
		uint8_t w[300], rd[4] = { 127, 0, 0, 2 };
		unsigned wl;
		owner_of(i, w, &wl);
		rd_rr rr = { w, wl, 1, 300, rd, 4 };
		raw += wl + 14;
		ck_assert_int_eq(xm_add(&b, &rr), 0);
	}
	ck_assert_int_eq(xm_finish(&b), 0);
	ck_assert_uint_eq(s.rrs, nrr);
	ck_assert_uint_eq(b.msgs, s.n);
	ck_assert_uint_gt(s.n, 1);
	ck_assert_uint_le(s.max, 16000 + 100 + (with_key ? TSIG_ROOM : 0));
	ck_assert_str_eq(s.first_owner,
	                 "*.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.v6bl.test.");
	ck_assert_str_eq(s.last_owner,       /* 3720 = 0xe88, 3720 / 7 = 0x213 */
	                 "*.8.8.e.0.0.0.0.0.0.0.0.0.0.0.0.0.3.1.2.0.0.0.0.0.8.b.d.0.1.0.0.2.v6bl.test.");
	ck_assert_uint_lt(b.bytes, raw / 3);          /* compression: about 20 bytes a record */
}

START_TEST(messages_compress)
{
	build_answer(false, 3721);
}
END_TEST

START_TEST(messages_tsig_chain)
{
	build_answer(true, 3721);
}
END_TEST

START_TEST(tsig_requests)
{
	tsig_key k = { "xfrkey.", "hmac-sha256.", "AqW+/oESrKRn0wce1G7XqzYCJp/lk4C1eCAZnkw0sTA=" };
	tsig_key other = k;
	strcpy(other.secret, "BqW+/oESrKRn0wce1G7XqzYCJp/lk4C1eCAZnkw0sTA=");
	uint8_t q[1024];
	size_t n = build_query(q, XM_T_AXFR, false);
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	size_t sn = tsig_sign(&k, q, n, q, sizeof(q), mac, &mac_len, false);
	ck_assert_uint_gt(sn, n);
	ck_assert_uint_eq(mac_len, 32);
	tsig_req t;
	ck_assert_int_eq(tsig_check(&k, q, sn, (uint64_t)time(NULL), &t), 0);
	ck_assert(t.present);
	ck_assert_int_eq(t.error, TSIG_OK);
	ck_assert_uint_eq(t.tsig_off, n);
	ck_assert_mem_eq(t.mac, mac, 32);
	ck_assert_int_eq(tsig_check(&other, q, sn, (uint64_t)time(NULL), &t), 0);
	ck_assert_int_eq(t.error, TSIG_BADSIG);
	strcpy(other.name, "otherkey.");
	ck_assert_int_eq(tsig_check(&other, q, sn, (uint64_t)time(NULL), &t), 0);
	ck_assert_int_eq(t.error, TSIG_BADKEY);
	ck_assert_int_eq(tsig_check(&k, q, sn, (uint64_t)time(NULL) + 3600, &t), 0);
	ck_assert_int_eq(t.error, TSIG_BADTIME);
	/* ldns, an independent implementation, accepts our signature (hmac-sha256) */
	ldns_pkt *lp = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&lp, q, sn), LDNS_STATUS_OK);
	ck_assert(ldns_pkt_tsig_verify(lp, q, sn, k.name, k.secret, NULL));
	ldns_pkt_free(lp);
	q[20] ^= 1;                                  /* one bit of the signed message */
	ck_assert_int_eq(tsig_check(&k, q, sn, (uint64_t)time(NULL), &t), 0);
	ck_assert_int_eq(t.error, TSIG_BADSIG);
	q[20] ^= 1;
	uint8_t plain[512];
	size_t pn = build_query(plain, XM_T_AXFR, false);
	ck_assert_int_eq(tsig_check(&k, plain, pn, (uint64_t)time(NULL), &t), 0);
	ck_assert(!t.present);
	/* the error answer carries the request's key and id, no MAC */
	uint8_t out[1024];
	xm_req r;
	ck_assert_int_eq(xm_parse(q, n, &r), 0);
	size_t e = xm_error(&r, XM_RC_NOTAUTH, out, sizeof(out));
	size_t e2 = tsig_append_error(q, sn, n, out, e, sizeof(out), TSIG_BADSIG, 1);
	ldns_pkt *p = NULL;
	ck_assert_int_eq(ldns_wire2pkt(&p, out, e2), LDNS_STATUS_OK);
	ck_assert_ptr_nonnull(ldns_pkt_tsig(p));
	ck_assert_uint_eq(ldns_rdf2native_int16(ldns_rr_rdf(ldns_pkt_tsig(p), 5)), TSIG_BADSIG);
	ldns_pkt_free(p);
	for (unsigned i = 0; i < 4; i++) {           /* the other algorithms sign and verify */
		static const char *const algs[] = { "hmac-sha1.", "hmac-sha384.", "hmac-sha512.",
		                                    "hmac-md5.sig-alg.reg.int." };
		tsig_key a = k;
		strcpy(a.alg, algs[i]);
		n = build_query(q, XM_T_AXFR, false);
		mac_len = 0;
		sn = tsig_sign(&a, q, n, q, sizeof(q), mac, &mac_len, false);
		ck_assert_int_eq(tsig_check(&a, q, sn, (uint64_t)time(NULL), &t), 0);
		ck_assert_msg(t.error == TSIG_OK, "%s: error %d", algs[i], t.error);
	}
}
END_TEST

/* ---- settings ---- */

START_TEST(settings)
{
	static cfg c;
	char err[512];
	cfg_defaults(&c);
	ck_assert_uint_eq(c.n_allow_transfer, 0);
	ck_assert_uint_eq(c.journal_size, 100000);
	ck_assert_int_eq(cfg_set(&c, "allow-transfer", "192.0.2.0/24", "t", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_set(&c, "allow-transfer", "2001:db8::1", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_allow_transfer, 2);
	ck_assert_uint_eq(c.allow_transfer[0].len, 120);
	ck_assert_uint_eq(c.allow_transfer[0].a[10], 0xff);
	ck_assert_uint_eq(c.allow_transfer[1].len, 128);
	ck_assert_int_eq(cfg_set(&c, "allow-transfer", "192.0.2.0/33", "t", err, sizeof(err)), V6R_ERANGE);
	ck_assert_int_eq(cfg_set(&c, "allow-transfer", "host.example", "t", err, sizeof(err)), V6R_ESYNTAX);
	ck_assert_int_eq(cfg_set(&c, "notify", "[::1]:5353", "t", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_set(&c, "notify", "127.0.0.1:5354", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_notify, 2);
	ck_assert_uint_eq(c.notify[0].port, 5353);
	ck_assert_int_eq(cfg_set(&c, "tsig-key", "XfrKey:hmac-sha256:AqW+/oESrKRn0wce1G7XqzYCJp/lk4C1eCAZnkw0sTA=",
	                         "t", err, sizeof(err)), 0);
	ck_assert_str_eq(c.tsig_name, "xfrkey.");
	ck_assert_str_eq(c.tsig_alg, "hmac-sha256.");
	ck_assert_int_eq(cfg_set(&c, "tsig-key", "k:hmac-sha7:AAAA", "t", err, sizeof(err)), V6R_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(err, "NAME:ALGORITHM:BASE64SECRET"));
	ck_assert_int_eq(cfg_set(&c, "tsig-key", "k:hmac-md5:not*base64", "t", err, sizeof(err)), V6R_ESYNTAX);
	ck_assert_int_eq(cfg_set(&c, "tsig-key", "k:hmac-md5.sig-alg.reg.int:AAAA", "t", err, sizeof(err)), 0);
	ck_assert_str_eq(c.tsig_alg, "hmac-md5.sig-alg.reg.int.");
	ck_assert_int_eq(cfg_set(&c, "tsig-key", "", "t", err, sizeof(err)), 0);
	ck_assert_str_eq(c.tsig_name, "");
	ck_assert_int_eq(cfg_set(&c, "notify-interval", "0", "t", err, sizeof(err)), V6R_ERANGE);
	ck_assert_int_eq(cfg_set(&c, "xfr-timeout", "2m", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.xfr_timeout, 120);
}
END_TEST

Suite *xfr_suite(void)
{
	Suite *s = suite_create("xfr");
	struct {
		const char *name;
		const TTest *test;
		int n;
	} cases[] = {
		{ "journal_changes", journal_changes, 1 },
		{ "journal_bounded", journal_bounded, 1 },
		{ "ixfr_matches_renderings", ixfr_matches_renderings, 12 },
		{ "ixfr_refuses", ixfr_refuses, 1 },
		{ "request_parse", request_parse, 1 },
		{ "messages_compress", messages_compress, 1 },
		{ "messages_tsig_chain", messages_tsig_chain, 1 },
		{ "tsig_requests", tsig_requests, 1 },
		{ "settings", settings, 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);
		tcase_set_timeout(tc, 120);
		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_add_loop_test(tc, cases[i].test, 0, cases[i].n);
		suite_add_tcase(s, tc);
	}
	return s;
}
