//! A scheduled run's lifecycle (seed 001): the table lives on the enum, the
//! one rule the table cannot express (an open attempt pins the run in
//! `Running`) stays in user code, every change goes to a journal, and a
//! stored run is read back through `Journal::replay`, which re-validates
//! every step against the table.
//!
//! Run with `cargo run --example run_instance`.

use std::fmt::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use statewright::{state_machine, Journal, TransitionError};

/// Where a run is in its life.
#[state_machine]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum RunState {
    /// Waiting for its scheduled time.
    #[initial]
    #[on(due => Ready)]
    Scheduled,
    /// Due, waiting for a worker.
    #[on(lease => Leased)]
    Ready,
    /// A worker claimed it; the lease may lapse.
    #[on(start => Running, lapse => Ready)]
    Leased {
        /// Who holds the lease.
        worker: String,
    },
    /// Attempts execute here.
    #[on(succeed => Completed, fail => Failed, back_off => RetryWait)]
    Running {
        /// Who runs it.
        worker: String,
        /// Attempts opened so far.
        attempts: u32,
        /// Whether the last one is still open.
        open: bool,
    },
    /// Waiting before the next attempt.
    #[on(retry => Ready)]
    #[to(Failed)]
    RetryWait {
        /// When to retry, in seconds since the epoch.
        until: u64,
    },
    /// Done.
    #[terminal]
    Completed,
    /// Gave up.
    #[terminal]
    Failed {
        /// Why.
        reason: String,
    },
    /// Stopped by a user, from any live state.
    #[terminal]
    #[from_any(cancel)]
    Canceled,
}

/// Why a run refused a change.
#[derive(Debug, PartialEq)]
enum RunError {
    /// The table has no such edge.
    Illegal(TransitionError<RunStateKind>),
    /// The run may not leave `Running` while an attempt is open.
    AttemptInProgress {
        /// The open attempt.
        attempt: u32,
    },
    /// Attempts start and finish only in `Running`.
    NotRunning(RunStateKind),
    /// The journal could not be written.
    Journal(String),
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Illegal(error) => error.fmt(f),
            Self::AttemptInProgress { attempt } => {
                write!(
                    f,
                    "attempt {attempt} is still open; finish it before leaving `Running`"
                )
            }
            Self::NotRunning(kind) => write!(f, "attempts need `Running`, the run is `{kind}`"),
            Self::Journal(error) => write!(f, "journal: {error}"),
        }
    }
}

impl std::error::Error for RunError {}

/// A run: the machine, its `seq`, and the journal every change goes to.
struct RunInstance {
    state: RunState,
    seq: u64,
    journal: Journal,
}

impl RunInstance {
    /// A new run, in the table's initial state, journaled to `path`.
    fn create(path: &Path) -> Result<Self, RunError> {
        let state = RunState::Scheduled;
        let mut journal = Journal::create(path)?;
        journal.write_header(&state, 0)?;
        Ok(Self {
            state,
            seq: 0,
            journal,
        })
    }

    /// Reads a run back: `Journal::replay` checks every line (checksum,
    /// machine, table, seq, and that each step is an edge of the table).
    fn restore(path: &Path) -> Result<RunState, String> {
        let file = std::fs::File::open(path).map_err(|error| error.to_string())?;
        let replayed = Journal::replay::<RunState>(file).map_err(|error| error.to_string())?;
        Ok(replayed.state)
    }

    /// The current state.
    #[must_use]
    fn state(&self) -> &RunState {
        &self.state
    }

    /// Moves to `next` if the table allows it and no attempt is open
    /// (cancelling is always allowed).
    ///
    /// # Errors
    ///
    /// [`RunError::Illegal`] for an edge the table lacks,
    /// [`RunError::AttemptInProgress`] when leaving `Running` too early.
    fn transition_to(&mut self, next: RunState) -> Result<(), RunError> {
        if let RunState::Running {
            attempts,
            open: true,
            ..
        } = self.state
        {
            if next.kind() != RunStateKind::Canceled {
                return Err(RunError::AttemptInProgress { attempt: attempts });
            }
        }
        let from = self.state.kind();
        self.state.transition_to(next).map_err(RunError::Illegal)?;
        self.record(from, false)
    }

    /// Opens the next attempt: an update of `Running`, journaled as one.
    ///
    /// # Errors
    ///
    /// [`RunError::NotRunning`] outside `Running`,
    /// [`RunError::AttemptInProgress`] if one is open.
    fn start_attempt(&mut self) -> Result<u32, RunError> {
        match &mut self.state {
            RunState::Running {
                attempts,
                open: false,
                ..
            } => {
                *attempts += 1;
                let attempt = *attempts;
                self.set_open(true)?;
                Ok(attempt)
            }
            RunState::Running { attempts, .. } => {
                Err(RunError::AttemptInProgress { attempt: *attempts })
            }
            other => Err(RunError::NotRunning(other.kind())),
        }
    }

    /// Closes the open attempt.
    fn finish_attempt(&mut self) -> Result<(), RunError> {
        self.set_open(false)
    }

    fn set_open(&mut self, now_open: bool) -> Result<(), RunError> {
        if let RunState::Running { open, .. } = &mut self.state {
            *open = now_open;
        }
        self.record(RunStateKind::Running, true)
    }

    fn record(&mut self, from: RunStateKind, update: bool) -> Result<(), RunError> {
        self.seq += 1;
        let event = if update { "attempt" } else { "transition" };
        self.journal
            .write_transition(self.seq, from, &self.state, event, update)?;
        Ok(())
    }
}

impl From<std::io::Error> for RunError {
    fn from(error: std::io::Error) -> Self {
        Self::Journal(error.to_string())
    }
}

/// Edits line `number` (1-based) of the journal at `path`; with `restamp`,
/// stamps it and the lines after it with checksums chained as the journal
/// chains them (each continues the one before), as a buggy writer (not a
/// disk) would.
fn tamper(path: &Path, number: usize, from: &str, to: &str, restamp: bool) -> std::io::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[number - 1] = lines[number - 1].replacen(from, to, 1);
    if restamp {
        let crc_at = |line: &str| line.rfind(",\"crc\":").unwrap_or(line.len());
        for index in number - 1..lines.len() {
            let previous = match index {
                0 => 0,
                _ => {
                    let before = &lines[index - 1];
                    let digits = &before[crc_at(before) + 7..before.len() - 1];
                    digits.parse().unwrap_or(0)
                }
            };
            let content = &lines[index][..crc_at(&lines[index])];
            let mut hasher = crc32fast::Hasher::new_with_initial(previous);
            hasher.update(content.as_bytes());
            lines[index] = format!("{content},\"crc\":{}}}", hasher.finalize());
        }
    }
    std::fs::write(path, lines.join("\n") + "\n")
}

fn journal_path() -> PathBuf {
    std::env::temp_dir().join(format!("statewright-run-{}.jsonl", std::process::id()))
}

/// The demo, writing to `out` so a test can read it.
///
/// # Errors
///
/// If writing to `out` fails, or the journal cannot be written.
pub(crate) fn run(out: &mut impl Write) -> fmt::Result {
    let path = journal_path();
    let result = demo(&path, out);
    let _ = std::fs::remove_file(&path);
    result
}

fn demo(path: &Path, out: &mut impl Write) -> fmt::Result {
    let worker = || "worker-7".to_string();
    let mut run = RunInstance::create(path).map_err(|_| fmt::Error)?;
    let step = |run: &mut RunInstance, next: RunState, out: &mut dyn Write| -> fmt::Result {
        let label = format!("{:?}", next.kind());
        match run.transition_to(next) {
            Ok(()) => writeln!(out, "ok      -> {label}"),
            Err(error) => writeln!(out, "refused -> {label}: {error}"),
        }
    };
    let running = RunState::Running {
        worker: worker(),
        attempts: 0,
        open: false,
    };
    step(&mut run, RunState::Ready, out)?;
    step(&mut run, RunState::Completed, out)?;
    step(&mut run, RunState::Leased { worker: worker() }, out)?;
    step(&mut run, running, out)?;
    let attempt = run.start_attempt().map_err(|_| fmt::Error)?;
    writeln!(out, "attempt {attempt} started")?;
    step(&mut run, RunState::Completed, out)?;
    run.finish_attempt().map_err(|_| fmt::Error)?;
    step(&mut run, RunState::Completed, out)?;

    let lines = std::fs::read_to_string(path)
        .map_err(|_| fmt::Error)?
        .lines()
        .count();
    writeln!(out, "stored: {lines} journal lines, seq {}", run.seq)?;
    match RunInstance::restore(path) {
        Ok(state) => writeln!(
            out,
            "restored: {:?}, equal: {}",
            state.kind(),
            &state == run.state()
        )?,
        Err(error) => writeln!(out, "restored: {error}")?,
    }

    // Line 3 is `Ready -> Leased`; claim it went straight to `Running`.
    let leased = r#""to":{"Leased":{"worker":"worker-7"}}"#;
    let running = r#""to":{"Running":{"worker":"worker-7","attempts":0,"open":false}}"#;
    tamper(path, 3, leased, running, false).map_err(|_| fmt::Error)?;
    match RunInstance::restore(path) {
        Ok(state) => writeln!(out, "tampered: accepted as {state:?}")?,
        Err(error) => writeln!(out, "tampered: {error}")?,
    }
    tamper(path, 3, running, running, true).map_err(|_| fmt::Error)?;
    match RunInstance::restore(path) {
        Ok(state) => writeln!(out, "re-stamped: accepted as {state:?}"),
        Err(error) => writeln!(out, "re-stamped: {error}"),
    }
}

fn main() {
    let mut out = String::new();
    run(&mut out).expect("writing to a String cannot fail");
    print!("{out}");
}
