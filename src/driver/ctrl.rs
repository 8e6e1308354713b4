// SPDX-License-Identifier: GPL-2.0

//! The control virtqueue: receive mode (promiscuous, all-multicast, MAC filter
//! table) and the primary MAC address.
//!
//! Commands run in process context under a mutex and wait for the device's ack by
//! polling the queue, as the in-tree driver does: the device completes them at once
//! (QEMU handles them in the doorbell's VM exit). Unlike in-tree, the wait is
//! bounded: a device that never answers fails the command with `ETIMEDOUT` and a log
//! line, and later commands fail at once until it answers, instead of spinning in
//! probe or under RTNL for ever.

use super::VirtNet;
use crate::abstractions::{
    ctrl_msg::CtrlMsg, etimedout, netdev::NetDev, virtqueue::Virtqueue, Gfp,
};
use crate::logic::{ctrl_cmd, features};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{
    new_mutex,
    prelude::*,
    str::{CStr, CString},
    sync::Mutex,
};

/// Addresses of each kind put in the filter table; longer lists fall back to
/// promiscuous or all-multicast mode.
const MAX_FILTER_ENTRIES: usize = 256;

/// How long a command waits for the device's answer (ms). QEMU answers before the
/// doorbell's write returns; this bounds what a broken or hostile device can cost.
pub const TIMEOUT_MS: u32 = 5000;

/// The queue and what it still owes.
struct Queue {
    /// `None` while the device sleeps (its queues are deleted).
    vq: Option<Virtqueue<CtrlMsg>>,
    /// Commands that timed out and are still in the ring (the device may answer them
    /// late; the answers are dropped unread).
    unanswered: u32,
}

/// The control queue and the state of requests waiting for process context.
#[pin_data]
pub struct Ctrl {
    #[pin]
    q: Mutex<Queue>,
    /// The virtio device's name, for log lines.
    name: CString,
    /// The receive mode changed and must be sent to the device.
    rx_mode_dirty: AtomicBool,
}

impl Ctrl {
    /// Wraps the control virtqueue of the device called `name`.
    pub fn new(vq: Virtqueue<CtrlMsg>, name: &CStr) -> Result<impl PinInit<Self>> {
        let name = name.to_cstring()?;
        Ok(pin_init!(Self {
            q <- new_mutex!(
                Queue {
                    vq: Some(vq),
                    unanswered: 0
                },
                "virtio_net_rust::ctrl"
            ),
            name,
            rx_mode_dirty: AtomicBool::new(false),
        }))
    }

    /// Sends one command and waits for the device's answer. `EINVAL` if the device
    /// refused it, `EIO` if the queue broke, `ETIMEDOUT` if the device did not
    /// answer within [`TIMEOUT_MS`] (or still owes the answer to an earlier command),
    /// `ENODEV` while the device sleeps. Process context.
    pub fn send(&self, class: u8, cmd: u8, data: &[u8]) -> Result {
        let mut guard = self.q.lock();
        let q = &mut *guard;
        // The device sleeps (see `take_vq`).
        let vq = q.vq.as_mut().ok_or(ENODEV)?;
        // Late answers to commands that timed out: dropped. While one is still owed,
        // the device is not answering: fail at once rather than wait again and fill
        // the ring with commands it will never see.
        while q.unanswered > 0 && vq.get_buf().is_some() {
            q.unanswered = q.unanswered.saturating_sub(1);
        }
        if q.unanswered > 0 {
            return Err(etimedout());
        }
        let msg = CtrlMsg::new(class, cmd, data)?;
        vq.add(msg, Gfp::Kernel).map_err(|(e, _)| e)?;
        if vq.kick_prepare() {
            vq.notify();
        }
        // Nothing else is in the ring: what comes back is this command.
        let (msg, _written) = vq.wait_buf(TIMEOUT_MS).inspect_err(|e| {
            if *e == etimedout() {
                q.unanswered = q.unanswered.saturating_add(1);
                crate::log_err!(
                    "%s: control queue: no answer to command %llu.%llu in %llu ms; failing it, and further commands until the device answers\n",
                    &*self.name,
                    class,
                    cmd,
                    TIMEOUT_MS,
                );
            }
        })?;
        if ctrl_cmd::acked(msg.ack()) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// Takes the queue out for system sleep (the device was reset: nothing it still
    /// owes will come); commands fail with `ENODEV` until [`Ctrl::put_vq`].
    pub fn take_vq(&self) -> Option<Virtqueue<CtrlMsg>> {
        let mut q = self.q.lock();
        q.unanswered = 0;
        q.vq.take()
    }

    /// Puts the (new) queue back after system sleep.
    pub fn put_vq(&self, vq: Virtqueue<CtrlMsg>) {
        self.q.lock().vq = Some(vq);
    }

    /// Notes that the receive mode changed; the caller schedules the deferred work.
    pub fn mark_rx_mode(&self) {
        self.rx_mode_dirty.store(true, Ordering::Release);
    }

    /// Whether a receive-mode update is pending (and takes it).
    pub fn take_rx_mode(&self) -> bool {
        self.rx_mode_dirty.swap(false, Ordering::AcqRel)
    }
}

/// Sends the interface's receive mode to the device (CTRL_RX): promiscuous and
/// all-multicast flags, then the unicast and multicast filter table, as the in-tree
/// `virtnet_rx_mode_work()` does. Failures are logged; the interface keeps working
/// with whatever filter the device had.
pub fn apply_rx_mode(dev: &NetDev<VirtNet>, c: &Ctrl) {
    let vn = dev.data();
    if !vn.features.has(features::CTRL_RX) {
        return;
    }
    let (Ok(mut uc), Ok(mut mc)) = (
        crate::abstractions::zeroed_vec(6 * MAX_FILTER_ENTRIES),
        crate::abstractions::zeroed_vec(6 * MAX_FILTER_ENTRIES),
    ) else {
        crate::log_warn!("%s: no memory for the receive filter\n", dev.name());
        return;
    };
    let lists = dev.rx_mode(&mut uc, &mut mc);
    let mode = ctrl_cmd::rx_mode(
        lists.promisc,
        lists.allmulti,
        lists.n_uc,
        lists.n_mc,
        MAX_FILTER_ENTRIES,
    );
    for (cmd, on, what) in [
        (ctrl_cmd::RX_PROMISC, mode.promisc, c"promiscuous"),
        (ctrl_cmd::RX_ALLMULTI, mode.allmulti, c"all-multicast"),
    ] {
        if c.send(ctrl_cmd::CLASS_RX, cmd, &[u8::from(on)]).is_err() {
            crate::log_warn!(
                "%s: device refused to %s %s mode\n",
                dev.name(),
                if on { c"enable" } else { c"disable" },
                what
            );
        }
    }
    let n_uc = lists.n_uc.min(MAX_FILTER_ENTRIES);
    let n_mc = lists.n_mc.min(MAX_FILTER_ENTRIES);
    let Ok(mut table) = crate::abstractions::zeroed_vec(ctrl_cmd::mac_table_len(n_uc, n_mc)) else {
        crate::log_warn!("%s: no memory for the MAC filter table\n", dev.name());
        return;
    };
    if ctrl_cmd::write_mac_table(&mut table, &uc[..6 * n_uc], &mc[..6 * n_mc])
        && c.send(ctrl_cmd::CLASS_MAC, ctrl_cmd::MAC_TABLE_SET, &table)
            .is_err()
    {
        crate::log_warn!(
            "%s: device refused the MAC filter table (%llu unicast, %llu multicast)\n",
            dev.name(),
            n_uc,
            n_mc
        );
    }
}
