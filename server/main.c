/* main.c: v6repd, the v6rep DNSBL server: options and settings, start-up order, signals. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "../zone/cfg.h"
#include "../zone/err.h"
#include "../zone/store.h"
#include "answer.h"
#include "log.h"
#include "net.h"
#include "notify.h"
#include "xfr.h"

#ifndef V6R_VERSION
#define V6R_VERSION "0.1.0"
#endif

#define ERRLEN 1024

static const char usage_text[] =
	"usage: v6repd --db DIR --zone ZONE --listen ADDR:PORT [--listen ...] [--ns NAME ...]\n"
	"              [--allow-transfer ADDR[/LEN] ...] [--notify ADDR:PORT ...]\n"
	"              [--tsig-key NAME:ALG:SECRET] [--threads N] [--config FILE] [--user USER]\n"
	"              [--log-level L] [--syslog]\n"
	"              [--check-config] [--help] [--version]\n";

/* The command line as given: kept so that SIGHUP can apply it again over a reread file. */
typedef struct opts {
	int argc;
	char **argv;
	const char *config;    /* --config FILE or NULL */
	bool check, help, version;
} opts;

/* What the main loop needs to stop and reload. */
typedef struct v6d {
	uv_loop_t loop;
	uv_signal_t sig_term, sig_int, sig_hup;
	const opts *o;
	const cfg *boot;       /* the settings the server started with */
	unsigned n_sig;        /* signal watchers initialised */
	int exit_rc;           /* 1 when stopping found a problem */
	net_server *net;
	store *st;
	xfr_srv *xfr;          /* AXFR/IXFR and signed queries (server/xfr.h) */
	notify *ntf;           /* NOTIFY to the secondaries (server/notify.h) */
} v6d;

static void usage(FILE *f)
{
	fputs(usage_text, f);
}

static void print_help(void)
{
	usage(stdout);
	printf("\nRuns in the foreground; SIGHUP rereads the settings, SIGTERM or SIGINT stops.\n\n"
	       "  %-32s %s\n  %-32s %s\n  %-32s %s\n\nSettings (also accepted in the config file, "
	       "without the dashes):\n",
	       "--config FILE", "read settings from FILE (the command line overrides it)",
	       "--check-config", "check the settings, print the problems, exit 0 or 1",
	       "--help, --version", "this text; the version");
	cfg_print_help(stdout, CFG_SERVER);
}

/* Options without a value; --syslog is the one setting among them (--syslog=no works too). */
static bool opt_is_flag(const char *name)
{
	return !strcmp(name, "check-config") || !strcmp(name, "help") ||
	       !strcmp(name, "version") || !strcmp(name, "syslog");
}

static bool opt_is_bool(const char *v)
{
	static const char *const words[] = { "yes", "no", "true", "false", "on", "off", "1", "0" };

	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (!strcmp(v, words[i]))
			return true;
	return false;
}

/*
 * Splits argv[i] ("--name", "--name=value") into its name and, when it takes one, its value
 * (from after '=' or the next argument). Returns the number of arguments used (1 or 2), or 0
 * with a message in err.
 */
static int opt_split(int argc, char **argv, int i, char *name, size_t cap, const char **value,
                     char *err, size_t errlen)
{
	const char *a = argv[i];
	const char *eq;
	size_t n;

	*value = NULL;
	if (!strcmp(a, "-h") || !strcmp(a, "-V")) {
		snprintf(name, cap, "%s", a[1] == 'h' ? "help" : "version");
		return 1;
	}
	if (strncmp(a, "--", 2) != 0 || !a[2]) {
		snprintf(err, errlen, "unexpected argument '%s'", a);
		return 0;
	}
	a += 2;
	eq = strchr(a, '=');
	n = eq ? (size_t)(eq - a) : strlen(a);
	if (n >= cap) {
		snprintf(err, errlen, "unknown option '--%s'", a);
		return 0;
	}
	memcpy(name, a, n);
	name[n] = '\0';
	if (!opt_is_flag(name) && strcmp(name, "config") != 0 && !cfg_known(name, CFG_SERVER)) {
		snprintf(err, errlen, "unknown option '--%s'", name);
		return 0;
	}
	if (eq || opt_is_flag(name)) {
		*value = eq ? eq + 1 : NULL;
		if (!eq && !strcmp(name, "syslog") && i + 1 < argc && opt_is_bool(argv[i + 1])) {
			*value = argv[i + 1];   /* "--syslog yes", as --help shows it */
			return 2;
		}
		return 1;
	}
	if (i + 1 >= argc) {
		snprintf(err, errlen, "option '--%s' needs a value", name);
		return 0;
	}
	*value = argv[i + 1];
	return 2;
}

/* First pass: the options that are not settings, and the shape of the whole command line. */
static int opts_scan(int argc, char **argv, opts *o, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	o->argc = argc;
	o->argv = argv;
	for (int i = 1; i < argc;) {
		char name[64];
		const char *v;
		int used = opt_split(argc, argv, i, name, sizeof name, &v, err, errlen);
		if (used == 0)
			return V6R_EINVAL;
		if (!strcmp(name, "config"))
			o->config = v;
		else if (!strcmp(name, "check-config"))
			o->check = true;
		else if (!strcmp(name, "help"))
			o->help = true;
		else if (!strcmp(name, "version"))
			o->version = true;
		i += used;
	}
	return 0;
}

/*
 * Second pass: every setting on the command line, through the option table. With report, all
 * problems are printed there and counted; otherwise the first one is returned.
 */
static int opts_apply(const opts *o, cfg *c, FILE *report, unsigned *errors, char *err,
                      size_t errlen)
{
	for (int i = 1; i < o->argc;) {
		char name[64];
		const char *v;
		int used = opt_split(o->argc, o->argv, i, name, sizeof name, &v, err, errlen);
		int rc = 0;
		i += used;
		if (!strcmp(name, "syslog"))
			rc = cfg_set(c, "syslog", v ? v : "yes", "command line", err, errlen);
		else if (cfg_known(name, CFG_SERVER))
			rc = cfg_set(c, name, v, "command line", err, errlen);
		if (rc == 0)
			continue;
		if (!report)
			return rc;
		fprintf(report, "%s\n", err);
		(*errors)++;
	}
	return 0;
}

/*
 * Builds settings in the documented order: defaults, then the config file, then the command
 * line (which overrides), then cfg_finish. Returns 0 or an error with a message in err.
 */
static int settings_build(const opts *o, cfg *c, char *err, size_t errlen)
{
	int rc;

	cfg_defaults(c);
	if (o->config && (rc = cfg_load_file(c, o->config, false, NULL, err, errlen)) < 0)
		return rc;
	if ((rc = opts_apply(o, c, NULL, NULL, err, errlen)) < 0)
		return rc;
	return cfg_finish(c, CFG_SERVER, err, errlen);
}

/* Loads the config file reporting every problem on stderr; returns how many there were. */
static unsigned check_file(cfg *c, const char *path)
{
	char err[ERRLEN] = "", *text = NULL;
	size_t len = 0;
	unsigned n = 0;
	FILE *mem = open_memstream(&text, &len);
	int rc = cfg_load_file(c, path, true, mem ? mem : stderr, err, sizeof err);

	if (mem) {
		fclose(mem);
		for (size_t i = 0; i < len; i++)
			n += text[i] == '\n';
		fputs(text, stderr);
		free(text);
	}
	if (rc < 0 && n == 0) {
		fprintf(stderr, "%s\n", err);  /* the file could not be read at all */
		n = 1;
	}
	return n;
}

/* --check-config: every problem on stderr (file:line for the config file); exit 0 or 1. */
static int check_config(const opts *o)
{
	static cfg c;
	static ans_zone z;
	char err[ERRLEN] = "";
	unsigned errors = 0;

	cfg_defaults(&c);
	if (o->config)
		errors += check_file(&c, o->config);
	opts_apply(o, &c, stderr, &errors, err, sizeof err);
	if (errors == 0 && cfg_finish(&c, CFG_SERVER, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		errors++;
	}
	if (errors == 0 && ans_zone_init(&z, &c, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		errors++;
	}
	if (errors) {
		fprintf(stderr, "v6repd: %u problem%s found\n", errors, errors == 1 ? "" : "s");
		return 1;
	}
	printf("v6repd: settings are valid (zone %s, %u listen address%s)\n", c.zone, c.n_listen,
	       c.n_listen == 1 ? "" : "es");
	return 0;
}

/* Gives up root for the user of --user; refusing to go on when that fails. */
static int drop_privileges(const char *user)
{
	if (!user[0]) {
		if (geteuid() == 0)
			log_msg(LOG_WARNING, "running as root (no --user given)");
		return 0;
	}
	errno = 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_msg(LOG_ERR, "failed to find user %s (%s)", user,
		        errno ? strerror(errno) : "no such user");
		return V6R_EINVAL;
	}
	if (geteuid() == pw->pw_uid && getuid() == pw->pw_uid && getgid() == pw->pw_gid)
		return 0;
	const char *what = "set supplementary groups for";
	if (initgroups(user, pw->pw_gid) < 0)
		goto fail;
	what = "set group of";
	if (setgid(pw->pw_gid) < 0)
		goto fail;
	what = "switch to";
	if (setuid(pw->pw_uid) < 0)
		goto fail;
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0)) {
		errno = EPERM;
		what = "keep root away from";
		goto fail;
	}
	log_msg(LOG_INFO, "running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
	        (unsigned)pw->pw_gid);
	return 0;
fail:
	log_msg(LOG_ERR, "failed to %s user %s (%s)", what, user, strerror(errno));
	return V6R_EINVAL;
}

/* Warns about settings that changed in the file but only take effect on a restart. */
static void reload_warn_restart(const cfg *old, const cfg *nc)
{
	const char *changed[8];
	unsigned n = 0;

	if (old->n_listen != nc->n_listen ||
	    memcmp(old->listen, nc->listen, sizeof old->listen[0] * old->n_listen) != 0)
		changed[n++] = "listen";
	if (old->threads != nc->threads)
		changed[n++] = "threads";
	if (strcmp(old->db, nc->db) != 0)
		changed[n++] = "db";
	if (old->map_size != nc->map_size)
		changed[n++] = "map-size";
	if (strcmp(old->user, nc->user) != 0)
		changed[n++] = "user";
	if (old->log_syslog != nc->log_syslog)
		changed[n++] = "syslog";
	if (old->tcp_max_connections != nc->tcp_max_connections)
		changed[n++] = "tcp-max-connections";
	for (unsigned i = 0; i < n; i++)
		log_msg(LOG_WARNING, "setting %s changed; it takes effect only after a restart",
		        changed[i]);
}

static void reload(v6d *d)
{
	char err[ERRLEN];
	cfg *nc = malloc(sizeof *nc);
	ans_zone *z = malloc(sizeof *z);
	uint32_t serial = 0;
	int rc = V6R_ENOMEM;

	snprintf(err, sizeof err, "out of memory");
	if (!nc || !z)
		goto fail;
	if ((rc = settings_build(d->o, nc, err, sizeof err)) < 0)
		goto fail;
	if ((rc = ans_zone_init(z, nc, err, sizeof err)) < 0)
		goto fail;
	if ((rc = xfr_srv_reload(d->xfr, nc, err, sizeof err)) < 0 ||
	    (rc = notify_reload(d->ntf, nc, err, sizeof err)) < 0)
		goto fail;
	if ((rc = net_reload(d->net, z, nc)) < 0) {
		snprintf(err, sizeof err, "%s", v6r_strerror(rc));
		goto fail;
	}
	reload_warn_restart(d->boot, nc);
	log_set_level(nc->log_level);
	(void)store_serial(d->st, &serial);
	log_msg(LOG_NOTICE, "reloaded settings: zone %s, serial %u", nc->zone, serial);
	free(nc);
	free(z);
	return;
fail:
	log_msg(LOG_ERR, "failed to reload settings (%s); still serving the old ones", err);
	free(nc);
	free(z);
}

static void signals_close(v6d *d);

static void on_signal(uv_signal_t *h, int signum)
{
	v6d *d = h->data;

	if (signum == SIGHUP) {
		log_msg(LOG_NOTICE, "SIGHUP: reloading settings%s%s",
		        d->o->config ? " from " : "", d->o->config ? d->o->config : "");
		reload(d);
		return;
	}
	log_msg(LOG_NOTICE, "%s: stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	if (net_stop(d->net, NULL) < 0)
		d->exit_rc = 1;
	xfr_srv_log_stats(d->xfr);
	notify_stop(d->ntf);
	d->ntf = NULL;
	signals_close(d);
}

static int signals_start(v6d *d)
{
	uv_signal_t *hs[] = { &d->sig_term, &d->sig_int, &d->sig_hup };
	int nums[] = { SIGTERM, SIGINT, SIGHUP };

	for (unsigned i = 0; i < 3; i++) {
		int rc = uv_signal_init(&d->loop, hs[i]);
		if (rc < 0) {
			log_msg(LOG_ERR, "failed to watch signal %d (%s)", nums[i], uv_strerror(rc));
			return V6R_EIO;
		}
		d->n_sig = i + 1;
		hs[i]->data = d;
		if ((rc = uv_signal_start(hs[i], on_signal, nums[i])) < 0) {
			log_msg(LOG_ERR, "failed to watch signal %d (%s)", nums[i], uv_strerror(rc));
			return V6R_EIO;
		}
	}
	return 0;
}

static void signals_close(v6d *d)
{
	uv_signal_t *hs[] = { &d->sig_term, &d->sig_int, &d->sig_hup };

	for (unsigned i = 0; i < d->n_sig; i++)
		if (!uv_is_closing((uv_handle_t *)hs[i]))
			uv_close((uv_handle_t *)hs[i], NULL);
}

static unsigned worker_count(const cfg *c)
{
	unsigned n = c->threads ? c->threads : uv_available_parallelism();

	if (n < 1)
		n = 1;
	return n > NET_MAX_WORKERS ? NET_MAX_WORKERS : n;
}

/* Binds, opens the store, drops privileges and starts the workers, in that order. */
static int startup(v6d *d, const cfg *c, const ans_zone *z, unsigned nthreads)
{
	char err[ERRLEN];

	if (net_bind(&d->net, c, nthreads, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	/* Read-only: the server never writes. A store that does not exist yet is created empty,
	 * so that v6repd --db DIR --zone ZONE serves (NXDOMAIN, test points) on a fresh machine. */
	if (store_open(&d->st, c->db, STORE_RDONLY, (size_t)c->map_size) < 0) {
		char why[512];
		snprintf(why, sizeof why, "%s", store_open_error());
		if (access(c->db, F_OK) == 0 || store_open(&d->st, c->db, 0, (size_t)c->map_size) < 0) {
			log_msg(LOG_ERR, "%s", why);
			return 1;
		}
		log_msg(LOG_NOTICE, "created an empty store in %s", c->db);
	}
	if (drop_privileges(c->user) < 0)
		return 1;
	if (xfr_srv_new(&d->xfr, d->st, c, err, sizeof err) < 0 ||
	    notify_start(&d->ntf, &d->loop, d->st, c, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	net_set_xfr(d->net, d->xfr);
	if (net_start(d->net, d->st, z, c, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "%s", err);
		return 1;
	}
	return 0;
}

/*
 * Runs the server until SIGTERM/SIGINT. The signal watchers come first, so that a signal sent
 * during start-up waits in the loop instead of killing the process half-way.
 */
static int serve(const opts *o, const cfg *c)
{
	static v6d d;
	static ans_zone z;
	char err[ERRLEN], where[1024];
	unsigned nthreads = worker_count(c);
	uint32_t serial = 0;
	int rc = 1;

	d.o = o;
	d.boot = c;
	if (uv_loop_init(&d.loop) < 0) {
		log_msg(LOG_ERR, "failed to create the main loop");
		return 1;
	}
	if (signals_start(&d) < 0)
		goto done;
	if (ans_zone_init(&z, c, err, sizeof err) < 0) {
		log_msg(LOG_ERR, "failed to render zone %s (%s)", c->zone, err);
		goto done;
	}
	if ((rc = startup(&d, c, &z, nthreads)) != 0)
		goto done;
	(void)store_serial(d.st, &serial);
	net_listen_text(d.net, where, sizeof where);
	log_msg(LOG_NOTICE, "v6repd ready: zone %s, serial %u, %u thread%s, listening on %s",
	        c->zone, serial, nthreads, nthreads == 1 ? "" : "s", where);
	uv_run(&d.loop, UV_RUN_DEFAULT);   /* until on_signal has stopped the workers */
	rc = d.exit_rc;
done:
	signals_close(&d);
	notify_stop(d.ntf);
	d.ntf = NULL;
	uv_run(&d.loop, UV_RUN_DEFAULT);
	int lrc = uv_loop_close(&d.loop);
	if (lrc != 0) {
		log_msg(LOG_ERR, "failed to close the main loop (%s)", uv_strerror(lrc));
		rc = 1;
	}
	net_free(d.net);
	xfr_srv_free(d.xfr);
	store_close(d.st);
	return rc;
}

int main(int argc, char **argv)
{
	static cfg c;
	opts o;
	char err[ERRLEN];

	signal(SIGPIPE, SIG_IGN);
	if (opts_scan(argc, argv, &o, err, sizeof err) < 0) {
		fprintf(stderr, "v6repd: %s\n", err);
		usage(stderr);
		return 1;
	}
	if (o.help) {
		print_help();
		return 0;
	}
	if (o.version) {
		printf("v6repd %s (libuv %s)\n", V6R_VERSION, uv_version_string());
		return 0;
	}
	if (o.check)
		return check_config(&o);
	if (settings_build(&o, &c, err, sizeof err) < 0) {
		fprintf(stderr, "v6repd: %s\n", err);
		if (strncmp(err, "command line", 12) == 0)
			usage(stderr);
		return 1;
	}
	log_init(c.log_level, c.log_syslog);
	int rc = serve(&o, &c);
	log_msg(rc == 0 ? LOG_NOTICE : LOG_ERR, "v6repd %s", rc == 0 ? "stopped" : "exiting on error");
	if (rc != 0 && c.log_syslog)
		fprintf(stderr, "v6repd: exiting on error (the reason is in the system log)\n");
	log_close();
	return rc;
}
