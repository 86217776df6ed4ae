/* check_backend_restore.c: the "nft" backend (iptables-nft-save / iptables-nft-restore
 * --noflush) against the kernel, each test in its own network namespace. Proves the same
 * ruleset reads back with iptables-nft-save exactly as the legacy backend's does with
 * iptables-legacy-save, that hooks are moved back on top only when needed, that a
 * transaction broken by another writer is redone, and that other writers' chains and
 * rules survive our commits and our cleanup. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/backend.h"
#include "npd/ruleset.h"
#include "tu_backend.h"

static const struct npd_backend_ops *ops = &npd_backend_nft;
static struct npd_err err;

START_TEST(every_match_and_target_reads_back)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	char *ours, *v6;

	tu_enter_netns();
	b = tu_open_full(ops, rs, true, NULL);
	tu_commit_table(ops, b, npd_ruleset_get_table(rs, AF_INET));
	tu_commit_table(ops, b, npd_ruleset_get_table(rs, AF_INET6));

	ours = tu_save_lines("iptables-nft-save", "NPD-T-");
	ck_assert_str_eq(ours, tu_expect_v4);
	v6 = tu_save_lines("ip6tables-nft-save", "NPD-T-");
	ck_assert_ptr_nonnull(strstr(v6, "-A NPD-T-A -s fd00:1::/64 -d fd00:2::4/128 -p tcp -m tcp "
					 "--dport 80 -j ACCEPT\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-m set --match-set npd-t-ip6 src -m set ! --match-set "
					 "npd-t-port6 dst,dst -j NPD-T-B\n"));
	ck_assert_ptr_nonnull(
	    strstr(v6, "-A NPD-T-A -p tcp -j REJECT --reject-with icmp6-port-unreachable\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-A FORWARD -j NPD-T-A\n"));
	free(v6);
	free(ours);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

static char *
forward_rules(void)
{
	return tu_save_lines("iptables-nft-save", "-A FORWARD");
}

START_TEST(hook_returns_to_the_top)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_owned o = {0};
	char *fw;

	tu_enter_netns();
	b = tu_open_full(ops, rs, false, NULL);
	tu_commit_table(ops, b, &rs->v4);
	ck_assert_int_eq(system("iptables-nft -I FORWARD 1 -j ACCEPT"), 0);
	/* The resync must see the displaced hook as drift. */
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert(npd_owned_family(&o, AF_INET)->hook_displaced);
	npd_owned_fini(&o);
	tu_commit_table(ops, b, &rs->v4);
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert(!npd_owned_family(&o, AF_INET)->hook_displaced);
	npd_owned_fini(&o);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n");
	free(fw);
	/* Already on top: a rule appended by someone else stays where it is. */
	ck_assert_int_eq(system("iptables-nft -A FORWARD -j DROP"), 0);
	tu_commit_table(ops, b, &rs->v4);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n-A FORWARD -j DROP\n");
	free(fw);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* Another writer removes our hook after we read the table: our "-D" then fails and the
 * whole transaction must be redone from a fresh read. */
static void
hook_thief(uint8_t family, unsigned attempt, void *ctx)
{
	unsigned *calls = ctx;

	(void)family;
	(*calls)++;
	if (attempt == 0)
		ck_assert_int_eq(system("iptables-nft -D FORWARD -j NPD-T-A"), 0);
}

START_TEST(broken_transaction_is_redone)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend_opts opts = {.before_commit = hook_thief};
	struct npd_backend *b;
	unsigned calls = 0;
	char *fw;

	tu_enter_netns();
	b = tu_open_full(ops, rs, false, NULL);
	tu_commit_table(ops, b, &rs->v4);
	ops->close(b);
	ck_assert_int_eq(system("iptables-nft -I FORWARD 1 -j ACCEPT"), 0);
	opts.before_commit_ctx = &calls;
	b = tu_open_backend(ops, &opts);
	tu_commit_table(ops, b, &rs->v4);
	ck_assert_uint_eq(calls, 2);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n");
	free(fw);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

static const char *const foreign_setup =
    "iptables-nft -N FOREIGN && iptables-nft -A FOREIGN -p tcp --dport 22 -j ACCEPT && "
    "iptables-nft -A FORWARD -s 192.0.2.0/24 -j FOREIGN && iptables-nft -A INPUT -j ACCEPT "
    "&& ip6tables-nft -A OUTPUT -j ACCEPT";

START_TEST(foreign_rules_survive_commits_and_cleanup)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_set_backend *sb;
	char *before4, *before6, *after;
	struct npd_owned o = {0};
	const struct npd_chain *w[8];
	struct npd_table_change chg;
	char del[1][NPD_CHAIN_NAMELEN] = {"NPD-T-B"};
	struct npd_table *t;
	size_t n_rules;

	tu_enter_netns();
	ck_assert_int_eq(system(foreign_setup), 0);
	before4 = tu_save_lines("iptables-nft-save", NULL);
	before6 = tu_save_lines("ip6tables-nft-save", NULL);
	b = tu_open_full(ops, rs, true, NULL);
	sb = tu_open_sets();
	tu_commit_table(ops, b, &rs->v4);
	tu_commit_table(ops, b, &rs->v6);

	t = &rs->v4;
	n_rules = t->chains[0].n_rules;
	t->chains[0].n_rules = 3;
	chg = tu_change_all(t, w);
	chg.n_write = 1;
	chg.del = del;
	chg.n_del = 1;
	ck_assert_msg(ops->commit(b, &chg, &err) == 0, "%s", err.msg);
	t->chains[0].n_rules = n_rules;
	after = tu_save_lines("iptables-nft-save", "NPD-T-");
	ck_assert_ptr_null(strstr(after, "NPD-T-B"));
	ck_assert_ptr_nonnull(strstr(after, "-A NPD-T-A -p sctp -m sctp --dport 9000 -j RETURN\n"));
	free(after);
	after = tu_save_lines("iptables-nft-save", "FOREIGN");
	ck_assert_str_eq(after, ":FOREIGN - [0:0]\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n"
				"-A FOREIGN -p tcp -m tcp --dport 22 -j ACCEPT\n");
	free(after);

	/* The table backend lists chains and hooks, the set backend sets. */
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert_uint_eq(o.n_sets, 0);
	npd_owned_fini(&o);
	ck_assert_int_eq(npd_backend_list_owned(ops, b, &npd_set_backend_ipset, sb, &o, &err), 0);
	ck_assert_uint_eq(o.n_chains, 3);
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET)->n_hooks, 1);
	ck_assert_str_eq(npd_owned_family(&o, AF_INET)->hooks[0].chain, "NPD-T-A");
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET6)->n_hooks, 1);
	ck_assert_uint_eq(o.n_sets, 6);
	npd_owned_fini(&o);

	ck_assert_msg(npd_backend_cleanup(ops, b, &npd_set_backend_ipset, sb, &err) == 0, "%s",
		      err.msg);
	after = tu_save_lines("iptables-nft-save", NULL);
	ck_assert_str_eq(after, before4);
	free(after);
	after = tu_save_lines("ip6tables-nft-save", NULL);
	ck_assert_str_eq(after, before6);
	free(after);
	after = tu_sh("ipset list -name");
	ck_assert_str_eq(after, "");
	free(after);

	free(before4);
	free(before6);
	npd_set_backend_ipset.close(sb);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(counters_are_read_per_rule)
{
	tu_check_counters_per_rule(ops);
}
END_TEST

START_TEST(missing_tool_is_enoent)
{
	struct npd_backend_opts opts = {.restore_v4 = "/nonexistent/iptables-restore"};
	struct npd_backend *b = NULL;

	ck_assert_int_eq(ops->open(&opts, &b, &err), -ENOENT);
	ck_assert_ptr_null(b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("backend_restore");
	TCase *tc = tcase_create("kernel");

	tcase_add_test(tc, every_match_and_target_reads_back);
	tcase_add_test(tc, hook_returns_to_the_top);
	tcase_add_test(tc, broken_transaction_is_redone);
	tcase_add_test(tc, foreign_rules_survive_commits_and_cleanup);
	tcase_add_test(tc, counters_are_read_per_rule);
	tcase_add_test(tc, missing_tool_is_enoent);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_backend_main(suite,
			       "iptables-nft-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1",
			       "iptables-nft and ipset");
}
