/* ELF files through libelf, /proc/PID/maps lines: hostile input (see elfparse.h). */
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfparse.h"
#include "util.h"

#define NT_GNU_BUILD_ID 3
#define BUILD_ID_MAX	64 /* bytes; GNU's are 20 */

static int by_address(const void *a, const void *b)
{
	const struct elf_function *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The functions of one symbol table section. */
static void read_functions(struct elf_info *info, Elf *elf, Elf_Scn *scn, const GElf_Shdr *shdr)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count = shdr->sh_entsize ? shdr->sh_size / shdr->sh_entsize : 0;
	size_t names_size = 4096;

	if (!data || !count || count > data->d_size)
		return;
	info->functions = xmalloc(count * sizeof(*info->functions));
	info->names = xmalloc(names_size);
	for (size_t i = 0; i < count; i++) {
		GElf_Sym sym;
		const char *name;
		size_t len;

		if (!gelf_getsym(data, (int)i, &sym) || sym.st_value == 0 ||
		    sym.st_shndx == SHN_UNDEF ||
		    (GELF_ST_TYPE(sym.st_info) != STT_FUNC &&
		     GELF_ST_TYPE(sym.st_info) != STT_GNU_IFUNC))
			continue;
		name = elf_strptr(elf, shdr->sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		len = strlen(name) + 1;
		if (info->names_size + len > UINT32_MAX)
			break;
		while (info->names_size + len > names_size)
			info->names = xrealloc(info->names, names_size *= 2);
		memcpy(info->names + info->names_size, name, len);
		info->functions[info->nfunctions++] = (struct elf_function){
			sym.st_value, sym.st_size, (uint32_t)info->names_size};
		info->names_size += len;
	}
	elf_sort_functions(info);
}

/* The GNU build-id from a PT_NOTE segment, in hex. */
static void read_build_id(struct elf_info *info, Elf *elf, const GElf_Phdr *phdr)
{
	Elf_Data *data =
		elf_getdata_rawchunk(elf, (int64_t)phdr->p_offset, phdr->p_filesz, ELF_T_NHDR);
	size_t offset = 0, name_at, desc_at;
	GElf_Nhdr note;

	while (data && (offset = gelf_getnote(data, offset, &note, &name_at, &desc_at)) > 0) {
		const unsigned char *desc = (const unsigned char *)data->d_buf + desc_at;

		if (note.n_type != NT_GNU_BUILD_ID || note.n_namesz != 4 ||
		    note.n_descsz > BUILD_ID_MAX ||
		    memcmp((const char *)data->d_buf + name_at, "GNU", 4) || info->build_id)
			continue;
		info->build_id = xmalloc(2 * note.n_descsz + 1);
		info->build_id[0] = '\0';
		for (size_t i = 0; i < note.n_descsz; i++)
			sprintf(info->build_id + 2 * i, "%02x", desc[i]);
	}
}

void elf_parse(int fd, struct elf_info *info)
{
	Elf *elf;
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr symtab_hdr, dynsym_hdr, shdr;
	size_t nphdrs;

	*info = (struct elf_info){0};
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || elf_getphdrnum(elf, &nphdrs))
		goto out;
	info->segments = xcalloc(nphdrs ? nphdrs : 1, sizeof(*info->segments));
	for (size_t i = 0; i < nphdrs; i++) {
		GElf_Phdr phdr;

		if (!gelf_getphdr(elf, (int)i, &phdr))
			continue;
		if (phdr.p_type == PT_LOAD)
			info->segments[info->nsegments++] =
				(struct elf_segment){phdr.p_offset, phdr.p_vaddr, phdr.p_filesz,
						     (phdr.p_flags & PF_X) != 0};
		else if (phdr.p_type == PT_NOTE)
			read_build_id(info, elf, &phdr);
	}
	while ((scn = elf_nextscn(elf, scn))) {
		if (!gelf_getshdr(scn, &shdr))
			continue;
		if (shdr.sh_type == SHT_SYMTAB)
			symtab = scn, symtab_hdr = shdr;
		else if (shdr.sh_type == SHT_DYNSYM)
			dynsym = scn, dynsym_hdr = shdr;
	}
	if (symtab)
		read_functions(info, elf, symtab, &symtab_hdr);
	else if (dynsym)
		read_functions(info, elf, dynsym, &dynsym_hdr);
out:
	elf_end(elf);
}

void elf_sort_functions(struct elf_info *info)
{
	if (info->nfunctions)
		qsort(info->functions, info->nfunctions, sizeof(*info->functions), by_address);
}

void elf_info_free(struct elf_info *info)
{
	free(info->segments);
	free(info->functions);
	free(info->names);
	free(info->build_id);
	*info = (struct elf_info){0};
}

int maps_parse_line(const char *line, struct maps_entry *entry)
{
	unsigned dev_major, dev_minor;
	unsigned long long ino;
	char perms[8];
	int path_at = 0;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %x:%x %llu %n", &entry->start,
		   &entry->end, perms, &entry->pgoff, &dev_major, &dev_minor, &ino, &path_at) < 7 ||
	    strlen(perms) < 3 || perms[2] != 'x' || !path_at || !line[path_at])
		return 0;
	entry->dev = ((uint64_t)dev_major << 32) | dev_minor;
	entry->ino = ino;
	entry->path = line + path_at;
	return 1;
}
