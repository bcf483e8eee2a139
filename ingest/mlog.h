/* mlog.h: the mail log reader: DNSBL rejections from Postfix, postscreen, Exim and Sendmail logs. */
#ifndef V6R_MLOG_H
#define V6R_MLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

/*
 * Two halves. The line parser turns one log line into at most one ev_reject; the file reader
 * yields the lines of a plain or gzip-compressed file with their numbers and byte offsets, and
 * can pass over lines that cannot be rejections without looking at them one by one.
 *
 * What counts as a rejection (one event each; the exact field rules are in INPUTS.md section 2):
 *  - Postfix smtpd, tag postfix[-NAME]/[SERVICE/]smtpd[PID]:
 *      QID|NOQUEUE: reject: STATE from NAME[ADDR][:PORT]: CODE ... Client host [ADDR] blocked
 *      using ZONE[; ...]
 *  - postscreen (EV_MTA_POSTSCREEN): "DNSBL rank N for [ADDR]:PORT" (zone ""), the enforce reject
 *      NOQUEUE: reject: STATE from [ADDR]:PORT: CODE ... client [ADDR] blocked using ZONE;
 *      from=<..>, ...
 *    and dnsblog's "addr ADDR listed by domain ZONE as 127.0.0.X" (port 0).
 *  - Exim (tag exim* or an Exim main log line): H=[NAME ][(HELO) ][ADDR][:PORT] ... rejected ...,
 *    where the text after "rejected" names a DNS list: "is listed at ZONE", "is in a black list at
 *    ZONE", "found in dnsbl ZONE" or "listed at ZONE".
 *  - Sendmail (tag sm-mta or sendmail): ruleset=check_rcpt|check_relay|check_mail, ...,
 *    relay=[NAME ][[IPv6:]ADDR][ (may be forged)], reject=... with "Rejected: ADDR listed at ZONE",
 *    "Rejected ADDR found in ZONE" or "refused by blackhole site ZONE".
 * Only blocklists of the client address count: RHSBL hits (sender, HELO or client name blocked),
 * Postfix reject_warning, and rejections for other reasons are not events.
 *
 * Timestamps: RFC 3164 "Mmm dd hh:mm:ss" (day space- or zero-padded; month names in English,
 * French, German, Spanish, Italian, Portuguese or Dutch, any case, trailing dot optional), with
 * the year inferred (see mlog_parser_set_ref); RFC 3339 / ISO 8601 with 0-9 fraction digits
 * (microseconds kept) and Z, +hh:mm, +hhmm or +hh; Exim's "YYYY-MM-DD HH:MM:SS[.mmm][ +hhmm]"
 * with an optional "[pid]". A stamp without a zone is read in the parser's time zone. A leading
 * syslog "<PRI>" and a final CR are ignored.
 *
 * Addresses: anything addr_parse reads (bare IPv6, dotted IPv4, ::ffff:a.b.c.d, which is the same
 * bytes as a.b.c.d), optionally prefixed "IPv6:"; the unspecified address is malformed.
 * ev_reject.zone is the zone as logged, lower-cased, without a "=FILTER" suffix or final dot.
 */

/* Why a line gave no event (mlog_parser.skipped[]). */
enum mlog_skip {
	MLOG_SKIP_NOANCHOR = 0, /* none of the anchor strings: cannot be a rejection */
	MLOG_SKIP_UNKNOWN,      /* an anchor, but not a line of a program or shape read here */
	MLOG_SKIP_OTHER,        /* a rejection for another reason (user unknown, relay, ...) */
	MLOG_SKIP_RHSBL,        /* a domain blocklist (sender, HELO or client name) */
	MLOG_SKIP_WARNING,      /* Postfix reject_warning: the MTA logged but did not reject */
	MLOG_SKIP_COUNT
};

/* Returns a static name for an mlog_skip value ("noanchor", "unknown", ...). */
const char *mlog_skip_name(int kind);

/*
 * The parser's state: settings, year inference and counters. Initialise with mlog_parser_init;
 * it holds no resources. The counters are for the caller to read.
 */
typedef struct mlog_parser {
	/* counters */
	uint64_t lines;                     /* lines given to mlog_parse_line */
	uint64_t events[5];                 /* events by enum ev_mta (index 0 unused) */
	uint64_t skipped[MLOG_SKIP_COUNT];  /* lines that returned 0, by kind */
	uint64_t malformed;                 /* lines that returned a negative code */
	/* settings */
	int64_t ref_s;          /* reference time for year inference, Unix seconds */
	bool tz_fixed;          /* false: the process's local time (TZ) */
	int32_t tz_off_s;       /* the fixed offset east of UTC, when tz_fixed */
	/* year inference */
	bool have_year;
	int year;               /* year of the last line read in order */
	int last_mon;           /* its month, 1..12 */
	int ref_year;           /* year of ref_s in the parser's zone */
	/* local time: the UTC offset of the last local hour converted */
	int64_t hour_key;
	int64_t hour_off;
	char reason[160];       /* why the last line was malformed */
} mlog_parser;

/*
 * Initialises p with reference time ref_s (Unix seconds; normally the file's mtime, see
 * mlog_parser_set_ref) and the process's local time zone (TZ), counters zero.
 */
void mlog_parser_init(mlog_parser *p, int64_t ref_s);

/*
 * Sets the zone that stamps without one are read in: "local" (or NULL or "": the process's TZ,
 * read through mktime, so set TZ before parsing), "UTC", "GMT" or "Z", or a fixed offset
 * "[UTC|GMT]+hh[:mm]" / "-hhmm". Returns 0 or V6R_EINVAL (p unchanged). Named zones such as
 * "Europe/Paris" are not read here: export TZ=Europe/Paris and use "local".
 */
int mlog_parser_set_tz(mlog_parser *p, const char *spec);

/*
 * Starts year inference afresh with reference time ref_s; call it before each file with the
 * file's mtime (the last line of a log was written no later than that). The first RFC 3164 line
 * takes the reference's year; each later one follows the previous line read in order: a month
 * more than six months before the previous one is a new year (Dec -> Jan), a month more than
 * six after it is a late line of the year before (and leaves the state alone). Any stamp that
 * would then be more than a day after the reference belongs to the year before. A stamp with a
 * year (RFC 3339, Exim) sets the state to its own year and month.
 */
void mlog_parser_set_ref(mlog_parser *p, int64_t ref_s);

/*
 * Parses one line line[0..len) (without the newline; no NUL needed, NUL bytes allowed).
 * Returns 1 with *out filled when the line is a DNSBL rejection of a client address, 0 when it
 * is not (p->skipped[kind] counted), or a negative code when it is a line of a kind read here
 * that does not parse (p->malformed counted; mlog_parser_reason says why): V6R_ESYNTAX, or
 * V6R_ERANGE for a number or date out of range. *out is written only when 1 is returned.
 */
int mlog_parse_line(mlog_parser *p, const char *line, size_t len, ev_reject *out);

/* The same for a line that mlog_file_next gave in MLOG_CANDIDATES mode: its anchor is not
 * looked for again. */
int mlog_parse_candidate(mlog_parser *p, const char *line, size_t len, ev_reject *out);

/* Why the last negative return happened, quoting the offending text; "" before any. */
const char *mlog_parser_reason(const mlog_parser *p);

/*
 * The cheap test that decides whether a line is looked at further: true when s[0..n) contains
 * "reject", "DNSBL rank" or "listed by domain". Lines without one are MLOG_SKIP_NOANCHOR.
 */
bool mlog_has_anchor(const char *s, size_t n);

/* For tests: the vector width of the byte scans (0 bytewise, 1 SSE2, 2 AVX2); -1 the best. */
void mlog_simd(int level);

/* ---- files ---- */

/* Lines longer than this many bytes (without the newline) are reported too_long, not read. */
#define MLOG_LINE_MAX 65536u

typedef struct mlog_file mlog_file;

/* One line of a file. text is not NUL-terminated and is valid until the next mlog_file_next. */
typedef struct mlog_line {
	const char *text;       /* NULL when too_long */
	size_t len;             /* bytes without the newline (and without a CR before it) */
	uint64_t lineno;        /* 1-based */
	uint64_t offset;        /* byte offset of the line in the (uncompressed) stream */
	uint64_t next_offset;   /* offset just past its newline: where to resume after this line */
	bool too_long;          /* longer than the limit: malformed, text not kept */
	bool no_newline;        /* the last line of the stream, without a newline: when the file
	                           is still being written it may be incomplete */
} mlog_line;

/* Modes of mlog_file_next. */
#define MLOG_ALL        0u  /* every line */
#define MLOG_CANDIDATES 1u  /* only the lines for which mlog_has_anchor is true */

/*
 * Opens path for reading; gzip files (magic 1f 8b, several members allowed) are decompressed,
 * anything else is read as is. On success *out owns the file (mlog_file_close). Returns 0,
 * V6R_EIO (errno kept) or V6R_ENOMEM. The file and its buffer are allocated once (the buffer
 * at the first read); nothing is allocated per line.
 */
int mlog_file_open(mlog_file **out, const char *path);

/*
 * Same, continuing at byte offset `offset` of the uncompressed stream, which must be the start
 * of a line (0, or a next_offset returned before); `lineno` is that line's number (1 for the
 * first line). A gzip file is decompressed up to the offset. Returns V6R_ERANGE when the offset
 * lies past the end or not at a line start (the file was truncated or replaced).
 */
int mlog_file_open_at(mlog_file **out, const char *path, uint64_t offset, uint64_t lineno);

/* Reads from fd (a pipe too; gzip is recognised only when fd can seek). Takes ownership of fd. */
int mlog_file_fdopen(mlog_file **out, int fd);

/*
 * Yields the next line (mode MLOG_ALL) or the next candidate line (MLOG_CANDIDATES; the others
 * are passed over in bulk, still counted in line numbers). A final line without a newline is
 * yielded too. A line longer than the limit is yielded once with too_long set (in
 * MLOG_CANDIDATES mode only when it contains an anchor), its bytes dropped as they are read.
 * Returns 1, 0 at the end, V6R_EIO (read error or corrupt or truncated gzip data;
 * mlog_file_error says which) or V6R_ENOMEM (first call). Both modes may be mixed on one file.
 */
int mlog_file_next(mlog_file *f, unsigned mode, mlog_line *out);

/*
 * Offset in the (uncompressed) stream of the first byte not consumed yet: after the last line
 * yielded or passed over. At the end of a file in MLOG_CANDIDATES mode this is past the trailing
 * lines that were passed over, which next_offset of the last yielded line is not.
 */
uint64_t mlog_file_offset(const mlog_file *f);

/* Lines read so far (yielded or passed over, the current one included). */
uint64_t mlog_file_lines(const mlog_file *f);

/* True when the file is gzip-compressed. */
bool mlog_file_compressed(const mlog_file *f);

/* A short description of the last V6R_EIO ("Input/output error", "invalid block type"). */
const char *mlog_file_error(const mlog_file *f);

/*
 * For tests: lowers the line limit (1..MLOG_LINE_MAX) and the most bytes asked of each read
 * (1..the buffer size), so that small inputs exercise the buffer boundaries. Call before the
 * first mlog_file_next. Returns 0 or V6R_EINVAL.
 */
int mlog_file_set_limits(mlog_file *f, size_t max_line, size_t read_chunk);

/* Closes the file and frees it; NULL is allowed. */
void mlog_file_close(mlog_file *f);

#endif
