/* net.c: v6repd's sockets and worker threads: batched UDP (recvmmsg/sendmmsg) and RFC 7766 TCP. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "../zone/err.h"
#include "log.h"

/*
 * UDP: each worker polls its own SO_REUSEPORT sockets with uv_poll_t and moves datagrams in
 * batches of NET_BATCH with one recvmmsg and one sendmmsg, at most NET_BATCHES_PER_WAKEUP
 * batches per wakeup so that one busy socket does not starve the others of the loop.
 */
#define NET_BATCH 64
#define NET_BATCHES_PER_WAKEUP 16
#define NET_UDP_RX_SLOT 4096u         /* larger queries are ignored (counted) */
#define NET_UDP_TX_SLOT 65535u        /* an answer never exceeds the zone's udp_max */
#define NET_CMSG_SLOT 64u
#define NET_UDP_RCVBUF (1 << 20)

/* TCP: messages are at most 65535 bytes; a client whose unsent answers pass NET_TCP_OUT_HIGH
 * is not read from until they drain, which bounds memory per connection. */
#define NET_TCP_MSG_MAX 65535u
#define NET_TCP_IN_INIT 4096u
#define NET_TCP_OUT_INIT 4096u
#define NET_TCP_OUT_HIGH (64u * 1024u)
#define NET_TCP_KEEP_MAX (16u * 1024u) /* buffers larger than this are shrunk on reuse */
#define NET_TCP_BACKLOG 256
#define NET_ADDR_TEXT 80

/* The zone shared by the workers; refs is guarded by net_server.lock. */
typedef struct net_zone {
	ans_zone z;
	uint64_t tcp_idle_ms;      /* 0: no idle timeout */
	unsigned refs;
} net_zone;

struct net_worker;

typedef struct net_udp {
	uv_poll_t poll;
	int fd;
	bool pktinfo;              /* wildcard address: replies leave from the address queried */
	bool poll_ok;
	struct net_worker *w;
} net_udp;

typedef struct net_tcpl {
	uv_tcp_t tcp;
	int fd;                    /* -1 once libuv owns it */
	bool tcp_ok;
	struct net_worker *w;
} net_tcpl;

typedef struct net_conn net_conn;
struct net_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t wreq;
	struct net_worker *w;
	net_conn *prev, *next;     /* in the worker's active list, or next in its spare list */
	struct sockaddr_storage peer;
	uint8_t *in;               /* unread bytes are in[in_off..in_len) */
	size_t in_off, in_len, in_cap;
	uint8_t *out[2];           /* out[cur] collects answers; out[cur ^ 1] may be in flight */
	size_t out_len[2], out_cap[2];
	unsigned cur;
	unsigned closes;           /* close callbacks still to come */
	bool writing, reading, eof, closing;
	xfr_job *xfr;              /* a zone transfer being sent; input waits until it ends */
};

typedef union net_cmsg {
	struct cmsghdr h;
	uint8_t b[NET_CMSG_SLOT];
} net_cmsg;

typedef struct net_batch {
	struct mmsghdr rx[NET_BATCH], tx[NET_BATCH];
	struct iovec rx_iov[NET_BATCH], tx_iov[NET_BATCH];
	struct sockaddr_storage peer[NET_BATCH];
	net_cmsg rx_ctl[NET_BATCH], tx_ctl[NET_BATCH];
	uint8_t *rx_buf, *tx_buf;
} net_batch;

typedef struct net_worker {
	struct net_server *srv;
	unsigned id;
	uv_thread_t thread;
	bool thread_ok, loop_ok, async_ok, serving;
	uv_loop_t loop;
	uv_async_t async;
	net_udp udp[CFG_MAX_LISTEN];
	net_tcpl tcpl[CFG_MAX_LISTEN];
	store_reader *rd;
	net_zone *zone;
	ans_ctx ctx;
	net_batch *batch;
	uint8_t *scratch;          /* one TCP answer */
	net_conn *active, *spare;
	unsigned n_conn, max_conn;
	bool stopping;
	net_stats st;
	int start_rc;
	char start_err[256];
	int close_rc;              /* uv_loop_close() at the end: must be 0 */
} net_worker;

struct net_server {
	cfg_listen listen[CFG_MAX_LISTEN];   /* ports resolved */
	unsigned n_listen, n_workers;
	net_worker *w;
	store *st;
	uv_mutex_t lock;                     /* zone references and the start handshake */
	uv_cond_t cond;
	unsigned n_reported;
	net_zone *zone;                      /* the newest zone; the server holds one reference */
	xfr_srv *xfr;                        /* transfers and signed queries, or NULL */
	atomic_bool stop;
	bool started;
};

/* ---- addresses and sockets ---- */

/* Writes "192.0.2.1:53" or "[2001:db8::1]:53" (NUL-terminated, cut at cap). */
static void net_sa_text(const struct sockaddr *sa, char *buf, size_t cap)
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(buf, cap, "%s:%u", host, ntohs(s4->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(buf, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		snprintf(buf, cap, "(unknown address family %d)", sa->sa_family);
	}
}

static void net_listen_addr_text(const cfg_listen *l, uint16_t port, char *buf, size_t cap)
{
	if (l->family == AF_INET6)
		snprintf(buf, cap, "[%s]:%u", l->host, port);
	else
		snprintf(buf, cap, "%s:%u", l->host, port);
}

static int net_sockaddr(const cfg_listen *l, uint16_t port, struct sockaddr_storage *ss,
                        socklen_t *len, bool *wildcard)
{
	memset(ss, 0, sizeof *ss);
	if (l->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, l->host, &s6->sin6_addr) != 1)
			return V6R_ESYNTAX;
		*wildcard = IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr);
		*len = sizeof *s6;
		return 0;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_port = htons(port);
	if (inet_pton(AF_INET, l->host, &s4->sin_addr) != 1)
		return V6R_ESYNTAX;
	*wildcard = s4->sin_addr.s_addr == htonl(INADDR_ANY);
	*len = sizeof *s4;
	return 0;
}

static int net_setopt(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof value);
}

/* Options a UDP socket needs beyond the common ones; the path MTU ones and the larger
 * receive buffer (which absorbs bursts, beyond net.core.rmem_max when we are root) are best
 * effort. */
static int net_udp_opts(int fd, int family, bool wildcard)
{
	if (net_setopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, NET_UDP_RCVBUF) < 0)
		(void)net_setopt(fd, SOL_SOCKET, SO_RCVBUF, NET_UDP_RCVBUF);
	if (family == AF_INET) {
		(void)net_setopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_OMIT);
		if (wildcard && net_setopt(fd, IPPROTO_IP, IP_PKTINFO, 1) < 0)
			return -1;
	} else {
		(void)net_setopt(fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, IPV6_PMTUDISC_OMIT);
		if (wildcard && net_setopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) < 0)
			return -1;
	}
	return 0;
}

/*
 * Opens a non-blocking socket of type (SOCK_DGRAM or SOCK_STREAM) bound to l at port.
 * reuseport is off only for the probe that detects another server on the address. Returns the
 * descriptor or -1 with a message in err.
 */
static int net_socket(const cfg_listen *l, uint16_t port, int type, bool reuseport, char *err,
                      size_t errlen)
{
	const char *what = type == SOCK_DGRAM ? "UDP" : "TCP";
	const char *verb = "create";
	struct sockaddr_storage ss;
	socklen_t len = 0;
	bool wildcard = false;
	char at[NET_ADDR_TEXT];

	net_listen_addr_text(l, port, at, sizeof at);
	if (net_sockaddr(l, port, &ss, &len, &wildcard) < 0) {
		snprintf(err, errlen, "failed to parse listen address %s (not a numeric address)", at);
		return -1;
	}
	int fd = socket(l->family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	verb = "set options on";
	if (type == SOCK_STREAM && net_setopt(fd, SOL_SOCKET, SO_REUSEADDR, 1) < 0)
		goto fail;
	if (reuseport && net_setopt(fd, SOL_SOCKET, SO_REUSEPORT, 1) < 0)
		goto fail;
	if (l->family == AF_INET6 && net_setopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) < 0)
		goto fail;
	if (type == SOCK_DGRAM && net_udp_opts(fd, l->family, wildcard) < 0)
		goto fail;
	verb = "bind";
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "failed to %s %s socket %s (%s)", verb, what, at, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

static uint16_t net_bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

/*
 * Picks the port for listen address l: binds UDP and TCP probes without SO_REUSEPORT, which
 * fail when anyone (another v6repd included) already serves the address, and for port 0
 * finds a port free for both. The probes are closed again. Returns the port or 0 with err.
 */
static uint16_t net_probe_port(const cfg_listen *l, char *err, size_t errlen)
{
	for (unsigned attempt = 0; attempt < 16; attempt++) {
		int u = net_socket(l, l->port, SOCK_DGRAM, false, err, errlen);
		if (u < 0)
			return 0;
		uint16_t port = net_bound_port(u);
		int t = net_socket(l, port, SOCK_STREAM, false, err, errlen);
		close(u);
		if (t >= 0) {
			close(t);
			return port;
		}
		if (l->port != 0)
			return 0;
	}
	return 0;
}

/* ---- zones shared by the workers ---- */

static net_zone *net_zone_new(const ans_zone *z, const cfg *c)
{
	net_zone *nz = malloc(sizeof *nz);

	if (!nz)
		return NULL;
	nz->z = *z;
	nz->tcp_idle_ms = (uint64_t)c->tcp_idle_timeout * 1000u;
	nz->refs = 1;
	return nz;
}

/* Drops one reference; the caller holds srv->lock. */
static void net_zone_unref_locked(net_zone *nz)
{
	if (nz && --nz->refs == 0)
		free(nz);
}

/* Makes the worker use the server's newest zone, letting go of the one it had. */
static void worker_adopt_zone(net_worker *w)
{
	net_server *s = w->srv;

	uv_mutex_lock(&s->lock);
	if (w->zone != s->zone) {
		net_zone *old = w->zone;
		w->zone = s->zone;
		w->zone->refs++;
		net_zone_unref_locked(old);
	}
	uv_mutex_unlock(&s->lock);
	w->ctx.zone = &w->zone->z;
}

/* ---- UDP ---- */

/* Copies the destination address of a received datagram into the reply's source control. */
static socklen_t udp_reply_ctl(const struct msghdr *rx, net_cmsg *out)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(rx); cm; cm = CMSG_NXTHDR((struct msghdr *)rx, cm)) {
		if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(cm), sizeof pi);
			pi.ipi_spec_dst = pi.ipi_addr;
			pi.ipi_ifindex = 0;
			out->h.cmsg_level = IPPROTO_IP;
			out->h.cmsg_type = IP_PKTINFO;
			out->h.cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(&out->h), &pi, sizeof pi);
			return CMSG_SPACE(sizeof pi);
		}
		if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO) {
			out->h.cmsg_level = IPPROTO_IPV6;
			out->h.cmsg_type = IPV6_PKTINFO;
			out->h.cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
			memcpy(CMSG_DATA(&out->h), CMSG_DATA(cm), sizeof(struct in6_pktinfo));
			return CMSG_SPACE(sizeof(struct in6_pktinfo));
		}
	}
	return 0;
}

static void udp_log_send_error(const net_batch *b, unsigned i, int e)
{
	char peer[NET_ADDR_TEXT];

	if (!log_enabled(LOG_DEBUG))
		return;
	net_sa_text((const struct sockaddr *)b->tx[i].msg_hdr.msg_name, peer, sizeof peer);
	log_msg(LOG_DEBUG, "failed to send UDP answer to %s (%s)", peer, strerror(e));
}

/* Sends tx[0..m); on EAGAIN the rest of the batch is dropped, other errors skip one answer. */
static void udp_send(net_udp *u, unsigned m)
{
	net_worker *w = u->w;
	net_batch *b = w->batch;
	unsigned done = 0;

	while (done < m) {
		int k = sendmmsg(u->fd, b->tx + done, m - done, MSG_DONTWAIT);
		if (k > 0) {
			done += (unsigned)k;
			w->st.udp_sent += (uint64_t)k;
			continue;
		}
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			w->st.udp_dropped += m - done;
			return;
		}
		udp_log_send_error(b, done, k < 0 ? errno : EIO);
		w->st.udp_send_errors++;
		done++;
	}
}

/* Resets the fields of the receive headers that the kernel overwrites. */
static void udp_rx_reset(net_batch *b, bool pktinfo)
{
	for (unsigned i = 0; i < NET_BATCH; i++) {
		struct msghdr *h = &b->rx[i].msg_hdr;
		h->msg_namelen = sizeof b->peer[i];
		h->msg_control = pktinfo ? b->rx_ctl[i].b : NULL;
		h->msg_controllen = pktinfo ? NET_CMSG_SLOT : 0;
		h->msg_flags = 0;
	}
}

/* Answers datagram i into tx slot m; returns true when there is an answer to send. */
static bool udp_answer(net_udp *u, unsigned i, unsigned m)
{
	net_worker *w = u->w;
	net_batch *b = w->batch;
	const struct msghdr *rx = &b->rx[i].msg_hdr;

	if (rx->msg_flags & MSG_TRUNC) {
		w->st.udp_oversized++;
		return false;
	}
	uint8_t *out = b->tx_buf + (size_t)m * NET_UDP_TX_SLOT;
	const uint8_t *q = b->rx_buf + (size_t)i * NET_UDP_RX_SLOT;
	size_t n;
	if (w->srv->xfr && xfr_wants(q, b->rx[i].msg_len))
		n = xfr_udp(w->srv->xfr, &w->ctx, q, b->rx[i].msg_len,
		            (const struct sockaddr *)&b->peer[i], out, NET_UDP_TX_SLOT);
	else
		n = ans_query(&w->ctx, q, b->rx[i].msg_len, out, NET_UDP_TX_SLOT, false);
	if (n == 0) {
		w->st.udp_unanswered++;
		return false;
	}
	struct msghdr *tx = &b->tx[m].msg_hdr;
	b->tx_iov[m].iov_base = out;
	b->tx_iov[m].iov_len = n;
	tx->msg_name = &b->peer[i];
	tx->msg_namelen = rx->msg_namelen;
	tx->msg_iov = &b->tx_iov[m];
	tx->msg_iovlen = 1;
	tx->msg_controllen = u->pktinfo ? udp_reply_ctl(rx, &b->tx_ctl[m]) : 0;
	tx->msg_control = tx->msg_controllen ? b->tx_ctl[m].b : NULL;
	tx->msg_flags = 0;
	return true;
}

/* One batch: receive up to NET_BATCH datagrams, answer them, send the answers. */
static int udp_batch(net_udp *u)
{
	net_worker *w = u->w;
	net_batch *b = w->batch;

	udp_rx_reset(b, u->pktinfo);
	int n = recvmmsg(u->fd, b->rx, NET_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0) {
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_msg(LOG_DEBUG, "failed to receive UDP queries (%s)", strerror(errno));
		return 0;
	}
	w->ctx.now = (uint64_t)time(NULL);
	w->st.udp_received += (uint64_t)n;
	unsigned m = 0;
	for (unsigned i = 0; i < (unsigned)n; i++)
		if (udp_answer(u, i, m))
			m++;
	udp_send(u, m);
	return n;
}

static void udp_poll_cb(uv_poll_t *h, int status, int events)
{
	net_udp *u = h->data;

	if (status < 0) {
		log_msg(LOG_WARNING, "failed to poll UDP socket (%s)", uv_strerror(status));
		return;
	}
	for (unsigned k = 0; k < NET_BATCHES_PER_WAKEUP; k++)
		if (udp_batch(u) < NET_BATCH)
			break;
}

static int net_batch_new(net_batch **out)
{
	net_batch *b = calloc(1, sizeof *b);

	if (!b)
		return V6R_ENOMEM;
	b->rx_buf = malloc((size_t)NET_BATCH * NET_UDP_RX_SLOT);
	b->tx_buf = malloc((size_t)NET_BATCH * NET_UDP_TX_SLOT);
	if (!b->rx_buf || !b->tx_buf) {
		free(b->rx_buf);
		free(b->tx_buf);
		free(b);
		return V6R_ENOMEM;
	}
	for (unsigned i = 0; i < NET_BATCH; i++) {
		b->rx_iov[i].iov_base = b->rx_buf + (size_t)i * NET_UDP_RX_SLOT;
		b->rx_iov[i].iov_len = NET_UDP_RX_SLOT;
		b->rx[i].msg_hdr.msg_name = &b->peer[i];
		b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
		b->rx[i].msg_hdr.msg_iovlen = 1;
	}
	*out = b;
	return 0;
}

static void net_batch_free(net_batch *b)
{
	if (!b)
		return;
	free(b->rx_buf);
	free(b->tx_buf);
	free(b);
}

/* ---- TCP connections ---- */

static void conn_process(net_conn *c);

static void conn_peer_text(const net_conn *c, char *buf, size_t cap)
{
	net_sa_text((const struct sockaddr *)&c->peer, buf, cap);
}

static size_t conn_pending(const net_conn *c)
{
	return c->out_len[c->cur] + (c->writing ? c->out_len[c->cur ^ 1] : 0);
}

/* Grows *buf to hold at least need bytes (doubling). Returns 0 or V6R_ENOMEM. */
static int conn_grow(uint8_t **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 1024;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	uint8_t *p = realloc(*buf, n);
	if (!p)
		return V6R_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static void conn_closed_cb(uv_handle_t *h);

static void conn_close(net_conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->xfr) {
		xfr_job_release(c->xfr);   /* stops the rendering; freed on this loop later */
		c->xfr = NULL;
	}
	c->closes = 2;
	uv_close((uv_handle_t *)&c->tcp, conn_closed_cb);
	uv_close((uv_handle_t *)&c->timer, conn_closed_cb);
}

static void conn_log_close(net_conn *c, const char *verb, int status)
{
	char peer[NET_ADDR_TEXT];

	if (!log_enabled(LOG_DEBUG))
		return;
	conn_peer_text(c, peer, sizeof peer);
	log_msg(LOG_DEBUG, "failed to %s TCP client %s (%s)", verb, peer, uv_strerror(status));
}

/* Shrinks buffers that one client grew, so the spare list never pins much memory. */
static void conn_shrink(uint8_t **buf, size_t *cap, size_t init)
{
	if (*cap <= NET_TCP_KEEP_MAX)
		return;
	uint8_t *p = realloc(*buf, init);
	if (p) {
		*buf = p;
		*cap = init;
	}
}

/* Last close callback: the connection goes back to the worker's spare list. */
static void conn_closed_cb(uv_handle_t *h)
{
	net_conn *c = h->data;
	net_worker *w = c->w;

	if (--c->closes > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		w->active = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->n_conn--;
	conn_shrink(&c->in, &c->in_cap, NET_TCP_IN_INIT);
	conn_shrink(&c->out[0], &c->out_cap[0], NET_TCP_OUT_INIT);
	conn_shrink(&c->out[1], &c->out_cap[1], NET_TCP_OUT_INIT);
	c->prev = NULL;
	c->next = w->spare;
	w->spare = c;
}

static void conn_free(net_conn *c)
{
	free(c->in);
	free(c->out[0]);
	free(c->out[1]);
	free(c);
}

static net_conn *conn_new(void)
{
	net_conn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	if (conn_grow(&c->in, &c->in_cap, NET_TCP_IN_INIT) < 0 ||
	    conn_grow(&c->out[0], &c->out_cap[0], NET_TCP_OUT_INIT) < 0 ||
	    conn_grow(&c->out[1], &c->out_cap[1], NET_TCP_OUT_INIT) < 0) {
		conn_free(c);
		return NULL;
	}
	return c;
}

/* Takes a connection from the spare list (or makes one) and links it as active; NULL when the
 * worker's share of connections is used up or memory is short. */
static net_conn *conn_get(net_worker *w)
{
	if (w->n_conn >= w->max_conn)
		return NULL;
	net_conn *c = w->spare;
	if (c)
		w->spare = c->next;
	else if (!(c = conn_new()))
		return NULL;
	c->w = w;
	c->in_off = c->in_len = 0;
	c->out_len[0] = c->out_len[1] = 0;
	c->cur = 0;
	c->writing = c->reading = c->eof = c->closing = false;
	c->xfr = NULL;
	c->prev = NULL;
	c->next = w->active;
	if (w->active)
		w->active->prev = c;
	w->active = c;
	w->n_conn++;
	uv_tcp_init(&w->loop, &c->tcp);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c->timer.data = c->wreq.data = c;
	return c;
}

static void conn_idle_cb(uv_timer_t *t)
{
	net_conn *c = t->data;
	char peer[NET_ADDR_TEXT];

	c->w->st.tcp_idle_closed++;
	if (log_enabled(LOG_DEBUG)) {
		conn_peer_text(c, peer, sizeof peer);
		log_msg(LOG_DEBUG, "closing idle TCP connection from %s", peer);
	}
	conn_close(c);
}

static void conn_touch(net_conn *c)
{
	uint64_t ms = c->w->zone->tcp_idle_ms;

	if (c->xfr && c->w->srv->xfr)
		ms = xfr_timeout_ms(c->w->srv->xfr);   /* a transfer: the time without progress */
	if (ms)
		uv_timer_start(&c->timer, conn_idle_cb, ms, 0);
}

static void conn_write_cb(uv_write_t *req, int status)
{
	net_conn *c = req->data;

	c->writing = false;
	c->out_len[c->cur ^ 1] = 0;
	if (status < 0) {
		if (status != UV_ECANCELED) {
			c->w->st.tcp_errors++;
			conn_log_close(c, "write to", status);
		}
		conn_close(c);
		return;
	}
	conn_process(c);
}

/* Starts writing the collected answers unless a write is already in flight. */
static void conn_flush(net_conn *c)
{
	if (c->writing || c->closing || c->out_len[c->cur] == 0)
		return;
	uv_buf_t buf = uv_buf_init((char *)c->out[c->cur], (unsigned)c->out_len[c->cur]);
	int rc = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &buf, 1, conn_write_cb);
	if (rc < 0) {
		c->w->st.tcp_errors++;
		conn_log_close(c, "write to", rc);
		conn_close(c);
		return;
	}
	c->writing = true;
	c->cur ^= 1;
}

static void conn_xfr_wake(void *owner)
{
	conn_process(owner);
}

/* Answers one message and appends the length-prefixed response to the collecting buffer; a
 * transfer request may instead start a job (c->xfr) that conn_xfr_pump streams. */
static int conn_answer(net_conn *c, const uint8_t *q, size_t len)
{
	net_worker *w = c->w;
	unsigned k = c->cur;
	size_t n;

	w->st.tcp_queries++;
	if (w->srv->xfr && xfr_wants(q, len)) {
		if (xfr_tcp(w->srv->xfr, &w->ctx, &w->loop, q, len,
		            (const struct sockaddr *)&c->peer, w->scratch, NET_TCP_MSG_MAX, &n, &c->xfr,
		            conn_xfr_wake, c) == 1)
			return 0;
	} else {
		n = ans_query(&w->ctx, q, len, w->scratch, NET_TCP_MSG_MAX, true);
	}
	if (n == 0)
		return 0;
	if (conn_grow(&c->out[k], &c->out_cap[k], c->out_len[k] + 2 + n) < 0)
		return V6R_ENOMEM;
	uint8_t *p = c->out[k] + c->out_len[k];
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	memcpy(p + 2, w->scratch, n);
	c->out_len[k] += 2 + n;
	return 0;
}

static void conn_alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	net_conn *c = h->data;

	if (c->in_off > 0) {
		memmove(c->in, c->in + c->in_off, c->in_len - c->in_off);
		c->in_len -= c->in_off;
		c->in_off = 0;
	}
	*buf = uv_buf_init((char *)c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void conn_read_cb(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	net_conn *c = s->data;

	if (nread > 0) {
		c->in_len += (size_t)nread;
		conn_process(c);
		return;
	}
	if (nread == 0)
		return;
	if (nread == UV_EOF || nread == UV_ENOBUFS) {
		/* EOF: answer what is complete, then close once the answers are out. ENOBUFS cannot
		 * happen (a partial message always has room); if it does, stop reading likewise. */
		c->eof = true;
		c->reading = false;
		uv_read_stop(s);
		conn_process(c);
		return;
	}
	c->w->st.tcp_errors++;
	conn_log_close(c, "read from", (int)nread);
	conn_close(c);
}

/* Answers every complete message while the pending output stays under the bound. Returns
 * whether at least one message was taken, or a negative error. */
static int conn_drain_input(net_conn *c)
{
	int taken = 0;

	while (!c->xfr && conn_pending(c) <= NET_TCP_OUT_HIGH) {
		size_t avail = c->in_len - c->in_off;
		if (avail < 2)
			break;
		const uint8_t *p = c->in + c->in_off;
		size_t len = (size_t)p[0] << 8 | p[1];
		if (avail < 2 + len) {
			/* the unread part moves to the front before the next read (conn_alloc_cb) */
			if (conn_grow(&c->in, &c->in_cap, 2 + len) < 0)
				return V6R_ENOMEM;
			break;
		}
		c->in_off += 2 + len;
		taken = 1;
		if (conn_answer(c, p + 2, len) < 0)
			return V6R_ENOMEM;
	}
	return taken;
}

static bool conn_has_message(const net_conn *c)
{
	size_t avail = c->in_len - c->in_off;
	const uint8_t *p = c->in + c->in_off;

	return avail >= 2 && avail >= 2 + ((size_t)p[0] << 8 | p[1]);
}

/*
 * Moves what the transfer job has rendered into the collecting buffer while the unsent output
 * stays under the bound; ends the job once everything is out of it. Returns -1 when the
 * connection was closed.
 */
static int conn_xfr_pump(net_conn *c)
{
	unsigned k = c->cur;
	bool moved = false;

	while (conn_pending(c) < NET_TCP_OUT_HIGH) {
		size_t room = NET_TCP_OUT_HIGH - conn_pending(c);
		if (conn_grow(&c->out[k], &c->out_cap[k], c->out_len[k] + room) < 0) {
			log_msg(LOG_WARNING, "failed to buffer zone transfer (out of memory)");
			conn_close(c);
			return -1;
		}
		size_t n = xfr_job_read(c->xfr, c->out[k] + c->out_len[k], room);
		if (n == 0)
			break;
		c->out_len[k] += n;
		moved = true;
	}
	if (xfr_job_finished(c->xfr)) {
		xfr_job_release(c->xfr);
		c->xfr = NULL;
		moved = true;
	}
	if (moved)
		conn_touch(c);
	return 0;
}

/*
 * The heart of a connection, run after every read and every finished write: answer what is
 * complete, start a write, and read on only while the unsent answers stay under the bound
 * (a client that does not read its answers is paused, never buffered without limit). While a
 * zone transfer is being sent, its messages are the answers and input waits.
 */
static void conn_process(net_conn *c)
{
	if (c->closing)
		return;
	c->w->ctx.now = (uint64_t)time(NULL);
	if (c->xfr && conn_xfr_pump(c) < 0)
		return;
	int taken = conn_drain_input(c);
	if (taken < 0) {
		log_msg(LOG_WARNING, "failed to buffer TCP message (%s)", v6r_strerror(taken));
		conn_close(c);
		return;
	}
	if (taken > 0)
		conn_touch(c);
	if (c->xfr && conn_xfr_pump(c) < 0)
		return;
	conn_flush(c);
	if (c->closing)
		return;
	bool full = conn_pending(c) > NET_TCP_OUT_HIGH || c->xfr != NULL;
	if (c->eof) {
		if (!c->writing && c->out_len[c->cur] == 0 && !conn_has_message(c) && !c->xfr)
			conn_close(c);
	} else if (full && c->reading) {
		c->w->st.tcp_paused++;
		c->reading = false;
		uv_read_stop((uv_stream_t *)&c->tcp);
	} else if (!full && !c->reading) {
		int rc = uv_read_start((uv_stream_t *)&c->tcp, conn_alloc_cb, conn_read_cb);
		if (rc < 0) {
			conn_log_close(c, "read from", rc);
			conn_close(c);
			return;
		}
		c->reading = true;
	}
}

static void reject_closed_cb(uv_handle_t *h)
{
	free(h);
}

/* The worker's share of connections is in use: accept the connection and close it at once. */
static void tcp_reject(net_worker *w, uv_stream_t *server)
{
	uv_tcp_t *t = malloc(sizeof *t);

	w->st.tcp_rejected++;
	if (!t) {
		log_msg(LOG_ERR, "failed to reject TCP connection (out of memory)");
		return;
	}
	uv_tcp_init(&w->loop, t);
	if (uv_accept(server, (uv_stream_t *)t) == 0 && log_enabled(LOG_DEBUG)) {
		struct sockaddr_storage ss;
		int len = sizeof ss;
		char peer[NET_ADDR_TEXT] = "?";
		if (uv_tcp_getpeername(t, (struct sockaddr *)&ss, &len) == 0)
			net_sa_text((struct sockaddr *)&ss, peer, sizeof peer);
		log_msg(LOG_DEBUG, "closing TCP connection from %s (connection limit %u reached)",
		        peer, w->max_conn);
	}
	uv_close((uv_handle_t *)t, reject_closed_cb);
}

static void tcp_connection_cb(uv_stream_t *server, int status)
{
	net_tcpl *l = server->data;
	net_worker *w = l->w;

	if (status < 0) {
		log_msg(LOG_WARNING, "failed to accept TCP connection (%s)", uv_strerror(status));
		return;
	}
	net_conn *c = conn_get(w);
	if (!c) {
		tcp_reject(w, server);
		return;
	}
	int rc = uv_accept(server, (uv_stream_t *)&c->tcp);
	if (rc == 0) {
		int len = sizeof c->peer;
		if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &len) < 0)
			memset(&c->peer, 0, sizeof c->peer);
		uv_tcp_nodelay(&c->tcp, 1);
		w->st.tcp_accepted++;
		conn_touch(c);
		conn_process(c);   /* starts reading */
		return;
	}
	log_msg(LOG_WARNING, "failed to accept TCP connection (%s)", uv_strerror(rc));
	conn_close(c);
}

/* ---- workers ---- */

/* Closes every handle of the worker (idempotent); the loop then ends by itself. */
static void worker_close_all(net_worker *w)
{
	net_server *s = w->srv;

	w->stopping = true;
	for (unsigned i = 0; i < s->n_listen; i++) {
		net_udp *u = &w->udp[i];
		net_tcpl *l = &w->tcpl[i];
		if (u->poll_ok && !uv_is_closing((uv_handle_t *)&u->poll)) {
			uv_poll_stop(&u->poll);
			uv_close((uv_handle_t *)&u->poll, NULL);
		}
		if (l->tcp_ok && !uv_is_closing((uv_handle_t *)&l->tcp))
			uv_close((uv_handle_t *)&l->tcp, NULL);
	}
	for (net_conn *c = w->active; c; c = c->next)
		conn_close(c);
	if (w->async_ok && !uv_is_closing((uv_handle_t *)&w->async))
		uv_close((uv_handle_t *)&w->async, NULL);
}

static void worker_async_cb(uv_async_t *a)
{
	net_worker *w = a->data;

	if (atomic_load(&w->srv->stop)) {
		worker_close_all(w);
		return;
	}
	worker_adopt_zone(w);
}

static int worker_listen(net_worker *w, unsigned i, char *err, size_t errlen)
{
	net_udp *u = &w->udp[i];
	net_tcpl *l = &w->tcpl[i];
	char at[NET_ADDR_TEXT];

	net_listen_addr_text(&w->srv->listen[i], w->srv->listen[i].port, at, sizeof at);
	int rc = uv_poll_init_socket(&w->loop, &u->poll, u->fd);
	if (rc < 0)
		goto fail;
	u->poll_ok = true;
	u->poll.data = u;
	if ((rc = uv_poll_start(&u->poll, UV_READABLE, udp_poll_cb)) < 0)
		goto fail;
	uv_tcp_init(&w->loop, &l->tcp);
	l->tcp_ok = true;
	l->tcp.data = l;
	if ((rc = uv_tcp_open(&l->tcp, l->fd)) < 0)
		goto fail;
	l->fd = -1;
	if ((rc = uv_listen((uv_stream_t *)&l->tcp, NET_TCP_BACKLOG, tcp_connection_cb)) < 0)
		goto fail;
	return 0;
fail:
	snprintf(err, errlen, "failed to serve %s in worker %u (%s)", at, w->id, uv_strerror(rc));
	return V6R_EIO;
}

/* Everything a worker needs before it serves; on failure the caller closes what was made. */
static int worker_setup(net_worker *w, char *err, size_t errlen)
{
	int rc = uv_loop_init(&w->loop);

	if (rc < 0) {
		snprintf(err, errlen, "failed to create event loop (%s)", uv_strerror(rc));
		return V6R_EIO;
	}
	w->loop_ok = true;
	if ((rc = uv_async_init(&w->loop, &w->async, worker_async_cb)) < 0) {
		snprintf(err, errlen, "failed to create wakeup handle (%s)", uv_strerror(rc));
		return V6R_EIO;
	}
	w->async_ok = true;
	w->async.data = w;
	if ((rc = store_reader_new(w->srv->st, &w->rd)) < 0) {
		snprintf(err, errlen, "failed to create store reader (%s: %s)", v6r_strerror(rc),
		         store_lasterr(w->srv->st));
		return rc;
	}
	if (net_batch_new(&w->batch) < 0 || !(w->scratch = malloc(NET_TCP_MSG_MAX))) {
		snprintf(err, errlen, "failed to allocate buffers (out of memory)");
		return V6R_ENOMEM;
	}
	worker_adopt_zone(w);
	w->ctx.rd = w->rd;
	w->ctx.now = (uint64_t)time(NULL);
	for (unsigned i = 0; i < w->srv->n_listen; i++)
		if ((rc = worker_listen(w, i, err, errlen)) < 0)
			return rc;
	return 0;
}

/* Frees what the worker owns once its loop has ended. */
static void worker_teardown(net_worker *w)
{
	net_server *s = w->srv;

	if (w->loop_ok) {
		w->close_rc = uv_loop_close(&w->loop);
		if (w->close_rc != 0)
			log_msg(LOG_ERR, "failed to close the event loop of worker %u (%s)", w->id,
			        uv_strerror(w->close_rc));
	}
	while (w->spare) {
		net_conn *c = w->spare;
		w->spare = c->next;
		conn_free(c);
	}
	store_reader_free(w->rd);
	w->rd = NULL;
	net_batch_free(w->batch);
	w->batch = NULL;
	free(w->scratch);
	w->scratch = NULL;
	w->st.ans = w->ctx.st;
	uv_mutex_lock(&s->lock);
	net_zone_unref_locked(w->zone);
	w->zone = NULL;
	uv_mutex_unlock(&s->lock);
	w->ctx.zone = NULL;
}

static void worker_report(net_worker *w, int rc, const char *err)
{
	net_server *s = w->srv;

	uv_mutex_lock(&s->lock);
	w->start_rc = rc;
	snprintf(w->start_err, sizeof w->start_err, "%s", err);
	w->serving = rc == 0;
	s->n_reported++;
	uv_cond_signal(&s->cond);
	uv_mutex_unlock(&s->lock);
}

static void worker_main(void *arg)
{
	net_worker *w = arg;
	char err[256] = "";
	int rc = worker_setup(w, err, sizeof err);

	worker_report(w, rc, err);
	if (rc < 0)
		worker_close_all(w);
	if (w->loop_ok)
		uv_run(&w->loop, UV_RUN_DEFAULT);
	worker_teardown(w);
}

/* ---- the server ---- */

static int net_bind_address(net_server *s, unsigned i, char *err, size_t errlen)
{
	cfg_listen *l = &s->listen[i];
	struct sockaddr_storage ss;
	socklen_t len;
	bool wildcard = false;
	uint16_t port = net_probe_port(l, err, errlen);

	if (port == 0)
		return V6R_EIO;
	l->port = port;
	(void)net_sockaddr(l, port, &ss, &len, &wildcard);
	for (unsigned k = 0; k < s->n_workers; k++) {
		net_worker *w = &s->w[k];
		w->udp[i].fd = net_socket(l, port, SOCK_DGRAM, true, err, errlen);
		if (w->udp[i].fd < 0)
			return V6R_EIO;
		w->udp[i].pktinfo = wildcard;
		w->tcpl[i].fd = net_socket(l, port, SOCK_STREAM, true, err, errlen);
		if (w->tcpl[i].fd < 0)
			return V6R_EIO;
	}
	return 0;
}

int net_bind(net_server **out, const cfg *c, unsigned nworkers, char *err, size_t errlen)
{
	*out = NULL;
	if (nworkers < 1 || nworkers > NET_MAX_WORKERS || c->n_listen < 1 ||
	    c->n_listen > CFG_MAX_LISTEN) {
		snprintf(err, errlen, "failed to bind sockets (need 1..%d threads and 1..%d listen "
		         "addresses)", NET_MAX_WORKERS, CFG_MAX_LISTEN);
		return V6R_EINVAL;
	}
	net_server *s = calloc(1, sizeof *s);
	if (!s || !(s->w = calloc(nworkers, sizeof *s->w))) {
		free(s);
		snprintf(err, errlen, "failed to bind sockets (out of memory)");
		return V6R_ENOMEM;
	}
	uv_mutex_init(&s->lock);
	uv_cond_init(&s->cond);
	s->n_workers = nworkers;
	s->n_listen = c->n_listen;
	memcpy(s->listen, c->listen, sizeof s->listen);
	for (unsigned k = 0; k < nworkers; k++) {
		s->w[k].srv = s;
		s->w[k].id = k;
		for (unsigned i = 0; i < CFG_MAX_LISTEN; i++) {
			s->w[k].udp[i].fd = s->w[k].tcpl[i].fd = -1;
			s->w[k].udp[i].w = s->w[k].tcpl[i].w = &s->w[k];
		}
	}
	for (unsigned i = 0; i < s->n_listen; i++) {
		int rc = net_bind_address(s, i, err, errlen);
		if (rc < 0) {
			net_free(s);
			return rc;
		}
	}
	*out = s;
	return 0;
}

void net_listen_text(const net_server *s, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (unsigned i = 0; i < s->n_listen && n < cap; i++) {
		char at[NET_ADDR_TEXT];
		net_listen_addr_text(&s->listen[i], s->listen[i].port, at, sizeof at);
		int k = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "", at);
		if (k < 0)
			break;
		n += (size_t)k;
	}
}

/* Waits until every started worker has reported; returns the first failure (with err). */
static int net_wait_started(net_server *s, unsigned started, char *err, size_t errlen)
{
	int rc = 0;

	uv_mutex_lock(&s->lock);
	while (s->n_reported < started)
		uv_cond_wait(&s->cond, &s->lock);
	for (unsigned k = 0; k < started && rc == 0; k++) {
		if (s->w[k].start_rc < 0) {
			rc = s->w[k].start_rc;
			snprintf(err, errlen, "worker %u: %s", k, s->w[k].start_err);
		}
	}
	uv_mutex_unlock(&s->lock);
	return rc;
}

/* Starts the threads with the stop and reload signals blocked, so they reach the main loop. */
static unsigned net_spawn(net_server *s, char *err, size_t errlen)
{
	sigset_t set, old;
	unsigned k;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (k = 0; k < s->n_workers; k++) {
		int rc = uv_thread_create(&s->w[k].thread, worker_main, &s->w[k]);
		if (rc < 0) {
			snprintf(err, errlen, "failed to start worker thread %u (%s)", k, uv_strerror(rc));
			break;
		}
		s->w[k].thread_ok = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return k;
}

void net_set_xfr(net_server *s, xfr_srv *x)
{
	s->xfr = x;
}

int net_start(net_server *s, store *st, const ans_zone *z, const cfg *c, char *err,
              size_t errlen)
{
	unsigned share = c->tcp_max_connections / s->n_workers;

	s->zone = net_zone_new(z, c);
	if (!s->zone) {
		snprintf(err, errlen, "failed to start workers (out of memory)");
		return V6R_ENOMEM;
	}
	s->st = st;
	for (unsigned k = 0; k < s->n_workers; k++)
		s->w[k].max_conn = share > 0 ? share : 1;
	s->started = true;
	unsigned started = net_spawn(s, err, errlen);
	int rc = net_wait_started(s, started, err, errlen);
	if (rc == 0 && started < s->n_workers)
		rc = V6R_EIO;  /* err says which thread did not start */
	if (rc < 0)
		(void)net_stop(s, NULL);
	return rc;
}

int net_reload(net_server *s, const ans_zone *z, const cfg *c)
{
	net_zone *nz = net_zone_new(z, c);

	if (!nz)
		return V6R_ENOMEM;
	uv_mutex_lock(&s->lock);
	net_zone *old = s->zone;
	s->zone = nz;
	net_zone_unref_locked(old);
	uv_mutex_unlock(&s->lock);
	for (unsigned k = 0; k < s->n_workers; k++)
		if (s->w[k].serving)
			uv_async_send(&s->w[k].async);
	return 0;
}

static void net_stats_add(net_stats *t, const net_stats *a)
{
	t->udp_received += a->udp_received;
	t->udp_sent += a->udp_sent;
	t->udp_dropped += a->udp_dropped;
	t->udp_send_errors += a->udp_send_errors;
	t->udp_oversized += a->udp_oversized;
	t->udp_unanswered += a->udp_unanswered;
	t->tcp_accepted += a->tcp_accepted;
	t->tcp_rejected += a->tcp_rejected;
	t->tcp_idle_closed += a->tcp_idle_closed;
	t->tcp_errors += a->tcp_errors;
	t->tcp_queries += a->tcp_queries;
	t->tcp_paused += a->tcp_paused;
	t->ans.queries += a->ans.queries;
	t->ans.noerror += a->ans.noerror;
	t->ans.nxdomain += a->ans.nxdomain;
	t->ans.refused += a->ans.refused;
	t->ans.formerr += a->ans.formerr;
	t->ans.notimp += a->ans.notimp;
	t->ans.servfail += a->ans.servfail;
	t->ans.badvers += a->ans.badvers;
	t->ans.dropped += a->ans.dropped;
	t->ans.truncated += a->ans.truncated;
}

static void net_stats_log(const char *who, const net_stats *t)
{
	typedef unsigned long long ull;

	log_msg(LOG_INFO, "%s: udp %llu received, %llu sent, %llu dropped (socket full), "
	        "%llu send errors, %llu oversized, %llu unanswered; tcp %llu connections, "
	        "%llu rejected, %llu idle closed, %llu errors, %llu queries, %llu paused",
	        who, (ull)t->udp_received, (ull)t->udp_sent, (ull)t->udp_dropped,
	        (ull)t->udp_send_errors, (ull)t->udp_oversized, (ull)t->udp_unanswered,
	        (ull)t->tcp_accepted, (ull)t->tcp_rejected, (ull)t->tcp_idle_closed,
	        (ull)t->tcp_errors, (ull)t->tcp_queries, (ull)t->tcp_paused);
	log_msg(LOG_INFO, "%s: answers %llu: %llu noerror, %llu nxdomain, %llu refused, "
	        "%llu formerr, %llu notimp, %llu servfail, %llu badvers, %llu dropped, "
	        "%llu truncated", who, (ull)t->ans.queries, (ull)t->ans.noerror,
	        (ull)t->ans.nxdomain, (ull)t->ans.refused, (ull)t->ans.formerr,
	        (ull)t->ans.notimp, (ull)t->ans.servfail, (ull)t->ans.badvers,
	        (ull)t->ans.dropped, (ull)t->ans.truncated);
}

int net_stop(net_server *s, net_stats *total)
{
	net_stats sum;
	int rc = 0;

	memset(&sum, 0, sizeof sum);
	atomic_store(&s->stop, true);
	for (unsigned k = 0; k < s->n_workers; k++)
		if (s->w[k].serving)
			uv_async_send(&s->w[k].async);
	for (unsigned k = 0; k < s->n_workers; k++) {
		net_worker *w = &s->w[k];
		char who[32];
		if (!w->thread_ok)
			continue;
		uv_thread_join(&w->thread);
		w->thread_ok = false;
		if (w->close_rc != 0)
			rc = V6R_EIO;
		if (!w->serving)
			continue;
		w->serving = false;
		snprintf(who, sizeof who, "worker %u", k);
		net_stats_log(who, &w->st);
		net_stats_add(&sum, &w->st);
	}
	if (s->started)
		net_stats_log("total", &sum);
	if (total)
		*total = sum;
	return rc;
}

void net_free(net_server *s)
{
	if (!s)
		return;
	for (unsigned k = 0; k < s->n_workers; k++) {
		for (unsigned i = 0; i < CFG_MAX_LISTEN; i++) {
			if (s->w[k].udp[i].fd >= 0)
				close(s->w[k].udp[i].fd);
			if (s->w[k].tcpl[i].fd >= 0)
				close(s->w[k].tcpl[i].fd);
		}
	}
	uv_mutex_lock(&s->lock);
	net_zone_unref_locked(s->zone);
	s->zone = NULL;
	uv_mutex_unlock(&s->lock);
	uv_cond_destroy(&s->cond);
	uv_mutex_destroy(&s->lock);
	free(s->w);
	free(s);
}
