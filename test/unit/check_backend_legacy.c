/* check_backend_legacy.c: the libiptc backend against the kernel, each test in its own
 * network namespace (tables and ipsets are per namespace; the host's are never touched).
 * Proves that the entries we build read back through iptables-legacy-save as the same
 * rules iptables itself builds from the compiler's text, that hooks stay on top, that
 * other writers' chains and rules survive, and that a lost commit race is redone. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/backend.h"
#include "npd/ruleset.h"

static const struct npd_backend_ops *ops = &npd_backend_legacy;

static void
enter_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
}

/* stdout of a shell command (test-only: fixed strings, no input from outside). */
static char *
sh(const char *cmd)
{
	struct npd_buf b;
	char chunk[4096];
	size_t n;
	FILE *p = popen(cmd, "r");

	ck_assert_ptr_nonnull(p);
	npd_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		npd_buf_add(&b, chunk, n);
	pclose(p);
	if (!b.data)
		npd_buf_adds(&b, "");
	return npd_buf_steal(&b);
}

/* The "-A"/":" lines of a save dump that mention pattern, or every table line when pattern
 * is NULL (the "#" lines carry a timestamp). */
static char *
save_lines(const char *tool, const char *pattern)
{
	char *cmd = npd_xasprintf("%s -t filter", tool), *all = sh(cmd), *line, *save = NULL;
	struct npd_buf b;

	npd_buf_init(&b);
	npd_buf_adds(&b, "");
	for (line = strtok_r(all, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (pattern && !strstr(line, pattern))
			continue;
		npd_buf_printf(&b, "%s\n", line);
	}
	free(all);
	free(cmd);
	return npd_buf_steal(&b);
}

static struct npd_cidr
cidr(const char *s)
{
	struct npd_cidr c;

	ck_assert_int_eq(npd_cidr_parse(s, true, &c), 0);
	return c;
}

static void
add_entry(struct npd_set *s, const char *addr, uint8_t prefix, bool nomatch, uint8_t proto,
	  uint16_t port)
{
	struct npd_set_entry e = {
	    .prefix = prefix, .nomatch = nomatch, .proto = proto, .port = port};

	ck_assert_int_eq(npd_addr_parse(addr, &e.addr), 0);
	npd_ruleset_add_entry(s, &e);
}

static struct npd_set_match
setm(const char *name, uint8_t dims, uint8_t dirs, bool negate)
{
	struct npd_set_match m = {.dims = dims, .dirs = dirs, .negate = negate};

	snprintf(m.name, sizeof(m.name), "%s", name);
	return m;
}

/* Fills table t (family fam) with one chain using every match and target, a second chain
 * it jumps to, and the FORWARD hook; adds the sets those rules need to rs. */
static void
build_full(struct npd_ruleset *rs, uint8_t fam)
{
	bool v6 = fam == AF_INET6;
	struct npd_table *t = npd_ruleset_table(rs, fam);
	const char *ipset = v6 ? "npd-t-ip6" : "npd-t-ip4";
	const char *portset = v6 ? "npd-t-port6" : "npd-t-port4";
	const char *netset = v6 ? "npd-t-net6" : "npd-t-net4";
	struct npd_set *s;
	struct npd_chain *c;
	struct npd_rule r;

	s = npd_ruleset_add_set(rs, ipset, NPD_SET_HASH_IP, fam, "pods");
	add_entry(s, v6 ? "fd00::1" : "10.0.0.1", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, portset, NPD_SET_HASH_IP_PORT, fam, "named ports");
	add_entry(s, v6 ? "fd00::2" : "10.0.0.2", 0, false, 6, 8080);
	s = npd_ruleset_add_set(rs, netset, NPD_SET_HASH_NET, fam, "ipblock");
	add_entry(s, v6 ? "fd00::" : "10.0.0.0", v6 ? 64 : 8, false, 0, 0);
	add_entry(s, v6 ? "fd00::" : "10.0.0.0", v6 ? 96 : 24, true, 0, 0);

	c = npd_ruleset_add_chain(t, "NPD-T-A");
	memset(&r, 0, sizeof(r));
	r.has_src = r.has_dst = true;
	r.src = cidr(v6 ? "fd00:1::/64" : "10.1.0.0/16");
	r.dst = cidr(v6 ? "fd00:2::4/128" : "10.2.3.4/32");
	r.proto = 6;
	r.dport_lo = r.dport_hi = 80;
	r.target = NPD_T_ACCEPT;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.proto = 17;
	r.dport_lo = 53;
	r.dport_hi = 55;
	r.target = NPD_T_DROP;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.proto = 132;
	r.dport_lo = r.dport_hi = 9000;
	r.target = NPD_T_RETURN;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.sets[0] = setm(ipset, 1, 0, false);
	r.sets[1] = setm(portset, 2, 0x3, true);
	r.n_sets = 2;
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "NPD-T-B");
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.sets[0] = setm(netset, 1, 0x1, false);
	r.n_sets = 1;
	r.ctstate = NPD_CT_RELATED | NPD_CT_ESTABLISHED;
	r.target = NPD_T_ACCEPT;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.ctstate = NPD_CT_NEW | NPD_CT_INVALID;
	r.has_mark = true;
	r.mark_value = 0x10000;
	r.mark_mask = 0x10000;
	r.target = NPD_T_ACCEPT;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.has_mark = true;
	r.mark_negate = true;
	r.mark_value = 0x10000;
	r.mark_mask = 0x10000;
	r.limit_per_sec = 10;
	r.limit_burst = 20;
	r.target = NPD_T_NFLOG;
	r.nflog_group = 100;
	r.nflog_prefix = (char *)(uintptr_t) "npd drop";
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.comment = (char *)(uintptr_t) "allow web from \"frontend\"";
	r.target = NPD_T_MARK;
	r.set_mark = 0x10000;
	r.set_mask = 0x10000;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.proto = 6;
	r.target = NPD_T_REJECT;
	npd_ruleset_add_rule(c, &r);

	memset(&r, 0, sizeof(r));
	r.comment = (char *)(uintptr_t) "count";
	r.limit_per_sec = 3;
	r.target = NPD_T_NONE;
	npd_ruleset_add_rule(c, &r);

	c = npd_ruleset_add_chain(t, "NPD-T-B");
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_RETURN;
	npd_ruleset_add_rule(c, &r);

	npd_ruleset_add_hook(t, "FORWARD", "NPD-T-A");
}

/* A change writing every chain of t (write must hold t->n_chains pointers). */
static struct npd_table_change
change_all(const struct npd_table *t, const struct npd_chain **write)
{
	struct npd_table_change chg = {.family = t->family, .commit = true, .desired = t};
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		write[i] = &t->chains[i];
	chg.write = write;
	chg.n_write = t->n_chains;
	return chg;
}

static struct npd_backend *
open_backend(const struct npd_backend_opts *opts)
{
	struct npd_backend *b = NULL;

	ck_assert_int_eq(ops->open(opts, &b), 0);
	return b;
}

static void
create_sets(struct npd_backend *b, const struct npd_ruleset *rs)
{
	size_t i;

	for (i = 0; i < rs->n_sets; i++)
		ck_assert_msg(ops->set_create(b, &rs->sets[i]) == 0, "%s",
			      npd_backend_last_error());
}

static void
commit_table(struct npd_backend *b, const struct npd_table *t)
{
	const struct npd_chain *w[8];
	struct npd_table_change chg = change_all(t, w);

	ck_assert_msg(ops->commit(b, &chg) == 0, "%s", npd_backend_last_error());
}

static const char *const expect_v4 =
    ":NPD-T-A - [0:0]\n"
    ":NPD-T-B - [0:0]\n"
    "-A FORWARD -j NPD-T-A\n"
    "-A NPD-T-A -s 10.1.0.0/16 -d 10.2.3.4/32 -p tcp -m tcp --dport 80 -j ACCEPT\n"
    "-A NPD-T-A -p udp -m udp --dport 53:55 -j DROP\n"
    "-A NPD-T-A -p sctp -m sctp --dport 9000 -j RETURN\n"
    "-A NPD-T-A -m set --match-set npd-t-ip4 src -m set ! --match-set npd-t-port4 dst,dst "
    "-j NPD-T-B\n"
    "-A NPD-T-A -m set --match-set npd-t-net4 dst -m conntrack --ctstate RELATED,ESTABLISHED "
    "-j ACCEPT\n"
    "-A NPD-T-A -m conntrack --ctstate INVALID,NEW -m mark --mark 0x10000/0x10000 -j ACCEPT\n"
    "-A NPD-T-A -m mark ! --mark 0x10000/0x10000 -m limit --limit 10/sec --limit-burst 20 "
    "-j NFLOG --nflog-prefix \"npd drop\" --nflog-group 100\n"
    "-A NPD-T-A -m comment --comment \"allow web from \\\"frontend\\\"\" "
    "-j MARK --set-xmark 0x10000/0x10000\n"
    "-A NPD-T-A -p tcp -j REJECT --reject-with icmp-port-unreachable\n"
    "-A NPD-T-A -m limit --limit 3/sec -m comment --comment count\n"
    "-A NPD-T-B -j RETURN\n";

START_TEST(every_match_and_target_reads_back)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	char *ours, *theirs, *v6;
	struct npd_buf text;
	FILE *p;

	enter_netns();
	build_full(rs, AF_INET);
	build_full(rs, AF_INET6);
	npd_ruleset_seal(rs);
	b = open_backend(NULL);
	create_sets(b, rs);
	commit_table(b, npd_ruleset_get_table(rs, AF_INET));
	commit_table(b, npd_ruleset_get_table(rs, AF_INET6));

	ours = save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_str_eq(ours, expect_v4);
	v6 = save_lines("ip6tables-legacy-save", "NPD-T-");
	ck_assert_ptr_nonnull(strstr(v6, "-A NPD-T-A -s fd00:1::/64 -d fd00:2::4/128 -p tcp -m tcp "
					 "--dport 80 -j ACCEPT\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-m set --match-set npd-t-ip6 src -m set ! --match-set "
					 "npd-t-port6 dst,dst -j NPD-T-B\n"));
	ck_assert_ptr_nonnull(
	    strstr(v6, "-A NPD-T-A -p tcp -j REJECT --reject-with icmp6-port-unreachable\n"));
	ck_assert_ptr_nonnull(strstr(v6, "-A FORWARD -j NPD-T-A\n"));

	/* Ground truth: iptables itself, fed the compiler's text in a fresh namespace, must
	 * build rules that read back identically, in both families. */
	enter_netns();
	create_sets(b, rs);
	npd_buf_init(&text);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET), &text);
	p = popen("iptables-legacy-restore --noflush", "w");
	fwrite(text.data, 1, text.len, p);
	ck_assert_int_eq(pclose(p), 0);
	theirs = save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_str_eq(ours, theirs);
	free(theirs);
	npd_buf_reset(&text);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET6), &text);
	p = popen("ip6tables-legacy-restore --noflush", "w");
	fwrite(text.data, 1, text.len, p);
	ck_assert_int_eq(pclose(p), 0);
	theirs = save_lines("ip6tables-legacy-save", "NPD-T-");
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
	return save_lines("iptables-legacy-save", "-A FORWARD");
}

START_TEST(hook_returns_to_the_top)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_owned o;
	char *fw;

	enter_netns();
	build_full(rs, AF_INET);
	npd_ruleset_seal(rs);
	b = open_backend(NULL);
	create_sets(b, rs);
	commit_table(b, &rs->v4);
	ck_assert_int_eq(system("iptables-legacy -w -I FORWARD 1 -j ACCEPT"), 0);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j ACCEPT\n-A FORWARD -j NPD-T-A\n");
	free(fw);
	/* The resync must see the displaced hook as drift. */
	ck_assert_int_eq(ops->list_owned(b, &o), 0);
	ck_assert(o.hook_displaced_v4);
	ck_assert(!o.hook_displaced_v6);
	npd_owned_fini(&o);
	commit_table(b, &rs->v4);
	ck_assert_int_eq(ops->list_owned(b, &o), 0);
	ck_assert(!o.hook_displaced_v4);
	npd_owned_fini(&o);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n");
	free(fw);
	/* Already on top: a further commit leaves FORWARD alone (its counters too). */
	ck_assert_int_eq(system("iptables-legacy -w -A FORWARD -j DROP"), 0);
	commit_table(b, &rs->v4);
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
	char *before4, *before6, *after, *fw;
	struct npd_owned o = {0};
	const struct npd_chain *w[8];
	struct npd_table_change chg;
	char del[1][NPD_CHAIN_NAMELEN] = {"NPD-T-B"};
	struct npd_table *t;
	size_t n_rules;

	enter_netns();
	ck_assert_int_eq(system(foreign_setup), 0);
	before4 = save_lines("iptables-legacy-save", NULL);
	before6 = save_lines("ip6tables-legacy-save", NULL);
	build_full(rs, AF_INET);
	build_full(rs, AF_INET6);
	npd_ruleset_seal(rs);
	b = open_backend(NULL);
	create_sets(b, rs);
	commit_table(b, &rs->v4);
	commit_table(b, &rs->v6);
	fw = forward_rules();
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n");
	free(fw);

	/* Second commit: NPD-T-A rewritten without its jump, NPD-T-B deleted. */
	t = &rs->v4;
	n_rules = t->chains[0].n_rules;
	t->chains[0].n_rules = 3;
	chg = change_all(t, w);
	chg.n_write = 1;
	chg.del = del;
	chg.n_del = 1;
	ck_assert_msg(ops->commit(b, &chg) == 0, "%s", npd_backend_last_error());
	t->chains[0].n_rules = n_rules;
	after = save_lines("iptables-legacy-save", "NPD-T-");
	ck_assert_ptr_null(strstr(after, "NPD-T-B"));
	ck_assert_ptr_nonnull(strstr(after, "-A NPD-T-A -p sctp -m sctp --dport 9000 -j RETURN\n"));
	free(after);
	after = save_lines("iptables-legacy-save", "FOREIGN");
	ck_assert_str_eq(after, ":FOREIGN - [0:0]\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n"
				"-A FOREIGN -p tcp -m tcp --dport 22 -j ACCEPT\n");
	free(after);

	ck_assert_int_eq(ops->list_owned(b, &o), 0);
	ck_assert_uint_eq(o.n_chains, 3); /* v4 NPD-T-A, v6 NPD-T-A and NPD-T-B */
	ck_assert_uint_eq(o.n_hooks_v4, 1);
	ck_assert_str_eq(o.hooks_v4[0].chain, "NPD-T-A");
	ck_assert_uint_eq(o.n_hooks_v6, 1);
	ck_assert_uint_eq(o.n_sets, 6);
	npd_owned_fini(&o);

	ck_assert_msg(ops->cleanup(b) == 0, "%s", npd_backend_last_error());
	after = save_lines("iptables-legacy-save", NULL);
	ck_assert_str_eq(after, before4);
	free(after);
	after = save_lines("ip6tables-legacy-save", NULL);
	ck_assert_str_eq(after, before6);
	free(after);
	after = sh("ipset list -name");
	ck_assert_str_eq(after, "");
	free(after);

	free(before4);
	free(before6);
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

	enter_netns();
	build_full(rs, AF_INET);
	npd_ruleset_seal(rs);
	opts.before_commit = other_writer;
	opts.before_commit_ctx = &race;
	b = open_backend(&opts);
	create_sets(b, rs);
	chg = change_all(&rs->v4, w);
	ck_assert_msg(ops->commit(b, &chg) == 0, "%s", npd_backend_last_error());
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
	b = open_backend(&opts);
	ck_assert_int_eq(ops->commit(b, &chg), -EAGAIN);
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

	enter_netns();
	build_full(rs, AF_INET);
	npd_ruleset_seal(rs);
	b = open_backend(&opts);
	create_sets(b, rs);
	/* Another process holds the lock (flock locks are per open file, so this fd
	 * conflicts with the backend's own open of the same path). */
	fd = open(opts.lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	{
		const struct npd_chain *w[8];
		struct npd_table_change chg = change_all(&rs->v4, w);

		ck_assert_int_eq(ops->commit(b, &chg), -EBUSY);
		ck_assert_ptr_nonnull(strstr(npd_backend_last_error(), "lock"));
	}
	fw = forward_rules();
	ck_assert_str_eq(fw, ""); /* nothing written without the lock */
	free(fw);
	close(fd);
	commit_table(b, &rs->v4);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

static void
count_rule(uint8_t family, const char *chain, size_t idx, uint64_t packets, uint64_t bytes,
	   void *ctx)
{
	size_t *n = ctx;

	(void)packets;
	(void)bytes;
	if (family == AF_INET && !strcmp(chain, "NPD-T-A"))
		ck_assert_uint_eq(idx, n[0]++);
	else
		n[1]++;
}

START_TEST(counters_are_read_per_rule)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	size_t n[2] = {0, 0};

	enter_netns();
	build_full(rs, AF_INET);
	npd_ruleset_seal(rs);
	b = open_backend(NULL);
	create_sets(b, rs);
	commit_table(b, &rs->v4);
	ck_assert_int_eq(ops->read_counters(b, count_rule, n), 0);
	ck_assert_uint_eq(n[0], rs->v4.chains[0].n_rules);
	ck_assert_uint_eq(n[1], 1);
	ops->close(b);
	npd_ruleset_free(rs);
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
	SRunner *sr;
	int failed;

	if (geteuid() != 0) {
		fprintf(stderr, "skip: needs root\n");
		return 77;
	}
	/* Everything, including the forked tests, runs in a private namespace: the host's
	 * tables are never read or written. */
	if (unshare(CLONE_NEWNET) != 0) {
		fprintf(stderr, "skip: cannot create a network namespace\n");
		return 77;
	}
	if (system("iptables-legacy-save >/dev/null 2>&1 && ipset list >/dev/null 2>&1") != 0) {
		fprintf(stderr, "skip: needs iptables-legacy and ipset\n");
		return 77;
	}
	sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
