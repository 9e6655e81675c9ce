// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* make bench, part 2: the traffic. Hand-built Ethernet/IPv4 frames sent
 * with sendmmsg on a packet socket (no qdisc, no IP stack on the sending
 * side), so the generator costs little and a run can ask any shape.
 *
 *   wire_gen IFACE DSTMAC SRC4 DST4 media|spray PPS SECONDS
 *
 * media: 500 long-lived UDP flows into 50000-60000 (100-byte payloads)
 *        plus 10 TCP connections (ACK+PSH segments) to 443 and 7881, one
 *        TCP segment in fifty, as a busy call server sees;
 * spray: every datagram a new source port and a new destination port in
 *        50000-60000, as a scan or a flood.
 * PPS 0 sends as fast as it can. It ends after SECONDS (at most 60) and
 * prints "sent N", "seconds S" and "cpu_ns C" (its own CPU).
 *
 * Before a media run, a call server's flows are opened and answered:
 * media-open sends each media frame once (the clients' first packets);
 * media-answer, run on the receiving side with the addresses given the
 * other way round, sends one reply to each UDP flow, through the qdisc so
 * that TC egress sees it, as a server's first answer. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define FRAME_MAX 256
#define PAYLOAD 100
#define MEDIA_UDP_FLOWS 500
#define MEDIA_TCP_FLOWS 10
#define TCP_EVERY 50

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t csum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)b[i] << 8 | b[i + 1];
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	return sum;
}

struct frame {
	uint8_t data[FRAME_MAX];
	size_t len;
};

static uint8_t dst_mac[6], src_mac[6];
static struct in_addr src4, dst4;

/* Ethernet + IPv4 (checksummed) + L4 header of proto; returns the L4
 * header's offset. */
static size_t build_ip(struct frame *f, uint8_t proto, size_t l4len)
{
	struct ether_header *eth = (struct ether_header *)f->data;
	struct iphdr *ip = (struct iphdr *)(eth + 1);

	memset(f->data, 0, sizeof(f->data));
	memcpy(eth->ether_dhost, dst_mac, 6);
	memcpy(eth->ether_shost, src_mac, 6);
	eth->ether_type = htons(ETHERTYPE_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->ttl = 64;
	ip->protocol = proto;
	ip->tot_len = htons((uint16_t)(sizeof(*ip) + l4len));
	ip->saddr = src4.s_addr;
	ip->daddr = dst4.s_addr;
	ip->check = htons(csum_fold(csum_add(0, ip, sizeof(*ip))));
	f->len = sizeof(*eth) + sizeof(*ip) + l4len;
	return sizeof(*eth) + sizeof(*ip);
}

/* UDP checksum 0: none, as IPv4 allows. */
static void build_udp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t off = build_ip(f, IPPROTO_UDP, sizeof(struct udphdr) + PAYLOAD);
	struct udphdr *udp = (struct udphdr *)(f->data + off);

	udp->source = htons(sport);
	udp->dest = htons(dport);
	udp->len = htons(sizeof(*udp) + PAYLOAD);
	memset(udp + 1, 0x5a, PAYLOAD);
}

static void build_tcp(struct frame *f, uint16_t sport, uint16_t dport)
{
	size_t off = build_ip(f, IPPROTO_TCP, sizeof(struct tcphdr) + PAYLOAD);
	struct tcphdr *tcp = (struct tcphdr *)(f->data + off);
	struct { uint32_t s, d; uint8_t z, p; uint16_t l; } __attribute__((packed)) ph;
	uint32_t sum;

	tcp->source = htons(sport);
	tcp->dest = htons(dport);
	tcp->seq = htonl(1000);
	tcp->ack_seq = htonl(2000);
	tcp->doff = 5;
	tcp->ack = 1;
	tcp->psh = 1;
	tcp->window = htons(512);
	memset(tcp + 1, 0x5a, PAYLOAD);
	ph.s = src4.s_addr;
	ph.d = dst4.s_addr;
	ph.z = 0;
	ph.p = IPPROTO_TCP;
	ph.l = htons(sizeof(*tcp) + PAYLOAD);
	sum = csum_add(0, &ph, sizeof(ph));
	sum = csum_add(sum, tcp, sizeof(*tcp) + PAYLOAD);
	tcp->check = htons(csum_fold(sum));
}

static int parse_mac(const char *s, uint8_t *mac)
{
	return sscanf(s, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1],
		      &mac[2], &mac[3], &mac[4], &mac[5]) == 6 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static struct frame media[MEDIA_UDP_FLOWS + MEDIA_TCP_FLOWS], spray[BATCH];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	unsigned long pps, seconds;
	uint64_t start, end, next, sent = 0, cpu0, cpu1;
	unsigned seq = 0, rnd = 12345;
	int fd, i, n, one = 1, spraying, once, answer;

	if (argc != 8 || parse_mac(argv[2], dst_mac) ||
	    inet_pton(AF_INET, argv[3], &src4) != 1 ||
	    inet_pton(AF_INET, argv[4], &dst4) != 1 ||
	    (strcmp(argv[5], "media") && strcmp(argv[5], "spray") &&
	     strcmp(argv[5], "media-open") && strcmp(argv[5], "media-answer"))) {
		fprintf(stderr, "usage: wire_gen IFACE DSTMAC SRC4 DST4 media|spray|media-open|media-answer PPS SECONDS\n");
		return 64;
	}
	spraying = !strcmp(argv[5], "spray");
	once = !strncmp(argv[5], "media-", 6);
	answer = !strcmp(argv[5], "media-answer");
	pps = strtoul(argv[6], NULL, 10);
	seconds = strtoul(argv[7], NULL, 10);
	if (!seconds || seconds > 60) {
		fprintf(stderr, "wire_gen: SECONDS is 1 to 60\n");
		return 64;
	}
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	sll.sll_protocol = htons(ETH_P_IP);
	fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_IP));
	if (!sll.sll_ifindex || fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("wire_gen: packet socket");
		return 1;
	}
	/* Straight to the driver: the generator's own cost stays small. An
	 * answer goes through the qdisc, where TC egress sees it. */
	if (!answer)
		setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	memset(src_mac, 0, sizeof(src_mac));
	src_mac[0] = 0x02;
	src_mac[5] = 0x01;
	memset(msgs, 0, sizeof(msgs));

	for (i = 0; i < MEDIA_UDP_FLOWS; i++)
		if (answer)
			build_udp(&media[i], (uint16_t)(50000 + i * 20), (uint16_t)(20000 + i));
		else
			build_udp(&media[i], (uint16_t)(20000 + i), (uint16_t)(50000 + i * 20));
	for (i = 0; i < MEDIA_TCP_FLOWS; i++)
		build_tcp(&media[MEDIA_UDP_FLOWS + i], (uint16_t)(30000 + i),
			  i % 2 ? 7881 : 443);
	if (once) {
		/* Each flow once, in batches; TCP too when opening. */
		int total = answer ? MEDIA_UDP_FLOWS : MEDIA_UDP_FLOWS + MEDIA_TCP_FLOWS;

		for (i = 0; i < total; i++) {
			iov[i % BATCH].iov_base = media[i].data;
			iov[i % BATCH].iov_len = media[i].len;
			msgs[i % BATCH].msg_hdr.msg_iov = &iov[i % BATCH];
			msgs[i % BATCH].msg_hdr.msg_iovlen = 1;
			if (i % BATCH == BATCH - 1 || i == total - 1) {
				n = sendmmsg(fd, msgs, (unsigned)(i % BATCH + 1), 0);
				if (n > 0)
					sent += (uint64_t)n;
			}
		}
		printf("sent %llu\n", (unsigned long long)sent);
		close(fd);
		return sent == (uint64_t)total ? 0 : 1;
	}
	for (i = 0; i < BATCH; i++)
		build_udp(&spray[i], 1, 1);
	for (i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	start = now_ns(CLOCK_MONOTONIC);
	end = start + seconds * 1000000000ull;
	next = start;
	for (;;) {
		uint64_t t = now_ns(CLOCK_MONOTONIC);

		if (t >= end)
			break;
		if (pps && t < next) {
			struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ull),
					       .tv_nsec = (long)(next % 1000000000ull) };

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		}
		for (i = 0; i < BATCH; i++) {
			struct frame *f;

			if (spraying) {
				struct udphdr *udp;

				f = &spray[i];
				udp = (struct udphdr *)(f->data + sizeof(struct ether_header) +
							sizeof(struct iphdr));
				rnd = rnd * 1103515245u + 12345u;
				udp->source = htons((uint16_t)(1024 + (rnd >> 8) % 64000));
				rnd = rnd * 1103515245u + 12345u;
				udp->dest = htons((uint16_t)(50000 + (rnd >> 8) % 10001));
			} else if (++seq % TCP_EVERY == 0) {
				f = &media[MEDIA_UDP_FLOWS + (seq / TCP_EVERY) % MEDIA_TCP_FLOWS];
			} else {
				f = &media[seq % MEDIA_UDP_FLOWS];
			}
			iov[i].iov_base = f->data;
			iov[i].iov_len = f->len;
		}
		n = sendmmsg(fd, msgs, BATCH, 0);
		if (n < 0 && errno != ENOBUFS && errno != EAGAIN && errno != EINTR) {
			perror("wire_gen: sendmmsg");
			return 1;
		}
		if (n > 0)
			sent += (uint64_t)n;
		if (pps)
			next += BATCH * 1000000000ull / pps;
	}
	cpu1 = now_ns(CLOCK_PROCESS_CPUTIME_ID);
	printf("sent %llu\nseconds %.3f\ncpu_ns %llu\n", (unsigned long long)sent,
	       (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9,
	       (unsigned long long)(cpu1 - cpu0));
	close(fd);
	return 0;
}
