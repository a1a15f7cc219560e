// SPDX-License-Identifier: GPL-2.0
/*
 * process: the lives of processes, so that every pid in any event resolves to
 * its executable, command line and parents, even for a process that lived 50
 * ms.  Stable tracepoints: sched:sched_process_exec, sched_process_fork (new
 * processes, not threads) and sched_process_exit (the last thread).  What an
 * exec runs is copied here, synchronously: by the time the recorder reads the
 * record the process may be gone.
 */
#include "common.bpf.h"

#define PATH_DEPTH_MAX 64 /* components and mounts crossed */

/* The mount holding vfsmount (struct mount embeds it). */
static __always_inline struct mount *real_mount(struct vfsmount *vfsmount)
{
	return (void *)vfsmount - bpf_core_field_offset(struct mount, mnt);
}

/* Where a path is built, from its end, one dentry at a time. */
struct path_walk {
	struct dentry *dentry;
	struct mount *mnt;
	char *buf; /* EXE_PATH_MAX bytes and the slack of struct exec_record's exe */
	__u32 off; /* the path so far is buf[off..EXE_PATH_MAX) */
	bool complete;
};

/* One step up: a name, or a mount crossed.  1 stops the walk. */
static long path_step(__u32 index, void *ctx)
{
	struct path_walk *w = ctx;
	/* Locals: BPF_CORE_READ would relocate w's own fields against the kernel. */
	struct dentry *dentry = w->dentry;
	struct mount *mnt = w->mnt;
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	struct mount *up;
	struct qstr name;

	if (dentry == BPF_CORE_READ(mnt, mnt.mnt_root)) {
		up = BPF_CORE_READ(mnt, mnt_parent);
		if (up == mnt) { /* the mount namespace's root */
			w->complete = true;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		return 0;
	}
	if (dentry == parent) { /* a filesystem's root, not mounted: as far as it goes */
		w->complete = true;
		return 1;
	}
	name = BPF_CORE_READ(dentry, d_name);
	if (name.len > EXE_NAME_MAX || name.len + 1 > w->off)
		return 1; /* longer than kept */
	w->off -= name.len;
	bpf_probe_read_kernel(&w->buf[w->off & (EXE_PATH_MAX - 1)], name.len & EXE_NAME_MAX,
			      name.name);
	w->off -= 1;
	w->buf[w->off & (EXE_PATH_MAX - 1)] = '/';
	w->dentry = parent;
	return 0;
}

/*
 * The path of file, as d_path() would write it, into rec->exe from its end:
 * each dentry's name, crossing mount points up to the mount namespace's
 * root.  Too long or too deep: its front is left out, and said.
 */
static __always_inline void path_of_file(struct exec_record *rec, struct file *file)
{
	struct path_walk w = {
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		.mnt = real_mount(BPF_CORE_READ(file, f_path.mnt)),
		.buf = scratch_of(RECORD_EXEC),
		.off = EXE_PATH_MAX,
	};

	if (!w.buf) {
		rec->exe_truncated = 1;
		rec->exe_offset = EXE_PATH_MAX;
		return;
	}
	bpf_loop(PATH_DEPTH_MAX, path_step, &w, 0);
	if (w.off == EXE_PATH_MAX) /* the root directory itself */
		w.buf[--w.off & (EXE_PATH_MAX - 1)] = '/';
	bpf_probe_read_kernel(rec->exe, EXE_PATH_MAX, w.buf);
	rec->exe_truncated = !w.complete;
	rec->exe_offset = w.off;
}

enum {
	FAMILY_UNIX = 1,
	FAMILY_INET = 2,
	FAMILY_INET6 = 10,
	PROTOCOL_TCP = 6,
	STATE_ESTABLISHED = 1
};
enum {
	MODE_TYPE = 0170000,
	MODE_SOCKET = 0140000,
	MODE_FILE = 0100000,
	MODE_DIRECTORY = 0040000,
	MODE_CHAR = 0020000,
	MODE_FIFO = 0010000,
};

/* A socket's family, and its sock when it is TCP over IPv4 or IPv6 (NULL otherwise). */
static __always_inline struct sock *tcp_sock_of(struct file *file, __u16 *family)
{
	struct socket *sock = BPF_CORE_READ(file, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);

	*family = BPF_CORE_READ(sk, __sk_common.skc_family);
	return (*family == FAMILY_INET || *family == FAMILY_INET6) &&
			       BPF_CORE_READ(sk, sk_protocol) == PROTOCOL_TCP
		       ? sk
		       : NULL;
}

static __always_inline void read_tuple(struct tcp_tuple *tuple, struct sock *sk, __u16 family)
{
	tuple->family = family;
	if (family == FAMILY_INET) {
		BPF_CORE_READ_INTO((__u32 *)tuple->laddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)tuple->raddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)tuple->laddr, sk,
				   __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)tuple->raddr, sk, __sk_common.skc_v6_daddr);
	}
	tuple->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	tuple->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
}

/*
 * What the new image's standard streams are (fds 0, 1, 2), from the task's
 * file table: a terminal, a pipe (and which), a file, a socket and, for the
 * first TCP socket among them, its four-tuple.  A shell whose input is a
 * TCP connection is a reverse or bind shell.  Plain CO-RE reads (kernels
 * without bpf_rdonly_cast).
 */
static __always_inline void describe_streams(struct exec_record *rec, struct task_struct *task)
{
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max_fds = BPF_CORE_READ(fdt, max_fds);
	struct file **fds = BPF_CORE_READ(fdt, fd);

	for (int i = 0; i < 3; i++) {
		struct file *file = NULL;
		struct sock *sk;
		__u32 major;
		__u16 mode, family;

		if (i >= max_fds || bpf_probe_read_kernel(&file, sizeof(file), &fds[i]) || !file) {
			rec->streams[i] = STREAM_CLOSED;
			continue;
		}
		mode = BPF_CORE_READ(file, f_inode, i_mode) & MODE_TYPE;
		if (mode == MODE_FIFO) {
			rec->streams[i] = STREAM_PIPE;
			rec->stream_pipe[i] = BPF_CORE_READ(file, f_inode, i_ino);
		} else if (mode == MODE_FILE || mode == MODE_DIRECTORY) {
			rec->streams[i] = STREAM_FILE;
		} else if (mode == MODE_CHAR) {
			/* Terminals: majors 4 and 5 (tty, console, ptmx), 136-143 (pts). */
			major = BPF_CORE_READ(file, f_inode, i_rdev) >> 20;
			rec->streams[i] = major == 4 || major == 5 || (major >= 136 && major <= 143)
						  ? STREAM_TTY
						  : STREAM_DEVICE;
		} else if (mode != MODE_SOCKET) {
			rec->streams[i] = STREAM_OTHER;
		} else if ((sk = tcp_sock_of(file, &family))) {
			rec->streams[i] = STREAM_TCP;
			if (rec->stream_tcp)
				continue;
			rec->stream_tcp = i + 1;
			read_tuple(&rec->stream_tuple, sk, family);
		} else {
			rec->streams[i] = family == FAMILY_UNIX ? STREAM_UNIX : STREAM_SOCKET;
		}
	}
}

/* The parent's file table, searched for an established TCP connection. */
struct parent_walk {
	struct file **fds;
	unsigned int max_fds;
	struct exec_record *rec;
};

static long parent_fd_step(__u32 fd, void *ctx)
{
	struct parent_walk *w = ctx;
	struct file *file = NULL;
	struct sock *sk;
	__u16 family;

	if (fd >= w->max_fds)
		return 1;
	if (bpf_probe_read_kernel(&file, sizeof(file), &w->fds[fd]) || !file ||
	    (BPF_CORE_READ(file, f_inode, i_mode) & MODE_TYPE) != MODE_SOCKET)
		return 0;
	sk = tcp_sock_of(file, &family);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_state) != STATE_ESTABLISHED)
		return 0;
	w->rec->parent_tcp = 1;
	read_tuple(&w->rec->parent_tuple, sk, family);
	return 1;
}

/*
 * The first established TCP connection the new image's parent holds among
 * its first PARENT_FDS_MAX fds: a shell forked by the process that holds
 * the connection (socat EXEC, python's pty.spawn, an implant that connected
 * before recording began) reads that connection through a pipe or a pty.
 */
static __always_inline void describe_parent_connection(struct exec_record *rec,
						       struct task_struct *task)
{
	struct fdtable *fdt = BPF_CORE_READ(task, real_parent, files, fdt);
	struct parent_walk w = {
		.fds = BPF_CORE_READ(fdt, fd),
		.max_fds = BPF_CORE_READ(fdt, max_fds),
		.rec = rec,
	};

	rec->parent_tcp = 0;
	__builtin_memset(rec->pad3, 0, sizeof(rec->pad3));
	__builtin_memset(&rec->parent_tuple, 0, sizeof(rec->parent_tuple));
	if (fdt)
		bpf_loop(PARENT_FDS_MAX, parent_fd_step, &w, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(process_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	struct exec_record *rec;
	unsigned long args_start, args_end;
	__u64 args_len;
	long len;

	if (!task_is_wanted(pid_tgid, uid))
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_EXEC, bpf_ktime_get_boot_ns(), true);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, bpf_get_current_task_btf(), true, pid_tgid, uid,
		      false);
	path_of_file(rec, exe);
	rec->exe_ino = BPF_CORE_READ(exe, f_inode, i_ino);
	rec->exe_dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
	len = bpf_probe_read_kernel_str(rec->filename, sizeof(rec->filename),
					BPF_CORE_READ(bprm, filename));
	rec->filename_len = len > 0 ? len : 0;
	/* The new image's arguments, on its freshly written stack. */
	args_start = BPF_CORE_READ(task, mm, arg_start);
	args_end = BPF_CORE_READ(task, mm, arg_end);
	args_len = args_end > args_start ? args_end - args_start : 0;
	rec->args_truncated = args_len > EXEC_ARGS_MAX;
	if (args_len > EXEC_ARGS_MAX)
		args_len = EXEC_ARGS_MAX;
	if (bpf_probe_read_user(rec->args, args_len, (void *)args_start))
		args_len = 0;
	rec->args_len = args_len;
	rec->stream_tcp = 0;
	rec->pad2 = 0;
	__builtin_memset(&rec->stream_tuple, 0, sizeof(rec->stream_tuple));
	__builtin_memset(rec->stream_pipe, 0, sizeof(rec->stream_pipe));
	describe_streams(rec, task);
	describe_parent_connection(rec, task);
	submit_record(rec, RECORD_EXEC);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct fork_record *rec;

	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) /* a thread */
		return 0;
	if (!task_is_wanted(pid_tgid, uid))
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_FORK, bpf_ktime_get_boot_ns(), true);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, bpf_get_current_task_btf(), true, pid_tgid, uid,
		      false);
	rec->child_pid = BPF_CORE_READ(child, tgid);
	rec->child_start_ns = BPF_CORE_READ(child, start_boottime);
	rec->pad = 0;
	submit_record(rec, RECORD_FORK);
	return 0;
}

static __always_inline int record_exit(struct task_struct *task, bool group_dead)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 uid = (__u32)bpf_get_current_uid_gid();
	struct exit_record *rec;
	struct file *exe;

	if (!group_dead) /* a thread, not the process */
		return 0;
	if (!task_is_wanted(pid_tgid, uid))
		return 0;
	rec = reserve_record(sizeof(*rec), RECORD_EXIT, bpf_ktime_get_boot_ns(), true);
	if (!rec)
		return 0;
	describe_task(&rec->hdr, &rec->task, bpf_get_current_task_btf(), true, pid_tgid, uid,
		      false);
	rec->exit_code = BPF_CORE_READ(task, exit_code);
	/* Since 6.16 the tracepoint comes before exit_mm(): the executable is still known. */
	exe = BPF_CORE_READ(task, mm, exe_file);
	rec->exe_deleted = exe ? BPF_CORE_READ(exe, f_inode, i_nlink) == 0 : -1;
	submit_record(rec, RECORD_EXIT);
	return 0;
}

/* Linux 6.16+: the tracepoint says whether the whole thread group is dead. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit, struct task_struct *task, bool group_dead)
{
	return record_exit(task, group_dead);
}

/*
 * Before 6.16 the tracepoint has the task alone; do_exit() has counted it
 * out of signal->live already, and the thread that took it to 0 is the
 * last one.  Two threads exiting at once may both see 0: the process's exit
 * is then recorded twice.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(process_exit_live, struct task_struct *task)
{
	return record_exit(task, BPF_CORE_READ(task, signal, live.counter) == 0);
}

char LICENSE[] SEC("license") = "GPL";
