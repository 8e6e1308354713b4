// SPDX-License-Identifier: GPL-2.0

//! Receive-side scaling (RSS) and hash reports (HASH_REPORT): the hash types, key
//! and indirection table that ethtool shows and changes, and the commands that hand
//! them to the device.
//!
//! With RSS the device picks each packet's receive queue from the indirection table
//! by a Toeplitz hash, and is told the whole state with `VIRTIO_NET_CTRL_MQ_RSS_CONFIG`
//! (which also sets the number of queue pairs). With hash reports alone it only
//! computes the hash for the header, configured with `HASH_CONFIG`.
//!
//! Unlike the in-tree driver, `rxhash` (offered only with HASH_REPORT, the one way
//! a hash reaches the stack) decides only whether received packets carry the hash:
//! switching it off does not switch RSS steering off with it.

use super::VirtNet;
use crate::abstractions::{ethtool, netdev::NetDev, rss_key_fill, virtio};
use crate::logic::ctrl_cmd;
use crate::logic::features::{self, config_offset, Features};
use crate::logic::log_format::Describe;
use crate::logic::rss_config::{self, MAX_KEY_LEN};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{new_mutex, prelude::*, sync::Mutex};

/// What ethtool changes; every change is made under the RTNL lock, the mutex makes
/// it visible to the readers that run under it too.
struct State {
    /// Hash types asked for (`ethtool -N rx-flow-hash`), within `Rss::supported`.
    types: u32,
    /// The hash key, `Rss::key_len` bytes of it (the system's RSS key at first).
    key: [u8; MAX_KEY_LEN],
    /// The indirection table, a power of two long with RSS, empty without.
    table: KVec<u16>,
    /// Queue pairs in use, sent as `max_tx_vq` with each RSS_CONFIG.
    pairs: u16,
}

/// The RSS and hash-report state of a device that has either feature.
#[pin_data]
pub struct Rss {
    #[pin]
    state: Mutex<State>,
    /// RSS steers packets: negotiated, and the device took the first RSS_CONFIG.
    /// Outside the mutex so that NAPI can read it; it changes only at start and
    /// after system sleep.
    steering: AtomicBool,
    /// Hash types the device supports (without the IPv6 extension-header ones).
    supported: u32,
    /// Bytes of the key (`rss_max_key_size`).
    key_len: usize,
}

impl Rss {
    /// The state of a device that negotiated RSS or HASH_REPORT (`None` otherwise),
    /// from its config space: the parameters were checked before negotiation
    /// (`rss_config::restrict`), so they are usable here. All supported hash types are on
    /// at first and, with RSS, the table spreads packets over `pairs` queues.
    pub fn new(vdev: &virtio::Device, pairs: u16) -> Result<Option<Pin<KBox<Self>>>> {
        let f = Features(vdev.features());
        if !f.has(features::RSS) && !f.has(features::HASH_REPORT) {
            return Ok(None);
        }
        let key_len = rss_config::key_len(vdev.read_config_u8(config_offset::RSS_MAX_KEY_SIZE))
            .map_err(|_| EINVAL)?;
        let table_len = if f.has(features::RSS) {
            rss_config::table_len(
                vdev.read_config_u16(config_offset::RSS_MAX_INDIRECTION_TABLE_LENGTH),
            )
            .ok_or(EINVAL)?
        } else {
            0
        };
        let supported = rss_config::default_hash_types(
            vdev.read_config_u32(config_offset::SUPPORTED_HASH_TYPES),
        );
        let mut table = crate::abstractions::zeroed_vec(table_len)?;
        rss_config::fill_default_table(&mut table, pairs);
        let mut key = [0u8; MAX_KEY_LEN];
        rss_key_fill(&mut key[..key_len]);
        let state = State {
            types: supported,
            key,
            table,
            pairs,
        };
        Ok(Some(KBox::pin_init(
            pin_init!(Self {
                state <- new_mutex!(state, "virtio_net_rust::rss"),
                steering: AtomicBool::new(f.has(features::RSS)),
                supported,
                key_len,
            }),
            GFP_KERNEL,
        )?))
    }

    /// Tells the device the state `s`: RSS_CONFIG with RSS; otherwise HASH_CONFIG,
    /// with the hash types only if `hash_on` (no hash is wanted while `rxhash` is
    /// off, so the device is asked to compute none).
    fn commit(&self, vn: &VirtNet, s: &State, hash_on: bool) -> Result {
        let c = vn.ctrl.as_ref().ok_or(EINVAL)?;
        // `key_len` is at most the key's size (probe); a longer one is refused below.
        let key = s.key.get(..self.key_len).ok_or(EINVAL)?;
        if self.steering() {
            let mut cfg = crate::abstractions::zeroed_vec(rss_config::rss_config_len(
                s.table.len(),
                key.len(),
            ))?;
            if !rss_config::write_rss_config(&mut cfg, s.types, &s.table, s.pairs, key) {
                return Err(EINVAL);
            }
            c.send(ctrl_cmd::CLASS_MQ, rss_config::MQ_RSS_CONFIG, &cfg)
        } else {
            let types = if hash_on { s.types } else { 0 };
            let mut cfg = [0u8; rss_config::HASH_CONFIG_MAX_LEN];
            let len = rss_config::write_hash_config(&mut cfg, types, key).ok_or(EINVAL)?;
            c.send(ctrl_cmd::CLASS_MQ, rss_config::MQ_HASH_CONFIG, &cfg[..len])
        }
    }

    /// At start, before registration: hands RSS to the device with the table over
    /// `pairs` queues, which also sets the number of pairs. Returns whether it did;
    /// if the device refuses, RSS is left off (as the in-tree driver does) and the
    /// caller sets the pairs with `VQ_PAIRS_SET`.
    pub fn start(&self, dev: &NetDev<VirtNet>, pairs: u16) -> bool {
        let vn = dev.data();
        let mut s = self.state.lock();
        if !self.steering() {
            return false;
        }
        rss_config::fill_default_table(&mut s.table, pairs);
        s.pairs = pairs;
        match self.commit(vn, &s, false) {
            Ok(()) => true,
            Err(e) => {
                crate::log_warn!(
                    "%s: device refused the RSS configuration (%pe); RSS disabled\n",
                    dev.name(),
                    e
                );
                self.steering.store(false, Ordering::Relaxed);
                false
            }
        }
    }

    /// After system sleep (the device was reset): sends the state in use again, the
    /// RSS configuration (table, key, hash types and pairs) or, with hash reports
    /// alone, the hash types if `rxhash` is on. `Ok(true)` if RSS set the pairs;
    /// if the device refuses RSS, it is left off as at [`Rss::start`].
    pub fn restore(&self, dev: &NetDev<VirtNet>) -> Result<bool> {
        let vn = dev.data();
        let s = self.state.lock();
        if !self.steering() {
            if vn.rx_hash.load(Ordering::Relaxed) {
                self.commit(vn, &s, true)?;
            }
            return Ok(false);
        }
        self.commit(vn, &s, false)
            .inspect_err(|_| self.steering.store(false, Ordering::Relaxed))?;
        Ok(true)
    }

    /// The number of queue pairs changes to `n` (`ethtool -L`). With RSS the
    /// change goes to the device as an RSS configuration with `max_tx_vq` `n`
    /// (`Some` with the result; on failure nothing changes): the default table is
    /// spread over the `n` queues, a table the user set is kept (the ethtool core
    /// refuses `-L` below a queue it names). Without RSS `None`: the caller sets the
    /// pairs with `VQ_PAIRS_SET`.
    ///
    /// The in-tree driver sends `VQ_PAIRS_SET` when the user set the table, which
    /// switches a device back to automatic steering (virtio 1.2 5.1.6.5.5; QEMU's
    /// `virtio_net_handle_mq()` disables RSS on it) while ethtool still shows the
    /// user's table.
    pub fn follow_pairs(&self, dev: &NetDev<VirtNet>, n: u16) -> Option<Result> {
        let mut s = self.state.lock();
        if !self.steering() {
            return None;
        }
        let configured = dev.rxfh_configured();
        // The core checked this through `get_rxfh`; a table naming a queue that goes
        // away would steer packets to a ring nobody polls.
        if configured && s.table.iter().any(|&q| q >= n) {
            return Some(Err(EINVAL));
        }
        // A table the user set stays as it is: only `max_tx_vq` changes.
        let old_table = if configured {
            None
        } else {
            let mut table = match crate::abstractions::zeroed_vec(s.table.len()) {
                Ok(t) => t,
                Err(e) => return Some(Err(e.into())),
            };
            rss_config::fill_default_table(&mut table, n);
            Some(core::mem::replace(&mut s.table, table))
        };
        let old_pairs = core::mem::replace(&mut s.pairs, n);
        let r = self.commit(dev.data(), &s, false);
        if r.is_err() {
            if let Some(t) = old_table {
                s.table = t;
            }
            s.pairs = old_pairs;
        }
        Some(r)
    }

    /// Whether RSS steers packets (negotiated, and the device took it).
    pub fn steering(&self) -> bool {
        self.steering.load(Ordering::Relaxed)
    }

    /// `ethtool -K rxhash`: with RSS the device already hashes every packet it
    /// steers and reports it, and only the receive path changes; with hash reports
    /// alone the device is asked for the hash types, or for none.
    pub fn set_rx_hash(&self, dev: &NetDev<VirtNet>, on: bool) -> Result {
        let vn = dev.data();
        let s = self.state.lock();
        if !on {
            vn.rx_hash.store(false, Ordering::Relaxed);
        }
        if !self.steering() {
            self.commit(vn, &s, on).inspect_err(|_| {
                crate::log_warn!(
                    "%s: device refused hash types %#llx\n",
                    dev.name(),
                    if on { s.types } else { 0 }
                )
            })?;
        }
        vn.rx_hash.store(on, Ordering::Relaxed);
        Ok(())
    }

    /// `ethtool -x`: bytes of the key.
    pub fn key_size(&self) -> u32 {
        self.key_len as u32
    }

    /// `ethtool -x`: entries of the table (0 without RSS, or once the device
    /// refused it).
    pub fn table_size(&self) -> u32 {
        let s = self.state.lock();
        if self.steering() {
            s.table.len() as u32
        } else {
            0
        }
    }

    /// `ethtool -x`: the table and the key, Toeplitz.
    pub fn get_rxfh(&self, indir: Option<&mut [u32]>, key: Option<&mut [u8]>) -> u8 {
        let s = self.state.lock();
        if let Some(indir) = indir {
            for (d, &e) in indir.iter_mut().zip(s.table.iter()) {
                *d = u32::from(e);
            }
        }
        if let Some(key) = key {
            for (d, &b) in key.iter_mut().zip(s.key.iter().take(self.key_len)) {
                *d = b;
            }
        }
        ethtool::RSS_HASH_TOP
    }

    /// `ethtool -X`: a new table (RSS only) or key. The device is told at once
    /// (with hash reports alone, only while it hashes); if it refuses, nothing
    /// changes and the error is returned (the in-tree driver keeps the refused
    /// values and reports success).
    pub fn set_rxfh(
        &self,
        dev: &NetDev<VirtNet>,
        hfunc: u8,
        indir: Option<&[u32]>,
        key: Option<&[u8]>,
    ) -> Result {
        if hfunc != ethtool::RSS_HASH_NO_CHANGE && hfunc != ethtool::RSS_HASH_TOP {
            return Err(crate::abstractions::eopnotsupp());
        }
        let vn = dev.data();
        let mut s = self.state.lock();
        let mut table = KVec::new();
        if let Some(indir) = indir {
            if !self.steering() {
                return Err(crate::abstractions::eopnotsupp());
            }
            table = crate::abstractions::zeroed_vec(s.table.len())?;
            let queues = vn.curr_pairs.load(Ordering::Relaxed);
            rss_config::set_table(&mut table, indir, queues).map_err(|e| {
                let (what, value) = e.describe();
                crate::log_warn!(
                    "%s: indirection table refused: %s %llu\n",
                    dev.name(),
                    what,
                    value
                );
                EINVAL
            })?;
        }
        let old_key = s.key;
        if let Some(key) = key {
            if key.len() != self.key_len {
                return Err(EINVAL);
            }
            s.key
                .get_mut(..key.len())
                .ok_or(EINVAL)?
                .copy_from_slice(key);
        }
        let old_table = if indir.is_some() {
            Some(core::mem::replace(&mut s.table, table))
        } else {
            None
        };
        let hash_on = vn.rx_hash.load(Ordering::Relaxed);
        if self.steering() || hash_on {
            if let Err(e) = self.commit(vn, &s, hash_on) {
                crate::log_warn!("%s: device refused the new RSS settings\n", dev.name());
                s.key = old_key;
                if let Some(t) = old_table {
                    s.table = t;
                }
                return Err(e);
            }
        }
        Ok(())
    }

    /// `ethtool -n rx-flow-hash`: the fields `flow` is hashed over.
    pub fn flow_hash(&self, flow: u32) -> u64 {
        rss_config::flow_hash_fields(self.state.lock().types, flow)
    }

    /// `ethtool -N rx-flow-hash`: new hash types, told to the device at once
    /// (with hash reports alone, only while it hashes).
    pub fn set_flow_hash(&self, dev: &NetDev<VirtNet>, flow: u32, fields: u64) -> Result {
        let vn = dev.data();
        let mut s = self.state.lock();
        let types =
            rss_config::set_flow_hash(s.types, self.supported, flow, fields).map_err(|e| {
                let (what, value) = e.describe();
                crate::log_info!(
                    "%s: rx-flow-hash refused: %s %#llx\n",
                    dev.name(),
                    what,
                    value
                );
                EINVAL
            })?;
        if types == s.types {
            return Ok(());
        }
        let old = core::mem::replace(&mut s.types, types);
        let hash_on = vn.rx_hash.load(Ordering::Relaxed);
        if self.steering() || hash_on {
            if let Err(e) = self.commit(vn, &s, hash_on) {
                crate::log_warn!("%s: device refused hash types %#llx\n", dev.name(), types);
                s.types = old;
                return Err(e);
            }
        }
        Ok(())
    }
}
