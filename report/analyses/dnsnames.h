/*
 * The name a connect's address was looked up as (tcpconnect -d): the
 * newest DNS answer for that address on that host at or before the connect,
 * kept as the answers stream by with the events, one per address.
 */
#ifndef CASEFILE_REPORT_DNSNAMES_H
#define CASEFILE_REPORT_DNSNAMES_H

#include <stdbool.h>

#include "capture.h"
#include "output.h"
#include "replay.h"

/* An answer older than this before the connect shows its age, as BCC's tcpconnect -d. */
#define DNS_AGE_SHOWN_NS 100000000LL

/* Longest name an answer may have (DNS allows 253 characters); longer is corrupt. */
#define DNS_NAME_MAX 256

struct dns_names;

struct dns_names *dns_names_new(const struct captures *set);
void dns_names_free(struct dns_names *names);

/*
 * The query of the answers, to replay first among the queries (an answer
 * and a connect at the same time: the answer came first).  Unfiltered: a
 * connect's name may have been asked before --since.
 */
struct event_query dns_names_query(struct dns_names *names);

/*
 * The name asked in the answer ev (a row of the dns table), valid until the
 * next call.  0, or -1 after one line on stderr.
 */
int dns_answer_name(struct dns_names *names, const struct event *ev, const char **name,
		    size_t *len);

/* QUERY in a table; query (the name, "localhost" for loopback) and query_age_ns elsewhere. */
enum { DNS_QUERY_SHOWN, DNS_QUERY, DNS_AGE, DNS_FIELDS };

void dns_fields(struct field fields[DNS_FIELDS], bool shown);

/*
 * The values for a connect of ev to address_id: "evil.example (123.342ms)",
 * "localhost" for a loopback address no answer named, "No DNS Query".
 * Valid until the next call.  0, or -1 after one line on stderr.
 */
int dns_values(struct dns_names *names, const struct event *ev, int64_t address_id,
	       struct value values[DNS_FIELDS]);

#endif
