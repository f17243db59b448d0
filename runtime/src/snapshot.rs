//! What watchers and recorders see: the current [`Snapshot`], each
//! [`Transition`], each [`Rejection`], a handler's [`Step`] and the run's
//! [`Outcome`].
//!
//! Both, and [`Status`], are serde types when the state is: times are
//! serde's own `SystemTime` form, `{"secs_since_epoch": u64,
//! "nanos_since_epoch": u32}`, exact to the nanosecond and independent of
//! time zones; kinds are the kind enum's names.

use core::fmt::{self, Display};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::{StateKind, StateMachine, TransitionError};

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
    /// Ended by its fleet for now: the machine stays in the store and is
    /// activated again by its next event or due timer.
    Passivated,
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

/// What the handler decided for one event.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Step<S> {
    /// Move to this state, if the table has the edge.
    To(S),
    /// Keep the state; apply the `Cx` requests.
    Stay,
    /// Replace the current state's data without a transition (same kind).
    Update(S),
    /// Refuse the event; nothing changes.
    Reject(String),
    /// End the run with `Outcome::Stopped`.
    Stop,
}

impl<S> Step<S> {
    /// Move to `next`, if the table has the edge.
    pub fn to(next: S) -> Self {
        Self::To(next)
    }

    /// Keep the state.
    #[must_use]
    pub fn stay() -> Self {
        Self::Stay
    }

    /// Replace the current state's data; `next` must be of the same kind.
    pub fn update(next: S) -> Self {
        Self::Update(next)
    }

    /// Refuse the event with a reason for the sender and recorders.
    pub fn reject(reason: impl Into<String>) -> Self {
        Self::Reject(reason.into())
    }

    /// End the run.
    #[must_use]
    pub fn stop() -> Self {
        Self::Stop
    }
}

/// How a run ended; given to `Recorder::on_finish` and returned by `join`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome<S> {
    /// A `#[terminal]` state was entered; here it is.
    Completed(S),
    /// Stopped by `stop`, `Step::stop`, or every handle being dropped; the last state.
    Stopped(S),
    /// The handler panicked.
    Crashed {
        /// The panic message.
        message: String,
    },
    /// The task was dropped or the runtime shut down.
    Aborted,
    /// A durable run's store refused or failed a write (`Runner::persist`,
    /// with a store feature): another writer moved the machine first, so
    /// it owns it now, or the store is unreachable. The run stopped rather
    /// than act on a state it could not save; the store holds the truth.
    Lost {
        /// Why the write failed.
        message: String,
    },
    /// Passivated by its fleet (idle, asked to, or shut down): not an
    /// end of the machine, which stays in the store as it was, its timer
    /// with it. Recorders see [`on_passivate`](crate::Recorder::on_passivate),
    /// not `on_finish`.
    Passivated(S),
}

/// A short description: `Completed(Done)`, `Stopped(Idle)`, `Crashed: boom`,
/// `Aborted` (the state by its kind).
impl<S: StateMachine> fmt::Display for Outcome<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Completed(state) => write!(f, "Completed({})", state.kind()),
            Self::Stopped(state) => write!(f, "Stopped({})", state.kind()),
            Self::Crashed { message } => write!(f, "Crashed: {message}"),
            Self::Aborted => f.write_str("Aborted"),
            Self::Lost { message } => write!(f, "Lost: {message}"),
            Self::Passivated(state) => write!(f, "Passivated({})", state.kind()),
        }
    }
}

/// A `Step::update` whose new state is of another kind: an update replaces
/// the current state's data and never moves the machine.
///
/// ```text
/// update in `Job` must keep the kind: `Idle` -> `Running` is a transition; return `Step::to`
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KindChanged<K: 'static> {
    from: K,
    to: K,
}

impl<K: StateKind> KindChanged<K> {
    pub(crate) fn new(from: K, to: K) -> Self {
        Self { from, to }
    }

    /// The machine's name.
    #[must_use]
    pub fn machine(&self) -> &'static str {
        K::MACHINE
    }

    /// The kind of the current state (which it still is).
    #[must_use]
    pub fn from(&self) -> K {
        self.from
    }

    /// The kind the update asked for.
    #[must_use]
    pub fn to(&self) -> K {
        self.to
    }
}

impl<K: StateKind> Display for KindChanged<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "update in `{}` must keep the kind: `{}` -> `{}` is a transition; return `Step::to`",
            K::MACHINE,
            self.from,
            self.to
        )
    }
}

impl<K: StateKind> std::error::Error for KindChanged<K> {}

/// Why an event changed nothing, as told to recorders.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection<K: 'static> {
    /// The handler's `Step::to` has no edge in the table.
    Illegal(TransitionError<K>),
    /// The handler's `Step::update` changes the kind.
    KindChanged(KindChanged<K>),
    /// The handler returned `Step::reject(reason)`.
    Refused {
        /// The handler's reason.
        reason: String,
    },
}

impl<K: StateKind> Display for Rejection<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal(error) => Display::fmt(error, f),
            Self::KindChanged(error) => Display::fmt(error, f),
            Self::Refused { reason } => write!(f, "refused: {reason}"),
        }
    }
}
