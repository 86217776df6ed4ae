/* render.c: netpolctl render. Loads manifests, compiles them for one node exactly as
 * the agent would, and prints the ipset restore text and the iptables-restore text of
 * each family, so a reviewer reads the dataplane effect of a policy as text (the golden
 * tests diff this output). Decode and compile diagnostics go to stderr. */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "npd/buf.h"
#include "npd/compile.h"
#include "npd/diag.h"
#include "npd/ruleset.h"
#include "npd/store.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: netpolctl render -f PATH --node NAME [--family 4|6|all]\n"
		   "\n"
		   "  -f, --file PATH   manifests: a YAML file or a directory of them\n"
		   "  --node NAME       the node to compile for (pods with spec.nodeName NAME)\n"
		   "  --family 4|6|all  which address family to print (default all)\n"
		   "\n"
		   "prints the `ipset restore` text, then the iptables-restore --noflush text\n"
		   "for IPv4 and IPv6; exit status 0, or 2 on a usage or input error\n");
}

int
ctl_render_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"file", required_argument, NULL, 'f'},
	    {"node", required_argument, NULL, 'n'},
	    {"family", required_argument, NULL, 'F'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL, *node = NULL;
	struct npd_compile_opts o;
	struct npd_ruleset *rs = NULL;
	struct npd_store *s = NULL;
	struct npd_diags d;
	struct npd_buf out;
	uint8_t family = 0;
	int c, err, ret = 2;

	npd_diags_init(&d);
	npd_buf_init(&out);
	optind = 1;
	while ((c = ctl_next_opt(argc, argv, "f:h", longopts, usage, &ret)) >= 0) {
		switch (c) {
		case 'f':
			path = optarg;
			break;
		case 'n':
			node = optarg;
			break;
		case 'F':
			if (!strcmp(optarg, "4")) {
				family = AF_INET;
			} else if (!strcmp(optarg, "6")) {
				family = AF_INET6;
			} else if (strcmp(optarg, "all")) {
				fprintf(stderr, "netpolctl render: --family must be 4, 6 or all\n");
				goto out;
			}
			break;
		}
	}
	if (c == CTL_OPT_EXIT)
		goto out;
	if (!path || !node) {
		usage(stderr);
		goto out;
	}
	s = npd_store_new();
	if (ctl_load(path, s) != 0)
		goto out;
	npd_compile_opts_init(&o);
	o.node_name = node;
	err = npd_compile(s, &o, &d, &rs);
	ctl_print_diags(&d);
	if (err < 0) {
		fprintf(stderr, "netpolctl render: cannot compile: %s\n", strerror(-err));
		goto out;
	}
	npd_buf_adds(&out, "# ipset\n");
	npd_ruleset_format_sets(rs, family, &out);
	if (family != AF_INET6) {
		npd_buf_adds(&out, "# iptables (IPv4)\n");
		npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET), &out);
	}
	if (family != AF_INET) {
		npd_buf_adds(&out, "# ip6tables (IPv6)\n");
		npd_ruleset_format_table(npd_ruleset_get_table(rs, AF_INET6), &out);
	}
	fwrite(out.data, 1, out.len, stdout);
	ret = fflush(stdout) ? 2 : 0;
out:
	npd_ruleset_free(rs);
	npd_store_free(s);
	npd_buf_fini(&out);
	npd_diags_fini(&d);
	return ret;
}
