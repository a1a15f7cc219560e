/*
 * Shells on the network: each exec whose standard input or output was a TCP
 * connection and whose program reads its commands from it (shells.h), and
 * each listener whose accepted connections led to such a shell, found among
 * the processes it forked for them.  Per capture, in SQL over the process
 * table and the accepts, with the processes from the lineage index.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "hashmap.h"
#include "logins.h"
#include "shells.h"
#include "util.h"

/* What a shell ran, in the finding: this many command lines, and processes looked at. */
#define RAN_SHOWN      5
#define RAN_MAX	       1024
#define WALK_PROCESSES 512

static const char *const shells[] = {"sh",  "bash", "dash", "zsh",  "ksh", "mksh",
				     "ash", "fish", "csh",  "tcsh", "yash"};
static const char *const interpreters[] = {"python", "perl", "ruby",  "php",
					   "lua",    "node", "tclsh", "irb"};

/* The image's program name: the executable's last component, else the comm. */
static void program_name(const struct image *im, const char **name, size_t *len)
{
	const char *slash = im->exe ? memrchr(im->exe, '/', im->exe_len) : NULL;

	*name = im->exe ? (slash ? slash + 1 : im->exe) : im->comm;
	*len = im->exe ? im->exe_len - (size_t)(*name - im->exe) : im->comm_len;
}

static bool is_named(const char *name, size_t len, const char *const *list, size_t n, bool prefix)
{
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(list[i]);

		if ((len == l || (prefix && len > l)) && !memcmp(name, list[i], l))
			return true;
	}
	return false;
}

bool reads_commands(const struct image *im)
{
	const char *name, *p, *end;
	size_t len;
	bool shell;

	program_name(im, &name, &len);
	shell = is_named(name, len, shells, ARRAY_SIZE(shells), false);
	/* python3, python3.11, perl5.36: a version after the name */
	if (!shell && !is_named(name, len, interpreters, ARRAY_SIZE(interpreters), true))
		return false;
	if (!im->args)
		return true;
	/* The words after argv[0] (shell-quoted: a quoted word is no option). */
	p = memchr(im->args, ' ', im->args_len);
	end = im->args + im->args_len;
	while (p && p < end) {
		const char *word = p + 1, *next = memchr(word, ' ', (size_t)(end - word));
		size_t wlen = (size_t)((next ? next : end) - word);

		if (!wlen || word[0] != '-')
			return false; /* a script (or a quoted command) */
		if (wlen >= 2 && (memchr(word + 1, 'c', wlen - 1) ||
				  (!shell && memchr(word + 1, 'e', wlen - 1) && word[1] != '-')))
			return false; /* -c COMMAND, perl -e CODE */
		p = next;
	}
	return true;
}

bool shell_off_terminal(const struct image *im)
{
	uint8_t in = im->streams[0];

	return (in == IMAGE_STREAM_TCP || in == IMAGE_STREAM_UNIX || in == IMAGE_STREAM_PIPE ||
		in == IMAGE_STREAM_SOCKET) &&
	       reads_commands(im);
}

bool shell_on_tcp(const struct image *im)
{
	return im->has_tcp &&
	       (im->streams[0] == IMAGE_STREAM_TCP || im->streams[1] == IMAGE_STREAM_TCP) &&
	       reads_commands(im);
}

/* What a process and its descendants ran, after `after` (the shell's own exec). */
struct ran {
	struct capture *cap;
	int64_t execs;
	int shown, seen;
	size_t len;
	char text[RAN_MAX];
};

static void add_ran(struct ran *r, const struct image *im)
{
	size_t room = sizeof(r->text) - r->len - 1, n;

	r->execs++;
	if (r->shown++ >= RAN_SHOWN || !im->args)
		return;
	if (r->len && room > 2) {
		memcpy(r->text + r->len, "; ", 2);
		r->len += 2;
		room -= 2;
	}
	n = im->args_len < room ? im->args_len : room;
	memcpy(r->text + r->len, im->args, n);
	r->len += n;
	r->text[r->len] = '\0';
}

static int walk_ran(struct ran *r, int64_t pid, int64_t start_ns, int64_t after, int depth)
{
	const struct image *im;
	int64_t child_pid, child_start, child_t;
	size_t cursor = 0;
	int found;

	if (depth >= LINEAGE_DEPTH_MAX || ++r->seen > WALK_PROCESSES)
		return 0;
	for (int i = 0; (found = lineage_nth_image(r->cap, pid, start_ns, i, &im)) > 0; i++)
		if (im->t > after && !strcmp(im->how, "exec"))
			add_ran(r, im);
	while (found >= 0 && (found = lineage_children(r->cap, pid, start_ns, INT64_MIN, &cursor,
						       &child_pid, &child_start, &child_t)) > 0)
		if (walk_ran(r, child_pid, child_start, after, depth + 1))
			return -1;
	return found < 0 ? -1 : 0;
}

static char *copy_text(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static char *proc_command(const struct capture *cap, int64_t pid, int64_t start_ns)
{
	char *text = xmalloc(strlen(cap->name) + 64);

	sprintf(text, "report proc %lld@%lld %s", (long long)pid, (long long)start_ns, cap->name);
	return text;
}

static int read_failed(struct capture *cap, const char *what)
{
	fprintf(stderr, "report: %s: cannot read %s: %s\n", cap->name, what, capture_error(cap));
	return -1;
}

/* The shells whose input or output was a TCP connection: one finding per connection. */
static int netshells(struct capture *cap, const struct options *opts, struct peers *peers,
		     struct findings *out)
{
	static const char sql[] = "SELECT pid, start_ns, t FROM process WHERE how = 'exec' AND "
				  "(stdin = 'tcp' OR stdout = 'tcp') AND t BETWEEN ? AND ? "
				  "ORDER BY t, seq";
	struct hashmap seen = {0}; /* the connections (laddr << 32 | lport, raddr << 16 | rport) */
	sqlite3_stmt *stmt;
	int64_t from, to;
	int rc, err = 0;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "process");
	filter_t_range(opts, cap, &from, &to);
	sqlite3_bind_int64(stmt, 1, from);
	sqlite3_bind_int64(stmt, 2, to);
	while (!err && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(stmt, 0), start = sqlite3_column_int64(stmt, 1),
			t = sqlite3_column_int64(stmt, 2);
		const struct image *im;
		struct ran ran = {.cap = cap};
		struct finding *f;
		uint64_t key[2];
		int found = lineage_image(cap, pid, start, t, &im);

		if (found < 0)
			err = -1;
		if (found <= 0 || !shell_on_tcp(im))
			continue;
		key[0] = (uint64_t)im->tcp[0] << 32 | (uint64_t)im->tcp[1];
		key[1] = (uint64_t)im->tcp[2] << 16 | (uint64_t)im->tcp[3];
		if (hashmap_find(&seen, key[0], key[1]))
			continue;
		hashmap_put(&seen, key[0], key[1], NULL);
		f = findings_add(out, peers);
		f->kind = FINDING_NETSHELL;
		f->host = peers_host(peers, cap);
		f->pid = pid;
		f->process = copy_text(im->comm, im->comm_len);
		f->parents = copy_text(im->parents, im->parents_len);
		f->local = peer_of(peers, cap, im->tcp[0]);
		f->ports = im->tcp[1];
		f->remote = peer_of(peers, cap, im->tcp[2]);
		f->rport = im->tcp[3];
		f->first_ns = f->last_ns = cap->base_ns + t + cap->realtime_offset_ns;
		f->events = 1;
		f->evidence = proc_command(cap, pid, start);
		f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
		if (!f->local || !f->remote || walk_ran(&ran, pid, start, t, 0))
			err = -1;
		f->execs = ran.execs;
		f->ran = ran.len ? copy_text(ran.text, ran.len) : NULL;
	}
	if (!err && rc != SQLITE_DONE)
		err = read_failed(cap, "process");
	sqlite3_finalize(stmt);
	hashmap_clear(&seen);
	return err;
}

/* Generations above a shell searched for the process a listener forked. */
#define LISTENER_DEPTH 4

/* The last accept of listener (pid, start_ns) at or before t: 1 and its t, seq, lport, raddr,
 * rport. */
static int last_accept(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t,
		       int64_t accept[5], struct task *listener)
{
	static const char sql[] =
		"SELECT e.t, e.seq, e.lport, e.raddr, e.rport, e.task FROM ev_accept e "
		"JOIN task k ON k.id = e.task WHERE k.pid = ? AND k.start_ns = ? "
		"AND e.t <= ? ORDER BY e.t DESC, e.seq DESC LIMIT 1";
	sqlite3_stmt *stmt;
	int rc, found = 0;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "ev_accept");
	sqlite3_bind_int64(stmt, 1, pid);
	sqlite3_bind_int64(stmt, 2, start_ns);
	sqlite3_bind_int64(stmt, 3, t);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		for (int i = 0; i < 5; i++)
			accept[i] = sqlite3_column_int64(stmt, i);
		found = capture_task(cap, sqlite3_column_int64(stmt, 5), listener) ? -1 : 1;
	} else if (rc != SQLITE_DONE) {
		found = read_failed(cap, "ev_accept");
	}
	sqlite3_finalize(stmt);
	return found;
}

/* The accepts of a listener in the range: how many connections it took. */
static int64_t accepts_of(struct capture *cap, const struct task *listener, int64_t lport,
			  int64_t from, int64_t to)
{
	static const char sql[] =
		"SELECT count(*) FROM ev_accept e JOIN task k ON k.id = e.task "
		"WHERE k.pid = ? AND k.start_ns = ? AND e.lport = ? AND e.t BETWEEN ? AND ?";
	sqlite3_stmt *stmt;
	int64_t n = -1;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "ev_accept");
	sqlite3_bind_int64(stmt, 1, listener->pid);
	sqlite3_bind_int64(stmt, 2, listener->start_ns);
	sqlite3_bind_int64(stmt, 3, lport);
	sqlite3_bind_int64(stmt, 4, from);
	sqlite3_bind_int64(stmt, 5, to);
	if (sqlite3_step(stmt) == SQLITE_ROW)
		n = sqlite3_column_int64(stmt, 0);
	else
		read_failed(cap, "ev_accept");
	sqlite3_finalize(stmt);
	return n;
}

int listener_of(struct capture *cap, const struct thresholds *t, const struct image *shell,
		struct task *listener, int64_t accept[5])
{
	int64_t pid = shell->pid, start_ns = shell->start_ns;

	for (int depth = 0; depth < LISTENER_DEPTH; depth++) {
		const struct image *im;
		int64_t ppid, pstart, child_pid, child_start, child_t;
		size_t cursor = 0;
		int found = lineage_nth_image(cap, pid, start_ns, 0, &im);

		if (found <= 0 || (found = lineage_parent(cap, im, &ppid, &pstart)) <= 0)
			return found;
		child_t = im->t;
		found = last_accept(cap, ppid, pstart, child_t, accept, listener);
		if (found < 0)
			return -1;
		if (found && !login_daemon(t, listener)) {
			/* The first child the listener forked after that accept: this one? */
			int64_t born = child_t;

			found = lineage_children(cap, ppid, pstart, accept[0], &cursor, &child_pid,
						 &child_start, &born);
			if (found < 0)
				return -1;
			if (found && child_pid == pid && child_start == start_ns)
				return 1;
		}
		pid = ppid;
		start_ns = pstart;
	}
	return 0;
}

/*
 * The listeners whose accepted connections led to a shell reading its
 * commands, not from a terminal, in the process forked for the connection:
 * from the shells (few), not from the accepts (a busy server has millions).
 */
static int bindshells(struct capture *cap, const struct options *opts, const struct thresholds *t,
		      struct peers *peers, struct findings *out)
{
	static const char sql[] =
		"SELECT pid, start_ns, t FROM process WHERE how = 'exec' AND "
		"stdin IN ('tcp', 'unix', 'pipe', 'socket') AND t BETWEEN ? AND ? "
		"ORDER BY t, seq";
	struct hashmap listeners = {0}; /* (pid, start_ns << 16 | lport) -> 1 + index in out */
	struct hashmap served = {0};	/* accepts already counted: (seq, 0) */
	sqlite3_stmt *stmt;
	int64_t from, to;
	int rc, err = 0;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "process");
	filter_t_range(opts, cap, &from, &to);
	sqlite3_bind_int64(stmt, 1, from);
	sqlite3_bind_int64(stmt, 2, to);
	while (!err && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const struct image *shell, *im;
		struct ran ran;
		struct task listener;
		int64_t accept[5];
		struct finding *f;
		uint64_t *slot;
		bool added;
		int found = lineage_image(cap, sqlite3_column_int64(stmt, 0),
					  sqlite3_column_int64(stmt, 1),
					  sqlite3_column_int64(stmt, 2), &shell);

		if (found > 0 && shell_off_terminal(shell)) {
			/* What it ran, read before listener_of's images take the shell's place. */
			ran = (struct ran){.cap = cap};
			add_ran(&ran, shell);
			found = listener_of(cap, t, shell, &listener, accept);
		} else if (found > 0) {
			found = 0;
		}
		if (found <= 0) {
			err = found;
			continue;
		}
		hashmap_put(&served, (uint64_t)accept[1], 0, &added);
		if (!added) /* a shell of a shell of the same connection */
			continue;
		slot = hashmap_put(&listeners, (uint64_t)listener.pid,
				   (uint64_t)listener.start_ns << 16 | (uint64_t)accept[2], NULL);
		if (!*slot) {
			char *parents = NULL;

			if (lineage_image(cap, listener.pid, listener.start_ns, accept[0], &im) > 0)
				parents = copy_text(im->parents, im->parents_len);
			f = findings_add(out, peers);
			*slot = out->count;
			f->kind = FINDING_BINDSHELL;
			f->host = peers_host(peers, cap);
			f->pid = listener.pid;
			f->process = copy_text(listener.comm, listener.comm_len);
			f->parents = parents;
			f->ports = accept[2];
			f->remote = peer_of(peers, cap, accept[3]);
			f->rport = accept[4];
			f->first_ns = cap->base_ns + accept[0] + cap->realtime_offset_ns;
			f->ran = copy_text(ran.text, ran.len);
			f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
			f->evidence = proc_command(cap, listener.pid, listener.start_ns);
			f->accepts = accepts_of(cap, &listener, accept[2], from, to);
			if (!f->remote || f->accepts < 0)
				err = -1;
		}
		f = &out->list[*slot - 1];
		f->events++;
		f->last_ns = cap->base_ns + accept[0] + cap->realtime_offset_ns;
	}
	if (!err && rc != SQLITE_DONE)
		err = read_failed(cap, "process");
	sqlite3_finalize(stmt);
	hashmap_clear(&listeners);
	hashmap_clear(&served);
	return err;
}

int find_shells(struct captures *set, const struct options *opts, struct peers *peers,
		struct findings *out)
{
	struct thresholds t = {0};
	int err = 0;

	thresholds_ready(&t);
	for (int i = 0; i < set->count && !err; i++) {
		struct capture *cap = set->list[i];

		if (!capture_has_column(cap, "process", "stdin"))
			continue;
		err = netshells(cap, opts, peers, out) || bindshells(cap, opts, &t, peers, out);
	}
	thresholds_free(&t);
	return err ? -1 : 0;
}
