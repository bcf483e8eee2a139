/* xfr.c: zone transfers out of v6repd (AXFR, RFC 5936; IXFR, RFC 1995), their access control
 * and TSIG (RFC 8945), and signed queries (the SOA checks of secondaries). */
#include "xfr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../zone/err.h"
#include "../zone/ixfr.h"
#include "../zone/render.h"
#include "log.h"
#include "tsig.h"
#include "xfrmsg.h"

#define XFR_IXFR_MAX_RECORDS 1000000u   /* larger differences are sent as the whole zone */
#define XFR_UDP_MAX_RECORDS 4096u
#define PEER_TEXT 80
#define C_IN 1u

/* Settings shared by the workers and the running jobs; replaced whole on reload. */
typedef struct xfr_conf {
	ans_zone az;                 /* apex and SOA of the answers */
	rd_zone *rz;                 /* the rendering for secondaries */
	cfg_acl acl[CFG_MAX_ACL];
	unsigned n_acl;
	tsig_key key;                /* name "" = none */
	unsigned max_jobs;
	uint64_t timeout_ms;
	size_t journal_size;
	unsigned refs;               /* guarded by xfr_srv.lock */
} xfr_conf;

struct xfr_srv {
	store *st;
	uv_mutex_t lock;
	xfr_conf *conf;
	atomic_uint active;          /* running jobs */
	atomic_uint_fast64_t axfr, ixfr, ixfr_full, ixfr_current, refused, failed;
	atomic_uint_fast64_t signed_queries, bad_tsig, bytes;
};

struct xfr_job {
	xfr_srv *x;
	xfr_conf *conf;
	uv_thread_t thread;
	uv_async_t async;
	uv_mutex_t lock;
	uv_cond_t cond;
	uint8_t *ring;               /* XFR_QUEUE bytes of framed messages */
	size_t head, used;
	bool done, released, closing;
	atomic_bool cancel;
	int result;
	xfr_wake_fn wake;
	void *owner;
	uint8_t *reqbuf;             /* a copy of the request, which req points into */
	xm_req req;
	tsig_req treq;
	bool signed_;                /* answer signed (the request carried a valid TSIG) */
	char peer[PEER_TEXT];
	xm_builder *b;
	uint8_t soa_owner[256], soa_rdata[600];   /* the first SOA rendered, sent again last */
	rd_rr soa;
	bool have_soa;
};

/* ---- small helpers ---- */

static void peer_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(buf, cap, "%s:%u", host, ntohs(s4->sin_port));
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(buf, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, cap, "(unknown peer)");
	}
}

/* The peer as 16 bytes, IPv4 v4-mapped (as the access list keeps it). */
static bool peer_bytes(const struct sockaddr *sa, uint8_t a[16])
{
	memset(a, 0, 16);
	if (sa && sa->sa_family == AF_INET) {
		a[10] = a[11] = 0xff;
		memcpy(a + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return true;
	}
	if (sa && sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		return true;
	}
	return false;
}

static bool acl_allows(const xfr_conf *cf, const struct sockaddr *peer)
{
	uint8_t a[16];
	if (!peer_bytes(peer, a))
		return false;
	for (unsigned i = 0; i < cf->n_acl; i++) {
		const cfg_acl *e = &cf->acl[i];
		unsigned full = e->len / 8, rest = e->len % 8;
		if (memcmp(a, e->a, full) != 0)
			continue;
		if (rest && ((a[full] ^ e->a[full]) & (uint8_t)(0xFFu << (8 - rest))))
			continue;
		return true;
	}
	return false;
}

/* RFC 1982: a is newer than b. */
static bool serial_newer(uint32_t a, uint32_t b)
{
	return a != b && (int32_t)(a - b) > 0;
}

static const char *qtype_name(const xm_req *r)
{
	return r->qtype == XM_T_AXFR ? "AXFR" : r->qtype == XM_T_IXFR ? "IXFR" : "query";
}

static void count(atomic_uint_fast64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

/* The SOA record of the zone with a given serial (rdata into buf, 600 bytes). */
static void soa_rr(const ans_zone *z, uint32_t serial, uint8_t *buf, rd_rr *rr)
{
	memcpy(buf, z->soa_rdata, z->soa_rdlen);
	buf[z->soa_serial_off] = (uint8_t)(serial >> 24);
	buf[z->soa_serial_off + 1] = (uint8_t)(serial >> 16);
	buf[z->soa_serial_off + 2] = (uint8_t)(serial >> 8);
	buf[z->soa_serial_off + 3] = (uint8_t)serial;
	rr->owner = z->apex;
	rr->owner_len = z->apex_len;
	rr->type = XM_T_SOA;
	rr->ttl = z->soa_ttl;
	rr->rdata = buf;
	rr->rdlen = (uint16_t)z->soa_rdlen;
}

/* ---- settings ---- */

static void conf_free(xfr_conf *cf)
{
	if (!cf)
		return;
	rd_zone_free(cf->rz);
	free(cf);
}

static int conf_new(const cfg *c, xfr_conf **out, char *err, size_t errlen)
{
	xfr_conf *cf = calloc(1, sizeof(*cf));
	int rc;
	*out = NULL;
	if (!cf) {
		snprintf(err, errlen, "failed to set up transfers (out of memory)");
		return V6R_ENOMEM;
	}
	if ((rc = ans_zone_init(&cf->az, c, err, errlen)) != 0 ||
	    (rc = rd_zone_new(c, &cf->rz, err, errlen)) != 0) {
		conf_free(cf);
		return rc;
	}
	memcpy(cf->acl, c->allow_transfer, sizeof(cf->acl));
	cf->n_acl = c->n_allow_transfer;
	snprintf(cf->key.name, sizeof(cf->key.name), "%s", c->tsig_name);
	snprintf(cf->key.alg, sizeof(cf->key.alg), "%s", c->tsig_alg);
	snprintf(cf->key.secret, sizeof(cf->key.secret), "%s", c->tsig_secret);
	cf->max_jobs = c->xfr_max_transfers ? c->xfr_max_transfers : 1;
	cf->timeout_ms = (uint64_t)c->xfr_timeout * 1000u;
	cf->journal_size = c->journal_size;
	cf->refs = 1;
	*out = cf;
	return 0;
}

/* Another reference to cf (a job keeps the settings of the request that started it). */
static xfr_conf *conf_ref(xfr_srv *x, xfr_conf *cf)
{
	uv_mutex_lock(&x->lock);
	cf->refs++;
	uv_mutex_unlock(&x->lock);
	return cf;
}

static xfr_conf *conf_get(xfr_srv *x)
{
	uv_mutex_lock(&x->lock);
	xfr_conf *cf = x->conf;
	cf->refs++;
	uv_mutex_unlock(&x->lock);
	return cf;
}

static void conf_put(xfr_srv *x, xfr_conf *cf)
{
	uv_mutex_lock(&x->lock);
	bool last = --cf->refs == 0;
	uv_mutex_unlock(&x->lock);
	if (last)
		conf_free(cf);
}

int xfr_srv_new(xfr_srv **out, store *st, const cfg *c, char *err, size_t errlen)
{
	xfr_srv *x = calloc(1, sizeof(*x));
	*out = NULL;
	if (!x) {
		snprintf(err, errlen, "failed to set up transfers (out of memory)");
		return V6R_ENOMEM;
	}
	int rc = conf_new(c, &x->conf, err, errlen);
	if (rc) {
		free(x);
		return rc;
	}
	x->st = st;
	uv_mutex_init(&x->lock);
	*out = x;
	return 0;
}

int xfr_srv_reload(xfr_srv *x, const cfg *c, char *err, size_t errlen)
{
	xfr_conf *cf;
	int rc = conf_new(c, &cf, err, errlen);
	if (rc)
		return rc;
	uv_mutex_lock(&x->lock);
	xfr_conf *old = x->conf;
	x->conf = cf;
	bool last = --old->refs == 0;
	uv_mutex_unlock(&x->lock);
	if (last)
		conf_free(old);
	return 0;
}

void xfr_srv_stats(xfr_srv *x, xfr_stats *s)
{
	s->axfr = atomic_load(&x->axfr);
	s->ixfr = atomic_load(&x->ixfr);
	s->ixfr_full = atomic_load(&x->ixfr_full);
	s->ixfr_current = atomic_load(&x->ixfr_current);
	s->refused = atomic_load(&x->refused);
	s->failed = atomic_load(&x->failed);
	s->signed_queries = atomic_load(&x->signed_queries);
	s->bad_tsig = atomic_load(&x->bad_tsig);
	s->bytes = atomic_load(&x->bytes);
}

void xfr_srv_log_stats(xfr_srv *x)
{
	typedef unsigned long long ull;
	xfr_stats s;
	xfr_srv_stats(x, &s);
	log_msg(LOG_INFO, "transfers: %llu AXFR, %llu IXFR (%llu as whole zone, %llu up to date), "
	        "%llu refused, %llu failed, %llu bytes; %llu signed queries, %llu bad TSIG",
	        (ull)s.axfr, (ull)s.ixfr, (ull)s.ixfr_full, (ull)s.ixfr_current, (ull)s.refused,
	        (ull)s.failed, (ull)s.bytes, (ull)s.signed_queries, (ull)s.bad_tsig);
}

void xfr_srv_free(xfr_srv *x)
{
	if (!x)
		return;
	conf_free(x->conf);
	uv_mutex_destroy(&x->lock);
	free(x);
}

uint64_t xfr_timeout_ms(xfr_srv *x)
{
	uv_mutex_lock(&x->lock);
	uint64_t ms = x->conf->timeout_ms;
	uv_mutex_unlock(&x->lock);
	return ms;
}

/* ---- which queries come here ---- */

bool xfr_wants(const uint8_t *q, size_t len)
{
	size_t o = 12, off;
	if (len < 17 || (q[2] & 0x80u))
		return false;
	for (unsigned guard = 0; guard < 128 && o < len && q[o] != 0; guard++) {
		if (q[o] & 0xC0u)
			return false;
		o += 1u + q[o];
	}
	if (o + 5 > len)
		return false;
	unsigned qtype = (unsigned)q[o + 1] << 8 | q[o + 2];
	if (qtype == XM_T_AXFR || qtype == XM_T_IXFR)
		return true;
	return (q[10] | q[11]) != 0 && tsig_locate(q, len, &off) == 1;
}

/* ---- the gate: parse, TSIG, policy ---- */

typedef enum xfr_verdict { XV_DONE, XV_QUERY, XV_AXFR, XV_IXFR } xfr_verdict;

typedef struct xfr_ctx {
	xfr_srv *x;
	xfr_conf *cf;
	const struct sockaddr *peer;
	char peer_txt[PEER_TEXT];
	bool tcp;
	xm_req r;
	tsig_req t;
	uint8_t *out;
	size_t cap, outlen;
} xfr_ctx;

static bool answer_signed(const xfr_ctx *g)
{
	return g->t.present && g->t.error == TSIG_OK && g->cf->key.name[0];
}

/* An answer without records (signed when the request was), logged as refused. */
static xfr_verdict refuse(xfr_ctx *g, int rcode, const char *why)
{
	g->outlen = xm_error(&g->r, rcode, g->out, g->cap);
	if (answer_signed(g)) {
		uint8_t mac[TSIG_MAC_MAX];
		size_t mac_len = g->t.mac_len;
		memcpy(mac, g->t.mac, mac_len);
		size_t n = tsig_sign(&g->cf->key, g->out, g->outlen, g->out, g->cap, mac, &mac_len,
		                     false);
		if (n)
			g->outlen = n;
	}
	count(&g->x->refused, 1);
	log_msg(LOG_NOTICE, "refused %s of %s from %s (%s)", qtype_name(&g->r),
	        g->cf->az.apex_text, g->peer_txt, why);
	return XV_DONE;
}

static xfr_verdict bad_tsig(xfr_ctx *g)
{
	static const char *const why[] = { [TSIG_BADSIG] = "BADSIG", [TSIG_BADKEY] = "BADKEY",
	                                   [TSIG_BADTIME] = "BADTIME" };
	g->outlen = xm_error(&g->r, XM_RC_NOTAUTH, g->out, g->cap);
	g->outlen = tsig_append_error(g->r.msg, g->r.len, g->t.tsig_off, g->out, g->outlen, g->cap,
	                              g->t.error, (uint64_t)time(NULL));
	count(&g->x->bad_tsig, 1);
	count(&g->x->refused, 1);
	log_msg(LOG_NOTICE, "refused %s from %s (TSIG %s with key %s)", qtype_name(&g->r),
	        g->peer_txt, why[g->t.error], g->t.keyname[0] ? g->t.keyname : "?");
	return XV_DONE;
}

static xfr_verdict gate(xfr_ctx *g, const uint8_t *q, size_t len)
{
	g->outlen = 0;
	peer_text(g->peer, g->peer_txt, sizeof(g->peer_txt));
	if (len < 12 || (q[2] & 0x80u))
		return XV_DONE;
	if (xm_parse(q, len, &g->r) != 0)
		return refuse(g, XM_RC_FORMERR, "malformed request");
	if (tsig_check(&g->cf->key, q, len, (uint64_t)time(NULL), &g->t) != 0)
		return refuse(g, XM_RC_FORMERR, "malformed TSIG");
	if (g->t.present && g->t.error != TSIG_OK)
		return bad_tsig(g);
	bool xfr = g->r.opcode == 0 && (g->r.qtype == XM_T_AXFR || g->r.qtype == XM_T_IXFR);
	if (!xfr)
		return g->t.present ? XV_QUERY : refuse(g, XM_RC_FORMERR, "not a transfer");
	if (g->r.qtype == XM_T_AXFR && !g->tcp)
		return refuse(g, XM_RC_FORMERR, "AXFR over UDP");
	if (g->r.qclass != C_IN || !xm_qname_is(&g->r, g->cf->az.apex, g->cf->az.apex_len))
		return refuse(g, XM_RC_NOTAUTH, "not this zone");
	if (!acl_allows(g->cf, g->peer))
		return refuse(g, XM_RC_REFUSED, "address not in allow-transfer");
	if (g->cf->key.name[0] && !g->t.present)
		return refuse(g, XM_RC_REFUSED, "no TSIG, and a key is required");
	return g->r.qtype == XM_T_AXFR ? XV_AXFR : XV_IXFR;
}

/* A signed ordinary query: answered by the core without its TSIG, then signed. */
static void query_signed(xfr_ctx *g, ans_ctx *c)
{
	uint8_t *plain = malloc(g->t.tsig_off);
	g->outlen = 0;
	if (!plain || g->cap <= TSIG_ROOM + ANS_MIN_UDP) {
		free(plain);
		return;
	}
	memcpy(plain, g->r.msg, g->t.tsig_off);
	unsigned ar = (unsigned)plain[10] << 8 | plain[11];
	plain[10] = (uint8_t)((ar - 1) >> 8);
	plain[11] = (uint8_t)(ar - 1);
	size_t n = ans_query(c, plain, g->t.tsig_off, g->out, g->cap - TSIG_ROOM, g->tcp);
	free(plain);
	if (n == 0)
		return;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = g->t.mac_len;
	memcpy(mac, g->t.mac, mac_len);
	g->outlen = tsig_sign(&g->cf->key, g->out, n, g->out, g->cap, mac, &mac_len, false);
	count(&g->x->signed_queries, 1);
}

/* ---- UDP ---- */

typedef struct udp_sink {
	uint8_t *out;
	size_t cap, len;
} udp_sink;

static int udp_emit(const uint8_t *msg, size_t len, void *arg)
{
	udp_sink *s = arg;
	if (len > s->cap)
		return V6R_ESPACE;
	memmove(s->out, msg, len);
	s->len = len;
	return 0;
}

/* Tries the difference from the client's serial in one datagram. */
static int udp_ixfr_diff(xfr_ctx *g, ans_ctx *c, xm_builder *b, uint32_t serial)
{
	ix_limits lim = { XFR_UDP_CHANGES, XFR_UDP_MAX_RECORDS, NULL };
	ix_diff *d = NULL;
	char err[256];
	uint8_t s_new[600], s_old[600];
	rd_rr soa_new, soa_old, rr;
	int rc = ix_diff_compute(g->cf->rz, c->rd, g->r.serial, &lim, &d, err, sizeof(err));
	if (rc)
		return rc;
	soa_rr(&g->cf->az, serial, s_new, &soa_new);
	soa_rr(&g->cf->az, g->r.serial, s_old, &soa_old);
	rc = xm_add(b, &soa_new);
	if (rc == 0)
		rc = xm_add(b, &soa_old);
	for (size_t i = 0; rc == 0 && i < ix_diff_count(d, false); i++) {
		ix_diff_get(d, false, i, &rr);
		rc = xm_add(b, &rr);
	}
	if (rc == 0)
		rc = xm_add(b, &soa_new);
	for (size_t i = 0; rc == 0 && i < ix_diff_count(d, true); i++) {
		ix_diff_get(d, true, i, &rr);
		rc = xm_add(b, &rr);
	}
	if (rc == 0)
		rc = xm_add(b, &soa_new);
	ix_diff_free(d);
	return rc;
}

/* IXFR over UDP: the difference when it fits, else the current SOA alone (RFC 1995 2). */
static void udp_ixfr(xfr_ctx *g, ans_ctx *c)
{
	size_t lim = g->r.udp_size < c->zone->udp_max ? g->r.udp_size : c->zone->udp_max;
	if (lim < ANS_MIN_UDP)
		lim = ANS_MIN_UDP;
	if (lim > g->cap)
		lim = g->cap;
	xm_builder *b = malloc(sizeof(*b));
	udp_sink s = { g->out, lim, 0 };
	if (!b || store_reader_begin(c->rd) != 0) {
		free(b);
		g->outlen = xm_error(&g->r, XM_RC_SERVFAIL, g->out, g->cap);
		return;
	}
	uint32_t serial = store_reader_serial(c->rd);
	const tsig_key *key = answer_signed(g) ? &g->cf->key : NULL;
	size_t room = key ? lim - tsig_size(key) : lim;
	int rc = V6R_ENOTFOUND;
	xm_init(b, &g->r, room, room, true, key, &g->t, udp_emit, &s);
	if (serial_newer(serial, g->r.serial))
		rc = udp_ixfr_diff(g, c, b, serial);
	if (rc == 0 && (rc = xm_finish(b)) == 0) {
		count(&g->x->ixfr, 1);
	} else {
		uint8_t sb[600];
		rd_rr soa;
		soa_rr(&g->cf->az, serial, sb, &soa);
		xm_init(b, &g->r, room, room, true, key, &g->t, udp_emit, &s);
		if (xm_add(b, &soa) != 0 || xm_finish(b) != 0)
			s.len = xm_error(&g->r, XM_RC_SERVFAIL, g->out, g->cap);
		count(&g->x->ixfr_current, 1);
	}
	store_reader_end(c->rd);
	g->outlen = s.len;
	free(b);
}

size_t xfr_udp(xfr_srv *x, ans_ctx *c, const uint8_t *q, size_t len, const struct sockaddr *peer,
               uint8_t *out, size_t cap)
{
	xfr_ctx g = { .x = x, .cf = conf_get(x), .peer = peer, .tcp = false, .out = out, .cap = cap };
	switch (gate(&g, q, len)) {
	case XV_QUERY:
		query_signed(&g, c);
		break;
	case XV_IXFR:
		udp_ixfr(&g, c);
		break;
	default:
		break;
	}
	conf_put(x, g.cf);
	return g.outlen;
}

/* ---- jobs: the producer side (its own thread) ---- */

/* Appends one framed message to the ring, waiting while it is full. */
static int job_push(xfr_job *j, const uint8_t *msg, size_t len)
{
	uint8_t hdr[2] = { (uint8_t)(len >> 8), (uint8_t)len };
	const uint8_t *parts[2] = { hdr, msg };
	size_t sizes[2] = { 2, len };
	uv_mutex_lock(&j->lock);
	while (!atomic_load(&j->cancel) && XFR_QUEUE - j->used < len + 2)
		uv_cond_wait(&j->cond, &j->lock);
	if (atomic_load(&j->cancel)) {
		uv_mutex_unlock(&j->lock);
		return V6R_EIO;
	}
	for (unsigned k = 0; k < 2; k++) {
		for (size_t done = 0; done < sizes[k];) {
			size_t tail = (j->head + j->used) % XFR_QUEUE;
			size_t n = XFR_QUEUE - tail < sizes[k] - done ? XFR_QUEUE - tail : sizes[k] - done;
			memcpy(j->ring + tail, parts[k] + done, n);
			j->used += n;
			done += n;
		}
	}
	uv_mutex_unlock(&j->lock);
	uv_async_send(&j->async);
	return 0;
}

static int job_emit(const uint8_t *msg, size_t len, void *arg)
{
	return job_push(arg, msg, len);
}

/* rd_render callback: every record into the messages; the first (the SOA) is kept. */
static int job_axfr_rr(const rd_rr *rr, void *arg)
{
	xfr_job *j = arg;
	if (atomic_load_explicit(&j->cancel, memory_order_relaxed))
		return V6R_EIO;
	if (!j->have_soa && rr->type == XM_T_SOA && rr->owner_len <= sizeof(j->soa_owner) &&
	    rr->rdlen <= sizeof(j->soa_rdata)) {
		memcpy(j->soa_owner, rr->owner, rr->owner_len);
		memcpy(j->soa_rdata, rr->rdata, rr->rdlen);
		j->soa = *rr;
		j->soa.owner = j->soa_owner;
		j->soa.rdata = j->soa_rdata;
		j->have_soa = true;
	}
	return xm_add(j->b, rr);
}

/* The whole zone: SOA, every record, SOA (also IXFR's fallback, RFC 1995 4). */
static int job_axfr(xfr_job *j, store_reader *rd)
{
	int rc = rd_render(j->conf->rz, rd, 0, job_axfr_rr, j);
	if (rc == 0 && !j->have_soa)
		rc = V6R_EINVAL;
	if (rc == 0)
		rc = xm_add(j->b, &j->soa);
	return rc ? rc : xm_finish(j->b);
}

static int job_ixfr_send(xfr_job *j, const ix_diff *d, uint32_t serial)
{
	uint8_t s_new[600], s_old[600];
	rd_rr soa_new, soa_old, rr;
	soa_rr(&j->conf->az, serial, s_new, &soa_new);
	soa_rr(&j->conf->az, j->req.serial, s_old, &soa_old);
	int rc = xm_add(j->b, &soa_new);
	if (rc == 0)
		rc = xm_add(j->b, &soa_old);
	for (size_t i = 0; rc == 0 && i < ix_diff_count(d, false); i++) {
		ix_diff_get(d, false, i, &rr);
		rc = xm_add(j->b, &rr);
	}
	if (rc == 0)
		rc = xm_add(j->b, &soa_new);
	for (size_t i = 0; rc == 0 && i < ix_diff_count(d, true); i++) {
		ix_diff_get(d, true, i, &rr);
		rc = xm_add(j->b, &rr);
	}
	if (rc == 0)
		rc = xm_add(j->b, &soa_new);
	return rc ? rc : xm_finish(j->b);
}

/* IXFR: one SOA when the client is current, the difference, or the whole zone. */
static int job_ixfr(xfr_job *j, store_reader *rd, const char **how)
{
	uint32_t serial = store_reader_serial(rd);
	ix_limits lim = { j->conf->journal_size + 1, XFR_IXFR_MAX_RECORDS, NULL };
	ix_diff *d = NULL;
	char err[256];
	if (!serial_newer(serial, j->req.serial)) {
		uint8_t sb[600];
		rd_rr soa;
		soa_rr(&j->conf->az, serial, sb, &soa);
		*how = "client up to date";
		count(&j->x->ixfr_current, 1);
		int rc = xm_add(j->b, &soa);
		return rc ? rc : xm_finish(j->b);
	}
	int rc = ix_diff_compute(j->conf->rz, rd, j->req.serial, &lim, &d, err, sizeof(err));
	if (rc == V6R_ENOTFOUND || rc == V6R_ERANGE) {
		log_msg(LOG_INFO, "IXFR to %s from serial %u: sending the whole zone (%s)", j->peer,
		        j->req.serial, err);
		*how = "whole zone";
		count(&j->x->ixfr_full, 1);
		return job_axfr(j, rd);
	}
	if (rc) {
		log_msg(LOG_WARNING, "failed to compute IXFR for %s from serial %u (%s)", j->peer,
		        j->req.serial, err);
		return rc;
	}
	log_msg(LOG_INFO, "IXFR to %s: serial %u -> %u, %zu changes in %zu regions, %zu records "
	        "deleted, %zu added", j->peer, j->req.serial, serial, ix_diff_changes(d),
	        ix_diff_regions(d), ix_diff_count(d, false), ix_diff_count(d, true));
	*how = "incremental";
	rc = job_ixfr_send(j, d, serial);
	ix_diff_free(d);
	return rc;
}

static void job_log(xfr_job *j, int rc, uint32_t serial, const char *how, uint64_t t0)
{
	typedef unsigned long long ull;
	double ms = (double)(uv_hrtime() - t0) / 1e6;
	const char *kind = j->req.qtype == XM_T_AXFR ? "AXFR" : "IXFR";
	if (rc == 0) {
		count(j->req.qtype == XM_T_AXFR ? &j->x->axfr : &j->x->ixfr, 1);
		count(&j->x->bytes, j->b->bytes);
		log_msg(LOG_NOTICE, "%s of %s serial %u to %s done (%s): %llu records, %llu messages, "
		        "%llu bytes, %.0f ms", kind, j->conf->az.apex_text, serial, j->peer, how,
		        (ull)j->b->rrs, (ull)j->b->msgs, (ull)j->b->bytes, ms);
		return;
	}
	count(&j->x->failed, 1);
	log_msg(LOG_NOTICE, "failed to send %s of %s to %s (%s after %llu messages, %.0f ms)", kind,
	        j->conf->az.apex_text, j->peer,
	        atomic_load(&j->cancel) ? "connection closed or stalled" : v6r_strerror(rc),
	        (ull)j->b->msgs, ms);
}

static void job_main(void *arg)
{
	xfr_job *j = arg;
	uint64_t t0 = uv_hrtime();
	store_reader *rd = NULL;
	uint32_t serial = 0;
	const char *how = "whole zone";
	int rc = store_reader_new(j->x->st, &rd);
	if (rc == 0 && (rc = store_reader_begin(rd)) == 0) {
		serial = store_reader_serial(rd);
		rc = j->req.qtype == XM_T_AXFR ? job_axfr(j, rd) : job_ixfr(j, rd, &how);
		store_reader_end(rd);
	}
	store_reader_free(rd);
	job_log(j, rc, serial, how, t0);
	atomic_fetch_sub(&j->x->active, 1);
	uv_mutex_lock(&j->lock);
	j->done = true;
	j->result = rc;
	uv_mutex_unlock(&j->lock);
	uv_async_send(&j->async);
}

/* ---- jobs: the loop side ---- */

static void job_free(xfr_job *j)
{
	uv_mutex_destroy(&j->lock);
	uv_cond_destroy(&j->cond);
	conf_put(j->x, j->conf);
	free(j->ring);
	free(j->reqbuf);
	free(j->b);
	free(j);
}

static void job_closed_cb(uv_handle_t *h)
{
	job_free(h->data);
}

/* Once released and ended: join the thread and close the wakeup handle (frees the job). */
static void job_reap(xfr_job *j)
{
	uv_mutex_lock(&j->lock);
	bool go = j->released && j->done && !j->closing;
	if (go)
		j->closing = true;
	uv_mutex_unlock(&j->lock);
	if (!go)
		return;
	uv_thread_join(&j->thread);
	uv_close((uv_handle_t *)&j->async, job_closed_cb);
}

static void job_async_cb(uv_async_t *a)
{
	xfr_job *j = a->data;
	uv_mutex_lock(&j->lock);
	bool released = j->released;
	uv_mutex_unlock(&j->lock);
	if (released)
		job_reap(j);
	else if (j->wake)
		j->wake(j->owner);
}

size_t xfr_job_read(xfr_job *j, uint8_t *dst, size_t room)
{
	uv_mutex_lock(&j->lock);
	size_t n = room < j->used ? room : j->used, done = 0;
	while (done < n) {
		size_t k = XFR_QUEUE - j->head < n - done ? XFR_QUEUE - j->head : n - done;
		memcpy(dst + done, j->ring + j->head, k);
		j->head = (j->head + k) % XFR_QUEUE;
		done += k;
	}
	j->used -= n;
	if (n)
		uv_cond_signal(&j->cond);
	uv_mutex_unlock(&j->lock);
	return n;
}

bool xfr_job_finished(xfr_job *j)
{
	uv_mutex_lock(&j->lock);
	bool fin = j->done && j->used == 0;
	uv_mutex_unlock(&j->lock);
	return fin;
}

void xfr_job_release(xfr_job *j)
{
	uv_mutex_lock(&j->lock);
	j->released = true;
	j->wake = NULL;
	atomic_store(&j->cancel, true);
	uv_cond_broadcast(&j->cond);
	uv_mutex_unlock(&j->lock);
	job_reap(j);
}

static xfr_job *job_new(xfr_ctx *g, const uint8_t *q, size_t len)
{
	xfr_job *j = calloc(1, sizeof(*j));
	if (!j)
		return NULL;
	j->ring = malloc(XFR_QUEUE);
	j->reqbuf = malloc(len);
	j->b = malloc(sizeof(*j->b));
	if (!j->ring || !j->reqbuf || !j->b) {
		free(j->ring);
		free(j->reqbuf);
		free(j->b);
		free(j);
		return NULL;
	}
	memcpy(j->reqbuf, q, len);
	(void)xm_parse(j->reqbuf, len, &j->req);   /* parsed once already: cannot fail */
	j->x = g->x;
	j->conf = conf_ref(g->x, g->cf);
	j->treq = g->t;
	j->signed_ = answer_signed(g);
	memcpy(j->peer, g->peer_txt, sizeof(j->peer));
	xm_init(j->b, &j->req, XFR_MSG_TARGET, XM_MSG_MAX - TSIG_ROOM, false,
	        j->signed_ ? &j->conf->key : NULL, &j->treq, job_emit, j);
	return j;
}

/* Starts the job's thread; on failure everything made is undone. */
static int job_start(xfr_ctx *g, uv_loop_t *loop, const uint8_t *q, size_t len, xfr_job **out,
                     xfr_wake_fn wake, void *owner)
{
	xfr_job *j = job_new(g, q, len);
	if (!j)
		return V6R_ENOMEM;
	j->wake = wake;
	j->owner = owner;
	uv_mutex_init(&j->lock);
	uv_cond_init(&j->cond);
	int rc = uv_async_init(loop, &j->async, job_async_cb);
	if (rc < 0) {
		job_free(j);
		return V6R_EIO;
	}
	j->async.data = j;
	atomic_fetch_add(&g->x->active, 1);
	if (uv_thread_create(&j->thread, job_main, j) != 0) {
		atomic_fetch_sub(&g->x->active, 1);
		j->closing = true;
		uv_close((uv_handle_t *)&j->async, job_closed_cb);
		return V6R_EIO;
	}
	*out = j;
	return 0;
}

int xfr_tcp(xfr_srv *x, ans_ctx *c, uv_loop_t *loop, const uint8_t *q, size_t len,
            const struct sockaddr *peer, uint8_t *out, size_t cap, size_t *outlen, xfr_job **job,
            xfr_wake_fn wake, void *owner)
{
	xfr_ctx g = { .x = x, .cf = conf_get(x), .peer = peer, .tcp = true, .out = out, .cap = cap };
	int started = 0;
	xfr_verdict v = gate(&g, q, len);
	if (v == XV_QUERY) {
		query_signed(&g, c);
	} else if (v == XV_AXFR || v == XV_IXFR) {
		if (atomic_load(&x->active) >= g.cf->max_jobs) {
			refuse(&g, XM_RC_SERVFAIL, "too many transfers running (xfr-max-transfers)");
		} else {
			log_msg(LOG_INFO, "%s of %s to %s starting%s", qtype_name(&g.r),
			        g.cf->az.apex_text, g.peer_txt, answer_signed(&g) ? " (TSIG)" : "");
			if (job_start(&g, loop, q, len, job, wake, owner) != 0)
				refuse(&g, XM_RC_SERVFAIL, "failed to start transfer thread");
			else
				started = 1;
		}
	}
	*outlen = g.outlen;
	conf_put(x, g.cf);
	return started;
}
