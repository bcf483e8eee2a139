/* evid.h: the evidence kept with each automatic listing, encoded for the store's evidence DB. */
#ifndef V6R_EVID_H
#define V6R_EVID_H

#include <stddef.h>
#include <stdint.h>

/* Features that tied an IPv6 source to a rejected IPv4 (DESIGN.md "Association"). */
#define EVID_F_6TO4      0x0001u  /* IPv4 of a 6to4 address (RFC 3056) */
#define EVID_F_TEREDO    0x0002u  /* Teredo client IPv4 (RFC 4380) */
#define EVID_F_ISATAP    0x0004u  /* ISATAP interface identifier (RFC 5214) */
#define EVID_F_NAT64     0x0008u  /* NAT64 well-known prefix (RFC 6052) */
#define EVID_F_LOW32     0x0010u  /* apparent IPv4 in the low 32 bits */
#define EVID_F_PAIR      0x0020u  /* an IPv4 attempt at the sensor close in time */
#define EVID_F_ORDER     0x0040u  /* families in the RFC 6724 order */
#define EVID_F_PORTSEQ   0x0080u  /* source ports in sequence across families */
#define EVID_F_OS        0x0100u  /* same OS fingerprint class */
#define EVID_F_ASN       0x0200u  /* same origin AS */
#define EVID_F_PTR       0x0400u  /* PTR names agree */
#define EVID_F_CHAIN     0x0800u  /* a production rejection just before the sensor attempt */
#define EVID_F_AGGREGATE 0x1000u  /* listed as an aggregate of offender /64s */

/* The features that name the IPv4 in the address itself; any other tie is made by timing. */
#define EVID_F_EMBEDDED (EVID_F_6TO4 | EVID_F_TEREDO | EVID_F_ISATAP | EVID_F_NAT64 | EVID_F_LOW32)

enum evid_os { EVID_OS_UNKNOWN = 0, EVID_OS_WINDOWS, EVID_OS_LINUX, EVID_OS_MAC, EVID_OS_BSD,
               EVID_OS_OTHER };

#define EVID_MAX_V4 8

typedef struct evid {
	uint64_t first_us, last_us;  /* first and last evidence, input time */
	uint32_t attempts;           /* connect() attempts at the sensor */
	uint32_t syns;
	uint32_t hosts;              /* distinct offender addresses (aggregates: offender /64s) */
	uint32_t rejects;            /* production DNSBL rejections of the tied IPv4s */
	uint32_t score;              /* best association score */
	uint16_t features;           /* EVID_F_* */
	uint8_t os;                  /* enum evid_os */
	uint8_t n_v4;
	uint8_t v4[EVID_MAX_V4][4];  /* tied IPv4 addresses */
} evid;

/* Encodes e (versioned, little-endian) into buf; returns the length or V6R_ESPACE. */
int evid_encode(const evid *e, uint8_t *buf, size_t cap);

/* Decodes; V6R_ECORRUPT for a record that is not one. */
int evid_decode(const uint8_t *buf, size_t len, evid *e);

/* Adds the counts of `from` to `into`, widens the time span, unions features and IPv4s. */
void evid_merge(evid *into, const evid *from);

/* Adds one IPv4 (network order) if not present and there is room. */
void evid_add_v4(evid *e, const uint8_t v4[4]);

/* One line of text: "first=... last=... attempts=N syns=N hosts=N rejects=N score=N os=linux
 * ipv4=a,b features=6to4,pair". Returns the length or V6R_ESPACE. */
int evid_format(const evid *e, char *buf, size_t cap);

const char *evid_os_name(unsigned os);

/* Writes the feature names joined by commas; returns the length or V6R_ESPACE. */
int evid_features(unsigned features, char *buf, size_t cap);

#endif
