/*
 * cgroup v2 ids to paths.  An id is the inode number of a directory of the
 * cgroup2 mount, and means nothing once the directory is gone (a container
 * stopped): each id an event or a process carries is named when the
 * recorder first sees it, and its path kept in the capture (table cgroup),
 * once per file.
 */
#ifndef CASEFILE_RECORD_CGROUPS_H
#define CASEFILE_RECORD_CGROUPS_H

#include <stdint.h>

#include "capture.h"

/* Where cgroup v2 is mounted ("" if nowhere): paths are named under it. */
void cgroups_init(const char *cgroup2_root);

/* A new file begins: every id is written again, once. */
void cgroups_begin_file(void);

/*
 * Write id's row into cap unless this file has it: its path, from a walk of
 * the cgroup2 mount made when an id is not known yet, or NULL when no
 * directory has it any more; none without a cgroup2 mount.  0, or -1 after
 * one line on stderr.
 */
int cgroups_note(struct capture *cap, int64_t id);

void cgroups_free(void);

#endif
