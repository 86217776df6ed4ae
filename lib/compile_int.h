/* compile_int.h: what compile.c (local pods, NPD-FORWARD), compile_groups.c (the local pod
 * groups' sets and chains), compile_policy.c (policy chains), compile_sets.c (the sets
 * peers become) and compile_chains.c (the policy chains kept between compiles) share: the compile's working state and its helpers; then compile.c's
 * helpers that its unit test calls (see testable_int.h). */
#ifndef NPD_COMPILE_INT_H
#define NPD_COMPILE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/map.h"
#include "npd/ruleset.h"
#include "npd/store.h"
#include "testable_int.h"

/* How building a policy chain made one of the sets its rules match, so that a copy of the
 * chain makes it again without building the chain (compile_policy.c). */
struct npd_cc_setref {
	char *id;      /* its identity */
	char *comment; /* the comment this policy gives it, should it make it first */
	char name[NPD_SET_NAMELEN];
	enum npd_set_type type;
	bool first;	  /* the first set of its rule (one peer x port) */
	const char *what; /* static "from", "to" or "ports": with ri and i, the rule's path */
	size_t ri, i;
	struct npd_set_entry *e; /* NPD_SET_HASH_NET: its entries (they follow the policy) */
	size_t n;
};

/* A policy chain as the last compile built it, with the sets it matches. */
struct npd_cc_kept {
	struct npd_chain ch;
	struct npd_cc_setref *refs;
	size_t n_refs;
};

/* A policy chain a compile through a state emitted: built, or copied from what it kept. */
struct npd_cc_emitted {
	const struct npd_policy *pol;
	int d;
	uint8_t family;
	bool copied;
	char name[NPD_CHAIN_NAMELEN];
	size_t ref_at; /* built: its sets are refs[ref_at] up to the next built one's */
};

/* A local pod and the policies of its namespace that select it, per direction (0:
 * ingress, 1: egress), and its group in each direction (index in npd_cc.groups; SIZE_MAX:
 * not isolated that way). */
struct npd_cc_gname;

struct npd_cc_local {
	const struct npd_pod *pod;
	const struct npd_policy **pols[2];
	size_t n_pols[2], cap_pols[2];
	size_t group[2];
	uint32_t owned;	    /* bit j (j < 32): pod->ips[j] is the pod's, not a newer pod's */
	const char *gid[2]; /* its group's identity per direction when known, else NULL */
	bool borrowed;	    /* pols and gid are the state's (struct npd_cc_kept_local) */
};

/* A local pod as the compile that last read it found it, kept by the incremental state
 * while no logged change to the pod or to a policy of its namespace can alter that: l holds
 * the policies selecting it per direction (owned here) and gid its groups' identities.
 * l.pod is valid unless dirty; ns and name are its key's, owned. */
struct npd_cc_kept_local {
	struct npd_cc_local l;
	char *gid[2];
	char *ns, *name;
	bool dirty;
	struct npd_addr *ips; /* the pod's addresses when last analysed */
	size_t n_ips;
	bool owned_stale; /* l.owned is to be found again */
};

/* A local pod group: for one direction, one list of policies selecting local pods (all
 * of one namespace, in store order); its members, the local pods that list selects, share
 * its chain, and its set of their addresses sends their packets there (compile_groups.c). */
struct npd_cc_group {
	int d;
	const struct npd_policy *const *pols; /* the first member's list (borrowed) */
	size_t n_pols;
	char *id; /* its identity, which its chain and set names hash */
	/* Borrowed from the state's struct npd_cc_gname, or from own_names without one: */
	struct npd_cc_gname *names;
	const char *what;			    /* "NS pods selected for DIR by P1, P2" */
	const char (*pol_chain)[NPD_CHAIN_NAMELEN]; /* the chain names of pols */
	struct npd_cc_gname *own_names;
	char chain[NPD_CHAIN_NAMELEN]; /* NPD-I-/NPD-E- */
	char set[NPD_SET_NAMELEN];     /* in the family being compiled; "": no member there */
	size_t *members;	       /* indexes in npd_cc.locals */
	size_t n_members, cap_members;
};

/* One compile's state: its inputs (borrowed) and the ruleset being built. */
struct npd_cc {
	struct npd_compile_state *st; /* NULL: a plain full compile */
	const struct npd_store *s;
	const struct npd_compile_opts *o;
	struct npd_diags *d;
	struct npd_ruleset *rs;
	uint8_t family;		 /* the family being compiled */
	struct npd_map sets;	 /* set identity -> index + 1 in rs->sets */
	struct npd_map chains;	 /* policy chain names emitted for the current family */
	struct npd_map reported; /* policies over a bound ("ns/name"), already reported to d */
	bool over;		 /* the policy chain being emitted uses a set over the bound */
	struct npd_buf over_msg; /* then: the set, for the diagnostic */
	struct npd_buf over_path;
	struct npd_cc_local *locals;
	size_t n_locals, cap_locals;
	struct npd_cc_group *groups;
	size_t n_groups, cap_groups;
	struct npd_map group_ids;	/* group identity -> index + 1 in groups */
	struct npd_buf id, tmp;		/* scratch: a set's identity, any text */
	struct npd_cc_emitted *emitted; /* with st: the policy chains, in emission order */
	size_t n_emitted, cap_emitted;
	struct npd_cc_setref *refs; /* with st: how the built ones made their sets */
	size_t n_refs, cap_refs;
};

/* compile_state.c: the local pods the state knows (pods whose nodeName is the node) in
 * store order (namespace, then name), each dirty one given its pod as the store has it
 * now, for the caller to analyse anew; the array is the state's, valid until the next
 * compile. */
struct npd_cc_kept_local *const *npd_compile_state_locals(struct npd_compile_state *st,
							  const struct npd_store *s, size_t *n);
/* compile_state.c: records pod's addresses as kept local pod k's (marking its owned bits
 * stale), so that a change to a pod claiming or releasing one makes every kept local pod
 * find its owned bits again (owned_stale_all). */
void npd_compile_state_local_addrs(struct npd_compile_state *st, struct npd_cc_kept_local *k,
				   const struct npd_pod *pod);
/* compile_groups.c: writes the identity of local pod lp's group in direction d into b. */
void npd_compile_group_id(struct npd_buf *b, const struct npd_cc_local *lp, int d);

/* A copy of s cut to the 255 bytes of a rule comment. */
char *npd_compile_comment(const char *s);
/* compile_policy.c: adds the chain of pol for direction d (0: ingress, 1: egress) and
 * c->family, named name, with the sets its rules match; once per family and compile. */
void npd_compile_policy_chain(struct npd_cc *c, const struct npd_policy *pol, int d,
			      const char *name);

/* A well-scattered 64-bit hash of p[0..n) for chain and set names. */
uint64_t npd_compile_name_hash(const char *p, size_t n);
/* Appends a namespace or object name to an identity, percent-encoding every byte outside
 * [A-Za-z0-9._-], so the separators around it never occur inside (valid names unchanged). */
void npd_compile_add_name(struct npd_buf *b, const char *s);
/* True when pod runs on node and can be selected (has an IP, is not finished). */
bool npd_compile_pod_is_local(const struct npd_pod *pod, const char *node);
/* True when the store says pod owns a: a reused IP follows the newest pod claiming it. */
bool npd_compile_pod_owns_ip(const struct npd_store *s, const struct npd_pod *pod,
			     const struct npd_addr *a);

/* Which pods a pod-derived set holds (all borrowed): pods of the namespaces ns_sel matches
 * (NULL: of namespace ns only) whose labels pod_sel matches (NULL: all); only local ones
 * when local_only; resolved to port_name/proto (hash:ip,port) when set; only addresses
 * inside block (an ipBlock peer) when set. */
struct npd_cc_pick {
	const struct npd_selector *ns_sel;
	const char *ns;
	const struct npd_selector *pod_sel;
	const char *port_name;
	enum npd_proto proto;
	bool local_only;
	const struct npd_peer *block;
};

typedef void (*npd_compile_entry_fn)(const struct npd_set_entry *e, void *arg);

/* True when pod's namespace and labels are what p selects. */
bool npd_compile_pick_matches(const struct npd_store *s, const struct npd_cc_pick *p,
			      const struct npd_pod *pod);
/* True when address a of pod (which p selects) makes an entry of a set of family for p on
 * node; fills *e. */
bool npd_compile_pick_entry(const struct npd_store *s, const char *node, uint8_t family,
			    const struct npd_cc_pick *p, const struct npd_pod *pod,
			    const struct npd_addr *a, struct npd_set_entry *e);
/* Calls fn with every entry of the set of family for p on node, in no order. */
void npd_compile_pick_walk(const struct npd_store *s, const char *node, uint8_t family,
			   const struct npd_cc_pick *p, npd_compile_entry_fn fn, void *arg);

/* compile_state.c: fills set (new, empty, identity in c->id) from the state's copy of its
 * members, computing them by p and keeping them on first use (p may be NULL only for a set
 * the last compile emitted). */
void npd_compile_state_fill(struct npd_cc *c, struct npd_set *set, const struct npd_cc_pick *p);
/* Tells the differ that the set named name, which the state does not keep (a group's),
 * may differ from what was applied. */
void npd_compile_state_dirty_name(struct npd_compile_state *st, const char *name);
/* Builds the ruleset with c->st set: compile.c's full pass over the state's caches. */
int npd_compile_run(struct npd_compile_state *st, const struct npd_store *s,
		    const struct npd_compile_opts *o, struct npd_diags *d,
		    struct npd_ruleset **out);

/* The set of c->family for a selector peer of pol, an ipBlock peer, an ingress named port
 * (local pods pol selects) or an egress named port (pods peer selects, all pods without
 * a peer), created and filled on first use. The pointer is valid until the next set is
 * added: use it at once. */
const struct npd_set *npd_compile_selector_set(struct npd_cc *c, const struct npd_policy *pol,
					       const struct npd_peer *peer);
const struct npd_set *npd_compile_ipblock_set(struct npd_cc *c, const struct npd_peer *peer);
const struct npd_set *npd_compile_ingress_port_set(struct npd_cc *c, const struct npd_policy *pol,
						   const struct npd_port *port);
const struct npd_set *npd_compile_egress_port_set(struct npd_cc *c, const struct npd_policy *pol,
						  const struct npd_peer *peer,
						  const struct npd_port *port);
/* The set ref describes, for a copied policy chain, made as building made it (members from
 * the state, which holds every set the last compile emitted); same validity. */
const struct npd_set *npd_compile_kept_set(struct npd_cc *c, const struct npd_cc_setref *ref);

/* compile.c: the stable name of pol's chain for direction d (0: ingress), NPD-PI-/NPD-PE-;
 * tmp is scratch space. */
void npd_compile_policy_chain_name(char out[NPD_CHAIN_NAMELEN], const struct npd_policy *pol, int d,
				   struct npd_buf *tmp);

/* compile_groups.c: frees a struct npd_cc_gname (a map value of the state's gnames). */
void npd_compile_gname_free(void *p);
/* The epoch of the last compile that used a struct npd_cc_gname. */
uint64_t npd_compile_gname_used(const void *p);
/* compile_groups.c: puts local pod c->locals[i] into its group for direction d (0:
 * ingress), made on first use; returns the group's index in c->groups. */
size_t npd_compile_join_group(struct npd_cc *c, size_t i, int d);
/* Emits, for c->family, every group's set, the rules of fwd (NPD-FORWARD, filled last by
 * this) that send isolated pods' packets to the dispatch chains, those chains, the group's
 * chain and the policy chains that chain jumps to. */
void npd_compile_groups(struct npd_cc *c, struct npd_chain *fwd);

/* compile_chains.c: the chains kept between compiles through c->st (see there). First in
 * a compile: forgets them all when the options differ from the last compile's. */
void npd_compile_chains_begin(struct npd_cc *c);
/* The chain of pol for direction d (0: ingress) and c->family as the last compile built
 * it, when nothing since can change it; else NULL. Valid until npd_compile_chains_keep. */
struct npd_cc_kept *npd_compile_chains_policy(struct npd_cc *c, const struct npd_policy *pol,
					      int d);
/* Records that the chain name of pol for d and c->family is emitted, copied or built (its
 * sets then follow in c->refs). */
void npd_compile_chains_emitted(struct npd_cc *c, const struct npd_policy *pol, int d,
				const char *name, bool copied);
/* Last in a compile, on the sealed ruleset: keeps what was built for the next compile and
 * forgets what was not emitted (policy chains, group names); frees c's records. */
void npd_compile_chains_keep(struct npd_cc *c);

/* compile_limit.c: the bounds on one policy (see there). True, reported once, when the
 * rules of one direction compile to more rules than the options allow. */
bool npd_compile_rules_over(struct npd_cc *c, const struct npd_policy *pol,
			    const struct npd_policy_rule *rules, size_t n);
/* Notes that a rule at path (dir, rule ri, peer pi or port qi) of the chain being emitted
 * matches set, whose members may exceed the bound; then c->over is true. */
void npd_compile_note_set(struct npd_cc *c, const struct npd_set *set, const char *dir, size_t ri,
			  const char *what, size_t i);
/* Ends the chain ch of pol: when a set was over, empties it and reports pol once. */
void npd_compile_end_chain(struct npd_cc *c, const struct npd_policy *pol, struct npd_chain *ch);
/* Before the seal: empties the chains of every policy over a bound in both families. */
void npd_compile_drop_over(struct npd_cc *c);
/* After the seal: removes the sets no rule references (only those of such policies). */
void npd_compile_drop_unused_sets(struct npd_cc *c);
/* True when policy ns/name was reported over a bound in this compile. */
bool npd_compile_is_reported(struct npd_cc *c, const char *ns, const char *name);

#ifdef NPD_TESTING
/* Writes the stable chain name of kind ("I", "E", "PI", "PE") for ns/name into out:
 * "NPD-<kind>-<16 hex digits of the identity's hash>". tmp is scratch space. */
void chain_name(char out[NPD_CHAIN_NAMELEN], const char *kind, const char *ns, const char *name,
		struct npd_buf *tmp);
#endif

#endif
