/* addr.h: IPv4/IPv6 addresses and CIDR prefixes: parsing, formatting, ordering and
 * containment. */
#ifndef NPD_ADDR_H
#define NPD_ADDR_H

#include <stdbool.h>
#include <stdint.h>

/* An IPv4 or IPv6 address; v4 stored in the first 4 bytes, the rest zero. */
struct npd_addr {
	uint8_t family; /* AF_INET or AF_INET6 */
	uint8_t a[16];
};
/* A prefix: addr with host bits cleared, 0..32 or 0..128. */
struct npd_cidr {
	struct npd_addr addr;
	uint8_t prefix;
};
#define NPD_ADDRSTRLEN 46
#define NPD_CIDRSTRLEN 50

/* Parses a literal v4 or v6 address. Returns 0 or -EINVAL. */
int npd_addr_parse(const char *s, struct npd_addr *out);
/* Parses ADDR/LEN, rejecting host bits outside the mask as Kubernetes does not (it
 * accepts them): strict=false clears them instead. Returns 0 or -EINVAL. */
int npd_cidr_parse(const char *s, bool strict, struct npd_cidr *out);
const char *npd_addr_format(const struct npd_addr *a, char buf[NPD_ADDRSTRLEN]);
const char *npd_cidr_format(const struct npd_cidr *c, char buf[NPD_CIDRSTRLEN]);
int npd_addr_cmp(const struct npd_addr *x, const struct npd_addr *y);
int npd_cidr_cmp(const struct npd_cidr *x, const struct npd_cidr *y);
bool npd_cidr_contains(const struct npd_cidr *c, const struct npd_addr *a);
/* True when inner lies wholly inside outer (same family, longer or equal prefix). */
bool npd_cidr_covers(const struct npd_cidr *outer, const struct npd_cidr *inner);

#endif
