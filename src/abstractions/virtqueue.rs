// SPDX-License-Identifier: GPL-2.0

//! Virtqueues with typed, owned buffers.
//!
//! A buffer goes into the ring by value ([`Virtqueue::add`]) and the very same buffer
//! comes back out of [`Virtqueue::get_buf`] or [`Virtqueue::detach_unused`]: the
//! token the virtio core keeps is the buffer's own pointer, produced and consumed
//! only by the [`Buffer`] implementation. Callers never handle raw tokens, so no
//! caller-side `unsafe` is needed and a buffer can be neither freed while the device
//! owns it nor returned twice. Lengths the device reports come back as plain
//! numbers for the caller to validate; the buffer itself checks them before any
//! access to memory.
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/scatterlist.h`](srctree/include/linux/scatterlist.h)

use crate::bindings;
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicUsize, Ordering},
};
use kernel::prelude::*;
use kernel::sync::Arc;
use kernel::time::{ktime_ms_delta, Ktime};

/// How long [`Virtqueue::wait_buf`] busy-polls before it sleeps between polls (ms).
pub const SPIN_MS: i64 = 2;

/// Largest number of scatterlist entries one buffer may use: a header, a linear
/// part and every page fragment of an skb.
pub const MAX_SG: usize = bindings::VNR_MAX_SKB_FRAGS + 2;

/// Makes `sg` the last entry of its list (`sg_mark_end`, a static inline in C, here
/// without a call on every packet; `helpers.c` checks the bits against the kernel's).
#[inline(always)]
fn mark_end(sg: &mut bindings::scatterlist) {
    sg.page_link = (sg.page_link | bindings::VNR_SG_END as kernel::ffi::c_ulong)
        & !(bindings::VNR_SG_CHAIN as kernel::ffi::c_ulong);
}

/// Which way the device accesses a buffer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// The device reads it (transmit).
    Out,
    /// The device writes it (receive).
    In,
    /// The device reads the first entries and writes the rest (a request with a
    /// reply, as on the control queue); [`SgList::start_in`] marks the boundary.
    Both,
}

/// A scatterlist being filled for one buffer.
///
/// # Invariants
///
/// `sg[..used]` were set by [`SgList::push`] (or `skb_to_sgvec`) from memory owned by
/// the buffer being added.
pub struct SgList<'a> {
    sg: &'a mut [bindings::scatterlist; MAX_SG],
    used: usize,
    /// Entries before the first device-writable one ([`Direction::Both`] only).
    out: Option<usize>,
}

impl SgList<'_> {
    /// Marks the entries pushed so far as device-readable and the next ones as
    /// device-writable ([`Direction::Both`] buffers).
    pub fn start_in(&mut self) {
        self.out = Some(self.used);
    }

    /// The next `want` entries of the raw table, cleared, for [`Buffer`]
    /// implementations that fill them with C helpers; `None` if fewer are left.
    pub(crate) fn raw_tail(&mut self, want: usize) -> Option<*mut bindings::scatterlist> {
        let tail = self.sg.get_mut(self.used..)?.get_mut(..want)?;
        tail.fill(bindings::scatterlist::default());
        Some(tail.as_mut_ptr())
    }

    /// Records that `n` more entries were filled by a C helper.
    ///
    /// # Safety
    ///
    /// The `n` entries after the used ones must describe memory owned by the buffer.
    #[inline]
    pub(crate) unsafe fn advance(&mut self, n: usize) -> Result {
        if n > MAX_SG - self.used {
            return Err(super::emsgsize());
        }
        self.used += n;
        Ok(())
    }

    /// Appends one entry for `len` bytes at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr..ptr+len` must be owned by the buffer being added, and stay valid and
    /// unmoved until the buffer is reconstructed by [`Buffer::from_raw`].
    #[inline]
    pub(crate) unsafe fn push(&mut self, ptr: *const u8, len: usize) -> Result {
        if self.used == MAX_SG {
            return Err(super::emsgsize());
        }
        let len = u32::try_from(len).map_err(|_| EINVAL)?;
        // The table is not cleared before each add (most of it is never used): clear
        // the entry, as `sg_init_table` would, before setting it.
        let entry = &mut self.sg[self.used];
        *entry = bindings::scatterlist::default();
        // SAFETY: The entry is within the table; `ptr` is a kernel address valid for `len`
        // bytes by the caller's guarantee.
        unsafe { bindings::vnr_sg_set_buf(entry, ptr.cast(), len) };
        self.used += 1;
        Ok(())
    }
}

/// A buffer that can be handed to a virtqueue.
///
/// # Safety
///
/// Implementers guarantee that:
/// - [`Buffer::fill`] only describes memory that `self` owns and that stays valid, and
///   is not accessed by anyone else, until [`Buffer::from_raw`] rebuilds the buffer;
/// - [`Buffer::into_raw`] returns a non-null pointer that [`Buffer::from_raw`] turns back
///   into the same buffer, exactly once.
pub unsafe trait Buffer: Sized {
    /// Whether the device reads or writes the buffer.
    const DIRECTION: Direction;

    /// Describes the buffer's memory in `sg`.
    fn fill(&mut self, sg: &mut SgList<'_>) -> Result;

    /// Gives up ownership, as the token the virtio core keeps.
    fn into_raw(self) -> NonNull<core::ffi::c_void>;

    /// Takes ownership back from a token.
    ///
    /// # Safety
    ///
    /// `raw` must come from [`Buffer::into_raw`] of this type and not have been used since.
    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self;
}

/// The count of handles ([`Virtqueue`], [`Affinity`]) a driver holds to one device's
/// virtqueues. The virtio glue deletes the queues (`del_vqs`) only when it is zero:
/// at remove, once the driver data is gone, and at system sleep, once the driver
/// gave its queues back ([`Driver::release_queues`](super::virtio::Driver)). A
/// handle kept by mistake then leaves the queues in place (and the device down)
/// instead of dangling.
pub(crate) struct Claims {
    live: AtomicUsize,
}

impl Claims {
    /// No handle yet.
    pub(crate) fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                live: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    /// Handles still held.
    pub(crate) fn live(&self) -> usize {
        // Acquire: pairs with the release in `Claim::drop`, so what the handle's owner
        // did with the queue happened before the caller deletes it.
        self.live.load(Ordering::Acquire)
    }
}

/// One counted handle to a device's virtqueues (see [`Claims`]).
pub(crate) struct Claim(Arc<Claims>);

impl Claim {
    /// Counts one more handle.
    pub(crate) fn new(claims: &Arc<Claims>) -> Self {
        claims.live.fetch_add(1, Ordering::Relaxed);
        Self(claims.clone())
    }
}

impl Drop for Claim {
    // One copy for every queue type's drop.
    #[inline(never)]
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::Release);
    }
}

/// The scatterlist a queue describes its buffers with, one entry per descriptor.
pub(crate) type SgTable = KBox<[bindings::scatterlist; MAX_SG]>;

/// A zeroed [`SgTable`], zeroed by the allocator (built on the stack it was a 608-byte
/// frame and a copy).
pub(crate) fn new_sg_table() -> Result<SgTable> {
    let table = KBox::<[bindings::scatterlist; MAX_SG]>::new_uninit(
        GFP_KERNEL | kernel::alloc::flags::__GFP_ZERO,
    )?;
    // SAFETY: The allocator zeroed the memory (`__GFP_ZERO`), and all zeroes is a valid
    // `scatterlist` (plain integers; it is bindgen's `Default`, and what `sg_init_table`
    // starts from).
    Ok(unsafe { table.assume_init() })
}

/// A virtqueue carrying buffers of type `B`.
///
/// Operations that change the ring take `&mut self`: the virtio core requires callers
/// to serialise them, and the borrow checker (through whatever lock owns the queue)
/// does that.
///
/// # Invariants
///
/// - `vq` is a valid virtqueue, claimed by this object alone, and is deleted only
///   after this object is dropped: `claim` counts it among the device's handles, and
///   the virtio glue deletes queues only when none is left.
/// - Every token in the ring came from `B::into_raw`.
///
/// # Examples
///
/// Sending a control message and waiting for the device's answer:
///
/// ```ignore
/// # use crate::abstractions::{ctrl_msg::CtrlMsg, virtqueue::Virtqueue, Gfp};
/// # use kernel::prelude::*;
/// fn send(vq: &mut Virtqueue<CtrlMsg>, class: u8, cmd: u8, data: &[u8]) -> Result<u8> {
///     let msg = CtrlMsg::new(class, cmd, data)?;
///     // On failure the message comes back with the error; dropping it frees it.
///     vq.add(msg, Gfp::Kernel).map_err(|(e, _msg)| e)?;
///     if vq.kick_prepare() {
///         vq.notify();
///     }
///     // The buffer comes back once the device used it, with the length it wrote.
///     let (msg, _written) = vq.wait_buf(1000)?;
///     Ok(msg.ack())
/// }
/// ```
pub struct Virtqueue<B: Buffer> {
    vq: NonNull<bindings::virtqueue>,
    /// On the heap: inline (608 bytes) it made every move of a queue a large copy,
    /// and probe's frames, which hold several, overflowed the 16 KiB kernel stack.
    sg: SgTable,
    // Dropped after `Drop::drop` took the buffers back.
    claim: Claim,
    _p: PhantomData<B>,
}

// SAFETY: A virtqueue may be used from any CPU as long as calls are serialised, which
// `&mut self` guarantees; the buffers it holds must be `Send` themselves.
unsafe impl<B: Buffer + Send> Send for Virtqueue<B> {}
// SAFETY: Methods taking `&self` are those the virtio core allows without serialisation.
unsafe impl<B: Buffer + Send> Sync for Virtqueue<B> {}

impl<B: Buffer> Virtqueue<B> {
    /// Wraps a found virtqueue.
    ///
    /// # Safety
    ///
    /// `vq` must be valid, claimed by no one else and hold no buffer, and must not be
    /// deleted while `claim` (a claim on its device's queues) is counted.
    pub(crate) unsafe fn from_raw(
        vq: NonNull<bindings::virtqueue>,
        claim: Claim,
        sg: SgTable,
    ) -> Self {
        Self {
            vq,
            sg,
            claim,
            _p: PhantomData,
        }
    }

    fn raw(&self) -> *mut bindings::virtqueue {
        self.vq.as_ptr()
    }

    /// The virtio core's queue, for other abstractions.
    pub(crate) fn as_raw(&self) -> *mut bindings::virtqueue {
        self.raw()
    }

    /// Resets the ring (needs VIRTIO_F_RING_RESET), dropping every posted buffer,
    /// and hands it back to carry buffers of type `C`. May sleep. On failure the
    /// queue comes back as it was, with the error (its buffers may be gone).
    pub fn reset_into<C: Buffer>(mut self) -> Result<Virtqueue<C>, (Error, Self)> {
        // SAFETY: The queue is valid and ours alone (`self` by value);
        // `recycle::<B>` turns each token back into the `B` it came from.
        let ret = unsafe { bindings::virtqueue_reset(self.raw(), Some(recycle::<B>), None) };
        if let Err(e) = kernel::error::to_result(ret) {
            return Err((e, self));
        }
        // Nothing is posted any more.
        while let Some(buf) = self.detach_unused() {
            drop(buf);
        }
        // SAFETY: The ring was reset: it holds no buffer.
        Ok(unsafe { self.retype() })
    }

    /// The queue, if it holds no buffer (after a [`Virtqueue::reset_into`] that failed
    /// once the ring was emptied, say), to carry buffers of type `C`.
    pub fn into_empty<C: Buffer>(self) -> Result<Virtqueue<C>, Self> {
        if self.num_free() != self.size() {
            return Err(self);
        }
        // SAFETY: Every buffer takes at least one descriptor: with all free, none is
        // posted.
        Ok(unsafe { self.retype() })
    }

    /// The queue, to carry buffers of type `C`, without its (empty) drop.
    ///
    /// # Safety
    ///
    /// The ring holds no buffer.
    unsafe fn retype<C: Buffer>(self) -> Virtqueue<C> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is not dropped; each field is read once and owned by the new
        // queue.
        let (vq, sg, claim) = unsafe {
            (
                this.vq,
                core::ptr::read(&this.sg),
                core::ptr::read(&this.claim),
            )
        };
        // INVARIANT: The ring is empty (the caller's guarantee), so every token in it
        // (none) came from `C::into_raw`; the queue and its claim carry over.
        Virtqueue {
            vq,
            sg,
            claim,
            _p: PhantomData,
        }
    }

    /// Adds a buffer. On failure (ring full, or the buffer could not be described)
    /// the buffer is handed back with the error.
    // Always inlined with zero-copy: a transmit ring posts two kinds of buffer
    // (`TxBuf`), and once inlined for the kind it is given, `fill` and `into_raw`
    // lose their match.
    #[cfg_attr(vnr_xsk_zc, inline(always))]
    #[cfg_attr(not(vnr_xsk_zc), inline)]
    pub fn add(&mut self, mut buf: B, gfp: super::Gfp) -> Result<(), (Error, B)> {
        // Each entry is cleared as `fill` takes it (`push`, `raw_tail`), not the whole
        // table here: a packet uses a few of its `MAX_SG` entries.
        let mut list = SgList {
            sg: &mut self.sg,
            used: 0,
            out: None,
        };
        if let Err(e) = buf.fill(&mut list) {
            return Err((e, buf));
        }
        let n = list.used;
        let out = list.out.unwrap_or(n);
        if n == 0 {
            return Err((EINVAL, buf));
        }
        if B::DIRECTION == Direction::Both {
            return self.add_split(buf, n, out, gfp);
        }
        // The virtio core walks the list up to its end mark, not `n` entries.
        mark_end(&mut self.sg[n - 1]);
        let token = buf.into_raw();
        // SAFETY: `self.sg[..n]` describe memory owned by the buffer whose token is
        // `token` (the `Buffer` contract); the virtio core only walks `n` entries.
        let ret = unsafe {
            match B::DIRECTION {
                Direction::Out => bindings::virtqueue_add_outbuf(
                    self.raw(),
                    self.sg.as_mut_ptr(),
                    n as u32,
                    token.as_ptr(),
                    gfp.raw(),
                ),
                Direction::In | Direction::Both => bindings::virtqueue_add_inbuf(
                    self.raw(),
                    self.sg.as_mut_ptr(),
                    n as u32,
                    token.as_ptr(),
                    gfp.raw(),
                ),
            }
        };
        Self::added(ret, token)
    }

    /// The outcome of an add that returned `ret` for `token`: on failure the buffer
    /// comes back.
    // Inlined with zero-copy, as `add`: out of line (`minsize`) for `TxBuf` it cost
    // 20 instructions a packet on `udp64_tx`.
    #[cfg_attr(vnr_xsk_zc, inline(always))]
    fn added(ret: i32, token: NonNull<core::ffi::c_void>) -> Result<(), (Error, B)> {
        if ret < 0 {
            // SAFETY: The add failed, so the virtio core did not keep `token`, which came
            // from `B::into_raw`.
            let buf = unsafe { B::from_raw(token) };
            return Err((Error::from_errno(ret), buf));
        }
        Ok(())
    }

    /// Adds a [`Direction::Both`] buffer whose `n` entries are `out` device-readable
    /// ones, then device-writable ones: each entry becomes its own one-entry list, as
    /// `virtqueue_add_sgs` takes lists.
    fn add_split(
        &mut self,
        buf: B,
        n: usize,
        out: usize,
        gfp: super::Gfp,
    ) -> Result<(), (Error, B)> {
        let mut lists = [core::ptr::null_mut::<bindings::scatterlist>(); MAX_SG];
        for (i, l) in lists.iter_mut().enumerate().take(n) {
            mark_end(&mut self.sg[i]);
            *l = &mut self.sg[i];
        }
        let token = buf.into_raw();
        // SAFETY: `lists[..n]` are one-entry lists describing memory owned by the buffer
        // whose token is `token` (the `Buffer` contract); `out <= n`.
        let ret = unsafe {
            bindings::virtqueue_add_sgs(
                self.raw(),
                lists.as_mut_ptr(),
                out as u32,
                (n - out) as u32,
                token.as_ptr(),
                gfp.raw(),
            )
        };
        Self::added(ret, token)
    }

    /// Waits up to `timeout_ms` for the device to use a buffer: for the control
    /// queue, whose commands a device completes at once (QEMU within the doorbell's VM
    /// exit). Busy-polls with rescheduling points for the first [`SPIN_MS`], as the
    /// in-tree driver does for ever, then sleeps a millisecond between polls, so that a
    /// device that never answers costs a bounded wait, not the machine. `EIO` if the
    /// queue breaks (device gone or misbehaving), `ETIMEDOUT` if nothing came; the
    /// buffer then stays in the ring, owned by the queue. Process context only.
    pub fn wait_buf(&mut self, timeout_ms: u32) -> Result<(B, u32)> {
        let start = Ktime::ktime_get();
        loop {
            if let Some(r) = self.get_buf() {
                return Ok(r);
            }
            if self.is_broken() {
                return Err(EIO);
            }
            let waited = ktime_ms_delta(Ktime::ktime_get(), start);
            if waited >= i64::from(timeout_ms) {
                return Err(crate::abstractions::etimedout());
            }
            if waited < SPIN_MS {
                // SAFETY: The caller runs in process context (documented above); both
                // calls only yield the CPU.
                unsafe {
                    bindings::vnr_cond_resched();
                    bindings::vnr_cpu_relax();
                }
            } else {
                // SAFETY: Process context (documented above): `msleep` may sleep.
                unsafe { bindings::msleep(1) };
            }
        }
    }

    /// Takes the next buffer the device has used, with the length the device reports
    /// it wrote. The length is untrusted.
    #[inline]
    pub fn get_buf(&mut self) -> Option<(B, u32)> {
        let mut len = 0u32;
        // SAFETY: The queue is valid and calls are serialised by `&mut self`.
        let token = unsafe { bindings::virtqueue_get_buf(self.raw(), &mut len) };
        let token = NonNull::new(token)?;
        // SAFETY: By the type invariant every token in the ring came from `B::into_raw`, and
        // the virtio core returns each token once (it checks used ids against its own
        // shadow of posted descriptors).
        Some((unsafe { B::from_raw(token) }, len))
    }

    /// Takes back a buffer the device never used. Only meaningful once the device is
    /// reset (or before it was ready); [`Drop`] calls it for every buffer.
    fn detach_unused(&mut self) -> Option<B> {
        // SAFETY: The queue is valid; serialised by `&mut self`.
        let token = unsafe { bindings::virtqueue_detach_unused_buf(self.raw()) };
        // SAFETY: As in `get_buf`.
        NonNull::new(token).map(|t| unsafe { B::from_raw(t) })
    }

    /// First half of a kick: whether the device wants a notification.
    pub fn kick_prepare(&mut self) -> bool {
        // SAFETY: The queue is valid; serialised by `&mut self`.
        unsafe { bindings::virtqueue_kick_prepare(self.raw()) }
    }

    /// Second half of a kick: notifies the device (a doorbell write, a VM exit).
    /// Returns false if the device is broken.
    pub fn notify(&self) -> bool {
        // SAFETY: The queue is valid; `virtqueue_notify` needs no serialisation.
        unsafe { bindings::virtqueue_notify(self.raw()) }
    }

    /// Re-enables callbacks; returns an opaque value for [`Virtqueue::poll`].
    pub fn enable_cb_prepare(&mut self) -> u32 {
        // SAFETY: The queue is valid; serialised by `&mut self`.
        unsafe { bindings::virtqueue_enable_cb_prepare(self.raw()) }
    }

    /// Whether buffers were used since [`Virtqueue::enable_cb_prepare`] returned `opaque`.
    pub fn poll(&mut self, opaque: u32) -> bool {
        // SAFETY: The queue is valid; serialised by `&mut self`.
        unsafe { bindings::virtqueue_poll(self.raw(), opaque) }
    }

    /// Re-enables callbacks, but asks to be interrupted only after most pending
    /// buffers are used. Returns false if buffers are pending already.
    pub fn enable_cb_delayed(&mut self) -> bool {
        // SAFETY: The queue is valid; serialised by `&mut self`.
        unsafe { bindings::virtqueue_enable_cb_delayed(self.raw()) }
    }

    /// Disables callbacks (a hint to the device).
    pub fn disable_cb(&mut self) {
        // SAFETY: The queue is valid.
        unsafe { bindings::virtqueue_disable_cb(self.raw()) }
    }

    /// A handle for setting this queue's interrupt affinity without holding the
    /// queue (setting it may sleep, while queues usually sit behind spinlocks).
    pub fn affinity(&self) -> Affinity {
        // INVARIANT: `vq` is valid and not deleted while the new claim is counted.
        Affinity {
            vq: self.vq,
            _claim: Claim::new(&self.claim.0),
        }
    }

    /// Resizes the ring to `num` entries (needs VIRTIO_F_RING_RESET). Every buffer
    /// still posted is taken back and dropped first. May sleep: the transport waits
    /// for the queue's interrupt handler. On failure the ring keeps its old size (and
    /// is empty as well).
    pub fn resize(&mut self, num: u32) -> Result {
        // SAFETY: The queue is valid and `&mut self` serialises every other operation on
        // it; `recycle::<B>` turns each token back into the `B` it came from.
        let ret = unsafe { bindings::virtqueue_resize(self.raw(), num, Some(recycle::<B>), None) };
        kernel::error::to_result(ret)
    }

    /// The largest ring the device supports.
    pub fn size_max(&self) -> usize {
        // SAFETY: The queue is valid; `num_max` is set at creation and never changes.
        unsafe { (*self.raw()).num_max as usize }
    }

    /// Free descriptor slots.
    pub fn num_free(&self) -> usize {
        // SAFETY: The queue is valid; only methods taking `&mut self` change the count.
        unsafe { (*self.raw()).num_free as usize }
    }

    /// Size of the ring.
    pub fn size(&self) -> usize {
        // SAFETY: The queue is valid.
        unsafe { bindings::virtqueue_get_vring_size(self.raw()) as usize }
    }

    /// Whether the queue was marked broken (the device misbehaved or is gone).
    pub fn is_broken(&self) -> bool {
        // SAFETY: The queue is valid.
        unsafe { bindings::virtqueue_is_broken(self.raw()) }
    }
}

/// Drops a buffer the virtio core hands back while resizing a ring.
///
/// # Safety
///
/// `buf` must be null or a token the virtio core held for a buffer of a `Virtqueue<B>`
/// (made by `B::into_raw`), handed back once, as `virtqueue_resize` passes each unused
/// buffer of the queue `Virtqueue::resize` resizes.
unsafe extern "C" fn recycle<B: Buffer>(
    _vq: *mut bindings::virtqueue,
    buf: *mut core::ffi::c_void,
) {
    if let Some(token) = NonNull::new(buf) {
        // SAFETY: Every token in a `Virtqueue<B>` came from `B::into_raw` (type invariant),
        // and the core hands each back once.
        drop(unsafe { B::from_raw(token) });
    }
}

impl<B: Buffer> Drop for Virtqueue<B> {
    fn drop(&mut self) {
        // SAFETY: The queue is valid (type invariant).
        unsafe { stop_device_if_running(self.vq) };
        while let Some(buf) = self.detach_unused() {
            drop(buf);
        }
    }
}

/// Before a dropped [`Virtqueue`] reclaims its buffers: resets the device if it still
/// runs. Not generic, so one copy serves every buffer type.
///
/// # Safety
///
/// `vq` must be a valid virtqueue.
#[inline(never)]
unsafe fn stop_device_if_running(vq: NonNull<bindings::virtqueue>) {
    // SAFETY: `vq` is valid (the caller's guarantee); its device outlives it.
    let vdev = unsafe { bindings::vnr_virtqueue_vdev(vq.as_ptr()) };
    // SAFETY: `vdev` is valid.
    let status = unsafe { bindings::vnr_virtio_get_status(vdev) };
    if status & bindings::VIRTIO_CONFIG_S_DRIVER_OK as u8 != 0 {
        // The device may still use the buffers: reclaiming them now would hand freed
        // memory to it. The virtio glue resets before dropping driver data, so this
        // only happens if a driver drops a queue early; stop the device first.
        crate::log_warn!("virtqueue dropped while the device runs; resetting it\n");
        // SAFETY: `vdev` is valid.
        unsafe { bindings::virtio_reset_device(vdev) };
    }
}

/// Sets the interrupt affinity of one virtqueue ([`Virtqueue::affinity`]).
///
/// # Invariants
///
/// `vq` is a valid virtqueue while the handle exists: `_claim` is counted among its
/// device's handles, and the virtio glue deletes queues only when none is left (the
/// rule that keeps a [`Virtqueue`] valid).
pub struct Affinity {
    vq: NonNull<bindings::virtqueue>,
    _claim: Claim,
}

// SAFETY: `virtqueue_set_affinity` may be called from any thread in process context.
unsafe impl Send for Affinity {}
// SAFETY: As above. The transport copies the mask into a per-vector mask without a
// lock of its own, so racing calls for queues sharing a vector may leave either's
// CPUs as the hint: a wrong hint, not unsafety. Callers serialise them.
unsafe impl Sync for Affinity {}

impl Affinity {
    /// Asks for the queue's interrupt on `cpus` (a hint the transport may ignore), or
    /// clears the hint with `None`. Process context; callers serialise the calls of
    /// one device.
    pub fn set(&self, cpus: Option<&super::cpumask::CpuMask>) {
        let mask = cpus.map_or(core::ptr::null(), |m| m.as_raw());
        // SAFETY: The queue is valid (type invariant); `mask` is null or a valid mask of
        // CPUs below `nr_cpu_ids`, which the transport copies.
        unsafe { bindings::vnr_virtqueue_set_affinity(self.vq.as_ptr(), mask) };
    }
}
