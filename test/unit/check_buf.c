/* check_buf.c: the growable buffer: appends, formatting, reset and handing over. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "npd/buf.h"
#include "testutil.h"

START_TEST(buf_grows_and_formats)
{
	struct npd_buf b;
	int i;
	char *s;

	npd_buf_init(&b);
	for (i = 0; i < 1000; i++)
		npd_buf_printf(&b, "%d,", i);
	ck_assert_uint_eq(b.len, strlen(b.data));
	ck_assert(strncmp(b.data, "0,1,2,", 6) == 0);
	ck_assert(strstr(b.data, "999,") != NULL);
	s = npd_buf_steal(&b);
	ck_assert_ptr_null(b.data);
	free(s);
}
END_TEST

START_TEST(buf_add_reset_steal)
{
	struct npd_buf b;
	char *s;

	npd_buf_init(&b);
	/* An empty buffer still hands over a string. */
	s = npd_buf_steal(&b);
	ck_assert_str_eq(s, "");
	free(s);
	npd_buf_add(&b, "ab\0cd", 5);
	ck_assert_uint_eq(b.len, 5);
	ck_assert_int_eq(memcmp(b.data, "ab\0cd", 6), 0);
	npd_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	npd_buf_adds(&b, "x=");
	npd_buf_addc(&b, '1');
	ck_assert_str_eq(b.data, "x=1");
	npd_buf_fini(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	/* Appending another empty buffer (data still NULL) is a no-op, not a memcpy from NULL
	 * (UBSan fails this case without the guard). */
	{
		struct npd_buf empty;

		npd_buf_init(&empty);
		npd_buf_add(&b, empty.data, empty.len);
		ck_assert_str_eq(b.data, "");
		npd_buf_fini(&b);
	}
}
END_TEST

START_TEST(read_file_is_capped)
{
	static const char text[] = "kind: Pod\nmetadata: {name: p}\n";
	char *path = tu_tmp_file(text, sizeof(text) - 1, 0);
	struct npd_buf b;

	npd_buf_init(&b);
	/* Appends to what the buffer holds; a cap equal to the size is enough. */
	npd_buf_adds(&b, "#");
	ck_assert_int_eq(npd_buf_read_file(&b, path, sizeof(text) - 1), 0);
	ck_assert_uint_eq(b.len, sizeof(text));
	ck_assert_str_eq(b.data + 1, text);
	npd_buf_reset(&b);
	ck_assert_int_eq(npd_buf_read_file(&b, path, sizeof(text) - 2), -EFBIG);
	ck_assert_int_eq(npd_buf_read_file(&b, "/nonexistent/npd", 100), -ENOENT);
	ck_assert_int_eq(npd_buf_read_file(&b, "/", 100), -EISDIR);
	unlink(path);
	free(path);

	/* An empty file reads as nothing, without error. */
	path = tu_tmp_file("", 0, 0);
	npd_buf_reset(&b);
	ck_assert_int_eq(npd_buf_read_file(&b, path, 0), 0);
	ck_assert_uint_eq(b.len, 0);
	unlink(path);
	free(path);
	npd_buf_fini(&b);
}
END_TEST

TU_MAIN("buf", buf_grows_and_formats, buf_add_reset_steal, read_file_is_capped)
