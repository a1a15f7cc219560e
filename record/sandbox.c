/* The parser process: see sandbox.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "util.h"

#define PARSER_UID	 65534 /* nobody */
#define PARSER_GID	 65534 /* nogroup */
#define PARSER_SOCKET	 3
#define PARSE_SECONDS	 2 /* one file or maps text, at most: more kills the parser */
#define REPLY_WAIT_S	 5 /* the recorder's wait for a reply, beyond the parser's own limit */
#define MAPS_MAX	 (8u << 20)
#define SEGMENTS_MAX	 65536
#define FUNCTIONS_MAX	 (1u << 24)
#define NAMES_MAX	 (1u << 28)
#define BUILD_ID_HEX_MAX 129
#define PATHS_MAX	 (1u << 26)
#define MAPPINGS_MAX	 (1u << 20)

enum { REQUEST_ELF = 1, REQUEST_MAPS = 2, READY = 0x52454459 };

struct request {
	uint32_t kind;
	uint32_t len; /* bytes of text that follow (maps) */
};

struct elf_reply {
	uint64_t nsegments, nfunctions, names_size, build_id_size;
};

struct maps_reply {
	uint64_t count, paths_size;
};

struct wire_mapping {
	uint64_t start, end, pgoff, dev, ino, path; /* path: offset in the paths */
};

struct parser {
	int sock;
	pid_t pid;
	bool gone;
};

/* --- Both sides: whole messages over a stream ---------------------------------- */

static int write_all(int sock, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(sock, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int sock, void *data, size_t len)
{
	char *p = data;

	while (len) {
		ssize_t n = recv(sock, p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A request's header, with the descriptor it carries (or -1). */
static int send_request(int sock, const struct request *req, int fd)
{
	char control[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {.iov_base = (void *)req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *cmsg;

		msg.msg_control = control;
		msg.msg_controllen = sizeof(control);
		cmsg = CMSG_FIRSTHDR(&msg);
		cmsg->cmsg_level = SOL_SOCKET;
		cmsg->cmsg_type = SCM_RIGHTS;
		cmsg->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)sizeof(*req) ? 0 : -1;
}

static int recv_request(int sock, struct request *req, int *fd)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(*req)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = control,
			     .msg_controllen = sizeof(control)};
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	do
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
	    cmsg->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	if (n > 0 && (size_t)n < sizeof(*req))
		return read_all(sock, (char *)req + n, sizeof(*req) - (size_t)n);
	return n > 0 ? 0 : -1;
}

/* --- The parser process ------------------------------------------------------------ */

static void reply_elf(int sock, int fd)
{
	struct elf_info info;
	struct elf_reply reply;
	struct elf_segment *segments;
	struct elf_function *functions;

	elf_parse(fd, &info);
	reply = (struct elf_reply){info.nsegments, info.nfunctions, info.names_size,
				   info.build_id ? strlen(info.build_id) + 1 : 0};
	/* Whole structures, padding zeroed: nothing of this process's memory leaks. */
	segments = xcalloc(info.nsegments ? info.nsegments : 1, sizeof(*segments));
	for (size_t i = 0; i < info.nsegments; i++) {
		segments[i].offset = info.segments[i].offset;
		segments[i].vaddr = info.segments[i].vaddr;
		segments[i].size = info.segments[i].size;
		segments[i].code = info.segments[i].code;
	}
	functions = xcalloc(info.nfunctions ? info.nfunctions : 1, sizeof(*functions));
	for (size_t i = 0; i < info.nfunctions; i++) {
		functions[i].addr = info.functions[i].addr;
		functions[i].size = info.functions[i].size;
		functions[i].name = info.functions[i].name;
	}
	if (!write_all(sock, &reply, sizeof(reply)))
		if (!write_all(sock, segments, info.nsegments * sizeof(*segments)))
			if (!write_all(sock, functions, info.nfunctions * sizeof(*functions)))
				if (!write_all(sock, info.names, info.names_size))
					write_all(sock, info.build_id, reply.build_id_size);
	free(segments);
	free(functions);
	elf_info_free(&info);
}

static void reply_maps(int sock, char *text)
{
	struct wire_mapping *entries = NULL;
	char *paths = NULL, *save = NULL;
	struct maps_reply reply = {0};
	size_t capacity = 0, paths_capacity = 0;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct maps_entry e;
		size_t len;

		if (!maps_parse_line(line, &e))
			continue;
		len = strlen(e.path) + 1;
		if (reply.count == capacity)
			entries = xrealloc(entries, (capacity = capacity ? 2 * capacity : 64) *
							    sizeof(*entries));
		while (reply.paths_size + len > paths_capacity)
			paths = xrealloc(paths, paths_capacity =
							paths_capacity ? 2 * paths_capacity : 4096);
		memcpy(paths + reply.paths_size, e.path, len);
		entries[reply.count++] = (struct wire_mapping){e.start, e.end, e.pgoff,
							       e.dev,	e.ino, reply.paths_size};
		reply.paths_size += len;
	}
	if (!write_all(sock, &reply, sizeof(reply)) &&
	    !write_all(sock, entries, reply.count * sizeof(*entries)))
		write_all(sock, paths, reply.paths_size);
	free(entries);
	free(paths);
}

/* A parse that takes longer than this is a hostile file: SIGALRM ends the parser. */
static void limit_time(int seconds)
{
	struct itimerval timer = {.it_value = {.tv_sec = seconds}};

	setitimer(ITIMER_REAL, &timer, NULL);
}

void parser_serve(int sock)
{
	struct request req;
	int fd;

	while (!recv_request(sock, &req, &fd)) {
		char *text = NULL;

		if (req.kind == REQUEST_MAPS && req.len <= MAPS_MAX) {
			text = xmalloc((size_t)req.len + 1);
			if (read_all(sock, text, req.len)) {
				free(text);
				break;
			}
			text[req.len] = '\0';
		}
		limit_time(PARSE_SECONDS);
		if (req.kind == REQUEST_ELF && fd >= 0)
			reply_elf(sock, fd);
		else if (text)
			reply_maps(sock, text);
		else
			break; /* not a request of ours */
		limit_time(0);
		free(text);
		if (fd >= 0)
			close(fd);
	}
}

#if defined(__x86_64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define AUDIT_ARCH_HERE AUDIT_ARCH_AARCH64
#endif

#define ALLOW(nr)                                                                                  \
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1),                                           \
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

#if defined(__SANITIZE_ADDRESS__) /* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/*
 * What the parser may ask of the kernel: read and write its socket and the
 * files it is handed (and ask their flags), map memory (never executable),
 * its timer, and exit.
 * Anything else kills it.
 */
static int install_seccomp(void)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_HERE, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		/* mmap and mprotect: never PROT_EXEC (the third argument) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mmap, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_mprotect, 0, 4),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, PROT_EXEC, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* fcntl: only asking a descriptor's flags (libelf checks its mode) */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fcntl, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_GETFD, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_GETFL, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		ALLOW(__NR_read),
		ALLOW(__NR_pread64),
		ALLOW(__NR_write),
		ALLOW(__NR_recvmsg),
		ALLOW(__NR_recvfrom),
		ALLOW(__NR_sendmsg),
		ALLOW(__NR_sendto),
		ALLOW(__NR_close),
		ALLOW(__NR_fstat),
		ALLOW(__NR_newfstatat),
		ALLOW(__NR_lseek),
		ALLOW(__NR_munmap),
		ALLOW(__NR_mremap),
		ALLOW(__NR_brk),
		ALLOW(__NR_madvise),
		ALLOW(__NR_setitimer),
		ALLOW(__NR_sysinfo), /* qsort asks how much memory there is */
		ALLOW(__NR_rt_sigreturn),
		ALLOW(__NR_exit),
		ALLOW(__NR_exit_group),
#ifdef UNDER_ASAN
		/* ASan's runtime drops its signal stack as the parser exits */
		ALLOW(__NR_sigaltstack),
#endif
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_fprog program = {.len = ARRAY_SIZE(filter), .filter = filter};

	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

/* Whether this process holds no capability at all (a uid change cleared them). */
static bool no_capabilities(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2] = {{0}};

	if (syscall(SYS_capget, &header, data))
		return false;
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable)
			return false;
	return true;
}

/* In the child: shed everything but the socket, become nobody, confine, serve. */
static void become_parser(int sock)
{
	static const int quiet[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
	uint32_t ready = READY;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* The recorder's signals (Ctrl-C reaches the whole group) are its own business. */
	for (size_t i = 0; i < ARRAY_SIZE(quiet); i++)
		signal(quiet[i], SIG_IGN);
	signal(SIGALRM, SIG_DFL);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
	    dup2(sock, PARSER_SOCKET) < 0 || syscall(SYS_close_range, PARSER_SOCKET + 1, ~0u, 0) ||
	    setgroups(0, NULL) || setresgid(PARSER_GID, PARSER_GID, PARSER_GID) ||
	    setresuid(PARSER_UID, PARSER_UID, PARSER_UID) || !no_capabilities() ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    install_seccomp() || write_all(PARSER_SOCKET, &ready, sizeof(ready)))
		_exit(1);
	parser_serve(PARSER_SOCKET);
	_exit(0);
}

/* --- The recorder's side --------------------------------------------------------- */

struct parser *parser_start(void)
{
	struct timeval wait = {.tv_sec = REPLY_WAIT_S};
	struct parser *parser;
	uint32_t ready = 0;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
		fprintf(stderr, "record: cannot start the parser process: %s\n", strerror(errno));
		return NULL;
	}
	pid = fork();
	if (pid == 0)
		become_parser(sv[1]);
	close(sv[1]);
	if (pid < 0 || setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait)) ||
	    setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait)) ||
	    read_all(sv[0], &ready, sizeof(ready)) || ready != READY) {
		fprintf(stderr, "record: cannot start the parser process: %s\n",
			pid < 0 ? strerror(errno) : "it did not confine itself");
		close(sv[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return NULL;
	}
	parser = xcalloc(1, sizeof(*parser));
	parser->sock = sv[0];
	parser->pid = pid;
	return parser;
}

void parser_stop(struct parser *parser)
{
	int status = 0;

	if (!parser)
		return;
	close(parser->sock); /* the parser ends at the end of its input */
	/* A kill at its end is a system call its filter refuses: said, as it may hide others. */
	if (waitpid(parser->pid, &status, 0) == parser->pid && WIFSIGNALED(status) && !parser->gone)
		fprintf(stderr, "record: the parser process was killed at its end: %s\n",
			strsignal(WTERMSIG(status)));
	free(parser);
}

/* The parser did not answer as it should: said once, then never asked again. */
static int parser_gone(struct parser *parser)
{
	if (!parser->gone)
		fprintf(stderr, "record: the parser process stopped (a hostile or broken file?): "
				"user frames are left unnamed from now on\n");
	parser->gone = true;
	return -1;
}

/* A reply's arrays, read and allocated as sized (at least one element). */
static void *read_array(struct parser *parser, size_t count, size_t size)
{
	void *array = xcalloc(count ? count : 1, size);

	if (read_all(parser->sock, array, count * size)) {
		free(array);
		return NULL;
	}
	return array;
}

/* A NUL-terminated run of strings of size bytes (or none), every offset inside it. */
static bool strings_valid(const char *strings, size_t size)
{
	return size == 0 || strings[size - 1] == '\0';
}

/* A reply checked as if it came from an attacker: it may have. */
static bool elf_reply_valid(const struct elf_info *info, size_t build_id_size)
{
	if (!strings_valid(info->names, info->names_size) ||
	    (build_id_size && strspn(info->build_id, "0123456789abcdef") + 1 != build_id_size))
		return false;
	for (size_t i = 0; i < info->nsegments; i++)
		if (info->segments[i].code > 1)
			return false;
	for (size_t i = 0; i < info->nfunctions; i++)
		if (info->functions[i].name >= info->names_size)
			return false;
	return true;
}

int parser_elf(struct parser *parser, int fd, struct elf_info *info)
{
	struct request req = {.kind = REQUEST_ELF};
	struct elf_reply reply;

	*info = (struct elf_info){0};
	if (parser->gone)
		return -1;
	if (send_request(parser->sock, &req, fd) || read_all(parser->sock, &reply, sizeof(reply)) ||
	    reply.nsegments > SEGMENTS_MAX || reply.nfunctions > FUNCTIONS_MAX ||
	    reply.names_size > NAMES_MAX || reply.build_id_size > BUILD_ID_HEX_MAX)
		return parser_gone(parser);
	info->segments = read_array(parser, reply.nsegments, sizeof(*info->segments));
	info->functions = info->segments
				  ? read_array(parser, reply.nfunctions, sizeof(*info->functions))
				  : NULL;
	info->names = info->functions ? read_array(parser, reply.names_size, 1) : NULL;
	info->build_id = info->names ? xcalloc(reply.build_id_size + 1, 1) : NULL;
	if (info->build_id && read_all(parser->sock, info->build_id, reply.build_id_size)) {
		free(info->build_id);
		info->build_id = NULL;
	}
	if (!info->build_id) {
		elf_info_free(info);
		return parser_gone(parser);
	}
	info->nsegments = reply.nsegments;
	info->nfunctions = reply.nfunctions;
	info->names_size = reply.names_size;
	if (!elf_reply_valid(info, reply.build_id_size)) {
		elf_info_free(info);
		return parser_gone(parser);
	}
	if (!reply.build_id_size) {
		free(info->build_id);
		info->build_id = NULL;
	}
	elf_sort_functions(info); /* the binary search needs it: never trust the order */
	return 0;
}

int parser_maps(struct parser *parser, const char *text, size_t len, struct maps_entry **entries,
		size_t *count, char **paths)
{
	struct request req = {.kind = REQUEST_MAPS, .len = (uint32_t)len};
	struct wire_mapping *wire;
	struct maps_reply reply;

	*entries = NULL;
	*count = 0;
	*paths = NULL;
	if (parser->gone || len > MAPS_MAX)
		return -1;
	if (send_request(parser->sock, &req, -1) || write_all(parser->sock, text, len) ||
	    read_all(parser->sock, &reply, sizeof(reply)) || reply.count > MAPPINGS_MAX ||
	    reply.paths_size > PATHS_MAX)
		return parser_gone(parser);
	wire = read_array(parser, reply.count, sizeof(*wire));
	*paths = wire ? read_array(parser, reply.paths_size, 1) : NULL;
	if (!*paths || !strings_valid(*paths, reply.paths_size)) {
		free(wire);
		free(*paths);
		*paths = NULL;
		return parser_gone(parser);
	}
	*entries = xcalloc(reply.count ? reply.count : 1, sizeof(**entries));
	for (size_t i = 0; i < reply.count; i++) {
		if (wire[i].path >= reply.paths_size || wire[i].start >= wire[i].end) {
			free(wire);
			free(*entries);
			free(*paths);
			*entries = NULL;
			*paths = NULL;
			return parser_gone(parser);
		}
		(*entries)[i] =
			(struct maps_entry){wire[i].start, wire[i].end, wire[i].pgoff,
					    wire[i].dev,   wire[i].ino, *paths + wire[i].path};
	}
	*count = reply.count;
	free(wire);
	return 0;
}
