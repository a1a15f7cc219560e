/*
 * traffic: real loopback TCP for the record tests.  Prints what it did as
 * key=value words on stdout, so a test can find its rows in the capture.
 *
 *   traffic accept 4|6 N   a forked server accepts N connections (accept4 and
 *                          accept in turn) from this process
 *   traffic refused 4|6 [N]  connect N times (default 1) to a closed port:
 *                          each refused, each answered by a RST
 *   traffic abort 4|6      connect, then close with SO_LINGER 0: a RST from us
 *   traffic unaccepted 4|6 connect and reset before the server accepts: the
 *                          kernel completed a handshake no process took
 *   traffic timeout 4|6    connect to a listener whose queue is full, with
 *                          TCP_SYNCNT 1: times out after about 3 seconds
 *
 * Each lingers 50 ms before exiting, as a short-lived scanner would: long
 * enough for the recorder to read its mappings for user stacks.
 */
#include <arpa/inet.h>
#include <errno.h>
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

static void accept_mode(int count)
{
	int server = listener(count + 1), status;
	pid_t child = fork();

	if (child < 0)
		die("fork");
	if (child == 0) {
		for (int i = 0; i < count; i++) {
			int fd = i % 2 ? accept(server, NULL, NULL)
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

int main(int argc, char **argv)
{
	if (argc < 3 || (strcmp(argv[2], "4") && strcmp(argv[2], "6"))) {
		fprintf(stderr, "usage: traffic accept|refused|abort|unaccepted|timeout 4|6 [N]\n");
		return 2;
	}
	family = argv[2][0] == '4' ? AF_INET : AF_INET6;
	if (!strcmp(argv[1], "accept"))
		accept_mode(argc > 3 ? atoi(argv[3]) : 1);
	else if (!strcmp(argv[1], "refused"))
		refused_mode(argc > 3 ? atoi(argv[3]) : 1);
	else if (!strcmp(argv[1], "abort"))
		abort_mode();
	else if (!strcmp(argv[1], "timeout"))
		timeout_mode();
	else if (!strcmp(argv[1], "unaccepted"))
		unaccepted_mode();
	else
		return 2;
	nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
	return 0;
}
