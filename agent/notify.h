/* notify.h: systemd service notification: READY=1 when /readyz would turn 200, STATUS=
 * lines with the last sync, WATCHDOG=1 keep-alives when the unit sets WatchdogSec, and
 * STOPPING=1 on the way out. Without $NOTIFY_SOCKET it sends nothing. */
#ifndef NPD_AGENT_NOTIFY_H
#define NPD_AGENT_NOTIFY_H

#include "agent.h"

struct notify;

/* Starts watching agent a's readiness and sync results on its loop (a is borrowed).
 * Never fails: a notify socket that cannot be reached is logged once and ignored. */
struct notify *notify_start(struct npd_agent *a);
/* Sends STOPPING=1 and frees n; notify_stop(NULL) is a no-op. */
void notify_stop(struct notify *n);

#endif
