/* check_yaml_json.c: manifest files that are JSON, read by yajl (yaml_json.c), against
 * libyaml reading the same bytes (npd_yaml_decode_buf never takes the JSON path): the
 * same objects (compiled to the same rules and sets), the same diagnostics with the same
 * lines and field paths, on fixed cases and on seeded random manifests full of wrong
 * types; and what yajl rejects is left, undelivered and unreported, to libyaml. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "npd/store.h"
#include "npd/yaml.h"
#include "testutil.h"
#include "yaml_int.h"

struct reading {
	struct tu_events ev;
	struct npd_diags diags;
	int rc;
};

static void
reading_fini(struct reading *r)
{
	tu_events_fini(&r->ev);
	npd_diags_fini(&r->diags);
}

/* libyaml's reading of text. */
static void
by_libyaml(struct reading *r, const char *text)
{
	memset(r, 0, sizeof(*r));
	npd_diags_init(&r->diags);
	r->rc = npd_yaml_decode_buf(text, strlen(text), "m.json", tu_collect, &r->ev, &r->diags);
}

/* yajl's reading of text, from a file as the file source reads it. */
static void
by_yajl(struct reading *r, const char *text)
{
	char *path = tu_tmp_file(text, strlen(text), 0);
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	memset(r, 0, sizeof(*r));
	npd_diags_init(&r->diags);
	r->rc = npd_yaml_json_decode_fd(fd, "m.json", tu_collect, &r->ev, &r->diags);
	close(fd);
	unlink(path);
	free(path);
}

/* The rules and sets the objects of r compile to, and their names, as one string. */
static char *
outcome(const struct reading *r)
{
	struct npd_store *s = npd_store_new();
	struct npd_ruleset *rs;
	struct npd_buf b;
	size_t i;

	npd_buf_init(&b);
	for (i = 0; i < r->ev.n; i++) {
		const struct npd_object *o = &r->ev.v[i].obj;

		npd_buf_printf(&b, "%s %s/%s\n", npd_kind_name(o->kind), npd_object_ns(o),
			       npd_object_name(o));
		npd_store_add_object(s, &r->ev.v[i].obj);
	}
	rs = tu_compile(s);
	npd_ruleset_format_sets(rs, 0, &b);
	npd_ruleset_format_table(&rs->v4, &b);
	npd_ruleset_format_table(&rs->v6, &b);
	npd_ruleset_free(rs);
	npd_store_free(s);
	return npd_buf_steal(&b);
}

static char *
diags_text(const struct npd_diags *d)
{
	struct npd_buf b;
	char line[1024];
	size_t i;

	npd_buf_init(&b);
	for (i = 0; i < d->n; i++)
		npd_buf_printf(&b, "%s [%s]\n", npd_diag_format(&d->v[i], line, sizeof(line)),
			       d->v[i].limit ? d->v[i].limit : "-");
	return npd_buf_steal(&b);
}

static size_t n_diags_seen;

/* Both readings of text agree; yajl took it (0). Returns the number of objects. */
static size_t
same_reading(const char *text)
{
	struct reading y, j;
	char *ya, *ja, *yd, *jd;
	size_t n;

	by_libyaml(&y, text);
	by_yajl(&j, text);
	ck_assert_msg(j.rc == 0, "yajl did not take: %s", text);
	ck_assert_int_eq(y.rc, 0);
	yd = diags_text(&y.diags);
	jd = diags_text(&j.diags);
	ck_assert_msg(!strcmp(yd, jd), "diagnostics differ on\n%s\nlibyaml:\n%syajl:\n%s", text, yd,
		      jd);
	ya = outcome(&y);
	ja = outcome(&j);
	ck_assert_msg(!strcmp(ya, ja), "objects differ on\n%s\nlibyaml:\n%s\nyajl:\n%s", text, ya,
		      ja);
	n = y.ev.n;
	n_diags_seen += y.diags.n;
	free(ya);
	free(ja);
	free(yd);
	free(jd);
	reading_fini(&y);
	reading_fini(&j);
	return n;
}

static const char kubectl_list[] =
    "{\n"
    "    \"apiVersion\": \"v1\",\n"
    "    \"kind\": \"List\",\n"
    "    \"items\": [\n"
    "        {\n"
    "            \"apiVersion\": \"v1\",\n"
    "            \"kind\": \"Namespace\",\n"
    "            \"metadata\": {\"name\": \"shop\", \"labels\": {\"team\": \"a\"}}\n"
    "        },\n"
    "        {\n"
    "            \"apiVersion\": \"v1\",\n"
    "            \"kind\": \"Pod\",\n"
    "            \"metadata\": {\"name\": \"db\", \"namespace\": \"shop\",\n"
    "                \"labels\": {\"app\": \"db\", \"n\": \"5\"}},\n"
    "            \"spec\": {\"nodeName\": \"node1\", \"hostNetwork\": false,\n"
    "                \"containers\": [{\"name\": \"c\", \"ports\": [{\"name\": \"pg\",\n"
    "                    \"containerPort\": 5432, \"protocol\": \"TCP\"}]}]},\n"
    "            \"status\": {\"phase\": \"Running\", \"podIP\": \"10.1.0.5\",\n"
    "                \"podIPs\": [{\"ip\": \"10.1.0.5\"}, {\"ip\": \"fd00::5\"}]}\n"
    "        },\n"
    "        {\n"
    "            \"apiVersion\": \"networking.k8s.io/v1\",\n"
    "            \"kind\": \"NetworkPolicy\",\n"
    "            \"metadata\": {\"name\": \"db\", \"namespace\": \"shop\"},\n"
    "            \"spec\": {\n"
    "                \"podSelector\": {\"matchLabels\": {\"app\": \"db\"}},\n"
    "                \"policyTypes\": [\"Ingress\", \"Egress\"],\n"
    "                \"ingress\": [{\"from\": [{\"ipBlock\": {\"cidr\": \"10.0.0.0/8\",\n"
    "                    \"except\": [\"10.9.0.0/16\"]}}, {\"namespaceSelector\": {}}],\n"
    "                    \"ports\": [{\"port\": \"pg\"}, {\"port\": 80, \"endPort\": 90}]}],\n"
    "                \"egress\": [{\"to\": [{\"podSelector\": {\"matchExpressions\": [\n"
    "                    {\"key\": \"app\", \"operator\": \"In\", \"values\": [\"db\"]}]}}]}]\n"
    "            }\n"
    "        },\n"
    "        {\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"x\"}}\n"
    "    ]\n"
    "}\n";

/* The shape `kubectl get -o json` writes: a List of every kind, one skipped. */
START_TEST(kubectl_list_reads_the_same)
{
	ck_assert_uint_eq(same_reading(kubectl_list), 3);
}
END_TEST

/* Wrong types, bad values and bounds, each on its own line so that lines are checked. */
START_TEST(bad_input_reads_the_same)
{
	static const char *const cases[] = {
	    "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\",\n"
	    "\"metadata\": {\"name\": \"bad-cidr\", \"namespace\": \"shop\"},\n"
	    "\"spec\": {\"podSelector\": {},\n\"ingress\": [{\"from\": [{\"ipBlock\":\n"
	    "{\"cidr\": \"10.0.0.0/40\"}}]}]}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\",\n"
	    "\"labels\": [\"app\"]}}",
	    "{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": \"NetworkPolicy\",\n"
	    "\"metadata\": {\"name\": \"quoted-port\"}, \"spec\": {\"podSelector\": {},\n"
	    "\"egress\": [{\"ports\": [{\n\"port\": \"8080\"}, {\"port\": 1.5},\n"
	    "{\"port\": true}, {\"port\": null, \"protocol\": 6}]}]}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"p\",\n"
	    "\"labels\": {\"a\": 1, \"b\": true, \"c\": null, \"d\": {}, \"e\": \"\\u00e9\"}},\n"
	    "\"spec\": {\"hostNetwork\": \"yes\", \"nodeName\": \"node1\"},\n"
	    "\"status\": {\"podIP\": \"10.0.0.1\", \"phase\": 7}}",
	    "{\"kind\": \"Pod\", \"metadata\": {\"name\": \"no-api-version\"}}",
	    "[{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"n\"}}]",
	    "{}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\\\"b\",\n"
	    "\"name\": \"dup-wins\", \"labels\": {\"k\\/s\": \"v\\tw\"}}}",
	};
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++)
		same_reading(cases[i]);
}
END_TEST

/* One level more than the depth bound rejects the document at the line it starts on. */
START_TEST(depth_bound_reads_the_same)
{
	struct npd_buf b;
	size_t i, levels;

	for (levels = NPD_LIMIT_DEPTH - 3; levels <= NPD_LIMIT_DEPTH; levels++) {
		npd_buf_init(&b);
		npd_buf_adds(&b, "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\",\n"
				 "\"metadata\": {\"name\": \"deep\", \"annotations\": {\"a\":\n");
		for (i = 0; i < levels; i++)
			npd_buf_adds(&b, i % 2 ? "{\"k\":\n" : "[\n");
		npd_buf_adds(&b, "0");
		for (i = levels; i-- > 0;)
			npd_buf_adds(&b, i % 2 ? "}" : "]");
		npd_buf_adds(&b, "}}}");
		same_reading(b.data);
		npd_buf_fini(&b);
	}
}
END_TEST

/* What yajl rejects, or what is not an object or array, is libyaml's: nothing delivered
 * or reported by the JSON reader. */
START_TEST(not_json_is_left_to_libyaml)
{
	static const char *const cases[] = {
	    "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
	    "{apiVersion: v1, kind: Namespace, metadata: {name: a}}",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"}}\n"
	    "---\n{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": "
	    "\"b\"}}\n",
	    "# a comment\n{\"kind\": \"Namespace\"}",
	    "{\"kind\": \"Namespace\"} # a comment",
	    "  \n\t\n",
	    "",
	    "\"just a string\"",
	    "{\"apiVersion\": \"v1\", \"kind\": \"Namespace\", \"metadata\": {\"name\": \"a\"",
	};
	struct reading j;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++) {
		by_yajl(&j, cases[i]);
		ck_assert_msg(j.rc == -ENOTSUP, "case %zu: rc %d", i, j.rc);
		ck_assert_uint_eq(j.ev.n, 0);
		ck_assert_uint_eq(j.diags.n, 0);
		reading_fini(&j);
	}
}
END_TEST

/* Through the public entry point both renderings of one cluster, a JSON file and a YAML
 * one, give the same objects: the JSON one read by yajl, the YAML one by libyaml. */
START_TEST(file_entry_takes_json_and_yaml)
{
	static const char yaml[] =
	    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels:\n    team: a\n"
	    "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: db\n  namespace: shop\n"
	    "  labels:\n    app: db\n    n: \"5\"\nspec:\n  nodeName: node1\n"
	    "  hostNetwork: false\n  containers:\n    - name: c\n      ports:\n"
	    "        - name: pg\n          containerPort: 5432\n          protocol: TCP\n"
	    "status:\n  phase: Running\n  podIP: 10.1.0.5\n  podIPs:\n    - ip: 10.1.0.5\n"
	    "    - ip: fd00::5\n---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
	    "metadata:\n  name: db\n  namespace: shop\nspec:\n  podSelector:\n"
	    "    matchLabels:\n      app: db\n  policyTypes: [Ingress, Egress]\n  ingress:\n"
	    "    - from:\n        - ipBlock:\n            cidr: 10.0.0.0/8\n"
	    "            except: [10.9.0.0/16]\n        - namespaceSelector: {}\n"
	    "      ports:\n        - port: pg\n        - port: 80\n          endPort: 90\n"
	    "  egress:\n    - to:\n        - podSelector:\n            matchExpressions:\n"
	    "              - key: app\n                operator: In\n"
	    "                values: [db]\n";
	struct reading y, j;
	char *yp = tu_tmp_file(yaml, strlen(yaml), 0);
	char *jp = tu_tmp_file(kubectl_list, strlen(kubectl_list), 0);
	char *ya, *ja;

	memset(&y, 0, sizeof(y));
	memset(&j, 0, sizeof(j));
	npd_diags_init(&y.diags);
	npd_diags_init(&j.diags);
	ck_assert_int_eq(npd_yaml_decode_file(yp, tu_collect, &y.ev, &y.diags), 0);
	ck_assert_int_eq(npd_yaml_decode_file(jp, tu_collect, &j.ev, &j.diags), 0);
	ck_assert_uint_eq(y.diags.n, 0);
	ck_assert_uint_eq(j.diags.n, 0);
	ck_assert_uint_eq(j.ev.n, 3);
	ya = outcome(&y);
	ja = outcome(&j);
	ck_assert_str_eq(ya, ja);
	free(ya);
	free(ja);
	reading_fini(&y);
	reading_fini(&j);
	unlink(yp);
	unlink(jp);
	free(yp);
	free(jp);
}
END_TEST

/* ---- random manifests ---- */

static const char *const noise[] = {"null",	  "true",	  "false",
				    "0",	  "80",		  "-1",
				    "65536",	  "1.5",	  "1e3",
				    "\"\"",	  "\"80\"",	  "\"web\"",
				    "\"TCP\"",	  "\"SCTP\"",	  "\"udp\"",
				    "\"http\"",	  "\"node1\"",	  "\"10.0.0.0/8\"",
				    "\"::/0\"",	  "\"10.1.0.7\"", "\"fd00::7\"",
				    "\"In\"",	  "\"Exists\"",	  "\"Ingress\"",
				    "\"Egress\"", "\"Running\"",  "\"Failed\"",
				    "\"a b\"",	  "\"\\u00e9\"",  "{}",
				    "[]",	  "[\"a\"]",	  "{\"a\": \"b\"}",
				    "[{}]",	  "\"yes\"",	  "\"x/y\""};

static void gen_value(struct npd_buf *b, int depth);

/* A separator with a newline now and then, so that lines move. */
static void
sep(struct npd_buf *b)
{
	npd_buf_adds(b, rand() % 3 ? " " : "\n");
}

static void
gen_map(struct npd_buf *b, const char *const *keys, size_t n, int depth)
{
	size_t i, k = (size_t)rand() % 5;

	npd_buf_addc(b, '{');
	for (i = 0; i < k; i++) {
		npd_buf_printf(b, "%s\"%s\":", i ? "," : "", keys[(size_t)rand() % n]);
		sep(b);
		gen_value(b, depth + 1);
	}
	npd_buf_addc(b, '}');
}

static void
gen_array(struct npd_buf *b, int depth)
{
	size_t i, k = (size_t)rand() % 3;

	npd_buf_addc(b, '[');
	for (i = 0; i < k; i++) {
		if (i)
			npd_buf_addc(b, ',');
		sep(b);
		gen_value(b, depth + 1);
	}
	npd_buf_addc(b, ']');
}

/* A value that may be of any type, often one of the shapes a policy or pod field has. */
static void
gen_value(struct npd_buf *b, int depth)
{
	static const char *const fields[] = {"podSelector", "namespaceSelector",
					     "matchLabels", "matchExpressions",
					     "key",	    "operator",
					     "values",	    "ingress",
					     "egress",	    "from",
					     "to",	    "ports",
					     "port",	    "endPort",
					     "protocol",    "ipBlock",
					     "cidr",	    "except",
					     "policyTypes", "app",
					     "name",	    "containerPort",
					     "containers",  "ip"};
	int r = rand() % 10;

	if (depth > 6 || r < 5)
		npd_buf_adds(b, noise[(size_t)rand() % NPD_ARRAY_SIZE(noise)]);
	else if (r < 8)
		gen_map(b, fields, NPD_ARRAY_SIZE(fields), depth);
	else
		gen_array(b, depth);
}

static void
gen_object(struct npd_buf *b, unsigned i)
{
	static const char *const kinds[] = {"Pod", "NetworkPolicy", "Namespace", "Service"};
	static const char *const tops[] = {"spec", "status", "metadata", "kind"};
	const char *kind = kinds[(size_t)rand() % NPD_ARRAY_SIZE(kinds)];
	size_t k;

	npd_buf_printf(b, "{\"apiVersion\": \"%s\", \"kind\": \"%s\",",
		       strcmp(kind, "NetworkPolicy") ? "v1" : "networking.k8s.io/v1", kind);
	sep(b);
	npd_buf_printf(b, "\"metadata\": {\"name\": \"o%u\", \"namespace\": \"ns%d\",", i,
		       rand() % 2);
	sep(b);
	npd_buf_adds(b, "\"labels\": ");
	gen_value(b, 2);
	npd_buf_adds(b, "}");
	for (k = (size_t)rand() % 4; k > 0; k--) {
		npd_buf_printf(b, ",");
		sep(b);
		npd_buf_printf(b, "\"%s\": ", tops[(size_t)rand() % NPD_ARRAY_SIZE(tops)]);
		gen_value(b, 1);
	}
	npd_buf_addc(b, '}');
}

START_TEST(random_manifests_read_the_same)
{
	struct npd_buf b;
	unsigned round, i, n;
	size_t objects = 0;

	tu_seed("yaml_json random manifests");
	n_diags_seen = 0;
	for (round = 0; round < 500; round++) {
		npd_buf_init(&b);
		n = (unsigned)rand() % 4;
		if (rand() % 2) {
			npd_buf_adds(&b,
				     "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [");
			for (i = 0; i < n; i++) {
				if (i)
					npd_buf_addc(&b, ',');
				sep(&b);
				gen_object(&b, i);
			}
			npd_buf_adds(&b, "]}\n");
		} else {
			gen_object(&b, 0);
		}
		objects += same_reading(b.data);
		npd_buf_fini(&b);
	}
	printf("random manifests: %zu objects and %zu diagnostics read the same\n", objects,
	       n_diags_seen);
	/* Most random objects are bad somewhere; both kinds of outcome must have been met. */
	ck_assert_uint_gt(objects, 50);
	ck_assert_uint_gt(n_diags_seen, 50);
}
END_TEST

TU_MAIN("yaml_json", kubectl_list_reads_the_same, bad_input_reads_the_same,
	depth_bound_reads_the_same, not_json_is_left_to_libyaml, file_entry_takes_json_and_yaml,
	random_manifests_read_the_same)
