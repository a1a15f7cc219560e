/*
 * The kernel side of recording: checking the kernel can do it, loading the
 * BPF programs with the recorder's settings, attaching, and reading losses.
 */
#ifndef CASEFILE_RECORD_PROBES_H
#define CASEFILE_RECORD_PROBES_H

#include <bpf/libbpf.h>
#include <stdint.h>

#include "casefile.h"
#include "options.h"

struct probes;

/*
 * Check, choose each kind's mechanism, configure and load; NULL after one
 * line on stderr.  Kinds this kernel cannot record are named on stderr, one
 * line each: asked for with -e they are refused, else they are left out of
 * opts (its kinds and stack types).
 */
struct probes *probes_load(struct record_options *opts);

/* How a kind (enum event_kind_bit) is recorded, or NULL when it is not. */
const char *probes_mechanism(const struct probes *probes, unsigned kind);

int probes_attach(struct probes *probes);

/* Stop the programs: no record is produced after this returns. */
void probes_detach(struct probes *probes);

/*
 * Read the ring buffers (one per kind) into fn; -1 with a line on stderr.
 * A thread of its own empties the rings into a queue (record/queue.h),
 * from which probes_poll() and probes_drain() call fn, in the calling
 * thread: the writer's commits never keep the rings from being read.
 */
int probes_rings(struct probes *probes, ring_buffer_sample_fn fn, void *ctx);

/* Start the thread that reads the rings; -1 with a line on stderr. */
int probes_start_reading(struct probes *probes);

/*
 * Wait a few milliseconds, or less if records come, then take every
 * record queued.  Returns what fn returned, or an error.
 */
int probes_poll(struct probes *probes);

/*
 * Stop the reading thread, then take every record queued and every one
 * the rings hold now, without waiting.
 */
int probes_drain(struct probes *probes);

/* The ring buffer of image alerts (bpf/common.bpf.h), for the image watcher. */
int probes_image_alerts_fd(const struct probes *probes);

/*
 * Let capability checks take their call paths (bpf/capable.bpf.c): the
 * kernel's text is [start, end).  Their AUDIT is then learned per call path
 * into the map probes_audit_paths_fd() names.
 */
void probes_set_kernel_text(struct probes *probes, uint64_t start, uint64_t end);
int probes_audit_paths_fd(const struct probes *probes);

/*
 * Records the kernel side could not deliver, per record type, since load.
 * 0, or a negative errno when the counts cannot be read.
 */
int probes_lost(const struct probes *probes, uint64_t lost[RECORD_TYPES]);

/* The map of losses by process (lost_by_process, bpf/common.bpf.h). */
int probes_process_losses_fd(const struct probes *probes);

/* Call fn for each value of the running kernel's enum sk_rst_reason. */
int probes_each_reset_reason(int (*fn)(void *ctx, int64_t value, const char *name), void *ctx);

/* Runs the kernel skipped, by program: its place in the BPF object. */
#define PROBE_PROGRAMS 64
struct skipped_runs {
	uint64_t runs[PROBE_PROGRAMS];
};

/*
 * How many runs of each program the kernel skipped since load (it runs a
 * program at most once at a time on a CPU): those no other program took.
 */
void probes_skipped(const struct probes *probes, struct skipped_runs *out);

/* The name of the program at place i, and into kinds the kinds it records ("connect,close"). */
const char *probes_program(const struct probes *probes, size_t i, char *kinds, size_t size);

/* Say them on stderr, one line per program that had runs skipped. */
void probes_tell_skipped(const struct probes *probes);

void probes_free(struct probes *probes);

#endif
