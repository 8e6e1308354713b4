// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros used by virtio_net_rust.
 * Each one does exactly what the wrapped function or macro does.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/filter.h>
#include <linux/virtio_net.h>
#include <net/xdp.h>
#include <net/xdp_sock_drv.h>
#include <trace/events/xdp.h>

#include "helpers.h"

/* The bits helpers.h gives the Rust side (see there). */
static_assert(VNR_QUEUE_STATE_DRV_XOFF == __QUEUE_STATE_DRV_XOFF);
static_assert(VNR_SG_CHAIN == SG_CHAIN);
static_assert(VNR_SG_END == SG_END);

u64 vnr_virtio_device_features(struct virtio_device *vdev)
{
	return vdev->config->get_features(vdev);
}

u64 vnr_virtio_features(const struct virtio_device *vdev)
{
	return vdev->features;
}

int vnr_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[])
{
	return virtio_find_vqs(vdev, nvqs, vqs, vqs_info, NULL);
}

/* Clears the features not in @keep; only valid from a driver's validate(). */
void vnr_virtio_restrict_features(struct virtio_device *vdev, u64 keep)
{
	vdev->features &= keep;
}

void vnr_virtio_del_vqs(struct virtio_device *vdev)
{
	vdev->config->del_vqs(vdev);
}

void vnr_virtio_device_ready(struct virtio_device *vdev)
{
	virtio_device_ready(vdev);
}

u8 vnr_virtio_get_status(struct virtio_device *vdev)
{
	return vdev->config->get_status(vdev);
}

u8 vnr_virtio_cread8(struct virtio_device *vdev, unsigned int offset)
{
	return virtio_cread8(vdev, offset);
}

u16 vnr_virtio_cread16(struct virtio_device *vdev, unsigned int offset)
{
	return virtio_cread16(vdev, offset);
}

u32 vnr_virtio_cread32(struct virtio_device *vdev, unsigned int offset)
{
	return virtio_cread32(vdev, offset);
}

void vnr_virtio_cread_bytes(struct virtio_device *vdev, unsigned int offset,
			    void *buf, size_t len)
{
	virtio_cread_bytes(vdev, offset, buf, len);
}

void *vnr_virtio_get_priv(struct virtio_device *vdev)
{
	return READ_ONCE(vdev->priv);
}

void vnr_virtio_set_priv(struct virtio_device *vdev, void *priv)
{
	/* Pairs with READ_ONCE() in callbacks that may already run. */
	smp_store_release(&vdev->priv, priv);
}

VNR_HOT struct virtio_device *vnr_virtqueue_vdev(struct virtqueue *vq)
{
	return vq->vdev;
}

const char *vnr_virtio_name(struct virtio_device *vdev)
{
	return dev_name(&vdev->dev);
}

struct device *vnr_virtio_dev(struct virtio_device *vdev)
{
	return &vdev->dev;
}

VNR_HOT void *vnr_netdev_priv(const struct net_device *dev)
{
	return netdev_priv(dev);
}

void vnr_set_netdev_dev(struct net_device *dev, struct virtio_device *vdev)
{
	SET_NETDEV_DEV(dev, &vdev->dev);
}

void vnr_eth_hw_addr_set(struct net_device *dev, const u8 *addr)
{
	eth_hw_addr_set(dev, addr);
}

void vnr_eth_hw_addr_random(struct net_device *dev)
{
	eth_hw_addr_random(dev);
}

void vnr_netdev_addr(const struct net_device *dev, u8 *addr)
{
	ether_addr_copy(addr, dev->dev_addr);
}

void vnr_netdev_set_needed_headroom(struct net_device *dev, u16 headroom)
{
	dev->needed_headroom = headroom;
}

unsigned int vnr_netdev_mtu(const struct net_device *dev)
{
	return READ_ONCE(dev->mtu);
}

const char *vnr_netdev_name(const struct net_device *dev)
{
	return netdev_name(dev);
}

VNR_HOT void vnr_netif_stop_subqueue(struct net_device *dev, u16 queue)
{
	netif_stop_subqueue(dev, queue);
}

VNR_HOT void vnr_netif_wake_subqueue(struct net_device *dev, u16 queue)
{
	netif_wake_subqueue(dev, queue);
}

VNR_HOT bool vnr_netdev_xmit_more(void)
{
	return netdev_xmit_more();
}

void vnr_netif_tx_disable(struct net_device *dev)
{
	netif_tx_disable(dev);
}

void vnr_netif_tx_start_all_queues(struct net_device *dev)
{
	netif_tx_start_all_queues(dev);
}

VNR_HOT struct net_device *vnr_napi_dev(const struct napi_struct *napi)
{
	return napi->dev;
}

VNR_HOT void vnr_eth_type_trans(struct sk_buff *skb, struct net_device *dev)
{
	skb->protocol = eth_type_trans(skb, dev);
}

VNR_HOT void vnr_dev_kfree_skb_any(struct sk_buff *skb)
{
	dev_kfree_skb_any(skb);
}

VNR_HOT void vnr_dev_consume_skb_any(struct sk_buff *skb)
{
	dev_consume_skb_any(skb);
}

VNR_HOT unsigned int vnr_skb_tailroom(const struct sk_buff *skb)
{
	return skb_tailroom(skb);
}

VNR_HOT unsigned int vnr_skb_headlen(const struct sk_buff *skb)
{
	return skb_headlen(skb);
}

VNR_HOT void vnr_skb_record_rx_queue(struct sk_buff *skb, u16 queue)
{
	skb_record_rx_queue(skb, queue);
}

VNR_HOT u8 vnr_skb_ip_summed(const struct sk_buff *skb)
{
	return skb->ip_summed;
}

VNR_HOT int vnr_skb_checksum_start_offset(const struct sk_buff *skb)
{
	return skb_checksum_start_offset(skb);
}

VNR_HOT u16 vnr_skb_csum_offset(const struct sk_buff *skb)
{
	return skb->csum_offset;
}

VNR_HOT unsigned int vnr_skb_headroom(const struct sk_buff *skb)
{
	return skb_headroom(skb);
}

VNR_HOT bool vnr_skb_header_cloned(const struct sk_buff *skb)
{
	return skb_header_cloned(skb);
}

VNR_HOT void vnr_skb_tx_timestamp(struct sk_buff *skb)
{
	skb_tx_timestamp(skb);
}

VNR_HOT void vnr_skb_csum_unnecessary(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

/* A received header's checksum and GSO state (little-endian: VERSION_1). */
VNR_HOT int vnr_virtio_net_hdr_to_skb(struct sk_buff *skb,
				      const struct virtio_net_hdr *hdr)
{
	return virtio_net_hdr_to_skb(skb, hdr, true);
}

VNR_HOT struct skb_shared_info *vnr_skb_shinfo(struct sk_buff *skb)
{
	return skb_shinfo(skb);
}

VNR_HOT void *vnr___skb_push(struct sk_buff *skb, unsigned int len)
{
	return __skb_push(skb, len);
}

VNR_HOT void *vnr___skb_pull(struct sk_buff *skb, unsigned int len)
{
	return __skb_pull(skb, len);
}

VNR_HOT void vnr_skb_reserve(struct sk_buff *skb, int len)
{
	skb_reserve(skb, len);
}

VNR_HOT struct sk_buff *vnr_alloc_skb(unsigned int size, gfp_t gfp)
{
	return alloc_skb(size, gfp);
}

VNR_HOT bool vnr_skb_can_coalesce(struct sk_buff *skb, int i,
				  const struct page *page, int off)
{
	return skb_can_coalesce(skb, i, page, off);
}

VNR_HOT struct page *vnr_virt_to_head_page(const void *addr)
{
	return virt_to_head_page(addr);
}

VNR_HOT void vnr_get_page(struct page *page)
{
	get_page(page);
}

VNR_HOT void vnr_skb_free_frag(void *addr)
{
	skb_free_frag(addr);
}

/* The device's hash of a received packet, over addresses (L3) or ports too. */
VNR_HOT void vnr_skb_set_hash(struct sk_buff *skb, u32 hash, bool l4)
{
	skb_set_hash(skb, hash, l4 ? PKT_HASH_TYPE_L4 : PKT_HASH_TYPE_L3);
}

/* The system's RSS key, the same for every device (netdev_rss_key_fill()). */
void vnr_netdev_rss_key_fill(void *buf, size_t len)
{
	netdev_rss_key_fill(buf, len);
}

struct page *vnr_alloc_page(gfp_t gfp)
{
	return alloc_page(gfp);
}

VNR_HOT void vnr_put_page(struct page *page)
{
	put_page(page);
}

unsigned long vnr_page_private(struct page *page)
{
	return page_private(page);
}

void vnr_set_page_private(struct page *page, unsigned long private)
{
	set_page_private(page, private);
}

VNR_HOT void *vnr_page_address(struct page *page)
{
	return page_address(page);
}

VNR_HOT void vnr_skb_put_data(struct sk_buff *skb, const void *data,
			      unsigned int len)
{
	skb_put_data(skb, data, len);
}

VNR_HOT void vnr_skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page,
				 int off, int size, unsigned int truesize)
{
	skb_add_rx_frag(skb, i, page, off, size, truesize);
}

void vnr_netif_napi_add_tx_weight(struct net_device *dev,
				  struct napi_struct *napi,
				  int (*poll)(struct napi_struct *, int),
				  int weight)
{
	netif_napi_add_tx_weight(dev, napi, poll, weight);
}

void vnr_netif_napi_del(struct napi_struct *napi)
{
	netif_napi_del(napi);
}

VNR_HOT void vnr_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len)
{
	sg_set_buf(sg, buf, len);
}

void vnr_spin_lock_bh(spinlock_t *lock)
{
	spin_lock_bh(lock);
}

void vnr_spin_unlock_bh(spinlock_t *lock)
{
	spin_unlock_bh(lock);
}

/* From softirq context (NAPI), where bottom halves are off already. */
VNR_HOT void vnr_spin_lock(spinlock_t *lock)
{
	spin_lock(lock);
}

VNR_HOT void vnr_spin_unlock(spinlock_t *lock)
{
	spin_unlock(lock);
}

/*
 * Transmit queue locks (txq->_xmit_lock, which the stack holds around
 * ndo_start_xmit), for the driver's transmit ring.
 */
VNR_HOT struct netdev_queue *vnr_netdev_get_tx_queue(struct net_device *dev,
					     unsigned int index)
{
	return index < dev->num_tx_queues ? netdev_get_tx_queue(dev, index) : NULL;
}

void vnr_netif_tx_lock_bh(struct netdev_queue *txq)
{
	__netif_tx_lock_bh(txq);
}

void vnr_netif_tx_unlock_bh(struct netdev_queue *txq)
{
	__netif_tx_unlock_bh(txq);
}

/* From softirq context (NAPI), where bottom halves are off already. */
VNR_HOT void vnr_netif_tx_lock(struct netdev_queue *txq)
{
	__netif_tx_lock(txq, smp_processor_id());
}

VNR_HOT bool vnr_netif_tx_trylock(struct netdev_queue *txq)
{
	return __netif_tx_trylock(txq);
}

VNR_HOT void vnr_netif_tx_unlock(struct netdev_queue *txq)
{
	__netif_tx_unlock(txq);
}

void vnr_cond_resched(void)
{
	cond_resched();
}

void vnr_cpu_relax(void)
{
	cpu_relax();
}

void vnr_netif_addr_lock_bh(struct net_device *dev)
{
	netif_addr_lock_bh(dev);
}

void vnr_netif_addr_unlock_bh(struct net_device *dev)
{
	netif_addr_unlock_bh(dev);
}

int vnr_eth_prepare_mac_addr_change(struct net_device *dev, void *p)
{
	return eth_prepare_mac_addr_change(dev, p);
}

void vnr_eth_commit_mac_addr_change(struct net_device *dev, void *p)
{
	eth_commit_mac_addr_change(dev, p);
}

void vnr_netdev_set_priv_flags(struct net_device *dev, unsigned int flags)
{
	dev->priv_flags |= flags;
}

bool vnr_netif_is_rxfh_configured(const struct net_device *dev)
{
	return netif_is_rxfh_configured(dev);
}

const u8 *vnr_sockaddr_data(const void *p)
{
	return (const u8 *)((const struct sockaddr *)p)->sa_data;
}

void vnr_netdev_set_watchdog(struct net_device *dev, unsigned int ms)
{
	dev->watchdog_timeo = msecs_to_jiffies(ms);
}

void vnr_init_delayed_work(struct delayed_work *dw, work_func_t func)
{
	INIT_DELAYED_WORK(dw, func);
}

/*
 * Schedules @dw on the system workqueue in @ms milliseconds; with @now, a
 * pending run is brought forward instead of left alone.
 */
bool vnr_mod_delayed_work(struct delayed_work *dw, unsigned int ms)
{
	return mod_delayed_work(system_wq, dw, msecs_to_jiffies(ms));
}

bool vnr_schedule_delayed_work(struct delayed_work *dw, unsigned int ms)
{
	return schedule_delayed_work(dw, msecs_to_jiffies(ms));
}

unsigned int vnr_cpumask_nth_online(unsigned int n)
{
	return cpumask_nth(n, cpu_online_mask);
}

unsigned int vnr_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

int vnr_virtqueue_set_affinity(struct virtqueue *vq,
			       const struct cpumask *mask)
{
	return virtqueue_set_affinity(vq, mask);
}

void vnr_netdev_disable_netpoll(struct net_device *dev)
{
	dev->priv_flags |= IFF_DISABLE_NETPOLL;
}

unsigned int vnr_num_online_cpus(void)
{
	return num_online_cpus();
}

VNR_HOT bool vnr_netdev_tx_sent_queue(struct net_device *dev, u16 q, unsigned int bytes,
			      bool more)
{
	return __netdev_tx_sent_queue(netdev_get_tx_queue(dev, q), bytes, more);
}

VNR_HOT void vnr_netdev_tx_completed_queue(struct net_device *dev, u16 q,
				   unsigned int pkts, unsigned int bytes)
{
	netdev_tx_completed_queue(netdev_get_tx_queue(dev, q), pkts, bytes);
}

void vnr_netdev_tx_reset_queue(struct net_device *dev, u16 q)
{
	netdev_tx_reset_queue(netdev_get_tx_queue(dev, q));
}

bool vnr_netif_running(const struct net_device *dev)
{
	return netif_running(dev);
}

const char *vnr_virtio_bus_name(struct virtio_device *vdev)
{
	return virtio_bus_name(vdev);
}

/* XDP */

u32 vnr_xdp_run(struct bpf_prog *prog, struct xdp_buff *xdp)
{
	return bpf_prog_run_xdp(prog, xdp);
}

void vnr_xdp_init_buff(struct xdp_buff *xdp, u32 frame_sz, struct xdp_rxq_info *rxq)
{
	xdp_init_buff(xdp, frame_sz, rxq);
}

void vnr_xdp_prepare_buff(struct xdp_buff *xdp, void *hard_start, u32 headroom, u32 len)
{
	xdp_prepare_buff(xdp, hard_start, headroom, len, true);
}

bool vnr_bpf_prog_has_frags(const struct bpf_prog *prog)
{
	return prog->aux->xdp_has_frags;
}

struct skb_shared_info *vnr_xdp_shinfo(const struct xdp_buff *xdp)
{
	return xdp_get_shared_info_from_buff(xdp);
}

/* An empty frag at addr (of a page or of a compound page's tail page). */
void vnr_skb_frag_fill_virt(struct skb_frag *frag, void *addr)
{
	skb_frag_fill_page_desc(frag, virt_to_page(addr), offset_in_page(addr), 0);
}

void *vnr_skb_frag_address(const struct skb_frag *frag)
{
	return skb_frag_address(frag);
}

void vnr_xdp_update_skb_shared_info(struct sk_buff *skb, u8 nr_frags, unsigned int size,
				    unsigned int truesize)
{
	xdp_update_skb_shared_info(skb, nr_frags, size, truesize, false);
}

void vnr_skb_set_dev(struct sk_buff *skb, struct net_device *dev)
{
	skb->dev = dev;
}

void vnr_skb_metadata_set(struct sk_buff *skb, u8 meta_len)
{
	skb_metadata_set(skb, meta_len);
}

unsigned int vnr_napi_id(struct napi_struct *napi)
{
	return napi->napi_id;
}

void vnr_xdp_exception(struct net_device *dev, struct bpf_prog *prog, u32 act)
{
	trace_xdp_exception(dev, prog, act);
}

int vnr_netdev_bpf_command(struct netdev_bpf *bpf)
{
	return bpf->command;
}

struct bpf_prog *vnr_netdev_bpf_prog(struct netdev_bpf *bpf)
{
	return bpf->prog;
}

struct netlink_ext_ack *vnr_netdev_bpf_extack(struct netdev_bpf *bpf)
{
	return bpf->extack;
}

/* NL_SET_ERR_MSG() without its string literal: msg must be static. */
void vnr_extack_set_msg(struct netlink_ext_ack *extack, const char *msg)
{
	extack->_msg = msg;
}

void vnr_set_xdp_features(struct net_device *dev, u32 features)
{
	dev->xdp_features = features;
}

unsigned int vnr_raw_smp_processor_id(void)
{
	return raw_smp_processor_id();
}

/* skb goes out on txq (skb_set_queue_mapping with the queue's index). */
void vnr_skb_set_txq(struct sk_buff *skb, struct netdev_queue *txq)
{
	skb_set_queue_mapping(skb, txq - txq->dev->_tx);
}

bool vnr_netif_xmit_frozen_or_drv_stopped(struct netdev_queue *txq)
{
	return netif_xmit_frozen_or_drv_stopped(txq);
}

/* The device's own ndo_start_xmit, as the stack calls it (xmit_more = more). */
int vnr_netdev_start_xmit(struct sk_buff *skb, struct net_device *dev, bool more)
{
	return __netdev_start_xmit(dev->netdev_ops, skb, dev, more);
}

bool vnr_dev_xmit_complete(int rc)
{
	return dev_xmit_complete(rc);
}

struct xsk_buff_pool *vnr_netdev_bpf_xsk_pool(struct netdev_bpf *bpf)
{
	return bpf->xsk.pool;
}

u16 vnr_netdev_bpf_xsk_queue(struct netdev_bpf *bpf)
{
	return bpf->xsk.queue_id;
}

struct xdp_buff *vnr_xsk_buff_alloc(struct xsk_buff_pool *pool)
{
	return xsk_buff_alloc(pool);
}

void vnr_xsk_buff_free(struct xdp_buff *xdp)
{
	xsk_buff_free(xdp);
}

void vnr_xsk_buff_set_size(struct xdp_buff *xdp, u32 size)
{
	xsk_buff_set_size(xdp, size);
}

u32 vnr_xsk_pool_get_headroom(struct xsk_buff_pool *pool)
{
	return xsk_pool_get_headroom(pool);
}

u32 vnr_xsk_pool_get_rx_frame_size(struct xsk_buff_pool *pool)
{
	return xsk_pool_get_rx_frame_size(pool);
}

int vnr_xsk_pool_dma_map(struct xsk_buff_pool *pool, struct device *dev)
{
	return xsk_pool_dma_map(pool, dev, 0);
}

void vnr_xsk_pool_dma_unmap(struct xsk_buff_pool *pool)
{
	xsk_pool_dma_unmap(pool, 0);
}

void vnr_xsk_pool_set_rxq_info(struct xsk_buff_pool *pool, struct xdp_rxq_info *rxq)
{
	xsk_pool_set_rxq_info(pool, rxq);
}

bool vnr_xsk_uses_need_wakeup(struct xsk_buff_pool *pool)
{
	return xsk_uses_need_wakeup(pool);
}

void vnr_xsk_set_rx_need_wakeup(struct xsk_buff_pool *pool)
{
	xsk_set_rx_need_wakeup(pool);
}

void vnr_xsk_clear_rx_need_wakeup(struct xsk_buff_pool *pool)
{
	xsk_clear_rx_need_wakeup(pool);
}

bool vnr_xsk_pool_dma_mapped(struct xsk_buff_pool *pool)
{
	return pool->dma_pages;
}

void *vnr_xsk_pool_addrs(struct xsk_buff_pool *pool)
{
	return pool->addrs;
}

struct page **vnr_xsk_pool_umem_pages(struct xsk_buff_pool *pool)
{
	return pool->umem->pgs;
}

u32 vnr_xsk_pool_umem_npgs(struct xsk_buff_pool *pool)
{
	return pool->umem->npgs;
}

void vnr_local_bh_disable(void)
{
	local_bh_disable();
}

void vnr_local_bh_enable(void)
{
	local_bh_enable();
}

u32 vnr_xsk_tx_peek_release_desc_batch(struct xsk_buff_pool *pool, u32 max)
{
	return xsk_tx_peek_release_desc_batch(pool, max);
}

u64 vnr_xsk_tx_desc_addr(struct xsk_buff_pool *pool, u32 i)
{
	return pool->tx_descs[i].addr;
}

u32 vnr_xsk_tx_desc_len(struct xsk_buff_pool *pool, u32 i)
{
	return pool->tx_descs[i].len;
}

void *vnr_xsk_buff_raw_get_data(struct xsk_buff_pool *pool, u64 addr)
{
	return xsk_buff_raw_get_data(pool, addr);
}

/* The device that does DMA for the transport (the PCI function). */
struct device *vnr_virtio_dma_parent(struct virtqueue *vq)
{
	return vq->vdev->dev.parent;
}

void vnr_sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len,
		     unsigned int offset)
{
	sg_set_page(sg, page, len, offset);
}
