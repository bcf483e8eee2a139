/* p0f.c: p0f v3 SYN fingerprinting: the p0f.fp database, a matcher, raw_sig text, and the -o log reader. */
#include "p0f.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../zone/addr.h"
#include "../zone/err.h"

/*
 * The rules below follow p0f 3.09b (fp_tcp.c tcp_register_sig, tcp_find_match,
 * detect_win_multi, dump_sig; readfp.c), including its oddities where the real binary shows
 * them, because the point is to give the same answer p0f gives. Each oddity is named where
 * it is reproduced.
 */

#define MAX_DIST 35          /* p0f's MAX_DIST: largest TTL distance for a non-fuzzy match */
#define MAX_OPT  EV_MAX_OPTS /* p0f's MAX_TCP_OPT (24) */
#define MIN_TCP4 40          /* IPv4 + TCP headers without options */
#define MIN_TCP6 60          /* IPv6 + TCP headers */

/* p0f's quirk bits are ev_syn's EV_Q_* bits, plus "ack-", which a SYN never has. */
#define Q_ZERO_ACK 0x10000u

enum { WIN_NORMAL = 0, WIN_ANY, WIN_MOD, WIN_MSS, WIN_MTU };

struct p0f_sig {
	int8_t ver;          /* 4, 6, or -1 for '*' */
	bool bad_ttl;        /* "N-": tools with random TTLs */
	uint8_t ttl;         /* initial TTL (sum of "N+M") */
	uint8_t olen;
	uint8_t win_type;    /* WIN_* */
	int8_t pclass;       /* 0, 1, or -1 for '*' */
	uint8_t n_opts;
	uint8_t eol_pad;
	int32_t mss;         /* -1 for '*' */
	int32_t win;         /* value, multiplier or modulus, by win_type */
	int16_t wscale;      /* -1 for '*' */
	uint8_t opts[MAX_OPT];
	uint32_t quirks;
	uint32_t label;      /* index into db->labels */
	unsigned line;
};

struct p0f_label {
	bool generic;
	bool app;            /* class '!' */
	int os;
	uint32_t text;       /* offset into db->pool: "name flavor" */
};

struct p0f_db {
	struct p0f_sig *sigs;
	unsigned n_sigs, cap_sigs;
	struct p0f_label *labels;
	unsigned n_labels, cap_labels;
	char *pool;
	size_t pool_len, pool_cap;
};

/* ---- small helpers ---- */

static bool is_digit(int c) { return c >= '0' && c <= '9'; }
static bool is_alpha(int c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_alnum(int c) { return is_digit(c) || is_alpha(c); }
static bool is_blank(int c) { return c == ' ' || c == '\t'; }
static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* p0f's NAME_CHARS: what besides letters and digits may appear in an OS name. */
static bool is_name_char(int c)
{
	return is_alnum(c) || (c != '\0' && strchr(" ./-_!?()", c) != NULL);
}

static bool ieq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

static bool iprefix(const char *s, size_t n, const char *pfx)
{
	size_t k = strlen(pfx);

	return n >= k && ieq(s, k, pfx, k);
}

/* Reads a run of digits as atol() does in p0f (an empty run is 0); saturates instead of wrapping. */
static int64_t digits(const char *s, const char **end)
{
	int64_t v = 0;

	while (is_digit((unsigned char)*s)) {
		if (v < 100000000000LL)
			v = v * 10 + (*s - '0');
		s++;
	}
	*end = s;
	return v;
}

/* ---- OS families ---- */

const char *p0f_os_name(int os)
{
	switch (os) {
	case P0F_OS_WINDOWS: return "windows";
	case P0F_OS_LINUX:   return "linux";
	case P0F_OS_MAC:     return "mac";
	case P0F_OS_BSD:     return "bsd";
	case P0F_OS_OTHER:   return "other";
	default:             return "unknown";
	}
}

/* True when s[0..n) starts with the word w (followed by the end or a non-alphanumeric byte). */
static bool starts_word(const char *s, size_t n, const char *w)
{
	size_t k = strlen(w);

	return iprefix(s, n, w) && (n == k || !is_alnum((unsigned char)s[k]));
}

int p0f_os_of_label(const char *label, size_t n)
{
	size_t w = 0;

	if (label == NULL || n == 0)
		return P0F_OS_UNKNOWN;
	if (starts_word(label, n, "windows"))
		return P0F_OS_WINDOWS;
	if (starts_word(label, n, "linux") || starts_word(label, n, "android"))
		return P0F_OS_LINUX;
	if (iprefix(label, n, "mac os") || starts_word(label, n, "macos") ||
	    starts_word(label, n, "ios") || starts_word(label, n, "iphone") ||
	    starts_word(label, n, "ipad"))
		return P0F_OS_MAC;
	while (w < n && is_alnum((unsigned char)label[w]))
		w++;
	for (size_t i = 0; i + 3 <= w; i++)
		if (ieq(label + i, 3, "bsd", 3))
			return P0F_OS_BSD;
	if (starts_word(label, n, "dragonfly"))
		return P0F_OS_BSD;
	return P0F_OS_OTHER;
}

/* ---- signature text ---- */

/* Quirk names in p0f's print order. */
static const struct {
	const char *name;
	uint32_t bit;
	int8_t bad_ver;      /* the IP version the quirk is not valid for, 0 if none */
} quirk_names[] = {
	{ "df", EV_Q_DF, 6 },          { "id+", EV_Q_NZ_ID, 6 },     { "id-", EV_Q_ZERO_ID, 6 },
	{ "ecn", EV_Q_ECN, 0 },        { "0+", EV_Q_NZ_MBZ, 6 },     { "flow", EV_Q_FLOW, 4 },
	{ "seq-", EV_Q_ZERO_SEQ, 0 },  { "ack+", EV_Q_NZ_ACK, 0 },   { "ack-", Q_ZERO_ACK, 0 },
	{ "uptr+", EV_Q_NZ_URG, 0 },   { "urgf+", EV_Q_URG, 0 },     { "pushf+", EV_Q_PUSH, 0 },
	{ "ts1-", EV_Q_OPT_ZERO_TS1, 0 }, { "ts2+", EV_Q_OPT_NZ_TS2, 0 },
	{ "opt+", EV_Q_OPT_EOL_NZ, 0 }, { "exws", EV_Q_OPT_EXWS, 0 }, { "bad", EV_Q_OPT_BAD, 0 },
};
#define N_QUIRKS (sizeof quirk_names / sizeof quirk_names[0])

/* Option names p0f parses, in the order it tries them (prefix match). */
static const struct {
	const char *name;
	uint8_t kind;
} opt_names[] = {
	{ "nop", EV_OPT_NOP }, { "mss", EV_OPT_MSS }, { "ws", EV_OPT_WS }, { "sok", EV_OPT_SOK },
	{ "sack", EV_OPT_SACK }, { "ts", EV_OPT_TS },
};

/* ver ':' -- the IP version. */
static int sig_ver(const char **vp, struct p0f_sig *sig, const char **why)
{
	const char *val = *vp;

	switch (*val) {
	case '4': sig->ver = 4; break;
	case '6': sig->ver = 6; break;
	case '*': sig->ver = -1; break;
	default: *why = "unrecognized IP version"; return -1;
	}
	if (val[1] != ':') {
		*why = "malformed signature";
		return -1;
	}
	*vp = val + 2;
	return 0;
}

/*
 * ittl ':' -- "N", "N+D", "N-" (random TTL) and, in raw_sig text, "N+?". p0f skips one byte
 * too many after "N-:", so the olen field of such a signature loses its first character
 * (the Debian binary matches "64-:4:" against olen 0); that is reproduced here.
 */
static int sig_ttl(const char **vp, bool raw, struct p0f_sig *sig, const char **why)
{
	const char *val = *vp, *nxt;
	int64_t ittl = digits(val, &nxt);

	if (*nxt != ':' && *nxt != '+' && *nxt != '-') {
		*why = "malformed signature";
		return -1;
	}
	/* p0f prints "0+32" for a TTL of 0, which its own parser would refuse: accept it in raw text. */
	if ((ittl < 1 && !(raw && *nxt == '+')) || ittl > 255) {
		*why = "bogus initial TTL";
		return -1;
	}
	val = nxt + 1;
	if (*nxt == '-' && nxt[1] == ':') {
		sig->bad_ttl = true;
		if (val[1] == '\0') {
			*why = "malformed signature";
			return -1;
		}
		val += 2;
	} else if (*nxt == '+') {
		int64_t add;

		if (raw && nxt[1] == '?' && nxt[2] == ':') {
			add = 0;
			nxt += 2;
		} else {
			add = digits(nxt + 1, &nxt);
			if (*nxt != ':') {
				*why = "malformed signature";
				return -1;
			}
		}
		if (ittl + add > 255) {
			*why = "bogus initial TTL";
			return -1;
		}
		ittl += add;
		val = nxt + 1;
	}
	sig->ttl = (uint8_t)ittl;
	*vp = val;
	return 0;
}

/* A number ending in `stop`, in [lo, hi]; '*' followed by `stop` gives -1 when star is allowed. */
static int sig_num(const char **vp, char stop, bool star, int64_t lo, int64_t hi, int32_t *out,
                   const char *bogus, const char **why)
{
	const char *val = *vp, *nxt;
	int64_t v;

	if (star && val[0] == '*' && val[1] == stop) {
		*out = -1;
		*vp = val + 2;
		return 0;
	}
	v = digits(val, &nxt);
	if (*nxt != stop) {
		*why = "malformed signature";
		return -1;
	}
	if (v < lo || v > hi) {
		*why = bogus;
		return -1;
	}
	*out = (int32_t)v;
	*vp = nxt + 1;
	return 0;
}

/* wsize ',' -- "*", "%N", "mss*N", "mtu*N" or a number. */
static int sig_win(const char **vp, struct p0f_sig *sig, const char **why)
{
	const char *val = *vp;

	if (val[0] == '*' && val[1] == ',') {
		sig->win_type = WIN_ANY;
		sig->win = 0;
		*vp = val + 2;
		return 0;
	}
	if (val[0] == '%') {
		sig->win_type = WIN_MOD;
		*vp = val + 1;
		return sig_num(vp, ',', false, 2, 65535, &sig->win, "bogus '%' value", why);
	}
	if (strncmp(val, "mss*", 4) == 0 || strncmp(val, "mtu*", 4) == 0) {
		sig->win_type = val[1] == 's' ? WIN_MSS : WIN_MTU;
		*vp = val + 4;
		return sig_num(vp, ',', false, 1, 1000, &sig->win, "bogus MSS/MTU multiplier", why);
	}
	sig->win_type = WIN_NORMAL;
	return sig_num(vp, ',', false, 0, 65535, &sig->win, "bogus window size", why);
}

/* "eol+N", which must be the last option. */
static int sig_eol(const char **vp, struct p0f_sig *sig, const char **why)
{
	const char *val = *vp, *nxt;
	int64_t v;

	sig->opts[sig->n_opts++] = EV_OPT_EOL;
	if (val[3] != '+') {
		*why = "malformed EOL option";
		return -1;
	}
	v = digits(val + 4, &nxt);
	if (*nxt != ':') {
		*why = *nxt ? "EOL must be the last option" : "truncated options";
		return -1;
	}
	if (v > 255) {
		*why = "bogus EOL padding";
		return -1;
	}
	sig->eol_pad = (uint8_t)v;
	*vp = nxt;
	return 0;
}

/* One olayout item at *vp; advances past it. */
static int sig_opt(const char **vp, struct p0f_sig *sig, const char **why)
{
	const char *val = *vp, *nxt;
	int64_t v;

	if (sig->n_opts >= MAX_OPT) {
		*why = "too many TCP options";
		return -1;
	}
	if (strncmp(val, "eol", 3) == 0)
		return sig_eol(vp, sig, why);
	for (size_t i = 0; i < sizeof opt_names / sizeof opt_names[0]; i++) {
		size_t k = strlen(opt_names[i].name);

		if (strncmp(val, opt_names[i].name, k) == 0) {
			sig->opts[sig->n_opts++] = opt_names[i].kind;
			*vp = val + k;
			return 0;
		}
	}
	if (*val == '?') {
		v = digits(val + 1, &nxt);
		if (*nxt != ':' && *nxt != ',') {
			*why = "malformed '?' option";
			return -1;
		}
		if (v > 255) {
			*why = "bogus '?' option";
			return -1;
		}
		sig->opts[sig->n_opts++] = (uint8_t)v;
		*vp = nxt;
		return 0;
	}
	*why = "unrecognized TCP option";
	return -1;
}

typedef int (*sig_item_fn)(const char **vp, struct p0f_sig *sig, const char **why);

/* A comma-separated list of items up to ':' (possibly empty; p0f tolerates a trailing comma). */
static int sig_list(const char **vp, struct p0f_sig *sig, sig_item_fn item, const char *malformed,
                    const char **why)
{
	const char *val = *vp;

	while (*val != ':') {
		if (item(&val, sig, why) != 0)
			return -1;
		if (*val == ':')
			break;
		if (*val != ',') {
			*why = malformed;
			return -1;
		}
		val++;
	}
	*vp = val + 1;
	return 0;
}

/* One quirk name at *vp. */
static int sig_quirk(const char **vp, struct p0f_sig *sig, const char **why)
{
	for (size_t i = 0; i < N_QUIRKS; i++) {
		size_t k = strlen(quirk_names[i].name);

		if (strncmp(*vp, quirk_names[i].name, k) != 0)
			continue;
		if (quirk_names[i].bad_ver != 0 && sig->ver == quirk_names[i].bad_ver) {
			*why = sig->ver == 6 ? "quirk not valid for IPv6" : "quirk not valid for IPv4";
			return -1;
		}
		sig->quirks |= quirk_names[i].bit;
		*vp += k;
		return 0;
	}
	*why = "unrecognized quirk";
	return -1;
}

/*
 * Parses sig text s (NUL-terminated) into *sig; raw allows p0f's "N+?" TTL. Returns 0, or -1
 * with a static reason in *why.
 */
static int sig_parse(const char *s, bool raw, struct p0f_sig *sig, const char **why)
{
	const char *val = s;
	int32_t v;

	memset(sig, 0, sizeof *sig);
	if (sig_ver(&val, sig, why) || sig_ttl(&val, raw, sig, why))
		return -1;
	if (sig_num(&val, ':', false, 0, 255, &v, "bogus IP option length", why))
		return -1;
	sig->olen = (uint8_t)v;
	if (sig_num(&val, ':', true, 0, 65535, &sig->mss, "bogus MSS", why) ||
	    sig_win(&val, sig, why) ||
	    sig_num(&val, ':', true, 0, 255, &v, "bogus window scale", why))
		return -1;
	sig->wscale = (int16_t)v;
	/* olayout, then quirks, each ended by a colon */
	if (sig_list(&val, sig, sig_opt, "malformed TCP options", why) ||
	    sig_list(&val, sig, sig_quirk, "malformed quirks", why))
		return -1;
	if (strcmp(val, "*") == 0)
		sig->pclass = -1;
	else if (strcmp(val, "0") == 0)
		sig->pclass = 0;
	else if (strcmp(val, "+") == 0)
		sig->pclass = 1;
	else {
		*why = "malformed payload class";
		return -1;
	}
	return 0;
}

bool p0f_sig_text_valid(const char *s, size_t n)
{
	char buf[P0F_DB_MAX_LINE];
	struct p0f_sig sig;
	const char *why;

	if (s == NULL || n >= sizeof buf || memchr(s, '\0', n) != NULL)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return sig_parse(buf, true, &sig, &why) == 0;
}

/* ---- matching ---- */

/* What is compared against the signatures: a packet, or a new signature (duplicate check). */
struct probe {
	int8_t ver;
	uint8_t ttl;
	uint8_t olen;
	uint8_t win_type;    /* WIN_NORMAL for packets */
	int8_t pclass;
	uint8_t n_opts;
	uint8_t eol_pad;
	int32_t mss;
	int32_t win;
	int16_t wscale;
	const uint8_t *opts;
	uint32_t quirks;
	uint32_t ts1;        /* own timestamp, 0 when absent */
	uint32_t tot_hdr;    /* IP + TCP header bytes */
};

/* p0f's guess_dist: hops from the next initial TTL up. */
static uint8_t guess_dist(uint8_t ttl)
{
	if (ttl <= 32)
		return 32 - ttl;
	if (ttl <= 64)
		return 64 - ttl;
	if (ttl <= 128)
		return 128 - ttl;
	return 255 - ttl;
}

/*
 * p0f's detect_win_multi: is the window a multiple of the MSS, of an MSS for a common MTU, or
 * of an MTU? Returns the multiplier (and *use_mtu) or -1.
 */
static int win_multi(const struct probe *p, bool *use_mtu)
{
	const int32_t win = p->win, mss = p->mss;
	const int32_t divs[] = {
		mss, p->ts1 ? mss - 12 : 0, 1500 - MIN_TCP4, 1500 - MIN_TCP4 - 12,
		p->ver == 6 ? 1500 - MIN_TCP6 : 0, p->ver == 6 ? 1500 - MIN_TCP6 - 12 : 0,
		mss + MIN_TCP4, mss + (int32_t)p->tot_hdr, p->ver == 6 ? mss + MIN_TCP6 : 0, 1500,
	};
	const bool mtu[] = { 0, 0, 0, 0, 0, 0, 1, 1, 1, 1 };

	if (win == 0 || mss < 100 || p->win_type != WIN_NORMAL)
		return -1;
	for (size_t i = 0; i < sizeof divs / sizeof divs[0]; i++) {
		if (divs[i] > 0 && win % divs[i] == 0) {
			*use_mtu = mtu[i];
			return win / divs[i];
		}
	}
	return -1;
}

/* The quirks a signature asks for, minus those of the other IP version when it says '*'. */
static uint32_t ref_quirks(const struct p0f_sig *ref, int8_t ver)
{
	uint32_t q = ref->quirks;

	if (ref->ver == -1)
		q &= ver == 4 ? ~(uint32_t)EV_Q_FLOW : ~(uint32_t)(EV_Q_DF | EV_Q_NZ_ID | EV_Q_ZERO_ID);
	return q;
}

/* Window rule of one signature against the probe (tcp_find_match's switch). */
static bool win_ok(const struct p0f_sig *ref, const struct probe *p, int multi, bool use_mtu)
{
	if (p->win_type != WIN_NORMAL)
		return ref->win_type == p->win_type && ref->win == p->win;
	switch (ref->win_type) {
	case WIN_NORMAL: return ref->win == p->win;
	case WIN_MOD:    return p->win % ref->win == 0;
	case WIN_MSS:    return !use_mtu && ref->win == multi;
	case WIN_MTU:    return use_mtu && ref->win == multi;
	default:         return true;
	}
}

/*
 * One signature against the probe: -1 no, 0 exact, 1 fuzzy. have_fuzzy is whether a fuzzy
 * match was already found: p0f then stops accepting quirk differences.
 */
static int sig_vs(const struct p0f_sig *ref, const struct probe *p, bool have_fuzzy, int multi,
                  bool use_mtu)
{
	uint32_t rq = ref_quirks(ref, p->ver);
	int fuzzy = 0;

	if (ref->n_opts != p->n_opts || memcmp(ref->opts, p->opts, p->n_opts) != 0)
		return -1;
	if (rq != p->quirks) {
		uint32_t deleted = (rq ^ p->quirks) & rq, added = (rq ^ p->quirks) & p->quirks;

		/* df or id+ may disappear, id- or ecn may appear. */
		if (have_fuzzy || (deleted & ~(uint32_t)(EV_Q_DF | EV_Q_NZ_ID)) ||
		    (added & ~(uint32_t)(EV_Q_ZERO_ID | EV_Q_ECN)))
			return -1;
		fuzzy = 1;
	}
	if (ref->eol_pad != p->eol_pad || ref->olen != p->olen)
		return -1;
	if (ref->bad_ttl) {
		if (ref->ttl < p->ttl)
			return -1;
	} else if (ref->ttl < p->ttl || ref->ttl - p->ttl > MAX_DIST) {
		fuzzy = 1;
	}
	if ((ref->mss != -1 && ref->mss != p->mss) || (ref->wscale != -1 && ref->wscale != p->wscale) ||
	    (ref->pclass != -1 && ref->pclass != p->pclass))
		return -1;
	return win_ok(ref, p, multi, use_mtu) ? fuzzy : -1;
}

/* What tcp_find_match decided. */
struct found {
	const struct p0f_sig *sig;
	bool fuzzy;
	uint8_t dist;
};

/*
 * p0f's tcp_find_match over the first n signatures: the first exact specific signature wins;
 * else the first exact generic one; else the first fuzzy one (never a tool's). dupe asks only
 * whether an exact specific signature covers the probe (the load-time duplicate check).
 */
static void find_match(const p0f_db *db, const struct probe *p, unsigned n, bool dupe,
                       struct found *f)
{
	const struct p0f_sig *fmatch = NULL, *gmatch = NULL;
	bool use_mtu = false;
	int multi = win_multi(p, &use_mtu);

	memset(f, 0, sizeof *f);
	for (unsigned i = 0; i < n; i++) {
		const struct p0f_sig *ref = &db->sigs[i];
		int r = sig_vs(ref, p, fmatch != NULL, multi, use_mtu);

		if (r < 0)
			continue;
		if (r == 0 && !db->labels[ref->label].generic) {
			f->sig = ref;
			f->dist = (uint8_t)(ref->ttl - p->ttl);
			return;
		}
		if (r == 0 && gmatch == NULL)
			gmatch = ref;
		else if (r == 1 && fmatch == NULL)
			fmatch = ref;
	}
	if (dupe)
		return;
	if (gmatch != NULL) {
		f->sig = gmatch;
		f->dist = (uint8_t)(gmatch->ttl - p->ttl);
		return;
	}
	/* No fuzzy matching for userland tools; p0f then reports no match and leaves dist 0. */
	if (fmatch != NULL && db->labels[fmatch->label].app)
		return;
	if (fmatch == NULL || fmatch->ttl < p->ttl || (!fmatch->bad_ttl && fmatch->ttl - p->ttl > MAX_DIST))
		f->dist = guess_dist(p->ttl);
	else
		f->dist = (uint8_t)(fmatch->ttl - p->ttl);
	f->sig = fmatch;
	f->fuzzy = fmatch != NULL;
}

static bool syn_has_opt(const ev_syn *s, uint8_t kind)
{
	unsigned n = s->n_opts < MAX_OPT ? s->n_opts : MAX_OPT;

	for (unsigned i = 0; i < n; i++)
		if (s->opts[i] == kind)
			return true;
	return false;
}

/* Bytes an option kind takes, for estimating the TCP header when tcp_hdr_len is not set. */
static unsigned opt_size(uint8_t kind)
{
	switch (kind) {
	case EV_OPT_EOL: case EV_OPT_NOP: return 1;
	case EV_OPT_MSS: return 4;
	case EV_OPT_WS:  return 3;
	case EV_OPT_SOK: return 2;
	case EV_OPT_TS:  return 10;
	default:         return 10;
	}
}

/* The window scale p0f sees: 0 when the option is absent or was not read. */
static uint8_t syn_wscale(const ev_syn *s)
{
	if (s->wscale == 0xff && !(s->quirks & EV_Q_OPT_EXWS))
		return 0;
	return s->wscale;
}

/* Builds the probe p0f's packet_to_sig would build from a SYN. */
static void syn_probe(const ev_syn *s, struct probe *p)
{
	unsigned tcp = s->tcp_hdr_len;

	memset(p, 0, sizeof *p);
	p->ver = s->v6 ? 6 : 4;
	p->ttl = s->ttl;
	p->olen = s->v6 ? 0 : s->ip_opt_len;
	p->win_type = WIN_NORMAL;
	p->pclass = s->payload_len != 0;
	p->n_opts = s->n_opts < MAX_OPT ? s->n_opts : MAX_OPT;
	p->opts = s->opts;
	/* Padding counts only with an EOL, as it is only printed then. */
	p->eol_pad = syn_has_opt(s, EV_OPT_EOL) ? s->eol_pad : 0;
	p->mss = s->mss;
	p->win = s->win;
	p->wscale = syn_wscale(s);
	p->quirks = s->quirks;
	p->ts1 = syn_has_opt(s, EV_OPT_TS) ? s->ts_val : 0;
	if (tcp < 20) {
		/* Not recorded: estimate from the options, padded to 32-bit words. */
		tcp = 20 + p->eol_pad;
		for (unsigned i = 0; i < p->n_opts; i++)
			tcp += opt_size(s->opts[i]);
		tcp = (tcp + 3) & ~3u;
	}
	p->tot_hdr = (s->v6 ? 40u : 20u + p->olen) + tcp;
}

int p0f_match(const p0f_db *db, const ev_syn *syn, p0f_result *res)
{
	struct probe p;
	struct found f;

	if (db == NULL || syn == NULL || res == NULL)
		return V6R_EINVAL;
	syn_probe(syn, &p);
	find_match(db, &p, db->n_sigs, false, &f);
	memset(res, 0, sizeof *res);
	res->dist = f.dist;
	if (f.sig == NULL)
		return 0;
	const struct p0f_label *l = &db->labels[f.sig->label];

	res->label = db->pool + l->text;
	res->os = l->os;
	res->generic = l->generic;
	res->app = l->app;
	res->fuzzy = f.fuzzy;
	res->random_ttl = f.sig->bad_ttl;
	res->line = f.sig->line;
	return 0;
}

/* The cache key of a probe: its fields packed, the unused tail zero. */
static uint32_t probe_key(const struct probe *p, uint8_t key[P0F_CACHE_KEY])
{
	uint8_t *k = key;
	memset(key, 0, P0F_CACHE_KEY);
	*k++ = (uint8_t)p->ver;
	*k++ = p->ttl;
	*k++ = p->olen;
	*k++ = (uint8_t)p->pclass;
	*k++ = p->n_opts;
	*k++ = p->eol_pad;
	*k++ = p->ts1 != 0;
	*k++ = (uint8_t)p->wscale;
	memcpy(k, &p->mss, 4);
	memcpy(k + 4, &p->win, 4);
	memcpy(k + 8, &p->quirks, 4);
	memcpy(k + 12, &p->tot_hdr, 4);
	k += 16;
	memcpy(k, p->opts, p->n_opts);   /* n_opts <= MAX_OPT = 24: 8 + 16 + 24 = 48 bytes */
	uint64_t h = 0, w;
	for (unsigned i = 0; i < P0F_CACHE_KEY; i += 8) {
		memcpy(&w, key + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	return (uint32_t)h;
}

int p0f_match_cached(const p0f_db *db, p0f_cache *c, const ev_syn *syn, p0f_result *res)
{
	struct probe p;
	uint8_t key[P0F_CACHE_KEY];

	if (db == NULL || c == NULL || syn == NULL || res == NULL)
		return V6R_EINVAL;
	if (c->db != db) {
		memset(c->slot, 0, sizeof c->slot);
		c->db = db;
	}
	syn_probe(syn, &p);
	struct p0f_cache_slot *s = &c->slot[probe_key(&p, key) % P0F_CACHE_SLOTS];
	if (s->used && memcmp(s->key, key, P0F_CACHE_KEY) == 0) {
		c->hits++;
		*res = s->res;
		return 0;
	}
	c->misses++;
	int rc = p0f_match(db, syn, res);
	if (rc == 0) {
		memcpy(s->key, key, P0F_CACHE_KEY);
		s->res = *res;
		s->used = true;
	}
	return rc;
}

/* ---- raw_sig ---- */

struct out {
	char *buf;
	size_t cap, len;
	bool full;
};

static void outf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void outf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void raw_layout(struct out *o, const ev_syn *s)
{
	unsigned n = s->n_opts < MAX_OPT ? s->n_opts : MAX_OPT;

	for (unsigned i = 0; i < n; i++) {
		const char *sep = i ? "," : "";
		const char *name = NULL;

		for (size_t k = 0; k < sizeof opt_names / sizeof opt_names[0]; k++)
			if (opt_names[k].kind == s->opts[i])
				name = opt_names[k].name;
		if (s->opts[i] == EV_OPT_EOL)
			outf(o, "%seol+%u", sep, s->eol_pad);
		else if (name != NULL)
			outf(o, "%s%s", sep, name);
		else
			outf(o, "%s?%u", sep, s->opts[i]);
	}
}

int p0f_raw_sig(const ev_syn *s, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, false };
	struct probe p;
	bool use_mtu = false;
	int multi;
	uint8_t dist;
	unsigned nq = 0;

	if (s == NULL || buf == NULL || cap == 0)
		return V6R_EINVAL;
	buf[0] = '\0';
	syn_probe(s, &p);
	dist = guess_dist(s->ttl);
	if (dist > MAX_DIST)
		outf(&o, "%u:%u+?:%u:", (unsigned)p.ver, s->ttl, p.olen);
	else
		outf(&o, "%u:%u+%u:%u:", (unsigned)p.ver, s->ttl, dist, p.olen);
	outf(&o, "%u:", s->mss);
	multi = win_multi(&p, &use_mtu);
	if (multi > 0)
		outf(&o, "%s*%d", use_mtu ? "mtu" : "mss", multi);
	else
		outf(&o, "%u", s->win);
	outf(&o, ",%u:", (unsigned)p.wscale);
	raw_layout(&o, s);
	outf(&o, ":");
	for (size_t i = 0; i < N_QUIRKS; i++)
		if (s->quirks & quirk_names[i].bit)
			outf(&o, "%s%s", nq++ ? "," : "", quirk_names[i].name);
	outf(&o, ":%s", s->payload_len ? "+" : "0");
	return o.full ? V6R_ESPACE : (int)o.len;
}

int p0f_params(const p0f_result *res, char *buf, size_t cap)
{
	struct out o = { buf, cap, 0, false };
	const bool m = res != NULL && res->label != NULL;

	if (res == NULL || buf == NULL || cap == 0)
		return V6R_EINVAL;
	buf[0] = '\0';
	if (m && res->generic)
		outf(&o, " generic");
	if (m && res->fuzzy)
		outf(&o, " fuzzy");
	if (m && res->random_ttl)
		outf(&o, " random_ttl");
	if (res->dist > MAX_DIST)
		outf(&o, " excess_dist");
	if (o.full)
		return V6R_ESPACE;
	if (o.len == 0) {
		outf(&o, "none");
		return o.full ? V6R_ESPACE : (int)o.len;
	}
	memmove(buf, buf + 1, o.len);
	return (int)o.len - 1;
}

/* ---- database loading ---- */

enum { NEED_SECT = 0, NEED_LABEL, NEED_SYS, NEED_SIG };

#define MAX_CLASSES 256u
#define MAX_NAMES   65535u

/* Load-time state. */
struct ld {
	p0f_db *db;
	const char *name;
	unsigned line;
	const char *text;        /* the current line, for messages */
	char *err;
	size_t errlen;
	int state;
	bool tcp_req;            /* inside [tcp:request] */
	bool skip;               /* inside another section */
	uint32_t cur_label;
	unsigned n_classes;
	uint32_t class_off[MAX_CLASSES];
	uint32_t *names;         /* offsets of canonical OS names in the pool */
	unsigned n_names, cap_names;
};

static int ld_fail(struct ld *l, int rc, const char *why)
{
	if (l->err != NULL && l->errlen > 0) {
		if (l->line == 0)
			snprintf(l->err, l->errlen, "%s: %s", l->name, why);
		else
			snprintf(l->err, l->errlen, "%s:%u: %s (\"%.80s%s\")", l->name, l->line, why,
			         l->text, strlen(l->text) > 80 ? "..." : "");
	}
	return rc;
}

static void *grow(void *p, unsigned *cap, unsigned need, size_t size)
{
	unsigned c = *cap ? *cap : 16;
	void *q;

	if (need <= *cap)
		return p;
	while (c < need)
		c *= 2;
	q = realloc(p, (size_t)c * size);
	if (q != NULL)
		*cap = c;
	return q;
}

/* Appends n bytes and a NUL to the pool; returns the offset or -1. */
static int64_t pool_add(p0f_db *db, const char *s, size_t n)
{
	if (db->pool_len + n + 1 > db->pool_cap) {
		size_t c = db->pool_cap ? db->pool_cap : 1024;
		char *q;

		while (c < db->pool_len + n + 1)
			c *= 2;
		q = realloc(db->pool, c);
		if (q == NULL)
			return -1;
		db->pool = q;
		db->pool_cap = c;
	}
	memcpy(db->pool + db->pool_len, s, n);
	db->pool[db->pool_len + n] = '\0';
	db->pool_len += n + 1;
	return (int64_t)(db->pool_len - n - 1);
}

/* Index of class s[0..n) (case-insensitive), or -1. */
static int class_find(const struct ld *l, const char *s, size_t n)
{
	for (unsigned i = 0; i < l->n_classes; i++) {
		const char *c = l->db->pool + l->class_off[i];

		if (ieq(c, strlen(c), s, n))
			return (int)i;
	}
	return -1;
}

/* The canonical spelling of OS name s[0..n): the first one registered (p0f's lookup_name_id). */
static int name_lookup(struct ld *l, const char *s, size_t n, const char **canon)
{
	uint32_t *q;
	int64_t off;

	for (unsigned i = 0; i < l->n_names; i++) {
		const char *c = l->db->pool + l->names[i];

		if (ieq(c, strlen(c), s, n)) {
			*canon = c;
			return 0;
		}
	}
	if (l->n_names >= MAX_NAMES)
		return ld_fail(l, V6R_ERANGE, "too many OS names");
	q = grow(l->names, &l->cap_names, l->n_names + 1, sizeof *q);
	if (q == NULL)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	l->names = q;
	off = pool_add(l->db, s, n);
	if (off < 0)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	l->names[l->n_names++] = (uint32_t)off;
	*canon = l->db->pool + off;
	return 0;
}

/* classes = win,unix,other */
static int ld_classes(struct ld *l, const char *val)
{
	while (*val) {
		const char *nxt;
		int64_t off;

		while (is_blank(*val) || *val == ',')
			val++;
		nxt = val;
		while (is_alnum((unsigned char)*nxt))
			nxt++;
		if (nxt == val || (*nxt && *nxt != ','))
			return ld_fail(l, V6R_ESYNTAX, "malformed class entry");
		if (l->n_classes >= MAX_CLASSES)
			return ld_fail(l, V6R_ERANGE, "too many classes");
		off = pool_add(l->db, val, (size_t)(nxt - val));
		if (off < 0)
			return ld_fail(l, V6R_ENOMEM, "out of memory");
		l->class_off[l->n_classes++] = (uint32_t)off;
		val = nxt;
	}
	return 0;
}

/* Stores label text "name flavor" and its attributes. */
static int ld_add_label(struct ld *l, bool generic, bool app, const char *canon, const char *flavor)
{
	p0f_db *db = l->db;
	struct p0f_label *q;
	size_t nl = strlen(canon), fl = strlen(flavor);
	char text[P0F_DB_MAX_LINE + 2];
	int64_t off;

	memcpy(text, canon, nl);
	if (fl) {
		text[nl] = ' ';
		memcpy(text + nl + 1, flavor, fl);
		nl += fl + 1;
	}
	q = grow(db->labels, &db->cap_labels, db->n_labels + 1, sizeof *q);
	if (q == NULL)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	db->labels = q;
	off = pool_add(db, text, nl);
	if (off < 0)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	q[db->n_labels] = (struct p0f_label){ generic, app, app ? P0F_OS_UNKNOWN :
	                                      p0f_os_of_label(text, nl), (uint32_t)off };
	l->cur_label = db->n_labels++;
	return 0;
}

/* label = type:class:name:flavor */
static int ld_label(struct ld *l, const char *val)
{
	const char *nxt, *canon;
	bool generic, app = false;
	char name[P0F_DB_MAX_LINE];
	int rc;

	if (*val != 'g' && *val != 's')
		return ld_fail(l, V6R_ESYNTAX, "malformed class entry");
	generic = *val == 'g';
	if (val[1] != ':')
		return ld_fail(l, V6R_ESYNTAX, "malformed class entry");
	val += 2;
	nxt = val;
	while (is_alnum((unsigned char)*nxt) || *nxt == '!')
		nxt++;
	if (nxt == val || *nxt != ':')
		return ld_fail(l, V6R_ESYNTAX, "malformed class entry");
	if (val[0] == '!' && val[1] == ':')
		app = true;
	else if (class_find(l, val, (size_t)(nxt - val)) < 0)
		return ld_fail(l, V6R_ESYNTAX, "unknown class");
	val = ++nxt;
	while (is_name_char((unsigned char)*nxt))
		nxt++;
	if (nxt == val || *nxt != ':')
		return ld_fail(l, V6R_ESYNTAX, "malformed name");
	memcpy(name, val, (size_t)(nxt - val));
	if ((rc = name_lookup(l, name, (size_t)(nxt - val), &canon)) != 0)
		return rc;
	memcpy(name, canon, strlen(canon) + 1); /* the pool may move while adding the label */
	if ((rc = ld_add_label(l, generic, app, name, nxt + 1)) != 0)
		return rc;
	l->state = app ? NEED_SYS : NEED_SIG;
	return 0;
}

/* sys = Linux,@unix -- checked, not kept: only p0f's NAT detection uses it. */
static int ld_sys(struct ld *l, const char *val)
{
	while (*val) {
		const char *nxt, *canon;
		bool is_class = false;

		while (is_blank(*val) || *val == ',')
			val++;
		if (*val == '@') {
			is_class = true;
			val++;
		}
		nxt = val;
		while (is_name_char((unsigned char)*nxt))
			nxt++;
		if (nxt == val || (*nxt && *nxt != ','))
			return ld_fail(l, V6R_ESYNTAX, "malformed sys entry");
		if (is_class && class_find(l, val, (size_t)(nxt - val)) < 0)
			return ld_fail(l, V6R_ESYNTAX, "unknown class");
		if (!is_class) {
			int rc = name_lookup(l, val, (size_t)(nxt - val), &canon);

			if (rc != 0)
				return rc;
		}
		val = nxt;
	}
	return 0;
}

static void sig_to_probe(const struct p0f_sig *s, struct probe *p)
{
	memset(p, 0, sizeof *p);
	p->ver = s->ver;
	p->ttl = s->ttl;
	p->olen = s->olen;
	p->win_type = s->win_type;
	p->pclass = s->pclass;
	p->n_opts = s->n_opts;
	p->opts = s->opts;
	p->eol_pad = s->eol_pad;
	p->mss = s->mss;
	p->win = s->win;
	p->wscale = s->wscale;
	p->quirks = s->quirks;
}

/* sig = ... : parsed, checked against the earlier ones as p0f does, and stored. */
static int ld_sig(struct ld *l, const char *val)
{
	p0f_db *db = l->db;
	struct p0f_sig sig, *q;
	struct probe p;
	struct found f;
	const char *why;
	char msg[96];

	if (sig_parse(val, false, &sig, &why) != 0)
		return ld_fail(l, V6R_ESYNTAX, why);
	sig.label = l->cur_label;
	sig.line = l->line;
	sig_to_probe(&sig, &p);
	find_match(db, &p, db->n_sigs, true, &f);
	if (f.sig != NULL) {
		snprintf(msg, sizeof msg, "signature already covered by line %u", f.sig->line);
		return ld_fail(l, V6R_ESYNTAX, msg);
	}
	if (db->n_sigs >= P0F_DB_MAX_SIGS)
		return ld_fail(l, V6R_ERANGE, "too many signatures");
	q = grow(db->sigs, &db->cap_sigs, db->n_sigs + 1, sizeof *q);
	if (q == NULL)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	db->sigs = q;
	q[db->n_sigs++] = sig;
	return 0;
}

/* [module:direction] or [mtu] */
static int ld_section(struct ld *l, const char *line)
{
	const char *dir;
	size_t mlen;

	line++;
	l->state = NEED_LABEL;
	l->tcp_req = false;
	l->skip = true;
	if (strcmp(line, "mtu]") == 0)
		return 0;
	dir = strchr(line, ':');
	if (dir == NULL)
		return ld_fail(l, V6R_ESYNTAX, "malformed section identifier");
	mlen = (size_t)(dir - line);
	if (!(mlen == 3 && strncmp(line, "tcp", 3) == 0) && !(mlen == 4 && strncmp(line, "http", 4) == 0))
		return ld_fail(l, V6R_ESYNTAX, "unrecognized fingerprinting module");
	if (strcmp(dir + 1, "request]") != 0 && strcmp(dir + 1, "response]") != 0)
		return ld_fail(l, V6R_ESYNTAX, "unrecognized traffic direction");
	if (mlen == 3 && strcmp(dir + 1, "request]") == 0) {
		l->tcp_req = true;
		l->skip = false;
	}
	return 0;
}

/* One `name = value` line inside [tcp:request] or before the first section. */
static int ld_statement(struct ld *l, char *line)
{
	char *val = line, *eon;

	while (is_alpha((unsigned char)*val) || *val == '_')
		val++;
	eon = val;
	while (is_blank(*val))
		val++;
	if (line == val || *val != '=')
		return ld_fail(l, V6R_ESYNTAX, "unexpected statement");
	val++;
	while (is_blank(*val))
		val++;
	*eon = '\0';
	if (strcmp(line, "classes") == 0) {
		if (l->state != NEED_SECT)
			return ld_fail(l, V6R_ESYNTAX, "misplaced 'classes'");
		return ld_classes(l, val);
	}
	if (strcmp(line, "label") == 0) {
		if (l->state != NEED_LABEL && l->state != NEED_SIG)
			return ld_fail(l, V6R_ESYNTAX, "misplaced 'label'");
		return ld_label(l, val);
	}
	if (strcmp(line, "sys") == 0) {
		if (l->state != NEED_SYS)
			return ld_fail(l, V6R_ESYNTAX, "misplaced 'sys'");
		l->state = NEED_SIG;
		return ld_sys(l, val);
	}
	if (strcmp(line, "sig") == 0) {
		if (l->state != NEED_SIG)
			return ld_fail(l, V6R_ESYNTAX, "misplaced 'sig'");
		return ld_sig(l, val);
	}
	if (strcmp(line, "ua_os") == 0)
		return ld_fail(l, V6R_ESYNTAX, "misplaced 'ua_os'");
	return ld_fail(l, V6R_ESYNTAX, "unrecognized field");
}

/* One line (without its newline); blanks at both ends are not part of it. */
static int ld_line(struct ld *l, const char *s, size_t n)
{
	char line[P0F_DB_MAX_LINE], orig[P0F_DB_MAX_LINE];

	while (n > 0 && is_blank(*s))
		s++, n--;
	while (n > 0 && (is_blank(s[n - 1]) || s[n - 1] == '\r'))
		n--;
	if (n == 0 || *s == ';')
		return 0;
	if (l->skip && *s != '[')
		return 0;
	if (n >= sizeof line) {
		l->text = "...";
		return ld_fail(l, V6R_ERANGE, "line too long");
	}
	/* The parsers cut `line` up; messages quote the line as it was. */
	memcpy(line, s, n);
	line[n] = '\0';
	memcpy(orig, line, n + 1);
	l->text = orig;
	if (memchr(s, '\0', n) != NULL)
		return ld_fail(l, V6R_ESYNTAX, "NUL byte in line");
	return *line == '[' ? ld_section(l, line) : ld_statement(l, line);
}

int p0f_db_load_mem(const char *text, size_t len, const char *name, p0f_db **out, char *err,
                    size_t errlen)
{
	struct ld l = { .name = name ? name : "p0f.fp", .err = err, .errlen = errlen, .text = "" };
	size_t pos = 0;
	int rc = V6R_ENOMEM;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || (text == NULL && len > 0))
		return V6R_EINVAL;
	*out = NULL;
	if (len > P0F_DB_MAX_BYTES)
		return ld_fail(&l, V6R_ERANGE, "file too large");
	l.db = calloc(1, sizeof *l.db);
	if (l.db == NULL)
		return ld_fail(&l, V6R_ENOMEM, "out of memory");
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		l.line++;
		if ((rc = ld_line(&l, text + pos, n)) != 0)
			goto fail;
		pos += n + 1;
	}
	free(l.names);
	*out = l.db;
	return 0;
fail:
	free(l.names);
	p0f_db_free(l.db);
	return rc;
}

/* Reads the whole regular file at fd into a new buffer; on failure reports through l. */
static int read_all(struct ld *l, int fd, char **buf, size_t *len)
{
	struct stat st;
	char why[160];
	size_t got = 0;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return ld_fail(l, V6R_EIO, "failed to read signature database (not a regular file)");
	if ((uint64_t)st.st_size > P0F_DB_MAX_BYTES)
		return ld_fail(l, V6R_ERANGE, "file too large");
	*buf = malloc((size_t)st.st_size + 1);
	if (*buf == NULL)
		return ld_fail(l, V6R_ENOMEM, "out of memory");
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, sizeof why, "failed to read signature database (%s)",
			         r < 0 ? strerror(errno) : "short read");
			return ld_fail(l, V6R_EIO, why);
		}
		got += (size_t)r;
	}
	*len = got;
	return 0;
}

int p0f_db_load(const char *path, p0f_db **out, char *err, size_t errlen)
{
	struct ld l = { .name = path, .err = err, .errlen = errlen, .text = "" };
	char *buf = NULL, why[160];
	size_t len = 0;
	int fd, rc;

	if (path == NULL || out == NULL)
		return V6R_EINVAL;
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, sizeof why, "failed to open signature database (%s)", strerror(errno));
		return ld_fail(&l, V6R_EIO, why);
	}
	rc = read_all(&l, fd, &buf, &len);
	if (rc == 0)
		rc = p0f_db_load_mem(buf, len, path, out, err, errlen);
	free(buf);
	close(fd);
	return rc;
}

void p0f_db_free(p0f_db *db)
{
	if (db == NULL)
		return;
	free(db->sigs);
	free(db->labels);
	free(db->pool);
	free(db);
}

unsigned p0f_db_sig_count(const p0f_db *db)
{
	return db ? db->n_sigs : 0;
}

/* ---- log reader ---- */

static const struct {
	const char *name;
	int mod;
} mod_names[] = {
	{ "syn", P0F_MOD_SYN },
	{ "syn+ack", P0F_MOD_SYNACK },
	{ "sendsyn probe", P0F_MOD_SENDSYN_PROBE },
	{ "sendsyn response", P0F_MOD_SENDSYN_RESP },
	{ "mtu", P0F_MOD_MTU },
	{ "uptime", P0F_MOD_UPTIME },
	{ "host change", P0F_MOD_HOST_CHANGE },
	{ "ip sharing", P0F_MOD_IP_SHARING },
	{ "http request", P0F_MOD_HTTP_REQ },
	{ "http response", P0F_MOD_HTTP_RESP },
};

/* A line being parsed: the text, and where the field being read starts (for messages). */
struct lp {
	const char *s;
	size_t n;
	char *err;
	size_t errlen;
};

static int lp_fail(const struct lp *p, const char *at, int rc, const char *why)
{
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "column %zu: %s", (size_t)(at - p->s) + 1, why);
	return rc;
}

void p0f_tz_local(p0f_tz *tz)
{
	memset(tz, 0, sizeof *tz);
	tz->mode = P0F_TZ_LOCAL;
}

/* "hh", "hhmm" or "hh:mm" after the sign; returns seconds or -1. */
static int32_t tz_offset(const char *s, size_t n)
{
	unsigned h, m = 0;

	if (n < 2 || !is_digit((unsigned char)s[0]) || !is_digit((unsigned char)s[1]))
		return -1;
	h = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	s += 2, n -= 2;
	if (n > 0 && *s == ':')
		s++, n--;
	if (n == 2 && is_digit((unsigned char)s[0]) && is_digit((unsigned char)s[1]))
		m = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	else if (n != 0 || s[-1] == ':')
		return -1;
	if (h > 23 || m > 59)
		return -1;
	return (int32_t)(h * 3600 + m * 60);
}

int p0f_tz_parse(const char *s, size_t n, p0f_tz *tz)
{
	p0f_tz t;
	int32_t off;

	if ((s == NULL && n > 0) || tz == NULL)
		return V6R_EINVAL;
	p0f_tz_local(&t);
	if (n == 0 || ieq(s, n, "local", 5)) {
		*tz = t;
		return 0;
	}
	t.mode = P0F_TZ_FIXED;
	if (ieq(s, n, "utc", 3) || ieq(s, n, "gmt", 3) || ieq(s, n, "z", 1)) {
		*tz = t;
		return 0;
	}
	if (n > 3 && (iprefix(s, n, "utc") || iprefix(s, n, "gmt")))
		s += 3, n -= 3;
	if (n < 3 || (s[0] != '+' && s[0] != '-'))
		return V6R_EINVAL;
	off = tz_offset(s + 1, n - 1);
	if (off < 0)
		return V6R_EINVAL;
	t.off_s = s[0] == '-' ? -off : off;
	*tz = t;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* Local wall time (already range-checked) to UTC seconds. */
static int local_to_utc(p0f_tz *tz, const int f[6], int64_t *utc)
{
	int64_t lmin = days_from_civil(f[0], f[1], f[2]) * 1440 + f[3] * 60 + f[4];
	struct tm tm;
	time_t t;

	if (tz != NULL && tz->mode == P0F_TZ_FIXED) {
		*utc = lmin * 60 + f[5] - tz->off_s;
		return 0;
	}
	if (tz != NULL && tz->cache_ok && tz->cache_min == lmin) {
		*utc = tz->cache_utc + f[5];
		return 0;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = f[0] - 1900;
	tm.tm_mon = f[1] - 1;
	tm.tm_mday = f[2];
	tm.tm_hour = f[3];
	tm.tm_min = f[4];
	tm.tm_isdst = -1;
	t = mktime(&tm);
	if (t == (time_t)-1)
		return -1;
	if (tz != NULL) {
		tz->cache_ok = true;
		tz->cache_min = lmin;
		tz->cache_utc = (int64_t)t;
	}
	*utc = (int64_t)t + f[5];
	return 0;
}

/* "[YYYY/MM/DD HH:MM:SS] " at the start of the line. */
static int lp_time(const struct lp *p, p0f_tz *tz, uint64_t *t_us)
{
	static const char shape[] = "[0000/00/00 00:00:00] ";
	int f[6] = { 0 }, k = 0;
	int64_t utc;

	if (p->n < sizeof shape - 1)
		return lp_fail(p, p->s, V6R_ESYNTAX, "expected \"[YYYY/MM/DD HH:MM:SS] \"");
	for (size_t i = 0; i < sizeof shape - 1; i++) {
		unsigned char c = (unsigned char)p->s[i];

		if (shape[i] == '0' ? !is_digit(c) : c != (unsigned char)shape[i])
			return lp_fail(p, p->s + i, V6R_ESYNTAX, "expected \"[YYYY/MM/DD HH:MM:SS] \"");
		if (shape[i] == '0')
			f[k] = f[k] * 10 + (c - '0');
		else if (i > 1 && shape[i - 1] == '0')
			k++;
	}
	if (f[0] < 1970 || f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > days_in_month(f[0], f[1]) ||
	    f[3] > 23 || f[4] > 59 || f[5] > 60)
		return lp_fail(p, p->s + 1, V6R_ERANGE, "date or time out of range");
	if (local_to_utc(tz, f, &utc) != 0 || utc < 0)
		return lp_fail(p, p->s + 1, V6R_ERANGE, "time not representable");
	*t_us = (uint64_t)utc * 1000000u;
	return 0;
}

/* Splits off the next "key=value" field at *pos (up to '|' or the end of the line). */
static int lp_field(const struct lp *p, const char **pos, const char **key, size_t *klen,
                    const char **val, size_t *vlen)
{
	const char *end = p->s + p->n, *f = *pos, *bar = memchr(f, '|', (size_t)(end - f));
	const char *fe = bar ? bar : end, *eq = memchr(f, '=', (size_t)(fe - f));

	if (eq == NULL || eq == f)
		return lp_fail(p, f, V6R_ESYNTAX, "expected key=value");
	*key = f;
	*klen = (size_t)(eq - f);
	*val = eq + 1;
	*vlen = (size_t)(fe - eq - 1);
	*pos = bar ? bar + 1 : end;
	return 0;
}

/* A decimal number s[0..n) within [0, max]. */
static int num(const char *s, size_t n, unsigned max, unsigned *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

/* "ADDR/PORT" */
static int lp_endpoint(const struct lp *p, const char *v, size_t n, uint8_t a[16], uint16_t *port,
                       bool *v6)
{
	const char *slash = NULL;
	addr_pfx pfx;
	unsigned pt;

	for (size_t i = n; i > 0; i--) {
		if (v[i - 1] == '/') {
			slash = v + i - 1;
			break;
		}
	}
	if (slash == NULL)
		return lp_fail(p, v, V6R_ESYNTAX, "expected ADDR/PORT");
	if (addr_parse(v, (size_t)(slash - v), ADDR_NO_LEN, &pfx) != 0)
		return lp_fail(p, v, V6R_ESYNTAX, "bad address");
	if (num(slash + 1, n - (size_t)(slash + 1 - v), 65535, &pt) != 0)
		return lp_fail(p, slash + 1, V6R_ESYNTAX, "bad port");
	memcpy(a, pfx.a, 16);
	*port = (uint16_t)pt;
	if (v6 != NULL)
		*v6 = memchr(v, ':', (size_t)(slash - v)) != NULL;
	return 0;
}

/* Copies value text into a fixed field; "???" (p0f's NULL) gives "". */
static int lp_text(const struct lp *p, const char *v, size_t n, char *dst, size_t cap)
{
	if (n == 3 && memcmp(v, "???", 3) == 0)
		n = 0;
	if (n >= cap)
		return lp_fail(p, v, V6R_ERANGE, "value too long");
	memcpy(dst, v, n);
	dst[n] = '\0';
	return 0;
}

static int hexval(char c)
{
	if (is_digit((unsigned char)c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* params=none | generic fuzzy random_ttl excess_dist tos:0xNN */
static int lp_params(const struct lp *p, const char *v, size_t n, p0f_log_entry *e)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = { { "generic", P0F_P_GENERIC }, { "fuzzy", P0F_P_FUZZY },
	              { "random_ttl", P0F_P_RANDOM_TTL }, { "excess_dist", P0F_P_EXCESS_DIST } };
	size_t i = 0;

	if (n == 4 && memcmp(v, "none", 4) == 0)
		return 0;
	while (i < n) {
		const char *w = v + i, *sp = memchr(w, ' ', n - i);
		size_t wl = sp ? (size_t)(sp - w) : n - i;
		bool ok = false;

		for (size_t k = 0; k < sizeof words / sizeof words[0] && !ok; k++)
			if (wl == strlen(words[k].name) && memcmp(w, words[k].name, wl) == 0) {
				e->params |= words[k].bit;
				ok = true;
			}
		if (!ok && wl == 8 && memcmp(w, "tos:0x", 6) == 0) {
			/* p0f prints "%02x" of the 6-bit DSCP: always two hex digits. */
			int hi = hexval(w[6]), lo = hexval(w[7]);

			ok = hi >= 0 && lo >= 0;
			e->tos = ok ? hi * 16 + lo : 0;
		}
		if (!ok)
			return lp_fail(p, w, V6R_ESYNTAX, "unknown params word");
		i += wl + (sp != NULL);
		if (sp != NULL && i >= n)
			return lp_fail(p, w, V6R_ESYNTAX, "unknown params word");
	}
	return n == 0 ? lp_fail(p, v, V6R_ESYNTAX, "empty params") : 0;
}

/* dist=N or dist=<= N */
static int lp_dist(const struct lp *p, const char *v, size_t n, p0f_log_entry *e)
{
	unsigned d;

	if (n >= 3 && memcmp(v, "<= ", 3) == 0) {
		e->dist_le = true;
		v += 3, n -= 3;
	}
	if (num(v, n, 255, &d) != 0)
		return lp_fail(p, v, V6R_ESYNTAX, "bad dist");
	e->dist = (int)d;
	return 0;
}

/* Reads "<number><word>" from *s (the word includes its leading space); -1 when absent. */
static int take_num(const char **s, const char *end, const char *word, unsigned *out)
{
	const char *q = *s;
	size_t wl = strlen(word);

	while (q < end && is_digit((unsigned char)*q))
		q++;
	if (q == *s || num(*s, (size_t)(q - *s), 0xffffffffu, out) != 0)
		return -1;
	if ((size_t)(end - q) < wl || memcmp(q, word, wl) != 0)
		return -1;
	*s = q + wl;
	return 0;
}

/* uptime=D days H hrs M min (modulo N days) */
static int lp_uptime(const struct lp *p, const char *v, size_t n, p0f_log_entry *e)
{
	const char *s = v, *end = v + n;
	unsigned d, h, m, mod;

	if (take_num(&s, end, " days ", &d) || take_num(&s, end, " hrs ", &h) ||
	    take_num(&s, end, " min (modulo ", &m) || take_num(&s, end, " days)", &mod) ||
	    s != end || h > 23 || m > 59 || d > 0xffffffffu / 1440u)
		return lp_fail(p, v, V6R_ESYNTAX, "bad uptime");
	e->uptime_min = d * 1440u + h * 60u + m;
	e->up_mod_days = mod;
	return 0;
}

/* raw_freq=F.FF Hz */
static int lp_freq(const struct lp *p, const char *v, size_t n, p0f_log_entry *e)
{
	const char *s = v, *end = v + n;
	unsigned whole, frac;

	if (take_num(&s, end, ".", &whole) || end - s != 5 || !is_digit((unsigned char)s[0]) ||
	    !is_digit((unsigned char)s[1]) || memcmp(s + 2, " Hz", 3) != 0 || whole > 40000000u)
		return lp_fail(p, v, V6R_ESYNTAX, "bad raw_freq");
	frac = (unsigned)(s[0] - '0') * 10 + (unsigned)(s[1] - '0');
	e->raw_freq_centi = whole * 100u + frac;
	return 0;
}

static bool key_is(const char *k, size_t kl, const char *want)
{
	return kl == strlen(want) && memcmp(k, want, kl) == 0;
}

/* Fields of SYN-type lines; *seen collects which of os/app, dist, params, raw_sig came. */
static int lp_syn_field(const struct lp *p, const char *k, size_t kl, const char *v, size_t vl,
                        p0f_log_entry *e, unsigned *seen)
{
	if (key_is(k, kl, "os") || key_is(k, kl, "app")) {
		*seen |= 1;
		e->app = kl == 3;
		if (lp_text(p, v, vl, e->label, sizeof e->label) != 0)
			return V6R_ERANGE;
		e->known = e->label[0] != '\0';
		e->os = e->app ? P0F_OS_UNKNOWN : p0f_os_of_label(e->label, strlen(e->label));
		return 0;
	}
	if (key_is(k, kl, "dist")) {
		*seen |= 2;
		return lp_dist(p, v, vl, e);
	}
	if (key_is(k, kl, "params")) {
		*seen |= 4;
		return lp_params(p, v, vl, e);
	}
	if (key_is(k, kl, "raw_sig")) {
		*seen |= 8;
		if (vl >= sizeof e->raw_sig)
			return lp_fail(p, v, V6R_ERANGE, "raw_sig too long");
		if (!p0f_sig_text_valid(v, vl))
			return lp_fail(p, v, V6R_ESYNTAX, "bad raw_sig");
		memcpy(e->raw_sig, v, vl);
		e->raw_sig[vl] = '\0';
	}
	return 0;
}

/* Fields of the other modules p0f writes for TCP. */
static int lp_other_field(const struct lp *p, const char *k, size_t kl, const char *v, size_t vl,
                          p0f_log_entry *e, unsigned *seen)
{
	switch (e->mod) {
	case P0F_MOD_MTU:
		if (key_is(k, kl, "link")) {
			*seen |= 1;
			return lp_text(p, v, vl, e->link, sizeof e->link);
		}
		if (key_is(k, kl, "raw_mtu")) {
			*seen |= 2;
			/* MSS + 40 or 60: over 65535 on IPv6 loopback (measured: 65536). */
			return num(v, vl, 65535 + MIN_TCP6, &e->raw_mtu) ? lp_fail(p, v, V6R_ESYNTAX, "bad raw_mtu") : 0;
		}
		return 0;
	case P0F_MOD_UPTIME:
		if (key_is(k, kl, "uptime")) {
			*seen |= 1;
			return lp_uptime(p, v, vl, e);
		}
		if (key_is(k, kl, "raw_freq")) {
			*seen |= 2;
			return lp_freq(p, v, vl, e);
		}
		return 0;
	default: /* host change, ip sharing */
		if (key_is(k, kl, "reason")) {
			*seen |= 1;
			return lp_text(p, v, vl, e->reason, sizeof e->reason);
		}
		if (key_is(k, kl, "raw_hits"))
			*seen |= 2;
		return 0;
	}
}

/* mod=NAME|cli=A/P|srv=A/P|subj=cli|srv: the part every module shares. */
static int lp_common(const struct lp *p, const char **pos, p0f_log_entry *e)
{
	static const char *const keys[4] = { "mod", "cli", "srv", "subj" };

	for (int i = 0; i < 4; i++) {
		const char *k, *v, *at = *pos;
		size_t kl, vl;
		int rc;

		if (*pos >= p->s + p->n)
			return lp_fail(p, at, V6R_ESYNTAX, "line ends early");
		if ((rc = lp_field(p, pos, &k, &kl, &v, &vl)) != 0)
			return rc;
		if (!key_is(k, kl, keys[i]))
			return lp_fail(p, at, V6R_ESYNTAX, i == 0 ? "expected mod=" : i == 1 ? "expected cli=" :
			               i == 2 ? "expected srv=" : "expected subj=");
		if (i == 0) {
			e->mod = P0F_MOD_OTHER;
			for (size_t m = 0; m < sizeof mod_names / sizeof mod_names[0]; m++)
				if (key_is(v, vl, mod_names[m].name))
					e->mod = mod_names[m].mod;
			if (vl == 0)
				return lp_fail(p, v, V6R_ESYNTAX, "empty mod");
		} else if (i == 1) {
			rc = lp_endpoint(p, v, vl, e->cli, &e->cli_port, &e->v6);
		} else if (i == 2) {
			rc = lp_endpoint(p, v, vl, e->srv, &e->srv_port, NULL);
		} else if (key_is(v, vl, "cli") || key_is(v, vl, "srv")) {
			e->subj_cli = v[0] == 'c';
		} else {
			rc = lp_fail(p, v, V6R_ESYNTAX, "subj is neither cli nor srv");
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static bool mod_is_syn(int mod)
{
	return mod == P0F_MOD_SYN || mod == P0F_MOD_SYNACK || mod == P0F_MOD_SENDSYN_PROBE ||
	       mod == P0F_MOD_SENDSYN_RESP;
}

static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank(s[i]))
			return false;
	return true;
}

int p0f_log_parse_line(const char *line, size_t len, p0f_tz *tz, p0f_log_entry *e, char *err,
                       size_t errlen)
{
	struct lp p = { line, len, err, errlen };
	const char *pos;
	unsigned seen = 0, need;
	int rc;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((line == NULL && len > 0) || e == NULL)
		return V6R_EINVAL;
	while (p.n > 0 && (line[p.n - 1] == '\n' || line[p.n - 1] == '\r'))
		p.n--;
	memset(e, 0, sizeof *e);
	e->dist = -1;
	if (blank_line(line, p.n))
		return 0;
	if ((rc = lp_time(&p, tz, &e->t_us)) != 0)
		return rc;
	pos = line + 22;
	if ((rc = lp_common(&p, &pos, e)) != 0)
		return rc;
	/* Other modules (http) carry values that may hold '|': only the shared part is read. */
	if (e->mod == P0F_MOD_OTHER || e->mod == P0F_MOD_HTTP_REQ || e->mod == P0F_MOD_HTTP_RESP)
		return 1;
	while (pos < line + p.n) {
		const char *k, *v;
		size_t kl, vl;

		if ((rc = lp_field(&p, &pos, &k, &kl, &v, &vl)) != 0)
			return rc;
		rc = mod_is_syn(e->mod) ? lp_syn_field(&p, k, kl, v, vl, e, &seen)
		                        : lp_other_field(&p, k, kl, v, vl, e, &seen);
		if (rc != 0)
			return rc;
	}
	need = mod_is_syn(e->mod) ? 15u : 3u;
	if ((seen & need) != need)
		return lp_fail(&p, line + p.n, V6R_ESYNTAX, mod_is_syn(e->mod) ?
		               "missing os/app, dist, params or raw_sig" : "missing fields for this mod");
	return 1;
}
