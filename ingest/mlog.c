/* mlog.c: the mail log reader: DNSBL rejections from Postfix, postscreen, Exim and Sendmail logs. */
#include "mlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MLOG_AVX2 1
#endif

#include "../zone/addr.h"
#include "../zone/err.h"

#define LIT(s) (s), (sizeof(s) - 1)

/* ---------------------------------------------------------------- small text helpers ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Advances *pp past the literal lit when the text starts with it. */
static bool eat(const char **pp, const char *e, const char *lit, size_t n)
{
	if ((size_t)(e - *pp) < n || memcmp(*pp, lit, n) != 0)
		return false;
	*pp += n;
	return true;
}

static const char *find(const char *p, const char *e, const char *lit, size_t n)
{
	return p < e ? memmem(p, (size_t)(e - p), lit, n) : NULL;
}

/*
 * Finds lit in p[0..e) by its byte lit[key], which should be rare in logs: memchr for it is
 * faster than memmem on short lines.
 */
static const char *find_key(const char *p, const char *e, const char *lit, size_t n, size_t key)
{
	const char *q = p + key;

	while (q < e && (size_t)(e - q) >= n - key) {
		q = memchr(q, lit[key], (size_t)(e - q));
		if (q == NULL)
			break;
		if ((size_t)(e - q) >= n - key && memcmp(q - key, lit, n) == 0)
			return q - key;
		q++;
	}
	return NULL;
}

/* True when the n bytes before end (not before start) are lit. */
static bool ends_with(const char *start, const char *end, const char *lit, size_t n)
{
	return (size_t)(end - start) >= n && memcmp(end - n, lit, n) == 0;
}

/* Reads min..max decimal digits at *pp into *val and advances. */
static bool digits(const char **pp, const char *e, unsigned min, unsigned max, uint32_t *val)
{
	const char *p = *pp;
	uint32_t v = 0;
	unsigned n = 0;

	while (p < e && n < max && is_digit(*p)) {
		v = v * 10 + (uint32_t)(*p++ - '0');
		n++;
	}
	if (n < min)
		return false;
	*pp = p;
	*val = v;
	return true;
}

/* Records why a line is malformed, quoting (a printable rendering of) s[0..e), and returns rc. */
static int bad(mlog_parser *p, int rc, const char *what, const char *s, const char *e)
{
	char q[52];
	size_t n = 0;

	for (; s < e && n < 48; s++)
		q[n++] = (*s >= 0x20 && *s < 0x7f && *s != '"') ? *s : '?';
	q[n] = '\0';
	snprintf(p->reason, sizeof p->reason, "%s \"%s%s\"", what, q, s < e ? "..." : "");
	return rc;
}

/* ---------------------------------------------------------------------- anchors ---- */

/*
 * The anchors are found through one key byte each ('j' of "reject", "BL" of "DNSBL rank",
 * "y.d" of "by domain"), rare in mail logs, then compared whole. None holds a newline, so an
 * anchor never spans two lines.
 */
static const char *anchor_at(const char *s, size_t n, size_t i)
{
	switch (s[i]) {
	case 'j':
		if (i >= 2 && n - i >= 4 && memcmp(s + i - 2, "reject", 6) == 0)
			return s + i - 2;
		break;
	case 'B':
		if (i >= 3 && n - i >= 7 && memcmp(s + i - 3, "DNSBL rank", 10) == 0)
			return s + i - 3;
		break;
	case 'y':
		if (i >= 8 && n - i >= 8 && memcmp(s + i - 8, "listed by domain", 16) == 0)
			return s + i - 8;
		break;
	default:
		break;
	}
	return NULL;
}

/* Returns the first anchor found in s[0..n) (by key byte position), or NULL: 16 bytes a step. */
static const char *anchor_find_sse2(const char *s, size_t n)
{
	size_t i = 0;

#ifdef __SSE2__
	const __m128i vj = _mm_set1_epi8('j'), vb = _mm_set1_epi8('B'), vl = _mm_set1_epi8('L');
	const __m128i vy = _mm_set1_epi8('y'), vd = _mm_set1_epi8('d');

	for (; i + 18 <= n; i += 16) {
		__m128i a = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
		__m128i b = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
		__m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + i + 2));
		__m128i bl = _mm_and_si128(_mm_cmpeq_epi8(a, vb), _mm_cmpeq_epi8(b, vl));
		__m128i yd = _mm_and_si128(_mm_cmpeq_epi8(a, vy), _mm_cmpeq_epi8(c, vd));
		__m128i m = _mm_or_si128(_mm_cmpeq_epi8(a, vj), _mm_or_si128(bl, yd));
		unsigned mask = (unsigned)_mm_movemask_epi8(m);

		while (mask != 0) {
			const char *hit = anchor_at(s, n, i + (unsigned)__builtin_ctz(mask));

			if (hit != NULL)
				return hit;
			mask &= mask - 1;
		}
	}
#endif
	for (; i < n; i++) {
		const char *hit = anchor_at(s, n, i);

		if (hit != NULL)
			return hit;
	}
	return NULL;
}

#ifdef MLOG_AVX2
/* The same, 32 bytes a step (the scan over every byte of a log is most of reading it). */
__attribute__((target("avx2"))) static const char *anchor_find_avx2(const char *s, size_t n)
{
	size_t i = 0;
	const __m256i vj = _mm256_set1_epi8('j'), vb = _mm256_set1_epi8('B'), vl = _mm256_set1_epi8('L');
	const __m256i vy = _mm256_set1_epi8('y'), vd = _mm256_set1_epi8('d');

	for (; i + 34 <= n; i += 32) {
		__m256i a = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
		__m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 1));
		__m256i c = _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 2));
		__m256i bl = _mm256_and_si256(_mm256_cmpeq_epi8(a, vb), _mm256_cmpeq_epi8(b, vl));
		__m256i yd = _mm256_and_si256(_mm256_cmpeq_epi8(a, vy), _mm256_cmpeq_epi8(c, vd));
		__m256i m = _mm256_or_si256(_mm256_cmpeq_epi8(a, vj), _mm256_or_si256(bl, yd));
		unsigned mask = (unsigned)_mm256_movemask_epi8(m);

		while (mask != 0) {
			const char *hit = anchor_at(s, n, i + (unsigned)__builtin_ctz(mask));

			if (hit != NULL)
				return hit;
			mask &= mask - 1;
		}
	}
	/* The tail bytewise, on the same base: an anchor may begin before i. */
	for (; i < n; i++) {
		const char *hit = anchor_at(s, n, i);

		if (hit != NULL)
			return hit;
	}
	return NULL;
}
#endif

/* 0: bytewise, 1: SSE2, 2: AVX2 where the CPU has it (the default; tests force the others). */
static int simd_level = -1;

void mlog_simd(int level)
{
#ifdef MLOG_AVX2
	if (level >= 2 && !__builtin_cpu_supports("avx2"))
		level = 1;
#else
	if (level >= 2)
		level = 1;
#endif
	simd_level = level;
}

static int simd(void)
{
	if (simd_level < 0) {
#ifdef MLOG_AVX2
		simd_level = __builtin_cpu_supports("avx2") ? 2 : 1;
#else
		simd_level = 1;
#endif
	}
	return simd_level;
}

static const char *anchor_find(const char *s, size_t n)
{
#ifdef MLOG_AVX2
	if (simd() >= 2)
		return anchor_find_avx2(s, n);
#endif
	if (simd() >= 1)
		return anchor_find_sse2(s, n);
	for (size_t i = 0; i < n; i++) {
		const char *hit = anchor_at(s, n, i);
		if (hit != NULL)
			return hit;
	}
	return NULL;
}

bool mlog_has_anchor(const char *s, size_t n)
{
	return anchor_find(s, n) != NULL;
}

/* Counts the newlines in s[0..n). */
static uint64_t count_nl_sse2(const char *s, size_t n)
{
	uint64_t total = 0;
	size_t i = 0;

#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();

	while (i + 16 <= n) {
		__m128i acc = zero;

		/* Each byte lane counts to at most 255 before the lanes are summed. */
		for (unsigned k = 0; k < 255 && i + 16 <= n; k++, i += 16)
			acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(
				_mm_loadu_si128((const __m128i *)(const void *)(s + i)), nl));
		__m128i sad = _mm_sad_epu8(acc, zero);
		total += (uint64_t)_mm_cvtsi128_si32(sad) +
		         (uint64_t)_mm_cvtsi128_si32(_mm_unpackhi_epi64(sad, sad));
	}
#endif
	for (; i < n; i++)
		total += s[i] == '\n';
	return total;
}

#ifdef MLOG_AVX2
__attribute__((target("avx2"))) static uint64_t count_nl_avx2(const char *s, size_t n)
{
	uint64_t total = 0;
	size_t i = 0;
	const __m256i nl = _mm256_set1_epi8('\n'), zero = _mm256_setzero_si256();

	while (i + 32 <= n) {
		__m256i acc = zero;

		for (unsigned k = 0; k < 255 && i + 32 <= n; k++, i += 32)
			acc = _mm256_sub_epi8(acc, _mm256_cmpeq_epi8(
				_mm256_loadu_si256((const __m256i *)(const void *)(s + i)), nl));
		__m256i sad = _mm256_sad_epu8(acc, zero);
		total += (uint64_t)_mm256_extract_epi64(sad, 0) + (uint64_t)_mm256_extract_epi64(sad, 1) +
		         (uint64_t)_mm256_extract_epi64(sad, 2) + (uint64_t)_mm256_extract_epi64(sad, 3);
	}
	return total + count_nl_sse2(s + i, n - i);
}
#endif

static uint64_t count_nl(const char *s, size_t n)
{
#ifdef MLOG_AVX2
	if (simd() >= 2)
		return count_nl_avx2(s, n);
#endif
	if (simd() >= 1)
		return count_nl_sse2(s, n);
	uint64_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += s[i] == '\n';
	return total;
}

/* ------------------------------------------------------------------------ times ---- */

/* A parsed time stamp; year 0 when the stamp has none (RFC 3164). */
typedef struct stamp {
	int year, mon, day, hour, min, sec;
	uint32_t usec;
	bool has_off;
	int32_t off_s;
} stamp;

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + (int64_t)doe - 719468;
}

/* The year of day z (days since 1970-01-01). */
static int year_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;

	return (int)((int64_t)yoe + era * 400 + (mp >= 10));
}

static int days_in_month(int y, int m)
{
	static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dim[m - 1];
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * Local time to Unix seconds through mktime, which follows TZ. mktime is slow (it may stat the
 * zone file), so the offset of the last local hour is kept: zone changes fall on whole hours.
 */
static int local_secs(mlog_parser *p, int64_t naive, const stamp *st, int year, int64_t *out)
{
	int64_t key = floor_div(naive, 3600);

	if (key != p->hour_key) {
		struct tm tm;

		memset(&tm, 0, sizeof tm);
		tm.tm_year = year - 1900;
		tm.tm_mon = st->mon - 1;
		tm.tm_mday = st->day;
		tm.tm_hour = st->hour;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t == (time_t)-1)
			return V6R_ERANGE;
		p->hour_key = key;
		p->hour_off = key * 3600 - (int64_t)t;
	}
	*out = naive - p->hour_off;
	return 0;
}

/* Unix seconds of st read in year `year`. Days past the month's end roll over (checked later). */
static int stamp_secs_in(mlog_parser *p, const stamp *st, int year, int64_t *out)
{
	int64_t naive = days_from_civil(year, (unsigned)st->mon, (unsigned)st->day) * 86400 +
	                st->hour * 3600 + st->min * 60 + st->sec;

	if (st->has_off) {
		*out = naive - st->off_s;
		return 0;
	}
	if (p->tz_fixed) {
		*out = naive - p->tz_off_s;
		return 0;
	}
	return local_secs(p, naive, st, year, out);
}

/* Picks the year of a year-less stamp (see mlog_parser_set_ref) and converts it. */
static int infer_secs(mlog_parser *p, const stamp *st, int *year, int64_t *out)
{
	bool in_order = true;
	int rc;

	if (!p->have_year) {
		p->have_year = true;
		p->year = p->ref_year;
		p->last_mon = st->mon;
	}
	if (st->mon - p->last_mon < -6)
		p->year++;
	else if (st->mon - p->last_mon > 6)
		in_order = false;
	if (in_order)
		p->last_mon = st->mon;
	*year = in_order ? p->year : p->year - 1;
	rc = stamp_secs_in(p, st, *year, out);
	if (rc == 0 && *out > p->ref_s + 86400) {
		(*year)--;
		if (in_order)
			p->year = *year;
		rc = stamp_secs_in(p, st, *year, out);
	}
	return rc;
}

/* Converts a stamp to UTC microseconds, updating the year inference state. */
static int stamp_utc(mlog_parser *p, const stamp *st, uint64_t *t_us)
{
	int year = st->year;
	int64_t secs;
	int rc;

	if (year == 0) {
		rc = infer_secs(p, st, &year, &secs);
	} else {
		p->have_year = true;
		p->year = year;
		p->last_mon = st->mon;
		rc = stamp_secs_in(p, st, year, &secs);
	}
	if (rc < 0)
		return rc;
	if (year < 1970 || year > 9999 || st->day > days_in_month(year, st->mon) || secs < 0)
		return V6R_ERANGE;
	*t_us = (uint64_t)secs * 1000000u + st->usec;
	return 0;
}

/* Month names as %b writes them in several locales, folded to lower case, without a final dot. */
static const struct month_name {
	char name[7];
	uint8_t mon;
} month_names[] = {
	{ "jan", 1 }, { "feb", 2 }, { "mar", 3 }, { "apr", 4 }, { "may", 5 }, { "jun", 6 },
	{ "jul", 7 }, { "aug", 8 }, { "sep", 9 }, { "oct", 10 }, { "nov", 11 }, { "dec", 12 },
	/* French (fr_FR) and its spellings without accents */
	{ "janv", 1 }, { "f\xc3\xa9vr", 2 }, { "fevr", 2 }, { "f\xc3\xa9v", 2 }, { "fev", 2 },
	{ "mars", 3 }, { "avr", 4 }, { "mai", 5 }, { "juin", 6 }, { "juil", 7 },
	{ "ao\xc3\xbbt", 8 }, { "aout", 8 }, { "sept", 9 }, { "d\xc3\xa9" "c", 12 },
	/* German (de_DE; "Mrz" in older locales) */
	{ "m\xc3\xa4r", 3 }, { "mrz", 3 }, { "okt", 10 }, { "dez", 12 },
	/* Spanish (es_ES) */
	{ "ene", 1 }, { "abr", 4 }, { "ago", 8 }, { "dic", 12 },
	/* Italian, Portuguese, Dutch */
	{ "gen", 1 }, { "mag", 5 }, { "giu", 6 }, { "lug", 7 }, { "set", 9 }, { "ott", 10 },
	{ "out", 10 }, { "mrt", 3 }, { "mei", 5 },
};

/* Folds ASCII and Latin-1 supplement letters (UTF-8 C3 80..9E) to lower case. */
static size_t fold_month(const char *s, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			c += 0x20;
		else if (i > 0 && (unsigned char)s[i - 1] == 0xc3 && c >= 0x80 && c <= 0x9e &&
		         c != 0x97)
			c += 0x20;
		out[i] = (char)c;
	}
	return n;
}

/* Reads a month name token s[0..n) (a final dot allowed). Returns 1..12 or 0. */
static int month_of(const char *s, size_t n)
{
	char name[7] = { 0 };

	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n < 3 || n > 6)
		return 0;
	fold_month(s, n, name);
	/* Names are NUL-padded to 7 bytes in the table and here, so one fixed-size compare. */
	for (size_t i = 0; i < sizeof month_names / sizeof month_names[0]; i++)
		if (memcmp(month_names[i].name, name, sizeof name) == 0)
			return month_names[i].mon;
	return 0;
}

/* Reads "hh:mm:ss[.frac]" into st. */
static const char *parse_hms(const char *p, const char *e, stamp *st)
{
	uint32_t h, m, s, f = 0;

	if (!digits(&p, e, 2, 2, &h) || !eat(&p, e, LIT(":")) || !digits(&p, e, 2, 2, &m) ||
	    !eat(&p, e, LIT(":")) || !digits(&p, e, 2, 2, &s))
		return NULL;
	st->hour = (int)h;
	st->min = (int)m;
	st->sec = (int)s;
	st->usec = 0;
	if (p + 1 < e && (*p == '.' || *p == ',') && is_digit(p[1])) {
		unsigned n = 0;

		for (p++; p < e && is_digit(*p); p++, n++)
			if (n < 6)
				f = f * 10 + (uint32_t)(*p - '0');
		if (n > 9)
			return NULL;
		for (; n < 6; n++)
			f *= 10;
		st->usec = f;
	}
	return p;
}

/* RFC 3164 "Mmm dd hh:mm:ss" (one or two spaces, day with or without a leading zero). */
static const char *parse_3164(const char *p, const char *e, stamp *st)
{
	const char *sp = memchr(p, ' ', (size_t)(e - p) < 8 ? (size_t)(e - p) : 8);
	uint32_t day;

	if (sp == NULL || (st->mon = month_of(p, (size_t)(sp - p))) == 0)
		return NULL;
	p = sp;
	while (p < e && *p == ' ' && p - sp < 2)
		p++;
	if (!digits(&p, e, 1, 2, &day) || !eat(&p, e, LIT(" ")))
		return NULL;
	st->year = 0;
	st->day = (int)day;
	st->has_off = false;
	return parse_hms(p, e, st);
}

/* A zone "Z", "+hh:mm", "+hhmm" or "+hh" at *pp (sign '+' or '-'). */
static bool parse_zone_off(const char **pp, const char *e, stamp *st)
{
	const char *p = *pp;
	uint32_t h, m = 0;
	int sign;

	if (p < e && (*p == 'Z' || *p == 'z')) {
		st->has_off = true;
		st->off_s = 0;
		*pp = p + 1;
		return true;
	}
	if (p >= e || (*p != '+' && *p != '-'))
		return false;
	sign = *p++ == '-' ? -1 : 1;
	if (!digits(&p, e, 2, 2, &h))
		return false;
	if (p + 2 < e && *p == ':' && is_digit(p[1]))
		p++;
	if (p < e && is_digit(*p) && !digits(&p, e, 2, 2, &m))
		return false;
	if (h > 23 || m > 59)
		return false;
	st->has_off = true;
	st->off_s = sign * (int32_t)(h * 3600 + m * 60);
	*pp = p;
	return true;
}

/*
 * RFC 3339 / ISO 8601 "YYYY-MM-DDTHH:MM:SS[.f][zone]", or Exim's form with a space for the T and
 * an optional " +hhmm". *exim tells which separator was used.
 */
static const char *parse_iso(const char *p, const char *e, stamp *st, bool *exim)
{
	uint32_t y, mo, d;

	if (!digits(&p, e, 4, 4, &y) || !eat(&p, e, LIT("-")) || !digits(&p, e, 2, 2, &mo) ||
	    !eat(&p, e, LIT("-")) || !digits(&p, e, 2, 2, &d) || p >= e)
		return NULL;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return NULL;
	*exim = *p++ == ' ';
	st->year = (int)y;
	st->mon = (int)mo;
	st->day = (int)d;
	st->has_off = false;
	if ((p = parse_hms(p, e, st)) == NULL)
		return NULL;
	if (!*exim) {
		if (p < e && *p != ' ' && !parse_zone_off(&p, e, st))
			return NULL;
	} else if (p + 6 <= e && p[0] == ' ' && (p[1] == '+' || p[1] == '-') && is_digit(p[2]) &&
	           is_digit(p[3]) && is_digit(p[4]) && is_digit(p[5]) &&
	           (p + 6 == e || p[6] == ' ')) {
		const char *z = p + 1;

		if (!parse_zone_off(&z, e, st))
			return NULL;
		p = z;
	}
	return p;
}

static bool stamp_in_range(const stamp *st)
{
	return (st->year == 0 || (st->year >= 1970 && st->year <= 9999)) && st->mon >= 1 &&
	       st->mon <= 12 && st->day >= 1 && st->day <= 31 && st->hour <= 23 && st->min <= 59 &&
	       st->sec <= 60;
}

/* -------------------------------------------------------------- parser settings ---- */

const char *mlog_skip_name(int kind)
{
	static const char *const names[MLOG_SKIP_COUNT] = {
		"noanchor", "unknown", "other", "rhsbl", "warning",
	};

	return kind >= 0 && kind < MLOG_SKIP_COUNT ? names[kind] : "?";
}

static void set_ref_year(mlog_parser *p)
{
	if (p->tz_fixed) {
		p->ref_year = year_from_days(floor_div(p->ref_s + p->tz_off_s, 86400));
	} else {
		time_t t = (time_t)p->ref_s;
		struct tm tm;

		p->ref_year = localtime_r(&t, &tm) ? tm.tm_year + 1900
		                                    : year_from_days(floor_div(p->ref_s, 86400));
	}
}

void mlog_parser_init(mlog_parser *p, int64_t ref_s)
{
	memset(p, 0, sizeof *p);
	p->hour_key = INT64_MIN;
	mlog_parser_set_ref(p, ref_s);
}

void mlog_parser_set_ref(mlog_parser *p, int64_t ref_s)
{
	p->ref_s = ref_s;
	p->have_year = false;
	set_ref_year(p);
}

int mlog_parser_set_tz(mlog_parser *p, const char *spec)
{
	stamp st;
	const char *s = spec, *e;

	if (s == NULL || *s == '\0' || strcmp(s, "local") == 0) {
		p->tz_fixed = false;
		goto done;
	}
	e = s + strlen(s);
	if (strncmp(s, "UTC", 3) == 0 || strncmp(s, "GMT", 3) == 0)
		s += 3;
	if (s == e || strcmp(s, "Z") == 0) {
		st.off_s = 0;
	} else if (!parse_zone_off(&s, e, &st) || s != e) {
		return V6R_EINVAL;
	}
	p->tz_fixed = true;
	p->tz_off_s = st.off_s;
done:
	p->hour_key = INT64_MIN;
	set_ref_year(p);
	return 0;
}

const char *mlog_parser_reason(const mlog_parser *p)
{
	return p->reason;
}

/* ---------------------------------------------------------------- addresses, zones ---- */

/* Parses an address text (optionally "IPv6:"-prefixed) into a[16]. The unspecified one fails. */
/* A dotted quad as inet_pton reads one (no leading zeros), into ::ffff:a.b.c.d; false if not one. */
static bool quad(const char *s, const char *e, uint8_t a[16])
{
	uint8_t v4[4];
	for (int i = 0; i < 4; i++) {
		const char *d = s;
		unsigned v = 0;
		while (s < e && is_digit(*s) && s - d < 3)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (s == d || v > 255 || (s - d > 1 && *d == '0'))
			return false;
		v4[i] = (uint8_t)v;
		if (i < 3 && (s == e || *s++ != '.'))
			return false;
	}
	if (s != e)
		return false;
	memset(a, 0, 10);
	a[10] = a[11] = 0xff;
	memcpy(a + 12, v4, 4);
	return true;
}

static int take_addr(const char *s, const char *e, uint8_t a[16])
{
	static const uint8_t zero[16], v4zero[16] = { [10] = 0xff, [11] = 0xff };
	addr_pfx pfx;

	if (quad(s, e, a))             /* the common case, without the general parser */
		return memcmp(a, v4zero, 16) == 0 ? V6R_ESYNTAX : 0;

	if (e - s > 5 && (*s == 'I' || *s == 'i') && strncasecmp(s, "IPv6:", 5) == 0)
		s += 5;
	if (addr_parse(s, (size_t)(e - s), ADDR_NO_LEN, &pfx) != 0)
		return V6R_ESYNTAX;
	if (memcmp(pfx.a, zero, 16) == 0 || memcmp(pfx.a, v4zero, 16) == 0)
		return V6R_ESYNTAX;
	memcpy(a, pfx.a, 16);
	return 0;
}

/* True when the text is meant as an address (has a colon, or is only digits and dots). */
static bool looks_addr(const char *s, const char *e)
{
	if (s == e || memchr(s, ':', (size_t)(e - s)) != NULL)
		return s != e;
	for (; s < e; s++)
		if (!is_digit(*s) && *s != '.')
			return false;
	return true;
}

static bool is_zone_char(char c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '-' || c == '_';
}

/*
 * Reads a DNSBL zone at z: domain characters, then an optional "=FILTER" or "*WEIGHT" suffix up
 * to a blank or ';' or ','. Writes it lower-cased, without final dots, into out.
 */
static int take_zone(mlog_parser *p, const char *z, const char *e, char out[256],
                     const char **endp)
{
	const char *q = z, *end;
	size_t n;

	while (q < e && is_zone_char(*q))
		q++;
	end = q;
	if (q < e && (*q == '=' || *q == '*'))
		while (q < e && *q != ' ' && *q != ';' && *q != ',')
			q++;
	while (end > z && end[-1] == '.')
		end--;
	n = (size_t)(end - z);
	if (n == 0 || *z == '.' || find(z, end, LIT("..")) != NULL)
		return bad(p, V6R_ESYNTAX, "bad DNSBL zone", z, q < e ? q + 1 : e);
	if (n > 253)
		return bad(p, V6R_ERANGE, "DNSBL zone too long", z, end);
	for (size_t i = 0; i < n; i++)
		out[i] = (z[i] >= 'A' && z[i] <= 'Z') ? (char)(z[i] + 0x20) : z[i];
	out[n] = '\0';
	if (endp != NULL)
		*endp = q;
	return 0;
}

/* Reads ":PORT" at *pp when present (0..65535). Returns 0 or a negative code. */
static int take_port(mlog_parser *p, const char **pp, const char *e, uint16_t *port)
{
	const char *q = *pp, *end;
	uint32_t v;

	*port = 0;
	if (q + 1 >= e || *q != ':' || !is_digit(q[1]))
		return 0;
	for (end = ++q; end < e && is_digit(*end); end++)
		;
	if (end - q > 5 || !digits(&q, e, 1, 5, &v) || v > 65535)
		return bad(p, V6R_ERANGE, "bad client port", *pp + 1, end);
	*port = (uint16_t)v;
	*pp = q;
	return 0;
}

/* ------------------------------------------------------------------- line prefix ---- */

enum prog { PROG_OTHER = 0, PROG_POSTFIX_OTHER, PROG_SMTPD, PROG_PSC, PROG_DNSBLOG, PROG_EXIM,
            PROG_SENDMAIL };

/* Classifies a syslog tag name (without "[pid]"). */
static int prog_of(const char *t, size_t n)
{
	const char *slash = memrchr(t, '/', n);

	if (n >= 7 && memcmp(t, "postfix", 7) == 0 && slash != NULL) {
		const char *last = slash + 1;
		size_t ln = (size_t)(t + n - last);

		if (ln == 5 && memcmp(last, "smtpd", 5) == 0)
			return PROG_SMTPD;
		if (ln == 10 && memcmp(last, "postscreen", 10) == 0)
			return PROG_PSC;
		if (ln == 7 && memcmp(last, "dnsblog", 7) == 0)
			return PROG_DNSBLOG;
		return PROG_POSTFIX_OTHER;
	}
	if (n >= 4 && memcmp(t, "exim", 4) == 0)
		return PROG_EXIM;
	if ((n == 6 && memcmp(t, "sm-mta", 6) == 0) || (n == 8 && memcmp(t, "sendmail", 8) == 0))
		return PROG_SENDMAIL;
	return PROG_OTHER;
}

/* Where a line's message starts and which program wrote it. */
typedef struct mline {
	const char *body;
	int prog;
	stamp st;
} mline;

/*
 * Reads "[HOST ]TAG: " at q: TAG is PROG or PROG[PID] followed by a colon. Returns the program
 * (ml->body set) or -1 when there is no such tag.
 */
static int parse_tag(const char *q, const char *e, mline *ml)
{
	const char *sp = memchr(q, ' ', (size_t)(e - q));
	const char *t = q, *te = sp ? sp : e, *lb;

	if (te == t || te[-1] != ':') {
		if (sp == NULL)
			return -1;
		t = sp + 1;
		sp = memchr(t, ' ', (size_t)(e - t));
		te = sp ? sp : e;
		if (te == t || te[-1] != ':')
			return -1;
	}
	te--;
	lb = memchr(t, '[', (size_t)(te - t));
	if (lb != NULL) {
		if (te[-1] != ']')
			return -1;
		te = lb;
	}
	if (te == t)
		return -1;
	ml->body = sp ? sp + 1 : e;
	ml->prog = prog_of(t, (size_t)(te - t));
	return ml->prog;
}

/* Skips an Exim "[pid] " at q. */
static const char *skip_pid(const char *q, const char *e)
{
	const char *r = q;
	uint32_t pid;

	if (r < e && *r == '[' && (r++, digits(&r, e, 1, 10, &pid)) && eat(&r, e, LIT("] ")))
		return r;
	return q;
}

/*
 * Reads the time stamp and the program of a line. Exim main log lines have no tag: a stamp with
 * a space for the T that is not followed by a known syslog tag starts an Exim line. Returns 0
 * or a negative code (reason set).
 */
static int parse_prefix(mlog_parser *p, const char *s, const char *e, mline *ml)
{
	const char *q = s, *r;
	bool exim = false;
	uint32_t pri;

	ml->prog = PROG_OTHER;
	ml->body = e;
	if (q < e && *q == '<' && (r = q + 1, digits(&r, e, 1, 3, &pri)) && eat(&r, e, LIT(">")))
		q = r;
	r = q < e && is_digit(*q) ? parse_iso(q, e, &ml->st, &exim) : parse_3164(q, e, &ml->st);
	if (r == NULL)
		return bad(p, V6R_ESYNTAX, "unrecognised time stamp", q, q + 32 < e ? q + 32 : e);
	if (!stamp_in_range(&ml->st))
		return bad(p, V6R_ERANGE, "time stamp out of range", q, r);
	if (r < e && *r != ' ')
		return bad(p, V6R_ESYNTAX, "unrecognised time stamp", q, r + 1);
	while (r < e && *r == ' ')
		r++;
	if (!exim) {
		if (parse_tag(r, e, ml) < 0) {
			ml->prog = PROG_OTHER;
			ml->body = r;
		}
		return 0;
	}
	r = skip_pid(r, e);
	if (parse_tag(r, e, ml) < PROG_POSTFIX_OTHER) {
		ml->prog = PROG_EXIM;
		ml->body = r;
	}
	return 0;
}

/* An Exim line sent to syslog starts with Exim's own stamp, which has the year: use it. */
static void exim_inner_stamp(mline *ml, const char *e)
{
	stamp st;
	bool exim;
	const char *r;

	if (ml->body >= e || !is_digit(*ml->body))
		return;
	r = parse_iso(ml->body, e, &st, &exim);
	if (r == NULL || !exim || !stamp_in_range(&st) || (r < e && *r != ' '))
		return;
	ml->st = st;
	ml->body = skip_pid(r < e ? r + 1 : r, e);
}

/* -------------------------------------------------------------------- Postfix ---- */

/*
 * The message parsers below return 1 for an event (ev filled), 0 with *kind set for a line
 * that is not one, or a negative code with the reason set.
 */

/*
 * The "Client host [ADDR] blocked using ZONE" part of a Postfix reply starting at reply.
 * client is the address from "from NAME[ADDR]".
 */
static int pfx_blocked(mlog_parser *p, const char *reply, const char *e, ev_reject *ev,
                       const char *client, size_t client_len, int *kind)
{
	const char *bu = find_key(reply, e, LIT("blocked using "), 4), *lb, *cls;
	uint8_t what[16];
	int rc;

	*kind = MLOG_SKIP_OTHER;
	if (bu == NULL || !ends_with(reply, bu, LIT("] ")))
		return 0;
	lb = memrchr(reply, '[', (size_t)(bu - reply));
	if (lb == NULL)
		return 0;
	cls = lb;
	*kind = MLOG_SKIP_RHSBL;
	if (ends_with(reply, cls, LIT("Client host ")))
		cls -= 12;
	else if (ends_with(reply, cls, LIT("client ")))
		cls -= 7;
	else
		return 0;
	if (ends_with(reply, cls, LIT("Unverified ")) || (cls > reply && is_alpha(cls[-1])))
		return 0;
	if (!looks_addr(lb + 1, bu - 2))
		return 0;
	/* The same text as the client's needs no second parse. */
	if ((size_t)(bu - 2 - (lb + 1)) != client_len || memcmp(lb + 1, client, client_len) != 0) {
		if ((rc = take_addr(lb + 1, bu - 2, what)) < 0)
			return bad(p, rc, "bad blocked address", lb + 1, bu - 2);
		if (memcmp(what, ev->addr, 16) != 0)
			return bad(p, V6R_ESYNTAX, "blocked address is not the client", lb + 1,
			           bu - 2);
	}
	if ((rc = take_zone(p, bu + 14, e, ev->zone, NULL)) < 0)
		return rc;
	return 1;
}

/* "QID: reject: STATE from NAME[ADDR][:PORT]: REPLY" from smtpd or postscreen. */
static int pfx_reject(mlog_parser *p, const char *b, const char *e, ev_reject *ev, int *kind)
{
	const char *q = b, *lb, *rb;
	int rc;

	*kind = MLOG_SKIP_UNKNOWN;
	while (q < e && (is_alpha(*q) || is_digit(*q)))
		q++;
	if (q == b || !eat(&q, e, LIT(": ")))
		return 0;
	if (eat(&q, e, LIT("reject_warning: "))) {
		*kind = MLOG_SKIP_WARNING;
		return 0;
	}
	if (!eat(&q, e, LIT("reject: ")))
		return 0;
	rb = q;
	while (q < e && ((*q >= 'A' && *q <= 'Z') || *q == '-'))
		q++;
	if (q == rb || !eat(&q, e, LIT(" from ")))
		return bad(p, V6R_ESYNTAX, "bad reject line", b, q + 1 < e ? q + 1 : e);
	lb = q;
	while (lb < e && *lb != '[' && *lb != ' ')
		lb++;
	rb = lb < e && *lb == '[' ? memchr(lb, ']', (size_t)(e - lb)) : NULL;
	if (rb == NULL)
		return bad(p, V6R_ESYNTAX, "no client address", q, lb + 1 < e ? lb + 1 : e);
	if ((rc = take_addr(lb + 1, rb, ev->addr)) < 0)
		return bad(p, rc, "bad client address", lb + 1, rb);
	q = rb + 1;
	if ((rc = take_port(p, &q, e, &ev->port)) < 0)
		return rc;
	if (!eat(&q, e, LIT(": ")))
		return bad(p, V6R_ESYNTAX, "bad client", lb, q + 1 < e ? q + 1 : e);
	return pfx_blocked(p, q, e, ev, lb + 1, (size_t)(rb - lb - 1), kind);
}

/* postscreen: "DNSBL rank N for [ADDR]:PORT" or an enforce-mode reject. */
static int psc_line(mlog_parser *p, const char *b, const char *e, ev_reject *ev, int *kind)
{
	const char *q = b, *rb;
	uint32_t rank;
	int rc;

	if (!eat(&q, e, LIT("DNSBL rank ")))
		return pfx_reject(p, b, e, ev, kind);
	if (!digits(&q, e, 1, 10, &rank) || !eat(&q, e, LIT(" for [")) ||
	    (rb = memchr(q, ']', (size_t)(e - q))) == NULL)
		return bad(p, V6R_ESYNTAX, "bad DNSBL rank line", b, q + 1 < e ? q + 1 : e);
	if ((rc = take_addr(q, rb, ev->addr)) < 0)
		return bad(p, rc, "bad client address", q, rb);
	q = rb + 1;
	if ((rc = take_port(p, &q, e, &ev->port)) < 0)
		return rc;
	if (q != e && *q != ' ')
		return bad(p, V6R_ESYNTAX, "bad DNSBL rank line", b, e);
	ev->zone[0] = '\0';
	return 1;
}

/* dnsblog: "addr ADDR listed by domain ZONE as 127.0.0.X". */
static int dnsblog_line(mlog_parser *p, const char *b, const char *e, ev_reject *ev, int *kind)
{
	const char *q = b, *sp, *z;
	int rc;

	*kind = MLOG_SKIP_UNKNOWN;
	if (!eat(&q, e, LIT("addr ")))
		return 0;
	sp = memchr(q, ' ', (size_t)(e - q));
	if (sp == NULL || (z = sp, !eat(&z, e, LIT(" listed by domain "))))
		return bad(p, V6R_ESYNTAX, "bad dnsblog line", b, e);
	if ((rc = take_addr(q, sp, ev->addr)) < 0)
		return bad(p, rc, "bad client address", q, sp);
	if ((rc = take_zone(p, z, e, ev->zone, &z)) < 0)
		return rc;
	if (!eat(&z, e, LIT(" as ")))
		return bad(p, V6R_ESYNTAX, "bad dnsblog line", b, e);
	ev->port = 0;
	return 1;
}

/* ----------------------------------------------------------------------- Exim ---- */

/*
 * Finds the client address of an Exim H= field: the first "[ADDR]" right after "H=" or after a
 * blank (not the "(helo)" part, not I=), closed by ']' and then ':', a blank or the end.
 */
static int exim_host(mlog_parser *p, const char *h, const char *e, ev_reject *ev)
{
	for (const char *q = h; q < e; q++) {
		const char *rb, *after;

		if (*q != '[' || (q != h && q[-1] != ' '))
			continue;
		rb = memchr(q, ']', (size_t)(e - q));
		if (rb == NULL)
			break;
		after = rb + 1;
		if (after < e && *after != ':' && *after != ' ')
			continue;
		if (take_addr(q + 1, rb, ev->addr) < 0)
			continue;
		return take_port(p, &after, e, &ev->port);
	}
	return bad(p, V6R_ESYNTAX, "no client address in H=", h - 2, e);
}

/* The DNS list wordings Exim configurations use, earliest first. */
static const char *exim_phrase(const char *q, const char *e, const char **zone)
{
	static const struct { const char *s; size_t n; } ph[] = {
		{ LIT("listed at ") }, { LIT("in a black list at ") }, { LIT("found in dnsbl ") },
	};
	const char *best = NULL;

	for (size_t i = 0; i < sizeof ph / sizeof ph[0]; i++) {
		const char *f = find(q, best ? best : e, ph[i].s, ph[i].n);

		if (f != NULL && (best == NULL || f < best)) {
			best = f;
			*zone = f + ph[i].n;
		}
	}
	return best;
}

/* True when p[0..e) holds lit (lower-case ASCII) in any case. */
static bool has_ci(const char *p, const char *e, const char *lit, size_t n)
{
	for (; (size_t)(e - p) >= n; p++)
		if (strncasecmp(p, lit, n) == 0)
			return true;
	return false;
}

/*
 * What the list named: the word before the phrase ("1.2.3.4 is listed at"). Returns 1 when that
 * is the client (or not an address or domain at all), 0 with *kind otherwise.
 */
static int exim_subject(const char *from, const char *ph, const ev_reject *ev, int *kind)
{
	const char *end = ph, *start;
	uint8_t a[16];

	while (end > from && end[-1] == ' ')
		end--;
	if (end - from >= 3 && memcmp(end - 2, "is", 2) == 0 && end[-3] == ' ')
		for (end -= 2; end > from && end[-1] == ' '; end--)
			;
	start = end;
	while (start > from && start[-1] != ' ' && start[-1] != ':' && start[-1] != '(')
		start--;
	if (take_addr(start, end, a) == 0) {
		*kind = MLOG_SKIP_OTHER;
		return memcmp(a, ev->addr, 16) == 0;
	}
	for (const char *c = start; c < end; c++)
		if (*c == '@' || (*c == '.' && c + 1 < end && is_alpha(c[1]))) {
			*kind = MLOG_SKIP_RHSBL;
			return 0;
		}
	/* No address or domain named: the wording must not speak of a sender or HELO name. */
	if (has_ci(from, ph, LIT("sender")) || has_ci(from, ph, LIT("helo")) ||
	    has_ci(from, ph, LIT("domain"))) {
		*kind = MLOG_SKIP_RHSBL;
		return 0;
	}
	return 1;
}

/* An Exim line: "... H=... [ADDR] ... rejected ...: <text naming a DNS list>". */
static int exim_line(mlog_parser *p, const char *b, const char *e, ev_reject *ev, int *kind)
{
	const char *rj = find(b, e, LIT("rejected ")), *ph, *zone = NULL, *h, *reason;
	int rc;

	*kind = MLOG_SKIP_UNKNOWN;
	if (rj == NULL || (rj > b && rj[-1] != ' '))
		return 0;
	*kind = MLOG_SKIP_OTHER;
	if ((ph = exim_phrase(rj + 9, e, &zone)) == NULL)
		return 0;
	if (e - b >= 2 && memcmp(b, "H=", 2) == 0)
		h = b + 2;
	else if ((h = find(b, e, LIT(" H="))) != NULL)
		h += 3;
	else
		return bad(p, V6R_ESYNTAX, "no H= field", b, e);
	if ((rc = exim_host(p, h, h < rj ? rj : e, ev)) < 0)
		return rc;
	/* The reason text starts after the first ": " (past "rejected RCPT <rcpt>"). */
	reason = find(rj, ph, LIT(": "));
	if (exim_subject(reason ? reason + 2 : rj + 9, ph, ev, kind) == 0)
		return 0;
	rc = take_zone(p, zone, e, ev->zone, NULL);
	return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------- Sendmail ---- */

/* The relay= address of a Sendmail line: "relay=[NAME ][[IPv6:]ADDR][ (may be forged)], ". */
static int sm_relay(mlog_parser *p, const char *b, const char *e, ev_reject *ev)
{
	const char *r = find(b, e, LIT("relay=")), *end, *lb, *rb;
	int rc;

	if (r == NULL || (r > b && r[-1] != ' '))
		return bad(p, V6R_ESYNTAX, "no relay=", b, e);
	r += 6;
	end = find(r, e, LIT(", "));
	end = end ? end : e;
	lb = memchr(r, '[', (size_t)(end - r));
	rb = lb ? memchr(lb, ']', (size_t)(end - lb)) : NULL;
	if (rb == NULL)
		return bad(p, V6R_ESYNTAX, "no relay address", r, end);
	if ((rc = take_addr(lb + 1, rb, ev->addr)) < 0)
		return bad(p, rc, "bad relay address", lb + 1, rb);
	ev->port = 0;
	return 0;
}

/*
 * The DNSBL wording of a reject= text: "Rejected: ADDR listed at ZONE", "Rejected ADDR found in
 * ZONE" or "... refused by blackhole site ZONE". Returns the zone start or NULL; *subj and
 * *subj_end get the ADDR (NULL when the wording has none).
 */
static const char *sm_phrase(const char *t, const char *e, const char **subj, const char **subj_end)
{
	const char *q = find(t, e, LIT("Rejected")), *sp;

	*subj = NULL;
	if (q != NULL) {
		q += 8;
		eat(&q, e, LIT(":"));
		eat(&q, e, LIT(" "));
		sp = memchr(q, ' ', (size_t)(e - q));
		if (sp != NULL) {
			const char *z = sp;

			if (eat(&z, e, LIT(" listed at ")) || eat(&z, e, LIT(" found in "))) {
				*subj = q;
				*subj_end = sp;
				return z;
			}
		}
	}
	q = find(t, e, LIT("refused by blackhole site "));
	return q ? q + 26 : NULL;
}

/* A Sendmail line: "ruleset=check_rcpt, arg1=..., relay=..., reject=550 ... DNSBL wording". */
static int sm_line(mlog_parser *p, const char *b, const char *e, ev_reject *ev, int *kind)
{
	const char *rs = find(b, e, LIT("ruleset=")), *rj, *zone, *subj, *subj_end;
	uint8_t a[16];
	int rc;

	*kind = MLOG_SKIP_UNKNOWN;
	if (rs == NULL)
		return 0;
	*kind = MLOG_SKIP_OTHER;
	rs += 8;
	if (!eat(&rs, e, LIT("check_rcpt,")) && !eat(&rs, e, LIT("check_relay,")) &&
	    !eat(&rs, e, LIT("check_mail,")))
		return 0;
	if ((rj = find(rs, e, LIT(" reject="))) == NULL ||
	    (zone = sm_phrase(rj + 8, e, &subj, &subj_end)) == NULL)
		return 0;
	if ((rc = sm_relay(p, rs, rj, ev)) < 0)
		return rc;
	if (subj != NULL && ((rc = take_addr(subj, subj_end, a)) < 0 || memcmp(a, ev->addr, 16)))
		return bad(p, V6R_ESYNTAX, "listed address is not the relay", subj, subj_end);
	rc = take_zone(p, zone, e, ev->zone, NULL);
	return rc < 0 ? rc : 1;
}

/* ------------------------------------------------------------------ parse_line ---- */

/* True when a line whose prefix did not parse still reads like one of the rejections. */
static bool strong_signature(const char *s, const char *e)
{
	return find(s, e, LIT("blocked using ")) || find(s, e, LIT("DNSBL rank ")) ||
	       find(s, e, LIT("listed by domain ")) || find(s, e, LIT("ruleset=")) ||
	       find(s, e, LIT("H=["));
}

static int skip(mlog_parser *p, int kind)
{
	p->skipped[kind]++;
	return 0;
}

static int malformed(mlog_parser *p, int rc)
{
	p->malformed++;
	return rc;
}

/* Runs the message parser of the line's program. */
static int parse_body(mlog_parser *p, mline *ml, const char *e, ev_reject *ev, int *kind)
{
	switch (ml->prog) {
	case PROG_SMTPD:
		ev->mta = EV_MTA_POSTFIX;
		return pfx_reject(p, ml->body, e, ev, kind);
	case PROG_PSC:
		ev->mta = EV_MTA_POSTSCREEN;
		return psc_line(p, ml->body, e, ev, kind);
	case PROG_DNSBLOG:
		ev->mta = EV_MTA_POSTSCREEN;
		return dnsblog_line(p, ml->body, e, ev, kind);
	case PROG_EXIM:
		ev->mta = EV_MTA_EXIM;
		exim_inner_stamp(ml, e);
		return exim_line(p, ml->body, e, ev, kind);
	case PROG_SENDMAIL:
		ev->mta = EV_MTA_SENDMAIL;
		return sm_line(p, ml->body, e, ev, kind);
	case PROG_POSTFIX_OTHER:
		*kind = MLOG_SKIP_OTHER;
		return 0;
	default:
		*kind = MLOG_SKIP_UNKNOWN;
		return 0;
	}
}

static int parse_line(mlog_parser *p, const char *line, size_t len, ev_reject *out, bool anchored)
{
	const char *s = line, *e = line + len;
	ev_reject ev;
	mline ml;
	int rc, trc, kind = MLOG_SKIP_UNKNOWN;

	p->lines++;
	if (e > s && e[-1] == '\n')
		e--;
	if (e > s && e[-1] == '\r')
		e--;
	if (!anchored && !mlog_has_anchor(s, (size_t)(e - s)))
		return skip(p, MLOG_SKIP_NOANCHOR);
	if ((rc = parse_prefix(p, s, e, &ml)) < 0)
		return strong_signature(s, e) ? malformed(p, rc) : skip(p, MLOG_SKIP_UNKNOWN);
	/* Not a memset of the whole event: its zone buffer is most of it, and most lines end here. */
	ev.t_us = 0;
	memset(ev.addr, 0, sizeof ev.addr);
	ev.port = 0;
	ev.mta = 0;
	ev.zone[0] = '\0';
	rc = parse_body(p, &ml, e, &ev, &kind);
	if (rc < 0)
		return malformed(p, rc);
	/* Every stamped candidate line moves the year inference on, events or not. */
	trc = stamp_utc(p, &ml.st, &ev.t_us);
	if (rc == 0)
		return skip(p, kind);
	if (trc < 0)
		return malformed(p, bad(p, trc, "date out of range", s, ml.body));
	p->events[ev.mta]++;
	out->t_us = ev.t_us;
	memcpy(out->addr, ev.addr, sizeof out->addr);
	out->port = ev.port;
	out->mta = ev.mta;
	memcpy(out->zone, ev.zone, strlen(ev.zone) + 1);
	return 1;
}

int mlog_parse_line(mlog_parser *p, const char *line, size_t len, ev_reject *out)
{
	return parse_line(p, line, len, out, false);
}

int mlog_parse_candidate(mlog_parser *p, const char *line, size_t len, ev_reject *out)
{
	return parse_line(p, line, len, out, true);
}

/* ----------------------------------------------------------------------- files ---- */

/* The most bytes asked of one read. */
#define MLOG_CHUNK_MAX (1u << 20)
/* Bytes kept of a dropped line so that an anchor across two reads is still seen (16 - 1). */
#define ANCHOR_KEEP 15u

struct mlog_file {
	int fd;
	gzFile gz;                 /* NULL when the file is read as is */
	char *buf;                 /* allocated at the first read */
	size_t cap;                /* max_line + 1 + chunk + ANCHOR_KEEP */
	size_t start, end;         /* unread data is buf[start..end) */
	size_t max_line, chunk;
	uint64_t base;             /* stream offset of buf[0] */
	uint64_t lineno;           /* number of the line that starts at buf[start] */
	uint64_t first_lineno;
	bool eof, failed;
	/* a line longer than max_line whose bytes are being dropped */
	bool dropping, drop_anchor;
	uint64_t drop_offset, drop_lineno, drop_len;
	char err[96];
};

static int file_fail(mlog_file *f, const char *what)
{
	f->failed = true;
	snprintf(f->err, sizeof f->err, "%s", what);
	return V6R_EIO;
}

/* Moves the unread bytes to the front and reads more. Sets eof at the end. */
static int file_fill(mlog_file *f)
{
	size_t want;
	ssize_t got;

	if (f->start > 0) {
		memmove(f->buf, f->buf + f->start, f->end - f->start);
		f->base += f->start;
		f->end -= f->start;
		f->start = 0;
	}
	/* A partial line holds at most max_line (or ANCHOR_KEEP) bytes here: want >= chunk. */
	want = f->cap - f->end;
	if (want > f->chunk)
		want = f->chunk;
	if (f->gz != NULL) {
		int n = gzread(f->gz, f->buf + f->end, (unsigned)want), zerr;
		const char *msg = gzerror(f->gz, &zerr);

		if (n < 0 || (n == 0 && zerr != Z_OK))
			return file_fail(f, zerr == Z_ERRNO ? strerror(errno) : msg);
		got = n;
	} else {
		do
			got = read(f->fd, f->buf + f->end, want);
		while (got < 0 && errno == EINTR);
		if (got < 0)
			return file_fail(f, strerror(errno));
	}
	if (got == 0)
		f->eof = true;
	f->end += (size_t)got;
	return 0;
}

/* Fills *out with the line buf[ls..le) and consumes it (and its newline, when nl). */
static void file_take(mlog_file *f, size_t ls, size_t le, bool nl, mlog_line *out)
{
	size_t len = le - ls;

	out->offset = f->base + ls;
	out->lineno = f->lineno;
	out->next_offset = out->offset + len + nl;
	out->too_long = len > f->max_line;
	out->no_newline = !nl;
	if (!out->too_long && len > 0 && f->buf[le - 1] == '\r')
		len--;
	out->text = out->too_long ? NULL : f->buf + ls;
	out->len = len;
	f->start = le + nl;
	f->lineno++;
}

/*
 * Passes over the lines of buf[start..end) that hold no anchor. Returns true with the candidate
 * line consumed into *out, or false when more data is needed (only a partial line left).
 */
static bool file_candidate(mlog_file *f, mlog_line *out)
{
	const char *b = f->buf + f->start, *hit, *ls, *le;
	size_t n = f->end - f->start;

	hit = anchor_find(b, n);
	ls = hit ? memrchr(b, '\n', (size_t)(hit - b)) : memrchr(b, '\n', n);
	ls = ls ? ls + 1 : b;
	f->lineno += count_nl(b, (size_t)(ls - b));
	f->start = (size_t)(ls - f->buf);
	if (hit == NULL)
		return false;
	le = memchr(hit, '\n', (size_t)(f->buf + f->end - hit));
	if (le == NULL)
		return false;
	file_take(f, f->start, (size_t)(le - f->buf), true, out);
	return true;
}

/* Starts dropping the partial line at buf[start..end), which is already too long. */
static void drop_start(mlog_file *f)
{
	f->dropping = true;
	f->drop_anchor = false;
	f->drop_offset = f->base + f->start;
	f->drop_lineno = f->lineno;
	f->drop_len = 0;
}

/*
 * Continues a dropped line. Returns 1 when it ended and is to be yielded, 0 when more data is
 * needed or the line ended unyielded (dropping then false). The last ANCHOR_KEEP bytes are kept
 * so that an anchor spanning two reads is still seen.
 */
static int drop_more(mlog_file *f, unsigned mode, mlog_line *out)
{
	const char *b = f->buf + f->start;
	size_t n = f->end - f->start;
	const char *nl = memchr(b, '\n', n);
	size_t upto = nl ? (size_t)(nl - b) : n;

	if (!f->drop_anchor && mlog_has_anchor(b, upto))
		f->drop_anchor = true;
	if (nl == NULL && !f->eof) {
		if (n > ANCHOR_KEEP) {
			f->drop_len += n - ANCHOR_KEEP;
			f->start = f->end - ANCHOR_KEEP;
		}
		return 0;
	}
	out->text = NULL;
	out->len = f->drop_len + upto;
	out->lineno = f->drop_lineno;
	out->offset = f->drop_offset;
	out->next_offset = f->base + f->start + upto + (nl != NULL);
	out->too_long = true;
	out->no_newline = nl == NULL;
	f->start += upto + (nl != NULL);
	f->lineno++;
	f->dropping = false;
	return mode == MLOG_ALL || f->drop_anchor;
}

/* With no complete line in the buffer: yields the final line at the end, or reads more. */
static int file_more(mlog_file *f, unsigned mode, mlog_line *out)
{
	size_t n = f->end - f->start;

	if (n > f->max_line) {
		drop_start(f);
		return 0;
	}
	if (f->eof) {
		if (n == 0)
			return -1;
		if (mode == MLOG_CANDIDATES && !mlog_has_anchor(f->buf + f->start, n)) {
			f->start = f->end;
			f->lineno++;
			return -1;
		}
		file_take(f, f->start, f->end, false, out);
		return 1;
	}
	return file_fill(f);
}

int mlog_file_next(mlog_file *f, unsigned mode, mlog_line *out)
{
	if (f->buf == NULL) {
		f->cap = f->max_line + 1 + f->chunk + ANCHOR_KEEP;
		if ((f->buf = malloc(f->cap)) == NULL)
			return V6R_ENOMEM;
	}
	/* Every turn consumes a line or reads data, so the loop ends with the file. */
	for (;;) {
		int rc;

		if (f->failed)
			return V6R_EIO;
		if (f->dropping) {
			if (drop_more(f, mode, out) == 1)
				return 1;
			if (f->dropping && (rc = file_fill(f)) < 0)
				return rc;
			continue;
		}
		if (mode == MLOG_CANDIDATES) {
			if (file_candidate(f, out))
				return 1;
		} else {
			const char *nl = memchr(f->buf + f->start, '\n', f->end - f->start);

			if (nl != NULL) {
				file_take(f, f->start, (size_t)(nl - f->buf), true, out);
				return 1;
			}
		}
		rc = file_more(f, mode, out);
		if (rc != 0)
			return rc < 0 && !f->failed ? 0 : rc;
	}
}

/* Allocates a file around an open descriptor. */
static int file_new(mlog_file **out, int fd)
{
	mlog_file *f = calloc(1, sizeof *f);

	if (f == NULL)
		return V6R_ENOMEM;
	f->fd = fd;
	f->max_line = MLOG_LINE_MAX;
	f->chunk = MLOG_CHUNK_MAX;
	f->lineno = f->first_lineno = 1;
	*out = f;
	return 0;
}

/* Switches f to gzip when its first bytes are the gzip magic (only for a seekable fd). */
static int file_detect(mlog_file *f)
{
	unsigned char m[2];

	if (pread(f->fd, m, 2, 0) != 2 || m[0] != 0x1f || m[1] != 0x8b)
		return 0;
	f->gz = gzdopen(f->fd, "rb");
	if (f->gz == NULL)
		return V6R_ENOMEM;
	f->fd = -1;
	gzbuffer(f->gz, 256u << 10);
	return 0;
}

int mlog_file_fdopen(mlog_file **out, int fd)
{
	int rc = file_new(out, fd);

	if (rc < 0) {
		close(fd);
		return rc;
	}
	if ((rc = file_detect(*out)) < 0) {
		mlog_file_close(*out);
		*out = NULL;
	}
	return rc;
}

int mlog_file_open(mlog_file **out, const char *path)
{
	return mlog_file_open_at(out, path, 0, 1);
}

/* Positions f at offset, which must follow a newline or be the end of the stream. */
static int file_seek(mlog_file *f, uint64_t offset)
{
	int c1, c2, zerr = Z_OK;

	if (offset == 0)
		return 0;
	if (f->gz != NULL) {
		if (gzseek(f->gz, (z_off_t)(offset - 1), SEEK_SET) < 0)
			return V6R_EIO;
		c1 = gzgetc(f->gz);
		c2 = c1 < 0 ? -1 : gzgetc(f->gz);
		if (c2 >= 0 && gzungetc(c2, f->gz) < 0)
			return V6R_EIO;
		if (c2 < 0)
			gzerror(f->gz, &zerr);
	} else {
		unsigned char two[2];
		ssize_t n = pread(f->fd, two, 2, (off_t)(offset - 1));

		if (n < 0 || lseek(f->fd, (off_t)offset, SEEK_SET) < 0)
			return V6R_EIO;
		c1 = n >= 1 ? two[0] : -1;
		c2 = n == 2 ? two[1] : -1;
	}
	if (zerr != Z_OK)
		return V6R_EIO;
	if (c1 < 0 || (c2 >= 0 && c1 != '\n'))
		return V6R_ERANGE;
	f->base = offset;
	return 0;
}

int mlog_file_open_at(mlog_file **out, const char *path, uint64_t offset, uint64_t lineno)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	mlog_file *f = NULL;

	*out = NULL;
	if (fd < 0)
		return V6R_EIO;
	if ((rc = mlog_file_fdopen(&f, fd)) < 0)
		return rc;
	if ((rc = file_seek(f, offset)) < 0) {
		int saved = errno;

		mlog_file_close(f);
		errno = saved;
		return rc;
	}
	f->lineno = f->first_lineno = lineno > 0 ? lineno : 1;
	*out = f;
	return 0;
}

int mlog_file_set_limits(mlog_file *f, size_t max_line, size_t read_chunk)
{
	if (max_line < 1 || max_line > MLOG_LINE_MAX || read_chunk < 1 ||
	    read_chunk > MLOG_CHUNK_MAX || f->buf != NULL)
		return V6R_EINVAL;
	f->max_line = max_line;
	f->chunk = read_chunk;
	return 0;
}

uint64_t mlog_file_offset(const mlog_file *f)
{
	return f->base + f->start;
}

uint64_t mlog_file_lines(const mlog_file *f)
{
	return f->lineno - f->first_lineno;
}

bool mlog_file_compressed(const mlog_file *f)
{
	return f->gz != NULL;
}

const char *mlog_file_error(const mlog_file *f)
{
	return f->err;
}

void mlog_file_close(mlog_file *f)
{
	if (f == NULL)
		return;
	if (f->gz != NULL)
		gzclose(f->gz);
	else if (f->fd >= 0)
		close(f->fd);
	free(f->buf);
	free(f);
}
