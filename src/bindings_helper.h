/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The C headers that virtio_net_rust's own bindings are generated from.
 * Only the items named in bindings.allow end up in Rust.
 */
#include <linux/delay.h>
#include <linux/etherdevice.h>
#include <linux/filter.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>
#include <net/net_failover.h>
#include <net/xdp.h>
#include <net/xdp_sock_drv.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>
#include <uapi/linux/virtio_config.h>
#include <uapi/linux/virtio_ring.h>

#include "helpers.h"

/* Constants bindgen cannot see through macros. */
const size_t VNR_MAX_SKB_FRAGS = MAX_SKB_FRAGS;
const gfp_t VNR_GFP_ATOMIC = GFP_ATOMIC;
const gfp_t VNR_GFP_KERNEL = GFP_KERNEL;
const netdev_features_t VNR_NETIF_F_SG = NETIF_F_SG;
const netdev_features_t VNR_NETIF_F_HW_CSUM = NETIF_F_HW_CSUM;
const netdev_features_t VNR_NETIF_F_TSO = NETIF_F_TSO;
const netdev_features_t VNR_NETIF_F_TSO6 = NETIF_F_TSO6;
const netdev_features_t VNR_NETIF_F_TSO_ECN = NETIF_F_TSO_ECN;
const netdev_features_t VNR_NETIF_F_RXCSUM = NETIF_F_RXCSUM;
const netdev_features_t VNR_NETIF_F_HIGHDMA = NETIF_F_HIGHDMA;
const netdev_features_t VNR_NETIF_F_GRO_HW = NETIF_F_GRO_HW;
const unsigned long VNR_PAGE_SIZE = PAGE_SIZE;
const size_t VNR_SKB_SHINFO_SIZE = SKB_DATA_ALIGN(sizeof(struct skb_shared_info));
const int VNR_ETH_SS_STATS = ETH_SS_STATS;
const size_t VNR_ETH_GSTRING_LEN = ETH_GSTRING_LEN;
const int VNR_EOPNOTSUPP = EOPNOTSUPP;
const int VNR_ETIMEDOUT = ETIMEDOUT;
const u32 VNR_ETHTOOL_COALESCE_SUPPORTED =
	ETHTOOL_COALESCE_USECS | ETHTOOL_COALESCE_MAX_FRAMES;
const unsigned int VNR_IFF_PROMISC = IFF_PROMISC;
const unsigned int VNR_IFF_ALLMULTI = IFF_ALLMULTI;
const unsigned int VNR_IFF_UNICAST_FLT = IFF_UNICAST_FLT;
const unsigned int VNR_IFF_LIVE_ADDR_CHANGE = IFF_LIVE_ADDR_CHANGE;
const unsigned int VNR_IFF_TX_SKB_NO_LINEAR = IFF_TX_SKB_NO_LINEAR;
const netdev_features_t VNR_NETIF_F_HW_VLAN_CTAG_FILTER = NETIF_F_HW_VLAN_CTAG_FILTER;
const netdev_features_t VNR_NETIF_F_RXHASH = NETIF_F_RXHASH;
const u16 VNR_ETH_P_8021Q = ETH_P_8021Q;
const u32 VNR_ETHTOOL_GRXRINGS = ETHTOOL_GRXRINGS;
const u32 VNR_ETHTOOL_GRXFH = ETHTOOL_GRXFH;
const u32 VNR_ETHTOOL_SRXFH = ETHTOOL_SRXFH;
const u32 VNR_FLOW_RSS = FLOW_RSS;
const u8 VNR_ETH_RSS_HASH_TOP = ETH_RSS_HASH_TOP;
const u8 VNR_ETH_RSS_HASH_NO_CHANGE = ETH_RSS_HASH_NO_CHANGE;
const u32 VNR_SKB_GSO_TCPV4 = SKB_GSO_TCPV4;
const u32 VNR_SKB_GSO_TCP_ECN = SKB_GSO_TCP_ECN;
const u32 VNR_SKB_GSO_TCPV6 = SKB_GSO_TCPV6;
const u32 VNR_VLAN_HLEN = VLAN_HLEN;
const u32 VNR_XDP_PACKET_HEADROOM = XDP_PACKET_HEADROOM;
const u32 VNR_XDP_ABORTED = XDP_ABORTED;
const u32 VNR_XDP_DROP = XDP_DROP;
const u32 VNR_XDP_PASS = XDP_PASS;
const u32 VNR_XDP_TX = XDP_TX;
const u32 VNR_XDP_REDIRECT = XDP_REDIRECT;
const u32 VNR_XDP_XMIT_FLUSH = XDP_XMIT_FLUSH;
const int VNR_XDP_SETUP_PROG = XDP_SETUP_PROG;
const u32 VNR_NETDEV_XDP_ACT_BASIC = NETDEV_XDP_ACT_BASIC;
const u32 VNR_NETDEV_XDP_ACT_REDIRECT = NETDEV_XDP_ACT_REDIRECT;
const u32 VNR_NETDEV_XDP_ACT_NDO_XMIT = NETDEV_XDP_ACT_NDO_XMIT;
const u32 VNR_NETDEV_XDP_ACT_RX_SG = NETDEV_XDP_ACT_RX_SG;
const u32 VNR_NETDEV_XDP_ACT_NDO_XMIT_SG = NETDEV_XDP_ACT_NDO_XMIT_SG;
const u32 VNR_XDP_FLAGS_HAS_FRAGS = XDP_FLAGS_HAS_FRAGS;
const u32 VNR_MEM_TYPE_PAGE_SHARED = MEM_TYPE_PAGE_SHARED;
const u32 VNR_MEM_TYPE_XSK_BUFF_POOL = MEM_TYPE_XSK_BUFF_POOL;
const int VNR_XDP_SETUP_XSK_POOL = XDP_SETUP_XSK_POOL;
const u32 VNR_NETDEV_XDP_ACT_XSK_ZEROCOPY = NETDEV_XDP_ACT_XSK_ZEROCOPY;
const u32 VNR_XDP_WAKEUP_RX = XDP_WAKEUP_RX;
const u32 VNR_XDP_WAKEUP_TX = XDP_WAKEUP_TX;
