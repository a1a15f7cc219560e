/*
 * Preloaded into record by tests/reliability.test.sh: a kernel that stops
 * letting the recorder read a map.  Past FAIL_LOOKUP_AFTER reads (libbpf's
 * own calls are not these), bpf_map_lookup_elem() and
 * bpf_map_lookup_batch() fail with EIO; a batch counts as a read of each
 * entry it asks for.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>

int bpf_map_lookup_elem(int fd, const void *key, void *value);
int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
			 unsigned *count, const void *opts);

/* Whether n more reads pass FAIL_LOOKUP_AFTER: then they fail with EIO. */
static int failing(unsigned n)
{
	static long reads;
	const char *after = getenv("FAIL_LOOKUP_AFTER");

	reads += n;
	if (after && reads > atol(after)) {
		errno = EIO;
		return 1;
	}
	return 0;
}

int bpf_map_lookup_elem(int fd, const void *key, void *value)
{
	static int (*real)(int fd, const void *key, void *value);

	if (failing(1))
		return -EIO;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "bpf_map_lookup_elem");
	return real(fd, key, value);
}

int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values,
			 unsigned *count, const void *opts)
{
	static int (*real)(int fd, void *in_batch, void *out_batch, void *keys, void *values,
			   unsigned *count, const void *opts);

	if (failing(*count))
		return -EIO;
	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "bpf_map_lookup_batch");
	return real(fd, in_batch, out_batch, keys, values, count, opts);
}
