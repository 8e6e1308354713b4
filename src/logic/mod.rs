// SPDX-License-Identifier: GPL-2.0

//! Pure logic of the driver: no `kernel::` dependency, no `unsafe`.
//!
//! These files are compiled into the module (as `crate::logic`) and, unchanged, into the
//! host crate in `host-tests/` for `cargo test` and property tests. Everything that
//! interprets values written by the device lives here, so that it can be tested
//! against every malformed input on the host.

#![forbid(unsafe_code)]

pub mod coalesce;
pub mod ctrl_cmd;
pub mod features;
pub mod hdr;
pub mod log_format;
pub mod mac;
pub mod rss_config;
pub mod rx_buf;
pub mod stats_names;
pub mod vq_names;
pub mod wire;
pub mod xdp;
