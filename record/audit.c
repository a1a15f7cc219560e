/*
 * The AUDIT flag of a capability check, and whether its refusal denies
 * anything, from the function that asked for it.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

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
	struct dedup *cache; /* frames -> their decision, packed */
	int paths_fd;	     /* the programs' map of call paths -> AUDIT, or -1 */
	struct audit_counts counts;
};

struct audit_deriver *audit_deriver_new(const struct ksyms *ksyms, int paths_fd)
{
	struct audit_deriver *deriver = xcalloc(1, sizeof(*deriver));

	deriver->ksyms = ksyms;
	deriver->paths_fd = paths_fd;
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

/*
 * What the frames of a check say: AUDIT, whether a refusal denies, and the
 * frames from cap_capable() to the requester.
 */
struct decision {
	int audit, denies; /* each 1, 0 or AUDIT_UNKNOWN */
	int from, to;	   /* frames[from..to]; to is -1 when nothing decided */
};

static struct decision classify(const struct ksyms *ksyms, const uint64_t *frames, int nr_frames)
{
	struct decision d = {AUDIT_UNKNOWN, AUDIT_UNKNOWN, 0, -1};
	int i = 0;

	/* Skip the BPF program and the tracepoint glue, up to the hooked function. */
	while (i < nr_frames && !frame_is(ksyms, frames[i], "cap_capable"))
		i++;
	d.from = i;
	for (i++; i < nr_frames; i++) {
		struct ksym sym;

		if (!ksyms_lookup(ksyms, frames[i], &sym))
			return d;
		if (name_in(sym.name, plumbing, ARRAY_SIZE(plumbing)))
			continue;
		/* cap_capset() calls cap_capable() itself, with CAP_OPT_NONE: audited. */
		if (name_in(sym.name, capping, ARRAY_SIZE(capping)))
			d.audit = 1, d.denies = 0;
		else if (name_in(sym.name, not_audited, ARRAY_SIZE(not_audited)))
			d.audit = 0, d.denies = 1;
		else if (name_in(sym.name, audited, ARRAY_SIZE(audited)))
			d.audit = 1, d.denies = 1;
		else
			return d;
		d.to = i;
		return d;
	}
	return d;
}

/*
 * Does the call path hold every return address from cap_capable() up to the
 * requester, in their order?  Then every check with that call path has them
 * at the same places: each function's frame puts its caller's return
 * address at a fixed distance above its own, so equal words at equal places,
 * from the tracepoint up, are the same callers up to the requester, and the
 * same AUDIT.  A requester beyond the path's reach (a deep frame, a module's
 * text) is never learned: its checks keep taking frames.
 */
static bool path_reaches(const struct call_path *path, const uint64_t *frames, struct decision d)
{
	int w = 0;

	if (d.to < 0)
		return false;
	for (int i = d.from; i <= d.to; i++) {
		while (w < CALL_PATH_WORDS && path->words[w] != frames[i])
			w++;
		if (w++ == CALL_PATH_WORDS)
			return false;
	}
	return true;
}

/* A decision as the cache keeps it: never negative. */
static int64_t pack(struct decision d)
{
	return (int64_t)(d.audit + 1) | (int64_t)(d.denies + 1) << 4 | (int64_t)d.from << 8 |
	       (int64_t)(d.to + 1) << 16;
}

static struct decision unpack(int64_t packed)
{
	return (struct decision){(int)(packed & 0xf) - 1, (int)(packed >> 4 & 0xf) - 1,
				 (int)(packed >> 8 & 0xff), (int)(packed >> 16 & 0xff) - 1};
}

static struct decision derive(struct audit_deriver *deriver, const uint64_t *frames, int nr_frames,
			      const struct call_path *path)
{
	uint64_t key[AUDIT_STACK_DEPTH] = {0};
	struct decision d = {AUDIT_UNKNOWN, AUDIT_UNKNOWN, 0, -1};
	int64_t cached;

	if (!deriver->ksyms || nr_frames <= 0)
		return d;
	if (nr_frames > AUDIT_STACK_DEPTH)
		nr_frames = AUDIT_STACK_DEPTH;
	memcpy(key, frames, sizeof(*frames) * (size_t)nr_frames);
	cached = dedup_find(deriver->cache, key);
	if (cached >= 0) {
		d = unpack(cached);
	} else {
		d = classify(deriver->ksyms, frames, nr_frames);
		dedup_add(deriver->cache, key, pack(d));
	}
	/*
	 * Checks of a path keep coming with frames until the first is learned
	 * (the next poll), and the programs' map is an LRU: told again each time.
	 * Only paths whose requester denies what it refuses are learned, since
	 * a learned check carries its AUDIT alone: cap_capset()'s keep their
	 * frames (one per setpriv, ping or capsh).
	 */
	if (path && deriver->paths_fd >= 0 && d.denies == 1 && path_reaches(path, frames, d))
		bpf_map_update_elem(deriver->paths_fd, path, &d.audit, BPF_ANY);
	return d;
}

void verdict_of_check(struct audit_deriver *deriver, const struct capable_record *rec, int *audit,
		      int *denies)
{
	const uint64_t *frames = (const uint64_t *)(rec + 1);
	int nframes = rec->stacks.kernel_bytes > 0 ? rec->stacks.kernel_bytes / 8 : 0;
	struct decision d;

	if (rec->audit != CAPABLE_AUDIT_FROM_STACK) {
		deriver->counts.checks_known++;
		*audit = rec->audit;
		*denies = rec->denies == CAPABLE_DENIES_UNKNOWN ? AUDIT_UNKNOWN : rec->denies;
		return;
	}
	deriver->counts.checks_from_frames++;
	d = derive(deriver, frames, nframes,
		   rec->has_path ? (const void *)(frames + AUDIT_STACK_DEPTH) : NULL);
	*audit = d.audit;
	*denies = d.denies;
}

struct audit_counts audit_counts(const struct audit_deriver *deriver)
{
	return deriver->counts;
}
