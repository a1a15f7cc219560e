/*
 * A progress line on stderr, redrawn at most twice a second, first after
 * PROGRESS_AFTER_NS (REPORT_PROGRESS_AFTER): work that ends sooner shows nothing.  Threads (summary
 * runs its analyses in three) add to the same counts.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"
#include "util.h"

#define PROGRESS_AFTER_NS 1500000000LL
#define PROGRESS_EVERY_NS 500000000LL

static struct {
	bool enabled;
	bool same_terminal; /* standard output is a terminal too */
	_Atomic int64_t expected, done;
	_Atomic int64_t next_ns; /* when the line may be drawn next; 0 before any work */
	atomic_bool shown;
	int64_t start_ns;
	pthread_mutex_t lock;
} progress = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* REPORT_PROGRESS_AFTER (seconds, as 0.5) when set: how soon the line may show. */
static int64_t progress_after_ns(void)
{
	const char *after = getenv("REPORT_PROGRESS_AFTER");
	char *end;
	double seconds = after ? strtod(after, &end) : -1;

	if (!after || end == after || *end || !(seconds >= 0 && seconds <= 3600))
		return PROGRESS_AFTER_NS;
	return (int64_t)(seconds * 1e9);
}

void progress_enable(bool enabled)
{
	progress.enabled = enabled;
	progress.same_terminal = isatty(STDOUT_FILENO);
	progress.start_ns = clock_ns(CLOCK_MONOTONIC);
	atomic_store(&progress.next_ns, progress.start_ns + progress_after_ns());
}

void progress_expect(int64_t events)
{
	atomic_fetch_add(&progress.expected, events);
}

/* "12.3M": a count in three or four characters. */
static void short_count(double n, char *out, size_t size)
{
	static const char units[] = " kMG";
	int unit = 0;

	while (n >= 1000 && unit < 3) {
		n /= 1000;
		unit++;
	}
	snprintf(out, size, unit ? "%.1f%c" : "%.0f", n, units[unit]);
}

static void draw(int64_t now)
{
	double done = (double)atomic_load(&progress.done);
	double expected = (double)atomic_load(&progress.expected);
	double seconds = (double)(now - progress.start_ns) / 1e9, rate = done / seconds;
	char read[16], total[16], per_second[16], left[32] = "";

	if (expected < done)
		expected = done;
	short_count(done, read, sizeof(read));
	short_count(expected, total, sizeof(total));
	short_count(rate, per_second, sizeof(per_second));
	if (rate > 0 && expected > done)
		snprintf(left, sizeof(left), ", about %.0f s left", (expected - done) / rate);
	fprintf(stderr, "\rreport: %s of %s events read (%.0f%%), %s/s%s\033[K", read, total,
		expected > 0 ? 100 * done / expected : 100.0, per_second, left);
	fflush(stderr);
	atomic_store(&progress.shown, true);
}

void progress_add(int64_t events)
{
	int64_t now, next;

	atomic_fetch_add(&progress.done, events);
	if (!progress.enabled)
		return;
	now = clock_ns(CLOCK_MONOTONIC);
	next = atomic_load(&progress.next_ns);
	/* One thread draws; the others go on. */
	if (now < next ||
	    !atomic_compare_exchange_strong(&progress.next_ns, &next, now + PROGRESS_EVERY_NS))
		return;
	pthread_mutex_lock(&progress.lock);
	draw(now);
	pthread_mutex_unlock(&progress.lock);
}

/* Clear the line, if shown: the caller holds the lock. */
static void clear(void)
{
	if (atomic_load(&progress.shown)) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	atomic_store(&progress.shown, false);
}

void progress_output(void)
{
	if (!progress.enabled || !progress.same_terminal)
		return;
	atomic_store(&progress.next_ns, clock_ns(CLOCK_MONOTONIC) + PROGRESS_EVERY_NS);
	pthread_mutex_lock(&progress.lock);
	clear();
	pthread_mutex_unlock(&progress.lock);
}

void progress_end(void)
{
	pthread_mutex_lock(&progress.lock);
	clear();
	atomic_store(&progress.expected, 0);
	atomic_store(&progress.done, 0);
	progress.enabled = false;
	pthread_mutex_unlock(&progress.lock);
}
