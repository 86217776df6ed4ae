/* ipset_int.h: what the legacy table backend needs from ipset.c beside the set backend's
 * ops: the kernel index of a set, which xt_set matches carry instead of its name. Not a
 * public contract. */
#ifndef NPD_BACKEND_IPSET_INT_H
#define NPD_BACKEND_IPSET_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/backend.h"
#include "npd/buf.h"

/* More than this many changes in one update rebuild the set by swap instead. */
#define NPD_IPSET_SWAP_THRESHOLD 1000

/* The smallest maxelem a set is created with. */
#define NPD_IPSET_MIN_MAXELEM 1024
/* The maxelem a set of n members is created with: the next power of two at or above 2n, at
 * least NPD_IPSET_MIN_MAXELEM (the kernel's default, 65536, would cap a large cluster's
 * selector set). An update that would need a larger one re-creates the set by swap. */
size_t npd_ipset_maxelem(size_t n);

/* Runs script (libipset restore commands, one a line) in one fresh session, its printed
 * output appended to out when non-NULL; 0, or -errno with libipset's message in err. */
int npd_ipset_run(struct npd_buf *script, struct npd_buf *out, struct npd_err *err);
/* Whether the creation options of a "Header: " line of `ipset list` (the words after the
 * label, up to the end of the line) hold counters. */
bool npd_ipset_header_has_counters(const char *p);
/* Appends to o->sets every set of ours in `list -terse` output text ("Name: X", "Header:
 * OPTIONS" ... "Number of entries: N" per set). */
void npd_ipset_parse_terse(const char *text, struct npd_owned *o);
/* The set backend's read_counters, for set name through libipset (ipset_read.c). */
int npd_ipset_read_counters(const char *name, npd_set_counter_fn fn, void *ctx,
			    struct npd_err *err);

/* Set index lookups (IP_SET_OP_GET_BYNAME) over one raw socket, opened at the first lookup
 * and kept, with the kernel's protocol version, until fini: a table commit resolves every
 * set its rules match, often a hundred or more. */
struct npd_ipset_lookup {
	int fd; /* -1: not open yet */
	unsigned version;
};

void npd_ipset_lookup_init(struct npd_ipset_lookup *l);
/* The kernel index of set name: 0 or -errno (-ENOENT: no such set), the detail in err. */
int npd_ipset_lookup_index(struct npd_ipset_lookup *l, const char *name, uint16_t *index,
			   struct npd_err *err);
void npd_ipset_lookup_fini(struct npd_ipset_lookup *l);

#endif
