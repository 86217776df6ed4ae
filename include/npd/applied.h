/* applied.h: the applied state, what netpold believes the kernel holds of ours. Each chain,
 * set and family's hooks is absent, known (its content is what a ruleset said) or unknown
 * (present, content not known: found at start, drifted, or left by a failed apply). Built
 * from the backend's owned list, checked against a fresh one on resync, and replaced by
 * the desired ruleset once a plan reached the kernel. Pure: the caller does the I/O. */
#ifndef NPD_APPLIED_H
#define NPD_APPLIED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/backend.h"
#include "npd/differ.h"
#include "npd/ruleset.h"

struct npd_applied;

enum npd_applied_state {
	NPD_APPLIED_ABSENT,  /* not in the kernel */
	NPD_APPLIED_KNOWN,   /* in the kernel with the content of npd_applied_known */
	NPD_APPLIED_UNKNOWN, /* in the kernel, content unknown */
};

enum npd_drift_kind {
	NPD_DRIFT_CHAIN_MISSING, /* a chain believed present is gone */
	NPD_DRIFT_CHAIN_EXTRA,	 /* a chain of ours the state did not have */
	NPD_DRIFT_CHAIN_RULES,	 /* a known chain has another number of rules */
	NPD_DRIFT_HOOKS,	 /* hooks missing, extra, or not first in their built-in chain */
	NPD_DRIFT_SET_MISSING,
	NPD_DRIFT_SET_EXTRA,
	NPD_DRIFT_SET_ENTRIES,	/* a known set has another number of entries */
	NPD_DRIFT_SET_COUNTERS, /* a known set has (want 1) or lacks (want 0) counters unlike
				 * the kernel's */
};

/* One drifted object, borrowed for the duration of the callback. */
struct npd_drift {
	enum npd_drift_kind kind;
	uint8_t family;	  /* chains and hooks: AF_INET or AF_INET6; sets: 0 */
	const char *name; /* the chain or set; NULL for hooks */
	size_t want;	  /* CHAIN_RULES, SET_ENTRIES, SET_COUNTERS: what the state held */
	size_t have;	  /* CHAIN_RULES, SET_ENTRIES, SET_COUNTERS: what the kernel holds */
};
typedef void (*npd_drift_fn)(const struct npd_drift *d, void *ctx);

/* A new state that knows nothing (npd_applied_is_known false); free(NULL) is a no-op. */
struct npd_applied *npd_applied_new(void);
void npd_applied_free(struct npd_applied *ap);
/* False before the first discover and after a forget: the kernel must be listed again. */
bool npd_applied_is_known(const struct npd_applied *ap);
/* Replaces the state by what o (borrowed) lists: every chain and set present with unknown
 * content, the hooks known as listed unless one is displaced. */
void npd_applied_discover(struct npd_applied *ap, const struct npd_owned *o);
/* Compares the state with a fresh listing o: a drifted chain or set becomes unknown (a
 * missing one absent, an extra one unknown) and drifted hooks unknown; fn (may be NULL)
 * is told each drift. Returns how many drifted; 0 and nothing done when not known. */
size_t npd_applied_mark_drift(struct npd_applied *ap, const struct npd_owned *o, npd_drift_fn fn,
			      void *ctx);
/* The plan from this state to desired (sealed, borrowed by the plan): chains and sets of
 * unknown content are rewritten when desired, deleted when not, a family with unknown
 * hooks is committed. Returns a new plan (owned). */
struct npd_plan *npd_applied_plan(const struct npd_applied *ap, const struct npd_ruleset *desired);
/* As npd_applied_plan, comparing the entries only of the dirty sets unless all (see
 * npd_differ_plan_dirty): only when the known part is the ruleset the dirty names are
 * relative to (the compile before desired). */
struct npd_plan *npd_applied_plan_dirty(const struct npd_applied *ap,
					const struct npd_ruleset *desired,
					const char (*dirty)[NPD_SET_NAMELEN], size_t n_dirty,
					bool all);
/* A plan from npd_applied_plan(ap, desired) was applied in full: the kernel holds desired
 * (sealed; ownership taken), all of it known. */
void npd_applied_commit(struct npd_applied *ap, struct npd_ruleset *desired);
/* An apply failed, maybe partway: nothing is known until the next discover. */
void npd_applied_forget(struct npd_applied *ap);
/* The part of the state with known content (borrowed, sealed; empty when not known). */
const struct npd_ruleset *npd_applied_known(const struct npd_applied *ap);
/* Where a chain of family, or a set, stands. */
enum npd_applied_state npd_applied_chain_state(const struct npd_applied *ap, uint8_t family,
					       const char *name);
enum npd_applied_state npd_applied_set_state(const struct npd_applied *ap, const char *name);
/* True when the hooks of family are known (those of npd_applied_known). */
bool npd_applied_hooks_known(const struct npd_applied *ap, uint8_t family);

#endif
