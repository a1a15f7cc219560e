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

void spill_init(struct spill *s, const char *who, size_t row_size, size_t memory_rows,
		spill_rehash rehash)
{
	*s = (struct spill){.who = who,
			    .row_size = row_size,
			    .memory_rows = memory_rows,
			    .words = row_size / sizeof(uint64_t) - 1,
			    .rehash = rehash,
			    .fd = -1};
}

/*
 * A row as kept: a nibble a word (its bytes, 0 to 8), then each word's
 * difference from the first row's, zigzagged, in those bytes.  Words are
 * written and read 8 bytes at a time: every buffer of rows as kept has 8
 * bytes to spare past its last.
 */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rows are kept in little-endian words"
#endif
#define SPARE 8

static size_t header_bytes(size_t words)
{
	return (words + 1) / 2;
}

/* The most a row takes as kept. */
static size_t most_kept(const struct spill *s)
{
	return header_bytes(s->words) + s->words * sizeof(uint64_t);
}

/* The bytes of a row as kept at from (its header's nibbles summed in one multiply). */
static size_t kept_size(const struct spill *s, const char *from)
{
	uint64_t header, pairs;

	memcpy(&header, from, sizeof(header));
	header &= s->words == 16 ? ~0ULL : (1ULL << 4 * s->words) - 1;
	pairs = (header & 0x0f0f0f0f0f0f0f0fULL) + (header >> 4 & 0x0f0f0f0f0f0f0f0fULL);
	return header_bytes(s->words) + (pairs * 0x0101010101010101ULL >> 56);
}

static inline __attribute__((always_inline)) size_t
keep_words(const struct spill *s, const void *row, char *to, size_t words)
{
	const char *from = (const char *)row + sizeof(uint64_t);
	uint64_t header = 0, value[SPILL_WORDS] = {0}, size[SPILL_WORDS] = {0};
	char *at = to + header_bytes(words);

#pragma GCC unroll 16
	for (size_t w = 0; w < words && w < SPILL_WORDS; w++) {
		uint64_t v;

		memcpy(&v, from + w * sizeof(v), sizeof(v));
		v -= s->base[w];
		value[w] = v << 1 ^ (uint64_t)((int64_t)v >> 63);
		/* The byte of its top bit. */
		size[w] = ((63 ^ (unsigned)__builtin_clzll(value[w] | 1)) + 8) / 8 - !value[w];
		header |= size[w] << 4 * w;
	}
	/* The header first: the words' stores overwrite its bytes past its own. */
	memcpy(to, &header, sizeof(header));
#pragma GCC unroll 16
	for (size_t w = 0; w < words && w < SPILL_WORDS; w++) {
		memcpy(at, &value[w], sizeof(value[w]));
		at += size[w];
	}
	return (size_t)(at - to);
}

/* exfil's and beacons' rows have 9 words: their loop unrolled. */
static size_t keep(const struct spill *s, const void *row, char *to)
{
	return s->words == 9 ? keep_words(s, row, to, 9) : keep_words(s, row, to, s->words);
}

static inline __attribute__((always_inline)) size_t
take_words(const struct spill *s, const char *from, void *row, size_t words)
{
	static const uint64_t masks[9] = {0,
					  0xff,
					  0xffff,
					  0xffffff,
					  0xffffffff,
					  0xffffffffffULL,
					  0xffffffffffffULL,
					  0xffffffffffffffULL,
					  ~0ULL};
	char *to = (char *)row + sizeof(uint64_t);
	const char *at = from + header_bytes(words);
	uint64_t header, hash;

	memcpy(&header, from, sizeof(header));
#pragma GCC unroll 16
	for (size_t w = 0; w < words && w < SPILL_WORDS; w++, header >>= 4) {
		unsigned size = header & 15;
		uint64_t v;

		memcpy(&v, at, sizeof(v));
		v &= masks[size];
		v = (v >> 1 ^ -(v & 1)) + s->base[w];
		memcpy(to + w * sizeof(v), &v, sizeof(v));
		at += size;
	}
	hash = s->rehash(row);
	memcpy(row, &hash, sizeof(hash));
	return (size_t)(at - from);
}

/* A row as kept at from back into row, its hash given again: its bytes as kept. */
static size_t take(const struct spill *s, const char *from, void *row)
{
	return s->words == 9 ? take_words(s, from, row, 9) : take_words(s, from, row, s->words);
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

static int write_chunk(struct spill *s, struct spill_share *share)
{
	size_t size = share->used, done = 0;

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
	share->chunks[share->nchunks++] = (struct spill_chunk){s->end, (uint32_t)size};
	s->end += size;
	share->used = 0;
	return 0;
}

/* The share of a row of that hash, room made for it in its chunk: NULL after one line. */
static struct spill_share *share_of(struct spill *s, uint64_t hash)
{
	struct spill_share *share = &s->shares[hash >> (56 - 8 * s->level) & (SPILL_SHARES - 1)];

	if (!share->buffer)
		share->buffer = xmalloc(SPILL_CHUNK + SPARE);
	if (share->used + most_kept(s) > SPILL_CHUNK && write_chunk(s, share))
		return NULL;
	return share;
}

/* A row of size bytes as kept added to the share. */
static void kept(struct spill_share *share, size_t size)
{
	/*
	 * The share's next row comes some SPILL_SHARES rows later, and writing
	 * it missed the cache: its place, fetched for writing now, is there by
	 * then.
	 */
	share->used += size;
	share->bytes += size;
	share->rows++;
	__builtin_prefetch(share->buffer + share->used, 1);
	__builtin_prefetch(share->buffer + share->used + 63, 1);
}

/* A row to its share's chunk: 0, or -1 after one line. */
static int put(struct spill *s, const void *row)
{
	uint64_t hash;
	struct spill_share *share;

	memcpy(&hash, row, sizeof(hash));
	if (!(share = share_of(s, hash)))
		return -1;
	kept(share, keep(s, row, share->buffer + share->used));
	return 0;
}

/* Room for a batch of rows rows. */
static void room(struct spill *s, size_t rows)
{
	if (rows <= s->allocated)
		return;
	s->rows = xrealloc(s->rows, rows * s->row_size);
	s->allocated = rows;
}

/* Room for bytes more kept. */
static void room_kept(struct spill *s, size_t bytes)
{
	size_t want = s->used + bytes + SPARE, allocated = s->kept_allocated;

	if (want <= allocated)
		return;
	while (allocated < want)
		allocated = allocated ? 2 * allocated : 4096;
	s->kept = xrealloc(s->kept, allocated);
	s->kept_allocated = allocated;
}

/* The rows held in memory to their shares, as they are kept: 0, or -1 after one line. */
static int spill_memory(struct spill *s)
{
	const char *from = s->kept;

	if (open_file(s))
		return -1;
	for (size_t i = 0; i < s->count; i++) {
		struct spill_share *share = share_of(s, s->hashes[i]);
		size_t size = kept_size(s, from);

		if (!share)
			return -1;
		memcpy(share->buffer + share->used, from, size);
		kept(share, size);
		from += size;
	}
	free(s->hashes);
	s->hashes = NULL;
	s->count = s->used = 0;
	return 0;
}

int spill_add(struct spill *s, const void *row)
{
	if (!s->based) {
		memcpy(s->base, (const char *)row + sizeof(uint64_t), s->words * sizeof(uint64_t));
		s->based = true;
	}
	if (s->fd < 0) {
		if (s->count < s->memory_rows) {
			if (s->count == s->hashes_allocated) {
				s->hashes_allocated = s->count ? 2 * s->count : 64;
				s->hashes = xrealloc(s->hashes,
						     s->hashes_allocated * sizeof(*s->hashes));
			}
			memcpy(&s->hashes[s->count++], row, sizeof(*s->hashes));
			room_kept(s, most_kept(s));
			s->used += keep(s, row, s->kept + s->used);
			return 0;
		}
		if (spill_memory(s))
			return -1;
	}
	return put(s, row);
}

/* Chunk c of the share into to (room for its bytes and SPARE): 0, or -1 after one line. */
static int read_chunk(struct spill *s, const struct spill_share *share, size_t c, char *to)
{
	size_t size = share->chunks[c].bytes, done = 0;

	while (done < size) {
		ssize_t n =
			pread(s->fd, to + done, size - done, (off_t)(share->chunks[c].at + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n < 0 ? errno : EIO;
			return failed(s, "read");
		}
		done += (size_t)n;
	}
	return 0;
}

/* A share too large for memory, split by the next byte of the hash. */
static int split(struct spill *s, const struct spill_share *share, spill_batch batch, void *ctx)
{
	struct spill part;
	char *chunk = xmalloc(SPILL_CHUNK + SPARE), *row = xmalloc(s->row_size);
	int err = 0;

	spill_init(&part, s->who, s->row_size, s->memory_rows, s->rehash);
	part.level = s->level + 1;
	for (size_t c = 0; !err && c < share->nchunks; c++) {
		const char *at = chunk, *end = chunk + share->chunks[c].bytes;

		err = read_chunk(s, share, c, chunk);
		while (!err && at < end) {
			at += take(s, at, row);
			err = spill_add(&part, row);
		}
	}
	free(chunk);
	free(row);
	err = err || spill_each(&part, batch, ctx);
	spill_free(&part);
	return err ? -1 : 0;
}

/* Rows as kept back into the batch's rows. */
static void take_all(struct spill *s, size_t rows)
{
	const char *from = s->kept;

	room(s, rows);
	for (size_t i = 0; i < rows; i++)
		from += take(s, from, s->rows + i * s->row_size);
}

/* A share read back whole, in order: its rows, in memory (grown past memory_rows at the last
 * level). */
static int read_share(struct spill *s, const struct spill_share *share, spill_batch batch,
		      void *ctx)
{
	size_t at = 0;

	s->used = 0;
	room_kept(s, share->bytes);
	for (size_t c = 0; c < share->nchunks; c++) {
		if (read_chunk(s, share, c, s->kept + at))
			return -1;
		at += share->chunks[c].bytes;
	}
	take_all(s, share->rows);
	return batch(s->rows, share->rows, ctx);
}

int spill_each(struct spill *s, spill_batch batch, void *ctx)
{
	if (s->fd < 0) {
		if (!s->count)
			return 0;
		take_all(s, s->count);
		return batch(s->rows, s->count, ctx);
	}
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
	free(s->hashes);
	free(s->kept);
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
