/* DNS responses: their A and AAAA answers. */
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"

#define HEADER_BYTES  12
#define NAME_MAX_TEXT 256 /* a name's text, dots included (RFC 1035: 255) */
#define MAX_JUMPS     16  /* compression pointers followed per name */
#define TYPE_A	      1
#define TYPE_AAAA     28
#define CLASS_IN      1

struct reader {
	const uint8_t *msg;
	size_t len;
};

static bool get16(const struct reader *r, size_t at, uint16_t *value)
{
	if (at + 2 > r->len)
		return false;
	*value = (uint16_t)(r->msg[at] << 8 | r->msg[at + 1]);
	return true;
}

static bool get32(const struct reader *r, size_t at, uint32_t *value)
{
	uint16_t high, low;

	if (!get16(r, at, &high) || !get16(r, at + 2, &low))
		return false;
	*value = (uint32_t)high << 16 | low;
	return true;
}

/*
 * The name at *at, as text into text (may be NULL to skip it); *at moves past
 * it in the message (past the first pointer, if compressed).
 */
static bool read_name(const struct reader *r, size_t *at, char *text)
{
	size_t pos = *at, used = 0;
	int jumps = 0;
	bool jumped = false;

	for (;;) {
		uint8_t len;

		if (pos >= r->len)
			return false;
		len = r->msg[pos];
		if ((len & 0xc0) == 0xc0) { /* a pointer to an earlier name */
			if (pos + 1 >= r->len || ++jumps > MAX_JUMPS)
				return false;
			if (!jumped)
				*at = pos + 2;
			jumped = true;
			pos = (size_t)(len & 0x3f) << 8 | r->msg[pos + 1];
			continue;
		}
		if (len & 0xc0)
			return false; /* reserved label types */
		if (!len)
			break;
		if (pos + 1 + len > r->len || used + len + 1 >= NAME_MAX_TEXT)
			return false;
		if (text) {
			if (used)
				text[used++] = '.';
			memcpy(text + used, r->msg + pos + 1, len);
			used += len;
		}
		pos += 1 + len;
	}
	if (!jumped)
		*at = pos + 1;
	if (text)
		text[used] = '\0';
	return true;
}

int dns_each_answer(const uint8_t *message, size_t len, dns_answer_fn fn, void *ctx)
{
	struct reader r = {message, len};
	char question[NAME_MAX_TEXT];
	uint16_t flags, questions, answers;
	size_t at = HEADER_BYTES;

	if (!get16(&r, 2, &flags) || !get16(&r, 4, &questions) || !get16(&r, 6, &answers))
		return 0;
	/* A response (QR), without error (RCODE 0), to one question at least. */
	if (!(flags & 0x8000) || (flags & 0x000f) || !questions)
		return 0;
	if (!read_name(&r, &at, question))
		return 0;
	at += 4; /* its type and class */
	for (unsigned q = 1; q < questions; q++) {
		if (!read_name(&r, &at, NULL))
			return 0;
		at += 4;
	}
	for (unsigned a = 0; a < answers; a++) {
		uint16_t type, class, rdlength;
		uint32_t ttl;
		int err;

		if (!read_name(&r, &at, NULL) || !get16(&r, at, &type) ||
		    !get16(&r, at + 2, &class) || !get32(&r, at + 4, &ttl) ||
		    !get16(&r, at + 8, &rdlength) || at + 10 + rdlength > len)
			return 0;
		at += 10;
		if (class == CLASS_IN && type == TYPE_A && rdlength == 4)
			err = fn(ctx, question, AF_INET, message + at, ttl);
		else if (class == CLASS_IN && type == TYPE_AAAA && rdlength == 16)
			err = fn(ctx, question, AF_INET6, message + at, ttl);
		else
			err = 0; /* CNAME and others: the question's name is the one asked */
		if (err)
			return err;
		at += rdlength;
	}
	return 0;
}
