/* htab.c: open addressing, linear probing, backward-shift deletion. */
#include "htab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../zone/err.h"

/* Eight bytes at a time (keys are 4 to 18 bytes), each word multiplied in, then a final mix. */
static uint64_t hash(const uint8_t *k, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; k += 8, n -= 8) {
		memcpy(&w, k, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 29;
	}
	if (n) {
		w = 0;
		memcpy(&w, k, n);
		h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	return h;
}

/*
 * Slot arrays of 2 MiB and more are mapped and advised to use transparent huge pages: the tables
 * of a long run are probed at random, so with 4 KiB pages nearly every probe also missed the TLB
 * (and under a hypervisor a TLB miss walks two page tables), and every first touch of a page was
 * a fault. Smaller arrays come from calloc. Both arrive zeroed.
 */
#define HT_HUGE ((size_t)2 << 20)

static size_t slots_bytes(size_t cap, size_t stride)
{
	size_t n = cap * stride;
	return n >= HT_HUGE ? (n + HT_HUGE - 1) & ~(HT_HUGE - 1) : n;
}

static uint8_t *slots_alloc(size_t cap, size_t stride)
{
	size_t n = slots_bytes(cap, stride);
	if (n < HT_HUGE)
		return calloc(cap, stride);
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

static void slots_free(uint8_t *p, size_t cap, size_t stride)
{
	size_t n = slots_bytes(cap, stride);
	if (n < HT_HUGE)
		free(p);
	else if (p)
		munmap(p, n);
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
	h->slots = slots_alloc(cap, h->stride);
	return h->slots ? 0 : V6R_ENOMEM;
}

void ht_free(htab *h)
{
	slots_free(h->slots, h->cap, h->stride);
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
	g.slots = slots_alloc(g.cap, g.stride);
	if (!g.slots)
		return V6R_ENOMEM;
	for (size_t i = 0; i < h->cap; i++) {
		uint8_t *s = slot(h, i);
		if (s[0])
			memcpy(slot(&g, find(&g, s + 1)), s, h->stride);
	}
	g.n = h->n;
	slots_free(h->slots, h->cap, h->stride);
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

void ht_prefetch(const htab *h, const void *key)
{
	const uint8_t *s = slot(h, (size_t)hash(key, h->ksize) & (h->cap - 1));
	/* A read prefetch: the write-intent one (PREFETCHW) stalled the pipeline on the AMD VM where
	 * this was measured (10M SYNs: 3.3-3.7 s with it, 2.9-3.05 s without). */
	for (size_t o = 0; o < h->stride; o += 64)
		__builtin_prefetch(s + o, 0, 3);
}

/* Empties used slot i and shifts back the entries that probed past it. */
static void del_at(htab *h, size_t i)
{
	size_t mask = h->cap - 1;
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

void ht_del(htab *h, const void *key)
{
	size_t i = find(h, key);
	if (slot(h, i)[0])
		del_at(h, i);
}

size_t ht_sweep(htab *h, ht_keep_fn keep, void *arg)
{
	size_t dropped = 0;
	for (size_t i = 0; i < h->cap;) {
		uint8_t *s = slot(h, i);
		if (s[0] && !keep(s + 1, s + h->voff, arg)) {
			del_at(h, i);
			dropped++;
			continue;       /* an entry may have shifted into slot i */
		}
		i++;
	}
	return dropped;
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
