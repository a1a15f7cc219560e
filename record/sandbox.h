/*
 * The parser process: where record parses what the host's processes shape
 * (ELF files, /proc/PID/maps), away from its privileges.  A child forked
 * while record is still root becomes another user (nobody), with no
 * capability, no file but its socket, and a seccomp filter that allows
 * little more than reading, writing that socket and allocating memory; a
 * parse that takes over PARSE_SECONDS kills it.  record opens the files
 * (what needs its privileges) and hands over the descriptors; it checks
 * every reply before using it.
 */
#ifndef CASEFILE_RECORD_SANDBOX_H
#define CASEFILE_RECORD_SANDBOX_H

#include <stddef.h>

#include "elfparse.h"

struct parser;

/* Start the parser process (as root, before privileges are dropped); NULL after one line. */
struct parser *parser_start(void);
void parser_stop(struct parser *parser);

/*
 * What the ELF file open at fd tells.  -1 when the parser is gone (it
 * crashed, or a parse took too long: said once on stderr); the caller
 * then knows nothing of the file.  Not thread-safe: one caller at a time.
 */
int parser_elf(struct parser *parser, int fd, struct elf_info *info);

/*
 * The executable mappings in the text of a /proc/PID/maps: *entries (their
 * paths in *paths, both freed by the caller).  -1 when the parser is gone.
 */
int parser_maps(struct parser *parser, const char *text, size_t len, struct maps_entry **entries,
		size_t *count, char **paths);

/* The parser process's loop, in the child: exported for the fuzzer's harness. */
void parser_serve(int sock);

#endif
