/* replay.c: a main for the fuzz targets without libFuzzer. Runs a target once over every
 * file of the corpus directories given, so the normal (gcc, ASan) builds keep the targets
 * compiling and replay every seed and past crash as a unit test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		perror(path);
		return -1;
	}
	do {
		npd_xgrow(&buf, &cap, len + 4096, 1);
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, n = 0, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *e;

		if (!d) {
			perror(argv[i]);
			return 1;
		}
		while ((e = readdir(d))) {
			char *p;

			if (e->d_name[0] == '.')
				continue;
			p = npd_xasprintf("%s/%s", argv[i], e->d_name);
			if (replay_file(p) < 0)
				rc = 1;
			free(p);
			n++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", n);
	return rc || n == 0;
}
