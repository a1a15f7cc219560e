/*
 * churn: loopback TCP connection churn for the overhead benchmark.  Each
 * connection is a connect, an accept and an abortive close (SO_LINGER 0), so
 * the kernel sends a RST: one connect, one accept and one reset event.
 *
 *   churn SECONDS    churn for that long on one core, then print
 *                    "connections=N seconds=S rate=R"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CONNECTIONS_PER_CLOCK_CHECK 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "churn: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* One connection through its whole life: SYN, accept, RST. */
static void connect_accept_abort(int listener, const struct sockaddr_in *addr)
{
	static const struct linger abortive = {.l_onoff = 1, .l_linger = 0};
	int client = socket(AF_INET, SOCK_STREAM, 0), server;

	if (client < 0 || connect(client, (const struct sockaddr *)addr, sizeof(*addr)))
		die("connect");
	server = accept(listener, NULL, NULL);
	if (server < 0)
		die("accept");
	if (setsockopt(client, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive)))
		die("SO_LINGER");
	close(client);
	close(server);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	double seconds = argc == 2 ? atof(argv[1]) : 0, start, elapsed;
	long connections = 0;
	int listener;

	if (seconds <= 0) {
		fprintf(stderr, "usage: churn SECONDS\n");
		return 2;
	}
	listener = socket(AF_INET, SOCK_STREAM, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, len) ||
	    listen(listener, 128) || getsockname(listener, (struct sockaddr *)&addr, &len))
		die("listen");
	start = now();
	do {
		for (int i = 0; i < CONNECTIONS_PER_CLOCK_CHECK; i++)
			connect_accept_abort(listener, &addr);
		connections += CONNECTIONS_PER_CLOCK_CHECK;
		elapsed = now() - start;
	} while (elapsed < seconds);
	printf("connections=%ld seconds=%.3f rate=%.0f\n", connections, elapsed,
	       connections / elapsed);
	return 0;
}
