/* attempt.h: sensor SYNs grouped into connect() attempts (same source address and port, 25 s window). */
#ifndef V6R_ATTEMPT_H
#define V6R_ATTEMPT_H

#include <stdbool.h>
#include <stdint.h>

#include "event.h"
#include "htab.h"

/* One connect() attempt at the sensor. */
typedef struct att {
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	bool v6;
	uint8_t ttl;            /* of the first SYN */
	uint8_t os;             /* enum evid_os of the first SYN */
	bool quiet;             /* set by assoc: a sender never listed (as_ctx.quiet) */
	bool raw;               /* the first SYN is a raw-socket scanner's (zmap, masscan): none of
	                           the SACK, window scale and timestamp options that every OS stack
	                           sends with its MSS */
	uint32_t syns;          /* Windows retries after a RST: 3 SYNs */
	uint64_t first_us, last_us;
	uint64_t offset;        /* input offset of the first SYN (for resumable cursors) */
} att;

/* Called for every attempt when it closes (window passed since its last SYN, or flush). */
typedef void (*att_close_fn)(const att *a, void *arg);
/* Gives the OS class (enum evid_os) of a SYN; NULL means unknown for all. */
typedef uint8_t (*att_os_fn)(const ev_syn *s, void *arg);

/*
 * Open attempts live in a pool whose slots do not move, linked in the order of their latest SYN
 * (the oldest first): closing the attempts idle for a window takes them from the head, with no
 * lookup. The hash table maps (source, port) to a pool slot.
 */
typedef struct att_slot {
	att a;
	uint8_t key[18];
	uint32_t prev, next;    /* latest-SYN order; ATT_NONE ends */
} att_slot;

#define ATT_NONE UINT32_MAX

typedef struct att_tracker {
	htab open;              /* (src, sport) -> uint32 pool slot */
	att_slot *pool;
	uint32_t cap, used;     /* slots allocated, slots ever handed out */
	uint32_t free;          /* free list through next */
	uint32_t head, tail;    /* oldest and newest latest SYN */
	uint64_t window_us;
	att_close_fn on_close;
	att_os_fn os_of;
	void *arg;
	uint64_t syns, attempts;
} att_tracker;

int att_init(att_tracker *t, uint64_t window_us, att_close_fn on_close, att_os_fn os_of, void *arg);
void att_free(att_tracker *t);

/*
 * Adds one SYN. SYNs must come in time order (per source; a small disorder only splits an
 * attempt). Closes every attempt whose last SYN is older than the window before s->t_us.
 * Returns 0 or V6R_ENOMEM.
 */
int att_add(att_tracker *t, const ev_syn *s);

/* Closes the attempts idle since before now_us - window (time moving on without SYNs). */
void att_expire(att_tracker *t, uint64_t now_us);

/* Closes every open attempt (end of input). */
void att_flush(att_tracker *t);

/* Earliest first SYN among open attempts, or UINT64_MAX when none is open. */
uint64_t att_min_time(const att_tracker *t);

#endif
