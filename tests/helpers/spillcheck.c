/*
 * spillcheck: report's spill (report/engine/spill.c) over more rows than its
 * memory holds, checked row by row.
 *
 *   spillcheck ROWS MEMORY_ROWS KEYS
 *
 * Adds ROWS rows, row i of key i * 7919 % KEYS, in memory of MEMORY_ROWS rows,
 * then reads them back and checks that every row came once, all the rows of
 * a key in one batch, in the order added.  Prints "rows=N batches=B
 * largest=L" (L: the largest batch) and exits 0, or says what went wrong
 * and exits 1.  Small memory makes the shares split (again and again, down
 * to the hash's last byte for a single key), which a capture of seconds
 * cannot reach.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../common/util.c"
#include "../../report/engine/spill.c"

struct row {
	uint64_t hash, key, seq;
};

static uint64_t row_hash(const void *row)
{
	return spill_hash(((const struct row *)row)->key, 0);
}

struct seen {
	size_t rows, batches, largest;
	uint64_t *batch_of; /* per key: 1 + the batch its rows came in */
	uint64_t *last;	    /* per key: 1 + the seq of its last row read */
};

static int check(void *rows, size_t n, void *ctx)
{
	struct seen *s = ctx;
	const struct row *r = rows;

	s->batches++;
	s->largest = n > s->largest ? n : s->largest;
	for (size_t i = 0; i < n; i++) {
		uint64_t key = r[i].key;

		if (r[i].hash != spill_hash(key, 0)) {
			fprintf(stderr, "spillcheck: row %zu of batch %zu damaged\n", i,
				s->batches);
			return -1;
		}
		if (s->batch_of[key] && s->batch_of[key] != s->batches) {
			fprintf(stderr, "spillcheck: key %llu in two batches\n",
				(unsigned long long)key);
			return -1;
		}
		if (s->last[key] > r[i].seq) {
			fprintf(stderr, "spillcheck: key %llu out of order\n",
				(unsigned long long)key);
			return -1;
		}
		s->batch_of[key] = s->batches;
		s->last[key] = r[i].seq + 1;
		s->rows++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct spill spill;
	struct seen seen = {0};
	size_t rows, memory, keys;

	if (argc != 4 || !(rows = strtoul(argv[1], NULL, 10)) ||
	    !(memory = strtoul(argv[2], NULL, 10)) || !(keys = strtoul(argv[3], NULL, 10))) {
		fprintf(stderr, "usage: spillcheck ROWS MEMORY_ROWS KEYS\n");
		return 2;
	}
	seen.batch_of = xcalloc(keys, sizeof(*seen.batch_of));
	seen.last = xcalloc(keys, sizeof(*seen.last));
	spill_init(&spill, "spillcheck", sizeof(struct row), memory, row_hash);
	for (size_t i = 0; i < rows; i++) {
		uint64_t key = i * 7919 % keys;

		if (spill_add(&spill, &(struct row){spill_hash(key, 0), key, i}))
			return 1;
	}
	if (spill_each(&spill, check, &seen))
		return 1;
	spill_free(&spill);
	if (seen.rows != rows) {
		fprintf(stderr, "spillcheck: %zu rows back of %zu\n", seen.rows, rows);
		return 1;
	}
	printf("rows=%zu batches=%zu largest=%zu\n", seen.rows, seen.batches, seen.largest);
	free(seen.batch_of);
	free(seen.last);
	return 0;
}
