/* lookup.c: decides names and addresses against the store, with the RFC 5782 test points. */
#include "lookup.h"

#include <string.h>

#include "err.h"

static const char test_reason[] = "RFC 5782 test point";

static const store_entry test_point = {
	.pfx = { .a = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2 }, .len = 128 },
	.kind = STORE_LISTING,
	.origin = STORE_ORIGIN_OPERATOR,
	.code = { 127, 0, 0, 2 },
	.reason = test_reason,
	.reason_len = sizeof(test_reason) - 1,
};

static const uint8_t test_absent[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };

const store_entry *lk_test_point(void)
{
	return &test_point;
}

/*
 * The deciding entry for prefix a/len: the longest unexpired entry of length in [minlen, len]
 * that covers it. Returns 1 when it is a listing (copied to *e), 0 otherwise, <0 on error. The
 * test points take part as /128 entries.
 */
static int covering_listing(store_reader *r, const uint8_t a[16], unsigned minlen, unsigned len,
                            uint64_t now, store_entry *e)
{
	if (len == 128 && memcmp(a, test_point.pfx.a, 16) == 0) {
		*e = test_point;
		return 1;
	}
	if (len == 128 && memcmp(a, test_absent, 16) == 0)
		return 0;
	int rc = store_lpm(r, a, minlen, len, now, e);
	if (rc == V6R_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	return e->kind == STORE_LISTING;
}

/* Whether a listing (or the test point) lies at or below a/len. */
static int listed_below(store_reader *r, const uint8_t a[16], unsigned len, uint64_t now)
{
	addr_pfx p;
	memcpy(p.a, a, 16);
	p.len = (uint8_t)len;
	if (addr_contains(&p, test_point.pfx.a))
		return 1;
	return store_listed_below(r, &p, now);
}

/*
 * One reading of a name: `valid` labels decoded into key, from prefix bits base + valid*step,
 * of a name with n labels below the apex; `full` is the label count of a whole address.
 */
typedef struct reading {
	uint8_t key[16];
	unsigned valid, n, full, base, step;
} reading;

static int decide(store_reader *r, const reading *rd, uint64_t now, lk_result *res)
{
	unsigned len = rd->base + rd->valid * rd->step;
	int rc = covering_listing(r, rd->key, rd->base, len, now, &res->e);
	if (rc < 0)
		return rc;
	res->full = rd->valid == rd->full && rd->n == rd->full;
	memcpy(res->addr, rd->key, 16);
	if (rd->valid < rd->n) {
		/* Junk below a valid part: only a wildcard of a covering listing synthesises it; a
		 * whole-address node (/128) has no wildcard below it. */
		res->verdict = rc == 1 && res->e.pfx.len < 128 ? LK_LISTED : LK_NXDOMAIN;
		return 0;
	}
	if (rc == 1) {
		res->verdict = LK_LISTED;
		return 0;
	}
	if (res->full) {
		res->verdict = LK_NXDOMAIN;
		return 0;
	}
	rc = listed_below(r, rd->key, len, now);
	if (rc < 0)
		return rc;
	res->verdict = rc ? LK_NODATA : LK_NXDOMAIN;
	return 0;
}

int lk_name(store_reader *r, const uint8_t *const *labs, unsigned n, uint64_t now,
            lk_result *res)
{
	reading nib = { .n = n, .full = 32, .base = 0, .step = 4 };
	reading v4 = { .n = n, .full = 4, .base = ADDR_V4_BASE_LEN, .step = 8 };
	lk_result alt;
	int rc;

	memset(res, 0, sizeof(*res));
	res->verdict = LK_NXDOMAIN;
	nib.valid = addr_nibbles_wire(labs, n, nib.key);
	/* A name is an IPv4 name only when every label is an octet: IPv4 listings never decide
	 * longer names, so they cannot reach into the nibble tree (2.0.0.0/24 must not list
	 * 2001::/16, whose names also start with the labels 2, 0, 0). */
	v4.valid = n <= 4 ? addr_v4_wire(labs, n, v4.key) : 0;
	if (nib.valid > 0) {
		rc = decide(r, &nib, now, res);
		if (rc < 0)
			return rc;
	}
	if (v4.valid == n && n > 0) {
		memset(&alt, 0, sizeof(alt));
		rc = decide(r, &v4, now, &alt);
		if (rc < 0)
			return rc;
		alt.v4 = true;
		/* A whole IPv4 address is listed only by IPv4 listings; the nibble reading of the same
		 * four labels (a partial IPv6 name) can only make it exist (NODATA). */
		if (n == 4 && res->verdict != LK_NXDOMAIN && alt.verdict == LK_NXDOMAIN)
			alt.verdict = LK_NODATA;
		if (nib.valid == 0 || n == 4 || alt.verdict >= res->verdict)
			*res = alt;
	}
	return 0;
}

int lk_addr(store_reader *r, const uint8_t a[16], bool v4, uint64_t now, store_entry *e,
            bool *found)
{
	*found = false;
	if (memcmp(a, test_point.pfx.a, 16) == 0) {
		*e = test_point;
		*found = true;
		return 1;
	}
	if (memcmp(a, test_absent, 16) == 0)
		return 0;
	int rc = store_lpm(r, a, v4 ? ADDR_V4_BASE_LEN : 0, 128, now, e);
	if (rc == V6R_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	*found = true;
	return e->kind == STORE_LISTING;
}
