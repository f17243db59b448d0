//! [`StoreError`]: what a store operation can fail with.

use core::fmt::{self, Display};

use crate::{EventError, StateKind, TransitionError};

/// An error of the database itself (connection, I/O, SQL), boxed.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a store operation failed; nothing was changed.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError<K: 'static> {
    /// No machine has this id.
    NotFound {
        /// The id.
        id: String,
    },
    /// A machine already has this id.
    AlreadyExists {
        /// The id.
        id: String,
    },
    /// Another writer moved the machine first (compare-and-set on the version).
    Stale {
        /// The id.
        id: String,
        /// The version the caller expected.
        expected: u64,
        /// The version it has.
        actual: u64,
    },
    /// The machine is not of the kind the caller expected (`transition_from`).
    WrongState {
        /// The id.
        id: String,
        /// The kind the caller expected.
        expected: K,
        /// The kind it has.
        actual: K,
    },
    /// The table has no such edge.
    Illegal(TransitionError<K>),
    /// The machine's state does not accept the event (`fire`).
    NotAccepted(EventError<K>),
    /// A stored row that no longer fits the table: it does not decode, or
    /// it was written under another table (another fingerprint).
    Decode {
        /// The id (or the outbox position) of the row.
        id: String,
        /// What was wrong.
        message: String,
    },
    /// The database failed.
    Backend(BackendError),
}

impl<K: StateKind> Display for StoreError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = K::MACHINE;
        match self {
            Self::NotFound { id } => write!(f, "no `{machine}` with id `{id}`"),
            Self::AlreadyExists { id } => write!(f, "a `{machine}` with id `{id}` already exists"),
            Self::Stale {
                id,
                expected,
                actual,
            } => write!(
                f,
                "`{machine}` `{id}` is at version {actual}, not {expected}: another writer moved it first"
            ),
            Self::WrongState {
                id,
                expected,
                actual,
            } => write!(f, "`{machine}` `{id}` is `{actual}`, not `{expected}`"),
            Self::Illegal(error) => Display::fmt(error, f),
            Self::NotAccepted(error) => Display::fmt(error, f),
            Self::Decode { id, message } => {
                write!(f, "stored `{machine}` `{id}` does not fit the table: {message}")
            }
            Self::Backend(error) => {
                write!(f, "store backend failed: {error}")?;
                // Drivers often say only "db error" at the top; the cause is below.
                let mut cause = error.source();
                while let Some(inner) = cause {
                    write!(f, ": {inner}")?;
                    cause = inner.source();
                }
                Ok(())
            }
        }
    }
}

impl<K: StateKind> std::error::Error for StoreError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Backend(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

/// A driver's error as [`StoreError::Backend`].
pub(crate) fn backend<K, E: std::error::Error + Send + Sync + 'static>(error: E) -> StoreError<K> {
    StoreError::Backend(Box::new(error))
}
