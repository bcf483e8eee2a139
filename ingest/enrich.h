/* enrich.h: offline enrichment for association: IP-to-ASN and PTR names (files, optional live DNS). */
#ifndef V6R_ENRICH_H
#define V6R_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Addresses are 16 bytes in the project's one address space (zone/addr.h): IPv4 a.b.c.d is
 * ::ffff:a.b.c.d, so an IPv4 /24 is a /120 here. The context is not thread-safe: ingest uses it
 * from its one thread.
 */
typedef struct en_ctx en_ctx;

/* Creates an empty context: no ASN data, no PTR names, live lookups off. 0 or V6R_ENOMEM. */
int en_new(en_ctx **out);

/* Frees e and everything it owns (NULL is fine). */
void en_free(en_ctx *e);

/* ---- loading ---- */

#define EN_MSGS_KEPT 5        /* bad-line messages kept per load */
#define EN_MSG_MAX 320

/* What the last en_asn_load / en_ptr_load (or their _mem forms) read; owned by e. */
typedef struct en_load_info {
	const char *format;        /* "pfx2as", "cymru", "ptr" ("" when the input had no entries) */
	uint64_t lines;            /* lines read */
	uint64_t entries;          /* prefixes or names taken */
	uint64_t skipped;          /* comments, headers, Cymru "NA" (unknown) rows, other RR types */
	uint64_t bad;              /* lines that did not parse: counted and skipped */
	unsigned long first_bad;   /* line number of the first bad line, 0 when none */
	unsigned n_msgs;           /* messages kept: "path:line: reason ('text')", first bad lines */
	char msgs[EN_MSGS_KEPT][EN_MSG_MAX];
} en_load_info;

const en_load_info *en_last_load(const en_ctx *e);

/*
 * Loads IP-to-ASN data from path (plain or gzip), adding to what e holds; a prefix given again
 * (in this file or an earlier one) takes the later ASN. The format is told by the content:
 *
 * - CAIDA RouteViews prefix2as (routeviews-rv2 / rv6 .pfx2as[.gz]): "PREFIX<TAB>LENGTH<TAB>AS",
 *   IPv4 or IPv6. AS is one number, "A_B_C" (multi-origin: the first, the most seen origin) or
 *   "A,B" (an AS set: the first).
 * - Team Cymru bulk whois output (netcat whois.cymru.com 43 with begin / [verbose] / end): a
 *   "Bulk mode; whois.cymru.com [...]" line, maybe a column header, then "AS | IP | BGP Prefix |
 *   CC | Registry | Allocated | AS Name" rows (verbose) or "AS | IP | AS Name" rows (the entry is
 *   then the IP's /32 or /128). "NA" as AS (not routed) and "Error:" lines are skipped.
 *
 * Bad lines are counted and skipped (en_last_load). Returns 0; V6R_EIO when the file cannot be
 * opened or read (then e keeps what it held before the call); V6R_ENOMEM. err gets
 * "failed to read ASN file PATH (reason)".
 */
int en_asn_load(en_ctx *e, const char *path, char *err, size_t errlen);

/* The same from memory (plain text); name stands for the path in messages. */
int en_asn_load_mem(en_ctx *e, const char *text, size_t len, const char *name, char *err,
                    size_t errlen);

/*
 * Origin AS of the longest loaded prefix holding addr, 0 when none. An interval table per
 * family built at load: one binary search inside a 16-bit bucket, no allocation.
 */
uint32_t en_asn(const en_ctx *e, const uint8_t addr[16]);

/*
 * Loads PTR names from path, adding to what e holds (a later name for an address wins). Lines,
 * '#' or ';' starting a comment:
 *   ADDRESS NAME                                   192.0.2.7 mail.example.org.
 *   REVERSE-NAME [TTL] [IN] PTR NAME              7.2.0.192.in-addr.arpa. 3600 IN PTR mail.example.org.
 * (reverse names: 4 in-addr.arpa octets or 32 ip6.arpa nibbles; zone-form targets must be
 * absolute, as $ORIGIN is not followed). Names are stored lower case without the final dot.
 * Other record types and $ directives are skipped, bad lines counted. Returns 0, V6R_EIO (with
 * err; entries read before a read error stay loaded) or V6R_ENOMEM.
 */
int en_ptr_load(en_ctx *e, const char *path, char *err, size_t errlen);
int en_ptr_load_mem(en_ctx *e, const char *text, size_t len, const char *name, char *err,
                    size_t errlen);

/* ---- live PTR lookups (off unless en_live_enable) ---- */

#define EN_MAX_SERVERS 4
#define EN_NAME_MAX 253       /* presentation form, no final dot */

typedef struct en_server {
	char host[64];             /* numeric IPv4 or IPv6 address */
	uint16_t port;             /* 0 = 53 */
} en_server;

typedef struct en_live_cfg {
	en_server server[EN_MAX_SERVERS];
	unsigned n_servers;        /* 0 = the nameservers of resolv_conf; all must share one port */
	const char *resolv_conf;   /* NULL = /etc/resolv.conf */
	uint32_t timeout_s;        /* per query and server, one try (default 1) */
	uint32_t cache_max;        /* cached answers at most (default 100000; at least 4) */
	uint32_t budget;           /* queries sent per run at most (default 10000) */
} en_live_cfg;

void en_live_defaults(en_live_cfg *c);

/*
 * Turns live lookups on: en_ptr then asks the resolver(s) for names that no PTR file gave.
 * Answers are cached by address in a 4-way set-associative table of cache_max entries (a full
 * set evicts its entry that expires first): names for their TTL (at least 60 s, at most 1 d),
 * NXDOMAIN, no PTR, SERVFAIL and no answer (timeout, network error) for 1 h. A miss sends a
 * query only while the budget lasts; after 10 unanswered queries in a row live lookups pause
 * for 10 minutes, so a dead resolver costs at most 10 timeouts per pause. Returns 0,
 * V6R_EINVAL (bad server, unreadable resolv.conf; err says which) or V6R_ENOMEM.
 */
int en_live_enable(en_ctx *e, const en_live_cfg *c, char *err, size_t errlen);

/* For tests: the clock (seconds) and the query (replacing ldns) that live lookups use. */
typedef int64_t (*en_clock_fn)(void *arg);
void en_set_clock(en_ctx *e, en_clock_fn fn, void *arg);

enum en_answer {
	EN_ANS_NAME = 1,           /* name (lower case, no final dot) and ttl set */
	EN_ANS_NONE = 0,           /* NXDOMAIN or no PTR record */
	EN_ANS_TIMEOUT = -1,       /* no answer: timeout or network error */
	EN_ANS_ERROR = -2,         /* SERVFAIL, REFUSED, an unusable name */
};
/* qname: "7.2.0.192.in-addr.arpa." or the ip6.arpa nibble name. Returns an en_answer. */
typedef int (*en_query_fn)(void *arg, const char *qname, char *name, size_t cap, uint32_t *ttl);
void en_set_query(en_ctx *e, en_query_fn fn, void *arg);

/*
 * The PTR name of addr, or NULL: from the PTR files, else (live lookups on) from the cache or
 * one query. The string belongs to e and stays valid until the next en_ptr, en_ptr_agree,
 * load or en_free on e.
 */
const char *en_ptr(en_ctx *e, const uint8_t addr[16]);

/* ---- agreement, for association scoring (assoc.c) ---- */

/* True when both addresses have a known origin AS and it is the same. */
bool en_same_asn(const en_ctx *e, const uint8_t a6[16], const uint8_t v4_16[16]);

/*
 * How far the PTR names of an IPv6 and an IPv4 address agree:
 *   2  the names are equal: one host, one name (mail.example.org for both);
 *   1  the parents (each name without its first label) are equal, and
 *      - the parent has at least 2 labels (example.org; a bare TLD says nothing),
 *      - the parent is not a registry suffix of the form SLD.CC with SLD one of co, com, net,
 *        org, gov, edu, ac, ne, or, go, gob, mil, ltd, plc (co.uk, com.au, ne.jp),
 *      - and the IPv4 name's first label does not spell the IPv4 address (its decimal octets
 *        in order or reversed, as in 203-0-113-7.dsl.isp.net): such pool names name the ISP,
 *        which the ASN agreement already counts, not the host;
 *      e.g. mail.example.co.uk / mx6.example.co.uk, a.example.com / b.example.com;
 *   0  otherwise, or when a name is unknown.
 * May send live queries (en_ptr).
 */
int en_ptr_agree(en_ctx *e, const uint8_t a6[16], const uint8_t v4_16[16]);

/* ---- counters ---- */

typedef struct en_stats_t {
	uint64_t asn_v4, asn_v6;            /* prefixes loaded (IPv4, IPv6) */
	uint64_t asn_files, ptr_files;
	uint64_t ptr_names;                 /* addresses with a name from the PTR files */
	uint64_t ptr_file_hits;             /* en_ptr answered from the files */
	uint64_t live_hits, live_misses;    /* cache, when the files had no name */
	uint64_t live_queries;              /* sent (counts against the budget) */
	uint64_t live_names, live_nxdomain; /* answered with a name / NXDOMAIN or no PTR */
	uint64_t live_timeouts, live_errors;
	uint64_t live_over_budget;          /* misses not queried: budget spent */
	uint64_t live_paused;               /* misses not queried: paused after timeouts */
	uint64_t live_evictions, live_cached;
	bool live;
} en_stats_t;

void en_stats(const en_ctx *e, en_stats_t *out);

#endif
