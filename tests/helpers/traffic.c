/*
 * traffic: real loopback TCP for the record tests.  Prints what it did as
 * key=value words on stdout, so a test can find its rows in the capture.
 *
 *   traffic accept 4|6 N [uring]
 *                          a forked server accepts N connections (accept4 and
 *                          accept in turn; with uring, every third through an
 *                          io_uring instead) from this process
 *   traffic refused 4|6 [N]  connect N times (default 1) to a closed port:
 *                          each refused, each answered by a RST
 *   traffic abort 4|6      connect, then close with SO_LINGER 0: a RST from us
 *   traffic unaccepted 4|6 connect and reset before the server accepts: the
 *                          kernel completed a handshake no process took
 *   traffic timeout 4|6    connect to a listener whose queue is full, with
 *                          TCP_SYNCNT 1: times out after about 3 seconds
 *   traffic carry 4|6 SENT RECEIVED MS client|server|reset
 *                          one connection that carries SENT bytes from this
 *                          process and RECEIVED bytes back from a forked
 *                          server, lasts MS milliseconds once both are in, and
 *                          ends with this side's FIN first, the server's, or
 *                          this side's RST
 *   traffic periodic 4|6 COUNT MIN_MS MAX_MS MIN_BYTES MAX_BYTES
 *                          one process connecting COUNT times to one forked
 *                          server, waiting a random MIN_MS to MAX_MS between
 *                          connections and sending a random MIN_BYTES to
 *                          MAX_BYTES on each (200 bytes come back): a beacon
 *                          with jitter, or a periodic upload
 *
 * Each lingers 50 ms before exiting, as a short-lived scanner would: long
 * enough for the recorder to read its mappings for user stacks.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int family;

static void die(const char *what)
{
	fprintf(stderr, "traffic: %s: %s\n", what, strerror(errno));
	exit(1);
}

static socklen_t loopback(struct sockaddr_storage *ss, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	sin6->sin6_addr = in6addr_loopback;
	return sizeof(*sin6);
}

static int port_of(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		die("getsockname");
	return ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				       : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

static int listener(int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, 0);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) || listen(fd, backlog))
		die("listen");
	return fd;
}

/* Connect to port; returns the socket, or -1 with errno set. */
static int connect_to(int port, int syn_retries)
{
	struct sockaddr_storage ss;
	socklen_t len = loopback(&ss, port);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (syn_retries && setsockopt(fd, IPPROTO_TCP, TCP_SYNCNT, &syn_retries, sizeof(int)))
		die("TCP_SYNCNT");
	if (connect(fd, (struct sockaddr *)&ss, len)) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* An accept submitted to an io_uring: no accept() system call is made. */
static int uring_accept(struct io_uring *ring, int server)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
	struct io_uring_cqe *cqe;
	int fd;

	io_uring_prep_accept(sqe, server, NULL, NULL, 0);
	if (io_uring_submit(ring) != 1 || io_uring_wait_cqe(ring, &cqe))
		die("io_uring accept");
	fd = cqe->res;
	io_uring_cqe_seen(ring, cqe);
	errno = fd < 0 ? -fd : 0;
	return fd;
}

static void accept_mode(int count, bool through_uring)
{
	int server = listener(count + 1), status;
	pid_t child = fork();
	struct io_uring ring;

	if (child < 0)
		die("fork");
	if (child == 0) {
		if (through_uring && (errno = -io_uring_queue_init(2, &ring, 0)))
			die("io_uring_queue_init");
		for (int i = 0; i < count; i++) {
			int fd = through_uring && i % 3 == 2 ? uring_accept(&ring, server)
				 : i % 2		     ? accept(server, NULL, NULL)
					 : accept4(server, NULL, NULL, SOCK_CLOEXEC);

			if (fd < 0)
				die("accept");
			close(fd);
		}
		_exit(0);
	}
	printf("server_pid=%d port=%d client_pid=%d\n", child, port_of(server), getpid());
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		int fd = connect_to(port_of(server), 0);

		if (fd < 0)
			die("connect");
		close(fd);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		exit(1);
}

static void refused_mode(int count)
{
	int probe = listener(1), port = port_of(probe);

	close(probe); /* now nothing listens there */
	for (int i = 0; i < count; i++)
		if (connect_to(port, 0) >= 0 || errno != ECONNREFUSED)
			die("connect to a closed port was not refused");
	printf("client_pid=%d port=%d\n", getpid(), port);
}

static void abort_mode(void)
{
	int server = listener(1), fd = connect_to(port_of(server), 0), peer;
	struct linger abortive = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		die("connect");
	peer = accept(server, NULL, NULL);
	printf("client_pid=%d lport=%d port=%d\n", getpid(), port_of(fd), port_of(server));
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive)))
		die("SO_LINGER");
	close(fd);
	close(peer);
}

static void unaccepted_mode(void)
{
	int server = listener(1), fd = connect_to(port_of(server), 0);
	struct linger abortive = {.l_onoff = 1, .l_linger = 0};

	if (fd < 0)
		die("connect");
	printf("client_pid=%d lport=%d port=%d\n", getpid(), port_of(fd), port_of(server));
	if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive)))
		die("SO_LINGER");
	close(fd);
	close(server);
}

static void timeout_mode(void)
{
	int server = listener(0), filler[2];

	/* A full accept queue drops further SYNs: the last connect never completes. */
	for (int i = 0; i < 2; i++)
		filler[i] = connect_to(port_of(server), 1);
	printf("client_pid=%d port=%d\n", getpid(), port_of(server));
	fflush(stdout);
	if (connect_to(port_of(server), 1) >= 0 || errno != ETIMEDOUT)
		die("connect to a full queue did not time out");
	for (int i = 0; i < 2; i++)
		if (filler[i] >= 0)
			close(filler[i]);
}

static void write_all(int fd, long bytes)
{
	static char buf[65536];

	while (bytes > 0) {
		ssize_t n = write(fd, buf, bytes < (long)sizeof(buf) ? (size_t)bytes : sizeof(buf));

		if (n <= 0)
			die("write");
		bytes -= n;
	}
}

/* Read until bytes have come (or, with bytes < 0, until the peer's FIN). */
static void read_all(int fd, long bytes)
{
	static char buf[65536];

	while (bytes) {
		ssize_t n =
			read(fd, buf,
			     bytes < 0 || bytes > (long)sizeof(buf) ? sizeof(buf) : (size_t)bytes);

		if (n == 0 && bytes < 0)
			return;
		if (n <= 0)
			die("read");
		if (bytes > 0)
			bytes -= n;
	}
}

static long long boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void carry_mode(long sent, long received, long ms, const char *how)
{
	int server = listener(1), fd, peer, status;
	bool server_first = !strcmp(how, "server"), reset = !strcmp(how, "reset");
	long long connect_start, connect_end, close_start, close_end;
	pid_t child;

	if (!server_first && !reset && strcmp(how, "client"))
		die("carry: client, server or reset");
	connect_start = boot_ns();
	fd = connect_to(port_of(server), 0);
	connect_end = boot_ns();
	if (fd < 0)
		die("connect");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(fd); /* the client's end is the parent's alone */
		peer = accept(server, NULL, NULL);
		if (peer < 0)
			die("accept");
		read_all(peer, sent);
		write_all(peer, received);
		if (!server_first && !reset)
			read_all(peer, -1); /* the client's FIN */
		else if (reset)
			while (read(peer, &status, sizeof(status)) > 0) /* until its RST */
				;
		else
			nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
		close(peer);
		_exit(0);
	}
	printf("client_pid=%d server_pid=%d lport=%d port=%d\n", getpid(), child, port_of(fd),
	       port_of(server));
	fflush(stdout);
	close(server);
	write_all(fd, sent);
	read_all(fd, received);
	if (server_first) {
		read_all(fd, -1);
	} else {
		nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
		if (reset && setsockopt(fd, SOL_SOCKET, SO_LINGER,
					&(struct linger){.l_onoff = 1, .l_linger = 0},
					sizeof(struct linger)))
			die("SO_LINGER");
	}
	close_start = boot_ns();
	close(fd);
	close_end = boot_ns();
	/* When the socket was established, and closed (with a RST: in close()), bracketed. */
	printf("connect_ns=%lld,%lld close_ns=%lld,%lld\n", connect_start, connect_end, close_start,
	       close_end);
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status))
		exit(1);
}

static long between(long low, long high)
{
	return low + (high > low ? random() % (high - low + 1) : 0);
}

static void periodic_mode(int count, long min_ms, long max_ms, long min_bytes, long max_bytes)
{
	int server = listener(count + 1), status;
	pid_t child = fork();

	if (child < 0)
		die("fork");
	if (child == 0) {
		for (int i = 0; i < count; i++) {
			int fd = accept(server, NULL, NULL);

			if (fd < 0)
				die("accept");
			read_all(fd, -1);
			write_all(fd, 200);
			close(fd);
		}
		_exit(0);
	}
	printf("client_pid=%d server_pid=%d port=%d\n", getpid(), child, port_of(server));
	fflush(stdout);
	srandom((unsigned)getpid());
	for (int i = 0; i < count; i++) {
		int fd = connect_to(port_of(server), 0);
		long ms = between(min_ms, max_ms);

		if (fd < 0)
			die("connect");
		write_all(fd, between(min_bytes, max_bytes));
		shutdown(fd, SHUT_WR);
		read_all(fd, 200);
		close(fd);
		if (i + 1 < count)
			nanosleep(&(struct timespec){ms / 1000, ms % 1000 * 1000000}, NULL);
	}
	if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		exit(1);
}

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[2], "4") && strcmp(argv[2], "6"))) {
		fprintf(stderr,
			"usage: traffic accept|refused|abort|unaccepted|timeout|carry|periodic 4|6 "
			"[N [uring] | SENT RECEIVED MS client|server|reset | COUNT MIN_MS MAX_MS "
			"MIN_BYTES MAX_BYTES]\n");
		return 2;
	}
	family = argv[2][0] == '4' ? AF_INET : AF_INET6;
	if (!strcmp(argv[1], "accept"))
		accept_mode(argc > 3 ? atoi(argv[3]) : 1, argc > 4 && !strcmp(argv[4], "uring"));
	else if (!strcmp(argv[1], "refused"))
		refused_mode(argc > 3 ? atoi(argv[3]) : 1);
	else if (!strcmp(argv[1], "abort"))
		abort_mode();
	else if (!strcmp(argv[1], "timeout"))
		timeout_mode();
	else if (!strcmp(argv[1], "unaccepted"))
		unaccepted_mode();
	else if (!strcmp(argv[1], "periodic") && argc == 8)
		periodic_mode(atoi(argv[3]), atol(argv[4]), atol(argv[5]), atol(argv[6]),
			      atol(argv[7]));
	else if (!strcmp(argv[1], "carry") && argc == 7)
		carry_mode(atol(argv[3]), atol(argv[4]), atol(argv[5]), argv[6]);
	else
		return 2;
	nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	return 0;
}
