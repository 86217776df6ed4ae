/* curlev.c: the glue between one libcurl multi handle and a libev loop. curl says which
 * sockets to watch for what (on_socket) and when it next needs a timeout (on_timer); this
 * file keeps one ev_io per socket and one ev_timer, hands their events back to
 * curl_multi_socket_action, and reports each finished transfer to its owner. It owns no
 * transfer and decides nothing about requests. */
#include <stdlib.h>

#include <ev.h>

#include "curlev.h"
#include "npd/mem.h"

/* A socket curl asked us to watch. */
struct sock {
	ev_io io;
	struct curlev *c;
	struct sock *next;
};

struct curlev {
	struct ev_loop *loop;
	CURLM *multi;
	ev_timer timer;
	struct sock *socks;
	curlev_done_fn done;
	void *ctx;
};

static void
check_done(struct curlev *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left)))
		if (m->msg == CURLMSG_DONE)
			c->done(m->easy_handle, m->data.result, c->ctx);
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct sock *s = (struct sock *)w;
	struct curlev *c = s->c;
	int running, flags = 0;

	(void)loop;
	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* s may be freed inside (CURL_POLL_REMOVE): only c is used afterwards. */
	curl_multi_socket_action(c->multi, w->fd, flags, &running);
	check_done(c);
}

static void
on_curl_timer(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct curlev *c = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static void
sock_free(struct curlev *c, struct sock *s)
{
	struct sock **pp;

	ev_io_stop(c->loop, &s->io);
	for (pp = &c->socks; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	free(s);
}

static int
on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curlev *c = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s)
			sock_free(c, s);
		curl_multi_assign(c->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (!s) {
		s = npd_xcalloc(1, sizeof(*s));
		s->c = c;
		s->next = c->socks;
		c->socks = s;
		ev_io_init(&s->io, on_io, fd, events);
		curl_multi_assign(c->multi, fd, s);
	} else {
		ev_io_stop(c->loop, &s->io);
		ev_io_set(&s->io, fd, events);
	}
	ev_io_start(c->loop, &s->io);
	return 0;
}

static int
on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curlev *c = userp;

	(void)multi;
	ev_timer_stop(c->loop, &c->timer);
	/* Acting here would re-enter curl: a zero timeout fires on the next loop iteration. */
	if (timeout_ms >= 0) {
		ev_timer_set(&c->timer, (double)timeout_ms / 1000.0, 0);
		ev_timer_start(c->loop, &c->timer);
	}
	return 0;
}

struct curlev *
curlev_new(struct ev_loop *loop, curlev_done_fn done, void *ctx)
{
	struct curlev *c;

	/* Reference-counted by libcurl: each curlev_free undoes one. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		abort();
	c = npd_xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->done = done;
	c->ctx = ctx;
	c->multi = curl_multi_init();
	if (!c->multi)
		abort();
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	ev_init(&c->timer, on_curl_timer);
	c->timer.data = c;
	return c;
}

void
curlev_free(struct curlev *c)
{
	if (!c)
		return;
	curl_multi_cleanup(c->multi);
	while (c->socks)
		sock_free(c, c->socks);
	ev_timer_stop(c->loop, &c->timer);
	free(c);
	curl_global_cleanup();
}

void
curlev_add(struct curlev *c, CURL *easy)
{
	if (curl_multi_add_handle(c->multi, easy) != CURLM_OK)
		abort();
}

void
curlev_remove(struct curlev *c, CURL *easy)
{
	curl_multi_remove_handle(c->multi, easy);
}
