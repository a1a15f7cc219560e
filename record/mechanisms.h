/*
 * How each kind is recorded on the running kernel.  A kind has alternatives,
 * best first, each naming its BPF programs and what it needs of the kernel;
 * the first whose needs the kernel meets is used.  Needs are looked for in
 * the kernel's own BTF (tracepoints, their arguments, kfuncs, functions,
 * helpers, map types) and in tracefs, never guessed from a version number.
 */
#ifndef CASEFILE_RECORD_MECHANISMS_H
#define CASEFILE_RECORD_MECHANISMS_H

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kinds.h"
#include "options.h"

struct mechanism;

/* The mechanism of each kind that can be recorded; NULL for the others. */
struct mechanisms {
	const struct mechanism *of[KINDS];
};

/*
 * Choose, for each kind in kinds, the first alternative vmlinux (the running
 * kernel's BTF) allows.  Returns the kinds that can be recorded; a kind that
 * cannot is named on stderr, one line each, with what this kernel lacks.
 */
unsigned mechanisms_choose(const struct btf *vmlinux, unsigned kinds, struct mechanisms *chosen);

/* Load exactly the programs of the chosen mechanisms; -1 after one line. */
int mechanisms_select(struct bpf_object *obj, const struct mechanisms *chosen);

/* Whether mechanism (NULL: none) runs the BPF program named program. */
bool mechanism_runs(const struct mechanism *mechanism, const char *program);

/* The name of a kind's mechanism, as the capture records it. */
const char *mechanism_name(const struct mechanism *mechanism);

#endif
