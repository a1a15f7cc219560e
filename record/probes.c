/* The kernel side of recording: check, load, attach, count losses. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "casefile.skel.h"
#include "mechanisms.h"
#include "privileges.h"
#include "probes.h"
#include "procinfo.h"
#include "queue.h"
#include "ring.h"
#include "util.h"

/*
 * How long records may wait in the ring buffer: the programs do not wake the
 * recorder per record (wake_flags() in bpf/common.bpf.h), only the record
 * taking a ring past a quarter, which is what a burst into a small ring
 * relies on (-b 256K fills in 20 ms at 40,000 connections a second); the
 * default 16 MiB ring takes 100 ms of a million records a second.  Each
 * wake-up costs the real-time reader a switch, some 40 us on a paravirtual
 * host: every 5 ms, they were a fifth of the recorder's CPU under the churn
 * (bench).
 */
#define POLL_INTERVAL_MS 20

/*
 * The writer's wait for the queue at most: the reader wakes it when it
 * queues records; the wait bounds how late a signal or a commit is seen.
 */
#define QUEUE_WAIT_MS 10

/*
 * What each kind may hold in the queue between the ring-reading thread and
 * the writer (record/queue.h): what its ring leaves of KIND_BUFFER, the two
 * together, so that a small ring (-b) still outlasts a commit and checkpoint
 * under a flood; and MIN_QUEUE_PER_KIND at least.  A kind whose ring is as
 * large (capable's, 16M by default) has most of its buffer in the kernel
 * already, where its records wait while the writer catches up: the queue
 * adds half again, for the one-core storm's commits and checkpoints.  The
 * queue is the recorder's own memory, which a storm that outruns the writer
 * fills: 8 MiB of checks then, not 16.  A limit (--max-size, --max-events)
 * may be passed by what the rings and the queue hold when it is reached.
 */
#define KIND_BUFFER	   (16u << 20)
#define MIN_QUEUE_PER_KIND (8u << 20)

/*
 * The reading thread's scheduling: the lowest real-time priority, round
 * robin, so that it runs as soon as it wakes whatever the host's load
 * (auditd boosts itself for the same reason); else nice -10.  At nice -10
 * a host at load 16 (2 cores, the ASan build beside two floods) kept it
 * waiting to run for up to 157 ms, 17 times over 32 ms, in one run of
 * the 20,000 connections at once, where a 256K ring lasts 30 ms.  The
 * thread cannot hold a core: it reads a kind only while the kind has room
 * in the queue, which the writer (not real-time) makes.
 */
#define READER_RT_PRIORITY 1
#define READER_NICE	   (-10)

/*
 * Without -b, the ring of each kind but capable (-b's default, 16M): none
 * of them comes near a capability storm's rate, which any user can make,
 * and a ring's pages are the kernel's from load to exit.  The ring need
 * only outlast the reading thread's wake-up: its queue (KIND_BUFFER less
 * the ring) outlasts the writer's commits.  Each lap of a ring brings its
 * lines back into the recording CPU's cache, a miss per line for the
 * programs: with 4M rings the churn's programs took a fifth longer than with
 * 1M (bench/RESULTS.md).
 */
#define DEFAULT_KIND_RING (1u << 20)

/*
 * Records taken from one ring before the next ring's turn.  A ring is read
 * until it is found empty, which under a flood is never: each ring's turn
 * is cut short so that a flood of one kind delays the
 * others by this much at most, not for as long as the flood lasts.
 */
#define RECORDS_PER_TURN 1024
#define TURN_OVER	 (-EAGAIN) /* from the callback: this ring's turn is over */

/* One kind's ring buffer, read in turns. */
struct ring_reader {
	struct probes *probes;
	struct ring *ring;
	int kind;
	unsigned left; /* records still to take in this turn */
};

struct probes {
	struct casefile_bpf *skel;
	struct ring_reader readers[KINDS]; /* of the kinds recorded, nreaders of them */
	int nreaders;
	int epoll_fd; /* every reader's ring: wakes the reading thread */
	struct record_queue *queue;
	pthread_t reading_thread;
	bool reading; /* the thread runs */
	atomic_bool stop_reading;
	atomic_int read_error; /* what stopped the thread: a negative errno */
	ring_buffer_sample_fn on_record;
	void *ctx;
	struct mechanisms mechanisms;
	int dns_socket;		   /* the packet socket the DNS filter runs on, or -1 */
	struct bpf_link *dns_link; /* the DNS program's on the cgroup v2 root, or NULL */
	const char *cgroup2_root;  /* where cgroup v2 is mounted, for the DNS program */
	unsigned kinds;
};

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
 * Mount a file system of the kernel's where the host has none, in a mount
 * namespace of our own, so that the host's mount table is left as it was.
 */
static int mount_privately(const char *type, const char *dir)
{
	static bool private;

	if (!private &&
	    (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))) {
		fprintf(stderr, "record: cannot make a private mount namespace for %s: %s\n", type,
			strerror(errno));
		return -1;
	}
	private = true;
	if (mount(type, dir, type, 0, NULL)) {
		fprintf(stderr, "record: cannot mount %s on %s: %s\n", type, dir, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Classic tracepoints (the accept syscalls) are found through tracefs, which a
 * fresh machine may not have mounted.
 */
static int ensure_tracefs(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	return mount_privately("tracefs", "/sys/kernel/tracing");
}

/*
 * Whether dir is where the cgroup v2 hierarchy begins, not a subtree bound
 * there: its file handle is its cgroup's id, and the root's is 1.
 */
static bool is_cgroup_root(const char *dir)
{
	union {
		struct file_handle handle;
		char bytes[sizeof(struct file_handle) + sizeof(uint64_t)];
	} fh = {.handle.handle_bytes = sizeof(uint64_t)};
	uint64_t id;
	int mount_id;

	if (name_to_handle_at(AT_FDCWD, dir, &fh.handle, &mount_id, 0) ||
	    fh.handle.handle_bytes != sizeof(id))
		return false;
	memcpy(&id, fh.handle.f_handle, sizeof(id));
	return id == 1;
}

/*
 * The DNS program goes on the cgroup v2 root, where every socket's cgroup
 * descends from.  A host without it mounted (a fresh machine, a kernel
 * test's), or with a subtree only, has it mounted for the recorder alone,
 * while it has one thread: unshare() wants that.  (In the host's cgroup
 * namespace, as mechanisms.c made sure: a mount there is the root.)
 */
static int ensure_cgroup2(struct probes *probes)
{
	const char *mounted = cgroup2_mount();

	if (*mounted && is_cgroup_root(mounted)) {
		probes->cgroup2_root = mounted;
		return 0;
	}
	probes->cgroup2_root = "/sys/fs/cgroup";
	return mount_privately("cgroup2", probes->cgroup2_root);
}

/*
 * The kinds of opts this kernel can record, and how; with -e, each kind asked
 * for must be recordable, else only the default's can be left out.
 */
static int choose_mechanisms(struct probes *probes, struct record_options *opts)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	unsigned kinds;

	if (!vmlinux) {
		fprintf(stderr, "record: cannot read this kernel's BTF: %s\n", strerror(errno));
		return -1;
	}
	kinds = mechanisms_choose(vmlinux, opts->kinds, &probes->mechanisms);
	btf__free(vmlinux);
	if (!kinds || (kinds != opts->kinds && opts->kinds_given))
		return -1;
	opts->kinds = kinds;
	opts->kernel_stack_types &= record_types(kinds);
	opts->user_stack_types &= record_types(kinds);
	probes->kinds = kinds;
	return 0;
}

/* The ring buffer of a kind (by its index): ring_CONNECT... in bpf/common.bpf.h. */
static struct bpf_map *kind_ring(const struct casefile_bpf *skel, int kind)
{
	static const char *const names[KINDS] = {
#define KIND(name, NAME, ...) "ring_" #NAME,
#include "kinds.def"
	};

	return bpf_object__find_map_by_name(skel->obj, names[kind]);
}

/*
 * Each kind's ring size, as libbpf rounded it, to its programs before load:
 * a constant spares a bpf_ringbuf_query() a record (their wake-up
 * threshold is a quarter of it).
 */
static void tell_ring_sizes(struct casefile_bpf *skel)
{
#define KIND(name, NAME, ...)                                                                      \
	skel->rodata->ring_bytes_##NAME = bpf_map__max_entries(skel->maps.ring_##NAME);
#include "kinds.def"
}

static int load(struct probes *probes, const struct record_options *opts)
{
	struct casefile_bpf *skel = casefile_bpf__open();
	int err;

	if (!skel) {
		fprintf(stderr, "record: cannot open the BPF programs: %s\n", strerror(errno));
		return -1;
	}
	probes->skel = skel;
	skel->rodata->recorder_tgid = (__u32)getpid();
	skel->rodata->filter_tgid = opts->filter_pid < 0 ? 0 : (__u32)opts->filter_pid;
	skel->rodata->filter_uid = opts->filter_uid < 0 ? (__u32)-1 : (__u32)opts->filter_uid;
	skel->rodata->recorded_types = record_types(opts->kinds);
	skel->rodata->kernel_stack_types = opts->kernel_stack_types;
	skel->rodata->user_stack_types = opts->user_stack_types;
	/* A capability check taking stacks takes its kernel frames: AUDIT may need them. */
	if (opts->user_stack_types & (1u << RECORD_CAPABLE))
		skel->rodata->kernel_stack_types |= 1u << RECORD_CAPABLE;
	for (int k = 0; k < KINDS; k++)
		if (opts->kinds & (1u << k))
			bpf_map__set_max_entries(kind_ring(skel, k),
						 opts->ring_buffer_given || k == KIND_INDEX_CAPABLE
							 ? opts->ring_buffer_bytes
							 : DEFAULT_KIND_RING);
	tell_ring_sizes(skel);
	if (!(opts->kinds & KIND_CONNECT))
		bpf_map__set_max_entries(skel->maps.connects_in_flight, 1);
	if (!(opts->kinds & KIND_ACCEPT))
		bpf_map__set_max_entries(skel->maps.unaccepted, 1);
	if (!(opts->kinds & KIND_CLOSE))
		bpf_map__set_max_entries(skel->maps.lives, 1);
	if (mechanisms_select(skel->obj, &probes->mechanisms))
		return -1;
	err = casefile_bpf__load(skel);
	if (err) {
		/* EPERM: privileges; EACCES and others: the verifier said no. */
		fprintf(stderr, "record: cannot load the BPF programs: %s%s\n", strerror(-err),
			err == -EPERM
				? " (run as root: needs CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)"
				: " (CASEFILE_DEBUG=1 shows the kernel's log)");
		return -1;
	}
	return 0;
}

struct probes *probes_load(struct record_options *opts)
{
	struct probes *probes;

	libbpf_set_print(libbpf_print);
	if (check_btf() || ((opts->kinds & KIND_ACCEPT) && ensure_tracefs()))
		return NULL;
	probes = xcalloc(1, sizeof(*probes));
	probes->dns_socket = -1;
	probes->epoll_fd = -1;
	if (choose_mechanisms(probes, opts) ||
	    (mechanism_runs(probes->mechanisms.of[KIND_INDEX_DNS], "dns_response_delivered") &&
	     ensure_cgroup2(probes)) ||
	    load(probes, opts)) {
		probes_free(probes);
		return NULL;
	}
	return probes;
}

const char *probes_mechanism(const struct probes *probes, unsigned kind)
{
	const struct mechanism *m = probes->mechanisms.of[__builtin_ctz(kind)];

	return m ? mechanism_name(m) : NULL;
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
		fprintf(stderr, "record: cannot attach the DNS filter to a packet socket: %s%s\n",
			strerror(errno), errno == EPERM ? " (needs CAP_NET_RAW)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	probes->dns_socket = fd;
	return 0;
}

/*
 * A link, which the kernel detaches when the recorder exits, and which adds
 * to the programs others attached there.
 */
static int attach_dns_cgroup(struct probes *probes)
{
	int fd = open(probes->cgroup2_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0)
		probes->dns_link =
			bpf_program__attach_cgroup(probes->skel->progs.dns_response_delivered, fd);
	if (fd < 0 || !probes->dns_link) {
		fprintf(stderr,
			"record: cannot attach the DNS program to the cgroup v2 root %s: %s\n",
			probes->cgroup2_root, strerror(errno));
		probes->dns_link = NULL;
	}
	if (fd >= 0)
		close(fd);
	return probes->dns_link ? 0 : -1;
}

int probes_attach(struct probes *probes)
{
	const struct mechanism *dns = probes->mechanisms.of[KIND_INDEX_DNS];
	int err = casefile_bpf__attach(probes->skel);

	if (err) {
		fprintf(stderr, "record: cannot attach the BPF programs: %s\n", strerror(-err));
		return -1;
	}
	if (mechanism_runs(dns, "dns_response_delivered"))
		return attach_dns_cgroup(probes);
	return mechanism_runs(dns, "dns_response") ? attach_dns_filter(probes) : 0;
}

void probes_detach(struct probes *probes)
{
	if (probes->dns_socket >= 0)
		close(probes->dns_socket);
	probes->dns_socket = -1;
	bpf_link__destroy(probes->dns_link);
	probes->dns_link = NULL;
	probes->epoll_fd = -1;
	casefile_bpf__detach(probes->skel);
}

/*
 * A ring's records go into the queue, RECORDS_PER_TURN at a time, and no
 * further while their kind has no room there.
 */
static int read_record(void *ctx, void *data, size_t size)
{
	struct ring_reader *reader = ctx;
	struct record_queue *queue = reader->probes->queue;

	queue_push(queue, reader->kind, data, size);
	return --reader->left && queue_has_room(queue, reader->kind) ? 0 : TURN_OVER;
}

/* What a pass over the rings found (fill_queue), the most pressing last. */
enum fill {
	RINGS_EMPTY,
	QUEUE_FULL, /* a kind may have records left, but no room in the queue */
	RINGS_MORE, /* a ring's turn ended with records left: take them now */
};

/* One turn of each ring whose kind has room in the queue, published: what it found. */
static enum fill fill_queue(struct probes *probes)
{
	enum fill found = RINGS_EMPTY;

	for (int i = 0; i < probes->nreaders; i++) {
		struct ring_reader *reader = &probes->readers[i];
		enum fill ring = QUEUE_FULL;

		if (queue_has_room(probes->queue, reader->kind)) {
			reader->left = RECORDS_PER_TURN;
			ring = ring_read(reader->ring, read_record, reader) != TURN_OVER
				       ? RINGS_EMPTY
			       : queue_has_room(probes->queue, reader->kind) ? RINGS_MORE
									     : QUEUE_FULL;
		}
		if (ring > found)
			found = ring;
	}
	queue_publish(probes->queue);
	return found;
}

/*
 * The reading thread: every POLL_INTERVAL_MS, or when a ring passes a
 * quarter full, empty the rings into the queue.  Edge-triggered: records
 * waiting in a ring do not make the wait return at once, as they would
 * each time under a storm, for a few records a pass.
 */
static void *read_rings(void *arg)
{
	struct probes *probes = arg;
	int epoll_fd = probes->epoll_fd, err = 0;
	struct sched_param rt = {.sched_priority = READER_RT_PRIORITY};

	/* Before the host's busy processes when it wakes; then it needs no privilege. */
	if (pthread_setschedparam(pthread_self(), SCHED_RR, &rt))
		(void)setpriority(PRIO_PROCESS, (id_t)gettid(), READER_NICE); /* best effort */
	if (drop_privileges(0))
		err = -EIO; /* said */
	while (!err && !atomic_load(&probes->stop_reading)) {
		struct epoll_event event;

		if (epoll_wait(epoll_fd, &event, 1, POLL_INTERVAL_MS) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		while (fill_queue(probes) == RINGS_MORE && !atomic_load(&probes->stop_reading))
			continue;
	}
	atomic_store(&probes->read_error, err);
	queue_wake(probes->queue); /* the writer finds the error */
	return NULL;
}

int probes_rings(struct probes *probes, ring_buffer_sample_fn fn, void *ctx)
{
	size_t queue_bytes[KINDS];

	probes->on_record = fn;
	probes->ctx = ctx;
	probes->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (probes->epoll_fd < 0) {
		fprintf(stderr, "record: cannot make an epoll instance: %s\n", strerror(errno));
		return -1;
	}
	for (int k = 0; k < KINDS; k++) {
		struct ring_reader *reader = &probes->readers[probes->nreaders];
		struct epoll_event event = {.events = EPOLLIN | EPOLLET};

		if (!(probes->kinds & (1u << k)))
			continue;
		int fd = bpf_map__fd(kind_ring(probes->skel, k));

		reader->probes = probes;
		reader->kind = k;
		reader->ring = ring_open(fd);
		if (!reader->ring || epoll_ctl(probes->epoll_fd, EPOLL_CTL_ADD, fd, &event)) {
			fprintf(stderr, "record: cannot map the ring buffer of %s: %s\n",
				kind_names[k], strerror(errno));
			return -1;
		}
		probes->nreaders++;
	}
	for (int k = 0; k < KINDS; k++) {
		size_t ring = bpf_map__max_entries(kind_ring(probes->skel, k));

		queue_bytes[k] = ring + MIN_QUEUE_PER_KIND < KIND_BUFFER ? KIND_BUFFER - ring
									 : MIN_QUEUE_PER_KIND;
	}
	probes->queue = queue_new(KINDS, queue_bytes);
	return 0;
}

int probes_start_reading(struct probes *probes)
{
	sigset_t all, before;
	int err;

	/* Signals are the main thread's: it decides when to stop. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &before);
	err = pthread_create(&probes->reading_thread, NULL, read_rings, probes);
	pthread_sigmask(SIG_SETMASK, &before, NULL);
	if (err) {
		fprintf(stderr, "record: cannot start the thread reading the ring buffers: %s\n",
			strerror(err));
		return -1;
	}
	probes->reading = true;
	return 0;
}

static void stop_reading(struct probes *probes)
{
	if (!probes->reading)
		return;
	atomic_store(&probes->stop_reading, true);
	pthread_join(probes->reading_thread, NULL);
	probes->reading = false;
}

/* The queue's records to the recorder's callback. */
static int deliver(struct probes *probes)
{
	return queue_pop(probes->queue, probes->on_record, probes->ctx);
}

int probes_drain(struct probes *probes)
{
	int err;

	stop_reading(probes);
	err = atomic_load(&probes->read_error);
	/* What the thread queued first, then the rings, until a pass finds them empty. */
	while (!err) {
		err = deliver(probes);
		if (!err && fill_queue(probes) == RINGS_EMPTY)
			return deliver(probes);
	}
	return err;
}

int probes_poll(struct probes *probes)
{
	int err = atomic_load(&probes->read_error);

	if (err)
		return err;
	queue_wait(probes->queue, QUEUE_WAIT_MS);
	return deliver(probes);
}

int probes_image_alerts_fd(const struct probes *probes)
{
	return bpf_map__fd(probes->skel->maps.image_alerts);
}

void probes_set_kernel_text(struct probes *probes, uint64_t start, uint64_t end)
{
	/* The end first: the programs take no path while the start is 0. */
	probes->skel->bss->kernel_text_end = end;
	__atomic_store_n(&probes->skel->bss->kernel_text_start, start, __ATOMIC_RELEASE);
}

int probes_audit_paths_fd(const struct probes *probes)
{
	return bpf_map__fd(probes->skel->maps.audit_by_path);
}

/*
 * Every type's counts in one system call, not one a type: the recorder
 * looks every 10 ms, and on a paravirtual host a bpf() call costs
 * microseconds (bench: the looks were a twentieth of the recorder's CPU
 * under the churn).  An array's batch is its entries in order.
 */
int probes_lost(const struct probes *probes, uint64_t lost[RECORD_TYPES])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t per_cpu[RECORD_TYPES * (ncpus > 0 ? ncpus : 1)];
	__u32 keys[RECORD_TYPES], next, count = RECORD_TYPES;
	int fd = bpf_map__fd(probes->skel->maps.lost_records);

	if (ncpus <= 0)
		return ncpus ? ncpus : -EINVAL;
	if (bpf_map_lookup_batch(fd, NULL, &next, keys, per_cpu, &count, NULL) && errno != ENOENT)
		return -errno;
	/* A count not read is unknown, never 0. */
	if (count != RECORD_TYPES)
		return -EIO;
	for (__u32 i = 0; i < RECORD_TYPES; i++) {
		if (keys[i] != i)
			return -EIO;
		lost[i] = 0;
		for (int cpu = 0; cpu < ncpus; cpu++)
			lost[i] += per_cpu[i * (__u32)ncpus + (__u32)cpu];
	}
	return 0;
}

/* State changes tcp_state_change_nested took, on every CPU (bpf/tcp.bpf.c). */
static uint64_t nested_state_changes(const struct probes *probes)
{
	int ncpus = libbpf_num_possible_cpus();
	struct state_change_cpu per_cpu[ncpus > 0 ? ncpus : 1];
	uint32_t zero = 0;
	uint64_t nested = 0;

	if (ncpus > 0 &&
	    !bpf_map_lookup_elem(bpf_map__fd(probes->skel->maps.state_change_cpus), &zero, per_cpu))
		for (int cpu = 0; cpu < ncpus; cpu++)
			nested += per_cpu[cpu].nested;
	return nested;
}

_Static_assert(sizeof(((struct casefile_bpf *)0)->progs) / sizeof(struct bpf_program *) <=
		       PROBE_PROGRAMS,
	       "a place for each program's skipped runs");

void probes_skipped(const struct probes *probes, struct skipped_runs *out)
{
	struct bpf_program *prog;
	size_t i = 0;

	*out = (struct skipped_runs){0};
	bpf_object__for_each_program(prog, probes->skel->obj)
	{
		const char *name = bpf_program__name(prog);
		struct bpf_prog_info info = {0};
		uint32_t len = sizeof(info);
		uint64_t *skipped = &out->runs[i++];

		/* The nested program's own skipped runs are the first one's, which took them. */
		if (bpf_program__fd(prog) < 0 || strstr(name, "_nested") ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		*skipped = info.recursion_misses;
		if (!strncmp(name, "tcp_state_change", strlen("tcp_state_change"))) {
			uint64_t nested = nested_state_changes(probes);

			*skipped = *skipped > nested ? *skipped - nested : 0;
		}
	}
}

const char *probes_program(const struct probes *probes, size_t i, char *kinds, size_t size)
{
	struct bpf_program *prog;
	unsigned mask = 0;
	const char *name;

	bpf_object__for_each_program(prog, probes->skel->obj) if (!i--) break;
	name = bpf_program__name(prog);
	for (unsigned k = 0; k < KINDS; k++)
		if (mechanism_runs(probes->mechanisms.of[k], name))
			mask |= 1u << k;
	kinds_to_string(mask, kinds, size);
	return name;
}

void probes_tell_skipped(const struct probes *probes)
{
	struct skipped_runs skipped;
	char kinds[64];

	probes_skipped(probes, &skipped);
	for (size_t i = 0; i < PROBE_PROGRAMS; i++)
		if (skipped.runs[i])
			fprintf(stderr,
				"record: the kernel skipped %llu runs of %s, each for an event "
				"that came while it ran on the same CPU: their records are "
				"missing\n",
				(unsigned long long)skipped.runs[i],
				probes_program(probes, i, kinds, sizeof(kinds)));
}

int probes_process_losses_fd(const struct probes *probes)
{
	return bpf_map__fd(probes->skel->maps.lost_by_process);
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
	stop_reading(probes);
	queue_free(probes->queue);
	for (int i = 0; i < probes->nreaders; i++)
		ring_close(probes->readers[i].ring);
	if (probes->epoll_fd >= 0)
		close(probes->epoll_fd);
	if (probes->dns_socket >= 0)
		close(probes->dns_socket);
	bpf_link__destroy(probes->dns_link);
	casefile_bpf__destroy(probes->skel);
	free(probes);
}
