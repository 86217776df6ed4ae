/* check_addr.c: address and prefix parsing, formatting, containment. */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>

#include "npd/addr.h"
#include "testutil.h"

START_TEST(addr_and_cidr)
{
	struct npd_addr a;
	struct npd_cidr c, d;
	char buf[NPD_CIDRSTRLEN];

	ck_assert_int_eq(npd_addr_parse("10.244.1.5", &a), 0);
	ck_assert_int_eq(a.family, AF_INET);
	ck_assert_int_eq(npd_addr_parse("fd00:244:1::5", &a), 0);
	ck_assert_int_eq(a.family, AF_INET6);
	ck_assert_int_lt(npd_addr_parse("10.244.1", &a), 0);
	ck_assert_int_lt(npd_addr_parse("", &a), 0);

	ck_assert_int_eq(npd_cidr_parse("10.0.0.0/8", true, &c), 0);
	ck_assert_str_eq(npd_cidr_format(&c, buf), "10.0.0.0/8");
	ck_assert_int_lt(npd_cidr_parse("10.1.2.3/8", true, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("10.1.2.3/8", false, &c), 0);
	ck_assert_str_eq(npd_cidr_format(&c, buf), "10.0.0.0/8");
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/33", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/-1", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0/", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("10.0.0.0", false, &c), 0);
	ck_assert_int_lt(npd_cidr_parse("nonsense/8", false, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("::/0", true, &c), 0);
	ck_assert_int_eq(npd_cidr_parse("0.0.0.0/0", true, &d), 0);
	ck_assert_int_eq(npd_addr_parse("192.168.1.1", &a), 0);
	ck_assert(npd_cidr_contains(&d, &a));
	ck_assert(!npd_cidr_contains(&c, &a)); /* family mismatch */
	ck_assert_int_eq(npd_cidr_parse("192.168.0.0/16", true, &c), 0);
	ck_assert(npd_cidr_contains(&c, &a));
	ck_assert_int_eq(npd_cidr_parse("192.168.1.0/24", true, &d), 0);
	ck_assert(npd_cidr_covers(&c, &d));
	ck_assert(!npd_cidr_covers(&d, &c));
}
END_TEST

TU_MAIN("addr", addr_and_cidr)
