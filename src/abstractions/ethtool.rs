// SPDX-License-Identifier: GPL-2.0

//! ethtool operations (`struct ethtool_ops`) for devices created by
//! [`Registration`](super::netdev::Registration).
//!
//! C header: [`include/linux/ethtool.h`](srctree/include/linux/ethtool.h)

use crate::abstractions::eopnotsupp;
use crate::abstractions::netdev::{self, NetDev};
use crate::bindings;
use core::marker::PhantomData;
use kernel::{
    build_error,
    error::{code::EINVAL, VTABLE_DEFAULT_ERROR},
    prelude::*,
};

/// What a network driver offers to ethtool.
///
/// Only what the driver implements is installed (`#[vtable]`); the ethtool core
/// answers `EOPNOTSUPP` for the rest, as for a C driver's `NULL` callbacks. Some
/// callbacks come in groups, installed together: the three statistics methods
/// (anchored on [`Operations::stats_count`]), and the receive flow methods
/// behind `ETHTOOL_GRXRINGS`/`GRXFH`. All run in process context; those that
/// change something run under the RTNL lock.
///
/// # Examples
///
/// ```ignore
/// # use crate::abstractions::{ethtool::{self, DrvInfo}, napi::Poll, netdev::{self, NetDev, Stats64}, skb::SkBuff, txq::XmitLock};
/// # use kernel::prelude::*;
/// # struct Dummy;
/// # #[vtable]
/// # impl netdev::Operations for Dummy {
/// #     fn open(_dev: &NetDev<Self>) -> Result { Ok(()) }
/// #     fn stop(_dev: &NetDev<Self>) -> Result { Ok(()) }
/// #     fn start_xmit(_dev: &NetDev<Self>, _skb: SkBuff, _held: &mut XmitLock) {}
/// #     fn get_stats64(_dev: &NetDev<Self>, _stats: &mut Stats64) {}
/// #     fn poll(_dev: &NetDev<Self>, _poll: Poll<'_>) -> i32 { 0 }
/// # }
/// #[vtable]
/// impl ethtool::Operations for Dummy {
///     fn get_drvinfo(_dev: &NetDev<Self>, info: &mut DrvInfo) {
///         info.set_driver(b"dummy");
///     }
/// }
/// // ... and in the device's `netdev::Config`:
/// //     ethtool: Some(ethtool::Table::new()),
/// ```
#[vtable]
pub trait Operations: netdev::Operations {
    /// `ethtool -i`.
    fn get_drvinfo(_dev: &NetDev<Self>, _info: &mut DrvInfo) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool <if>`: speed and duplex.
    fn link_settings(_dev: &NetDev<Self>) -> LinkSettings {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -g`.
    fn ring_sizes(_dev: &NetDev<Self>) -> RingSizes {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -G`: ring sizes wanted (the core checked them against
    /// [`Operations::ring_sizes`]' maximums). Called under the RTNL lock.
    fn set_ring_sizes(
        _dev: &NetDev<Self>,
        _rx: u32,
        _tx: u32,
        _rx_mini: u32,
        _rx_jumbo: u32,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -l`.
    fn channels(_dev: &NetDev<Self>) -> Channels {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -L`: use `combined` queue pairs (`rx`, `tx`, `other`: separate
    /// channels asked for). Called under the RTNL lock.
    fn set_channels(
        _dev: &NetDev<Self>,
        _combined: u32,
        _rx: u32,
        _tx: u32,
        _other: u32,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -c`.
    fn coalesce(_dev: &NetDev<Self>) -> Coalesce {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -C`: the settings wanted (only the fields in [`Coalesce`]; the core
    /// refuses requests for others). Called under the RTNL lock.
    fn set_coalesce(_dev: &NetDev<Self>, _req: &Coalesce) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -x`: bytes of the RSS hash key (0: none).
    fn rxfh_key_size(_dev: &NetDev<Self>) -> u32 {
        0
    }
    /// `ethtool -x`: entries of the RSS indirection table (0: none).
    fn rxfh_indir_size(_dev: &NetDev<Self>) -> u32 {
        0
    }
    /// `ethtool -x`: fills what is asked for (the table has
    /// [`Operations::rxfh_indir_size`] entries, the key
    /// [`Operations::rxfh_key_size`] bytes) and returns the hash function
    /// (`ETH_RSS_HASH_*`). Called under the RTNL lock.
    fn get_rxfh(
        _dev: &NetDev<Self>,
        _indir: Option<&mut [u32]>,
        _key: Option<&mut [u8]>,
    ) -> Result<u8> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -X`: a new hash function (`ETH_RSS_HASH_*`, or 0 for no change),
    /// table or key, each of the sizes above; the core checked the table's entries
    /// against [`Operations::rx_rings`]. Called under the RTNL lock.
    fn set_rxfh(
        _dev: &NetDev<Self>,
        _hfunc: u8,
        _indir: Option<&[u32]>,
        _key: Option<&[u8]>,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// Receive queues RSS may steer to (`ETHTOOL_GRXRINGS`).
    fn rx_rings(_dev: &NetDev<Self>) -> u32 {
        1
    }
    /// `ethtool -n <if> rx-flow-hash <flow>`: the `RXH_*` fields flow type `flow`
    /// is hashed over. Called under the RTNL lock.
    fn rx_flow_hash(_dev: &NetDev<Self>, _flow: u32) -> Result<u64> {
        Err(eopnotsupp())
    }
    /// `ethtool -N <if> rx-flow-hash <flow> <fields>`. Called under the RTNL lock.
    fn set_rx_flow_hash(_dev: &NetDev<Self>, _flow: u32, _fields: u64) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -S`: how many counters there are. May change only under the RTNL
    /// lock. Implemented with [`Operations::stats_names`] and
    /// [`Operations::stats_values`].
    fn stats_count(_dev: &NetDev<Self>) -> usize {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -S`: one name per counter, in order.
    fn stats_names(_dev: &NetDev<Self>, _names: &mut StatNames<'_>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
    /// `ethtool -S`: the values, in the order of the names (`values` has
    /// `stats_count` entries, zeroed).
    fn stats_values(_dev: &NetDev<Self>, _values: &mut [u64]) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The `ethtool_ops` table of driver `T`, for [`netdev::Config::ethtool`].
pub struct Table<T>(&'static bindings::ethtool_ops, PhantomData<T>);

impl<T: Operations> Table<T> {
    /// The table holding what `T` implements.
    pub fn new() -> Self {
        Self(&Adapter::<T>::OPS, PhantomData)
    }
}

impl<T> Table<T> {
    pub(crate) fn as_raw(&self) -> *const bindings::ethtool_ops {
        self.0
    }
}

impl<T: Operations> Default for Table<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Driver information reported by `ethtool -i`.
#[repr(transparent)]
pub struct DrvInfo(bindings::ethtool_drvinfo);

/// Copies `s` into a fixed C string field, truncating and NUL-terminating it.
#[inline(never)]
fn copy_str(dst: &mut [kernel::ffi::c_char], s: &[u8]) {
    let n = s.len().min(dst.len().saturating_sub(1));
    for (d, &c) in dst.iter_mut().zip(s[..n].iter()) {
        *d = c as kernel::ffi::c_char;
    }
    if let Some(end) = dst.get_mut(n) {
        *end = 0;
    }
}

impl DrvInfo {
    /// Sets the driver name.
    pub fn set_driver(&mut self, s: &[u8]) {
        copy_str(&mut self.0.driver, s);
    }

    /// Sets the driver version.
    pub fn set_version(&mut self, s: &[u8]) {
        copy_str(&mut self.0.version, s);
    }

    /// Sets the bus address of the device.
    pub fn set_bus_info(&mut self, s: &[u8]) {
        copy_str(&mut self.0.bus_info, s);
    }
}

/// The names of the counters `ethtool -S` shows, filled one slot at a time.
pub struct StatNames<'a> {
    /// The slots not handed out yet.
    buf: &'a mut [u8],
}

/// Bytes of one name slot (`ETH_GSTRING_LEN`).
pub const STAT_NAME_LEN: usize = bindings::VNR_ETH_GSTRING_LEN;

impl StatNames<'_> {
    /// The next `STAT_NAME_LEN`-byte slot to write a NUL-terminated name into, or `None`
    /// once all the slots announced by the count are used.
    pub fn next_slot(&mut self) -> Option<&mut [u8]> {
        let buf = core::mem::take(&mut self.buf);
        if buf.len() < STAT_NAME_LEN {
            return None;
        }
        let (slot, rest) = buf.split_at_mut(STAT_NAME_LEN);
        self.buf = rest;
        Some(slot)
    }
}

/// Link speed and duplex (`ethtool` link settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkSettings {
    /// Mbit/s, or `SPEED_UNKNOWN` (`u32::MAX`).
    pub speed: u32,
    /// `DUPLEX_HALF` (0), `DUPLEX_FULL` (1) or `DUPLEX_UNKNOWN` (0xff).
    pub duplex: u8,
}

/// Ring sizes (`ethtool -g`): current and largest, per direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RingSizes {
    /// Largest receive ring.
    pub rx_max: u32,
    /// Current receive ring.
    pub rx: u32,
    /// Largest transmit ring.
    pub tx_max: u32,
    /// Current transmit ring.
    pub tx: u32,
}

/// Queue pairs (`ethtool -l`): "combined" channels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Channels {
    /// Most the device offers.
    pub max_combined: u32,
    /// In use.
    pub combined: u32,
}

/// Interrupt coalescing (`ethtool -c/-C`): the fields of `struct ethtool_coalesce`
/// a virtio-net device could honour (the table declares only these as supported,
/// so the core refuses requests for the others).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Coalesce {
    /// `rx-usecs`.
    pub rx_usecs: u32,
    /// `tx-usecs`.
    pub tx_usecs: u32,
    /// `rx-frames`.
    pub rx_max_frames: u32,
    /// `tx-frames`.
    pub tx_max_frames: u32,
}

struct Adapter<T>(PhantomData<T>);

impl<T: Operations> Adapter<T> {
    /// Groups installed together, and checked to be complete at build time.
    const GROUPS: () = {
        assert!(
            T::HAS_STATS_COUNT == T::HAS_STATS_NAMES && T::HAS_STATS_COUNT == T::HAS_STATS_VALUES,
            "implement stats_count, stats_names and stats_values together"
        );
        assert!(
            !(T::HAS_GET_RXFH || T::HAS_SET_RXFH)
                || (T::HAS_RXFH_KEY_SIZE || T::HAS_RXFH_INDIR_SIZE),
            "get_rxfh and set_rxfh need the key or indirection table size"
        );
    };

    const OPS: bindings::ethtool_ops = {
        let () = Self::GROUPS;
        bindings::ethtool_ops {
            get_drvinfo: if T::HAS_GET_DRVINFO {
                Some(Self::get_drvinfo)
            } else {
                None
            },
            get_link: Some(bindings::ethtool_op_get_link),
            // Software timestamps, as in-tree: the driver calls `skb_tx_timestamp`.
            get_ts_info: Some(bindings::ethtool_op_get_ts_info),
            get_sset_count: if T::HAS_STATS_COUNT {
                Some(Self::get_sset_count)
            } else {
                None
            },
            get_strings: if T::HAS_STATS_COUNT {
                Some(Self::get_strings)
            } else {
                None
            },
            get_ethtool_stats: if T::HAS_STATS_COUNT {
                Some(Self::get_ethtool_stats)
            } else {
                None
            },
            get_link_ksettings: if T::HAS_LINK_SETTINGS {
                Some(Self::get_link_ksettings)
            } else {
                None
            },
            get_ringparam: if T::HAS_RING_SIZES {
                Some(Self::get_ringparam)
            } else {
                None
            },
            set_ringparam: if T::HAS_SET_RING_SIZES {
                Some(Self::set_ringparam)
            } else {
                None
            },
            get_channels: if T::HAS_CHANNELS {
                Some(Self::get_channels)
            } else {
                None
            },
            set_channels: if T::HAS_SET_CHANNELS {
                Some(Self::set_channels)
            } else {
                None
            },
            get_coalesce: if T::HAS_COALESCE {
                Some(Self::get_coalesce)
            } else {
                None
            },
            set_coalesce: if T::HAS_SET_COALESCE {
                Some(Self::set_coalesce)
            } else {
                None
            },
            get_rxfh_key_size: if T::HAS_RXFH_KEY_SIZE {
                Some(Self::get_rxfh_key_size)
            } else {
                None
            },
            get_rxfh_indir_size: if T::HAS_RXFH_INDIR_SIZE {
                Some(Self::get_rxfh_indir_size)
            } else {
                None
            },
            get_rxfh: if T::HAS_GET_RXFH {
                Some(Self::get_rxfh)
            } else {
                None
            },
            set_rxfh: if T::HAS_SET_RXFH {
                Some(Self::set_rxfh)
            } else {
                None
            },
            get_rxnfc: if T::HAS_RX_RINGS || T::HAS_RX_FLOW_HASH {
                Some(Self::get_rxnfc)
            } else {
                None
            },
            set_rxnfc: if T::HAS_SET_RX_FLOW_HASH {
                Some(Self::set_rxnfc)
            } else {
                None
            },
            // Requests for any other coalescing parameter are refused by the ethtool
            // core (EOPNOTSUPP) before they reach the driver; the core refuses to
            // register a `set_coalesce` without them.
            supported_coalesce_params: if T::HAS_SET_COALESCE {
                bindings::VNR_ETHTOOL_COALESCE_SUPPORTED
            } else {
                0
            },
            // SAFETY: All-zero is a valid `ethtool_ops` (every callback `None`).
            ..unsafe { core::mem::zeroed() }
        }
    };

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `info` must point to a valid, writable
    /// `ethtool_drvinfo`, as the ethtool core passes them to `ethtool_ops::get_drvinfo`.
    unsafe extern "C" fn get_drvinfo(
        dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_drvinfo,
    ) {
        // SAFETY: The table is only installed on devices created by `Registration::<T>`,
        // and ethtool calls it while the device is registered.
        let dev = unsafe { NetDev::<T>::from_raw(dev) };
        // SAFETY: ethtool passes a valid, writable `ethtool_drvinfo`. CAST: `DrvInfo` is
        // a transparent wrapper.
        let info = unsafe { &mut *info.cast::<DrvInfo>() };
        T::get_drvinfo(dev, info);
    }
}

impl<T: Operations> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the ethtool core passes it to
    /// `ethtool_ops::get_sset_count`.
    unsafe extern "C" fn get_sset_count(dev: *mut bindings::net_device, sset: i32) -> i32 {
        if sset != bindings::VNR_ETH_SS_STATS {
            return -bindings::VNR_EOPNOTSUPP;
        }
        // SAFETY: As in `get_drvinfo`.
        let dev = unsafe { NetDev::<T>::from_raw(dev) };
        i32::try_from(T::stats_count(dev)).unwrap_or(0)
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on). For `ETH_SS_STATS`, `data` must be valid for
    /// writes of `T::stats_count(dev)` names of `ETH_GSTRING_LEN` bytes: the ethtool core
    /// sizes it with `get_sset_count` and calls `ethtool_ops::get_strings` without
    /// releasing the RTNL lock in between.
    unsafe extern "C" fn get_strings(dev: *mut bindings::net_device, sset: u32, data: *mut u8) {
        if sset != bindings::VNR_ETH_SS_STATS as u32 {
            return;
        }
        // SAFETY: As in `get_drvinfo`.
        let dev = unsafe { NetDev::<T>::from_raw(dev) };
        // ethtool sized `data` from `get_sset_count` under the RTNL lock it still holds,
        // and the count changes only under that lock.
        let Some(len) = T::stats_count(dev).checked_mul(STAT_NAME_LEN) else {
            return;
        };
        // SAFETY: `data` has room for `stats_count` names of `ETH_GSTRING_LEN` bytes.
        let buf = unsafe { core::slice::from_raw_parts_mut(data, len) };
        T::stats_names(dev, &mut StatNames { buf });
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `data` must be valid for writes of
    /// `T::stats_count(dev)` values: the ethtool core sizes it with `get_sset_count` and
    /// calls `ethtool_ops::get_ethtool_stats` without releasing the RTNL lock in between.
    unsafe extern "C" fn get_ethtool_stats(
        dev: *mut bindings::net_device,
        _stats: *mut bindings::ethtool_stats,
        data: *mut u64,
    ) {
        // SAFETY: As in `get_drvinfo`.
        let dev = unsafe { NetDev::<T>::from_raw(dev) };
        let n = T::stats_count(dev);
        // SAFETY: As in `get_strings`: `data` has room for `n` values.
        let values = unsafe { core::slice::from_raw_parts_mut(data, n) };
        values.fill(0);
        T::stats_values(dev, values);
    }
}

impl<T: Operations> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `cmd` must point to a valid, writable
    /// `ethtool_link_ksettings`, as the ethtool core passes them to
    /// `ethtool_ops::get_link_ksettings`.
    unsafe extern "C" fn get_link_ksettings(
        dev: *mut bindings::net_device,
        cmd: *mut bindings::ethtool_link_ksettings,
    ) -> i32 {
        // SAFETY: As in `get_drvinfo`.
        let l = T::link_settings(unsafe { NetDev::<T>::from_raw(dev) });
        // SAFETY: ethtool passes a valid, writable `ethtool_link_ksettings`.
        let base = unsafe { &mut (*cmd).base };
        base.speed = l.speed;
        base.duplex = l.duplex;
        base.port = bindings::PORT_OTHER as u8;
        0
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `ring` must point to a valid, writable
    /// `ethtool_ringparam`, as the ethtool core passes them to
    /// `ethtool_ops::get_ringparam`.
    unsafe extern "C" fn get_ringparam(
        dev: *mut bindings::net_device,
        ring: *mut bindings::ethtool_ringparam,
        _kernel_ring: *mut bindings::kernel_ethtool_ringparam,
        _extack: *mut bindings::netlink_ext_ack,
    ) {
        // SAFETY: As in `get_drvinfo`.
        let r = T::ring_sizes(unsafe { NetDev::<T>::from_raw(dev) });
        // SAFETY: ethtool passes a valid, writable `ethtool_ringparam`.
        let ring = unsafe { &mut *ring };
        ring.rx_max_pending = r.rx_max;
        ring.rx_pending = r.rx;
        ring.tx_max_pending = r.tx_max;
        ring.tx_pending = r.tx;
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), `ring` must point to a valid
    /// `ethtool_ringparam`, and the caller must hold the RTNL lock, as the ethtool core
    /// calls `ethtool_ops::set_ringparam`.
    unsafe extern "C" fn set_ringparam(
        dev: *mut bindings::net_device,
        ring: *mut bindings::ethtool_ringparam,
        _kernel_ring: *mut bindings::kernel_ethtool_ringparam,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> i32 {
        // SAFETY: ethtool passes a valid `ethtool_ringparam`.
        let r = unsafe { &*ring };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            T::set_ring_sizes(
                dev,
                r.rx_pending,
                r.tx_pending,
                r.rx_mini_pending,
                r.rx_jumbo_pending,
            )?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `ch` must point to a valid, writable
    /// `ethtool_channels`, as the ethtool core passes them to
    /// `ethtool_ops::get_channels`.
    unsafe extern "C" fn get_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) {
        // SAFETY: As in `get_drvinfo`.
        let c = T::channels(unsafe { NetDev::<T>::from_raw(dev) });
        // SAFETY: ethtool passes a valid, writable `ethtool_channels`.
        let ch = unsafe { &mut *ch };
        ch.max_combined = c.max_combined;
        ch.combined_count = c.combined;
    }
}

impl<T: Operations> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), `ch` must point to a valid `ethtool_channels`,
    /// and the caller must hold the RTNL lock, as the ethtool core calls
    /// `ethtool_ops::set_channels`.
    unsafe extern "C" fn set_channels(
        dev: *mut bindings::net_device,
        ch: *mut bindings::ethtool_channels,
    ) -> i32 {
        // SAFETY: ethtool passes a valid `ethtool_channels`.
        let ch = unsafe { &*ch };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            T::set_channels(
                dev,
                ch.combined_count,
                ch.rx_count,
                ch.tx_count,
                ch.other_count,
            )?;
            Ok(0)
        })
    }
}

impl<T: Operations> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and `ec` must point to a valid, writable
    /// `ethtool_coalesce`, as the ethtool core passes them to
    /// `ethtool_ops::get_coalesce`.
    unsafe extern "C" fn get_coalesce(
        dev: *mut bindings::net_device,
        ec: *mut bindings::ethtool_coalesce,
        _kernel_coal: *mut bindings::kernel_ethtool_coalesce,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> i32 {
        // SAFETY: As in `get_drvinfo`.
        let c = T::coalesce(unsafe { NetDev::<T>::from_raw(dev) });
        // SAFETY: ethtool passes a valid, writable `ethtool_coalesce`.
        let ec = unsafe { &mut *ec };
        ec.rx_coalesce_usecs = c.rx_usecs;
        ec.tx_coalesce_usecs = c.tx_usecs;
        ec.rx_max_coalesced_frames = c.rx_max_frames;
        ec.tx_max_coalesced_frames = c.tx_max_frames;
        0
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), `ec` must point to a valid `ethtool_coalesce`,
    /// and the caller must hold the RTNL lock, as the ethtool core calls
    /// `ethtool_ops::set_coalesce`.
    unsafe extern "C" fn set_coalesce(
        dev: *mut bindings::net_device,
        ec: *mut bindings::ethtool_coalesce,
        _kernel_coal: *mut bindings::kernel_ethtool_coalesce,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> i32 {
        // SAFETY: ethtool passes a valid `ethtool_coalesce`.
        let ec = unsafe { &*ec };
        let req = Coalesce {
            rx_usecs: ec.rx_coalesce_usecs,
            tx_usecs: ec.tx_coalesce_usecs,
            rx_max_frames: ec.rx_max_coalesced_frames,
            tx_max_frames: ec.tx_max_coalesced_frames,
        };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            T::set_coalesce(unsafe { NetDev::<T>::from_raw(dev) }, &req)?;
            Ok(0)
        })
    }
}

/// `ETH_RSS_HASH_TOP`: the Toeplitz hash.
pub const RSS_HASH_TOP: u8 = bindings::VNR_ETH_RSS_HASH_TOP;
/// `ETH_RSS_HASH_NO_CHANGE`: `ethtool -X` keeps the hash function.
pub const RSS_HASH_NO_CHANGE: u8 = bindings::VNR_ETH_RSS_HASH_NO_CHANGE;

impl<T: Operations> Adapter<T> {
    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the ethtool core passes it to
    /// `ethtool_ops::get_rxfh_key_size`.
    unsafe extern "C" fn get_rxfh_key_size(dev: *mut bindings::net_device) -> u32 {
        // SAFETY: As in `get_drvinfo`.
        T::rxfh_key_size(unsafe { NetDev::<T>::from_raw(dev) })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), as the ethtool core passes it to
    /// `ethtool_ops::get_rxfh_indir_size`.
    unsafe extern "C" fn get_rxfh_indir_size(dev: *mut bindings::net_device) -> u32 {
        // SAFETY: As in `get_drvinfo`.
        T::rxfh_indir_size(unsafe { NetDev::<T>::from_raw(dev) })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and the caller must hold the RTNL lock. `rxfh`
    /// must point to a valid, writable `ethtool_rxfh_param` whose `indir` is null or
    /// valid for writes of `T::rxfh_indir_size(dev)` entries and whose `key` is null or
    /// valid for writes of `T::rxfh_key_size(dev)` bytes: the ethtool core sizes both
    /// with those callbacks and calls `ethtool_ops::get_rxfh` without releasing the RTNL
    /// lock in between.
    unsafe extern "C" fn get_rxfh(
        dev: *mut bindings::net_device,
        rxfh: *mut bindings::ethtool_rxfh_param,
    ) -> i32 {
        // SAFETY: ethtool passes a valid, writable `ethtool_rxfh_param`.
        let rxfh = unsafe { &mut *rxfh };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            // The driver's sizes, not `indir_size`/`key_size`, which are not always
            // set (`ethtool_get_max_rxfh_channel()` leaves them 0).
            // SAFETY: The core allocates `indir` (when not null) with `get_rxfh_indir_size`
            // entries and `key` with `get_rxfh_key_size` bytes, under the RTNL lock it
            // still holds (the sizes are the same now); nothing else uses them meanwhile.
            let indir = (!rxfh.indir.is_null()).then(|| unsafe {
                core::slice::from_raw_parts_mut(rxfh.indir, T::rxfh_indir_size(dev) as usize)
            });
            // SAFETY: As above.
            let key = (!rxfh.key.is_null()).then(|| unsafe {
                core::slice::from_raw_parts_mut(rxfh.key, T::rxfh_key_size(dev) as usize)
            });
            rxfh.hfunc = T::get_rxfh(dev, indir, key)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), and the caller must hold the RTNL lock. `rxfh`
    /// must point to a valid `ethtool_rxfh_param` whose `indir` is null or valid for
    /// reads of `indir_size` entries and whose `key` is null or valid for reads of
    /// `key_size` bytes, until the call returns, as the ethtool core passes it to
    /// `ethtool_ops::set_rxfh`.
    unsafe extern "C" fn set_rxfh(
        dev: *mut bindings::net_device,
        rxfh: *mut bindings::ethtool_rxfh_param,
        _extack: *mut bindings::netlink_ext_ack,
    ) -> i32 {
        // SAFETY: ethtool passes a valid `ethtool_rxfh_param`.
        let rxfh = unsafe { &*rxfh };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            // Without RSS contexts, nothing but the default context exists.
            if rxfh.rss_context != 0 || rxfh.rss_delete != 0 {
                return Err(eopnotsupp());
            }
            let n_indir = T::rxfh_indir_size(dev) as usize;
            let n_key = T::rxfh_key_size(dev) as usize;
            // The core sizes both from the driver's getters; a mismatch would mean
            // the driver's sizes changed under the RTNL lock.
            if (!rxfh.indir.is_null() && rxfh.indir_size as usize != n_indir)
                || (!rxfh.key.is_null() && rxfh.key_size as usize != n_key)
            {
                return Err(EINVAL);
            }
            // SAFETY: The core filled `indir` with `indir_size` entries and `key` with
            // `key_size` bytes when they are not null (checked equal to the lengths
            // used); they live until the callback returns.
            let indir = (!rxfh.indir.is_null())
                .then(|| unsafe { core::slice::from_raw_parts(rxfh.indir, n_indir) });
            // SAFETY: As above.
            let key = (!rxfh.key.is_null())
                .then(|| unsafe { core::slice::from_raw_parts(rxfh.key, n_key) });
            T::set_rxfh(dev, rxfh.hfunc, indir, key)?;
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), `info` must point to a valid, writable
    /// `ethtool_rxnfc`, and the caller must hold the RTNL lock, as the ethtool core calls
    /// `ethtool_ops::get_rxnfc`.
    unsafe extern "C" fn get_rxnfc(
        dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_rxnfc,
        _rule_locs: *mut u32,
    ) -> i32 {
        // SAFETY: ethtool passes a valid, writable `ethtool_rxnfc`.
        let info = unsafe { &mut *info };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            info.data = match info.cmd {
                bindings::VNR_ETHTOOL_GRXRINGS => u64::from(T::rx_rings(dev)),
                // FLOW_RSS with context 0 (others are refused by the core) is the
                // default context, the only one.
                bindings::VNR_ETHTOOL_GRXFH => {
                    T::rx_flow_hash(dev, info.flow_type & !bindings::VNR_FLOW_RSS)?
                }
                _ => return Err(eopnotsupp()),
            };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// `dev` must be a registered net_device created by `Registration::<T>` (the only
    /// device this table is installed on), `info` must point to a valid `ethtool_rxnfc`,
    /// and the caller must hold the RTNL lock, as the ethtool core calls
    /// `ethtool_ops::set_rxnfc`.
    unsafe extern "C" fn set_rxnfc(
        dev: *mut bindings::net_device,
        info: *mut bindings::ethtool_rxnfc,
    ) -> i32 {
        // SAFETY: ethtool passes a valid `ethtool_rxnfc`.
        let info = unsafe { &*info };
        kernel::error::from_result(|| {
            // SAFETY: As in `get_drvinfo`; ethtool holds the RTNL lock.
            let dev = unsafe { NetDev::<T>::from_raw(dev) };
            match info.cmd {
                bindings::VNR_ETHTOOL_SRXFH => {
                    T::set_rx_flow_hash(dev, info.flow_type & !bindings::VNR_FLOW_RSS, info.data)?
                }
                _ => return Err(eopnotsupp()),
            }
            Ok(0)
        })
    }
}
