/* fuzz_kubeconfig.c: libFuzzer target for the kubeconfig parser. The loader reads a path,
 * so each input is written to a file in a private directory (relative credential paths
 * then resolve inside it, where nothing else lives). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/kubeconfig.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[32], path[64];

static void
remove_dir(void)
{
	unlink(path);
	rmdir(dir);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(dir, sizeof(dir), "/tmp/npd-fuzz-kc.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/config", dir);
	atexit(remove_dir);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npd_kube_cfg cfg;
	struct npd_diags diags;
	FILE *f = fopen(path, "w");

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	npd_diags_init(&diags);
	npd_kubeconfig_init(&cfg);
	if (npd_kubeconfig_load(path, NULL, &cfg, &diags) == 0)
		npd_kubeconfig_fini(&cfg);
	npd_diags_fini(&diags);
	return 0;
}
