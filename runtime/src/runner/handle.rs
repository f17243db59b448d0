//! [`RunnerHandle`]: the cheap, cloneable way in and out of a running machine.

use core::fmt;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock};
use std::time::SystemTime;

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};

use atomic_waker::AtomicWaker;
use tokio::sync::{broadcast, mpsc, oneshot, watch, Notify};

use super::error::{FinishedError, PostError, TryPostError};
use super::{Applied, Handler, Kind, Outcome, RunnerError};
use crate::persist::{Checkpoint, PendingTimer};
use crate::{Snapshot, StateMachine, Transition};

pub(crate) type Reply<H> =
    oneshot::Sender<Result<Applied<<H as Handler>::State>, RunnerError<Kind<H>>>>;

/// What handles and the run share besides the queue and the snapshot. Kept
/// in one allocation: an idle runner should cost little more than a raw actor.
pub(crate) struct Shared<S: StateMachine, E> {
    /// The current snapshot; written only by the run.
    snapshot: RwLock<Snapshot<S>>,
    /// The watch channel, created by the first `watch`; fed under the
    /// snapshot's write lock so it never misses a change.
    watch: OnceLock<watch::Sender<Snapshot<S>>>,
    /// Woken when the run finishes, after every `on_finish` has returned.
    pub(crate) finished: Notify,
    /// The broadcast channel: opened by the first `subscribe` (until then a
    /// runner neither allocates its slots nor builds transitions), closed
    /// when the run ends so receivers see `Closed`; and the checkpoint
    /// requests waiting for the run, under the same lock so that none is
    /// left behind when it closes.
    requests: Mutex<Requests<S, E>>,
    /// Set once the channel is open, so the run looks at the mutex only once.
    pub(crate) subscribed: AtomicBool,
    /// Set once, after every `on_finish` and before the snapshot shows a
    /// finished status.
    pub(crate) outcome: OnceLock<Outcome<S>>,
    /// Control requests: the latest `pause`/`resume` wins; `stop` is final.
    pub(crate) pause: AtomicBool,
    pub(crate) stop: AtomicBool,
    /// Set by a fleet: end the run as `stop` does, but as a passivation.
    pub(crate) passivate: AtomicBool,
    /// The state tasks whose output the run has not received, once the
    /// run spawned one: a fleet does not passivate a run with one.
    pub(crate) outstanding_tasks: OnceLock<Arc<std::sync::atomic::AtomicU32>>,
    /// The store's error that ended a durable run `Lost`: a fleet tells a
    /// sender whose event was queued behind the failed write that its
    /// activation was fenced, not merely finished.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) lost_by: OnceLock<super::error::SaveError>,
    /// Live handles; the last one dropped stops the run. 32 bits (four
    /// billion handles) keep `Shared` in a smaller allocation.
    pub(crate) handles: AtomicU32,
    /// Set with every control request; the run checks it between events
    /// with one load.
    pub(crate) requested: AtomicBool,
    /// The run's waker for control requests: registered lock-free each time
    /// the run waits. It is not the event queue, so a control request never
    /// takes a slot a user's event could use.
    pub(crate) control: AtomicWaker,
}

type Broadcast<S> = broadcast::Sender<Arc<Transition<S>>>;

/// A checkpoint request, answered by the run between events.
pub(crate) struct CheckpointRequest<S, E> {
    /// Clones the timer's event: given by [`RunnerHandle::checkpoint`],
    /// where `E: Clone` is known, so the run needs no such bound.
    clone_event: fn(&E) -> E,
    reply: oneshot::Sender<std::thread::Result<Checkpoint<S, E>>>,
}

impl<S: StateMachine + Clone, E> CheckpointRequest<S, E> {
    /// Takes the checkpoint; a panicking `Clone` is sent to the caller,
    /// whose `checkpoint` resumes it, and the run goes on.
    pub(crate) fn answer(
        self,
        state: &S,
        seq: u64,
        entered_at: SystemTime,
        timer: Option<(SystemTime, &E)>,
    ) {
        let clone_event = self.clone_event;
        let taken = catch_unwind(AssertUnwindSafe(|| {
            let mut checkpoint = Checkpoint::new(state.clone(), seq, entered_at);
            checkpoint.timer = timer.map(|(at, event)| PendingTimer::new(at, clone_event(event)));
            checkpoint
        }));
        let _ = self.reply.send(taken);
    }
}

struct Requests<S: StateMachine, E> {
    channel: Channel<S>,
    checkpoints: Vec<CheckpointRequest<S, E>>,
}

enum Channel<S: StateMachine> {
    Unopened,
    Open(Broadcast<S>),
    Closed,
}

impl<S: StateMachine + Clone, E> Shared<S, E> {
    pub(crate) fn new(snapshot: Snapshot<S>) -> Self {
        Self {
            snapshot: RwLock::new(snapshot),
            watch: OnceLock::new(),
            finished: Notify::new(),
            requests: Mutex::new(Requests {
                channel: Channel::Unopened,
                checkpoints: Vec::new(),
            }),
            subscribed: AtomicBool::new(false),
            outcome: OnceLock::new(),
            pause: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            passivate: AtomicBool::new(false),
            outstanding_tasks: OnceLock::new(),
            #[cfg(any(feature = "sqlite", feature = "postgres"))]
            lost_by: OnceLock::new(),
            handles: AtomicU32::new(1),
            requested: AtomicBool::new(false),
            control: AtomicWaker::new(),
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

    fn subscribe(&self) -> broadcast::Receiver<Arc<Transition<S>>> {
        let mut requests = self.lock_requests();
        match &requests.channel {
            Channel::Open(sender) => sender.subscribe(),
            Channel::Unopened => {
                let (sender, receiver) = broadcast::channel(BROADCAST_CAPACITY);
                requests.channel = Channel::Open(sender);
                self.subscribed.store(true, Ordering::Release);
                receiver
            }
            Channel::Closed => broadcast::channel(1).1,
        }
    }

    /// The open broadcast channel, for the run to keep.
    pub(crate) fn broadcast(&self) -> Option<Broadcast<S>> {
        match &self.lock_requests().channel {
            Channel::Open(sender) => Some(sender.clone()),
            Channel::Unopened | Channel::Closed => None,
        }
    }

    /// Drops the shared sender (receivers see `Closed` once the run's is
    /// gone too) and every checkpoint request still waiting (their callers
    /// learn that the run has finished).
    pub(crate) fn close(&self) {
        let unanswered = {
            let mut requests = self.lock_requests();
            requests.channel = Channel::Closed;
            core::mem::take(&mut requests.checkpoints)
        };
        drop(unanswered);
    }

    /// Queues a checkpoint request and wakes the run; `false` once the run
    /// has finished.
    pub(crate) fn request_checkpoint(&self, request: CheckpointRequest<S, E>) -> bool {
        {
            let mut requests = self.lock_requests();
            if matches!(requests.channel, Channel::Closed) {
                return false;
            }
            requests.checkpoints.push(request);
        }
        self.requested.store(true, Ordering::Release);
        self.control.wake();
        true
    }

    /// The checkpoint requests waiting for the run.
    pub(crate) fn take_checkpoints(&self) -> Vec<CheckpointRequest<S, E>> {
        core::mem::take(&mut self.lock_requests().checkpoints)
    }

    fn lock_requests(&self) -> std::sync::MutexGuard<'_, Requests<S, E>> {
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Broadcast capacity: a subscriber this far behind gets `Lagged`.
const BROADCAST_CAPACITY: usize = 1024;

/// A queued event, with the channel for its reply if a sender waits for one.
///
/// An enum rather than an event and an `Option` of the reply: the reply's
/// null niche then tells the two apart, so a small event's envelope is 16
/// bytes instead of 24, and the queue's first block (32 envelopes,
/// allocated with every runner) is 256 bytes smaller.
pub(crate) enum Envelope<H: Handler> {
    Post(H::Event),
    Send(H::Event, Reply<H>),
}

impl<H: Handler> Envelope<H> {
    pub(crate) fn into_parts(self) -> (H::Event, Option<Reply<H>>) {
        match self {
            Self::Post(event) => (event, None),
            Self::Send(event, reply) => (event, Some(reply)),
        }
    }

    fn into_event(self) -> H::Event {
        self.into_parts().0
    }
}

/// A handle to a running machine. Cheap to clone; every clone talks to the
/// same runner. When **every** handle is dropped the run ends with
/// `Outcome::Stopped`.
pub struct RunnerHandle<H: Handler> {
    pub(crate) events: mpsc::Sender<Envelope<H>>,
    pub(crate) shared: Arc<Shared<H::State, H::Event>>,
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
            self.shared.control.wake();
        }
    }
}

impl<H: Handler> RunnerHandle<H> {
    /// Sends `event` and waits until it has been handled.
    ///
    /// Waits for room while the queue is full. When this returns, the
    /// [`snapshot`](Self::snapshot) already shows the result, an ending
    /// included (its status is then finished).
    ///
    /// # Errors
    ///
    /// - [`RunnerError::Illegal`] if and only if the handler asked for a
    ///   transition the table forbids (the state did not change);
    /// - [`RunnerError::KindChanged`] if and only if the handler returned a
    ///   `Step::update` of another kind (the state did not change);
    /// - [`RunnerError::Crashed`] if the handler panicked on this event (the
    ///   run has ended);
    /// - [`RunnerError::Finished`] if the run ended before handling it.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe. If the future is dropped while it
    /// waits for room in the queue, the event is lost: it was never queued.
    /// If it is dropped after the event was queued, the event is still
    /// handled, in order; only the reply is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::{Applied, RunnerError};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// let applied = door.send(Push::Open).await.unwrap();
    /// assert!(matches!(applied, Applied::Transitioned { seq: 1, to: Door::Open, .. }));
    ///
    /// // No edge `Open -> Open`: refused, and nothing changed.
    /// let error = door.send(Push::Open).await.unwrap_err();
    /// assert!(matches!(error, RunnerError::Illegal(_)));
    /// assert_eq!(door.snapshot().seq, 1);
    /// # }
    /// ```
    pub async fn send(&self, event: H::Event) -> Result<Applied<H::State>, RunnerError<Kind<H>>> {
        self.send_or_give_back(event)
            .await
            .unwrap_or(Err(RunnerError::Finished))
    }

    /// Queues `event` without waiting for it to be handled; waits only while
    /// the queue is full.
    ///
    /// # Errors
    ///
    /// [`PostError`] if and only if the run has ended; it holds the event.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: if the future is dropped before it
    /// completes, the event was not queued (and is dropped with it).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.post(Push::Open).await.unwrap();
    /// door.post(Push::Close).await.unwrap();
    /// door.send(Push::Knock).await.unwrap(); // handled after both posts
    /// assert_eq!(door.snapshot().seq, 2);
    ///
    /// door.stop().unwrap();
    /// door.join().await;
    /// let error = door.post(Push::Open).await.unwrap_err();
    /// assert!(matches!(error.into_inner(), Push::Open));
    /// # }
    /// ```
    pub async fn post(&self, event: H::Event) -> Result<(), PostError<H::Event>> {
        self.events
            .send(Envelope::Post(event))
            .await
            .map_err(|error| PostError(error.0.into_event()))
    }

    /// Queues `event` if there is room, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryPostError::Full`] if and only if the queue is full,
    /// [`TryPostError::Finished`] if and only if the run has ended; both
    /// hold the event.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::runner::error::TryPostError;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).capacity(1).spawn();
    /// door.pause().unwrap(); // nothing is taken off the queue while paused
    /// door.try_post(Push::Open).unwrap();
    /// assert!(matches!(door.try_post(Push::Close), Err(TryPostError::Full(Push::Close))));
    /// # }
    /// ```
    pub fn try_post(&self, event: H::Event) -> Result<(), TryPostError<H::Event>> {
        self.events
            .try_send(Envelope::Post(event))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(envelope) => {
                    TryPostError::Full(envelope.into_event())
                }
                mpsc::error::TrySendError::Closed(envelope) => {
                    TryPostError::Finished(envelope.into_event())
                }
            })
    }

    /// A [`Checkpoint`] of the run: its state, `seq`, entry time and state
    /// timer (with the event it will fire), everything
    /// [`Runner::restore`](crate::Runner::restore) needs to resume it.
    ///
    /// It is taken by the run between two events, so it is consistent: it
    /// holds every event handled before it and none after. It does not wait
    /// for the queue: a paused run answers too, and its queued events are
    /// not in it.
    ///
    /// # Errors
    ///
    /// [`RunnerError::Finished`] if and only if the run ended before
    /// taking it.
    ///
    /// # Panics
    ///
    /// If the state's or the timer event's `Clone` panics; the panic is
    /// resumed here, in the caller, and the run goes on.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future withdraws nothing
    /// from the run, which takes the checkpoint and throws it away.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// let checkpoint = door.checkpoint().await.unwrap();
    /// assert_eq!((checkpoint.state, checkpoint.seq), (Door::Open, 1));
    /// assert!(checkpoint.timer.is_none());
    /// # }
    /// ```
    pub async fn checkpoint(&self) -> Result<Checkpoint<H::State, H::Event>, RunnerError<Kind<H>>>
    where
        H::Event: Clone,
    {
        let (reply, answer) = oneshot::channel();
        let request = CheckpointRequest {
            clone_event: H::Event::clone,
            reply,
        };
        if !self.shared.request_checkpoint(request) {
            return Err(RunnerError::Finished);
        }
        match answer.await {
            Ok(Ok(checkpoint)) => Ok(checkpoint),
            Ok(Err(panic)) => resume_unwind(panic),
            Err(_) => Err(RunnerError::Finished),
        }
    }

    /// The current snapshot (a clone).
    ///
    /// The initial state's entry (its `on_enter`, and the timer it sets)
    /// runs when the run is first polled; the snapshot shows it from then
    /// on, before any event is handled.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Status;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// let snapshot = door.snapshot();
    /// assert_eq!((snapshot.state, snapshot.seq, snapshot.status), (Door::Open, 1, Status::Running));
    /// # }
    /// ```
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<H::State> {
        self.shared.snapshot()
    }

    /// A receiver that always holds the latest snapshot, the final status
    /// included: a watcher that arrives late reads the current state at once.
    ///
    /// What its `borrow()` and `wait_for(..)` return is a read guard on the
    /// run's latest snapshot: while one is held the run cannot publish the
    /// next, so holding it across an `.await` (a [`send`](Self::send), say)
    /// blocks the run and, with it, that `send`. Clone what you need and let
    /// the guard go at once, or use [`wait_for`](Self::wait_for), which
    /// returns an owned snapshot.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Status;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// let mut watch = door.watch();
    /// door.post(Push::Open).await.unwrap();
    /// door.stop().unwrap();
    /// let last = watch.wait_for(|snapshot| snapshot.status.is_finished()).await.unwrap();
    /// assert_eq!(last.status, Status::Stopped);
    /// # }
    /// ```
    #[must_use]
    pub fn watch(&self) -> watch::Receiver<Snapshot<H::State>> {
        self.shared.watch()
    }

    /// Waits for the first snapshot that matches `predicate` and returns
    /// it, owned; if the run ends before one does, returns its final
    /// snapshot (look at its `status`). Nothing is held while it waits or
    /// after it returns, so the run goes on; see [`watch`](Self::watch) for
    /// what holding a snapshot's guard does.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only reads.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Status;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// let opened = door.wait_for(|snapshot| snapshot.state == Door::Open);
    /// let (opened, sent) = tokio::join!(opened, door.send(Push::Open));
    /// assert_eq!((opened.state, opened.seq), (Door::Open, 1));
    /// sent.unwrap();
    /// // The snapshot is the caller's: the run goes on.
    /// door.send(Push::Close).await.unwrap();
    ///
    /// door.stop().unwrap();
    /// let last = door.wait_for(|snapshot| snapshot.state == Door::Open).await;
    /// assert_eq!((last.state, last.status), (Door::Closed, Status::Stopped));
    /// # }
    /// ```
    pub async fn wait_for(
        &self,
        mut predicate: impl FnMut(&Snapshot<H::State>) -> bool,
    ) -> Snapshot<H::State> {
        let mut watch = self.watch();
        let found = watch
            .wait_for(|snapshot| predicate(snapshot) || snapshot.status.is_finished())
            .await
            .map(|snapshot| snapshot.clone());
        // The sender lives as long as any handle, this one included.
        found.unwrap_or_else(|_| self.snapshot())
    }

    /// Every change from now on, with the complete new state.
    ///
    /// A receiver that falls more than the channel's capacity (1024) behind
    /// gets `RecvError::Lagged`; resync from [`snapshot`](Self::snapshot).
    /// When the run ends, receivers get the remaining changes, then
    /// `RecvError::Closed`; one created after the end is closed at once.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// let mut changes = door.subscribe();
    /// door.send(Push::Open).await.unwrap();
    /// door.stop().unwrap();
    /// let change = changes.recv().await.unwrap();
    /// assert_eq!((change.seq, change.from, &change.to), (1, DoorKind::Closed, &Door::Open));
    /// assert!(changes.recv().await.is_err()); // closed: the run has ended
    /// # }
    /// ```
    #[must_use]
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Transition<H::State>>> {
        self.shared.subscribe()
    }

    /// Holds events, timer firings and task outputs until [`resume`](Self::resume).
    ///
    /// The run pauses once the event it is handling is done; the snapshot's
    /// status then says `Paused`. Calling it again is harmless.
    ///
    /// # Errors
    ///
    /// [`FinishedError`] if and only if the run has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Status;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.pause().unwrap();
    /// door.post(Push::Open).await.unwrap();
    /// let mut watch = door.watch();
    /// watch.wait_for(|snapshot| snapshot.status == Status::Paused).await.unwrap();
    /// assert_eq!(door.snapshot().state, Door::Closed); // held, not handled
    /// door.resume().unwrap();
    /// door.send(Push::Knock).await.unwrap();
    /// assert_eq!(door.snapshot().state, Door::Open);
    /// # }
    /// ```
    pub fn pause(&self) -> Result<(), FinishedError> {
        self.control(&self.shared.pause, true)
    }

    /// Handles what was held, in order, and goes on.
    ///
    /// # Errors
    ///
    /// [`FinishedError`] if and only if the run has ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.pause().unwrap();
    /// door.post(Push::Open).await.unwrap();
    /// door.resume().unwrap();
    /// door.send(Push::Close).await.unwrap();
    /// assert_eq!(door.snapshot().seq, 2);
    /// # }
    /// ```
    pub fn resume(&self) -> Result<(), FinishedError> {
        self.control(&self.shared.pause, false)
    }

    /// Ends the run with `Outcome::Stopped` once the current event is done;
    /// queued events are not handled (their senders get `Finished`). It also
    /// ends a paused run.
    ///
    /// # Errors
    ///
    /// [`FinishedError`] if and only if the run has already ended.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Outcome;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.stop().unwrap();
    /// assert_eq!(door.join().await, Outcome::Stopped(Door::Closed));
    /// assert!(door.stop().is_err());
    /// # }
    /// ```
    pub fn stop(&self) -> Result<(), FinishedError> {
        self.control(&self.shared.stop, true)
    }

    /// Ends the run as [`stop`](Self::stop) does, with
    /// [`Outcome::Passivated`]: its fleet activates it again later.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn passivate(&self) -> Result<(), FinishedError> {
        self.control(&self.shared.passivate, true)
    }

    /// Whether a state task of the run is running, or its output waits
    /// for the run.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn tasks_outstanding(&self) -> bool {
        self.shared
            .outstanding_tasks
            .get()
            .is_some_and(|count| count.load(Ordering::SeqCst) > 0)
    }

    /// As [`send`](Self::send), but an event that could not be queued (the
    /// run had ended) comes back, for a fleet's next activation.
    pub(crate) async fn send_or_give_back(
        &self,
        event: H::Event,
    ) -> Result<Result<Applied<H::State>, RunnerError<Kind<H>>>, H::Event> {
        let (reply, answer) = oneshot::channel();
        if let Err(refused) = self.events.send(Envelope::Send(event, reply)).await {
            return Err(refused.0.into_event());
        }
        Ok(answer.await.unwrap_or(Err(RunnerError::Finished)))
    }

    /// The store's error that ended the run `Lost`, if one did.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn lost_by(&self) -> Option<&super::error::SaveError> {
        self.shared.lost_by.get()
    }

    /// The outcome, once the run has ended.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn outcome(&self) -> Option<&Outcome<H::State>> {
        self.shared.outcome.get()
    }

    /// Waits for the run to end and returns how it ended.
    ///
    /// It returns only **after** every recorder's `on_finish` has returned,
    /// so code that joins can rely on the recorders being done.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only watches the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Outcome;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// let joined = tokio::spawn({
    ///     let door = door.clone();
    ///     async move { door.join().await }
    /// });
    /// door.send(Push::Open).await.unwrap();
    /// door.stop().unwrap();
    /// assert_eq!(joined.await.unwrap(), Outcome::Stopped(Door::Open));
    /// # }
    /// ```
    pub async fn join(&self) -> Outcome<H::State> {
        loop {
            // Created before the check, so a finish in between still wakes it.
            let finished = self.shared.finished.notified();
            if let Some(outcome) = self.shared.outcome.get() {
                return outcome.clone();
            }
            finished.await;
        }
    }

    fn control(&self, flag: &AtomicBool, value: bool) -> Result<(), FinishedError> {
        if self.shared.is_finished() {
            return Err(FinishedError);
        }
        flag.store(value, Ordering::Release);
        self.shared.requested.store(true, Ordering::Release);
        // A busy run sees `requested` before its next event; a waiting one is woken.
        self.shared.control.wake();
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
