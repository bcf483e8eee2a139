/* answer.h: the answering core: one DNS query message in, one response message out. */
#ifndef V6R_ANSWER_H
#define V6R_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../zone/cfg.h"
#include "../zone/store.h"
#include "../zone/tmpl.h"

#define ANS_MIN_UDP 512u

/*
 * Everything about the zone that answers need, rendered once from the settings (at start and on
 * SIGHUP): the apex in lower-case wire form, the SOA RDATA with its serial patched per answer,
 * the NS RDATA, TTLs and the compiled TXT template. Immutable while workers use it.
 */
typedef struct ans_zone {
	uint8_t apex[256];          /* wire form, lower case */
	unsigned apex_len;          /* bytes */
	unsigned apex_labels;       /* labels, not counting the root */
	char apex_text[256];        /* without trailing dot, for {zone} */
	uint8_t soa_rdata[600];     /* mname rname serial refresh retry expire minimum */
	unsigned soa_rdlen;
	unsigned soa_serial_off;    /* offset of the serial inside soa_rdata */
	uint8_t ns_rdata[CFG_MAX_NS][256];
	unsigned ns_rdlen[CFG_MAX_NS];
	unsigned n_ns;
	uint32_t ttl, soa_ttl, ns_ttl, neg_ttl;
	uint16_t udp_max;           /* largest UDP response we send (>= 512) */
	tmpl txt;
	char default_reason[CFG_TEXT_MAX];
} ans_zone;

/* Renders z from finished settings c. Returns 0 or V6R_EINVAL with a message in err. */
int ans_zone_init(ans_zone *z, const cfg *c, char *err, size_t errlen);

typedef struct ans_stats {
	uint64_t queries, noerror, nxdomain, refused, formerr, notimp, servfail, badvers;
	uint64_t dropped, truncated;
} ans_stats;

/* Per-worker context: the zone, this worker's store reader and the time for expiries. */
typedef struct ans_ctx {
	const ans_zone *zone;
	store_reader *rd;
	uint64_t now;               /* unix seconds, set by the caller per batch */
	ans_stats st;
} ans_ctx;

/*
 * Answers query message q[0..qlen) into out[0..cap). tcp says whether the query came over TCP
 * (the response may then use all of cap, up to 65535); over UDP the response is limited to 512
 * bytes, or to the EDNS0 size the client offered capped at zone->udp_max, and TC is set when
 * the answer does not fit. Returns the response length, or 0 when nothing must be sent (QR set,
 * shorter than a header). Never allocates; never reads beyond qlen nor writes beyond cap
 * (cap must be at least 512).
 */
size_t ans_query(ans_ctx *c, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, bool tcp);

#endif
