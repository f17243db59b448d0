#![doc = include_str!("../README.md")]

pub use statewright_macros::state_machine;
pub use statewright_runtime::*;
