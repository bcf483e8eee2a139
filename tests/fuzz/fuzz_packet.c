/* fuzz_packet.c: fuzz target for the answering core: any bytes as a query, over UDP and TCP. */
#include <ftw.h>
#include <ldns/ldns.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/answer.h"
#include "../../zone/addr.h"
#include "../../zone/cfg.h"
#include "../../zone/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_NOW 1700000000u
#define FZ_TCP_CAP 65535u

/* The store and zones are built once per process; the temporary store is removed at exit. */
static char fz_dir[64];
static store *fz_store;
static store_reader *fz_rd;
static ans_zone fz_zone, fz_zone_long;
static uint8_t *fz_out_udp, *fz_out_tcp;

static const struct {
	const char *pfx;
	store_kind kind;
	uint8_t code;
	const char *reason;
	uint64_t expires;
} fz_seeds[] = {
	{ "2001:db8:1::/48", STORE_LISTING, 2, "net48", 0 },
	{ "2001:db8:1:5::/64", STORE_EXCLUSION, 0, "hole", 0 },
	{ "2001:db8:1:5::5/128", STORE_LISTING, 3, "host in hole", 0 },
	{ "2001:db8:2:1::/64", STORE_LISTING, 4, "", 0 },
	{ "192.0.2.0/24", STORE_LISTING, 5, "v4net", 0 },
	{ "2001:db8:3:8000::/49", STORE_LISTING, 6, "half", 0 },
	{ "2001:db8:4::/48", STORE_LISTING, 7, "old", 1000 },
};

static int fz_fill(store_txn *t, void *arg)
{
	for (size_t i = 0; i < sizeof fz_seeds / sizeof fz_seeds[0]; i++) {
		store_entry e = { .kind = fz_seeds[i].kind, .expires = fz_seeds[i].expires,
		                  .reason = fz_seeds[i].reason,
		                  .reason_len = strlen(fz_seeds[i].reason) };
		if (addr_parse(fz_seeds[i].pfx, strlen(fz_seeds[i].pfx), 0, &e.pfx) != 0)
			abort();
		if (e.kind == STORE_LISTING) {
			e.code[0] = 127;
			e.code[3] = fz_seeds[i].code;
		}
		int rc = store_put(t, &e);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void fz_zone_init(ans_zone *z, const char *txt_template, const char *udp)
{
	char err[512];
	cfg c;

	cfg_defaults(&c);
	if (cfg_set(&c, "zone", "v6bl.example.", "fuzz", err, sizeof err) != 0 ||
	    cfg_set(&c, "ns", "ns1.example.net.", "fuzz", err, sizeof err) != 0 ||
	    cfg_set(&c, "ns", "ns2.example.net.", "fuzz", err, sizeof err) != 0 ||
	    cfg_set(&c, "db", fz_dir, "fuzz", err, sizeof err) != 0 ||
	    cfg_set(&c, "udp-max-size", udp, "fuzz", err, sizeof err) != 0 ||
	    cfg_set(&c, "txt-template", txt_template, "fuzz", err, sizeof err) != 0 ||
	    cfg_finish(&c, CFG_SERVER, err, sizeof err) != 0 ||
	    ans_zone_init(z, &c, err, sizeof err) != 0) {
		fprintf(stderr, "fuzz_packet: %s\n", err);
		abort();
	}
}

static int fz_rm(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void fz_cleanup(void)
{
	store_reader_free(fz_rd);
	store_close(fz_store);
	nftw(fz_dir, fz_rm, 8, FTW_DEPTH | FTW_PHYS);
	free(fz_out_udp);
	free(fz_out_tcp);
}

static void fz_init(void)
{
	char long_tmpl[600];

	strcpy(fz_dir, "/tmp/v6rep-fuzz-XXXXXX");
	if (mkdtemp(fz_dir) == NULL || store_open(&fz_store, fz_dir, 0, (size_t)1 << 24) != 0 ||
	    store_write(fz_store, fz_fill, NULL) != 0 || store_reader_new(fz_store, &fz_rd) != 0)
		abort();
	memset(long_tmpl, 'x', 480);
	strcpy(long_tmpl + 480, "{addr}{prefix}{reason}");
	fz_zone_init(&fz_zone, "{addr} {prefix} {code} {zone} {reason}", "1232");
	fz_zone_init(&fz_zone_long, long_tmpl, "4096");
	/* Exact-size buffers, so that ASan sees a write past cap. */
	fz_out_udp = malloc(ANS_MIN_UDP);
	fz_out_tcp = malloc(FZ_TCP_CAP);
	if (fz_out_udp == NULL || fz_out_tcp == NULL)
		abort();
	atexit(fz_cleanup);
}

/* Offset just after the question of a response with QDCOUNT 1 (its name is uncompressed). */
static size_t fz_question_end(const uint8_t *m, size_t len)
{
	size_t o = 12;

	while (o < len && m[o] != 0)
		o += 1u + m[o];
	return o + 5u;
}

/* What every response must be: within cap and the UDP limit, a decodable reply to this query
 * that echoes its question byte for byte. */
static void fz_check(const uint8_t *q, size_t qlen, const uint8_t *r, size_t len, size_t limit)
{
	ldns_pkt *p = NULL;

	if (len == 0)
		return;
	if (len > limit || len < 12 || qlen < 12 || r[0] != q[0] || r[1] != q[1] || !(r[2] & 0x80) ||
	    (r[3] & 0x80))
		abort();
	if (ldns_wire2pkt(&p, r, len) != LDNS_STATUS_OK)
		abort();
	if (ldns_pkt_qdcount(p) == 1) {
		size_t end = fz_question_end(r, len);
		if (end > len || end > qlen || memcmp(r + 12, q + 12, end - 12) != 0)
			abort();
	}
	ldns_pkt_free(p);
}

static void fz_run(const ans_zone *z, const uint8_t *data, size_t size)
{
	ans_ctx c = { .zone = z, .rd = fz_rd, .now = FZ_NOW };
	size_t udp_limit = z->udp_max > ANS_MIN_UDP ? z->udp_max : ANS_MIN_UDP;
	size_t n;

	n = ans_query(&c, data, size, fz_out_udp, ANS_MIN_UDP, false);
	fz_check(data, size, fz_out_udp, n, ANS_MIN_UDP);
	n = ans_query(&c, data, size, fz_out_tcp, FZ_TCP_CAP, false);
	fz_check(data, size, fz_out_tcp, n, udp_limit);
	n = ans_query(&c, data, size, fz_out_tcp, FZ_TCP_CAP, true);
	fz_check(data, size, fz_out_tcp, n, FZ_TCP_CAP);
	if (c.st.queries != 3)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;

	if (!ready) {
		fz_init();
		ready = true;
	}
	fz_run(&fz_zone, data, size);
	fz_run(&fz_zone_long, data, size);
	return 0;
}
