/* ixfr.h: the record-level difference between an older serial and a store snapshot (RFC 1995). */
#ifndef V6R_IXFR_H
#define V6R_IXFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render.h"
#include "store.h"

/*
 * How a difference is computed. The store's journal (store_journal_since) gives the entry-level
 * changes after serial `from`. Each changed prefix P affects the records at or below the node of
 * the longest listing strictly covering P (its wildcard is copied onto the empty non-terminals
 * that entries below it create, RFC 4592), or at or below P itself when no listing covers it.
 * Those regions are merged (a region inside another is dropped) and rendered twice with
 * rd_render_region: from a scratch store holding the snapshot's entries that decide the region
 * (the entries at or below it and the ones covering it), and from a second scratch store holding
 * the same entries with the journal's changes reverted, which is the region as it was at `from`.
 * The sorted renderings are compared: what only the old one has is deleted, what only the new
 * one has is added (the condensed form of RFC 1995: one delete set and one add set).
 *
 * An IPv4 change's region is taken in the octet tree (its longest covering IPv4 listing), with a
 * second, nibble-only region when an IPv6 listing shorter than /96 covers it. Names of 1 to 4
 * single-digit labels belong to both trees and their records depend on entries of both
 * (render.h); a change whose region may hold such names (an IPv6 region of /16 or shorter, an
 * IPv4 region whose octets are all single digits, like 8.8.8.8/32) is not computed here:
 * V6R_ERANGE, and the caller sends the whole zone.
 *
 * Rendering for secondaries uses now = 0: a zone at a serial must be a function of the serial,
 * so entries count until a writer removes them (store_purge_expired, `v6rep expire`), which
 * changes the serial and reaches the secondaries as a deletion.
 */

typedef struct ix_limits {
	size_t max_changes;     /* journal changes after `from`; more: V6R_ERANGE */
	size_t max_records;     /* entries copied plus records rendered; more: V6R_ERANGE */
	const char *tmpdir;     /* directory for the scratch stores ("" or NULL: $TMPDIR or /tmp) */
} ix_limits;

typedef struct ix_diff ix_diff;

/*
 * Computes the difference between serial `from` and the snapshot of r (the caller brackets
 * the call with store_reader_begin/end and keeps the snapshot for sending the result). Returns
 * 0 with *out set; V6R_ENOTFOUND when the journal does not reach back to `from` (send the whole
 * zone); V6R_ERANGE when the difference is over the limits (send the whole zone too);
 * V6R_ENOMEM, V6R_EIO (scratch directory) or a store error, with a message in err.
 */
int ix_diff_compute(const rd_zone *z, store_reader *r, uint32_t from, const ix_limits *lim,
                    ix_diff **out, char *err, size_t errlen);

/* Records deleted (added = false) or added (true), in canonical order; the i-th one into *rr,
 * borrowed from d. */
size_t ix_diff_count(const ix_diff *d, bool added);
void ix_diff_get(const ix_diff *d, bool added, size_t i, rd_rr *rr);

/* Entry-level changes and merged regions the difference was computed from (for logs). */
size_t ix_diff_changes(const ix_diff *d);
size_t ix_diff_regions(const ix_diff *d);

void ix_diff_free(ix_diff *d);

#endif
