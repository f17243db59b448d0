//! What generated code needs from the runtime. Not API: it may change in any release.

pub use core;

#[cfg(feature = "serde")]
mod kind_serde;
#[cfg(feature = "serde")]
pub use kind_serde::deserialize_kind;
#[cfg(feature = "serde")]
pub use serde;

/// Emits the serde impls that generated code wraps in it when the `serde`
/// feature is on, and nothing when it is off: the feature is statewright's,
/// but the generated code is compiled in the user's crate.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __statewright_with_serde {
    ($($item:tt)*) => { $($item)* };
}

/// See above: the `serde` feature is off.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __statewright_with_serde {
    ($($item:tt)*) => {};
}

pub use crate::__statewright_with_serde as with_serde;

/// A target no state can reach (it has no values).
///
/// Every type gets the typestate module's hidden edge trait (which has no
/// methods) for `NoTarget`, so no typestate ever has exactly one edge. Without this, rustc would
/// infer the target of `a.to(b)` from a lone edge and report an illegal `b`
/// as a type mismatch instead of with the machine's message. (Never a
/// blanket impl of `TransitionTo`: it would put the trait's `to` on every
/// type, `TransitionError` included.)
#[derive(Debug, Clone, Copy)]
pub enum NoTarget {}

impl crate::Typestate for NoTarget {
    type Machine = NoTarget;
}
