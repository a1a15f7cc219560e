/* The privileges recording needs: checked first, given up once attached. */
#ifndef CASEFILE_RECORD_PRIVILEGES_H
#define CASEFILE_RECORD_PRIVILEGES_H

#include <stdbool.h>
#include <stdint.h>

/*
 * What naming user frames still needs: reading other processes' mappings and
 * files (CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH), and the map_files of deleted
 * binaries (CAP_CHECKPOINT_RESTORE).  A mask of 1 << CAP_*.
 */
uint64_t user_stack_privileges(void);

/*
 * What the recorder still needs once attached: none, but CAP_DAC_OVERRIDE
 * when output's directory needs it for its journal and rotated files,
 * user_stack_privileges() for user stacks, and CAP_SYS_PTRACE for processes
 * (an executable's path through /proc/PID/root, /proc/PID/exe of a new file).
 */
uint64_t recorder_privileges(const char *output, bool user_stacks, bool processes);

/*
 * Whether this process holds what loading and attaching the programs needs
 * (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN): checked first, so that a user
 * without them is told so, not what the first step needing one could not
 * do.  -1 after one line on stderr.  (DNS on a kernel without cgroup v2
 * takes a packet socket, which needs CAP_NET_RAW: said when refused.)
 */
int check_privileges(void);

/*
 * Keep only the capabilities in keep, in the calling thread (capabilities
 * are per thread): effective, permitted, inheritable, ambient and bounding;
 * and set no_new_privs.  Returns -1 after one line on stderr.
 */
int drop_privileges(uint64_t keep);

#endif
