/* opts.c: the option loop every netpolctl command shares. Help, unknown options, missing
 * values and stray operands are answered here, the same way for every command: usage on
 * stdout and exit 0 for --help, usage on stderr and exit 2 for the rest. */
#include <getopt.h>

#include "ctl.h"

int
ctl_next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts,
	     void (*usage)(FILE *), int *status)
{
	int c = getopt_long(argc, argv, shortopts, longopts, NULL);

	if (c == 'h') {
		usage(stdout);
		*status = 0;
		return CTL_OPT_EXIT;
	}
	if (c == '?' || c == ':' || (c == -1 && optind < argc)) {
		usage(stderr);
		*status = 2;
		return CTL_OPT_EXIT;
	}
	return c;
}
