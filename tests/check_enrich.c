/* check_enrich.c: unit tests of enrichment: pfx2as and Cymru files, longest-prefix match, PTR files, agreement, the live cache. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "../ingest/enrich.h"
#include "../zone/addr.h"
#include "../zone/err.h"
#include "suites.h"

/* ---- helpers ---------------------------------------------------------------------------- */

/* The 16-byte address of text (IPv4 mapped). */
static void a16(const char *text, uint8_t out[16])
{
	addr_pfx p;
	ck_assert_msg(addr_parse(text, strlen(text), ADDR_NO_LEN, &p) == 0, "bad test address %s", text);
	memcpy(out, p.a, 16);
}

static uint32_t asn_of(const en_ctx *e, const char *text)
{
	uint8_t a[16];
	a16(text, a);
	return en_asn(e, a);
}

static const char *ptr_of(en_ctx *e, const char *text)
{
	uint8_t a[16];
	a16(text, a);
	return en_ptr(e, a);
}

static en_ctx *new_ctx(void)
{
	en_ctx *e;
	ck_assert_int_eq(en_new(&e), 0);
	return e;
}

/* Loads text as ASN data named "t.pfx2as"; asserts success. */
static void load_asn(en_ctx *e, const char *text)
{
	char err[256] = "";
	ck_assert_msg(en_asn_load_mem(e, text, strlen(text), "t.pfx2as", err, sizeof(err)) == 0, "%s",
	              err);
}

static void load_ptr(en_ctx *e, const char *text)
{
	char err[256] = "";
	ck_assert_msg(en_ptr_load_mem(e, text, strlen(text), "t.ptr", err, sizeof(err)) == 0, "%s", err);
}

static void expect_asn(const en_ctx *e, const char *addr, uint32_t want)
{
	uint32_t got = asn_of(e, addr);
	ck_assert_msg(got == want, "%s: AS %u, want %u", addr, got, want);
}

static void expect_ptr(en_ctx *e, const char *addr, const char *want)
{
	const char *got = ptr_of(e, addr);
	if (!want)
		ck_assert_msg(got == NULL, "%s: PTR %s, want none", addr, got);
	else
		ck_assert_msg(got && !strcmp(got, want), "%s: PTR %s, want %s", addr, got ? got : "(none)",
		              want);
}

/* A temp file path (removed by the caller). */
static void temp_path(char *buf, size_t cap, const char *tag)
{
	snprintf(buf, cap, "/tmp/v6rep-enrich-%s-%d-XXXXXX", tag, (int)getpid());
	int fd = mkstemp(buf);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

/* ---- pfx2as ----------------------------------------------------------------------------- */

START_TEST(pfx2as_families_and_origins)
{
	en_ctx *e = new_ctx();
	load_asn(e, "# a comment\n"
	            "1.0.0.0\t24\t13335\n"
	            "1.0.4.0\t22\t38803_56203\n"           /* multi-origin: the first */
	            "1.0.5.0\t24\t64496,64497\n"            /* AS set: the first */
	            "8.8.8.0\t24\t15169\n"
	            "2001:4860::\t32\t15169\n"
	            "2a01:111::\t32\t8075\r\n"             /* CRLF */
	            "\n"
	            "2c0f:f000::\t32\t4294967295\n");
	expect_asn(e, "1.0.0.1", 13335);
	expect_asn(e, "1.0.0.255", 13335);
	expect_asn(e, "1.0.1.0", 0);
	expect_asn(e, "1.0.6.200", 38803);
	expect_asn(e, "1.0.5.9", 64496);
	expect_asn(e, "8.8.8.8", 15169);
	expect_asn(e, "::ffff:8.8.8.8", 15169);            /* the same address space */
	expect_asn(e, "2001:4860:4860::8888", 15169);
	expect_asn(e, "2001:4861::1", 0);
	expect_asn(e, "2a01:111:f400::1", 8075);
	expect_asn(e, "2c0f:f000:ffff::1", 4294967295u);
	const en_load_info *in = en_last_load(e);
	ck_assert_str_eq(in->format, "pfx2as");
	ck_assert_uint_eq(in->entries, 7);
	ck_assert_uint_eq(in->skipped, 2);
	ck_assert_uint_eq(in->bad, 0);
	en_stats_t st;
	en_stats(e, &st);
	ck_assert_uint_eq(st.asn_v4, 4);
	ck_assert_uint_eq(st.asn_v6, 3);
	en_free(e);
}
END_TEST

/* One bad line each, with the reason reported. */
static const struct bad_case {
	const char *line, *why;
} bad_cases[] = {
	{ "1.0.0.0\t24", "expected PREFIX, LENGTH and AS" },
	{ "1.0.0.0\t24\t13335\textra", "expected PREFIX, LENGTH and AS" },
	{ "1.0.0.0\t33\t13335", "out of range" },
	{ "2001:db8::\t129\t1", "out of range" },
	{ "1.0.0.1\t24\t13335", "bits set beyond" },
	{ "1.0.0.0\tx\t13335", "not a prefix" },
	{ "1.0.0\t24\t13335", "not a prefix" },
	{ "1.0.0.0\t24\tAS13335", "not an AS number" },
	{ "1.0.0.0\t24\t0", "not an AS number" },
	{ "1.0.0.0\t24\t4294967296", "not an AS number" },
	{ "1.0.0.0\t24\t13335_", "not an AS number" },
	{ "1.0.0.0\t24\t-5", "not an AS number" },
};

START_TEST(pfx2as_bad_line)
{
	const struct bad_case *t = &bad_cases[_i];
	char text[256];
	snprintf(text, sizeof(text), "8.8.8.0\t24\t15169\n%s\n9.9.9.0\t24\t19281\n", t->line);
	en_ctx *e = new_ctx();
	load_asn(e, text);
	const en_load_info *in = en_last_load(e);
	ck_assert_uint_eq(in->bad, 1);
	ck_assert_uint_eq(in->entries, 2);
	ck_assert_uint_eq(in->first_bad, 2);
	ck_assert_uint_eq(in->n_msgs, 1);
	ck_assert_msg(!strncmp(in->msgs[0], "t.pfx2as:2: ", 12), "message '%s'", in->msgs[0]);
	ck_assert_msg(strstr(in->msgs[0], t->why), "message '%s' lacks '%s'", in->msgs[0], t->why);
	expect_asn(e, "9.9.9.9", 19281);                   /* the lines after it are read */
	en_free(e);
}
END_TEST

START_TEST(bad_lines_counted_and_first_kept)
{
	en_ctx *e = new_ctx();
	char text[4096] = "";
	for (int i = 1; i <= 20; i++)
		strcat(text, i % 2 ? "garbage\n" : "10.0.0.0\t8\t64500\n");
	load_asn(e, text);
	const en_load_info *in = en_last_load(e);
	ck_assert_uint_eq(in->bad, 10);
	ck_assert_uint_eq(in->first_bad, 1);
	ck_assert_uint_eq(in->n_msgs, EN_MSGS_KEPT);
	ck_assert_msg(!strncmp(in->msgs[4], "t.pfx2as:9: ", 12), "%s", in->msgs[4]);
	/* A line over the limit is one bad line, and the next line is read. */
	static char big[8192];
	memset(big, '1', 5000);
	strcpy(big + 5000, "\n11.0.0.0\t8\t64501\n");
	load_asn(e, big);
	ck_assert_uint_eq(en_last_load(e)->bad, 1);
	ck_assert_msg(strstr(en_last_load(e)->msgs[0], "line too long"), "%s", en_last_load(e)->msgs[0]);
	expect_asn(e, "11.1.1.1", 64501);
	expect_asn(e, "10.1.1.1", 64500);
	en_free(e);
}
END_TEST

static void write_gz(const char *path, const char *text, size_t cut)
{
	gzFile gz = gzopen(path, "wb");
	ck_assert_ptr_nonnull(gz);
	ck_assert_int_eq(gzwrite(gz, text, (unsigned)strlen(text)), (int)strlen(text));
	ck_assert_int_eq(gzclose(gz), Z_OK);
	if (cut)
		ck_assert_int_eq(truncate(path, (off_t)cut), 0);
}

START_TEST(pfx2as_files_plain_gzip_and_errors)
{
	char gzp[128], plain[128], err[512];
	temp_path(gzp, sizeof(gzp), "gz");
	temp_path(plain, sizeof(plain), "plain");
	write_gz(gzp, "1.0.0.0\t24\t13335\n2001:4860::\t32\t15169\nbad\n", 0);
	FILE *f = fopen(plain, "w");
	ck_assert_ptr_nonnull(f);
	fputs("8.8.8.0\t24\t15169\n", f);
	fclose(f);

	en_ctx *e = new_ctx();
	ck_assert_int_eq(en_asn_load(e, gzp, err, sizeof(err)), 0);
	ck_assert_uint_eq(en_last_load(e)->entries, 2);
	ck_assert_uint_eq(en_last_load(e)->first_bad, 3);
	ck_assert_msg(strstr(en_last_load(e)->msgs[0], gzp), "%s", en_last_load(e)->msgs[0]);
	ck_assert_int_eq(en_asn_load(e, plain, err, sizeof(err)), 0);
	expect_asn(e, "1.0.0.7", 13335);
	expect_asn(e, "2001:4860::1", 15169);
	expect_asn(e, "8.8.8.8", 15169);

	/* Missing file: an error naming it. */
	ck_assert_int_eq(en_asn_load(e, "/nonexistent/rv2.pfx2as.gz", err, sizeof(err)), V6R_EIO);
	ck_assert_msg(strstr(err, "/nonexistent/rv2.pfx2as.gz") && strstr(err, "No such file"), "%s", err);

	/* A truncated gzip: an error, and none of its prefixes are kept. */
	char many[65536] = "9.9.9.0\t24\t19281\n";
	for (int i = 0; i < 2000; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "20.%d.%d.0\t24\t%d\n", i / 256,
		         i % 256, 1000 + i * 7919 % 50000);
	write_gz(gzp, many, 200);
	ck_assert_int_eq(en_asn_load(e, gzp, err, sizeof(err)), V6R_EIO);
	ck_assert_msg(strstr(err, "failed to read ASN file"), "%s", err);
	expect_asn(e, "9.9.9.9", 0);
	expect_asn(e, "8.8.8.8", 15169);
	unlink(gzp);
	unlink(plain);
	en_free(e);
}
END_TEST

/* ---- Team Cymru ------------------------------------------------------------------------- */

START_TEST(cymru_verbose)
{
	en_ctx *e = new_ctx();
	load_asn(e, "Bulk mode; whois.cymru.com [2026-11-27 10:00:00 +0000]\n"
	            "AS      | IP               | BGP Prefix          | CC | Registry | Allocated  | AS Name\n"
	            "15169   | 8.8.8.8          | 8.8.8.0/24          | US | arin     | 2023-12-28 | GOOGLE, US\n"
	            "13335   | 1.1.1.1          | 1.1.1.0/24          | AU | apnic    | 2011-08-11 | CLOUDFLARENET, US\n"
	            "15169 36040 | 2001:4860:4860::8888 | 2001:4860::/32 | US | arin | 2005-03-14 | GOOGLE, US\n"
	            "NA      | 192.0.2.1        | NA                  | ZZ | NA       | NA         | NA\n"
	            "Error: no ASN or IP match on line 7.\n"
	            "8075    | 13.107.6.152     | 13.107.6.0/24       | US | arin     | 2015-03-26 | MICROSOFT-CORP-MSN-AS-BLOCK, US\n"
	            "64500   | 9.9.9.9          | 8.8.8.0/24          | US | arin     | 2023-12-28 | OUTSIDE\n"
	            "64501   | 10.0.0.1         | 10.0.0.1/24         | US | arin     | 2023-12-28 | HOST BITS\n");
	const en_load_info *in = en_last_load(e);
	ck_assert_str_eq(in->format, "cymru");
	ck_assert_uint_eq(in->entries, 4);
	ck_assert_uint_eq(in->skipped, 4);
	ck_assert_uint_eq(in->bad, 2);
	ck_assert_msg(strstr(in->msgs[0], "t.pfx2as:9: the IP is outside the BGP prefix"), "%s", in->msgs[0]);
	ck_assert_msg(strstr(in->msgs[1], "t.pfx2as:10: bits set beyond"), "%s", in->msgs[1]);
	expect_asn(e, "8.8.8.200", 15169);                 /* the whole BGP prefix, not just the IP */
	expect_asn(e, "1.1.1.2", 13335);
	expect_asn(e, "2001:4860:1::1", 15169);
	expect_asn(e, "13.107.6.1", 8075);
	expect_asn(e, "192.0.2.1", 0);
	en_free(e);
}
END_TEST

START_TEST(cymru_plain)
{
	en_ctx *e = new_ctx();
	load_asn(e, "Bulk mode; whois.cymru.com [2026-11-27 10:00:00 +0000]\n"
	            "15169   | 8.8.8.8          | GOOGLE, US\n"
	            "8075    | 2a01:111:f400::5 | MICROSOFT-CORP-MSN-AS-BLOCK, US\n"
	            "NA      | 203.0.113.9      | NA\n"
	            "abc     | 8.8.4.4          | BAD AS\n"
	            "15169   | 8.8.4.x          | BAD IP\n"
	            "15169   | 8.8.4.4\n");
	const en_load_info *in = en_last_load(e);
	ck_assert_str_eq(in->format, "cymru");
	ck_assert_uint_eq(in->entries, 2);
	ck_assert_uint_eq(in->bad, 3);
	expect_asn(e, "8.8.8.8", 15169);                   /* the /32 of the IP */
	expect_asn(e, "8.8.8.9", 0);
	expect_asn(e, "2a01:111:f400::5", 8075);           /* the /128 */
	expect_asn(e, "2a01:111:f400::6", 0);
	ck_assert_msg(strstr(in->msgs[0], ":5: not an AS number"), "%s", in->msgs[0]);
	ck_assert_msg(strstr(in->msgs[1], ":6: not an IP address"), "%s", in->msgs[1]);
	ck_assert_msg(strstr(in->msgs[2], ":7: expected AS | IP"), "%s", in->msgs[2]);
	en_free(e);
}
END_TEST

/* ---- longest-prefix match --------------------------------------------------------------- */

START_TEST(lpm_nesting)
{
	en_ctx *e = new_ctx();
	load_asn(e, "10.0.0.0\t8\t1\n"
	            "10.1.0.0\t16\t2\n"
	            "10.1.2.0\t24\t3\n"
	            "10.1.2.128\t25\t4\n"
	            "10.1.2.130\t32\t5\n"
	            "10.2.0.0\t16\t6\n"
	            "0.0.0.0\t0\t7\n"
	            "255.255.255.255\t32\t8\n"
	            "2001:db8::\t32\t11\n"
	            "2001:db8:1::\t48\t12\n"
	            "2001:db8:1:2::\t64\t13\n"
	            "2001:db8:1:2::1\t128\t14\n"
	            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\t128\t15\n");
	static const struct { const char *a; uint32_t asn; } want[] = {
		{ "9.255.255.255", 7 }, { "10.0.0.0", 1 }, { "10.0.255.255", 1 }, { "10.1.0.0", 2 },
		{ "10.1.1.255", 2 }, { "10.1.2.0", 3 }, { "10.1.2.127", 3 }, { "10.1.2.128", 4 },
		{ "10.1.2.129", 4 }, { "10.1.2.130", 5 }, { "10.1.2.131", 4 }, { "10.1.2.255", 4 },
		{ "10.1.3.0", 2 }, { "10.1.255.255", 2 }, { "10.2.0.0", 6 }, { "10.3.0.0", 1 },
		{ "10.255.255.255", 1 }, { "11.0.0.0", 7 }, { "0.0.0.0", 7 }, { "255.255.255.254", 7 },
		{ "255.255.255.255", 8 }, { "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0 },
		{ "2001:db8::", 11 }, { "2001:db8:0:ffff::", 11 }, { "2001:db8:1::", 12 },
		{ "2001:db8:1:2::", 13 }, { "2001:db8:1:2::1", 14 }, { "2001:db8:1:2::2", 13 },
		{ "2001:db8:1:3::", 12 }, { "2001:db8:2::", 11 }, { "2001:db9::", 0 }, { "::", 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 0 },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 15 },
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect_asn(e, want[i].a, want[i].asn);
	en_free(e);
}
END_TEST

START_TEST(lpm_later_wins_and_v6_covers_v4)
{
	en_ctx *e = new_ctx();
	load_asn(e, "192.0.2.0\t24\t100\n192.0.2.0\t24\t101\n");       /* the same file */
	expect_asn(e, "192.0.2.1", 101);
	load_asn(e, "192.0.2.0\t24\t102\n198.51.100.0\t24\t200\n");     /* a later file */
	expect_asn(e, "192.0.2.1", 102);
	expect_asn(e, "198.51.100.1", 200);
	expect_asn(e, "203.0.113.1", 0);
	/* ::/0 (IPv6 data) covers the IPv4-mapped space below every IPv4 prefix. */
	load_asn(e, "::\t0\t64999\n");
	expect_asn(e, "203.0.113.1", 64999);
	expect_asn(e, "192.0.2.1", 102);
	expect_asn(e, "2001:db8::1", 64999);
	/* An IPv6-written prefix inside ::ffff:0:0/96 is the IPv4 prefix. */
	load_asn(e, "::ffff:203.0.113.0\t120\t300\n");
	expect_asn(e, "203.0.113.77", 300);
	en_free(e);
}
END_TEST

/* Random nested prefixes against a brute-force longest match. */
typedef struct bp {
	addr_pfx p;
	uint32_t asn;
} bp;

static uint32_t brute(const bp *ps, size_t n, const uint8_t a[16])
{
	int best = -1;
	uint32_t asn = 0;
	for (size_t i = 0; i < n; i++)
		if (addr_contains(&ps[i].p, a) && ps[i].p.len >= best) {
			best = ps[i].p.len;
			asn = ps[i].asn;
		}
	return asn;
}

START_TEST(lpm_random_against_brute_force)
{
	enum { N = 1500, PROBES = 20000 };
	static bp ps[N];
	static char text[N * 64];
	size_t at = 0;
	srandom(7);
	for (size_t i = 0; i < N; i++) {
		bool v4 = i % 2;
		addr_pfx *p = &ps[i].p;
		memset(p->a, 0, 16);
		if (v4) {                                      /* inside 10.0.0.0/12: much nesting */
			p->a[10] = p->a[11] = 0xff;
			p->a[12] = 10;
			p->a[13] = (uint8_t)(random() % 16);
			p->a[14] = (uint8_t)(random() % 4);
			p->a[15] = (uint8_t)random();
			p->len = (uint8_t)(96 + 8 + random() % 25);
		} else {                                       /* inside 2001:db8::/40 */
			p->a[0] = 0x20, p->a[1] = 0x01, p->a[2] = 0x0d, p->a[3] = 0xb8;
			p->a[4] = (uint8_t)(random() % 4);
			for (int b = 5; b < 16; b++)
				p->a[b] = random() % 3 ? 0 : (uint8_t)random();
			p->len = (uint8_t)(32 + random() % 97);
		}
		addr_mask(p->a, p->len);
		ps[i].asn = 1 + (uint32_t)(random() % 50);
		char t[ADDR_PFX_STRLEN];
		ck_assert_int_gt(addr_format_addr(p->a, v4, t, sizeof(t)), 0);
		at += (size_t)snprintf(text + at, sizeof(text) - at, "%s\t%u\t%u\n", t,
		                       v4 ? p->len - 96 : p->len, ps[i].asn);
	}
	/* Brute force sees duplicates too: the later one wins (>= above). */
	en_ctx *e = new_ctx();
	load_asn(e, text);
	ck_assert_uint_eq(en_last_load(e)->entries, N);
	for (int i = 0; i < PROBES; i++) {
		uint8_t a[16];
		memcpy(a, ps[random() % N].p.a, 16);
		int mode = (int)(random() % 3);
		if (mode == 1)
			a[15] = (uint8_t)random(), a[14] ^= (uint8_t)(random() % 2);
		else if (mode == 2)
			for (int b = addr_is_v4_addr(a) ? 13 : 5; b < 16; b++)
				a[b] = (uint8_t)random();
		uint32_t want = brute(ps, N, a), got = en_asn(e, a);
		char t[64];
		addr_format_addr(a, addr_is_v4_addr(a), t, sizeof(t));
		ck_assert_msg(got == want, "%s: AS %u, want %u", t, got, want);
	}
	en_free(e);
}
END_TEST

/* ---- PTR files -------------------------------------------------------------------------- */

START_TEST(ptr_file_forms)
{
	en_ctx *e = new_ctx();
	load_ptr(e, "# address name\n"
	            "192.0.2.7 Mail.Example.ORG.\n"
	            "2001:db8::25\tmx6.example.org   # trailing comment\n"
	            "$ORIGIN 2.0.192.in-addr.arpa.\n"
	            "$TTL 3600\n"
	            "8.2.0.192.in-addr.arpa. 3600 IN PTR host8.example.net.\n"
	            "9.2.0.192.IN-ADDR.ARPA IN 600 PTR Host9.Example.NET. ; comment\n"
	            "10.2.0.192.in-addr.arpa. PTR host10.example.net.\n"
	            "2.0.192.in-addr.arpa. 3600 IN SOA ns.example.net. host.example.net. 1 2 3 4 5\n"
	            "2.0.192.in-addr.arpa. 3600 IN NS ns.example.net.\n"
	            "6.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa. 300 IN PTR v6host.example.net.\n"
	            "::ffff:192.0.2.11 eleven.example.org\n"
	            /* bad lines */
	            "11.2.0.192.in-addr.arpa. 3600 IN PTR relative\n"
	            "2.0.192.in-addr.arpa. 3600 IN PTR partial.example.net.\n"
	            "0.8.b.d.0.1.0.0.2.ip6.arpa. IN PTR short.example.net.\n"
	            "192.0.2.12 bad_name!.example.org\n"
	            "192.0.2.13 a..b.example.org\n"
	            "192.0.2.14 one two\n"
	            "192.0.2.15/32 host.example.org\n"
	            "12.2.0.192.in-addr.arpa. 3600 IN\n"
	            "13.2.0.192.in-addr.arpa. 3600 IN PTR a.example. b.example.\n"
	            "256.2.0.192.in-addr.arpa. PTR x.example.\n"
	            "14.2.0.192.in-addr.arpa. mail.example.org.\n");
	const en_load_info *in = en_last_load(e);
	ck_assert_str_eq(in->format, "ptr");
	ck_assert_uint_eq(in->entries, 7);
	ck_assert_uint_eq(in->bad, 11);
	ck_assert_uint_eq(in->first_bad, 13);
	ck_assert_msg(strstr(in->msgs[0], "t.ptr:13: relative PTR target"), "%s", in->msgs[0]);
	ck_assert_msg(strstr(in->msgs[1], "not a full in-addr.arpa name"), "%s", in->msgs[1]);
	ck_assert_msg(strstr(in->msgs[2], "not a full ip6.arpa name"), "%s", in->msgs[2]);
	ck_assert_msg(strstr(in->msgs[3], "not a host name"), "%s", in->msgs[3]);
	expect_ptr(e, "192.0.2.7", "mail.example.org");
	expect_ptr(e, "2001:db8::25", "mx6.example.org");
	expect_ptr(e, "192.0.2.8", "host8.example.net");
	expect_ptr(e, "192.0.2.9", "host9.example.net");
	expect_ptr(e, "192.0.2.10", "host10.example.net");
	expect_ptr(e, "2001:db8::26", "v6host.example.net");
	expect_ptr(e, "192.0.2.11", "eleven.example.org");
	expect_ptr(e, "192.0.2.12", NULL);
	expect_ptr(e, "192.0.2.2", NULL);
	/* A later line for the same address wins. */
	load_ptr(e, "192.0.2.7 mail2.example.org\n");
	expect_ptr(e, "192.0.2.7", "mail2.example.org");
	en_stats_t st;
	en_stats(e, &st);
	ck_assert_uint_eq(st.ptr_names, 7);
	ck_assert_uint_eq(st.ptr_files, 2);
	en_free(e);
}
END_TEST

START_TEST(ptr_file_errors)
{
	char err[256];
	en_ctx *e = new_ctx();
	ck_assert_int_eq(en_ptr_load(e, "/nonexistent/ptr.txt", err, sizeof(err)), V6R_EIO);
	ck_assert_msg(strstr(err, "failed to open PTR file /nonexistent/ptr.txt"), "%s", err);
	en_free(e);
}
END_TEST

/* ---- agreement -------------------------------------------------------------------------- */

static const struct agree_case {
	const char *n6, *n4, *v4;
	int want;
} agree_cases[] = {
	{ "mail.example.org", "mail.example.org", "192.0.2.1", 2 },
	{ "mx6.example.co.uk", "mail.example.co.uk", "192.0.2.1", 1 },
	{ "a.example.com", "b.example.com", "192.0.2.1", 1 },
	{ "a.example.com", "b.example.net", "192.0.2.1", 0 },
	{ "a.example.com", "a.b.example.com", "192.0.2.1", 0 },
	{ "host1.co.uk", "host2.co.uk", "192.0.2.1", 0 },            /* registry suffix */
	{ "shop.com.au", "mail.com.au", "192.0.2.1", 0 },
	{ "a.ibm.de", "b.ibm.de", "192.0.2.1", 1 },                   /* a 3-letter SLD is a domain */
	{ "host.com", "mail.com", "192.0.2.1", 0 },                   /* the parent is a bare TLD */
	{ "2001-db8--1.dyn.isp.net", "192-0-2-1.dyn.isp.net", "192.0.2.1", 0 },  /* pool name */
	{ "x.example.net", "gw.example.net", "192.0.2.1", 1 },
	{ "x.dyn.isp.net", "c-1-2-0-192.dyn.isp.net", "192.0.2.1", 0 },  /* reversed octets */
	{ "x.dyn.isp.net", "c192-0-2-77.dyn.isp.net", "192.0.2.1", 1 },  /* another address */
	{ "localhost", "localhost", "192.0.2.1", 2 },
	{ NULL, "mail.example.org", "192.0.2.1", 0 },
	{ "mail.example.org", NULL, "192.0.2.1", 0 },
};

START_TEST(ptr_agreement)
{
	const struct agree_case *t = &agree_cases[_i];
	char text[512] = "";
	if (t->n6)
		snprintf(text, sizeof(text), "2001:db8::1 %s\n", t->n6);
	if (t->n4)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s %s\n", t->v4, t->n4);
	en_ctx *e = new_ctx();
	load_ptr(e, text);
	uint8_t a6[16], a4[16];
	a16("2001:db8::1", a6);
	a16(t->v4, a4);
	int got = en_ptr_agree(e, a6, a4);
	ck_assert_msg(got == t->want, "%s / %s: %d, want %d", t->n6 ? t->n6 : "-", t->n4 ? t->n4 : "-",
	              got, t->want);
	en_free(e);
}
END_TEST

START_TEST(asn_agreement)
{
	en_ctx *e = new_ctx();
	load_asn(e, "2001:4860::\t32\t15169\n8.8.8.0\t24\t15169\n1.1.1.0\t24\t13335\n");
	uint8_t g6[16], g4[16], c4[16], u4[16], u6[16];
	a16("2001:4860::1", g6);
	a16("8.8.8.8", g4);
	a16("1.1.1.1", c4);
	a16("203.0.113.1", u4);
	a16("2001:db8::1", u6);
	ck_assert(en_same_asn(e, g6, g4));
	ck_assert(!en_same_asn(e, g6, c4));
	ck_assert(!en_same_asn(e, g6, u4));
	ck_assert(!en_same_asn(e, u6, u4));                  /* both unknown is no agreement */
	en_free(e);
}
END_TEST

/* ---- live lookups through a fake resolver and clock -------------------------------------- */

typedef struct fake {
	int64_t now;
	unsigned calls;
	char last_qname[128];
	int rc;              /* what the next queries answer */
	uint32_t ttl;
} fake;

static int64_t fake_clock(void *arg)
{
	return ((fake *)arg)->now;
}

/* Answers host-<first label of qname>.example.net when rc is EN_ANS_NAME. */
static int fake_query(void *arg, const char *qname, char *name, size_t cap, uint32_t *ttl)
{
	fake *f = arg;
	f->calls++;
	snprintf(f->last_qname, sizeof(f->last_qname), "%s", qname);
	if (f->rc == EN_ANS_NAME) {
		snprintf(name, cap, "host-%.*s.example.net", (int)strcspn(qname, "."), qname);
		*ttl = f->ttl;
	}
	return f->rc;
}

static en_ctx *live_ctx(fake *f, uint32_t cache, uint32_t budget)
{
	en_ctx *e = new_ctx();
	en_live_cfg c;
	char err[256];
	en_live_defaults(&c);
	ck_assert_uint_eq(c.timeout_s, 1);
	ck_assert_uint_eq(c.cache_max, 100000);
	ck_assert_uint_eq(c.budget, 10000);
	c.n_servers = 1;
	strcpy(c.server[0].host, "127.0.0.1");
	c.cache_max = cache;
	c.budget = budget;
	ck_assert_msg(en_live_enable(e, &c, err, sizeof(err)) == 0, "%s", err);
	f->now = 1000000;
	f->rc = EN_ANS_NAME;
	f->ttl = 300;
	en_set_clock(e, fake_clock, f);
	en_set_query(e, fake_query, f);
	return e;
}

static en_stats_t stats_of(const en_ctx *e)
{
	en_stats_t s;
	en_stats(e, &s);
	return s;
}

START_TEST(live_positive_ttl_and_names)
{
	fake f = { 0 };
	en_ctx *e = live_ctx(&f, 100, 100);
	expect_ptr(e, "192.0.2.7", "host-7.example.net");
	ck_assert_str_eq(f.last_qname, "7.2.0.192.in-addr.arpa.");
	expect_ptr(e, "2001:db8::25", "host-5.example.net");
	ck_assert_str_eq(f.last_qname,
	                 "5.2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.");
	ck_assert_uint_eq(f.calls, 2);
	f.now += 299;                                       /* within the TTL: cached */
	expect_ptr(e, "192.0.2.7", "host-7.example.net");
	ck_assert_uint_eq(f.calls, 2);
	f.now += 1;                                         /* expired: asked again */
	f.rc = EN_ANS_NONE;
	expect_ptr(e, "192.0.2.7", NULL);
	ck_assert_uint_eq(f.calls, 3);
	/* A file name wins over the resolver. */
	load_ptr(e, "192.0.2.99 from-file.example.org\n");
	expect_ptr(e, "192.0.2.99", "from-file.example.org");
	ck_assert_uint_eq(f.calls, 3);
	en_stats_t s = stats_of(e);
	ck_assert_uint_eq(s.live_queries, 3);
	ck_assert_uint_eq(s.live_names, 2);
	ck_assert_uint_eq(s.live_nxdomain, 1);
	ck_assert_uint_eq(s.live_hits, 1);
	ck_assert_uint_eq(s.live_misses, 3);
	ck_assert_uint_eq(s.ptr_file_hits, 1);
	ck_assert(s.live);
	en_free(e);
}
END_TEST

/* TTLs are held to [60 s, 1 d]; negative answers of every kind last 1 h. */
static const struct ttl_case {
	int rc;
	uint32_t ttl;
	int64_t lasts;
} ttl_cases[] = {
	{ EN_ANS_NAME, 0, 60 },
	{ EN_ANS_NAME, 59, 60 },
	{ EN_ANS_NAME, 3600, 3600 },
	{ EN_ANS_NAME, 86400, 86400 },
	{ EN_ANS_NAME, 10 * 86400, 86400 },
	{ EN_ANS_NAME, UINT32_MAX, 86400 },
	{ EN_ANS_NONE, 0, 3600 },
	{ EN_ANS_TIMEOUT, 0, 3600 },
	{ EN_ANS_ERROR, 0, 3600 },
};

START_TEST(live_cache_lifetimes)
{
	const struct ttl_case *t = &ttl_cases[_i];
	fake f = { 0 };
	en_ctx *e = live_ctx(&f, 100, 100);
	f.rc = t->rc;
	f.ttl = t->ttl;
	int64_t t0 = f.now;
	ptr_of(e, "198.51.100.1");
	f.now = t0 + t->lasts - 1;
	ptr_of(e, "198.51.100.1");
	ck_assert_msg(f.calls == 1, "rc %d ttl %u: asked again before %lld s", t->rc, t->ttl,
	              (long long)t->lasts);
	f.now = t0 + t->lasts;
	ptr_of(e, "198.51.100.1");
	ck_assert_msg(f.calls == 2, "rc %d ttl %u: not asked again at %lld s", t->rc, t->ttl,
	              (long long)t->lasts);
	en_stats_t s = stats_of(e);
	ck_assert_uint_eq(t->rc == EN_ANS_TIMEOUT ? s.live_timeouts : t->rc == EN_ANS_ERROR ?
	                  s.live_errors : t->rc == EN_ANS_NONE ? s.live_nxdomain : s.live_names, 2);
	en_free(e);
}
END_TEST

START_TEST(live_eviction)
{
	fake f = { 0 };
	en_ctx *e = live_ctx(&f, 4, 100);                   /* one set of 4 */
	const char *addrs[] = { "192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4", "192.0.2.5" };
	for (int i = 0; i < 4; i++) {
		f.ttl = (uint32_t)(1000 - i * 100);              /* 192.0.2.4 expires first */
		ptr_of(e, addrs[i]);
	}
	ck_assert_uint_eq(stats_of(e).live_evictions, 0);
	ck_assert_uint_eq(stats_of(e).live_cached, 4);
	ptr_of(e, addrs[4]);
	ck_assert_uint_eq(stats_of(e).live_evictions, 1);
	ck_assert_uint_eq(stats_of(e).live_cached, 4);
	unsigned calls = f.calls;
	expect_ptr(e, addrs[0], "host-1.example.net");
	expect_ptr(e, addrs[1], "host-2.example.net");
	expect_ptr(e, addrs[2], "host-3.example.net");
	ptr_of(e, addrs[4]);
	ck_assert_uint_eq(f.calls, calls);                  /* all still cached */
	ptr_of(e, addrs[3]);                                /* the evicted one is asked again */
	ck_assert_uint_eq(f.calls, calls + 1);
	/* An expired entry is reused before a live one is evicted. */
	f.now += 950;                                       /* 192.0.2.1 (1000 s) still lives */
	unsigned ev = (unsigned)stats_of(e).live_evictions;
	ptr_of(e, "192.0.2.6");
	ck_assert_uint_eq(stats_of(e).live_evictions, ev);
	en_free(e);
}
END_TEST

START_TEST(live_budget)
{
	fake f = { 0 };
	en_ctx *e = live_ctx(&f, 100, 3);
	expect_ptr(e, "192.0.2.1", "host-1.example.net");
	expect_ptr(e, "192.0.2.2", "host-2.example.net");
	expect_ptr(e, "192.0.2.3", "host-3.example.net");
	expect_ptr(e, "192.0.2.4", NULL);                   /* budget spent */
	expect_ptr(e, "192.0.2.5", NULL);
	expect_ptr(e, "192.0.2.1", "host-1.example.net");   /* the cache still answers */
	ck_assert_uint_eq(f.calls, 3);
	en_stats_t s = stats_of(e);
	ck_assert_uint_eq(s.live_queries, 3);
	ck_assert_uint_eq(s.live_over_budget, 2);
	ck_assert_uint_eq(s.live_hits, 1);
	en_free(e);

	e = live_ctx(&f, 100, 0);                           /* budget 0: never asks */
	f.calls = 0;
	expect_ptr(e, "192.0.2.1", NULL);
	ck_assert_uint_eq(f.calls, 0);
	en_free(e);
}
END_TEST

START_TEST(live_pause_after_timeouts)
{
	fake f = { 0 };
	en_ctx *e = live_ctx(&f, 1000, 1000);
	char a[32];
	f.rc = EN_ANS_TIMEOUT;
	for (int i = 1; i <= 9; i++) {
		snprintf(a, sizeof(a), "192.0.2.%d", i);
		ptr_of(e, a);
	}
	f.rc = EN_ANS_NONE;                                 /* an answer resets the run */
	ptr_of(e, "192.0.2.100");
	f.rc = EN_ANS_TIMEOUT;
	for (int i = 11; i <= 20; i++) {
		snprintf(a, sizeof(a), "192.0.2.%d", i);
		ptr_of(e, a);
	}
	ck_assert_uint_eq(f.calls, 20);
	ptr_of(e, "192.0.2.21");                            /* 10 in a row: paused */
	ck_assert_uint_eq(f.calls, 20);
	ck_assert_uint_eq(stats_of(e).live_paused, 1);
	f.now += 599;
	ptr_of(e, "192.0.2.22");
	ck_assert_uint_eq(f.calls, 20);
	f.now += 1;
	f.rc = EN_ANS_NAME;
	expect_ptr(e, "192.0.2.23", "host-23.example.net");
	ck_assert_uint_eq(f.calls, 21);
	ck_assert_uint_eq(stats_of(e).live_timeouts, 19);
	en_free(e);
}
END_TEST

START_TEST(live_config_errors)
{
	en_ctx *e = new_ctx();
	en_live_cfg c;
	char err[512], conf[128];
	en_live_defaults(&c);
	c.n_servers = 2;
	strcpy(c.server[0].host, "127.0.0.1");
	strcpy(c.server[1].host, "::1");
	c.server[1].port = 5353;
	ck_assert_int_eq(en_live_enable(e, &c, err, sizeof(err)), V6R_EINVAL);
	ck_assert_msg(strstr(err, "one port"), "%s", err);
	c.server[1].port = 53;
	strcpy(c.server[1].host, "resolver.example");
	ck_assert_int_eq(en_live_enable(e, &c, err, sizeof(err)), V6R_EINVAL);
	ck_assert_msg(strstr(err, "'resolver.example'"), "%s", err);
	c.n_servers = 0;
	c.resolv_conf = "/nonexistent/resolv.conf";
	ck_assert_int_eq(en_live_enable(e, &c, err, sizeof(err)), V6R_EINVAL);
	ck_assert_msg(strstr(err, "/nonexistent/resolv.conf"), "%s", err);
	temp_path(conf, sizeof(conf), "resolv");
	FILE *f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("search example.org\nnameserver 127.0.0.1\n", f);
	fclose(f);
	c.resolv_conf = conf;
	ck_assert_msg(en_live_enable(e, &c, err, sizeof(err)) == 0, "%s", err);
	ck_assert(stats_of(e).live);
	c.cache_max = 3;
	ck_assert_int_eq(en_live_enable(e, &c, err, sizeof(err)), V6R_EINVAL);
	unlink(conf);
	en_free(e);
}
END_TEST

/* ---- live lookups through ldns against a real server (tests/e2e/t_enrich.sh) -------------- */

/* "ADDR@PORT" into s. */
static void server_of(const char *text, en_server *s)
{
	const char *at = strchr(text, '@');
	ck_assert_msg(at && (size_t)(at - text) < sizeof(s->host), "bad server '%s'", text);
	memcpy(s->host, text, (size_t)(at - text));
	s->host[at - text] = '\0';
	s->port = (uint16_t)atoi(at + 1);
}

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/*
 * t_enrich.sh serves 192.0.2.25 -> mail.example.org and 2001:db8::25 -> mx6.example.org from
 * Unbound at V6REP_TEST_PTR_SERVER, everything else under 192.0.2.0/24 and 2001:db8::/32 is
 * NXDOMAIN; V6REP_TEST_DEAD_SERVER is a port nobody answers on.
 */
START_TEST(live_ldns)
{
	const char *srv = getenv("V6REP_TEST_PTR_SERVER"), *dead = getenv("V6REP_TEST_DEAD_SERVER");
	if (!srv || !dead) {
		printf("enrich: live_ldns skipped (V6REP_TEST_PTR_SERVER and V6REP_TEST_DEAD_SERVER "
		       "unset; tests/e2e/t_enrich.sh sets them)\n");
		return;
	}
	en_ctx *e = new_ctx();
	en_live_cfg c;
	char err[256];
	en_live_defaults(&c);
	c.n_servers = 1;
	server_of(srv, &c.server[0]);
	ck_assert_msg(en_live_enable(e, &c, err, sizeof(err)) == 0, "%s", err);
	expect_ptr(e, "192.0.2.25", "mail.example.org");
	expect_ptr(e, "2001:db8::25", "mx6.example.org");
	expect_ptr(e, "192.0.2.99", NULL);
	expect_ptr(e, "2001:db8::99", NULL);
	uint8_t a6[16], a4[16];
	a16("2001:db8::25", a6);
	a16("192.0.2.25", a4);
	ck_assert_int_eq(en_ptr_agree(e, a6, a4), 1);      /* from the cache now */
	en_stats_t s = stats_of(e);
	ck_assert_uint_eq(s.live_queries, 4);
	ck_assert_uint_eq(s.live_names, 2);
	ck_assert_uint_eq(s.live_nxdomain, 2);
	ck_assert_uint_eq(s.live_timeouts, 0);
	ck_assert_uint_eq(s.live_hits, 2);
	en_free(e);

	e = new_ctx();
	server_of(dead, &c.server[0]);
	ck_assert_msg(en_live_enable(e, &c, err, sizeof(err)) == 0, "%s", err);
	for (int i = 0; i < 2; i++) {                       /* ldns must not give up on the server */
		double t0 = now_s();
		expect_ptr(e, i ? "192.0.2.26" : "192.0.2.25", NULL);
		double took = now_s() - t0;
		printf("enrich: live_ldns: timeout %d took %.2f s\n", i + 1, took);
		ck_assert_msg(took >= 0.8 && took < 2.5, "timeout took %.2f s", took);
	}
	ck_assert_uint_eq(stats_of(e).live_timeouts, 2);
	en_free(e);
}
END_TEST

Suite *enrich_suite(void)
{
	Suite *s = suite_create("enrich");
	TCase *ta = tcase_create("asn");
	tcase_add_test(ta, pfx2as_families_and_origins);
	tcase_add_loop_test(ta, pfx2as_bad_line, 0, sizeof(bad_cases) / sizeof(bad_cases[0]));
	tcase_add_test(ta, bad_lines_counted_and_first_kept);
	tcase_add_test(ta, pfx2as_files_plain_gzip_and_errors);
	tcase_add_test(ta, cymru_verbose);
	tcase_add_test(ta, cymru_plain);
	tcase_add_test(ta, lpm_nesting);
	tcase_add_test(ta, lpm_later_wins_and_v6_covers_v4);
	tcase_add_test(ta, lpm_random_against_brute_force);
	tcase_set_timeout(ta, 60);
	suite_add_tcase(s, ta);
	TCase *tp = tcase_create("ptr");
	tcase_add_test(tp, ptr_file_forms);
	tcase_add_test(tp, ptr_file_errors);
	tcase_add_loop_test(tp, ptr_agreement, 0, sizeof(agree_cases) / sizeof(agree_cases[0]));
	tcase_add_test(tp, asn_agreement);
	suite_add_tcase(s, tp);
	TCase *tl = tcase_create("live");
	tcase_add_test(tl, live_positive_ttl_and_names);
	tcase_add_loop_test(tl, live_cache_lifetimes, 0, sizeof(ttl_cases) / sizeof(ttl_cases[0]));
	tcase_add_test(tl, live_eviction);
	tcase_add_test(tl, live_budget);
	tcase_add_test(tl, live_pause_after_timeouts);
	tcase_add_test(tl, live_config_errors);
	suite_add_tcase(s, tl);
	TCase *tn = tcase_create("ldns");
	tcase_add_test(tn, live_ldns);
	tcase_set_timeout(tn, 30);
	suite_add_tcase(s, tn);
	return s;
}
