/*
 * The processes some findings involve, with their parents up to the first
 * process the capture knows: a forest to draw, bounded (TREE_NODES_MAX).
 */
#ifndef CASEFILE_REPORT_PROCTREE_H
#define CASEFILE_REPORT_PROCTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "peers.h"

#define TREE_NODES_MAX 300
#define TREE_TEXT_MAX  256

struct tree_node {
	int capture; /* in the order of the files */
	int64_t pid, start_ns;
	long parent;	 /* index of its parent among the nodes, or -1 */
	const char *why; /* why it is involved (a static word); NULL: an ancestor */
	char comm[CAPTURE_TEXT_MAX], exe[TREE_TEXT_MAX], args[TREE_TEXT_MAX];
	size_t comm_len, exe_len, args_len;
};

struct tree {
	struct captures *set;
	struct peers *peers; /* numbering the hosts */
	struct tree_node *nodes;
	size_t count;
	size_t dropped; /* processes left out past TREE_NODES_MAX */
};

void tree_init(struct tree *tree, struct captures *set, struct peers *peers);
void tree_free(struct tree *tree);

/* Process (pid, start_ns) of capture number `capture`, at wall clock ns, and its parents. */
void tree_add(struct tree *tree, int capture, int64_t pid, int64_t start_ns, int64_t wall_ns,
	      const char *why);
/* The process with that pid on that host (peers' number) at wall clock ns. */
void tree_add_pid(struct tree *tree, int host, int64_t pid, int64_t wall_ns, const char *why);
/* Each "comm/pid" of a comma-separated list (a brute force's accepting processes). */
void tree_add_named(struct tree *tree, int host, const char *list, int64_t wall_ns,
		    const char *why);

#endif
