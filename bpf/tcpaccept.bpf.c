// SPDX-License-Identifier: GPL-2.0
/*
 * tcpaccept: TCP connections handed to a process by accept() or accept4().
 *
 * The handshake completes in softirq context, where no process is known, so
 * the record is made where the accepting process is certain: at the exit of
 * its accept()/accept4() call, from the socket behind the returned descriptor.
 *
 * Handshakes the kernel completes are remembered until accepted; one that
 * closes first, never accepted, is recorded: a connect scan's mark on an
 * open port.  Accepted connections cost two map operations and no record.
 */
#include "common.bpf.h"

/* Passive opens not accepted yet: socket address -> when established. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u64);
} unaccepted SEC(".maps");

/* The TCP socket behind descriptor fd of the current process, or NULL. */
static struct sock *tcp_sock_of_fd(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct socket *sock;
	struct file *file;
	struct sock *sk;

	if (fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	if (bpf_core_read(&file, sizeof(file), &fds[fd]) || !file)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	/* A socket's file points to the socket, which points back to the file. */
	if (!sock || BPF_CORE_READ(sock, file) != file)
		return NULL;
	sk = BPF_CORE_READ(sock, sk);
	return sk && is_tcp_inet(sk) ? sk : NULL;
}

static int record_accept(void *ctx, long fd)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	__u64 ts_ns = bpf_ktime_get_boot_ns();
	struct accept_record *rec;
	struct sock *sk;

	if (fd < 0 || !task_is_wanted(pid_tgid, uid))
		return 0;
	sk = tcp_sock_of_fd(fd);
	if (!sk)
		return 0;
	bpf_map_delete_elem(&unaccepted, &(__u64){(__u64)sk});
	rec = begin_record(sizeof(*rec), 0, RECORD_ACCEPT, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, true, pid_tgid, uid);
	tuple_from_sock(&rec->tuple, sk);
	send_record(ctx, rec, sizeof(*rec), RECORD_ACCEPT, true);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept(ctx, ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept(ctx, ctx->ret);
}

/* A child of a listener: established by the kernel, or closed. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(passive_open_state, const struct sock *sk, int old_state, int new_state)
{
	__u64 sock = (__u64)sk, ts_ns = bpf_ktime_get_boot_ns(), *established;
	struct unaccepted_record *rec;

	if (!is_tcp_inet(sk))
		return 0;
	if (old_state == TCP_SYN_RECV && new_state == TCP_ESTABLISHED) {
		if (!filter_tgid && filter_uid == (__u32)-1 && /* it has no process yet */
		    bpf_map_update_elem(&unaccepted, &sock, &ts_ns, BPF_ANY))
			count_lost(RECORD_UNACCEPTED);
		return 0;
	}
	/* Closed for good (a peer's FIN alone leaves it for accept() to take). */
	if (new_state != TCP_CLOSE)
		return 0;
	established = bpf_map_lookup_elem(&unaccepted, &sock);
	if (!established)
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_UNACCEPTED, ts_ns);
	if (rec) {
		rec->established_ns = *established;
		tuple_from_sock(&rec->tuple, sk);
		rec->old_state = old_state;
		rec->error = BPF_CORE_READ(sk, sk_err);
		submit_record(rec);
	}
	bpf_map_delete_elem(&unaccepted, &sock);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
