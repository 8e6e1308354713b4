// SPDX-License-Identifier: GPL-2.0
/*
 * vnr_liar_vdev: a virtio-net device, on the guest's own virtio bus, that lies
 * about its control plane. For the hostile-device suite (qemu-test/guest/liar.sh)
 * only.
 *
 * The lying vhost-user device (qemu-test/liar) bends the data path; it cannot
 * bend the configuration space or the control queue, which QEMU 7.2 emulates
 * itself for vhost-user netdevs. This module is a minimal virtio transport whose
 * configuration and control queue say what the test asks:
 *
 *   lie=ctrl_silent    MQ with the control queue (pairs=N, 2N+1 queues); the
 *                      first answer=K control commands are acknowledged, then
 *                      none ever again.
 *   lie=pairs_beyond   max_virtqueue_pairs=N, but only queues=Q virtqueues: asking
 *                      for queue Q or above fails as on virtio-pci (-ENOENT).
 *   lie=none           every command acknowledged (the control of the other two).
 *
 * Data queues are created but never served: the tests do not bring the interface
 * up. The device offers neither VIRTIO_F_ACCESS_PLATFORM (so descriptor
 * addresses are physical) nor indirect descriptors nor packed rings, which keeps
 * the device side of the control queue a few lines of split-ring walking.
 * The driver to test is bound by hand (drivers_autoprobe is off in the guest).
 */
#include <linux/device.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/virtio.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <uapi/linux/virtio_ids.h>
#include <uapi/linux/virtio_net.h>

static char *lie = "none";
module_param(lie, charp, 0444);
MODULE_PARM_DESC(lie, "ctrl_silent, pairs_beyond or none");
static unsigned int pairs = 4;
module_param(pairs, uint, 0444);
MODULE_PARM_DESC(pairs, "max_virtqueue_pairs in the configuration space (1..32768)");
static unsigned int queues;
module_param(queues, uint, 0444);
MODULE_PARM_DESC(queues, "virtqueues the device has (pairs_beyond; default 3)");
static unsigned int answer;
module_param(answer, uint, 0444);
MODULE_PARM_DESC(answer, "control commands answered before going silent (ctrl_silent)");

#define LIAR_RING 256

struct liar {
	struct virtio_device vdev;
	struct virtio_net_config config;
	u64 features;
	u8 status;
	unsigned int nqueues;	/* virtqueues the device has */
	bool silent;		/* lie=ctrl_silent */
	unsigned int answered;
	u16 last_avail;		/* control queue: next available entry to serve */
};

static struct device *liar_root;
static struct liar *the_liar;

static struct liar *to_liar(struct virtio_device *vdev)
{
	return container_of(vdev, struct liar, vdev);
}

static void liar_get(struct virtio_device *vdev, unsigned int offset, void *buf,
		     unsigned int len)
{
	struct liar *l = to_liar(vdev);

	if (offset > sizeof(l->config) || len > sizeof(l->config) - offset) {
		memset(buf, 0, len);
		return;
	}
	memcpy(buf, (u8 *)&l->config + offset, len);
}

static void liar_set(struct virtio_device *vdev, unsigned int offset,
		     const void *buf, unsigned int len)
{
}

static u32 liar_generation(struct virtio_device *vdev)
{
	return 0;
}

static u8 liar_get_status(struct virtio_device *vdev)
{
	return to_liar(vdev)->status;
}

static void liar_set_status(struct virtio_device *vdev, u8 status)
{
	to_liar(vdev)->status = status;
}

static void liar_reset(struct virtio_device *vdev)
{
	struct liar *l = to_liar(vdev);

	l->status = 0;
	l->last_avail = 0;
}

static u64 liar_get_features(struct virtio_device *vdev)
{
	return to_liar(vdev)->features;
}

static int liar_finalize_features(struct virtio_device *vdev)
{
	vring_transport_features(vdev);
	return 0;
}

static const char *liar_bus_name(struct virtio_device *vdev)
{
	return "vnr_liar";
}

/* Serves the control queue: acknowledges each command (or, lying, does not). */
static bool liar_notify(struct virtqueue *vq)
{
	struct virtio_device *vdev = vq->vdev;
	struct liar *l = to_liar(vdev);
	const struct vring *vr;
	u16 avail;

	if (!virtio_has_feature(vdev, VIRTIO_NET_F_CTRL_VQ) || vq->index != l->nqueues - 1)
		return true;	/* a data queue: never served */
	vr = virtqueue_get_vring(vq);
	avail = virtio16_to_cpu(vdev, READ_ONCE(vr->avail->idx));
	virt_rmb();
	while (l->last_avail != avail) {
		u16 head, i, used;
		unsigned int n;
		u8 *ack = NULL;

		if (l->silent && l->answered >= answer)
			return true;	/* the lie: no answer, ever */
		head = virtio16_to_cpu(vdev, vr->avail->ring[l->last_avail % vr->num]) % vr->num;
		i = head;
		for (n = 0; n < vr->num; n++) {
			struct vring_desc *d = &vr->desc[i];
			u16 flags = virtio16_to_cpu(vdev, d->flags);

			if (flags & VRING_DESC_F_WRITE)
				ack = phys_to_virt(virtio64_to_cpu(vdev, d->addr));
			if (!(flags & VRING_DESC_F_NEXT))
				break;
			i = virtio16_to_cpu(vdev, d->next) % vr->num;
		}
		if (ack)
			*ack = VIRTIO_NET_OK;
		used = virtio16_to_cpu(vdev, vr->used->idx);
		vr->used->ring[used % vr->num].id = cpu_to_virtio32(vdev, head);
		vr->used->ring[used % vr->num].len = cpu_to_virtio32(vdev, ack ? 1 : 0);
		virt_wmb();
		WRITE_ONCE(vr->used->idx, cpu_to_virtio16(vdev, used + 1));
		l->last_avail++;
		l->answered++;
	}
	return true;
}

static void liar_del_vqs(struct virtio_device *vdev)
{
	struct virtqueue *vq, *n;

	list_for_each_entry_safe(vq, n, &vdev->vqs, list)
		vring_del_virtqueue(vq);
}

static int liar_find_vqs(struct virtio_device *vdev, unsigned int nvqs,
			 struct virtqueue *vqs[], struct virtqueue_info vqs_info[],
			 struct irq_affinity *desc)
{
	struct liar *l = to_liar(vdev);
	unsigned int i, idx = 0;

	for (i = 0; i < nvqs; i++) {
		struct virtqueue_info *vqi = &vqs_info[i];

		if (!vqi->name) {
			vqs[i] = NULL;
			continue;
		}
		if (idx >= l->nqueues) {
			/* As virtio-pci's setup_vq(): no such queue. */
			liar_del_vqs(vdev);
			return -ENOENT;
		}
		vqs[i] = vring_create_virtqueue(idx, LIAR_RING, SMP_CACHE_BYTES, vdev,
						true, true, vqi->ctx, liar_notify,
						vqi->callback, vqi->name);
		if (!vqs[i]) {
			liar_del_vqs(vdev);
			return -ENOMEM;
		}
		idx++;
	}
	return 0;
}

static const struct virtio_config_ops liar_config_ops = {
	.get = liar_get,
	.set = liar_set,
	.generation = liar_generation,
	.get_status = liar_get_status,
	.set_status = liar_set_status,
	.reset = liar_reset,
	.find_vqs = liar_find_vqs,
	.del_vqs = liar_del_vqs,
	.get_features = liar_get_features,
	.finalize_features = liar_finalize_features,
	.bus_name = liar_bus_name,
};

static void liar_release(struct device *dev)
{
	kfree(container_of(dev, struct liar, vdev.dev));
}

static int __init liar_init(void)
{
	static const u8 mac[ETH_ALEN] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x99 };
	struct liar *l;
	int err;

	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX) {
		pr_err("vnr_liar_vdev: pairs=%u out of range\n", pairs);
		return -EINVAL;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL);
	if (!l)
		return -ENOMEM;
	l->features = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_NET_F_MAC) |
		      BIT_ULL(VIRTIO_NET_F_CTRL_VQ) | BIT_ULL(VIRTIO_NET_F_MQ);
	memcpy(l->config.mac, mac, ETH_ALEN);
	l->config.max_virtqueue_pairs = cpu_to_le16(pairs);
	l->nqueues = 2 * pairs + 1;
	if (!strcmp(lie, "ctrl_silent")) {
		l->silent = true;
	} else if (!strcmp(lie, "pairs_beyond")) {
		l->nqueues = queues ? queues : 3;
	} else if (strcmp(lie, "none")) {
		pr_err("vnr_liar_vdev: unknown lie '%s'\n", lie);
		kfree(l);
		return -EINVAL;
	}

	liar_root = root_device_register("vnr_liar");
	if (IS_ERR(liar_root)) {
		kfree(l);
		return PTR_ERR(liar_root);
	}
	l->vdev.dev.parent = liar_root;
	l->vdev.dev.release = liar_release;
	l->vdev.config = &liar_config_ops;
	l->vdev.id.device = VIRTIO_ID_NET;
	l->vdev.id.vendor = 0x1af4;
	err = register_virtio_device(&l->vdev);
	if (err) {
		put_device(&l->vdev.dev);
		root_device_unregister(liar_root);
		return err;
	}
	the_liar = l;
	pr_info("vnr_liar_vdev: %s is a virtio-net device with lie=%s pairs=%u queues=%u answer=%u\n",
		dev_name(&l->vdev.dev), lie, pairs, l->nqueues, answer);
	return 0;
}

static void __exit liar_exit(void)
{
	unregister_virtio_device(&the_liar->vdev);
	root_device_unregister(liar_root);
}

module_init(liar_init);
module_exit(liar_exit);
MODULE_DESCRIPTION("A virtio-net device that lies about its control plane (tests only)");
MODULE_LICENSE("GPL");
