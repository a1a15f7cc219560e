/*
 * Addresses and hosts across captures, as the analyses compare them: one
 * number per address in every capture, the IPv4 peer of a dual-stack socket
 * (::ffff:a.b.c.d in accepts and connects, a.b.c.d in the resets the kernel
 * sends it) being one address; one number per host name.
 */
#ifndef CASEFILE_REPORT_PEERS_H
#define CASEFILE_REPORT_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

struct peers;

struct peers *peers_new(const struct captures *set);
void peers_free(struct peers *peers);

/* The index of a capture in the set. */
int peers_index(struct peers *peers, const struct capture *cap);

/* The host of a capture of the set: 0 and up, in the order of the files. */
int peers_host(struct peers *peers, const struct capture *cap);
const char *peers_host_name(const struct peers *peers, int host);

/*
 * The address an address id of a capture names: 1 and up, the same number for
 * the same address in every capture; 0 after one line on stderr (corrupt).
 */
uint32_t peer_of(struct peers *peers, struct capture *cap, int64_t address_id);

/* The same for an id peer_of has seen already; 0 otherwise (and nothing read or added). */
uint32_t peer_seen(struct peers *peers, const struct capture *cap, int64_t address_id);

/* Its text (inet_ntop form, IPv4 unmapped). */
const char *peer_text(const struct peers *peers, uint32_t peer);

/* Its text, with the length and whether it needs no escaping (output.h, text_is_plain). */
struct peer_name {
	const char *text;
	size_t len;
	bool plain;
};

const struct peer_name *peer_name(const struct peers *peers, uint32_t peer);

/* Order of addresses as text, for samples (strcmp). */
int peer_compare(const struct peers *peers, uint32_t a, uint32_t b);

/*
 * The address ids of a capture that name these addresses (in either form),
 * ascending, *n of them, to free; NULL after one line on stderr.
 */
int64_t *peers_ids(struct peers *peers, struct capture *cap, const uint32_t *list, size_t count,
		   size_t *n);

#endif
