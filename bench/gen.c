/*
 * gen: a large, realistic capture for the report benchmark, written through
 * the recorder's own path.  It makes the records the BPF programs would send
 * (bpf/casefile.h) and hands them to rows_add_record(), so the capture has
 * exactly the layout, deduplication and batching of a recorded one.
 *
 *   gen EVENTS FILE    EVENTS events over one hour, replacing FILE
 *
 * The hour holds an ordinary busy host (web, database and ssh servers, cron,
 * containers; outbound connections, most established, some refused or timed
 * out; capability checks, mostly the non-audited CAP_SYS_ADMIN of every mmap),
 * plus a port scan (1% of the events, 65535 ports at most), an ssh brute
 * force (2%) and a burst of denied checks (0.5%), for the report's detectors.
 * Processes and names too: the servers' execs at the start, and every
 * CHILD_EVERY events a short-lived child of cron (fork, exec, a DNS answer
 * for the host it then connects to, its exit), one in ten an a.out in /tmp.
 * Every established connection (a connect's, an accept's) also closes, 1 ms
 * to 10 s later, with a few kB each way: those closes come beyond the EVENTS
 * asked for, from a random stream of their own, so that the other events are
 * the same with or without them.
 * The same EVENTS give the same rows.  Kernel symbols (root) give the AUDIT
 * column its values; without them it is NULL, as in a real capture.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "audit.h"
#include "capture.h"
#include "ksyms.h"
#include "probes.h"
#include "rows.h"
#include "util.h"

#define NS_PER_S      1000000000LL
#define SPAN_NS	      (3600 * NS_PER_S)
#define BATCH	      65536 /* records per commit */
#define MAX_EVENTS    1000000000
#define TASKS	      600
#define REMOTE_HOSTS  20000
#define SCAN_PORTS    65535 /* at most: the attacks scale with EVENTS */
#define CAP_SETUID    7
#define CAP_NET_BIND  10
#define CAP_SYS_ADMIN 21
#define CHILD_EVERY   200 /* events between two short-lived children */
#define CHILD_PID     100000

/* Requesters of capability checks, by what they mean for AUDIT (record/audit.c). */
enum requester { NOAUDIT_MMAP, AUDITED_SETID, AUDITED_CAPABLE, NOAUDIT_NS, REQUESTERS };
static const char *const requester_names[REQUESTERS] = {"cap_vm_enough_memory", "ns_capable_setid",
							"capable", "ns_capable_noaudit"};
static const char *const plumbing_names[] = {"cap_capable", "security_capable"};

struct generator {
	struct capture *cap;
	struct rows *rows;
	uint64_t rng, close_rng; /* closes draw their own: the other events stay as they were */
	uint64_t base_ns;
	uint64_t events, target;
	uint64_t closes; /* beyond the events asked for: one per connection established */
	uint64_t sock;
	struct task_ctx tasks[TASKS];
	uint8_t local4[4], local6[16];
	/* Kernel frames that classify like real checks; empty without kallsyms. */
	uint64_t frames[REQUESTERS][AUDIT_STACK_DEPTH];
	int nr_frames;
	uint32_t reason_no_socket, reason_abort;
	uint32_t children;
	int attacks; /* made so far: a child's five events may step over an attack's time */
};

static uint64_t next_random(uint64_t *rng)
{
	*rng ^= *rng >> 12;
	*rng ^= *rng << 25;
	*rng ^= *rng >> 27;
	return *rng * 0x2545f4914f6cdd1dull;
}

static uint32_t below(struct generator *g, uint32_t n)
{
	return (uint32_t)(next_random(&g->rng) % n);
}

static uint32_t close_below(struct generator *g, uint32_t n)
{
	return (uint32_t)(next_random(&g->close_rng) % n);
}

/* Kernel time of the next event: evenly through the hour, a little jitter. */
static uint64_t event_time(struct generator *g)
{
	return g->base_ns + g->events * (SPAN_NS / g->target) + below(g, 1000);
}

static void add(struct generator *g, const void *record, size_t size)
{
	if (rows_add_record(g->rows, record, size))
		exit(1);
}

static void make_tasks(struct generator *g)
{
	static const char *const comms[] = {
		"nginx", "postgres", "sshd",	     "cron",	   "python3", "node",	"java",
		"curl",	 "bash",     "redis-server", "containerd", "kubelet", "dockerd"};
	static const uint32_t uids[] = {33, 999, 0, 0, 1000, 1000, 1001, 1000, 0, 999, 0, 0, 0};

	for (int i = 0; i < TASKS; i++) {
		struct task_ctx *t = &g->tasks[i];
		int kind = i % (int)ARRAY_SIZE(comms);

		t->pid = 1000 + (uint32_t)i * 7;
		t->tid = t->pid + (i % 3 == 0 ? 1 : 0);
		t->ppid = 1;
		t->uid = uids[kind];
		t->cgroup_id = 4000 + (uint64_t)kind;
		t->mntns_id = i % 5 == 0 ? 4026532000u + (uint32_t)kind : 4026531841u;
		snprintf(t->comm, sizeof(t->comm), "%s", comms[kind]);
	}
}

static void remote_address(struct generator *g, uint32_t host, struct tcp_tuple *tuple)
{
	if (host % 20 == 0) {
		tuple->family = AF_INET6;
		inet_pton(AF_INET6, "2001:db8::", tuple->raddr);
		memcpy(tuple->raddr + 12, &host, 4);
		memcpy(tuple->laddr, g->local6, 16);
	} else {
		uint32_t addr = htonl(0xc6336400u + host); /* 198.51.100.0 onwards */

		tuple->family = AF_INET;
		memcpy(tuple->raddr, &addr, 4);
		memcpy(tuple->laddr, g->local4, 4);
	}
}

static void header(struct generator *g, struct record_header *hdr, enum record_type type,
		   bool has_task)
{
	hdr->type = type;
	hdr->has_task = has_task;
	hdr->ts_ns = event_time(g);
	g->events++;
}

/*
 * The connection's close, some time after it was established (most in
 * softirq, with no task): a few kB each way, a client's FIN first or a RST.
 */
static void close_event(struct generator *g, const struct tcp_tuple *tuple, uint64_t start_ns,
			bool connected)
{
	static const uint32_t states[] = {5, 5, 9,
					  1}; /* FIN_WAIT2, FIN_WAIT2, LAST_ACK, ESTABLISHED */
	struct close_record c = {.tuple = *tuple, .start_ns = start_ns, .established = 1};
	uint32_t which = close_below(g, ARRAY_SIZE(states));

	c.hdr.type = RECORD_CLOSE;
	c.hdr.ts_ns = start_ns + 1000000 + close_below(g, 10000) * (uint64_t)1000000;
	c.bytes_acked = close_below(g, connected ? 4096 : 65536);
	c.bytes_received = close_below(g, connected ? 65536 : 4096);
	c.segs_in = 2 + (uint32_t)(c.bytes_received / 1448);
	c.segs_out = 2 + (uint32_t)(c.bytes_acked / 1448);
	c.old_state = states[which];
	c.error = which == 3 ? 104 : 0;
	g->closes++;
	add(g, &c, sizeof(c));
}

static void connect_event(struct generator *g, const struct task_ctx *task, uint32_t host,
			  uint16_t port, int outcome_error)
{
	struct connect_record c = {.task = *task, .sock = g->sock += 2048};
	struct outcome_record o = {.sock = c.sock};

	header(g, &c.hdr, RECORD_CONNECT, true);
	remote_address(g, host, &c.tuple);
	c.tuple.rport = port;
	add(g, &c, sizeof(c));
	o.hdr.type = RECORD_OUTCOME;
	o.start_ns = c.hdr.ts_ns;
	o.error = (uint32_t)outcome_error;
	o.new_state = outcome_error ? 7 : 1;
	o.lport = (uint16_t)(32768 + below(g, 28000));
	o.hdr.ts_ns =
		o.start_ns + (outcome_error == 110 ? 3 * NS_PER_S : 30000 + below(g, 2000000));
	add(g, &o, sizeof(o));
	if (!outcome_error) {
		c.tuple.lport = o.lport;
		close_event(g, &c.tuple, o.hdr.ts_ns, true);
	}
}

static void accept_event(struct generator *g, const struct task_ctx *task, uint32_t host,
			 uint16_t port)
{
	struct accept_record a = {.task = *task};

	header(g, &a.hdr, RECORD_ACCEPT, true);
	remote_address(g, host, &a.tuple);
	a.tuple.lport = port;
	a.tuple.rport = (uint16_t)(32768 + below(g, 28000));
	add(g, &a, sizeof(a));
	close_event(g, &a.tuple, a.hdr.ts_ns, false);
}

/* A RST answering a segment to a closed port (softirq, no task), or an abort. */
static void reset_event(struct generator *g, const struct task_ctx *task, uint32_t host,
			uint16_t lport)
{
	struct reset_record r = {.task = task ? *task : (struct task_ctx){0}};

	header(g, &r.hdr, RECORD_RESET, task != NULL);
	remote_address(g, host, &r.tuple);
	r.tuple.lport = lport;
	r.tuple.rport = (uint16_t)(32768 + below(g, 28000));
	r.state = task ? 1 : RESET_NO_SOCKET;
	r.reason = task ? g->reason_abort : g->reason_no_socket;
	add(g, &r, sizeof(r));
}

static void capable_event(struct generator *g, const struct task_ctx *task, int cap, int ret,
			  enum requester requester)
{
	/* As the BPF program sends it: the record, then its first kernel frames. */
	struct {
		struct capable_record c;
		uint64_t frames[AUDIT_STACK_DEPTH];
	} r = {.c = {.task = *task, .cap = cap, .ret = ret, .audit = CAPABLE_AUDIT_FROM_STACK}};

	header(g, &r.c.hdr, RECORD_CAPABLE, true);
	r.c.userns_level = task->mntns_id != 4026531841u;
	r.c.stacks.kernel_bytes = g->nr_frames * (int)sizeof(uint64_t);
	memcpy(r.frames, g->frames[requester], sizeof(r.frames));
	add(g, &r, sizeof(r));
}

/* An exec of exe by task, with a command line of one argument after the program. */
static void exec_event(struct generator *g, const struct task_ctx *task, const char *exe,
		       const char *arg)
{
	static struct exec_record r; /* 2 KiB: not on the stack */
	size_t len = strlen(exe), name = strlen(strrchr(exe, '/') + 1) + 1;

	memset(&r, 0, sizeof(r));
	header(g, &r.hdr, RECORD_EXEC, true);
	r.task = *task;
	r.exe_offset = (uint16_t)(EXE_PATH_MAX - len);
	memcpy(r.exe + r.exe_offset, exe, len);
	r.filename_len = (uint16_t)(len + 1);
	memcpy(r.filename, exe, len);
	memcpy(r.args, strrchr(exe, '/') + 1, name);
	memcpy(r.args + name, arg, strlen(arg) + 1);
	r.args_len = (uint16_t)(name + strlen(arg) + 1);
	add(g, &r, sizeof(r));
}

/* A DNS response: name, A or AAAA, as a resolver receives it. */
static void dns_event(struct generator *g, const char *name, const struct tcp_tuple *answer)
{
	static const uint8_t head[] = {0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0};
	struct dns_record r = {0};
	uint8_t *p = r.message, type = answer->family == AF_INET6 ? 28 : 1;
	uint8_t size = answer->family == AF_INET6 ? 16 : 4;

	header(g, &r.hdr, RECORD_DNS, false);
	p = (uint8_t *)memcpy(p, head, sizeof(head)) + sizeof(head);
	for (const char *label = name; *label;) {
		const char *dot = strchrnul(label, '.');

		*p++ = (uint8_t)(dot - label);
		p = (uint8_t *)memcpy(p, label, (size_t)(dot - label)) + (dot - label);
		label = *dot ? dot + 1 : dot;
	}
	*p++ = 0;
	p = (uint8_t *)memcpy(
		    p,
		    (uint8_t[]){0, type, 0, 1, 0xc0, 0x0c, 0, type, 0, 1, 0, 0, 1, 0x2c, 0, size},
		    16) +
	    16;
	p = (uint8_t *)memcpy(p, answer->raddr, size) + size;
	r.len = (uint16_t)(p - r.message);
	add(g, &r, sizeof(r));
}

/*
 * A short-lived child of cron: forked, exec'd, looks a host up, connects to
 * it, exits.  One in ten is an a.out in /tmp.
 */
static void child_event(struct generator *g)
{
	const struct task_ctx *cron = &g->tasks[3];
	struct fork_record f = {.task = *cron};
	struct exit_record x = {0};
	struct task_ctx child = *cron;
	struct tcp_tuple remote = {0};
	uint32_t host = below(g, REMOTE_HOSTS);
	bool odd = g->children % 10 == 0;
	char name[64];

	header(g, &f.hdr, RECORD_FORK, true);
	f.child_pid = CHILD_PID + g->children++ % 3000000;
	f.child_start_ns = f.hdr.ts_ns;
	add(g, &f, sizeof(f));
	child.pid = child.tid = f.child_pid;
	child.ppid = cron->pid;
	child.start_ns = f.child_start_ns;
	snprintf(child.comm, sizeof(child.comm), "%s", odd ? "a.out" : "curl");
	exec_event(g, &child, odd ? "/tmp/.cache/a.out" : "/usr/bin/curl", "-s");
	snprintf(name, sizeof(name), "host%u.example.com", host);
	remote_address(g, host, &remote);
	dns_event(g, name, &remote);
	connect_event(g, &child, host, 443, 0);
	header(g, &x.hdr, RECORD_EXIT, true);
	x.task = child;
	add(g, &x, sizeof(x));
}

/* The hour begins with init and the servers running: their execs. */
static void start_processes(struct generator *g)
{
	struct task_ctx init = {.pid = 1, .tid = 1, .cgroup_id = 1, .mntns_id = 4026531841u};

	snprintf(init.comm, sizeof(init.comm), "systemd");
	exec_event(g, &init, "/usr/lib/systemd/systemd", "--system");
	for (int i = 0; i < TASKS; i++) {
		char exe[64];

		g->tasks[i].start_ns = g->base_ns - (uint64_t)(TASKS - i) * NS_PER_S;
		snprintf(exe, sizeof(exe), "/usr/sbin/%s", g->tasks[i].comm);
		exec_event(g, &g->tasks[i], exe, "-d");
	}
}

/* One event of an ordinary hour, in the proportions of a busy server. */
static void ordinary_event(struct generator *g)
{
	const struct task_ctx *task = &g->tasks[below(g, TASKS)];
	uint32_t host = below(g, REMOTE_HOSTS), dice = below(g, 100);

	if (g->events % CHILD_EVERY == 0) {
		child_event(g);
		return;
	}
	if (dice < 55) {
		uint32_t which = below(g, 100);

		if (which < 80)
			capable_event(g, task, CAP_SYS_ADMIN, 0, NOAUDIT_MMAP);
		else if (which < 90)
			capable_event(g, task, CAP_SETUID, task->uid ? -1 : 0, AUDITED_SETID);
		else if (which < 95)
			capable_event(g, task, CAP_NET_BIND, task->uid ? -1 : 0, AUDITED_CAPABLE);
		else
			capable_event(g, task, 19 + (int)below(g, 4), 0, NOAUDIT_NS);
	} else if (dice < 70) {
		static const uint16_t ports[] = {443, 80, 5432, 6379, 53, 8080};
		uint32_t outcome = below(g, 100);

		connect_event(g, task, host, ports[below(g, ARRAY_SIZE(ports))],
			      outcome < 85   ? 0
			      : outcome < 97 ? 111
					     : 110);
	} else if (dice < 90) {
		static const uint16_t ports[] = {443, 80, 22, 5432};

		accept_event(g, task, host, ports[below(g, ARRAY_SIZE(ports))]);
	} else {
		reset_event(g, dice < 93 ? task : NULL, host, (uint16_t)(1 + below(g, 1024)));
	}
}

/* Find the kernel functions the frames need; without them AUDIT stays NULL. */
static void make_frames(struct generator *g)
{
	uint64_t plumbing[ARRAY_SIZE(plumbing_names)] = {0}, requesters[REQUESTERS] = {0};
	FILE *f = fopen("/proc/kallsyms", "re");
	char line[512];
	int found = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char type, name[256];
		unsigned long long addr;

		if (sscanf(line, "%llx %c %255s", &addr, &type, name) != 3 ||
		    (type != 't' && type != 'T') || !addr)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(plumbing_names); i++)
			if (!strcmp(name, plumbing_names[i]) && !plumbing[i] && ++found)
				plumbing[i] = addr;
		for (int i = 0; i < REQUESTERS; i++)
			if (!strcmp(name, requester_names[i]) && !requesters[i] && ++found)
				requesters[i] = addr;
	}
	if (f)
		fclose(f);
	if (found != (int)ARRAY_SIZE(plumbing_names) + REQUESTERS) {
		fprintf(stderr, "gen: kernel symbols unreadable: AUDIT will be NULL\n");
		return;
	}
	for (int r = 0; r < REQUESTERS; r++) {
		g->frames[r][0] = 0xffffffffc0000000ull; /* the BPF program */
		g->frames[r][1] = plumbing[0] + 0x20;
		g->frames[r][2] = plumbing[1] + 0x20;
		g->frames[r][3] = requesters[r] + 0x20;
	}
	g->nr_frames = 4;
}

static int note_reset_reason(void *ctx, int64_t value, const char *name)
{
	struct generator *g = ctx;

	if (!strcmp(name, "NO_SOCKET"))
		g->reason_no_socket = (uint32_t)value;
	if (!strcmp(name, "TCP_ABORT_ON_CLOSE"))
		g->reason_abort = (uint32_t)value;
	return capture_add_reset_reason(g->cap, value, name);
}

static int start(struct generator *g, const char *path, int argc, char **argv)
{
	/* The hour ends now, on a host up for a day. */
	char kinds[64];
	struct capture_setup setup = {
		.command_line = shell_quote_argv(argc, argv),
		.event_kinds = kinds_to_string(KIND_ALL, kinds, sizeof(kinds)),
		.filter_pid = -1,
		.filter_uid = -1,
		.ring_buffer_bytes = 16 << 20,
		.base_ns = 23 * SPAN_NS,
		.realtime_offset_ns = clock_ns(CLOCK_REALTIME) - 24 * SPAN_NS,
	};
	int err;

	for (int i = 0; i < RECORD_TYPES; i++)
		setup.record_type_enabled[i] = true;
	setup.started_at_ns = setup.base_ns + setup.realtime_offset_ns;
	g->base_ns = (uint64_t)setup.base_ns;
	g->cap = capture_create(path, REPLACE_ANY_FILE);
	err = !g->cap || capture_start(g->cap, &setup) ||
	      probes_each_reset_reason(note_reset_reason, g);
	free((char *)setup.command_line);
	return err ? -1 : 0;
}

/* The attacks, at a third, half and two thirds of the hour, sized to the capture. */
static void maybe_attack(struct generator *g)
{
	const struct task_ctx *sshd = &g->tasks[2];
	uint64_t scan_ports = g->target / 100 < SCAN_PORTS ? g->target / 100 : SCAN_PORTS;

	if (g->attacks == 0 && g->events >= g->target / 3 && ++g->attacks)
		for (uint32_t port = 1; port <= scan_ports; port++)
			reset_event(g, NULL, 66, (uint16_t)port);
	if (g->attacks == 1 && g->events >= g->target / 2 && ++g->attacks)
		for (uint64_t i = 0; i < g->target / 50; i++)
			accept_event(g, sshd, 99, 22);
	if (g->attacks == 2 && g->events >= 2 * g->target / 3 && ++g->attacks)
		for (uint64_t i = 0; i < g->target / 200; i++)
			capable_event(g, &g->tasks[4], CAP_SETUID, -1, AUDITED_SETID);
}

int main(int argc, char **argv)
{
	struct generator g = {.rng = 0x9e3779b97f4a7c15ull, .close_rng = 0xd1b54a32d192ed03ull};
	struct ksyms *ksyms;
	struct audit_deriver *audit;
	int64_t events;
	uint64_t lost[RECORD_TYPES] = {0};
	double started = (double)clock_ns(CLOCK_MONOTONIC), seconds;
	const uint64_t *recorded;

	if (argc != 3 || parse_integer(argv[1], 1, MAX_EVENTS, &events)) {
		fprintf(stderr, "usage: gen EVENTS FILE\n");
		return 2;
	}
	g.target = (uint64_t)events;
	inet_pton(AF_INET, "10.0.0.5", g.local4);
	inet_pton(AF_INET6, "2001:db8:1::5", g.local6);
	make_tasks(&g);
	make_frames(&g);
	if (start(&g, argv[2], argc, argv))
		return 1;
	ksyms = g.nr_frames ? ksyms_load() : NULL;
	audit = audit_deriver_new(ksyms, -1);
	g.rows = rows_new((int64_t)g.base_ns, audit);
	if (rows_begin_part(g.rows, g.cap, lost))
		return 1;
	start_processes(&g);
	while (g.events < g.target) {
		uint64_t batch_end = g.events + BATCH;

		while (g.events < batch_end && g.events < g.target) {
			maybe_attack(&g);
			ordinary_event(&g);
		}
		if (rows_flush(g.rows) || capture_commit(g.cap, rows_recorded(g.rows), lost))
			return 1;
	}
	recorded = rows_recorded(g.rows);
	if (rows_flush(g.rows) || capture_finish(g.cap, "duration", recorded, lost, NULL))
		return 1;
	seconds = ((double)clock_ns(CLOCK_MONOTONIC) - started) / 1e9;
	printf("events=%llu seconds=%.3f rate=%.0f bytes=%lld\n", (unsigned long long)g.events,
	       seconds, g.events / seconds, (long long)capture_size(g.cap));
	capture_close(g.cap, false);
	rows_free(g.rows);
	audit_deriver_free(audit);
	ksyms_free(ksyms);
	return 0;
}
