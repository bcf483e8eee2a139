/* htab.c: open addressing, linear probing, backward-shift deletion. */
#include "htab.h"

#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"

static uint64_t hash(const uint8_t *k, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;  /* FNV-1a, then a final mix */
	for (size_t i = 0; i < n; i++)
		h = (h ^ k[i]) * 0x100000001b3ull;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

static uint8_t *slot(const htab *h, size_t i)
{
	return h->slots + i * h->stride;
}

int ht_init(htab *h, size_t ksize, size_t vsize, size_t cap_hint)
{
	size_t cap = 16;
	while (cap < cap_hint * 2)
		cap *= 2;
	h->ksize = ksize;
	h->vsize = vsize;
	/* Slot: a used flag, the key, then the value at an 8-aligned offset (values hold u64s). */
	h->voff = (1 + ksize + 7) & ~(size_t)7;
	h->stride = (h->voff + vsize + 7) & ~(size_t)7;
	h->cap = cap;
	h->n = 0;
	h->slots = calloc(cap, h->stride);
	return h->slots ? 0 : V6R_ENOMEM;
}

void ht_free(htab *h)
{
	free(h->slots);
	h->slots = NULL;
	h->cap = h->n = 0;
}

/* Index of key's slot, or of the empty slot where it would go. */
static size_t find(const htab *h, const void *key)
{
	size_t mask = h->cap - 1, i = (size_t)hash(key, h->ksize) & mask;
	while (slot(h, i)[0] && memcmp(slot(h, i) + 1, key, h->ksize) != 0)
		i = (i + 1) & mask;
	return i;
}

void *ht_get(const htab *h, const void *key)
{
	uint8_t *s = slot(h, find(h, key));
	return s[0] ? s + h->voff : NULL;
}

static int grow(htab *h)
{
	htab g = *h;
	g.cap = h->cap * 2;
	g.n = 0;
	g.slots = calloc(g.cap, g.stride);
	if (!g.slots)
		return V6R_ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		uint8_t *s = slot(h, i);
		if (s[0])
			memcpy(slot(&g, find(&g, s + 1)), s, h->stride);
	}
	g.n = h->n;
	free(h->slots);
	*h = g;
	return 0;
}

void *ht_put(htab *h, const void *key, bool *created)
{
	if ((h->n + 1) * 2 > h->cap && grow(h) != 0)
		return NULL;
	uint8_t *s = slot(h, find(h, key));
	*created = !s[0];
	if (!s[0]) {
		s[0] = 1;
		memcpy(s + 1, key, h->ksize);
		memset(s + h->voff, 0, h->vsize);
		h->n++;
	}
	return s + h->voff;
}

void ht_del(htab *h, const void *key)
{
	size_t mask = h->cap - 1, i = find(h, key);
	if (!slot(h, i)[0])
		return;
	slot(h, i)[0] = 0;
	h->n--;
	/* Shift back the entries that probed past the hole. */
	for (size_t j = (i + 1) & mask; slot(h, j)[0]; j = (j + 1) & mask) {
		size_t home = (size_t)hash(slot(h, j) + 1, h->ksize) & mask;
		bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
		if (movable) {
			memcpy(slot(h, i), slot(h, j), h->stride);
			slot(h, j)[0] = 0;
			i = j;
		}
	}
}

bool ht_next(const htab *h, size_t *it, const void **key, void **val)
{
	while (*it < h->cap) {
		uint8_t *s = slot(h, (*it)++);
		if (s[0]) {
			*key = s + 1;
			*val = s + h->voff;
			return true;
		}
	}
	return false;
}
