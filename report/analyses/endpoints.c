/* The ends of network events, as both views of the timeline filter and print them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "output.h"

char *ports_condition(const struct options *opts, const char *ports[2])
{
	char *sql = NULL;
	size_t size;
	FILE *f;

	if (!opts->ports)
		return NULL;
	f = open_memstream(&sql, &size);
	if (!f) {
		fprintf(stderr, "report: out of memory\n");
		exit(70);
	}
	fprintf(f,
		"(%s IN (SELECT value FROM json_each(:ports)) OR %s IN "
		"(SELECT value FROM json_each(:ports)))",
		ports[0], ports[1]);
	fclose(f);
	return sql;
}

size_t put_endpoint(char *out, const char *address, size_t len, long long port)
{
	bool brackets = port >= 0 && memchr(address, ':', len);
	char *p = out;

	if (brackets)
		*p++ = '[';
	memcpy(p, address, len);
	p += len;
	if (brackets)
		*p++ = ']';
	if (port >= 0) {
		*p++ = ':';
		p = int_text(p, port);
	}
	return (size_t)(p - out);
}
