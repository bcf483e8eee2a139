/* tmpl.c: the TXT template: compiled once into literal and variable segments, rendered per answer. */
#include "tmpl.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "err.h"

/* The longest variable name quoted back in an error message. */
#define TMPL_ERR_NAME_MAX 40

static const struct {
	const char *name;
	enum tmpl_var var;
} tmpl_names[] = {
	{ "addr", TMPL_ADDR },
	{ "prefix", TMPL_PREFIX },
	{ "reason", TMPL_REASON },
	{ "code", TMPL_CODE },
	{ "zone", TMPL_ZONE },
};

static void tmpl_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tmpl_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Returns the variable named name[0..n), or TMPL_LIT when there is none of that name. */
static enum tmpl_var tmpl_lookup(const char *name, size_t n)
{
	for (size_t i = 0; i < sizeof tmpl_names / sizeof tmpl_names[0]; i++) {
		if (strlen(tmpl_names[i].name) == n && memcmp(tmpl_names[i].name, name, n) == 0)
			return tmpl_names[i].var;
	}
	return TMPL_LIT;
}

/*
 * Appends one literal byte, extending the last segment when it is a literal that ends where the
 * text ends (so "a{{b" is one segment). col is the 1-based column for messages.
 */
static int tmpl_add_byte(tmpl *t, char c, size_t col, char *err, size_t errlen)
{
	size_t used = 0;

	if (t->n_seg > 0)
		used = (size_t)t->seg[t->n_seg - 1].off + t->seg[t->n_seg - 1].len;
	if (used >= sizeof t->text) {
		tmpl_err(err, errlen, "column %zu: template text is longer than %zu bytes", col,
		         sizeof t->text);
		return V6R_ERANGE;
	}
	if (t->n_seg == 0 || t->seg[t->n_seg - 1].var != TMPL_LIT) {
		if (t->n_seg >= TMPL_MAX_SEGS) {
			tmpl_err(err, errlen, "column %zu: template has more than %u parts", col,
			         TMPL_MAX_SEGS);
			return V6R_ERANGE;
		}
		t->seg[t->n_seg].var = TMPL_LIT;
		t->seg[t->n_seg].off = (uint16_t)used;
		t->seg[t->n_seg].len = 0;
		t->n_seg++;
	}
	t->text[used] = c;
	t->seg[t->n_seg - 1].len++;
	return 0;
}

/* Appends a variable segment. Its offset marks where the literal text stands (length 0). */
static int tmpl_add_var(tmpl *t, enum tmpl_var var, size_t col, char *err, size_t errlen)
{
	size_t used = 0;

	if (t->n_seg >= TMPL_MAX_SEGS) {
		tmpl_err(err, errlen, "column %zu: template has more than %u parts", col,
		         TMPL_MAX_SEGS);
		return V6R_ERANGE;
	}
	if (t->n_seg > 0)
		used = (size_t)t->seg[t->n_seg - 1].off + t->seg[t->n_seg - 1].len;
	t->seg[t->n_seg].var = (uint8_t)var;
	t->seg[t->n_seg].off = (uint16_t)used;
	t->seg[t->n_seg].len = 0;
	t->n_seg++;
	return 0;
}

/*
 * Compiles the brace at src[i] ('{' not followed by '{'): sets *next past the closing brace.
 */
static int tmpl_brace(tmpl *t, const char *src, size_t i, size_t *next, char *err, size_t errlen)
{
	const char *name = src + i + 1;
	const char *close = strchr(name, '}');
	size_t n = close ? (size_t)(close - name) : strlen(name);
	int shown = n > TMPL_ERR_NAME_MAX ? TMPL_ERR_NAME_MAX : (int)n;
	const char *more = n > TMPL_ERR_NAME_MAX ? "..." : "";
	enum tmpl_var var;

	if (close == NULL) {
		tmpl_err(err, errlen, "column %zu: unclosed brace in '{%.*s%s'", i + 1, shown, name,
		         more);
		return V6R_ESYNTAX;
	}
	var = tmpl_lookup(name, n);
	if (var == TMPL_LIT) {
		tmpl_err(err, errlen, "column %zu: unknown variable '{%.*s%s}' (known: {addr} {prefix} "
		         "{reason} {code} {zone}; write {{ for a literal brace)", i + 1, shown, name,
		         more);
		return V6R_ESYNTAX;
	}
	*next = i + 1 + n + 1;
	return tmpl_add_var(t, var, i + 1, err, errlen);
}

int tmpl_compile(tmpl *t, const char *src, char *err, size_t errlen)
{
	size_t i = 0;
	int rc = 0;

	if (t == NULL || src == NULL)
		return V6R_EINVAL;
	memset(t, 0, sizeof *t);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	while (src[i] != '\0') {
		if (src[i] == '{' && src[i + 1] == '{') {
			rc = tmpl_add_byte(t, '{', i + 1, err, errlen);
			i += 2;
		} else if (src[i] == '{') {
			rc = tmpl_brace(t, src, i, &i, err, errlen);
		} else {
			rc = tmpl_add_byte(t, src[i], i + 1, err, errlen);
			i++;
		}
		if (rc != 0)
			goto fail;
	}
	return 0;
fail:
	memset(t, 0, sizeof *t);
	return rc;
}

/* A bounded output cursor: bytes past cap are dropped, len never exceeds cap. */
typedef struct tmpl_out {
	char *p;
	size_t cap, len;
} tmpl_out;

static void out_put(tmpl_out *o, const char *s, size_t n)
{
	size_t room = o->cap - o->len;

	if (n > room)
		n = room;
	if (n > 0)
		memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void out_str(tmpl_out *o, const char *s)
{
	if (s != NULL)
		out_put(o, s, strlen(s));
}

/* Writes the decimal value of one octet; no snprintf on the answer path. */
static size_t fmt_octet(uint8_t v, char *buf)
{
	size_t n = 0;

	if (v >= 100)
		buf[n++] = (char)('0' + v / 100);
	if (v >= 10)
		buf[n++] = (char)('0' + v / 10 % 10);
	buf[n++] = (char)('0' + v % 10);
	return n;
}

static void out_code(tmpl_out *o, const uint8_t code[4])
{
	char buf[16];
	size_t n = 0;

	for (int i = 0; i < 4; i++) {
		if (i > 0)
			buf[n++] = '.';
		n += fmt_octet(code[i], buf + n);
	}
	out_put(o, buf, n);
}

static void out_prefix(tmpl_out *o, const addr_pfx *p)
{
	char buf[ADDR_PFX_STRLEN];
	int n = addr_format(p, buf, sizeof buf);

	if (n > 0)
		out_put(o, buf, (size_t)n);
}

static void out_addr(tmpl_out *o, const tmpl_vars *v)
{
	char buf[ADDR_PFX_STRLEN];
	int n;

	if (v->addr == NULL) {
		if (v->e != NULL)
			out_prefix(o, &v->e->pfx);
		return;
	}
	n = addr_format_addr(v->addr, v->addr_v4, buf, sizeof buf);
	if (n > 0)
		out_put(o, buf, (size_t)n);
}

static void out_reason(tmpl_out *o, const tmpl_vars *v)
{
	if (v->e != NULL && v->e->reason != NULL && v->e->reason_len > 0)
		out_put(o, v->e->reason, v->e->reason_len);
	else
		out_str(o, v->default_reason);
}

/* The output is cut at cap, and never longer than TMPL_OUT_MAX whatever cap is. */
size_t tmpl_render(const tmpl *t, const tmpl_vars *v, char *out, size_t cap)
{
	tmpl_out o = { out, cap < TMPL_OUT_MAX ? cap : TMPL_OUT_MAX, 0 };

	if (t == NULL || v == NULL || out == NULL)
		return 0;
	for (unsigned i = 0; i < t->n_seg && o.len < o.cap; i++) {
		switch (t->seg[i].var) {
		case TMPL_LIT:
			out_put(&o, t->text + t->seg[i].off, t->seg[i].len);
			break;
		case TMPL_ADDR:
			out_addr(&o, v);
			break;
		case TMPL_PREFIX:
			if (v->e != NULL)
				out_prefix(&o, &v->e->pfx);
			break;
		case TMPL_REASON:
			out_reason(&o, v);
			break;
		case TMPL_CODE:
			if (v->e != NULL)
				out_code(&o, v->e->code);
			break;
		case TMPL_ZONE:
			out_str(&o, v->zone);
			break;
		default:
			break;
		}
	}
	return o.len;
}
