/* aggr.h: from association verdicts to prefix listings with evidence, committed in batches. */
#ifndef V6R_AGGR_H
#define V6R_AGGR_H

#include <stdbool.h>
#include <stdint.h>

#include "../zone/addr.h"
#include "../zone/evid.h"
#include "../zone/store.h"
#include "assoc.h"
#include "htab.h"

/*
 * Aggregation policy (defaults, justified in the README):
 *  - an offender lists its /64 (the usual end-site subnet; hosts rotate privacy addresses in
 *    it, RFC 8981), unless that /64 shows several hosts (addresses active over overlapping
 *    spans, or one with a stable EUI-64/manual identifier beside another address: a NAT'd
 *    LAN): then only the offending /128s, and an earlier sensor
 *    listing of the /64 is withdrawn; a 6to4 offender lists its 2002:V4::/48 (one IPv4 host), a
 *    Teredo offender only its /128 (the /32 is shared by every Teredo user);
 *  - a /48 is listed (origin aggregate) when at least agg48_min distinct /64s in it are listed by
 *    the sensor and no sender in it behaved legitimately (paired with a non-rejected IPv4);
 *  - never inside an operator exclusion, an allowlist prefix, or over an operator entry;
 *  - a /64 that floods (at least flood_min attempts, fewer than a fifth of them associated) or
 *    reuses one source port for portreuse_min attempts is a misbehaving MTA: never listed;
 *  - automatic listings expire expire_s after their last evidence (input time), renewed by new
 *    evidence; evidence older than that lists nothing.
 */
typedef struct ag_cfg {
	uint64_t expire_s;       /* 30 days */
	unsigned agg48_min;      /* 4 */
	unsigned flood_min;      /* 100 */
	unsigned portreuse_min;  /* 20 */
	unsigned confirm_min;    /* 1: attempts that list an address tied by timing alone */
	uint64_t hold_us;        /* 1 day: how long a first such attempt waits for a second */
	uint8_t code[4];         /* sensor listings: 127.0.0.2 */
	uint8_t code48[4];       /* aggregates: 127.0.0.3 */
	bool publish_v4;         /* list the rejected IPv4 addresses too (off) */
	uint8_t code_v4[4];      /* 127.0.0.4 */
} ag_cfg;

void ag_cfg_defaults(ag_cfg *c);

/* Report counters: [os][assoc] hosts and attempts, [addr type][assoc] likewise. */
enum { AG_OS_N = 6, AG_TYPE_N = 5 };   /* types: 6to4, eui64, embedded ipv4, teredo, other */

typedef struct ag_report {
	uint64_t hosts_os[AG_OS_N][2], att_os[AG_OS_N][2];
	uint64_t hosts_type[AG_TYPE_N][2], att_type[AG_TYPE_N][2];
} ag_report;

typedef struct ag_ctx {
	ag_cfg cfg;
	store *st;
	htab pending;            /* offender key (17: /128, or 6to4 /48) -> evidence of this batch */
	htab committed;          /* listing key (17) -> uint64 last_us already in the store */
	htab src64;              /* /64 (8) -> source behaviour */
	htab legit48;            /* /48 (6) -> uint64 last legit time, to persist */
	htab seen;               /* /128 (16) -> uint8 flags: counted host, associated (report) */
	htab rej4;               /* publish_v4: IPv4 (4) -> evid */
	htab off128;             /* offender addresses seen (16) */
	htab off64n;             /* /64 (8) -> distinct offender addresses in it */
	htab revoked;            /* IPv4 (4) -> spared sender: listings tied to it to withdraw */
	htab flood64;            /* /64s found misbehaving (8): few, so ag_quiet stays in cache */
	addr_pfx *allow;         /* allowlist prefixes */
	size_t n_allow;
	bool report;
	ag_report rep;
	uint64_t now;            /* wall clock for expiry decisions */
	uint64_t input_us;       /* input time reached (set by the caller before ag_write) */
	uint64_t swept_us;       /* input time of the last forgetting of old state */
	/* results of the last commit */
	uint64_t listed, renewed, skipped_excluded, skipped_operator, skipped_misbehaving,
	         skipped_stale, aggregates, v4_listed, narrowed;
	uint64_t revoked_ties;   /* pending ties dropped because their IPv4 turned out shared */
	uint64_t held;           /* offenders waiting for a confirming attempt (last commit) */
	uint64_t skipped_clean;  /* offenders paired more often with their own clean IPv4 */
	uint64_t withdrawn;      /* committed listings withdrawn: their IPv4 turned out shared */
} ag_ctx;

int ag_init(ag_ctx *a, const ag_cfg *cfg, store *st, bool report);
void ag_free(ag_ctx *a);

/* Adds allowlist prefixes (never listed). Copies them. */
int ag_allow(ag_ctx *a, const addr_pfx *p, size_t n);

/* Takes one verdict (the assoc callback). */
void ag_verdict(ag_ctx *a, const as_verdict *v);

/* Whether src is never listed: inside an allowlist prefix, or in a /64 found misbehaving. */
bool ag_quiet(const ag_ctx *a, const uint8_t src[16]);

/* A verdict on an attempt from src comes soon: prefetch its per-source records. */
void ag_prefetch(const ag_ctx *a, const uint8_t src[16]);

/* Takes one rejection (for publish_v4). */
void ag_reject(ag_ctx *a, const ev_reject *r);

/*
 * Writes the pending listings and evidence inside the caller's write transaction. Restartable
 * (store_write may rerun it): in-memory state changes only in ag_committed().
 */
int ag_write(ag_ctx *a, store_txn *t);

/* Call after the transaction that ran ag_write committed. */
void ag_committed(ag_ctx *a);

/* Number of listing prefixes waiting for the next commit. */
size_t ag_pending(const ag_ctx *a);

#endif
