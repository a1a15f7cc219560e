/* Kernel text symbols of the recording host, from /proc/kallsyms. */
#ifndef CASEFILE_RECORD_KSYMS_H
#define CASEFILE_RECORD_KSYMS_H

#include <stdint.h>

struct ksyms;

/* Load the function symbols; NULL with one line on stderr if they are hidden. */
struct ksyms *ksyms_load(void);
void ksyms_free(struct ksyms *syms);

/* The function containing addr, or NULL; its start is stored in *start. */
const char *ksyms_function(const struct ksyms *syms, uint64_t addr, uint64_t *start);

#endif
