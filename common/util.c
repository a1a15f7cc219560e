/* Small helpers both binaries use: allocation, numbers, quoting, clocks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void out_of_memory(size_t size)
{
	fprintf(stderr, "casefile: out of memory (asked for %zu bytes)\n", size);
	exit(70);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		out_of_memory(count * size);
	return p;
}

void *xcalloc_aligned(size_t count, size_t size, size_t alignment)
{
	size_t bytes = count * size;
	void *p = NULL;

	if (size && count > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	if (posix_memalign(&p, alignment, bytes ? bytes : 1))
		out_of_memory(bytes);
	return memset(p, 0, bytes);
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		out_of_memory(size);
	return p;
}

char *xstrdup(const char *s)
{
	size_t len = strlen(s) + 1;

	return memcpy(xmalloc(len), s, len);
}

int parse_integer(const char *text, int64_t min, int64_t max, int64_t *out)
{
	int saved_errno = errno;
	long long value;
	char *end;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (end == text || *end || errno || value < min || value > max) {
		errno = saved_errno;
		return -1;
	}
	errno = saved_errno;
	*out = value;
	return 0;
}

const char *option_name(int short_option, const char *arg)
{
	static char name[3] = "-?";

	if (!short_option)
		return arg;
	name[1] = (char)short_option;
	return name;
}

/* Words made only of these characters need no quotes. */
static int is_plain_word(const char *word)
{
	if (!*word)
		return 0;
	return strspn(word, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789-_./,:=+@%") == strlen(word);
}

char *shell_quote_argv(int argc, char **argv)
{
	size_t size = 1;
	char *line, *p;

	for (int i = 0; i < argc; i++)
		size += 3 + 4 * strlen(argv[i]); /* quotes, space, ' becomes '\'' */
	p = line = xmalloc(size);
	for (int i = 0; i < argc; i++) {
		if (i)
			*p++ = ' ';
		if (is_plain_word(argv[i])) {
			p = stpcpy(p, argv[i]);
			continue;
		}
		*p++ = '\'';
		for (const char *c = argv[i]; *c; c++)
			p = *c == '\'' ? stpcpy(p, "'\\''") : (*p = *c, p + 1);
		*p++ = '\'';
	}
	*p = '\0';
	return line;
}

int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
