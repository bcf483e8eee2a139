/* assoc.c: the association of IPv6 sensor attempts with DNSBL-rejected IPv4 addresses. */
#include "assoc.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"
#include "../zone/evid.h"
#include "addrtype.h"

#define SEC 1000000ull
#define REJ_RING AS_REJ_RING
#define NAT_SLOTS 8
#define REJ_SAME_US (2 * SEC)   /* log lines of one rejection */
#define NAT_DOMINANT_MIN 3      /* ties a host behind a shared IPv4 needs to be its sender */

typedef struct rej_hist {
	as_rej_rec r;            /* the last REJ_RING rejections are in r.t/r.port[(count-1) % REJ_RING] */
	uint8_t dirty;           /* changed since the last as_rej_clean */
} rej_hist;

typedef struct nat_host {
	uint8_t src[16];
	uint64_t first_us, last_us;
	uint16_t ties;               /* convicting ties with a chain: the dominance count */
	uint16_t conv;               /* convicting ties of any kind (0: only pairs that convict nobody) */
} nat_host;

typedef struct nat_hist {
	uint64_t last_us;
	uint8_t n;
	uint8_t shared;              /* revoked once: later ties need host-specific evidence */
	uint8_t dirty;               /* changed since as_rej_clean (not persisted) */
	nat_host host[NAT_SLOTS];    /* IPv6 sources tied to this IPv4 by timing */
} nat_hist;

_Static_assert(sizeof(nat_hist) == AS_NAT_REC, "AS_NAT_REC is the size of a NAT history record");

void as_cfg_defaults(as_cfg *c)
{
	c->pair_us = 30 * SEC;
	c->chain_us = 300 * SEC;
	c->reject_us = 86400 * SEC;
	c->min_score = 60;
	c->port_gap = 16;
	c->nat_max = 2;
}

int as_init(as_ctx *c, const as_cfg *cfg, uint64_t att_window_us, as_verdict_fn fn, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->on_verdict = fn;
	c->arg = arg;
	c->delay_us = cfg->pair_us + att_window_us + 5 * SEC;
	c->v4w.size = sizeof(att);
	c->v4w.toff = offsetof(att, first_us);
	c->v6w.size = sizeof(as_seen);
	c->v6w.toff = offsetof(as_seen, t);
	c->rw.size = sizeof(as_reject_ev);
	c->rw.toff = offsetof(as_reject_ev, t);
	if (ht_init(&c->rej, 4, sizeof(rej_hist), 1024) || ht_init(&c->nat, 4, sizeof(nat_hist), 256)) {
		as_free(c);
		return V6R_ENOMEM;
	}
	return 0;
}

void as_free(as_ctx *c)
{
	ht_free(&c->rej);
	ht_free(&c->nat);
	free(c->v4w.buf);
	free(c->v6w.buf);
	free(c->rw.buf);
	free(c->v6q);
	free(c->dirty);
	free(c->gone);
	free(c->nat_dirty);
	free(c->nat_gone);
	c->gone = c->nat_dirty = c->nat_gone = NULL;
	c->v4w.buf = c->v6w.buf = c->rw.buf = NULL;
	c->v6q = NULL;
	c->dirty = NULL;
}

/* ---- Growable FIFOs ---- */

static int fifo_push(void **buf, size_t *head, size_t *len, size_t *cap, size_t size, const void *item)
{
	if (*len == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		uint8_t *nb = malloc(ncap * size);
		if (!nb)
			return V6R_ENOMEM;
		for (size_t i = 0; i < *len; i++)
			memcpy(nb + i * size, (uint8_t *)*buf + ((*head + i) % *cap) * size, size);
		free(*buf);
		*buf = nb;
		*cap = ncap;
		*head = 0;
	}
	memcpy((uint8_t *)*buf + ((*head + *len) % *cap) * size, item, size);
	(*len)++;
	return 0;
}

#define FIFO_AT(q, head, cap, i) (&(q)[((head) + (i)) % (cap)])

/* ---- Time windows ---- */

static void *win_at(const as_win *w, size_t i)
{
	return w->buf + i * w->size;
}

static uint64_t win_t(const as_win *w, size_t i)
{
	uint64_t t;
	memcpy(&t, w->buf + i * w->size + w->toff, sizeof(t));
	return t;
}

/* Room for one more item at hi: compact when the front half is free, else grow. */
static int win_room(as_win *w)
{
	if (w->hi < w->cap)
		return 0;
	if (w->lo >= w->cap / 2 && w->lo > 0) {
		memmove(w->buf, win_at(w, w->lo), (w->hi - w->lo) * w->size);
		w->hi -= w->lo;
		w->lo = 0;
		return 0;
	}
	size_t ncap = w->cap ? w->cap * 2 : 256;
	uint8_t *nb = realloc(w->buf, ncap * w->size);
	if (!nb)
		return V6R_ENOMEM;
	w->buf = nb;
	w->cap = ncap;
	return 0;
}

/* Appends item without ordering it (loading; win_sort follows). */
static int win_append(as_win *w, const void *item)
{
	if (win_room(w))
		return V6R_ENOMEM;
	memcpy(win_at(w, w->hi++), item, w->size);
	return 0;
}

/* Inserts item at its place in time order, searching from the back (items come nearly in order). */
static int win_insert(as_win *w, const void *item)
{
	uint64_t t;
	memcpy(&t, (const uint8_t *)item + w->toff, sizeof(t));
	if (win_room(w))
		return V6R_ENOMEM;
	size_t i = w->hi;
	while (i > w->lo && win_t(w, i - 1) > t)
		i--;
	memmove(win_at(w, i + 1), win_at(w, i), (w->hi - i) * w->size);
	memcpy(win_at(w, i), item, w->size);
	w->hi++;
	return 0;
}

/* Index of the first item with time >= t (hi when none). */
static size_t win_lower(const as_win *w, uint64_t t)
{
	size_t a = w->lo, b = w->hi;
	while (a < b) {
		size_t m = a + (b - a) / 2;
		if (win_t(w, m) < t)
			a = m + 1;
		else
			b = m;
	}
	return a;
}

static int win_cmp(const void *x, const void *y, void *arg)
{
	size_t toff = *(const size_t *)arg;
	uint64_t a, b;
	memcpy(&a, (const uint8_t *)x + toff, sizeof(a));
	memcpy(&b, (const uint8_t *)y + toff, sizeof(b));
	return a < b ? -1 : a > b;
}

static void win_sort(as_win *w)
{
	if (w->hi > w->lo)
		qsort_r(win_at(w, w->lo), w->hi - w->lo, w->size, win_cmp, &w->toff);
}

/* ---- Rejections ---- */

static const rej_hist *rej_get(const as_ctx *c, const uint8_t v4[4], uint64_t at_us)
{
	const rej_hist *h = ht_get(&c->rej, v4);
	if (!h || h->r.last_us + c->cfg.reject_us < at_us)
		return NULL;
	return h;
}

bool as_rejected(const as_ctx *c, const uint8_t v4[4], uint64_t at_us, uint32_t *count)
{
	const rej_hist *h = rej_get(c, v4, at_us);
	if (h && count)
		*count = h->r.count;
	return h != NULL;
}

static int key_push(uint32_t **v, size_t *n, size_t *cap, const uint8_t v4[4])
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 1024;
		uint32_t *nv = realloc(*v, ncap * sizeof(*nv));
		if (!nv)
			return V6R_ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	memcpy(&(*v)[(*n)++], v4, 4);
	return 0;
}

/* Remembers that the history of v4 changed since the last as_rej_clean. */
static int mark_dirty(as_ctx *c, rej_hist *h, const uint8_t v4[4])
{
	if (h->dirty)
		return 0;
	h->dirty = 1;
	return key_push(&c->dirty, &c->n_dirty, &c->dirty_cap, v4);
}

int as_reject(as_ctx *c, const ev_reject *r)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	c->rejects++;
	if (memcmp(r->addr, mapped, 12) != 0) {
		c->rejects_v6++;
		return 0;
	}
	bool created;
	rej_hist *h = ht_put(&c->rej, r->addr + 12, &created);
	if (!h)
		return V6R_ENOMEM;
	/* One blocked client can be logged several times (postscreen: dnsblog, "DNSBL rank" and
	 * the enforce-mode reject): lines this close are one rejection; keep a port if one has it. */
	if (!created && h->r.count) {
		unsigned last = (h->r.count - 1) % REJ_RING;
		uint64_t lt = h->r.t[last];
		if ((r->t_us > lt ? r->t_us - lt : lt - r->t_us) <= REJ_SAME_US) {
			if (!h->r.port[last] && r->port) {
				h->r.port[last] = r->port;
				return mark_dirty(c, h, r->addr + 12);
			}
			return 0;
		}
	}
	if (r->t_us > h->r.last_us)
		h->r.last_us = r->t_us;
	h->r.t[h->r.count % REJ_RING] = r->t_us;
	h->r.port[h->r.count % REJ_RING] = r->port;
	h->r.count++;
	if (mark_dirty(c, h, r->addr + 12))
		return V6R_ENOMEM;
	as_reject_ev ev = { .port = r->port, .t = r->t_us };
	memcpy(ev.v4, r->addr + 12, 4);
	return win_insert(&c->rw, &ev);
}

/* ---- Scoring ---- */

typedef struct cand {
	uint8_t v4[4];
	int score;
	uint16_t features;
	bool rejected;
	uint32_t rejects;
} cand;

static bool port_seq(uint16_t p6, uint16_t p4, unsigned gap)
{
	unsigned d1 = (uint16_t)(p4 - p6), d2 = (uint16_t)(p6 - p4);
	return (d1 >= 1 && d1 <= gap) || (d2 >= 1 && d2 <= gap);
}

/* Adds the chain evidence of X's rejections shortly before t6 (with the logged port). */
static void score_chain(const as_ctx *c, const att *a6, cand *k)
{
	const rej_hist *h = ht_get(&c->rej, k->v4);
	if (!h)
		return;
	unsigned n = h->r.count < REJ_RING ? h->r.count : REJ_RING;
	for (unsigned i = 0; i < n; i++) {
		uint64_t tr = h->r.t[i];
		if (tr > a6->first_us || a6->first_us - tr > c->cfg.chain_us)
			continue;
		if (!(k->features & EVID_F_CHAIN)) {
			k->score += 40;
			k->features |= EVID_F_CHAIN;
		}
		if (h->r.port[i] && !(k->features & EVID_F_PORTSEQ) &&
		    port_seq(a6->sport, h->r.port[i], c->cfg.port_gap)) {
			k->score += 30;
			k->features |= EVID_F_PORTSEQ;
		}
	}
}

/* Adds the evidence of an IPv4 attempt b at the sensor near the IPv6 attempt a6. */
static void score_pair(const as_ctx *c, const att *a6, uint8_t kind, const att *b, cand *k)
{
	uint64_t gap = a6->first_us > b->first_us ? a6->first_us - b->first_us : b->first_us - a6->first_us;
	int s = 30 + (gap <= 5 * SEC ? 10 : 0);
	uint16_t f = EVID_F_PAIR;
	bool v6_first = a6->first_us <= b->first_us;
	if ((kind == AT_6TO4) != v6_first) {
		s += 10;
		f |= EVID_F_ORDER;
	}
	if (port_seq(a6->sport, b->sport, c->cfg.port_gap)) {
		s += 30;
		f |= EVID_F_PORTSEQ;
	}
	if (a6->os && b->os) {
		s += a6->os == b->os ? 10 : -100;
		f |= a6->os == b->os ? EVID_F_OS : 0;
	}
	if (s > k->score || !(k->features & EVID_F_PAIR)) {
		k->score = s;
		k->features = f;
	}
}

/* Offline enrichment: the same origin AS, and for a rejected X the PTR names (assoc.h). */
static void score_enrich(const as_ctx *c, const att *a6, cand *k)
{
	uint8_t v4m[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	memcpy(v4m + 12, k->v4, 4);
	if (en_same_asn(c->en, a6->src, v4m)) {
		k->score += 10;
		k->features |= EVID_F_ASN;
	}
	int ptr = k->rejected ? en_ptr_agree(c->en, a6->src, v4m) : 0;
	if (ptr > 0) {
		k->score += ptr == 2 ? 20 : 10;
		k->features |= EVID_F_PTR;
	}
}

static void finish_cand(const as_ctx *c, const att *a6, cand *k)
{
	const rej_hist *h = rej_get(c, k->v4, a6->first_us);
	k->rejected = h != NULL;
	k->rejects = h ? h->r.count : 0;
	if (k->rejected)
		score_chain(c, a6, k);
	if (c->en)
		score_enrich(c, a6, k);
}

static void consider(const cand *k, cand *best, cand *legit)
{
	if (k->rejected) {
		if (k->score > best->score)
			*best = *k;
	} else if (k->score > legit->score) {
		*legit = *k;
	}
}

/* Candidates from the address itself (standard and apparent embeddings). */
static void cands_embedded(const as_ctx *c, const att *a6, const at_info *ai, cand *best, cand *legit)
{
	static const uint16_t feat[] = { [AT_6TO4] = EVID_F_6TO4, [AT_TEREDO] = EVID_F_TEREDO,
	                                 [AT_ISATAP] = EVID_F_ISATAP, [AT_NAT64] = EVID_F_NAT64,
	                                 [AT_LOW32] = EVID_F_LOW32 };
	if (!ai->has_v4 || ai->kind == AT_MAPPED)
		return;
	cand k = { .score = ai->kind == AT_LOW32 ? 80 : 100, .features = feat[ai->kind] };
	memcpy(k.v4, ai->v4, 4);
	finish_cand(c, a6, &k);
	if (k.rejected)
		consider(&k, best, legit);
}

/*
 * One IPv4 attempt is the fallback of one connect() chain, so it pairs with the closest IPv6
 * attempt only, and a scanner's SYN that happens to fall near another host's fallback does not
 * borrow it. Another source's IPv6 attempt o (pending or decided recently) is closer to the IPv4
 * attempt b than a6 is when |o - b| < |a6 - b|: for b after a6 that is an o in (a6, 2b - a6), for
 * b before a6 an o in (2b - a6, a6). So the nearest other-source attempts on either side of a6,
 * found once, bound the IPv4 attempts that pair.
 */
typedef struct nbrs {
	bool has_prev, has_next;
	uint64_t prev, next;     /* first SYN times */
} nbrs;

static void v6_neighbours(const as_ctx *c, const att *a6, nbrs *n)
{
	const as_win *w = &c->v6w;
	size_t at = win_lower(w, a6->first_us), i;
	n->has_prev = n->has_next = false;
	for (i = at; i < w->hi; i++) {
		const as_seen *o = win_at(w, i);
		if (o->t > a6->first_us && memcmp(o->src, a6->src, 16) != 0) {
			n->has_next = true;
			n->next = o->t;
			break;
		}
	}
	for (i = at; i > w->lo; i--) {
		const as_seen *o = win_at(w, i - 1);
		if (memcmp(o->src, a6->src, 16) != 0) {
			n->has_prev = true;
			n->prev = o->t;
			break;
		}
	}
}

/* Candidates from IPv4 attempts at the sensor around the IPv6 attempt: those within the pair
 * window that no other source's IPv6 attempt is closer to, i.e. at t4 with prev + t6 <= 2 t4 and
 * 2 t4 <= next + t6 (a tie goes to a6). */
static void cands_paired(const as_ctx *c, const att *a6, uint8_t kind, cand *best, cand *legit)
{
	const as_win *w = &c->v4w;
	uint64_t t6 = a6->first_us;
	uint64_t lo = t6 >= c->cfg.pair_us ? t6 - c->cfg.pair_us : 0, hi = t6 + c->cfg.pair_us;
	size_t i = win_lower(w, lo);
	if (i == w->hi || win_t(w, i) > hi)
		return;
	nbrs n;
	v6_neighbours(c, a6, &n);
	if (n.has_prev && (n.prev + t6 + 1) / 2 > lo) {
		lo = (n.prev + t6 + 1) / 2;     /* the smallest t4 with 2 t4 >= prev + t6 */
		i = win_lower(w, lo);
	}
	if (n.has_next && (n.next + t6) / 2 < hi)
		hi = (n.next + t6) / 2;         /* the largest t4 with 2 t4 <= next + t6 */
	for (; i < w->hi && win_t(w, i) <= hi; i++) {
		const att *b = win_at(w, i);
		cand k = { 0 };
		memcpy(k.v4, b->src + 12, 4);
		score_pair(c, a6, kind, b, &k);
		finish_cand(c, a6, &k);
		consider(&k, best, legit);
	}
}

/* Candidates from production rejections shortly before the IPv6 attempt (no sensor IPv4). */
static void cands_chained(const as_ctx *c, const att *a6, cand *best, cand *legit)
{
	const as_win *w = &c->rw;
	uint64_t from = a6->first_us >= c->cfg.chain_us ? a6->first_us - c->cfg.chain_us : 0;
	for (size_t i = win_lower(w, from); i < w->hi && win_t(w, i) <= a6->first_us; i++) {
		const as_reject_ev *r = win_at(w, i);
		cand k = { 0 };
		memcpy(k.v4, r->v4, 4);
		finish_cand(c, a6, &k);
		consider(&k, best, legit);
	}
}

/*
 * The dominant sender behind a shared X: the host with at least NAT_DOMINANT_MIN ties and at
 * least twice as many as any other (the one the DNSBL listed X for). -1 when there is none.
 */
static int nat_dominant(const nat_hist *h)
{
	int best = -1;
	uint32_t top = 0, second = 0;
	for (unsigned i = 0; i < h->n; i++) {
		uint32_t t = h->host[i].ties;
		if (t > top) {
			second = top;
			top = t;
			best = (int)i;
		} else if (t > second) {
			second = t;
		}
	}
	return top >= NAT_DOMINANT_MIN && top >= 2 * second ? best : -1;
}

/* The slot to reuse in a full history: a host that never convicted, else one by time. */
static unsigned nat_victim(const nat_hist *h, uint64_t t)
{
	for (unsigned i = 0; i < NAT_SLOTS; i++)
		if (!h->host[i].conv)
			return i;
	return (unsigned)(t % NAT_SLOTS);
}

/*
 * Records that IPv6 source `src` (attempt at t) was tied to X by timing, and says whether X is
 * shared: tied to at least nat_max other /64s (a carrier NAT), or to another address of the same
 * /64 active over an overlapping span (hosts behind one home NAT). A host rotating privacy
 * addresses (RFC 8981) uses them one after another, so its addresses do not overlap.
 */
static bool nat_shared(as_ctx *c, const uint8_t v4[4], const uint8_t src[16], uint64_t t,
                       bool convicting, bool chained, bool *dominant)
{
	bool created;
	nat_hist *h = ht_put(&c->nat, v4, &created);
	if (!h)
		return false;
	if (!h->dirty && key_push(&c->nat_dirty, &c->n_nat_dirty, &c->nat_dirty_cap, v4) == 0)
		h->dirty = 1;
	if (!created && h->last_us + c->cfg.reject_us < t)
		h->n = h->shared = 0;
	h->last_us = t;
	nat_host *me = NULL;
	for (unsigned i = 0; i < h->n; i++)
		if (memcmp(h->host[i].src, src, 16) == 0)
			me = &h->host[i];
	if (!me) {
		me = &h->host[h->n < NAT_SLOTS ? h->n++ : nat_victim(h, t)];
		memset(me, 0, sizeof(*me));
		memcpy(me->src, src, 16);
		me->first_us = t;
	}
	if (t < me->first_us)
		me->first_us = t;
	if (t > me->last_us)
		me->last_us = t;
	me->ties += chained && me->ties < UINT16_MAX;
	me->conv += convicting && me->conv < UINT16_MAX;
	int dom = nat_dominant(h);
	*dominant = dom >= 0 && &h->host[dom] == me;
	unsigned other64 = 0;
	bool neighbour = false;
	for (unsigned i = 0; i < h->n; i++) {
		const nat_host *o = &h->host[i];
		if (o == me)
			continue;
		if (memcmp(o->src, src, 8) != 0) {
			/* Another /64 counts only with a convicting tie: on a busy sensor a pair with X's
			 * fallback from an unrelated /64 happens by chance; within one /64 it does not. */
			if (!o->conv || !convicting)
				continue;
			bool seen = false;
			for (unsigned j = 0; j < i; j++)
				seen |= &h->host[j] != me && memcmp(h->host[j].src, o->src, 8) == 0;
			other64 += !seen;
		} else if ((o->first_us <= me->last_us && me->first_us <= o->last_us) ||
		           at_stable_iid(o->src) || at_stable_iid(src)) {
			neighbour = true;   /* active together, or not a privacy rotation */
		}
	}
	return neighbour || other64 >= c->cfg.nat_max;
}

static bool nat_is_shared(const as_ctx *c, const uint8_t v4[4])
{
	const nat_hist *h = ht_get(&c->nat, v4);
	return h && h->shared;
}

/*
 * X just turned out shared: ties to it made by timing alone no longer convict anyone but its
 * dominant sender (passed in v.a.src, with v.a.syns = 1, when there is one).
 */
static void revoke(as_ctx *c, const uint8_t v4[4])
{
	nat_hist *h = ht_get(&c->nat, v4);
	as_verdict v = { .revoke = true };
	memcpy(v.v4, v4, 4);
	if (h) {
		h->shared = 1;
		if (!h->dirty && key_push(&c->nat_dirty, &c->n_nat_dirty, &c->nat_dirty_cap, v4) == 0)
			h->dirty = 1;
		int dom = nat_dominant(h);
		if (dom >= 0) {
			memcpy(v.a.src, h->host[dom].src, 16);
			v.a.syns = 1;
		}
	}
	c->on_verdict(&v, c->arg);
}

static void decide(as_ctx *c, const att *a6)
{
	at_info ai;
	cand best = { .score = 0 }, legit = { .score = 0 };
	as_verdict v = { .a = *a6 };

	at_classify(a6->src, &ai);
	v.kind = ai.kind;
	if (a6->raw) {                 /* a scanner's SYN: mail software did not send it */
		c->on_verdict(&v, c->arg);
		return;
	}
	cands_embedded(c, a6, &ai, &best, &legit);
	cands_paired(c, a6, ai.kind, &best, &legit);
	cands_chained(c, a6, &best, &legit);
	if (best.score > 0) {
		memcpy(v.v4, best.v4, 4);
		v.score = (unsigned)best.score;
		v.features = best.features;
		v.rejects = best.rejects;
		v.offender = best.score >= (int)c->cfg.min_score;
		bool timing_only = !(best.features & EVID_F_EMBEDDED);
		bool was_shared = nat_is_shared(c, best.v4);
		/* Hosts behind X are known by their ties to it that convict, and by their pairs with
		 * X's attempts at the sensor (score >= 40) that do not: a pair needs X's own fallback
		 * within seconds, which other hosts' traffic does not give by chance. A tie made by a
		 * rejection of X shortly before, alone, does: many senders are busy at once. */
		bool paired = best.score >= 40 && (best.features & EVID_F_PAIR);
		bool dominant = false;
		bool chained = v.offender && (best.features & EVID_F_CHAIN);
		bool shared = timing_only && (v.offender || paired) && !a6->quiet &&
		              nat_shared(c, best.v4, a6->src, a6->first_us, v.offender, chained, &dominant);
		if (shared && !was_shared)
			revoke(c, best.v4);
		if (v.offender && shared && !dominant) {
			v.offender = false;
			v.shared = true;
			c->shared++;
		}
	}
	v.clean = legit.score >= 40 && !(legit.features & EVID_F_CHAIN);
	if (!v.offender && legit.score >= 40 && !(legit.features & EVID_F_CHAIN)) {
		v.legit = true;
		c->legit++;
		if (!best.score) {
			memcpy(v.v4, legit.v4, 4);
			v.score = (unsigned)legit.score;
			v.features = legit.features;
		}
	}
	c->offenders += v.offender;
	c->on_verdict(&v, c->arg);
}

/* ---- The stream ---- */

int as_attempt(as_ctx *c, const att *in)
{
	att copy = *in, *a = &copy;
	if (a->v6) {
		a->quiet = c->quiet && c->quiet(a->src, c->arg);
		c->v6_attempts++;
		as_seen seen = { .t = a->first_us };
		memcpy(seen.src, a->src, 16);
		/* A flooding MTA tries every few seconds: it would be the closest IPv6 attempt to
		 * every fallback and steal the pairs of the hosts that made them. */
		if (!a->raw && !a->quiet && win_insert(&c->v6w, &seen))
			return V6R_ENOMEM;
		return fifo_push((void **)&c->v6q, &c->v6_head, &c->v6_len, &c->v6_cap, sizeof(att), a);
	}
	c->v4_attempts++;
	return a->raw ? 0 : win_insert(&c->v4w, a);   /* a scanner's SYN is nobody's fallback */
}

/* Drops the front items of w older than keep before the watermark. */
static void win_drop(as_win *w, uint64_t keep, uint64_t watermark)
{
	while (w->lo < w->hi && win_t(w, w->lo) + keep < watermark)
		w->lo++;
	if (w->lo == w->hi)
		w->lo = w->hi = 0;
}

/*
 * An IPv4 whose last rejection is a reject window (plus the decision delay) old is forgotten, in
 * memory and (through the gone list) in the store, and so is its NAT history: memory follows
 * the reject window, not the input size. The tables are swept in place every eighth of a
 * reject window of input time: one pass in slot order costs less than a random probe per
 * rejection.
 */
static bool rej_keep(const void *key, const void *val, void *arg)
{
	as_ctx *c = arg;
	if (((const rej_hist *)val)->r.last_us + c->cfg.reject_us + c->delay_us >= c->watermark)
		return true;
	return key_push(&c->gone, &c->n_gone, &c->gone_cap, key) != 0;   /* no room: keep it */
}

static bool nat_keep(const void *key, const void *val, void *arg)
{
	as_ctx *c = arg;
	if (((const nat_hist *)val)->last_us + c->cfg.reject_us + c->delay_us >= c->watermark)
		return true;
	return key_push(&c->nat_gone, &c->n_nat_gone, &c->nat_gone_cap, key) != 0;
}

static void expire_rejections(as_ctx *c)
{
	if (c->watermark < c->swept_us + c->cfg.reject_us / 8)
		return;
	c->swept_us = c->watermark;
	ht_sweep(&c->rej, rej_keep, c);
	ht_sweep(&c->nat, nat_keep, c);
}

static void drop_old(as_ctx *c)
{
	win_drop(&c->v4w, c->delay_us + c->cfg.pair_us, c->watermark);
	win_drop(&c->v6w, c->delay_us + 2 * c->cfg.pair_us, c->watermark);
	win_drop(&c->rw, c->delay_us + c->cfg.chain_us, c->watermark);
	expire_rejections(c);
}

void as_advance(as_ctx *c, uint64_t now_us)
{
	if (now_us > c->watermark)
		c->watermark = now_us;
	while (c->v6_len) {
		att *a = FIFO_AT(c->v6q, c->v6_head, c->v6_cap, 0);
		if (c->watermark != UINT64_MAX && a->first_us + c->delay_us > c->watermark)
			break;
		att copy = *a;
		c->v6_head = (c->v6_head + 1) % c->v6_cap;
		c->v6_len--;
		decide(c, &copy);
		/* The next decision is a few events away: start loading what it will touch. */
		if (c->v6_len && c->on_next)
			c->on_next(FIFO_AT(c->v6q, c->v6_head, c->v6_cap, 0), c->arg);
	}
	if (c->watermark != UINT64_MAX)
		drop_old(c);
}

void as_flush(as_ctx *c)
{
	uint64_t w = c->watermark;
	c->watermark = UINT64_MAX;
	as_advance(c, UINT64_MAX);
	c->watermark = w;
	/* Nothing is left to decide: the attempts held for pairing are no longer needed. The
	 * rejections stay, to expire in their time. */
	c->v4w.lo = c->v4w.hi = 0;
	c->v6w.lo = c->v6w.hi = 0;
}

uint64_t as_min_time(const as_ctx *c)
{
	uint64_t min = c->v4w.lo < c->v4w.hi ? win_t(&c->v4w, c->v4w.lo) : UINT64_MAX;
	for (size_t i = 0; i < c->v6_len; i++) {
		const att *a = FIFO_AT(c->v6q, c->v6_head, c->v6_cap, i);
		if (a->first_us < min)
			min = a->first_us;
	}
	return min;
}

/* ---- Persisting the rejection index ---- */

int as_rej_load(as_ctx *c, const uint8_t v4[4], const as_rej_rec *rec)
{
	bool created;
	rej_hist *h = ht_put(&c->rej, v4, &created);
	if (!h)
		return V6R_ENOMEM;
	h->r = *rec;
	h->dirty = 0;
	unsigned n = rec->count < REJ_RING ? rec->count : REJ_RING;
	for (unsigned i = 0; i < n; i++) {
		as_reject_ev ev = { .port = rec->port[i], .t = rec->t[i] };
		memcpy(ev.v4, v4, 4);
		/* Only the latest can still start a chain (older ones leave at the first advance). */
		if (rec->t[i] + c->cfg.chain_us + c->delay_us >= rec->last_us && win_append(&c->rw, &ev))
			return V6R_ENOMEM;
	}
	return 0;
}

void as_rej_loaded(as_ctx *c)
{
	win_sort(&c->rw);
}

/*
 * Few changed records are found through the dirty list; when many changed (a one-shot batch
 * of a big log), one pass over the table costs less than a random probe per record.
 */
static bool dirty_scan(const as_ctx *c)
{
	return c->n_dirty * 4 > c->rej.n;
}

int as_rej_dirty(as_ctx *c, as_rej_fn fn, void *arg)
{
	int rc = 0;
	for (size_t i = 0; i < c->n_gone && rc == 0; i++)
		if (!ht_get(&c->rej, &c->gone[i]))    /* not back since */
			rc = fn((const uint8_t *)&c->gone[i], NULL, arg);
	if (dirty_scan(c)) {
		size_t it = 0;
		const void *k;
		void *v;
		while (rc == 0 && ht_next(&c->rej, &it, &k, &v))
			if (((const rej_hist *)v)->dirty)
				rc = fn(k, &((const rej_hist *)v)->r, arg);
		return rc;
	}
	for (size_t i = 0; i < c->n_dirty && rc == 0; i++) {
		const rej_hist *h = ht_get(&c->rej, &c->dirty[i]);
		if (h && h->dirty)
			rc = fn((const uint8_t *)&c->dirty[i], &h->r, arg);
	}
	return rc;
}

/*
 * The NAT history too must outlive the process: a restart that forgot X was shared would let
 * the next timing tie to X convict a host behind it. Same protocol as the rejection records.
 */
int as_nat_load(as_ctx *c, const uint8_t v4[4], const void *rec, size_t len)
{
	if (len != AS_NAT_REC)
		return 0;                       /* another layout: start afresh for this X */
	bool created;
	nat_hist *h = ht_put(&c->nat, v4, &created);
	if (!h)
		return V6R_ENOMEM;
	memcpy(h, rec, sizeof(*h));
	h->dirty = 0;
	if (h->n > NAT_SLOTS)
		h->n = NAT_SLOTS;
	return 0;
}

int as_nat_dirty(as_ctx *c, as_nat_fn fn, void *arg)
{
	int rc = 0;
	for (size_t i = 0; i < c->n_nat_gone && rc == 0; i++)
		if (!ht_get(&c->nat, &c->nat_gone[i]))
			rc = fn((const uint8_t *)&c->nat_gone[i], NULL, 0, arg);
	for (size_t i = 0; i < c->n_nat_dirty && rc == 0; i++) {
		const nat_hist *h = ht_get(&c->nat, &c->nat_dirty[i]);
		if (h && h->dirty)
			rc = fn((const uint8_t *)&c->nat_dirty[i], h, AS_NAT_REC, arg);
	}
	return rc;
}

void as_rej_clean(as_ctx *c)
{
	for (size_t i = 0; i < c->n_nat_dirty; i++) {
		nat_hist *h = ht_get(&c->nat, &c->nat_dirty[i]);
		if (h)
			h->dirty = 0;
	}
	c->n_nat_dirty = c->n_nat_gone = 0;
	if (dirty_scan(c)) {
		size_t it = 0;
		const void *k;
		void *v;
		while (ht_next(&c->rej, &it, &k, &v))
			((rej_hist *)v)->dirty = 0;
	} else {
		for (size_t i = 0; i < c->n_dirty; i++) {
			rej_hist *h = ht_get(&c->rej, &c->dirty[i]);
			if (h)
				h->dirty = 0;
		}
	}
	c->n_dirty = c->n_gone = 0;
}
