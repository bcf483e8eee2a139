/* attempt.c: SYN -> connect() attempt grouping with a sliding window over a pool of open attempts. */
#include "attempt.h"

#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"

/* A SYN crafted by a scanner rather than sent by an OS's connect(). */
static bool raw_syn(const ev_syn *s)
{
	for (unsigned i = 0; i < s->n_opts && i < EV_MAX_OPTS; i++)
		if (s->opts[i] == EV_OPT_SOK || s->opts[i] == EV_OPT_WS || s->opts[i] == EV_OPT_TS)
			return false;
	return true;
}

static void make_key(uint8_t key[18], const uint8_t src[16], uint16_t sport)
{
	memcpy(key, src, 16);
	key[16] = (uint8_t)(sport >> 8);
	key[17] = (uint8_t)sport;
}

int att_init(att_tracker *t, uint64_t window_us, att_close_fn on_close, att_os_fn os_of, void *arg)
{
	memset(t, 0, sizeof(*t));
	t->window_us = window_us;
	t->on_close = on_close;
	t->os_of = os_of;
	t->arg = arg;
	t->free = t->head = t->tail = ATT_NONE;
	t->cap = 1024;
	t->pool = malloc(t->cap * sizeof(*t->pool));
	if (!t->pool || ht_init(&t->open, 18, sizeof(uint32_t), 1024) != 0) {
		free(t->pool);
		t->pool = NULL;
		return V6R_ENOMEM;
	}
	return 0;
}

void att_free(att_tracker *t)
{
	ht_free(&t->open);
	free(t->pool);
	t->pool = NULL;
}

static void unlink_slot(att_tracker *t, uint32_t i)
{
	att_slot *s = &t->pool[i];
	if (s->prev != ATT_NONE)
		t->pool[s->prev].next = s->next;
	else
		t->head = s->next;
	if (s->next != ATT_NONE)
		t->pool[s->next].prev = s->prev;
	else
		t->tail = s->prev;
}

static void append_slot(att_tracker *t, uint32_t i)
{
	att_slot *s = &t->pool[i];
	s->prev = t->tail;
	s->next = ATT_NONE;
	if (t->tail != ATT_NONE)
		t->pool[t->tail].next = i;
	else
		t->head = i;
	t->tail = i;
}

/* A free pool slot, or ATT_NONE when out of memory. */
static uint32_t take_slot(att_tracker *t)
{
	if (t->free != ATT_NONE) {
		uint32_t i = t->free;
		t->free = t->pool[i].next;
		return i;
	}
	if (t->used == t->cap) {
		if (t->cap >= ATT_NONE / 2)
			return ATT_NONE;
		att_slot *np = realloc(t->pool, (size_t)t->cap * 2 * sizeof(*np));
		if (!np)
			return ATT_NONE;
		t->pool = np;
		t->cap *= 2;
	}
	return t->used++;
}

/* Closes the attempt in slot i: it leaves the list, the table and the pool. */
static void close_slot(att_tracker *t, uint32_t i)
{
	att done = t->pool[i].a;
	unlink_slot(t, i);
	ht_del(&t->open, t->pool[i].key);
	t->pool[i].next = t->free;
	t->free = i;
	t->attempts++;
	t->on_close(&done, t->arg);
}

void att_expire(att_tracker *t, uint64_t now_us)
{
	while (t->head != ATT_NONE && t->pool[t->head].a.last_us + t->window_us < now_us)
		close_slot(t, t->head);
}

int att_add(att_tracker *t, const ev_syn *s)
{
	uint8_t key[18];
	bool created;
	att_expire(t, s->t_us);
	make_key(key, s->src, s->sport);
	uint32_t *ref = ht_put(&t->open, key, &created);
	if (!ref)
		return V6R_ENOMEM;
	t->syns++;
	att *a;
	if (created) {
		uint32_t i = take_slot(t);
		if (i == ATT_NONE) {
			ht_del(&t->open, key);
			return V6R_ENOMEM;
		}
		*ref = i;
		att_slot *sl = &t->pool[i];
		memcpy(sl->key, key, 18);
		a = &sl->a;
		memset(a, 0, sizeof(*a));
		memcpy(a->src, s->src, 16);
		memcpy(a->dst, s->dst, 16);
		a->sport = s->sport;
		a->dport = s->dport;
		a->v6 = s->v6;
		a->ttl = s->ttl;
		a->first_us = s->t_us;
		a->offset = s->offset;
		a->os = t->os_of ? t->os_of(s, t->arg) : 0;
		a->raw = raw_syn(s);
		append_slot(t, i);
	} else {
		a = &t->pool[*ref].a;
		unlink_slot(t, *ref);
		append_slot(t, *ref);
	}
	a->syns++;
	if (s->t_us > a->last_us)
		a->last_us = s->t_us;
	return 0;
}

void att_flush(att_tracker *t)
{
	while (t->head != ATT_NONE)
		close_slot(t, t->head);
}

uint64_t att_min_time(const att_tracker *t)
{
	uint64_t min = UINT64_MAX;
	for (uint32_t i = t->head; i != ATT_NONE; i = t->pool[i].next)
		if (t->pool[i].a.first_us < min)
			min = t->pool[i].a.first_us;
	return min;
}
