/*
 * resolve: look a name up through the system resolver, then connect to the
 * answer, as a program under investigation would.
 *
 *   resolve NAME PORT 4|6   prints "pid=PID addr=ADDRESS", connects (refused is
 *                           fine), lingers half a second and exits: the
 *                           recorder looks at its files while it lives
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *answer;
	char text[INET6_ADDRSTRLEN];
	int fd, err;

	if (argc != 4) {
		fprintf(stderr, "usage: resolve NAME PORT 4|6\n");
		return 2;
	}
	hints.ai_family = argv[3][0] == '6' ? AF_INET6 : AF_INET;
	err = getaddrinfo(argv[1], argv[2], &hints, &answer);
	if (err) {
		fprintf(stderr, "resolve: %s: %s\n", argv[1], gai_strerror(err));
		return 1;
	}
	getnameinfo(answer->ai_addr, answer->ai_addrlen, text, sizeof(text), NULL, 0,
		    NI_NUMERICHOST);
	printf("pid=%d addr=%s\n", getpid(), text);
	fflush(stdout);
	fd = socket(answer->ai_family, SOCK_STREAM, 0);
	if (fd >= 0)
		(void)!connect(fd, answer->ai_addr, answer->ai_addrlen);
	freeaddrinfo(answer);
	nanosleep(&(struct timespec){0, 500 * 1000 * 1000}, NULL);
	return 0;
}
