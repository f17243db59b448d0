//! [`RunnerHandle`]: the cheap, cloneable way in and out of a running machine.

use core::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};

use super::{Applied, Handler, Kind, Outcome, RunnerError};
use crate::{Snapshot, StateMachine, Transition};

pub(crate) type Reply<H> =
    oneshot::Sender<Result<Applied<<H as Handler>::State>, RunnerError<Kind<H>>>>;

/// What handles and the run share besides the queue and the snapshot. Kept
/// in one allocation: an idle runner should cost little more than a raw actor.
pub(crate) struct Shared<S: StateMachine> {
    /// The current snapshot; written only by the run.
    snapshot: RwLock<Snapshot<S>>,
    /// The watch channel, created by the first `watch`; fed under the
    /// snapshot's write lock so it never misses a change.
    watch: OnceLock<watch::Sender<Snapshot<S>>>,
    /// Woken when the run finishes.
    pub(crate) finished: Notify,
    /// The broadcast channel, created by the first `subscribe`: until then a
    /// runner neither allocates its 1024 slots nor builds transitions.
    pub(crate) transitions: OnceLock<broadcast::Sender<Arc<Transition<S>>>>,
    /// Set once, before the snapshot shows a finished status.
    pub(crate) outcome: OnceLock<Outcome<S>>,
    /// Control requests: the latest `pause`/`resume` wins; `stop` is final.
    pub(crate) pause: AtomicBool,
    pub(crate) stop: AtomicBool,
    /// Live handles; the last one dropped stops the run.
    pub(crate) handles: AtomicUsize,
    /// Set with every control request; the run checks it between events
    /// with one load, so a running loop never touches `wake`.
    pub(crate) requested: AtomicBool,
    /// Wakes a paused run for a control request.
    pub(crate) wake: Notify,
}

impl<S: StateMachine + Clone> Shared<S> {
    pub(crate) fn new(snapshot: Snapshot<S>) -> Self {
        Self {
            snapshot: RwLock::new(snapshot),
            watch: OnceLock::new(),
            finished: Notify::new(),
            transitions: OnceLock::new(),
            outcome: OnceLock::new(),
            pause: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            handles: AtomicUsize::new(1),
            requested: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    pub(crate) fn snapshot(&self) -> Snapshot<S> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .status
            .is_finished()
    }

    /// Changes the snapshot; `change` says whether it changed anything.
    pub(crate) fn update(&self, change: impl FnOnce(&mut Snapshot<S>) -> bool) {
        let mut snapshot = self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if change(&mut snapshot) {
            if let Some(watch) = self.watch.get() {
                watch.send_replace(snapshot.clone());
            }
        }
    }

    fn watch(&self) -> watch::Receiver<Snapshot<S>> {
        let snapshot = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        self.watch
            .get_or_init(|| watch::channel(snapshot.clone()).0)
            .subscribe()
    }

    pub(crate) fn subscribers(&self) -> Option<&broadcast::Sender<Arc<Transition<S>>>> {
        self.transitions
            .get()
            .filter(|sender| sender.receiver_count() > 0)
    }
}

/// Broadcast capacity: a subscriber this far behind gets `Lagged`.
const BROADCAST_CAPACITY: usize = 1024;

/// A queued event; `None` only wakes the run to look at a control request.
pub(crate) struct Envelope<H: Handler> {
    pub(crate) event: Option<H::Event>,
    pub(crate) reply: Option<Reply<H>>,
}

/// A handle to a running machine. Cheap to clone; every clone talks to the
/// same runner. When **every** handle is dropped the run ends with
/// `Outcome::Stopped`.
pub struct RunnerHandle<H: Handler> {
    pub(crate) events: mpsc::Sender<Envelope<H>>,
    pub(crate) shared: Arc<Shared<H::State>>,
}

impl<H: Handler> Clone for RunnerHandle<H> {
    fn clone(&self) -> Self {
        self.shared.handles.fetch_add(1, Ordering::Relaxed);
        Self {
            events: self.events.clone(),
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<H: Handler> Drop for RunnerHandle<H> {
    fn drop(&mut self) {
        if self.shared.handles.fetch_sub(1, Ordering::AcqRel) == 1 {
            // The queue closes with this handle, which wakes a running loop.
            self.shared.stop.store(true, Ordering::Release);
            self.shared.requested.store(true, Ordering::Release);
            self.shared.wake.notify_one();
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
            event: Some(event),
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
            .send(Envelope {
                event: Some(event),
                reply: None,
            })
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
            .try_send(Envelope {
                event: Some(event),
                reply: None,
            })
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => RunnerError::Full,
                mpsc::error::TrySendError::Closed(_) => RunnerError::Finished,
            })
    }

    /// The current snapshot (a clone).
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<H::State> {
        self.shared.snapshot()
    }

    /// A receiver that always holds the latest snapshot, the final status included.
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<Snapshot<H::State>> {
        self.shared.watch()
    }

    /// Every change from now on, with the complete new state.
    ///
    /// A receiver that falls more than the channel's capacity (1024) behind
    /// gets `RecvError::Lagged`; resync from [`snapshot`](Self::snapshot).
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Transition<H::State>>> {
        self.shared
            .transitions
            .get_or_init(|| broadcast::channel(BROADCAST_CAPACITY).0)
            .subscribe()
    }

    /// Holds events, timer firings and task outputs until [`resume`](Self::resume).
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has ended.
    pub fn pause(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(&self.shared.pause, true)
    }

    /// Handles what was held, in order, and goes on.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has ended.
    pub fn resume(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(&self.shared.pause, false)
    }

    /// Ends the run with `Outcome::Stopped` once the current event is done;
    /// queued events are not handled.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if the run has already ended.
    pub fn stop(&self) -> Result<(), RunnerError<Kind<H>>> {
        self.control(&self.shared.stop, true)
    }

    /// Waits for the run to end and returns how it ended.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    pub async fn join(&self) -> Outcome<H::State> {
        loop {
            // Created before the check, so a finish in between still wakes it.
            let finished = self.shared.finished.notified();
            if self.shared.is_finished() {
                break;
            }
            finished.await;
        }
        self.shared
            .outcome
            .get()
            .cloned()
            .unwrap_or(Outcome::Aborted)
    }

    fn control(&self, flag: &AtomicBool, value: bool) -> Result<(), RunnerError<Kind<H>>> {
        if self.shared.is_finished() {
            return Err(RunnerError::Finished);
        }
        flag.store(value, Ordering::Release);
        self.shared.requested.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        // A full queue means the run is busy and will see the request
        // before its next event; otherwise this wakes it.
        let _ = self.events.try_send(Envelope {
            event: None,
            reply: None,
        });
        Ok(())
    }
}

impl<H: Handler> fmt::Debug for RunnerHandle<H>
where
    H::State: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunnerHandle")
            .field("snapshot", &self.shared.snapshot())
            .finish_non_exhaustive()
    }
}
