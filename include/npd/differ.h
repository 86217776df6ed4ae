/* differ.h: compares the desired ruleset with what was last applied and produces the
 * smallest plan: set creations, set membership changes, one table commit per family whose
 * chains or hooks changed, then set destructions. Pure; the plan borrows from desired. */
#ifndef NPD_DIFFER_H
#define NPD_DIFFER_H

#include <stdbool.h>
#include <stddef.h>

#include "npd/buf.h"
#include "npd/ruleset.h"

enum npd_set_op_kind {
	/* create the set filled with all of set->entries (atomic swap if it exists: also used
	 * when an existing set's content cannot be changed in place) */
	NPD_SETOP_CREATE,
	NPD_SETOP_UPDATE,  /* add `add`, then delete `del` entries in an existing set */
	NPD_SETOP_DESTROY, /* destroy set `name` (after the table commits) */
};

struct npd_set_op {
	enum npd_set_op_kind kind;
	const struct npd_set *set; /* CREATE/UPDATE: borrowed from desired */
	char name[NPD_SET_NAMELEN];
	struct npd_set_entry *add; /* owned */
	size_t n_add;
	struct npd_set_entry *del; /* owned */
	size_t n_del;
};

struct npd_table_change {
	uint8_t family;
	bool commit;			 /* false: nothing to write for this family */
	const struct npd_table *desired; /* hooks to ensure, chain lookup */
	const struct npd_chain **write;	 /* chains to create or replace (borrowed) */
	size_t n_write;
	char (*del)[NPD_CHAIN_NAMELEN]; /* chains of ours to delete */
	size_t n_del;
};

struct npd_plan {
	struct npd_set_op *set_ops; /* CREATE and UPDATE first, in name order; DESTROY last */
	size_t n_set_ops;
	struct npd_table_change v4, v6;
};

/* applied is what the kernel holds (sealed, all of it known); NULL: nothing is known, so
 * everything is written. Returns a new plan (owned). Objects present with unknown content
 * are the applied-state module's to add (npd_applied_plan). */
struct npd_plan *npd_differ_plan(const struct npd_ruleset *applied,
				 const struct npd_ruleset *desired);
/* As npd_differ_plan, but unless all, a set both hold whose name is not among the n_dirty
 * names is taken as unchanged without comparing its entries: for a desired ruleset whose
 * compiler says which sets can differ from applied (npd_compile_state_dirty_sets). */
struct npd_plan *npd_differ_plan_dirty(const struct npd_ruleset *applied,
				       const struct npd_ruleset *desired,
				       const char (*dirty)[NPD_SET_NAMELEN], size_t n_dirty,
				       bool all);
/* Extend a plan with an object the kernel holds whose content is unknown: a chain of ours
 * to delete (name copied), a commit to make for the family (its hooks are unknown), a set
 * to destroy after the commits (name copied). */
void npd_plan_add_chain_del(struct npd_plan *p, uint8_t family, const char *name);
void npd_plan_add_commit(struct npd_plan *p, uint8_t family);
void npd_plan_add_set_destroy(struct npd_plan *p, const char *name);
void npd_plan_free(struct npd_plan *p);
bool npd_plan_is_empty(const struct npd_plan *p);
/* False only when applying p can admit more but deny nothing that was admitted: no table
 * commit, and no set op but updates adding entries that match (a nomatch entry is an
 * ipBlock except, which denies) to sets other than a local pod group's (joining one
 * isolates the address). Peer sets only ever admit, so then no established flow can have
 * lost its verdict. */
bool npd_plan_can_deny(const struct npd_plan *p);
/* True when p's commit for family rewrites or deletes chain: its kernel counters restart
 * from zero (or go) with that commit, while those of every other chain carry on. */
bool npd_plan_resets_chain(const struct npd_plan *p, uint8_t family, const char *chain);
/* Human-readable summary, one line: "sets +2 ~5 -1 entries +7 -3 v4 commit write=3 del=0
 * v6 nocommit write=0 del=0" (created, updated, destroyed sets; entries added, deleted). */
void npd_plan_format(const struct npd_plan *p, struct npd_buf *out);

#endif
