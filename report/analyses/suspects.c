/*
 * Programs that stand out among those that connected or accepted, counted
 * per image as the detections stream their events (summary's taps).
 * Memory grows with the images that stand out, never with events.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "suspects.h"
#include "util.h"

/* cap's index in set: its place, checked (a search among a fleet's cost every event). */
static int capture_number(const struct captures *set, const struct capture *cap)
{
	if (cap->place >= 0 && cap->place < set->count && set->list[cap->place] == cap)
		return cap->place;
	for (int i = 0; i < set->count; i++)
		if (set->list[i] == cap)
			return i;
	return -1;
}

static struct suspect *entry(struct suspects *s, int capture, const struct image *im)
{
	bool added;
	uint64_t *slot = hashmap_put(&s->index, (uint64_t)capture, (uint64_t)im->row, &added);
	struct suspect *k;

	if (!added)
		return &s->list[*slot - 1];
	if (s->count == s->allocated) {
		s->allocated = s->allocated ? 2 * s->allocated : 16;
		s->list = xrealloc(s->list, s->allocated * sizeof(*s->list));
	}
	k = &s->list[s->count];
	*k = (struct suspect){
		.capture = capture,
		.row = im->row,
		.pid = im->pid,
		.start_ns = im->start_ns,
		.image_t = im->t,
		.comm_len = im->comm_len < CAPTURE_TEXT_MAX ? im->comm_len : CAPTURE_TEXT_MAX,
		.exe_len = im->exe_marked_len,
		.deleted = im->deleted,
		.world_writable = im->world_writable,
		.default_name = im->default_name,
		.first_ns = INT64_MAX,
	};
	memcpy(k->comm, im->comm, k->comm_len);
	k->exe = xmalloc(im->exe_marked_len + 1);
	memcpy(k->exe, im->exe_marked, im->exe_marked_len);
	*slot = ++s->count;
	return k;
}

int suspects_add(struct suspects *s, const struct event *ev, const struct task *task, bool accept)
{
	const struct image *im;
	struct suspect *k;
	int found = lineage_stands_out(ev->cap, task->pid, task->start_ns, ev->t);

	if (found > 0)
		found = lineage_image(ev->cap, task->pid, task->start_ns, ev->t, &im);
	if (found <= 0)
		return found;
	if (!im->exe || !(im->deleted || im->world_writable || im->default_name))
		return 0;
	k = entry(s, capture_number(s->set, ev->cap), im);
	k->connects += !accept;
	k->accepts += accept;
	if (ev->wall_ns < k->first_ns)
		k->first_ns = ev->wall_ns;
	return 0;
}

static int by_first(const void *x, const void *y)
{
	const struct suspect *a = x, *b = y;

	return (a->first_ns > b->first_ns) - (a->first_ns < b->first_ns);
}

void suspects_merge(struct suspects *into, struct suspects *from)
{
	for (size_t i = 0; i < from->count; i++) {
		struct suspect *f = &from->list[i];
		uint64_t *slot = hashmap_find(&into->index, (uint64_t)f->capture, (uint64_t)f->row);
		struct suspect *k;

		if (!slot) {
			if (into->count == into->allocated) {
				into->allocated = into->allocated ? 2 * into->allocated : 16;
				into->list =
					xrealloc(into->list, into->allocated * sizeof(*into->list));
			}
			into->list[into->count++] = *f;
			f->exe = NULL; /* moved */
			continue;
		}
		k = &into->list[*slot - 1];
		k->connects += f->connects;
		k->accepts += f->accepts;
		if (f->first_ns < k->first_ns)
			k->first_ns = f->first_ns;
	}
	hashmap_clear(&into->index); /* entries now move in the sort */
	if (into->count)
		qsort(into->list, into->count, sizeof(*into->list), by_first);
}

void suspect_marks(const struct suspect *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s%s%s", s->world_writable ? "world-writable dir" : "",
		 s->world_writable && (s->deleted || s->default_name) ? ", " : "",
		 s->deleted ? "deleted" : "", s->deleted && s->default_name ? ", " : "",
		 s->default_name ? "compiler's default name" : "");
}

void suspects_free(struct suspects *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->list[i].exe);
	free(s->list);
	hashmap_clear(&s->index);
	*s = (struct suspects){0};
}
