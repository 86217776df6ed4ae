/* nflog.c: the drop log's I/O. One netlink socket bound to the NFLOG group of the default
 * deny rules, non-blocking, read by an ev_io; each logged packet is parsed (lib/drops.c),
 * handed to the flow table with the loop's time, and the lines it asks for are written with
 * both ends resolved in the agent's store. One ev_timer ends the table's windows. Allowed
 * traffic is never logged: only rules carrying netpold's "NPD DROP" prefix reach this group,
 * and anything else on it is ignored. The kernel rule keeps its own rate limit. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ev.h>
#include <libnetfilter_log/libnetfilter_log.h>

#include "npd/buf.h"
#include "npd/mem.h"
#include "npd/metrics.h"
#include "nflog.h"

#define COPY_BYTES 160	   /* IPv6 header, a few extension headers and the ports */
#define RCVBUF (1 << 20)   /* a burst at 5k packets/s fits between two loop turns */
#define READS_PER_TURN 256 /* then let the loop serve others */
#define QTHRESH 64	   /* packets per netlink message at most */
#define FLUSH_CS 5	   /* kernel flush timeout, in 1/100 s */
#define M_LINES "netpold_drop_log_lines_total"
#define M_PACKETS "netpold_drop_log_packets_total"
#define M_AGGREGATED "netpold_drop_log_aggregated_total"
#define M_NOT_KEPT "netpold_drop_log_not_kept_total"
#define M_BIND "netpold_drop_log_bind_errors_total"
#define M_OVERRUN "netpold_drop_log_overruns_total"

struct nflog {
	struct npd_agent *a;
	struct nflog_handle *h;
	struct nflog_g_handle *gh;
	struct npd_drops *drops;
	ev_io io;
	ev_timer tick;
	struct npd_buf line;
	/* Counted per packet, added to the registry once per read batch (a string-keyed map
	 * update per packet would cost more than the packet). */
	uint64_t packets, aggregated, not_kept;
	char buf[1 << 16]; /* one netlink message: a batch of up to QTHRESH packets */
};

static void
log_line(struct nflog *n, const struct npd_drop_line *l)
{
	npd_buf_reset(&n->line);
	npd_drops_format_line(agent_store(n->a), l, &n->line);
	agent_log("info", "msg=\"denied\" %s", n->line.data);
	agent_metric_inc(n->a, M_LINES, 1);
}

static void
on_window_line(const struct npd_drop_line *l, uint64_t not_kept, void *ctx)
{
	struct nflog *n = ctx;

	if (l) {
		log_line(n, l);
		return;
	}
	agent_log("warn",
		  "msg=\"denied flows not logged: flow table full\" packets=%llu window_s=1",
		  (unsigned long long)not_kept);
}

static void
arm_tick(struct nflog *n)
{
	struct ev_loop *loop = agent_loop(n->a);
	double at = npd_drops_next_tick(n->drops);

	if (at < 0 || ev_is_active(&n->tick))
		return;
	at -= ev_now(loop);
	ev_timer_set(&n->tick, at > 0 ? at : 0, 0);
	ev_timer_start(loop, &n->tick);
}

static void
on_tick(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nflog *n = w->data;

	(void)revents;
	npd_drops_tick(n->drops, ev_now(loop), on_window_line, n);
	arm_tick(n);
}

static int
on_packet(struct nflog_g_handle *gh, struct nfgenmsg *nfmsg, struct nflog_data *nfa, void *data)
{
	struct nflog *n = data;
	struct npd_drop_key k;
	struct npd_drop_line l;
	char *payload = NULL;
	int len;

	(void)gh;
	(void)nfmsg;
	memset(&k, 0, sizeof(k));
	if (npd_drops_parse_prefix(nflog_get_prefix(nfa), &k.dir) < 0)
		return 0;
	len = nflog_get_payload(nfa, &payload);
	if (len <= 0 || npd_drops_parse_packet((const uint8_t *)payload, (size_t)len, &k) < 0)
		return 0;
	n->packets++;
	switch (npd_drops_add(n->drops, ev_now(agent_loop(n->a)), &k, &l)) {
	case NPD_DROPS_LOG_NOW:
		log_line(n, &l);
		break;
	case NPD_DROPS_AGGREGATED:
		n->aggregated++;
		break;
	case NPD_DROPS_NOT_KEPT:
		n->not_kept++;
		break;
	}
	return 0;
}

static void
on_io(struct ev_loop *loop, ev_io *w, int revents)
{
	struct nflog *n = w->data;
	ssize_t got;
	int i;

	(void)loop;
	(void)revents;
	for (i = 0; i < READS_PER_TURN; i++) {
		got = recv(w->fd, n->buf, sizeof(n->buf), MSG_DONTWAIT);
		if (got < 0) {
			/* ENOBUFS: the kernel dropped messages for a full socket; go on reading. */
			if (errno == ENOBUFS) {
				agent_metric_inc(n->a, M_OVERRUN, 1);
				continue;
			}
			break;
		}
		if (got == 0)
			break;
		nflog_handle_packet(n->h, n->buf, (int)got);
	}
	agent_metric_inc(n->a, M_PACKETS, n->packets);
	agent_metric_inc(n->a, M_AGGREGATED, n->aggregated);
	agent_metric_inc(n->a, M_NOT_KEPT, n->not_kept);
	n->packets = n->aggregated = n->not_kept = 0;
	arm_tick(n);
}

static void
help(struct npd_agent *a)
{
	struct npd_metrics *m = agent_metrics(a);

	npd_metrics_help(m, M_LINES, "Drop log lines written (first sightings and window sums).");
	npd_metrics_help(m, M_PACKETS, "Denied packets received from the NFLOG group.");
	npd_metrics_help(m, M_AGGREGATED, "Denied packets summed into a flow already logged.");
	npd_metrics_help(m, M_NOT_KEPT, "Denied packets of new flows not logged: flow table full.");
	npd_metrics_help(m, M_BIND, "Times the NFLOG group could not be bound (drop log off).");
	npd_metrics_help(m, M_OVERRUN, "Times the NFLOG socket overflowed and lost messages.");
	agent_metric_inc(a, M_LINES, 0);
	agent_metric_inc(a, M_PACKETS, 0);
	agent_metric_inc(a, M_AGGREGATED, 0);
	agent_metric_inc(a, M_NOT_KEPT, 0);
	agent_metric_inc(a, M_BIND, 0);
	agent_metric_inc(a, M_OVERRUN, 0);
}

/* Opens and binds the group; 0 or -errno with *step naming what failed. */
static int
bind_group(struct nflog *n, uint16_t group, const char **step)
{
	int fd, size = RCVBUF;

	*step = "open";
	n->h = nflog_open();
	if (!n->h)
		return errno ? -errno : -EPERM;
	*step = "bind group";
	n->gh = nflog_bind_group(n->h, group);
	if (!n->gh)
		return errno ? -errno : -EBUSY;
	*step = "set mode";
	if (nflog_set_mode(n->gh, NFULNL_COPY_PACKET, COPY_BYTES) < 0)
		return errno ? -errno : -EINVAL;
	/* The kernel batches up to QTHRESH packets in one message, or flushes after
	 * FLUSH_CS hundredths of a second: one wake-up per batch under a flood, and a first
	 * sighting is still logged well within a second. */
	nflog_set_qthresh(n->gh, QTHRESH);
	nflog_set_timeout(n->gh, FLUSH_CS);
	nflog_callback_register(n->gh, on_packet, n);
	fd = nflog_fd(n->h);
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ev_io_init(&n->io, on_io, fd, EV_READ);
	n->io.data = n;
	ev_io_start(agent_loop(n->a), &n->io);
	return 0;
}

struct nflog *
nflog_start(struct npd_agent *a, uint16_t group)
{
	struct nflog *n = npd_xcalloc(1, sizeof(*n));
	const char *step = NULL;
	int rc;

	n->a = a;
	n->drops = npd_drops_new(NULL);
	npd_buf_init(&n->line);
	ev_init(&n->tick, on_tick);
	n->tick.data = n;
	help(a);
	rc = bind_group(n, group, &step);
	if (rc < 0) {
		agent_log("warn",
			  "msg=\"drop log off: cannot read the NFLOG group, enforcement goes on\" "
			  "group=%u step=\"%s\" err=\"%s\"",
			  group, step, strerror(-rc));
		agent_metric_inc(a, M_BIND, 1);
		if (n->gh)
			nflog_unbind_group(n->gh);
		if (n->h)
			nflog_close(n->h);
		n->gh = NULL;
		n->h = NULL;
		return n;
	}
	agent_log("info", "msg=\"drop log on\" group=%u", group);
	return n;
}

void
nflog_free(struct nflog *n)
{
	if (!n)
		return;
	ev_timer_stop(agent_loop(n->a), &n->tick);
	if (n->h) {
		ev_io_stop(agent_loop(n->a), &n->io);
		nflog_unbind_group(n->gh);
		nflog_close(n->h);
	}
	npd_drops_free(n->drops);
	npd_buf_fini(&n->line);
	free(n);
}

const struct npd_drops *
nflog_drops(const struct nflog *n)
{
	return n ? n->drops : NULL;
}
