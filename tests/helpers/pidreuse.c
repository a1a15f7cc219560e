/*
 * pidreuse: run two programs one after the other under the same pid, to test
 * that a capture tells the two processes apart.
 *
 *   pidreuse PROG1 PROG2 [ARGS...]   runs PROG1 ARGS, then PROG2 ARGS with
 *                                    PROG1's pid; prints "pid=PID"
 *
 * Needs root: it sets /proc/sys/kernel/ns_last_pid before forking again, and
 * retries while other processes of the machine take the pid first.  The second
 * starts at least 20 ms after the first: a capture names a process by its pid
 * and start time in /proc's 10 ms ticks (a pid wrapping around that fast is
 * this helper's doing, never the kernel's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Fork; the child runs prog with args if it got pid want (any pid when 0), else exits. */
static pid_t run(char *prog, char **args, pid_t want)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (want && getpid() != want)
			_exit(0);
		args[0] = prog;
		execv(prog, args);
		_exit(127);
	}
	waitpid(pid, NULL, 0);
	return pid;
}

static int set_last_pid(pid_t pid)
{
	FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
	int ok = f && fprintf(f, "%d", pid) > 0;

	if (f)
		ok = !fclose(f) && ok;
	return ok ? 0 : -1;
}

int main(int argc, char **argv)
{
	char **args = calloc((size_t)argc, sizeof(*args)); /* PROG, ARGS..., NULL */
	pid_t first;

	if (argc < 3 || !args) {
		fprintf(stderr, "usage: pidreuse PROG1 PROG2 [ARGS...]\n");
		return 2;
	}
	for (int i = 3; i < argc; i++)
		args[i - 2] = argv[i];
	first = run(argv[1], args, 0);
	nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
	for (int tries = 0; tries < 1000; tries++) {
		if (set_last_pid(first - 1))
			return 1;
		if (run(argv[2], args, first) == first) {
			printf("pid=%d\n", first);
			return 0;
		}
	}
	fprintf(stderr, "pidreuse: pid %d was always taken first\n", first);
	return 1;
}
