/* cgroup v2 ids to paths, from walks of the cgroup2 mount. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroups.h"
#include "dedup.h"
#include "util.h"

/* Ids written into the current file; forgetting some only writes them again. */
#define MAX_WRITTEN 65536
/* A walk stops this deep: cgroup trees are a few levels (systemd, a runtime, a pod). */
#define MAX_DEPTH 32

struct named {
	int64_t id;
	char *path; /* under the mount: "/system.slice/ssh.service" */
};

static struct {
	char root[512];
	struct named *names; /* from the last walk, by id */
	size_t count, capacity;
	struct dedup *written;
} cg;

void cgroups_init(const char *cgroup2_root)
{
	snprintf(cg.root, sizeof(cg.root), "%s", cgroup2_root);
	cgroups_begin_file();
}

void cgroups_begin_file(void)
{
	dedup_free(cg.written);
	cg.written = dedup_new(sizeof(int64_t), MAX_WRITTEN);
}

static void forget_names(void)
{
	for (size_t i = 0; i < cg.count; i++)
		free(cg.names[i].path);
	cg.count = 0;
}

void cgroups_free(void)
{
	forget_names();
	free(cg.names);
	dedup_free(cg.written);
	memset(&cg, 0, sizeof(cg));
}

static void keep_name(int64_t id, const char *path)
{
	if (cg.count == cg.capacity) {
		cg.capacity = cg.capacity ? 2 * cg.capacity : 64;
		cg.names = xrealloc(cg.names, cg.capacity * sizeof(*cg.names));
	}
	cg.names[cg.count++] = (struct named){id, xstrdup(path[0] ? path : "/")};
}

/* Every directory under dir_fd (which this closes), path its name under the mount. */
static void walk(int dir_fd, char *path, size_t len, size_t size, int depth)
{
	DIR *dir = fdopendir(dir_fd);
	struct dirent *entry;
	struct stat st;

	if (!dir) {
		close(dir_fd);
		return;
	}
	if (!fstat(dir_fd, &st))
		keep_name((int64_t)st.st_ino, path);
	while (depth < MAX_DEPTH && (entry = readdir(dir))) {
		size_t name_len = strlen(entry->d_name);
		int child;

		if (entry->d_type != DT_DIR || !strcmp(entry->d_name, ".") ||
		    !strcmp(entry->d_name, "..") || len + 1 + name_len >= size)
			continue;
		child = openat(dir_fd, entry->d_name,
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0)
			continue; /* removed meanwhile */
		path[len] = '/';
		memcpy(path + len + 1, entry->d_name, name_len + 1);
		walk(child, path, len + 1 + name_len, size, depth + 1);
		path[len] = '\0';
	}
	closedir(dir);
}

static int by_id(const void *a, const void *b)
{
	const struct named *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* The paths of every cgroup there is now. */
static void walk_mount(void)
{
	char path[4096] = "";
	int fd;

	forget_names();
	if (!cg.root[0])
		return;
	fd = open(cg.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	walk(fd, path, 0, sizeof(path), 0);
	qsort(cg.names, cg.count, sizeof(*cg.names), by_id);
}

static const char *known_path(int64_t id)
{
	struct named key = {.id = id},
		     *found = cg.count ? bsearch(&key, cg.names, cg.count, sizeof(*cg.names), by_id)
				       : NULL;

	return found ? found->path : NULL;
}

int cgroups_note(struct capture *cap, int64_t id)
{
	const char *path;

	/* Without a cgroup2 mount no id can be named: unknown, not gone. */
	if (id == CAPTURE_NULL || !cg.root[0] || dedup_find(cg.written, &id) >= 0)
		return 0;
	path = known_path(id);
	if (!path) { /* new since the last walk, or gone */
		walk_mount();
		path = known_path(id);
	}
	dedup_add(cg.written, &id, 1);
	return capture_add_cgroup(cap, id, path);
}
