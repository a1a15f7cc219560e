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

/* A module of the capture known by its build-id alone, so far. */
struct unseen {
	const struct umodule *module;
	int64_t id; /* module.id */
};

struct stack_store {
	const struct ksyms *ksyms;
	struct usyms *usyms;
	struct unseen *unseen; /* of the current file */
	size_t nunseen;
	struct dedup *captured; /* frames as captured (user: in their pid) -> stack.id */
	struct dedup *named;	/* user frames as (identity, file offset) -> stack.id */
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
	free(store->unseen);
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
	store->nunseen = 0;
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
	stack = capture_add_stack(cap, false, nframes - first, CAPTURE_NULL);
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

/* Remember an unseen module of this file, once, to name its frames when it is seen. */
static void note_unseen(struct stack_store *store, const struct umodule *module, int64_t id)
{
	for (size_t i = 0; i < store->nunseen; i++)
		if (store->unseen[i].id == id)
			return;
	store->unseen = xrealloc(store->unseen, (store->nunseen + 1) * sizeof(*store->unseen));
	store->unseen[store->nunseen++] = (struct unseen){module, id};
}

/* Name the frames of an unseen module again: 1 if its file has been read since. */
static int name_module_frames(struct stack_store *store, struct capture *cap,
			      const struct unseen *unseen)
{
	struct frame_row *frames;
	struct uframe named;
	size_t count;
	int64_t id = -1;
	int err = 0;

	if (!usyms_name_unseen(store->usyms, unseen->module, 0, &named))
		return 0;
	if (capture_module_frames(cap, unseen->id, &frames, &count))
		return -1;
	for (size_t i = 0; i < count && !err; i++) {
		struct frame_row *row = &frames[i];

		usyms_name_unseen(store->usyms, unseen->module, (uint64_t)row->ip, &named);
		id = module_id(store, cap, named.module, umodule_path(named.module),
			       umodule_build_id(named.module), umodule_deleted(named.module));
		row->module = id;
		row->offset = (int64_t)named.offset;
		row->symbol = named.not_code ? NULL : named.symbol;
		row->symbol_offset = row->symbol ? (int64_t)named.symbol_offset : CAPTURE_NULL;
		err = id < 0 || capture_rename_frame(cap, row);
	}
	free(frames);
	return err ? -1 : 1;
}

int stack_store_name_unseen(struct stack_store *store, struct capture *cap)
{
	for (size_t i = 0; i < store->nunseen;) {
		int named = name_module_frames(store, cap, &store->unseen[i]);

		if (named < 0)
			return -1;
		if (named)
			store->unseen[i] = store->unseen[--store->nunseen];
		else
			i++;
	}
	return 0;
}

/*
 * Name a frame as the kernel gave it: by build-id and file offset, else by
 * address in the image.  A frame that is no code ends the stack.
 */
static void resolve_user_frame(struct stack_store *store, const struct process_image *image,
			       const struct bpf_stack_build_id *frame, struct uframe *resolved)
{
	if (frame->status == BPF_STACK_BUILD_ID_VALID)
		usyms_resolve_build_id(store->usyms, image, frame->build_id, frame->offset,
				       resolved);
	else
		usyms_resolve(store->usyms, image, frame->ip, resolved);
}

int64_t store_user_stack(struct stack_store *store, struct capture *cap,
			 const struct process_image *image, const struct bpf_stack_build_id *frames,
			 int nframes)
{
	struct uframe resolved[MAX_STACK_DEPTH];
	uint64_t words[2 * MAX_STACK_DEPTH + 3];
	struct stack_key key, named_key;
	int64_t id, stack, cut_at = CAPTURE_NULL;
	int kept = 0;

	/* As captured: the frames in their image (a build-id frame by its offset and id). */
	for (int i = 0; i < nframes; i++) {
		words[2 * i] = frames[i].offset; /* or the ip: a union */
		memcpy(&words[2 * i + 1], frames[i].build_id, sizeof(words[0]));
		words[2 * i + 1] ^= (uint64_t)frames[i].status << 62;
	}
	words[2 * nframes] = image->pid;
	words[2 * nframes + 1] = image->exec_id;
	words[2 * nframes + 2] = image->start_ns;
	key = key_of(words, 2 * nframes + 3, nframes);
	id = dedup_find(store->captured, &key);
	if (id >= 0)
		return id;
	/*
	 * Name each frame up to the first that is no code, then look for the
	 * same named stack: by identity and file offset, the same whether a
	 * build-id's file had been read then or not.
	 */
	for (; kept < nframes && frames[kept].status != BPF_STACK_BUILD_ID_EMPTY; kept++) {
		struct uframe *f = &resolved[kept];

		resolve_user_frame(store, image, &frames[kept], f);
		if (f->not_code) {
			cut_at = (int64_t)frames[kept].ip;
			break;
		}
		words[2 * kept] = (uintptr_t)f->identity;
		words[2 * kept + 1] = f->module ? f->file_offset : frames[kept].ip;
	}
	words[2 * kept] = (uint64_t)cut_at;
	named_key = key_of(words, 2 * kept + 1, kept);
	stack = dedup_find(store->named, &named_key);
	if (stack >= 0) {
		dedup_add(store->captured, &key, stack);
		return stack;
	}
	stack = capture_add_stack(cap, true, kept, cut_at);
	for (int i = 0; stack >= 0 && i < kept; i++) {
		const struct uframe *f = &resolved[i];
		struct frame_row row = {
			stack,	      i,	(int64_t)frames[i].ip, CAPTURE_NULL, CAPTURE_NULL,
			CAPTURE_NULL, f->symbol};

		if (f->module) {
			row.module =
				module_id(store, cap, f->module, umodule_path(f->module),
					  umodule_build_id(f->module), umodule_deleted(f->module));
			/* A file offset is no ELF address: it stands as the frame's ip. */
			row.offset = f->unseen ? CAPTURE_NULL : (int64_t)f->offset;
			if (row.module < 0)
				return -1;
			if (f->unseen)
				note_unseen(store, f->module, row.module);
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
