/* tu_eval.h: a test-only model of the kernel's walk through a compiled ruleset. Given the
 * ruleset of one node (the same structures the backends write) and the first packet of a
 * connection, it returns the verdict netfilter's FORWARD hook would reach, evaluating every
 * match itself (addresses, ports, ipset lookups with hash:net nomatch, marks, conntrack
 * state NEW), so compiled rules can be checked against the simulator without a kernel. */
#ifndef NPD_TU_EVAL_H
#define NPD_TU_EVAL_H

#include <stdbool.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/ruleset.h"
#include "npd/store.h"

struct tu_packet {
	struct npd_addr src, dst;
	uint8_t proto; /* 6, 17, 132 */
	uint16_t dport;
};

enum tu_verdict {
	TU_PASS,   /* our hook returned: the packet goes on through FORWARD */
	TU_REJECT, /* rejected (or dropped) by one of our rules */
	TU_ERROR,  /* the ruleset is malformed: unknown chain or set, loop, bad set match */
};

/* Walks the hooks of the packet's family in rs (sealed) for a NEW packet. When trace is
 * non-NULL it receives one line per rule that matched ("CHAIN#index target"). */
enum tu_verdict tu_eval(const struct npd_ruleset *rs, const struct tu_packet *p,
			struct npd_buf *trace);

/* The lab's two-node verdict: p walks the rules of node1 (rs[0]) and node2 (rs[1]) for
 * each end that is a selectable pod of s on that node (once when both ends share it);
 * TU_PASS only when every walk passes, TU_ERROR if one meets a malformed ruleset. Both
 * ends are modelled as crossing FORWARD; an outside or unknown address checks nothing. */
enum tu_verdict tu_eval_nodes(const struct npd_store *s, const struct npd_ruleset *const rs[2],
			      const struct tu_packet *p, struct npd_buf *trace);

#endif
