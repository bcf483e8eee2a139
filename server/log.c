/* log.c: v6repd's log: leveled, thread-safe lines to stderr (with a timestamp) or to syslog. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static atomic_int log_level = LOG_NOTICE;
static atomic_bool log_syslog;
static bool log_opened;

void log_init(unsigned level, bool use_syslog)
{
	if (use_syslog && !log_opened) {
		openlog("v6repd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		log_opened = true;
	}
	atomic_store(&log_syslog, use_syslog);
	log_set_level(level);
}

void log_set_level(unsigned level)
{
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	atomic_store(&log_level, (int)level);
}

bool log_enabled(int level)
{
	return level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

const char *log_level_name(int level)
{
	switch (level) {
	case LOG_WARNING: return "warning";
	case LOG_NOTICE:  return "notice";
	case LOG_INFO:    return "info";
	case LOG_DEBUG:   return "debug";
	default:          return level < LOG_WARNING ? "error" : "debug";
	}
}

/* Writes "2025-01-31T12:00:00.123Z v6repd[PID]: level: " into buf; returns the length. */
static size_t log_prefix(char *buf, size_t cap, int level)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	int k = snprintf(buf + n, cap - n, ".%03ldZ v6repd[%ld]: %s: ", ts.tv_nsec / 1000000L,
	                 (long)getpid(), log_level_name(level));
	if (k < 0)
		return n;
	n += (size_t)k;
	return n < cap ? n : cap - 1;
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	if (atomic_load(&log_syslog)) {
		vsyslog(level, fmt, ap);
		va_end(ap);
		return;
	}
	char line[LOG_LINE_MAX];
	size_t n = log_prefix(line, sizeof line - 1, level);
	int k = vsnprintf(line + n, sizeof line - 1 - n, fmt, ap);
	va_end(ap);
	if (k > 0)
		n += (size_t)k < sizeof line - 1 - n ? (size_t)k : sizeof line - 2 - n;
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole; a short write is dropped. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void log_close(void)
{
	if (log_opened) {
		closelog();
		log_opened = false;
	}
	atomic_store(&log_syslog, false);
}
