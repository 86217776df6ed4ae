/* ruleset_equal.c: when two rules, or two hook lists, are the same for the kernel: what the
 * differ and the applied state compare a chain read back with the one wanted. Pure. */
#include <stdbool.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/ruleset.h"

static bool
hook_in(const struct npd_hook *h, const struct npd_hook *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(h->builtin, v[i].builtin) == 0 && strcmp(h->chain, v[i].chain) == 0)
			return true;
	return false;
}

bool
npd_hooks_equal(const struct npd_hook *a, size_t na, const struct npd_hook *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (!hook_in(&a[i], b, nb) || !hook_in(&b[i], a, na))
			return false;
	return true;
}

static bool
str_equal(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
npd_rule_equal(const struct npd_rule *a, const struct npd_rule *b)
{
	size_t i;

	if (a->has_src != b->has_src || a->has_dst != b->has_dst)
		return false;
	if (a->has_src && npd_cidr_cmp(&a->src, &b->src))
		return false;
	if (a->has_dst && npd_cidr_cmp(&a->dst, &b->dst))
		return false;
	if (a->proto != b->proto || a->dport_lo != b->dport_lo || a->dport_hi != b->dport_hi)
		return false;
	if (a->tcp_not_syn != b->tcp_not_syn || a->has_icmp6_type != b->has_icmp6_type ||
	    (a->has_icmp6_type && a->icmp6_type != b->icmp6_type))
		return false;
	if (a->n_sets != b->n_sets)
		return false;
	for (i = 0; i < a->n_sets; i++)
		if (strcmp(a->sets[i].name, b->sets[i].name) ||
		    a->sets[i].dims != b->sets[i].dims || a->sets[i].dirs != b->sets[i].dirs ||
		    a->sets[i].negate != b->sets[i].negate ||
		    a->sets[i].no_counters != b->sets[i].no_counters)
			return false;
	if (a->ctstate != b->ctstate || a->has_mark != b->has_mark)
		return false;
	if (a->has_mark && (a->mark_negate != b->mark_negate || a->mark_value != b->mark_value ||
			    a->mark_mask != b->mark_mask))
		return false;
	if (a->limit_per_sec != b->limit_per_sec ||
	    (a->limit_per_sec && a->limit_burst != b->limit_burst))
		return false;
	if (!str_equal(a->comment, b->comment) || a->target != b->target)
		return false;
	switch (a->target) {
	case NPD_T_JUMP:
		return strcmp(a->jump, b->jump) == 0;
	case NPD_T_MARK:
		return a->set_mark == b->set_mark && a->set_mask == b->set_mask;
	case NPD_T_REJECT:
		return a->reject_with == b->reject_with;
	case NPD_T_NFLOG:
		return a->nflog_group == b->nflog_group &&
		       str_equal(a->nflog_prefix, b->nflog_prefix);
	default:
		return true;
	}
}
