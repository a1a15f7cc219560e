/* record's command line: what the responder asked for. */
#ifndef CASEFILE_RECORD_OPTIONS_H
#define CASEFILE_RECORD_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "kinds.h"

struct record_options {
	const char *output; /* NULL: a name unique per host and time */
	unsigned kinds;	    /* enum event_kind_bit */
	double duration_s;  /* 0: until a signal */
	int64_t filter_pid; /* -1: every process */
	int64_t filter_uid; /* -1: every user */
	uint32_t ring_buffer_bytes;
	uint64_t max_bytes;	     /* --max-size: stop there; 0: no limit */
	uint64_t max_events;	     /* --max-events: stop there; 0: no limit */
	uint64_t rotate_bytes;	     /* -C: go on in a new numbered file there; 0: never */
	unsigned kernel_stack_types; /* -K: 1 << record_type of the kinds that take them */
	unsigned user_stack_types;   /* -U: likewise */
	bool force;		     /* replace an existing capture */
	bool quiet;		     /* no live status */
	char *command_line;	     /* argv, shell-quoted, for the capture's metadata */
};

/*
 * Parse argv.  Returns 0 to go on, 1 when --help was printed (exit 0), or -1
 * after one line on stderr (exit 2).
 */
int parse_record_options(int argc, char **argv, struct record_options *opts);
void free_record_options(struct record_options *opts);

/* "connect,accept" for a set of kinds, in a buffer of at least 64 bytes. */
const char *kinds_to_string(unsigned kinds, char *buf, size_t size);

#endif
