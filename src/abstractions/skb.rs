// SPDX-License-Identifier: GPL-2.0

//! Socket buffers (`struct sk_buff`) owned by the driver, and the two kinds of
//! virtqueue buffer built from them: receive buffers and transmit packets.
//!
//! Freeing matches the context, as reviewers of earlier Rust netdev work asked:
//! dropping an [`SkBuff`] is `dev_kfree_skb_any` (a drop, safe in any context);
//! a transmitted packet is consumed with `dev_consume_skb_any`, or with
//! `napi_consume_skb` from NAPI.
//!
//! C headers: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h),
//! [`include/linux/virtio_net.h`](srctree/include/linux/virtio_net.h)

use crate::abstractions::virtqueue::{Buffer, Direction, SgList};
use crate::bindings;
use core::ptr::NonNull;
use kernel::prelude::*;

/// An owned socket buffer.
///
/// # Invariants
///
/// `0` points to a valid `sk_buff` that this object owns (one reference).
pub struct SkBuff(NonNull<bindings::sk_buff>);

// SAFETY: An owned skb may be handed to and freed on any CPU.
unsafe impl Send for SkBuff {}

impl SkBuff {
    /// Takes ownership of a raw skb.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid skb whose reference the caller gives up.
    pub(crate) unsafe fn from_raw(ptr: *mut bindings::sk_buff) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }

    /// Takes ownership of a raw skb known to be non-null (a virtqueue token, a
    /// pointer already checked): no check, no panic path.
    ///
    /// # Safety
    ///
    /// `ptr` must be a valid skb whose reference the caller gives up.
    pub(crate) unsafe fn from_non_null(ptr: NonNull<bindings::sk_buff>) -> Self {
        Self(ptr)
    }

    /// Gives up ownership.
    pub(crate) fn into_raw(self) -> *mut bindings::sk_buff {
        let p = self.0.as_ptr();
        core::mem::forget(self);
        p
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::sk_buff {
        self.0.as_ptr()
    }

    pub(crate) fn as_non_null(&self) -> NonNull<bindings::sk_buff> {
        self.0
    }

    /// The control buffer (`skb->cb`), which belongs to the layer holding the skb.
    fn cb_ptr(&self) -> *mut u8 {
        // SAFETY: The skb is valid by the type invariant; only the address of the field
        // is taken.
        unsafe { core::ptr::addr_of_mut!((*self.as_raw()).cb).cast() }
    }

    /// Where the packet data starts (`skb->data`).
    fn data_ptr(&self) -> *mut u8 {
        // SAFETY: The skb is valid by the type invariant; `data` is a plain field.
        unsafe { (*self.as_raw()).data }
    }

    /// Total length of the packet data.
    pub fn len(&self) -> usize {
        // SAFETY: The skb is valid by the type invariant; `len` is a plain field.
        unsafe { (*self.as_raw()).len as usize }
    }

    /// The linear part of the packet data.
    pub fn linear(&self) -> &[u8] {
        // SAFETY: The skb is valid; `data..data+headlen` is its initialised linear area,
        // which does not change while we hold `&self`.
        unsafe {
            let len = bindings::vnr_skb_headlen(self.as_raw()) as usize;
            core::slice::from_raw_parts(self.data_ptr(), len)
        }
    }

    /// The transmit queue the stack chose for this packet.
    pub fn queue_mapping(&self) -> u16 {
        // SAFETY: The skb is valid; `queue_mapping` is a plain field
        // (`skb_get_queue_mapping`).
        unsafe { (*self.as_raw()).queue_mapping }
    }

    /// Removes `n` bytes from the start of the linear data.
    pub fn pull(&mut self, n: usize) -> Result {
        if n > self.linear().len() {
            return Err(EINVAL);
        }
        // SAFETY: The skb is valid and owned; `n` bytes are present in the linear area.
        unsafe { bindings::skb_pull(self.as_raw(), n as u32) };
        Ok(())
    }

    /// Records the receive queue the packet arrived on.
    pub fn record_rx_queue(&mut self, queue: u16) {
        // SAFETY: The skb is valid and owned.
        unsafe { bindings::vnr_skb_record_rx_queue(self.as_raw(), queue) }
    }

    /// Sets the packet's flow hash as the device computed it: over the addresses
    /// (`l4` false) or the addresses and ports.
    pub fn set_hash(&mut self, hash: u32, l4: bool) {
        // SAFETY: The skb is valid and owned.
        unsafe { bindings::vnr_skb_set_hash(self.as_raw(), hash, l4) }
    }

    /// Marks the packet's checksum as verified by the device.
    pub fn set_csum_unnecessary(&mut self) {
        // SAFETY: The skb is valid and owned.
        unsafe { bindings::vnr_skb_csum_unnecessary(self.as_raw()) }
    }

    /// Applies a received header's checksum (NEEDS_CSUM) and GSO state, with the
    /// kernel's `virtio_net_hdr_to_skb()`, which checks them against the packet's own
    /// headers (it may pull them into the linear part). The data must start at the
    /// Ethernet header. Returns false if the packet contradicts the header.
    pub fn apply_net_hdr(&mut self, h: &RxOffloads) -> bool {
        // A VERSION_1 device's header is little-endian.
        let hdr = bindings::virtio_net_hdr {
            flags: h.flags,
            gso_type: h.gso_type,
            hdr_len: h.hdr_len.to_le(),
            gso_size: h.gso_size.to_le(),
            csum_start: h.csum_start.to_le(),
            csum_offset: h.csum_offset.to_le(),
        };
        // SAFETY: The skb is valid and owned, not shared with anyone yet; `hdr` lives
        // across the call.
        let r = unsafe { bindings::vnr_virtio_net_hdr_to_skb(self.as_raw(), &hdr) };
        r == 0
    }

    /// Whether the packet is a GSO (coalesced) one.
    pub fn is_gso(&self) -> bool {
        // SAFETY: The skb is valid; its shared info is read, as `skb_is_gso()` does.
        unsafe { (*bindings::vnr_skb_shinfo(self.as_raw())).gso_size != 0 }
    }

    /// Frees a packet that was transmitted successfully, from any context.
    pub fn consume_any(self) {
        // SAFETY: We own the skb and give up our reference.
        unsafe { bindings::vnr_dev_consume_skb_any(self.into_raw()) }
    }
}

impl Drop for SkBuff {
    fn drop(&mut self) {
        // SAFETY: We own the skb; dropping an skb from any context is what
        // `dev_kfree_skb_any` is for.
        unsafe { bindings::vnr_dev_kfree_skb_any(self.as_raw()) }
    }
}

/// The offload fields of a received `virtio_net_hdr` (in CPU byte order), as
/// [`SkBuff::apply_net_hdr`] hands them to `virtio_net_hdr_to_skb()`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxOffloads {
    /// `VIRTIO_NET_HDR_F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`.
    pub gso_type: u8,
    /// Length of the headers to copy into each segment.
    pub hdr_len: u16,
    /// Segment size (MSS).
    pub gso_size: u16,
    /// Where checksumming starts.
    pub csum_start: u16,
    /// Where, from `csum_start`, the checksum is stored.
    pub csum_offset: u16,
}

/// What the stack asks of the device for one outgoing packet, read from its skb
/// ([`TxDraft::request`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxOffloads {
    /// `ip_summed == CHECKSUM_PARTIAL`.
    pub partial_csum: bool,
    /// `skb_checksum_start_offset()`.
    pub csum_start: u32,
    /// `csum_offset`.
    pub csum_offset: u32,
    /// `skb_shinfo()->gso_size`, 0 if not GSO.
    pub gso_size: u32,
    /// `skb_shinfo()->gso_type` (`SKB_GSO_*` bits).
    pub gso_type: u32,
    /// `skb_headlen()`.
    pub headlen: u32,
}

/// An empty skb posted to a receive queue: the device writes a virtio-net header and
/// a frame into its tailroom.
pub struct RxSkb(SkBuff);

impl RxSkb {
    /// Wraps a freshly allocated, empty skb.
    pub(crate) fn new(skb: SkBuff) -> Self {
        Self(skb)
    }

    /// Capacity offered to the device.
    pub fn capacity(&self) -> usize {
        // SAFETY: The skb is valid.
        unsafe { bindings::vnr_skb_tailroom(self.0.as_raw()) as usize }
    }

    /// Turns a used buffer into a packet of `used` bytes, as the device reported.
    /// A length beyond the buffer is refused before any memory is touched.
    pub fn into_filled(self, used: usize) -> Result<SkBuff, SkBuff> {
        if used > self.capacity() {
            return Err(self.0);
        }
        // SAFETY: The skb is valid and owned, and has `used` bytes of tailroom, which the
        // device wrote (the buffer was posted as device-writable).
        unsafe { bindings::skb_put(self.0.as_raw(), used as u32) };
        Ok(self.0)
    }
}

// SAFETY: `fill` describes only the skb's own tailroom, which does not move while the
// skb is owned by the queue; the token is the skb pointer, turned back exactly once.
unsafe impl Buffer for RxSkb {
    const DIRECTION: Direction = Direction::In;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        let cap = self.capacity();
        // SAFETY: The skb is valid; `data..data+tailroom` belongs to it (the data area
        // begins at `data` when the skb is empty).
        unsafe { sg.push(self.0.data_ptr(), cap) }
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        // SAFETY: `into_raw` of a valid skb is non-null.
        unsafe { NonNull::new_unchecked(self.0.into_raw().cast()) }
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        // SAFETY: `raw` came from `into_raw` of an `RxSkb`, per the caller.
        Self(unsafe { SkBuff::from_non_null(raw.cast()) })
    }
}

/// Bytes of `skb->cb` used for the virtio-net header of an outgoing packet.
pub const TX_HDR_MAX: usize = 24;

/// A packet on its way to the transmit ring, before its virtio-net header is
/// written: what it asks of the device and where its header will go, read in one
/// call ([`TxSkb::begin`]), so the driver can build the header in between.
///
/// # Invariants
///
/// `pushed` implies the skb's headroom in front of its data holds `hdr_len`
/// (at most [`TX_HDR_MAX`]) bytes, aligned for the header and not shared with a
/// clone; `frags` is the skb's number of page fragments and it has no frag list.
/// Both were read from the skb, which is owned here and not changed since.
pub struct TxDraft {
    skb: SkBuff,
    req: TxOffloads,
    hdr_len: usize,
    pushed: bool,
    frags: usize,
}

impl TxDraft {
    /// What the stack asks of the device for this packet (checksum, GSO).
    pub fn request(&self) -> &TxOffloads {
        &self.req
    }

    /// Total length of the packet data.
    pub fn len(&self) -> usize {
        self.skb.len()
    }

    /// Writes the packet's header, `hdr` (the length given to [`TxSkb::begin`]): in
    /// the headroom if it fits there, else in `cb`.
    pub fn finish(self, hdr: &[u8]) -> Result<TxSkb, SkBuff> {
        if hdr.len() != self.hdr_len {
            return Err(self.skb);
        }
        let dst = if self.pushed {
            // SAFETY: The headroom holds `hdr_len` bytes and is not shared with a clone
            // (type invariant), so the bytes in front of `data` are ours to write.
            unsafe { self.skb.data_ptr().sub(self.hdr_len) }
        } else {
            self.skb.cb_ptr()
        };
        // SAFETY: `dst` has room for the header: `cb` is 48 bytes and `hdr_len` at
        // most `TX_HDR_MAX` (24), or the headroom was checked (type invariant).
        unsafe { core::ptr::copy_nonoverlapping(hdr.as_ptr(), dst, hdr.len()) };
        // INVARIANT: The header was written where `pushed` says; `frags` is the draft's.
        Ok(TxSkb {
            skb: self.skb,
            hdr_len: self.hdr_len,
            pushed: self.pushed,
            frags: Some(self.frags),
        })
    }

    /// Gives the packet back, unsent.
    pub fn into_skb(self) -> SkBuff {
        self.skb
    }
}

/// A packet to transmit, with its virtio-net header in the skb's headroom, right
/// in front of the data, or else in its control buffer (`skb->cb`, which belongs
/// to the driver from `ndo_start_xmit` on), so the header needs no allocation.
///
/// # Invariants
///
/// The header's `hdr_len` bytes were written where `pushed` says. `frags` is the
/// skb's number of page fragments and it has no frag list (as [`TxDraft`]'s), or
/// `None` for a packet taken back from the ring, which is not to be sent again.
pub struct TxSkb {
    skb: SkBuff,
    hdr_len: usize,
    /// The header is in the headroom, right in front of the data (else in `cb`).
    pushed: bool,
    frags: Option<usize>,
}

impl TxSkb {
    /// Reads what `skb` asks of the device and where a header of `hdr_len` (at most
    /// [`TX_HDR_MAX`]) bytes can go: with `may_push` (the device takes the header
    /// and the data in one descriptor), in the headroom when there is room and it
    /// is not shared, so a linear packet needs one descriptor; otherwise in `cb`.
    /// Takes the software transmit timestamp a socket asked for
    /// (`skb_tx_timestamp`, for `SOF_TIMESTAMPING_TX_SOFTWARE`). Refuses a header
    /// too long for `cb` and a packet with a frag list (never offered: no
    /// `NETIF_F_FRAGLIST`).
    #[inline]
    pub fn begin(skb: SkBuff, hdr_len: usize, may_push: bool) -> Result<TxDraft, SkBuff> {
        if hdr_len > TX_HDR_MAX {
            return Err(skb);
        }
        let raw = skb.as_raw();
        // SAFETY: The skb is valid and owned, not yet given to the device: its checksum
        // state, shared info and headroom are read, nothing is changed.
        let (req, frag_list, frags, can_push) = unsafe {
            let partial = bindings::vnr_skb_ip_summed(raw) == bindings::CHECKSUM_PARTIAL as u8;
            let sh = bindings::vnr_skb_shinfo(raw);
            let req = TxOffloads {
                partial_csum: partial,
                csum_start: if partial {
                    bindings::vnr_skb_checksum_start_offset(raw) as u32
                } else {
                    0
                },
                csum_offset: if partial {
                    u32::from(bindings::vnr_skb_csum_offset(raw))
                } else {
                    0
                },
                // 0 unless GSO (`skb_is_gso`).
                gso_size: u32::from((*sh).gso_size),
                gso_type: (*sh).gso_type,
                headlen: bindings::vnr_skb_headlen(raw),
            };
            // The in-tree `can_push`: data aligned for the header (`virtio_net_hdr_v1`
            // aligns as in-tree's `virtio_net_hdr_mrg_rxbuf`: 16-bit fields), headroom for
            // it, not shared with a clone.
            let aligned =
                (*raw).data as usize % core::mem::align_of::<bindings::virtio_net_hdr_v1>() == 0;
            let can_push = may_push
                && aligned
                && !bindings::vnr_skb_header_cloned(raw)
                && bindings::vnr_skb_headroom(raw) as usize >= hdr_len;
            (
                req,
                !(*sh).frag_list.is_null(),
                usize::from((*sh).nr_frags),
                can_push,
            )
        };
        if frag_list {
            return Err(skb);
        }
        // SAFETY: The skb is valid and owned; the timestamp is taken before the device
        // may see the packet.
        unsafe { bindings::vnr_skb_tx_timestamp(raw) };
        // INVARIANT: `can_push` checked the headroom for `hdr_len` bytes (at most
        // `TX_HDR_MAX`, checked above), `frags` is the fragment count of an skb without
        // a frag list; the skb moves into the draft, where nothing changes it.
        Ok(TxDraft {
            skb,
            req,
            hdr_len,
            pushed: can_push,
            frags,
        })
    }

    /// Whether the header went in the headroom, in front of the data (else it
    /// needs a descriptor of its own).
    pub fn header_in_headroom(&self) -> bool {
        self.pushed
    }

    /// The packet, once the device is done with it.
    pub fn into_skb(self) -> SkBuff {
        self.skb
    }
}

// SAFETY: `fill` describes the header (in `cb` or in front of the data) and the skb's
// data via `skb_to_sgvec`, all owned by the skb, after checking that the table has room
// for its fragments plus one (counted when it was begun: type invariant); the token is
// the skb pointer, turned back exactly once.
unsafe impl Buffer for TxSkb {
    const DIRECTION: Direction = Direction::Out;

    #[inline]
    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        let skb = self.skb.as_raw();
        if !self.pushed {
            // SAFETY: The header lives in the skb's `cb`, which the skb owns.
            unsafe { sg.push(self.skb.cb_ptr(), self.hdr_len)? };
        }
        // `skb_to_sgvec` writes one entry for the linear part and one per fragment (no
        // frag list: type invariant); it does not check the table size, so do it here.
        let frags = self.frags.ok_or_else(super::emsgsize)?;
        let tail = sg.raw_tail(frags + 1).ok_or_else(super::emsgsize)?;
        let n = if self.pushed {
            // SAFETY: `tail` has `frags + 1` cleared entries; the skb is valid and owned,
            // with the header written in the `hdr_len` bytes of headroom in front of its
            // data by `TxDraft::finish`: mapped with the data, then the data pointer is
            // put back where it was.
            unsafe {
                bindings::vnr___skb_push(skb, self.hdr_len as u32);
                let n = bindings::skb_to_sgvec(skb, tail, 0, (*skb).len as i32);
                bindings::vnr___skb_pull(skb, self.hdr_len as u32);
                n
            }
        } else {
            // SAFETY: `tail` has `frags + 1` cleared entries; the skb is valid and owned.
            unsafe { bindings::skb_to_sgvec(skb, tail, 0, self.skb.len() as i32) }
        };
        if n < 0 {
            return Err(Error::from_errno(n));
        }
        // SAFETY: `skb_to_sgvec` filled `n` entries from the skb's own memory.
        unsafe { sg.advance(n as usize) }
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        // SAFETY: `into_raw` of a valid skb is non-null.
        unsafe { NonNull::new_unchecked(self.skb.into_raw().cast()) }
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        Self {
            // SAFETY: `raw` came from `into_raw` of a `TxSkb`, per the caller.
            skb: unsafe { SkBuff::from_non_null(raw.cast()) },
            hdr_len: 0,
            pushed: false,
            frags: None,
        }
    }
}
