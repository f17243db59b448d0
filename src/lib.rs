#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use statewright_macros::state_machine;
pub use statewright_runtime::*;
