/* counters_int.h: what counters.c (totals, kernel rules, the exposition and the state file)
 * and counters_sets.c (the entries of counted sets) share: the cache itself and the way a
 * total is found or made. */
#ifndef NPD_COUNTERS_INT_H
#define NPD_COUNTERS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"

#include "npd/buf.h"
#include "npd/counters.h"
#include "npd/map.h"
#include "npd/ruleset.h"
#include "npd/store.h"

struct total {
	struct npd_counter_total pub; /* ns and name point at the owned copies below */
	char *ns, *name;
};

/* One kernel counter (a rule, or an entry of a counted set): which total it counts for and
 * its value at the last reading. */
struct krule {
	struct total *t;
	uint64_t last_packets, last_bytes;
};

struct npd_counters {
	struct npd_map totals;	/* total_key -> struct total */
	struct npd_map krules;	/* family|chain|index -> struct krule */
	struct npd_map entries; /* set|address -> struct krule */
	struct npd_map csets;	/* set -> the set itself as a non-NULL marker: sets in entries */
	struct npd_buf key;
};

/* The total of an origin, made (at 0, not live) when the cache has none; borrowed. */
struct total *npd_counters_total_get(struct npd_counters *c, enum npd_origin_kind kind,
				     enum npd_origin_dir dir, const char *ns, const char *name,
				     int32_t rule);
/* Adds the growth of one kernel counter since its last reading to its total. */
void npd_counters_krule_feed(struct krule *k, uint64_t packets, uint64_t bytes);

/* The key of entry addr of set in entries, in c's scratch buffer (valid until next use). */
const char *npd_counters_entry_key(struct npd_counters *c, const char *set,
				   const struct npd_addr *addr);
/* After a commit (see npd_counters_applied): takes the entries of rs's counted sets whose
 * address a pod of s owns, marking their totals live. */
void npd_counters_take_sets(struct npd_counters *c, const struct npd_ruleset *rs,
			    const struct npd_plan *plan, const struct npd_store *s);
/* The state file's lines of the entries: "E set address kind dir ns name rule last_packets
 * last_bytes", tab-separated. */
void npd_counters_save_entries(const struct npd_counters *c, struct npd_buf *out);
/* Records entry addr of set (a line of the state file) as counting for t from the given
 * last reading, replacing what the cache had for it. */
void npd_counters_entry_put(struct npd_counters *c, const char *set, const struct npd_addr *addr,
			    struct total *t, uint64_t last_packets, uint64_t last_bytes);
/* Forgets every entry (the cache's content is being replaced or freed). */
void npd_counters_clear_entries(struct npd_counters *c);

#endif
