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

int
main(void)
{
	const TTest *const tests[] = {every_match_and_target_reads_back,
				      hook_returns_to_the_top,
				      foreign_rules_survive_commits_and_cleanup,
				      lost_race_is_redone,
				      counters_are_read_per_rule,
				      held_lock_bounds_the_wait,
				      NULL};

	return tu_backend_main("backend_legacy", tests,
			       "iptables-legacy-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1",
			       "iptables-legacy and ipset");
}
