/* spawn.h: the one way lib/backend runs an outside tool (iptables -V, iptables-nft-save,
 * iptables-nft-restore): fork/exec without a shell, input from memory, outputs collected.
 * Not a public contract. */
#ifndef NPD_BACKEND_SPAWN_H
#define NPD_BACKEND_SPAWN_H

#include "npd/buf.h"

/* Runs argv (argv[0] looked up in PATH) with stdin from `in` (NULL: empty), appending its
 * stdout to *out and its stderr to *err (either NULL: dropped; both may be the same buffer).
 * Returns 0 when it exited 0, -ENOENT when it could not be executed (exit 127), -EIO on
 * another exit or a signal (*status, when non-NULL, gets the exit code or -1), or -errno
 * when it could not be started. */
int npd_spawn(char *const argv[], const struct npd_buf *in, struct npd_buf *out,
	      struct npd_buf *err, int *status);

#endif
