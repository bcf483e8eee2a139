/* addrtype.c: standard and apparent IPv4 embeddings in IPv6 addresses. */
#include "addrtype.h"

#include <string.h>

static bool is_6to4(const uint8_t a[16])
{
	return a[0] == 0x20 && a[1] == 0x02;
}

static bool is_teredo(const uint8_t a[16])
{
	return a[0] == 0x20 && a[1] == 0x01 && a[2] == 0 && a[3] == 0;
}

static bool is_nat64(const uint8_t a[16])
{
	static const uint8_t wkp[12] = { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t local[6] = { 0, 0x64, 0xff, 0x9b, 0, 1 };
	return memcmp(a, wkp, 12) == 0 || memcmp(a, local, 6) == 0;
}

static bool is_mapped(const uint8_t a[16])
{
	static const uint8_t m[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	return memcmp(a, m, 12) == 0;
}

/* ipv6toolkit's test: (word2 & 0xfdffffff) == 0x00005efe. */
static bool is_isatap(const uint8_t a[16])
{
	return (a[8] & 0xfd) == 0 && a[9] == 0 && a[10] == 0x5e && a[11] == 0xfe;
}

static bool is_eui64(const uint8_t a[16])
{
	return a[11] == 0xff && a[12] == 0xfe;
}

/*
 * ipv4-32 (ipv6toolkit): bits 64..95 zero, the high byte of word 6 non-zero and word 7 non-zero;
 * we also want a plausible unicast IPv4 (not 0/8, 127/8, multicast or reserved).
 */
static bool is_low32(const uint8_t a[16])
{
	if (a[8] | a[9] | a[10] | a[11])
		return false;
	if (a[12] == 0 || (a[14] == 0 && a[15] == 0))
		return false;
	return a[12] != 127 && a[12] < 224;
}

void at_classify(const uint8_t a[16], at_info *out)
{
	memset(out, 0, sizeof(*out));
	if (is_mapped(a)) {
		out->kind = AT_MAPPED;
		memcpy(out->v4, a + 12, 4);
	} else if (is_6to4(a)) {
		out->kind = AT_6TO4;
		memcpy(out->v4, a + 2, 4);
	} else if (is_teredo(a)) {
		out->kind = AT_TEREDO;
		for (int i = 0; i < 4; i++)
			out->v4[i] = (uint8_t)~a[12 + i];
	} else if (is_nat64(a)) {
		out->kind = AT_NAT64;
		memcpy(out->v4, a + 12, 4);
	} else if (is_isatap(a)) {
		out->kind = AT_ISATAP;
		memcpy(out->v4, a + 12, 4);
	} else if (is_eui64(a)) {
		out->kind = AT_EUI64;
		return;
	} else if (is_low32(a)) {
		out->kind = AT_LOW32;
		memcpy(out->v4, a + 12, 4);
	} else {
		out->kind = AT_NATIVE;
		return;
	}
	out->has_v4 = true;
}

const char *at_kind_name(unsigned kind)
{
	static const char *const names[] = { "native", "6to4", "teredo", "isatap", "nat64", "mapped",
	                                     "eui64", "low32" };
	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "native";
}

bool at_stable_iid(const uint8_t a[16])
{
	static const uint8_t zero[6];
	return is_eui64(a) || memcmp(a + 8, zero, 6) == 0;
}
