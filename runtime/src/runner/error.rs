//! Errors of the runner, one type per operation: each holds only what its
//! operation can fail with (as tokio's `mpsc` and `broadcast` errors do).
//!
//! | operation | error |
//! |---|---|
//! | [`send`](crate::RunnerHandle::send) | [`RunnerError`] |
//! | [`checkpoint`](crate::RunnerHandle::checkpoint) | [`RunnerError`] (only `Finished`) |
//! | [`post`](crate::RunnerHandle::post) | [`PostError`] (gives the event back) |
//! | [`try_post`](crate::RunnerHandle::try_post) | [`TryPostError`] (gives the event back) |
//! | [`pause`](crate::RunnerHandle::pause), [`resume`](crate::RunnerHandle::resume), [`stop`](crate::RunnerHandle::stop) | [`FinishedError`] |

use core::fmt::{self, Debug, Display};
use std::sync::Arc;

use crate::snapshot::KindChanged;
use crate::{StateKind, TransitionError};

/// The store's error behind [`RunnerError::NotSaved`], shared so the
/// runner's errors stay `Clone`.
pub type SaveError = Arc<dyn std::error::Error + Send + Sync>;

/// Why the runner did not apply an event given to [`send`](crate::RunnerHandle::send).
///
/// Two errors are equal when they say the same: `NotSaved` compares its
/// message, not the store's error behind it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunnerError<K: 'static> {
    /// The handler asked for a transition the table forbids; nothing changed.
    Illegal(TransitionError<K>),
    /// The handler returned a `Step::update` of another kind; nothing changed.
    KindChanged(KindChanged<K>),
    /// The run has ended (completed, stopped, crashed or aborted) before
    /// this event was handled.
    Finished,
    /// The handler panicked on this event; the run ended with
    /// `Outcome::Crashed`.
    Crashed {
        /// The panic message.
        message: String,
    },
    /// A durable run could not save the transition this event asked for
    /// (another writer moved the machine first, or the store failed): it
    /// was not applied, and the run ended with `Outcome::Lost`.
    NotSaved {
        /// Why the write failed, as the store said it.
        message: String,
        /// The store's error (a `StoreError<K>` of the store the run
        /// persists to: `downcast_ref` it), also `source()`.
        error: SaveError,
    },
}

impl<K: PartialEq> PartialEq for RunnerError<K> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Illegal(a), Self::Illegal(b)) => a == b,
            (Self::KindChanged(a), Self::KindChanged(b)) => a == b,
            (Self::Finished, Self::Finished) => true,
            (Self::Crashed { message: a }, Self::Crashed { message: b })
            | (Self::NotSaved { message: a, .. }, Self::NotSaved { message: b, .. }) => a == b,
            _ => false,
        }
    }
}

impl<K: Eq> Eq for RunnerError<K> {}

impl<K: StateKind> Display for RunnerError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal(error) => Display::fmt(error, f),
            Self::KindChanged(error) => Display::fmt(error, f),
            Self::Finished => f.write_str("runner has finished"),
            Self::Crashed { message } => write!(f, "handler panicked: {message}"),
            Self::NotSaved { message, .. } => write!(f, "transition not saved: {message}"),
        }
    }
}

impl<K: StateKind> std::error::Error for RunnerError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::NotSaved { error, .. } => Some(&**error),
            _ => None,
        }
    }
}

/// [`post`](crate::RunnerHandle::post) found the run finished; the event
/// comes back unhandled.
#[derive(Clone, PartialEq, Eq)]
pub struct PostError<E>(pub E);

impl<E> PostError<E> {
    /// The event that was not queued.
    pub fn into_inner(self) -> E {
        self.0
    }
}

impl<E> Debug for PostError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostError").finish_non_exhaustive()
    }
}

impl<E> Display for PostError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("runner has finished")
    }
}

impl<E> std::error::Error for PostError<E> {}

/// Why [`try_post`](crate::RunnerHandle::try_post) did not queue an event;
/// either way the event comes back unhandled.
#[derive(Clone, PartialEq, Eq)]
pub enum TryPostError<E> {
    /// The queue is full; the run is alive and may take it later.
    Full(E),
    /// The run has ended.
    Finished(E),
}

impl<E> TryPostError<E> {
    /// The event that was not queued.
    pub fn into_inner(self) -> E {
        match self {
            Self::Full(event) | Self::Finished(event) => event,
        }
    }
}

impl<E> Debug for TryPostError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Full(_) => f.write_str("Full(..)"),
            Self::Finished(_) => f.write_str("Finished(..)"),
        }
    }
}

impl<E> Display for TryPostError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "runner queue is full",
            Self::Finished(_) => "runner has finished",
        })
    }
}

impl<E> std::error::Error for TryPostError<E> {}

/// A control request ([`pause`](crate::RunnerHandle::pause),
/// [`resume`](crate::RunnerHandle::resume), [`stop`](crate::RunnerHandle::stop))
/// reached a run that has already ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FinishedError;

impl Display for FinishedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("runner has finished")
    }
}

impl std::error::Error for FinishedError {}
