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

/* The path of a module known by its build-id alone: no mapping of its file was read. */
#define UNSEEN_MODULE "[unseen file]"

/* Where a user address lies, as far as it can be told. */
struct uframe {
	const struct umodule *module; /* NULL: no mapping holds it (JIT code, exited process) */
	/*
	 * The module as a stack's identity knows it, with file_offset: the
	 * same for a build-id's frames taken before its file was read (an
	 * UNSEEN_MODULE's) and after (the module they are named after since).
	 */
	const void *identity;
	uint64_t file_offset;
	uint64_t offset;    /* ELF virtual address in the module, as addr2line takes it */
	bool unseen;	    /* module is an UNSEEN_MODULE: offset is file_offset */
	const char *symbol; /* NULL: no function covers it (stripped, no symbols) */
	uint64_t symbol_offset;
	/*
	 * Not code: outside user space, outside the image's executable mappings
	 * or its file's code.  A frame-pointer walk that left the stack.
	 */
	bool not_code;
};

/*
 * Starts the parser process with fork(): call it before any thread starts,
 * as the child must not inherit a lock another thread holds.
 */
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

/*
 * Resolve a frame the kernel gave as its file's build-id (BUILD_ID_SIZE_MAX
 * bytes, zero-padded) and offset in the file: against every module read so
 * far, the image's own (if it is still there) and the recorder's; else a
 * module known only by that build-id (UNSEEN_MODULE).
 */
void usyms_resolve_build_id(struct usyms *syms, const struct process_image *image,
			    const unsigned char *build_id, uint64_t file_offset,
			    struct uframe *frame);

/*
 * A frame of an UNSEEN_MODULE named now, if a module of its build-id has
 * been read since (the first one read: the one that names its build-id's
 * frames from then on): false if none has.
 */
bool usyms_name_unseen(struct usyms *syms, const struct umodule *unseen, uint64_t file_offset,
		       struct uframe *frame);

/* A module's path (or "[vdso]"...), build-id in hex (or NULL), and whether deleted. */
const char *umodule_path(const struct umodule *module);
const char *umodule_build_id(const struct umodule *module);
bool umodule_deleted(const struct umodule *module);

#endif
