/* ingest.h: the ingest pipeline: inputs merged in time order -> attempts -> association -> commits. */
#ifndef V6R_INGEST_H
#define V6R_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../zone/cfg.h"
#include "../zone/store.h"
#include "aggr.h"

typedef struct ing_opts {
	const char *const *sensors;   /* capture files or folders of rotated captures */
	size_t n_sensors;
	const char *const *rejects;   /* production MTA logs (plain or gzip) */
	size_t n_rejects;
	const char *p0f_log;          /* optional p0f -o log giving OS labels per (address, port) */
	const char *interface;        /* live capture */
	const char *bpf;              /* its filter (NULL: SYNs to the sensor port) */
	bool follow;                  /* keep reading: tail logs, new capture files, live capture */
	bool report;                  /* collect the seed's tables */
	const volatile int *stop;     /* set by a signal handler to end --follow cleanly */
	uint64_t follow_limit_s;      /* stop --follow after this many seconds (tests); 0 = never */
	struct en_ctx *enrich;        /* ASN and PTR data (enrich.h), owned by the caller; NULL = none */
} ing_opts;

typedef struct ing_stats {
	uint64_t syns, attempts, v6_attempts, v4_attempts, rejects, rejects_v6;
	uint64_t offenders, legit, shared, bad_lines, file_errors, commits;
	uint64_t listed, renewed, aggregates, skipped_excluded, skipped_operator,
	         skipped_misbehaving, skipped_stale, v4_listed, withdrawn, held, skipped_clean;
	ag_report rep;
} ing_stats;

/* Messages go through this (level: syslog.h values). */
typedef void (*ing_log_fn)(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Runs ingest with settings c (CFG_INGEST options) on store st. One-shot: reads every input from
 * where the store's cursors say it stopped, commits, returns. --follow: keeps going, committing
 * every c->batch_interval seconds, until *o->stop. Returns 0, or a negative error when the store
 * fails (inputs that fail are reported and skipped, never fatal).
 */
int ing_run(const cfg *c, const ing_opts *o, store *st, ing_log_fn log, ing_stats *stats);

/* Prints the seed's two tables and the counters. */
void ing_print_report(FILE *f, const ing_stats *s);

#endif
