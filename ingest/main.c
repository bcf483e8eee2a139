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
	        "                    [--interface IF [--bpf FILTER]] [--follow] [--report] [--config FILE]\n"
	        "                    [--SETTING VALUE...]\n"
	        "Reads sensor SYN captures and production MTA reject logs, ties IPv6 senders to\n"
	        "DNSBL-rejected IPv4 addresses and lists them, with their evidence, in the store.\n\n"
	        "  --sensor PATH      capture file (pcap/pcapng) or folder of rotated captures (repeatable)\n"
	        "  --rejects FILE     Postfix/postscreen/Exim/Sendmail log, plain or gzip (repeatable)\n"
	        "  --p0f FILE         p0f -o log: OS labels for the captured SYNs\n"
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
		} else if (!cfg_known(o + 2, CFG_INGEST)) {
			fprintf(stderr, "v6rep-ingest: unknown option %s (see --help)\n", o);
			return -1;
		}
	}
	return 0;
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
		const char *o = argv[i];
		if (strncmp(o, "--", 2) != 0 || !cfg_known(o + 2, CFG_INGEST))
			continue;
		if (cfg_set(c, o + 2, argv[++i], "command line", err, sizeof(err)) != 0) {
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

	store *st;
	if (store_open(&st, c.db, 0, (size_t)c.map_size) != 0) {
		fprintf(stderr, "v6rep-ingest: %s\n", store_open_error());
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
	store_close(st);
	return rc ? 2 : 0;
}
