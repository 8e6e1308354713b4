// SPDX-License-Identifier: GPL-2.0

//! Allocating a net_device with the driver's data in its private area, setting it up
//! ([`Config`]), registering it, and its deferred work item.
//!
//! C headers: [`include/linux/netdevice.h`](srctree/include/linux/netdevice.h),
//! [`include/linux/etherdevice.h`](srctree/include/linux/etherdevice.h)

use super::ops::Adapter;
use super::{NetDev, Operations, Priv, PRIV_OFFSET};
use crate::abstractions::{ethtool, qstats, virtio};
use crate::bindings;
use core::{
    marker::PhantomData,
    ptr::{addr_of_mut, NonNull},
    sync::atomic::{AtomicBool, Ordering},
};
use kernel::{prelude::*, types::Opaque};

/// A net_device whose private data is being initialised: only what building the data
/// needs (e.g. [`Napi::new`](super::napi::Napi::new)) is available.
pub struct Uninit<T>(NonNull<bindings::net_device>, PhantomData<T>);

impl<T> Uninit<T> {
    pub(crate) fn as_raw(&self) -> *mut bindings::net_device {
        self.0.as_ptr()
    }
}

/// Driver capabilities (`IFF_*` private flags) for
/// [`Config::priv_flags`](Config::priv_flags).
pub mod priv_flag {
    use crate::bindings;
    /// The device filters unicast addresses besides its own.
    pub const UNICAST_FLT: u32 = bindings::VNR_IFF_UNICAST_FLT;
    /// The device takes a new MAC address while up.
    pub const LIVE_ADDR_CHANGE: u32 = bindings::VNR_IFF_LIVE_ADDR_CHANGE;
    /// The transmit path takes packets with no linear data, all in page fragments:
    /// AF_XDP copy mode then sends a socket's frames from its memory instead of
    /// copying each into a new skb.
    pub const TX_SKB_NO_LINEAR: u32 = bindings::VNR_IFF_TX_SKB_NO_LINEAR;
    /// Every flag a driver may set.
    pub(super) const ALL: u32 = UNICAST_FLT | LIVE_ADDR_CHANGE | TX_SKB_NO_LINEAR;
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
    /// What the device does beyond the defaults ([`priv_flag`] bits; others are
    /// ignored).
    pub priv_flags: u32,
    /// How long a stopped transmit queue may make no progress before the stack
    /// calls [`Operations::tx_timeout`] (0: the core's default, 5 s).
    pub tx_timeout_ms: u32,
    /// What XDP does on the device ([`xdp::features`](crate::abstractions::xdp::features)
    /// bits; 0 without XDP).
    pub xdp_features: u32,
    /// The ethtool operations, if the driver has them.
    pub ethtool: Option<ethtool::Table<T>>,
    /// The per-queue statistics operations, if the driver has them.
    pub qstats: Option<qstats::Table<T>>,
    /// Puts a `net_failover` master over the device, which is then the standby
    /// half of a pair whose primary is the NIC with the same MAC address: created
    /// before the device is registered, destroyed after it is unregistered.
    pub failover: bool,
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
/// - `failover` is a failover master made by `net_failover_create` for `dev`,
///   destroyed only in `drop`.
pub struct Registration<T: Operations> {
    dev: NonNull<bindings::net_device>,
    registered: AtomicBool,
    failover: Option<NonNull<bindings::failover>>,
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
            crate::log_err!(
                "net_device layout mismatch: private area not at offset %llu\n",
                PRIV_OFFSET
            );
            // SAFETY: `raw` was allocated above and never registered.
            unsafe { bindings::free_netdev(raw) };
            return Err(EINVAL);
        }
        // SAFETY: `raw` is a new, unregistered net_device, ours alone: its fields are
        // written in place over bindgen's layout of `struct net_device` (checked above
        // through the private area's offset), as `alloc_netdev` callers do in C. The ops
        // tables are `'static`.
        unsafe {
            bindings::vnr_set_netdev_dev(raw, parent.as_raw());
            (*raw).netdev_ops = &Adapter::<T>::NETDEV_OPS;
            (*raw).ethtool_ops = config
                .ethtool
                .as_ref()
                .map_or(core::ptr::null(), |t| t.as_raw());
            (*raw).stat_ops = config
                .qstats
                .as_ref()
                .map_or(core::ptr::null(), |t| t.as_raw());
            match config.mac {
                Some(mac) => bindings::vnr_eth_hw_addr_set(raw, mac.as_ptr()),
                None => bindings::vnr_eth_hw_addr_random(raw),
            }
            (*raw).mtu = config.mtu;
            (*raw).min_mtu = config.min_mtu;
            (*raw).max_mtu = config.max_mtu;
            bindings::vnr_netdev_set_needed_headroom(raw, config.needed_headroom);
            (*raw).hw_features = config.hw_features;
            (*raw).features = config.features;
            bindings::vnr_netdev_set_priv_flags(raw, config.priv_flags & priv_flag::ALL);
            if !T::HAS_NETPOLL_POLL {
                bindings::vnr_netdev_disable_netpoll(raw);
            }
            bindings::vnr_set_xdp_features(raw, config.xdp_features);
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
            #[cfg(vnr_xsk_zc)]
            addr_of_mut!((*p).xsk).write(crate::abstractions::xsk::XskBindings::new());
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
        let failover = if config.failover {
            // SAFETY: `raw` is set up (parent, address, MTU bounds, which the master
            // copies) and not registered, as `net_failover_create` expects of a standby.
            match kernel::error::from_err_ptr(unsafe { bindings::net_failover_create(raw) }) {
                Ok(f) => NonNull::new(f),
                Err(e) => {
                    // SAFETY: The device is ours and unregistered, its data initialised
                    // and never used: drop it in place, then free the device.
                    unsafe {
                        core::ptr::drop_in_place(addr_of_mut!((*p).data));
                        bindings::free_netdev(raw);
                    }
                    return Err(e);
                }
            }
        } else {
            None
        };
        // INVARIANT: allocated with room for `Priv<T>`, now initialised; not registered;
        // `failover` made for it.
        Ok(Self {
            dev,
            registered: AtomicBool::new(false),
            failover,
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

impl<T: Operations> Registration<T> {
    /// Stops the interface for system sleep, as the in-tree `virtnet_freeze_down()`:
    /// marks it absent (`netif_device_detach`: the stack stops its transmit queues and
    /// refuses most requests), stops it with [`Operations::stop`] if it runs, then
    /// waits for the deferred work. Process context; takes the RTNL lock. On error
    /// the interface is present again.
    pub fn suspend(&self) -> Result {
        let dev = self.dev();
        {
            let _rtnl = Rtnl::lock();
            // SAFETY: The device is valid; the RTNL lock is held.
            unsafe { bindings::netif_device_detach(self.dev.as_ptr()) };
            if dev.is_running() {
                if let Err(e) = T::stop(dev) {
                    // SAFETY: As above.
                    unsafe { bindings::netif_device_attach(self.dev.as_ptr()) };
                    return Err(e);
                }
            }
        }
        // Not under RTNL: the work may take it. Nothing schedules it again while the
        // device is absent and stopped but the work itself, which this handles.
        // SAFETY: The work item is initialised (type invariant).
        unsafe {
            let p = bindings::vnr_netdev_priv(self.dev.as_ptr()).cast::<Priv<T>>();
            bindings::cancel_delayed_work_sync(Opaque::raw_get(addr_of_mut!((*p).work)));
        }
        Ok(())
    }

    /// Undoes [`Registration::suspend`]: opens the interface with
    /// [`Operations::open`] if it was running, marks it present
    /// (`netif_device_attach` wakes its transmit queues), and schedules the deferred
    /// work. Process context; takes the RTNL lock.
    pub fn resume(&self) -> Result {
        let dev = self.dev();
        let res = {
            let _rtnl = Rtnl::lock();
            let res = if dev.is_running() {
                T::open(dev)
            } else {
                Ok(())
            };
            // SAFETY: The device is valid; the RTNL lock is held.
            unsafe { bindings::netif_device_attach(self.dev.as_ptr()) };
            res
        };
        dev.schedule_deferred();
        res
    }
}

/// The RTNL lock, held until dropped.
struct Rtnl(());

impl Rtnl {
    /// Takes the lock. Process context; the caller must not hold it.
    fn lock() -> Self {
        // SAFETY: No requirement beyond process context.
        unsafe { bindings::rtnl_lock() };
        Self(())
    }
}

impl Drop for Rtnl {
    fn drop(&mut self) {
        // SAFETY: `self` exists only while the lock is held (taken in `lock`).
        unsafe { bindings::rtnl_unlock() };
    }
}

impl<T: Operations> Drop for Registration<T> {
    fn drop(&mut self) {
        self.unregister();
        if let Some(f) = self.failover {
            // SAFETY: `f` was made by `net_failover_create` and is destroyed once, here,
            // after the standby was unregistered (as in-tree).
            unsafe { bindings::net_failover_destroy(f.as_ptr()) };
        }
        let raw = self.dev.as_ptr();
        // Unregistered: no operation runs, nothing schedules the work item but the
        // data itself (a re-queueing item is what `cancel_delayed_work_sync` handles),
        // and every AF_XDP pool was unbound.
        // SAFETY: As just said: cancel the work, then drop the data and the pool list
        // in place and free the device.
        unsafe {
            let p = bindings::vnr_netdev_priv(raw).cast::<Priv<T>>();
            bindings::cancel_delayed_work_sync(Opaque::raw_get(addr_of_mut!((*p).work)));
            core::ptr::drop_in_place(addr_of_mut!((*p).data));
            #[cfg(vnr_xsk_zc)]
            core::ptr::drop_in_place(addr_of_mut!((*p).xsk));
            bindings::free_netdev(raw);
        }
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
