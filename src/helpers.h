/* SPDX-License-Identifier: GPL-2.0 */
/*
 * C wrappers for the static inline functions and macros that
 * virtio_net_rust's abstractions need. They have a prefix of their own
 * (vnr_) so they never clash with the kernel's exported rust_helper_*.
 */
#ifndef VNR_HELPERS_H
#define VNR_HELPERS_H

#include <linux/netdevice.h>
#include <net/netdev_queues.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/workqueue.h>

/*
 * Receive buffers in mergeable mode are page fragments aligned to this many
 * bytes (their size is a multiple of it, which frees the low pointer bits to
 * carry the size). A packet of up to VNR_RX_COPY_LEN bytes is copied into a
 * new skb's linear part; a longer one stays in its buffer.
 */
/*
 * Marks the helpers on the per-packet paths. Built with cross-language LTO
 * (Kbuild, VNR_LTO), they are always inlined into their Rust callers: at -Os
 * the inliner keeps a helper that expands several kernel inlines out of line,
 * which costs every packet a call and a return the C driver does not pay.
 */
#ifdef VNR_LTO
#define VNR_HOT __attribute__((__always_inline__))
#else
#define VNR_HOT
#endif

#define VNR_RX_FRAG_ALIGN 64
#define VNR_RX_COPY_LEN 128

/*
 * Bits the Rust side tests or sets itself instead of calling a helper on every
 * packet: the queue state bit of netif_tx_queue_stopped() and the list marks of
 * sg_mark_end(). helpers.c checks them against the kernel's at build time.
 */
#define VNR_QUEUE_STATE_DRV_XOFF 0
#define VNR_SG_CHAIN 0x01UL
#define VNR_SG_END 0x02UL

/* virtio device and configuration space */
u64 vnr_virtio_device_features(struct virtio_device *vdev);
const char *vnr_virtio_bus_name(struct virtio_device *vdev);
u64 vnr_virtio_features(const struct virtio_device *vdev);
int vnr_virtio_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			struct virtqueue *vqs[],
			struct virtqueue_info vqs_info[]);
void vnr_virtio_restrict_features(struct virtio_device *vdev, u64 keep);
void vnr_virtio_del_vqs(struct virtio_device *vdev);
void vnr_virtio_device_ready(struct virtio_device *vdev);
u8 vnr_virtio_get_status(struct virtio_device *vdev);
u8 vnr_virtio_cread8(struct virtio_device *vdev, unsigned int offset);
u16 vnr_virtio_cread16(struct virtio_device *vdev, unsigned int offset);
u32 vnr_virtio_cread32(struct virtio_device *vdev, unsigned int offset);
void vnr_virtio_cread_bytes(struct virtio_device *vdev, unsigned int offset,
			    void *buf, size_t len);
void *vnr_virtio_get_priv(struct virtio_device *vdev);
void vnr_virtio_set_priv(struct virtio_device *vdev, void *priv);
struct virtio_device *vnr_virtqueue_vdev(struct virtqueue *vq);
const char *vnr_virtio_name(struct virtio_device *vdev);
struct device *vnr_virtio_dev(struct virtio_device *vdev);

/* net_device */
void *vnr_netdev_priv(const struct net_device *dev);
void vnr_set_netdev_dev(struct net_device *dev, struct virtio_device *vdev);
void vnr_eth_hw_addr_set(struct net_device *dev, const u8 *addr);
void vnr_eth_hw_addr_random(struct net_device *dev);
void vnr_netdev_addr(const struct net_device *dev, u8 *addr);
void vnr_netdev_set_needed_headroom(struct net_device *dev, u16 headroom);
unsigned int vnr_netdev_mtu(const struct net_device *dev);
const char *vnr_netdev_name(const struct net_device *dev);
void vnr_netif_stop_subqueue(struct net_device *dev, u16 queue);
void vnr_netif_wake_subqueue(struct net_device *dev, u16 queue);
bool vnr_netdev_xmit_more(void);
void vnr_netif_tx_disable(struct net_device *dev);
void vnr_netif_tx_start_all_queues(struct net_device *dev);
bool vnr_netif_running(const struct net_device *dev);
struct net_device *vnr_napi_dev(const struct napi_struct *napi);

/* sk_buff */
void vnr_dev_kfree_skb_any(struct sk_buff *skb);
void vnr_eth_type_trans(struct sk_buff *skb, struct net_device *dev);
void vnr_dev_consume_skb_any(struct sk_buff *skb);
unsigned int vnr_skb_tailroom(const struct sk_buff *skb);
unsigned int vnr_skb_headlen(const struct sk_buff *skb);
void vnr_skb_record_rx_queue(struct sk_buff *skb, u16 queue);
void *vnr___skb_push(struct sk_buff *skb, unsigned int len);
void *vnr___skb_pull(struct sk_buff *skb, unsigned int len);
struct skb_shared_info *vnr_skb_shinfo(struct sk_buff *skb);
u8 vnr_skb_ip_summed(const struct sk_buff *skb);
int vnr_skb_checksum_start_offset(const struct sk_buff *skb);
u16 vnr_skb_csum_offset(const struct sk_buff *skb);
unsigned int vnr_skb_headroom(const struct sk_buff *skb);
bool vnr_skb_header_cloned(const struct sk_buff *skb);
void vnr_skb_tx_timestamp(struct sk_buff *skb);
void vnr_skb_csum_unnecessary(struct sk_buff *skb);
void vnr_netif_napi_add_tx_weight(struct net_device *dev,
				  struct napi_struct *napi,
				  int (*poll)(struct napi_struct *, int),
				  int weight);
void vnr_netif_napi_del(struct napi_struct *napi);
int vnr_virtio_net_hdr_to_skb(struct sk_buff *skb,
			      const struct virtio_net_hdr *hdr);

/* packet hashes (HASH_REPORT) */
void vnr_skb_set_hash(struct sk_buff *skb, u32 hash, bool l4);
void vnr_netdev_rss_key_fill(void *buf, size_t len);

/* page-chain receive buffers ("big packets" mode) */
struct page *vnr_alloc_page(gfp_t gfp);
void vnr_put_page(struct page *page);
unsigned long vnr_page_private(struct page *page);
void vnr_set_page_private(struct page *page, unsigned long private);
void *vnr_page_address(struct page *page);
void vnr_skb_put_data(struct sk_buff *skb, const void *data, unsigned int len);
void vnr_skb_add_rx_frag(struct sk_buff *skb, int i, struct page *page,
			 int off, int size, unsigned int truesize);

/* page-fragment receive buffers (mergeable mode) */
void vnr_skb_free_frag(void *addr);
void vnr_get_page(struct page *page);
struct page *vnr_virt_to_head_page(const void *addr);
void vnr_skb_reserve(struct sk_buff *skb, int len);
struct sk_buff *vnr_alloc_skb(unsigned int size, gfp_t gfp);
bool vnr_skb_can_coalesce(struct sk_buff *skb, int i, const struct page *page,
			  int off);

/* scatterlist */
void vnr_sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int len);

/* locks and work items */
void vnr_spin_lock_bh(spinlock_t *lock);
void vnr_spin_unlock_bh(spinlock_t *lock);
void vnr_spin_lock(spinlock_t *lock);
void vnr_spin_unlock(spinlock_t *lock);
struct netdev_queue *vnr_netdev_get_tx_queue(struct net_device *dev,
					     unsigned int index);
void vnr_netif_tx_lock_bh(struct netdev_queue *txq);
void vnr_netif_tx_unlock_bh(struct netdev_queue *txq);
void vnr_netif_tx_lock(struct netdev_queue *txq);
bool vnr_netif_tx_trylock(struct netdev_queue *txq);
void vnr_netif_tx_unlock(struct netdev_queue *txq);

/* control queue and RX mode */
void vnr_cond_resched(void);
void vnr_cpu_relax(void);
void vnr_netif_addr_lock_bh(struct net_device *dev);
void vnr_netif_addr_unlock_bh(struct net_device *dev);
int vnr_eth_prepare_mac_addr_change(struct net_device *dev, void *p);
void vnr_eth_commit_mac_addr_change(struct net_device *dev, void *p);
void vnr_netdev_set_priv_flags(struct net_device *dev, unsigned int flags);
bool vnr_netif_is_rxfh_configured(const struct net_device *dev);
const u8 *vnr_sockaddr_data(const void *p);
void vnr_netdev_set_watchdog(struct net_device *dev, unsigned int ms);
void vnr_netdev_tx_reset_queue(struct net_device *dev, u16 q);
bool vnr_netdev_tx_sent_queue(struct net_device *dev, u16 q, unsigned int bytes,
			      bool more);
void vnr_netdev_tx_completed_queue(struct net_device *dev, u16 q,
				   unsigned int pkts, unsigned int bytes);
void vnr_init_delayed_work(struct delayed_work *dw, work_func_t func);
bool vnr_mod_delayed_work(struct delayed_work *dw, unsigned int ms);
bool vnr_schedule_delayed_work(struct delayed_work *dw, unsigned int ms);

/* multiqueue */
unsigned int vnr_cpumask_nth_online(unsigned int n);
unsigned int vnr_nr_cpu_ids(void);
int vnr_virtqueue_set_affinity(struct virtqueue *vq,
			       const struct cpumask *mask);
unsigned int vnr_num_online_cpus(void);
void vnr_netdev_disable_netpoll(struct net_device *dev);

/* XDP: programs, buffers, frames (include/linux/filter.h, include/net/xdp.h) */
struct bpf_prog;
struct netdev_bpf;
struct netlink_ext_ack;
struct xdp_buff;
struct xdp_frame;
struct xdp_rxq_info;
u32 vnr_xdp_run(struct bpf_prog *prog, struct xdp_buff *xdp);
void vnr_xdp_init_buff(struct xdp_buff *xdp, u32 frame_sz, struct xdp_rxq_info *rxq);
void vnr_xdp_prepare_buff(struct xdp_buff *xdp, void *hard_start, u32 headroom, u32 len);
bool vnr_bpf_prog_has_frags(const struct bpf_prog *prog);
struct skb_shared_info *vnr_xdp_shinfo(const struct xdp_buff *xdp);
void vnr_skb_frag_fill_virt(struct skb_frag *frag, void *addr);
void *vnr_skb_frag_address(const struct skb_frag *frag);
void vnr_xdp_update_skb_shared_info(struct sk_buff *skb, u8 nr_frags, unsigned int size,
				    unsigned int truesize);
void vnr_skb_set_dev(struct sk_buff *skb, struct net_device *dev);
void vnr_skb_metadata_set(struct sk_buff *skb, u8 meta_len);
unsigned int vnr_napi_id(struct napi_struct *napi);
void vnr_xdp_exception(struct net_device *dev, struct bpf_prog *prog, u32 act);
int vnr_netdev_bpf_command(struct netdev_bpf *bpf);
struct bpf_prog *vnr_netdev_bpf_prog(struct netdev_bpf *bpf);
struct netlink_ext_ack *vnr_netdev_bpf_extack(struct netdev_bpf *bpf);
void vnr_extack_set_msg(struct netlink_ext_ack *extack, const char *msg);
void vnr_set_xdp_features(struct net_device *dev, u32 features);
unsigned int vnr_raw_smp_processor_id(void);
void vnr_skb_set_txq(struct sk_buff *skb, struct netdev_queue *txq);
bool vnr_netif_xmit_frozen_or_drv_stopped(struct netdev_queue *txq);
int vnr_netdev_start_xmit(struct sk_buff *skb, struct net_device *dev, bool more);
bool vnr_dev_xmit_complete(int rc);

/* AF_XDP zero-copy (include/net/xdp_sock_drv.h) */
struct xsk_buff_pool;
struct xsk_buff_pool *vnr_netdev_bpf_xsk_pool(struct netdev_bpf *bpf);
u16 vnr_netdev_bpf_xsk_queue(struct netdev_bpf *bpf);
struct xdp_buff *vnr_xsk_buff_alloc(struct xsk_buff_pool *pool);
void vnr_xsk_buff_free(struct xdp_buff *xdp);
void vnr_xsk_buff_set_size(struct xdp_buff *xdp, u32 size);
u32 vnr_xsk_pool_get_headroom(struct xsk_buff_pool *pool);
u32 vnr_xsk_pool_get_rx_frame_size(struct xsk_buff_pool *pool);
int vnr_xsk_pool_dma_map(struct xsk_buff_pool *pool, struct device *dev);
void vnr_xsk_pool_dma_unmap(struct xsk_buff_pool *pool);
void vnr_xsk_pool_set_rxq_info(struct xsk_buff_pool *pool, struct xdp_rxq_info *rxq);
bool vnr_xsk_uses_need_wakeup(struct xsk_buff_pool *pool);
void vnr_xsk_set_rx_need_wakeup(struct xsk_buff_pool *pool);
void vnr_xsk_clear_rx_need_wakeup(struct xsk_buff_pool *pool);
bool vnr_xsk_pool_dma_mapped(struct xsk_buff_pool *pool);
void *vnr_xsk_pool_addrs(struct xsk_buff_pool *pool);
struct page **vnr_xsk_pool_umem_pages(struct xsk_buff_pool *pool);
u32 vnr_xsk_pool_umem_npgs(struct xsk_buff_pool *pool);
void vnr_local_bh_disable(void);
void vnr_local_bh_enable(void);
u32 vnr_xsk_tx_peek_release_desc_batch(struct xsk_buff_pool *pool, u32 max);
u64 vnr_xsk_tx_desc_addr(struct xsk_buff_pool *pool, u32 i);
u32 vnr_xsk_tx_desc_len(struct xsk_buff_pool *pool, u32 i);
void *vnr_xsk_buff_raw_get_data(struct xsk_buff_pool *pool, u64 addr);
struct device *vnr_virtio_dma_parent(struct virtqueue *vq);
void vnr_sg_set_page(struct scatterlist *sg, struct page *page, unsigned int len,
		     unsigned int offset);

#endif /* VNR_HELPERS_H */
