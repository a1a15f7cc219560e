// SPDX-License-Identifier: GPL-2.0
/*
 * tcp: the programs behind tcpconnect, tcpaccept and tcpreset.  They share
 * the readers of sockets and the maps of sockets in flight; and they run for
 * every TCP connection on the host, so each test before a record is kept
 * cheap: plain loads through BTF pointers rather than helper calls, and the
 * clock read only for a record (it costs more than the rest of a test in a
 * virtual machine).  One object, because libbpf 1.1's linker cannot share a
 * kfunc (bpf_rdonly_cast) between objects.
 */
#define KFUNC_OBJECT /* the object that calls bpf_rdonly_cast (common.bpf.h) */
#include "common.bpf.h"

#define AF_INET	    2
#define AF_INET6    10
#define IPPROTO_TCP 6

/* TCP states, as include/net/tcp_states.h numbers them. */
#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT	2
#define TCP_SYN_RECV	3
#define TCP_FIN_WAIT1	4
#define TCP_FIN_WAIT2	5
#define TCP_TIME_WAIT	6
#define TCP_CLOSE	7
#define TCP_LAST_ACK	9
#define TCP_LISTEN	10
#define TCP_CLOSING	11

#define SOCK_DONE 1 /* enum sock_flags: a FIN was received (tcp_fin()) */

#define IP_VERSION_4 4
#define IP_VERSION_6 6

/*
 * Sockets in flight, a socket's key (key_of()) -> a time: connects in SYN_SENT whose
 * attempt was recorded (-> its start), and passive opens no accept() took
 * yet (-> when established).  An array of sets of ways, a way claimed and
 * freed by compare-and-swap: a hash map would take a bucket lock and a
 * free-list lock, interrupts off, on every update and delete, for every TCP
 * connection.  A socket is added and taken under the socket's own lock (or
 * by the thread that holds it), so one never races its own add.
 */
#define FLIGHT_SETS 8192 /* a power of two; 65536 ways in all */
#define FLIGHT_WAYS 8	 /* a full set cannot take one more: counted as lost */

struct flight_way {
	__u64 key; /* key_of() the socket; 0: free */
	__u64 ts_ns;
};

struct flight_set {
	struct flight_way ways[FLIGHT_WAYS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLIGHT_SETS);
	__type(key, __u32);
	__type(value, struct flight_set);
} connects_in_flight SEC(".maps"), unaccepted SEC(".maps"), lives SEC(".maps");

/*
 * A socket's key in the tables: its distance from a fixed address, which
 * names it as its address would.  The verifier allows no arithmetic on a
 * pointer but one pointer's subtraction from another (the recorder loads
 * with CAP_PERFMON); reading the address as a number through a helper cost a
 * call for each add and take, nine a connection.
 */
char tcp_key_origin SEC(".bss");

static __always_inline __u64 key_of(const struct sock *sk)
{
	return (__u64)sk - (__u64)&tcp_key_origin;
}

/* The same key from an address read as a number (by CO-RE, without the kfunc). */
static __always_inline __u64 key_of_address(__u64 address)
{
	const void *origin = &tcp_key_origin;
	__u64 origin_address = 0;

	bpf_probe_read_kernel(&origin_address, sizeof(origin_address), &origin);
	return address - origin_address;
}

static __always_inline struct flight_set *set_of(void *table, __u64 key)
{
	/* Fibonacci hashing: the high bits of the product mix all of the key's. */
	__u32 index = (__u32)((key * 0x9e3779b97f4a7c15ULL) >> 51) & (FLIGHT_SETS - 1);

	return bpf_map_lookup_elem(table, &index);
}

/* Remember a socket by its key with a time: 0, or -1 when its set is full. */
static __always_inline int flight_add(void *table, __u64 key, __u64 ts_ns)
{
	struct flight_set *set = set_of(table, key);

	/*
	 * Unrolled, as the other loop over ways: where clang lays a loop out
	 * with a fall-through back into it, the verifier of 6.1 refuses it.
	 */
#pragma unroll
	for (int i = 0; set && i < FLIGHT_WAYS; i++) {
		if (__sync_val_compare_and_swap(&set->ways[i].key, 0, key) == 0) {
			set->ways[i].ts_ns = ts_ns;
			return 0;
		}
	}
	return -1;
}

/* Forget a socket by its key: its time, or 0 when it was not remembered. */
static __always_inline __u64 flight_take(void *table, __u64 key)
{
	struct flight_set *set = set_of(table, key);
	__u64 ts_ns;

#pragma unroll
	for (int i = 0; set && i < FLIGHT_WAYS; i++) {
		if (set->ways[i].key != key)
			continue;
		ts_ns = set->ways[i].ts_ns;
		if (__sync_val_compare_and_swap(&set->ways[i].key, key, 0) == key)
			return ts_ns;
	}
	return 0;
}

/* For capable.bpf.c's programs (common.bpf.h). */
__noinline int read_task_cast(struct task_ctx *ctx)
{
	if (ctx)
		read_task(ctx, bpf_get_current_task_btf(), true);
	return 0;
}

/*
 * The network namespace a socket lives in (its inode number), which tells a
 * container's loopback traffic from the host's.
 */
static __always_inline __u32 sock_netns(const struct sock *sk, bool cast)
{
	return KERNEL_FIELD(cast, sk, struct sock, __sk_common.skc_net.net, ns.inum);
}

/* Is a socket of this family and protocol TCP over IPv4 or IPv6? */
static __always_inline bool is_tcp_inet(__u16 family, __u16 protocol)
{
	return protocol == IPPROTO_TCP && (family == AF_INET || family == AF_INET6);
}

#define SOCK_FIELD(cast, sk, field) KERNEL_FIELD(cast, sk, struct sock, __sk_common.field)

/* Is a full socket, typed or not (cast), TCP over IPv4 or IPv6? */
static __always_inline bool sock_is_tcp_inet(const struct sock *sk, bool cast)
{
	return is_tcp_inet(SOCK_FIELD(cast, sk, skc_family),
			   KERNEL_FIELD(cast, sk, struct sock, sk_protocol));
}

/* The four-tuple of a full socket; sk may be untyped (an accepted socket's). */
static __always_inline void tuple_from_sock(struct tcp_tuple *tuple, const struct sock *sk,
					    bool cast)
{
	struct in6_addr laddr6, raddr6;

	tuple->family = SOCK_FIELD(cast, sk, skc_family);
	if (tuple->family == AF_INET) {
		*(__u32 *)tuple->laddr = SOCK_FIELD(cast, sk, skc_rcv_saddr);
		*(__u32 *)tuple->raddr = SOCK_FIELD(cast, sk, skc_daddr);
	} else {
		laddr6 = SOCK_FIELD(cast, sk, skc_v6_rcv_saddr);
		raddr6 = SOCK_FIELD(cast, sk, skc_v6_daddr);
		__builtin_memcpy(tuple->laddr, &laddr6, sizeof(laddr6));
		__builtin_memcpy(tuple->raddr, &raddr6, sizeof(raddr6));
	}
	/* inet_sport, not skc_num: closing releases the port before the RST goes out. */
	tuple->lport = bpf_ntohs(KERNEL_FIELD(cast, sk, struct inet_sock, inet_sport));
	tuple->rport = bpf_ntohs(SOCK_FIELD(cast, sk, skc_dport));
}

/*
 * sock:inet_sock_set_state fires several times for every TCP connection, and
 * each program attached there costs a dispatch: one program serves both
 * tcpconnect and tcpaccept.
 *
 * tcpconnect: sock:inet_sock_set_state sees a socket enter SYN_SENT inside
 * connect(), in the caller's process context: that is the attempt.  The
 * kernel has not chosen the local port yet at that point, so when the socket
 * leaves SYN_SENT (established, refused, timed out, closed), a second record
 * carries the outcome, the port and the latency.
 */
static __always_inline void record_attempt(void *ctx, const struct sock *sk, bool cast,
					   loser_t loser)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, cast);
	__u64 sock = (__u64)sk, ts_ns;
	struct connect_record *rec;

	if (!task_is_wanted(pid_tgid, uid))
		return;
	ts_ns = bpf_ktime_get_boot_ns();
	rec = begin_record(sizeof(*rec), 0, RECORD_CONNECT, ts_ns, loser);
	if (!rec)
		return;
	describe_task(&rec->hdr, &rec->task, task, true, pid_tgid, uid, cast);
	tuple_from_sock(&rec->tuple, sk, cast);
	rec->sock = sock;
	send_record(ctx, rec, sizeof(*rec), RECORD_CONNECT, loser);

	/* Without room to remember it, this attempt's outcome is lost: count it now. */
	if (flight_add(&connects_in_flight, key_of(sk), ts_ns))
		lose_record(RECORD_OUTCOME, loser);
}

/*
 * The clock, read once per state change whatever needs it: an established
 * socket's outcome and its life's start are one reading (the clock costs more
 * than the rest of a test in a virtual machine).
 */
static __always_inline __u64 clock_once(__u64 *now)
{
	if (!*now)
		*now = bpf_ktime_get_boot_ns();
	return *now;
}

/* The outcome of an attempt recorded: its start (a close times a failed one from it), or 0. */
static __always_inline __u64 record_outcome(const struct sock *sk, int new_state, bool cast,
					    __u64 *now)
{
	__u64 sock = (__u64)sk;
	__u64 start_ns = flight_take(&connects_in_flight, key_of(sk));
	struct outcome_record *rec;

	if (!start_ns)
		return 0; /* began before recording, or filtered out */
	rec = reserve_record(sizeof(*rec), RECORD_OUTCOME, clock_once(now), false);
	if (rec) {
		rec->sock = sock;
		rec->start_ns = start_ns;
		rec->new_state = new_state;
		rec->error = sk->sk_err;
		rec->lport = bpf_ntohs(KERNEL_FIELD(cast, sk, struct inet_sock, inet_sport));
		submit_record(rec, RECORD_OUTCOME);
	}
	return start_ns;
}

/*
 * tcpaccept's other half: a handshake the kernel completes for a listener has
 * no process yet, and is remembered until accept() takes it.  One that closes
 * first is recorded: a connect scan's mark on an open port.
 */
static __always_inline void remember_passive_open(const struct sock *sk, __u64 *now)
{
	if (filter_tgid || filter_uid != (__u32)-1) /* it could never pass the filter */
		return;
	if (flight_add(&unaccepted, key_of(sk), clock_once(now)))
		lose_record(RECORD_UNACCEPTED, false);
}

/* Closed for good: if no accept() took it, that is the record. */
static __always_inline void record_unaccepted(const struct sock *sk, int old_state, bool cast,
					      __u64 *now)
{
	__u64 established = flight_take(&unaccepted, key_of(sk));
	struct unaccepted_record *rec;

	if (!established)
		return;
	rec = reserve_record(sizeof(*rec), RECORD_UNACCEPTED, clock_once(now), false);
	if (rec) {
		rec->established_ns = established;
		tuple_from_sock(&rec->tuple, sk, cast);
		rec->old_state = old_state;
		rec->error = sk->sk_err;
		rec->netns = sock_netns(sk, cast);
		rec->pad = 0;
		submit_record(rec, RECORD_UNACCEPTED);
	}
}

/*
 * close: a connection's life.  It begins when the socket is established
 * (both ends: a connect's or a listener's child), kept in `lives` with, in
 * the time's lowest bit, whether it was a connect; a socket established
 * before recording began, or when its set was full, closes with no start.
 * One that never was (a connect refused or timed out) is timed from its
 * connect, whose start its outcome just took.  The counters are tcp_sock's
 * own: what the kernel counted for the whole life, plain loads with the
 * kfunc (a helper call each by CO-RE: eight a close, two closes a connection).
 */
#define TCP_FIELD(cast, sk, field) KERNEL_FIELD(cast, sk, struct tcp_sock, field)

/* Did we send a FIN the peer acknowledged?  It took a sequence number, as a SYN does. */
static __always_inline bool our_fin_acked(const struct sock *sk, int old_state, bool cast)
{
	bool fin_sent = old_state == TCP_FIN_WAIT1 || old_state == TCP_FIN_WAIT2 ||
			old_state == TCP_TIME_WAIT || old_state == TCP_CLOSING ||
			old_state == TCP_LAST_ACK;

	return fin_sent && TCP_FIELD(cast, sk, snd_una) == TCP_FIELD(cast, sk, write_seq);
}

/*
 * The payload each way: bytes_acked and bytes_received count the sequence
 * numbers the peer acknowledged and we received, so a connect's SYN and
 * each side's FIN are one byte each in them.
 */
static __always_inline void payload(struct close_record *rec, const struct sock *sk, int old_state,
				    bool connected, bool cast)
{
	__u64 acked = TCP_FIELD(cast, sk, bytes_acked),
	      received = TCP_FIELD(cast, sk, bytes_received);
	__u64 syn = connected, fin = our_fin_acked(sk, old_state, cast);
	__u64 their_fin = (sk->__sk_common.skc_flags >> SOCK_DONE) & 1;

	rec->bytes_acked = acked >= syn + fin ? acked - syn - fin : 0;
	rec->bytes_received = received >= their_fin ? received - their_fin : 0;
}

static __always_inline void record_close(void *ctx, const struct sock *sk, int old_state,
					 __u64 connect_ns, bool cast, __u64 *now, loser_t loser)
{
	struct task_struct *task = bpf_get_current_task_btf();
	bool in_process = in_process_context(ctx, task);
	/* A close in softirq (a RST or FIN received) has no process: nothing to ask. */
	__u32 uid = 0;
	__u64 pid_tgid = in_process ? current_ids(task, &uid, cast) : 0;
	__u64 life = flight_take(&lives, key_of(sk)), established_ns = life & ~1ULL;
	struct close_record *rec;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return;
	rec = reserve_record(sizeof(*rec), RECORD_CLOSE, clock_once(now),
			     in_process ? loser : false);
	if (!rec)
		return;
	describe_task(&rec->hdr, &rec->task, task, in_process, pid_tgid, uid, cast);
	tuple_from_sock(&rec->tuple, sk, cast);
	rec->established = established_ns != 0;
	rec->start_ns = established_ns ? established_ns : connect_ns;
	/* A connect's SYN is in bytes_acked once established, known from its life only. */
	payload(rec, sk, old_state, life & 1, cast);
	rec->segs_in = TCP_FIELD(cast, sk, segs_in);
	rec->segs_out = TCP_FIELD(cast, sk, segs_out);
	rec->retransmits = TCP_FIELD(cast, sk, total_retrans);
	rec->old_state = old_state;
	rec->error = sk->sk_err;
	rec->pad[0] = rec->pad[1] = rec->pad[2] = 0;
	rec->netns = sock_netns(sk, cast);
	rec->pad2 = 0;
	submit_record(rec, RECORD_CLOSE);
}

/* A life begins (established) or ends (closed, from any state but LISTEN or CLOSE). */
static __always_inline void track_life(void *ctx, const struct sock *sk, int old_state,
				       int new_state, __u64 connect_ns, bool cast, __u64 *now,
				       loser_t loser)
{
	if (new_state == TCP_ESTABLISHED) {
		/* Without room its close comes with no start: not lost, not timed. */
		flight_add(&lives, key_of(sk),
			   (clock_once(now) & ~1ULL) | (old_state == TCP_SYN_SENT));
	} else if (new_state == TCP_CLOSE && old_state != TCP_LISTEN && old_state != TCP_CLOSE) {
		record_close(ctx, sk, old_state, connect_ns, cast, now, loser);
	}
}

/*
 * Could an enabled kind record this state change?  Its first test, before any
 * load: a connection's passage from LISTEN to SYN_RECV and the steps of an
 * orderly close (FIN_WAIT1, FIN_WAIT2, CLOSE_WAIT, LAST_ACK...) concern none.
 * recorded_types is a constant for the verifier: what a kind not enabled
 * would test is not even loaded.
 */
static __always_inline bool state_change_recorded(int old_state, int new_state)
{
	bool connect =
		records(RECORD_CONNECT) && (new_state == TCP_SYN_SENT || old_state == TCP_SYN_SENT);
	bool opened_or_closed = (records(RECORD_UNACCEPTED) || records(RECORD_CLOSE)) &&
				(new_state == TCP_ESTABLISHED || new_state == TCP_CLOSE);

	return connect || opened_or_closed;
}

/* loser: whose a record lost in process context is (LOSS_OWED with interrupts off). */
static __always_inline int state_change(void *ctx, const struct sock *sk, int old_state,
					int new_state, bool cast, loser_t loser)
{
	__u64 connect_ns = 0, now = 0;

	if (!state_change_recorded(old_state, new_state))
		return 0;
	if (!is_tcp_inet(sk->__sk_common.skc_family, sk->sk_protocol))
		return 0;
	if (records(RECORD_CONNECT)) {
		if (old_state == TCP_CLOSE && new_state == TCP_SYN_SENT)
			record_attempt(ctx, sk, cast, loser);
		else if (old_state == TCP_SYN_SENT)
			connect_ns = record_outcome(sk, new_state, cast, &now);
	}
	if (records(RECORD_UNACCEPTED)) {
		if (old_state == TCP_SYN_RECV && new_state == TCP_ESTABLISHED)
			remember_passive_open(sk, &now);
		/* Closed for good (a peer's FIN alone leaves it for accept() to take). */
		else if (new_state == TCP_CLOSE)
			record_unaccepted(sk, old_state, cast, &now);
	}
	if (records(RECORD_CLOSE))
		track_life(ctx, sk, old_state, new_state, connect_ns, cast, &now, loser);
	return 0;
}

/*
 * The kernel runs a program at most once at a time on a CPU: a state change
 * in softirq (a segment received, a timer's: a connect timing out, a delayed
 * ACK that closes an orphan) that interrupts the program while it runs in a
 * process's context, for another socket, is not given to it, only counted
 * (the program's recursion_misses).  Two ways to have them all, by what the
 * kernel offers:
 *
 * With the kfunc bpf_local_irq_save (6.14+), tcp_state_change_irqs_off turns
 * interrupts off while it works: no softirq comes in on its CPU.  One program,
 * one dispatch per state change.
 *
 * Before, tcp_state_change_nested, a second program on the tracepoint, takes
 * exactly those: the state changes that come while tcp_state_change runs on
 * their CPU.  Where the kernel runs a program inside itself (no such guard),
 * the inner run clears the mark and the second program takes nothing.  It
 * costs a dispatch for every state change, about six a connection.
 *
 * What neither takes (one that comes in the instructions the kernel runs
 * around the program, outside its mark or with interrupts still on, or for
 * reasons not understood yet: under load this host left up to 208 in a run
 * with the two programs) the recorder tells: the first's misses less the
 * second's takes.  A state change no enabled kind records returns before
 * either (the first's window is the shorter): the second counts it taken all
 * the same, as the first's miss was.
 */
extern void bpf_local_irq_save(unsigned long *flags) __ksym __weak;
extern void bpf_local_irq_restore(unsigned long *flags) __ksym __weak;

static __always_inline int state_change_irqs_off(void *ctx, const struct sock *sk, int old_state,
						 int new_state)
{
	unsigned long flags;

	if (!state_change_recorded(old_state, new_state))
		return 0;
	bpf_local_irq_save(&flags);
	state_change(ctx, sk, old_state, new_state, true, LOSS_OWED);
	bpf_local_irq_restore(&flags);
	pay_process_losses();
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct state_change_cpu);
} state_change_cpus SEC(".maps");

static __always_inline struct state_change_cpu *this_cpu(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&state_change_cpus, &zero);
}

/* Marked on its CPU while it runs; volatile: the early exit's two stores are not dead. */
static __always_inline int state_change_first(void *ctx, const struct sock *sk, int old_state,
					      int new_state, bool cast)
{
	struct state_change_cpu *cpu;

	if (!state_change_recorded(old_state, new_state))
		return 0;
	cpu = this_cpu();
	if (cpu)
		*(volatile __u32 *)&cpu->running = 1;
	state_change(ctx, sk, old_state, new_state, cast, true);
	if (cpu)
		*(volatile __u32 *)&cpu->running = 0;
	return 0;
}

/*
 * Only inside the first program's run, in softirq: never a connect's
 * attempt (process context), the one record built in the scratch area the
 * interrupted run may be using.
 */
static __always_inline int state_change_nested(void *ctx, const struct sock *sk, int old_state,
					       int new_state, bool cast)
{
	struct state_change_cpu *cpu = this_cpu();

	if (!cpu || !*(volatile __u32 *)&cpu->running)
		return 0;
	cpu->nested++;
	return state_change(ctx, sk, old_state, new_state, cast, true);
}

/*
 * Each program of this file comes twice: with the kfunc, and as NAME_core
 * with CO-RE reads, for kernels before 6.2.  record/mechanisms.c loads one.
 * The one that turns interrupts off needs 6.14: with the kfunc alone.
 */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change_irqs_off, const struct sock *sk, int old_state, int new_state)
{
	return state_change_irqs_off(ctx, sk, old_state, new_state);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change, const struct sock *sk, int old_state, int new_state)
{
	return state_change_first(ctx, sk, old_state, new_state, true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change_nested, const struct sock *sk, int old_state, int new_state)
{
	return state_change_nested(ctx, sk, old_state, new_state, true);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change_core, const struct sock *sk, int old_state, int new_state)
{
	return state_change_first(ctx, sk, old_state, new_state, false);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state_change_nested_core, const struct sock *sk, int old_state, int new_state)
{
	return state_change_nested(ctx, sk, old_state, new_state, false);
}

/*
 * The TCP socket behind descriptor fd of the current process, or NULL.  The
 * descriptor array is not typed for the verifier: a helper reads it, and
 * what it gives is untyped.
 */
static __always_inline struct sock *tcp_sock_of_fd(struct task_struct *task, long fd, bool cast)
{
	struct fdtable *fdt = KERNEL_FIELD(cast, task, struct task_struct, files, fdt);
	struct file **fds = KERNEL_FIELD(cast, fdt, struct fdtable, fd);
	struct file *file = NULL;
	struct socket *sock;
	struct sock *sk;

	if (fd >= KERNEL_FIELD(cast, fdt, struct fdtable, max_fds) ||
	    bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = KERNEL_FIELD(cast, file, struct file, private_data);
	/* A socket's file points to the socket, which points back to the file. */
	if (!sock || KERNEL_FIELD(cast, sock, struct socket, file) != file)
		return NULL;
	sk = KERNEL_FIELD(cast, sock, struct socket, sk);
	return sk && sock_is_tcp_inet(sk, cast) ? sk : NULL;
}

/*
 * tcpaccept: TCP connections handed to a process by accept() or accept4().
 * The handshake completes in softirq context, where no process is known, so
 * the record is made where the accepting process is certain: as the kernel's
 * accept returns the socket to it (fexit on inet_csk_accept, as BCC's
 * tcpaccept hooks it, io_uring's accepts included), or, where the kernel
 * refuses tracing programs, at the exit of its accept()/accept4() call, from
 * the socket behind the returned descriptor.
 */
static __always_inline int record_accept(void *ctx, struct task_struct *task, __u64 pid_tgid,
					 __u32 uid, struct sock *sk, bool cast)
{
	struct accept_record *rec;

	flight_take(&unaccepted, cast ? key_of(sk) : key_of_address((__u64)sk));
	rec = begin_record(sizeof(*rec), 0, RECORD_ACCEPT, bpf_ktime_get_boot_ns(), true);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, task, true, pid_tgid, uid, cast);
	tuple_from_sock(&rec->tuple, sk, cast);
	send_record(ctx, rec, sizeof(*rec), RECORD_ACCEPT, true);
	return 0;
}

static __always_inline int record_accept_of_fd(void *ctx, long fd, bool cast)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, cast);
	struct sock *sk;

	if (fd < 0 || !task_is_wanted(pid_tgid, uid))
		return 0;
	sk = tcp_sock_of_fd(task, fd, cast);
	return sk ? record_accept(ctx, task, pid_tgid, uid, sk, cast) : 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept_of_fd(ctx, ctx->ret, true);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept_of_fd(ctx, ctx->ret, true);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit_core(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept_of_fd(ctx, ctx->ret, false);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit_core(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept_of_fd(ctx, ctx->ret, false);
}

/*
 * inet_csk_accept's arguments changed in 6.10 (flags, err and kern became
 * one struct): its return value is asked for, wherever it lies.  Kernel
 * threads' accepts (in-kernel servers) are no process's, as at the syscall.
 */
static __always_inline int accept_returned(__u64 *ctx, bool cast)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, cast);
	__u64 ret = 0;
	struct sock *sk;

	if (!task_is_wanted(pid_tgid, uid) || (task->flags & PF_KTHREAD) ||
	    bpf_get_func_ret(ctx, &ret) || !ret)
		return 0;
	/* A number to the verifier: typed by the kfunc, or read through CO-RE */
	sk = cast ? kernel_cast((void *)ret, struct sock) : (struct sock *)ret;
	if (!sock_is_tcp_inet(sk, cast))
		return 0; /* DCCP's accepts go through it too */
	return record_accept(ctx, task, pid_tgid, uid, sk, cast);
}

SEC("fexit/inet_csk_accept")
int accept_return(__u64 *ctx)
{
	return accept_returned(ctx, true);
}

SEC("fexit/inet_csk_accept")
int accept_return_core(__u64 *ctx)
{
	return accept_returned(ctx, false);
}

/* The RST answers this segment: its reversed four-tuple is the RST's own. */
static void tuple_from_segment(struct tcp_tuple *tuple, const struct sk_buff *skb)
{
	unsigned char *network = skb->head + skb->network_header;
	/* As the kernel's own tracepoint: skb->data is at the TCP header here. */
	struct tcphdr *th = (struct tcphdr *)skb->data;
	__u8 version = 0;

	bpf_probe_read_kernel(&version, 1, network);
	version >>= 4;
	if (version == IP_VERSION_4) {
		struct iphdr *ip = (struct iphdr *)network;

		tuple->family = AF_INET;
		bpf_probe_read_kernel(tuple->laddr, 4, &ip->daddr);
		bpf_probe_read_kernel(tuple->raddr, 4, &ip->saddr);
	} else if (version == IP_VERSION_6) {
		struct ipv6hdr *ip6 = (struct ipv6hdr *)network;

		tuple->family = AF_INET6;
		bpf_probe_read_kernel(tuple->laddr, 16, &ip6->daddr);
		bpf_probe_read_kernel(tuple->raddr, 16, &ip6->saddr);
	}
	tuple->lport = bpf_ntohs(BPF_CORE_READ(th, dest));
	tuple->rport = bpf_ntohs(BPF_CORE_READ(th, source));
}

/*
 * tcpreset: RSTs the kernel sends, IPv4 and IPv6, with the kernel's reason
 * (6.10+): "no socket" is a closed port, what a port scan provokes.  A reset
 * answering a segment is sent from softirq, where `current` is an unrelated
 * interrupted task: such records carry no process.
 */
static __always_inline int record_reset(void *ctx, const struct sock *sk, const struct sk_buff *skb,
					__u32 reason, bool cast)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 uid;
	__u64 pid_tgid = current_ids(task, &uid, cast);
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	bool in_process = in_process_context(ctx, task);
	struct reset_record *rec;

	if (!event_is_wanted(in_process, pid_tgid, uid))
		return 0;
	rec = begin_record(sizeof(*rec), 0, RECORD_RESET, ts_ns, in_process);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, task, in_process, pid_tgid, uid, cast);
	__builtin_memset(&rec->tuple, 0, sizeof(rec->tuple));
	if (skb)
		tuple_from_segment(&rec->tuple, skb);
	else if (sk)
		tuple_from_sock(&rec->tuple, sk, cast);
	rec->state = sk ? sk->__sk_common.skc_state : RESET_NO_SOCKET;
	rec->reason = reason;
	/* No socket: the namespace of the device the segment came in on. */
	rec->netns = sk	   ? sock_netns(sk, cast)
		     : skb ? KERNEL_FIELD(cast, skb, struct sk_buff, dev, nd_net.net, ns.inum)
			   : 0;
	rec->pad = 0;
	send_record(ctx, rec, sizeof(*rec), RECORD_RESET, in_process);
	return 0;
}

/* Raw context rather than BPF_PROG: kernels before 6.10 pass no reason. */
static __always_inline int reset_sent(__u64 *ctx, bool cast)
{
	__u32 reason =
		bpf_core_type_exists(enum sk_rst_reason) ? (__u32)ctx[2] : RESET_REASON_UNKNOWN;

	return record_reset(ctx, (const struct sock *)ctx[0], (const struct sk_buff *)ctx[1],
			    reason, cast);
}

SEC("tp_btf/tcp_send_reset")
int tcp_reset_sent(__u64 *ctx)
{
	return reset_sent(ctx, true);
}

SEC("tp_btf/tcp_send_reset")
int tcp_reset_sent_core(__u64 *ctx)
{
	return reset_sent(ctx, false);
}

/*
 * Before 6.10 the tracepoint fires for full sockets only: not for a segment
 * that found no socket (a closed port), a TIME_WAIT or a request socket.
 * Those are taken at the entry of tcp_v4_send_reset() and
 * tcp_v6_send_reset(), skipping what they return early on (a reset never
 * answers a reset; a segment without a socket must have been for this host).
 */
#define TCPF_FULL_SOCK	~((1 << 6) | (1 << 12)) /* not TIME_WAIT, not NEW_SYN_RECV */
#define RTN_LOCAL	2
#define RTF_LOCAL	0x80000000
#define SKB_DST_PTRMASK ~1UL

static __always_inline bool answered_by_tracepoint(const struct sock *sk, const struct sk_buff *skb)
{
	struct tcphdr *th = (struct tcphdr *)BPF_CORE_READ(skb, data);

	if (BPF_CORE_READ_BITFIELD_PROBED(th, rst))
		return true; /* no reset is sent at all */
	return sk && ((1 << BPF_CORE_READ(sk, __sk_common.skc_state)) & TCPF_FULL_SOCK);
}

static __always_inline void *skb_dst_of(const struct sk_buff *skb)
{
	return (void *)(BPF_CORE_READ(skb, _skb_refdst) & SKB_DST_PTRMASK);
}

SEC("fentry/tcp_v4_send_reset")
int BPF_PROG(tcp_v4_reset_entry, const struct sock *sk, struct sk_buff *skb)
{
	struct rtable *rt = skb_dst_of(skb);

	if (answered_by_tracepoint(sk, skb) || (!sk && BPF_CORE_READ(rt, rt_type) != RTN_LOCAL))
		return 0;
	return record_reset(ctx, sk, skb, RESET_REASON_UNKNOWN, false);
}

SEC("fentry/tcp_v6_send_reset")
int BPF_PROG(tcp_v6_reset_entry, const struct sock *sk, struct sk_buff *skb)
{
	struct rt6_info *rt = skb_dst_of(skb);

	if (answered_by_tracepoint(sk, skb) ||
	    (!sk && !(BPF_CORE_READ(rt, rt6i_flags) & RTF_LOCAL)))
		return 0;
	return record_reset(ctx, sk, skb, RESET_REASON_UNKNOWN, false);
}

char LICENSE[] SEC("license") = "GPL";
