/* check_pcap.c: unit tests of the capture readers and the SYN decoder, against real and crafted captures. */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../ingest/pcap.h"
#include "../zone/addr.h"
#include "../zone/err.h"
#include "suites.h"

/* Fixtures: tests/data/pcap/README; crafted ones come from make_fixtures.py there. */
#define DATA "tests/data/pcap/"

/* ---- helpers ---------------------------------------------------------------------------- */

/* p0f's olayout text: "mss,sok,ts,nop,ws", "eol+1", "?30". */
static const char *olayout(const ev_syn *s)
{
	static char buf[512];
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < s->n_opts; i++) {
		const char *sep = i ? "," : "";
		unsigned k = s->opts[i];

		switch (k) {
		case EV_OPT_EOL:  n += snprintf(buf + n, sizeof buf - n, "%seol+%u", sep, s->eol_pad); break;
		case EV_OPT_NOP:  n += snprintf(buf + n, sizeof buf - n, "%snop", sep); break;
		case EV_OPT_MSS:  n += snprintf(buf + n, sizeof buf - n, "%smss", sep); break;
		case EV_OPT_WS:   n += snprintf(buf + n, sizeof buf - n, "%sws", sep); break;
		case EV_OPT_SOK:  n += snprintf(buf + n, sizeof buf - n, "%ssok", sep); break;
		case EV_OPT_SACK: n += snprintf(buf + n, sizeof buf - n, "%ssack", sep); break;
		case EV_OPT_TS:   n += snprintf(buf + n, sizeof buf - n, "%sts", sep); break;
		default:          n += snprintf(buf + n, sizeof buf - n, "%s?%u", sep, k); break;
		}
	}
	return buf;
}

/* p0f's quirks text, in p0f's order ("df,id+,ecn"). */
static const char *quirks(const ev_syn *s)
{
	static const struct { unsigned bit; const char *name; } q[] = {
		{ EV_Q_DF, "df" }, { EV_Q_NZ_ID, "id+" }, { EV_Q_ZERO_ID, "id-" }, { EV_Q_ECN, "ecn" },
		{ EV_Q_NZ_MBZ, "0+" }, { EV_Q_FLOW, "flow" }, { EV_Q_ZERO_SEQ, "seq-" },
		{ EV_Q_NZ_ACK, "ack+" }, { EV_Q_NZ_URG, "uptr+" }, { EV_Q_URG, "urgf+" },
		{ EV_Q_PUSH, "pushf+" }, { EV_Q_OPT_ZERO_TS1, "ts1-" }, { EV_Q_OPT_NZ_TS2, "ts2+" },
		{ EV_Q_OPT_EOL_NZ, "opt+" }, { EV_Q_OPT_EXWS, "exws" }, { EV_Q_OPT_BAD, "bad" },
	};
	static char buf[128];
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
		if (s->quirks & q[i].bit)
			n += snprintf(buf + n, sizeof buf - n, "%s%s", n ? "," : "", q[i].name);
	return buf;
}

static const char *addr_text(const uint8_t a[16], char *buf)
{
	ck_assert_int_gt(addr_format_addr(a, addr_is_v4_addr(a), buf, ADDR_PFX_STRLEN), 0);
	return buf;
}

/* Option bytes of the layouts the fixtures use. */
static unsigned opt_bytes(const char *layout)
{
	if (strcmp(layout, "mss,sok,ts,nop,ws") == 0)
		return 20;
	if (strcmp(layout, "mss,nop,ws,nop,nop,sok") == 0)
		return 12;
	if (strcmp(layout, "mss,nop,ws,nop,nop,ts,sok,eol+1") == 0)
		return 24;
	ck_abort_msg("unknown layout %s", layout);
	return 0;
}

static cap_reader *new_reader(uint16_t port)
{
	cap_reader *r = NULL;

	ck_assert_int_eq(cap_new(&r), 0);
	cap_set_port(r, port);
	return r;
}

/* Reads every SYN of path into syns[] (up to max); returns the count, *rc the final cap_next. */
static size_t read_all(cap_reader *r, const char *path, uint64_t at, ev_syn *syns, size_t max,
                       int *rc)
{
	ev_syn s;
	size_t n = 0;

	ck_assert_msg(cap_open_file_at(r, path, at) == 0, "%s", cap_error(r));
	while ((*rc = cap_next(r, &s)) == 1) {
		if (n < max)
			syns[n] = s;
		n++;
	}
	/* Finished inputs stay finished. */
	ck_assert_int_eq(cap_next(r, &s), 0);
	return n;
}

/* ---- every fixture: count of SYNs, first SYN ------------------------------------------ */

static const struct file_case {
	const char *file;
	int dlt;
	unsigned syns;
	/* the first SYN */
	const char *src, *dst;
	uint16_t sport, dport;
	uint8_t ttl, ip_opt_len;
	uint16_t win, mss;
	uint8_t ws;
	const char *layout, *quirks;
	uint64_t t_us;
	uint32_t seq, ts_val;
	/* counters */
	unsigned not_syn, not_ip, not_tcp, fragment, malformed, port;
} file_cases[] = {
	/* Real loopback captures (tcpdump, Linux 6 client to a closed port 25). */
	{ "lo-en10mb.pcap", 1, 2, "127.0.0.1", "127.0.0.1", 54282, 25, 64, 0, 65495, 65495, 10,
	  "mss,sok,ts,nop,ws", "df,id+", 1795767484684790u, 4117150335u, 568260680u, 2, 0, 0, 0, 0, 0 },
	{ "any-sll2.pcap", 276, 2, "127.0.0.1", "127.0.0.1", 54298, 25, 64, 0, 65495, 65495, 10,
	  "mss,sok,ts,nop,ws", "df,id+", 1795767489515066u, 2809535897u, 683724863u, 2, 0, 0, 0, 0, 0 },
	{ "any-sll.pcap", 113, 2, "127.0.0.1", "127.0.0.1", 57134, 25, 64, 0, 65495, 65495, 10,
	  "mss,sok,ts,nop,ws", "df,id+", 1795767494692155u, 2448308224u, 1439270194u, 2, 0, 0, 0, 0, 0 },
	/* Nanosecond pcap (tcpdump --time-stamp-precision=nano): 1795767500.133792847. */
	{ "lo-nano.pcap", 1, 2, "127.0.0.1", "127.0.0.1", 57138, 25, 64, 0, 65495, 65495, 10,
	  "mss,sok,ts,nop,ws", "df,id+", 1795767500133792u, 3070601073u, 1522787913u, 2, 0, 0, 0, 0, 0 },
	/* The shared sample (SLL2); first SYN in file order is IPv6. */
	{ "smtp-traffic.pcap", 276, 10, "2001:db8:bad:1::25", "2001:db8:25::25", 39597, 25, 64, 0,
	  64800, 1440, 10, "mss,sok,ts,nop,ws", "flow", 1795760884842289u, 2219926453u, 446615391u,
	  186, 0, 0, 0, 0, 0 },
	/* Crafted (make_fixtures.py). */
	{ "null.pcap", 0, 4, "192.0.2.10", "198.51.100.25", 49152, 25, 117, 0, 8192, 1460, 8,
	  "mss,nop,ws,nop,nop,sok", "df,id+", 1700000000000007u, 0x01020304u, 0, 1, 1, 0, 0, 0, 0 },
	{ "vlan.pcap", 1, 3, "192.0.2.10", "198.51.100.25", 40000, 25, 52, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000000000007u, 5, 12345678, 0, 1, 0, 0, 1, 0 },
	{ "raw101.pcap", 12, 2, "192.0.2.10", "198.51.100.25", 40000, 25, 52, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000000000007u, 5, 12345678, 0, 0, 0, 0, 0, 0 },
	{ "raw14.pcap", 14, 2, "2001:db8:1::10", "2001:db8:ffff::25", 50000, 25, 64, 0, 65535, 1460,
	  6, "mss,nop,ws,nop,nop,ts,sok,eol+1", "flow", 1700000000000007u, 77, 987654, 0, 0, 0, 0, 0, 0 },
	{ "ipv4.pcap", 228, 1, "192.0.2.10", "198.51.100.25", 49152, 25, 117, 0, 8192, 1460, 8,
	  "mss,nop,ws,nop,nop,sok", "df,id+", 1700000000000007u, 0x01020304u, 0, 0, 0, 0, 0, 1, 0 },
	{ "ipv6.pcap", 229, 1, "2001:db8:1::10", "2001:db8:ffff::25", 40001, 25, 51, 0, 64240, 1460,
	  7, "mss,sok,ts,nop,ws", "", 1700000000000007u, 78, 12345678, 0, 0, 0, 0, 0, 0 },
	{ "nano.pcap", 229, 2, "2001:db8:1::10", "2001:db8:ffff::25", 40001, 25, 51, 0, 64240, 1460,
	  7, "mss,sok,ts,nop,ws", "", 1700000000000007u, 78, 12345678, 0, 0, 0, 0, 0, 0 },
	{ "be.pcap", 1, 2, "192.0.2.10", "198.51.100.25", 40000, 25, 52, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000000000007u, 5, 12345678, 0, 0, 0, 0, 0, 0 },
	{ "v6ext.pcap", 12, 5, "2001:db8:1::10", "2001:db8:ffff::25", 40100, 25, 64, 0, 64240, 1460,
	  7, "mss,sok,ts,nop,ws", "ecn,flow", 1700000000000007u, 100, 12345678, 0, 0, 2, 1, 1, 0 },
	{ "v4opts.pcap", 1, 3, "192.0.2.10", "198.51.100.25", 41000, 25, 64, 4, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "id-,ecn,0+", 1700000000000007u, 1, 12345678, 0, 0, 1, 1, 0, 0 },
	{ "us.pcapng", 1, 3, "192.0.2.10", "198.51.100.25", 40000, 25, 52, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000005123456u, 5, 12345678, 1, 0, 0, 0, 0, 0 },
	{ "ns-be.pcapng", 12, 2, "192.0.2.10", "198.51.100.25", 40000, 25, 52, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000006987654u, 5, 12345678, 0, 0, 0, 0, 0, 0 },
	{ "quirks.pcap", 12, 21, "192.0.2.10", "198.51.100.25", 2000, 25, 64, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000000000007u, 0x11111111u, 12345678, 4, 0, 0, 0, 2, 1 },
	{ "malformed.pcap", 12, 1, "192.0.2.10", "198.51.100.25", 3000, 25, 64, 0, 64240, 1460, 7,
	  "mss,sok,ts,nop,ws", "df,id+", 1700000010010007u, 1000, 12345678, 0, 1, 1, 0, 8, 0 },
};

START_TEST(test_file)
{
	const struct file_case *c = &file_cases[_i];
	cap_reader *r = new_reader(25);
	char path[256], buf[ADDR_PFX_STRLEN];
	ev_syn syns[32];
	int rc;

	snprintf(path, sizeof path, DATA "%s", c->file);
	ck_assert_msg(cap_open_file(r, path) == 0, "%s", cap_error(r));
	ck_assert_int_eq(cap_datalink(r), c->dlt);
	size_t n = read_all(r, path, 0, syns, 32, &rc);
	ck_assert_msg(rc == 0, "%s: %s", c->file, cap_error(r));
	ck_assert_uint_eq(n, c->syns);

	const ev_syn *s = &syns[0];
	ck_assert_str_eq(addr_text(s->src, buf), c->src);
	ck_assert_str_eq(addr_text(s->dst, buf), c->dst);
	ck_assert_int_eq(s->v6, strchr(c->src, ':') != NULL);
	ck_assert_uint_eq(s->sport, c->sport);
	ck_assert_uint_eq(s->dport, c->dport);
	ck_assert_uint_eq(s->ttl, c->ttl);
	ck_assert_uint_eq(s->ip_opt_len, c->ip_opt_len);
	ck_assert_uint_eq(s->win, c->win);
	ck_assert_uint_eq(s->mss, c->mss);
	ck_assert_uint_eq(s->wscale, c->ws);
	ck_assert_str_eq(olayout(s), c->layout);
	ck_assert_str_eq(quirks(s), c->quirks);
	ck_assert_uint_eq(s->t_us, c->t_us);
	ck_assert_uint_eq(s->seq, c->seq);
	ck_assert_uint_eq(s->ts_val, c->ts_val);
	ck_assert_uint_eq(s->payload_len, 0);
	ck_assert_uint_eq(s->tcp_hdr_len, 20 + opt_bytes(c->layout));

	const cap_counters *k = cap_get_counters(r);
	ck_assert_uint_eq(k->syns, c->syns);
	ck_assert_uint_eq(k->skipped_not_syn, c->not_syn);
	ck_assert_uint_eq(k->skipped_not_ip, c->not_ip);
	ck_assert_uint_eq(k->skipped_not_tcp, c->not_tcp);
	ck_assert_uint_eq(k->skipped_fragment, c->fragment);
	ck_assert_uint_eq(k->skipped_malformed, c->malformed);
	ck_assert_uint_eq(k->skipped_port, c->port);
	ck_assert_uint_eq(k->packets, c->syns + c->not_syn + c->not_ip + c->not_tcp + c->fragment +
	                              c->malformed + c->port);
	ck_assert_uint_eq(k->by_link[cap_link_of(c->dlt)], k->packets);
	ck_assert_uint_eq(k->files, 2);
	ck_assert_uint_eq(k->file_errors, 0);
	cap_free(r);
}
END_TEST

/* ---- the shared sample, SYN by SYN, as tcpdump -tt -nn -v shows them --------------------- */

static const struct sample_syn {
	uint64_t t_us;
	const char *src;
	uint16_t sport;
	uint32_t seq, ts_val;
} sample_syns[] = {
	{ 1795760884842289u, "2001:db8:bad:1::25", 39597, 2219926453u, 446615391u },
	{ 1795760884950743u, "2001:db8:bad:2::25", 34939, 939044336u, 3907089254u },
	{ 1795760885039165u, "2001:db8:900d::25", 37453, 601845471u, 1328985821u },
	{ 1795760885145308u, "2001:db8:900d:bad::25", 59585, 603805771u, 1751945249u },
	{ 1795760885223774u, "192.0.2.25", 49577, 1625598234u, 596440146u },
	{ 1795760888903653u, "2001:db8:bad:1::25", 54289, 2806854278u, 3876017902u },
	{ 1795760892071944u, "2001:db8:bad:2::25", 53091, 3283540694u, 862812505u },
	{ 1795760895197355u, "2001:db8:900d::25", 53189, 324251305u, 3911195797u },
	{ 1795760898340208u, "2001:db8:900d:bad::25", 45749, 3473839016u, 1026056112u },
	{ 1795760901883498u, "192.0.2.25", 36755, 2600402151u, 1170737577u },
};

START_TEST(test_sample_syns)
{
	cap_reader *r = new_reader(25);
	ev_syn syns[16];
	char buf[ADDR_PFX_STRLEN];
	int rc;
	size_t n = read_all(r, DATA "smtp-traffic.pcap", 0, syns, 16, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, sizeof sample_syns / sizeof sample_syns[0]);
	for (size_t i = 0; i < n; i++) {
		const struct sample_syn *e = &sample_syns[i];
		const ev_syn *s = &syns[i];
		bool v4 = strchr(e->src, ':') == NULL;

		ck_assert_uint_eq(s->t_us, e->t_us);
		ck_assert_str_eq(addr_text(s->src, buf), e->src);
		ck_assert_str_eq(addr_text(s->dst, buf), v4 ? "198.51.100.25" : "2001:db8:25::25");
		ck_assert_uint_eq(s->sport, e->sport);
		ck_assert_uint_eq(s->dport, 25);
		ck_assert_uint_eq(s->seq, e->seq);
		ck_assert_uint_eq(s->ts_val, e->ts_val);
		ck_assert_uint_eq(s->ttl, 64);
		ck_assert_uint_eq(s->win, v4 ? 64240 : 64800);
		ck_assert_uint_eq(s->mss, v4 ? 1460 : 1440);
		ck_assert_uint_eq(s->wscale, 10);
		ck_assert_str_eq(olayout(s), "mss,sok,ts,nop,ws");
		ck_assert_str_eq(quirks(s), v4 ? "df,id+" : "flow");
		ck_assert_uint_eq(s->tcp_hdr_len, 40);
		ck_assert_uint_eq(s->payload_len, 0);
		if (i > 0)
			ck_assert_uint_gt(s->offset, syns[i - 1].offset);
	}
	/* 196 packets, 10 of them client SYNs; the rest are the sessions. */
	ck_assert_uint_eq(cap_get_counters(r)->packets, 196);
	ck_assert_uint_eq(cap_get_counters(r)->skipped_not_syn, 186);
	cap_free(r);
}
END_TEST

/* ---- TCP quirks and options, one crafted SYN each (quirks.pcap, sport 2000 + i) ---------- */

static const struct quirk_case {
	uint16_t sport;
	const char *layout, *quirks;
	uint16_t mss;
	uint8_t ws;
	uint32_t ts_val;
	uint16_t payload;
	uint8_t tcp_hdr_len;
} quirk_cases[] = {
	{ 2000, "mss,sok,ts,nop,ws", "df,id+", 1460, 7, 12345678, 0, 40 },
	{ 2001, "mss,nop,ws,nop,nop,sok", "df,id+,seq-", 1460, 8, 0, 0, 32 },
	{ 2002, "", "df,id+,ack+", 0, 0xff, 0, 0, 20 },
	{ 2003, "", "df,id+,uptr+", 0, 0xff, 0, 0, 20 },
	{ 2004, "", "df,id+,urgf+,pushf+", 0, 0xff, 0, 0, 20 },
	{ 2005, "", "df,id+,ecn", 0, 0xff, 0, 0, 20 },
	{ 2006, "ts,nop,nop", "df,id+,ts1-,ts2+", 0, 0xff, 0, 0, 32 },
	{ 2007, "mss,eol+3", "df,id+,opt+", 1400, 0xff, 0, 0, 28 },
	{ 2008, "mss,nop,ws,nop,nop,ts,sok,eol+1", "df,id+", 1460, 6, 987654, 0, 44 },
	{ 2009, "ws,nop", "df,id+,exws", 0, 15, 0, 0, 24 },
	{ 2010, "mss", "df,id+,bad", 1460, 0xff, 0, 0, 24 },
	{ 2011, "nop,nop,nop,mss", "df,id+,bad", 0, 0xff, 0, 0, 24 },
	{ 2012, "?30", "df,id+", 0, 0xff, 0, 0, 24 },
	{ 2013, "?30", "df,id+,bad", 0, 0xff, 0, 0, 24 },
	{ 2014, "sack,nop,nop", "df,id+", 0, 0xff, 0, 0, 32 },
	{ 2015, "sack", "df,id+,bad", 0, 0xff, 0, 0, 28 },
	{ 2016, "nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,"
	        "nop,nop,nop,nop", "df,id+,bad", 0, 0xff, 0, 0, 60 },
	{ 2017, "mss,sok,ts,nop,ws", "df,id+", 1460, 7, 12345678, 8, 40 },
	{ 2018, "mss,sok,ts,nop,ws", "df,id+,ecn", 1460, 7, 12345678, 0, 40 },
	{ 2026, "ws,sok,ts", "df,id+,bad", 0, 3, 0, 0, 32 },
	{ 2027, "ts", "df,id+,bad", 0, 0xff, 0, 0, 28 },
};

START_TEST(test_quirks)
{
	static ev_syn syns[32];
	cap_reader *r = new_reader(25);
	int rc;
	size_t n = read_all(r, DATA "quirks.pcap", 0, syns, 32, &rc);

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, sizeof quirk_cases / sizeof quirk_cases[0]);
	const struct quirk_case *c = &quirk_cases[_i];
	const ev_syn *s = &syns[_i];
	ck_assert_uint_eq(s->sport, c->sport);
	ck_assert_str_eq(olayout(s), c->layout);
	ck_assert_str_eq(quirks(s), c->quirks);
	ck_assert_uint_eq(s->mss, c->mss);
	ck_assert_uint_eq(s->wscale, c->ws);
	ck_assert_uint_eq(s->ts_val, c->ts_val);
	ck_assert_uint_eq(s->payload_len, c->payload);
	ck_assert_uint_eq(s->tcp_hdr_len, c->tcp_hdr_len);
	ck_assert_uint_eq(s->ttl, 64);
	ck_assert(!s->v6);
	cap_free(r);
}
END_TEST

/* ---- broken files ------------------------------------------------------------------------ */

static const struct bad_case {
	const char *file;
	int open_rc;
	unsigned syns;      /* read before the error */
	int next_rc;
	const char *msg;    /* cap_error after the file name and ": " */
} bad_cases[] = {
	{ "missing.pcap", V6R_EIO, 0, 0, "failed to open capture (No such file or directory)" },
	{ "empty.pcap", V6R_ECORRUPT, 0, 0, "truncated capture at byte offset 0 (truncated dump "
	  "file; tried to read 4 file header bytes, only got 0)" },
	{ "short-header.pcap", V6R_ECORRUPT, 0, 0, "truncated capture at byte offset 0 (truncated "
	  "dump file; tried to read 24 file header bytes, only got 6)" },
	{ "bad-magic.pcap", V6R_ECORRUPT, 0, 0, "failed to open capture (unknown file format)" },
	{ "unknown-link.pcap", V6R_EINVAL, 0, 0, "unsupported link type 105 (IEEE802_11: 802.11)" },
	{ "truncated.pcap", 0, 2, V6R_ECORRUPT, "truncated capture at byte offset 272 (truncated "
	  "dump file; tried to read 94 captured bytes, only got 30)" },
	{ "truncated-hdr.pcap", 0, 1, V6R_ECORRUPT, "truncated capture at byte offset 190 "
	  "(truncated dump file; tried to read 16 header bytes, only got 9)" },
	{ "huge-caplen.pcap", 0, 1, V6R_ECORRUPT, "corrupt capture at byte offset 114 (invalid "
	  "packet capture length 2147483647, bigger than snaplen of 262144)" },
	{ "mixed-link.pcapng", 0, 1, V6R_ECORRUPT, "corrupt capture at byte offset 156 (an "
	  "interface has a type 101 different from the type of the first interface)" },
};

START_TEST(test_bad_file)
{
	const struct bad_case *c = &bad_cases[_i];
	cap_reader *r = new_reader(25);
	char path[256], want[512];
	ev_syn s;
	unsigned n = 0;
	int rc;

	snprintf(path, sizeof path, DATA "%s", c->file);
	snprintf(want, sizeof want, "%s: %s", path, c->msg);
	rc = cap_open_file(r, path);
	ck_assert_int_eq(rc, c->open_rc);
	if (rc == 0) {
		while ((rc = cap_next(r, &s)) == 1)
			n++;
		ck_assert_int_eq(rc, c->next_rc);
		ck_assert_int_eq(cap_next(r, &s), 0);
	} else {
		ck_assert_int_eq(cap_datalink(r), -1);
		ck_assert_int_eq(cap_next(r, &s), 0);
	}
	ck_assert_uint_eq(n, c->syns);
	ck_assert_str_eq(cap_error(r), want);
	ck_assert_uint_eq(cap_get_counters(r)->file_errors, 1);
	/* The reader is usable for the next file. */
	ck_assert_int_eq(cap_open_file(r, DATA "lo-en10mb.pcap"), 0);
	ck_assert_str_eq(cap_error(r), "");
	ck_assert_int_eq(cap_next(r, &s), 1);
	cap_free(r);
}
END_TEST

/* ---- resume ------------------------------------------------------------------------------ */

static const char *const resume_files[] = {
	"smtp-traffic.pcap", "us.pcapng", "quirks.pcap", "ns-be.pcapng", "lo-nano.pcap",
	"v6ext.pcap",
};

START_TEST(test_resume)
{
	static ev_syn all[32], rest[32];
	static uint64_t after[32];
	cap_reader *r = new_reader(25);
	char path[256];
	ev_syn s;
	size_t n = 0;
	int rc;

	snprintf(path, sizeof path, DATA "%s", resume_files[_i]);
	ck_assert_int_eq(cap_open_file(r, path), 0);
	uint64_t start = cap_offset(r);
	ck_assert_uint_gt(start, 0);
	while ((rc = cap_next(r, &s)) == 1) {
		ck_assert_uint_lt(n, 32);
		ck_assert_uint_ge(s.offset, start);
		all[n] = s;
		after[n++] = cap_offset(r);
		ck_assert_uint_gt(after[n - 1], s.offset);
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_gt(n, 1);
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(cap_offset(r), (uint64_t)st.st_size);
	cap_close(r);
	ck_assert_uint_eq(cap_offset(r), 0);

	/* Resuming after SYN k gives exactly SYNs k+1.. */
	for (size_t k = 0; k < n; k++) {
		size_t m = read_all(r, path, after[k], rest, 32, &rc);
		ck_assert_int_eq(rc, 0);
		ck_assert_uint_eq(m, n - k - 1);
		for (size_t j = 0; j < m; j++) {
			ck_assert_uint_eq(rest[j].offset, all[k + 1 + j].offset);
			ck_assert_uint_eq(rest[j].seq, all[k + 1 + j].seq);
			ck_assert_uint_eq(rest[j].t_us, all[k + 1 + j].t_us);
			ck_assert_int_eq(memcmp(rest[j].src, all[k + 1 + j].src, 16), 0);
		}
	}
	/* Resuming at a SYN's own offset gives that SYN again. */
	ck_assert_uint_eq(read_all(r, path, all[1].offset, rest, 32, &rc), n - 1);
	ck_assert_uint_eq(rest[0].seq, all[1].seq);
	ck_assert_uint_gt(cap_get_counters(r)->skipped_resume, 0);

	/* An offset past the end: the file was replaced or cut. */
	ck_assert_uint_eq(read_all(r, path, (uint64_t)st.st_size + 1, rest, 32, &rc), 0);
	ck_assert_int_eq(rc, V6R_ERANGE);
	ck_assert_ptr_nonnull(strstr(cap_error(r), "past the end of the capture"));
	cap_free(r);
}
END_TEST

/* ---- streams: a pipe has no offsets, an fmemopen buffer has -------------------------------- */

START_TEST(test_stream)
{
	cap_reader *r = new_reader(25);
	ev_syn s;
	unsigned n = 0;
	FILE *fp = popen("cat " DATA "smtp-traffic.pcap", "r");

	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(cap_open_fp(r, fp, "pipe", 1000), 0);
	while (cap_next(r, &s) == 1) {
		ck_assert_uint_eq(s.offset, 0);
		ck_assert_uint_eq(cap_offset(r), 0);
		n++;
	}
	ck_assert_uint_eq(n, 10);
	ck_assert_str_eq(cap_error(r), "");
	cap_close(r);   /* fclose, not pclose: the child is left to exit on its own */

	static const uint8_t junk[32] = "not a capture at all, no magic";
	fp = fmemopen((void *)junk, sizeof junk, "rb");
	ck_assert_int_eq(cap_open_fp(r, fp, "junk", 0), V6R_ECORRUPT);
	ck_assert_str_eq(cap_error(r), "junk: failed to open capture (unknown file format)");
	cap_free(r);
}
END_TEST

/* ---- filters ----------------------------------------------------------------------------- */

static const struct filter_case {
	uint16_t port;
	const char *dsts[3];
	unsigned syns, skipped_port, skipped_dst;
} filter_cases[] = {
	{ 25, { NULL }, 10, 0, 0 },
	{ 0, { NULL }, 10, 0, 0 },                        /* the server's SYN/ACKs are not SYNs */
	{ 587, { NULL }, 0, 10, 0 },
	{ 25, { "2001:db8:25::/48" }, 8, 0, 2 },
	{ 25, { "198.51.100.25" }, 2, 0, 8 },
	{ 25, { "198.51.100.0/24", "2001:db8:25::25" }, 10, 0, 0 },
	{ 25, { "2001:db8:26::/48" }, 0, 0, 10 },
};

START_TEST(test_filters)
{
	const struct filter_case *c = &filter_cases[_i];
	cap_reader *r = new_reader(c->port);
	addr_pfx d[3];
	size_t nd = 0;
	ev_syn syns[32];
	int rc;

	for (; nd < 3 && c->dsts[nd]; nd++)
		ck_assert_int_eq(addr_parse(c->dsts[nd], strlen(c->dsts[nd]), 0, &d[nd]), 0);
	ck_assert_int_eq(cap_set_dsts(r, d, nd), 0);
	size_t n = read_all(r, DATA "smtp-traffic.pcap", 0, syns, 32, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, c->syns);
	ck_assert_uint_eq(cap_get_counters(r)->skipped_port, c->skipped_port);
	ck_assert_uint_eq(cap_get_counters(r)->skipped_dst, c->skipped_dst);
	cap_free(r);
}
END_TEST

/* ---- the decoder on its own --------------------------------------------------------------- */

/* A minimal IPv4 SYN (20 + 20 bytes), 192.0.2.1:1234 -> 198.51.100.2:25, DF, id 1. */
static const uint8_t syn4[40] = {
	0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
	0x04, 0xd2, 0, 25, 0, 0, 0, 9, 0, 0, 0, 0, 0x50, 0x02, 0x20, 0, 0, 0, 0, 0,
};

static const struct decode_case {
	int dlt;
	const uint8_t hdr[32];   /* link header put before syn4 */
	size_t hdr_len;
	int verdict;
} decode_cases[] = {
	{ 108, { 0, 0, 0, 2 }, 4, CAP_SYN },                            /* DLT_LOOP, big-endian */
	{ 0, { 0, 0, 0, 2 }, 4, CAP_SYN },
	{ 0, { 2, 0, 0, 0 }, 4, CAP_SYN },
	{ 0, { 0, 0, 0, 24 }, 4, CAP_MALFORMED },                       /* AF_INET6, IPv4 inside */
	{ 0, { 17, 0, 0, 0 }, 4, CAP_NOT_IP },
	{ 0, { 2, 0, 0 }, 3, CAP_MALFORMED },                           /* header only: no IP */
	{ 1, { [12] = 0x08, 0x00 }, 14, CAP_SYN },
	{ 1, { [12] = 0x81, 0x00, 0, 1, 0x91, 0x00, 0, 2, 0x88, 0xa8, 0, 3, 0x08, 0x00 }, 26,
	  CAP_SYN },                                                    /* three stacked tags */
	{ 1, { [12] = 0x86, 0xdd }, 14, CAP_MALFORMED },                /* IPv6 type, IPv4 inside */
	{ 113, { [14] = 0x08, 0x00 }, 16, CAP_SYN },
	{ 113, { [14] = 0x81, 0x00, 0, 5, 0x08, 0x00 }, 20, CAP_SYN },  /* tag after SLL */
	{ 276, { 0x08, 0x00 }, 20, CAP_SYN },
	{ 276, { 0x88, 0xcc }, 20, CAP_NOT_IP },                        /* LLDP */
	{ 12, { 0 }, 0, CAP_SYN },
	{ 101, { 0 }, 0, CAP_SYN },
	{ 228, { 0 }, 0, CAP_SYN },
	{ 229, { 0 }, 0, CAP_MALFORMED },
	{ 147, { 0 }, 0, CAP_BAD_LINK },
	{ 105, { 0 }, 0, CAP_BAD_LINK },                                /* 802.11 */
};

START_TEST(test_decode)
{
	const struct decode_case *c = &decode_cases[_i];
	uint8_t pkt[80];
	ev_syn s;
	char buf[ADDR_PFX_STRLEN];

	memcpy(pkt, c->hdr, c->hdr_len);
	memcpy(pkt + c->hdr_len, syn4, sizeof syn4);
	size_t len = c->hdr_len + sizeof syn4;
	if (c->hdr_len == 3)
		len = 3;
	int v = cap_decode(c->dlt, pkt, len, &s);
	ck_assert_msg(v == c->verdict, "dlt %d: %s", c->dlt, cap_verdict_name((unsigned)v));
	if (v != CAP_SYN)
		return;
	ck_assert_str_eq(addr_text(s.src, buf), "192.0.2.1");
	ck_assert_str_eq(addr_text(s.dst, buf), "198.51.100.2");
	ck_assert_uint_eq(s.sport, 1234);
	ck_assert_uint_eq(s.seq, 9);
	ck_assert_uint_eq(s.win, 0x2000);
	ck_assert_uint_eq(s.n_opts, 0);
	ck_assert_uint_eq(s.wscale, 0xff);
	ck_assert_uint_eq(s.t_us, 0);
	/* Every shorter capture is malformed (or not IP), never a read past the end. */
	for (size_t cut = 0; cut < len; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);
		memcpy(copy, pkt, cut);
		ck_assert_int_ne(cap_decode(c->dlt, copy, cut, &s), CAP_SYN);
		free(copy);
	}
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(cap_link_name(CAP_LINK_SLL2), "linux_sll2");
	ck_assert_str_eq(cap_link_name(CAP_LINK_N), "?");
	ck_assert_str_eq(cap_verdict_name(CAP_FRAGMENT), "fragment");
	ck_assert_str_eq(cap_verdict_name(99), "?");
	ck_assert_int_eq(cap_link_of(1), CAP_LINK_EN10MB);
	ck_assert_int_eq(cap_link_of(DLT_RAW), CAP_LINK_RAW);
	ck_assert_int_eq(cap_link_of(9), -1);
}
END_TEST

/* Every prefix of every packet of every fixture decodes without reading past it (ASan build). */
static const char *const all_files[] = {
	"lo-en10mb.pcap", "any-sll2.pcap", "any-sll.pcap", "smtp-traffic.pcap", "null.pcap",
	"vlan.pcap", "raw101.pcap", "raw14.pcap", "ipv4.pcap", "ipv6.pcap", "v6ext.pcap",
	"v4opts.pcap", "us.pcapng", "quirks.pcap", "malformed.pcap",
};

START_TEST(test_prefixes)
{
	char path[256], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	ev_syn s;

	snprintf(path, sizeof path, DATA "%s", all_files[_i]);
	pcap_t *pc = pcap_open_offline(path, err);
	ck_assert_msg(pc != NULL, "%s", err);
	int dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &data) == 1) {
		for (size_t cut = 0; cut <= h->caplen; cut++) {
			uint8_t *copy = malloc(cut ? cut : 1);
			memcpy(copy, data, cut);
			int v = cap_decode(dlt, copy, cut, &s);
			ck_assert_int_ge(v, CAP_SYN);
			ck_assert_int_le(v, CAP_MALFORMED);
			if (v == CAP_SYN) {
				ck_assert_uint_le(s.n_opts, EV_MAX_OPTS);
				ck_assert_uint_ge(s.tcp_hdr_len, 20);
			}
			free(copy);
		}
	}
	pcap_close(pc);
}
END_TEST

/* ---- folders ----------------------------------------------------------------------------- */

START_TEST(test_list_dir)
{
	static const char *const make[] = { "c10", "c2", "c", "c1", ".hidden", "b.pcap" };
	char dir[] = "/tmp/check_pcap.XXXXXX", path[256], err[256];
	cap_list l;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < sizeof make / sizeof make[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, make[i]);
		FILE *f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fclose(f);
	}
	snprintf(path, sizeof path, "%s/sub", dir);
	ck_assert_int_eq(mkdir(path, 0700), 0);

	ck_assert_int_eq(cap_list_dir(dir, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 5);
	static const char *const want[] = { "b.pcap", "c", "c1", "c2", "c10" };
	for (size_t i = 0; i < l.n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, want[i]);
		ck_assert_str_eq(l.paths[i], path);
		unlink(path);
	}
	cap_list_free(&l);
	ck_assert_uint_eq(l.n, 0);
	snprintf(path, sizeof path, "%s/.hidden", dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/sub", dir);
	rmdir(path);

	/* An empty folder is an empty list; a missing one an error. */
	ck_assert_int_eq(cap_list_dir(dir, &l, err, sizeof err), 0);
	ck_assert_uint_eq(l.n, 0);
	cap_list_free(&l);
	rmdir(dir);
	ck_assert_int_eq(cap_list_dir(dir, &l, err, sizeof err), V6R_EIO);
	snprintf(path, sizeof path, "%s: failed to list capture folder (No such file or directory)",
	         dir);
	ck_assert_str_eq(err, path);
}
END_TEST

/* A folder of captures read one after another, as ingest does: counters add up. */
START_TEST(test_read_folder)
{
	cap_reader *r = new_reader(25);
	cap_list l;
	char err[256];
	ev_syn s;
	unsigned syns = 0, errors = 0;

	ck_assert_int_eq(cap_list_dir("tests/data/pcap", &l, err, sizeof err), 0);
	ck_assert_uint_gt(l.n, 20);
	for (size_t i = 0; i < l.n; i++) {
		int rc = cap_open_file(r, l.paths[i]);
		if (rc == 0)
			while ((rc = cap_next(r, &s)) == 1)
				syns++;
		if (rc < 0)
			errors++;
		cap_close(r);
	}
	/* The 8 broken captures of bad_cases, and README.md and make_fixtures.py. */
	ck_assert_uint_eq(errors, 10);
	ck_assert_uint_eq(cap_get_counters(r)->file_errors, 10);
	ck_assert_uint_eq(cap_get_counters(r)->files, l.n);
	ck_assert_uint_eq(cap_get_counters(r)->syns, syns);
	ck_assert_uint_gt(syns, 60);
	cap_reset_counters(r);
	ck_assert_uint_eq(cap_get_counters(r)->syns, 0);
	cap_list_free(&l);
	cap_free(r);
}
END_TEST

/* ---- live capture on loopback --------------------------------------------------------------- */

static void connect_closed(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(family, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&ss, 0, sizeof ss);
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof *a;
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		len = sizeof *a;
	}
	(void)connect(fd, (struct sockaddr *)&ss, len);   /* refused: the SYN went out */
	close(fd);
}

START_TEST(test_live)
{
	uint16_t port = (uint16_t)(40000 + getpid() % 20000);
	cap_reader *r = new_reader(port);
	char buf[ADDR_PFX_STRLEN], filter[256];
	ev_syn s;
	bool seen4 = false, seen6 = false;

	ck_assert_int_gt(cap_live_filter(port, filter, sizeof filter), 0);
	ck_assert_int_eq(cap_live_filter(port, filter, 10), V6R_ESPACE);
	ck_assert_int_eq(cap_open_live(r, "no-such-if0", NULL), V6R_EIO);
	ck_assert_ptr_nonnull(strstr(cap_error(r), "no-such-if0: failed to start live capture"));
	if (geteuid() != 0) {
		fprintf(stderr, "check_pcap: live capture test skipped (not root)\n");
		cap_free(r);
		return;
	}
	int rc = cap_open_live(r, "lo", NULL);
	if (rc == V6R_EIO && strstr(cap_error(r), "ermi") != NULL) {
		fprintf(stderr, "check_pcap: live capture test skipped (%s)\n", cap_error(r));
		cap_free(r);
		return;
	}
	ck_assert_msg(rc == 0, "%s", cap_error(r));
	ck_assert_int_eq(cap_open_live(r, "lo", "tcp and port 1 and"), V6R_ESYNTAX);
	ck_assert_ptr_nonnull(strstr(cap_error(r), "lo: failed to compile filter"));
	ck_assert_msg(cap_open_live(r, "lo", NULL) == 0, "%s", cap_error(r));
	ck_assert_int_eq(cap_datalink(r), 1);
	ck_assert_uint_eq(cap_offset(r), 0);
	connect_closed(AF_INET, port);
	connect_closed(AF_INET6, port);
	/* Bounded: each call waits at most CAP_LIVE_TIMEOUT_MS. */
	for (int i = 0; i < 10 && !(seen4 && seen6); i++) {
		rc = cap_next(r, &s);
		ck_assert_int_ge(rc, 0);
		if (rc == 0)
			continue;
		ck_assert_uint_eq(s.dport, port);
		ck_assert_str_eq(olayout(&s), "mss,sok,ts,nop,ws");
		if (s.v6) {
			ck_assert_str_eq(addr_text(s.src, buf), "::1");
			ck_assert_uint_eq(s.mss, 65476);
			seen6 = true;
		} else {
			ck_assert_str_eq(addr_text(s.src, buf), "127.0.0.1");
			ck_assert_uint_eq(s.mss, 65495);
			seen4 = true;
		}
		ck_assert_uint_gt(s.t_us, 1700000000000000u);
	}
	ck_assert(seen4 && seen6);
	cap_free(r);
}
END_TEST

Suite *pcap_suite(void)
{
	Suite *s = suite_create("pcap");
	TCase *tc = tcase_create("files");

	tcase_add_loop_test(tc, test_file, 0, sizeof file_cases / sizeof file_cases[0]);
	tcase_add_test(tc, test_sample_syns);
	tcase_add_loop_test(tc, test_quirks, 0, sizeof quirk_cases / sizeof quirk_cases[0]);
	tcase_add_loop_test(tc, test_bad_file, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_loop_test(tc, test_resume, 0, sizeof resume_files / sizeof resume_files[0]);
	tcase_add_loop_test(tc, test_filters, 0, sizeof filter_cases / sizeof filter_cases[0]);
	tcase_add_test(tc, test_stream);
	tcase_add_test(tc, test_list_dir);
	tcase_add_test(tc, test_read_folder);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode, 0, sizeof decode_cases / sizeof decode_cases[0]);
	tcase_add_test(tc, test_names);
	tcase_add_loop_test(tc, test_prefixes, 0, sizeof all_files / sizeof all_files[0]);
	suite_add_tcase(s, tc);

	tc = tcase_create("live");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_live);
	suite_add_tcase(s, tc);
	return s;
}
