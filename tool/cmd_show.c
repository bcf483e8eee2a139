/* cmd_show.c: `v6rep lookup`, `stats`, `serial` and `expire`: reading (and purging) the store. */
#include "cmd.h"

#include <getopt.h>
#include <string.h>

#include "../zone/err.h"
#include "../zone/evid.h"
#include "../zone/lookup.h"
#include "../zone/tmpl.h"

/* Renders the TXT answer v6repd would give for address a decided by e. */
static size_t show_txt(const cmd_ctx *ctx, const store_entry *e, const uint8_t a[16], bool v4,
                       char *out, size_t cap)
{
	tmpl t;
	char err[256];
	if (tmpl_compile(&t, ctx->c.txt_template, err, sizeof(err)) < 0)
		return (size_t)snprintf(out, cap, "(bad txt-template: %s)", err);
	tmpl_vars v = { .e = e, .addr = a, .addr_v4 = v4, .zone = ctx->zone,
	                .default_reason = ctx->default_reason };
	return tmpl_render(&t, &v, out, cap);
}

/* Prints the evidence kept with an automatic listing (by ingest), if any. */
static void show_evidence(store *st, const store_entry *e)
{
	uint8_t buf[STORE_EVIDENCE_MAX];
	size_t len;
	evid ev;
	char text[1024];
	if (store_evidence_read(st, &e->pfx, buf, sizeof(buf), &len) != 0)
		return;
	if (evid_decode(buf, len, &ev) != 0 || evid_format(&ev, text, sizeof(text)) < 0) {
		printf("  evidence (unreadable record)\n");
		return;
	}
	printf("  evidence %s\n", text);
}

/* Prints the details of a deciding entry, one "  name value" line each. */
static void show_entry(const cmd_ctx *ctx, store *st, const store_entry *e, const uint8_t a[16],
                       bool v4)
{
	char pfx[ADDR_PFX_STRLEN], code[16], t1[CMD_TIME_STRLEN], t2[CMD_TIME_STRLEN],
	     t3[CMD_TIME_STRLEN];
	bool test = e->reason == lk_test_point()->reason;
	addr_format(&e->pfx, pfx, sizeof(pfx));
	cmd_fmt_time(e->created, t1, sizeof(t1));
	cmd_fmt_time(e->updated, t2, sizeof(t2));
	cmd_fmt_time(e->expires, t3, sizeof(t3));
	printf("  prefix   %s\n", pfx);
	printf("  kind     %s\n", test ? "listing (RFC 5782 test point, built in)"
	                           : e->kind == STORE_LISTING ? "listing" : "exclusion");
	if (e->kind == STORE_LISTING) {
		cmd_fmt_code(e->code, code, sizeof(code));
		printf("  code     %s\n", code);
	}
	printf("  origin   %s\n", store_origin_name(e->origin));
	printf("  created  %s\n  updated  %s\n", t1, t2);
	printf("  expires  %s\n", e->expires ? t3 : "never");
	printf("  reason   ");
	cmd_put_text(stdout, e->reason, e->reason_len);
	putchar('\n');
	if (e->kind == STORE_LISTING) {
		char txt[TMPL_OUT_MAX];
		size_t n = show_txt(ctx, e, a, v4, txt, sizeof(txt));
		printf("  txt      ");
		cmd_put_text(stdout, txt, n);
		putchar('\n');
	}
	if (!test)
		show_evidence(st, e);
}

/* Decides addr in one read snapshot and prints the verdict; the reason is borrowed until end. */
static int lookup_print(const cmd_ctx *ctx, store *st, const char *text, const addr_pfx *p, bool v4)
{
	store_reader *r = NULL;
	int rc = store_reader_new(st, &r);
	if (rc == 0)
		rc = store_reader_begin(r);
	if (rc < 0)
		goto fail;
	store_entry e;
	bool found = false;
	rc = lk_addr(r, p->a, v4, ctx->now, &e, &found);
	if (rc == 1) {
		printf("%s: listed\n", text);
		show_entry(ctx, st, &e, p->a, v4);
	} else if (rc == 0 && found) {
		char pfx[ADDR_PFX_STRLEN];
		addr_format(&e.pfx, pfx, sizeof(pfx));
		printf("%s: not listed (excluded by %s)\n", text, pfx);
		show_entry(ctx, st, &e, p->a, v4);
	} else if (rc == 0) {
		printf("%s: not listed\n", text);
	}
	store_reader_end(r);
fail:
	if (r)
		store_reader_free(r);
	if (rc < 0)
		return cmd_store_fail("lookup", st, "look up the address", rc);
	return cmd_flush("lookup");
}

int cmd_lookup(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("lookup", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("lookup", c);
	if (!cmd_operands("lookup", argc, argv, 1))
		return CMD_EXIT_INPUT;
	const char *text = argv[optind];
	addr_pfx p;
	int ex = cmd_parse_prefix("lookup", text, ADDR_NO_LEN, &p);
	if (ex)
		return ex;
	/* A dotted quad is what an MTA asks with 4 decimal labels: IPv4 prefixes only. */
	bool v4 = strchr(text, ':') == NULL;
	store *st = NULL;
	if ((ex = cmd_open_store(ctx, "lookup", STORE_RDONLY, &st)) != 0)
		return ex;
	ex = lookup_print(ctx, st, text, &p, v4);
	store_close(st);
	return ex;
}

/* Prints the non-zero counts per prefix length of one kind. */
static void stats_lens(const char *title, const uint32_t by_len[129])
{
	bool any = false;
	for (unsigned len = 0; len <= 128; len++) {
		if (!by_len[len])
			continue;
		if (!any)
			printf("%s by prefix length:\n", title);
		any = true;
		printf("  /%-4u %10u\n", len, (unsigned)by_len[len]);
	}
}

int cmd_stats(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("stats", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("stats", c);
	if (!cmd_operands("stats", argc, argv, 0))
		return CMD_EXIT_INPUT;
	store *st = NULL;
	int ex = cmd_open_store(ctx, "stats", STORE_RDONLY, &st);
	if (ex)
		return ex;
	store_stats s;
	int rc = store_get_stats(st, ctx->now, &s);
	if (rc < 0) {
		ex = cmd_store_fail("stats", st, "read the statistics", rc);
		goto done;
	}
	printf("serial      %u\n", (unsigned)s.serial);
	printf("listings    %llu\n", (unsigned long long)s.listings);
	printf("exclusions  %llu\n", (unsigned long long)s.exclusions);
	printf("expired     %llu (listings past their expiry, still stored)\n",
	       (unsigned long long)s.expired);
	printf("map size    %llu bytes (%.1f MiB)\n", (unsigned long long)s.map_size,
	       (double)s.map_size / 1048576.0);
	printf("used        %llu bytes (%.1f MiB)\n", (unsigned long long)s.used_bytes,
	       (double)s.used_bytes / 1048576.0);
	printf("listings by origin:\n");
	for (unsigned o = 0; o < 3; o++)
		printf("  %-10s %10llu\n", store_origin_name(o), (unsigned long long)s.by_origin[o]);
	stats_lens("listings", s.by_len[0]);
	stats_lens("exclusions", s.by_len[1]);
	printf("(IPv4 prefixes count as ::ffff:0:0/96 + their length: 192.0.2.0/24 is /120)\n");
	ex = cmd_flush("stats");
done:
	store_close(st);
	return ex;
}

int cmd_serial(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("serial", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("serial", c);
	if (!cmd_operands("serial", argc, argv, 0))
		return CMD_EXIT_INPUT;
	store *st = NULL;
	int ex = cmd_open_store(ctx, "serial", STORE_RDONLY, &st);
	if (ex)
		return ex;
	uint32_t serial;
	int rc = store_serial(st, &serial);
	if (rc < 0) {
		ex = cmd_store_fail("serial", st, "read the serial", rc);
	} else {
		printf("%u\n", (unsigned)serial);
		ex = cmd_flush("serial");
	}
	store_close(st);
	return ex;
}

typedef struct purge {
	uint64_t now;
	size_t removed;
	uint32_t serial;
} purge;

static int purge_txn(store_txn *t, void *arg)
{
	purge *p = arg;
	p->removed = 0;
	int rc = store_purge_expired(t, p->now, &p->removed);
	p->serial = store_txn_serial(t);
	return rc;
}

int cmd_expire(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("expire", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("expire", c);
	if (!cmd_operands("expire", argc, argv, 0))
		return CMD_EXIT_INPUT;
	store *st = NULL;
	int ex = cmd_open_store(ctx, "expire", 0, &st);
	if (ex)
		return ex;
	purge p = { .now = ctx->now };
	int rc = store_write(st, purge_txn, &p);
	if (rc == 0)
		rc = store_serial(st, &p.serial);
	if (rc < 0) {
		ex = cmd_store_fail("expire", st, "remove expired entries", rc);
	} else {
		printf("removed %zu expired entr%s, serial %u\n", p.removed, p.removed == 1 ? "y" : "ies",
		       (unsigned)p.serial);
		ex = cmd_flush("expire");
	}
	store_close(st);
	return ex;
}
