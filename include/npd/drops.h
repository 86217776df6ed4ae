/* drops.h: the drop log's bookkeeping, without I/O: what a logged packet (the NFLOG copy of
 * a denied packet) is, which flow it belongs to, and what to log when. A flow's first packet
 * is logged at once; repeats within a window are counted and reported in one line at the
 * window's end; the flow table has a hard cap and what it could not keep is counted and
 * reported once per window. The last N lines are kept for /debug/drops. Time is an input:
 * the caller reads packets, calls in with its clock and logs the lines it is handed. */
#ifndef NPD_DROPS_H
#define NPD_DROPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/model.h"
#include "npd/store.h"

enum npd_drop_dir {
	NPD_DROP_INGRESS, /* denied at the destination pod */
	NPD_DROP_EGRESS,  /* denied at the source pod */
};

/* A flow: direction, addresses, IP protocol number (6 TCP, 17 UDP, 132 SCTP, ...) and the
 * destination port (0 for a protocol without ports). Zero it before filling it in. */
struct npd_drop_key {
	enum npd_drop_dir dir;
	struct npd_addr src, dst;
	uint8_t proto;
	uint16_t dport;
};

/* One line to log: a flow and the packets it reports (first: the first packet, at once;
 * later: the repeats of one window). */
struct npd_drop_line {
	struct npd_drop_key key;
	double first; /* time of the first packet this line counts */
	double last;  /* time of the last one */
	uint64_t count;
};

struct npd_drops_opts {
	double window;	  /* seconds over which repeats are summed (default 1) */
	size_t max_flows; /* cap of the flow table (default 4096) */
	size_t recent;	  /* lines kept for npd_drops_recent (default 256) */
};

/* Totals since npd_drops_new. */
struct npd_drops_stats {
	uint64_t packets;    /* every packet given to npd_drops_add */
	uint64_t lines;	     /* lines handed out (first sightings and window sums) */
	uint64_t aggregated; /* packets counted into a flow already logged */
	uint64_t not_kept;   /* packets of new flows dropped because the table was full */
	size_t flows;	     /* flows in the table now */
};

enum npd_drops_verdict {
	NPD_DROPS_LOG_NOW,    /* a new flow: log *line now */
	NPD_DROPS_AGGREGATED, /* counted into a known flow: reported at the window's end */
	NPD_DROPS_NOT_KEPT,   /* table full: counted, reported by npd_drops_tick */
};

/* Called for each line npd_drops_tick hands out; not_kept > 0 only for the one line per
 * window that says how many packets of new flows could not be kept (line is NULL then). */
typedef void (*npd_drops_line_fn)(const struct npd_drop_line *line, uint64_t not_kept, void *ctx);

/* Fills the defaults (window 1 s, 4096 flows, 256 recent lines). */
void npd_drops_opts_init(struct npd_drops_opts *o);
/* A new, empty aggregator (o copied; zero fields take the defaults); free(NULL) no-op. */
struct npd_drops *npd_drops_new(const struct npd_drops_opts *o);
void npd_drops_free(struct npd_drops *d);

/* Records one denied packet of flow k at time now. LOG_NOW fills *line (count 1); the other
 * verdicts leave it alone. The first packet ever starts the first window. */
enum npd_drops_verdict npd_drops_add(struct npd_drops *d, double now, const struct npd_drop_key *k,
				     struct npd_drop_line *line);
/* When the current window ends (npd_drops_tick is due), or a negative value when the table
 * is empty and nothing is pending. */
double npd_drops_next_tick(const struct npd_drops *d);
/* At or after the window's end: hands fn one line per flow with repeats in the window, then
 * one not-kept line if any packet was not kept, forgets flows idle for a whole window and
 * starts the next window at now. Before the window's end it does nothing. */
void npd_drops_tick(struct npd_drops *d, double now, npd_drops_line_fn fn, void *ctx);
/* How many lines are kept (at most opts.recent), and the i-th, newest first (borrowed, valid
 * until the next add or tick; NULL when i is out of range). */
size_t npd_drops_n_recent(const struct npd_drops *d);
const struct npd_drop_line *npd_drops_recent(const struct npd_drops *d, size_t i);
void npd_drops_stats(const struct npd_drops *d, struct npd_drops_stats *out);

/* Parses what the compiler puts in the NFLOG prefix of a default deny ("NPD DROP I" or
 * "NPD DROP E", maybe followed by a space and more; only the direction is taken: the ends
 * are found by address): 0 and *dir, or -EINVAL when prefix is not netpold's. */
int npd_drops_parse_prefix(const char *prefix, enum npd_drop_dir *dir);
/* Reads addresses, protocol and destination port from an IPv4 or IPv6 packet (walking v6
 * extension headers; a non-first fragment has port 0) into k (direction untouched). 0, or
 * -EINVAL for a truncated or non-IP packet. */
int npd_drops_parse_packet(const uint8_t *pkt, size_t len, struct npd_drop_key *k);
/* "TCP", "UDP", "SCTP", "ICMP", "ICMPv6", or the number as text in buf. */
const char *npd_drops_proto_name(uint8_t proto, char buf[8]);

/* Appends the key=value body of l's log line to out, resolving both ends in s:
 * "direction=ingress src=NS/POD(IP)|external(IP) dst=... proto=TCP dport=80
 * isolated_by=NS/POL,... count=N" (isolated_by=none when s no longer isolates the pod). */
void npd_drops_format_line(const struct npd_store *s, const struct npd_drop_line *l,
			   struct npd_buf *out);
/* Appends the kept lines of d, newest first, as a JSON object {"drops":[...]} with both ends
 * resolved in s, the isolating policies, times (caller's clock) and counts. */
void npd_drops_format_json(const struct npd_store *s, const struct npd_drops *d,
			   struct npd_buf *out);

#endif
