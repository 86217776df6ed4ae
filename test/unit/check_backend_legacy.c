/* check_backend_legacy.c: the libiptc backend against the kernel, each test in its own
 * network namespace (tables and ipsets are per namespace; the host's are never touched).
 * Proves that the entries we build read back through iptables-legacy-save as the same
 * rules iptables itself builds from the compiler's text, that hooks stay on top, that
 * other writers' chains and rules survive, and that a lost commit race is redone. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "tu_backend.h"

static const struct npd_backend_ops *ops = &npd_backend_legacy;
static struct npd_err err;

START_TEST(every_match_and_target_reads_back)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	char *ours, *theirs, *v6;
	struct npd_buf text;
	FILE *p;

	tu_enter_netns();
	b = tu_open_full(ops, rs, true, NULL);
	tu_commit_table(ops, b, npd_ruleset_get_table(rs, AF_INET));
	tu_commit_table(ops, b, npd_ruleset_get_table(rs, AF_INET6));

	ours = tu_save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_str_eq(ours, tu_expect_v4);
	v6 = tu_save_lines("ip6tables-legacy-save", "NPD-T-");
	ck_assert_ptr_nonnull(strstr(v6, "-A NPD-T-A -s fd00:1::/64 -d fd00:2::4/128 -p tcp -m tcp "
					 "--dport 80 -j ACCEPT\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-m set --match-set npd-t-ip6 src -m set ! --match-set "
					 "npd-t-port6 dst,dst -j NPD-T-B\n"));
	ck_assert_ptr_nonnull(
	    strstr(v6, "-A NPD-T-A -p tcp -j REJECT --reject-with icmp6-port-unreachable\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-A FORWARD -j NPD-T-A\n"));

	/* Ground truth: iptables itself, fed the compiler's text in a fresh namespace, must
	 * build rules that read back identically, in both families. */
	tu_enter_netns();
	tu_create_sets(rs);
	npd_buf_init(&text);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET), &text);
	p = popen("iptables-legacy-restore --noflush", "w");
	fwrite(text.data, 1, text.len, p);
	ck_assert_int_eq(pclose(p), 0);
	theirs = tu_save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_str_eq(ours, theirs);
	free(theirs);
	npd_buf_reset(&text);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET6), &text);
	p = popen("ip6tables-legacy-restore --noflush", "w");
	fwrite(text.data, 1, text.len, p);
	ck_assert_int_eq(pclose(p), 0);
	theirs = tu_save_lines("ip6tables-legacy-save", "NPD-T-");
	ck_assert_str_eq(v6, theirs);
	free(theirs);

	npd_buf_fini(&text);
	free(v6);
	free(ours);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* FORWARD's rules, one target per line. */
static char *
forward_rules(void)
{
	return tu_save_lines("iptables-legacy-save", "-A FORWARD");
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
	ck_assert_int_eq(system("iptables-legacy -w -I FORWARD 1 -j ACCEPT"), 0);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j ACCEPT\n-A FORWARD -j NPD-T-A\n");
	free(fw);
	/* The resync must see the displaced hook as drift. */
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert(npd_owned_family(&o, AF_INET)->hook_displaced);
	ck_assert(!npd_owned_family(&o, AF_INET6)->hook_displaced);
	npd_owned_fini(&o);
	tu_commit_table(ops, b, &rs->v4);
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert(!npd_owned_family(&o, AF_INET)->hook_displaced);
	npd_owned_fini(&o);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n");
	free(fw);
	/* Already on top: a further commit leaves FORWARD alone (its counters too). */
	ck_assert_int_eq(system("iptables-legacy -w -A FORWARD -j DROP"), 0);
	tu_commit_table(ops, b, &rs->v4);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n-A FORWARD -j DROP\n");
	free(fw);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

static const char *const foreign_setup =
    "iptables-legacy -w -N FOREIGN && iptables-legacy -w -A FOREIGN -p tcp --dport 22 -j "
    "ACCEPT && iptables-legacy -w -A FORWARD -s 192.0.2.0/24 -j FOREIGN && "
    "iptables-legacy -w -A INPUT -j ACCEPT && ip6tables-legacy -w -A OUTPUT -j ACCEPT";

START_TEST(foreign_rules_survive_commits_and_cleanup)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_set_backend *sb;
	char *before4, *before6, *after, *fw;
	struct npd_owned o = {0};
	const struct npd_chain *w[8];
	struct npd_table_change chg;
	char del[1][NPD_CHAIN_NAMELEN] = {"NPD-T-B"};
	struct npd_table *t;
	size_t n_rules;

	tu_enter_netns();
	ck_assert_int_eq(system(foreign_setup), 0);
	before4 = tu_save_lines("iptables-legacy-save", NULL);
	before6 = tu_save_lines("ip6tables-legacy-save", NULL);
	b = tu_open_full(ops, rs, true, NULL);
	sb = tu_open_sets();
	tu_commit_table(ops, b, &rs->v4);
	tu_commit_table(ops, b, &rs->v6);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n");
	free(fw);

	/* Second commit: NPD-T-A rewritten without its jump, NPD-T-B deleted. */
	t = &rs->v4;
	n_rules = t->chains[0].n_rules;
	t->chains[0].n_rules = 3;
	chg = tu_change_all(t, w);
	chg.n_write = 1;
	chg.del = del;
	chg.n_del = 1;
	ck_assert_msg(ops->commit(b, &chg, &err) == 0, "%s", err.msg);
	t->chains[0].n_rules = n_rules;
	after = tu_save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_ptr_null(strstr(after, "NPD-T-B"));
	ck_assert_ptr_nonnull(strstr(after, "-A NPD-T-A -p sctp -m sctp --dport 9000 -j RETURN\n"));
	free(after);
	after = tu_save_lines("iptables-legacy-save", "FOREIGN");
	ck_assert_str_eq(after, ":FOREIGN - [0:0]\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n"
				"-A FOREIGN -p tcp -m tcp --dport 22 -j ACCEPT\n");
	free(after);

	/* The table backend lists chains and hooks, the set backend sets. */
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert_uint_eq(o.n_sets, 0);
	npd_owned_fini(&o);
	ck_assert_int_eq(npd_backend_list_owned(ops, b, &npd_set_backend_ipset, sb, &o, &err), 0);
	ck_assert_uint_eq(o.n_chains, 3); /* v4 NPD-T-A, v6 NPD-T-A and NPD-T-B */
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET)->n_hooks, 1);
	ck_assert_str_eq(npd_owned_family(&o, AF_INET)->hooks[0].chain, "NPD-T-A");
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET6)->n_hooks, 1);
	ck_assert_uint_eq(o.n_sets, 6);
	npd_owned_fini(&o);

	ck_assert_msg(npd_backend_cleanup(ops, b, &npd_set_backend_ipset, sb, &err) == 0, "%s",
		      err.msg);
	after = tu_save_lines("iptables-legacy-save", NULL);
	ck_assert_str_eq(after, before4);
	free(after);
	after = tu_save_lines("ip6tables-legacy-save", NULL);
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

struct race {
	unsigned calls;
	unsigned every; /* act on every attempt, not only the first */
};

/* Another writer that ignores our lock: appends a rule to FORWARD through
 * iptables-legacy, changing the entry count under our read handle. */
static void
other_writer(uint8_t family, unsigned attempt, void *ctx)
{
	struct race *r = ctx;

	(void)family;
	r->calls++;
	if (attempt == 0 || r->every) {
		char *cmd =
		    npd_xasprintf("iptables-legacy -w -A FORWARD -d 192.0.2.%u -j DROP", r->calls);

		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
	}
}

START_TEST(lost_race_is_redone)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend_opts opts = {.lock_path = "/tmp/npd-check-backend-legacy.lock"};
	struct race race = {0};
	struct npd_backend *b;
	const struct npd_chain *w[8];
	struct npd_table_change chg;
	char *fw;

	tu_enter_netns();
	opts.before_commit = other_writer;
	opts.before_commit_ctx = &race;
	b = tu_open_full(ops, rs, false, &opts);
	chg = tu_change_all(&rs->v4, w);
	ck_assert_msg(ops->commit(b, &chg, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(race.calls, 2); /* the first commit got EAGAIN */
	fw = forward_rules();
	/* Neither writer lost its change. */
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -d 192.0.2.1/32 -j DROP\n");
	free(fw);
	ops->close(b);

	/* A writer that always wins: bounded retries, then -EAGAIN. */
	race.calls = 0;
	race.every = 1;
	opts.commit_retries = 2;
	b = tu_open_backend(ops, &opts);
	ck_assert_int_eq(ops->commit(b, &chg, &err), -EAGAIN);
	ck_assert_uint_eq(race.calls, 3);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(held_lock_bounds_the_wait)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend_opts opts = {.lock_path = "/tmp/npd-check-backend-lock.lock",
					.lock_wait_ms = 200};
	struct npd_backend *b;
	char *fw;
	int fd;

	tu_enter_netns();
	b = tu_open_full(ops, rs, false, &opts);
	/* Another process holds the lock (flock locks are per open file, so this fd
	 * conflicts with the backend's own open of the same path). */
	fd = open(opts.lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	{
		const struct npd_chain *w[8];
		struct npd_table_change chg = tu_change_all(&rs->v4, w);

		ck_assert_int_eq(ops->commit(b, &chg, &err), -EBUSY);
		ck_assert_ptr_nonnull(strstr(err.msg, "lock"));
	}
	fw = forward_rules();
	ck_assert_str_eq(fw, ""); /* nothing written without the lock */
	free(fw);
	close(fd);
	tu_commit_table(ops, b, &rs->v4);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(counters_are_read_per_rule)
{
	tu_check_counters_per_rule(ops);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("backend_legacy");
	TCase *tc = tcase_create("kernel");

	tcase_add_test(tc, every_match_and_target_reads_back);
	tcase_add_test(tc, hook_returns_to_the_top);
	tcase_add_test(tc, foreign_rules_survive_commits_and_cleanup);
	tcase_add_test(tc, lost_race_is_redone);
	tcase_add_test(tc, counters_are_read_per_rule);
	tcase_add_test(tc, held_lock_bounds_the_wait);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return tu_backend_main(suite,
			       "iptables-legacy-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1",
			       "iptables-legacy and ipset");
}
