/* testutil.c: fixture builders for the check suites (see testutil.h). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "json_int.h"
#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/mem.h"
#include "testutil.h"

void
tu_labels(struct npd_labels *l, const char *spec)
{
	char *copy, *tok, *save = NULL;

	if (!spec || !*spec)
		return;
	copy = npd_xstrdup(spec);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (eq) {
			*eq = '\0';
			npd_labels_set(l, tok, eq + 1);
		} else {
			npd_labels_set(l, tok, "");
		}
	}
	free(copy);
}

struct npd_pod *
tu_pod(const char *ns, const char *name, const char *labels, const char *ips, const char *node)
{
	struct npd_pod *pod = npd_pod_new();
	char *copy, *tok, *save = NULL;

	pod->ns = npd_xstrdup(ns);
	pod->name = npd_xstrdup(name);
	pod->uid = npd_xasprintf("uid-%s-%s", ns, name);
	pod->node = npd_xstrdup(node);
	pod->phase = NPD_PHASE_RUNNING;
	tu_labels(&pod->labels, labels);
	if (ips && *ips) {
		copy = npd_xstrdup(ips);
		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			pod->ips = npd_xrealloc(pod->ips, (pod->n_ips + 1) * sizeof(*pod->ips));
			if (npd_addr_parse(tok, &pod->ips[pod->n_ips]) == 0)
				pod->n_ips++;
		}
		free(copy);
	}
	return pod;
}

struct npd_namespace *
tu_ns(const char *name, const char *labels)
{
	struct npd_namespace *ns = npd_namespace_new();

	ns->name = npd_xstrdup(name);
	ns->uid = npd_xasprintf("uid-ns-%s", name);
	npd_labels_set(&ns->labels, "kubernetes.io/metadata.name", name);
	tu_labels(&ns->labels, labels);
	return ns;
}

void
tu_sel(struct npd_selector *s, const char *labels)
{
	memset(s, 0, sizeof(*s));
	if (labels)
		tu_labels(&s->match_labels, labels);
}

struct npd_policy *
tu_policy(const char *ns, const char *name, const char *pod_sel, bool ing, bool egr)
{
	struct npd_policy *p = npd_policy_new();

	p->ns = npd_xstrdup(ns);
	p->name = npd_xstrdup(name);
	p->uid = npd_xasprintf("uid-%s-%s", ns, name);
	tu_sel(&p->pod_sel, pod_sel);
	p->isolates_ingress = ing;
	p->isolates_egress = egr;
	return p;
}

struct npd_policy_rule *
tu_rule(struct npd_policy *p, bool egress)
{
	struct npd_policy_rule **v = egress ? &p->egress : &p->ingress;
	size_t *n = egress ? &p->n_egress : &p->n_ingress;

	*v = npd_xrealloc(*v, (*n + 1) * sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	return &(*v)[(*n)++];
}

struct npd_peer *
tu_peer(struct npd_policy_rule *r, enum npd_peer_kind kind)
{
	struct npd_peer *pe;

	r->peers = npd_xrealloc(r->peers, (r->n_peers + 1) * sizeof(*r->peers));
	pe = &r->peers[r->n_peers++];
	memset(pe, 0, sizeof(*pe));
	pe->kind = kind;
	return pe;
}

void
tu_peer_sel(struct npd_policy_rule *r, const char *ns_sel, const char *pod_sel)
{
	struct npd_peer *pe = tu_peer(r, NPD_PEER_SELECTOR);

	pe->has_ns_sel = ns_sel != NULL;
	pe->has_pod_sel = pod_sel != NULL;
	tu_sel(&pe->ns_sel, ns_sel);
	tu_sel(&pe->pod_sel, pod_sel);
}

void
tu_peer_block(struct npd_policy_rule *r, const char *cidr, const char *excepts)
{
	struct npd_peer *pe = tu_peer(r, NPD_PEER_IPBLOCK);
	char *copy, *tok, *save = NULL;

	ck_assert_int_eq(npd_cidr_parse(cidr, true, &pe->cidr), 0);
	if (!excepts)
		return;
	copy = npd_xstrdup(excepts);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		pe->except = npd_xrealloc(pe->except, (pe->n_except + 1) * sizeof(*pe->except));
		ck_assert_int_eq(npd_cidr_parse(tok, true, &pe->except[pe->n_except++]), 0);
	}
	free(copy);
}

void
tu_port(struct npd_policy_rule *r, enum npd_proto proto, uint16_t port, uint16_t end,
	const char *name)
{
	struct npd_port *p;

	r->ports = npd_xrealloc(r->ports, (r->n_ports + 1) * sizeof(*r->ports));
	p = &r->ports[r->n_ports++];
	memset(p, 0, sizeof(*p));
	p->proto = proto;
	p->has_port = port || name;
	p->port = port;
	p->end_port = end;
	p->name = npd_xstrdup(name);
}

void
tu_pod_port(struct npd_pod *pod, const char *name, enum npd_proto proto, uint16_t port)
{
	pod->ports = npd_xrealloc(pod->ports, (pod->n_ports + 1) * sizeof(*pod->ports));
	pod->ports[pod->n_ports].name = npd_xstrdup(name);
	pod->ports[pod->n_ports].proto = proto;
	pod->ports[pod->n_ports++].port = port;
}

void
tu_collect(struct npd_event *ev, void *ctx)
{
	struct tu_events *e = ctx;

	npd_xgrow(&e->v, &e->cap, e->n + 1, sizeof(*e->v));
	e->v[e->n++] = *ev;
	memset(ev, 0, sizeof(*ev));
}

void
tu_events_fini(struct tu_events *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		npd_event_fini(&e->v[i]);
	free(e->v);
	memset(e, 0, sizeof(*e));
}

const char *
tu_src_path(const char *relpath)
{
	static char buf[4096];
	const char *root = getenv("NPD_SRC_DIR");

	snprintf(buf, sizeof(buf), "%s/%s", root ? root : ".", relpath);
	return buf;
}

char *
tu_read_file(const char *relpath, size_t *len)
{
	FILE *f = fopen(tu_src_path(relpath), "rb");
	struct npd_buf b;
	char chunk[65536];
	size_t n;

	if (!f)
		return NULL;
	npd_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		npd_buf_add(&b, chunk, n);
	fclose(f);
	if (len)
		*len = b.len;
	return npd_buf_steal(&b);
}

unsigned
tu_seed(const char *what)
{
	const char *env = getenv("NPD_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 0) : (unsigned)time(NULL);

	printf("%s: seed %u (NPD_SEED=%u replays)\n", what, seed, seed);
	srand(seed);
	return seed;
}

int
tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *
tu_tmp_file(const void *data, size_t len, size_t size)
{
	char *path = npd_xstrdup("/tmp/npd-check-XXXXXX");
	int fd = mkstemp(path);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	if (size > len)
		ck_assert_int_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
	return path;
}

struct npd_store *
tu_store_frontend_backend(void)
{
	struct npd_store *s = npd_store_new();
	struct npd_policy *p;
	struct npd_policy_rule *r;

	npd_store_add_namespace(s, tu_ns("frontend", "name=frontend"));
	npd_store_add_namespace(s, tu_ns("backend", "name=backend"));
	npd_store_add_pod(s, tu_pod("frontend", "api", "app=api", "10.244.1.10", "node1"));
	npd_store_add_pod(s, tu_pod("frontend", "app", "app=app", "10.244.2.10,fd00::10", "node2"));
	npd_store_add_pod(s, tu_pod("frontend", "tool", "app=tool", "10.244.1.11", "node1"));
	npd_store_add_pod(s, tu_pod("backend", "db", "app=db", "10.244.2.20,fd00::20", "node2"));
	p = tu_policy("backend", "db-policy", "app=db", true, false);
	tu_peer_block(tu_rule(p, false), "192.0.2.0/24", NULL);
	r = tu_rule(p, false);
	tu_peer_sel(r, "name=frontend", "app=api");
	tu_port(r, NPD_PROTO_TCP, 80, 0, NULL);
	npd_store_add_policy(s, p);
	npd_store_add_policy(s, tu_policy("backend", "db-extra", "", true, false));
	npd_store_add_policy(s, tu_policy("frontend", "app-egress", "app=app", false, true));
	return s;
}

/* A test case called name holding the NULL-terminated tests. */
static TCase *
tcase_of(const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	while (*tests)
		tcase_add_test(tc, *tests++);
	return tc;
}

Suite *
tu_suite(const char *name, const char *tcase, const TTest *const *tests)
{
	Suite *s = suite_create(name);

	tu_suite_add(s, tcase, tests);
	return s;
}

void
tu_suite_add(Suite *s, const char *tcase, const TTest *const *tests)
{
	suite_add_tcase(s, tcase_of(tcase, tests));
}

int
tu_main_with(const char *name, void (*extra)(TCase *tc), const TTest *const *tests)
{
	Suite *s = suite_create(name);
	TCase *tc = tcase_of("core", tests);

	if (extra)
		extra(tc);
	suite_add_tcase(s, tc);
	return tu_run(s);
}

int
tu_main(const char *name, const TTest *const *tests)
{
	return tu_main_with(name, NULL, tests);
}

struct npd_ruleset *
tu_compile(const struct npd_store *s)
{
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;

	npd_compile_opts_init(&o);
	o.node_name = "node1";
	ck_assert_int_eq(npd_compile(s, &o, NULL, &rs), 0);
	return rs;
}

void
tu_add_nflog(struct npd_chain *c, const char *prefix)
{
	npd_ruleset_add_rule(c, &(struct npd_rule){.has_mark = true,
						   .mark_negate = true,
						   .mark_value = 0x10000,
						   .mark_mask = 0x10000,
						   .limit_per_sec = 10,
						   .limit_burst = 20,
						   .target = NPD_T_NFLOG,
						   .nflog_group = 100,
						   .nflog_prefix = (char *)(uintptr_t)prefix});
}

static bool
str_is(const char *want, const char *got)
{
	return !want || (got && !strcmp(want, got));
}

const struct npd_diag *
tu_diag_find(const struct npd_diags *d, const char *path, const char *name)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (str_is(path, d->v[i].path) && str_is(name, d->v[i].name))
			return &d->v[i];
	return NULL;
}

void
tu_json_run(struct tu_json_run *r, enum npd_json_mode mode, enum npd_kind kind, const char *buf,
	    size_t len, size_t step, size_t max)
{
	struct npd_json_decoder *d;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	npd_diags_init(&r->diags);
	d = npd_json_decoder_new(mode, kind, tu_collect, &r->got, &r->diags);
	if (max)
		npd_json_decoder_set_max_bytes(d, max);
	if (!step)
		step = len ? len : 1;
	while (off < len) {
		size_t n = len - off < step ? len - off : step;
		int rc = npd_json_decoder_feed(d, buf + off, n);

		if (rc && !r->feed_rc)
			r->feed_rc = rc;
		off += n;
	}
	r->finish_rc = npd_json_decoder_finish(d);
	r->n_events = npd_json_decoder_n_events(d);
	r->n_bad = npd_json_decoder_n_bad(d);
	r->n_fast = d->n_fast;
	r->list_rv = npd_xstrdup(npd_json_decoder_list_rv(d));
	r->list_continue = npd_xstrdup(npd_json_decoder_list_continue(d));
	r->status = npd_json_decoder_status_code(d);
	r->reason = npd_xstrdup(npd_json_decoder_status_reason(d));
	npd_json_decoder_free(d);
}

void
tu_json_run_fini(struct tu_json_run *r)
{
	tu_events_fini(&r->got);
	npd_diags_fini(&r->diags);
	free(r->list_rv);
	free(r->list_continue);
	free(r->reason);
}
