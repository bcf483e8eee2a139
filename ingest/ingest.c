/* ingest.c: sources merged by time, the association pipeline, cursors and batched commits. */
#include "ingest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../zone/err.h"
#include "../zone/evid.h"
#include "../zone/listfile.h"
#include "assoc.h"
#include "attempt.h"
#include "mlog.h"
#include "p0f.h"
#include "pcap.h"

#define SEC 1000000ull
#define CK_N 128                 /* capture checkpoints kept per file */
#define CK_EVERY_US (5 * SEC)    /* a checkpoint at least this often (input time) */
#define ONESHOT_BATCH 2000000u   /* events between commits in one-shot mode */

enum { SRC_CAP = 1, SRC_LOG = 2, SRC_LIVE = 3 };

/* A cursor as stored (aux "cursor", key = path): where to continue reading a file. */
typedef struct cursor_rec {
	uint64_t dev, ino, size, off, lineno, done;
	uint64_t head;    /* hash of the file's first HEAD_BYTES bytes: a truncated, rewritten file differs */
} cursor_rec;

#define HEAD_BYTES 256

typedef struct ckpt { uint64_t t, off; } ckpt;

typedef struct src_file {
	char path[PATH_MAX];
	cursor_rec cur;              /* resume point: captures at a checkpoint, logs exact */
	uint64_t last_t;             /* newest event time read from it */
	ckpt ck[CK_N];
	unsigned ck_n, ck_head;
	uint64_t ck_last_t;
	int held_fd;                 /* logs in --follow: the file we are reading (survives rename) */
} src_file;

typedef struct src {
	int type;
	const char *path;            /* as given */
	bool is_dir;
	src_file *files;
	size_t n_files, cap_files, cur;
	cap_reader *cap;
	mlog_file *ml;
	mlog_parser mp;
	bool open;                   /* files[cur] is open */
	bool has;                    /* an event is buffered */
	uint64_t t;
	uint64_t seen_t, seen_wall;  /* input and wall time of the last event taken (--follow) */
	uint64_t open_lineno;        /* number of the first line of the open log file */
	char open_path[PATH_MAX];    /* the path it was opened by (/proc/self/fd/N in --follow) */
	ev_syn syn;
	ev_reject rej;
} src;

typedef struct ingpipe {
	const cfg *c;
	const ing_opts *o;
	store *st;
	ing_log_fn log;
	ing_stats *stats;
	src *srcs;
	size_t n_srcs;
	att_tracker att;
	as_ctx as;
	ag_ctx ag;
	p0f_db *fp;
	p0f_cache *fpc;          /* match results by probe */
	htab p0f_os;                 /* (addr 16, port 2) -> os, from a p0f log */
	uint64_t watermark;
	uint64_t events_since_commit;
	uint64_t rejects_uncommitted;   /* rejection lines read since the last commit */
} ingpipe;

/* ---- OS of a SYN: a p0f log entry for it, else the built-in matcher ---- */

static uint8_t evid_os_of_p0f(int os)
{
	switch (os) {
	case P0F_OS_WINDOWS: return EVID_OS_WINDOWS;
	case P0F_OS_LINUX: return EVID_OS_LINUX;
	case P0F_OS_MAC: return EVID_OS_MAC;
	case P0F_OS_BSD: return EVID_OS_BSD;
	case P0F_OS_UNKNOWN: return EVID_OS_UNKNOWN;
	default: return EVID_OS_OTHER;
	}
}

static uint8_t os_of(const ev_syn *s, void *arg)
{
	ingpipe *p = arg;
	if (p->p0f_os.n) {
		uint8_t key[18];
		memcpy(key, s->src, 16);
		key[16] = (uint8_t)(s->sport >> 8);
		key[17] = (uint8_t)s->sport;
		const uint8_t *os = ht_get(&p->p0f_os, key);
		if (os)
			return *os;
	}
	p0f_result r;
	if (p->fp && p->fpc && p0f_match_cached(p->fp, p->fpc, s, &r) == 0)
		return evid_os_of_p0f(r.os);
	return EVID_OS_UNKNOWN;
}

static int load_p0f_log(ingpipe *p, const char *path)
{
	mlog_file *f;
	mlog_line line;
	p0f_log_entry e;
	int rc = mlog_file_open(&f, path);
	if (rc) {
		p->log(LOG_ERR, "failed to open p0f log %s (%s)", path, strerror(errno));
		return 0;
	}
	p0f_tz tz;
	p0f_tz_local(&tz);
	while ((rc = mlog_file_next(f, MLOG_ALL, &line)) == 1) {
		if (!line.text)
			continue;
		char err[256];
		int r = p0f_log_parse_line(line.text, line.len, &tz, &e, err, sizeof(err));
		if (r < 0) {
			p->stats->bad_lines++;
			p->log(LOG_WARNING, "%s:%llu: skipped p0f line (%s)", path,
			       (unsigned long long)line.lineno, err);
			continue;
		}
		if (r == 0 || e.mod != P0F_MOD_SYN || !e.subj_cli || !e.known)
			continue;
		uint8_t key[18];
		bool created;
		memcpy(key, e.cli, 16);
		key[16] = (uint8_t)(e.cli_port >> 8);
		key[17] = (uint8_t)e.cli_port;
		uint8_t *os = ht_put(&p->p0f_os, key, &created);
		if (os)
			*os = evid_os_of_p0f(e.os);
	}
	mlog_file_close(f);
	return 0;
}

/* ---- Cursors ---- */

static void cursor_load(ingpipe *p, store_txn *t, src_file *f)
{
	const void *v;
	size_t n;
	memset(&f->cur, 0, sizeof(f->cur));
	if (store_aux_get(t, "cursor", f->path, strlen(f->path), &v, &n) == 0 && n == sizeof(cursor_rec))
		memcpy(&f->cur, v, n);
}

typedef struct load_arg { ingpipe *p; } load_arg;

static int load_cursors_fn(store_txn *t, void *arg)
{
	ingpipe *p = arg;
	for (size_t i = 0; i < p->n_srcs; i++)
		for (size_t j = 0; j < p->srcs[i].n_files; j++)
			cursor_load(p, t, &p->srcs[i].files[j]);
	return 0;
}

static int load_rej_fn(const uint8_t *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	ingpipe *p = arg;
	if (klen != 4 || vlen != sizeof(as_rej_rec))
		return 0;
	as_rej_rec r;
	memcpy(&r, val, sizeof(r));
	return as_rej_load(&p->as, key, &r);
}

static int load_nat_fn(const uint8_t *key, size_t klen, const void *val, size_t vlen, void *arg)
{
	ingpipe *p = arg;
	return klen == 4 ? as_nat_load(&p->as, key, val, vlen) : 0;
}

static int load_state_fn(store_txn *t, void *arg)
{
	ingpipe *p = arg;
	int rc = load_cursors_fn(t, arg);
	if (rc == 0)
		rc = store_aux_foreach(t, "rej", load_rej_fn, p);
	if (rc == 0)
		rc = store_aux_foreach(t, "nat", load_nat_fn, p);
	return rc;
}

/* ---- Files of a source ---- */

static int add_file(src *s, const char *path)
{
	if (s->n_files == s->cap_files) {
		size_t cap = s->cap_files ? s->cap_files * 2 : 8;
		src_file *f = realloc(s->files, cap * sizeof(*f));
		if (!f)
			return V6R_ENOMEM;
		s->files = f;
		s->cap_files = cap;
	}
	src_file *f = &s->files[s->n_files++];
	memset(f, 0, sizeof(*f));
	f->held_fd = -1;
	snprintf(f->path, sizeof(f->path), "%s", path);
	return 0;
}

static bool have_file(const src *s, const char *path)
{
	for (size_t i = 0; i < s->n_files; i++)
		if (strcmp(s->files[i].path, path) == 0)
			return true;
	return false;
}

/* Adds the files of a capture folder not known yet (name order is rotation order). */
static int scan_dir(ingpipe *p, src *s)
{
	cap_list l;
	char err[512];
	int rc = cap_list_dir(s->path, &l, err, sizeof(err));
	if (rc) {
		p->log(LOG_ERR, "%s", err);
		return 0;
	}
	for (size_t i = 0; i < l.n && rc == 0; i++)
		if (!have_file(s, l.paths[i]))
			rc = add_file(s, l.paths[i]);
	cap_list_free(&l);
	return rc;
}

static bool same_file(const struct stat *sb, const cursor_rec *c)
{
	return c->ino && (uint64_t)sb->st_dev == c->dev && (uint64_t)sb->st_ino == c->ino;
}

/* ---- Reading: one event into s->syn / s->rej ---- */

static void file_checkpoint(src_file *f, uint64_t t, uint64_t off)
{
	if (f->ck_n && t < f->ck_last_t + CK_EVERY_US)
		return;
	f->ck[(f->ck_head + f->ck_n) % CK_N] = (ckpt){ t, off };
	if (f->ck_n < CK_N)
		f->ck_n++;
	else
		f->ck_head = (f->ck_head + 1) % CK_N;
	f->ck_last_t = t;
}

static int open_cap_file(ingpipe *p, src *s, src_file *f)
{
	struct stat sb;
	if (stat(f->path, &sb) != 0) {
		p->log(LOG_ERR, "failed to open capture %s (%s)", f->path, strerror(errno));
		f->cur.done = 1;
		return 0;
	}
	if (same_file(&sb, &f->cur) && f->cur.done && (uint64_t)sb.st_size == f->cur.size)
		return 0;  /* read before, unchanged */
	if (!same_file(&sb, &f->cur)) {
		memset(&f->cur, 0, sizeof(f->cur));
		f->ck_n = f->ck_head = 0;
	}
	f->cur.dev = (uint64_t)sb.st_dev;
	f->cur.ino = (uint64_t)sb.st_ino;
	f->cur.size = (uint64_t)sb.st_size;
	f->cur.done = 0;
	if (cap_open_file_at(s->cap, f->path, f->cur.off) != 0) {
		p->log(LOG_ERR, "failed to read capture %s", cap_error(s->cap));
		p->stats->file_errors++;
		f->cur.done = 1;
		return 0;
	}
	/* The resume point is the first checkpoint; reopening a growing file keeps the ones made. */
	if (f->ck_n == 0)
		file_checkpoint(f, 0, f->cur.off);
	s->open = true;
	return 0;
}

static bool newer_file_exists(const src *s)
{
	return s->cur + 1 < s->n_files;
}

static int next_syn(ingpipe *p, src *s)
{
	for (;;) {
		if (!s->open) {
			if (s->cur >= s->n_files)
				return 0;
			open_cap_file(p, s, &s->files[s->cur]);
			if (!s->open) {
				s->cur++;
				continue;
			}
		}
		src_file *f = &s->files[s->cur];
		int rc = cap_next(s->cap, &s->syn);
		if (rc == 1) {
			f->last_t = s->syn.t_us;
			file_checkpoint(f, s->syn.t_us, s->syn.offset);
			s->syn.offset = (uint64_t)s->cur << 40 | s->syn.offset;
			s->t = s->syn.t_us;
			return 1;
		}
		bool growing = p->o->follow && rc == V6R_ECORRUPT && !newer_file_exists(s);
		if (rc < 0 && !growing) {
			p->log(LOG_ERR, "%s; the SYNs before it were used", cap_error(s->cap));
			p->stats->file_errors++;
		}
		uint64_t read_to = cap_offset(s->cap);   /* before closing: it is 0 afterwards */
		cap_close(s->cap);
		s->open = false;
		if (p->o->follow && !newer_file_exists(s)) {
			/* The newest capture may still be written: continue after its last record. */
			if (read_to > f->cur.off)
				f->cur.off = read_to;
			return 0;
		}
		f->cur.done = 1;
		s->cur++;
	}
}

/*
 * After a restart: when the log was rotated (renamed) while we were down, the cursor's file is
 * now FILE.1 (or FILE.0, FILE-old): finish it before the new FILE. Returns its descriptor or -1.
 */
static int open_rotated(const src_file *f)
{
	static const char *const suffix[] = { ".1", ".0", "-old" };
	struct stat sb;
	char path[PATH_MAX + 8];
	if (!f->cur.ino || (stat(f->path, &sb) == 0 && same_file(&sb, &f->cur)))
		return -1;
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", f->path, suffix[i]);
		if (stat(path, &sb) == 0 && same_file(&sb, &f->cur) && (uint64_t)sb.st_size > f->cur.off)
			return open(path, O_RDONLY | O_CLOEXEC);
	}
	return -1;
}

/*
 * The largest offset <= off that ends a whole line of f (just after a newline), looking back at
 * most 64 KiB; f->cur.off when none is found.
 */
static uint64_t whole_lines_end(const src_file *f, uint64_t off)
{
	char buf[65536];
	int fd = f->held_fd >= 0 ? dup(f->held_fd) : open(f->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || off == 0) {
		if (fd >= 0)
			close(fd);
		return f->cur.off;
	}
	uint64_t from = off > sizeof(buf) ? off - sizeof(buf) : 0;
	ssize_t n = pread(fd, buf, (size_t)(off - from), (off_t)from);
	close(fd);
	for (ssize_t i = n - 1; i >= 0; i--)
		if (buf[i] == '\n')
			return from + (uint64_t)i + 1;
	return f->cur.off;
}

/* FNV-1a of the first min(HEAD_BYTES, n) bytes of the file at path (0 when unreadable). */
static uint64_t head_hash(const char *path, uint64_t n)
{
	unsigned char buf[HEAD_BYTES];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t got = pread(fd, buf, n < HEAD_BYTES ? (size_t)n : HEAD_BYTES, 0);
	close(fd);
	uint64_t h = 0xcbf29ce484222325ull;
	for (ssize_t i = 0; i < got; i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

/* Opens the current log file at its cursor; in --follow through a held descriptor. */
static int open_log_file(ingpipe *p, src *s, src_file *f)
{
	struct stat sb;
	char path[64];
	const char *open_path = f->path;
	if (f->held_fd < 0 && p->o->follow)
		f->held_fd = open_rotated(f);
	if (f->held_fd < 0 && p->o->follow) {
		f->held_fd = open(f->path, O_RDONLY | O_CLOEXEC);
		if (f->held_fd < 0) {
			p->log(LOG_ERR, "failed to open log %s (%s)", f->path, strerror(errno));
			return 0;
		}
	}
	if (f->held_fd >= 0) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", f->held_fd);
		open_path = path;
	}
	if (stat(open_path, &sb) != 0) {
		p->log(LOG_ERR, "failed to open log %s (%s)", f->path, strerror(errno));
		f->cur.done = 1;
		return 0;
	}
	if (same_file(&sb, &f->cur) && (uint64_t)sb.st_size == f->cur.off && f->cur.done)
		return 0;
	/* A new file, or truncated and rewritten (copytruncate): its first bytes changed, or it is
	 * shorter than what was read. */
	if (!same_file(&sb, &f->cur) || (uint64_t)sb.st_size < f->cur.off ||
	    (f->cur.off && f->cur.head != head_hash(open_path, f->cur.off)))
		memset(&f->cur, 0, sizeof(f->cur));
	f->cur.dev = (uint64_t)sb.st_dev;
	f->cur.ino = (uint64_t)sb.st_ino;
	f->cur.size = (uint64_t)sb.st_size;
	if ((uint64_t)sb.st_size == f->cur.off && f->cur.off)
		return 0;                              /* nothing new */
	int rc = mlog_file_open_at(&s->ml, open_path, f->cur.off, f->cur.lineno + 1);
	if (rc) {
		p->log(LOG_ERR, "failed to read log %s at byte offset %llu (%s)", f->path,
		       (unsigned long long)f->cur.off, v6r_strerror(rc));
		p->stats->file_errors++;
		memset(&f->cur, 0, sizeof(f->cur));
		return 0;
	}
	mlog_parser_set_ref(&s->mp, (int64_t)sb.st_mtime);
	snprintf(s->open_path, sizeof(s->open_path), "%s", open_path);
	s->open_lineno = f->cur.lineno + 1;
	s->open = true;
	return 0;
}

static int next_reject(ingpipe *p, src *s)
{
	mlog_line line;
	for (;;) {
		if (!s->open) {
			if (s->cur >= s->n_files)
				return 0;
			src_file *f = &s->files[s->cur];
			open_log_file(p, s, f);
			if (!s->open) {
				if (p->o->follow)
					return 0;
				f->cur.done = 1;
				s->cur++;
				continue;
			}
		}
		src_file *f = &s->files[s->cur];
		int rc = mlog_file_next(s->ml, MLOG_CANDIDATES, &line);
		if (rc == 1 && line.no_newline && p->o->follow)
			rc = 0;  /* a line still being written: read it whole next time */
		if (rc == 1) {
			if (f->cur.off < HEAD_BYTES && line.next_offset >= f->cur.off)
				f->cur.head = 0;   /* recomputed below once the cursor moved */
			f->cur.off = line.next_offset;
			f->cur.lineno = line.lineno;
			if (f->cur.off <= HEAD_BYTES || !f->cur.head)
				f->cur.head = head_hash(s->open_path, f->cur.off);
			if (!line.text) {
				p->stats->bad_lines++;
				p->log(LOG_WARNING, "%s:%llu: skipped over-long line", f->path,
				       (unsigned long long)line.lineno);
				continue;
			}
			int r = mlog_parse_candidate(&s->mp, line.text, line.len, &s->rej);
			if (r < 0) {
				p->stats->bad_lines++;
				p->log(LOG_WARNING, "%s:%llu: skipped line (%s)", f->path,
				       (unsigned long long)line.lineno, mlog_parser_reason(&s->mp));
				continue;
			}
			if (r == 0)
				continue;
			s->t = s->rej.t_us;
			f->last_t = s->t;
			return 1;
		}
		if (rc < 0) {
			p->log(LOG_ERR, "failed to read log %s after line %llu (%s)", f->path,
			       (unsigned long long)f->cur.lineno, mlog_file_error(s->ml));
			p->stats->file_errors++;
		} else if (!mlog_file_compressed(s->ml)) {
			/* The end: the cursor moves past the trailing lines passed over too, but never
			 * past a last line still being written (no newline yet). */
			uint64_t consumed = mlog_file_offset(s->ml);
			uint64_t end = whole_lines_end(f, consumed);
			if (end > f->cur.off) {
				f->cur.lineno = s->open_lineno - 1 + mlog_file_lines(s->ml) - (end < consumed);
				f->cur.off = end;
				f->cur.head = head_hash(s->open_path, end);
			}
		}
		mlog_file_close(s->ml);
		s->ml = NULL;
		s->open = false;
		if (p->o->follow)
			return 0;
		f->cur.done = 1;
		s->cur++;
	}
}

static int src_fill(ingpipe *p, src *s)
{
	if (s->has)
		return 0;
	int rc = 0;
	if (s->type == SRC_CAP)
		rc = next_syn(p, s);
	else if (s->type == SRC_LOG)
		rc = next_reject(p, s);
	else if (s->type == SRC_LIVE) {
		rc = cap_next(s->cap, &s->syn);
		if (rc == 1) {
			s->syn.offset = 0;
			s->t = s->syn.t_us;
		} else if (rc < 0) {
			p->log(LOG_ERR, "%s", cap_error(s->cap));
		}
	}
	if (rc < 0)
		return rc;
	s->has = rc == 1;
	return 0;
}

/* ---- The pipeline ---- */

static void on_close(const att *a, void *arg)
{
	ingpipe *p = arg;
	if (as_attempt(&p->as, a) != 0)
		p->log(LOG_ERR, "failed to keep attempt (out of memory)");
}

static void log_verdict(ingpipe *p, const as_verdict *v)
{
	char addr[ADDR_PFX_STRLEN], feats[160];
	if (v->revoke) {
		p->log(LOG_DEBUG, "%u.%u.%u.%u is shared by several IPv6 hosts: timing ties revoked",
		       v->v4[0], v->v4[1], v->v4[2], v->v4[3]);
		return;
	}
	addr_format_addr(v->a.src, false, addr, sizeof(addr));
	evid_features(v->features, feats, sizeof(feats));
	time_t t = (time_t)(v->a.first_us / SEC);
	struct tm tm;
	char when[32];
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	p->log(LOG_DEBUG, "attempt %s port %u at %s (%u SYNs, %s): %s, score %u (%s) to %u.%u.%u.%u",
	       addr, v->a.sport, when, v->a.syns, evid_os_name(v->a.os),
	       v->offender ? "offender" : v->shared ? "shared IPv4" : v->legit ? "legitimate" : "not tied",
	       v->score, feats[0] ? feats : "-", v->v4[0], v->v4[1], v->v4[2], v->v4[3]);
}

static bool quiet_source(const uint8_t addr[16], void *arg)
{
	return ag_quiet(&((ingpipe *)arg)->ag, addr);
}

static void on_next(const att *a, void *arg)
{
	ag_prefetch(&((ingpipe *)arg)->ag, a->src);
}

static void on_verdict(const as_verdict *v, void *arg)
{
	ingpipe *p = arg;
	if (p->c->log_level >= LOG_DEBUG)
		log_verdict(p, v);
	ag_verdict(&p->ag, v);
}

static void advance(ingpipe *p, uint64_t t)
{
	if (t > p->watermark)
		p->watermark = t;
	att_expire(&p->att, p->watermark);
	as_advance(&p->as, p->watermark);
}

/*
 * Takes the buffered event of s. One-shot inputs are merged in time order, so input time is the
 * event's time. Live inputs lag each other (a log line is written after the SYNs it follows, a
 * capture file appears when tcpdump rotates): there run_follow advances time itself, to the low
 * watermark of the sources.
 */
static int take_event(ingpipe *p, src *s, uint64_t wall)
{
	int rc = 0;
	if (s->type == SRC_LOG) {
		p->rejects_uncommitted++;
		rc = as_reject(&p->as, &s->rej);
		ag_reject(&p->ag, &s->rej);
	} else {
		rc = att_add(&p->att, &s->syn);
	}
	s->has = false;
	s->seen_t = s->t;
	s->seen_wall = wall;
	p->events_since_commit++;
	if (!p->o->follow)
		advance(p, s->t);
	return rc;
}

/*
 * The input time every live source has reached: the oldest last event among sources that gave
 * one recently (a source quiet for follow-lag of wall time, e.g. a capture that tcpdump rotates
 * every few minutes, is taken as caught up), else the newest event seen. Attempts and
 * associations are decided only up to it.
 */
static uint64_t low_watermark(const ingpipe *p, uint64_t wall)
{
	uint64_t low = UINT64_MAX, high = 0;
	for (size_t i = 0; i < p->n_srcs; i++) {
		const src *s = &p->srcs[i];
		if (s->seen_t > high)
			high = s->seen_t;
		if (wall - s->seen_wall < (uint64_t)p->c->follow_lag * SEC && s->seen_t < low)
			low = s->seen_t;
	}
	return low != UINT64_MAX ? low : high;
}

/* The source holding the earliest buffered event, or NULL. */
static src *earliest(ingpipe *p)
{
	src *best = NULL;
	for (size_t i = 0; i < p->n_srcs; i++) {
		src *s = &p->srcs[i];
		if (src_fill(p, s) == 0 && s->has && (!best || s->t < best->t))
			best = s;
	}
	return best;
}

/* ---- Commit ---- */

/* Oldest input time still needed by state in memory (UINT64_MAX when none). */
static uint64_t pending_since(const ingpipe *p)
{
	uint64_t min = att_min_time(&p->att);
	const as_ctx *c = &p->as;
	uint64_t as_min = as_min_time(c);
	if (as_min < min)
		min = as_min;
	if (min == UINT64_MAX)
		return min;
	return min > c->cfg.pair_us ? min - c->cfg.pair_us : 0;
}

/* A capture file's cursor: done when nothing pending can need it, else its last safe checkpoint. */
static cursor_rec cap_cursor(const src_file *f, uint64_t since, bool reading)
{
	cursor_rec c = f->cur;
	if (!reading && f->cur.done && (since == UINT64_MAX || f->last_t < since))
		return c;
	c.done = 0;
	c.off = 0;
	/* Re-reading from an earlier record is harmless (replayed attempts are not counted twice),
	 * skipping one that pending state needs is not: take the last checkpoint before it. */
	for (unsigned i = 0; i < f->ck_n; i++) {
		const ckpt *k = &f->ck[(f->ck_head + i) % CK_N];
		if (k->t <= since)
			c.off = k->off;
	}
	return c;
}

static int put_cursor(store_txn *t, const char *path, const cursor_rec *c)
{
	return store_aux_put(t, "cursor", path, strlen(path), c, sizeof(*c));
}

static int rej_store_fn(const uint8_t v4[4], const as_rej_rec *rec, void *arg)
{
	return store_aux_put(arg, "rej", v4, 4, rec, rec ? sizeof(*rec) : 0);   /* NULL: forgotten */
}

static int nat_store_fn(const uint8_t v4[4], const void *rec, size_t len, void *arg)
{
	return store_aux_put(arg, "nat", v4, 4, rec, len);
}

/*
 * Adds n to the running total `name` (aux "count"): the rejection lines read, over all runs. It
 * commits with the log read positions, so it shows that no line was counted twice or lost across
 * restarts (capture records may be read again after a restart, harmlessly: attempts already
 * committed are not counted twice, so no such total is kept for SYNs). Reads the stored value
 * each time: store_write may run the batch again.
 */
static int add_count(store_txn *t, const char *name, uint64_t n)
{
	const void *v;
	size_t len;
	uint8_t le[8] = { 0 };
	uint64_t total = 0;
	int rc = store_aux_get(t, "count", name, strlen(name), &v, &len);
	if (rc == 0 && len == 8)
		memcpy(le, v, 8);
	else if (rc != 0 && rc != V6R_ENOTFOUND)
		return rc;
	for (int i = 7; i >= 0; i--)
		total = total << 8 | le[i];
	total += n;
	for (int i = 0; i < 8; i++)
		le[i] = (uint8_t)(total >> (8 * i));
	return n ? store_aux_put(t, "count", name, strlen(name), le, 8) : 0;
}

static int commit_fn(store_txn *t, void *arg)
{
	ingpipe *p = arg;
	int rc = ag_write(&p->ag, t);
	if (rc == 0)
		rc = add_count(t, "rejections", p->rejects_uncommitted);
	if (rc == 0)
		rc = as_rej_dirty(&p->as, rej_store_fn, t);
	if (rc == 0)
		rc = as_nat_dirty(&p->as, nat_store_fn, t);
	uint64_t since = pending_since(p);
	for (size_t i = 0; i < p->n_srcs && rc == 0; i++) {
		src *s = &p->srcs[i];
		for (size_t j = 0; j < s->n_files && rc == 0; j++) {
			src_file *f = &s->files[j];
			if (!f->cur.ino)
				continue;
			cursor_rec c = s->type == SRC_CAP ? cap_cursor(f, since, s->open && j == s->cur) : f->cur;
			rc = put_cursor(t, f->path, &c);
		}
	}
	return rc;
}

static int commit(ingpipe *p)
{
	p->ag.now = (uint64_t)time(NULL);
	p->ag.input_us = p->watermark;
	int rc = store_write(p->st, commit_fn, p);
	if (rc) {
		p->log(LOG_ERR, "failed to commit batch (%s: %s)", v6r_strerror(rc), store_lasterr(p->st));
		return rc;
	}
	ing_stats *s = p->stats;
	s->commits++;
	s->listed += p->ag.listed;
	s->renewed += p->ag.renewed;
	s->aggregates += p->ag.aggregates;
	s->skipped_excluded += p->ag.skipped_excluded;
	s->skipped_operator += p->ag.skipped_operator;
	s->skipped_misbehaving += p->ag.skipped_misbehaving;
	s->skipped_stale += p->ag.skipped_stale;
	s->v4_listed += p->ag.v4_listed;
	s->withdrawn += p->ag.withdrawn;
	s->skipped_clean += p->ag.skipped_clean;
	s->held = p->ag.held;
	if (p->ag.listed || p->ag.renewed || p->ag.aggregates || p->ag.withdrawn)
		p->log(LOG_INFO, "committed: %llu listed, %llu renewed, %llu aggregates, %llu withdrawn",
		       (unsigned long long)p->ag.listed, (unsigned long long)p->ag.renewed,
		       (unsigned long long)p->ag.aggregates, (unsigned long long)p->ag.withdrawn);
	ag_committed(&p->ag);
	as_rej_clean(&p->as);
	p->events_since_commit = 0;
	p->rejects_uncommitted = 0;
	return 0;
}

/* ---- Set-up ---- */

static int load_allowlist(ingpipe *p, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		p->log(LOG_ERR, "failed to open allowlist %s (%s)", path, strerror(errno));
		return V6R_EIO;
	}
	char line[LF_LINE_MAX + 2], err[256];
	unsigned lineno = 0;
	lf_entry e;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t n = strcspn(line, "\r\n");
		int r = lf_parse_line(line, n, NULL, &e, err, sizeof(err));
		if (r < 0)
			p->log(LOG_WARNING, "%s:%u: skipped allowlist line (%s)", path, lineno, err);
		else if (r == 1)
			rc = ag_allow(&p->ag, &e.e.pfx, 1);
	}
	fclose(f);
	return rc;
}

static void config_of(const cfg *c, as_cfg *a, ag_cfg *g)
{
	as_cfg_defaults(a);
	a->pair_us = c->pair_window * SEC;
	a->chain_us = c->chain_window * SEC;
	a->reject_us = (uint64_t)c->reject_window * SEC;
	a->min_score = c->min_score;
	a->port_gap = c->port_gap;
	a->nat_max = c->nat_max;
	ag_cfg_defaults(g);
	g->expire_s = c->expire_after;
	g->agg48_min = c->aggregate_min;
	g->flood_min = c->flood_min;
	g->portreuse_min = c->port_reuse_min;
	g->confirm_min = c->confirm_attempts;
	g->hold_us = (uint64_t)c->reject_window * SEC;
	memcpy(g->code, c->sensor_code, 4);
	memcpy(g->code48, c->aggregate_code, 4);
	memcpy(g->code_v4, c->ipv4_code, 4);
	g->publish_v4 = c->publish_ipv4;
}

static int setup_reader(ingpipe *p, src *s)
{
	const cfg *c = p->c;
	addr_pfx d[CFG_MAX_SENSOR];
	int rc = cap_new(&s->cap);
	if (rc)
		return rc;
	cap_set_port(s->cap, (uint16_t)c->sensor_port);
	for (unsigned i = 0; i < c->n_sensor_addr; i++)
		if (addr_parse(c->sensor_addr[i], strlen(c->sensor_addr[i]), ADDR_NO_LEN, &d[i]) != 0)
			return V6R_EINVAL;
	return c->n_sensor_addr ? cap_set_dsts(s->cap, d, c->n_sensor_addr) : 0;
}

static int add_sources(ingpipe *p)
{
	const ing_opts *o = p->o;
	size_t n = o->n_sensors + o->n_rejects + (o->interface ? 1 : 0);
	p->srcs = calloc(n ? n : 1, sizeof(src));
	if (!p->srcs)
		return V6R_ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < o->n_sensors && rc == 0; i++) {
		src *s = &p->srcs[p->n_srcs++];
		struct stat sb;
		s->type = SRC_CAP;
		s->path = o->sensors[i];
		s->is_dir = stat(s->path, &sb) == 0 && S_ISDIR(sb.st_mode);
		rc = setup_reader(p, s);
		if (rc == 0)
			rc = s->is_dir ? scan_dir(p, s) : add_file(s, s->path);
	}
	for (size_t i = 0; i < o->n_rejects && rc == 0; i++) {
		src *s = &p->srcs[p->n_srcs++];
		s->type = SRC_LOG;
		s->path = o->rejects[i];
		mlog_parser_init(&s->mp, (int64_t)time(NULL));
		if (p->c->log_timezone[0] && mlog_parser_set_tz(&s->mp, p->c->log_timezone) != 0) {
			p->log(LOG_ERR, "bad log-timezone '%s'", p->c->log_timezone);
			return V6R_EINVAL;
		}
		rc = add_file(s, s->path);
	}
	if (rc == 0 && o->interface) {
		src *s = &p->srcs[p->n_srcs++];
		s->type = SRC_LIVE;
		s->path = o->interface;
		rc = setup_reader(p, s);
		if (rc == 0 && cap_open_live(s->cap, o->interface, o->bpf) != 0) {
			p->log(LOG_ERR, "failed to capture on %s (%s)", o->interface, cap_error(s->cap));
			rc = V6R_EIO;
		}
	}
	return rc;
}

static int setup(ingpipe *p)
{
	as_cfg ac;
	ag_cfg gc;
	config_of(p->c, &ac, &gc);
	uint64_t win = p->c->attempt_window * SEC;
	int rc = att_init(&p->att, win, on_close, os_of, p);
	if (rc == 0)
		rc = as_init(&p->as, &ac, win, on_verdict, p);
	p->as.on_next = on_next;
	p->as.quiet = quiet_source;
	p->as.en = p->o->enrich;
	if (rc == 0)
		rc = ag_init(&p->ag, &gc, p->st, p->o->report);
	if (rc == 0)
		rc = ht_init(&p->p0f_os, 18, 1, 16);
	if (rc)
		return rc;
	if (p->c->allowlist[0] && (rc = load_allowlist(p, p->c->allowlist)) != 0)
		return rc;
	if (p->c->p0f_fp[0]) {
		char err[512];
		if (p0f_db_load(p->c->p0f_fp, &p->fp, err, sizeof(err)) != 0)
			p->log(LOG_WARNING, "no built-in OS fingerprints (%s)", err);
		else if (!(p->fpc = calloc(1, sizeof(*p->fpc))))
			return V6R_ENOMEM;
	}
	if (p->o->p0f_log && (rc = load_p0f_log(p, p->o->p0f_log)) != 0)
		return rc;
	if ((rc = add_sources(p)) != 0)
		return rc;
	rc = store_write(p->st, load_state_fn, p);
	as_rej_loaded(&p->as);
	return rc;
}

static void teardown(ingpipe *p)
{
	for (size_t i = 0; i < p->n_srcs; i++) {
		src *s = &p->srcs[i];
		if (s->cap)
			cap_free(s->cap);
		mlog_file_close(s->ml);
		for (size_t j = 0; j < s->n_files; j++)
			if (s->files[j].held_fd >= 0)
				close(s->files[j].held_fd);
		free(s->files);
	}
	free(p->srcs);
	att_free(&p->att);
	as_free(&p->as);
	ag_free(&p->ag);
	ht_free(&p->p0f_os);
	if (p->fp)
		p0f_db_free(p->fp);
	free(p->fpc);
}

/* ---- Follow mode: rotation and new files ---- */

/* A log renamed away (rotation): read the old file to its end, then start on the new one. */
static void follow_rotation(ingpipe *p, src *s)
{
	src_file *f = &s->files[s->cur];
	struct stat now, held;
	if (s->open || f->held_fd < 0 || stat(f->path, &now) != 0 || fstat(f->held_fd, &held) != 0)
		return;
	if (now.st_ino == held.st_ino && now.st_dev == held.st_dev)
		return;
	if ((uint64_t)held.st_size > f->cur.off)
		return;  /* lines left in the old file: read them first */
	p->log(LOG_INFO, "%s was rotated: reading the new file", f->path);
	close(f->held_fd);
	f->held_fd = -1;
	memset(&f->cur, 0, sizeof(f->cur));
}

static void follow_poll(ingpipe *p)
{
	for (size_t i = 0; i < p->n_srcs; i++) {
		src *s = &p->srcs[i];
		if (s->type == SRC_LOG)
			follow_rotation(p, s);
		else if (s->type == SRC_CAP && s->is_dir)
			scan_dir(p, s);
	}
}

static uint64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec / 1000u;
}

static int run_follow(ingpipe *p)
{
	uint64_t start = wall_us(), last_commit = start, last_event = start;
	int rc = 0;
	/* A source that has given nothing yet holds time at its start until follow-lag passes:
	 * otherwise a log read before the first capture file appears would decide everything. */
	for (size_t i = 0; i < p->n_srcs; i++)
		p->srcs[i].seen_wall = start;
	while (rc == 0 && !(p->o->stop && *p->o->stop)) {
		src *s;
		unsigned n = 0;
		uint64_t now = wall_us();
		while (n < 100000 && (s = earliest(p)) != NULL && rc == 0) {
			rc = take_event(p, s, now);
			n++;
		}
		now = wall_us();
		if (n) {
			last_event = now;
			advance(p, low_watermark(p, now));
		} else if (now - last_event > p->as.delay_us) {
			advance(p, low_watermark(p, now) + (now - last_event));  /* quiet: time moves on */
		}
		if (rc == 0 && now - last_commit >= p->c->batch_interval * SEC) {
			rc = commit(p);
			last_commit = now;
		}
		if (p->o->follow_limit_s && now - start >= p->o->follow_limit_s * SEC)
			break;
		if (!n) {
			follow_poll(p);
			usleep(200000);
		}
	}
	/* Attempts still pending are not decided on a stop: their partners may be in input that is
	 * not there yet. The cursors stay at the safe point; a restart (or a one-shot run on the
	 * same store) re-reads from there and decides them. */
	return rc ? rc : commit(p);
}

static int run_oneshot(ingpipe *p)
{
	src *s;
	int rc = 0;
	while (rc == 0 && (s = earliest(p)) != NULL) {
		rc = take_event(p, s, 0);
		if (rc == 0 && p->events_since_commit >= ONESHOT_BATCH)
			rc = commit(p);
	}
	if (rc)
		return rc;
	att_flush(&p->att);
	as_flush(&p->as);
	return commit(p);
}

int ing_run(const cfg *c, const ing_opts *o, store *st, ing_log_fn log, ing_stats *stats)
{
	ingpipe p = { .c = c, .o = o, .st = st, .log = log, .stats = stats };
	memset(stats, 0, sizeof(*stats));
	int rc = setup(&p);
	if (rc == 0)
		rc = o->follow ? run_follow(&p) : run_oneshot(&p);
	stats->syns = p.att.syns;
	stats->attempts = p.att.attempts;
	stats->v6_attempts = p.as.v6_attempts;
	stats->v4_attempts = p.as.v4_attempts;
	stats->rejects = p.as.rejects;
	stats->rejects_v6 = p.as.rejects_v6;
	stats->offenders = p.as.offenders;
	stats->legit = p.as.legit;
	stats->shared = p.as.shared;
	stats->rep = p.ag.rep;
	teardown(&p);
	return rc;
}

/* ---- Report ---- */

static void table_row(FILE *f, const char *name, const uint64_t h[2], const uint64_t a[2],
                      uint64_t ht, uint64_t at)
{
	double hp0 = ht ? 100.0 * (double)h[1] / (double)ht : 0, hp1 = ht ? 100.0 * (double)h[0] / (double)ht : 0;
	double ap0 = at ? 100.0 * (double)a[1] / (double)at : 0, ap1 = at ? 100.0 * (double)a[0] / (double)at : 0;
	fprintf(f, "%-14s %8llu (%4.1f%%) %8llu (%4.1f%%) %10llu (%4.1f%%) %10llu (%4.1f%%)\n", name,
	        (unsigned long long)h[1], hp0, (unsigned long long)h[0], hp1, (unsigned long long)a[1],
	        ap0, (unsigned long long)a[0], ap1);
}

static void totals(const uint64_t h[][2], const uint64_t a[][2], unsigned n, uint64_t *ht, uint64_t *at)
{
	*ht = *at = 0;
	for (unsigned i = 0; i < n; i++) {
		*ht += h[i][0] + h[i][1];
		*at += a[i][0] + a[i][1];
	}
}

void ing_print_report(FILE *f, const ing_stats *s)
{
	static const char *const os[AG_OS_N] = { "Unknown", "Windows", "Linux", "Mac", "BSD", "Other" };
	static const char *const ty[AG_TYPE_N] = { "6to4", "EUI-64", "Embedded IPv4", "Teredo", "Other" };
	const ag_report *r = &s->rep;
	uint64_t ht, at;
	const char *head = "               IPv6 hosts                      IPv6 attempts\n"
	                   "               associated      unassociated    associated        unassociated\n";
	fprintf(f, "IPv6 spammer OSes\n%s", head);
	totals(r->hosts_os, r->att_os, AG_OS_N, &ht, &at);
	for (unsigned i = 0; i < AG_OS_N; i++)
		table_row(f, os[i], r->hosts_os[i], r->att_os[i], ht, at);
	fprintf(f, "\nIPv6 address types\n%s", head);
	totals(r->hosts_type, r->att_type, AG_TYPE_N, &ht, &at);
	for (unsigned i = 0; i < AG_TYPE_N; i++)
		table_row(f, ty[i], r->hosts_type[i], r->att_type[i], ht, at);
	fprintf(f, "\nSYNs %llu, attempts %llu (IPv6 %llu, IPv4 %llu), DNSBL rejections %llu (IPv6 %llu)\n"
	           "offender attempts %llu, legitimate %llu, shared-IPv4 ties refused %llu\n"
	           "listings: %llu new, %llu renewed, %llu /48 aggregates, %llu IPv4; not listed: "
	           "%llu excluded, %llu operator entries, %llu misbehaving MTAs, %llu stale, "
	           "%llu paired with their own clean IPv4, %llu waiting for a confirming attempt; "
	           "%llu withdrawn (IPv4 found shared)\n"
	           "bad input lines %llu, input errors %llu, commits %llu\n",
	        (unsigned long long)s->syns, (unsigned long long)s->attempts,
	        (unsigned long long)s->v6_attempts, (unsigned long long)s->v4_attempts,
	        (unsigned long long)s->rejects, (unsigned long long)s->rejects_v6,
	        (unsigned long long)s->offenders, (unsigned long long)s->legit,
	        (unsigned long long)s->shared, (unsigned long long)s->listed,
	        (unsigned long long)s->renewed, (unsigned long long)s->aggregates,
	        (unsigned long long)s->v4_listed, (unsigned long long)s->skipped_excluded,
	        (unsigned long long)s->skipped_operator, (unsigned long long)s->skipped_misbehaving,
	        (unsigned long long)s->skipped_stale, (unsigned long long)s->skipped_clean,
	        (unsigned long long)s->held, (unsigned long long)s->withdrawn,
	        (unsigned long long)s->bad_lines,
	        (unsigned long long)s->file_errors, (unsigned long long)s->commits);
}
