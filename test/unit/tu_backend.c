/* tu_backend.c: kernel fixtures for the check_backend_* suites (see tu_backend.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "testutil.h"
#include "tu_backend.h"

void
tu_enter_netns(void)
{
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
}

char *
tu_sh(const char *cmd)
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

char *
tu_save_lines(const char *tool, const char *pattern)
{
	char *cmd = npd_xasprintf("%s -t filter", tool), *all = tu_sh(cmd), *line, *save = NULL;
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

struct npd_cidr
tu_cidr(const char *s)
{
	struct npd_cidr c;

	ck_assert_int_eq(npd_cidr_parse(s, true, &c), 0);
	return c;
}

struct npd_set_entry
tu_entry(const char *addr, uint8_t prefix, bool nomatch, uint8_t proto, uint16_t port)
{
	struct npd_set_entry e = {
	    .prefix = prefix, .nomatch = nomatch, .proto = proto, .port = port};

	ck_assert_int_eq(npd_addr_parse(addr, &e.addr), 0);
	return e;
}

void
tu_add_entry(struct npd_set *s, const char *addr, uint8_t prefix, bool nomatch, uint8_t proto,
	     uint16_t port)
{
	struct npd_set_entry e = tu_entry(addr, prefix, nomatch, proto, port);

	npd_ruleset_add_entry(s, &e);
}

struct npd_set_match
tu_setm(const char *name, uint8_t dims, uint8_t dirs, bool negate)
{
	struct npd_set_match m = {.dims = dims, .dirs = dirs, .negate = negate};

	snprintf(m.name, sizeof(m.name), "%s", name);
	return m;
}

void
tu_build_full(struct npd_ruleset *rs, uint8_t fam)
{
	bool v6 = fam == AF_INET6;
	struct npd_table *t = npd_ruleset_table(rs, fam);
	const char *ipset = v6 ? "npd-t-ip6" : "npd-t-ip4";
	const char *portset = v6 ? "npd-t-port6" : "npd-t-port4";
	const char *netset = v6 ? "npd-t-net6" : "npd-t-net4";
	const char *grpset = v6 ? "npd-t-grp6" : "npd-t-grp4";
	struct npd_set *s;
	struct npd_chain *c;
	struct npd_rule r;

	s = npd_ruleset_add_set(rs, ipset, NPD_SET_HASH_IP, fam, "pods");
	tu_add_entry(s, v6 ? "fd00::1" : "10.0.0.1", 0, false, 0, 0);
	s = npd_ruleset_add_set(rs, portset, NPD_SET_HASH_IP_PORT, fam, "named ports");
	tu_add_entry(s, v6 ? "fd00::2" : "10.0.0.2", 0, false, 6, 8080);
	s = npd_ruleset_add_set(rs, netset, NPD_SET_HASH_NET, fam, "ipblock");
	tu_add_entry(s, v6 ? "fd00::" : "10.0.0.0", v6 ? 64 : 8, false, 0, 0);
	tu_add_entry(s, v6 ? "fd00::" : "10.0.0.0", v6 ? 96 : 24, true, 0, 0);
	s = npd_ruleset_add_set(rs, grpset, NPD_SET_HASH_IP, fam, "local pod group");
	s->counters = true;
	tu_add_entry(s, v6 ? "fd00::3" : "10.0.0.3", 0, false, 0, 0);

	c = npd_ruleset_add_chain(t, "NPD-T-A");
	npd_ruleset_add_rule(
	    c, &(struct npd_rule){.has_src = true,
				  .has_dst = true,
				  .src = tu_cidr(v6 ? "fd00:1::/64" : "10.1.0.0/16"),
				  .dst = tu_cidr(v6 ? "fd00:2::4/128" : "10.2.3.4/32"),
				  .proto = 6,
				  .dport_lo = 80,
				  .dport_hi = 80,
				  .target = NPD_T_ACCEPT});

	npd_ruleset_add_rule(
	    c,
	    &(struct npd_rule){.proto = 17, .dport_lo = 53, .dport_hi = 55, .target = NPD_T_DROP});

	npd_ruleset_add_rule(
	    c, &(struct npd_rule){
		   .proto = 132, .dport_lo = 9000, .dport_hi = 9000, .target = NPD_T_RETURN});

	memset(&r, 0, sizeof(r));
	r.sets[0] = tu_setm(ipset, 1, 0, false);
	r.sets[1] = tu_setm(portset, 2, 0x3, true);
	r.n_sets = 2;
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "NPD-T-B");
	npd_ruleset_add_rule(c, &r);

	npd_ruleset_add_rule(c, &(struct npd_rule){.sets[0] = tu_setm(netset, 1, 0x1, false),
						   .n_sets = 1,
						   .ctstate = NPD_CT_RELATED | NPD_CT_ESTABLISHED,
						   .target = NPD_T_ACCEPT});

	npd_ruleset_add_rule(c, &(struct npd_rule){.ctstate = NPD_CT_NEW | NPD_CT_INVALID,
						   .has_mark = true,
						   .mark_value = 0x10000,
						   .mark_mask = 0x10000,
						   .target = NPD_T_ACCEPT});

	tu_add_nflog(c, "npd drop");

	npd_ruleset_add_rule(
	    c, &(struct npd_rule){.comment = (char *)(uintptr_t) "allow web from \"frontend\"",
				  .target = NPD_T_MARK,
				  .set_mark = 0x10000,
				  .set_mask = 0x10000});

	npd_ruleset_add_rule(c, &(struct npd_rule){.proto = 6, .target = NPD_T_REJECT});

	npd_ruleset_add_rule(c, &(struct npd_rule){.comment = (char *)(uintptr_t) "count",
						   .limit_per_sec = 3,
						   .target = NPD_T_NONE});

	npd_ruleset_add_rule(c, &(struct npd_rule){.proto = 6,
						   .tcp_not_syn = true,
						   .ctstate = NPD_CT_NEW,
						   .target = NPD_T_REJECT,
						   .reject_with = NPD_REJECT_TCP_RESET});

	npd_ruleset_add_rule(c, &(struct npd_rule){.proto = 6,
						   .dport_lo = 443,
						   .dport_hi = 443,
						   .tcp_not_syn = true,
						   .target = NPD_T_DROP});

	/* A group's dispatch leaves the entry's counters alone; its deny counts. */
	memset(&r, 0, sizeof(r));
	r.sets[0] = tu_setm(grpset, 1, 0x1, false);
	r.sets[0].no_counters = true;
	r.n_sets = 1;
	r.target = NPD_T_JUMP;
	snprintf(r.jump, sizeof(r.jump), "NPD-T-B");
	npd_ruleset_add_rule(c, &r);
	r.sets[0].no_counters = false;
	r.target = NPD_T_REJECT;
	npd_ruleset_add_rule(c, &r);

	if (v6) {
		npd_ruleset_add_rule(c, &(struct npd_rule){.proto = 58,
							   .has_icmp6_type = true,
							   .icmp6_type = 136,
							   .target = NPD_T_RETURN});
	}

	c = npd_ruleset_add_chain(t, "NPD-T-B");
	npd_ruleset_add_rule(c, &(struct npd_rule){.target = NPD_T_RETURN});

	npd_ruleset_add_hook(t, "FORWARD", "NPD-T-A");
}

struct npd_table_change
tu_change_all(const struct npd_table *t, const struct npd_chain **write)
{
	struct npd_table_change chg = {.family = t->family, .commit = true, .desired = t};
	size_t i;

	for (i = 0; i < t->n_chains; i++)
		write[i] = &t->chains[i];
	chg.write = write;
	chg.n_write = t->n_chains;
	return chg;
}

struct npd_backend *
tu_open_backend(const struct npd_backend_ops *ops, const struct npd_backend_opts *opts)
{
	struct npd_backend *b = NULL;

	struct npd_err err = {0};
	int rc = ops->open(opts, &b, &err);

	ck_assert_msg(rc == 0, "%s", npd_err_text(&err, rc));
	return b;
}

struct npd_set_backend *
tu_open_sets(void)
{
	struct npd_set_backend *sb = NULL;
	struct npd_err err = {0};
	int rc = npd_set_backend_ipset.open(NULL, &sb, &err);

	ck_assert_msg(rc == 0, "%s", npd_err_text(&err, rc));
	return sb;
}

void
tu_create_sets(const struct npd_ruleset *rs)
{
	struct npd_set_backend *sb = tu_open_sets();
	struct npd_err err = {0};
	size_t i;
	int rc;

	for (i = 0; i < rs->n_sets; i++) {
		rc = npd_set_backend_ipset.create(sb, &rs->sets[i], &err);
		ck_assert_msg(rc == 0, "%s", npd_err_text(&err, rc));
	}
	npd_set_backend_ipset.close(sb);
}

struct npd_backend *
tu_open_full(const struct npd_backend_ops *ops, struct npd_ruleset *rs, bool v6,
	     const struct npd_backend_opts *opts)
{
	struct npd_backend *b;

	tu_build_full(rs, AF_INET);
	if (v6)
		tu_build_full(rs, AF_INET6);
	npd_ruleset_seal(rs);
	b = tu_open_backend(ops, opts);
	tu_create_sets(rs);
	return b;
}

void
tu_commit_table(const struct npd_backend_ops *ops, struct npd_backend *b, const struct npd_table *t)
{
	const struct npd_chain *w[8];
	struct npd_table_change chg = tu_change_all(t, w);

	struct npd_err err = {0};
	int rc = ops->commit(b, &chg, &err);

	ck_assert_msg(rc == 0, "%s", npd_err_text(&err, rc));
}

const char *const tu_expect_v4 =
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
    "-A NPD-T-A -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK SYN -m conntrack --ctstate NEW "
    "-j REJECT --reject-with tcp-reset\n"
    "-A NPD-T-A -p tcp -m tcp --dport 443 ! --tcp-flags FIN,SYN,RST,ACK SYN -j DROP\n"
    "-A NPD-T-A -m set --match-set npd-t-grp4 dst ! --update-counters -j NPD-T-B\n"
    "-A NPD-T-A -m set --match-set npd-t-grp4 dst -j REJECT --reject-with icmp-port-unreachable\n"
    "-A NPD-T-B -j RETURN\n";

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

void
tu_check_counters_per_rule(const struct npd_backend_ops *ops)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	size_t n[2] = {0, 0};
	struct npd_plan only = {0};
	const struct npd_chain *write[1];

	tu_enter_netns();
	b = tu_open_full(ops, rs, false, NULL);
	tu_commit_table(ops, b, &rs->v4);
	write[0] = npd_ruleset_find_chain(&rs->v4, "NPD-T-B");
	ck_assert_ptr_nonnull(write[0]);
	ck_assert_int_eq(ops->read_counters(b, NULL, count_rule, n, NULL), 0);
	ck_assert_uint_eq(n[0], rs->v4.chains[0].n_rules);
	ck_assert_uint_eq(n[1], 1);
	/* Limited to a plan: only the chains it rewrites, none when it commits no chain. */
	only.v4.family = AF_INET;
	only.v4.commit = true;
	only.v4.write = write;
	only.v4.n_write = 1;
	n[0] = n[1] = 0;
	ck_assert_int_eq(ops->read_counters(b, &only, count_rule, n, NULL), 0);
	ck_assert_uint_eq(n[0], 0);
	ck_assert_uint_eq(n[1], 1);
	only.v4.n_write = 0;
	n[1] = 0;
	ck_assert_int_eq(ops->read_counters(b, &only, count_rule, n, NULL), 0);
	ck_assert_uint_eq(n[0] + n[1], 0);
	ops->close(b);
	npd_ruleset_free(rs);
}

void
tu_check_reads_back(const struct tu_tools *tl, struct npd_ruleset *rs, char **ours, char **v6)
{
	struct npd_backend *b;

	tu_enter_netns();
	b = tu_open_full(tl->ops, rs, true, NULL);
	tu_commit_table(tl->ops, b, npd_ruleset_get_table(rs, AF_INET));
	tu_commit_table(tl->ops, b, npd_ruleset_get_table(rs, AF_INET6));
	tl->ops->close(b);
	*ours = tu_save_lines(tl->save4, "NPD-T-");
	ck_assert_str_eq(*ours, tu_expect_v4);
	*v6 = tu_save_lines(tl->save6, "NPD-T-");
	ck_assert_ptr_nonnull(strstr(*v6, "-A NPD-T-A -s fd00:1::/64 -d fd00:2::4/128 -p tcp -m "
					  "tcp --dport 80 -j ACCEPT\n"));
	ck_assert_ptr_nonnull(strstr(*v6, "-m set --match-set npd-t-ip6 src -m set ! --match-set "
					  "npd-t-port6 dst,dst -j NPD-T-B\n"));
	ck_assert_ptr_nonnull(
	    strstr(*v6, "-A NPD-T-A -p tcp -j REJECT --reject-with icmp6-port-unreachable\n"));
	ck_assert_ptr_nonnull(strstr(*v6, "-A NPD-T-A -p tcp -m tcp ! --tcp-flags FIN,SYN,RST,ACK "
					  "SYN -m conntrack --ctstate NEW -j REJECT --reject-with "
					  "tcp-reset\n"));
	ck_assert_ptr_nonnull(
	    strstr(*v6, "-A NPD-T-A -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN\n"));
	ck_assert_ptr_nonnull(strstr(*v6, "-A FORWARD -j NPD-T-A\n"));
	ck_assert_ptr_nonnull(strstr(*v6, "-A NPD-T-A -m set --match-set npd-t-grp6 dst ! "
					  "--update-counters -j NPD-T-B\n"));
	ck_assert_ptr_nonnull(strstr(*v6, "-A NPD-T-A -m set --match-set npd-t-grp6 dst -j REJECT "
					  "--reject-with icmp6-port-unreachable\n"));
}

void
tu_run_cmd(const char *tool, const char *args)
{
	char *cmd = npd_xasprintf("%s %s", tool, args);

	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	free(cmd);
}

void
tu_check_hook_returns_to_the_top(const struct tu_tools *tl)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_owned o = {0};
	struct npd_err t_err;
	char *fw;

	tu_enter_netns();
	b = tu_open_full(tl->ops, rs, false, NULL);
	tu_commit_table(tl->ops, b, &rs->v4);
	tu_run_cmd(tl->cmd4, "-I FORWARD 1 -j ACCEPT");
	fw = tu_save_lines(tl->save4, "-A FORWARD");
	ck_assert_str_eq(fw, "-A FORWARD -j ACCEPT\n-A FORWARD -j NPD-T-A\n");
	free(fw);
	/* The resync must see the displaced hook as drift. */
	ck_assert_int_eq(tl->ops->list_owned(b, &o, &t_err), 0);
	ck_assert(npd_owned_family(&o, AF_INET)->hook_displaced);
	ck_assert(!npd_owned_family(&o, AF_INET6)->hook_displaced);
	npd_owned_fini(&o);
	tu_commit_table(tl->ops, b, &rs->v4);
	ck_assert_int_eq(tl->ops->list_owned(b, &o, &t_err), 0);
	ck_assert(!npd_owned_family(&o, AF_INET)->hook_displaced);
	npd_owned_fini(&o);
	fw = tu_save_lines(tl->save4, "-A FORWARD");
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n");
	free(fw);
	/* Already on top: a further commit leaves FORWARD alone (its counters too). */
	tu_run_cmd(tl->cmd4, "-A FORWARD -j DROP");
	tu_commit_table(tl->ops, b, &rs->v4);
	fw = tu_save_lines(tl->save4, "-A FORWARD");
	ck_assert_str_eq(fw, "-A FORWARD -j NPD-T-A\n-A FORWARD -j ACCEPT\n-A FORWARD -j DROP\n");
	free(fw);
	tl->ops->close(b);
	npd_ruleset_free(rs);
}

void
tu_check_foreign_rules_survive(const struct tu_tools *tl)
{
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_backend *b;
	struct npd_set_backend *sb;
	char *before4, *before6, *after, *fw;
	struct npd_owned o = {0};
	struct npd_err t_err;
	const struct npd_chain *w[8];
	struct npd_table_change chg;
	char del[1][NPD_CHAIN_NAMELEN] = {"NPD-T-B"};
	struct npd_table *t;
	size_t n_rules, n_counted, i;

	tu_enter_netns();
	tu_run_cmd(tl->cmd4, "-N FOREIGN");
	tu_run_cmd(tl->cmd4, "-A FOREIGN -p tcp --dport 22 -j ACCEPT");
	tu_run_cmd(tl->cmd4, "-A FORWARD -s 192.0.2.0/24 -j FOREIGN");
	tu_run_cmd(tl->cmd4, "-A INPUT -j ACCEPT");
	tu_run_cmd(tl->cmd6, "-A OUTPUT -j ACCEPT");
	before4 = tu_save_lines(tl->save4, NULL);
	before6 = tu_save_lines(tl->save6, NULL);
	b = tu_open_full(tl->ops, rs, true, NULL);
	sb = tu_open_sets();
	tu_commit_table(tl->ops, b, &rs->v4);
	tu_commit_table(tl->ops, b, &rs->v6);
	fw = tu_save_lines(tl->save4, "-A FORWARD");
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
	ck_assert_msg(tl->ops->commit(b, &chg, &t_err) == 0, "%s", t_err.msg);
	t->chains[0].n_rules = n_rules;
	after = tu_save_lines(tl->save4, "NPD-T-");
	ck_assert_ptr_null(strstr(after, "NPD-T-B"));
	ck_assert_ptr_nonnull(strstr(after, "-A NPD-T-A -p sctp -m sctp --dport 9000 -j RETURN\n"));
	free(after);
	after = tu_save_lines(tl->save4, "FOREIGN");
	ck_assert_str_eq(after, ":FOREIGN - [0:0]\n-A FORWARD -s 192.0.2.0/24 -j FOREIGN\n"
				"-A FOREIGN -p tcp -m tcp --dport 22 -j ACCEPT\n");
	free(after);

	/* The table backend lists chains and hooks, the set backend sets. */
	ck_assert_int_eq(tl->ops->list_owned(b, &o, &t_err), 0);
	ck_assert_uint_eq(o.n_sets, 0);
	npd_owned_fini(&o);
	ck_assert_int_eq(npd_backend_list_owned(tl->ops, b, &npd_set_backend_ipset, sb, &o, &t_err),
			 0);
	ck_assert_uint_eq(o.n_chains, 3); /* v4 NPD-T-A, v6 NPD-T-A and NPD-T-B */
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET)->n_hooks, 1);
	ck_assert_str_eq(npd_owned_family(&o, AF_INET)->hooks[0].chain, "NPD-T-A");
	ck_assert_uint_eq(npd_owned_family(&o, AF_INET6)->n_hooks, 1);
	ck_assert_uint_eq(o.n_sets, 8);
	/* Only the two group sets carry counters. */
	for (n_counted = 0, i = 0; i < o.n_sets; i++)
		if (o.sets[i].counters) {
			ck_assert_ptr_nonnull(strstr(o.sets[i].name, "npd-t-grp"));
			n_counted++;
		}
	ck_assert_uint_eq(n_counted, 2);
	npd_owned_fini(&o);

	ck_assert_msg(npd_backend_cleanup(tl->ops, b, &npd_set_backend_ipset, sb, &t_err) == 0,
		      "%s", t_err.msg);
	after = tu_save_lines(tl->save4, NULL);
	ck_assert_str_eq(after, before4);
	free(after);
	after = tu_save_lines(tl->save6, NULL);
	ck_assert_str_eq(after, before6);
	free(after);
	after = tu_sh("ipset list -name");
	ck_assert_str_eq(after, "");
	free(after);

	free(before4);
	free(before6);
	npd_set_backend_ipset.close(sb);
	tl->ops->close(b);
	npd_ruleset_free(rs);
}

int
tu_backend_main(const char *name, const TTest *const *tests, const char *probe, const char *need)
{
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
	if (system(probe) != 0) {
		fprintf(stderr, "skip: needs %s\n", need);
		return 77;
	}
	return tu_run(tu_suite(name, "kernel", tests));
}

/* Sends n UDP datagrams to addr (IPv4 or IPv6) on a port a socket of ours listens on, so
 * no ICMP error comes back: each one crosses OUTPUT once. */
static void
send_udp(const char *addr, unsigned n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET, rx, tx;
	unsigned i;

	memset(&ss, 0, sizeof(ss));
	if (fam == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		ck_assert_int_eq(inet_pton(AF_INET6, addr, &a->sin6_addr), 1);
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		ck_assert_int_eq(inet_pton(AF_INET, addr, &a->sin_addr), 1);
		len = sizeof(*a);
	}
	rx = socket(fam, SOCK_DGRAM, 0);
	tx = socket(fam, SOCK_DGRAM, 0);
	ck_assert_int_ge(rx, 0);
	ck_assert_int_ge(tx, 0);
	ck_assert_int_eq(bind(rx, (struct sockaddr *)&ss, len), 0);
	ck_assert_int_eq(getsockname(rx, (struct sockaddr *)&ss, &len), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(sendto(tx, "x", 1, 0, (struct sockaddr *)&ss, len), 1);
	close(tx);
	close(rx);
}

/* Packet counts of the rules of our chains, in the order read. */
struct rule_counts {
	uint8_t family[8];
	uint64_t packets[8];
	size_t n;
};

static void
record_rule_packets(uint8_t family, const char *chain, size_t idx, uint64_t packets, uint64_t bytes,
		    void *ctx)
{
	struct rule_counts *c = ctx;

	(void)chain;
	(void)idx;
	(void)bytes;
	ck_assert_uint_lt(c->n, 8);
	c->family[c->n] = family;
	c->packets[c->n++] = packets;
}

/* Packet counts of the entries of a counted set, by address text. */
struct entry_counts {
	char addr[4][NPD_ADDRSTRLEN];
	uint64_t packets[4];
	size_t n;
};

static void
record_entry(const char *set, const struct npd_set_entry *e, uint64_t packets, uint64_t bytes,
	     void *ctx)
{
	struct entry_counts *c = ctx;

	(void)set;
	(void)bytes;
	ck_assert_uint_lt(c->n, 4);
	npd_addr_format(&e->addr, c->addr[c->n]);
	c->packets[c->n++] = packets;
}

static uint64_t
entry_packets(const struct entry_counts *c, const char *addr)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (!strcmp(c->addr[i], addr))
			return c->packets[i];
	ck_abort_msg("%s not read", addr);
	return 0;
}

void
tu_check_entry_counters(const struct npd_backend_ops *ops)
{
	static const char *const grp[2] = {"npd-t-cnt4", "npd-t-cnt6"};
	static const char *const hit[2] = {"127.0.0.2", "::1"}, *const idle[2] = {"127.0.0.3",
										  "fd00::3"};
	static const uint8_t families[2] = {AF_INET, AF_INET6};
	struct npd_ruleset *rs = npd_ruleset_new();
	struct npd_set_backend *sb;
	struct npd_backend *b;
	struct rule_counts rules = {0};
	struct entry_counts ec;
	size_t f, i;

	tu_enter_netns();
	ck_assert_int_eq(system("ip link set lo up"), 0);
	for (f = 0; f < 2; f++) {
		struct npd_table *t = npd_ruleset_table(rs, families[f]);
		struct npd_set *s =
		    npd_ruleset_add_set(rs, grp[f], NPD_SET_HASH_IP, families[f], NULL);
		struct npd_chain *c = npd_ruleset_add_chain(t, "NPD-T-OUT");
		struct npd_rule r = {.n_sets = 1, .target = NPD_T_NONE};

		s->counters = true;
		tu_add_entry(s, hit[f], 0, false, 0, 0);
		tu_add_entry(s, idle[f], 0, false, 0, 0);
		r.sets[0] = tu_setm(grp[f], 1, NPD_SETDIR_DST(0), false);
		r.sets[0].no_counters = true;
		npd_ruleset_add_rule(c, &r);
		r.sets[0].no_counters = false;
		npd_ruleset_add_rule(c, &r);
		npd_ruleset_add_hook(t, "OUTPUT", "NPD-T-OUT");
	}
	npd_ruleset_seal(rs);
	b = tu_open_backend(ops, NULL);
	tu_create_sets(rs);
	tu_commit_table(ops, b, &rs->v4);
	tu_commit_table(ops, b, &rs->v6);
	send_udp(hit[0], 7);
	send_udp(hit[1], 4);

	ck_assert_int_eq(ops->read_counters(b, NULL, record_rule_packets, &rules, NULL), 0);
	ck_assert_uint_eq(rules.n, 4);
	for (i = 0; i < rules.n; i++)
		ck_assert_uint_eq(rules.packets[i], rules.family[i] == AF_INET ? 7 : 4);
	sb = tu_open_sets();
	for (f = 0; f < 2; f++) {
		memset(&ec, 0, sizeof(ec));
		ck_assert_int_eq(
		    npd_set_backend_ipset.read_counters(sb, grp[f], record_entry, &ec, NULL), 0);
		ck_assert_uint_eq(ec.n, 2);
		ck_assert_uint_eq(entry_packets(&ec, hit[f]), (f ? 4 : 7));
		ck_assert_uint_eq(entry_packets(&ec, idle[f]), 0);
	}
	npd_set_backend_ipset.close(sb);
	ops->close(b);
	npd_ruleset_free(rs);
}
