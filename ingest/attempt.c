/* attempt.c: SYN -> connect() attempt grouping with a sliding window and a FIFO of SYN times. */
#include "attempt.h"

#include <stdlib.h>
#include <string.h>

#include "../zone/err.h"

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
	t->q_cap = 1024;
	t->q = malloc(t->q_cap * sizeof(*t->q));
	if (!t->q || ht_init(&t->open, 18, sizeof(att), 1024) != 0) {
		free(t->q);
		return V6R_ENOMEM;
	}
	return 0;
}

void att_free(att_tracker *t)
{
	ht_free(&t->open);
	free(t->q);
	t->q = NULL;
}

static int q_push(att_tracker *t, const uint8_t key[18], uint64_t when)
{
	if (t->q_len == t->q_cap) {
		size_t cap = t->q_cap * 2;
		struct att_q *q = malloc(cap * sizeof(*q));
		if (!q)
			return V6R_ENOMEM;
		for (size_t i = 0; i < t->q_len; i++)
			q[i] = t->q[(t->q_head + i) % t->q_cap];
		free(t->q);
		t->q = q;
		t->q_cap = cap;
		t->q_head = 0;
	}
	struct att_q *e = &t->q[(t->q_head + t->q_len++) % t->q_cap];
	memcpy(e->key, key, 18);
	e->t = when;
	return 0;
}

/* Closes the attempt of a queue entry when no later SYN extended it. */
static void close_entry(att_tracker *t, const struct att_q *e)
{
	att *a = ht_get(&t->open, e->key);
	if (!a || a->last_us != e->t)
		return;
	att done = *a;
	ht_del(&t->open, e->key);
	t->attempts++;
	t->on_close(&done, t->arg);
}

void att_expire(att_tracker *t, uint64_t now_us)
{
	while (t->q_len) {
		struct att_q *e = &t->q[t->q_head];
		if (e->t + t->window_us >= now_us)
			break;
		struct att_q copy = *e;
		t->q_head = (t->q_head + 1) % t->q_cap;
		t->q_len--;
		close_entry(t, &copy);
	}
}

int att_add(att_tracker *t, const ev_syn *s)
{
	uint8_t key[18];
	bool created;
	att_expire(t, s->t_us);
	make_key(key, s->src, s->sport);
	att *a = ht_put(&t->open, key, &created);
	if (!a)
		return V6R_ENOMEM;
	t->syns++;
	if (created) {
		memcpy(a->src, s->src, 16);
		memcpy(a->dst, s->dst, 16);
		a->sport = s->sport;
		a->dport = s->dport;
		a->v6 = s->v6;
		a->ttl = s->ttl;
		a->first_us = s->t_us;
		a->offset = s->offset;
		a->os = t->os_of ? t->os_of(s, t->arg) : 0;
	}
	a->syns++;
	if (s->t_us > a->last_us)
		a->last_us = s->t_us;
	return q_push(t, key, a->last_us);
}

void att_flush(att_tracker *t)
{
	att_expire(t, UINT64_MAX);
}

uint64_t att_min_offset(const att_tracker *t)
{
	uint64_t min = UINT64_MAX;
	size_t it = 0;
	const void *k;
	void *v;
	while (ht_next(&t->open, &it, &k, &v)) {
		const att *a = v;
		if (a->offset < min)
			min = a->offset;
	}
	return min;
}
