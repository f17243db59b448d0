//! Recorders: hooks that see **every** event of a run and its end, **exactly once**.
//!
//! A recorder is called inside the runner, in order, between events, so it
//! sees the run exactly as it happened. For one event the calls are
//! `on_event`, then `on_transition` or `on_rejected` (or nothing, for a
//! `Step::stay`). `on_finish` runs **exactly once** per run, whatever ends it:
//! a terminal state, `stop`, a handler panic, or the task being dropped; a
//! run its fleet passivates ends with `on_passivate` instead, exactly once.
//!
//! A recorder that panics is isolated: the panic is caught, logged with
//! `tracing`, and the runner and the other recorders go on.

mod trace;
mod transcript;

pub use trace::TracingRecorder;
pub use transcript::Transcript;

use crate::handler::Handler;
use crate::snapshot::{Outcome, Rejection};
use crate::{Snapshot, StateMachine, Transition};

/// Hooks into a run; every method has an empty default.
pub trait Recorder<H: Handler>: Send + 'static {
    /// The run starts, in its initial state.
    fn on_start(&mut self, snapshot: &Snapshot<H::State>) {
        let _ = snapshot;
    }

    /// The run resumes from a checkpoint ([`Runner::restore`](crate::Runner::restore));
    /// called instead of `on_start`. The snapshot holds the restored state,
    /// `seq` and timer.
    fn on_restore(&mut self, snapshot: &Snapshot<H::State>) {
        let _ = snapshot;
    }

    /// `event` is about to be handled in `state`.
    fn on_event(&mut self, state: &H::State, event: &H::Event) {
        let _ = (state, event);
    }

    /// The event changed the state (a transition or an update).
    fn on_transition(&mut self, transition: &Transition<H::State>) {
        let _ = transition;
    }

    /// The event changed nothing: refused by the handler or by the table.
    fn on_rejected(
        &mut self,
        state: &H::State,
        rejection: &Rejection<<H::State as StateMachine>::Kind>,
    ) {
        let _ = (state, rejection);
    }

    /// A task from `Cx::spawn` panicked; the run goes on.
    fn on_task_panic(&mut self, message: &str) {
        let _ = message;
    }

    /// The runner is about to answer the senders of the events it handled
    /// since the last call (or to wait for more): a recorder that buffers
    /// what it writes makes it durable here, once per batch instead of
    /// once per event (group commit). Called with nothing new too.
    fn flush(&mut self) {}

    /// The run ended; called **exactly once**, unless it was passivated.
    fn on_finish(&mut self, outcome: &Outcome<H::State>) {
        let _ = outcome;
    }

    /// The run was passivated by its fleet (`statewright::fleet`, with a
    /// store feature: idle, asked to, or shut down), as `snapshot` shows it: called
    /// instead of `on_finish`, since the machine has not ended. It stays
    /// in the store; its next activation calls `on_restore`.
    fn on_passivate(&mut self, snapshot: &Snapshot<H::State>) {
        let _ = snapshot;
    }
}
