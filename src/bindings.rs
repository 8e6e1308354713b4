// SPDX-License-Identifier: GPL-2.0

//! The module's own bindings, generated at build time by Kbuild from
//! `bindings_helper.h` with the kernel's bindgen flags (never committed).

#![allow(
    dead_code,
    improper_ctypes,
    missing_docs,
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::all,
    clippy::undocumented_unsafe_blocks
)]

use kernel::ffi;

// The kernel blocklists these in bindgen and defines them by hand.
type __kernel_size_t = usize;
type __kernel_ssize_t = isize;
type __kernel_ptrdiff_t = isize;

include!("bindings_generated.rs");
