/* pcap.c: capture readers (files, folders, live) and the in-place decoder of client TCP SYNs. */
#include "pcap.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "../zone/err.h"

/* Size of the stdio buffer given to capture files: fewer read(2) calls for small records. */
#define CAP_IOBUF (256u << 10)

#define CAP_ERRLEN 1024
#define CAP_NAMELEN 1024

struct cap_reader {
	pcap_t *pc;               /* open input, or NULL */
	FILE *fp;                 /* the file behind pc (owned by pc), NULL for live capture */
	int dlt;                  /* pcap_datalink of the input */
	int link;                 /* enum cap_link of dlt */
	bool done;                /* input finished: end of file or error reported */
	bool seekable;            /* fp tells its position (not a pipe) */
	bool classic;             /* pcap (not pcapng): records are a 16-byte header and caplen */
	uint64_t pos;             /* file offset after the last record read */
	uint64_t resume;          /* skip records that start before this offset */
	uint16_t port;            /* destination port filter, 0 = any */
	addr_pfx *dsts;           /* destination filter, n_dsts == 0 = any */
	size_t n_dsts;
	cap_counters cnt;
	char *iobuf;              /* CAP_IOBUF bytes, reused by every file */
	char name[CAP_NAMELEN];   /* file path or interface, for messages */
	char err[CAP_ERRLEN];
	char pcap_err[PCAP_ERRBUF_SIZE];
};

/* ---- decoder ---------------------------------------------------------------------------- */

#define RD16(p) ((uint16_t)((unsigned)(p)[0] << 8 | (p)[1]))
#define RD32(p) ((uint32_t)(p)[0] << 24 | (uint32_t)(p)[1] << 16 | (uint32_t)(p)[2] << 8 | (p)[3])

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

int cap_link_of(int dlt)
{
	switch (dlt) {
	case 0:   /* DLT_NULL */
	case 108: /* DLT_LOOP: the same header in network byte order */
		return CAP_LINK_NULL;
	case 1:   /* DLT_EN10MB */
		return CAP_LINK_EN10MB;
	case 113: /* DLT_LINUX_SLL */
		return CAP_LINK_SLL;
	case 276: /* DLT_LINUX_SLL2 */
		return CAP_LINK_SLL2;
	case 12:  /* DLT_RAW on Linux (libpcap maps LINKTYPE_RAW to it) */
	case 14:  /* DLT_RAW on OpenBSD */
	case 101: /* LINKTYPE_RAW, should it ever come through unmapped */
		return CAP_LINK_RAW;
	case 228: /* DLT_IPV4 */
		return CAP_LINK_IPV4;
	case 229: /* DLT_IPV6 */
		return CAP_LINK_IPV6;
	default:
		return -1;
	}
}

const char *cap_link_name(unsigned link)
{
	static const char *const names[CAP_LINK_N] = { "null", "en10mb", "linux_sll", "linux_sll2",
	                                               "raw", "ipv4", "ipv6" };
	return link < CAP_LINK_N ? names[link] : "?";
}

const char *cap_verdict_name(unsigned verdict)
{
	static const char *const names[] = { "syn", "not_ip", "not_tcp", "not_syn", "fragment",
	                                     "malformed", "bad_link" };
	return verdict < sizeof names / sizeof names[0] ? names[verdict] : "?";
}

/* BSD and Linux values of AF_INET6 as DLT_NULL carries them; AF_INET is 2 everywhere. */
static unsigned cap_af_family(uint32_t af)
{
	if (af == 2)
		return 4;
	if (af == 10 || af == 24 || af == 28 || af == 30)
		return 6;
	return 0;
}

/*
 * Skips 802.1Q / 802.1ad tags (each 4 bytes: TCI, then the next type) starting at pos, where the
 * type et applies, and maps the final type to an IP version.
 */
static int cap_ethertype(const uint8_t *p, size_t len, uint16_t et, size_t pos, size_t *off,
                         unsigned *fam)
{
	while (et == 0x8100 || et == 0x88a8 || et == 0x9100) {
		if (len - pos < 4)
			return CAP_MALFORMED;
		et = RD16(p + pos + 2);
		pos += 4;
	}
	if (et == ETH_IPV4)
		*fam = 4;
	else if (et == ETH_IPV6)
		*fam = 6;
	else
		return CAP_NOT_IP;
	*off = pos;
	return CAP_SYN;
}

/* Finds the IP header behind the link header: offset and version (0: read the version nibble). */
static int cap_link_ip(int link, const uint8_t *p, size_t len, size_t *off, unsigned *fam)
{
	switch (link) {
	case CAP_LINK_NULL: {
		if (len < 4)
			return CAP_MALFORMED;
		/* The capturing host's byte order, which the file does not record: try both. */
		uint32_t le = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
		*fam = cap_af_family(le);
		if (*fam == 0)
			*fam = cap_af_family(RD32(p));
		*off = 4;
		return *fam ? CAP_SYN : CAP_NOT_IP;
	}
	case CAP_LINK_EN10MB:
		return len < 14 ? CAP_MALFORMED : cap_ethertype(p, len, RD16(p + 12), 14, off, fam);
	case CAP_LINK_SLL:
		return len < 16 ? CAP_MALFORMED : cap_ethertype(p, len, RD16(p + 14), 16, off, fam);
	case CAP_LINK_SLL2:
		return len < 20 ? CAP_MALFORMED : cap_ethertype(p, len, RD16(p), 20, off, fam);
	case CAP_LINK_RAW:
	case CAP_LINK_IPV4:
	case CAP_LINK_IPV6:
		*off = 0;
		*fam = link == CAP_LINK_IPV4 ? 4 : link == CAP_LINK_IPV6 ? 6 : 0;
		return CAP_SYN;
	default:
		return CAP_BAD_LINK;
	}
}

/* Where the TCP header lies: captured bytes from tcp, and the segment length the IP header says. */
typedef struct cap_seg {
	const uint8_t *tcp;
	size_t cap;      /* bytes of the segment present in the capture */
	size_t len;      /* segment length by the IP header (may exceed cap: short snaplen) */
} cap_seg;

static int cap_ipv4(const uint8_t *p, size_t len, ev_syn *out, cap_seg *seg)
{
	if (len < 20)
		return CAP_MALFORMED;
	size_t hl = (size_t)(p[0] & 0x0f) * 4;
	size_t tot = RD16(p + 2);
	uint16_t fo = RD16(p + 6);

	if (hl < 20 || hl > len || tot < hl)
		return CAP_MALFORMED;
	if (p[9] != 6)
		return CAP_NOT_TCP;
	if (fo & 0x1fff)
		return CAP_FRAGMENT;
	/* Trust the IP length over the capture length: Ethernet pads short frames. */
	seg->tcp = p + hl;
	seg->cap = (tot < len ? tot : len) - hl;
	seg->len = tot - hl;
	out->v6 = false;
	out->ttl = p[8];
	out->ip_opt_len = (uint8_t)(hl - 20);
	out->src[10] = out->src[11] = out->dst[10] = out->dst[11] = 0xff;
	memcpy(out->src + 12, p + 12, 4);
	memcpy(out->dst + 12, p + 16, 4);
	if (p[1] & 3)
		out->quirks |= EV_Q_ECN;
	if (fo & 0x8000)
		out->quirks |= EV_Q_NZ_MBZ;
	if (fo & 0x4000)
		out->quirks |= EV_Q_DF | (RD16(p + 4) ? EV_Q_NZ_ID : 0);
	else if (RD16(p + 4) == 0)
		out->quirks |= EV_Q_ZERO_ID;
	return CAP_SYN;
}

/* Walks the IPv6 extension headers from p[40] up to TCP (RFC 8200 section 4, RFC 4302). */
static int cap_ipv6_exts(const uint8_t *p, size_t end, size_t *pos_out)
{
	uint8_t nh = p[6];
	size_t pos = 40;

	for (;;) {
		size_t hl;

		switch (nh) {
		case 6:
			*pos_out = pos;
			return CAP_SYN;
		case 0: case 43: case 60: case 135: case 139: case 140:
			if (end - pos < 2)
				return CAP_MALFORMED;
			hl = ((size_t)p[pos + 1] + 1) * 8;
			break;
		case 44:
			if (end - pos < 8)
				return CAP_MALFORMED;
			if (RD16(p + pos + 2) >> 3)
				return CAP_FRAGMENT;
			hl = 8;
			break;
		case 51:
			if (end - pos < 2)
				return CAP_MALFORMED;
			hl = ((size_t)p[pos + 1] + 2) * 4;
			break;
		default:   /* ESP (50), no next header (59), anything unknown */
			return CAP_NOT_TCP;
		}
		/* Every header is at least 8 bytes, so the walk ends within end / 8 steps. */
		if (end - pos < hl)
			return CAP_MALFORMED;
		nh = p[pos];
		pos += hl;
	}
}

static int cap_ipv6(const uint8_t *p, size_t len, ev_syn *out, cap_seg *seg)
{
	if (len < 40)
		return CAP_MALFORMED;
	uint32_t vtf = RD32(p);
	size_t plen = RD16(p + 4);
	size_t end = 40 + plen < len ? 40 + plen : len;
	size_t pos;
	int v;

	if (plen == 0)   /* a jumbogram or a bogus length: either way no SYN we could read */
		return CAP_MALFORMED;
	v = cap_ipv6_exts(p, end, &pos);
	if (v != CAP_SYN)
		return v;
	seg->tcp = p + pos;
	seg->cap = end - pos;
	seg->len = 40 + plen - pos;
	out->v6 = true;
	out->ttl = p[7];
	out->ip_opt_len = 0;
	memcpy(out->src, p + 8, 16);
	memcpy(out->dst, p + 24, 16);
	if (vtf & 0xfffff)
		out->quirks |= EV_Q_FLOW;
	if ((vtf >> 20) & 3)
		out->quirks |= EV_Q_ECN;
	return CAP_SYN;
}

/*
 * TCP options, the way p0f 3 reads them (process.c): every kind byte goes into the layout;
 * a known option with a wrong length byte is "bad" but still read; one that does not fit, or an
 * unknown one with an impossible length, stops the walk as "bad". One difference: p0f misses
 * non-zero padding after EOL when only the last byte is non-zero; here any non-zero byte counts.
 */
static void cap_tcp_opts(const uint8_t *o, size_t n, ev_syn *out)
{
	size_t i = 0;

	while (i < n && out->n_opts < EV_MAX_OPTS) {
		uint8_t kind = o[i++];
		size_t ol;

		out->opts[out->n_opts++] = kind;
		switch (kind) {
		case EV_OPT_EOL:
			out->eol_pad = (uint8_t)(n - i);
			while (i < n && o[i] == 0)
				i++;
			if (i != n)
				out->quirks |= EV_Q_OPT_EOL_NZ;
			i = n;
			break;
		case EV_OPT_NOP:
			break;
		case EV_OPT_MSS:
			if (n - i < 3)
				goto bad;
			if (o[i] != 4)
				out->quirks |= EV_Q_OPT_BAD;
			out->mss = RD16(o + i + 1);
			i += 3;
			break;
		case EV_OPT_WS:
			if (n - i < 2)
				goto bad;
			if (o[i] != 3)
				out->quirks |= EV_Q_OPT_BAD;
			out->wscale = o[i + 1];
			if (out->wscale > 14)
				out->quirks |= EV_Q_OPT_EXWS;
			i += 2;
			break;
		case EV_OPT_SOK:
			if (n - i < 1)
				goto bad;
			if (o[i] != 2)
				out->quirks |= EV_Q_OPT_BAD;
			i += 1;
			break;
		case EV_OPT_TS:
			if (n - i < 9)
				goto bad;
			if (o[i] != 10)
				out->quirks |= EV_Q_OPT_BAD;
			out->ts_val = RD32(o + i + 1);
			if (out->ts_val == 0)
				out->quirks |= EV_Q_OPT_ZERO_TS1;
			if (RD32(o + i + 5) != 0)
				out->quirks |= EV_Q_OPT_NZ_TS2;
			i += 9;
			break;
		default:
			/* SACK (10..34 bytes) and unknown kinds (2..40) carry their length. */
			if (i == n)
				goto bad;
			ol = o[i];
			if (kind == EV_OPT_SACK ? ol < 10 || ol > 34 : ol < 2 || ol > 40)
				goto bad;
			if (ol - 1 > n - i)
				goto bad;
			i += ol - 1;
			break;
		}
	}
	if (i == n)
		return;
bad:
	out->quirks |= EV_Q_OPT_BAD;
}

static int cap_tcp(const cap_seg *seg, ev_syn *out)
{
	const uint8_t *t = seg->tcp;

	if (seg->cap < 20 || seg->len < 20)
		return CAP_MALFORMED;
	uint8_t flags = t[13];
	size_t doff = (size_t)(t[12] >> 4) * 4;

	if ((flags & (TCP_SYN | TCP_ACK | TCP_FIN | TCP_RST)) != TCP_SYN)
		return CAP_NOT_SYN;
	if (doff < 20 || doff > seg->cap || doff > seg->len)
		return CAP_MALFORMED;
	out->sport = RD16(t);
	out->dport = RD16(t + 2);
	out->seq = RD32(t + 4);
	out->win = RD16(t + 14);
	out->tcp_hdr_len = (uint8_t)doff;
	out->payload_len = seg->len - doff > 0xffff ? 0xffff : (uint16_t)(seg->len - doff);
	if (out->seq == 0)
		out->quirks |= EV_Q_ZERO_SEQ;
	if (RD32(t + 8) != 0)
		out->quirks |= EV_Q_NZ_ACK;
	if (flags & TCP_URG)
		out->quirks |= EV_Q_URG;
	else if (RD16(t + 18) != 0)
		out->quirks |= EV_Q_NZ_URG;
	if (flags & TCP_PSH)
		out->quirks |= EV_Q_PUSH;
	if ((flags & (TCP_ECE | TCP_CWR)) || (t[12] & 0x01))   /* 0x01: the NS bit */
		out->quirks |= EV_Q_ECN;
	out->wscale = 0xff;
	cap_tcp_opts(t + 20, doff - 20, out);
	return CAP_SYN;
}

int cap_decode(int dlt, const uint8_t *pkt, size_t caplen, ev_syn *out)
{
	size_t off;
	unsigned fam;
	cap_seg seg;
	int v, link = cap_link_of(dlt);

	if (link < 0)
		return CAP_BAD_LINK;
	v = cap_link_ip(link, pkt, caplen, &off, &fam);
	if (v != CAP_SYN)
		return v;
	pkt += off;
	caplen -= off;
	if (caplen < 1)
		return CAP_MALFORMED;
	unsigned ver = pkt[0] >> 4;
	if (ver != 4 && ver != 6)
		return fam ? CAP_MALFORMED : CAP_NOT_IP;
	if (fam && ver != fam)
		return CAP_MALFORMED;
	memset(out, 0, sizeof *out);
	v = ver == 4 ? cap_ipv4(pkt, caplen, out, &seg) : cap_ipv6(pkt, caplen, out, &seg);
	return v != CAP_SYN ? v : cap_tcp(&seg, out);
}

/* ---- reader ----------------------------------------------------------------------------- */

__attribute__((format(printf, 2, 3)))
static void cap_seterr(cap_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof r->err, fmt, ap);
	va_end(ap);
}

int cap_new(cap_reader **out)
{
	cap_reader *r = calloc(1, sizeof *r);

	if (r == NULL)
		return V6R_ENOMEM;
	r->iobuf = malloc(CAP_IOBUF);
	if (r->iobuf == NULL) {
		free(r);
		return V6R_ENOMEM;
	}
	r->dlt = -1;
	r->link = -1;
	r->port = CAP_DEFAULT_PORT;
	*out = r;
	return 0;
}

void cap_free(cap_reader *r)
{
	if (r == NULL)
		return;
	cap_close(r);
	free(r->dsts);
	free(r->iobuf);
	free(r);
}

void cap_set_port(cap_reader *r, uint16_t port)
{
	r->port = port;
}

int cap_set_dsts(cap_reader *r, const addr_pfx *dsts, size_t n)
{
	addr_pfx *copy = NULL;

	if (n > 0) {
		copy = malloc(n * sizeof *copy);
		if (copy == NULL)
			return V6R_ENOMEM;
		memcpy(copy, dsts, n * sizeof *copy);
	}
	free(r->dsts);
	r->dsts = copy;
	r->n_dsts = n;
	return 0;
}

void cap_close(cap_reader *r)
{
	if (r->pc != NULL)
		pcap_close(r->pc);   /* closes r->fp too */
	r->pc = NULL;
	r->fp = NULL;
	r->dlt = r->link = -1;
	r->done = r->seekable = false;
	r->pos = r->resume = 0;
}

const char *cap_error(const cap_reader *r)
{
	return r->err;
}

const cap_counters *cap_get_counters(const cap_reader *r)
{
	return &r->cnt;
}

void cap_reset_counters(cap_reader *r)
{
	memset(&r->cnt, 0, sizeof r->cnt);
}

uint64_t cap_offset(const cap_reader *r)
{
	return r->fp != NULL ? r->pos : 0;
}

int cap_datalink(const cap_reader *r)
{
	return r->pc != NULL ? r->dlt : -1;
}

/* Checks the link type of the freshly opened input. */
static int cap_check_link(cap_reader *r)
{
	r->dlt = pcap_datalink(r->pc);
	r->link = cap_link_of(r->dlt);
	if (r->link >= 0)
		return 0;
	const char *name = pcap_datalink_val_to_name(r->dlt);
	const char *desc = pcap_datalink_val_to_description(r->dlt);
	if (name != NULL && desc != NULL)
		cap_seterr(r, "%s: unsupported link type %d (%s: %s)", r->name, r->dlt, name, desc);
	else
		cap_seterr(r, "%s: unsupported link type %d (unknown to libpcap)", r->name, r->dlt);
	return V6R_EINVAL;
}

/* Errors of libpcap's savefile code that mean the file ends too early. */
static bool cap_is_truncation(const char *msg)
{
	return strstr(msg, "truncated") != NULL;
}

/* Opens the capture in fp (taken over); on failure fp is closed and rc says why. */
static int cap_open_capture(cap_reader *r, FILE *fp, uint64_t offset)
{
	long pos;

	setvbuf(fp, r->iobuf, _IOFBF, CAP_IOBUF);
	/*
	 * A seek makes glibc cache the file position, after which ftell (once per record) is
	 * arithmetic on the buffer instead of an lseek(2) each time. A pipe refuses: no offsets.
	 */
	r->seekable = fseeko(fp, 0, SEEK_CUR) == 0;
	/* In a classic pcap file (microsecond or nanosecond magic, either byte order) the next
	 * record starts 16 + caplen bytes after this one: no ftell per record. */
	uint8_t m[4];
	r->classic = r->seekable && ftello(fp) == 0 && pread(fileno(fp), m, 4, 0) == 4 &&
	             (!memcmp(m, "\xa1\xb2\xc3\xd4", 4) || !memcmp(m, "\xd4\xc3\xb2\xa1", 4) ||
	              !memcmp(m, "\xa1\xb2\x3c\x4d", 4) || !memcmp(m, "\x4d\x3c\xb2\xa1", 4));
	r->pcap_err[0] = '\0';
	r->pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, r->pcap_err);
	if (r->pc == NULL) {
		/* libpcap leaves the FILE to us when it refuses it. */
		fclose(fp);
		if (cap_is_truncation(r->pcap_err))
			cap_seterr(r, "%s: truncated capture at byte offset 0 (%s)", r->name, r->pcap_err);
		else
			cap_seterr(r, "%s: failed to open capture (%s)", r->name, r->pcap_err);
		return V6R_ECORRUPT;
	}
	r->fp = fp;
	int rc = cap_check_link(r);
	if (rc < 0)
		return rc;
	pos = r->seekable ? ftell(fp) : 0;
	r->pos = pos > 0 ? (uint64_t)pos : 0;
	r->resume = offset;
	return 0;
}

/* Forgets the previous input and names the next one. */
static void cap_begin(cap_reader *r, const char *name)
{
	cap_close(r);
	r->err[0] = '\0';
	snprintf(r->name, sizeof r->name, "%s", name);
	r->cnt.files++;
}

int cap_open_fp(cap_reader *r, FILE *fp, const char *name, uint64_t offset)
{
	cap_begin(r, name);
	int rc = cap_open_capture(r, fp, offset);
	if (rc < 0) {
		r->cnt.file_errors++;
		cap_close(r);
	}
	return rc;
}

int cap_open_file_at(cap_reader *r, const char *path, uint64_t offset)
{
	FILE *fp;
	int rc;

	cap_begin(r, path);
	fp = fopen(path, "rb");
	if (fp == NULL) {
		cap_seterr(r, "%s: failed to open capture (%s)", path, strerror(errno));
		rc = V6R_EIO;
		goto fail;
	}
	rc = cap_open_capture(r, fp, offset);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	r->cnt.file_errors++;
	cap_close(r);
	return rc;
}

int cap_open_file(cap_reader *r, const char *path)
{
	return cap_open_file_at(r, path, 0);
}

int cap_live_filter(uint16_t port, char *buf, size_t cap)
{
	char p4[32] = "", p6[48] = "";
	int n;

	if (port != 0) {
		snprintf(p4, sizeof p4, "tcp dst port %u and ", port);
		snprintf(p6, sizeof p6, "tcp dst port %u and ", port);
	}
	/* ip6[53] is the TCP flags byte when TCP follows the fixed header directly. */
	n = snprintf(buf, cap, "(ip and %stcp[13] & 0x17 == 0x02) or "
	             "(ip6 and (not ip6 proto 6 or (%sip6[53] & 0x17 == 0x02)))", p4, p6);
	return n < 0 || (size_t)n >= cap ? V6R_ESPACE : n;
}

/* Creates, tunes and activates the live handle; the filter is set by the caller. */
static int cap_activate(cap_reader *r, const char *ifname)
{
	int rc;

	r->pc = pcap_create(ifname, r->pcap_err);
	if (r->pc == NULL) {
		cap_seterr(r, "%s: failed to open live capture (%s)", ifname, r->pcap_err);
		return V6R_EIO;
	}
	pcap_set_snaplen(r->pc, CAP_LIVE_SNAPLEN);
	pcap_set_promisc(r->pc, 1);
	pcap_set_timeout(r->pc, CAP_LIVE_TIMEOUT_MS);
	pcap_set_buffer_size(r->pc, 16 << 20);   /* room for a SYN flood between reads */
	rc = pcap_activate(r->pc);
	if (rc < 0) {
		cap_seterr(r, "%s: failed to start live capture (%s: %s)", ifname,
		           pcap_statustostr(rc), pcap_geterr(r->pc));
		return V6R_EIO;
	}
	return 0;
}

int cap_open_live(cap_reader *r, const char *ifname, const char *bpf_filter)
{
	char deflt[256];
	struct bpf_program prog;
	int rc;

	cap_begin(r, ifname);
	rc = cap_activate(r, ifname);
	if (rc < 0)
		goto fail;
	rc = cap_check_link(r);
	if (rc < 0)
		goto fail;
	if (bpf_filter == NULL) {
		if (cap_live_filter(r->port, deflt, sizeof deflt) < 0) {
			rc = V6R_ESPACE;
			goto fail;
		}
		bpf_filter = deflt;
	}
	if (pcap_compile(r->pc, &prog, bpf_filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		cap_seterr(r, "%s: failed to compile filter \"%s\" (%s)", ifname, bpf_filter,
		           pcap_geterr(r->pc));
		rc = V6R_ESYNTAX;
		goto fail;
	}
	rc = pcap_setfilter(r->pc, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		cap_seterr(r, "%s: failed to set filter (%s)", ifname, pcap_geterr(r->pc));
		rc = V6R_EIO;
		goto fail;
	}
	return 0;
fail:
	r->cnt.file_errors++;
	cap_close(r);
	return rc;
}

/* Reports a failed pcap_next_ex on a file or interface; the input is finished. */
static int cap_read_failed(cap_reader *r, uint64_t at)
{
	const char *msg = pcap_geterr(r->pc);

	r->done = true;
	r->cnt.file_errors++;
	if (r->fp == NULL) {
		cap_seterr(r, "%s: failed to read live capture (%s)", r->name, msg);
		return V6R_EIO;
	}
	if (cap_is_truncation(msg))
		cap_seterr(r, "%s: truncated capture at byte offset %llu (%s)", r->name,
		           (unsigned long long)at, msg);
	else
		cap_seterr(r, "%s: corrupt capture at byte offset %llu (%s)", r->name,
		           (unsigned long long)at, msg);
	return V6R_ECORRUPT;
}

/* End of file: fine, unless a resume offset promised more bytes than the file has. */
static int cap_at_end(cap_reader *r)
{
	r->done = true;
	if (!r->seekable || r->resume <= r->pos)
		return 0;
	r->cnt.file_errors++;
	cap_seterr(r, "%s: resume offset %llu is past the end of the capture (%llu bytes): "
	           "replaced or cut?", r->name, (unsigned long long)r->resume,
	           (unsigned long long)r->pos);
	return V6R_ERANGE;
}

/* Port and destination filters, and the counting of what cap_decode said. */
static bool cap_keep(cap_reader *r, int v, const ev_syn *s)
{
	switch (v) {
	case CAP_SYN:
		break;
	case CAP_NOT_IP:    r->cnt.skipped_not_ip++;    return false;
	case CAP_NOT_TCP:   r->cnt.skipped_not_tcp++;   return false;
	case CAP_NOT_SYN:   r->cnt.skipped_not_syn++;   return false;
	case CAP_FRAGMENT:  r->cnt.skipped_fragment++;  return false;
	default:            r->cnt.skipped_malformed++; return false;
	}
	if (r->port != 0 && s->dport != r->port) {
		r->cnt.skipped_port++;
		return false;
	}
	if (r->n_dsts == 0)
		return true;
	for (size_t i = 0; i < r->n_dsts; i++)
		if (addr_contains(&r->dsts[i], s->dst))
			return true;
	r->cnt.skipped_dst++;
	return false;
}

int cap_next(cap_reader *r, ev_syn *out)
{
	struct pcap_pkthdr *h;
	const u_char *data;

	if (r->pc == NULL || r->done)
		return 0;
	for (;;) {
		uint64_t at = r->pos;
		int rc = pcap_next_ex(r->pc, &h, &data);

		if (rc == 0)            /* live read timeout */
			return 0;
		if (rc == PCAP_ERROR_BREAK)
			return cap_at_end(r);
		if (rc != 1)
			return cap_read_failed(r, at);
		if (r->classic) {
			r->pos = at + 16 + h->caplen;
			if (at < r->resume) {
				r->cnt.skipped_resume++;
				continue;
			}
		} else if (r->seekable) {
			long pos = ftell(r->fp);
			r->pos = pos > 0 ? (uint64_t)pos : r->pos;
			if (at < r->resume) {
				r->cnt.skipped_resume++;
				continue;
			}
		}
		r->cnt.packets++;
		r->cnt.by_link[r->link]++;
		int v = cap_decode(r->dlt, data, h->caplen, out);
		if (!cap_keep(r, v, out))
			continue;
		out->t_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		out->offset = at;
		r->cnt.syns++;
		return 1;
	}
}

/* ---- folders ---------------------------------------------------------------------------- */

static int cap_not_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

void cap_list_free(cap_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	l->paths = NULL;
	l->n = 0;
}

int cap_list_dir(const char *dir, cap_list *out, char *err, size_t errlen)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, cap_not_dot, versionsort);
	int rc = 0;

	out->paths = NULL;
	out->n = 0;
	if (n < 0) {
		snprintf(err, errlen, "%s: failed to list capture folder (%s)", dir, strerror(errno));
		return V6R_EIO;
	}
	if (n > 0) {
		out->paths = calloc((size_t)n, sizeof *out->paths);
		if (out->paths == NULL)
			rc = V6R_ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;
		char *path = NULL;

		if (rc == 0 && asprintf(&path, "%s/%s", dir, names[i]->d_name) < 0) {
			path = NULL;
			rc = V6R_ENOMEM;
		}
		if (path != NULL && stat(path, &st) == 0 && S_ISREG(st.st_mode))
			out->paths[out->n++] = path;
		else
			free(path);
		free(names[i]);
	}
	free(names);
	if (rc != 0) {
		snprintf(err, errlen, "%s: failed to list capture folder (out of memory)", dir);
		cap_list_free(out);
	}
	return rc;
}
