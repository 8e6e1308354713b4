// SPDX-License-Identifier: GPL-2.0

//! ethtool operations (`struct ethtool_ops`) for devices created by
//! [`Registration`](super::netdev::Registration) (C header: `include/linux/ethtool.h`).

use crate::abstractions::netdev::{NetDev, Operations};
use crate::bindings;
use core::marker::PhantomData;

/// Driver information reported by `ethtool -i`.
#[repr(transparent)]
pub struct DrvInfo(bindings::ethtool_drvinfo);

/// Copies `s` into a fixed C string field, truncating and NUL-terminating it.
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

struct Adapter<T>(PhantomData<T>);

impl<T: Operations> Adapter<T> {
    const OPS: bindings::ethtool_ops = bindings::ethtool_ops {
        get_drvinfo: Some(Self::get_drvinfo),
        get_link: Some(bindings::ethtool_op_get_link),
        // SAFETY: All-zero is a valid `ethtool_ops` (every callback `None`).
        ..unsafe { core::mem::zeroed() }
    };

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

/// The ethtool table for driver `T`.
pub(crate) fn ops<T: Operations>() -> &'static bindings::ethtool_ops {
    &Adapter::<T>::OPS
}
