/* addr.c: IPv6/IPv4 prefixes in one address space, and the RFC 5782 reversed-name codecs. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

static const uint8_t v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool addr_is_v4_addr(const uint8_t a[16])
{
	return memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0;
}

bool addr_is_v4(const addr_pfx *p)
{
	return p->len >= ADDR_V4_BASE_LEN && addr_is_v4_addr(p->a);
}

void addr_from_v4(addr_pfx *p, const uint8_t v4[4], unsigned len)
{
	memcpy(p->a, v4_mapped, sizeof(v4_mapped));
	memcpy(p->a + 12, v4, 4);
	p->len = (uint8_t)(ADDR_V4_BASE_LEN + (len > 32 ? 32 : len));
	addr_mask(p->a, p->len);
}

void addr_mask(uint8_t a[16], unsigned len)
{
	if (len >= 128)
		return;
	unsigned byte = len / 8, bits = len % 8;
	if (bits) {
		a[byte] &= (uint8_t)(0xff00u >> bits);
		byte++;
	}
	memset(a + byte, 0, 16 - byte);
}

unsigned addr_cpl(const uint8_t a[16], const uint8_t b[16])
{
	for (unsigned i = 0; i < 16; i++) {
		uint8_t x = a[i] ^ b[i];
		if (x)
			return i * 8 + (unsigned)__builtin_clz(x) - 24;
	}
	return 128;
}

bool addr_contains(const addr_pfx *p, const uint8_t a[16])
{
	return addr_cpl(p->a, a) >= p->len;
}

bool addr_pfx_within(const addr_pfx *inner, const addr_pfx *outer)
{
	return inner->len >= outer->len && addr_contains(outer, inner->a);
}

int addr_pfx_cmp(const addr_pfx *x, const addr_pfx *y)
{
	int c = memcmp(x->a, y->a, 16);
	if (c)
		return c;
	return (int)x->len - (int)y->len;
}

/* Parses a decimal length of at most 3 digits; -1 on error. */
static int parse_len(const char *s, size_t n)
{
	if (n == 0 || n > 3)
		return -1;
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (n > 1 && s[0] == '0')
		return -1;
	return v;
}

/* Whether a[] has bits set beyond len. */
static bool has_host_bits(const uint8_t a[16], unsigned len)
{
	uint8_t m[16];
	memcpy(m, a, 16);
	addr_mask(m, len);
	return memcmp(m, a, 16) != 0;
}

int addr_parse(const char *s, size_t n, unsigned flags, addr_pfx *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = memchr(s, '/', n);
	size_t alen = slash ? (size_t)(slash - s) : n;
	if (alen == 0 || alen >= sizeof(buf) || memchr(s, '\0', n))
		return V6R_ESYNTAX;
	if (slash && (flags & ADDR_NO_LEN))
		return V6R_ESYNTAX;
	memcpy(buf, s, alen);
	buf[alen] = '\0';

	uint8_t v4[4];
	bool is_v4 = strchr(buf, ':') == NULL;
	if (is_v4) {
		if (inet_pton(AF_INET, buf, v4) != 1)
			return V6R_ESYNTAX;
		memcpy(out->a, v4_mapped, 12);
		memcpy(out->a + 12, v4, 4);
	} else if (inet_pton(AF_INET6, buf, out->a) != 1) {
		return V6R_ESYNTAX;
	}

	int len = is_v4 ? 32 : 128;
	if (slash) {
		len = parse_len(slash + 1, n - alen - 1);
		if (len < 0)
			return V6R_ESYNTAX;
		if (len > (is_v4 ? 32 : 128))
			return V6R_ERANGE;
	}
	unsigned full = is_v4 ? ADDR_V4_BASE_LEN + (unsigned)len : (unsigned)len;
	if (has_host_bits(out->a, full)) {
		if (!(flags & ADDR_MASK_HOST))
			return V6R_EHOSTBITS;
		addr_mask(out->a, full);
	}
	out->len = (uint8_t)full;
	return 0;
}

int addr_format_addr(const uint8_t a[16], bool v4, char *buf, size_t cap)
{
	char tmp[INET6_ADDRSTRLEN];
	const char *r = v4 ? inet_ntop(AF_INET, a + 12, tmp, sizeof(tmp))
	                   : inet_ntop(AF_INET6, a, tmp, sizeof(tmp));
	if (!r)
		return V6R_EINVAL;
	size_t n = strlen(tmp);
	if (n + 1 > cap)
		return V6R_ESPACE;
	memcpy(buf, tmp, n + 1);
	return (int)n;
}

int addr_format(const addr_pfx *p, char *buf, size_t cap)
{
	bool v4 = addr_is_v4(p);
	int n = addr_format_addr(p->a, v4, buf, cap);
	if (n < 0)
		return n;
	unsigned len = v4 ? p->len - ADDR_V4_BASE_LEN : p->len;
	int m = snprintf(buf + n, cap - (size_t)n, "/%u", len);
	if (m < 0 || (size_t)m >= cap - (size_t)n)
		return V6R_ESPACE;
	return n + m;
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

unsigned addr_nibbles_wire(const uint8_t *const *labs, unsigned n, uint8_t key[16])
{
	memset(key, 0, 16);
	unsigned k = 0;
	while (k < n && k < 32) {
		const uint8_t *l = labs[n - 1 - k];
		int v = l[0] == 1 ? hexval(l[1]) : -1;
		if (v < 0)
			break;
		key[k / 2] |= (uint8_t)(k % 2 ? v : v << 4);
		k++;
	}
	return k;
}

/* Decimal octet label 0..255 without leading zeros; -1 when not one. */
static int octet_label(const uint8_t *l)
{
	unsigned len = l[0];
	if (len == 0 || len > 3 || (len > 1 && l[1] == '0'))
		return -1;
	int v = 0;
	for (unsigned i = 1; i <= len; i++) {
		if (l[i] < '0' || l[i] > '9')
			return -1;
		v = v * 10 + (l[i] - '0');
	}
	return v <= 255 ? v : -1;
}

unsigned addr_v4_wire(const uint8_t *const *labs, unsigned n, uint8_t key[16])
{
	memcpy(key, v4_mapped, 12);
	memset(key + 12, 0, 4);
	unsigned k = 0;
	while (k < n && k < 4) {
		int v = octet_label(labs[n - 1 - k]);
		if (v < 0)
			break;
		key[12 + k] = (uint8_t)v;
		k++;
	}
	return k;
}

int addr_nibble_name(const uint8_t a[16], unsigned nibbles, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	if (nibbles > 32)
		nibbles = 32;
	size_t need = nibbles ? nibbles * 2 : 1;
	if (cap < need)
		return V6R_ESPACE;
	size_t o = 0;
	for (unsigned i = nibbles; i-- > 0;) {
		uint8_t b = a[i / 2];
		buf[o++] = hex[i % 2 ? (b & 0xf) : (b >> 4)];
		if (i)
			buf[o++] = '.';
	}
	buf[o] = '\0';
	return (int)o;
}

int addr_v4_name(const uint8_t a[16], unsigned octets, char *buf, size_t cap)
{
	if (octets > 4)
		octets = 4;
	if (cap == 0)
		return V6R_ESPACE;
	size_t o = 0;
	buf[0] = '\0';
	for (unsigned i = octets; i-- > 0;) {
		int m = snprintf(buf + o, cap > o ? cap - o : 0, "%u%s", a[12 + i], i ? "." : "");
		if (m < 0 || (size_t)m >= cap - o)
			return V6R_ESPACE;
		o += (size_t)m;
	}
	return (int)o;
}
