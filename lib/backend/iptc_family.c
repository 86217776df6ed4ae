/* iptc_family.c: thin shims over libip4tc and libip6tc. The two libraries are one API
 * under two prefixes (iptc_, ip6tc_) whose rule-level calls take that family's entry type
 * (ipt_entry, ip6t_entry); the shims take the entry as bytes so one backend body serves
 * both, and are written once below for either prefix. No state, no policy: what to write
 * is decided elsewhere. */
#include <string.h>
#include <sys/socket.h>

#include <libiptc/libip6tc.h>
#include <libiptc/libiptc.h>

#include "iptc_family.h"

/* The shims and the table of family TAG: library prefix P, entry type E, whose address
 * part is the member IP of type IPT. */
#define NPD_IPTC_FAMILY(TAG, AF, P, E, IPT, IP)                                                    \
	static const void *TAG##_first_rule(const char *chain, struct xtc_handle *h)               \
	{                                                                                          \
		return P##_first_rule(chain, h);                                                   \
	}                                                                                          \
	static const void *TAG##_next_rule(const void *prev, struct xtc_handle *h)                 \
	{                                                                                          \
		return P##_next_rule(prev, h);                                                     \
	}                                                                                          \
	static const char *TAG##_get_target(const void *e, struct xtc_handle *h)                   \
	{                                                                                          \
		return P##_get_target(e, h);                                                       \
	}                                                                                          \
	/* Nothing but the target: no match, and an address part that matches anything. */         \
	static bool TAG##_is_plain(const void *e)                                                  \
	{                                                                                          \
		static const IPT any;                                                              \
		const E *x = e;                                                                    \
                                                                                                   \
		return x->target_offset == sizeof(*x) && !memcmp(&x->IP, &any, sizeof(any));       \
	}                                                                                          \
	static const struct xt_counters *TAG##_counters(const void *e)                             \
	{                                                                                          \
		return &((const E *)e)->counters;                                                  \
	}                                                                                          \
	static int TAG##_append(const char *chain, const void *e, struct xtc_handle *h)            \
	{                                                                                          \
		return P##_append_entry(chain, e, h);                                              \
	}                                                                                          \
	static int TAG##_insert(const char *chain, const void *e, unsigned num,                    \
				struct xtc_handle *h)                                              \
	{                                                                                          \
		return P##_insert_entry(chain, e, num, h);                                         \
	}                                                                                          \
	static int TAG##_delete_num(const char *chain, unsigned num, struct xtc_handle *h)         \
	{                                                                                          \
		return P##_delete_num_entry(chain, num, h);                                        \
	}                                                                                          \
	static int TAG##_flush(const char *chain, struct xtc_handle *h)                            \
	{                                                                                          \
		return P##_flush_entries(chain, h);                                                \
	}                                                                                          \
	static int TAG##_create_chain(const char *chain, struct xtc_handle *h)                     \
	{                                                                                          \
		return P##_create_chain(chain, h);                                                 \
	}                                                                                          \
	static int TAG##_delete_chain(const char *chain, struct xtc_handle *h)                     \
	{                                                                                          \
		return P##_delete_chain(chain, h);                                                 \
	}                                                                                          \
	const struct npd_iptc_fam npd_iptc_##TAG = {                                               \
	    .family = AF,                                                                          \
	    .tag = #TAG,                                                                           \
	    .init = P##_init,                                                                      \
	    .free = P##_free,                                                                      \
	    .is_chain = P##_is_chain,                                                              \
	    .builtin = P##_builtin,                                                                \
	    .first_chain = P##_first_chain,                                                        \
	    .next_chain = P##_next_chain,                                                          \
	    .first_rule = TAG##_first_rule,                                                        \
	    .next_rule = TAG##_next_rule,                                                          \
	    .get_target = TAG##_get_target,                                                        \
	    .is_plain = TAG##_is_plain,                                                            \
	    .counters = TAG##_counters,                                                            \
	    .append = TAG##_append,                                                                \
	    .insert = TAG##_insert,                                                                \
	    .delete_num = TAG##_delete_num,                                                        \
	    .flush = TAG##_flush,                                                                  \
	    .create_chain = TAG##_create_chain,                                                    \
	    .delete_chain = TAG##_delete_chain,                                                    \
	    .commit = P##_commit,                                                                  \
	    .strerror = P##_strerror,                                                              \
	};

NPD_IPTC_FAMILY(v4, AF_INET, iptc, struct ipt_entry, struct ipt_ip, ip)
NPD_IPTC_FAMILY(v6, AF_INET6, ip6tc, struct ip6t_entry, struct ip6t_ip6, ipv6)

const struct npd_iptc_fam *
npd_iptc_fam_of(uint8_t family)
{
	return family == AF_INET6 ? &npd_iptc_v6 : &npd_iptc_v4;
}
