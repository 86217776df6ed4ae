/* check_ruleset.c: the dataplane model: sealing (order, dedupe, hashes), lookups, rule
 * equality, and the restore texts, which the real iptables-legacy-restore,
 * ip6tables-legacy-restore and ipset accept (run as root in a private network namespace;
 * that case is skipped otherwise). */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "testutil.h"

static struct npd_set_entry
net_entry(const char *cidr, bool nomatch)
{
	struct npd_set_entry e;
	struct npd_cidr c;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(npd_cidr_parse(cidr, true, &c), 0);
	e.addr = c.addr;
	e.prefix = c.prefix;
	e.nomatch = nomatch;
	return e;
}

static struct npd_set_entry
ipport_entry(const char *ip, uint8_t proto, uint16_t port)
{
	struct npd_set_entry e;

	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(npd_addr_parse(ip, &e.addr), 0);
	e.proto = proto;
	e.port = port;
	return e;
}

/* A ruleset using every match and target the compiler emits, in both families. */
static struct npd_ruleset *
sample(void)
{
	static char est[] = "netpold: \"established\"", backslash[] = "a\\b";
	static char prefix[] = "NPD DROP I ns/pod";
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set *s;
	struct npd_set_entry e;
	struct npd_chain *c;
	struct npd_rule r;
	int fam;

	s = npd_ruleset_add_set(rs, "npd-b-4", NPD_SET_HASH_NET, AF_INET, "ipBlock 10.0.0.0/8");
	e = net_entry("10.0.0.0/8", false);
	npd_ruleset_add_entry(s, &e);
	e = net_entry("10.1.0.0/16", true);
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-a-4", NPD_SET_HASH_IP, AF_INET, "pods ns=x *");
	e = net_entry("10.0.0.2/32", false);
	e.prefix = 0;
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-c-4", NPD_SET_HASH_IP_PORT, AF_INET, NULL);
	e = ipport_entry("10.0.0.2", 6, 8080);
	npd_ruleset_add_entry(s, &e);
	e = ipport_entry("10.0.0.2", 132, 9000);
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-d-6", NPD_SET_HASH_NET, AF_INET6, "v6");
	e = net_entry("::/1", false);
	npd_ruleset_add_entry(s, &e);
	e = net_entry("fd00::/64", true);
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-e-6", NPD_SET_HASH_IP_PORT, AF_INET6, NULL);
	e = ipport_entry("fd00::2", 17, 53);
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-g-4", NPD_SET_HASH_IP, AF_INET, "group");
	s->counters = true;
	e = ipport_entry("10.0.0.2", 0, 0);
	npd_ruleset_add_entry(s, &e);
	s = npd_ruleset_add_set(rs, "npd-g-6", NPD_SET_HASH_IP, AF_INET6, "group");
	s->counters = true;
	s->count_dir = NPD_ORIGIN_EGRESS;
	e = ipport_entry("fd00::2", 0, 0);
	npd_ruleset_add_entry(s, &e);

	for (fam = 0; fam < 2; fam++) {
		struct npd_table *t = npd_ruleset_table(rs, fam ? AF_INET6 : AF_INET);
		const char *ip = fam ? "fd00::2" : "10.0.0.2";

		npd_ruleset_add_chain(t, "NPD-P");
		c = npd_ruleset_add_chain(t, "NPD-FORWARD");
		npd_ruleset_add_rule(
		    c, &(struct npd_rule){.ctstate = NPD_CT_ESTABLISHED | NPD_CT_RELATED,
					  .target = NPD_T_ACCEPT,
					  .comment = est});
		memset(&r, 0, sizeof(r));
		r.has_dst = true;
		ck_assert_int_eq(npd_addr_parse(ip, &r.dst.addr), 0);
		r.dst.prefix = fam ? 128 : 32;
		r.target = NPD_T_JUMP;
		strcpy(r.jump, "NPD-P");
		npd_ruleset_add_rule(c, &r);
		memset(&r, 0, sizeof(r));
		r.n_sets = 1;
		strcpy(r.sets[0].name, fam ? "npd-g-6" : "npd-g-4");
		r.sets[0].dims = 1;
		r.sets[0].dirs = NPD_SETDIR_DST(0);
		r.sets[0].no_counters = true;
		r.target = NPD_T_JUMP;
		strcpy(r.jump, "NPD-P");
		npd_ruleset_add_rule(c, &r);
		c = &t->chains[0];
		npd_ruleset_add_rule(c,
				     &(struct npd_rule){.target = NPD_T_MARK, .set_mask = 0x10000});
		memset(&r, 0, sizeof(r));
		r.proto = 6;
		r.dport_lo = 80;
		r.dport_hi = 90;
		r.n_sets = 2;
		strcpy(r.sets[0].name, fam ? "npd-d-6" : "npd-b-4");
		r.sets[0].dims = 1;
		strcpy(r.sets[1].name, fam ? "npd-e-6" : "npd-c-4");
		r.sets[1].dims = 2;
		r.sets[1].dirs = NPD_SETDIR_DST(0) | NPD_SETDIR_DST(1);
		r.sets[1].negate = true;
		r.target = NPD_T_MARK;
		r.set_mark = r.set_mask = 0x10000;
		r.comment = backslash;
		npd_ruleset_add_rule(c, &r);
		npd_ruleset_add_rule(
		    c, &(struct npd_rule){
			   .proto = 132, .dport_lo = 9000, .dport_hi = 9000, .target = NPD_T_DROP});
		npd_ruleset_add_rule(c, &(struct npd_rule){.has_mark = true,
							   .mark_value = 0x10000,
							   .mark_mask = 0x10000,
							   .target = NPD_T_RETURN});
		tu_add_nflog(c, prefix);
		npd_ruleset_add_rule(c, &(struct npd_rule){.proto = 17, .target = NPD_T_REJECT});
		npd_ruleset_add_hook(t, "FORWARD", "NPD-FORWARD");
	}
	npd_ruleset_seal(rs);
	return rs;
}

START_TEST(seal_sorts_and_dedupes)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set *s = npd_ruleset_add_set(rs, "npd-z", NPD_SET_HASH_NET, AF_INET, NULL);
	struct npd_set_entry e;
	const struct npd_set *f;

	e = net_entry("10.2.0.0/16", false);
	npd_ruleset_add_entry(s, &e);
	e = net_entry("10.1.0.0/16", true);
	npd_ruleset_add_entry(s, &e);
	e = net_entry("10.1.0.0/16", false); /* same key: the except must win */
	npd_ruleset_add_entry(s, &e);
	e = net_entry("10.2.0.0/16", false);
	npd_ruleset_add_entry(s, &e);
	npd_ruleset_add_set(rs, "npd-a", NPD_SET_HASH_IP, AF_INET, NULL);
	npd_ruleset_add_chain(&rs->v4, "NPD-B");
	npd_ruleset_add_chain(&rs->v4, "NPD-A");
	npd_ruleset_seal(rs);

	ck_assert_str_eq(rs->sets[0].name, "npd-a");
	f = npd_ruleset_find_set(rs, "npd-z");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->n_entries, 2);
	ck_assert(f->entries[0].nomatch);
	ck_assert_uint_eq(f->entries[0].addr.a[1], 1);
	ck_assert(!f->entries[1].nomatch);
	ck_assert_ptr_null(npd_ruleset_find_set(rs, "npd-y"));
	ck_assert_str_eq(rs->v4.chains[0].name, "NPD-A");
	ck_assert_ptr_eq(npd_ruleset_find_chain(&rs->v4, "NPD-B"), &rs->v4.chains[1]);
	ck_assert_ptr_null(npd_ruleset_find_chain(&rs->v6, "NPD-B"));
	/* Empty chains still get a known (non-zero) hash. */
	ck_assert(rs->v4.chains[0].hash != 0);
	ck_assert(rs->v4.chains[0].hash != rs->v4.chains[1].hash);
	npd_ruleset_free(rs);
}
END_TEST

/* A set handed over sealed is left as it is; one that gains an entry afterwards is sealed
 * again like any other. */
START_TEST(sealed_sets_are_left_and_added_ones_sorted)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set *s = npd_ruleset_add_set(rs, "npd-s", NPD_SET_HASH_NET, AF_INET, NULL);
	struct npd_set_entry e;

	e = net_entry("10.1.0.0/16", false);
	npd_ruleset_add_entry(s, &e);
	e = net_entry("10.2.0.0/16", false);
	npd_ruleset_add_entry(s, &e);
	ck_assert(!s->sealed);
	s->sealed = true;
	/* Out of order behind seal's back: a sealed set is trusted, not looked at. */
	s->entries[0] = s->entries[1];
	s->entries[1] = net_entry("10.1.0.0/16", false);
	npd_ruleset_seal(rs);
	ck_assert_uint_eq(rs->sets[0].entries[0].addr.a[1], 2);
	s = &rs->sets[0];
	e = net_entry("10.0.0.0/16", false);
	npd_ruleset_add_entry(s, &e);
	ck_assert(!s->sealed);
	npd_ruleset_seal(rs);
	ck_assert_uint_eq(rs->sets[0].n_entries, 3);
	ck_assert_uint_eq(rs->sets[0].entries[0].addr.a[1], 0);
	ck_assert_uint_eq(rs->sets[0].entries[1].addr.a[1], 1);
	ck_assert_uint_eq(rs->sets[0].entries[2].addr.a[1], 2);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(hashes_follow_content)
{
	static char changed[] = "changed";
	struct npd_ruleset *a = sample(), *b = sample();
	struct npd_chain *c;
	struct npd_rule r;

	ck_assert_uint_eq(a->v4.n_chains, 2);
	ck_assert_uint_eq(a->v4.chains[0].hash, b->v4.chains[0].hash);
	ck_assert(npd_rule_equal(&a->v4.chains[1].rules[1], &b->v4.chains[1].rules[1]));
	ck_assert(!npd_rule_equal(&a->v4.chains[1].rules[1], &a->v4.chains[1].rules[2]));
	ck_assert(!npd_rule_equal(&a->v4.chains[1].rules[1], &a->v6.chains[1].rules[1]));
	ck_assert_uint_eq(npd_ruleset_rule_count(a), 2 * 9);
	ck_assert_uint_eq(npd_ruleset_entry_count(a), 10);

	c = &b->v4.chains[1];
	r = c->rules[c->n_rules - 1];
	r.comment = changed;
	npd_rule_fini(&c->rules[c->n_rules - 1]);
	c->n_rules--;
	npd_ruleset_add_rule(c, &r);
	npd_ruleset_seal(b);
	ck_assert(a->v4.chains[1].hash != b->v4.chains[1].hash);
	ck_assert_uint_eq(a->v4.chains[0].hash, b->v4.chains[0].hash);
	npd_ruleset_free(a);
	npd_ruleset_free(b);
}
END_TEST

/* The TCP flags test, the ICMPv6 type and the reject's answer are part of a rule: a chain
 * that changes only one of them is rewritten. */
START_TEST(tcp_flags_icmp6_type_and_reset_are_content)
{
	struct npd_rule base, r;
	uint64_t h[5];
	size_t i, j;

	memset(&base, 0, sizeof(base));
	base.proto = 6;
	base.target = NPD_T_REJECT;
	for (i = 0; i < 5; i++) {
		struct npd_ruleset *rs = npd_ruleset_new();
		struct npd_chain *c = npd_ruleset_add_chain(&rs->v6, "NPD-X");

		r = base;
		if (i == 1)
			r.tcp_not_syn = true;
		if (i == 2)
			r.reject_with = NPD_REJECT_TCP_RESET;
		if (i >= 3) {
			r.proto = 58;
			r.target = NPD_T_RETURN;
			r.has_icmp6_type = true;
			r.icmp6_type = (uint8_t)(132 + i);
		}
		npd_ruleset_add_rule(c, &r);
		npd_ruleset_seal(rs);
		h[i] = rs->v6.chains[0].hash;
		ck_assert(npd_rule_equal(&rs->v6.chains[0].rules[0], &r));
		if (i)
			ck_assert(!npd_rule_equal(&base, &r));
		npd_ruleset_free(rs);
	}
	for (i = 0; i < 5; i++)
		for (j = i + 1; j < 5; j++)
			ck_assert(h[i] != h[j]);
	/* A DROP carries no reject answer: a stale one is not part of it. */
	r = base;
	r.target = NPD_T_DROP;
	base.target = NPD_T_DROP;
	r.reject_with = NPD_REJECT_TCP_RESET;
	ck_assert(npd_rule_equal(&base, &r));
}
END_TEST

/* Whether a set match updates the entry's counters is part of the rule: a chain whose
 * dispatch starts counting is rewritten, and a copy keeps the flag. */
START_TEST(update_counters_is_content)
{
	struct npd_rule r[2], copy;
	uint64_t h[2];
	size_t i;

	for (i = 0; i < 2; i++) {
		struct npd_ruleset *rs = npd_ruleset_new();
		struct npd_chain *c = npd_ruleset_add_chain(&rs->v4, "NPD-X");

		memset(&r[i], 0, sizeof(r[i]));
		r[i].n_sets = 1;
		strcpy(r[i].sets[0].name, "npd-g-4");
		r[i].sets[0].dims = 1;
		r[i].sets[0].no_counters = i == 1;
		r[i].target = NPD_T_RETURN;
		npd_ruleset_add_rule(c, &r[i]);
		npd_ruleset_seal(rs);
		h[i] = rs->v4.chains[0].hash;
		ck_assert(npd_rule_equal(&rs->v4.chains[0].rules[0], &r[i]));
		npd_ruleset_free(rs);
	}
	ck_assert(h[0] != h[1]);
	ck_assert(!npd_rule_equal(&r[0], &r[1]));
	npd_rule_copy(&copy, &r[1]);
	ck_assert(copy.sets[0].no_counters);
	ck_assert(npd_rule_equal(&copy, &r[1]));
	npd_rule_fini(&copy);
}
END_TEST

START_TEST(del_keeps_sealed_and_hooks_compare_as_sets)
{
	struct npd_ruleset *rs = sample();
	struct npd_hook x[2] = {{"FORWARD", "NPD-FORWARD"}, {"OUTPUT", "NPD-OUT"}};
	struct npd_hook y[2] = {{"OUTPUT", "NPD-OUT"}, {"FORWARD", "NPD-FORWARD"}};
	struct npd_hook z[2] = {{"OUTPUT", "NPD-OUT"}, {"OUTPUT", "NPD-OUT"}};
	size_t sets = rs->n_sets;
	char first[NPD_CHAIN_NAMELEN], last[NPD_SET_NAMELEN];

	ck_assert_uint_ge(rs->v4.n_chains, 2);
	snprintf(first, sizeof(first), "%s", rs->v4.chains[0].name);
	snprintf(last, sizeof(last), "%s", rs->v4.chains[1].name);
	ck_assert_int_eq(npd_ruleset_del_chain(&rs->v4, first), 0);
	ck_assert_int_eq(npd_ruleset_del_chain(&rs->v4, first), -ENOENT);
	ck_assert_ptr_null(npd_ruleset_find_chain(&rs->v4, first));
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v4, last));
	ck_assert_ptr_nonnull(npd_ruleset_find_chain(&rs->v6, first));
	snprintf(last, sizeof(last), "%s", rs->sets[sets - 1].name);
	ck_assert_int_eq(npd_ruleset_del_set(rs, rs->sets[0].name), 0);
	ck_assert_uint_eq(rs->n_sets, sets - 1);
	ck_assert_ptr_nonnull(npd_ruleset_find_set(rs, last));
	ck_assert_int_eq(npd_ruleset_del_set(rs, "npd-none"), -ENOENT);

	ck_assert(npd_hooks_equal(x, 2, y, 2));
	ck_assert(!npd_hooks_equal(x, 2, y, 1));
	ck_assert(!npd_hooks_equal(x, 2, z, 2));
	ck_assert(!npd_hooks_equal(z, 2, x, 2));
	ck_assert(npd_hooks_equal(x, 0, z, 0));
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(iptables_text)
{
	struct npd_ruleset *rs = sample();
	struct npd_buf b;

	npd_buf_init(&b);
	npd_ruleset_format_table(&rs->v4, &b);
	ck_assert_str_eq(
	    b.data,
	    "*filter\n"
	    ":NPD-FORWARD - [0:0]\n"
	    ":NPD-P - [0:0]\n"
	    "-F NPD-FORWARD\n"
	    "-F NPD-P\n"
	    "-A NPD-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "
	    "\"netpold: \\\"established\\\"\" -j ACCEPT\n"
	    "-A NPD-FORWARD -d 10.0.0.2/32 -j NPD-P\n"
	    "-A NPD-FORWARD -m set --match-set npd-g-4 dst ! --update-counters -j NPD-P\n"
	    "-A NPD-P -j MARK --set-xmark 0x0/0x10000\n"
	    "-A NPD-P -p tcp -m tcp --dport 80:90 -m set --match-set npd-b-4 src -m set ! "
	    "--match-set npd-c-4 dst,dst -m comment --comment \"a\\\\b\" -j MARK --set-xmark "
	    "0x10000/0x10000\n"
	    "-A NPD-P -p sctp -m sctp --dport 9000 -j DROP\n"
	    "-A NPD-P -m mark --mark 0x10000/0x10000 -j RETURN\n"
	    "-A NPD-P -m mark ! --mark 0x10000/0x10000 -m limit --limit 10/sec --limit-burst 20 "
	    "-j NFLOG --nflog-prefix \"NPD DROP I ns/pod\" --nflog-group 100\n"
	    "-A NPD-P -p udp -j REJECT --reject-with icmp-port-unreachable\n"
	    "-I FORWARD 1 -j NPD-FORWARD\n"
	    "COMMIT\n");
	npd_buf_reset(&b);
	npd_rule_format(&rs->v6.chains[0].rules[1], AF_INET6, &b);
	ck_assert_str_eq(b.data, "-d fd00::2/128 -j NPD-P");
	npd_buf_reset(&b);
	npd_rule_format(&rs->v6.chains[1].rules[5], AF_INET6, &b);
	ck_assert_str_eq(b.data, "-p udp -j REJECT --reject-with icmp6-port-unreachable");
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
}
END_TEST

START_TEST(ipset_text)
{
	struct npd_ruleset *rs = sample();
	struct npd_buf b;

	npd_buf_init(&b);
	npd_ruleset_format_sets(rs, 0, &b);
	ck_assert_str_eq(b.data, "# npd-a-4: pods ns=x *\n"
				 "create npd-a-4 hash:ip family inet -exist\n"
				 "flush npd-a-4\n"
				 "add npd-a-4 10.0.0.2\n"
				 "# npd-b-4: ipBlock 10.0.0.0/8\n"
				 "create npd-b-4 hash:net family inet -exist\n"
				 "flush npd-b-4\n"
				 "add npd-b-4 10.0.0.0/8\n"
				 "add npd-b-4 10.1.0.0/16 nomatch\n"
				 "create npd-c-4 hash:ip,port family inet -exist\n"
				 "flush npd-c-4\n"
				 "add npd-c-4 10.0.0.2,tcp:8080\n"
				 "add npd-c-4 10.0.0.2,sctp:9000\n"
				 "# npd-d-6: v6\n"
				 "create npd-d-6 hash:net family inet6 -exist\n"
				 "flush npd-d-6\n"
				 "add npd-d-6 ::/1\n"
				 "add npd-d-6 fd00::/64 nomatch\n"
				 "create npd-e-6 hash:ip,port family inet6 -exist\n"
				 "flush npd-e-6\n"
				 "add npd-e-6 fd00::2,udp:53\n"
				 "# npd-g-4: group\n"
				 "create npd-g-4 hash:ip family inet counters -exist\n"
				 "flush npd-g-4\n"
				 "add npd-g-4 10.0.0.2\n"
				 "# npd-g-6: group\n"
				 "create npd-g-6 hash:ip family inet6 counters -exist\n"
				 "flush npd-g-6\n"
				 "add npd-g-6 fd00::2\n");
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
}
END_TEST

static int
run_with_input(const char *cmd, const char *text)
{
	FILE *p = popen(cmd, "w");
	int st;

	if (!p)
		return -1;
	fputs(text, p);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int
run_capture(const char *cmd, struct npd_buf *out)
{
	FILE *p = popen(cmd, "r");
	char chunk[4096];
	size_t n;

	if (!p)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), p)) > 0)
		npd_buf_add(out, chunk, n);
	return pclose(p);
}

/* Root only; main() moved the process into a private network namespace. */
START_TEST(kernel_accepts_text)
{
	struct npd_ruleset *rs = sample();
	struct npd_buf b, saved;

	npd_buf_init(&b);
	npd_buf_init(&saved);
	npd_ruleset_format_sets(rs, 0, &b);
	ck_assert_int_eq(run_with_input("ipset restore", b.data), 0);
	/* Twice: -exist and flush make it idempotent. */
	ck_assert_int_eq(run_with_input("ipset restore", b.data), 0);
	npd_buf_reset(&b);
	npd_ruleset_format_table(&rs->v4, &b);
	ck_assert_int_eq(run_with_input("iptables-legacy-restore --noflush", b.data), 0);
	npd_buf_reset(&b);
	npd_ruleset_format_table(&rs->v6, &b);
	ck_assert_int_eq(run_with_input("ip6tables-legacy-restore --noflush", b.data), 0);

	/* What the kernel holds prints back as we print it. */
	ck_assert_int_eq(run_capture("iptables-legacy-save -t filter", &saved), 0);
	ck_assert_ptr_nonnull(strstr(saved.data, "-A NPD-P -p tcp -m tcp --dport 80:90 -m set "
						 "--match-set npd-b-4 src -m set ! --match-set "
						 "npd-c-4 dst,dst"));
	ck_assert_ptr_nonnull(strstr(saved.data, "-A FORWARD -j NPD-FORWARD"));
	ck_assert_ptr_nonnull(strstr(saved.data, "-A NPD-FORWARD -m set --match-set npd-g-4 dst "
						 "! --update-counters -j NPD-P\n"));
	npd_buf_reset(&saved);
	ck_assert_int_eq(run_capture("ip6tables-legacy-save -t filter", &saved), 0);
	ck_assert_ptr_nonnull(strstr(saved.data, "-A NPD-FORWARD -m set --match-set npd-g-6 dst "
						 "! --update-counters -j NPD-P\n"));
	npd_buf_reset(&saved);
	ck_assert_int_eq(run_capture("ipset list -terse npd-g-6", &saved), 0);
	ck_assert_ptr_nonnull(strstr(saved.data, " counters"));
	npd_buf_reset(&saved);
	ck_assert_int_eq(run_capture("ipset list -terse npd-a-4", &saved), 0);
	ck_assert_ptr_null(strstr(saved.data, " counters"));
	npd_buf_reset(&saved);
	ck_assert_int_eq(run_capture("ipset list npd-b-4", &saved), 0);
	ck_assert_ptr_nonnull(strstr(saved.data, "10.1.0.0/16 nomatch"));
	npd_buf_fini(&saved);
	npd_buf_fini(&b);
	npd_ruleset_free(rs);
}
END_TEST

/* A block shared by two rulesets' sets: adding to one set copies, the other keeps the
 * block; each ruleset frees only its reference (ASan reports a double free or a leak). */
START_TEST(shared_entries_copy_on_add)
{
	struct npd_ruleset *a = npd_ruleset_new(), *b = npd_ruleset_new();
	struct npd_entry_block *blk = NULL;
	struct npd_set *sa, *sb;
	const struct npd_set *fa, *fb;
	struct npd_set_entry e;
	size_t i;

	for (i = 0; i < 3; i++) {
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(npd_addr_parse(i == 0	 ? "10.0.0.1"
						: i == 1 ? "10.0.0.2"
							 : "10.0.0.3",
						&e.addr),
				 0);
		npd_entry_block_own(&blk, 1);
		blk->e[blk->n++] = e;
	}
	sa = npd_ruleset_add_set(a, "npd-a", NPD_SET_HASH_IP, AF_INET, NULL);
	sb = npd_ruleset_add_set(b, "npd-a", NPD_SET_HASH_IP, AF_INET, NULL);
	npd_set_share(sa, blk);
	npd_set_share(sb, blk);
	ck_assert_uint_eq(blk->refs, 3);
	ck_assert_ptr_eq(sa->entries, sb->entries);
	/* Owning a shared block copies it and leaves the others theirs. */
	{
		struct npd_entry_block *mine = blk;

		npd_entry_block_own(&mine, 1);
		ck_assert_ptr_ne(mine, blk);
		ck_assert_uint_eq(blk->refs, 2);
		ck_assert_uint_eq(mine->n, 3);
		mine->n = 0;
		blk = mine;
	}
	ck_assert_int_eq(npd_addr_parse("10.0.0.0", &e.addr), 0);
	npd_ruleset_add_entry(sa, &e);
	npd_ruleset_seal(a);
	npd_ruleset_seal(b);
	fa = npd_ruleset_find_set(a, "npd-a");
	fb = npd_ruleset_find_set(b, "npd-a");
	ck_assert_ptr_null(fa->block);
	ck_assert_uint_eq(fa->n_entries, 4);
	ck_assert_uint_eq(fb->n_entries, 3);
	ck_assert_uint_eq(fb->block->refs, 1);
	npd_ruleset_free(a);
	npd_ruleset_free(b);
	npd_entry_block_unref(blk);
}
END_TEST

/* Chains sharing rules: a change to one copies them first, the others keep theirs; clearing
 * one lets go of them; each holder frees in any order. */
START_TEST(shared_rules_copy_on_change)
{
	struct npd_ruleset *a = npd_ruleset_new(), *b = npd_ruleset_new();
	struct npd_chain src, *ca, *cb;
	struct npd_rule r;
	uint64_t h;
	int i;

	memset(&src, 0, sizeof(src));
	snprintf(src.name, sizeof(src.name), "NPD-T");
	for (i = 0; i < 3; i++) {
		memset(&r, 0, sizeof(r));
		r.proto = 6;
		r.dport_lo = r.dport_hi = (uint16_t)(80 + i);
		r.target = NPD_T_RETURN;
		r.comment = npd_xstrdup("port");
		npd_ruleset_add_rule(&src, &r);
		npd_rule_fini(&r);
	}
	npd_chain_seal(&src);
	h = src.hash;
	ca = npd_ruleset_add_chain_share(&a->v4, &src);
	cb = npd_ruleset_add_chain_share(&b->v4, &src);
	ck_assert_ptr_eq(ca->rules, src.rules);
	ck_assert_ptr_eq(cb->rules, src.rules);
	ck_assert_uint_eq(*src.shared, 3);
	ck_assert_uint_eq(ca->hash, h);
	/* a changes its chain: its own copy, the others untouched */
	memset(&r, 0, sizeof(r));
	r.target = NPD_T_RETURN;
	npd_ruleset_add_rule(ca, &r);
	ck_assert_ptr_ne(ca->rules, src.rules);
	ck_assert_ptr_null(ca->shared);
	ck_assert_uint_eq(ca->n_rules, 4);
	ck_assert_uint_eq(src.n_rules, 3);
	ck_assert_uint_eq(cb->n_rules, 3);
	ck_assert_uint_eq(*src.shared, 2);
	npd_ruleset_seal(a);
	npd_ruleset_seal(b);
	ck_assert(a->v4.chains[0].hash != h);
	ck_assert_uint_eq(b->v4.chains[0].hash, h);
	ck_assert_str_eq(b->v4.chains[0].rules[2].comment, "port");
	/* the source lets go first; b's chain still holds the rules */
	npd_chain_fini(&src);
	ck_assert_uint_eq(b->v4.chains[0].n_rules, 3);
	ck_assert_uint_eq(*b->v4.chains[0].shared, 1);
	npd_chain_clear_rules(&a->v4.chains[0]);
	ck_assert_uint_eq(a->v4.chains[0].n_rules, 0);
	ck_assert_uint_eq(a->v4.chains[0].hash, 0);
	npd_ruleset_free(a);
	npd_ruleset_free(b);
}
END_TEST

int
main(void)
{
	const TTest *const core[] = {seal_sorts_and_dedupes,
				     sealed_sets_are_left_and_added_ones_sorted,
				     hashes_follow_content,
				     del_keeps_sealed_and_hooks_compare_as_sets,
				     tcp_flags_icmp6_type_and_reset_are_content,
				     update_counters_is_content,
				     iptables_text,
				     ipset_text,
				     shared_entries_copy_on_add,
				     shared_rules_copy_on_change,
				     NULL};
	const TTest *const kernel_tests[] = {kernel_accepts_text, NULL};
	Suite *s = tu_suite("ruleset", "core", core);
	bool kernel = geteuid() == 0 && unshare(CLONE_NEWNET) == 0 &&
		      access("/usr/sbin/iptables-legacy-restore", X_OK) == 0;

	if (kernel)
		tu_suite_add(s, "kernel", kernel_tests);
	else
		fprintf(stderr, "check_ruleset: not root in a new netns: kernel case skipped\n");
	if (tu_run(s) != EXIT_SUCCESS)
		return EXIT_FAILURE;
	/* A suite missing its kernel case is reported as skipped (77), never as passed. */
	return kernel ? EXIT_SUCCESS : 77;
}
