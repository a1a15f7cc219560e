/* Capture text in a web page: rendered, then escaped for HTML (htmltext.h). */
#include <stdlib.h>
#include <string.h>

#include "htmltext.h"
#include "output.h"
#include "util.h"

void html_text(FILE *out, const char *s, size_t len)
{
	char stack[4 * 256 + 1];
	char *safe = 4 * len < sizeof(stack) ? stack : xmalloc(4 * len + 1);
	size_t n = render_text(s, len, safe);

	for (size_t i = 0; i < n; i++) {
		switch (safe[i]) {
		case '&':
			fputs("&amp;", out);
			break;
		case '<':
			fputs("&lt;", out);
			break;
		case '>':
			fputs("&gt;", out);
			break;
		case '"':
			fputs("&quot;", out);
			break;
		case '\'':
			fputs("&#39;", out);
			break;
		default:
			putc(safe[i], out);
		}
	}
	if (safe != stack)
		free(safe);
}

void html_string(FILE *out, const char *s)
{
	if (s)
		html_text(out, s, strlen(s));
}
