use std::sync::{Arc, Mutex, PoisonError};

use super::Recorder;
use crate::handler::Handler;
use crate::snapshot::{Outcome, Rejection};
use crate::{Snapshot, StateMachine, Transition};

/// An in-memory recorder for tests: one line of text per hook call.
///
/// Clones share the lines, so keep a clone to read what the runner recorded.
///
/// ```text
/// start Idle
/// event Start in Idle
/// transition #1 Idle -> Processing
/// rejected in Processing: refused: busy
/// finish Stopped
/// ```
#[derive(Debug, Clone, Default)]
pub struct Transcript {
    lines: Arc<Mutex<Vec<String>>>,
}

impl Transcript {
    /// An empty transcript.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The lines recorded so far.
    #[must_use]
    pub fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn push(&self, line: String) {
        self.lines
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(line);
    }
}

impl<H: Handler> Recorder<H> for Transcript {
    fn on_start(&mut self, snapshot: &Snapshot<H::State>) {
        self.push(format!("start {}", snapshot.kind));
    }

    fn on_restore(&mut self, snapshot: &Snapshot<H::State>) {
        self.push(format!("restore {} at seq {}", snapshot.kind, snapshot.seq));
    }

    fn on_event(&mut self, state: &H::State, event: &H::Event) {
        self.push(format!("event {event:?} in {}", state.kind()));
    }

    fn on_transition(&mut self, transition: &Transition<H::State>) {
        let verb = if transition.update {
            "update"
        } else {
            "transition"
        };
        self.push(format!(
            "{verb} #{} {} -> {}",
            transition.seq,
            transition.from,
            transition.to.kind()
        ));
    }

    fn on_rejected(
        &mut self,
        state: &H::State,
        rejection: &Rejection<<H::State as StateMachine>::Kind>,
    ) {
        self.push(format!("rejected in {}: {rejection}", state.kind()));
    }

    fn on_task_panic(&mut self, message: &str) {
        self.push(format!("task panicked: {message}"));
    }

    fn on_finish(&mut self, outcome: &Outcome<H::State>) {
        self.push(format!("finish {outcome}"));
    }
}
