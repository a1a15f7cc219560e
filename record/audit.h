/*
 * The AUDIT flag of a capability check, and whether a refusal denies anything.  The cap_capable
 * tracepoint does not carry it, so it is derived from the kernel function that asked for the check:
 * the first frame above cap_capable() and the generic plumbing.  Each entry point of
 * kernel/capability.c and security/commoncap.c passes a fixed CAP_OPT_NOAUDIT or not, so the
 * requester decides it; a requester outside the known lists gives "unknown" (NULL in the capture),
 * never a guess.
 */
#ifndef CASEFILE_RECORD_AUDIT_H
#define CASEFILE_RECORD_AUDIT_H

#include <stdint.h>

#include "casefile.h"
#include "ksyms.h"

#define AUDIT_UNKNOWN (-1)

struct audit_deriver;

/*
 * ksyms may be NULL: every check is then AUDIT_UNKNOWN.  paths_fd is the BPF
 * programs' map of call paths to AUDIT (bpf/capable.bpf.c), or -1.
 */
struct audit_deriver *audit_deriver_new(const struct ksyms *ksyms, int paths_fd);
void audit_deriver_free(struct audit_deriver *deriver);

/*
 * A capability check record with its call path: its frames' room, then the
 * path (bpf/capable.bpf.c).
 */
#define CAPABLE_WITH_PATH_BYTES                                                                    \
	(sizeof(struct capable_record) + AUDIT_STACK_DEPTH * sizeof(uint64_t) +                    \
	 sizeof(struct call_path))

/*
 * What a check's requester says: *audit, 1 audited or 0 not; *denies, 1 when
 * a refusal denies what was asked, 0 when it only holds a set within bounds
 * (cap_capset()'s CAP_SETPCAP check); each AUDIT_UNKNOWN when not known.  As
 * the record says, or derived from its frames (cached per distinct stack);
 * with its call path, that path's AUDIT is told to the programs when the
 * path reaches a requester that denies, so that its next checks take no
 * frames.
 */
void verdict_of_check(struct audit_deriver *deriver, const struct capable_record *rec, int *audit,
		      int *denies);

/* Checks whose record came with their AUDIT (its call path's, or the hook's), and the others. */
struct audit_counts {
	uint64_t checks_known, checks_from_frames;
};
struct audit_counts audit_counts(const struct audit_deriver *deriver);

#endif
