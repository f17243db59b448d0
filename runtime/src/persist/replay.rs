//! [`Journal::replay`]: a journal read back into a state, every line checked.

use core::fmt::{self, Display};
use std::io::{self, BufRead, BufReader, Read};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::journal::{chained_crc, split_checksum, FORMAT, MAGIC};
use super::{Journal, MAX_SEQ};
use crate::snapshot::KindChanged;
use crate::{StateKind, StateMachine, TransitionError};

/// A journal replayed to its end.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Replayed<S> {
    /// The state after the last line.
    pub state: S,
    /// Its `seq`.
    pub seq: u64,
    /// How many transition lines were replayed (headers not counted).
    pub transitions: u64,
    /// Whether the journal ends with its run's `finished` line. If not, the
    /// run is still going, or its process died, or the file was cut at a
    /// line's end: the lines there are are sound, but may not be all.
    pub finished: bool,
}

/// Why [`Journal::replay`] stopped: the 1-based number of the first bad
/// line and what was wrong with it. Nothing before it was skipped and
/// nothing after it was read.
#[derive(Debug)]
#[non_exhaustive]
pub struct ReplayError<K: 'static> {
    /// The 1-based line number.
    pub line: u64,
    /// What was wrong.
    pub kind: ReplayErrorKind<K>,
}

/// What was wrong with a journal line.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReplayErrorKind<K: 'static> {
    /// The journal could not be read.
    Io(io::Error),
    /// The journal has no lines.
    Empty,
    /// The last line has no line end: the write was cut short (a crash).
    CutShort,
    /// A line longer than [`Journal::MAX_LINE`], refused unread.
    TooLong,
    /// A transition after the run's `finished` line, with no header of a
    /// run that resumed it in between.
    AfterFinished,
    /// The line is not what the journal wrote: its checksum does not match
    /// its content, it has none, or it is not valid JSON of a journal line.
    Corrupt {
        /// What exactly.
        message: String,
    },
    /// The first line is not a journal header.
    MissingHeader,
    /// A header of a format this release does not read.
    UnknownFormat {
        /// The header's format number.
        format: u32,
    },
    /// A header of another machine.
    ForeignMachine {
        /// This machine's name.
        expected: &'static str,
        /// The header's.
        found: String,
    },
    /// A header written under another table.
    TableChanged {
        /// The header's fingerprint.
        saved: u64,
        /// The table's compiled in now.
        current: u64,
    },
    /// A line after the largest `seq` a run reaches (`i64::MAX`, what a
    /// store row holds): an edited header.
    SeqExhausted,
    /// A `seq` that repeats or skips one.
    Seq {
        /// The `seq` this line must have.
        expected: u64,
        /// The one it has.
        found: u64,
    },
    /// A line that starts from another state than the one replayed so far
    /// (a transition's `from`, or a later header's state).
    StateMismatch {
        /// The kind replayed so far.
        expected: K,
        /// The kind in the line.
        found: K,
    },
    /// A later header whose state is of the same kind as the replayed one
    /// but holds other data: it does not continue this history.
    HeaderStateDiffers,
    /// A transition the table forbids.
    Illegal(TransitionError<K>),
    /// An update that changes the kind.
    KindChanged(KindChanged<K>),
    /// The mapping of [`Journal::replay_migrating`] refused a state of the
    /// earlier table.
    Migration {
        /// What the mapping said.
        message: String,
    },
}

impl<K: StateKind> Display for ReplayError<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "journal line {}: ", self.line)?;
        match &self.kind {
            ReplayErrorKind::Io(error) => write!(f, "cannot read: {error}"),
            ReplayErrorKind::Empty => f.write_str("the journal is empty"),
            ReplayErrorKind::CutShort => {
                f.write_str("cut short (no line end): the last write did not finish")
            }
            ReplayErrorKind::TooLong => write!(
                f,
                "longer than Journal::MAX_LINE ({} bytes); not read",
                Journal::MAX_LINE
            ),
            ReplayErrorKind::AfterFinished => {
                f.write_str("a transition after the run's `finished` line")
            }
            ReplayErrorKind::Corrupt { message } => write!(f, "corrupt: {message}"),
            ReplayErrorKind::MissingHeader => f.write_str("not a journal header"),
            ReplayErrorKind::UnknownFormat { format } => {
                write!(f, "journal format {format} is not known (this release reads {FORMAT})")
            }
            ReplayErrorKind::ForeignMachine { expected, found } => {
                write!(f, "journal of machine `{found}`, not `{expected}`")
            }
            ReplayErrorKind::TableChanged { saved, current } => write!(
                f,
                "journal of `{}` written under another table (fingerprint {saved:#018x}, now {current:#018x})",
                K::MACHINE
            ),
            ReplayErrorKind::SeqExhausted => {
                write!(f, "a line after seq {MAX_SEQ}, the largest a run reaches")
            }
            ReplayErrorKind::Seq { expected, found } => {
                write!(f, "seq {found} where {expected} was due")
            }
            ReplayErrorKind::StateMismatch { expected, found } => write!(
                f,
                "starts from `{found}`, but the history so far ends in `{expected}`"
            ),
            ReplayErrorKind::HeaderStateDiffers => f.write_str(
                "a header whose state differs from the history so far: it does not continue it",
            ),
            ReplayErrorKind::Illegal(error) => Display::fmt(error, f),
            ReplayErrorKind::KindChanged(error) => Display::fmt(error, f),
            ReplayErrorKind::Migration { message } => {
                write!(f, "the migration refused its state: {message}")
            }
        }
    }
}

impl<K: StateKind + fmt::Debug> std::error::Error for ReplayError<K> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ReplayErrorKind::Io(error) => Some(error),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Header<S> {
    journal: String,
    format: u32,
    // Absent from format 1, which is then refused by its number.
    #[serde(default)]
    run: String,
    machine: String,
    #[serde(with = "super::hex")]
    fingerprint: u64,
    seq: u64,
    state: S,
    #[allow(dead_code)]
    at: std::time::SystemTime,
    #[allow(dead_code)]
    crc: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<S, K> {
    seq: u64,
    from: K,
    to: S,
    #[allow(dead_code)]
    event: String,
    update: bool,
    #[allow(dead_code)]
    at: std::time::SystemTime,
    #[allow(dead_code)]
    crc: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FinishedLine {
    #[allow(dead_code)]
    finished: String,
    seq: u64,
    #[allow(dead_code)]
    at: std::time::SystemTime,
    #[allow(dead_code)]
    crc: u32,
}

/// The history so far.
struct Replay<S> {
    state: S,
    seq: u64,
    transitions: u64,
    finished: bool,
}

type Failure<K> = ReplayErrorKind<K>;

impl Journal {
    /// Reads a journal back into the state it ends in, checking **every**
    /// line against the table compiled in now: its checksum, chained to
    /// the line before it (so a line edited, removed, moved or taken from
    /// another run fails where it is), its header (this machine, this
    /// table's fingerprint), that each `seq` is the next one, that each
    /// transition starts where the history is and is an edge of the table
    /// (an update keeps the kind), that no line is longer than
    /// [`Journal::MAX_LINE`], and that the last line was written whole. A
    /// later header (a restored run appending to the journal) must continue
    /// the history: the same `seq` and state. [`Replayed::finished`] says
    /// whether the journal ends with its run's `finished` line.
    ///
    /// `reader` is buffered here; pass a `File` as it is.
    ///
    /// # Errors
    ///
    /// A [`ReplayError`] naming the first bad line; replay never skips a
    /// line and never returns a state the table could not have reached.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Journal;
    ///
    /// # fn main() {
    /// let journal = b"{\"seq\":1}\n";
    /// let error = Journal::replay::<Door>(&journal[..]).unwrap_err();
    /// assert_eq!(error.line, 1);
    /// assert!(error.to_string().starts_with("journal line 1: corrupt: no checksum"));
    /// # }
    /// ```
    pub fn replay<S>(reader: impl Read) -> Result<Replayed<S>, ReplayError<S::Kind>>
    where
        S: StateMachine + Serialize + DeserializeOwned,
        S::Kind: DeserializeOwned,
    {
        replay_with(reader, &mut AsWritten)
    }
}

/// How a line's states and kinds become the table's: as written
/// ([`AsWritten`]), or mapped from an earlier table's
/// ([`Journal::replay_migrating`]).
pub(super) trait Decoder<S: StateMachine> {
    /// A state as a line holds it.
    type State: DeserializeOwned;
    /// A transition's `from` as a line holds it.
    type Kind: DeserializeOwned;
    /// Whether a header written under `fingerprint` may start a stretch of
    /// the history (and how its states are read).
    fn header(&mut self, fingerprint: u64) -> Result<(), Failure<S::Kind>>;
    /// The state a line holds, in today's table.
    fn state(&mut self, raw: Self::State) -> Result<S, Failure<S::Kind>>;
    /// The kind a transition says it left, if it can be checked.
    fn left_kind(&mut self, raw: Self::Kind) -> Result<Option<S::Kind>, Failure<S::Kind>>;
}

/// Lines written under today's table.
pub(super) struct AsWritten;

impl<S> Decoder<S> for AsWritten
where
    S: StateMachine + DeserializeOwned,
    S::Kind: DeserializeOwned,
{
    type State = S;
    type Kind = S::Kind;

    fn header(&mut self, fingerprint: u64) -> Result<(), Failure<S::Kind>> {
        if fingerprint == S::FINGERPRINT {
            Ok(())
        } else {
            Err(ReplayErrorKind::TableChanged {
                saved: fingerprint,
                current: S::FINGERPRINT,
            })
        }
    }

    fn state(&mut self, raw: S) -> Result<S, Failure<S::Kind>> {
        Ok(raw)
    }

    fn left_kind(&mut self, raw: S::Kind) -> Result<Option<S::Kind>, Failure<S::Kind>> {
        Ok(Some(raw))
    }
}

/// Every line read, checked and applied through `decoder`.
pub(super) fn replay_with<S, D>(
    reader: impl Read,
    decoder: &mut D,
) -> Result<Replayed<S>, ReplayError<S::Kind>>
where
    S: StateMachine + Serialize,
    D: Decoder<S>,
{
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let mut buffer = Vec::with_capacity(512);
    let mut history: Option<Replay<S>> = None;
    let (mut number, mut previous) = (0, 0);
    let longest = u64::try_from(Journal::MAX_LINE).unwrap_or(u64::MAX);
    loop {
        buffer.clear();
        number += 1;
        let fail = |kind| ReplayError { line: number, kind };
        // At most one byte past the longest line: a longer one is never
        // held in memory whole.
        match (&mut reader)
            .take(longest + 1)
            .read_until(b'\n', &mut buffer)
        {
            Ok(0) => break,
            Ok(_) => {}
            Err(error) => return Err(fail(ReplayErrorKind::Io(error))),
        }
        if buffer.last() != Some(&b'\n') && buffer.len() > Journal::MAX_LINE {
            return Err(fail(ReplayErrorKind::TooLong));
        }
        if buffer.pop() != Some(b'\n') {
            return Err(fail(ReplayErrorKind::CutShort));
        }
        let (content, crc) = checked_content(&buffer, previous).map_err(fail)?;
        previous = crc;
        history = Some(step(history, content, &buffer, decoder).map_err(fail)?);
    }
    match history {
        Some(history) => Ok(Replayed {
            state: history.state,
            seq: history.seq,
            transitions: history.transitions,
            finished: history.finished,
        }),
        None => Err(ReplayError {
            line: 1,
            kind: ReplayErrorKind::Empty,
        }),
    }
}

/// The line's content (without its checksum) and its checksum, if that is
/// the content's continued from `previous` (the line before it).
fn checked_content<K>(line: &[u8], previous: u32) -> Result<(&[u8], u32), Failure<K>> {
    let (content, saved) = split_checksum(line).map_err(|problem| ReplayErrorKind::Corrupt {
        message: problem.to_owned(),
    })?;
    let actual = chained_crc(previous, content);
    if saved != actual {
        return Err(ReplayErrorKind::Corrupt {
            message: format!(
                "checksum {saved} does not match the content and the line before it ({actual}): \
                 the line was edited, or lines before it were removed or moved, or it comes from another journal"
            ),
        });
    }
    Ok((content, saved))
}

/// Applies one checked line to the history.
fn step<S, D>(
    history: Option<Replay<S>>,
    content: &[u8],
    line: &[u8],
    decoder: &mut D,
) -> Result<Replay<S>, Failure<S::Kind>>
where
    S: StateMachine + Serialize,
    D: Decoder<S>,
{
    let corrupt = |error: serde_json::Error| ReplayErrorKind::Corrupt {
        message: error.to_string(),
    };
    if content.starts_with(b"{\"journal\":") {
        let header: Header<D::State> = serde_json::from_slice(line).map_err(corrupt)?;
        return continue_with(history, header, decoder);
    }
    let Some(mut history) = history else {
        return Err(ReplayErrorKind::MissingHeader);
    };
    if content.starts_with(b"{\"finished\":") {
        let finished: FinishedLine = serde_json::from_slice(line).map_err(corrupt)?;
        if finished.seq != history.seq {
            return Err(ReplayErrorKind::Seq {
                expected: history.seq,
                found: finished.seq,
            });
        }
        history.finished = true;
        return Ok(history);
    }
    if history.finished {
        return Err(ReplayErrorKind::AfterFinished);
    }
    let line: Line<D::State, D::Kind> = serde_json::from_slice(line).map_err(corrupt)?;
    if history.seq >= MAX_SEQ {
        return Err(ReplayErrorKind::SeqExhausted);
    }
    let expected = history.seq + 1;
    if line.seq != expected {
        return Err(ReplayErrorKind::Seq {
            expected,
            found: line.seq,
        });
    }
    let next = decoder.state(line.to)?;
    let (current, to) = (history.state.kind(), next.kind());
    if let Some(from) = decoder.left_kind(line.from)? {
        if from != current {
            return Err(ReplayErrorKind::StateMismatch {
                expected: current,
                found: from,
            });
        }
    }
    if line.update && to != current {
        return Err(ReplayErrorKind::KindChanged(KindChanged::new(current, to)));
    }
    if !line.update && !S::can_transition(current, to) {
        return Err(ReplayErrorKind::Illegal(TransitionError::new(current, to)));
    }
    history.state = next;
    history.seq = line.seq;
    history.transitions += 1;
    Ok(history)
}

/// A header: the first one starts the history; a later one (a restored
/// run) must continue it.
fn continue_with<S, D>(
    history: Option<Replay<S>>,
    header: Header<D::State>,
    decoder: &mut D,
) -> Result<Replay<S>, Failure<S::Kind>>
where
    S: StateMachine + Serialize,
    D: Decoder<S>,
{
    if header.journal != MAGIC {
        return Err(ReplayErrorKind::MissingHeader);
    }
    if header.format != FORMAT {
        return Err(ReplayErrorKind::UnknownFormat {
            format: header.format,
        });
    }
    if header.run.len() != 32 || !header.run.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        return Err(ReplayErrorKind::Corrupt {
            message: format!("`{}` is no run id (32 hex digits)", header.run),
        });
    }
    if header.machine != S::NAME {
        return Err(ReplayErrorKind::ForeignMachine {
            expected: S::NAME,
            found: header.machine,
        });
    }
    decoder.header(header.fingerprint)?;
    let state = decoder.state(header.state)?;
    let Some(mut history) = history else {
        return Ok(Replay {
            state,
            seq: header.seq,
            transitions: 0,
            finished: false,
        });
    };
    if header.seq != history.seq {
        return Err(ReplayErrorKind::Seq {
            expected: history.seq,
            found: header.seq,
        });
    }
    let (current, restored) = (history.state.kind(), state.kind());
    if restored != current {
        return Err(ReplayErrorKind::StateMismatch {
            expected: current,
            found: restored,
        });
    }
    // `S` need not be `PartialEq`; its serde form is what the journal holds.
    if serde_json::to_value(&history.state).ok() != serde_json::to_value(&state).ok() {
        return Err(ReplayErrorKind::HeaderStateDiffers);
    }
    // A run that resumed this one: it may end (and say so) again.
    history.finished = false;
    Ok(history)
}
