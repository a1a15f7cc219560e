/* Terminal width, and a standard output that wraps its lines between words. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "progress.h"
#include "terminal.h"
#include "util.h"

#define DEFAULT_WIDTH 80

int terminal_width(const struct options *opts)
{
	const char *columns = getenv("COLUMNS");
	struct winsize ws;
	int64_t n;

	if (opts->width >= 0)
		return opts->width;
	if (opts->format != FORMAT_TABLE || !isatty(STDOUT_FILENO))
		return 0;
	if (columns && !parse_integer(columns, WIDTH_MIN, WIDTH_MAX, &n))
		return (int)n;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col >= WIDTH_MIN)
		return ws.ws_col;
	return DEFAULT_WIDTH;
}

static struct {
	FILE *real; /* the standard output replaced */
	int width;
	char *line; /* the line being written, up to its newline */
	size_t len, size;
} wrap;

/*
 * A space where a line may break: not inside a time, between its date and
 * its time (digits either side) nor before its zone.
 */
static bool breaks_at(const char *s, size_t len, size_t i)
{
	bool digits = i > 0 && i + 1 < len && s[i - 1] >= '0' && s[i - 1] <= '9' &&
		      s[i + 1] >= '0' && s[i + 1] <= '9';

	return s[i] == ' ' && !digits && !(i + 4 <= len && !memcmp(s + i + 1, "UTC", 3));
}

/* One whole line (without its newline) to the real output, wrapped. */
static void put_line(const char *s, size_t len)
{
	size_t indent = strspn(s, " "), width = (size_t)wrap.width, lead = 0;

	if (indent > width / 2)
		indent = width / 2;
	while (lead + len > width) {
		size_t at = 0;

		/* The last space that fits, past the indentation; else the line is cut hard. */
		for (size_t i = indent > lead ? indent - lead : 0; i + lead < width && i < len; i++)
			if (i > 0 && breaks_at(s, len, i))
				at = i;
		if (!at)
			at = width - lead;
		fprintf(wrap.real, "%*s%.*s\n", (int)lead, "", (int)at, s);
		while (at < len && s[at] == ' ')
			at++;
		s += at;
		len -= at;
		lead = indent + 4 < width / 2 ? indent + 4 : width / 2;
	}
	fprintf(wrap.real, "%*s%.*s\n", (int)lead, "", (int)len, s);
}

static ssize_t wrap_write(void *cookie, const char *buf, size_t size)
{
	(void)cookie;
	progress_output();
	for (size_t i = 0; i < size; i++) {
		if (buf[i] == '\n') {
			put_line(wrap.line, wrap.len);
			wrap.len = 0;
			continue;
		}
		if (wrap.len == wrap.size)
			wrap.line =
				xrealloc(wrap.line, wrap.size = wrap.size ? 2 * wrap.size : 256);
		wrap.line[wrap.len++] = buf[i];
	}
	/* Whatever came is on its way: output.c writes standard output directly next. */
	fflush(wrap.real);
	return (ssize_t)size;
}

void terminal_wrap(int width)
{
	cookie_io_functions_t io = {.write = wrap_write};
	FILE *wrapped;

	if (!width || wrap.real)
		return;
	fflush(stdout);
	wrapped = fopencookie(NULL, "w", io);
	if (!wrapped)
		return; /* unwrapped: the terminal wraps */
	wrap.real = stdout;
	wrap.width = width;
	stdout = wrapped;
}

void terminal_unwrap(void)
{
	if (!wrap.real)
		return;
	fflush(stdout);
	if (wrap.len) /* a last line without its newline */
		fprintf(wrap.real, "%.*s", (int)wrap.len, wrap.line);
	fclose(stdout);
	stdout = wrap.real;
	fflush(stdout);
	free(wrap.line);
	memset(&wrap, 0, sizeof(wrap));
}
