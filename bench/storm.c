/*
 * storm: a capability-check storm for the ingest benchmark.  Each thread,
 * pinned to its own CPU, calls setuid(0) in a loop: one CAP_SETUID check per
 * call, and the storm counts its calls exactly.
 *
 *   storm SECONDS THREADS [--wait]
 *
 * Prints "pid=PID" first; with --wait it then waits for a line on stdin (so
 * that a recorder can be started with -p PID).  At the end it prints
 * "checks=N seconds=S rate=R".  The raw system call, not glibc's setuid():
 * glibc would repeat it on every thread of the process.  Threads are made
 * before the start: a new thread's stack is a mapping, and mappings make
 * capability checks of their own (CAP_SYS_ADMIN), which would blur the count.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CALLS_PER_CLOCK_CHECK 1024
#define MAX_THREADS	      64

struct worker {
	pthread_t thread;
	int cpu;
	double seconds; /* how long to run, then how long it ran */
	long checks;
};

static pthread_barrier_t start_line;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *run_worker(void *arg)
{
	struct worker *w = arg;
	cpu_set_t cpus;
	double start, elapsed;

	CPU_ZERO(&cpus);
	CPU_SET(w->cpu, &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);
	pthread_barrier_wait(&start_line);
	start = now();
	do {
		for (int i = 0; i < CALLS_PER_CLOCK_CHECK; i++)
			syscall(SYS_setuid, 0);
		w->checks += CALLS_PER_CLOCK_CHECK;
		elapsed = now() - start;
	} while (elapsed < w->seconds);
	w->seconds = elapsed;
	return NULL;
}

int main(int argc, char **argv)
{
	static struct worker workers[MAX_THREADS];
	double seconds = argc >= 3 ? atof(argv[1]) : 0, longest = 0;
	int threads = argc >= 3 ? atoi(argv[2]) : 0;
	long checks = 0;
	char line[16];

	if (seconds <= 0 || threads < 1 || threads > MAX_THREADS ||
	    (argc > 3 && strcmp(argv[3], "--wait"))) {
		fprintf(stderr, "usage: storm SECONDS THREADS [--wait]\n");
		return 2;
	}
	pthread_barrier_init(&start_line, NULL, (unsigned)threads + 1);
	for (int i = 0; i < threads; i++) {
		workers[i].cpu = i % (int)sysconf(_SC_NPROCESSORS_ONLN);
		workers[i].seconds = seconds;
		if (pthread_create(&workers[i].thread, NULL, run_worker, &workers[i])) {
			fprintf(stderr, "storm: cannot start thread %d\n", i);
			return 1;
		}
	}
	printf("pid=%d\n", getpid());
	fflush(stdout);
	if (argc > 3 && !fgets(line, sizeof(line), stdin))
		return 1;
	pthread_barrier_wait(&start_line);
	for (int i = 0; i < threads; i++) {
		pthread_join(workers[i].thread, NULL);
		checks += workers[i].checks;
		if (workers[i].seconds > longest)
			longest = workers[i].seconds;
	}
	printf("checks=%ld seconds=%.3f rate=%.0f\n", checks, longest, checks / longest);
	return 0;
}
