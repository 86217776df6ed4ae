/* err.c: struct npd_err, the detail of a failed backend operation, carried in the
 * caller's storage from the place that knows what failed to the agent that logs it. No
 * global or thread-local state. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "npd/backend.h"

int
npd_err_set(struct npd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void
npd_err_clear(struct npd_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

const char *
npd_err_text(const struct npd_err *err, int rc)
{
	if (err && err->msg[0])
		return err->msg;
	return strerror(rc < 0 ? -rc : rc);
}
