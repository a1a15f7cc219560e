/*
 * Preloaded into record by tests/stacks.test.sh, to choose and to see when
 * it reads another process's image.
 *
 * SLOW_MAPS_MS: opening another process's /proc/PID/maps first waits until
 * that process has exited (its maps read empty), SLOW_MAPS_MS milliseconds
 * at most: a process that exits after its checks is gone before its
 * mappings are read, whatever the machine's load; one that lives on is read
 * after that time.
 * SLOW_MAPS_LOG: each file opened through another process's /proc/PID/root
 * (a mapped file, read for its symbols) is appended there, a line each; and
 * each fork, with how many threads record had then ("fork with N threads").
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int (*real_open)(const char *path, int flags, ...);
static int log_fd = -1;

__attribute__((constructor)) static void init(void)
{
	const char *log = getenv("SLOW_MAPS_LOG");

	if (real_open)
		return;
	*(void **)&real_open = dlsym(RTLD_NEXT, "open");
	if (log)
		log_fd = real_open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

static void log_line(const char *text)
{
	char line[4200];
	int len = snprintf(line, sizeof(line), "%s\n", text);

	if (log_fd >= 0 && len > 0 && (size_t)len < sizeof(line) &&
	    write(log_fd, line, (size_t)len) < 0)
		perror("slow-maps: log");
}

/* Whether the process whose maps these are has exited: they read empty, or are gone. */
static int exited(const char *maps)
{
	char byte;
	int fd = real_open(maps, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return 1;
	n = (int)read(fd, &byte, 1);
	close(fd);
	return n <= 0;
}

static void wait_for_exit(const char *maps, long ms)
{
	for (long waited = 0; waited < ms && !exited(maps); waited += 5)
		nanosleep(&(struct timespec){0, 5000000}, NULL);
}

int open(const char *path, int flags, ...)
{
	const char *ms = getenv("SLOW_MAPS_MS");
	char own[32], *after;
	mode_t mode = 0;
	int fd;

	init(); /* called before our constructor ran? */
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	snprintf(own, sizeof(own), "/proc/%d/", getpid());
	if (strncmp(path, "/proc/", 6) || !strncmp(path, own, strlen(own)) ||
	    (strtol(path + 6, &after, 10), after == path + 6))
		return real_open(path, flags, mode);
	if (ms && !strcmp(after, "/maps"))
		wait_for_exit(path, atol(ms));
	fd = real_open(path, flags, mode);
	if (fd >= 0 && !strncmp(after, "/root/", 6))
		log_line(path);
	return fd;
}

/* The parser process is forked: a child of a threaded process may inherit a lock held. */
pid_t fork(void)
{
	static pid_t (*real_fork)(void);
	char status[4096], line[64], *threads;
	int fd, n = 0;

	init();
	if (!real_fork)
		*(void **)&real_fork = dlsym(RTLD_NEXT, "fork");
	fd = real_open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = (int)read(fd, status, sizeof(status) - 1);
		close(fd);
	}
	status[n > 0 ? n : 0] = '\0';
	threads = strstr(status, "\nThreads:");
	snprintf(line, sizeof(line), "fork with %ld threads", threads ? atol(threads + 9) : -1L);
	log_line(line);
	return real_fork();
}
