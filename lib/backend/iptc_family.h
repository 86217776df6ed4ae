/* iptc_family.h: libiptc's IPv4 (libip4tc) and IPv6 (libip6tc) entry points behind one
 * table of functions, so the legacy backend is written once for both families. Not a
 * public contract. */
#ifndef NPD_BACKEND_IPTC_FAMILY_H
#define NPD_BACKEND_IPTC_FAMILY_H

#include <stdbool.h>
#include <stdint.h>

#include <libiptc/libxtc.h>
#include <linux/netfilter/x_tables.h>

struct xtc_handle;

/* libiptc's entry points for one family. The rule-level ones take the family's entry
 * type, so they are wrapped to take the blob as bytes. */
struct npd_iptc_fam {
	uint8_t family;
	const char *tag; /* "v4", "v6" */
	struct xtc_handle *(*init)(const char *table);
	void (*free)(struct xtc_handle *h);
	int (*is_chain)(const char *chain, struct xtc_handle *const h);
	int (*builtin)(const char *chain, struct xtc_handle *const h);
	const char *(*first_chain)(struct xtc_handle *h);
	const char *(*next_chain)(struct xtc_handle *h);
	const void *(*first_rule)(const char *chain, struct xtc_handle *h);
	const void *(*next_rule)(const void *prev, struct xtc_handle *h);
	const char *(*get_target)(const void *e, struct xtc_handle *h);
	bool (*is_plain)(const void *e); /* no match and no address: the jump alone */
	const struct xt_counters *(*counters)(const void *e);
	int (*append)(const char *chain, const void *e, struct xtc_handle *h);
	int (*insert)(const char *chain, const void *e, unsigned num, struct xtc_handle *h);
	int (*delete_num)(const char *chain, unsigned num, struct xtc_handle *h);
	int (*flush)(const char *chain, struct xtc_handle *h);
	int (*create_chain)(const char *chain, struct xtc_handle *h);
	int (*delete_chain)(const char *chain, struct xtc_handle *h);
	int (*commit)(struct xtc_handle *h);
	const char *(*strerror)(int err);
};

extern const struct npd_iptc_fam npd_iptc_v4;
extern const struct npd_iptc_fam npd_iptc_v6;
/* The functions for AF_INET6, or for AF_INET for any other value. */
const struct npd_iptc_fam *npd_iptc_fam_of(uint8_t family);

#endif
