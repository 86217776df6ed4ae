/* check_spawn.c: the backends' process runner, with /bin/sh as the child; no root needed.
 * Proves that input reaches stdin, that both outputs are collected apart and in full even
 * when each is far larger than a pipe holds, and that exit codes, a missing tool and a
 * signal come back as distinct results. */
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend/spawn.h"
#include "npd/buf.h"
#include "testutil.h"

#define SH(script)                                                                                 \
	(char *const[])                                                                            \
	{                                                                                          \
		(char *)(uintptr_t) "sh", (char *)(uintptr_t) "-c", (char *)(uintptr_t)(script),   \
		    NULL                                                                           \
	}

START_TEST(input_reaches_stdin_and_outputs_stay_apart)
{
	struct npd_buf in, out, err;
	int status;

	npd_buf_init(&in);
	npd_buf_init(&out);
	npd_buf_init(&err);
	npd_buf_adds(&in, "line one\nline two\n");
	ck_assert_int_eq(npd_spawn(SH("cat; echo oops >&2"), &in, &out, &err, &status), 0);
	ck_assert_int_eq(status, 0);
	ck_assert_str_eq(out.data, "line one\nline two\n");
	ck_assert_str_eq(err.data, "oops\n");
	npd_buf_fini(&err);
	npd_buf_fini(&out);
	npd_buf_fini(&in);
}
END_TEST

/* 4 MiB of input echoed on stdout and, reversed in order, on stderr: a runner that read one
 * stream to its end before the other, or fed stdin through a pipe, would block forever. */
START_TEST(large_streams_do_not_block)
{
	const size_t n = 4u << 20;
	struct npd_buf in, out, err;
	size_t i;

	npd_buf_init(&in);
	npd_buf_init(&out);
	npd_buf_init(&err);
	for (i = 0; i < n / 64; i++)
		npd_buf_printf(&in, "%063zu\n", i);
	ck_assert_int_eq(npd_spawn(SH("tee /dev/stderr"), &in, &out, &err, NULL), 0);
	ck_assert_uint_eq(out.len, n);
	ck_assert_uint_eq(err.len, n);
	ck_assert(memcmp(out.data, in.data, n) == 0);
	ck_assert(memcmp(err.data, in.data, n) == 0);
	npd_buf_fini(&err);
	npd_buf_fini(&out);
	npd_buf_fini(&in);
}
END_TEST

START_TEST(exit_codes_missing_tools_and_signals)
{
	char *const missing[] = {(char *)(uintptr_t) "npd-no-such-tool", NULL};
	struct npd_buf out;
	int status = 0;

	npd_buf_init(&out);
	ck_assert_int_eq(npd_spawn(SH("echo half; exit 3"), NULL, &out, NULL, &status), -EIO);
	ck_assert_int_eq(status, 3);
	ck_assert_str_eq(out.data, "half\n");
	ck_assert_int_eq(npd_spawn(missing, NULL, NULL, NULL, &status), -ENOENT);
	ck_assert_int_eq(status, 127);
	ck_assert_int_eq(npd_spawn(SH("kill -9 $$"), NULL, NULL, NULL, &status), -EIO);
	ck_assert_int_eq(status, -1);
	/* Same buffer for both streams: `iptables -V` is read that way. */
	npd_buf_reset(&out);
	ck_assert_int_eq(npd_spawn(SH("echo a; echo b >&2"), NULL, &out, &out, NULL), 0);
	ck_assert(!strcmp(out.data, "a\nb\n") || !strcmp(out.data, "b\na\n"));
	npd_buf_fini(&out);
}
END_TEST

TU_MAIN("spawn", input_reaches_stdin_and_outputs_stay_apart, large_streams_do_not_block,
	exit_codes_missing_tools_and_signals)
