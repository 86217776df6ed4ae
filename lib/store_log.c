/* store_log.c: the store's change log: which objects changed since a consumer (the
 * incremental compiler's caller) last drained it, with the addresses a pod held before,
 * so that the consumer can find what a change can touch without scanning the cluster.
 * Bounded: past NPD_STORE_LOG_MAX changes it keeps only the fact that it overflowed. */
#include <stdlib.h>
#include <string.h>

#include "npd/mem.h"
#include "npd/store.h"
#include "store_int.h"

static void
log_reset(struct npd_store *s)
{
	size_t i;

	for (i = 0; i < s->log.n; i++) {
		free(s->log.v[i].ns);
		free(s->log.v[i].name);
		free(s->log.v[i].old_ips);
	}
	s->log.n = 0;
}

void
npd_store_log_fini(struct npd_store *s)
{
	log_reset(s);
	free(s->log.v);
	memset(&s->log, 0, sizeof(s->log));
}

void
npd_store_log_enable(struct npd_store *s, bool on)
{
	npd_store_log_fini(s);
	s->log_on = on;
	/* On: what came before is unknown. Off: nothing will be recorded. */
	s->log.overflow = true;
	s->log.base_gen = s->gen;
}

const struct npd_store_log *
npd_store_log_get(const struct npd_store *s)
{
	return &s->log;
}

void
npd_store_log_clear(struct npd_store *s)
{
	log_reset(s);
	s->log.overflow = !s->log_on;
	s->log.base_gen = s->gen;
}

void
npd_store_log_add(struct npd_store *s, enum npd_kind kind, const char *ns, const char *name,
		  const struct npd_pod *old)
{
	struct npd_store_change *c;

	if (!s->log_on || s->log.overflow)
		return;
	if (s->log.n >= NPD_STORE_LOG_MAX) {
		/* The consumer starts over from the store: the record is worth nothing now. */
		log_reset(s);
		s->log.overflow = true;
		return;
	}
	npd_xgrow(&s->log.v, &s->log.cap, s->log.n + 1, sizeof(*s->log.v));
	c = &s->log.v[s->log.n++];
	memset(c, 0, sizeof(*c));
	c->kind = kind;
	c->ns = npd_xstrdup(ns);
	c->name = npd_xstrdup(name);
	if (old && old->n_ips) {
		c->old_ips = npd_xmalloc(old->n_ips * sizeof(*c->old_ips));
		memcpy(c->old_ips, old->ips, old->n_ips * sizeof(*c->old_ips));
		c->n_old_ips = old->n_ips;
	}
}
