/*
 * Capture text in a web page: rendered as every format renders it (bytes
 * outside printable ASCII as \xHH, so terminal escapes show as text), then
 * with & < > " ' as entities, so that a process named
 * <img src=x onerror=...> is shown, never parsed.
 */
#ifndef CASEFILE_REPORT_HTMLTEXT_H
#define CASEFILE_REPORT_HTMLTEXT_H

#include <stddef.h>
#include <stdio.h>

/* len bytes of s, safe in an element's text and in a quoted attribute. */
void html_text(FILE *out, const char *s, size_t len);

/* A NUL-terminated string so; NULL prints nothing. */
void html_string(FILE *out, const char *s);

#endif
