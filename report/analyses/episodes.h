/*
 * Episodes: events of many groups (a scanner and its target, a process, a
 * client and a service), in time order, cut per group where a gap longer
 * than the window ends one, with the most items (distinct, or events) that
 * one window of the episode holds: what every detection's rule tests.
 *
 * Memory holds the events of the last window and the groups that have some,
 * never the whole capture: a group's episode is closed (handed to the rule)
 * as soon as a window has passed without its events.
 */
#ifndef CASEFILE_REPORT_EPISODES_H
#define CASEFILE_REPORT_EPISODES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct episode {
	uint64_t key[2]; /* the group */
	int64_t first_ns, last_ns;
	int64_t events;	 /* all of them */
	int64_t counted; /* those with an item */
	int64_t peak;	 /* most items within one window (closed, both ends) */
	void *data;	 /* the rule's: data_size bytes, zeroed when the episode starts */
};

struct episodes_rule {
	int64_t window_ns;
	bool distinct; /* items counted once per window; else every counted event */
	size_t data_size;
	/* An episode ended (or the stream did): 0, or -1 after one line on stderr. */
	int (*closed)(struct episode *episode, void *ctx);
	/* Free what an episode's data points to (after closed, or unclosed); may be NULL. */
	void (*release)(void *data);
	void *ctx;
};

struct episodes;

struct episodes *episodes_new(const struct episodes_rule *rule);

/*
 * An event of group key at t (not before the previous event given), counted
 * in the windows with its item or not.  Returns the group's episode, for the
 * rule to update its data; NULL when closing an episode failed.
 */
struct episode *episodes_add(struct episodes *e, const uint64_t key[2], int64_t t, bool counted,
			     uint64_t item);

/*
 * For a caller that knows its next events (replay's prefetch), in two
 * stages: start fetching the map's slot of key's group; then, once it is in
 * the cache, the group's first lines and the first data_bytes of its data.
 * Every event of a dense capture reaches an episode of its own among
 * thousands open, each a cache miss.
 */
void episodes_prefetch_slot(const struct episodes *e, const uint64_t key[2]);
void episodes_prefetch(const struct episodes *e, const uint64_t key[2], size_t data_bytes);
/*
 * A third, once the group is in the cache (or where groups are few, as a
 * host's processes): start fetching the slot of an item in the window of
 * key's group.  The group's episode, or NULL when none is open.
 */
const struct episode *episodes_prefetch_item(const struct episodes *e, const uint64_t key[2],
					     uint64_t item);

/* Close every episode still open (end of the stream): 0, or -1 after one line. */
int episodes_finish(struct episodes *e);

/* Free, without closing (after finish, or after an error). */
void episodes_free(struct episodes *e);

#endif
