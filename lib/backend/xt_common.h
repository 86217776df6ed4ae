/* xt_common.h: what the two xtables backends (legacy through libiptc, nft through
 * iptables-nft-restore) share once they have read a filter table: which names are ours,
 * what of ours the table holds, and the hook layout (which jumps into built-in chains to
 * delete and insert so ours are on top and stale ones go). Pure: no kernel, no I/O; each
 * backend reads the table into a struct npd_xt_table and performs the layout its own way.
 * Not a public contract. */
#ifndef NPD_BACKEND_XT_COMMON_H
#define NPD_BACKEND_XT_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/backend.h"
#include "npd/mem.h"

/* At most this many hooks of ours in one built-in chain (the size of npd_table.hooks). */
#define NPD_XT_MAX_HOOKS NPD_ARRAY_SIZE(((struct npd_table *)0)->hooks)

/* One rule of a built-in chain as read. Strings are borrowed from the backend's read. */
struct npd_xt_rule {
	const char *target; /* jump target or verdict; NULL or "" when none */
	bool plain;	    /* the rule is the jump alone: no match, no address, no option */
	const char *spec;   /* the backend's text of the rule (nft: for -D), may be NULL */
};

/* One chain as read: ours (NPD-), built-in, or another writer's. */
struct npd_xt_chain {
	const char *name; /* borrowed */
	bool builtin;
	size_t n_rules;		   /* counted for ours and built-ins only */
	struct npd_xt_rule *rules; /* built-in chains only: their rules in order; owned */
	size_t cap_rules;
};

/* A filter table of one family as read; npd_xt_table_fini releases what it owns. */
struct npd_xt_table {
	uint8_t family;
	struct npd_xt_chain *chains;
	size_t n_chains, cap_chains;
};

/* What to do to one built-in chain so that it starts with jumps to ins[0..n_ins) in that
 * order and holds no other jump to a chain of ours. */
struct npd_hook_layout {
	const char *builtin;		   /* borrowed from the table */
	size_t *del;			   /* owned: positions (0-based, ascending) to delete */
	size_t n_del;			   /* ... all of them rules of ours */
	const char *ins[NPD_XT_MAX_HOOKS]; /* borrowed from desired: to insert, top first */
	size_t n_ins;
};

/* True when a chain name is ours (NPD- prefix); NULL is not. */
bool npd_xt_is_ours(const char *chain);

void npd_xt_table_init(struct npd_xt_table *t, uint8_t family);
void npd_xt_table_fini(struct npd_xt_table *t);
/* Appends a chain (name borrowed; must outlive t) and returns it. */
struct npd_xt_chain *npd_xt_table_add_chain(struct npd_xt_table *t, const char *name, bool builtin);
/* Appends a rule to built-in chain c (strings borrowed) and counts it. */
void npd_xt_chain_add_rule(struct npd_xt_chain *c, const char *target, bool plain,
			   const char *spec);
/* The chain named name in t, or NULL. */
const struct npd_xt_chain *npd_xt_table_find(const struct npd_xt_table *t, const char *name);

/* True when t holds a chain of ours or a jump to one. */
bool npd_xt_has_ours(const struct npd_xt_table *t);
/* Appends to o what of ours t holds: our chains with their rule counts (cap_chains: the
 * capacity of o->chains, shared across families) and, in o's part for t's family, our hooks
 * wherever they stand, marking it displaced when another rule stands above one of them. */
void npd_xt_list_owned(const struct npd_xt_table *t, struct npd_owned *o, size_t *cap_chains);

/* Lays out the hooks of every built-in chain of t: the hooks of desired (NULL: none) for it on
 * top, every other jump to a chain of ours gone. Returns in *out (owned, free with
 * npd_hook_layouts_free) one layout per built-in chain that needs a change, in t's order; a
 * chain already right gets none, so an unchanged table is left unwritten. Returns how many. */
size_t npd_xt_layout_hooks(const struct npd_xt_table *t, const struct npd_table *desired,
			   struct npd_hook_layout **out);
void npd_hook_layouts_free(struct npd_hook_layout *layouts, size_t n);

#endif
