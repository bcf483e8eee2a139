/* enrich_bench.c: load time and lookup rate of the ASN table on a synthetic full-table pfx2as file (make bench-enrich). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "../../ingest/enrich.h"

/*
 * The file: 1,100,000 IPv4 and 220,000 IPv6 prefixes, about the size of a 2025 RouteViews table,
 * with lengths distributed roughly as in routeviews-rv2 / rv6 (mostly /24 and /48), random
 * starts (so many nest), 3% multi-origin. Seeded: every run writes the same file.
 */
#define N4 1100000
#define N6 220000
#define LOOKUPS 10000000

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned pick(const unsigned *lens, const unsigned *pct, size_t n)
{
	unsigned r = (unsigned)(next() % 100), acc = 0;
	for (size_t i = 0; i < n; i++)
		if (r < (acc += pct[i]))
			return lens[i];
	return lens[0];
}

static void write_v4(FILE *f)
{
	static const unsigned lens[] = { 24, 23, 22, 21, 20, 19, 18, 17, 16 };
	static const unsigned pct[] = { 60, 10, 12, 5, 5, 3, 2, 1, 2 };
	for (int i = 0; i < N4; i++) {
		unsigned len = pick(lens, pct, 9);
		uint32_t a = (uint32_t)(0x01000000u + next() % (0xe0000000u - 0x01000000u));
		a &= ~(uint32_t)0 << (32 - len);
		uint32_t asn = 1 + (uint32_t)(next() % 400000);
		if (next() % 100 < 3)
			fprintf(f, "%u.%u.%u.%u\t%u\t%u_%u\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len,
			        asn, asn + 1);
		else
			fprintf(f, "%u.%u.%u.%u\t%u\t%u\n", a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255, len, asn);
	}
}

static void write_v6(FILE *f)
{
	static const unsigned lens[] = { 48, 32, 44, 40, 36, 29, 46, 47, 28, 64 };
	static const unsigned pct[] = { 50, 10, 10, 8, 5, 5, 4, 3, 2, 3 };
	for (int i = 0; i < N6; i++) {
		unsigned len = pick(lens, pct, 10);
		uint64_t hi = (0x2001ull + next() % (0x2c10ull - 0x2001ull)) << 48 | (next() & 0xffffffffffffull);
		hi &= ~(uint64_t)0 << (64 - len);
		fprintf(f, "%x:%x:%x:%x::\t%u\t%u\n", (unsigned)(hi >> 48), (unsigned)(hi >> 32 & 0xffff),
		        (unsigned)(hi >> 16 & 0xffff), (unsigned)(hi & 0xffff), len,
		        1 + (unsigned)(next() % 400000));
	}
}

static double load(const char *path)
{
	en_ctx *e;
	char err[512];
	if (en_new(&e) != 0)
		exit(1);
	double t0 = now();
	if (en_asn_load(e, path, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	double t = now() - t0;
	en_free(e);
	return t;
}

/* Lookups of random IPv4 (1/0 .. 223/8) and IPv6 (2001:: .. 2c0f::) addresses; ns per lookup. */
static double lookups(const en_ctx *e, unsigned *hits)
{
	static uint8_t addrs[4096][16];
	for (int i = 0; i < 4096; i++) {
		memset(addrs[i], 0, 16);
		uint64_t r = next(), s = next();
		if (i % 2) {
			addrs[i][10] = addrs[i][11] = 0xff;
			uint32_t a = (uint32_t)(0x01000000u + r % (0xe0000000u - 0x01000000u));
			for (int b = 0; b < 4; b++)
				addrs[i][12 + b] = (uint8_t)(a >> (24 - 8 * b));
		} else {
			uint64_t hi = (0x2001ull + r % (0x2c10ull - 0x2001ull)) << 48 | (s & 0xffffffffffffull);
			for (int b = 0; b < 8; b++)
				addrs[i][b] = (uint8_t)(hi >> (56 - 8 * b)), addrs[i][8 + b] = (uint8_t)next();
		}
	}
	unsigned h = 0;
	double t0 = now();
	for (int i = 0; i < LOOKUPS; i++) {
		/* Vary the address so the cache does not answer every time from a few lines. */
		uint8_t *a = addrs[i & 4095];
		a[15] ^= (uint8_t)i;
		a[13] ^= (uint8_t)(i >> 12);
		h += en_asn(e, a) != 0;
	}
	*hits = h;
	return (now() - t0) * 1e9 / LOOKUPS;
}

static long rss_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key) + 1);
	if (f)
		fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	char plain[512], gz[520], cmd[1200];
	snprintf(plain, sizeof(plain), "%s/v6rep-bench-%d.pfx2as", dir, (int)getpid());
	snprintf(gz, sizeof(gz), "%s.gz", plain);
	FILE *f = fopen(plain, "w");
	if (!f)
		return 1;
	write_v4(f);
	write_v6(f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "gzip -c '%s' > '%s'", plain, gz);
	if (system(cmd) != 0)
		return 1;
	printf("synthetic file: %d IPv4 + %d IPv6 prefixes\n", N4, N6);
	printf("load plain: %.2f s\n", load(plain));
	printf("load gzip:  %.2f s\n", load(gz));

	en_ctx *e;
	char err[512];
	if (en_new(&e) != 0 || en_asn_load(e, plain, err, sizeof(err)) != 0)
		return 1;
	long before = rss_kib("VmRSS:");
	unsigned hits;
	double ns = lookups(e, &hits);
	printf("lookups: %d random addresses, %.0f ns each (%.1f M/s), %u found an AS\n", LOOKUPS, ns,
	       1e3 / ns, hits);
	printf("memory: VmRSS %ld MiB, VmHWM %ld MiB (peak includes the load)\n", before / 1024,
	       rss_kib("VmHWM:") / 1024);
	en_free(e);
	unlink(plain);
	unlink(gz);
	return 0;
}
