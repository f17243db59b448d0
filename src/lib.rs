#![doc = include_str!("../README.md")]

pub use statewright_macros::state_machine;

#[doc(hidden)]
pub use statewright_runtime::__private;
pub use statewright_runtime::paths;
pub use statewright_runtime::{
    Edge, EventError, Fire, StateKind, StateMachine, TransitionError, TransitionTo, Typestate,
    WrongState,
};

// Named one by one behind this crate's own features (not a glob of the
// runtime's): naming one without its feature is then an error that says
// which feature to enable.
// `store` twice: under `any(sqlite, postgres)` the note would name no
// feature; each of these names one.
#[cfg(feature = "sqlite")]
pub use statewright_runtime::{fleet, store};
#[cfg(all(feature = "postgres", not(feature = "sqlite")))]
pub use statewright_runtime::{fleet, store};
#[cfg(feature = "runtime")]
pub use statewright_runtime::{persist, recorder, runner};
#[cfg(feature = "runtime")]
pub use statewright_runtime::{
    Applied, Checkpoint, Cx, FireHandler, Handler, Journal, Outcome, PendingTimer, Recorder,
    Rejection, ReplayError, Replayed, RestoreError, Runner, RunnerError, RunnerHandle, Snapshot,
    Status, Step, TracingRecorder, Transcript, Transition,
};
