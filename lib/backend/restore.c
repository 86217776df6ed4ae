/* restore.c: the "nft" backend for hosts whose iptables is nf_tables-based, where libiptc
 * cannot be used. It reads the filter table with iptables-nft-save, writes one
 * iptables-nft-restore --noflush transaction per family (atomic in nf_tables), and runs
 * both tools through spawn.c, never through a shell. Like the legacy backend it declares,
 * flushes and refills only NPD- chains, and changes hooks in built-in chains only when
 * they are not already exactly what is desired. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "spawn.h"
#include "xt_common.h"

#define DEFAULT_RETRIES 5

struct npd_backend {
	struct npd_backend_opts opts;
	char *restore[2]; /* [0] v4, [1] v6 */
	char *save[2];
};

/* One rule line of a save dump: "-A CHAIN SPEC" with optional "[p:b] " counters. */
struct saved_rule {
	char chain[32];
	char *spec; /* owned: everything after "-A CHAIN " */
	char target[32];
	uint64_t packets, bytes;
};

struct saved {
	char (*chains)[32]; /* every chain of the table, in dump order */
	size_t n_chains, cap_chains;
	struct saved_rule *rules;
	size_t n_rules, cap_rules;
};

static void
saved_fini(struct saved *s)
{
	size_t i;

	for (i = 0; i < s->n_rules; i++)
		free(s->rules[i].spec);
	free(s->rules);
	free(s->chains);
	memset(s, 0, sizeof(*s));
}

static bool
saved_has_chain(const struct saved *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_chains; i++)
		if (!strcmp(s->chains[i], name))
			return true;
	return false;
}

/* Copies the blank-delimited word at p into out. */
static void
copy_word(const char *p, char *out, size_t len)
{
	size_t n = strcspn(p, " \t\n");

	if (n >= len)
		n = len - 1;
	memcpy(out, p, n);
	out[n] = '\0';
}

static void
parse_line(struct saved *s, const char *line, size_t len)
{
	char *copy = npd_xstrndup(line, len), *p = copy, *j;
	struct saved_rule *r;

	if (*p == ':') {
		npd_xgrow(&s->chains, &s->cap_chains, s->n_chains + 1, sizeof(*s->chains));
		copy_word(p + 1, s->chains[s->n_chains++], sizeof(*s->chains));
		goto out;
	}
	npd_xgrow(&s->rules, &s->cap_rules, s->n_rules + 1, sizeof(*s->rules));
	r = &s->rules[s->n_rules];
	memset(r, 0, sizeof(*r));
	if (*p == '[') {
		unsigned long long pk = 0, by = 0;

		if (sscanf(p, "[%llu:%llu]", &pk, &by) == 2) {
			r->packets = pk;
			r->bytes = by;
		}
		p = strchr(p, ']');
		if (!p)
			goto out;
		p++;
		while (*p == ' ')
			p++;
	}
	if (strncmp(p, "-A ", 3))
		goto out;
	p += 3;
	copy_word(p, r->chain, sizeof(r->chain));
	p += strcspn(p, " ");
	while (*p == ' ')
		p++;
	r->spec = npd_xstrdup(p);
	j = strstr(p, "-j ");
	if (j && (j == p || j[-1] == ' '))
		copy_word(j + 3, r->target, sizeof(r->target));
	s->n_rules++;
out:
	free(copy);
}

static void
parse_save(const char *text, struct saved *s)
{
	const char *line = text, *nl;

	while (line && *line) {
		nl = strchr(line, '\n');
		parse_line(s, line, nl ? (size_t)(nl - line) : strlen(line));
		line = nl ? nl + 1 : NULL;
	}
}

/* Runs argv with stdin from `in` (may be NULL) and stdout into *out (may be NULL); the
 * tool's stderr becomes the error message. Returns 0 or -errno (-EIO: non-zero exit). */
static int
run(char *const argv[], const struct npd_buf *in, struct npd_buf *out, struct npd_err *err)
{
	struct npd_buf text;
	int rc, status;

	npd_buf_init(&text);
	rc = npd_spawn(argv, in, out, &text, &status);
	if (rc && status < 0)
		npd_err_set(err, rc, "%s: %s", argv[0], strerror(-rc));
	else if (rc)
		npd_err_set(err, rc, "%s exited with %d: %.200s", argv[0], status,
			    text.data ? text.data : "");
	npd_buf_fini(&text);
	return rc;
}

static int
fam_index(uint8_t family)
{
	return family == AF_INET6 ? 1 : 0;
}

static int
read_table(struct npd_backend *b, uint8_t family, bool counters, struct saved *s,
	   struct npd_err *err)
{
	char *argv[] = {b->save[fam_index(family)], (char *)(uintptr_t) "-t",
			(char *)(uintptr_t) "filter", counters ? (char *)(uintptr_t) "-c" : NULL,
			NULL};
	struct npd_buf out;
	int rc;

	npd_buf_init(&out);
	rc = run(argv, NULL, &out, err);
	if (rc == 0 && out.data)
		parse_save(out.data, s);
	npd_buf_fini(&out);
	return rc;
}

/* Reads a dump into t: the filter table's built-in chains (declared or not: nf_tables
 * creates them on first use) with their rules, and our chains with their rule counts. */
static void
read_view(const struct saved *s, uint8_t family, struct npd_xt_table *t)
{
	static const char *const builtins[] = {"INPUT", "FORWARD", "OUTPUT"};
	size_t i, j;

	npd_xt_table_init(t, family);
	for (i = 0; i < NPD_ARRAY_SIZE(builtins); i++) {
		struct npd_xt_chain *c = npd_xt_table_add_chain(t, builtins[i], true);

		for (j = 0; j < s->n_rules; j++) {
			const struct saved_rule *r = &s->rules[j];

			if (!strcmp(r->chain, builtins[i]))
				npd_xt_chain_add_rule(c, r->target, !strncmp(r->spec, "-j ", 3),
						      r->spec);
		}
	}
	for (i = 0; i < s->n_chains; i++) {
		struct npd_xt_chain *c;

		if (!npd_xt_is_ours(s->chains[i]))
			continue;
		c = npd_xt_table_add_chain(t, s->chains[i], false);
		for (j = 0; j < s->n_rules; j++)
			c->n_rules += !strcmp(s->rules[j].chain, s->chains[i]);
	}
}

/* Emits the -D/-I lines of the hook layouts for t and desired (NULL: no hooks). Deletion by
 * rule text, not number: a rule another writer inserted meanwhile cannot be hit, and a
 * vanished one fails the transaction, which is then redone from a fresh read. */
static void
emit_hooks(const struct npd_xt_table *t, const struct npd_table *desired, struct npd_buf *text)
{
	struct npd_hook_layout *layouts = NULL;
	size_t n, i, j;

	n = npd_xt_layout_hooks(t, desired, &layouts);
	for (i = 0; i < n; i++) {
		const struct npd_hook_layout *p = &layouts[i];
		const struct npd_xt_chain *c = npd_xt_table_find(t, p->builtin);

		for (j = 0; j < p->n_del; j++)
			npd_buf_printf(text, "-D %s %s\n", p->builtin, c->rules[p->del[j]].spec);
		for (j = p->n_ins; j-- > 0;)
			npd_buf_printf(text, "-I %s 1 -j %s\n", p->builtin, p->ins[j]);
	}
	npd_hook_layouts_free(layouts, n);
}

static void
build_commit(const struct saved *s, const struct npd_xt_table *t,
	     const struct npd_table_change *chg, struct npd_buf *text)
{
	size_t i, j;

	npd_buf_adds(text, "*filter\n");
	/* In --noflush mode declaring an existing user chain flushes it; -F says so. */
	for (i = 0; i < chg->n_write; i++)
		npd_buf_printf(text, ":%s - [0:0]\n", chg->write[i]->name);
	for (i = 0; i < chg->n_del; i++)
		if (saved_has_chain(s, chg->del[i]))
			npd_buf_printf(text, ":%s - [0:0]\n", chg->del[i]);
	for (i = 0; i < chg->n_write; i++)
		npd_buf_printf(text, "-F %s\n", chg->write[i]->name);
	for (i = 0; i < chg->n_write; i++) {
		const struct npd_chain *c = chg->write[i];

		for (j = 0; j < c->n_rules; j++) {
			npd_buf_printf(text, "-A %s ", c->name);
			npd_rule_format(&c->rules[j], chg->family, text);
			npd_buf_addc(text, '\n');
		}
	}
	if (chg->desired)
		emit_hooks(t, chg->desired, text);
	for (i = 0; i < chg->n_del; i++)
		if (saved_has_chain(s, chg->del[i]))
			npd_buf_printf(text, "-X %s\n", chg->del[i]);
	npd_buf_adds(text, "COMMIT\n");
}

static void
build_cleanup(const struct saved *s, const struct npd_xt_table *t, struct npd_buf *text)
{
	size_t i;

	npd_buf_adds(text, "*filter\n");
	for (i = 0; i < s->n_chains; i++)
		if (npd_xt_is_ours(s->chains[i]))
			npd_buf_printf(text, ":%s - [0:0]\n", s->chains[i]);
	emit_hooks(t, NULL, text);
	for (i = 0; i < s->n_chains; i++)
		if (npd_xt_is_ours(s->chains[i]))
			npd_buf_printf(text, "-X %s\n", s->chains[i]);
	npd_buf_adds(text, "COMMIT\n");
}

/* Reads the table, builds the transaction, feeds it to restore; a failed restore (e.g. a
 * -D of a hook another writer removed meanwhile) is redone from a fresh read. */
static int
transact(struct npd_backend *b, uint8_t family, const struct npd_table_change *chg,
	 struct npd_err *err)
{
	char *argv[] = {b->restore[fam_index(family)], (char *)(uintptr_t) "--noflush",
			(char *)(uintptr_t) "-w", (char *)(uintptr_t) "10", NULL};
	struct npd_buf text;
	struct saved s = {0};
	struct npd_xt_table t;
	unsigned attempt;
	int rc;

	npd_buf_init(&text);
	for (attempt = 0;; attempt++) {
		saved_fini(&s);
		npd_buf_reset(&text);
		rc = read_table(b, family, false, &s, err);
		if (rc)
			break;
		read_view(&s, family, &t);
		if (chg)
			build_commit(&s, &t, chg, &text);
		else if (npd_xt_has_ours(&t))
			build_cleanup(&s, &t, &text);
		npd_xt_table_fini(&t);
		if (!text.len)
			break; /* cleanup with nothing of ours */
		if (b->opts.before_commit)
			b->opts.before_commit(family, attempt, b->opts.before_commit_ctx);
		rc = run(argv, &text, NULL, err);
		if (rc != -EIO || attempt >= b->opts.commit_retries)
			break;
	}
	saved_fini(&s);
	npd_buf_fini(&text);
	return rc;
}

/* Resolves a tool name against PATH; NULL when not found. */
static char *
find_tool(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save = NULL, *found = NULL;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? npd_xstrdup(name) : NULL;
	copy = npd_xstrdup(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	for (dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *p = npd_xasprintf("%s/%s", dir, name);

		if (access(p, X_OK) == 0)
			found = p;
		else
			free(p);
	}
	if (!found && access(name, X_OK) != 0) {
		static const char *const sbin[] = {"/usr/sbin", "/sbin"};
		size_t i;

		for (i = 0; i < NPD_ARRAY_SIZE(sbin) && !found; i++) {
			char *p = npd_xasprintf("%s/%s", sbin[i], name);

			if (access(p, X_OK) == 0)
				found = p;
			else
				free(p);
		}
	}
	free(copy);
	return found;
}

static void
nft_close(struct npd_backend *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < 2; i++) {
		free(b->restore[i]);
		free(b->save[i]);
	}
	free(b);
}

static int
nft_open(const struct npd_backend_opts *opts, struct npd_backend **out, struct npd_err *err)
{
	struct npd_backend *b = npd_xcalloc(1, sizeof(*b));
	const char *names[4];
	char **slots[4] = {&b->restore[0], &b->restore[1], &b->save[0], &b->save[1]};
	size_t i;

	if (opts)
		b->opts = *opts;
	names[0] = b->opts.restore_v4 ? b->opts.restore_v4 : "iptables-nft-restore";
	names[1] = b->opts.restore_v6 ? b->opts.restore_v6 : "ip6tables-nft-restore";
	names[2] = b->opts.save_v4 ? b->opts.save_v4 : "iptables-nft-save";
	names[3] = b->opts.save_v6 ? b->opts.save_v6 : "ip6tables-nft-save";
	for (i = 0; i < 4; i++) {
		*slots[i] = find_tool(names[i]);
		if (!*slots[i]) {
			npd_err_set(err, -ENOENT, "%s: not found", names[i]);
			nft_close(b);
			return -ENOENT;
		}
	}
	b->opts.restore_v4 = b->opts.restore_v6 = b->opts.save_v4 = b->opts.save_v6 = NULL;
	b->opts.lock_path = NULL;
	if (!b->opts.commit_retries)
		b->opts.commit_retries = DEFAULT_RETRIES;
	*out = b;
	return 0;
}

static int
nft_commit(struct npd_backend *b, const struct npd_table_change *chg, struct npd_err *err)
{
	return transact(b, chg->family, chg, err);
}

static void
list_family(const struct saved *s, uint8_t family, struct npd_owned *o, size_t *cap)
{
	struct npd_xt_table t;

	read_view(s, family, &t);
	npd_xt_list_owned(&t, o, cap);
	npd_xt_table_fini(&t);
}

static int
nft_list_owned(struct npd_backend *b, struct npd_owned *out, struct npd_err *err)
{
	static const uint8_t families[] = {AF_INET, AF_INET6};
	size_t cap = out->n_chains, i;
	int rc = 0;

	for (i = 0; i < NPD_ARRAY_SIZE(families) && rc == 0; i++) {
		struct saved s = {0};

		rc = read_table(b, families[i], false, &s, err);
		if (rc == 0)
			list_family(&s, families[i], out, &cap);
		saved_fini(&s);
	}
	return rc;
}

static int
nft_cleanup(struct npd_backend *b, struct npd_err *err)
{
	int rc;

	rc = transact(b, AF_INET, NULL, err);
	if (rc == 0)
		rc = transact(b, AF_INET6, NULL, err);
	return rc;
}

static int
nft_read_counters(struct npd_backend *b, const struct npd_plan *only, npd_counter_fn fn, void *ctx,
		  struct npd_err *err)
{
	static const uint8_t families[] = {AF_INET, AF_INET6};
	size_t i, j, idx;
	int rc = 0;

	for (i = 0; i < NPD_ARRAY_SIZE(families) && rc == 0; i++) {
		struct saved s = {0};
		const char *prev = "";

		rc = read_table(b, families[i], true, &s, err);
		for (j = 0, idx = 0; rc == 0 && j < s.n_rules; j++) {
			const struct saved_rule *r = &s.rules[j];

			if (!npd_xt_is_ours(r->chain) ||
			    (only && !npd_plan_resets_chain(only, families[i], r->chain)))
				continue;
			if (strcmp(prev, r->chain))
				idx = 0;
			prev = r->chain;
			fn(families[i], r->chain, idx++, r->packets, r->bytes, ctx);
		}
		saved_fini(&s);
	}
	return rc;
}

const struct npd_backend_ops npd_backend_nft = {
    .name = "nft",
    .open = nft_open,
    .close = nft_close,
    .commit = nft_commit,
    .list_owned = nft_list_owned,
    .cleanup = nft_cleanup,
    .read_counters = nft_read_counters,
};
