/* check_drops.c: the drop log's flow table: first sighting logged at once, repeats summed per
 * window, idle flows forgotten, the cap and its not-kept line, the recent ring; a seeded
 * random stream checked for conservation (every packet reported exactly once, in a line or
 * as not kept) and bounded memory; and the packet and prefix parsers on hand-built headers. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/drops.h"
#include "npd/store.h"
#include "testutil.h"

struct got {
	struct npd_drop_line lines[64];
	size_t n;
	uint64_t counted, not_kept, not_kept_lines;
};

static void
collect(const struct npd_drop_line *l, uint64_t not_kept, void *ctx)
{
	struct got *g = ctx;

	if (!l) {
		g->not_kept += not_kept;
		g->not_kept_lines++;
		return;
	}
	if (g->n < 64)
		g->lines[g->n++] = *l;
	g->counted += l->count;
}

static struct npd_drop_key
key(enum npd_drop_dir dir, const char *src, const char *dst, uint8_t proto, uint16_t dport)
{
	struct npd_drop_key k;

	memset(&k, 0, sizeof(k));
	k.dir = dir;
	ck_assert_int_eq(npd_addr_parse(src, &k.src), 0);
	ck_assert_int_eq(npd_addr_parse(dst, &k.dst), 0);
	k.proto = proto;
	k.dport = dport;
	return k;
}

START_TEST(first_then_window)
{
	struct npd_drops *d = npd_drops_new(NULL);
	struct npd_drop_key k = key(NPD_DROP_INGRESS, "10.0.0.1", "10.0.0.2", 6, 80);
	struct npd_drop_line l;
	struct got g = {0};
	int i;

	ck_assert_double_lt(npd_drops_next_tick(d), 0);
	ck_assert_int_eq(npd_drops_add(d, 10.0, &k, &l), NPD_DROPS_LOG_NOW);
	ck_assert_uint_eq(l.count, 1);
	ck_assert_int_eq(l.key.dport, 80);
	ck_assert_double_eq(npd_drops_next_tick(d), 11.0);
	for (i = 0; i < 19; i++)
		ck_assert_int_eq(npd_drops_add(d, 10.1 + i * 0.01, &k, &l), NPD_DROPS_AGGREGATED);
	/* Before the window's end a tick does nothing. */
	npd_drops_tick(d, 10.9, collect, &g);
	ck_assert_uint_eq(g.n, 0);
	npd_drops_tick(d, 11.0, collect, &g);
	ck_assert_uint_eq(g.n, 1);
	ck_assert_uint_eq(g.lines[0].count, 19);
	ck_assert_double_eq_tol(g.lines[0].first, 10.1, 1e-9);
	ck_assert_double_eq_tol(g.lines[0].last, 10.28, 1e-9);
	ck_assert_uint_eq(g.not_kept_lines, 0);
	/* A quiet window: no line, and the flow is forgotten after it. */
	npd_drops_tick(d, 12.0, collect, &g);
	ck_assert_uint_eq(g.n, 1);
	{
		struct npd_drops_stats st;

		npd_drops_stats(d, &st);
		ck_assert_uint_eq(st.flows, 0);
		ck_assert_uint_eq(st.packets, 20);
		ck_assert_uint_eq(st.aggregated, 19);
		ck_assert_uint_eq(st.lines, 2);
	}
	ck_assert_double_lt(npd_drops_next_tick(d), 0);
	/* Its next packet is news again. */
	ck_assert_int_eq(npd_drops_add(d, 20.0, &k, &l), NPD_DROPS_LOG_NOW);
	npd_drops_free(d);
}
END_TEST

START_TEST(flows_are_distinct)
{
	struct npd_drops *d = npd_drops_new(NULL);
	struct npd_drop_key a = key(NPD_DROP_INGRESS, "10.0.0.1", "10.0.0.2", 6, 80);
	struct npd_drop_key b = a, c = a, e = a, f = a;
	struct npd_drop_line l;

	b.dport = 81;
	c.proto = 17;
	e.dir = NPD_DROP_EGRESS;
	ck_assert_int_eq(npd_addr_parse("10.0.0.3", &f.src), 0);
	ck_assert_int_eq(npd_drops_add(d, 1, &a, &l), NPD_DROPS_LOG_NOW);
	ck_assert_int_eq(npd_drops_add(d, 1, &b, &l), NPD_DROPS_LOG_NOW);
	ck_assert_int_eq(npd_drops_add(d, 1, &c, &l), NPD_DROPS_LOG_NOW);
	ck_assert_int_eq(npd_drops_add(d, 1, &e, &l), NPD_DROPS_LOG_NOW);
	ck_assert_int_eq(npd_drops_add(d, 1, &f, &l), NPD_DROPS_LOG_NOW);
	ck_assert_int_eq(npd_drops_add(d, 1, &f, &l), NPD_DROPS_AGGREGATED);
	npd_drops_free(d);
}
END_TEST

START_TEST(cap_and_not_kept)
{
	struct npd_drops_opts o;
	struct npd_drops *d;
	struct npd_drop_key k = key(NPD_DROP_INGRESS, "10.0.0.1", "10.0.0.2", 6, 1);
	struct npd_drop_line l;
	struct got g = {0};
	struct npd_drops_stats st;
	int i, now_lines = 0;

	npd_drops_opts_init(&o);
	o.max_flows = 8;
	d = npd_drops_new(&o);
	/* A port scan: 1000 distinct ports inside one window. */
	for (i = 0; i < 1000; i++) {
		k.dport = (uint16_t)(i + 1);
		if (npd_drops_add(d, 5.0 + i * 1e-4, &k, &l) == NPD_DROPS_LOG_NOW)
			now_lines++;
	}
	ck_assert_int_eq(now_lines, 8);
	npd_drops_stats(d, &st);
	ck_assert_uint_eq(st.flows, 8);
	ck_assert_uint_eq(st.not_kept, 992);
	npd_drops_tick(d, 6.0, collect, &g);
	ck_assert_uint_eq(g.n, 0);
	ck_assert_uint_eq(g.not_kept_lines, 1);
	ck_assert_uint_eq(g.not_kept, 992);
	/* Said once per window: the next window has nothing to say. */
	npd_drops_tick(d, 7.0, collect, &g);
	ck_assert_uint_eq(g.not_kept_lines, 1);
	npd_drops_free(d);
}
END_TEST

START_TEST(recent_ring)
{
	struct npd_drops_opts o;
	struct npd_drops *d;
	struct npd_drop_key k = key(NPD_DROP_EGRESS, "fd00::1", "fd00::2", 17, 1);
	struct npd_drop_line l;
	int i;

	npd_drops_opts_init(&o);
	o.recent = 4;
	d = npd_drops_new(&o);
	ck_assert_uint_eq(npd_drops_n_recent(d), 0);
	ck_assert_ptr_null(npd_drops_recent(d, 0));
	for (i = 0; i < 6; i++) {
		k.dport = (uint16_t)(100 + i);
		npd_drops_add(d, i, &k, &l);
	}
	ck_assert_uint_eq(npd_drops_n_recent(d), 4);
	ck_assert_int_eq(npd_drops_recent(d, 0)->key.dport, 105);
	ck_assert_int_eq(npd_drops_recent(d, 3)->key.dport, 102);
	ck_assert_ptr_null(npd_drops_recent(d, 4));
	npd_drops_free(d);
}
END_TEST

/* Random streams over a few flows with random ticks: every packet is reported exactly once
 * (a first-sighting line, a window line or the not-kept count), the table never exceeds its
 * cap, and after the traffic stops two ticks leave it empty. */
START_TEST(random_conservation)
{
	int round;

	tu_seed("check_drops: random_conservation");
	for (round = 0; round < 50; round++) {
		struct npd_drops_opts o;
		struct npd_drops *d;
		struct npd_drops_stats st;
		struct npd_drop_line l;
		struct got g = {0};
		uint64_t sent = 0, now_counted = 0;
		double now = 100.0;
		int i, n = 200 + rand() % 2000;

		npd_drops_opts_init(&o);
		o.max_flows = 1 + (size_t)(rand() % 16);
		o.window = 0.1 + (rand() % 10) / 10.0;
		d = npd_drops_new(&o);
		for (i = 0; i < n; i++) {
			struct npd_drop_key k =
			    key(rand() % 2 ? NPD_DROP_INGRESS : NPD_DROP_EGRESS, "10.1.0.1",
				"10.1.0.2", rand() % 2 ? 6 : 17, (uint16_t)(rand() % 24));

			now += (rand() % 100) / 1000.0;
			if (npd_drops_add(d, now, &k, &l) == NPD_DROPS_LOG_NOW) {
				ck_assert_uint_eq(l.count, 1);
				now_counted++;
			}
			sent++;
			if (rand() % 10 == 0)
				npd_drops_tick(d, now, collect, &g);
			npd_drops_stats(d, &st);
			ck_assert_uint_le(st.flows, o.max_flows);
		}
		for (i = 0; i < 3; i++) {
			now += o.window * 1.01;
			npd_drops_tick(d, now, collect, &g);
		}
		npd_drops_stats(d, &st);
		ck_assert_uint_eq(st.flows, 0);
		ck_assert_uint_eq(now_counted + g.counted + g.not_kept, sent);
		ck_assert_uint_eq(st.packets, sent);
		ck_assert_uint_eq(st.not_kept, g.not_kept);
		ck_assert_double_lt(npd_drops_next_tick(d), 0);
		npd_drops_free(d);
	}
}
END_TEST

static size_t
v4_packet(uint8_t *p, const char *src, const char *dst, uint8_t proto, uint16_t sport,
	  uint16_t dport)
{
	memset(p, 0, 64);
	p[0] = 0x45;
	p[9] = proto;
	ck_assert_int_eq(inet_pton(AF_INET, src, p + 12), 1);
	ck_assert_int_eq(inet_pton(AF_INET, dst, p + 16), 1);
	p[20] = (uint8_t)(sport >> 8);
	p[21] = (uint8_t)sport;
	p[22] = (uint8_t)(dport >> 8);
	p[23] = (uint8_t)dport;
	return 40;
}

START_TEST(parse_v4)
{
	uint8_t p[64];
	struct npd_drop_key k, want = key(NPD_DROP_INGRESS, "10.244.2.10", "10.244.2.20", 6, 80);
	size_t n = v4_packet(p, "10.244.2.10", "10.244.2.20", 6, 40000, 80);

	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(npd_drops_parse_packet(p, n, &k), 0);
	ck_assert_int_eq(memcmp(&k, &want, sizeof(k)), 0);
	/* IP options move the transport header. */
	memmove(p + 24, p + 20, 20);
	memset(p + 20, 1, 4);
	p[0] = 0x46;
	ck_assert_int_eq(npd_drops_parse_packet(p, n + 4, &k), 0);
	ck_assert_int_eq(k.dport, 80);
	/* A later fragment has no transport header: port 0. */
	n = v4_packet(p, "10.0.0.1", "10.0.0.2", 17, 1, 53);
	p[7] = 10;
	ck_assert_int_eq(npd_drops_parse_packet(p, n, &k), 0);
	ck_assert_int_eq(k.proto, 17);
	ck_assert_int_eq(k.dport, 0);
	/* ICMP: no port. */
	n = v4_packet(p, "10.0.0.1", "10.0.0.2", 1, 0x0800, 7);
	ck_assert_int_eq(npd_drops_parse_packet(p, n, &k), 0);
	ck_assert_int_eq(k.dport, 0);
	ck_assert_int_eq(npd_drops_parse_packet(p, 19, &k), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_packet(p, 0, &k), -EINVAL);
	p[0] = 0x55;
	ck_assert_int_eq(npd_drops_parse_packet(p, n, &k), -EINVAL);
}
END_TEST

START_TEST(parse_v6)
{
	uint8_t p[128];
	struct npd_drop_key k,
	    want = key(NPD_DROP_INGRESS, "fd00:244:1::10", "fd00:244:2::20", 17, 5353);

	memset(p, 0, sizeof(p));
	p[0] = 0x60;
	p[6] = 0; /* hop-by-hop options, 8 bytes, then UDP */
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:244:1::10", p + 8), 1);
	ck_assert_int_eq(inet_pton(AF_INET6, "fd00:244:2::20", p + 24), 1);
	p[40] = 17;
	p[41] = 0;
	p[48 + 2] = 5353 >> 8;
	p[48 + 3] = 5353 & 0xff;
	memset(&k, 0, sizeof(k));
	ck_assert_int_eq(npd_drops_parse_packet(p, 56, &k), 0);
	ck_assert_int_eq(memcmp(&k, &want, sizeof(k)), 0);
	/* Plain TCP. */
	p[6] = 6;
	p[42] = 0x1f;
	p[43] = 0x90;
	ck_assert_int_eq(npd_drops_parse_packet(p, 60, &k), 0);
	ck_assert_int_eq(k.proto, 6);
	ck_assert_int_eq(k.dport, 8080);
	/* A later fragment: protocol known, port not. */
	p[6] = 44;
	p[40] = 6;
	p[42] = 0;
	p[43] = 8;
	ck_assert_int_eq(npd_drops_parse_packet(p, 60, &k), 0);
	ck_assert_int_eq(k.proto, 6);
	ck_assert_int_eq(k.dport, 0);
	ck_assert_int_eq(npd_drops_parse_packet(p, 39, &k), -EINVAL);
}
END_TEST

START_TEST(prefix_and_names)
{
	enum npd_drop_dir d;
	char buf[8];

	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP I", &d), 0);
	ck_assert_int_eq(d, NPD_DROP_INGRESS);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP E", &d), 0);
	ck_assert_int_eq(d, NPD_DROP_EGRESS);
	/* The rules of an older agent, still in the kernel until the first commit, named the
	 * namespace or the pod too: they log as well. */
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP E frontend", &d), 0);
	ck_assert_int_eq(d, NPD_DROP_EGRESS);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP I backend/dbpod", &d), 0);
	ck_assert_int_eq(d, NPD_DROP_INGRESS);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP X a/b", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROPI a/b", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP ", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix("NPD DROP Ix", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix("other", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix("", &d), -EINVAL);
	ck_assert_int_eq(npd_drops_parse_prefix(NULL, &d), -EINVAL);
	ck_assert_str_eq(npd_drops_proto_name(6, buf), "TCP");
	ck_assert_str_eq(npd_drops_proto_name(58, buf), "ICMPv6");
	ck_assert_str_eq(npd_drops_proto_name(47, buf), "47");
}
END_TEST

static void
line_is(const struct npd_store *s, enum npd_drop_dir dir, const char *src, const char *dst,
	uint8_t proto, uint16_t dport, uint64_t count, const char *want)
{
	struct npd_drop_line l;
	struct npd_buf b;

	memset(&l, 0, sizeof(l));
	l.key = key(dir, src, dst, proto, dport);
	l.count = count;
	npd_buf_init(&b);
	npd_drops_format_line(s, &l, &b);
	ck_assert_str_eq(b.data, want);
	npd_buf_fini(&b);
}

START_TEST(format_lines)
{
	struct npd_store *s = tu_store_frontend_backend();

	line_is(s, NPD_DROP_INGRESS, "10.244.2.10", "10.244.2.20", 6, 80, 3,
		"direction=ingress src=frontend/app(10.244.2.10) dst=backend/db(10.244.2.20) "
		"proto=TCP dport=80 isolated_by=backend/db-extra,backend/db-policy count=3");
	line_is(s, NPD_DROP_INGRESS, "192.168.254.100", "10.244.2.20", 17, 53, 1,
		"direction=ingress src=external(192.168.254.100) dst=backend/db(10.244.2.20) "
		"proto=UDP dport=53 isolated_by=backend/db-extra,backend/db-policy count=1");
	line_is(s, NPD_DROP_EGRESS, "fd00::10", "fd00::20", 6, 5432, 7,
		"direction=egress src=frontend/app(fd00::10) dst=backend/db(fd00::20) "
		"proto=TCP dport=5432 isolated_by=frontend/app-egress count=7");
	/* The store moved on (the pod is no longer isolated for that direction). */
	line_is(s, NPD_DROP_EGRESS, "10.244.1.10", "10.244.2.20", 1, 0, 1,
		"direction=egress src=frontend/api(10.244.1.10) dst=backend/db(10.244.2.20) "
		"proto=ICMP dport=0 isolated_by=none count=1");
	npd_store_free(s);
}
END_TEST

START_TEST(format_json)
{
	struct npd_store *s = tu_store_frontend_backend();
	struct npd_drops *d = npd_drops_new(NULL);
	struct npd_drop_key k = key(NPD_DROP_INGRESS, "192.168.254.100", "10.244.2.20", 6, 80);
	struct npd_drop_line l;
	struct npd_buf b;

	npd_buf_init(&b);
	npd_drops_format_json(s, d, &b);
	ck_assert_str_eq(b.data, "{\"drops\":[]}\n");
	npd_drops_add(d, 1.5, &k, &l);
	k = key(NPD_DROP_EGRESS, "10.244.2.10", "10.244.1.10", 17, 53);
	npd_drops_add(d, 2.25, &k, &l);
	npd_buf_reset(&b);
	npd_drops_format_json(s, d, &b);
	ck_assert_str_eq(b.data,
			 "{\"drops\":["
			 "{\"direction\":\"egress\",\"src\":\"frontend/app(10.244.2.10)\","
			 "\"dst\":\"frontend/api(10.244.1.10)\",\"proto\":\"UDP\",\"dport\":53,"
			 "\"isolated_by\":[\"frontend/app-egress\"],\"count\":1,\"first\":2.250,"
			 "\"last\":2.250},"
			 "{\"direction\":\"ingress\",\"src\":\"external(192.168.254.100)\","
			 "\"dst\":\"backend/db(10.244.2.20)\",\"proto\":\"TCP\",\"dport\":80,"
			 "\"isolated_by\":[\"backend/db-extra\",\"backend/db-policy\"],\"count\":1,"
			 "\"first\":1.500,\"last\":1.500}]}\n");
	npd_buf_fini(&b);
	npd_drops_free(d);
	npd_store_free(s);
}
END_TEST

TU_MAIN("drops", first_then_window, flows_are_distinct, cap_and_not_kept, recent_ring,
	random_conservation, parse_v4, parse_v6, prefix_and_names, format_lines, format_json)
