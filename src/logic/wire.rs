// SPDX-License-Identifier: GPL-2.0

//! Building control-queue payloads field by field.
//!
//! A payload written at computed offsets (`out[at..at + 2]`) keeps an overflow
//! check and a bounds check, with their panic paths, at every field; a [`Writer`]
//! hands out the next bytes of the buffer instead, and a field that does not fit
//! is an ordinary `None`.

/// Fills a byte buffer front to back.
pub struct Writer<'a> {
    rest: &'a mut [u8],
}

impl<'a> Writer<'a> {
    /// A writer at the start of `out`.
    pub fn new(out: &'a mut [u8]) -> Self {
        Self { rest: out }
    }

    /// Appends `bytes`; `None` if they do not fit (the writer is then spent).
    pub fn put(&mut self, bytes: &[u8]) -> Option<()> {
        self.next(bytes.len())?.copy_from_slice(bytes);
        Some(())
    }

    /// Appends `n` zero bytes; `None` if they do not fit.
    pub fn zeros(&mut self, n: usize) -> Option<()> {
        self.next(n)?.fill(0);
        Some(())
    }

    /// The next `n` bytes, or `None` (and the writer spent) if fewer are left.
    fn next(&mut self, n: usize) -> Option<&'a mut [u8]> {
        let rest = core::mem::take(&mut self.rest);
        // `split_at_mut_checked` would say this alone, but is newer than the
        // kernel's minimum Rust (1.78).
        if n > rest.len() {
            return None;
        }
        let (head, tail) = rest.split_at_mut(n);
        self.rest = tail;
        Some(head)
    }

    /// Bytes not written yet.
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }
}
