//! [`FleetError`]: why a fleet could not do what it was asked.

use core::fmt::{self, Display};
use std::time::SystemTime;

use crate::runner::error::SaveError;
use crate::store::StoreError;
use crate::{RunnerError, StateKind};

/// Why a [`Fleet`](super::Fleet) call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum FleetError<K: 'static> {
    /// No machine is stored under this id.
    NotFound {
        /// The id.
        id: String,
    },
    /// Another fleet (another owner) runs the machine now; its lease ends
    /// at `until` (on the database's clock) unless that owner renews it.
    NotOwner {
        /// The id.
        id: String,
        /// The owner holding the lease.
        owner: String,
        /// When the lease ends unless renewed.
        until: SystemTime,
    },
    /// This fleet's activation of the machine was taken over (its lease
    /// epoch is past): the event was not applied (its step was not saved,
    /// or it waited behind a write that was not), and the activation has
    /// ended. The owner that took it over has the machine now.
    Fenced {
        /// The id.
        id: String,
        /// The epoch this fleet held.
        epoch: u64,
    },
    /// The store failed or refused the call.
    Store(StoreError<K>),
    /// The machine's run refused the event or has ended (see
    /// [`RunnerError`]; a terminal machine's events are `Finished`).
    Runner(RunnerError<K>),
    /// A recorder factory given to [`recorder`](super::FleetBuilder::recorder)
    /// failed for this id; the machine was not activated.
    Recorder {
        /// The id.
        id: String,
        /// What the factory said.
        message: String,
    },
    /// The fleet was shut down: it activates nothing any more.
    ShutDown,
}

impl<K: StateKind> FleetError<K> {
    /// A runner's error, with a fenced write told apart: the store's error
    /// behind `NotSaved` says so.
    pub(crate) fn from_runner(error: RunnerError<K>) -> Self {
        if let RunnerError::NotSaved { error: saved, .. } = &error {
            if let Some(fenced) = Self::fenced_by(saved) {
                return fenced;
            }
        }
        Self::Runner(error)
    }

    /// An event the run ended before handling: `Fenced` if the run ended
    /// because a write of it was fenced (the event waited behind that
    /// write), `Runner(Finished)` otherwise.
    pub(crate) fn unhandled(lost_by: Option<&SaveError>) -> Self {
        lost_by
            .and_then(Self::fenced_by)
            .unwrap_or(Self::Runner(RunnerError::Finished))
    }

    /// `Fenced`, if the store's error behind a failed write is.
    fn fenced_by(saved: &SaveError) -> Option<Self> {
        match saved.downcast_ref::<StoreError<K>>()? {
            &StoreError::Fenced { ref id, epoch } => Some(Self::Fenced {
                id: id.clone(),
                epoch,
            }),
            _ => None,
        }
    }
}

impl<K> From<StoreError<K>> for FleetError<K> {
    fn from(error: StoreError<K>) -> Self {
        match error {
            StoreError::NotFound { id } => Self::NotFound { id },
            StoreError::Fenced { id, epoch } => Self::Fenced { id, epoch },
            error => Self::Store(error),
        }
    }
}

impl<K: StateKind> Display for FleetError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound { id } => write!(f, "no machine with id `{id}` in the fleet's store"),
            Self::NotOwner { id, owner, until } => {
                let left = until
                    .duration_since(SystemTime::now())
                    .unwrap_or_default()
                    .as_millis();
                write!(
                    f,
                    "`{id}` runs in fleet `{owner}`, whose lease ends in {left} ms unless renewed"
                )
            }
            Self::Fenced { id, epoch } => write!(
                f,
                "`{id}` was taken over by another activation: this one's lease (epoch {epoch}) is past"
            ),
            Self::Store(error) => Display::fmt(error, f),
            Self::Runner(error) => Display::fmt(error, f),
            Self::Recorder { id, message } => {
                write!(f, "the recorder for `{id}` could not be made: {message}")
            }
            Self::ShutDown => f.write_str("the fleet was shut down"),
        }
    }
}

impl<K: StateKind> std::error::Error for FleetError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Store(error) => Some(error),
            Self::Runner(error) => Some(error),
            _ => None,
        }
    }
}
