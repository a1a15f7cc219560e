/*
 * The fuzzer of record's parsers of hostile input (record/elfparse.c, what
 * the parser process runs): each input is parsed as an ELF file, as a
 * mapped executable could be (hostile headers, section tables, notes and
 * symbol tables), then as the text of a /proc/PID/maps, line by line
 * (hostile paths).  What comes out must hold together: functions by
 * address, names and paths inside what was parsed, code flags 0 or 1.
 *
 * Built with libFuzzer (make fuzz-elf), or with replay_main.c to replay
 * inputs (tests/custody.test.sh: tests/fuzz/elf-seeds/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfparse.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	return 0;
}

static void parse_elf(const uint8_t *data, size_t size)
{
	int fd = memfd_create("elf", MFD_CLOEXEC);
	struct elf_info info;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	elf_parse(fd, &info);
	close(fd);
	if (info.names_size && info.names[info.names_size - 1])
		abort();
	for (size_t i = 0; i < info.nfunctions; i++)
		if (info.functions[i].name >= info.names_size ||
		    (i && info.functions[i - 1].addr > info.functions[i].addr))
			abort();
	for (size_t i = 0; i < info.nsegments; i++)
		if (info.segments[i].code > 1)
			abort();
	if (info.build_id && strspn(info.build_id, "0123456789abcdef") != strlen(info.build_id))
		abort();
	elf_info_free(&info);
}

static void parse_maps(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *save = NULL;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct maps_entry entry;

		if (maps_parse_line(line, &entry) &&
		    (entry.path <= line || entry.path >= line + strlen(line) || !*entry.path))
			abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_elf(data, size);
	parse_maps(data, size);
	return 0;
}
