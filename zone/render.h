/* render.h: the store rendered as the records of a standard DNS zone (DESIGN.md "What the server answers"). */
#ifndef V6R_RENDER_H
#define V6R_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "cfg.h"
#include "store.h"
#include "tmpl.h"

/*
 * The rendering makes a standard authoritative server (NSD, Knot, BIND) give the verdicts of
 * zone/lookup.h for every name lk_name decides: listed prefixes become wildcards at their nibble
 * (or octet) nodes, prefixes off a boundary are split into the aligned pieces they cover, empty
 * non-terminals (and other nodes) inside a listing get the covering listing's wildcard (RFC 4592),
 * exclusions become holes (a node that exists, so the covering wildcard does not apply below it),
 * the RFC 5782 test points and the SOA/NS are included. The TXT is rendered with {addr} replaced
 * by the deciding prefix, since a secondary cannot substitute the queried address.
 *
 * The records, per node of the two name trees (nibbles, RFC 5782; octets, IPv4):
 *  - a node whose deciding entry (the longest entry no longer than the node) is a listing gets
 *    that listing's A and TXT, and so does its wildcard "*.node" unless the listing is a /128
 *    (or /32): every partial name answers as lk_name does (LK_LISTED with records), every name
 *    below it that no more specific entry claims is synthesised. The nodes are the listings'
 *    pieces and every node on the path to a piece (the RFC 4592 repair);
 *  - a hole is a piece whose deciding entry is an exclusion (or the ::ffff:127.0.0.1 test
 *    point) under a wildcard: it gets one record of type RD_HOLE_TYPE (65280, private use,
 *    empty RDATA, "\# 0"), a type no MTA asks for, so the node exists and the wildcard above
 *    stops there. Exclusions that no wildcard covers render nothing. A listing off the
 *    boundary whose every piece a longer exclusion of the same nibble (octet) overrides gets a
 *    hole at its last piece: lk_name answers NODATA above it (a listing lies below), so its
 *    names must exist;
 *  - the apex has the SOA (serial of the snapshot) and the NS, never a wildcard: a /0 (IPv6 or
 *    IPv4) is split into the 16 (256) nodes below the apex.
 * TTLs: ttl for A, TXT and holes, soa-ttl for the SOA, ns-ttl for NS, as v6repd answers.
 *
 * Where the trees share names (1 to 4 labels that are all single digits: "1.0.0.2" is both
 * 2001::/16 and 2.0.0.1), lk_name's rules for such names are followed: the node's own records
 * are lk_name's verdict for it, its wildcard is the IPv6 one (names below it are nibble names),
 * an IPv4 listing whose octet node is such a name is split into its 256 children (recursively;
 * a 0.0.0.0/8-style /8 becomes about 28,000 nodes), and the 256 four-label children of a
 * three-digit node inside an IPv6 listing (of /9 to /12) are written out as holes, since
 * lk_name says NODATA for those IPv4 names where the IPv6 wildcard would say listed.
 *
 * What a standard server answers differently from v6repd (all other names agree):
 *  - holes answer NOERROR/NODATA where lk_name says NXDOMAIN (an excluded node inside a
 *    listing, including a whole excluded /128 and ::ffff:127.0.0.1, and the last piece of a
 *    wholly overridden listing): "not listed" either way;
 *  - names with a label that is not an octet, or with more than 4 labels, below an IPv4
 *    wildcard (x.2.0.192.ZONE, 5.4.2.0.192.ZONE): synthesised as listed, NXDOMAIN at v6repd.
 *    No MTA asks such names; writing every /32 would match them at the cost of 256 nodes per
 *    /24;
 *  - an IPv6 listing of /8 or shorter that covers a two-digit prefix (00::/8 .. 99::/8): the
 *    four-label IPv4 names a.b.c.d below its wildcard answer with its records where lk_name says
 *    NODATA (65,536 to 16.7 million explicit nodes would be needed). The render reports each
 *    such listing through the warning callback;
 *  - an IPv4 listing of /24 or shorter whose octet node is an all-digit name (and is split)
 *    while exclusions of its own octet override all its nodes: the names above it answer
 *    NXDOMAIN where lk_name says NODATA (nothing below them is listed);
 *  - {addr} in the TXT template: the deciding prefix instead of the queried address.
 */

/* The record type of holes (private use, RFC 6895). */
#define RD_HOLE_TYPE 65280u

/* One record: owner in wire form (absolute, lower case), rdata in wire form (no compression). */
typedef struct rd_rr {
	const uint8_t *owner;
	unsigned owner_len;
	uint16_t type;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
} rd_rr;

/* Called for each record; a non-zero return stops the rendering and is returned. */
typedef int (*rd_fn)(const rd_rr *rr, void *arg);

/* Called for an entry the rendering cannot make a standard server answer exactly as v6repd. */
typedef void (*rd_warn_fn)(const store_entry *e, const char *why, void *arg);

/* The zone-wide parts, built once from finished settings (apex, SOA, NS, TTLs, template). */
typedef struct rd_zone rd_zone;

/*
 * Builds the zone parts from settings completed by cfg_finish (zone set, NS present). Returns
 * 0, V6R_ENOMEM, or V6R_EINVAL with "failed to ... (reason 'text')" in err (no zone, a bad name,
 * an apex too long for 32 nibble labels and a wildcard below it, a bad template).
 */
int rd_zone_new(const cfg *c, rd_zone **out, char *err, size_t errlen);
void rd_zone_free(rd_zone *z);

/* Sets the warning callback (none by default). Not to be changed while a render runs. */
void rd_zone_set_warn(rd_zone *z, rd_warn_fn fn, void *arg);

/*
 * Renders the whole zone from the reader's current snapshot (the caller brackets it with
 * store_reader_begin/end, so a transfer never mixes serials): the SOA first (with the
 * snapshot's serial), then every other record, each once: the NS, the nibble tree in key
 * order, the octet tree in key order, then the shared all-digit names. Entries expired at
 * `now` are left out (now = 0: none is). AXFR senders add the closing SOA themselves.
 * Streams: it holds one stack frame per nesting level (about 200 KiB in all, allocated per
 * call) and the prefixes of the unexpired exclusions of the tree being walked (17 bytes
 * each), never the zone; the store is read with store_reader_walk_within, store_lpm and
 * lk_name. Returns 0, fn's value, V6R_ENOMEM or a store error.
 */
int rd_render(const rd_zone *z, store_reader *r, uint64_t now, rd_fn fn, void *arg);

/*
 * Renders only the records whose owner lies at or below the node of prefix `region` (used to
 * compute IXFR differences for the region a change affects): the nibble node of
 * floor(len/4) labels and, for a prefix inside ::ffff:0:0/96 of /96 or longer, also the octet
 * node of floor((len-96)/8) labels. These are exactly the records rd_render gives for those
 * owners (as a set; the order may differ). Same contract as rd_render, without the SOA; the NS
 * records are included when a node is the apex. Note that the records at and below a shared
 * all-digit name depend on entries of both trees (lk_name's rules): 2.0.0.0/24 and 200::/12
 * meet at "0.0.2".
 */
int rd_render_region(const rd_zone *z, store_reader *r, uint64_t now, const addr_pfx *region,
                     rd_fn fn, void *arg);

/*
 * Writes rr as one RFC 1035 master-file line (absolute owner, TTL, class IN, type mnemonic or
 * TYPEnnn, RDATA; RFC 3597 "\# len hex" for unknown types; newline at the end). Returns the
 * length or V6R_ESPACE. RD_TEXT_MAX bytes always suffice.
 */
#define RD_TEXT_MAX 8192
int rd_rr_text(const rd_rr *rr, char *buf, size_t cap);

#endif
