/*
 * The AUDIT flag of a capability check, and whether its refusal denies
 * anything, from the function that asked for it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "dedup.h"
#include "util.h"

/* Between the requester and cap_capable(): these pass the caller's choice on. */
static const char *const plumbing[] = {
	"security_capable",
	"ns_capable_common",
};

/* Entry points that always pass CAP_OPT_NOAUDIT. */
static const char *const not_audited[] = {
	"ns_capable_noaudit",		"has_ns_capability_noaudit",
	"has_capability_noaudit",	"ptracer_capable",
	"security_capable_noaudit", /* before Linux 5.1 */
	"cap_vm_enough_memory",	    /* the vm_enough_memory hook, on every mmap/brk/fork */
	"security_vm_enough_memory_mm",
};

/* Entry points that always audit (CAP_OPT_NONE or CAP_OPT_INSETID). */
static const char *const audited[] = {
	"capable",
	"ns_capable",
	"ns_capable_setid",
	"has_ns_capability",
	"has_capability",
	"file_ns_capable",
	"capable_wrt_inode_uidgid",
	"cap_mmap_addr",
	"security_mmap_addr",
};

/*
 * Requesters whose refusal denies nothing by itself: cap_capset() asks for
 * CAP_SETPCAP (cap_inh_is_capped(), inlined) only to learn whether the new
 * inheritable set must stay within the old inheritable and permitted ones;
 * refused, the set is held to them and capset() goes on.  setpriv, ping and
 * capsh make this check at every start.
 */
static const char *const capping[] = {
	"cap_capset",
	"cap_inh_is_capped",
};

struct audit_deriver {
	const struct ksyms *ksyms;
	struct dedup *cache; /* frames -> 1 + (audit + 1) + 3 * (denies + 1) */
};

struct audit_deriver *audit_deriver_new(const struct ksyms *ksyms)
{
	struct audit_deriver *deriver = xcalloc(1, sizeof(*deriver));

	deriver->ksyms = ksyms;
	deriver->cache = dedup_new(sizeof(uint64_t) * AUDIT_STACK_DEPTH, 16384);
	return deriver;
}

void audit_deriver_free(struct audit_deriver *deriver)
{
	if (!deriver)
		return;
	dedup_free(deriver->cache);
	free(deriver);
}

/* Is name one of list, ignoring compiler suffixes such as ".cold" or ".isra.0"? */
static bool name_in(const char *name, const char *const *list, size_t count)
{
	size_t len = strcspn(name, ".");

	for (size_t i = 0; i < count; i++)
		if (strlen(list[i]) == len && !strncmp(name, list[i], len))
			return true;
	return false;
}

static bool frame_is(const struct ksyms *ksyms, uint64_t addr, const char *function)
{
	struct ksym sym;

	return ksyms_lookup(ksyms, addr, &sym) && !strcmp(sym.name, function);
}

/* The requester's verdicts: *audit and *denies, each 1, 0 or AUDIT_UNKNOWN. */
static void classify(const struct ksyms *ksyms, const uint64_t *frames, int nr_frames, int *audit,
		     int *denies)
{
	int i = 0;

	*audit = *denies = AUDIT_UNKNOWN;
	/* Skip the BPF program and the tracepoint glue, up to the hooked function. */
	while (i < nr_frames && !frame_is(ksyms, frames[i], "cap_capable"))
		i++;
	for (i++; i < nr_frames; i++) {
		struct ksym sym;

		if (!ksyms_lookup(ksyms, frames[i], &sym))
			return;
		if (name_in(sym.name, plumbing, ARRAY_SIZE(plumbing)))
			continue;
		if (name_in(sym.name, capping, ARRAY_SIZE(capping))) {
			*denies = 0;
		} else if (name_in(sym.name, not_audited, ARRAY_SIZE(not_audited))) {
			*audit = 0;
			*denies = 1;
		} else if (name_in(sym.name, audited, ARRAY_SIZE(audited))) {
			*audit = 1;
			*denies = 1;
		}
		return;
	}
}

void derive_check(struct audit_deriver *deriver, const uint64_t *frames, int nr_frames, int *audit,
		  int *denies)
{
	uint64_t key[AUDIT_STACK_DEPTH] = {0};
	int64_t cached;

	*audit = *denies = AUDIT_UNKNOWN;
	if (!deriver->ksyms || nr_frames <= 0)
		return;
	if (nr_frames > AUDIT_STACK_DEPTH)
		nr_frames = AUDIT_STACK_DEPTH;
	memcpy(key, frames, sizeof(*frames) * (size_t)nr_frames);
	cached = dedup_find(deriver->cache, key);
	if (cached > 0) {
		*audit = (int)((cached - 1) % 3) - 1;
		*denies = (int)((cached - 1) / 3) - 1;
		return;
	}
	classify(deriver->ksyms, frames, nr_frames, audit, denies);
	dedup_add(deriver->cache, key, 1 + (*audit + 1) + 3 * (*denies + 1));
}
