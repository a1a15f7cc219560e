/*
 * What /proc and the filesystem say of processes: the processes already
 * running when recording begins, and whether an executable was deleted or
 * lives in a directory anyone may write to.
 */
#ifndef CASEFILE_RECORD_PROCINFO_H
#define CASEFILE_RECORD_PROCINFO_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"

/*
 * Learn the host's mount namespace (the one record starts in: call this
 * before probes_load() makes one of its own), the recorder's network
 * namespace and the cgroup v2 mount (cgroups.h).
 */
void procinfo_init(void);

/* Where cgroup v2 was mounted when procinfo_init() looked, or "". */
const char *cgroup2_mount(void);

/* The recorder's network namespace (its inode number): capture.netns. */
uint32_t recorder_netns(void);

/* A socket's network namespace as a column: NULL for the recorder's own. */
int64_t netns_column(uint32_t netns);

/*
 * Of the executable at path, as process pid in mount namespace mntns sees it:
 * was the file (inode ino on kernel device dev) deleted or replaced?  And
 * does it live in a world-writable directory?  1, 0, or CAPTURE_NULL when it
 * cannot be told (the process is gone and its files are not the host's).
 */
int64_t executable_deleted(uint32_t pid, uint64_t mntns, const char *path, uint64_t ino,
			   uint32_t dev);
int64_t in_world_writable_dir(uint32_t pid, uint64_t mntns, const char *path);

/*
 * Arguments each ended by a NUL, as the kernel keeps them (the last may lack
 * its NUL: cut), as one shell-quoted line: process.args.  Free it.
 */
char *quote_arguments(const char *args, size_t len);

/*
 * Write a 'running' process row for each process in /proc, but the recorder;
 * t is now, relative to the capture's base; seq numbers from *next_seq.
 */
int snapshot_processes(struct capture *cap, int64_t t, int64_t *next_seq);

/*
 * The host's users and groups into the account table: the names and ids of
 * /etc/passwd and /etc/group, nothing else of them (no password field).
 * A file that cannot be read is left out.  0, or -1 after one line.
 */
int snapshot_accounts(struct capture *cap);

#endif
