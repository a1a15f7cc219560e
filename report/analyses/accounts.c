/* Users by name, from the captures' account tables. */
#include <stdio.h>
#include <string.h>

#include "accounts.h"
#include "output.h"

int account_name(struct captures *set, struct peers *peers, int host, int64_t uid,
		 char out[ACCOUNT_NAME_MAX + 1])
{
	for (int i = 0; i < set->count; i++) {
		int found = peers_host(peers, set->list[i]) == host
				    ? capture_account_name(set->list[i], uid, out)
				    : 0;

		if (found)
			return found;
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
