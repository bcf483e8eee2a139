/* fuzz_mlog.c: fuzz target for the mail log reader: line parser, and file reader against a plain split. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../ingest/mlog.h"
#include "../../zone/addr.h"
#include "../../zone/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 2024-06-15T00:00:00Z, a fixed reference so that runs repeat. */
#define FZ_REF 1718409600
/* 10000-01-01T00:00:00Z in microseconds: no stamp reads later than this. */
#define FZ_MAX_US 253402300800000000ull

/* What any event must look like. */
static void fz_check_event(const ev_reject *ev)
{
	static const uint8_t zero[16], v4zero[16] = { [10] = 0xff, [11] = 0xff };
	size_t n = strnlen(ev->zone, sizeof ev->zone);
	char text[64];
	addr_pfx back;
	int len;

	if (ev->mta < EV_MTA_POSTFIX || ev->mta > EV_MTA_SENDMAIL || n == sizeof ev->zone)
		abort();
	for (size_t i = 0; i < n; i++)
		if (ev->zone[i] <= 0x20 || ev->zone[i] >= 0x7f ||
		    (ev->zone[i] >= 'A' && ev->zone[i] <= 'Z'))
			abort();
	if (n > 0 && (ev->zone[0] == '.' || ev->zone[n - 1] == '.'))
		abort();
	if (n == 0 && ev->mta != EV_MTA_POSTSCREEN)
		abort();
	/* A real client address: not unspecified, and it prints and reads back as itself. */
	if (memcmp(ev->addr, zero, 16) == 0 || memcmp(ev->addr, v4zero, 16) == 0)
		abort();
	len = addr_format_addr(ev->addr, addr_is_v4_addr(ev->addr), text, sizeof text);
	if (len <= 0 || addr_parse(text, (size_t)len, ADDR_NO_LEN, &back) != 0 ||
	    memcmp(back.a, ev->addr, 16) != 0)
		abort();
	if (ev->t_us >= FZ_MAX_US)
		abort();
}

static bool fz_anchor(const uint8_t *s, size_t n)
{
	return memmem(s, n, "reject", 6) || memmem(s, n, "DNSBL rank", 10) ||
	       memmem(s, n, "listed by domain", 16);
}

/* Every line, each in its own exact allocation so that ASan sees a read past its end. */
static void fz_lines(mlog_parser *p, const uint8_t *data, size_t size)
{
	size_t start = 0;

	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t len = nl ? (size_t)(nl - (data + start)) : size - start;
		char *line = malloc(len ? len : 1);
		ev_reject ev;
		int rc;

		if (line == NULL)
			abort();
		memcpy(line, data + start, len);
		rc = mlog_parse_line(p, line, len, &ev);
		if (rc == 1)
			fz_check_event(&ev);
		else if (rc > 1 || (rc < 0 && rc != V6R_ESYNTAX && rc != V6R_ERANGE))
			abort();
		else if (rc < 0 && *mlog_parser_reason(p) == '\0')
			abort();
		if (mlog_has_anchor(line, len) != fz_anchor((const uint8_t *)line, len))
			abort();
		free(line);
		start += len + 1;
	}
}

/* The counters add up to the lines given. */
static void fz_counts(const mlog_parser *p)
{
	uint64_t sum = p->malformed;

	for (int k = 0; k < MLOG_SKIP_COUNT; k++)
		sum += p->skipped[k];
	for (int k = EV_MTA_POSTFIX; k <= EV_MTA_SENDMAIL; k++)
		sum += p->events[k];
	if (sum != p->lines)
		abort();
}

/*
 * Reads data back through the file reader (a memfd) in one mode with small limits taken from the
 * input, and checks every line against a plain split of data.
 */
static void fz_file(const uint8_t *data, size_t size, unsigned mode, size_t max_line, size_t chunk)
{
	int fd = memfd_create("fuzz_mlog", MFD_CLOEXEC);
	size_t s = 0;
	mlog_file *f;
	mlog_line ln;
	int rc;

	if (fd < 0 || (size > 0 && write(fd, data, size) != (ssize_t)size) ||
	    lseek(fd, 0, SEEK_SET) != 0)
		abort();
	if (mlog_file_fdopen(&f, fd) != 0 || mlog_file_set_limits(f, max_line, chunk) != 0)
		abort();
	while ((rc = mlog_file_next(f, mode, &ln)) == 1) {
		const uint8_t *nl;
		size_t raw;

		/* The next reference line the mode yields. */
		for (;;) {
			if (s >= size)
				abort();
			nl = memchr(data + s, '\n', size - s);
			raw = nl ? (size_t)(nl - (data + s)) : size - s;
			if (mode == MLOG_ALL || fz_anchor(data + s, raw))
				break;
			s += raw + 1;
		}
		if (ln.offset != s || ln.next_offset != s + raw + (nl != NULL) ||
		    ln.no_newline != (nl == NULL) || ln.too_long != (raw > max_line))
			abort();
		if (ln.too_long ? ln.len != raw || ln.text != NULL
		                : ln.len != raw - (raw > 0 && data[s + raw - 1] == '\r') ||
		                  memcmp(ln.text, data + s, ln.len) != 0)
			abort();
		s += raw + 1;
	}
	if (rc != 0)
		abort();
	/* Nothing left that the mode should have yielded. */
	while (s < size) {
		const uint8_t *nl = memchr(data + s, '\n', size - s);
		size_t raw = nl ? (size_t)(nl - (data + s)) : size - s;

		if (mode == MLOG_ALL || fz_anchor(data + s, raw))
			abort();
		s += raw + 1;
	}
	mlog_file_close(f);
}

/* Reads gzip data to its end or to an error, which must then have a reason. */
static void fz_gzip(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_mlog", MFD_CLOEXEC);
	mlog_file *f;
	mlog_line ln;
	int rc;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0 ||
	    mlog_file_fdopen(&f, fd) != 0)
		abort();
	if (!mlog_file_compressed(f))
		abort();
	/* Each line consumes input; a bound on the loop all the same. */
	for (unsigned n = 0; (rc = mlog_file_next(f, MLOG_ALL, &ln)) == 1 && n < 10000000u; n++)
		;
	if (rc < 0 && (rc != V6R_EIO || *mlog_file_error(f) == '\0'))
		abort();
	mlog_file_close(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mlog_parser p;
	static bool tz_local;

	mlog_parser_init(&p, FZ_REF);
	/* Alternate the zone setting between runs: fixed UTC and the process's local time. */
	tz_local = !tz_local;
	if (mlog_parser_set_tz(&p, tz_local ? "local" : "UTC") != 0)
		abort();
	fz_lines(&p, data, size);
	fz_counts(&p);

	/* gzip input is decompressed by the reader, so the split does not apply: just read it. */
	if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
		fz_gzip(data, size);
		return 0;
	}
	if (size > 0) {
		/* Small reads (a syscall each, slow) for half the inputs, to hit buffer boundaries. */
		size_t max_line = 1 + data[0] % 97;
		size_t chunk = data[size - 1] & 1 ? 1 + data[size - 1] % 61 : 509;

		fz_file(data, size, MLOG_ALL, max_line, chunk);
		fz_file(data, size, MLOG_CANDIDATES, max_line, chunk);
	}
	fz_file(data, size, MLOG_CANDIDATES, MLOG_LINE_MAX, 1u << 20);
	return 0;
}
