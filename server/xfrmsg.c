/* xfrmsg.c: the messages of a zone transfer: the request parsed, records packed into messages
 * with owner-name compression, each message finished (and TSIG-signed in a chain) in turn. */
#include "xfrmsg.h"
#include "wire.h"

#include <string.h>

#include "../zone/err.h"

#define HDR 12u
#define PTR_MAX 0x3FFFu            /* compression pointers reach this far into a message */



static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* ---- the request ---- */


/* The question: one name without pointers, then type and class. */
static int parse_question(xm_req *r)
{
	size_t o = HDR;
	for (unsigned guard = 0;; guard++) {
		if (o >= r->len || guard > 127)
			return -1;
		uint8_t l = r->msg[o];
		if (l & 0xC0u)
			return -1;
		o += 1u + l;
		if (l == 0)
			break;
	}
	if (o - HDR > 255 || r->len - o < 4)
		return -1;
	r->qtype = (uint16_t)wire_rd16(r->msg + o);
	r->qclass = (uint16_t)wire_rd16(r->msg + o + 2);
	r->q_end = o + 4;
	return 0;
}

/* IXFR: the serial of the SOA that is the first authority record (after any answers). */
static int parse_ixfr_soa(xm_req *r)
{
	size_t o = r->q_end;
	unsigned an = wire_rd16(r->msg + 6), ns = wire_rd16(r->msg + 8);
	for (unsigned i = 0; i <= an && ns > 0; i++) {
		if (wire_skip_name(r->msg, r->len, &o) || r->len - o < 10)
			return -1;
		unsigned type = wire_rd16(r->msg + o), rdlen = wire_rd16(r->msg + o + 8);
		size_t rd = o + 10, end = rd + rdlen;
		if (end > r->len)
			return -1;
		if (i == an) {
			if (type != XM_T_SOA || wire_skip_name(r->msg, end, &rd) || wire_skip_name(r->msg, end, &rd) ||
			    end - rd != 20)
				return -1;
			r->serial = (uint32_t)wire_rd16(r->msg + rd) << 16 | wire_rd16(r->msg + rd + 2);
			r->has_serial = true;
			return 0;
		}
		o = end;
	}
	return -1;
}

/* The EDNS buffer size of an OPT record in the additional section (512 without one). */
static void parse_opt(xm_req *r)
{
	size_t o = r->q_end;
	unsigned an = wire_rd16(r->msg + 6), ns = wire_rd16(r->msg + 8), ar = wire_rd16(r->msg + 10);
	r->udp_size = 512;
	for (unsigned i = 0; i < an + ns + ar; i++) {
		if (wire_skip_name(r->msg, r->len, &o) || r->len - o < 10)
			return;
		unsigned type = wire_rd16(r->msg + o), class = wire_rd16(r->msg + o + 2);
		o += 10u + wire_rd16(r->msg + o + 8);
		if (o > r->len)
			return;
		if (i >= an + ns && type == 41 && class > 512)
			r->udp_size = (uint16_t)class;
	}
}

int xm_parse(const uint8_t *msg, size_t len, xm_req *r)
{
	memset(r, 0, sizeof(*r));
	r->msg = msg;
	r->len = len;
	if (len < HDR)
		return -1;
	r->id = (uint16_t)wire_rd16(msg);
	r->flags2 = msg[2];
	r->opcode = (msg[2] >> 3) & 0xFu;
	if (wire_rd16(msg + 4) != 1 || parse_question(r))
		return -1;
	if (r->qtype == XM_T_IXFR && parse_ixfr_soa(r))
		return -1;
	parse_opt(r);
	return 0;
}

bool xm_qname_is(const xm_req *r, const uint8_t *apex, size_t apex_len)
{
	if (r->q_end < HDR + 4 || r->q_end - 4 - HDR != apex_len)
		return false;
	for (size_t i = 0; i < apex_len; i++)
		if (lower(r->msg[HDR + i]) != apex[i])
			return false;
	return true;
}

/* Header of an answer to r: id, QR, the request's opcode and RD, AA on success. */
static void put_header(const xm_req *r, uint8_t *out, int rcode, bool question)
{
	out[0] = (uint8_t)(r->id >> 8);
	out[1] = (uint8_t)r->id;
	out[2] = (uint8_t)(0x80u | (r->flags2 & 0x79u) | (rcode == XM_RC_NOERROR ? 0x04u : 0));
	out[3] = (uint8_t)(rcode & 0xF);
	wire_wr16(out + 4, question ? 1 : 0);
	memset(out + 6, 0, 6);
}

size_t xm_error(const xm_req *r, int rcode, uint8_t *out, size_t cap)
{
	bool q = r->q_end > HDR && r->q_end <= cap;
	put_header(r, out, rcode, q);
	if (!q)
		return HDR;
	memcpy(out + HDR, r->msg + HDR, r->q_end - HDR);
	return r->q_end;
}

/* ---- compression ---- */

static void name_index(xm_name *n, const uint8_t *wire, unsigned len)
{
	unsigned o = 0;
	memcpy(n->wire, wire, len);
	n->len = len;
	n->nlab = 0;
	while (o < len && wire[o] != 0 && n->nlab < 128) {
		n->lpos[n->nlab++] = (uint8_t)o;
		o += 1u + wire[o];
	}
}

/* Trailing labels that a and b share (compared as lower-case bytes: owners are lower case). */
static unsigned common_suffix(const xm_name *a, const xm_name *b)
{
	unsigned k = 0;
	while (k < a->nlab && k < b->nlab) {
		const uint8_t *x = a->wire + a->lpos[a->nlab - 1 - k];
		const uint8_t *y = b->wire + b->lpos[b->nlab - 1 - k];
		if (x[0] != y[0] || memcmp(x + 1, y + 1, x[0]) != 0)
			break;
		k++;
	}
	return k;
}

/* The dictionary entry sharing the most pointable trailing labels with n: index, or -1. */
static int dict_best(const xm_builder *b, const xm_name *n, unsigned *shared)
{
	int best = -1;
	*shared = 0;
	for (unsigned i = 0; i < b->ndict; i++) {
		const xm_name *d = &b->dict[i];
		unsigned k = common_suffix(n, d);
		while (k > 0 && d->loff[d->nlab - k] == 0)
			k--;
		if (k > *shared) {
			*shared = k;
			best = (int)i;
		}
	}
	return best;
}

/* Size of n in the message: the labels not shared, then a pointer or the root. */
static size_t name_size(const xm_name *n, unsigned shared)
{
	size_t head = shared ? n->lpos[n->nlab - shared] : n->len - 1;
	return head + (shared ? 2 : 1);
}

/* Writes n at b->buf + b->len and remembers where its suffixes are. */
static void name_write(xm_builder *b, xm_name *n, int best, unsigned shared)
{
	size_t head = shared ? n->lpos[n->nlab - shared] : n->len - 1, at = b->len;
	memcpy(b->buf + at, n->wire, head);
	for (unsigned i = 0; i < n->nlab - shared; i++) {
		size_t o = at + n->lpos[i];
		n->loff[i] = o <= PTR_MAX ? (uint16_t)o : 0;
	}
	if (shared) {
		const xm_name *d = &b->dict[best];
		for (unsigned j = 0; j < shared; j++)
			n->loff[n->nlab - shared + j] = d->loff[d->nlab - shared + j];
		wire_wr16(b->buf + at + head, 0xC000u | d->loff[d->nlab - shared]);
		b->len += head + 2;
	} else {
		b->buf[at + head] = 0;
		b->len += head + 1;
	}
	b->dict[b->next] = *n;
	b->next = (b->next + 1) % XM_DICT;
	if (b->ndict < XM_DICT)
		b->ndict++;
}

/* ---- messages ---- */

void xm_init(xm_builder *b, const xm_req *r, size_t target, size_t cap, bool single,
             const tsig_key *key, const tsig_req *treq, xm_emit_fn emit, void *arg)
{
	b->req = r;
	b->target = target;
	b->cap = cap > XM_MSG_MAX ? XM_MSG_MAX : cap;
	b->single = single;
	b->key = key && key->name[0] ? key : NULL;
	b->mac_len = 0;
	if (b->key && treq && treq->mac_len <= TSIG_MAC_MAX) {
		memcpy(b->mac, treq->mac, treq->mac_len);
		b->mac_len = treq->mac_len;
	}
	b->emit = emit;
	b->arg = arg;
	b->len = 0;
	b->an = 0;
	b->open = false;
	b->ndict = b->next = 0;
	b->msgs = b->bytes = b->rrs = 0;
}

/* Opens a message: the header, and the question in the first one only (RFC 5936 2.2). */
static void msg_open(xm_builder *b)
{
	bool first = b->msgs == 0;
	size_t n = first ? xm_error(b->req, XM_RC_NOERROR, b->buf, sizeof(b->buf)) : HDR;
	if (!first)
		put_header(b->req, b->buf, XM_RC_NOERROR, false);
	b->len = n;
	b->an = 0;
	b->open = true;
	b->ndict = b->next = 0;
}

static int msg_close(xm_builder *b)
{
	size_t n = b->len;
	wire_wr16(b->buf + 6, b->an);
	if (b->key) {
		n = tsig_sign(b->key, b->buf, b->len, b->buf, sizeof(b->buf), b->mac, &b->mac_len,
		              b->msgs > 0);
		if (n == 0)
			return V6R_EINVAL;
	}
	b->open = false;
	b->msgs++;
	b->bytes += n;
	return b->emit(b->buf, n, b->arg);
}

int xm_add(xm_builder *b, const rd_rr *rr)
{
	xm_name n;
	unsigned shared;
	if (rr->owner_len == 0 || rr->owner_len > 255)
		return V6R_EINVAL;
	if (!b->open)
		msg_open(b);
	name_index(&n, rr->owner, rr->owner_len);
	int best = dict_best(b, &n, &shared);
	size_t need = name_size(&n, shared) + 10 + rr->rdlen;
	bool fits = b->len + need <= b->cap && (b->an == 0 || b->len + need <= b->target);
	if (!fits) {
		if (b->single || b->an == 0)
			return V6R_ESPACE;
		int rc = msg_close(b);
		if (rc)
			return rc;
		return xm_add(b, rr);
	}
	name_write(b, &n, best, shared);
	uint8_t *p = b->buf + b->len;
	wire_wr16(p, rr->type);
	wire_wr16(p + 2, 1);
	p[4] = (uint8_t)(rr->ttl >> 24);
	p[5] = (uint8_t)(rr->ttl >> 16);
	p[6] = (uint8_t)(rr->ttl >> 8);
	p[7] = (uint8_t)rr->ttl;
	wire_wr16(p + 8, rr->rdlen);
	if (rr->rdlen)
		memcpy(p + 10, rr->rdata, rr->rdlen);
	b->len += 10u + rr->rdlen;
	b->an++;
	b->rrs++;
	return 0;
}

int xm_finish(xm_builder *b)
{
	if (!b->open && b->msgs > 0)
		return 0;
	if (!b->open)
		msg_open(b);
	return msg_close(b);
}
