// SPDX-License-Identifier: GPL-2.0

//! A queue pair: one receive and one transmit virtqueue served by one NAPI context.

use super::stats::QueueStats;
use super::VirtNet;
use crate::abstractions::{
    frag::{PageFrag, RxFrag},
    lock::SpinLockBh,
    napi::Napi,
    netdev::Uninit,
    page_chain::RxPages,
    skb::RxSkb,
    txq::TxqLocked,
    virtqueue::{Affinity, Virtqueue},
    xdp::{BpfProg, RxqInfo},
};
use crate::logic::rx_buf::Ewma;
use crate::new_spinlock_bh;
use kernel::{init::init_array_from_fn, new_mutex, prelude::*, sync::Mutex};

/// The receive virtqueue, in the mode chosen at probe.
pub enum RxVq {
    /// Small buffers: one skb per packet, sized for the largest frame.
    Small(Virtqueue<RxSkb>),
    /// Mergeable buffers: page fragments sized by the average packet, as many per
    /// packet as the device needs.
    Mergeable(Virtqueue<RxFrag>),
    /// "Big packets" (guest GSO without mergeable buffers): a chain of pages per
    /// buffer, large enough for a 64 KiB packet.
    Big(Virtqueue<RxPages>),
    /// Chunks of an AF_XDP socket's memory, bound in zero-copy mode, with the
    /// socket's pool.
    #[cfg(vnr_xsk_zc)]
    Xsk(crate::abstractions::xsk::XskRxQueue),
    /// Taken out of the lock to be resized (which sleeps); NAPI is off meanwhile.
    Detached,
}

/// Calls `$body` with `$vq` bound to the ring's virtqueue, whatever its buffer type;
/// `$none` while the queue is detached.
macro_rules! with_vq {
    ($ring:expr, $vq:ident => $body:expr, $none:expr) => {
        match $ring {
            RxVq::Small($vq) => $body,
            RxVq::Mergeable($vq) => $body,
            RxVq::Big($vq) => $body,
            #[cfg(vnr_xsk_zc)]
            RxVq::Xsk($vq) => $body,
            RxVq::Detached => $none,
        }
    };
}

impl RxVq {
    /// Handle for the queue's interrupt affinity (`None` while detached).
    pub fn affinity(&self) -> Option<Affinity> {
        with_vq!(self, vq => Some(vq.affinity()), None)
    }

    /// Largest ring the device supports (0 while detached).
    pub fn size_max(&self) -> usize {
        with_vq!(self, vq => vq.size_max(), 0)
    }

    /// Resizes the ring, dropping every posted buffer. May sleep: only on a queue
    /// detached from its lock.
    pub fn resize(&mut self, num: u32) -> Result {
        with_vq!(self, vq => vq.resize(num), Ok(()))
    }
}

/// The receive side, owned by whoever holds the lock: NAPI, open, the refill work.
pub struct RxRing {
    pub vq: RxVq,
    /// Average packet length, for sizing mergeable buffers.
    pub avg_pkt_len: Ewma,
    /// Smallest mergeable buffer for this ring (see `rx_buf::mergeable_min_buf_len`).
    pub min_buf_len: usize,
    /// The page mergeable buffers are cut from.
    pub frag: PageFrag,
    /// Mergeable buffers whose packet was copied out whole, to be posted again before
    /// new ones are cut.
    pub spare: Spare,
    /// The XDP program attached, if any.
    pub xdp_prog: Option<BpfProg>,
    /// The ring as XDP knows it: registered on the first attach, kept until removal.
    pub xdp_rxq: Option<RxqInfo>,
}

/// What a transmit ring carries: the stack's packets and, with AF_XDP zero-copy
/// built in (`vnr_xsk_zc`, see Kbuild), a socket's frames too.
#[cfg(vnr_xsk_zc)]
pub type TxBuf = crate::abstractions::xsk::TxBuf;
/// What a transmit ring carries: the stack's packets.
#[cfg(not(vnr_xsk_zc))]
pub type TxBuf = crate::abstractions::skb::TxSkb;

#[cfg(vnr_xsk_zc)]
pub use crate::abstractions::xsk::XskTxPool;

/// Without zero-copy built in no pool is ever bound: a type without values makes
/// the transmit ring's `xsk` field (always `None`) cost nothing.
#[cfg(not(vnr_xsk_zc))]
pub enum XskTxPool {}

impl RxVq {
    /// Whether the ring holds an AF_XDP socket's chunks.
    #[cfg(vnr_xsk_zc)]
    #[inline(always)]
    pub fn is_xsk(&self) -> bool {
        matches!(self, RxVq::Xsk(_))
    }

    /// Whether the ring holds an AF_XDP socket's chunks: never, without zero-copy.
    #[cfg(not(vnr_xsk_zc))]
    #[inline(always)]
    pub fn is_xsk(&self) -> bool {
        false
    }
}

/// Buffers a ring keeps for reposting: a NAPI budget's worth.
const SPARE_MAX: usize = 64;

/// Mergeable buffers kept to be posted again, last in first out (the last one kept is
/// the likeliest in cache). Each came from a ring slot not refilled yet, so a ring
/// never holds more buffers than it has slots.
///
/// The slots live on the heap: built on the stack (1 KiB), they were copied through
/// every frame of probe and overflowed the 16 KiB kernel stack under lockdep.
pub struct Spare {
    bufs: KBox<[Option<RxFrag>; SPARE_MAX]>,
    len: usize,
}

impl Spare {
    /// None kept.
    pub fn new() -> Result<Self> {
        Ok(Self {
            bufs: KBox::init::<core::convert::Infallible>(
                init_array_from_fn(|_| None),
                GFP_KERNEL,
            )?,
            len: 0,
        })
    }

    /// Whether another buffer can be kept.
    pub fn has_room(&self) -> bool {
        self.len < SPARE_MAX
    }

    /// Keeps `buf`, or gives it back when full. Inlined: the receive path keeps most
    /// small packets' buffers.
    #[inline(always)]
    pub fn push(&mut self, buf: RxFrag) -> Result<(), RxFrag> {
        match self.bufs.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(buf);
                self.len += 1;
                Ok(())
            }
            None => Err(buf),
        }
    }

    /// The last buffer kept.
    pub fn pop(&mut self) -> Option<RxFrag> {
        self.len = self.len.checked_sub(1)?;
        self.bufs.get_mut(self.len)?.take()
    }
}

impl RxRing {
    /// Free descriptor slots.
    pub fn num_free(&self) -> usize {
        with_vq!(&self.vq, vq => vq.num_free(), 0)
    }

    /// Size of the ring.
    pub fn size(&self) -> usize {
        with_vq!(&self.vq, vq => vq.size(), 0)
    }

    /// Whether no buffer is posted (the device has nothing to fill).
    pub fn is_empty(&self) -> bool {
        self.num_free() == self.size()
    }

    /// Re-enables callbacks; see `Virtqueue::enable_cb_prepare`.
    pub fn enable_cb_prepare(&mut self) -> u32 {
        with_vq!(&mut self.vq, vq => vq.enable_cb_prepare(), 0)
    }

    /// Whether buffers were used since `enable_cb_prepare` returned `opaque`.
    pub fn poll(&mut self, opaque: u32) -> bool {
        with_vq!(&mut self.vq, vq => vq.poll(opaque), false)
    }

    /// Notifies the device whether or not it asked for it (a spurious doorbell is
    /// allowed; see `VirtNet::open`'s use).
    pub fn notify(&self) {
        with_vq!(&self.vq, vq => { vq.notify(); }, ())
    }

    /// Disables callbacks.
    pub fn disable_cb(&mut self) {
        with_vq!(&mut self.vq, vq => vq.disable_cb(), ())
    }

    /// Takes the queue out (to resize it without the lock held).
    pub fn detach(&mut self) -> RxVq {
        core::mem::replace(&mut self.vq, RxVq::Detached)
    }
}

/// The transmit side, shared by `start_xmit` and NAPI's completion cleanup. The
/// queue is `None` only while it is taken out to be resized (transmit stopped).
pub struct TxRing {
    pub vq: Option<Virtqueue<TxBuf>>,
    /// The transmit side of the AF_XDP pool bound in zero-copy mode: its frames are
    /// sent from the transmit NAPI.
    pub xsk: Option<XskTxPool>,
}

/// One queue pair. Fields drop in order: the NAPI contexts are disabled and removed
/// before the rings reclaim their buffers.
#[pin_data]
pub struct QueuePair {
    /// Receive NAPI (id `2 * index`, the receive virtqueue's index); it also reaps
    /// transmit completions when the transmit ring is free, as in-tree.
    #[pin]
    pub napi: Napi,
    /// Transmit-completion NAPI (id `2 * index + 1`), as the in-tree driver's
    /// `napi_tx`: a context of its own, so reaping never holds up receive and the
    /// two interrupts are served on their own CPUs.
    #[pin]
    pub tx_napi: Napi,
    #[pin]
    pub rx: SpinLockBh<RxRing>,
    /// Under the lock of the device's transmit queue `index`, which the stack holds
    /// around `start_xmit` (as the in-tree driver's send queue): no second lock per
    /// packet.
    pub tx: TxqLocked<TxRing>,
    /// Index of the pair (receive queue `2 * index`, transmit `2 * index + 1`).
    pub index: u16,
    /// Interrupt affinity of the receive and transmit queues (set outside the ring
    /// locks: it may sleep); `None` while the device sleeps.
    #[pin]
    pub affinity: Mutex<Option<[Affinity; 2]>>,
    pub stats: QueueStats,
}

impl QueuePair {
    /// Builds queue pair `index` on `dev` over the two virtqueues.
    pub fn new(
        dev: &Uninit<VirtNet>,
        index: u16,
        weight: i32,
        rx: RxRing,
        txvq: Virtqueue<TxBuf>,
        affinity: [Affinity; 2],
    ) -> impl PinInit<Self, Error> {
        let vq = 2 * usize::from(index);
        let napi = Napi::new::<VirtNet>(dev, vq, weight, false);
        let tx_napi = Napi::new::<VirtNet>(dev, vq + 1, weight, true);
        let tx = TxqLocked::new(
            dev,
            index,
            TxRing {
                vq: Some(txvq),
                xsk: None,
            },
        );
        try_pin_init!(Self {
            napi <- napi,
            tx_napi <- tx_napi,
            rx <- new_spinlock_bh!(rx, "virtio_net_rust::rx"),
            tx: tx?,
            index,
            affinity <- new_mutex!(Some(affinity), "virtio_net_rust::affinity"),
            stats: QueueStats::default(),
        }? Error)
    }
}
