/* pcap.h: reads client SYNs from pcap/pcapng files and live capture (libpcap) into ev_syn events. */
#ifndef V6R_CAP_H
#define V6R_CAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../zone/addr.h"
#include "event.h"

/*
 * A reader holds the settings (destination port and addresses), the counters and one open input
 * at a time: a capture file or a live interface. The usual loop is
 *
 *     cap_reader *r;  cap_new(&r);  cap_set_port(r, 25);
 *     for each file:  cap_open_file_at(r, path, remembered_offset)  (or cap_open_file)
 *                     while ((rc = cap_next(r, &syn)) > 0) use(&syn);
 *                     if (rc < 0) report(cap_error(r));       the SYNs before still count
 *                     remember(path, cap_offset(r));  cap_close(r);
 *     cap_free(r);
 *
 * A folder is read with cap_list_dir(), which names its files in the order to open them; the
 * caller opens each in turn (so that it can keep a resume offset per file).
 *
 * Every SYN returned has SYN set and ACK, FIN and RST clear, is sent to the configured port
 * (and, when a destination list is set, to one of its prefixes), and carries everything p0f's
 * SYN signature needs (see event.h). Packets that are not such SYNs are skipped and counted;
 * a packet never stops the reading. Only the file itself (truncated, corrupt, unreadable) ends
 * an input early, with an error that says where.
 */
typedef struct cap_reader cap_reader;

/* Link types the decoder understands; index of cap_counters.by_link. */
enum cap_link {
	CAP_LINK_NULL = 0,  /* DLT_NULL / DLT_LOOP: 4-byte address family, either byte order */
	CAP_LINK_EN10MB,    /* Ethernet, with any number of 802.1Q / 802.1ad tags */
	CAP_LINK_SLL,       /* Linux cooked v1 (16 bytes, protocol at 14) */
	CAP_LINK_SLL2,      /* Linux cooked v2 (20 bytes, protocol at 0) */
	CAP_LINK_RAW,       /* raw IP: DLT 12 (Linux), 14 (OpenBSD), LINKTYPE_RAW 101 */
	CAP_LINK_IPV4,      /* DLT_IPV4 228 */
	CAP_LINK_IPV6,      /* DLT_IPV6 229 */
	CAP_LINK_N
};

/* What the decoder made of one packet. */
enum cap_verdict {
	CAP_SYN = 0,        /* a SYN without ACK: *out is filled */
	CAP_NOT_IP,         /* the link layer carries something other than IPv4 / IPv6 */
	CAP_NOT_TCP,        /* IP, but no TCP header (other protocol, ESP, no next header, ...) */
	CAP_NOT_SYN,        /* TCP, but not SYN-only (SYN+ACK, RST, data, SYN+FIN, ...) */
	CAP_FRAGMENT,       /* a fragment other than the first: no TCP header in it */
	CAP_MALFORMED,      /* too short or inconsistent lengths (checked against caplen) */
	CAP_BAD_LINK,       /* link type not supported */
};

typedef struct cap_counters {
	uint64_t packets;            /* records decoded (not counting skipped_resume) */
	uint64_t syns;               /* SYNs returned by cap_next */
	uint64_t skipped_not_ip;
	uint64_t skipped_not_tcp;
	uint64_t skipped_not_syn;
	uint64_t skipped_fragment;
	uint64_t skipped_malformed;
	uint64_t skipped_port;       /* a SYN to another destination port */
	uint64_t skipped_dst;        /* a SYN to an address outside the destination list */
	uint64_t skipped_resume;     /* records before the resume offset, not decoded */
	uint64_t files;              /* inputs opened */
	uint64_t file_errors;        /* inputs that failed to open or ended with an error */
	uint64_t by_link[CAP_LINK_N]; /* packets per link type */
} cap_counters;

/* Default destination port (SMTP). */
#define CAP_DEFAULT_PORT 25

/*
 * Snapshot length of live capture: room for SLL2 (20) + two VLAN tags (8) + IPv6 (40) + extension
 * headers + TCP with 40 bytes of options (60). A SYN whose headers do not fit is skipped as
 * malformed.
 */
#define CAP_LIVE_SNAPLEN 512

/* Read timeout of live capture, milliseconds: cap_next returns 0 at least this often when idle. */
#define CAP_LIVE_TIMEOUT_MS 1000

/* Creates a reader with port 25 and no destination list. Returns 0 or V6R_ENOMEM. */
int cap_new(cap_reader **out);

/* Closes any open input and frees the reader. NULL is allowed. */
void cap_free(cap_reader *r);

/* Destination port a SYN must be sent to; 0 accepts every port. */
void cap_set_port(cap_reader *r, uint16_t port);

/*
 * Destination prefixes a SYN must be sent to (IPv4 ones as ::ffff:a.b.c.d/96+n, addr.h); n == 0
 * accepts every destination. The list is copied. Returns 0 or V6R_ENOMEM.
 */
int cap_set_dsts(cap_reader *r, const addr_pfx *dsts, size_t n);

/*
 * Opens a pcap (micro- or nanosecond, either byte order) or pcapng capture file, closing the
 * input that was open. Returns 0; V6R_EIO when the file cannot be opened; V6R_ECORRUPT when it
 * is not a capture libpcap reads or its header is cut short; V6R_EINVAL for a link type the
 * decoder does not handle. The error text is in cap_error.
 */
int cap_open_file(cap_reader *r, const char *path);

/*
 * As cap_open_file, then skips (without decoding) every record that starts before byte offset
 * `offset` of the file, so that a reader that stopped with cap_offset() == offset continues
 * exactly after the last record it had read. An offset past the end of the file makes cap_next
 * fail with V6R_ERANGE once the end is reached (the file was replaced or cut).
 */
int cap_open_file_at(cap_reader *r, const char *path, uint64_t offset);

/*
 * As cap_open_file_at, on a stream the reader takes over (closed by cap_close, or at once when
 * the open fails): a pipe from tcpdump -w -, an fmemopen buffer. name is used in messages.
 * Offsets are ftell positions, so on a pipe (no position) they stay 0 and offset is ignored.
 */
int cap_open_fp(cap_reader *r, FILE *fp, const char *name, uint64_t offset);

/*
 * Opens live capture on interface ifname (promiscuous, CAP_LIVE_SNAPLEN, microsecond time
 * stamps) with BPF program bpf_filter; NULL installs cap_live_filter()'s program for the
 * reader's port. Needs CAP_NET_RAW. Returns 0, V6R_EIO (libpcap refused: no such device, no
 * permission) or V6R_ESYNTAX (the filter does not compile).
 */
int cap_open_live(cap_reader *r, const char *ifname, const char *bpf_filter);

/*
 * Writes the default live filter for port (0: any port) into buf: SYNs without ACK over IPv4,
 * and over IPv6 either such SYNs or any packet whose next header is not TCP (extension headers
 * are walked in user space, since BPF's tcp[] does not). VLAN-tagged traffic needs a filter of
 * the caller's. Returns the length or V6R_ESPACE.
 */
int cap_live_filter(uint16_t port, char *buf, size_t cap);

/*
 * Reads up to the next SYN that passes the filters, decoded into *out (no allocation; the
 * packet is decoded in place). Returns 1 with *out filled; 0 when there is nothing more: the
 * end of the file, no input open, or (live capture) the read timeout passed without a SYN, in
 * which case the caller calls again; or a negative error, after which the input is finished
 * and later calls return 0:
 *   V6R_ECORRUPT  the file is truncated or corrupt at some record (or a pcapng file has
 *                 interfaces of different link types); every SYN before it was returned.
 *   V6R_ERANGE    the resume offset lies past the end of the file.
 *   V6R_EIO       a live capture failed.
 * cap_error then reads e.g. "x.pcap: truncated capture at byte offset 1234 (truncated dump
 * file; tried to read 74 captured bytes, only got 30)".
 */
int cap_next(cap_reader *r, ev_syn *out);

/*
 * Byte offset just after the last record read from the open file: the value to remember and
 * pass to cap_open_file_at to continue. 0 when no file is open (live capture has no offset).
 */
uint64_t cap_offset(const cap_reader *r);

/* The link type (DLT_*) of the open input, or -1. */
int cap_datalink(const cap_reader *r);

/* Closes the open input, if any; settings and counters stay. */
void cap_close(cap_reader *r);

/* The text of the last error, with its context (file name, offset); "" if none. */
const char *cap_error(const cap_reader *r);

/* The counters, summed over every input this reader has read. */
const cap_counters *cap_get_counters(const cap_reader *r);

/* Clears the counters. */
void cap_reset_counters(cap_reader *r);

/*
 * Decodes one packet of link type dlt (a DLT_* value as pcap_datalink gives it) from
 * pkt[0..caplen). On CAP_SYN *out holds the SYN, with t_us and offset zero; on any other verdict
 * *out is unspecified. Reads nothing outside pkt[0..caplen). Applies no port or address filter.
 */
int cap_decode(int dlt, const uint8_t *pkt, size_t caplen, ev_syn *out);

/* The enum cap_link for a DLT_* value, or -1 when the decoder does not handle it. */
int cap_link_of(int dlt);

/* "null", "en10mb", "linux_sll", ... for an enum cap_link; "?" otherwise. */
const char *cap_link_name(unsigned link);

/* "syn", "not_ip", ... for an enum cap_verdict; "?" otherwise. */
const char *cap_verdict_name(unsigned verdict);

/*
 * The regular files directly inside a folder (dot files excluded, symbolic links followed),
 * as "dir/name" paths in natural name order (strverscmp): tcpdump -G names (strftime) and -C
 * names (x, x1, x2, ..., x10) both come out in the order they were written.
 */
typedef struct cap_list {
	char **paths;
	size_t n;
} cap_list;

/* Fills *out (free with cap_list_free). Returns 0, V6R_EIO (with err) or V6R_ENOMEM. */
int cap_list_dir(const char *dir, cap_list *out, char *err, size_t errlen);
void cap_list_free(cap_list *l);

#endif
