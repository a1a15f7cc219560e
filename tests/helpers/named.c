/*
 * named: a process with a name of the test's choosing, for the report tests.
 *
 *   named NAME   set this process's comm to NAME (prctl PR_SET_NAME: the
 *                kernel keeps the first 15 bytes), then make one capability
 *                check (setuid to its own uid: CAP_SETUID) and one TCP connect
 *                to a closed loopback port (refused)
 *
 * NAME may hold any bytes, terminal escape sequences included: what report
 * prints of it must stay harmless.  Prints "pid=PID port=PORT".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* A loopback port nothing listens on: bound, then closed. */
static int closed_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, len) ||
	    getsockname(fd, (struct sockaddr *)&sin, &len)) {
		perror("named: bind");
		return -1;
	}
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int port, fd;

	if (argc != 2) {
		fprintf(stderr, "usage: named NAME\n");
		return 2;
	}
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0)) {
		perror("named: PR_SET_NAME");
		return 1;
	}
	(void)!setuid(getuid());
	port = closed_port();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (port < 0 || fd < 0)
		return 1;
	sin.sin_port = htons((uint16_t)port);
	if (!connect(fd, (struct sockaddr *)&sin, sizeof(sin)) || errno != ECONNREFUSED) {
		fprintf(stderr, "named: connect to a closed port was not refused\n");
		return 1;
	}
	close(fd);
	printf("pid=%d port=%d\n", getpid(), port);
	return 0;
}
