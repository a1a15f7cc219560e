/* What /proc and the filesystem say of processes. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "casefile.h"
#include "cgroups.h"
#include "procinfo.h"
#include "util.h"

static uint64_t host_mntns;
static uint32_t own_netns;
static char cgroup2_root[512]; /* where cgroup v2 is mounted, or "" */

static void find_cgroup2_root(void)
{
	FILE *f = fopen("/proc/self/mounts", "re");
	char line[1024], dir[512], type[64];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%*s %511s %63s", dir, type) == 2 && !strcmp(type, "cgroup2")) {
			snprintf(cgroup2_root, sizeof(cgroup2_root), "%s", dir);
			break;
		}
	if (f)
		fclose(f);
}

void procinfo_init(void)
{
	struct stat st;

	/* Read before record makes a mount namespace of its own (for tracefs). */
	if (!stat("/proc/self/ns/mnt", &st))
		host_mntns = st.st_ino;
	if (!stat("/proc/self/ns/net", &st))
		own_netns = (uint32_t)st.st_ino;
	find_cgroup2_root();
	cgroups_init(cgroup2_root);
}

const char *cgroup2_mount(void)
{
	return cgroup2_root;
}

uint32_t recorder_netns(void)
{
	return own_netns;
}

int64_t netns_column(uint32_t netns)
{
	return netns == own_netns ? CAPTURE_NULL : netns;
}

/* A namespace of process pid, by name ("net"): its inode number, or NULL. */
static int64_t namespace_of(uint32_t pid, const char *name)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%u/ns/%s", pid, name);
	return stat(path, &st) ? CAPTURE_NULL : (int64_t)st.st_ino;
}

/*
 * stat() path as process pid sees it: through its root while it lives; for a
 * process of the host's mount namespace, ours shows the same files.  0, or -1
 * with errno, or -2 when it cannot be told (gone, and not the host's).
 */
static int stat_as_seen(uint32_t pid, uint64_t mntns, const char *path, struct stat *st)
{
	char name[4200];

	snprintf(name, sizeof(name), "/proc/%u/root", pid);
	if (!stat(name, st)) { /* alive: its view is the one that counts */
		snprintf(name, sizeof(name), "/proc/%u/root%s", pid, path);
		return stat(name, st);
	}
	return mntns == host_mntns ? stat(path, st) : -2;
}

int64_t executable_deleted(uint32_t pid, uint64_t mntns, const char *path, uint64_t ino,
			   uint32_t dev)
{
	/* The kernel's dev_t is major << 20 | minor; user space's is makedev(). */
	dev_t user_dev = makedev(dev >> 20, dev & 0xfffff);
	struct stat st;
	int rc = path[0] == '/' ? stat_as_seen(pid, mntns, path, &st) : -2;

	if (rc == 0)
		return st.st_ino != ino || st.st_dev != user_dev;
	return rc == -1 && errno == ENOENT ? 1 : CAPTURE_NULL;
}

int64_t in_world_writable_dir(uint32_t pid, uint64_t mntns, const char *path)
{
	char *dir = xstrdup(path);
	struct stat st;
	int64_t writable = CAPTURE_NULL;

	if (path[0] == '/' && stat_as_seen(pid, mntns, dirname(dir), &st) == 0)
		writable = (st.st_mode & S_IWOTH) != 0;
	free(dir);
	return writable;
}

/* A small file of /proc, whole (at most size - 1 bytes); its length, or -1. */
static ssize_t read_small(const char *name, char *buf, size_t size)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	ssize_t len;

	if (fd < 0)
		return -1;
	len = read(fd, buf, size - 1);
	close(fd);
	if (len >= 0)
		buf[len] = '\0';
	return len;
}

/* cgroup v2 id: the inode of the cgroup's directory. */
static int64_t cgroup_id(uint32_t pid)
{
	char name[64], buf[1024], path[1400], *line;
	struct stat st;

	snprintf(name, sizeof(name), "/proc/%u/cgroup", pid);
	if (!cgroup2_root[0] || read_small(name, buf, sizeof(buf)) <= 0)
		return CAPTURE_NULL;
	line = strstr(buf, "0::");
	if (!line)
		return CAPTURE_NULL;
	line[strcspn(line, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s%s", cgroup2_root, line + 3);
	return stat(path, &st) ? CAPTURE_NULL : (int64_t)st.st_ino;
}

char *quote_arguments(const char *args, size_t len)
{
	char *copy = xmalloc(len + 1), **argv = xmalloc((len + 1) * sizeof(*argv)), *line;
	int argc = 0;

	memcpy(copy, args, len);
	copy[len] = '\0';
	for (size_t at = 0; at < len; at += strlen(copy + at) + 1)
		argv[argc++] = copy + at;
	line = shell_quote_argv(argc, argv);
	free(argv);
	free(copy);
	return line;
}

static int snapshot_one(struct capture *cap, uint32_t pid, int64_t t, int64_t seq)
{
	char name[64], stat_line[1024], status[4096], exe[4096], args[EXEC_ARGS_MAX + 1];
	char comm[COMM_LEN * 4] = "", *close_paren, *uid_line, *nspid_line, *command_line = NULL;
	unsigned long long start_ticks = 0;
	unsigned ppid = 0, uid = 0;
	struct process_row row = {.t = t, .seq = seq, .how = "running", .pid = pid};
	ssize_t len;
	int err;

	snprintf(name, sizeof(name), "/proc/%u/stat", pid);
	if (read_small(name, stat_line, sizeof(stat_line)) <= 0)
		return 0; /* gone meanwhile */
	close_paren = strrchr(stat_line, ')');
	if (!close_paren || sscanf(close_paren + 2,
				   "%*s %u %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
				   "%*s %*s %*s %*s %llu",
				   &ppid, &start_ticks) != 2)
		return 0;
	*close_paren = '\0';
	snprintf(comm, sizeof(comm), "%s", strchr(stat_line, '(') + 1);
	snprintf(name, sizeof(name), "/proc/%u/status", pid);
	row.nspid = CAPTURE_NULL;
	if (read_small(name, status, sizeof(status)) > 0) {
		if ((uid_line = strstr(status, "\nUid:")))
			sscanf(uid_line + 5, "%u", &uid);
		/* "NSpid:\t4242\t1": from the host's namespace down to its own, the last. */
		if ((nspid_line = strstr(status, "\nNSpid:"))) {
			nspid_line += strlen("\nNSpid:");
			nspid_line[strcspn(nspid_line, "\n")] = '\0';
			row.nspid = strtoll(strrchr(nspid_line, '\t') ? strrchr(nspid_line, '\t')
								      : nspid_line,
					    NULL, 10);
		}
	}
	row.start_ns = (int64_t)(start_ticks * (1000000000ull / sysconf(_SC_CLK_TCK)));
	row.ppid = ppid;
	row.uid = uid;
	row.comm = comm;
	row.cgroup = cgroup_id(pid);
	row.mntns = namespace_of(pid, "mnt");
	row.netns = namespace_of(pid, "net");
	row.exe_deleted = row.exe_world_writable = row.exe_truncated = CAPTURE_NULL;
	row.args_truncated = CAPTURE_NULL;
	row.tcp_laddr = row.tcp_lport = row.tcp_raddr = row.tcp_rport = CAPTURE_NULL;
	row.stdin_pipe = row.stdout_pipe = row.stderr_pipe = CAPTURE_NULL;
	row.parent_tcp_laddr = row.parent_tcp_lport = CAPTURE_NULL;
	row.parent_tcp_raddr = row.parent_tcp_rport = CAPTURE_NULL;
	snprintf(name, sizeof(name), "/proc/%u/exe", pid);
	len = readlink(name, exe, sizeof(exe) - 1);
	if (len > 0) { /* kernel threads have none */
		static const char deleted[] = " (deleted)";
		size_t suffix = sizeof(deleted) - 1;

		exe[len] = '\0';
		row.exe_deleted = (size_t)len > suffix && !strcmp(exe + len - suffix, deleted);
		if (row.exe_deleted)
			exe[len - suffix] = '\0';
		row.exe = exe;
		row.exe_truncated = 0;
		row.exe_world_writable = in_world_writable_dir(pid, row.mntns, exe);
	}
	snprintf(name, sizeof(name), "/proc/%u/cmdline", pid);
	len = read_small(name, args, sizeof(args));
	if (len > 0) {
		command_line = quote_arguments(args, (size_t)len > EXEC_ARGS_MAX ? EXEC_ARGS_MAX
										 : (size_t)len);
		row.args = command_line;
		row.args_truncated = len > EXEC_ARGS_MAX;
	}
	err = cgroups_note(cap, row.cgroup) || capture_add_process(cap, &row);
	free(command_line);
	return err;
}

int snapshot_processes(struct capture *cap, int64_t t, int64_t *next_seq)
{
	DIR *proc = opendir("/proc");
	uint32_t self = (uint32_t)getpid();
	struct dirent *entry;
	int err = 0;

	if (!proc) {
		fprintf(stderr, "record: cannot list /proc: %s\n", strerror(errno));
		return -1;
	}
	while (!err && (entry = readdir(proc))) {
		char *end;
		unsigned long pid = strtoul(entry->d_name, &end, 10);

		if (!isdigit((unsigned char)entry->d_name[0]) || *end || pid == self)
			continue;
		err = snapshot_one(cap, (uint32_t)pid, t, (*next_seq)++);
	}
	closedir(proc);
	return err;
}

/* One database of names, "name:password:id:...": each name and id, the password skipped. */
static int snapshot_account_file(struct capture *cap, const char *path, const char *kind)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t size = 0;
	int err = 0;

	if (!f)
		return 0;
	while (!err && getline(&line, &size, f) > 0) {
		char *name = line, *rest, *id_text, *end;
		long long id;

		rest = strchr(line, ':');
		if (!rest || line[0] == '#' || line[0] == '+' || line[0] == '-')
			continue;
		*rest++ = '\0';
		rest = strchr(rest, ':'); /* past the password field, unread */
		if (!rest)
			continue;
		id_text = rest + 1;
		id = strtoll(id_text, &end, 10);
		if (end == id_text || *end != ':' || id < 0)
			continue;
		ROW(account, row, .kind = kind, .id = id, .name = name);
		err = capture_add_account(cap, &row);
	}
	free(line);
	fclose(f);
	return err;
}

int snapshot_accounts(struct capture *cap)
{
	return snapshot_account_file(cap, "/etc/passwd", "user") ||
			       snapshot_account_file(cap, "/etc/group", "group")
		       ? -1
		       : 0;
}
