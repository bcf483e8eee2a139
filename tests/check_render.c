/* check_render.c: the zone rendering: exact record sets, and a model of a standard server over them against lk_name. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../zone/addr.h"
#include "../zone/cfg.h"
#include "../zone/err.h"
#include "../zone/lookup.h"
#include "../zone/render.h"
#include "../zone/store.h"
#include "../zone/tmpl.h"
#include "suites.h"

#define ZONE "v6bl.test"
#define TEMPLATE "{reason} [{prefix}] {code}"
#define TTL 300

/* An assertion for hot loops: Check's own ones write to a pipe on every call, even passing. */
#define REQUIRE(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)

static char dir[64];
static store *st;
static store_reader *rd;
static uint64_t now;
static cfg conf;
static rd_zone *zone;

/* ---------------------------------------------------------------- fixture */

typedef struct ent {
	const char *pfx;      /* "!" first: an exclusion */
	uint8_t code;         /* last octet of 127.0.0.x */
	const char *reason;
	int64_t expires;      /* relative to now; 0 = never */
} ent;

typedef struct fill_arg {
	const ent *e;
	size_t n;
} fill_arg;

static int fill(store_txn *t, void *arg)
{
	const fill_arg *f = arg;
	for (size_t i = 0; i < f->n; i++) {
		const ent *x = &f->e[i];
		const char *p = x->pfx[0] == '!' ? x->pfx + 1 : x->pfx;
		store_entry e = { .kind = x->pfx[0] == '!' ? STORE_EXCLUSION : STORE_LISTING,
		                  .created = now, .updated = now };
		ck_assert_int_eq(addr_parse(p, strlen(p), 0, &e.pfx), 0);
		if (e.kind == STORE_LISTING) {
			e.code[0] = 127;
			e.code[3] = x->code;
		}
		if (x->reason) {
			e.reason = x->reason;
			e.reason_len = strlen(x->reason);
		}
		if (x->expires)
			e.expires = (uint64_t)((int64_t)now + x->expires);
		int rc = store_put(t, &e);
		if (rc)
			return rc;
	}
	return 0;
}

static void conf_set(const char *name, const char *value)
{
	char err[256];
	ck_assert_msg(cfg_set(&conf, name, value, "test", err, sizeof err) == 0, "%s", err);
}

static void setup(void)
{
	char err[256];
	now = (uint64_t)time(NULL);
	strcpy(dir, "/tmp/v6rep-rd-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
	ck_assert_int_eq(store_reader_new(st, &rd), 0);
	cfg_defaults(&conf);
	conf_set("zone", ZONE);
	conf_set("ns", "ns1.example.net");
	conf_set("ns", "ns2.example.net");
	conf_set("txt-template", TEMPLATE);
	conf_set("ttl", "300");
	conf_set("soa-ttl", "3600");
	conf_set("ns-ttl", "86400");
	conf_set("negative-ttl", "60");
	ck_assert_msg(cfg_finish(&conf, CFG_TOOL, err, sizeof err) == 0, "%s", err);
	ck_assert_msg(rd_zone_new(&conf, &zone, err, sizeof err) == 0, "%s", err);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void teardown(void)
{
	rd_zone_free(zone);
	store_reader_free(rd);
	store_close(st);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static void load(const ent *e, size_t n)
{
	fill_arg f = { e, n };
	ck_assert_int_eq(store_write(st, fill, &f), 0);
}

/* ---------------------------------------------------------------- record lists */

typedef struct lines {
	char **v;
	size_t n, cap;
} lines;

static void lines_add(lines *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		REQUIRE(l->v != NULL, "out of memory");
	}
	l->v[l->n] = strdup(s);
	REQUIRE(l->v[l->n] != NULL, "out of memory");
	l->n++;
}

static void lines_free(lines *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof *l);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_sort(lines *l)
{
	if (l->n > 1)
		qsort(l->v, l->n, sizeof *l->v, str_cmp);
}

/* Sorts and drops repeated lines (expected sets may name a node twice). */
static void lines_unique(lines *l)
{
	size_t k = 0;
	lines_sort(l);
	for (size_t i = 0; i < l->n; i++) {
		if (k > 0 && strcmp(l->v[k - 1], l->v[i]) == 0) {
			free(l->v[i]);
			continue;
		}
		l->v[k++] = l->v[i];
	}
	l->n = k;
}

static int collect_line(const rd_rr *rr, void *arg)
{
	char buf[RD_TEXT_MAX];
	int n = rd_rr_text(rr, buf, sizeof buf);
	REQUIRE(n > 0, "rd_rr_text failed (%d)", n);
	buf[n - 1] = '\0';     /* no newline */
	lines_add(arg, buf);
	return 0;
}

/* Renders the whole zone (without the SOA and NS lines, checked elsewhere) into l. */
static void render_lines(lines *l, bool with_apex)
{
	lines all = { 0 };
	ck_assert_int_eq(store_reader_begin(rd), 0);
	ck_assert_int_eq(rd_render(zone, rd, now, collect_line, &all), 0);
	store_reader_end(rd);
	for (size_t i = 0; i < all.n; i++)
		if (with_apex || strncmp(all.v[i], ZONE ". ", strlen(ZONE) + 2) != 0)
			lines_add(l, all.v[i]);
	lines_free(&all);
}

/* ---------------------------------------------------------------- expected records */

/*
 * A compact description of expected records:
 *   L NAME CODE TEXT   A and TXT at NAME and at *.NAME
 *   F NAME CODE TEXT   A and TXT at NAME only
 *   H NAME             a hole at NAME
 *   C ADDR CODE TEXT FROM TO   L for every nibble node of ADDR of depth FROM+1 .. TO-1
 * NAME is a relative name, or "@PREFIX" for the nibble name of a nibble-aligned prefix, or
 * "%PREFIX" for the octet name of an IPv4 prefix on an octet boundary.
 */
typedef struct wspec {
	char kind;
	const char *name;
	uint8_t code;
	const char *text;
	unsigned from, to;
} wspec;

static void name_of(const char *spec, char *out)
{
	addr_pfx p;
	char buf[80];
	if (spec[0] != '@' && spec[0] != '%') {
		strcpy(out, spec);
		return;
	}
	ck_assert_int_eq(addr_parse(spec + 1, strlen(spec + 1), 0, &p), 0);
	if (spec[0] == '@')
		ck_assert_int_ge(addr_nibble_name(p.a, p.len / 4, buf, sizeof buf), 0);
	else
		ck_assert_int_ge(addr_v4_name(p.a, (p.len - 96) / 8, buf, sizeof buf), 0);
	strcpy(out, buf);
}

static void add_rr(lines *l, const char *rel, bool wild, const char *type, const char *data)
{
	char line[2048];
	snprintf(line, sizeof line, "%s%s%s%s. %d IN %s %s", wild ? "*" : "", wild && rel[0] ? "." : "",
	         rel, rel[0] ? "." ZONE : ZONE, TTL, type, data);
	lines_add(l, line);
}

static void add_listed(lines *l, const char *rel, bool wild, uint8_t code, const char *text)
{
	char a[32], t[1100];
	snprintf(a, sizeof a, "127.0.0.%u", code);
	snprintf(t, sizeof t, "\"%s\"", text);
	add_rr(l, rel, wild, "A", a);
	add_rr(l, rel, wild, "TXT", t);
}

static void expand(const wspec *w, size_t n, lines *l)
{
	char name[128];
	for (size_t i = 0; i < n; i++) {
		if (w[i].kind != 'C')
			name_of(w[i].name, name);
		switch (w[i].kind) {
		case 'L':
			add_listed(l, name, false, w[i].code, w[i].text);
			add_listed(l, name, true, w[i].code, w[i].text);
			break;
		case 'F':
			add_listed(l, name, false, w[i].code, w[i].text);
			break;
		case 'H':
			add_rr(l, name, false, "TYPE65280", "\\# 0");
			break;
		case 'C': {
			addr_pfx p;
			ck_assert_int_eq(addr_parse(w[i].name, strlen(w[i].name), 0, &p), 0);
			for (unsigned d = w[i].from + 1; d < w[i].to; d++) {
				ck_assert_int_ge(addr_nibble_name(p.a, d, name, sizeof name), 0);
				add_listed(l, name, false, w[i].code, w[i].text);
				add_listed(l, name, true, w[i].code, w[i].text);
			}
			break;
		}
		default:
			ck_abort_msg("bad want kind %c", w[i].kind);
		}
	}
}

/* The RFC 5782 test point, present in every rendering. */
#define TP_TEXT "RFC 5782 test point [127.0.0.2/32] 127.0.0.2"
#define TEST_POINT { 'F', "@::ffff:7f00:2/128", 2, TP_TEXT, 0, 0 }, \
                   { 'F', "2.0.0.127", 2, TP_TEXT, 0, 0 }

typedef struct exact_case {
	const char *what;
	ent in[16];
	wspec out[24];
} exact_case;

static const exact_case exact[] = {
	{ "nested /48 -> /64 -> /128 listings and exclusions", {
		{ "2001:db8:aaaa::/48", 2, "net", 0 },
		{ "2001:db8:aaaa:1::/64", 3, "sub", 0 },
		{ "2001:db8:aaaa:1::5", 4, "host", 0 },
		{ "!2001:db8:aaaa:1::9", 0, NULL, 0 },
		{ "!2001:db8:aaaa:2::/64", 0, "customer", 0 },
		{ "2001:db8:aaaa:2::7", 5, "again", 0 },
		{ "!2001:db8:aaaa:3::/64", 0, NULL, 0 },
		{ "!2001:db8:cccc::/48", 0, NULL, 0 },        /* under no wildcard: nothing */
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@2001:db8:aaaa::/48", 2, "net [2001:db8:aaaa::/48] 127.0.0.2", 0, 0 },
		{ 'C', "2001:db8:aaaa:1::", 2, "net [2001:db8:aaaa::/48] 127.0.0.2", 12, 16 },
		{ 'L', "@2001:db8:aaaa:1::/64", 3, "sub [2001:db8:aaaa:1::/64] 127.0.0.3", 0, 0 },
		{ 'C', "2001:db8:aaaa:1::5", 3, "sub [2001:db8:aaaa:1::/64] 127.0.0.3", 16, 32 },
		{ 'F', "@2001:db8:aaaa:1::5/128", 4, "host [2001:db8:aaaa:1::5/128] 127.0.0.4", 0, 0 },
		{ 'H', "@2001:db8:aaaa:1::9/128", 0, NULL, 0, 0 },
		{ 'C', "2001:db8:aaaa:2::", 2, "net [2001:db8:aaaa::/48] 127.0.0.2", 12, 16 },
		{ 'H', "@2001:db8:aaaa:2::/64", 0, NULL, 0, 0 },
		{ 'F', "@2001:db8:aaaa:2::7/128", 5, "again [2001:db8:aaaa:2::7/128] 127.0.0.5", 0, 0 },
		{ 'C', "2001:db8:aaaa:3::", 2, "net [2001:db8:aaaa::/48] 127.0.0.2", 12, 16 },
		{ 'H', "@2001:db8:aaaa:3::/64", 0, NULL, 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "a /49 is eight /52 wildcards; a /52 inside overrides one", {
		{ "2001:db8:bbbb:8000::/49", 7, "half", 0 },
		{ "2001:db8:bbbb:a000::/52", 8, "piece", 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@2001:db8:bbbb:8000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:9000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:a000::/52", 8, "piece [2001:db8:bbbb:a000::/52] 127.0.0.8", 0, 0 },
		{ 'L', "@2001:db8:bbbb:b000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:c000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:d000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:e000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		{ 'L', "@2001:db8:bbbb:f000::/52", 7, "half [2001:db8:bbbb:8000::/49] 127.0.0.7", 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "IPv4 entries in both trees", {
		{ "192.0.2.0/24", 6, "v4net", 0 },
		{ "!192.0.2.128/31", 0, NULL, 0 },
		{ "198.51.100.7", 9, "v4host", 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@::ffff:192.0.2.0/120", 6, "v4net [192.0.2.0/24] 127.0.0.6", 0, 0 },
		{ 'C', "::ffff:192.0.2.128", 6, "v4net [192.0.2.0/24] 127.0.0.6", 30, 32 },
		{ 'H', "@::ffff:192.0.2.128/128", 0, NULL, 0, 0 },
		{ 'H', "@::ffff:192.0.2.129/128", 0, NULL, 0, 0 },
		{ 'F', "@::ffff:198.51.100.7/128", 9, "v4host [198.51.100.7/32] 127.0.0.9", 0, 0 },
		{ 'L', "2.0.192", 6, "v4net [192.0.2.0/24] 127.0.0.6", 0, 0 },
		{ 'H', "128.2.0.192", 0, NULL, 0, 0 },
		{ 'H', "129.2.0.192", 0, NULL, 0, 0 },
		{ 'F', "7.100.51.198", 9, "v4host [198.51.100.7/32] 127.0.0.9", 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "test points: 127.0.0.2 listed, 127.0.0.1 a hole inside 127/8", {
		{ "127.0.0.0/8", 11, "loop", 0 },
		{ "127.0.0.1", 12, "stored, ignored", 0 },
		{ "!127.0.0.2", 0, NULL, 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@::ffff:127.0.0.0/104", 11, "loop [127.0.0.0/8] 127.0.0.11", 0, 0 },
		{ 'C', "::ffff:127.0.0.0", 11, "loop [127.0.0.0/8] 127.0.0.11", 26, 32 },
		{ 'H', "@::ffff:127.0.0.1/128", 0, NULL, 0, 0 },
		{ 'L', "127", 11, "loop [127.0.0.0/8] 127.0.0.11", 0, 0 },
		{ 'L', "0.127", 11, "loop [127.0.0.0/8] 127.0.0.11", 0, 0 },
		{ 'L', "0.0.127", 11, "loop [127.0.0.0/8] 127.0.0.11", 0, 0 },
		{ 'H', "1.0.0.127", 0, NULL, 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "expired entries are not rendered", {
		{ "2001:db8:dddd::/48", 2, "live", 0 },
		{ "!2001:db8:dddd:1::/64", 0, NULL, -10 },
		{ "2001:db8:eeee::/48", 3, "gone", -10 },
		{ "2001:db8:eeee:1::/64", 4, "sub", 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@2001:db8:dddd::/48", 2, "live [2001:db8:dddd::/48] 127.0.0.2", 0, 0 },
		{ 'L', "@2001:db8:eeee:1::/64", 4, "sub [2001:db8:eeee:1::/64] 127.0.0.4", 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "listings whose every piece an exclusion overrides: the last piece exists", {
		{ "2001:db8:5::/127", 2, "pair", 0 },
		{ "!2001:db8:5::", 0, NULL, 0 },
		{ "!2001:db8:5::1", 0, NULL, 0 },
		{ "198.18.0.2/31", 3, "v4 pair", 0 },
		{ "!198.18.0.2", 0, NULL, 0 },
		{ "!198.18.0.3", 0, NULL, 0 },
		{ "2001:db8:6:8000::/50", 4, "quarter", 0 },
		{ "!2001:db8:6:8000::/52", 0, NULL, 0 },
		{ "!2001:db8:6:9000::/52", 0, NULL, 0 },
		{ "!2001:db8:6:a000::/52", 0, NULL, 0 },
		{ "!2001:db8:6:b000::/52", 0, NULL, 0 },
		{ "2001:db8:7::/127", 5, "half shadowed", 0 },
		{ "!2001:db8:7::1", 0, NULL, 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'H', "@2001:db8:5::1/128", 0, NULL, 0, 0 },
		{ 'H', "@::ffff:198.18.0.3/128", 0, NULL, 0, 0 },
		{ 'H', "3.0.18.198", 0, NULL, 0, 0 },
		{ 'H', "@2001:db8:6:b000::/52", 0, NULL, 0, 0 },
		{ 'L', "@2001:db8:7::/128", 5, "half shadowed [2001:db8:7::/127] 127.0.0.5", 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
	{ "a /128 exclusion and a /124 listing at the last nibble", {
		{ "2001:db8:f::/124", 2, "tiny", 0 },
		{ "!2001:db8:f::3", 0, NULL, 0 },
		{ "2001:db8:f::20/125", 3, "eight", 0 },
		{ NULL, 0, NULL, 0 } }, {
		{ 'L', "@2001:db8:f::/124", 2, "tiny [2001:db8:f::/124] 127.0.0.2", 0, 0 },
		{ 'H', "@2001:db8:f::3/128", 0, NULL, 0, 0 },
		{ 'L', "@2001:db8:f::20/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::21/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::22/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::23/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::24/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::25/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::26/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		{ 'L', "@2001:db8:f::27/128", 3, "eight [2001:db8:f::20/125] 127.0.0.3", 0, 0 },
		TEST_POINT, { 0, NULL, 0, NULL, 0, 0 } } },
};

static size_t count_ents(const ent *e)
{
	size_t n = 0;
	while (e[n].pfx)
		n++;
	return n;
}

static size_t count_wants(const wspec *w)
{
	size_t n = 0;
	while (w[n].kind)
		n++;
	return n;
}

START_TEST(exact_records)
{
	const exact_case *t = &exact[_i];
	lines got = { 0 }, exp = { 0 };

	load(t->in, count_ents(t->in));
	render_lines(&got, false);
	expand(t->out, count_wants(t->out), &exp);
	lines_sort(&got);
	lines_unique(&exp);
	size_t i = 0, j = 0;
	char msg[4096] = "";
	size_t m = 0;
	while (i < got.n || j < exp.n) {
		int c = i == got.n ? 1 : j == exp.n ? -1 : strcmp(got.v[i], exp.v[j]);
		if (c == 0) {
			i++, j++;
			continue;
		}
		if (m < sizeof msg - 200)
			m += (size_t)snprintf(msg + m, sizeof msg - m, "\n  %s %s", c < 0 ? "extra" : "missing",
			                      c < 0 ? got.v[i] : exp.v[j]);
		if (c < 0)
			i++;
		else
			j++;
	}
	ck_assert_msg(msg[0] == '\0', "%s: rendered records differ:%s", t->what, msg);
	lines_free(&got);
	lines_free(&exp);
}
END_TEST

/* The apex: SOA first with the store's serial, then the NS records. */
START_TEST(apex_records)
{
	lines got = { 0 };
	uint32_t serial;
	char want[256];
	static const ent one[] = { { "2001:db8::/32", 2, "x", 0 } };

	load(one, 1);
	ck_assert_int_eq(store_serial(st, &serial), 0);
	render_lines(&got, true);
	snprintf(want, sizeof want, ZONE ". 3600 IN SOA ns1.example.net. hostmaster." ZONE ". %u "
	         "3600 600 604800 60", serial);
	ck_assert_str_eq(got.v[0], want);
	ck_assert_str_eq(got.v[1], ZONE ". 86400 IN NS ns1.example.net.");
	ck_assert_str_eq(got.v[2], ZONE ". 86400 IN NS ns2.example.net.");
	lines_free(&got);
}
END_TEST

/* Master-file text: escapes in TXT, long TXT split into strings, unknown types. */
START_TEST(rr_text)
{
	char buf[RD_TEXT_MAX];
	static const uint8_t owner[] = "\x01*\x01" "a\x04v6bl\x04test";
	uint8_t txt[600];
	txt[0] = 5;
	memcpy(txt + 1, "a\"b\\c", 5);
	txt[6] = 2;
	txt[7] = 'x';
	txt[8] = 0x01;
	rd_rr rr = { owner, sizeof owner, 16, 300, txt, 9 };
	ck_assert_int_gt(rd_rr_text(&rr, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "*.a.v6bl.test. 300 IN TXT \"a\\\"b\\\\c\" \"x\\001\"\n");
	rr.type = RD_HOLE_TYPE;
	rr.rdlen = 0;
	ck_assert_int_gt(rd_rr_text(&rr, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "*.a.v6bl.test. 300 IN TYPE65280 \\# 0\n");
	rr.type = 99;
	rr.rdlen = 2;
	ck_assert_int_gt(rd_rr_text(&rr, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "*.a.v6bl.test. 300 IN TYPE99 \\# 2 0561\n");
	ck_assert_int_eq(rd_rr_text(&rr, buf, 10), V6R_ESPACE);
}
END_TEST

/* A reason longer than 255 bytes becomes several character-strings in one TXT. */
START_TEST(long_txt)
{
	char reason[700];
	lines got = { 0 };
	memset(reason, 'r', 600);
	reason[600] = '\0';
	ent one[] = { { "2001:db8::1", 2, reason, 0 } };
	load(one, 1);
	render_lines(&got, false);
	bool found = false;
	for (size_t i = 0; i < got.n; i++) {
		if (!strstr(got.v[i], " TXT ") || !strstr(got.v[i], "rrrr"))
			continue;
		found = true;
		ck_assert_msg(strstr(got.v[i], "\" \"") != NULL, "no string split in %s", got.v[i]);
	}
	ck_assert(found);
	lines_free(&got);
}
END_TEST

/* ---------------------------------------------------------------- a standard server, modelled */

/*
 * The rendered records in a hash table by owner (relative text). An owner is present with its
 * records; its ancestors are present as empty non-terminals. resolve() answers like RFC 1034
 * 4.3.2 with RFC 4592 wildcards: the name itself, else the wildcard at its closest encloser,
 * else NXDOMAIN.
 */
#define F_EXISTS 0x1u
#define F_A 0x2u
#define F_HOLE 0x4u

typedef struct node {
	char *owner;
	unsigned flags;
	uint8_t code[4];
	char *txt;
} node;

typedef struct model {
	node *v;
	size_t cap, n;
} model;

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static node *model_slot(model *m, const char *owner)
{
	for (size_t i = hash_str(owner) & (m->cap - 1);; i = (i + 1) & (m->cap - 1))
		if (m->v[i].owner == NULL || strcmp(m->v[i].owner, owner) == 0)
			return &m->v[i];
}

static node *model_get(model *m, const char *owner, bool add)
{
	if (add && (m->n + 1) * 2 > m->cap) {
		model old = *m;
		m->cap = m->cap ? m->cap * 2 : 4096;
		m->v = calloc(m->cap, sizeof *m->v);
		REQUIRE(m->v != NULL, "out of memory");
		for (size_t i = 0; i < old.cap; i++)
			if (old.v[i].owner)
				*model_slot(m, old.v[i].owner) = old.v[i];
		free(old.v);
	}
	if (m->cap == 0)
		return NULL;
	for (size_t i = hash_str(owner) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (m->v[i].owner == NULL) {
			if (!add)
				return NULL;
			m->v[i].owner = strdup(owner);
			m->n++;
			return &m->v[i];
		}
		if (strcmp(m->v[i].owner, owner) == 0)
			return &m->v[i];
	}
}

static void model_free(model *m)
{
	for (size_t i = 0; i < m->cap; i++) {
		free(m->v[i].owner);
		free(m->v[i].txt);
	}
	free(m->v);
	memset(m, 0, sizeof *m);
}

/* Owner in wire form to relative text ("" for the apex). */
static void rel_name(const uint8_t *w, unsigned len, char *out)
{
	char full[300];
	size_t o = 0;
	for (unsigned i = 0; i < len && w[i]; i += 1u + w[i]) {
		if (o)
			full[o++] = '.';
		memcpy(full + o, w + i + 1, w[i]);
		o += w[i];
	}
	full[o] = '\0';
	size_t zl = strlen(ZONE);
	REQUIRE(o >= zl && strcmp(full + o - zl, ZONE) == 0, "owner %s outside the zone", full);
	o = o > zl ? o - zl - 1 : 0;
	memcpy(out, full, o);
	out[o] = '\0';
}

static void txt_join(const uint8_t *d, unsigned n, char *out)
{
	size_t o = 0;
	for (unsigned i = 0; i < n;) {
		unsigned l = d[i++];
		memcpy(out + o, d + i, l);
		o += l;
		i += l;
	}
	out[o] = '\0';
}

static int model_add(const rd_rr *rr, void *arg)
{
	model *m = arg;
	char owner[300], txt[1100];
	rel_name(rr->owner, rr->owner_len, owner);
	node *x = model_get(m, owner, true);
	x->flags |= F_EXISTS;
	if (rr->type == 1) {
		REQUIRE(!(x->flags & F_A), "two A records at %s", owner);
		x->flags |= F_A;
		memcpy(x->code, rr->rdata, 4);
		REQUIRE(rr->ttl == TTL, "TTL %u at %s", rr->ttl, owner);
	} else if (rr->type == 16) {
		REQUIRE(x->txt == NULL, "two TXT records at %s", owner);
		txt_join(rr->rdata, rr->rdlen, txt);
		x->txt = strdup(txt);
	} else if (rr->type == RD_HOLE_TYPE) {
		x->flags |= F_HOLE;
	}
	/* the ancestors exist as empty non-terminals */
	for (char *p = strchr(owner, '.'); p; p = strchr(p + 1, '.'))
		model_get(m, p + 1, true)->flags |= F_EXISTS;
	return 0;
}

typedef struct answer {
	lk_verdict verdict;
	uint8_t code[4];
	const char *txt;
	bool hole;
} answer;

static void resolve(model *m, const char *name, answer *a)
{
	char ce[300], wild[304];
	memset(a, 0, sizeof *a);
	node *x = model_get(m, name, false);
	if (x) {
		a->hole = (x->flags & F_HOLE) != 0;
		a->verdict = (x->flags & F_A) ? LK_LISTED : LK_NODATA;
		memcpy(a->code, x->code, 4);
		a->txt = x->txt;
		return;
	}
	strcpy(ce, name);
	for (;;) {
		char *dot = strchr(ce, '.');
		if (dot)
			memmove(ce, dot + 1, strlen(dot + 1) + 1);
		else
			ce[0] = '\0';
		if (ce[0] == '\0' || model_get(m, ce, false))
			break;
	}
	snprintf(wild, sizeof wild, "*%s%s", ce[0] ? "." : "", ce);
	x = model_get(m, wild, false);
	a->verdict = x ? ((x->flags & F_A) ? LK_LISTED : LK_NODATA) : LK_NXDOMAIN;
	if (x) {
		memcpy(a->code, x->code, 4);
		a->txt = x->txt;
	}
}

/* ---------------------------------------------------------------- lk_name side */

static tmpl txt_tmpl;
static char default_reason[CFG_TEXT_MAX];

static void lk_answer(const char *name, lk_result *res, char *txt)
{
	uint8_t wire[300];
	const uint8_t *labs[140];
	unsigned n = 0;
	size_t o = 0;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		labs[n++] = wire + o;
		wire[o++] = (uint8_t)len;
		memcpy(wire + o, p, len);
		o += len;
		p += len + (dot ? 1 : 0);
	}
	REQUIRE(lk_name(rd, labs, n, now, res) == 0, "lk_name failed for %s", name);
	if (res->verdict == LK_LISTED) {
		tmpl_vars v = { .e = &res->e, .zone = ZONE, .default_reason = default_reason };
		size_t k = tmpl_render(&txt_tmpl, &v, txt, TMPL_OUT_MAX);
		txt[k] = '\0';
	}
}

/* A name lk_name reads as junk below an IPv4 node: documented as not matched (render.h). */
static bool v4_junk(const char *name)
{
	unsigned n = 0;
	bool multi = false, junk = false;
	for (const char *p = name; *p;) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		bool digits = len >= 1 && len <= 3 && strspn(p, "0123456789") >= len;
		unsigned v = digits ? (unsigned)atoi(p) : 999;
		bool octet = digits && v <= 255 && (len == 1 || p[0] != '0');
		if (octet && len > 1)
			multi = true;
		if (!octet)
			junk = true;
		n++;
		p += len + (dot ? 1 : 0);
	}
	return multi && (junk || n > 4);
}

typedef struct tally {
	size_t names, listed, nodata, nx, holes, skipped;
} tally;

static void compare_name(model *m, const char *name, tally *t)
{
	lk_result res;
	char txt[TMPL_OUT_MAX + 1];
	answer a;
	if (v4_junk(name)) {
		t->skipped++;
		return;
	}
	lk_answer(name, &res, txt);
	resolve(m, name, &a);
	t->names++;
	if (res.verdict == LK_NXDOMAIN && a.verdict == LK_NODATA && a.hole) {
		t->holes++;     /* a hole: NODATA where lk_name says NXDOMAIN (render.h) */
		return;
	}
	REQUIRE(a.verdict == res.verdict, "%s: standard server %d, lk_name %d", name,
	              a.verdict, res.verdict);
	if (res.verdict == LK_LISTED) {
		REQUIRE(memcmp(a.code, res.e.code, 4) == 0, "%s: A 127.0.0.%u, lk_name 127.0.0.%u",
		              name, a.code[3], res.e.code[3]);
		REQUIRE(a.txt && strcmp(a.txt, txt) == 0, "%s: TXT '%s', lk_name '%s'", name,
		              a.txt ? a.txt : "(none)", txt);
		t->listed++;
	} else if (res.verdict == LK_NODATA) {
		t->nodata++;
	} else {
		t->nx++;
	}
}

/* ---------------------------------------------------------------- seeded random stores */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (uint32_t)(rng_state >> 33) % n : 0;
}

typedef struct gen {
	store_entry e[600];
	char reason[600][24];
	size_t n;
} gen;

static void gen_add(gen *g, const addr_pfx *p, bool listing, int64_t expires)
{
	if (g->n >= sizeof g->e / sizeof g->e[0])
		return;
	for (size_t i = 0; i < g->n; i++)
		if (addr_pfx_cmp(&g->e[i].pfx, p) == 0)
			return;
	store_entry *e = &g->e[g->n];
	memset(e, 0, sizeof *e);
	e->pfx = *p;
	e->kind = listing ? STORE_LISTING : STORE_EXCLUSION;
	if (listing) {
		e->code[0] = 127;
		e->code[3] = (uint8_t)(2 + rnd(200));
	}
	snprintf(g->reason[g->n], sizeof g->reason[0], "r%zu", g->n);
	e->reason = g->reason[g->n];
	e->reason_len = strlen(g->reason[g->n]);
	e->created = e->updated = now;
	if (expires)
		e->expires = (uint64_t)((int64_t)now + expires);
	g->n++;
}

/* A random prefix of length len inside parent. */
static void rnd_inside(const addr_pfx *parent, unsigned len, addr_pfx *p)
{
	*p = *parent;
	for (unsigned b = parent->len; b < len; b++)
		if (rnd(2))
			p->a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	p->len = (uint8_t)len;
	addr_mask(p->a, len);
}

static void parse_pfx(const char *s, addr_pfx *p)
{
	REQUIRE(addr_parse(s, strlen(s), 0, p) == 0, "bad prefix %s", s);
}

/*
 * Nested entries below a few roots: IPv6 under 2001:db8::/32 and a hex /12; IPv6 listings of
 * /9 to /16 over all-digit nibbles (the names IPv4 shares); IPv4 under pure and all-digit
 * first octets, /8 to /32. Every length, off the boundaries too; some exclusions; some expired.
 */
static void gen_store(gen *g, uint64_t seed)
{
	static const char *const roots6[] = { "2001:db8::/32", "2a00:1450::/32", "fd00::/12",
	                                      "2400::/12", "3000::/12", "5550::/16" };
	static const char *const roots4[] = { "192.0.0.0/8", "10.0.0.0/8", "2.0.0.0/8",
	                                      "5.5.0.0/16", "1.2.3.0/24", "127.0.0.0/8" };
	addr_pfx r;
	g->n = 0;
	rng_state = seed;
	for (size_t i = 0; i < 6; i++) {
		parse_pfx(roots6[i], &r);
		if (rnd(3) || i >= 3)
			gen_add(g, &r, i >= 3 || rnd(2), 0);
		parse_pfx(roots4[i], &r);
		if (rnd(3) == 0)
			gen_add(g, &r, rnd(4) != 0, 0);
	}
	for (unsigned k = 0; k < 260; k++) {
		addr_pfx parent, p;
		bool v4 = rnd(3) == 0;
		if (g->n > 0 && rnd(3)) {
			parent = g->e[rnd((uint32_t)g->n)].pfx;
			if ((parent.len >= 96 && addr_is_v4(&parent)) != v4)
				parse_pfx(v4 ? roots4[rnd(6)] : roots6[rnd(6)], &parent);
		} else {
			parse_pfx(v4 ? roots4[rnd(6)] : roots6[rnd(6)], &parent);
		}
		unsigned room = 128u - parent.len;
		if (room == 0)
			continue;
		unsigned len = parent.len + 1 + rnd(room < 20 ? room : 20);
		if (rnd(4) == 0)
			len = parent.len + 1 + rnd(room);
		rnd_inside(&parent, len, &p);
		int64_t exp = rnd(20) == 0 ? -5 : rnd(20) == 0 ? 3600 : 0;
		gen_add(g, &p, rnd(3) != 0, exp);
	}
}

static int gen_fill(store_txn *t, void *arg)
{
	gen *g = arg;
	for (size_t i = 0; i < g->n; i++) {
		int rc = store_put(t, &g->e[i]);
		if (rc)
			return rc;
	}
	return 0;
}

/* Names around one address: the full name, every partial name, junk below some of them. */
static void names_nibble(model *m, const uint8_t a[16], tally *t)
{
	char name[200], buf[100];
	for (unsigned d = 1; d <= 32; d++) {
		REQUIRE(addr_nibble_name(a, d, buf, sizeof buf) >= 0, "nibble name");
		compare_name(m, buf, t);
		if (d % 5 == 0 || d == 32) {
			snprintf(name, sizeof name, "x.%s", buf);
			compare_name(m, name, t);
		}
		if (d == 32) {
			snprintf(name, sizeof name, "1.%s", buf);
			compare_name(m, name, t);
		}
	}
}

static void names_v4(model *m, const uint8_t a[16], tally *t)
{
	char name[200], buf[100];
	for (unsigned d = 1; d <= 4; d++) {
		REQUIRE(addr_v4_name(a, d, buf, sizeof buf) >= 0, "octet name");
		compare_name(m, buf, t);
		snprintf(name, sizeof name, "x.%s", buf);
		compare_name(m, name, t);
	}
	snprintf(name, sizeof name, "7.%s", buf);
	compare_name(m, name, t);
}

static void addr_add(uint8_t a[16], int delta)
{
	int carry = delta;
	for (int i = 15; i >= 0 && carry; i--) {
		int v = a[i] + carry;
		a[i] = (uint8_t)v;
		carry = v < 0 ? -1 : v > 255 ? 1 : 0;
	}
}

/* Addresses at and around every entry: its first and last, just outside, one inside. */
static void names_around(model *m, const store_entry *e, tally *t)
{
	uint8_t a[16], last[16];
	bool v4 = addr_is_v4(&e->pfx);
	memcpy(a, e->pfx.a, 16);
	memcpy(last, e->pfx.a, 16);
	for (unsigned b = e->pfx.len; b < 128; b++)
		last[b / 8] |= (uint8_t)(0x80u >> (b % 8));
	const uint8_t *pts[2] = { a, last };
	for (int k = 0; k < 2; k++) {
		uint8_t x[16];
		for (int delta = -1; delta <= 1; delta++) {
			memcpy(x, pts[k], 16);
			addr_add(x, delta);
			names_nibble(m, x, t);
			if (v4 && addr_is_v4_addr(x))
				names_v4(m, x, t);
		}
	}
	addr_pfx in;
	rnd_inside(&e->pfx, 128, &in);
	names_nibble(m, in.a, t);
	if (v4)
		names_v4(m, in.a, t);
}

/* Names of 1 to 4 octet labels under first octets 0..9 (the names both trees share). */
static void names_digits(model *m, tally *t)
{
	char name[64];
	for (unsigned k = 0; k < 3000; k++) {
		unsigned n = 1 + rnd(4), o = 0;
		name[0] = '\0';
		for (unsigned i = 0; i < n; i++) {
			unsigned v = i == n - 1 || rnd(2) ? rnd(10) : rnd(256);
			if (rnd(8) == 0)
				v = (unsigned)(rnd(2) ? 0 : 5);
			o += (unsigned)snprintf(name + o, sizeof name - o, "%s%u", i ? "." : "", v);
		}
		compare_name(m, name, t);
		char junk[80];
		snprintf(junk, sizeof junk, "x.%s", name);
		compare_name(m, junk, t);
	}
	for (unsigned a0 = 0; a0 <= 9; a0++) {
		snprintf(name, sizeof name, "%u", a0);
		compare_name(m, name, t);
		for (unsigned b = 0; b <= 255; b += 1 + rnd(20)) {
			snprintf(name, sizeof name, "%u.%u", b, a0);
			compare_name(m, name, t);
			snprintf(name, sizeof name, "%u.0.%u", b, a0);
			compare_name(m, name, t);
			snprintf(name, sizeof name, "%u.0.0.%u", b, a0);
			compare_name(m, name, t);
			snprintf(name, sizeof name, "%u.5.5.%u", b, a0);
			compare_name(m, name, t);
		}
	}
}

static void model_build(model *m)
{
	ck_assert_int_eq(store_reader_begin(rd), 0);
	ck_assert_int_eq(rd_render(zone, rd, now, model_add, m), 0);
	store_reader_end(rd);
}

static void compile_tmpl(void)
{
	char err[200];
	ck_assert_int_eq(tmpl_compile(&txt_tmpl, TEMPLATE, err, sizeof err), 0);
	snprintf(default_reason, sizeof default_reason, "listed in %s", ZONE);
}

/* For seeded random stores, every name answers as lk_name decides (but the documented cases). */
START_TEST(model_agrees)
{
	static gen g;
	model m = { 0 };
	tally t = { 0 };

	compile_tmpl();
	gen_store(&g, 0x5eed0000u + (uint64_t)_i);
	ck_assert_int_eq(store_write(st, gen_fill, &g), 0);
	model_build(&m);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	for (size_t i = 0; i < g.n; i++)
		names_around(&m, &g.e[i], &t);
	names_around(&m, lk_test_point(), &t);
	names_digits(&m, &t);
	for (unsigned k = 0; k < 2000; k++) {
		uint8_t a[16];
		for (int i = 0; i < 16; i++)
			a[i] = (uint8_t)rnd(256);
		if (k % 2)
			memcpy(a, g.e[rnd((uint32_t)g.n)].pfx.a, 8);
		char buf[100];
		REQUIRE(addr_nibble_name(a, 32, buf, sizeof buf) >= 0, "nibble name");
		compare_name(&m, buf, &t);
	}
	store_reader_end(rd);
	ck_assert_uint_gt(t.listed, 100);
	ck_assert_uint_gt(t.nx, 100);
	fprintf(stderr, "render model seed %d: %zu entries, %zu records' owners, %zu names: %zu listed, "
	        "%zu nodata, %zu nxdomain, %zu holes (nodata for nxdomain), %zu IPv4 junk skipped\n",
	        _i, g.n, m.n, t.names, t.listed, t.nodata, t.nx, t.holes, t.skipped);
	model_free(&m);
}
END_TEST

/* Fixed stores of corner cases, every name around every entry answers as lk_name decides. */
static const ent corners[][12] = {
	{ { "2001:db8:5::/127", 2, "pair", 0 }, { "!2001:db8:5::", 0, NULL, 0 },
	  { "!2001:db8:5::1", 0, NULL, 0 }, { "198.18.0.2/31", 3, "v4 pair", 0 },
	  { "!198.18.0.2", 0, NULL, 0 }, { "!198.18.0.3", 0, NULL, 0 },
	  { "2.0.0.6/31", 4, "shared pair", 0 }, { "!2.0.0.6", 0, NULL, 0 },
	  { "!2.0.0.7", 0, NULL, 0 }, { "2.0.20.6/31", 5, "mixed pair", 0 },
	  { "!2.0.20.6", 0, NULL, 0 }, { "!2.0.20.7", 0, NULL, 0 } },
	{ { "2001:db8:6:8000::/50", 4, "quarter", 0 }, { "!2001:db8:6:8000::/52", 0, NULL, 0 },
	  { "!2001:db8:6:9000::/52", 0, NULL, 0 }, { "!2001:db8:6:a000::/52", 0, NULL, 0 },
	  { "!2001:db8:6:b000::/52", 0, NULL, 0 }, { "::/0", 0, NULL, 0 } },
	{ { "0.0.0.0/0", 7, "all of IPv4", 0 }, { "!2.0.0.0/8", 0, NULL, 0 },
	  { "2.3.0.0/16", 8, "back in", 0 }, { "!10.0.0.0/8", 0, NULL, 0 },
	  { "10.1.2.0/23", 9, "odd", 0 }, { "!127.0.0.0/24", 0, NULL, 0 } },
	{ { "3000::/9", 2, "v6 /9 on digits", 0 }, { "3.0.0.9", 3, "v4 inside", 0 },
	  { "!3.0.5.0/24", 0, NULL, 0 }, { "3020::/13", 4, "deeper", 0 },
	  { "!3000::/16", 0, NULL, 0 }, { "3.0.2.0/25", 5, "v4 half", 0 } },
};

START_TEST(corner_stores)
{
	model m = { 0 };
	tally t = { 0 };
	ent in[12];
	size_t n = 0;

	compile_tmpl();
	for (; n < 12 && corners[_i][n].pfx; n++) {
		in[n] = corners[_i][n];
		if (strcmp(in[n].pfx, "::/0") == 0)
			break;      /* a marker: the list ends here */
	}
	load(in, n);
	model_build(&m);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	for (size_t i = 0; i < n; i++) {
		store_entry e = { .kind = STORE_LISTING };
		const char *p = in[i].pfx[0] == '!' ? in[i].pfx + 1 : in[i].pfx;
		parse_pfx(p, &e.pfx);
		names_around(&m, &e, &t);
	}
	names_digits(&m, &t);
	store_reader_end(rd);
	ck_assert_uint_gt(t.names, 1000);
	model_free(&m);
}
END_TEST

/* The IPv4/IPv6 shared names: split IPv4 listings and the holes below an IPv6 /12. */
START_TEST(shared_names)
{
	static const ent in[] = {
		{ "2.0.0.0/24", 2, "v4 in shared", 0 },      /* "0.0.2" is also 200::/12 */
		{ "3000::/12", 3, "v6 over shared", 0 },      /* "0.0.3" holds 3.0.0.x names */
		{ "3.0.0.7", 4, "v4 host", 0 },
		{ "5.0.0.0/8", 5, "v4 /8", 0 },
		{ "2001:db8::/32", 6, "doc", 0 },
		{ NULL, 0, NULL, 0 },
	};
	model m = { 0 };
	tally t = { 0 };
	answer a;

	compile_tmpl();
	load(in, count_ents(in));
	model_build(&m);
	/* no wildcard at an all-digit IPv4 node; its 256 children are explicit */
	ck_assert_ptr_null(model_get(&m, "*.0.0.2", false));
	ck_assert_ptr_nonnull(model_get(&m, "77.0.0.2", false));
	ck_assert_ptr_null(model_get(&m, "*.5", false));
	ck_assert_ptr_nonnull(model_get(&m, "*.10.5", false));
	/* 2001:db8::1 must not fall under 2.0.0.0/24 */
	resolve(&m, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2", &a);
	ck_assert_int_eq(a.verdict, LK_LISTED);
	ck_assert_uint_eq(a.code[3], 6);
	resolve(&m, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.a.0.0.2", &a);
	ck_assert_int_eq(a.verdict, LK_NXDOMAIN);
	/* 3.0.0.9 is an IPv4 name: NODATA (a hole), though 3000::/12 lists 3009::/16 */
	resolve(&m, "9.0.0.3", &a);
	ck_assert_int_eq(a.verdict, LK_NODATA);
	resolve(&m, "7.0.0.3", &a);
	ck_assert_int_eq(a.verdict, LK_LISTED);
	ck_assert_uint_eq(a.code[3], 4);
	resolve(&m, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.9.0.0.3", &a);
	ck_assert_int_eq(a.verdict, LK_LISTED);
	ck_assert_uint_eq(a.code[3], 3);
	/* and everything agrees with lk_name */
	ck_assert_int_eq(store_reader_begin(rd), 0);
	names_digits(&m, &t);
	store_reader_end(rd);
	model_free(&m);
}
END_TEST

/* A short IPv6 listing over all-digit names cannot be matched: the render warns about it. */
static int warned;
static void on_warn(const store_entry *e, const char *why, void *arg)
{
	(void)why;
	(void)arg;
	char buf[ADDR_PFX_STRLEN];
	addr_format(&e->pfx, buf, sizeof buf);
	ck_assert_str_eq(buf, "2000::/4");
	warned++;
}

START_TEST(warn_short_v6)
{
	static const ent in[] = {
		{ "2000::/4", 2, "huge", 0 },
		{ "a000::/4", 3, "huge but hex", 0 },
		{ NULL, 0, NULL, 0 },
	};
	lines got = { 0 };
	load(in, count_ents(in));
	rd_zone_set_warn(zone, on_warn, NULL);
	warned = 0;
	render_lines(&got, false);
	ck_assert_int_eq(warned, 1);
	lines_free(&got);
}
END_TEST

/* ---------------------------------------------------------------- regions */

static int collect_region(const rd_rr *rr, void *arg)
{
	return collect_line(rr, arg);
}

/* Whether line's owner lies at or below relative name `under` ("" = the apex). */
static bool line_under(const char *line, const char *under)
{
	char owner[300];
	const char *sp = strchr(line, ' ');
	size_t n = (size_t)(sp - line);
	memcpy(owner, line, n);
	owner[n] = '\0';
	char suffix[300];
	snprintf(suffix, sizeof suffix, "%s%s" ZONE ".", under, under[0] ? "." : "");
	size_t sl = strlen(suffix);
	if (n < sl || strcmp(owner + n - sl, suffix) != 0)
		return false;
	return n == sl || owner[n - sl - 1] == '.';
}

static void region_check(const lines *full, const addr_pfx *reg)
{
	char n6[100] = "", n4[100] = "";
	bool v4 = addr_is_v4(reg);
	ck_assert_int_ge(addr_nibble_name(reg->a, reg->len / 4, n6, sizeof n6), 0);
	if (v4)
		ck_assert_int_ge(addr_v4_name(reg->a, (reg->len - 96) / 8, n4, sizeof n4), 0);
	lines want = { 0 }, got = { 0 };
	for (size_t i = 0; i < full->n; i++) {
		if (strstr(full->v[i], " SOA "))
			continue;
		if (line_under(full->v[i], n6) || (v4 && line_under(full->v[i], n4)))
			lines_add(&want, full->v[i]);
	}
	ck_assert_int_eq(rd_render_region(zone, rd, now, reg, collect_region, &got), 0);
	lines_sort(&want);
	lines_sort(&got);
	char buf[ADDR_PFX_STRLEN];
	addr_format(reg, buf, sizeof buf);
	for (size_t i = 0; i < want.n && i < got.n; i++)
		REQUIRE(strcmp(want.v[i], got.v[i]) == 0, "region %s: record %zu: want %s, got %s",
		              buf, i, want.v[i], got.v[i]);
	ck_assert_msg(want.n == got.n, "region %s: %zu records, want %zu (%s)", buf, got.n, want.n,
	              want.n > got.n ? want.v[got.n] : got.v[want.n]);
	lines_free(&want);
	lines_free(&got);
}

/* rd_render_region gives exactly the records of rd_render at or below the region's names. */
START_TEST(regions_match)
{
	static gen g;
	static const char *const fixed[] = {
		"::/0", "2000::/4", "2000::/12", "2001::/16", "2001:db8::/32", "::ffff:0:0/96",
		"::ffff:0:0/104", "2.0.0.0/8", "2.0.0.0/16", "2.0.0.0/24", "2.0.0.77/32", "2.0.0.7/32",
		"5.5.0.0/16", "192.0.0.0/8", "127.0.0.0/24", "3000::/12", "3000::/8", "5550::/16",
		"1.2.3.0/24", "::ffff:0:0/120", "0.0.0.0/8",
	};
	lines full = { 0 };

	gen_store(&g, 0x7e610000u + (uint64_t)_i);
	ck_assert_int_eq(store_write(st, gen_fill, &g), 0);
	render_lines(&full, true);
	ck_assert_int_eq(store_reader_begin(rd), 0);
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		addr_pfx p;
		parse_pfx(fixed[i], &p);
		region_check(&full, &p);
	}
	for (size_t i = 0; i < g.n; i += 5) {
		addr_pfx p = g.e[i].pfx;
		if (addr_is_v4(&p))
			p.len = (uint8_t)(96 + (p.len - 96) / 8 * 8);
		else
			p.len = (uint8_t)(p.len / 4 * 4);
		addr_mask(p.a, p.len);
		region_check(&full, &p);
	}
	store_reader_end(rd);
	lines_free(&full);
}
END_TEST

/* ---------------------------------------------------------------- settings */

START_TEST(zone_settings)
{
	char err[256];
	rd_zone *z = NULL;
	cfg c;
	cfg_defaults(&c);
	ck_assert_int_eq(rd_zone_new(&c, &z, err, sizeof err), V6R_EINVAL);
	ck_assert_ptr_null(z);
	ck_assert_ptr_nonnull(strstr(err, "zone"));
	c = conf;
	memset(c.zone, 0, sizeof c.zone);
	memset(c.zone, 'a', 200);
	c.zone[60] = c.zone[120] = c.zone[180] = '.';
	ck_assert_int_eq(rd_zone_new(&c, &z, err, sizeof err), V6R_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "too long"));
	c = conf;
	strcpy(c.txt_template, "{nope}");
	ck_assert_int_eq(rd_zone_new(&c, &z, err, sizeof err), V6R_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "nope"));
}
END_TEST

Suite *render_suite(void)
{
	Suite *s = suite_create("render");
	TCase *tc = tcase_create("records");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, exact_records, 0, sizeof exact / sizeof exact[0]);
	tcase_add_test(tc, apex_records);
	tcase_add_test(tc, rr_text);
	tcase_add_test(tc, long_txt);
	tcase_add_test(tc, zone_settings);
	suite_add_tcase(s, tc);
	TCase *tm = tcase_create("model");
	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_set_timeout(tm, 120);
	tcase_add_loop_test(tm, model_agrees, 0, 6);
	tcase_add_test(tm, shared_names);
	tcase_add_loop_test(tm, corner_stores, 0, sizeof corners / sizeof corners[0]);
	tcase_add_test(tm, warn_short_v6);
	tcase_add_loop_test(tm, regions_match, 0, 3);
	suite_add_tcase(s, tm);
	return s;
}
