/*
 * capcheck: exact numbers of capability checks, for the record tests and the
 * capability fixture.
 *
 *   capcheck STEP... [--wait]
 *     setuid N    setuid(0) N times: N CAP_SETUID checks through
 *                 ns_capable_setid(), an audited path
 *     seccomp N   install N allow-all seccomp filters without no_new_privs:
 *                 N CAP_SYS_ADMIN checks through ns_capable_noaudit(), a
 *                 non-audited path
 *     hostname N  set the host name to itself N times: N CAP_SYS_ADMIN
 *                 checks through ns_capable(), audited (refused without it)
 *     sleep S     wait S seconds
 *
 * Prints "pid=PID" first; with --wait it then waits for a line on stdin, so a
 * test can start `record -p PID` before the checks.
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <limits.h>
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

static void set_same_hostname(void)
{
	char name[HOST_NAME_MAX + 1] = "";

	if (!gethostname(name, sizeof(name)))
		(void)!sethostname(name, strlen(name));
}

static int usage(void)
{
	fprintf(stderr, "usage: capcheck {setuid|seccomp|hostname N | sleep S}... [--wait]\n");
	return 2;
}

static void step(const char *what, long n)
{
	for (long i = 0; i < n; i++) {
		if (!strcmp(what, "setuid"))
			(void)!setuid(0);
		else if (!strcmp(what, "seccomp"))
			install_allow_all_filter();
		else if (!strcmp(what, "hostname"))
			set_same_hostname();
	}
	if (!strcmp(what, "sleep"))
		sleep((unsigned int)n);
}

int main(int argc, char **argv)
{
	static const char *const steps[] = {"setuid", "seccomp", "hostname", "sleep"};
	bool wait = argc > 1 && !strcmp(argv[argc - 1], "--wait");
	int last = wait ? argc - 1 : argc;
	char line[16];

	if (last < 3 || (last - 1) % 2)
		return usage();
	for (int i = 1; i < last; i += 2) {
		size_t k = 0;

		while (k < sizeof(steps) / sizeof(steps[0]) && strcmp(argv[i], steps[k]))
			k++;
		if (k == sizeof(steps) / sizeof(steps[0]) || atol(argv[i + 1]) < 0)
			return usage();
	}
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (wait && !fgets(line, sizeof(line), stdin))
		return 1;
	for (int i = 1; i < last; i += 2)
		step(argv[i], atol(argv[i + 1]));
	return 0;
}
