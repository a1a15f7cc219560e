/*
 * spawn: run a command and measure it, for the benchmark harness.
 *
 *   spawn [-m MARKER [-s]] STATS COMMAND [ARG...]
 *
 * Runs COMMAND, passing SIGINT and SIGTERM on to it, and when it has exited
 * writes one line to the file STATS:
 *
 *   status=N seconds=WALL cpu=USER+SYSTEM maxrss_kb=PEAK [ready=SECONDS]
 *
 * With -m, COMMAND's stderr goes through spawn (and on to spawn's stderr), and
 * ready= is the time from just before COMMAND is started until it writes a
 * line beginning with MARKER; with -s, spawn then stops it with SIGINT.
 * Exits with COMMAND's status.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double seconds_of(struct timeval tv)
{
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

/* Copy the child's stderr on; the time its first MARKER line arrived, or -1. */
static double watch_for_marker(FILE *err, const char *marker, bool stop, double start)
{
	char *line = NULL;
	size_t size = 0;
	double ready = -1;

	while (getline(&line, &size, err) > 0) {
		if (ready < 0 && !strncmp(line, marker, strlen(marker))) {
			ready = now() - start;
			if (stop)
				kill(child, SIGINT);
		}
		fputs(line, stderr);
	}
	free(line);
	return ready;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = pass_on};
	const char *marker = NULL, *stats_path;
	bool stop = false;
	int opt, pipe_fds[2], status;
	struct rusage usage;
	double start, ready = -1;
	FILE *stats;

	while ((opt = getopt(argc, argv, "+m:s")) != -1) {
		if (opt == 'm')
			marker = optarg;
		else if (opt == 's')
			stop = true;
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: spawn [-m MARKER [-s]] STATS COMMAND [ARG...]\n");
		return 2;
	}
	stats_path = argv[optind];
	if (marker && pipe(pipe_fds)) {
		perror("spawn: pipe");
		return 1;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	start = now();
	child = fork();
	if (child < 0) {
		perror("spawn: fork");
		return 1;
	}
	if (child == 0) {
		if (marker) {
			dup2(pipe_fds[1], STDERR_FILENO);
			close(pipe_fds[0]);
			close(pipe_fds[1]);
		}
		execvp(argv[optind + 1], argv + optind + 1);
		fprintf(stderr, "spawn: cannot run %s: %s\n", argv[optind + 1], strerror(errno));
		_exit(127);
	}
	if (marker) {
		close(pipe_fds[1]);
		ready = watch_for_marker(fdopen(pipe_fds[0], "r"), marker, stop, start);
	}
	while (wait4(child, &status, 0, &usage) < 0)
		if (errno != EINTR) {
			perror("spawn: wait");
			return 1;
		}
	stats = fopen(stats_path, "w");
	if (!stats) {
		fprintf(stderr, "spawn: cannot write %s: %s\n", stats_path, strerror(errno));
		return 1;
	}
	fprintf(stats, "status=%d seconds=%.6f cpu=%.6f maxrss_kb=%ld",
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), now() - start,
		seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime), usage.ru_maxrss);
	if (marker)
		fprintf(stats, " ready=%.6f", ready);
	fputc('\n', stats);
	fclose(stats);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
