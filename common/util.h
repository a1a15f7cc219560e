/* Small helpers both binaries use: allocation, numbers, quoting, clocks. */
#ifndef CASEFILE_COMMON_UTIL_H
#define CASEFILE_COMMON_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes of a processor cache line (x86_64, arm64): what a prefetch or a miss brings. */
#define CACHE_LINE 64

/* Allocation that cannot fail: out of memory ends the program with a message. */
void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
/* Say so on stderr and exit (70): what the x* allocators do when none is left. */
void out_of_memory(size_t size) __attribute__((noreturn));
void *xrealloc(void *ptr, size_t size);
/* Zeroed, at a multiple of alignment (a power of two, at least a pointer's size). */
void *xcalloc_aligned(size_t count, size_t size, size_t alignment);
char *xstrdup(const char *s);

/* A whole decimal integer in [min, max], or -1 (errno untouched). */
int parse_integer(const char *text, int64_t min, int64_t max, int64_t *out);

/*
 * How getopt saw the option in error: "-x" for a short option (in a static
 * buffer), the argument itself for a long one.
 */
const char *option_name(int short_option, const char *arg);

/* argv as one line a shell would split back into the same words. */
char *shell_quote_argv(int argc, char **argv);

/* A clock's reading in nanoseconds. */
int64_t clock_ns(clockid_t clock);

#endif
