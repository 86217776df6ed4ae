/* ipset.c: the set backend for npd- ipsets through libipset, used beside either table
 * backend (legacy, nft). Each operation is one `ipset restore`-style script run in one
 * fresh libipset session, so add/del lines are batched into few netlink messages and no
 * session option leaks from one operation into the next. libipset's own printing is
 * captured, never written to stdout or stderr; failures come back as -errno with
 * libipset's message (and the script line it names) in the caller's struct npd_err. Also
 * resolves set names to kernel indexes for the legacy backend's xt_set matches. Touches
 * only sets named npd-*. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libipset/ipset.h>
#include <libipset/linux_ip_set.h>

#include "npd/buf.h"
#include "npd/hash.h"
#include "npd/map.h"
#include "npd/mem.h"
#include "ipset_int.h"

/* What one script run collected: the printed output and the first error. */
struct run {
	struct npd_buf out;
	char err[256];
	int status; /* 0: no error yet */
};

static int __attribute__((format(printf, 3, 4)))
on_print(struct ipset_session *session, void *p, const char *fmt, ...)
{
	struct run *r = p;
	va_list ap;

	(void)session;
	va_start(ap, fmt);
	npd_buf_vprintf(&r->out, fmt, ap);
	va_end(ap);
	return 0;
}

static void
record(struct run *r, int status, const char *msg)
{
	size_t n;

	if (r->status)
		return;
	r->status = status ? status : IPSET_OTHER_PROBLEM;
	snprintf(r->err, sizeof(r->err), "%s", msg);
	n = strlen(r->err);
	while (n && (r->err[n - 1] == '\n' || r->err[n - 1] == ' '))
		r->err[--n] = '\0';
}

static int __attribute__((format(printf, 4, 5)))
on_custom_error(struct ipset *ipset, void *p, int status, const char *msg, ...)
{
	struct run *r = p;
	struct ipset_session *session = ipset_session(ipset);
	char buf[256];
	va_list ap;

	if (status && msg) {
		va_start(ap, msg);
		vsnprintf(buf, sizeof(buf), msg, ap);
		va_end(ap);
		record(r, status, buf);
	}
	if (session)
		ipset_session_report_reset(session);
	return status ? -1 : 0;
}

static int
on_standard_error(struct ipset *ipset, void *p)
{
	struct run *r = p;
	struct ipset_session *session = ipset_session(ipset);

	/* Warnings (e.g. "set already exists" under -exist) are success. */
	if (ipset_session_report_type(session) == IPSET_ERROR)
		record(r, IPSET_SESSION_PROBLEM, ipset_session_report_msg(session));
	ipset_session_report_reset(session);
	return -1;
}

/* Maps libipset's message (it keeps no errno) to the closest errno. */
static int
err_to_errno(const char *msg)
{
	if (strstr(msg, "does not exist"))
		return -ENOENT;
	if (strstr(msg, "in use") || strstr(msg, "busy"))
		return -EBUSY;
	if (strstr(msg, "already exists") || strstr(msg, "already added"))
		return -EEXIST;
	if (strstr(msg, "permitted") || strstr(msg, "ermission"))
		return -EPERM;
	if (strstr(msg, "is full"))
		return -ENOSPC;
	if (strstr(msg, "Syntax error") || strstr(msg, "ncompatible") || strstr(msg, "nknown"))
		return -EINVAL;
	return -EIO;
}

static void
load_types(void)
{
	static int loaded;

	if (!loaded) {
		ipset_load_types();
		loaded = 1;
	}
}

/* Fills err from libipset's message, quoting the script line it names ("Error in line N:
 * ..."), since the message alone does not say which set or entry failed. */
static void
report(const struct npd_buf *script, const char *msg, int code, struct npd_err *err)
{
	const char *p = strstr(msg, "Error in line "), *line = script->data, *nl;
	unsigned long n, i;

	if (!p) {
		npd_err_set(err, code, "ipset: %s", msg);
		return;
	}
	n = strtoul(p + 14, NULL, 10);
	for (i = 1; line && i < n; i++) {
		nl = strchr(line, '\n');
		line = nl ? nl + 1 : NULL;
	}
	if (!line || !n) {
		npd_err_set(err, code, "ipset: %s", msg);
		return;
	}
	npd_err_set(err, code, "ipset: %s [%.*s]", msg, (int)strcspn(line, "\n"), line);
}

/* Runs script (one command a line) in one session; output captured into *out when
 * non-NULL. Returns 0, or -errno with the first error in err. */
static int
run_script(struct npd_buf *script, struct npd_buf *out, struct npd_err *err)
{
	struct run r = {.status = 0};
	struct ipset *ipset = NULL;
	FILE *f = NULL;
	int rc = 0;

	load_types();
	npd_buf_init(&r.out);
	if (!script->len)
		goto out;
	ipset = ipset_init();
	if (!ipset) {
		rc = npd_err_set(err, -ENOMEM, "ipset: cannot open a netlink session");
		goto out;
	}
	ipset_custom_printf(ipset, on_custom_error, on_standard_error, on_print, &r);
	f = fmemopen(script->data, script->len, "r");
	if (!f) {
		rc = npd_err_set(err, -errno, "ipset: fmemopen: %s", strerror(errno));
		goto out;
	}
	ipset_parse_stream(ipset, f);
	if (r.status) {
		rc = err_to_errno(r.err);
		report(script, r.err, rc, err);
		goto out;
	}
	if (out)
		npd_buf_add(out, r.out.data ? r.out.data : "", r.out.len);
out:
	if (f)
		fclose(f);
	if (ipset)
		ipset_fini(ipset);
	npd_buf_fini(&r.out);
	return rc;
}

int
npd_ipset_run(struct npd_buf *script, struct npd_buf *out, struct npd_err *err)
{
	return run_script(script, out, err);
}

size_t
npd_ipset_maxelem(size_t n)
{
	size_t maxelem = NPD_IPSET_MIN_MAXELEM;

	while (maxelem < n * 2)
		maxelem *= 2;
	return maxelem;
}

static void
add_create_line(struct npd_buf *s, const char *name, const struct npd_set *set)
{
	npd_buf_printf(s, "create %s %s family %s maxelem %zu%s -exist\n", name,
		       npd_set_type_name(set->type), set->family == AF_INET6 ? "inet6" : "inet",
		       npd_ipset_maxelem(set->n_entries), set->counters ? " counters" : "");
}

/* carry: NULL, or the counters (uint64_t[2]) to give an entry, by its text. */
static void
add_entry_lines(struct npd_buf *s, const char *verb, const char *name, const struct npd_set *set,
		const struct npd_set_entry *e, size_t n, const struct npd_map *carry)
{
	const uint64_t *v;
	size_t i, at;

	for (i = 0; i < n; i++) {
		npd_buf_printf(s, "%s %s ", verb, name);
		at = s->len;
		npd_set_entry_format(set, &e[i], s);
		v = carry ? npd_map_get(carry, s->data + at) : NULL;
		if (v)
			npd_buf_printf(s, " packets %llu bytes %llu", (unsigned long long)v[0],
				       (unsigned long long)v[1]);
		npd_buf_adds(s, " -exist\n");
	}
}

static bool
set_exists(const char *name)
{
	struct npd_buf s, out;
	int rc;

	npd_buf_init(&s);
	npd_buf_init(&out);
	npd_buf_printf(&s, "list %s -name\n", name);
	rc = run_script(&s, &out, NULL);
	npd_buf_fini(&out);
	npd_buf_fini(&s);
	return rc == 0;
}

/* The temporary twin of a set: same prefix, stable for a name, <= 31 characters. */
static void
tmp_name(const char *name, char tmp[NPD_SET_NAMELEN])
{
	snprintf(tmp, NPD_SET_NAMELEN, "npd-tmp-%016llx",
		 (unsigned long long)npd_hash64s(name, NPD_HASH_SEED));
}

static int ipset_destroy(const char *name, struct npd_err *err);

/* carry: as add_entry_lines's, for the twin of a live set. */
static int
ipset_create(const struct npd_set *set, const struct npd_map *carry, struct npd_err *err)
{
	char tmp[NPD_SET_NAMELEN];
	struct npd_buf s;
	int rc;

	npd_buf_init(&s);
	if (!set_exists(set->name)) {
		add_create_line(&s, set->name, set);
		add_entry_lines(&s, "add", set->name, set, set->entries, set->n_entries, NULL);
		rc = run_script(&s, NULL, err);
		goto out;
	}
	/* A live set referenced by rules must never be seen empty: fill a twin, swap. A
	 * leftover twin of an interrupted run is destroyed first (its error ignored). */
	tmp_name(set->name, tmp);
	if (set_exists(tmp))
		ipset_destroy(tmp, NULL);
	add_create_line(&s, tmp, set);
	add_entry_lines(&s, "add", tmp, set, set->entries, set->n_entries, carry);
	npd_buf_printf(&s, "swap %s %s\ndestroy %s\n", tmp, set->name, tmp);
	rc = run_script(&s, NULL, err);
out:
	npd_buf_fini(&s);
	return rc;
}

/* Counters of a live counted set's entries, by entry text. */
struct carried {
	const struct npd_set *set;
	struct npd_map counts; /* -> uint64_t[2] packets, bytes (owned) */
	struct npd_buf key;
};

static void
carry_one(const char *name, const struct npd_set_entry *e, uint64_t packets, uint64_t bytes,
	  void *ctx)
{
	struct carried *c = ctx;
	uint64_t *v = npd_xmalloc(2 * sizeof(*v));

	(void)name;
	v[0] = packets;
	v[1] = bytes;
	npd_buf_reset(&c->key);
	npd_set_entry_format(c->set, e, &c->key);
	free(npd_map_set(&c->counts, c->key.data, v));
}

/* An update done by swapping a twin in. Unlike a re-creation it must not restart what a
 * counted set's entries counted, so the twin's entries are given the live ones' counters
 * (packets counted between the reading and the swap are lost); a set whose counters cannot
 * be read gets fresh ones. */
static int
ipset_rebuild(const struct npd_set *set, struct npd_err *err)
{
	struct carried c = {.set = set};
	int rc;

	if (!set->counters)
		return ipset_create(set, NULL, err);
	npd_map_init(&c.counts);
	npd_buf_init(&c.key);
	if (npd_ipset_read_counters(set->name, carry_one, &c, NULL))
		npd_map_clear(&c.counts, free);
	rc = ipset_create(set, &c.counts, err);
	npd_map_clear(&c.counts, free);
	npd_map_fini(&c.counts);
	npd_buf_fini(&c.key);
	return rc;
}

static int
ipset_update(const struct npd_set_op *op, struct npd_err *err)
{
	struct npd_buf s;
	int rc;

	if (op->set && op->n_add + op->n_del > NPD_IPSET_SWAP_THRESHOLD)
		return ipset_rebuild(op->set, err);
	/* Grown past the room it was created with (sized for its count then, which only a
	 * re-creation changes): a bigger twin swapped in, never an add the kernel refuses. */
	if (op->set && op->set->n_entries + op->n_del >= op->n_add &&
	    npd_ipset_maxelem(op->set->n_entries) >
		npd_ipset_maxelem(op->set->n_entries + op->n_del - op->n_add))
		return ipset_rebuild(op->set, err);
	if (!op->set)
		return npd_err_set(err, -EINVAL, "ipset: update of %s without its set", op->name);
	npd_buf_init(&s);
	add_entry_lines(&s, "add", op->set->name, op->set, op->add, op->n_add, NULL);
	add_entry_lines(&s, "del", op->set->name, op->set, op->del, op->n_del, NULL);
	rc = run_script(&s, NULL, err);
	npd_buf_fini(&s);
	return rc;
}

static int
ipset_destroy(const char *name, struct npd_err *err)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 50 * 1000 * 1000};
	struct npd_buf s;
	int rc, i;

	npd_buf_init(&s);
	npd_buf_printf(&s, "destroy %s\n", name);
	/* nf_tables releases the set references of deleted rules from a work queue after the
	 * commit returns, so a destroy right after may still find the set in use. */
	for (i = 0; i < 40; i++) {
		rc = run_script(&s, NULL, err);
		if (rc != -EBUSY)
			break;
		nanosleep(&ts, NULL);
	}
	if (rc == -ENOENT) {
		npd_err_clear(err);
		rc = 0;
	}
	npd_buf_fini(&s);
	return rc;
}

static int
ipset_list(struct npd_owned *out, struct npd_err *err)
{
	struct npd_buf s, text;
	int rc;

	npd_buf_init(&s);
	npd_buf_init(&text);
	npd_buf_adds(&s, "list -terse\n");
	rc = run_script(&s, &text, err);
	if (rc == 0 && text.data)
		npd_ipset_parse_terse(text.data, out);
	npd_buf_fini(&text);
	npd_buf_fini(&s);
	return rc;
}

static int
ipset_destroy_all(struct npd_err *err)
{
	struct npd_owned o = {0};
	struct npd_err one;
	size_t i;
	int rc, first = 0;

	rc = ipset_list(&o, err);
	if (rc)
		goto out;
	/* Every set is tried; the first failure is the one reported. */
	for (i = 0; i < o.n_sets; i++) {
		rc = ipset_destroy(o.sets[i].name, &one);
		if (rc && !first) {
			first = rc;
			if (err)
				*err = one;
		}
	}
	rc = first;
out:
	npd_owned_fini(&o);
	return rc;
}

void
npd_ipset_lookup_init(struct npd_ipset_lookup *l)
{
	l->fd = -1;
	l->version = 0;
}

void
npd_ipset_lookup_fini(struct npd_ipset_lookup *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

int
npd_ipset_lookup_index(struct npd_ipset_lookup *l, const char *name, uint16_t *index,
		       struct npd_err *err)
{
	struct ip_set_req_get_set req;
	socklen_t len;

	if (l->fd < 0) {
		struct ip_set_req_version ver = {.op = IP_SET_OP_VERSION};
		int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);

		if (fd < 0)
			return npd_err_set(err, -errno, "ipset: raw socket: %s", strerror(errno));
		len = sizeof(ver);
		if (getsockopt(fd, SOL_IP, SO_IP_SET, &ver, &len) < 0) {
			int rc = npd_err_set(err, -errno, "ipset: kernel version query: %s",
					     strerror(errno));

			close(fd);
			return rc;
		}
		l->fd = fd;
		l->version = ver.version;
	}
	memset(&req, 0, sizeof(req));
	req.op = IP_SET_OP_GET_BYNAME;
	req.version = l->version;
	snprintf(req.set.name, sizeof(req.set.name), "%s", name);
	len = sizeof(req);
	if (getsockopt(l->fd, SOL_IP, SO_IP_SET, &req, &len) < 0)
		return npd_err_set(err, -errno, "ipset: lookup of %s: %s", name, strerror(errno));
	if (req.set.index == IPSET_INVALID_ID)
		return npd_err_set(err, -ENOENT, "ipset: set %s does not exist", name);
	*index = req.set.index;
	return 0;
}

/* ---- ops: the libipset session is per operation, so the handle holds nothing ---- */

struct npd_set_backend {
	char unused;
};

static int
op_open(const struct npd_backend_opts *opts, struct npd_set_backend **out, struct npd_err *err)
{
	(void)opts;
	(void)err;
	*out = npd_xcalloc(1, sizeof(**out));
	return 0;
}

static void
op_close(struct npd_set_backend *b)
{
	free(b);
}

static int
op_create(struct npd_set_backend *b, const struct npd_set *set, struct npd_err *err)
{
	(void)b;
	return ipset_create(set, NULL, err);
}

static int
op_update(struct npd_set_backend *b, const struct npd_set_op *op, struct npd_err *err)
{
	(void)b;
	return ipset_update(op, err);
}

static int
op_destroy(struct npd_set_backend *b, const char *name, struct npd_err *err)
{
	(void)b;
	return ipset_destroy(name, err);
}

static int
op_list_owned(struct npd_set_backend *b, struct npd_owned *out, struct npd_err *err)
{
	(void)b;
	return ipset_list(out, err);
}

static int
op_cleanup(struct npd_set_backend *b, struct npd_err *err)
{
	(void)b;
	return ipset_destroy_all(err);
}

static int
op_read_counters(struct npd_set_backend *b, const char *name, npd_set_counter_fn fn, void *ctx,
		 struct npd_err *err)
{
	(void)b;
	return npd_ipset_read_counters(name, fn, ctx, err);
}

const struct npd_set_backend_ops npd_set_backend_ipset = {
    .name = "ipset",
    .open = op_open,
    .close = op_close,
    .create = op_create,
    .update = op_update,
    .destroy = op_destroy,
    .list_owned = op_list_owned,
    .cleanup = op_cleanup,
    .read_counters = op_read_counters,
};
