/* lint.c: netpolctl lint. Loads manifests and prints each lint finding (lib/lint.c) as
 * one line, `WARN ns/name path: message; hint: ...`. Exit 0 when there is nothing to say,
 * 1 when there are warnings, 2 on usage or input errors. Decode problems go to stderr. */
#include <getopt.h>
#include <stdio.h>

#include "ctl.h"
#include "npd/diag.h"
#include "npd/lint.h"
#include "npd/store.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: netpolctl lint -f PATH\n"
		   "\n"
		   "  -f, --file PATH   manifests: a YAML file or a directory of them\n"
		   "\n"
		   "exit status: 0 no warnings, 1 warnings printed, 2 usage or input error\n");
}

int
ctl_lint_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct npd_store *s = NULL;
	const char *path = NULL;
	struct npd_diags d;
	size_t i, n;
	int c, ret = 2;

	npd_diags_init(&d);
	optind = 1;
	while ((c = ctl_next_opt(argc, argv, "f:h", longopts, usage, &ret)) == 'f')
		path = optarg;
	if (c == CTL_OPT_EXIT)
		goto out;
	if (!path) {
		usage(stderr);
		goto out;
	}
	s = npd_store_new();
	if (ctl_load(path, s) != 0)
		goto out;
	n = npd_lint_run(s, &d);
	for (i = 0; i < d.n; i++)
		printf("WARN %s/%s %s: %s\n", d.v[i].ns ? d.v[i].ns : "-",
		       d.v[i].name ? d.v[i].name : "-", d.v[i].path ? d.v[i].path : "spec",
		       d.v[i].msg);
	ret = n ? 1 : 0;
out:
	npd_store_free(s);
	npd_diags_fini(&d);
	return ret;
}
