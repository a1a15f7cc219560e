/*
 * HMAC-SHA256 (RFC 2104), for keyed pseudonyms: with the key prepared once,
 * each MAC of a short message costs two compressions.
 */
#ifndef CASEFILE_COMMON_HMAC_H
#define CASEFILE_COMMON_HMAC_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define HMAC_SIZE SHA256_BYTES

/* A key prepared: the hash states after its inner and outer pads. */
struct hmac_key {
	struct sha256 inner, outer;
};

void hmac_key_init(struct hmac_key *key, const void *secret, size_t len);
/* The MAC of two parts, one after the other (a domain word, then the data). */
void hmac_sha256_2(const struct hmac_key *key, const void *a, size_t alen, const void *b,
		   size_t blen, uint8_t mac[HMAC_SIZE]);

#endif
