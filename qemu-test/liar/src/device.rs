//! The virtio-net data path of the lying device: one queue pair, mergeable RX
//! buffers, guest checksum and TSO offered so that lies about them are lies the
//! driver negotiated. Honest by default; the armed fault bends one value of the
//! next frames or completions.

use std::collections::VecDeque;
use std::io::{self, Result};
use std::sync::atomic::{fence, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use vhost::vhost_user::message::{VhostUserProtocolFeatures, VhostUserVirtioFeatures};
use vhost_user_backend::{VhostUserBackendMut, VringRwLock, VringT};
use virtio_queue::{DescriptorChain, Queue, QueueT};
use vm_memory::{
    Bytes, GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryLoadGuard,
    GuestMemoryMmap,
};
use vmm_sys_util::epoll::EventSet;
use vmm_sys_util::eventfd::EventFd;

use crate::faults::{Fault, Faults};
use crate::frames;

const RX: usize = 0;
const TX: usize = 1;
/// Event id of the control thread's wake-up eventfd (ids up to the queue count
/// are the library's).
pub const WAKE: u16 = 3;
/// `struct virtio_net_hdr_mrg_rxbuf`: VERSION_1 always uses it.
const HDR_LEN: usize = 12;
/// Frames waiting for RX buffers beyond this are dropped, as a NIC would.
const PENDING_MAX: usize = 512;

const VIRTIO_NET_F_GUEST_CSUM: u64 = 1 << 1;
const VIRTIO_NET_F_GUEST_TSO4: u64 = 1 << 7;
const VIRTIO_NET_F_GUEST_TSO6: u64 = 1 << 8;
const VIRTIO_NET_F_MRG_RXBUF: u64 = 1 << 15;
const VIRTIO_F_VERSION_1: u64 = 1 << 32;

type Mem = GuestMemoryLoadGuard<GuestMemoryMmap>;

pub struct Liar {
    mem: Option<GuestMemoryAtomic<GuestMemoryMmap>>,
    /// Answers waiting for RX buffers.
    pending: VecDeque<Vec<u8>>,
    faults: Arc<Mutex<Faults>>,
    wake: EventFd,
}

impl Liar {
    pub fn new(faults: Arc<Mutex<Faults>>, wake: EventFd) -> Self {
        Liar {
            mem: None,
            pending: VecDeque::new(),
            faults,
            wake,
        }
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Consumes what the driver transmitted: answers go to `pending`, buffers
    /// are returned (or lied about) unless TX is stalled.
    fn process_tx(&mut self, mem: &Mem, vring: &VringRwLock) -> Result<()> {
        if self.faults().tx_stalled() {
            return Ok(());
        }
        let mut done = 0;
        loop {
            let Some(chain) = pop_chain(vring, mem) else {
                break;
            };
            let head = chain.head_index();
            let mut buf = Vec::new();
            for d in chain.filter(|d| !d.is_write_only()) {
                let mut b = vec![0; (d.len() as usize).min(65536 + HDR_LEN - buf.len())];
                mem.read_slice(&mut b, d.addr()).map_err(io::Error::other)?;
                buf.extend_from_slice(&b);
            }
            if let Some(r) = buf.get(HDR_LEN..).and_then(frames::answer) {
                if self.pending.len() < PENDING_MAX {
                    self.pending.push_back(r);
                }
            }
            let lie = self.faults().next_tx();
            let mut st = vring.get_mut();
            let q = st.get_queue_mut();
            match lie {
                Some(Fault::TxBadId) => add_used_raw(q, mem, u32::from(q.size()) + 7, 0)?,
                Some(Fault::TxLenHuge) => add_used(q, mem, head, u32::MAX)?,
                _ => add_used(q, mem, head, 0)?,
            }
            done += 1;
        }
        if done > 0 {
            signal(vring)?;
        }
        Ok(())
    }

    /// Delivers pending answers into posted RX buffers, one buffer per frame
    /// (they are small), bending the armed RX value.
    fn flush_rx(&mut self, mem: &Mem, vring: &VringRwLock) -> Result<()> {
        let mut done = 0;
        while !self.pending.is_empty() {
            let Some(chain) = pop_chain(vring, mem) else {
                break;
            };
            let frame = self.pending.pop_front().unwrap_or_default();
            let head = chain.head_index();
            let bufs: Vec<(GuestAddress, usize)> = chain
                .filter(|d| d.is_write_only())
                .map(|d| (d.addr(), d.len() as usize))
                .collect();
            let cap: usize = bufs.iter().map(|b| b.1).sum();
            let lie = self.faults().next_rx();
            let (hdr, frame) = header(lie, frame);
            let mut data = hdr.to_vec();
            data.extend_from_slice(&frame);
            data.truncate(cap);
            let mut off = 0;
            for (addr, len) in &bufs {
                if off == data.len() {
                    break;
                }
                let n = (*len).min(data.len() - off);
                mem.write_slice(&data[off..off + n], *addr)
                    .map_err(io::Error::other)?;
                off += n;
            }
            let len = match lie {
                Some(Fault::RxLenOver) => cap as u32 + 4096,
                Some(Fault::RxLenShort) => 5,
                Some(Fault::RxLenZero) => 0,
                _ => data.len() as u32,
            };
            let mut st = vring.get_mut();
            let q = st.get_queue_mut();
            if lie == Some(Fault::RxBadId) {
                add_used_raw(q, mem, u32::from(q.size()) + 7, len)?;
            } else {
                add_used(q, mem, head, len)?;
            }
            done += 1;
        }
        if done > 0 {
            signal(vring)?;
        }
        Ok(())
    }

    /// Interrupts with nothing new in either used ring.
    fn storm(&mut self, vrings: &[VringRwLock]) -> Result<()> {
        let n = std::mem::take(&mut self.faults().storm);
        for _ in 0..n {
            for v in vrings {
                v.signal_used_queue()?;
            }
            // Spaced, so that they are separate interrupts rather than one eventfd count.
            std::thread::sleep(Duration::from_micros(200));
        }
        let mut f = self.faults();
        for _ in 0..n {
            f.told(Fault::IrqStorm);
        }
        Ok(())
    }
}

/// The virtio-net header for `frame`, and the frame, as the armed lie makes them.
fn header(lie: Option<Fault>, mut frame: Vec<u8>) -> ([u8; HDR_LEN], Vec<u8>) {
    const NEEDS_CSUM: u8 = 1;
    const GSO_TCPV4: u8 = 1;
    let mut h = [0u8; HDR_LEN];
    let mut num_buffers: u16 = 1;
    // flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers
    let mut set = |flags: u8, gso: u8, hdr_len: u16, gso_size: u16, start: u16, off: u16| {
        h[0] = flags;
        h[1] = gso;
        h[2..4].copy_from_slice(&hdr_len.to_le_bytes());
        h[4..6].copy_from_slice(&gso_size.to_le_bytes());
        h[6..8].copy_from_slice(&start.to_le_bytes());
        h[8..10].copy_from_slice(&off.to_le_bytes());
    };
    match lie {
        Some(Fault::RxNumBufBig) => num_buffers = 4000,
        Some(Fault::RxNumBufZero) => num_buffers = 0,
        Some(Fault::RxNumBufOver) => num_buffers = 3,
        Some(Fault::RxGsoBadType) => set(NEEDS_CSUM, 0x33, 54, 1400, 34, 16),
        Some(Fault::RxGsoNoSize) => set(NEEDS_CSUM, GSO_TCPV4, 54, 0, 34, 16),
        Some(Fault::RxGsoShort) => {
            set(NEEDS_CSUM, GSO_TCPV4, 54, 1000, 34, 16);
            frame.truncate(30);
        }
        Some(Fault::RxCsumOut) => set(NEEDS_CSUM, 0, 0, 0, 2000, 6),
        _ => {}
    }
    h[10..12].copy_from_slice(&num_buffers.to_le_bytes());
    (h, frame)
}

/// The next descriptor chain the driver made available, if any.
fn pop_chain(vring: &VringRwLock, mem: &Mem) -> Option<DescriptorChain<Mem>> {
    vring
        .get_mut()
        .get_queue_mut()
        .pop_descriptor_chain(mem.clone())
}

fn add_used(q: &mut Queue, mem: &Mem, head: u16, len: u32) -> Result<()> {
    q.add_used(&**mem, head, len)
        .map_err(|e| io::Error::other(format!("{e:?}")))
}

/// A used element with any id, which `Queue::add_used` refuses to write.
fn add_used_raw(q: &mut Queue, mem: &Mem, id: u32, len: u32) -> Result<()> {
    let next = q.next_used();
    let ring = q.used_ring();
    let elem = GuestAddress(ring + 4 + u64::from(next % q.size()) * 8);
    mem.write_obj(id.to_le(), elem).map_err(io::Error::other)?;
    mem.write_obj(len.to_le(), GuestAddress(elem.0 + 4))
        .map_err(io::Error::other)?;
    fence(Ordering::Release);
    let next = next.wrapping_add(1);
    mem.store(next.to_le(), GuestAddress(ring + 2), Ordering::Release)
        .map_err(io::Error::other)?;
    q.set_next_used(next);
    Ok(())
}

fn signal(vring: &VringRwLock) -> Result<()> {
    if vring
        .needs_notification()
        .map_err(|e| io::Error::other(format!("{e:?}")))?
    {
        vring.signal_used_queue()?;
    }
    Ok(())
}

impl VhostUserBackendMut for Liar {
    type Bitmap = ();
    type Vring = VringRwLock;

    fn num_queues(&self) -> usize {
        2
    }

    fn max_queue_size(&self) -> usize {
        1024
    }

    fn features(&self) -> u64 {
        VIRTIO_F_VERSION_1
            | VIRTIO_NET_F_MRG_RXBUF
            | VIRTIO_NET_F_GUEST_CSUM
            | VIRTIO_NET_F_GUEST_TSO4
            | VIRTIO_NET_F_GUEST_TSO6
            // QEMU's vhost-user net fails to start without it (it enables rings
            // with SET_VRING_ENABLE, and sends that before SET_FEATURES: see
            // vhost-user-backend-early-enable.patch).
            | VhostUserVirtioFeatures::PROTOCOL_FEATURES.bits()
    }

    fn protocol_features(&self) -> VhostUserProtocolFeatures {
        VhostUserProtocolFeatures::empty()
    }

    fn reset_device(&mut self) {
        self.pending.clear();
    }

    fn set_event_idx(&mut self, _enabled: bool) {}

    fn update_memory(&mut self, mem: GuestMemoryAtomic<GuestMemoryMmap>) -> Result<()> {
        self.mem = Some(mem);
        Ok(())
    }

    fn handle_event(
        &mut self,
        event: u16,
        _evset: EventSet,
        vrings: &[VringRwLock],
        _thread: usize,
    ) -> Result<()> {
        let Some(mem) = self.mem.as_ref().map(|m| m.memory()) else {
            return Ok(());
        };
        if event == WAKE {
            let _ = self.wake.read();
            self.storm(vrings)?;
        }
        if event as usize == TX || event == WAKE {
            self.process_tx(&mem, &vrings[TX])?;
        }
        self.flush_rx(&mem, &vrings[RX])
    }
}
