/* ruleset.h: the dataplane model: the chains, rules, jump hooks and ipsets a node must
 * have. Built by the compiler, compared by the differ, written by the backends, printed by
 * netpolctl render. Structural (not text), so libiptc can build entries from it directly.
 * A ruleset owns everything in it. */
#ifndef NPD_RULESET_H
#define NPD_RULESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/buf.h"

/* Kernel limits: XT_EXTENSION_MAXNAMELEN (29) and IPSET_MAXNAMELEN (32), NUL included. */
#define NPD_CHAIN_NAMELEN 29
#define NPD_SET_NAMELEN 32
#define NPD_NFLOG_PREFIXLEN 64
#define NPD_CHAIN_PREFIX "NPD-"
#define NPD_SET_PREFIX "npd-"

enum npd_set_type {
	NPD_SET_HASH_IP,      /* pod IPs of a peer selector */
	NPD_SET_HASH_NET,     /* one ipBlock peer: cidr, except entries as nomatch */
	NPD_SET_HASH_IP_PORT, /* named ports: (pod IP, proto:port) */
};

struct npd_set_entry {
	struct npd_addr addr;
	uint8_t prefix; /* HASH_NET: 1..32 / 1..128 (a /0 is two /1 halves) */
	bool nomatch;	/* HASH_NET: an except entry */
	uint8_t proto;	/* HASH_IP_PORT: 6, 17, 132 */
	uint16_t port;	/* HASH_IP_PORT */
};

/* Set entries shared by reference instead of copied: the incremental compiler keeps each
 * pod-derived set's entries in one block and every ruleset it emits holds a reference, so
 * a set no change touched costs no copy however many pods it holds. Read only while more
 * than one holds it (npd_entry_block_own copies it then). */
struct npd_entry_block {
	size_t refs;
	size_t n, cap;
	struct npd_set_entry e[];
};

enum npd_origin_dir {
	NPD_ORIGIN_INGRESS,
	NPD_ORIGIN_EGRESS,
};

struct npd_set {
	char name[NPD_SET_NAMELEN];
	enum npd_set_type type;
	uint8_t family; /* AF_INET or AF_INET6 */
	char *comment;	/* what it stands for, for humans; not part of its identity */
	struct npd_set_entry *entries; /* sorted by npd_set_entry_cmp and unique after seal */
	size_t n_entries, cap;
	/* Non-NULL: entries are block->e, shared and so read only (npd_set_share);
	 * npd_ruleset_add_entry makes the set its own copy first. */
	struct npd_entry_block *block;
	/* The entries are sorted and unique already (the incremental compiler hands its sets
	 * over so): seal need not look at them. npd_ruleset_add_entry clears it. */
	bool sealed;
	/* A local pod group's set: created with ipset's counters extension (part of what the
	 * kernel set must be: one without it is recreated), so each entry, a pod's address,
	 * counts what the group chain's default deny rejected for that pod in direction
	 * count_dir (not part of the identity, like comment). */
	bool counters;
	enum npd_origin_dir count_dir;
};

enum npd_target {
	NPD_T_NONE, /* match only (counts packets) */
	NPD_T_JUMP, /* jump to chain `jump` */
	NPD_T_RETURN,
	NPD_T_ACCEPT,
	NPD_T_DROP,
	NPD_T_REJECT, /* reject_with: icmp(6)-port-unreachable or tcp-reset */
	NPD_T_MARK,   /* --set-xmark set_mark/set_mask */
	NPD_T_NFLOG,  /* --nflog-group nflog_group --nflog-prefix nflog_prefix */
};

#define NPD_CT_NEW 0x1
#define NPD_CT_ESTABLISHED 0x2
#define NPD_CT_RELATED 0x4
#define NPD_CT_INVALID 0x8

/* How a REJECT answers: an ICMP(v6) port unreachable, or a TCP reset (needs proto 6), which
 * kills the sender's socket where an ICMP error on an established connection does not. */
enum npd_reject {
	NPD_REJECT_PORT_UNREACH,
	NPD_REJECT_TCP_RESET,
};

/* Direction bits of a set match: NPD_SETDIR_DST(i) set means dimension i (0-based) is
 * matched against the packet's destination, clear means its source. So "src" is 0, "dst"
 * is 0x1 and "dst,dst" (a hash:ip,port of destination address and port) is 0x3. */
#define NPD_SETDIR_DST(i) (1u << (i))

struct npd_set_match {
	char name[NPD_SET_NAMELEN];
	uint8_t dims; /* number of dimensions (1 or 2) */
	uint8_t dirs; /* NPD_SETDIR_DST(i) bits */
	bool negate;
	/* "! --update-counters": a match of a set with counters leaves the matched entry's
	 * counters alone (a group's dispatch must not count as its deny). */
	bool no_counters;
};

/* One rule: all present matches must hold, then the target applies. Order of matches
 * when printed: src, dst, proto+ports+TCP flags or ICMPv6 type, sets, ctstate, mark, limit,
 * comment. */
struct npd_rule {
	bool has_src, has_dst;
	struct npd_cidr src, dst;
	uint8_t proto;		     /* 0: any */
	uint16_t dport_lo, dport_hi; /* needs proto; lo == hi for one port; 0/0: none */
	bool tcp_not_syn;	     /* needs proto 6: ! --syn, a segment that opens nothing */
	bool has_icmp6_type;	     /* needs proto 58: --icmpv6-type icmp6_type (any code) */
	uint8_t icmp6_type;
	struct npd_set_match sets[2];
	uint8_t n_sets;
	uint8_t ctstate; /* NPD_CT_* bits, 0: no conntrack match */
	bool has_mark;
	bool mark_negate;
	uint32_t mark_value, mark_mask;
	uint32_t limit_per_sec; /* 0: no limit match; else --limit N/sec */
	uint32_t limit_burst;
	char *comment; /* owned, may be NULL; <= 255 bytes */
	enum npd_target target;
	char jump[NPD_CHAIN_NAMELEN];
	uint32_t set_mark, set_mask;
	enum npd_reject reject_with;
	uint16_t nflog_group;
	char *nflog_prefix; /* owned, may be NULL; < NPD_NFLOG_PREFIXLEN */
	/* What the rule counts for (see struct npd_origin): NPD_ORIGIN_RULE_NONE, the index
	 * in the policy's ingress or egress list (policy chains), or NPD_ORIGIN_RULE_DENY
	 * (the default-deny reject of a pod chain). Not part of the rule's identity. */
	int32_t origin_rule;
};

#define NPD_ORIGIN_RULE_NONE (-1)
#define NPD_ORIGIN_RULE_DENY (-2)

/* Where a chain comes from, so that a kernel rule (family, chain, rule index) can be named
 * by what an operator wrote: a policy chain counts for (namespace, policy, direction, rule
 * index in the spec list); a pod's default deny for (namespace, pod, direction). The
 * compiler counts the latter with the entries of the counted sets of isolated local pods
 * (npd_set.counters), so no chain it emits carries NPD_ORIGIN_POD. */
enum npd_origin_kind {
	NPD_ORIGIN_NONE,   /* plumbing: NPD-FORWARD, hooks, group chains, the deny tails */
	NPD_ORIGIN_POLICY, /* NPD-PI-/NPD-PE-: ns, name = the policy */
	NPD_ORIGIN_POD,	   /* a pod's default deny: ns, name = the local pod */
};

struct npd_origin {
	enum npd_origin_kind kind;
	enum npd_origin_dir dir;
	char *ns, *name; /* owned by the chain; NULL for NPD_ORIGIN_NONE */
};

struct npd_chain {
	char name[NPD_CHAIN_NAMELEN];
	struct npd_rule *rules;
	size_t n_rules, cap;
	uint64_t hash; /* content hash set by npd_ruleset_seal (never 0 once sealed); whoever
			* changes the rules of a chain afterwards must reset it to 0 */
	struct npd_origin origin; /* set by the compiler; NONE in rulesets read back */
	/* NULL: the rules are this chain's alone. Else they are shared with other chains
	 * (npd_chain_share) and this counts their holders: nobody changes them then, and
	 * npd_ruleset_add_rule and npd_chain_clear_rules copy them first. */
	size_t *shared;
};

/* A jump from a built-in chain (FORWARD, INPUT, OUTPUT) to one of ours, kept at the top. */
struct npd_hook {
	char builtin[16];
	char chain[NPD_CHAIN_NAMELEN];
};

struct npd_table {
	uint8_t family;
	struct npd_chain *chains; /* sorted by name after seal */
	size_t n_chains, cap;
	struct npd_hook hooks[4];
	size_t n_hooks;
};

struct npd_ruleset {
	struct npd_table v4, v6;
	struct npd_set *sets; /* both families, sorted by name after seal */
	size_t n_sets, cap;
};

struct npd_ruleset *npd_ruleset_new(void);
void npd_ruleset_free(struct npd_ruleset *rs);
struct npd_table *npd_ruleset_table(struct npd_ruleset *rs, uint8_t family);
const struct npd_table *npd_ruleset_get_table(const struct npd_ruleset *rs, uint8_t family);
/* Adds an empty chain (name copied) and returns it; the pointer is valid until the next
 * add_chain on that table. */
struct npd_chain *npd_ruleset_add_chain(struct npd_table *t, const char *name);
/* Adds a deep copy of src (rules, strings, origin) and returns it, valid as add_chain's. A
 * sealed src's hash stays valid for the copy, so seal does not hash it again. */
struct npd_chain *npd_ruleset_add_chain_copy(struct npd_table *t, const struct npd_chain *src);
/* Makes dst (uninitialised storage) a deep copy of src, hash included; npd_chain_fini frees
 * what it owns. */
void npd_chain_copy(struct npd_chain *dst, const struct npd_chain *src);
/* Makes dst (uninitialised storage) hold src's rules, name and hash without copying the
 * rules: both share them, read-only, until either changes them. */
void npd_chain_share(struct npd_chain *dst, struct npd_chain *src);
/* Adds a chain sharing src's rules (npd_chain_share) and returns it, valid as add_chain's. */
struct npd_chain *npd_ruleset_add_chain_share(struct npd_table *t, struct npd_chain *src);
/* Removes every rule of c (hash reset). */
void npd_chain_clear_rules(struct npd_chain *c);
/* Sets c's hash, as npd_ruleset_seal does, if it has none. */
void npd_chain_seal(struct npd_chain *c);
void npd_chain_fini(struct npd_chain *c);
/* Records where chain c comes from (strings copied). */
void npd_chain_set_origin(struct npd_chain *c, enum npd_origin_kind kind, enum npd_origin_dir dir,
			  const char *ns, const char *name);
/* What rule `index` of chain c counts for: returns true and fills *out (strings borrowed from
 * c) and *spec_rule (the index in the policy's list, or NPD_ORIGIN_RULE_DENY) when the rule
 * admits for a policy rule or is a pod's default deny; false for plumbing rules. */
bool npd_chain_rule_origin(const struct npd_chain *c, size_t index, struct npd_origin *out,
			   int32_t *spec_rule);
/* The same by kernel coordinates: family (AF_INET, AF_INET6), chain name, rule index. */
bool npd_ruleset_find_origin(const struct npd_ruleset *rs, uint8_t family, const char *chain,
			     size_t index, struct npd_origin *out, int32_t *spec_rule);
/* "ingress" or "egress". */
const char *npd_origin_dir_name(enum npd_origin_dir dir);
/* Appends a copy of r (strings duplicated) and returns the stored rule. */
struct npd_rule *npd_ruleset_add_rule(struct npd_chain *c, const struct npd_rule *r);
void npd_ruleset_add_hook(struct npd_table *t, const char *builtin, const char *chain);
struct npd_set *npd_ruleset_add_set(struct npd_ruleset *rs, const char *name,
				    enum npd_set_type type, uint8_t family, const char *comment);
void npd_ruleset_add_entry(struct npd_set *set, const struct npd_set_entry *e);
/* Makes b's entries, sorted and unique, set's entries by reference (set had none). */
void npd_set_share(struct npd_set *set, struct npd_entry_block *b);

/* A block with room for cap entries, held once. */
struct npd_entry_block *npd_entry_block_new(size_t cap);
void npd_entry_block_unref(struct npd_entry_block *b); /* NULL: nothing */
/* Makes *bp held by its caller alone (a copy if it was shared) with room for `more` entries
 * beyond its n; *bp may be NULL (a new block). */
void npd_entry_block_own(struct npd_entry_block **bp, size_t more);
/* Sorts chains, sets and set entries, drops duplicate entries, computes chain hashes.
 * Must be called before lookups, diffing or printing. */
void npd_ruleset_seal(struct npd_ruleset *rs);
const struct npd_chain *npd_ruleset_find_chain(const struct npd_table *t, const char *name);
/* The same, for a chain its caller may share or change. */
struct npd_chain *npd_ruleset_find_chain_mut(struct npd_table *t, const char *name);
const struct npd_set *npd_ruleset_find_set(const struct npd_ruleset *rs, const char *name);
/* Remove one chain or set (and free what it owns) from a sealed ruleset, keeping it sealed.
 * Return 0, or -ENOENT when there is none of that name. */
int npd_ruleset_del_chain(struct npd_table *t, const char *name);
int npd_ruleset_del_set(struct npd_ruleset *rs, const char *name);
/* True when a and b hold the same hooks in any order: each built-in chain has at most one
 * hook of ours, so their order carries nothing. */
bool npd_hooks_equal(const struct npd_hook *a, size_t na, const struct npd_hook *b, size_t nb);
int npd_set_entry_cmp(const struct npd_set_entry *a, const struct npd_set_entry *b);
bool npd_rule_equal(const struct npd_rule *a, const struct npd_rule *b);
/* Makes dst (uninitialised storage) a copy of src with its own strings. */
void npd_rule_copy(struct npd_rule *dst, const struct npd_rule *src);
void npd_rule_fini(struct npd_rule *r);
/* Rules in all chains of both tables, and entries in all sets. */
size_t npd_ruleset_rule_count(const struct npd_ruleset *rs);
size_t npd_ruleset_entry_count(const struct npd_ruleset *rs);

/* iptables-restore text for one table ("*filter" ... "COMMIT"), --noflush style: our
 * chains declared, flushed with -F and refilled; hooks as -I BUILTIN 1 -j CHAIN. */
void npd_ruleset_format_table(const struct npd_table *t, struct npd_buf *out);
/* Appends one rule as iptables arguments (after "-A CHAIN "), no newline. */
void npd_rule_format(const struct npd_rule *r, uint8_t family, struct npd_buf *out);
/* `ipset restore` text creating (-exist), flushing and filling every set of family
 * (AF_INET or AF_INET6; 0: both), each preceded by a "# NAME: comment" line (ipset
 * restore skips lines starting with '#'). */
void npd_ruleset_format_sets(const struct npd_ruleset *rs, uint8_t family, struct npd_buf *out);
void npd_set_entry_format(const struct npd_set *set, const struct npd_set_entry *e,
			  struct npd_buf *out);
const char *npd_set_type_name(enum npd_set_type t); /* "hash:ip", "hash:net", "hash:ip,port" */

#endif
