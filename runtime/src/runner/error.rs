//! Errors of the runner.

use core::fmt::{self, Debug, Display};

use crate::TransitionError;

/// Why the runner did not apply an event sent to it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RunnerError<K: 'static> {
    /// The handler asked for a transition the table forbids; nothing changed.
    Illegal(TransitionError<K>),
    /// The run has ended (completed, stopped, crashed or aborted) before
    /// this event was handled.
    Finished,
    /// The handler panicked on this event; the run ended with
    /// `Outcome::Crashed`.
    Crashed {
        /// The panic message.
        message: String,
    },
    /// `try_post` found the queue full; the event was dropped.
    Full,
}

impl<K: Display + 'static> Display for RunnerError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal(error) => Display::fmt(error, f),
            Self::Finished => f.write_str("runner has finished"),
            Self::Crashed { message } => write!(f, "handler panicked: {message}"),
            Self::Full => f.write_str("runner queue is full"),
        }
    }
}

impl<K: Debug + Display + 'static> std::error::Error for RunnerError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

/// Why an event changed nothing, as told to recorders.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection<K: 'static> {
    /// The handler's `Step::to` (or a kind-changing `Step::update`) has no edge in the table.
    Illegal(TransitionError<K>),
    /// The handler returned `Step::reject(reason)`.
    Refused {
        /// The handler's reason.
        reason: String,
    },
}

impl<K: Display + 'static> Display for Rejection<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal(error) => Display::fmt(error, f),
            Self::Refused { reason } => write!(f, "refused: {reason}"),
        }
    }
}
