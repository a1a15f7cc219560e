/* The kernel side of recording: check, load, attach, count losses. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "casefile.skel.h"
#include "probes.h"
#include "util.h"

/*
 * How long records may wait in the ring buffer: the programs do not wake the
 * recorder per record (wake_flags() in bpf/common.bpf.h).  Short enough that
 * the default 16 MiB ring cannot fill meanwhile even at a million records a
 * second; a record taking the ring past a quarter wakes the recorder early.
 */
#define POLL_INTERVAL_MS 10

struct probes {
	struct casefile_bpf *skel;
	struct ring_buffer *ring;
	int dns_socket; /* the packet socket the DNS filter runs on, or -1 */
	unsigned kinds;
};

/*
 * What each -e kind needs of the kernel, looked for when loading fails: the
 * BTF-typed tracepoints it hooks (a btf_trace_* type proves one exists), and
 * the TCP kinds' kfunc.  The accept syscall tracepoints are classic ones,
 * found through tracefs.
 */
static const struct kind_probe {
	unsigned kinds;
	const char *name;  /* in the kernel's BTF */
	int btf_kind;	   /* BTF_KIND_TYPEDEF for a tracepoint, BTF_KIND_FUNC for a kfunc */
	const char *needs; /* for the error message */
} kind_probes[] = {
	{KIND_CONNECT | KIND_ACCEPT | KIND_CLOSE, "btf_trace_inet_sock_set_state", BTF_KIND_TYPEDEF,
	 "the tracepoint sock:inet_sock_set_state (Linux 4.16+)"},
	{KIND_RESET, "btf_trace_tcp_send_reset", BTF_KIND_TYPEDEF,
	 "the tracepoint tcp:tcp_send_reset"},
	{KIND_CONNECT | KIND_ACCEPT | KIND_RESET, "bpf_rdonly_cast", BTF_KIND_FUNC,
	 "the kfunc bpf_rdonly_cast (Linux 6.2+)"},
	{KIND_CAPABLE, "btf_trace_cap_capable", BTF_KIND_TYPEDEF,
	 "the tracepoint capability:cap_capable (Linux 6.14+)"},
	{KIND_PROCESS, "btf_trace_sched_process_exec", BTF_KIND_TYPEDEF,
	 "the tracepoint sched:sched_process_exec"},
};

/* Load only the programs of the kinds asked for. */
static void select_programs(struct casefile_bpf *skel, unsigned kinds)
{
	bpf_program__set_autoload(skel->progs.tcp_state_change,
				  kinds & (KIND_CONNECT | KIND_ACCEPT | KIND_CLOSE));
	bpf_program__set_autoload(skel->progs.accept4_exit, kinds & KIND_ACCEPT);
	bpf_program__set_autoload(skel->progs.accept_exit, kinds & KIND_ACCEPT);
	bpf_program__set_autoload(skel->progs.tcp_reset_sent, kinds & KIND_RESET);
	bpf_program__set_autoload(skel->progs.capability_check, kinds & KIND_CAPABLE);
	bpf_program__set_autoload(skel->progs.process_exec, kinds & KIND_PROCESS);
	bpf_program__set_autoload(skel->progs.process_fork, kinds & KIND_PROCESS);
	bpf_program__set_autoload(skel->progs.process_exit, kinds & KIND_PROCESS);
	bpf_program__set_autoload(skel->progs.dns_response, kinds & KIND_DNS);
	if (!(kinds & KIND_CONNECT))
		bpf_map__set_max_entries(skel->maps.connects_in_flight, 1);
	if (!(kinds & KIND_ACCEPT))
		bpf_map__set_max_entries(skel->maps.unaccepted, 1);
	if (!(kinds & KIND_CLOSE))
		bpf_map__set_max_entries(skel->maps.lives, 1);
}

/* libbpf's own messages only with CASEFILE_DEBUG set: we say what failed. */
static int libbpf_print(enum libbpf_print_level level, const char *format, va_list args)
{
	(void)level;
	return getenv("CASEFILE_DEBUG") ? vfprintf(stderr, format, args) : 0;
}

/* Without BTF nothing can load: say so before trying. */
static int check_btf(void)
{
	if (!access("/sys/kernel/btf/vmlinux", R_OK))
		return 0;
	fprintf(stderr,
		"record: this kernel has no BTF (/sys/kernel/btf/vmlinux: %s); "
		"Casefile needs CONFIG_DEBUG_INFO_BTF=y\n",
		strerror(errno));
	return -1;
}

/*
 * After a failed load, name what this kernel lacks, if that is the cause;
 * false if it is not.  Only then: parsing the kernel's BTF costs tens
 * of milliseconds, and libbpf parses it anyway for a load that succeeds.
 */
static bool explain_missing_support(unsigned kinds)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool explained = false;

	for (size_t i = 0; vmlinux && i < ARRAY_SIZE(kind_probes) && !explained; i++) {
		const struct kind_probe *p = &kind_probes[i];

		if ((kinds & p->kinds) &&
		    btf__find_by_name_kind(vmlinux, p->name, p->btf_kind) < 0) {
			fprintf(stderr,
				"record: this kernel lacks %s; leave that kind out with -e\n",
				p->needs);
			explained = true;
		}
	}
	btf__free(vmlinux);
	return explained;
}

/*
 * Classic tracepoints (the accept syscalls) are found through tracefs, which a
 * fresh machine may not have mounted.  Mount it in a mount namespace of our
 * own, so that the host's mount table is left as it was.
 */
static int ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events/syscalls", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events/syscalls", F_OK))
		return 0;
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "record: cannot make a private mount namespace for tracefs: %s\n",
			strerror(errno));
		return -1;
	}
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL) ||
	    access("/sys/kernel/tracing/events/syscalls", F_OK)) {
		fprintf(stderr, "record: cannot mount tracefs on /sys/kernel/tracing: %s\n",
			strerror(errno));
		return -1;
	}
	return 0;
}

struct probes *probes_load(const struct record_options *opts)
{
	struct probes *probes;
	struct casefile_bpf *skel;
	int err;

	libbpf_set_print(libbpf_print);
	if (check_btf() || ((opts->kinds & KIND_ACCEPT) && ensure_tracefs()))
		return NULL;
	skel = casefile_bpf__open();
	if (!skel) {
		fprintf(stderr, "record: cannot open the BPF programs: %s\n", strerror(errno));
		return NULL;
	}
	skel->rodata->recorder_tgid = (__u32)getpid();
	skel->rodata->filter_tgid = opts->filter_pid < 0 ? 0 : (__u32)opts->filter_pid;
	skel->rodata->filter_uid = opts->filter_uid < 0 ? (__u32)-1 : (__u32)opts->filter_uid;
	skel->rodata->recorded_types = record_types(opts->kinds);
	skel->rodata->kernel_stack_types = opts->kernel_stack_types;
	skel->rodata->user_stack_types = opts->user_stack_types;
	/* A capability check taking stacks takes its kernel frames: AUDIT needs them. */
	if (opts->user_stack_types & (1u << RECORD_CAPABLE))
		skel->rodata->kernel_stack_types |= 1u << RECORD_CAPABLE;
	bpf_map__set_max_entries(skel->maps.events, opts->ring_buffer_bytes);
	select_programs(skel, opts->kinds);
	err = casefile_bpf__load(skel);
	if (err && explain_missing_support(opts->kinds)) {
		casefile_bpf__destroy(skel);
		return NULL;
	}
	if (err) {
		/* EPERM: privileges; EACCES and others: the verifier said no. */
		fprintf(stderr, "record: cannot load the BPF programs: %s%s\n", strerror(-err),
			err == -EPERM
				? " (run as root: needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)"
				: " (CASEFILE_DEBUG=1 shows the kernel's log)");
		casefile_bpf__destroy(skel);
		return NULL;
	}
	probes = xcalloc(1, sizeof(*probes));
	probes->skel = skel;
	probes->dns_socket = -1;
	probes->kinds = opts->kinds;
	return probes;
}

/*
 * The DNS filter runs on every packet a packet socket of ours would receive:
 * all interfaces of the host's network namespace, loopback included.  It
 * keeps nothing on the socket, only records in the ring buffer.  Responses
 * are received packets: ignoring outgoing ones keeps the socket off the
 * transmit path, where a packet tap would clone every packet sent (the cost
 * tcpdump pays).
 */
static int attach_dns_filter(struct probes *probes)
{
	int prog = bpf_program__fd(probes->skel->progs.dns_response), on = 1;
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof(on)) ||
	    setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &prog, sizeof(prog))) {
		fprintf(stderr, "record: cannot attach the DNS filter to a packet socket: %s\n",
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	probes->dns_socket = fd;
	return 0;
}

int probes_attach(struct probes *probes)
{
	int err = casefile_bpf__attach(probes->skel);

	if (err) {
		fprintf(stderr, "record: cannot attach the BPF programs: %s\n", strerror(-err));
		return -1;
	}
	return (probes->kinds & KIND_DNS) ? attach_dns_filter(probes) : 0;
}

void probes_detach(struct probes *probes)
{
	if (probes->dns_socket >= 0)
		close(probes->dns_socket);
	probes->dns_socket = -1;
	casefile_bpf__detach(probes->skel);
}

struct ring_buffer *probes_ring_buffer(struct probes *probes, ring_buffer_sample_fn fn, void *ctx)
{
	probes->ring = ring_buffer__new(bpf_map__fd(probes->skel->maps.events), fn, ctx, NULL);
	if (!probes->ring)
		fprintf(stderr, "record: cannot map the ring buffer: %s\n", strerror(errno));
	return probes->ring;
}

int probes_poll(struct probes *probes)
{
	int err = ring_buffer__poll(probes->ring, POLL_INTERVAL_MS);

	/* On a timeout poll consumes nothing: take what arrived without a wake-up. */
	return err < 0 ? err : ring_buffer__consume(probes->ring);
}

int probes_image_alerts_fd(const struct probes *probes)
{
	return bpf_map__fd(probes->skel->maps.image_alerts);
}

int probes_lost(const struct probes *probes, uint64_t lost[RECORD_TYPES])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t per_cpu[ncpus > 0 ? ncpus : 1];
	int fd = bpf_map__fd(probes->skel->maps.lost_records);

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	for (__u32 type = 0; type < RECORD_TYPES; type++) {
		/* A count not read is unknown, never 0. */
		if (bpf_map_lookup_elem(fd, &type, per_cpu))
			return -errno;
		lost[type] = 0;
		for (int cpu = 0; cpu < ncpus; cpu++)
			lost[type] += per_cpu[cpu];
	}
	return 0;
}

int probes_each_reset_reason(int (*fn)(void *ctx, int64_t value, const char *name), void *ctx)
{
	static const char prefix[] = "SK_RST_REASON_";
	struct btf *vmlinux = btf__load_vmlinux_btf();
	const struct btf_type *type;
	int id, err = 0;

	if (!vmlinux)
		return 0;
	id = btf__find_by_name_kind(vmlinux, "sk_rst_reason", BTF_KIND_ENUM);
	type = id < 0 ? NULL : btf__type_by_id(vmlinux, id);
	for (int i = 0; type && i < btf_vlen(type) && !err; i++) {
		const struct btf_enum *e = btf_enum(type) + i;
		const char *name = btf__name_by_offset(vmlinux, e->name_off);

		if (!strncmp(name, prefix, sizeof(prefix) - 1))
			name += sizeof(prefix) - 1;
		err = fn(ctx, e->val, name);
	}
	btf__free(vmlinux);
	return err;
}

void probes_free(struct probes *probes)
{
	if (!probes)
		return;
	ring_buffer__free(probes->ring);
	if (probes->dns_socket >= 0)
		close(probes->dns_socket);
	casefile_bpf__destroy(probes->skel);
	free(probes);
}
