/* wire.h: reading and writing DNS wire format: big-endian fields and name skipping, for server/. */
#ifndef V6R_WIRE_H
#define V6R_WIRE_H

#include <stddef.h>
#include <stdint.h>

static inline unsigned wire_rd16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

static inline uint32_t wire_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void wire_wr16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Skips the name at m[*off] (a compression pointer ends it) and moves *off past it. Returns 0, or
 * -1 when the name runs past len, uses a reserved label type or is longer than 255 bytes.
 */
int wire_skip_name(const uint8_t *m, size_t len, size_t *off);

#endif
