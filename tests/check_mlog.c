/* check_mlog.c: unit tests of the mail log reader: documented and sample lines, times, years, zones, files. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../ingest/mlog.h"
#include "../zone/addr.h"
#include "../zone/err.h"
#include "suites.h"

/* Fixtures: copies of /work/shared/samples/postfix-{smtpd,postscreen}.log (real Postfix 3.7 logs). */
#define DATA "tests/data/mlog/"

/* ---- helpers ---------------------------------------------------------------------------- */

/*
 * "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" to Unix microseconds, through glibc's timegm: an independent
 * check of the reader's own calendar code.
 */
static uint64_t utc_us(const char *iso)
{
	struct tm tm;
	const char *rest;
	uint64_t us = 0;

	memset(&tm, 0, sizeof tm);
	rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_msg(rest != NULL, "bad expected time %s", iso);
	if (*rest == '.') {
		unsigned n = 0;

		for (rest++; *rest >= '0' && *rest <= '9'; rest++, n++)
			us = us * 10 + (uint64_t)(*rest - '0');
		for (; n < 6; n++)
			us *= 10;
	}
	ck_assert_msg(strcmp(rest, "Z") == 0, "bad expected time %s", iso);
	return (uint64_t)timegm(&tm) * 1000000u + us;
}

static int64_t utc_s(const char *iso)
{
	return (int64_t)(utc_us(iso) / 1000000u);
}

/* Formats a time for messages. */
static const char *fmt_us(uint64_t t_us, char *buf, size_t cap)
{
	time_t t = (time_t)(t_us / 1000000u);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, cap - n, ".%06uZ", (unsigned)(t_us % 1000000u));
	return buf;
}

static const char *fmt_addr(const uint8_t a[16], char *buf, size_t cap)
{
	ck_assert_int_gt(addr_format_addr(a, addr_is_v4_addr(a), buf, cap), 0);
	return buf;
}

/* A parser as the tables use it: reference 2024-06-15T00:00:00Z, stamps without zone in UTC. */
static void table_parser(mlog_parser *p)
{
	mlog_parser_init(p, utc_s("2024-06-15T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(p, "UTC"), 0);
}

static int parse(mlog_parser *p, const char *line, ev_reject *ev)
{
	return mlog_parse_line(p, line, strlen(line), ev);
}

/* Asserts that ev is the expected event. */
static void check_event(const char *line, const ev_reject *ev, int mta, const char *addr,
                        unsigned port, const char *zone, const char *utc)
{
	addr_pfx want;
	char a[64], b[64], t[64], u[64];

	ck_assert_int_eq(addr_parse(addr, strlen(addr), ADDR_NO_LEN, &want), 0);
	ck_assert_msg(memcmp(want.a, ev->addr, 16) == 0, "address %s, want %s in: %s",
	              fmt_addr(ev->addr, a, sizeof a), fmt_addr(want.a, b, sizeof b), line);
	ck_assert_msg(ev->mta == mta, "mta %d, want %d in: %s", ev->mta, mta, line);
	ck_assert_msg(ev->port == port, "port %u, want %u in: %s", ev->port, port, line);
	ck_assert_msg(strcmp(ev->zone, zone) == 0, "zone \"%s\", want \"%s\" in: %s", ev->zone, zone,
	              line);
	ck_assert_msg(ev->t_us == utc_us(utc), "time %s, want %s in: %s",
	              fmt_us(ev->t_us, t, sizeof t), fmt_us(utc_us(utc), u, sizeof u), line);
}

/* ---- events: every real line of INPUTS.md section 2, then constructed variants ------------ */

static const struct ev_case {
	const char *line;
	int mta;
	const char *addr;
	unsigned port;
	const char *zone;
	const char *utc;   /* expected time; year-less stamps are read with reference 2024-06-15 */
} ev_cases[] = {
	/* Real lines, INPUTS.md section 2 (fail2ban test logs and the cited samples). */
	{ "Dec 30 18:19:15 xxx postfix/smtpd[1574]: NOQUEUE: reject: RCPT from badguy.example.com[93.184.216.34]: 454 4.7.1 Service unavailable; Client host [93.184.216.34] blocked using rbl.example.com; http://www.example.com/query?ip=93.184.216.34; from=<spammer@example.com> to=<goodguy@example.com> proto=ESMTP helo=<badguy.example.com>",
	  EV_MTA_POSTFIX, "93.184.216.34", 0, "rbl.example.com", "2023-12-30T18:19:15Z" },
	{ "Feb  7 12:25:45 xxx12345 postfix/smtpd[13275]: NOQUEUE: reject: RCPT from unknown[87.236.233.182]: 554 5.7.1 Service unavailable; Client host [87.236.233.182] blocked using rbl.example.com; https://www.example.com/query/ip/87.236.233.182; from=<spammer@example.com> to=<goodguy@example.com> proto=SMTP helo=<WIN-5N8GBBS0R5I>",
	  EV_MTA_POSTFIX, "87.236.233.182", 0, "rbl.example.com", "2024-02-07T12:25:45Z" },
	{ "May  5 15:51:11 xxx postfix/postscreen[1148]: NOQUEUE: reject: RCPT from [216.245.194.173]:60591: 550 5.7.1 Service unavailable; client [216.245.194.173] blocked using rbl.example.com; from=<spammer@example.com>, to=<goodguy@example.com>, proto=ESMTP, helo=<badguy.example.com>",
	  EV_MTA_POSTSCREEN, "216.245.194.173", 60591, "rbl.example.com", "2024-05-05T15:51:11Z" },
	{ "oct. 02 12:06:22 srvdmz postfix/postscreen[12309]: DNSBL rank 3 for [101.36.106.89]:33098",
	  EV_MTA_POSTSCREEN, "101.36.106.89", 33098, "", "2023-10-02T12:06:22Z" },
	{ "2019-12-07 07:08:27 H=(green.medifeetz.icu) [23.254.228.40] F=<4434-1592-49095-1194-user=rrci.com@mail.medifeetz.icu> rejected RCPT <user@rrci.com>: 23.254.228.40 is listed at zen.spamhaus.org (127.0.0.3: https://www.spamhaus.org/sbl/query/SBLCSS)",
	  EV_MTA_EXIM, "23.254.228.40", 0, "zen.spamhaus.org", "2019-12-07T07:08:27Z" },
	{ "2013-06-15 11:19:33 [2249] H=([2.181.148.95]) [2.181.148.95]:52391 I=[1.2.3.4]:25 F=fantasizesg4@google.com rejected RCPT some@email.com: rejected found in dnsbl zen.spamhaus.org",
	  EV_MTA_EXIM, "2.181.148.95", 52391, "zen.spamhaus.org", "2013-06-15T11:19:33Z" },
	{ "2013-06-16 02:50:43 H=dbs.marsukov.com [111.67.203.114] F=<trudofspiori@mail.ru> rejected RCPT <info@nanomedtech.ua>: rejected because 111.67.203.114 is in a black list at dnsbl.sorbs.net\\nCurrently Sending Spam See: http://www.sorbs.net/lookup.shtml?111.67.203.114",
	  EV_MTA_EXIM, "111.67.203.114", 0, "dnsbl.sorbs.net", "2013-06-16T02:50:43Z" },
	{ "Feb 23 07:00:08 petermurray sm-mta[3992]: s1N706jo003992: ruleset=check_rcpt, arg1=<joaofr@camilopinto.pt>, relay=[151.232.63.226], reject=550 5.7.1 <joaofr@camilopinto.pt>... Rejected: 151.232.63.226 listed at sbl-xbl.spamhaus.org",
	  EV_MTA_SENDMAIL, "151.232.63.226", 0, "sbl-xbl.spamhaus.org", "2024-02-23T07:00:08Z" },
	{ "Jan 10 07:37:48 smtp sendmail[32440]: ruleset=check_relay, arg1=[211.228.26.114], arg2=211.228.26.114, relay=[211.228.26.114], reject=554 5.7.1 Rejected 211.228.26.114 found in dnsbl.sorbs.net",
	  EV_MTA_SENDMAIL, "211.228.26.114", 0, "dnsbl.sorbs.net", "2024-01-10T07:37:48Z" },

	/* Constructed from the documented field rules. Postfix smtpd with client port logging. */
	{ "Feb 07 12:25:45 mx postfix/smtpd[13275]: NOQUEUE: reject: RCPT from unknown[122.166.249.154]:48123: 554 5.7.1 Service unavailable; Client host [122.166.249.154] blocked using zen.spamhaus.org; from=<a@example.com> to=<b@example.org> proto=ESMTP helo=<x>",
	  EV_MTA_POSTFIX, "122.166.249.154", 48123, "zen.spamhaus.org", "2024-02-07T12:25:45Z" },
	/* IPv6 with a port, CONNECT state, a multi-instance tag, a zone in capitals with a final dot. */
	{ "Jun 14 23:59:59 mx postfix-out/smtpd[1]: NOQUEUE: reject: CONNECT from unknown[2001:db8::1]:25000: 554 5.7.1 Service unavailable; Client host [2001:db8::1] blocked using ZEN.Spamhaus.ORG.",
	  EV_MTA_POSTFIX, "2001:db8::1", 25000, "zen.spamhaus.org", "2024-06-14T23:59:59Z" },
	/* smtps service, a queue id, a reason holding ';' and a URL. */
	{ "Jun  1 00:00:00 mx postfix/smtps/smtpd[2]: 4F3D21C3A: reject: RCPT from mail.example.net[198.51.100.7]: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using bl.spamcop.net; Blocked - see https://www.spamcop.net/bl.shtml?198.51.100.7; more; from=<a@example.net> to=<b@example.org> proto=ESMTP helo=<mail.example.net>",
	  EV_MTA_POSTFIX, "198.51.100.7", 0, "bl.spamcop.net", "2024-06-01T00:00:00Z" },
	/* An IPv4-mapped client is the same address as the plain IPv4 one. */
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[::ffff:192.0.2.8]: 554 5.7.1 Service unavailable; Client host [192.0.2.8] blocked using zen.spamhaus.org; from=<> to=<b@example.org> proto=ESMTP helo=<x>",
	  EV_MTA_POSTFIX, "192.0.2.8", 0, "zen.spamhaus.org", "2024-06-01T00:00:00Z" },
	/* A zone with a reply filter keeps only the domain. */
	{ "Jun  1 00:00:01 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.9]: 554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org=127.0.0.[2..11]; from=<> to=<b@example.org> proto=ESMTP helo=<x>",
	  EV_MTA_POSTFIX, "192.0.2.9", 0, "zen.spamhaus.org", "2024-06-01T00:00:01Z" },
	/* A syslog <PRI> and no host name before the tag. */
	{ "<22>Jun  2 10:00:00 postfix/postscreen[318]: DNSBL rank 2 for [2001:db8:bad:1::25]:54289",
	  EV_MTA_POSTSCREEN, "2001:db8:bad:1::25", 54289, "", "2024-06-02T10:00:00Z" },
	/* dnsblog, and the postscreen lines of INPUTS.md as rejections with RFC 3339 stamps. */
	{ "May  5 15:51:10 xxx postfix/dnsblog[1150]: addr 216.245.194.173 listed by domain rbl.example.com as 127.0.0.2",
	  EV_MTA_POSTSCREEN, "216.245.194.173", 0, "rbl.example.com", "2024-05-05T15:51:10Z" },
	{ "2024-08-06T07:04:36.486230+00:00 newhost postfix/postscreen[7551]: DNSBL rank 2 for [209.85.160.181]:50323",
	  EV_MTA_POSTSCREEN, "209.85.160.181", 50323, "", "2024-08-06T07:04:36.486230Z" },
	{ "2025-12-13T09:37:24.353741-05:00 mail postfix/postscreen[8867]: DNSBL rank 1 for [185.196.11.30]:64844",
	  EV_MTA_POSTSCREEN, "185.196.11.30", 64844, "", "2025-12-13T14:37:24.353741Z" },
	/* journalctl short-iso: +hhmm without a colon; Z; 1 and 9 fraction digits. */
	{ "2024-01-15T10:00:00+0100 mx postfix/smtpd[5]: NOQUEUE: reject: RCPT from unknown[192.0.2.10]: 554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.spamhaus.org; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<g>",
	  EV_MTA_POSTFIX, "192.0.2.10", 0, "zen.spamhaus.org", "2024-01-15T09:00:00Z" },
	{ "2024-02-29T12:00:00Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.11]:1",
	  EV_MTA_POSTSCREEN, "192.0.2.11", 1, "", "2024-02-29T12:00:00Z" },
	{ "2024-08-06T07:04:36.5Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.12]:65535",
	  EV_MTA_POSTSCREEN, "192.0.2.12", 65535, "", "2024-08-06T07:04:36.500000Z" },
	{ "2024-08-06T07:04:36,123456789+02:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.13]:2",
	  EV_MTA_POSTSCREEN, "192.0.2.13", 2, "", "2024-08-06T05:04:36.123456Z" },
	{ "2024-08-06T07:04:36-03 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.14]:3",
	  EV_MTA_POSTSCREEN, "192.0.2.14", 3, "", "2024-08-06T10:04:36Z" },
	/* Exim: milliseconds, log_timezone, pid, message id, IPv6 with port. */
	{ "2019-12-07 07:08:27.123 +0100 [2249] 1iddZ0-0007Xy-Kq H=(helo.example) [2001:db8::7]:4321 I=[2001:db8::25]:25 F=<a@b.example> rejected RCPT <user@example.org>: 2001:db8::7 is listed at v6bl.example (127.0.0.2)",
	  EV_MTA_EXIM, "2001:db8::7", 4321, "v6bl.example", "2019-12-07T06:08:27.123000Z" },
	/* Exim through syslog: its own stamp (with the year) follows the tag and is used. */
	{ "Dec  7 07:08:28 mx exim[2249]: 2019-12-07 07:08:27 H=[192.0.2.20] rejected connection in \"connect\" ACL: 192.0.2.20 is listed at zen.spamhaus.org",
	  EV_MTA_EXIM, "192.0.2.20", 0, "zen.spamhaus.org", "2019-12-07T07:08:27Z" },
	{ "Dec  7 07:08:28 mx exim4[2249]: H=[192.0.2.21]:1234 rejected connection in \"connect\" ACL: listed at zen.spamhaus.org",
	  EV_MTA_EXIM, "192.0.2.21", 1234, "zen.spamhaus.org", "2023-12-07T07:08:28Z" },
	{ "2020-01-02 03:04:05 H=host.example [192.0.2.22] F=<a@b.example> rejected RCPT <u@example.org>: Your IP address is listed at bl.example.net",
	  EV_MTA_EXIM, "192.0.2.22", 0, "bl.example.net", "2020-01-02T03:04:05Z" },
	/* The H= helo holds an address in brackets that is not the client's. */
	{ "2020-01-02 03:04:05 H=(foo [198.51.100.1]) [192.0.2.23] rejected RCPT <u@example.org>: 192.0.2.23 is listed at bl.example.net",
	  EV_MTA_EXIM, "192.0.2.23", 0, "bl.example.net", "2020-01-02T03:04:05Z" },
	/* Sendmail: IPv6: prefix, a relay name, (may be forged); an old v4-mapped relay; blackhole. */
	{ "Mar 29 22:51:46 server sm-mta[50438]: 06QDQnNf050438: ruleset=check_rcpt, arg1=<u@example.org>, relay=mail.example.com [IPv6:2001:DB8::1] (may be forged), reject=550 5.7.1 <u@example.org>... Rejected: IPv6:2001:DB8::1 listed at v6bl.example",
	  EV_MTA_SENDMAIL, "2001:db8::1", 0, "v6bl.example", "2024-03-29T22:51:46Z" },
	{ "Apr  1 10:00:00 mx sendmail[1]: ruleset=check_relay, arg1=host.example, arg2=::ffff:192.0.2.30, relay=host.example [IPv6:::ffff:192.0.2.30], reject=554 5.7.1 Rejected ::ffff:192.0.2.30 found in dnsbl.sorbs.net",
	  EV_MTA_SENDMAIL, "192.0.2.30", 0, "dnsbl.sorbs.net", "2024-04-01T10:00:00Z" },
	{ "Apr  1 10:00:00 mx sendmail[1]: g1A2B3C4: ruleset=check_mail, arg1=<a@b.example>, relay=[192.0.2.31], reject=550 5.7.1 Mail from 192.0.2.31 refused by blackhole site rbl.maps.vix.com",
	  EV_MTA_SENDMAIL, "192.0.2.31", 0, "rbl.maps.vix.com", "2024-04-01T10:00:00Z" },
	/* A CR before the newline is not part of the zone. */
	{ "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.32 listed by domain zen.spamhaus.org as 127.0.0.4\r",
	  EV_MTA_POSTSCREEN, "192.0.2.32", 0, "zen.spamhaus.org", "2024-06-01T00:00:00Z" },
};

START_TEST(test_event_lines)
{
	const struct ev_case *c = &ev_cases[_i];
	mlog_parser p;
	ev_reject ev;
	int rc;

	table_parser(&p);
	memset(&ev, 0xa5, sizeof ev);
	rc = parse(&p, c->line, &ev);
	ck_assert_msg(rc == 1, "rc %d (%s) for: %s", rc, mlog_parser_reason(&p), c->line);
	check_event(c->line, &ev, c->mta, c->addr, c->port, c->zone, c->utc);
	ck_assert_uint_eq(p.events[c->mta], 1);
	ck_assert_uint_eq(p.lines, 1);
}
END_TEST

/* ---- lines that are not DNSBL rejections of the client -------------------------------------- */

static const struct skip_case {
	const char *line;
	int kind;
} skip_cases[] = {
	/* Real lines without a rejection (INPUTS.md, the samples). */
	{ "2024-08-06T07:04:36.486230+00:00 newhost postfix/postscreen[7551]: CONNECT from [209.85.160.181]:50323 to [xxx.xxx.xxx.xxx]:25", MLOG_SKIP_NOANCHOR },
	{ "2024-08-06T07:04:42.485271+00:00 newhost postfix/postscreen[7551]: PASS NEW [209.85.160.181]:50323", MLOG_SKIP_NOANCHOR },
	{ "2025-12-13T09:37:24.353741-05:00 mail postfix/postscreen[8867]: DISCONNECT [185.196.11.30]:64844", MLOG_SKIP_NOANCHOR },
	{ "Mar 29 22:51:46 server sm-mta[50438]: 06QDQnNf050438: example.com [IPv6:2001:DB8::1] did not issue MAIL/EXPN/VRFY/ETRN during connection to IPv6", MLOG_SKIP_NOANCHOR },
	{ "Nov 27 06:28:04 mx postfix/smtpd[32416]: connect from unknown[2001:db8:bad:1::25]", MLOG_SKIP_NOANCHOR },
	{ "Nov 27 06:28:04 mx postfix/smtpd[32416]: disconnect from unknown[2001:db8:bad:1::25] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4", MLOG_SKIP_NOANCHOR },
	{ "", MLOG_SKIP_NOANCHOR },
	/* Exim's warn ACL logs a listing without rejecting; "REJECT" is not an anchor. */
	{ "2020-01-02 03:04:05 H=[192.0.2.1] Warning: 192.0.2.1 is listed at zen.spamhaus.org", MLOG_SKIP_NOANCHOR },
	{ "Jun  1 00:00:00 mx kernel: [UFW BLOCK] REJECT IN=eth0 SRC=192.0.2.1", MLOG_SKIP_NOANCHOR },
	/* Real: an Exim rejection for another reason (INPUTS.md). */
	{ "2013-06-02 06:54:20 [13314] SMTP protocol synchronization error (input sent without waiting for greeting): rejected connection from H=[211.148.195.192]:25936 I=[1.2.3.4]:25 input=\"GET / HTTP/1.1\\r\\n\\r\\n\"", MLOG_SKIP_OTHER },
	/* Postfix rejections for other reasons. */
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 550 5.1.1 <nobody@example.org>: Recipient address rejected: User unknown in virtual mailbox table; from=<a@example.com> to=<nobody@example.org> proto=ESMTP helo=<x>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <u@example.net>: Relay access denied; from=<a@example.com> to=<u@example.net> proto=ESMTP helo=<x>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.2.0 <u@example.org>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/example.org.html; from=<a@example.com> to=<u@example.org> proto=ESMTP helo=<x>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 504 5.5.2 <localhost>: Helo command rejected: need fully-qualified hostname; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<localhost>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<x>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/postscreen[318]: NOQUEUE: reject: CONNECT from [192.0.2.1]:1234: too many connections", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/postscreen[318]: NOQUEUE: reject: RCPT from [192.0.2.1]:1234: 550 5.5.1 Protocol error; from=<a@b.c>, to=<d@e.f>, proto=ESMTP, helo=<x>", MLOG_SKIP_OTHER },
	{ "Jun  1 00:00:00 mx postfix/cleanup[9]: 4F3D21C3A: reject: header Subject: buy now from unknown[192.0.2.1]; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<x>: 5.7.1 spam", MLOG_SKIP_OTHER },
	/* Domain blocklists (RHSBL): sender, HELO, client name, reverse client name, recipient. */
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Sender address [spammer@bad.example] blocked using dbl.spamhaus.org; from=<spammer@bad.example> to=<u@example.org> proto=ESMTP helo=<x>", MLOG_SKIP_RHSBL },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Helo command [bad.example] blocked using dbl.spamhaus.org; from=<a@b.c> to=<u@example.org> proto=ESMTP helo=<bad.example>", MLOG_SKIP_RHSBL },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from mail.bad.example[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [mail.bad.example] blocked using dbl.spamhaus.org; from=<a@b.c> to=<u@example.org> proto=ESMTP helo=<x>", MLOG_SKIP_RHSBL },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Unverified Client host [mail.bad.example] blocked using dbl.spamhaus.org; from=<a@b.c> to=<u@example.org> proto=ESMTP helo=<x>", MLOG_SKIP_RHSBL },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Recipient address [u@bad.example] blocked using dbl.example; from=<a@b.c> to=<u@bad.example> proto=ESMTP helo=<x>", MLOG_SKIP_RHSBL },
	{ "2020-01-02 03:04:05 H=mail.example [192.0.2.1] F=<a@bad.example> rejected RCPT <u@example.org>: bad.example is listed at dbl.spamhaus.org", MLOG_SKIP_RHSBL },
	{ "2020-01-02 03:04:05 H=mail.example [192.0.2.1] F=<a@bad.example> rejected RCPT <u@example.org>: a@bad.example is listed at ebl.example", MLOG_SKIP_RHSBL },
	{ "2020-01-02 03:04:05 H=mail.example [192.0.2.1] F=<a@bad.example> rejected RCPT <u@example.org>: Sender domain listed at dbl.spamhaus.org", MLOG_SKIP_RHSBL },
	{ "2020-01-02 03:04:05 H=(bad.example) [192.0.2.1] rejected EHLO or HELO bad.example: HELO name listed at dbl.spamhaus.org", MLOG_SKIP_RHSBL },
	/* Exim: another address listed (not the client), and a rejection without a DNS list. */
	{ "2020-01-02 03:04:05 H=mail.example [192.0.2.1] rejected RCPT <u@example.org>: 198.51.100.9 is listed at zen.spamhaus.org", MLOG_SKIP_OTHER },
	{ "2020-01-02 03:04:05 H=mail.example [192.0.2.1] F=<a@b.c> rejected RCPT <u@example.org>: Unrouteable address", MLOG_SKIP_OTHER },
	/* Sendmail rejections for other reasons and other rulesets. */
	{ "Feb 23 07:00:08 mx sm-mta[3992]: s1N706jo003992: ruleset=check_rcpt, arg1=<u@example.net>, relay=[192.0.2.1], reject=550 5.7.1 <u@example.net>... Relaying denied", MLOG_SKIP_OTHER },
	{ "Feb 23 07:00:08 mx sm-mta[3992]: s1N706jo003992: ruleset=check_mail, arg1=<a@nx.example>, relay=[192.0.2.1], reject=553 5.1.8 <a@nx.example>... Domain of sender address a@nx.example does not exist", MLOG_SKIP_OTHER },
	{ "Feb 23 07:00:08 mx sm-mta[3992]: s1N706jo003992: ruleset=check_compat, arg1=<a@b.c>, relay=[192.0.2.1], reject=553 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org", MLOG_SKIP_OTHER },
	/* Postfix warn_if_reject: logged, not rejected. */
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject_warning: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<a@b.c> to=<d@e.f> proto=ESMTP helo=<x>", MLOG_SKIP_WARNING },
	/* An anchor, but no program or shape read here. */
	{ "Jun  1 00:00:00 mx dovecot[1]: auth: user rejected", MLOG_SKIP_UNKNOWN },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: warning: unknown smtpd restriction: \"reject_rbl\"", MLOG_SKIP_UNKNOWN },
	{ "some text about a reject", MLOG_SKIP_UNKNOWN },
	{ "Jun  1 00:00:00 mx postfix/dnsblog[1]: warning: dnsblog_query: lookup error for DNS query 1.2.0.192.zen.spamhaus.org: Host or domain name not found, listed by domain? reject", MLOG_SKIP_UNKNOWN },
};

START_TEST(test_skip_lines)
{
	const struct skip_case *c = &skip_cases[_i];
	mlog_parser p;
	ev_reject ev;
	int rc;

	table_parser(&p);
	memset(&ev, 0xa5, sizeof ev);
	rc = parse(&p, c->line, &ev);
	ck_assert_msg(rc == 0, "rc %d (%s) for: %s", rc, mlog_parser_reason(&p), c->line);
	for (int k = 0; k < MLOG_SKIP_COUNT; k++)
		ck_assert_msg(p.skipped[k] == (k == c->kind), "kind %s counted %llu for: %s",
		              mlog_skip_name(k), (unsigned long long)p.skipped[k], c->line);
	ck_assert_uint_eq(p.malformed, 0);
	/* *out is left alone. */
	ck_assert_uint_eq(ev.port, 0xa5a5);
}
END_TEST

/* ---- malformed lines of a kind read here ------------------------------------------------------ */

static const struct bad_case {
	const char *line;
	int rc;
	const char *reason;   /* a substring of mlog_parser_reason */
} bad_cases[] = {
	{ "Foo 12 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp \"Foo 12" },
	{ "janvier 12 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "garbage NOQUEUE: reject: RCPT from x[192.0.2.1]: 554 5.7.1 Client host [192.0.2.1] blocked using zen", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "Nov 27 25:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "time stamp out of range" },
	{ "Nov 27 12:60:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "time stamp out of range" },
	{ "Nov 32 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "time stamp out of range" },
	{ "Nov 31 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "date out of range" },
	{ "Nov 27 6:28:04 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "2024-13-01T00:00:00Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "time stamp out of range" },
	{ "2023-02-29T00:00:00Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "date out of range" },
	{ "1969-12-31T23:59:59Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ERANGE, "time stamp out of range" },
	{ "2024-01-01T00:00:00+25:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "2024-01-01T00:00:00.1234567890Z mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "2024-01-01T00:00:00Q mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", V6R_ESYNTAX, "unrecognised time stamp" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.256]: 554 5.7.1 Service unavailable; Client host [192.0.2.256] blocked using zen.spamhaus.org; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ESYNTAX, "bad client address \"192.0.2.256\"" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[::]: 554 5.7.1 Service unavailable; Client host [::] blocked using zen.spamhaus.org; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ESYNTAX, "bad client address \"::\"" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.2] blocked using zen.spamhaus.org; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ESYNTAX, "blocked address is not the client \"192.0.2.2\"" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1.5] blocked using zen.spamhaus.org; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ESYNTAX, "bad blocked address" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]:65536: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ERANGE, "bad client port" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using ; from=<> to=<u@example.org> proto=ESMTP helo=<x>", V6R_ESYNTAX, "bad DNSBL zone" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen..spamhaus.org; from=<>", V6R_ESYNTAX, "bad DNSBL zone" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT from unknown: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", V6R_ESYNTAX, "no client address" },
	{ "Jun  1 00:00:00 mx postfix/smtpd[2]: NOQUEUE: reject: RCPT unknown[192.0.2.1]: 554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org", V6R_ESYNTAX, "bad reject line" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank x for [192.0.2.1]:1", V6R_ESYNTAX, "bad DNSBL rank line" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0.2.1]:99999", V6R_ERANGE, "bad client port \"99999\"" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [0.0.0.0]:25", V6R_ESYNTAX, "bad client address \"0.0.0.0\"" },
	/* Dotted quads as inet_pton reads them: no leading zeros, four octets of at most 255. */
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0.2.01]:25", V6R_ESYNTAX, "bad client address \"192.0.2.01\"" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0.2.1.5]:25", V6R_ESYNTAX, "bad client address \"192.0.2.1.5\"" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0.2.1000]:25", V6R_ESYNTAX, "bad client address \"192.0.2.1000\"" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0..1]:25", V6R_ESYNTAX, "bad client address \"192.0..1\"" },
	{ "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 2 for [192.0.2.1]:25x", V6R_ESYNTAX, "bad DNSBL rank line" },
	{ "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2 listed by domain zen.spamhaus.org as 127.0.0.2", V6R_ESYNTAX, "bad client address \"192.0.2\"" },
	{ "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.1 listed by domain  as 127.0.0.2", V6R_ESYNTAX, "bad DNSBL zone" },
	{ "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.1 listed by domain zen.spamhaus.org", V6R_ESYNTAX, "bad dnsblog line" },
	{ "2019-12-07 07:08:27 rejected RCPT <u@example.org>: 192.0.2.1 is listed at zen.spamhaus.org", V6R_ESYNTAX, "no H= field" },
	{ "2019-12-07 07:08:27 H=(helo.example) rejected RCPT <u@example.org>: listed at zen.spamhaus.org", V6R_ESYNTAX, "no client address in H=" },
	{ "2019-12-07 07:08:27 H=[192.0.2.1] rejected RCPT <u@example.org>: 192.0.2.1 is listed at ..", V6R_ESYNTAX, "bad DNSBL zone" },
	{ "Feb 23 07:00:08 mx sm-mta[1]: ruleset=check_rcpt, arg1=<u@example.org>, reject=550 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org", V6R_ESYNTAX, "no relay=" },
	{ "Feb 23 07:00:08 mx sm-mta[1]: ruleset=check_rcpt, arg1=<u@example.org>, relay=host.example, reject=550 5.7.1 Rejected: 192.0.2.1 listed at zen.spamhaus.org", V6R_ESYNTAX, "no relay address" },
	{ "Feb 23 07:00:08 mx sm-mta[1]: ruleset=check_rcpt, arg1=<u@example.org>, relay=[192.0.2.1], reject=550 5.7.1 Rejected: 192.0.2.2 listed at zen.spamhaus.org", V6R_ESYNTAX, "listed address is not the relay \"192.0.2.2\"" },
	{ "Feb 23 07:00:08 mx sm-mta[1]: ruleset=check_rcpt, arg1=<u@example.org>, relay=[IPv6:2001:db8::zz], reject=550 5.7.1 Rejected: 2001:db8::1 listed at v6bl.example", V6R_ESYNTAX, "bad relay address" },
};

START_TEST(test_bad_lines)
{
	const struct bad_case *c = &bad_cases[_i];
	mlog_parser p;
	ev_reject ev;
	int rc;

	table_parser(&p);
	ck_assert_str_eq(mlog_parser_reason(&p), "");
	memset(&ev, 0xa5, sizeof ev);
	rc = parse(&p, c->line, &ev);
	ck_assert_msg(rc == c->rc, "rc %d (%s), want %d for: %s", rc, mlog_parser_reason(&p), c->rc,
	              c->line);
	ck_assert_msg(strstr(mlog_parser_reason(&p), c->reason) != NULL, "reason \"%s\" lacks \"%s\"",
	              mlog_parser_reason(&p), c->reason);
	ck_assert_uint_eq(p.malformed, 1);
	ck_assert_uint_eq(ev.port, 0xa5a5);
}
END_TEST

/* ---- the real sample files, every line ------------------------------------------------------ */

/* The events of a sample file by line number; every other line is MLOG_SKIP_NOANCHOR. */
struct sample_ev {
	unsigned lineno;
	int mta;
	const char *addr;
	unsigned port;
	const char *zone;
	const char *utc;
};

static const struct sample_ev smtpd_events[] = {
	{ 4, EV_MTA_POSTFIX, "2001:db8:bad:1::25", 0, "v6bl.test", "2026-11-27T06:28:04Z" },
	{ 7, EV_MTA_POSTFIX, "2001:db8:bad:2::25", 0, "v6bl.test", "2026-11-27T06:28:04Z" },
	{ 17, EV_MTA_POSTFIX, "2001:db8:900d:bad::25", 0, "v6bl.test", "2026-11-27T06:28:05Z" },
};

static const struct sample_ev psc_events[] = {
	{ 5, EV_MTA_POSTSCREEN, "2001:db8:bad:1::25", 0, "v6bl.test", "2026-11-27T06:28:08Z" },
	{ 6, EV_MTA_POSTSCREEN, "2001:db8:bad:1::25", 54289, "", "2026-11-27T06:28:11Z" },
	{ 7, EV_MTA_POSTSCREEN, "2001:db8:bad:1::25", 54289, "v6bl.test", "2026-11-27T06:28:11Z" },
	{ 10, EV_MTA_POSTSCREEN, "2001:db8:bad:2::25", 0, "v6bl.test", "2026-11-27T06:28:12Z" },
	{ 11, EV_MTA_POSTSCREEN, "2001:db8:bad:2::25", 53091, "", "2026-11-27T06:28:15Z" },
	{ 12, EV_MTA_POSTSCREEN, "2001:db8:bad:2::25", 53091, "v6bl.test", "2026-11-27T06:28:15Z" },
	{ 24, EV_MTA_POSTSCREEN, "2001:db8:900d:bad::25", 0, "v6bl.test", "2026-11-27T06:28:18Z" },
	{ 25, EV_MTA_POSTSCREEN, "2001:db8:900d:bad::25", 45749, "", "2026-11-27T06:28:21Z" },
	{ 26, EV_MTA_POSTSCREEN, "2001:db8:900d:bad::25", 45749, "v6bl.test", "2026-11-27T06:28:21Z" },
};

static const struct sample_file {
	const char *path;
	unsigned lines;
	const struct sample_ev *ev;
	unsigned n_ev;
} sample_files[] = {
	{ DATA "postfix-smtpd.log", 26, smtpd_events, 3 },
	{ DATA "postfix-postscreen.log", 38, psc_events, 9 },
};

/* Reads a sample in mode MLOG_ALL, checking every line, with the samples' mtime as reference. */
START_TEST(test_sample_files)
{
	const struct sample_file *s = &sample_files[_i];
	mlog_parser p;
	mlog_file *f;
	mlog_line ln;
	unsigned k = 0, n = 0;
	int rc;

	mlog_parser_init(&p, utc_s("2026-11-27T07:46:46Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_int_eq(mlog_file_open(&f, s->path), 0);
	ck_assert(!mlog_file_compressed(f));
	while ((rc = mlog_file_next(f, MLOG_ALL, &ln)) == 1) {
		ev_reject ev;

		n++;
		ck_assert_uint_eq(ln.lineno, n);
		ck_assert(!ln.too_long && !ln.no_newline);
		rc = mlog_parse_line(&p, ln.text, ln.len, &ev);
		if (k < s->n_ev && s->ev[k].lineno == n) {
			const struct sample_ev *x = &s->ev[k++];

			ck_assert_msg(rc == 1, "%s:%u: rc %d (%s)", s->path, n, rc, mlog_parser_reason(&p));
			check_event(s->path, &ev, x->mta, x->addr, x->port, x->zone, x->utc);
		} else {
			ck_assert_msg(rc == 0, "%s:%u: rc %d", s->path, n, rc);
		}
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(n, s->lines);
	ck_assert_uint_eq(k, s->n_ev);
	ck_assert_uint_eq(mlog_file_lines(f), s->lines);
	ck_assert_uint_eq(p.skipped[MLOG_SKIP_NOANCHOR], s->lines - s->n_ev);
	ck_assert_uint_eq(p.malformed, 0);
	mlog_file_close(f);
}
END_TEST

/* The same files in MLOG_CANDIDATES mode yield exactly the event lines, with their numbers. */
START_TEST(test_sample_candidates)
{
	const struct sample_file *s = &sample_files[_i];
	mlog_file *f;
	mlog_line ln;
	unsigned k = 0;

	ck_assert_int_eq(mlog_file_open(&f, s->path), 0);
	while (mlog_file_next(f, MLOG_CANDIDATES, &ln) == 1) {
		ck_assert_uint_lt(k, s->n_ev);
		ck_assert_uint_eq(ln.lineno, s->ev[k].lineno);
		k++;
	}
	ck_assert_uint_eq(k, s->n_ev);
	ck_assert_uint_eq(mlog_file_lines(f), s->lines);
	mlog_file_close(f);
}
END_TEST

/* ---- localized month names -------------------------------------------------------------------- */

static const struct month_case {
	const char *name;
	int mon;   /* 0: not a month */
} month_cases[] = {
	{ "Jan", 1 }, { "Feb", 2 }, { "Mar", 3 }, { "Apr", 4 }, { "May", 5 }, { "Jun", 6 },
	{ "Jul", 7 }, { "Aug", 8 }, { "Sep", 9 }, { "Oct", 10 }, { "Nov", 11 }, { "Dec", 12 },
	{ "DEC", 12 }, { "dec", 12 }, { "Dec.", 12 },
	/* French, as glibc's fr_FR %b writes them, and in capitals */
	{ "janv.", 1 }, { "févr.", 2 }, { "mars", 3 }, { "avr.", 4 }, { "mai", 5 }, { "juin", 6 },
	{ "juil.", 7 }, { "août", 8 }, { "sept.", 9 }, { "oct.", 10 }, { "nov.", 11 },
	{ "déc.", 12 }, { "JANV.", 1 }, { "FÉVR.", 2 }, { "AOÛT", 8 }, { "DÉC.", 12 }, { "févr", 2 },
	{ "fevr.", 2 }, { "aout", 8 },
	/* German */
	{ "Mär", 3 }, { "MÄR", 3 }, { "Mai", 5 }, { "Okt", 10 }, { "Dez", 12 }, { "Mrz", 3 },
	/* Spanish */
	{ "ene", 1 }, { "feb", 2 }, { "mar", 3 }, { "abr", 4 }, { "may", 5 }, { "jun", 6 },
	{ "jul", 7 }, { "ago", 8 }, { "sep", 9 }, { "oct", 10 }, { "nov", 11 }, { "dic", 12 },
	{ "ENE.", 1 },
	/* not months */
	{ "Foo", 0 }, { "Ja", 0 }, { "janvier", 0 }, { "Ma r", 0 }, { "Mär..", 0 }, { "d\xc3", 0 },
};

START_TEST(test_months)
{
	const struct month_case *c = &month_cases[_i];
	char line[256], want[32];
	mlog_parser p;
	ev_reject ev;
	int rc;

	/* Reference at the very end of 2024: every month of 2024 is in the past. */
	mlog_parser_init(&p, utc_s("2024-12-31T23:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	snprintf(line, sizeof line, "%s 15 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1",
	         c->name);
	rc = parse(&p, line, &ev);
	if (c->mon == 0) {
		ck_assert_msg(rc == V6R_ESYNTAX, "rc %d for %s", rc, line);
		return;
	}
	ck_assert_msg(rc == 1, "rc %d (%s) for %s", rc, mlog_parser_reason(&p), line);
	snprintf(want, sizeof want, "2024-%02d-15T12:00:00Z", c->mon);
	ck_assert_uint_eq(ev.t_us, utc_us(want));
}
END_TEST

/* Day padding: "Feb  7", "Feb 07", "Feb 7" are the same day. */
START_TEST(test_day_padding)
{
	static const char *const forms[] = { "Feb  7", "Feb 07", "Feb 7" };
	char line[200];
	mlog_parser p;
	ev_reject ev;

	table_parser(&p);
	for (size_t i = 0; i < 3; i++) {
		snprintf(line, sizeof line, "%s 12:25:45 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1",
		         forms[i]);
		ck_assert_int_eq(parse(&p, line, &ev), 1);
		ck_assert_uint_eq(ev.t_us, utc_us("2024-02-07T12:25:45Z"));
	}
	/* Three spaces, or none, is not a stamp. */
	ck_assert_int_eq(parse(&p, "Feb   7 12:25:45 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", &ev),
	                 V6R_ESYNTAX);
	ck_assert_int_eq(parse(&p, "Feb7 12:25:45 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", &ev),
	                 V6R_ESYNTAX);
}
END_TEST

/* ---- year inference ------------------------------------------------------------------------- */

/* Parses "STAMP mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1" and returns its time. */
static uint64_t stamp_time(mlog_parser *p, const char *stamp)
{
	char line[200];
	ev_reject ev;
	int rc;

	snprintf(line, sizeof line, "%s mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", stamp);
	rc = parse(p, line, &ev);
	ck_assert_msg(rc == 1, "rc %d (%s) for %s", rc, mlog_parser_reason(p), line);
	return ev.t_us;
}

static const struct year_step {
	const char *stamp;
	const char *utc;
} year_rollover[] = {
	/* A file written until 2025-01-02 that starts in December. */
	{ "Dec 30 10:00:00", "2024-12-30T10:00:00Z" },
	{ "Dec 31 23:59:59", "2024-12-31T23:59:59Z" },
	{ "Jan  1 00:00:01", "2025-01-01T00:00:01Z" },
	/* A late line of the old year does not move the state back. */
	{ "Dec 31 23:59:58", "2024-12-31T23:59:58Z" },
	{ "Jan  1 12:00:00", "2025-01-01T12:00:00Z" },
	{ "Jan  1 23:59:59", "2025-01-01T23:59:59Z" },
}, year_later[] = {
	/* Reference 2024-06-15 (say stdin, "now"): a file from the past summer to the coming spring
	   would put the spring in the future, so it all shifts a year back. */
	{ "Jul 20 10:00:00", "2023-07-20T10:00:00Z" },
	{ "Dec 31 10:00:00", "2023-12-31T10:00:00Z" },
	{ "Jan  5 10:00:00", "2024-01-05T10:00:00Z" },
	{ "Jun 15 10:00:00", "2024-06-15T10:00:00Z" },
	/* More than a day after the reference: last year's, and the state follows. */
	{ "Jun 16 00:00:01", "2023-06-16T00:00:01Z" },
	{ "Jun 17 00:00:00", "2023-06-17T00:00:00Z" },
}, year_iso[] = {
	/* A stamp with a year sets the state: the next year-less line follows it. */
	{ "2021-12-31T23:00:00Z", "2021-12-31T23:00:00Z" },
	{ "Jan  1 01:00:00", "2022-01-01T01:00:00Z" },
	{ "Mar  3 03:00:00", "2022-03-03T03:00:00Z" },
};

static void run_steps(mlog_parser *p, const struct year_step *s, size_t n)
{
	char got[64];

	for (size_t i = 0; i < n; i++) {
		uint64_t t = stamp_time(p, s[i].stamp);

		ck_assert_msg(t == utc_us(s[i].utc), "step %zu %s: %s, want %s", i, s[i].stamp,
		              fmt_us(t, got, sizeof got), s[i].utc);
	}
}

START_TEST(test_year_rollover)
{
	mlog_parser p;

	mlog_parser_init(&p, utc_s("2025-01-02T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	run_steps(&p, year_rollover, sizeof year_rollover / sizeof year_rollover[0]);

	mlog_parser_set_ref(&p, utc_s("2024-06-15T00:00:00Z"));
	run_steps(&p, year_later, sizeof year_later / sizeof year_later[0]);

	mlog_parser_set_ref(&p, utc_s("2024-06-15T00:00:00Z"));
	run_steps(&p, year_iso, sizeof year_iso / sizeof year_iso[0]);
}
END_TEST

/* Exactly one day after the reference is still this year; one second more is last year. */
START_TEST(test_year_future_bound)
{
	mlog_parser p;
	ev_reject ev;

	mlog_parser_init(&p, utc_s("2024-06-15T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_uint_eq(stamp_time(&p, "Jun 16 00:00:00"), utc_us("2024-06-16T00:00:00Z"));
	mlog_parser_set_ref(&p, utc_s("2024-06-15T00:00:00Z"));
	ck_assert_uint_eq(stamp_time(&p, "Jun 16 00:00:01"), utc_us("2023-06-16T00:00:01Z"));
	/* Before 1970 is out of range. */
	mlog_parser_set_ref(&p, utc_s("1970-01-01T12:00:00Z"));
	ck_assert_int_eq(parse(&p, "Dec 31 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", &ev),
	                 V6R_ERANGE);
}
END_TEST

/* Feb 29: a leap day a year back is found; in a plain year it is out of range. */
START_TEST(test_year_leap_day)
{
	mlog_parser p;
	ev_reject ev;

	mlog_parser_init(&p, utc_s("2025-01-10T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_uint_eq(stamp_time(&p, "Feb 29 12:00:00"), utc_us("2024-02-29T12:00:00Z"));

	mlog_parser_init(&p, utc_s("2025-03-10T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_int_eq(parse(&p, "Feb 29 12:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1", &ev),
	                 V6R_ERANGE);
	ck_assert_ptr_nonnull(strstr(mlog_parser_reason(&p), "date out of range"));
}
END_TEST

/* ---- time zones ----------------------------------------------------------------------------- */

/* Sets TZ for the test (a POSIX rule, so no zone files are needed) and restores it. */
static char *saved_tz;
static bool had_tz;

static void tz_push(const char *tz)
{
	const char *old = getenv("TZ");

	had_tz = old != NULL;
	saved_tz = old ? strdup(old) : NULL;
	setenv("TZ", tz, 1);
	tzset();
}

static void tz_pop(void)
{
	if (had_tz)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	free(saved_tz);
	saved_tz = NULL;
	tzset();
}

static const struct year_step paris_2024[] = {
	{ "Jan 14 12:00:00", "2024-01-14T11:00:00Z" },
	/* CET -> CEST on 2024-03-31 at 02:00: one hour apart on the wall, none in UTC. */
	{ "Mar 31 01:59:59", "2024-03-31T00:59:59Z" },
	{ "Mar 31 03:00:00", "2024-03-31T01:00:00Z" },
	{ "Mar 31 03:30:00", "2024-03-31T01:30:00Z" },
	{ "Jul 14 12:00:00", "2024-07-14T10:00:00Z" },
	/* CEST -> CET on 2024-10-27 at 03:00. */
	{ "Oct 27 01:30:00", "2024-10-26T23:30:00Z" },
	{ "Oct 27 04:00:00", "2024-10-27T03:00:00Z" },
	/* Stamps with a zone ignore TZ; Exim's without one follow it. */
	{ "2024-07-14T12:00:00+00:00", "2024-07-14T12:00:00Z" },
	{ "2024-07-14 12:00:00", "2024-07-14T10:00:00Z" },
	{ "2024-07-14 12:00:00 -0130", "2024-07-14T13:30:00Z" },
	{ "Dec 31 23:59:59", "2024-12-31T22:59:59Z" },
};

START_TEST(test_tz_local)
{
	mlog_parser p;

	tz_push("CET-1CEST,M3.5.0,M10.5.0/3");
	mlog_parser_init(&p, utc_s("2024-12-31T12:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "local"), 0);
	run_steps(&p, paris_2024, sizeof paris_2024 / sizeof paris_2024[0]);
	/* The default is the local zone too. */
	mlog_parser_init(&p, utc_s("2024-12-31T23:30:00Z"));
	ck_assert_uint_eq(stamp_time(&p, "Jul 14 12:00:00"), utc_us("2024-07-14T10:00:00Z"));
	/* A setting overrides TZ. */
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_uint_eq(stamp_time(&p, "Jul 14 12:00:00"), utc_us("2024-07-14T12:00:00Z"));
	tz_pop();
}
END_TEST

static const struct tz_case {
	const char *spec;
	int rc;
	const char *utc;   /* of "Jul 14 12:00:00" with reference 2024-12-31 */
} tz_cases[] = {
	{ "UTC", 0, "2024-07-14T12:00:00Z" },
	{ "GMT", 0, "2024-07-14T12:00:00Z" },
	{ "Z", 0, "2024-07-14T12:00:00Z" },
	{ "+05:30", 0, "2024-07-14T06:30:00Z" },
	{ "UTC+05:30", 0, "2024-07-14T06:30:00Z" },
	{ "-0800", 0, "2024-07-14T20:00:00Z" },
	{ "GMT-08", 0, "2024-07-14T20:00:00Z" },
	{ "local", 0, NULL },
	{ "", 0, NULL },
	{ "Europe/Paris", V6R_EINVAL, NULL },
	{ "+5", V6R_EINVAL, NULL },
	{ "+25:00", V6R_EINVAL, NULL },
	{ "+01:60", V6R_EINVAL, NULL },
	{ "UTC+", V6R_EINVAL, NULL },
	{ "+01:00x", V6R_EINVAL, NULL },
	{ "utc", V6R_EINVAL, NULL },
};

START_TEST(test_tz_settings)
{
	const struct tz_case *c = &tz_cases[_i];
	mlog_parser p;

	mlog_parser_init(&p, utc_s("2024-12-31T00:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "+01:00"), 0);
	ck_assert_int_eq(mlog_parser_set_tz(&p, c->spec), c->rc);
	if (c->rc != 0) {
		/* Unchanged: still +01:00. */
		ck_assert_uint_eq(stamp_time(&p, "Jul 14 12:00:00"), utc_us("2024-07-14T11:00:00Z"));
		return;
	}
	if (c->utc != NULL)
		ck_assert_uint_eq(stamp_time(&p, "Jul 14 12:00:00"), utc_us(c->utc));
}
END_TEST

/* The reference's year is taken in the parser's zone: 2024-12-31T23:00Z is 2025 at +02:00. */
START_TEST(test_tz_ref_year)
{
	mlog_parser p;

	mlog_parser_init(&p, utc_s("2024-12-31T23:00:00Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "+02:00"), 0);
	ck_assert_uint_eq(stamp_time(&p, "Jan  1 00:30:00"), utc_us("2024-12-31T22:30:00Z"));
	mlog_parser_set_ref(&p, utc_s("2024-12-31T23:00:00Z"));
	ck_assert_uint_eq(stamp_time(&p, "Dec 31 12:00:00"), utc_us("2024-12-31T10:00:00Z"));
	/* In UTC the same reference is still 2024. */
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	mlog_parser_set_ref(&p, utc_s("2024-12-31T23:00:00Z"));
	ck_assert_uint_eq(stamp_time(&p, "Jan  1 00:30:00"), utc_us("2024-01-01T00:30:00Z"));
}
END_TEST

/* ---- the anchor test ------------------------------------------------------------------------ */

static bool ref_anchor(const char *s, size_t n)
{
	return memmem(s, n, "reject", 6) || memmem(s, n, "DNSBL rank", 10) ||
	       memmem(s, n, "listed by domain", 16);
}

START_TEST(test_anchor_positions)
{
	mlog_simd(_i);   /* each vector width: bytewise, SSE2, AVX2 (where the CPU has it) */
	static const char *const anchors[] = { "reject", "DNSBL rank", "listed by domain" };
	static const char *const misses[] = { "rejec", "eject", "Reject", "REJECT", "DNSBL  rank",
	                                      "DNSB rank", "dnsbl rank", "listed by domai",
	                                      "isted by domain", "listed  by domain", "re ject" };
	char buf[80];

	/* Every anchor at every offset of lines of many lengths (SIMD blocks and the tail). */
	for (size_t a = 0; a < 3; a++) {
		size_t al = strlen(anchors[a]);

		for (size_t len = al; len <= 70; len++)
			for (size_t off = 0; off + al <= len; off++) {
				memset(buf, 'x', len);
				memcpy(buf + off, anchors[a], al);
				ck_assert_msg(mlog_has_anchor(buf, len), "%s at %zu of %zu", anchors[a], off,
				              len);
				ck_assert(!mlog_has_anchor(buf, off + al - 1));
				ck_assert(!mlog_has_anchor(buf + off + 1, len - off - 1));
			}
	}
	for (size_t m = 0; m < sizeof misses / sizeof misses[0]; m++)
		for (size_t off = 0; off < 40; off++) {
			size_t ml = strlen(misses[m]);

			memset(buf, 'y', sizeof buf);
			memcpy(buf + off, misses[m], ml);
			ck_assert_msg(!mlog_has_anchor(buf, sizeof buf), "%s at %zu", misses[m], off);
		}
}
END_TEST

/* Random text over the anchors' letters agrees with a memmem reference. */
START_TEST(test_anchor_random)
{
	mlog_simd(_i);   /* each vector width: bytewise, SSE2, AVX2 (where the CPU has it) */
	static const char alpha[] = "rejctDNSBLankisdbyomB dj\nyLr";
	static const char *const bits[] = { "reject", "DNSBL rank", "listed by domain", "rej",
	                                    "DNSBL", "by d", "y d" };
	char buf[256];
	unsigned seed = 12345, hits = 0;

	for (unsigned iter = 0; iter < 20000; iter++) {
		size_t len = (seed = seed * 1103515245u + 12345u) >> 16 & 0xff;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = alpha[(seed >> 16) % (sizeof alpha - 1)];
			if ((seed >> 8 & 0x3f) == 0 && i + 16 < len) {
				const char *b = bits[(seed >> 24) % 7];

				memcpy(buf + i, b, strlen(b));
				i += strlen(b) - 1;
			}
		}
		ck_assert_msg(mlog_has_anchor(buf, len) == ref_anchor(buf, len), "iteration %u", iter);
		hits += ref_anchor(buf, len);
	}
	ck_assert_uint_gt(hits, 1000);
}
END_TEST

/* ---- counters and reasons over a mixed input ------------------------------------------------- */

START_TEST(test_counters)
{
	mlog_parser p;
	ev_reject ev;
	size_t i;

	table_parser(&p);
	for (i = 0; i < sizeof ev_cases / sizeof ev_cases[0]; i++) {
		mlog_parser_set_ref(&p, utc_s("2024-06-15T00:00:00Z"));
		ck_assert_int_eq(parse(&p, ev_cases[i].line, &ev), 1);
	}
	for (i = 0; i < sizeof skip_cases / sizeof skip_cases[0]; i++)
		(void)parse(&p, skip_cases[i].line, &ev);
	for (i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++)
		(void)parse(&p, bad_cases[i].line, &ev);
	ck_assert_uint_eq(p.malformed, sizeof bad_cases / sizeof bad_cases[0]);
	ck_assert_uint_eq(p.events[EV_MTA_POSTFIX] + p.events[EV_MTA_POSTSCREEN] +
	                  p.events[EV_MTA_EXIM] + p.events[EV_MTA_SENDMAIL],
	                  sizeof ev_cases / sizeof ev_cases[0]);
	ck_assert_uint_eq(p.events[EV_MTA_EXIM], 8);
	ck_assert_uint_eq(p.events[EV_MTA_SENDMAIL], 5);
	ck_assert_uint_eq(p.lines, sizeof ev_cases / sizeof ev_cases[0] +
	                  sizeof skip_cases / sizeof skip_cases[0] + sizeof bad_cases / sizeof bad_cases[0]);
	ck_assert_str_eq(mlog_skip_name(MLOG_SKIP_RHSBL), "rhsbl");
	ck_assert_str_eq(mlog_skip_name(99), "?");
}
END_TEST

/* NUL bytes inside a line are data: they neither end it nor crash the parser. */
START_TEST(test_nul_bytes)
{
	static const char line[] = "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.1\0 listed by domain zen as 127.0.0.2";
	static const char line2[] = "Jun  1 00:00:00 mx postfix/dnsblog[1]: addr 192.0.2.1 listed by domain zen\0x as 127.0.0.2";
	static const char line3[] = "Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1\0trailing";
	mlog_parser p;
	ev_reject ev;

	table_parser(&p);
	ck_assert_int_eq(mlog_parse_line(&p, line, sizeof line - 1, &ev), V6R_ESYNTAX);
	ck_assert_int_eq(mlog_parse_line(&p, line2, sizeof line2 - 1, &ev), V6R_ESYNTAX);
	ck_assert_int_eq(mlog_parse_line(&p, line3, sizeof line3 - 1, &ev), V6R_ESYNTAX);
	ck_assert_int_eq(mlog_parse_line(&p, line3, strlen(line3), &ev), 1);
}
END_TEST

/* ---- files ---------------------------------------------------------------------------------- */

static char tmpdir[64];

static void files_setup(void)
{
	strcpy(tmpdir, "/tmp/check_mlog.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void files_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *tmp_path(const char *name)
{
	static char path[2][128];
	static int which;

	which ^= 1;
	snprintf(path[which], sizeof path[which], "%s/%s", tmpdir, name);
	return path[which];
}

static void write_file(const char *path, const char *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, n, f), n);
	ck_assert_int_eq(fclose(f), 0);
}

/* A gzip file written in `members` gzip members (each gzopen "ab" starts a new one). */
static void write_gz(const char *path, const char *data, size_t n, unsigned members)
{
	size_t per = (n + members - 1) / members;

	unlink(path);
	for (size_t off = 0; off < n; off += per) {
		gzFile gz = gzopen(path, "ab");
		size_t len = n - off < per ? n - off : per;

		ck_assert_ptr_nonnull(gz);
		ck_assert_int_eq(gzwrite(gz, data + off, (unsigned)len), (int)len);
		ck_assert_int_eq(gzclose(gz), Z_OK);
	}
}

/* A reference split of data into lines, as mlog_file should yield them. */
struct ref_line {
	size_t offset, len;   /* len without the newline and a CR before it */
	size_t raw;           /* bytes without the newline */
	bool nl;
};

static size_t ref_split(const char *d, size_t n, struct ref_line *out, size_t cap)
{
	size_t k = 0, s = 0;

	while (s < n) {
		const char *nl = memchr(d + s, '\n', n - s);
		size_t raw = nl ? (size_t)(nl - (d + s)) : n - s;

		ck_assert_uint_lt(k, cap);
		out[k].offset = s;
		out[k].raw = raw;
		out[k].len = raw > 0 && d[s + raw - 1] == '\r' ? raw - 1 : raw;
		out[k].nl = nl != NULL;
		k++;
		s += raw + 1;
	}
	return k;
}

/* Reads path in mode and checks the lines against the reference split of data. */
static void check_read(const char *path, const char *d, size_t n, unsigned mode, size_t max_line,
                       size_t chunk)
{
	static struct ref_line ref[4096];
	size_t nref = ref_split(d, n, ref, 4096), k = 0;
	mlog_file *f;
	mlog_line ln;
	int rc;

	ck_assert_int_eq(mlog_file_open(&f, path), 0);
	ck_assert_int_eq(mlog_file_set_limits(f, max_line, chunk), 0);
	while ((rc = mlog_file_next(f, mode, &ln)) == 1) {
		/* In candidate mode the reference lines without an anchor are passed over. */
		while (mode == MLOG_CANDIDATES && k < nref && !ref_anchor(d + ref[k].offset, ref[k].raw))
			k++;
		ck_assert_msg(k < nref, "extra line %llu (chunk %zu)", (unsigned long long)ln.lineno, chunk);
		ck_assert_uint_eq(ln.lineno, k + 1);
		ck_assert_uint_eq(ln.offset, ref[k].offset);
		ck_assert_uint_eq(ln.next_offset, ref[k].offset + ref[k].raw + ref[k].nl);
		ck_assert_int_eq(ln.no_newline, !ref[k].nl);
		ck_assert_int_eq(ln.too_long, ref[k].raw > max_line);
		if (ln.too_long) {
			ck_assert_ptr_null(ln.text);
			ck_assert_uint_eq(ln.len, ref[k].raw);
		} else {
			ck_assert_uint_eq(ln.len, ref[k].len);
			ck_assert_msg(memcmp(ln.text, d + ref[k].offset, ln.len) == 0,
			              "line %zu differs (chunk %zu)", k + 1, chunk);
		}
		k++;
	}
	ck_assert_int_eq(rc, 0);
	while (mode == MLOG_CANDIDATES && k < nref && !ref_anchor(d + ref[k].offset, ref[k].raw))
		k++;
	ck_assert_uint_eq(k, nref);
	ck_assert_uint_eq(mlog_file_lines(f), nref);
	/* At the end it stays at the end. */
	ck_assert_int_eq(mlog_file_next(f, mode, &ln), 0);
	mlog_file_close(f);
}

/* A file with every awkward thing: CRLF, empty lines, NUL, long lines with and without anchors. */
static char *awkward(size_t *n)
{
	static char buf[8192];
	size_t k = 0;

#define PUT(s) (memcpy(buf + k, (s), sizeof(s) - 1), k += sizeof(s) - 1)
	PUT("Jun  1 00:00:00 mx postfix/postscreen[1]: DNSBL rank 1 for [192.0.2.1]:1\n");
	PUT("\n");
	PUT("plain line\r\n");
	PUT("a line with a NUL \0 and reject after it\n");
	for (int i = 0; i < 300; i++)
		buf[k++] = (char)('a' + i % 26);
	PUT(" long line without an anchor\n");
	for (int i = 0; i < 250; i++)
		buf[k++] = (char)('A' + i % 26);
	PUT(" long line listed by domain here\n");
	PUT("\r\n");
	PUT("Jun  1 00:00:01 mx postfix/dnsblog[1]: addr 192.0.2.2 listed by domain zen as 127.0.0.2\n");
	for (int i = 0; i < 120; i++)
		buf[k++] = 'z';
	PUT("DNSBL rank\n");
	PUT("short reject\n");
	PUT("last line without a newline, with a reject");
#undef PUT
	*n = k;
	return buf;
}

/* Both modes, many read sizes and a line limit of 100, against the reference split. */
START_TEST(test_file_modes)
{
	mlog_simd(_i);   /* each vector width: bytewise, SSE2, AVX2 (where the CPU has it) */
	size_t n;
	const char *d = awkward(&n);
	const char *path = tmp_path("awkward.log");

	write_file(path, d, n);
	for (size_t chunk = 1; chunk <= 300; chunk += chunk < 40 ? 1 : 37) {
		check_read(path, d, n, MLOG_ALL, 100, chunk);
		check_read(path, d, n, MLOG_CANDIDATES, 100, chunk);
	}
	check_read(path, d, n, MLOG_ALL, MLOG_LINE_MAX, 1u << 20);
	check_read(path, d, n, MLOG_CANDIDATES, MLOG_LINE_MAX, 1u << 20);
	/* The same through gzip, in three members. */
	path = tmp_path("awkward.log.gz");
	write_gz(path, d, n, 3);
	for (size_t chunk = 1; chunk <= 300; chunk += chunk < 20 ? 1 : 61) {
		check_read(path, d, n, MLOG_ALL, 100, chunk);
		check_read(path, d, n, MLOG_CANDIDATES, 100, chunk);
	}
}
END_TEST

/* The default bound: a 70000-byte line is too long; one of 65536 is not. */
START_TEST(test_file_line_max)
{
	size_t n = 65536 + 1 + 70000 + 1 + 10;
	char *d = malloc(n);
	const char *path = tmp_path("long.log");

	ck_assert_ptr_nonnull(d);
	memset(d, 'x', n);
	memcpy(d + 100, "reject", 6);
	d[65536] = '\n';
	memcpy(d + 65537 + 69000, "reject", 6);
	d[65537 + 70000] = '\n';
	memcpy(d + n - 10, "reject ok\n", 10);
	write_file(path, d, n);
	check_read(path, d, n, MLOG_ALL, MLOG_LINE_MAX, 1u << 20);
	check_read(path, d, n, MLOG_CANDIDATES, MLOG_LINE_MAX, 1u << 20);
	check_read(path, d, n, MLOG_CANDIDATES, MLOG_LINE_MAX, 4096);
	free(d);
}
END_TEST

/* A gzip file of a few lines: decompressed, offsets in the uncompressed stream, events parsed. */
START_TEST(test_file_gzip)
{
	static const char text[] =
		"Nov 27 06:28:04 mx postfix/smtpd[32416]: connect from unknown[2001:db8:bad:1::25]\n"
		"Nov 27 06:28:04 mx postfix/smtpd[32416]: NOQUEUE: reject: RCPT from unknown[2001:db8:bad:1::25]: 554 5.7.1 Service unavailable; Client host [2001:db8:bad:1::25] blocked using v6bl.test; Listed; from=<probe@client.test> to=<user@e2e.test> proto=ESMTP helo=<probe1.client.test>\n"
		"Nov 27 06:28:08 mx postfix/dnsblog[319]: addr 192.0.2.25 listed by domain v6bl.test as 127.0.0.2\n";
	const char *path = tmp_path("maillog.1.gz");
	mlog_parser p;
	mlog_file *f;
	mlog_line ln;
	ev_reject ev;
	unsigned events = 0;

	write_gz(path, text, sizeof text - 1, 1);
	mlog_parser_init(&p, utc_s("2026-11-27T07:46:46Z"));
	ck_assert_int_eq(mlog_parser_set_tz(&p, "UTC"), 0);
	ck_assert_int_eq(mlog_file_open(&f, path), 0);
	ck_assert(mlog_file_compressed(f));
	while (mlog_file_next(f, MLOG_CANDIDATES, &ln) == 1) {
		ck_assert_int_eq(mlog_parse_line(&p, ln.text, ln.len, &ev), 1);
		events++;
		if (ln.lineno == 2) {
			ck_assert_uint_eq(ln.offset, strchr(text, '\n') - text + 1);
			check_event(path, &ev, EV_MTA_POSTFIX, "2001:db8:bad:1::25", 0, "v6bl.test",
			            "2026-11-27T06:28:04Z");
		} else {
			ck_assert_uint_eq(ln.lineno, 3);
			ck_assert_uint_eq(ln.next_offset, sizeof text - 1);
			check_event(path, &ev, EV_MTA_POSTSCREEN, "192.0.2.25", 0, "v6bl.test",
			            "2026-11-27T06:28:08Z");
		}
	}
	ck_assert_uint_eq(events, 2);
	mlog_file_close(f);
}
END_TEST

/* Truncated and corrupt gzip data is a read error with a reason, not a short clean read. */
START_TEST(test_file_gzip_corrupt)
{
	static char big[20000];
	const char *path = tmp_path("bad.gz");
	struct stat st;
	mlog_file *f;
	mlog_line ln;
	int rc;
	char *raw;
	FILE *fp;

	for (size_t i = 0; i < sizeof big; i++)
		big[i] = i % 61 == 60 ? '\n' : (char)('a' + (i * 7919) % 26);
	write_gz(path, big, sizeof big, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	raw = malloc((size_t)st.st_size);
	ck_assert_ptr_nonnull(raw);
	fp = fopen(path, "rb");
	ck_assert_uint_eq(fread(raw, 1, (size_t)st.st_size, fp), (size_t)st.st_size);
	fclose(fp);

	/* Cut in half. */
	write_file(path, raw, (size_t)st.st_size / 2);
	ck_assert_int_eq(mlog_file_open(&f, path), 0);
	while ((rc = mlog_file_next(f, MLOG_ALL, &ln)) == 1)
		;
	ck_assert_int_eq(rc, V6R_EIO);
	ck_assert_str_ne(mlog_file_error(f), "");
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), V6R_EIO);
	mlog_file_close(f);

	/* Garbage in the deflate data. */
	memset(raw + 20, 0xff, 16);
	write_file(path, raw, (size_t)st.st_size);
	ck_assert_int_eq(mlog_file_open(&f, path), 0);
	while ((rc = mlog_file_next(f, MLOG_CANDIDATES, &ln)) == 1)
		;
	ck_assert_int_eq(rc, V6R_EIO);
	ck_assert_str_ne(mlog_file_error(f), "");
	mlog_file_close(f);
	free(raw);
}
END_TEST

/* Resuming at every line start yields the rest of the file with the right numbers. */
static void check_resume(const char *path, const char *d, size_t n)
{
	static struct ref_line ref[256];
	size_t nref = ref_split(d, n, ref, 256);
	mlog_file *f;
	mlog_line ln;

	for (size_t k = 0; k < nref; k++) {
		ck_assert_int_eq(mlog_file_open_at(&f, path, ref[k].offset, k + 1), 0);
		for (size_t j = k; j < nref; j++) {
			ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 1);
			ck_assert_uint_eq(ln.lineno, j + 1);
			ck_assert_uint_eq(ln.offset, ref[j].offset);
			ck_assert_uint_eq(ln.len, ref[j].len);
			ck_assert(memcmp(ln.text, d + ref[j].offset, ln.len) == 0);
		}
		ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 0);
		ck_assert_uint_eq(mlog_file_lines(f), nref - k);
		mlog_file_close(f);
	}
	/* At the very end: nothing more, but not an error. */
	ck_assert_int_eq(mlog_file_open_at(&f, path, n, nref + 1), 0);
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 0);
	mlog_file_close(f);
	/* Inside a line, or past the end: the file is not the one the offset came from. */
	f = (mlog_file *)1;
	ck_assert_int_eq(mlog_file_open_at(&f, path, ref[1].offset + 3, 2), V6R_ERANGE);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(mlog_file_open_at(&f, path, n + 1, 1), V6R_ERANGE);
	ck_assert_int_eq(mlog_file_open_at(&f, path, n + 1000, 1), V6R_ERANGE);
}

START_TEST(test_file_resume)
{
	static const char with_nl[] = "first reject line\nsecond\r\n\nfourth DNSBL rank\nfifth\n";
	static const char without_nl[] = "one\ntwo\nthree, no newline";

	write_file(tmp_path("r1.log"), with_nl, sizeof with_nl - 1);
	check_resume(tmp_path("r1.log"), with_nl, sizeof with_nl - 1);
	write_file(tmp_path("r2.log"), without_nl, sizeof without_nl - 1);
	check_resume(tmp_path("r2.log"), without_nl, sizeof without_nl - 1);
	write_gz(tmp_path("r3.log.gz"), with_nl, sizeof with_nl - 1, 2);
	check_resume(tmp_path("r3.log.gz"), with_nl, sizeof with_nl - 1);
	write_gz(tmp_path("r4.log.gz"), without_nl, sizeof without_nl - 1, 1);
	check_resume(tmp_path("r4.log.gz"), without_nl, sizeof without_nl - 1);
}
END_TEST

/* A resume point taken from a read (next_offset) continues where that read stopped. */
START_TEST(test_file_resume_cursor)
{
	const char *path = DATA "postfix-postscreen.log";
	mlog_file *f;
	mlog_line ln, last;
	uint64_t seen = 0;

	ck_assert_int_eq(mlog_file_open(&f, path), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(mlog_file_next(f, MLOG_CANDIDATES, &last), 1);
	ck_assert_uint_eq(last.lineno, 10);
	mlog_file_close(f);
	ck_assert_int_eq(mlog_file_open_at(&f, path, last.next_offset, last.lineno + 1), 0);
	while (mlog_file_next(f, MLOG_CANDIDATES, &ln) == 1)
		seen = seen * 100 + ln.lineno;
	ck_assert_uint_eq(seen, 1112242526ull);
	ck_assert_uint_eq(mlog_file_lines(f), 38 - 10);
	mlog_file_close(f);
}
END_TEST

START_TEST(test_file_errors)
{
	mlog_file *f = (mlog_file *)1;
	int fds[2];
	mlog_line ln;

	errno = 0;
	ck_assert_int_eq(mlog_file_open(&f, "/nonexistent/maillog"), V6R_EIO);
	ck_assert_int_eq(errno, ENOENT);
	ck_assert_ptr_null(f);
	ck_assert_int_eq(mlog_file_open(&f, tmpdir), 0);   /* a directory opens, reading fails */
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), V6R_EIO);
	ck_assert_str_ne(mlog_file_error(f), "");
	mlog_file_close(f);
	mlog_file_close(NULL);
	/* A pipe reads as a plain stream. */
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], "a\nb reject\nc", 12), 12);
	close(fds[1]);
	ck_assert_int_eq(mlog_file_fdopen(&f, fds[0]), 0);
	ck_assert(!mlog_file_compressed(f));
	ck_assert_int_eq(mlog_file_set_limits(f, 10, 10), 0);
	ck_assert_int_eq(mlog_file_next(f, MLOG_CANDIDATES, &ln), 1);
	ck_assert_uint_eq(ln.lineno, 2);
	ck_assert_uint_eq(ln.len, 8);
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 1);
	ck_assert_uint_eq(ln.lineno, 3);
	ck_assert(ln.no_newline);
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 0);
	/* Limits are set before the first read only. */
	ck_assert_int_eq(mlog_file_set_limits(f, 10, 10), V6R_EINVAL);
	ck_assert_int_eq(mlog_file_set_limits(f, 0, 1), V6R_EINVAL);
	ck_assert_int_eq(mlog_file_set_limits(f, MLOG_LINE_MAX + 1, 1), V6R_EINVAL);
	ck_assert_int_eq(mlog_file_set_limits(f, 10, 0), V6R_EINVAL);
	mlog_file_close(f);
	/* An empty file has no lines. */
	write_file(tmp_path("empty.log"), "", 0);
	ck_assert_int_eq(mlog_file_open(&f, tmp_path("empty.log")), 0);
	ck_assert_int_eq(mlog_file_next(f, MLOG_ALL, &ln), 0);
	ck_assert_uint_eq(mlog_file_lines(f), 0);
	mlog_file_close(f);
}
END_TEST

Suite *mlog_suite(void)
{
	Suite *s = suite_create("mlog");
	TCase *tc = tcase_create("lines");
	TCase *tt = tcase_create("times");
	TCase *tf = tcase_create("files");

	tcase_add_loop_test(tc, test_event_lines, 0, sizeof ev_cases / sizeof ev_cases[0]);
	tcase_add_loop_test(tc, test_skip_lines, 0, sizeof skip_cases / sizeof skip_cases[0]);
	tcase_add_loop_test(tc, test_bad_lines, 0, sizeof bad_cases / sizeof bad_cases[0]);
	tcase_add_loop_test(tc, test_sample_files, 0, sizeof sample_files / sizeof sample_files[0]);
	tcase_add_loop_test(tc, test_sample_candidates, 0,
	                    sizeof sample_files / sizeof sample_files[0]);
	tcase_add_loop_test(tc, test_anchor_positions, 0, 3);
	tcase_add_loop_test(tc, test_anchor_random, 0, 3);
	tcase_add_test(tc, test_counters);
	tcase_add_test(tc, test_nul_bytes);
	suite_add_tcase(s, tc);

	tcase_add_loop_test(tt, test_months, 0, sizeof month_cases / sizeof month_cases[0]);
	tcase_add_test(tt, test_day_padding);
	tcase_add_test(tt, test_year_rollover);
	tcase_add_test(tt, test_year_future_bound);
	tcase_add_test(tt, test_year_leap_day);
	tcase_add_test(tt, test_tz_local);
	tcase_add_loop_test(tt, test_tz_settings, 0, sizeof tz_cases / sizeof tz_cases[0]);
	tcase_add_test(tt, test_tz_ref_year);
	suite_add_tcase(s, tt);

	tcase_add_checked_fixture(tf, files_setup, files_teardown);
	tcase_set_timeout(tf, 60);
	tcase_add_loop_test(tf, test_file_modes, 0, 3);
	tcase_add_test(tf, test_file_line_max);
	tcase_add_test(tf, test_file_gzip);
	tcase_add_test(tf, test_file_gzip_corrupt);
	tcase_add_test(tf, test_file_resume);
	tcase_add_test(tf, test_file_resume_cursor);
	tcase_add_test(tf, test_file_errors);
	suite_add_tcase(s, tf);
	return s;
}
