/* iptc_entry.h: the encoder from an npd_rule to the ipt_entry or ip6t_entry blob libiptc
 * appends, with its matches and target at the revisions iptables 1.8 writes (so
 * iptables-save prints what the compiler's text says). Pure but for the set-index lookup,
 * which the caller supplies. Not a public contract. */
#ifndef NPD_BACKEND_IPTC_ENTRY_H
#define NPD_BACKEND_IPTC_ENTRY_H

#include <stdint.h>

#include "npd/ruleset.h"

/* Resolves an ipset name to the kernel's index for it (xt_set matches carry the index, not
 * the name); 0 or -errno. */
typedef int (*npd_iptc_set_index_fn)(const char *name, uint16_t *index, void *ctx);

/* Builds r's entry for family (AF_INET: struct ipt_entry, AF_INET6: struct ip6t_entry, each
 * followed by its matches and target, every part XT_ALIGNed; next_offset is the size). Set
 * matches are resolved through fn(ctx), which may be NULL when r matches no set. *out is
 * owned by the caller (free()). Returns 0, or fn's -errno (-ENOENT without fn). */
int npd_iptc_entry_build(const struct npd_rule *r, uint8_t family, npd_iptc_set_index_fn fn,
			 void *ctx, void **out);

#endif
