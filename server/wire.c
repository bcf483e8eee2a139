/* wire.c: DNS wire-format helpers shared by the answering core, transfers and TSIG. */
#include "wire.h"

#define WIRE_NAME_MAX 255u

int wire_skip_name(const uint8_t *m, size_t len, size_t *off)
{
	size_t o = *off, total = 0;
	for (;;) {
		if (o >= len)
			return -1;
		uint8_t l = m[o];
		if ((l & 0xC0u) == 0xC0u) {
			if (len - o < 2u)
				return -1;
			*off = o + 2u;
			return 0;
		}
		if (l & 0xC0u)
			return -1;
		o += 1u + l;
		total += 1u + l;
		if (total > WIRE_NAME_MAX)
			return -1;
		if (l == 0) {
			*off = o;
			return 0;
		}
	}
}
