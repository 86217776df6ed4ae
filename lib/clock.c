/* clock.c: the monotonic clock, kept out of every pure module. */
#include <time.h>

#include "npd/clock.h"

uint64_t
npd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
