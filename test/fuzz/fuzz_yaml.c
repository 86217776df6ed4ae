/* fuzz_yaml.c: libFuzzer target for the manifest decoder (libyaml): multi-document
 * buffers, kind: List, anchors, every field converter, and the store the objects go to. */
#include <stddef.h>
#include <stdint.h>

#include "npd/store.h"
#include "npd/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct npd_store *s = npd_store_new();
	struct npd_diags diags;

	npd_diags_init(&diags);
	npd_yaml_decode_buf((const char *)data, size, "fuzz.yaml", npd_store_apply_event, s,
			    &diags);
	npd_diags_fini(&diags);
	npd_store_free(s);
	return 0;
}
