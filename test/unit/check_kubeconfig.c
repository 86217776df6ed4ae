/* check_kubeconfig.c: kubeconfig resolution (contexts, relative paths, inline base64
 * material, token files, refused auth methods) and the in-cluster config. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/kubeconfig.h"
#include "npd/mem.h"
#include "testutil.h"

static int
load(const char *fixture, const char *context, struct npd_kube_cfg *c, struct npd_diags *d)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s", tu_src_path(fixture));
	npd_kubeconfig_init(c);
	npd_diags_init(d);
	return npd_kubeconfig_load(path, context, c, d);
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

START_TEST(test_current_context_token_ca_file)
{
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(load("test/fixtures/kubeconfig/token.yaml", NULL, &c, &d), 0);
	ck_assert_str_eq(c.server, "https://127.0.0.1:6443");
	ck_assert_str_eq(c.context, "dev");
	ck_assert_str_eq(c.cluster, "lab");
	ck_assert_str_eq(c.user, "agent");
	ck_assert_str_eq(c.token, "sekret-token");
	ck_assert_ptr_null(c.token_file);
	ck_assert(!c.insecure);
	ck_assert_ptr_nonnull(c.ca_file);
	ck_assert(c.ca_file[0] == '/');
	ck_assert(ends_with(c.ca_file, "test/fixtures/kubeconfig/ca.pem"));
	ck_assert_uint_eq(c.ca.len, 0);
	ck_assert_uint_eq(d.n, 0);
	npd_kubeconfig_fini(&c);
	npd_diags_fini(&d);
}
END_TEST

START_TEST(test_named_context_exec_refused)
{
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(load("test/fixtures/kubeconfig/token.yaml", "prod", &c, &d), -ENOTSUP);
	ck_assert_ptr_null(c.server); /* out untouched on failure */
	ck_assert_uint_eq(d.n, 1);
	ck_assert_int_eq(d.v[0].kind, NPD_DIAG_UNSUPPORTED);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "user admin"));
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "exec"));
	ck_assert_str_eq(d.v[0].path, "users[admin].user");
	ck_assert_int_gt(d.v[0].line, 0);
	npd_diags_fini(&d);
}
END_TEST

START_TEST(test_unknown_context)
{
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(load("test/fixtures/kubeconfig/token.yaml", "nope", &c, &d), -EINVAL);
	ck_assert_uint_eq(d.n, 1);
	ck_assert_ptr_nonnull(strstr(d.v[0].msg, "nope"));
	npd_diags_fini(&d);
}
END_TEST

START_TEST(test_inline_data)
{
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(load("test/fixtures/kubeconfig/data.yaml", NULL, &c, &d), 0);
	ck_assert_str_eq(c.server, "https://[::1]:8443");
	ck_assert_ptr_null(c.ca_file);
	ck_assert_str_eq((const char *)c.ca.data,
			 "-----BEGIN CERTIFICATE-----\nDATACA\n-----END CERTIFICATE-----\n");
	ck_assert_uint_eq(c.ca.len, strlen((const char *)c.ca.data));
	ck_assert_str_eq((const char *)c.cert.data,
			 "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n");
	ck_assert_str_eq((const char *)c.key.data,
			 "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n");
	ck_assert_ptr_null(c.token); /* token: "" means none */
	npd_kubeconfig_fini(&c);
	npd_diags_fini(&d);
}
END_TEST

START_TEST(test_token_file_wins_and_insecure)
{
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(load("test/fixtures/kubeconfig/tokenfile.yaml", NULL, &c, &d), 0);
	ck_assert_str_eq(c.token, "tok-from-file");
	ck_assert(ends_with(c.token_file, "test/fixtures/kubeconfig/token.txt"));
	ck_assert(c.insecure);
	npd_kubeconfig_fini(&c);
	npd_diags_fini(&d);
}
END_TEST

/* insecure-skip-tls-verify is a YAML 1.1 boolean, as kubectl reads it; anything else is
 * false, so TLS stays verified. */
START_TEST(test_insecure_spellings)
{
	static const struct {
		const char *v;
		bool insecure;
	} cases[] = {{"true", true},   {"yes", true}, {"On", true},    {"Y", true},
		     {"false", false}, {"no", false}, {"maybe", false}};
	struct npd_kube_cfg c;
	struct npd_diags d;
	char text[512], *path;
	size_t i;
	int n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = snprintf(
		    text, sizeof(text),
		    "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
		    "clusters:\n- name: k\n  cluster:\n    server: https://127.0.0.1:6443\n"
		    "    insecure-skip-tls-verify: %s\n"
		    "contexts:\n- name: c\n  context: {cluster: k, user: u}\n"
		    "users:\n- name: u\n  user: {token: t}\n",
		    cases[i].v);
		path = tu_tmp_file(text, (size_t)n, 0);
		npd_kubeconfig_init(&c);
		npd_diags_init(&d);
		ck_assert_int_eq(npd_kubeconfig_load(path, NULL, &c, &d), 0);
		ck_assert_msg(c.insecure == cases[i].insecure, "%s", cases[i].v);
		npd_kubeconfig_fini(&c);
		npd_diags_fini(&d);
		unlink(path);
		free(path);
	}
}
END_TEST

/* Token and kubeconfig files go through one capped reader: a huge file is refused. */
START_TEST(test_oversized_files_refused)
{
	char *path = tu_tmp_file("tok", 3, (size_t)17 << 20), *tok = NULL;
	struct npd_kube_cfg c;
	struct npd_diags d;

	ck_assert_int_eq(npd_kubeconfig_read_token(path, &tok), -EFBIG);
	ck_assert_ptr_null(tok);
	npd_kubeconfig_init(&c);
	npd_diags_init(&d);
	ck_assert_int_lt(npd_kubeconfig_load(path, NULL, &c, &d), 0);
	npd_kubeconfig_fini(&c);
	npd_diags_fini(&d);
	unlink(path);
	free(path);
}
END_TEST

START_TEST(test_refused_auth)
{
	static const struct {
		const char *file, *user, *what;
	} cases[] = {
	    {"test/fixtures/kubeconfig/authprovider.yaml", "gke-user", "auth-provider"},
	    {"test/fixtures/kubeconfig/basic.yaml", "basic-user", "username"},
	};
	struct npd_kube_cfg c;
	struct npd_diags d;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++) {
		ck_assert_int_eq(load(cases[i].file, NULL, &c, &d), -ENOTSUP);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_ptr_nonnull(strstr(d.v[0].msg, cases[i].user));
		ck_assert_ptr_nonnull(strstr(d.v[0].msg, cases[i].what));
		npd_diags_fini(&d);
	}
}
END_TEST

START_TEST(test_bad_inputs)
{
	static const struct {
		const char *file;
		int err;
		enum npd_diag_kind kind;
	} cases[] = {
	    {"test/fixtures/kubeconfig/certnokey.yaml", -EINVAL, NPD_DIAG_VALUE},
	    {"test/fixtures/kubeconfig/badb64.yaml", -EINVAL, NPD_DIAG_VALUE},
	    {"test/fixtures/kubeconfig/malformed.yaml", -EINVAL, NPD_DIAG_SYNTAX},
	    {"test/fixtures/kubeconfig/nocontext.yaml", -EINVAL, NPD_DIAG_VALUE},
	    {"test/fixtures/kubeconfig/does-not-exist.yaml", -ENOENT, NPD_DIAG_VALUE},
	};
	struct npd_kube_cfg c;
	struct npd_diags d;
	size_t i;

	for (i = 0; i < NPD_ARRAY_SIZE(cases); i++) {
		ck_assert_msg(load(cases[i].file, NULL, &c, &d) == cases[i].err, "%s",
			      cases[i].file);
		ck_assert_uint_eq(d.n, 1);
		ck_assert_int_eq(d.v[0].kind, cases[i].kind);
		ck_assert_ptr_nonnull(d.v[0].file);
		npd_diags_fini(&d);
	}
}
END_TEST

START_TEST(test_in_cluster)
{
	char sa[4096];
	struct npd_kube_cfg c;
	struct npd_diags d;

	snprintf(sa, sizeof(sa), "%s", tu_src_path("test/fixtures/kubeconfig/sa"));
	npd_diags_init(&d);
	npd_kubeconfig_init(&c);
	unsetenv("KUBERNETES_SERVICE_HOST");
	ck_assert_int_eq(npd_kubeconfig_in_cluster(sa, &c, &d), -ENOENT);

	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	ck_assert_int_eq(npd_kubeconfig_in_cluster(sa, &c, &d), 0);
	ck_assert_str_eq(c.server, "https://10.96.0.1:443");
	ck_assert_str_eq(c.token, "sa-token-1");
	ck_assert(ends_with(c.token_file, "/sa/token"));
	ck_assert(ends_with(c.ca_file, "/sa/ca.crt"));
	ck_assert(!c.insecure);
	npd_kubeconfig_fini(&c);

	/* An IPv6 host is bracketed. */
	setenv("KUBERNETES_SERVICE_HOST", "fd00:10:96::1", 1);
	ck_assert_int_eq(npd_kubeconfig_in_cluster(sa, &c, &d), 0);
	ck_assert_str_eq(c.server, "https://[fd00:10:96::1]:443");
	npd_kubeconfig_fini(&c);

	/* A test build takes the directory from the environment too; a release build never. */
	setenv("NPD_SA_DIR", sa, 1);
#ifdef NPD_TEST_HOOKS
	ck_assert_int_eq(npd_kubeconfig_in_cluster(NULL, &c, &d), 0);
	ck_assert(ends_with(c.token_file, "/sa/token"));
	npd_kubeconfig_fini(&c);
#else
	ck_assert_int_ne(npd_kubeconfig_in_cluster(NULL, &c, &d), 0);
#endif
	unsetenv("NPD_SA_DIR");

	ck_assert_int_eq(npd_kubeconfig_in_cluster("/nonexistent", &c, &d), -ENOENT);
	npd_diags_fini(&d);
}
END_TEST

START_TEST(test_read_token)
{
	char *tok = NULL;

	ck_assert_int_eq(
	    npd_kubeconfig_read_token(tu_src_path("test/fixtures/kubeconfig/token.txt"), &tok), 0);
	ck_assert_str_eq(tok, "tok-from-file");
	free(tok);
	ck_assert_int_eq(npd_kubeconfig_read_token("/nonexistent/token", &tok), -ENOENT);
}
END_TEST

TU_MAIN("kubeconfig", test_current_context_token_ca_file, test_named_context_exec_refused,
	test_unknown_context, test_inline_data, test_token_file_wins_and_insecure,
	test_insecure_spellings, test_oversized_files_refused, test_refused_auth, test_bad_inputs,
	test_in_cluster, test_read_token)
