/* check_tmpl.c: unit tests of the TXT template: variables, literal braces, errors, limits, cutting. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "../zone/tmpl.h"
#include "suites.h"

/* Builds an entry for prefix text s with code 127.0.0.c and the given reason. */
static store_entry mk_entry(const char *s, uint8_t c, const char *reason)
{
	store_entry e;

	memset(&e, 0, sizeof e);
	ck_assert_int_eq(addr_parse(s, strlen(s), 0, &e.pfx), 0);
	e.kind = STORE_LISTING;
	e.code[0] = 127;
	e.code[3] = c;
	e.reason = reason;
	e.reason_len = reason ? strlen(reason) : 0;
	return e;
}

static void mk_addr(const char *s, uint8_t a[16])
{
	addr_pfx p;

	ck_assert_int_eq(addr_parse(s, strlen(s), ADDR_NO_LEN, &p), 0);
	memcpy(a, p.a, 16);
}

/* Compiles src (which must compile) and renders it with v; returns the text in a static buffer. */
static const char *render(const char *src, const tmpl_vars *v)
{
	static char out[TMPL_OUT_MAX + 1];
	char err[256];
	tmpl t;
	size_t n;

	ck_assert_msg(tmpl_compile(&t, src, err, sizeof err) == 0, "'%s': %s", src, err);
	n = tmpl_render(&t, v, out, TMPL_OUT_MAX);
	ck_assert_uint_le(n, TMPL_OUT_MAX);
	out[n] = '\0';
	return out;
}

/* One row: template, expected rc, expected rendering (rc 0) or two message parts (rc < 0). */
static const struct compile_case {
	const char *src;
	int rc;
	const char *out_or_msg1, *msg2;
} compile_cases[] = {
	{ "", 0, "", NULL },
	{ "plain text", 0, "plain text", NULL },
	{ "{addr}", 0, "2001:db8::1", NULL },
	{ "{prefix}", 0, "2001:db8::/32", NULL },
	{ "{reason}", 0, "spam trap", NULL },
	{ "{code}", 0, "127.0.0.3", NULL },
	{ "{zone}", 0, "bl.example", NULL },
	{ "{addr} is listed in {zone}: {reason} ({code}, {prefix})", 0,
	  "2001:db8::1 is listed in bl.example: spam trap (127.0.0.3, 2001:db8::/32)", NULL },
	{ "{addr}{addr}", 0, "2001:db8::12001:db8::1", NULL },
	{ "{{addr}", 0, "{addr}", NULL },
	{ "{{", 0, "{", NULL },
	{ "{{{{", 0, "{{", NULL },
	{ "{{{code}", 0, "{127.0.0.3", NULL },
	{ "a}b", 0, "a}b", NULL },
	{ "}}", 0, "}}", NULL },
	{ "}{code}{", -1, "column 8: unclosed brace", "'{'" },
	{ "{{x}", 0, "{x}", NULL },
	{ "https://bl.example/?q={addr}", 0, "https://bl.example/?q=2001:db8::1", NULL },
	{ "{foo}", V6R_ESYNTAX, "column 1: unknown variable '{foo}'", NULL },
	{ "see {ADDR}", V6R_ESYNTAX, "column 5: unknown variable '{ADDR}'", NULL },
	{ "{}", V6R_ESYNTAX, "column 1: unknown variable '{}'", NULL },
	{ "{ addr}", V6R_ESYNTAX, "column 1: unknown variable '{ addr}'", NULL },
	{ "x {addr", V6R_ESYNTAX, "column 3: unclosed brace", "'{addr'" },
	{ "{", V6R_ESYNTAX, "column 1: unclosed brace", NULL },
	{ "ok {zone} {reason {code}", V6R_ESYNTAX, "column 11: unknown variable '{reason {code}'",
	  NULL },
	{ "{{{", V6R_ESYNTAX, "column 3: unclosed brace", NULL },
};

START_TEST(compile_and_render)
{
	const struct compile_case *c = &compile_cases[_i];
	store_entry e = mk_entry("2001:db8::/32", 3, "spam trap");
	uint8_t a[16];
	tmpl_vars v = { &e, a, false, "bl.example", "listed" };
	char err[256] = "untouched";
	tmpl t;
	int rc;

	mk_addr("2001:db8::1", a);
	rc = tmpl_compile(&t, c->src, err, sizeof err);
	if (c->rc == 0) {
		ck_assert_msg(rc == 0, "'%s' failed: %s", c->src, err);
		ck_assert_str_eq(render(c->src, &v), c->out_or_msg1);
		return;
	}
	/* rc -1 in the table: any syntax error will do, the message parts are what matter. */
	ck_assert_int_eq(rc, c->rc == -1 ? V6R_ESYNTAX : c->rc);
	ck_assert_msg(strstr(err, c->out_or_msg1) != NULL, "'%s': message '%s' lacks '%s'", c->src,
	              err, c->out_or_msg1);
	if (c->msg2 != NULL)
		ck_assert_msg(strstr(err, c->msg2) != NULL, "'%s': message '%s' lacks '%s'", c->src,
		              err, c->msg2);
}
END_TEST

/* The segment table holds TMPL_MAX_SEGS parts and the literal text 512 bytes; one more fails. */
START_TEST(limits)
{
	char src[2048], err[256];
	tmpl t;

	src[0] = '\0';
	for (int i = 0; i < TMPL_MAX_SEGS; i++)
		strcat(src, "{code}");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), 0);
	ck_assert_uint_eq(t.n_seg, TMPL_MAX_SEGS);
	strcat(src, "{zone}");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 193:") && strstr(err, "more than 32 parts"), "%s", err);

	/* Alternating literal and variable: the 33rd part is a literal. */
	src[0] = '\0';
	for (int i = 0; i < TMPL_MAX_SEGS / 2; i++)
		strcat(src, "x{code}");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), 0);
	strcat(src, "y");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 113:") && strstr(err, "more than 32 parts"), "%s", err);

	memset(src, 'a', sizeof t.text);
	src[sizeof t.text] = '\0';
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), 0);
	ck_assert_uint_eq(t.n_seg, 1);
	strcat(src, "b");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 513:") && strstr(err, "longer than 512 bytes"), "%s", err);

	/* "{{" counts one byte of text: 512 of them fit. */
	src[0] = '\0';
	for (int i = 0; i < 512; i++)
		strcat(src, "{{");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), 0);
	strcat(src, "{{");
	ck_assert_int_eq(tmpl_compile(&t, src, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 1025:") != NULL, "%s", err);

	/* A NULL or short error buffer is fine. */
	ck_assert_int_eq(tmpl_compile(&t, "{nope}", NULL, 0), V6R_ESYNTAX);
	ck_assert_int_eq(tmpl_compile(&t, "{nope}", err, 8), V6R_ESYNTAX);
	ck_assert_uint_eq(strlen(err), 7);
	ck_assert_int_eq(tmpl_compile(&t, NULL, err, sizeof err), V6R_EINVAL);
}
END_TEST

START_TEST(render_addr_forms)
{
	store_entry e6 = mk_entry("2001:db8::/32", 2, "r");
	store_entry e128 = mk_entry("2001:db8::1", 2, "r");
	store_entry e4 = mk_entry("192.0.2.0/24", 9, "r");
	store_entry e4h = mk_entry("192.0.2.7", 2, "r");
	uint8_t a[16];
	tmpl_vars v = { &e4, a, true, "bl.example", "" };

	/* An IPv4 query prints dotted; its entry prints as an IPv4 prefix. */
	mk_addr("192.0.2.7", a);
	ck_assert_str_eq(render("{addr} {prefix} {code}", &v), "192.0.2.7 192.0.2.0/24 127.0.0.9");
	/* RFC 5952: lower case, longest zero run compressed. */
	mk_addr("2001:DB8:0:0:1:0:0:0", a);
	v.e = &e6;
	v.addr_v4 = false;
	ck_assert_str_eq(render("{addr}", &v), "2001:db8:0:0:1::");
	/* Without an address (a secondary's rendering) {addr} is the deciding prefix as CIDR. */
	v.addr = NULL;
	ck_assert_str_eq(render("{addr}|{prefix}", &v), "2001:db8::/32|2001:db8::/32");
	v.e = &e128;
	ck_assert_str_eq(render("{addr}", &v), "2001:db8::1/128");
	v.e = &e4;
	ck_assert_str_eq(render("{addr}", &v), "192.0.2.0/24");
	v.e = &e4h;
	ck_assert_str_eq(render("{addr} {prefix}", &v), "192.0.2.7/32 192.0.2.7/32");
}
END_TEST

START_TEST(render_reason_and_zone)
{
	const char buf[] = "first part|not part of the reason";
	store_entry e = mk_entry("2001:db8::/48", 2, NULL);
	tmpl_vars v = { &e, NULL, false, "v6bl.example.org", "listed by policy" };

	/* An empty reason gives the default reason. */
	ck_assert_str_eq(render("<{reason}>", &v), "<listed by policy>");
	v.default_reason = NULL;
	ck_assert_str_eq(render("<{reason}>", &v), "<>");
	/* The reason is not NUL-terminated: only reason_len bytes are printed. */
	e.reason = buf;
	e.reason_len = 10;
	ck_assert_str_eq(render("<{reason}>", &v), "<first part>");
	ck_assert_str_eq(render("{zone}", &v), "v6bl.example.org");
	v.zone = NULL;
	ck_assert_str_eq(render("[{zone}]", &v), "[]");
	/* Code octets of every width. */
	e.code[1] = 10;
	e.code[2] = 200;
	e.code[3] = 0;
	ck_assert_str_eq(render("{code}", &v), "127.10.200.0");
	e.code[1] = 255;
	e.code[2] = 99;
	e.code[3] = 100;
	ck_assert_str_eq(render("{code}", &v), "127.255.99.100");
	/* No entry: {prefix} and {code} are empty, {reason} is the default. */
	v.e = NULL;
	v.default_reason = "dflt";
	ck_assert_str_eq(render("[{prefix}][{code}][{reason}]", &v), "[][][dflt]");
}
END_TEST

/* Rendering into every cap from 0 to past the full length: a prefix, never a byte beyond cap. */
START_TEST(render_cut)
{
	store_entry e = mk_entry("2001:db8:aa::/48", 7, "spam {not a var}");
	uint8_t a[16];
	tmpl_vars v = { &e, a, false, "bl.example", "d" };
	const char *full_src = "{{ {addr} in {zone} } {reason} {code} {prefix} end";
	char full[256], out[300];
	size_t full_len;
	tmpl t;

	mk_addr("2001:db8:aa::5", a);
	ck_assert_int_eq(tmpl_compile(&t, full_src, NULL, 0), 0);
	full_len = tmpl_render(&t, &v, full, sizeof full);
	full[full_len] = '\0';
	ck_assert_str_eq(full, "{ 2001:db8:aa::5 in bl.example } spam {not a var} 127.0.0.7 "
	                       "2001:db8:aa::/48 end");
	for (size_t cap = 0; cap <= full_len + 3; cap++) {
		size_t n;

		memset(out, 0xAA, sizeof out);
		n = tmpl_render(&t, &v, out, cap);
		ck_assert_uint_eq(n, cap < full_len ? cap : full_len);
		ck_assert_mem_eq(out, full, n);
		for (size_t i = n; i < sizeof out; i++)
			ck_assert_msg((unsigned char)out[i] == 0xAA, "cap %zu: byte %zu written", cap, i);
	}
}
END_TEST

/* Rendered text is never longer than TMPL_OUT_MAX, even when the buffer is larger. */
START_TEST(render_out_max)
{
	static char reason[STORE_REASON_MAX];
	static char out[TMPL_OUT_MAX + 64];
	store_entry e = mk_entry("::ffff:0:0/96", 2, NULL);
	tmpl_vars v = { &e, NULL, false, "z", "" };
	tmpl t;

	memset(reason, 'r', sizeof reason);
	e.reason = reason;
	e.reason_len = sizeof reason;
	memset(out, 0, sizeof out);
	ck_assert_int_eq(tmpl_compile(&t, "{prefix} {reason}{reason}", NULL, 0), 0);
	ck_assert_uint_eq(tmpl_render(&t, &v, out, sizeof out), TMPL_OUT_MAX);
	ck_assert_mem_eq(out, "0.0.0.0/0 rrr", 13);
	ck_assert_int_eq(out[TMPL_OUT_MAX - 1], 'r');
	ck_assert_int_eq(out[TMPL_OUT_MAX], 0);
	ck_assert_uint_eq(tmpl_render(&t, &v, out, 100), 100);
}
END_TEST

Suite *tmpl_suite(void)
{
	Suite *s = suite_create("tmpl");
	TCase *tc = tcase_create("tmpl");

	tcase_add_loop_test(tc, compile_and_render, 0,
	                    sizeof compile_cases / sizeof compile_cases[0]);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, render_addr_forms);
	tcase_add_test(tc, render_reason_and_zone);
	tcase_add_test(tc, render_cut);
	tcase_add_test(tc, render_out_max);
	suite_add_tcase(s, tc);
	return s;
}
