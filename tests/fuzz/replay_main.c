/*
 * Replays report fuzzer inputs without libFuzzer: each file named, or each
 * file of each directory named, once.  A sanitizer build stops at the first
 * finding; otherwise the status is 0 and stderr says how many ran.
 */
#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0, got;
	uint8_t chunk[4096];

	if (!f) {
		perror(path);
		return -1;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		uint8_t *more = realloc(data, size + got);

		if (!more)
			abort();
		data = more;
		memcpy(data + size, chunk, got);
		size += got;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, size);
	free(data);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* A file, or the files of a directory (sorted): how many ran, or -1. */
static int replay(const char *path)
{
	struct dirent **entries;
	struct stat st;
	int n, count = 0;

	if (stat(path, &st)) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return replay_file(path) ? -1 : 1;
	n = scandir(path, &entries, NULL, by_name);
	for (int i = 0; i < n; i++) {
		char file[PATH_MAX];

		snprintf(file, sizeof(file), "%s/%s", path, entries[i]->d_name);
		if (entries[i]->d_name[0] != '.' && !stat(file, &st) && S_ISREG(st.st_mode)) {
			if (replay_file(file))
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(entries[i]);
	}
	free(entries);
	return n < 0 ? -1 : count;
}

int main(int argc, char **argv)
{
	char **paths = calloc((size_t)argc, sizeof(*paths));
	int total = 0;

	/* The harness runs report elsewhere: names resolved first. */
	for (int i = 1; i < argc; i++) {
		paths[i] = realpath(argv[i], NULL);
		if (!paths[i]) {
			perror(argv[i]);
			return 1;
		}
	}
	LLVMFuzzerInitialize(&argc, &argv);
	for (int i = 1; i < argc; i++) {
		int n = replay(paths[i]);

		if (n < 0)
			return 1;
		total += n;
		free(paths[i]);
	}
	free(paths);
	fprintf(stderr, "report-fuzz: %d inputs replayed\n", total);
	return 0;
}
