/* p0f.h: p0f v3 SYN fingerprinting: the p0f.fp database, a matcher, raw_sig text, and the -o log reader. */
#ifndef V6R_P0F_H
#define V6R_P0F_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/*
 * This module reimplements what p0f 3.09b does with a client SYN ([tcp:request] signatures):
 * the same signature grammar, the same search order (specific before generic, fuzzy last), the
 * same TTL distance and window rules, and the same raw_sig text. It was checked against the
 * Debian p0f binary on the captures in tests/data/p0f/.
 */

/* The operating-system families v6rep cares about. */
enum p0f_os {
	P0F_OS_UNKNOWN = 0, /* no match, or a userland tool (NMap) that says nothing of the OS */
	P0F_OS_WINDOWS,
	P0F_OS_LINUX,       /* including Android */
	P0F_OS_MAC,         /* Mac OS X, macOS, iOS */
	P0F_OS_BSD,         /* FreeBSD, OpenBSD, NetBSD, DragonFly */
	P0F_OS_OTHER,       /* anything else p0f names (Solaris, Blackberry, ...) */
};

/* Returns a static lower-case name ("windows", "linux", "mac", "bsd", "other", "unknown"). */
const char *p0f_os_name(int os);

/* Maps a p0f label ("Linux 3.11 and newer", "iOS iPhone or iPad") to its family; n is its length. */
int p0f_os_of_label(const char *label, size_t n);

/* ---- signature database ---- */

typedef struct p0f_db p0f_db;

/* Limits that bound loading: file size, line length and signature count. */
#define P0F_DB_MAX_BYTES (8u << 20)
#define P0F_DB_MAX_LINE  4096u
#define P0F_DB_MAX_SIGS  65535u

/*
 * Loads the [tcp:request] signatures of a p0f v3 p0f.fp file. The grammar and the checks are
 * p0f 3.09b's (readfp.c, fp_tcp.c): a `classes` line before the first section, `label =
 * type:class:name:flavor`, `sys` after a '!' (tool) label, and `sig =
 * ver:ittl:olen:mss:wsize,scale:olayout:quirks:pclass`; a signature already covered by an
 * earlier one is an error, as in p0f. Other sections ([mtu], [tcp:response], [http:*]) are
 * skipped unread. Unlike p0f, trailing blanks and a CR before the newline are ignored.
 *
 * On success *out owns a database to free with p0f_db_free. On failure returns V6R_ESYNTAX,
 * V6R_ERANGE (a limit above), V6R_EIO (file) or V6R_ENOMEM, and writes "path:line: reason
 * (\"text\")" (or "path: reason") into err.
 */
int p0f_db_load(const char *path, p0f_db **out, char *err, size_t errlen);

/* The same from memory; name is used in messages in place of the path. */
int p0f_db_load_mem(const char *text, size_t len, const char *name, p0f_db **out, char *err,
                    size_t errlen);

void p0f_db_free(p0f_db *db);

/* Number of [tcp:request] signatures loaded. */
unsigned p0f_db_sig_count(const p0f_db *db);

/* ---- matching ---- */

typedef struct p0f_result {
	const char *label;  /* "Linux 3.11 and newer" (name, space, flavor), owned by the db;
	                       NULL when nothing matched (p0f logs os=???) */
	int os;             /* enum p0f_os */
	bool generic;       /* matched a g: signature */
	bool fuzzy;         /* matched only with TTL or quirk tolerance */
	bool app;           /* a userland tool signature (class '!'): p0f logs app= for it */
	bool random_ttl;    /* the signature's TTL is "N-": dist is an upper bound ("<= N") */
	uint8_t dist;       /* hop distance as p0f logs it */
	unsigned line;      /* p0f.fp line of the matched sig, 0 when none */
} p0f_result;

/*
 * Fingerprints a client SYN the way p0f 3.09b does and fills *res. Does not allocate.
 * Returns 0, with res->label NULL (and res->os P0F_OS_UNKNOWN, dist p0f's guess) when nothing
 * matched, or V6R_EINVAL for NULL arguments.
 */
int p0f_match(const p0f_db *db, const ev_syn *syn, p0f_result *res);

/*
 * A direct-mapped cache of match results keyed by everything p0f_match reads from a SYN (the
 * probe: version, TTL, IP option length, payload class, options in order, EOL padding, MSS,
 * window, scale, quirks, whether a TSval is set, header length). Senders repeat a handful of
 * stacks, so nearly every SYN of a capture hits. The cache belongs to one db; zero it to start.
 */
#define P0F_CACHE_SLOTS 1024
#define P0F_CACHE_KEY 48
typedef struct p0f_cache {
	const p0f_db *db;
	uint64_t hits, misses;
	struct p0f_cache_slot {
		uint8_t key[P0F_CACHE_KEY];
		p0f_result res;
		bool used;
	} slot[P0F_CACHE_SLOTS];
} p0f_cache;

/* p0f_match through the cache c: the same result, computed once per distinct probe. */
int p0f_match_cached(const p0f_db *db, p0f_cache *c, const ev_syn *syn, p0f_result *res);

/*
 * Writes p0f's params text for a result: "none", or some of "generic fuzzy random_ttl
 * excess_dist" in that order. p0f also appends "tos:0xNN", which ev_syn does not carry.
 * Returns the length or V6R_ESPACE (32 bytes always suffice).
 */
int p0f_params(const p0f_result *res, char *buf, size_t cap);

/*
 * Writes the SYN's raw_sig exactly as p0f prints it, e.g.
 * "4:52+12:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0". Returns the length (without the NUL)
 * or V6R_ESPACE; P0F_RAW_SIG_MAX bytes always suffice.
 */
#define P0F_RAW_SIG_MAX 512
int p0f_raw_sig(const ev_syn *syn, char *buf, size_t cap);

/* True when s[0..n) parses as a TCP signature: a p0f.fp sig or a raw_sig (which may say "+?"). */
bool p0f_sig_text_valid(const char *s, size_t n);

/* ---- p0f -o log reader ---- */

/*
 * How log times (local, no zone) become UTC. P0F_TZ_LOCAL uses the process time zone (TZ, as
 * mktime does); P0F_TZ_FIXED subtracts a fixed offset. The struct also caches the last
 * minute's conversion, so keep one per reader.
 */
enum p0f_tz_mode { P0F_TZ_LOCAL = 0, P0F_TZ_FIXED = 1 };

typedef struct p0f_tz {
	int mode;            /* enum p0f_tz_mode */
	int32_t off_s;       /* P0F_TZ_FIXED: local time minus UTC, seconds */
	int64_t cache_min;   /* local minute (minutes since 1970 as if UTC) of the cached result */
	int64_t cache_utc;   /* its UTC second */
	bool cache_ok;
} p0f_tz;

/* Sets tz to the process time zone. */
void p0f_tz_local(p0f_tz *tz);

/*
 * Parses a zone setting, the same spellings as mlog_parser_set_tz: "local" or "" (the process
 * TZ), "UTC", "GMT", "Z", or a fixed offset "[UTC|GMT]+hh[:mm]", "-hhmm" (|offset| < 24 h). Named
 * zones: export TZ and use "local". Returns 0, or V6R_EINVAL with *tz unchanged.
 */
int p0f_tz_parse(const char *s, size_t n, p0f_tz *tz);

/* The p0f observation modules ("mod=" values). */
enum p0f_mod {
	P0F_MOD_OTHER = 0,       /* any other module name: only the common fields are read */
	P0F_MOD_SYN,             /* "syn": a client SYN */
	P0F_MOD_SYNACK,          /* "syn+ack" */
	P0F_MOD_SENDSYN_PROBE,   /* "sendsyn probe": a SYN with p0f-sendsyn's window and MSS */
	P0F_MOD_SENDSYN_RESP,    /* "sendsyn response" */
	P0F_MOD_MTU,             /* "mtu" */
	P0F_MOD_UPTIME,          /* "uptime" */
	P0F_MOD_HOST_CHANGE,     /* "host change" */
	P0F_MOD_IP_SHARING,      /* "ip sharing" */
	P0F_MOD_HTTP_REQ,        /* "http request" */
	P0F_MOD_HTTP_RESP,       /* "http response" */
};

/* params bits. */
#define P0F_P_GENERIC     0x1u
#define P0F_P_FUZZY       0x2u
#define P0F_P_RANDOM_TTL  0x4u
#define P0F_P_EXCESS_DIST 0x8u

#define P0F_LABEL_MAX 128

typedef struct p0f_log_entry {
	uint64_t t_us;          /* UTC, microseconds (p0f logs whole seconds) */
	int mod;                /* enum p0f_mod */
	uint8_t cli[16], srv[16];   /* addr.h form: IPv4 as ::ffff:a.b.c.d */
	uint16_t cli_port, srv_port;
	bool v6;                /* the client address is IPv6 */
	bool subj_cli;          /* subj=cli (else subj=srv) */

	/* SYN-type modules (syn, syn+ack, sendsyn *): */
	bool known;             /* os= or app= named something (not "???") */
	bool app;               /* the key was app= (a userland tool) */
	int os;                 /* enum p0f_os of label */
	char label[P0F_LABEL_MAX];  /* the os=/app= text, "" for ??? */
	int dist;               /* dist=N; -1 when not given */
	bool dist_le;           /* dist=<= N (random_ttl signature) */
	unsigned params;        /* P0F_P_* */
	int tos;                /* the params tos:0xNN value, 0 when absent */
	char raw_sig[P0F_RAW_SIG_MAX];

	/* mod=mtu: */
	char link[P0F_LABEL_MAX];   /* link=, "" for ??? */
	unsigned raw_mtu;

	/* mod=uptime: */
	uint32_t uptime_min;    /* days, hours and minutes as minutes */
	uint32_t up_mod_days;   /* the "(modulo N days)" */
	uint32_t raw_freq_centi;/* raw_freq in 1/100 Hz */

	/* mod=host change, ip sharing: */
	char reason[P0F_LABEL_MAX];
} p0f_log_entry;

/*
 * Parses one line of a p0f v3 -o log (no newline needed; a trailing CR/LF is ignored):
 *   [YYYY/MM/DD HH:MM:SS] mod=syn|cli=ADDR/PORT|srv=ADDR/PORT|subj=cli|os=...|dist=N|params=...|raw_sig=...
 * The time is converted with tz (NULL: the process time zone, uncached). IPv6 addresses in
 * p0f's uncompressed form and any other form are accepted. Returns 1 with *out filled, 0 for a
 * blank line, or V6R_ESYNTAX / V6R_ERANGE with "column N: reason" in err.
 */
int p0f_log_parse_line(const char *line, size_t len, p0f_tz *tz, p0f_log_entry *out, char *err,
                       size_t errlen);

#endif
