/* iptc_family.c: thin shims over libip4tc and libip6tc. The rule-level calls of each
 * library take that family's entry type; the shims take the entry as bytes so one
 * backend body serves both. No state, no policy: what to write is decided elsewhere. */
#include <string.h>
#include <sys/socket.h>

#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>

#include "iptc_family.h"

static const void *
v4_first_rule(const char *chain, struct xtc_handle *h)
{
	return iptc_first_rule(chain, h);
}

static const void *
v4_next_rule(const void *prev, struct xtc_handle *h)
{
	return iptc_next_rule(prev, h);
}

static const char *
v4_get_target(const void *e, struct xtc_handle *h)
{
	return iptc_get_target(e, h);
}

static bool
v4_is_plain(const void *e)
{
	static const struct ipt_ip any;
	const struct ipt_entry *x = e;

	return x->target_offset == sizeof(*x) && !memcmp(&x->ip, &any, sizeof(any));
}

static const struct xt_counters *
v4_counters(const void *e)
{
	return &((const struct ipt_entry *)e)->counters;
}

static int
v4_append(const char *chain, const void *e, struct xtc_handle *h)
{
	return iptc_append_entry(chain, e, h);
}

static int
v4_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return iptc_insert_entry(chain, e, num, h);
}

static int
v4_delete_num(const char *chain, unsigned num, struct xtc_handle *h)
{
	return iptc_delete_num_entry(chain, num, h);
}

static int
v4_flush(const char *chain, struct xtc_handle *h)
{
	return iptc_flush_entries(chain, h);
}

static int
v4_create_chain(const char *chain, struct xtc_handle *h)
{
	return iptc_create_chain(chain, h);
}

static int
v4_delete_chain(const char *chain, struct xtc_handle *h)
{
	return iptc_delete_chain(chain, h);
}

static const void *
v6_first_rule(const char *chain, struct xtc_handle *h)
{
	return ip6tc_first_rule(chain, h);
}

static const void *
v6_next_rule(const void *prev, struct xtc_handle *h)
{
	return ip6tc_next_rule(prev, h);
}

static const char *
v6_get_target(const void *e, struct xtc_handle *h)
{
	return ip6tc_get_target(e, h);
}

static bool
v6_is_plain(const void *e)
{
	static const struct ip6t_ip6 any;
	const struct ip6t_entry *x = e;

	return x->target_offset == sizeof(*x) && !memcmp(&x->ipv6, &any, sizeof(any));
}

static const struct xt_counters *
v6_counters(const void *e)
{
	return &((const struct ip6t_entry *)e)->counters;
}

static int
v6_append(const char *chain, const void *e, struct xtc_handle *h)
{
	return ip6tc_append_entry(chain, e, h);
}

static int
v6_insert(const char *chain, const void *e, unsigned num, struct xtc_handle *h)
{
	return ip6tc_insert_entry(chain, e, num, h);
}

static int
v6_delete_num(const char *chain, unsigned num, struct xtc_handle *h)
{
	return ip6tc_delete_num_entry(chain, num, h);
}

static int
v6_flush(const char *chain, struct xtc_handle *h)
{
	return ip6tc_flush_entries(chain, h);
}

static int
v6_create_chain(const char *chain, struct xtc_handle *h)
{
	return ip6tc_create_chain(chain, h);
}

static int
v6_delete_chain(const char *chain, struct xtc_handle *h)
{
	return ip6tc_delete_chain(chain, h);
}

const struct npd_iptc_fam npd_iptc_v4 = {
    .family = AF_INET,
    .tag = "v4",
    .init = iptc_init,
    .free = iptc_free,
    .is_chain = iptc_is_chain,
    .builtin = iptc_builtin,
    .first_chain = iptc_first_chain,
    .next_chain = iptc_next_chain,
    .first_rule = v4_first_rule,
    .next_rule = v4_next_rule,
    .get_target = v4_get_target,
    .is_plain = v4_is_plain,
    .counters = v4_counters,
    .append = v4_append,
    .insert = v4_insert,
    .delete_num = v4_delete_num,
    .flush = v4_flush,
    .create_chain = v4_create_chain,
    .delete_chain = v4_delete_chain,
    .commit = iptc_commit,
    .strerror = iptc_strerror,
};

const struct npd_iptc_fam npd_iptc_v6 = {
    .family = AF_INET6,
    .tag = "v6",
    .init = ip6tc_init,
    .free = ip6tc_free,
    .is_chain = ip6tc_is_chain,
    .builtin = ip6tc_builtin,
    .first_chain = ip6tc_first_chain,
    .next_chain = ip6tc_next_chain,
    .first_rule = v6_first_rule,
    .next_rule = v6_next_rule,
    .get_target = v6_get_target,
    .is_plain = v6_is_plain,
    .counters = v6_counters,
    .append = v6_append,
    .insert = v6_insert,
    .delete_num = v6_delete_num,
    .flush = v6_flush,
    .create_chain = v6_create_chain,
    .delete_chain = v6_delete_chain,
    .commit = ip6tc_commit,
    .strerror = ip6tc_strerror,
};

const struct npd_iptc_fam *
npd_iptc_fam_of(uint8_t family)
{
	return family == AF_INET6 ? &npd_iptc_v6 : &npd_iptc_v4;
}
