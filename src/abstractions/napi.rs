// SPDX-License-Identifier: GPL-2.0

//! NAPI contexts (`struct napi_struct`), pinned inside the driver's per-queue data.
//!
//! A [`Napi`] is created bound to a net_device and removed from it on drop. Its poll
//! function calls [`Operations::poll`](super::netdev::Operations::poll) with a
//! [`Poll`] token: the operations that are only valid while the context is being
//! polled (completing it, handing packets to GRO, NAPI skb allocation and freeing)
//! are methods of that token, so they cannot be called anywhere else.
//!
//! netpoll (netconsole) calls the same poll function with a budget of 0, with
//! interrupts off, from whatever context printed, scheduled or not: that call goes
//! to [`Operations::netpoll_poll`](super::netdev::Operations::netpoll_poll) with a
//! [`NetpollPoll`] token instead, which can neither receive nor complete the
//! context, and only try locks (see [`PollContext`]).
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)

use crate::abstractions::netdev::{NetDev, Operations, Uninit};
use crate::abstractions::skb::{RxSkb, SkBuff};
use crate::bindings;
use kernel::{new_mutex, prelude::*, sync::Mutex, types::Opaque};

/// A NAPI context.
///
/// # Invariants
///
/// - `raw` was added to a net_device with `netif_napi_add_weight` and is removed
///   from it on drop; the net_device outlives the object.
/// - `enabled` tells whether `napi_enable` was called more recently than
///   `napi_disable`; it is only changed, together with the call, under its lock.
#[repr(C)]
#[pin_data(PinnedDrop)]
pub struct Napi {
    #[pin]
    raw: Opaque<bindings::napi_struct>,
    index: usize,
    #[pin]
    enabled: Mutex<bool>,
}

// SAFETY: The NAPI core serialises the poll function; every method is safe to call from
// any thread.
unsafe impl Send for Napi {}
// SAFETY: As above.
unsafe impl Sync for Napi {}

impl Napi {
    /// Creates a NAPI context with id `index` on `dev`, polled by `T::poll` with at
    /// most `weight` packets per poll. A `tx` context only cleans up transmits: it is
    /// left out of busy polling (`netif_napi_add_tx_weight`).
    pub fn new<T: Operations>(
        dev: &Uninit<T>,
        index: usize,
        weight: i32,
        tx: bool,
    ) -> impl PinInit<Self, Error> {
        let ndev = dev.as_raw();
        // The mutex is initialised first: once `raw` is added to the device the object is
        // complete, so a failure can never leave it on the device's list.
        try_pin_init!(Self {
            enabled <- new_mutex!(false),
            index,
            // SAFETY: `slot` is pinned, zeroed first as `netif_napi_add_weight` expects,
            // and `ndev` is a live net_device.
            raw <- Opaque::ffi_init(move |slot: *mut bindings::napi_struct| unsafe {
                slot.write(core::mem::zeroed());
                if tx {
                    bindings::vnr_netif_napi_add_tx_weight(
                        ndev,
                        slot,
                        Some(poll_callback::<T>),
                        weight,
                    );
                } else {
                    bindings::netif_napi_add_weight(ndev, slot, Some(poll_callback::<T>), weight);
                }
            }),
        }? Error)
    }

    pub(crate) fn raw(&self) -> *mut bindings::napi_struct {
        self.raw.get()
    }

    /// The id given at creation.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Enables the context (`napi_enable`); does nothing if it is enabled.
    pub fn enable(&self) {
        let mut enabled = self.enabled.lock();
        if !*enabled {
            // SAFETY: The context is added to its device and is disabled (`napi_enable`
            // on an enabled context is a BUG), as `enabled` under its lock proves.
            unsafe { bindings::napi_enable(self.raw()) };
            *enabled = true;
        }
    }

    /// Disables the context, waiting for a running poll to finish (`napi_disable`);
    /// does nothing if it is disabled. May sleep.
    pub fn disable(&self) {
        let mut enabled = self.enabled.lock();
        if *enabled {
            // SAFETY: The context is enabled, as `enabled` under its lock proves (disabling a
            // disabled context would wait forever).
            unsafe { bindings::napi_disable(self.raw()) };
            *enabled = false;
        }
    }

    /// Schedules a poll unless one is pending or the context is disabled. `before`
    /// runs only if this call scheduled it (e.g. to mask the queue's interrupt).
    pub fn schedule_with(&self, before: impl FnOnce()) -> bool {
        // SAFETY: The context is valid.
        if unsafe { bindings::napi_schedule_prep(self.raw()) } {
            before();
            // SAFETY: `napi_schedule_prep` succeeded, which is what `__napi_schedule` needs.
            unsafe { bindings::__napi_schedule(self.raw()) };
            true
        } else {
            false
        }
    }

    /// Schedules a poll unless one is pending or the context is disabled.
    pub fn schedule(&self) -> bool {
        self.schedule_with(|| {})
    }

    /// As [`Napi::schedule`], from process context: with bottom halves off around
    /// it, so that the poll runs as they come back on (`local_bh_enable`), not at
    /// the next interrupt.
    pub fn schedule_process(&self) -> bool {
        // SAFETY: Paired with the enable below, in the same context.
        unsafe { bindings::vnr_local_bh_disable() };
        let r = self.schedule();
        // SAFETY: Bottom halves were turned off above.
        unsafe { bindings::vnr_local_bh_enable() };
        r
    }
}

#[pinned_drop]
impl PinnedDrop for Napi {
    fn drop(self: Pin<&mut Self>) {
        self.disable();
        // SAFETY: By the type invariant the context is on its device's list, and it is
        // disabled, so no poll runs.
        unsafe { bindings::vnr_netif_napi_del(self.raw()) };
    }
}

/// The right to act as the running poll of a NAPI context.
///
/// # Invariants
///
/// Exists only while `napi`'s poll function runs (the NAPI core owns the context's
/// SCHED bit on our behalf), on the CPU running it, in softirq context, with a
/// budget above 0.
pub struct Poll<'a> {
    napi: &'a Napi,
    budget: i32,
}

impl<'a> Poll<'a> {
    /// The context being polled.
    pub fn napi(&self) -> &'a Napi {
        self.napi
    }

    /// How many packets this poll may deliver, at least 1.
    pub fn budget(&self) -> i32 {
        self.budget
    }

    /// Hands a received packet to GRO.
    pub fn gro_receive(&self, skb: SkBuff) {
        // SAFETY: We are in the poll of this context (type invariant); the skb is owned and
        // its ownership passes to the stack.
        unsafe { bindings::napi_gro_receive(self.napi.raw(), skb.into_raw()) };
    }

    /// Allocates an skb for a receive buffer from the per-CPU NAPI cache.
    pub fn alloc_rx_skb(&self, len: usize) -> Option<RxSkb> {
        // SAFETY: We are in softirq context, in the poll of this context.
        let p = unsafe { bindings::napi_alloc_skb(self.napi.raw(), len as u32) };
        // SAFETY: A non-null result is a new skb we own.
        unsafe { SkBuff::from_raw(p) }.map(RxSkb::new)
    }

    /// Frees a transmitted packet, batching the free when the budget allows.
    pub fn consume_skb(&self, skb: SkBuff) {
        // SAFETY: We own the skb; in NAPI context `napi_consume_skb` with the poll's budget
        // is the documented way to free transmitted skbs.
        unsafe { bindings::napi_consume_skb(skb.into_raw(), self.budget) }
    }

    /// Reports that this poll is done with `work_done` packets. Returns false if the
    /// context must keep polling (it was rescheduled meanwhile, or busy polling).
    pub fn complete_done(self, work_done: i32) -> bool {
        // SAFETY: We are in the poll of this context and give up the right to act as it.
        unsafe { bindings::napi_complete_done(self.napi.raw(), work_done) }
    }
}

/// netpoll's call of a NAPI context's poll function (`poll_one_napi`, budget 0): it
/// may clean up transmits and nothing else.
///
/// # Invariants
///
/// Exists only during such a call for `napi`, on the CPU making it, with interrupts
/// disabled. netpoll may have interrupted, on this CPU, a holder of any lock the
/// driver takes elsewhere, and the context may or may not be scheduled.
pub struct NetpollPoll<'a> {
    napi: &'a Napi,
}

impl<'a> NetpollPoll<'a> {
    /// The context being polled.
    pub fn napi(&self) -> &'a Napi {
        self.napi
    }
}

mod private {
    pub trait Sealed {}
}

/// A poll of a NAPI context, by NAPI ([`Poll`]) or by netpoll ([`NetpollPoll`]):
/// either way bottom halves cannot run on this CPU until it returns, so a lock
/// taken without disabling them cannot be re-entered by one. What takes any poll
/// only tries its lock, since netpoll may have interrupted the holder; blocking
/// locks take a [`Poll`].
pub trait PollContext: private::Sealed {
    /// Frees a transmitted packet.
    fn consume_skb(&self, skb: SkBuff);
}

impl private::Sealed for Poll<'_> {}
impl private::Sealed for NetpollPoll<'_> {}

impl PollContext for Poll<'_> {
    fn consume_skb(&self, skb: SkBuff) {
        Poll::consume_skb(self, skb)
    }
}

impl PollContext for NetpollPoll<'_> {
    fn consume_skb(&self, skb: SkBuff) {
        // With interrupts off `napi_consume_skb` is not allowed (budget 0 turns it into
        // `dev_consume_skb_any` anyway).
        skb.consume_any()
    }
}

/// # Safety
///
/// `napi` must be the `raw` field of a `Napi` created by `Napi::new::<T>` (the only place
/// this poll function is installed), whose device was created by `Registration::<T>` and
/// has initialised private data, and the caller must own the context's poll (its SCHED
/// bit) until the call returns, as the NAPI core calls the poll function, or be
/// netpoll's `poll_one_napi` (budget 0, interrupts off, the context's NPSVC bit held).
unsafe extern "C" fn poll_callback<T: Operations>(
    napi: *mut bindings::napi_struct,
    budget: i32,
) -> i32 {
    // SAFETY: `napi` is the `raw` field, at offset 0 of the `#[repr(C)]` `Napi`, of a
    // context created by `Napi::new::<T>`; it stays valid while its poll runs.
    let n = unsafe { &*napi.cast::<Napi>() };
    // SAFETY: The context's device is valid while the context is, and is a device
    // created by `Registration::<T>`, whose private data is initialised before any
    // NAPI context can be enabled.
    let dev = unsafe { NetDev::<T>::from_raw(bindings::vnr_napi_dev(napi)) };
    if budget <= 0 {
        // Only netpoll's `poll_one_napi` polls with a budget of 0, with interrupts off;
        // a device whose driver has no `netpoll_poll` has netpoll disabled.
        if T::HAS_NETPOLL_POLL {
            // INVARIANT: netpoll's call of the poll of `n`, interrupts disabled.
            T::netpoll_poll(dev, NetpollPoll { napi: n });
        }
        return 0;
    }
    // INVARIANT: We are the poll function of `n`, in softirq context, budget above 0.
    let poll = Poll { napi: n, budget };
    T::poll(dev, poll).clamp(0, budget)
}
