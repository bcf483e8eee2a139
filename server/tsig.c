/* tsig.c: TSIG (RFC 8945) for transfers, NOTIFY and signed queries, with libcrypto's HMAC. */
#include "tsig.h"
#include "wire.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "../zone/err.h"

#define T_TSIG 250u
#define C_ANY 255u




size_t tsig_size(const tsig_key *k)
{
	/* owner and algorithm names, RR header, time, fudge, MAC, id, error, other length */
	return strlen(k->name) + 2 + strlen(k->alg) + 2 + 10 + 6 + 2 + 2 + TSIG_MAC_MAX + 6;
}

int tsig_locate(const uint8_t *msg, size_t len, size_t *off)
{
	if (len < 12)
		return -1;
	unsigned qd = wire_rd16(msg + 4), an = wire_rd16(msg + 6), ns = wire_rd16(msg + 8), ar = wire_rd16(msg + 10);
	size_t o = 12, last = 0;
	unsigned last_type = 0;
	for (unsigned i = 0; i < qd; i++) {
		if (wire_skip_name(msg, len, &o) || len - o < 4)
			return -1;
		o += 4;
	}
	for (unsigned i = 0; i < an + ns + ar; i++) {
		size_t start = o;
		if (wire_skip_name(msg, len, &o) || len - o < 10)
			return -1;
		unsigned type = wire_rd16(msg + o), rdlen = wire_rd16(msg + o + 8);
		o += 10;
		if (len - o < rdlen)
			return -1;
		o += rdlen;
		last = start;
		last_type = i >= an + ns ? type : 0;
	}
	if (last_type != T_TSIG)
		return 0;
	*off = last;
	return 1;
}

/* Presentation name ("a.b.", validated by the settings) to lower-case wire form; -1 if bad. */
static int name_wire(const char *s, uint8_t out[256])
{
	size_t o = 0;
	while (*s && strcmp(s, ".") != 0) {
		const char *dot = strchr(s, '.');
		size_t n = dot ? (size_t)(dot - s) : strlen(s);
		if (n == 0 || n > 63 || o + n + 2 > 255)
			return -1;
		out[o++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			out[o++] = (uint8_t)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
		s += n + (dot ? 1 : 0);
	}
	out[o++] = 0;
	return (int)o;
}

static const EVP_MD *digest_of(const char *alg)
{
	if (!strcasecmp(alg, "hmac-sha256."))
		return EVP_sha256();
	if (!strcasecmp(alg, "hmac-sha384."))
		return EVP_sha384();
	if (!strcasecmp(alg, "hmac-sha512."))
		return EVP_sha512();
	if (!strcasecmp(alg, "hmac-sha1."))
		return EVP_sha1();
	if (!strcasecmp(alg, "hmac-md5.sig-alg.reg.int."))
		return EVP_md5();
	return NULL;
}

/* The key's secret, decoded; returns its length or -1. */
static int secret_bytes(const char *b64, uint8_t out[192])
{
	size_t n = strlen(b64);
	if (n == 0 || n % 4 || n / 4 * 3 > 192)
		return -1;
	int k = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	if (k < 0)
		return -1;
	for (size_t i = n; i > 0 && b64[i - 1] == '='; i--)
		k--;
	return k;
}

/* Writes the TSIG variables (RFC 8945 4.3.3) or, with timers_only, the timers (4.3.1); error
 * and other data are zero (what we sign), see verify for a request's. */
static size_t put_vars(uint8_t *p, const uint8_t *kn, int knl, const uint8_t *an, int anl,
                       uint64_t now, bool timers_only)
{
	size_t o = 0;
	if (!timers_only) {
		memcpy(p, kn, (size_t)knl);
		o = (size_t)knl;
		wire_wr16(p + o, C_ANY);
		memset(p + o + 2, 0, 4);
		o += 6;
		memcpy(p + o, an, (size_t)anl);
		o += (size_t)anl;
	}
	for (unsigned i = 0; i < 6; i++)
		p[o + i] = (uint8_t)(now >> (8 * (5 - i)));
	wire_wr16(p + o + 6, TSIG_FUDGE);
	o += 8;
	if (!timers_only) {
		memset(p + o, 0, 4);             /* error 0, no other data */
		o += 4;
	}
	return o;
}

/* The fields of a TSIG record (RFC 8945 4.2), pointing into the message. */
typedef struct tsig_rr {
	const uint8_t *owner, *alg, *mac, *tail;   /* tail: error, other length, other data */
	size_t owner_len, alg_len, mac_len, tail_len;
	uint64_t signed_at;
	unsigned fudge, orig_id;
} tsig_rr;

/* Skips an uncompressed name (TSIG names must not be compressed); -1 when malformed. */
static int plain_name(const uint8_t *m, size_t len, size_t *off)
{
	size_t o = *off;
	for (unsigned guard = 0; guard < 128; guard++) {
		if (o >= len || (m[o] & 0xC0u))
			return -1;
		uint8_t l = m[o];
		o += 1u + l;
		if (l == 0) {
			*off = o;
			return 0;
		}
	}
	return -1;
}

static int tsig_parse(const uint8_t *m, size_t len, size_t off, tsig_rr *t)
{
	size_t o = off, a;
	t->owner = m + off;
	if (plain_name(m, len, &o) || len - o < 10 || wire_rd16(m + o) != T_TSIG)
		return -1;
	t->owner_len = o - off;
	size_t end = o + 10 + wire_rd16(m + o + 8);
	o += 10;
	if (end != len)
		return -1;
	a = o;
	if (plain_name(m, end, &o) || end - o < 10)
		return -1;
	t->alg = m + a;
	t->alg_len = o - a;
	t->signed_at = 0;
	for (unsigned i = 0; i < 6; i++)
		t->signed_at = t->signed_at << 8 | m[o + i];
	t->fudge = wire_rd16(m + o + 6);
	t->mac_len = wire_rd16(m + o + 8);
	o += 10;
	if (end - o < t->mac_len + 6)
		return -1;
	t->mac = m + o;
	o += t->mac_len;
	t->orig_id = wire_rd16(m + o);
	t->tail = m + o + 2;
	t->tail_len = end - o - 2;
	return 4 + wire_rd16(t->tail + 2) == t->tail_len ? 0 : -1;
}

static bool name_eq(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	if (al != bl)
		return false;
	for (size_t i = 0; i < al; i++) {
		uint8_t x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		uint8_t y = b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i];
		if (x != y)
			return false;
	}
	return true;
}

/* A wire name as text for the log ("key.example."). */
static void name_text(const uint8_t *w, size_t n, char *buf, size_t cap)
{
	size_t o = 0, b = 0;
	while (o < n && w[o] && b + w[o] + 2 < cap) {
		for (unsigned i = 1; i <= w[o]; i++)
			buf[b++] = (char)(w[o + i] > 32 && w[o + i] < 127 ? w[o + i] : '?');
		buf[b++] = '.';
		o += 1u + w[o];
	}
	buf[b] = '\0';
}

/* The MAC of a request as RFC 8945 4.3 defines it, into mac (EVP_MAX_MD_SIZE). */
static bool request_mac(const tsig_key *k, const uint8_t *msg, size_t off, const tsig_rr *t,
                        const uint8_t *kn, int knl, const uint8_t *an, int anl, uint8_t *mac,
                        unsigned *mac_len)
{
	uint8_t secret[192];
	int sl = secret_bytes(k->secret, secret);
	const EVP_MD *md = digest_of(k->alg);
	uint8_t *d = malloc(off + (size_t)knl + (size_t)anl + 16 + t->tail_len);
	if (!d || sl < 0 || !md) {
		free(d);
		return false;
	}
	memcpy(d, msg, off);
	wire_wr16(d, t->orig_id);                       /* the id it was signed with */
	wire_wr16(d + 10, wire_rd16(d + 10) - 1);            /* without the TSIG record */
	size_t o = off;
	memcpy(d + o, kn, (size_t)knl);            /* canonical (lower-case) key name */
	o += (size_t)knl;
	wire_wr16(d + o, C_ANY);
	memset(d + o + 2, 0, 4);
	o += 6;
	memcpy(d + o, an, (size_t)anl);
	o += (size_t)anl;
	for (unsigned i = 0; i < 6; i++)
		d[o + i] = (uint8_t)(t->signed_at >> (8 * (5 - i)));
	wire_wr16(d + o + 6, t->fudge);
	o += 8;
	memcpy(d + o, t->tail, t->tail_len);        /* error, other length, other data */
	o += t->tail_len;
	bool ok = HMAC(md, secret, sl, d, o, mac, mac_len) != NULL;
	free(d);
	return ok;
}

int tsig_check(const tsig_key *k, const uint8_t *msg, size_t len, uint64_t now, tsig_req *req)
{
	tsig_rr t;
	uint8_t kn[256], an[256], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	memset(req, 0, sizeof(*req));
	int found = tsig_locate(msg, len, &req->tsig_off);
	if (found <= 0)
		return found < 0 ? V6R_ESYNTAX : 0;
	req->present = true;
	if (tsig_parse(msg, len, req->tsig_off, &t))
		return V6R_ESYNTAX;
	name_text(t.owner, t.owner_len, req->keyname, sizeof(req->keyname));
	if (t.mac_len <= TSIG_MAC_MAX) {
		memcpy(req->mac, t.mac, t.mac_len);
		req->mac_len = t.mac_len;
	}
	int knl = k && k->name[0] ? name_wire(k->name, kn) : -1;
	int anl = k && k->name[0] ? name_wire(k->alg, an) : -1;
	if (knl < 0 || anl < 0 || !name_eq(t.owner, t.owner_len, kn, (size_t)knl) ||
	    !name_eq(t.alg, t.alg_len, an, (size_t)anl))
		req->error = TSIG_BADKEY;
	else if (!request_mac(k, msg, req->tsig_off, &t, kn, knl, an, anl, mac, &mac_len) ||
	         mac_len != t.mac_len || CRYPTO_memcmp(mac, t.mac, mac_len) != 0)
		req->error = TSIG_BADSIG;
	else if (t.signed_at + t.fudge < now || now + t.fudge < t.signed_at)
		req->error = TSIG_BADTIME;
	return 0;
}

/*
 * The MAC is computed here with libcrypto over our own bytes rather than by
 * ldns_pkt_tsig_sign_next, which re-serialises the message: that costs ~20 ms per 12 KB
 * message (and ~0.7 s with 32-label owners), far too slow for a zone of a million listings.
 */
size_t tsig_sign(const tsig_key *k, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                 uint8_t prior[TSIG_MAC_MAX], size_t *prior_len, bool timers_only)
{
	uint8_t kn[256], an[256], secret[192], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	int knl = name_wire(k->name, kn), anl = name_wire(k->alg, an);
	int sl = secret_bytes(k->secret, secret);
	const EVP_MD *md = digest_of(k->alg);
	uint64_t now = (uint64_t)time(NULL);
	if (knl < 0 || anl < 0 || sl < 0 || !md || len < 12)
		return 0;
	uint8_t *d = malloc(2 + TSIG_MAC_MAX + len + 600);
	if (!d)
		return 0;
	size_t o = 0;
	if (*prior_len) {
		wire_wr16(d, (unsigned)*prior_len);
		memcpy(d + 2, prior, *prior_len);
		o = 2 + *prior_len;
	}
	memcpy(d + o, msg, len);
	o += len;
	o += put_vars(d + o, kn, knl, an, anl, now, timers_only);
	bool ok = HMAC(md, secret, sl, d, o, mac, &mac_len) != NULL && mac_len <= TSIG_MAC_MAX;
	free(d);
	size_t rdlen = (size_t)anl + 10 + mac_len + 6, total = len + (size_t)knl + 10 + rdlen;
	if (!ok || total > cap)
		return 0;
	memmove(out, msg, len);
	uint8_t *p = out + len;
	memcpy(p, kn, (size_t)knl);
	p += knl;
	wire_wr16(p, T_TSIG);
	wire_wr16(p + 2, C_ANY);
	memset(p + 4, 0, 4);
	wire_wr16(p + 8, (unsigned)rdlen);
	p += 10;
	memcpy(p, an, (size_t)anl);
	p += anl;
	for (unsigned i = 0; i < 6; i++)
		p[i] = (uint8_t)(now >> (8 * (5 - i)));
	wire_wr16(p + 6, TSIG_FUDGE);
	wire_wr16(p + 8, mac_len);
	memcpy(p + 10, mac, mac_len);
	p += 10 + mac_len;
	wire_wr16(p, wire_rd16(out));                  /* original id */
	wire_wr16(p + 2, 0);                      /* no error */
	wire_wr16(p + 4, 0);                      /* no other data */
	wire_wr16(out + 10, wire_rd16(out + 10) + 1);
	memcpy(prior, mac, mac_len);
	*prior_len = mac_len;
	return total;
}

size_t tsig_append_error(const uint8_t *req, size_t req_len, size_t tsig_off, uint8_t *msg,
                         size_t len, size_t cap, int error, uint64_t now)
{
	size_t o = tsig_off, owner_end, alg_start, alg_end;
	if (wire_skip_name(req, req_len, &o))
		return len;
	owner_end = o;
	alg_start = o + 10;
	o = alg_start;
	if (alg_start > req_len || wire_skip_name(req, req_len, &o))
		return len;
	alg_end = o;
	size_t owner_len = owner_end - tsig_off, alg_len = alg_end - alg_start;
	size_t rdlen = alg_len + 6 + 2 + 2 + 2 + 2 + 2;
	if (len + owner_len + 10 + rdlen > cap)
		return len;
	uint8_t *p = msg + len;
	memcpy(p, req + tsig_off, owner_len);
	p += owner_len;
	wire_wr16(p, T_TSIG);
	wire_wr16(p + 2, C_ANY);
	memset(p + 4, 0, 4);
	wire_wr16(p + 8, (unsigned)rdlen);
	p += 10;
	memcpy(p, req + alg_start, alg_len);
	p += alg_len;
	for (unsigned i = 0; i < 6; i++)
		p[i] = (uint8_t)(now >> (8 * (5 - i)));
	wire_wr16(p + 6, TSIG_FUDGE);
	wire_wr16(p + 8, 0);                      /* no MAC */
	wire_wr16(p + 10, wire_rd16(req));             /* original id */
	wire_wr16(p + 12, (unsigned)error);
	wire_wr16(p + 14, 0);                     /* no other data */
	wire_wr16(msg + 10, wire_rd16(msg + 10) + 1);
	return len + owner_len + 10 + rdlen;
}
