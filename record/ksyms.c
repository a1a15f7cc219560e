/* Kernel text symbols of the recording host, from /proc/kallsyms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksyms.h"
#include "util.h"

struct ksym {
	uint64_t addr;
	uint32_t name; /* offset in names */
};

struct ksyms {
	struct ksym *syms;
	size_t count;
	char *names;
};

static int by_address(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

struct ksyms *ksyms_load(void)
{
	FILE *f = fopen("/proc/kallsyms", "re");
	struct ksyms *ks;
	size_t cap = 1 << 17, names_cap = 4 << 20, names_used = 0;
	char line[512];
	uint64_t nonzero = 0;

	if (!f) {
		fprintf(stderr, "record: cannot read /proc/kallsyms: %s\n", strerror(errno));
		return NULL;
	}
	ks = xcalloc(1, sizeof(*ks));
	ks->syms = xmalloc(cap * sizeof(*ks->syms));
	ks->names = xmalloc(names_cap);
	while (fgets(line, sizeof(line), f)) {
		char *type, *name, *end;
		uint64_t addr = strtoull(line, &type, 16);
		size_t len;

		/* "ffffffff81000000 T _stext [module]": keep functions only */
		if (type[0] != ' ' || (type[1] != 't' && type[1] != 'T') || type[2] != ' ')
			continue;
		name = type + 3;
		end = name + strcspn(name, " \t\n");
		len = (size_t)(end - name);
		if (ks->count == cap)
			ks->syms = xrealloc(ks->syms, (cap *= 2) * sizeof(*ks->syms));
		while (names_used + len + 1 > names_cap)
			ks->names = xrealloc(ks->names, names_cap *= 2);
		memcpy(ks->names + names_used, name, len);
		ks->names[names_used + len] = '\0';
		ks->syms[ks->count++] = (struct ksym){addr, (uint32_t)names_used};
		names_used += len + 1;
		nonzero |= addr;
	}
	fclose(f);
	if (!nonzero) {
		fprintf(stderr, "record: kernel addresses are hidden in /proc/kallsyms "
				"(kernel.kptr_restrict): run as root\n");
		ksyms_free(ks);
		return NULL;
	}
	qsort(ks->syms, ks->count, sizeof(*ks->syms), by_address);
	return ks;
}

void ksyms_free(struct ksyms *syms)
{
	if (!syms)
		return;
	free(syms->syms);
	free(syms->names);
	free(syms);
}

const char *ksyms_function(const struct ksyms *syms, uint64_t addr, uint64_t *start)
{
	size_t lo = 0, hi = syms->count;

	/* The last symbol at or below addr. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (syms->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo)
		return NULL;
	*start = syms->syms[lo - 1].addr;
	return syms->names + syms->syms[lo - 1].name;
}
