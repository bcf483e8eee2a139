/* fuzz_pcap.c: fuzz target for the capture reader (whole files) and the SYN decoder (single packets). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../ingest/pcap.h"
#include "../../zone/addr.h"
#include "../../zone/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An input that starts with a pcap or pcapng magic number is a capture file, read through
 * fmemopen; any other input is one packet whose first byte picks the link type.
 */
static const int fz_dlts[] = { 0, 1, 12, 14, 101, 108, 113, 276, 228, 229, 105 };

#define FZ_MAX_SYNS 4096

static cap_reader *fz_reader;
static uint64_t fz_offsets[FZ_MAX_SYNS];

/* What any decoded SYN must look like. */
static void fz_check_syn(const ev_syn *s)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (s->n_opts > EV_MAX_OPTS || s->tcp_hdr_len < 20 || s->tcp_hdr_len > 60 ||
	    s->tcp_hdr_len % 4 != 0 || s->eol_pad > 39 || s->ip_opt_len > 40)
		abort();
	if (!s->v6 && (memcmp(s->src, mapped, 12) != 0 || memcmp(s->dst, mapped, 12) != 0))
		abort();
	if (s->v6 && (s->ip_opt_len != 0 || (s->quirks & (EV_Q_DF | EV_Q_NZ_ID | EV_Q_ZERO_ID))))
		abort();
	if (!s->v6 && (s->quirks & EV_Q_FLOW))
		abort();
	/* 0xff is "absent", or a (silly) scale of 255 on the wire; the layout tells which. */
	bool has_ws = memchr(s->opts, EV_OPT_WS, s->n_opts) != NULL;
	if ((!has_ws && s->wscale != 0xff) || (s->wscale > 14 && s->wscale != 0xff &&
	                                       !(s->quirks & EV_Q_OPT_EXWS)))
		abort();
}

static bool fz_is_capture(const uint8_t *d, size_t n)
{
	static const uint8_t magics[][4] = {
		{ 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xc3, 0xd4 },   /* microseconds */
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },   /* nanoseconds */
		{ 0x0a, 0x0d, 0x0d, 0x0a },                                 /* pcapng SHB */
	};
	for (size_t i = 0; n >= 4 && i < sizeof magics / sizeof magics[0]; i++)
		if (memcmp(d, magics[i], 4) == 0)
			return true;
	return false;
}

/* Reads the whole capture from offset `at`; returns the SYN count, *rc the final status. */
static size_t fz_read(const uint8_t *data, size_t size, uint64_t at, bool record, int *rc)
{
	FILE *fp = fmemopen((void *)data, size, "rb");
	ev_syn s;
	size_t n = 0;

	if (fp == NULL)
		abort();
	*rc = cap_open_fp(fz_reader, fp, "fuzz", at);
	if (*rc < 0) {
		if (strncmp(cap_error(fz_reader), "fuzz: ", 6) != 0)
			abort();
		return 0;
	}
	while ((*rc = cap_next(fz_reader, &s)) == 1) {
		fz_check_syn(&s);
		if (s.offset >= size || s.offset < at || cap_offset(fz_reader) > size)
			abort();
		if (record && n < FZ_MAX_SYNS)
			fz_offsets[n] = s.offset;
		n++;
	}
	if (*rc < 0 && strncmp(cap_error(fz_reader), "fuzz: ", 6) != 0)
		abort();
	cap_close(fz_reader);
	return n;
}

static void fz_capture(const uint8_t *data, size_t size)
{
	int rc, rc2;
	size_t n = fz_read(data, size, 0, true, &rc);

	/* Resuming at the offset of the middle SYN gives the second half again, same ending. */
	if (n == 0 || n > FZ_MAX_SYNS)
		return;
	size_t k = n / 2;
	size_t m = fz_read(data, size, fz_offsets[k], false, &rc2);
	if (m != n - k || rc2 != rc)
		abort();
}

static void fz_packet(const uint8_t *data, size_t size)
{
	int dlt = fz_dlts[data[0] % (sizeof fz_dlts / sizeof fz_dlts[0])];
	size_t len = size - 1;
	/* An exact-size copy, so that ASan sees any read past the packet. */
	uint8_t *pkt = malloc(len ? len : 1);
	ev_syn s;

	if (pkt == NULL)
		abort();
	memcpy(pkt, data + 1, len);
	int v = cap_decode(dlt, pkt, len, &s);
	if (v < CAP_SYN || v > CAP_BAD_LINK || (v == CAP_BAD_LINK) != (cap_link_of(dlt) < 0))
		abort();
	if (v == CAP_SYN)
		fz_check_syn(&s);
	free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_reader == NULL && cap_new(&fz_reader) != 0)
		abort();
	cap_set_port(fz_reader, 0);
	if (size == 0)
		return 0;
	if (fz_is_capture(data, size))
		fz_capture(data, size);
	else
		fz_packet(data, size);
	return 0;
}
