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

    fn as_raw(&self) -> *mut bindings::bpf_prog {
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
        // SAFETY: Registered above; the page-shared model needs no allocator.
        let r = to_result(unsafe {
            bindings::xdp_rxq_info_reg_mem_model(
                info.get(),
                bindings::VNR_MEM_TYPE_PAGE_SHARED,
                core::ptr::null_mut(),
            )
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

/// Most page fragments a multi-buffer frame has behind its first buffer
/// (`MAX_SKB_FRAGS`, the size of the shared info's array).
pub const MAX_FRAGS: usize = bindings::VNR_MAX_SKB_FRAGS;

/// Why a frame could not be copied whole into an [`XdpFrameBuilder`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushError {
    /// Longer than the buffer holds: [`MAX_FRAME`] bytes, or with fragments
    /// [`MAX_FRAGS`] pages more.
    TooLong,
    /// No memory for another fragment.
    NoMemory,
}

/// A frame copied into a buffer laid out for XDP, not yet run through a program.
///
/// The first [`MAX_FRAME`] bytes go into the head fragment; a builder made for a
/// program that takes multi-buffer frames (`xdp.frags`) puts the rest in page
/// fragments behind it, listed in the head's shared info as XDP wants them.
///
/// # Invariants
///
/// `head` is [`FRAG_MAX`] bytes long; the first `nr_frags` entries of the shared
/// info in its last [`TAILROOM`] bytes describe page fragments of which the builder
/// owns one reference each, `frags_len` bytes in all, the last of them at `last`
/// and filled up to `last_len`.
pub struct XdpFrameBuilder {
    head: RxFrag,
    len: usize,
    frags: bool,
    nr_frags: u8,
    frags_len: u32,
    last: Option<NonNull<u8>>,
    last_len: usize,
}

impl XdpFrameBuilder {
    /// An empty buffer of one page cut from `pf`, which holds a frame longer than
    /// [`MAX_FRAME`] bytes only if `frags`. Never sleeps.
    #[inline]
    pub fn new(pf: &mut PageFrag, frags: bool) -> Option<Self> {
        let head = RxFrag::alloc(pf, FRAG_MAX)?;
        // INVARIANT: A page-long fragment, no page fragments behind it.
        Some(Self {
            head,
            len: 0,
            frags,
            nr_frags: 0,
            frags_len: 0,
            last: None,
            last_len: 0,
        })
    }

    fn shinfo(&self) -> *mut bindings::skb_shared_info {
        // The head is `FRAG_MAX` bytes long (type invariant), the shared info at its
        // end, where `xdp_get_shared_info_from_buff` looks for it.
        self.head
            .as_ptr()
            .wrapping_add(FRAG_MAX - TAILROOM)
            .cast::<bindings::skb_shared_info>()
    }

    /// Appends `bytes` to the frame, taking page fragments from `pf` once the head
    /// is full; on error the frame is incomplete, and only good for dropping.
    #[inline]
    pub fn push(&mut self, pf: &mut PageFrag, bytes: &[u8]) -> Result<(), PushError> {
        let mut rest = bytes;
        if self.nr_frags == 0 {
            let n = rest.len().min(MAX_FRAME - self.len);
            let (now, later) = rest.split_at(n);
            let dst = self
                .head
                .data_mut(HEADROOM + self.len, n)
                .ok_or(PushError::TooLong)?;
            dst.copy_from_slice(now);
            self.len += n;
            rest = later;
        }
        while !rest.is_empty() {
            if !self.frags {
                return Err(PushError::TooLong);
            }
            self.push_frag(pf, &mut rest)?;
        }
        Ok(())
    }

    /// Copies the start of `rest` into the last page fragment, or a new one if it is
    /// full, and advances `rest` past it.
    fn push_frag(&mut self, pf: &mut PageFrag, rest: &mut &[u8]) -> Result<(), PushError> {
        let i = usize::from(self.nr_frags);
        let last = match self.last {
            Some(last) if self.last_len < FRAG_MAX => last,
            _ => {
                if i >= MAX_FRAGS {
                    return Err(PushError::TooLong);
                }
                let frag = RxFrag::alloc(pf, FRAG_MAX).ok_or(PushError::NoMemory)?;
                let addr = frag.as_ptr();
                let last = NonNull::new(addr).ok_or(PushError::NoMemory)?;
                // SAFETY: `addr` is the start of a fragment of a page we hold a reference
                // to, `FRAG_MAX` bytes long within it.
                let (page, off) = unsafe {
                    let page = bindings::vnr_virt_to_head_page(addr.cast());
                    (
                        page,
                        addr.offset_from(bindings::vnr_page_address(page).cast()),
                    )
                };
                let sinfo = self.shinfo();
                // SAFETY: The shared info is in the head, which is ours (type invariant);
                // `i < MAX_FRAGS`, the length of its array. The entry takes over the
                // fragment's reference (forgotten below), which the builder frees on drop.
                unsafe {
                    let entry =
                        core::ptr::addr_of_mut!((*sinfo).frags).cast::<bindings::skb_frag>();
                    bindings::vnr_skb_frag_fill_page_desc(entry.add(i), page, off as i32, 0);
                }
                frag.forget();
                self.nr_frags += 1;
                // INVARIANT: The new entry is the last, empty.
                self.last = Some(last);
                self.last_len = 0;
                last
            }
        };
        let n = rest.len().min(FRAG_MAX - self.last_len);
        let (now, later) = rest.split_at(n);
        // SAFETY: `last` is a page fragment of `FRAG_MAX` bytes that the builder owns
        // (type invariant), of which `last_len + n <= FRAG_MAX` are in use; nothing
        // else reads or writes it.
        let dst = unsafe { core::slice::from_raw_parts_mut(last.as_ptr().add(self.last_len), n) };
        dst.copy_from_slice(now);
        self.last_len += n;
        self.frags_len += n as u32;
        let sinfo = self.shinfo();
        // SAFETY: The shared info is in the head, which is ours; entry `nr_frags - 1`
        // was set up by the branch above, now or earlier.
        unsafe {
            let entry = core::ptr::addr_of_mut!((*sinfo).frags)
                .cast::<bindings::skb_frag>()
                .add(usize::from(self.nr_frags) - 1);
            (*entry).len = self.last_len as u32;
        }
        *rest = later;
        Ok(())
    }

    /// Runs `prog` on the frame, as received on the queue `rxq` describes, in a NAPI
    /// poll (which the buffer cannot outlive).
    #[inline]
    pub fn run<'a>(
        self,
        _poll: &'a Poll<'_>,
        prog: &'a BpfProg,
        rxq: &'a RxqInfo,
    ) -> (Action, XdpBuff<'a>) {
        // The buffer takes over the head and the page fragments.
        let this = core::mem::ManuallyDrop::new(self);
        let mut buff = XdpBuff {
            raw: bindings::xdp_buff::default(),
            prog,
            _ctx: core::marker::PhantomData,
        };
        let hard_start = this.head.as_ptr();
        // SAFETY: `raw` is ours; `hard_start` is the start of the head, which is
        // `FRAG_MAX` bytes long with the frame at `HEADROOM` and `TAILROOM` bytes for the
        // shared info at its end (`len <= MAX_FRAME`), whose first `nr_frags` entries
        // are set up (type invariant); `rxq` is registered and outlives `'a`.
        unsafe {
            bindings::vnr_xdp_init_buff(&mut buff.raw, FRAG_MAX as u32, rxq.0.get());
            bindings::vnr_xdp_prepare_buff(
                &mut buff.raw,
                hard_start.cast(),
                HEADROOM as u32,
                this.len as u32,
            );
            if this.nr_frags > 0 {
                let sinfo = this.shinfo();
                (*sinfo).nr_frags = this.nr_frags;
                (*sinfo).xdp_frags_size = this.frags_len;
                buff.raw.flags |= bindings::VNR_XDP_FLAGS_HAS_FRAGS;
            }
        }
        // SAFETY: The program is valid (type invariant), the buffer set up above; this is
        // a NAPI poll (`_poll`): bottom halves off, under RCU, as programs need.
        let act = unsafe { bindings::vnr_xdp_run(prog.as_raw(), &mut buff.raw) };
        (Action(act), buff)
    }
}

impl Drop for XdpFrameBuilder {
    fn drop(&mut self) {
        let sinfo = self.shinfo();
        for i in 0..usize::from(self.nr_frags) {
            // SAFETY: Entry `i < nr_frags` describes a page fragment of which we own a
            // reference (type invariant), given up here; the head goes after.
            unsafe {
                let entry = core::ptr::addr_of!((*sinfo).frags)
                    .cast::<bindings::skb_frag>()
                    .add(i);
                bindings::vnr_skb_free_frag(bindings::vnr_skb_frag_address(entry));
            }
        }
    }
}

/// A buffer a program ran on, as the program left it. Dropping it frees the
/// buffer.
///
/// # Invariants
///
/// `raw` describes a head fragment of [`FRAG_MAX`] bytes and, if it has the
/// `XDP_FLAGS_HAS_FRAGS` flag, the page fragments its shared info lists, one
/// reference to each of which the object owns (set up by
/// [`XdpFrameBuilder::run`], then changed only by the program within the limits
/// the kernel enforces: `bpf_xdp_adjust_tail` may give fragments back); `raw.rxq`
/// is valid for `'a`; the object lives within a NAPI poll.
pub struct XdpBuff<'a> {
    raw: bindings::xdp_buff,
    prog: &'a BpfProg,
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
            let sinfo = bindings::vnr_xdp_shinfo(&self.raw);
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
        let raw = &self.raw;
        let (start, data) = (raw.data_hard_start as usize, raw.data as usize);
        let (end, meta) = (raw.data_end as usize, raw.data_meta as usize);
        // Read before `napi_build_skb` clears the shared info's counts.
        let (nr_frags, frags_len) = self.frags();
        // SAFETY: `data_hard_start` is the start of the fragment, `frame_sz` its length
        // (type invariant), whose last `TAILROOM` bytes are the shared info; in a NAPI
        // poll (type invariant), as `napi_build_skb` needs. On success the skb owns the
        // head's page reference, and the fragments' with them listed in its shared
        // info (restored below), which the buffer gives up.
        let skb = unsafe { bindings::napi_build_skb(raw.data_hard_start, raw.frame_sz) };
        // SAFETY: A new skb (or null) of which we own the only reference.
        let skb = unsafe { SkBuff::from_raw(skb) }?;
        core::mem::forget(self);
        let p = skb.as_raw();
        // SAFETY: `skb` is new and ours, over the fragment: `hard_start <= data_meta <=
        // data <= data_end` within it, below the shared info (the kernel's limits on
        // what a program may move), so the reserve and the put fit its data area; the
        // metadata is at most 255 bytes (XDP's limit, checked by the verifier). The
        // shared info's entries were left alone by `napi_build_skb`, its count was not:
        // it is set again, with the lengths.
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

    /// Hands the buffer to the target the program chose (`xdp_do_redirect`); the
    /// target sends it after [`flush_redirects`]. `Err` (the buffer freed) if it
    /// refused.
    pub fn redirect(mut self, dev: &NetDev<impl Operations>) -> Result {
        // SAFETY: The device is valid, `raw` describes the buffer with a registered
        // memory model (type invariant); on success the target owns the buffer, and
        // this runs in a NAPI poll (which sets up the redirect context).
        to_result(unsafe {
            bindings::xdp_do_redirect(dev.as_raw(), &mut self.raw, self.prog.as_raw())
        })?;
        core::mem::forget(self);
        Ok(())
    }
}

impl Drop for XdpBuff<'_> {
    fn drop(&mut self) {
        if self.has_frags() {
            // SAFETY: `raw` describes the buffer and its fragments, which we own, with
            // the ring's memory model (`page_frag_free` for each; type invariant).
            unsafe { bindings::xdp_return_buff(&mut self.raw) }
        } else {
            // SAFETY: We own the head fragment's page reference (type invariant).
            unsafe { bindings::vnr_skb_free_frag(self.raw.data_hard_start) }
        }
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
