/* fuzz_p0f.c: fuzz target for the p0f module: p0f.fp text, p0f -o log lines, and SYNs (raw_sig, match). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/p0f.h"
#include "../../zone/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * The first byte picks the mode (mod 3): 0 loads the rest as a p0f.fp file, 1 parses each line
 * as a p0f log line, 2 reads the rest as the fields of a SYN. Every result is checked for the
 * invariants below; a violation aborts.
 */

/* The [tcp:request] part of Debian's p0f 3.09b p0f.fp (tests/data/p0f/p0f.fp). */
static const char fz_db_text[] =
	"classes = win,unix,other\n"
	"[tcp:request]\n"
	"label = s:unix:Linux:3.11 and newer\n"
	"sig   = *:64:0:*:mss*20,10:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:3.1-3.10\n"
	"sig   = *:64:0:*:mss*10,4:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*10,5:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*10,6:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*10,7:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.6.x\n"
	"sig   = *:64:0:*:mss*4,6:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*4,7:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*4,8:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.4.x\n"
	"sig   = *:64:0:*:mss*4,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*4,1:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*4,2:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.2.x\n"
	"sig   = *:64:0:*:mss*11,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*20,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*22,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.0\n"
	"sig   = *:64:0:*:mss*12,0:mss::0\n"
	"sig   = *:64:0:*:16384,0:mss::0\n"
	"label = s:unix:Linux:3.x (loopback)\n"
	"sig   = *:64:0:16396:mss*2,4:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:16376:mss*2,4:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.6.x (loopback)\n"
	"sig   = *:64:0:16396:mss*2,2:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:16376:mss*2,2:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.4.x (loopback)\n"
	"sig   = *:64:0:16396:mss*2,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.2.x (loopback)\n"
	"sig   = *:64:0:3884:mss*8,0:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = s:unix:Linux:2.6.x (Google crawler)\n"
	"sig   = 4:64:0:1430:mss*4,6:mss,sok,ts,nop,ws::0\n"
	"label = s:unix:Linux:(Android)\n"
	"sig   = *:64:0:*:mss*44,1:mss,sok,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:*:mss*44,3:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = g:unix:Linux:3.x\n"
	"sig   = *:64:0:*:mss*10,*:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = g:unix:Linux:2.4.x-2.6.x\n"
	"sig   = *:64:0:*:mss*4,*:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = g:unix:Linux:2.2.x-3.x\n"
	"sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
	"label = g:unix:Linux:2.2.x-3.x (no timestamps)\n"
	"sig   = *:64:0:*:*,*:mss,nop,nop,sok,nop,ws:df,id+:0\n"
	"label = g:unix:Linux:2.2.x-3.x (barebone)\n"
	"sig   = *:64:0:*:*,0:mss:df,id+:0\n"
	"label = s:win:Windows:XP\n"
	"sig   = *:128:0:*:16384,0:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,0:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,0:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,1:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,2:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"label = s:win:Windows:7 or 8\n"
	"sig   = *:128:0:*:8192,0:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:8192,2:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:8192,2:mss,nop,ws,sok,ts:df,id+:0\n"
	"label = s:win:Windows:7 (Websense crawler)\n"
	"sig   = *:64:0:1380:mss*4,6:mss,nop,nop,ts,nop,ws:df,id+:0\n"
	"sig   = *:64:0:1380:mss*4,7:mss,nop,nop,ts,nop,ws:df,id+:0\n"
	"label = g:win:Windows:NT kernel 5.x\n"
	"sig   = *:128:0:*:16384,*:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,*:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:16384,*:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:65535,*:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"label = g:win:Windows:NT kernel 6.x\n"
	"sig   = *:128:0:*:8192,*:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:8192,*:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"label = g:win:Windows:NT kernel\n"
	"sig   = *:128:0:*:*,*:mss,nop,nop,sok:df,id+:0\n"
	"sig   = *:128:0:*:*,*:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"label = s:unix:Mac OS X:10.x\n"
	"sig   = *:64:0:*:65535,1:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"sig   = *:64:0:*:65535,3:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"label = s:unix:MacOS X:10.9 or newer (sometimes iPhone or iPad)\n"
	"sig   = *:64:0:*:65535,4:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"label = s:unix:iOS:iPhone or iPad\n"
	"sig   = *:64:0:*:65535,2:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"label = g:unix:Mac OS X:\n"
	"sig   = *:64:0:*:65535,*:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
	"label = s:unix:FreeBSD:9.x or newer\n"
	"sig   = *:64:0:*:65535,6:mss,nop,ws,sok,ts:df,id+:0\n"
	"label = s:unix:FreeBSD:8.x\n"
	"sig   = *:64:0:*:65535,3:mss,nop,ws,sok,ts:df,id+:0\n"
	"label = g:unix:FreeBSD:\n"
	"sig   = *:64:0:*:65535,*:mss,nop,ws,sok,ts:df,id+:0\n"
	"label = s:unix:OpenBSD:3.x\n"
	"sig   = *:64:0:*:16384,0:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0\n"
	"label = s:unix:OpenBSD:4.x-5.x\n"
	"sig   = *:64:0:*:16384,3:mss,nop,nop,sok,nop,ws,nop,nop,ts:df,id+:0\n"
	"label = s:unix:Solaris:8\n"
	"sig   = *:64:0:*:32850,1:nop,ws,nop,nop,ts,nop,nop,sok,mss:df,id+:0\n"
	"label = s:unix:Solaris:10\n"
	"sig   = *:64:0:*:mss*34,0:mss,nop,ws,nop,nop,sok:df,id+:0\n"
	"label = s:unix:OpenVMS:8.x\n"
	"sig   = 4:128:0:1460:mtu*2,0:mss,nop,ws::0\n"
	"label = s:unix:OpenVMS:7.x\n"
	"sig   = 4:64:0:1460:61440,0:mss,nop,ws::0\n"
	"label = s:other:NeXTSTEP:\n"
	"sig   = 4:64:0:1024:mss*4,0:mss::0\n"
	"label = s:unix:Tru64:4.x\n"
	"sig   = 4:64:0:1460:32768,0:mss,nop,ws:df,id+:0\n"
	"label = s:!:NMap:SYN scan\n"
	"sys   = @unix,@win\n"
	"sig   = *:64-:0:1460:1024,0:mss::0\n"
	"sig   = *:64-:0:1460:2048,0:mss::0\n"
	"sig   = *:64-:0:1460:3072,0:mss::0\n"
	"sig   = *:64-:0:1460:4096,0:mss::0\n"
	"label = s:!:NMap:OS detection\n"
	"sys   = @unix,@win\n"
	"sig   = *:64-:0:265:512,0:mss,sok,ts:ack+:0\n"
	"sig   = *:64-:0:0:4,10:sok,ts,ws,eol+0:ack+:0\n"
	"sig   = *:64-:0:1460:1,10:ws,nop,mss,ts,sok:ack+:0\n"
	"sig   = *:64-:0:536:16,10:mss,sok,ts,ws,eol+0:ack+:0\n"
	"sig   = *:64-:0:640:4,5:ts,nop,nop,ws,nop,mss:ack+:0\n"
	"sig   = *:64-:0:1400:63,0:mss,ws,sok,ts,eol+0:ack+:0\n"
	"sig   = *:64-:0:265:31337,10:ws,nop,mss,ts,sok:ack+:0\n"
	"sig   = *:64-:0:1460:3,10:ws,nop,mss,sok,nop,nop:ecn,uptr+:0\n"
	"label = s:unix:p0f:sendsyn utility\n"
	"sig   = *:192:0:1331:1337,0:mss,nop,eol+18::0\n"
	"sig   = *:192:0:1331:1337,0:mss,ts,nop,eol+8::0\n"
	"sig   = *:192:0:1331:1337,5:mss,ws,nop,eol+15::0\n"
	"sig   = *:192:0:1331:1337,0:mss,sok,nop,eol+16::0\n"
	"sig   = *:192:0:1331:1337,5:mss,ws,ts,nop,eol+5::0\n"
	"sig   = *:192:0:1331:1337,0:mss,sok,ts,nop,eol+6::0\n"
	"sig   = *:192:0:1331:1337,5:mss,ws,sok,nop,eol+13::0\n"
	"sig   = *:192:0:1331:1337,5:mss,ws,sok,ts,nop,eol+3::0\n"
	"label = s:other:Blackberry:\n"
	"sig   = *:128:0:1452:65535,0:mss,nop,nop,sok,nop,nop,ts::0\n"
	"label = s:other:Nintendo:3DS\n"
	"sig   = *:64:0:1360:32768,0:mss,nop,nop,sok:df,id+:0\n"
	"label = s:other:Nintendo:Wii\n"
	"sig   = 4:64:0:1460:32768,0:mss,nop,nop,sok:df,id+:0\n"
	"label = s:unix:BaiduSpider:\n"
	"sig   = *:64:0:1460:mss*4,7:mss,sok,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,ws:df,id+:0\n"
	"sig   = *:64:0:1460:mss*4,2:mss,sok,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,ws:df,id+:0\n";

static p0f_db *fz_debian(void)
{
	static p0f_db *db;
	char err[256];

	if (db == NULL && p0f_db_load_mem(fz_db_text, sizeof fz_db_text - 1, "debian", &db, err, sizeof err) != 0)
		abort();
	return db;
}

/* A result must be self-consistent. */
static void fz_check_result(int rc, const p0f_result *r)
{
	char params[32];

	if (rc != 0)
		abort();
	if (r->label != NULL && (r->line == 0 || strlen(r->label) == 0 || (r->app && r->os != P0F_OS_UNKNOWN)))
		abort();
	if (r->label == NULL && (r->generic || r->fuzzy || r->app || r->random_ttl || r->line != 0 ||
	                         r->os != P0F_OS_UNKNOWN))
		abort();
	if (p0f_params(r, params, sizeof params) <= 0)
		abort();
}

/* SYNs to match against a fuzzed database. */
static void fz_fixed_syn(unsigned i, ev_syn *s)
{
	static const uint8_t lay[][6] = { { 2, 4, 8, 1, 3 }, { 2, 1, 3, 1, 1, 4 }, { 2 }, { 0 } };
	static const uint8_t nl[] = { 5, 6, 1, 1 };

	memset(s, 0, sizeof *s);
	s->v6 = i & 4;
	s->ttl = (uint8_t)(30 + 17 * i);
	s->win = (uint16_t)(i & 1 ? 29200 : 8192);
	s->mss = 1460;
	s->wscale = (uint8_t)(i & 2 ? 7 : 0xff);
	s->quirks = (uint16_t)(s->v6 ? 0 : 3);
	s->n_opts = nl[i % 4];
	memcpy(s->opts, lay[i % 4], sizeof lay[0]);
	s->eol_pad = (uint8_t)(i % 4 == 3 ? 1 : 0);
	s->ts_val = i;
}

static void fz_db(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan catches a read past the text. */
	char *text = malloc(size ? size : 1), err[256];
	p0f_db *db = NULL;
	int rc;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	err[0] = '\0';
	rc = p0f_db_load_mem(text, size, "fuzz.fp", &db, err, sizeof err);
	if (rc != 0) {
		/* Every error names the file (and line). */
		if (db != NULL || strncmp(err, "fuzz.fp", 7) != 0 || rc > 0)
			abort();
	} else {
		if (p0f_db_sig_count(db) > P0F_DB_MAX_SIGS)
			abort();
		for (unsigned i = 0; i < 8; i++) {
			ev_syn s;
			p0f_result r;

			fz_fixed_syn(i, &s);
			fz_check_result(p0f_match(db, &s, &r), &r);
		}
	}
	p0f_db_free(db);
	free(text);
}

static void fz_log_line(const char *line, size_t len)
{
	char err[128];
	p0f_log_entry e;
	p0f_tz tz;
	int rc;

	if (p0f_tz_parse("UTC", 3, &tz) != 0)
		abort();
	err[0] = '\0';
	rc = p0f_log_parse_line(line, len, &tz, &e, err, sizeof err);
	if (rc < 0) {
		if (strncmp(err, "column ", 7) != 0)
			abort();
		return;
	}
	if (rc > 1)
		abort();
	if (rc == 1 && (e.mod == P0F_MOD_SYN || e.mod == P0F_MOD_SYNACK || e.mod == P0F_MOD_SENDSYN_PROBE ||
	                e.mod == P0F_MOD_SENDSYN_RESP)) {
		/* A SYN line carries a valid raw_sig, a dist, and a label exactly when known. */
		if (!p0f_sig_text_valid(e.raw_sig, strlen(e.raw_sig)) || e.dist < 0 || e.dist > 255 ||
		    e.known != (e.label[0] != '\0'))
			abort();
	}
}

static void fz_log(const uint8_t *data, size_t size)
{
	size_t start = 0;

	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		char *line = malloc(len ? len : 1);

		if (line == NULL)
			abort();
		memcpy(line, data + start, len);
		fz_log_line(line, len);
		free(line);
		start += len + 1;
	}
}

/* Reads the next n bytes (zero past the end) as a little-endian number. */
static uint32_t fz_take(const uint8_t **p, const uint8_t *end, unsigned n)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < n; i++)
		v |= (uint32_t)(*p < end ? *(*p)++ : 0) << (8 * i);
	return v;
}

/* Whether p0f's signature grammar can hold this SYN's raw_sig. */
static bool fz_sig_expressible(const ev_syn *s)
{
	unsigned n = s->n_opts < EV_MAX_OPTS ? s->n_opts : EV_MAX_OPTS;

	if (s->ttl == 0)
		return false; /* "0+32": a signature's TTL starts at 1 */
	if (s->v6 && (s->quirks & (0x0001u | 0x0002u | 0x0004u | 0x0010u)))
		return false; /* df, id+, id-, 0+ are not valid in an IPv6 signature */
	if (!s->v6 && (s->quirks & 0x0020u))
		return false; /* nor flow in an IPv4 one */
	for (unsigned i = 0; i + 1 < n; i++)
		if (s->opts[i] == EV_OPT_EOL)
			return false; /* EOL must be the last option */
	return true;
}

/*
 * A SYN's own raw_sig, loaded as the only signature, must match it exactly (TTL "+?" written as
 * "+0"): the printer and the matcher agree on every field.
 */
static void fz_self_match(const ev_syn *s, const char *raw)
{
	char text[P0F_RAW_SIG_MAX + 128], err[256];
	const char *q = strstr(raw, "+?:");
	p0f_db *db = NULL;
	p0f_result r;
	int n;

	if (q == NULL)
		n = snprintf(text, sizeof text, "classes = unix\n[tcp:request]\nlabel = s:unix:Self:x\nsig = %s\n", raw);
	else
		n = snprintf(text, sizeof text, "classes = unix\n[tcp:request]\nlabel = s:unix:Self:x\nsig = %.*s+0%s\n",
		             (int)(q - raw), raw, q + 2);
	if (n <= 0 || (size_t)n >= sizeof text)
		abort();
	if (p0f_db_load_mem(text, (size_t)n, "self", &db, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	if (p0f_match(db, s, &r) != 0 || r.label == NULL || r.fuzzy || strcmp(r.label, "Self x") != 0) {
		fprintf(stderr, "raw_sig %s does not match its own SYN\n", raw);
		abort();
	}
	p0f_db_free(db);
}

static void fz_syn(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char raw[P0F_RAW_SIG_MAX];
	ev_syn s;
	p0f_result r;
	int n;

	memset(&s, 0, sizeof s);
	s.v6 = fz_take(&p, end, 1) & 1;
	s.ttl = (uint8_t)fz_take(&p, end, 1);
	s.ip_opt_len = (uint8_t)fz_take(&p, end, 1);
	s.tcp_hdr_len = (uint8_t)fz_take(&p, end, 1);
	s.win = (uint16_t)fz_take(&p, end, 2);
	s.mss = (uint16_t)fz_take(&p, end, 2);
	s.wscale = (uint8_t)fz_take(&p, end, 1);
	s.quirks = (uint16_t)fz_take(&p, end, 2);
	s.ts_val = fz_take(&p, end, 4);
	s.payload_len = (uint16_t)fz_take(&p, end, 2);
	s.eol_pad = (uint8_t)fz_take(&p, end, 1);
	s.n_opts = (uint8_t)fz_take(&p, end, 1);
	for (unsigned i = 0; i < EV_MAX_OPTS; i++)
		s.opts[i] = (uint8_t)fz_take(&p, end, 1);

	n = p0f_raw_sig(&s, raw, sizeof raw);
	if (n <= 0 || (size_t)n != strlen(raw))
		abort();
	fz_check_result(p0f_match(fz_debian(), &s, &r), &r);
	if (fz_sig_expressible(&s)) {
		if (!p0f_sig_text_valid(raw, (size_t)n))
			abort();
		fz_self_match(&s, raw);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	switch (data[0] % 3) {
	case 0: fz_db(data + 1, size - 1); break;
	case 1: fz_log(data + 1, size - 1); break;
	default: fz_syn(data + 1, size - 1); break;
	}
	return 0;
}
