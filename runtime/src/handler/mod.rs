//! The user's side of a run: the [`Handler`] that decides each step, and
//! the [`Cx`] it makes requests on (the state timer, tasks, events to
//! itself). The runner drives it; recorders name it for its types.

mod cx;

use core::fmt::Debug;

pub use cx::Cx;
pub(crate) use cx::{BoxFuture, TimerRequest, FAR_FUTURE};

use crate::snapshot::Step;
use crate::StateMachine;
#[cfg(doc)]
use crate::{Checkpoint, Runner};

/// The kind of a handler's machine.
pub(crate) type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;

/// The user's side of a runner: decides each step from the state and an event.
pub trait Handler: Send + 'static {
    /// The machine the runner holds.
    type State: StateMachine + Clone + Sync;
    /// What the handler reacts to (sends, timer firings, task outputs).
    type Event: Debug + Send + 'static;

    /// Handles one event in `state`; requests on `cx` apply only if the step
    /// is accepted.
    fn handle(
        &mut self,
        state: &Self::State,
        event: Self::Event,
        cx: &mut Cx<Self>,
    ) -> Step<Self::State>
    where
        Self: Sized;

    /// Called after each entry into a state (the initial one included, when
    /// the run is first polled, and re-entry through a self-edge); not
    /// called for `Step::update`. Its `cx` requests apply to the entered
    /// state; a panic here ends the run with `Outcome::Crashed`.
    fn on_enter(&mut self, state: &Self::State, cx: &mut Cx<Self>)
    where
        Self: Sized,
    {
        let _ = (state, cx);
    }

    /// Called instead of [`on_enter`](Self::on_enter) when a run resumes
    /// from a [`Checkpoint`] ([`Runner::restore`]): the
    /// state was entered before the checkpoint, so no entry action runs
    /// twice. Rebuild what the handler keeps beside the state here (the
    /// restored timer is already set; `cx` may replace or cancel it). A
    /// panic here ends the run with `Outcome::Crashed`.
    fn on_restore(&mut self, state: &Self::State, cx: &mut Cx<Self>)
    where
        Self: Sized,
    {
        let _ = (state, cx);
    }
}
