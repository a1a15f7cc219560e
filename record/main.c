/*
 * record: capture TCP connects, accepts, resets and capability checks from
 * the kernel into one SQLite file.
 *
 * The session: load the BPF programs, create the capture, attach, then move
 * records from the ring buffer into rows, committing once a second, until a
 * signal or the duration ends it; then drain, close, and account for it all.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "capture.h"
#include "heap.h"
#include "ksyms.h"
#include "options.h"
#include "probes.h"
#include "rows.h"
#include "util.h"

#define NS_PER_S		1000000000LL
#define COMMIT_INTERVAL_NS	NS_PER_S
#define RECORDS_PER_CLOCK_CHECK 1024
#define STOP_NOW		(-ECANCELED) /* from tick(): leave the polling loop */

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

struct session {
	struct record_options opts;
	struct probes *probes;
	struct capture *cap;
	struct ksyms *ksyms;
	struct audit_deriver *audit;
	struct rows *rows;
	struct ring_buffer *ring;
	int64_t base_ns;    /* CLOCK_BOOTTIME the capture's t counts from */
	int64_t started_ns; /* CLOCK_MONOTONIC */
	int64_t deadline_ns;
	int64_t next_commit_ns;
	uint64_t events_at_last_status;
	unsigned records_since_clock_check;
	bool draining; /* programs detached: consume everything, stop for nothing */
	bool show_status;
};

/* Kernel-side and recorder-side losses together. */
static void total_lost(const struct session *s, uint64_t lost[RECORD_TYPES])
{
	const uint64_t *dropped = rows_lost(s->rows);

	probes_lost(s->probes, lost);
	for (int i = 0; i < RECORD_TYPES; i++)
		lost[i] += dropped[i];
}

static uint64_t sum(const uint64_t counts[RECORD_TYPES])
{
	uint64_t total = 0;

	for (int i = 0; i < RECORD_TYPES; i++)
		total += counts[i];
	return total;
}

static void print_status(struct session *s, const uint64_t lost[RECORD_TYPES])
{
	uint64_t events = sum(rows_recorded(s->rows));

	fprintf(stderr, "\rrecord: %llu events, %llu/s, %llu lost, %.1f MB\033[K",
		(unsigned long long)events, (unsigned long long)(events - s->events_at_last_status),
		(unsigned long long)sum(lost), capture_size(s->cap) / 1e6);
	s->events_at_last_status = events;
}

/* Commit when a second has passed; say when it is time to stop. */
static int tick(struct session *s)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC);

	if (now >= s->next_commit_ns) {
		uint64_t lost[RECORD_TYPES];

		total_lost(s, lost);
		if (rows_flush(s->rows) || capture_commit(s->cap, rows_recorded(s->rows), lost))
			return -EIO;
		if (s->show_status)
			print_status(s, lost);
		s->next_commit_ns = now + COMMIT_INTERVAL_NS;
	}
	if (!s->draining && (stop_signal || now >= s->deadline_ns))
		return STOP_NOW;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (rows_add_record(s->rows, data, size))
		return -EIO;
	/* Under a storm the ring never empties: check the clock from here too. */
	if (++s->records_since_clock_check < RECORDS_PER_CLOCK_CHECK)
		return 0;
	s->records_since_clock_check = 0;
	return tick(s);
}

static int add_reset_reason(void *ctx, int64_t value, const char *name)
{
	return capture_add_reset_reason(ctx, value, name);
}

/* casefile-HOST-YYYYMMDDTHHMMSSZ.db */
static char *default_output(void)
{
	char host[256] = "host", stamp[32], *name;
	time_t now = time(NULL);
	struct tm utc;

	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "/")] = '\0';
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &utc));
	name = xmalloc(strlen(host) + strlen(stamp) + 16);
	sprintf(name, "casefile-%s-%s.db", host, stamp);
	return name;
}

/* CLOCK_REALTIME - CLOCK_BOOTTIME, read between two boottime readings. */
static int64_t realtime_offset(int64_t *boottime)
{
	int64_t before = clock_ns(CLOCK_BOOTTIME);
	int64_t real = clock_ns(CLOCK_REALTIME);
	int64_t after = clock_ns(CLOCK_BOOTTIME);

	*boottime = before + (after - before) / 2;
	return real - *boottime;
}

static int start_capture(struct session *s, const char *path)
{
	char kinds[64];
	struct capture_setup setup = {
		.command_line = s->opts.command_line,
		.event_kinds = kinds_to_string(s->opts.kinds, kinds, sizeof(kinds)),
		.filter_pid = s->opts.filter_pid,
		.filter_uid = s->opts.filter_uid,
		.ring_buffer_bytes = s->opts.ring_buffer_bytes,
		.record_type_enabled =
			{
				[RECORD_CONNECT] = s->opts.kinds & KIND_CONNECT,
				[RECORD_OUTCOME] = s->opts.kinds & KIND_CONNECT,
				[RECORD_ACCEPT] = s->opts.kinds & KIND_ACCEPT,
				[RECORD_RESET] = s->opts.kinds & KIND_RESET,
				[RECORD_CAPABLE] = s->opts.kinds & KIND_CAPABLE,
			},
	};

	setup.realtime_offset_ns = realtime_offset(&setup.base_ns);
	s->base_ns = setup.base_ns;
	s->cap = capture_create(path, s->opts.force);
	if (!s->cap)
		return -1;
	return capture_start(s->cap, &setup);
}

static void install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static int record_until_stopped(struct session *s)
{
	for (;;) {
		int err = probes_poll(s->probes);

		if (err == -EINTR || err >= 0)
			err = tick(s);
		if (err == STOP_NOW)
			return 0;
		if (err < 0) {
			if (err != -EIO)
				fprintf(stderr, "record: cannot read the ring buffer: %s\n",
					strerror(-err));
			return -1;
		}
	}
}

static const char *stop_reason(char *buf, size_t size)
{
	if (!stop_signal)
		return "duration";
	snprintf(buf, size, "signal SIG%s", sigabbrev_np(stop_signal));
	return buf;
}

static void print_summary(struct session *s, const char *reason, const uint64_t lost[RECORD_TYPES])
{
	const uint64_t *recorded = rows_recorded(s->rows);
	double seconds = (clock_ns(CLOCK_MONOTONIC) - s->started_ns) / 1e9;

	if (s->show_status)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "record: stopped (%s) after %.1f s: %s, %.1f MB\n", reason, seconds,
		capture_path(s->cap), capture_size(s->cap) / 1e6);
	for (int i = 0; i < RECORD_TYPES; i++)
		fprintf(stderr, "  %-8s %12llu recorded %10llu lost\n", record_type_names[i],
			(unsigned long long)recorded[i], (unsigned long long)lost[i]);
}

/* Detach, take what is still in the ring buffer, and close the capture. */
static int finish(struct session *s)
{
	uint64_t lost[RECORD_TYPES];
	char buf[32];
	const char *reason = stop_reason(buf, sizeof(buf));

	probes_detach(s->probes);
	s->draining = true;
	if (ring_buffer__consume(s->ring) < 0)
		return -1;
	total_lost(s, lost);
	if (rows_flush(s->rows) || capture_finish(s->cap, reason, rows_recorded(s->rows), lost))
		return -1;
	print_summary(s, reason, lost);
	return 0;
}

static int run(struct session *s)
{
	char *default_path = s->opts.output ? NULL : default_output();
	const char *path = s->opts.output ? s->opts.output : default_path;
	char kinds[64];
	int err = -1;

	install_signal_handlers();
	s->probes = probes_load(&s->opts);
	if (!s->probes)
		goto out;
	if (start_capture(s, path)) {
		capture_close(s->cap, true);
		s->cap = NULL;
		goto out;
	}
	s->ring = probes_ring_buffer(s->probes, on_record, s);
	if (!s->ring || probes_attach(s->probes)) {
		capture_close(s->cap, true);
		s->cap = NULL;
		goto out;
	}
	s->started_ns = clock_ns(CLOCK_MONOTONIC);
	s->deadline_ns = s->opts.duration_s > 0
				 ? s->started_ns + (int64_t)(s->opts.duration_s * NS_PER_S)
				 : INT64_MAX;
	s->next_commit_ns = s->started_ns + COMMIT_INTERVAL_NS;
	s->show_status = !s->opts.quiet && isatty(STDERR_FILENO);
	fprintf(stderr, "record: recording %s to %s; Ctrl-C to stop\n",
		kinds_to_string(s->opts.kinds, kinds, sizeof(kinds)), path);

	/*
	 * What needs the kernel's BTF or symbols parsed (tens of milliseconds
	 * each) comes after attaching: records wait in the ring buffer meanwhile.
	 */
	if (probes_each_reset_reason(add_reset_reason, s->cap))
		goto out;
	if (s->opts.kinds & KIND_CAPABLE) {
		s->ksyms = ksyms_load();
		if (!s->ksyms)
			fprintf(stderr, "record: AUDIT will be unknown for capability checks\n");
	}
	s->audit = audit_deriver_new(s->ksyms);
	s->rows = rows_new(s->cap, s->base_ns, s->audit);
	if (record_until_stopped(s) == 0 && finish(s) == 0)
		err = 0;
out:
	free(default_path);
	return err;
}

int main(int argc, char **argv)
{
	struct session s = {0};
	int rc;

	heap_use_huge_pages();
	rc = parse_record_options(argc, argv, &s.opts);

	if (rc)
		return rc > 0 ? 0 : 2;
	rc = run(&s) ? 1 : 0;
	rows_free(s.rows);
	audit_deriver_free(s.audit);
	ksyms_free(s.ksyms);
	probes_free(s.probes);
	capture_close(s.cap, false);
	free_record_options(&s.opts);
	return rc;
}
