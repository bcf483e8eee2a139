/* answer.c: the answering core: parses one query, decides it and builds the response in place. */
#include "answer.h"
#include "wire.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "../zone/err.h"
#include "../zone/lookup.h"

#define DNS_HDR 12u
#define OPT_RR_LEN 11u       /* root owner, type, class, ttl, rdlen = 0 */
#define RR_HEAD_LEN 12u      /* compressed owner, type, class, ttl, rdlen */
#define MAX_NAME 255u
#define MAX_LABELS 128u      /* 127 one-byte labels fit in 255 bytes, plus the root */
#define TXT_CHUNK 255u

enum { T_A = 1, T_NS = 2, T_SOA = 6, T_TXT = 16, T_OPT = 41, T_TKEY = 249, T_TSIG = 250,
       T_IXFR = 251, T_AXFR = 252, T_ANY = 255 };
enum { C_IN = 1 };
enum { RC_NOERROR = 0, RC_FORMERR = 1, RC_SERVFAIL = 2, RC_NXDOMAIN = 3, RC_NOTIMP = 4,
       RC_REFUSED = 5, RC_BADVERS = 16 };

/* What the parser found in one query message; label pointers point into the message. */
typedef struct query {
	const uint8_t *msg;
	size_t len;
	uint8_t flags2, flags3;        /* header bytes 2 and 3 */
	unsigned opcode;
	uint16_t qdcount, ancount, nscount, arcount;
	bool qd_ok;                    /* exactly one question, parsed */
	size_t qname_len;              /* wire bytes, root included */
	size_t q_end;                  /* offset just after QCLASS */
	unsigned n_labs;
	uint16_t qtype, qclass;
	bool edns_bad;                 /* records after the question are malformed */
	bool has_opt;
	bool do_bit;
	uint8_t version;
	uint16_t udp_size;
	const uint8_t *labs[MAX_LABELS]; /* label length octets, leftmost first; labs[n_labs]: root */
} query;

/* The response being built: answer records must end by `limit`, which keeps room for OPT. */
typedef struct resp {
	uint8_t *b;
	size_t len, limit;
	uint16_t an, ns, ar;
	bool full;                     /* a record did not fit: truncate */
	bool aa;
} resp;

/* One resource record located inside the query message. */
typedef struct rr_ref {
	size_t owner;                  /* offset of the owner name */
	size_t owner_len;
	uint16_t type, class;
	uint32_t ttl;
	size_t rdata;                  /* offset of the RDATA */
	uint16_t rdlen;
} rr_ref;





static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + ('a' - 'A')) : c;
}

/* ---------------------------------------------------------------- parsing the query */

static void parse_header(query *q, const uint8_t *m, size_t len)
{
	memset(q, 0, offsetof(query, labs));     /* the label array is filled as parsed */
	q->msg = m;
	q->len = len;
	q->flags2 = m[2];
	q->flags3 = m[3];
	q->opcode = (m[2] >> 3) & 0xFu;
	q->qdcount = wire_rd16(m + 4);
	q->ancount = wire_rd16(m + 6);
	q->nscount = wire_rd16(m + 8);
	q->arcount = wire_rd16(m + 10);
}

/*
 * Reads the question name label by label. Compression pointers, the extended label types and
 * names longer than 255 bytes are malformed here (RFC 1035 4.1.4 allows pointers, but no real
 * client compresses the only name of a query, and we echo the question byte for byte).
 */
static int parse_qname(query *q)
{
	size_t off = DNS_HDR;

	for (;;) {
		if (off >= q->len || q->n_labs >= MAX_LABELS)
			return -1;
		uint8_t l = q->msg[off];
		if (l & 0xC0u)
			return -1;
		q->labs[q->n_labs] = q->msg + off;
		if (l == 0)
			break;
		q->n_labs++;
		off += 1u + l;
		if (off - DNS_HDR > MAX_NAME - 1u)
			return -1;
	}
	q->qname_len = off + 1u - DNS_HDR;
	return 0;
}

static int parse_question(query *q)
{
	if (q->qdcount != 1 || parse_qname(q) != 0)
		return -1;
	size_t off = DNS_HDR + q->qname_len;
	if (q->len - off < 4u)
		return -1;
	q->qtype = wire_rd16(q->msg + off);
	q->qclass = wire_rd16(q->msg + off + 2);
	q->q_end = off + 4u;
	q->qd_ok = true;
	return 0;
}


static int read_rr(const query *q, size_t *off, rr_ref *rr)
{
	size_t o = *off;

	rr->owner = o;
	if (wire_skip_name(q->msg, q->len, &o) != 0 || q->len - o < 10u)
		return -1;
	rr->owner_len = o - rr->owner;
	rr->type = wire_rd16(q->msg + o);
	rr->class = wire_rd16(q->msg + o + 2);
	rr->ttl = wire_rd32(q->msg + o + 4);
	rr->rdlen = wire_rd16(q->msg + o + 8);
	rr->rdata = o + 10u;
	if (q->len - rr->rdata < rr->rdlen)
		return -1;
	*off = rr->rdata + rr->rdlen;
	return 0;
}

/* Takes the OPT record (RFC 6891 6.1): one only, owner root, options well formed. */
static int take_opt(query *q, const rr_ref *rr)
{
	size_t o = rr->rdata, end = rr->rdata + rr->rdlen;

	if (q->has_opt || rr->owner_len != 1u || q->msg[rr->owner] != 0)
		return -1;
	while (o < end) {
		if (end - o < 4u)
			return -1;
		size_t olen = wire_rd16(q->msg + o + 2);
		if (end - o - 4u < olen)
			return -1;
		o += 4u + olen;     /* every option is ignored: none is implemented */
	}
	q->has_opt = true;
	q->udp_size = rr->class;
	q->version = (uint8_t)(rr->ttl >> 16);
	q->do_bit = (rr->ttl & 0x8000u) != 0;
	return 0;
}

/*
 * Walks the answer, authority and additional sections after the question. Records in the first
 * two are skipped; the additional section may hold the OPT record. Bytes after the last record
 * are malformed. Each record takes at least 11 bytes, so the walk is bounded by the length.
 */
static int parse_records(query *q)
{
	size_t off = q->q_end;
	unsigned skip = (unsigned)q->ancount + q->nscount;
	unsigned total = skip + q->arcount;

	for (unsigned i = 0; i < total; i++) {
		rr_ref rr;
		if (read_rr(q, &off, &rr) != 0)
			return -1;
		if (i >= skip && rr.type == T_OPT && take_opt(q, &rr) != 0)
			return -1;
	}
	return off == q->len ? 0 : -1;
}

static void parse_query(query *q, const uint8_t *m, size_t len)
{
	parse_header(q, m, len);
	if (parse_question(q) != 0)
		return;
	if (parse_records(q) != 0) {
		q->edns_bad = true;
		q->has_opt = false;
	}
}

/* Decides the rcode of a query that is not answered from the zone, or -1 when it is. */
static int classify(const query *q)
{
	if (q->opcode != 0)
		return RC_NOTIMP;
	if (!q->qd_ok || q->edns_bad)
		return RC_FORMERR;
	if (q->has_opt && q->version != 0)
		return RC_BADVERS;
	if (q->qtype == T_OPT || q->qtype == T_TSIG || q->qtype == T_TKEY)
		return RC_FORMERR;
	if (q->qclass != C_IN || q->qtype == T_AXFR || q->qtype == T_IXFR)
		return RC_REFUSED;
	return -1;
}

/* ---------------------------------------------------------------- writing the response */

static uint8_t *resp_room(resp *r, size_t n)
{
	if (r->full || n > r->limit - r->len) {
		r->full = true;
		return NULL;
	}
	uint8_t *p = r->b + r->len;
	r->len += n;
	return p;
}

/* Size limit of the response (RFC 6891 6.2.5: at least 512, at most what both sides allow). */
static size_t resp_limit(const ans_zone *z, const query *q, size_t cap, bool tcp)
{
	size_t lim = ANS_MIN_UDP;

	if (tcp)
		lim = 65535u;
	else if (q->has_opt) {
		lim = q->udp_size < z->udp_max ? q->udp_size : z->udp_max;
		if (lim < ANS_MIN_UDP)
			lim = ANS_MIN_UDP;
	}
	return lim < cap ? lim : cap;
}

/* Writes one record head owned by the name at offset `owner`; returns where RDATA goes. */
static uint8_t *write_rr_head(resp *r, uint16_t *count, size_t owner, unsigned type,
                              uint32_t ttl, size_t rdlen)
{
	uint8_t *p = resp_room(r, RR_HEAD_LEN + rdlen);

	if (p == NULL)
		return NULL;
	wire_wr16(p, 0xC000u | (unsigned)owner);
	wire_wr16(p + 2, type);
	wire_wr16(p + 4, C_IN);
	wire_wr32(p + 6, ttl);
	wire_wr16(p + 10, (unsigned)rdlen);
	(*count)++;
	return p + RR_HEAD_LEN;
}

static void write_rr_soa(resp *r, uint16_t *count, const ans_zone *z, size_t owner,
                         uint32_t ttl, uint32_t serial)
{
	uint8_t *p = write_rr_head(r, count, owner, T_SOA, ttl, z->soa_rdlen);

	if (p == NULL)
		return;
	memcpy(p, z->soa_rdata, z->soa_rdlen);
	wire_wr32(p + z->soa_serial_off, serial);
}

static void write_rr_ns(resp *r, const ans_zone *z, size_t owner)
{
	for (unsigned i = 0; i < z->n_ns; i++) {
		uint8_t *p = write_rr_head(r, &r->an, owner, T_NS, z->ns_ttl, z->ns_rdlen[i]);
		if (p != NULL)
			memcpy(p, z->ns_rdata[i], z->ns_rdlen[i]);
	}
}

static void write_rr_a(resp *r, const ans_zone *z, const lk_result *res)
{
	uint8_t *p = write_rr_head(r, &r->an, DNS_HDR, T_A, z->ttl, 4);

	if (p != NULL)
		memcpy(p, res->e.code, 4);
}

/* The rendered reason as TXT: character strings of at most 255 bytes, at least one. */
static void write_rr_txt(resp *r, const ans_zone *z, const lk_result *res)
{
	char text[TMPL_OUT_MAX];
	tmpl_vars v = {
		.e = &res->e, .addr = res->full ? res->addr : NULL, .addr_v4 = res->v4,
		.zone = z->apex_text, .default_reason = z->default_reason,
	};
	size_t n = tmpl_render(&z->txt, &v, text, sizeof text);
	size_t chunks = n == 0 ? 1u : (n + TXT_CHUNK - 1u) / TXT_CHUNK;
	uint8_t *p = write_rr_head(r, &r->an, DNS_HDR, T_TXT, z->ttl, n + chunks);

	if (p == NULL)
		return;
	for (size_t i = 0; i < chunks; i++) {
		size_t k = n - i * TXT_CHUNK < TXT_CHUNK ? n - i * TXT_CHUNK : TXT_CHUNK;
		*p++ = (uint8_t)k;
		memcpy(p, text + i * TXT_CHUNK, k);
		p += k;
	}
}

/* OPT (RFC 6891 6.1.2): our UDP size, the upper rcode bits, version 0, DO echoed, no options. */
static void write_opt(resp *r, const ans_zone *z, const query *q, int rcode)
{
	uint8_t *p;

	r->limit += OPT_RR_LEN;     /* the room kept free while answers were written */
	p = resp_room(r, OPT_RR_LEN);
	if (p == NULL)
		return;
	p[0] = 0;
	wire_wr16(p + 1, T_OPT);
	wire_wr16(p + 3, z->udp_max < ANS_MIN_UDP ? ANS_MIN_UDP : z->udp_max);
	p[5] = (uint8_t)(rcode >> 4);
	p[6] = 0;
	p[7] = q->do_bit ? 0x80 : 0;
	p[8] = 0;
	wire_wr16(p + 9, 0);
	r->ar++;
}

static void write_header(resp *r, const query *q, int rcode, bool tc)
{
	uint8_t *b = r->b;

	b[0] = q->msg[0];
	b[1] = q->msg[1];
	b[2] = (uint8_t)(0x80u | (q->flags2 & 0x78u) | (r->aa ? 0x04u : 0) | (tc ? 0x02u : 0) |
	                 (q->flags2 & 0x01u));
	b[3] = (uint8_t)((q->flags3 & 0x10u) | ((unsigned)rcode & 0x0Fu));
	wire_wr16(b + 4, q->qd_ok ? 1u : 0u);
	wire_wr16(b + 6, r->an);
	wire_wr16(b + 8, r->ns);
	wire_wr16(b + 10, r->ar);
}

/* ---------------------------------------------------------------- answering */

/* Whether the question lies at or below the apex; *below: labels under it, *apex: its offset. */
static bool in_zone(const ans_zone *z, const query *q, unsigned *below, size_t *apex)
{
	if (q->n_labs < z->apex_labels)
		return false;
	unsigned k = q->n_labs - z->apex_labels;
	const uint8_t *s = q->labs[k];
	size_t n = (size_t)(q->msg + DNS_HDR + q->qname_len - s);

	if (n != z->apex_len)
		return false;
	for (size_t i = 0; i < n; i++)
		if (lower(s[i]) != z->apex[i])
			return false;
	*below = k;
	*apex = (size_t)(s - q->msg);
	return true;
}

static int answer_apex(const ans_zone *z, const query *q, resp *r, size_t apex,
                       uint32_t serial)
{
	switch (q->qtype) {
	case T_SOA:
		write_rr_soa(r, &r->an, z, apex, z->soa_ttl, serial);
		break;
	case T_NS:
		write_rr_ns(r, z, apex);
		break;
	case T_ANY:
		write_rr_soa(r, &r->an, z, apex, z->soa_ttl, serial);
		write_rr_ns(r, z, apex);
		break;
	default:
		write_rr_soa(r, &r->ns, z, apex, z->neg_ttl, serial);
		break;
	}
	return RC_NOERROR;
}

static int answer_name(ans_ctx *c, const query *q, resp *r, unsigned below, size_t apex,
                       uint32_t serial)
{
	const ans_zone *z = c->zone;
	lk_result res;

	if (lk_name(c->rd, q->labs, below, c->now, &res) != 0)
		return RC_SERVFAIL;
	if (res.verdict == LK_LISTED) {
		bool a = q->qtype == T_A || q->qtype == T_ANY;
		bool txt = q->qtype == T_TXT || q->qtype == T_ANY;
		if (a)
			write_rr_a(r, z, &res);
		if (txt)
			write_rr_txt(r, z, &res);
		if (a || txt)
			return RC_NOERROR;
	}
	write_rr_soa(r, &r->ns, z, apex, z->neg_ttl, serial);
	return res.verdict == LK_NXDOMAIN ? RC_NXDOMAIN : RC_NOERROR;
}

/* Answers an in-zone question inside one store snapshot; REFUSED when out of zone. */
static int answer_zone(ans_ctx *c, const query *q, resp *r)
{
	unsigned below;
	size_t apex;
	int rcode;

	if (!in_zone(c->zone, q, &below, &apex))
		return RC_REFUSED;
	if (c->rd == NULL || store_reader_begin(c->rd) != 0)
		return RC_SERVFAIL;
	uint32_t serial = store_reader_serial(c->rd);
	if (below == 0)
		rcode = answer_apex(c->zone, q, r, apex, serial);
	else
		rcode = answer_name(c, q, r, below, apex, serial);
	store_reader_end(c->rd);
	r->aa = rcode == RC_NOERROR || rcode == RC_NXDOMAIN;
	return rcode;
}

static void count_rcode(ans_stats *st, int rcode)
{
	switch (rcode) {
	case RC_NOERROR:  st->noerror++; break;
	case RC_NXDOMAIN: st->nxdomain++; break;
	case RC_REFUSED:  st->refused++; break;
	case RC_FORMERR:  st->formerr++; break;
	case RC_NOTIMP:   st->notimp++; break;
	case RC_BADVERS:  st->badvers++; break;
	default:          st->servfail++; break;
	}
}

/* Drops the answer and authority sections when a record did not fit (RFC 2181 9). */
static bool truncate_if_full(resp *r, size_t q_end)
{
	if (!r->full)
		return false;
	r->len = q_end;
	r->an = r->ns = 0;
	r->full = false;
	return true;
}

size_t ans_query(ans_ctx *c, const uint8_t *q, size_t qlen, uint8_t *out, size_t cap, bool tcp)
{
	query qr;
	resp r = { .b = out, .len = DNS_HDR };

	c->st.queries++;
	if (qlen < DNS_HDR || (q[2] & 0x80u) || cap < DNS_HDR) {
		c->st.dropped++;
		return 0;
	}
	parse_query(&qr, q, qlen);
	size_t lim = resp_limit(c->zone, &qr, cap, tcp);
	size_t q_end = qr.qd_ok ? qr.q_end : DNS_HDR;
	if (q_end + (qr.has_opt ? OPT_RR_LEN : 0) > lim) {
		c->st.dropped++;        /* only when the caller broke the cap >= 512 contract */
		return 0;
	}
	memcpy(out + DNS_HDR, q + DNS_HDR, q_end - DNS_HDR);
	r.len = q_end;
	r.limit = lim - (qr.has_opt ? OPT_RR_LEN : 0);
	int rcode = classify(&qr);
	if (rcode < 0)
		rcode = answer_zone(c, &qr, &r);
	bool tc = truncate_if_full(&r, q_end);
	if (qr.has_opt)
		write_opt(&r, c->zone, &qr, rcode);
	write_header(&r, &qr, rcode, tc);
	count_rcode(&c->st, rcode);
	c->st.truncated += tc;
	return r.len;
}

/* ---------------------------------------------------------------- rendering the zone */

/*
 * Converts a presentation-format name ("a.b.", "\\.", "\\065") to wire form. Returns the wire
 * length (root included) or -1; *labels gets the number of labels without the root.
 */
static int name_to_wire(const char *s, uint8_t *out, size_t cap, bool lower_case,
                        unsigned *labels)
{
	size_t o = 0, lab = 0;
	unsigned n = 0;

	if (strcmp(s, ".") == 0)
		s = "";
	while (*s != '\0') {
		if (o + 1u >= cap)
			return -1;
		lab = o++;
		while (*s != '\0' && *s != '.') {
			unsigned ch = (unsigned char)*s++;
			if (ch == '\\' && s[0] >= '0' && s[0] <= '9' && s[1] >= '0' && s[1] <= '9' &&
			    s[2] >= '0' && s[2] <= '9') {
				ch = (unsigned)((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0'));
				s += 3;
			} else if (ch == '\\' && *s != '\0')
				ch = (unsigned char)*s++;
			if (ch > 255u || o - lab > 63u || o + 1u >= cap)
				return -1;
			out[o++] = lower_case ? lower((uint8_t)ch) : (uint8_t)ch;
		}
		if (o - lab == 1u)
			return -1;            /* empty label */
		out[lab] = (uint8_t)(o - lab - 1u);
		n++;
		if (*s == '.')
			s++;
	}
	if (o + 1u > cap || o + 1u > MAX_NAME)
		return -1;
	out[o++] = 0;
	*labels = n;
	return (int)o;
}

static int zone_err(char *err, size_t errlen, const char *what, const char *text)
{
	if (errlen > 0)
		snprintf(err, errlen, "failed to render zone (%s '%s')", what, text);
	return V6R_EINVAL;
}

static int zone_soa(ans_zone *z, const cfg *c, char *err, size_t errlen)
{
	unsigned labels;
	const char *mname = c->soa_mname[0] != '\0' ? c->soa_mname : c->ns[0];
	int n = name_to_wire(mname, z->soa_rdata, sizeof z->soa_rdata, false, &labels);

	if (n < 0)
		return zone_err(err, errlen, "bad SOA mname", mname);
	size_t o = (size_t)n;
	char rname[CFG_NAME_MAX + 16];
	if (c->soa_rname[0] != '\0')
		snprintf(rname, sizeof rname, "%s", c->soa_rname);
	else if (z->apex_text[0] != '\0')
		snprintf(rname, sizeof rname, "hostmaster.%s.", z->apex_text);
	else
		snprintf(rname, sizeof rname, "hostmaster.");
	n = name_to_wire(rname, z->soa_rdata + o, sizeof z->soa_rdata - o - 20u, false, &labels);
	if (n < 0)
		return zone_err(err, errlen, "bad SOA rname", rname);
	o += (size_t)n;
	z->soa_serial_off = (unsigned)o;
	wire_wr32(z->soa_rdata + o, 0);
	wire_wr32(z->soa_rdata + o + 4, c->soa_refresh);
	wire_wr32(z->soa_rdata + o + 8, c->soa_retry);
	wire_wr32(z->soa_rdata + o + 12, c->soa_expire);
	wire_wr32(z->soa_rdata + o + 16, c->negative_ttl);
	z->soa_rdlen = (unsigned)(o + 20u);
	return 0;
}

static int zone_ns(ans_zone *z, const cfg *c, char *err, size_t errlen)
{
	unsigned labels;

	if (c->n_ns == 0 || c->n_ns > CFG_MAX_NS)
		return zone_err(err, errlen, "no NS names for", c->zone);
	for (unsigned i = 0; i < c->n_ns; i++) {
		int n = name_to_wire(c->ns[i], z->ns_rdata[i], sizeof z->ns_rdata[i], false, &labels);
		if (n < 0)
			return zone_err(err, errlen, "bad NS name", c->ns[i]);
		z->ns_rdlen[i] = (unsigned)n;
	}
	z->n_ns = c->n_ns;
	return 0;
}

static int zone_apex(ans_zone *z, const cfg *c, char *err, size_t errlen)
{
	int n = name_to_wire(c->zone, z->apex, sizeof z->apex, true, &z->apex_labels);
	size_t tlen = strlen(c->zone);

	if (n < 0 || c->zone[0] == '\0')
		return zone_err(err, errlen, "bad zone name", c->zone);
	z->apex_len = (unsigned)n;
	if (tlen > 0 && c->zone[tlen - 1] == '.')
		tlen--;
	if (tlen >= sizeof z->apex_text)
		return zone_err(err, errlen, "bad zone name", c->zone);
	memcpy(z->apex_text, c->zone, tlen);
	z->apex_text[tlen] = '\0';
	return 0;
}

/* The default reason with {zone} substituted once (a template rendered without an entry). */
static int zone_reason(ans_zone *z, const cfg *c, char *err, size_t errlen)
{
	char terr[256];
	tmpl t;
	tmpl_vars v = { .zone = z->apex_text };

	if (tmpl_compile(&t, c->default_reason, terr, sizeof terr) != 0) {
		if (errlen > 0)
			snprintf(err, errlen, "failed to compile default-reason (%s)", terr);
		return V6R_EINVAL;
	}
	size_t n = tmpl_render(&t, &v, z->default_reason, sizeof z->default_reason - 1u);
	z->default_reason[n] = '\0';
	return 0;
}

int ans_zone_init(ans_zone *z, const cfg *c, char *err, size_t errlen)
{
	char terr[256];
	int rc;

	memset(z, 0, sizeof *z);
	if ((rc = zone_apex(z, c, err, errlen)) != 0 || (rc = zone_ns(z, c, err, errlen)) != 0 ||
	    (rc = zone_soa(z, c, err, errlen)) != 0 || (rc = zone_reason(z, c, err, errlen)) != 0)
		return rc;
	if (tmpl_compile(&z->txt, c->txt_template, terr, sizeof terr) != 0) {
		if (errlen > 0)
			snprintf(err, errlen, "failed to compile txt-template (%s)", terr);
		return V6R_EINVAL;
	}
	z->ttl = c->ttl;
	z->soa_ttl = c->soa_ttl;
	z->ns_ttl = c->ns_ttl;
	z->neg_ttl = c->negative_ttl;
	z->udp_max = (uint16_t)(c->udp_max_size < ANS_MIN_UDP ? ANS_MIN_UDP :
	                        c->udp_max_size > 65535u ? 65535u : c->udp_max_size);
	return 0;
}
