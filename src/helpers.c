// SPDX-License-Identifier: GPL-2.0
/*
 * C wrappers for static inline functions and macros used by virtio_net_rust.
 * Each one does exactly what the wrapped function or macro does.
 */
#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/netdevice.h>
#include <linux/virtio_net.h>

#include "helpers.h"

/* The bits helpers.h gives the Rust side (see there). */
static_assert(VNR_QUEUE_STATE_DRV_XOFF == __QUEUE_STATE_DRV_XOFF);
static_assert(VNR_SG_CHAIN == SG_CHAIN);
static_assert(VNR_SG_END == SG_END);

bool vnr_virtio_has_feature(const struct virtio_device *vdev, unsigned int fbit)
{
	return virtio_has_feature(vdev, fbit);
}

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

/*
 * Maps the skb with the @hdr_len bytes in front of its data (the pushed header)
 * into @sg; the skb's data pointer is left as it was.
 */
VNR_HOT int vnr_skb_to_sgvec_with_hdr(struct sk_buff *skb, struct scatterlist *sg,
			      unsigned int hdr_len)
{
	int n;

	__skb_push(skb, hdr_len);
	n = skb_to_sgvec(skb, sg, 0, skb->len);
	__skb_pull(skb, hdr_len);
	return n;
}

/*
 * Fills @info from @skb (struct vnr_tx_info); can_push is virtio_net's
 * start_xmit "can_push" for a @hdr_len-byte header: data aligned for the
 * header, headroom for it, not shared with a clone. Also takes the software
 * transmit timestamp, before the device may see the packet.
 */
VNR_HOT void vnr_skb_tx_begin(struct sk_buff *skb, unsigned int hdr_len,
			      struct vnr_tx_info *info)
{
	bool partial = skb->ip_summed == CHECKSUM_PARTIAL;

	info->partial_csum = partial;
	info->csum_start = partial ? skb_checksum_start_offset(skb) : 0;
	info->csum_offset = partial ? skb->csum_offset : 0;
	info->gso_size = skb_is_gso(skb) ? skb_shinfo(skb)->gso_size : 0;
	info->gso_type = skb_shinfo(skb)->gso_type;
	info->headlen = skb_headlen(skb);
	info->can_push = !((unsigned long)skb->data &
			   (__alignof__(struct virtio_net_hdr_mrg_rxbuf) - 1)) &&
			 !skb_header_cloned(skb) && skb_headroom(skb) >= hdr_len;
	info->frag_list = skb_has_frag_list(skb);
	info->nr_frags = skb_shinfo(skb)->nr_frags;
	skb_tx_timestamp(skb);
}

VNR_HOT void vnr_skb_csum_unnecessary(struct sk_buff *skb)
{
	skb->ip_summed = CHECKSUM_UNNECESSARY;
}

VNR_HOT bool vnr_skb_is_gso(const struct sk_buff *skb)
{
	return skb_is_gso(skb);
}

/*
 * Applies the checksum and GSO state of a received virtio-net header to @skb,
 * whose data starts at the Ethernet header, with the kernel's own
 * virtio_net_hdr_to_skb() as the in-tree driver does (a VERSION_1 device is
 * little-endian). Returns 0, or -EINVAL for a header the packet contradicts.
 */
VNR_HOT int vnr_skb_apply_net_hdr(struct sk_buff *skb, u8 flags, u8 gso_type,
			  u16 hdr_len, u16 gso_size, u16 csum_start,
			  u16 csum_offset)
{
	struct virtio_net_hdr hdr = {
		.flags = flags,
		.gso_type = gso_type,
		.hdr_len = __cpu_to_virtio16(true, hdr_len),
		.gso_size = __cpu_to_virtio16(true, gso_size),
		.csum_start = __cpu_to_virtio16(true, csum_start),
		.csum_offset = __cpu_to_virtio16(true, csum_offset),
	};

	return virtio_net_hdr_to_skb(skb, &hdr, true);
}

/*
 * A receive buffer of @len bytes (a multiple of VNR_RX_FRAG_ALIGN) cut from
 * the front of @pf's page, as virtio_net's add_recvbuf_mergeable() cuts them
 * from its queue's alloc_frag: buffers cut one after another are adjacent, so
 * the buffers of one packet coalesce into few skb fragments. The buffer holds
 * a page reference of its own. Never sleeps; the caller serializes use of @pf.
 */
VNR_HOT void *vnr_page_frag_alloc(struct page_frag *pf, unsigned int len)
{
	void *buf;

	if (unlikely(!skb_page_frag_refill(len, pf, GFP_ATOMIC)))
		return NULL;
	buf = page_address(pf->page) + pf->offset;
	get_page(pf->page);
	pf->offset += len;
	return buf;
}

/* Drops @pf's own reference to its page (buffers cut from it keep theirs). */
void vnr_page_frag_release(struct page_frag *pf)
{
	if (pf->page)
		put_page(pf->page);
	pf->page = NULL;
}

VNR_HOT void vnr_skb_free_frag(void *addr)
{
	skb_free_frag(addr);
}

/*
 * Builds the head skb of a received packet: the @len bytes at @buf + @skip
 * (@skip is the virtio header) in a page fragment of @truesize bytes at @buf,
 * whose reference the caller gives up on success; @skip + @len <= @truesize.
 * As virtio_net's page_to_skb(): a packet longer than VNR_RX_COPY_LEN that
 * leaves room for the shared info behind it becomes the skb's head where it
 * lies (no copy, no second allocation). Otherwise a packet that fits a
 * VNR_RX_COPY_LEN skb is copied whole, and of a longer one only the Ethernet
 * header: the rest stays in the page as fragment 0, and
 * virtio_net_hdr_to_skb() and GRO pull the headers they need, so no payload
 * lands in the linear part (GRO and TCP then merge packets by their page
 * fragments instead of stealing heads). Returns NULL, with the fragment
 * untouched, if no skb could be allocated.
 */
VNR_HOT struct sk_buff *vnr_rx_head_skb(struct napi_struct *napi, void *buf,
				unsigned int skip, unsigned int len,
				unsigned int truesize)
{
	char *addr = (char *)buf + skip;
	struct sk_buff *skb;
	struct page *page;
	unsigned int copy;

	if (len > VNR_RX_COPY_LEN &&
	    truesize - skip - len >= SKB_DATA_ALIGN(sizeof(struct skb_shared_info))) {
		skb = napi_build_skb(buf, truesize);
		if (unlikely(!skb))
			return NULL;
		skb_reserve(skb, skip);
		skb_put(skb, len);
		return skb;
	}
	skb = napi_alloc_skb(napi, VNR_RX_COPY_LEN);
	if (unlikely(!skb))
		return NULL;
	copy = len <= skb_tailroom(skb) ? len : ETH_HLEN;
	skb_put_data(skb, addr, copy);
	if (len > copy) {
		page = virt_to_head_page(addr);
		skb_add_rx_frag(skb, 0, page,
				addr + copy - (char *)page_address(page),
				len - copy, truesize);
	} else {
		skb_free_frag(buf);
	}
	return skb;
}

/*
 * A new skb holding a copy of the @len bytes at @addr, a whole packet of at
 * most VNR_RX_COPY_LEN bytes; the receive buffer stays the caller's, to be
 * posted again. NULL if @len is longer or no skb could be allocated.
 */
VNR_HOT struct sk_buff *vnr_rx_copy_skb(struct napi_struct *napi, const void *addr,
				unsigned int len)
{
	struct sk_buff *skb;

	if (unlikely(len > VNR_RX_COPY_LEN))
		return NULL;
	skb = napi_alloc_skb(napi, VNR_RX_COPY_LEN);
	if (unlikely(!skb))
		return NULL;
	skb_put_data(skb, addr, len);
	return skb;
}

/*
 * Appends @len bytes at @addr, in a page fragment of @truesize bytes whose
 * reference the caller gives up on success, to the packet @head whose last
 * skb is @curr (@head itself or the tail of its frag_list). A full skb gets a
 * new one chained behind it; a fragment adjacent to the previous one is
 * coalesced. This is virtio_net's receive_mergeable() loop body. Returns the
 * new last skb, or NULL, with the fragment untouched, if chaining failed.
 */
VNR_HOT struct sk_buff *vnr_skb_append_frag(struct sk_buff *head, struct sk_buff *curr,
				    void *addr, unsigned int len,
				    unsigned int truesize)
{
	struct page *page = virt_to_head_page(addr);
	int offset = (char *)addr - (char *)page_address(page);
	int nr = skb_shinfo(curr)->nr_frags;

	if (unlikely(nr == MAX_SKB_FRAGS)) {
		struct sk_buff *nskb = alloc_skb(0, GFP_ATOMIC);

		if (unlikely(!nskb))
			return NULL;
		if (curr == head)
			skb_shinfo(curr)->frag_list = nskb;
		else
			curr->next = nskb;
		curr = nskb;
		head->truesize += nskb->truesize;
		nr = 0;
	}
	if (curr != head) {
		head->data_len += len;
		head->len += len;
		head->truesize += truesize;
	}
	if (skb_can_coalesce(curr, nr, page, offset)) {
		put_page(page);
		skb_coalesce_rx_frag(curr, nr - 1, len, truesize);
	} else {
		skb_add_rx_frag(curr, nr, page, offset, len, truesize);
	}
	return curr;
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

void vnr_put_page(struct page *page)
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

void vnr_skb_put_data(struct sk_buff *skb, const void *data, unsigned int len)
{
	skb_put_data(skb, data, len);
}

void vnr_skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page,
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

void vnr_init_work(struct work_struct *work, work_func_t func)
{
	INIT_WORK(work, func);
}

bool vnr_schedule_work(struct work_struct *work)
{
	return schedule_work(work);
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
