/* addr.c: address and prefix parsing and arithmetic over struct npd_addr, the one
 * representation lib/ uses for v4 and v6 alike. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"

int
npd_addr_parse(const char *s, struct npd_addr *out)
{
	struct npd_addr a;

	memset(&a, 0, sizeof(a));
	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, a.a) == 1)
		a.family = AF_INET;
	else if (inet_pton(AF_INET6, s, a.a) == 1)
		a.family = AF_INET6;
	else
		return -EINVAL;
	*out = a;
	return 0;
}

static unsigned
family_bits(uint8_t family)
{
	return family == AF_INET ? 32 : 128;
}

static void
mask_host_bits(struct npd_addr *a, unsigned prefix)
{
	unsigned bits = family_bits(a->family), i;

	for (i = prefix; i < bits; i++)
		a->a[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
}

int
npd_cidr_parse(const char *s, bool strict, struct npd_cidr *out)
{
	char buf[NPD_CIDRSTRLEN];
	const char *slash;
	char *end;
	struct npd_cidr c;
	struct npd_addr masked;
	long len;
	size_t alen;

	if (!s || !(slash = strchr(s, '/')))
		return -EINVAL;
	alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(buf) || !slash[1])
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(&c, 0, sizeof(c));
	if (npd_addr_parse(buf, &c.addr) < 0)
		return -EINVAL;
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || slash[1] == '+' || slash[1] == '-' || len < 0 ||
	    (unsigned long)len > family_bits(c.addr.family))
		return -EINVAL;
	c.prefix = (uint8_t)len;
	masked = c.addr;
	mask_host_bits(&masked, c.prefix);
	if (strict && memcmp(masked.a, c.addr.a, sizeof(masked.a)) != 0)
		return -EINVAL;
	c.addr = masked;
	*out = c;
	return 0;
}

const char *
npd_addr_format(const struct npd_addr *a, char buf[NPD_ADDRSTRLEN])
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->a, buf, NPD_ADDRSTRLEN))
		snprintf(buf, NPD_ADDRSTRLEN, "?");
	return buf;
}

const char *
npd_cidr_format(const struct npd_cidr *c, char buf[NPD_CIDRSTRLEN])
{
	char ab[NPD_ADDRSTRLEN];

	snprintf(buf, NPD_CIDRSTRLEN, "%s/%u", npd_addr_format(&c->addr, ab), c->prefix);
	return buf;
}

int
npd_addr_cmp(const struct npd_addr *x, const struct npd_addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->a, y->a, sizeof(x->a));
}

int
npd_cidr_cmp(const struct npd_cidr *x, const struct npd_cidr *y)
{
	int r = npd_addr_cmp(&x->addr, &y->addr);

	if (r)
		return r;
	return (int)x->prefix - (int)y->prefix;
}

bool
npd_cidr_contains(const struct npd_cidr *c, const struct npd_addr *a)
{
	struct npd_addr m;

	if (c->addr.family != a->family)
		return false;
	m = *a;
	mask_host_bits(&m, c->prefix);
	return memcmp(m.a, c->addr.a, sizeof(m.a)) == 0;
}

bool
npd_cidr_covers(const struct npd_cidr *outer, const struct npd_cidr *inner)
{
	return inner->prefix >= outer->prefix && npd_cidr_contains(outer, &inner->addr);
}
