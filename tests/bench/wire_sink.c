// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, part 2: the call server's media sockets. A media server
 * listens on the ports its flows come to, so their datagrams are
 * delivered, not dropped; without listeners every packet would also go
 * through the host's drop path (and portwitness's drop tracer), which a
 * call server's media does not.
 *
 *   wire_sink ADDR FIRST STEP COUNT SECONDS
 *
 * Binds COUNT UDP sockets on ADDR, ports FIRST, FIRST + STEP, ..., and
 * reads them (epoll, recvmmsg) until SIGTERM or SECONDS (at most 120).
 * Prints "ready" once bound, and "received N" at the end. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define SOCKETS_MAX 1024
#define DGRAM_MAX 2048

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][DGRAM_MAX];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct epoll_event ev, evs[64];
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct sigaction act = { .sa_handler = on_term };
	unsigned long first, step, count, seconds, i;
	unsigned long long received = 0;
	time_t end;
	int ep, fd, n, k, m;

	if (argc != 6 || inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1) {
		fprintf(stderr, "usage: wire_sink ADDR FIRST STEP COUNT SECONDS\n");
		return 64;
	}
	first = strtoul(argv[2], NULL, 10);
	step = strtoul(argv[3], NULL, 10);
	count = strtoul(argv[4], NULL, 10);
	seconds = strtoul(argv[5], NULL, 10);
	if (!count || count > SOCKETS_MAX || first + step * (count - 1) > 65535 ||
	    !seconds || seconds > 120) {
		fprintf(stderr, "wire_sink: 1 to %d ports below 65536, 1 to 120 s\n",
			SOCKETS_MAX);
		return 64;
	}
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	ep = epoll_create1(0);
	if (ep < 0) {
		perror("wire_sink: epoll");
		return 1;
	}
	for (i = 0; i < count; i++) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		sa.sin_port = htons((unsigned short)(first + i * step));
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			fprintf(stderr, "wire_sink: port %lu: %s\n", first + i * step,
				strerror(errno));
			return 1;
		}
	}
	memset(msgs, 0, sizeof(msgs));
	for (k = 0; k < BATCH; k++) {
		iov[k].iov_base = bufs[k];
		iov[k].iov_len = DGRAM_MAX;
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
	}
	printf("ready\n");
	fflush(stdout);
	end = time(NULL) + (time_t)seconds;
	while (!stop && time(NULL) < end) {
		n = epoll_wait(ep, evs, 64, 100);
		for (k = 0; k < n; k++)
			while ((m = recvmmsg(evs[k].data.fd, msgs, BATCH,
					     MSG_DONTWAIT, NULL)) > 0)
				received += (unsigned long long)m;
	}
	printf("received %llu\n", received);
	return 0;
}
