/* ipset_int.h: internals shared by the real backends (legacy, nft): the libipset
 * operations on npd- sets and the per-thread last-error message. Not a public contract. */
#ifndef NPD_BACKEND_IPSET_INT_H
#define NPD_BACKEND_IPSET_INT_H

#include <stdint.h>

#include "npd/backend.h"

/* Creates set (-exist) filled with its entries. When it exists already, its content is
 * replaced atomically: a temporary set is filled and swapped in, then destroyed. */
int npd_ipset_create(const struct npd_set *set);
/* Adds op->add then deletes op->del; more than NPD_IPSET_SWAP_THRESHOLD changes rebuild
 * the set from op->set by swap instead. Returns 0 or -errno. */
#define NPD_IPSET_SWAP_THRESHOLD 1000
int npd_ipset_update(const struct npd_set_op *op);
/* Destroys a set; a set still referenced by rules being released is retried briefly.
 * A set that does not exist is not an error. */
int npd_ipset_destroy(const char *name);
/* Appends every npd- set with its entry count to out->sets. */
int npd_ipset_list(struct npd_owned *out);
/* Destroys every npd- set. */
int npd_ipset_destroy_all(void);
/* Looks up the kernel index of a set by name (IP_SET_OP_GET_BYNAME), for xt_set. */
int npd_ipset_get_index(const char *name, uint16_t *index);

/* Records the message npd_backend_last_error returns. */
void npd_backend_seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void npd_backend_clearerr(void);

#endif
