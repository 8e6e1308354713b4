// SPDX-License-Identifier: GPL-2.0

//! XDP: programs attached to a device, the buffers they run on, and frames
//! redirected to the device for transmission.
//!
//! A received frame is copied into a buffer of its own, one page fragment laid out
//! as XDP wants it: [`HEADROOM`] bytes in front for the program to grow into,
//! room for `struct skb_shared_info` behind, so that whatever the program returns
//! the buffer can become an skb without another copy, or be handed to another
//! device (`xdp_do_redirect`), which frees it through the memory model registered
//! for the ring (`MEM_TYPE_PAGE_SHARED`: `page_frag_free`). For a program that
//! takes multi-buffer frames, what does not fit goes into page fragments that the
//! shared info lists, as an skb's.
//!
//! C headers: [`include/linux/filter.h`](srctree/include/linux/filter.h),
//! [`include/net/xdp.h`](srctree/include/net/xdp.h)

use crate::abstractions::{
    frag::{PageFrag, RxFrag, FRAG_MAX},
    napi::{Napi, Poll},
    netdev::{NetDev, Operations},
    skb::SkBuff,
};
use crate::bindings;
use core::ptr::NonNull;
use kernel::{error::to_result, prelude::*, types::Opaque};

/// Headroom in front of the frame (`XDP_PACKET_HEADROOM`).
pub const HEADROOM: usize = bindings::VNR_XDP_PACKET_HEADROOM as usize;
/// Tailroom behind the frame: an aligned `struct skb_shared_info`.
pub const TAILROOM: usize = bindings::VNR_SKB_SHINFO_SIZE;
/// Longest frame a buffer holds: one page less headroom and tailroom.
pub const MAX_FRAME: usize = FRAG_MAX - HEADROOM - TAILROOM;

/// What a device supports, for [`Config::xdp_features`](super::netdev::Config).
pub mod features {
    use crate::bindings;
    /// Programs run on received frames: PASS, DROP, TX, ABORTED.
    pub const BASIC: u32 = bindings::VNR_NETDEV_XDP_ACT_BASIC;
    /// `XDP_REDIRECT` from the device's programs.
    pub const REDIRECT: u32 = bindings::VNR_NETDEV_XDP_ACT_REDIRECT;
    /// Frames redirected to the device are sent (`ndo_xdp_xmit`).
    pub const NDO_XMIT: u32 = bindings::VNR_NETDEV_XDP_ACT_NDO_XMIT;
    /// Multi-buffer frames redirected to the device are sent.
    pub const NDO_XMIT_SG: u32 = bindings::VNR_NETDEV_XDP_ACT_NDO_XMIT_SG;
    /// Programs that take multi-buffer frames (`xdp.frags`) run on frames longer
    /// than one buffer.
    pub const RX_SG: u32 = bindings::VNR_NETDEV_XDP_ACT_RX_SG;
    /// AF_XDP sockets may bind in zero-copy mode.
    pub const XSK_ZEROCOPY: u32 = bindings::VNR_NETDEV_XDP_ACT_XSK_ZEROCOPY;
}

/// A program's verdict on a frame (`enum xdp_action`): one of the constants, or a
/// value no kernel defines.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Action(pub u32);

impl Action {
    /// Dropped, after an error in the program.
    pub const ABORTED: Self = Self(bindings::VNR_XDP_ABORTED);
    /// Dropped.
    pub const DROP: Self = Self(bindings::VNR_XDP_DROP);
    /// Passed on to the stack.
    pub const PASS: Self = Self(bindings::VNR_XDP_PASS);
    /// Sent back out of the device it came in on.
    pub const TX: Self = Self(bindings::VNR_XDP_TX);
    /// Handed to what the program chose (`bpf_redirect*`).
    pub const REDIRECT: Self = Self(bindings::VNR_XDP_REDIRECT);
}

/// A reference to an XDP program.
///
/// # Invariants
///
/// `0` is a valid `bpf_prog` of which this object owns one reference.
pub struct BpfProg(NonNull<bindings::bpf_prog>);

// SAFETY: Program references may be taken, used and dropped on any CPU.
unsafe impl Send for BpfProg {}
// SAFETY: Running a program through a shared reference is what the kernel does on
// every CPU at once.
unsafe impl Sync for BpfProg {}

impl BpfProg {
    /// A new reference to `prog`.
    ///
    /// # Safety
    ///
    /// `prog` must be a valid program for the duration of the call.
    pub(crate) unsafe fn get(prog: NonNull<bindings::bpf_prog>) -> Self {
        // SAFETY: Valid per the caller; the reference taken belongs to the new object.
        unsafe { bindings::bpf_prog_inc(prog.as_ptr()) };
        // INVARIANT: One reference, taken above.
        Self(prog)
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::bpf_prog {
        self.0.as_ptr()
    }

    /// Whether the program takes multi-buffer frames (loaded from an `xdp.frags`
    /// section: `BPF_F_XDP_HAS_FRAGS`).
    pub fn has_frags(&self) -> bool {
        // SAFETY: The program is valid (type invariant).
        unsafe { bindings::vnr_bpf_prog_has_frags(self.as_raw()) }
    }

    /// Logs a verdict the kernel does not know (`bpf_warn_invalid_xdp_action`, once
    /// per boot).
    pub fn warn_invalid_action(&self, dev: &NetDev<impl Operations>, act: u32) {
        // SAFETY: The device and the program are valid (type invariants).
        unsafe { bindings::bpf_warn_invalid_xdp_action(dev.as_raw(), self.as_raw(), act) }
    }

    /// Reports a failed or aborted verdict to the `xdp:xdp_exception` tracepoint.
    pub fn trace_exception(&self, dev: &NetDev<impl Operations>, act: Action) {
        // SAFETY: The device and the program are valid (type invariants).
        unsafe { bindings::vnr_xdp_exception(dev.as_raw(), self.as_raw(), act.0) }
    }
}

impl Clone for BpfProg {
    fn clone(&self) -> Self {
        // SAFETY: The program is valid while we hold our reference.
        unsafe { Self::get(self.0) }
    }
}

impl Drop for BpfProg {
    fn drop(&mut self) {
        // SAFETY: We own one reference (type invariant), given up here. The last one
        // frees the program after an RCU grace period, from any context.
        unsafe { bindings::bpf_prog_put(self.as_raw()) }
    }
}

/// A receive queue as XDP knows it (`struct xdp_rxq_info`): the device, the queue's
/// index, its NAPI id and the memory model of its buffers, which programs read
/// (`ctx->rx_queue_index`, `ctx->ingress_ifindex`) and redirected frames carry.
///
/// # Invariants
///
/// `0` is registered (with `MEM_TYPE_PAGE_SHARED`) and unregistered on drop. It is on
/// the heap: a cache-aligned struct inline would align, and grow, every structure
/// that holds it.
pub struct RxqInfo(KBox<Opaque<bindings::xdp_rxq_info>>);

// SAFETY: The registration may be used and dropped on any CPU.
unsafe impl Send for RxqInfo {}

impl RxqInfo {
    /// Registers receive queue `queue` of `dev`, polled by `napi`.
    pub fn new(dev: &NetDev<impl Operations>, queue: u16, napi: &Napi) -> Result<Self> {
        Self::with_model(dev, queue, napi, bindings::VNR_MEM_TYPE_PAGE_SHARED)
    }

    /// Registers receive queue `queue` of `dev` for the buffers of an AF_XDP pool
    /// (`MEM_TYPE_XSK_BUFF_POOL`), and tells the pool. Only for an
    /// [`XskRxQueue`](super::xsk::XskRxQueue), which keeps the registration as long
    /// as the pool's chunks point to it.
    pub(super) fn new_xsk(
        dev: &NetDev<impl Operations>,
        queue: u16,
        napi: &Napi,
        pool: &super::xsk::XskPool,
    ) -> Result<Self> {
        let info = Self::with_model(dev, queue, napi, bindings::VNR_MEM_TYPE_XSK_BUFF_POOL)?;
        pool.set_rxq_info(&info);
        Ok(info)
    }

    pub(crate) fn raw(&self) -> *mut bindings::xdp_rxq_info {
        self.0.get()
    }

    fn with_model(
        dev: &NetDev<impl Operations>,
        queue: u16,
        napi: &Napi,
        model: u32,
    ) -> Result<Self> {
        let info = KBox::new(Opaque::new(bindings::xdp_rxq_info::default()), GFP_KERNEL)?;
        // SAFETY: `info` is ours and unregistered; the device and the NAPI context are
        // valid and outlive the registration (the driver's rings, which hold it, go
        // before them).
        to_result(unsafe {
            bindings::__xdp_rxq_info_reg(
                info.get(),
                dev.as_raw(),
                u32::from(queue),
                bindings::vnr_napi_id(napi.raw()),
                0,
            )
        })?;
        // SAFETY: Registered above; neither model needs an allocator.
        let r = to_result(unsafe {
            bindings::xdp_rxq_info_reg_mem_model(info.get(), model, core::ptr::null_mut())
        });
        if let Err(e) = r {
            // SAFETY: Registered above, not used since.
            unsafe { bindings::xdp_rxq_info_unreg(info.get()) };
            return Err(e);
        }
        // INVARIANT: Registered above.
        Ok(Self(info))
    }
}

impl Drop for RxqInfo {
    fn drop(&mut self) {
        // SAFETY: Registered (type invariant); no buffer points to it any more (buffers
        // borrow it).
        unsafe { bindings::xdp_rxq_info_unreg(self.0.get()) }
    }
}

/// Why a frame could not be copied whole into an [`XdpFrameBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// Longer than the buffer holds: [`MAX_FRAME`] bytes, or with fragments
    /// `MAX_SKB_FRAGS` pages more.
    TooLong,
    /// No memory for another fragment.
    NoMemory,
}

/// A page-long fragment for an XDP buffer: one copy of the (inlined) allocation
/// for the head and the fragments.
#[inline(never)]
fn alloc_page(pf: &mut PageFrag) -> Option<RxFrag> {
    RxFrag::alloc(pf, FRAG_MAX)
}

/// Room for the `struct xdp_buff` a program runs on, one per NAPI poll: the frame
/// being built borrows it, so frames are built one at a time and the descriptor
/// is never copied from one function to the next.
pub struct XdpScratch(bindings::xdp_buff);

impl XdpScratch {
    /// Room for one frame's descriptor.
    pub fn new() -> Self {
        Self(bindings::xdp_buff::default())
    }
}

/// A frame copied into a buffer laid out for XDP, not yet run through a program.
///
/// The first [`MAX_FRAME`] bytes go into the head fragment; for a program that
/// takes multi-buffer frames (`xdp.frags`) the rest go into page fragments behind
/// it, listed in the head's shared info as XDP wants them. It is the buffer the
/// program will run on from the start (no copy of it, no state besides it), so
/// that a frame dropped half-built is freed as a finished one would be.
pub struct XdpFrameBuilder<'a>(XdpBuff<'a>);

impl<'a> XdpFrameBuilder<'a> {
    /// An empty buffer of one page cut from `pf`, on the queue `rxq` describes,
    /// described in `scratch`, in a NAPI poll, which the buffer cannot outlive. Never
    /// sleeps.
    pub fn new(
        _poll: &'a Poll<'_>,
        pf: &mut PageFrag,
        rxq: &'a RxqInfo,
        scratch: &'a mut XdpScratch,
    ) -> Option<Self> {
        let head = alloc_page(pf)?;
        let raw = &mut scratch.0;
        // SAFETY: `raw` is ours; the head is `FRAG_MAX` bytes long, the (empty) frame
        // at `HEADROOM`, `TAILROOM` bytes for the shared info at its end; `rxq` is
        // registered and outlives `'a`. The buffer takes over the head's reference.
        unsafe {
            bindings::vnr_xdp_init_buff(raw, FRAG_MAX as u32, rxq.0.get());
            bindings::vnr_xdp_prepare_buff(raw, head.as_ptr().cast(), HEADROOM as u32, 0);
        }
        head.forget();
        // INVARIANT: The head, no fragments.
        Some(Self(XdpBuff {
            raw,
            _ctx: core::marker::PhantomData,
        }))
    }

    /// Appends `bytes` to the frame, taking page fragments from `pf` once the head
    /// is full if the program takes them (`frags`); on error the frame is
    /// incomplete, and only good for dropping.
    pub fn push(&mut self, pf: &mut PageFrag, bytes: &[u8], frags: bool) -> Result<(), PushError> {
        let mut rest = bytes;
        while !rest.is_empty() {
            let raw = &mut *self.0.raw;
            let head_end = (raw.data_hard_start as usize).wrapping_add(HEADROOM + MAX_FRAME);
            let room = head_end.saturating_sub(raw.data_end as usize);
            let (dst, n) = if raw.flags & bindings::VNR_XDP_FLAGS_HAS_FRAGS == 0 && room > 0 {
                let n = rest.len().min(room);
                let dst = raw.data_end.cast::<u8>();
                // INVARIANT: The head grows by what is copied below.
                raw.data_end = dst.wrapping_add(n).cast();
                (dst, n)
            } else if frags {
                self.frag_room(pf, rest.len())?
            } else {
                return Err(PushError::TooLong);
            };
            // SAFETY: `dst` is the end of the head's frame, `n` bytes short of the
            // head's room for it, or the end of the last fragment's bytes, `n` short of
            // its `FRAG_MAX`; both are ours alone, and `n <= rest.len()`.
            unsafe { core::ptr::copy_nonoverlapping(rest.as_ptr(), dst, n) };
            rest = rest.get(n..).unwrap_or_default();
        }
        Ok(())
    }

    /// Where the next of `want` bytes go in the last page fragment, a new one if it
    /// is full, and how many fit; counted in as if copied.
    fn frag_room(&mut self, pf: &mut PageFrag, want: usize) -> Result<(*mut u8, usize), PushError> {
        let has = self.0.has_frags();
        // SAFETY: The shared info is in the head, which is ours; its counts are valid
        // once the buffer has fragments, and set up below when it gets its first.
        let sinfo = unsafe { &mut *bindings::vnr_xdp_shinfo(self.0.raw) };
        let nr = if has { usize::from(sinfo.nr_frags) } else { 0 };
        let full = match nr.checked_sub(1).and_then(|i| sinfo.frags.get(i)) {
            Some(last) => last.len as usize >= FRAG_MAX,
            None => true,
        };
        if full {
            let entry = sinfo.frags.get_mut(nr).ok_or(PushError::TooLong)?;
            let frag = alloc_page(pf).ok_or(PushError::NoMemory)?;
            let addr = frag.as_ptr();
            // SAFETY: `addr` is the start of a fragment of a page we hold a reference
            // to, `FRAG_MAX` bytes long within it. The entry, the next free one, takes
            // over the reference (forgotten below).
            unsafe { bindings::vnr_skb_frag_fill_virt(entry, addr.cast()) };
            frag.forget();
            if !has {
                sinfo.xdp_frags_size = 0;
                self.0.raw.flags |= bindings::VNR_XDP_FLAGS_HAS_FRAGS;
            }
            // INVARIANT: One more fragment, empty (`nr < MAX_SKB_FRAGS`: no overflow).
            sinfo.nr_frags = (nr as u8).wrapping_add(1);
        }
        let i = usize::from(sinfo.nr_frags).wrapping_sub(1);
        let last = sinfo.frags.get_mut(i).ok_or(PushError::TooLong)?;
        let used = last.len as usize;
        let n = want.min(FRAG_MAX.saturating_sub(used));
        // SAFETY: The entry describes a fragment we own (type invariant of the buffer).
        let dst = unsafe { bindings::vnr_skb_frag_address(last) }.cast::<u8>();
        // At most `FRAG_MAX` bytes in each of `MAX_SKB_FRAGS` pages: no overflow.
        last.len = (used + n) as u32;
        sinfo.xdp_frags_size = sinfo.xdp_frags_size.wrapping_add(n as u32);
        Ok((dst.wrapping_add(used), n))
    }

    /// Runs `prog` on the frame, in the NAPI poll the builder was made in.
    pub fn run(self, prog: &BpfProg) -> (Action, XdpBuff<'a>) {
        // SAFETY: The program is valid (type invariant), the buffer set up by `new` and
        // `push`; this is a NAPI poll (`new`): bottom halves off, under RCU, as
        // programs need.
        let act = unsafe { bindings::vnr_xdp_run(prog.as_raw(), self.0.raw) };
        (Action(act), self.0)
    }
}

/// A frame in a buffer laid out for XDP, as a program left it. Dropping it frees
/// the buffer.
///
/// # Invariants
///
/// `raw` describes a head fragment of [`FRAG_MAX`] bytes and, if it has the
/// `XDP_FLAGS_HAS_FRAGS` flag, the page fragments its shared info lists; the
/// object owns one reference to each (set up by [`XdpFrameBuilder`], then changed
/// only by the program within the limits the kernel enforces:
/// `bpf_xdp_adjust_tail` may give fragments back); `raw.rxq` is valid for `'a`;
/// the object lives within a NAPI poll.
pub struct XdpBuff<'a> {
    raw: &'a mut bindings::xdp_buff,
    _ctx: core::marker::PhantomData<&'a RxqInfo>,
}

impl XdpBuff<'_> {
    fn has_frags(&self) -> bool {
        self.raw.flags & bindings::VNR_XDP_FLAGS_HAS_FRAGS != 0
    }

    /// The shared info's fragment count and bytes in them.
    fn frags(&self) -> (u8, u32) {
        if !self.has_frags() {
            return (0, 0);
        }
        // SAFETY: `raw` describes the buffer (type invariant), whose shared info is set
        // up as it has fragments.
        unsafe {
            let sinfo = bindings::vnr_xdp_shinfo(&*self.raw);
            ((*sinfo).nr_frags, (*sinfo).xdp_frags_size)
        }
    }

    /// Bytes of the frame, fragments included (it may have grown or shrunk in the
    /// program).
    pub fn len(&self) -> usize {
        let head = (self.raw.data_end as usize).wrapping_sub(self.raw.data as usize);
        head + self.frags().1 as usize
    }

    /// An skb around the buffer, for the stack or for transmission on `dev`; `None`
    /// (the buffer freed) without memory for it.
    pub fn into_skb(self, dev: &NetDev<impl Operations>) -> Option<SkBuff> {
        let raw = &*self.raw;
        let (start, data) = (raw.data_hard_start as usize, raw.data as usize);
        let (end, meta) = (raw.data_end as usize, raw.data_meta as usize);
        // Read before `napi_build_skb` clears the shared info's counts.
        let (nr_frags, frags_len) = self.frags();
        // On success the skb owns the head's page reference, and the fragments' with
        // them listed in its shared info (restored below), which the buffer gives up.
        // SAFETY: `data_hard_start` is the start of the fragment, `frame_sz` its length
        // (type invariant), whose last `TAILROOM` bytes are the shared info; in a NAPI
        // poll (type invariant), as `napi_build_skb` needs.
        let skb = unsafe { bindings::napi_build_skb(raw.data_hard_start, raw.frame_sz) };
        // SAFETY: A new skb (or null) of which we own the only reference.
        let skb = unsafe { SkBuff::from_raw(skb) }?;
        core::mem::forget(self);
        let p = skb.as_raw();
        // The shared info's entries were left alone by `napi_build_skb`, its count was
        // not: it is set again, with the lengths. The metadata is at most 255 bytes
        // (XDP's limit, checked by the verifier).
        // SAFETY: `skb` is new and ours, over the fragment: `hard_start <= data_meta <=
        // data <= data_end` within it, below the shared info (the kernel's limits on
        // what a program may move), so the reserve and the put fit its data area.
        unsafe {
            bindings::vnr_skb_reserve(p, (data - start) as i32);
            bindings::skb_put(p, (end - data) as u32);
            if meta < data {
                bindings::vnr_skb_metadata_set(p, (data - meta) as u8);
            }
            if nr_frags > 0 {
                bindings::vnr_xdp_update_skb_shared_info(
                    p,
                    nr_frags,
                    frags_len,
                    u32::from(nr_frags) * FRAG_MAX as u32,
                );
            }
            bindings::vnr_skb_set_dev(p, dev.as_raw());
        }
        Some(skb)
    }

    /// Hands the buffer to the target `prog`, the program that ran on it, chose
    /// (`xdp_do_redirect`); the target sends it after [`flush_redirects`]. `Err` (the
    /// buffer freed) if it refused.
    pub fn redirect(self, dev: &NetDev<impl Operations>, prog: &BpfProg) -> Result {
        // SAFETY: The device is valid, `raw` describes the buffer with a registered
        // memory model (type invariant); on success the target owns the buffer, and
        // this runs in a NAPI poll (which sets up the redirect context).
        to_result(unsafe {
            bindings::xdp_do_redirect(dev.as_raw(), &mut *self.raw, prog.as_raw())
        })?;
        core::mem::forget(self);
        Ok(())
    }
}

impl Drop for XdpBuff<'_> {
    fn drop(&mut self) {
        // SAFETY: `raw` describes the buffer and its fragments, which we own, with the
        // ring's memory model (`page_frag_free` for each; type invariant).
        unsafe { bindings::xdp_return_buff(&mut *self.raw) }
    }
}

/// Sends what [`XdpBuff::redirect`] queued on this CPU (`xdp_do_flush`): once per
/// poll that redirected, before it completes.
pub fn flush_redirects(_poll: &Poll<'_>) {
    // SAFETY: Called from a NAPI poll, which sets up the redirect context.
    unsafe { bindings::xdp_do_flush() }
}

/// Frames redirected to the device, handed over by `ndo_xdp_xmit`. The caller
/// frees the frames not taken.
///
/// # Invariants
///
/// `frames[taken..]` are valid frames the object may take ownership of.
pub struct XmitFrames<'a> {
    frames: &'a [*mut bindings::xdp_frame],
    taken: usize,
}

impl<'a> XmitFrames<'a> {
    /// # Safety
    ///
    /// Every element of `frames` must be a valid frame whose ownership the caller
    /// offers, and the caller frees those not taken (`taken()` onwards).
    pub(crate) unsafe fn new(frames: &'a [*mut bindings::xdp_frame]) -> Self {
        // INVARIANT: Per the caller.
        Self { frames, taken: 0 }
    }

    /// The next frame as an skb for transmission on `dev`, its data at the Ethernet
    /// header. `None` when none are left, or without memory (the frame left to the
    /// caller).
    pub fn next_skb(&mut self, dev: &NetDev<impl Operations>) -> Option<SkBuff> {
        let frame = *self.frames.get(self.taken)?;
        // SAFETY: `frame` is valid and ours to take (type invariant); on success the
        // skb owns its memory, on failure it is untouched.
        let skb =
            unsafe { SkBuff::from_raw(bindings::xdp_build_skb_from_frame(frame, dev.as_raw())) }?;
        self.taken += 1;
        // SAFETY: The skb is ours; `xdp_build_skb_from_frame` pulled the Ethernet
        // header (`eth_type_trans`), so it is in the headroom to push back.
        unsafe { bindings::skb_push(skb.as_raw(), bindings::ETH_HLEN) };
        Some(skb)
    }

    /// Frames taken so far.
    pub fn taken(&self) -> usize {
        self.taken
    }
}

/// Where a failed set-up explains itself to the user (`struct netlink_ext_ack`:
/// iproute2 prints the message).
///
/// # Invariants
///
/// `0` is null or a valid extack for the duration of the call that lent it.
pub struct ExtAck(*mut bindings::netlink_ext_ack);

impl ExtAck {
    /// # Safety
    ///
    /// `raw` must be null or a valid extack for the object's lifetime.
    pub(crate) unsafe fn from_raw(raw: *mut bindings::netlink_ext_ack) -> Self {
        // INVARIANT: Per the caller.
        Self(raw)
    }

    /// Sets the message iproute2 prints with the error.
    pub fn set_msg(&mut self, msg: &'static core::ffi::CStr) {
        if !self.0.is_null() {
            // SAFETY: The extack is valid (type invariant) and `msg` lives for ever, as
            // the extack keeps the pointer.
            unsafe { bindings::vnr_extack_set_msg(self.0, msg.as_ptr().cast()) }
        }
    }
}
