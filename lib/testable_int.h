/* testable_int.h: the seam unit tests use to call a module's file-local helpers. A helper
 * marked NPD_TESTABLE is static in every build that ships; in the test build of lib/
 * (the npd_testing library, compiled with -DNPD_TESTING) it is external, and the module's
 * lib/<module>_int.h declares it under NPD_TESTING. So no test keeps its own copy of a
 * helper to check against. */
#ifndef NPD_TESTABLE_INT_H
#define NPD_TESTABLE_INT_H

#ifdef NPD_TESTING
#define NPD_TESTABLE
#else
#define NPD_TESTABLE static
#endif

#endif
