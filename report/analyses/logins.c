/*
 * Login sessions: the rule of logins.h, over the capture's process lives
 * (lineage.h): the session's processes walked from the accept, depth first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineage.h"
#include "logins.h"
#include "util.h"

/* Processes of a session looked at, at most: a long interactive session runs many. */
#define SESSION_PROCESSES_MAX 512

/* Programs a daemon runs for itself before authentication: never a login. */
static const char *const helpers[] = {"unix_chkpwd"};

struct walk {
	struct capture *cap;
	const struct thresholds *t;
	int64_t daemon_uid;
	char *daemon_exe; /* the listener's executable; NULL: unknown */
	size_t daemon_exe_len;
	int seen;
	struct login *out;
};

const char *login_outcome_name(enum login_outcome outcome)
{
	return outcome == LOGIN_SUCCEEDED ? "succeeded"
	       : outcome == LOGIN_FAILED  ? "failed"
					  : "unknown";
}

bool login_daemon(const struct thresholds *t, const struct task *listener)
{
	return is_login_daemon(t, listener->comm, listener->comm_len);
}

/* Whether the capture recorded process lives (execs, forks, exits). */
static bool has_process_lives(const struct capture *cap)
{
	for (int k = 0; k < cap->nkinds; k++)
		if (cap->kinds[k].enabled && !strcmp(cap->kinds[k].name, "exec"))
			return true;
	return false;
}

/* Whether an image is the daemon's own program, or a helper of its authentication. */
static bool daemon_program(const struct walk *w, const struct image *im)
{
	const char *slash = im->exe ? memrchr(im->exe, '/', im->exe_len) : NULL;
	const char *base = slash ? slash + 1 : im->exe;
	size_t base_len = im->exe ? im->exe_len - (size_t)(base - im->exe) : 0;

	if (w->daemon_exe && im->exe && im->exe_len == w->daemon_exe_len &&
	    !memcmp(im->exe, w->daemon_exe, im->exe_len))
		return true;
	if (is_login_daemon(w->t, im->comm, im->comm_len) ||
	    (base && is_login_daemon(w->t, base, base_len)))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++)
		if (base && base_len == strlen(helpers[i]) && !memcmp(base, helpers[i], base_len))
			return true;
	return false;
}

/* The capture saw the session let someone in at t, as uid. */
static void proof(struct walk *w, int64_t t, int64_t uid)
{
	struct login *out = w->out;

	if (t >= out->proof_t)
		return;
	out->outcome = LOGIN_SUCCEEDED;
	out->proof_t = t;
	out->uid = uid;
}

/*
 * One process of the session and, depth first, its children.  `trusted`: the
 * session process and its pre-auth child, whose uids prove nothing.
 */
static int walk(struct walk *w, int64_t pid, int64_t start_ns, bool trusted, int depth)
{
	const struct image *im;
	int64_t child_pid, child_start, child_t, exit_t, exit_uid;
	size_t cursor = 0;
	int found, n = 0;

	if (depth >= LINEAGE_DEPTH_MAX || ++w->seen > SESSION_PROCESSES_MAX)
		return 0;
	for (int i = 0; (found = lineage_nth_image(w->cap, pid, start_ns, i, &im)) > 0; i++) {
		if (!trusted && im->uid != w->daemon_uid)
			proof(w, im->t, im->uid);
		if (strcmp(im->how, "exec") || daemon_program(w, im))
			continue;
		proof(w, im->t, im->uid);
		if (w->out->execs++ == 0) {
			w->out->ran_pid = pid;
			w->out->ran_start_ns = start_ns;
			w->out->ran_len =
				im->args_len < LOGIN_RAN_MAX ? im->args_len : LOGIN_RAN_MAX;
			if (im->args)
				memcpy(w->out->ran, im->args, w->out->ran_len);
		}
	}
	if (found < 0)
		return -1;
	found = lineage_exit(w->cap, pid, start_ns, &exit_t, &exit_uid);
	if (found < 0)
		return -1;
	if (found && !trusted && exit_uid != w->daemon_uid)
		proof(w, exit_t, exit_uid);
	while ((found = lineage_children(w->cap, pid, start_ns, INT64_MIN, &cursor, &child_pid,
					 &child_start, &child_t)) > 0) {
		/* The session process's first child is its pre-auth child (logins.h, 2). */
		bool preauth = depth == 0 && n++ == 0;

		if (walk(w, child_pid, child_start, preauth, depth + 1))
			return -1;
	}
	return found < 0 ? -1 : 0;
}

int login_session(struct capture *cap, const struct thresholds *t, const struct task *listener,
		  int64_t accept_t, struct login *out)
{
	struct walk w = {.cap = cap, .t = t, .daemon_uid = listener->uid, .out = out};
	const struct image *im;
	int64_t exit_uid, child_t;
	size_t cursor = 0;
	int found;

	*out = (struct login){
		.outcome = LOGIN_UNKNOWN, .uid = -1, .proof_t = INT64_MAX, .end_t = INT64_MAX};
	if (!has_process_lives(cap)) {
		out->why = "no process lives in the capture";
		return 0;
	}
	found = lineage_children(cap, listener->pid, listener->start_ns, accept_t, &cursor,
				 &out->pid, &out->start_ns, &child_t);
	if (found <= 0) {
		out->pid = 0;
		out->why = "no session process in the capture";
		return found;
	}
	found = lineage_image(cap, listener->pid, listener->start_ns, accept_t, &im);
	if (found < 0)
		return -1;
	if (found && im->exe) {
		w.daemon_exe = xmalloc(im->exe_len + 1);
		memcpy(w.daemon_exe, im->exe, im->exe_len);
		w.daemon_exe_len = im->exe_len;
	}
	found = walk(&w, out->pid, out->start_ns, true, 0);
	free(w.daemon_exe);
	if (found || lineage_exit(cap, out->pid, out->start_ns, &out->end_t, &exit_uid) < 0)
		return -1;
	if (out->outcome == LOGIN_SUCCEEDED)
		out->why = out->execs ? "a process of the session ran a program"
				      : "a process of the session took the user's uid";
	else if (out->end_t != INT64_MAX) {
		out->outcome = LOGIN_FAILED;
		out->why = "the session ended with no one let in";
	} else {
		out->why = "the capture ended first";
	}
	return 0;
}

int login_of_process(struct capture *cap, const struct thresholds *t, int64_t pid, int64_t start_ns,
		     struct login_accept *accept, struct login *out)
{
	static const char sql[] = "SELECT e.t, e.task, e.raddr, e.rport FROM ev_accept e JOIN task "
				  "k ON k.id = e.task WHERE k.pid = ? AND k.start_ns = ? AND "
				  "e.t <= ? ORDER BY e.t DESC LIMIT 1";
	const struct image *im;
	int64_t ppid, pstart, first_t;
	sqlite3_stmt *stmt;
	int found, rc;

	found = lineage_nth_image(cap, pid, start_ns, 0, &im);
	if (found <= 0)
		return found;
	first_t = im->t;
	found = lineage_parent(cap, im, &ppid, &pstart);
	if (found <= 0)
		return found;
	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK) {
		fprintf(stderr, "report: %s: cannot read ev_accept: %s\n", cap->name,
			capture_error(cap));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, ppid);
	sqlite3_bind_int64(stmt, 2, pstart);
	sqlite3_bind_int64(stmt, 3, first_t);
	rc = sqlite3_step(stmt);
	found = 0;
	if (rc == SQLITE_ROW) {
		accept->t = sqlite3_column_int64(stmt, 0);
		accept->rport = sqlite3_column_int64(stmt, 3);
		found = capture_task(cap, sqlite3_column_int64(stmt, 1), &accept->listener) ||
					capture_address(cap, sqlite3_column_int64(stmt, 2),
							&accept->remote)
				? -1
				: 1;
	} else if (rc != SQLITE_DONE) {
		fprintf(stderr, "report: %s: cannot read ev_accept: %s\n", cap->name,
			capture_error(cap));
		found = -1;
	}
	sqlite3_finalize(stmt);
	if (found <= 0 || !login_daemon(t, &accept->listener))
		return found < 0 ? -1 : 0;
	if (login_session(cap, t, &accept->listener, accept->t, out))
		return -1;
	return out->pid == pid && out->start_ns == start_ns;
}
