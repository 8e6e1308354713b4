// SPDX-License-Identifier: GPL-2.0

//! Control-queue messages: a class/command header and a payload the device reads,
//! then an ack byte it writes (`struct virtio_net_ctrl_hdr`, `virtio_net_ctrl_ack`).
//!
//! C header: [`include/uapi/linux/virtio_net.h`](srctree/include/uapi/linux/virtio_net.h)

use crate::abstractions::virtqueue::{Buffer, Direction, SgList};
use core::ptr::NonNull;
use kernel::prelude::*;

/// The message's memory. Heap-allocated (kmalloc memory is DMA-able; the stack is
/// not) and never moved while the device owns it.
#[repr(C)]
struct Inner {
    class: u8,
    cmd: u8,
    ack: u8,
    data: KVec<u8>,
}

/// One control command, owned by the driver until added to the control queue and
/// again once the device has used it.
pub struct CtrlMsg(KBox<Inner>);

impl CtrlMsg {
    /// A command of `class`/`cmd` carrying `data`. The ack starts as an error value,
    /// so a device that writes nothing does not acknowledge.
    pub fn new(class: u8, cmd: u8, data: &[u8]) -> Result<Self> {
        let mut v = KVec::with_capacity(data.len(), GFP_KERNEL)?;
        v.extend_from_slice(data, GFP_KERNEL)?;
        Ok(Self(KBox::new(
            Inner {
                class,
                cmd,
                ack: 0xff,
                data: v,
            },
            GFP_KERNEL,
        )?))
    }

    /// The ack byte, as the device left it.
    pub fn ack(&self) -> u8 {
        self.0.ack
    }
}

// SAFETY: `fill` describes the header and payload (device-readable) and the ack byte
// (device-writable), all inside allocations `self` owns, which do not move while the
// message is in the queue; the token is the box's pointer, turned back exactly once.
unsafe impl Buffer for CtrlMsg {
    const DIRECTION: Direction = Direction::Both;

    fn fill(&mut self, sg: &mut SgList<'_>) -> Result {
        let m: *mut Inner = &mut *self.0;
        // SAFETY: `class` and `cmd` are two adjacent bytes of the owned `Inner`
        // (`#[repr(C)]`).
        unsafe { sg.push(core::ptr::addr_of!((*m).class), 2)? };
        if !self.0.data.is_empty() {
            // SAFETY: The payload is owned by `data`, whose heap memory does not move.
            unsafe { sg.push(self.0.data.as_ptr(), self.0.data.len())? };
        }
        sg.start_in();
        // SAFETY: The ack byte belongs to the owned `Inner`.
        unsafe { sg.push(core::ptr::addr_of!((*m).ack), 1) }
    }

    fn into_raw(self) -> NonNull<core::ffi::c_void> {
        // SAFETY: `KBox::into_raw` never returns null.
        unsafe { NonNull::new_unchecked(KBox::into_raw(self.0).cast()) }
    }

    unsafe fn from_raw(raw: NonNull<core::ffi::c_void>) -> Self {
        // SAFETY: Per the caller, `raw` came from `into_raw`, i.e. `KBox::into_raw`.
        Self(unsafe { KBox::from_raw(raw.as_ptr().cast::<Inner>()) })
    }
}
