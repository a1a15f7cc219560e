/* report capable: capability checks from captures, as BCC's capable shows them live. */
#include <string.h>

#include "command.h"
#include "events.h"
#include "folded.h"
#include "lineage.h"
#include "stacks.h"
#include "tally.h"

enum {
	CAPABLE_CAP = EVENT_FIELDS,
	CAPABLE_NAME,
	CAPABLE_AUDIT,
	CAPABLE_VERDICT,
	CAPABLE_USERNS,
	CAPABLE_LINEAGE,				   /* LINEAGE_FIELDS of them */
	CAPABLE_STACKS = CAPABLE_LINEAGE + LINEAGE_FIELDS, /* STACK_KINDS of them */
	CAPABLE_FIELDS = CAPABLE_STACKS + STACK_KINDS
};

/* The query's columns, as event.col numbers them. */
enum { COL_TASK, COL_CAP, COL_RET, COL_USERNS, COL_AUDIT };

static struct {
	bool verbose, unique, extra, lineage;
	struct field fields[CAPABLE_FIELDS];
	struct tally *seen; /* --unique: (capture, pid, cap, stacks shown) already shown */
	struct stack_choice stacks;
	struct folded *folded;
} cp;

static const char usage[] =
	"usage: report capable [-h] [-v] [-p PID] [-u UID] [--unique] [-x] [-K] [-U]\n"
	"                      [--folded] [common options] FILE...\n"
	"\n"
	"Capability checks in the captures, as capable(8) would have shown them live.\n"
	"AUDIT is 1 when the check writes to the audit log, 0 when not, and - when the\n"
	"recorder could not tell (README, How it works).  As in BCC, checks that do not\n"
	"audit are left out unless -v; checks whose AUDIT is - are always shown: they\n"
	"may have audited, and leaving them out could hide what matters.\n"
	"\n"
	"options:\n"
	"  -v, --verbose    include the checks that do not audit (AUDIT 0)\n"
	"  -p, --pid PID    only this process\n"
	"  -u, --uid UID    only this user\n"
	"  --unique         as BCC's: only the first check of each capability by each\n"
	"                   process and, with -K or -U, each distinct stack shown\n"
	"  -x, --extra      include the thread (TID) and whether the check allowed or\n"
	"                   denied (VERDICT)\n" STACK_HELP_KERNEL STACK_HELP_USER STACK_HELP_FOLDED
	"\n"
	"examples:\n"
	"    report capable case42.db              # checks that audit (or may)\n"
	"    report capable -v case42.db           # every check\n"
	"    report capable -x -p 181 case42.db    # PID 181, with TID and VERDICT\n"
	"    report capable --unique -u 1000 case42.db\n"
	"    report capable --comm sshd --format json case42.db\n"
	"    report capable -K -U case42.db        # why: each check's kernel and user stacks\n"
	"    report capable -v --folded case42.db | flamegraph.pl > capable.svg\n";

enum { OPT_UNIQUE = 0x200 };

static const struct option long_options[] = {
	{"verbose", no_argument, NULL, 'v'},
	{"extra", no_argument, NULL, 'x'},
	{"unique", no_argument, NULL, OPT_UNIQUE},
	STACK_LONG_OPTIONS,
	{NULL, 0, NULL, 0},
};

static int own_option(int option, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	if (option == 'v')
		cp.verbose = true;
	else if (option == 'x')
		cp.extra = true;
	else if (option == OPT_UNIQUE)
		cp.unique = true;
	else
		stack_option(option, &cp.stacks);
	return 0;
}

static int check(const struct options *opts)
{
	return stack_check(opts, &cp.stacks, cp.extra ? "-x" : NULL);
}

/*
 * --unique: whether this capture's process has checked this capability
 * before, from the same stacks when they are shown (BCC keys on the stack
 * ids -K and -U take: one line per distinct stack).
 */
static bool seen_before(const struct event *ev, const struct value *pid, int64_t cap)
{
	const bool shown[STACK_KINDS] = {cp.stacks.kernel, cp.stacks.user};
	struct {
		const struct capture *capture;
		int64_t pid, cap;
		int64_t stack[STACK_KINDS]; /* -1: none, or not shown */
	} key;

	memset(&key, 0, sizeof(key));
	key.capture = ev->cap;
	key.pid = pid->null ? -1 : pid->i;
	key.cap = cap;
	for (int kind = 0; kind < STACK_KINDS; kind++)
		key.stack[kind] = shown[kind] && ev->stacks.has[kind] ? ev->stacks.id[kind] : -1;
	return tally_add(cp.seen, &key, sizeof(key), 1) > 1;
}

static int print_check(const struct event *ev, void *ctx)
{
	struct value v[CAPABLE_FIELDS];
	struct task task;
	struct name name;
	int64_t cap = ev->col[COL_CAP];
	const char *verdict = ev->col[COL_RET] == 0 ? "allow" : "deny";

	(void)ctx;
	if (event_values(ev, COL_TASK, &task, v))
		return -1;
	if (cp.unique && seen_before(ev, &v[EVENT_PID], cap))
		return 0;
	if (cp.folded)
		return folded_add(cp.folded, ev, &v[EVENT_COMM]);
	if (capture_cap_name(ev->cap, cap, &name) ||
	    stack_values(ev, &cp.stacks, &v[CAPABLE_STACKS]) ||
	    event_lineage(ev, COL_TASK, &task, cp.lineage, &v[CAPABLE_LINEAGE]))
		return -1;
	v[CAPABLE_CAP] = int_value(cap);
	v[CAPABLE_NAME] = name.found ? text_value(name.text, name.len) : null_value();
	v[CAPABLE_AUDIT] =
		event_null(ev, COL_AUDIT) ? null_value() : int_value(ev->col[COL_AUDIT] != 0);
	v[CAPABLE_VERDICT] = text_value(verdict, strlen(verdict));
	v[CAPABLE_USERNS] = int_value(ev->col[COL_USERNS]);
	output_row(v);
	return 0;
}

static int run(struct captures *set, const struct options *opts)
{
	struct event_query query = {
		.table = "ev_capable",
		.columns = "e.task, e.cap, e.ret, e.userns_level, e.audit",
		/* BCC leaves out checks that do not audit; NULL (unknown) stays in. */
		.condition = cp.verbose ? NULL : "e.audit IS NOT 0",
		.filter = {.task = "e.task"},
		.stacks = cp.stacks.kernel || cp.stacks.user,
		.emit = print_check,
	};
	struct field *f = cp.fields;
	int err;

	event_fields(f, set);
	f[EVENT_CLOCK].shown = true;
	f[EVENT_UID].shown = true;
	f[EVENT_UID].width = 6;
	f[EVENT_TID].shown = cp.extra;
	f[EVENT_COMM].width = 16; /* BCC's capable: %-16s */
	output_column_fit(EVENT_COMM, 16, 0);
	f[CAPABLE_CAP] = (struct field){"CAP", "cap", 4, FIELD_INT, true};
	f[CAPABLE_NAME] = (struct field){"NAME", "name", 20, FIELD_TEXT, true};
	f[CAPABLE_AUDIT] = (struct field){"AUDIT", "audit", 5, FIELD_BOOL, true};
	f[CAPABLE_VERDICT] = (struct field){"VERDICT", "verdict", 7, FIELD_TEXT, cp.extra};
	f[CAPABLE_USERNS] = (struct field){NULL, "userns_level", 0, FIELD_INT, false};
	event_where_fields(f, opts->lineage);
	lineage_fields(&f[CAPABLE_LINEAGE], opts->lineage);
	lineage_fit(CAPABLE_LINEAGE);
	stack_fields(&f[CAPABLE_STACKS], &cp.stacks);
	cp.lineage = opts->lineage;
	if (cp.unique)
		cp.seen = tally_new();
	err = replay_with_stacks(set, &query, 1, opts, &cp.stacks, &cp.folded, f, CAPABLE_FIELDS);
	tally_free(cp.seen);
	return err;
}

static const char *const kinds[] = {"capable", NULL};

const struct command capable_command = {
	.summary = "capability checks (BCC capable), allowed and denied",
	.spec = {.name = "capable",
		 .usage = usage,
		 .short_options = "vp:u:xKU",
		 .long_options = long_options,
		 .accepts = ACCEPT_FILTERS | ACCEPT_FOLLOW | ACCEPT_LINEAGE,
		 .own_option = own_option},
	.kinds = kinds,
	.check = check,
	.run = run,
	.state = &cp,
	.state_size = sizeof(cp),
};
