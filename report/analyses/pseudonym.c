/*
 * Keyed pseudonyms (pseudonym.h).  Every MAC is of a domain word and the
 * data, so that a host and a directory of the same name get unrelated
 * pseudonyms.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pseudonym.h"

/* The text being built, cut (never overrun) at size. */
struct text {
	char *s;
	size_t len, size;
};

static void put(struct text *t, const char *s, size_t len)
{
	size_t room = t->size - 1 - t->len;

	len = len < room ? len : room;
	memcpy(t->s + t->len, s, len);
	t->len += len;
	t->s[t->len] = '\0';
}

static void puts_text(struct text *t, const char *s)
{
	put(t, s, strlen(s));
}

/* PREFIX and the first `digits` hex digits of the MAC of (domain, data). */
static void keyed(struct text *t, const struct hmac_key *key, const char *domain,
		  const char *prefix, const char *data, size_t len, int digits)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t mac[HMAC_SIZE];
	char word[2 * HMAC_SIZE + 1];

	hmac_sha256_2(key, domain, strlen(domain) + 1, data, len, mac);
	for (int i = 0; i < digits; i++)
		word[i] = hex[mac[i / 2] >> (i % 2 ? 0 : 4) & 15];
	word[digits] = '\0';
	puts_text(t, prefix);
	puts_text(t, word);
}

/* --- Addresses ------------------------------------------------------------------ */

struct address_class {
	uint8_t prefix[16];
	int bits;
	enum { PSEUDONYMISE, KEEP, MAPPED_IPV4 } how;
};

static const struct address_class ipv4_classes[] = {
	{{0, 0, 0, 0}, 32, KEEP},	    /* unspecified */
	{{255, 255, 255, 255}, 32, KEEP},   /* broadcast */
	{{127}, 8, KEEP},		    /* loopback */
	{{0}, 8, PSEUDONYMISE},		    /* this network */
	{{10}, 8, PSEUDONYMISE},	    /* private */
	{{100, 64}, 10, PSEUDONYMISE},	    /* shared (carrier-grade NAT) */
	{{169, 254}, 16, PSEUDONYMISE},	    /* link-local */
	{{172, 16}, 12, PSEUDONYMISE},	    /* private */
	{{192, 0, 0}, 24, PSEUDONYMISE},    /* IETF protocol assignments */
	{{192, 0, 2}, 24, PSEUDONYMISE},    /* documentation */
	{{192, 168}, 16, PSEUDONYMISE},	    /* private */
	{{198, 18}, 15, PSEUDONYMISE},	    /* benchmarking */
	{{198, 51, 100}, 24, PSEUDONYMISE}, /* documentation */
	{{203, 0, 113}, 24, PSEUDONYMISE},  /* documentation */
	{{224}, 4, PSEUDONYMISE},	    /* multicast */
	{{240}, 4, PSEUDONYMISE},	    /* reserved */
};

static const struct address_class ipv6_classes[] = {
	{{0}, 128, KEEP},					       /* unspecified */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, KEEP}, /* loopback */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96, MAPPED_IPV4}, /* IPv4-mapped */
	{{0, 0x64, 0xff, 0x9b}, 96, PSEUDONYMISE},		       /* NAT64 */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, PSEUDONYMISE},		       /* documentation */
	{{0xfe, 0x80}, 10, PSEUDONYMISE},			       /* link-local */
	{{0xfd}, 8, PSEUDONYMISE},				       /* unique local */
	{{0xfc}, 8, PSEUDONYMISE}, /* unique local, unassigned half */
	{{0xff}, 8, PSEUDONYMISE}, /* multicast */
};

static bool bit(const uint8_t *a, int i)
{
	return a[i / 8] >> (7 - i % 8) & 1;
}

static bool in_class(const uint8_t *a, const struct address_class *c)
{
	for (int i = 0; i < c->bits; i++)
		if (bit(a, i) != bit(c->prefix, i))
			return false;
	return true;
}

static const struct address_class *class_of(const uint8_t *a, int bytes)
{
	const struct address_class *list = bytes == 4 ? ipv4_classes : ipv6_classes;
	size_t n = bytes == 4 ? sizeof(ipv4_classes) / sizeof(*ipv4_classes)
			      : sizeof(ipv6_classes) / sizeof(*ipv6_classes);

	for (size_t i = 0; i < n; i++)
		if (in_class(a, &list[i]))
			return &list[i];
	return NULL; /* global */
}

/*
 * Bits from `from` on, each flipped by a keyed function of the original
 * bits before it (Crypto-PAn's construction): a permutation that keeps
 * every shared prefix.
 */
static void permute(const struct hmac_key *key, const uint8_t *in, uint8_t *out, int bytes,
		    int from)
{
	memcpy(out, in, (size_t)bytes);
	for (int i = from; i < 8 * bytes; i++) {
		uint8_t prefix[18] = {(uint8_t)bytes, (uint8_t)i}, mac[HMAC_SIZE];

		for (int j = 0; j < i; j++)
			if (bit(in, j))
				prefix[2 + j / 8] |= (uint8_t)(0x80 >> (j % 8));
		hmac_sha256_2(key, "address", 8, prefix, sizeof(prefix), mac);
		if (mac[0] & 1)
			out[i / 8] ^= (uint8_t)(0x80 >> (i % 8));
	}
}

static void pseudonymise(const struct hmac_key *key, uint8_t *a, int bytes)
{
	const struct address_class *c = class_of(a, bytes);
	uint8_t out[16];

	if (c && c->how == KEEP)
		return;
	if (c && c->how == MAPPED_IPV4) {
		pseudonymise(key, a + 12, 4);
		return;
	}
	if (c) {
		permute(key, a, out, bytes, c->bits);
	} else {
		/* Global: the whole address, walked until it lands on a global one again. */
		permute(key, a, out, bytes, 0);
		while (class_of(out, bytes)) {
			uint8_t again[16];

			permute(key, out, again, bytes, 0);
			memcpy(out, again, (size_t)bytes);
		}
	}
	memcpy(a, out, (size_t)bytes);
}

bool pseudonym_address(const struct hmac_key *key, const char *text, char *out, size_t size)
{
	uint8_t a[16];
	int family = inet_pton(AF_INET, text, a) == 1	 ? AF_INET
		     : inet_pton(AF_INET6, text, a) == 1 ? AF_INET6
							 : 0;

	if (!family)
		return false;
	pseudonymise(key, a, family == AF_INET ? 4 : 16);
	return inet_ntop(family, a, out, (socklen_t)size) != NULL;
}

/* --- Names ------------------------------------------------------------------------ */

void pseudonym_host(const struct hmac_key *key, const char *name, size_t len, char *out,
		    size_t size)
{
	struct text t = {out, 0, size};

	out[0] = '\0';
	keyed(&t, key, "host", "host-", name, len, 10);
}

void pseudonym_user(const struct hmac_key *key, const char *name, size_t len, char *out,
		    size_t size)
{
	struct text t = {out, 0, size};

	out[0] = '\0';
	keyed(&t, key, "user", "user-", name, len, 10);
}

void pseudonym_dns(const struct hmac_key *key, const char *name, size_t len, char *out, size_t size)
{
	struct text t = {out, 0, size};
	const char *end = name + len, *last = memrchr(name, '.', len);

	out[0] = '\0';
	if (!last || last + 1 == end) /* one label, or a trailing dot: all of it keyed */
		last = end;
	for (const char *label = name; label < last;) {
		const char *dot = memchr(label, '.', (size_t)(last - label));
		size_t n = dot ? (size_t)(dot - label) : (size_t)(last - label);

		keyed(&t, key, "dns", "l", label, n, 8);
		label += n;
		if (label < last || last < end) {
			put(&t, ".", 1);
			label++;
		}
	}
	if (last < end)
		put(&t, last + 1, (size_t)(end - last - 1));
}

void pseudonym_path(const struct hmac_key *key, const char *path, size_t len, bool keep_name,
		    char *out, size_t size)
{
	struct text t = {out, 0, size};
	const char *end = path + len, *c;

	out[0] = '\0';
	if (len <= 6 || memcmp(path, "/home/", 6)) {
		put(&t, path, len);
		return;
	}
	put(&t, "/home", 5);
	for (c = path + 6; c <= end; c++) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t n = slash ? (size_t)(slash - c) : (size_t)(end - c);

		put(&t, "/", 1);
		if (c == path + 6)
			keyed(&t, key, "user", "user-", c, n, 10);
		else if (slash && n)
			keyed(&t, key, "dir", "dir-", c, n, 10);
		else if (n && keep_name)
			put(&t, c, n);
		else if (n)
			keyed(&t, key, "file", "file-", c, n, 10);
		c += n;
	}
}

void pseudonym_cgroup(const struct hmac_key *key, const char *path, size_t len, char *out,
		      size_t size)
{
	struct text t = {out, 0, size};
	const char *end = path + len;

	out[0] = '\0';
	for (const char *c = path; c < end;) {
		const char *slash = memchr(c, '/', (size_t)(end - c));
		size_t n = slash ? (size_t)(slash - c) : (size_t)(end - c);

		if (n)
			keyed(&t, key, "cgroup", "cgroup-", c, n, 10);
		if (slash)
			put(&t, "/", 1);
		c += n + (slash != NULL);
	}
}

/* Whether words are options alone ("-i", "-la", "--norc"): they name nothing. */
static bool options_only(const char *words, size_t len)
{
	const char *end = words + len;

	while (words < end) {
		const char *space = memchr(words, ' ', (size_t)(end - words)), *p = words;
		const char *word_end = space ? space : end;

		if (*p++ != '-')
			return false;
		if (p < word_end && *p == '-')
			p++;
		if (p == word_end)
			return false; /* "-" or "--": what follows is an operand */
		for (; p < word_end; p++)
			if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && *p != '-')
				return false;
		words = word_end + 1;
	}
	return true;
}

void pseudonym_args(const struct hmac_key *key, const char *args, size_t len, char *out,
		    size_t size)
{
	struct text t = {out, 0, size};
	const char *space = memchr(args, ' ', len);
	size_t program = space ? (size_t)(space - args) : len;
	char path[PSEUDONYM_MAX(512)];

	out[0] = '\0';
	if (len && (args[0] == '\'' || args[0] == '"')) { /* a quoted program: all keyed */
		keyed(&t, key, "args", "[args ", args, len, 12);
		put(&t, "]", 1);
		return;
	}
	pseudonym_path(key, args, program < 512 ? program : 512, true, path, sizeof(path));
	puts_text(&t, path);
	if (space && space + 1 < args + len &&
	    options_only(space + 1, (size_t)(args + len - space - 1))) {
		put(&t, space, (size_t)(args + len - space));
	} else if (space && space + 1 < args + len) {
		keyed(&t, key, "args", " [args ", space + 1, (size_t)(args + len - space - 1), 12);
		put(&t, "]", 1);
	}
}

void pseudonym_text(const struct hmac_key *key, const char *text, size_t len, const char *host,
		    char *out, size_t size)
{
	struct text t = {out, 0, size};
	size_t host_len = host ? strlen(host) : 0;
	char host_pseudonym[32];

	out[0] = '\0';
	if (host_len)
		pseudonym_host(key, host, host_len, host_pseudonym, sizeof(host_pseudonym));
	for (size_t i = 0; i < len;) {
		const char *word_end = memchr(text + i, ' ', len - i);
		size_t word = word_end ? (size_t)(word_end - text - i) : len - i;
		const char *home = memmem(text + i, word, "/home/", 6);

		if (home) {
			char path[PSEUDONYM_MAX(1024)];
			size_t before = (size_t)(home - text - i), n = word - before;

			put(&t, text + i, before);
			n = n < 1024 ? n : 1024;
			pseudonym_path(key, home, n, false, path, sizeof(path));
			puts_text(&t, path);
			i += word;
		} else if (host_len && word >= host_len && memmem(text + i, word, host, host_len)) {
			const char *at = memmem(text + i, word, host, host_len);

			put(&t, text + i, (size_t)(at - text - i));
			puts_text(&t, host_pseudonym);
			i = (size_t)(at - text) + host_len;
			continue;
		} else {
			put(&t, text + i, word);
			i += word;
		}
		if (i < len) {
			put(&t, " ", 1);
			i++;
		}
	}
}

void pseudonym_uuid(const struct hmac_key *key, const char *id, size_t len, char *out, size_t size)
{
	char hex[40];
	struct text t = {hex, 0, sizeof(hex)};

	hex[0] = '\0';
	keyed(&t, key, "boot", "", id, len, 32);
	snprintf(out, size, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		 hex + 20);
}
