/*
 * Keyed pseudonyms for sharing a capture (report redact): each is an
 * HMAC-SHA256 under a key the user keeps, so the same name or address
 * always gets the same pseudonym under one key, across files, and nobody
 * without the key can tell what it stands for (nor test a guess).
 *
 * Addresses keep their class and their prefixes: within its class (private,
 * shared, link-local, documentation, multicast... or global), an address
 * is pseudonymised bit by bit, each bit flipped by a keyed function of the
 * bits before it, as Crypto-PAn does: two addresses sharing a /24 share
 * the pseudonyms' /24.  Loopback, unspecified and broadcast addresses stay
 * as they are (they name no one); an IPv4-mapped IPv6 address maps its
 * IPv4 address as IPv4, so that both forms of one peer stay one.
 */
#ifndef CASEFILE_REPORT_PSEUDONYM_H
#define CASEFILE_REPORT_PSEUDONYM_H

#include <stdbool.h>
#include <stddef.h>

#include "hmac.h"

/* The longest pseudonym of a text of len bytes. */
#define PSEUDONYM_MAX(len) (2 * (len) + 64)

/* An address in inet_ntop form: its pseudonym in out (INET6_ADDRSTRLEN); false if not one. */
bool pseudonym_address(const struct hmac_key *key, const char *text, char *out, size_t size);

/* A host name: "host-" and ten hex digits. */
void pseudonym_host(const struct hmac_key *key, const char *name, size_t len, char *out,
		    size_t size);

/*
 * A user or group name: "user-" and ten hex digits, as the user's directory
 * under /home becomes in a path, so that the two still match.
 */
void pseudonym_user(const struct hmac_key *key, const char *name, size_t len, char *out,
		    size_t size);

/* A DNS name: each label but the last (the top-level domain) keyed: "l3f9a0c21.example". */
void pseudonym_dns(const struct hmac_key *key, const char *name, size_t len, char *out,
		   size_t size);

/*
 * A path: under /home, the user's directory and every directory below it
 * keyed ("/home/user-3f9a0c21d0/dir-..."), the last name too unless
 * keep_name (an executable's: its program name, which comm shows anyway);
 * any other path as it is.
 */
void pseudonym_path(const struct hmac_key *key, const char *path, size_t len, bool keep_name,
		    char *out, size_t size);

/*
 * A cgroup's path: every name keyed ("/cgroup-3f9a0c21d0/cgroup-..."), the
 * slashes kept: names tell containers, services and users apart, and the
 * same cgroup stays one pseudonym.
 */
void pseudonym_cgroup(const struct hmac_key *key, const char *path, size_t len, char *out,
		      size_t size);

/*
 * A command line: the program as a path, and its arguments as one keyed
 * token ("/usr/bin/ssh [args 5c0e...]"): arguments name hosts, users,
 * files and secrets in ways no rule can list.  Options alone ("bash -i",
 * "ls -la") name nothing and stay: whether a shell reads its commands from
 * its input is told from them (report/analyses/shells.c).
 */
void pseudonym_args(const struct hmac_key *key, const char *args, size_t len, char *out,
		    size_t size);

/*
 * Free text (a command line of record's, a stop reason): each word holding
 * a path under /home as a path, each occurrence of host as its pseudonym.
 */
void pseudonym_text(const struct hmac_key *key, const char *text, size_t len, const char *host,
		    char *out, size_t size);

/* A boot id: a keyed UUID. */
void pseudonym_uuid(const struct hmac_key *key, const char *id, size_t len, char *out, size_t size);

#endif
