/* The recorder's tables of kinds and record types, made from bpf/kinds.def. */
#include <stdbool.h>

#include "kinds.h"

const char *const kind_names[KINDS] = {
#define KIND(name, NAME, ...) [KIND_INDEX_##NAME] = #name,
#include "kinds.def"
};

const char *const record_type_names[RECORD_TYPES] = {
#define RECORD(name, NAME, KIND, stacks) [RECORD_##NAME] = #name,
#include "kinds.def"
};

unsigned record_types(unsigned kinds)
{
	return 0
#define RECORD(name, NAME, KIND, stacks) | (kinds & KIND_##KIND ? 1u << RECORD_##NAME : 0)
#include "kinds.def"
		;
}

#define TAKES_STACKS_STACKS    1u
#define TAKES_STACKS_NO_STACKS 0u

const unsigned stacked_record_types = 0
#define RECORD(name, NAME, KIND, stacks) | TAKES_STACKS_##stacks << RECORD_##NAME
#include "kinds.def"
	;

/*
 * What the rest relies on of each record struct: it begins with its header
 * (rows.c reads the type there, and takes a stacks offset of 0 for none);
 * with STACKS, it ends with a struct stacks, the frames right after it
 * (begin_record() in bpf/common.bpf.h, add_stacks() in rows.c).
 */
#define ENDS_WITH_STACKS_NO_STACKS(type) true
#define ENDS_WITH_STACKS_STACKS(type)                                                              \
	(_Generic(((type *)0)->stacks, struct stacks                                               \
		  : true, default                                                                  \
		  : false) &&                                                                      \
	 offsetof(type, stacks) + sizeof(struct stacks) == sizeof(type))
#define RECORD(name, NAME, KIND, stacks)                                                           \
	_Static_assert(offsetof(struct name##_record, hdr) == 0,                                   \
		       "struct " #name "_record begins with its record_header");                   \
	_Static_assert(ENDS_WITH_STACKS_##stacks(struct name##_record),                            \
		       "struct " #name "_record ends with a struct stacks, or kinds.def says "     \
		       "NO_STACKS");
#include "kinds.def"
