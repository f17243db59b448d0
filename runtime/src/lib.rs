//! The runtime of [statewright](https://docs.rs/statewright): the [`StateMachine`]
//! trait that `#[state_machine]` implements, its typed errors, the
//! [`TransitionTo`] trait behind typestate transitions, and (with the
//! `runner` feature) the `runner`: a machine run as a tokio task with
//! checked steps, one state timer, watchers and `recorder`s.
//!
//! Depend on the `statewright` facade rather than on this crate directly.

#[doc(hidden)]
pub mod __private;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod fleet;
#[cfg(feature = "runner")]
mod handler;
mod machine;
pub mod paths;
#[cfg(feature = "runner")]
pub mod persist;
#[cfg(feature = "runner")]
pub mod recorder;
#[cfg(feature = "runner")]
pub mod runner;
#[cfg(feature = "runner")]
mod snapshot;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod store;

pub use machine::{
    Edge, EventError, Fire, StateKind, StateMachine, TransitionError, TransitionTo, Typestate,
    WrongState,
};
#[cfg(feature = "runner")]
pub use persist::{Checkpoint, Journal, PendingTimer, ReplayError, Replayed, RestoreError};
#[cfg(feature = "runner")]
pub use recorder::{Recorder, TracingRecorder, Transcript};
#[cfg(feature = "runner")]
pub use runner::{
    Applied, Cx, FireHandler, Handler, Outcome, Rejection, Runner, RunnerError, RunnerHandle, Step,
};
#[cfg(feature = "runner")]
pub use snapshot::{Snapshot, Status, Transition};
