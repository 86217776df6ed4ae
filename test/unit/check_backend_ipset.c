/* check_backend_ipset.c: the ipset set backend (libipset), against the kernel in a
 * private network namespace, verified with `ipset list`. Proves creation of
 * every type in both families, small updates in place, large updates and re-creation by
 * swap (the live set is never emptied, no temporary set is left), destruction, listing,
 * sets with counters (created, listed, swapped), the reading of their entries' counters and
 * set index lookups over one socket. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/ipset_int.h"
#include "npd/backend.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "tu_backend.h"

static const struct npd_set_backend_ops *ops = &npd_set_backend_ipset;
static struct npd_err err;

/* Members of a set, sorted, one a line ("" when none). */
static char *
members(const char *name)
{
	char *cmd = npd_xasprintf("ipset list %s | sed '1,/^Members:/d' | sort", name);
	char *out = tu_sh(cmd);

	free(cmd);
	return out;
}

static size_t
count(const char *name)
{
	char *cmd =
	    npd_xasprintf("ipset list -terse %s | sed -n 's/^Number of entries: //p'", name);
	char *out = tu_sh(cmd);
	size_t n = strtoul(out, NULL, 10);

	free(out);
	free(cmd);
	return n;
}

static struct npd_set_backend *
open_backend(void)
{
	tu_enter_netns();
	return tu_open_sets();
}

START_TEST(create_every_type_and_family)
{
	static const char *const want[][2] = {
	    {"npd-ip4", "10.0.0.1\n10.0.0.2\n"},
	    {"npd-ip6", "fd00::1\n"},
	    {"npd-net4", "0.0.0.0/1\n10.0.0.0/8\n10.1.0.0/16 nomatch\n"},
	    {"npd-net6", "8000::/1\n::/1\nfd00::/64 nomatch\n"},
	    {"npd-port4", "10.0.0.1,tcp:80\n10.0.0.1,udp:53\n10.0.0.2,sctp:9000\n"},
	    {"npd-port6", "fd00::1,tcp:443\n"},
	};
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set *s;
	char *m, *hdr;
	size_t i;

	s = npd_ruleset_add_set(rs, "npd-ip4", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	tu_add_entry(s, "10.0.0.2", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-ip6", NPD_SET_HASH_IP, AF_INET6, NULL);
	tu_add_entry(s, "fd00::1", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-net4", NPD_SET_HASH_NET, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.0", 8, false, 0, 0);
	tu_add_entry(s, "10.1.0.0", 16, true, 0, 0);
	tu_add_entry(s, "0.0.0.0", 1, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-net6", NPD_SET_HASH_NET, AF_INET6, NULL);
	tu_add_entry(s, "::", 1, false, 0, 0);
	tu_add_entry(s, "8000::", 1, false, 0, 0);
	tu_add_entry(s, "fd00::", 64, true, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-port4", NPD_SET_HASH_IP_PORT, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.1", 0, false, 6, 80);
	tu_add_entry(s, "10.0.0.1", 0, false, 17, 53);
	tu_add_entry(s, "10.0.0.2", 0, false, 132, 9000);
	s = npd_ruleset_add_set(rs, "npd-port6", NPD_SET_HASH_IP_PORT, AF_INET6, NULL);
	tu_add_entry(s, "fd00::1", 0, false, 6, 443);
	npd_ruleset_seal(rs);
	tu_create_sets(rs);

	for (i = 0; i < NPD_ARRAY_SIZE(want); i++) {
		m = members(want[i][0]);
		ck_assert_str_eq(m, want[i][1]);
		free(m);
	}
	hdr = tu_sh("ipset list -terse npd-port6");
	ck_assert_ptr_nonnull(strstr(hdr, "Type: hash:ip,port\n"));
	ck_assert_ptr_nonnull(strstr(hdr, "family inet6"));
	free(hdr);

	/* Creating again with the same content is not an error. */
	ck_assert_int_eq(ops->create(b, &rs->sets[0], &err), 0);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(small_update_in_place)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set_entry add_e[2], del_e[1];
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	struct npd_set *s;
	char *m;

	s = npd_ruleset_add_set(rs, "npd-upd", NPD_SET_HASH_NET, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.0", 8, false, 0, 0);
	tu_add_entry(s, "10.9.0.0", 16, false, 0, 0);
	ck_assert_int_eq(ops->create(b, s, &err), 0);
	add_e[0] = tu_entry("192.168.0.0", 16, false, 0, 0);
	add_e[1] = tu_entry("10.1.0.0", 16, true, 0, 0);
	del_e[0] = tu_entry("10.9.0.0", 16, false, 0, 0);
	op.set = s;
	snprintf(op.name, sizeof(op.name), "%s", s->name);
	op.add = add_e;
	op.n_add = 2;
	op.del = del_e;
	op.n_del = 1;
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	m = members("npd-upd");
	ck_assert_str_eq(m, "10.0.0.0/8\n10.1.0.0/16 nomatch\n192.168.0.0/16\n");
	free(m);
	/* Drift (an entry already there, one already gone) is tolerated. */
	ck_assert_int_eq(ops->update(b, &op, &err), 0);

	/* An update of a set that is missing reports it. */
	op.set = npd_ruleset_add_set(rs, "npd-missing", NPD_SET_HASH_IP, AF_INET, NULL);
	op.add = add_e;
	op.n_add = 1;
	add_e[0] = tu_entry("10.0.0.1", 0, false, 0, 0);
	op.n_del = 0;
	ck_assert_int_eq(ops->update(b, &op, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "npd-missing"), "%s", err.msg);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(recreate_swaps_never_empty)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set *old, *new;
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	char addr[32], *m, *names;
	size_t i;

	old = npd_ruleset_add_set(rs, "npd-big", NPD_SET_HASH_IP, AF_INET, NULL);
	for (i = 0; i < 3; i++) {
		snprintf(addr, sizeof(addr), "10.0.0.%zu", i + 1);
		tu_add_entry(old, addr, 0, false, 0, 0);
	}
	ck_assert_int_eq(ops->create(b, old, &err), 0);
	/* A rule references the set, so it could not be destroyed and re-created. */
	ck_assert_int_eq(system("iptables-legacy -w -A FORWARD -m set --match-set npd-big src "
				"-j ACCEPT"),
			 0);

	/* The same name with different content: replaced by swap, in one step. */
	new = npd_ruleset_add_set(rs, "npd-big", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(new, "10.0.0.3", 0, false, 0, 0);
	tu_add_entry(new, "10.0.0.9", 0, false, 0, 0);
	ck_assert_msg(ops->create(b, new, &err) == 0, "%s", err.msg);
	m = members("npd-big");
	ck_assert_str_eq(m, "10.0.0.3\n10.0.0.9\n");
	free(m);

	/* A large update (over the threshold) rebuilds by swap from the desired content. */
	for (i = 0; i < 1500; i++) {
		snprintf(addr, sizeof(addr), "10.1.%zu.%zu", i / 250, i % 250 + 1);
		tu_add_entry(new, addr, 0, false, 0, 0);
	}
	op.set = new;
	snprintf(op.name, sizeof(op.name), "%s", new->name);
	op.add = new->entries + 2;
	op.n_add = 1500;
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(count("npd-big"), 1502);

	names = tu_sh("ipset list -name | sort");
	ck_assert_str_eq(names, "npd-big\n"); /* no temporary twin left behind */
	free(names);
	m = tu_sh("ipset list -terse npd-big | sed -n 's/^References: //p'");
	ck_assert_str_eq(m, "1\n"); /* the rule still holds the live set */
	free(m);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(destroy_and_list)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_owned o = {0};
	struct npd_set *s;
	char *names;

	s = npd_ruleset_add_set(rs, "npd-a", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	tu_add_entry(s, "10.0.0.2", 0, false, 0, 0);
	ck_assert_int_eq(ops->create(b, s, &err), 0);
	s = npd_ruleset_add_set(rs, "npd-b", NPD_SET_HASH_IP, AF_INET6, NULL);
	ck_assert_int_eq(ops->create(b, s, &err), 0);
	ck_assert_int_eq(system("ipset create foreign hash:ip"), 0);

	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert_uint_eq(o.n_sets, 2);
	ck_assert_str_eq(o.sets[0].name, "npd-a");
	ck_assert_uint_eq(o.sets[0].n_entries, 2);
	ck_assert_str_eq(o.sets[1].name, "npd-b");
	ck_assert_uint_eq(o.sets[1].n_entries, 0);
	npd_owned_fini(&o);

	ck_assert_int_eq(ops->destroy(b, "npd-a", &err), 0);
	ck_assert_int_eq(ops->destroy(b, "npd-a", &err), 0); /* already gone: fine */
	/* A set in use by a rule cannot go; the error says so. */
	ck_assert_int_eq(system("ip6tables-legacy -w -A INPUT -m set --match-set npd-b src -j "
				"ACCEPT"),
			 0);
	ck_assert_int_eq(ops->destroy(b, "npd-b", &err), -EBUSY);
	/* The detail names the failing line, for the agent's log. */
	ck_assert_int_eq(err.code, -EBUSY);
	ck_assert_msg(strstr(err.msg, "[destroy npd-b]"), "%s", err.msg);
	ck_assert_int_eq(system("ip6tables-legacy -w -F INPUT"), 0);
	ck_assert_int_eq(ops->cleanup(b, &err), 0);
	names = tu_sh("ipset list -name");
	ck_assert_str_eq(names, "foreign\n"); /* never touches sets that are not ours */
	free(names);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* One lookup channel resolves any number of sets over the socket its first lookup opened,
 * with the indexes a fresh channel gives; a missing or destroyed set is -ENOENT. */
START_TEST(index_lookups_share_one_socket)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_ipset_lookup l, fresh;
	uint16_t ia, ib, i2;
	int fd;

	ck_assert_int_eq(
	    ops->create(b, npd_ruleset_add_set(rs, "npd-a", NPD_SET_HASH_IP, AF_INET, NULL), &err),
	    0);
	ck_assert_int_eq(
	    ops->create(b, npd_ruleset_add_set(rs, "npd-b", NPD_SET_HASH_IP, AF_INET6, NULL), &err),
	    0);
	npd_ipset_lookup_init(&l);
	ck_assert_int_eq(l.fd, -1);
	ck_assert_int_eq(npd_ipset_lookup_index(&l, "npd-a", &ia, &err), 0);
	fd = l.fd;
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(npd_ipset_lookup_index(&l, "npd-b", &ib, &err), 0);
	ck_assert_int_eq(l.fd, fd);
	ck_assert_uint_ne(ia, ib);
	npd_ipset_lookup_init(&fresh);
	ck_assert_int_eq(npd_ipset_lookup_index(&fresh, "npd-b", &i2, &err), 0);
	ck_assert_uint_eq(i2, ib);
	npd_ipset_lookup_fini(&fresh);
	ck_assert_int_eq(npd_ipset_lookup_index(&l, "npd-none", &i2, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "npd-none"), "%s", err.msg);
	ck_assert_int_eq(ops->destroy(b, "npd-b", &err), 0);
	ck_assert_int_eq(npd_ipset_lookup_index(&l, "npd-b", &i2, &err), -ENOENT);
	ck_assert_int_eq(npd_ipset_lookup_index(&l, "npd-a", &i2, &err), 0);
	ck_assert_uint_eq(i2, ia);
	npd_ipset_lookup_fini(&l);
	ck_assert_int_eq(l.fd, -1);
	ck_assert_int_eq(ops->cleanup(b, &err), 0);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* Whether the kernel's set name was created with the counters extension. */
static bool
has_counters(const char *name)
{
	char *cmd = npd_xasprintf("ipset list -terse %s | grep -c '^Header: .* counters'", name);
	char *out = tu_sh(cmd);
	bool yes = atoi(out) == 1;

	free(out);
	free(cmd);
	return yes;
}

static const struct npd_owned_set *
owned(const struct npd_owned *o, const char *name)
{
	size_t i;

	for (i = 0; i < o->n_sets; i++)
		if (!strcmp(o->sets[i].name, name))
			return &o->sets[i];
	ck_abort_msg("%s not listed", name);
	return NULL;
}

/* A counted set is created with the counters extension, in both families; the listing says
 * which sets have it; a set that gains or loses it is re-created by swap (the rules that
 * use it keep their reference), its members kept and no twin left. */
START_TEST(counted_sets_are_created_listed_and_swapped)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_owned o = {0};
	struct npd_set *c4, *c6, *plain;
	char *m;

	c4 = npd_ruleset_add_set(rs, "npd-c4", NPD_SET_HASH_IP, AF_INET, NULL);
	c4->counters = true;
	tu_add_entry(c4, "10.0.0.1", 0, false, 0, 0);
	c6 = npd_ruleset_add_set(rs, "npd-c6", NPD_SET_HASH_IP, AF_INET6, NULL);
	c6->counters = true;
	c6->count_dir = NPD_ORIGIN_EGRESS;
	tu_add_entry(c6, "fd00::1", 0, false, 0, 0);
	plain = npd_ruleset_add_set(rs, "npd-plain", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(plain, "10.0.0.2", 0, false, 0, 0);
	ck_assert_msg(ops->create(b, c4, &err) == 0, "%s", err.msg);
	ck_assert_msg(ops->create(b, c6, &err) == 0, "%s", err.msg);
	ck_assert_msg(ops->create(b, plain, &err) == 0, "%s", err.msg);
	ck_assert(has_counters("npd-c4"));
	ck_assert(has_counters("npd-c6"));
	ck_assert(!has_counters("npd-plain"));
	m = members("npd-c6");
	ck_assert_str_eq(m, "fd00::1 packets 0 bytes 0\n");
	free(m);
	ck_assert_int_eq(ops->list_owned(b, &o, &err), 0);
	ck_assert_uint_eq(o.n_sets, 3);
	ck_assert(owned(&o, "npd-c4")->counters);
	ck_assert(owned(&o, "npd-c6")->counters);
	ck_assert(!owned(&o, "npd-plain")->counters);
	ck_assert_uint_eq(owned(&o, "npd-c6")->n_entries, 1);
	npd_owned_fini(&o);

	ck_assert_int_eq(system("iptables-legacy -w -A FORWARD -m set --match-set npd-plain dst "
				"! --update-counters -j DROP"),
			 0);
	plain->counters = true;
	ck_assert_msg(ops->create(b, plain, &err) == 0, "%s", err.msg);
	ck_assert(has_counters("npd-plain"));
	m = members("npd-plain");
	ck_assert_str_eq(m, "10.0.0.2 packets 0 bytes 0\n");
	free(m);
	c4->counters = false;
	ck_assert_msg(ops->create(b, c4, &err) == 0, "%s", err.msg);
	ck_assert(!has_counters("npd-c4"));
	m = members("npd-c4");
	ck_assert_str_eq(m, "10.0.0.1\n");
	free(m);
	m = tu_sh("ipset list -name | sort");
	ck_assert_str_eq(m, "npd-c4\nnpd-c6\nnpd-plain\n");
	free(m);
	m = tu_sh("iptables-legacy-save | grep -c 'match-set npd-plain dst ! --update-counters'");
	ck_assert_str_eq(m, "1\n");
	free(m);
	ck_assert_int_eq(system("iptables-legacy -w -F FORWARD"), 0);
	ck_assert_int_eq(ops->cleanup(b, &err), 0);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* What read_counters passed on for one set. */
struct readings {
	const struct npd_set *set;
	size_t n;
	bool seen[8];
};

static void
check_reading(const char *name, const struct npd_set_entry *e, uint64_t packets, uint64_t bytes,
	      void *ctx)
{
	struct readings *r = ctx;
	size_t i;

	ck_assert_str_eq(name, r->set->name);
	for (i = 0; i < r->set->n_entries; i++)
		if (!npd_set_entry_cmp(e, &r->set->entries[i]))
			break;
	ck_assert_msg(i < r->set->n_entries, "%s: an entry the set does not have", name);
	ck_assert(!r->seen[i]);
	r->seen[i] = true;
	/* What the test gave entry i below. */
	ck_assert_uint_eq(packets, 5 + i);
	ck_assert_uint_eq(bytes, 300 + 7 * i);
	r->n++;
}

/* Each entry of a counted set comes back with the counters the kernel holds for it (set
 * here with `ipset add -exist ... packets P bytes B`, so no packet is needed), built as the
 * compiler builds entries, for every type and family; a set without counters, a missing
 * one and a foreign one are refused. */
START_TEST(counters_are_read_per_entry)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set *s;
	struct npd_buf cmd;
	struct readings r;
	size_t i, j;

	s = npd_ruleset_add_set(rs, "npd-g4", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.2", 0, false, 0, 0);
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-g6", NPD_SET_HASH_IP, AF_INET6, NULL);
	tu_add_entry(s, "fd00::1", 0, false, 0, 0);
	tu_add_entry(s, "fd00::a:2", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-n4", NPD_SET_HASH_NET, AF_INET, NULL);
	tu_add_entry(s, "10.1.0.0", 16, false, 0, 0);
	tu_add_entry(s, "10.1.2.0", 24, true, 0, 0);
	tu_add_entry(s, "10.0.0.7", 32, false, 0, 0);
	s = npd_ruleset_add_set(rs, "npd-p6", NPD_SET_HASH_IP_PORT, AF_INET6, NULL);
	tu_add_entry(s, "fd00::1", 0, false, 6, 443);
	tu_add_entry(s, "fd00::1", 0, false, 132, 9000);
	tu_add_entry(s, "fd00::1", 0, false, 17, 53);
	for (i = 0; i < rs->n_sets; i++)
		rs->sets[i].counters = true;
	s = npd_ruleset_add_set(rs, "npd-plain", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	npd_ruleset_seal(rs);
	npd_buf_init(&cmd);
	for (i = 0; i < rs->n_sets; i++) {
		ck_assert_msg(ops->create(b, &rs->sets[i], &err) == 0, "%s", err.msg);
		if (!rs->sets[i].counters)
			continue;
		npd_buf_reset(&cmd);
		npd_buf_adds(&cmd, "ipset restore -exist <<'EOF'\n");
		for (j = 0; j < rs->sets[i].n_entries; j++) {
			npd_buf_printf(&cmd, "add %s ", rs->sets[i].name);
			npd_set_entry_format(&rs->sets[i], &rs->sets[i].entries[j], &cmd);
			npd_buf_printf(&cmd, " packets %zu bytes %zu\n", 5 + j, 300 + 7 * j);
		}
		npd_buf_adds(&cmd, "EOF\n");
		ck_assert_int_eq(system(cmd.data), 0);
	}
	npd_buf_fini(&cmd);
	for (i = 0; i < rs->n_sets; i++) {
		if (!rs->sets[i].counters)
			continue;
		memset(&r, 0, sizeof(r));
		r.set = &rs->sets[i];
		ck_assert_msg(ops->read_counters(b, r.set->name, check_reading, &r, &err) == 0,
			      "%s", err.msg);
		ck_assert_uint_eq(r.n, r.set->n_entries);
	}
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(ops->read_counters(b, "npd-plain", check_reading, &r, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "no counters"), "%s", err.msg);
	ck_assert_int_eq(ops->read_counters(b, "npd-missing", check_reading, &r, &err), -ENOENT);
	ck_assert_int_eq(system("ipset create foreign hash:ip counters"), 0);
	ck_assert_int_eq(ops->read_counters(b, "foreign", check_reading, &r, &err), -EINVAL);
	ck_assert_int_eq(ops->read_counters(b, "npd-g4 foreign", check_reading, &r, &err), -EINVAL);
	ck_assert_uint_eq(r.n, 0);
	ck_assert_int_eq(system("ipset destroy foreign"), 0);
	ck_assert_int_eq(ops->cleanup(b, &err), 0);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

static size_t
maxelem(const char *name)
{
	char *cmd = npd_xasprintf(
	    "ipset list -terse %s | sed -n 's/.* maxelem \\([0-9]*\\).*/\\1/p'", name);
	char *out = tu_sh(cmd);
	size_t n = strtoul(out, NULL, 10);

	free(out);
	free(cmd);
	return n;
}

/* Adds n addresses 10.2.x.y numbered from first to set and to the update op. */
static void
grow(struct npd_set *set, struct npd_set_op *op, size_t first, size_t n)
{
	char addr[32];
	size_t i;

	for (i = first; i < first + n; i++) {
		snprintf(addr, sizeof(addr), "10.2.%zu.%zu", i / 250, i % 250 + 1);
		tu_add_entry(set, addr, 0, false, 0, 0);
	}
	op->set = set;
	snprintf(op->name, sizeof(op->name), "%s", set->name);
	op->add = set->entries + set->n_entries - n;
	op->n_add = n;
}

/* Sets are sized by need (maxelem the power of two at or above twice the members, at least
 * 1024) and re-created bigger by swap when an update takes them past that. */
START_TEST(grows_by_swap_past_its_room)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	struct npd_set *s;
	char *names;

	s = npd_ruleset_add_set(rs, "npd-grow", NPD_SET_HASH_IP, AF_INET, NULL);
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	ck_assert_int_eq(ops->create(b, s, &err), 0);
	ck_assert_uint_eq(maxelem("npd-grow"), 1024);
	/* 512 members fit 1024; 600 want 2048: swapped in, the members all there. */
	grow(s, &op, 0, 511);
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(maxelem("npd-grow"), 1024);
	grow(s, &op, 511, 88);
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(maxelem("npd-grow"), 2048);
	ck_assert_uint_eq(count("npd-grow"), 600);
	/* 1100 members: 4096, and never a temporary twin left behind. */
	grow(s, &op, 599, 500);
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(maxelem("npd-grow"), 4096);
	ck_assert_uint_eq(count("npd-grow"), 1100);
	names = tu_sh("ipset list -name | sort");
	ck_assert_str_eq(names, "npd-grow\n");
	free(names);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

/* Members of a counted set whose packet counter is not 0, one a line. */
static char *
counted_members(const char *name)
{
	char *cmd = npd_xasprintf(
	    "ipset list %s | sed '1,/^Members:/d' | grep -v ' packets 0 ' | sort", name);
	char *out = tu_sh(cmd);

	free(cmd);
	return out;
}

/* An update swapped in (past its room, or too many changes) is still an update: a counted
 * set's kept entries keep their counters, new ones start at zero; a create restarts all. */
START_TEST(swapped_update_keeps_entry_counters)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *b = open_backend();
	struct npd_set_op op = {.kind = NPD_SETOP_UPDATE};
	struct npd_set *s;
	char *m;

	s = npd_ruleset_add_set(rs, "npd-grp", NPD_SET_HASH_IP, AF_INET, NULL);
	s->counters = true;
	tu_add_entry(s, "10.0.0.1", 0, false, 0, 0);
	tu_add_entry(s, "10.0.0.2", 0, false, 0, 0);
	ck_assert_msg(ops->create(b, s, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(system("ipset -exist add npd-grp 10.0.0.1 packets 5 bytes 300"), 0);
	ck_assert_int_eq(system("ipset -exist add npd-grp 10.0.0.2 packets 1 bytes 60"), 0);
	grow(s, &op, 0, 600);
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(maxelem("npd-grp"), 2048); /* it was swapped in */
	ck_assert_uint_eq(count("npd-grp"), 602);
	ck_assert(has_counters("npd-grp"));
	m = counted_members("npd-grp");
	ck_assert_str_eq(m, "10.0.0.1 packets 5 bytes 300\n10.0.0.2 packets 1 bytes 60\n");
	free(m);
	grow(s, &op, 600, NPD_IPSET_SWAP_THRESHOLD + 1);
	ck_assert_msg(ops->update(b, &op, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(count("npd-grp"), 1603);
	m = counted_members("npd-grp");
	ck_assert_str_eq(m, "10.0.0.1 packets 5 bytes 300\n10.0.0.2 packets 1 bytes 60\n");
	free(m);
	ck_assert_msg(ops->create(b, s, &err) == 0, "%s", err.msg);
	m = counted_members("npd-grp");
	ck_assert_str_eq(m, "");
	free(m);
	m = tu_sh("ipset list -name");
	ck_assert_str_eq(m, "npd-grp\n");
	free(m);
	ops->close(b);
	npd_ruleset_free(rs);
}
END_TEST

int
main(void)
{
	const TTest *const tests[] = {
	    create_every_type_and_family,	 small_update_in_place,
	    recreate_swaps_never_empty,		 destroy_and_list,
	    grows_by_swap_past_its_room,	 counted_sets_are_created_listed_and_swapped,
	    counters_are_read_per_entry,	 index_lookups_share_one_socket,
	    swapped_update_keeps_entry_counters, NULL};

	return tu_backend_main("backend_ipset", tests,
			       "ipset list >/dev/null 2>&1 && iptables-legacy-save >/dev/null 2>&1",
			       "ipset and iptables-legacy");
}
