// SPDX-License-Identifier: GPL-2.0

//! virtio_net_rust: a virtio-net front-end driver written in Rust.
//!
//! The crate has four layers, each in its own place:
//! - [`bindings`]: this module's own bindgen output and C helpers (`helpers.c`);
//! - [`abstractions`]: safe types over virtio, net_device, NAPI, sk_buff, ethtool —
//!   the only code with `unsafe`;
//! - [`driver`]: probe/remove, RX, TX, ethtool — no `unsafe` at all;
//! - [`logic`]: pure functions with no `kernel::` dependency, also built on the host.

// The layers are modules of one crate: `pub` marks each layer's interface to the
// layer above, not an export.
#![allow(unreachable_pub)]

mod abstractions;
mod bindings;
#[cfg(vnr_doc_examples)]
#[rustfmt::skip] // Generated: scripts/doc-examples.py.
mod doc_examples;
mod driver;
mod logic;
mod uapi_check;

use driver::VirtioNetModule;
use kernel::prelude::*;

module! {
    type: VirtioNetModule,
    name: "virtio_net_rust",
    author: "virtio_net_rust developers",
    description: "virtio-net front-end driver in Rust",
    license: "GPL",
}

// The module's device table, read by modpost so that udev autoloads the module for
// virtio-net devices (`MODULE_DEVICE_TABLE(virtio, ...)`).
crate::virtio_device_table!(
    __mod_virtio__virtio_net_rust_device_table,
    [abstractions::virtio::device_id(bindings::VIRTIO_ID_NET)]
);

// The pure-logic config offsets must match the C layout.
/// `version=` in the module's `.modinfo` section (what `modinfo -F version` and DKMS
/// read): the 6.12 `module!` macro has no version field. The same as `ethtool -i`.
#[link_section = ".modinfo"]
#[used]
static MODINFO_VERSION: [u8; MODINFO_VERSION_LEN] = modinfo_version();

const MODINFO_VERSION_KEY: &[u8] = b"version=";
const MODINFO_VERSION_LEN: usize = MODINFO_VERSION_KEY.len() + driver::DRIVER_VERSION.len() + 1;

/// `version=<DRIVER_VERSION>\0`, built at compile time.
const fn modinfo_version() -> [u8; MODINFO_VERSION_LEN] {
    let mut out = [0u8; MODINFO_VERSION_LEN];
    let mut i = 0;
    while i < MODINFO_VERSION_KEY.len() {
        out[i] = MODINFO_VERSION_KEY[i];
        i += 1;
    }
    let mut j = 0;
    while j < driver::DRIVER_VERSION.len() {
        out[i + j] = driver::DRIVER_VERSION[j];
        j += 1;
    }
    out
}
