// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* portwitness: count inbound packets per port without binding a socket.
 * Ingress (XDP or TC) counts; TC egress records the flows this host begins,
 * so that their replies are not taken for evidence of port forwarding.
 * Nothing here drops or changes a packet. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pw_consts.h"
#include "pw_parse.h"
#include "pw_maps.h"
#include "pw_conntrack.h"
#include "pw_drop_parse.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the loader: the device has no link-layer header (tun, wg). */
const volatile bool pw_l2_none = false;

static __always_inline void pw_stat_inc(__u32 stat)
{
	__u64 *v = bpf_map_lookup_elem(&pw_stats, &stat);

	if (v)
		*v += 1;
}

static __always_inline void pw_flow_key_of(const struct pw_pkt *p,
					   struct pw_flow_key *k)
{
	__builtin_memcpy(k->remote_addr, p->remote_addr, sizeof(k->remote_addr));
	k->local_port = p->local_port;
	k->remote_port = p->remote_port;
	k->proto = p->l4proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/* A TCP SYN: a connection attempt, not its answer. */
static __always_inline bool pw_opens(__u8 l4proto, __u8 tcp_flags)
{
	return l4proto == IPPROTO_TCP &&
	       (tcp_flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN;
}

static __always_inline bool pw_tcp_opens(const struct pw_pkt *p)
{
	return pw_opens(p->l4proto, p->tcp_flags);
}

/* The slot of a local port (network order) of a protocol (pw_ports.h). */
static __always_inline __u32 pw_slot_of(__u8 l4proto, __be16 local_port)
{
	__u32 slot = bpf_ntohs(local_port);

	return l4proto == IPPROTO_UDP ? slot + PW_PORTS_PER_PROTO : slot;
}

static __always_inline __u32 pw_slot(const struct pw_pkt *p)
{
	return pw_slot_of(p->l4proto, p->local_port);
}

/* The dense index + 1 of a slot; 0 = undeclared. The compiler knows a
 * slot's bound (a swapped 16-bit port, plus a protocol's offset) and would
 * drop the mask as redundant; verifiers before 6.10 do not know it (a byte
 * swap leaves them an unbounded value), so barrier_var keeps the mask. */
static __always_inline __u32 pw_index1(__u32 slot)
{
	barrier_var(slot);
	return pw_decl.index1[slot & (PW_PORT_SLOTS - 1)];
}

/* The pw_seen set of a flow, and in *hash its flow's hash. */
static __always_inline struct pw_seen_set *
pw_seen_set_of(const struct pw_flow_key *key, __u64 *hash)
{
	__u32 idx;

	*hash = pw_flow_key_hash(key);
	idx = pw_seen_index(*hash);
	return bpf_map_lookup_elem(&pw_seen, &idx);
}

/* pw_seen_put as a global function: the verifier walks its passes once,
 * not at each place that writes a set. */
__noinline int pw_seen_write(struct pw_seen_set *set, __u64 hash, __u32 state)
{
	if (set)
		pw_seen_put(set, hash, state);
	return 0;
}

/* The pw_seen state of a flow recorded in pw_flows as begun by who. */
static __always_inline __u32 pw_seen_recorded(__u32 who)
{
	return who == PW_FLOW_LOCAL ? PW_SEEN_LOCAL : PW_SEEN_ANSWERED;
}

/* What is known of the flow of key (enum pw_seen_state): its pw_seen set,
 * else, where the set has lost a recorded flow, pw_flows, which then
 * refills the set; 0 when neither knows it. remember: then mark it in
 * pw_seen as seen coming in (ingress: a flow the table does not know was
 * begun outside, unless conntrack says otherwise, and then the caller
 * records it). A global function: the verifier checks it once, not along
 * every path of the parser of its callers. */
__noinline __u32 pw_flow_lookup(const struct pw_flow_key *arg, __u32 remember)
{
	struct pw_seen_set *set;
	struct pw_flow_key key;
	struct pw_flow *f;
	__u64 hash, *way;
	__u32 state;

	if (!arg)
		return 0;
	set = pw_seen_set_of(arg, &hash);
	if (!set)
		return 0;
	state = pw_seen_find(set, hash);
	if (state)
		return state;
	if (set->flags & PW_SEEN_OVERFLOW) {
		/* A map key on this function's own stack: 6.1 takes no
		 * argument memory of a global function as one. Copied here
		 * only, off the common path. */
		__builtin_memcpy(&key, arg, sizeof(key));
		f = bpf_map_lookup_elem(&pw_flows, &key);
		if (f) {
			state = pw_seen_recorded(f->initiator);
			pw_seen_write(set, hash, state);
			return state;
		}
	} else if (remember && (way = pw_seen_free(set))) {
		/* A new flow from outside, the common case inline: an empty
		 * way needs no choice (pw_seen_put makes the others). */
		__sync_val_compare_and_swap(way, 0, hash | PW_SEEN_REMOTE);
		return 0;
	}
	if (remember)
		pw_seen_write(set, hash, PW_SEEN_REMOTE);
	return 0;
}

/* Did this host begin the flow (a reply, as far as evidence goes)? */
static __always_inline bool pw_flow_begun_here(const struct pw_flow_key *key)
{
	return pw_flow_lookup(key, 0) == PW_SEEN_LOCAL;
}

/* Conntrack is asked about flows we did not see begin: any TCP packet
 * but a SYN of an unknown connection, which costs one lookup per
 * connection; UDP only in the window after attach when a flow under way
 * before it may still turn up (see pw_decl_table). The clock is read only
 * while the window is open: a watch sets the end to 0 once it has passed,
 * and a cold clock read costs a new flow about 30 ns. */
static __always_inline bool pw_ct_worth_asking(const struct pw_pkt *p)
{
	return p->l4proto == IPPROTO_TCP ||
	       (pw_decl.ct_udp_until_ns &&
		bpf_ktime_get_coarse_ns() < pw_decl.ct_udp_until_ns);
}

/* Records who began a flow, in pw_flows and its pw_seen set. flags:
 * BPF_NOEXIST keeps what another packet recorded first (and the set gets
 * that); BPF_ANY overwrites (this host's SYN begins a new connection over
 * a stale entry). */
__noinline int pw_flow_record(const struct pw_flow_key *arg, __u32 who,
			      __u64 flags)
{
	struct pw_flow flow = { .initiator = who };
	struct pw_seen_set *set;
	struct pw_flow_key key;
	struct pw_flow *f;
	__u64 hash;

	if (!arg)
		return 0;
	__builtin_memcpy(&key, arg, sizeof(key));	/* as pw_flow_lookup */
	if (bpf_map_update_elem(&pw_flows, &key, &flow, flags) == 0) {
		pw_stat_inc(who == PW_FLOW_LOCAL ? PW_STAT_FLOWS_LOCAL :
						   PW_STAT_FLOWS_REMOTE);
	} else {
		f = bpf_map_lookup_elem(&pw_flows, &key);
		if (f)
			who = f->initiator;
	}
	set = pw_seen_set_of(&key, &hash);
	pw_seen_write(set, hash, pw_seen_recorded(who));
	return 0;
}

/* An inbound packet to a declared port is a reply when its flow was begun
 * by this host. A TCP SYN opens a flow from outside and needs no lookup.
 * A flow neither pw_seen nor the table knows was begun outside: pw_seen
 * marks it so (no insert here; egress records the flow if this host
 * answers). With conntrack (ct), the first packet of such a flow asks it
 * (as pw_ct_worth_asking allows), for a flow under way before we attached
 * may be this host's: then it is recorded local. So conntrack is asked
 * once per flow. */
static __always_inline bool pw_inbound_is_reply(const struct pw_frame *fr,
						enum pw_ct ct,
						const struct pw_pkt *p)
{
	struct pw_flow_key key;
	__u32 state;

	if (pw_tcp_opens(p))
		return false;
	pw_flow_key_of(p, &key);
	state = pw_flow_lookup(&key, 1);
	if (state)
		return state == PW_SEEN_LOCAL;
	if (ct && pw_ct_worth_asking(p) &&
	    pw_ct_ask(fr, ct, p, true) == PW_FLOW_LOCAL) {
		pw_flow_record(&key, PW_FLOW_LOCAL, BPF_NOEXIST);
		return true;
	}
	return false;
}

/* What the probe's counting needs of a packet. The work on it is done by
 * global functions, which the verifier checks once each rather than along
 * every path of the parser (the ingress programs are near its limit). */
struct pw_probe_pkt {
	__u64 payload[sizeof(struct pw_probe_payload) / 8]; /* its first bytes */
	__u32 addr[4];		/* the remote host, as pw_pkt has it */
	__u32 slot;
	__u32 idx;		/* dense index */
	__u32 payload_len;
	__u8 l4proto;
	__u8 tcp_flags;
	__u8 pad[2];
};

static __always_inline void pw_probe_pkt_of(const struct pw_pkt *p, __u32 slot,
					    __u32 idx, struct pw_probe_pkt *pp)
{
	__builtin_memcpy(pp->addr, p->remote_addr, sizeof(pp->addr));
	pp->slot = slot;
	pp->idx = idx;
	pp->l4proto = p->l4proto;
	/* Copied, not judged: a branch here is one more on every path of
	 * the parser the verifier walks. */
	pp->tcp_flags = p->tcp_flags;
	pp->payload[0] = pp->payload[1] = pp->payload[2] = 0;
}

static __always_inline bool pw_probe_is_payload(const __u64 *got)
{
	return got[0] == pw_decl.probe_payload[0] &&
	       got[1] == pw_decl.probe_payload[1] &&
	       got[2] == pw_decl.probe_payload[2];
}

/* Adds n to the 64-bit counter of key in a hash map, inserting it when
 * absent; two CPUs may insert the same key: the loser adds to the
 * winner's. A key the map has no room for counts in the stat lost. */
static __always_inline void pw_hash_add(void *map, const void *key, __u64 n,
					__u32 lost)
{
	__u64 *v;
	int i;

	for (i = 0; i < 2; i++) {
		v = bpf_map_lookup_elem(map, key);
		if (v) {
			__sync_fetch_and_add(v, n);
			return;
		}
		if (!bpf_map_update_elem(map, key, &n, BPF_NOEXIST))
			return;
	}
	pw_stat_inc(lost);
}

/* A SYN of a host not marked (yet): kept by host and port, for verify to
 * take if a datagram with the token comes from that host later. */
static __always_inline void pw_probe_syn_wait(const struct pw_probe_pkt *pp)
{
	struct pw_probe_syn_key key = { .slot = pp->slot };
	struct pw_probe_syn *v, first = { .c.arrived = 1 };
	int i;

	__builtin_memcpy(key.addr, pp->addr, sizeof(key.addr));
	for (i = 0; i < 2; i++) {
		v = bpf_map_lookup_elem(&pw_probe_syns, &key);
		if (v) {
			__sync_fetch_and_add(&v->c.arrived, 1);
			return;
		}
		if (!bpf_map_update_elem(&pw_probe_syns, &key, &first, BPF_NOEXIST))
			return;
	}
}

/* While verify --probe counts: an unsolicited packet to a declared port
 * that may be the probe's. A datagram whose whole payload is the token's
 * marks its host; a TCP SYN counts when its host is marked, else waits in
 * pw_probe_syns. */
__noinline int pw_probe_arrived(const struct pw_probe_pkt *pp)
{
	struct pw_probe_host_key host;
	struct pw_probe_count *c;
	__u32 idx;

	if (!pp)
		return 0;
	__builtin_memcpy(host.addr, pp->addr, sizeof(host.addr));
	if (pw_opens(pp->l4proto, pp->tcp_flags)) {
		if (!bpf_map_lookup_elem(&pw_probe_hosts, &host)) {
			pw_probe_syn_wait(pp);
			return 0;
		}
	} else if (pp->l4proto != IPPROTO_UDP ||
		   pp->payload_len != sizeof(pp->payload) ||
		   !pw_probe_is_payload(pp->payload)) {
		return 0;
	} else {
		pw_hash_add(&pw_probe_hosts, &host, 1, PW_STAT_PROBE_LOST);
	}
	idx = pp->idx;
	c = bpf_map_lookup_elem(&pw_probe_ports, &idx);
	if (c)
		__sync_fetch_and_add(&c->arrived, 1);
	return 0;
}

/* The caller's part: the payload read from wherever it lies (the linear
 * part, or fragments), which needs the program's own context. */
static __always_inline void pw_probe_inbound(const struct pw_frame *fr,
					     const struct pw_pkt *p,
					     __u32 slot, __u32 idx)
{
	__u32 off = p->l3_off + p->hdr_len;
	struct pw_probe_pkt pp;

	pw_probe_pkt_of(p, slot, idx, &pp);
	pp.payload_len = p->ip_len - p->hdr_len;
	if (pp.payload_len == sizeof(pp.payload)) {
		if (fr->xdp)
			bpf_xdp_load_bytes(fr->ctx, off, pp.payload, sizeof(pp.payload));
		else
			bpf_skb_load_bytes(fr->ctx, off, pp.payload, sizeof(pp.payload));
	}
	pw_probe_arrived(&pp);
}

/* segs: how many wire packets this buffer stands for (GRO aggregates). */
static __always_inline void pw_count_inbound(const struct pw_frame *fr,
					     enum pw_ct ct, int parsed,
					     const struct pw_pkt *p, __u32 segs)
{
	struct pw_port_count *c;
	struct pw_other_count *o;
	__u32 slot, index1, key;
	bool reply;

	switch (parsed) {
	case PW_PARSE_L4:
		break;
	case PW_PARSE_NOT_IP:
		pw_stat_inc(PW_STAT_NOT_IP);
		return;
	case PW_PARSE_OTHER_L4:
		pw_stat_inc(PW_STAT_OTHER_L4);
		return;
	case PW_PARSE_FRAGMENT:
		pw_stat_inc(PW_STAT_FRAGMENTS);
		return;
	default:
		pw_stat_inc(PW_STAT_MALFORMED);
		return;
	}

	slot = pw_slot(p);
	index1 = pw_index1(slot);
	if (!index1) {
		key = slot / PW_OTHER_LANES;
		o = bpf_map_lookup_elem(&pw_other, &key);
		if (o)
			o->packets[slot & (PW_OTHER_LANES - 1)] += segs;
		return;
	}
	key = index1 - 1;
	c = bpf_map_lookup_elem(&pw_counts, &key);
	if (!c)
		return;
	reply = pw_inbound_is_reply(fr, ct, p);
	if (reply)
		c->replies += segs;
	else
		c->unsolicited += segs;
	/* Every segment of an aggregate carried its own headers. */
	c->bytes += p->ip_len + (__u64)(segs - 1) * p->hdr_len;
	/* Last, after the counters: the verifier walks this branch on
	 * every path of the parser, so the less that follows it the better. */
	if (!reply && pw_decl.probe_state == PW_PROBE_COUNTING)
		pw_probe_inbound(fr, p, slot, key);
}

/* When the headers lie beyond the linear part, pull them in once and
 * parse again. Not inlined: the rare path stays out of the hot one's
 * registers (a static function, verified where it is called). */
static __noinline int pw_parse_pulled(struct __sk_buff *skb, bool ingress,
				      struct pw_frame *fr, struct pw_pkt *p)
{
	bpf_skb_pull_data(skb, skb->len < PW_PULL_MAX ? skb->len : PW_PULL_MAX);
	fr->data = (void *)(long)skb->data;
	fr->end = (void *)(long)skb->data_end;
	return pw_parse(fr->data, fr->end, skb->len, pw_l2_none, ingress, p);
}

/* TC sees the linear part of the skb directly; when headers lie beyond it,
 * pull them in once and parse again. *paged: the skb had data beyond its
 * linear part as it came (before any pull). */
static __always_inline int pw_parse_skb(struct __sk_buff *skb, bool ingress,
					struct pw_frame *fr, struct pw_pkt *p,
					bool *paged)
{
	int r;

	fr->ctx = skb;
	fr->xdp = false;
	fr->data = (void *)(long)skb->data;
	fr->end = (void *)(long)skb->data_end;
	*paged = skb->len > fr->end - fr->data;
	r = pw_parse(fr->data, fr->end, skb->len, pw_l2_none, ingress, p);
	if (r == PW_PARSE_SHORT && *paged)
		r = pw_parse_pulled(skb, ingress, fr, p);
	return r;
}

/* A frame whose lengths fail against its linear part: parsed again
 * against its whole length when it has fragments (jumbo frames,
 * xdp.frags). Not inlined, as pw_parse_pulled. */
static __noinline int pw_parse_frags(struct xdp_md *ctx, struct pw_pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 len = bpf_xdp_get_buff_len(ctx);

	if (len <= end - data)
		return PW_PARSE_MALFORMED;
	return pw_parse(data, end, len, pw_l2_none, true, p);
}

static __always_inline int pw_xdp(struct xdp_md *ctx, bool ct)
{
	struct pw_frame fr = {
		.ctx = ctx,
		.xdp = true,
		.data = (void *)(long)ctx->data,
		.end = (void *)(long)ctx->data_end,
	};
	struct pw_pkt p;
	int r;

	/* The lengths in the headers are checked against the linear part;
	 * only a frame that fails that may have more in fragments (jumbo
	 * frames, xdp.frags), so only that one pays for asking. */
	r = pw_parse(fr.data, fr.end, fr.end - fr.data, pw_l2_none, true, &p);
	if (r == PW_PARSE_MALFORMED)
		r = pw_parse_frags(ctx, &p);
	pw_count_inbound(&fr, ct ? PW_CT_XDP : PW_CT_NONE, r, &p, 1);
	return XDP_PASS;
}

static __always_inline int pw_tc_in(struct __sk_buff *skb, bool ct)
{
	struct pw_frame fr;
	struct pw_pkt p;
	__u32 segs = 1;
	bool paged;
	int r;

	r = pw_parse_skb(skb, true, &fr, &p, &paged);
	if (r == PW_PARSE_L4 && pw_may_be_aggregate(&p, paged))
		segs = pw_wire_segs(&p, skb->gso_segs, skb->gso_size);
	pw_count_inbound(&fr, ct ? PW_CT_SKB : PW_CT_NONE, r, &p, segs);
	return TC_ACT_UNSPEC;
}

/* A refusal leaving on egress, as pw_tc_out saw it. */
struct pw_refusal {
	__u32 remote_addr[4];	/* TCP: where the RST goes */
	__u32 l3_off;
	__u32 l4_off;		/* ICMP: its header */
	__u16 local_port;	/* TCP, network order */
	__u16 remote_port;
	__u8 l4proto;		/* IPPROTO_TCP, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	__u8 family;
	__u8 pad[2];
};

/* The flow key of the packet an ICMP error quotes (it went from the
 * remote host to this one); 0 when it is no port unreachable of one. */
static __always_inline int pw_refused_datagram(struct __sk_buff *skb,
					       const struct pw_refusal *rf,
					       struct pw_flow_key *key)
{
	__u32 off = rf->l4_off + 8;	/* the quoted packet */
	struct ipv6hdr in6;
	struct iphdr in;
	__be16 ports[2];
	__u8 icmp[2];

	if (bpf_skb_load_bytes(skb, rf->l4_off, icmp, sizeof(icmp)))
		return 0;
	if (rf->l4proto == IPPROTO_ICMP) {
		if (icmp[0] != PW_ICMP_UNREACH || icmp[1] != PW_ICMP_PORT_UNREACH ||
		    bpf_skb_load_bytes(skb, off, &in, sizeof(in)) ||
		    in.ihl < 5 || (bpf_ntohs(in.frag_off) & IP_OFFSET))
			return 0;
		key->proto = in.protocol;
		pw_addr_v4(key->remote_addr, in.saddr);
		off += in.ihl * 4;
	} else {
		if (icmp[0] != PW_ICMPV6_UNREACH || icmp[1] != PW_ICMPV6_PORT_UNREACH ||
		    bpf_skb_load_bytes(skb, off, &in6, sizeof(in6)))
			return 0;
		key->proto = in6.nexthdr;
		__builtin_memcpy(key->remote_addr, &in6.saddr, sizeof(key->remote_addr));
		off += sizeof(in6);
	}
	if ((key->proto != IPPROTO_UDP && key->proto != IPPROTO_TCP) ||
	    bpf_skb_load_bytes(skb, off, ports, sizeof(ports)))
		return 0;
	key->remote_port = ports[0];
	key->local_port = ports[1];
	return 1;
}

/* Counts a refusal on the declared port it answers, unless it answers a
 * flow this host began. An RST refuses when its sequence number is 0: the
 * answer to a segment without ACK (a SYN), from the kernel for a port no
 * socket listens on, or from a firewall's reject. */
__noinline int pw_refusal_out(struct __sk_buff *skb, const struct pw_refusal *rf)
{
	struct pw_flow_key key = {};
	struct pw_port_drops *d;
	__u32 seq, index1, off;
	__u8 vihl;

	if (!rf)
		return 0;
	if (rf->l4proto == IPPROTO_TCP) {
		/* Where the TCP header starts: an RST this host makes has no
		 * IPv6 extension header; one that has is passed over. */
		if (rf->family == 4) {
			if (bpf_skb_load_bytes(skb, rf->l3_off, &vihl, 1))
				return 0;
			off = rf->l3_off + (vihl & 0xf) * 4;
		} else {
			if (bpf_skb_load_bytes(skb, rf->l3_off + 6, &vihl, 1) ||
			    vihl != IPPROTO_TCP)
				return 0;
			off = rf->l3_off + sizeof(struct ipv6hdr);
		}
		if (bpf_skb_load_bytes(skb, off + 4, &seq, sizeof(seq)) || seq)
			return 0;
		__builtin_memcpy(key.remote_addr, rf->remote_addr, sizeof(key.remote_addr));
		key.local_port = rf->local_port;
		key.remote_port = rf->remote_port;
		key.proto = IPPROTO_TCP;
	} else if (!pw_refused_datagram(skb, rf, &key)) {
		return 0;
	}
	index1 = pw_index1(pw_slot_of(key.proto, key.local_port));
	if (!index1 || pw_flow_begun_here(&key))
		return 0;
	index1 -= 1;
	d = bpf_map_lookup_elem(&pw_drops, &index1);
	if (d)
		__sync_fetch_and_add(&d->refused, 1);
	return 0;
}

static __always_inline void pw_refusal_of(struct __sk_buff *skb,
					  const struct pw_pkt *p)
{
	struct pw_refusal rf = {
		.l3_off = p->l3_off,
		.l4_off = p->l3_off + p->hdr_len,
		.local_port = p->local_port,
		.remote_port = p->remote_port,
		.l4proto = p->l4proto,
		.family = p->family,
	};

	__builtin_memcpy(rf.remote_addr, p->remote_addr, sizeof(rf.remote_addr));
	pw_refusal_out(skb, &rf);
}

/* Record the flows this host begins, on declared ports only (replies to
 * an undeclared port are not classified): a TCP SYN, or the first UDP
 * datagram of a flow not yet known. That datagram may answer a flow the
 * remote side began: pw_seen says so, else conntrack (ct) when it knows,
 * else it is ours. Any other TCP packet needs nothing: its SYN said who
 * began the connection. A UDP packet of a known flow costs a look at its
 * pw_seen set. */
static __always_inline int pw_tc_out(struct __sk_buff *skb, bool ct)
{
	struct pw_flow_key key;
	struct pw_frame fr;
	struct pw_pkt p;
	__u32 who = 0, state;
	bool paged;
	int r;

	r = pw_parse_skb(skb, false, &fr, &p, &paged);
	if (r == PW_PARSE_MALFORMED || r == PW_PARSE_SHORT) {
		pw_stat_inc(PW_STAT_EGRESS_UNPARSED);
		return TC_ACT_UNSPEC;
	}
	if (r == PW_PARSE_OTHER_L4 &&
	    (p.l4proto == IPPROTO_ICMP || p.l4proto == IPPROTO_ICMPV6)) {
		pw_refusal_of(skb, &p);
		return TC_ACT_UNSPEC;
	}
	if (r != PW_PARSE_L4 || !pw_index1(pw_slot(&p)))
		return TC_ACT_UNSPEC;
	if (p.l4proto == IPPROTO_TCP && (p.tcp_flags & TCP_FLAG_RST)) {
		pw_refusal_of(skb, &p);
		return TC_ACT_UNSPEC;
	}

	if (pw_tcp_opens(&p)) {
		pw_flow_key_of(&p, &key);
		pw_flow_record(&key, PW_FLOW_LOCAL, BPF_ANY);
		return TC_ACT_UNSPEC;
	}
	if (p.l4proto != IPPROTO_UDP)
		return TC_ACT_UNSPEC;
	pw_flow_key_of(&p, &key);
	state = pw_flow_lookup(&key, 0);
	if (state == PW_SEEN_LOCAL || state == PW_SEEN_ANSWERED)
		return TC_ACT_UNSPEC;
	if (state == PW_SEEN_REMOTE)
		who = PW_FLOW_REMOTE;
	else if (ct && pw_ct_worth_asking(&p))
		who = pw_ct_ask(&fr, PW_CT_SKB, &p, false);
	pw_flow_record(&key, who ? who : PW_FLOW_LOCAL, BPF_NOEXIST);
	return TC_ACT_UNSPEC;
}

/* The drop tracer's, in the plain programs' object only (below). */
#ifndef PW_CT
/* Was skb received on the watched interface (or one stacked on it) of
 * the loader's network namespace? Another namespace's interface may have
 * the same index. */
static __always_inline bool pw_drop_is_ours(struct sk_buff *skb)
{
	__u32 iif = skb->skb_iif;
	struct net_device *dev;
	int i;

	if (!iif)
		return false;	/* made on this host, not received */
	for (i = 0; i < PW_DROP_IFACES; i++)
		if (pw_decl.drop_ifindex[i] == iif)
			goto netns;
	return false;
netns:
	dev = skb->dev;
	return dev && dev->nd_net.net->ns.inum == pw_decl.netns_ino;
}

/* map: pw_drop_reasons or pw_probe_reasons; lost: the stat of a pair
 * it had no room for. */
static __always_inline void pw_drop_reason_add(void *map, __u32 lost,
					       __u32 index, __u32 reason,
					       __u32 segs)
{
	struct pw_drop_reason_key key = { .index = index, .reason = reason };

	pw_hash_add(map, &key, segs, lost);
}

static __always_inline void pw_probe_count_drop(struct pw_probe_count *c,
						__u32 cls)
{
	if (cls == PW_DROP_FIREWALL)
		__sync_fetch_and_add(&c->firewall, 1);
	else if (cls == PW_DROP_NO_LISTENER)
		__sync_fetch_and_add(&c->no_listener, 1);
	else
		__sync_fetch_and_add(&c->other, 1);
}

/* While verify --probe runs: the drop of a packet ingress may have
 * counted as the probe's. A SYN goes where its arrival went: pw_probe_syns
 * while the entry there awaits a fate, else pw_probe_ports when its host
 * is marked (verify adds a marked host's entries of both together). A
 * datagram is the probe's when its host is marked and it has the
 * payload's length, and, where the payload could be read (all of it in
 * the skb's head, as small datagrams are), it carries the token.
 * payload_len and the payload are the tracer's to fill. */
__noinline int pw_probe_dropped(const struct pw_probe_pkt *pp, __u32 cls,
				__u32 reason, __u32 payload_readable)
{
	struct pw_probe_host_key host;
	struct pw_probe_syn_key sk;
	struct pw_probe_count *c;
	struct pw_probe_syn *syn;
	__u32 idx;

	if (!pp)
		return 0;
	__builtin_memcpy(host.addr, pp->addr, sizeof(host.addr));
	if (pw_opens(pp->l4proto, pp->tcp_flags)) {
		__builtin_memcpy(sk.addr, pp->addr, sizeof(sk.addr));
		sk.slot = pp->slot;
		syn = bpf_map_lookup_elem(&pw_probe_syns, &sk);
		if (syn && syn->c.arrived > syn->c.firewall + syn->c.no_listener +
					    syn->c.other) {
			pw_probe_count_drop(&syn->c, cls);
			if (cls == PW_DROP_OTHER)
				syn->other_reason = reason;
			return 0;
		}
		if (!bpf_map_lookup_elem(&pw_probe_hosts, &host))
			return 0;
	} else if (pp->l4proto != IPPROTO_UDP ||
		   pp->payload_len != sizeof(pp->payload) ||
		   !bpf_map_lookup_elem(&pw_probe_hosts, &host) ||
		   (payload_readable && !pw_probe_is_payload(pp->payload))) {
		return 0;
	}
	idx = pp->idx;
	c = bpf_map_lookup_elem(&pw_probe_ports, &idx);
	if (!c)
		return 0;
	pw_probe_count_drop(c, cls);
	if (cls == PW_DROP_OTHER)
		pw_drop_reason_add(&pw_probe_reasons, PW_STAT_PROBE_LOST, idx,
				   reason, 1);
	return 0;
}

static __always_inline void pw_probe_drop(const struct pw_pkt *p,
					  const struct pw_drop_udp *udp,
					  __u32 slot, __u32 idx, __u32 cls,
					  __u32 reason)
{
	struct pw_probe_pkt pp;
	__u32 readable = 0;

	pw_probe_pkt_of(p, slot, idx, &pp);
	pp.payload_len = udp->len;
	if (p->l4proto == IPPROTO_UDP && udp->len == sizeof(pp.payload) &&
	    udp->linear)
		readable = !bpf_probe_read_kernel(pp.payload, sizeof(pp.payload),
						  (void *)udp->payload);
	pw_probe_dropped(&pp, cls, reason, readable);
}

/* A drop of an unsolicited packet to a declared port, by class. Replies
 * (flows this host began) are left out, as ingress counts them apart. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(pw_kfree_skb, struct sk_buff *skb, void *location,
	     enum skb_drop_reason reason)
{
	struct pw_drop_udp udp = {};
	struct pw_port_drops *d;
	struct pw_flow_key key;
	struct pw_pkt p;
	__u32 cls, slot, index1, idx, r, segs = 1;

	r = (__u32)reason;
	if (r < PW_DROP_REASONS) {
		barrier_var(r);	/* the mask the verifier sees */
		cls = pw_decl.drop_class[r & (PW_DROP_REASONS - 1)];
	} else {
		cls = PW_DROP_OTHER;
	}
	if (cls == PW_DROP_IGNORE || !pw_drop_is_ours(skb))
		return 0;
	if (pw_drop_parse(skb, &p, &segs, &udp) != PW_PARSE_L4)
		return 0;
	slot = pw_slot(&p);
	index1 = pw_index1(slot);
	if (!index1)
		return 0;
	if (!pw_tcp_opens(&p)) {
		pw_flow_key_of(&p, &key);
		if (pw_flow_begun_here(&key))
			return 0;
	}
	idx = index1 - 1;
	d = bpf_map_lookup_elem(&pw_drops, &idx);
	if (!d)
		return 0;
	if (cls == PW_DROP_FIREWALL) {
		__sync_fetch_and_add(&d->firewall, segs);
	} else if (cls == PW_DROP_NO_LISTENER) {
		__sync_fetch_and_add(&d->no_listener, segs);
	} else {
		__sync_fetch_and_add(&d->other, segs);
		pw_drop_reason_add(&pw_drop_reasons, PW_STAT_DROP_REASONS_LOST,
				   idx, (__u32)reason, segs);
	}
	if (pw_decl.probe_state != PW_PROBE_OFF)
		pw_probe_drop(&p, &udp, slot, idx, cls, (__u32)reason);
	return 0;
}
#endif

/* Each program comes twice: plain, and asking conntrack. This file is
 * built twice (Makefile): portwitness.bpf.o holds the plain programs and
 * the drop tracer, portwitness_ct.bpf.o (PW_CT) the _ct programs alone.
 * An object that names a kfunc must resolve it to load at all, and where
 * nf_conntrack is a module its kfuncs are in the module's BTF, which
 * libbpf reaches only with CAP_SYS_ADMIN; so the loader opens the second
 * object only where conntrack's kfuncs are in reach, and has it share the
 * first one's maps. Names fit in 15 bytes. */
#ifdef PW_CT
SEC("xdp.frags")
int pw_xdp_ingr_ct(struct xdp_md *ctx)
{
	return pw_xdp(ctx, true);
}

SEC("tc")
int pw_tc_ingr_ct(struct __sk_buff *skb)
{
	return pw_tc_in(skb, true);
}

SEC("tc")
int pw_tc_egr_ct(struct __sk_buff *skb)
{
	return pw_tc_out(skb, true);
}
#else
SEC("xdp.frags")
int pw_xdp_ingress(struct xdp_md *ctx)
{
	return pw_xdp(ctx, false);
}

SEC("tc")
int pw_tc_ingress(struct __sk_buff *skb)
{
	return pw_tc_in(skb, false);
}

SEC("tc")
int pw_tc_egress(struct __sk_buff *skb)
{
	return pw_tc_out(skb, false);
}
#endif
