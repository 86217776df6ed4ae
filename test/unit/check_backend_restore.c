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
static const struct tu_tools tools = {&npd_backend_nft, "iptables-nft-save", "ip6tables-nft-save",
				      "iptables-nft", "ip6tables-nft"};

START_TEST(every_match_and_target_reads_back)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	char *ours, *v6;

	tu_check_reads_back(&tools, rs, &ours, &v6);
	free(v6);
	free(ours);
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
	tu_check_hook_returns_to_the_top(&tools);
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

START_TEST(foreign_rules_survive_commits_and_cleanup)
{
	tu_check_foreign_rules_survive(&tools);
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

START_TEST(only_matches_that_update_count_on_the_entry)
{
	tu_check_entry_counters(&npd_backend_nft);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {every_match_and_target_reads_back,
				      hook_returns_to_the_top,
				      broken_transaction_is_redone,
				      foreign_rules_survive_commits_and_cleanup,
				      counters_are_read_per_rule,
				      missing_tool_is_enoent,
				      only_matches_that_update_count_on_the_entry,
				      NULL};

	return tu_backend_main("backend_restore", tests,
			       "iptables-nft-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1",
			       "iptables-nft and ipset");
}
