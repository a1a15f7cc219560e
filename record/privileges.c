/*
 * Giving up privileges once attached.  The programs are loaded and attached,
 * kernel symbols read, the capture created: reading the ring buffer, the loss
 * counters and writing the capture need no capability.
 */
#include <errno.h>
#include <libgen.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "privileges.h"
#include "util.h"

/* Can uid 0 without CAP_DAC_OVERRIDE create files in dir, by its mode alone? */
static bool writable_without_override(const char *dir)
{
	struct stat st;

	if (stat(dir, &st))
		return false;
	if (st.st_uid == 0)
		return st.st_mode & S_IWUSR;
	if (st.st_gid == getegid())
		return st.st_mode & S_IWGRP;
	return st.st_mode & S_IWOTH;
}

static int last_capability(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	return last;
}

uint64_t user_stack_privileges(void)
{
	return 1ull << CAP_SYS_PTRACE | 1ull << CAP_DAC_READ_SEARCH |
	       1ull << CAP_CHECKPOINT_RESTORE;
}

uint64_t recorder_privileges(const char *output, bool user_stacks, bool processes)
{
	char *copy = xstrdup(output);
	uint64_t keep = user_stacks ? user_stack_privileges() : 0;

	if (processes)
		keep |= 1ull << CAP_SYS_PTRACE;

	if (!writable_without_override(dirname(copy)))
		keep |= 1ull << CAP_DAC_OVERRIDE;
	free(copy);
	return keep;
}

int check_privileges(void)
{
	static const struct {
		int cap;
		const char *name;
	} needed[] = {
		{CAP_BPF, "CAP_BPF"},
		{CAP_PERFMON, "CAP_PERFMON"},
		{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},
	};
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	char all[128] = "", missing[128] = "";
	size_t count = ARRAY_SIZE(needed);

	syscall(SYS_capget, &header, data);
	for (size_t i = 0; i < count; i++) {
		bool held = data[needed[i].cap / 32].effective & (1u << (needed[i].cap % 32));

		snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%s",
			 !i		 ? ""
			 : i + 1 < count ? ", "
					 : " and ",
			 needed[i].name);
		if (!held)
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing),
				 "%s%s", *missing ? ", " : "", needed[i].name);
	}
	if (!*missing)
		return 0;
	fprintf(stderr, "record: needs root, or %s (missing: %s)\n", all, missing);
	return -1;
}

int drop_privileges(uint64_t keep)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};
	int last = last_capability();

	/* The bounding set first: dropping from it needs CAP_SETPCAP, still held. */
	for (int cap = 0; cap <= last; cap++)
		if (!(keep & (1ull << cap)))
			prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	data[0].effective = data[0].permitted = (uint32_t)keep;
	data[1].effective = data[1].permitted = (uint32_t)(keep >> 32);
	if (syscall(SYS_capset, &header, data) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		fprintf(stderr, "record: cannot drop privileges: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}
