/* main.c: `v6rep`, the operator tool: global options and settings, then one command (tool/cmd*.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../zone/cfg.h"
#include "cmd.h"

#define MAX_OVERRIDES 64

/* A setting given on the command line (--name VALUE or --name=VALUE), applied after --config. */
typedef struct override {
	char name[64];
	const char *value;
} override;

static void usage(FILE *f)
{
	fprintf(f, "usage: v6rep [--db DIR] [--config FILE] [--SETTING VALUE...] COMMAND [ARGS]\n"
	           "Manages the listings and exclusions of a v6rep store.\n\ncommands:\n");
	for (const cmd_def *d = cmd_table; d->name; d++)
		fprintf(f, "  %-14s %s\n", d->name, d->summary);
	fprintf(f, "\nglobal options:\n"
	           "  --config FILE                    read settings from FILE first\n"
	           "  --help                           this text; v6rep COMMAND --help for a command\n"
	           "settings (as options here or as \"name value\" lines in the --config file):\n");
	cfg_print_help(f, CFG_TOOL);
	fprintf(f, "\nexit status: 0 ok, 1 bad input (nothing changed), 2 store or system failure\n");
}

/* Splits "--name=value" / "--name value" at argv[*i]; advances *i past a separate value. */
static int split_option(int argc, char **argv, int *i, override *o)
{
	const char *arg = argv[*i] + 2;
	const char *eq = strchr(arg, '=');
	size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
	if (n == 0 || n >= sizeof(o->name)) {
		fprintf(stderr, "v6rep: unknown option '%s' (see v6rep --help)\n", argv[*i]);
		return -1;
	}
	memcpy(o->name, arg, n);
	o->name[n] = '\0';
	if (eq) {
		o->value = eq + 1;
	} else if (*i + 1 < argc) {
		o->value = argv[++*i];
	} else {
		fprintf(stderr, "v6rep: option '--%s' needs a value\n", o->name);
		return -1;
	}
	return 0;
}

/*
 * Reads the global options up to the command. Returns the command's index in argv, 0 after
 * --help, or -1 (reported) on a bad option.
 */
static int parse_global(int argc, char **argv, cmd_ctx *ctx, override *ov, size_t *n_ov)
{
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		override o;
		if (strncmp(argv[i], "--", 2) != 0 || split_option(argc, argv, &i, &o) < 0) {
			if (strncmp(argv[i], "--", 2) != 0)
				fprintf(stderr, "v6rep: unknown option '%s' (see v6rep --help)\n", argv[i]);
			return -1;
		}
		if (strcmp(o.name, "config") == 0) {
			ctx->config_path = o.value;
		} else if (!cfg_known(o.name, CFG_TOOL)) {
			fprintf(stderr, "v6rep: unknown option '--%s' (see v6rep --help)\n", o.name);
			return -1;
		} else if (*n_ov < MAX_OVERRIDES) {
			ov[(*n_ov)++] = o;
		} else {
			fprintf(stderr, "v6rep: too many options\n");
			return -1;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return -1;
	}
	return i;
}

/* Settings: defaults, then the --config file, then the command-line settings; then completed. */
static int load_settings(cmd_ctx *ctx, const override *ov, size_t n_ov)
{
	char err[1024];
	cfg_defaults(&ctx->c);
	if (ctx->config_path &&
	    cfg_load_file(&ctx->c, ctx->config_path, false, NULL, err, sizeof(err)) < 0)
		goto fail;
	for (size_t k = 0; k < n_ov; k++)
		if (cfg_set(&ctx->c, ov[k].name, ov[k].value, "command line", err, sizeof(err)) < 0)
			goto fail;
	if (cfg_finish(&ctx->c, CFG_TOOL, err, sizeof(err)) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "v6rep: %s\n", err);
	return -1;
}

int main(int argc, char **argv)
{
	static cmd_ctx ctx;     /* the settings are large: not on the stack */
	static override ov[MAX_OVERRIDES];
	size_t n_ov = 0;
	int i = parse_global(argc, argv, &ctx, ov, &n_ov);
	if (i <= 0)
		return i == 0 ? CMD_EXIT_OK : CMD_EXIT_INPUT;
	const cmd_def *d = cmd_find(argv[i]);
	if (!d) {
		fprintf(stderr, "v6rep: unknown command '%s' (see v6rep --help)\n", argv[i]);
		return CMD_EXIT_INPUT;
	}
	/* Help works even when the settings do not load. */
	if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0)) {
		cmd_usage(stdout, d);
		return CMD_EXIT_OK;
	}
	if (!(d->flags & CMD_NO_CFG) &&
	    (load_settings(&ctx, ov, n_ov) < 0 || cmd_ctx_finish(&ctx) != 0))
		return CMD_EXIT_INPUT;
	ctx.now = (uint64_t)time(NULL);
	optind = 0;    /* getopt restarts (GNU: full re-initialisation) on the command's argv */
	return d->run(&ctx, argc - i, argv + i);
}
