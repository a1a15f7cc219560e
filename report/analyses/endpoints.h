/*
 * The ends of network events, as both views of `report timeline` filter and
 * print them: the filters on addresses and ports every network event can
 * match, and text for one end of a connection.
 */
#ifndef CASEFILE_REPORT_ENDPOINTS_H
#define CASEFILE_REPORT_ENDPOINTS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "capture.h"
#include "options.h"

/* The address --addr selects, in both of its forms (a.b.c.d and ::ffff:a.b.c.d). */
struct address_filter {
	bool given;
	char text[INET6_ADDRSTRLEN], mapped[INET6_ADDRSTRLEN + 8];
};

/* --addr's argument, for that command: 0, or -1 after one line. */
int parse_address_filter(const char *command, const char *arg, struct address_filter *addr);

/*
 * The condition an event with these address and port columns meets under
 * --addr and -P, to free; NULL when neither was given.
 */
char *endpoint_condition(const struct address_filter *addr, const struct options *opts,
			 const char *addresses[2], const char *ports[2]);

/* Bind --addr in a statement using that condition (ctx: the address_filter). */
int bind_address_filter(sqlite3_stmt *stmt, struct capture *cap, void *ctx);

/* "10.0.0.1:22", "[fd00::1]:22", or without the port when port < 0: the length written. */
size_t put_endpoint(char *out, const char *address, size_t len, long long port);

#endif
