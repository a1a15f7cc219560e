/*
 * DNS responses: the A and AAAA answers, each named by the question it
 * answers (what the program asked for, as tcpconnect -d shows).  The message
 * comes from the network: every length and pointer in it is checked.
 */
#ifndef CASEFILE_RECORD_DNS_H
#define CASEFILE_RECORD_DNS_H

#include <stddef.h>
#include <stdint.h>

/* Called per answer; family AF_INET or AF_INET6; non-zero stops. */
typedef int (*dns_answer_fn)(void *ctx, const char *name, int family, const uint8_t *addr,
			     uint32_t ttl);

/* Walk the answers of a response; 0, or what fn returned.  Malformed parts end the walk. */
int dns_each_answer(const uint8_t *message, size_t len, dns_answer_fn fn, void *ctx);

#endif
