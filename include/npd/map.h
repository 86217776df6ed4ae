/* map.h: an open-addressing hash map from an owned string key to a borrowed pointer. */
#ifndef NPD_MAP_H
#define NPD_MAP_H

#include <stdbool.h>
#include <stddef.h>

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
/* For a map of counts (the value is the count, absent is 0): adds d (+1 or -1, never
 * below 0) to key's and returns the count it had. */
size_t npd_map_count_add(struct npd_map *m, const char *key, int d);
/* Empties m (it stays usable), handing every value to free_value unless that is NULL: for
 * maps that own their values. */
void npd_map_clear(struct npd_map *m, void (*free_value)(void *));
/* Iteration: start with *it = 0; returns false at the end. */
bool npd_map_next(const struct npd_map *m, size_t *it, const char **key, void **value);
/* m's keys in strcmp order, NULL-terminated, *n of them: output that must not depend on
 * the map's history. The array is the caller's to free; the strings stay m's. */
const char **npd_map_sorted_keys(const struct npd_map *m, size_t *n);

#endif
