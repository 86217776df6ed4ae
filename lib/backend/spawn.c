/* spawn.c: runs the outside tools the backends need, without a shell. The child's stdin is
 * a memory file (so there is no pipe to keep fed while the outputs are read), stdout and
 * stderr are drained together with poll so neither can fill and block the child. Owns no
 * state between calls; the caller words the error. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spawn.h"

/* Drains the child's stdout (fd[0]) and stderr (fd[1]) until both are closed. */
static void
drain(int fd[2], struct npd_buf *out, struct npd_buf *err)
{
	struct npd_buf *to[2] = {out, err};
	char chunk[4096];
	ssize_t n;
	int i;

	while (fd[0] >= 0 || fd[1] >= 0) {
		struct pollfd p[2] = {{.fd = fd[0], .events = POLLIN},
				      {.fd = fd[1], .events = POLLIN}};

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (i = 0; i < 2; i++) {
			if (fd[i] < 0 || !p[i].revents)
				continue;
			n = read(fd[i], chunk, sizeof(chunk));
			if (n > 0) {
				if (to[i])
					npd_buf_add(to[i], chunk, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fd[i]);
				fd[i] = -1;
			}
		}
	}
	for (i = 0; i < 2; i++)
		if (fd[i] >= 0)
			close(fd[i]);
}

int
npd_spawn(char *const argv[], const struct npd_buf *in, struct npd_buf *out, struct npd_buf *err,
	  int *status)
{
	int infd, po[2] = {-1, -1}, pe[2] = {-1, -1}, rd[2], st = 0, rc = 0;
	pid_t pid;

	if (status)
		*status = -1;
	infd = memfd_create("npd-spawn", MFD_CLOEXEC);
	if (infd < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	if (in && in->len && write(infd, in->data, in->len) != (ssize_t)in->len) {
		rc = -EIO;
		goto out;
	}
	lseek(infd, 0, SEEK_SET);
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		goto out;
	}
	if (pid == 0) {
		dup2(infd, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	rd[0] = po[0];
	rd[1] = pe[0];
	po[0] = pe[0] = -1; /* drain closes them */
	drain(rd, out, err);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st)) {
		if (status)
			*status = WEXITSTATUS(st);
		if (WEXITSTATUS(st) == 127)
			rc = -ENOENT;
		else if (WEXITSTATUS(st) != 0)
			rc = -EIO;
	} else {
		rc = -EIO;
	}
out:
	if (infd >= 0)
		close(infd);
	if (po[0] >= 0)
		close(po[0]);
	if (po[1] >= 0)
		close(po[1]);
	if (pe[0] >= 0)
		close(pe[0]);
	if (pe[1] >= 0)
		close(pe[1]);
	return rc;
}
