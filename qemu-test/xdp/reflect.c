// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program that sends every Ethernet frame back where it came from: the
 * MAC addresses swapped, XDP_TX (`make bench`'s xdp_tx workload).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>

__attribute__((section("xdp"), used))
int reflect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];
	int i;

	if ((void *)(eth + 1) > end)
		return XDP_DROP;
	for (i = 0; i < ETH_ALEN; i++) {
		mac[i] = eth->h_dest[i];
		eth->h_dest[i] = eth->h_source[i];
		eth->h_source[i] = mac[i];
	}
	return XDP_TX;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
