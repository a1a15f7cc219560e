/*
 * Preloaded into record by tests/reliability.test.sh: a kernel that stops
 * letting the recorder read a map.  Past FAIL_LOOKUP_AFTER calls (libbpf's
 * own calls are not these), bpf_map_lookup_elem() fails with EIO.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

int bpf_map_lookup_elem(int fd, const void *key, void *value);

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	static int (*real)(int fd, const void *key, void *value);
	static long calls;
	const char *after = getenv("FAIL_LOOKUP_AFTER");

	if (after && ++calls > atol(after)) {
		errno = EIO;
		return -EIO;
	}
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "bpf_map_lookup_elem");
	return real(fd, key, value);
}
