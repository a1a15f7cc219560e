/*
 * stackcheck: capability checks from a known call chain, for the stack tests.
 *
 *   stackcheck N [--wait] [--linger MS | --hold] [--garbage | --data]
 *                           main -> casefile_outer -> casefile_middle ->
 *                           casefile_inner, which makes N setuid(0) checks
 *
 * Built with frame pointers; the check is a raw syscall instruction so that
 * the innermost user frame is casefile_inner itself, not a libc built
 * without frame pointers.
 * Prints "pid=PID" first; with --wait it then waits for a line on stdin.  It
 * lingers 50 ms after its checks, as a short-lived scanner would (--linger:
 * MS instead; 0 exits at once; --hold: until a line on stdin, or its end).
 * --garbage and --data (x86_64) make the checks from casefile_lost instead,
 * whose frame pointer leads to a return address that is no code: the bytes
 * of a string, or the address of this program's data.
 */
#include <stdbool.h>
#include <stdint.h>
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

static long casefile_data = 1;

/*
 * Checks from under a frame-pointer chain that leaves the stack: the saved
 * frame pointer points at {0, ret}, as a walk through a function that uses
 * its frame pointer register for data would find.
 */
__attribute__((noinline)) void casefile_lost(long n, uint64_t ret)
{
	static volatile uint64_t fake[2];
	long done = 0;

	fake[0] = 0;
	fake[1] = ret;
	while (done < n) {
#if defined(__x86_64__)
		long rc;

		__asm__ volatile("push %%rbp\n\tmov %[fp], %%rbp\n\tsyscall\n\tpop %%rbp"
				 : "=a"(rc)
				 : "a"((long)SYS_setuid), "D"(0L), [fp] "r"(fake)
				 : "rcx", "r11", "memory");
		(void)rc;
#else
		raw_setuid(0);
#endif
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
	long linger_ms = 50;
	uint64_t lost = 0;
	bool wait = false, hold = false;
	char line[16];

	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--wait"))
			wait = true;
		else if (!strcmp(argv[i], "--hold"))
			hold = true;
		else if (!strcmp(argv[i], "--linger") && i + 1 < argc)
			linger_ms = atol(argv[++i]);
		else if (!strcmp(argv[i], "--garbage"))
			lost = 0x206573726170206full; /* "o parse " */
		else if (!strcmp(argv[i], "--data"))
			lost = (uint64_t)(uintptr_t)&casefile_data;
		else
			argc = 0;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: stackcheck N [--wait] [--linger MS | --hold]"
				" [--garbage | --data]\n");
		return 2;
	}
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (wait && !fgets(line, sizeof(line), stdin))
		return 1;
	if (lost)
		casefile_lost(atol(argv[1]), lost);
	else
		casefile_outer(atol(argv[1]));
	if (hold)
		return !fgets(line, sizeof(line), stdin) && ferror(stdin);
	nanosleep(&(struct timespec){linger_ms / 1000, linger_ms % 1000 * 1000000}, NULL);
	return 0;
}
