/* check_addr.c: unit tests of prefixes (parse, format, set operations) and the RFC 5782 name codecs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "suites.h"

/* Parses s (which must be valid) as a prefix. */
static addr_pfx P(const char *s)
{
	addr_pfx p;
	int rc = addr_parse(s, strlen(s), 0, &p);

	ck_assert_msg(rc == 0, "'%s' does not parse (%d)", s, rc);
	return p;
}

static const char *fmt(const addr_pfx *p)
{
	static char buf[ADDR_PFX_STRLEN];
	int n = addr_format(p, buf, sizeof buf);

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((size_t)n, strlen(buf));
	return buf;
}

/* ---- addr_parse ---- */

/*
 * One accepted text: flags, the expected length, and either the exact CIDR text addr_format
 * gives back or (where RFC 5952 leaves the form open) another text that names the same prefix.
 */
static const struct parse_ok {
	const char *s;
	unsigned flags;
	unsigned len;
	const char *cidr, *same_as;
} parse_ok_cases[] = {
	{ "::", 0, 128, "::/128", NULL },
	{ "::1", 0, 128, "::1/128", NULL },
	{ "::/0", 0, 0, "::/0", NULL },
	{ "2001:db8::", 0, 128, "2001:db8::/128", NULL },
	{ "2001:DB8::1", 0, 128, "2001:db8::1/128", NULL },
	{ "2001:db8::/32", 0, 32, "2001:db8::/32", NULL },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", 0, 128, "2001:db8::1/128", NULL },
	{ "1:2:3:4:5:6:7:8", 0, 128, "1:2:3:4:5:6:7:8/128", NULL },
	{ "1:2:3:4:5:6:7::", 0, 128, "1:2:3:4:5:6:7:0/128", NULL },
	{ "::2:3:4:5:6:7:8", 0, 128, "0:2:3:4:5:6:7:8/128", NULL },
	{ "fe80::/10", 0, 10, "fe80::/10", NULL },
	{ "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF/128", 0, 128,
	  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", NULL },
	{ "2001:db8::/64", 0, 64, "2001:db8::/64", NULL },
	{ "64:ff9b::192.0.2.33", 0, 128, NULL, "64:ff9b::c000:221" },
	{ "::fffe:0:0/95", 0, 95, "::fffe:0:0/95", NULL },
	{ "::/96", 0, 96, "::/96", NULL },
	/* IPv4, and IPv6 text of IPv4-mapped addresses, are one space. */
	{ "::ffff:192.0.2.1", 0, 128, "192.0.2.1/32", "192.0.2.1" },
	{ "::FFFF:C000:201", 0, 128, "192.0.2.1/32", NULL },
	{ "::ffff:192.0.2.0/120", 0, 120, "192.0.2.0/24", "192.0.2.0/24" },
	{ "::ffff:0:0/96", 0, 96, "0.0.0.0/0", "0.0.0.0/0" },
	{ "192.0.2.1", 0, 128, "192.0.2.1/32", NULL },
	{ "192.0.2.0/24", 0, 120, "192.0.2.0/24", NULL },
	{ "10.0.0.0/8", 0, 104, "10.0.0.0/8", NULL },
	{ "0.0.0.0/0", 0, 96, "0.0.0.0/0", NULL },
	{ "255.255.255.255", 0, 128, "255.255.255.255/32", NULL },
	{ "127.0.0.2", ADDR_NO_LEN, 128, "127.0.0.2/32", NULL },
	{ "2001:db8::1", ADDR_NO_LEN, 128, "2001:db8::1/128", NULL },
	/* ADDR_MASK_HOST clears what lies beyond the length. */
	{ "2001:db8::1/32", ADDR_MASK_HOST, 32, "2001:db8::/32", NULL },
	{ "192.0.2.77/24", ADDR_MASK_HOST, 120, "192.0.2.0/24", NULL },
	{ "255.255.255.255/0", ADDR_MASK_HOST, 96, "0.0.0.0/0", NULL },
	{ "ffff::ffff/1", ADDR_MASK_HOST, 1, "8000::/1", NULL },
	{ "2001:db8::/32", ADDR_MASK_HOST, 32, "2001:db8::/32", NULL },
};

START_TEST(parse_valid)
{
	const struct parse_ok *c = &parse_ok_cases[_i];
	addr_pfx p, q;
	int rc;

	memset(&p, 0xee, sizeof p);
	rc = addr_parse(c->s, strlen(c->s), c->flags, &p);
	ck_assert_msg(rc == 0, "'%s' gave %d", c->s, rc);
	ck_assert_uint_eq(p.len, c->len);
	if (c->cidr != NULL)
		ck_assert_str_eq(fmt(&p), c->cidr);
	if (c->same_as != NULL) {
		q = P(c->same_as);
		ck_assert_int_eq(addr_pfx_cmp(&p, &q), 0);
		ck_assert_mem_eq(p.a, q.a, 16);
	}
	/* Bits beyond len are zero. */
	q = p;
	addr_mask(q.a, q.len);
	ck_assert_mem_eq(q.a, p.a, 16);
}
END_TEST

static const struct parse_bad {
	const char *s;
	unsigned flags;
	int rc;
} parse_bad_cases[] = {
	{ "", 0, V6R_ESYNTAX },
	{ "/32", 0, V6R_ESYNTAX },
	{ ":", 0, V6R_ESYNTAX },
	{ ":::", 0, V6R_ESYNTAX },
	{ "1::2::3", 0, V6R_ESYNTAX },
	{ "12345::", 0, V6R_ESYNTAX },
	{ "g::", 0, V6R_ESYNTAX },
	{ "1:2:3:4:5:6:7:8:9", 0, V6R_ESYNTAX },
	{ "1:2:3:4:5:6:7", 0, V6R_ESYNTAX },
	{ "1.2.3", 0, V6R_ESYNTAX },
	{ "1.2.3.4.5", 0, V6R_ESYNTAX },
	{ "1.2.3.256", 0, V6R_ESYNTAX },
	{ "256.1.1.1", 0, V6R_ESYNTAX },
	{ "1.2.3.-4", 0, V6R_ESYNTAX },
	{ "localhost", 0, V6R_ESYNTAX },
	{ " ::1", 0, V6R_ESYNTAX },
	{ "::1 ", 0, V6R_ESYNTAX },
	{ "::1\t", 0, V6R_ESYNTAX },
	{ "::1\n", 0, V6R_ESYNTAX },
	{ " 192.0.2.1", 0, V6R_ESYNTAX },
	{ "192.0.2.1 ", 0, V6R_ESYNTAX },
	{ "::1/ 64", 0, V6R_ESYNTAX },
	{ "::1/64 ", 0, V6R_ESYNTAX },
	{ "::1 /64", 0, V6R_ESYNTAX },
	{ "::1/", 0, V6R_ESYNTAX },
	{ "1.2.3.4/", 0, V6R_ESYNTAX },
	{ "::1/x", 0, V6R_ESYNTAX },
	{ "::1/-1", 0, V6R_ESYNTAX },
	{ "::1/64abc", 0, V6R_ESYNTAX },
	{ "2001:db8::/32/32", 0, V6R_ESYNTAX },
	{ "fe80::1%eth0", 0, V6R_ESYNTAX },
	{ "[::1]", 0, V6R_ESYNTAX },
	{ "::1/128", ADDR_NO_LEN, V6R_ESYNTAX },
	{ "1.2.3.4/32", ADDR_NO_LEN, V6R_ESYNTAX },
	{ "::/129", 0, V6R_ERANGE },
	{ "::/200", 0, V6R_ERANGE },
	{ "0.0.0.0/33", 0, V6R_ERANGE },
	{ "1.2.3.4/99", 0, V6R_ERANGE },
	{ "1.2.3.4/128", 0, V6R_ERANGE },
	{ "2001:db8::1/32", 0, V6R_EHOSTBITS },
	{ "192.0.2.1/24", 0, V6R_EHOSTBITS },
	{ "::1/127", 0, V6R_EHOSTBITS },
	{ "128.0.0.0/0", 0, V6R_EHOSTBITS },
	{ "::ffff:1.2.3.4/120", 0, V6R_EHOSTBITS },
	{ "8000::/0", 0, V6R_EHOSTBITS },
};

START_TEST(parse_invalid)
{
	const struct parse_bad *c = &parse_bad_cases[_i];
	addr_pfx p;
	int rc = addr_parse(c->s, strlen(c->s), c->flags, &p);

	ck_assert_msg(rc == c->rc, "'%s' gave %d, want %d", c->s, rc, c->rc);
}
END_TEST

/* Every IPv4 length /0../32 is stored as 96+n, and host bits are judged at that length. */
START_TEST(parse_v4_lengths)
{
	char s[32];
	addr_pfx p;

	for (unsigned n = 0; n <= 32; n++) {
		snprintf(s, sizeof s, "0.0.0.0/%u", n);
		ck_assert_int_eq(addr_parse(s, strlen(s), 0, &p), 0);
		ck_assert_uint_eq(p.len, 96 + n);
		ck_assert(addr_is_v4(&p));
		snprintf(s, sizeof s, "0.0.0.0/%u", n);
		ck_assert_str_eq(fmt(&p), s);

		snprintf(s, sizeof s, "255.255.255.255/%u", n);
		ck_assert_int_eq(addr_parse(s, strlen(s), 0, &p), n == 32 ? 0 : V6R_EHOSTBITS);
		ck_assert_int_eq(addr_parse(s, strlen(s), ADDR_MASK_HOST, &p), 0);
		ck_assert_uint_eq(p.len, 96 + n);
		ck_assert_uint_eq(addr_cpl(p.a, (const uint8_t[16]){ [10] = 0xff, [11] = 0xff }),
		                  n == 0 ? 128 : 96);
	}
}
END_TEST

/* Only s[0..n) is read: no NUL is needed, and a NUL inside n is an error. */
START_TEST(parse_bounds)
{
	const char nul_inside[] = "::1\0junk";
	char raw[16];
	addr_pfx p;

	ck_assert_int_eq(addr_parse(nul_inside, 3, 0, &p), 0);
	ck_assert_str_eq(fmt(&p), "::1/128");
	ck_assert_int_eq(addr_parse(nul_inside, 4, 0, &p), V6R_ESYNTAX);
	ck_assert_int_eq(addr_parse(nul_inside, sizeof nul_inside - 1, 0, &p), V6R_ESYNTAX);

	memcpy(raw, "10.0.0.19", 9);
	ck_assert_int_eq(addr_parse(raw, 8, 0, &p), 0);
	ck_assert_str_eq(fmt(&p), "10.0.0.1/32");
	memcpy(raw, "2001:db8::/328", 14);
	ck_assert_int_eq(addr_parse(raw, 13, 0, &p), 0);
	ck_assert_uint_eq(p.len, 32);
	memcpy(raw, "2001:db8::/3", 12);
	ck_assert_int_eq(addr_parse(raw, 11, 0, &p), V6R_ESYNTAX);
	ck_assert_int_eq(addr_parse(raw, 0, 0, &p), V6R_ESYNTAX);
}
END_TEST

/* ---- formatting ---- */

static const struct fmt_case {
	const char *in, *out;
} fmt_cases[] = {
	{ "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },          /* first of equal runs */
	{ "2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1" },
	{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },       /* one 0 field stays */
	{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },                      /* longest run */
	{ "1:0:2:0:0:3:0:4", "1:0:2::3:0:4" },
	{ "ABCD:EF01::", "abcd:ef01::" },
	{ "0:0:0:0:0:0:0:0", "::" },
	{ "0:0:0:0:0:0:0:1", "::1" },
	{ "1:0:0:0:0:0:0:0", "1::" },
	{ "fe80:0:0:0:0:0:0:1", "fe80::1" },
	{ "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff" },
	{ "2001:db8::0a:0B0", "2001:db8::a:b0" },
};

START_TEST(format_rfc5952)
{
	const struct fmt_case *c = &fmt_cases[_i];
	addr_pfx p;
	char buf[ADDR_PFX_STRLEN], cidr[ADDR_PFX_STRLEN + 8];
	int n;

	ck_assert_int_eq(addr_parse(c->in, strlen(c->in), ADDR_NO_LEN, &p), 0);
	n = addr_format_addr(p.a, false, buf, sizeof buf);
	ck_assert_str_eq(buf, c->out);
	ck_assert_int_eq(n, (int)strlen(c->out));
	snprintf(cidr, sizeof cidr, "%s/128", c->out);
	ck_assert_str_eq(fmt(&p), cidr);
}
END_TEST

START_TEST(format_v4_and_space)
{
	addr_pfx p = P("::ffff:192.0.2.1");
	char buf[ADDR_PFX_STRLEN];

	ck_assert_int_eq(addr_format_addr(p.a, true, buf, sizeof buf), 9);
	ck_assert_str_eq(buf, "192.0.2.1");
	p = P("2001:db8::/32");
	ck_assert_str_eq(fmt(&p), "2001:db8::/32");
	p = P("192.0.2.128/25");
	ck_assert_str_eq(fmt(&p), "192.0.2.128/25");
	/* Not IPv4 below /96, even inside ::ffff:0:0. */
	p = P("::fffe:0:0/95");
	ck_assert(!addr_is_v4(&p));

	/* A too small buffer is an error and nothing is written past cap. */
	p = P("2001:db8::/32");
	for (size_t cap = 0; cap <= 14; cap++) {
		int n;

		memset(buf, 0x5a, sizeof buf);
		n = addr_format(&p, buf, cap);
		if (cap <= 13) {
			ck_assert_msg(n == V6R_ESPACE, "cap %zu gave %d", cap, n);
		} else {
			ck_assert_int_eq(n, 13);
			ck_assert_str_eq(buf, "2001:db8::/32");
		}
		for (size_t i = cap; i < sizeof buf; i++)
			ck_assert_msg((unsigned char)buf[i] == 0x5a, "cap %zu: byte %zu written", cap, i);
	}
	p = P("2001:db8::1");
	ck_assert_int_eq(addr_format_addr(p.a, false, buf, 11), V6R_ESPACE);
	ck_assert_int_eq(addr_format_addr(p.a, false, buf, 12), 11);
	/* The longest text fits ADDR_PFX_STRLEN. */
	p = P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	ck_assert_int_eq(addr_format(&p, buf, ADDR_PFX_STRLEN), 43);
}
END_TEST

/* ---- family helpers ---- */

START_TEST(v4_helpers)
{
	const uint8_t v4[4] = { 192, 0, 2, 77 };
	addr_pfx p, q;

	p = P("::ffff:0:0/96");
	ck_assert(addr_is_v4(&p));
	p = P("::/0");
	ck_assert(!addr_is_v4(&p));
	p = P("::ffff:1.2.3.4");
	ck_assert(addr_is_v4(&p));
	ck_assert(addr_is_v4_addr(p.a));
	p = P("::fffe:102:304");
	ck_assert(!addr_is_v4(&p));
	ck_assert(!addr_is_v4_addr(p.a));
	p = P("1::ffff:102:304");
	ck_assert(!addr_is_v4_addr(p.a));
	p = P("::102:304");
	ck_assert(!addr_is_v4_addr(p.a));

	addr_from_v4(&p, v4, 32);
	q = P("192.0.2.77");
	ck_assert_int_eq(addr_pfx_cmp(&p, &q), 0);
	addr_from_v4(&p, v4, 24);
	q = P("192.0.2.0/24");
	ck_assert_int_eq(addr_pfx_cmp(&p, &q), 0);
	ck_assert_mem_eq(p.a, q.a, 16);
	addr_from_v4(&p, v4, 0);
	ck_assert_str_eq(fmt(&p), "0.0.0.0/0");
	ck_assert_uint_eq(p.len, 96);
}
END_TEST

/* ---- set operations ---- */

START_TEST(mask_every_length)
{
	for (unsigned len = 0; len <= 128; len++) {
		uint8_t a[16];
		unsigned ones = 0;

		memset(a, 0xff, sizeof a);
		addr_mask(a, len);
		for (unsigned b = 0; b < 128; b++) {
			bool set = (a[b / 8] >> (7 - b % 8)) & 1;
			ck_assert_msg(set == (b < len), "len %u bit %u", len, b);
			ones += set;
		}
		ck_assert_uint_eq(ones, len);
	}
}
END_TEST

/* outer, inner, whether inner lies within outer, whether outer contains inner's first address */
static const struct rel_case {
	const char *outer, *inner;
	bool within, contains;
} rel_cases[] = {
	{ "2001:db8::/32", "2001:db8:ffff::/48", true, true },
	{ "2001:db8::/32", "2001:db8::/32", true, true },
	{ "2001:db8::/48", "2001:db8::/32", false, true },
	{ "2001:db8::/32", "2001:db9::/48", false, false },
	{ "::/0", "ffff::1", true, true },
	{ "::/0", "::/0", true, true },
	{ "::1", "::1", true, true },
	{ "::1", "::/127", false, false },
	{ "::/127", "::1", true, true },
	{ "192.0.2.0/24", "192.0.2.200", true, true },
	{ "192.0.2.0/24", "192.0.3.0", false, false },
	{ "0.0.0.0/0", "203.0.113.9", true, true },
	{ "0.0.0.0/0", "2001:db8::1", false, false },
	{ "::/80", "1.2.3.4", true, true },
	{ "8000::/1", "7fff::", false, false },
	{ "8000::/1", "8000::", true, true },
	{ "2001:db8::/31", "2001:db9::", true, true },
	{ "2001:db8::/32", "2001:db8::/31", false, true },
};

START_TEST(contains_within)
{
	const struct rel_case *c = &rel_cases[_i];
	addr_pfx o = P(c->outer), in = P(c->inner);

	ck_assert_msg(addr_pfx_within(&in, &o) == c->within, "%s within %s", c->inner, c->outer);
	ck_assert_msg(addr_contains(&o, in.a) == c->contains, "%s contains %s", c->outer, c->inner);
	if (c->within) {
		/* ...and the inner prefix's last address too. */
		uint8_t last[16];
		memcpy(last, in.a, 16);
		for (unsigned b = in.len; b < 128; b++)
			last[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		ck_assert(addr_contains(&o, last));
	}
}
END_TEST

START_TEST(cpl_and_cmp)
{
	uint8_t z[16] = { 0 }, b[16];
	addr_pfx x, y;

	ck_assert_uint_eq(addr_cpl(z, z), 128);
	for (unsigned n = 0; n < 128; n++) {
		memset(b, 0, sizeof b);
		b[n / 8] = (uint8_t)(0x80u >> (n % 8));
		ck_assert_uint_eq(addr_cpl(z, b), n);
		ck_assert_uint_eq(addr_cpl(b, z), n);
		b[15] |= 1;    /* later differences do not matter */
		ck_assert_uint_eq(addr_cpl(z, b), n);
	}
	x = P("2001:db8::");
	y = P("2001:db9::");
	ck_assert_uint_eq(addr_cpl(x.a, y.a), 31);

	/* Key order: address bytes first, then length. */
	x = P("2001:db8::/32");
	y = P("2001:db8::/48");
	ck_assert_int_lt(addr_pfx_cmp(&x, &y), 0);
	ck_assert_int_gt(addr_pfx_cmp(&y, &x), 0);
	ck_assert_int_eq(addr_pfx_cmp(&x, &x), 0);
	x = P("2001:db8::/48");
	y = P("2001:db9::/32");
	ck_assert_int_lt(addr_pfx_cmp(&x, &y), 0);
	x = P("::/0");
	y = P("::/128");
	ck_assert_int_lt(addr_pfx_cmp(&x, &y), 0);
	x = P("ff00::/8");
	y = P("2001:db8::1");
	ck_assert_int_gt(addr_pfx_cmp(&x, &y), 0);
	x = P("192.0.2.0/24");
	y = P("::ffff:192.0.2.0/120");
	ck_assert_int_eq(addr_pfx_cmp(&x, &y), 0);
}
END_TEST

/* ---- wire names ---- */

/*
 * Builds the wire form of dotted `name` followed by the apex bl.example. into buf and points
 * labs[] at its labels; returns the number of labels below the apex.
 */
static unsigned mk_wire(const char *name, uint8_t *buf, const uint8_t **labs)
{
	const char *apex[] = { "bl", "example" };
	unsigned n = 0;
	size_t o = 0;
	const char *s = name;

	while (*s != '\0') {
		size_t l = strcspn(s, ".");
		ck_assert(l > 0 && l < 64);
		labs[n++] = buf + o;
		buf[o++] = (uint8_t)l;
		memcpy(buf + o, s, l);
		o += l;
		s += l;
		if (*s == '.')
			s++;
	}
	for (int i = 0; i < 2; i++) {
		buf[o++] = (uint8_t)strlen(apex[i]);
		memcpy(buf + o, apex[i], strlen(apex[i]));
		o += strlen(apex[i]);
	}
	buf[o] = 0;
	return n;
}

#define V6_FULL "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2"

static const struct nib_case {
	const char *name;
	unsigned want;
	const char *key;     /* the address the valid part names */
} nib_cases[] = {
	{ V6_FULL, 32, "2001:db8::1" },
	{ "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2", 32, "2001:db8::1" },
	{ "F.E.D.C.B.A.9.8.7.6.5.4.3.2.1.0.f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0", 32,
	  "123:4567:89ab:cdef:123:4567:89ab:cdef" },
	{ "8.b.d.0.1.0.0.2", 8, "2001:db8::" },
	{ "www.8.b.d.0.1.0.0.2", 8, "2001:db8::" },
	{ "1.x.8.b.d.0.1.0.0.2", 8, "2001:db8::" },
	{ "10.8.b.d.0.1.0.0.2", 8, "2001:db8::" },
	{ "-.8.b.d.0.1.0.0.2", 8, "2001:db8::" },
	{ "g.0.0.2", 3, "2000::" },
	{ "2", 1, "2000::" },
	{ "x", 0, "::" },
	{ "ab", 0, "::" },
	{ "f." V6_FULL, 32, "2001:db8::1" },
	{ "a.b.c.d.e.f.0.1." V6_FULL, 32, "2001:db8::1" },
	{ "0.0.0.0.0.0.0.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0", 32, "::ffff:0:0" },
};

START_TEST(nibbles_wire)
{
	const struct nib_case *c = &nib_cases[_i];
	uint8_t buf[512], key[16];
	const uint8_t *labs[64];
	unsigned n = mk_wire(c->name, buf, labs);
	addr_pfx want = P(c->key);

	memset(key, 0xff, sizeof key);
	ck_assert_uint_eq(addr_nibbles_wire(labs, n, key), c->want);
	ck_assert_mem_eq(key, want.a, 16);
}
END_TEST

static const struct v4w_case {
	const char *name;
	unsigned want;
	const char *key;
} v4w_cases[] = {
	{ "2.0.0.127", 4, "127.0.0.2" },
	{ "4.3.2.1", 4, "1.2.3.4" },
	{ "0.0.0.0", 4, "0.0.0.0" },
	{ "255.255.255.255", 4, "255.255.255.255" },
	{ "100.10.0.255", 4, "255.0.10.100" },
	{ "0.127", 2, "127.0.0.0" },
	{ "01.2.0.127", 3, "127.0.2.0" },
	{ "256.0.0.127", 3, "127.0.0.0" },
	{ "x.2.0.0.127", 4, "127.0.0.2" },
	{ "5.4.3.2.1", 4, "1.2.3.4" },
	{ "1000.0.127", 2, "127.0.0.0" },
	{ "-1.0.127", 2, "127.0.0.0" },
	{ "a.0.0.127", 3, "127.0.0.0" },
	{ "2.0.0.0127", 0, "0.0.0.0" },
	{ "2.0.00.127", 1, "127.0.0.0" },
	{ "2.0.0.1a", 0, "0.0.0.0" },
};

START_TEST(v4_wire)
{
	const struct v4w_case *c = &v4w_cases[_i];
	uint8_t buf[512], key[16];
	const uint8_t *labs[64];
	unsigned n = mk_wire(c->name, buf, labs);
	addr_pfx want = P(c->key);

	memset(key, 0xee, sizeof key);
	ck_assert_uint_eq(addr_v4_wire(labs, n, key), c->want);
	ck_assert_mem_eq(key, want.a, 16);
}
END_TEST

START_TEST(wire_no_labels)
{
	uint8_t buf[64], key[16];
	const uint8_t *labs[4];
	addr_pfx v4zero = P("0.0.0.0");

	mk_wire("", buf, labs);
	memset(key, 0xff, sizeof key);
	ck_assert_uint_eq(addr_nibbles_wire(labs, 0, key), 0);
	ck_assert_mem_eq(key, (uint8_t[16]){ 0 }, 16);
	ck_assert_uint_eq(addr_v4_wire(labs, 0, key), 0);
	ck_assert_mem_eq(key, v4zero.a, 16);
}
END_TEST

/* ---- names ---- */

START_TEST(names)
{
	addr_pfx p = P("2001:db8:1::");
	char buf[64];

	ck_assert_int_eq(addr_nibble_name(p.a, 12, buf, sizeof buf), 23);
	ck_assert_str_eq(buf, "1.0.0.0.8.b.d.0.1.0.0.2");
	ck_assert_int_eq(addr_nibble_name(p.a, 0, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(addr_nibble_name(p.a, 1, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "2");
	p = P("ABCD::");
	ck_assert_int_eq(addr_nibble_name(p.a, 4, buf, sizeof buf), 7);
	ck_assert_str_eq(buf, "d.c.b.a");
	p = P("2001:db8::1");
	ck_assert_int_eq(addr_nibble_name(p.a, 32, buf, sizeof buf), 63);
	ck_assert_str_eq(buf, V6_FULL);
	ck_assert_int_eq(addr_nibble_name(p.a, 32, buf, 63), V6R_ESPACE);
	ck_assert_int_eq(addr_nibble_name(p.a, 1, buf, 1), V6R_ESPACE);
	ck_assert_int_eq(addr_nibble_name(p.a, 1, buf, 2), 1);

	p = P("1.2.3.4");
	ck_assert_int_eq(addr_v4_name(p.a, 4, buf, sizeof buf), 7);
	ck_assert_str_eq(buf, "4.3.2.1");
	ck_assert_int_eq(addr_v4_name(p.a, 2, buf, sizeof buf), 3);
	ck_assert_str_eq(buf, "2.1");
	ck_assert_int_eq(addr_v4_name(p.a, 1, buf, sizeof buf), 1);
	ck_assert_str_eq(buf, "1");
	ck_assert_int_eq(addr_v4_name(p.a, 0, buf, sizeof buf), 0);
	ck_assert_str_eq(buf, "");
	p = P("255.0.10.100");
	ck_assert_int_eq(addr_v4_name(p.a, 4, buf, sizeof buf), 12);
	ck_assert_str_eq(buf, "100.10.0.255");
	p = P("1.2.3.4");
	ck_assert_int_eq(addr_v4_name(p.a, 4, buf, 7), V6R_ESPACE);
	ck_assert_int_eq(addr_v4_name(p.a, 4, buf, 8), 7);
}
END_TEST

/* With a buffer too small, nothing is written past cap (cap 0: nothing at all). */
START_TEST(names_no_overrun)
{
	addr_pfx p = P("2001:db8::1"), q = P("1.2.3.4");
	char buf[80];

	for (size_t cap = 0; cap < 70; cap++) {
		int n;

		memset(buf, 0x5a, sizeof buf);
		n = addr_nibble_name(p.a, 32, buf, cap);
		ck_assert_int_eq(n, cap >= 64 ? 63 : V6R_ESPACE);
		for (size_t i = cap; i < sizeof buf; i++)
			ck_assert_msg((unsigned char)buf[i] == 0x5a, "nibble cap %zu: byte %zu", cap, i);
		memset(buf, 0x5a, sizeof buf);
		n = addr_v4_name(q.a, 4, buf, cap);
		ck_assert_int_eq(n, cap >= 8 ? 7 : V6R_ESPACE);
		for (size_t i = cap; i < sizeof buf; i++)
			ck_assert_msg((unsigned char)buf[i] == 0x5a, "v4 cap %zu: byte %zu", cap, i);
	}
}
END_TEST

/* ---- properties over generated prefixes (fixed seed) ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/*
 * For every length of both families: format then parse gives the prefix back; the nibble (or
 * octet) name of the prefix, as a wire name, decodes to the same bits.
 */
START_TEST(round_trips)
{
	rng_state = 0x6164647274657374ULL;
	for (unsigned i = 0; i < 20000; i++) {
		addr_pfx p, q;
		uint8_t buf[512], key[16];
		const uint8_t *labs[64];
		char name[64], text[ADDR_PFX_STRLEN];
		unsigned n, units;
		int tl;

		if (i % 2) {
			for (int k = 0; k < 16; k++)
				p.a[k] = (uint8_t)rng();
			p.len = (uint8_t)(i / 2 % 129);
			addr_mask(p.a, p.len);
		} else {
			uint8_t v4[4] = { (uint8_t)rng(), (uint8_t)rng(), (uint8_t)rng(), (uint8_t)rng() };
			addr_from_v4(&p, v4, i / 2 % 33);
		}
		tl = addr_format(&p, text, sizeof text);
		ck_assert_int_gt(tl, 0);
		ck_assert_msg(addr_parse(text, (size_t)tl, 0, &q) == 0 && addr_pfx_cmp(&p, &q) == 0,
		              "'%s' does not read back", text);

		if (i % 2) {
			units = p.len / 4;
			ck_assert_int_eq(addr_nibble_name(p.a, units, name, sizeof name),
			                 units ? (int)(2 * units - 1) : 0);
			n = mk_wire(name, buf, labs);
			ck_assert_uint_eq(addr_nibbles_wire(labs, n, key), units);
			memcpy(q.a, p.a, 16);
			addr_mask(q.a, units * 4);
		} else {
			units = (p.len - 96) / 8;
			ck_assert_int_ge(addr_v4_name(p.a, units, name, sizeof name), 0);
			n = mk_wire(name, buf, labs);
			ck_assert_uint_eq(addr_v4_wire(labs, n, key), units);
			memcpy(q.a, p.a, 16);
			addr_mask(q.a, 96 + units * 8);
		}
		ck_assert_msg(memcmp(key, q.a, 16) == 0, "%s: name '%s' decodes differently", text,
		              name);
	}
}
END_TEST

Suite *addr_suite(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("addr");

	tcase_add_loop_test(tc, parse_valid, 0, sizeof parse_ok_cases / sizeof parse_ok_cases[0]);
	tcase_add_loop_test(tc, parse_invalid, 0,
	                    sizeof parse_bad_cases / sizeof parse_bad_cases[0]);
	tcase_add_test(tc, parse_v4_lengths);
	tcase_add_test(tc, parse_bounds);
	tcase_add_loop_test(tc, format_rfc5952, 0, sizeof fmt_cases / sizeof fmt_cases[0]);
	tcase_add_test(tc, format_v4_and_space);
	tcase_add_test(tc, v4_helpers);
	tcase_add_test(tc, mask_every_length);
	tcase_add_loop_test(tc, contains_within, 0, sizeof rel_cases / sizeof rel_cases[0]);
	tcase_add_test(tc, cpl_and_cmp);
	tcase_add_loop_test(tc, nibbles_wire, 0, sizeof nib_cases / sizeof nib_cases[0]);
	tcase_add_loop_test(tc, v4_wire, 0, sizeof v4w_cases / sizeof v4w_cases[0]);
	tcase_add_test(tc, wire_no_labels);
	tcase_add_test(tc, names);
	tcase_add_test(tc, names_no_overrun);
	tcase_add_test(tc, round_trips);
	suite_add_tcase(s, tc);
	return s;
}
