/* How each kind is recorded on the running kernel: its alternatives, and the choice. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "mechanisms.h"
#include "util.h"

enum need_type {
	NEED_TRACEPOINT,  /* hookable with BTF types (tp_btf): the typedef btf_trace_NAME */
	NEED_KFUNC,	  /* a kfunc, in BTF */
	NEED_FUNCTION,	  /* a function in BTF: the kernel was built with what has it */
	NEED_FENTRY,	  /* a function in BTF that a program may attach to at entry */
	NEED_FEXIT,	  /* ... or at exit */
	NEED_HELPER,	  /* a BPF helper: BPF_FUNC_NAME in enum bpf_func_id */
	NEED_MAP_TYPE,	  /* BPF_MAP_TYPE_NAME in enum bpf_map_type */
	NEED_EVENT,	  /* a classic tracepoint, in tracefs: events/NAME */
	NEED_CGROUP_ROOT, /* the cgroup v2 root in reach: the file system, the host's namespace */
};

struct need {
	enum need_type type;
	const char *name;
	int args;	  /* NEED_TRACEPOINT: exactly this many arguments; 0: any */
	const char *what; /* what the kernel lacks, then: versions only inform */
};

#define MECHANISM_PROGRAMS 4
#define MECHANISM_NEEDS	   6

struct mechanism {
	const char *name;			       /* as the capture records it */
	const char *programs[MECHANISM_PROGRAMS];      /* in bpf/, by name */
	const struct need *needs[MECHANISM_NEEDS + 1]; /* up to a NULL */
};

/* What every kind needs: records go through a BPF ring buffer. */
static const struct need ring_buffer = {NEED_MAP_TYPE, "RINGBUF", 0,
					"BPF ring buffers (Linux 5.8+)"};
static const struct need boot_clock = {NEED_HELPER, "ktime_get_boot_ns", 0,
				       "the helper bpf_ktime_get_boot_ns (Linux 5.8+)"};
static const struct need *const floor_needs[] = {&ring_buffer, &boot_clock, NULL};

static const struct need task_btf = {NEED_HELPER, "get_current_task_btf", 0,
				     "the helper bpf_get_current_task_btf (Linux 5.11+)"};
static const struct need rdonly_cast = {NEED_KFUNC, "bpf_rdonly_cast", 0,
					"the kfunc bpf_rdonly_cast (Linux 6.2+)"};
static const struct need irq_save = {NEED_KFUNC, "bpf_local_irq_save", 0,
				     "the kfunc bpf_local_irq_save (Linux 6.14+)"};
static const struct need set_state = {NEED_TRACEPOINT, "inet_sock_set_state", 0,
				      "the tracepoint sock:inet_sock_set_state (Linux 4.16+)"};
static const struct need accept4_exit = {
	NEED_EVENT, "syscalls/sys_exit_accept4", 0,
	"the tracepoint syscalls:sys_exit_accept4 (CONFIG_FTRACE_SYSCALLS)"};
static const struct need accept_exit = {
	NEED_EVENT, "syscalls/sys_exit_accept", 0,
	"the tracepoint syscalls:sys_exit_accept (CONFIG_FTRACE_SYSCALLS)"};
static const struct need csk_accept = {NEED_FEXIT, "inet_csk_accept", 0,
				       "fexit on inet_csk_accept"};
static const struct need func_ret = {NEED_HELPER, "get_func_ret", 0,
				     "the helper bpf_get_func_ret (Linux 5.17+)"};
static const struct need send_reset = {NEED_TRACEPOINT, "tcp_send_reset", 0,
				       "the tracepoint tcp:tcp_send_reset (Linux 4.15+)"};
/* With its reason (6.10+), the tracepoint fires for every reset, not full sockets' alone. */
static const struct need send_every_reset = {
	NEED_TRACEPOINT, "tcp_send_reset", 3,
	"tcp:tcp_send_reset with a reason, for every reset (Linux 6.10+)"};
static const struct need v4_send_reset = {NEED_FENTRY, "tcp_v4_send_reset", 0,
					  "fentry on tcp_v4_send_reset"};
static const struct need v6_send_reset = {NEED_FENTRY, "tcp_v6_send_reset", 0,
					  "fentry on tcp_v6_send_reset"};
static const struct need cap_capable_tracepoint = {
	NEED_TRACEPOINT, "cap_capable", 0, "the tracepoint capability:cap_capable (Linux 6.14+)"};
static const struct need cap_capable_function = {NEED_FEXIT, "cap_capable", 0,
						 "fexit on cap_capable"};
static const struct need process_exec = {NEED_TRACEPOINT, "sched_process_exec", 0,
					 "the tracepoint sched:sched_process_exec"};
static const struct need process_fork = {NEED_TRACEPOINT, "sched_process_fork", 0,
					 "the tracepoint sched:sched_process_fork"};
static const struct need process_exit = {NEED_TRACEPOINT, "sched_process_exit", 0,
					 "the tracepoint sched:sched_process_exit"};
static const struct need process_exit_group_dead = {
	NEED_TRACEPOINT, "sched_process_exit", 2,
	"sched:sched_process_exit with group_dead (Linux 6.16+)"};
static const struct need loop = {NEED_HELPER, "loop", 0, "the helper bpf_loop (Linux 5.17+)"};
static const struct need cgroup2 = {NEED_CGROUP_ROOT, "cgroup2", 0,
				    "cgroup v2 (Linux 4.5+) and the host's cgroup namespace"};
static const struct need cgroup_bpf = {NEED_FUNCTION, "__cgroup_bpf_run_filter_skb", 0,
				       "BPF programs on cgroups (CONFIG_CGROUP_BPF)"};

/* Each kind's alternatives, best first, as its entry in bpf/kinds.def lists them. */
#define MECHANISM_ALTERNATIVES 6

static const struct kind_mechanisms {
	unsigned kind;
	struct mechanism alternatives[MECHANISM_ALTERNATIVES];
} kind_mechanisms[] = {
/* One line each: clang-format would spread each brace pair over three. */
/* clang-format off */
#define PROGRAMS(...) {__VA_ARGS__}
#define NEEDS(...) {__VA_ARGS__ __VA_OPT__(,) NULL}
#define MECHANISM(description, programs, needs) {description, programs, needs}
#define KIND(name, NAME, ...) {KIND_##NAME, {__VA_ARGS__}},
/* clang-format on */
#include "kinds.def"
#undef MECHANISM
#undef PROGRAMS
#undef NEEDS
};
_Static_assert(ARRAY_SIZE(kind_mechanisms) == KINDS, "every kind of kinds.def has its mechanisms");

const char *mechanism_name(const struct mechanism *mechanism)
{
	return mechanism->name;
}

static bool enum_has(const struct btf *btf, const char *type, const char *prefix, const char *name)
{
	int id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	const struct btf_type *t = id < 0 ? NULL : btf__type_by_id(btf, id);
	size_t len = strlen(prefix);

	for (int i = 0; t && i < btf_vlen(t); i++) {
		const char *value = btf__name_by_offset(btf, btf_enum(t)[i].name_off);

		if (!strncmp(value, prefix, len) && !strcmp(value + len, name))
			return true;
	}
	return false;
}

/* A tracepoint's arguments: its btf_trace_ typedef is a pointer to (void *, args...). */
static bool has_tracepoint(const struct btf *btf, const char *name, int args)
{
	char typedef_name[128];
	const struct btf_type *t;
	int id;

	snprintf(typedef_name, sizeof(typedef_name), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, typedef_name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return false;
	if (!args)
		return true;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type); /* the pointer */
	t = t && btf_is_ptr(t) ? btf__type_by_id(btf, t->type) : NULL;
	return t && btf_is_func_proto(t) && btf_vlen(t) == args + 1;
}

static bool has_event(const char *name)
{
	static const char *const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[256];

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/events/%s", roots[i], name);
		if (!access(path, F_OK))
			return true;
	}
	return false;
}

/* Whether the kernel has a file system type: a line "nodev\tNAME" or "\tNAME". */
static bool has_filesystem(const char *name)
{
	FILE *f = fopen("/proc/filesystems", "re");
	char line[128];
	bool found = false;

	while (f && !found && fgets(line, sizeof(line), f)) {
		const char *tab = strchr(line, '\t');

		line[strcspn(line, "\n")] = '\0';
		found = tab && !strcmp(tab + 1, name);
	}
	if (f)
		fclose(f);
	return found;
}

/*
 * In a cgroup namespace of its own (a container's) the recorder reaches its
 * subtree only: the host's namespace has the inode number the kernel gives
 * every initial namespace (PROC_CGROUP_INIT_INO); a kernel without cgroup
 * namespaces has no other.
 */
static bool in_host_cgroup_namespace(void)
{
	struct stat st;

	return stat("/proc/self/ns/cgroup", &st) || st.st_ino == 0xEFFFFFFBu;
}

/*
 * Whether the kernel lets a tracing program attach to a function: it may
 * have the function in its BTF and still refuse (no trampolines on the
 * architecture, a security policy).  Tried with a program that returns 0.
 */
static bool loads_tracing(const struct btf *btf, const char *function, enum bpf_attach_type type)
{
	const struct bpf_insn return_0[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	int id = btf__find_by_name_kind(btf, function, BTF_KIND_FUNC);
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = type, .attach_btf_id = id);
	int fd = id < 0 ? -1
			: bpf_prog_load(BPF_PROG_TYPE_TRACING, NULL, "GPL", return_0,
					ARRAY_SIZE(return_0), &opts);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

/*
 * Tests make this kernel look older, to run the alternatives it would not
 * choose: CASEFILE_HIDE lists needs taken as unmet, by the name looked for:
 * "bpf_rdonly_cast", "cap_capable" (a function), "btf_trace_cap_capable" (a
 * tracepoint), "btf_trace_sched_process_exit/2" (its arguments),
 * "BPF_MAP_TYPE_RINGBUF", "BPF_FUNC_loop", "syscalls/sys_exit_accept", "cgroup2".
 */
static bool hidden(const struct need *need)
{
	const char *list = getenv("CASEFILE_HIDE");
	const char *kind = need->type == NEED_TRACEPOINT ? "btf_trace_"
			   : need->type == NEED_HELPER	 ? "BPF_FUNC_"
			   : need->type == NEED_MAP_TYPE ? "BPF_MAP_TYPE_"
							 : "";
	char name[128];
	size_t len;

	if (!list)
		return false;
	if (need->args)
		snprintf(name, sizeof(name), "%s%s/%d", kind, need->name, need->args);
	else
		snprintf(name, sizeof(name), "%s%s", kind, need->name);
	len = strlen(name);
	for (const char *p = list; (p = strstr(p, name)); p += len)
		if ((p == list || p[-1] == ',') && (p[len] == ',' || !p[len]))
			return true;
	return false;
}

static bool offers(const struct btf *btf, const struct need *need)
{
	if (hidden(need))
		return false;
	switch (need->type) {
	case NEED_TRACEPOINT:
		return has_tracepoint(btf, need->name, need->args);
	case NEED_KFUNC:
	case NEED_FUNCTION:
		return btf__find_by_name_kind(btf, need->name, BTF_KIND_FUNC) >= 0;
	case NEED_FENTRY:
		return loads_tracing(btf, need->name, BPF_TRACE_FENTRY);
	case NEED_FEXIT:
		return loads_tracing(btf, need->name, BPF_TRACE_FEXIT);
	case NEED_HELPER:
		return enum_has(btf, "bpf_func_id", "BPF_FUNC_", need->name);
	case NEED_MAP_TYPE:
		return enum_has(btf, "bpf_map_type", "BPF_MAP_TYPE_", need->name);
	case NEED_EVENT:
		return has_event(need->name);
	case NEED_CGROUP_ROOT:
		return has_filesystem(need->name) && in_host_cgroup_namespace();
	}
	return true;
}

/* The first need of a list the kernel does not meet, or NULL. */
static const struct need *first_unmet(const struct btf *btf, const struct need *const *needs)
{
	for (; *needs; needs++)
		if (!offers(btf, *needs))
			return *needs;
	return NULL;
}

/* "the kfunc X (Linux 6.2+), or Y": each alternative's first missing need, once. */
static void tell_unrecordable(unsigned kind, const struct need *missing[], size_t n)
{
	char name[64], list[512] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		bool told = false;

		for (size_t j = 0; j < i; j++)
			told |= missing[j] == missing[i] ||
				!strcmp(missing[j]->what, missing[i]->what);
		if (!told)
			len += (size_t)snprintf(list + len,
						len < sizeof(list) ? sizeof(list) - len : 0, "%s%s",
						len ? ", or " : "", missing[i]->what);
	}
	fprintf(stderr, "record: this kernel cannot record %s: it lacks %s\n",
		kinds_to_string(kind, name, sizeof(name)), list);
}

unsigned mechanisms_choose(const struct btf *vmlinux, unsigned kinds, struct mechanisms *chosen)
{
	const struct need *floor = first_unmet(vmlinux, floor_needs);
	unsigned recordable = 0;

	*chosen = (struct mechanisms){0};
	for (size_t k = 0; k < ARRAY_SIZE(kind_mechanisms); k++) {
		const struct kind_mechanisms *km = &kind_mechanisms[k];
		const struct need *missing[ARRAY_SIZE(km->alternatives)];
		size_t n = 0;

		if (!(kinds & km->kind))
			continue;
		for (size_t a = 0; !floor && a < ARRAY_SIZE(km->alternatives); a++) {
			const struct mechanism *m = &km->alternatives[a];

			if (!m->name)
				break;
			missing[n] = first_unmet(vmlinux, m->needs);
			if (!missing[n]) {
				chosen->of[__builtin_ctz(km->kind)] = m;
				recordable |= km->kind;
				break;
			}
			n++;
		}
		if (floor)
			missing[n++] = floor;
		if (!(recordable & km->kind))
			tell_unrecordable(km->kind, missing, n);
	}
	return recordable;
}

bool mechanism_runs(const struct mechanism *mechanism, const char *program)
{
	for (int p = 0; mechanism && p < MECHANISM_PROGRAMS && mechanism->programs[p]; p++)
		if (!strcmp(mechanism->programs[p], program))
			return true;
	return false;
}

int mechanisms_select(struct bpf_object *obj, const struct mechanisms *chosen)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, obj) bpf_program__set_autoload(prog, false);
	for (int k = 0; k < KINDS; k++) {
		for (int p = 0; chosen->of[k] && p < MECHANISM_PROGRAMS; p++) {
			const char *name = chosen->of[k]->programs[p];

			if (!name)
				break;
			prog = bpf_object__find_program_by_name(obj, name);
			if (!prog) {
				fprintf(stderr, "record: the BPF object has no program %s\n", name);
				return -1;
			}
			bpf_program__set_autoload(prog, true);
		}
	}
	return 0;
}
