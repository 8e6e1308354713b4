// SPDX-License-Identifier: GPL-2.0

//! Tests of the log lines' format check: a C format string reaches `_printk` only
//! if every conversion reads the value it was given.

use proptest::prelude::*;
use virtio_net_rust_logic::log_format::{check, conversions, Kind, MAX_ARGS};

use Kind::{Err, Int, Mac, Str};

#[test]
fn formats_of_the_driver_pass() {
    assert!(check(b"\x014virtio_net_rust: %s: no memory yet\n", [Str]));
    assert!(check(
        b"%s: device MTU %llu is below %llu; ignoring it\n",
        [Str, Int, Int]
    ));
    assert!(check(b"%s: refused MAC %pM (%pe)\n", [Str, Mac, Err]));
    assert!(check(b"%s: features %#llx, 100%% %llx\n", [Str, Int, Int]));
    assert!(check(b"no conversion at all\n", []));
}

#[test]
fn mismatches_fail() {
    // Wrong kind, order, count.
    assert!(!check(b"%s %llu\n", [Int, Str]));
    assert!(!check(b"%s\n", [Str, Str]));
    assert!(!check(b"%s %s\n", [Str]));
    assert!(!check(b"%llu\n", [Mac]));
    // Conversions outside the set: a width, another length, a plain %p, %d.
    for fmt in [
        &b"%5s"[..],
        b"%lu",
        b"%u",
        b"%d",
        b"%p",
        b"%px",
        b"%x",
        b"%.*s",
    ] {
        assert!(!check(fmt, [Str]) && !check(fmt, [Int]), "{fmt:?}");
    }
    // A %p extension that printk would read further: `%pMR`, `%pe1`.
    assert!(!check(b"%pMR", [Mac]));
    assert!(!check(b"%pe1", [Err]));
    // A lone % at the end.
    assert!(!check(b"ends with %", []));
}

#[test]
fn at_most_max_args() {
    let fmt = b"%llu ".repeat(MAX_ARGS);
    assert!(check(&fmt, [Int; MAX_ARGS]));
    let fmt = b"%llu ".repeat(MAX_ARGS + 1);
    assert!(!check(&fmt, [Int; MAX_ARGS + 1]));
}

/// printk's reading of `fmt`: the kinds its conversions consume, or `None` for one
/// outside the checked set. A second implementation, by another method (a state
/// machine fed one byte at a time), to test `check` against.
fn consumed(fmt: &[u8]) -> Option<Vec<Kind>> {
    #[derive(Clone, Copy)]
    enum St {
        Text,
        Percent,
        Hash,
        L(bool),
        Ll(bool),
        P,
        PExt,
    }
    let mut out = Vec::new();
    let mut st = St::Text;
    for &b in fmt {
        st = match (st, b) {
            (St::Text, b'%') => St::Percent,
            (St::Text, _) => St::Text,
            (St::Percent, b'%') => St::Text,
            (St::Percent, b'#') => St::Hash,
            (St::Percent, b'l') => St::L(false),
            (St::Hash, b'l') => St::L(true),
            (St::L(h), b'l') => St::Ll(h),
            (St::Ll(false), b'u' | b'x') | (St::Ll(true), b'x') => {
                out.push(Int);
                St::Text
            }
            (St::Percent, b's') => {
                out.push(Str);
                St::Text
            }
            (St::Percent, b'p') => St::P,
            (St::P, b'e') => {
                out.push(Err);
                St::PExt
            }
            (St::P, b'M') => {
                out.push(Mac);
                St::PExt
            }
            (St::PExt, c) if c.is_ascii_alphanumeric() => return None,
            (St::PExt, b'%') => St::Percent,
            (St::PExt, _) => St::Text,
            _ => return None,
        };
    }
    match st {
        St::Text | St::PExt => Some(out),
        _ => None,
    }
}

/// What the formats of the property test are made of: printf's pieces, whole, so
/// that conversions come up often.
const TOKENS: &[&[u8]] = &[
    b"%", b"%%", b"ll", b"l", b"u", b"x", b"#", b"s", b"p", b"e", b"M", b"R", b"d", b" ", b"5",
    b".", b"*", // and whole conversions, right and nearly right:
    b"%llu", b"%llx", b"%#llx", b"%#llu", b"%lu", b"%s", b"%pe", b"%pM", b"%pMR", b"%p",
];

fn any_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Int), Just(Str), Just(Err), Just(Mac)]
}

proptest! {
    /// On any string over printf's alphabet and any kinds: `check` passes exactly
    /// when printk would consume those kinds, in order.
    #[test]
    fn check_agrees_with_printk_reading(
        fmt in proptest::collection::vec(
            proptest::sample::select(TOKENS),
            0..16,
        )
        .prop_map(|t| t.concat()),
        kinds in proptest::collection::vec(any_kind(), 0..4),
    ) {
        let expected = consumed(&fmt).is_some_and(|k| k == kinds && k.len() <= MAX_ARGS);
        prop_assert_eq!(check(&fmt, kinds.iter().copied()), expected);
    }

    /// The compile-time count agrees with printk's reading, and `check` passes with
    /// that many values of the right kinds only.
    #[test]
    fn conversions_agree_with_printk_reading(
        fmt in proptest::collection::vec(proptest::sample::select(TOKENS), 0..16)
            .prop_map(|t| t.concat()),
    ) {
        let read = consumed(&fmt);
        prop_assert_eq!(conversions(&fmt), read.as_ref().map(Vec::len));
        if let Some(kinds) = read.filter(|k| k.len() <= MAX_ARGS) {
            prop_assert!(check(&fmt, kinds));
        }
    }

    /// A format built from the kinds always passes.
    #[test]
    fn built_formats_pass(kinds in proptest::collection::vec(any_kind(), 0..=MAX_ARGS)) {
        let mut fmt = b"x".to_vec();
        for k in &kinds {
            fmt.extend_from_slice(match k {
                Int => b" %llu",
                Str => b" %s",
                Err => b" (%pe)",
                Mac => b" %pM.",
            });
        }
        prop_assert!(check(&fmt, kinds.iter().copied()));
    }
}
