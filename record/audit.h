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

/* ksyms may be NULL: every check is then AUDIT_UNKNOWN. */
struct audit_deriver *audit_deriver_new(const struct ksyms *ksyms);
void audit_deriver_free(struct audit_deriver *deriver);

/*
 * *audit: 1 audited, 0 not audited; *denies: 1 when a refusal denies what
 * was asked, 0 when it only holds a set within bounds (cap_capset's
 * CAP_SETPCAP check); each AUDIT_UNKNOWN when the requester is not known.
 * Cached per distinct stack.
 */
void derive_check(struct audit_deriver *deriver, const uint64_t *frames, int nr_frames, int *audit,
		  int *denies);

#endif
