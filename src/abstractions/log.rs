// SPDX-License-Identifier: GPL-2.0

//! Log lines printed as C prints them: a C format string and the values, to
//! `_printk`.
//!
//! The kernel crate's `pr_*!` macros format through `core::fmt`: per message an
//! argument table, a formatting function per value and the `Debug` impls behind
//! them, about 190 bytes of code each (7 KB for this driver's 38 messages, more than
//! its XDP support). Here a message costs what `printk` costs a C driver: a call,
//! the values in slots. A format's conversions are counted against its values when
//! the module is compiled (`logic::log_format::conversions`, a const fn) and checked
//! against their kinds each time before `_printk` reads them (`log_format::check`).
//!
//! # Examples
//!
//! ```ignore
//! # fn f(name: &kernel::str::CStr, mtu: u16, mac: &[u8; 6], e: kernel::error::Error) {
//! crate::log_warn!("%s: device MTU %llu is below 68\n", name, mtu);
//! crate::log_err!("%s: device refused MAC %pM (%pe)\n", name, mac, e);
//! # }
//! ```

use crate::bindings;
use crate::logic::log_format::{self, Kind, MAX_ARGS};
use core::marker::PhantomData;
use kernel::error::Error;
use kernel::str::CStr;

/// One value of a log line: its kind and its 64-bit slot.
///
/// # Invariants
///
/// For [`Kind::Str`] the slot is the address of a NUL-terminated string, for
/// [`Kind::Mac`] the address of 6 bytes, both valid for `'a`; for [`Kind::Err`] it is
/// `ERR_PTR(-errno)` of a kernel error code.
#[derive(Clone, Copy)]
pub struct Arg<'a> {
    kind: Kind,
    slot: u64,
    _borrow: PhantomData<&'a ()>,
}

impl Arg<'_> {
    fn int(v: u64) -> Self {
        // INVARIANT: Integers have no invariant.
        Self {
            kind: Kind::Int,
            slot: v,
            _borrow: PhantomData,
        }
    }
}

macro_rules! int_args {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(v: $t) -> Self {
                Self::int(v as u64)
            }
        }
    )*};
}
int_args!(u8, u16, u32, u64, usize);

impl<'a> From<&'a CStr> for Arg<'a> {
    fn from(s: &'a CStr) -> Self {
        // INVARIANT: A `CStr` is NUL-terminated and borrowed for `'a`.
        Self {
            kind: Kind::Str,
            slot: s.as_char_ptr() as u64,
            _borrow: PhantomData,
        }
    }
}

impl<'a> From<&'a core::ffi::CStr> for Arg<'a> {
    fn from(s: &'a core::ffi::CStr) -> Self {
        // INVARIANT: As above.
        Self {
            kind: Kind::Str,
            slot: s.as_ptr() as u64,
            _borrow: PhantomData,
        }
    }
}

impl<'a> From<&'a [u8; 6]> for Arg<'a> {
    fn from(mac: &'a [u8; 6]) -> Self {
        // INVARIANT: Six bytes borrowed for `'a`.
        Self {
            kind: Kind::Mac,
            slot: mac.as_ptr() as u64,
            _borrow: PhantomData,
        }
    }
}

impl From<Error> for Arg<'_> {
    fn from(e: Error) -> Self {
        // INVARIANT: `to_errno` is negative, in -MAX_ERRNO..0 (the `Error` type's own
        // invariant), so its two's complement is `ERR_PTR(errno)`.
        Self {
            kind: Kind::Err,
            slot: i64::from(e.to_errno()) as u64,
            _borrow: PhantomData,
        }
    }
}

/// The module's name, which every line starts with (the first `%s` of each format:
/// one copy of it instead of one per format string).
const PREFIX: &core::ffi::CStr = c"virtio_net_rust";

/// Prints `fmt` (a `printk` format: its level, `%s: ` for the module's name, the
/// message) with the module's name and `args`, or, if they do not match (a bug in the
/// caller), a line saying so and the format itself.
///
/// Use [`log_err!`](crate::log_err), [`log_warn!`](crate::log_warn) or
/// [`log_info!`](crate::log_info), which write the level and the prefix.
#[cold]
#[inline(never)]
pub fn print(fmt: &'static CStr, args: &[Arg<'_>]) {
    let prefix = Arg::from(PREFIX);
    let all = || core::iter::once(&prefix).chain(args);
    if !log_format::check(fmt.as_bytes(), all().map(|a| a.kind)) {
        // SAFETY: A format with one `%s`, given one NUL-terminated string that lives for
        // the call.
        unsafe {
            bindings::_printk(
                c"\x013virtio_net_rust: bad log format: %s".as_ptr().cast(),
                fmt.as_char_ptr(),
            )
        };
        return;
    }
    let mut s = [0u64; MAX_ARGS];
    for (slot, a) in s.iter_mut().zip(all()) {
        *slot = a.slot;
    }
    let f = fmt.as_char_ptr();
    // Each conversion of `fmt` reads one slot as the type it was passed as: `%llu`/`%llx`
    // a u64; `%s`, `%pM` and `%pe` a pointer, which on the 64-bit targets the kernel's
    // Rust supports goes through `...` as its 64-bit value does (a general register or
    // an 8-byte stack slot), pointing to what `Arg`'s invariants say (`%pe` reads no
    // memory for an error pointer). Slots past the conversions are passed, never read.
    // SAFETY: `fmt` is NUL-terminated, with one conversion per value of `all()`, each
    // the one its kind is printed with, and at most `MAX_ARGS` (checked above).
    unsafe {
        bindings::_printk(
            f, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11],
        )
    };
}

/// Prints a line at `level` (a `KERN_*` prefix as a string literal): the module's
/// name, then `fmt` with `args` (see [`print`]); at most `MAX_ARGS - 1` values.
#[doc(hidden)]
#[macro_export]
macro_rules! log_at {
    ($level:literal, $fmt:literal $(, $a:expr)* $(,)?) => {{
        // When the module is compiled: one known conversion per value (the module's
        // name first), at most `MAX_ARGS`; the kinds are checked as the line prints.
        const _: () = assert!(
            matches!(
                $crate::logic::log_format::conversions(concat!("%s: ", $fmt).as_bytes()),
                Some(n) if n == 1 $(+ $crate::abstractions::log::one(stringify!($a)))*
                    && n <= $crate::logic::log_format::MAX_ARGS
            ),
            concat!("log format and values do not match: ", $fmt)
        );
        $crate::abstractions::log::print(
            ::kernel::c_str!(concat!($level, "%s: ", $fmt)),
            &[$($crate::abstractions::log::Arg::from($a)),*],
        )
    }};
}

/// 1, for each value of a log macro: how it counts them.
#[doc(hidden)]
pub const fn one(_value: &str) -> usize {
    1
}

/// `pr_err`: a C format string (`%s`, `%llu`, `%llx`, `%#llx`, `%pM`, `%pe`) and its
/// values.
#[macro_export]
macro_rules! log_err {
    ($($t:tt)*) => { $crate::log_at!("\x013", $($t)*) };
}

/// `pr_warn`, as [`log_err!`](crate::log_err).
#[macro_export]
macro_rules! log_warn {
    ($($t:tt)*) => { $crate::log_at!("\x014", $($t)*) };
}

/// `pr_info`, as [`log_err!`](crate::log_err).
#[macro_export]
macro_rules! log_info {
    ($($t:tt)*) => { $crate::log_at!("\x016", $($t)*) };
}
