// SPDX-License-Identifier: GPL-2.0
/*
 * A multi-buffer XDP program (section xdp.frags: loaded with
 * BPF_F_XDP_HAS_FRAGS) that passes every frame but those DROP_LEN bytes long in
 * all (set at build time), which it drops. It measures with
 * bpf_xdp_get_buff_len(), which counts the page fragments behind the first
 * buffer: a driver that showed it only part of a jumbo frame would let them by.
 */
#include <linux/bpf.h>

static __u64 (*bpf_xdp_get_buff_len)(struct xdp_md *ctx) = (void *)BPF_FUNC_xdp_get_buff_len;

__attribute__((section("xdp.frags"), used))
int frags(struct xdp_md *ctx)
{
	return bpf_xdp_get_buff_len(ctx) == DROP_LEN ? XDP_DROP : XDP_PASS;
}

char _license[] __attribute__((section("license"), used)) = "GPL";
