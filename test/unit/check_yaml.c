/* check_yaml.c: the manifest decoder: multi-document files, kind: List, default namespace,
 * kinds skipped silently, bad values with file:line, syntax errors, directories, the store. */
#include <check.h>
#include <ctype.h>
#include <regex.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "npd/addr.h"
#include "npd/mem.h"
#include "npd/selector.h"
#include "npd/store.h"
#include "npd/yaml.h"
#include "testutil.h"

struct got {
	struct tu_events ev;
	struct npd_diags diags;
	int rc;
};

static void
decode(struct got *g, const char *rel)
{
	memset(g, 0, sizeof(*g));
	npd_diags_init(&g->diags);
	g->rc = npd_yaml_decode_path(tu_src_path(rel), tu_collect, &g->ev, &g->diags);
}

static void
got_fini(struct got *g)
{
	tu_events_fini(&g->ev);
	npd_diags_fini(&g->diags);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

START_TEST(aks_example_multi_document)
{
	struct got g;
	const struct npd_pod *pod;
	const struct npd_policy *pol;
	char a[NPD_ADDRSTRLEN];

	decode(&g, "test/fixtures/yaml/aks.yaml");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.diags.n, 0);
	/* Deployment and the empty trailing document skipped silently. */
	ck_assert_uint_eq(g.ev.n, 4);
	ck_assert_int_eq(g.ev.v[0].obj.kind, NPD_KIND_NAMESPACE);
	ck_assert_str_eq(g.ev.v[0].obj.u.ns->name, "backend");
	ck_assert_str_eq(npd_labels_get(&g.ev.v[0].obj.u.ns->labels, "purpose"), "production");
	ck_assert_str_eq(npd_labels_get(&g.ev.v[1].obj.u.ns->labels, "kubernetes.io/metadata.name"),
			 "frontend");
	ck_assert_int_eq(g.ev.v[2].obj.kind, NPD_KIND_POD);
	pod = g.ev.v[2].obj.u.pod;
	ck_assert_str_eq(pod->ns, "backend");
	ck_assert_str_eq(pod->name, "db");
	/* A plain scalar where a string is expected is that string, as kubectl reads it. */
	ck_assert_str_eq(npd_labels_get(&pod->labels, "version"), "1.0");
	ck_assert_str_eq(pod->node, "node-1");
	ck_assert_int_eq(pod->phase, NPD_PHASE_RUNNING);
	ck_assert_uint_eq(pod->n_ips, 1);
	ck_assert_str_eq(npd_addr_format(&pod->ips[0], a), "10.244.2.7");
	ck_assert_uint_eq(pod->n_ports, 1);
	ck_assert_str_eq(pod->ports[0].name, "postgres");
	ck_assert_uint_eq(pod->ports[0].port, 5432);
	pol = g.ev.v[3].obj.u.policy;
	ck_assert_str_eq(pol->name, "db-policy");
	ck_assert(pol->isolates_ingress && pol->isolates_egress);
	ck_assert_uint_eq(pol->n_egress, 0);
	ck_assert_uint_eq(pol->n_ingress, 1);
	ck_assert_uint_eq(pol->ingress[0].n_peers, 1);
	ck_assert(pol->ingress[0].peers[0].has_ns_sel && pol->ingress[0].peers[0].has_pod_sel);
	ck_assert_uint_eq(pol->ingress[0].ports[0].port, 80);
	ck_assert_int_eq(pol->ingress[0].ports[0].proto, NPD_PROTO_TCP);
	got_fini(&g);
}
END_TEST

START_TEST(kind_list_and_default_namespace)
{
	struct got g;
	const struct npd_policy *pol;

	decode(&g, "test/fixtures/yaml/list.yaml");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.diags.n, 0);
	ck_assert_uint_eq(g.ev.n, 2); /* the Service is skipped */
	ck_assert_str_eq(g.ev.v[0].obj.u.pod->ns, "default");
	ck_assert_str_eq(g.ev.v[0].obj.u.pod->name, "client");
	ck_assert_str_eq(npd_labels_get(&g.ev.v[0].obj.u.pod->labels, "run"), "debug");
	ck_assert_str_eq(g.ev.v[0].obj.u.pod->ports[0].name, "http");
	pol = g.ev.v[1].obj.u.policy;
	ck_assert_str_eq(pol->ns, "prod-nginx");
	ck_assert(!pol->isolates_ingress && pol->isolates_egress);
	ck_assert_uint_eq(pol->egress[0].n_ports, 2);
	ck_assert_int_eq(pol->egress[0].ports[0].proto, NPD_PROTO_UDP);
	ck_assert_uint_eq(pol->egress[0].ports[0].port, 53);
	ck_assert_str_eq(pol->egress[0].ports[1].name, "dns-tcp");
	got_fini(&g);
}
END_TEST

START_TEST(bad_values_carry_file_and_line)
{
	struct got g;
	const struct npd_diag *dg;

	decode(&g, "test/fixtures/yaml/bad_values.yaml");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.ev.n, 3);

	ck_assert_str_eq(g.ev.v[0].obj.u.policy->name, "bad-cidr");
	ck_assert(g.ev.v[0].obj.u.policy->invalid);
	ck_assert_uint_eq(g.ev.v[0].obj.u.policy->n_ingress, 0);
	dg = tu_diag_find(&g.diags, NULL, "bad-cidr");
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->kind, NPD_DIAG_VALUE);
	ck_assert_str_eq(dg->ns, "shop");
	ck_assert_str_eq(dg->path, "spec.ingress[0].from[0].ipBlock.cidr");
	ck_assert(ends_with(dg->file, "test/fixtures/yaml/bad_values.yaml"));
	ck_assert_int_eq(dg->line, 11);

	dg = tu_diag_find(&g.diags, NULL, "labels-as-list");
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->kind, NPD_DIAG_TYPE);
	ck_assert_str_eq(dg->obj_kind, "Pod");
	ck_assert_str_eq(dg->ns, "default");
	ck_assert_str_eq(dg->path, "metadata.labels");
	ck_assert_int_eq(dg->line, 18);

	/* A quoted "8080" is a port name, and not a valid one. */
	ck_assert_str_eq(g.ev.v[1].obj.u.policy->name, "quoted-port");
	ck_assert(g.ev.v[1].obj.u.policy->invalid);
	dg = tu_diag_find(&g.diags, NULL, "quoted-port");
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->path, "spec.egress[0].ports[0].port");
	ck_assert_int_eq(dg->line, 28);

	ck_assert_str_eq(g.ev.v[2].obj.u.policy->name, "good");
	ck_assert(!g.ev.v[2].obj.u.policy->invalid);
	got_fini(&g);
}
END_TEST

/* Regression: an expression without a key once reached strcmp(NULL) in the canonical sort. */
START_TEST(selector_expression_without_key)
{
	struct got g;
	const struct npd_diag *dg;
	size_t i;

	decode(&g, "test/fixtures/yaml/selector_no_key.yaml");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.ev.n, 3);
	for (i = 0; i < 2; i++) {
		const struct npd_policy *p = g.ev.v[i].obj.u.policy;

		/* A bad peer fails closed: the policy isolates and admits nothing. */
		ck_assert(p->invalid);
		ck_assert(p->isolates_ingress);
		ck_assert_uint_eq(p->n_ingress + p->n_egress, 0);
	}
	ck_assert_str_eq(g.ev.v[0].obj.u.policy->name, "peer-no-key");
	ck_assert(g.ev.v[1].obj.u.policy->isolates_egress);
	dg = tu_diag_find(&g.diags, NULL, "peer-no-key");
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->path, "spec.ingress[0].from[0].podSelector.matchExpressions[1].key");
	ck_assert(strstr(dg->msg, "missing selector key") != NULL);
	ck_assert_int_eq(dg->line, 16);
	dg = tu_diag_find(&g.diags, NULL, "peer-null-key");
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->path,
			 "spec.egress[0].to[0].namespaceSelector.matchExpressions[0].key");
	/* Which pods it selects is unknown: the policy is reported and skipped. */
	dg = tu_diag_find(&g.diags, NULL, "target-no-key");
	ck_assert_ptr_nonnull(dg);
	ck_assert_str_eq(dg->path, "spec.podSelector.matchExpressions[0].key");
	ck_assert_str_eq(g.ev.v[2].obj.u.policy->name, "good");
	got_fini(&g);
}
END_TEST

START_TEST(bad_names_reported_with_line)
{
	static const char doc[] = "apiVersion: networking.k8s.io/v1\n"
				  "kind: NetworkPolicy\n"
				  "metadata:\n"
				  "  name: b/c\n"
				  "  namespace: a\n"
				  "spec:\n"
				  "  podSelector: {}\n"
				  "---\n"
				  "apiVersion: networking.k8s.io/v1\n"
				  "kind: NetworkPolicy\n"
				  "metadata:\n"
				  "  name: c\n"
				  "  namespace: a/b\n"
				  "spec:\n"
				  "  podSelector: {}\n";
	struct got g;

	memset(&g, 0, sizeof(g));
	npd_diags_init(&g.diags);
	g.rc = npd_yaml_decode_buf(doc, sizeof(doc) - 1, "names.yaml", tu_collect, &g.ev, &g.diags);
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.ev.n, 0);
	ck_assert_uint_eq(g.diags.n, 2);
	ck_assert_str_eq(g.diags.v[0].path, "metadata.name");
	ck_assert_int_eq(g.diags.v[0].line, 4);
	ck_assert_str_eq(g.diags.v[1].path, "metadata.namespace");
	ck_assert_int_eq(g.diags.v[1].line, 13);
	got_fini(&g);
}
END_TEST

START_TEST(anchors_and_aliases_rejected)
{
	struct got g;
	const struct npd_diag *dg;

	decode(&g, "test/fixtures/yaml/anchors.yaml");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.ev.n, 1);
	ck_assert_str_eq(g.ev.v[0].obj.u.ns->name, "after-anchors");
	ck_assert_uint_eq(g.diags.n, 2);
	dg = tu_diag_find(&g.diags, NULL, "anchored");
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->line, 5);
	ck_assert(strstr(dg->msg, "anchor") != NULL);
	dg = tu_diag_find(&g.diags, NULL, "aliased");
	ck_assert_ptr_nonnull(dg);
	ck_assert_int_eq(dg->line, 13);
	got_fini(&g);
}
END_TEST

START_TEST(syntax_error_reported_with_line)
{
	struct got g;

	decode(&g, "test/fixtures/yaml/syntax_error.yaml");
	ck_assert_int_eq(g.rc, -EINVAL);
	ck_assert_uint_eq(g.ev.n, 1);
	ck_assert_str_eq(g.ev.v[0].obj.u.ns->name, "before-error");
	ck_assert_uint_eq(g.diags.n, 1);
	ck_assert_int_eq(g.diags.v[0].kind, NPD_DIAG_SYNTAX);
	ck_assert(ends_with(g.diags.v[0].file, "syntax_error.yaml"));
	ck_assert_int_eq(g.diags.v[0].line, 11);
	got_fini(&g);
}
END_TEST

START_TEST(buffer_edge_cases)
{
	static const char *const docs[] = {
	    "",
	    "---\n...\n",
	    "# only a comment\n",
	    "just a scalar\n",
	    "- a\n- b\n",
	    "kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {hostNetwork: yes}\n",
	    "kind: Pod\napiVersion: v1\nmetadata: {name: p}\nspec: {hostNetwork: maybe}\n",
	    "kind: Namespace\napiVersion: v1\nmetadata: {name: n, labels: {a: ~}}\n",
	    "kind: Namespace\napiVersion: v2\nmetadata: {name: n}\n",
	    "kind: NetworkPolicy\napiVersion: v1\nmetadata: {name: n}\n",
	    "metadata: {name: n}\n",
	    "{[a]: b, kind: Namespace}\n",
	};
	static const size_t want_events[] = {0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0};
	static const size_t want_diags[] = {0, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1};
	struct got g;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(docs); i++) {
		memset(&g, 0, sizeof(g));
		npd_diags_init(&g.diags);
		g.rc = npd_yaml_decode_buf(docs[i], strlen(docs[i]), "t.yaml", tu_collect, &g.ev,
					   &g.diags);
		ck_assert_msg(g.rc == 0, "doc %zu rc %d", i, g.rc);
		ck_assert_msg(g.ev.n == want_events[i], "doc %zu: %zu events", i, g.ev.n);
		ck_assert_msg(g.diags.n == want_diags[i], "doc %zu: %zu diags", i, g.diags.n);
		got_fini(&g);
	}
}
END_TEST

START_TEST(directory_sorted_yaml_only)
{
	struct got g;

	decode(&g, "test/fixtures/yaml/dir");
	ck_assert_int_eq(g.rc, 0);
	ck_assert_uint_eq(g.diags.n, 0);
	/* 10-aks.yml (4 objects) before 20-list.yaml (2); README.txt and .hidden.yaml unread. */
	ck_assert_uint_eq(g.ev.n, 6);
	ck_assert_str_eq(g.ev.v[0].obj.u.ns->name, "backend");
	ck_assert_str_eq(g.ev.v[4].obj.u.pod->name, "client");
	got_fini(&g);

	decode(&g, "test/fixtures/yaml/no-such-file.yaml");
	ck_assert_int_eq(g.rc, -ENOENT);
	ck_assert_uint_eq(g.diags.n, 1);
	got_fini(&g);
}
END_TEST

/* Every case variant of each YAML 1.1 boolean word against the type's published regular
 * expression (yaml.org/type/bool), compiled by libc: two independent readings. */
START_TEST(bool_spellings_match_yaml_1_1)
{
	static const char *const words[] = {"y", "n", "yes", "no", "true", "false", "on", "off"};
	static const char *const others[] = {"", "1", "0", "t", "yess", " yes", "nO ", "maybe"};
	regex_t yes, no;
	size_t w, i, mask, seen = 0;
	char s[8];
	bool v;

	ck_assert_int_eq(regcomp(&yes, "^(y|Y|yes|Yes|YES|true|True|TRUE|on|On|ON)$", REG_EXTENDED),
			 0);
	ck_assert_int_eq(
	    regcomp(&no, "^(n|N|no|No|NO|false|False|FALSE|off|Off|OFF)$", REG_EXTENDED), 0);
	for (w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
		size_t len = strlen(words[w]);

		for (mask = 0; mask < (1u << len); mask++) {
			bool want_yes, want_no;
			int rc;

			for (i = 0; i < len; i++)
				s[i] = (char)((mask >> i) & 1 ? toupper(words[w][i]) : words[w][i]);
			s[len] = '\0';
			want_yes = regexec(&yes, s, 0, NULL, 0) == 0;
			want_no = regexec(&no, s, 0, NULL, 0) == 0;
			v = !want_yes;
			rc = npd_yaml_bool_parse(s, &v);
			ck_assert_msg(rc == ((want_yes || want_no) ? 0 : -EINVAL), "%s: rc %d", s,
				      rc);
			if (rc == 0) {
				ck_assert_msg(v == want_yes, "%s", s);
				seen++;
			}
		}
	}
	ck_assert_uint_eq(seen, 22);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		ck_assert_int_eq(npd_yaml_bool_parse(others[i], &v), -EINVAL);
	ck_assert_int_eq(npd_yaml_bool_parse(NULL, &v), -EINVAL);
	regfree(&yes);
	regfree(&no);
}
END_TEST

START_TEST(oversized_file_is_reported)
{
	static const char head[] = "kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n#";
	char *path = tu_tmp_file(head, sizeof(head) - 1, NPD_YAML_MAX_FILE + 1);
	struct got g;

	memset(&g, 0, sizeof(g));
	npd_diags_init(&g.diags);
	g.rc = npd_yaml_decode_file(path, tu_collect, &g.ev, &g.diags);
	ck_assert_int_eq(g.rc, -EFBIG);
	ck_assert_uint_eq(g.ev.n, 0);
	ck_assert_uint_eq(g.diags.n, 1);
	ck_assert_int_eq(g.diags.v[0].kind, NPD_DIAG_LIMIT);
	ck_assert_str_eq(g.diags.v[0].file, path);
	got_fini(&g);
	unlink(path);
	free(path);
}
END_TEST

/* A writer that sends the second document only once the first was decoded. */
struct trickle {
	const char *path;
	sem_t first_seen;
	bool waited_out; /* the first object never arrived while the file was open */
	size_t events;
};

static void *
trickle_writer(void *arg)
{
	static const char one[] = "kind: Namespace\napiVersion: v1\nmetadata: {name: a}\n---\n";
	static const char two[] = "kind: Namespace\napiVersion: v1\nmetadata: {name: b}\n";
	struct trickle *t = arg;
	struct timespec until;
	int fd = open(t->path, O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, one, sizeof(one) - 1), (ssize_t)sizeof(one) - 1);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 10;
	t->waited_out = sem_timedwait(&t->first_seen, &until) < 0;
	ck_assert_int_eq(write(fd, two, sizeof(two) - 1), (ssize_t)sizeof(two) - 1);
	close(fd);
	return NULL;
}

static void
trickle_event(struct npd_event *ev, void *ctx)
{
	struct trickle *t = ctx;

	if (t->events++ == 0)
		sem_post(&t->first_seen);
	npd_event_fini(ev);
}

START_TEST(file_is_decoded_while_it_is_read)
{
	char dir[] = "/tmp/npd-yaml-fifo.XXXXXX";
	struct trickle t;
	struct npd_diags d;
	pthread_t writer;
	char *path;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = npd_xasprintf("%s/m.yaml", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	memset(&t, 0, sizeof(t));
	t.path = path;
	sem_init(&t.first_seen, 0, 0);
	npd_diags_init(&d);
	ck_assert_int_eq(pthread_create(&writer, NULL, trickle_writer, &t), 0);
	ck_assert_int_eq(npd_yaml_decode_file(path, trickle_event, &t, &d), 0);
	pthread_join(writer, NULL);
	ck_assert_uint_eq(t.events, 2);
	ck_assert_uint_eq(d.n, 0);
	/* Reading the whole file before decoding would have left the writer waiting. */
	ck_assert(!t.waited_out);
	sem_destroy(&t.first_seen);
	npd_diags_fini(&d);
	unlink(path);
	rmdir(dir);
	free(path);
}
END_TEST

START_TEST(load_into_store)
{
	struct npd_store *s = npd_store_new();
	struct npd_diags d;
	const struct npd_policy *pol;

	npd_diags_init(&d);
	ck_assert_int_eq(npd_yaml_load(tu_src_path("test/fixtures/yaml/aks.yaml"), s, &d), 0);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_NAMESPACE), 2);
	ck_assert_uint_eq(npd_store_count(s, NPD_KIND_POD), 1);
	pol = npd_store_get_policy(s, "backend", "db-policy");
	ck_assert_ptr_nonnull(pol);
	ck_assert_uint_eq(pol->n_ingress, 1);
	ck_assert_ptr_nonnull(npd_store_get_pod(s, "backend", "db"));
	npd_diags_fini(&d);
	npd_store_free(s);
}
END_TEST

TU_MAIN("yaml", aks_example_multi_document, kind_list_and_default_namespace,
	bad_values_carry_file_and_line, selector_expression_without_key,
	bad_names_reported_with_line, anchors_and_aliases_rejected, syntax_error_reported_with_line,
	buffer_edge_cases, directory_sorted_yaml_only, load_into_store,
	bool_spellings_match_yaml_1_1, oversized_file_is_reported, file_is_decoded_while_it_is_read)
