/*
 * capcheck: an exact number of capability checks, for the record tests.
 *
 *   capcheck setuid N [--wait]   setuid(0) N times: N CAP_SETUID checks through
 *                                ns_capable_setid(), an audited path
 *   capcheck seccomp N [--wait]  install N allow-all seccomp filters without
 *                                no_new_privs: N CAP_SYS_ADMIN checks through
 *                                ns_capable_noaudit(), a non-audited path
 *
 * Prints "pid=PID" first; with --wait it then waits for a line on stdin, so a
 * test can start `record -p PID` before the checks.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static void install_allow_all_filter(void)
{
	struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = 1, .filter = &allow};

	/* Failure (not privileged) is fine: the check happened either way. */
	prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}

int main(int argc, char **argv)
{
	bool setuid_checks;
	long count;
	char line[16];

	if (argc < 3 || (strcmp(argv[1], "setuid") && strcmp(argv[1], "seccomp"))) {
		fprintf(stderr, "usage: capcheck setuid|seccomp N [--wait]\n");
		return 2;
	}
	setuid_checks = !strcmp(argv[1], "setuid");
	count = atol(argv[2]);
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (argc > 3 && !strcmp(argv[3], "--wait") && !fgets(line, sizeof(line), stdin))
		return 1;
	for (long i = 0; i < count; i++) {
		if (setuid_checks)
			(void)!setuid(0);
		else
			install_allow_all_filter();
	}
	return 0;
}
