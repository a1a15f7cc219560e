/*
 * Preloaded into report by tests/report-follow.test.sh: a reader held at
 * the racy point, whatever the machine's load.  The HOLD_OPEN_AT-th open()
 * of HOLD_OPEN_PATH first creates HOLD_OPEN_HELD, then waits until
 * HOLD_OPEN_UNTIL exists: the test does what it needs done meanwhile.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int open(const char *path, int flags, ...)
{
	static int (*real)(const char *path, int flags, ...);
	static int opened;
	const char *hold = getenv("HOLD_OPEN_PATH"), *at = getenv("HOLD_OPEN_AT");
	const char *held = getenv("HOLD_OPEN_HELD"), *until = getenv("HOLD_OPEN_UNTIL");
	mode_t mode = 0;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "open");
	if (hold && at && held && until && !strcmp(path, hold) && ++opened == atoi(at)) {
		int fd = real(held, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0)
			close(fd);
		while (access(until, F_OK))
			usleep(10000);
	}
	return real(path, flags, mode);
}
