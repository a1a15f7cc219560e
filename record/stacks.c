/* Stacks into the capture: deduplicated, named once. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dedup.h"
#include "stacks.h"
#include "util.h"

#define MAX_CACHED_STACKS  65536
#define MAX_CACHED_MODULES 4096

/*
 * A stack's identity: two independent 64-bit hashes of its frames (and, for
 * user frames as captured, of their process image), so that keys stay small;
 * a false match needs a 128-bit collision.
 */
struct stack_key {
	uint64_t nframes;
	uint64_t hash[2];
};

struct stack_store {
	const struct ksyms *ksyms;
	struct usyms *usyms;
	struct dedup *captured; /* frames as captured (user: in their pid) -> stack.id */
	struct dedup *named;	/* user frames as (module, offset) -> stack.id */
	struct dedup *modules;	/* a module's identity (its name or umodule pointer) -> module.id */
};

struct stack_store *stack_store_new(const struct ksyms *ksyms, struct usyms *usyms)
{
	struct stack_store *store = xcalloc(1, sizeof(*store));

	store->ksyms = ksyms;
	store->usyms = usyms;
	stack_store_reset(store);
	return store;
}

void stack_store_free(struct stack_store *store)
{
	if (!store)
		return;
	dedup_free(store->captured);
	dedup_free(store->named);
	dedup_free(store->modules);
	free(store);
}

void stack_store_reset(struct stack_store *store)
{
	dedup_free(store->captured);
	dedup_free(store->named);
	dedup_free(store->modules);
	store->captured = dedup_new(sizeof(struct stack_key), MAX_CACHED_STACKS);
	store->named = dedup_new(sizeof(struct stack_key), MAX_CACHED_STACKS);
	store->modules = dedup_new(sizeof(uintptr_t), MAX_CACHED_MODULES);
}

static struct stack_key key_of(const uint64_t *words, int nwords, int nframes)
{
	struct stack_key key = {.nframes = (uint64_t)nframes};
	uint64_t a = 0xcbf29ce484222325ull, b = 0x9e3779b97f4a7c15ull;

	for (int i = 0; i < nwords; i++) {
		a = (a ^ words[i]) * 0x100000001b3ull;
		b = (b ^ (words[i] + (uint64_t)i)) * 0xff51afd7ed558ccdull;
		b ^= b >> 29;
	}
	key.hash[0] = a;
	key.hash[1] = b;
	return key;
}

/* module.id for a module known by identity (a pooled name, or a umodule). */
static int64_t module_id(struct stack_store *store, struct capture *cap, const void *identity,
			 const char *name, const char *build_id, bool deleted)
{
	uintptr_t key = (uintptr_t)identity;
	int64_t id = dedup_find(store->modules, &key);

	if (id < 0) {
		id = capture_add_module(cap, name, build_id, deleted);
		if (id >= 0)
			dedup_add(store->modules, &key, id);
	}
	return id;
}

/*
 * Frames of the tracing machinery itself (the BPF program, the tracepoint's
 * glue) lead every kernel stack: the stack starts at the traced function.
 */
static bool is_tracing_frame(const struct ksym *sym)
{
	static const char *const prefixes[] = {
		"bpf_trace_run",     "__bpf_trace_", "trace_call_bpf", "perf_trace_run_bpf_submit",
		"perf_syscall_exit", "__traceiter_",
	};

	if (!strcmp(sym->module, "bpf"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (!strncmp(sym->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

int64_t store_kernel_stack(struct stack_store *store, struct capture *cap, const uint64_t *frames,
			   int nframes)
{
	struct stack_key key = key_of(frames, nframes, nframes);
	int64_t id = dedup_find(store->captured, &key), stack;
	int first = 0;
	struct ksym sym;

	if (id >= 0)
		return id;
	while (store->ksyms && first < nframes - 1 &&
	       ksyms_lookup(store->ksyms, frames[first], &sym) && is_tracing_frame(&sym))
		first++;
	stack = capture_add_stack(cap, false, nframes - first);
	for (int i = first; stack >= 0 && i < nframes; i++) {
		struct frame_row row = {stack,	      i - first,    (int64_t)frames[i],
					CAPTURE_NULL, CAPTURE_NULL, CAPTURE_NULL,
					NULL};

		if (store->ksyms && ksyms_lookup(store->ksyms, frames[i], &sym)) {
			row.module = module_id(store, cap, sym.module, sym.module, NULL, false);
			row.offset = (int64_t)frames[i];
			row.symbol = sym.name;
			row.symbol_offset = (int64_t)(frames[i] - sym.start);
			if (row.module < 0)
				return -1;
		}
		if (capture_add_frame(cap, &row))
			return -1;
	}
	if (stack >= 0)
		dedup_add(store->captured, &key, stack);
	return stack;
}

int64_t store_user_stack(struct stack_store *store, struct capture *cap,
			 const struct process_image *image, const uint64_t *frames, int nframes)
{
	struct uframe resolved[MAX_STACK_DEPTH];
	uint64_t words[2 * MAX_STACK_DEPTH + 3];
	struct stack_key key, named_key;
	int64_t id, stack;

	/* As captured: the frames in their image. */
	memcpy(words, frames, sizeof(*frames) * (size_t)nframes);
	words[nframes] = image->pid;
	words[nframes + 1] = image->exec_id;
	words[nframes + 2] = image->start_ns;
	key = key_of(words, nframes + 3, nframes);
	id = dedup_find(store->captured, &key);
	if (id >= 0)
		return id;
	/* Name each frame, then look for the same named stack from another process. */
	for (int i = 0; i < nframes; i++) {
		usyms_resolve(store->usyms, image, frames[i], &resolved[i]);
		words[2 * i] = (uintptr_t)resolved[i].module;
		words[2 * i + 1] = resolved[i].module ? resolved[i].offset : frames[i];
	}
	named_key = key_of(words, 2 * nframes, nframes);
	stack = dedup_find(store->named, &named_key);
	if (stack >= 0) {
		dedup_add(store->captured, &key, stack);
		return stack;
	}
	stack = capture_add_stack(cap, true, nframes);
	for (int i = 0; stack >= 0 && i < nframes; i++) {
		const struct uframe *f = &resolved[i];
		struct frame_row row = {
			stack,	      i,	(int64_t)frames[i], CAPTURE_NULL, CAPTURE_NULL,
			CAPTURE_NULL, f->symbol};

		if (f->module) {
			row.module =
				module_id(store, cap, f->module, umodule_path(f->module),
					  umodule_build_id(f->module), umodule_deleted(f->module));
			row.offset = (int64_t)f->offset;
			if (row.module < 0)
				return -1;
		}
		if (f->symbol)
			row.symbol_offset = (int64_t)f->symbol_offset;
		if (capture_add_frame(cap, &row))
			return -1;
	}
	if (stack >= 0) {
		dedup_add(store->captured, &key, stack);
		dedup_add(store->named, &named_key, stack);
	}
	return stack;
}
