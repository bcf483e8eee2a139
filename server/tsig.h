/* tsig.h: TSIG (RFC 8945) for transfers, NOTIFY and signed queries, with libcrypto's HMAC. */
#ifndef V6R_TSIG_H
#define V6R_TSIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TSIG_MAC_MAX 64u
#define TSIG_FUDGE 300u
#define TSIG_ROOM 400u        /* bytes a TSIG record may add to a message (name, alg, MAC) */

/* TSIG error codes (RFC 8945 3), carried in the TSIG record of a NOTAUTH answer. */
enum { TSIG_OK = 0, TSIG_BADSIG = 16, TSIG_BADKEY = 17, TSIG_BADTIME = 18 };

/* One key, as the settings give it (cfg.h tsig_*): presentation name, algorithm name
 * ("hmac-sha256."), base64 secret. An empty name means no key. */
typedef struct tsig_key {
	char name[256];
	char alg[32];
	char secret[256];
} tsig_key;

/* What the check of a request found; mac chains the signatures of the answer. */
typedef struct tsig_req {
	bool present;               /* the request carried a TSIG record */
	int error;                  /* TSIG_OK, TSIG_BADSIG, TSIG_BADKEY or TSIG_BADTIME */
	char keyname[256];          /* key named in the request (for logs) */
	uint8_t mac[TSIG_MAC_MAX];  /* the request's MAC */
	size_t mac_len;
	size_t tsig_off;            /* where the TSIG record starts in the request */
} tsig_req;

/* Bytes the TSIG record of key k adds to a message, at most. */
size_t tsig_size(const tsig_key *k);

/*
 * Finds a TSIG record as the last record of msg (RFC 8945 5.1: it must be last). Returns 1 and
 * its offset, 0 when there is none, -1 when the message is malformed. No allocation.
 */
int tsig_locate(const uint8_t *msg, size_t len, size_t *off);

/*
 * Checks the TSIG of request msg against key k at time now (unix seconds): the key name and
 * algorithm must be k's (else BADKEY), the MAC must verify (BADSIG) and the time be within the
 * request's fudge (BADTIME). Fills *req (present = false when there is no TSIG). Returns 0, or
 * V6R_ESYNTAX when the TSIG record is malformed. (ldns_pkt_tsig_verify is not used: the
 * Debian build cannot check hmac-sha384, and the MAC code is shared with signing.)
 */
int tsig_check(const tsig_key *k, const uint8_t *msg, size_t len, uint64_t now, tsig_req *req);

/*
 * Signs message msg[0..len) with k into out[0..cap) (msg and out may be the same buffer). prior
 * is the MAC that the signature covers first: the request's for the first message of an answer,
 * the previous message's afterwards (timers_only then: RFC 8945 5.3.1); prior_len 0 for none
 * (a NOTIFY). On success returns the signed length and replaces prior with this message's MAC;
 * returns 0 when signing failed or the result does not fit.
 */
size_t tsig_sign(const tsig_key *k, const uint8_t *msg, size_t len, uint8_t *out, size_t cap,
                 uint8_t prior[TSIG_MAC_MAX], size_t *prior_len, bool timers_only);

/*
 * Appends to an (unsigned) error answer the TSIG record RFC 8945 5.2 asks for: key and
 * algorithm of the request, no MAC, the request's id and error code `error`. Returns the new
 * length, or len when it does not fit.
 */
size_t tsig_append_error(const uint8_t *req, size_t req_len, size_t tsig_off, uint8_t *msg,
                         size_t len, size_t cap, int error, uint64_t now);

#endif
