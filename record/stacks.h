/*
 * Stacks into the capture: each distinct stack stored once, its frames named
 * while the recording host's symbols are at hand (kernel frames from
 * kallsyms, user frames from the process's mappings and files).  Naming is
 * done once per distinct stack, never per event.
 */
#ifndef CASEFILE_RECORD_STACKS_H
#define CASEFILE_RECORD_STACKS_H

#include <linux/bpf.h>
#include <stdint.h>

#include "capture.h"
#include "ksyms.h"
#include "usyms.h"

struct stack_store;

/* ksyms may be NULL: kernel frames are then stored unnamed. */
struct stack_store *stack_store_new(const struct ksyms *ksyms, struct usyms *usyms);
void stack_store_free(struct stack_store *store);

/* Forget what is stored: the next capture file starts empty. */
void stack_store_reset(struct stack_store *store);

/* stack.id of these frames in cap, stored if new; -1 if cap cannot be written. */
int64_t store_kernel_stack(struct stack_store *store, struct capture *cap, const uint64_t *frames,
			   int nframes);
/*
 * User frames as bpf_get_stack(BPF_F_USER_BUILD_ID) gives them; the stack
 * stops before a frame that is no code (stack.cut_at).
 */
int64_t store_user_stack(struct stack_store *store, struct capture *cap,
			 const struct process_image *image, const struct bpf_stack_build_id *frames,
			 int nframes);

/*
 * Name the frames of cap taken by build-id from files not seen then, whose
 * files have been read since (another process mapped them): the process
 * that had them may be long gone.  0, or -1 after one line.
 */
int stack_store_name_unseen(struct stack_store *store, struct capture *cap);

#endif
