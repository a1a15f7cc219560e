/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The records the BPF programs put in the ring buffer, as the recorder reads
 * them.  This header and the list of kinds it includes (kinds.def) are the
 * only contract between kernel and user space: both sides compile them, so a
 * change here changes both at once.
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

/* Every record starts with its type: one for each RECORD of kinds.def. */
enum record_type {
#define RECORD(name, NAME, KIND, stacks) RECORD_##NAME,
#include "kinds.def"
	RECORD_TYPES,
};

/* Who did it: the current task, in process context only. */
struct task_ctx {
	__u64 cgroup_id; /* cgroup v2 id of the task */
	__u64 start_ns;	 /* its process's start, CLOCK_BOOTTIME: with pid, names the process */
	__u32 mntns_id;	 /* mount namespace inode number */
	__u32 netns_id;	 /* network namespace inode number */
	__u32 pid;	 /* thread group id, as ps shows it */
	__u32 nspid;	 /* that pid as the process's own pid namespace numbers it */
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
 * the kernel's (addresses, 8 bytes each), then the user's (struct
 * bpf_stack_build_id, 32 bytes each).  Byte counts are 0 when not taken, or
 * a negative errno when taking them failed.
 */
struct stacks {
	__s32 kernel_bytes;
	__s32 user_bytes;
	struct process_image image; /* where the user frames are, when there are some */
};

/*
 * Records lost by one process (map lost_by_process, bpf/common.bpf.h): the
 * process as (pid, start_ns), as everywhere, and the record type it lost.
 */
struct process_loss_key {
	__u64 start_ns; /* its thread group leader's start, CLOCK_BOOTTIME */
	__u32 pid;
	__u32 type; /* enum record_type */
};

struct process_loss {
	__u64 count;
	__u64 exec_id;	     /* the task's self_exec_id at its last loss: comm is that image's */
	char comm[COMM_LEN]; /* the task's name then (a setpriv's before it ran its program) */
};

/*
 * Per CPU, for the two programs on inet_sock_set_state (bpf/tcp.bpf.c): the
 * second takes the state changes the kernel skips for the first.
 */
struct state_change_cpu {
	__u32 running; /* tcp_state_change runs on this CPU */
	__u32 pad;
	__u64 nested; /* state changes tcp_state_change_nested took */
};

/* Processes whose losses are counted at once; the others' go unattributed. */
#define LOSS_PROCESSES 1024

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
	__u32 netns;  /* the socket's network namespace, or the segment's device's */
	__u32 pad;
	struct stacks stacks;
};

#define RESET_NO_SOCKET	     0xffffffffu /* state: the segment matched no socket */
#define RESET_REASON_UNKNOWN 0xffffffffu /* reason: the kernel does not say (before 6.10) */

/* audit: the hook does not see cap_capable()'s opts; the recorder derives it from the frames. */
#define CAPABLE_AUDIT_FROM_STACK (-1)
#define CAPABLE_DENIES_UNKNOWN	 (-1)

/*
 * A capability check's call path, cheaply: the words of the kernel stack
 * just above the tracepoint's arguments that point into kernel text (return
 * addresses, mostly), with their positions.  Two checks with the same
 * call_path came through the same return addresses at the same places, so
 * through the same callers as far as it reaches (bpf/capable.bpf.c).
 */
#define CALL_PATH_WINDOW_WORDS 32 /* words of the stack looked at: a bit each in positions */
/*
 * Text words kept, the nearest first: cap_capable()'s return address, then
 * its callers' up to the requester, most often the third.  Not more: farther
 * up, the large frames of the syscall path keep stale return addresses in
 * slots they do not use, which change from one call to the next.
 */
#define CALL_PATH_WORDS 4

struct call_path {
	__u64 positions; /* bit i: words[] holds the stack word i above the arguments */
	__u64 words[CALL_PATH_WORDS];
};

struct capable_record {
	struct record_header hdr;
	struct task_ctx task;
	__s32 cap;
	__s32 ret;	    /* 0 allowed, -EPERM denied */
	__u32 userns_level; /* level of the target user namespace; 0 is the initial one */
	/*
	 * 1 audited, 0 not, as cap_capable()'s opts say or as learned for the
	 * check's call path; CAPABLE_AUDIT_FROM_STACK: derive it from the frames.
	 */
	__s32 audit;
	__u32 has_path; /* a struct call_path follows the AUDIT_STACK_DEPTH frames' room */
	/*
	 * 1 when a refusal denies what was asked, as learned for the call path
	 * (only paths whose requester denies are learned);
	 * CAPABLE_DENIES_UNKNOWN: derive it from the frames, or not known.
	 */
	__s32 denies;
	struct stacks stacks; /* kernel frames, when audit is CAPABLE_AUDIT_FROM_STACK */
};

/*
 * A connection the kernel established for a listener, which no process
 * accepted before it closed: what a connect scan leaves on an open port.
 */
struct unaccepted_record {
	struct record_header hdr; /* ts_ns: when it closed */
	__u64 established_ns;
	struct tcp_tuple tuple;
	__u32 old_state; /* the state it closed from: ESTABLISHED, CLOSE_WAIT... */
	__u32 error;	 /* sk_err then: ECONNRESET for a RST received */
	__u32 netns;	 /* the socket's network namespace inode number */
	__u32 pad;
};

/*
 * A TCP socket reached CLOSE: how long it lived, what it carried, the state
 * it closed from (which tells who closed first), and the process in whose
 * context it closed, if any.  Listeners are not connections: left out.
 */
struct close_record {
	struct record_header hdr; /* ts_ns: when it closed */
	struct task_ctx task;	  /* in process context only (hdr.has_task) */
	struct tcp_tuple tuple;
	__u64 start_ns;	      /* established, or connect() began (established 0); 0: unknown */
	__u64 bytes_acked;    /* payload sent and acknowledged by the peer (no SYN, no FIN) */
	__u64 bytes_received; /* payload received in order (no FIN) */
	__u32 segs_in, segs_out;
	__u32 retransmits; /* total_retrans */
	__u32 old_state;   /* the state it closed from */
	__u32 error;	   /* sk_err then: ECONNRESET for a RST received */
	__u8 established;  /* start_ns is when it was established */
	__u8 pad[3];
	__u32 netns; /* the socket's network namespace inode number */
	__u32 pad2;
};

/* Exec: bounded copies; a cut is flagged, never silent. */
#define EXE_PATH_MAX	  1024 /* bytes of the executable's path kept, from its end */
#define EXE_NAME_MAX	  255  /* a path component, as NAME_MAX */
#define EXEC_ARGS_MAX	  512  /* bytes of the command line kept */
#define EXEC_FILENAME_MAX 256  /* bytes of the name given to execve() kept */

struct exec_record {
	struct record_header hdr;
	struct task_ctx task; /* after the exec: the new comm */
	__u64 exe_ino;	      /* the executable's inode and device, to tell it was replaced */
	__u32 exe_dev;
	__u16 exe_offset;   /* the path is exe[exe_offset..EXE_PATH_MAX): built from its end */
	__u8 exe_truncated; /* the path was longer or deeper than kept: its front is missing */
	__u8 args_truncated;
	__u16 args_len;	    /* bytes of args: arguments each ended by a NUL */
	__u16 filename_len; /* bytes of filename, its NUL included */
	__u32 pad;
	char exe[EXE_PATH_MAX + EXE_NAME_MAX + 1]; /* the slack keeps writes in bounds */
	char filename[EXEC_FILENAME_MAX];
	char args[EXEC_ARGS_MAX];
	/* What the new image's standard streams (fds 0, 1, 2) are: enum stream_kind. */
	__u8 streams[3];
	__u8 stream_tcp; /* 1 + the first of them that is a TCP socket; 0: none is */
	__u32 pad2;
	struct tcp_tuple stream_tuple; /* that socket's four-tuple */
	/*
	 * Each stream's pipe: the inode its two ends share (a FIFO's own); 0
	 * when it is no pipe.  A shell writing into the pipe another process
	 * reads is one pipeline, whatever their parents.
	 */
	__u64 stream_pipe[3];
	/* The parent's first established TCP connection (describe_parent_connection). */
	struct tcp_tuple parent_tuple;
	__u8 parent_tcp; /* 1: parent_tuple is one */
	__u8 pad3[7];
};

/* The parent's fds searched for a TCP connection, from 0: a relay holds few. */
#define PARENT_FDS_MAX 64

/* What a standard stream of an exec is (0: not read). */
enum stream_kind {
	STREAM_CLOSED = 1,
	STREAM_TTY,    /* a terminal: a tty, the console, a pseudo-terminal */
	STREAM_PIPE,   /* a pipe or FIFO */
	STREAM_FILE,   /* a regular file or a directory */
	STREAM_DEVICE, /* another device: /dev/null... */
	STREAM_UNIX,   /* a UNIX socket (a socketpair too) */
	STREAM_TCP,    /* a TCP socket over IPv4 or IPv6 */
	STREAM_SOCKET, /* another socket */
	STREAM_OTHER,  /* anything else (an eventfd, an anonymous inode...) */
};

struct fork_record {
	struct record_header hdr;
	struct task_ctx task; /* the parent */
	__u64 child_start_ns;
	__u32 child_pid;
	__u32 pad;
};

struct exit_record {
	struct record_header hdr;
	struct task_ctx task;
	__s32 exit_code;   /* as wait() reports it: status << 8, or the signal */
	__s32 exe_deleted; /* its executable had no name left: 1, 0, or -1 unknown */
};

/* DNS responses: up to this much of the message, from the UDP payload. */
#define DNS_MESSAGE_MAX 1024

struct dns_record {
	struct record_header hdr;
	__u16 len;	/* bytes of message kept */
	__u8 truncated; /* the message was longer */
	__u8 pad[5];
	__u8 message[DNS_MESSAGE_MAX];
};

#endif /* CASEFILE_BPF_CASEFILE_H */
