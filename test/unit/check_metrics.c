/* check_metrics.c: the metric registry and its Prometheus text exposition. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/metrics.h"
#include "testutil.h"

static char *
format(const struct npd_metrics *m)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_metrics_format(m, &b);
	return b.data ? npd_buf_steal(&b) : npd_xstrdup("");
}

START_TEST(counters_and_gauges)
{
	struct npd_metrics *m = npd_metrics_new();
	char *t;

	npd_metrics_add(m, "netpold_syncs_total{result=\"ok\"}", 1);
	npd_metrics_add(m, "netpold_syncs_total{result=\"ok\"}", 2);
	npd_metrics_add(m, "netpold_syncs_total{result=\"error\"}", 1);
	npd_metrics_set(m, "netpold_ipsets", 7);
	npd_metrics_set(m, "netpold_ipsets", 5);
	npd_metrics_help(m, "netpold_ipsets", "Sets of ours in the kernel.");
	/* A clash of types within a family is ignored. */
	npd_metrics_set(m, "netpold_syncs_total{result=\"x\"}", 9);
	ck_assert_double_eq(npd_metrics_get(m, "netpold_syncs_total{result=\"ok\"}"), 3);
	ck_assert_double_eq(npd_metrics_get(m, "netpold_missing"), 0);
	t = format(m);
	ck_assert_str_eq(t, "# HELP netpold_ipsets Sets of ours in the kernel.\n"
			    "# TYPE netpold_ipsets gauge\n"
			    "netpold_ipsets 5\n"
			    "# TYPE netpold_syncs_total counter\n"
			    "netpold_syncs_total{result=\"error\"} 1\n"
			    "netpold_syncs_total{result=\"ok\"} 3\n");
	free(t);
	npd_metrics_free(m);
}
END_TEST

START_TEST(histogram)
{
	struct npd_metrics *m = npd_metrics_new();
	char *t;

	npd_metrics_observe(m, "d_seconds", 0.002);
	npd_metrics_observe(m, "d_seconds", 0.5);
	npd_metrics_observe(m, "d_seconds", 100);
	ck_assert_double_eq(npd_metrics_get(m, "d_seconds"), 3);
	t = format(m);
	ck_assert_ptr_nonnull(strstr(t, "# TYPE d_seconds histogram\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_bucket{le=\"0.001\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_bucket{le=\"0.0025\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_bucket{le=\"0.5\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_bucket{le=\"30\"} 2\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_bucket{le=\"+Inf\"} 3\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_sum 100.502\n"));
	ck_assert_ptr_nonnull(strstr(t, "d_seconds_count 3\n"));
	free(t);
	npd_metrics_free(m);

	m = npd_metrics_new();
	npd_metrics_observe(m, "h{family=\"ipv4\"}", 1);
	t = format(m);
	ck_assert_ptr_nonnull(strstr(t, "h_bucket{family=\"ipv4\",le=\"1\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(t, "h_count{family=\"ipv4\"} 1\n"));
	free(t);
	npd_metrics_free(m);
}
END_TEST

START_TEST(samples_and_escaping)
{
	struct npd_buf b;

	npd_buf_init(&b);
	npd_buf_adds(&b, "x{chain=\"");
	npd_metrics_escape_label(&b, "a\"b\\c\nd");
	npd_buf_adds(&b, "\"}|");
	npd_metrics_format_type(&b, "r_total", "counter");
	npd_metrics_format_sample(&b, "r_total", "rule=\"3\"", 12345678901.0);
	npd_metrics_format_sample(&b, "r_total", NULL, 0.1);
	ck_assert_str_eq(b.data, "x{chain=\"a\\\"b\\\\c\\nd\"}|# TYPE r_total counter\n"
				 "r_total{rule=\"3\"} 12345678901\nr_total 0.1\n");
	npd_buf_fini(&b);
}
END_TEST

TU_MAIN("metrics", counters_and_gauges, histogram, samples_and_escaping)
