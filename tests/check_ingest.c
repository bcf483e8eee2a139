/* check_ingest.c: the ingest core: hash table, address types, attempts, association, aggregation. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ingest/addrtype.h"
#include "../ingest/aggr.h"
#include "../ingest/assoc.h"
#include "../ingest/attempt.h"
#include "../ingest/enrich.h"
#include "../ingest/htab.h"
#include "../zone/addr.h"
#include "../zone/err.h"
#include "../zone/evid.h"
#include "../zone/store.h"
#include "suites.h"

#define SEC 1000000ull
#define T0 (1700000000ull * SEC)

static void parse(const char *s, uint8_t a[16])
{
	addr_pfx p;
	ck_assert_msg(addr_parse(s, strlen(s), ADDR_NO_LEN, &p) == 0, "bad address %s", s);
	memcpy(a, p.a, 16);
}

/* ---- htab against a reference array, random operations ---- */

static bool keep_recent(const void *key, const void *val, void *arg)
{
	(void)key;
	return *(const uint32_t *)val >= *(const uint32_t *)arg;
}

START_TEST(htab_random)
{
	enum { KEYS = 3000 };
	static uint32_t ref[KEYS];
	static bool present[KEYS];
	htab h;
	ck_assert_int_eq(ht_init(&h, 4, 4, 4), 0);
	memset(present, 0, sizeof(present));
	srand(7);
	for (int op = 0; op < 60000; op++) {
		uint32_t k = (uint32_t)rand() % KEYS;
		if (rand() % 3 == 0) {
			ht_del(&h, &k);
			present[k] = false;
		} else {
			bool created;
			uint32_t *v = ht_put(&h, &k, &created);
			ck_assert_ptr_nonnull(v);
			ck_assert_int_eq(created, !present[k]);
			*v = ref[k] = (uint32_t)op;
			present[k] = true;
		}
	}
	size_t n = 0;
	for (uint32_t k = 0; k < KEYS; k++) {
		uint32_t *v = ht_get(&h, &k);
		ck_assert_int_eq(v != NULL, present[k]);
		if (v) {
			ck_assert_uint_eq(*v, ref[k]);
			n++;
		}
	}
	ck_assert_uint_eq(n, h.n);
	size_t it = 0, seen = 0;
	const void *key;
	void *val;
	while (ht_next(&h, &it, &key, &val))
		seen++;
	ck_assert_uint_eq(seen, n);
	/* Sweeping in place: exactly the entries keep() refuses go, the others stay findable. */
	uint32_t cut = 58000;   /* the entries not written in the last 2000 operations */
	size_t older = 0;
	for (uint32_t k = 0; k < KEYS; k++)
		older += present[k] && ref[k] < cut;
	ck_assert_uint_gt(older, 100);
	ck_assert_uint_lt(older, n - 100);
	ck_assert_uint_eq(ht_sweep(&h, keep_recent, &cut), older);
	ck_assert_uint_eq(h.n, n - older);
	for (uint32_t k = 0; k < KEYS; k++) {
		uint32_t *v = ht_get(&h, &k);
		ck_assert_int_eq(v != NULL, present[k] && ref[k] >= cut);
		if (v)
			ck_assert_uint_eq(*v, ref[k]);
	}
	ht_free(&h);
}
END_TEST

/* ---- address types ---- */

static const struct at_case {
	const char *addr;
	unsigned kind;
	const char *v4;
} at_cases[] = {
	{ "2002:c000:20b::1", AT_6TO4, "192.0.2.11" },
	{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", AT_TEREDO, "192.0.2.45" },
	{ "2001:db8::200:5efe:c000:201", AT_ISATAP, "192.0.2.1" },
	{ "2001:db8::5efe:c000:201", AT_ISATAP, "192.0.2.1" },
	{ "64:ff9b::c000:221", AT_NAT64, "192.0.2.33" },
	{ "2001:db8:1:2::c000:20a", AT_LOW32, "192.0.2.10" },
	{ "2001:db8::211:22ff:fe33:4455", AT_EUI64, NULL },
	{ "2001:db8::1", AT_NATIVE, NULL },                   /* ::1 IID is no IPv4 */
	{ "2001:db8::7f00:1", AT_NATIVE, NULL },              /* 127/8 is not plausible */
	{ "2001:db8:1:2:a1b2:c3d4:e5f6:1234", AT_NATIVE, NULL },
	{ "::ffff:192.0.2.1", AT_MAPPED, "192.0.2.1" },
};

START_TEST(addr_types)
{
	const struct at_case *t = &at_cases[_i];
	uint8_t a[16];
	at_info ai;
	parse(t->addr, a);
	at_classify(a, &ai);
	ck_assert_msg(ai.kind == t->kind, "%s: kind %s, want %s", t->addr, at_kind_name(ai.kind),
	              at_kind_name(t->kind));
	ck_assert_int_eq(ai.has_v4, t->v4 != NULL);
	if (t->v4) {
		uint8_t want[16];
		parse(t->v4, want);
		ck_assert_msg(memcmp(ai.v4, want + 12, 4) == 0, "%s: wrong IPv4", t->addr);
	}
}
END_TEST

/* ---- attempts ---- */

static att closed[16];
static unsigned n_closed;

static void collect(const att *a, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(n_closed, 16);
	closed[n_closed++] = *a;
}

static ev_syn syn(const char *src, uint16_t port, uint64_t t)
{
	ev_syn s = { .t_us = t, .sport = port, .dport = 25, .ttl = 117 };
	parse(src, s.src);
	s.v6 = strchr(src, ':') != NULL;
	return s;
}

START_TEST(attempts_window)
{
	att_tracker t;
	n_closed = 0;
	ck_assert_int_eq(att_init(&t, 25 * SEC, collect, NULL, NULL), 0);
	/* Windows: three SYNs on one port after RSTs -> one attempt. */
	ev_syn s = syn("192.0.2.10", 50000, T0);
	ck_assert_int_eq(att_add(&t, &s), 0);
	s.t_us = T0 + 3 * SEC;
	ck_assert_int_eq(att_add(&t, &s), 0);
	s.t_us = T0 + 9 * SEC;
	ck_assert_int_eq(att_add(&t, &s), 0);
	/* The window slides from the last SYN: +30 s is still within 25 s of +9 s. */
	s.t_us = T0 + 30 * SEC;
	ck_assert_int_eq(att_add(&t, &s), 0);
	ck_assert_uint_eq(n_closed, 0);
	/* Same port 60 s later: a new attempt; the old one closes. */
	s.t_us = T0 + 60 * SEC;
	ck_assert_int_eq(att_add(&t, &s), 0);
	ck_assert_uint_eq(n_closed, 1);
	ck_assert_uint_eq(closed[0].syns, 4);
	ck_assert_uint_eq(closed[0].first_us, T0);
	ck_assert_uint_eq(closed[0].last_us, T0 + 30 * SEC);
	/* Another port is another attempt. */
	ev_syn o = syn("2001:db8::1", 50001, T0 + 61 * SEC);
	ck_assert_int_eq(att_add(&t, &o), 0);
	att_flush(&t);
	ck_assert_uint_eq(n_closed, 3);
	ck_assert(closed[2].v6);
	ck_assert_uint_eq(t.attempts, 3);
	ck_assert_uint_eq(t.syns, 6);
	att_free(&t);
}
END_TEST

/* Many sources and ports with retries: every SYN is counted in exactly one attempt, attempts
 * close in the order of their last SYN, and the open ones give the earliest first SYN. */
static uint64_t pool_syns, pool_attempts, pool_last_close;

static void pool_collect(const att *a, void *arg)
{
	(void)arg;
	pool_syns += a->syns;
	pool_attempts++;
	ck_assert_uint_ge(a->last_us, pool_last_close);   /* closing order follows the last SYN */
	pool_last_close = a->last_us;
	ck_assert_uint_le(a->first_us, a->last_us);
}

START_TEST(attempts_pool)
{
	att_tracker t;
	pool_syns = pool_attempts = pool_last_close = 0;
	ck_assert_int_eq(att_init(&t, 25 * SEC, pool_collect, NULL, NULL), 0);
	uint64_t seed = 7, n = 20000;
	for (uint64_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		char src[40];
		snprintf(src, sizeof(src), "2001:db8:%x::%x", (unsigned)(seed >> 40) % 300, (unsigned)(seed >> 20) % 5);
		ev_syn s = syn(src, (uint16_t)(40000 + (seed >> 33) % 4), T0 + i * 200000);
		ck_assert_int_eq(att_add(&t, &s), 0);
		if (i == n / 2) {
			/* The earliest open attempt started before now (a retried one may be older than
			 * the window: it slides with each SYN). */
			uint64_t mt = att_min_time(&t);
			ck_assert_uint_le(mt, s.t_us);
			ck_assert_uint_ge(mt, T0);
		}
	}
	att_flush(&t);
	ck_assert_uint_eq(pool_syns, n);
	ck_assert_uint_eq(t.syns, n);
	ck_assert_uint_eq(t.attempts, pool_attempts);
	ck_assert_uint_gt(pool_attempts, 300);
	ck_assert_uint_lt(pool_attempts, n);      /* retries from one source and port were merged */
	ck_assert_uint_eq(att_min_time(&t), UINT64_MAX);
	att_free(&t);
}
END_TEST

START_TEST(attempts_raw)
{
	/* zmap (MSS only) and masscan (no options) craft their SYNs; an OS stack adds SACK, window
	 * scale or timestamps. */
	att_tracker t;
	n_closed = 0;
	ck_assert_int_eq(att_init(&t, 25 * SEC, collect, NULL, NULL), 0);
	ev_syn zmap = syn("2001:db8:5c::1", 40000, T0);
	zmap.n_opts = 1;
	zmap.opts[0] = EV_OPT_MSS;
	ev_syn masscan = syn("2001:db8:5c::2", 40000, T0);
	ev_syn linux = syn("2001:db8:5c::3", 40000, T0);
	const uint8_t lo[] = { EV_OPT_MSS, EV_OPT_SOK, EV_OPT_TS, EV_OPT_NOP, EV_OPT_WS };
	linux.n_opts = sizeof(lo);
	memcpy(linux.opts, lo, sizeof(lo));
	ck_assert_int_eq(att_add(&t, &zmap), 0);
	ck_assert_int_eq(att_add(&t, &masscan), 0);
	ck_assert_int_eq(att_add(&t, &linux), 0);
	att_flush(&t);
	ck_assert_uint_eq(n_closed, 3);
	for (unsigned i = 0; i < 3; i++)
		ck_assert_int_eq(closed[i].raw, closed[i].src[15] != 3);
	att_free(&t);
}
END_TEST

/* ---- association scenarios ---- */

static as_verdict verdicts[32];
static unsigned n_verdicts;

static void on_verdict(const as_verdict *v, void *arg)
{
	(void)arg;
	ck_assert_uint_lt(n_verdicts, 32);
	verdicts[n_verdicts++] = *v;
}

static att mk_att(const char *src, uint16_t port, uint64_t t, uint8_t os)
{
	att a = { .sport = port, .dport = 25, .first_us = t, .last_us = t, .syns = 1, .os = os };
	parse(src, a.src);
	a.v6 = strchr(src, ':') != NULL;
	return a;
}

static ev_reject mk_rej(const char *addr, uint16_t port, uint64_t t)
{
	ev_reject r = { .t_us = t, .port = port, .mta = EV_MTA_POSTFIX };
	parse(addr, r.addr);
	strcpy(r.zone, "zen.example");
	return r;
}

static as_ctx as;

static void as_start(void)
{
	as_cfg c;
	as_cfg_defaults(&c);
	n_verdicts = 0;
	ck_assert_int_eq(as_init(&as, &c, 25 * SEC, on_verdict, NULL), 0);
}

static void feed_rej(const char *addr, uint16_t port, uint64_t t)
{
	ev_reject r = mk_rej(addr, port, t);
	ck_assert_int_eq(as_reject(&as, &r), 0);
	as_advance(&as, t);
}

static void feed_att(const char *src, uint16_t port, uint64_t t, uint8_t os)
{
	att a = mk_att(src, port, t, os);
	ck_assert_int_eq(as_attempt(&as, &a), 0);
	as_advance(&as, t);
}

static const as_verdict *only_verdict(void)
{
	as_flush(&as);
	ck_assert_uint_eq(n_verdicts, 1);
	return &verdicts[0];
}

START_TEST(assoc_6to4)
{
	as_start();
	feed_rej("192.0.2.11", 0, T0);
	feed_att("2002:c000:20b::1", 40000, T0 + 3600 * SEC, 0);   /* an hour later, no pair */
	const as_verdict *v = only_verdict();
	ck_assert(v->offender);
	ck_assert_uint_eq(v->score, 100);
	ck_assert(v->features & EVID_F_6TO4);
	as_free(&as);
}
END_TEST

START_TEST(assoc_6to4_not_rejected)
{
	as_start();
	feed_rej("192.0.2.99", 0, T0);
	feed_att("2002:c000:20b::1", 40000, T0 + 10 * SEC, 0);
	ck_assert(!only_verdict()->offender);
	as_free(&as);
}
END_TEST

START_TEST(assoc_chain_and_pair)
{
	/* Rejected at production, then IPv6 and IPv4 at the sensor seconds later (Linux pools). */
	as_start();
	feed_rej("198.51.100.7", 41000, T0);
	feed_att("2001:db8:77:1::abcd", 52000, T0 + 2 * SEC, EVID_OS_LINUX);
	feed_att("198.51.100.7", 41007, T0 + 3 * SEC, EVID_OS_LINUX);
	const as_verdict *v = only_verdict();
	ck_assert(v->offender);
	ck_assert(v->features & EVID_F_CHAIN);
	ck_assert(v->features & EVID_F_PAIR);
	ck_assert(v->features & EVID_F_ORDER);
	ck_assert(v->features & EVID_F_OS);
	ck_assert_uint_eq(v->v4[3], 7);
	as_free(&as);
}
END_TEST

START_TEST(assoc_postscreen_dups)
{
	/* postscreen logs one client three times (dnsblog, DNSBL rank with port, reject): one event. */
	as_start();
	feed_rej("198.51.100.20", 0, T0);
	feed_rej("198.51.100.20", 50010, T0 + 1 * SEC);
	feed_rej("198.51.100.20", 0, T0 + 1 * SEC);
	uint32_t n = 0;
	ck_assert(as_rejected(&as, (const uint8_t[]){ 198, 51, 100, 20 }, T0, &n));
	ck_assert_uint_eq(n, 1);
	/* ...and the port logged by the second line still ties a Windows pool sequence. */
	feed_att("2001:db8:20:1::5", 50011, T0 + 3 * SEC, EVID_OS_WINDOWS);
	const as_verdict *v = only_verdict();
	ck_assert(v->offender);
	ck_assert(v->features & EVID_F_PORTSEQ);
	as_free(&as);
}
END_TEST

START_TEST(assoc_windows_ports)
{
	/* Windows shares one pool: production 50010, sensor IPv6 50011, sensor IPv4 50012. */
	as_start();
	feed_rej("198.51.100.8", 50010, T0);
	feed_att("2001:db8:88:1::5", 50011, T0 + 1 * SEC, EVID_OS_WINDOWS);
	feed_att("198.51.100.8", 50012, T0 + 2 * SEC, EVID_OS_WINDOWS);
	const as_verdict *v = only_verdict();
	ck_assert(v->offender);
	ck_assert(v->features & EVID_F_PORTSEQ);
	as_free(&as);
}
END_TEST

START_TEST(assoc_pair_only)
{
	/* A pair at the sensor, the IPv4 rejected a day ago: no chain, not enough. */
	as_start();
	feed_rej("198.51.100.9", 0, T0);
	feed_att("2001:db8:99:1::5", 40000, T0 + 20000 * SEC, 0);
	feed_att("198.51.100.9", 33000, T0 + 20001 * SEC, 0);
	const as_verdict *v = only_verdict();
	ck_assert(!v->offender);
	ck_assert_uint_lt(v->score, 60);
	as_free(&as);
}
END_TEST

START_TEST(assoc_os_conflict)
{
	as_start();
	feed_rej("198.51.100.10", 0, T0);
	feed_att("2001:db8:aa:1::5", 40000, T0 + 1 * SEC, EVID_OS_WINDOWS);
	feed_att("198.51.100.10", 33000, T0 + 2 * SEC, EVID_OS_LINUX);
	ck_assert(!only_verdict()->offender);
	as_free(&as);
}
END_TEST

START_TEST(assoc_legit_pair)
{
	/* Primary MX down: a legitimate sender tries the sensor over both families; no rejection. */
	as_start();
	feed_att("2001:db8:bb:1::5", 40000, T0, EVID_OS_LINUX);
	feed_att("198.51.100.11", 33000, T0 + 1 * SEC, EVID_OS_LINUX);
	const as_verdict *v = only_verdict();
	ck_assert(!v->offender);
	ck_assert(v->legit);
	as_free(&as);
}
END_TEST

START_TEST(assoc_nat)
{
	/* Three /64s tied by timing alone to one rejected IPv4: the third is refused as shared. */
	as_start();
	const char *srcs[] = { "2001:db8:c1:1::5", "2001:db8:c2:1::5", "2001:db8:c3:1::5" };
	for (int i = 0; i < 3; i++) {
		uint64_t t = T0 + (uint64_t)i * 1000 * SEC;
		feed_rej("198.51.100.12", 0, t);
		feed_att(srcs[i], 40000, t + 1 * SEC, 0);
		feed_att("198.51.100.12", 30000 + i * 1000, t + 2 * SEC, 0);
	}
	as_flush(&as);
	/* The third tie shows X is shared: the earlier timing-only ties are revoked, then the third
	 * attempt is refused. */
	ck_assert_uint_eq(n_verdicts, 4);
	ck_assert(verdicts[0].offender);
	ck_assert(verdicts[1].offender);
	ck_assert(verdicts[2].revoke);
	ck_assert_uint_eq(verdicts[2].v4[3], 12);
	ck_assert(!verdicts[3].offender);
	ck_assert(verdicts[3].shared);
	as_free(&as);
}
END_TEST

START_TEST(assoc_raw_ignored)
{
	/* A scanner's crafted SYN right after a rejection and beside X's attempt ties nothing, and
	 * a crafted IPv4 SYN pairs with nobody. */
	as_start();
	feed_rej("198.51.100.80", 41000, T0);
	att a = mk_att("2001:db8:80:1::5", 52000, T0 + 2 * SEC, EVID_OS_LINUX);
	a.raw = true;
	ck_assert_int_eq(as_attempt(&as, &a), 0);
	feed_att("198.51.100.80", 41007, T0 + 3 * SEC, EVID_OS_LINUX);
	const as_verdict *v = only_verdict();
	ck_assert(!v->offender);
	ck_assert_uint_eq(v->score, 0);
	as_free(&as);
	as_start();
	feed_att("2001:db8:81:1::5", 52000, T0, EVID_OS_LINUX);
	att b = mk_att("198.51.100.81", 41007, T0 + 1 * SEC, EVID_OS_LINUX);
	b.raw = true;
	ck_assert_int_eq(as_attempt(&as, &b), 0);
	v = only_verdict();
	ck_assert(!(v->features & EVID_F_PAIR));
	as_free(&as);
}
END_TEST

static bool quiet_2a01(const uint8_t src[16], void *arg)
{
	(void)arg;
	return src[0] == 0x2a && src[1] == 0x01;
}

START_TEST(assoc_quiet_source)
{
	/* A flooding MTA (quiet: never listed) tries the sensor just before X's fallback: it does
	 * not take the pair from the host that made it. Without the hook it does. */
	for (int hook = 0; hook < 2; hook++) {
		as_start();
		if (hook)
			as.quiet = quiet_2a01;
		feed_rej("198.51.100.90", 41000, T0);
		feed_att("2001:db8:90:1::5", 52000, T0 + 2 * SEC, EVID_OS_LINUX);
		feed_att("2a01:111:f400::25", 50000, T0 + 3 * SEC, EVID_OS_LINUX);
		feed_att("198.51.100.90", 41007, T0 + 3 * SEC, EVID_OS_LINUX);
		as_flush(&as);
		ck_assert_uint_eq(n_verdicts, 2);
		ck_assert_int_eq(!!(verdicts[0].features & EVID_F_PAIR), hook);
		as_free(&as);
	}
}
END_TEST

START_TEST(assoc_closest_pair)
{
	/* Two sources' IPv6 attempts, one IPv4 fallback between them, nearer the second: the
	 * fallback pairs with the second only. */
	as_start();
	feed_rej("198.51.100.30", 0, T0 - 3600 * SEC);
	feed_att("2001:db8:30:1::a", 40000, T0, 0);
	feed_att("2001:db8:31:1::b", 41000, T0 + 10 * SEC, 0);
	feed_att("198.51.100.30", 33000, T0 + 8 * SEC, 0);
	as_flush(&as);
	ck_assert_uint_eq(n_verdicts, 2);
	ck_assert_uint_eq(verdicts[0].score, 0);           /* 2001:db8:30:1::a: nothing tied */
	ck_assert(verdicts[1].features & EVID_F_PAIR);       /* 2001:db8:31:1::b: the pair */
	ck_assert_uint_eq(verdicts[1].v4[3], 30);
	as_free(&as);
}
END_TEST

START_TEST(assoc_clean_flag)
{
	/* Paired (within 5 s, in order) with an IPv4 nobody rejected: a clean pairing. */
	as_start();
	feed_att("2001:db8:40:1::5", 40000, T0, EVID_OS_LINUX);
	feed_att("198.51.100.40", 33000, T0 + 1 * SEC, EVID_OS_LINUX);
	const as_verdict *v = only_verdict();
	ck_assert(v->clean);
	ck_assert(v->legit);
	as_free(&as);
	/* A rejection shortly before gives a chain, which is no clean pairing. */
	as_start();
	feed_rej("198.51.100.41", 0, T0);
	feed_att("2001:db8:41:1::5", 40000, T0 + 2 * SEC, EVID_OS_LINUX);
	feed_att("198.51.100.41", 33000, T0 + 3 * SEC, EVID_OS_LINUX);
	v = only_verdict();
	ck_assert(v->offender);
	ck_assert(!v->clean);
	as_free(&as);
}
END_TEST

START_TEST(assoc_nat_lan)
{
	/*
	 * One /64 behind one rejected IPv4 X: a member tied to X with a port sequence (no chain),
	 * then another host of the /64 (stable EUI-64) pairing with X: X is shared, the member's tie
	 * is revoked and later ones are refused. The host whose sensor attempts follow X's
	 * production rejections (a chain) three times is X's dominant sender: convicted.
	 */
	as_start();
	feed_rej("198.51.100.50", 0, T0 - 7200 * SEC);
	feed_att("2001:db8:50:1:1111:2222:3333:4444", 50011, T0, EVID_OS_WINDOWS);
	feed_att("198.51.100.50", 50012, T0 + 1 * SEC, EVID_OS_WINDOWS);
	feed_att("2001:db8:50:1:211:22ff:fe33:4455", 40000, T0 + 200 * SEC, 0);
	feed_att("198.51.100.50", 33000, T0 + 201 * SEC, 0);
	feed_att("2001:db8:50:1:1111:2222:3333:4444", 50031, T0 + 400 * SEC, EVID_OS_WINDOWS);
	feed_att("198.51.100.50", 50032, T0 + 401 * SEC, EVID_OS_WINDOWS);
	for (int i = 0; i < 3; i++) {
		uint64_t t = T0 + 1000 * SEC + (uint64_t)i * 600 * SEC;
		feed_rej("198.51.100.50", 0, t);
		feed_att("2001:db8:50:1:aaaa:bbbb:cccc:dddd", (uint16_t)(45000 + i), t + 2 * SEC, 0);
		feed_att("198.51.100.50", (uint16_t)(35000 + i), t + 3 * SEC, 0);
	}
	as_flush(&as);
	unsigned i = 0, revokes = 0, bot = 0;
	ck_assert(verdicts[i].offender);                     /* the member, before X looks shared */
	for (i = 1; i < n_verdicts; i++) {
		const as_verdict *v = &verdicts[i];
		if (v->revoke) {
			revokes++;
			continue;
		}
		if (v->a.src[8] == 0x11)                     /* the member again: refused */
			ck_assert(!v->offender && v->shared);
		if (v->a.src[8] == 0xaa) {
			bot++;
			ck_assert(v->features & EVID_F_CHAIN);
		}
	}
	ck_assert_uint_ge(revokes, 1);
	ck_assert_uint_eq(bot, 3);
	ck_assert(verdicts[n_verdicts - 1].offender);    /* the third chained tie: dominant */
	as_free(&as);
}
END_TEST

START_TEST(assoc_enrich)
{
	/* A pair within 5 s in order, X rejected hours ago (no chain): 50, not enough. The same
	 * origin AS makes 60; the same PTR name 70 more. */
	static const char asn[] = "2001:db8:60::\t48\t64500\n198.51.100.0\t24\t64500\n";
	static const char ptr[] = "2001:db8:60:1::5 mail.example.org\n198.51.100.60 mail.example.org.\n";
	char err[256];
	for (int mode = 0; mode < 3; mode++) {
		en_ctx *en = NULL;
		ck_assert_int_eq(en_new(&en), 0);
		if (mode >= 1)
			ck_assert_int_eq(en_asn_load_mem(en, asn, strlen(asn), "asn", err, sizeof(err)), 0);
		if (mode >= 2)
			ck_assert_int_eq(en_ptr_load_mem(en, ptr, strlen(ptr), "ptr", err, sizeof(err)), 0);
		as_start();
		as.en = en;
		feed_rej("198.51.100.60", 0, T0 - 7200 * SEC);
		feed_att("2001:db8:60:1::5", 40000, T0, 0);
		feed_att("198.51.100.60", 33000, T0 + 1 * SEC, 0);
		const as_verdict *v = only_verdict();
		ck_assert_uint_eq(v->score, 50 + 10 * (unsigned)mode + (mode == 2 ? 10 : 0));
		ck_assert_int_eq(v->offender, mode >= 1);
		ck_assert_int_eq(!!(v->features & EVID_F_ASN), mode >= 1);
		ck_assert_int_eq(!!(v->features & EVID_F_PTR), mode == 2);
		as_free(&as);
		en_free(en);
	}
}
END_TEST

/* Records the rejection index changes as as_rej_dirty gives them. */
static unsigned rej_puts, rej_dels;

static int count_rej(const uint8_t v4[4], const as_rej_rec *rec, void *arg)
{
	(void)v4;
	(void)arg;
	*(rec ? &rej_puts : &rej_dels) += 1;
	return 0;
}

START_TEST(assoc_reject_window)
{
	/* A rejection is remembered for the reject window, then forgotten, and the store is told. */
	as_start();
	rej_puts = rej_dels = 0;
	feed_rej("198.51.100.60", 0, T0);
	ck_assert_int_eq(as_rej_dirty(&as, count_rej, NULL), 0);
	ck_assert_uint_eq(rej_puts, 1);
	as_rej_clean(&as);
	as_advance(&as, T0 + 3600 * SEC);
	ck_assert(as_rejected(&as, (const uint8_t[]){ 198, 51, 100, 60 }, T0 + 3600 * SEC, NULL));
	rej_puts = 0;
	ck_assert_int_eq(as_rej_dirty(&as, count_rej, NULL), 0);
	ck_assert_uint_eq(rej_puts + rej_dels, 0);         /* nothing changed */
	as_advance(&as, T0 + 2 * 86400 * SEC);
	ck_assert(!as_rejected(&as, (const uint8_t[]){ 198, 51, 100, 60 }, T0 + 2 * 86400 * SEC, NULL));
	ck_assert_uint_eq(as.rej.n, 0);
	ck_assert_int_eq(as_rej_dirty(&as, count_rej, NULL), 0);
	ck_assert_uint_eq(rej_dels, 1);
	as_rej_clean(&as);
	as_free(&as);
}
END_TEST

/* ---- aggregation and commit, on a real store ---- */

static char dir[64];
static store *st;

static void store_setup(void)
{
	strcpy(dir, "/tmp/v6rep-ing-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(store_open(&st, dir, 0, 0), 0);
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void store_teardown(void)
{
	store_close(st);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static as_verdict offender(const char *src, uint64_t t, unsigned kind)
{
	as_verdict v = { .offender = true, .kind = (uint8_t)kind, .score = 80,
	                 .features = EVID_F_CHAIN | EVID_F_PAIR, .rejects = 2 };
	v.a = mk_att(src, 40000, t, EVID_OS_LINUX);
	v.v4[0] = 198; v.v4[1] = 51; v.v4[2] = 100; v.v4[3] = 7;
	return v;
}

static ag_ctx ag;

static int write_fn(store_txn *t, void *arg)
{
	return ag_write(arg, t);
}

static void ag_commit(uint64_t now)
{
	ag.now = now;
	ck_assert_int_eq(store_write(st, write_fn, &ag), 0);
	ag_committed(&ag);
}

static int lookup(const char *addr, store_entry *e)
{
	store_reader *r;
	addr_pfx p;
	bool found;
	ck_assert_int_eq(store_reader_new(st, &r), 0);
	ck_assert_int_eq(addr_parse(addr, strlen(addr), ADDR_NO_LEN, &p), 0);
	ck_assert_int_eq(store_reader_begin(r), 0);
	int rc = store_lpm(r, p.a, 0, 128, (uint64_t)time(NULL), e);
	found = rc == 0;
	store_reader_end(r);
	store_reader_free(r);
	return found && e->kind == STORE_LISTING ? e->pfx.len : -1;
}

static void ag_start(void)
{
	ag_cfg c;
	ag_cfg_defaults(&c);
	ck_assert_int_eq(ag_init(&ag, &c, st, true), 0);
}

START_TEST(aggr_prefixes)
{
	uint64_t now = (uint64_t)time(NULL), t = (now - 3600) * SEC;
	store_entry e;
	ag_start();
	as_verdict v1 = offender("2001:db8:1:2:a1b2:c3d4:e5f6:1", t, AT_NATIVE);
	as_verdict v2 = offender("2002:c000:20b::1", t, AT_6TO4);
	as_verdict v3 = offender("2001:0:4136:e378:8000:63bf:3fff:fdd2", t, AT_TEREDO);
	ag_verdict(&ag, &v1);
	ag_verdict(&ag, &v2);
	ag_verdict(&ag, &v3);
	ag_commit(now);
	ck_assert_uint_eq(ag.listed, 3);
	ck_assert_int_eq(lookup("2001:db8:1:2::1", &e), 64);
	ck_assert_uint_eq(e.origin, STORE_ORIGIN_SENSOR);
	ck_assert_uint_eq(e.expires, t / SEC + 30 * 86400);
	ck_assert_msg(strstr(e.reason, "198.51.100.7") != NULL, "%.*s", (int)e.reason_len, e.reason);
	ck_assert_int_eq(lookup("2002:c000:20b:ffff::1", &e), 48);
	ck_assert_int_eq(lookup("2001:0:4136:e378:8000:63bf:3fff:fdd2", &e), 128);
	ck_assert_int_eq(lookup("2001:0:4136:e378:8000:63bf:3fff:fdd3", &e), -1);
	/* The evidence is kept with the listing. */
	addr_pfx p;
	uint8_t buf[STORE_EVIDENCE_MAX];
	size_t len;
	evid ev;
	ck_assert_int_eq(addr_parse("2001:db8:1:2::/64", 17, 0, &p), 0);
	ck_assert_int_eq(store_evidence_read(st, &p, buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(evid_decode(buf, len, &ev), 0);
	ck_assert_uint_eq(ev.attempts, 1);
	ck_assert_uint_eq(ev.n_v4, 1);
	ck_assert(ev.features & EVID_F_CHAIN);
	/* The same attempt again (replayed input) counts nothing. */
	ag_verdict(&ag, &v1);
	ck_assert_uint_eq(ag_pending(&ag), 0);
	/* A later attempt renews and counts. */
	as_verdict v4 = offender("2001:db8:1:2:9f8e:7d6c:5b4a:2", t + 60 * SEC, AT_NATIVE);  /* rotated */
	ag_verdict(&ag, &v4);
	ag_commit(now);
	ck_assert_uint_eq(ag.renewed, 1);
	ck_assert_int_eq(store_evidence_read(st, &p, buf, sizeof(buf), &len), 0);
	ck_assert_int_eq(evid_decode(buf, len, &ev), 0);
	ck_assert_uint_eq(ev.attempts, 2);
	ck_assert_uint_eq(ev.hosts, 2);
	ag_free(&ag);
}
END_TEST

static int put_entry(store_txn *t, void *arg)
{
	return store_put(t, arg);
}

START_TEST(aggr_respects_operator)
{
	uint64_t now = (uint64_t)time(NULL), t = (now - 3600) * SEC;
	store_entry e;
	/* An operator exclusion over one, an operator listing at another, an allowlist prefix. */
	store_entry x = { .kind = STORE_EXCLUSION, .origin = STORE_ORIGIN_OPERATOR };
	ck_assert_int_eq(addr_parse("2001:db8:e::/48", 15, 0, &x.pfx), 0);
	ck_assert_int_eq(store_write(st, put_entry, &x), 0);
	store_entry l = { .kind = STORE_LISTING, .origin = STORE_ORIGIN_OPERATOR,
	                  .code = { 127, 0, 0, 9 }, .reason = "by hand", .reason_len = 7 };
	ck_assert_int_eq(addr_parse("2001:db8:f:1::/64", 17, 0, &l.pfx), 0);
	ck_assert_int_eq(store_write(st, put_entry, &l), 0);
	ag_start();
	addr_pfx allow;
	ck_assert_int_eq(addr_parse("2a01:111:f400::/48", 18, 0, &allow), 0);
	ck_assert_int_eq(ag_allow(&ag, &allow, 1), 0);
	as_verdict v1 = offender("2001:db8:e:1::5", t, AT_NATIVE);
	as_verdict v2 = offender("2001:db8:f:1::5", t, AT_NATIVE);
	as_verdict v3 = offender("2a01:111:f400:fe00::5", t, AT_NATIVE);
	as_verdict v4 = offender("2001:db8:5:1::5", (now - 40 * 86400) * SEC, AT_NATIVE);  /* stale */
	ag_verdict(&ag, &v1);
	ag_verdict(&ag, &v2);
	ag_verdict(&ag, &v3);
	ag_verdict(&ag, &v4);
	ag_commit(now);
	ck_assert_uint_eq(ag.listed, 0);
	ck_assert_uint_eq(ag.skipped_excluded, 2);
	ck_assert_uint_eq(ag.skipped_operator, 1);
	ck_assert_uint_eq(ag.skipped_stale, 1);
	ck_assert_int_eq(lookup("2001:db8:e:1::5", &e), -1);
	ck_assert_int_eq(lookup("2001:db8:f:1::5", &e), 64);
	ck_assert_uint_eq(e.code[3], 9);   /* untouched */
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_48)
{
	uint64_t now = (uint64_t)time(NULL), t = (now - 3600) * SEC;
	store_entry e;
	char src[64];
	ag_start();
	/* Four offender /64s in 2001:db8:a::/48 make the /48; three in :b: do not; :c: has four but
	 * also a legitimate sender. */
	for (int i = 0; i < 4; i++) {
		snprintf(src, sizeof(src), "2001:db8:a:%x::5", i + 1);
		as_verdict v = offender(src, t + (uint64_t)i * SEC, AT_NATIVE);
		ag_verdict(&ag, &v);
		snprintf(src, sizeof(src), "2001:db8:c:%x::5", i + 1);
		v = offender(src, t + (uint64_t)i * SEC, AT_NATIVE);
		ag_verdict(&ag, &v);
		if (i < 3) {
			snprintf(src, sizeof(src), "2001:db8:b:%x::5", i + 1);
			v = offender(src, t + (uint64_t)i * SEC, AT_NATIVE);
			ag_verdict(&ag, &v);
		}
	}
	as_verdict legit = { .legit = true, .kind = AT_NATIVE };
	legit.a = mk_att("2001:db8:c:99::1", 40000, t, EVID_OS_LINUX);
	ag_verdict(&ag, &legit);
	ag_commit(now);
	ck_assert_uint_eq(ag.aggregates, 1);
	ck_assert_int_eq(lookup("2001:db8:a:ffff::1", &e), 48);
	ck_assert_uint_eq(e.origin, STORE_ORIGIN_AGGREGATE);
	ck_assert_uint_eq(e.code[3], 3);
	ck_assert_int_eq(lookup("2001:db8:b:ffff::1", &e), -1);
	ck_assert_int_eq(lookup("2001:db8:c:ffff::1", &e), -1);
	ck_assert_int_eq(lookup("2001:db8:c:1::1", &e), 64);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_publish_v4)
{
	/* publish-ipv4: the rejected IPv4 addresses are listed too, with their own code. */
	uint64_t now = (uint64_t)time(NULL);
	store_entry e;
	ag_cfg c;
	ag_cfg_defaults(&c);
	c.publish_v4 = true;
	ck_assert_int_eq(ag_init(&ag, &c, st, false), 0);
	ev_reject r = mk_rej("198.51.100.77", 0, (now - 600) * SEC);
	ag_reject(&ag, &r);
	ev_reject v6 = mk_rej("2001:db8::77", 0, (now - 600) * SEC);
	ag_reject(&ag, &v6);                 /* IPv6 rejections are not published */
	ag_commit(now);
	ck_assert_uint_eq(ag.v4_listed, 1);
	ck_assert_int_eq(lookup("::ffff:198.51.100.77", &e), 128);
	ck_assert_uint_eq(e.code[3], 4);
	ck_assert_int_eq(lookup("2001:db8::77", &e), -1);
	ag_free(&ag);
	/* Off by default. */
	ag_start();
	r = mk_rej("198.51.100.78", 0, (now - 600) * SEC);
	ag_reject(&ag, &r);
	ag_commit(now);
	ck_assert_int_eq(lookup("::ffff:198.51.100.78", &e), -1);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_shared_64)
{
	/* Two machines (EUI-64 identifiers) in one /64, one offending: only its /128 is listed. */
	uint64_t now = (uint64_t)time(NULL), t = (now - 3600) * SEC;
	store_entry e;
	ag_start();
	as_verdict bad = offender("2001:db8:9:1:211:22ff:fe33:4455", t, AT_EUI64);
	as_verdict good = { .kind = AT_EUI64 };
	good.a = mk_att("2001:db8:9:1:211:22ff:fe33:9999", 40001, t + 7200 * SEC, EVID_OS_LINUX);
	ag_verdict(&ag, &bad);
	ag_verdict(&ag, &good);
	ag_commit(now);
	ck_assert_int_eq(lookup("2001:db8:9:1:211:22ff:fe33:4455", &e), 128);
	ck_assert_int_eq(lookup("2001:db8:9:1:211:22ff:fe33:9999", &e), -1);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_confirm)
{
	/* confirm-attempts 2: one timing-only attempt waits; a second lists; an embedding lists at once. */
	uint64_t now = (uint64_t)time(NULL), t = (now - 7200) * SEC;
	store_entry e;
	ag_cfg c;
	ag_cfg_defaults(&c);
	c.confirm_min = 2;
	ck_assert_int_eq(ag_init(&ag, &c, st, false), 0);
	as_verdict v = offender("2001:db8:e:1::5", t, AT_NATIVE);
	as_verdict w = offender("2002:c000:20c::1", t, AT_6TO4);
	w.features = EVID_F_6TO4;
	ag_verdict(&ag, &v);
	ag_verdict(&ag, &w);
	ag.input_us = t + 60 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.held, 1);
	ck_assert_int_eq(lookup("2001:db8:e:1::5", &e), -1);
	ck_assert_int_eq(lookup("2002:c000:20c::1", &e), 48);
	v.a.first_us = v.a.last_us = t + 600 * SEC;
	ag_verdict(&ag, &v);
	ag.input_us = t + 700 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.held, 0);
	ck_assert_int_eq(lookup("2001:db8:e:1::5", &e), 64);
	/* A single attempt whose hold ran out is forgotten: a later one starts again. */
	as_verdict x = offender("2001:db8:f:1::5", t, AT_NATIVE);
	ag_verdict(&ag, &x);
	ag.input_us = t + 60 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.held, 1);
	ag.input_us = t + 2 * 86400 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.pending.n, 0);
	ck_assert_int_eq(lookup("2001:db8:f:1::5", &e), -1);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_clean_host)
{
	/* A host that pairs with its own clean IPv4 more often than with a rejected one is not listed. */
	uint64_t now = (uint64_t)time(NULL), t = (now - 7200) * SEC;
	store_entry e;
	ag_start();
	for (int i = 0; i < 2; i++) {
		as_verdict ok = { .kind = AT_NATIVE, .legit = true, .clean = true, .score = 50,
		                  .features = EVID_F_PAIR | EVID_F_ORDER };
		ok.a = mk_att("2001:db8:c:1::7", (uint16_t)(40000 + i), t + (uint64_t)i * 60 * SEC, EVID_OS_LINUX);
		ag_verdict(&ag, &ok);
	}
	as_verdict bad = offender("2001:db8:c:1::7", t + 600 * SEC, AT_NATIVE);
	as_verdict spam = offender("2001:db8:c:2::7", t + 600 * SEC, AT_NATIVE);
	ag_verdict(&ag, &bad);
	ag_verdict(&ag, &spam);
	ag_commit(now);
	ck_assert_uint_eq(ag.skipped_clean, 1);
	ck_assert_int_eq(lookup("2001:db8:c:1::7", &e), -1);
	ck_assert_int_eq(lookup("2001:db8:c:2::7", &e), 64);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_forget)
{
	/* Per-source state older than the expiry window is dropped once a day of input time. */
	uint64_t now = (uint64_t)time(NULL), t = (now - 40 * 86400) * SEC;
	ag_start();
	for (int i = 0; i < 50; i++) {
		char src[40];
		snprintf(src, sizeof(src), "2001:db8:%x:1::5", i);
		as_verdict v = offender(src, t + (uint64_t)i * SEC, AT_NATIVE);
		v.offender = i % 2;
		ag_verdict(&ag, &v);
	}
	ck_assert_uint_eq(ag.src64.n, 50);
	ck_assert_uint_eq(ag.off128.n, 25);
	ag.input_us = t + 86400 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.src64.n, 50);       /* within the window: kept */
	as_verdict late = offender("2001:db8:ffff:1::5", t + 35 * 86400 * SEC, AT_NATIVE);
	ag_verdict(&ag, &late);
	ag.input_us = t + 35 * 86400 * SEC;
	ag_commit(now);
	ck_assert_uint_eq(ag.src64.n, 1);        /* 30 d expiry: only the late source is left */
	ck_assert_uint_eq(ag.off128.n, 1);
	ck_assert_uint_eq(ag.off64n.n, 1);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_withdraw)
{
	/* Two /64s listed on timing ties to 198.51.100.7; a 6to4 listing tied by its address. Then
	 * 198.51.100.7 turns out shared (after a restart: a fresh context on the same store): the
	 * timing-tied listings are withdrawn but the spared dominant sender's, and the 6to4 stays. */
	uint64_t now = (uint64_t)time(NULL), t = (now - 7200) * SEC;
	store_entry e;
	ag_start();
	as_verdict a1 = offender("2001:db8:71:1::5", t, AT_NATIVE);
	as_verdict a2 = offender("2001:db8:72:1::5", t, AT_NATIVE);
	as_verdict a3 = offender("2001:db8:73:1::5", t, AT_NATIVE);
	as_verdict w = offender("2002:c633:6407::1", t, AT_6TO4);
	w.features = EVID_F_6TO4;
	ag_verdict(&ag, &a1);
	ag_verdict(&ag, &a2);
	ag_verdict(&ag, &a3);
	ag_verdict(&ag, &w);
	ag_commit(now);
	ck_assert_int_eq(lookup("2001:db8:71:1::5", &e), 64);
	ck_assert_int_eq(lookup("2001:db8:72:1::5", &e), 64);
	ck_assert_int_eq(lookup("2001:db8:73:1::5", &e), 64);
	ag_free(&ag);
	ag_start();
	as_verdict rv = { .revoke = true, .v4 = { 198, 51, 100, 7 } };
	rv.a = mk_att("2001:db8:72:1::5", 40000, t, 0);
	rv.a.syns = 1;                                  /* its dominant sender */
	ag_verdict(&ag, &rv);
	ag_commit(now);
	ck_assert_uint_eq(ag.withdrawn, 3);
	ck_assert_int_eq(lookup("2001:db8:71:1::5", &e), -1);
	/* The dominant sender's /64 (X's LAN) narrows to its /128. */
	ck_assert_int_eq(lookup("2001:db8:72:1::5", &e), 128);
	ck_assert_int_eq(lookup("2001:db8:72:1::6", &e), -1);
	ck_assert_int_eq(lookup("2001:db8:73:1::5", &e), -1);
	ck_assert_int_eq(lookup("2002:c633:6407::1", &e), 48);
	/* Nothing left to withdraw: a second revocation changes nothing. */
	ag_verdict(&ag, &rv);
	ag_commit(now);
	ck_assert_uint_eq(ag.withdrawn, 0);
	ag_free(&ag);
}
END_TEST

START_TEST(aggr_misbehaving)
{
	uint64_t now = (uint64_t)time(NULL), t = (now - 86400) * SEC;
	store_entry e;
	ag_start();
	/* A sender reusing one source port for 25 attempts, one of which looked associated. */
	for (int i = 0; i < 25; i++) {
		as_verdict v = offender("2001:db8:d:1::25", t + (uint64_t)i * 600 * SEC, AT_NATIVE);
		v.offender = i == 0;
		ag_verdict(&ag, &v);
	}
	ag_commit(now);
	ck_assert_uint_eq(ag.skipped_misbehaving, 1);
	ck_assert_int_eq(lookup("2001:db8:d:1::25", &e), -1);
	ag_free(&ag);
}
END_TEST

START_TEST(evid_codec)
{
	evid e = { .first_us = T0, .last_us = T0 + 5, .attempts = 3, .syns = 9, .hosts = 2,
	           .rejects = 4, .score = 130, .features = EVID_F_6TO4 | EVID_F_CHAIN,
	           .os = EVID_OS_WINDOWS };
	uint8_t v4a[4] = { 192, 0, 2, 1 }, v4b[4] = { 192, 0, 2, 2 }, buf[256];
	evid_add_v4(&e, v4a);
	evid_add_v4(&e, v4b);
	evid_add_v4(&e, v4a);
	ck_assert_uint_eq(e.n_v4, 2);
	int n = evid_encode(&e, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	evid d;
	ck_assert_int_eq(evid_decode(buf, (size_t)n, &d), 0);
	ck_assert_int_eq(memcmp(&d, &e, sizeof(e)), 0);
	ck_assert_int_eq(evid_decode(buf, (size_t)n - 1, &d), V6R_ECORRUPT);
	char text[512];
	ck_assert_int_gt(evid_format(&e, text, sizeof(text)), 0);
	ck_assert_msg(strstr(text, "ipv4=192.0.2.1,192.0.2.2") && strstr(text, "features=6to4,chain") &&
	              strstr(text, "os=windows") && strstr(text, "first=2023-11-14T22:13:20Z"), "%s", text);
	evid m = { .first_us = T0 - 10, .last_us = T0 + 1, .attempts = 1, .features = EVID_F_PAIR };
	evid_merge(&e, &m);
	ck_assert_uint_eq(e.first_us, T0 - 10);
	ck_assert_uint_eq(e.last_us, T0 + 5);
	ck_assert_uint_eq(e.attempts, 4);
	ck_assert(e.features & EVID_F_PAIR);
}
END_TEST

Suite *ingest_suite(void)
{
	Suite *s = suite_create("ingest");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, htab_random);
	tcase_add_loop_test(tc, addr_types, 0, sizeof(at_cases) / sizeof(at_cases[0]));
	tcase_add_test(tc, attempts_window);
	tcase_add_test(tc, attempts_pool);
	tcase_add_test(tc, attempts_raw);
	tcase_add_test(tc, assoc_6to4);
	tcase_add_test(tc, assoc_6to4_not_rejected);
	tcase_add_test(tc, assoc_chain_and_pair);
	tcase_add_test(tc, assoc_windows_ports);
	tcase_add_test(tc, assoc_postscreen_dups);
	tcase_add_test(tc, assoc_pair_only);
	tcase_add_test(tc, assoc_os_conflict);
	tcase_add_test(tc, assoc_legit_pair);
	tcase_add_test(tc, assoc_nat);
	tcase_add_test(tc, assoc_closest_pair);
	tcase_add_test(tc, assoc_raw_ignored);
	tcase_add_test(tc, assoc_quiet_source);
	tcase_add_test(tc, assoc_clean_flag);
	tcase_add_test(tc, assoc_nat_lan);
	tcase_add_test(tc, assoc_reject_window);
	tcase_add_test(tc, assoc_enrich);
	tcase_add_test(tc, evid_codec);
	suite_add_tcase(s, tc);
	TCase *ts = tcase_create("aggregate");
	tcase_add_checked_fixture(ts, store_setup, store_teardown);
	tcase_add_test(ts, aggr_prefixes);
	tcase_add_test(ts, aggr_respects_operator);
	tcase_add_test(ts, aggr_48);
	tcase_add_test(ts, aggr_misbehaving);
	tcase_add_test(ts, aggr_confirm);
	tcase_add_test(ts, aggr_withdraw);
	tcase_add_test(ts, aggr_forget);
	tcase_add_test(ts, aggr_clean_host);
	tcase_add_test(ts, aggr_shared_64);
	tcase_add_test(ts, aggr_publish_v4);
	suite_add_tcase(s, ts);
	return s;
}
