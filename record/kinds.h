/*
 * The event kinds and record types of bpf/kinds.def, as the recorder's
 * tables: each made from that list, so that none can miss an entry.
 */
#ifndef CASEFILE_RECORD_KINDS_H
#define CASEFILE_RECORD_KINDS_H

#include <stddef.h>

#include "casefile.h"

/* The kinds, numbered in the order of kinds.def. */
enum kind_index {
#define KIND(name, NAME, ...) KIND_INDEX_##NAME,
#include "kinds.def"
	KINDS,
};

/* The kinds -e selects, as bits. */
enum event_kind_bit {
#define KIND(name, NAME, ...) KIND_##NAME = 1 << KIND_INDEX_##NAME,
#include "kinds.def"
	KIND_ALL = (1 << KINDS) - 1,
};

/* Sets of kinds and of record types are unsigned masks (1 << kind, 1 << record_type). */
_Static_assert(KINDS <= 32 && RECORD_TYPES <= 32, "a mask of kinds or record types fits 32 bits");

/* The word -e takes for each kind; the name event_kind stores for each record type. */
extern const char *const kind_names[KINDS];
extern const char *const record_type_names[RECORD_TYPES];

/* The record types of a set of kinds, as 1 << record_type. */
unsigned record_types(unsigned kinds);

/* The record types that can carry stacks (STACKS in kinds.def), as 1 << record_type. */
extern const unsigned stacked_record_types;

/*
 * Where a record type's struct stacks lies in its record, from its stacks
 * argument in kinds.def: RECORD_STACKS_AT_##stacks(struct name_record).
 * 0 for none (a record begins with its header: kinds.c checks).
 */
#define RECORD_STACKS_AT_STACKS(type)	 offsetof(type, stacks)
#define RECORD_STACKS_AT_NO_STACKS(type) 0

#endif
