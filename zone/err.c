/* err.c: text for v6rep's error codes. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>

const char *v6r_strerror(int err)
{
	switch (err) {
	case V6R_OK:        return "success";
	case V6R_ENOMEM:    return "out of memory";
	case V6R_EINVAL:    return "invalid argument";
	case V6R_ESYNTAX:   return "syntax error";
	case V6R_ERANGE:    return "value out of range";
	case V6R_EHOSTBITS: return "host bits set beyond the prefix length";
	case V6R_ENOTFOUND: return "not found";
	case V6R_EEXIST:    return "already exists";
	case V6R_ESTORE:    return "store failure";
	case V6R_EMAPFULL:  return "store map is full";
	case V6R_ECORRUPT:  return "stored data is corrupt";
	case V6R_EIO:       return "input/output error";
	case V6R_ESPACE:    return "buffer too small";
	case V6R_EVERSION:  return "incompatible store version";
	case V6R_EDUP:      return "duplicate prefix";
	case V6R_ECODE:     return "return code not in 127.0.0.0/8";
	case V6R_ELOCKED:   return "resource busy";
	default:            return "unknown error";
	}
}

int v6r_errf(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (err && errlen)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}
