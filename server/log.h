/* log.h: v6repd's log: leveled, thread-safe lines to stderr (with a timestamp) or to syslog. */
#ifndef V6R_LOG_H
#define V6R_LOG_H

#include <stdbool.h>
#include <syslog.h>

/*
 * Levels are the syslog.h values: LOG_ERR (3), LOG_WARNING (4), LOG_NOTICE (5), LOG_INFO (6),
 * LOG_DEBUG (7). A message is written when its level is at or below the current level.
 */

/*
 * Sets the level and the destination. With use_syslog the lines go to syslog (openlog
 * "v6repd", LOG_PID, LOG_DAEMON); otherwise to stderr as
 * "2025-01-31T12:00:00.123Z v6repd[PID]: notice: text". May be called again (SIGHUP).
 */
void log_init(unsigned level, bool use_syslog);

/* Changes the level only; safe to call while other threads log. */
void log_set_level(unsigned level);

/* True when a message of this level would be written (to skip formatting work on hot paths). */
bool log_enabled(int level);

/*
 * Writes one line: printf-style, no trailing newline needed. Each line is written with a single
 * write(2) (or one syslog call), so lines from different threads never interleave. Lines longer
 * than about 2 KiB are cut.
 */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "error", "warning", "notice", "info", "debug" (lower levels map to "error"). */
const char *log_level_name(int level);

/* Closes syslog when it was opened. */
void log_close(void);

#endif
