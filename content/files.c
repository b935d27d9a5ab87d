/* files.c - whole-file reads and careful writes for content/. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content_int.h"

int
file_read_all(const char *path, size_t max, char **data, size_t *len, struct err *e)
{
	struct stat st;
	char *p = NULL;
	size_t got = 0;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return err_set(e, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) == -1) {
		err_set(e, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err_set(e, "not a regular file");
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		err_set(e, "larger than %zu bytes", max);
		goto out;
	}
	/* Room for one byte more than fstat said, so that a file growing under
	 * us is caught, and for the NUL. */
	p = malloc((size_t)st.st_size + 2);
	if (p == NULL) {
		err_set(e, "out of memory");
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, p + got, (size_t)st.st_size + 1 - got);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(e, "cannot read: %s", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)st.st_size) {
			err_set(e, "changed while being read");
			goto out;
		}
	}
	p[got] = '\0';
	*data = p;
	*len = got;
	p = NULL;
	rc = 0;
out:
	free(p);
	close(fd);
	return rc;
}

int
file_write_new(const char *path, const char *data, size_t len, int mode, struct err *e)
{
	size_t done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd == -1)
		return err_set(e, "%s: cannot create: %s", path, strerror(errno));
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			err_set(e, "%s: cannot write: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) == -1) {
		err_set(e, "%s: cannot sync: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) == -1)
		return err_set(e, "%s: cannot close: %s", path, strerror(errno));
	return 0;
}

char *
path_join(const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);
	char *p = malloc(a + b + 2);

	if (p == NULL)
		return NULL;
	memcpy(p, dir, a);
	p[a] = '/';
	memcpy(p + a + 1, name, b + 1);
	return p;
}
