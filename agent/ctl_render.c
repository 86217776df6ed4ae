/* ctl_render.c: netpolctl render (placeholder until the module lands). */
#include <stdio.h>

#include "ctl.h"

int
ctl_render_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "netpolctl: render is not implemented yet\n");
	return 2;
}
