/* cmd_list.c: `v6rep list` / `v6rep export`: the entries as text, a listings file, an rbldnsd dataset or a zone. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <string.h>
#include <strings.h>

#include "../zone/err.h"
#include "../zone/listfile.h"
#include "../zone/lookup.h"
#include "../zone/render.h"
#include "../zone/tmpl.h"

typedef enum list_fmt { FMT_TEXT, FMT_IMPORT, FMT_RBLDNSD, FMT_ZONE } list_fmt;

typedef struct list_ctx {
	const cmd_ctx *ctx;
	const char *cmd;              /* "list" or "export", for messages */
	list_fmt fmt;
	FILE *v4;                     /* rbldnsd: the IPv4 section, written after the walk */
	size_t n_fixed, n_mapped, n_long;   /* for the warnings at the end */
	/* rbldnsd TXT: the template split into one-segment templates, rendered piece by piece */
	tmpl one[TMPL_MAX_SEGS];
	unsigned n_seg;
} list_ctx;

/* ---- text ---- */

static int put_text(const store_entry *e, void *arg)
{
	(void)arg;
	char pfx[ADDR_PFX_STRLEN], code[16], exp[CMD_TIME_STRLEN];
	addr_format(&e->pfx, pfx, sizeof(pfx));
	cmd_fmt_time(e->expires, exp, sizeof(exp));
	if (e->kind == STORE_LISTING) {
		cmd_fmt_code(e->code, code, sizeof(code));
		printf("%s %s %s %s", pfx, code, store_origin_name(e->origin), exp);
	} else {
		printf("!%s - %s %s", pfx, store_origin_name(e->origin), exp);
	}
	if (e->reason_len) {
		putchar(' ');
		cmd_put_text(stdout, e->reason, e->reason_len);
	}
	putchar('\n');
	return ferror(stdout) ? V6R_EIO : 0;
}

/* ---- import (the listings file format) ---- */

static int put_import(const store_entry *e, void *arg)
{
	list_ctx *l = arg;
	if (e->expires && e->expires <= l->ctx->now)
		return 0;     /* no longer listed; the format has no expiry to say so */
	char line[LF_LINE_MAX];
	int n = lf_format_line(e, line, sizeof(line));
	if (n == V6R_EINVAL) {
		/* A reason with NUL, CR or LF (written by another program) cannot be one line. */
		char reason[STORE_REASON_MAX];
		store_entry c = *e;
		for (size_t i = 0; i < e->reason_len; i++) {
			char ch = e->reason[i];
			reason[i] = ch == '\0' || ch == '\r' || ch == '\n' ? ' ' : ch;
		}
		c.reason = reason;
		l->n_fixed++;
		n = lf_format_line(&c, line, sizeof(line));
	}
	if (n < 0)
		return n;
	fwrite(line, 1, (size_t)n, stdout);
	return ferror(stdout) ? V6R_EIO : 0;
}

/* ---- rbldnsd ---- */

/*
 * Appends text to the TXT value for rbldnsd: '$' doubled (rbldnsd substitutes a single '$'
 * with the queried address and $N with variables), control characters as blanks. Returns the
 * new length, never beyond cap.
 */
static size_t rbl_escape(char *out, size_t len, size_t cap, const char *s, size_t n)
{
	for (size_t i = 0; i < n && len < cap; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch == '$') {
			if (len + 2 > cap)
				break;
			out[len++] = '$';
		}
		out[len++] = (char)(ch < 0x20 || ch == 0x7f ? ' ' : ch);
	}
	return len;
}

/* The TXT template of entry e, with {addr} as rbldnsd's '$' and everything else substituted. */
static size_t rbl_txt(const list_ctx *l, const store_entry *e, char *out, size_t cap)
{
	tmpl_vars v = { .e = e, .zone = l->ctx->zone, .default_reason = l->ctx->default_reason };
	char piece[TMPL_OUT_MAX];
	size_t len = 0;
	for (unsigned i = 0; i < l->n_seg && len < cap; i++) {
		if (l->one[i].seg[0].var == TMPL_ADDR) {
			out[len++] = '$';
			continue;
		}
		size_t n = tmpl_render(&l->one[i], &v, piece, sizeof(piece));
		len = rbl_escape(out, len, cap, piece, n);
	}
	return len;
}

/*
 * Writes one entry line: "PREFIX :CODE:TXT" or "!PREFIX". rbldnsd drops a leading '=' of a TXT
 * value (its "no base template" mark), so one is added when the text starts with '='.
 */
static void rbl_line(list_ctx *l, FILE *f, const char *pfx, const store_entry *e)
{
	if (e->kind == STORE_EXCLUSION) {
		fprintf(f, "!%s\n", pfx);
		return;
	}
	char txt[TMPL_OUT_MAX * 2], code[16];
	size_t n = rbl_txt(l, e, txt, sizeof(txt));
	if (n > 255)
		l->n_long++;
	cmd_fmt_code(e->code, code, sizeof(code));
	fprintf(f, "%s :%s:%s%.*s\n", pfx, code, n && txt[0] == '=' ? "=" : "", (int)n, txt);
}

/* IPv6 prefixes in full hexadecimal groups, which every rbldnsd version reads. */
static void rbl_v6_prefix(const addr_pfx *p, char *buf, size_t cap)
{
	const uint8_t *a = p->a;
	snprintf(buf, cap, "%x:%x:%x:%x:%x:%x:%x:%x/%u", a[0] << 8 | a[1], a[2] << 8 | a[3],
	         a[4] << 8 | a[5], a[6] << 8 | a[7], a[8] << 8 | a[9], a[10] << 8 | a[11],
	         a[12] << 8 | a[13], a[14] << 8 | a[15], p->len);
}

/* The RFC 5782 test points (127.0.0.2 listed, 127.0.0.1 not): lk_addr's, so never stored ones. */
static bool rbl_is_test_point(const addr_pfx *p)
{
	static const uint8_t absent[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1 };
	return p->len == 128 &&
	       (memcmp(p->a, lk_test_point()->pfx.a, 16) == 0 || memcmp(p->a, absent, 16) == 0);
}

/* Whether an IPv6 prefix (not an IPv4 one) covers IPv4-mapped addresses. */
static bool rbl_covers_mapped(const addr_pfx *p)
{
	addr_pfx mapped = { .a = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff }, .len = 96 };
	return p->len < 96 && addr_pfx_within(&mapped, p);
}

static int put_rbldnsd(const store_entry *e, void *arg)
{
	list_ctx *l = arg;
	if ((e->expires && e->expires <= l->ctx->now) || rbl_is_test_point(&e->pfx))
		return 0;
	char pfx[ADDR_PFX_STRLEN];
	if (addr_is_v4(&e->pfx)) {
		addr_format(&e->pfx, pfx, sizeof(pfx));
		rbl_line(l, l->v4, pfx, e);
		return ferror(l->v4) ? V6R_EIO : 0;
	}
	if (rbl_covers_mapped(&e->pfx))
		l->n_mapped++;
	rbl_v6_prefix(&e->pfx, pfx, sizeof(pfx));
	rbl_line(l, stdout, pfx, e);
	return ferror(stdout) ? V6R_EIO : 0;
}

/* Splits the TXT template into one-segment templates (so {addr} can be left to rbldnsd). */
static int rbl_prepare(list_ctx *l)
{
	tmpl t;
	char err[256];
	if (tmpl_compile(&t, l->ctx->c.txt_template, err, sizeof(err)) < 0) {
		cmd_err(l->cmd, "bad txt-template '%s' (%s)", l->ctx->c.txt_template, err);
		return CMD_EXIT_INPUT;
	}
	l->n_seg = t.n_seg;
	for (unsigned i = 0; i < t.n_seg; i++) {
		l->one[i] = t;
		l->one[i].n_seg = 1;
		l->one[i].seg[0] = t.seg[i];
	}
	return 0;
}

/* The common section: what the file is, SOA and NS when a zone is configured, the TTL. */
static void rbl_header(const list_ctx *l, uint32_t serial)
{
	const cfg *c = &l->ctx->c;
	char now[CMD_TIME_STRLEN];
	cmd_fmt_time(l->ctx->now, now, sizeof(now));
	printf("# v6rep rbldnsd dataset, store serial %u, written %s\n"
	       "# serve with: rbldnsd -b ADDR/PORT %s:combined:FILE\n",
	       (unsigned)serial, now, l->ctx->zone[0] ? l->ctx->zone : "ZONE");
	if (c->zone[0]) {
		printf("$SOA %u %s %s %u %u %u %u %u\n", (unsigned)c->soa_ttl, c->soa_mname,
		       c->soa_rname, (unsigned)serial, (unsigned)c->soa_refresh,
		       (unsigned)c->soa_retry, (unsigned)c->soa_expire, (unsigned)c->negative_ttl);
		if (c->n_ns > 0) {
			printf("$NS %u", (unsigned)c->ns_ttl);
			for (unsigned i = 0; i < c->n_ns; i++)
				printf(" %s", c->ns[i]);
			putchar('\n');
		}
	}
	printf("$TTL %u\n", (unsigned)c->ttl);
}

/* The IPv4 section: the test points, then the IPv4 entries gathered during the walk. */
static int rbl_v4_section(list_ctx *l)
{
	printf("$DATASET ip4trie:v6rep-ipv4 @\n");
	rbl_line(l, stdout, "127.0.0.2/32", lk_test_point());
	printf("!127.0.0.1/32\n");
	rewind(l->v4);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), l->v4)) > 0)
		fwrite(buf, 1, n, stdout);
	return ferror(l->v4) || ferror(stdout) ? V6R_EIO : 0;
}

static int list_rbldnsd(list_ctx *l, store *st)
{
	int ex = rbl_prepare(l);
	if (ex)
		return ex;
	uint32_t serial = 0;
	int rc = store_serial(st, &serial);
	if (rc < 0)
		return cmd_store_fail(l->cmd, st, "read the serial", rc);
	l->v4 = tmpfile();
	if (!l->v4) {
		cmd_err(l->cmd, "failed to create a temporary file (%s)", strerror(errno));
		return CMD_EXIT_STORE;
	}
	rbl_header(l, serial);
	printf("$DATASET ip6trie:v6rep-ipv6 @\n");
	rc = store_foreach(st, 0, put_rbldnsd, l);
	if (rc == 0)
		rc = rbl_v4_section(l);
	fclose(l->v4);
	if (rc == V6R_EIO) {
		/* A stdout failure is reported by the final flush; this one is the temporary file's. */
		if (!ferror(stdout))
			cmd_err(l->cmd, "failed to use a temporary file (%s)", strerror(errno));
		return CMD_EXIT_STORE;
	}
	if (rc < 0)
		return cmd_store_fail(l->cmd, st, "read the entries", rc);
	if (l->n_mapped)
		cmd_err(l->cmd, "warning: %zu IPv6 entr%s shorter than /96 cover ::ffff:0:0/96; rbldnsd "
		        "decides IPv4-mapped names from the IPv4 entries only", l->n_mapped,
		        l->n_mapped == 1 ? "y" : "ies");
	if (l->n_long)
		cmd_err(l->cmd, "warning: %zu TXT value%s longer than 255 bytes; rbldnsd cuts them there",
		        l->n_long, l->n_long == 1 ? "" : "s");
	return 0;
}

/* ---- zone (RFC 1035 master file, zone/render.h) ---- */

static int zone_line(const rd_rr *rr, void *arg)
{
	(void)arg;
	char line[RD_TEXT_MAX];
	int n = rd_rr_text(rr, line, sizeof(line));
	if (n < 0)
		return n;
	fwrite(line, 1, (size_t)n, stdout);
	return ferror(stdout) ? V6R_EIO : 0;
}

static void zone_warn(const store_entry *e, const char *why, void *arg)
{
	const list_ctx *l = arg;
	char pfx[ADDR_PFX_STRLEN];
	addr_format(&e->pfx, pfx, sizeof(pfx));
	cmd_err(l->cmd, "warning: %s: %s", pfx, why);
}

/* Renders the zone from one snapshot: a comment line, the SOA, then every record. */
static int zone_render(list_ctx *l, store *st, rd_zone *z)
{
	store_reader *r = NULL;
	char now[CMD_TIME_STRLEN];
	int rc = store_reader_new(st, &r);
	if (rc == 0)
		rc = store_reader_begin(r);
	if (rc < 0) {
		store_reader_free(r);
		return cmd_store_fail(l->cmd, st, "read the store", rc);
	}
	cmd_fmt_time(l->ctx->now, now, sizeof(now));
	printf("; v6rep zone %s, store serial %u, written %s\n", l->ctx->c.zone,
	       (unsigned)store_reader_serial(r), now);
	rc = rd_render(z, r, l->ctx->now, zone_line, l);
	store_reader_end(r);
	store_reader_free(r);
	if (rc == V6R_EIO)
		return CMD_EXIT_STORE;     /* stdout failed: reported by the final flush */
	if (rc < 0)
		return cmd_store_fail(l->cmd, st, "render the zone", rc);
	return 0;
}

/* An NS name inside the zone needs address records the store cannot give (no glue). */
static void zone_check_ns(const list_ctx *l)
{
	const cfg *c = &l->ctx->c;
	size_t zl = strlen(c->zone);
	for (unsigned i = 0; i < c->n_ns; i++) {
		size_t nl = strlen(c->ns[i]);
		if (nl == zl ? strcasecmp(c->ns[i], c->zone) == 0 :
		    nl > zl && c->ns[i][nl - zl - 1] == '.' && strcasecmp(c->ns[i] + nl - zl, c->zone) == 0)
			cmd_err(l->cmd, "warning: NS %s is inside the zone, which has no address records for "
			        "it (named-checkzone and kzonecheck reject such a zone)", c->ns[i]);
	}
}

static int list_zone(list_ctx *l, store *st)
{
	char err[512];
	rd_zone *z = NULL;
	if (!l->ctx->c.zone[0]) {
		cmd_err(l->cmd, "the zone format needs a zone (--zone ZONE or 'zone' in the config)");
		return CMD_EXIT_INPUT;
	}
	if (rd_zone_new(&l->ctx->c, &z, err, sizeof(err)) < 0) {
		cmd_err(l->cmd, "%s", err);
		return CMD_EXIT_INPUT;
	}
	rd_zone_set_warn(z, zone_warn, l);
	zone_check_ns(l);
	int ex = zone_render(l, st, z);
	rd_zone_free(z);
	return ex;
}

/* ---- the commands ---- */

static int list_parse(const char *cmd, int argc, char **argv, list_fmt *fmt, unsigned *kind)
{
	static const struct option lo[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "kind", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	bool kind_set = false;
	int c;
	bool export = strcmp(cmd, "export") == 0;
	while ((c = cmd_getopt(cmd, argc, argv, export ? "f:" : "f:k:", lo)) != -1) {
		if (c == 'f' && strcmp(optarg, "zone") == 0) {
			*fmt = FMT_ZONE;
		} else if (c == 'f' && strcmp(optarg, "rbldnsd") == 0) {
			*fmt = FMT_RBLDNSD;
		} else if (export && (c == 'f' || c == 'k')) {
			cmd_err(cmd, "bad --%s '%s' (see v6rep export --help)", c == 'f' ? "format" : "kind",
			        optarg);
			return CMD_EXIT_INPUT;
		} else if (c == 'f' && strcmp(optarg, "text") == 0) {
			*fmt = FMT_TEXT;
		} else if (c == 'f' && strcmp(optarg, "import") == 0) {
			*fmt = FMT_IMPORT;
		} else if (c == 'k' && (strcmp(optarg, "all") == 0 || strcmp(optarg, "listings") == 0 ||
		                        strcmp(optarg, "exclusions") == 0)) {
			*kind = optarg[0] == 'a' ? 0 : optarg[0] == 'l' ? STORE_LISTING : STORE_EXCLUSION;
			kind_set = *kind != 0;
		} else if (c == 'f' || c == 'k') {
			cmd_err(cmd, "bad --%s '%s' (see v6rep list --help)", c == 'f' ? "format" : "kind",
			        optarg);
			return CMD_EXIT_INPUT;
		} else {
			return cmd_opt_end(cmd, c);
		}
	}
	if (!cmd_operands(cmd, argc, argv, 0))
		return CMD_EXIT_INPUT;
	if ((*fmt == FMT_RBLDNSD || *fmt == FMT_ZONE) && kind_set) {
		cmd_err(cmd, "the %s format needs all entries (no --kind)",
		        *fmt == FMT_ZONE ? "zone" : "rbldnsd");
		return CMD_EXIT_INPUT;
	}
	return -1;
}

/* `list` and `export` share everything but their name and the formats they take. */
static int list_run(cmd_ctx *ctx, const char *cmd, list_fmt fmt, int argc, char **argv)
{
	list_ctx l = { .ctx = ctx, .cmd = cmd, .fmt = fmt };
	unsigned kind = 0;
	int ex = list_parse(cmd, argc, argv, &l.fmt, &kind);
	if (ex >= 0)
		return ex;
	store *st = NULL;
	if ((ex = cmd_open_store(ctx, cmd, STORE_RDONLY, &st)) != 0)
		return ex;
	if (l.fmt == FMT_ZONE) {
		ex = list_zone(&l, st);
	} else if (l.fmt == FMT_RBLDNSD) {
		ex = list_rbldnsd(&l, st);
	} else {
		int rc = store_foreach(st, kind, l.fmt == FMT_TEXT ? put_text : put_import, &l);
		if (rc == V6R_EIO)
			ex = CMD_EXIT_STORE;
		else if (rc < 0)
			ex = cmd_store_fail(cmd, st, "read the entries", rc);
	}
	if (ex == 0 && l.n_fixed)
		cmd_err(cmd, "warning: %zu reason%s had NUL, CR or LF bytes, written as blanks",
		        l.n_fixed, l.n_fixed == 1 ? "" : "s");
	store_close(st);
	int fl = cmd_flush(cmd);
	return ex ? ex : fl;
}

int cmd_list(cmd_ctx *ctx, int argc, char **argv)
{
	return list_run(ctx, "list", FMT_TEXT, argc, argv);
}

int cmd_export(cmd_ctx *ctx, int argc, char **argv)
{
	return list_run(ctx, "export", FMT_ZONE, argc, argv);
}
