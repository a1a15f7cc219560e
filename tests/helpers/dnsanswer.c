/*
 * dnsanswer: DNS answers over loopback without a resolver, for the kernel
 * boots (tests/kernels/), where there is no DNS server to ask.
 *
 *   dnsanswer NAME N   send N responses from 127.0.0.1 port 53 to a socket of
 *                      its own on loopback, each answering NAME with one A
 *                      record, 192.0.2.I for the I-th (1..N, N <= 254), TTL 300
 *
 * The recorder's packet filter sees each response once, as it arrives on lo.
 * Binding port 53 needs root.  Prints "pid=PID port=PORT" (the receiver's).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TTL 300

static void die(const char *what)
{
	fprintf(stderr, "dnsanswer: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int udp_socket(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), on = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die("bind");
	return fd;
}

static size_t put16(unsigned char *at, unsigned value)
{
	at[0] = value >> 8;
	at[1] = value & 0xff;
	return 2;
}

/* The response to query id: header, NAME's question, its one A answer. */
static size_t response(unsigned char *msg, const char *name, unsigned id)
{
	size_t len = put16(msg, id);
	const char *label = name;

	len += put16(msg + len, 0x8180); /* a response, recursion available, no error */
	len += put16(msg + len, 1);	 /* one question */
	len += put16(msg + len, 1);	 /* one answer */
	len += put16(msg + len, 0);
	len += put16(msg + len, 0);
	while (*label) {
		size_t n = strcspn(label, ".");

		msg[len++] = (unsigned char)n;
		memcpy(msg + len, label, n);
		len += n;
		label += n + (label[n] == '.');
	}
	msg[len++] = 0;
	len += put16(msg + len, 1);	 /* type A */
	len += put16(msg + len, 1);	 /* class IN */
	len += put16(msg + len, 0xc00c); /* the answer's name: the question's */
	len += put16(msg + len, 1);
	len += put16(msg + len, 1);
	len += put16(msg + len, TTL >> 16);
	len += put16(msg + len, TTL & 0xffff);
	len += put16(msg + len, 4);
	memcpy(msg + len, (unsigned char[]){192, 0, 2, id}, 4);
	return len + 4;
}

int main(int argc, char **argv)
{
	int count = argc == 3 ? atoi(argv[2]) : 0, server, receiver;
	struct sockaddr_in to;
	socklen_t to_len = sizeof(to);
	unsigned char msg[512];

	if (count < 1 || count > 254 || strlen(argv[1]) > 200) {
		fprintf(stderr,
			"usage: dnsanswer NAME N (N from 1 to 254, NAME up to 200 bytes)\n");
		return 2;
	}
	server = udp_socket(53);
	receiver = udp_socket(0);
	if (getsockname(receiver, (struct sockaddr *)&to, &to_len))
		die("getsockname");
	printf("pid=%d port=%d\n", getpid(), ntohs(to.sin_port));
	fflush(stdout);
	for (int i = 1; i <= count; i++) {
		size_t len = response(msg, argv[1], (unsigned)i);

		if (sendto(server, msg, len, 0, (struct sockaddr *)&to, to_len) != (ssize_t)len)
			die("sendto");
		if (recv(receiver, msg, sizeof(msg), 0) < 0)
			die("recv");
	}
	return 0;
}
