/* check_cfg.c: unit tests of the settings table: values, errors with context, files, defaults. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../zone/cfg.h"
#include "../zone/err.h"
#include "suites.h"

START_TEST(defaults)
{
	cfg c;
	cfg_defaults(&c);
	ck_assert_str_eq(c.db, "/var/lib/v6rep");
	ck_assert_uint_eq(c.n_listen, 2);
	ck_assert_str_eq(c.listen[0].host, "0.0.0.0");
	ck_assert_uint_eq(c.listen[0].port, 53);
	ck_assert_str_eq(c.listen[1].host, "::");
	ck_assert_int_eq(c.listen[1].family, AF_INET6);
	ck_assert_uint_eq(c.negative_ttl, 300);
	ck_assert_uint_eq(c.ttl, 900);
	ck_assert_uint_eq(c.soa_expire, 7 * 86400);
	ck_assert_uint_eq(c.udp_max_size, 1232);
	ck_assert_uint_eq(c.default_code[0], 127);
	ck_assert_uint_eq(c.default_code[3], 2);
	ck_assert_uint_eq(c.log_level, LOG_NOTICE);
	ck_assert_uint_eq(c.map_size, 1u << 30);
	ck_assert_str_eq(c.txt_template, "{reason}");
	ck_assert_str_eq(c.zone, "");
}
END_TEST

/* One row: option, value, expected rc, and a substring of the message when rc != 0. */
static const struct set_case {
	const char *name, *value;
	int rc;
	const char *msg;
} set_cases[] = {
	{ "ttl", "90", 0, NULL },
	{ "ttl", "15m", 0, NULL },
	{ "ttl", "8d", V6R_ERANGE, "value out of range" },
	{ "ttl", "abc", V6R_ESYNTAX, "not a duration" },
	{ "ttl", "5x", V6R_ESYNTAX, "not a duration" },
	{ "ttl", "", V6R_ESYNTAX, "not a duration" },
	{ "threads", "4", 0, NULL },
	{ "threads", "-1", V6R_ESYNTAX, "not a number" },
	{ "threads", "257", V6R_ERANGE, "out of range" },
	{ "udp-max-size", "511", V6R_ERANGE, "out of range" },
	{ "udp-max-size", "4096", 0, NULL },
	{ "default-code", "127.0.0.4", 0, NULL },
	{ "default-code", "10.0.0.2", V6R_ERANGE, "127.0.0.0/8" },
	{ "default-code", "127.0.0", V6R_ESYNTAX, "not an IPv4 return code" },
	{ "zone", "V6BL.Example.", 0, NULL },
	{ "zone", "bad..name", V6R_ESYNTAX, "not a domain name" },
	{ "zone", "sp ace", V6R_ESYNTAX, "not a domain name" },
	{ "listen", "127.0.0.1:5353", 0, NULL },
	{ "listen", "[::1]:5353", 0, NULL },
	{ "listen", "::1", 0, NULL },
	{ "listen", "[::1]:0", V6R_ERANGE, NULL },
	{ "listen", "[::1]:65536", V6R_ERANGE, NULL },
	{ "listen", "localhost:53", V6R_ESYNTAX, "ADDR[:PORT]" },
	{ "listen", "[::1", V6R_ESYNTAX, NULL },
	{ "log-level", "debug", 0, NULL },
	{ "log-level", "loud", V6R_ESYNTAX, "not one of" },
	{ "syslog", "yes", 0, NULL },
	{ "syslog", "maybe", V6R_ESYNTAX, "yes or no" },
	{ "map-size", "512M", 0, NULL },
	{ "map-size", "1K", V6R_ERANGE, NULL },
	{ "map-size", "12Q", V6R_ESYNTAX, "not a size" },
	{ "no-such-option", "1", V6R_EINVAL, "unknown option 'no-such-option'" },
	{ "ptr-server", "192.0.2.53@5353", 0, NULL },
	{ "ptr-server", "2001:db8::53", 0, NULL },
	{ "ptr-server", "::1@53", 0, NULL },
	{ "ptr-server", "resolver.example", V6R_ESYNTAX, "not ADDR[@PORT]" },
	{ "ptr-server", "192.0.2.53:53", V6R_ESYNTAX, "not ADDR[@PORT]" },
	{ "ptr-server", "192.0.2.53@", V6R_ESYNTAX, NULL },
	{ "ptr-server", "192.0.2.53@65536", V6R_ERANGE, NULL },
	{ "ptr-timeout", "0", V6R_ERANGE, "out of range" },
	{ "ptr-timeout", "2s", 0, NULL },
	{ "ptr-cache", "3", V6R_ERANGE, "out of range" },
	{ "ptr-budget", "0", 0, NULL },
	{ "ptr-live", "perhaps", V6R_ESYNTAX, "yes or no" },
	{ "asn-file", "/var/lib/v6rep/rv2.pfx2as.gz", 0, NULL },
};

START_TEST(set_values)
{
	const struct set_case *t = &set_cases[_i];
	cfg c;
	char err[512] = "";
	cfg_defaults(&c);
	int rc = cfg_set(&c, t->name, t->value, "here:7", err, sizeof(err));
	ck_assert_msg(rc == t->rc, "%s=%s: rc %d, want %d (%s)", t->name, t->value, rc, t->rc, err);
	if (t->rc) {
		ck_assert_msg(strncmp(err, "here:7: ", 8) == 0, "message without context: %s", err);
		if (t->msg)
			ck_assert_msg(strstr(err, t->msg), "message '%s' lacks '%s'", err, t->msg);
	}
}
END_TEST

START_TEST(set_parsed)
{
	cfg c;
	char err[256];
	cfg_defaults(&c);
	ck_assert_int_eq(cfg_set(&c, "zone", "V6BL.Example", "t", err, sizeof(err)), 0);
	ck_assert_str_eq(c.zone, "v6bl.example.");
	ck_assert_int_eq(cfg_set(&c, "ttl", "2h", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.ttl, 7200);
	ck_assert_int_eq(cfg_set(&c, "listen", "[::1]:5353", "t", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_set(&c, "listen", "127.0.0.1", "t", err, sizeof(err)), 0);
	/* The first explicit listen replaces the defaults, the next appends. */
	ck_assert_uint_eq(c.n_listen, 2);
	ck_assert_str_eq(c.listen[0].host, "::1");
	ck_assert_uint_eq(c.listen[0].port, 5353);
	ck_assert_str_eq(c.listen[1].host, "127.0.0.1");
	ck_assert_uint_eq(c.listen[1].port, 53);
	ck_assert_int_eq(cfg_set(&c, "map-size", "2G", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.map_size, (uint64_t)2 << 30);
}
END_TEST

static char *write_tmp(const char *text)
{
	static char path[64];
	strcpy(path, "/tmp/v6rep-cfg-XXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

START_TEST(enrich_settings)
{
	cfg c;
	char err[256], path[16];
	cfg_defaults(&c);
	ck_assert(!c.ptr_live);
	ck_assert_uint_eq(c.ptr_timeout, 1);
	ck_assert_uint_eq(c.ptr_cache, 100000);
	ck_assert_uint_eq(c.ptr_budget, 10000);
	ck_assert_uint_eq(c.n_asn_file, 0);
	ck_assert_uint_eq(c.n_ptr_server, 0);
	ck_assert_str_eq(c.ptr_file, "");
	/* asn-file appends up to CFG_MAX_ASN_FILES; "" empties the list. */
	for (int i = 0; i < CFG_MAX_ASN_FILES; i++) {
		snprintf(path, sizeof(path), "f%d", i);
		ck_assert_int_eq(cfg_set(&c, "asn-file", path, "t", err, sizeof(err)), 0);
	}
	ck_assert_uint_eq(c.n_asn_file, CFG_MAX_ASN_FILES);
	ck_assert_str_eq(c.asn_file[7], "f7");
	ck_assert_int_eq(cfg_set(&c, "asn-file", "f8", "t", err, sizeof(err)), V6R_ERANGE);
	ck_assert_msg(strstr(err, "too many values"), "%s", err);
	ck_assert_int_eq(cfg_set(&c, "asn-file", "", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_asn_file, 0);
	ck_assert_int_eq(cfg_set(&c, "ptr-server", "2001:db8::53@5300", "t", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_set(&c, "ptr-server", "192.0.2.53", "t", err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_ptr_server, 2);
	ck_assert_str_eq(c.ptr_server[0].host, "2001:db8::53");
	ck_assert_uint_eq(c.ptr_server[0].port, 5300);
	ck_assert_int_eq(c.ptr_server[0].family, AF_INET6);
	ck_assert_uint_eq(c.ptr_server[1].port, 53);
	/* In a file, one asn-file path per line: a path may hold blanks. */
	char *p = write_tmp("asn-file /data/rv 2.pfx2as\nasn-file /data/rv6.pfx2as\n"
	                    "ptr-server 127.0.0.1@5353 ::1@5353\nptr-live yes\n");
	cfg_defaults(&c);
	int rc = cfg_load_file(&c, p, false, NULL, err, sizeof(err));
	unlink(p);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_uint_eq(c.n_asn_file, 2);
	ck_assert_str_eq(c.asn_file[0], "/data/rv 2.pfx2as");
	ck_assert_uint_eq(c.n_ptr_server, 2);
	ck_assert_str_eq(c.ptr_server[1].host, "::1");
	ck_assert(c.ptr_live);
}
END_TEST

START_TEST(file_ok)
{
	char *p = write_tmp("# comment\n\nzone v6bl.test\nttl = 60   # trailing comment\n"
	                    "txt-template \"{prefix} # not a comment\"\nns a.example. b.example\n"
	                    "listen 127.0.0.1:5300 [::1]:5300\n");
	cfg c;
	char err[512] = "";
	cfg_defaults(&c);
	int rc = cfg_load_file(&c, p, false, NULL, err, sizeof(err));
	unlink(p);
	ck_assert_msg(rc == 0, "%s", err);
	ck_assert_str_eq(c.zone, "v6bl.test.");
	ck_assert_uint_eq(c.ttl, 60);
	ck_assert_str_eq(c.txt_template, "{prefix} # not a comment");
	ck_assert_uint_eq(c.n_ns, 2);
	ck_assert_str_eq(c.ns[1], "b.example.");
	ck_assert_uint_eq(c.n_listen, 2);
	ck_assert_uint_eq(c.listen[1].port, 5300);
}
END_TEST

START_TEST(file_errors)
{
	char *p = write_tmp("zone v6bl.test\nttl forever\nbogus 1\ntxt-template \"open\n");
	cfg c;
	char err[512] = "";
	cfg_defaults(&c);
	/* Stop at the first error, with file:line. */
	int rc = cfg_load_file(&c, p, false, NULL, err, sizeof(err));
	ck_assert_int_eq(rc, V6R_ESYNTAX);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: ttl: not a duration", p);
	ck_assert_msg(strstr(err, want), "got '%s'", err);
	/* Check mode reports every bad line. */
	char *buf = NULL;
	size_t len = 0;
	FILE *rep = open_memstream(&buf, &len);
	cfg_defaults(&c);
	rc = cfg_load_file(&c, p, true, rep, err, sizeof(err));
	fclose(rep);
	unlink(p);
	ck_assert_int_eq(rc, V6R_ESYNTAX);
	ck_assert_msg(strstr(buf, ":2: ttl"), "%s", buf);
	ck_assert_msg(strstr(buf, ":3: unknown option 'bogus'"), "%s", buf);
	ck_assert_msg(strstr(buf, ":4: unbalanced quotes"), "%s", buf);
	free(buf);
}
END_TEST

START_TEST(file_missing)
{
	cfg c;
	char err[512] = "";
	cfg_defaults(&c);
	ck_assert_int_eq(cfg_load_file(&c, "/nonexistent/v6rep.conf", false, NULL, err, sizeof(err)),
	                 V6R_EIO);
	ck_assert_msg(strstr(err, "failed to open config /nonexistent/v6rep.conf"), "%s", err);
}
END_TEST

START_TEST(finish)
{
	cfg c;
	char err[256] = "";
	cfg_defaults(&c);
	ck_assert_int_eq(cfg_finish(&c, CFG_SERVER, err, sizeof(err)), V6R_EINVAL);
	ck_assert_msg(strstr(err, "no zone"), "%s", err);
	ck_assert_int_eq(cfg_finish(&c, CFG_TOOL, err, sizeof(err)), 0);
	cfg_defaults(&c);
	ck_assert_int_eq(cfg_set(&c, "zone", "v6bl.test", "t", err, sizeof(err)), 0);
	ck_assert_int_eq(cfg_finish(&c, CFG_SERVER, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.n_ns, 1);
	ck_assert_str_eq(c.soa_mname, c.ns[0]);
	ck_assert_str_eq(c.soa_rname, "hostmaster.v6bl.test.");
}
END_TEST

START_TEST(durations)
{
	uint64_t s;
	ck_assert_int_eq(cfg_parse_duration("30d", &s), 0);
	ck_assert_uint_eq(s, 30 * 86400);
	ck_assert_int_eq(cfg_parse_duration("2w", &s), 0);
	ck_assert_uint_eq(s, 14 * 86400);
	ck_assert_int_eq(cfg_parse_duration("45", &s), 0);
	ck_assert_uint_eq(s, 45);
	ck_assert_int_eq(cfg_parse_duration("1dd", &s), V6R_ESYNTAX);
	ck_assert_int_eq(cfg_parse_duration("-1", &s), V6R_ESYNTAX);
	ck_assert_int_eq(cfg_parse_duration("99999999999999999999d", &s), V6R_ERANGE);
}
END_TEST

START_TEST(help_and_sample)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cfg_print_help(f, CFG_SERVER);
	cfg_print_sample(f);
	fclose(f);
	ck_assert_msg(strstr(buf, "--listen ADDR[:PORT]"), "%s", buf);
	ck_assert_msg(strstr(buf, "(default: 15m)"), "%s", buf);
	ck_assert_msg(strstr(buf, "#negative-ttl 5m"), "%s", buf);
	free(buf);
	/* The sample, uncommented, is itself a valid config. */
	ck_assert(cfg_known("tcp-idle-timeout", CFG_SERVER));
	ck_assert(!cfg_known("tcp-idle-timeout", CFG_TOOL));
	ck_assert(!cfg_known("nope", CFG_SERVER | CFG_TOOL));
}
END_TEST

Suite *cfg_suite(void)
{
	Suite *s = suite_create("cfg");
	TCase *tc = tcase_create("cfg");
	tcase_add_test(tc, defaults);
	tcase_add_loop_test(tc, set_values, 0, sizeof(set_cases) / sizeof(set_cases[0]));
	tcase_add_test(tc, set_parsed);
	tcase_add_test(tc, enrich_settings);
	tcase_add_test(tc, file_ok);
	tcase_add_test(tc, file_errors);
	tcase_add_test(tc, file_missing);
	tcase_add_test(tc, finish);
	tcase_add_test(tc, durations);
	tcase_add_test(tc, help_and_sample);
	suite_add_tcase(s, tc);
	return s;
}
