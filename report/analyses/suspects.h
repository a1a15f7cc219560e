/*
 * Programs that stand out among those that connected or accepted: run from a
 * world-writable directory, deleted while they ran (or replaced), or named
 * as a compiler names its output by default (a.out): one entry per image of
 * a process, counted as the events stream by.
 */
#ifndef CASEFILE_REPORT_SUSPECTS_H
#define CASEFILE_REPORT_SUSPECTS_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "hashmap.h"
#include "replay.h"

struct suspect {
	int capture;	       /* in the order of the files */
	int64_t row;	       /* the image (lineage.h) */
	int64_t pid, start_ns; /* the process */
	int64_t image_t;       /* when the image began: lineage_image(pid, start_ns, image_t) */
	size_t comm_len, exe_len;
	char comm[CAPTURE_TEXT_MAX];
	char *exe; /* as lineage's exe_marked */
	bool deleted, world_writable, default_name;
	int64_t connects, accepts;
	int64_t first_ns; /* wall clock of its first connect or accept */
};

struct suspects {
	const struct captures *set; /* the events' captures */
	struct hashmap index;	    /* (capture, row) -> 1 + index in list */
	struct suspect *list;
	size_t count, allocated;
};

/*
 * Count a connect or accept of the task at ev's time when its program
 * stands out.  0, or -1 after one line on stderr.
 */
int suspects_add(struct suspects *s, const struct event *ev, const struct task *task, bool accept);

/* Move from's entries into into (the same captures, in another thread), then sort by time. */
void suspects_merge(struct suspects *into, struct suspects *from);

/* "world-writable dir, deleted, compiler's default name": what stands out. */
void suspect_marks(const struct suspect *s, char *buf, size_t size);

void suspects_free(struct suspects *s);

#endif
