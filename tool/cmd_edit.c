/* cmd_edit.c: `v6rep add`, `allow` and `del`: one entry changed in one write transaction. */
#include "cmd.h"

#include <getopt.h>
#include <string.h>

#include "../zone/err.h"

/* One put: the entry to write, and what the transaction found and did. */
typedef struct edit_put {
	store_entry e;
	bool existed;          /* an entry (of either kind) was stored for the prefix */
	uint32_t serial;
} edit_put;

/* Writes the entry, keeping the created time of an existing entry for the same prefix. */
static int put_txn(store_txn *t, void *arg)
{
	edit_put *p = arg;
	store_entry old;
	int rc = store_get(t, &p->e.pfx, &old);
	if (rc < 0 && rc != V6R_ENOTFOUND)
		return rc;
	p->existed = rc == 0;
	p->e.created = rc == 0 && old.created ? old.created : p->e.updated;
	rc = store_put(t, &p->e);
	p->serial = store_txn_serial(t);
	return rc;
}

/* Runs put_txn and reports the outcome; `what` names the kind ("listed", "excluded"). */
static int edit_commit(const cmd_ctx *ctx, const char *cmd, edit_put *p, const char *what)
{
	store *st = NULL;
	int ex = cmd_open_store(ctx, cmd, 0, &st);
	if (ex)
		return ex;
	char pfx[ADDR_PFX_STRLEN];
	addr_format(&p->e.pfx, pfx, sizeof(pfx));
	int rc = store_write(st, put_txn, p);
	if (rc == V6R_ECODE || rc == V6R_ERANGE) {
		cmd_err(cmd, "failed to store %s (%s)", pfx, v6r_strerror(rc));
		ex = CMD_EXIT_INPUT;
	} else if (rc < 0) {
		char what_buf[ADDR_PFX_STRLEN + 16];
		snprintf(what_buf, sizeof(what_buf), "store %s", pfx);
		ex = cmd_store_fail(cmd, st, what_buf, rc);
	} else {
		printf("%s %s (%s), serial %u\n", what, pfx, p->existed ? "updated" : "added",
		       (unsigned)p->serial);
		ex = cmd_flush(cmd);
	}
	store_close(st);
	return ex;
}

int cmd_add(cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "code", required_argument, NULL, 'c' },
		{ "reason", required_argument, NULL, 'r' },
		{ "expires", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	const char *code = NULL, *reason = "", *expires = NULL;
	int c;
	while ((c = cmd_getopt("add", argc, argv, "c:r:e:", lo)) != -1) {
		if (c == 'c')
			code = optarg;
		else if (c == 'r')
			reason = optarg;
		else if (c == 'e')
			expires = optarg;
		else
			return cmd_opt_end("add", c);
	}
	if (!cmd_operands("add", argc, argv, 1))
		return CMD_EXIT_INPUT;

	edit_put p = { .e = { .kind = STORE_LISTING, .origin = STORE_ORIGIN_OPERATOR } };
	int ex = cmd_parse_prefix("add", argv[optind], 0, &p.e.pfx);
	if (ex)
		return ex;
	memcpy(p.e.code, ctx->c.default_code, 4);
	if (code && cfg_parse_code(code, p.e.code) < 0) {
		cmd_err("add", "bad code '%s' (want 127.0.0.N, inside 127.0.0.0/8)", code);
		return CMD_EXIT_INPUT;
	}
	if ((ex = cmd_check_reason("add", reason)) != 0)
		return ex;
	p.e.reason = reason;
	p.e.reason_len = strlen(reason);
	p.e.updated = ctx->now;
	if (expires) {
		uint64_t secs;
		if (cfg_parse_duration(expires, &secs) < 0 || secs == 0) {
			cmd_err("add", "bad duration '%s' (want N[s|m|h|d|w] greater than 0)", expires);
			return CMD_EXIT_INPUT;
		}
		p.e.expires = ctx->now + secs;
	}
	return edit_commit(ctx, "add", &p, "listed");
}

int cmd_allow(cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = "";
	int c;
	while ((c = cmd_getopt("allow", argc, argv, "r:", lo)) != -1) {
		if (c == 'r')
			reason = optarg;
		else
			return cmd_opt_end("allow", c);
	}
	if (!cmd_operands("allow", argc, argv, 1))
		return CMD_EXIT_INPUT;

	edit_put p = { .e = { .kind = STORE_EXCLUSION, .origin = STORE_ORIGIN_OPERATOR } };
	int ex = cmd_parse_prefix("allow", argv[optind], 0, &p.e.pfx);
	if (ex)
		return ex;
	if ((ex = cmd_check_reason("allow", reason)) != 0)
		return ex;
	p.e.reason = reason;
	p.e.reason_len = strlen(reason);
	p.e.updated = ctx->now;
	return edit_commit(ctx, "allow", &p, "excluded");
}

typedef struct edit_del {
	addr_pfx pfx;
	uint32_t serial;
} edit_del;

static int del_txn(store_txn *t, void *arg)
{
	edit_del *d = arg;
	int rc = store_del(t, &d->pfx);
	d->serial = store_txn_serial(t);
	return rc;
}

int cmd_del(cmd_ctx *ctx, int argc, char **argv)
{
	int c;
	while ((c = cmd_getopt("del", argc, argv, "", NULL)) != -1)
		return cmd_opt_end("del", c);
	if (!cmd_operands("del", argc, argv, 1))
		return CMD_EXIT_INPUT;

	edit_del d = { .serial = 0 };
	int ex = cmd_parse_prefix("del", argv[optind], 0, &d.pfx);
	if (ex)
		return ex;
	store *st = NULL;
	if ((ex = cmd_open_store(ctx, "del", 0, &st)) != 0)
		return ex;
	char pfx[ADDR_PFX_STRLEN];
	addr_format(&d.pfx, pfx, sizeof(pfx));
	int rc = store_write(st, del_txn, &d);
	if (rc == V6R_ENOTFOUND) {
		cmd_err("del", "%s: not listed", pfx);
		ex = CMD_EXIT_INPUT;
	} else if (rc < 0) {
		char what[ADDR_PFX_STRLEN + 16];
		snprintf(what, sizeof(what), "delete %s", pfx);
		ex = cmd_store_fail("del", st, what, rc);
	} else {
		printf("deleted %s, serial %u\n", pfx, (unsigned)d.serial);
		ex = cmd_flush("del");
	}
	store_close(st);
	return ex;
}
