// SPDX-License-Identifier: GPL-2.0

//! The control virtqueue: receive mode (promiscuous, all-multicast, MAC filter
//! table) and the primary MAC address.
//!
//! Commands run in process context under a mutex and wait for the device's ack by
//! polling the queue, as the in-tree driver does: the device completes them at once
//! (QEMU handles them in the doorbell's VM exit).

use super::VirtNet;
use crate::abstractions::{ctrl_msg::CtrlMsg, netdev::NetDev, virtqueue::Virtqueue, Gfp};
use crate::logic::{ctrl, features};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{new_mutex, prelude::*, sync::Mutex};

/// Addresses of each kind put in the filter table; longer lists fall back to
/// promiscuous or all-multicast mode.
const MAX_FILTER_ENTRIES: usize = 256;

/// The control queue and the state of requests waiting for process context.
#[pin_data]
pub struct Ctrl {
    #[pin]
    vq: Mutex<Virtqueue<CtrlMsg>>,
    /// The receive mode changed and must be sent to the device.
    rx_mode_dirty: AtomicBool,
}

impl Ctrl {
    /// Wraps the control virtqueue.
    pub fn new(vq: Virtqueue<CtrlMsg>) -> impl PinInit<Self> {
        pin_init!(Self {
            vq <- new_mutex!(vq, "virtio_net_rust::ctrl"),
            rx_mode_dirty: AtomicBool::new(false),
        })
    }

    /// Sends one command and waits for the device's answer. `EINVAL` if the device
    /// refused it, `EIO` if the queue broke. Process context.
    pub fn send(&self, class: u8, cmd: u8, data: &[u8]) -> Result {
        let msg = CtrlMsg::new(class, cmd, data)?;
        let mut vq = self.vq.lock();
        vq.add(msg, Gfp::Kernel).map_err(|(e, _)| e)?;
        if vq.kick_prepare() {
            vq.notify();
        }
        let (msg, _written) = vq.wait_buf().ok_or(EIO)?;
        if ctrl::acked(msg.ack()) {
            Ok(())
        } else {
            Err(EINVAL)
        }
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
        KVec::from_elem(0u8, 6 * MAX_FILTER_ENTRIES, GFP_KERNEL),
        KVec::from_elem(0u8, 6 * MAX_FILTER_ENTRIES, GFP_KERNEL),
    ) else {
        pr_warn!("{}: no memory for the receive filter\n", dev.name());
        return;
    };
    let lists = dev.rx_mode(&mut uc, &mut mc);
    let mode = ctrl::rx_mode(
        lists.promisc,
        lists.allmulti,
        lists.n_uc,
        lists.n_mc,
        MAX_FILTER_ENTRIES,
    );
    for (cmd, on, what) in [
        (ctrl::RX_PROMISC, mode.promisc, "promiscuous"),
        (ctrl::RX_ALLMULTI, mode.allmulti, "all-multicast"),
    ] {
        if c.send(ctrl::CLASS_RX, cmd, &[u8::from(on)]).is_err() {
            pr_warn!(
                "{}: device refused to {} {} mode\n",
                dev.name(),
                if on { "enable" } else { "disable" },
                what
            );
        }
    }
    let n_uc = lists.n_uc.min(MAX_FILTER_ENTRIES);
    let n_mc = lists.n_mc.min(MAX_FILTER_ENTRIES);
    let Ok(mut table) = KVec::from_elem(0u8, ctrl::mac_table_len(n_uc, n_mc), GFP_KERNEL) else {
        pr_warn!("{}: no memory for the MAC filter table\n", dev.name());
        return;
    };
    if ctrl::write_mac_table(&mut table, &uc[..6 * n_uc], &mc[..6 * n_mc])
        && c.send(ctrl::CLASS_MAC, ctrl::MAC_TABLE_SET, &table)
            .is_err()
    {
        pr_warn!(
            "{}: device refused the MAC filter table ({} unicast, {} multicast)\n",
            dev.name(),
            n_uc,
            n_mc
        );
    }
}
