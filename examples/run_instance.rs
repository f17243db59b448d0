//! A scheduled run's lifecycle (seed 001): the table lives on the enum, the
//! one rule the table cannot express (an open attempt pins the run in
//! `Running`) stays in user code, and a stored run is re-validated when it
//! is read back.
//!
//! Run with `cargo run --example run_instance`.

use std::fmt::{self, Write};

use serde::{Deserialize, Serialize};
use statewright::{state_machine, StateMachine, TransitionError};

/// Where a run is in its life.
#[state_machine]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum RunState {
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
    /// An attempt is (or was) executing.
    #[on(succeed => Completed, fail => Failed, back_off => RetryWait)]
    Running {
        /// Who runs it.
        worker: String,
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
        }
    }
}

impl std::error::Error for RunError {}

/// A run: the machine plus the bookkeeping the table does not cover.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct RunInstance {
    state: RunState,
    open_attempt: Option<u32>,
    attempts: u32,
    /// Every kind the run has been in, oldest first.
    history: Vec<RunStateKind>,
}

impl RunInstance {
    /// A new run, in the table's initial state.
    #[must_use]
    fn new() -> Self {
        Self {
            state: RunState::Scheduled,
            open_attempt: None,
            attempts: 0,
            history: vec![RunState::INITIAL],
        }
    }

    /// The current state.
    #[must_use]
    fn state(&self) -> &RunState {
        &self.state
    }

    /// Moves to `next` if the table allows it and no attempt is open
    /// (cancelling is always allowed and closes the attempt).
    ///
    /// # Errors
    ///
    /// [`RunError::Illegal`] for an edge the table lacks,
    /// [`RunError::AttemptInProgress`] when leaving `Running` too early.
    fn transition_to(&mut self, next: RunState) -> Result<(), RunError> {
        let leaving_running = self.state.kind() == RunStateKind::Running;
        if let (true, Some(attempt)) = (leaving_running, self.open_attempt) {
            if next.kind() != RunStateKind::Canceled {
                return Err(RunError::AttemptInProgress { attempt });
            }
        }
        self.state.transition_to(next).map_err(RunError::Illegal)?;
        self.open_attempt = None;
        self.history.push(self.state.kind());
        Ok(())
    }

    /// Opens the next attempt.
    ///
    /// # Errors
    ///
    /// [`RunError::NotRunning`] outside `Running`.
    fn start_attempt(&mut self) -> Result<u32, RunError> {
        match (self.state.kind(), self.open_attempt) {
            (RunStateKind::Running, None) => {
                self.attempts += 1;
                self.open_attempt = Some(self.attempts);
                Ok(self.attempts)
            }
            (RunStateKind::Running, Some(attempt)) => Err(RunError::AttemptInProgress { attempt }),
            (kind, _) => Err(RunError::NotRunning(kind)),
        }
    }

    /// Closes the open attempt.
    fn finish_attempt(&mut self) {
        self.open_attempt = None;
    }
}

impl Default for RunInstance {
    fn default() -> Self {
        Self::new()
    }
}

/// Reading a stored run checks it against the table: the history must start
/// in the initial state, follow legal edges and end in the stored state, and
/// an open attempt only exists in `Running`.
impl<'de> Deserialize<'de> for RunInstance {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Stored {
            state: RunState,
            open_attempt: Option<u32>,
            attempts: u32,
            history: Vec<RunStateKind>,
        }
        use serde::de::Error;
        let stored = Stored::deserialize(deserializer)?;
        if stored.history.first() != Some(&RunState::INITIAL) {
            return Err(D::Error::custom("history must start in `Scheduled`"));
        }
        for pair in stored.history.windows(2) {
            if !RunState::can_transition(pair[0], pair[1]) {
                return Err(D::Error::custom(format!(
                    "history has an illegal step `{}` -> `{}`",
                    pair[0], pair[1]
                )));
            }
        }
        if stored.history.last() != Some(&stored.state.kind()) {
            return Err(D::Error::custom("history does not end in the stored state"));
        }
        if stored.open_attempt.is_some() && stored.state.kind() != RunStateKind::Running {
            return Err(D::Error::custom(
                "an open attempt is only valid in `Running`",
            ));
        }
        Ok(Self {
            state: stored.state,
            open_attempt: stored.open_attempt,
            attempts: stored.attempts,
            history: stored.history,
        })
    }
}

/// The demo, writing to `out` so a test can read it.
///
/// # Errors
///
/// Only if writing to `out` fails.
pub(crate) fn run(out: &mut impl Write) -> fmt::Result {
    let worker = || "worker-7".to_string();
    let mut run = RunInstance::new();
    let step = |run: &mut RunInstance, next: RunState, out: &mut dyn Write| -> fmt::Result {
        let label = format!("{:?}", next.kind());
        match run.transition_to(next) {
            Ok(()) => writeln!(out, "ok      -> {label}"),
            Err(error) => writeln!(out, "refused -> {label}: {error}"),
        }
    };
    step(&mut run, RunState::Ready, out)?;
    step(&mut run, RunState::Completed, out)?;
    step(&mut run, RunState::Leased { worker: worker() }, out)?;
    step(&mut run, RunState::Running { worker: worker() }, out)?;
    let attempt = run.start_attempt().map_err(|_| fmt::Error)?;
    writeln!(out, "attempt {attempt} started")?;
    step(&mut run, RunState::Completed, out)?;
    run.finish_attempt();
    step(&mut run, RunState::Completed, out)?;

    let stored = serde_json::to_string(&run).map_err(|_| fmt::Error)?;
    writeln!(out, "stored: {stored}")?;
    let restored: RunInstance = serde_json::from_str(&stored).map_err(|_| fmt::Error)?;
    writeln!(
        out,
        "restored: {:?}, equal: {}",
        restored.state().kind(),
        restored == run
    )?;

    let tampered = stored.replace(r#""Ready","Leased""#, r#""Ready","Running""#);
    match serde_json::from_str::<RunInstance>(&tampered) {
        Ok(_) => writeln!(out, "tampered: accepted"),
        Err(error) => writeln!(out, "tampered: {error}"),
    }
}

fn main() {
    let mut out = String::new();
    run(&mut out).expect("writing to a String cannot fail");
    print!("{out}");
}
