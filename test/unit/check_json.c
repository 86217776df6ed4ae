/* check_json.c: the streaming JSON decoder on recorded API responses (lists, watch streams,
 * Status bodies), at every chunk size, with bad input that must be reported and skipped. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode_int.h"
#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/json.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "testutil.h"

static void
dump_labels(struct npd_buf *b, const struct npd_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		npd_buf_printf(b, "%s%s=%s", i ? "," : "", l->v[i].key, l->v[i].value);
}

static void
dump_sel(struct npd_buf *b, const struct npd_selector *s)
{
	npd_buf_addc(b, '{');
	npd_selector_format(s, b);
	npd_buf_addc(b, '}');
}

static void
dump_rules(struct npd_buf *b, const char *dir, const struct npd_policy_rule *r, size_t n)
{
	char c1[NPD_CIDRSTRLEN];
	size_t i, j, k;

	for (i = 0; i < n; i++) {
		npd_buf_printf(b, " %s[", dir);
		for (j = 0; j < r[i].n_peers; j++) {
			const struct npd_peer *p = &r[i].peers[j];

			if (p->kind == NPD_PEER_IPBLOCK) {
				npd_buf_printf(b, " ip:%s", npd_cidr_format(&p->cidr, c1));
				for (k = 0; k < p->n_except; k++)
					npd_buf_printf(b, "-%s",
						       npd_cidr_format(&p->except[k], c1));
				continue;
			}
			npd_buf_adds(b, " sel:");
			if (p->has_ns_sel) {
				npd_buf_adds(b, "ns");
				dump_sel(b, &p->ns_sel);
			}
			if (p->has_pod_sel) {
				npd_buf_adds(b, "pod");
				dump_sel(b, &p->pod_sel);
			}
		}
		npd_buf_adds(b, " ports:");
		for (j = 0; j < r[i].n_ports; j++) {
			const struct npd_port *p = &r[i].ports[j];

			npd_buf_printf(b, " %s/", npd_proto_name(p->proto));
			if (p->name)
				npd_buf_adds(b, p->name);
			else if (p->has_port)
				npd_buf_printf(b, "%u-%u", p->port, p->end_port);
			else
				npd_buf_adds(b, "*");
		}
		npd_buf_adds(b, " ]");
	}
}

/* One line per event with every kept field: equal dumps mean equal decodes. */
static char *
dump(const struct tu_events *g, const struct npd_diags *d)
{
	struct npd_buf b;
	char a[NPD_ADDRSTRLEN], line[1024];
	size_t i, j;

	npd_buf_init(&b);
	for (i = 0; i < g->n; i++) {
		const struct npd_event *ev = &g->v[i];

		npd_buf_printf(&b, "ev=%d rv=%s code=%d reason=%s msg=%s", ev->type,
			       ev->rv ? ev->rv : "-", ev->code, ev->reason ? ev->reason : "-",
			       ev->message ? ev->message : "-");
		if (ev->type == NPD_EV_BOOKMARK || ev->type == NPD_EV_ERROR) {
			npd_buf_addc(&b, '\n');
			continue;
		}
		switch (ev->obj.kind) {
		case NPD_KIND_NAMESPACE:
			npd_buf_printf(&b, " ns %s uid=%s rv=%s labels=", ev->obj.u.ns->name,
				       ev->obj.u.ns->uid, ev->obj.u.ns->rv);
			dump_labels(&b, &ev->obj.u.ns->labels);
			break;
		case NPD_KIND_POD: {
			const struct npd_pod *p = ev->obj.u.pod;

			npd_buf_printf(
			    &b, " pod %s/%s uid=%s rv=%s node=%s phase=%s host=%d labels=", p->ns,
			    p->name, p->uid, p->rv, p->node ? p->node : "-",
			    npd_phase_name(p->phase), p->host_network);
			dump_labels(&b, &p->labels);
			npd_buf_adds(&b, " ips=");
			for (j = 0; j < p->n_ips; j++)
				npd_buf_printf(&b, "%s ", npd_addr_format(&p->ips[j], a));
			npd_buf_adds(&b, "ports=");
			for (j = 0; j < p->n_ports; j++)
				npd_buf_printf(&b, "%s:%u/%s ",
					       p->ports[j].name ? p->ports[j].name : "",
					       p->ports[j].port, npd_proto_name(p->ports[j].proto));
			break;
		}
		case NPD_KIND_POLICY: {
			const struct npd_policy *p = ev->obj.u.policy;

			npd_buf_printf(
			    &b, " pol %s/%s uid=%s rv=%s in=%d eg=%d invalid=%d(%s) sel=", p->ns,
			    p->name, p->uid, p->rv, p->isolates_ingress, p->isolates_egress,
			    p->invalid, p->invalid_reason ? p->invalid_reason : "");
			dump_sel(&b, &p->pod_sel);
			dump_rules(&b, "in", p->ingress, p->n_ingress);
			dump_rules(&b, "eg", p->egress, p->n_egress);
			break;
		}
		case NPD_KIND__COUNT:
			break;
		}
		npd_buf_addc(&b, '\n');
	}
	for (i = 0; d && i < d->n; i++)
		npd_buf_printf(&b, "diag %s\n", npd_diag_format(&d->v[i], line, sizeof(line)));
	return npd_buf_steal(&b);
}

/* Decodes buf fed in chunks of size step (0: whole). */
static void
run(struct tu_json_run *r, enum npd_json_mode mode, enum npd_kind kind, const char *buf, size_t len,
    size_t step)
{
	tu_json_run(r, mode, kind, buf, len, step, 0);
}

static void
run_str(struct tu_json_run *r, enum npd_json_mode mode, enum npd_kind kind, const char *s)
{
	run(r, mode, kind, s, strlen(s), 0);
}

static void
run_file(struct tu_json_run *r, enum npd_json_mode mode, enum npd_kind kind, const char *rel)
{
	size_t len;
	char *buf = tu_read_file(rel, &len);

	ck_assert_msg(buf != NULL, "cannot read %s", rel);
	run(r, mode, kind, buf, len, 0);
	free(buf);
}

static const char *
ipstr(const struct npd_addr *a)
{
	static char buf[NPD_ADDRSTRLEN];

	return npd_addr_format(a, buf);
}

START_TEST(pod_list_keeps_exact_fields)
{
	struct tu_json_run r;
	const struct npd_pod *p;

	run_file(&r, NPD_JSON_LIST, NPD_KIND_POD, "test/fixtures/api/pods.json");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_int_eq(r.diags.n, 0);
	ck_assert_uint_eq(r.got.n, 5);
	ck_assert_uint_eq(r.n_events, 5);
	ck_assert_str_eq(r.list_rv, "4815162");
	ck_assert_ptr_nonnull(r.list_continue);
	ck_assert(!strncmp(r.list_continue, "eyJ2Ijoib", 9));

	ck_assert_int_eq(r.got.v[0].type, NPD_EV_ADDED);
	ck_assert_int_eq(r.got.v[0].obj.kind, NPD_KIND_POD);
	ck_assert_str_eq(r.got.v[0].rv, "4815001");
	p = r.got.v[0].obj.u.pod;
	ck_assert_str_eq(p->ns, "frontend");
	ck_assert_str_eq(p->name, "api-6f9c7d8b5-2xkqp");
	ck_assert_str_eq(p->uid, "0b6c1f3e-6a2d-4c4e-9d0b-1f7c2a9e8d11");
	ck_assert_str_eq(p->rv, "4815001");
	ck_assert_str_eq(p->node, "aks-nodepool1-12345678-vmss000000");
	ck_assert_uint_eq(p->labels.n, 3);
	ck_assert_str_eq(npd_labels_get(&p->labels, "app"), "api");
	ck_assert_str_eq(npd_labels_get(&p->labels, "tier"), "frontend");
	ck_assert_int_eq(p->phase, NPD_PHASE_RUNNING);
	ck_assert(!p->host_network);
	/* podIPs wins over podIP, duplicates dropped, v4 and v6 kept. */
	ck_assert_uint_eq(p->n_ips, 2);
	ck_assert_str_eq(ipstr(&p->ips[0]), "10.244.1.12");
	ck_assert_str_eq(ipstr(&p->ips[1]), "fd00:10:244:1::c");
	/* Both containers' ports, protocol defaulting to TCP. */
	ck_assert_uint_eq(p->n_ports, 4);
	ck_assert_str_eq(p->ports[0].name, "http");
	ck_assert_uint_eq(p->ports[0].port, 8080);
	ck_assert_str_eq(p->ports[1].name, "metrics");
	ck_assert_str_eq(p->ports[2].name, "dns");
	ck_assert_int_eq(p->ports[2].proto, NPD_PROTO_UDP);
	ck_assert_ptr_null(p->ports[3].name);
	ck_assert_uint_eq(p->ports[3].port, 5353);
	ck_assert_int_eq(p->ports[3].proto, NPD_PROTO_TCP);

	p = r.got.v[1].obj.u.pod;
	ck_assert_str_eq(p->name, "db-0");
	ck_assert_uint_eq(p->n_ips, 1);
	ck_assert_str_eq(p->ports[0].name, "postgres");

	p = r.got.v[2].obj.u.pod;
	ck_assert_str_eq(p->name, "kube-proxy-x7k2p");
	ck_assert(p->host_network);
	ck_assert(!npd_pod_is_selectable(p));

	p = r.got.v[3].obj.u.pod;
	ck_assert_int_eq(p->phase, NPD_PHASE_SUCCEEDED);
	ck_assert_uint_eq(p->n_ips, 1); /* podIP fallback */
	ck_assert_str_eq(ipstr(&p->ips[0]), "10.244.2.19");
	ck_assert_uint_eq(p->n_ports, 0);

	p = r.got.v[4].obj.u.pod;
	ck_assert_int_eq(p->phase, NPD_PHASE_PENDING);
	ck_assert_uint_eq(p->n_ips, 0);
	ck_assert_ptr_null(p->node);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(namespace_list_adds_name_label)
{
	struct tu_json_run r;
	const struct npd_namespace *ns;

	run_file(&r, NPD_JSON_LIST, NPD_KIND_NAMESPACE, "test/fixtures/api/namespaces.json");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 4);
	ck_assert_str_eq(r.list_rv, "4815170");
	ck_assert_ptr_null(r.list_continue);
	ns = r.got.v[0].obj.u.ns;
	ck_assert_str_eq(ns->name, "backend");
	ck_assert_str_eq(ns->uid, "a1b2c3d4-0001-4000-8000-000000000001");
	ck_assert_str_eq(ns->rv, "1201");
	ck_assert_uint_eq(ns->labels.n, 2);
	ck_assert_str_eq(npd_labels_get(&ns->labels, "purpose"), "production");
	ns = r.got.v[3].obj.u.ns;
	ck_assert_str_eq(ns->name, "legacy");
	ck_assert_uint_eq(ns->labels.n, 1);
	ck_assert_str_eq(npd_labels_get(&ns->labels, "kubernetes.io/metadata.name"), "legacy");
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(policy_list_keeps_exact_fields)
{
	struct tu_json_run r;
	const struct npd_policy *p;
	const struct npd_peer *peer;
	const struct npd_port *port;
	char c[NPD_CIDRSTRLEN];
	struct npd_buf b;

	run_file(&r, NPD_JSON_LIST, NPD_KIND_POLICY, "test/fixtures/api/policies.json");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_int_eq(r.diags.n, 0);
	ck_assert_uint_eq(r.got.n, 3);

	/* The AKS example: db accepts only api pods of the frontend namespace on TCP 80
	 * (one peer, an AND), and may send nothing. */
	p = r.got.v[0].obj.u.policy;
	ck_assert_str_eq(p->ns, "backend");
	ck_assert_str_eq(p->name, "db-policy");
	ck_assert_str_eq(p->uid, "6b0e1f2a-3c4d-4e5f-8a9b-0c1d2e3f4a5b");
	ck_assert_str_eq(p->rv, "4815180");
	ck_assert_int_eq(p->generation, 1);
	ck_assert(!p->invalid);
	ck_assert(p->isolates_ingress && p->isolates_egress);
	ck_assert_str_eq(npd_labels_get(&p->pod_sel.match_labels, "app"), "db");
	ck_assert_uint_eq(p->n_ingress, 1);
	ck_assert_uint_eq(p->n_egress, 0);
	ck_assert_uint_eq(p->ingress[0].n_peers, 1);
	peer = &p->ingress[0].peers[0];
	ck_assert_int_eq(peer->kind, NPD_PEER_SELECTOR);
	ck_assert(peer->has_ns_sel && peer->has_pod_sel);
	ck_assert_str_eq(npd_labels_get(&peer->ns_sel.match_labels, "kubernetes.io/metadata.name"),
			 "frontend");
	ck_assert_str_eq(npd_labels_get(&peer->pod_sel.match_labels, "app"), "api");
	ck_assert_uint_eq(p->ingress[0].n_ports, 1);
	port = &p->ingress[0].ports[0];
	ck_assert_int_eq(port->proto, NPD_PROTO_TCP);
	ck_assert(port->has_port);
	ck_assert_uint_eq(port->port, 80);
	ck_assert_uint_eq(port->end_port, 0);

	p = r.got.v[1].obj.u.policy;
	ck_assert_str_eq(p->name, "allow-office-and-monitoring");
	/* No policyTypes and a non-empty egress list: both directions. */
	ck_assert(p->isolates_ingress && p->isolates_egress);
	npd_buf_init(&b);
	npd_selector_format(&p->pod_sel, &b);
	ck_assert_str_eq(b.data, "!canary,tier in (edge,frontend)");
	npd_buf_fini(&b);
	ck_assert_uint_eq(p->n_ingress, 1);
	ck_assert_uint_eq(p->ingress[0].n_peers, 2);
	peer = &p->ingress[0].peers[0];
	ck_assert_int_eq(peer->kind, NPD_PEER_IPBLOCK);
	ck_assert_str_eq(npd_cidr_format(&peer->cidr, c), "172.17.0.0/16");
	ck_assert_uint_eq(peer->n_except, 2);
	ck_assert_str_eq(npd_cidr_format(&peer->except[1], c), "172.17.2.0/24");
	peer = &p->ingress[0].peers[1];
	ck_assert(peer->has_ns_sel && !peer->has_pod_sel);
	ck_assert(npd_selector_is_empty(&peer->ns_sel));
	ck_assert_uint_eq(p->ingress[0].n_ports, 3);
	port = &p->ingress[0].ports[0];
	ck_assert_str_eq(port->name, "http");
	ck_assert(port->has_port);
	ck_assert_uint_eq(port->port, 0);
	port = &p->ingress[0].ports[1];
	ck_assert_uint_eq(port->port, 32000);
	ck_assert_uint_eq(port->end_port, 32768);
	port = &p->ingress[0].ports[2];
	ck_assert_int_eq(port->proto, NPD_PROTO_SCTP);
	ck_assert_uint_eq(port->port, 3868);
	ck_assert_uint_eq(p->n_egress, 2);
	ck_assert_int_eq(p->egress[0].ports[0].proto, NPD_PROTO_UDP);
	ck_assert_int_eq(p->egress[0].ports[1].proto, NPD_PROTO_TCP);
	ck_assert_str_eq(npd_cidr_format(&p->egress[1].peers[0].cidr, c), "2001:db8::/32");
	ck_assert_uint_eq(p->egress[1].n_ports, 0);

	p = r.got.v[2].obj.u.policy;
	ck_assert(p->isolates_ingress && !p->isolates_egress);
	ck_assert(npd_selector_is_empty(&p->pod_sel));
	ck_assert_uint_eq(p->n_ingress + p->n_egress, 0);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(watch_stream_events)
{
	struct tu_json_run r;

	run_file(&r, NPD_JSON_WATCH, NPD_KIND_POD, "test/fixtures/api/watch_pods.jsonl");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.n_bad, 0);
	ck_assert_uint_eq(r.got.n, 4);
	ck_assert_int_eq(r.got.v[0].type, NPD_EV_ADDED);
	ck_assert_str_eq(r.got.v[0].rv, "5000");
	ck_assert_int_eq(r.got.v[0].obj.u.pod->phase, NPD_PHASE_PENDING);
	ck_assert_int_eq(r.got.v[1].type, NPD_EV_MODIFIED);
	ck_assert_uint_eq(r.got.v[1].obj.u.pod->n_ips, 1);
	ck_assert_int_eq(r.got.v[2].type, NPD_EV_BOOKMARK);
	ck_assert_str_eq(r.got.v[2].rv, "5002");
	ck_assert_ptr_null(r.got.v[2].obj.u.pod);
	ck_assert_int_eq(r.got.v[3].type, NPD_EV_DELETED);
	ck_assert_str_eq(r.got.v[3].obj.u.pod->name, "web-1");
	ck_assert_str_eq(r.got.v[3].rv, "5003");
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(watch_error_410)
{
	struct tu_json_run r;

	run_file(&r, NPD_JSON_WATCH, NPD_KIND_POLICY, "test/fixtures/api/watch_expired.jsonl");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 2);
	ck_assert_int_eq(r.got.v[0].type, NPD_EV_ADDED);
	ck_assert_int_eq(r.got.v[0].obj.kind, NPD_KIND_POLICY);
	ck_assert_int_eq(r.got.v[1].type, NPD_EV_ERROR);
	ck_assert_int_eq(r.got.v[1].code, 410);
	ck_assert_str_eq(r.got.v[1].reason, "Expired");
	ck_assert(strstr(r.got.v[1].message, "too old resource version") != NULL);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(watch_error_retry_after)
{
	struct tu_json_run r;

	run_str(&r, NPD_JSON_WATCH, NPD_KIND_POD,
		"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":429,\"reason\":"
		"\"TooManyRequests\",\"details\":{\"causes\":[{}],\"retryAfterSeconds\":7}}}\n"
		"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":500}}\n"
		"{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":429,\"details\":{"
		"\"retryAfterSeconds\":\"soon\"}}}\n");
	ck_assert_uint_eq(r.got.n, 3);
	ck_assert_int_eq(r.got.v[0].code, 429);
	ck_assert_double_eq(r.got.v[0].retry_after, 7);
	ck_assert_double_eq(r.got.v[1].retry_after, 0);
	/* Not an integer: as if absent, the backoff decides. */
	ck_assert_double_eq(r.got.v[2].retry_after, 0);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(status_body_instead_of_list)
{
	struct tu_json_run r;

	run_file(&r, NPD_JSON_LIST, NPD_KIND_POD, "test/fixtures/api/status_410.json");
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 0);
	ck_assert_int_eq(r.status, 410);
	ck_assert_str_eq(r.reason, "Expired");
	tu_json_run_fini(&r);

	run_file(&r, NPD_JSON_OBJECT, NPD_KIND_POD, "test/fixtures/api/status_410.json");
	ck_assert_uint_eq(r.got.n, 0);
	ck_assert_int_eq(r.status, 410);
	tu_json_run_fini(&r);
}
END_TEST

static const struct {
	const char *path;
	enum npd_json_mode mode;
	enum npd_kind kind;
} fixtures[] = {
    {"test/fixtures/api/pods.json", NPD_JSON_LIST, NPD_KIND_POD},
    {"test/fixtures/api/namespaces.json", NPD_JSON_LIST, NPD_KIND_NAMESPACE},
    {"test/fixtures/api/policies.json", NPD_JSON_LIST, NPD_KIND_POLICY},
    {"test/fixtures/api/watch_pods.jsonl", NPD_JSON_WATCH, NPD_KIND_POD},
    {"test/fixtures/api/watch_expired.jsonl", NPD_JSON_WATCH, NPD_KIND_POLICY},
    {"test/fixtures/api/status_410.json", NPD_JSON_LIST, NPD_KIND_POD},
};

START_TEST(every_chunk_size_decodes_the_same)
{
	struct tu_json_run whole, r;
	char *want, *have, *buf;
	size_t len, step;

	buf = tu_read_file(fixtures[_i].path, &len);
	ck_assert_ptr_nonnull(buf);
	run(&whole, fixtures[_i].mode, fixtures[_i].kind, buf, len, 0);
	want = dump(&whole.got, &whole.diags);
	ck_assert(whole.got.n > 0 || whole.status == 410);
	for (step = 1; step <= 64; step++) {
		run(&r, fixtures[_i].mode, fixtures[_i].kind, buf, len, step);
		have = dump(&r.got, &r.diags);
		ck_assert_msg(!strcmp(want, have), "%s step %zu:\n%s\nvs\n%s", fixtures[_i].path,
			      step, have, want);
		ck_assert_int_eq(r.finish_rc, whole.finish_rc);
		ck_assert_str_eq(r.list_rv ? r.list_rv : "", whole.list_rv ? whole.list_rv : "");
		free(have);
		tu_json_run_fini(&r);
	}
	free(want);
	tu_json_run_fini(&whole);
	free(buf);
}
END_TEST

/* Two chunks split at every byte of a small stream, including inside multi-byte UTF-8. */
START_TEST(every_split_point_decodes_the_same)
{
	static const char s[] =
	    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"caf"
	    "e\",\"annotations\":{\"note\":\"caf\xc3\xa9 \xe2\x98\x95\"},\"labels\":{\"a\":"
	    "\"b\"}}}}\n{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
	    "\"reason\":\"Expired\",\"message\":\"r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80\"}}\n";
	struct tu_json_run whole, r;
	struct npd_json_decoder *d;
	char *want, *have;
	size_t len = strlen(s), cut;

	run(&whole, NPD_JSON_WATCH, NPD_KIND_NAMESPACE, s, len, 0);
	ck_assert_uint_eq(whole.got.n, 2);
	ck_assert_str_eq(whole.got.v[1].message, "r\xc3\xa9sum\xc3\xa9 \xf0\x9f\x98\x80");
	want = dump(&whole.got, &whole.diags);
	for (cut = 0; cut <= len; cut++) {
		memset(&r, 0, sizeof(r));
		npd_diags_init(&r.diags);
		d = npd_json_decoder_new(NPD_JSON_WATCH, NPD_KIND_NAMESPACE, tu_collect, &r.got,
					 &r.diags);
		ck_assert_int_eq(npd_json_decoder_feed(d, s, cut), 0);
		ck_assert_int_eq(npd_json_decoder_feed(d, s + cut, len - cut), 0);
		ck_assert_int_eq(npd_json_decoder_finish(d), 0);
		npd_json_decoder_free(d);
		have = dump(&r.got, &r.diags);
		ck_assert_msg(!strcmp(want, have), "cut %zu", cut);
		free(have);
		tu_json_run_fini(&r);
	}
	free(want);
	tu_json_run_fini(&whole);
}
END_TEST

START_TEST(unknown_fields_skipped_at_any_depth)
{
	static const char plain[] =
	    "{\"kind\":\"NetworkPolicy\",\"metadata\":{\"name\":\"p\",\"namespace\":\"n\"},"
	    "\"spec\":{\"podSelector\":{\"matchLabels\":{\"a\":\"b\"}},\"ingress\":[{\"from\":"
	    "[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\"]}}],\"ports\":"
	    "[{\"port\":443}]}]}}";
	static const char noisy[] =
	    "{\"x\":[{\"y\":[[{\"kind\":\"Pod\"}],{\"metadata\":{\"name\":\"evil\"}}]}],"
	    "\"kind\":\"NetworkPolicy\",\"status\":{\"conditions\":[{\"a\":[1,2,{\"b\":null}]}]},"
	    "\"metadata\":{\"name\":\"p\",\"namespace\":\"n\",\"spec\":{\"x\":1},"
	    "\"managedFields\":[{\"fieldsV1\":{\"f:spec\":{\"f:ingress\":[{\"name\":\"q\"}]}}}]},"
	    "\"spec\":{\"future\":{\"ingress\":[{\"from\":[]}]},\"podSelector\":{\"matchLabels\":"
	    "{\"a\":\"b\"},\"extra\":[{\"matchLabels\":{\"c\":\"d\"}}]},\"ingress\":[{\"from\":"
	    "[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"10.1.0.0/16\"],\"note\":"
	    "[[[]]]},\"comment\":{\"podSelector\":{}}}],\"ports\":[{\"port\":443,\"name\":"
	    "{\"x\":[true,false,1.5e3]}}],\"weight\":-1}]},\"z\":\"\"}";
	struct tu_json_run a, b;
	char *da, *db;

	run_str(&a, NPD_JSON_OBJECT, NPD_KIND_POLICY, plain);
	run_str(&b, NPD_JSON_OBJECT, NPD_KIND_POLICY, noisy);
	ck_assert_uint_eq(a.got.n, 1);
	ck_assert_int_eq(b.finish_rc, 0);
	da = dump(&a.got, &a.diags);
	db = dump(&b.got, &b.diags);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
	tu_json_run_fini(&a);
	tu_json_run_fini(&b);
}
END_TEST

#define POL_HEAD(name) "{\"metadata\":{\"name\":\"" name "\",\"namespace\":\"ns1\"},\"spec\":"
#define GOOD_POL(name) POL_HEAD(name) "{\"podSelector\":{},\"ingress\":[{}]}}"

START_TEST(bad_pods_reported_and_skipped)
{
	static const char list[] =
	    "{\"kind\":\"PodList\",\"items\":["
	    "{\"metadata\":{\"name\":\"p1\",\"namespace\":\"ns1\",\"labels\":[\"app\"]}},"
	    "{\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":{\"x\":1}}]}]},"
	    "\"metadata\":{\"name\":\"p2\",\"namespace\":\"ns1\"}},"
	    "{\"metadata\":{\"name\":\"p3\",\"namespace\":\"ns1\",\"labels\":{\"bad key!\":\"v\"}}},"
	    "{\"metadata\":{\"namespace\":\"ns1\"}},"
	    "{\"metadata\":{\"name\":\"p5\",\"namespace\":\"ns1\"},\"status\":{\"podIPs\":"
	    "[{\"ip\":\"10.0.0.300\"}]}},"
	    "{\"metadata\":{\"name\":\"p6\",\"namespace\":\"ns1\"},\"spec\":{\"hostNetwork\":\"yes\"}},"
	    "{\"metadata\":{\"name\":\"ok\",\"namespace\":\"ns1\"},\"status\":{\"podIP\":\"10.0.0.1\"}}"
	    "]}";
	struct tu_json_run r;
	const struct npd_diag *dg;

	run_str(&r, NPD_JSON_LIST, NPD_KIND_POD, list);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.pod->name, "ok");
	ck_assert_uint_eq(r.n_bad, 6);
	dg = tu_diag_find(&r.diags, "metadata.labels", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->kind, NPD_DIAG_TYPE);
	ck_assert_str_eq(dg->obj_kind, "Pod");
	ck_assert_str_eq(dg->ns, "ns1");
	ck_assert_str_eq(dg->name, "p1");
	/* metadata arrives after spec: the name is still attached. */
	dg = tu_diag_find(&r.diags, "spec.containers[0].ports[0].containerPort", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "p2");
	dg = tu_diag_find(&r.diags, "metadata.labels.bad key!", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->kind, NPD_DIAG_VALUE);
	dg = tu_diag_find(&r.diags, "metadata.name", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert(strstr(dg->msg, "missing") != NULL);
	ck_assert_ptr_nonnull(tu_diag_find(&r.diags, "status.podIPs[0].ip", NULL));
	ck_assert_ptr_nonnull(tu_diag_find(&r.diags, "spec.hostNetwork", NULL));
	tu_json_run_fini(&r);
}
END_TEST

static const struct {
	const char *spec; /* a NetworkPolicy spec with one bad rule field */
	const char *path;
	enum npd_diag_kind kind;
} bad_rules[] = {
    {"{\"ingress\":[{\"from\":[{\"podSelector\":{}},{\"ipBlock\":{\"cidr\":\"10.0.0.0/33\"}}]}]}",
     "spec.ingress[0].from[1].ipBlock.cidr", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"nope\"]}}]}]}",
     "spec.ingress[0].from[0].ipBlock.except[0]", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":[{\"ipBlock\":{\"cidr\":\"10.0.0.0/8\",\"except\":[\"11.0.0.0/16\"]"
     "}}]}]}",
     "spec.ingress[0].from[0].ipBlock.except[0]", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"ports\":[{\"port\":0}]}]}", "spec.ingress[0].ports[0].port", NPD_DIAG_VALUE},
    {"{\"egress\":[{\"ports\":[{\"port\":80},{\"port\":65536}]}]}", "spec.egress[0].ports[1].port",
     NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"ports\":[{\"port\":{\"a\":1}}]}]}", "spec.ingress[0].ports[0].port",
     NPD_DIAG_TYPE},
    {"{\"ingress\":[{\"ports\":[{\"port\":\"80\"}]}]}", "spec.ingress[0].ports[0].port",
     NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"ports\":[{\"port\":9000,\"endPort\":8000}]}]}",
     "spec.ingress[0].ports[0].endPort", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"ports\":[{\"port\":\"http\",\"endPort\":8000}]}]}",
     "spec.ingress[0].ports[0].endPort", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"ports\":[{\"protocol\":\"ICMP\",\"port\":1}]}]}",
     "spec.ingress[0].ports[0].protocol", NPD_DIAG_VALUE},
    {"{\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":\"a\","
     "\"operator\":\"Like\"}]}}]}]}",
     "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].operator", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":[{\"podSelector\":{\"matchLabels\":{\"a\":\"b c\"}}}]}]}",
     "spec.ingress[0].from[0].podSelector", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":[{\"podSelector\":{\"matchExpressions\":[{\"key\":\"a\","
     "\"operator\":\"Exists\"},{\"operator\":\"Exists\"}]}}]}]}",
     "spec.ingress[0].from[0].podSelector.matchExpressions[1].key", NPD_DIAG_VALUE},
    {"{\"egress\":[{\"to\":[{\"namespaceSelector\":{\"matchExpressions\":[{\"key\":null,"
     "\"operator\":\"Exists\"},{\"key\":\"b\",\"operator\":\"In\",\"values\":[\"x\"]}]}}]}]}",
     "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].key", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":[{}]}]}", "spec.ingress[0].from[0]", NPD_DIAG_VALUE},
    {"{\"ingress\":[{\"from\":{\"podSelector\":{}}}]}", "spec.ingress[0].from", NPD_DIAG_TYPE},
    {"{\"ingress\":\"all\"}", "spec.ingress", NPD_DIAG_TYPE},
};

START_TEST(bad_rule_keeps_isolation_allows_nothing)
{
	struct npd_buf b;
	struct tu_json_run r;
	const struct npd_policy *p;
	const struct npd_diag *dg;

	npd_buf_init(&b);
	npd_buf_printf(
	    &b,
	    "{\"items\":[" POL_HEAD("bad") "%s},{\"spec\":{\"podSelector\":{}},"
					   "\"metadata\":{\"name\":\"good\",\"namespace\":"
					   "\"ns1\"}}]}",
	    bad_rules[_i].spec);
	run_str(&r, NPD_JSON_LIST, NPD_KIND_POLICY, b.data);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 2);
	p = r.got.v[0].obj.u.policy;
	ck_assert_str_eq(p->name, "bad");
	ck_assert_msg(p->invalid, "%s", bad_rules[_i].spec);
	ck_assert_ptr_nonnull(p->invalid_reason);
	ck_assert(strstr(p->invalid_reason, bad_rules[_i].path) != NULL);
	ck_assert(p->isolates_ingress);
	ck_assert_uint_eq(p->n_ingress, 0);
	ck_assert_uint_eq(p->n_egress, 0);
	dg = tu_diag_find(&r.diags, bad_rules[_i].path, NULL);
	ck_assert_msg(dg != NULL, "no diag at %s", bad_rules[_i].path);
	ck_assert_int_eq(dg->kind, bad_rules[_i].kind);
	ck_assert_str_eq(dg->obj_kind, "NetworkPolicy");
	ck_assert_str_eq(dg->ns, "ns1");
	ck_assert_str_eq(dg->name, "bad");
	p = r.got.v[1].obj.u.policy;
	ck_assert_str_eq(p->name, "good");
	ck_assert(!p->invalid);
	npd_buf_fini(&b);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(bad_egress_rule_isolates_egress_too)
{
	struct tu_json_run r;

	run_str(&r, NPD_JSON_OBJECT, NPD_KIND_POLICY,
		POL_HEAD("p") "{\"egress\":[{\"ports\":[{\"port\":-5}]}]}}");
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert(r.got.v[0].obj.u.policy->invalid);
	ck_assert(r.got.v[0].obj.u.policy->isolates_ingress);
	ck_assert(r.got.v[0].obj.u.policy->isolates_egress);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(bad_selector_or_types_skip_policy)
{
	static const char list[] = "{\"items\":[" POL_HEAD(
	    "a") "{\"podSelector\":{\"matchExpressions\":[{\"key\":"
		 "\"x\",\"operator\":\"Sometimes\"}]}}}," POL_HEAD(
		     "b") "{\"policyTypes\":[\"Ingress\","
			  "\"Sideways\"]}}," POL_HEAD("c") "{\"podSelector\":[]}}," POL_HEAD(
			      "d") "7}," GOOD_POL("e") "]}";
	struct tu_json_run r;
	const struct npd_diag *dg;

	run_str(&r, NPD_JSON_LIST, NPD_KIND_POLICY, list);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.policy->name, "e");
	ck_assert_uint_eq(r.n_bad, 4);
	dg = tu_diag_find(&r.diags, "spec.podSelector.matchExpressions[0].operator", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "a");
	dg = tu_diag_find(&r.diags, "spec.policyTypes[1]", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "b");
	dg = tu_diag_find(&r.diags, "spec.podSelector", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "c");
	ck_assert_ptr_nonnull(tu_diag_find(&r.diags, "spec", NULL));
	tu_json_run_fini(&r);
}
END_TEST

/* Regression: two expressions, one without a key, crashed the selector's canonical sort. */
START_TEST(target_selector_without_key_skips_policy)
{
	static const char list[] = "{\"items\":[" POL_HEAD(
	    "nokey") "{\"podSelector\":{\"matchExpressions\":[{\"key\":\"b\",\"operator\":"
		     "\"Exists\"},{\"key\":null,\"operator\":\"Exists\"},{\"operator\":"
		     "\"DoesNotExist\"}]}}}," GOOD_POL("e") "]}";
	struct tu_json_run r;
	const struct npd_diag *dg;

	run_str(&r, NPD_JSON_LIST, NPD_KIND_POLICY, list);
	ck_assert_int_eq(r.finish_rc, 0);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.policy->name, "e");
	ck_assert_uint_eq(r.n_bad, 1);
	dg = tu_diag_find(&r.diags, "spec.podSelector.matchExpressions[1].key", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "nokey");
	tu_json_run_fini(&r);
}
END_TEST

/* Names and namespaces as the API server validates them: a manifest or a stand-in server
 * may carry others, and '/' in a name once merged two policies' chains. */
START_TEST(bad_names_skipped)
{
	static const char pods[] =
	    "{\"items\":["
	    "{\"metadata\":{\"name\":\"a/b\",\"namespace\":\"ns1\"}},"
	    "{\"metadata\":{\"name\":\"Web\",\"namespace\":\"ns1\"}},"
	    "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"ns1/x\"}},"
	    "{\"metadata\":{\"name\":\"web-0\",\"namespace\":\"a.b\"}},"
	    "{\"metadata\":{\"name\":\"web-0.shop\",\"namespace\":\"ns1\"}}]}";
	static const char pols[] =
	    "{\"items\":[" POL_HEAD("b/c") "{\"podSelector\":{}}}," GOOD_POL("b.c") "]}";
	static const char nss[] =
	    "{\"items\":[{\"metadata\":{\"name\":\"a.b\"}},"
	    "{\"metadata\":{\"name\":\"a|b\"}},{\"metadata\":{\"name\":\"ab\"}}]}";
	struct tu_json_run r;
	const struct npd_diag *dg;

	run_str(&r, NPD_JSON_LIST, NPD_KIND_POD, pods);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.pod->name, "web-0.shop");
	ck_assert_uint_eq(r.n_bad, 4);
	dg = tu_diag_find(&r.diags, "metadata.name", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->name, "a/b");
	ck_assert(strstr(dg->msg, "DNS-1123 subdomain") != NULL);
	dg = tu_diag_find(&r.diags, "metadata.namespace", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert(strstr(dg->msg, "DNS-1123 label") != NULL);
	tu_json_run_fini(&r);

	run_str(&r, NPD_JSON_LIST, NPD_KIND_POLICY, pols);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.policy->name, "b.c");
	ck_assert_uint_eq(r.n_bad, 1);
	tu_json_run_fini(&r);

	run_str(&r, NPD_JSON_LIST, NPD_KIND_NAMESPACE, nss);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_str_eq(r.got.v[0].obj.u.ns->name, "ab");
	ck_assert_uint_eq(r.n_bad, 2);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(policy_types_rules)
{
	struct tu_json_run r;

	/* Explicit types win, even against the rules present. */
	run_str(&r, NPD_JSON_OBJECT, NPD_KIND_POLICY,
		POL_HEAD("p") "{\"policyTypes\":[\"Egress\"],\"ingress\":[{}]}}");
	ck_assert(!r.got.v[0].obj.u.policy->isolates_ingress);
	ck_assert(r.got.v[0].obj.u.policy->isolates_egress);
	ck_assert_uint_eq(r.got.v[0].obj.u.policy->n_ingress, 1);
	tu_json_run_fini(&r);
	/* An empty egress list does not make an Egress policy. */
	run_str(&r, NPD_JSON_OBJECT, NPD_KIND_POLICY, POL_HEAD("p") "{\"egress\":[]}}");
	ck_assert(r.got.v[0].obj.u.policy->isolates_ingress);
	ck_assert(!r.got.v[0].obj.u.policy->isolates_egress);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(rule_limit_makes_policy_invalid)
{
	struct npd_buf b;
	struct tu_json_run r;
	const struct npd_diag *dg;
	int i;

	npd_buf_init(&b);
	npd_buf_adds(&b, POL_HEAD("huge") "{\"ingress\":[");
	for (i = 0; i < NPD_DEC_MAX_RULES + 1; i++)
		npd_buf_printf(&b, "%s{\"ports\":[{\"port\":%d}]}", i ? "," : "", 1 + i % 60000);
	npd_buf_adds(&b, "]}}");
	run_str(&r, NPD_JSON_OBJECT, NPD_KIND_POLICY, b.data);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert(r.got.v[0].obj.u.policy->invalid);
	ck_assert_uint_eq(r.got.v[0].obj.u.policy->n_ingress, 0);
	dg = tu_diag_find(&r.diags, "spec.ingress", NULL);
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->kind, NPD_DIAG_LIMIT);
	npd_buf_fini(&b);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(malformed_watch_line_skipped)
{
	static const char s[] =
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n"
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}}garbage\"\n"
	    "not json at all\n"
	    "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\n"
	    "\r\n"
	    "[1,2]\n"
	    "{\"type\":\"SIDEWAYS\",\"object\":{}}\n"
	    "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":{\"name\":\"c\"}}}\n"
	    "{\"type\":\"DELETED\",\"object\":{\"metadata\":{\"name\":\"d\"}}}";
	struct tu_json_run r;
	size_t i, syntax = 0;

	run_str(&r, NPD_JSON_WATCH, NPD_KIND_NAMESPACE, s);
	ck_assert_int_eq(r.feed_rc, 0);
	ck_assert_int_eq(r.finish_rc, 0); /* a complete last line needs no newline */
	ck_assert_uint_eq(r.got.n, 3);
	ck_assert_str_eq(r.got.v[0].obj.u.ns->name, "a");
	ck_assert_int_eq(r.got.v[1].type, NPD_EV_MODIFIED);
	ck_assert_str_eq(r.got.v[1].obj.u.ns->name, "c");
	ck_assert_int_eq(r.got.v[2].type, NPD_EV_DELETED);
	ck_assert_uint_eq(r.n_bad, 5);
	for (i = 0; i < r.diags.n; i++)
		syntax += r.diags.v[i].kind == NPD_DIAG_SYNTAX;
	ck_assert_uint_eq(syntax, 5);
	ck_assert(strstr(r.diags.v[0].msg, "watch line 2") != NULL);
	tu_json_run_fini(&r);

	run_str(&r, NPD_JSON_WATCH, NPD_KIND_NAMESPACE,
		"{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a\"}}}\n{\"type\":\"ADD");
	ck_assert_int_eq(r.finish_rc, -EINVAL);
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_uint_eq(r.n_bad, 1);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(truncated_list_fails_at_finish)
{
	size_t len, i, cuts[4];
	char *buf = tu_read_file("test/fixtures/api/pods.json", &len);
	struct tu_json_run r;

	ck_assert_ptr_nonnull(buf);
	/* The file ends with "]}\n": len - 2 drops only the closing brace. */
	cuts[0] = len / 4;
	cuts[1] = len / 2;
	cuts[2] = len * 3 / 4;
	cuts[3] = len - 2;
	for (i = 0; i < NPD_ARRAY_SIZE(cuts); i++) {
		run(&r, NPD_JSON_LIST, NPD_KIND_POD, buf, cuts[i], 7);
		ck_assert_int_eq(r.feed_rc, 0);
		ck_assert_int_eq(r.finish_rc, -EINVAL);
		/* Items stream out as they complete; the caller relists on the error. */
		ck_assert(i == 3 ? r.got.n == 5 : r.got.n < 5);
		ck_assert_uint_ge(r.diags.n, 1);
		ck_assert_int_eq(r.diags.v[r.diags.n - 1].kind, NPD_DIAG_SYNTAX);
		tu_json_run_fini(&r);
	}
	free(buf);
	run_str(&r, NPD_JSON_LIST, NPD_KIND_POD, "");
	ck_assert_int_eq(r.finish_rc, -EINVAL);
	tu_json_run_fini(&r);
	/* A syntax error mid-list: feed fails, later input is ignored. */
	run_str(&r, NPD_JSON_LIST, NPD_KIND_POD, "{\"items\":[{\"metadata\":{\"name\":\"a\",}}]}");
	ck_assert_int_eq(r.feed_rc, -EINVAL);
	ck_assert_int_eq(r.finish_rc, -EINVAL);
	ck_assert_uint_eq(r.got.n, 0);
	tu_json_run_fini(&r);
}
END_TEST

START_TEST(kind_from_object_or_decoder)
{
	struct tu_json_run r;

	run_str(&r, NPD_JSON_WATCH, NPD_KIND_POD,
		"{\"type\":\"ADDED\",\"object\":{\"kind\":\"Namespace\",\"metadata\":{\"name\":"
		"\"x\"}}}\n{\"type\":\"ADDED\",\"object\":{\"kind\":\"Service\",\"metadata\":{"
		"\"name\":\"s\",\"namespace\":\"n\"}}}\n");
	ck_assert_uint_eq(r.got.n, 1);
	ck_assert_int_eq(r.got.v[0].obj.kind, NPD_KIND_NAMESPACE);
	ck_assert_uint_eq(r.n_bad, 1);
	ck_assert_int_eq(r.diags.v[0].kind, NPD_DIAG_UNSUPPORTED);
	tu_json_run_fini(&r);
}
END_TEST

/* The fast path for list items (lib/json_fast.c) against yajl: each item decoded whole
 * (fast path where it can) and fed byte by byte (never: no item lies in one byte) must give
 * the same events and diagnostics; fast says how many of the two items the fast path took
 * whole (2: both, 1: only the plain one behind, 0: a syntax error stopped the list). */
#define FP_META                                                                                    \
	"\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\",\"uid\":\"u1\","                  \
	"\"resourceVersion\":\"5\",\"labels\":{\"app\":\"web\"}}"
#define FP_SPEC                                                                                    \
	"\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"c\",\"ports\":[{\"name\":"      \
	"\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}]}]}"
#define FP_STATUS                                                                                  \
	"\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.1\",\"podIPs\":[{\"ip\":"            \
	"\"10.0.0.1\"}]}"
#define FP_POD(extra) "{" FP_META "," FP_SPEC "," FP_STATUS extra "}"
#define FP_NAMED(meta) "{\"metadata\":{" meta "}," FP_SPEC "," FP_STATUS "}"

static const struct fast_case {
	const char *item;
	size_t fast;
} fast_cases[] = {
    {FP_POD(""), 2},
    /* Escapes yajl takes, in a skipped field: checked, never decoded. */
    {FP_POD(",\"a\":{\"k\\\"ey\":\"q\\\"uote \\\\ \\/ \\b\\f\\n\\r\\t \\u00e9 \\uD83D\\ude00\"}"),
     2},
    {FP_POD(",\"managedFields\":[{\"f:x\":{\"k:{\\\"uid\\\":\\\"c1\\\"}\":{}}}]"), 2},
    /* An escape in a string the builder keeps or matches: yajl decodes it. */
    {FP_NAMED("\"name\":\"w\\u0065b-1\",\"namespace\":\"prod\""), 1},
    {FP_NAMED("\"name\":\"web-1\",\"namespace\":\"prod\",\"labels\":{\"app\":\"w\\/eb\"}"), 1},
    {FP_NAMED("\"n\\u0061me\":\"web-1\",\"namespace\":\"prod\""), 1},
    {FP_NAMED("\"name\":\"web-1\",\"namespace\":\"prod\",\"labels\":{\"a\\tb\":\"c\"}"), 1},
    /* UTF-8 by yajl's rule: a lead byte and its continuation bytes, no more. */
    {FP_POD(",\"a\":\"caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x98\x80\""), 2},
    {FP_NAMED("\"name\":\"web-1\",\"namespace\":\"prod\",\"labels\":{\"app\":\"caf\xc3\xa9\"}"), 2},
    {FP_POD(",\"a\":\"\xc0\xaf \xed\xa0\x80 \xf4\x90\x80\x80\""), 2},
    {FP_POD(",\"a\":\"\x80\""), 0},
    {FP_POD(",\"a\":\"\xc3"
	    "a\""),
     0},
    {FP_POD(",\"a\":\"\xe2\x98\""), 0},
    {FP_POD(",\"a\":\"\xf8\x88\x80\x80\x80\""), 0},
    {FP_POD(",\"a\":\"\xff\""), 0},
    {FP_POD(",\"\xc3\":1"), 0},
    /* Control characters: rejected raw, DEL is not one. */
    {FP_POD(",\"a\":\"a\tb\""), 0},
    {FP_POD(",\"a\":\"a\x01"
	    "b\""),
     0},
    {FP_POD(",\"a\":\"a\x7f"
	    "b\""),
     2},
    /* Numbers: any size (the text is kept), yajl's grammar and nothing else. */
    {FP_POD(",\"n\":[0,-0,12,-3.5,1e9,1E+2,2.5e-3,123456789012345678901234567890,1e999]"), 2},
    {FP_NAMED("\"name\":\"web-1\",\"namespace\":\"prod\",\"generation\":"
	      "123456789012345678901234567890"),
     2},
    {"{" FP_META ",\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":"
     "99999999999999999999999}]}]}}",
     2},
    {"{" FP_META ",\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":8080.0}]}]}}", 2},
    {"{" FP_META ",\"spec\":{\"containers\":[{\"ports\":[{\"containerPort\":-1e2}]}]}}", 2},
    {FP_POD(",\"n\":01"), 0},
    {FP_POD(",\"n\":-"), 0},
    {FP_POD(",\"n\":1."), 0},
    {FP_POD(",\"n\":1.e5"), 0},
    {FP_POD(",\"n\":1e"), 0},
    {FP_POD(",\"n\":1e+"), 0},
    {FP_POD(",\"n\":+1"), 0},
    {FP_POD(",\"n\":.5"), 0},
    {FP_POD(",\"n\":-x"), 0},
    {FP_POD(",\"n\":0x10"), 0},
    /* Literals. */
    {FP_POD(",\"t\":[true,false,null]"), 2},
    {"{" FP_META ",\"spec\":{\"hostNetwork\":true}," FP_STATUS "}", 2},
    {"{" FP_META ",\"spec\":{\"hostNetwork\":null}," FP_STATUS "}", 2},
    {"{" FP_META ",\"spec\":{\"hostNetwork\":\"true\"}," FP_STATUS "}", 2},
    {FP_POD(",\"t\":tru"), 0},
    {FP_POD(",\"t\":nul"), 0},
    {FP_POD(",\"t\":truex"), 0},
    {FP_POD(",\"t\":True"), 0},
    {FP_POD(",\"t\":falsey"), 0},
    /* Duplicate keys (the last wins), fields in any order, containers empty or null. */
    {FP_NAMED("\"name\":\"web-0\",\"namespace\":\"prod\",\"name\":\"web-1\",\"labels\":{\"a\":"
	      "\"1\",\"a\":\"2\"},\"labels\":{\"b\":\"3\"}"),
     2},
    {"{" FP_META "," FP_META "," FP_SPEC "," FP_SPEC "," FP_STATUS "}", 2},
    {"{" FP_STATUS "," FP_SPEC "," FP_META "}", 2},
    {"{\"status\":{\"podIPs\":[{\"ip\":\"fd00::1\"},{\"ip\":\"10.0.0.1\"}],\"phase\":\"Running\"},"
     "\"spec\":{\"containers\":[{\"ports\":[]},{},{\"ports\":[{\"containerPort\":1}]}]},"
     "\"metadata\":{\"labels\":{},\"namespace\":\"prod\",\"name\":\"web-1\"}}",
     2},
    {"{" FP_META ",\"spec\":null,\"status\":null}", 2},
    {"{}", 2},
    {"{\"metadata\":[{\"name\":\"web-1\"}]," FP_SPEC "}", 2},
    {"{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\",\"labels\":\"app=web\"}}", 2},
    {"{\"metadata\":{\"name\":{\"x\":1},\"namespace\":[\"prod\"]}}", 2},
    {"{\"kind\":\"Namespace\",\"metadata\":{\"name\":\"prod\",\"labels\":{\"a\":\"b\"}}}", 2},
    {"{\"kind\":\"Service\",\"metadata\":{\"name\":\"s\",\"namespace\":\"prod\"}}", 2},
    {"{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"prod\"},\"items\":[{\"metadata\":{}}]}", 2},
    /* Whitespace: JSON's four anywhere; yajl also takes \v and \f, the fast path does not. */
    {" {\n\t\"metadata\" :\r\n {\"name\" : \"web-1\" , \"namespace\":\"prod\" } ,\n\"spec\""
     ":{ \"containers\" : [ { \"ports\" : [ { \"containerPort\" : 80 } ] } ] } }\n",
     2},
    {"{\"metadata\":\v{\"name\":\"web-1\",\"namespace\":\"prod\"}}", 1},
    {"{\"metadata\":{\"name\":\"web-1\",\f\"namespace\":\"prod\"}}", 1},
    /* Syntax errors: yajl reports them, the list stops. */
    {FP_POD(",\"a\":{\"b\":1,}"), 0},
    {FP_POD(",\"a\":[1,]"), 0},
    {FP_POD(","), 0},
    {FP_POD(",\"a\" 1"), 0},
    {FP_POD(",\"a\":[1 2]"), 0},
    {FP_POD(",\"a\":{\"b\":1 \"c\":2}"), 0},
    {FP_POD(",\"a\":[1}"), 0},
    {FP_POD(",\"a\":{\"b\":1]"), 0},
    {FP_POD(",a:1"), 0},
    {FP_POD(",'a':1"), 0},
    {FP_POD(",\"a\":/*x*/1"), 0},
    {FP_POD(",\"a\":\"\\x\""), 0},
    {FP_POD(",\"a\":\"\\u12G4\""), 0},
    {FP_POD(",\"a\":\"\\u12\""), 0},
    {FP_POD(",\"a\":\"\\U0041\""), 0},
    {FP_POD(",\"a\":1,\"b\""), 0},
    {FP_POD(",{}"), 0},
    {FP_POD(",1:2"), 0},
    {"{\"metadata\":{\"name\":\"web-1\"}}}", 1},
    /* Items the fast path does not start on: an array, a scalar. */
    {"[{\"metadata\":{\"name\":\"web-1\"}}]", 1},
    {"7", 1},
    {"\"x\"", 1},
};

static void
fast_compare(const char *what, const char *doc, size_t len, size_t max, size_t fast)
{
	struct tu_json_run whole, bytes;
	char *want, *have;

	tu_json_run(&whole, NPD_JSON_LIST, NPD_KIND_POD, doc, len, 0, max);
	tu_json_run(&bytes, NPD_JSON_LIST, NPD_KIND_POD, doc, len, 1, max);
	have = dump(&whole.got, &whole.diags);
	want = dump(&bytes.got, &bytes.diags);
	ck_assert_msg(!strcmp(want, have), "%s:\nfast path:\n%s\nyajl:\n%s", what, have, want);
	ck_assert_int_eq(whole.feed_rc, bytes.feed_rc);
	ck_assert_int_eq(whole.finish_rc, bytes.finish_rc);
	ck_assert_uint_eq(whole.n_events, bytes.n_events);
	ck_assert_uint_eq(whole.n_bad, bytes.n_bad);
	ck_assert_str_eq(whole.list_rv ? whole.list_rv : "-", bytes.list_rv ? bytes.list_rv : "-");
	ck_assert_uint_eq(bytes.n_fast, 0);
	if (fast != (size_t)-1)
		ck_assert_msg(whole.n_fast == fast, "%s: fast path took %zu items, not %zu", what,
			      whole.n_fast, fast);
	free(want);
	free(have);
	tu_json_run_fini(&whole);
	tu_json_run_fini(&bytes);
}

#define FP_LIST_HEAD "{\"kind\":\"PodList\",\"metadata\":{\"resourceVersion\":\"7\"},\"items\":["
#define FP_LIST_TAIL "," FP_POD("") "]}"

START_TEST(fast_path_decodes_as_yajl)
{
	const struct fast_case *c = &fast_cases[_i];
	struct npd_buf b;

	npd_buf_init(&b);
	npd_buf_printf(&b, "%s%s%s", FP_LIST_HEAD, c->item, FP_LIST_TAIL);
	fast_compare(c->item, b.data, b.len, 0, c->fast);
	npd_buf_fini(&b);
}
END_TEST

/* Near the bounds the scanner judges: a skipped field nested up to the depth limit (the
 * item is at depth 3 of 100) and one level more; items around the byte bound. */
START_TEST(fast_path_near_bounds)
{
	struct npd_buf b;
	size_t k, i, len;
	char what[64];

	for (k = 95; k <= 99; k++) {
		npd_buf_init(&b);
		npd_buf_adds(&b,
			     FP_LIST_HEAD "{\"metadata\":{\"name\":\"deep\",\"namespace\":\"p\"},"
					  "\"x\":");
		for (i = 0; i < k; i++)
			npd_buf_adds(&b, i % 2 ? "{\"k\":" : "[");
		npd_buf_addc(&b, '1');
		for (i = k; i-- > 0;)
			npd_buf_adds(&b, i % 2 ? "}" : "]");
		npd_buf_adds(&b, "}" FP_LIST_TAIL);
		snprintf(what, sizeof(what), "%zu levels in a skipped field", k);
		/* 97 more levels are the most an item at depth 3 may hold. */
		fast_compare(what, b.data, b.len, 0, k <= 97 ? 2 : 1);
		npd_buf_fini(&b);
	}
	/* The first item is len bytes long; the bound is 4096 bytes per item. */
	for (len = 4090; len <= 4100; len++) {
		static const char head[] =
		    "{\"metadata\":{\"name\":\"big\",\"namespace\":\"p\"},\"a\":\"";
		size_t pad = len - strlen(head) - 2;

		npd_buf_init(&b);
		npd_buf_adds(&b, FP_LIST_HEAD);
		npd_buf_adds(&b, head);
		for (i = 0; i < pad; i++)
			npd_buf_addc(&b, (char)('a' + i % 26));
		npd_buf_adds(&b, "\"}" FP_LIST_TAIL);
		snprintf(what, sizeof(what), "an item of %zu bytes", len);
		/* One byte short of the bound is the largest the fast path takes. */
		fast_compare(what, b.data, b.len, 4096, len <= 4095 ? 2 : 1);
		npd_buf_fini(&b);
	}
	/* A kept string longer than the builder keeps. */
	npd_buf_init(&b);
	npd_buf_adds(&b, FP_LIST_HEAD "{\"metadata\":{\"namespace\":\"p\",\"name\":\"");
	for (i = 0; i < NPD_DEC_MAX_SCALAR + 10; i++)
		npd_buf_addc(&b, 'a');
	npd_buf_adds(&b, "\"}}" FP_LIST_TAIL);
	fast_compare("a long name", b.data, b.len, 0, 2);
	npd_buf_fini(&b);
}
END_TEST

/* Random damage to a list: whole, byte by byte and in random chunks it decodes the same
 * (seeded: NPD_SEED replays a failure), and the fast path takes part of the items. */
START_TEST(fast_path_random_damage_decodes_as_yajl)
{
	static const char base[] = FP_LIST_HEAD FP_POD(
	    ",\"a\":{\"k\\\"\":\"\\u00e9\\n caf\xc3\xa9\"},\"n\":[1.5e3,-0,"
	    "true,null]") "," FP_NAMED("\"name\":\"db\",\"namespace\":\"prod\","
				       "\"labels\":{\"tier\":\"db\"}") FP_LIST_TAIL;
	static const char alphabet[] = "\"\\{}[],:0123-.eE tfnu\t\v\x01\x7f\x80\xc3\xe2\xf0\xff";
	struct tu_json_run whole, parts;
	size_t iter, fast = 0, len, m, step;
	char doc[sizeof(base) + 8], what[64], *want, *have;

	tu_seed("fast_path_random_damage_decodes_as_yajl");
	for (iter = 0; iter < 2000; iter++) {
		memcpy(doc, base, sizeof(base));
		len = sizeof(base) - 1;
		for (m = 1 + (size_t)rand() % 3; m > 0; m--) {
			size_t at = (size_t)rand() % len;
			char c = rand() % 4 ? alphabet[(size_t)rand() % (sizeof(alphabet) - 1)]
					    : (char)(rand() % 256);

			switch (rand() % 3) {
			case 0:
				doc[at] = c;
				break;
			case 1:
				memmove(doc + at + 1, doc + at, len - at);
				doc[at] = c;
				len++;
				break;
			default:
				memmove(doc + at, doc + at + 1, len - at - 1);
				len--;
				break;
			}
		}
		snprintf(what, sizeof(what), "iteration %zu", iter);
		fast_compare(what, doc, len, 0, (size_t)-1);
		/* Random chunks: items cut by a chunk go to yajl, the others may not. */
		step = 2 + (size_t)rand() % 300;
		tu_json_run(&whole, NPD_JSON_LIST, NPD_KIND_POD, doc, len, 0, 0);
		tu_json_run(&parts, NPD_JSON_LIST, NPD_KIND_POD, doc, len, step, 0);
		want = dump(&whole.got, &whole.diags);
		have = dump(&parts.got, &parts.diags);
		ck_assert_msg(!strcmp(want, have), "%s, chunks of %zu:\n%s\nvs\n%s", what, step,
			      have, want);
		ck_assert_int_eq(whole.finish_rc, parts.finish_rc);
		fast += whole.n_fast;
		free(want);
		free(have);
		tu_json_run_fini(&whole);
		tu_json_run_fini(&parts);
	}
	printf("fast path took %zu items in %zu damaged lists\n", fast, iter);
	ck_assert_uint_gt(fast, iter / 2);
}
END_TEST

/* The cases a plain list cannot hold. */
static void
extra(TCase *tc)
{
	tcase_add_loop_test(tc, every_chunk_size_decodes_the_same, 0,
			    (int)NPD_ARRAY_SIZE(fixtures));
	tcase_add_loop_test(tc, bad_rule_keeps_isolation_allows_nothing, 0,
			    (int)NPD_ARRAY_SIZE(bad_rules));
	tcase_add_loop_test(tc, fast_path_decodes_as_yajl, 0, (int)NPD_ARRAY_SIZE(fast_cases));
}

TU_MAIN_WITH("json", extra, pod_list_keeps_exact_fields, namespace_list_adds_name_label,
	     policy_list_keeps_exact_fields, watch_stream_events, watch_error_410,
	     watch_error_retry_after, status_body_instead_of_list,
	     every_split_point_decodes_the_same, unknown_fields_skipped_at_any_depth,
	     bad_pods_reported_and_skipped, bad_egress_rule_isolates_egress_too,
	     bad_selector_or_types_skip_policy, target_selector_without_key_skips_policy,
	     bad_names_skipped, policy_types_rules, rule_limit_makes_policy_invalid,
	     malformed_watch_line_skipped, truncated_list_fails_at_finish,
	     kind_from_object_or_decoder, fast_path_near_bounds,
	     fast_path_random_damage_decodes_as_yajl)
