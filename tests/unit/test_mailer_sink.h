/*
 * test_mailer_sink.h - Postfix's smtp-sink on a free loopback port, for the
 * mailer tests (as in the project's mailbed notes).  Included by
 * test_mailer_*.c only.
 */
#ifndef THINGS_TEST_MAILER_SINK_H
#define THINGS_TEST_MAILER_SINK_H

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../util/util.h"

/* A port nobody listens on right now. */
static __attribute__((unused)) int
free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static __attribute__((unused)) int
can_connect(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static char sinkdir[] = "/tmp/things-sink-XXXXXX";

static __attribute__((unused)) pid_t
start_sink(int port)
{
	char addr[64], tmpl[128];
	pid_t pid;

	strcpy(sinkdir, "/tmp/things-sink-XXXXXX");
	assert_non_null(mkdtemp(sinkdir));
	assert_int_equal(chmod(sinkdir, 0777), 0); /* smtp-sink writes as nobody */
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	snprintf(tmpl, sizeof(tmpl), "%s/msg.", sinkdir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* not our stdout: a sink left running must not hold a pipe open */
		int devnull = open("/dev/null", O_RDWR);

		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		/* as root it must drop privileges (-u); otherwise it cannot */
		if (geteuid() == 0)
			execl("/usr/sbin/smtp-sink", "smtp-sink", "-u", "nobody", "-d", tmpl, addr, "100",
			    (char *)NULL);
		else
			execl("/usr/sbin/smtp-sink", "smtp-sink", "-d", tmpl, addr, "100", (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 100 && !can_connect(port); i++)
		usleep(20000);
	assert_true(can_connect(port));
	return pid;
}

static __attribute__((unused)) void
stop_sink(pid_t pid)
{
	char cmd[128];
	int status;

	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sinkdir);
	assert_int_equal(system(cmd), 0);
}

static __attribute__((unused)) size_t
count_dumps(void)
{
	DIR *d = opendir(sinkdir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "msg.", 4) == 0;
	closedir(d);
	return n;
}

/* Concatenation of every dump file, to look for what each message left. */
static __attribute__((unused)) char *
all_dumps(void)
{
	DIR *d = opendir(sinkdir);
	struct dirent *de;
	struct buf b;

	buf_init(&b, 0);
	while ((de = readdir(d)) != NULL) {
		char path[512], chunk[4096];
		FILE *f;
		size_t n;

		if (strncmp(de->d_name, "msg.", 4) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", sinkdir, de->d_name);
		f = fopen(path, "rb");
		assert_non_null(f);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			assert_int_equal(buf_append(&b, chunk, n), 0);
		fclose(f);
		assert_int_equal(buf_puts(&b, "\n--\n"), 0);
	}
	closedir(d);
	return buf_steal(&b);
}

#endif
