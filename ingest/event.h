/* event.h: the events that ingest's readers produce: sensor SYNs and production DNSBL rejections. */
#ifndef V6R_EVENT_H
#define V6R_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Addresses use zone/addr.h's single address space: an IPv4 address a.b.c.d is ::ffff:a.b.c.d.
 * Times are microseconds since the Unix epoch, UTC, taken from the input itself (packet time,
 * log timestamp), never from the clock, so replaying old inputs reproduces old evidence.
 */

/*
 * TCP option kinds as p0f names them, in the order the SYN carried them (olayout). ev_syn.opts
 * holds the kind byte as it was on the wire, so an option p0f does not name keeps its number
 * (p0f prints it as "?n"); EV_OPT_OTHER is only a kind number like any other.
 */
enum ev_opt { EV_OPT_EOL = 0, EV_OPT_NOP = 1, EV_OPT_MSS = 2, EV_OPT_WS = 3, EV_OPT_SOK = 4,
              EV_OPT_SACK = 5, EV_OPT_TS = 8, EV_OPT_OTHER = 255 };

/* p0f v3 quirks, as bits. */
#define EV_Q_DF    0x0001u  /* IPv4 don't-fragment set */
#define EV_Q_NZ_ID 0x0002u  /* IPv4 id non-zero with DF set ("id+") */
#define EV_Q_ZERO_ID 0x0004u /* IPv4 id zero without DF ("id-") */
#define EV_Q_ECN   0x0008u  /* ECN bits */
#define EV_Q_NZ_MBZ 0x0010u /* "must be zero" bit set ("0+") */
#define EV_Q_FLOW  0x0020u  /* IPv6 flow label non-zero */
#define EV_Q_ZERO_SEQ 0x0040u /* sequence number zero ("seq-") */
#define EV_Q_NZ_ACK 0x0080u /* ACK number non-zero without ACK flag ("ack+") */
#define EV_Q_NZ_URG 0x0100u /* urgent pointer non-zero without URG ("uptr+") */
#define EV_Q_URG   0x0200u  /* URG flag ("urgf+") */
#define EV_Q_PUSH  0x0400u  /* PUSH flag ("pushf+") */
#define EV_Q_OPT_ZERO_TS1 0x0800u /* own timestamp zero ("ts1-") */
#define EV_Q_OPT_NZ_TS2 0x1000u   /* peer timestamp non-zero in a SYN ("ts2+") */
#define EV_Q_OPT_EOL_NZ 0x2000u   /* non-zero bytes past EOL ("opt+") */
#define EV_Q_OPT_EXWS 0x4000u     /* window scale > 14 ("exws") */
#define EV_Q_OPT_BAD 0x8000u      /* malformed options ("bad") */

/* p0f's MAX_TCP_OPT: it records at most 24 options and flags the rest as "bad". */
#define EV_MAX_OPTS 24

/* One TCP SYN (SYN set, ACK clear) seen by the sensor. */
typedef struct ev_syn {
	uint64_t t_us;              /* capture time */
	uint64_t offset;            /* byte offset of the packet record in its file (for errors) */
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool v6;                    /* IPv6 packet (else IPv4) */
	uint8_t ttl;                /* IPv4 TTL or IPv6 hop limit as received */
	uint8_t ip_opt_len;         /* IPv4 options length (p0f olen); 0 for IPv6 */
	uint8_t tcp_hdr_len;        /* TCP header length incl. options, bytes (data offset * 4);
	                               p0f's tot_hdr = IP header + this, used for "mtu*N" */
	uint16_t win;               /* TCP window (unscaled) */
	uint16_t mss;               /* MSS option value, 0 when absent */
	uint8_t wscale;             /* window scale, 0xff when absent */
	uint8_t n_opts;
	uint8_t opts[EV_MAX_OPTS];  /* option kind bytes (enum ev_opt), in order */
	uint8_t eol_pad;            /* bytes after EOL (p0f "eol+N") */
	uint16_t quirks;            /* EV_Q_* */
	uint32_t ts_val;            /* TSval when the timestamp option is present */
	uint32_t seq;               /* TCP sequence number */
	uint16_t payload_len;       /* TCP payload bytes (p0f pclass) */
} ev_syn;

/* Which MTA log line produced a rejection. */
enum ev_mta { EV_MTA_POSTFIX = 1, EV_MTA_POSTSCREEN = 2, EV_MTA_EXIM = 3, EV_MTA_SENDMAIL = 4 };

/* One production MTA rejection of a client IP through a DNSBL. */
typedef struct ev_reject {
	uint64_t t_us;              /* log time (UTC) */
	uint8_t addr[16];           /* client address */
	uint16_t port;              /* client port when logged, else 0 */
	uint8_t mta;                /* enum ev_mta */
	char zone[256];             /* the DNSBL zone named in the line ("" when not logged) */
} ev_reject;

#endif
