/*
 * record: capture the kernel's security events (the kinds of bpf/kinds.def:
 * TCP connects, accepts and resets, capability checks, process lives, DNS
 * answers) into one SQLite file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "heap.h"
#include "options.h"
#include "session.h"
#include "util.h"

/* casefile-HOST-YYYYMMDDTHHMMSSZ.db */
static char *default_output(void)
{
	char host[256] = "host", stamp[32], *name;
	time_t now = time(NULL);
	struct tm utc;

	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, "/")] = '\0';
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", gmtime_r(&now, &utc));
	name = xmalloc(strlen(host) + strlen(stamp) + 16);
	sprintf(name, "casefile-%s-%s.db", host, stamp);
	return name;
}

int main(int argc, char **argv)
{
	struct record_options opts;
	char *path;
	int rc;

	heap_use_huge_pages();
	rc = parse_record_options(argc, argv, &opts);
	if (rc)
		return rc > 0 ? 0 : 2;
	path = opts.output ? xstrdup(opts.output) : default_output();
	rc = record_session(&opts, path) ? 1 : 0;
	free(path);
	free_record_options(&opts);
	return rc;
}
