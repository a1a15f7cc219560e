/*
 * report html's page: its frame (head, style, policy, contents, script),
 * the verdicts at the top, the chart, the process tree and what it left
 * out.  html.c writes the sections in between.
 */
#ifndef CASEFILE_REPORT_HTMLPAGE_H
#define CASEFILE_REPORT_HTMLPAGE_H

#include <stdio.h>

#include "activity.h"
#include "capture.h"
#include "detect.h"
#include "losses.h"
#include "options.h"
#include "overview.h"
#include "proctree.h"

/* What the page left out: how many of what, and the command that shows them all. */
struct omitted {
	struct omission {
		size_t count;
		char what[96], command[96];
	} * list;
	size_t count;
};

void omit(struct omitted *o, size_t count, const char *what, const char *command);
void omitted_free(struct omitted *o);

void page_begin(FILE *out, const struct captures *set, const struct options *opts);
/* <section id=ID><h2>TITLE</h2>; the caller closes it. */
void page_section(FILE *out, const char *id, const char *title);
void page_verdicts(FILE *out, const struct overview *o);
/* The events over time, the findings over them and the losses of each capture of set. */
void page_chart(FILE *out, const struct options *opts, const struct activity *a,
		const struct findings *findings, const struct captures *set,
		const struct losses *losses);
void page_tree(FILE *out, const struct tree *tree);
void page_omitted(FILE *out, const struct omitted *o, const struct captures *set);
void page_end(FILE *out);

#endif
