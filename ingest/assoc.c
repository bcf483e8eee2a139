/* assoc.c: the association of IPv6 sensor attempts with DNSBL-rejected IPv4 addresses. */
#include "assoc.h"

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
	uint32_t ties;               /* convicting-strength ties of this host to X */
} nat_host;

typedef struct nat_hist {
	uint64_t last_us;
	uint8_t n;
	uint8_t shared;              /* revoked once: later ties need host-specific evidence */
	nat_host host[NAT_SLOTS];    /* IPv6 sources tied to this IPv4 by timing */
} nat_hist;

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
	c->rej_sweep_at = 4096;
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
	free(c->v4q);
	free(c->v6q);
	free(c->rq);
	free(c->dq);
	c->v4q = c->v6q = NULL;
	c->rq = NULL;
	c->dq = NULL;
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

/* Rebuilds the rejection table without the entries older than the window. */
static void rej_sweep(as_ctx *c)
{
	htab fresh;
	size_t it = 0;
	const void *k;
	void *v;
	if (ht_init(&fresh, 4, sizeof(rej_hist), c->rej.n) != 0)
		return;
	while (ht_next(&c->rej, &it, &k, &v)) {
		const rej_hist *h = v;
		bool created;
		if (h->r.last_us + c->cfg.reject_us < c->watermark)
			continue;
		rej_hist *n = ht_put(&fresh, k, &created);
		if (n)
			*n = *h;
	}
	ht_free(&c->rej);
	c->rej = fresh;
	c->rej_sweep_at = c->rej.n * 2 + 4096;
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
				h->dirty = 1;
			}
			return 0;
		}
	}
	if (r->t_us > h->r.last_us)
		h->r.last_us = r->t_us;
	h->r.t[h->r.count % REJ_RING] = r->t_us;
	h->r.port[h->r.count % REJ_RING] = r->port;
	h->r.count++;
	h->dirty = 1;
	as_reject_ev ev = { .port = r->port, .t = r->t_us };
	memcpy(ev.v4, r->addr + 12, 4);
	if (fifo_push((void **)&c->rq, &c->r_head, &c->r_len, &c->r_cap, sizeof(ev), &ev))
		return V6R_ENOMEM;
	if (c->rej.n >= c->rej_sweep_at)
		rej_sweep(c);
	return 0;
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

static void finish_cand(const as_ctx *c, const att *a6, cand *k)
{
	const rej_hist *h = rej_get(c, k->v4, a6->first_us);
	k->rejected = h != NULL;
	k->rejects = h ? h->r.count : 0;
	if (k->rejected)
		score_chain(c, a6, k);
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

static uint64_t gap_us(uint64_t x, uint64_t y)
{
	return x > y ? x - y : y - x;
}

/*
 * Whether some other IPv6 attempt (pending, or decided recently) lies closer in time to the
 * IPv4 attempt b than a6: one IPv4 attempt is the fallback of one connect() chain, so it pairs
 * with the closest IPv6 attempt only, and a scanner's SYN that happens to fall near another
 * host's fallback does not borrow it.
 */
static bool closer_v6(const as_ctx *c, const att *a6, const att *b, uint64_t gap)
{
	for (size_t i = 0; i < c->v6_len; i++) {
		const att *o = FIFO_AT(c->v6q, c->v6_head, c->v6_cap, i);
		if (o->first_us != a6->first_us && gap_us(o->first_us, b->first_us) < gap &&
		    memcmp(o->src, a6->src, 16) != 0)
			return true;
	}
	for (size_t i = 0; i < c->d_len; i++) {
		const as_seen *o = FIFO_AT(c->dq, c->d_head, c->d_cap, i);
		if (gap_us(o->t, b->first_us) < gap && memcmp(o->src, a6->src, 16) != 0)
			return true;
	}
	return false;
}

/* Candidates from IPv4 attempts at the sensor around the IPv6 attempt. */
static void cands_paired(const as_ctx *c, const att *a6, uint8_t kind, cand *best, cand *legit)
{
	for (size_t i = 0; i < c->v4_len; i++) {
		const att *b = FIFO_AT(c->v4q, c->v4_head, c->v4_cap, i);
		uint64_t gap = gap_us(a6->first_us, b->first_us);
		if (gap > c->cfg.pair_us || closer_v6(c, a6, b, gap))
			continue;
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
	for (size_t i = 0; i < c->r_len; i++) {
		const as_reject_ev *r = FIFO_AT(c->rq, c->r_head, c->r_cap, i);
		if (r->t > a6->first_us || a6->first_us - r->t > c->cfg.chain_us)
			continue;
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

/*
 * Records that IPv6 source `src` (attempt at t) was tied to X by timing, and says whether X is
 * shared: tied to at least nat_max other /64s (a carrier NAT), or to another address of the same
 * /64 active over an overlapping span (hosts behind one home NAT). A host rotating privacy
 * addresses (RFC 8981) uses them one after another, so its addresses do not overlap.
 */
static bool nat_shared(as_ctx *c, const uint8_t v4[4], const uint8_t src[16], uint64_t t,
                       bool *dominant)
{
	bool created;
	nat_hist *h = ht_put(&c->nat, v4, &created);
	if (!h)
		return false;
	if (!created && h->last_us + c->cfg.reject_us < t)
		h->n = h->shared = 0;
	h->last_us = t;
	nat_host *me = NULL;
	for (unsigned i = 0; i < h->n; i++)
		if (memcmp(h->host[i].src, src, 16) == 0)
			me = &h->host[i];
	if (!me) {
		me = &h->host[h->n < NAT_SLOTS ? h->n++ : (unsigned)(t % NAT_SLOTS)];
		memcpy(me->src, src, 16);
		me->first_us = t;
	}
	if (t < me->first_us)
		me->first_us = t;
	if (t > me->last_us)
		me->last_us = t;
	me->ties++;
	int dom = nat_dominant(h);
	*dominant = dom >= 0 && &h->host[dom] == me;
	unsigned other64 = 0;
	bool neighbour = false;
	for (unsigned i = 0; i < h->n; i++) {
		const nat_host *o = &h->host[i];
		if (o == me)
			continue;
		if (memcmp(o->src, src, 8) != 0) {
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
	cands_embedded(c, a6, &ai, &best, &legit);
	cands_paired(c, a6, ai.kind, &best, &legit);
	cands_chained(c, a6, &best, &legit);
	if (best.score > 0) {
		memcpy(v.v4, best.v4, 4);
		v.score = (unsigned)best.score;
		v.features = best.features;
		v.rejects = best.rejects;
		v.offender = best.score >= (int)c->cfg.min_score;
		bool timing_only = !(best.features & (EVID_F_6TO4 | EVID_F_TEREDO | EVID_F_ISATAP |
		                                      EVID_F_NAT64 | EVID_F_LOW32));
		bool was_shared = nat_is_shared(c, best.v4);
		/* Only ties strong enough to convict count as another host behind X: a weak one (a
		 * rejection of some X shortly before) happens by chance when many senders are busy. */
		bool dominant = false;
		bool shared = v.offender && timing_only &&
		              nat_shared(c, best.v4, a6->src, a6->first_us, &dominant);
		if (shared && !was_shared)
			revoke(c, best.v4);
		if (v.offender && shared && !dominant) {
			v.offender = false;
			v.shared = true;
			c->shared++;
		}
	}
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

int as_attempt(as_ctx *c, const att *a)
{
	if (a->v6) {
		c->v6_attempts++;
		return fifo_push((void **)&c->v6q, &c->v6_head, &c->v6_len, &c->v6_cap, sizeof(att), a);
	}
	c->v4_attempts++;
	return fifo_push((void **)&c->v4q, &c->v4_head, &c->v4_len, &c->v4_cap, sizeof(att), a);
}

static void drop_old(as_ctx *c)
{
	uint64_t keep = c->delay_us + c->cfg.pair_us;
	while (c->v4_len && FIFO_AT(c->v4q, c->v4_head, c->v4_cap, 0)->last_us + keep < c->watermark) {
		c->v4_head = (c->v4_head + 1) % c->v4_cap;
		c->v4_len--;
	}
	keep = c->delay_us + 2 * c->cfg.pair_us;
	while (c->d_len && FIFO_AT(c->dq, c->d_head, c->d_cap, 0)->t + keep < c->watermark) {
		c->d_head = (c->d_head + 1) % c->d_cap;
		c->d_len--;
	}
	keep = c->delay_us + c->cfg.chain_us;
	while (c->r_len && FIFO_AT(c->rq, c->r_head, c->r_cap, 0)->t + keep < c->watermark) {
		c->r_head = (c->r_head + 1) % c->r_cap;
		c->r_len--;
	}
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
		as_seen seen = { .t = copy.first_us };
		memcpy(seen.src, copy.src, 16);
		(void)fifo_push((void **)&c->dq, &c->d_head, &c->d_len, &c->d_cap, sizeof(seen), &seen);
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
	/* Nothing is left to decide: what was held for pairing is no longer needed. */
	c->v4_len = c->r_len = c->d_len = 0;
}

uint64_t as_min_offset(const as_ctx *c)
{
	uint64_t min = UINT64_MAX;
	for (size_t i = 0; i < c->v6_len; i++) {
		const att *a = FIFO_AT(c->v6q, c->v6_head, c->v6_cap, i);
		if (a->offset < min)
			min = a->offset;
	}
	for (size_t i = 0; i < c->v4_len; i++) {
		const att *a = FIFO_AT(c->v4q, c->v4_head, c->v4_cap, i);
		if (a->offset < min)
			min = a->offset;
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
		if (rec->t[i] + c->cfg.chain_us + c->delay_us >= rec->last_us &&
		    fifo_push((void **)&c->rq, &c->r_head, &c->r_len, &c->r_cap, sizeof(ev), &ev))
			return V6R_ENOMEM;
	}
	return 0;
}

int as_rej_dirty(as_ctx *c, as_rej_fn fn, void *arg)
{
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&c->rej, &it, &k, &v)) {
		const rej_hist *h = v;
		if (!h->dirty)
			continue;
		int rc = fn(k, &h->r, arg);
		if (rc)
			return rc;
	}
	return 0;
}

void as_rej_clean(as_ctx *c)
{
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&c->rej, &it, &k, &v))
		((rej_hist *)v)->dirty = 0;
}

static int rq_cmp(const void *x, const void *y)
{
	const as_reject_ev *a = x, *b = y;
	return a->t < b->t ? -1 : a->t > b->t;
}

void as_rej_loaded(as_ctx *c)
{
	if (!c->r_len)
		return;
	/* Make the chain FIFO contiguous and time-ordered again. */
	as_reject_ev *tmp = malloc(c->r_len * sizeof(*tmp));
	if (!tmp)
		return;
	for (size_t i = 0; i < c->r_len; i++)
		tmp[i] = *FIFO_AT(c->rq, c->r_head, c->r_cap, i);
	qsort(tmp, c->r_len, sizeof(*tmp), rq_cmp);
	memcpy(c->rq, tmp, c->r_len * sizeof(*tmp));
	c->r_head = 0;
	free(tmp);
}
