/* addr.h: IPv6 and IPv4 addresses and prefixes, and the RFC 5782 reversed-name codecs. */
#ifndef V6R_ADDR_H
#define V6R_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * One address space for both families: an IPv4 address a.b.c.d is the IPv4-mapped IPv6 address
 * ::ffff:a.b.c.d (RFC 4291 2.5.5.2), and an IPv4 prefix /n is the IPv6 prefix /(96+n) inside
 * ::ffff:0:0/96. This is also how RFC 5782 names its IPv6 test points (::FFFF:7F00:2), so
 * 127.0.0.2 and ::ffff:7f00:2 are one entry.
 */
#define ADDR_V4_BASE_LEN 96u

typedef struct addr_pfx {
	uint8_t a[16];  /* network order; bits beyond len are zero */
	uint8_t len;    /* 0..128 */
} addr_pfx;

/* Flags for addr_parse. */
#define ADDR_MASK_HOST 0x1u  /* clear host bits instead of failing with V6R_EHOSTBITS */
#define ADDR_NO_LEN    0x2u  /* a /LEN suffix is a syntax error (plain address only) */

/*
 * Parses "ADDR[/LEN]" from s[0..n) (no NUL needed): an IPv6 address (any RFC 4291 text form,
 * including a dotted IPv4 tail) or a dotted-quad IPv4 address. LEN defaults to 128 (IPv6) or
 * 32 (IPv4); an IPv4 LEN is 0..32 and is stored as 96+LEN. Returns 0, V6R_ESYNTAX,
 * V6R_ERANGE (LEN too large) or V6R_EHOSTBITS (bits set beyond LEN, unless ADDR_MASK_HOST).
 */
int addr_parse(const char *s, size_t n, unsigned flags, addr_pfx *out);

/* True when p is an IPv4 prefix: len >= 96 and inside ::ffff:0:0/96. */
bool addr_is_v4(const addr_pfx *p);

/* True when the 16-byte address is inside ::ffff:0:0/96. */
bool addr_is_v4_addr(const uint8_t a[16]);

/* Sets p to the IPv4 prefix a.b.c.d/len (len 0..32); a is in network order. */
void addr_from_v4(addr_pfx *p, const uint8_t v4[4], unsigned len);

/*
 * Writes p as CIDR text ("2001:db8::/32", "192.0.2.0/24"; RFC 5952 form for IPv6, dotted quad
 * for IPv4 prefixes) into buf, always with the /LEN. Returns the length written (without the
 * NUL) or V6R_ESPACE. 64 bytes always suffice (ADDR_PFX_STRLEN).
 */
#define ADDR_PFX_STRLEN 64
int addr_format(const addr_pfx *p, char *buf, size_t cap);

/* Writes the plain address (no /LEN) the same way. Returns the length or V6R_ESPACE. */
int addr_format_addr(const uint8_t a[16], bool v4, char *buf, size_t cap);

/* Clears all bits of a beyond len (0..128). */
void addr_mask(uint8_t a[16], unsigned len);

/* True when address a lies inside prefix p. */
bool addr_contains(const addr_pfx *p, const uint8_t a[16]);

/* True when prefix inner lies inside (or equals) prefix outer. */
bool addr_pfx_within(const addr_pfx *inner, const addr_pfx *outer);

/* Number of leading bits that a and b share (0..128). */
unsigned addr_cpl(const uint8_t a[16], const uint8_t b[16]);

/* Compares two prefixes in store key order: address bytes, then length. Returns <0, 0, >0. */
int addr_pfx_cmp(const addr_pfx *x, const addr_pfx *y);

/*
 * Reversed-name decoding from DNS wire labels (RFC 5782). labs[i] points at the length octet of
 * label i of a wire name, i = 0 being the leftmost label; n is the number of labels that lie
 * below the zone apex. Decoding starts at the label next to the apex (labs[n-1]) and walks
 * toward the leftmost label while labels are valid, so a name with a junk leftmost label still
 * yields the valid part above it.
 *
 * addr_nibbles_wire: a valid label is one hex digit (either case). Reads at most 32 labels and
 * writes their nibbles into key (the rest zero). Returns how many labels were valid, from the
 * apex side (0..32); the prefix length they name is 4 times that.
 *
 * addr_v4_wire: a valid label is a decimal octet 0..255 without leading zeros. Reads at most 4
 * labels and writes ::ffff:a.b.c.d (missing octets zero) into key. Returns how many labels were
 * valid (0..4); the prefix length they name is 96 + 8 times that.
 */
unsigned addr_nibbles_wire(const uint8_t *const *labs, unsigned n, uint8_t key[16]);
unsigned addr_v4_wire(const uint8_t *const *labs, unsigned n, uint8_t key[16]);

/*
 * Writes the reversed nibble name of the first `nibbles` nibbles of a (0..32), lower case,
 * labels separated by dots, no trailing dot, no zone ("1.0.0.0.8.b.d.0.1.0.0.2"); an empty
 * string for 0 nibbles. Returns the length or V6R_ESPACE (64 bytes always suffice).
 */
int addr_nibble_name(const uint8_t a[16], unsigned nibbles, char *buf, size_t cap);

/* Same for IPv4 ("4.3.2.1" for 1.2.3.4) with `octets` labels (0..4) of a mapped address. */
int addr_v4_name(const uint8_t a[16], unsigned octets, char *buf, size_t cap);

#endif
