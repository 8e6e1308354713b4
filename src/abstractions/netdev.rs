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

use crate::abstractions::ethtool;
use crate::abstractions::napi::Poll;
use crate::abstractions::qstats;
use crate::abstractions::skb::{RxSkb, SkBuff};
use crate::abstractions::txq::XmitLock;
use crate::abstractions::{virtio, Gfp};
use crate::bindings;
use core::{
    marker::PhantomData,
    ptr::{addr_of, addr_of_mut, NonNull},
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{
    build_error,
    error::{from_result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    str::CStr,
    types::Opaque,
};

/// Where `netdev_priv()` points: the flexible `priv` array at the end of
/// `struct net_device`, as laid out by the bindings. [`Registration::new`] checks it
/// against the C `netdev_priv()` before any [`NetDev`] exists.
const PRIV_OFFSET: usize = core::mem::offset_of!(bindings::net_device, priv_);

/// Counters reported by `ndo_get_stats64`.
#[derive(Default, Clone, Copy, Debug)]
pub struct Stats64 {
    /// Packets received.
    pub rx_packets: u64,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets transmitted.
    pub tx_packets: u64,
    /// Bytes transmitted.
    pub tx_bytes: u64,
    /// Received packets dropped (no memory, or refused as malformed).
    pub rx_dropped: u64,
    /// Transmit packets dropped.
    pub tx_dropped: u64,
    /// Receive errors (malformed buffers from the device).
    pub rx_errors: u64,
    /// Receive length errors.
    pub rx_length_errors: u64,
    /// Receive frame errors (bad header).
    pub rx_frame_errors: u64,
    /// Transmit errors.
    pub tx_errors: u64,
}

/// Device feature bits (`NETIF_F_*`) for [`Config::hw_features`] and [`Config::features`].
pub mod offload {
    use crate::bindings;
    /// Scatter-gather.
    pub const SG: u64 = bindings::VNR_NETIF_F_SG;
    /// Checksum offload for any protocol.
    pub const HW_CSUM: u64 = bindings::VNR_NETIF_F_HW_CSUM;
    /// TCPv4 segmentation offload.
    pub const TSO: u64 = bindings::VNR_NETIF_F_TSO;
    /// TCPv6 segmentation offload.
    pub const TSO6: u64 = bindings::VNR_NETIF_F_TSO6;
    /// TSO with ECN.
    pub const TSO_ECN: u64 = bindings::VNR_NETIF_F_TSO_ECN;
    /// Receive checksum offload.
    pub const RXCSUM: u64 = bindings::VNR_NETIF_F_RXCSUM;
    /// DMA to high memory.
    pub const HIGHDMA: u64 = bindings::VNR_NETIF_F_HIGHDMA;
    /// The device coalesces received segments (hardware GRO).
    pub const GRO_HW: u64 = bindings::VNR_NETIF_F_GRO_HW;
    /// The device filters received 802.1Q VLANs.
    pub const VLAN_FILTER: u64 = bindings::VNR_NETIF_F_HW_VLAN_CTAG_FILTER;
    /// The device hashes received packets (HASH_REPORT).
    pub const RXHASH: u64 = bindings::VNR_NETIF_F_RXHASH;
}

/// What a network driver implements: the `net_device_ops` callbacks, its NAPI poll
/// and its deferred work.
///
/// Only the optional callbacks the driver implements are installed (`#[vtable]`):
/// for the others the networking core does what it does for a C driver that leaves
/// them `NULL` (e.g. `EOPNOTSUPP` for a MAC address change, no transmit watchdog
/// without `tx_timeout`). ethtool and per-queue statistics are separate traits,
/// [`ethtool::Operations`] and [`qstats::Operations`], whose tables go in the
/// [`Config`].
///
/// # Examples
///
/// ```ignore
/// struct Dummy;
///
/// #[vtable]
/// impl netdev::Operations for Dummy {
///     fn open(_dev: &NetDev<Self>) -> Result { Ok(()) }
///     fn stop(_dev: &NetDev<Self>) -> Result { Ok(()) }
///     // Drops every packet (dropping an `SkBuff` frees it).
///     fn start_xmit(_dev: &NetDev<Self>, _skb: SkBuff, _held: &mut XmitLock) {}
///     fn get_stats64(_dev: &NetDev<Self>, _stats: &mut Stats64) {}
///     fn poll(_dev: &NetDev<Self>, _poll: Poll<'_>) -> i32 { 0 }
/// }
/// ```
#[vtable]
pub trait Operations: Sized + Send + Sync + 'static {
    /// `ndo_open`: the interface goes up.
    fn open(dev: &NetDev<Self>) -> Result;
    /// `ndo_stop`: the interface goes down.
    fn stop(dev: &NetDev<Self>) -> Result;
    /// `ndo_start_xmit`: transmit `skb`. The packet is always consumed: on failure the
    /// driver drops (and counts) it, as the stack expects of `NETDEV_TX_OK`. The
    /// stack holds the lock of the packet's transmit queue: `held` proves it, for
    /// data kept in a [`TxqLocked`](super::txq::TxqLocked).
    fn start_xmit(dev: &NetDev<Self>, skb: SkBuff, held: &mut XmitLock);
    /// `ndo_get_stats64`.
    fn get_stats64(dev: &NetDev<Self>, stats: &mut Stats64);
    /// The NAPI poll of one of the driver's contexts; returns the packets received.
    fn poll(dev: &NetDev<Self>, poll: Poll<'_>) -> i32;
    /// Runs in process context after [`NetDev::schedule_deferred`].
    fn deferred(_dev: &NetDev<Self>) {}
    /// `ndo_set_rx_mode`: the flags or address lists changed. Runs in atomic context
    /// (under the address-list lock): read them with [`NetDev::rx_mode`] from
    /// deferred work.
    fn set_rx_mode(_dev: &NetDev<Self>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_set_mac_address`: tell the device about `addr` (already checked to be a
    /// valid unicast address that may change now). On success the interface takes it.
    fn set_mac_address(_dev: &NetDev<Self>, _addr: &[u8; 6]) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_tx_timeout`: transmit queue `queue` was stopped and made no progress for
    /// [`Config::tx_timeout_ms`]. Softirq context, with the queues frozen
    /// (`start_xmit` cannot run) but their locks free.
    fn tx_timeout(_dev: &NetDev<Self>, _queue: u32) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_vlan_rx_add_vid` for 802.1Q: accept frames of VLAN `vid` (with
    /// `offload::VLAN_FILTER` on). Process context, RTNL held. Implemented together
    /// with [`Operations::vlan_del`].
    fn vlan_add(_dev: &NetDev<Self>, _vid: u16) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_vlan_rx_kill_vid` for 802.1Q.
    fn vlan_del(_dev: &NetDev<Self>, _vid: u16) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_set_features`: the offloads in `changed` are to take the state they have
    /// in `wanted` (`offload` bits). On success the stack records `wanted`.
    /// Process context, RTNL held.
    fn set_features(_dev: &NetDev<Self>, _changed: u64, _wanted: u64) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

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
struct Priv<T> {
    dev: *mut bindings::net_device,
    work: Opaque<bindings::delayed_work>,
    data: T,
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
        let ret = unsafe { bindings::vnr_netif_set_real_num_queues(self.as_raw(), n) };
        kernel::error::to_result(ret)
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
        unsafe { bindings::vnr_schedule_delayed_work((*self.priv_()).work.get(), 0, true) };
    }

    /// Schedules [`Operations::deferred`] in `ms` milliseconds, unless a run is
    /// pending already (for retries; may be called from the deferred work itself).
    pub fn schedule_deferred_after(&self, ms: u32) {
        // SAFETY: As in `schedule_deferred`.
        unsafe { bindings::vnr_schedule_delayed_work((*self.priv_()).work.get(), ms, false) };
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

/// A net_device whose private data is being initialised: only what building the data
/// needs (e.g. [`Napi::new`](super::napi::Napi::new)) is available.
pub struct Uninit<T>(NonNull<bindings::net_device>, PhantomData<T>);

impl<T> Uninit<T> {
    pub(crate) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.as_ptr()
    }
}

/// Device settings, applied between allocation and registration: nothing here can
/// change once the device is registered (the stack reads these fields unlocked).
pub struct Config<'a, T: Operations> {
    /// The station address (`None`: a random one).
    pub mac: Option<&'a [u8; 6]>,
    /// Initial MTU.
    pub mtu: u32,
    /// Smallest MTU accepted by `ip link set mtu`.
    pub min_mtu: u32,
    /// Largest MTU accepted by `ip link set mtu`.
    pub max_mtu: u32,
    /// Headroom the stack should leave in front of the Ethernet header of every
    /// packet it transmits (`needed_headroom`).
    pub needed_headroom: u16,
    /// Hardware offloads the user may switch (`hw_features`, [`offload`] bits).
    pub hw_features: u64,
    /// Offloads on at registration (`features`).
    pub features: u64,
    /// The device filters unicast addresses besides its own (`IFF_UNICAST_FLT`).
    pub unicast_filter: bool,
    /// The device takes a new MAC address while up (`IFF_LIVE_ADDR_CHANGE`).
    pub live_addr_change: bool,
    /// Whether netpoll (netconsole) may use the device; `false` sets
    /// `IFF_DISABLE_NETPOLL`, for drivers whose transmit and poll paths are not
    /// ready for netpoll's interrupts-off calls.
    pub netpoll: bool,
    /// How long a stopped transmit queue may make no progress before the stack
    /// calls [`Operations::tx_timeout`] (0: the core's default, 5 s).
    pub tx_timeout_ms: u32,
    /// The ethtool operations, if the driver has them.
    pub ethtool: Option<ethtool::Table<T>>,
    /// The per-queue statistics operations, if the driver has them.
    pub qstats: Option<qstats::Table<T>>,
}

/// An allocated net_device that owns the driver's data `T`; unregistered (if
/// registered) and freed on drop.
///
/// # Invariants
///
/// - `dev` was allocated by `alloc_etherdev_mqs` with room for a `Priv<T>`, which is
///   initialised, and is freed only in `drop`.
/// - `registered` is true exactly when `register_netdev` succeeded and
///   `unregister_netdev` was not called since.
pub struct Registration<T: Operations> {
    dev: NonNull<bindings::net_device>,
    registered: AtomicBool,
    _p: PhantomData<T>,
}

// SAFETY: The net_device may be used and freed from any thread; `T: Send + Sync`.
unsafe impl<T: Operations> Send for Registration<T> {}
// SAFETY: `&self` methods are serialised by the networking core (rtnl) or atomic.
unsafe impl<T: Operations> Sync for Registration<T> {}

impl<T: Operations> Registration<T> {
    /// Allocates an Ethernet device with `queues` transmit and receive queues, child
    /// of virtio device `parent`, and initialises its data with `init`.
    pub fn new<I>(
        parent: &virtio::Device,
        queues: u32,
        config: &Config<'_, T>,
        init: impl FnOnce(&Uninit<T>) -> Result<I>,
    ) -> Result<Self>
    where
        I: PinInit<T, Error>,
    {
        // The private area is aligned to NETDEV_ALIGN (32 bytes).
        if core::mem::align_of::<Priv<T>>() > 32 {
            return Err(EINVAL);
        }
        // SAFETY: No preconditions.
        let raw = unsafe {
            bindings::alloc_etherdev_mqs(core::mem::size_of::<Priv<T>>() as i32, queues, queues)
        };
        let dev = NonNull::new(raw).ok_or(ENOMEM)?;
        // SAFETY: `raw` is a valid net_device.
        if unsafe { bindings::vnr_netdev_priv(raw) }
            != raw.cast::<u8>().wrapping_add(PRIV_OFFSET).cast()
        {
            // The bindings' layout of `struct net_device` is not the kernel's.
            pr_err!("net_device layout mismatch: private area not at offset {PRIV_OFFSET}\n");
            // SAFETY: `raw` was allocated above and never registered.
            unsafe { bindings::free_netdev(raw) };
            return Err(EINVAL);
        }
        // SAFETY: `raw` is a new, unregistered net_device; the ops tables are `'static`.
        unsafe {
            bindings::vnr_set_netdev_dev(raw, parent.as_raw());
            bindings::vnr_netdev_set_ops(
                raw,
                &Adapter::<T>::NETDEV_OPS,
                config
                    .ethtool
                    .as_ref()
                    .map_or(core::ptr::null(), |t| t.as_raw()),
                config
                    .qstats
                    .as_ref()
                    .map_or(core::ptr::null(), |t| t.as_raw()),
            );
            match config.mac {
                Some(mac) => bindings::vnr_eth_hw_addr_set(raw, mac.as_ptr()),
                None => bindings::vnr_eth_hw_addr_random(raw),
            }
            bindings::vnr_netdev_set_mtu(raw, config.mtu, config.min_mtu, config.max_mtu);
            bindings::vnr_netdev_set_needed_headroom(raw, config.needed_headroom);
            bindings::vnr_netdev_set_features(raw, config.hw_features, config.features);
            let mut flags = 0;
            if config.unicast_filter {
                flags |= bindings::VNR_IFF_UNICAST_FLT;
            }
            if config.live_addr_change {
                flags |= bindings::VNR_IFF_LIVE_ADDR_CHANGE;
            }
            bindings::vnr_netdev_set_priv_flags(raw, flags);
            if !config.netpoll {
                bindings::vnr_netdev_disable_netpoll(raw);
            }
            if config.tx_timeout_ms != 0 {
                bindings::vnr_netdev_set_watchdog(raw, config.tx_timeout_ms);
            }
        }
        // SAFETY: The private area of `raw` has room for a `Priv<T>` (zeroed by the
        // allocator) and is suitably aligned (checked above).
        let p = unsafe { bindings::vnr_netdev_priv(raw) }.cast::<Priv<T>>();
        // SAFETY: `p` is valid for writes; the work item is initialised before anything
        // can schedule it.
        unsafe {
            addr_of_mut!((*p).dev).write(raw);
            bindings::vnr_init_delayed_work(
                Opaque::raw_get(addr_of_mut!((*p).work)),
                Some(work_callback::<T>),
            );
        }
        let uninit = Uninit(dev, PhantomData);
        // SAFETY: `data` is valid for writes and pinned (the private area never moves);
        // on error it is left uninitialised and the device is freed without dropping it.
        let res = init(&uninit)
            // SAFETY: As above.
            .and_then(|i| unsafe { i.__pinned_init(addr_of_mut!((*p).data)) });
        if let Err(e) = res {
            // SAFETY: The device is ours and unregistered; no NAPI context was left on it
            // (a failed initialiser drops what it built).
            unsafe { bindings::free_netdev(raw) };
            return Err(e);
        }
        // INVARIANT: allocated with room for `Priv<T>`, now initialised; not registered.
        Ok(Self {
            dev,
            registered: AtomicBool::new(false),
            _p: PhantomData,
        })
    }

    /// The device.
    pub fn dev(&self) -> &NetDev<T> {
        // SAFETY: By the type invariant the device and its data are initialised while
        // `self` lives.
        unsafe { NetDev::from_raw(self.dev.as_ptr()) }
    }

    /// Registers the device with the networking core (`register_netdev`).
    pub fn register(&self) -> Result {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        // SAFETY: The device is initialised and not registered.
        let ret = unsafe { bindings::register_netdev(self.dev.as_ptr()) };
        if ret != 0 {
            self.registered.store(false, Ordering::Release);
        }
        kernel::error::to_result(ret)
    }

    /// Unregisters the device if it is registered (`unregister_netdev`); afterwards
    /// no operation of `T` runs any more. May sleep.
    pub fn unregister(&self) {
        if self.registered.swap(false, Ordering::AcqRel) {
            // SAFETY: The device is registered.
            unsafe { bindings::unregister_netdev(self.dev.as_ptr()) };
        }
    }
}

impl<T: Operations> Drop for Registration<T> {
    fn drop(&mut self) {
        self.unregister();
        let raw = self.dev.as_ptr();
        // SAFETY: The device is unregistered, so no operation runs and nothing schedules
        // the work item but the data itself (a re-queueing work item is what
        // `cancel_delayed_work_sync` handles); cancel it, then drop the data in place and
        // free the device.
        unsafe {
            let p = bindings::vnr_netdev_priv(raw).cast::<Priv<T>>();
            bindings::cancel_delayed_work_sync(Opaque::raw_get(addr_of_mut!((*p).work)));
            core::ptr::drop_in_place(addr_of_mut!((*p).data));
            bindings::free_netdev(raw);
        }
    }
}

struct Adapter<T>(PhantomData<T>);

impl<T: Operations> Adapter<T> {
    /// VLAN filtering needs both callbacks: the core calls one without checking
    /// for the other.
    const VLAN_PAIRED: () = assert!(
        T::HAS_VLAN_ADD == T::HAS_VLAN_DEL,
        "implement vlan_add and vlan_del together"
    );

    const NETDEV_OPS: bindings::net_device_ops = {
        let () = Self::VLAN_PAIRED;
        bindings::net_device_ops {
            ndo_open: Some(Self::open),
            ndo_stop: Some(Self::stop),
            ndo_start_xmit: Some(Self::start_xmit),
            ndo_get_stats64: Some(Self::get_stats64),
            ndo_validate_addr: Some(bindings::eth_validate_addr),
            ndo_set_rx_mode: if T::HAS_SET_RX_MODE {
                Some(Self::set_rx_mode)
            } else {
                None
            },
            ndo_set_features: if T::HAS_SET_FEATURES {
                Some(Self::set_features)
            } else {
                None
            },
            ndo_tx_timeout: if T::HAS_TX_TIMEOUT {
                Some(Self::tx_timeout)
            } else {
                None
            },
            ndo_vlan_rx_add_vid: if T::HAS_VLAN_ADD {
                Some(Self::vlan_add)
            } else {
                None
            },
            ndo_vlan_rx_kill_vid: if T::HAS_VLAN_DEL {
                Some(Self::vlan_del)
            } else {
                None
            },
            ndo_set_mac_address: if T::HAS_SET_MAC_ADDRESS {
                Some(Self::set_mac_address)
            } else {
                None
            },
            // SAFETY: All-zero is a valid `net_device_ops` (every callback `None`).
            ..unsafe { core::mem::zeroed() }
        }
    };

    /// # Safety
    ///
    /// `dev` must be a device created by `Registration::<T>` (the ops table is only
    /// installed there, and the core only calls it while the device is registered).
    unsafe fn dev<'a>(dev: *mut bindings::net_device) -> &'a NetDev<T> {
        // SAFETY: Per the function's safety requirement.
        unsafe { NetDev::from_raw(dev) }
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_open`.
    unsafe extern "C" fn open(dev: *mut bindings::net_device) -> i32 {
        // SAFETY: Called by the networking core on a registered device of ours.
        from_result(|| T::open(unsafe { Self::dev(dev) }).map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_vlan_rx_add_vid`.
    unsafe extern "C" fn vlan_add(dev: *mut bindings::net_device, proto: u16, vid: u16) -> i32 {
        // Only 802.1Q (CTAG) filtering is offered; `proto` is big-endian.
        if u16::from_be(proto) != bindings::VNR_ETH_P_8021Q {
            return 0;
        }
        // SAFETY: As in `open`.
        from_result(|| T::vlan_add(unsafe { Self::dev(dev) }, vid).map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_vlan_rx_kill_vid`.
    unsafe extern "C" fn vlan_del(dev: *mut bindings::net_device, proto: u16, vid: u16) -> i32 {
        if u16::from_be(proto) != bindings::VNR_ETH_P_8021Q {
            return 0;
        }
        // SAFETY: As in `open`.
        from_result(|| T::vlan_del(unsafe { Self::dev(dev) }, vid).map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_set_features`.
    unsafe extern "C" fn set_features(dev: *mut bindings::net_device, wanted: u64) -> i32 {
        // SAFETY: As in `open`.
        let d = unsafe { Self::dev(dev) };
        // SAFETY: The device is valid; the stack writes `features` only after this returns.
        let current = unsafe { bindings::vnr_netdev_features(dev) };
        from_result(|| T::set_features(d, current ^ wanted, wanted).map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_tx_timeout`.
    unsafe extern "C" fn tx_timeout(dev: *mut bindings::net_device, queue: u32) {
        // SAFETY: As in `open`.
        T::tx_timeout(unsafe { Self::dev(dev) }, queue)
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_set_rx_mode`.
    unsafe extern "C" fn set_rx_mode(dev: *mut bindings::net_device) {
        // SAFETY: As in `open`.
        T::set_rx_mode(unsafe { Self::dev(dev) })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `p` must point to a valid `sockaddr`, as
    /// the networking core passes them to `ndo_set_mac_address`.
    unsafe extern "C" fn set_mac_address(
        dev: *mut bindings::net_device,
        p: *mut core::ffi::c_void,
    ) -> i32 {
        from_result(|| {
            // SAFETY: The core passes a `struct sockaddr` for the device; the helper checks
            // the address and whether it may change now.
            let ret = unsafe { bindings::vnr_eth_prepare_mac_addr_change(dev, p) };
            if ret != 0 {
                return Err(Error::from_errno(ret));
            }
            let mut addr = [0u8; 6];
            // SAFETY: `p` is a `struct sockaddr`, whose `sa_data` holds at least 14 bytes.
            unsafe {
                core::ptr::copy_nonoverlapping(bindings::vnr_sockaddr_data(p), addr.as_mut_ptr(), 6)
            };
            // SAFETY: As in `open`.
            T::set_mac_address(unsafe { Self::dev(dev) }, &addr)?;
            // SAFETY: As above; the address was validated by the prepare step.
            unsafe { bindings::vnr_eth_commit_mac_addr_change(dev, p) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the networking core passes it to
    /// `ndo_stop`.
    unsafe extern "C" fn stop(dev: *mut bindings::net_device) -> i32 {
        // SAFETY: As above.
        from_result(|| T::stop(unsafe { Self::dev(dev) }).map(|()| 0))
    }

    /// # Safety
    ///
    /// `skb` must be null or a valid skb whose ownership passes to the callee, and `dev`
    /// must be a registered net_device created by `Registration::<T>` (the only device
    /// this table is installed on); the caller must hold the lock of the transmit queue
    /// the skb is mapped to, as the networking core calls `ndo_start_xmit` (the device is
    /// never `lltx`).
    unsafe extern "C" fn start_xmit(
        skb: *mut bindings::sk_buff,
        dev: *mut bindings::net_device,
    ) -> bindings::netdev_tx_t {
        // SAFETY: The core passes an skb whose ownership moves to the driver.
        if let Some(skb) = unsafe { SkBuff::from_raw(skb) } {
            // The stack holds the lock of the queue the packet is mapped to
            // (`HARD_TX_LOCK`): the device is never `lltx` (lockless). Only the address is
            // computed (`netdev_get_tx_queue`), to compare with a `TxqLocked`'s queue.
            let txq = tx_queue(dev, skb.queue_mapping());
            // SAFETY: See above: the lock of `txq` is held for the whole call.
            let mut held = unsafe { XmitLock::new(txq) };
            // SAFETY: As in `open`.
            T::start_xmit(unsafe { Self::dev(dev) }, skb, &mut held);
        }
        bindings::netdev_tx_NETDEV_TX_OK
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `stats` must point to a valid, writable
    /// `rtnl_link_stats64`, as the networking core passes them to `ndo_get_stats64`.
    unsafe extern "C" fn get_stats64(
        dev: *mut bindings::net_device,
        stats: *mut bindings::rtnl_link_stats64,
    ) {
        let mut s = Stats64::default();
        // SAFETY: As in `open`.
        T::get_stats64(unsafe { Self::dev(dev) }, &mut s);
        // SAFETY: The core passes a valid, writable `rtnl_link_stats64`.
        let out = unsafe { &mut *stats };
        out.rx_packets = s.rx_packets;
        out.rx_bytes = s.rx_bytes;
        out.tx_packets = s.tx_packets;
        out.tx_bytes = s.tx_bytes;
        out.rx_dropped = s.rx_dropped;
        out.tx_dropped = s.tx_dropped;
        out.rx_errors = s.rx_errors;
        out.rx_length_errors = s.rx_length_errors;
        out.rx_frame_errors = s.rx_frame_errors;
        out.tx_errors = s.tx_errors;
    }
}

/// # Safety
///
/// `work` must be the `work_struct` of the delayed work in the `work` field of a
/// `Priv<T>` whose device and data are initialised, as the workqueue passes it to the
/// function `Registration::<T>::new` installed there (the item is cancelled before the
/// data is dropped).
unsafe extern "C" fn work_callback<T: Operations>(work: *mut bindings::work_struct) {
    // SAFETY: The work item is the first field of the delayed work in the `work` field
    // of a `Priv<T>` (only initialised in `Registration::new`); it is cancelled before
    // the data is dropped.
    let p = unsafe { kernel::container_of!(work.cast::<bindings::delayed_work>(), Priv<T>, work) };
    // SAFETY: As above; the device and its data are initialised.
    let dev = unsafe { NetDev::<T>::from_raw((*p).dev) };
    T::deferred(dev);
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
fn tx_queue(dev: *mut bindings::net_device, q: u16) -> *mut bindings::netdev_queue {
    // SAFETY: `dev` is a valid device (both callers hold one); reading its `_tx`
    // pointer, fixed at allocation, is all this does.
    unsafe { (*dev)._tx }.wrapping_add(q.into())
}
