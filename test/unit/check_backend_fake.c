/* check_backend_fake.c: the registry, npd_backend_apply's ordering across the table and
 * set backends, the error detail handed back, and the fake backends' record of operations;
 * no root needed. Proves sets are created and updated before the table commits and
 * destroyed after them, that a family without changes is not committed, that list_owned
 * answers from what was applied, and that a failure's detail reaches the caller. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/backend.h"
#include "npd/buf.h"
#include "npd/differ.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "testutil.h"

static void
add_ip(struct npd_set *s, const char *addr)
{
	struct npd_set_entry e = {.prefix = 0};

	ck_assert_int_eq(npd_addr_parse(addr, &e.addr), 0);
	npd_ruleset_add_entry(s, &e);
}

/* A v4-only ruleset: a hook, a chain matching `set` and, when extra, a second set. */
static struct npd_ruleset *
build(const char *ips, bool extra)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_table *t = npd_ruleset_table(rs, AF_INET);
	struct npd_set *s = npd_ruleset_add_set(rs, "npd-pods", NPD_SET_HASH_IP, AF_INET, NULL);
	struct npd_chain *c;
	struct npd_rule r;
	char *copy = npd_xstrdup(ips), *tok, *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		add_ip(s, tok);
	free(copy);
	if (extra)
		add_ip(npd_ruleset_add_set(rs, "npd-old", NPD_SET_HASH_IP, AF_INET, NULL),
		       "10.9.9.9");
	c = npd_ruleset_add_chain(t, "NPD-FORWARD");
	memset(&r, 0, sizeof(r));
	snprintf(r.sets[0].name, sizeof(r.sets[0].name), "npd-pods");
	r.sets[0].dims = 1;
	r.n_sets = 1;
	r.target = NPD_T_ACCEPT;
	npd_ruleset_add_rule(c, &r);
	if (extra)
		npd_ruleset_add_chain(t, "NPD-OLD");
	npd_ruleset_add_hook(t, "FORWARD", "NPD-FORWARD");
	npd_ruleset_seal(rs);
	return rs;
}

START_TEST(registry_finds_backends)
{
	ck_assert_ptr_eq(npd_backend_find("legacy"), &npd_backend_legacy);
	ck_assert_ptr_eq(npd_backend_find("nft"), &npd_backend_nft);
#ifdef NPD_TEST_HOOKS
	ck_assert_ptr_eq(npd_backend_find("fake"), &npd_backend_fake);
#else
	/* A release build does not offer the fake backend by name. */
	ck_assert_ptr_null(npd_backend_find("fake"));
#endif
	ck_assert_ptr_null(npd_backend_find("pf"));
	ck_assert_ptr_null(npd_backend_find(NULL));
	ck_assert(npd_backend_find("auto") == &npd_backend_legacy ||
		  npd_backend_find("auto") == &npd_backend_nft);
	/* Each table backend comes with its set backend. */
	ck_assert_ptr_eq(npd_set_backend_for(&npd_backend_legacy), &npd_set_backend_ipset);
	ck_assert_ptr_eq(npd_set_backend_for(&npd_backend_nft), &npd_set_backend_ipset);
	ck_assert_ptr_eq(npd_set_backend_for(&npd_backend_fake), &npd_set_backend_fake);
}
END_TEST

/* A fake table backend and a fake set backend writing one log. */
struct fakes {
	struct npd_buf log;
	struct npd_backend *b;
	struct npd_set_backend *sb;
	struct npd_err err;
};

static void
fakes_open(struct fakes *f)
{
	struct npd_backend_opts opts = {.fake_log = &f->log};

	memset(f, 0, sizeof(*f));
	npd_buf_init(&f->log);
	ck_assert_int_eq(npd_backend_fake.open(&opts, &f->b, &f->err), 0);
	ck_assert_int_eq(npd_set_backend_fake.open(&opts, &f->sb, &f->err), 0);
}

static void
fakes_close(struct fakes *f)
{
	npd_set_backend_fake.close(f->sb);
	npd_backend_fake.close(f->b);
	npd_buf_fini(&f->log);
}

static void
fakes_list(struct fakes *f, struct npd_owned *o)
{
	ck_assert_int_eq(npd_backend_list_owned(&npd_backend_fake, f->b, &npd_set_backend_fake,
						f->sb, o, &f->err),
			 0);
}

static int
fakes_apply(struct fakes *f, const struct npd_plan *plan, unsigned *commits)
{
	return npd_backend_apply(&npd_backend_fake, f->b, &npd_set_backend_fake, f->sb, plan,
				 commits, &f->err);
}

/* Plans from -> to, applies it to f, and checks what the fakes logged for that step. */
static void
fakes_step(struct fakes *f, const struct npd_ruleset *from, const struct npd_ruleset *to,
	   unsigned *commits, const char *log)
{
	struct npd_plan *plan = npd_differ_plan(from, to);

	npd_backend_fake_reset(f->b);
	ck_assert_int_eq(fakes_apply(f, plan, commits), 0);
	npd_plan_free(plan);
	ck_assert_str_eq(npd_backend_fake_log(f->b), log);
}

START_TEST(apply_orders_sets_around_commits)
{
	struct npd_ruleset *first = build("10.0.0.1,10.0.0.2", true);
	struct npd_ruleset *second = build("10.0.0.2,10.0.0.3,10.0.0.4", false);
	struct npd_owned o = {0};
	unsigned commits = 0;
	struct fakes f;

	fakes_open(&f);
	/* Nothing applied before: v6 has no chains and no hooks, so no v6 commit. */
	fakes_step(&f, NULL, first, &commits,
		   "set-create npd-old hash:ip inet 1\n"
		   "set-create npd-pods hash:ip inet 2\n"
		   "commit v4 write=2 del=0\n");
	ck_assert_uint_eq(commits, 1);
	/* The update lands before the commit, the unused set goes after it. */
	fakes_step(&f, first, second, &commits,
		   "set-update npd-pods +2 -1\n"
		   "commit v4 write=0 del=1\n"
		   "set-destroy npd-old\n");
	ck_assert_uint_eq(commits, 2);

	/* Each family lists its own part; the registry joins them. */
	ck_assert_int_eq(npd_backend_fake.list_owned(f.b, &o, &f.err), 0);
	ck_assert_uint_eq(o.n_chains, 1);
	ck_assert_uint_eq(o.n_sets, 0);
	npd_owned_fini(&o);
	fakes_list(&f, &o);
	ck_assert_uint_eq(o.n_chains, 1);
	ck_assert_str_eq(o.chains[0].name, "NPD-FORWARD");
	ck_assert_uint_eq(o.chains[0].n_rules, 1);
	ck_assert_uint_eq(o.n_sets, 1);
	ck_assert_str_eq(o.sets[0].name, "npd-pods");
	ck_assert_uint_eq(o.sets[0].n_entries, 3);
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET)->n_hooks, 1);
	ck_assert_str_eq(npd_owned_family(&o, AF_INET)->hooks[0].chain, "NPD-FORWARD");
	npd_owned_fini(&o);

	/* Pod churn only: set updates, no commit at all. */
	npd_ruleset_free(first);
	first = build("10.0.0.3", false);
	commits = 0;
	fakes_step(&f, second, first, &commits, "set-update npd-pods +0 -2\n");
	ck_assert_uint_eq(commits, 0);

	/* Cleanup: chains and hooks first, then the sets they used. */
	npd_backend_fake_reset(f.b);
	ck_assert_int_eq(
	    npd_backend_cleanup(&npd_backend_fake, f.b, &npd_set_backend_fake, f.sb, &f.err), 0);
	ck_assert_str_eq(npd_backend_fake_log(f.b), "cleanup\nset-cleanup\n");
	fakes_list(&f, &o);
	ck_assert_uint_eq(o.n_chains + o.n_sets + npd_owned_family(&o, AF_INET)->n_hooks, 0);
	npd_owned_fini(&o);
	fakes_close(&f);
	npd_ruleset_free(first);
	npd_ruleset_free(second);
}
END_TEST

START_TEST(apply_stops_at_first_failure_with_its_detail)
{
	struct npd_ruleset *rs = build("10.0.0.1", false);
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	struct npd_plan plan = {.set_ops = &op, .n_set_ops = 1};
	unsigned commits = 0;
	struct fakes f;

	fakes_open(&f);
	/* Updating a set the fake never created fails like the kernel would. */
	op.set = &rs->sets[0];
	snprintf(op.name, sizeof(op.name), "%s", rs->sets[0].name);
	plan.v4.family = AF_INET;
	plan.v4.commit = true;
	plan.v4.desired = &rs->v4;
	ck_assert_int_eq(fakes_apply(&f, &plan, &commits), -ENOENT);
	ck_assert_uint_eq(commits, 0);
	ck_assert_ptr_null(strstr(npd_backend_fake_log(f.b), "commit"));
	/* The caller gets what failed, not only the errno. */
	ck_assert_int_eq(f.err.code, -ENOENT);
	ck_assert_str_eq(f.err.msg, "fake: set npd-pods does not exist");
	ck_assert_str_eq(npd_err_text(&f.err, -ENOENT), "fake: set npd-pods does not exist");
	/* A success clears a stale detail; without one the text is strerror's. */
	ck_assert_int_eq(fakes_apply(&f, &(struct npd_plan){.n_set_ops = 0}, &commits), 0);
	ck_assert_int_eq(f.err.code, 0);
	ck_assert_str_eq(npd_err_text(&f.err, -EBUSY), strerror(EBUSY));
	ck_assert_int_eq(npd_err_set(NULL, -EIO, "dropped"), -EIO);
	fakes_close(&f);
	npd_ruleset_free(rs);
}
END_TEST

/* What read_counters passed on, one "ADDR packets P bytes B" a line. */
static void
print_counter(const char *set, const struct npd_set_entry *e, uint64_t packets, uint64_t bytes,
	      void *ctx)
{
	char a[NPD_ADDRSTRLEN];

	ck_assert_str_eq(set, "npd-grp");
	npd_buf_printf(ctx, "%s packets %llu bytes %llu\n", npd_addr_format(&e->addr, a),
		       (unsigned long long)packets, (unsigned long long)bytes);
}

static char *
read_text(struct npd_set_backend *sb, const char *name, int want_rc)
{
	struct npd_buf b;
	struct npd_err err = {0};

	npd_buf_init(&b);
	npd_buf_adds(&b, "");
	ck_assert_int_eq(npd_set_backend_fake.read_counters(sb, name, print_counter, &b, &err),
			 want_rc);
	return npd_buf_steal(&b);
}

/* The fake's counted set keeps per-entry counters a test sets: an entry the update leaves
 * keeps them, a new one starts at zero, a re-creation zeroes all, as in the kernel. */
START_TEST(fake_set_entries_keep_their_counters)
{
	struct npd_ruleset *rs = build("10.0.0.3,10.0.0.1,10.0.0.2", false);
	struct npd_set_backend *sb = NULL;
	struct npd_set *s = &rs->sets[0], *grp;
	struct npd_set_entry e[3];
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	char *t;

	ck_assert_int_eq(npd_set_backend_fake.open(NULL, &sb, NULL), 0);
	grp = npd_ruleset_add_set(rs, "npd-grp", NPD_SET_HASH_IP, AF_INET, NULL);
	s = &rs->sets[0];
	grp->counters = true;
	grp->count_dir = NPD_ORIGIN_EGRESS;
	add_ip(grp, "10.0.0.2");
	add_ip(grp, "10.0.0.1");
	add_ip(grp, "10.0.0.2");
	ck_assert_int_eq(npd_set_backend_fake.create(sb, s, NULL), 0);
	ck_assert_int_eq(npd_set_backend_fake.create(sb, grp, NULL), 0);
	t = read_text(sb, "npd-pods", -EINVAL); /* no counters: nothing passed on */
	ck_assert_str_eq(t, "");
	free(t);
	t = read_text(sb, "npd-none", -ENOENT);
	free(t);
	t = read_text(sb, "npd-grp", 0);
	ck_assert_str_eq(t, "10.0.0.1 packets 0 bytes 0\n10.0.0.2 packets 0 bytes 0\n");
	free(t);

	memset(e, 0, sizeof(e));
	ck_assert_int_eq(npd_addr_parse("10.0.0.2", &e[0].addr), 0);
	ck_assert_int_eq(npd_addr_parse("10.0.0.9", &e[1].addr), 0);
	ck_assert_int_eq(npd_addr_parse("10.0.0.1", &e[2].addr), 0);
	ck_assert_int_eq(npd_set_backend_fake_count(sb, "npd-grp", &e[0], 5, 300), 0);
	ck_assert_int_eq(npd_set_backend_fake_count(sb, "npd-grp", &e[1], 1, 1), -ENOENT);
	ck_assert_int_eq(npd_set_backend_fake_count(sb, "npd-none", &e[0], 1, 1), -ENOENT);
	/* 10.0.0.1 leaves, 10.0.0.9 joins: 10.0.0.2 keeps what it counted. */
	snprintf(op.name, sizeof(op.name), "npd-grp");
	op.add = &e[1];
	op.n_add = 1;
	op.del = &e[2];
	op.n_del = 1;
	ck_assert_int_eq(npd_set_backend_fake.update(sb, &op, NULL), 0);
	t = read_text(sb, "npd-grp", 0);
	ck_assert_str_eq(t, "10.0.0.2 packets 5 bytes 300\n10.0.0.9 packets 0 bytes 0\n");
	free(t);
	ck_assert_int_eq(npd_set_backend_fake.create(sb, grp, NULL), 0);
	t = read_text(sb, "npd-grp", 0);
	ck_assert_str_eq(t, "10.0.0.1 packets 0 bytes 0\n10.0.0.2 packets 0 bytes 0\n");
	free(t);
	npd_set_backend_fake.close(sb);
	npd_ruleset_free(rs);
}
END_TEST

TU_MAIN("backend_fake", registry_finds_backends, apply_orders_sets_around_commits,
	apply_stops_at_first_failure_with_its_detail, fake_set_entries_keep_their_counters)
