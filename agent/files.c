/* files.c: the manifests source. Watches the directory (for a single file, its parent,
 * filtered by name, so an atomic rename over the file is seen) with inotify on the loop,
 * and keeps per file the set of objects it contributed, so a reload replaces exactly that
 * file's objects and a deleted file removes them.
 *
 * A file whose YAML is malformed keeps its last good objects in force (diagnostics are
 * logged and counted): a half-written or broken edit never removes policy. When two files
 * define the same object the last one loaded wins; when that file drops it, the other
 * file is reloaded so its definition comes back. Hidden files are ignored, except the
 * "..data" symlink swap of Kubernetes ConfigMap volumes, which rescans everything. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ev.h>

#include "files.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "npd/yaml_files.h"

#define SOURCE_NAME "files"
#define WATCH_MASK                                                                                 \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF |   \
	 IN_MOVE_SELF | IN_ONLYDIR)

struct file_state {
	char *name; /* base name in the directory */
	/* The object keys it defines, NUL-terminated and back to back in one block, and a
	 * sorted index into it: a few bytes per object instead of a map entry and a copy. */
	char *keys;
	const char **v; /* into keys, sorted */
	size_t n;
};

struct files {
	struct npd_agent *a;
	char *dir;
	char *only;	  /* single-file mode: the base name watched; NULL for a directory */
	unsigned threads; /* decoding threads of a full load, 0: one per CPU */
	int ifd, wd;
	ev_io io;
	ev_timer rewatch;
	struct npd_map files; /* base name -> struct file_state */
	/* Object key -> how many files beyond one define it (absent: one at most), so a file
	 * dropping a key looks through the other files only when one of them has it. */
	struct npd_map shared;
	/* Object key of shared -> the struct file_state that defined it last, whose definition
	 * is in force. A key that one file alone defines has no entry: that file owns it. At
	 * 150,000 objects an entry for each would cost 10 MB for the rare duplicate. */
	struct npd_map owner;
	struct npd_map reload; /* base names to reload after the current change (value unused) */
};

static void load_file(struct files *f, const char *name);

/* Reloads the files whose definitions were shadowed by objects just dropped. */
static void
reload_shadowed(struct files *f)
{
	size_t guard;

	for (guard = 0; f->reload.len && guard < 64; guard++) {
		size_t it = 0;
		const char *name;
		void *v;
		char *first;

		npd_map_next(&f->reload, &it, &name, &v);
		first = npd_xstrdup(name);
		npd_map_del(&f->reload, first);
		load_file(f, first);
		free(first);
	}
}

static bool
wanted(const struct files *f, const char *name)
{
	size_t n = strlen(name);

	if (f->only)
		return strcmp(name, f->only) == 0;
	if (name[0] == '.')
		return false;
	return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
	       (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int
cmp_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static const char *
fs_key(const struct file_state *fs, size_t i)
{
	return fs->v[i];
}

/* Whether fs defines key. */
static bool
fs_has(const struct file_state *fs, const char *key)
{
	return fs->n && bsearch(&key, fs->v, fs->n, sizeof(*fs->v), cmp_name);
}

/* Replaces fs's keys with the keys of the set keys. */
static void
fs_set_keys(struct file_state *fs, const struct npd_map *keys)
{
	const char **v = keys->len ? npd_xcalloc(keys->len, sizeof(*v)) : NULL;
	size_t it = 0, n = 0, len = 0, i;
	const char *k;

	while (npd_map_next(keys, &it, &k, NULL)) {
		v[n++] = k;
		len += strlen(k) + 1;
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_name);
	free(fs->keys);
	fs->keys = n ? npd_xmalloc(len) : NULL;
	for (i = 0, len = 0; i < n; i++) {
		size_t l = strlen(v[i]) + 1;

		memcpy(fs->keys + len, v[i], l);
		v[i] = fs->keys + len;
		len += l;
	}
	free(fs->v);
	fs->v = v;
	fs->n = n;
}

static void
fs_free(struct file_state *fs)
{
	free(fs->keys);
	free(fs->v);
	free(fs->name);
	free(fs);
}

/* An object's key: "Kind/namespace/name" ("Namespace//name"). Names never hold a '/'
 * (the decoder validates them as the API server does), so the key alone says what to
 * delete and nothing else is kept per object. Owned by the caller; NULL without a name. */
static char *
object_key(const struct npd_object *o)
{
	const char *ns = npd_object_ns(o), *name = npd_object_name(o);

	if (!name)
		return NULL;
	return npd_xasprintf("%s/%s/%s", npd_kind_name(o->kind), ns ? ns : "", name);
}

/* Deletes the object key names from the store; returns 1 when the store changed. */
static int
del_by_key(struct files *f, const char *key)
{
	char buf[512];
	char *ns, *name;
	enum npd_kind k;

	if ((size_t)snprintf(buf, sizeof(buf), "%s", key) >= sizeof(buf))
		return 0;
	ns = strchr(buf, '/');
	name = ns ? strchr(ns + 1, '/') : NULL;
	if (!name)
		return 0;
	*ns++ = '\0';
	*name++ = '\0';
	for (k = 0; k < NPD_KIND__COUNT; k++)
		if (!strcmp(buf, npd_kind_name(k)))
			return npd_store_del(agent_store(f->a), k, *ns ? ns : NULL, name);
	return 0;
}

/* Whether the store holds an object named as o is. */
static bool
in_store(struct files *f, const struct npd_object *o)
{
	const struct npd_store *s = agent_store(f->a);
	const char *ns = npd_object_ns(o), *name = npd_object_name(o);

	switch (o->kind) {
	case NPD_KIND_NAMESPACE:
		return npd_store_get_namespace(s, name) != NULL;
	case NPD_KIND_POD:
		return npd_store_get_pod(s, ns, name) != NULL;
	case NPD_KIND_POLICY:
		return npd_store_get_policy(s, ns, name) != NULL;
	case NPD_KIND__COUNT:
		break;
	}
	return false;
}

/* The file fs no longer defines key: delete the object if fs owned it, and bring back
 * another file's definition (that file becomes the owner at once and is reloaded). Returns
 * 1 when the store changed. */
static int
drop_key(struct files *f, struct file_state *fs, const char *key)
{
	size_t others = npd_map_count_add(&f->shared, key, -1);
	size_t it = 0;
	const char *name;
	void *v;
	int changed;

	if (!others)
		return del_by_key(f, key); /* fs alone defined it */
	if (npd_map_get(&f->owner, key) != fs) {
		if (others == 1) /* one definer is left, the owner */
			npd_map_del(&f->owner, key);
		return 0;
	}
	changed = del_by_key(f, key);
	npd_map_del(&f->owner, key);
	while (npd_map_next(&f->files, &it, &name, &v)) {
		struct file_state *other = v;

		if (other != fs && fs_has(other, key)) {
			if (others > 1)
				npd_map_set(&f->owner, key, other);
			npd_map_set(&f->reload, other->name, f);
			break;
		}
	}
	return changed;
}

static void
unload_file(struct files *f, const char *name)
{
	struct file_state *fs = npd_map_del(&f->files, name);
	size_t i;

	if (!fs)
		return;
	for (i = 0; i < fs->n; i++)
		drop_key(f, fs, fs_key(fs, i));
	agent_log("info", "msg=\"manifest removed\" file=%s/%s objects=%zu", f->dir, name, fs->n);
	fs_free(fs);
}

/* Puts one decoded file in force: its objects into the store, in document order, and its
 * key set in place of the last one. Always called on the loop's thread, in load order. */
static void
on_file(struct npd_yaml_file *r, void *ctx)
{
	struct files *f = ctx;
	struct file_state *fs;
	struct npd_map keys;
	size_t i;
	int changed = 0;

	if (r->rc == -ENOENT || r->rc == -EISDIR) {
		/* Gone between the event and the read: that is a deletion, not bad input. */
		unload_file(f, r->name);
		return;
	}
	agent_diags(f->a, &r->diags);
	if (r->rc < 0) {
		agent_log("error",
			  "msg=\"cannot load manifest, keeping its last good objects\" file=%s "
			  "err=\"%s\"",
			  r->path, r->rc == -EINVAL ? "malformed YAML" : strerror(-r->rc));
		agent_metric_inc(f->a, "netpold_manifest_loads_total{result=\"error\"}", 1);
		return;
	}
	npd_map_init(&keys);
	fs = npd_map_get(&f->files, r->name);
	if (!fs) {
		fs = npd_xcalloc(1, sizeof(*fs));
		fs->name = npd_xstrdup(r->name);
		npd_map_set(&f->files, r->name, fs);
	}
	for (i = 0; i < r->n; i++) {
		struct npd_object *o = &r->ev[i].obj;
		char *k;

		if (r->ev[i].type != NPD_EV_ADDED && r->ev[i].type != NPD_EV_MODIFIED)
			continue;
		k = object_key(o);
		if (!k)
			continue;
		/* fs becomes a definer of k beside the ones that have it: the store holds what
		 * the files define, and nothing else. The last one loaded owns it. */
		if (!fs_has(fs, k) && !npd_map_get(&keys, k) && in_store(f, o))
			npd_map_count_add(&f->shared, k, 1);
		if (npd_map_get(&f->shared, k))
			npd_map_set(&f->owner, k, fs);
		changed |= npd_store_add_object(agent_store(f->a), o) > 0;
		npd_map_set(&keys, k, fs);
		free(k);
	}
	for (i = 0; i < fs->n; i++)
		if (!npd_map_get(&keys, fs_key(fs, i)))
			changed |= drop_key(f, fs, fs_key(fs, i));
	fs_set_keys(fs, &keys);
	agent_metric_inc(f->a, "netpold_manifest_loads_total{result=\"ok\"}", 1);
	agent_log("info", "msg=\"manifest loaded\" file=%s objects=%zu changed=%s", r->path, fs->n,
		  changed ? "yes" : "no");
	npd_map_fini(&keys);
}

/* A single file, reloaded after a change: on the loop, no thread started. */
static void
load_file(struct files *f, const char *name)
{
	npd_yaml_files_decode(f->dir, &name, 1, 1, on_file, f);
}

/* Loads every wanted file present, in name order, and unloads the ones gone. */
static void
rescan(struct files *f)
{
	DIR *dir = opendir(f->dir);
	struct dirent *de;
	char **present = NULL, **gone = NULL;
	size_t n = 0, cap = 0, ng = 0, capg = 0, i, it = 0;
	const char *name;
	void *v;

	if (!dir) {
		agent_log("error", "msg=\"cannot read manifests directory\" dir=%s err=\"%s\"",
			  f->dir, strerror(errno));
		return;
	}
	while ((de = readdir(dir))) {
		char *p;
		struct stat st;

		if (!wanted(f, de->d_name))
			continue;
		p = npd_xasprintf("%s/%s", f->dir, de->d_name);
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			npd_xgrow(&present, &cap, n + 1, sizeof(*present));
			present[n++] = npd_xstrdup(de->d_name);
		}
		free(p);
	}
	closedir(dir);
	if (n)
		qsort(present, n, sizeof(*present), cmp_name);
	while (npd_map_next(&f->files, &it, &name, &v)) {
		bool found = false;

		for (i = 0; i < n && !found; i++)
			found = strcmp(present[i], name) == 0;
		if (!found) {
			npd_xgrow(&gone, &capg, ng + 1, sizeof(*gone));
			gone[ng++] = npd_xstrdup(name);
		}
	}
	for (i = 0; i < ng; i++) {
		unload_file(f, gone[i]);
		free(gone[i]);
	}
	/* The initial load and full rescans decode on every CPU; the store is filled here in
	 * name order all the same. */
	npd_yaml_files_decode(f->dir, (const char *const *)present, n, f->threads, on_file, f);
	for (i = 0; i < n; i++)
		free(present[i]);
	free(gone);
	free(present);
	reload_shadowed(f);
}

static int
add_watch(struct files *f)
{
	f->wd = inotify_add_watch(f->ifd, f->dir, WATCH_MASK);
	return f->wd < 0 ? -errno : 0;
}

static void
on_rewatch(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct files *f = w->data;

	(void)revents;
	if (add_watch(f) < 0)
		return;
	ev_timer_stop(loop, w);
	agent_log("info", "msg=\"watching manifests again\" dir=%s", f->dir);
	rescan(f);
}

static void
on_inotify(struct ev_loop *loop, ev_io *w, int revents)
{
	struct files *f = w->data;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct npd_map dirty;
	bool full = false, gone = false;
	size_t it = 0;
	const char *name;
	void *v;
	ssize_t n;

	(void)revents;
	npd_map_init(&dirty);
	while ((n = read(f->ifd, buf, sizeof(buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				full = true;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
				gone = true;
			if (!ev->len || ev->wd != f->wd)
				continue;
			if (strcmp(ev->name, "..data") == 0) {
				full = true;
				continue;
			}
			if (!wanted(f, ev->name))
				continue;
			if (ev->mask & IN_CREATE) {
				char *path = npd_xasprintf("%s/%s", f->dir, ev->name);
				struct stat st;

				/* A new regular file is loaded once written (IN_CLOSE_WRITE);
				 * a symlink is complete as soon as it exists. */
				if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
					npd_map_set(&dirty, ev->name, f);
				free(path);
			}
			if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE))
				npd_map_set(&dirty, ev->name, f);
		}
	}
	if (gone) {
		agent_log("warn", "msg=\"manifests directory gone, keeping its objects\" dir=%s",
			  f->dir);
		inotify_rm_watch(f->ifd, f->wd);
		f->wd = -1;
		ev_timer_start(loop, &f->rewatch);
	} else if (full) {
		rescan(f);
	} else {
		while (npd_map_next(&dirty, &it, &name, &v))
			load_file(f, name);
		reload_shadowed(f);
	}
	npd_map_fini(&dirty);
}

int
files_start(struct npd_agent *a, const char *path, unsigned threads, struct files **out)
{
	struct files *f;
	struct stat st;
	char *copy;
	int rc;

	if (stat(path, &st) < 0)
		return -errno;
	f = npd_xcalloc(1, sizeof(*f));
	f->a = a;
	f->threads = threads;
	f->ifd = -1;
	f->wd = -1;
	npd_map_init(&f->files);
	npd_map_init(&f->owner);
	npd_map_init(&f->shared);
	npd_map_init(&f->reload);
	if (S_ISDIR(st.st_mode)) {
		f->dir = npd_xstrdup(path);
	} else {
		const char *slash;

		copy = npd_xstrdup(path);
		slash = strrchr(copy, '/');
		if (!slash) {
			f->dir = npd_xstrdup(".");
			f->only = copy;
		} else {
			f->only = npd_xstrdup(slash + 1);
			f->dir = slash == copy ? npd_xstrdup("/")
					       : npd_xstrndup(copy, (size_t)(slash - copy));
			free(copy);
		}
	}
	f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (f->ifd < 0) {
		rc = -errno;
		goto out;
	}
	/* Watch before the first read, so no change between the two is lost. */
	rc = add_watch(f);
	if (rc < 0)
		goto out;
	ev_io_init(&f->io, on_inotify, f->ifd, EV_READ);
	f->io.data = f;
	ev_io_start(agent_loop(a), &f->io);
	ev_timer_init(&f->rewatch, on_rewatch, 1., 1.);
	f->rewatch.data = f;
	agent_source_register(a, SOURCE_NAME);
	rescan(f);
	agent_source_ready(a, SOURCE_NAME);
	*out = f;
	return 0;
out:
	files_free(f);
	return rc;
}

void
files_free(struct files *f)
{
	size_t it = 0;
	const char *name;
	void *v;

	if (!f)
		return;
	if (f->ifd >= 0) {
		ev_io_stop(agent_loop(f->a), &f->io);
		ev_timer_stop(agent_loop(f->a), &f->rewatch);
		close(f->ifd);
	}
	while (npd_map_next(&f->files, &it, &name, &v)) {
		fs_free(v);
	}
	npd_map_fini(&f->files);
	npd_map_fini(&f->owner);
	npd_map_fini(&f->shared);
	npd_map_fini(&f->reload);
	free(f->dir);
	free(f->only);
	free(f);
}
