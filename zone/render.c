/* render.c: the store as the records of a standard zone: wildcards, RFC 4592 repair, holes. */
#include "render.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "lookup.h"

enum { T_A = 1, T_NS = 2, T_SOA = 6, T_TXT = 16 };

#define TXT_CHUNK 255u
#define TXT_RDATA_MAX (TMPL_OUT_MAX + TMPL_OUT_MAX / TXT_CHUNK + 1u)
#define FRAMES_MAX 136u        /* one entry per prefix length on a nesting path, and some room */
#define WILD_ROOM 2u           /* "\x01*" written before a node's owner makes its wildcard */
#define APEX_MAX (255u - WILD_ROOM - 64u)   /* 32 nibble labels and a wildcard must fit */
#define SHARED_N 11110u        /* all-digit names of 1 to 4 labels: 10 + 100 + 1000 + 10000 */
#define EXHAUSTED 0xffu        /* frame.cur.len of a frame without pieces left */
#define SH_TOUCHED 0x1u        /* a pass visited the shared name */
#define SH_THROUGH 0x2u        /* an ancestor of the region's name: walked, not rendered */
#define SH_FORCE 0x4u          /* the last piece of a shadowed listing: must exist */

struct rd_zone {
	uint8_t apex[256];             /* wire form, lower case */
	unsigned apex_len;
	char apex_text[256];           /* without the trailing dot, for {zone} */
	uint8_t soa[600];              /* mname rname serial refresh retry expire minimum */
	unsigned soa_len, soa_serial_off;
	uint8_t ns[CFG_MAX_NS][256];
	unsigned ns_len[CFG_MAX_NS];
	unsigned n_ns;
	uint32_t ttl, soa_ttl, ns_ttl;
	tmpl txt;
	char default_reason[CFG_TEXT_MAX];
	rd_warn_fn warn;
	void *warn_arg;
};

/*
 * The two name trees: nibble labels (4 bits each, from address bit 0) and octet labels (8 bits
 * each, from bit 96 inside ::ffff:0:0/96). A node of depth d is the prefix of base + step * d
 * bits; its labels are numbered 1..d from the apex.
 */
typedef struct tree {
	unsigned base, step, label_max;
	bool v4;
} tree;

static const tree t_nib = { 0, 4, 15, false };
static const tree t_v4 = { 96, 8, 255, true };

/* An entry on the nesting stack of a pass, with the piece it renders next. */
typedef struct frame {
	store_entry e;                 /* reason cleared: the TXT is rendered when pushed */
	addr_pfx cur;                  /* next piece, len EXHAUSTED when there is none */
	uint8_t band;                  /* depth of the entry's pieces (before any split) */
	bool split;                    /* an IPv4 listing: pieces at shared names are split */
	uint16_t txt_len;
	uint8_t txt[TXT_RDATA_MAX];
} frame;

/* The state of one rendering: the output, the shared names seen and the current pass. */
typedef struct rd_ctx {
	const rd_zone *z;
	store_reader *r;
	uint64_t now;
	rd_fn fn;
	void *arg;
	int rc;                        /* the first error or stop value; everything stops on it */
	const uint8_t *under;          /* region mode: only owners at or below this name */
	unsigned under_len;
	uint8_t under_buf[256];
	uint8_t shared[SHARED_N];      /* SH_* flags per all-digit name */
	uint8_t force4[1000][32];      /* SH_FORCE for the 256 children of three-digit names */
	/* the pass */
	const tree *t;
	addr_pfx scope;                /* the node whose subtree the pass renders */
	unsigned floor_depth;          /* shallowest depth the pass visits */
	frame st[FRAMES_MAX];
	unsigned n;
	addr_pfx last;                 /* the node visited last, and its depth */
	unsigned last_depth;
	addr_pfx *xs;                  /* unexpired exclusions inside the scope, in key order */
	size_t nx, cap_x, ix;
	store_entry virt[2];           /* the RFC 5782 test points inside the scope, in key order */
	unsigned nvirt, iv;
	/* output scratch */
	uint8_t owner[WILD_ROOM + 256];
	unsigned owner_len;
	uint8_t txt[TXT_RDATA_MAX];
	uint16_t txt_len;
} rd_ctx;

static const addr_pfx test_absent = {
	.a = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 }, .len = 128,
};

/* ---------------------------------------------------------------- settings */

static uint8_t lower(uint8_t ch)
{
	return ch >= 'A' && ch <= 'Z' ? (uint8_t)(ch + ('a' - 'A')) : ch;
}

/*
 * Presentation name ("a.b.", "\\.", "\\065") to wire form; lower case when asked. Returns the
 * wire length (root included) or -1.
 */
static int name_to_wire(const char *s, uint8_t *out, size_t cap, bool to_lower)
{
	size_t o = 0;

	if (strcmp(s, ".") == 0)
		s = "";
	while (*s != '\0') {
		size_t lab = o++;
		if (o >= cap)
			return -1;
		while (*s != '\0' && *s != '.') {
			unsigned ch = (unsigned char)*s++;
			if (ch == '\\' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
			    s[2] >= '0' && s[2] <= '9') {
				ch = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
				s += 3;
			} else if (ch == '\\' && *s != '\0') {
				ch = (unsigned char)*s++;
			}
			if (ch > 255u || o - lab > 63u || o + 1u >= cap)
				return -1;
			out[o++] = to_lower ? lower((uint8_t)ch) : (uint8_t)ch;
		}
		if (o - lab == 1u)
			return -1;
		out[lab] = (uint8_t)(o - lab - 1u);
		if (*s == '.')
			s++;
	}
	if (o + 1u > cap || o + 1u > 255u)
		return -1;
	out[o++] = 0;
	return (int)o;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int zone_err(char *err, size_t errlen, const char *what, const char *text)
{
	if (errlen > 0)
		snprintf(err, errlen, "failed to set up the zone rendering (%s '%s')", what, text);
	return V6R_EINVAL;
}

static int zone_apex(rd_zone *z, const cfg *c, char *err, size_t errlen)
{
	size_t tlen = strlen(c->zone);
	int n = c->zone[0] ? name_to_wire(c->zone, z->apex, sizeof z->apex, true) : -1;

	if (n < 0)
		return zone_err(err, errlen, "bad or missing zone name", c->zone);
	if ((unsigned)n > APEX_MAX)
		return zone_err(err, errlen, "zone name too long for 32 nibble labels below it", c->zone);
	z->apex_len = (unsigned)n;
	if (tlen > 0 && c->zone[tlen - 1] == '.')
		tlen--;
	if (tlen >= sizeof z->apex_text)
		return zone_err(err, errlen, "zone name too long", c->zone);
	memcpy(z->apex_text, c->zone, tlen);
	z->apex_text[tlen] = '\0';
	return 0;
}

/* SOA and NS RDATA, as server/answer.c renders them (mname and rname keep their case). */
static int zone_soa_ns(rd_zone *z, const cfg *c, char *err, size_t errlen)
{
	if (c->n_ns == 0 || c->n_ns > CFG_MAX_NS)
		return zone_err(err, errlen, "no NS names for", c->zone);
	for (unsigned i = 0; i < c->n_ns; i++) {
		int n = name_to_wire(c->ns[i], z->ns[i], sizeof z->ns[i], false);
		if (n < 0)
			return zone_err(err, errlen, "bad NS name", c->ns[i]);
		z->ns_len[i] = (unsigned)n;
	}
	z->n_ns = c->n_ns;
	const char *mname = c->soa_mname[0] ? c->soa_mname : c->ns[0];
	char rname[CFG_NAME_MAX + 16];
	if (c->soa_rname[0])
		snprintf(rname, sizeof rname, "%s", c->soa_rname);
	else
		snprintf(rname, sizeof rname, "hostmaster.%s.", z->apex_text);
	int m = name_to_wire(mname, z->soa, 256, false);
	if (m < 0)
		return zone_err(err, errlen, "bad SOA mname", mname);
	int r = name_to_wire(rname, z->soa + m, 256, false);
	if (r < 0)
		return zone_err(err, errlen, "bad SOA rname", rname);
	uint8_t *p = z->soa + m + r;
	z->soa_serial_off = (unsigned)(m + r);
	wr32(p, 0);
	wr32(p + 4, c->soa_refresh);
	wr32(p + 8, c->soa_retry);
	wr32(p + 12, c->soa_expire);
	wr32(p + 16, c->negative_ttl);
	z->soa_len = (unsigned)(m + r) + 20u;
	return 0;
}

/* The template, and the default reason with {zone} substituted once (as v6repd does). */
static int zone_text(rd_zone *z, const cfg *c, char *err, size_t errlen)
{
	char terr[256];
	tmpl t;

	if (tmpl_compile(&t, c->default_reason, terr, sizeof terr) != 0)
		return zone_err(err, errlen, terr, c->default_reason);
	tmpl_vars v = { .zone = z->apex_text };
	size_t n = tmpl_render(&t, &v, z->default_reason, sizeof z->default_reason - 1u);
	z->default_reason[n] = '\0';
	if (tmpl_compile(&z->txt, c->txt_template, terr, sizeof terr) != 0)
		return zone_err(err, errlen, terr, c->txt_template);
	return 0;
}

int rd_zone_new(const cfg *c, rd_zone **out, char *err, size_t errlen)
{
	int rc;
	rd_zone *z = calloc(1, sizeof *z);

	*out = NULL;
	if (z == NULL) {
		if (errlen > 0)
			snprintf(err, errlen, "failed to set up the zone rendering (out of memory)");
		return V6R_ENOMEM;
	}
	if ((rc = zone_apex(z, c, err, errlen)) != 0 || (rc = zone_soa_ns(z, c, err, errlen)) != 0 ||
	    (rc = zone_text(z, c, err, errlen)) != 0)
		goto fail;
	z->ttl = c->ttl;
	z->soa_ttl = c->soa_ttl;
	z->ns_ttl = c->ns_ttl;
	*out = z;
	return 0;
fail:
	free(z);
	return rc;
}

void rd_zone_free(rd_zone *z)
{
	free(z);
}

void rd_zone_set_warn(rd_zone *z, rd_warn_fn fn, void *arg)
{
	z->warn = fn;
	z->warn_arg = arg;
}

/* ---------------------------------------------------------------- names and labels */

static unsigned depth_of(const tree *t, unsigned len)
{
	return (len - t->base) / t->step;
}

static unsigned bits_at(const tree *t, unsigned d)
{
	return t->base + t->step * d;
}

/* Label i (1 = next to the apex) of a node of tree t. */
static unsigned label_at(const tree *t, const uint8_t a[16], unsigned i)
{
	if (t->v4)
		return a[11 + i];
	unsigned b = a[(i - 1) / 2];
	return i & 1u ? b >> 4 : b & 15u;
}

static void label_set(const tree *t, uint8_t a[16], unsigned i, unsigned v)
{
	if (t->v4) {
		a[11 + i] = (uint8_t)v;
		return;
	}
	uint8_t *b = &a[(i - 1) / 2];
	*b = (uint8_t)(i & 1u ? (*b & 0x0fu) | v << 4 : (*b & 0xf0u) | v);
}

/* Whether the node's 1 to 4 labels are all single digits: a name of both trees. */
static bool all_digits(const tree *t, const uint8_t a[16], unsigned d)
{
	if (d < 1 || d > 4)
		return false;
	for (unsigned i = 1; i <= d; i++)
		if (label_at(t, a, i) > 9)
			return false;
	return true;
}

static unsigned digits_index(const unsigned *dig, unsigned d)
{
	static const unsigned base[5] = { 0, 0, 10, 110, 1110 };
	unsigned x = 0;
	for (unsigned i = 0; i < d; i++)
		x = x * 10 + dig[i];
	return base[d] + x;
}

static void digits_of(const tree *t, const uint8_t a[16], unsigned d, unsigned *dig)
{
	for (unsigned i = 1; i <= d; i++)
		dig[i - 1] = label_at(t, a, i);
}

/* The node of tree t whose labels are the digits dig[0..d). */
static void digits_node(const tree *t, const unsigned *dig, unsigned d, addr_pfx *p)
{
	memset(p, 0, sizeof *p);
	if (t->v4)
		p->a[10] = p->a[11] = 0xff;
	for (unsigned i = 1; i <= d; i++)
		label_set(t, p->a, i, dig[i - 1]);
	p->len = (uint8_t)bits_at(t, d);
}

/* Writes the labels of node (a, d), leftmost first, as wire labels; returns their length. */
static unsigned labels_wire(const tree *t, const uint8_t a[16], unsigned d, uint8_t *o)
{
	static const char hex[] = "0123456789abcdef";
	unsigned n = 0;
	for (unsigned i = d; i >= 1; i--) {
		unsigned v = label_at(t, a, i);
		if (!t->v4) {
			o[n++] = 1;
			o[n++] = (uint8_t)hex[v];
			continue;
		}
		uint8_t *len = &o[n++];
		if (v >= 100)
			o[n++] = (uint8_t)('0' + v / 100);
		if (v >= 10)
			o[n++] = (uint8_t)('0' + v / 10 % 10);
		o[n++] = (uint8_t)('0' + v % 10);
		*len = (uint8_t)(o + n - len - 1);
	}
	return n;
}

/* Sets c->owner (after WILD_ROOM) to the owner of node (a, d) of tree t. */
static void owner_build(rd_ctx *c, const tree *t, const uint8_t a[16], unsigned d)
{
	uint8_t *o = c->owner + WILD_ROOM;
	unsigned n = labels_wire(t, a, d, o);
	memcpy(o + n, c->z->apex, c->z->apex_len);
	c->owner_len = n + c->z->apex_len;
}

/* Whether the owner in c->owner lies at or below the region's name (always without one). */
static bool owner_under(const rd_ctx *c)
{
	const uint8_t *o = c->owner + WILD_ROOM;
	unsigned off = 0;
	if (c->under == NULL)
		return true;
	while (c->owner_len - off > c->under_len)
		off += 1u + o[off];
	return c->owner_len - off == c->under_len && memcmp(o + off, c->under, c->under_len) == 0;
}

/* ---------------------------------------------------------------- records */

static int emit(rd_ctx *c, const uint8_t *owner, unsigned olen, uint16_t type, uint32_t ttl,
                const uint8_t *rdata, uint16_t rdlen)
{
	if (c->rc)
		return c->rc;
	rd_rr rr = { owner, olen, type, ttl, rdata, rdlen };
	c->rc = c->fn(&rr, c->arg);
	return c->rc;
}

/* A and TXT at the node in c->owner, or at its wildcard. */
static void emit_listed(rd_ctx *c, bool wild, const uint8_t code[4], const uint8_t *txt,
                        uint16_t txt_len)
{
	uint8_t *o = c->owner + WILD_ROOM;
	unsigned olen = c->owner_len;
	if (wild) {
		o -= WILD_ROOM;
		o[0] = 1;
		o[1] = '*';
		olen += WILD_ROOM;
	}
	emit(c, o, olen, T_A, c->z->ttl, code, 4);
	emit(c, o, olen, T_TXT, c->z->ttl, txt, txt_len);
}

static void emit_hole(rd_ctx *c)
{
	emit(c, c->owner + WILD_ROOM, c->owner_len, RD_HOLE_TYPE, c->z->ttl, NULL, 0);
}

/* The TXT RDATA of entry e: the template with {addr} as the prefix, in 255-byte strings. */
static uint16_t txt_rdata(const rd_zone *z, const store_entry *e, uint8_t *out)
{
	char text[TMPL_OUT_MAX];
	tmpl_vars v = { .e = e, .zone = z->apex_text, .default_reason = z->default_reason };
	size_t n = tmpl_render(&z->txt, &v, text, sizeof text), o = 0, i = 0;

	do {
		size_t k = n - i < TXT_CHUNK ? n - i : TXT_CHUNK;
		out[o++] = (uint8_t)k;
		memcpy(out + o, text + i, k);
		o += k;
		i += k;
	} while (i < n);
	return (uint16_t)o;
}

/* A and TXT of an entry found by a probe (not on the stack). */
static void emit_entry(rd_ctx *c, bool wild, const store_entry *e)
{
	c->txt_len = txt_rdata(c->z, e, c->txt);
	emit_listed(c, wild, e->code, c->txt, c->txt_len);
}

/* ---------------------------------------------------------------- probes for shared names */

/* lk_name's verdict for node (a, d) of tree t. */
static void lk_node(rd_ctx *c, const tree *t, const uint8_t a[16], unsigned d, lk_result *res)
{
	uint8_t wire[80];
	const uint8_t *labs[32];
	unsigned n = labels_wire(t, a, d, wire), o = 0, k = 0;

	while (o < n) {
		labs[k++] = wire + o;
		o += 1u + wire[o];
	}
	int rc = lk_name(c->r, labs, k, c->now, res);
	if (rc && !c->rc)
		c->rc = rc;
	if (rc)
		res->verdict = LK_NXDOMAIN;
}

/* The IPv6 listing deciding the nibble prefix of digits dig[0..d) (no longer than it). */
static bool nib_listing(rd_ctx *c, const unsigned *dig, unsigned d, store_entry *e)
{
	addr_pfx p;
	if (d == 0)
		return false;
	digits_node(&t_nib, dig, d, &p);
	int rc = store_lpm(c->r, p.a, 0, p.len, c->now, e);
	if (rc && rc != V6R_ENOTFOUND && !c->rc)
		c->rc = rc;
	return rc == 0 && e->kind == STORE_LISTING;
}

/*
 * What lk_name gives names below an IPv4 node (a, d) that are no IPv4 names (junk labels, more
 * than 4 labels): the IPv6 listing covering the nibbles its leading single-digit labels spell.
 */
static bool nib_junk(rd_ctx *c, const uint8_t a[16], unsigned d, store_entry *e)
{
	unsigned dig[4], v = 0;
	while (v < d && v < 4 && a[12 + v] <= 9) {
		dig[v] = a[12 + v];
		v++;
	}
	return nib_listing(c, dig, v, e);
}

/* ---------------------------------------------------------------- the nibble and octet passes */

static const frame *decider(const rd_ctx *c, unsigned len)
{
	for (unsigned i = c->n; i-- > 0;)
		if (c->st[i].e.pfx.len <= len)
			return &c->st[i];
	return NULL;
}

static bool is_listing(const frame *f)
{
	return f != NULL && f->e.kind == STORE_LISTING;
}

static void shared_flag(rd_ctx *c, const tree *t, const uint8_t a[16], unsigned d, unsigned fl)
{
	unsigned dig[4];
	digits_of(t, a, d, dig);
	c->shared[digits_index(dig, d)] |= (uint8_t)fl;
}

static void touch(rd_ctx *c, const tree *t, const uint8_t a[16], unsigned d)
{
	shared_flag(c, t, a, d, SH_TOUCHED);
}

/*
 * A nibble node (d labels): the deciding listing's A and TXT at the node and its wildcard (none
 * below a /128), or a hole where a piece of an exclusion (or a forced piece) sits under a
 * wildcard. Shared all-digit names are only noted here: collide_at renders them.
 */
static void visit_nib(rd_ctx *c, const addr_pfx *q, unsigned d, bool piece, bool force)
{
	const frame *e = decider(c, q->len), *p = decider(c, q->len - 4u);

	if (all_digits(&t_nib, q->a, d)) {
		touch(c, &t_nib, q->a, d);
		if (force)
			shared_flag(c, &t_nib, q->a, d, SH_FORCE);
		return;
	}
	owner_build(c, &t_nib, q->a, d);
	if (is_listing(e)) {
		emit_listed(c, false, e->e.code, e->txt, e->txt_len);
		if (e->e.pfx.len < 128)
			emit_listed(c, true, e->e.code, e->txt, e->txt_len);
	} else if (piece && ((d >= 2 && is_listing(p)) || force)) {
		emit_hole(c);
	}
}

/* Whether the parent of IPv4 node (a, d), first label a digit, carries a wildcard. */
static bool v4_parent_wild(rd_ctx *c, const uint8_t a[16], unsigned d, const frame *p)
{
	store_entry e;
	unsigned dig[4];
	if (d < 2)
		return false;
	if (all_digits(&t_v4, a, d - 1)) {
		digits_of(&t_v4, a, d - 1, dig);
		return nib_listing(c, dig, d - 1, &e);
	}
	return is_listing(p) || nib_junk(c, a, d - 1, &e);
}

/* An IPv4 node with a multi-digit label below a single-digit first label: lk_name's rules. */
static void visit_v4_mixed(rd_ctx *c, const addr_pfx *q, unsigned d, const frame *e,
                           const frame *p, bool force)
{
	lk_result res;
	store_entry w;

	lk_node(c, &t_v4, q->a, d, &res);
	if (res.verdict == LK_LISTED)
		emit_entry(c, false, &res.e);
	else if (res.verdict == LK_NXDOMAIN && (force || v4_parent_wild(c, q->a, d, p)))
		emit_hole(c);
	if (d <= 3 && is_listing(e))
		emit_listed(c, true, e->e.code, e->txt, e->txt_len);
	else if (nib_junk(c, q->a, d, &w))
		emit_entry(c, true, &w);
}

/*
 * An octet node: as visit_nib (no wildcard below a /32) when the first label has two or three
 * digits; with lk_name's rules below a single-digit first label; noted for collide_at when it
 * is a shared name or a child of a shared three-label name.
 */
static void visit_v4(rd_ctx *c, const addr_pfx *q, unsigned d, bool piece, bool force)
{
	const frame *e = decider(c, q->len), *p = decider(c, q->len - 8u);

	if (all_digits(&t_v4, q->a, d)) {
		touch(c, &t_v4, q->a, d);
		if (force)
			shared_flag(c, &t_v4, q->a, d, SH_FORCE);
		return;
	}
	if (d == 4 && all_digits(&t_v4, q->a, 3)) {
		/* a child of a shared three-label name: see shared_loop */
		if (force) {
			unsigned dig[3];
			digits_of(&t_v4, q->a, 3, dig);
			c->force4[dig[0] * 100 + dig[1] * 10 + dig[2]][q->a[15] / 8] |=
				(uint8_t)(1u << (q->a[15] % 8));
		}
		return;
	}
	owner_build(c, &t_v4, q->a, d);
	if (q->a[12] <= 9) {
		visit_v4_mixed(c, q, d, e, p, force);
		return;
	}
	if (is_listing(e)) {
		emit_listed(c, false, e->e.code, e->txt, e->txt_len);
		if (d <= 3)
			emit_listed(c, true, e->e.code, e->txt, e->txt_len);
	} else if (piece && ((d >= 2 && is_listing(p)) || force)) {
		emit_hole(c);
	}
}

static void visit_node(rd_ctx *c, const addr_pfx *q, unsigned d, bool piece, bool force)
{
	if (c->t->v4)
		visit_v4(c, q, d, piece, force);
	else
		visit_nib(c, q, d, piece, force);
}

/*
 * Whether every band piece of listing f is decided by a longer entry that is no listing (an
 * exclusion of the same nibble or octet overrides each of them): then nothing of f would be
 * rendered, while lk_name answers NODATA above it (a listing lies below), so its last piece is
 * made to exist. One probe per piece, only for such last pieces.
 */
static bool shadowed(rd_ctx *c, const frame *f)
{
	const tree *t = c->t;
	unsigned d = f->band, span = 1u << (bits_at(t, d) - f->e.pfx.len);
	unsigned first = label_at(t, f->e.pfx.a, d);
	addr_pfx p = f->e.pfx;

	p.len = (uint8_t)bits_at(t, d);
	for (unsigned l = first; l < first + span; l++) {
		store_entry e;
		label_set(t, p.a, d, l);
		if (p.len == 128 && memcmp(p.a, lk_test_point()->pfx.a, 16) == 0)
			return false;
		if (p.len == 128 && memcmp(p.a, test_absent.a, 16) == 0)
			continue;
		int rc = store_lpm(c->r, p.a, t->base, p.len, c->now, &e);
		if (rc && rc != V6R_ENOTFOUND && !c->rc)
			c->rc = rc;
		if (rc == 0 && e.kind == STORE_LISTING)
			return false;
	}
	return true;
}

/* Whether piece q (depth d) is the last piece of a listing whose pieces are all overridden. */
static bool must_exist(rd_ctx *c, const addr_pfx *q, unsigned d)
{
	const tree *t = c->t;
	if (d < 2 || is_listing(decider(c, q->len)))
		return false;
	for (unsigned i = 0; i < c->n; i++) {
		const frame *f = &c->st[i];
		if (f->e.kind != STORE_LISTING || f->band != d || f->e.pfx.len >= q->len ||
		    addr_pfx_cmp(&f->cur, q) != 0)
			continue;
		unsigned span = 1u << (bits_at(t, d) - f->e.pfx.len);
		if (label_at(t, q->a, d) + 1 == label_at(t, f->e.pfx.a, d) + span && shadowed(c, f))
			return true;
	}
	return false;
}

/* Depth of the deepest common ancestor of node q and the node visited last. */
static unsigned common_depth(const rd_ctx *c, const addr_pfx *q, unsigned d)
{
	unsigned cpl = addr_cpl(c->last.a, q->a);
	unsigned k = cpl >= c->t->base ? (cpl - c->t->base) / c->t->step : 0;
	if (k > c->last_depth)
		k = c->last_depth;
	return k < d ? k : d;
}

/* Visits piece q after the empty non-terminals above it that were not visited yet. */
static void visit_piece(rd_ctx *c, const addr_pfx *q)
{
	const tree *t = c->t;
	unsigned d = depth_of(t, q->len);

	while (c->n > 0 && !addr_pfx_within(q, &c->st[c->n - 1].e.pfx))
		c->n--;         /* entries before q, all their pieces done */
	unsigned j = common_depth(c, q, d) + 1;
	if (j < c->floor_depth)
		j = c->floor_depth;
	for (; j < d && c->rc == 0; j++) {
		addr_pfx a = *q;
		a.len = (uint8_t)bits_at(t, j);
		addr_mask(a.a, a.len);
		visit_node(c, &a, j, false, false);
	}
	if (c->rc == 0)
		visit_node(c, q, d, true, must_exist(c, q, d));
	c->last = *q;
	c->last_depth = d;
}

static bool frame_splits(const rd_ctx *c, const frame *f, const addr_pfx *node)
{
	unsigned d = depth_of(c->t, node->len);
	return f->split && d <= 3 && all_digits(c->t, node->a, d);
}

/* An IPv4 listing's piece at a shared name of up to 3 labels becomes its children. */
static void piece_descend(const rd_ctx *c, const frame *f, addr_pfx *n)
{
	while (frame_splits(c, f, n))
		n->len = (uint8_t)(n->len + c->t->step);
}

/* Moves f to its next piece in key order (the next sibling, or out of a split piece). */
static void piece_next(rd_ctx *c, frame *f)
{
	const tree *t = c->t;
	addr_pfx n = f->cur;

	for (;;) {
		unsigned d = depth_of(t, n.len), l = label_at(t, n.a, d);
		if (d > f->band) {
			if (l < t->label_max) {
				label_set(t, n.a, d, l + 1);
				break;
			}
			label_set(t, n.a, d, 0);
			n.len = (uint8_t)(n.len - t->step);
			continue;
		}
		unsigned span = 1u << (bits_at(t, d) - f->e.pfx.len);
		if (l + 1 >= label_at(t, f->e.pfx.a, d) + span) {
			f->cur.len = EXHAUSTED;
			return;
		}
		label_set(t, n.a, d, l + 1);
		break;
	}
	piece_descend(c, f, &n);
	f->cur = n;
	if (!addr_pfx_within(&n, &c->scope))
		f->cur.len = EXHAUSTED;
}

/* First piece of an entry covering the scope: the scope's node when it is one, else none. */
static void piece_seek(rd_ctx *c, frame *f)
{
	const tree *t = c->t;
	unsigned sd = depth_of(t, c->scope.len);
	addr_pfx n = c->scope;

	n.len = (uint8_t)bits_at(t, f->band);
	addr_mask(n.a, n.len);
	while (depth_of(t, n.len) < sd) {
		if (!frame_splits(c, f, &n)) {
			f->cur.len = EXHAUSTED;
			return;
		}
		n.len = (uint8_t)(n.len + t->step);
		memcpy(n.a, c->scope.a, 16);
		addr_mask(n.a, n.len);
	}
	piece_descend(c, f, &n);
	f->cur = n;
}

/* An IPv6 listing of /8 or shorter over a two-digit prefix: IPv4 names below it differ. */
static void warn_check(const rd_ctx *c, const store_entry *e)
{
	unsigned f0 = e->pfx.a[0] >> 4, s0 = e->pfx.a[0] & 15u;
	if (c->z->warn == NULL || c->t->v4 || e->kind != STORE_LISTING || e->pfx.len > 8)
		return;
	if (f0 <= 9 && (e->pfx.len <= 4 || s0 <= 9))
		c->z->warn(e, "an IPv6 listing of /8 or shorter over names that are also IPv4 names: "
		           "a standard server answers the IPv4 names a.b.c.d below it as listed where "
		           "v6repd says not listed (NODATA)", c->z->warn_arg);
}

static void push(rd_ctx *c, const store_entry *e, bool context)
{
	const tree *t = c->t;

	if (c->n >= FRAMES_MAX) {
		c->rc = V6R_ECORRUPT;   /* deeper nesting than prefix lengths allow */
		return;
	}
	frame *f = &c->st[c->n++];
	f->e = *e;
	f->e.reason = NULL;
	f->e.reason_len = 0;
	unsigned band = (e->pfx.len - t->base + t->step - 1u) / t->step;
	f->band = (uint8_t)(band ? band : 1u);
	f->split = t->v4 && e->kind == STORE_LISTING;
	f->txt_len = e->kind == STORE_LISTING ? txt_rdata(c->z, e, f->txt) : 0;
	if (context) {
		piece_seek(c, f);
		return;
	}
	warn_check(c, e);
	f->cur = e->pfx;
	f->cur.len = (uint8_t)bits_at(t, f->band);
	piece_descend(c, f, &f->cur);
}

/* Visits every pending piece before key k (NULL: all), in key order. */
static void flush(rd_ctx *c, const addr_pfx *k)
{
	while (c->rc == 0) {
		frame *m = NULL;
		for (unsigned i = 0; i < c->n; i++) {
			frame *f = &c->st[i];
			if (f->cur.len != EXHAUSTED && (m == NULL || addr_pfx_cmp(&f->cur, &m->cur) < 0))
				m = f;
		}
		if (m == NULL || (k != NULL && addr_pfx_cmp(&m->cur, k) >= 0))
			return;
		addr_pfx q = m->cur;
		visit_piece(c, &q);
		for (unsigned i = 0; i < c->n; i++)
			if (c->st[i].cur.len != EXHAUSTED && addr_pfx_cmp(&c->st[i].cur, &q) == 0)
				piece_next(c, &c->st[i]);
	}
}

/* Takes the next entry in key order: everything before it is final, then it joins the stack. */
static void feed(rd_ctx *c, const store_entry *e)
{
	flush(c, &e->pfx);
	while (c->n > 0 && !addr_pfx_within(&e->pfx, &c->st[c->n - 1].e.pfx))
		c->n--;
	if (c->rc == 0)
		push(c, e, false);
}

static bool is_test_key(const addr_pfx *p)
{
	return p->len == 128 && (memcmp(p->a, test_absent.a, 16) == 0 ||
	                         memcmp(p->a, lk_test_point()->pfx.a, 16) == 0);
}

/* Feeds the buffered exclusions and the test points that sort before k (NULL: all). */
static void feed_pending(rd_ctx *c, const addr_pfx *k)
{
	while (c->rc == 0) {
		const addr_pfx *x = c->ix < c->nx ? &c->xs[c->ix] : NULL;
		const store_entry *v = c->iv < c->nvirt ? &c->virt[c->iv] : NULL;
		if (x && v && addr_pfx_cmp(&v->pfx, x) < 0)
			x = NULL;
		const addr_pfx *next = x ? x : v ? &v->pfx : NULL;
		if (next == NULL || (k != NULL && addr_pfx_cmp(next, k) >= 0))
			return;
		if (x) {
			store_entry e = { .pfx = *x, .kind = STORE_EXCLUSION };
			c->ix++;
			feed(c, &e);
		} else {
			c->iv++;
			feed(c, v);
		}
	}
}

static bool live(const rd_ctx *c, const store_entry *e)
{
	return e->expires == 0 || e->expires > c->now;
}

static int on_listing(const store_entry *e, void *arg)
{
	rd_ctx *c = arg;
	if (!live(c, e))
		return 0;
	feed_pending(c, &e->pfx);
	if (!is_test_key(&e->pfx))
		feed(c, e);
	return c->rc;
}

static int on_exclusion(const store_entry *e, void *arg)
{
	rd_ctx *c = arg;
	if (!live(c, e) || is_test_key(&e->pfx))
		return 0;
	if (c->nx == c->cap_x) {
		size_t cap = c->cap_x ? 2 * c->cap_x : 256;
		addr_pfx *p = realloc(c->xs, cap * sizeof *p);
		if (p == NULL)
			return V6R_ENOMEM;
		c->xs = p;
		c->cap_x = cap;
	}
	c->xs[c->nx++] = e->pfx;
	return 0;
}

/* The entries covering the scope (shorter than it), pushed outermost first. */
static int push_context(rd_ctx *c)
{
	store_entry chain[FRAMES_MAX];
	unsigned n = 0;
	int maxlen = (int)c->scope.len - 1;

	while (maxlen >= (int)c->t->base && n < FRAMES_MAX) {
		int rc = store_lpm(c->r, c->scope.a, c->t->base, (unsigned)maxlen, c->now, &chain[n]);
		if (rc == V6R_ENOTFOUND)
			break;
		if (rc)
			return rc;
		maxlen = (int)chain[n++].pfx.len - 1;
	}
	while (n-- > 0 && c->rc == 0)
		push(c, &chain[n], true);
	return c->rc;
}

static void pass_virtuals(rd_ctx *c)
{
	const store_entry *tp = lk_test_point();
	c->nvirt = c->iv = 0;
	if (addr_pfx_within(&test_absent, &c->scope))
		c->virt[c->nvirt++] = (store_entry){ .pfx = test_absent, .kind = STORE_EXCLUSION };
	if (addr_pfx_within(&tp->pfx, &c->scope))
		c->virt[c->nvirt++] = *tp;
}

/* Renders the records of tree t at or below the node `scope`, except the shared names. */
static int run_pass(rd_ctx *c, const tree *t, const addr_pfx *scope)
{
	unsigned sd = depth_of(t, scope->len);
	int rc;

	c->t = t;
	c->scope = *scope;
	c->n = 0;
	c->floor_depth = sd ? sd : 1;
	c->last = *scope;
	c->last_depth = c->floor_depth - 1;
	c->nx = c->ix = 0;
	pass_virtuals(c);
	rc = store_reader_walk_within(c->r, STORE_EXCLUSION, scope, on_exclusion, c);
	if (rc == 0)
		rc = push_context(c);
	if (rc == 0)
		rc = store_reader_walk_within(c->r, STORE_LISTING, scope, on_listing, c);
	if (rc == 0) {
		feed_pending(c, NULL);
		flush(c, NULL);
		rc = c->rc;
	}
	if (rc && !c->rc)
		c->rc = rc;
	return c->rc;
}

/* ---------------------------------------------------------------- shared all-digit names */

/* A shared name: lk_name's verdict for itself, the IPv6 wildcard for the names below it. */
static void shared_own(rd_ctx *c, const unsigned *dig, unsigned d)
{
	addr_pfx q;
	lk_result res;
	store_entry w;

	digits_node(&t_nib, dig, d, &q);
	owner_build(c, &t_nib, q.a, d);
	if (!owner_under(c))
		return;
	lk_node(c, &t_nib, q.a, d, &res);
	bool force = (c->shared[digits_index(dig, d)] & SH_FORCE) != 0;
	if (res.verdict == LK_LISTED)
		emit_entry(c, false, &res.e);
	else if (res.verdict == LK_NXDOMAIN && (force || nib_listing(c, dig, d - 1, &w)))
		emit_hole(c);
	if (nib_listing(c, dig, d, &w))
		emit_entry(c, true, &w);
}

/* Whether an IPv4 listing covers or lies below the /24 that three digits spell. */
static bool v4_relevant(rd_ctx *c, const unsigned *dig)
{
	addr_pfx p;
	store_entry e;
	digits_node(&t_v4, dig, 3, &p);
	int rc = store_lpm(c->r, p.a, ADDR_V4_BASE_LEN, p.len, c->now, &e);
	if (rc == 0 && e.kind == STORE_LISTING)
		return true;
	rc = store_listed_below(c->r, &p, c->now);
	if (rc < 0 && !c->rc)
		c->rc = rc;
	return rc == 1;
}

/*
 * The four-label children of a shared three-label name: IPv4 addresses to lk_name, which are
 * NODATA (not listed by the IPv6 wildcard above) unless an IPv4 listing decides them. Written
 * out when an IPv6 listing covers the parent or IPv4 listings are there.
 */
static void shared_loop(rd_ctx *c, unsigned *dig)
{
	store_entry lw, w;
	addr_pfx q;
	lk_result res;
	bool wild = nib_listing(c, dig, 3, &lw), v4 = v4_relevant(c, dig);
	uint16_t lw_len = wild ? txt_rdata(c->z, &lw, c->txt) : 0;
	uint8_t lw_txt[TXT_RDATA_MAX];

	memcpy(lw_txt, c->txt, lw_len);
	for (unsigned o = 0; o <= 255 && c->rc == 0; o++) {
		dig[3] = o;
		bool shared = o <= 9;
		if (!wild && !v4 && !(shared && (c->shared[digits_index(dig, 4)] & SH_TOUCHED)))
			continue;
		digits_node(&t_v4, dig, 3, &q);
		q.a[15] = (uint8_t)o;
		q.len = 128;
		owner_build(c, &t_v4, q.a, 4);
		if (!owner_under(c))
			continue;
		lk_node(c, &t_v4, q.a, 4, &res);
		bool force = shared ? (c->shared[digits_index(dig, 4)] & SH_FORCE) != 0 :
		             (c->force4[dig[0] * 100 + dig[1] * 10 + dig[2]][o / 8] >> (o % 8)) & 1u;
		if (res.verdict == LK_LISTED)
			emit_entry(c, false, &res.e);
		else if (res.verdict == LK_NXDOMAIN && (wild || force))
			emit_hole(c);
		if (shared && nib_listing(c, dig, 4, &w))
			emit_entry(c, true, &w);
		else if (!shared && wild)
			emit_listed(c, true, lw.code, lw_txt, lw_len);
	}
}

/* Renders the shared names a pass touched (and the region's ancestors), depth first. */
static void collide_at(rd_ctx *c, unsigned *dig, unsigned d)
{
	for (unsigned v = 0; v <= 9 && c->rc == 0; v++) {
		dig[d - 1] = v;
		unsigned fl = c->shared[digits_index(dig, d)];
		if (fl == 0)
			continue;
		if (fl & SH_TOUCHED)
			shared_own(c, dig, d);
		if (d == 3)
			shared_loop(c, dig);
		else
			collide_at(c, dig, d + 1);
	}
}

/* ---------------------------------------------------------------- whole zone and regions */

/* Renders every record at or below node (t, node); the apex when node is NULL. */
static int render_under(rd_ctx *c, const tree *t, const addr_pfx *node)
{
	static const addr_pfx all6 = { .len = 0 };
	static const addr_pfx all4 = { .a = { [10] = 0xff, [11] = 0xff }, .len = 96 };
	unsigned dig[4], d = node ? depth_of(t, node->len) : 0;
	addr_pfx other;

	memset(c->shared, 0, sizeof c->shared);
	memset(c->force4, 0, sizeof c->force4);
	c->under = NULL;
	if (node == NULL) {
		if (run_pass(c, &t_nib, &all6) == 0 && run_pass(c, &t_v4, &all4) == 0)
			collide_at(c, dig, 1);
		return c->rc;
	}
	owner_build(c, t, node->a, d);
	unsigned under_len = c->owner_len;
	memcpy(c->under_buf, c->owner + WILD_ROOM, under_len);
	bool shared = all_digits(t, node->a, d);
	unsigned through = shared ? d - 1 : (t->v4 && d == 4 && all_digits(t, node->a, 3)) ? 3 : 0;
	digits_of(t, node->a, shared ? d : through, dig);
	if (shared)
		digits_node(t->v4 ? &t_nib : &t_v4, dig, d, &other);
	if (run_pass(c, t, node) == 0 && shared)
		run_pass(c, t->v4 ? &t_nib : &t_v4, &other);
	if (c->rc || (!shared && through == 0))
		return c->rc;
	for (unsigned k = 1; k <= through; k++)
		c->shared[digits_index(dig, k)] |= SH_THROUGH;
	c->under = c->under_buf;
	c->under_len = under_len;
	collide_at(c, dig, 1);
	return c->rc;
}

static rd_ctx *ctx_new(const rd_zone *z, store_reader *r, uint64_t now, rd_fn fn, void *arg)
{
	rd_ctx *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->z = z;
	c->r = r;
	c->now = now;
	c->fn = fn;
	c->arg = arg;
	return c;
}

static void ctx_free(rd_ctx *c)
{
	if (c == NULL)
		return;
	free(c->xs);
	free(c);
}

static void emit_ns(rd_ctx *c)
{
	for (unsigned i = 0; i < c->z->n_ns; i++)
		emit(c, c->z->apex, c->z->apex_len, T_NS, c->z->ns_ttl, c->z->ns[i],
		     (uint16_t)c->z->ns_len[i]);
}

int rd_render(const rd_zone *z, store_reader *r, uint64_t now, rd_fn fn, void *arg)
{
	uint8_t soa[sizeof z->soa];
	rd_ctx *c = ctx_new(z, r, now, fn, arg);

	if (c == NULL)
		return V6R_ENOMEM;
	memcpy(soa, z->soa, z->soa_len);
	wr32(soa + z->soa_serial_off, store_reader_serial(r));
	emit(c, z->apex, z->apex_len, T_SOA, z->soa_ttl, soa, (uint16_t)z->soa_len);
	emit_ns(c);
	if (c->rc == 0)
		render_under(c, NULL, NULL);
	int rc = c->rc;
	ctx_free(c);
	return rc;
}

/* Whether node (t, n) lies at or below node (u, m) as a name. */
static bool name_below(rd_ctx *c, const tree *t, const addr_pfx *n, const tree *u,
                       const addr_pfx *m)
{
	uint8_t a[256];
	owner_build(c, u, m->a, depth_of(u, m->len));
	unsigned alen = c->owner_len;
	memcpy(a, c->owner + WILD_ROOM, alen);
	owner_build(c, t, n->a, depth_of(t, n->len));
	const uint8_t *under = c->under;
	unsigned under_len = c->under_len;
	c->under = a;
	c->under_len = alen;
	bool below = owner_under(c);
	c->under = under;
	c->under_len = under_len;
	return below;
}

int rd_render_region(const rd_zone *z, store_reader *r, uint64_t now, const addr_pfx *region,
                     rd_fn fn, void *arg)
{
	static const addr_pfx v4space = { .a = { [10] = 0xff, [11] = 0xff }, .len = 96 };
	addr_pfx n6 = *region, n4 = *region;
	bool v4 = region->len >= 96 && addr_pfx_within(region, &v4space);
	rd_ctx *c = ctx_new(z, r, now, fn, arg);

	if (c == NULL)
		return V6R_ENOMEM;
	n6.len = (uint8_t)(region->len / 4 * 4);
	addr_mask(n6.a, n6.len);
	n4.len = (uint8_t)(v4 ? 96 + (region->len - 96) / 8 * 8 : 96);
	addr_mask(n4.a, n4.len);
	if (n6.len == 0 || (v4 && n4.len == 96)) {
		emit_ns(c);
		if (c->rc == 0)
			render_under(c, NULL, NULL);
	} else {
		if (!v4 || !name_below(c, &t_nib, &n6, &t_v4, &n4))
			render_under(c, &t_nib, &n6);
		if (v4 && c->rc == 0)
			render_under(c, &t_v4, &n4);
	}
	int rc = c->rc;
	ctx_free(c);
	return rc;
}

/* ---------------------------------------------------------------- master-file text */

typedef struct out {
	char *p;
	size_t cap, len;
	bool full;
} out;

static void put(out *o, const char *s, size_t n)
{
	if (o->full || n >= o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void putf(out *o, const char *fmt, unsigned long v)
{
	char buf[32];
	int n = snprintf(buf, sizeof buf, fmt, v);
	put(o, buf, (size_t)n);
}

static void put_dec(out *o, unsigned long v)
{
	char buf[24];
	size_t i = sizeof buf;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, buf + i, sizeof buf - i);
}

/*
 * One byte of a name or quoted string: printable ASCII as is, the special characters escaped
 * with a backslash, the rest as \DDD (a blank too, except inside quotes).
 */
static void put_byte(out *o, uint8_t ch, const char *special)
{
	bool quoted = special[0] == '"';
	if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '*' ||
	    (ch >= 'A' && ch <= 'Z') || (quoted && ch == ' ')) {
		if (o->len + 1 < o->cap)
			o->p[o->len++] = (char)ch;
		else
			o->full = true;
		return;
	}
	if (ch < (quoted ? 0x20 : 0x21) || ch > 0x7e) {
		putf(o, "\\%03lu", ch);
	} else if (strchr(special, ch) != NULL) {
		char e[2] = { '\\', (char)ch };
		put(o, e, 2);
	} else {
		put(o, (const char *)&ch, 1);
	}
}

static bool name_plain(uint8_t ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '*' ||
	       (ch >= 'A' && ch <= 'Z');
}

/* Writes the name at p (wire form, no compression, within max); returns its wire length. */
static size_t put_name(out *o, const uint8_t *p, size_t max)
{
	size_t i = 0;
	if (max == 0 || p[0] == 0) {
		put(o, ".", 1);
		return max ? 1 : 0;
	}
	while (i < max && p[i] != 0) {
		unsigned l = p[i++];
		for (unsigned k = 0; k < l && i < max; k++) {
			uint8_t ch = p[i++];
			if (name_plain(ch) && o->len + 1 < o->cap)
				o->p[o->len++] = (char)ch;
			else
				put_byte(o, ch, ".;\\\"()@$");
		}
		put(o, ".", 1);
	}
	return i < max ? i + 1 : i;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_rdata(out *o, const rd_rr *rr)
{
	const uint8_t *d = rr->rdata;
	size_t n = rr->rdlen, i = 0;

	if (rr->type == T_A && n == 4) {
		for (i = 0; i < 4; i++) {
			if (i)
				put(o, ".", 1);
			put_dec(o, d[i]);
		}
	} else if (rr->type == T_NS) {
		put_name(o, d, n);
	} else if (rr->type == T_SOA) {
		i = put_name(o, d, n);
		put(o, " ", 1);
		i += put_name(o, d + i, n - i);
		for (unsigned k = 0; k < 5 && i + 4 <= n; k++, i += 4)
			putf(o, " %lu", rd32(d + i));
	} else if (rr->type == T_TXT) {
		while (i < n) {
			size_t l = d[i++];
			put(o, i > 1 ? " \"" : "\"", i > 1 ? 2 : 1);
			for (size_t k = 0; k < l && i < n; k++)
				put_byte(o, d[i++], "\"\\");
			put(o, "\"", 1);
		}
	} else {
		putf(o, "\\# %lu", n);
		if (n)
			put(o, " ", 1);
		for (i = 0; i < n; i++)
			putf(o, "%02lx", d[i]);
	}
}

int rd_rr_text(const rd_rr *rr, char *buf, size_t cap)
{
	out o = { buf, cap, 0, cap == 0 };
	static const struct { uint16_t type; const char *name; } names[] = {
		{ T_A, "A" }, { T_NS, "NS" }, { T_SOA, "SOA" }, { T_TXT, "TXT" },
	};

	put_name(&o, rr->owner, rr->owner_len);
	put(&o, " ", 1);
	put_dec(&o, rr->ttl);
	put(&o, " IN ", 4);
	const char *tn = NULL;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].type == rr->type)
			tn = names[i].name;
	if (tn)
		put(&o, tn, strlen(tn));
	else
		putf(&o, "TYPE%lu", rr->type);
	put(&o, " ", 1);
	put_rdata(&o, rr);
	put(&o, "\n", 1);
	if (o.full)
		return V6R_ESPACE;
	buf[o.len] = '\0';
	return (int)o.len;
}
