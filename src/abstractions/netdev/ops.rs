// SPDX-License-Identifier: GPL-2.0

//! What a network driver implements (`struct net_device_ops`), and the table that
//! calls it.
//!
//! C header: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h)

use super::{tx_queue, NetDev};
use crate::abstractions::napi::{NetpollPoll, Poll};
use crate::abstractions::skb::SkBuff;
use crate::abstractions::txq::XmitLock;
use crate::abstractions::xdp::{BpfProg, ExtAck, XmitFrames};
use crate::abstractions::xsk::XskPool;
use crate::bindings;
use core::marker::PhantomData;
use core::ptr::NonNull;
use kernel::{
    build_error,
    error::{from_result, VTABLE_DEFAULT_ERROR},
    prelude::*,
};

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

/// Device feature bits (`NETIF_F_*`) for
/// [`Config::hw_features`](super::Config::hw_features) and
/// [`Config::features`](super::Config::features).
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
/// [`Config`](super::Config).
///
/// # Examples
///
/// ```ignore
/// # use crate::abstractions::{napi::Poll, netdev::{self, NetDev, Stats64}, skb::SkBuff, txq::XmitLock};
/// # use kernel::prelude::*;
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
    /// netpoll's poll of one of the driver's contexts (netconsole, on every context of
    /// the device in turn): clean up transmits, with interrupts off, trying locks
    /// only. Without it netpoll is off on the device (`IFF_DISABLE_NETPOLL`).
    fn netpoll_poll(_dev: &NetDev<Self>, _poll: NetpollPoll<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
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
    /// [`Config::tx_timeout_ms`](super::Config::tx_timeout_ms). Softirq context, with
    /// the queues frozen (`start_xmit` cannot run) but their locks free.
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
    /// `ndo_get_phys_port_name`: the name of the device's port (e.g. `sby` for the
    /// standby half of a failover pair, which udev appends to the interface's name).
    fn phys_port_name(_dev: &NetDev<Self>) -> Result<&'static CStr> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_bpf` with `XDP_SETUP_PROG`: attach `prog` in driver mode (replacing the
    /// one attached), or detach (`None`). Process context, RTNL held. On failure
    /// the device keeps what it had; say why in `extack`.
    fn xdp_setup(_dev: &NetDev<Self>, _prog: Option<BpfProg>, _extack: &mut ExtAck) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_xdp_xmit`: send the frames other devices' programs redirected here, as
    /// many as possible from the first (those not taken are freed by the caller);
    /// ring the doorbell if `flush`. Softirq context.
    fn xdp_xmit(_dev: &NetDev<Self>, _frames: &mut XmitFrames<'_>, _flush: bool) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_bpf` with `XDP_SETUP_XSK_POOL`: bind an AF_XDP socket's pool to queue
    /// `queue` in zero-copy mode, or unbind it (`None`). The driver must drop every
    /// copy of the pool in its unbind call (or in a bind that fails): the glue waits
    /// for them before the pool is freed. Process context, RTNL held.
    fn xsk_setup(_dev: &NetDev<Self>, _queue: u16, _pool: Option<XskPool>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ndo_xsk_wakeup`: the socket on `queue` has frames to send (`XDP_WAKEUP_TX`)
    /// or room to receive (`XDP_WAKEUP_RX`).
    fn xsk_wakeup(_dev: &NetDev<Self>, _queue: u32, _flags: u32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

pub(super) struct Adapter<T>(PhantomData<T>);

impl<T: Operations> Adapter<T> {
    /// VLAN filtering needs both callbacks: the core calls one without checking
    /// for the other.
    const VLAN_PAIRED: () = assert!(
        T::HAS_VLAN_ADD == T::HAS_VLAN_DEL,
        "implement vlan_add and vlan_del together"
    );

    pub(super) const NETDEV_OPS: bindings::net_device_ops = {
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
            ndo_get_phys_port_name: if T::HAS_PHYS_PORT_NAME {
                Some(Self::phys_port_name)
            } else {
                None
            },
            ndo_bpf: if T::HAS_XDP_SETUP {
                Some(Self::bpf)
            } else {
                None
            },
            ndo_xsk_wakeup: if T::HAS_XSK_WAKEUP {
                Some(Self::xsk_wakeup)
            } else {
                None
            },
            ndo_xdp_xmit: if T::HAS_XDP_XMIT {
                Some(Self::xdp_xmit)
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
        // The stack writes `features` only after this returns (RTNL held).
        let current = d.features();
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
    /// device this table is installed on), and `buf` valid for `len` bytes of writes,
    /// as the networking core passes them to `ndo_get_phys_port_name`.
    unsafe extern "C" fn phys_port_name(
        dev: *mut bindings::net_device,
        buf: *mut kernel::ffi::c_char,
        len: usize,
    ) -> i32 {
        from_result(|| {
            // SAFETY: As in `open`.
            let name = T::phys_port_name(unsafe { Self::dev(dev) })?;
            let bytes = name.as_bytes_with_nul();
            // As in-tree: a name that does not fit is no name.
            if bytes.len() > len {
                return Err(crate::abstractions::eopnotsupp());
            }
            // SAFETY: `buf` is valid for `len >= bytes.len()` bytes, and distinct from the
            // name's static storage.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast(), bytes.len()) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>`, and `bpf`
    /// a valid command, as the networking core passes them to `ndo_bpf`.
    unsafe extern "C" fn bpf(
        dev: *mut bindings::net_device,
        bpf: *mut bindings::netdev_bpf,
    ) -> i32 {
        // SAFETY: `bpf` is valid, as the core passes it.
        let cmd = unsafe { bindings::vnr_netdev_bpf_command(bpf) };
        // Without zero-copy built in (Kbuild), no pool binds: `EINVAL` below.
        #[cfg(vnr_xsk_zc)]
        if T::HAS_XSK_SETUP && cmd == bindings::VNR_XDP_SETUP_XSK_POOL {
            // SAFETY: An `XDP_SETUP_XSK_POOL` command carries the pool (null to unbind),
            // valid until the unbind call for the queue returns, and the queue.
            let (pool, queue) = unsafe {
                (
                    bindings::vnr_netdev_bpf_xsk_pool(bpf),
                    bindings::vnr_netdev_bpf_xsk_queue(bpf),
                )
            };
            // SAFETY: As in `open`.
            let dev = unsafe { Self::dev(dev) };
            // SAFETY: The private area is initialised (`NetDev`'s invariant).
            let xsk = unsafe { &(*dev.priv_()).xsk };
            let r = match NonNull::new(pool) {
                // SAFETY: `ndo_bpf` runs under RTNL; the pool is as `bind` wants it, and
                // its unbind comes here too.
                Some(pool) => unsafe { xsk.bind(queue, pool) }.and_then(|pool| {
                    let mapped = pool.clone();
                    let mut r = T::xsk_setup(dev, queue, Some(pool));
                    // Unmapped, the core would refuse the bind without asking the driver
                    // to unbind, and the pool would go with the driver's handles live.
                    if r.is_ok() && !crate::abstractions::xsk::dma_mapped(&mapped) {
                        crate::log_err!(
                            "%s: driver bound an AF_XDP pool without mapping it; unbinding\n",
                            dev.name()
                        );
                        let _ = T::xsk_setup(dev, queue, None);
                        r = Err(EINVAL);
                    }
                    drop(mapped);
                    if r.is_err() {
                        // SAFETY: Under RTNL, as above.
                        unsafe { xsk.unbind(queue, dev.name()) }
                    }
                    r
                }),
                None => {
                    let r = T::xsk_setup(dev, queue, None);
                    // SAFETY: Under RTNL, as above; the pool is freed after this returns.
                    unsafe { xsk.unbind(queue, dev.name()) };
                    r
                }
            };
            return from_result(|| r.map(|()| 0));
        }
        if cmd != bindings::VNR_XDP_SETUP_PROG {
            return EINVAL.to_errno();
        }
        // SAFETY: As above; an `XDP_SETUP_PROG` command carries a program (or null) and
        // an extack (or null).
        let (prog, extack) = unsafe {
            (
                bindings::vnr_netdev_bpf_prog(bpf),
                bindings::vnr_netdev_bpf_extack(bpf),
            )
        };
        // The core lends its reference for the driver to keep on success and puts it
        // on failure (`dev_xdp_install`): the driver gets a reference of its own, and
        // the lent one is put once the driver took the program.
        // SAFETY: `prog`, if not null, is a valid program for the call.
        let ours = NonNull::new(prog).map(|p| unsafe { BpfProg::get(p) });
        // SAFETY: The extack is null or valid for the call (as the core passes it).
        let mut extack = unsafe { ExtAck::from_raw(extack) };
        // SAFETY: As in `open`.
        let r = T::xdp_setup(unsafe { Self::dev(dev) }, ours, &mut extack);
        if r.is_ok() && !prog.is_null() {
            // SAFETY: The lent reference, which the core counts as the driver's now.
            unsafe { bindings::bpf_prog_put(prog) };
        }
        from_result(|| r.map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>`, as the
    /// core passes it to `ndo_xsk_wakeup`.
    unsafe extern "C" fn xsk_wakeup(dev: *mut bindings::net_device, queue: u32, flags: u32) -> i32 {
        // SAFETY: As in `open`.
        from_result(|| T::xsk_wakeup(unsafe { Self::dev(dev) }, queue, flags).map(|()| 0))
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>`, and
    /// `frames` `n` valid frames whose ownership the core offers, as it calls
    /// `ndo_xdp_xmit`.
    unsafe extern "C" fn xdp_xmit(
        dev: *mut bindings::net_device,
        n: i32,
        frames: *mut *mut bindings::xdp_frame,
        flags: u32,
    ) -> i32 {
        let n = usize::try_from(n).unwrap_or(0);
        if n == 0 || frames.is_null() {
            return 0;
        }
        // SAFETY: `frames` holds `n` frame pointers, not written while we run.
        let frames = unsafe { core::slice::from_raw_parts(frames, n) };
        // SAFETY: The frames are ours to take; the core frees those not taken, from the
        // count returned.
        let mut frames = unsafe { XmitFrames::new(frames) };
        let flush = flags & bindings::VNR_XDP_XMIT_FLUSH != 0;
        // SAFETY: As in `open`.
        T::xdp_xmit(unsafe { Self::dev(dev) }, &mut frames, flush);
        frames.taken() as i32
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
