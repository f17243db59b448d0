//! Runs that survive restarts: [`Checkpoint`]s and the [`Journal`].
//!
//! Restoring is never a transition, and nothing restored is trusted: a
//! checkpoint is refused unless it was taken under the table compiled in
//! now (its [`StateMachine::FINGERPRINT`]), and [`Journal::replay`] checks
//! every line against that table.
//!
//! Times are serde's own `SystemTime` form, `{"secs_since_epoch": u64,
//! "nanos_since_epoch": u32}`: exact to the nanosecond, no time zone.

mod hex;
mod journal;
mod migrate;
mod replay;

use core::fmt::{self, Display};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::{StateKind, StateMachine};

pub use journal::Journal;
pub use replay::{ReplayError, ReplayErrorKind, Replayed};

/// The largest `seq` a run reaches: what a store row's version holds
/// (`i64::MAX`). A checkpoint or journal past it was edited; refusing it
/// keeps `seq + 1` from ever wrapping.
pub(crate) const MAX_SEQ: u64 = i64::MAX.unsigned_abs();

/// Everything needed to resume a run where it was: the state, its `seq`,
/// when it was entered, and the state timer with the event it will fire.
///
/// Take one with [`RunnerHandle::checkpoint`](crate::RunnerHandle::checkpoint),
/// store it (it is serde when `S` and `E` are), and resume with
/// [`Runner::restore`](crate::Runner::restore).
///
/// # What is trusted
///
/// A checkpoint is a value you keep, not evidence: [`Checkpoint::verify`]
/// (which `restore` runs) refuses one of another machine, another table
/// (fingerprint), a terminal state or a `seq` no run reaches, and the
/// state's own `Deserialize` checks its fields; nothing else. An edited
/// checkpoint whose state is any other non-terminal state of the table, or
/// whose `seq` is lower, restores as written, and a checksum would not stop
/// whoever can rewrite the file from rewriting the checksum too. Where the
/// history must prove itself, keep a [`Journal`]: replay checks every step
/// against the table, and each line's checksum chains to the line before
/// it, so a line edited, removed or moved shows where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint<S, E> {
    /// The machine's name ([`StateMachine::NAME`]).
    pub machine: String,
    /// The table it was taken under ([`StateMachine::FINGERPRINT`]),
    /// written as `"0x…"` hex (a plain number reads too).
    #[serde(with = "hex")]
    pub fingerprint: u64,
    /// The complete state.
    pub state: S,
    /// The run's `seq`: a restored run goes on from here.
    pub seq: u64,
    /// When the state was entered.
    pub entered_at: SystemTime,
    /// The state timer, if one was set.
    pub timer: Option<PendingTimer<E>>,
}

/// A state timer that had not fired when its checkpoint was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PendingTimer<E> {
    /// When it fires, by the wall clock: a restored timer keeps this
    /// deadline, and one that passed while stored fires at once.
    pub at: SystemTime,
    /// The event it fires.
    pub event: E,
}

impl<E> PendingTimer<E> {
    /// A timer firing `event` at `at`.
    pub fn new(at: SystemTime, event: E) -> Self {
        Self { at, event }
    }
}

impl<S: StateMachine, E> Checkpoint<S, E> {
    /// A checkpoint of `state` under the current table, as a run that just
    /// entered it would have (seq `seq`, no timer).
    pub fn new(state: S, seq: u64, entered_at: SystemTime) -> Self {
        Self {
            machine: S::NAME.to_owned(),
            fingerprint: S::FINGERPRINT,
            state,
            seq,
            entered_at,
            timer: None,
        }
    }

    /// With a pending state timer.
    #[must_use]
    pub fn with_timer(mut self, timer: PendingTimer<E>) -> Self {
        self.timer = Some(timer);
        self
    }

    /// Checks that the checkpoint was taken by this machine under the table
    /// compiled in now.
    ///
    /// # Errors
    ///
    /// [`RestoreError::ForeignMachine`] if it names another machine,
    /// [`RestoreError::TableChanged`] if its fingerprint differs (migrate it
    /// first), [`RestoreError::Terminal`] if its state is terminal (that
    /// run has completed), [`RestoreError::SeqExhausted`] if its `seq`
    /// leaves no room for another step.
    pub fn verify(&self) -> Result<(), RestoreError<S::Kind>> {
        if self.machine != S::NAME {
            return Err(RestoreError::ForeignMachine {
                expected: S::NAME,
                found: self.machine.clone(),
            });
        }
        if self.fingerprint != S::FINGERPRINT {
            return Err(RestoreError::TableChanged {
                saved: self.fingerprint,
                current: S::FINGERPRINT,
            });
        }
        let kind = self.state.kind();
        if S::is_terminal(kind) {
            return Err(RestoreError::Terminal { state: kind });
        }
        if self.seq >= MAX_SEQ {
            return Err(RestoreError::SeqExhausted { seq: self.seq });
        }
        Ok(())
    }
}

impl<S, E> Checkpoint<S, E> {
    /// Accepts a checkpoint taken under another table: maps its state into
    /// the machine `T` of now and stamps it with `T`'s name and fingerprint.
    /// This is the only way a changed table accepts an old checkpoint; the
    /// seq, the entry time and the timer are kept.
    ///
    /// `S` need not be a machine: deserialize an old checkpoint into a copy
    /// of the old enum (or any type) and map it here.
    ///
    /// # Examples
    ///
    /// ```
    /// use statewright::{state_machine, Checkpoint, StateMachine};
    ///
    /// #[state_machine]
    /// #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
    /// enum Door {
    ///     #[initial]
    ///     #[to(Open)]
    ///     Closed,
    ///     #[to(Closed, Ajar)]
    ///     Open,
    ///     #[to(Closed)]
    ///     Ajar, // new in this release
    /// }
    ///
    /// # fn main() {
    /// let old: Checkpoint<Door, ()> = serde_json::from_str(
    ///     r#"{"machine":"Door","fingerprint":1,"state":"Open","seq":7,
    ///         "entered_at":{"secs_since_epoch":0,"nanos_since_epoch":0},"timer":null}"#,
    /// ).unwrap();
    /// assert!(old.verify().is_err()); // another table
    /// let migrated = old.migrate(|door: Door| door);
    /// assert!(migrated.verify().is_ok());
    /// assert_eq!((migrated.seq, migrated.fingerprint), (7, Door::FINGERPRINT));
    /// # }
    /// ```
    pub fn migrate<T: StateMachine>(self, f: impl FnOnce(S) -> T) -> Checkpoint<T, E> {
        Checkpoint {
            machine: T::NAME.to_owned(),
            fingerprint: T::FINGERPRINT,
            state: f(self.state),
            seq: self.seq,
            entered_at: self.entered_at,
            timer: self.timer,
        }
    }
}

/// Why [`Runner::restore`](crate::Runner::restore) refused a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RestoreError<K> {
    /// The checkpoint belongs to another machine.
    ForeignMachine {
        /// This machine's name.
        expected: &'static str,
        /// The name in the checkpoint.
        found: String,
    },
    /// The checkpoint was taken under another table; accept it only through
    /// [`Checkpoint::migrate`].
    TableChanged {
        /// The fingerprint in the checkpoint.
        saved: u64,
        /// The fingerprint of the table compiled in now.
        current: u64,
    },
    /// The checkpoint's state is terminal: the run it came from has completed.
    Terminal {
        /// That state.
        state: K,
    },
    /// The checkpoint's `seq` is at the largest a run may reach
    /// (`i64::MAX`, what a store row holds): an edited checkpoint, since no
    /// run counts that far, and one that would soon repeat a `seq`.
    SeqExhausted {
        /// That `seq`.
        seq: u64,
    },
}

impl<K: StateKind> Display for RestoreError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ForeignMachine { expected, found } => write!(
                f,
                "checkpoint of machine `{found}` cannot restore a `{expected}`"
            ),
            Self::TableChanged { saved, current } => write!(
                f,
                "checkpoint of `{}` was taken under another table (fingerprint {saved:#018x}, now {current:#018x}); migrate it with `Checkpoint::migrate`",
                K::MACHINE
            ),
            Self::Terminal { state } => write!(
                f,
                "checkpoint of `{}` is in terminal state `{state}`: its run has completed",
                K::MACHINE
            ),
            Self::SeqExhausted { seq } => write!(
                f,
                "checkpoint of `{}` is at seq {seq}, past the largest a run reaches ({MAX_SEQ})",
                K::MACHINE
            ),
        }
    }
}

impl<K: StateKind> std::error::Error for RestoreError<K> {}
