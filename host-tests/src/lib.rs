// SPDX-License-Identifier: GPL-2.0

//! The driver's pure logic (`src/logic/`), compiled unchanged on the host so it can
//! be unit-tested, property-tested and fuzzed without a kernel.

#[path = "../../src/logic/mod.rs"]
mod logic;

pub use logic::*;
