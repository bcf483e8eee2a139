/* check_answer.c: the answering core driven with raw query packets on a real store, responses read with ldns. */
#include <check.h>
#include <ftw.h>
#include <ldns/ldns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../server/answer.h"
#include "../zone/addr.h"
#include "../zone/cfg.h"
#include "../zone/err.h"
#include "../zone/store.h"
#include "suites.h"

#define ZONE "v6bl.example."
#define NOW 1700000000u
#define NEG_TTL 120u
#define SOA_TTL 3600u
#define NS_TTL 86400u
#define TTL 900u
#define LONG_TMPL_LEN 500u

enum { T_A = 1, T_NS = 2, T_SOA = 6, T_MX = 15, T_TXT = 16, T_AAAA = 28, T_OPT = 41,
       T_TKEY = 249, T_TSIG = 250, T_IXFR = 251, T_AXFR = 252, T_ANY = 255, T_CAA = 257 };
enum { NOERR = 0, FORMERR = 1, SERVFAIL = 2, NXDOMAIN = 3, NOTIMP = 4, REFUSED = 5 };

static char dir[64];
static store *st;
static store_reader *rd;
static ans_zone zone, zone_long, zone_vars;
static ans_ctx ctx;

/* ---------------------------------------------------------------- the store */

typedef struct seed {
	const char *pfx;
	store_kind kind;
	uint8_t code;          /* last octet of 127.0.0.x */
	const char *reason;
	uint64_t expires;
} seed;

static const seed seeds[] = {
	{ "2001:db8:1::/48", STORE_LISTING, 2, "net48", 0 },
	{ "2001:db8:1:5::/64", STORE_EXCLUSION, 0, "hole", 0 },
	{ "2001:db8:1:5::5/128", STORE_LISTING, 3, "host in hole", 0 },
	{ "2001:db8:1::dead/128", STORE_EXCLUSION, 0, "", 0 },
	{ "2001:db8:2:1::/64", STORE_LISTING, 4, "", 0 },
	{ "192.0.2.0/24", STORE_LISTING, 5, "v4net", 0 },
	{ "2001:db8:3:8000::/49", STORE_LISTING, 6, "half", 0 },
	{ "2001:db8:4::/48", STORE_LISTING, 7, "old", 1000 },
};

static int put_seed(store_txn *t, const seed *s)
{
	store_entry e = { .kind = s->kind, .origin = STORE_ORIGIN_OPERATOR, .created = NOW - 10,
	                  .updated = NOW - 10, .expires = s->expires, .reason = s->reason,
	                  .reason_len = strlen(s->reason) };

	ck_assert_int_eq(addr_parse(s->pfx, strlen(s->pfx), 0, &e.pfx), 0);
	if (s->kind == STORE_LISTING) {
		e.code[0] = 127;
		e.code[3] = s->code;
	}
	return store_put(t, &e);
}

static int fill(store_txn *t, void *arg)
{
	for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
		int rc = put_seed(t, &seeds[i]);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void make_zone(ans_zone *z, const char *txt_template)
{
	static const char *const set[][2] = {
		{ "zone", "V6BL.Example." }, { "ns", "ns1.example.net." }, { "ns", "ns2.example.net." },
		{ "negative-ttl", "120" }, { "soa-ttl", "3600" }, { "ns-ttl", "86400" }, { "ttl", "900" },
		{ "soa-refresh", "3600" }, { "soa-retry", "600" }, { "soa-expire", "604800" },
	};
	char err[512];
	cfg c;

	cfg_defaults(&c);
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		ck_assert_msg(cfg_set(&c, set[i][0], set[i][1], "test", err, sizeof err) == 0, "%s", err);
	ck_assert_int_eq(cfg_set(&c, "db", dir, "test", err, sizeof err), 0);
	ck_assert_msg(cfg_set(&c, "txt-template", txt_template, "test", err, sizeof err) == 0, "%s",
	              err);
	ck_assert_msg(cfg_finish(&c, CFG_SERVER, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(ans_zone_init(z, &c, err, sizeof err) == 0, "%s", err);
}

static void setup(void)
{
	char long_tmpl[LONG_TMPL_LEN + 16];

	strcpy(dir, "/tmp/v6rep-ans-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(&st, dir, 0, (size_t)1 << 24), 0);
	ck_assert_int_eq(store_write(st, fill, NULL), 0);
	ck_assert_int_eq(store_reader_new(st, &rd), 0);
	make_zone(&zone, "{reason}");
	memset(long_tmpl, 'x', LONG_TMPL_LEN);
	strcpy(long_tmpl + LONG_TMPL_LEN, " {reason}");
	make_zone(&zone_long, long_tmpl);
	make_zone(&zone_vars, "{addr}|{prefix}|{code}|{zone}|{reason}");
	memset(&ctx, 0, sizeof ctx);
	ctx.zone = &zone;
	ctx.rd = rd;
	ctx.now = NOW;
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

/* ---------------------------------------------------------------- building queries */

/* Presentation name to wire, case kept ("." is the root). Returns the wire length. */
static size_t name_wire(const char *name, uint8_t *w)
{
	size_t o = 0;
	const char *p = name;

	while (*p != '\0' && strcmp(p, ".") != 0) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		w[o++] = (uint8_t)len;
		memcpy(w + o, p, len);
		o += len;
		p += len + (dot ? 1 : 0);
	}
	w[o++] = 0;
	return o;
}

/* A query with ID 0xabcd, RD set, one question. Returns its length. */
static size_t mkq(uint8_t *b, const char *name, unsigned qtype, unsigned qclass)
{
	size_t o;

	memset(b, 0, 12);
	b[0] = 0xab;
	b[1] = 0xcd;
	b[2] = 0x01;
	b[5] = 1;
	o = 12 + name_wire(name, b + 12);
	b[o++] = (uint8_t)(qtype >> 8);
	b[o++] = (uint8_t)qtype;
	b[o++] = (uint8_t)(qclass >> 8);
	b[o++] = (uint8_t)qclass;
	return o;
}

/* Appends an OPT record (optionally with an unknown option) and counts it in ARCOUNT. */
static size_t add_opt(uint8_t *b, size_t o, unsigned udp, unsigned version, bool do_bit,
                      bool option)
{
	static const uint8_t unknown[] = { 0xfd, 0xe9, 0x00, 0x03, 'a', 'b', 'c' };

	b[o++] = 0;
	b[o++] = 0;
	b[o++] = T_OPT;
	b[o++] = (uint8_t)(udp >> 8);
	b[o++] = (uint8_t)udp;
	b[o++] = 0;
	b[o++] = (uint8_t)version;
	b[o++] = do_bit ? 0x80 : 0;
	b[o++] = 0;
	b[o++] = 0;
	b[o++] = option ? sizeof unknown : 0;
	if (option) {
		memcpy(b + o, unknown, sizeof unknown);
		o += sizeof unknown;
	}
	b[11]++;
	return o;
}

/* The nibble or IPv4 name of the first `labels` labels of addr, with an optional prefix. */
enum { NIB, V4, REL };
static void mkname(char *out, int form, const char *addr, unsigned labels, const char *pre)
{
	char body[128] = "";
	addr_pfx p;

	if (form != REL) {
		ck_assert_int_eq(addr_parse(addr, strlen(addr), ADDR_NO_LEN, &p), 0);
		if (form == NIB)
			ck_assert_int_ge(addr_nibble_name(p.a, labels, body, sizeof body), 0);
		else
			ck_assert_int_ge(addr_v4_name(p.a, labels, body, sizeof body), 0);
	} else
		snprintf(body, sizeof body, "%s", addr);
	snprintf(out, 600, "%s%s%s%s" ZONE, pre ? pre : "", pre && *body ? "." : "", body,
	         *body || pre ? "." : "");
}

/* ---------------------------------------------------------------- reading responses */

static uint8_t out[65535];
static size_t out_len;

/* Runs the query (cap 65535) and parses the response, which must decode. */
static ldns_pkt *ask(const uint8_t *q, size_t n, bool tcp)
{
	ldns_pkt *p = NULL;

	out_len = ans_query(&ctx, q, n, out, sizeof out, tcp);
	ck_assert_uint_gt(out_len, 0);
	ck_assert_int_eq(ldns_wire2pkt(&p, out, out_len), LDNS_STATUS_OK);
	return p;
}

static unsigned rcode_of(void)
{
	return out[3] & 0x0fu;
}

static unsigned count_at(unsigned off)
{
	return (unsigned)(out[off] << 8 | out[off + 1]);
}

static ldns_rr *first_of(ldns_rr_list *l, unsigned type)
{
	for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
		if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == type)
			return ldns_rr_list_rr(l, i);
	return NULL;
}

/* The TXT strings of rr concatenated into buf. */
static const char *txt_of(const ldns_rr *rr, char *buf, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
		const ldns_rdf *f = ldns_rr_rdf(rr, i);
		const uint8_t *d = ldns_rdf_data(f);
		ck_assert_uint_lt(o + d[0], cap);
		memcpy(buf + o, d + 1, d[0]);
		o += d[0];
	}
	buf[o] = '\0';
	return buf;
}

static bool owner_is(const ldns_rr *rr, const char *name)
{
	ldns_rdf *want = ldns_dname_new_frm_str(name);
	bool eq = ldns_dname_compare(ldns_rr_owner(rr), want) == 0;
	ldns_rdf_deep_free(want);
	return eq;
}

static uint32_t serial_now(void)
{
	uint32_t s = 0;
	ck_assert_int_eq(store_serial(st, &s), 0);
	return s;
}

/* The SOA of a negative answer: in authority, owned by the apex, negative TTL, store serial. */
static void check_neg_soa(ldns_pkt *p)
{
	ck_assert_uint_eq(ldns_pkt_ancount(p), 0);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	ldns_rr *soa = first_of(ldns_pkt_authority(p), T_SOA);
	ck_assert_ptr_nonnull(soa);
	ck_assert(owner_is(soa, ZONE));
	ck_assert_uint_eq(ldns_rr_ttl(soa), NEG_TTL);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), serial_now());
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), NEG_TTL);
}

/* ---------------------------------------------------------------- names below the apex */

static const struct name_case {
	int form;
	const char *addr;
	unsigned labels;
	const char *pre;       /* labels put in front (junk, extra depth) */
	unsigned qtype;
	unsigned rcode, an;    /* an 0 means a negative answer with the SOA */
	const char *a, *txt;
} name_cases[] = {
	/* full names inside the /48 */
	{ NIB, "2001:db8:1::42", 32, NULL, T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, T_TXT, NOERR, 1, NULL, "net48" },
	{ NIB, "2001:db8:1::42", 32, NULL, T_ANY, NOERR, 2, "127.0.0.2", "net48" },
	{ NIB, "2001:db8:1::42", 32, NULL, T_AAAA, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, T_CAA, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, 65280, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, T_MX, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, T_SOA, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1::42", 32, NULL, 0, NOERR, 0, NULL, NULL },
	/* exclusions inside it, and a listing inside an exclusion */
	{ NIB, "2001:db8:1::dead", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:1:5::6", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:1:5::6", 32, NULL, T_TXT, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:1:5::5", 32, NULL, T_A, NOERR, 1, "127.0.0.3", NULL },
	{ NIB, "2001:db8:1:5::5", 32, NULL, T_TXT, NOERR, 1, NULL, "host in hole" },
	/* full names not listed */
	{ NIB, "2001:db8:9::1", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:9::1", 32, NULL, T_TXT, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:9::1", 32, NULL, T_AAAA, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:9::1", 32, NULL, T_ANY, NXDOMAIN, 0, NULL, NULL },
	/* partial names (QNAME minimisation) */
	{ NIB, "2001:db8:1::", 12, NULL, T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "2001:db8:1:7::", 16, NULL, T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "2001:db8:1:7::", 16, NULL, T_AAAA, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1:5::", 16, NULL, T_A, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:1:5::", 16, NULL, T_TXT, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:2::", 12, NULL, T_A, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:2:1::", 16, NULL, T_A, NOERR, 1, "127.0.0.4", NULL },
	{ NIB, "2001:db8:2:1::", 16, NULL, T_TXT, NOERR, 1, NULL, "listed in v6bl.example" },
	{ NIB, "2001:db8:9::", 12, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8::", 8, NULL, T_A, NOERR, 0, NULL, NULL },
	{ NIB, "2000::", 1, NULL, T_NS, NOERR, 0, NULL, NULL },
	{ NIB, "3000::", 1, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	/* a /49: off the nibble boundary */
	{ NIB, "2001:db8:3:8000::1", 32, NULL, T_A, NOERR, 1, "127.0.0.6", NULL },
	{ NIB, "2001:db8:3:ffff::1", 32, NULL, T_A, NOERR, 1, "127.0.0.6", NULL },
	{ NIB, "2001:db8:3:7fff::1", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:3::", 12, NULL, T_A, NOERR, 0, NULL, NULL },
	{ NIB, "2001:db8:3:8000::", 13, NULL, T_A, NOERR, 1, "127.0.0.6", NULL },
	{ NIB, "2001:db8:3::", 13, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	/* an expired listing counts for nothing */
	{ NIB, "2001:db8:4::1", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:4::", 12, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	/* IPv4 */
	{ V4, "192.0.2.9", 4, NULL, T_A, NOERR, 1, "127.0.0.5", NULL },
	{ V4, "192.0.2.9", 4, NULL, T_TXT, NOERR, 1, NULL, "v4net" },
	{ V4, "192.0.2.9", 4, NULL, T_ANY, NOERR, 2, "127.0.0.5", "v4net" },
	{ V4, "192.0.2.9", 4, NULL, T_AAAA, NOERR, 0, NULL, NULL },
	{ V4, "192.0.2.0", 3, NULL, T_A, NOERR, 1, "127.0.0.5", NULL },
	{ V4, "192.0.0.0", 2, NULL, T_A, NOERR, 0, NULL, NULL },
	{ V4, "192.0.3.1", 4, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ V4, "10.0.0.0", 1, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "::ffff:192.0.2.9", 32, NULL, T_A, NOERR, 1, "127.0.0.5", NULL },
	/* RFC 5782 test points */
	{ NIB, "::ffff:7f00:2", 32, NULL, T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "::ffff:7f00:2", 32, NULL, T_TXT, NOERR, 1, NULL, "RFC 5782 test point" },
	{ NIB, "::ffff:7f00:1", 32, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "::ffff:7f00:1", 32, NULL, T_TXT, NXDOMAIN, 0, NULL, NULL },
	{ V4, "127.0.0.2", 4, NULL, T_A, NOERR, 1, "127.0.0.2", NULL },
	{ V4, "127.0.0.2", 4, NULL, T_TXT, NOERR, 1, NULL, "RFC 5782 test point" },
	{ V4, "127.0.0.1", 4, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	/* junk labels and names deeper than 32 labels */
	{ NIB, "2001:db8:1::42", 32, "zz", T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "2001:db8:1::42", 32, "0.0.0.0.0.0.0.0", T_A, NOERR, 1, "127.0.0.2", NULL },
	{ NIB, "2001:db8:1:5::5", 32, "zz", T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:9::1", 32, "0.0.0.0.0.0.0.0", T_A, NXDOMAIN, 0, NULL, NULL },
	{ NIB, "2001:db8:1:7::", 16, "www", T_A, NOERR, 1, "127.0.0.2", NULL },
	{ REL, "www", 0, NULL, T_A, NXDOMAIN, 0, NULL, NULL },
	{ REL, "zz.zz.zz", 0, NULL, T_TXT, NXDOMAIN, 0, NULL, NULL },
};

START_TEST(names)
{
	const struct name_case *t = &name_cases[_i];
	char name[600], txt[2048];
	uint8_t q[700];

	mkname(name, t->form, t->addr, t->labels, t->pre);
	ldns_pkt *p = ask(q, mkq(q, name, t->qtype, 1), false);
	ck_assert_msg(rcode_of() == t->rcode, "%s type %u: rcode %u, want %u", name, t->qtype,
	              rcode_of(), t->rcode);
	ck_assert(ldns_pkt_qr(p) && ldns_pkt_aa(p) && !ldns_pkt_ra(p) && !ldns_pkt_tc(p));
	ck_assert_msg(ldns_pkt_ancount(p) == t->an, "%s type %u: %u answers", name, t->qtype,
	              ldns_pkt_ancount(p));
	if (t->an == 0)
		check_neg_soa(p);
	else
		ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		ck_assert(owner_is(rr, name));
		ck_assert_uint_eq(ldns_rr_ttl(rr), TTL);
	}
	ldns_rr *a = first_of(ldns_pkt_answer(p), T_A);
	ck_assert((a != NULL) == (t->a != NULL));
	if (a != NULL) {
		char *s = ldns_rdf2str(ldns_rr_rdf(a, 0));
		ck_assert_str_eq(s, t->a);
		free(s);
	}
	ldns_rr *x = first_of(ldns_pkt_answer(p), T_TXT);
	ck_assert((x != NULL) == (t->txt != NULL));
	if (x != NULL)
		ck_assert_str_eq(txt_of(x, txt, sizeof txt), t->txt);
	ck_assert_uint_eq(ctx.st.queries, 1);
	ck_assert_uint_eq(t->rcode == NOERR ? ctx.st.noerror : ctx.st.nxdomain, 1);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- the apex */

static const struct apex_case {
	unsigned qtype, an, ns;
} apex_cases[] = {
	{ T_SOA, 1, 0 }, { T_NS, 2, 0 }, { T_ANY, 3, 0 }, { T_MX, 0, 1 }, { T_A, 0, 1 },
	{ T_TXT, 0, 1 }, { T_AAAA, 0, 1 }, { T_CAA, 0, 1 },
};

/* The SOA in the answer section at the apex: every field as configured, the store serial. */
static void check_apex_soa(const ldns_rr *soa)
{
	char *mname = ldns_rdf2str(ldns_rr_rdf(soa, 0));
	char *rname = ldns_rdf2str(ldns_rr_rdf(soa, 1));

	ck_assert(owner_is(soa, ZONE));
	ck_assert_uint_eq(ldns_rr_ttl(soa), SOA_TTL);
	ck_assert_str_eq(mname, "ns1.example.net.");
	ck_assert_str_eq(rname, "hostmaster.v6bl.example.");
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 2)), serial_now());
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 3)), 3600);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 4)), 600);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 5)), 604800);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(soa, 6)), NEG_TTL);
	free(mname);
	free(rname);
}

START_TEST(apex)
{
	const struct apex_case *t = &apex_cases[_i];
	uint8_t q[512];

	ldns_pkt *p = ask(q, mkq(q, ZONE, t->qtype, 1), false);
	ck_assert_uint_eq(rcode_of(), NOERR);
	ck_assert(ldns_pkt_aa(p) && !ldns_pkt_ra(p));
	ck_assert_uint_eq(ldns_pkt_ancount(p), t->an);
	ck_assert_uint_eq(ldns_pkt_nscount(p), t->ns);
	if (t->ns)
		check_neg_soa(p);
	ldns_rr *soa = first_of(ldns_pkt_answer(p), T_SOA);
	ck_assert((soa != NULL) == (t->qtype == T_SOA || t->qtype == T_ANY));
	if (soa != NULL)
		check_apex_soa(soa);
	unsigned n_ns = 0;
	for (size_t i = 0; i < ldns_pkt_ancount(p); i++) {
		ldns_rr *rr = ldns_rr_list_rr(ldns_pkt_answer(p), i);
		if ((unsigned)ldns_rr_get_type(rr) != T_NS)
			continue;
		char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		ck_assert_str_eq(s, n_ns == 0 ? "ns1.example.net." : "ns2.example.net.");
		ck_assert(owner_is(rr, ZONE));
		ck_assert_uint_eq(ldns_rr_ttl(rr), NS_TTL);
		free(s);
		n_ns++;
	}
	ck_assert_uint_eq(n_ns, t->qtype == T_NS || t->qtype == T_ANY ? 2 : 0);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- refusals */

static const struct out_case {
	const char *name;
	unsigned qtype, qclass, rcode;
} out_cases[] = {
	{ "example.", T_A, 1, REFUSED },
	{ ".", T_NS, 1, REFUSED },
	{ "com.", T_SOA, 1, REFUSED },
	{ "xv6bl.example.", T_A, 1, REFUSED },
	{ "v6bl.example.org.", T_A, 1, REFUSED },
	{ "v6bl.exampl.", T_A, 1, REFUSED },
	{ "2.0.0.127.v6bl.example.com.", T_A, 1, REFUSED },
	{ "v6bl.example.", T_SOA, 3, REFUSED },           /* CH */
	{ "v6bl.example.", T_SOA, 4, REFUSED },           /* HS */
	{ "v6bl.example.", T_SOA, 255, REFUSED },         /* ANY */
	{ "v6bl.example.", T_SOA, 254, REFUSED },         /* NONE */
	{ "version.bind.", T_TXT, 3, REFUSED },
	{ "v6bl.example.", T_AXFR, 1, REFUSED },
	{ "v6bl.example.", T_IXFR, 1, REFUSED },
	{ "v6bl.example.", T_OPT, 1, FORMERR },
	{ "v6bl.example.", T_TSIG, 1, FORMERR },
	{ "v6bl.example.", T_TKEY, 1, FORMERR },
};

START_TEST(refusals)
{
	const struct out_case *t = &out_cases[_i];
	uint8_t q[512];
	size_t n = mkq(q, t->name, t->qtype, t->qclass);

	ldns_pkt *p = ask(q, n, false);
	ck_assert_msg(rcode_of() == t->rcode, "%s: rcode %u", t->name, rcode_of());
	ck_assert(!ldns_pkt_aa(p) && !ldns_pkt_ra(p) && ldns_pkt_qr(p));
	ck_assert_uint_eq(count_at(4), 1);
	ck_assert_uint_eq(out_len, n);
	ck_assert_mem_eq(out + 12, q + 12, n - 12);
	ck_assert_uint_eq(t->rcode == REFUSED ? ctx.st.refused : ctx.st.formerr, 1);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- malformed and odd packets */

#define HDR "\xab\xcd\x01\x00"
#define CNT(qd, an, ns, ar) "\x00" qd "\x00" an "\x00" ns "\x00" ar
#define QZONE "\x04" "v6bl" "\x07" "example" "\x00"
#define T_A_IN "\x00\x01\x00\x01"
#define T_SOA_IN "\x00\x06\x00\x01"
#define OPT0 "\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00"
#define RAW(s) s, sizeof(s) - 1

static const struct raw_case {
	const char *desc;
	const char *pkt;
	size_t len;
	unsigned rcode;
	bool echo;             /* the question is echoed */
	bool opt;              /* the response has an OPT record */
} raw_cases[] = {
	{ "qdcount 0", RAW(HDR CNT("\x00", "\x00", "\x00", "\x00")), FORMERR, false, false },
	{ "qdcount 2", RAW(HDR CNT("\x02", "\x00", "\x00", "\x00") QZONE T_A_IN QZONE T_A_IN),
	  FORMERR, false, false },
	{ "qdcount 0 with a name", RAW(HDR CNT("\x00", "\x00", "\x00", "\x00") QZONE T_A_IN),
	  FORMERR, false, false },
	{ "pointer in qname", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\xc0\x0c" T_A_IN),
	  FORMERR, false, false },
	{ "pointer after a label",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x01" "a" "\xc0\x0c" T_A_IN), FORMERR, false,
	  false },
	{ "label type 0x40", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x41" "a" "\x00" T_A_IN),
	  FORMERR, false, false },
	{ "label type 0x80", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x80" "\x00" T_A_IN),
	  FORMERR, false, false },
	{ "truncated label", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x0a" "abc"), FORMERR,
	  false, false },
	{ "no root label", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x03" "abc"), FORMERR,
	  false, false },
	{ "no qtype", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") QZONE), FORMERR, false, false },
	{ "half a qclass", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") QZONE "\x00\x01\x00"),
	  FORMERR, false, false },
	{ "two OPT", RAW(HDR CNT("\x01", "\x00", "\x00", "\x02") QZONE T_SOA_IN OPT0 OPT0), FORMERR,
	  true, false },
	{ "OPT owner not root",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\x01" "a" OPT0), FORMERR,
	  true, false },
	{ "OPT owner a pointer",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\xc0\x0c" "\x00\x29\x10\x00"
	      "\x00\x00\x00\x00\x00\x00"), FORMERR, true, false },
	{ "option longer than OPT",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\x00\x00\x29\x10\x00\x00\x00"
	      "\x00\x00\x00\x05" "\x00\x0a\x00\x08" "x"), FORMERR, true, false },
	{ "RDATA past the end",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\x00\x00\x29\x10\x00\x00\x00"
	      "\x00\x00\x00\x09" "\x00\x0a"), FORMERR, true, false },
	{ "arcount without a record", RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN),
	  FORMERR, true, false },
	{ "trailing bytes", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") QZONE T_SOA_IN "\x00"),
	  FORMERR, true, false },
	{ "ancount without a record", RAW(HDR CNT("\x01", "\x01", "\x00", "\x00") QZONE T_SOA_IN),
	  FORMERR, true, false },
	{ "pointer cut in an answer owner",
	  RAW(HDR CNT("\x01", "\x01", "\x00", "\x00") QZONE T_SOA_IN "\xc0"), FORMERR, true, false },
	{ "bad label type in an answer owner",
	  RAW(HDR CNT("\x01", "\x01", "\x00", "\x00") QZONE T_SOA_IN "\x41" "a" "\x00" T_A_IN
	      "\x00\x00\x00\x3c\x00\x00"), FORMERR, true, false },
	{ "record header cut", RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN
	                           "\x00\x00\x29\x10\x00\x00"), FORMERR, true, false },
	{ "option header cut",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\x00\x00\x29\x10\x00\x00\x00"
	      "\x00\x00\x00\x02" "\x00\x0a"), FORMERR, true, false },
	/* well-formed records in the answer and authority sections are skipped */
	{ "a record in the answer section",
	  RAW(HDR CNT("\x01", "\x01", "\x00", "\x00") QZONE T_SOA_IN "\xc0\x0c" T_A_IN
	      "\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x02"), NOERR, true, false },
	{ "records in answer, authority and additional",
	  RAW(HDR CNT("\x01", "\x01", "\x01", "\x02") QZONE T_SOA_IN "\xc0\x0c" T_A_IN
	      "\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x02" "\x01" "x" "\xc0\x0c" "\x00\x02\x00\x01"
	      "\x00\x00\x00\x3c\x00\x02\xc0\x0c" "\x00\x00\x10\x00\x01\x00\x00\x00\x00\x00\x00"
	      OPT0), NOERR, true, true },
	{ "OPT with an unknown option and flags",
	  RAW(HDR CNT("\x01", "\x00", "\x00", "\x01") QZONE T_SOA_IN "\x00\x00\x29\x10\x00\x00\x00"
	      "\x7f\xff\x00\x08" "\xfd\xe9\x00\x04" "abcd"), NOERR, true, true },
	{ "OPT in the answer section only",
	  RAW(HDR CNT("\x01", "\x01", "\x00", "\x00") QZONE T_SOA_IN OPT0), NOERR, true, false },
	{ "root name, class ANY", RAW(HDR CNT("\x01", "\x00", "\x00", "\x00") "\x00" "\x00\x01\x00\xff"),
	  REFUSED, true, false },
	{ "NOTIMP with qdcount 0", RAW("\xab\xcd\x28\x00" CNT("\x00", "\x00", "\x00", "\x00")),
	  NOTIMP, false, false },
	{ "NOTIMP with a bad question",
	  RAW("\xab\xcd\x28\x00" CNT("\x01", "\x00", "\x00", "\x00") "\xc0\x0c" T_A_IN), NOTIMP,
	  false, false },
	{ "NOTIMP with OPT", RAW("\xab\xcd\x20\x00" CNT("\x01", "\x00", "\x00", "\x01") QZONE
	                         T_SOA_IN OPT0), NOTIMP, true, true },
};

START_TEST(raw)
{
	const struct raw_case *t = &raw_cases[_i];
	ldns_pkt *p = ask((const uint8_t *)t->pkt, t->len, false);
	size_t qend = 12;

	ck_assert_msg(rcode_of() == t->rcode, "%s: rcode %u", t->desc, rcode_of());
	ck_assert_msg(count_at(4) == (t->echo ? 1u : 0u), "%s: qdcount", t->desc);
	ck_assert_msg(((out[2] & 0x04) != 0) == (t->rcode == NOERR), "%s: AA", t->desc);
	ck_assert(out[0] == 0xab && out[1] == 0xcd && (out[2] & 0x80) && !(out[3] & 0x80));
	ck_assert_uint_eq(out[2] & 0x78, (uint8_t)t->pkt[2] & 0x78);
	if (t->echo) {
		while (out[qend] != 0)
			qend += 1u + out[qend];
		qend += 5;
		ck_assert_mem_eq(out + 12, t->pkt + 12, qend - 12);
	}
	ck_assert_msg(ldns_pkt_edns(p) == t->opt, "%s: OPT", t->desc);
	if (t->rcode != NOERR)
		ck_assert_uint_eq(out_len, qend + (t->opt ? 11 : 0));
	ldns_pkt_free(p);
}
END_TEST

START_TEST(silence)
{
	uint8_t q[512];
	size_t n = mkq(q, ZONE, T_SOA, 1);

	for (size_t len = 0; len < 12; len++)
		ck_assert_uint_eq(ans_query(&ctx, q, len, out, sizeof out, false), 0);
	ck_assert_uint_eq(ctx.st.dropped, 12);
	q[2] |= 0x80;
	ck_assert_uint_eq(ans_query(&ctx, q, n, out, sizeof out, false), 0);
	ck_assert_uint_eq(ans_query(&ctx, q, n, out, sizeof out, true), 0);
	ck_assert_uint_eq(ctx.st.dropped, 14);
	ck_assert_uint_eq(ctx.st.queries, 14);
	ck_assert_uint_eq(ctx.st.noerror + ctx.st.formerr, 0);
	/* a bare header with QR clear is a FORMERR, not silence */
	q[2] &= 0x7f;
	ck_assert_uint_eq(ans_query(&ctx, q, 12, out, sizeof out, false), 12);
	ck_assert_uint_eq(out[3] & 0x0f, FORMERR);
}
END_TEST

/* Every opcode but QUERY: NOTIMP with the opcode and the question echoed. */
START_TEST(notimp)
{
	unsigned opcode = (unsigned)_i;
	uint8_t q[512];
	size_t n = mkq(q, "2.0.0.127." ZONE, T_A, 1);

	q[2] = (uint8_t)(opcode << 3 | 0x01);
	ldns_pkt *p = ask(q, n, false);
	ck_assert_uint_eq(rcode_of(), NOTIMP);
	ck_assert_uint_eq((out[2] >> 3) & 0x0f, opcode);
	ck_assert(!(out[2] & 0x04) && (out[2] & 0x01));
	ck_assert_uint_eq(out_len, n);
	ck_assert_mem_eq(out + 12, q + 12, n - 12);
	ck_assert_uint_eq(ldns_pkt_ancount(p) + ldns_pkt_nscount(p), 0);
	ck_assert_uint_eq(ctx.st.notimp, 1);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- header bits */

static const struct flag_case {
	uint8_t in2, in3;      /* query header bytes 2 and 3 */
	uint8_t out2, out3;    /* expected, with AA for an in-zone answer */
} flag_cases[] = {
	{ 0x01, 0x00, 0x85, 0x00 },   /* RD copied */
	{ 0x00, 0x00, 0x84, 0x00 },   /* no RD */
	{ 0x00, 0x10, 0x84, 0x10 },   /* CD copied */
	{ 0x01, 0x10, 0x85, 0x10 },
	{ 0x07, 0xff, 0x85, 0x10 },   /* AA TC RD RA Z AD CD, rcode bits: only RD and CD stay */
	{ 0x06, 0xa0, 0x84, 0x00 },   /* AA TC, RA AD */
};

START_TEST(flags)
{
	const struct flag_case *t = &flag_cases[_i];
	uint8_t q[512];
	size_t n = mkq(q, ZONE, T_SOA, 1);

	q[2] = t->in2;
	q[3] = t->in3;
	ldns_pkt *p = ask(q, n, false);
	ck_assert_uint_eq(out[2], t->out2);
	ck_assert_uint_eq(out[3], t->out3);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ck_assert(!ldns_pkt_ra(p) && !ldns_pkt_ad(p));
	ldns_pkt_free(p);
}
END_TEST

/* Offset of the apex (the last two labels) inside the question of q. */
static size_t apex_offset(const uint8_t *q)
{
	size_t labs[130], n = 0, o = 12;

	while (q[o] != 0) {
		labs[n++] = o;
		o += 1u + q[o];
	}
	return labs[n - 2];
}

/* Every other letter upper case: the 0x20 encoding resolvers use against spoofing. */
static void mix_case(char *s)
{
	bool up = true;

	for (; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') && up)
			*s = (char)(*s - 'a' + 'A');
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))
			up = !up;
	}
}

static const struct case_case {
	int form;
	const char *addr;
	unsigned labels, qtype, rcode, an, ns;
} case_cases[] = {
	{ NIB, "2001:db8:1::42", 32, T_AAAA, NOERR, 0, 1 },
	{ NIB, "2001:db8:1::abcd", 32, T_ANY, NOERR, 2, 0 },
	{ NIB, "2001:db8:9::fade", 32, T_A, NXDOMAIN, 0, 1 },
	{ V4, "192.0.2.9", 4, T_ANY, NOERR, 2, 0 },
	{ REL, "", 0, T_SOA, NOERR, 1, 0 },
	{ REL, "", 0, T_MX, NOERR, 0, 1 },
};

/* A 0x20-encoded question comes back byte for byte; owners point into it. */
START_TEST(case_kept)
{
	const struct case_case *t = &case_cases[_i];
	char name[600];
	uint8_t q[700];

	mkname(name, t->form, t->addr, t->labels, NULL);
	mix_case(name);
	ck_assert_ptr_nonnull(strpbrk(name, "VB"));
	size_t n = mkq(q, name, t->qtype, 1);
	ldns_pkt *p = ask(q, n, false);
	ck_assert_uint_eq(rcode_of(), t->rcode);
	ck_assert(ldns_pkt_aa(p));
	ck_assert_mem_eq(out + 12, q + 12, n - 12);
	ck_assert_uint_eq(ldns_pkt_ancount(p), t->an);
	ck_assert_uint_eq(ldns_pkt_nscount(p), t->ns);
	/* the first record's owner: 0xC00C for answers, the apex inside the question for the SOA
	 * of a negative answer */
	unsigned ptr = count_at((unsigned)n);
	ck_assert_uint_eq(ptr, t->an ? 0xc00cu : 0xc000u | (unsigned)apex_offset(q));
	if (t->ns)
		check_neg_soa(p);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- EDNS0 */

static const struct edns_case {
	unsigned udp, version;
	bool do_bit, option;
} edns_cases[] = {
	{ 4096, 0, false, false },
	{ 4096, 0, true, false },
	{ 1232, 0, true, true },
	{ 512, 0, false, true },
	{ 0, 0, true, false },
	{ 65535, 0, false, false },
	{ 4096, 1, true, false },
	{ 4096, 255, false, true },
};

START_TEST(edns)
{
	const struct edns_case *t = &edns_cases[_i];
	char name[600];
	uint8_t q[700];

	mkname(name, NIB, "2001:db8:1::42", 32, NULL);
	size_t n = add_opt(q, mkq(q, name, T_A, 1), t->udp, t->version, t->do_bit, t->option);
	ldns_pkt *p = ask(q, n, false);
	ck_assert(ldns_pkt_edns(p));
	ck_assert_uint_eq(count_at(10), 1);
	ck_assert_uint_eq(ldns_pkt_edns_udp_size(p), 1232);
	ck_assert_uint_eq(ldns_pkt_edns_version(p), 0);
	ck_assert_uint_eq(ldns_pkt_edns_do(p), t->do_bit);
	ck_assert_uint_eq(out[out_len - 2] << 8 | out[out_len - 1], 0);   /* no options */
	ck_assert_uint_eq(out[out_len - 11], 0);                          /* owner root */
	if (t->version == 0) {
		ck_assert_uint_eq(rcode_of(), NOERR);
		ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 0);
		ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
		ck_assert(ldns_pkt_aa(p));
	} else {
		/* BADVERS = 16: upper bits 1 in the OPT, lower bits 0 in the header */
		ck_assert_uint_eq(rcode_of(), 0);
		ck_assert_uint_eq(ldns_pkt_edns_extended_rcode(p), 1);
		ck_assert_uint_eq(count_at(6) + count_at(8), 0);
		ck_assert_uint_eq(out_len, n - 11 - (t->option ? 7 : 0) + 11);
		ck_assert_mem_eq(out + 12, q + 12, out_len - 12 - 11);
		ck_assert(!ldns_pkt_aa(p));
		ck_assert_uint_eq(ctx.st.badvers, 1);
	}
	ldns_pkt_free(p);
}
END_TEST

START_TEST(no_opt_no_opt)
{
	uint8_t q[512];

	ldns_pkt *p = ask(q, mkq(q, ZONE, T_SOA, 1), false);
	ck_assert(!ldns_pkt_edns(p));
	ck_assert_uint_eq(count_at(10), 0);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- size limits and TC */

static const struct size_case {
	int edns;              /* -1: no OPT, else the client's UDP size */
	bool tcp;
	size_t cap;
	uint16_t udp_max;      /* the zone's */
	bool tc;
} size_cases[] = {
	{ -1, false, 65535, 1232, true },
	{ -1, false, 512, 1232, true },
	{ 512, false, 65535, 1232, true },
	{ 100, false, 65535, 1232, true },      /* below 512 counts as 512 */
	{ 4096, false, 65535, 1232, false },
	{ 1232, false, 65535, 1232, false },
	{ 4096, false, 65535, 600, true },      /* our own limit wins */
	{ 600, false, 65535, 4096, true },      /* the client's wins */
	{ 4096, false, 4096, 4096, false },
	{ 4096, false, 512, 4096, true },       /* never past cap */
	{ -1, true, 65535, 1232, false },
	{ 512, true, 65535, 1232, false },
	{ -1, true, 512, 1232, true },          /* TCP: the cap is the limit */
};

START_TEST(sizes)
{
	const struct size_case *t = &size_cases[_i];
	char name[600];
	uint8_t q[700], *buf = malloc(t->cap);
	ldns_pkt *p = NULL;

	zone_long.udp_max = t->udp_max;
	ctx.zone = &zone_long;
	mkname(name, NIB, "2001:db8:1::42", 32, NULL);
	size_t n = mkq(q, name, T_TXT, 1), qn = n;
	if (t->edns >= 0)
		n = add_opt(q, n, (unsigned)t->edns, 0, false, false);
	size_t len = ans_query(&ctx, q, n, buf, t->cap, t->tcp);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(len, t->cap);
	if (!t->tcp)
		ck_assert_uint_le(len, t->edns < 512 ? 512u : (unsigned)t->edns);
	ck_assert_int_eq(ldns_wire2pkt(&p, buf, len), LDNS_STATUS_OK);
	ck_assert_uint_eq(ldns_pkt_tc(p), t->tc);
	ck_assert_uint_eq(ldns_pkt_get_rcode(p), NOERR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), t->tc ? 0 : 1);
	ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	ck_assert_uint_eq(ldns_pkt_edns(p), t->edns >= 0);
	ck_assert_mem_eq(buf + 12, q + 12, qn - 12);
	if (t->tc)
		ck_assert_uint_eq(len, qn + (t->edns >= 0 ? 11 : 0));
	ck_assert_uint_eq(ctx.st.truncated, t->tc);
	ldns_pkt_free(p);
	free(buf);
}
END_TEST

/* A TXT longer than 255 bytes is split into character strings of at most 255. */
START_TEST(txt_split)
{
	char name[600], txt[2048], want[LONG_TMPL_LEN + 16];
	uint8_t q[700];

	ctx.zone = &zone_long;
	mkname(name, NIB, "2001:db8:1::42", 32, NULL);
	ldns_pkt *p = ask(q, mkq(q, name, T_TXT, 1), true);
	ldns_rr *x = first_of(ldns_pkt_answer(p), T_TXT);
	ck_assert_ptr_nonnull(x);
	ck_assert_uint_eq(ldns_rr_rd_count(x), 2);
	ck_assert_uint_eq(ldns_rdf_data(ldns_rr_rdf(x, 0))[0], 255);
	ck_assert_uint_eq(ldns_rdf_data(ldns_rr_rdf(x, 1))[0], LONG_TMPL_LEN + 6 - 255);
	memset(want, 'x', LONG_TMPL_LEN);
	strcpy(want + LONG_TMPL_LEN, " net48");
	ck_assert_str_eq(txt_of(x, txt, sizeof txt), want);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- TXT template variables */

static const struct var_case {
	int form;
	const char *addr;
	unsigned labels;
	const char *txt;
} var_cases[] = {
	{ NIB, "2001:db8:1::42", 32, "2001:db8:1::42|2001:db8:1::/48|127.0.0.2|v6bl.example|net48" },
	{ NIB, "2001:db8:1:7::", 16,
	  "2001:db8:1::/48|2001:db8:1::/48|127.0.0.2|v6bl.example|net48" },
	{ NIB, "2001:db8:3:8000::1", 32,
	  "2001:db8:3:8000::1|2001:db8:3:8000::/49|127.0.0.6|v6bl.example|half" },
	{ NIB, "2001:db8:2:1::9", 32,
	  "2001:db8:2:1::9|2001:db8:2:1::/64|127.0.0.4|v6bl.example|listed in v6bl.example" },
	{ V4, "192.0.2.9", 4, "192.0.2.9|192.0.2.0/24|127.0.0.5|v6bl.example|v4net" },
	{ V4, "192.0.2.0", 3, "192.0.2.0/24|192.0.2.0/24|127.0.0.5|v6bl.example|v4net" },
	{ V4, "127.0.0.2", 4, "127.0.0.2|127.0.0.2/32|127.0.0.2|v6bl.example|RFC 5782 test point" },
};

START_TEST(vars)
{
	const struct var_case *t = &var_cases[_i];
	char name[600], txt[2048];
	uint8_t q[700];

	ctx.zone = &zone_vars;
	mkname(name, t->form, t->addr, t->labels, NULL);
	ldns_pkt *p = ask(q, mkq(q, name, T_TXT, 1), false);
	ldns_rr *x = first_of(ldns_pkt_answer(p), T_TXT);
	ck_assert_ptr_nonnull(x);
	ck_assert_str_eq(txt_of(x, txt, sizeof txt), t->txt);
	ldns_pkt_free(p);
}
END_TEST

/* ---------------------------------------------------------------- serial and commits */

static int add_later(store_txn *t, void *arg)
{
	static const seed s = { "2001:db8:6::/48", STORE_LISTING, 9, "later", 0 };
	return put_seed(t, &s);
}

START_TEST(serial_follows_commits)
{
	char name[600];
	uint8_t q[700];
	uint32_t s1 = serial_now();

	ldns_pkt *p = ask(q, mkq(q, ZONE, T_SOA, 1), false);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(first_of(ldns_pkt_answer(p), T_SOA), 2)),
	                  s1);
	ldns_pkt_free(p);
	mkname(name, NIB, "2001:db8:6::1", 32, NULL);
	p = ask(q, mkq(q, name, T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), NXDOMAIN);
	ldns_pkt_free(p);

	ck_assert_int_eq(store_write(st, add_later, NULL), 0);
	uint32_t s2 = serial_now();
	ck_assert_uint_ne(s1, s2);
	p = ask(q, mkq(q, name, T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), NOERR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	p = ask(q, mkq(q, name, T_AAAA, 1), false);
	check_neg_soa(p);                 /* the new serial in the negative answer too */
	ldns_pkt_free(p);
	p = ask(q, mkq(q, ZONE, T_SOA, 1), false);
	ck_assert_uint_eq(ldns_rdf2native_int32(ldns_rr_rdf(first_of(ldns_pkt_answer(p), T_SOA), 2)),
	                  s2);
	ldns_pkt_free(p);
}
END_TEST

/* Without a usable store reader, in-zone questions get SERVFAIL; refusals stay refusals. */
START_TEST(servfail)
{
	uint8_t q[512];

	ctx.rd = NULL;
	ldns_pkt *p = ask(q, mkq(q, "2.0.0.127." ZONE, T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), SERVFAIL);
	ck_assert(!ldns_pkt_aa(p));
	ck_assert_uint_eq(ldns_pkt_ancount(p) + ldns_pkt_nscount(p), 0);
	ldns_pkt_free(p);
	p = ask(q, mkq(q, "example.", T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), REFUSED);
	ldns_pkt_free(p);
	ck_assert_uint_eq(ctx.st.servfail, 1);
	ck_assert_uint_eq(ctx.st.refused, 1);
}
END_TEST

START_TEST(stats)
{
	uint8_t q[700];
	size_t n;

	n = mkq(q, ZONE, T_SOA, 1);
	ans_query(&ctx, q, n, out, sizeof out, false);
	n = mkq(q, "1.0.0.127." ZONE, T_A, 1);
	ans_query(&ctx, q, n, out, sizeof out, false);
	n = mkq(q, "example.", T_A, 1);
	ans_query(&ctx, q, n, out, sizeof out, false);
	ans_query(&ctx, q, 5, out, sizeof out, false);
	q[2] = 0x28;
	ans_query(&ctx, q, n, out, sizeof out, false);
	q[2] = 0x01;
	q[5] = 0;
	ans_query(&ctx, q, n, out, sizeof out, false);
	n = add_opt(q, mkq(q, ZONE, T_SOA, 1), 4096, 1, false, false);
	ans_query(&ctx, q, n, out, sizeof out, false);
	ck_assert_uint_eq(ctx.st.queries, 7);
	ck_assert_uint_eq(ctx.st.noerror, 1);
	ck_assert_uint_eq(ctx.st.nxdomain, 1);
	ck_assert_uint_eq(ctx.st.refused, 1);
	ck_assert_uint_eq(ctx.st.dropped, 1);
	ck_assert_uint_eq(ctx.st.notimp, 1);
	ck_assert_uint_eq(ctx.st.formerr, 1);
	ck_assert_uint_eq(ctx.st.badvers, 1);
	ck_assert_uint_eq(ctx.st.servfail + ctx.st.truncated, 0);
}
END_TEST

/* Long names: 255 bytes is fine (and refused out of zone), 256 is a FORMERR; 63-byte labels. */
START_TEST(long_names)
{
	char name[600];
	uint8_t q[700];
	size_t o = 0;

	for (int i = 0; i < 127; i++)
		o += (size_t)sprintf(name + o, "0.");
	ldns_pkt *p = ask(q, mkq(q, name, T_A, 1), false);      /* 127 labels, 255 bytes */
	ck_assert_uint_eq(rcode_of(), REFUSED);
	ck_assert_uint_eq(count_at(4), 1);
	ldns_pkt_free(p);
	sprintf(name + o, "0.");
	p = ask(q, mkq(q, name, T_A, 1), false);                /* 256 bytes */
	ck_assert_uint_eq(rcode_of(), FORMERR);
	ck_assert_uint_eq(out_len, 12);
	ldns_pkt_free(p);
	/* 120 labels under the zone: 254 bytes, all passed to the lookup */
	o = 0;
	for (int i = 0; i < 120; i++)
		o += (size_t)sprintf(name + o, "0.");
	strcpy(name + o, ZONE);
	p = ask(q, mkq(q, name, T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), NXDOMAIN);
	check_neg_soa(p);
	ldns_pkt_free(p);
	/* a 63-byte label is fine, 64 is not */
	memset(name, 'a', 63);
	strcpy(name + 63, "." ZONE);
	p = ask(q, mkq(q, name, T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), NXDOMAIN);
	ldns_pkt_free(p);
	size_t n = mkq(q, name, T_A, 1);
	q[12] = 64;
	out_len = ans_query(&ctx, q, n, out, sizeof out, false);
	ck_assert_uint_eq(out_len, 12);
	ck_assert_uint_eq(rcode_of(), FORMERR);
}
END_TEST

/* ---------------------------------------------------------------- the zone rendering */

START_TEST(zone_init)
{
	static const uint8_t wire[] = "\x04" "v6bl" "\x07" "example";
	ck_assert_uint_eq(zone.apex_len, 14);
	ck_assert_mem_eq(zone.apex, wire, 14);
	ck_assert_uint_eq(zone.apex_labels, 2);
	ck_assert_str_eq(zone.apex_text, "v6bl.example");
	ck_assert_uint_eq(zone.n_ns, 2);
	ck_assert_uint_eq(zone.ns_rdlen[0], 17);
	ck_assert_uint_eq(zone.ttl, TTL);
	ck_assert_uint_eq(zone.soa_ttl, SOA_TTL);
	ck_assert_uint_eq(zone.ns_ttl, NS_TTL);
	ck_assert_uint_eq(zone.neg_ttl, NEG_TTL);
	ck_assert_uint_eq(zone.udp_max, 1232);
	ck_assert_uint_eq(zone.soa_rdlen, 17 + 25 + 20);
	ck_assert_uint_eq(zone.soa_serial_off, 17 + 25);
	ck_assert_str_eq(zone.default_reason, "listed in v6bl.example");
}
END_TEST

static const struct zone_err_case {
	const char *field, *value, *msg;
} zone_err_cases[] = {
	{ "zone", "bad..name.", "bad zone name" },
	{ "zone", "", "bad zone name" },
	{ "ns", "x..y.", "bad NS name" },
	{ "mname", "a..b", "bad SOA mname" },
	{ "template", "{nope}", "txt-template" },
	{ "template", "{reason", "txt-template" },
	{ "reason", "in {zone", "default-reason" },
	{ "label", NULL, "bad zone name" },
};

START_TEST(zone_errors)
{
	const struct zone_err_case *t = &zone_err_cases[_i];
	char err[512] = "";
	ans_zone z;
	cfg c;

	cfg_defaults(&c);
	strcpy(c.zone, ZONE);
	strcpy(c.ns[0], "ns1.example.net.");
	c.n_ns = 1;
	strcpy(c.soa_rname, "hostmaster.v6bl.example.");
	ck_assert_int_eq(ans_zone_init(&z, &c, err, sizeof err), 0);
	if (strcmp(t->field, "zone") == 0)
		strcpy(c.zone, t->value);
	else if (strcmp(t->field, "ns") == 0)
		strcpy(c.ns[0], t->value);
	else if (strcmp(t->field, "mname") == 0)
		strcpy(c.soa_mname, t->value);
	else if (strcmp(t->field, "template") == 0)
		strcpy(c.txt_template, t->value);
	else if (strcmp(t->field, "reason") == 0)
		strcpy(c.default_reason, t->value);
	else {
		memset(c.zone, 'a', 64);
		strcpy(c.zone + 64, ".example.");
	}
	ck_assert_int_eq(ans_zone_init(&z, &c, err, sizeof err), V6R_EINVAL);
	ck_assert_msg(strstr(err, t->msg) != NULL, "message '%s' lacks '%s'", err, t->msg);
}
END_TEST

/* Presentation escapes in settings, the root zone and a derived RNAME. */
START_TEST(zone_names)
{
	static const uint8_t esc[] = "\x03" "a.b" "\x03" "abc" "\x07" "example";
	char err[512] = "";
	ans_zone z;
	cfg c;

	cfg_defaults(&c);
	strcpy(c.zone, "a\\.b.\\065BC.example.");
	strcpy(c.ns[0], "ns1.example.net.");
	c.n_ns = 1;
	ck_assert_msg(ans_zone_init(&z, &c, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(z.apex_len, sizeof esc);
	ck_assert_mem_eq(z.apex, esc, sizeof esc);
	ck_assert_uint_eq(z.apex_labels, 3);
	/* RNAME hostmaster.<zone> when none is set, MNAME the first NS */
	ck_assert_uint_eq(z.soa_serial_off, 17 + 11 + sizeof esc);
	ck_assert_mem_eq(z.soa_rdata + 17, "\x0a" "hostmaster", 11);

	c.n_ns = 0;
	ck_assert_int_eq(ans_zone_init(&z, &c, err, sizeof err), V6R_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "no NS"));
}
END_TEST

/* A zone at the root: every name is in it and the SOA owner is the question's root label. */
START_TEST(root_zone)
{
	char err[512] = "";
	uint8_t q[512];
	ans_zone z;
	cfg c;

	cfg_defaults(&c);
	strcpy(c.zone, ".");
	strcpy(c.ns[0], "ns1.example.net.");
	c.n_ns = 1;
	ck_assert_msg(ans_zone_init(&z, &c, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(z.apex_len, 1);
	ck_assert_uint_eq(z.apex_labels, 0);
	ck_assert_str_eq(z.apex_text, "");
	ctx.zone = &z;
	ldns_pkt *p = ask(q, mkq(q, "2.0.0.127.", T_A, 1), false);
	ck_assert_uint_eq(rcode_of(), NOERR);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
	size_t n = mkq(q, "1.0.0.127.", T_A, 1);
	p = ask(q, n, false);
	ck_assert_uint_eq(rcode_of(), NXDOMAIN);
	ck_assert_uint_eq(count_at((unsigned)n), 0xc000u | (unsigned)(n - 5));
	ck_assert(owner_is(ldns_rr_list_rr(ldns_pkt_authority(p), 0), "."));
	ldns_pkt_free(p);
	p = ask(q, mkq(q, ".", T_SOA, 1), false);
	ck_assert_uint_eq(ldns_pkt_ancount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

/* A negative answer whose SOA does not fit in 512 bytes is truncated too. */
START_TEST(long_soa)
{
	char err[512] = "", name[600];
	uint8_t q[700];
	ans_zone z;
	cfg c;

	cfg_defaults(&c);
	strcpy(c.zone, ZONE);
	strcpy(c.ns[0], "ns1.example.net.");
	c.n_ns = 1;
	memset(c.soa_rname, 'r', 63);
	memset(c.soa_rname + 64, 'r', 63);
	memset(c.soa_rname + 128, 'r', 63);
	c.soa_rname[63] = c.soa_rname[127] = c.soa_rname[191] = '.';
	strcpy(c.soa_rname + 192, "example.");
	strcpy(c.soa_mname, c.soa_rname);
	ck_assert_msg(ans_zone_init(&z, &c, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_gt(z.soa_rdlen, 400);
	ctx.zone = &z;
	mkname(name, NIB, "2001:db8:9::1", 32, NULL);
	size_t n = mkq(q, name, T_A, 1);
	ldns_pkt *p = ask(q, n, false);
	ck_assert_uint_eq(rcode_of(), NXDOMAIN);
	ck_assert(ldns_pkt_tc(p));
	ck_assert_uint_eq(ldns_pkt_nscount(p), 0);
	ck_assert_uint_eq(out_len, n);
	ldns_pkt_free(p);
	p = ask(q, n, true);
	ck_assert(!ldns_pkt_tc(p));
	ck_assert_uint_eq(ldns_pkt_nscount(p), 1);
	ldns_pkt_free(p);
}
END_TEST

/* A caller that breaks the cap >= 512 contract gets silence rather than an overrun. */
START_TEST(tiny_cap)
{
	char name[600];
	uint8_t q[700], *buf = malloc(64);

	mkname(name, NIB, "2001:db8:1::42", 32, NULL);
	size_t n = mkq(q, name, T_A, 1);
	ck_assert_uint_eq(ans_query(&ctx, q, n, buf, 64, false), 0);
	ck_assert_uint_eq(ans_query(&ctx, q, n, buf, 11, true), 0);
	ck_assert_uint_eq(ctx.st.dropped, 2);
	free(buf);
}
END_TEST

/* ---------------------------------------------------------------- robustness */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

/* Answers q (copied to a buffer of exactly n bytes) into a buffer of exactly cap bytes, so
 * that ASan sees any read or write out of bounds; the response must stay in cap and decode. */
static void feed(const uint8_t *q, size_t n, size_t cap, bool tcp)
{
	uint8_t *in = malloc(n ? n : 1), *buf = malloc(cap);
	ldns_pkt *p = NULL;

	memcpy(in, q, n);
	size_t len = ans_query(&ctx, in, n, buf, cap, tcp);
	ck_assert_uint_le(len, cap);
	ck_assert_uint_le(len, tcp ? 65535u : (cap < 65535u ? cap : 65535u));
	if (len > 0) {
		ck_assert_uint_ge(len, 12);
		ck_assert_msg(ldns_wire2pkt(&p, buf, len) == LDNS_STATUS_OK, "response does not decode");
		ldns_pkt_free(p);
	}
	free(in);
	free(buf);
}

static size_t base_queries(uint8_t q[][700], size_t *len)
{
	char name[600];
	size_t k = 0;

	mkname(name, NIB, "2001:db8:1::42", 32, NULL);
	len[k] = add_opt(q[k], mkq(q[k], name, T_ANY, 1), 4096, 0, true, true), k++;
	len[k] = mkq(q[k], name, T_TXT, 1), k++;
	len[k] = add_opt(q[k], mkq(q[k], ZONE, T_ANY, 1), 512, 0, false, false), k++;
	len[k] = mkq(q[k], "9.2.0.192." ZONE, T_A, 1), k++;
	len[k] = add_opt(q[k], mkq(q[k], "1.0.0.127." ZONE, T_TXT, 1), 1400, 1, false, false), k++;
	mkname(name, NIB, "2001:db8:1:7::", 16, "zz");
	len[k] = mkq(q[k], name, T_A, 1), k++;
	len[k] = mkq(q[k], "example.", T_A, 1), k++;
	for (size_t i = 0; i < sizeof raw_cases / sizeof raw_cases[0]; i++)
		if (strcmp(raw_cases[i].desc, "records in answer, authority and additional") == 0) {
			memcpy(q[k], raw_cases[i].pkt, raw_cases[i].len);
			len[k++] = raw_cases[i].len;
		}
	ck_assert_uint_eq(k, 8);
	return k;
}

START_TEST(truncations)
{
	uint8_t q[8][700];
	size_t len[8], k = base_queries(q, len);

	ctx.zone = &zone_long;
	for (size_t i = 0; i < k; i++)
		for (size_t n = 0; n <= len[i]; n++) {
			feed(q[i], n, 512, false);
			feed(q[i], n, 65535, true);
			feed(q[i], n, 512, true);
		}
}
END_TEST

static size_t mutate(uint8_t *m, size_t n)
{
	unsigned kind = rnd() % 8, hits = 1 + rnd() % 4;

	if (kind == 0 && n > 0)
		return rnd() % n;                              /* cut */
	if (kind == 1) {                                   /* append junk */
		size_t add = rnd() % 64;
		for (size_t i = 0; i < add && n < 700; i++)
			m[n++] = (uint8_t)rnd();
		return n;
	}
	for (unsigned h = 0; h < hits && n > 0; h++) {
		size_t at = kind == 2 ? rnd() % (n < 12 ? n : 12) : rnd() % n;
		if (kind == 3)
			m[at] ^= (uint8_t)(1u << (rnd() % 8));     /* flip a bit */
		else if (kind == 4)
			m[at] = (uint8_t)(0xc0 | rnd() % 64);      /* plant a pointer */
		else
			m[at] = (uint8_t)rnd();
	}
	return n;
}

START_TEST(mutations)
{
	uint8_t q[8][700], m[760];
	size_t len[8], k = base_queries(q, len);
	static const size_t caps[] = { 512, 1232, 4096, 65535 };

	for (unsigned i = 0; i < 10000; i++) {
		size_t b = rnd() % k, n;
		memcpy(m, q[b], len[b]);
		n = mutate(m, len[b]);
		if (rnd() % 4 == 0)
			n = mutate(m, n);
		ctx.zone = rnd() % 2 ? &zone : &zone_long;
		feed(m, n, caps[rnd() % 4], false);
		feed(m, n, caps[rnd() % 4], true);
	}
	ck_assert_uint_eq(ctx.st.queries, 20000);
}
END_TEST

Suite *answer_suite(void)
{
	Suite *s = suite_create("answer");
	TCase *tc = tcase_create("answer");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, names, 0, sizeof name_cases / sizeof name_cases[0]);
	tcase_add_loop_test(tc, apex, 0, sizeof apex_cases / sizeof apex_cases[0]);
	tcase_add_loop_test(tc, refusals, 0, sizeof out_cases / sizeof out_cases[0]);
	tcase_add_loop_test(tc, raw, 0, sizeof raw_cases / sizeof raw_cases[0]);
	tcase_add_test(tc, silence);
	tcase_add_loop_test(tc, notimp, 1, 16);
	tcase_add_loop_test(tc, flags, 0, sizeof flag_cases / sizeof flag_cases[0]);
	tcase_add_loop_test(tc, case_kept, 0, sizeof case_cases / sizeof case_cases[0]);
	tcase_add_loop_test(tc, edns, 0, sizeof edns_cases / sizeof edns_cases[0]);
	tcase_add_test(tc, no_opt_no_opt);
	tcase_add_loop_test(tc, sizes, 0, sizeof size_cases / sizeof size_cases[0]);
	tcase_add_test(tc, txt_split);
	tcase_add_loop_test(tc, vars, 0, sizeof var_cases / sizeof var_cases[0]);
	tcase_add_test(tc, serial_follows_commits);
	tcase_add_test(tc, servfail);
	tcase_add_test(tc, stats);
	tcase_add_test(tc, long_names);
	tcase_add_test(tc, zone_init);
	tcase_add_loop_test(tc, zone_errors, 0, sizeof zone_err_cases / sizeof zone_err_cases[0]);
	tcase_add_test(tc, zone_names);
	tcase_add_test(tc, root_zone);
	tcase_add_test(tc, long_soa);
	tcase_add_test(tc, tiny_cap);
	tcase_add_test(tc, truncations);
	tcase_add_test(tc, mutations);
	suite_add_tcase(s, tc);
	return s;
}
