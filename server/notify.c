/* notify.c: NOTIFY (RFC 1996) to the configured secondaries when the store's serial changes. */
#include "notify.h"
#include "wire.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "../zone/err.h"
#include "answer.h"
#include "log.h"
#include "tsig.h"

#define NOTIFY_OPCODE 4u
#define NOTIFY_MSG_MAX 1024u
#define T_SOA 6u
#define C_IN 1u

typedef struct notify_target {
	struct sockaddr_storage sa;
	char text[80];
	uint32_t serial;           /* the serial being announced */
	uint16_t id;
	unsigned tries;            /* sends of this serial so far */
	uint64_t next_ms;          /* loop time of the next send */
	bool pending;
} notify_target;

struct notify {
	uv_loop_t *loop;
	uv_timer_t timer;
	uv_udp_t udp[2];           /* [0] IPv4, [1] IPv6 */
	bool udp_ok[2];
	unsigned to_close;
	store *st;
	ans_zone az;
	tsig_key key;
	notify_target t[CFG_MAX_NOTIFY];
	unsigned n;
	uint32_t retries;
	uint64_t interval_ms;
	bool announced_any;
	uint32_t announced;
	uint64_t last_round_ms;
	notify_stats stats;
	uint8_t rbuf[NOTIFY_MSG_MAX];
};


static uint16_t new_id(void)
{
	uint16_t id = 0;
	if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id))
		id = (uint16_t)rand();
	return id;
}

/* Fills the targets, key and zone from settings c into n (the rounds start afresh). */
static int apply(notify *n, const cfg *c, char *err, size_t errlen)
{
	int rc = ans_zone_init(&n->az, c, err, errlen);
	if (rc)
		return rc;
	memset(n->t, 0, sizeof(n->t));
	n->n = 0;
	for (unsigned i = 0; i < c->n_notify && i < CFG_MAX_NOTIFY; i++) {
		const cfg_listen *l = &c->notify[i];
		notify_target *t = &n->t[n->n];
		if (l->family == AF_INET6) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&t->sa;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(l->port);
			if (inet_pton(AF_INET6, l->host, &s6->sin6_addr) != 1)
				continue;
			snprintf(t->text, sizeof(t->text), "[%s]:%u", l->host, l->port);
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&t->sa;
			s4->sin_family = AF_INET;
			s4->sin_port = htons(l->port);
			if (inet_pton(AF_INET, l->host, &s4->sin_addr) != 1)
				continue;
			snprintf(t->text, sizeof(t->text), "%s:%u", l->host, l->port);
		}
		n->n++;
	}
	snprintf(n->key.name, sizeof(n->key.name), "%s", c->tsig_name);
	snprintf(n->key.alg, sizeof(n->key.alg), "%s", c->tsig_alg);
	snprintf(n->key.secret, sizeof(n->key.secret), "%s", c->tsig_secret);
	n->retries = c->notify_retries ? c->notify_retries : 1;
	n->interval_ms = (uint64_t)c->notify_interval * 1000u;
	n->announced_any = false;      /* announce the current serial to the (new) targets */
	return 0;
}

/* The NOTIFY message for serial: question <apex> SOA, the SOA in the answer, signed. */
static size_t build(notify *n, uint16_t id, uint32_t serial, uint8_t *buf, size_t cap)
{
	const ans_zone *z = &n->az;
	size_t len = 12 + z->apex_len + 4 + 12 + z->soa_rdlen;
	if (len > cap)
		return 0;
	memset(buf, 0, 12);
	wire_wr16(buf, id);
	buf[2] = (uint8_t)(NOTIFY_OPCODE << 3 | 0x04u);      /* opcode NOTIFY, AA */
	wire_wr16(buf + 4, 1);
	wire_wr16(buf + 6, 1);
	uint8_t *p = buf + 12;
	memcpy(p, z->apex, z->apex_len);
	p += z->apex_len;
	wire_wr16(p, T_SOA);
	wire_wr16(p + 2, C_IN);
	p += 4;
	wire_wr16(p, 0xC00Cu);
	wire_wr16(p + 2, T_SOA);
	wire_wr16(p + 4, C_IN);
	wire_wr16(p + 6, z->soa_ttl >> 16);
	wire_wr16(p + 8, z->soa_ttl & 0xFFFFu);
	wire_wr16(p + 10, z->soa_rdlen);
	memcpy(p + 12, z->soa_rdata, z->soa_rdlen);
	uint8_t *s = p + 12 + z->soa_serial_off;
	s[0] = (uint8_t)(serial >> 24);
	s[1] = (uint8_t)(serial >> 16);
	s[2] = (uint8_t)(serial >> 8);
	s[3] = (uint8_t)serial;
	if (!n->key.name[0])
		return len;
	uint8_t mac[TSIG_MAC_MAX];
	size_t mac_len = 0;
	return tsig_sign(&n->key, buf, len, buf, cap, mac, &mac_len, false);
}

static void send_one(notify *n, notify_target *t, uint64_t now)
{
	uint8_t buf[NOTIFY_MSG_MAX];
	unsigned fam = t->sa.ss_family == AF_INET6 ? 1 : 0;
	size_t len = build(n, t->id, t->serial, buf, sizeof(buf));
	t->tries++;
	t->next_ms = now + (1000u << (t->tries - 1 < 10 ? t->tries - 1 : 10));
	if (len == 0 || !n->udp_ok[fam]) {
		log_msg(LOG_WARNING, "failed to send NOTIFY to %s (%s)", t->text,
		        len == 0 ? "could not build or sign it" : "no socket of that family");
		return;
	}
	uv_buf_t b = uv_buf_init((char *)buf, (unsigned)len);
	int rc = uv_udp_try_send(&n->udp[fam], &b, 1, (const struct sockaddr *)&t->sa);
	if (rc < 0) {
		log_msg(LOG_WARNING, "failed to send NOTIFY to %s (%s)", t->text, uv_strerror(rc));
		return;
	}
	n->stats.sent++;
	log_msg(LOG_DEBUG, "sent NOTIFY for serial %u to %s (try %u)", t->serial, t->text, t->tries);
}

static void start_round(notify *n, uint32_t serial, uint64_t now)
{
	n->announced_any = true;
	n->announced = serial;
	n->last_round_ms = now;
	if (n->n == 0)
		return;
	n->stats.rounds++;
	log_msg(LOG_NOTICE, "serial %u: sending NOTIFY to %u secondar%s", serial, n->n,
	        n->n == 1 ? "y" : "ies");
	for (unsigned i = 0; i < n->n; i++) {
		notify_target *t = &n->t[i];
		t->serial = serial;
		t->id = new_id();
		t->tries = 0;
		t->pending = true;
		t->next_ms = now;
	}
}

static void tick_cb(uv_timer_t *h)
{
	notify *n = h->data;
	uint64_t now = uv_now(n->loop);
	uint32_t serial;
	if (store_serial(n->st, &serial) == 0 && (!n->announced_any || serial != n->announced) &&
	    (!n->announced_any || now - n->last_round_ms >= n->interval_ms))
		start_round(n, serial, now);
	for (unsigned i = 0; i < n->n; i++) {
		notify_target *t = &n->t[i];
		if (!t->pending || t->next_ms > now)
			continue;
		if (t->tries >= n->retries) {
			t->pending = false;
			n->stats.failed++;
			log_msg(LOG_WARNING, "failed to notify %s of serial %u (no answer to %u NOTIFY)",
			        t->text, t->serial, t->tries);
			continue;
		}
		send_one(n, t, now);
	}
}

static bool same_peer(const struct sockaddr_storage *a, const struct sockaddr *b)
{
	if (a->ss_family != b->sa_family)
		return false;
	if (b->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const struct sockaddr_in *)a;
		const struct sockaddr_in *y = (const struct sockaddr_in *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

/* An answer to a NOTIFY: NOERROR ends the retries; an error ends them too, with a warning. */
static void take_reply(notify *n, const uint8_t *m, size_t len, const struct sockaddr *from)
{
	if (len < 12 || !(m[2] & 0x80u) || ((m[2] >> 3) & 0xFu) != NOTIFY_OPCODE)
		return;
	uint16_t id = (uint16_t)(m[0] << 8 | m[1]);
	unsigned rcode = m[3] & 0xFu;
	for (unsigned i = 0; i < n->n; i++) {
		notify_target *t = &n->t[i];
		if (!t->pending || t->id != id || !same_peer(&t->sa, from))
			continue;
		t->pending = false;
		if (rcode == 0) {
			n->stats.acked++;
			log_msg(LOG_INFO, "%s acknowledged NOTIFY for serial %u", t->text, t->serial);
		} else {
			n->stats.failed++;
			log_msg(LOG_WARNING, "failed to notify %s of serial %u (answered rcode %u)",
			        t->text, t->serial, rcode);
		}
		return;
	}
}

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	notify *n = h->data;
	*buf = uv_buf_init((char *)n->rbuf, sizeof(n->rbuf));
}

static void recv_cb(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *from,
                    unsigned flags)
{
	if (nread > 0 && from && !(flags & UV_UDP_PARTIAL))
		take_reply(h->data, (const uint8_t *)buf->base, (size_t)nread, from);
}

/* One unconnected UDP socket per family, on an ephemeral port; a family may be missing. */
static void open_socket(notify *n, unsigned fam)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (fam == 0) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
	}
	int rc = uv_udp_init(n->loop, &n->udp[fam]);
	if (rc < 0)
		goto fail;
	n->udp_ok[fam] = true;
	n->udp[fam].data = n;
	if ((rc = uv_udp_bind(&n->udp[fam], (struct sockaddr *)&ss, fam ? UV_UDP_IPV6ONLY : 0)) < 0 ||
	    (rc = uv_udp_recv_start(&n->udp[fam], alloc_cb, recv_cb)) < 0)
		goto fail;
	return;
fail:
	log_msg(LOG_WARNING, "failed to open the IPv%c NOTIFY socket (%s)", fam ? '6' : '4',
	        uv_strerror(rc));
	if (n->udp_ok[fam]) {
		n->udp_ok[fam] = false;
		uv_close((uv_handle_t *)&n->udp[fam], NULL);   /* closes before the loop ends */
	}
}

int notify_start(notify **out, uv_loop_t *loop, store *st, const cfg *c, char *err,
                 size_t errlen)
{
	notify *n = calloc(1, sizeof(*n));
	*out = NULL;
	if (!n) {
		snprintf(err, errlen, "failed to set up NOTIFY (out of memory)");
		return V6R_ENOMEM;
	}
	n->loop = loop;
	n->st = st;
	int rc = apply(n, c, err, errlen);
	if (rc) {
		free(n);
		return rc;
	}
	open_socket(n, 0);
	open_socket(n, 1);
	uv_timer_init(loop, &n->timer);
	n->timer.data = n;
	uv_timer_start(&n->timer, tick_cb, 0, NOTIFY_TICK_MS);
	*out = n;
	return 0;
}

int notify_reload(notify *n, const cfg *c, char *err, size_t errlen)
{
	notify tmp;
	int rc = apply(&tmp, c, err, errlen);   /* checked first: the old settings stay on error */
	if (rc || !n)
		return rc;
	return apply(n, c, err, errlen);
}

void notify_get_stats(const notify *n, notify_stats *s)
{
	memset(s, 0, sizeof(*s));
	if (n)
		*s = n->stats;
}

static void closed_cb(uv_handle_t *h)
{
	notify *n = h->data;
	if (--n->to_close == 0)
		free(n);
}

void notify_stop(notify *n)
{
	if (!n)
		return;
	n->to_close = 1;
	uv_timer_stop(&n->timer);
	for (unsigned f = 0; f < 2; f++) {
		if (n->udp_ok[f]) {
			n->to_close++;
			uv_close((uv_handle_t *)&n->udp[f], closed_cb);
		}
	}
	uv_close((uv_handle_t *)&n->timer, closed_cb);
}
