/* compile_state_int.h: what compile_state.c (the sets carried between compiles and the
 * indexes that find the ones an address can move) and compile_incr.c (the driver that
 * feeds them a compile's store changes) share: the state itself and the few operations
 * the driver calls. */
#ifndef NPD_COMPILE_STATE_INT_H
#define NPD_COMPILE_STATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/map.h"
#include "npd/ruleset.h"
#include "npd/store.h"

struct cset;
struct npd_cc_kept_local;

struct cvec {
	struct cset **v;
	size_t n, cap;
};

struct npd_compile_state {
	bool built;
	char *node;
	uint64_t gen; /* store generation last compiled */
	uint64_t epoch, stamp;
	struct npd_map sets;	/* identity -> struct cset */
	struct npd_map anchors; /* "p\x1fkey\x1fvalue", "n\x1fns", "q\x1fkey\x1fvalue" -> cvec */
	struct cvec wide;	/* sets no anchor bounds: re-tested for every address */
	struct npd_map rev;	/* formatted address -> cvec of the sets holding it */
	struct npd_map locals;	/* "ns\x1fname" of a pod whose nodeName is node -> its
				 * struct npd_cc_kept_local */
	struct npd_cc_kept_local **lv; /* the same in store order, unless lv_stale */
	size_t n_lv, cap_lv;
	bool lv_stale;
	struct npd_map local_addrs; /* formatted address -> how many kept local pods hold it */
	bool owned_stale_all;	    /* a change moved one: owned bits are found again */
	char (*dirty)[NPD_SET_NAMELEN];
	size_t n_dirty, cap_dirty;
	bool dirty_all;
	struct npd_buf key;
	/* compile_chains.c: what the last compile emitted, copied while nothing changes it */
	struct npd_map cpols;	      /* "ns\x1fname" of a policy -> its chains */
	struct npd_map gnames;	      /* group identity -> struct npd_cc_gname */
	struct npd_compile_opts opts; /* the last compile's, node_name NULL */
	bool have_opts;
};

/* Forgets every set, index entry and local pod, and the node: the next compile must be a
 * full one. The maps stay initialised. */
void npd_compile_state_reset(struct npd_compile_state *st);
/* Re-tests address a (its owner in s, if any) in every set holding it and every set its
 * owner can join, marking the sets it changes dirty for this epoch. */
void npd_compile_state_retest_addr(struct npd_compile_state *st, const struct npd_store *s,
				   const struct npd_addr *a);
/* npd_compile_state_retest_addr for each address of pod (NULL: none). */
void npd_compile_state_retest_pod(struct npd_compile_state *st, const struct npd_store *s,
				  const struct npd_pod *pod);
/* Tells the state that pod ns/name (NULL: gone) changed: it is kept, re-read and analysed
 * anew by the next compile if its nodeName is the node, else forgotten. */
void npd_compile_state_track_local(struct npd_compile_state *st, const struct npd_pod *pod,
				   const char *ns, const char *name);
/* Marks every kept local pod of namespace ns for analysis anew (a policy there changed). */
void npd_compile_state_dirty_locals_in(struct npd_compile_state *st, const char *ns);
/* Drops the sets the compile of this epoch did not emit. */
void npd_compile_state_sweep(struct npd_compile_state *st);
/* Writes the state's key of pod or policy ns/name, "ns\x1fname", into b. */
void npd_compile_state_key(struct npd_buf *b, const char *ns, const char *name);

/* compile_chains.c: forgets every kept chain (the maps stay initialised). */
void npd_compile_chains_reset(struct npd_compile_state *st);
/* Forgets the chains of policy ns/name: the compile of this epoch builds them anew. */
void npd_compile_chains_dirty_policy(struct npd_compile_state *st, const char *ns,
				     const char *name);

#endif
