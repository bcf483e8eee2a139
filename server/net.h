/* net.h: v6repd's sockets and worker threads: batched UDP (recvmmsg/sendmmsg) and RFC 7766 TCP. */
#ifndef V6R_NET_H
#define V6R_NET_H

#include <stddef.h>
#include <stdint.h>

#include "../zone/cfg.h"
#include "../zone/store.h"
#include "answer.h"
#include "xfr.h"

/*
 * The life of a server:
 *   net_bind    binds, for every listen address, one UDP and one TCP socket per worker
 *               (SO_REUSEPORT, IPV6_V6ONLY on IPv6), as root if need be;
 *   net_start   starts the worker threads; each has its own libuv loop, store reader, answer
 *               context and buffers, and serves its own sockets;
 *   net_reload  hands a new zone rendering to every worker (the old one is freed when the last
 *               worker has let go of it);
 *   net_stop    asks the workers to close everything, joins them and logs their counters;
 *   net_free    releases what is left (sockets of a server that never started included).
 * All functions are called from one thread (the main thread).
 */

typedef struct net_server net_server;

/* Counters of one worker (summed by net_stop). */
typedef struct net_stats {
	uint64_t udp_received, udp_sent;
	uint64_t udp_dropped;        /* answers not sent: the socket buffer was full (EAGAIN) */
	uint64_t udp_send_errors;    /* answers not sent: other send errors */
	uint64_t udp_oversized;      /* queries larger than the receive slot, ignored */
	uint64_t udp_unanswered;     /* ans_query returned 0 */
	uint64_t tcp_accepted, tcp_rejected, tcp_idle_closed, tcp_errors;
	uint64_t tcp_queries, tcp_paused;
	ans_stats ans;
} net_stats;

/*
 * Binds every socket for c->listen[0..n_listen) and nworkers workers (1..NET_MAX_WORKERS). A
 * listen port of 0 takes one free port for that address, shared by all its UDP and TCP sockets.
 * Fails with V6R_EIO and a message "failed to bind UDP socket [::1]:53 (Address already in
 * use)" in err, including when another process already serves the address with SO_REUSEPORT.
 */
#define NET_MAX_WORKERS 256
int net_bind(net_server **out, const cfg *c, unsigned nworkers, char *err, size_t errlen);

/* Writes the bound addresses ("127.0.0.1:5353, [::1]:5353") into buf (NUL-terminated). */
void net_listen_text(const net_server *s, char *buf, size_t cap);

/*
 * Makes the workers hand transfer requests and signed queries (xfr_wants) to x (server/xfr.h)
 * instead of answering them REFUSED. Call before net_start; x must outlive net_stop.
 */
void net_set_xfr(net_server *s, xfr_srv *x);

/*
 * Starts the workers: each opens its own reader on st and serves zone z, which is copied once
 * into a block shared by the workers and reference-counted (ans_zone is plain data, so a copy
 * is complete). tcp_max_connections is
 * split across the workers (at least one each). Returns when every worker is serving, or
 * stops those already started and returns an error with a message.
 */
int net_start(net_server *s, store *st, const ans_zone *z, const cfg *c, char *err,
              size_t errlen);

/*
 * Hands a new zone (copied) and the reloadable server settings of c (tcp-idle-timeout) to all
 * workers. Returns 0 or V6R_ENOMEM (the old zone stays).
 */
int net_reload(net_server *s, const ans_zone *z, const cfg *c);

/*
 * Stops and joins the workers, logs their counters at info level and fills *total if given.
 * Returns 0, or V6R_EIO when a worker's loop did not close cleanly (a handle was left open).
 */
int net_stop(net_server *s, net_stats *total);

/* Closes any sockets left and frees s (NULL is fine). Call after net_stop. */
void net_free(net_server *s);

#endif
