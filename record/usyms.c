/*
 * User-space symbols: process mappings from /proc, file symbols through
 * libelf, both parsed in the parser process (sandbox.c): the recorder only
 * opens and reads, with the privileges it needs to.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sandbox.h"
#include "usyms.h"
#include "util.h"

#define MAX_PROCESSES  1024	  /* mappings kept for this many processes at most */
#define MAPS_TEXT_MAX  (8u << 20) /* of a /proc/PID/maps: a process has some hundred lines */
#define BUILD_ID_BYTES 20	  /* the kernel's BUILD_ID_SIZE_MAX */

/*
 * User space ends below 2^48 on x86_64 (2^47 without 5-level paging) and
 * arm64: a frame at or above is no code, whatever the mappings.
 */
#define USER_ADDRESS_END (1ull << 48)

struct umodule {
	char *path;
	bool deleted;
	bool read; /* its file was opened: segments, build-id and functions are known */
	/*
	 * The first module read with its build-id: frames given by build-id are
	 * named after it, whichever modules are read later with the same.
	 */
	bool canonical;
	const struct umodule *identity; /* see uframe.identity */
	uint64_t dev, ino;
	struct elf_info info; /* PT_LOAD segments map file offsets to virtual addresses */
	/* info.build_id as bytes, as the kernel gives frames' (none: longer than it takes) */
	unsigned char build_id_bytes[BUILD_ID_BYTES];
	size_t build_id_len;
};

struct mapping {
	uint64_t start, end, pgoff;
	struct umodule *module;
};

struct process {
	struct process_image image;
	struct mapping *mappings;
	size_t nmappings;
};

struct usyms {
	pthread_mutex_t lock;
	struct parser *parser; /* NULL: it could not start, nothing is parsed */
	struct process *processes;
	size_t nprocesses;
	struct umodule **modules;
	size_t nmodules;
	bool read_own; /* the recorder's own mappings were read: libc, ld.so... */
};

struct usyms *usyms_new(void)
{
	struct usyms *syms = xcalloc(1, sizeof(*syms));

	pthread_mutex_init(&syms->lock, NULL);
	syms->parser = parser_start();
	return syms;
}

static void free_process(struct process *p)
{
	free(p->mappings);
	p->mappings = NULL;
	p->nmappings = 0;
}

void usyms_free(struct usyms *syms)
{
	if (!syms)
		return;
	for (size_t i = 0; i < syms->nprocesses; i++)
		free_process(&syms->processes[i]);
	for (size_t i = 0; i < syms->nmodules; i++) {
		struct umodule *m = syms->modules[i];

		free(m->path);
		elf_info_free(&m->info);
		free(m);
	}
	free(syms->processes);
	free(syms->modules);
	parser_stop(syms->parser);
	pthread_mutex_destroy(&syms->lock);
	free(syms);
}

const char *umodule_path(const struct umodule *module)
{
	return module->path;
}

const char *umodule_build_id(const struct umodule *module)
{
	return module->info.build_id;
}

bool umodule_deleted(const struct umodule *module)
{
	return module->deleted;
}

/*
 * The file behind a mapping, as the process sees it: through its root (a
 * container's files), or through map_files when it was deleted.
 */
static int open_mapped_file(uint32_t pid, const struct mapping *map, const char *path, bool deleted)
{
	char name[4200];

	if (deleted)
		snprintf(name, sizeof(name), "/proc/%u/map_files/%" PRIx64 "-%" PRIx64, pid,
			 map->start, map->end);
	else
		snprintf(name, sizeof(name), "/proc/%u/root%s", pid, path);
	return open(name, O_RDONLY | O_CLOEXEC);
}

/* The bytes of a module's build-id, from the hex the parser gave (checked to be hex). */
static void build_id_to_bytes(struct umodule *m)
{
	const char *hex = m->info.build_id;
	size_t len = hex ? strlen(hex) / 2 : 0;

	if (len > BUILD_ID_BYTES)
		return;
	for (size_t i = 0; i < len; i++)
		sscanf(hex + 2 * i, "%2hhx", &m->build_id_bytes[i]);
	m->build_id_len = len;
}

/* The module read first with this build-id (the kernel's 20 bytes, zero-padded), or NULL. */
static struct umodule *module_with_build_id(struct usyms *syms, const unsigned char *id)
{
	for (size_t i = 0; i < syms->nmodules; i++)
		if (syms->modules[i]->canonical &&
		    !memcmp(syms->modules[i]->build_id_bytes, id, BUILD_ID_BYTES))
			return syms->modules[i];
	return NULL;
}

/* The UNSEEN_MODULE of this build-id, or NULL. */
static struct umodule *unseen_with_build_id(struct usyms *syms, const unsigned char *id)
{
	for (size_t i = 0; i < syms->nmodules; i++) {
		struct umodule *m = syms->modules[i];

		if (!m->info.nsegments && m->build_id_len == BUILD_ID_BYTES &&
		    !memcmp(m->build_id_bytes, id, BUILD_ID_BYTES) && m->path[0] == '[')
			return m;
	}
	return NULL;
}

/*
 * A module just read names its build-id's frames if it is the first read
 * with it; stacks taken before, known by the build-id alone, keep their
 * identity.
 */
static void name_build_id(struct usyms *syms, struct umodule *m)
{
	struct umodule *unseen;

	if (!m->build_id_len || !m->info.nsegments || module_with_build_id(syms, m->build_id_bytes))
		return;
	m->canonical = true;
	unseen = unseen_with_build_id(syms, m->build_id_bytes);
	if (unseen)
		m->identity = unseen;
}

/*
 * Read a module's file through process pid, unless already done.  A process
 * that exited before we looked leaves it unread for the next one to try.
 */
static void read_module(struct usyms *syms, struct umodule *m, uint32_t pid,
			const struct mapping *map)
{
	int fd;

	if (m->read || m->path[0] != '/' || !syms->parser)
		return;
	fd = open_mapped_file(pid, map, m->path, m->deleted);
	if (fd >= 0) {
		m->read = true;
		parser_elf(syms->parser, fd, &m->info);
		build_id_to_bytes(m);
		name_build_id(syms, m);
		close(fd);
	}
}

static struct umodule *module_of(struct usyms *syms, uint32_t pid, const struct mapping *map,
				 const char *name, uint64_t dev, uint64_t ino)
{
	static const char deleted_suffix[] = " (deleted)";
	size_t len = strlen(name), suffix = sizeof(deleted_suffix) - 1;
	bool deleted = len > suffix && !strcmp(name + len - suffix, deleted_suffix);
	char *path = xstrdup(name);
	struct umodule *m = NULL;

	path[len - (deleted ? suffix : 0)] = '\0';
	for (size_t i = 0; i < syms->nmodules && !m; i++)
		if (syms->modules[i]->dev == dev && syms->modules[i]->ino == ino &&
		    !strcmp(syms->modules[i]->path, path))
			m = syms->modules[i];
	if (m) {
		free(path);
	} else {
		m = xcalloc(1, sizeof(*m));
		m->path = path;
		m->deleted = deleted;
		m->dev = dev;
		m->ino = ino;
		m->identity = m;
		syms->modules =
			xrealloc(syms->modules, (syms->nmodules + 1) * sizeof(*syms->modules));
		syms->modules[syms->nmodules++] = m;
	}
	read_module(syms, m, pid, map);
	return m;
}

/* The text of a /proc file, up to max bytes; NULL when it cannot be read. */
static char *read_text(const char *name, size_t max, size_t *len)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	size_t capacity = 65536;
	char *text;
	ssize_t n;

	if (fd < 0)
		return NULL;
	text = xmalloc(capacity);
	*len = 0;
	while ((n = read(fd, text + *len, capacity - *len)) > 0 || (n < 0 && errno == EINTR)) {
		if (n > 0 && (*len += (size_t)n) == capacity && capacity < max)
			text = xrealloc(text, capacity = capacity * 2 < max ? capacity * 2 : max);
		if (*len == max)
			break;
	}
	close(fd);
	return text;
}

/* (Re)read /proc/PID/maps: executable mappings with a file or a name (parsed by the parser). */
static void read_mappings(struct usyms *syms, struct process *p)
{
	struct maps_entry *entries;
	char name[64], *text, *paths;
	size_t len, count;

	free_process(p);
	snprintf(name, sizeof(name), "/proc/%u/maps", p->image.pid);
	text = syms->parser ? read_text(name, MAPS_TEXT_MAX, &len) : NULL;
	if (!text)
		return; /* gone already: its frames stay unresolved */
	if (!parser_maps(syms->parser, text, len, &entries, &count, &paths) && count) {
		p->mappings = xcalloc(count, sizeof(*p->mappings));
		for (size_t i = 0; i < count; i++) {
			struct mapping map = {entries[i].start, entries[i].end, entries[i].pgoff,
					      NULL};

			map.module = module_of(syms, p->image.pid, &map, entries[i].path,
					       entries[i].dev, entries[i].ino);
			p->mappings[p->nmappings++] = map;
		}
	}
	free(entries);
	free(paths);
	free(text);
}

/*
 * Is process pid still the image?  /proc/PID/stat gives its start (clock
 * ticks since boot) and the start of its code, which an exec changes.
 */
static bool still_the_image(const struct process_image *image)
{
	unsigned long long start_ticks = 0, start_code = 0;
	char name[64], line[1024], *after_comm;
	long ticks_per_s = sysconf(_SC_CLK_TCK);
	FILE *f;
	int n;

	snprintf(name, sizeof(name), "/proc/%u/stat", image->pid);
	f = fopen(name, "re");
	if (!f)
		return false;
	n = fgets(line, sizeof(line), f) ? 1 : 0;
	fclose(f);
	after_comm = n ? strrchr(line, ')') : NULL; /* comm may hold spaces and parens */
	/* Fields 3 to 21 skipped, 22 starttime; 23 to 25 skipped, 26 startcode. */
	if (!after_comm || sscanf(after_comm + 2,
				  "%*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				  "%*s %*s %*s %*s %llu %*s %*s %*s %llu",
				  &start_ticks, &start_code) != 2)
		return false;
	return start_ticks == image->start_ns / (1000000000ull / (unsigned long long)ticks_per_s) &&
	       start_code == image->start_code;
}

static bool same_image(const struct process_image *a, const struct process_image *b)
{
	return a->pid == b->pid && a->exec_id == b->exec_id && a->start_ns == b->start_ns &&
	       a->start_code == b->start_code;
}

/* The image's entry, its mappings read (and checked to be its own) if new. */
static struct process *process_of(struct usyms *syms, const struct process_image *image)
{
	struct process *p;

	for (size_t i = 0; i < syms->nprocesses; i++)
		if (same_image(&syms->processes[i].image, image))
			return &syms->processes[i];
	if (syms->nprocesses == MAX_PROCESSES) {
		for (size_t i = 0; i < syms->nprocesses; i++)
			free_process(&syms->processes[i]);
		syms->nprocesses = 0;
	}
	if (!syms->processes)
		syms->processes = xmalloc(MAX_PROCESSES * sizeof(*p));
	p = &syms->processes[syms->nprocesses++];
	*p = (struct process){.image = *image};
	if (still_the_image(image)) {
		read_mappings(syms, p);
		if (!still_the_image(image))
			free_process(p); /* it exec'd while we read: not its mappings */
	}
	return p;
}

void usyms_snapshot(struct usyms *syms, const struct process_image *image)
{
	pthread_mutex_lock(&syms->lock);
	process_of(syms, image);
	pthread_mutex_unlock(&syms->lock);
}

static const struct mapping *mapping_of(const struct process *p, uint64_t addr)
{
	for (size_t i = 0; i < p->nmappings; i++)
		if (addr >= p->mappings[i].start && addr < p->mappings[i].end)
			return &p->mappings[i];
	return NULL;
}

/* The PT_LOAD segment holding a file offset, or NULL. */
static const struct elf_segment *segment_of(const struct umodule *m, uint64_t offset)
{
	for (size_t i = 0; i < m->info.nsegments; i++) {
		const struct elf_segment *s = &m->info.segments[i];

		if (offset >= s->offset && offset < s->offset + s->size)
			return s;
	}
	return NULL;
}

static const struct elf_function *function_at(const struct umodule *m, uint64_t vaddr)
{
	const struct elf_function *functions = m->info.functions;
	size_t lo = 0, hi = m->info.nfunctions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (functions[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	/* Within its size; a symbol without one reaches up to the next. */
	if (functions[lo - 1].size && vaddr >= functions[lo - 1].addr + functions[lo - 1].size)
		return NULL;
	return &functions[lo - 1];
}

/*
 * The frame at this file offset of module m: its ELF virtual address and
 * function.  Outside the file's code (a data segment, past its end), it is
 * none: a frame-pointer walk that left the stack.  A module whose file could
 * not be read can tell neither.
 */
static void name_frame(const struct umodule *m, uint64_t file_offset, struct uframe *frame)
{
	const struct elf_segment *segment = segment_of(m, file_offset);
	const struct elf_function *fn;

	frame->module = m;
	frame->identity = m->identity;
	frame->file_offset = file_offset;
	frame->offset = segment ? file_offset - segment->offset + segment->vaddr : file_offset;
	if (m->info.nsegments && (!segment || !segment->code)) {
		frame->not_code = true;
		return;
	}
	fn = function_at(m, frame->offset);
	if (fn) {
		frame->symbol = m->info.names + fn->name;
		frame->symbol_offset = frame->offset - fn->addr;
	}
}

void usyms_resolve(struct usyms *syms, const struct process_image *image, uint64_t addr,
		   struct uframe *frame)
{
	const struct mapping *map;
	struct process *p;

	*frame = (struct uframe){0};
	if (addr >= USER_ADDRESS_END) {
		frame->not_code = true;
		return;
	}
	pthread_mutex_lock(&syms->lock);
	p = process_of(syms, image);
	map = mapping_of(p, addr);
	if (!map && p->nmappings && still_the_image(image)) {
		read_mappings(syms, p); /* mapped since the snapshot, by a dlopen? */
		if (!still_the_image(image))
			free_process(p);
		map = mapping_of(p, addr);
	}
	if (map)
		name_frame(map->module, addr - map->start + map->pgoff, frame);
	else if (p->nmappings)
		frame->not_code = true; /* the image's code is known, and this is none of it */
	pthread_mutex_unlock(&syms->lock);
}

/* A module only known by its build-id: its file was never seen mapped. */
static struct umodule *unseen_module(struct usyms *syms, const unsigned char *id)
{
	struct umodule *m = unseen_with_build_id(syms, id);
	size_t len = BUILD_ID_BYTES;

	if (m)
		return m;
	m = xcalloc(1, sizeof(*m));
	m->path = xstrdup(UNSEEN_MODULE);
	m->read = true;
	m->identity = m;
	while (len > 0 && !id[len - 1]) /* a shorter build-id, padded with zeros */
		len--;
	m->build_id_len = BUILD_ID_BYTES;
	memcpy(m->build_id_bytes, id, BUILD_ID_BYTES);
	m->info.build_id = xmalloc(2 * len + 1);
	m->info.build_id[0] = '\0';
	for (size_t i = 0; i < len; i++)
		sprintf(m->info.build_id + 2 * i, "%02x", id[i]);
	syms->modules = xrealloc(syms->modules, (syms->nmodules + 1) * sizeof(*syms->modules));
	syms->modules[syms->nmodules++] = m;
	return m;
}

bool usyms_name_unseen(struct usyms *syms, const struct umodule *unseen, uint64_t file_offset,
		       struct uframe *frame)
{
	struct umodule *m;

	*frame = (struct uframe){0};
	pthread_mutex_lock(&syms->lock);
	m = module_with_build_id(syms, unseen->build_id_bytes);
	if (m)
		name_frame(m, file_offset, frame);
	pthread_mutex_unlock(&syms->lock);
	return m != NULL;
}

void usyms_resolve_build_id(struct usyms *syms, const struct process_image *image,
			    const unsigned char *build_id, uint64_t file_offset,
			    struct uframe *frame)
{
	struct umodule *m;

	*frame = (struct uframe){0};
	pthread_mutex_lock(&syms->lock);
	m = module_with_build_id(syms, build_id);
	/*
	 * Not seen yet: the image's own mappings, if it is still there, then
	 * ours (read and parsed as any process's, through the parser).
	 */
	if (!m) {
		process_of(syms, image);
		m = module_with_build_id(syms, build_id);
	}
	if (!m && !syms->read_own) {
		struct process own = {.image.pid = (uint32_t)getpid()};

		syms->read_own = true;
		read_mappings(syms, &own);
		free_process(&own);
		m = module_with_build_id(syms, build_id);
	}
	if (m) {
		name_frame(m, file_offset, frame);
	} else {
		frame->module = unseen_module(syms, build_id);
		frame->identity = frame->module->identity;
		frame->file_offset = file_offset;
		frame->offset = file_offset;
		frame->unseen = true;
	}
	pthread_mutex_unlock(&syms->lock);
}
