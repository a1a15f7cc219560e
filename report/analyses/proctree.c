/*
 * The processes findings involve and their parents (proctree.h), read
 * through lineage: each process once, its image at the finding's time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "proctree.h"
#include "util.h"

void tree_init(struct tree *tree, struct captures *set, struct peers *peers)
{
	*tree = (struct tree){.set = set, .peers = peers};
}

void tree_free(struct tree *tree)
{
	free(tree->nodes);
	tree->nodes = NULL;
	tree->count = 0;
}

static long find(const struct tree *tree, int capture, int64_t pid, int64_t start_ns)
{
	for (size_t i = 0; i < tree->count; i++)
		if (tree->nodes[i].capture == capture && tree->nodes[i].pid == pid &&
		    tree->nodes[i].start_ns == start_ns)
			return (long)i;
	return -1;
}

static size_t copy(char *to, const char *from, size_t len)
{
	if (!from)
		return 0;
	len = len < TREE_TEXT_MAX ? len : TREE_TEXT_MAX;
	memcpy(to, from, len);
	return len;
}

/* The node of a process, added with its parents when new: its index, or -1. */
static long node(struct tree *tree, int capture, int64_t pid, int64_t start_ns, int64_t t,
		 int depth)
{
	struct capture *cap = tree->set->list[capture];
	const struct image *im;
	struct tree_node *n;
	int64_t ppid, pstart;
	long index = find(tree, capture, pid, start_ns), parent = -1;

	if (index >= 0)
		return index;
	if (tree->count == TREE_NODES_MAX) {
		tree->dropped++;
		return -1;
	}
	if (lineage_image(cap, pid, start_ns, t, &im) <= 0)
		return -1;
	if (!tree->nodes)
		tree->nodes = xcalloc(TREE_NODES_MAX, sizeof(*tree->nodes));
	index = (long)tree->count++;
	n = &tree->nodes[index];
	*n = (struct tree_node){.capture = capture, .pid = pid, .start_ns = start_ns, .parent = -1};
	n->comm_len = im->comm_len < CAPTURE_TEXT_MAX ? im->comm_len : CAPTURE_TEXT_MAX;
	memcpy(n->comm, im->comm, n->comm_len);
	n->exe_len = copy(n->exe, im->exe_marked, im->exe_marked_len);
	n->args_len = copy(n->args, im->args, im->args_len);
	if (depth < LINEAGE_DEPTH_MAX && lineage_parent(cap, im, &ppid, &pstart) > 0 && ppid != pid)
		parent = node(tree, capture, ppid, pstart, t, depth + 1);
	tree->nodes[index].parent = parent;
	return index;
}

void tree_add(struct tree *tree, int capture, int64_t pid, int64_t start_ns, int64_t wall_ns,
	      const char *why)
{
	const struct capture *cap = tree->set->list[capture];
	long index = node(tree, capture, pid, start_ns,
			  wall_ns - cap->base_ns - cap->realtime_offset_ns, 0);

	if (index >= 0 && !tree->nodes[index].why)
		tree->nodes[index].why = why;
}

void tree_add_pid(struct tree *tree, int host, int64_t pid, int64_t wall_ns, const char *why)
{
	for (int i = 0; i < tree->set->count; i++) {
		struct capture *cap = tree->set->list[i];
		int64_t boot = wall_ns - cap->realtime_offset_ns, start, chosen = INT64_MIN;
		bool any = false;

		if (peers_host(tree->peers, cap) != host)
			continue;
		/* The latest process of that pid started by then, else its first. */
		for (int64_t after = INT64_MIN; lineage_next_process(cap, pid, after, &start) > 0;
		     after = start) {
			if (!any || start <= boot)
				chosen = start;
			any = true;
		}
		if (any) {
			tree_add(tree, i, pid, chosen, wall_ns, why);
			return;
		}
	}
}

void tree_add_named(struct tree *tree, int host, const char *list, int64_t wall_ns, const char *why)
{
	for (const char *s = list; s && *s;) {
		const char *end = strchr(s, ','), *slash;
		size_t len = end ? (size_t)(end - s) : strlen(s);
		char item[CAPTURE_TEXT_MAX + 32];
		int64_t pid;

		snprintf(item, sizeof(item), "%.*s", (int)len, s);
		slash = strrchr(item, '/');
		if (slash && !parse_integer(slash + 1, 0, INT32_MAX, &pid))
			tree_add_pid(tree, host, pid, wall_ns, why);
		s = end ? end + 1 : NULL;
		while (s && *s == ' ')
			s++;
	}
}
