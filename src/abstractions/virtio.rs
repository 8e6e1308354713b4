// SPDX-License-Identifier: GPL-2.0

//! virtio drivers: registration with the virtio bus, the device, and the glue that
//! turns the C callbacks (probe, remove, config change, virtqueue interrupts) into
//! calls of a safe [`Driver`] trait.
//!
//! Lifecycle the glue guarantees:
//! - probe: [`Driver::probe`] builds the driver data without the device running; the
//!   data is published in `vdev->priv`, then the device is made ready
//!   (`virtio_device_ready`), then [`Driver::ready`] runs (e.g. `register_netdev`).
//! - remove: [`Driver::remove`] quiesces users (e.g. `unregister_netdev`), then the
//!   device is reset (it stops touching memory and its interrupts are synchronised),
//!   then the data is dropped (virtqueues reclaim their buffers), then the
//!   virtqueues are deleted.
//!
//! C headers: [`include/linux/virtio.h`](srctree/include/linux/virtio.h),
//! [`include/linux/virtio_config.h`](srctree/include/linux/virtio_config.h)

use crate::abstractions::virtqueue::{new_sg_table, Buffer, Claim, Claims, SgTable, Virtqueue};
use crate::bindings;
use core::{
    marker::PhantomData,
    ptr::NonNull,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{
    build_error,
    error::{from_result, VTABLE_DEFAULT_ERROR},
    prelude::*,
    str::CStr,
    sync::Arc,
    types::{ARef, AlwaysRefCounted, ForeignOwnable, Opaque},
};

/// A virtio device, as seen by the driver bound to it.
///
/// # Invariants
///
/// The wrapped `virtio_device` is valid for as long as the reference is.
#[repr(transparent)]
pub struct Device(Opaque<bindings::virtio_device>);

impl Device {
    /// Creates a reference from a raw pointer.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid `virtio_device` for the lifetime `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::virtio_device) -> &'a Self {
        // SAFETY: `Device` is a transparent wrapper of `virtio_device`; validity is
        // guaranteed by the caller. CAST: same layout.
        unsafe { &*ptr.cast() }
    }

    /// The raw pointer, for other abstractions.
    pub(crate) fn as_raw(&self) -> *mut bindings::virtio_device {
        self.0.get()
    }

    /// Every feature the device offers, whether the driver knows it or not (bit
    /// `n` is feature `n`).
    pub fn device_features(&self) -> u64 {
        // SAFETY: `self.as_raw()` is valid by the type invariant; reading the device's
        // feature bits has no side effect.
        unsafe { bindings::vnr_virtio_device_features(self.as_raw()) }
    }

    /// The negotiated features (device features ∩ driver table ∪ transport
    /// features), bit `n` for feature `n`.
    pub fn features(&self) -> u64 {
        // SAFETY: `self.as_raw()` is valid by the type invariant.
        unsafe { bindings::vnr_virtio_features(self.as_raw()) }
    }

    /// The device's name on the virtio bus (`virtio0`, ...).
    pub fn name(&self) -> &CStr {
        // SAFETY: `dev_name` of a valid device is a NUL-terminated string that lives as
        // long as the device.
        unsafe { CStr::from_char_ptr(bindings::vnr_virtio_name(self.as_raw())) }
    }

    /// The name of the transport device under it (the PCI address for virtio-pci),
    /// as `ethtool -i` reports it (`virtio_bus_name`).
    pub fn bus_name(&self) -> &CStr {
        // SAFETY: The parent of a valid device outlives it; its name is NUL-terminated
        // (or the helper returns a static string).
        unsafe { CStr::from_char_ptr(bindings::vnr_virtio_bus_name(self.as_raw())) }
    }

    /// Reads a byte of the device-specific config space at `offset`.
    pub fn read_config_u8(&self, offset: usize) -> u8 {
        // SAFETY: The device is valid; the transport bounds-checks config accesses.
        unsafe { bindings::vnr_virtio_cread8(self.as_raw(), offset as u32) }
    }

    /// Reads a 16-bit field of the device-specific config space (converted to CPU order).
    pub fn read_config_u16(&self, offset: usize) -> u16 {
        // SAFETY: As above.
        unsafe { bindings::vnr_virtio_cread16(self.as_raw(), offset as u32) }
    }

    /// Reads a 32-bit field of the device-specific config space (converted to CPU order).
    pub fn read_config_u32(&self, offset: usize) -> u32 {
        // SAFETY: As above.
        unsafe { bindings::vnr_virtio_cread32(self.as_raw(), offset as u32) }
    }

    /// Reads `buf.len()` bytes of config space at `offset`, retrying until the
    /// generation count is stable so the bytes are consistent with each other.
    pub fn read_config_bytes(&self, offset: usize, buf: &mut [u8]) {
        // SAFETY: `buf` is valid for `buf.len()` bytes of writes; the device is valid.
        unsafe {
            bindings::vnr_virtio_cread_bytes(
                self.as_raw(),
                offset as u32,
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        }
    }
}

// SAFETY: A `Device` may be used from any thread: its methods read feature bits and
// config space, and an `ARef` may be dropped on any thread (`put_device`).
unsafe impl Send for Device {}
// SAFETY: As above: `&Device` methods may be called concurrently.
unsafe impl Sync for Device {}

// SAFETY: A virtio device is reference counted through its embedded `struct device`
// (`get_device`/`put_device`), which keeps the `virtio_device` around it alive: the
// transport frees it from the device's release callback.
unsafe impl AlwaysRefCounted for Device {
    fn inc_ref(&self) {
        // SAFETY: The device is valid (type invariant); `get_device` takes a reference.
        unsafe { bindings::get_device(bindings::vnr_virtio_dev(self.as_raw())) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: Per the caller, a reference taken by `inc_ref` is released, and the
        // object is not used afterwards. CAST: `Device` is a transparent wrapper.
        unsafe { bindings::put_device(bindings::vnr_virtio_dev(obj.cast().as_ptr())) };
    }
}

impl Device {
    /// Takes a counted reference to the device, for driver data that needs it
    /// outside of the callbacks (e.g. to read config space from a work item).
    pub fn to_ref(&self) -> ARef<Device> {
        ARef::from(self)
    }
}

/// The right to create a device's virtqueues, given to [`Driver::probe`] and
/// [`Driver::restore`] only, when the device has none, and used once.
pub struct QueueFinder<'a, T: Driver> {
    dev: &'a Device,
    claims: &'a Arc<Claims>,
    /// Where the names' allocation is recorded, for the glue to free it with the
    /// queues at system sleep.
    names: &'a AtomicPtr<u8>,
    _p: PhantomData<T>,
}

impl<'a, T: Driver> QueueFinder<'a, T> {
    /// The device whose queues are to be found.
    pub fn device(&self) -> &'a Device {
        self.dev
    }

    /// Finds the device's `n` virtqueues. `spec(i, name)` writes queue `i`'s name
    /// (shown in `/proc/interrupts`) into `name`, zeroed, and says whether the queue
    /// calls [`Driver::vq_callback`] of `T` when the device uses buffers.
    ///
    /// The virtio core keeps each queue's name pointer for the queue's lifetime, so
    /// the names are written into one allocation tied to the device's binding
    /// (`devm_kmalloc`): the driver core frees it when the binding ends, after the
    /// glue deleted the queues, and the glue frees it at system sleep, after
    /// deleting them. Any number of queues can be named, whatever the device
    /// reports.
    ///
    /// On success, the driver takes each queue out of the returned set with
    /// [`VqSet::take`]. The virtio glue deletes the queues once the driver holds no
    /// handle to them: after the driver data is dropped at remove or on a failed
    /// probe, and after [`Driver::release_queues`] at system sleep.
    pub fn find_vqs(
        self,
        n: usize,
        mut spec: impl FnMut(usize, &mut [u8; VQ_NAME_LEN]) -> bool,
    ) -> Result<VqSet> {
        let dev = self.dev;
        let names_len = n.checked_mul(VQ_NAME_LEN).ok_or(EINVAL)?;
        // SAFETY: The device is valid; `devm_kmalloc` returns null or `names_len`
        // bytes, freed by the driver core when the binding ends (not before remove
        // or a failed probe returns).
        let names = unsafe {
            bindings::devm_kmalloc(
                bindings::vnr_virtio_dev(dev.as_raw()),
                names_len.max(1),
                crate::abstractions::Gfp::Kernel.raw(),
            )
        }
        .cast::<[u8; VQ_NAME_LEN]>();
        if names.is_null() {
            return Err(ENOMEM);
        }
        self.names.store(names.cast(), Ordering::Relaxed);
        let mut infos = KVec::with_capacity(n, GFP_KERNEL)?;
        for i in 0..n {
            // SAFETY: `names` has room for `n` names of `VQ_NAME_LEN` bytes, `i < n`, and
            // nothing else refers to that memory yet.
            let name = unsafe { &mut *names.add(i) };
            name.fill(0);
            let callback = spec(i, name);
            // A name that filled its room is cut short, not left unterminated.
            name[VQ_NAME_LEN - 1] = 0;
            let info = bindings::virtqueue_info {
                name: name.as_ptr().cast(),
                callback: if callback {
                    Some(vq_callback::<T>)
                } else {
                    None
                },
                ctx: false,
            };
            super::push_within_capacity(&mut infos, info).map_err(|_| EINVAL)?;
        }
        let mut vqs = super::zeroed_vec::<Option<NonNull<bindings::virtqueue>>>(n)?;
        // SAFETY: `vqs` and `infos` hold `n` elements each (`Option<NonNull<_>>` has the
        // layout of a pointer, null for `None`); the names live in device-managed
        // memory that outlives the queues (see above).
        let ret = unsafe {
            bindings::vnr_virtio_find_vqs(
                dev.as_raw(),
                n as u32,
                vqs.as_mut_ptr().cast(),
                infos.as_mut_ptr(),
            )
        };
        kernel::error::to_result(ret)?;
        Ok(VqSet {
            vqs,
            claims: self.claims.clone(),
        })
    }
}

/// Room for a virtqueue's name, NUL included (see [`QueueFinder::find_vqs`]).
pub const VQ_NAME_LEN: usize = 16;

/// The virtqueues found by [`QueueFinder::find_vqs`], not yet claimed by the driver.
///
/// # Invariants
///
/// Every `Some` pointer is a virtqueue of the device that was not claimed yet.
pub struct VqSet {
    vqs: KVec<Option<NonNull<bindings::virtqueue>>>,
    claims: Arc<Claims>,
}

impl VqSet {
    /// Claims queue `index` for buffers of type `B`. Each queue can be claimed once.
    pub fn take<B: Buffer>(&mut self, index: usize) -> Result<Virtqueue<B>> {
        let (vq, claim, sg) = self.claim(index)?;
        // SAFETY: `vq` is a virtqueue found by `find_vqs`, claimed once (it is now `None`
        // in the set), with no buffer yet; the virtio glue deletes the device's queues
        // only when no claim is counted.
        Ok(unsafe { Virtqueue::from_raw(vq, claim, sg) })
    }

    /// What [`VqSet::take`] does whatever the buffers' type: one copy of it for every
    /// type of queue.
    fn claim(&mut self, index: usize) -> Result<(NonNull<bindings::virtqueue>, Claim, SgTable)> {
        let sg = new_sg_table()?;
        let vq = self
            .vqs
            .get_mut(index)
            .ok_or(EINVAL)?
            .take()
            .ok_or(EINVAL)?;
        Ok((vq, Claim::new(&self.claims), sg))
    }
}

/// What a virtqueue callback may do with the queue that interrupted: it runs in hard
/// interrupt context, concurrently with the queue's owner.
pub struct VqCallback(NonNull<bindings::virtqueue>);

impl VqCallback {
    /// The index of the queue in the order it was found.
    pub fn index(&self) -> usize {
        // SAFETY: The queue is valid while its callback runs; `index` is fixed when the
        // virtio core creates it.
        unsafe { (*self.0.as_ptr()).index as usize }
    }

    /// Asks the device not to interrupt for this queue (a hint, not synchronous).
    pub fn disable_cb(&self) {
        // SAFETY: The queue is valid while its callback runs; `virtqueue_disable_cb` is
        // documented as not needing to be serialised with other virtqueue operations.
        unsafe { bindings::virtqueue_disable_cb(self.0.as_ptr()) }
    }
}

/// A virtio driver.
///
/// System sleep (`freeze`/`restore` of the virtio core) is supported when the
/// driver implements the four optional methods [`Driver::freeze`],
/// [`Driver::release_queues`], [`Driver::restore`] and [`Driver::resume`]; a driver
/// without them refuses sleep (see [`refuse_freeze_callback`]). The glue runs them
/// in this order:
/// - freeze: [`Driver::freeze`] quiesces the users (device still running); the
///   device is reset; [`Driver::release_queues`] drops every virtqueue handle; the
///   queues are deleted (only if no handle is left: else the sleep is refused and
///   the device stays down until it is unbound, rather than a queue dangling);
/// - restore (the core reset the device and accepted the same features):
///   [`Driver::restore`] finds the queues again and puts them back; the device is
///   made ready; [`Driver::resume`] reprograms it and restarts the users.
///
/// # Examples
///
/// A driver that keeps its device's one queue under a lock, in data pinned where the
/// glue publishes it:
///
/// ```ignore
/// # use crate::abstractions::{ctrl_msg::CtrlMsg, lock::SpinLockBh, virtqueue::Virtqueue};
/// # use crate::abstractions::virtio::{self, Device, QueueFinder, VqCallback};
/// # use crate::new_spinlock_bh;
/// # use kernel::{c_str, prelude::*};
/// struct Sample;
///
/// #[pin_data]
/// struct SampleData {
///     #[pin]
///     vq: SpinLockBh<Virtqueue<CtrlMsg>>,
/// }
///
/// #[vtable]
/// impl virtio::Driver for Sample {
///     type Data = SampleData;
///     const FEATURES: &'static [u32] = &[];
///
///     fn probe(_dev: &Device, vqs: QueueFinder<'_, Self>) -> impl PinInit<SampleData, Error> {
///         try_pin_init!(SampleData {
///             vq <- new_spinlock_bh!(
///                 vqs.find_vqs(1, |_, name| {
///                     name[..9].copy_from_slice(b"requests\0");
///                     true
///                 })?
///                 .take(0)?,
///                 "sample_vq"
///             ),
///         }? Error)
///     }
///
///     fn vq_callback(_data: &SampleData, vq: &VqCallback) {
///         // Hard interrupt context: no lock here; leave the work to a bottom half.
///         vq.disable_cb();
///     }
/// }
/// ```
#[vtable]
pub trait Driver: Sized + 'static {
    /// Data the driver keeps per bound device.
    type Data: Send + Sync;

    /// Device features the driver supports (feature bit numbers).
    const FEATURES: &'static [u32];

    /// Checks the features the driver and the device have in common, before the
    /// device is told they are accepted, and returns the ones to keep: bits left out
    /// are cleared (none can be added).
    fn validate(dev: &Device) -> Result<u64> {
        Ok(dev.features())
    }

    /// Returns the initializer of the driver data, which finds the device's
    /// virtqueues with `vqs`; the glue runs it in place, in the allocation it
    /// publishes, so the data may be pinned (locks, NAPI contexts, list heads). The
    /// device is not running yet: no callback can reach the data before it is
    /// initialised.
    fn probe(dev: &Device, vqs: QueueFinder<'_, Self>) -> impl PinInit<Self::Data, Error>;

    /// Called once the device runs and the data is published to the callbacks.
    fn ready(_dev: &Device, _data: &Self::Data) -> Result {
        Ok(())
    }

    /// Called at remove, before the device is reset: stop using the device.
    fn remove(_dev: &Device, _data: &Self::Data) {}

    /// The device's config space changed. Runs in atomic context: must not sleep
    /// (config-space reads may sleep, so defer them to a work item).
    fn config_changed(_data: &Self::Data) {}

    /// A virtqueue with a callback has used buffers. Runs in hard interrupt context.
    fn vq_callback(_data: &Self::Data, _vq: &VqCallback) {}

    /// System sleep begins: stop every user of the device (the device still runs).
    /// On error the sleep is aborted and the driver must have left things running.
    fn freeze(_dev: &Device, _data: &Self::Data) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The device was reset: drop every [`Virtqueue`] and
    /// [`Affinity`](crate::abstractions::virtqueue::Affinity) handle (posted buffers
    /// come back to their owners on the way), so that the queues can be deleted.
    fn release_queues(_dev: &Device, _data: &Self::Data) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The system wakes up: find the virtqueues again with `vqs` and put them back.
    /// The device does not run yet.
    fn restore(_dev: &Device, _data: &Self::Data, _vqs: QueueFinder<'_, Self>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The device runs again: reprogram it (it forgot everything but the features)
    /// and restart the users stopped by [`Driver::freeze`].
    fn resume(_dev: &Device, _data: &Self::Data) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// What the glue publishes in `vdev->priv`: the driver's data, and the count of the
/// virtqueue handles the driver holds.
#[pin_data]
struct Bound<T: Driver> {
    #[pin]
    data: T::Data,
    claims: Arc<Claims>,
    /// The queue names' device-managed allocation (see [`QueueFinder::find_vqs`]).
    names: AtomicPtr<u8>,
}

/// Returns what [`probe_callback`] published in `vdev->priv`, if anything.
///
/// # Safety
///
/// `vdev` must be valid, and bound to driver `T` (so `priv` is null or a `Pin<KBox<Bound<T>>>`
/// published by [`probe_callback`] with `into_foreign` and not yet taken back by
/// [`remove_callback`]).
unsafe fn bound<'a, T: Driver>(vdev: *mut bindings::virtio_device) -> Option<&'a Bound<T>> {
    // A volatile read is the C side's `READ_ONCE` (it pairs with the release store in
    // `vnr_virtio_set_priv`), without a call on every interrupt.
    // SAFETY: By the safety requirements, `priv` is null or a live `Bound<T>`, which
    // lives until remove resets the device (which synchronises all callbacks) and frees
    // it.
    let p = unsafe { core::ptr::read_volatile(core::ptr::addr_of!((*vdev).priv_)) };
    if p.is_null() {
        return None;
    }
    // SAFETY: See above: `p` came from `into_foreign` in probe and `from_foreign` has
    // not been called on it yet.
    Some(unsafe { <Pin<KBox<Bound<T>>> as ForeignOwnable>::borrow(p) }.get_ref())
}

/// Deletes the device's virtqueues if the driver holds no handle to them; else
/// keeps them (a leak until the device is unbound, not a dangling queue) and says so.
///
/// # Safety
///
/// `vdev` must be a valid device, reset (it uses no buffer), whose queues were all
/// found with `claims`.
unsafe fn del_vqs(vdev: *mut bindings::virtio_device, claims: &Claims) -> Result {
    let live = claims.live();
    if live != 0 {
        // SAFETY: The device is valid.
        let dev = unsafe { Device::from_raw(vdev) };
        crate::log_err!(
            "%s: driver still holds %llu virtqueue handles; not deleting the queues\n",
            dev.name(),
            live
        );
        return Err(EBUSY);
    }
    // SAFETY: The device is valid and reset, and no `Virtqueue` or `Affinity` of it
    // exists (none is counted).
    unsafe { bindings::vnr_virtio_del_vqs(vdev) };
    Ok(())
}

/// # Safety
///
/// `vq` must be a valid virtqueue found by `QueueFinder::<T>::find_vqs` (the only place
/// this callback is installed) on a device bound to driver `T`, as the virtio core
/// passes it to the queue's callback.
unsafe extern "C" fn vq_callback<T: Driver>(vq: *mut bindings::virtqueue) {
    // The virtio core never passes a null one; nothing to do (and no panic) if it did.
    let Some(vq) = NonNull::new(vq) else {
        return;
    };
    // SAFETY: The virtio core passes a valid virtqueue of a device bound to `T` (this
    // callback is only installed by `QueueFinder::<T>::find_vqs`).
    let vdev = unsafe { (*vq.as_ptr()).vdev };
    // SAFETY: As above.
    if let Some(b) = unsafe { bound::<T>(vdev) } {
        // INVARIANT: `vq` is valid while the callback runs.
        let cb = VqCallback(vq);
        T::vq_callback(&b.data, &cb);
    }
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` that the virtio core is binding to driver `T`,
/// before it accepts the features (FEATURES_OK), as it passes it to
/// `virtio_driver::validate` of the driver registered by `Registration::<T>`.
unsafe extern "C" fn validate_callback<T: Driver>(vdev: *mut bindings::virtio_device) -> i32 {
    from_result(|| {
        // SAFETY: The virtio core passes a valid device for the duration of the call.
        let keep = T::validate(unsafe { Device::from_raw(vdev) })?;
        // SAFETY: `vdev` is valid; `validate` runs before FEATURES_OK, where a driver may
        // clear features it cannot drive (as `__virtio_clear_bit` does).
        unsafe { bindings::vnr_virtio_restrict_features(vdev, keep) };
        Ok(0)
    })
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` that the virtio core is binding to driver `T`,
/// as it passes it to `virtio_driver::probe` of the driver registered by
/// `Registration::<T>`.
unsafe extern "C" fn probe_callback<T: Driver>(vdev: *mut bindings::virtio_device) -> i32 {
    from_result(|| {
        // SAFETY: The virtio core passes a valid device for the duration of the call.
        let dev = unsafe { Device::from_raw(vdev) };
        let claims = Claims::new()?;
        let names = AtomicPtr::new(core::ptr::null_mut());
        let finder = QueueFinder {
            dev,
            claims: &claims,
            names: &names,
            _p: PhantomData,
        };
        // The initializer moves what it captures: references, so that both stay here.
        let (claims_ref, names_ref) = (&claims, &names);
        let init = try_pin_init!(Bound::<T> {
            data <- T::probe(dev, finder),
            claims: claims_ref.clone(),
            // Written by `find_vqs` during probe, so read once probe is done.
            names: AtomicPtr::new(names_ref.load(Ordering::Relaxed)),
        }? Error);
        let bound = match KBox::pin_init(init, GFP_KERNEL) {
            Ok(b) => b,
            Err(e) => {
                // The device never ran and the data (with its queues) is gone: delete
                // whatever queues probe found.
                // SAFETY: The device is valid and not running; its queues were found
                // with `claims`.
                let _ = unsafe { del_vqs(vdev, &claims) };
                return Err(e);
            }
        };
        let raw = bound.into_foreign();
        // SAFETY: `raw` is the foreign form of a `Pin<KBox<Bound<T>>>`; publishing it before the
        // device is ready means every callback finds it.
        unsafe { bindings::vnr_virtio_set_priv(vdev, raw.cast_mut()) };
        // SAFETY: The device is valid and its driver data is published.
        unsafe { bindings::vnr_virtio_device_ready(vdev) };
        // SAFETY: `raw` stays valid until this function or remove takes it back.
        let b = unsafe { <Pin<KBox<Bound<T>>> as ForeignOwnable>::borrow(raw) };
        if let Err(e) = T::ready(dev, &b.data) {
            // SAFETY: The device is valid. Resetting it stops it and synchronises its
            // interrupts, so no callback uses `raw` after `priv` is cleared; it is taken
            // back once, here, and its queues were found with `claims`.
            unsafe {
                bindings::virtio_reset_device(vdev);
                bindings::vnr_virtio_set_priv(vdev, core::ptr::null_mut());
                drop(<Pin<KBox<Bound<T>>> as ForeignOwnable>::from_foreign(raw));
                let _ = del_vqs(vdev, &claims);
            }
            return Err(e);
        }
        Ok(0)
    })
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` bound to driver `T`, whose `priv` is null or
/// what `probe_callback::<T>` published (not freed yet), as the virtio core passes it
/// to `virtio_driver::remove` of the driver registered by `Registration::<T>`.
unsafe extern "C" fn remove_callback<T: Driver>(vdev: *mut bindings::virtio_device) {
    // SAFETY: The virtio core passes a valid device bound to `T`.
    let dev = unsafe { Device::from_raw(vdev) };
    // SAFETY: As above.
    let Some(b) = (unsafe { bound::<T>(vdev) }) else {
        return;
    };
    T::remove(dev, &b.data);
    let claims = b.claims.clone();
    // SAFETY: The device is valid. After the reset the device no longer touches driver
    // memory and all its interrupts (hence callbacks) have completed.
    unsafe { bindings::virtio_reset_device(vdev) };
    // SAFETY: `priv` holds the `KBox` published by probe; no callback can run any more.
    let raw = unsafe { bindings::vnr_virtio_get_priv(vdev) };
    // SAFETY: As above.
    unsafe { bindings::vnr_virtio_set_priv(vdev, core::ptr::null_mut()) };
    // SAFETY: `raw` came from `into_foreign` in probe and is taken back once, here.
    drop(unsafe { <Pin<KBox<Bound<T>>> as ForeignOwnable>::from_foreign(raw) });
    // SAFETY: The device is reset; its queues were found with `claims`, and every
    // handle lived in the data just dropped.
    let _ = unsafe { del_vqs(vdev, &claims) };
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` bound to driver `T`, whose `priv` is null or
/// what `probe_callback::<T>` published and `remove_callback::<T>` has not freed, as
/// the virtio core passes it to `virtio_driver::config_changed` of the driver
/// registered by `Registration::<T>`.
unsafe extern "C" fn config_changed_callback<T: Driver>(vdev: *mut bindings::virtio_device) {
    // SAFETY: The virtio core passes a valid device bound to `T`; config callbacks are
    // disabled before remove runs.
    if let Some(b) = unsafe { bound::<T>(vdev) } {
        T::config_changed(&b.data);
    }
}

/// Refuses system sleep while a device of a driver without [`Driver::freeze`] is
/// bound (`virtio_driver::freeze`).
///
/// Without a `freeze` the virtio core lets the system sleep and, on resume, resets
/// the device under the driver and sets it running again: the rings the driver still
/// owns are unknown to the device, whose interface is then dead with its buffers
/// posted. So the sleep is refused (the PM core resumes what it had suspended and
/// reports the error), and nothing is lost.
///
/// # Safety
///
/// `vdev` must be a valid `virtio_device`, as the virtio core passes it.
#[cfg(CONFIG_PM_SLEEP)]
unsafe extern "C" fn refuse_freeze_callback(vdev: *mut bindings::virtio_device) -> i32 {
    // SAFETY: The virtio core passes a valid device for the duration of the call.
    let dev = unsafe { Device::from_raw(vdev) };
    crate::log_warn!(
        "%s: system sleep refused: this driver cannot freeze and restore the device\n",
        dev.name()
    );
    super::eopnotsupp().to_errno()
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` bound to driver `T`, whose `priv` is what
/// `probe_callback::<T>` published, as the virtio core passes it to
/// `virtio_driver::freeze` (with config-change callbacks already disabled).
#[cfg(CONFIG_PM_SLEEP)]
unsafe extern "C" fn freeze_callback<T: Driver>(vdev: *mut bindings::virtio_device) -> i32 {
    from_result(|| {
        // SAFETY: The virtio core passes a valid device bound to `T`.
        let dev = unsafe { Device::from_raw(vdev) };
        // SAFETY: As above.
        let b = unsafe { bound::<T>(vdev) }.ok_or(ENODEV)?;
        T::freeze(dev, &b.data)?;
        // SAFETY: The device is valid. After the reset it no longer touches driver memory
        // and its interrupts have completed, so posted buffers can be taken back.
        unsafe { bindings::virtio_reset_device(vdev) };
        T::release_queues(dev, &b.data);
        // SAFETY: The device is reset; its queues were found with `b.claims`.
        unsafe { del_vqs(vdev, &b.claims) }?;
        let names = b.names.swap(core::ptr::null_mut(), Ordering::Relaxed);
        if !names.is_null() {
            // SAFETY: `names` is the device-managed allocation of the queues' names,
            // made for this device by `find_vqs` and not freed yet; the queues that
            // pointed into it are deleted.
            unsafe { bindings::devm_kfree(bindings::vnr_virtio_dev(vdev), names.cast()) };
        }
        Ok(0)
    })
}

/// # Safety
///
/// `vdev` must be a valid `virtio_device` bound to driver `T` that `freeze_callback::<T>`
/// froze (its queues deleted), whose `priv` is what `probe_callback::<T>` published, as
/// the virtio core passes it to `virtio_driver::restore` (after a reset and FEATURES_OK).
#[cfg(CONFIG_PM_SLEEP)]
unsafe extern "C" fn restore_callback<T: Driver>(vdev: *mut bindings::virtio_device) -> i32 {
    from_result(|| {
        // SAFETY: The virtio core passes a valid device bound to `T`.
        let dev = unsafe { Device::from_raw(vdev) };
        // SAFETY: As above.
        let b = unsafe { bound::<T>(vdev) }.ok_or(ENODEV)?;
        let finder = QueueFinder {
            dev,
            claims: &b.claims,
            names: &b.names,
            _p: PhantomData,
        };
        // On failure the core marks the device failed; the queues found are deleted
        // when the device is unbound.
        T::restore(dev, &b.data, finder)?;
        // SAFETY: The device is valid; its queues exist and the data is published.
        unsafe { bindings::vnr_virtio_device_ready(vdev) };
        T::resume(dev, &b.data)?;
        Ok(0)
    })
}

/// Builds an entry of a virtio device ID table.
pub const fn device_id(device: u32) -> bindings::virtio_device_id {
    bindings::virtio_device_id {
        device,
        vendor: bindings::VIRTIO_DEV_ANY_ID,
    }
}

/// The zero entry that ends a virtio device ID table.
pub const DEVICE_ID_END: bindings::virtio_device_id = bindings::virtio_device_id {
    device: 0,
    vendor: 0,
};

/// Declares the device table modpost reads to let the module autoload
/// (`MODULE_DEVICE_TABLE(virtio, ...)`): `$sym` must be
/// `__mod_virtio__<name>_device_table`.
#[macro_export]
macro_rules! virtio_device_table {
    ($sym:ident, [$($id:expr),+ $(,)?]) => {
        #[no_mangle]
        #[used]
        #[allow(non_upper_case_globals)]
        static $sym: [$crate::bindings::virtio_device_id;
            [$($crate::virtio_device_table!(@one $id)),+].len() + 1] =
            [$($id),+, $crate::abstractions::virtio::DEVICE_ID_END];
    };
    (@one $id:expr) => { () };
}

/// A registered virtio driver; unregistered on drop.
///
/// # Invariants
///
/// `drv` is registered with the virtio bus for the lifetime of the object.
pub struct Registration<T: Driver> {
    drv: Pin<KBox<Opaque<bindings::virtio_driver>>>,
    _p: PhantomData<T>,
}

// SAFETY: The registration only holds the (pinned) driver structure, which the virtio
// core may use from any thread.
unsafe impl<T: Driver> Send for Registration<T> {}
// SAFETY: No method of `Registration` mutates it through `&self`.
unsafe impl<T: Driver> Sync for Registration<T> {}

impl<T: Driver> Registration<T> {
    /// Registers driver `T` under `name` for the devices in `id_table` (zero-terminated).
    pub fn new(
        name: &'static CStr,
        id_table: &'static [bindings::virtio_device_id],
        module: &'static ThisModule,
    ) -> Result<Self> {
        let last = id_table.last().ok_or(EINVAL)?;
        if last.device != 0 {
            return Err(EINVAL);
        }
        let drv = KBox::pin(Opaque::<bindings::virtio_driver>::uninit(), GFP_KERNEL)?;
        let p = drv.get();
        // SAFETY: `p` points to pinned memory we own; zeroed is a valid `virtio_driver`
        // (all pointers null, all callbacks `None`), then the fields are filled in.
        unsafe {
            p.write(core::mem::zeroed());
            (*p).driver.name = name.as_char_ptr();
            (*p).id_table = id_table.as_ptr();
            (*p).feature_table = T::FEATURES.as_ptr();
            (*p).feature_table_size = T::FEATURES.len() as u32;
            (*p).validate = Some(validate_callback::<T>);
            (*p).probe = Some(probe_callback::<T>);
            (*p).remove = Some(remove_callback::<T>);
            (*p).config_changed = Some(config_changed_callback::<T>);
            #[cfg(CONFIG_PM_SLEEP)]
            if T::HAS_FREEZE && T::HAS_RELEASE_QUEUES && T::HAS_RESTORE && T::HAS_RESUME {
                (*p).freeze = Some(freeze_callback::<T>);
                (*p).restore = Some(restore_callback::<T>);
            } else {
                (*p).freeze = Some(refuse_freeze_callback);
            }
        }
        // SAFETY: `p` is a fully initialised driver that stays pinned until
        // `unregister_virtio_driver` in `drop`. CAST: `module` is the same C type in the
        // kernel's bindings and ours.
        let ret = unsafe { bindings::__register_virtio_driver(p, module.as_ptr().cast()) };
        kernel::error::to_result(ret)?;
        // INVARIANT: registration succeeded.
        Ok(Self {
            drv,
            _p: PhantomData,
        })
    }
}

impl<T: Driver> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the driver is registered.
        unsafe { bindings::unregister_virtio_driver(self.drv.get()) };
    }
}
