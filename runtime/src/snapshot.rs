//! What watchers see: the current [`Snapshot`] and each [`Transition`].
//!
//! Both, and [`Status`], are serde types when the state is: times are
//! serde's own `SystemTime` form, `{"secs_since_epoch": u64,
//! "nanos_since_epoch": u32}`, exact to the nanosecond and independent of
//! time zones; kinds are the kind enum's names.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::StateMachine;

/// Where a runner is in its own life (not the machine's state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Status {
    /// Handling events.
    Running,
    /// Holding events and timer firings until `resume`.
    Paused,
    /// Ended in a `#[terminal]` state.
    Completed,
    /// Ended by `stop` (or a `Step::stop`, or every handle being dropped).
    Stopped,
    /// Ended because the handler panicked.
    Crashed,
    /// Ended because its task was dropped or the runtime shut down.
    Aborted,
    /// Ended because its store refused or failed a write (a durable run).
    Lost,
}

impl Status {
    /// Whether the run has ended.
    #[must_use]
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Running | Self::Paused)
    }
}

/// Everything a watcher that arrives late needs, without asking the runner.
///
/// Read it with [`RunnerHandle::snapshot`](crate::RunnerHandle::snapshot) or
/// follow it with [`RunnerHandle::watch`](crate::RunnerHandle::watch). It is
/// updated **before** the sender of the event that changed it gets its reply.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, S::Kind: Serialize",
    deserialize = "S: Deserialize<'de>, S::Kind: Deserialize<'de>"
))]
#[non_exhaustive]
pub struct Snapshot<S: StateMachine> {
    /// The complete current state.
    pub state: S,
    /// Its kind.
    pub kind: S::Kind,
    /// Rises by exactly one per change (transition or update); 0 at start.
    pub seq: u64,
    /// When the current state was entered (an update does not re-enter).
    pub entered_at: SystemTime,
    /// When the state timer fires, if one is set.
    pub timeout_at: Option<SystemTime>,
    /// Whether the runner is running, paused or finished.
    pub status: Status,
}

/// One change of state, as broadcast to subscribers and given to recorders.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(
    serialize = "S: Serialize, S::Kind: Serialize",
    deserialize = "S: Deserialize<'de>, S::Kind: Deserialize<'de>"
))]
#[non_exhaustive]
pub struct Transition<S: StateMachine> {
    /// The snapshot's `seq` after this change.
    pub seq: u64,
    /// The kind before the change.
    pub from: S::Kind,
    /// The complete new state.
    pub to: S,
    /// `true` for `Step::update`: the data changed, the state was not re-entered.
    pub update: bool,
    /// The `Debug` text of the event that caused it.
    pub event: String,
    /// When it happened.
    pub at: SystemTime,
    /// When the new state's timer fires, if one is set.
    pub timeout_at: Option<SystemTime>,
}
