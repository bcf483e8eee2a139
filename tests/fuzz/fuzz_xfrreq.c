/* fuzz_xfrreq.c: fuzz target for transfer requests: the classification, the request parser
 * (question, IXFR SOA, EDNS size), TSIG location and checking, and the error answers. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../server/tsig.h"
#include "../../server/xfr.h"
#include "../../server/xfrmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const tsig_key fz_key = { "xfrkey.", "hmac-sha256.",
                                 "AqW+/oESrKRn0wce1G7XqzYCJp/lk4C1eCAZnkw0sTA=" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65535 + TSIG_ROOM];
	uint8_t *q = malloc(size ? size : 1);     /* exact size: ASan sees any over-read */
	xm_req r;
	tsig_req t;
	size_t off;
	if (!q)
		return 0;
	memcpy(q, data, size);
	(void)xfr_wants(q, size);
	(void)tsig_locate(q, size, &off);
	if (tsig_check(&fz_key, q, size, 1700000000u, &t) == 0 && t.present)
		(void)tsig_append_error(q, size, t.tsig_off, out, 12, sizeof(out), TSIG_BADSIG, 1);
	if (xm_parse(q, size, &r) == 0) {
		size_t n = xm_error(&r, XM_RC_REFUSED, out, sizeof(out));
		uint8_t mac[TSIG_MAC_MAX];
		size_t mac_len = 0;
		(void)tsig_sign(&fz_key, out, n, out, sizeof(out), mac, &mac_len, false);
		(void)xm_qname_is(&r, (const uint8_t *)"\4v6bl\4test", 11);
	}
	free(q);
	return 0;
}
