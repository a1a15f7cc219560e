/*
 * Parsing what the processes of the recording host shape: their ELF files
 * (program headers, notes, symbol tables) and the text of /proc/PID/maps.
 * Hostile input: it runs in the parser process (sandbox.c), never in the
 * recorder.
 */
#ifndef CASEFILE_RECORD_ELFPARSE_H
#define CASEFILE_RECORD_ELFPARSE_H

#include <stddef.h>
#include <stdint.h>

struct elf_segment {
	uint64_t offset; /* in the file */
	uint64_t vaddr;
	uint64_t size;
	uint8_t code; /* 1: PF_X, a frame may lie in it; else 0 */
};

struct elf_function {
	uint64_t addr;
	uint64_t size;
	uint32_t name; /* offset in names */
};

/* What an ELF file tells: PT_LOAD segments, its GNU build-id, its functions. */
struct elf_info {
	struct elf_segment *segments;
	size_t nsegments;
	struct elf_function *functions; /* by address */
	size_t nfunctions;
	char *names; /* the functions' names, each NUL-terminated */
	size_t names_size;
	char *build_id; /* in hex; NULL: none */
};

/* Parse the ELF file open at fd (.symtab, else .dynsym); nothing known is no error. */
void elf_parse(int fd, struct elf_info *info);
void elf_info_free(struct elf_info *info);
/* Its functions by address, as a binary search over them needs. */
void elf_sort_functions(struct elf_info *info);

/* An executable mapping with a file or a name, from a line of /proc/PID/maps. */
struct maps_entry {
	uint64_t start, end, pgoff;
	uint64_t dev, ino;
	const char *path; /* in the line parsed */
};

/* 1 when line (NUL-terminated, no newline) is such a mapping, else 0. */
int maps_parse_line(const char *line, struct maps_entry *entry);

#endif
