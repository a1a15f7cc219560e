/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records the BPF programs put in the ring buffer, as the recorder reads
 * them.  This header is the only contract between kernel and user space: both
 * sides compile it, so a change here changes both at once.
 */
#ifndef CASEFILE_BPF_CASEFILE_H
#define CASEFILE_BPF_CASEFILE_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define COMM_LEN 16

/*
 * Kernel frames captured with every capability check.  Eight reach past
 * cap_capable() and security_capable() to the function that asked, which is
 * how the recorder derives the AUDIT flag (record/audit.c).
 */
#define AUDIT_STACK_DEPTH 8

/* Frames of a stack taken for -K or -U: perf's default kernel.perf_event_max_stack. */
#define MAX_STACK_DEPTH 127

/* Every record starts with its type; record_types[] in record/ names them. */
enum record_type {
	RECORD_CONNECT, /* an active open: connect() moved a socket to SYN_SENT */
	RECORD_OUTCOME, /* that socket left SYN_SENT: established or failed */
	RECORD_ACCEPT,	/* accept()/accept4() returned a TCP socket */
	RECORD_RESET,	/* the kernel sent a TCP RST */
	RECORD_CAPABLE, /* a capability check in cap_capable() */
	RECORD_TYPES,
};

/* Who did it: the current task, in process context only. */
struct task_ctx {
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u32 mntns_id;	 /* mount namespace inode number */
	__u32 pid;	 /* thread group id, as ps shows it */
	__u32 tid;
	__u32 ppid; /* real parent's thread group id */
	__u32 uid;
	char comm[COMM_LEN];
};

/* A TCP four-tuple from the local side; ports in host byte order. */
struct tcp_tuple {
	__u8 laddr[16]; /* IPv4 in the first four bytes */
	__u8 raddr[16];
	__u16 lport;
	__u16 rport;
	__u16 family; /* AF_INET or AF_INET6 */
	__u16 pad;
};

/*
 * One execution of a program: a process between two execs.  User frames are
 * addresses in one image; the recorder names them from that image's mappings.
 */
struct process_image {
	__u64 start_ns;	  /* the thread group leader's start, CLOCK_BOOTTIME */
	__u64 exec_id;	  /* the task's self_exec_id: counts its execs */
	__u64 start_code; /* mm->start_code, as /proc/PID/stat shows it: checks a snapshot */
	__u32 pid;
	__u32 pad;
};

/*
 * The stacks that follow a record, frames right after its fixed part: first
 * the kernel's, then the user's.  Byte counts are 0 when not taken, or a
 * negative errno when taking them failed.
 */
struct stacks {
	__s32 kernel_bytes;
	__s32 user_bytes;
	struct process_image image; /* where the user frames are, when there are some */
};

struct record_header {
	__u32 type;	/* enum record_type */
	__u32 has_task; /* 0 when the kernel acted outside process context */
	__u64 ts_ns;	/* CLOCK_BOOTTIME, as bpf_ktime_get_boot_ns() */
};

struct connect_record {
	struct record_header hdr;
	struct task_ctx task;
	__u64 sock;		/* kernel address of the socket: pairs the outcome */
	struct tcp_tuple tuple; /* lport is 0 until the kernel picks one */
	struct stacks stacks;
};

struct outcome_record {
	struct record_header hdr;
	__u64 sock;
	__u64 start_ns;	 /* ts_ns of the connect record */
	__u32 new_state; /* TCP state left SYN_SENT for: ESTABLISHED or CLOSE */
	__u32 error;	 /* sk_err at that moment: 0, ECONNREFUSED, ETIMEDOUT... */
	__u16 lport;
	__u16 pad[3];
};

struct accept_record {
	struct record_header hdr;
	struct task_ctx task;
	struct tcp_tuple tuple;
	struct stacks stacks;
};

struct reset_record {
	struct record_header hdr;
	struct task_ctx task;
	struct tcp_tuple tuple;
	__u32 state;  /* TCP state of the socket, or RESET_NO_SOCKET */
	__u32 reason; /* enum sk_rst_reason of the recording kernel */
	struct stacks stacks;
};

#define RESET_NO_SOCKET	     0xffffffffu /* state: the segment matched no socket */
#define RESET_REASON_UNKNOWN 0xffffffffu /* reason: the kernel does not say (before 6.10) */

struct capable_record {
	struct record_header hdr;
	struct task_ctx task;
	__s32 cap;
	__s32 ret;	    /* 0 allowed, -EPERM denied */
	__u32 userns_level; /* level of the target user namespace; 0 is the initial one */
	__u32 pad;
	struct stacks stacks; /* kernel frames always: at least AUDIT_STACK_DEPTH of them */
};

#endif /* CASEFILE_BPF_CASEFILE_H */
