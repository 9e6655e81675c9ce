// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Bounded traffic for the namespace tests. Every mode sends a fixed number
 * of packets and the process ends itself after 60 s whatever happens.
 *
 *   pw_send udp ADDR FIRST LAST COUNT [SPORT [SIZE]]  COUNT datagrams per
 *       port, of SIZE bytes (default 16)
 *   pw_send udp-echo ADDR PORT COUNT [SPORT]    wait for each echo (1 s)
 *   pw_send tcp ADDR PORT [SPORT]               one connect: 0 ok, 1 refused, 2 timeout
 *   pw_send tcp-echo ADDR PORT COUNT MS         COUNT round trips, MS apart
 *   pw_send udp-serve PORT SECONDS [DELAY_MS]   echo every datagram (IPv4
 *       and IPv6), DELAY_MS late, until SECONDS have passed
 *   pw_send raw-udp IFACE DSTMAC SRC4 DST4 PORT COUNT [TPID:VID ...]
 *           [size=BYTES] [nonlinear] [tcp] [gso=MSS] [tap]
 *       hand-built Ethernet frames with the given VLAN tags, outer first,
 *       each an IPv4/UDP datagram of BYTES (default 16; IP length +28);
 *       nonlinear: a frame over a page holds only its Ethernet header in
 *       the skb's linear part (a virtio-net header with hdr_len 0);
 *       tcp: a TCP segment (ACK, IP length +40) instead;
 *       gso=MSS: the frame is a sender's TCP GSO buffer of MSS-byte
 *       segments, as a VM hands one over through tap or vhost-net: a
 *       virtio-net header that asks the kernel to segment it, which
 *       marks it SKB_GSO_DODGY with gso_segs 0 until it is checked;
 *       tap: IFACE is a tap device (ip tuntap ... vnet_hdr): the frames
 *       are written to it, so they arrive on it as a VM's would
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>

#define MAX_PACKETS 200000
#define RAW_PAYLOAD_MAX 8000

static int resolve(const char *host, unsigned port, struct sockaddr_storage *ss,
		   socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*len = sizeof(*s4);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return AF_INET6;
	}
	fprintf(stderr, "pw_send: '%s' is no IPv4 or IPv6 address\n", host);
	exit(64);
}

static void set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

static int open_socket(int family, int type, unsigned sport)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd = socket(family, type, 0);

	if (fd < 0) {
		perror("pw_send: socket");
		exit(70);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sport) {
		resolve(family == AF_INET ? "0.0.0.0" : "::", sport, &ss, &len);
		if (bind(fd, (struct sockaddr *)&ss, len)) {
			perror("pw_send: bind");
			exit(70);
		}
	}
	return fd;
}

/* PW_SEND_SCALE: an echo's wait and the alarm are this many times longer. */
static unsigned time_scale = 1;

static unsigned num(const char *s, unsigned max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v > max) {
		fprintf(stderr, "pw_send: bad number '%s'\n", s);
		exit(64);
	}
	return (unsigned)v;
}

static int wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

static int udp(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned first, last, count, port, i, sent = 0, size;
	static char payload[65000];
	int family, fd;

	if (argc < 6)
		return 64;
	first = num(argv[3], 65535);
	last = num(argv[4], 65535);
	count = num(argv[5], MAX_PACKETS);
	if (first > last || (unsigned long)(last - first + 1) * count > MAX_PACKETS) {
		fprintf(stderr, "pw_send: more than %d packets\n", MAX_PACKETS);
		return 64;
	}
	family = resolve(argv[2], first, &ss, &len);
	fd = open_socket(family, SOCK_DGRAM, argc > 6 ? num(argv[6], 65535) : 0);
	size = argc > 7 ? num(argv[7], sizeof(payload)) : 16;
	memset(payload, 'p', sizeof(payload));
	for (port = first; port <= last; port++) {
		set_port(&ss, port);
		for (i = 0; i < count; i++)
			if (sendto(fd, payload, size, 0, (struct sockaddr *)&ss,
				   len) == (ssize_t)size)
				sent++;
	}
	printf("sent %u\n", sent);
	close(fd);
	return sent == (last - first + 1) * count ? 0 : 1;
}

static int udp_echo(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	unsigned count, i, replies = 0;
	char buf[64];
	int family, fd;

	if (argc < 5)
		return 64;
	count = num(argv[4], 1000);
	family = resolve(argv[2], num(argv[3], 65535), &ss, &len);
	fd = open_socket(family, SOCK_DGRAM, argc > 5 ? num(argv[5], 65535) : 0);
	for (i = 0; i < count; i++) {
		sendto(fd, "ping", 4, 0, (struct sockaddr *)&ss, len);
		if (wait_readable(fd, 1000 * time_scale) && recv(fd, buf, sizeof(buf), 0) > 0)
			replies++;
	}
	printf("replies %u\n", replies);
	close(fd);
	return replies == count ? 0 : 1;
}

static int tcp_connect(const char *host, unsigned port, unsigned sport)
{
	struct sockaddr_storage ss;
	socklen_t len, elen = sizeof(int);
	int family = resolve(host, port, &ss, &len), fd, err = 0;
	struct pollfd p;

	fd = open_socket(family, SOCK_STREAM, sport);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (connect(fd, (struct sockaddr *)&ss, len) && errno != EINPROGRESS) {
		close(fd);
		return -errno;
	}
	p.fd = fd;
	p.events = POLLOUT;
	if (poll(&p, 1, 2000) != 1) {
		close(fd);
		return -ETIMEDOUT;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
	if (err) {
		close(fd);
		return -err;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static int tcp(int argc, char **argv)
{
	int fd;

	if (argc < 4)
		return 64;
	fd = tcp_connect(argv[2], num(argv[3], 65535), argc > 4 ? num(argv[4], 65535) : 0);
	if (fd >= 0) {
		printf("connected\n");
		close(fd);
		return 0;
	}
	printf("%s\n", fd == -ECONNREFUSED ? "refused" : fd == -ETIMEDOUT ? "timeout" : strerror(-fd));
	return fd == -ECONNREFUSED ? 1 : 2;
}

static int tcp_echo(int argc, char **argv)
{
	unsigned count, ms, i, echoed = 0;
	struct timespec gap;
	char buf[64];
	int fd;

	if (argc < 6)
		return 64;
	count = num(argv[4], 10000);
	ms = num(argv[5], 10000);
	fd = tcp_connect(argv[2], num(argv[3], 65535), 0);
	if (fd < 0) {
		printf("echoed 0 (%s)\n", strerror(-fd));
		return 1;
	}
	gap.tv_sec = ms / 1000;
	gap.tv_nsec = (long)(ms % 1000) * 1000000L;
	for (i = 0; i < count; i++) {
		if (send(fd, "ping\n", 5, MSG_NOSIGNAL) != 5)
			break;
		if (!wait_readable(fd, 1000 * time_scale) || recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
		echoed++;
		nanosleep(&gap, NULL);
	}
	printf("echoed %u\n", echoed);
	close(fd);
	return echoed == count ? 0 : 1;
}

static int udp_serve(int argc, char **argv)
{
	struct sockaddr_storage ss, peer;
	socklen_t len, plen;
	unsigned seconds, delay_ms, echoed = 0;
	struct timespec start, now, gap;
	char buf[2048];
	ssize_t n;
	int fd, off = 0;

	if (argc < 4)
		return 64;
	seconds = num(argv[3], 600);
	delay_ms = argc > 4 ? num(argv[4], 60000) : 0;
	alarm(seconds + delay_ms / 1000 + 10);	/* its own bound, past main's */
	resolve("::", num(argv[2], 65535), &ss, &len);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
		perror("pw_send: udp-serve");
		return 70;
	}
	gap.tv_sec = delay_ms / 1000;
	gap.tv_nsec = (long)(delay_ms % 1000) * 1000000L;
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec >= (time_t)seconds)
			break;
		if (!wait_readable(fd, 100))
			continue;
		plen = sizeof(peer);
		n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer, &plen);
		if (n < 0)
			continue;
		if (delay_ms)
			nanosleep(&gap, NULL);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen) == n)
			echoed++;
	}
	printf("echoed %u\n", echoed);
	close(fd);
	return 0;
}

static uint16_t ip_checksum(const uint8_t *h, size_t len)
{
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i < len; i += 2)
		sum += (uint32_t)h[i] << 8 | h[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Writes count copies of msg (a virtio-net header, then the frame) to
 * the tap device name. */
static int tap_write(const char *name, const uint8_t *msg, size_t len,
		     unsigned count)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	unsigned i, sent = 0;
	int fd = open("/dev/net/tun", O_RDWR);

	if (fd < 0) {
		perror("pw_send: /dev/net/tun");
		return 70;
	}
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		perror("pw_send: TUNSETIFF");
		return 70;
	}
	for (i = 0; i < count; i++)
		if (write(fd, msg, len) == (ssize_t)len)
			sent++;
		else
			perror("pw_send: write to the tap");
	printf("sent %u\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}

static int raw_udp(int argc, char **argv)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned mac[6], count, port, i, sent = 0, tpid, vid;
	static uint8_t msg[sizeof(struct virtio_net_hdr) + 64 + RAW_PAYLOAD_MAX];
	uint8_t *frame = msg + sizeof(struct virtio_net_hdr), *p = frame, *ip;
	unsigned size = 16, iplen, l4len, mss = 0;
	int fd, t, nonlinear = 0, tcp = 0, tap = 0;
	struct virtio_net_hdr *vh = (struct virtio_net_hdr *)msg;
	size_t off;

	if (argc < 8 || sscanf(argv[3], "%x:%x:%x:%x:%x:%x", &mac[0], &mac[1],
			       &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
		return 64;
	port = num(argv[6], 65535);
	count = num(argv[7], 10000);
	memset(msg, 0, sizeof(msg));
	for (i = 0; i < 6; i++)
		*p++ = (uint8_t)mac[i];
	memcpy(p, "\x02\x00\x00\x00\x00\x02", 6);
	p += 6;
	for (t = 8; t < argc && t < 15; t++) {
		if (!strcmp(argv[t], "tap")) {
			tap = nonlinear = 1;
			continue;
		}
		if (!strcmp(argv[t], "nonlinear")) {
			nonlinear = 1;
			continue;
		}
		if (!strcmp(argv[t], "tcp")) {
			tcp = 1;
			continue;
		}
		if (!strncmp(argv[t], "gso=", 4)) {
			mss = num(argv[t] + 4, RAW_PAYLOAD_MAX);
			nonlinear = 1;
			continue;
		}
		if (!strncmp(argv[t], "size=", 5)) {
			size = num(argv[t] + 5, RAW_PAYLOAD_MAX);
			continue;
		}
		if (sscanf(argv[t], "%x:%u", &tpid, &vid) != 2)
			return 64;
		*p++ = (uint8_t)(tpid >> 8);
		*p++ = (uint8_t)tpid;
		*p++ = (uint8_t)(vid >> 8);
		*p++ = (uint8_t)vid;
	}
	*p++ = 0x08;
	*p++ = 0x00;
	if (mss && !tcp)
		return 64;
	ip = p;
	l4len = tcp ? 20 : 8;
	iplen = 20 + l4len + size;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = tcp ? IPPROTO_TCP : IPPROTO_UDP;
	if (inet_pton(AF_INET, argv[4], ip + 12) != 1 ||
	    inet_pton(AF_INET, argv[5], ip + 16) != 1)
		return 64;
	ip[10] = (uint8_t)(ip_checksum(ip, 20) >> 8);
	ip[11] = (uint8_t)ip_checksum(ip, 20);
	p = ip + 20;
	p[0] = 0x9c;			/* source port 40000 */
	p[1] = 0x40;
	p[2] = (uint8_t)(port >> 8);
	p[3] = (uint8_t)port;
	if (tcp) {
		p[4] = 1;		/* sequence number */
		p[12] = 5 << 4;		/* data offset */
		p[13] = 0x10;		/* ACK */
		p[14] = 0xff;		/* window */
		/* With NEEDS_CSUM the kernel finishes the checksum from the
		 * pseudo-header's sum here; without it, 0 is a bad checksum
		 * the receiving stack drops after ingress has counted it. */
		if (mss) {
			uint8_t ph[12];
			uint16_t sum;

			memcpy(ph, ip + 12, 8);
			ph[8] = 0;
			ph[9] = IPPROTO_TCP;
			ph[10] = (uint8_t)((l4len + size) >> 8);
			ph[11] = (uint8_t)(l4len + size);
			sum = (uint16_t)~ip_checksum(ph, sizeof(ph));
			p[16] = (uint8_t)(sum >> 8);
			p[17] = (uint8_t)sum;
		}
	} else {
		p[4] = (uint8_t)((8 + size) >> 8);	/* UDP length; checksum 0: none */
		p[5] = (uint8_t)(8 + size);
	}
	if (mss) {
		vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		vh->gso_size = (uint16_t)mss;
		vh->hdr_len = (uint16_t)(p + l4len - frame);
		vh->csum_start = (uint16_t)(p - frame);
		vh->csum_offset = 16;
	}
	memset(p + l4len, 'p', size);
	p += l4len + size;

	if (tap)
		return tap_write(argv[2], msg, (size_t)(p - msg), count);
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("pw_send: packet socket");
		return 70;
	}
	/* With a virtio-net header (all zero: no offloads, hdr_len 0) the
	 * kernel puts only the link-layer header in the linear part. */
	off = sizeof(struct virtio_net_hdr);
	if (nonlinear) {
		if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &nonlinear,
			       sizeof(nonlinear))) {
			perror("pw_send: PACKET_VNET_HDR");
			return 70;
		}
		off = 0;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[2]);
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, frame, 6);
	for (i = 0; i < count; i++)
		if (sendto(fd, msg + off, (size_t)(p - msg) - off, 0,
			   (struct sockaddr *)&sll, sizeof(sll)) ==
		    (ssize_t)((size_t)(p - msg) - off))
			sent++;
	printf("sent %u\n", sent);
	close(fd);
	return sent == count ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *scale = getenv("PW_SEND_SCALE");

	/* Asked for by a test whose clients must ride out a slow machine (a
	 * vmtest guest): the echoes' waits and the alarm are longer. Not for
	 * every test: a connect's wait stays, so SYNs are retransmitted as
	 * often as the counts expect. */
	if (scale && atoi(scale) > 1 && atoi(scale) <= 20)
		time_scale = (unsigned)atoi(scale);
	alarm(60 * time_scale);	/* bounded in time, whatever the network does */
	if (argc < 2)
		return 64;
	if (!strcmp(argv[1], "udp"))
		return udp(argc, argv);
	if (!strcmp(argv[1], "udp-echo"))
		return udp_echo(argc, argv);
	if (!strcmp(argv[1], "tcp"))
		return tcp(argc, argv);
	if (!strcmp(argv[1], "tcp-echo"))
		return tcp_echo(argc, argv);
	if (!strcmp(argv[1], "raw-udp"))
		return raw_udp(argc, argv);
	if (!strcmp(argv[1], "udp-serve"))
		return udp_serve(argc, argv);
	fprintf(stderr, "pw_send: unknown mode '%s'\n", argv[1]);
	return 64;
}
