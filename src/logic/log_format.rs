// SPDX-License-Identifier: GPL-2.0

//! The format strings of the driver's log lines, checked against the values given.
//!
//! Log lines go to the kernel's `_printk` with a C format string and one 64-bit slot
//! per value (`abstractions::log`), as a C driver prints: `core::fmt` cost about 190
//! bytes of code per message (argument tables, formatting trait objects, `Debug`
//! impls), 7 KB for the driver's 38. A C format read with the wrong types is
//! undefined behaviour, so every string is checked here, against the kinds of the
//! values, each time before it is printed (log lines are rare: probe, refusals,
//! the first few bad packets).

/// What a value of a log line is, which says the one conversion it is printed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An unsigned 64-bit integer: `%llu`, `%llx` or `%#llx`.
    Int,
    /// A NUL-terminated string: `%s`.
    Str,
    /// A kernel error code as an error pointer: `%pe` (`-EINVAL`, or `-22` without
    /// `CONFIG_SYMBOLIC_ERRNAME`).
    Err,
    /// A pointer to a 6-byte MAC address: `%pM`.
    Mac,
}

/// Most values a log line takes.
pub const MAX_ARGS: usize = 12;

/// Whether `fmt` (a format string without its NUL) has exactly one conversion per
/// value of `kinds`, in order, each one its kind is printed with; `%%` prints a `%`.
/// Anything else after a `%` (widths, other lengths, other `%p` extensions, a `%p`
/// conversion followed by a letter or digit, which `printk` would read as part of
/// it) fails, as do more than [`MAX_ARGS`] values.
pub fn check(fmt: &[u8], kinds: impl IntoIterator<Item = Kind>) -> bool {
    let mut kinds = kinds.into_iter();
    let mut n = 0;
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        match conversion(fmt, i) {
            Conv::Percent => i += 2,
            Conv::Value(kind, len) => {
                n += 1;
                if n > MAX_ARGS || kinds.next() != Some(kind) {
                    return false;
                }
                i += 1 + len;
            }
            Conv::Bad => return false,
        }
    }
    kinds.next().is_none()
}

/// The number of conversions in `fmt` if each is one [`check`] knows (and a `%p`
/// one is not followed by a letter or digit), else `None`. A `const fn`: the log
/// macros compare it with the number of values they are given when the module is
/// compiled; [`check`] compares the kinds when the line is printed.
pub const fn conversions(fmt: &[u8]) -> Option<usize> {
    let mut n = 0;
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        match conversion(fmt, i) {
            Conv::Percent => i += 2,
            Conv::Value(_, len) => {
                n += 1;
                i += 1 + len;
            }
            Conv::Bad => return None,
        }
    }
    Some(n)
}

/// What the `%` at `fmt[i]` starts.
enum Conv {
    /// `%%`: a `%`, no value.
    Percent,
    /// A conversion of a value of this kind, this many bytes long after the `%`.
    Value(Kind, usize),
    /// Anything else (see [`check`]).
    Bad,
}

/// The one table of the conversions [`check`] and [`conversions`] know.
const fn conversion(fmt: &[u8], i: usize) -> Conv {
    let next = (
        at(fmt, i + 1),
        at(fmt, i + 2),
        at(fmt, i + 3),
        at(fmt, i + 4),
    );
    match next {
        (b'%', _, _, _) => Conv::Percent,
        (b'l', b'l', b'u' | b'x', _) => Conv::Value(Kind::Int, 3),
        (b'#', b'l', b'l', b'x') => Conv::Value(Kind::Int, 4),
        (b's', _, _, _) => Conv::Value(Kind::Str, 1),
        // printk reads letters and digits after `%p<x>` as part of the conversion.
        (b'p', _, c, _) if c.is_ascii_alphanumeric() => Conv::Bad,
        (b'p', b'e', _, _) => Conv::Value(Kind::Err, 2),
        (b'p', b'M', _, _) => Conv::Value(Kind::Mac, 2),
        _ => Conv::Bad,
    }
}

/// `fmt[i]`, or 0 past its end.
const fn at(fmt: &[u8], i: usize) -> u8 {
    if i < fmt.len() {
        fmt[i]
    } else {
        0
    }
}

/// What a log line says of an error: its kind, and the value it concerns (0 when
/// none).
pub trait Describe {
    /// The error's kind, in words, and its value.
    fn describe(&self) -> (&'static core::ffi::CStr, u64);
}
