use tracing::Span;

use super::Recorder;
use crate::handler::Handler;
use crate::snapshot::{Outcome, Rejection};
use crate::{Snapshot, StateMachine, Transition};

/// Logs a run with `tracing`: one `event` span per event (fields `machine`,
/// `state`, `seq`, `event`), with its transition or rejection logged inside.
#[derive(Debug, Default)]
pub struct TracingRecorder {
    current: Option<Span>,
    seq: u64,
}

impl TracingRecorder {
    /// A recorder that logs through the global `tracing` subscriber.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn in_event_span(&self, log: impl FnOnce()) {
        match &self.current {
            Some(span) => span.in_scope(log),
            None => log(),
        }
    }
}

impl<H: Handler> Recorder<H> for TracingRecorder {
    fn on_start(&mut self, snapshot: &Snapshot<H::State>) {
        self.seq = snapshot.seq;
        tracing::info!(
            machine = <H::State as StateMachine>::NAME,
            state = %snapshot.kind,
            "runner started"
        );
    }

    fn on_restore(&mut self, snapshot: &Snapshot<H::State>) {
        self.seq = snapshot.seq;
        tracing::info!(
            machine = <H::State as StateMachine>::NAME,
            state = %snapshot.kind,
            seq = snapshot.seq,
            "runner restored"
        );
    }

    fn on_event(&mut self, state: &H::State, event: &H::Event) {
        self.current = Some(tracing::info_span!(
            "event",
            machine = <H::State as StateMachine>::NAME,
            state = %state.kind(),
            seq = self.seq,
            event = ?event,
        ));
    }

    fn on_transition(&mut self, transition: &Transition<H::State>) {
        self.seq = transition.seq;
        self.in_event_span(|| {
            tracing::info!(
                from = %transition.from,
                to = %transition.to.kind(),
                seq = transition.seq,
                update = transition.update,
                "transition"
            );
        });
    }

    fn on_rejected(
        &mut self,
        _state: &H::State,
        rejection: &Rejection<<H::State as StateMachine>::Kind>,
    ) {
        self.in_event_span(|| tracing::warn!(%rejection, "event rejected"));
    }

    fn on_task_panic(&mut self, message: &str) {
        self.in_event_span(|| tracing::error!(message, "state task panicked"));
    }

    fn on_finish(&mut self, outcome: &Outcome<H::State>) {
        self.current = None;
        tracing::info!(
            machine = <H::State as StateMachine>::NAME,
            outcome = %outcome,
            "runner finished"
        );
    }
}
