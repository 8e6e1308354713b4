// SPDX-License-Identifier: GPL-2.0

//! Network devices (`struct net_device`): allocation with the driver's data in the
//! private area, registration, the `net_device_ops` table, and a deferred work item.
//!
//! The driver's data `T` lives in the net_device's private area, as in C drivers. It
//! is initialised in place (pinned) right after allocation, and dropped after the
//! device is unregistered and its work item cancelled, just before `free_netdev`.
//!
//! C headers: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h),
//! [`include/linux/etherdevice.h`](srctree/include/linux/etherdevice.h)

mod ops;
mod registration;

pub use ops::{offload, Operations, Stats64};
pub use registration::{priv_flag, Config, Registration, Uninit};

use crate::abstractions::skb::{RxSkb, SkBuff};
use crate::abstractions::Gfp;
use crate::bindings;
use core::{marker::PhantomData, ptr::addr_of};
use kernel::{prelude::*, str::CStr, types::Opaque};

/// Where `netdev_priv()` points: the flexible `priv` array at the end of
/// `struct net_device`, as laid out by the bindings. [`Registration::new`] checks it
/// against the C `netdev_priv()` before any [`NetDev`] exists.
pub(super) const PRIV_OFFSET: usize = core::mem::offset_of!(bindings::net_device, priv_);
/// The receive flags and address-list lengths of an interface ([`NetDev::rx_mode`]).
#[derive(Clone, Copy, Debug)]
pub struct AddrLists {
    /// `IFF_PROMISC`.
    pub promisc: bool,
    /// `IFF_ALLMULTI`.
    pub allmulti: bool,
    /// Unicast addresses besides the device's own.
    pub n_uc: usize,
    /// Multicast addresses.
    pub n_mc: usize,
}

/// The private area of a net_device created by [`Registration`].
#[repr(C)]
pub(super) struct Priv<T> {
    pub(super) dev: *mut bindings::net_device,
    pub(super) work: Opaque<bindings::delayed_work>,
    /// The AF_XDP pools bound to the device's queues.
    #[cfg(vnr_xsk_zc)]
    pub(super) xsk: crate::abstractions::xsk::XskBindings,
    pub(super) data: T,
}

/// A net_device whose private data is an initialised `T`.
///
/// # Invariants
///
/// The device was created by [`Registration::<T>`] and its private area, at
/// `PRIV_OFFSET`, holds an initialised `Priv<T>` for as long as a reference exists.
#[repr(transparent)]
pub struct NetDev<T>(Opaque<bindings::net_device>, PhantomData<T>);

// SAFETY: The net_device is used by the kernel from any thread; `T` is `Send + Sync`.
unsafe impl<T: Send + Sync> Sync for NetDev<T> {}
// SAFETY: As above.
unsafe impl<T: Send + Sync> Send for NetDev<T> {}

impl<T: Operations> NetDev<T> {
    /// # Safety
    ///
    /// `ptr` must be a device created by `Registration::<T>` with initialised private
    /// data that stays so for `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::net_device) -> &'a Self {
        // SAFETY: Transparent wrapper; validity per the caller. CAST: same layout.
        unsafe { &*ptr.cast() }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.get()
    }

    fn priv_(&self) -> *mut Priv<T> {
        // SAFETY: The device is valid; its private area, `PRIV_OFFSET` bytes in (checked
        // against `netdev_priv` when the device was allocated), holds a `Priv<T>`. An
        // offset instead of a C call: every packet needs the driver's data.
        unsafe { self.as_raw().cast::<u8>().add(PRIV_OFFSET).cast() }
    }

    /// The driver's data.
    pub fn data(&self) -> &T {
        // SAFETY: By the type invariant, `data` is initialised while `self` exists.
        unsafe { &(*self.priv_()).data }
    }

    /// Whether the user set the RSS indirection table (`ethtool -X` with a table;
    /// `ethtool -X default` clears it): the driver must then keep it as it is
    /// when the number of queues changes (`netif_is_rxfh_configured`).
    pub fn rxfh_configured(&self) -> bool {
        // SAFETY: `self.as_raw()` is valid by the type invariant; the ethtool core
        // changes the flag under the RTNL lock, which callers that act on it hold.
        unsafe { bindings::vnr_netif_is_rxfh_configured(self.as_raw()) }
    }

    /// The device's current MAC address.
    pub fn addr(&self) -> [u8; 6] {
        let mut addr = [0u8; 6];
        // SAFETY: `self.as_raw()` is valid by the type invariant; the helper copies the
        // 6 bytes of `dev_addr` (an Ethernet device's address length) into `addr`.
        unsafe { bindings::vnr_netdev_addr(self.as_raw(), addr.as_mut_ptr()) };
        addr
    }

    /// The interface name (`eth0`, ...).
    pub fn name(&self) -> &CStr {
        // SAFETY: `netdev_name` returns the NUL-terminated name stored in the device.
        unsafe { CStr::from_char_ptr(bindings::vnr_netdev_name(self.as_raw())) }
    }

    /// The receive flags and address lists: copies up to `uc.len() / 6` unicast and
    /// `mc.len() / 6` multicast addresses, and says how long the lists really are.
    pub fn rx_mode(&self, uc: &mut [u8], mc: &mut [u8]) -> AddrLists {
        let dev = self.as_raw();
        // SAFETY: The device is valid. Its flags and address lists are read under
        // `addr_list_lock`, taken with bottom halves off as the stack takes it.
        unsafe { bindings::vnr_netif_addr_lock_bh(dev) };
        // SAFETY: The device is valid and its address-list lock is held (above), so the
        // lists, their counts and the flags are stable.
        let lists = unsafe {
            let flags = (*dev).flags;
            AddrLists {
                promisc: flags & bindings::VNR_IFF_PROMISC != 0,
                allmulti: flags & bindings::VNR_IFF_ALLMULTI != 0,
                n_uc: copy_addrs(addr_of!((*dev).uc), uc),
                n_mc: copy_addrs(addr_of!((*dev).mc), mc),
            }
        };
        // SAFETY: Taken above, on this CPU.
        unsafe { bindings::vnr_netif_addr_unlock_bh(dev) };
        lists
    }

    /// Sets how many transmit and receive queues the stack uses. The caller holds the
    /// RTNL lock (ethtool operations do), or the device is not registered yet.
    pub fn set_real_num_queues(&self, n: u32) -> Result {
        // SAFETY: The device is valid; the networking core checks `n` against the queues
        // allocated and asserts the RTNL lock where it is needed.
        kernel::error::to_result(unsafe {
            bindings::netif_set_real_num_tx_queues(self.as_raw(), n)
        })?;
        // SAFETY: As above.
        kernel::error::to_result(unsafe {
            bindings::netif_set_real_num_rx_queues(self.as_raw(), n)
        })
    }

    /// Sets how many receive queues the stack uses (more than transmit queues while
    /// XDP has pairs of its own). RTNL held, as for [`Self::set_real_num_queues`].
    pub fn set_real_num_rx_queues(&self, n: u32) -> Result {
        // SAFETY: As in `set_real_num_queues`.
        kernel::error::to_result(unsafe {
            bindings::netif_set_real_num_rx_queues(self.as_raw(), n)
        })
    }

    /// Maps transmit queue `queue` to `cpus` for transmit packet steering (XPS).
    /// Process context.
    pub fn set_xps_queue(&self, cpus: &super::cpumask::CpuMask, queue: u16) -> Result {
        if !self.valid_txq(queue) {
            return Err(EINVAL);
        }
        // SAFETY: The device is valid and `queue` is one of its queues; the mask is valid
        // and holds CPUs below `nr_cpu_ids` only. May sleep: process context.
        kernel::error::to_result(unsafe {
            bindings::netif_set_xps_queue(self.as_raw(), cpus.as_raw(), queue)
        })
    }

    /// Schedules [`Operations::deferred`] on the system workqueue, now (bringing a
    /// later scheduled run forward).
    pub fn schedule_deferred(&self) {
        // SAFETY: The work item was initialised at creation and is cancelled before the
        // private data is dropped.
        // `mod_delayed_work` with no delay: also brings forward a run scheduled later.
        unsafe { bindings::vnr_mod_delayed_work((*self.priv_()).work.get(), 0) };
    }

    /// Schedules [`Operations::deferred`] in `ms` milliseconds, unless a run is
    /// pending already (for retries; may be called from the deferred work itself).
    pub fn schedule_deferred_after(&self, ms: u32) {
        // SAFETY: As in `schedule_deferred`.
        unsafe { bindings::vnr_schedule_delayed_work((*self.priv_()).work.get(), ms) };
    }

    /// Sends gratuitous ARP and unsolicited neighbour advertisements for the
    /// interface's addresses (`netdev_notify_peers`). Process context; takes the RTNL
    /// lock, so the caller must not hold it.
    pub fn notify_peers(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::netdev_notify_peers(self.as_raw()) }
    }

    /// The link is up.
    pub fn carrier_on(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::netif_carrier_on(self.as_raw()) }
    }

    /// The link is down.
    pub fn carrier_off(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::netif_carrier_off(self.as_raw()) }
    }

    /// Stops transmit queue `q` (the stack stops calling `start_xmit` for it).
    pub fn stop_subqueue(&self, q: u16) {
        if self.valid_txq(q) {
            // SAFETY: The device is valid and `q` is one of its queues (the helper checks
            // nothing, so `q` is bounded here).
            unsafe { bindings::vnr_netif_stop_subqueue(self.as_raw(), q) }
        }
    }

    /// Wakes transmit queue `q`.
    pub fn wake_subqueue(&self, q: u16) {
        if self.valid_txq(q) {
            // SAFETY: The device is valid and `q` is one of its queues.
            unsafe { bindings::vnr_netif_wake_subqueue(self.as_raw(), q) }
        }
    }

    /// Byte queue limits: `bytes` were queued on transmit queue `q`; `more` says
    /// another packet follows at once (`xmit_more`). Returns whether to ring the
    /// doorbell now (no packet follows, or BQL stopped the queue). Only from
    /// `start_xmit` of queue `q`.
    pub fn tx_sent(&self, q: u16, bytes: u32, more: bool) -> bool {
        if !self.valid_txq(q) {
            return true;
        }
        // SAFETY: The device is valid and `q` is one of its queues; the caller is the
        // queue's transmit path, which the stack serialises.
        unsafe { bindings::vnr_netdev_tx_sent_queue(self.as_raw(), q, bytes, more) }
    }

    /// Byte queue limits: the device finished `packets` packets of `bytes` bytes on
    /// transmit queue `q`. Calls for one queue must be serialised by the caller.
    pub fn tx_completed(&self, q: u16, packets: u32, bytes: u32) {
        if self.valid_txq(q) {
            // SAFETY: The device is valid and `q` is one of its queues.
            unsafe { bindings::vnr_netdev_tx_completed_queue(self.as_raw(), q, packets, bytes) }
        }
    }

    /// Byte queue limits: forget what was sent on transmit queue `q` (after packets
    /// were dropped without completing, e.g. when a ring was resized).
    pub fn tx_reset(&self, q: u16) {
        if self.valid_txq(q) {
            // SAFETY: The device is valid and `q` is one of its queues.
            unsafe { bindings::vnr_netdev_tx_reset_queue(self.as_raw(), q) }
        }
    }

    /// Whether the interface is up (`netif_running`).
    pub fn is_running(&self) -> bool {
        // SAFETY: The device is valid.
        unsafe { bindings::vnr_netif_running(self.as_raw()) }
    }

    /// The offloads on ([`offload`] bits of `features`). Under the RTNL lock (or
    /// where the caller otherwise knows they do not change), for a stable answer.
    pub fn features(&self) -> u64 {
        // SAFETY: The device is valid; the field is a plain integer the core changes
        // under RTNL, read once here.
        unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*self.as_raw()).features)) }
    }

    /// Whether transmit queue `q` is stopped (`__netif_subqueue_stopped`: a test of
    /// the queue's state bit, read here without a call on every packet).
    pub fn subqueue_stopped(&self, q: u16) -> bool {
        if !self.valid_txq(q) {
            return false;
        }
        let txq = tx_queue(self.as_raw(), q);
        // A volatile read is `test_bit`'s: the bit is set and cleared atomically by other
        // CPUs, and a stale value is as good as it is to C callers.
        // SAFETY: `txq` is a valid queue (`q` was checked above); `state` is an aligned
        // word.
        let state = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*txq).state)) };
        state & (1 << bindings::VNR_QUEUE_STATE_DRV_XOFF) != 0
    }

    fn valid_txq(&self, q: u16) -> bool {
        // SAFETY: The device is valid; `num_tx_queues` is fixed at allocation.
        (q as u32) < unsafe { (*self.as_raw()).num_tx_queues }
    }

    /// Stops every transmit queue and waits for running `start_xmit` calls.
    pub fn tx_disable(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::vnr_netif_tx_disable(self.as_raw()) }
    }

    /// Allows transmission on every queue.
    pub fn tx_start_all(&self) {
        // SAFETY: The device is valid.
        unsafe { bindings::vnr_netif_tx_start_all_queues(self.as_raw()) }
    }

    /// Allocates an empty skb for a receive buffer of `len` bytes.
    pub fn alloc_rx_skb(&self, len: usize, gfp: Gfp) -> Option<RxSkb> {
        // SAFETY: The device is valid.
        let p = unsafe { bindings::__netdev_alloc_skb(self.as_raw(), len as u32, gfp.raw()) };
        // SAFETY: A non-null result is a new skb we own.
        unsafe { SkBuff::from_raw(p) }.map(RxSkb::new)
    }

    /// Classifies a received frame (protocol, packet type) and pulls the Ethernet
    /// header, as `eth_type_trans`. The frame must hold a whole Ethernet header.
    pub fn eth_type_trans(&self, skb: &mut SkBuff) -> Result {
        if skb.linear().len() < bindings::ETH_HLEN as usize {
            return Err(EINVAL);
        }
        // SAFETY: The device is valid; the skb is owned and has an Ethernet header in
        // its linear part.
        unsafe { bindings::vnr_eth_type_trans(skb.as_raw(), self.as_raw()) };
        Ok(())
    }

    /// The current MTU.
    pub fn mtu(&self) -> u32 {
        // SAFETY: The device is valid.
        unsafe { bindings::vnr_netdev_mtu(self.as_raw()) }
    }
}

/// Whether the current `start_xmit` call is followed by more packets
/// (`netdev_xmit_more`), so the doorbell can wait.
pub fn xmit_more() -> bool {
    // SAFETY: Reads a per-CPU flag of the current transmit; no precondition.
    unsafe { bindings::vnr_netdev_xmit_more() }
}

/// Copies the addresses of `list` into `out`, 6 bytes each, as many as fit
/// (`netdev_for_each_{uc,mc}_addr`); returns the list's length, which may be more.
///
/// # Safety
///
/// `list` must be a valid address list of a device whose `addr_list_lock` the caller
/// holds.
unsafe fn copy_addrs(list: *const bindings::netdev_hw_addr_list, out: &mut [u8]) -> usize {
    // SAFETY: `list` is valid and stable under the lock the caller holds.
    let (head, count) = unsafe { (addr_of!((*list).list), (*list).count) };
    let mut slots = out.chunks_exact_mut(ETH_ALEN);
    // SAFETY: As above: `head` is a valid, initialised list head.
    let mut pos = unsafe { (*head).next };
    while !core::ptr::eq(pos, head) {
        let Some(slot) = slots.next() else { break };
        // SAFETY: Every entry of an address list is the `list` field of a
        // `netdev_hw_addr`, valid while the lock is held; its `addr` has
        // `MAX_ADDR_LEN` (32) bytes, the first 6 an Ethernet address.
        unsafe {
            let ha = kernel::container_of!(pos, bindings::netdev_hw_addr, list);
            slot.copy_from_slice(&(&(*ha).addr)[..ETH_ALEN]);
            pos = (*pos).next;
        }
    }
    count as usize
}

/// Bytes of an Ethernet address.
const ETH_ALEN: usize = 6;

/// The address of transmit queue `q` of `dev` (`netdev_get_tx_queue`, without a call:
/// both users are on the per-packet path). Only computed, not dereferenced: callers
/// check `q` against `num_tx_queues` before reading through it, or only compare it.
pub(super) fn tx_queue(dev: *mut bindings::net_device, q: u16) -> *mut bindings::netdev_queue {
    // SAFETY: `dev` is a valid device (both callers hold one); reading its `_tx`
    // pointer, fixed at allocation, is all this does.
    unsafe { (*dev)._tx }.wrapping_add(q.into())
}
