/* evid.c: encoding, merging and text of listing evidence. */
#include "evid.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

#define EVID_VERSION 1u
#define EVID_FIXED 40u   /* bytes before the IPv4 list */

static const char *const feature_names[] = {
	"6to4", "teredo", "isatap", "nat64", "low32", "pair", "order", "portseq",
	"os", "asn", "ptr", "chain", "aggregate",
};

static void put(uint8_t *p, uint64_t v, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int evid_encode(const evid *e, uint8_t *buf, size_t cap)
{
	unsigned n4 = e->n_v4 > EVID_MAX_V4 ? EVID_MAX_V4 : e->n_v4;
	size_t len = EVID_FIXED + 4u * n4;
	if (cap < len)
		return V6R_ESPACE;
	buf[0] = EVID_VERSION;
	buf[1] = e->os;
	put(buf + 2, e->features, 2);
	put(buf + 4, e->first_us, 8);
	put(buf + 12, e->last_us, 8);
	put(buf + 20, e->attempts, 4);
	put(buf + 24, e->syns, 4);
	put(buf + 28, e->hosts, 4);
	put(buf + 32, e->rejects, 4);
	put(buf + 36, e->score > 0xffffffu ? 0xffffffu : e->score, 3);
	buf[39] = (uint8_t)n4;
	memcpy(buf + EVID_FIXED, e->v4, 4u * n4);
	return (int)len;
}

int evid_decode(const uint8_t *buf, size_t len, evid *e)
{
	if (len < EVID_FIXED || buf[0] != EVID_VERSION || buf[39] > EVID_MAX_V4 ||
	    len != EVID_FIXED + 4u * buf[39])
		return V6R_ECORRUPT;
	memset(e, 0, sizeof(*e));
	e->os = buf[1];
	e->features = (uint16_t)get(buf + 2, 2);
	e->first_us = get(buf + 4, 8);
	e->last_us = get(buf + 12, 8);
	e->attempts = (uint32_t)get(buf + 20, 4);
	e->syns = (uint32_t)get(buf + 24, 4);
	e->hosts = (uint32_t)get(buf + 28, 4);
	e->rejects = (uint32_t)get(buf + 32, 4);
	e->score = (uint32_t)get(buf + 36, 3);
	e->n_v4 = buf[39];
	memcpy(e->v4, buf + EVID_FIXED, 4u * e->n_v4);
	return 0;
}

void evid_add_v4(evid *e, const uint8_t v4[4])
{
	for (unsigned i = 0; i < e->n_v4; i++)
		if (memcmp(e->v4[i], v4, 4) == 0)
			return;
	if (e->n_v4 < EVID_MAX_V4)
		memcpy(e->v4[e->n_v4++], v4, 4);
}

static uint32_t sat_add(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

void evid_merge(evid *into, const evid *from)
{
	if (!into->first_us || (from->first_us && from->first_us < into->first_us))
		into->first_us = from->first_us;
	if (from->last_us > into->last_us)
		into->last_us = from->last_us;
	into->attempts = sat_add(into->attempts, from->attempts);
	into->syns = sat_add(into->syns, from->syns);
	into->rejects = sat_add(into->rejects, from->rejects);
	if (from->hosts > into->hosts)
		into->hosts = from->hosts;
	if (from->score > into->score)
		into->score = from->score;
	into->features |= from->features;
	if (into->os == EVID_OS_UNKNOWN)
		into->os = from->os;
	for (unsigned i = 0; i < from->n_v4; i++)
		evid_add_v4(into, from->v4[i]);
}

const char *evid_os_name(unsigned os)
{
	static const char *const names[] = { "unknown", "windows", "linux", "mac", "bsd", "other" };
	return os < sizeof(names) / sizeof(names[0]) ? names[os] : "unknown";
}

int evid_features(unsigned features, char *buf, size_t cap)
{
	size_t o = 0;
	if (cap == 0)
		return V6R_ESPACE;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++) {
		if (!(features & (1u << i)))
			continue;
		int m = snprintf(buf + o, cap - o, "%s%s", o ? "," : "", feature_names[i]);
		if (m < 0 || (size_t)m >= cap - o)
			return V6R_ESPACE;
		o += (size_t)m;
	}
	return (int)o;
}

static void fmt_time(uint64_t us, char *out, size_t cap)
{
	time_t t = (time_t)(us / 1000000u);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int evid_format(const evid *e, char *buf, size_t cap)
{
	char first[32], last[32], feats[160], v4s[EVID_MAX_V4 * 16 + 8] = "";
	size_t o = 0;
	fmt_time(e->first_us, first, sizeof(first));
	fmt_time(e->last_us, last, sizeof(last));
	if (evid_features(e->features, feats, sizeof(feats)) < 0)
		return V6R_ESPACE;
	for (unsigned i = 0; i < e->n_v4; i++) {
		char a[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, e->v4[i], a, sizeof(a));
		o += (size_t)snprintf(v4s + o, sizeof(v4s) - o, "%s%s", i ? "," : "", a);
	}
	int n = snprintf(buf, cap,
	                 "first=%s last=%s attempts=%u syns=%u hosts=%u rejects=%u score=%u os=%s "
	                 "ipv4=%s features=%s",
	                 first, last, e->attempts, e->syns, e->hosts, e->rejects, e->score,
	                 evid_os_name(e->os), e->n_v4 ? v4s : "-", feats[0] ? feats : "-");
	return n < 0 || (size_t)n >= cap ? V6R_ESPACE : n;
}
