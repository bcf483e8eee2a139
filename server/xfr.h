/* xfr.h: zone transfers out of v6repd (AXFR, RFC 5936; IXFR, RFC 1995), their access control
 * and TSIG (RFC 8945), and signed queries (the SOA checks of secondaries). */
#ifndef V6R_XFR_H
#define V6R_XFR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "../zone/cfg.h"
#include "../zone/store.h"
#include "answer.h"

/*
 * The path of a transfer. A worker that receives a query xfr_wants (AXFR or IXFR question, or
 * any query carrying TSIG) hands it here instead of to ans_query:
 *  - signed queries are verified (TSIG), answered by ans_query and signed;
 *  - AXFR over UDP is answered FORMERR (AXFR is defined over TCP only, RFC 5936 4.2: the form
 *    of the request is wrong, not the policy, so REFUSED would mislead);
 *  - IXFR over UDP gets the difference when it fits one datagram (at most XFR_UDP_CHANGES
 *    changes are tried), else the current SOA alone, which tells the client to use TCP
 *    (RFC 1995 2);
 *  - over TCP the peer must be in allow-transfer and, when a key is set, the request must carry
 *    a valid TSIG of that key; then a job is started: a thread of its own opens one LMDB read
 *    transaction (one serial for the whole answer) and renders the answer message by message
 *    into a bounded queue (XFR_QUEUE bytes); the worker's loop moves the queue into the
 *    connection as the client reads, so the loop never waits for the rendering and a stalled
 *    secondary holds at most the queue plus the connection's output bound. The read
 *    transaction stays open for the whole transfer: LMDB readers never block writers, but the
 *    pages of that snapshot cannot be reused until it ends, so the store file may grow during a
 *    long transfer. A transfer whose client reads nothing for xfr-timeout is aborted.
 * Refused and failed attempts are logged at notice level with the peer and the reason;
 * transfers are counted (xfr_srv_stats) and logged when they end.
 */

#define XFR_QUEUE (256u * 1024u)   /* bytes a job may have rendered but not yet handed over */
#define XFR_MSG_TARGET 16000u      /* message size (compression pointers reach 16 KiB) */
#define XFR_UDP_CHANGES 64u

typedef struct xfr_srv xfr_srv;
typedef struct xfr_job xfr_job;

typedef struct xfr_stats {
	uint64_t axfr, ixfr;           /* transfers completed */
	uint64_t ixfr_full;            /* IXFR answered with the whole zone (journal too short) */
	uint64_t ixfr_current;         /* IXFR answered with one SOA (client up to date, or UDP) */
	uint64_t refused, failed;      /* refused requests; transfers that did not complete */
	uint64_t signed_queries, bad_tsig;
	uint64_t bytes;                /* sent in transfers */
} xfr_stats;

/* Creates the transfer service for store st with settings c. Returns 0 or an error + err. */
int xfr_srv_new(xfr_srv **out, store *st, const cfg *c, char *err, size_t errlen);

/* Applies new settings (access list, key, zone rendering, limits); running transfers keep the
 * ones they started with. Returns 0 or an error with err (the old settings stay). */
int xfr_srv_reload(xfr_srv *x, const cfg *c, char *err, size_t errlen);

void xfr_srv_stats(xfr_srv *x, xfr_stats *s);
void xfr_srv_log_stats(xfr_srv *x);

/* Frees x; every job must have ended (the workers' loops have closed). */
void xfr_srv_free(xfr_srv *x);

/* Milliseconds a transfer may go without progress. */
uint64_t xfr_timeout_ms(xfr_srv *x);

/* Whether query q must take the transfer path (cheap: no allocation). */
bool xfr_wants(const uint8_t *q, size_t len);

/* Answers q (UDP) into out[0..cap); returns the length, 0 for nothing to send. c is the
 * worker's answering context (its reader and zone). */
size_t xfr_udp(xfr_srv *x, ans_ctx *c, const uint8_t *q, size_t len, const struct sockaddr *peer,
               uint8_t *out, size_t cap);

/* Called on the worker's loop when a job has data to read or has finished. */
typedef void (*xfr_wake_fn)(void *owner);

/*
 * Handles q received over TCP. Returns 0 with the answer in out[0..*outlen) (signed queries,
 * refusals, errors), or 1 with *job started: the caller reads it with xfr_job_read as the
 * connection drains, is woken through wake(owner) on `loop` when there is more, and calls
 * xfr_job_release when it is finished or the connection goes away.
 */
int xfr_tcp(xfr_srv *x, ans_ctx *c, uv_loop_t *loop, const uint8_t *q, size_t len,
            const struct sockaddr *peer, uint8_t *out, size_t cap, size_t *outlen, xfr_job **job,
            xfr_wake_fn wake, void *owner);

/* Moves up to room bytes of length-prefixed messages into dst; returns how many. */
size_t xfr_job_read(xfr_job *j, uint8_t *dst, size_t room);

/* True when the job has ended and everything it rendered has been read. */
bool xfr_job_finished(xfr_job *j);

/* The caller lets go of j (stopping it when still running); j is freed on its loop later. */
void xfr_job_release(xfr_job *j);

#endif
