/* load.c: what every netpolctl command does first: load manifests into a store and report
 * what did not decode. Diagnostics are warnings on stderr (an invalid object is skipped, the
 * command goes on); only a path that cannot be read at all is an input error. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "npd/yaml.h"

void
ctl_print_diags(const struct npd_diags *d)
{
	char line[1024];
	size_t i;

	for (i = 0; i < d->n; i++)
		fprintf(stderr, "netpolctl: warning: %s\n",
			npd_diag_format(&d->v[i], line, sizeof(line)));
}

int
ctl_load(const char *path, struct npd_store *s)
{
	struct npd_diags d;
	int err;

	npd_diags_init(&d);
	err = npd_yaml_load(path, s, &d);
	ctl_print_diags(&d);
	npd_diags_fini(&d);
	if (err < 0) {
		fprintf(stderr, "netpolctl: cannot load %s: %s\n", path, strerror(-err));
		return 2;
	}
	return 0;
}
