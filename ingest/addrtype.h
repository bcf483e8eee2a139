/* addrtype.h: what an IPv6 source address says about its host (INPUTS.md section 5). */
#ifndef V6R_ADDRTYPE_H
#define V6R_ADDRTYPE_H

#include <stdbool.h>
#include <stdint.h>

enum at_kind {
	AT_NATIVE = 0,   /* global unicast with an interface identifier we cannot read */
	AT_6TO4,         /* 2002:V4::/48, RFC 3056: the IPv4 is the host's (or its router's) */
	AT_TEREDO,       /* 2001:0::/32, RFC 4380: client IPv4 obfuscated in the low 32 bits */
	AT_ISATAP,       /* IID [02]00:5efe:V4, RFC 5214 */
	AT_NAT64,        /* 64:ff9b::/96 (RFC 6052) and 64:ff9b:1::/48 (RFC 8215) */
	AT_MAPPED,       /* ::ffff:0:0/96: really IPv4 */
	AT_EUI64,        /* IID from a MAC (ff:fe in the middle) */
	AT_LOW32,        /* IID 0:0:V4 with a plausible IPv4 in the low 32 bits (ipv4-32) */
};

typedef struct at_info {
	uint8_t kind;         /* enum at_kind */
	bool has_v4;          /* v4 holds an IPv4 the address carries */
	uint8_t v4[4];        /* network order */
} at_info;

/* Classifies a 16-byte IPv6 address. */
void at_classify(const uint8_t a[16], at_info *out);

/*
 * Whether the interface identifier is a stable one (EUI-64 from a MAC, or a manual low value like
 * ::25): a host rotating privacy addresses (RFC 8981) draws random ones, so two different
 * addresses of one /64 of which one is stable belong to two hosts.
 */
bool at_stable_iid(const uint8_t a[16]);

/* "native", "6to4", "teredo", ... */
const char *at_kind_name(unsigned kind);

#endif
