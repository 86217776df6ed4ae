/* check_yaml_files.c: a directory decoded in parallel loads the store exactly as decoding
 * its files one after the other does. Seeded random directories of manifests (random
 * worlds whose namespaces, pods and policies share names across files, so the last file
 * wins each duplicate; JSON lists; files malformed after some good documents; objects over
 * a limit; bad values; empty files) are loaded by a plain loop of npd_yaml_decode_file
 * (the reference), by npd_yaml_files_decode on 1, 2 and 4 threads and by
 * npd_yaml_decode_path; the delivered objects and their order, the diagnostics and their
 * order, each file's result and a dump of the store with its compiled ruleset must be the
 * same bytes. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/limits.h"
#include "npd/mem.h"
#include "npd/ruleset.h"
#include "npd/yaml.h"
#include "npd/yaml_files.h"
#include "testutil.h"
#include "tu_world.h"

#define FILES 48

struct load {
	struct npd_store *s;
	struct npd_buf events; /* one line per object delivered, in order */
	struct npd_buf diags;  /* one line per diagnostic, in order */
	struct npd_buf files;  /* one line per file: name and result */
	int first_rc;
};

static void
load_init(struct load *l)
{
	memset(l, 0, sizeof(*l));
	l->s = npd_store_new();
	npd_buf_init(&l->events);
	npd_buf_init(&l->diags);
	npd_buf_init(&l->files);
}

static void
load_fini(struct load *l)
{
	npd_store_free(l->s);
	npd_buf_fini(&l->events);
	npd_buf_fini(&l->diags);
	npd_buf_fini(&l->files);
}

/* Records ev and puts its object in the store (which takes it). */
static void
add_event(struct load *l, struct npd_event *ev)
{
	const char *ns = npd_object_ns(&ev->obj), *name = npd_object_name(&ev->obj);

	npd_buf_printf(&l->events, "%d %s %s/%s\n", (int)ev->type, npd_kind_name(ev->obj.kind),
		       ns ? ns : "", name ? name : "");
	npd_store_add_object(l->s, &ev->obj);
}

static void
ingest(struct npd_event *ev, void *ctx)
{
	add_event(ctx, ev);
	npd_event_fini(ev);
}

static void
ingest_diags(struct load *l, const struct npd_diags *d)
{
	char line[2048];
	size_t i;

	for (i = 0; i < d->n; i++)
		npd_buf_printf(&l->diags, "%s\n", npd_diag_format(&d->v[i], line, sizeof(line)));
}

static void
ingest_rc(struct load *l, const char *name, int rc)
{
	npd_buf_printf(&l->files, "%s %d\n", name, rc);
	if (rc < 0 && !l->first_rc)
		l->first_rc = rc;
}

/* The reference: each file on its own, one after the other, on this thread. */
static void
load_reference(struct load *l, const char *dir, char **names, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		char *path = npd_xasprintf("%s/%s", dir, names[i]);
		struct tu_events got = {0};
		struct npd_diags d;
		int rc;

		npd_diags_init(&d);
		rc = npd_yaml_decode_file(path, tu_collect, &got, &d);
		ingest_rc(l, names[i], rc);
		for (j = 0; j < got.n; j++)
			ingest(&got.v[j], l);
		ingest_diags(l, &d);
		npd_diags_fini(&d);
		tu_events_fini(&got);
		free(path);
	}
}

static void
on_file(struct npd_yaml_file *f, void *ctx)
{
	struct load *l = ctx;
	size_t i;

	ingest_rc(l, f->name, f->rc);
	/* Half of the events are taken whole, the other half left for the batch to free. */
	for (i = 0; i < f->n; i++) {
		struct npd_event ev = f->ev[i];

		if (i % 2) {
			memset(&f->ev[i], 0, sizeof(f->ev[i]));
			ingest(&ev, l);
		} else {
			add_event(l, &f->ev[i]);
		}
	}
	ingest_diags(l, &f->diags);
}

static void
dump_labels(struct npd_buf *b, const struct npd_labels *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		npd_buf_printf(b, " %s=%s", ls->v[i].key, ls->v[i].value);
}

/* Everything the store holds that policy reads, and the ruleset it compiles to. */
static char *
dump_store(const struct npd_store *s)
{
	const char *const *nss;
	struct npd_buf b;
	struct npd_ruleset *rs;
	size_t n_ns, i, j, k, n;
	char ip[NPD_ADDRSTRLEN];

	npd_buf_init(&b);
	nss = npd_store_ns_names(s, &n_ns);
	for (i = 0; i < n_ns; i++) {
		const struct npd_namespace *ns = npd_store_get_namespace(s, nss[i]);
		const struct npd_pod *const *pods = npd_store_pods_in(s, nss[i], &n);
		const struct npd_policy *const *pols;

		npd_buf_printf(&b, "namespace %s%s", nss[i], ns ? "" : " (no object)");
		if (ns)
			dump_labels(&b, &ns->labels);
		npd_buf_addc(&b, '\n');
		for (j = 0; j < n; j++) {
			const struct npd_pod *p = pods[j];

			npd_buf_printf(&b, " pod %s uid=%s node=%s phase=%d host=%d", p->name,
				       p->uid ? p->uid : "", p->node ? p->node : "", (int)p->phase,
				       (int)p->host_network);
			dump_labels(&b, &p->labels);
			for (k = 0; k < p->n_ips; k++)
				npd_buf_printf(&b, " ip=%s", npd_addr_format(&p->ips[k], ip));
			for (k = 0; k < p->n_ports; k++)
				npd_buf_printf(&b, " port=%s/%s/%u",
					       p->ports[k].name ? p->ports[k].name : "",
					       npd_proto_name(p->ports[k].proto), p->ports[k].port);
			npd_buf_addc(&b, '\n');
		}
		pols = npd_store_policies_in(s, nss[i], &n);
		for (j = 0; j < n; j++)
			npd_buf_printf(&b, " policy %s\n", pols[j]->name);
	}
	rs = tu_compile(s);
	npd_ruleset_format_sets(rs, 0, &b);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET), &b);
	npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET6), &b);
	npd_ruleset_free(rs);
	return npd_buf_steal(&b);
}

static void
write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = npd_xasprintf("%s/%s", dir, name);
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
	ck_assert_int_eq(fclose(fp), 0);
	free(path);
}

/* The world's documents as one JSON `kind: List` (the render is JSON documents between
 * "---" lines after a comment). */
static void
render_json_list(const struct tu_world *w, struct npd_buf *out)
{
	struct npd_buf y;
	char *p, *doc;
	bool first = true;

	npd_buf_init(&y);
	tu_world_render(w, &y);
	npd_buf_adds(out, "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n");
	p = strstr(y.data, "---\n");
	while (p) {
		char *next;

		doc = p + 4;
		next = strstr(doc, "---\n");
		npd_buf_adds(out, first ? "" : ",\n");
		npd_buf_add(out, doc, next ? (size_t)(next - doc) : strlen(doc));
		first = false;
		p = next;
	}
	npd_buf_adds(out, "]}\n");
	npd_buf_fini(&y);
}

/* One random manifest file (of the kind given, when not negative). */
static void
gen_file(uint64_t *rs, int force, struct npd_buf *out, bool *json)
{
	unsigned kind = force >= 0 ? (unsigned)force : (unsigned)(tu_rand(rs) % 20);
	struct tu_world w;
	int i;

	*json = false;
	tu_world_gen(&w, tu_rand(rs));
	if (kind < 12) {
		tu_world_render(&w, out);
	} else if (kind < 14) {
		render_json_list(&w, out);
		*json = true;
	} else if (kind < 16) {
		/* Good documents, then one libyaml cannot parse: the file fails with -EINVAL
		 * after its first objects were delivered. */
		tu_world_render(&w, out);
		npd_buf_adds(out, "---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
				  "{\"name\": \"broken\"\n");
	} else if (kind < 18) {
		/* Over the label and depth limits, between good documents. */
		tu_world_render(&w, out);
		npd_buf_adds(out, "---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
				  "{\"name\": \"many\", \"namespace\": \"alpha\", \"labels\": {");
		for (i = 0; i <= 4096; i++)
			npd_buf_printf(out, "%s\"k%d\": \"v\"", i ? ", " : "", i);
		npd_buf_adds(out, "}}}\n---\n{\"apiVersion\": \"v1\", \"kind\": \"Pod\", "
				  "\"metadata\": {\"name\": \"deep\", \"namespace\": \"beta\"}, "
				  "\"x\": ");
		for (i = 0; i < NPD_LIMIT_DEPTH + 1; i++)
			npd_buf_addc(out, '[');
		for (i = 0; i < NPD_LIMIT_DEPTH + 1; i++)
			npd_buf_addc(out, ']');
		npd_buf_adds(out, "}\n");
		tu_world_gen(&w, tu_rand(rs));
		tu_world_render(&w, out);
	} else if (kind < 19) {
		/* An invalid value in one object of a good file. */
		npd_buf_adds(out, "apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: "
				  "gamma, labels: {app: x}}\nstatus: {podIP: 10.0.0.300}\n");
		tu_world_render(&w, out);
	} else {
		npd_buf_adds(out, "# nothing here\n");
	}
}

static bool
same(const struct npd_buf *a, const struct npd_buf *b)
{
	return !strcmp(a->data ? a->data : "", b->data ? b->data : "");
}

static void
check_one(const char *what, const struct load *ref, const char *ref_dump, const struct load *got,
	  bool per_file)
{
	char *dump = dump_store(got->s);

	if (!same(&ref->events, &got->events))
		ck_abort_msg("%s: the objects delivered differ from one file after the other",
			     what);
	if (!same(&ref->diags, &got->diags))
		ck_abort_msg("%s: the diagnostics differ from one file after the other", what);
	if (per_file && !same(&ref->files, &got->files))
		ck_abort_msg("%s: the files' results differ from one file after the other", what);
	if (strcmp(ref_dump, dump))
		ck_abort_msg("%s: the store differs from one file after the other", what);
	free(dump);
}

START_TEST(files_parallel_is_sequential)
{
	uint64_t rs = (uint64_t)tu_seed("files_parallel_is_sequential") * 2 + 1;
	static const unsigned threads[] = {1, 2, 4};
	int round;

	for (round = 0; round < 4; round++) {
		char dir[] = "/tmp/npd-check-files-XXXXXX";
		char *names[FILES];
		struct load ref, got;
		char *ref_dump;
		size_t i, t;

		ck_assert_ptr_nonnull(mkdtemp(dir));
		for (i = 0; i < FILES; i++) {
			struct npd_buf b;
			bool json;

			npd_buf_init(&b);
			/* Every round has at least one of the rarer kinds. */
			gen_file(&rs, i == 5 ? 14 : i == 9 ? 16 : i == 13 ? 12 : -1, &b, &json);
			names[i] = npd_xasprintf("m%03zu.%s", i, json ? "json" : "yaml");
			write_file(dir, names[i], b.data, b.len);
			npd_buf_fini(&b);
		}
		load_init(&ref);
		load_reference(&ref, dir, names, FILES);
		/* The mix is what it claims: duplicates replaced, failures, limits. */
		ck_assert(strstr(ref.files.data, " -22\n"));
		ck_assert(ref.diags.data && strstr(ref.diags.data, "limit"));
		ref_dump = dump_store(ref.s);
		for (t = 0; t < NPD_ARRAY_SIZE(threads); t++) {
			char what[32];

			load_init(&got);
			npd_yaml_files_decode(dir, (const char *const *)names, FILES, threads[t],
					      on_file, &got);
			snprintf(what, sizeof(what), "%u threads", threads[t]);
			check_one(what, &ref, ref_dump, &got, true);
			load_fini(&got);
		}
		load_init(&got);
		ck_assert_int_eq(npd_yaml_decode_path(dir, ingest, &got, NULL), ref.first_rc);
		load_fini(&got);
		{
			struct npd_diags d;

			load_init(&got);
			npd_diags_init(&d);
			ck_assert_int_eq(npd_yaml_decode_path(dir, ingest, &got, &d), ref.first_rc);
			ingest_diags(&got, &d);
			npd_diags_fini(&d);
			check_one("npd_yaml_decode_path", &ref, ref_dump, &got, false);
			load_fini(&got);
		}
		free(ref_dump);
		load_fini(&ref);
		for (i = 0; i < FILES; i++) {
			char *path = npd_xasprintf("%s/%s", dir, names[i]);

			unlink(path);
			free(path);
			free(names[i]);
		}
		rmdir(dir);
	}
}
END_TEST

START_TEST(files_missing_and_empty_batch)
{
	char dir[] = "/tmp/npd-check-files-XXXXXX";
	const char *names[] = {"gone.yaml", "here.yaml"};
	struct load l;
	char *path;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file(dir, "here.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", 51);
	load_init(&l);
	npd_yaml_files_decode(dir, names, 0, 4, on_file, &l);
	ck_assert_uint_eq(l.files.len, 0);
	npd_yaml_files_decode(dir, names, 2, 4, on_file, &l);
	ck_assert_str_eq(l.files.data, "gone.yaml -2\nhere.yaml 0\n");
	ck_assert_str_eq(l.events.data, "0 Namespace /a\n");
	ck_assert_uint_eq(npd_store_count(l.s, NPD_KIND_NAMESPACE), 1);
	load_fini(&l);
	path = npd_xasprintf("%s/here.yaml", dir);
	unlink(path);
	free(path);
	rmdir(dir);
}
END_TEST

TU_MAIN("yaml_files", files_parallel_is_sequential, files_missing_and_empty_batch)
