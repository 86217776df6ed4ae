/* ctl_lint.c: netpolctl lint (placeholder until the module lands). */
#include <stdio.h>

#include "ctl.h"

int
ctl_lint_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netpolctl: lint is not implemented yet\n");
	return 2;
}
