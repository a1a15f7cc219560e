/*
 * Rows taken in groups of one hash, in bounded memory: held in memory while
 * they fit, else written to a temporary file in shares of their hash (a
 * Grace hash join's partitions) and read back one share at a time.  So an
 * analysis that wants exact totals per key reads its events once, whatever
 * the number of keys, in memory that never grows with them.
 *
 * The file is unlinked as soon as it is made ($TMPDIR, else /tmp): it goes
 * with the process, however that ends.  Memory: memory_rows rows (as kept,
 * and as rows when read back), and while written, a chunk's buffer per share
 * (SPILL_SHARES of SPILL_CHUNK bytes) and 16 bytes a chunk written (1/2048 of
 * what it writes).  A share larger than memory_rows is split again by the
 * next byte of the hash.
 */
#ifndef CASEFILE_REPORT_SPILL_H
#define CASEFILE_REPORT_SPILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPILL_SHARES 256	/* a byte of the hash picks the share */
#define SPILL_CHUNK  (32 << 10) /* bytes a share writes at once */
#define SPILL_WORDS  16		/* a row's words after its hash, at most */

/*
 * A row is 64-bit words: its hash, then its values.  It is kept as each
 * value's difference from the first row's (zigzag: a small negative is
 * small), in as few bytes as that takes, after a nibble a value giving
 * them: a close of exfil's is some 25 bytes, not 80.  The hash is not kept:
 * rehash gives it again from the values.
 */
typedef uint64_t (*spill_rehash)(const void *row);

struct spill_chunk {
	uint64_t at;	/* its offset in the file */
	uint32_t bytes; /* its length */
};

struct spill_share {
	char *buffer; /* the chunk being filled */
	size_t used;  /* its bytes */
	size_t rows;  /* in all */
	size_t bytes; /* in all, as kept */
	struct spill_chunk *chunks;
	size_t nchunks, allocated;
};

struct spill {
	const char *who; /* for errors: "exfil" */
	size_t row_size, memory_rows;
	size_t words; /* a row's after its hash */
	spill_rehash rehash;
	uint64_t base[SPILL_WORDS]; /* the first row's words: the others kept as differences */
	bool based;
	int level;    /* which byte of the hash picks the share: 0 the highest */
	char *kept;   /* rows as kept: while none is written, then a share's, read back */
	size_t count; /* rows in it while none is written */
	size_t used, kept_allocated; /* its bytes */
	uint64_t *hashes;	     /* of its rows while none is written */
	size_t hashes_allocated;
	char *rows; /* a batch, as rows */
	size_t allocated;
	int fd;	      /* -1: none written */
	uint64_t end; /* the file's length */
	struct spill_share *shares;
};

/* A well-mixed hash of two integers: the shares take its bytes. */
uint64_t spill_hash(uint64_t a, uint64_t b);

/*
 * Rows of row_size bytes (64-bit words, the first its hash, at most
 * SPILL_WORDS more); memory_rows in memory.
 */
void spill_init(struct spill *s, const char *who, size_t row_size, size_t memory_rows,
		spill_rehash rehash);

/* Add a row (copied): 0, or -1 after one line (the temporary file could not be written). */
int spill_add(struct spill *s, const void *row);

/*
 * Every row added, in batches: all the rows of one hash in one batch, in the
 * order they were added.  batch returns 0, or -1 after one line, which stops
 * the rows.  0, or -1 after one line.
 */
typedef int (*spill_batch)(void *rows, size_t count, void *ctx);
int spill_each(struct spill *s, spill_batch batch, void *ctx);

void spill_free(struct spill *s);

/*
 * A batch's rows in groups of a key: a table of the keys' hashes and their
 * groups' numbers, sized for the batch and kept from one batch to the next
 * (a map grown from empty for each batch spent most of its time growing).
 * 16 bytes a slot, two slots a group.
 */
struct spill_slot {
	uint64_t hash;
	uint32_t group; /* 1 + its index; 0: an empty slot */
};

struct spill_groups {
	struct spill_slot *slots;
	size_t mask, allocated;
};

/* Every slot empty, room for groups groups. */
void spill_groups_reset(struct spill_groups *g, size_t groups);

/*
 * The slots of hash in turn, *probe 0 at first: each call the next slot
 * with that hash, else the empty one where a new group of it goes (its hash
 * and group set by the caller).
 */
struct spill_slot *spill_groups_probe(struct spill_groups *g, uint64_t hash, size_t *probe);

void spill_groups_free(struct spill_groups *g);

#endif
