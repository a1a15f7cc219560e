/*
 * User-space symbols of the recording host's processes: the mappings of each
 * process image from /proc/PID/maps, the functions and build-ids of the
 * mapped files through libelf.  Each image is read once (again when an
 * address is missing, after a dlopen), each file once.  Thread-safe: the
 * image watcher snapshots images while the recorder resolves frames.
 */
#ifndef CASEFILE_RECORD_USYMS_H
#define CASEFILE_RECORD_USYMS_H

#include <stdbool.h>
#include <stdint.h>

#include "casefile.h"

struct usyms;

/* An ELF file (or special mapping such as [vdso]) some process had mapped. */
struct umodule;

/* Where a user address lies, as far as it can be told. */
struct uframe {
	const struct umodule *module; /* NULL: no mapping holds it (JIT code, exited process) */
	uint64_t offset;	      /* ELF virtual address in the module, as addr2line takes it */
	const char *symbol;	      /* NULL: no function covers it (stripped, no symbols) */
	uint64_t symbol_offset;
};

struct usyms *usyms_new(void);
void usyms_free(struct usyms *syms);

/*
 * Read the image's mappings now, if not done yet.  An image that is gone
 * (exited, or exec'd into another program) stays without mappings.
 */
void usyms_snapshot(struct usyms *syms, const struct process_image *image);

/* Resolve addr in the image, snapshotting it first if needed. */
void usyms_resolve(struct usyms *syms, const struct process_image *image, uint64_t addr,
		   struct uframe *frame);

/* A module's path (or "[vdso]"...), build-id in hex (or NULL), and whether deleted. */
const char *umodule_path(const struct umodule *module);
const char *umodule_build_id(const struct umodule *module);
bool umodule_deleted(const struct umodule *module);

#endif
