/*
 * The recording session: from attaching to the final summary.  Records move
 * from the ring buffers (through the reading thread's queue, probes.c) into
 * rows, committed once a second; limits, rotation
 * into numbered files, signals and write failures decide when it ends.
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
#include "images.h"
#include "ksyms.h"
#include "losses.h"
#include "privileges.h"
#include "probes.h"
#include "procinfo.h"
#include "rows.h"
#include "session.h"
#include "sha256.h"
#include "util.h"

#define NS_PER_S		1000000000LL
#define COMMIT_INTERVAL_NS	NS_PER_S
#define RECORDS_PER_CLOCK_CHECK 1024
#define STOP_NOW		(-ECANCELED) /* from tick(): leave the polling loop */
/* How often the loss counts are looked at: as often as the writer wakes at least (probes.c). */
#define LOOK_INTERVAL_NS 10000000LL

static volatile sig_atomic_t stop_signal, stop_signals;

static void on_stop_signal(int sig)
{
	stop_signal = sig;
	if (stop_signals < 2)
		stop_signals++;
}

/* A second Ctrl-C: the responder will not wait for a reader to let go of the file. */
static bool stop_asked_again(void)
{
	return stop_signals > 1;
}

struct session {
	struct record_options *opts; /* kinds narrowed to what the kernel can record */
	struct probes *probes;
	struct ksyms *ksyms;
	struct audit_deriver *audit;
	struct usyms *usyms;
	struct image_watcher *watcher;
	struct stack_store *stacks;
	struct rows *rows;
	struct capture_setup setup; /* of every part; part number aside */
	char event_kinds[64];	    /* setup.event_kinds points here */
	struct reset_reason {
		int64_t value;
		char *name;
	} * reset_reasons; /* the kernel's enum sk_rst_reason, read once after attaching */
	size_t nreset_reasons;
	const char *first_path;
	int parts_started;
	int64_t started_ns; /* CLOCK_MONOTONIC */
	int64_t deadline_ns;
	int64_t next_commit_ns;
	int64_t next_look_ns;	/* at the loss counts (record/losses.c) */
	int64_t finished_bytes; /* content of the parts already closed */
	int64_t finished_disk_bytes;
	uint64_t recorded[RECORD_TYPES]; /* in the parts already closed */
	uint64_t lost[RECORD_TYPES];
	uint64_t events_at_last_status;
	unsigned records_since_clock_check;
	const char *limit_reached; /* "max-size" or "max-events", once reached */
	char failure[128];	   /* what stopped the recording, when not a write */
	bool draining;		   /* programs detached: consume all, stop for nothing */
	bool show_status;
};

/* Part n of the recording: FILE, then FILE with ".n" before its extension. */
static char *part_path(const char *first, int n)
{
	const char *slash = strrchr(first, '/');
	const char *dot = strrchr(slash ? slash + 1 : first, '.');
	size_t stem =
		dot && dot != (slash ? slash + 1 : first) ? (size_t)(dot - first) : strlen(first);
	char *path = xmalloc(strlen(first) + 16);

	if (n == 1)
		return strcpy(path, first);
	sprintf(path, "%.*s.%d%s", (int)stem, first, n, first + stem);
	return path;
}

static int note_reset_reason(void *ctx, int64_t value, const char *name)
{
	struct session *s = ctx;

	s->reset_reasons =
		xrealloc(s->reset_reasons, (s->nreset_reasons + 1) * sizeof(*s->reset_reasons));
	s->reset_reasons[s->nreset_reasons++] = (struct reset_reason){value, xstrdup(name)};
	return 0;
}

/* Name the kernel's reset reasons in cap (none yet before attaching). */
static int write_reset_reasons(const struct session *s, struct capture *cap)
{
	for (size_t i = 0; i < s->nreset_reasons; i++)
		if (capture_add_reset_reason(cap, s->reset_reasons[i].value,
					     s->reset_reasons[i].name))
			return -1;
	return 0;
}

/*
 * The kernel's loss counts now.  Counts that cannot be read are an error
 * that stops the recording, told on stderr and as the capture's stop reason:
 * a capture never says 0 lost when the losses are unknown.
 */
static int read_kernel_lost(struct session *s, uint64_t lost[RECORD_TYPES])
{
	int err = probes_lost(s->probes, lost);

	if (err) {
		snprintf(s->failure, sizeof(s->failure),
			 "cannot read the kernel's counts of lost records: %s", strerror(-err));
		fprintf(stderr, "record: %s\n", s->failure);
	}
	return err;
}

/* The kernel's losses by process now, read as read_kernel_lost() reads the totals. */
static int read_process_lost(struct session *s, struct process_counts **counts)
{
	int err = process_counts_read(probes_process_losses_fd(s->probes), counts);

	if (err) {
		snprintf(s->failure, sizeof(s->failure),
			 "cannot read the kernel's counts of lost records: %s", strerror(-err));
		fprintf(stderr, "record: %s\n", s->failure);
	}
	return err;
}

/* Now as the events' t: CLOCK_BOOTTIME since base_ns. */
static int64_t now_t(const struct session *s)
{
	return clock_ns(CLOCK_BOOTTIME) - s->setup.base_ns;
}

/*
 * Give the part just begun its loss log and skipped runs, and end the
 * previous one's at the same counts: each loss by process, and each skipped
 * run, falls in one part.
 */
static void begin_loss_log(struct session *s, struct process_counts *counts)
{
	size_t count;
	struct part *parts = rows_parts(s->rows, &count);
	struct skipped_runs skipped;

	probes_skipped(s->probes, &skipped);
	if (count > 1) {
		loss_log_end(parts[count - 2].losses, counts);
		parts[count - 2].skipped_at_end = skipped;
	}
	parts[count - 1].losses = loss_log_new(now_t(s), counts);
	parts[count - 1].skipped_at_start = skipped;
}

/* Create the next part and send rows to it. */
static int begin_part(struct session *s)
{
	uint64_t kernel_lost[RECORD_TYPES];
	struct process_counts *counts;
	struct capture *cap;
	char *path;
	int err;

	if (read_process_lost(s, &counts))
		return -1;
	if (read_kernel_lost(s, kernel_lost)) {
		process_counts_free(counts);
		return -1;
	}
	s->setup.part = ++s->parts_started;
	s->setup.started_at_ns = s->setup.part == 1 ? s->setup.base_ns + s->setup.realtime_offset_ns
						    : clock_ns(CLOCK_REALTIME);
	path = part_path(s->first_path, s->setup.part);
	cap = capture_create(path, s->opts->force >= 2 ? REPLACE_ANY_FILE
				   : s->opts->force    ? REPLACE_CAPTURE
						       : REPLACE_NOTHING);
	free(path);
	err = !cap || capture_start(cap, &s->setup) || write_reset_reasons(s, cap) ||
	      snapshot_accounts(cap);
	if (err) {
		if (cap)
			capture_close(cap, s->parts_started == 1);
		process_counts_free(counts);
		return -1;
	}
	if (rows_begin_part(s->rows, cap, kernel_lost)) {
		process_counts_free(counts);
		return -1;
	}
	begin_loss_log(s, counts);
	/* Every file names the processes it mentions: those already running, too. */
	if ((s->opts->kinds & KIND_PROCESS) && s->parts_started > 1)
		return rows_add_running_processes(s->rows);
	return 0;
}

/* A part's losses: the kernel's during its time, and the recorder's. */
static int part_lost(struct session *s, const struct part *part, uint64_t lost[RECORD_TYPES])
{
	uint64_t now[RECORD_TYPES];

	if (part->current && read_kernel_lost(s, now))
		return -1;
	for (int i = 0; i < RECORD_TYPES; i++)
		lost[i] = (part->current ? now[i] : part->kernel_lost_at_end[i]) -
			  part->kernel_lost_at_start[i] + part->dropped[i];
	return 0;
}

/* A part's losses now: intervals for what grew since the last look. */
static int look_at_part(struct session *s, struct part *part, uint64_t lost[RECORD_TYPES])
{
	return part_lost(s, part, lost) || loss_log_look(part->losses, part->cap, lost, now_t(s))
		       ? -1
		       : 0;
}

/* The runs the kernel skipped during a part, by program (table skipped_run). */
static int write_skipped_runs(struct session *s, const struct part *part)
{
	struct skipped_runs now;
	char kinds[64];

	if (part->current)
		probes_skipped(s->probes, &now);
	else
		now = part->skipped_at_end;
	for (size_t i = 0; i < PROBE_PROGRAMS; i++) {
		uint64_t start = part->skipped_at_start.runs[i],
			 runs = now.runs[i] > start ? now.runs[i] - start : 0;
		const char *program;

		if (!runs)
			continue;
		program = probes_program(s->probes, i, kinds, sizeof(kinds));
		if (capture_set_skipped_runs(part->cap, program, kinds, runs))
			return -1;
	}
	return 0;
}

/*
 * The same, with who lost them (counts, the kernel's by process, read before
 * the totals; NULL for a part that ended: it knows its own), and the runs the
 * kernel skipped.
 */
static int account_losses(struct session *s, struct part *part, const struct process_counts *counts,
			  uint64_t lost[RECORD_TYPES])
{
	return look_at_part(s, part, lost) ||
			       loss_log_write_processes(part->losses, part->cap, lost, counts) ||
			       write_skipped_runs(s, part)
		       ? -1
		       : 0;
}

/* Every LOOK_INTERVAL_NS: when losses happened is known to this precision. */
static int look_at_losses(struct session *s)
{
	size_t count;
	struct part *parts = rows_parts(s->rows, &count);
	uint64_t lost[RECORD_TYPES];

	for (size_t i = 0; i < count; i++)
		if (look_at_part(s, &parts[i], lost))
			return -1;
	return 0;
}

static int commit_parts(struct session *s)
{
	size_t count;
	struct part *parts = rows_parts(s->rows, &count);
	struct process_counts *counts;
	int err = 0;

	if (rows_flush(s->rows) || read_process_lost(s, &counts))
		return -1;
	for (size_t i = 0; i < count && !err; i++) {
		uint64_t lost[RECORD_TYPES];

		err = account_losses(s, &parts[i], counts, lost) ||
		      capture_commit(parts[i].cap, parts[i].recorded, lost);
	}
	process_counts_free(counts);
	return err ? -1 : 0;
}

/* Close a part for good, adding its counts to the session's. */
static int finish_part(struct session *s, struct part *part, const char *reason)
{
	uint64_t lost[RECORD_TYPES];
	struct process_counts *counts = NULL;
	int err;

	/* An earlier part's losses by process are known since it ended. */
	err = (part->current && read_process_lost(s, &counts)) ||
	      account_losses(s, part, counts, lost);
	process_counts_free(counts);
	loss_log_free(part->losses);
	if (err) {
		capture_abandon(part->cap, s->failure[0] ? s->failure : NULL);
		capture_close(part->cap, false);
		return -1;
	}
	for (int i = 0; i < RECORD_TYPES; i++) {
		s->recorded[i] += part->recorded[i];
		s->lost[i] += lost[i];
	}
	s->finished_bytes += capture_content_bytes(part->cap);
	err = capture_finish(part->cap, reason, part->recorded, lost, stop_asked_again);
	s->finished_disk_bytes += capture_size(part->cap);
	capture_close(part->cap, false);
	return err;
}

/* Close the parts that need no more rows; with all, every part. */
static int finish_parts(struct session *s, bool all, const char *reason)
{
	struct part part;
	int err = 0;

	while (rows_take_part(s->rows, all, &part))
		err |= finish_part(s, &part, part.current ? reason : "rotated");
	return err;
}

static int rotate(struct session *s)
{
	size_t count;

	rows_parts(s->rows, &count);
	if (count >= MAX_OPEN_PARTS) {
		struct part oldest;

		/* Its connects still in flight will keep an unknown outcome. */
		rows_take_part(s->rows, true, &oldest);
		if (finish_part(s, &oldest, "rotated"))
			return -1;
	}
	return begin_part(s) || finish_parts(s, false, NULL) ? -1 : 0;
}

static int64_t current_bytes(struct session *s)
{
	size_t count;
	struct part *parts = rows_parts(s->rows, &count);

	return capture_content_bytes(parts[count - 1].cap);
}

static uint64_t total_recorded(const struct session *s)
{
	return rows_total_recorded(s->rows);
}

/* Limits and rotation, checked every RECORDS_PER_CLOCK_CHECK records or poll. */
static int check_size(struct session *s)
{
	const struct record_options *o = s->opts;
	/*
	 * Asked only for a limit that needs it: PRAGMA page_count is compiled
	 * again at every run (SQLite expires a pragma's statement once run),
	 * and this runs at every poll (bench: 1 to 2% of the recorder's CPU).
	 */
	int64_t bytes = o->max_bytes || o->rotate_bytes ? current_bytes(s) : 0;

	if (o->max_events && total_recorded(s) >= o->max_events)
		s->limit_reached = "max-events";
	else if (o->max_bytes && (uint64_t)(s->finished_bytes + bytes) >= o->max_bytes)
		s->limit_reached = "max-size";
	else if (o->rotate_bytes && (uint64_t)bytes >= o->rotate_bytes)
		return rotate(s);
	return 0;
}

static int print_status(struct session *s)
{
	size_t count;
	struct part *parts = rows_parts(s->rows, &count);
	uint64_t events = total_recorded(s), lost = 0, part_losses[RECORD_TYPES];
	int64_t bytes = s->finished_disk_bytes;

	for (size_t i = 0; i < count; i++) {
		if (part_lost(s, &parts[i], part_losses))
			return -1;
		for (int k = 0; k < RECORD_TYPES; k++)
			lost += part_losses[k];
		bytes += capture_size(parts[i].cap);
	}
	for (int k = 0; k < RECORD_TYPES; k++)
		lost += s->lost[k];
	fprintf(stderr, "\rrecord: %llu events, %llu/s, %llu lost, %.1f MB\033[K",
		(unsigned long long)events, (unsigned long long)(events - s->events_at_last_status),
		(unsigned long long)lost, bytes / 1e6);
	s->events_at_last_status = events;
	return 0;
}

/* Commit when a second has passed, apply limits; say when it is time to stop. */
static int tick(struct session *s)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC);

	if (!s->draining && check_size(s))
		return -EIO;
	if (now >= s->next_look_ns) {
		if (look_at_losses(s))
			return -EIO;
		s->next_look_ns = now + LOOK_INTERVAL_NS;
	}
	if (now >= s->next_commit_ns) {
		if (commit_parts(s) || finish_parts(s, false, NULL))
			return -EIO;
		if (s->show_status && print_status(s))
			return -EIO;
		s->next_commit_ns = now + COMMIT_INTERVAL_NS;
	}
	if (!s->draining && (stop_signal || s->limit_reached || now >= s->deadline_ns))
		return STOP_NOW;
	return 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	struct session *s = ctx;

	if (rows_add_record(s->rows, data, size))
		return -EIO;
	if (s->opts->max_events && total_recorded(s) >= s->opts->max_events && !s->draining)
		return tick(s);
	/* Under a storm the ring never empties: check the clock from here too. */
	if (++s->records_since_clock_check < RECORDS_PER_CLOCK_CHECK)
		return 0;
	s->records_since_clock_check = 0;
	return tick(s);
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

static const char *stop_reason(const struct session *s, char *buf, size_t size)
{
	if (stop_signal) {
		snprintf(buf, size, "signal SIG%s", sigabbrev_np(stop_signal));
		return buf;
	}
	return s->limit_reached ? s->limit_reached : "duration";
}

/* "HEX  PATH", as sha256sum prints it; a -wal only when there is one. */
static void print_hash(const char *path, const char *suffix)
{
	char *name = xmalloc(strlen(path) + strlen(suffix) + 1), hex[SHA256_HEX];

	strcat(strcpy(name, path), suffix);
	if (!sha256_file(name, hex))
		fprintf(stderr, "%s  %s\n", hex, name);
	else if (!*suffix || errno != ENOENT)
		fprintf(stderr, "record: cannot read %s: %s\n", name, strerror(errno));
	free(name);
}

/*
 * What a responder writes in the ticket: each finished file's SHA-256 (and
 * its -wal's, left by a stop that could not finish: its events are there),
 * in lines sha256sum -c checks.
 */
static void print_hashes(const struct session *s)
{
	fprintf(stderr, "record: SHA-256 of each file (sha256sum -c checks these lines):\n");
	for (int n = 1; n <= s->parts_started; n++) {
		char *path = part_path(s->first_path, n);

		print_hash(path, "");
		print_hash(path, "-wal");
		free(path);
	}
}

static void print_summary(const struct session *s, const char *reason)
{
	double seconds = (clock_ns(CLOCK_MONOTONIC) - s->started_ns) / 1e9;

	if (s->show_status)
		fputs("\r\033[K", stderr);
	fprintf(stderr, "record: stopped (%s) after %.1f s: %s", reason, seconds, s->first_path);
	if (s->parts_started > 1)
		fprintf(stderr, " and %d more file%s", s->parts_started - 1,
			s->parts_started > 2 ? "s" : "");
	fprintf(stderr, ", %.1f MB\n", s->finished_disk_bytes / 1e6);
	for (int i = 0; i < RECORD_TYPES; i++)
		fprintf(stderr, "  %-10s %12llu recorded %10llu lost\n", record_type_names[i],
			(unsigned long long)s->recorded[i], (unsigned long long)s->lost[i]);
	if (s->opts->kinds & KIND_CAPABLE) {
		struct audit_counts counts = audit_counts(s->audit);

		fprintf(stderr, "  capable AUDIT: %llu came with the check, %llu from its frames\n",
			(unsigned long long)counts.checks_known,
			(unsigned long long)counts.checks_from_frames);
	}
	print_hashes(s);
}

/* Detach, take what is still in the ring buffer, close every part. */
static int finish(struct session *s)
{
	char buf[32];
	const char *reason = stop_reason(s, buf, sizeof(buf));

	probes_detach(s->probes);
	s->draining = true;
	if (probes_drain(s->probes) < 0 || rows_flush(s->rows))
		return -1;
	if (finish_parts(s, true, reason))
		return -1;
	probes_tell_skipped(s->probes);
	print_summary(s, reason);
	return 0;
}

/* After a failed write: keep what was committed, say why it stopped. */
static void abandon(struct session *s)
{
	struct part part;

	probes_detach(s->probes);
	while (rows_take_part(s->rows, true, &part)) {
		capture_abandon(part.cap, s->failure[0] ? s->failure : NULL);
		capture_close(part.cap, false);
		loss_log_free(part.losses);
	}
}

static void install_signal_handlers(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
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

static void describe_setup(struct session *s)
{
	const struct record_options *o = s->opts;

	s->setup = (struct capture_setup){
		.command_line = o->command_line,
		.event_kinds = kinds_to_string(o->kinds, s->event_kinds, sizeof(s->event_kinds)),
		.filter_pid = o->filter_pid,
		.filter_uid = o->filter_uid,
		.ring_buffer_bytes = o->ring_buffer_bytes,
		.netns = recorder_netns(),
	};
	for (int i = 0; i < RECORD_TYPES; i++)
		s->setup.record_type_enabled[i] = record_types(o->kinds) & (1u << i);
	for (unsigned kind = 1; kind & KIND_ALL; kind <<= 1)
		for (int i = 0; i < RECORD_TYPES; i++)
			if (record_types(kind) & (1u << i))
				s->setup.mechanism[i] = probes_mechanism(s->probes, kind);
	s->setup.realtime_offset_ns = realtime_offset(&s->setup.base_ns);
}

/*
 * Capability checks on the tracepoint learn the AUDIT of their call paths
 * once the kernel's text is known; not with -K, whose checks take their
 * whole stack anyway.
 */
static void learn_call_paths(struct session *s)
{
	uint64_t start, end;

	if (s->ksyms && ksyms_address(s->ksyms, "_stext", &start) &&
	    ksyms_address(s->ksyms, "_etext", &end) && start < end)
		probes_set_kernel_text(s->probes, start, end);
}

static int start(struct session *s)
{
	const struct record_options *o = s->opts;

	if (check_privileges())
		return -1;
	procinfo_init();
	/*
	 * usyms forks the parser process: before any thread starts, or the
	 * child may inherit a lock another thread held (ASan's allocator's:
	 * it waits on it forever, and its sandbox kills it for the futex).
	 */
	if (o->user_stack_types)
		s->usyms = usyms_new();
	s->probes = probes_load(s->opts);
	if (!s->probes)
		return -1;
	describe_setup(s);
	/*
	 * -d counts from the start the capture states (its events' base), not
	 * from the end of attaching, which a loaded host can stretch past it.
	 */
	s->started_ns = clock_ns(CLOCK_MONOTONIC);
	s->rows = rows_new(s->setup.base_ns, NULL);
	if (begin_part(s))
		return -1;
	if (probes_rings(s->probes, on_record, s) || probes_attach(s->probes) ||
	    probes_start_reading(s->probes))
		return -1;
	s->deadline_ns =
		o->duration_s > 0 ? s->started_ns + (int64_t)(o->duration_s * NS_PER_S) : INT64_MAX;
	s->next_commit_ns = s->started_ns + COMMIT_INTERVAL_NS;
	s->show_status = !o->quiet && isatty(STDERR_FILENO);
	fprintf(stderr, "record: recording %s to %s; Ctrl-C to stop\n", s->event_kinds,
		s->first_path);

	/* Snapshot the images of short-lived processes while the rest gets ready. */
	if (o->user_stack_types) {
		s->watcher = image_watcher_start(probes_image_alerts_fd(s->probes), s->usyms);
		if (!s->watcher)
			return -1;
	}
	/*
	 * What parses the kernel's BTF, /proc or kernel symbols (tens of
	 * milliseconds each) comes after attaching: records wait in the ring
	 * buffer meanwhile.
	 */
	if (probes_each_reset_reason(note_reset_reason, s) ||
	    write_reset_reasons(s, rows_current_capture(s->rows)))
		return -1;
	/* Processes that started before attaching: now, so that none falls between. */
	if ((o->kinds & KIND_PROCESS) && rows_add_running_processes(s->rows))
		return -1;
	if ((o->kinds & KIND_CAPABLE) || o->kernel_stack_types) {
		s->ksyms = ksyms_load();
		if (!s->ksyms)
			fprintf(stderr, "record: AUDIT and kernel frames will be unnamed\n");
	}
	s->audit = audit_deriver_new(s->ksyms, probes_audit_paths_fd(s->probes));
	learn_call_paths(s);
	if (o->kernel_stack_types || o->user_stack_types)
		s->stacks = stack_store_new(s->ksyms, s->usyms);
	rows_set_symbols(s->rows, s->audit, s->stacks, o->kernel_stack_types, o->user_stack_types);
	return drop_privileges(recorder_privileges(s->first_path, o->user_stack_types != 0,
						   o->kinds & KIND_PROCESS));
}

static void end(struct session *s, bool discard_first)
{
	struct part part;

	while (s->rows && rows_take_part(s->rows, true, &part)) {
		capture_close(part.cap, discard_first && part.first_seq == 1);
		loss_log_free(part.losses);
	}
	image_watcher_stop(s->watcher);
	rows_free(s->rows);
	stack_store_free(s->stacks);
	usyms_free(s->usyms);
	audit_deriver_free(s->audit);
	ksyms_free(s->ksyms);
	probes_free(s->probes);
	for (size_t i = 0; i < s->nreset_reasons; i++)
		free(s->reset_reasons[i].name);
	free(s->reset_reasons);
}

int record_session(struct record_options *opts, const char *path)
{
	struct session s = {.opts = opts, .first_path = path};
	int err;

	install_signal_handlers();
	if (start(&s)) {
		end(&s, true); /* nothing was recorded: leave no file behind */
		return -1;
	}
	err = record_until_stopped(&s);
	if (!err) {
		err = finish(&s);
	} else {
		abandon(&s);
		print_hashes(&s); /* what was committed is evidence too */
	}
	end(&s, false);
	return err;
}
