/*
 * report: replay Casefile captures offline.  Read-only, no root, nothing read
 * from the analysis machine's /proc or /sys: the capture is the whole story.
 * This file only dispatches to the subcommands (command.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "command.h"
#include "util.h"

static const struct command *const commands[] = {
	&info_command,	    &summary_command,  &timeline_command, &tcpconnect_command,
	&tcpaccept_command, &tcpreset_command, &tcplife_command,  &capable_command,
	&scans_command,	    &exfil_command,    &beacons_command,  &bruteforce_command,
	&logins_command,    &caps_command,     &proc_command,	  &html_command,
	&redact_command,    &export_command,
};

static void print_usage(void)
{
	fputs("usage: report COMMAND [OPTIONS] FILE...\n"
	      "\n"
	      "Replay Casefile captures made by `record`, on any machine, as any user.\n"
	      "Several files (a fleet, or one host's consecutive captures) are merged in\n"
	      "time order, with a HOST column when more than one host appears.\n"
	      "\n"
	      "commands:\n",
	      stdout);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		printf("  %-12s %s\n", commands[i]->spec.name, commands[i]->summary);
	fputs("\n"
	      "Every command takes --local, and all but html, redact and export --format\n"
	      "table|json|csv (export: ocsf|ecs|timesketch); all but info and redact --since,\n"
	      "--until, --comm, --cgroup, --mntns and --ppid; the event commands (timeline\n"
	      "and the BCC tools') also --follow and -l, and those whose events have two\n"
	      "ends (and export) --addr.  `report COMMAND --help` has the details.\n"
	      "\n"
	      "examples:\n"
	      "    report summary case42.db             # start here\n"
	      "    report info case42.db\n"
	      "    report tcpconnect -t case42.db\n"
	      "    report tcpaccept --since 01:18 --until 01:20 case42.db\n"
	      "    report capable -v --comm sshd --format csv case42.db\n"
	      "    report tcpreset -r web-1.db web-2.db\n"
	      "    report timeline --since 01:55 --addr 10.200.0.66 case42.db\n"
	      "    report tcpconnect -d -l case42.db    # names looked up, who connected\n"
	      "    report proc 7478 case42.db           # one process's whole story\n"
	      "    report logins case42.db              # who connected to sshd, who got in\n"
	      "    report scans web-1.db web-2.db web-3.db\n"
	      "    report html -o case42.html case42.db  # one page for a ticket\n"
	      "    report redact --key-file fleet.key case42.db shared.db  # safe to share\n"
	      "    report export --format ocsf *.db > fleet.ocsf.jsonl\n",
	      stdout);
}

/*
 * The program again, its heaps in transparent huge pages (glibc's
 * glibc.malloc.hugetlb=1 madvises them): the threads of summary, html and
 * timeline otherwise fault in some 40,000 pages of 4 KiB over 10M events,
 * about 8 us each on a paravirtual VM.  glibc reads its tunables only as a
 * program starts, hence the exec.  Not where the tunable is given already
 * (=0 keeps the pages small), where glibc would ignore it (a secure exec),
 * or under valgrind (its malloc is its own, and it would not follow the
 * exec; its preloaded library tells it); where the exec fails, the command
 * runs as it is.  A program that calls main() itself (the fuzzer) gives
 * the tunable first.
 */
static void start_again_with_huge_pages(char **argv)
{
	const char *given = getenv("GLIBC_TUNABLES"), *preload = getenv("LD_PRELOAD");
	char *old = given ? xstrdup(given) : NULL, *tunables;

	if (getauxval(AT_SECURE) || (preload && strstr(preload, "/vgpreload_")) ||
	    (old && strstr(old, "glibc.malloc.hugetlb="))) {
		free(old);
		return;
	}
	tunables = xmalloc((old ? strlen(old) + 1 : 0) + sizeof("glibc.malloc.hugetlb=1"));
	sprintf(tunables, "%s%sglibc.malloc.hugetlb=1", old ? old : "", old && *old ? ":" : "");
	if (!setenv("GLIBC_TUNABLES", tunables, 1)) {
		execv((const char *)getauxval(AT_EXECFN), argv);
		if (old)
			setenv("GLIBC_TUNABLES", old, 1);
		else
			unsetenv("GLIBC_TUNABLES");
	}
	free(tunables);
	free(old);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "report: no command given (see report --help)\n");
		return 2;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		print_usage();
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[1], commands[i]->spec.name)) {
			if (commands[i]->huge_pages)
				start_again_with_huge_pages(argv);
			return run_command(commands[i], argc - 1, argv + 1);
		}
	fprintf(stderr, "report: unknown command '%s' (see report --help)\n", argv[1]);
	return 2;
}
