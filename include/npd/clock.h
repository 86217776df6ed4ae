/* clock.h: the monotonic clock. The compiler and every other pure module must not call
 * it; the agent and the benchmarks time work with it. */
#ifndef NPD_CLOCK_H
#define NPD_CLOCK_H

#include <stdint.h>

/* Monotonic clock in nanoseconds since an arbitrary start. */
uint64_t npd_now_ns(void);

#endif
