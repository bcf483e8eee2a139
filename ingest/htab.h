/* htab.h: an open-addressing hash table with fixed-size keys and inline values. */
#ifndef V6R_HTAB_H
#define V6R_HTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Linear probing with backward-shift deletion (no tombstones). Values live in the slots, so a
 * pointer from ht_get / ht_put is valid only until the next ht_put (which may grow the table) or
 * ht_del (which may move entries). Grows at 50% load (short probe runs over wide slots); never shrinks.
 */
typedef struct htab {
	uint8_t *slots;
	size_t cap;          /* power of two */
	size_t n;
	size_t ksize, vsize, stride;
	size_t voff;         /* offset of the value in a slot: after the flag and key, 8-aligned */
} htab;

int ht_init(htab *h, size_t ksize, size_t vsize, size_t cap_hint);
void ht_free(htab *h);

/* The value of key, or NULL. */
void *ht_get(const htab *h, const void *key);

/* The value of key, inserted zeroed when absent (*created says which); NULL when out of memory. */
void *ht_put(htab *h, const void *key, bool *created);

/* Starts loading the slot where key lives or would go (a hint: a lookup soon follows). */
void ht_prefetch(const htab *h, const void *key);

/* Removes key if present. */
void ht_del(htab *h, const void *key);

/* Whether an entry stays (ht_sweep). */
typedef bool (*ht_keep_fn)(const void *key, const void *val, void *arg);

/*
 * Deletes, in place, the entries for which keep() is false; returns how many. One pass over the
 * slots (an entry shifted back over the wrap-around may be shown to keep() twice).
 */
size_t ht_sweep(htab *h, ht_keep_fn keep, void *arg);

/* Iterates: start with *it = 0; returns false at the end. Do not put or delete while iterating. */
bool ht_next(const htab *h, size_t *it, const void **key, void **val);

#endif
