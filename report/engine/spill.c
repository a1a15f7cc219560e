/* Rows in shares of their hash, in memory or a temporary file (spill.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spill.h"
#include "util.h"

/* The last level: the hash's last byte picks the share; a share past it is read whole. */
#define LAST_LEVEL 7

/* splitmix64's finalizer: every bit of x moves every bit of the result. */
static uint64_t mix(uint64_t x)
{
	x = (x ^ x >> 30) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ x >> 27) * 0x94d049bb133111ebULL;
	return x ^ x >> 31;
}

uint64_t spill_hash(uint64_t a, uint64_t b)
{
	return mix(mix(a) ^ (b + 0x9e3779b97f4a7c15ULL));
}

void spill_init(struct spill *s, const char *who, size_t row_size, size_t memory_rows)
{
	*s = (struct spill){.who = who, .row_size = row_size, .memory_rows = memory_rows, .fd = -1};
}

static const char *temporary_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

static int failed(const struct spill *s, const char *what)
{
	fprintf(stderr, "report: %s: cannot %s a temporary file in %s: %s\n", s->who, what,
		temporary_dir(), strerror(errno));
	return -1;
}

/* The file, unlinked at once: nothing is left behind, however the process ends. */
static int open_file(struct spill *s)
{
	char path[4096];

	if (snprintf(path, sizeof(path), "%s/casefile-%s-XXXXXX", temporary_dir(), s->who) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return failed(s, "create");
	}
	if ((s->fd = mkstemp(path)) < 0)
		return failed(s, "create");
	unlink(path);
	s->shares = xcalloc(SPILL_SHARES, sizeof(*s->shares));
	return 0;
}

static size_t chunk_rows(const struct spill *s)
{
	return SPILL_CHUNK / s->row_size;
}

static int write_chunk(struct spill *s, struct spill_share *share)
{
	size_t size = share->used * s->row_size, done = 0;

	while (done < size) {
		ssize_t n =
			pwrite(s->fd, share->buffer + done, size - done, (off_t)(s->end + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n < 0 ? errno : ENOSPC;
			return failed(s, "write");
		}
		done += (size_t)n;
	}
	if (share->nchunks == share->allocated) {
		share->allocated = share->allocated ? 2 * share->allocated : 16;
		share->chunks = xrealloc(share->chunks, share->allocated * sizeof(*share->chunks));
	}
	share->chunks[share->nchunks++] = s->end;
	s->end += size;
	share->used = 0;
	return 0;
}

/* A row to its share's chunk, written when full. */
static int put(struct spill *s, const void *row)
{
	uint64_t hash;
	struct spill_share *share;
	char *to;

	memcpy(&hash, row, sizeof(hash));
	share = &s->shares[hash >> (56 - 8 * s->level) & (SPILL_SHARES - 1)];
	if (!share->buffer)
		share->buffer = xmalloc(chunk_rows(s) * s->row_size);
	to = share->buffer + share->used * s->row_size;
	memcpy(to, row, s->row_size);
	/*
	 * The share's next row comes some SPILL_SHARES rows later, and writing
	 * it missed the cache: its place, fetched for writing now, is there by
	 * then.
	 */
	__builtin_prefetch(to + s->row_size, 1);
	__builtin_prefetch(to + 2 * s->row_size - 1, 1);
	share->rows++;
	return ++share->used == chunk_rows(s) ? write_chunk(s, share) : 0;
}

/* Memory for rows rows at least (never more than memory_rows while they are added). */
static void room(struct spill *s, size_t rows)
{
	if (rows > s->memory_rows && s->fd < 0)
		rows = s->memory_rows;
	if (rows <= s->allocated)
		return;
	s->rows = xrealloc(s->rows, rows * s->row_size);
	s->allocated = rows;
}

int spill_add(struct spill *s, const void *row)
{
	if (s->fd < 0) {
		if (s->count < s->memory_rows) {
			if (s->count == s->allocated)
				room(s, s->allocated ? 2 * s->allocated : 64);
			memcpy(s->rows + s->count++ * s->row_size, row, s->row_size);
			return 0;
		}
		if (open_file(s))
			return -1;
		for (size_t i = 0; i < s->count; i++)
			if (put(s, s->rows + i * s->row_size))
				return -1;
		s->count = 0;
	}
	return put(s, row);
}

/* Chunk c of the share into to: its rows, or 0 after one line. */
static size_t read_chunk(struct spill *s, const struct spill_share *share, size_t c, char *to)
{
	size_t rows = c + 1 < share->nchunks ? chunk_rows(s) : share->rows - c * chunk_rows(s);
	size_t size = rows * s->row_size, done = 0;

	while (done < size) {
		ssize_t n = pread(s->fd, to + done, size - done, (off_t)(share->chunks[c] + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n < 0 ? errno : EIO;
			failed(s, "read");
			return 0;
		}
		done += (size_t)n;
	}
	return rows;
}

/* A share too large for memory, split by the next byte of the hash. */
static int split(struct spill *s, const struct spill_share *share, spill_batch batch, void *ctx)
{
	struct spill part;
	char *chunk = xmalloc(chunk_rows(s) * s->row_size);
	int err = 0;

	spill_init(&part, s->who, s->row_size, s->memory_rows);
	part.level = s->level + 1;
	for (size_t c = 0; !err && c < share->nchunks; c++) {
		size_t rows = read_chunk(s, share, c, chunk);

		err = !rows;
		for (size_t i = 0; !err && i < rows; i++)
			err = spill_add(&part, chunk + i * s->row_size);
	}
	free(chunk);
	err = err || spill_each(&part, batch, ctx);
	spill_free(&part);
	return err ? -1 : 0;
}

/* A share read back whole, in order: its rows, in memory (grown past memory_rows at the last
 * level). */
static int read_share(struct spill *s, const struct spill_share *share, spill_batch batch,
		      void *ctx)
{
	size_t at = 0;

	room(s, share->rows);
	for (size_t c = 0; c < share->nchunks; c++) {
		size_t rows = read_chunk(s, share, c, s->rows + at * s->row_size);

		if (!rows)
			return -1;
		at += rows;
	}
	return batch(s->rows, at, ctx);
}

int spill_each(struct spill *s, spill_batch batch, void *ctx)
{
	if (s->fd < 0)
		return s->count ? batch(s->rows, s->count, ctx) : 0;
	for (size_t i = 0; i < SPILL_SHARES; i++) {
		struct spill_share *share = &s->shares[i];

		if (share->used && write_chunk(s, share))
			return -1;
		free(share->buffer);
		share->buffer = NULL;
	}
	for (size_t i = 0; i < SPILL_SHARES; i++) {
		const struct spill_share *share = &s->shares[i];
		int err;

		if (!share->rows)
			continue;
		err = share->rows > s->memory_rows && s->level < LAST_LEVEL
			      ? split(s, share, batch, ctx)
			      : read_share(s, share, batch, ctx);
		if (err)
			return -1;
	}
	return 0;
}

void spill_free(struct spill *s)
{
	if (s->fd >= 0)
		close(s->fd);
	for (size_t i = 0; s->shares && i < SPILL_SHARES; i++) {
		free(s->shares[i].buffer);
		free(s->shares[i].chunks);
	}
	free(s->shares);
	free(s->rows);
	*s = (struct spill){.fd = -1};
}

void spill_groups_reset(struct spill_groups *g, size_t groups)
{
	size_t slots = 16;

	while (slots < 2 * groups)
		slots *= 2;
	if (slots > g->allocated) {
		free(g->slots);
		g->slots = xmalloc(slots * sizeof(*g->slots));
		g->allocated = slots;
	}
	memset(g->slots, 0, slots * sizeof(*g->slots));
	g->mask = slots - 1;
}

struct spill_slot *spill_groups_probe(struct spill_groups *g, uint64_t hash, size_t *probe)
{
	for (;;) {
		struct spill_slot *slot = &g->slots[(hash + (*probe)++) & g->mask];

		if (!slot->group || slot->hash == hash)
			return slot;
	}
}

void spill_groups_free(struct spill_groups *g)
{
	free(g->slots);
	*g = (struct spill_groups){0};
}
