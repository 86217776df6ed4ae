/* yaml_files.c: decodes a batch of manifest files on the ordered parallel map. A worker
 * reads one file with npd_yaml_decode_file into a private result: the decoder touches no
 * shared state (the store interns strings when an object is inserted, on the caller's
 * thread), so the only thing crossing threads is the finished result. */
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"
#include "npd/par.h"
#include "npd/yaml.h"
#include "npd/yaml_files.h"

struct batch {
	const char *dir;
	const char *const *names;
	npd_yaml_file_fn fn;
	void *ctx;
};

/* One file's result and what only this file knows about it. */
struct job {
	struct npd_yaml_file f;
	size_t cap; /* of f.ev */
	char *path;
};

static void
collect(struct npd_event *ev, void *ctx)
{
	struct job *j = ctx;

	npd_xgrow(&j->f.ev, &j->cap, j->f.n + 1, sizeof(*j->f.ev));
	j->f.ev[j->f.n++] = *ev;
	memset(ev, 0, sizeof(*ev));
}

static void *
decode_one(size_t i, void *arg)
{
	const struct batch *b = arg;
	struct job *j = npd_xcalloc(1, sizeof(*j));

	j->f.name = b->names[i];
	j->path = npd_xasprintf("%s/%s", b->dir, j->f.name);
	j->f.path = j->path;
	npd_diags_init(&j->f.diags);
	j->f.rc = npd_yaml_decode_file(j->path, collect, j, &j->f.diags);
	return j;
}

static void
deliver(size_t i, void *result, void *arg)
{
	const struct batch *b = arg;
	struct job *j = result;
	size_t k;

	(void)i;
	b->fn(&j->f, b->ctx);
	for (k = 0; k < j->f.n; k++)
		npd_event_fini(&j->f.ev[k]);
	free(j->f.ev);
	npd_diags_fini(&j->f.diags);
	free(j->path);
	free(j);
}

void
npd_yaml_files_decode(const char *dir, const char *const *names, size_t n, unsigned threads,
		      npd_yaml_file_fn fn, void *ctx)
{
	struct batch b = {dir, names, fn, ctx};

	if (!threads)
		threads = npd_par_threads();
	npd_par_map(n, threads, (size_t)threads * NPD_YAML_FILES_AHEAD, decode_one, deliver, &b);
}
