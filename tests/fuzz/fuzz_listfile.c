/* fuzz_listfile.c: fuzz target for the listings line parser, checking that every entry round-trips. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../zone/addr.h"
#include "../../zone/err.h"
#include "../../zone/listfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fz_code[4] = { 127, 0, 0, 2 };

static bool fz_same(const store_entry *a, const store_entry *b)
{
	return a->kind == b->kind && addr_pfx_cmp(&a->pfx, &b->pfx) == 0 &&
	       memcmp(a->pfx.a, b->pfx.a, 16) == 0 && a->origin == b->origin &&
	       memcmp(a->code, b->code, 4) == 0 && a->created == b->created &&
	       a->updated == b->updated && a->expires == b->expires &&
	       a->reason_len == b->reason_len && memcmp(a->reason, b->reason, a->reason_len) == 0;
}

/* What any accepted entry must look like. */
static void fz_check_entry(const lf_entry *le)
{
	addr_pfx m = le->e.pfx;
	static const uint8_t zero[4];

	addr_mask(m.a, m.len);
	if (le->e.pfx.len > 128 || memcmp(m.a, le->e.pfx.a, 16) != 0)
		abort();
	if (le->e.reason != le->reason_buf || le->e.reason_len > STORE_REASON_MAX)
		abort();
	if (le->e.kind == STORE_LISTING ? le->e.code[0] != 127
	                                : le->e.kind != STORE_EXCLUSION || memcmp(le->e.code, zero, 4))
		abort();
}

/* Parses one line; an accepted entry must be written and read back as itself. */
static void fz_line(const char *line, size_t len)
{
	static lf_entry le, back;
	static char buf[LF_LINE_MAX], again[LF_LINE_MAX];
	char err[256];
	int rc, n;

	err[0] = '\0';
	rc = lf_parse_line(line, len, fz_code, &le, err, sizeof err);
	if (rc < 0) {
		/* Every error says where. */
		if (strncmp(err, "column ", 7) != 0)
			abort();
		return;
	}
	if (rc == 0)
		return;
	if (rc != 1)
		abort();
	fz_check_entry(&le);
	n = lf_format_line(&le.e, buf, sizeof buf);
	if (n <= 0 || n >= LF_LINE_MAX || buf[n - 1] != '\n' || buf[n] != '\0')
		abort();
	if (lf_parse_line(buf, (size_t)n - 1, fz_code, &back, err, sizeof err) != 1)
		abort();
	if (!fz_same(&le.e, &back.e))
		abort();
	if (lf_format_line(&back.e, again, sizeof again) != n || memcmp(buf, again, (size_t)n) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t start = 0;

	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		/* Each line in its own exact allocation, so ASan catches a read past its end. */
		char *line = malloc(len ? len : 1);

		if (line == NULL)
			abort();
		memcpy(line, data + start, len);
		fz_line(line, len);
		free(line);
		start += len + 1;
	}
	return 0;
}
