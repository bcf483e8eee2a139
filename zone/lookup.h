/* lookup.h: the one answer semantics (DESIGN.md): from reversed name or address to a verdict. */
#ifndef V6R_LOOKUP_H
#define V6R_LOOKUP_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"

typedef enum lk_verdict {
	LK_NXDOMAIN = 0,  /* the name does not exist */
	LK_NODATA = 1,    /* the name exists (something listed below it) but has no records */
	LK_LISTED = 2,    /* the name has the deciding listing's A and TXT (directly or by wildcard) */
} lk_verdict;

typedef struct lk_result {
	lk_verdict verdict;
	store_entry e;      /* the deciding listing when LK_LISTED (reason borrowed from the reader) */
	uint8_t addr[16];   /* the address the name spells (partial names: the prefix bits) */
	bool full;          /* the name spells a whole address (32 nibbles or 4 octets) */
	bool v4;            /* the IPv4 reading decided */
} lk_result;

/*
 * Decides the name whose labels below the zone apex are labs[0..n) (labs[i] points at the
 * length octet of label i, leftmost first; n >= 1). Two readings: nibbles (RFC 5782 IPv6, up to
 * 32 labels) and, when every label is a decimal octet and there are at most 4, IPv4.
 *
 * For a reading whose labels are all valid:
 *  - full name: LISTED when the longest matching entry is a listing, else NXDOMAIN;
 *  - partial name of prefix P: LISTED when the longest entry covering P is a listing (the
 *    wildcard of a covering listing, RFC 4592), else NODATA when a listing lies at or below P,
 *    else NXDOMAIN (so RFC 8020 resolvers never lose a listing below a wrong NXDOMAIN).
 * A name with invalid labels below a valid nibble part P is LISTED only when an IPv6 listing
 * covering P would synthesise it as a wildcard, else NXDOMAIN; IPv4 listings never decide names
 * of more than 4 labels (a 32-label name is judged by the IPv6 reading alone).
 * Where both readings apply (1 to 4 single-digit labels): a 4-label name is an IPv4 address,
 * LISTED only by an IPv4 listing (the IPv6 reading can make it NODATA); a shorter name takes the
 * stronger verdict, IPv4 on a tie.
 * RFC 5782 test points are built in: ::ffff:127.0.0.2 (127.0.0.2) is always listed with code
 * 127.0.0.2, ::ffff:127.0.0.1 (127.0.0.1) never.
 * Returns 0 or a negative store error. Allocates nothing.
 */
int lk_name(store_reader *r, const uint8_t *const *labs, unsigned n, uint64_t now,
            lk_result *res);

/*
 * Decides one address (16 bytes; v4 for an IPv4 query, which considers only IPv4 prefixes).
 * Fills *e with the deciding entry (a listing, an exclusion, or the built-in test point) when
 * there is one. Returns 1 when listed, 0 when not (with *found saying whether *e was set), or a
 * negative error.
 */
int lk_addr(store_reader *r, const uint8_t a[16], bool v4, uint64_t now, store_entry *e,
            bool *found);

/* The built-in RFC 5782 test point entry (::ffff:127.0.0.2/128, code 127.0.0.2). */
const store_entry *lk_test_point(void);

#endif
