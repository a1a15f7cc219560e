/*
 * stackcheck: capability checks from a known call chain, for the stack tests.
 *
 *   stackcheck N [--wait]   main -> casefile_outer -> casefile_middle ->
 *                           casefile_inner, which makes N setuid(0) checks
 *
 * Built with frame pointers; the check is a raw syscall instruction so that
 * the innermost user frame is casefile_inner itself, not a libc built
 * without frame pointers.
 * Prints "pid=PID" first; with --wait it then waits for a line on stdin.  It
 * lingers 50 ms after its checks, as a short-lived scanner would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long raw_setuid(long uid)
{
#if defined(__x86_64__)
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"((long)SYS_setuid), "D"(uid)
			 : "rcx", "r11", "memory");
	return ret;
#else
	return syscall(SYS_setuid, uid);
#endif
}

__attribute__((noinline)) void casefile_count(long *done)
{
	(*done)++;
}

/* Not a leaf (it calls casefile_count): GCC then keeps its frame pointer. */
__attribute__((noinline)) void casefile_inner(long n)
{
	long done = 0;

	while (done < n) {
		raw_setuid(0);
		casefile_count(&done);
	}
}

__attribute__((noinline)) void casefile_middle(long n)
{
	casefile_inner(n);
	__asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void casefile_outer(long n)
{
	casefile_middle(n);
	__asm__ volatile("" ::: "memory");
}

int main(int argc, char **argv)
{
	struct timespec linger = {0, 50 * 1000 * 1000};
	char line[16];

	if (argc < 2) {
		fprintf(stderr, "usage: stackcheck N [--wait]\n");
		return 2;
	}
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "--wait") && !fgets(line, sizeof(line), stdin))
		return 1;
	casefile_outer(atol(argv[1]));
	nanosleep(&linger, NULL);
	return 0;
}
