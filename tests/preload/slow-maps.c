/*
 * Preloaded into record by tests/stacks.test.sh: a recorder too slow for a
 * short-lived process.  Opening another process's /proc/PID/maps first waits
 * SLOW_MAPS_MS milliseconds, so that a process that lives a few milliseconds
 * is gone before its mappings are read, whatever the machine's load.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

FILE *fopen(const char *path, const char *mode)
{
	static FILE *(*real)(const char *path, const char *mode);
	const char *ms = getenv("SLOW_MAPS_MS");
	char own[64];

	snprintf(own, sizeof(own), "/proc/%d/maps", getpid());
	if (ms && !strncmp(path, "/proc/", 6) && strstr(path, "/maps") && strcmp(path, own)) {
		long wait = atol(ms);

		nanosleep(&(struct timespec){wait / 1000, wait % 1000 * 1000000}, NULL);
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "fopen");
	return real(path, mode);
}
