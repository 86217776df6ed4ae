/* check_backend_legacy.c: the libiptc backend against the kernel, each test in its own
 * network namespace (tables and ipsets are per namespace; the host's are never touched).
 * Proves that the entries we build read back through iptables-legacy-save as the same
 * rules iptables itself builds from the compiler's text, that hooks stay on top, that
 * other writers' chains and rules survive, that a lost commit race is redone, and that real
 * packets count on a set's entry only through matches without ! --update-counters. */
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
static const struct tu_tools tools = {&npd_backend_legacy, "iptables-legacy-save",
				      "ip6tables-legacy-save", "iptables-legacy -w",
				      "ip6tables-legacy -w"};

START_TEST(every_match_and_target_reads_back)
{
	static const char *const restore[2] = {"iptables-legacy-restore --noflush",
					       "ip6tables-legacy-restore --noflush"};
	static const char *const save[2] = {"iptables-legacy-save", "ip6tables-legacy-save"};
	static const uint8_t families[2] = {AF_INET, AF_INET6};
	struct npd_ruleset *rs = npd_ruleset_new();
	char *ours[2], *theirs;
	struct npd_buf text;
	size_t i;
	FILE *p;

	tu_check_reads_back(&tools, rs, &ours[0], &ours[1]);
	/* Ground truth: iptables itself, fed the compiler's text in a fresh namespace, must
	 * build rules that read back identically, in both families. */
	tu_enter_netns();
	tu_create_sets(rs);
	npd_buf_init(&text);
	for (i = 0; i < 2; i++) {
		npd_buf_reset(&text);
		npd_ruleset_format_table(npd_ruleset_get_table(rs, families[i]), &text);
		p = popen(restore[i], "w");
		fwrite(text.data, 1, text.len, p);
		ck_assert_int_eq(pclose(p), 0);
		theirs = tu_save_lines(save[i], "NPD-T-");
		ck_assert_str_eq(ours[i], theirs);
		free(theirs);
		free(ours[i]);
	}
	npd_buf_fini(&text);
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
	tu_check_hook_returns_to_the_top(&tools);
}
END_TEST

START_TEST(foreign_rules_survive_commits_and_cleanup)
{
	tu_check_foreign_rules_survive(&tools);
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
		/* It gave up after the bound on the clock, not after a count of polls. */
		ck_assert_ptr_nonnull(strstr(err.msg, " for "));
		ck_assert_int_ge(atoi(strstr(err.msg, " for ") + 5), 200);
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

struct reading {
	struct {
		uint8_t family;
		char chain[NPD_CHAIN_NAMELEN];
		size_t idx;
		uint64_t packets, bytes;
	} v[32];
	size_t n;
};

static void
record_rule(uint8_t family, const char *chain, size_t idx, uint64_t packets, uint64_t bytes,
	    void *ctx)
{
	struct reading *r = ctx;

	ck_assert_uint_lt(r->n, NPD_ARRAY_SIZE(r->v));
	r->v[r->n].family = family;
	snprintf(r->v[r->n].chain, sizeof(r->v[r->n].chain), "%s", chain);
	r->v[r->n].idx = idx;
	r->v[r->n].packets = packets;
	r->v[r->n].bytes = bytes;
	r->n++;
}

/* A commit that passes on the counters it restarts gives what a reading of its own, just
 * before it and limited to the same plan, gives: the rules of the chains it rewrites or
 * deletes, with their counts, and no other chain's. */
START_TEST(commit_passes_on_the_counters_it_restarts)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct reading want = {0}, got = {0};
	const struct npd_chain *write[1];
	char del[1][NPD_CHAIN_NAMELEN] = {"NPD-T-GONE"};
	struct npd_plan only = {0};
	struct npd_backend *b;
	struct npd_apply_opts ao = {.reset_counters = record_rule, .reset_ctx = &got};
	size_t i, n_b;

	ck_assert_ptr_nonnull(ops->commit_ex);
	tu_enter_netns();
	b = tu_open_full(ops, rs, false, NULL);
	tu_commit_table(ops, b, &rs->v4);
	write[0] = npd_ruleset_find_chain(&rs->v4, "NPD-T-B");
	ck_assert_ptr_nonnull(write[0]);
	n_b = write[0]->n_rules;
	/* Counts the kernel holds: one more rule in the rewritten chain and a chain of ours
	 * the commit deletes, each with counters set by iptables itself. */
	tu_run_cmd("iptables-legacy", "-w -A NPD-T-B -c 7 700 -j RETURN");
	tu_run_cmd("iptables-legacy", "-w -N NPD-T-GONE");
	tu_run_cmd("iptables-legacy", "-w -A NPD-T-GONE -c 3 300 -j RETURN");
	only.v4.family = AF_INET;
	only.v4.commit = true;
	only.v4.write = write;
	only.v4.n_write = 1;
	only.v4.del = del;
	only.v4.n_del = 1;
	ck_assert_int_eq(ops->read_counters(b, &only, record_rule, &want, NULL), 0);
	ck_assert_msg(ops->commit_ex(b, &only.v4, &ao, &err) == 0, "%s", err.msg);
	/* Both steps are timed: the read and the commit each take some time. */
	ck_assert_uint_gt(ao.read_ns, 0);
	ck_assert_uint_gt(ao.commit_ns, 0);
	ck_assert_uint_eq(want.n, n_b + 2);
	ck_assert_uint_eq(got.n, want.n);
	for (i = 0; i < want.n; i++) {
		size_t j;

		for (j = 0; j < got.n; j++)
			if (!strcmp(got.v[j].chain, want.v[i].chain) &&
			    got.v[j].idx == want.v[i].idx)
				break;
		ck_assert_msg(j < got.n, "%s rule %zu not passed on", want.v[i].chain,
			      want.v[i].idx);
		ck_assert_uint_eq(got.v[j].family, AF_INET);
		ck_assert_uint_eq(got.v[j].packets, want.v[i].packets);
		ck_assert_uint_eq(got.v[j].bytes, want.v[i].bytes);
	}
	for (i = 0; i < got.n; i++)
		if (!strcmp(got.v[i].chain, "NPD-T-B") && got.v[i].idx == n_b)
			ck_assert_uint_eq(got.v[i].packets, 7);
		else if (!strcmp(got.v[i].chain, "NPD-T-GONE"))
			ck_assert_uint_eq(got.v[i].bytes, 300);
	/* The commit happened: the extra rule and the deleted chain are gone. */
	memset(&want, 0, sizeof(want));
	ck_assert_int_eq(ops->read_counters(b, &only, record_rule, &want, NULL), 0);
	ck_assert_uint_eq(want.n, n_b);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(only_matches_that_update_count_on_the_entry)
{
	tu_check_entry_counters(ops);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {every_match_and_target_reads_back,
				      hook_returns_to_the_top,
				      foreign_rules_survive_commits_and_cleanup,
				      lost_race_is_redone,
				      counters_are_read_per_rule,
				      commit_passes_on_the_counters_it_restarts,
				      held_lock_bounds_the_wait,
				      only_matches_that_update_count_on_the_entry,
				      NULL};

	return tu_backend_main("backend_legacy", tests,
			       "iptables-legacy-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1",
			       "iptables-legacy and ipset");
}
