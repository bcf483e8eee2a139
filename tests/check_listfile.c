/* check_listfile.c: unit tests of the listings text format: parsing, messages, writing, round trip. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/addr.h"
#include "../zone/err.h"
#include "../zone/listfile.h"
#include "suites.h"

static const uint8_t dflt[4] = { 127, 0, 0, 2 };

/* Parses a NUL-terminated line with the default code 127.0.0.2. */
static int parse(const char *line, lf_entry *out, char *err, size_t errlen)
{
	return lf_parse_line(line, strlen(line), dflt, out, err, errlen);
}

static const char *pfx_text(const addr_pfx *p)
{
	static char buf[ADDR_PFX_STRLEN];

	ck_assert_int_gt(addr_format(p, buf, sizeof buf), 0);
	return buf;
}

static void mk_pfx(const char *s, addr_pfx *p)
{
	ck_assert_int_eq(addr_parse(s, strlen(s), 0, p), 0);
}

/* One accepted line: kind ('L' listing, 'X' exclusion), canonical prefix, code, reason. */
static const struct ok_case {
	const char *line;
	char kind;
	const char *pfx;
	uint8_t code3;      /* last octet of 127.0.0.x; 0 for exclusions */
	const char *reason;
} ok_cases[] = {
	{ "2001:db8::/32", 'L', "2001:db8::/32", 2, "" },
	{ "2001:db8::/32 127.0.0.3", 'L', "2001:db8::/32", 3, "" },
	{ "2001:db8::/32 127.0.0.3 spam source", 'L', "2001:db8::/32", 3, "spam source" },
	{ "2001:db8::/32 spam source", 'L', "2001:db8::/32", 2, "spam source" },
	{ "  2001:DB8::1  \t 127.0.0.4\t  open relay  ", 'L', "2001:db8::1/128", 4, "open relay" },
	{ "192.0.2.0/24 127.0.0.2 v4 block", 'L', "192.0.2.0/24", 2, "v4 block" },
	{ "192.0.2.1", 'L', "192.0.2.1/32", 2, "" },
	{ "0.0.0.0/0 127.0.0.10", 'L', "0.0.0.0/0", 10, "" },
	{ "::/0 everything", 'L', "::/0", 2, "everything" },
	{ "::ffff:127.0.0.2 127.0.0.2", 'L', "127.0.0.2/32", 2, "" },
	{ "!2001:db8:1::/48", 'X', "2001:db8:1::/48", 0, "" },
	{ "!2001:db8:1::/48 customer", 'X', "2001:db8:1::/48", 0, "customer" },
	{ "\t!192.0.2.128/25 \"127.0.0.2 looks like a code\"", 'X', "192.0.2.128/25", 0,
	  "127.0.0.2 looks like a code" },
	{ "::1 \"127.0.0.2\"", 'L', "::1/128", 2, "127.0.0.2" },
	{ "::1 127.0.0.5 \"say \\\"hi\\\" \\\\ bye\"", 'L', "::1/128", 5, "say \"hi\" \\ bye" },
	{ "::1 \"  leading and trailing\t \"", 'L', "::1/128", 2, "  leading and trailing\t " },
	{ "::1 \"#not a comment\"", 'L', "::1/128", 2, "#not a comment" },
	{ "::1 \"a # inside quotes\"", 'L', "::1/128", 2, "a # inside quotes" },
	{ "::1 \"\"", 'L', "::1/128", 2, "" },
	/* '#' after a blank starts a comment outside quotes; glued to text it is text. */
	{ "::1 spam # a comment", 'L', "::1/128", 2, "spam" },
	{ "::1 spam\t#tab comment", 'L', "::1/128", 2, "spam" },
	{ "::1 spam#tag more", 'L', "::1/128", 2, "spam#tag more" },
	{ "::1 127.0.0.3 # comment only", 'L', "::1/128", 3, "" },
	{ "::1 # comment", 'L', "::1/128", 2, "" },
	{ "::1 127.0.0.3#x", 'L', "::1/128", 2, "127.0.0.3#x" },
	{ "::1 \"quoted\" # comment", 'L', "::1/128", 2, "quoted" },
	{ "::1 \"quoted\"#comment", 'L', "::1/128", 2, "quoted" },
	{ "!::1 # why", 'X', "::1/128", 0, "" },
	/* Outside quotes a backslash and a quote are ordinary bytes. */
	{ "::1 back\\slash", 'L', "::1/128", 2, "back\\slash" },
	{ "::1 a \"quoted\" word", 'L', "::1/128", 2, "a \"quoted\" word" },
	{ "::1 tab\tinside", 'L', "::1/128", 2, "tab\tinside" },
	{ "::1 caf\xc3\xa9", 'L', "::1/128", 2, "caf\xc3\xa9" },
	/* Only a dotted quad is a code; other digits-and-dots text is the reason. */
	{ "::1 1.2.3 x", 'L', "::1/128", 2, "1.2.3 x" },
	{ "::1 127.0.0.2.5", 'L', "::1/128", 2, "127.0.0.2.5" },
	{ "::1 127.0.0.2 127.0.0.3", 'L', "::1/128", 2, "127.0.0.3" },
	{ "::1 ::2", 'L', "::1/128", 2, "::2" },
	{ "::1 spam\r", 'L', "::1/128", 2, "spam" },
	{ "::1 \"spam\"\r", 'L', "::1/128", 2, "spam" },
	{ "!::1\r", 'X', "::1/128", 0, "" },
};

START_TEST(parse_ok)
{
	const struct ok_case *c = &ok_cases[_i];
	char err[256] = "";
	lf_entry le;
	int rc = parse(c->line, &le, err, sizeof err);

	ck_assert_msg(rc == 1, "'%s' gave %d: %s", c->line, rc, err);
	ck_assert_int_eq(le.e.kind, c->kind == 'L' ? STORE_LISTING : STORE_EXCLUSION);
	ck_assert_str_eq(pfx_text(&le.e.pfx), c->pfx);
	if (c->kind == 'L') {
		ck_assert_uint_eq(le.e.code[0], 127);
		ck_assert_uint_eq(le.e.code[1], 0);
		ck_assert_uint_eq(le.e.code[2], 0);
		ck_assert_uint_eq(le.e.code[3], c->code3);
	} else {
		ck_assert_mem_eq(le.e.code, "\0\0\0\0", 4);
	}
	ck_assert_uint_eq(le.e.reason_len, strlen(c->reason));
	ck_assert_ptr_eq(le.e.reason, le.reason_buf);
	ck_assert_mem_eq(le.e.reason, c->reason, le.e.reason_len);
	ck_assert_uint_eq(le.e.origin, STORE_ORIGIN_OPERATOR);
	ck_assert_uint_eq(le.e.created, 0);
	ck_assert_uint_eq(le.e.updated, 0);
	ck_assert_uint_eq(le.e.expires, 0);
}
END_TEST

static const char *const empty_lines[] = {
	"", "   ", "\t", "# comment", "   # indented comment", "\r", "#", " \t # x", "#!::1",
	"  \r",
};

START_TEST(parse_empty)
{
	char err[64] = "";
	lf_entry le;

	ck_assert_int_eq(parse(empty_lines[_i], &le, err, sizeof err), 0);
	ck_assert_str_eq(err, "");
}
END_TEST

/* One rejected line: its length (0: strlen), rc and up to three parts of the message. */
static const struct err_case {
	const char *line;
	size_t len;
	int rc;
	const char *m1, *m2, *m3;
} err_cases[] = {
	{ "2001:db8::1/32", 0, V6R_EHOSTBITS, "column 1:", "'2001:db8::1/32'",
	  "did you mean 2001:db8::/32?" },
	{ "  192.0.2.1/24 127.0.0.2", 0, V6R_EHOSTBITS, "column 3:", "'192.0.2.1/24'",
	  "192.0.2.0/24" },
	{ "!2001:db8::8000/112", 0, V6R_EHOSTBITS, "column 2:", "'2001:db8::8000/112'", NULL },
	{ "2001:db8::/129", 0, V6R_ERANGE, "column 1:", "'2001:db8::/129'", "length" },
	{ "10.0.0.0/33 spam", 0, V6R_ERANGE, "column 1:", "'10.0.0.0/33'", NULL },
	{ "2001:db8::zz spam", 0, V6R_ESYNTAX, "column 1:", "'2001:db8::zz'", "not an IPv6 or IPv4" },
	{ "spam 127.0.0.2", 0, V6R_ESYNTAX, "column 1:", "'spam'", NULL },
	{ "2001:db8::/32/48", 0, V6R_ESYNTAX, "column 1:", "'2001:db8::/32/48'", NULL },
	{ "192.0.2.0/24#comment", 0, V6R_ESYNTAX, "column 1:", "'192.0.2.0/24#comment'", NULL },
	{ "2001:db8::/32 10.0.0.2", 0, V6R_ECODE, "column 15: code 10.0.0.2 is not in 127.0.0.0/8",
	  NULL, NULL },
	{ "::1\t\t128.0.0.2 x", 0, V6R_ECODE, "column 6: code 128.0.0.2 is not in 127.0.0.0/8", NULL,
	  NULL },
	{ "2001:db8::/32 127.0.0.256 x", 0, V6R_ESYNTAX, "column 15:", "bad code '127.0.0.256'",
	  "quote" },
	{ "2001:db8::/32 127.00.0.2", 0, V6R_ESYNTAX, "column 15:", "'127.00.0.2'", NULL },
	{ "::1 127..0.2", 0, V6R_ESYNTAX, "column 5:", "'127..0.2'", NULL },
	{ "!2001:db8::/32 127.0.0.2", 0, V6R_ESYNTAX, "column 16:", "exclusion takes no code",
	  "'127.0.0.2'" },
	{ "! 2001:db8::/32", 0, V6R_ESYNTAX, "column 1:", "'!' must be followed by a prefix", NULL },
	{ "  !", 0, V6R_ESYNTAX, "column 3:", "'!'", NULL },
	{ "!#x", 0, V6R_ESYNTAX, "column 1:", "'!'", NULL },
	{ "::1 \"unterminated", 0, V6R_ESYNTAX, "column 5:", "unterminated quoted text",
	  "'\"unterminated'" },
	{ "::1 \"bad \\n escape\"", 0, V6R_ESYNTAX, "column 10:", "unknown escape '\\n'", NULL },
	{ "::1 \"ends in \\", 0, V6R_ESYNTAX, "column 14:", "escape", NULL },
	{ "::1 \"quoted\" trailing", 0, V6R_ESYNTAX, "column 14:", "after the quoted reason",
	  "'trailing'" },
	{ "::1 \"a\"\"b\"", 0, V6R_ESYNTAX, "column 8:", "'\"b\"'", NULL },
	{ "::1 127.0.0.3 \"a\" b", 0, V6R_ESYNTAX, "column 19:", "'b'", NULL },
	{ "::1 spam\0x", 10, V6R_ESYNTAX, "column 9:", "NUL", NULL },
	{ "::1 sp\ram", 0, V6R_ESYNTAX, "column 7:", "carriage return", NULL },
	{ "::1 x\r\r", 0, V6R_ESYNTAX, "column 6:", "carriage return", NULL },
	{ "::1 x\ny", 0, V6R_ESYNTAX, "column 6:", "newline", NULL },
};

START_TEST(parse_errors)
{
	const struct err_case *c = &err_cases[_i];
	size_t len = c->len ? c->len : strlen(c->line);
	const char *parts[3] = { c->m1, c->m2, c->m3 };
	char err[256] = "";
	lf_entry le;
	int rc = lf_parse_line(c->line, len, dflt, &le, err, sizeof err);

	ck_assert_msg(rc == c->rc, "'%s' gave %d (%s), want %d", c->line, rc, err, c->rc);
	for (int i = 0; i < 3; i++) {
		if (parts[i] != NULL)
			ck_assert_msg(strstr(err, parts[i]) != NULL, "'%s': message '%s' lacks '%s'",
			              c->line, err, parts[i]);
	}
}
END_TEST

/* Reasons of exactly STORE_REASON_MAX bytes pass, one more fails; lines past LF_LINE_MAX fail. */
START_TEST(parse_lengths)
{
	static char line[LF_LINE_MAX + 64];
	static lf_entry le;
	char err[256];
	int rc;

	strcpy(line, "::1 ");
	memset(line + 4, 'x', STORE_REASON_MAX);
	line[4 + STORE_REASON_MAX] = '\0';
	ck_assert_int_eq(parse(line, &le, err, sizeof err), 1);
	ck_assert_uint_eq(le.e.reason_len, STORE_REASON_MAX);
	strcat(line, "y");
	ck_assert_int_eq(parse(line, &le, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 5:") && strstr(err, "1025 bytes") &&
	              strstr(err, "more than 1024"), "%s", err);
	/* Trailing blanks and a comment do not count. */
	line[4 + STORE_REASON_MAX] = '\0';
	strcat(line, "   # comment");
	ck_assert_int_eq(parse(line, &le, err, sizeof err), 1);

	/* Quoted: the decoded length counts, so 1024 escaped quotes (2048 bytes) pass. */
	strcpy(line, "::1 127.0.0.2 \"");
	for (unsigned i = 0; i < STORE_REASON_MAX; i++)
		strcat(line, "\\\"");
	strcat(line, "\"");
	rc = parse(line, &le, err, sizeof err);
	ck_assert_msg(rc == 1, "%d %s", rc, err);
	ck_assert_uint_eq(le.e.reason_len, STORE_REASON_MAX);
	ck_assert_int_eq(le.e.reason[STORE_REASON_MAX - 1], '"');
	strcpy(line + strlen(line) - 1, "z\"");
	ck_assert_int_eq(parse(line, &le, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "column 15:") && strstr(err, "1025 bytes"), "%s", err);

	/* A line of LF_LINE_MAX bytes is read (here a comment); one more byte is an error. */
	memset(line, ' ', LF_LINE_MAX);
	line[LF_LINE_MAX - 2] = '#';
	line[LF_LINE_MAX] = '\0';
	ck_assert_int_eq(parse(line, &le, err, sizeof err), 0);
	strcat(line, " ");
	ck_assert_int_eq(parse(line, &le, err, sizeof err), V6R_ERANGE);
	ck_assert_msg(strstr(err, "4097 bytes") && strstr(err, "4096"), "%s", err);
}
END_TEST

START_TEST(parse_default_code)
{
	const uint8_t bad[4] = { 10, 0, 0, 2 };
	const uint8_t other[4] = { 127, 1, 2, 3 };
	char err[256];
	lf_entry le;

	ck_assert_int_eq(lf_parse_line("::1 x", 5, other, &le, err, sizeof err), 1);
	ck_assert_mem_eq(le.e.code, other, 4);
	/* An explicit code wins over the default. */
	ck_assert_int_eq(lf_parse_line("::1 127.0.0.9", 13, other, &le, err, sizeof err), 1);
	ck_assert_uint_eq(le.e.code[3], 9);
	/* NULL means 127.0.0.2. */
	ck_assert_int_eq(lf_parse_line("::1", 3, NULL, &le, err, sizeof err), 1);
	ck_assert_mem_eq(le.e.code, dflt, 4);
	/* A default outside 127/8 is refused when it would be used, and named. */
	ck_assert_int_eq(lf_parse_line("::1 x", 5, bad, &le, err, sizeof err), V6R_ECODE);
	ck_assert_msg(strstr(err, "10.0.0.2") != NULL, "%s", err);
	ck_assert_int_eq(lf_parse_line("::1 127.0.0.4", 13, bad, &le, err, sizeof err), 1);
	ck_assert_int_eq(lf_parse_line("!::1", 4, bad, &le, err, sizeof err), 1);
	/* Messages are optional and cut to the buffer. */
	ck_assert_int_eq(lf_parse_line("zz", 2, dflt, &le, NULL, 0), V6R_ESYNTAX);
	ck_assert_int_eq(lf_parse_line("zz", 2, dflt, &le, err, 10), V6R_ESYNTAX);
	ck_assert_uint_eq(strlen(err), 9);
	/* The line need not be NUL-terminated: only len bytes are read. */
	ck_assert_int_eq(lf_parse_line("::1 abcdef", 6, dflt, &le, err, sizeof err), 1);
	ck_assert_uint_eq(le.e.reason_len, 2);
	ck_assert_int_eq(lf_parse_line(NULL, 0, dflt, &le, err, sizeof err), 0);
	ck_assert_int_eq(lf_parse_line("::1", 3, dflt, NULL, err, sizeof err), V6R_EINVAL);
}
END_TEST

/* Builds a listing (code 127.0.0.c) or, with c == 0, an exclusion. */
static store_entry mk_entry(const char *pfx, uint8_t c, const char *reason)
{
	store_entry e;

	memset(&e, 0, sizeof e);
	mk_pfx(pfx, &e.pfx);
	e.kind = c ? STORE_LISTING : STORE_EXCLUSION;
	if (c) {
		e.code[0] = 127;
		e.code[3] = c;
	}
	e.reason = reason;
	e.reason_len = strlen(reason);
	return e;
}

/* One entry and the exact line written for it. */
static const struct fmt_case {
	const char *pfx;
	uint8_t code3;
	const char *reason, *line;
} fmt_cases[] = {
	{ "2001:db8::/32", 3, "spam", "2001:db8::/32 127.0.0.3 spam\n" },
	{ "2001:db8::/32", 3, "", "2001:db8::/32 127.0.0.3\n" },
	{ "2001:0DB8:0:0:1::/80", 2, "", "2001:db8:0:0:1::/80 127.0.0.2\n" },
	{ "2001:db8:1::/48", 0, "customer", "!2001:db8:1::/48 customer\n" },
	{ "2001:db8:1::/48", 0, "", "!2001:db8:1::/48\n" },
	{ "192.0.2.0/24", 2, "x y", "192.0.2.0/24 127.0.0.2 x y\n" },
	{ "::ffff:0:0/96", 0, "", "!0.0.0.0/0\n" },
	{ "::1", 2, "#x", "::1/128 127.0.0.2 \"#x\"\n" },
	{ "::1", 2, "127.0.0.5 abc", "::1/128 127.0.0.2 \"127.0.0.5 abc\"\n" },
	{ "::1", 0, "127.0.0.5", "!::1/128 \"127.0.0.5\"\n" },
	{ "::1", 2, "3.14 pi", "::1/128 127.0.0.2 \"3.14 pi\"\n" },
	{ "::1", 2, "3 pi", "::1/128 127.0.0.2 3 pi\n" },
	{ "::1", 2, "say \"hi\"", "::1/128 127.0.0.2 say \"hi\"\n" },
	{ "::1", 2, "\"q\" \\", "::1/128 127.0.0.2 \"\\\"q\\\" \\\\\"\n" },
	{ "::1", 2, "back\\slash", "::1/128 127.0.0.2 back\\slash\n" },
	{ "::1", 2, " lead", "::1/128 127.0.0.2 \" lead\"\n" },
	{ "::1", 2, "trail\t", "::1/128 127.0.0.2 \"trail\t\"\n" },
	{ "::1", 2, "a #b", "::1/128 127.0.0.2 \"a #b\"\n" },
	{ "::1", 2, "a\t#b", "::1/128 127.0.0.2 \"a\t#b\"\n" },
	{ "::1", 2, "a#b", "::1/128 127.0.0.2 a#b\n" },
	{ "::1", 2, "!bang", "::1/128 127.0.0.2 !bang\n" },
};

START_TEST(format_lines)
{
	const struct fmt_case *c = &fmt_cases[_i];
	store_entry e = mk_entry(c->pfx, c->code3, c->reason);
	char buf[LF_LINE_MAX], err[256];
	lf_entry back;
	int n = lf_format_line(&e, buf, sizeof buf);

	ck_assert_int_eq(n, (int)strlen(c->line));
	ck_assert_str_eq(buf, c->line);
	/* ...and it reads back as the same entry. */
	ck_assert_int_eq(lf_parse_line(buf, (size_t)n - 1, dflt, &back, err, sizeof err), 1);
	ck_assert_int_eq(back.e.kind, e.kind);
	ck_assert_int_eq(addr_pfx_cmp(&back.e.pfx, &e.pfx), 0);
	ck_assert_mem_eq(back.e.code, e.code, 4);
	ck_assert_uint_eq(back.e.reason_len, e.reason_len);
	ck_assert_mem_eq(back.e.reason, e.reason, e.reason_len);
}
END_TEST

START_TEST(format_errors)
{
	static char big[STORE_REASON_MAX + 1];
	store_entry e = mk_entry("2001:db8::/32", 2, "spam");
	char buf[LF_LINE_MAX];
	int n;

	/* The buffer must hold the line, its newline and a NUL. */
	n = lf_format_line(&e, buf, sizeof buf);
	ck_assert_int_eq(n, 29);
	ck_assert_int_eq(lf_format_line(&e, buf, (size_t)n + 1), n);
	memset(buf, 0x55, sizeof buf);
	ck_assert_int_eq(lf_format_line(&e, buf, (size_t)n), V6R_ESPACE);
	ck_assert_int_eq((unsigned char)buf[n], 0x55);
	ck_assert_int_eq(lf_format_line(&e, buf, 0), V6R_ESPACE);

	e.code[0] = 10;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_ECODE);
	/* An exclusion's code is not written, so it does not matter. */
	e.kind = STORE_EXCLUSION;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), 20);
	ck_assert_str_eq(buf, "!2001:db8::/32 spam\n");
	e.kind = 0;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EINVAL);

	e = mk_entry("2001:db8::/32", 2, "two\nlines");
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EINVAL);
	e.reason = "cr\r";
	e.reason_len = 3;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EINVAL);
	e.reason = "nul\0x";
	e.reason_len = 5;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EINVAL);
	memset(big, 'b', sizeof big);
	e.reason = big;
	e.reason_len = sizeof big;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_ERANGE);
	e.reason_len = STORE_REASON_MAX;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), 14 + 10 + STORE_REASON_MAX + 1);

	e = mk_entry("2001:db8::/32", 2, "");
	e.pfx.a[5] = 1;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EHOSTBITS);
	e.pfx.len = 129;
	ck_assert_int_eq(lf_format_line(&e, buf, sizeof buf), V6R_EINVAL);
	ck_assert_int_eq(lf_format_line(NULL, buf, sizeof buf), V6R_EINVAL);
}
END_TEST

/* The longest possible line fits in LF_LINE_MAX and reads back. */
START_TEST(format_worst_case)
{
	static char reason[STORE_REASON_MAX];
	static char buf[LF_LINE_MAX];
	static lf_entry back;
	store_entry e = mk_entry("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 255, "");
	char err[256];
	int n;

	memset(reason, '"', sizeof reason);
	e.code[1] = e.code[2] = 255;
	e.reason = reason;
	e.reason_len = sizeof reason;
	n = lf_format_line(&e, buf, sizeof buf);
	ck_assert_int_gt(n, 2 * (int)STORE_REASON_MAX);
	ck_assert_int_lt(n, LF_LINE_MAX);
	ck_assert_int_eq(lf_parse_line(buf, (size_t)n - 1, dflt, &back, err, sizeof err), 1);
	ck_assert_uint_eq(back.e.reason_len, STORE_REASON_MAX);
	ck_assert_mem_eq(back.e.reason, reason, STORE_REASON_MAX);
}
END_TEST

/* ---- Round trip over generated entries (fixed seed, so failures reproduce). ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static unsigned rnd(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* Reason bytes biased toward the ones the format treats specially. */
static char rnd_byte(void)
{
	static const char special[] = " \t#\"\\.0123456789!";

	switch (rnd(4)) {
	case 0:
		return special[rnd(sizeof special - 1)];
	case 1: {
		char c = (char)(1 + rnd(255));          /* any byte but NUL, CR, LF */
		return c == '\r' || c == '\n' ? 'x' : c;
	}
	default:
		return (char)('a' + rnd(26));
	}
}

static size_t rnd_reason(char *r)
{
	static const char *const starts[] = {
		"127.0.0.2", "127.0.0.3 spam", "1.2.3.4", "10.0.0.1 x", "3.14", "#", "\"", " ", "\t",
		"!", "\\", "\\\"", "\"\"", "# ", "a #", "1.2.3", "127.0.0.256", "::1", "0.0.0.0",
	};
	size_t n = 0, want;

	switch (rnd(8)) {
	case 0:
		return 0;
	case 1:
		want = STORE_REASON_MAX - rnd(3);
		break;
	case 2:
		want = rnd(STORE_REASON_MAX + 1);
		break;
	default:
		want = rnd(24);
		break;
	}
	if (rnd(3) == 0) {
		const char *s = starts[rnd(sizeof starts / sizeof starts[0])];
		n = strlen(s) < want ? strlen(s) : want;
		memcpy(r, s, n);
	}
	while (n < want)
		r[n++] = rnd_byte();
	if (n > 0 && rnd(6) == 0)
		r[n - 1] = rnd(2) ? ' ' : '\t';
	return n;
}

/* Entry i: kind and family from the generator, prefix length cycling through every value. */
static void rnd_entry(unsigned i, store_entry *e, char *reason)
{
	memset(e, 0, sizeof *e);
	e->kind = rnd(3) == 0 ? STORE_EXCLUSION : STORE_LISTING;
	if (i % 2 == 0) {
		uint8_t v4[4];
		for (int k = 0; k < 4; k++)
			v4[k] = (uint8_t)rng();
		addr_from_v4(&e->pfx, v4, (i / 2) % 33);
	} else {
		for (int k = 0; k < 16; k++)
			e->pfx.a[k] = (uint8_t)rng();
		e->pfx.len = (uint8_t)((i / 2) % 129);
		addr_mask(e->pfx.a, e->pfx.len);
	}
	if (e->kind == STORE_LISTING) {
		e->code[0] = 127;
		e->code[1] = (uint8_t)rng();
		e->code[2] = (uint8_t)rng();
		e->code[3] = (uint8_t)rng();
	}
	e->reason = reason;
	e->reason_len = rnd_reason(reason);
}

START_TEST(round_trip)
{
	static char reason[STORE_REASON_MAX];
	static char line[LF_LINE_MAX], again[LF_LINE_MAX];
	static lf_entry back;
	const uint8_t other_default[4] = { 127, 9, 9, 9 };
	char err[256];
	unsigned quoted = 0, v4 = 0;

	rng_state = 0x76367265702d6c66ULL;
	for (unsigned i = 0; i < 30000; i++) {
		store_entry e;
		int n, rc;

		rnd_entry(i, &e, reason);
		n = lf_format_line(&e, line, sizeof line);
		ck_assert_msg(n > 0 && n < LF_LINE_MAX, "entry %u: format gave %d", i, n);
		ck_assert_int_eq(line[n - 1], '\n');
		rc = lf_parse_line(line, (size_t)n - 1, other_default, &back, err, sizeof err);
		ck_assert_msg(rc == 1, "entry %u: '%.*s' gave %d: %s", i, n - 1, line, rc, err);
		ck_assert_msg(back.e.kind == e.kind && addr_pfx_cmp(&back.e.pfx, &e.pfx) == 0 &&
		              memcmp(back.e.code, e.code, 4) == 0 &&
		              back.e.reason_len == e.reason_len &&
		              memcmp(back.e.reason, e.reason, e.reason_len) == 0,
		              "entry %u: '%.*s' reads back differently", i, n - 1, line);
		/* Writing what was read gives the same line. */
		ck_assert_int_eq(lf_format_line(&back.e, again, sizeof again), n);
		ck_assert_mem_eq(again, line, (size_t)n);
		quoted += e.reason_len > 0 && strchr("#\" \t", e.reason[0]) != NULL;
		v4 += addr_is_v4(&e.pfx);
	}
	/* The generator did reach the interesting cases. */
	ck_assert_uint_gt(quoted, 1000);
	ck_assert_uint_gt(v4, 10000);
}
END_TEST

Suite *listfile_suite(void)
{
	Suite *s = suite_create("listfile");
	TCase *tc = tcase_create("listfile");

	tcase_add_loop_test(tc, parse_ok, 0, sizeof ok_cases / sizeof ok_cases[0]);
	tcase_add_loop_test(tc, parse_empty, 0, sizeof empty_lines / sizeof empty_lines[0]);
	tcase_add_loop_test(tc, parse_errors, 0, sizeof err_cases / sizeof err_cases[0]);
	tcase_add_test(tc, parse_lengths);
	tcase_add_test(tc, parse_default_code);
	tcase_add_loop_test(tc, format_lines, 0, sizeof fmt_cases / sizeof fmt_cases[0]);
	tcase_add_test(tc, format_errors);
	tcase_add_test(tc, format_worst_case);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	tcase_set_timeout(tc, 60);
	return s;
}
