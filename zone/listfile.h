/* listfile.h: the listings text format read by `v6rep import` (and ingest's allowlists). */
#ifndef V6R_LISTFILE_H
#define V6R_LISTFILE_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

/*
 * One entry per line:
 *     PREFIX[/LEN] [CODE] [TXT...]      a listing
 *     !PREFIX[/LEN] [TXT...]            an exclusion (no code)
 * '#' at the start of a line (after blanks) or after blanks following a field starts a comment.
 * LEN defaults to /128 (IPv6) or /32 (IPv4); bits set beyond LEN are an error. CODE is a dotted
 * quad inside 127.0.0.0/8 (default: the caller's default code). TXT is the rest of the line with
 * surrounding blanks removed; it must be written in double quotes (with \" and \\ escapes) when it
 * starts with '#' or '"' or would read as a code. Lines may end in CRLF. A line longer than
 * LF_LINE_MAX is an error.
 *
 * The details, which lf_format_line follows so that every entry it writes reads back as itself:
 *  - Blanks are spaces and tabs. Outside quotes, a '#' that follows a blank starts a comment
 *    anywhere, also inside unquoted TXT ("spam #42" is the reason "spam"; "spam#42" is itself).
 *  - The token after the prefix is a CODE when it is digits and dots with three dots; it must
 *    then be a dotted quad without leading zeros inside 127.0.0.0/8. An exclusion takes no code:
 *    such a token there is an error. Other text ("1.2.3 x", "127.0.0.2.5") is TXT.
 *  - Quoted TXT knows only the escapes \" and \\; after the closing quote only blanks and a
 *    comment may follow. Outside quotes, '"' (past the first byte) and '\' are ordinary bytes.
 *  - TXT is at most STORE_REASON_MAX bytes after unquoting. NUL, LF and a CR other than the
 *    final one are errors anywhere in a line, so a reason holding one cannot be written.
 */
#define LF_LINE_MAX 4096

typedef struct lf_entry {
	store_entry e;                        /* e.reason points into reason_buf */
	char reason_buf[STORE_REASON_MAX];
} lf_entry;

/*
 * Parses one line (line[0..len), without the newline). Returns 1 when it holds an entry (kind,
 * prefix, code, reason filled; origin operator; times 0), 0 for a blank or comment line, or a
 * negative error with a message in err naming the column and quoting the offending text
 * ("column 17: code 10.0.0.2 is not in 127.0.0.0/8"): V6R_ESYNTAX, V6R_ERANGE (length, reason
 * or line too long), V6R_EHOSTBITS or V6R_ECODE. default_code NULL means 127.0.0.2; a default
 * outside 127/8 is V6R_ECODE when a listing without a code needs it.
 */
int lf_parse_line(const char *line, size_t len, const uint8_t default_code[4], lf_entry *out,
                  char *err, size_t errlen);

/*
 * Writes e as one line of this format (with a trailing newline and a NUL) into buf; a listing
 * always gets its code, the reason is quoted when needed. Returns the length (without the NUL)
 * or V6R_ESPACE; an entry that could not read back as itself is refused with V6R_EINVAL (bad
 * kind or length, NUL/CR/LF in the reason), V6R_EHOSTBITS, V6R_ECODE or V6R_ERANGE (reason
 * longer than STORE_REASON_MAX). LF_LINE_MAX bytes always suffice.
 */
int lf_format_line(const store_entry *e, char *buf, size_t cap);

#endif
