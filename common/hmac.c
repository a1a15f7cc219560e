/* HMAC-SHA256 (hmac.h) over common/sha256.c. */
#include <string.h>

#include "hmac.h"

void hmac_key_init(struct hmac_key *key, const void *secret, size_t len)
{
	uint8_t block[64] = {0}, pad[64];
	struct sha256 h;

	if (len > sizeof(block)) {
		sha256_init(&h);
		sha256_update(&h, secret, len);
		sha256_final(&h, block);
	} else {
		memcpy(block, secret, len);
	}
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x36;
	sha256_init(&key->inner);
	sha256_update(&key->inner, pad, 64);
	for (int i = 0; i < 64; i++)
		pad[i] = block[i] ^ 0x5c;
	sha256_init(&key->outer);
	sha256_update(&key->outer, pad, 64);
	memset(block, 0, sizeof(block));
	memset(pad, 0, sizeof(pad));
}

void hmac_sha256_2(const struct hmac_key *key, const void *a, size_t alen, const void *b,
		   size_t blen, uint8_t mac[HMAC_SIZE])
{
	struct sha256 h = key->inner;
	uint8_t inner[HMAC_SIZE];

	sha256_update(&h, a, alen);
	sha256_update(&h, b, blen);
	sha256_final(&h, inner);
	h = key->outer;
	sha256_update(&h, inner, sizeof(inner));
	sha256_final(&h, mac);
}
