/* util.h: allocation that aborts on failure, a growable byte buffer, stable hashing,
 * IP address helpers and a string-keyed hash map. Shared by every lib/ module. */
#ifndef NPD_UTIL_H
#define NPD_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#define NPD_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation wrappers: never return NULL, abort the process on exhaustion. */
void *npd_xmalloc(size_t n);
void *npd_xcalloc(size_t nmemb, size_t size);
void *npd_xrealloc(void *p, size_t n);
/* Grows *v (holding *cap elements of size elem) so that it can hold need elements. */
void npd_xgrow(void *vp, size_t *cap, size_t need, size_t elem);
char *npd_xstrdup(const char *s); /* NULL in, NULL out */
/* Copies at most n bytes of s, stopping at its NUL. */
char *npd_xstrndup(const char *s, size_t n);
char *npd_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable NUL-terminated byte buffer; caller storage, npd_buf_fini releases. */
struct npd_buf {
	char *data;
	size_t len;
	size_t cap;
};
void npd_buf_init(struct npd_buf *b);
void npd_buf_fini(struct npd_buf *b);
void npd_buf_reset(struct npd_buf *b);
void npd_buf_add(struct npd_buf *b, const void *p, size_t n);
void npd_buf_adds(struct npd_buf *b, const char *s);
void npd_buf_addc(struct npd_buf *b, char c);
void npd_buf_printf(struct npd_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void npd_buf_vprintf(struct npd_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Hands the string to the caller (owned) and leaves b empty. */
char *npd_buf_steal(struct npd_buf *b);

/* 64-bit FNV-1a: stable across runs and hosts, used for chain and set names. */
uint64_t npd_hash64(const void *p, size_t n, uint64_t seed);
uint64_t npd_hash64s(const char *s, uint64_t seed);
#define NPD_HASH_SEED 0xcbf29ce484222325ULL

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

/* Open-addressing map from an owned string key to a borrowed pointer. */
struct npd_map {
	struct npd_map_slot *slots;
	size_t cap; /* power of two or 0 */
	size_t len;
	size_t tombs;
};
void npd_map_init(struct npd_map *m);
/* Frees keys; values are the caller's. */
void npd_map_fini(struct npd_map *m);
void *npd_map_get(const struct npd_map *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. Copies key. */
void *npd_map_set(struct npd_map *m, const char *key, void *value);
/* Removes key; returns its value or NULL. */
void *npd_map_del(struct npd_map *m, const char *key);
/* Iteration: start with *it = 0; returns false at the end. */
bool npd_map_next(const struct npd_map *m, size_t *it, const char **key, void **value);

/* Monotonic clock in nanoseconds; lib/ uses it only for metrics timing, never in the compiler. */
uint64_t npd_now_ns(void);

#endif
