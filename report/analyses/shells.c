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

/* One finding per connection: (laddr << 32 | lport, raddr << 16 | rport). */
static bool first_for(struct hashmap *seen, const int64_t tcp[4])
{
	bool added;

	hashmap_put(seen, (uint64_t)tcp[0] << 32 | (uint64_t)tcp[1],
		    (uint64_t)tcp[2] << 16 | (uint64_t)tcp[3], &added);
	return added;
}

/*
 * A shell on the network at t: its connection (laddr, lport, raddr, rport),
 * through whom when it does not hold the connection itself (NULL: it does).
 */
static int add_netshell(struct capture *cap, struct peers *peers, struct findings *out, int64_t pid,
			int64_t start, int64_t t, const int64_t tcp[4], const char *through)
{
	const struct image *im;
	struct ran ran = {.cap = cap};
	struct finding *f;
	int found = lineage_image(cap, pid, start, t, &im);

	if (found <= 0)
		return found;
	f = findings_add(out, peers);
	f->kind = FINDING_NETSHELL;
	f->host = peers_host(peers, cap);
	f->pid = pid;
	f->process = copy_text(im->comm, im->comm_len);
	f->parents = copy_text(im->parents, im->parents_len);
	f->relay = through ? copy_text(through, strlen(through)) : NULL;
	f->local = peer_of(peers, cap, tcp[0]);
	f->ports = tcp[1];
	f->remote = peer_of(peers, cap, tcp[2]);
	f->rport = tcp[3];
	f->first_ns = f->last_ns = cap->base_ns + t + cap->realtime_offset_ns;
	f->events = 1;
	f->evidence = proc_command(cap, pid, start);
	f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
	if (!f->local || !f->remote || walk_ran(&ran, pid, start, t, 0))
		return -1;
	f->execs = ran.execs;
	f->ran = ran.len ? copy_text(ran.text, ran.len) : NULL;
	return 0;
}

/* The shells whose input or output was a TCP connection. */
static int netshells(struct capture *cap, const struct options *opts, struct peers *peers,
		     struct hashmap *seen, struct findings *out)
{
	static const char sql[] = "SELECT pid, start_ns, t FROM process WHERE how = 'exec' AND "
				  "(stdin = 'tcp' OR stdout = 'tcp') AND t BETWEEN ? AND ? "
				  "ORDER BY t, seq";
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
			t = sqlite3_column_int64(stmt, 2), tcp[4];
		const struct image *im;
		int found = lineage_image(cap, pid, start, t, &im);

		if (found < 0)
			err = -1;
		if (found <= 0 || !shell_on_tcp(im))
			continue;
		memcpy(tcp, im->tcp, sizeof(tcp));
		if (first_for(seen, tcp))
			err = add_netshell(cap, peers, out, pid, start, t, tcp, NULL);
	}
	if (!err && rc != SQLITE_DONE)
		err = read_failed(cap, "process");
	sqlite3_finalize(stmt);
	return err;
}

/* Generations above a shell searched for the process that forked it for a connection. */
#define RELAY_DEPTH 4

/*
 * How long before a fork the connection it was forked for may have begun,
 * and how long after a pipe reader's exec its connection: relays (ncat -e,
 * socat EXEC, python's pty.spawn, a listener forking per accept) fork at
 * once.  The bound keeps each look a window of the capture, not all of it.
 */
#define RELAY_WINDOW_NS (60 * NS_PER_S)

/*
 * The connection a process opened or accepted within [from, to] (TCP
 * connects that did not fail): the newest, or the first.  1 and *relay
 * (the connection, when, its task, whether accepted or opened), 0 none, -1
 * after one line.
 */
static int connection_of(struct capture *cap, int64_t pid, int64_t start_ns, int64_t from,
			 int64_t to, bool newest, struct relay *relay)
{
#define CONNECTIONS_OF                                                                             \
	"SELECT e.t, e.seq, e.laddr, e.lport, e.raddr, e.rport, e.task, 1 FROM ev_accept e "       \
	"JOIN task k ON k.id = e.task WHERE k.pid = ?1 AND k.start_ns = ?2 "                       \
	"AND e.t BETWEEN ?3 AND ?4 UNION ALL "                                                     \
	"SELECT e.t, e.seq, e.saddr, ifnull(e.lport, 0), e.daddr, e.dport, e.task, 0 "             \
	"FROM ev_connect e JOIN task k ON k.id = e.task WHERE k.pid = ?1 AND k.start_ns = ?2 "     \
	"AND e.t BETWEEN ?3 AND ?4 AND e.outcome_state IS NOT 7 "
	const char *sql = newest ? CONNECTIONS_OF "ORDER BY 1 DESC, 2 DESC LIMIT 1"
				 : CONNECTIONS_OF "ORDER BY 1, 2 LIMIT 1";
#undef CONNECTIONS_OF
	sqlite3_stmt *stmt;
	int rc, found = 0;

	if (sqlite3_prepare_v2(cap->db, sql, -1, &stmt, NULL) != SQLITE_OK)
		return read_failed(cap, "ev_accept and ev_connect");
	sqlite3_bind_int64(stmt, 1, pid);
	sqlite3_bind_int64(stmt, 2, start_ns);
	sqlite3_bind_int64(stmt, 3, from);
	sqlite3_bind_int64(stmt, 4, to);
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW) {
		relay->t = sqlite3_column_int64(stmt, 0);
		relay->seq = sqlite3_column_int64(stmt, 1);
		for (int i = 0; i < 4; i++)
			relay->tcp[i] = sqlite3_column_int64(stmt, 2 + i);
		relay->how = sqlite3_column_int(stmt, 7) ? RELAY_ACCEPTED : RELAY_OPENED;
		found = capture_task(cap, sqlite3_column_int64(stmt, 6), &relay->by) ? -1 : 1;
	} else if (rc != SQLITE_DONE) {
		found = read_failed(cap, "ev_accept and ev_connect");
	}
	sqlite3_finalize(stmt);
	return found;
}

/*
 * Whether a process lets users in: a login daemon of t, or a program that
 * asks who one is before it starts a shell.  Their connections are lookups
 * (LDAP, Kerberos, RADIUS), not the shell's.
 */
static bool authenticates(const struct thresholds *t, const struct task *task)
{
	static const char *const programs[] = {"login", "su", "sudo", "doas", "runuser"};

	return login_daemon(t, task) ||
	       is_named(task->comm, task->comm_len, programs, ARRAY_SIZE(programs), false);
}

/*
 * Going up from the shell: a process born as the first child its parent
 * forked after that parent opened or accepted a connection (the parent
 * not one that authenticates: report logins follows login daemons).  A
 * terminal behind an accepted connection is a login's, not a bind shell's.
 */
static int forked_for(struct capture *cap, const struct thresholds *t, int64_t pid,
		      int64_t start_ns, bool terminal, struct relay *relay)
{
	for (int depth = 0; depth < RELAY_DEPTH; depth++) {
		const struct image *im;
		int64_t ppid, pstart, child_pid, child_start, child_t;
		size_t cursor = 0;
		int found = lineage_nth_image(cap, pid, start_ns, 0, &im);

		if (found <= 0 || (found = lineage_parent(cap, im, &ppid, &pstart)) <= 0)
			return found;
		child_t = im->t;
		found = connection_of(cap, ppid, pstart, child_t - RELAY_WINDOW_NS, child_t, true,
				      relay);
		if (found < 0)
			return -1;
		if (found && !authenticates(t, &relay->by) &&
		    !(terminal && relay->how == RELAY_ACCEPTED)) {
			/* The first child the parent forked after that connection: this one? */
			int64_t born = child_t;

			found = lineage_children(cap, ppid, pstart, relay->t, &cursor, &child_pid,
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

/* The first connection (pid, start_ns) opened or accepted from t to its exit (connection_of). */
static int life_connection(struct capture *cap, int64_t pid, int64_t start_ns, int64_t t,
			   struct relay *relay)
{
	int64_t exit_t, exit_uid;
	int found = lineage_exit(cap, pid, start_ns, &exit_t, &exit_uid);

	return found < 0 ? found
			 : connection_of(cap, pid, start_ns, t, found ? exit_t : INT64_MAX, false,
					 relay);
}

/*
 * Pipes between a shell and its relay: `sh | base64 | nc` and `nc -l PORT
 * | cat | sh` hide the shell behind a filter.  Each is one pipe inode's
 * readers or writers.
 */
#define PIPELINE_PIPES 3

/*
 * The relay at the other end of a pipeline from the shell (pid's): with
 * fd 0 a reader of pipe (the shell's output) with a connection in its
 * life; with fd 1 a writer into it (the shell's input) whose first
 * connection it accepted (one that opened one is a download, curl URL |
 * sh: not flagged), and that lets no users in.  Within hops pipes, each
 * reader followed to the readers of its stdout, each writer to the
 * writers of its stdin.  1 and *relay, 0, or -1 after one line.
 */
static int pipeline_relay(struct capture *cap, const struct thresholds *t, int64_t pid,
			  int64_t start_ns, int64_t pipe, int fd, int hops, struct relay *relay)
{
	int64_t end, end_start, end_t, next;
	size_t cursor = 0;
	int found;

	while ((found = lineage_pipe_end(cap, pipe, fd, &cursor, &end, &end_start, &end_t)) > 0) {
		const struct image *im;

		if (end == pid && end_start == start_ns)
			continue;
		found = life_connection(cap, end, end_start, end_t, relay);
		if (found > 0 && fd == 1 &&
		    (relay->how != RELAY_ACCEPTED || authenticates(t, &relay->by)))
			found = 0;
		if (!found && hops > 1 &&
		    (found = lineage_image(cap, end, end_start, end_t, &im)) > 0) {
			next = im->pipes[1 - fd]; /* copied: the image goes with the next call */
			found = next && next != pipe ? pipeline_relay(cap, t, end, end_start, next,
								      fd, hops - 1, relay)
						     : 0;
		}
		if (found)
			break;
	}
	return found;
}

/* A process reading the shell's output from a pipeline, with a connection in its life. */
static int piped_to(struct capture *cap, const struct thresholds *t, int64_t pid, int64_t start_ns,
		    const int64_t pipes[3], struct relay *relay)
{
	for (int fd = 1; fd <= 2; fd++) {
		int found;

		if (fd == 2 && pipes[2] == pipes[1]) /* 2>&1 */
			break;
		found = pipes[fd] ? pipeline_relay(cap, t, pid, start_ns, pipes[fd], 0,
						   PIPELINE_PIPES, relay)
				  : 0;
		if (found) {
			if (found > 0)
				relay->how = RELAY_PIPED;
			return found;
		}
	}
	return 0;
}

/*
 * The shell's parent, when it held a connection as the shell started (and
 * is not one that authenticates): 1 and *relay, 0, or -1 after one line.
 */
static int held_by(struct capture *cap, const struct thresholds *t, const struct image *shell,
		   struct relay *relay)
{
	const struct image *parent;
	int64_t ppid, pstart, at = shell->t;
	int found;

	relay->how = RELAY_HELD;
	relay->t = at;
	relay->seq = -1;
	memcpy(relay->tcp, shell->parent_tcp, sizeof(relay->tcp));
	if ((found = lineage_parent(cap, shell, &ppid, &pstart)) <= 0 ||
	    (found = lineage_image(cap, ppid, pstart, at, &parent)) <= 0)
		return found;
	relay->by = (struct task){.pid = ppid, .start_ns = pstart};
	relay->by.comm_len = parent->comm_len < sizeof(relay->by.comm) ? parent->comm_len
								       : sizeof(relay->by.comm);
	memcpy(relay->by.comm, parent->comm, relay->by.comm_len);
	return !authenticates(t, &relay->by);
}

int relay_of(struct capture *cap, const struct thresholds *t, const struct image *shell,
	     struct relay *relay)
{
	/* The shell's own, copied: the image goes with the next lineage call. */
	int64_t pid = shell->pid, start_ns = shell->start_ns, t_exec = shell->t, pipes[3];
	uint8_t in = shell->streams[0];
	bool parent_held = shell->parent_has_tcp;
	int found;

	if (!(in == IMAGE_STREAM_TTY || in == IMAGE_STREAM_TCP || in == IMAGE_STREAM_UNIX ||
	      in == IMAGE_STREAM_PIPE || in == IMAGE_STREAM_SOCKET) ||
	    !reads_commands(shell))
		return 0;
	memcpy(pipes, shell->pipes, sizeof(pipes));
	found = forked_for(cap, t, pid, start_ns, in == IMAGE_STREAM_TTY, relay);
	if (!found && parent_held &&
	    (found = lineage_image(cap, pid, start_ns, t_exec, &shell)) > 0)
		found = held_by(cap, t, shell, relay);
	if (!found)
		found = piped_to(cap, t, pid, start_ns, pipes, relay);
	/* A listener feeding its input (nc -l PORT | sh): its bind shell. */
	if (!found && in == IMAGE_STREAM_PIPE && pipes[0])
		found = pipeline_relay(cap, t, pid, start_ns, pipes[0], 1, PIPELINE_PIPES, relay);
	return found;
}

void relay_text(const struct relay *relay, char *buf, size_t size)
{
	snprintf(buf, size, "%s %.*s/%lld", relay->how == RELAY_PIPED ? "piped through" : "through",
		 (int)relay->by.comm_len, relay->by.comm, (long long)relay->by.pid);
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

/* Listeners starting shells: (pid, start_ns << 16 | lport) -> 1 + index in out. */
struct listeners {
	struct hashmap by_port;
	struct hashmap served; /* accepts already counted: (seq, 0) */
};

/* A shell the listener relay->by started for a connection it accepted. */
static int add_bindshell(struct capture *cap, struct peers *peers, struct findings *out,
			 struct listeners *l, const struct relay *relay, const char *ran,
			 int64_t from, int64_t to)
{
	const struct task *listener = &relay->by;
	struct finding *f;
	uint64_t *slot;
	bool added;

	hashmap_put(&l->served, (uint64_t)relay->seq, 0, &added);
	if (!added) /* a shell of a shell of the same connection */
		return 0;
	slot = hashmap_put(&l->by_port, (uint64_t)listener->pid,
			   (uint64_t)listener->start_ns << 16 | (uint64_t)relay->tcp[1], NULL);
	if (!*slot) {
		const struct image *im;
		char *parents = NULL;

		if (lineage_image(cap, listener->pid, listener->start_ns, relay->t, &im) > 0)
			parents = copy_text(im->parents, im->parents_len);
		f = findings_add(out, peers);
		*slot = out->count;
		f->kind = FINDING_BINDSHELL;
		f->host = peers_host(peers, cap);
		f->pid = listener->pid;
		f->process = copy_text(listener->comm, listener->comm_len);
		f->parents = parents;
		f->ports = relay->tcp[1];
		f->remote = peer_of(peers, cap, relay->tcp[2]);
		f->rport = relay->tcp[3];
		f->first_ns = cap->base_ns + relay->t + cap->realtime_offset_ns;
		f->ran = copy_text(ran, strlen(ran));
		f->q1_ns = f->median_ns = f->q3_ns = f->mean_ns = -1;
		f->evidence = proc_command(cap, listener->pid, listener->start_ns);
		f->accepts = accepts_of(cap, listener, relay->tcp[1], from, to);
		if (!f->remote || f->accepts < 0)
			return -1;
	}
	f = &out->list[*slot - 1];
	f->events++;
	f->last_ns = cap->base_ns + relay->t + cap->realtime_offset_ns;
	return 0;
}

/*
 * The shells that read a connection another process holds: a listener's
 * for the connections it accepted (bind shells, one finding per listener
 * and port), one forked for a connection its parent opened or held, or
 * whose output is piped to a process with a connection (reverse shells,
 * one finding per connection).  From the shells (few), not from the
 * connections (a busy server has millions).
 */
static int relayed_shells(struct capture *cap, const struct options *opts,
			  const struct thresholds *t, struct peers *peers, struct hashmap *seen,
			  struct findings *out)
{
	static const char sql[] =
		"SELECT pid, start_ns, t FROM process WHERE how = 'exec' AND "
		"stdin IN ('tty', 'tcp', 'unix', 'pipe', 'socket') AND t BETWEEN ? AND ? "
		"ORDER BY t, seq";
	struct listeners listeners = {0};
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
			t_exec = sqlite3_column_int64(stmt, 2);
		const struct image *shell;
		struct ran ran = {.cap = cap};
		struct relay relay;
		char through[CAPTURE_TEXT_MAX + 64];
		bool on_tcp = false; /* netshells found it */
		int found = lineage_image(cap, pid, start, t_exec, &shell);

		if (found > 0) {
			/* What it ran, read before relay_of's images take the shell's place. */
			add_ran(&ran, shell);
			on_tcp = shell_on_tcp(shell);
			found = relay_of(cap, t, shell, &relay);
		}
		if (found <= 0) {
			err = found;
			continue;
		}
		if (relay.how == RELAY_ACCEPTED) {
			err = add_bindshell(cap, peers, out, &listeners, &relay, ran.text, from,
					    to);
		} else if (!on_tcp && first_for(seen, relay.tcp)) {
			relay_text(&relay, through, sizeof(through));
			err = add_netshell(cap, peers, out, pid, start, t_exec, relay.tcp, through);
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = read_failed(cap, "process");
	sqlite3_finalize(stmt);
	hashmap_clear(&listeners.by_port);
	hashmap_clear(&listeners.served);
	return err;
}

int find_shells(struct captures *set, const struct options *opts, const struct thresholds *t,
		struct peers *peers, struct findings *out)
{
	struct hashmap seen = {0}; /* a capture's connections with a shell found */
	int err = 0;

	for (int i = 0; i < set->count && !err; i++) {
		struct capture *cap = set->list[i];

		if (!capture_has_column(cap, "process", "stdin"))
			continue;
		err = netshells(cap, opts, peers, &seen, out) ||
		      relayed_shells(cap, opts, t, peers, &seen, out);
		hashmap_clear(&seen);
	}
	return err ? -1 : 0;
}
