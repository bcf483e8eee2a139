/* enrich.c: IP-to-ASN longest-prefix match and PTR names from files or a cached, budgeted resolver. */
#include "enrich.h"

#include <ctype.h>
#include <errno.h>
#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <zlib.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "htab.h"

/*
 * Input formats, as their publishers describe them:
 *
 * CAIDA, "Routeviews Prefix to AS mappings Dataset (pfx2as) for IPv4 and IPv6"
 * (https://www.caida.org/catalog/datasets/routeviews-prefix2as/ and the README.txt beside the
 * files at https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/): one mapping per
 * line, tab-separated "IP prefix, prefix length, AS number". Multi-origin prefixes join the
 * origins with '_' and, since 2010-10-27, list the most seen origin first ("users who wish to
 * choose the best mapping ... can simply pick the first listed AS"); AS sets join with ','.
 *
 * Team Cymru, "IP to ASN Mapping" (https://team-cymru.com/ip-asn-mapping): bulk queries through
 * netcat to whois.cymru.com port 43 between "begin" and "end" lines, "verbose" adding columns.
 * The reply starts "Bulk mode; whois.cymru.com [2026-11-27 10:00:00 +0000]", may carry the
 * column header "AS | IP | BGP Prefix | CC | Registry | Allocated | AS Name", and has one
 * '|'-separated row per query: "15169 | 8.8.8.8 | 8.8.8.0/24 | US | arin | 2023-12-28 | GOOGLE,
 * US" (verbose) or "15169 | 8.8.8.8 | GOOGLE, US". An address seen from several origins lists
 * them blank-separated in the AS column ("15169 36040"); one not routed has "NA".
 */

typedef unsigned __int128 u128;   /* GCC and Clang on every 64-bit target the project builds on */

#define LINE_MAX_LEN 4096
#define WAYS 4
#define POS_TTL_MIN 60
#define POS_TTL_MAX 86400
#define NEG_TTL 3600
#define PAUSE_AFTER 10            /* unanswered queries in a row */
#define PAUSE_S 600
#define INDEX_BITS_MAX 16          /* lookup index: at most the top 16 bits of an address */

enum { FMT_NONE, FMT_PFX2AS, FMT_CYMRU, FMT_PTR };
static const char *const fmt_names[] = { "", "pfx2as", "cymru", "ptr" };

/* Prefixes as loaded: IPv4 in 32-bit space (len 0..32), IPv6 outside ::ffff:0:0/96. */
typedef struct raw4 {
	uint32_t start, asn, seq;
	uint8_t len;
} raw4;

typedef struct raw6 {
	u128 start;
	uint32_t asn, seq;
	uint8_t len;
} raw6;

/*
 * A family's prefixes flattened into disjoint intervals: interval i runs from start[i] to
 * start[i+1] - 1 with origin asn[i] (0: none). The index cuts the family's space into 2^bits
 * buckets by the top bits of an address (bits grows with the table, up to 16): idx[k] is the
 * interval holding the first address of bucket k and idx[2^bits] the last interval, so an
 * address of bucket k lies in one of idx[k] ..= idx[k+1] and a binary search there finds it.
 */
typedef struct lpm4 {
	uint32_t *start, *asn, *idx;
	size_t n;
	unsigned bits;
} lpm4;

typedef struct lpm6 {
	u128 *start;
	uint32_t *asn, *idx;
	size_t n;
	unsigned bits;
} lpm6;

/* A live answer: name NULL for a negative one. */
typedef struct cslot {
	uint8_t addr[16];
	bool used;
	int64_t expires;
	char *name;
} cslot;

struct en_ctx {
	raw4 *r4;
	raw6 *r6;
	size_t n4, cap4, n6, cap6;
	uint32_t seq;
	lpm4 t4;
	lpm6 t6;
	htab ptr;                   /* address -> offset of its name in names */
	char *names;
	size_t names_len, names_cap;
	/* live lookups */
	bool live;
	ldns_resolver *res;
	cslot *cache;
	size_t nsets;
	uint32_t budget;
	unsigned unanswered;        /* in a row */
	int64_t paused_until;
	en_clock_fn clock;
	void *clock_arg;
	en_query_fn query;
	void *query_arg;
	char scratch[EN_NAME_MAX + 1];
	en_load_info last;
	en_stats_t st;
};


static int64_t wall_clock(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

static int ldns_query(void *arg, const char *qname, char *name, size_t cap, uint32_t *ttl);

int en_new(en_ctx **out)
{
	en_ctx *e = calloc(1, sizeof(*e));
	if (!e || ht_init(&e->ptr, 16, sizeof(uint32_t), 64) != 0) {
		free(e);
		return V6R_ENOMEM;
	}
	e->clock = wall_clock;
	e->query = ldns_query;
	e->query_arg = e;
	*out = e;
	return 0;
}

static void cache_free(en_ctx *e)
{
	for (size_t i = 0; e->cache && i < e->nsets * WAYS; i++)
		free(e->cache[i].name);
	free(e->cache);
	e->cache = NULL;
}

void en_free(en_ctx *e)
{
	if (!e)
		return;
	free(e->r4);
	free(e->r6);
	free(e->t4.start);
	free(e->t4.asn);
	free(e->t4.idx);
	free(e->t6.start);
	free(e->t6.asn);
	free(e->t6.idx);
	ht_free(&e->ptr);
	free(e->names);
	cache_free(e);
	if (e->res)
		ldns_resolver_deep_free(e->res);
	free(e);
}

const en_load_info *en_last_load(const en_ctx *e)
{
	return &e->last;
}

/* ---- line readers: a file (plain or gzip) or memory, one callback per line ---- */

typedef struct loader {
	en_ctx *e;
	const char *name;
	unsigned long line;
	int fmt;
	char why[96];               /* reason of the current bad line */
} loader;

/* Returns 1 (an entry), 0 (skipped), V6R_ESYNTAX (bad: reason in l->why) or V6R_ENOMEM. */
typedef int (*line_fn)(loader *l, char *s, size_t n);

static int bad(loader *l, const char *why)
{
	snprintf(l->why, sizeof(l->why), "%s", why);
	return V6R_ESYNTAX;
}

/* Counts one line's outcome and keeps the first messages (text: the line as read, n its length). */
static int account_line(loader *l, int rc, const char *text, size_t n)
{
	en_load_info *in = &l->e->last;
	in->lines++;
	if (rc == 1)
		in->entries++;
	else if (rc == 0)
		in->skipped++;
	else if (rc != V6R_ESYNTAX)
		return rc;
	if (rc != V6R_ESYNTAX)
		return 0;
	if (in->bad++ == 0)
		in->first_bad = l->line;
	if (in->n_msgs < EN_MSGS_KEPT)
		snprintf(in->msgs[in->n_msgs++], EN_MSG_MAX, "%s:%lu: %s ('%.60s%s')", l->name, l->line,
		         l->why, text, n > 60 ? "..." : "");
	return 0;
}

/* Runs fn on one line s[0..n) (s[n] writable): strips the line end, keeps the text for messages. */
static int one_line(loader *l, line_fn fn, char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	s[n] = '\0';
	l->line++;
	char shown[64];
	snprintf(shown, sizeof(shown), "%s", s);      /* fn cuts s in place */
	return account_line(l, fn(l, s, n), shown, n);
}

static int too_long(loader *l, const char *s)
{
	char shown[64];
	snprintf(shown, sizeof(shown), "%s", s);
	l->line++;
	return account_line(l, bad(l, "line too long"), shown, LINE_MAX_LEN);
}

/* Reads path (plain or gzip, told by zlib from its first bytes) line by line. */
static int read_gz(loader *l, const char *path, line_fn fn, const char *what, char *err,
                   size_t errlen)
{
	errno = 0;
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return v6r_errf(err, errlen, V6R_EIO, "failed to open %s %s (%s)", what, path,
		                errno ? strerror(errno) : "out of memory");
	gzbuffer(gz, 256u << 10);
	char *buf = malloc(LINE_MAX_LEN + 2);
	int rc = buf ? 0 : V6R_ENOMEM, zerr = Z_OK;
	while (rc == 0 && gzgets(gz, buf, LINE_MAX_LEN + 2)) {
		size_t n = strlen(buf);
		if (n == LINE_MAX_LEN + 1 && buf[n - 1] != '\n') {
			int c;
			while ((c = gzgetc(gz)) >= 0 && c != '\n')
				;
			rc = too_long(l, buf);
		} else {
			rc = one_line(l, fn, buf, n);
		}
	}
	const char *msg = gzerror(gz, &zerr);
	if (rc == 0 && zerr != Z_OK && zerr != Z_STREAM_END)
		rc = v6r_errf(err, errlen, V6R_EIO, "failed to read %s %s (%s)", what, path,
		              zerr == Z_ERRNO ? strerror(errno) : msg);
	gzclose(gz);
	free(buf);
	return rc;
}

static int read_mem(loader *l, const char *text, size_t len, line_fn fn)
{
	char *buf = malloc(LINE_MAX_LEN + 2);
	size_t at = 0;
	int rc = buf ? 0 : V6R_ENOMEM;
	while (rc == 0 && at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		memcpy(buf, text + at, n > LINE_MAX_LEN ? 64 : n);
		buf[n > LINE_MAX_LEN ? 63 : n] = '\0';
		/* A NUL inside a line ends it, as with gzgets on a file. */
		rc = n > LINE_MAX_LEN ? too_long(l, buf) : one_line(l, fn, buf, strlen(buf));
		at += n + 1;
	}
	free(buf);
	return rc;
}

/* ---- small text helpers ---- */

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

/* Splits s in place on blanks into at most max tokens; returns the count (max + 1: more). */
static size_t split_ws(char *s, char **tok, size_t max)
{
	size_t k = 0;
	for (char *save = NULL, *t = strtok_r(s, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (k == max)
			return max + 1;
		tok[k++] = t;
	}
	return k;
}

/* The first AS of "123", "123_456", "123,456" or (Cymru) "123 456": 1..2^32-1, else 0. */
static uint32_t first_asn(const char *s)
{
	uint64_t v = 0;
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return 0;
	for (; isdigit((unsigned char)*p); p++)
		if ((v = v * 10 + (uint64_t)(*p - '0')) > UINT32_MAX)
			return 0;
	for (const char *q = p; *q; q++)
		if (!isdigit((unsigned char)*q) && !((*q == '_' || *q == ',' || *q == ' ') &&
		                                     isdigit((unsigned char)q[1])))
			return 0;
	return (uint32_t)v;
}

static u128 load128(const uint8_t a[16])
{
	u128 v = 0;
	for (int i = 0; i < 16; i++)
		v = (v << 8) | a[i];
	return v;
}

static uint32_t load32(const uint8_t a[4])
{
	return (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
}

/* ---- ASN data: parsing ---- */

static int grow(void **p, size_t *cap, size_t n, size_t size)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? *cap * 2 : 1024;
	void *q = realloc(*p, c * size);
	if (!q)
		return V6R_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int add_prefix(en_ctx *e, const addr_pfx *p, uint32_t asn)
{
	if (addr_is_v4(p)) {
		if (grow((void **)&e->r4, &e->cap4, e->n4, sizeof(raw4)))
			return V6R_ENOMEM;
		e->r4[e->n4++] = (raw4){ load32(p->a + 12), asn, e->seq++, (uint8_t)(p->len - 96) };
	} else {
		if (grow((void **)&e->r6, &e->cap6, e->n6, sizeof(raw6)))
			return V6R_ENOMEM;
		e->r6[e->n6++] = (raw6){ load128(p->a), asn, e->seq++, p->len };
	}
	return 1;
}

/* "PREFIX LENGTH AS" (tab-separated in CAIDA's files; blanks accepted). */
static int pfx2as_line(loader *l, char *s)
{
	char *t[3], text[ADDR_PFX_STRLEN + 8];
	size_t k = split_ws(s, t, 3);
	if (k == 0 || t[0][0] == '#')
		return 0;
	if (k != 3)
		return bad(l, "expected PREFIX, LENGTH and AS");
	size_t na = strlen(t[0]), nl = strlen(t[1]);
	if (na + nl + 1 > sizeof(text) || !isdigit((unsigned char)t[1][0]) || nl > 3)
		return bad(l, "not a prefix and length");
	memcpy(text, t[0], na);                    /* addr_parse reads "ADDR/LEN" */
	text[na] = '/';
	memcpy(text + na + 1, t[1], nl);
	addr_pfx p;
	int rc = addr_parse(text, na + 1 + nl, 0, &p);
	if (rc == V6R_EHOSTBITS)
		return bad(l, "bits set beyond the prefix length");
	if (rc == V6R_ERANGE)
		return bad(l, "prefix length out of range");
	if (rc)
		return bad(l, "not a prefix and length");
	uint32_t asn = first_asn(t[2]);
	if (!asn)
		return bad(l, "not an AS number (1..4294967295, A_B or A,B)");
	return add_prefix(l->e, &p, asn);
}

/* A text that can only have been meant as a prefix: hex digits, dots, colons and one '/'. */
static bool looks_like_prefix(const char *s)
{
	return strchr(s, '/') && strspn(s, "0123456789abcdefABCDEF.:/") == strlen(s);
}

/* One Cymru row after the "Bulk mode" line: "AS | IP | [BGP Prefix | ...] AS Name". */
static int cymru_row(loader *l, char **f, size_t k)
{
	if (k < 3)
		return bad(l, "expected AS | IP | ...");
	if (!strcasecmp(f[0], "AS") || !strcmp(f[0], "NA"))
		return 0;                                /* column header; not routed */
	uint32_t asn = first_asn(f[0]);
	if (!asn)
		return bad(l, "not an AS number");
	addr_pfx ip, p;
	if (addr_parse(f[1], strlen(f[1]), ADDR_NO_LEN, &ip) != 0)
		return bad(l, "not an IP address");
	int rc = addr_parse(f[2], strlen(f[2]), 0, &p);
	if (rc == 0 && strchr(f[2], '/')) {
		if (!addr_contains(&p, ip.a))
			return bad(l, "the IP is outside the BGP prefix");
		return add_prefix(l->e, &p, asn);
	}
	if (looks_like_prefix(f[2]))
		return bad(l, rc == V6R_EHOSTBITS ? "bits set beyond the prefix length" : "not a prefix");
	return add_prefix(l->e, &ip, asn);         /* not verbose: the address alone */
}

static int cymru_line(loader *l, char *s)
{
	char *f[8];
	size_t k = 0;
	if (!strncmp(s, "Bulk mode;", 10) || !strncmp(s, "Error:", 6) || *s == '#')
		return 0;
	for (char *p = s; k < 8; k++) {
		char *bar = strchr(p, '|');
		if (bar)
			*bar = '\0';
		f[k] = trim(p);
		if (!bar) {
			k++;
			break;
		}
		p = bar + 1;
	}
	return cymru_row(l, f, k);
}

/* Tells the format by the first line with content, then parses every line in it. */
static int asn_line(loader *l, char *s, size_t n)
{
	(void)n;
	s = trim(s);
	if (!*s)
		return 0;
	if (l->fmt == FMT_NONE && *s != '#')
		l->fmt = !strncmp(s, "Bulk mode;", 10) || strchr(s, '|') ? FMT_CYMRU : FMT_PFX2AS;
	return l->fmt == FMT_CYMRU ? cymru_line(l, s) : pfx2as_line(l, s);
}

/* ---- ASN data: the interval tables ---- */

static int cmp4(const void *x, const void *y)
{
	const raw4 *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int cmp6(const void *x, const void *y)
{
	const raw6 *a = x, *b = y;
	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * Flattening sorted prefixes (start ascending, then shorter first, then load order) into
 * disjoint intervals: prefixes either nest or are disjoint, so a stack of the open prefixes
 * (at most one per length) says which origin resumes where an inner prefix ends. Positions are
 * emitted in ascending order; a later emit at the same position replaces the earlier (a prefix
 * loaded again; an inner prefix starting where its parent does), and an interval with the
 * origin of the one before it is merged into it.
 */
typedef struct span {
	u128 start, end;
	uint32_t asn;
	uint8_t len;
} span;

typedef struct sweep {
	u128 hi;                     /* last position of the family's space */
	span stack[130];
	unsigned sp;
	bool pending, flushed;
	u128 ppos;
	uint32_t pasn, lasn;
	void (*put)(void *arg, u128 pos, uint32_t asn);
	void *arg;
} sweep;

static void sw_flush(sweep *w)
{
	if (w->pending && (!w->flushed || w->pasn != w->lasn)) {
		w->put(w->arg, w->ppos, w->pasn);
		w->flushed = true;
		w->lasn = w->pasn;
	}
	w->pending = false;
}

static void sw_emit(sweep *w, u128 pos, uint32_t asn)
{
	if (w->pending && w->ppos == pos) {
		w->pasn = asn;
		return;
	}
	sw_flush(w);
	w->pending = true;
	w->ppos = pos;
	w->pasn = asn;
}

/* Closes the open prefixes that end before pos (all of them when closing_all). */
static void sw_close(sweep *w, u128 pos, bool closing_all)
{
	while (w->sp && (closing_all || pos > w->stack[w->sp - 1].end)) {
		const span *t = &w->stack[--w->sp];
		if (t->end < w->hi)
			sw_emit(w, t->end + 1, w->sp ? w->stack[w->sp - 1].asn : 0);
	}
}

static void sw_add(sweep *w, const span *p)
{
	sw_close(w, p->start, false);
	span *top = w->sp ? &w->stack[w->sp - 1] : NULL;
	if (top && top->start == p->start && top->len == p->len)
		top->asn = p->asn;                     /* loaded again: the later origin */
	else
		w->stack[w->sp++] = *p;
	sw_emit(w, p->start, p->asn);
}

static void sw_finish(sweep *w)
{
	sw_close(w, 0, true);
	sw_flush(w);
}

static void put4(void *arg, u128 pos, uint32_t asn)
{
	lpm4 *t = arg;
	t->start[t->n] = (uint32_t)pos;
	t->asn[t->n++] = asn;
}

static void put6(void *arg, u128 pos, uint32_t asn)
{
	lpm6 *t = arg;
	t->start[t->n] = pos;
	t->asn[t->n++] = asn;
}

/* Index bits for n intervals: about one interval per bucket, 4..INDEX_BITS_MAX. */
static unsigned index_bits(size_t n)
{
	unsigned bits = 4;
	while (bits < INDEX_BITS_MAX && ((size_t)1 << bits) < n)
		bits++;
	return bits;
}

/*
 * The index: interval j holds the first address of every bucket after the one where it starts
 * (and of that one when it starts the bucket) up to the bucket of its last address,
 * start[j+1] - 1; the last interval holds the rest.
 */
static void index4(lpm4 *t)
{
	size_t nb = (size_t)1 << t->bits, k = 0;
	for (size_t j = 0; j + 1 < t->n; j++)
		for (size_t last = (t->start[j + 1] - 1) >> (32 - t->bits); k <= last; k++)
			t->idx[k] = (uint32_t)j;
	for (; k <= nb; k++)
		t->idx[k] = (uint32_t)(t->n - 1);
}

static void index6(lpm6 *t)
{
	size_t nb = (size_t)1 << t->bits, k = 0;
	for (size_t j = 0; j + 1 < t->n; j++)
		for (size_t last = (size_t)((t->start[j + 1] - 1) >> (128 - t->bits)); k <= last; k++)
			t->idx[k] = (uint32_t)j;
	for (; k <= nb; k++)
		t->idx[k] = (uint32_t)(t->n - 1);
}

static int build4(en_ctx *e)
{
	lpm4 *t = &e->t4;
	free(t->start);
	free(t->asn);
	free(t->idx);
	t->n = 0;
	t->bits = index_bits(2 * e->n4);
	t->start = malloc((2 * e->n4 + 2) * sizeof(uint32_t));
	t->asn = malloc((2 * e->n4 + 2) * sizeof(uint32_t));
	t->idx = malloc((((size_t)1 << t->bits) + 1) * sizeof(uint32_t));
	if (!t->start || !t->asn || !t->idx)
		return V6R_ENOMEM;
	qsort(e->r4, e->n4, sizeof(raw4), cmp4);
	sweep *w = calloc(1, sizeof(*w));
	if (!w)
		return V6R_ENOMEM;
	*w = (sweep){ .hi = UINT32_MAX, .put = put4, .arg = t };
	sw_emit(w, 0, 0);
	for (size_t i = 0; i < e->n4; i++) {
		const raw4 *r = &e->r4[i];
		uint64_t size = (uint64_t)1 << (32 - r->len);
		sw_add(w, &(span){ r->start, r->start + size - 1, r->asn, r->len });
	}
	sw_finish(w);
	free(w);
	index4(t);
	return 0;
}

static int build6(en_ctx *e)
{
	lpm6 *t = &e->t6;
	free(t->start);
	free(t->asn);
	free(t->idx);
	t->n = 0;
	t->bits = index_bits(2 * e->n6);
	t->start = malloc((2 * e->n6 + 2) * sizeof(u128));
	t->asn = malloc((2 * e->n6 + 2) * sizeof(uint32_t));
	t->idx = malloc((((size_t)1 << t->bits) + 1) * sizeof(uint32_t));
	if (!t->start || !t->asn || !t->idx)
		return V6R_ENOMEM;
	qsort(e->r6, e->n6, sizeof(raw6), cmp6);
	sweep *w = calloc(1, sizeof(*w));
	if (!w)
		return V6R_ENOMEM;
	*w = (sweep){ .hi = ~(u128)0, .put = put6, .arg = t };
	sw_emit(w, 0, 0);
	for (size_t i = 0; i < e->n6; i++) {
		const raw6 *r = &e->r6[i];
		u128 host = r->len == 0 ? ~(u128)0 : r->len == 128 ? 0 : ((u128)1 << (128 - r->len)) - 1;
		sw_add(w, &(span){ r->start, r->start | host, r->asn, r->len });
	}
	sw_finish(w);
	free(w);
	index6(t);
	return 0;
}

static uint32_t find4(const lpm4 *t, uint32_t a)
{
	if (!t->n)
		return 0;
	size_t k = a >> (32 - t->bits), lo = t->idx[k], hi = t->idx[k + 1];
	while (lo < hi) {                          /* the last interval starting at or before a */
		size_t mid = lo + (hi - lo + 1) / 2;
		if (t->start[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return t->asn[lo];
}

static uint32_t find6(const lpm6 *t, u128 a)
{
	if (!t->n)
		return 0;
	size_t k = (size_t)(a >> (128 - t->bits)), lo = t->idx[k], hi = t->idx[k + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo + 1) / 2;
		if (t->start[mid] <= a)
			lo = mid;
		else
			hi = mid - 1;
	}
	return t->asn[lo];
}

uint32_t en_asn(const en_ctx *e, const uint8_t addr[16])
{
	if (addr_is_v4_addr(addr)) {
		uint32_t asn = find4(&e->t4, load32(addr + 12));
		if (asn)
			return asn;
	}
	/* An IPv6 prefix may cover ::ffff:0:0/96 as a whole (::/0), below every IPv4 prefix. */
	return find6(&e->t6, load128(addr));
}

static void load_start(en_ctx *e, loader *l, const char *name, int fmt)
{
	memset(&e->last, 0, sizeof(e->last));
	*l = (loader){ .e = e, .name = name, .fmt = fmt };
}

/* After a load: rebuild the tables that changed, or forget the load's prefixes on failure. */
static int asn_done(en_ctx *e, loader *l, int rc, size_t n4, size_t n6)
{
	e->last.format = fmt_names[e->last.entries ? l->fmt : FMT_NONE];
	if (rc) {
		e->n4 = n4;
		e->n6 = n6;
		return rc;
	}
	e->st.asn_files++;
	if (e->n4 != n4 && (rc = build4(e)) != 0)
		return rc;
	if (e->n6 != n6 && (rc = build6(e)) != 0)
		return rc;
	return 0;
}

int en_asn_load(en_ctx *e, const char *path, char *err, size_t errlen)
{
	loader l;
	size_t n4 = e->n4, n6 = e->n6;
	load_start(e, &l, path, FMT_NONE);
	int rc = read_gz(&l, path, asn_line, "ASN file", err, errlen);
	if (rc == V6R_ENOMEM)
		v6r_errf(err, errlen, rc, "failed to load ASN file %s (out of memory)", path);
	return asn_done(e, &l, rc, n4, n6);
}

int en_asn_load_mem(en_ctx *e, const char *text, size_t len, const char *name, char *err,
                    size_t errlen)
{
	loader l;
	size_t n4 = e->n4, n6 = e->n6;
	load_start(e, &l, name, FMT_NONE);
	int rc = read_mem(&l, text, len, asn_line);
	if (rc)
		v6r_errf(err, errlen, rc, "failed to load ASN data %s (%s)", name, v6r_strerror(rc));
	return asn_done(e, &l, rc, n4, n6);
}

/* ---- PTR names ---- */

/*
 * A host name as stored: lower case, no final dot, labels of 1..63 letters, digits, '-' or '_',
 * at most EN_NAME_MAX characters. Writes it into out (EN_NAME_MAX + 1 bytes). Returns 0 or -1.
 */
static int norm_name(const char *s, size_t n, char *out)
{
	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > EN_NAME_MAX)
		return -1;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return -1;
		} else {
			return -1;
		}
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return label ? 0 : -1;
}

/* Strips a final dot and a case-insensitive suffix from name; true when it was there. */
static bool strip_suffix(char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	if (n && name[n - 1] == '.')
		n--;
	if (n <= k || strncasecmp(name + n - k, suffix, k) != 0)
		return false;
	name[n - k] = '\0';
	return true;
}

/* "d.c.b.a" (before .in-addr.arpa) into ::ffff:a.b.c.d. */
static int v4_owner(const char *s, uint8_t a[16])
{
	unsigned o[4];
	char tail;
	if (sscanf(s, "%3u.%3u.%3u.%3u%c", &o[3], &o[2], &o[1], &o[0], &tail) != 4 ||
	    strspn(s, "0123456789.") != strlen(s))
		return -1;
	memset(a, 0, 16);
	a[10] = a[11] = 0xff;
	for (int i = 0; i < 4; i++) {
		if (o[i] > 255)
			return -1;
		a[12 + i] = (uint8_t)o[i];
	}
	return 0;
}

/* 32 nibble labels (before .ip6.arpa), least significant first, into a. */
static int v6_owner(const char *s, uint8_t a[16])
{
	if (strlen(s) != 63)
		return -1;
	memset(a, 0, 16);
	for (int i = 0; i < 32; i++) {
		char c = (char)tolower((unsigned char)s[2 * i]);
		if ((i < 31 && s[2 * i + 1] != '.') || !isxdigit((unsigned char)c))
			return -1;
		unsigned v = isdigit((unsigned char)c) ? (unsigned)(c - '0') : (unsigned)(c - 'a' + 10);
		int nib = 31 - i;                     /* the last label is the first nibble */
		a[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
	}
	return 0;
}

static int put_name(en_ctx *e, const uint8_t a[16], const char *name)
{
	size_t n = strlen(name) + 1;
	if (e->names_len + n > UINT32_MAX)
		return V6R_ENOMEM;
	if (e->names_len + n > e->names_cap) {
		size_t cap = e->names_cap ? e->names_cap * 2 : 4096;
		while (cap < e->names_len + n)
			cap *= 2;
		char *p = realloc(e->names, cap);
		if (!p)
			return V6R_ENOMEM;
		e->names = p;
		e->names_cap = cap;
	}
	bool created;
	uint32_t *off = ht_put(&e->ptr, a, &created);
	if (!off)
		return V6R_ENOMEM;
	*off = (uint32_t)e->names_len;
	memcpy(e->names + e->names_len, name, n);
	e->names_len += n;
	return 1;
}

/*
 * "REVERSE-NAME [TTL] [CLASS] TYPE RDATA" from a zone file; owner is the reverse name without
 * its in-addr.arpa or ip6.arpa suffix. Records other than PTR (the zone's SOA, NS) are skipped.
 */
static int zone_ptr_line(loader *l, char **t, size_t k, const char *owner, bool v6)
{
	uint8_t a[16];
	size_t i = 1;
	while (i < k && (strspn(t[i], "0123456789") == strlen(t[i]) || !strcasecmp(t[i], "IN")))
		i++;
	if (i == k || strchr(t[i], '.'))
		return bad(l, "no record type");
	if (strcasecmp(t[i], "PTR") != 0)
		return 0;
	if (v6 ? v6_owner(owner, a) != 0 : v4_owner(owner, a) != 0)
		return bad(l, v6 ? "not a full ip6.arpa name" : "not a full in-addr.arpa name");
	if (k != i + 2)
		return bad(l, "expected one PTR target");
	size_t n = strlen(t[i + 1]);
	char name[EN_NAME_MAX + 1];
	if (n == 0 || t[i + 1][n - 1] != '.')
		return bad(l, "relative PTR target ($ORIGIN is not followed)");
	if (norm_name(t[i + 1], n, name) != 0)
		return bad(l, "not a host name");
	return put_name(l->e, a, name);
}

static int ptr_line(loader *l, char *s, size_t n)
{
	(void)n;
	char *t[8], owner[80];
	s[strcspn(s, "#;")] = '\0';
	size_t k = split_ws(s, t, 7);
	if (k == 0 || t[0][0] == '$')
		return 0;                                /* blank, comment, $ORIGIN / $TTL */
	snprintf(owner, sizeof(owner), "%s", t[0]);
	if (strlen(t[0]) < sizeof(owner) && strip_suffix(owner, ".in-addr.arpa"))
		return zone_ptr_line(l, t, k, owner, false);
	if (strlen(t[0]) < sizeof(owner) && strip_suffix(owner, ".ip6.arpa"))
		return zone_ptr_line(l, t, k, owner, true);
	if (k != 2)
		return bad(l, "expected ADDRESS NAME or a PTR record");
	addr_pfx p;
	char name[EN_NAME_MAX + 1];
	if (addr_parse(t[0], strlen(t[0]), ADDR_NO_LEN, &p) != 0)
		return bad(l, "not an IP address");
	if (norm_name(t[1], strlen(t[1]), name) != 0)
		return bad(l, "not a host name");
	return put_name(l->e, p.a, name);
}

static int ptr_done(en_ctx *e, int rc)
{
	e->last.format = fmt_names[e->last.entries ? FMT_PTR : FMT_NONE];
	if (rc == 0)
		e->st.ptr_files++;
	return rc;
}

int en_ptr_load(en_ctx *e, const char *path, char *err, size_t errlen)
{
	loader l;
	load_start(e, &l, path, FMT_PTR);
	int rc = read_gz(&l, path, ptr_line, "PTR file", err, errlen);
	if (rc == V6R_ENOMEM)
		v6r_errf(err, errlen, rc, "failed to load PTR file %s (out of memory)", path);
	return ptr_done(e, rc);
}

int en_ptr_load_mem(en_ctx *e, const char *text, size_t len, const char *name, char *err,
                    size_t errlen)
{
	loader l;
	load_start(e, &l, name, FMT_PTR);
	int rc = read_mem(&l, text, len, ptr_line);
	if (rc)
		v6r_errf(err, errlen, rc, "failed to load PTR data %s (%s)", name, v6r_strerror(rc));
	return ptr_done(e, rc);
}

/* ---- live lookups ---- */

void en_live_defaults(en_live_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->timeout_s = 1;
	c->cache_max = 100000;
	c->budget = 10000;
}

void en_set_clock(en_ctx *e, en_clock_fn fn, void *arg)
{
	e->clock = fn ? fn : wall_clock;
	e->clock_arg = arg;
}

void en_set_query(en_ctx *e, en_query_fn fn, void *arg)
{
	e->query = fn ? fn : ldns_query;
	e->query_arg = fn ? arg : e;
}

static int add_servers(ldns_resolver *r, const en_live_cfg *c, char *err, size_t errlen)
{
	unsigned port = c->server[0].port ? c->server[0].port : 53;
	for (unsigned i = 0; i < c->n_servers; i++) {
		const en_server *s = &c->server[i];
		if ((s->port ? s->port : 53) != port)
			return v6r_errf(err, errlen, V6R_EINVAL, "failed to set PTR servers (ldns asks every "
			                "server on one port: %s uses %u, %s %u)", c->server[0].host, port,
			                s->host, s->port ? s->port : 53);
		ldns_rdf *a = ldns_rdf_new_frm_str(strchr(s->host, ':') ? LDNS_RDF_TYPE_AAAA
		                                                        : LDNS_RDF_TYPE_A, s->host);
		ldns_status st = a ? ldns_resolver_push_nameserver(r, a) : LDNS_STATUS_ERR;
		ldns_rdf_deep_free(a);
		if (st != LDNS_STATUS_OK)
			return v6r_errf(err, errlen, V6R_EINVAL, "failed to set PTR server '%s' (not an IP "
			                "address)", s->host);
	}
	ldns_resolver_set_port(r, (uint16_t)port);
	return 0;
}

static int make_resolver(en_ctx *e, const en_live_cfg *c, char *err, size_t errlen)
{
	ldns_resolver *r = NULL;
	const char *conf = c->resolv_conf ? c->resolv_conf : "/etc/resolv.conf";
	if (c->n_servers == 0) {
		ldns_status st = ldns_resolver_new_frm_file(&r, conf);
		if (st != LDNS_STATUS_OK)
			return v6r_errf(err, errlen, V6R_EINVAL, "failed to read resolvers from %s (%s)", conf,
			                ldns_get_errorstr_by_id(st));
	} else if (!(r = ldns_resolver_new())) {
		return v6r_errf(err, errlen, V6R_ENOMEM, "failed to make a resolver (out of memory)");
	}
	int rc = c->n_servers ? add_servers(r, c, err, errlen) : 0;
	if (rc == 0 && ldns_resolver_nameserver_count(r) == 0)
		rc = v6r_errf(err, errlen, V6R_EINVAL, "failed to find a resolver in %s (no nameserver "
		              "line)", conf);
	if (rc) {
		ldns_resolver_deep_free(r);
		return rc;
	}
	/* One try per server, no sleep between servers, no search list: the name is absolute. */
	ldns_resolver_set_timeout(r, (struct timeval){ .tv_sec = c->timeout_s });
	ldns_resolver_set_retry(r, 1);
	ldns_resolver_set_retrans(r, 0);
	ldns_resolver_set_fail(r, false);
	ldns_resolver_set_random(r, false);
	ldns_resolver_set_recursive(r, true);
	ldns_resolver_set_dnsrch(r, false);
	ldns_resolver_set_defnames(r, false);
	ldns_resolver_set_fallback(r, true);
	e->res = r;
	return 0;
}

int en_live_enable(en_ctx *e, const en_live_cfg *c, char *err, size_t errlen)
{
	if (c->timeout_s == 0 || c->cache_max < WAYS || c->n_servers > EN_MAX_SERVERS)
		return v6r_errf(err, errlen, V6R_EINVAL, "failed to enable live PTR lookups (timeout 0, "
		                "cache under %d or too many servers)", WAYS);
	if (e->res) {
		ldns_resolver_deep_free(e->res);
		e->res = NULL;
	}
	int rc = make_resolver(e, c, err, errlen);
	if (rc)
		return rc;
	cache_free(e);
	e->nsets = c->cache_max / WAYS;
	e->cache = calloc(e->nsets * WAYS, sizeof(cslot));
	if (!e->cache)
		return v6r_errf(err, errlen, V6R_ENOMEM, "failed to make the PTR cache (out of memory)");
	e->st.live_cached = 0;
	e->budget = c->budget;
	e->live = true;
	return 0;
}

/* The first PTR target in the answer section, and its TTL. */
static int answer_name(ldns_pkt *p, char *name, size_t cap, uint32_t *ttl)
{
	ldns_rr_list *an = ldns_pkt_answer(p);
	for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
		ldns_rr *rr = ldns_rr_list_rr(an, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_PTR || ldns_rr_rd_count(rr) < 1)
			continue;
		char *text = ldns_rdf2str(ldns_rr_rdf(rr, 0));
		int ok = text && cap > EN_NAME_MAX && norm_name(text, strlen(text), name) == 0;
		free(text);
		*ttl = ldns_rr_ttl(rr);
		return ok ? EN_ANS_NAME : EN_ANS_ERROR;
	}
	return EN_ANS_NONE;
}

static int ldns_query(void *arg, const char *qname, char *name, size_t cap, uint32_t *ttl)
{
	en_ctx *e = arg;
	ldns_rdf *q = ldns_dname_new_frm_str(qname);
	if (!q)
		return EN_ANS_ERROR;
	/* ldns marks a server that failed once as unreachable for good; every query tries all. */
	for (size_t i = 0; i < ldns_resolver_nameserver_count(e->res); i++)
		ldns_resolver_set_nameserver_rtt(e->res, i, LDNS_RESOLV_RTT_MIN);
	ldns_pkt *p = NULL;
	ldns_status st = ldns_resolver_send(&p, e->res, q, LDNS_RR_TYPE_PTR, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_rdf_deep_free(q);
	int rc = EN_ANS_TIMEOUT;
	if (st == LDNS_STATUS_OK && p) {
		ldns_pkt_rcode rcode = ldns_pkt_get_rcode(p);
		rc = rcode == LDNS_RCODE_NXDOMAIN ? EN_ANS_NONE
		   : rcode == LDNS_RCODE_NOERROR ? answer_name(p, name, cap, ttl) : EN_ANS_ERROR;
	}
	ldns_pkt_free(p);
	return rc;
}

static uint64_t mix(const uint8_t a[16])
{
	uint64_t x, y;
	memcpy(&x, a, 8);
	memcpy(&y, a + 8, 8);
	x ^= y * 0x9e3779b97f4a7c15ull;
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	return x ^ (x >> 33);
}

static cslot *cache_set(en_ctx *e, const uint8_t a[16])
{
	return e->cache + (mix(a) % e->nsets) * WAYS;
}

/* The slot of a in its set: its own, a free one, an expired one, else the soonest to expire. */
static cslot *cache_slot(en_ctx *e, cslot *set, const uint8_t a[16], int64_t now)
{
	cslot *own = NULL, *free_s = NULL, *old = NULL, *soon = &set[0];
	for (int i = 0; i < WAYS; i++) {
		cslot *s = &set[i];
		if (s->used && !memcmp(s->addr, a, 16))
			own = s;
		else if (!s->used && !free_s)
			free_s = s;
		else if (s->used && s->expires <= now && !old)
			old = s;
		if (s->used && s->expires < soon->expires)
			soon = s;
	}
	cslot *s = own ? own : free_s ? free_s : old ? old : soon;
	if (!own && !free_s && !old)
		e->st.live_evictions++;
	if (!s->used)
		e->st.live_cached++;
	return s;
}

static void count_answer(en_ctx *e, int rc, int64_t now)
{
	e->unanswered = rc == EN_ANS_TIMEOUT ? e->unanswered + 1 : 0;
	if (rc == EN_ANS_NAME)
		e->st.live_names++;
	else if (rc == EN_ANS_NONE)
		e->st.live_nxdomain++;
	else if (rc == EN_ANS_TIMEOUT)
		e->st.live_timeouts++;
	else
		e->st.live_errors++;
	if (e->unanswered >= PAUSE_AFTER) {
		e->paused_until = now + PAUSE_S;
		e->unanswered = 0;
	}
}

static const char *live_ptr(en_ctx *e, const uint8_t a[16])
{
	int64_t now = e->clock(e->clock_arg);
	cslot *set = cache_set(e, a);
	for (int i = 0; i < WAYS; i++) {
		if (set[i].used && set[i].expires > now && !memcmp(set[i].addr, a, 16)) {
			e->st.live_hits++;
			return set[i].name;
		}
	}
	e->st.live_misses++;
	if (now < e->paused_until) {
		e->st.live_paused++;
		return NULL;
	}
	if (e->st.live_queries >= e->budget) {
		e->st.live_over_budget++;
		return NULL;
	}
	char qname[80];
	bool v4 = addr_is_v4_addr(a);
	int len = v4 ? addr_v4_name(a, 4, qname, sizeof(qname)) : addr_nibble_name(a, 32, qname, sizeof(qname));
	snprintf(qname + len, sizeof(qname) - (size_t)len, "%s", v4 ? ".in-addr.arpa." : ".ip6.arpa.");
	uint32_t ttl = 0;
	e->st.live_queries++;
	int rc = e->query(e->query_arg, qname, e->scratch, sizeof(e->scratch), &ttl);
	count_answer(e, rc, now);
	cslot *s = cache_slot(e, set, a, now);
	free(s->name);
	s->name = rc == EN_ANS_NAME ? strdup(e->scratch) : NULL;
	ttl = rc != EN_ANS_NAME ? NEG_TTL : ttl < POS_TTL_MIN ? POS_TTL_MIN : ttl > POS_TTL_MAX ? POS_TTL_MAX : ttl;
	memcpy(s->addr, a, 16);
	s->used = true;
	s->expires = now + ttl;
	return s->name;
}

const char *en_ptr(en_ctx *e, const uint8_t addr[16])
{
	const uint32_t *off = ht_get(&e->ptr, addr);
	if (off) {
		e->st.ptr_file_hits++;
		return e->names + *off;
	}
	return e->live ? live_ptr(e, addr) : NULL;
}

/* ---- agreement ---- */

bool en_same_asn(const en_ctx *e, const uint8_t a6[16], const uint8_t v4_16[16])
{
	uint32_t x = en_asn(e, a6);
	return x != 0 && x == en_asn(e, v4_16);
}

static unsigned labels(const char *s)
{
	unsigned n = 1;
	for (; *s; s++)
		n += *s == '.';
	return n;
}

/* "co.uk", "com.au", "ne.jp": a registry's second level under a two-letter country code. */
static bool registry_suffix(const char *parent)
{
	static const char *const slds[] = { "co", "com", "net", "org", "gov", "edu", "ac", "ne",
	                                    "or", "go", "gob", "mil", "ltd", "plc" };
	const char *dot = strchr(parent, '.');
	if (!dot || labels(parent) != 2 || strlen(dot + 1) != 2)
		return false;
	for (size_t i = 0; i < sizeof(slds) / sizeof(slds[0]); i++)
		if (strlen(slds[i]) == (size_t)(dot - parent) && !strncmp(parent, slds[i], strlen(slds[i])))
			return true;
	return false;
}

/* True when the first label of name holds the four octets of the IPv4 v4, in order or reversed. */
static bool spells_v4(const char *name, const uint8_t v4_16[16])
{
	unsigned num[8], k = 0;
	for (const char *p = name; *p && *p != '.' && k < 8;) {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		unsigned v = 0;
		for (; isdigit((unsigned char)*p); p++)
			v = v < 1000 ? v * 10 + (unsigned)(*p - '0') : v;
		num[k++] = v;
	}
	for (unsigned i = 0; i + 4 <= k; i++) {
		bool fwd = true, rev = true;
		for (unsigned j = 0; j < 4; j++) {
			fwd = fwd && num[i + j] == v4_16[12 + j];
			rev = rev && num[i + j] == v4_16[15 - j];
		}
		if (fwd || rev)
			return true;
	}
	return false;
}

int en_ptr_agree(en_ctx *e, const uint8_t a6[16], const uint8_t v4_16[16])
{
	char n6[EN_NAME_MAX + 1];
	const char *p = en_ptr(e, a6);
	if (!p)
		return 0;
	snprintf(n6, sizeof(n6), "%s", p);          /* the next en_ptr may evict p */
	const char *n4 = en_ptr(e, v4_16);
	if (!n4)
		return 0;
	if (!strcmp(n6, n4))
		return 2;
	const char *d6 = strchr(n6, '.'), *d4 = strchr(n4, '.');
	if (!d6 || !d4 || strcmp(d6 + 1, d4 + 1) != 0)
		return 0;
	const char *parent = d6 + 1;
	if (labels(parent) < 2 || registry_suffix(parent) || spells_v4(n4, v4_16))
		return 0;
	return 1;
}

void en_stats(const en_ctx *e, en_stats_t *out)
{
	*out = e->st;
	out->asn_v4 = e->n4;
	out->asn_v6 = e->n6;
	out->ptr_names = e->ptr.n;
	out->live = e->live;
}
