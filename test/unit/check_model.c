/* check_model.c: the model's name tables (round trips, exact spellings) and object
 * identity, which the store, the reflector and the file source all key by. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/mem.h"
#include "npd/model.h"
#include "testutil.h"

START_TEST(event_type_names_round_trip)
{
	enum npd_event_type t, got;

	for (t = NPD_EV_ADDED; t <= NPD_EV_ERROR; t++) {
		ck_assert_int_eq(npd_event_type_parse(npd_event_type_name(t), &got), 0);
		ck_assert_int_eq(got, t);
	}
	ck_assert_str_eq(npd_event_type_name(NPD_EV_BOOKMARK), "BOOKMARK");
	/* The API's spelling only: watch lines with anything else are malformed. */
	ck_assert_int_eq(npd_event_type_parse("added", &got), -EINVAL);
	ck_assert_int_eq(npd_event_type_parse("", &got), -EINVAL);
	ck_assert_int_eq(npd_event_type_parse(NULL, &got), -EINVAL);
	ck_assert_str_eq(npd_event_type_name((enum npd_event_type)99), "?");
}
END_TEST

START_TEST(proto_and_phase_names_round_trip)
{
	static const enum npd_proto protos[] = {NPD_PROTO_TCP, NPD_PROTO_UDP, NPD_PROTO_SCTP};
	enum npd_pod_phase ph, gph;
	enum npd_proto gp;
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		ck_assert_int_eq(npd_proto_parse(npd_proto_name(protos[i]), &gp), 0);
		ck_assert_int_eq(gp, protos[i]);
	}
	ck_assert_int_eq(npd_proto_parse("tcp", &gp), -EINVAL);
	ck_assert_int_eq(npd_proto_parse("ICMP", &gp), -EINVAL);
	for (ph = NPD_PHASE_UNKNOWN; ph <= NPD_PHASE_FAILED; ph++) {
		ck_assert_int_eq(npd_phase_parse(npd_phase_name(ph), &gph), 0);
		ck_assert_int_eq(gph, ph);
	}
	ck_assert_int_eq(npd_phase_parse("running", &gph), -EINVAL);
}
END_TEST

START_TEST(object_identity)
{
	struct npd_object o = {NPD_KIND_POD, {NULL}};

	/* An empty object (a DELETED event that failed to decode) has no identity. */
	ck_assert_ptr_null(npd_object_name(&o));
	ck_assert_ptr_null(npd_object_ns(&o));
	o.u.pod = tu_pod("prod", "web-1", "app=web", "10.0.0.5", NULL);
	ck_assert_str_eq(npd_object_ns(&o), "prod");
	ck_assert_str_eq(npd_object_name(&o), "web-1");
	npd_object_fini(&o);

	o.kind = NPD_KIND_NAMESPACE;
	o.u.ns = tu_ns("prod", "team=a");
	ck_assert_ptr_null(npd_object_ns(&o));
	ck_assert_str_eq(npd_object_name(&o), "prod");
	npd_object_fini(&o);

	o.kind = NPD_KIND_POLICY;
	o.u.policy = tu_policy("prod", "deny-all", "", true, false);
	ck_assert_str_eq(npd_object_ns(&o), "prod");
	ck_assert_str_eq(npd_object_name(&o), "deny-all");
	npd_object_fini(&o);
}
END_TEST

START_TEST(block_contains_minus_excepts)
{
	struct npd_peer p;
	struct npd_addr a;

	memset(&p, 0, sizeof(p));
	ck_assert_int_eq(npd_cidr_parse("10.0.0.0/8", true, &p.cidr), 0);
	p.except = npd_xcalloc(1, sizeof(*p.except));
	p.n_except = 1;
	ck_assert_int_eq(npd_cidr_parse("10.1.0.0/16", true, &p.except[0]), 0);
	ck_assert_int_eq(npd_addr_parse("10.2.3.4", &a), 0);
	ck_assert(npd_peer_block_contains(&p, &a));
	ck_assert_int_eq(npd_addr_parse("10.1.3.4", &a), 0);
	ck_assert(!npd_peer_block_contains(&p, &a));
	ck_assert_int_eq(npd_addr_parse("11.0.0.1", &a), 0);
	ck_assert(!npd_peer_block_contains(&p, &a));
	ck_assert_int_eq(npd_addr_parse("::ffff:10.2.3.4", &a), 0);
	ck_assert(!npd_peer_block_contains(&p, &a));
	npd_peer_fini(&p);
}
END_TEST

TU_MAIN("model", event_type_names_round_trip, proto_and_phase_names_round_trip, object_identity,
	block_contains_minus_excepts)
