/* tu_backend.h: kernel fixtures shared by the check_backend_* suites: a private network
 * namespace, shell and save-dump readers, ruleset builders, and the backend calls each
 * test repeats, for whichever table backend (ops table) the suite exercises. */
#ifndef NPD_TU_BACKEND_H
#define NPD_TU_BACKEND_H

#include <check.h>
#include <stdbool.h>
#include <stdint.h>

#include "npd/addr.h"
#include "npd/backend.h"
#include "npd/ruleset.h"
#include "testutil.h"

/* Moves the calling process into a new network namespace. */
void tu_enter_netns(void);
/* stdout of a shell command (test-only: fixed strings, no input from outside). */
char *tu_sh(const char *cmd);
/* The "-A"/":" lines of `tool -t filter` (a save command) that mention pattern, or every
 * table line when pattern is NULL (the "#" lines carry a timestamp). */
char *tu_save_lines(const char *tool, const char *pattern);
struct npd_cidr tu_cidr(const char *s);
struct npd_set_entry tu_entry(const char *addr, uint8_t prefix, bool nomatch, uint8_t proto,
			      uint16_t port);
void tu_add_entry(struct npd_set *s, const char *addr, uint8_t prefix, bool nomatch, uint8_t proto,
		  uint16_t port);
struct npd_set_match tu_setm(const char *name, uint8_t dims, uint8_t dirs, bool negate);
/* Fills table t (family fam) with one chain using every match and target, a second chain
 * it jumps to, and the FORWARD hook; adds the sets those rules need to rs. */
void tu_build_full(struct npd_ruleset *rs, uint8_t fam);
/* The v4 "NPD-T-" lines a save command prints for tu_build_full(rs, AF_INET). */
extern const char *const tu_expect_v4;
/* A change writing every chain of t (write must hold t->n_chains pointers). */
struct npd_table_change tu_change_all(const struct npd_table *t, const struct npd_chain **write);
struct npd_backend *tu_open_backend(const struct npd_backend_ops *ops,
				    const struct npd_backend_opts *opts);
/* The ipset set backend, open (close it with npd_set_backend_ipset.close). */
struct npd_set_backend *tu_open_sets(void);
/* Creates every set of rs through the ipset set backend. */
void tu_create_sets(const struct npd_ruleset *rs);
/* tu_build_full for v4 (and v6 when v6) into rs, sealed; then a backend opened with opts
 * (may be NULL) and every set of rs created in it. */
struct npd_backend *tu_open_full(const struct npd_backend_ops *ops, struct npd_ruleset *rs, bool v6,
				 const struct npd_backend_opts *opts);
void tu_commit_table(const struct npd_backend_ops *ops, struct npd_backend *b,
		     const struct npd_table *t);
/* Commits tu_build_full's v4 table and checks read_counters reports each of NPD-T-A's rules
 * once, in order, and the one rule of NPD-T-B; limited to a plan rewriting NPD-T-B, only
 * that rule; to a plan committing no chain, nothing. */
void tu_check_counters_per_rule(const struct npd_backend_ops *ops);
/* Real packets through a group's two kinds of match, in both families, committed by ops in
 * a new namespace: a set match with ! --update-counters matches (its rule counts every
 * packet) but leaves the entry's counters alone, one without it counts on the entry, so the
 * entry holds exactly what the second rule saw (read by the ipset backend's
 * read_counters). */
void tu_check_entry_counters(const struct npd_backend_ops *ops);
/* The command-line tools of one table backend, for the checks its suites share. */
struct tu_tools {
	const struct npd_backend_ops *ops;
	const char *save4, *save6; /* "iptables-legacy-save", "ip6tables-legacy-save" */
	const char *cmd4, *cmd6;   /* "iptables-legacy -w", "ip6tables-legacy -w" */
};
/* tu_build_full for both families into rs, committed in a new namespace; the "NPD-T-" lines
 * both save tools print then (owned, *ours for v4) must be what iptables prints for it. */
void tu_check_reads_back(const struct tu_tools *tl, struct npd_ruleset *rs, char **ours, char **v6);
/* Runs "tool args" in a shell and checks that it succeeded. */
void tu_run_cmd(const char *tool, const char *args);
/* A foreign rule inserted above our hook is seen as a displaced hook, and the next commit
 * puts the hook back on top, keeping the foreign rule below it; once on top, a commit
 * leaves FORWARD alone. */
void tu_check_hook_returns_to_the_top(const struct tu_tools *tl);
/* Other writers' chains and rules, around ours, survive a commit that rewrites and deletes
 * chains of ours and the cleanup, which leaves both tables as before and no ipset of
 * ours; list_owned of the table backend lists chains and hooks, of the pair also sets. */
void tu_check_foreign_rules_survive(const struct tu_tools *tl);
/* main() of a kernel suite: skips (77) unless root, in a private network namespace (the
 * forked tests too: the host's tables are never read or written), and probe (a shell
 * command) succeeds, printing "skip: needs <need>"; else runs tests (NULL-terminated) as
 * the suite name. */
int tu_backend_main(const char *name, const TTest *const *tests, const char *probe,
		    const char *need);

#endif
