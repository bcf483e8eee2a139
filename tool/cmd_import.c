/* cmd_import.c: `v6rep import`: a listings file checked whole, then written in one transaction. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"
#include "../zone/listfile.h"

/*
 * A parsed line kept compactly (a million of them must fit easily): the reason lives in one
 * shared text arena. lf_entry, with its 1 KiB reason buffer, is only the parse scratch. 32 bytes,
 * which glibc's qsort moves directly (larger elements are sorted indirectly, much slower).
 */
#define IMP_TEXT_MAX UINT32_MAX   /* reason bytes of one import */

typedef struct imp_ent {
	uint64_t hi, lo;       /* the address bytes as two big-endian numbers: cheap key compares */
	uint32_t reason_off;   /* into imp.text */
	uint32_t line;
	uint16_t reason_len;   /* <= STORE_REASON_MAX */
	uint8_t len;
	uint8_t kind;          /* store_kind */
	uint8_t code[4];
} imp_ent;

static uint64_t be64(const uint8_t *b)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

static void put_be64(uint8_t *b, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (uint8_t)v;
}

static void ent_pfx(const imp_ent *x, addr_pfx *p)
{
	put_be64(p->a, x->hi);
	put_be64(p->a + 8, x->lo);
	p->len = x->len;
}

_Static_assert(sizeof(imp_ent) == 32, "imp_ent should stay 32 bytes");

typedef struct imp {
	const char *name;      /* file name for messages ("<stdin>" for -) */
	imp_ent *ents;
	size_t n, cap;
	char *text;
	size_t text_len, text_cap;
	size_t errors;
	size_t n_listings, n_exclusions;
	/* the write transaction (reset on each run, since store_write may restart it) */
	bool replace;
	uint64_t now;
	addr_pfx *stale;       /* stored prefixes not in the file (--replace) */
	size_t n_stale, cap_stale;
	size_t added, updated, removed;
	size_t failed_at;      /* index of the entry store_put refused, or SIZE_MAX */
} imp;

/*
 * Makes room for `need` elements of `size` bytes in array p (capacity *cap, doubled as needed).
 * Returns the (possibly moved) array, or NULL with p untouched when memory runs out.
 */
static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 1024;
	while (n < need && n <= SIZE_MAX / 2 / size)
		n *= 2;
	if (n < need)
		return NULL;
	void *q = realloc(p, n * size);
	if (q)
		*cap = n;
	return q;
}

/* Keeps one parsed entry. */
static int imp_keep(imp *im, const lf_entry *le, unsigned long line)
{
	const store_entry *e = &le->e;
	if (im->text_len + e->reason_len > IMP_TEXT_MAX)
		return V6R_ERANGE;
	imp_ent *ents = grow(im->ents, &im->cap, im->n + 1, sizeof(imp_ent));
	if (!ents)
		return V6R_ENOMEM;
	im->ents = ents;
	char *text = grow(im->text, &im->text_cap, im->text_len + e->reason_len + 1, 1);
	if (!text)
		return V6R_ENOMEM;
	im->text = text;
	imp_ent *x = &im->ents[im->n++];
	x->hi = be64(e->pfx.a);
	x->lo = be64(e->pfx.a + 8);
	x->len = e->pfx.len;
	x->kind = (uint8_t)e->kind;
	memcpy(x->code, e->code, 4);
	x->reason_len = (uint16_t)e->reason_len;
	x->line = (uint32_t)line;
	x->reason_off = (uint32_t)im->text_len;
	memcpy(im->text + im->text_len, e->reason, e->reason_len);
	im->text_len += e->reason_len;
	if (e->kind == STORE_LISTING)
		im->n_listings++;
	else
		im->n_exclusions++;
	return 0;
}

/*
 * Reads one line into buf (cap bytes, newline dropped) and sets *len to its full length, which
 * may exceed cap: the rest is consumed, not stored, so no line can make memory grow. Returns
 * false at the end of the input.
 */
static bool read_line(FILE *f, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	int c;
	while ((c = getc_unlocked(f)) != EOF && c != '\n') {
		if (n < cap)
			buf[n] = (char)c;
		n++;
	}
	*len = n;
	return c != EOF || n > 0;
}

/*
 * Reads and parses every line of f; bad lines are reported and counted in im->errors. Returns
 * 0, V6R_EIO (read error, errno set), V6R_ENOMEM or V6R_ERANGE (more reason text than fits).
 */
static int imp_read(imp *im, FILE *f, const uint8_t default_code[4])
{
	lf_entry *le = malloc(sizeof(*le));
	char *line = malloc(LF_LINE_MAX);
	unsigned long lineno = 0;
	size_t len;
	int rc = V6R_ENOMEM;
	if (!le || !line)
		goto fail;
	while (read_line(f, line, LF_LINE_MAX, &len)) {
		char err[256];
		int r = 0;
		lineno++;
		if (len > LF_LINE_MAX) {
			snprintf(err, sizeof(err), "line is %zu bytes long, more than %u", len,
			         (unsigned)LF_LINE_MAX);
			r = V6R_ERANGE;
		} else if (lineno > UINT32_MAX) {
			snprintf(err, sizeof(err), "too many lines");
			r = V6R_ERANGE;
		} else {
			r = lf_parse_line(line, len, default_code, le, err, sizeof(err));
		}
		if (r < 0) {
			fprintf(stderr, "%s:%lu: %s\n", im->name, lineno, err);
			im->errors++;
		} else if (r > 0 && (rc = imp_keep(im, le, lineno)) < 0) {
			goto fail;
		}
	}
	rc = ferror(f) ? V6R_EIO : 0;
fail:
	free(line);
	free(le);
	return rc;
}

/* Store key order: address bytes, then length. */
static int key_cmp(uint64_t hi, uint64_t lo, unsigned len, const imp_ent *y)
{
	if (hi != y->hi)
		return hi < y->hi ? -1 : 1;
	if (lo != y->lo)
		return lo < y->lo ? -1 : 1;
	return (int)len - (int)y->len;
}

/* Key order, then line, so that duplicates come in file order. */
static int ent_cmp(const void *x, const void *y)
{
	const imp_ent *p = x, *q = y;
	int c = key_cmp(p->hi, p->lo, p->len, q);
	if (c)
		return c;
	return p->line < q->line ? -1 : p->line > q->line;
}

/* Whether the entries are in order already (an exported file is): then no sort is needed. */
static bool imp_sorted(const imp *im)
{
	for (size_t i = 1; i < im->n; i++)
		if (ent_cmp(&im->ents[i - 1], &im->ents[i]) > 0)
			return false;
	return true;
}

/* Sorts the entries and reports every prefix that appears more than once. */
static void imp_check_dups(imp *im)
{
	if (!imp_sorted(im))
		qsort(im->ents, im->n, sizeof(imp_ent), ent_cmp);
	size_t first = 0;    /* the first entry of the current run of equal keys */
	for (size_t i = 1; i < im->n; i++) {
		const imp_ent *cur = &im->ents[i];
		if (key_cmp(cur->hi, cur->lo, cur->len, &im->ents[first]) != 0) {
			first = i;
			continue;
		}
		addr_pfx p;
		char buf[ADDR_PFX_STRLEN];
		ent_pfx(cur, &p);
		addr_format(&p, buf, sizeof(buf));
		fprintf(stderr, "%s:%lu: duplicate prefix %s (first on line %lu)\n", im->name,
		        (unsigned long)cur->line, buf, (unsigned long)im->ents[first].line);
		im->errors++;
	}
}

/* Whether prefix p is in the (sorted) file. */
static bool imp_has(const imp *im, const addr_pfx *p)
{
	uint64_t khi = be64(p->a), klo = be64(p->a + 8);
	size_t lo = 0, hi = im->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(khi, klo, p->len, &im->ents[mid]);
		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

static int collect_stale(const store_entry *e, void *arg)
{
	imp *im = arg;
	if (imp_has(im, &e->pfx))
		return 0;
	addr_pfx *stale = grow(im->stale, &im->cap_stale, im->n_stale + 1, sizeof(addr_pfx));
	if (!stale)
		return V6R_ENOMEM;
	im->stale = stale;
	im->stale[im->n_stale++] = e->pfx;
	return 0;
}

/* --replace: removes every stored entry whose prefix is not in the file. */
static int imp_remove_stale(imp *im, store_txn *t)
{
	int rc = store_txn_foreach(t, 0, collect_stale, im);
	for (size_t i = 0; rc == 0 && i < im->n_stale; i++) {
		rc = store_del(t, &im->stale[i]);
		im->removed++;
	}
	return rc;
}

/* Writes one file entry, keeping the created time of an existing entry for its prefix. */
static int imp_put(imp *im, store_txn *t, const imp_ent *x)
{
	store_entry e = {
		.kind = (store_kind)x->kind,
		.origin = STORE_ORIGIN_OPERATOR,
		.created = im->now,
		.updated = im->now,
		.reason = im->text + x->reason_off,
		.reason_len = x->reason_len,
	};
	ent_pfx(x, &e.pfx);
	memcpy(e.code, x->code, 4);
	store_entry old;
	int rc = store_get(t, &e.pfx, &old);
	if (rc == 0) {
		if (old.created)
			e.created = old.created;
		im->updated++;
	} else if (rc == V6R_ENOTFOUND) {
		im->added++;
	} else {
		return rc;
	}
	return store_put(t, &e);
}

/* The whole import as one transaction; restartable (store_write reruns it after growing). */
static int imp_txn(store_txn *t, void *arg)
{
	imp *im = arg;
	im->added = im->updated = im->removed = im->n_stale = 0;
	im->failed_at = SIZE_MAX;
	int rc = im->replace ? imp_remove_stale(im, t) : 0;
	for (size_t i = 0; rc == 0 && i < im->n; i++) {
		rc = imp_put(im, t, &im->ents[i]);
		if (rc < 0)
			im->failed_at = i;
	}
	return rc;
}

/* Opens the store, runs the transaction and prints the summary. */
static int imp_commit(const cmd_ctx *ctx, imp *im)
{
	store *st = NULL;
	int ex = cmd_open_store(ctx, "import", 0, &st);
	if (ex)
		return ex;
	int rc = store_write(st, imp_txn, im);
	uint32_t serial = 0;
	if (rc == 0)
		rc = store_serial(st, &serial);
	if (rc == 0) {
		printf("imported %zu listings, %zu exclusions (%zu added, %zu updated, %zu removed), "
		       "serial %u\n", im->n_listings, im->n_exclusions, im->added, im->updated,
		       im->removed, (unsigned)serial);
		ex = cmd_flush("import");
	} else if ((rc == V6R_ECODE || rc == V6R_ERANGE) && im->failed_at != SIZE_MAX) {
		fprintf(stderr, "%s:%lu: %s\n", im->name, (unsigned long)im->ents[im->failed_at].line,
		        v6r_strerror(rc));
		cmd_err("import", "nothing imported");
		ex = CMD_EXIT_INPUT;
	} else {
		ex = cmd_store_fail("import", st, "import (nothing imported)", rc);
	}
	store_close(st);
	return ex;
}

/* Reads, checks and (when the whole file is good) commits the file at path ("-": stdin). */
static int imp_file(const cmd_ctx *ctx, imp *im, const char *path)
{
	bool use_stdin = strcmp(path, "-") == 0;
	im->name = use_stdin ? "<stdin>" : path;
	FILE *f = use_stdin ? stdin : fopen(path, "r");
	if (!f) {
		cmd_err("import", "failed to open %s (%s)", path, strerror(errno));
		return CMD_EXIT_INPUT;
	}
	int ex = CMD_EXIT_INPUT;
	int rc = imp_read(im, f, ctx->c.default_code);
	if (rc == V6R_EIO) {
		cmd_err("import", "failed to read %s (%s)", im->name, strerror(errno));
	} else if (rc == V6R_ERANGE) {
		cmd_err("import", "failed to read %s (more than 4 GiB of reason text; split the file)",
		        im->name);
	} else if (rc < 0) {
		cmd_err("import", "failed to read %s (%s)", im->name, v6r_strerror(rc));
		ex = CMD_EXIT_STORE;
	} else {
		imp_check_dups(im);
		if (im->errors)
			cmd_err("import", "%zu error%s in %s, nothing imported", im->errors,
			        im->errors == 1 ? "" : "s", im->name);
		else
			ex = imp_commit(ctx, im);
	}
	if (!use_stdin)
		fclose(f);
	return ex;
}

int cmd_import(cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "replace", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	imp im = { .now = ctx->now };
	int c;
	while ((c = cmd_getopt("import", argc, argv, "r", lo)) != -1) {
		if (c == 'r')
			im.replace = true;
		else
			return cmd_opt_end("import", c);
	}
	if (!cmd_operands("import", argc, argv, 1))
		return CMD_EXIT_INPUT;
	int ex = imp_file(ctx, &im, argv[optind]);
	free(im.ents);
	free(im.text);
	free(im.stale);
	return ex;
}
