/* Users by name, from the captures' account tables. */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "output.h"

int account_name(struct captures *set, struct peers *peers, int host, int64_t uid,
		 char out[ACCOUNT_NAME_MAX + 1])
{
	static const char sql[] =
		"SELECT name FROM account WHERE kind = 'user' AND id = ? ORDER BY rowid LIMIT 1";

	for (int i = 0; i < set->count; i++) {
		struct capture *cap = set->list[i];
		sqlite3_stmt *stmt;
		int rc, len;

		if (peers_host(peers, cap) != host || !capture_has_column(cap, "account", NULL))
			continue;
		if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
			fprintf(stderr, "report: %s: cannot read account: %s\n", cap->name,
				capture_error(cap));
			return -1;
		}
		sqlite3_bind_int64(stmt, 1, uid);
		rc = sqlite3_step(stmt);
		if (rc == SQLITE_ROW) {
			len = sqlite3_column_bytes(stmt, 0);
			len = len < ACCOUNT_NAME_MAX ? len : ACCOUNT_NAME_MAX;
			memcpy(out, sqlite3_column_blob(stmt, 0), (size_t)len);
			out[len] = '\0';
		}
		sqlite3_finalize(stmt);
		if (rc == SQLITE_ROW)
			return 1;
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "report: %s: cannot read account: %s\n", cap->name,
				capture_error(cap));
			return -1;
		}
	}
	return 0;
}

void user_label(struct captures *set, struct peers *peers, int host, int64_t uid, char *out,
		size_t size)
{
	char name[ACCOUNT_NAME_MAX + 1], safe[4 * ACCOUNT_NAME_MAX + 1];

	/* A capture that cannot be read here was read whole before: no name is then no harm. */
	if (account_name(set, peers, host, uid, name) > 0) {
		safe[render_text(name, strlen(name), safe)] = '\0';
		snprintf(out, size, "%s (uid %lld)", safe, (long long)uid);
	} else {
		snprintf(out, size, "uid %lld", (long long)uid);
	}
}

void user_values(struct captures *set, struct peers *peers, int host, int64_t uid,
		 struct value *user, struct value *shown, char name[ACCOUNT_NAME_MAX + 1],
		 char digits[24])
{
	*user = *shown = null_value();
	if (uid < 0)
		return;
	if (account_name(set, peers, host, uid, name) > 0)
		*user = *shown = text_value(name, strlen(name));
	else
		*shown = text_value(digits, (size_t)(int_text(digits, uid) - digits));
}
