//! The lies the device can tell, armed from the control socket, and what it told.
//!
//! A fault is armed for a number of occurrences (frames received or transmitted,
//! interrupts, or seconds for a stall) and consumed as the data path meets them.

use std::time::{Duration, Instant};

/// One kind of lie.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// RX used length larger than every buffer of the chain together (+4096).
    RxLenOver,
    /// RX used length shorter than the virtio-net header (5 bytes).
    RxLenShort,
    /// RX used length 0.
    RxLenZero,
    /// `num_buffers` far above the ring size (4000).
    RxNumBufBig,
    /// `num_buffers` 0.
    RxNumBufZero,
    /// `num_buffers` 3 on a frame that fits one buffer: the next frames are taken
    /// as its continuation (or are missing).
    RxNumBufOver,
    /// A gso_type no virtio spec defines (0x33).
    RxGsoBadType,
    /// GSO TCPv4 with gso_size 0.
    RxGsoNoSize,
    /// GSO TCPv4 on a frame too short for its headers.
    RxGsoShort,
    /// NEEDS_CSUM with csum_start beyond the frame.
    RxCsumOut,
    /// RX used id beyond the ring (never posted).
    RxBadId,
    /// TX used id beyond the ring (never posted).
    TxBadId,
    /// TX used length 0xffff_ffff (drivers must ignore TX lengths).
    TxLenHuge,
    /// No TX completion (nor TX processing) for N seconds.
    TxStall,
    /// N interrupts on both queues with nothing in the used rings.
    IrqStorm,
}

impl Fault {
    pub const ALL: [(&'static str, Fault); 15] = [
        ("rx_len_over", Fault::RxLenOver),
        ("rx_len_short", Fault::RxLenShort),
        ("rx_len_zero", Fault::RxLenZero),
        ("rx_nbuf_big", Fault::RxNumBufBig),
        ("rx_nbuf_zero", Fault::RxNumBufZero),
        ("rx_nbuf_over", Fault::RxNumBufOver),
        ("rx_gso_bad_type", Fault::RxGsoBadType),
        ("rx_gso_no_size", Fault::RxGsoNoSize),
        ("rx_gso_short", Fault::RxGsoShort),
        ("rx_csum_out", Fault::RxCsumOut),
        ("rx_bad_id", Fault::RxBadId),
        ("tx_bad_id", Fault::TxBadId),
        ("tx_len_huge", Fault::TxLenHuge),
        ("tx_stall", Fault::TxStall),
        ("irq_storm", Fault::IrqStorm),
    ];

    pub fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.iter().find(|(n, _)| *n == name).map(|&(_, f)| f)
    }

    pub fn name(self) -> &'static str {
        Fault::ALL
            .iter()
            .find(|&&(_, f)| f == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

/// What is armed and what was done, shared by the control thread and the data path.
#[derive(Default)]
pub struct Faults {
    /// The armed RX lie and how many more frames it applies to.
    pub rx: Option<(Fault, u32)>,
    /// The armed TX lie (bad id, huge length) and how many more completions.
    pub tx: Option<(Fault, u32)>,
    /// TX is stalled until then.
    pub tx_stall_until: Option<Instant>,
    /// Interrupts still to raise for an `irq_storm`.
    pub storm: u32,
    /// Lies told so far, by kind.
    pub told: Vec<(Fault, u64)>,
    /// Honest traffic: frames delivered to the driver, frames it sent.
    pub rx_frames: u64,
    pub tx_frames: u64,
}

impl Faults {
    /// Arms `fault` for `count` occurrences.
    pub fn arm(&mut self, fault: Fault, count: u32) {
        match fault {
            Fault::TxStall => {
                self.tx_stall_until = Some(Instant::now() + Duration::from_secs(count.into()))
            }
            Fault::IrqStorm => self.storm = count,
            Fault::TxBadId | Fault::TxLenHuge => self.tx = Some((fault, count)),
            _ => self.rx = Some((fault, count)),
        }
    }

    /// One more frame for the driver: the armed RX lie to tell about it, if any
    /// (counted as told).
    pub fn next_rx(&mut self) -> Option<Fault> {
        self.rx_frames += 1;
        let lie = Self::take(&mut self.rx);
        lie.inspect(|&l| self.told(l))
    }

    /// One more completion of a frame the driver sent: the armed TX lie, if any.
    pub fn next_tx(&mut self) -> Option<Fault> {
        self.tx_frames += 1;
        let lie = Self::take(&mut self.tx);
        lie.inspect(|&l| self.told(l))
    }

    fn take(slot: &mut Option<(Fault, u32)>) -> Option<Fault> {
        let (f, n) = slot.as_mut()?;
        let f = *f;
        *n -= 1;
        if *n == 0 {
            *slot = None;
        }
        Some(f)
    }

    /// Records that `fault` was told once more.
    pub fn told(&mut self, fault: Fault) {
        match self.told.iter_mut().find(|(f, _)| *f == fault) {
            Some((_, n)) => *n += 1,
            None => self.told.push((fault, 1)),
        }
    }

    pub fn tx_stalled(&mut self) -> bool {
        match self.tx_stall_until {
            Some(t) if Instant::now() < t => true,
            Some(_) => {
                self.tx_stall_until = None;
                false
            }
            None => false,
        }
    }

    /// One line for the control socket: traffic and lies told.
    pub fn report(&self) -> String {
        let mut s = format!("rx_frames={} tx_frames={}", self.rx_frames, self.tx_frames);
        for (f, n) in &self.told {
            s += &format!(" {}={}", f.name(), n);
        }
        s
    }
}
