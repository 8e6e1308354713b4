// SPDX-License-Identifier: GPL-2.0

//! Interrupt coalescing (`ethtool -c/-C`) without `VIRTIO_NET_F_NOTF_COAL`.
//!
//! A device without notification coalescing interrupts once per used buffer batch
//! (EVENT_IDX decides when); there is nothing to tune. As the in-tree driver, the
//! settings read back as "one frame per interrupt" each way, and a request is
//! accepted only if it asks for exactly that: time-based coalescing needs the
//! device feature (`EOPNOTSUPP`), any other frame count is out of range (`EINVAL`).
//! Unlike the in-tree driver, transmit completions always run in NAPI (there is no
//! `napi_tx=0` mode), so `tx-frames 0` (which in-tree switches TX NAPI off) is
//! refused too.

/// What `ethtool -C` asks for (the fields a virtio-net device could honour).
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

/// What the driver reports and accepts without `NOTF_COAL`.
pub const FIXED: Coalesce = Coalesce {
    rx_usecs: 0,
    tx_usecs: 0,
    rx_max_frames: 1,
    tx_max_frames: 1,
};

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoalesceError {
    /// Time-based coalescing asked for; the device cannot do it (`EOPNOTSUPP`).
    Unsupported,
    /// A frame count other than one (`EINVAL`).
    OutOfRange,
}

/// Validates an `ethtool -C` request for a device without `NOTF_COAL`.
pub fn check(req: &Coalesce) -> Result<(), CoalesceError> {
    if req.rx_usecs != 0 || req.tx_usecs != 0 {
        return Err(CoalesceError::Unsupported);
    }
    if req.rx_max_frames != 1 || req.tx_max_frames != 1 {
        return Err(CoalesceError::OutOfRange);
    }
    Ok(())
}
