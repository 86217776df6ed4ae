/* gen_world.c: prints the random world of a seed as Kubernetes manifests, the same world
 * check_differential builds for that seed (tu_world_gen), so the e2e test can put it on
 * real packets and a developer can replay any seed by hand. Not a check suite. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "npd/buf.h"
#include "tu_world.h"

int
main(int argc, char **argv)
{
	struct tu_world w;
	struct npd_buf out;
	char *end;
	unsigned long long seed;

	if (argc != 2) {
		fprintf(stderr, "usage: gen_world SEED   (decimal or 0x hex)\n");
		return 2;
	}
	errno = 0;
	seed = strtoull(argv[1], &end, 0);
	if (errno || *end || end == argv[1]) {
		fprintf(stderr, "gen_world: bad seed '%s'\n", argv[1]);
		return 2;
	}
	npd_buf_init(&out);
	tu_world_gen(&w, (uint64_t)seed);
	tu_world_render(&w, &out);
	fwrite(out.data, 1, out.len, stdout);
	npd_buf_fini(&out);
	return ferror(stdout) ? 1 : 0;
}
