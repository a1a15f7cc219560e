// SPDX-License-Identifier: GPL-2.0
/*
 * tcpaccept: TCP connections handed to a process by accept() or accept4().
 *
 * The handshake completes in softirq context, where no process is known, so
 * the record is made where the accepting process is certain: at the exit of
 * its accept()/accept4() call, from the socket behind the returned descriptor.
 */
#include "common.bpf.h"

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

static int record_accept(long fd)
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
	rec = reserve_record(sizeof(*rec), RECORD_ACCEPT, ts_ns);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, true, pid_tgid, uid);
	tuple_from_sock(&rec->tuple, sk);
	submit_record(rec);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	return record_accept(ctx->ret);
}

char LICENSE[] SEC("license") = "GPL";
