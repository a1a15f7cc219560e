/*
 * SHA-256 (FIPS 180-4), for the hashes of captures a responder writes in
 * the ticket: record prints each finished file's, report info a capture's.
 */
#ifndef CASEFILE_COMMON_SHA256_H
#define CASEFILE_COMMON_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BYTES 32
#define SHA256_HEX   (2 * SHA256_BYTES + 1) /* a digest in hexadecimal, with its NUL */

struct sha256 {
	uint32_t state[8];
	uint64_t bytes;
	uint8_t block[64];
};

void sha256_init(struct sha256 *h);
void sha256_update(struct sha256 *h, const void *data, size_t len);
void sha256_final(struct sha256 *h, uint8_t digest[SHA256_BYTES]);
/* The digest in lowercase hexadecimal, as sha256sum prints it. */
void sha256_final_hex(struct sha256 *h, char hex[SHA256_HEX]);

/*
 * The SHA-256 of a regular file, read read-only (no FIFO or device: those
 * would block or never end): 0, or -1 with errno set.
 */
int sha256_file(const char *path, char hex[SHA256_HEX]);

#endif
