/* fuzz_json.c: libFuzzer target for the streaming JSON decoder (object, list and watch
 * modes). The first bytes pick the mode, the expected kind and the seed of the chunk
 * splits, so the fuzzer also explores every place a response can be cut into reads; the
 * events go into a store, as the agent applies them. A list is decoded twice more, whole
 * (its items through the fast path where it can) and byte by byte (never), and the two
 * must give the same events and diagnostics. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "npd/addr.h"
#include "npd/buf.h"
#include "npd/json.h"
#include "npd/selector.h"
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

static const char *
dash(const char *s)
{
	return s ? s : "-";
}

static void
digest_labels(struct npd_buf *b, const struct npd_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		npd_buf_printf(b, " %s=%s", l->v[i].key, l->v[i].value);
}

/* Every kept field of an event, on one line of the buffer ctx. */
static void
digest(struct npd_event *ev, void *ctx)
{
	struct npd_buf *b = ctx;
	char a[NPD_ADDRSTRLEN];
	size_t i;

	npd_buf_printf(b, "ev %d rv=%s", ev->type, ev->rv ? ev->rv : "-");
	if (ev->obj.kind == NPD_KIND_NAMESPACE) {
		npd_buf_printf(b, " ns %s %s %s", ev->obj.u.ns->name, dash(ev->obj.u.ns->uid),
			       dash(ev->obj.u.ns->rv));
		digest_labels(b, &ev->obj.u.ns->labels);
	} else if (ev->obj.kind == NPD_KIND_POD) {
		const struct npd_pod *p = ev->obj.u.pod;

		npd_buf_printf(b, " pod %s/%s %s %s %s %d %d", p->ns, p->name, dash(p->uid),
			       dash(p->rv), dash(p->node), p->phase, p->host_network);
		digest_labels(b, &p->labels);
		for (i = 0; i < p->n_ips; i++)
			npd_buf_printf(b, " %s", npd_addr_format(&p->ips[i], a));
		for (i = 0; i < p->n_ports; i++)
			npd_buf_printf(b, " %s:%u/%d", p->ports[i].name ? p->ports[i].name : "",
				       p->ports[i].port, p->ports[i].proto);
	} else if (ev->obj.kind == NPD_KIND_POLICY) {
		const struct npd_policy *p = ev->obj.u.policy;

		npd_buf_printf(b, " pol %s/%s %s %s %lld %d%d%d ", p->ns, p->name, dash(p->uid),
			       dash(p->rv), p->generation, p->isolates_ingress, p->isolates_egress,
			       p->invalid);
		npd_selector_format(&p->pod_sel, b);
		for (i = 0; i < p->n_ingress; i++)
			npd_buf_printf(b, " in%zu/%zu", p->ingress[i].n_peers,
				       p->ingress[i].n_ports);
		for (i = 0; i < p->n_egress; i++)
			npd_buf_printf(b, " eg%zu/%zu", p->egress[i].n_peers, p->egress[i].n_ports);
	}
	npd_buf_addc(b, '\n');
	npd_event_fini(ev);
}

/* The digest of a list fed whole (step 0) or in steps of bytes. */
static char *
list_digest(enum npd_kind kind, const uint8_t *data, size_t size, size_t step)
{
	struct npd_json_decoder *d;
	struct npd_diags diags;
	struct npd_buf b;
	char line[1024];
	size_t off, n, i;

	npd_buf_init(&b);
	npd_diags_init(&diags);
	d = npd_json_decoder_new(NPD_JSON_LIST, kind, digest, &b, &diags);
	for (off = 0; off < size; off += n) {
		n = step && step < size - off ? step : size - off;
		npd_json_decoder_feed(d, data + off, n);
	}
	npd_buf_printf(&b, "finish %d events %zu bad %zu\n", npd_json_decoder_finish(d),
		       npd_json_decoder_n_events(d), npd_json_decoder_n_bad(d));
	for (i = 0; i < diags.n; i++)
		npd_buf_printf(&b, "diag %s\n", npd_diag_format(&diags.v[i], line, sizeof(line)));
	npd_json_decoder_free(d);
	npd_diags_fini(&diags);
	return npd_buf_steal(&b);
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
	if (modes[data[0] % 3] == NPD_JSON_LIST) {
		enum npd_kind kind = (enum npd_kind)(data[1] % NPD_KIND__COUNT);
		char *whole = list_digest(kind, data + HEADER, size - HEADER, 0);
		char *bytes = list_digest(kind, data + HEADER, size - HEADER, 1);

		if (strcmp(whole, bytes))
			abort();
		free(whole);
		free(bytes);
	}
	return 0;
}
