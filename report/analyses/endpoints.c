/* The ends of network events, as both views of the timeline filter and print them. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "endpoints.h"
#include "output.h"

/* An address as the capture writes it (inet_ntop), and its IPv4-mapped form. */
int parse_address_filter(const char *command, const char *arg, struct address_filter *addr)
{
	unsigned char bytes[16];
	int family = strchr(arg, ':') ? AF_INET6 : AF_INET;

	if (inet_pton(family, arg, bytes) != 1)
		return option_error(command, "--addr wants an IPv4 or IPv6 address, not '%s'", arg);
	inet_ntop(family, bytes, addr->text, sizeof(addr->text));
	snprintf(addr->mapped, sizeof(addr->mapped), "%s%s", family == AF_INET ? "::ffff:" : "",
		 addr->text);
	addr->given = true;
	return 0;
}

char *endpoint_condition(const struct address_filter *addr, const struct options *opts,
			 const char *addresses[2], const char *ports[2])
{
	char *sql = NULL;
	size_t size;
	FILE *f;

	if (!addr->given && !opts->ports)
		return NULL;
	f = open_memstream(&sql, &size);
	if (!f) {
		fprintf(stderr, "report: out of memory\n");
		exit(70);
	}
	fputs("1", f);
	if (addr->given)
		fprintf(f,
			" AND (%s IN (SELECT id FROM address WHERE addr IN (:addr, :addr_mapped)) "
			"OR %s IN (SELECT id FROM address WHERE addr IN (:addr, :addr_mapped)))",
			addresses[0], addresses[1]);
	if (opts->ports)
		fprintf(f,
			" AND (%s IN (SELECT value FROM json_each(:ports)) OR %s IN "
			"(SELECT value FROM json_each(:ports)))",
			ports[0], ports[1]);
	fclose(f);
	return sql;
}

int bind_address_filter(sqlite3_stmt *stmt, struct capture *cap, void *ctx)
{
	const struct address_filter *addr = ctx;
	int index = sqlite3_bind_parameter_index(stmt, ":addr");
	int rc = SQLITE_OK;

	if (index)
		rc = sqlite3_bind_text(stmt, index, addr->text, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (index = sqlite3_bind_parameter_index(stmt, ":addr_mapped")))
		rc = sqlite3_bind_text(stmt, index, addr->mapped, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		return 0;
	fprintf(stderr, "report: %s: cannot bind --addr: %s\n", cap->name, capture_error(cap));
	return -1;
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
