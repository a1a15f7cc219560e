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

/* Check, configure and load; NULL after one line on stderr. */
struct probes *probes_load(const struct record_options *opts);

int probes_attach(struct probes *probes);

/* Stop the programs: no record is produced after this returns. */
void probes_detach(struct probes *probes);

/* The ring buffer the records arrive in, calling fn for each. */
struct ring_buffer *probes_ring_buffer(struct probes *probes, ring_buffer_sample_fn fn, void *ctx);

/*
 * Wait a few milliseconds, or less if the ring fills, then take every record
 * it holds.  Returns what the ring buffer's callback returned, or an error.
 */
int probes_poll(struct probes *probes);

/* The ring buffer of image alerts (bpf/common.bpf.h), for the image watcher. */
int probes_image_alerts_fd(const struct probes *probes);

/*
 * Records the kernel side could not deliver, per record type, since load.
 * 0, or a negative errno when the counts cannot be read.
 */
int probes_lost(const struct probes *probes, uint64_t lost[RECORD_TYPES]);

/* Call fn for each value of the running kernel's enum sk_rst_reason. */
int probes_each_reset_reason(int (*fn)(void *ctx, int64_t value, const char *name), void *ctx);

void probes_free(struct probes *probes);

#endif
