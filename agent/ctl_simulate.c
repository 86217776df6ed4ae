/* ctl_simulate.c: netpolctl simulate (placeholder until the module lands). */
#include <stdio.h>

#include "ctl.h"

int
ctl_simulate_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netpolctl: simulate is not implemented yet\n");
	return 2;
}
