/*
 * Users by name, from the capture's own snapshot of the recording host's
 * accounts (the account table), never from the machine the report runs on.
 */
#ifndef CASEFILE_REPORT_ACCOUNTS_H
#define CASEFILE_REPORT_ACCOUNTS_H

#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "output.h"
#include "peers.h"

/*
 * The name the host (peers' host number) gave uid, as the first of the
 * captures of that host that names it recorded it (capture_account_name()).
 */
int account_name(struct captures *set, struct peers *peers, int host, int64_t uid,
		 char out[ACCOUNT_NAME_MAX + 1]);

/*
 * "cfvictim (uid 4246)", or "uid 4245" when unnamed (or, after one line on
 * stderr, when the account table cannot be read), rendered for a table.
 */
void user_label(struct captures *set, struct peers *peers, int host, int64_t uid, char *out,
		size_t size);

/*
 * A user as JSON and CSV have it and as a table shows it: *user the name
 * the host gave uid (raw bytes, in name), null when none names it; *shown
 * that name, or the uid's digits (in digits) for a table.  uid < 0 (not
 * known): both null.
 */
void user_values(struct captures *set, struct peers *peers, int host, int64_t uid,
		 struct value *user, struct value *shown, char name[ACCOUNT_NAME_MAX + 1],
		 char digits[24]);

#endif
