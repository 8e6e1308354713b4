// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program that answers IPv4 pings itself: an ICMP echo request becomes
 * the reply (addresses swapped, type 0, checksum adjusted) and goes back out of
 * the interface it came in on, with XDP_TX or, built with -DREDIRECT, with
 * bpf_redirect() to the same interface (the driver's ndo_xdp_xmit). Every other
 * frame (ARP among them) is passed to the stack.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>

/* <linux/icmp.h> pulls in libc's socket headers, which want a 32-bit libc here. */
#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8
struct icmphdr {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 rest;
};

static long (*bpf_redirect)(__u32 ifindex, __u64 flags) = (void *)BPF_FUNC_redirect;

/* Built with -DFRAGS: a multi-buffer program (jumbo pings, their headers in the
 * first buffer). */
#ifdef FRAGS
#define SECTION "xdp.frags"
#else
#define SECTION "xdp"
#endif

__attribute__((section(SECTION), used))
int echo(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct icmphdr *icmp = data + sizeof(*eth) + sizeof(*ip);
	unsigned char mac[ETH_ALEN];
	__u32 addr, sum;
	__u16 old;
	int i;

	if ((void *)(icmp + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != __builtin_bswap16(ETH_P_IP) || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_ICMP || icmp->type != ICMP_ECHO)
		return XDP_PASS;
	for (i = 0; i < ETH_ALEN; i++) {
		mac[i] = eth->h_dest[i];
		eth->h_dest[i] = eth->h_source[i];
		eth->h_source[i] = mac[i];
	}
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	/* Type 8 -> 0, checksum updated for the changed word (RFC 1624). */
	old = *(__u16 *)icmp;
	icmp->type = ICMP_ECHOREPLY;
	sum = (__u16)~icmp->checksum + (__u16)~old + *(__u16 *)icmp;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	icmp->checksum = ~sum;
#ifdef REDIRECT
	return bpf_redirect(ctx->ingress_ifindex, 0);
#else
	return XDP_TX;
#endif
}

char _license[] __attribute__((section("license"), used)) = "GPL";
