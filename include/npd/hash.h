/* hash.h: a stable 64-bit hash. Chain and set names are derived from it, so its output
 * must never change between runs, hosts or releases. */
#ifndef NPD_HASH_H
#define NPD_HASH_H

#include <stddef.h>
#include <stdint.h>

/* 64-bit FNV-1a: stable across runs and hosts, used for chain and set names. */
uint64_t npd_hash64(const void *p, size_t n, uint64_t seed);
uint64_t npd_hash64s(const char *s, uint64_t seed);
#define NPD_HASH_SEED 0xcbf29ce484222325ULL

#endif
