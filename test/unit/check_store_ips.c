/* check_store_ips.c: the store's binary IP table against an independent one (npd_map
 * keyed by the formatted address) over a seeded random sequence of sets, replacements
 * and deletions of v4 and v6 addresses, growth and backward-shift deletion included. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "store_int.h"
#include "testutil.h"
#include "tu_world.h"

#define PODS 1500

START_TEST(iptab_random_against_map)
{
	uint64_t seed = tu_seed_from_env("NPD_IPTAB_SEED"), st = seed ? seed : 1;
	static struct npd_pod pods[PODS];
	static struct npd_addr addrs[PODS][2];
	struct npd_iptab t;
	struct npd_map ref;
	size_t step, i;
	char buf[NPD_ADDRSTRLEN];

	printf("iptab_random_against_map: seed %" PRIu64 " (NPD_IPTAB_SEED to replay)\n", seed);
	memset(&t, 0, sizeof(t));
	npd_map_init(&ref);
	/* Pod i holds 10.x.y.z and fd00::x:y; pods 2k and 2k+1 share their v6 address, so
	 * one address moves between pods as a reused IP does. */
	for (i = 0; i < PODS; i++) {
		snprintf(buf, sizeof(buf), "10.%zu.%zu.%zu", i >> 16, (i >> 8) & 255, i & 255);
		ck_assert_int_eq(npd_addr_parse(buf, &addrs[i][0]), 0);
		snprintf(buf, sizeof(buf), "fd00::%zx", i / 2);
		ck_assert_int_eq(npd_addr_parse(buf, &addrs[i][1]), 0);
		pods[i].ips = addrs[i];
		pods[i].n_ips = 2;
	}
	for (step = 0; step < 300000; step++) {
		uint64_t r = tu_rand(&st);
		size_t p = (size_t)(r >> 8) % PODS, k = (r >> 40) & 1;
		const struct npd_addr *a = &addrs[p][k];

		npd_addr_format(a, buf);
		if ((r & 255) < (step < 150000 ? 160u : 60u)) {
			npd_iptab_set(&t, &pods[p], k);
			npd_map_set(&ref, buf, &pods[p]);
		} else {
			npd_iptab_del(&t, a);
			npd_map_del(&ref, buf);
		}
		ck_assert_ptr_eq(npd_iptab_get(&t, a), npd_map_get(&ref, buf));
		if (step % 1009 == 0) {
			ck_assert_uint_eq(t.len, ref.len);
			for (i = 0; i < PODS; i += 7) {
				npd_addr_format(&addrs[i][i & 1], buf);
				ck_assert_ptr_eq(npd_iptab_get(&t, &addrs[i][i & 1]),
						 npd_map_get(&ref, buf));
			}
		}
	}
	npd_iptab_fini(&t);
	ck_assert_ptr_null(npd_iptab_get(&t, &addrs[0][0]));
	npd_iptab_del(&t, &addrs[0][0]);
	npd_map_fini(&ref);
}
END_TEST

TU_MAIN("store_ips", iptab_random_against_map)
