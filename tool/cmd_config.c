/* cmd_config.c: `v6rep config-check` and `config-sample`: the settings file, checked or shown. */
#include "cmd.h"

#include <getopt.h>

#include "../zone/err.h"

/* Validates FILE for both programs; every problem is reported as FILE:LINE (or as a whole). */
int cmd_config_check(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("config-check", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("config-check", c);
	if (!cmd_operands("config-check", argc, argv, 1))
		return CMD_EXIT_INPUT;
	const char *path = argv[optind];
	char err[512];
	cfg_defaults(&ctx->c);
	int rc = cfg_load_file(&ctx->c, path, true, stderr, err, sizeof(err));
	if (rc < 0) {
		/* Line problems went to stderr as they were found; open and read failures did not. */
		if (rc == V6R_EIO)
			fprintf(stderr, "%s\n", err);
		cmd_err("config-check", "%s has errors", path);
		return CMD_EXIT_INPUT;
	}
	/* cfg_finish completes names in place; the server needs more (a zone) than the tool. */
	int ex = CMD_EXIT_OK;
	if (cfg_finish(&ctx->c, CFG_SERVER | CFG_TOOL, err, sizeof(err)) < 0) {
		cmd_err("config-check", "%s: %s", path, err);
		ex = CMD_EXIT_INPUT;
	} else {
		printf("%s: ok\n", path);
		ex = cmd_flush("config-check");
	}
	return ex;
}

int cmd_config_sample(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("config-sample", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("config-sample", c);
	if (!cmd_operands("config-sample", argc, argv, 0))
		return CMD_EXIT_INPUT;
	cfg_print_sample(stdout);
	return cmd_flush("config-sample");
}
