/* cmd.h: the commands of the operator tool `v6rep`, and the helpers they share. */
#ifndef V6R_CMD_H
#define V6R_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../zone/addr.h"
#include "../zone/cfg.h"
#include "../zone/store.h"

/* Exit codes of every command (and of the program). */
#define CMD_EXIT_OK    0   /* done (also "not listed" for lookup) */
#define CMD_EXIT_INPUT 1   /* bad input: arguments, import file, config; nothing was changed */
#define CMD_EXIT_STORE 2   /* the store (or memory, or output) failed; nothing was half written */

/* What every command gets: the settings (after --config and --db) and the clock. */
typedef struct cmd_ctx {
	cfg c;
	const char *config_path;    /* --config FILE or NULL */
	uint64_t now;               /* unix seconds, read once at start */
	char zone[CFG_NAME_MAX];    /* the apex without its trailing dot, for {zone}; "" when unset */
	char default_reason[CFG_TEXT_MAX * 2];  /* with {zone} substituted, as v6repd does */
} cmd_ctx;

/*
 * Derives ctx->zone and ctx->default_reason from the loaded settings. Returns 0, or
 * CMD_EXIT_INPUT after reporting a bad default-reason template.
 */
int cmd_ctx_finish(cmd_ctx *ctx);

/*
 * A command runs with argv[0] = its name and returns an exit code (CMD_EXIT_*). It prints its
 * own results on stdout and its problems on stderr, prefixed "v6rep <name>: ". The caller sets
 * optind = 0 first, so the command's getopt starts afresh on its own argv.
 */
typedef int (*cmd_run_fn)(cmd_ctx *ctx, int argc, char **argv);

/* Flags of a command definition. */
#define CMD_NO_CFG 0x1u   /* runs before the settings are loaded (config-check, config-sample) */

typedef struct cmd_def {
	const char *name;
	cmd_run_fn run;
	unsigned flags;
	const char *args;       /* argument synopsis, "[--replace] FILE|-" */
	const char *summary;    /* one line for the command list */
	const char *help;       /* options and details for `v6rep COMMAND --help` */
} cmd_def;

/* The command table, ended by an entry with a NULL name. */
extern const cmd_def cmd_table[];

/* Returns the command called name, or NULL. */
const cmd_def *cmd_find(const char *name);

/* Prints the usage of one command (synopsis, summary, help) to f. */
void cmd_usage(FILE *f, const cmd_def *d);

/* The commands (tool/cmd_*.c). */
int cmd_import(cmd_ctx *ctx, int argc, char **argv);
int cmd_add(cmd_ctx *ctx, int argc, char **argv);
int cmd_del(cmd_ctx *ctx, int argc, char **argv);
int cmd_allow(cmd_ctx *ctx, int argc, char **argv);
int cmd_list(cmd_ctx *ctx, int argc, char **argv);
int cmd_export(cmd_ctx *ctx, int argc, char **argv);
int cmd_lookup(cmd_ctx *ctx, int argc, char **argv);
int cmd_stats(cmd_ctx *ctx, int argc, char **argv);
int cmd_expire(cmd_ctx *ctx, int argc, char **argv);
int cmd_serial(cmd_ctx *ctx, int argc, char **argv);
int cmd_config_check(cmd_ctx *ctx, int argc, char **argv);
int cmd_config_sample(cmd_ctx *ctx, int argc, char **argv);

/* ---- Helpers shared by the commands (tool/cmd.c). ---- */

/* Prints "v6rep <cmd>: <message>\n" on stderr. */
void cmd_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Parses the common part of a command line: getopt_long over argv with the given options plus
 * --help. Used as: while ((c = cmd_getopt(...)) != -1). Returns the option's val, -1 at the end,
 * 'h' for --help, '?' for an unknown option or a missing argument (already reported).
 */
struct option;
int cmd_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/*
 * Handles the end of option parsing: with 'h' prints the command's usage and returns
 * CMD_EXIT_OK; with '?' (already reported) returns CMD_EXIT_INPUT. Any other value (an option
 * the caller forgot to handle) is reported and gives CMD_EXIT_INPUT.
 */
int cmd_opt_end(const char *cmd, int c);

/*
 * Checks that exactly `want` operands remain after the options (argv[optind..argc)); reports and
 * returns false if not.
 */
bool cmd_operands(const char *cmd, int argc, char **argv, int want);

/*
 * Opens the store named by the settings (db, map_size), read-only with STORE_RDONLY. On failure
 * reports "failed to open store DIR (reason)" and returns CMD_EXIT_STORE; returns 0 otherwise.
 */
int cmd_open_store(const cmd_ctx *ctx, const char *cmd, unsigned flags, store **st);

/*
 * Reports a failed store operation: "failed to <what> (<v6r_strerror>: <store_lasterr>)".
 * Returns CMD_EXIT_STORE.
 */
int cmd_store_fail(const char *cmd, const store *st, const char *what, int rc);

/*
 * Parses a prefix given on the command line ("2001:db8::/32", "192.0.2.1"). On failure reports
 * the quoted text and the reason (suggesting the masked prefix when host bits are set) and
 * returns CMD_EXIT_INPUT; returns 0 otherwise. flags as for addr_parse.
 */
int cmd_parse_prefix(const char *cmd, const char *text, unsigned flags, addr_pfx *p);

/* Writes t as RFC 3339 UTC ("2024-05-01T12:00:00Z") into buf, or "-" for 0. */
#define CMD_TIME_STRLEN 32
void cmd_fmt_time(uint64_t t, char *buf, size_t cap);

/* Writes "a.b.c.d" for a code. */
void cmd_fmt_code(const uint8_t code[4], char *buf, size_t cap);

/* Writes n bytes of s to f, with control characters shown as '?' (for human-readable output). */
void cmd_put_text(FILE *f, const char *s, size_t n);

/*
 * Checks a reason given on the command line: at most STORE_REASON_MAX bytes, no control
 * characters (they cannot be written in the listings format). Reports and returns
 * CMD_EXIT_INPUT, or 0.
 */
int cmd_check_reason(const char *cmd, const char *reason);

/* Flushes stdout; reports a write failure and returns CMD_EXIT_STORE, or 0. */
int cmd_flush(const char *cmd);

#endif
