/* tmpl.h: the TXT template, compiled once and rendered per answer without allocation. */
#ifndef V6R_TMPL_H
#define V6R_TMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * Variables: {addr} the queried address (the deciding prefix when there is no address, as for
 * a secondary's rendering), {prefix} the deciding prefix in CIDR form, {reason} the entry's
 * reason or the default reason when it has none, {code} the return code, {zone} the apex
 * without the trailing dot. "{{" is a literal "{". Anything else in braces is an error.
 */
#define TMPL_MAX_SEGS 32
#define TMPL_OUT_MAX 1024    /* rendered text is cut at this many bytes */

enum tmpl_var { TMPL_LIT = 0, TMPL_ADDR, TMPL_PREFIX, TMPL_REASON, TMPL_CODE, TMPL_ZONE };

typedef struct tmpl {
	char text[512];                 /* literal bytes, segments point into it */
	struct { uint8_t var; uint16_t off, len; } seg[TMPL_MAX_SEGS];
	unsigned n_seg;
} tmpl;

/* Compiles src. Returns 0, or V6R_ESYNTAX / V6R_ERANGE with a message naming the column. */
int tmpl_compile(tmpl *t, const char *src, char *err, size_t errlen);

typedef struct tmpl_vars {
	const store_entry *e;           /* deciding entry (prefix, code, reason) */
	const uint8_t *addr;            /* queried address (16 bytes) or NULL */
	bool addr_v4;                   /* print addr as IPv4 */
	const char *zone;               /* apex without trailing dot */
	const char *default_reason;
} tmpl_vars;

/*
 * Renders into out (cap bytes, no NUL written); returns the length, cut at cap. Allocates nothing.
 * Missing inputs render as nothing: with e NULL, {prefix} and {code} are empty, {reason} is the
 * default reason and {addr} the address alone; a NULL zone or default reason is empty.
 */
size_t tmpl_render(const tmpl *t, const tmpl_vars *v, char *out, size_t cap);

#endif
