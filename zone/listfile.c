/* listfile.c: reads and writes the one-entry-per-line listings format described in listfile.h. */
#include "listfile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"

/* Offending text quoted in messages is cut at this many bytes (with "..." appended). */
#define LF_QUOTE_MAX 64

static const uint8_t lf_builtin_code[4] = { 127, 0, 0, 2 };

/* The state of parsing one line: the text, the position and where messages go. */
typedef struct lf_cur {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
} lf_cur;

static void lf_err(lf_cur *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void lf_err(lf_cur *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err == NULL || c->errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* How many of the n bytes at s a message quotes, and the suffix that says it was cut. */
static int quote_len(size_t n)
{
	return n > LF_QUOTE_MAX ? LF_QUOTE_MAX : (int)n;
}

static const char *quote_more(size_t n)
{
	return n > LF_QUOTE_MAX ? "..." : "";
}

static void skip_blanks(lf_cur *c)
{
	while (c->pos < c->len && is_blank(c->s[c->pos]))
		c->pos++;
}

/* True at the end of the line or at a comment (the caller has just skipped blanks). */
static bool at_end(const lf_cur *c)
{
	return c->pos == c->len || c->s[c->pos] == '#';
}

/* Length of the token at pos: everything up to the next blank or the end of the line. */
static size_t token_len(const lf_cur *c)
{
	size_t n = 0;

	while (c->pos + n < c->len && !is_blank(c->s[c->pos + n]))
		n++;
	return n;
}

/* Bytes that cannot be part of one line (NUL, CR, LF) are rejected, with their column. */
static int check_bytes(lf_cur *c)
{
	for (size_t i = 0; i < c->len; i++) {
		const char *what = NULL;

		if (c->s[i] == '\0')
			what = "NUL byte";
		else if (c->s[i] == '\r')
			what = "carriage return";
		else if (c->s[i] == '\n')
			what = "newline";
		if (what != NULL) {
			lf_err(c, "column %zu: %s inside the line", i + 1, what);
			return V6R_ESYNTAX;
		}
	}
	return 0;
}

/* Reports an addr_parse failure on the token t[0..n) at column col. */
static int prefix_error(lf_cur *c, int rc, const char *t, size_t n, size_t col)
{
	char fixed[ADDR_PFX_STRLEN];
	addr_pfx p;

	switch (rc) {
	case V6R_ESYNTAX:
		lf_err(c, "column %zu: '%.*s%s' is not an IPv6 or IPv4 prefix", col, quote_len(n), t,
		       quote_more(n));
		break;
	case V6R_ERANGE:
		lf_err(c, "column %zu: prefix length out of range in '%.*s%s' (IPv6 /0-128, IPv4 "
		       "/0-32)", col, quote_len(n), t, quote_more(n));
		break;
	case V6R_EHOSTBITS:
		if (addr_parse(t, n, ADDR_MASK_HOST, &p) == 0 && addr_format(&p, fixed, sizeof fixed) > 0)
			lf_err(c, "column %zu: host bits set in '%.*s%s' (did you mean %s?)", col,
			       quote_len(n), t, quote_more(n), fixed);
		else
			lf_err(c, "column %zu: host bits set in '%.*s%s'", col, quote_len(n), t,
			       quote_more(n));
		break;
	default:
		lf_err(c, "column %zu: failed to parse prefix '%.*s%s' (%s)", col, quote_len(n), t,
		       quote_more(n), v6r_strerror(rc));
		break;
	}
	return rc;
}

static int parse_prefix(lf_cur *c, addr_pfx *p)
{
	const char *t = c->s + c->pos;
	size_t n = token_len(c);
	size_t col = c->pos + 1;
	int rc = addr_parse(t, n, 0, p);

	if (rc != 0)
		return prefix_error(c, rc, t, n, col);
	c->pos += n;
	return 0;
}

/* A token "reads as a code" when it is digits and dots with exactly three dots. */
static bool code_shaped(const char *t, size_t n)
{
	unsigned dots = 0;

	for (size_t i = 0; i < n; i++) {
		if (t[i] == '.')
			dots++;
		else if (!is_digit(t[i]))
			return false;
	}
	return n > 0 && dots == 3;
}

/* Strict dotted quad: four parts of 1-3 digits, each 0..255, no leading zeros. */
static bool parse_quad(const char *t, size_t n, uint8_t q[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		size_t start = i;
		unsigned v = 0;

		while (i < n && is_digit(t[i]) && i - start < 3)
			v = v * 10 + (unsigned)(t[i++] - '0');
		if (i == start || v > 255 || (t[start] == '0' && i - start > 1))
			return false;
		q[part] = (uint8_t)v;
		if (part < 3 && (i >= n || t[i++] != '.'))
			return false;
	}
	return i == n;
}

static int parse_code(lf_cur *c, store_kind kind, uint8_t code[4])
{
	const char *t = c->s + c->pos;
	size_t n = token_len(c);
	size_t col = c->pos + 1;

	if (kind == STORE_EXCLUSION) {
		lf_err(c, "column %zu: an exclusion takes no code ('%.*s%s'); quote the text if it "
		       "is a reason", col, quote_len(n), t, quote_more(n));
		return V6R_ESYNTAX;
	}
	if (!parse_quad(t, n, code)) {
		lf_err(c, "column %zu: bad code '%.*s%s' (a dotted quad in 127.0.0.0/8); quote the "
		       "text if it is a reason", col, quote_len(n), t, quote_more(n));
		return V6R_ESYNTAX;
	}
	if (code[0] != 127) {
		lf_err(c, "column %zu: code %.*s is not in 127.0.0.0/8", col, (int)n, t);
		return V6R_ECODE;
	}
	c->pos += n;
	return 0;
}

/* Reads the quoted text at pos (on the '"') into r; *rlen gets its decoded length. */
static int parse_quoted(lf_cur *c, char *r, size_t *rlen)
{
	size_t col = c->pos + 1;
	size_t i = c->pos + 1, n = 0;

	while (i < c->len && c->s[i] != '"') {
		char ch = c->s[i];

		if (ch == '\\') {
			if (i + 1 == c->len || (c->s[i + 1] != '"' && c->s[i + 1] != '\\')) {
				lf_err(c, "column %zu: unknown escape '\\%.*s' in quoted text (only \\\" and "
				       "\\\\)", i + 1, i + 1 < c->len ? 1 : 0, c->s + i + 1);
				return V6R_ESYNTAX;
			}
			ch = c->s[++i];
		}
		if (n < STORE_REASON_MAX)
			r[n] = ch;
		n++;
		i++;
	}
	if (i == c->len) {
		size_t shown = c->len - c->pos;
		lf_err(c, "column %zu: unterminated quoted text '%.*s%s'", col, quote_len(shown),
		       c->s + c->pos, quote_more(shown));
		return V6R_ESYNTAX;
	}
	if (n > STORE_REASON_MAX) {
		lf_err(c, "column %zu: reason is %zu bytes long, more than %u", col, n,
		       STORE_REASON_MAX);
		return V6R_ERANGE;
	}
	c->pos = i + 1;
	skip_blanks(c);
	if (!at_end(c)) {
		size_t rest = c->len - c->pos;
		lf_err(c, "column %zu: unexpected text after the quoted reason: '%.*s%s'", c->pos + 1,
		       quote_len(rest), c->s + c->pos, quote_more(rest));
		return V6R_ESYNTAX;
	}
	*rlen = n;
	return 0;
}

/* Reads unquoted text: up to a '#' that follows a blank, or the end, without trailing blanks. */
static int parse_plain(lf_cur *c, char *r, size_t *rlen)
{
	size_t end = c->pos;

	while (end < c->len && !(c->s[end] == '#' && end > c->pos && is_blank(c->s[end - 1])))
		end++;
	while (end > c->pos && is_blank(c->s[end - 1]))
		end--;
	if (end - c->pos > STORE_REASON_MAX) {
		lf_err(c, "column %zu: reason is %zu bytes long, more than %u", c->pos + 1,
		       end - c->pos, STORE_REASON_MAX);
		return V6R_ERANGE;
	}
	memcpy(r, c->s + c->pos, end - c->pos);
	*rlen = end - c->pos;
	c->pos = c->len;
	return 0;
}

/* Reads everything after the prefix: [CODE] [TXT] [#comment]. */
static int parse_rest(lf_cur *c, lf_entry *out, bool *have_code)
{
	int rc;

	skip_blanks(c);
	if (at_end(c))
		return 0;
	if (c->s[c->pos] != '"' && code_shaped(c->s + c->pos, token_len(c))) {
		rc = parse_code(c, out->e.kind, out->e.code);
		if (rc != 0)
			return rc;
		*have_code = true;
		skip_blanks(c);
		if (at_end(c))
			return 0;
	}
	if (c->s[c->pos] == '"')
		return parse_quoted(c, out->reason_buf, &out->e.reason_len);
	return parse_plain(c, out->reason_buf, &out->e.reason_len);
}

static int set_default_code(lf_cur *c, const uint8_t *code, lf_entry *out)
{
	if (code == NULL)
		code = lf_builtin_code;
	if (code[0] != 127) {
		lf_err(c, "column 1: no code given and the default code %u.%u.%u.%u is not in "
		       "127.0.0.0/8", code[0], code[1], code[2], code[3]);
		return V6R_ECODE;
	}
	memcpy(out->e.code, code, 4);
	return 0;
}

int lf_parse_line(const char *line, size_t len, const uint8_t default_code[4], lf_entry *out,
                  char *err, size_t errlen)
{
	lf_cur c = { line, len, 0, err, errlen };
	bool have_code = false;
	int rc;

	if ((line == NULL && len > 0) || out == NULL)
		return V6R_EINVAL;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	out->e.reason = out->reason_buf;
	out->e.kind = STORE_LISTING;
	out->e.origin = STORE_ORIGIN_OPERATOR;
	if (len > LF_LINE_MAX) {
		lf_err(&c, "column %u: line is %zu bytes long, more than %u", (unsigned)LF_LINE_MAX + 1,
		       len, (unsigned)LF_LINE_MAX);
		return V6R_ERANGE;
	}
	if (c.len > 0 && c.s[c.len - 1] == '\r')
		c.len--;
	rc = check_bytes(&c);
	if (rc != 0)
		return rc;
	skip_blanks(&c);
	if (at_end(&c))
		return 0;
	if (c.s[c.pos] == '!') {
		out->e.kind = STORE_EXCLUSION;
		c.pos++;
		if (c.pos == c.len || is_blank(c.s[c.pos]) || c.s[c.pos] == '#') {
			lf_err(&c, "column %zu: '!' must be followed by a prefix, without blanks", c.pos);
			return V6R_ESYNTAX;
		}
	}
	rc = parse_prefix(&c, &out->e.pfx);
	if (rc == 0)
		rc = parse_rest(&c, out, &have_code);
	if (rc == 0 && out->e.kind == STORE_LISTING && !have_code)
		rc = set_default_code(&c, default_code, out);
	return rc == 0 ? 1 : rc;
}

/* ---- Writing ---- */

/* A bounded output cursor; overflow is remembered and reported once at the end. */
typedef struct lf_out {
	char *p;
	size_t cap, len;
	bool full;
} lf_out;

static void out_put(lf_out *o, const char *s, size_t n)
{
	if (o->full || n > o->cap - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_ch(lf_out *o, char ch)
{
	out_put(o, &ch, 1);
}

/* True when r must be quoted to read back as itself (see the rules in listfile.h). */
static bool needs_quote(const char *r, size_t n)
{
	size_t first = 0;
	bool digits_dots = true, dot = false;

	if (n == 0)
		return false;
	if (r[0] == '#' || r[0] == '"' || is_blank(r[0]) || is_blank(r[n - 1]))
		return true;
	for (size_t i = 1; i < n; i++) {
		if (r[i] == '#' && is_blank(r[i - 1]))
			return true;
	}
	while (first < n && !is_blank(r[first])) {
		dot |= r[first] == '.';
		digits_dots &= r[first] == '.' || is_digit(r[first]);
		first++;
	}
	return digits_dots && dot;
}

static void out_reason(lf_out *o, const char *r, size_t n)
{
	if (!needs_quote(r, n)) {
		out_put(o, r, n);
		return;
	}
	out_ch(o, '"');
	for (size_t i = 0; i < n; i++) {
		if (r[i] == '"' || r[i] == '\\')
			out_ch(o, '\\');
		out_ch(o, r[i]);
	}
	out_ch(o, '"');
}

/* Checks that e can be written so that it reads back as itself. */
static int check_entry(const store_entry *e)
{
	addr_pfx masked;

	if (e->kind != STORE_LISTING && e->kind != STORE_EXCLUSION)
		return V6R_EINVAL;
	if (e->pfx.len > 128)
		return V6R_EINVAL;
	masked = e->pfx;
	addr_mask(masked.a, masked.len);
	if (memcmp(masked.a, e->pfx.a, sizeof masked.a) != 0)
		return V6R_EHOSTBITS;
	if (e->kind == STORE_LISTING && e->code[0] != 127)
		return V6R_ECODE;
	if (e->reason_len > STORE_REASON_MAX)
		return V6R_ERANGE;
	if (e->reason_len > 0 && e->reason == NULL)
		return V6R_EINVAL;
	for (size_t i = 0; i < e->reason_len; i++) {
		if (e->reason[i] == '\0' || e->reason[i] == '\r' || e->reason[i] == '\n')
			return V6R_EINVAL;
	}
	return 0;
}

int lf_format_line(const store_entry *e, char *buf, size_t cap)
{
	lf_out o = { buf, cap, 0, false };
	char pfx[ADDR_PFX_STRLEN];
	char code[20];
	int rc, n;

	if (e == NULL || buf == NULL)
		return V6R_EINVAL;
	rc = check_entry(e);
	if (rc != 0)
		return rc;
	n = addr_format(&e->pfx, pfx, sizeof pfx);
	if (n < 0)
		return n;
	if (e->kind == STORE_EXCLUSION)
		out_ch(&o, '!');
	out_put(&o, pfx, (size_t)n);
	if (e->kind == STORE_LISTING) {
		n = snprintf(code, sizeof code, " %u.%u.%u.%u", e->code[0], e->code[1], e->code[2],
		             e->code[3]);
		out_put(&o, code, (size_t)n);
	}
	if (e->reason_len > 0) {
		out_ch(&o, ' ');
		out_reason(&o, e->reason, e->reason_len);
	}
	out_ch(&o, '\n');
	out_ch(&o, '\0');
	if (o.full)
		return V6R_ESPACE;
	return (int)(o.len - 1);
}
