/* fuzz_enrich.c: fuzz target for enrichment: ASN and PTR text parsers, and the ASN table against a brute-force longest match. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/enrich.h"
#include "../../zone/addr.h"
#include "../../zone/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NAME "fz"
#define FZ_MAX_PFX 128

/* What any load must report: counts that add up, messages with file:line. */
static void fz_check_info(const en_load_info *in)
{
	if (in->lines != in->entries + in->skipped + in->bad)
		abort();
	if (in->n_msgs != (in->bad < EN_MSGS_KEPT ? in->bad : EN_MSGS_KEPT))
		abort();
	if ((in->bad == 0) != (in->first_bad == 0))
		abort();
	for (unsigned i = 0; i < in->n_msgs; i++)
		if (strncmp(in->msgs[i], FZ_NAME ":", 3) != 0 || !strstr(in->msgs[i], "('"))
			abort();
}

/* A stored name: 1..253 characters of lower-case letters, digits, '-', '_' and inner dots. */
static void fz_check_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > EN_NAME_MAX || s[0] == '.' || s[n - 1] == '.' || strstr(s, ".."))
		abort();
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		      s[i] == '_' || s[i] == '.'))
			abort();
}

/* The data as ASN text and as PTR text; every line's first token that is an address is probed. */
static void fz_text(const uint8_t *data, size_t size)
{
	en_ctx *e;
	char err[256];
	if (en_new(&e) != 0)
		abort();
	if (en_asn_load_mem(e, (const char *)data, size, FZ_NAME, err, sizeof(err)) != 0)
		abort();
	fz_check_info(en_last_load(e));
	en_stats_t st;
	en_stats(e, &st);
	if (st.asn_v4 + st.asn_v6 != en_last_load(e)->entries)
		abort();
	if (en_ptr_load_mem(e, (const char *)data, size, FZ_NAME, err, sizeof(err)) != 0)
		abort();
	fz_check_info(en_last_load(e));
	for (size_t at = 0, k = 0; at < size && k < 64; k++) {
		size_t n = 0;
		while (at + n < size && data[at + n] != ' ' && data[at + n] != '\t' && data[at + n] != '\n')
			n++;
		addr_pfx p;
		if (n < 64 && addr_parse((const char *)data + at, n, ADDR_NO_LEN, &p) == 0) {
			const char *name = en_ptr(e, p.a);
			if (name)
				fz_check_name(name);
			uint8_t v4[16] = { [10] = 0xff, [11] = 0xff, [12] = 192, [15] = 1 };
			int agree = en_ptr_agree(e, p.a, v4);
			if (agree < 0 || agree > 2)
				abort();
			(void)en_asn(e, p.a);
		}
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		at = nl ? (size_t)(nl - data) + 1 : size;
	}
	en_free(e);
}

/* ---- the table against brute force, on prefixes made from the bytes ---- */

typedef struct fz_pfx {
	addr_pfx p;
	uint32_t asn;
} fz_pfx;

static void fz_step(uint8_t a[16], int dir)
{
	for (int i = 15; i >= 0; i--) {
		a[i] = (uint8_t)(a[i] + dir);
		if (a[i] != (dir > 0 ? 0 : 0xff))
			break;
	}
}

static uint32_t fz_brute(const fz_pfx *ps, size_t n, const uint8_t a[16])
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

/* Record of 6 bytes: base and where the 3 varying bytes go, the 3 bytes, the length, the AS. */
static void fz_make(const uint8_t *r, fz_pfx *out)
{
	static const uint8_t bases[4][16] = {
		{ [10] = 0xff, [11] = 0xff, [12] = 10 },
		{ [10] = 0xff, [11] = 0xff },
		{ 0x20, 0x01, 0x0d, 0xb8 },
		{ 0 },
	};
	addr_pfx *p = &out->p;
	unsigned base = r[0] & 3, at = (r[0] >> 2) % 14;
	bool v4 = base < 2;
	memcpy(p->a, bases[base], 16);
	for (int i = 0; i < 3; i++) {
		unsigned pos = v4 ? 12 + (at + (unsigned)i) % 4 : (at + (unsigned)i) % 16;
		if (base == 3 && (r[0] & 0x80))
			pos = 15 - (unsigned)i;                    /* the top of the space too */
		p->a[pos] = r[1 + i];
	}
	if (base == 3 && (r[0] & 0x80))
		memset(p->a, 0xff, 13);
	p->len = v4 ? (uint8_t)(96 + r[4] % 33) : (uint8_t)(r[4] % 129);
	addr_mask(p->a, p->len);
	out->asn = 1 + r[5] % 250u;
}

static size_t fz_line(const fz_pfx *f, char *buf, size_t cap)
{
	char t[ADDR_PFX_STRLEN];
	bool v4 = addr_is_v4(&f->p);
	if (addr_format_addr(f->p.a, v4, t, sizeof(t)) <= 0)
		abort();
	return (size_t)snprintf(buf, cap, "%s\t%u\t%u\n", t, v4 ? f->p.len - 96u : f->p.len, f->asn);
}

static void fz_probe(const en_ctx *e, const fz_pfx *ps, size_t n, const uint8_t a[16])
{
	if (en_asn(e, a) != fz_brute(ps, n, a))
		abort();
}

static void fz_lpm(const uint8_t *data, size_t size)
{
	static fz_pfx ps[FZ_MAX_PFX];
	static char text[FZ_MAX_PFX * 80];
	size_t n = 0, at = 0, split = 0;
	for (size_t off = 0; off + 6 <= size && n < FZ_MAX_PFX; off += 6, n++) {
		fz_make(data + off, &ps[n]);
		at += fz_line(&ps[n], text + at, sizeof(text) - at);
		if (n == FZ_MAX_PFX / 2 || (data[off] == 0x5a && !split))
			split = at;                                /* loaded in two parts from here */
	}
	if (n == 0)
		return;
	en_ctx *e;
	char err[128];
	if (en_new(&e) != 0 || en_asn_load_mem(e, text, split ? split : at, FZ_NAME, err, sizeof(err)) ||
	    (split && en_asn_load_mem(e, text + split, at - split, FZ_NAME, err, sizeof(err))))
		abort();
	for (size_t i = 0; i < n; i++) {
		uint8_t a[16];
		memcpy(a, ps[i].p.a, 16);
		fz_probe(e, ps, n, a);
		fz_step(a, -1);
		fz_probe(e, ps, n, a);
		addr_pfx end = ps[i].p;
		for (unsigned b = end.len; b < 128; b++)
			end.a[b / 8] |= (uint8_t)(0x80u >> (b % 8));
		fz_probe(e, ps, n, end.a);
		fz_step(end.a, 1);
		fz_probe(e, ps, n, end.a);
	}
	en_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_text(data, size);
	fz_lpm(data, size);
	return 0;
}
