/* fuzz_json.c: libFuzzer target for the streaming JSON decoder (object, list and watch
 * modes). The first bytes pick the mode, the expected kind and the seed of the chunk
 * splits, so the fuzzer also explores every place a response can be cut into reads; the
 * events go into a store, as the agent applies them. */
#include <stddef.h>
#include <stdint.h>

#include "npd/json.h"
#include "npd/store.h"

#define HEADER 6 /* mode, kind, 4 bytes of split seed */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A small generator, so the splits depend only on the input. */
static uint32_t
next(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum npd_json_mode modes[] = {NPD_JSON_OBJECT, NPD_JSON_LIST, NPD_JSON_WATCH};
	struct npd_json_decoder *d;
	struct npd_store *s;
	struct npd_diags diags;
	uint32_t seed;
	size_t off, n;

	if (size < HEADER)
		return 0;
	seed = (uint32_t)data[2] | (uint32_t)data[3] << 8 | (uint32_t)data[4] << 16 |
	       (uint32_t)data[5] << 24;
	seed |= 1;
	s = npd_store_new();
	npd_diags_init(&diags);
	d = npd_json_decoder_new(modes[data[0] % 3], (enum npd_kind)(data[1] % NPD_KIND__COUNT),
				 npd_store_apply_event, s, &diags);
	for (off = HEADER; off < size; off += n) {
		/* Mostly short reads, sometimes the whole rest at once. */
		n = next(&seed) % 8 == 0 ? size - off : 1 + next(&seed) % 64;
		if (n > size - off)
			n = size - off;
		if (npd_json_decoder_feed(d, data + off, n) < 0)
			break;
	}
	npd_json_decoder_finish(d);
	(void)npd_json_decoder_list_rv(d);
	(void)npd_json_decoder_list_continue(d);
	(void)npd_json_decoder_status_reason(d);
	npd_json_decoder_free(d);
	npd_diags_fini(&diags);
	npd_store_free(s);
	return 0;
}
