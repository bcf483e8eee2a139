/* err.h: v6rep's error codes, shared by every module; foreign codes are converted at the boundary. */
#ifndef V6R_ERR_H
#define V6R_ERR_H

/* Fallible functions return 0 on success or one of these negative codes. */
enum v6r_err {
	V6R_OK        =   0,
	V6R_ENOMEM    =  -1, /* out of memory */
	V6R_EINVAL    =  -2, /* invalid argument */
	V6R_ESYNTAX   =  -3, /* text does not parse */
	V6R_ERANGE    =  -4, /* value out of range */
	V6R_EHOSTBITS =  -5, /* prefix has bits set beyond its length */
	V6R_ENOTFOUND =  -6, /* no such entry */
	V6R_EEXIST    =  -7, /* entry already present */
	V6R_ESTORE    =  -8, /* LMDB failure (see store_lasterr) */
	V6R_EMAPFULL  =  -9, /* LMDB map is full and may not grow further */
	V6R_ECORRUPT  = -10, /* stored data fails validation */
	V6R_EIO       = -11, /* I/O failure (errno kept by the caller) */
	V6R_ESPACE    = -12, /* output buffer too small */
	V6R_EVERSION  = -13, /* store written by an incompatible version */
	V6R_EDUP      = -14, /* the same prefix appears twice in one input */
	V6R_ECODE     = -15, /* return code not in 127.0.0.0/8 */
	V6R_ELOCKED   = -16, /* resource busy */
};

/* Returns a static English description of a v6rep error code. */
const char *v6r_strerror(int err);

#include <stddef.h>

/* Writes the formatted message into err (when err and errlen) and returns rc: the one way the
 * modules that take an error buffer fill it. */
int v6r_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
