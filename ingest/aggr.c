/* aggr.c: offender prefixes, misbehaviour and /48 aggregation, and their batched commit. */
#include "aggr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"
#include "addrtype.h"

#define KEYLEN 17
#define SEC 1000000ull

#define HOST_SLOTS 4

typedef struct src_stat {
	uint64_t last_us;         /* latest attempt: the entry is forgotten expire_s after it */
	uint32_t attempts, assoc;
	uint32_t same_port;       /* consecutive attempts from one /128 with one source port */
	uint16_t last_sport;
	uint8_t last_src[16];
	uint8_t misbehaving;
	uint8_t multi;            /* distinct addresses active at the same time: several hosts */
	uint8_t n_hosts;
	struct {
		uint8_t iid[8];
		uint64_t first_us, last_us;
		uint32_t clean;       /* pairings with its own clean IPv4 (as_verdict.clean) */
	} host[HOST_SLOTS];
} src_stat;

/* A pending offender: per /128 for native addresses (the listed prefix is chosen when writing). */
typedef struct pend {
	evid e;
	uint8_t kind;             /* enum at_kind */
	uint8_t held;             /* set by ag_write: waits for a confirming attempt */
	uint8_t clean;            /* set by ag_write: the host's own IPv4 is clean */
} pend;


/* A revoked IPv4's dominant sender, whose listings stay. */
typedef struct spare_rec {
	uint8_t src[16];
	uint8_t has;
} spare_rec;

typedef struct legit_rec {
	uint64_t last_us;
	uint8_t dirty;
} legit_rec;

void ag_cfg_defaults(ag_cfg *c)
{
	static const uint8_t c2[4] = { 127, 0, 0, 2 }, c3[4] = { 127, 0, 0, 3 }, c4[4] = { 127, 0, 0, 4 };
	memset(c, 0, sizeof(*c));
	c->expire_s = 30 * 86400;
	c->agg48_min = 4;
	c->flood_min = 100;
	c->portreuse_min = 20;
	c->confirm_min = 1;
	c->hold_us = 86400 * SEC;
	memcpy(c->code, c2, 4);
	memcpy(c->code48, c3, 4);
	memcpy(c->code_v4, c4, 4);
}

int ag_init(ag_ctx *a, const ag_cfg *cfg, store *st, bool report)
{
	memset(a, 0, sizeof(*a));
	a->cfg = *cfg;
	a->st = st;
	a->report = report;
	if (ht_init(&a->pending, KEYLEN, sizeof(pend), 256) || ht_init(&a->committed, KEYLEN, 8, 256) ||
	    ht_init(&a->src64, 8, sizeof(src_stat), 1024) || ht_init(&a->legit48, 6, sizeof(legit_rec), 64) ||
	    ht_init(&a->seen, 16, 1, report ? 4096 : 16) || ht_init(&a->rej4, 4, sizeof(evid), 16) ||
	    ht_init(&a->off128, 16, 8, 256) || ht_init(&a->off64n, 8, 4, 256) ||
	    ht_init(&a->revoked, 4, sizeof(spare_rec), 16) || ht_init(&a->flood64, 8, 1, 16)) {
		ag_free(a);
		return V6R_ENOMEM;
	}
	return 0;
}

void ag_free(ag_ctx *a)
{
	ht_free(&a->pending);
	ht_free(&a->committed);
	ht_free(&a->src64);
	ht_free(&a->legit48);
	ht_free(&a->seen);
	ht_free(&a->rej4);
	ht_free(&a->off128);
	ht_free(&a->off64n);
	ht_free(&a->revoked);
	ht_free(&a->flood64);
	free(a->allow);
	a->allow = NULL;
}

int ag_allow(ag_ctx *a, const addr_pfx *p, size_t n)
{
	addr_pfx *m = realloc(a->allow, (a->n_allow + n) * sizeof(*m));
	if (!m)
		return V6R_ENOMEM;
	memcpy(m + a->n_allow, p, n * sizeof(*m));
	a->allow = m;
	a->n_allow += n;
	return 0;
}

size_t ag_pending(const ag_ctx *a)
{
	return a->pending.n + a->rej4.n;
}

/* The pending key of an offender: its 6to4 /48, else its address (native ones are grouped into
 * their /64 when written, unless the /64 holds several hosts). */
static void offender_pfx(const as_verdict *v, addr_pfx *p)
{
	memcpy(p->a, v->a.src, 16);
	p->len = v->kind == AT_6TO4 ? 48 : 128;
	addr_mask(p->a, p->len);
}

static bool groups_to_64(unsigned kind)
{
	return kind != AT_6TO4 && kind != AT_TEREDO;
}

static void key_of(const addr_pfx *p, uint8_t key[KEYLEN])
{
	memcpy(key, p->a, 16);
	key[16] = p->len;
}

/* Report type buckets: 6to4, eui64, embedded ipv4, teredo, other. */
static unsigned type_bucket(unsigned kind)
{
	switch (kind) {
	case AT_6TO4: return 0;
	case AT_EUI64: return 1;
	case AT_LOW32: case AT_ISATAP: case AT_NAT64: case AT_MAPPED: return 2;
	case AT_TEREDO: return 3;
	default: return 4;
	}
}

static void count_report(ag_ctx *a, const as_verdict *v)
{
	bool created;
	unsigned os = v->a.os < AG_OS_N ? v->a.os : 0, ty = type_bucket(v->kind), as = v->offender;
	a->rep.att_os[os][as]++;
	a->rep.att_type[ty][as]++;
	uint8_t *f = ht_put(&a->seen, v->a.src, &created);
	if (!f)
		return;
	/* bit 0: counted as unassociated, bit 1: counted as associated; a host that becomes
	 * associated moves from one column to the other. */
	if (as && !(*f & 2)) {
		if (*f & 1) {
			a->rep.hosts_os[os][0]--;
			a->rep.hosts_type[ty][0]--;
		}
		a->rep.hosts_os[os][1]++;
		a->rep.hosts_type[ty][1]++;
		*f = 2;
	} else if (!*f) {
		a->rep.hosts_os[os][0]++;
		a->rep.hosts_type[ty][0]++;
		*f = 1;
	}
}

/*
 * Addresses of one /64 whose activity overlaps in time, or of which one has a stable interface
 * identifier, are different hosts (a NAT, a shared LAN); a host rotating privacy addresses
 * (RFC 8981) uses random ones, one after another.
 */
static unsigned track_hosts(src_stat *s, const uint8_t src[16], uint64_t first, uint64_t last)
{
	const uint8_t *iid = src + 8;
	unsigned i;
	for (i = 0; i < s->n_hosts; i++)
		if (memcmp(s->host[i].iid, iid, 8) == 0)
			break;
	if (i == s->n_hosts) {
		i = s->n_hosts < HOST_SLOTS ? s->n_hosts++ : (unsigned)(first % HOST_SLOTS);
		memcpy(s->host[i].iid, iid, 8);
		s->host[i].first_us = first;
		s->host[i].last_us = last;
		s->host[i].clean = 0;
	}
	if (first < s->host[i].first_us)
		s->host[i].first_us = first;
	if (last > s->host[i].last_us)
		s->host[i].last_us = last;
	for (unsigned j = 0; j < s->n_hosts; j++) {
		if (j == i)
			continue;
		uint8_t other[16];
		memcpy(other, src, 8);
		memcpy(other + 8, s->host[j].iid, 8);
		if ((s->host[j].first_us <= s->host[i].last_us && s->host[i].first_us <= s->host[j].last_us) ||
		    at_stable_iid(src) || at_stable_iid(other))
			s->multi = 1;
	}
	return i;
}

static void track_source(ag_ctx *a, const as_verdict *v)
{
	bool created;
	src_stat *s = ht_put(&a->src64, v->a.src, &created);
	if (!s)
		return;
	s->attempts++;
	s->assoc += v->offender;
	if (v->a.last_us > s->last_us)
		s->last_us = v->a.last_us;
	bool same = memcmp(s->last_src, v->a.src, 16) == 0 && s->last_sport == v->a.sport;
	s->same_port = same ? s->same_port + 1 : 1;
	memcpy(s->last_src, v->a.src, 16);
	s->last_sport = v->a.sport;
	unsigned h = track_hosts(s, v->a.src, v->a.first_us, v->a.last_us);
	s->host[h].clean += v->clean;
	if (!s->misbehaving && (s->same_port >= a->cfg.portreuse_min ||
	                        (s->attempts >= a->cfg.flood_min && s->assoc * 5 < s->attempts))) {
		s->misbehaving = 1;
		(void)ht_put(&a->flood64, v->a.src, &created);   /* ag_quiet's small table */
	}
}

/* The input time up to which the store already holds evidence for key (loaded once). */
static uint64_t committed_until(ag_ctx *a, const addr_pfx *p, const uint8_t key[KEYLEN])
{
	bool created;
	uint64_t *t = ht_put(&a->committed, key, &created);
	if (!t)
		return 0;
	if (created) {
		uint8_t buf[STORE_EVIDENCE_MAX];
		size_t len;
		evid e;
		if (a->st && store_evidence_read(a->st, p, buf, sizeof(buf), &len) == 0 &&
		    evid_decode(buf, len, &e) == 0)
			*t = e.last_us;
	}
	return *t;
}

static void add_offender(ag_ctx *a, const as_verdict *v)
{
	addr_pfx p, p64;
	uint8_t key[KEYLEN], key64[KEYLEN];
	bool created;
	offender_pfx(v, &p);
	key_of(&p, key);
	/* Replayed input (after a restart, or the same files again) is not counted twice. */
	uint64_t done = committed_until(a, &p, key);
	if (groups_to_64(v->kind)) {
		p64 = p;
		p64.len = 64;
		addr_mask(p64.a, 64);
		key_of(&p64, key64);
		uint64_t d64 = committed_until(a, &p64, key64);
		if (d64 > done)
			done = d64;
	}
	if (v->a.first_us <= done)
		return;
	pend *e = ht_put(&a->pending, key, &created);
	if (!e)
		return;
	evid one = { .first_us = v->a.first_us, .last_us = v->a.last_us, .attempts = 1,
	             .syns = v->a.syns, .rejects = v->rejects, .score = v->score,
	             .features = v->features, .os = v->a.os, .hosts = 1 };
	evid_add_v4(&one, v->v4);
	evid_merge(&e->e, &one);
	e->kind = v->kind;
	if (e->e.rejects < v->rejects)
		e->e.rejects = v->rejects;
	e->e.hosts = 1;
	/* Distinct offender addresses per /64 over the whole run (a group's evidence.hosts). */
	uint64_t *seen = ht_put(&a->off128, v->a.src, &created);
	if (seen && created) {
		uint32_t *n = ht_put(&a->off64n, v->a.src, &created);
		if (n)
			(*n)++;
	}
	if (seen && v->a.last_us > *seen)
		*seen = v->a.last_us;
}

/* Evidence that ties a listing to one IPv4 by timing alone (what a shared IPv4 revokes). */
static bool tie_only(const evid *e)
{
	return e->n_v4 == 1 && !(e->features & (EVID_F_EMBEDDED | EVID_F_AGGREGATE));
}

/* Timing-only ties to a shared IPv4 convict nobody but its dominant sender: drop the others. */
static void revoke_v4(ag_ctx *a, const uint8_t v4[4], const uint8_t *spare)
{
	/* A port sequence does not help: every host behind the NAT does use X. */
	uint8_t keys[64][KEYLEN];
	for (;;) {
		size_t it = 0, n = 0;
		const void *k;
		void *v;
		while (n < 64 && ht_next(&a->pending, &it, &k, &v)) {
			const pend *e = v;
			if (tie_only(&e->e) && memcmp(e->e.v4[0], v4, 4) == 0 &&
			    !(spare && memcmp(k, spare, 16) == 0))
				memcpy(keys[n++], k, KEYLEN);
		}
		for (size_t i = 0; i < n; i++)
			ht_del(&a->pending, keys[i]);
		a->revoked_ties += n;
		if (n < 64)
			break;
	}
	/* Listings already committed on such ties are withdrawn at the next commit. */
	bool created;
	spare_rec *r = ht_put(&a->revoked, v4, &created);
	if (r) {
		r->has = spare != NULL;
		if (spare)
			memcpy(r->src, spare, 16);
	}
}

void ag_verdict(ag_ctx *a, const as_verdict *v)
{
	if (v->revoke) {
		revoke_v4(a, v->v4, v->a.syns ? v->a.src : NULL);
		return;
	}
	if (a->report)
		count_report(a, v);
	track_source(a, v);
	if (v->legit) {
		bool created;
		legit_rec *l = ht_put(&a->legit48, v->a.src, &created);
		if (l && v->a.last_us > l->last_us) {
			l->last_us = v->a.last_us;
			l->dirty = 1;
		}
	}
	if (v->offender)
		add_offender(a, v);
}

bool ag_quiet(const ag_ctx *a, const uint8_t src[16])
{
	for (size_t i = 0; i < a->n_allow; i++)
		if (addr_contains(&a->allow[i], src))
			return true;
	return a->flood64.n && ht_get(&a->flood64, src) != NULL;
}

void ag_prefetch(const ag_ctx *a, const uint8_t src[16])
{
	ht_prefetch(&a->src64, src);
	ht_prefetch(&a->legit48, src);
}

void ag_reject(ag_ctx *a, const ev_reject *r)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (!a->cfg.publish_v4 || memcmp(r->addr, mapped, 12) != 0)
		return;
	bool created;
	evid *e = ht_put(&a->rej4, r->addr + 12, &created);
	if (!e)
		return;
	evid one = { .first_us = r->t_us, .last_us = r->t_us, .rejects = 1, .hosts = 1 };
	evid_add_v4(&one, r->addr + 12);
	evid_merge(e, &one);
}

/* ---- Writing ---- */

static bool allowlisted(const ag_ctx *a, const addr_pfx *p)
{
	for (size_t i = 0; i < a->n_allow; i++)
		if (addr_pfx_within(p, &a->allow[i]) || addr_pfx_within(&a->allow[i], p))
			return true;
	return false;
}

/* Why p must not be listed automatically: 0 when it may be. */
static int blocked(ag_ctx *a, store_txn *t, const addr_pfx *p, store_entry *old, bool *exists)
{
	store_entry x;
	*exists = false;
	if (allowlisted(a, p))
		return 1;
	int rc = store_txn_lpm(t, p->a, 0, p->len, STORE_EXCLUSION, a->now, &x);
	if (rc == 0)
		return 1;
	if (rc != V6R_ENOTFOUND)
		return rc;
	rc = store_get(t, p, old);
	if (rc == 0) {
		*exists = true;
		if (old->origin == STORE_ORIGIN_OPERATOR || old->kind == STORE_EXCLUSION)
			return 2;
	} else if (rc != V6R_ENOTFOUND) {
		return rc;
	}
	return 0;
}

static void reason_text(const evid *e, const char *what, char *buf, size_t cap)
{
	char v4[INET_ADDRSTRLEN] = "-", feats[160] = "";
	if (e->n_v4)
		inet_ntop(AF_INET, e->v4[0], v4, sizeof(v4));
	evid_features(e->features, feats, sizeof(feats));
	snprintf(buf, cap, "%s tied to DNSBL-rejected %s%s (%s); %u attempts, %s", what, v4,
	         e->n_v4 > 1 ? " and others" : "", feats, e->attempts, evid_os_name(e->os));
}

/* The aux namespace that indexes the listings tied to one IPv4: "tie:" and 8 hex digits. */
static void tie_ns(const uint8_t v4[4], char ns[16])
{
	snprintf(ns, 16, "tie:%02x%02x%02x%02x", v4[0], v4[1], v4[2], v4[3]);
}

static int tie_index(store_txn *t, const uint8_t v4[4], const addr_pfx *p, bool on)
{
	char ns[16];
	uint8_t key[KEYLEN];
	tie_ns(v4, ns);
	key_of(p, key);
	return store_aux_put(t, ns, key, KEYLEN, on ? "\1" : NULL, on ? 1 : 0);
}

/* Merges stored evidence, then writes the listing and its evidence unless it has gone stale. */
static int put_listing(ag_ctx *a, store_txn *t, const addr_pfx *p, const evid *add, uint8_t origin,
                       const uint8_t code[4], const store_entry *old, bool exists, const char *what)
{
	evid total = *add;
	const void *data;
	size_t len;
	evid stored;
	if (exists && store_evidence_get(t, p, &data, &len) == 0 && evid_decode(data, len, &stored) == 0) {
		evid_merge(&stored, add);
		total = stored;
	}
	uint64_t expires = total.last_us / SEC + a->cfg.expire_s;
	if (expires <= a->now) {
		a->skipped_stale++;
		return 0;
	}
	char reason[STORE_REASON_MAX];
	reason_text(&total, what, reason, sizeof(reason));
	store_entry e = { .pfx = *p, .kind = STORE_LISTING, .origin = origin,
	                  .created = exists ? old->created : a->now, .updated = a->now,
	                  .expires = expires, .reason = reason, .reason_len = strlen(reason) };
	memcpy(e.code, code, 4);
	uint8_t buf[STORE_EVIDENCE_MAX];
	int n = evid_encode(&total, buf, sizeof(buf));
	int rc = n < 0 ? n : store_put(t, &e);
	if (rc == 0)
		rc = store_evidence_put(t, p, buf, (size_t)n);
	if (rc == 0 && origin == STORE_ORIGIN_SENSOR && tie_only(&total))
		rc = tie_index(t, total.v4[0], p, true);
	if (rc == 0)
		*(exists ? &a->renewed : &a->listed) += 1;
	return rc;
}

typedef struct agg_walk {
	evid sum;
	unsigned n64;
	uint64_t now;
	store_txn *t;
} agg_walk;

static int count_64(const store_entry *e, void *arg)
{
	agg_walk *w = arg;
	const void *data;
	size_t len;
	evid ev;
	if (e->pfx.len != 64 || e->origin != STORE_ORIGIN_SENSOR || (e->expires && e->expires <= w->now))
		return 0;
	w->n64++;
	if (store_evidence_get(w->t, &e->pfx, &data, &len) == 0 && evid_decode(data, len, &ev) == 0)
		evid_merge(&w->sum, &ev);
	return 0;
}

static bool legit_seen(ag_ctx *a, store_txn *t, const addr_pfx *p48)
{
	const legit_rec *l = ht_get(&a->legit48, p48->a);
	const void *v;
	size_t n;
	if (l)
		return true;
	return store_aux_get(t, "legit48", p48->a, 6, &v, &n) == 0;
}

/* Lists the /48 of a freshly listed native /64 when enough of its /64s are listed. */
static int aggregate_48(ag_ctx *a, store_txn *t, const addr_pfx *p64)
{
	addr_pfx p = *p64;
	store_entry old;
	bool exists;
	p.len = 48;
	addr_mask(p.a, 48);
	if (legit_seen(a, t, &p))
		return 0;
	int rc = blocked(a, t, &p, &old, &exists);
	if (rc)
		return rc < 0 ? rc : 0;
	agg_walk w = { .now = a->now, .t = t };
	rc = store_txn_walk_within(t, STORE_LISTING, &p, count_64, &w);
	if (rc || w.n64 < a->cfg.agg48_min)
		return rc;
	if (exists) {
		const void *data;
		size_t len;
		evid prev;
		/* Already aggregated with this evidence: nothing changes. */
		if (store_evidence_get(t, &p, &data, &len) == 0 && evid_decode(data, len, &prev) == 0 &&
		    prev.last_us >= w.sum.last_us && prev.hosts == w.n64)
			return 0;
	}
	w.sum.hosts = w.n64;
	w.sum.features |= EVID_F_AGGREGATE;
	rc = put_listing(a, t, &p, &w.sum, STORE_ORIGIN_AGGREGATE, a->cfg.code48, &old, false,
	                 "aggregate of offender /64s,");
	a->aggregates += rc == 0;
	return rc;
}

/* Lists (or renews) one offender prefix with the evidence gathered for it. */
static int write_one(ag_ctx *a, store_txn *t, const addr_pfx *p, const evid *e)
{
	store_entry old;
	bool exists;
	const src_stat *s = ht_get(&a->src64, p->a);
	if (p->len >= 64 && s && s->misbehaving) {
		a->skipped_misbehaving++;
		return 0;
	}
	int rc = blocked(a, t, p, &old, &exists);
	if (rc < 0)
		return rc;
	if (rc) {
		*(rc == 1 ? &a->skipped_excluded : &a->skipped_operator) += 1;
		return 0;
	}
	rc = put_listing(a, t, p, e, STORE_ORIGIN_SENSOR, a->cfg.code, &old, exists, "IPv6 sender");
	if (rc == 0 && p->len == 64)
		rc = aggregate_48(a, t, p);
	return rc;
}

/* A /64 that turned out to hold several hosts loses its earlier sensor listing. */
static int unlist_shared_64(ag_ctx *a, store_txn *t, const addr_pfx *p64)
{
	store_entry old;
	int rc = store_get(t, p64, &old);
	if (rc == V6R_ENOTFOUND || (rc == 0 && (old.kind != STORE_LISTING ||
	                                        old.origin != STORE_ORIGIN_SENSOR)))
		return 0;
	if (rc == 0)
		rc = store_del(t, p64);
	if (rc == 0)
		rc = store_evidence_put(t, p64, NULL, 0);
	a->narrowed += rc == 0;
	return rc;
}

/*
 * Whether a pending offender is written now. A tie made by timing alone (a pair with an IPv4
 * attempt, a rejection just before) can be a coincidence on a busy sensor: one attempt does not
 * list an address that is not listed yet; it waits (hold_us) for confirm_min attempts. An
 * address that pairs with a clean IPv4 (its own: never rejected) at least as often as with the
 * rejected one is a legitimate host that fell near another's fallback: not listed. Embeddings
 * (6to4, Teredo, ISATAP, NAT64, low 32 bits) name the IPv4 and list at once. Sets e->held and
 * e->clean afresh on every run (ag_write may be rerun).
 */
/* How often the host at addr paired with its own clean IPv4 (0 when its slot is gone). */
static uint32_t clean_pairs(const ag_ctx *a, const uint8_t addr[16])
{
	const src_stat *s = ht_get(&a->src64, addr);
	for (unsigned i = 0; s && i < s->n_hosts; i++)
		if (memcmp(s->host[i].iid, addr + 8, 8) == 0)
			return s->host[i].clean;
	return 0;
}

static int offender_ready(ag_ctx *a, store_txn *t, const addr_pfx *p, pend *e, bool *ready)
{
	e->held = e->clean = 0;
	*ready = true;
	if (e->e.features & EVID_F_EMBEDDED)
		return 0;
	if (clean_pairs(a, p->a) >= e->e.attempts) {
		e->clean = 1;
		a->skipped_clean++;
		*ready = false;
		return 0;
	}
	if (e->e.attempts >= a->cfg.confirm_min)
		return 0;
	store_entry x;
	int rc = store_txn_lpm(t, p->a, 64, 128, STORE_LISTING, a->now, &x);
	if (rc == 0 || rc != V6R_ENOTFOUND)
		return rc == 0 ? 0 : rc;     /* listed already: new evidence renews it */
	e->held = 1;
	a->held++;
	*ready = false;
	return 0;
}

typedef struct tie_keys {
	uint8_t key[256][KEYLEN];
	size_t n;
} tie_keys;

static int collect_tie(const uint8_t *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	tie_keys *k = arg;
	if (klen == KEYLEN && k->n < 256)
		memcpy(k->key[k->n++], key, KEYLEN);
	return 0;
}

/* Withdraws the sensor listings tied by timing alone to X, which turned out shared, except its
 * dominant sender's; the index (aux "tie:X") finds them also after a restart. */
static int withdraw_tied(ag_ctx *a, store_txn *t, const uint8_t v4[4], const spare_rec *sp)
{
	static tie_keys k;
	char ns[16];
	k.n = 0;
	tie_ns(v4, ns);
	int rc = store_aux_foreach(t, ns, collect_tie, &k);
	for (size_t i = 0; i < k.n && rc == 0; i++) {
		addr_pfx p, spare = { .len = 128 };
		memcpy(p.a, k.key[i], 16);
		p.len = k.key[i][16];
		memcpy(spare.a, sp->src, 16);
		bool keep = sp->has && addr_pfx_within(&spare, &p);
		if (keep && p.len == 128)
			continue;
		store_entry old;
		const void *data;
		size_t len;
		evid e;
		rc = tie_index(t, v4, &p, false);
		if (rc == 0 && store_get(t, &p, &old) == 0 && old.kind == STORE_LISTING &&
		    old.origin == STORE_ORIGIN_SENSOR && store_evidence_get(t, &p, &data, &len) == 0 &&
		    evid_decode(data, len, &e) == 0 && tie_only(&e) && memcmp(e.v4[0], v4, 4) == 0) {
			rc = store_del(t, &p);
			if (rc == 0)
				rc = store_evidence_put(t, &p, NULL, 0);
			a->withdrawn += rc == 0;
			/* The dominant sender inside a withdrawn /64 (the /64 is X's LAN) keeps its /128. */
			if (rc == 0 && keep)
				rc = put_listing(a, t, &spare, &e, STORE_ORIGIN_SENSOR, a->cfg.code, &old, false,
				                 "IPv6 sender");
		}
	}
	return rc;
}

static int write_withdrawals(ag_ctx *a, store_txn *t)
{
	size_t it = 0;
	const void *k;
	void *v;
	int rc = 0;
	while (rc == 0 && ht_next(&a->revoked, &it, &k, &v))
		rc = withdraw_tied(a, t, k, v);
	return rc;
}

static int write_offenders(ag_ctx *a, store_txn *t)
{
	htab groups;
	size_t it = 0;
	const void *k;
	void *v;
	int rc = ht_init(&groups, KEYLEN, sizeof(evid), a->pending.n);
	while (rc == 0 && ht_next(&a->pending, &it, &k, &v)) {
		pend *e = v;
		addr_pfx p;
		bool ready;
		memcpy(p.a, k, 16);
		p.len = ((const uint8_t *)k)[16];
		rc = offender_ready(a, t, &p, e, &ready);
		if (rc || !ready)
			continue;
		const src_stat *s = ht_get(&a->src64, p.a);
		if (!groups_to_64(e->kind) || (s && s->multi)) {
			if (groups_to_64(e->kind)) {
				addr_pfx p64 = p;
				p64.len = 64;
				addr_mask(p64.a, 64);
				rc = unlist_shared_64(a, t, &p64);
			}
			if (rc == 0)
				rc = write_one(a, t, &p, &e->e);
			continue;
		}
		uint8_t key[KEYLEN];
		bool created;
		p.len = 64;
		addr_mask(p.a, 64);
		key_of(&p, key);
		evid *g = ht_put(&groups, key, &created);
		if (!g) {
			rc = V6R_ENOMEM;
			break;
		}
		evid_merge(g, &e->e);
		const uint32_t *n = ht_get(&a->off64n, p.a);
		g->hosts = n ? *n : 1;
	}
	it = 0;
	while (rc == 0 && ht_next(&groups, &it, &k, &v)) {
		addr_pfx p;
		memcpy(p.a, k, 16);
		p.len = 64;
		rc = write_one(a, t, &p, v);
	}
	ht_free(&groups);
	return rc;
}

static int write_v4(ag_ctx *a, store_txn *t)
{
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&a->rej4, &it, &k, &v)) {
		addr_pfx p;
		store_entry old;
		bool exists;
		addr_from_v4(&p, k, 32);
		int rc = blocked(a, t, &p, &old, &exists);
		if (rc < 0)
			return rc;
		if (rc)
			continue;
		rc = put_listing(a, t, &p, v, STORE_ORIGIN_SENSOR, a->cfg.code_v4, &old, exists,
		                 "IPv4 sender rejected by a production MTA,");
		if (rc)
			return rc;
		a->v4_listed++;
	}
	return 0;
}

static int write_legit(ag_ctx *a, store_txn *t)
{
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&a->legit48, &it, &k, &v)) {
		const legit_rec *l = v;
		uint8_t le[8];
		if (!l->dirty)
			continue;
		for (int i = 0; i < 8; i++)
			le[i] = (uint8_t)(l->last_us >> (8 * i));
		int rc = store_aux_put(t, "legit48", k, 6, le, 8);
		if (rc)
			return rc;
	}
	return 0;
}

int ag_write(ag_ctx *a, store_txn *t)
{
	a->listed = a->renewed = a->skipped_excluded = a->skipped_operator = 0;
	a->skipped_misbehaving = a->skipped_stale = a->aggregates = a->v4_listed = 0;
	a->narrowed = a->held = a->skipped_clean = a->withdrawn = 0;
	int rc = write_legit(a, t);
	if (rc == 0)
		rc = write_withdrawals(a, t);
	if (rc == 0)
		rc = write_offenders(a, t);
	if (rc == 0)
		rc = write_v4(a, t);
	return rc;
}

/* ---- Forgetting: memory follows the expiry window, not the length of the input ---- */

static bool fresh_src(const void *k, const void *v, void *arg)
{
	return ((const src_stat *)v)->last_us >= *(const uint64_t *)arg;
}

static bool still_tracked(const void *k, const void *v, void *arg)
{
	return ht_get(arg, k) != NULL;
}

static bool fresh_legit(const void *k, const void *v, void *arg)
{
	return ((const legit_rec *)v)->last_us >= *(const uint64_t *)arg || ((const legit_rec *)v)->dirty;
}

static bool fresh_u64(const void *k, const void *v, void *arg)
{
	uint64_t t;
	memcpy(&t, v, 8);
	return t >= *(const uint64_t *)arg;
}

/*
 * Once a day of input time, drops what is older than the expiry window: source behaviour,
 * legitimate /48s (the store keeps them), evidence times already committed (reloaded from the
 * store when needed) and the offender addresses behind group host counts. A listing cannot
 * outlive its evidence by more than expire_s, so nothing older can matter.
 */
static void forget_old(ag_ctx *a)
{
	uint64_t horizon = a->cfg.expire_s * SEC;
	if (a->input_us < a->swept_us + 86400 * SEC || a->input_us < horizon)
		return;
	a->swept_us = a->input_us;
	uint64_t before = a->input_us - horizon;
	ht_sweep(&a->src64, fresh_src, &before);
	ht_sweep(&a->flood64, still_tracked, &a->src64);
	ht_sweep(&a->legit48, fresh_legit, &before);
	ht_sweep(&a->committed, fresh_u64, &before);
	if (!ht_sweep(&a->off128, fresh_u64, &before))
		return;
	htab n64;
	if (ht_init(&n64, 8, 4, a->off64n.n) != 0)
		return;
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&a->off128, &it, &k, &v)) {
		bool created;
		uint32_t *n = ht_put(&n64, k, &created);
		if (n)
			(*n)++;
	}
	ht_free(&a->off64n);
	a->off64n = n64;
}

void ag_committed(ag_ctx *a)
{
	size_t it = 0;
	const void *k;
	void *v;
	htab keep;   /* offenders held for confirmation, until their hold runs out */
	bool kept = ht_init(&keep, KEYLEN, sizeof(pend), 256) == 0;
	while (ht_next(&a->pending, &it, &k, &v)) {
		bool created;
		const pend *e = v;
		if (e->held) {
			pend *h = kept && e->e.last_us + a->cfg.hold_us >= a->input_us ?
			          ht_put(&keep, k, &created) : NULL;
			if (h)
				*h = *e;
			continue;
		}
		if (e->clean)
			continue;
		uint64_t *t = ht_put(&a->committed, k, &created);
		if (t && e->e.last_us > *t)
			*t = e->e.last_us;
	}
	it = 0;
	while (ht_next(&a->legit48, &it, &k, &v))
		((legit_rec *)v)->dirty = 0;
	ht_free(&a->pending);
	ht_free(&a->rej4);
	ht_free(&a->revoked);
	(void)ht_init(&a->revoked, 4, sizeof(spare_rec), 16);
	if (kept)
		a->pending = keep;
	else
		(void)ht_init(&a->pending, KEYLEN, sizeof(pend), 256);
	(void)ht_init(&a->rej4, 4, sizeof(evid), 16);
	forget_old(a);
}
