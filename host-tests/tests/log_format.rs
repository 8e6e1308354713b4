// SPDX-License-Identifier: GPL-2.0

//! Tests of the log lines' format check: a C format string reaches `_printk` only
//! if every conversion reads the value it was given.

use proptest::prelude::*;
use virtio_net_rust_logic::log_format::{check, Kind, MAX_ARGS};

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
/// machine over the bytes), to test `check` against.
fn consumed(fmt: &[u8]) -> Option<Vec<Kind>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < fmt.len() {
        if fmt[i] != b'%' {
            i += 1;
            continue;
        }
        let rest = &fmt[i + 1..];
        let (kind, len) = match rest {
            [b'%', ..] => {
                i += 2;
                continue;
            }
            [b'l', b'l', b'u' | b'x', ..] => (Int, 3),
            [b'#', b'l', b'l', b'x', ..] => (Int, 4),
            [b's', ..] => (Str, 1),
            [b'p', b'e', ..] => (Err, 2),
            [b'p', b'M', ..] => (Mac, 2),
            _ => return None,
        };
        if matches!(kind, Err | Mac) && rest.get(len).is_some_and(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        out.push(kind);
        i += 1 + len;
    }
    Some(out)
}

fn any_kind() -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Int), Just(Str), Just(Err), Just(Mac)]
}

proptest! {
    /// On any string over printf's alphabet and any kinds: `check` passes exactly
    /// when printk would consume those kinds, in order.
    #[test]
    fn check_agrees_with_printk_reading(
        fmt in proptest::collection::vec(
            prop_oneof![
                Just(b'%'), Just(b'l'), Just(b'u'), Just(b'x'), Just(b'#'), Just(b's'),
                Just(b'p'), Just(b'e'), Just(b'M'), Just(b'R'), Just(b'd'), Just(b' '),
                Just(b'5'), Just(b'.'), Just(b'*'),
            ],
            0..40,
        ),
        kinds in proptest::collection::vec(any_kind(), 0..4),
    ) {
        let expected = consumed(&fmt).is_some_and(|k| k == kinds && k.len() <= MAX_ARGS);
        prop_assert_eq!(check(&fmt, kinds.iter().copied()), expected);
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
