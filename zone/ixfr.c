/* ixfr.c: the record-level difference between an older serial and a store snapshot (RFC 1995). */
#include "ixfr.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"

#define IX_SCRATCH_MAP ((size_t)64 << 20)   /* grown by the store when full */

/* A growable byte arena; users keep offsets, since growing moves it. */
typedef struct ix_buf {
	uint8_t *p;
	size_t len, cap;
} ix_buf;

/* Records: each at off[i] in data as [owner len u8][owner][type u16][ttl u32][rdlen u16][rdata]. */
typedef struct ix_rrs {
	ix_buf data;
	size_t *off;
	size_t n, cap;
} ix_rrs;

struct ix_diff {
	ix_rrs del, add;
	size_t n_changes, n_regions;
};

/* One journal change, with the reasons copied (offsets into ix_work.reasons). */
typedef struct ix_chg {
	addr_pfx pfx;
	bool ho, hc;
	store_entry o, c;
	size_t oreason, creason;
} ix_chg;

typedef struct ix_work {
	const rd_zone *z;
	store_reader *r;
	const ix_limits *lim;
	ix_chg *chg;
	size_t n_chg, cap_chg;
	ix_buf reasons;
	addr_pfx *reg;
	size_t n_reg;
	size_t budget;              /* entries copied and records rendered so far */
	char dir[PATH_MAX];         /* scratch directory ("" until made) */
	store *scratch[2];          /* [0] the snapshot's entries, [1] the same at `from` */
	char *err;
	size_t errlen;
} ix_work;

static int ix_fail(ix_work *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ix_fail(ix_work *w, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (w->errlen)
		vsnprintf(w->err, w->errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- arenas and record lists ---- */

static int buf_room(ix_buf *b, size_t n)
{
	if (b->cap - b->len >= n)
		return 0;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < n)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (!p)
		return V6R_ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static int buf_add(ix_buf *b, const void *data, size_t n, size_t *off)
{
	if (buf_room(b, n))
		return V6R_ENOMEM;
	*off = b->len;
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	return 0;
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static unsigned get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static int rrs_add(ix_rrs *l, const rd_rr *rr)
{
	size_t need = 1u + rr->owner_len + 8u + rr->rdlen, off;
	if (rr->owner_len == 0 || rr->owner_len > 255)
		return V6R_EINVAL;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 256;
		size_t *o = realloc(l->off, cap * sizeof(*o));
		if (!o)
			return V6R_ENOMEM;
		l->off = o;
		l->cap = cap;
	}
	if (buf_room(&l->data, need))
		return V6R_ENOMEM;
	off = l->data.len;
	uint8_t *p = l->data.p + off;
	p[0] = (uint8_t)rr->owner_len;
	memcpy(p + 1, rr->owner, rr->owner_len);
	p += 1 + rr->owner_len;
	put16(p, rr->type);
	p[2] = (uint8_t)(rr->ttl >> 24);
	p[3] = (uint8_t)(rr->ttl >> 16);
	p[4] = (uint8_t)(rr->ttl >> 8);
	p[5] = (uint8_t)rr->ttl;
	put16(p + 6, rr->rdlen);
	if (rr->rdlen)
		memcpy(p + 8, rr->rdata, rr->rdlen);
	l->data.len += need;
	l->off[l->n++] = off;
	return 0;
}

static void rrs_decode(const uint8_t *p, rd_rr *rr)
{
	rr->owner_len = p[0];
	rr->owner = p + 1;
	p += 1 + rr->owner_len;
	rr->type = (uint16_t)get16(p);
	rr->ttl = (uint32_t)p[2] << 24 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 8 | p[5];
	rr->rdlen = (uint16_t)get16(p + 6);
	rr->rdata = p + 8;
}

static void rrs_free(ix_rrs *l)
{
	free(l->data.p);
	free(l->off);
	memset(l, 0, sizeof(*l));
}

/* Order: owner bytes (lower case already), type, rdata, ttl. */
static int rr_cmp(const uint8_t *a, const uint8_t *b)
{
	rd_rr x, y;
	rrs_decode(a, &x);
	rrs_decode(b, &y);
	unsigned n = x.owner_len < y.owner_len ? x.owner_len : y.owner_len;
	int c = memcmp(x.owner, y.owner, n);
	if (c || x.owner_len != y.owner_len)
		return c ? c : (x.owner_len < y.owner_len ? -1 : 1);
	if (x.type != y.type)
		return x.type < y.type ? -1 : 1;
	n = x.rdlen < y.rdlen ? x.rdlen : y.rdlen;
	c = n ? memcmp(x.rdata, y.rdata, n) : 0;
	if (c || x.rdlen != y.rdlen)
		return c ? c : (x.rdlen < y.rdlen ? -1 : 1);
	return x.ttl < y.ttl ? -1 : x.ttl > y.ttl;
}

static int off_cmp(const void *a, const void *b, void *arg)
{
	const uint8_t *base = arg;
	return rr_cmp(base + *(const size_t *)a, base + *(const size_t *)b);
}

/* Sorts the records and drops repeats (a record rendered by two overlapping regions). */
static void rrs_sort(ix_rrs *l)
{
	if (l->n < 2)
		return;
	qsort_r(l->off, l->n, sizeof(*l->off), off_cmp, l->data.p);
	size_t n = 1;
	for (size_t i = 1; i < l->n; i++)
		if (rr_cmp(l->data.p + l->off[n - 1], l->data.p + l->off[i]) != 0)
			l->off[n++] = l->off[i];
	l->n = n;
}

/* ---- the journal's changes ---- */

static int copy_entry(ix_work *w, const store_entry *e, store_entry *out, size_t *roff)
{
	*out = *e;
	out->reason = NULL;
	return buf_add(&w->reasons, e->reason, e->reason_len, roff);
}

static int collect_change(const store_change *c, void *arg)
{
	ix_work *w = arg;
	if (w->n_chg >= w->lim->max_changes)
		return V6R_ERANGE;
	if (w->n_chg == w->cap_chg) {
		size_t cap = w->cap_chg ? 2 * w->cap_chg : 64;
		ix_chg *p = realloc(w->chg, cap * sizeof(*p));
		if (!p)
			return V6R_ENOMEM;
		w->chg = p;
		w->cap_chg = cap;
	}
	ix_chg *x = &w->chg[w->n_chg];
	memset(x, 0, sizeof(*x));
	x->pfx = c->pfx;
	x->ho = c->old != NULL;
	x->hc = c->cur != NULL;
	int rc = 0;
	if (x->ho)
		rc = copy_entry(w, c->old, &x->o, &x->oreason);
	if (rc == 0 && x->hc)
		rc = copy_entry(w, c->cur, &x->c, &x->creason);
	if (rc == 0)
		w->n_chg++;
	return rc;
}

/* Points the copied entries at their reasons, once the arena no longer moves. */
static void fix_reasons(ix_work *w)
{
	const char *base = w->reasons.p ? (const char *)w->reasons.p : "";
	for (size_t i = 0; i < w->n_chg; i++) {
		ix_chg *x = &w->chg[i];
		x->o.reason = base + x->oreason;
		x->c.reason = base + x->creason;
	}
}

/* ---- regions ---- */

/* The longest listing strictly covering p with length >= minlen: 1 with *out, 0 when none,
 * or an error. */
static int covering_listing(store_reader *r, const addr_pfx *p, unsigned minlen, addr_pfx *out)
{
	int maxlen = (int)p->len - 1;
	for (unsigned guard = 0; maxlen >= 0 && guard <= 129; guard++) {
		store_entry e;
		if (maxlen < (int)minlen)
			return 0;
		int rc = store_lpm(r, p->a, minlen, (unsigned)maxlen, 0, &e);
		if (rc == V6R_ENOTFOUND)
			return 0;
		if (rc)
			return rc;
		if (e.kind == STORE_LISTING) {
			*out = e.pfx;
			return 1;
		}
		maxlen = (int)e.pfx.len - 1;
	}
	return 0;
}

static bool is_v4mapped(const uint8_t a[16])
{
	static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, pre, 12) == 0;
}

/* Rounds a region down to the node that holds it: an octet node inside ::ffff:0:0/96, a nibble
 * node elsewhere (rounding down only widens the region, which is always safe). */
static void region_align(addr_pfx *p)
{
	if (p->len >= 96 && is_v4mapped(p->a))
		p->len = (uint8_t)(96 + (p->len - 96) / 8 * 8);
	else
		p->len = (uint8_t)(p->len & ~3u);
	addr_mask(p->a, p->len);
}

static int pfx_cmp(const void *a, const void *b)
{
	const addr_pfx *x = a, *y = b;
	int c = memcmp(x->a, y->a, 16);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static bool v4_region(const addr_pfx *p)
{
	return p->len >= 96 && is_v4mapped(p->a);
}

/* Whether rendering outer covers every record of inner: nibble regions do not render the
 * octet tree, so an IPv4 region is only inside another IPv4 region. */
static bool pfx_contains(const addr_pfx *outer, const addr_pfx *inner)
{
	if (v4_region(inner) && !v4_region(outer))
		return false;
	return outer->len <= inner->len && addr_cpl(outer->a, inner->a) >= outer->len;
}

/*
 * Names of 1 to 4 single-digit labels are both nibble and octet names, and rd_render gives
 * them records that depend on entries of both trees (render.h). A region that may hold such
 * names (an IPv6 node of 4 labels or fewer, an IPv4 node whose labels are all single digits)
 * is not computed: the difference is refused (V6R_ERANGE) and the whole zone is sent.
 */
static bool touches_shared(const addr_pfx *p)
{
	if (!v4_region(p))
		return p->len <= 16;
	for (unsigned i = 0; i < (p->len - 96u) / 8u; i++)
		if (p->a[12 + i] > 9)
			return false;
	return true;
}

/* The region of one change at p: the node of the longest listing strictly covering it, or p's
 * own node; an IPv4 change below an IPv6 listing shorter than /96 has a nibble region too. */
static int change_regions(ix_work *w, const addr_pfx *p, addr_pfx reg[2], unsigned *n)
{
	bool v4 = v4_region(p);
	addr_pfx cov;
	int rc = covering_listing(w->r, p, v4 ? 96 : 0, &cov);
	if (rc < 0)
		return rc;
	reg[0] = rc ? cov : *p;
	*n = 1;
	if (v4 && p->len > 0) {
		addr_pfx q = *p;
		q.len = 96;
		if ((rc = covering_listing(w->r, &q, 0, &cov)) < 0)
			return rc;
		if (rc)
			reg[(*n)++] = cov;
	}
	for (unsigned i = 0; i < *n; i++) {
		region_align(&reg[i]);
		if (touches_shared(&reg[i]))
			return V6R_ERANGE;
	}
	return 0;
}

/*
 * One or two regions per change, then sorted; a region inside one already kept is dropped. In
 * key order a region inside another follows it, after only regions inside it too, so the scan
 * back stops at the first kept region that does not share its prefix. (IPv4 regions kept inside
 * a nibble region can make a region kept twice; the renderings are deduplicated.)
 */
static int make_regions(ix_work *w)
{
	size_t m = 0;
	w->reg = malloc((w->n_chg ? 2 * w->n_chg : 1) * sizeof(*w->reg));
	if (!w->reg)
		return V6R_ENOMEM;
	for (size_t i = 0; i < w->n_chg; i++) {
		unsigned k;
		int rc = change_regions(w, &w->chg[i].pfx, w->reg + m, &k);
		if (rc)
			return rc;
		m += k;
	}
	qsort(w->reg, m, sizeof(*w->reg), pfx_cmp);
	size_t n = 0;
	for (size_t i = 0; i < m; i++) {
		bool inside = false;
		for (size_t j = n; j-- > 0 && !inside;) {
			if (addr_cpl(w->reg[j].a, w->reg[i].a) < w->reg[j].len)
				break;     /* sorted: no earlier region contains this one */
			inside = pfx_contains(&w->reg[j], &w->reg[i]);
		}
		if (!inside)
			w->reg[n++] = w->reg[i];
	}
	w->n_reg = n;
	return 0;
}

/* ---- scratch stores ---- */

typedef struct ix_fill {
	ix_work *w;
	store_txn *t;
	bool revert;
	size_t copied;
} ix_fill;

static int fill_put(const store_entry *e, void *arg)
{
	ix_fill *f = arg;
	if (f->w->budget + ++f->copied > f->w->lim->max_records)
		return V6R_ERANGE;
	return store_put(f->t, e);
}

/* Copies the entries covering region p (longest first, one probe per entry). */
static int fill_covering(ix_fill *f, const addr_pfx *p)
{
	int maxlen = (int)p->len - 1;
	for (unsigned guard = 0; maxlen >= 0 && guard <= 129; guard++) {
		store_entry e;
		int rc = store_lpm(f->w->r, p->a, 0, (unsigned)maxlen, 0, &e);
		if (rc == V6R_ENOTFOUND)
			return 0;
		if (rc == 0)
			rc = fill_put(&e, f);
		if (rc)
			return rc;
		maxlen = (int)e.pfx.len - 1;
	}
	return 0;
}

/* Undoes the journal's changes, newest first: the entries as they were at `from`. */
static int fill_revert(ix_fill *f)
{
	for (size_t i = f->w->n_chg; i-- > 0;) {
		const ix_chg *x = &f->w->chg[i];
		int rc = x->ho ? store_put(f->t, &x->o) : store_del(f->t, &x->pfx);
		if (rc && rc != V6R_ENOTFOUND)
			return rc;
	}
	return 0;
}

/* store_write callback (restartable): the regions' deciding entries, reverted for `old`. */
static int fill_fn(store_txn *t, void *arg)
{
	ix_fill *f = arg;
	f->t = t;
	f->copied = 0;
	for (size_t i = 0; i < f->w->n_reg; i++) {
		const addr_pfx *p = &f->w->reg[i];
		int rc = store_reader_walk_within(f->w->r, STORE_LISTING, p, fill_put, f);
		if (rc == 0)
			rc = store_reader_walk_within(f->w->r, STORE_EXCLUSION, p, fill_put, f);
		if (rc == 0)
			rc = fill_covering(f, p);
		if (rc)
			return rc;
	}
	return f->revert ? fill_revert(f) : 0;
}

static void scratch_remove(ix_work *w)
{
	static const char *const sub[2] = { "new", "old" };
	static const char *const files[2] = { "data.mdb", "lock.mdb" };
	char path[PATH_MAX + 32];
	for (unsigned s = 0; s < 2; s++) {
		store_close(w->scratch[s]);
		w->scratch[s] = NULL;
		if (!w->dir[0])
			continue;
		for (unsigned f = 0; f < 2; f++) {
			snprintf(path, sizeof(path), "%s/%s/%s", w->dir, sub[s], files[f]);
			unlink(path);
		}
		snprintf(path, sizeof(path), "%s/%s", w->dir, sub[s]);
		rmdir(path);
	}
	if (w->dir[0])
		rmdir(w->dir);
	w->dir[0] = '\0';
}

static int scratch_make(ix_work *w)
{
	static const char *const sub[2] = { "new", "old" };
	const char *tmp = w->lim->tmpdir && w->lim->tmpdir[0] ? w->lim->tmpdir : getenv("TMPDIR");
	char path[PATH_MAX + 32];
	if (!tmp || !tmp[0])
		tmp = "/tmp";
	if (snprintf(w->dir, sizeof(w->dir), "%s/v6rep-ixfr.XXXXXX", tmp) >= (int)sizeof(w->dir) ||
	    !mkdtemp(w->dir)) {
		int e = errno;
		w->dir[0] = '\0';
		return ix_fail(w, V6R_EIO, "failed to make scratch directory in %s (%s)", tmp,
		               strerror(e));
	}
	for (unsigned s = 0; s < 2; s++) {
		snprintf(path, sizeof(path), "%s/%s", w->dir, sub[s]);
		int rc = store_open(&w->scratch[s], path, STORE_NOSYNC, IX_SCRATCH_MAP);
		if (rc)
			return ix_fail(w, rc, "%s", store_open_error());
		store_set_journal_limit(w->scratch[s], 0);
		ix_fill f = { .w = w, .revert = s == 1 };
		rc = store_write(w->scratch[s], fill_fn, &f);
		if (rc)
			return ix_fail(w, rc, "failed to fill scratch store (%s%s%s)", v6r_strerror(rc),
			               rc == V6R_ERANGE ? "" : ": ",
			               rc == V6R_ERANGE ? "" : store_lasterr(w->scratch[s]));
		w->budget += f.copied;
	}
	return 0;
}

/* ---- rendering and comparing ---- */

typedef struct ix_collect {
	ix_work *w;
	ix_rrs *l;
} ix_collect;

static int collect_rr(const rd_rr *rr, void *arg)
{
	ix_collect *c = arg;
	if (++c->w->budget > c->w->lim->max_records)
		return V6R_ERANGE;
	return rrs_add(c->l, rr);
}

static int render_regions(ix_work *w, store *st, ix_rrs *l)
{
	store_reader *rd;
	int rc = store_reader_new(st, &rd);
	if (rc)
		return rc;
	rc = store_reader_begin(rd);
	ix_collect c = { w, l };
	for (size_t i = 0; rc == 0 && i < w->n_reg; i++)
		rc = rd_render_region(w->z, rd, 0, &w->reg[i], collect_rr, &c);
	store_reader_end(rd);
	store_reader_free(rd);
	if (rc == 0)
		rrs_sort(l);
	return rc;
}

static int copy_rr(ix_rrs *to, const ix_rrs *from, size_t i)
{
	rd_rr rr;
	rrs_decode(from->data.p + from->off[i], &rr);
	return rrs_add(to, &rr);
}

/* Merges the sorted renderings: only in old = deleted, only in new = added. */
static int compare(const ix_rrs *old, const ix_rrs *cur, ix_diff *d)
{
	size_t i = 0, j = 0;
	int rc = 0;
	while (rc == 0 && (i < old->n || j < cur->n)) {
		int c = i == old->n ? 1 : j == cur->n ? -1 :
		        rr_cmp(old->data.p + old->off[i], cur->data.p + cur->off[j]);
		if (c < 0)
			rc = copy_rr(&d->del, old, i++);
		else if (c > 0)
			rc = copy_rr(&d->add, cur, j++);
		else
			i++, j++;
	}
	return rc;
}

static int diff_regions(ix_work *w, ix_diff *d)
{
	ix_rrs old = { 0 }, cur = { 0 };
	int rc = render_regions(w, w->scratch[0], &cur);
	if (rc == 0)
		rc = render_regions(w, w->scratch[1], &old);
	if (rc == 0)
		rc = compare(&old, &cur, d);
	rrs_free(&old);
	rrs_free(&cur);
	return rc;
}

/* ---- the whole computation ---- */

static void work_free(ix_work *w)
{
	scratch_remove(w);
	free(w->chg);
	free(w->reasons.p);
	free(w->reg);
}

static int compute(ix_work *w, uint32_t from, ix_diff *d)
{
	int rc = store_journal_since(w->r, from, collect_change, w);
	if (rc == V6R_ENOTFOUND)
		return ix_fail(w, rc, "journal does not reach back to serial %u", from);
	if (rc == V6R_ERANGE)
		return ix_fail(w, rc, "more than %zu changes since serial %u", w->lim->max_changes, from);
	if (rc)
		return ix_fail(w, rc, "failed to read journal (%s)", v6r_strerror(rc));
	fix_reasons(w);
	d->n_changes = w->n_chg;
	if (w->n_chg == 0)
		return 0;
	if ((rc = make_regions(w)) == V6R_ERANGE)
		return ix_fail(w, rc, "a change touches the names shared by the IPv4 and IPv6 trees");
	if (rc)
		return ix_fail(w, rc, "failed to find changed regions (%s)", v6r_strerror(rc));
	d->n_regions = w->n_reg;
	if ((rc = scratch_make(w)) != 0)
		return rc;
	rc = diff_regions(w, d);
	if (rc == V6R_ERANGE)
		return ix_fail(w, rc, "difference over %zu records", w->lim->max_records);
	if (rc)
		return ix_fail(w, rc, "failed to render changed regions (%s)", v6r_strerror(rc));
	return 0;
}

int ix_diff_compute(const rd_zone *z, store_reader *r, uint32_t from, const ix_limits *lim,
                    ix_diff **out, char *err, size_t errlen)
{
	ix_work w = { .z = z, .r = r, .lim = lim, .err = err, .errlen = errlen };
	ix_diff *d = calloc(1, sizeof(*d));
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!d)
		return ix_fail(&w, V6R_ENOMEM, "out of memory");
	int rc = compute(&w, from, d);
	work_free(&w);
	if (rc) {
		ix_diff_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

size_t ix_diff_count(const ix_diff *d, bool added)
{
	return added ? d->add.n : d->del.n;
}

void ix_diff_get(const ix_diff *d, bool added, size_t i, rd_rr *rr)
{
	const ix_rrs *l = added ? &d->add : &d->del;
	rrs_decode(l->data.p + l->off[i], rr);
}

size_t ix_diff_changes(const ix_diff *d)
{
	return d->n_changes;
}

size_t ix_diff_regions(const ix_diff *d)
{
	return d->n_regions;
}

void ix_diff_free(ix_diff *d)
{
	if (!d)
		return;
	rrs_free(&d->del);
	rrs_free(&d->add);
	free(d);
}
