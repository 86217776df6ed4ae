/* compile_int.h: compile.c's helpers that its unit test calls (see testable_int.h). */
#ifndef NPD_COMPILE_INT_H
#define NPD_COMPILE_INT_H

#include "npd/buf.h"
#include "npd/compile.h"
#include "testable_int.h"

#ifdef NPD_TESTING
/* Writes the stable chain name of kind ("I", "E", "PI", "PE") for ns/name into out:
 * "NPD-<kind>-<16 hex digits of the identity's hash>". tmp is scratch space. */
void chain_name(char out[NPD_CHAIN_NAMELEN], const char *kind, const char *ns, const char *name,
		struct npd_buf *tmp);
#endif

#endif
