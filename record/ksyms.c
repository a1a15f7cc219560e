/* Kernel text symbols of the recording host, from /proc/kallsyms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "util.h"

struct entry {
	uint64_t addr;
	uint32_t name;	 /* offset in names */
	uint32_t module; /* offset in names */
};

struct ksyms {
	struct entry *entries;
	size_t count;
	char *names;
	size_t names_used, names_size;
};

static int by_address(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Copy len bytes of text into the name pool; returns its offset. */
static uint32_t add_name(struct ksyms *ks, const char *text, size_t len)
{
	uint32_t offset = (uint32_t)ks->names_used;

	while (ks->names_used + len + 1 > ks->names_size)
		ks->names = xrealloc(ks->names, ks->names_size *= 2);
	memcpy(ks->names + offset, text, len);
	ks->names[offset + len] = '\0';
	ks->names_used += len + 1;
	return offset;
}

/* "[xfs]" -> the pooled name "xfs", reusing the previous line's when equal. */
static uint32_t module_name(struct ksyms *ks, const char *field, uint32_t previous)
{
	size_t len;

	if (*field != '[')
		return 0; /* "kernel", added first */
	field++;
	len = strcspn(field, "]");
	if (previous && !strncmp(ks->names + previous, field, len) && !ks->names[previous + len])
		return previous;
	return add_name(ks, field, len);
}

struct ksyms *ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksyms *ks;
	size_t capacity = 1 << 17;
	uint32_t module = 0;
	uint64_t nonzero = 0;
	char line[512];

	if (!f) {
		fprintf(stderr, "record: cannot read /proc/kallsyms: %s\n", strerror(errno));
		return NULL;
	}
	ks = xcalloc(1, sizeof(*ks));
	ks->entries = xmalloc(capacity * sizeof(*ks->entries));
	ks->names = xmalloc(ks->names_size = 4 << 20);
	add_name(ks, "kernel", 6);
	while (fgets(line, sizeof(line), f)) {
		char *type, *name;
		uint64_t addr = strtoull(line, &type, 16);
		size_t len;

		/* "ffffffff81000000 T _stext" or "... t bpf_prog_x\t[bpf]": functions only */
		if (type[0] != ' ' || (type[1] != 't' && type[1] != 'T') || type[2] != ' ')
			continue;
		name = type + 3;
		len = strcspn(name, " \t\n");
		if (ks->count == capacity)
			ks->entries = xrealloc(ks->entries, (capacity *= 2) * sizeof(*ks->entries));
		module = module_name(ks, name + len + strspn(name + len, " \t"), module);
		ks->entries[ks->count++] = (struct entry){addr, add_name(ks, name, len), module};
		nonzero |= addr;
	}
	fclose(f);
	if (!nonzero) {
		fprintf(stderr, "record: kernel addresses are hidden in /proc/kallsyms "
				"(kernel.kptr_restrict): run as root\n");
		ksyms_free(ks);
		return NULL;
	}
	qsort(ks->entries, ks->count, sizeof(*ks->entries), by_address);
	return ks;
}

void ksyms_free(struct ksyms *syms)
{
	if (!syms)
		return;
	free(syms->entries);
	free(syms->names);
	free(syms);
}

bool ksyms_lookup(const struct ksyms *syms, uint64_t addr, struct ksym *sym)
{
	size_t lo = 0, hi = syms->count;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms->entries[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return false;
	sym->name = syms->names + syms->entries[lo - 1].name;
	sym->module = syms->names + syms->entries[lo - 1].module;
	sym->start = syms->entries[lo - 1].addr;
	return true;
}

bool ksyms_address(const struct ksyms *syms, const char *name, uint64_t *addr)
{
	for (size_t i = 0; i < syms->count; i++)
		if (!strcmp(syms->names + syms->entries[i].name, name)) {
			*addr = syms->entries[i].addr;
			return true;
		}
	return false;
}
