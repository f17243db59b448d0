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
    /// A fleet's activation wrote with a lease epoch the machine has moved
    /// past: another activation (in this process or another) took the
    /// machine over, and only its writes commit. Nothing changed.
    Fenced {
        /// The id.
        id: String,
        /// The epoch the writer held, now superseded.
        epoch: u64,
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
    /// An id no row may have: longer than [`MAX_ID_BYTES`], empty, or with
    /// a control character (NUL included). Checked before any SQL runs.
    InvalidId {
        /// The id, shortened to its first 64 characters, control
        /// characters escaped.
        id: String,
        /// Its length in bytes.
        length: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The state could not be serialized (a `Serialize` impl that fails,
    /// a map whose keys JSON cannot hold); nothing was written.
    Encode {
        /// The id.
        id: String,
        /// What serde said.
        message: String,
    },
}

/// The one place the limit is written, so the error's text states it too.
macro_rules! max_id_bytes {
    () => {
        512
    };
}

/// The longest id a store takes, in bytes: room for any key a user makes
/// up, far below what an index entry holds.
pub const MAX_ID_BYTES: usize = max_id_bytes!();

/// `id`, if a store may keep a row under it.
pub(crate) fn check_id<K>(id: &str) -> Result<(), StoreError<K>> {
    let reason = if id.is_empty() {
        "it is empty"
    } else if id.len() > MAX_ID_BYTES {
        concat!("it is longer than ", max_id_bytes!(), " bytes")
    } else if id.chars().any(char::is_control) {
        "it holds a control character"
    } else {
        return Ok(());
    };
    let mut shown: String = id.chars().take(64).flat_map(char::escape_debug).collect();
    if id.chars().nth(64).is_some() {
        shown.push('…');
    }
    Err(StoreError::InvalidId {
        id: shown,
        length: id.len(),
        reason,
    })
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
            Self::Fenced { id, epoch } => write!(
                f,
                "`{machine}` `{id}` was taken over: its lease is past epoch {epoch}, this writer's"
            ),
            Self::Illegal(error) => Display::fmt(error, f),
            Self::NotAccepted(error) => Display::fmt(error, f),
            Self::Decode { id, message } => {
                write!(f, "stored `{machine}` `{id}` does not fit the table: {message}")
            }
            Self::Backend(error) => {
                // Drivers often say only "db error" at the top, with the
                // cause below; some already print their cause (tokio-postgres
                // does), which must not then appear twice.
                let mut text = error.to_string();
                let mut cause = error.source();
                while let Some(inner) = cause {
                    let said = inner.to_string();
                    if !text.contains(&said) {
                        text.push_str(": ");
                        text.push_str(&said);
                    }
                    cause = inner.source();
                }
                write!(f, "store backend failed: {text}")
            }
            Self::InvalidId { id, length, reason } => write!(
                f,
                "`{id}` ({length} bytes) is no `{machine}` id: {reason}"
            ),
            Self::Encode { id, message } => {
                write!(f, "`{machine}` `{id}` cannot be stored: {message}")
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

/// A database written by a newer release than this one.
#[derive(Debug)]
pub(crate) struct NewerSchema {
    found: i64,
    known: i64,
}

impl NewerSchema {
    pub(crate) fn new(found: i64, known: i64) -> Self {
        Self { found, known }
    }
}

impl Display for NewerSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the database has schema version {}; this release knows {}",
            self.found, self.known
        )
    }
}

impl std::error::Error for NewerSchema {}

/// A driver's error as [`StoreError::Backend`].
#[cfg(feature = "postgres")]
pub(crate) fn backend<K, E: std::error::Error + Send + Sync + 'static>(error: E) -> StoreError<K> {
    StoreError::Backend(Box::new(error))
}
