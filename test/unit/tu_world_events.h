/* tu_world_events.h: seeded random event streams on a tu_world: pods added, deleted,
 * relabelled, given another or a reused address, finished, moved to another namespace or
 * given other ports; namespaces relabelled, deleted and added back; policies added,
 * changed and deleted. Each event goes to a store through the YAML decoder, as the file
 * source would apply it, so the incremental compiler can be checked against a full one
 * after every step. */
#ifndef NPD_TU_WORLD_EVENTS_H
#define NPD_TU_WORLD_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "npd/buf.h"
#include "npd/store.h"
#include "tu_world.h"

struct tu_churn {
	struct tu_world w; /* what the store holds now */
	bool ns_gone[4];   /* the Namespace object of w.ns[i] was deleted */
	uint64_t r;
	unsigned serial; /* names of new pods and policies */
};

/* A random world from seed, and a new store holding it (owned by the caller). */
struct npd_store *tu_churn_init(struct tu_churn *c, uint64_t seed);
/* Applies one random event to s (the store tu_churn_init returned) and describes it in
 * what (reset first). */
void tu_churn_step(struct tu_churn *c, struct npd_store *s, struct npd_buf *what);

#endif
