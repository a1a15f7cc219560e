/* Kernel text symbols of the recording host, from /proc/kallsyms. */
#ifndef CASEFILE_RECORD_KSYMS_H
#define CASEFILE_RECORD_KSYMS_H

#include <stdbool.h>
#include <stdint.h>

struct ksyms;

/* A kernel function, and the module that holds it ("kernel" for vmlinux). */
struct ksym {
	const char *name;
	const char *module;
	uint64_t start;
};

/* Load the function symbols; NULL with one line on stderr if they are hidden. */
struct ksyms *ksyms_load(void);
void ksyms_free(struct ksyms *syms);

/* The function containing addr; false when below every symbol. */
bool ksyms_lookup(const struct ksyms *syms, uint64_t addr, struct ksym *sym);

/* The address of the function called name, by a scan of every symbol; false if none. */
bool ksyms_address(const struct ksyms *syms, const char *name, uint64_t *addr);

#endif
