/* cfg.h: zone and server settings, driven by one option table (parser, --help, sample, checks). */
#ifndef V6R_CFG_H
#define V6R_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CFG_NAME_MAX 256      /* presentation-format domain name, with trailing dot */
#define CFG_MAX_LISTEN 16
#define CFG_MAX_NS 8
#define CFG_PATH_MAX 1024
#define CFG_TEXT_MAX 512

/* Which programs an option concerns (for --help and checks). */
#define CFG_SERVER 0x1u
#define CFG_TOOL   0x2u
#define CFG_INGEST 0x4u
#define CFG_MAX_SENSOR 16
#define CFG_MAX_ACL 32        /* allow-transfer entries */
#define CFG_MAX_NOTIFY 16     /* notify targets */
#define CFG_TSIG_SECRET_MAX 256
#define CFG_MAX_ASN_FILES 8   /* asn-file entries */
#define CFG_MAX_PTR_SERVER 4  /* ptr-server entries */

/* An address prefix of an access list: IPv4 is kept v4-mapped (::ffff:a.b.c.d, len + 96). */
typedef struct cfg_acl {
	uint8_t a[16];
	uint8_t len;        /* 0..128 */
	int family;         /* AF_INET or AF_INET6, as written */
} cfg_acl;

typedef struct cfg_listen {
	char host[64];      /* numeric address text, no brackets */
	uint16_t port;
	int family;         /* AF_INET or AF_INET6 */
} cfg_listen;

typedef struct cfg {
	/* store */
	char db[CFG_PATH_MAX];
	uint64_t map_size;                 /* bytes, 0 = default */
	/* zone */
	char zone[CFG_NAME_MAX];           /* apex, lower case, absolute ("v6bl.example.") */
	char ns[CFG_MAX_NS][CFG_NAME_MAX]; /* NS names, absolute */
	unsigned n_ns;
	char soa_mname[CFG_NAME_MAX];      /* "" = first NS */
	char soa_rname[CFG_NAME_MAX];      /* "" = hostmaster.<zone> */
	uint32_t soa_refresh, soa_retry, soa_expire;
	uint32_t negative_ttl;             /* SOA minimum and the SOA TTL in negative answers */
	uint32_t soa_ttl, ns_ttl, ttl;     /* ttl: A/TXT answers */
	uint8_t default_code[4];
	char txt_template[CFG_TEXT_MAX];   /* {addr} {prefix} {reason} {code} {zone} */
	char default_reason[CFG_TEXT_MAX];
	/* server */
	cfg_listen listen[CFG_MAX_LISTEN];
	unsigned n_listen;
	unsigned threads;                  /* 0 = number of CPUs */
	uint32_t udp_max_size;             /* largest UDP answer we send (EDNS), 512..65535 */
	uint32_t tcp_idle_timeout;         /* seconds */
	uint32_t tcp_max_connections;      /* whole server */
	char user[64];                     /* drop privileges to this user after binding */
	unsigned log_level;                /* LOG_ERR..LOG_DEBUG (syslog.h values) */
	bool log_syslog;
	/* zone transfers (server/xfr.c, server/notify.c) and the journal (zone/store.c) */
	cfg_acl allow_transfer[CFG_MAX_ACL];   /* peers that may AXFR/IXFR; none = nobody */
	unsigned n_allow_transfer;
	cfg_listen notify[CFG_MAX_NOTIFY];     /* secondaries sent NOTIFY on serial changes */
	unsigned n_notify;
	char tsig_name[CFG_NAME_MAX];          /* "" = no key; else transfers need TSIG */
	char tsig_alg[32];                     /* ldns name: "hmac-sha256." etc. */
	char tsig_secret[CFG_TSIG_SECRET_MAX]; /* base64 */
	uint32_t notify_interval;              /* seconds between notify rounds, at least */
	uint32_t notify_retries;               /* sends per secondary and serial */
	uint32_t xfr_max_transfers;            /* concurrent outgoing transfers */
	uint32_t xfr_timeout;                  /* seconds a transfer may make no progress */
	uint32_t journal_size;                 /* journal entries kept for IXFR */
	/* ingest */
	uint32_t sensor_port;
	char sensor_addr[CFG_MAX_SENSOR][64];   /* destination addresses of the sensor (text) */
	unsigned n_sensor_addr;
	uint32_t attempt_window, pair_window, chain_window, reject_window;   /* seconds */
	uint32_t min_score, port_gap, nat_max;
	uint64_t expire_after;                   /* seconds */
	uint32_t aggregate_min, flood_min, port_reuse_min, confirm_attempts;
	uint8_t sensor_code[4], aggregate_code[4], ipv4_code[4];
	bool publish_ipv4;
	char allowlist[CFG_PATH_MAX];
	char p0f_fp[CFG_PATH_MAX];
	char log_timezone[64];
	uint32_t batch_interval;                 /* seconds */
	uint32_t follow_lag;                     /* seconds */
	/* ingest enrichment (ingest/enrich.h) */
	char asn_file[CFG_MAX_ASN_FILES][CFG_PATH_MAX];  /* pfx2as or Cymru files, loaded in order */
	unsigned n_asn_file;
	char ptr_file[CFG_PATH_MAX];
	bool ptr_live;                           /* live PTR lookups */
	cfg_listen ptr_server[CFG_MAX_PTR_SERVER];   /* "" = /etc/resolv.conf */
	unsigned n_ptr_server;
	uint32_t ptr_timeout;                    /* seconds */
	uint32_t ptr_cache, ptr_budget;
	/* bookkeeping: which options were set explicitly (index in the option table) */
	uint64_t set_mask;
} cfg;

/* Fills c with every option's default (zone left empty: it has no default). */
void cfg_defaults(cfg *c);

/*
 * Sets option `name` (without leading dashes) from text value. `where` prefixes error messages
 * ("file:line" or "command line"). Multi-valued options (listen, ns) append, replacing the
 * default on first use. Returns 0 or V6R_ESYNTAX / V6R_ERANGE / V6R_EINVAL (unknown option)
 * with a message in err: "<where>: <option>: <reason> ('<value>')".
 */
int cfg_set(cfg *c, const char *name, const char *value, const char *where, char *err,
            size_t errlen);

/*
 * Reads a config file: one "name value" (or "name = value") per line, '#' comments, values may
 * be double-quoted. Returns 0, or the first error with "path:line:" context in err; with
 * check_all, keeps going and counts errors (each printed to `report` when non-NULL) and returns
 * V6R_ESYNTAX if there were any.
 */
int cfg_load_file(cfg *c, const char *path, bool check_all, FILE *report, char *err,
                  size_t errlen);

/*
 * Validates and completes the settings for the programs in `scope` (CFG_SERVER needs a zone):
 * names made absolute and lower case, SOA mname/rname derived when empty, NS defaulted to this
 * host's name. Returns 0 or V6R_EINVAL with a message.
 */
int cfg_finish(cfg *c, unsigned scope, char *err, size_t errlen);

/* True when option `name` exists and is a flag-less value option for scope. */
bool cfg_known(const char *name, unsigned scope);

/* Prints one line per option of scope: --name TYPE (range, default) help. */
void cfg_print_help(FILE *f, unsigned scope);

/* Prints a commented sample config file with every option at its default. */
void cfg_print_sample(FILE *f);

/* Parses a duration "90", "45s", "10m", "12h", "30d", "2w" into seconds. Returns 0 or error. */
int cfg_parse_duration(const char *s, uint64_t *secs);

/* Parses a return code "127.0.0.N" (inside 127.0.0.0/8). Returns 0, V6R_ESYNTAX or V6R_ECODE. */
int cfg_parse_code(const char *s, uint8_t code[4]);

#endif
