/* xfrmsg.h: the messages of a zone transfer: the request parsed, records packed into messages
 * with owner-name compression, each message finished (and TSIG-signed in a chain) in turn. */
#ifndef V6R_XFRMSG_H
#define V6R_XFRMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../zone/render.h"
#include "tsig.h"

enum { XM_T_SOA = 6, XM_T_IXFR = 251, XM_T_AXFR = 252 };
enum { XM_RC_NOERROR = 0, XM_RC_FORMERR = 1, XM_RC_SERVFAIL = 2, XM_RC_REFUSED = 5,
       XM_RC_NOTAUTH = 9 };

/* A request (AXFR, IXFR, or any query carrying TSIG). Pointers point into the message. */
typedef struct xm_req {
	const uint8_t *msg;
	size_t len;
	uint16_t id;
	uint8_t flags2;            /* header byte 2 (opcode, RD) */
	unsigned opcode;
	uint16_t qtype, qclass;
	size_t q_end;              /* end of the question: 12 + name + 4 */
	bool has_serial;           /* IXFR: the client's SOA was in the authority section */
	uint32_t serial;
	uint16_t udp_size;         /* the client's EDNS buffer size; 512 without OPT */
} xm_req;

/*
 * Parses a request: one question with an uncompressed name, and for IXFR the client's SOA as
 * the first authority record (RFC 1995 3). Returns 0, or -1 when it is malformed (FORMERR).
 */
int xm_parse(const uint8_t *msg, size_t len, xm_req *r);

/* Whether the question name is the apex (wire form, lower case), compared case-insensitively. */
bool xm_qname_is(const xm_req *r, const uint8_t *apex, size_t apex_len);

/* An answer without records: the header (QR, AA when rcode is NOERROR, RD copied) and the
 * question when r parsed. Returns its length (cap >= 512). */
size_t xm_error(const xm_req *r, int rcode, uint8_t *out, size_t cap);

/* Called with each finished message; a non-zero return stops the transfer and is returned. */
typedef int (*xm_emit_fn)(const uint8_t *msg, size_t len, void *arg);

#define XM_DICT 8u                 /* recent owner names that compression may point into */
#define XM_MSG_MAX 65535u

typedef struct xm_name {
	uint8_t wire[255];
	unsigned len, nlab;
	uint8_t lpos[128];         /* where label i starts inside wire */
	uint16_t loff[128];        /* message offset of the suffix from label i; 0: cannot point */
} xm_name;

/* Builds the messages of one answer. Large: allocate it, do not put it on a small stack. */
typedef struct xm_builder {
	const xm_req *req;
	size_t target;             /* start a new message once this many bytes are used */
	size_t cap;                /* hard limit of one message (before TSIG) */
	bool single;               /* one message only: a record that does not fit is V6R_ESPACE */
	const tsig_key *key;       /* sign every message when set */
	uint8_t mac[TSIG_MAC_MAX]; /* the MAC chain: the request's, then each message's */
	size_t mac_len;
	xm_emit_fn emit;
	void *arg;
	uint8_t buf[XM_MSG_MAX + TSIG_ROOM];
	size_t len;
	uint16_t an;
	bool open;                 /* a message is being filled */
	xm_name dict[XM_DICT];
	unsigned ndict, next;
	uint64_t msgs, bytes, rrs; /* totals for the log */
} xm_builder;

/*
 * Starts an answer to r. target: soft size of each message (compression reaches only the first
 * 16 KiB of a message, so about 16000 is a good value); cap: hard size (65535 over TCP, the UDP
 * limit over UDP, with single set). With key, every message is signed, chaining from the
 * request's MAC treq->mac (RFC 8945 5.3.1).
 */
void xm_init(xm_builder *b, const xm_req *r, size_t target, size_t cap, bool single,
             const tsig_key *key, const tsig_req *treq, xm_emit_fn emit, void *arg);

/* Adds one record, finishing the current message first when it would not fit. Returns 0,
 * V6R_ESPACE (single, or a record larger than a message), or emit's value. */
int xm_add(xm_builder *b, const rd_rr *rr);

/* Finishes the last message (an empty first message too). Returns 0 or emit's value. */
int xm_finish(xm_builder *b);

#endif
