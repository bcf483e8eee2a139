/* notify.h: NOTIFY (RFC 1996) to the configured secondaries when the store's serial changes. */
#ifndef V6R_NOTIFY_H
#define V6R_NOTIFY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../zone/cfg.h"
#include "../zone/store.h"

/*
 * Runs on one loop (v6repd's main loop). Every NOTIFY_TICK_MS it reads the store's serial; when
 * it differs from the serial last announced, and the last round is at least notify-interval
 * old, a round starts: a NOTIFY (opcode 4, AA, question <zone> SOA, the new SOA in the answer
 * section, TSIG-signed when a key is set) goes to every notify target over UDP, and is sent
 * again after 1, 2, 4... seconds until the target answers NOERROR with QR and opcode NOTIFY,
 * at most notify-retries times. A new serial during a round starts the next round (rate
 * limited as above). A round is also sent at start, so secondaries check at once.
 */

#define NOTIFY_TICK_MS 200u

typedef struct notify notify;

typedef struct notify_stats {
	uint64_t rounds, sent, acked, failed;   /* failed: gave up, or answered with an error */
} notify_stats;

/* Starts notifying for settings c (with no targets the timer runs and sends nothing, so a
 * reload may add some). Returns 0 or an error with a message in err. */
int notify_start(notify **out, uv_loop_t *loop, store *st, const cfg *c, char *err,
                 size_t errlen);

/* Takes new targets, key and intervals (the sockets stay). Returns 0 or an error with err. */
int notify_reload(notify *n, const cfg *c, char *err, size_t errlen);

void notify_get_stats(const notify *n, notify_stats *s);

/* Closes the handles; n is freed by the loop once they are closed (NULL is fine). */
void notify_stop(notify *n);

#endif
