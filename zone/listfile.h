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
 * ("column 17: code 10.0.0.2 is not in 127.0.0.0/8").
 */
int lf_parse_line(const char *line, size_t len, const uint8_t default_code[4], lf_entry *out,
                  char *err, size_t errlen);

/*
 * Writes e as one line of this format (with a trailing newline) into buf; the reason is quoted
 * when needed. Returns the length or V6R_ESPACE. LF_LINE_MAX bytes always suffice.
 */
int lf_format_line(const store_entry *e, char *buf, size_t cap);

#endif
