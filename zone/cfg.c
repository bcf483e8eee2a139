/* cfg.c: the settings table and everything derived from it: parsing, checks, help, sample. */
#include "cfg.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "err.h"

typedef enum opt_type {
	T_PATH,      /* file or directory path */
	T_NAME,      /* domain name */
	T_NAMES,     /* domain names, repeatable */
	T_U32,       /* unsigned number in [min, max] */
	T_DUR,       /* duration in seconds in [min, max] */
	T_SIZE,      /* byte size with K/M/G/T suffix */
	T_CODE,      /* 127.0.0.0/8 return code */
	T_TEXT,      /* free text */
	T_LISTEN,    /* ADDR[:PORT], repeatable */
	T_LEVEL,     /* log level name */
	T_BOOL,      /* yes/no */
	T_USER,      /* user name */
	T_ADDRS,     /* IP addresses, repeatable */
	T_U64DUR,    /* duration in seconds, 64-bit field */
	T_ACL,       /* ADDR[/LEN], repeatable */
	T_NOTIFY,    /* ADDR[:PORT] or [IPV6]:PORT, repeatable */
	T_TSIG,      /* NAME:ALGORITHM:BASE64SECRET */
	T_FILE,      /* file path */
	T_FILES,     /* file paths, repeatable (one per line or option: paths may hold blanks) */
	T_DNSSRV,    /* ADDR[@PORT] of a DNS server, repeatable */
} opt_type;

typedef struct opt {
	const char *name;
	opt_type type;
	unsigned scope;
	uint64_t min, max;
	const char *def;      /* default as text ("" = none); lists are blank-separated */
	size_t off;           /* field offset in cfg */
	const char *help;
} opt;

#define F(field) offsetof(cfg, field)
#define S CFG_SERVER
#define B (CFG_SERVER | CFG_TOOL | CFG_INGEST)
#define I CFG_INGEST
#define DAY 86400u

static const opt opts[] = {
	{ "db", T_PATH, B, 0, 0, "/var/lib/v6rep", F(db), "LMDB store directory" },
	{ "map-size", T_SIZE, B, 1u << 20, (uint64_t)1 << 40, "1G", F(map_size),
	  "initial LMDB map size; writers double it when full" },
	{ "zone", T_NAME, B, 0, 0, "", F(zone), "zone apex served, e.g. v6bl.example.org" },
	{ "ns", T_NAMES, B, 0, 0, "", F(ns), "NS name of the zone (repeatable; default: this host's name)" },
	{ "soa-mname", T_NAME, B, 0, 0, "", F(soa_mname), "SOA MNAME (default: the first NS)" },
	{ "soa-rname", T_NAME, B, 0, 0, "", F(soa_rname), "SOA RNAME mailbox (default: hostmaster.ZONE)" },
	{ "soa-refresh", T_DUR, B, 60, 30 * DAY, "1h", F(soa_refresh), "SOA refresh" },
	{ "soa-retry", T_DUR, B, 60, 30 * DAY, "10m", F(soa_retry), "SOA retry" },
	{ "soa-expire", T_DUR, B, 3600, 365 * DAY, "7d", F(soa_expire), "SOA expire" },
	{ "negative-ttl", T_DUR, B, 0, DAY, "5m", F(negative_ttl),
	  "SOA minimum: how long resolvers cache \"not listed\" (RFC 2308)" },
	{ "soa-ttl", T_DUR, B, 0, 7 * DAY, "1h", F(soa_ttl), "TTL of the SOA record at the apex" },
	{ "ns-ttl", T_DUR, B, 0, 7 * DAY, "1d", F(ns_ttl), "TTL of the NS records" },
	{ "ttl", T_DUR, B, 0, 7 * DAY, "15m", F(ttl), "TTL of listed answers (A and TXT)" },
	{ "default-code", T_CODE, B, 0, 0, "127.0.0.2", F(default_code), "A record of listings given without a code" },
	{ "txt-template", T_TEXT, B, 0, 0, "{reason}", F(txt_template),
	  "TXT answer: {addr} {prefix} {reason} {code} {zone}" },
	{ "default-reason", T_TEXT, B, 0, 0, "listed in {zone}", F(default_reason),
	  "{reason} of listings that have none ({zone} substituted)" },
	{ "listen", T_LISTEN, S, 0, 0, "0.0.0.0:53 [::]:53", F(listen),
	  "address to serve on, ADDR[:PORT] or [IPV6][:PORT] (repeatable)" },
	{ "threads", T_U32, S, 0, 256, "0", F(threads), "worker threads (0 = one per CPU)" },
	{ "udp-max-size", T_U32, S, 512, 65535, "1232", F(udp_max_size),
	  "largest UDP answer sent to EDNS clients" },
	{ "tcp-idle-timeout", T_DUR, S, 1, 3600, "10s", F(tcp_idle_timeout), "close idle TCP connections after" },
	{ "tcp-max-connections", T_U32, S, 1, 1000000, "512", F(tcp_max_connections),
	  "concurrent TCP connections (whole server)" },
	{ "user", T_USER, S, 0, 0, "", F(user), "drop privileges to this user after binding" },
	{ "log-level", T_LEVEL, S | I, 0, 0, "notice", F(log_level), "error, warning, notice, info or debug" },
	{ "syslog", T_BOOL, S | I, 0, 0, "no", F(log_syslog), "log to syslog instead of stderr" },
	{ "allow-transfer", T_ACL, S, 0, 0, "", F(allow_transfer),
	  "address or prefix that may transfer the zone by AXFR/IXFR (repeatable; default: nobody)" },
	{ "notify", T_NOTIFY, S, 0, 0, "", F(notify),
	  "secondary sent a NOTIFY when the serial changes, ADDR[:PORT] or [IPV6]:PORT (repeatable)" },
	{ "tsig-key", T_TSIG, S, 0, 0, "", F(tsig_name),
	  "NAME:ALGORITHM:BASE64SECRET (hmac-sha256, -sha384, -sha512, -sha1, -md5): transfers then "
	  "need a valid TSIG with this key and NOTIFY is signed; keep the config file private" },
	{ "notify-interval", T_DUR, S, 1, 3600, "1s", F(notify_interval),
	  "at most one round of NOTIFY per this time (the serial is checked 5 times a second)" },
	{ "notify-retries", T_U32, S, 1, 20, "5", F(notify_retries),
	  "NOTIFY sends per secondary and serial until one is answered (backoff 1 s, 2 s, 4 s...)" },
	{ "xfr-max-transfers", T_U32, S, 1, 1000, "8", F(xfr_max_transfers),
	  "concurrent outgoing zone transfers (more are answered SERVFAIL: retry later)" },
	{ "xfr-timeout", T_DUR, S, 5, 3600, "60s", F(xfr_timeout),
	  "abort a zone transfer whose client has read nothing for this long" },
	{ "journal-size", T_U32, B, 0, 100000000, "100000", F(journal_size),
	  "journal entries the store keeps for IXFR: changes plus one per commit (writers drop the "
	  "oldest commits; 0 = IXFR is always answered with the whole zone)" },
	{ "sensor-port", T_U32, I, 1, 65535, "25", F(sensor_port), "TCP port the sensor MX listens on" },
	{ "sensor-address", T_ADDRS, I, 0, 0, "", F(sensor_addr),
	  "sensor MX address; only SYNs to these count (repeatable; default: any)" },
	{ "attempt-window", T_DUR, I, 1, 3600, "25s", F(attempt_window),
	  "SYNs from one address and port this close are one connect() attempt" },
	{ "pair-window", T_DUR, I, 1, 3600, "30s", F(pair_window),
	  "IPv4 and IPv6 attempts at the sensor this close may be one host" },
	{ "chain-window", T_DUR, I, 1, 86400, "5m", F(chain_window),
	  "a production rejection this long before an IPv6 attempt may be its cause" },
	{ "reject-window", T_DUR, I, 60, 30 * DAY, "1d", F(reject_window),
	  "an IPv4 counts as rejected this long after a DNSBL rejection" },
	{ "min-score", T_U32, I, 1, 1000, "60", F(min_score), "association score that makes an offender" },
	{ "port-gap", T_U32, I, 1, 1000, "16", F(port_gap), "source ports this close are in sequence" },
	{ "nat-max", T_U32, I, 1, 1000, "2", F(nat_max),
	  "IPv6 /64s one IPv4 may be tied to by timing alone before it counts as shared (NAT)" },
	{ "expire-after", T_U64DUR, I, 3600, 3650 * DAY, "30d", F(expire_after),
	  "automatic listings expire this long after their last evidence" },
	{ "aggregate-min", T_U32, I, 2, 65536, "4", F(aggregate_min),
	  "offender /64s in one /48 that list the /48" },
	{ "flood-min", T_U32, I, 1, 100000000, "100", F(flood_min),
	  "attempts from a /64 with under 20% associated that mark a misbehaving MTA" },
	{ "confirm-attempts", T_U32, I, 1, 1000, "1", F(confirm_attempts),
	  "attempts that list an address tied by timing alone (a second one confirms a coincidence-prone tie)" },
	{ "port-reuse-min", T_U32, I, 2, 100000000, "20", F(port_reuse_min),
	  "attempts reusing one source port that mark a misbehaving MTA" },
	{ "sensor-code", T_CODE, I, 0, 0, "127.0.0.2", F(sensor_code), "A record of sensor listings" },
	{ "aggregate-code", T_CODE, I, 0, 0, "127.0.0.3", F(aggregate_code), "A record of /48 aggregates" },
	{ "publish-ipv4", T_BOOL, I, 0, 0, "no", F(publish_ipv4), "also list the rejected IPv4 addresses" },
	{ "ipv4-code", T_CODE, I, 0, 0, "127.0.0.4", F(ipv4_code), "A record of published IPv4 addresses" },
	{ "allowlist", T_PATH, I, 0, 0, "", F(allowlist),
	  "listings-format file of prefixes never listed (contrib/allowlist.txt)" },
	{ "p0f-fp", T_PATH, I, 0, 0, "/etc/p0f/p0f.fp", F(p0f_fp), "p0f signature database (\"\" = none)" },
	{ "log-timezone", T_USER, I, 0, 0, "", F(log_timezone),
	  "time zone of zone-less log stamps: UTC or +hh:mm (default: local)" },
	{ "batch-interval", T_DUR, I, 1, 3600, "5s", F(batch_interval), "--follow commits this often" },
	{ "follow-lag", T_DUR, I, 1, 86400, "10m", F(follow_lag),
	  "--follow waits this long for a quiet input (a rotated capture) before deciding past it" },
	{ "asn-file", T_FILES, I, 0, 0, "", F(asn_file),
	  "IP-to-ASN data: CAIDA pfx2as (plain or gzip) or Team Cymru bulk whois output (repeatable)" },
	{ "ptr-file", T_FILE, I, 0, 0, "", F(ptr_file),
	  "PTR names: ADDRESS NAME lines or reverse-zone PTR records" },
	{ "ptr-live", T_BOOL, I, 0, 0, "no", F(ptr_live),
	  "look up PTR names that ptr-file lacks in the DNS (cached, budgeted)" },
	{ "ptr-server", T_DNSSRV, I, 0, 0, "", F(ptr_server),
	  "resolver for live PTR lookups (repeatable, one port for all; default: /etc/resolv.conf)" },
	{ "ptr-timeout", T_DUR, I, 1, 60, "1s", F(ptr_timeout),
	  "live PTR lookup timeout per server (one try each)" },
	{ "ptr-cache", T_U32, I, 4, 10000000, "100000", F(ptr_cache),
	  "live PTR answers kept (names for their TTL up to 1 d, failures 1 h)" },
	{ "ptr-budget", T_U32, I, 0, 100000000, "10000", F(ptr_budget),
	  "live PTR queries sent per run at most" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))
/* cfg.set_mask has one bit per option. */
_Static_assert(N_OPTS <= 64, "more options than bits in cfg.set_mask");

static const char *const levels[] = {
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static const opt *find_opt(const char *name)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (strcmp(opts[i].name, name) == 0)
			return &opts[i];
	return NULL;
}

bool cfg_known(const char *name, unsigned scope)
{
	const opt *o = find_opt(name);
	return o && (o->scope & scope);
}


int cfg_parse_duration(const char *s, uint64_t *secs)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return V6R_ESYNTAX;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return V6R_ERANGE;
	uint64_t mul = 1;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': mul = 60; break;
	case 'h': mul = 3600; break;
	case 'd': mul = DAY; break;
	case 'w': mul = 7 * DAY; break;
	default: return V6R_ESYNTAX;
	}
	if (*end && end[1])
		return V6R_ESYNTAX;
	if (v > UINT64_MAX / mul)
		return V6R_ERANGE;
	*secs = v * mul;
	return 0;
}

int cfg_parse_code(const char *s, uint8_t code[4])
{
	uint8_t a[4];
	if (inet_pton(AF_INET, s, a) != 1)
		return V6R_ESYNTAX;
	if (a[0] != 127)
		return V6R_ECODE;
	memcpy(code, a, 4);
	return 0;
}

static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	if (!isdigit((unsigned char)s[0]))
		return V6R_ESYNTAX;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return V6R_ERANGE;
	unsigned shift = 0;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': shift = 10; break;
	case 'M': shift = 20; break;
	case 'G': shift = 30; break;
	case 'T': shift = 40; break;
	default: return V6R_ESYNTAX;
	}
	if (*end && end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]))
		return V6R_ESYNTAX;
	if (shift && v > (UINT64_MAX >> shift))
		return V6R_ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

/* Checks a presentation-format domain name and stores it lower case, absolute. */
static int parse_name(const char *s, char *out)
{
	size_t n = strlen(s);
	if (n == 0 || n >= CFG_NAME_MAX - 1)
		return V6R_ESYNTAX;
	if (strcmp(s, ".") == 0) {
		strcpy(out, ".");
		return 0;
	}
	size_t lab = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (lab == 0 && !(i == n - 1 && n > 1))
				return V6R_ESYNTAX;
			lab = 0;
			continue;
		}
		if (!(isalnum(c) || c == '-' || c == '_') || ++lab > 63)
			return V6R_ESYNTAX;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
	if (out[n - 1] != '.')
		strcat(out, ".");
	return strlen(out) > 254 ? V6R_ERANGE : 0;
}

static int parse_listen(const char *s, cfg_listen *l)
{
	char host[64];
	const char *port = NULL;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || (close[1] && close[1] != ':'))
			return V6R_ESYNTAX;
		hlen = (size_t)(close - s - 1);
		s++;
		port = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strchr(s, ':');
		bool v6 = colon && strchr(colon + 1, ':');
		hlen = (!colon || v6) ? strlen(s) : (size_t)(colon - s);
		port = (!colon || v6) ? NULL : colon + 1;
	}
	if (hlen == 0 || hlen >= sizeof(host))
		return V6R_ESYNTAX;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	uint8_t tmp[16];
	if (inet_pton(AF_INET, host, tmp) == 1)
		l->family = AF_INET;
	else if (inet_pton(AF_INET6, host, tmp) == 1)
		l->family = AF_INET6;
	else
		return V6R_ESYNTAX;
	unsigned long p = 53;
	if (port) {
		char *end;
		if (!isdigit((unsigned char)*port))
			return V6R_ESYNTAX;
		p = strtoul(port, &end, 10);
		if (*end || p == 0 || p > 65535)
			return V6R_ERANGE;
	}
	strcpy(l->host, host);
	l->port = (uint16_t)p;
	return 0;
}

/* "ADDR[@PORT]", the way Unbound and ldns write a server: numeric address, port default 53. */
static int parse_dnssrv(const char *s, cfg_listen *l)
{
	const char *at = strchr(s, '@');
	size_t hlen = at ? (size_t)(at - s) : strlen(s);
	uint8_t tmp[16];
	if (hlen == 0 || hlen >= sizeof(l->host))
		return V6R_ESYNTAX;
	memcpy(l->host, s, hlen);
	l->host[hlen] = '\0';
	if (inet_pton(AF_INET, l->host, tmp) == 1)
		l->family = AF_INET;
	else if (inet_pton(AF_INET6, l->host, tmp) == 1)
		l->family = AF_INET6;
	else
		return V6R_ESYNTAX;
	unsigned long p = 53;
	if (at) {
		char *end;
		if (!isdigit((unsigned char)at[1]))
			return V6R_ESYNTAX;
		p = strtoul(at + 1, &end, 10);
		if (*end)
			return V6R_ESYNTAX;
		if (p == 0 || p > 65535)
			return V6R_ERANGE;
	}
	l->port = (uint16_t)p;
	return 0;
}

/* "ADDR[/LEN]": an IPv4 prefix is kept v4-mapped so that one match covers both families. */
static int parse_acl(const char *s, cfg_acl *acl)
{
	char host[64];
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		return V6R_ESYNTAX;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	unsigned max;
	memset(acl->a, 0, sizeof(acl->a));
	if (inet_pton(AF_INET, host, acl->a + 12) == 1) {
		acl->a[10] = acl->a[11] = 0xff;
		acl->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, acl->a) == 1) {
		acl->family = AF_INET6;
		max = 128;
	} else {
		return V6R_ESYNTAX;
	}
	unsigned long len = max;
	if (slash) {
		char *end;
		if (!isdigit((unsigned char)slash[1]))
			return V6R_ESYNTAX;
		len = strtoul(slash + 1, &end, 10);
		if (*end)
			return V6R_ESYNTAX;
		if (len > max)
			return V6R_ERANGE;
	}
	acl->len = (uint8_t)(acl->family == AF_INET ? len + 96 : len);
	for (unsigned i = acl->len; i < 128; i++)     /* host bits are ignored, as routers do */
		acl->a[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return 0;
}

static bool base64_ok(const char *s)
{
	size_t n = strlen(s), pad = 0;
	if (n == 0 || n % 4 != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			if (i < n - 2)
				return false;
			pad++;
		} else if (pad || !(isalnum(c) || c == '+' || c == '/')) {
			return false;
		}
	}
	return true;
}

/* "NAME:ALGORITHM:SECRET" into the three tsig fields; "" removes the key. */
static int parse_tsig(cfg *c, const char *s)
{
	static const char *const algs[][2] = {
		{ "hmac-sha256", "hmac-sha256." }, { "hmac-sha384", "hmac-sha384." },
		{ "hmac-sha512", "hmac-sha512." }, { "hmac-sha1", "hmac-sha1." },
		{ "hmac-md5", "hmac-md5.sig-alg.reg.int." },
	};
	char buf[CFG_NAME_MAX + 64 + CFG_TSIG_SECRET_MAX];
	if (!*s) {
		c->tsig_name[0] = c->tsig_alg[0] = c->tsig_secret[0] = '\0';
		return 0;
	}
	if (strlen(s) >= sizeof(buf))
		return V6R_ERANGE;
	strcpy(buf, s);
	char *alg = strchr(buf, ':'), *secret = alg ? strchr(alg + 1, ':') : NULL;
	if (!secret)
		return V6R_ESYNTAX;
	*alg++ = '\0';
	*secret++ = '\0';
	size_t an = strlen(alg);
	if (an && alg[an - 1] == '.')
		alg[--an] = '\0';
	const char *wire_alg = NULL;
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		size_t wn = strlen(algs[i][1]) - 1;       /* without its trailing dot, like alg */
		if (strcasecmp(alg, algs[i][0]) == 0 || (an == wn && !strncasecmp(alg, algs[i][1], wn)))
			wire_alg = algs[i][1];
	}
	if (!wire_alg || !base64_ok(secret) || strlen(secret) >= CFG_TSIG_SECRET_MAX)
		return V6R_ESYNTAX;
	int rc = parse_name(buf, c->tsig_name);
	if (rc)
		return rc;
	strcpy(c->tsig_alg, wire_alg);
	strcpy(c->tsig_secret, secret);
	return 0;
}

static int parse_level(const char *s, unsigned *out)
{
	for (unsigned i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		if (levels[i] && strcmp(levels[i], s) == 0) {
			*out = i;
			return 0;
		}
	}
	return V6R_ESYNTAX;
}

static int parse_bool(const char *s, bool *out)
{
	if (!strcmp(s, "yes") || !strcmp(s, "true") || !strcmp(s, "on") || !strcmp(s, "1"))
		*out = true;
	else if (!strcmp(s, "no") || !strcmp(s, "false") || !strcmp(s, "off") || !strcmp(s, "0"))
		*out = false;
	else
		return V6R_ESYNTAX;
	return 0;
}

static int set_number(const opt *o, void *field, const char *v)
{
	uint64_t n;
	int rc;
	if (o->type == T_DUR) {
		rc = cfg_parse_duration(v, &n);
	} else if (o->type == T_SIZE) {
		rc = parse_size(v, &n);
	} else {
		char *end;
		if (!isdigit((unsigned char)v[0]))
			return V6R_ESYNTAX;
		errno = 0;
		n = strtoull(v, &end, 10);
		rc = *end ? V6R_ESYNTAX : errno ? V6R_ERANGE : 0;
	}
	if (rc)
		return rc;
	if (n < o->min || n > o->max)
		return V6R_ERANGE;
	if (o->type == T_SIZE)
		*(uint64_t *)field = n;
	else if (o->type == T_U32 && o->off == F(threads))
		*(unsigned *)field = (unsigned)n;
	else
		*(uint32_t *)field = (uint32_t)n;
	return 0;
}

static int copy_text(char *field, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		return V6R_ERANGE;
	memcpy(field, v, n + 1);
	return 0;
}

/* The storage of one repeatable option: its count, bound, element array and parser. */
typedef struct multi {
	unsigned *n;
	unsigned max;
	void *base;
	size_t size;
	int (*parse)(const char *v, void *out);
} multi;

static int parse_addr_text(const char *v, void *out)
{
	uint8_t tmp[16];
	if (strlen(v) >= 64 || (inet_pton(AF_INET, v, tmp) != 1 && inet_pton(AF_INET6, v, tmp) != 1))
		return V6R_ESYNTAX;
	strcpy(out, v);
	return 0;
}

static int parse_file(const char *v, void *out)
{
	return !*v ? V6R_ESYNTAX : copy_text(out, CFG_PATH_MAX, v);
}

static int parse_listen_any(const char *v, void *out) { return parse_listen(v, out); }
static int parse_dnssrv_any(const char *v, void *out) { return parse_dnssrv(v, out); }
static int parse_acl_any(const char *v, void *out) { return parse_acl(v, out); }
static int parse_name_any(const char *v, void *out) { return parse_name(v, out); }

static multi multi_of(cfg *c, opt_type t)
{
	switch (t) {
	case T_ADDRS:
		return (multi){ &c->n_sensor_addr, CFG_MAX_SENSOR, c->sensor_addr,
		                sizeof(c->sensor_addr[0]), parse_addr_text };
	case T_ACL:
		return (multi){ &c->n_allow_transfer, CFG_MAX_ACL, c->allow_transfer,
		                sizeof(c->allow_transfer[0]), parse_acl_any };
	case T_NOTIFY:
		return (multi){ &c->n_notify, CFG_MAX_NOTIFY, c->notify, sizeof(c->notify[0]),
		                parse_listen_any };
	case T_LISTEN:
		return (multi){ &c->n_listen, CFG_MAX_LISTEN, c->listen, sizeof(c->listen[0]),
		                parse_listen_any };
	case T_FILES:
		return (multi){ &c->n_asn_file, CFG_MAX_ASN_FILES, c->asn_file, sizeof(c->asn_file[0]),
		                parse_file };
	case T_DNSSRV:
		return (multi){ &c->n_ptr_server, CFG_MAX_PTR_SERVER, c->ptr_server,
		                sizeof(c->ptr_server[0]), parse_dnssrv_any };
	default:
		return (multi){ &c->n_ns, CFG_MAX_NS, c->ns, sizeof(c->ns[0]), parse_name_any };
	}
}

/* Appends one value to a repeatable option, replacing the default on first explicit use. */
static int set_multi(cfg *c, const opt *o, unsigned idx, const char *v, bool is_default)
{
	multi m = multi_of(c, o->type);
	if (!is_default && !(c->set_mask & (UINT64_C(1) << idx)))
		*m.n = 0;
	if (*m.n >= m.max)
		return V6R_ERANGE;
	int rc = m.parse(v, (char *)m.base + *m.n * m.size);
	if (rc == 0)
		(*m.n)++;
	return rc;
}

static int set_value(cfg *c, const opt *o, const char *v, bool is_default)
{
	void *field = (char *)c + o->off;
	unsigned idx = (unsigned)(o - opts);
	switch (o->type) {
	case T_PATH:
	case T_FILE:
		return copy_text(field, CFG_PATH_MAX, v);
	case T_USER:
		return copy_text(field, 64, v);
	case T_ADDRS:
		return set_multi(c, o, idx, v, is_default);
	case T_U64DUR: {
		uint64_t n;
		int rc = cfg_parse_duration(v, &n);
		if (rc)
			return rc;
		if (n < o->min || n > o->max)
			return V6R_ERANGE;
		*(uint64_t *)field = n;
		return 0;
	}
	case T_TEXT:
		return copy_text(field, CFG_TEXT_MAX, v);
	case T_NAME:
		if (!*v) {
			*(char *)field = '\0';
			return 0;
		}
		return parse_name(v, field);
	case T_FILES:
		if (!*v) {                            /* "" empties the list */
			c->n_asn_file = 0;
			return 0;
		}
		return set_multi(c, o, idx, v, is_default);
	case T_NAMES:
	case T_LISTEN:
	case T_ACL:
	case T_NOTIFY:
	case T_DNSSRV:
		return set_multi(c, o, idx, v, is_default);
	case T_TSIG:
		return parse_tsig(c, v);
	case T_CODE:
		return cfg_parse_code(v, field);
	case T_LEVEL:
		return parse_level(v, field);
	case T_BOOL:
		return parse_bool(v, field);
	default:
		return set_number(o, field, v);
	}
}

/* Repeatable options: defaults (and config values, but for file paths) split on blanks. */
static bool is_list(opt_type t)
{
	return t == T_LISTEN || t == T_NAMES || t == T_ADDRS || t == T_ACL || t == T_NOTIFY ||
	       t == T_FILES || t == T_DNSSRV;
}

static const char *type_reason(const opt *o, int rc)
{
	if (rc == V6R_ECODE)
		return "return code not in 127.0.0.0/8";
	if (rc == V6R_ERANGE) {
		if (is_list(o->type))
			return "value out of range or too many values";
		return "value out of range";
	}
	switch (o->type) {
	case T_NAME: case T_NAMES: return "not a domain name";
	case T_U32: return "not a number";
	case T_DUR: return "not a duration (like 90, 45s, 10m, 12h, 30d, 2w)";
	case T_SIZE: return "not a size (like 512M, 1G)";
	case T_CODE: return "not an IPv4 return code (like 127.0.0.2)";
	case T_LISTEN: return "not ADDR[:PORT] or [IPV6]:PORT";
	case T_ADDRS: return "not an IP address";
	case T_U64DUR: return "not a duration (like 90, 45s, 10m, 12h, 30d, 2w)";
	case T_ACL: return "not ADDR or ADDR/LEN";
	case T_NOTIFY: return "not ADDR[:PORT] or [IPV6]:PORT";
	case T_DNSSRV: return "not ADDR[@PORT] (a numeric IPv4 or IPv6 address)";
	case T_TSIG: return "not NAME:ALGORITHM:BASE64SECRET with ALGORITHM hmac-sha256, hmac-sha384, "
	                    "hmac-sha512, hmac-sha1 or hmac-md5";
	case T_LEVEL: return "not one of error, warning, notice, info, debug";
	case T_BOOL: return "not yes or no";
	default: return "invalid value";
	}
}


static void set_default(cfg *c, const opt *o)
{
	if (!is_list(o->type)) {
		(void)set_value(c, o, o->def, true);
		return;
	}
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", o->def);
	for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		(void)set_multi(c, o, (unsigned)(o - opts), t, true);
}

void cfg_defaults(cfg *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < N_OPTS; i++)
		set_default(c, &opts[i]);
}

int cfg_set(cfg *c, const char *name, const char *value, const char *where, char *err,
            size_t errlen)
{
	const opt *o = find_opt(name);
	if (!o)
		return v6r_errf(err, errlen, V6R_EINVAL, "%s: unknown option '%s'", where, name);
	int rc = set_value(c, o, value, false);
	if (rc)
		return v6r_errf(err, errlen, rc == V6R_ECODE ? V6R_ERANGE : rc, "%s: %s: %s ('%s')",
		                where, name, type_reason(o, rc), value);
	c->set_mask |= UINT64_C(1) << (o - opts);
	return 0;
}

/* Removes a trailing comment and surrounding blanks; unquotes a "..." value. */
static int split_line(char *line, char **name, char **value)
{
	char *p = line;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	*name = p;
	while (*p && !isspace((unsigned char)*p) && *p != '=')
		p++;
	char *name_end = p;
	while (isspace((unsigned char)*p) || *p == '=')
		p++;
	*name_end = '\0';
	char *v = p;
	if (*v == '"') {
		char *q = strchr(v + 1, '"');
		if (!q)
			return -1;
		char *rest = q + 1;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest && *rest != '#')
			return -1;
		*q = '\0';
		*value = v + 1;
		return 1;
	}
	char *hash = strstr(v, " #");
	if (hash)
		*hash = '\0';
	size_t n = strlen(v);
	while (n && isspace((unsigned char)v[n - 1]))
		v[--n] = '\0';
	*value = v;
	return 1;
}

/* Applies one config line; repeatable options may list several blank-separated values. */
static int apply_line(cfg *c, char *name, char *value, const char *where, char *err,
                      size_t errlen)
{
	const opt *o = find_opt(name);
	if (o && is_list(o->type) && o->type != T_FILES && strchr(value, ' ')) {
		for (char *save = NULL, *t = strtok_r(value, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			int rc = cfg_set(c, name, t, where, err, errlen);
			if (rc)
				return rc;
		}
		return 0;
	}
	return cfg_set(c, name, value, where, err, errlen);
}

int cfg_load_file(cfg *c, const char *path, bool check_all, FILE *report, char *err,
                  size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return v6r_errf(err, errlen, V6R_EIO, "failed to open config %s (%s)", path, strerror(errno));
	char line[4096], where[CFG_PATH_MAX + 32];
	unsigned lineno = 0, errors = 0;
	int first_rc = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		char *name, *value, msg[1024];
		size_t n = strlen(line);
		int rc;
		if (n == sizeof(line) - 1 && line[n - 1] != '\n') {
			rc = v6r_errf(msg, sizeof(msg), V6R_ERANGE, "%s: line too long", where);
			int ch;
			while ((ch = fgetc(f)) != EOF && ch != '\n')
				;
		} else {
			int s = split_line(line, &name, &value);
			if (s == 0)
				continue;
			rc = s < 0 ? v6r_errf(msg, sizeof(msg), V6R_ESYNTAX, "%s: unbalanced quotes", where)
			           : apply_line(c, name, value, where, msg, sizeof(msg));
		}
		if (rc == 0)
			continue;
		if (errors++ == 0) {
			first_rc = rc;
			v6r_errf(err, errlen, rc, "%s", msg);
		}
		if (report)
			fprintf(report, "%s\n", msg);
		if (!check_all)
			break;
	}
	bool ioerr = ferror(f);
	fclose(f);
	if (ioerr)
		return v6r_errf(err, errlen, V6R_EIO, "failed to read config %s", path);
	if (errors && check_all)
		return V6R_ESYNTAX;
	return first_rc;
}

/*
 * The default NS: this host's fully qualified name (its canonical name when gethostname gives a
 * single label), else "localhost.". Operators serving a real zone set --ns themselves.
 */
static void host_ns(cfg *c)
{
	char host[CFG_NAME_MAX - 2] = "";
	if (gethostname(host, sizeof(host)) != 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (host[0] && !strchr(host, '.')) {
		struct addrinfo hints = { .ai_flags = AI_CANONNAME }, *res = NULL;
		if (getaddrinfo(host, NULL, &hints, &res) == 0 && res && res->ai_canonname &&
		    strlen(res->ai_canonname) < sizeof(host))
			strcpy(host, res->ai_canonname);
		if (res)
			freeaddrinfo(res);
	}
	if (!strchr(host, '.') || parse_name(host, c->ns[0]) != 0)
		strcpy(c->ns[0], "localhost.");
	c->n_ns = 1;
}

int cfg_finish(cfg *c, unsigned scope, char *err, size_t errlen)
{
	if ((scope & CFG_SERVER) && !c->zone[0])
		return v6r_errf(err, errlen, V6R_EINVAL, "no zone set (--zone ZONE or 'zone' in the config)");
	if (!c->db[0])
		return v6r_errf(err, errlen, V6R_EINVAL, "no store directory set (--db DIR)");
	if (c->n_ns == 0)
		host_ns(c);
	if (!c->soa_mname[0])
		strcpy(c->soa_mname, c->ns[0]);
	if (!c->soa_rname[0] && c->zone[0]) {
		if (strlen(c->zone) + sizeof("hostmaster.") > CFG_NAME_MAX)
			return v6r_errf(err, errlen, V6R_ERANGE, "zone name too long for hostmaster.%s", c->zone);
		strcpy(c->soa_rname, "hostmaster.");
		strcat(c->soa_rname, strcmp(c->zone, ".") ? c->zone : "");
	}
	if ((scope & CFG_SERVER) && c->n_listen == 0)
		return v6r_errf(err, errlen, V6R_EINVAL, "no listen address");
	return 0;
}

static const char *type_name(opt_type t)
{
	static const char *const names[] = {
		[T_PATH] = "DIR", [T_NAME] = "NAME", [T_NAMES] = "NAME", [T_U32] = "N",
		[T_DUR] = "DURATION", [T_SIZE] = "SIZE", [T_CODE] = "CODE", [T_TEXT] = "TEXT",
		[T_LISTEN] = "ADDR[:PORT]", [T_LEVEL] = "LEVEL", [T_BOOL] = "yes|no", [T_USER] = "USER",
		[T_ADDRS] = "ADDR", [T_U64DUR] = "DURATION", [T_ACL] = "ADDR[/LEN]",
		[T_NOTIFY] = "ADDR[:PORT]", [T_TSIG] = "NAME:ALG:SECRET", [T_FILE] = "FILE",
		[T_FILES] = "FILE", [T_DNSSRV] = "ADDR[@PORT]",
	};
	return names[t];
}

void cfg_print_help(FILE *f, unsigned scope)
{
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt *o = &opts[i];
		if (!(o->scope & scope))
			continue;
		char left[64];
		snprintf(left, sizeof(left), "--%s %s", o->name, type_name(o->type));
		fprintf(f, "  %-32s %s", left, o->help);
		if (o->type == T_U32 || o->type == T_DUR || o->type == T_U64DUR)
			fprintf(f, " [%" PRIu64 "..%" PRIu64 "%s]", o->min, o->max, o->type == T_U32 ? "" : "s");
		if (o->def[0])
			fprintf(f, " (default: %s)", o->def);
		fputc('\n', f);
	}
}

void cfg_print_sample(FILE *f)
{
	fprintf(f, "# v6rep settings: one \"name value\" per line; '#' starts a comment.\n"
	           "# Command-line options (--name value) override this file. Durations take\n"
	           "# s, m, h, d, w suffixes; sizes K, M, G, T. Repeatable options may be\n"
	           "# given on several lines or as several values on one line.\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const opt *o = &opts[i];
		fprintf(f, "\n# %s (%s)\n", o->help, type_name(o->type));
		bool quote = o->type == T_TEXT;
		if (o->def[0])
			fprintf(f, "#%s %s%s%s\n", o->name, quote ? "\"" : "", o->def, quote ? "\"" : "");
		else
			fprintf(f, "#%s\n", o->name);
	}
}
