/* netpolctl.c: the offline face of the library: simulate, lint and render read manifests
 * and answer without touching the kernel or a cluster; explain and drops ask a running
 * agent over its debug address. This file only dispatches. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
} cmds[] = {
    {"simulate", ctl_simulate_main, "would A reach B on port P, and which policy decides"},
    {"lint", ctl_lint_main, "warn about known NetworkPolicy pitfalls"},
    {"render", ctl_render_main, "print the iptables and ipset state netpold would apply"},
    {"explain", ctl_explain_main, "ask a running agent: would A reach B, and which rule decides"},
    {"drops", ctl_drops_main, "print a running agent's recent denied flows"},
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: netpolctl COMMAND [options]\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "\nnetpolctl COMMAND --help for a command's options.\n");
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].main(argc - 1, argv + 1);
	fprintf(stderr, "netpolctl: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
