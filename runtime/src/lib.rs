//! The runtime of [statewright](https://docs.rs/statewright): the [`StateMachine`]
//! trait that `#[state_machine]` implements, its typed errors, the
//! [`TransitionTo`] trait behind typestate transitions, and the [`runner`]:
//! a machine run as a tokio task with checked steps, one state timer,
//! watchers and [`recorder`]s.
//!
//! Depend on the `statewright` facade rather than on this crate directly.

#[doc(hidden)]
pub mod __private;
mod machine;
pub mod recorder;
pub mod runner;
mod snapshot;

pub use machine::{
    Edge, EventError, Fire, StateMachine, TransitionError, TransitionTo, Typestate, WrongState,
};
pub use recorder::{Recorder, TracingRecorder, Transcript};
pub use runner::{
    Applied, Cx, FireHandler, Handler, Outcome, Rejection, Runner, RunnerError, RunnerHandle, Step,
};
pub use snapshot::{Snapshot, Status, Transition};
