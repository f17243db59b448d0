//! [`RunnerHandle`]: the cheap, cloneable way in and out of a running machine.

use core::fmt;
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, oneshot, watch};

use super::{Applied, Handler, Outcome, RunnerError};
use crate::{Snapshot, StateMachine, Transition};

type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;
pub(crate) type Reply<H> =
    oneshot::Sender<Result<Applied<<H as Handler>::State>, RunnerError<Kind<H>>>>;

pub(crate) struct Envelope<H: Handler> {
    pub(crate) event: H::Event,
    pub(crate) reply: Option<Reply<H>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Control {
    Pause,
    Resume,
    Stop,
}

/// A handle to a running machine. Cheap to clone; every clone talks to the
/// same runner. When **every** handle is dropped the run ends with
/// `Outcome::Stopped`.
pub struct RunnerHandle<H: Handler> {
    pub(crate) events: mpsc::Sender<Envelope<H>>,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    pub(crate) snapshot: watch::Receiver<Snapshot<H::State>>,
    pub(crate) transitions: broadcast::Sender<Arc<Transition<H::State>>>,
    pub(crate) outcome: watch::Receiver<Option<Outcome<H::State>>>,
}

impl<H: Handler> Clone for RunnerHandle<H> {
    fn clone(&self) -> Self {
        Self {
            events: self.events.clone(),
            control: self.control.clone(),
            snapshot: self.snapshot.clone(),
            transitions: self.transitions.clone(),
            outcome: self.outcome.clone(),
        }
    }
}

impl<H: Handler> RunnerHandle<H> {
    /// Sends `event` and waits until it has been handled.
    ///
    /// The snapshot already shows the result when this returns.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Illegal`] if and only if the handler asked for a
    /// transition the table forbids; [`RunnerError::Finished`] if the run
    /// ended before handling it; [`RunnerError::Crashed`] if the handler
    /// panicked on it.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the event was queued, the event is
    /// still handled; only the reply is lost.
    pub async fn send(&self, event: H::Event) -> Result<Applied<H::State>, RunnerError<Kind<H>>> {
        let (reply, answer) = oneshot::channel();
        let envelope = Envelope {
            event,
            reply: Some(reply),
        };
        self.events
            .send(envelope)
            .await
            .map_err(|_| RunnerError::Finished)?;
        answer.await.unwrap_or(Err(RunnerError::Finished))
    }

    /// Queues `event` without waiting for it to be handled; waits only while
    /// the queue is full.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has ended.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped before it completes, the event was not queued.
    pub async fn post(&self, event: H::Event) -> Result<(), RunnerError<Kind<H>>> {
        self.events
            .send(Envelope { event, reply: None })
            .await
            .map_err(|_| RunnerError::Finished)
    }

    /// Queues `event` if there is room, without waiting.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Full`] if the queue is full (the event is dropped),
    /// [`RunnerError::Finished`] if the run has ended.
    pub fn try_post(&self, event: H::Event) -> Result<(), RunnerError<Kind<H>>> {
        self.events
            .try_send(Envelope { event, reply: None })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => RunnerError::Full,
                mpsc::error::TrySendError::Closed(_) => RunnerError::Finished,
            })
    }

    /// The current snapshot (a clone).
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<H::State> {
        self.snapshot.borrow().clone()
    }

    /// A receiver that always holds the latest snapshot, the final status included.
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<Snapshot<H::State>> {
        self.snapshot.clone()
    }

    /// Every change from now on, with the complete new state.
    ///
    /// A receiver that falls more than the channel's capacity (1024) behind
    /// gets `RecvError::Lagged`; resync from [`snapshot`](Self::snapshot).
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Transition<H::State>>> {
        self.transitions.subscribe()
    }

    /// Holds events, timer firings and task outputs until [`resume`](Self::resume).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has ended.
    pub fn pause(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(Control::Pause)
    }

    /// Handles what was held, in order, and goes on.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has ended.
    pub fn resume(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(Control::Resume)
    }

    /// Ends the run with `Outcome::Stopped` once the current event is done;
    /// queued events are not handled.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has already ended.
    pub fn stop(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(Control::Stop)
    }

    /// Waits for the run to end and returns how it ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    pub async fn join(&self) -> Outcome<H::State> {
        let mut outcome = self.outcome.clone();
        let finished = match outcome.wait_for(Option::is_some).await {
            Ok(finished) => finished.clone(),
            Err(_) => None,
        };
        finished.unwrap_or(Outcome::Aborted)
    }

    fn control(&self, control: Control) -> Result<(), RunnerError<Kind<H>>> {
        self.control
            .send(control)
            .map_err(|_| RunnerError::Finished)
    }
}

impl<H: Handler> fmt::Debug for RunnerHandle<H>
where
    H::State: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunnerHandle")
            .field("snapshot", &*self.snapshot.borrow())
            .finish_non_exhaustive()
    }
}
