/* cmd.c: the command table of `v6rep` and the helpers its commands share. */
#include "cmd.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "../zone/err.h"
#include "../zone/tmpl.h"

const cmd_def cmd_table[] = {
	{ "import", cmd_import, 0, "[--replace] FILE|-",
	  "load a listings file (all or nothing)",
	  "  --replace       also remove every stored entry that is not in FILE\n"
	  "FILE holds one entry per line: PREFIX[/LEN] [CODE] [TXT] for a listing, !PREFIX[/LEN] [TXT]\n"
	  "for an exclusion; '#' starts a comment. Every line is checked first: any error (reported as\n"
	  "FILE:LINE: reason), including a prefix given twice, and nothing is imported. New prefixes get\n"
	  "created = now, existing ones keep it; origin is operator; '-' reads standard input.\n" },
	{ "add", cmd_add, 0, "PREFIX [--code CODE] [--reason TEXT] [--expires DURATION]",
	  "list a prefix (or update its listing)",
	  "  --code CODE         A record, 127.0.0.N (default: the default-code setting)\n"
	  "  --reason TEXT       reason shown in the TXT answer ({reason})\n"
	  "  --expires DURATION  expire after DURATION (90, 45s, 10m, 12h, 30d, 2w); default never\n"
	  "An entry already stored for PREFIX (listing or exclusion) is replaced whole, keeping its\n"
	  "created time. Host bits beyond the length are an error.\n" },
	{ "del", cmd_del, 0, "PREFIX",
	  "remove the listing or exclusion of exactly PREFIX",
	  "Exits 1 with \"not listed\" when nothing is stored for PREFIX.\n" },
	{ "allow", cmd_allow, 0, "PREFIX [--reason TEXT]",
	  "exclude a prefix: never listed, punches a hole in covering listings",
	  "  --reason TEXT       why (kept with the exclusion)\n"
	  "An entry already stored for PREFIX is replaced whole, keeping its created time.\n" },
	{ "list", cmd_list, 0, "[--format text|import|rbldnsd|zone] [--kind listings|exclusions|all]",
	  "print the stored entries",
	  "  --format text      CIDR CODE ORIGIN EXPIRY REASON (exclusions: !CIDR - ORIGIN EXPIRY REASON;\n"
	  "                     EXPIRY is - or RFC 3339 UTC); the default\n"
	  "  --format import    the listings file format: re-imports to the same entries (expired\n"
	  "                     entries are left out; expiry and origin are not part of that format)\n"
	  "  --format rbldnsd   a 'combined' rbldnsd dataset answering like v6repd; serve it with\n"
	  "                     rbldnsd -b ADDR/PORT ZONE:combined:FILE\n"
	  "  --format zone      an RFC 1035 master file of the zone (needs a zone) for NSD, Knot or\n"
	  "                     BIND secondaries, answering like v6repd (see zone/render.h)\n"
	  "  --kind KIND        listings, exclusions or all (default all; rbldnsd and zone: all)\n" },
	{ "export", cmd_export, 0, "[--format zone|rbldnsd]",
	  "write the zone for another server (same as list --format zone|rbldnsd)",
	  "  --format zone      an RFC 1035 master file (the default; needs a zone)\n"
	  "  --format rbldnsd   a 'combined' rbldnsd dataset\n"
	  "Expired entries are left out. Entries a standard server cannot answer exactly as v6repd\n"
	  "are reported as warnings on standard error.\n" },
	{ "lookup", cmd_lookup, 0, "ADDRESS",
	  "show the entry that decides an address, as v6repd answers",
	  "Prints the deciding entry (prefix, kind, code, origin, times, reason, rendered TXT) or\n"
	  "\"ADDRESS: not listed\" (with \"(excluded by PREFIX)\" when an exclusion decides). A dotted\n"
	  "quad is looked up as an IPv4 query (IPv4 prefixes only). Exits 0 either way.\n" },
	{ "stats", cmd_stats, 0, "",
	  "serial, counts by prefix length and origin, expired entries, map use", "" },
	{ "expire", cmd_expire, 0, "",
	  "remove the entries whose expiry has passed", "" },
	{ "serial", cmd_serial, 0, "",
	  "print the store's serial (the SOA serial)", "" },
	{ "config-check", cmd_config_check, CMD_NO_CFG, "FILE",
	  "check a settings file, reporting every problem as FILE:LINE",
	  "Exits 0 when FILE is valid for v6rep and v6repd, 1 otherwise.\n" },
	{ "config-sample", cmd_config_sample, CMD_NO_CFG, "",
	  "print a commented settings file with every default", "" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

const cmd_def *cmd_find(const char *name)
{
	for (const cmd_def *d = cmd_table; d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

void cmd_usage(FILE *f, const cmd_def *d)
{
	fprintf(f, "usage: v6rep [--db DIR] [--config FILE] %s%s%s\n%s.\n", d->name,
	        d->args[0] ? " " : "", d->args, d->summary);
	if (d->help[0])
		fprintf(f, "\n%s", d->help);
}

void cmd_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "v6rep %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cmd_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts)
{
	/* The caller's table plus --help; at most 8 options per command. */
	struct option all[10];
	size_t n = 0;
	while (longopts && longopts[n].name && n < 8) {
		all[n] = longopts[n];
		n++;
	}
	all[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	all[n] = (struct option){ NULL, 0, NULL, 0 };

	char opts[32];
	snprintf(opts, sizeof(opts), ":h%s", shortopts ? shortopts : "");
	int c = getopt_long(argc, argv, opts, all, NULL);
	if (c == '?') {
		cmd_err(cmd, "unknown option '%s' (see v6rep %s --help)", argv[optind - 1], cmd);
	} else if (c == ':') {
		cmd_err(cmd, "option '%s' needs a value (see v6rep %s --help)", argv[optind - 1], cmd);
		c = '?';
	}
	return c;
}

int cmd_opt_end(const char *cmd, int c)
{
	if (c == 'h') {
		cmd_usage(stdout, cmd_find(cmd));
		return CMD_EXIT_OK;
	}
	if (c == '?')
		return CMD_EXIT_INPUT;     /* reported by cmd_getopt */
	cmd_err(cmd, "unhandled option");
	return CMD_EXIT_INPUT;
}

bool cmd_operands(const char *cmd, int argc, char **argv, int want)
{
	int have = argc - optind;
	if (have == want)
		return true;
	if (have < want)
		cmd_err(cmd, "missing argument (see v6rep %s --help)", cmd);
	else
		cmd_err(cmd, "unexpected argument '%s' (see v6rep %s --help)", argv[optind + want], cmd);
	return false;
}

int cmd_open_store(const cmd_ctx *ctx, const char *cmd, unsigned flags, store **st)
{
	int rc = store_open(st, ctx->c.db, flags, (size_t)ctx->c.map_size);
	if (rc == 0) {
		store_set_journal_limit(*st, ctx->c.journal_size);
		return 0;
	}
	const char *why = store_open_error();
	if (strncmp(why, "failed to ", 10) == 0)
		cmd_err(cmd, "%s", why);    /* already says which store and why */
	else
		cmd_err(cmd, "failed to open store %s (%s)", ctx->c.db, why);
	return CMD_EXIT_STORE;
}

int cmd_store_fail(const char *cmd, const store *st, const char *what, int rc)
{
	const char *detail = st ? store_lasterr(st) : "";
	if (detail && detail[0])
		cmd_err(cmd, "failed to %s (%s: %s)", what, v6r_strerror(rc), detail);
	else
		cmd_err(cmd, "failed to %s (%s)", what, v6r_strerror(rc));
	return CMD_EXIT_STORE;
}

int cmd_parse_prefix(const char *cmd, const char *text, unsigned flags, addr_pfx *p)
{
	int rc = addr_parse(text, strlen(text), flags, p);
	if (rc == 0)
		return 0;
	if (rc == V6R_EHOSTBITS) {
		addr_pfx m;
		char buf[ADDR_PFX_STRLEN];
		if (addr_parse(text, strlen(text), flags | ADDR_MASK_HOST, &m) == 0 &&
		    addr_format(&m, buf, sizeof(buf)) > 0) {
			cmd_err(cmd, "bad prefix '%s' (%s; did you mean %s?)", text, v6r_strerror(rc), buf);
			return CMD_EXIT_INPUT;
		}
	}
	cmd_err(cmd, "bad %s '%s' (%s)", (flags & ADDR_NO_LEN) ? "address" : "prefix", text,
	        v6r_strerror(rc));
	return CMD_EXIT_INPUT;
}

void cmd_fmt_time(uint64_t t, char *buf, size_t cap)
{
	struct tm tm;
	time_t tt = (time_t)t;
	if (t == 0 || !gmtime_r(&tt, &tm) || strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, cap, "%s", t == 0 ? "-" : "?");
}

void cmd_fmt_code(const uint8_t code[4], char *buf, size_t cap)
{
	snprintf(buf, cap, "%u.%u.%u.%u", code[0], code[1], code[2], code[3]);
}

void cmd_put_text(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		putc(ch < 0x20 || ch == 0x7f ? '?' : ch, f);
	}
}

int cmd_check_reason(const char *cmd, const char *reason)
{
	size_t n = strlen(reason);
	if (n > STORE_REASON_MAX) {
		cmd_err(cmd, "reason too long (%zu bytes, at most %u)", n, STORE_REASON_MAX);
		return CMD_EXIT_INPUT;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)reason[i];
		if (ch < 0x20 || ch == 0x7f) {
			cmd_err(cmd, "reason has a control character (byte %zu) in '%s'", i + 1, reason);
			return CMD_EXIT_INPUT;
		}
	}
	return 0;
}

int cmd_flush(const char *cmd)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	cmd_err(cmd, "failed to write output (%s)", strerror(errno));
	return CMD_EXIT_STORE;
}

int cmd_ctx_finish(cmd_ctx *ctx)
{
	size_t n = strlen(ctx->c.zone);
	if (n > 0 && ctx->c.zone[n - 1] == '.')
		n--;     /* "v6bl.example." -> "v6bl.example"; the root "." -> "" */
	if (n >= sizeof(ctx->zone))
		n = sizeof(ctx->zone) - 1;
	memcpy(ctx->zone, ctx->c.zone, n);
	ctx->zone[n] = '\0';

	tmpl t;
	char err[256];
	if (tmpl_compile(&t, ctx->c.default_reason, err, sizeof(err)) < 0) {
		fprintf(stderr, "v6rep: bad default-reason '%s' (%s)\n", ctx->c.default_reason, err);
		return CMD_EXIT_INPUT;
	}
	tmpl_vars v = { .zone = ctx->zone };
	n = tmpl_render(&t, &v, ctx->default_reason, sizeof(ctx->default_reason) - 1);
	ctx->default_reason[n] = '\0';
	return 0;
}
