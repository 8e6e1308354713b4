// SPDX-License-Identifier: GPL-2.0
/*
 * An XDP program that gives every frame the same verdict, VERDICT (set at
 * build time: XDP_DROP, XDP_PASS, XDP_ABORTED, or a value no kernel defines).
 */
#include <linux/bpf.h>

__attribute__((section("xdp"), used))
int verdict(struct xdp_md *ctx)
{
	return VERDICT;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
