/*
 * report: replay Casefile captures offline.  Read-only, no root, nothing read
 * from the analysis machine's /proc or /sys: the capture is the whole story.
 */
#include <stdio.h>
#include <string.h>

#include "info.h"

static const char usage[] =
	"usage: report COMMAND FILE...\n"
	"\n"
	"Replay Casefile captures made by `record`, on any machine.\n"
	"\n"
	"commands:\n"
	"  info FILE...    host, kernel, span, events and losses of each capture\n"
	"\n"
	"examples:\n"
	"    report info case42.db\n";

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"info", report_info},
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		fputs(usage, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "report: unknown command '%s' (see report --help)\n", argv[1]);
	return 2;
}
