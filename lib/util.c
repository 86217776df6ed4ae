/* util.c: allocation wrappers, byte buffers, FNV hashing, address parsing and a small
 * open-addressing string map. No policy knowledge lives here. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npd/util.h"

static void
oom(size_t n)
{
	fprintf(stderr, "netpold: out of memory allocating %zu bytes\n", n);
	abort();
}

void *
npd_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
npd_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom(nmemb * size);
	return p;
}

void *
npd_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	return q;
}

void
npd_xgrow(void *vp, size_t *cap, size_t need, size_t elem)
{
	void **v = vp;
	size_t ncap;

	if (need <= *cap)
		return;
	ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*v = npd_xrealloc(*v, ncap * elem);
	*cap = ncap;
}

char *
npd_xstrdup(const char *s)
{
	return s ? npd_xstrndup(s, strlen(s)) : NULL;
}

char *
npd_xstrndup(const char *s, size_t n)
{
	char *p;

	n = strnlen(s, n);
	p = npd_xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
npd_xasprintf(const char *fmt, ...)
{
	struct npd_buf b;
	va_list ap;

	npd_buf_init(&b);
	va_start(ap, fmt);
	npd_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return npd_buf_steal(&b);
}

void
npd_buf_init(struct npd_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
npd_buf_fini(struct npd_buf *b)
{
	free(b->data);
	npd_buf_init(b);
}

void
npd_buf_reset(struct npd_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

static void
buf_reserve(struct npd_buf *b, size_t extra)
{
	npd_xgrow(&b->data, &b->cap, b->len + extra + 1, 1);
}

void
npd_buf_add(struct npd_buf *b, const void *p, size_t n)
{
	buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
npd_buf_adds(struct npd_buf *b, const char *s)
{
	npd_buf_add(b, s, strlen(s));
}

void
npd_buf_addc(struct npd_buf *b, char c)
{
	npd_buf_add(b, &c, 1);
}

void
npd_buf_vprintf(struct npd_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	buf_reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
npd_buf_printf(struct npd_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	npd_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
npd_buf_steal(struct npd_buf *b)
{
	char *s = b->data ? b->data : npd_xstrdup("");

	npd_buf_init(b);
	return s;
}

uint64_t
npd_hash64(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *c = p;
	uint64_t h = seed;

	while (n--) {
		h ^= *c++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t
npd_hash64s(const char *s, uint64_t seed)
{
	return npd_hash64(s, strlen(s), seed);
}

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

struct npd_map_slot {
	char *key; /* NULL: empty; TOMB: deleted */
	void *value;
	uint64_t hash;
};

static char tomb_marker;
#define TOMB (&tomb_marker)

void
npd_map_init(struct npd_map *m)
{
	memset(m, 0, sizeof(*m));
}

void
npd_map_fini(struct npd_map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		if (m->slots[i].key && m->slots[i].key != TOMB)
			free(m->slots[i].key);
	free(m->slots);
	npd_map_init(m);
}

static struct npd_map_slot *
map_find(const struct npd_map *m, const char *key, uint64_t h)
{
	size_t i, mask;

	if (!m->cap)
		return NULL;
	mask = m->cap - 1;
	for (i = h & mask;; i = (i + 1) & mask) {
		struct npd_map_slot *s = &m->slots[i];

		if (!s->key)
			return NULL;
		if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
			return s;
	}
}

static void
map_resize(struct npd_map *m, size_t ncap)
{
	struct npd_map_slot *old = m->slots;
	size_t ocap = m->cap, i;

	m->slots = npd_xcalloc(ncap, sizeof(*m->slots));
	m->cap = ncap;
	m->tombs = 0;
	for (i = 0; i < ocap; i++) {
		size_t j;

		if (!old[i].key || old[i].key == TOMB)
			continue;
		for (j = old[i].hash & (ncap - 1); m->slots[j].key; j = (j + 1) & (ncap - 1))
			;
		m->slots[j] = old[i];
	}
	free(old);
}

void *
npd_map_get(const struct npd_map *m, const char *key)
{
	struct npd_map_slot *s = map_find(m, key, npd_hash64s(key, NPD_HASH_SEED));

	return s ? s->value : NULL;
}

void *
npd_map_set(struct npd_map *m, const char *key, void *value)
{
	uint64_t h = npd_hash64s(key, NPD_HASH_SEED);
	struct npd_map_slot *s = map_find(m, key, h);
	size_t i;

	if (s) {
		void *old = s->value;

		s->value = value;
		return old;
	}
	if ((m->len + m->tombs + 1) * 4 >= m->cap * 3)
		map_resize(m, m->cap ? (m->len * 2 >= m->cap ? m->cap * 2 : m->cap) : 16);
	for (i = h & (m->cap - 1); m->slots[i].key && m->slots[i].key != TOMB;
	     i = (i + 1) & (m->cap - 1))
		;
	if (m->slots[i].key == TOMB)
		m->tombs--;
	m->slots[i].key = npd_xstrdup(key);
	m->slots[i].value = value;
	m->slots[i].hash = h;
	m->len++;
	return NULL;
}

void *
npd_map_del(struct npd_map *m, const char *key)
{
	struct npd_map_slot *s = map_find(m, key, npd_hash64s(key, NPD_HASH_SEED));
	void *v;

	if (!s)
		return NULL;
	v = s->value;
	free(s->key);
	s->key = TOMB;
	s->value = NULL;
	m->len--;
	m->tombs++;
	return v;
}

bool
npd_map_next(const struct npd_map *m, size_t *it, const char **key, void **value)
{
	while (*it < m->cap) {
		struct npd_map_slot *s = &m->slots[(*it)++];

		if (s->key && s->key != TOMB) {
			if (key)
				*key = s->key;
			if (value)
				*value = s->value;
			return true;
		}
	}
	return false;
}

uint64_t
npd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
