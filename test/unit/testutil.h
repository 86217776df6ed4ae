/* testutil.h: small fixture builders shared by the check suites. */
#ifndef NPD_TESTUTIL_H
#define NPD_TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <check.h>

#include "npd/compile.h"
#include "npd/diag.h"
#include "npd/json.h"
#include "npd/model.h"
#include "npd/store.h"
#include "npd/store.h"

/* "app=web,tier=db" -> labels (caller finalizes). */
void tu_labels(struct npd_labels *l, const char *spec);
/* A pod with labels spec, one or more IPs separated by commas, on node (may be NULL). */
struct npd_pod *tu_pod(const char *ns, const char *name, const char *labels, const char *ips,
		       const char *node);
struct npd_namespace *tu_ns(const char *name, const char *labels);
/* NULL: the selector is absent (left zeroed); "": present and empty ({}); else matchLabels. */
void tu_sel(struct npd_selector *s, const char *labels);
/* A policy (uid "uid-NS-NAME") selecting pod_sel, isolating ingress and/or egress. */
struct npd_policy *tu_policy(const char *ns, const char *name, const char *pod_sel, bool ing,
			     bool egr);
/* Appends an empty ingress (or egress) rule to p. */
struct npd_policy_rule *tu_rule(struct npd_policy *p, bool egress);
/* Appends a zeroed peer of kind to r. */
struct npd_peer *tu_peer(struct npd_policy_rule *r, enum npd_peer_kind kind);
/* A selector peer; ns_sel and pod_sel as for tu_sel. */
void tu_peer_sel(struct npd_policy_rule *r, const char *ns_sel, const char *pod_sel);
/* An ipBlock peer; excepts: NULL or CIDRs separated by spaces. */
void tu_peer_block(struct npd_policy_rule *r, const char *cidr, const char *excepts);
/* A port of r: number port (0: none) up to end (0: no endPort), or named port name. */
void tu_port(struct npd_policy_rule *r, enum npd_proto proto, uint16_t port, uint16_t end,
	     const char *name);
/* A named container port of pod. */
void tu_pod_port(struct npd_pod *pod, const char *name, enum npd_proto proto, uint16_t port);
/* Events a decoder handed to tu_collect (ctx: struct tu_events *), owned. */
struct tu_events {
	struct npd_event *v;
	size_t n, cap;
};
void tu_collect(struct npd_event *ev, void *ctx);
void tu_events_fini(struct tu_events *e);
/* What a JSON decoder made of one input (tu_json_run), owned. */
struct tu_json_run {
	struct tu_events got;
	struct npd_diags diags;
	int feed_rc, finish_rc; /* feed_rc: the first failure of a feed */
	size_t n_events, n_bad;
	size_t n_fast; /* list items the fast path took */
	char *list_rv, *list_continue, *reason;
	int status;
};
/* Decodes len bytes of buf fed in chunks of step bytes (0: whole), with the byte bound max
 * (0: the default), into r. */
void tu_json_run(struct tu_json_run *r, enum npd_json_mode mode, enum npd_kind kind,
		 const char *buf, size_t len, size_t step, size_t max);
void tu_json_run_fini(struct tu_json_run *r);
/* A small cluster for the drop log and explain suites: frontend/api (10.244.1.10),
 * frontend/app (10.244.2.10, fd00::10), frontend/tool (10.244.1.11), backend/db
 * (10.244.2.20, fd00::20); backend/db-policy isolates db for ingress (rule 0: 192.0.2.0/24
 * any port, rule 1: frontend/api on 80/TCP), backend/db-extra isolates every backend pod for
 * ingress admitting nothing, frontend/app-egress isolates app for egress. Owned. */
struct npd_store *tu_store_frontend_backend(void);
/* Reads a file under $NPD_SRC_DIR (or the source dir baked in) into a new string. */
char *tu_read_file(const char *relpath, size_t *len);
/* Absolute path of a file under the source tree (static buffer). */
const char *tu_src_path(const char *relpath);
/* A new temporary file holding len bytes of data, then zeros up to size (when larger).
 * Returns its path (owned); the caller unlinks it. */
char *tu_tmp_file(const void *data, size_t len, size_t size);
/* The ruleset compiled from s for node "node1" (owned); the test fails if compile does. */
struct npd_ruleset *tu_compile(const struct npd_store *s);
/* Appends to c the rate-limited NFLOG rule (group 100, 10/s burst 20) of packets without
 * mark 0x10000 that netpold's chains end with, logging prefix (borrowed, copied). */
void tu_add_nflog(struct npd_chain *c, const char *prefix);
/* The first diagnostic of d with this field path and object name (NULL: any), or NULL. */
const struct npd_diag *tu_diag_find(const struct npd_diags *d, const char *path, const char *name);
/* Seeds rand() from $NPD_SEED, else the clock, and prints "what: seed N (NPD_SEED=N
 * replays)" so a failing random run can be replayed. Returns the seed. */
unsigned tu_seed(const char *what);
/* Runs every test of s, frees it; returns the exit status for main (0: all passed). */
int tu_run(Suite *s);
/* A new suite called name with one test case, tcase, holding tests (NULL-terminated). */
Suite *tu_suite(const char *name, const char *tcase, const TTest *const *tests);
/* Adds to s a test case, tcase, holding tests (NULL-terminated). */
void tu_suite_add(Suite *s, const char *tcase, const TTest *const *tests);
/* Runs the NULL-terminated tests as one suite named name; the exit status as tu_run. */
int tu_main(const char *name, const TTest *const *tests);
/* As tu_main, but extra (may be NULL) first adds what a plain list cannot say to the test
 * case: loop tests, a timeout. */
int tu_main_with(const char *name, void (*extra)(TCase *tc), const TTest *const *tests);
/* A suite's whole main: TU_MAIN("store", test_a, test_b, ...), one test case. */
#define TU_MAIN(name, ...)                                                                         \
	int main(void)                                                                             \
	{                                                                                          \
		const TTest *tu_tests_[] = {__VA_ARGS__, NULL};                                    \
		return tu_main(name, tu_tests_);                                                   \
	}
/* As TU_MAIN, with extra(tc) adding loop tests or a timeout to the one test case. */
#define TU_MAIN_WITH(name, extra, ...)                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		const TTest *tu_tests_[] = {__VA_ARGS__, NULL};                                    \
		return tu_main_with(name, extra, tu_tests_);                                       \
	}

#endif
