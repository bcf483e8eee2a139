/* main.c: v6rep-ingest: options, then the ingest pipeline (ingest.h). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "../zone/cfg.h"
#include "../zone/err.h"
#include "../zone/store.h"
#include "enrich.h"
#include "ingest.h"

#define MAX_INPUTS 256

static volatile int stop_flag;
static unsigned log_level = LOG_NOTICE;
static bool log_syslog;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(int level, const char *fmt, ...)
{
	static const char *const names[] = { "emerg", "alert", "crit", "error", "warning", "notice",
	                                     "info", "debug" };
	if ((unsigned)level > log_level)
		return;
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_syslog)
		syslog(level, "%s", msg);
	else
		fprintf(stderr, "v6rep-ingest: %s: %s\n", names[level & 7], msg);
}

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: v6rep-ingest --db DIR [--sensor FILE_OR_DIR...] [--rejects FILE...] [--p0f FILE]\n"
	        "                    [--asn FILE...] [--ptr FILE] [--interface IF [--bpf FILTER]]\n"
	        "                    [--follow] [--report] [--config FILE] [--SETTING VALUE...]\n"
	        "Reads sensor SYN captures and production MTA reject logs, ties IPv6 senders to\n"
	        "DNSBL-rejected IPv4 addresses and lists them, with their evidence, in the store.\n\n"
	        "  --sensor PATH      capture file (pcap/pcapng) or folder of rotated captures (repeatable)\n"
	        "  --rejects FILE     Postfix/postscreen/Exim/Sendmail log, plain or gzip (repeatable)\n"
	        "  --p0f FILE         p0f -o log: OS labels for the captured SYNs\n"
	        "  --asn FILE         CAIDA pfx2as or Team Cymru whois file (repeatable; = --asn-file)\n"
	        "  --ptr FILE         PTR names, ADDRESS NAME or zone-file lines (= --ptr-file)\n"
	        "  --interface IF     capture live on IF (with --follow); --bpf FILTER replaces the default\n"
	        "  --follow           keep going: tail logs through rotation, pick up new captures\n"
	        "  --follow-seconds N stop --follow after N seconds\n"
	        "  --report           print the association tables and counters at the end\n"
	        "  --config FILE      settings file (the command line overrides it)\n"
	        "  --check-config     check the settings and exit\n\n"
	        "settings:\n");
	cfg_print_help(f, CFG_INGEST);
}

typedef struct args {
	const char *sensors[MAX_INPUTS], *rejects[MAX_INPUTS];
	ing_opts o;
	const char *config;
	bool check;
	uint64_t follow_s;
} args;

static int take_input(const char **list, size_t *n, const char *v)
{
	if (*n >= MAX_INPUTS) {
		fprintf(stderr, "v6rep-ingest: too many inputs (at most %d of each kind)\n", MAX_INPUTS);
		return -1;
	}
	list[(*n)++] = v;
	return 0;
}

/* First pass: the program's own options; settings are applied in apply_settings. */
static int parse_args(int argc, char **argv, args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
			usage(stdout);
			exit(0);
		}
		if (!strcmp(o, "--follow")) { a->o.follow = true; continue; }
		if (!strcmp(o, "--report")) { a->o.report = true; continue; }
		if (!strcmp(o, "--check-config")) { a->check = true; continue; }
		if (strncmp(o, "--", 2) != 0 || !v) {
			fprintf(stderr, "v6rep-ingest: %s: %s\n", o, v ? "not an option" : "needs a value");
			return -1;
		}
		i++;
		if (!strcmp(o, "--sensor")) {
			if (take_input(a->sensors, &a->o.n_sensors, v))
				return -1;
		} else if (!strcmp(o, "--rejects")) {
			if (take_input(a->rejects, &a->o.n_rejects, v))
				return -1;
		} else if (!strcmp(o, "--p0f")) {
			a->o.p0f_log = v;
		} else if (!strcmp(o, "--interface")) {
			a->o.interface = v;
		} else if (!strcmp(o, "--bpf")) {
			a->o.bpf = v;
		} else if (!strcmp(o, "--config")) {
			a->config = v;
		} else if (!strcmp(o, "--follow-seconds")) {
			char *end;
			a->follow_s = strtoull(v, &end, 10);
			if (*end || !a->follow_s) {
				fprintf(stderr, "v6rep-ingest: --follow-seconds: not a positive number ('%s')\n", v);
				return -1;
			}
		} else if (!strcmp(o, "--asn") || !strcmp(o, "--ptr")) {
			/* aliases of the asn-file and ptr-file settings (apply_settings) */
		} else if (!cfg_known(o + 2, CFG_INGEST)) {
			fprintf(stderr, "v6rep-ingest: unknown option %s (see --help)\n", o);
			return -1;
		}
	}
	return 0;
}

/* The setting a command-line option sets ("--asn" -> asn-file), or NULL when none. */
static const char *setting_of(const char *o)
{
	if (strncmp(o, "--", 2) != 0)
		return NULL;
	if (!strcmp(o, "--asn"))
		return "asn-file";
	if (!strcmp(o, "--ptr"))
		return "ptr-file";
	return cfg_known(o + 2, CFG_INGEST) ? o + 2 : NULL;
}

static int apply_settings(int argc, char **argv, const args *a, cfg *c)
{
	char err[1024];
	cfg_defaults(c);
	if (a->config && cfg_load_file(c, a->config, a->check, stderr, err, sizeof(err)) != 0) {
		if (!a->check)
			fprintf(stderr, "v6rep-ingest: %s\n", err);
		return -1;
	}
	for (int i = 1; i + 1 < argc; i++) {
		const char *name = setting_of(argv[i]);
		if (!name)
			continue;
		if (cfg_set(c, name, argv[++i], "command line", err, sizeof(err)) != 0) {
			fprintf(stderr, "v6rep-ingest: %s\n", err);
			return -1;
		}
	}
	if (cfg_finish(c, CFG_INGEST, err, sizeof(err)) != 0) {
		fprintf(stderr, "v6rep-ingest: %s\n", err);
		return -1;
	}
	return 0;
}

/* 1234567 -> "1,234,567" in buf. */
static const char *grouped(uint64_t n, char *buf, size_t cap)
{
	char digits[24];
	int len = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)n), o = 0;
	for (int i = 0; i < len && (size_t)o + 2 < cap; i++) {
		if (i && (len - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

/* "asn: 1,234 prefixes from FILE (pfx2as, 3 bad lines, first at FILE:17)", then the first bad lines. */
static void say_loaded(const en_ctx *e, const char *what, const char *unit, const char *units,
                       const char *path)
{
	const en_load_info *in = en_last_load(e);
	char n[32], b[32], bad[CFG_PATH_MAX + 64] = "";
	if (in->bad)
		snprintf(bad, sizeof(bad), "%s%s bad line%s, first at %s:%lu", in->format[0] ? ", " : "",
		         grouped(in->bad, b, sizeof(b)), in->bad == 1 ? "" : "s", path, in->first_bad);
	say(LOG_NOTICE, "%s: %s %s from %s%s%s%s%s", what, grouped(in->entries, n, sizeof(n)),
	    in->entries == 1 ? unit : units, path,
	    in->format[0] || in->bad ? " (" : "", in->format, bad, in->format[0] || in->bad ? ")" : "");
	for (unsigned i = 0; i < in->n_msgs; i++)
		say(LOG_WARNING, "%s: skipped %s", what, in->msgs[i]);
}

static int live_setup(const cfg *c, en_ctx *e, char *err, size_t errlen)
{
	en_live_cfg lc;
	en_live_defaults(&lc);
	for (unsigned i = 0; i < c->n_ptr_server && i < EN_MAX_SERVERS; i++) {
		snprintf(lc.server[i].host, sizeof(lc.server[i].host), "%s", c->ptr_server[i].host);
		lc.server[i].port = c->ptr_server[i].port;
	}
	lc.n_servers = c->n_ptr_server < EN_MAX_SERVERS ? c->n_ptr_server : EN_MAX_SERVERS;
	lc.timeout_s = c->ptr_timeout;
	lc.cache_max = c->ptr_cache;
	lc.budget = c->ptr_budget;
	return en_live_enable(e, &lc, err, errlen);
}

/* Loads the enrichment the settings ask for into *out (NULL when none). Returns 0 or -1. */
static int load_enrichment(const cfg *c, en_ctx **out)
{
	char err[CFG_PATH_MAX + 256];
	en_ctx *e = NULL;
	*out = NULL;
	if (!c->n_asn_file && !c->ptr_file[0] && !c->ptr_live)
		return 0;
	if (en_new(&e) != 0) {
		say(LOG_ERR, "failed to set up enrichment (out of memory)");
		return -1;
	}
	for (unsigned i = 0; i < c->n_asn_file; i++) {
		if (en_asn_load(e, c->asn_file[i], err, sizeof(err)) != 0)
			goto fail;
		say_loaded(e, "asn", "prefix", "prefixes", c->asn_file[i]);
	}
	if (c->ptr_file[0]) {
		if (en_ptr_load(e, c->ptr_file, err, sizeof(err)) != 0)
			goto fail;
		say_loaded(e, "ptr", "name", "names", c->ptr_file);
	}
	if (c->ptr_live && live_setup(c, e, err, sizeof(err)) != 0)
		goto fail;
	*out = e;
	return 0;
fail:
	say(LOG_ERR, "%s", err);
	en_free(e);
	return -1;
}

static void say_enrich_stats(const en_ctx *e)
{
	en_stats_t s;
	en_stats(e, &s);
	if (!s.live)
		return;
	say(LOG_NOTICE, "ptr live: %llu queries (%llu names, %llu NXDOMAIN, %llu timeouts, %llu errors), "
	    "%llu cache hits, %llu over budget, %llu paused, %llu evictions",
	    (unsigned long long)s.live_queries, (unsigned long long)s.live_names,
	    (unsigned long long)s.live_nxdomain, (unsigned long long)s.live_timeouts,
	    (unsigned long long)s.live_errors, (unsigned long long)s.live_hits,
	    (unsigned long long)s.live_over_budget, (unsigned long long)s.live_paused,
	    (unsigned long long)s.live_evictions);
}

int main(int argc, char **argv)
{
	static args a;
	cfg c;
	if (parse_args(argc, argv, &a) != 0 || apply_settings(argc, argv, &a, &c) != 0)
		return 1;
	if (a.check) {
		printf("settings ok\n");
		return 0;
	}
	if (!a.o.n_sensors && !a.o.n_rejects && !a.o.interface) {
		fprintf(stderr, "v6rep-ingest: nothing to read (give --sensor, --rejects or --interface)\n");
		return 1;
	}
	log_level = c.log_level;
	log_syslog = c.log_syslog;
	if (log_syslog)
		openlog("v6rep-ingest", LOG_PID, LOG_MAIL);
	a.o.sensors = a.sensors;
	a.o.rejects = a.rejects;
	a.o.stop = &stop_flag;
	a.o.follow_limit_s = a.follow_s;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	en_ctx *en;
	if (load_enrichment(&c, &en) != 0)
		return 1;
	a.o.enrich = en;

	store *st;
	if (store_open(&st, c.db, 0, (size_t)c.map_size) != 0) {
		fprintf(stderr, "v6rep-ingest: %s\n", store_open_error());
		en_free(en);
		return 2;
	}
	store_set_journal_limit(st, c.journal_size);
	ing_stats stats;
	int rc = ing_run(&c, &a.o, st, say, &stats);
	if (a.o.report)
		ing_print_report(stdout, &stats);
	else
		say(LOG_NOTICE, "%llu SYNs, %llu rejections, %llu offender attempts: %llu listed, %llu renewed, "
		    "%llu aggregates", (unsigned long long)stats.syns, (unsigned long long)stats.rejects,
		    (unsigned long long)stats.offenders, (unsigned long long)stats.listed,
		    (unsigned long long)stats.renewed, (unsigned long long)stats.aggregates);
	if (en)
		say_enrich_stats(en);
	en_free(en);
	store_close(st);
	return rc ? 2 : 0;
}
