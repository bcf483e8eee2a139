/* assoc.h: ties IPv6 attempts at the sensor to IPv4 addresses that production MTAs rejected. */
#ifndef V6R_ASSOC_H
#define V6R_ASSOC_H

#include <stdbool.h>
#include <stdint.h>

#include "attempt.h"
#include "enrich.h"
#include "event.h"
#include "htab.h"

/*
 * The score of tying an IPv6 attempt A6 (at the sensor, time t6, port p6) to an IPv4 address X,
 * strongest evidence first (DESIGN.md "Association"; INPUTS.md section 1 ranks the features):
 *
 *   100  X is embedded by standard in A6's source: 6to4, Teredo client, ISATAP, NAT64
 *    80  X equals the apparent IPv4 in the low 32 bits of A6's source (ipv4-32)
 *    40  chain: a production MTA rejected X at tr with 0 <= t6 - tr <= chain window: the
 *        sender moved on to the lower-priority sensor MX after the rejection
 *    30  pair: an IPv4 attempt from X at the sensor within the pair window of t6 (the same
 *        host falling back between the sensor's AAAA and A), +10 when within 5 s; an IPv4
 *        attempt pairs only with the IPv6 attempt closest to it in time
 *    10  order: native IPv6 tried before IPv4, or IPv4 before a 6to4 address (RFC 6724)
 *    30  port sequence: X's source port (at the sensor, or logged at production) within
 *        `port_gap` after or before p6 (Windows shares one ephemeral pool across families)
 *    10  same OS class from the SYN fingerprints; different known classes: -100 (ruled out)
 *    10  same origin AS (asn-file data), for every candidate
 *    20  the same PTR name (ptr-file, or live lookups), 10 names in one domain (enrich.h says
 *        which domains count), for rejected candidates only (a live lookup is spent only where
 *        it can convict)
 *
 * A6 is tied to the X with the best score; it is an offender when X has a DNSBL rejection
 * within the reject window of t6 and the score reaches min_score (default 60: two independent
 * timing features, or any embedding). An IPv4 shared by several IPv6 hosts (a NAT: tied by
 * timing to nat_max other /64s, or to another address of the same /64 active at the same time,
 * unlike a host rotating privacy addresses) was listed by the DNSBL for one of them, and every
 * one of them shows the same evidence, port sequences included (they do use X). The hosts
 * behind X are known by their convicting ties and also by their pairs with X's sensor attempts
 * that convict nobody (score >= 40): a member that reaches the sensor only while the primary MX
 * is down pairs with X as surely as the spammer does. Once X is seen shared, the timing ties to
 * it are revoked and only its dominant sender is convicted: the host whose sensor attempts
 * followed X's production rejections (a chain) at least 3 times, twice as often as any other
 * host behind X; spamware moves on to the next MX after a DNSBL rejection, a legitimate MTA
 * does not (a 5xx is final), so the chain names the sender behind the NAT.
 * An attempt paired confidently (score >= 40 without the chain) with an IPv4 that was NOT
 * rejected is legitimate sender behaviour, which keeps its /48 from being aggregated; the
 * verdict marks it `clean`, and aggr does not list an address that paired with its own clean
 * IPv4 at least as often as with a rejected one (it fell near another host's fallback).
 */
typedef struct as_cfg {
	uint64_t pair_us;       /* default 30 s */
	uint64_t chain_us;      /* default 300 s */
	uint64_t reject_us;     /* default 24 h */
	unsigned min_score;     /* default 60 */
	unsigned port_gap;      /* default 16 */
	unsigned nat_max;       /* default 2 */
} as_cfg;

void as_cfg_defaults(as_cfg *c);

typedef struct as_verdict {
	att a;                  /* the IPv6 attempt */
	uint8_t kind;           /* enum at_kind of its source */
	bool offender;
	bool legit;             /* confidently paired with a non-rejected IPv4 */
	bool clean;             /* and that pairing alone scores min_score: the host's own IPv4,
	                           which no DNSBL listed (set on offender verdicts too) */
	bool shared;            /* the tie was to a NAT-like IPv4 and too weak */
	bool revoke;            /* not an attempt: v4 turned out shared; drop timing-only ties to it,
	                           except those of a.src when a.syns is 1 (its dominant sender) */
	uint8_t v4[4];          /* the IPv4 tied (valid when score > 0) */
	unsigned score;
	uint16_t features;      /* EVID_F_* */
	uint32_t rejects;       /* rejections of v4 in the window */
} as_verdict;

typedef void (*as_verdict_fn)(const as_verdict *v, void *arg);

/* The rejection history of one IPv4, as kept in memory and persisted by ingest. */
#define AS_REJ_RING 4
typedef struct as_rej_rec {
	uint64_t last_us;
	uint32_t count;
	uint64_t t[AS_REJ_RING];
	uint16_t port[AS_REJ_RING];
} as_rej_rec;

typedef struct as_reject_ev { uint8_t v4[4]; uint16_t port; uint64_t t; } as_reject_ev;

typedef struct as_seen { uint64_t t; uint8_t src[16]; } as_seen;

/*
 * A time-ordered window of fixed-size items (each holds a uint64_t time at toff): items arrive
 * nearly in time order and are inserted from the back, old ones leave from the front, and a
 * range of times is found by binary search, so no decision scans a whole window.
 */
typedef struct as_win {
	uint8_t *buf;
	size_t size, toff;
	size_t lo, hi, cap;     /* items buf[lo..hi), sorted by time */
} as_win;

typedef struct as_ctx {
	as_cfg cfg;
	as_verdict_fn on_verdict;
	void *arg;
	void (*on_next)(const att *a, void *arg);   /* optional: the attempt decided next, to prefetch for */
	en_ctx *en;             /* optional: ASN and PTR data */
	/* optional: a source that is never listed (allowlisted, a flooding MTA); its attempts are
	 * decided, but do not compete for pairs nor make an IPv4 look shared */
	bool (*quiet)(const uint8_t src[16], void *arg);
	htab rej;               /* v4 -> rejection history (dropped a reject window after its last) */
	htab nat;               /* v4 -> IPv6 hosts tied by timing */
	as_win v4w;             /* closed IPv4 sensor attempts (att), by first SYN */
	as_win v6w;             /* IPv6 attempts pending or decided recently (as_seen), by first SYN */
	as_win rw;              /* recent rejections (as_reject_ev), by time: chain candidates */
	att *v6q;               /* closed IPv6 attempts awaiting their decision, in closing order */
	size_t v6_head, v6_len, v6_cap;
	uint32_t *dirty;        /* IPv4s (network order) whose history changed since as_rej_clean */
	size_t n_dirty, dirty_cap;
	uint32_t *gone;         /* IPv4s forgotten since as_rej_clean */
	size_t n_gone, gone_cap;
	uint32_t *nat_dirty, *nat_gone;   /* the same for the NAT histories */
	size_t n_nat_dirty, nat_dirty_cap, n_nat_gone, nat_gone_cap;
	uint64_t watermark;     /* input time reached */
	uint64_t delay_us;      /* how long a v6 attempt waits for its IPv4 partners */
	uint64_t swept_us;      /* input time of the last sweep of old rejections */
	/* counters for the report */
	uint64_t rejects, rejects_v6, v6_attempts, v4_attempts, offenders, legit, shared;
} as_ctx;

int as_init(as_ctx *c, const as_cfg *cfg, uint64_t att_window_us, as_verdict_fn fn, void *arg);
void as_free(as_ctx *c);

/* A closed sensor attempt of either family. Returns 0 or V6R_ENOMEM. */
int as_attempt(as_ctx *c, const att *a);

/* A production DNSBL rejection (IPv4 ones take part; IPv6 ones are only counted). */
int as_reject(as_ctx *c, const ev_reject *r);

/* Input time has reached now_us: decide the IPv6 attempts whose partners have all been seen. */
void as_advance(as_ctx *c, uint64_t now_us);

/* End of input: decide everything pending. */
void as_flush(as_ctx *c);

/* Earliest first SYN among pending IPv6 and held IPv4 attempts (UINT64_MAX when none). */
uint64_t as_min_time(const as_ctx *c);

/* Rejection history of X for persisting: last time and count; returns false when unknown. */
bool as_rejected(const as_ctx *c, const uint8_t v4[4], uint64_t at_us, uint32_t *count);

/*
 * Persisting the rejection index across restarts (reject logs are read exactly once, so the
 * index must outlive the process): load records at start; after each batch, visit the records
 * changed since the last as_rej_clean, store them, and clean once the batch committed. A record
 * that left the reject window is visited with rec NULL: delete it.
 */
int as_rej_load(as_ctx *c, const uint8_t v4[4], const as_rej_rec *rec);
void as_rej_loaded(as_ctx *c);   /* after the last as_rej_load */
typedef int (*as_rej_fn)(const uint8_t v4[4], const as_rej_rec *rec, void *arg);
int as_rej_dirty(as_ctx *c, as_rej_fn fn, void *arg);
void as_rej_clean(as_ctx *c);   /* after the batch committed: rejections and NAT histories */

/* The NAT histories (which IPv6 hosts were tied to an IPv4, whether it was found shared), an
 * opaque record of AS_NAT_REC bytes each, persisted the same way; rec NULL: delete. */
#define AS_NAT_REC 336
int as_nat_load(as_ctx *c, const uint8_t v4[4], const void *rec, size_t len);
typedef int (*as_nat_fn)(const uint8_t v4[4], const void *rec, size_t len, void *arg);
int as_nat_dirty(as_ctx *c, as_nat_fn fn, void *arg);

#endif
