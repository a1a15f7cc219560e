/*
 * Stacks into the capture: each distinct stack stored once, its frames named
 * while the recording host's symbols are at hand (kernel frames from
 * kallsyms, user frames from the process's mappings and files).  Naming is
 * done once per distinct stack, never per event.
 */
#ifndef CASEFILE_RECORD_STACKS_H
#define CASEFILE_RECORD_STACKS_H

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
int64_t store_user_stack(struct stack_store *store, struct capture *cap,
			 const struct process_image *image, const uint64_t *frames, int nframes);

#endif
