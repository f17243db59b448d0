//! Run a machine as a tokio task: every step checked against the table.
//!
//! A [`Runner`] owns the state; your [`Handler`] owns the context (ids,
//! clients, counters) and decides, for each event, the next [`Step`]. The
//! runner checks each step against the table, keeps one state timer, runs
//! state-owned tasks, publishes a [`Snapshot`] for late watchers and a
//! [`Transition`] per change for subscribers, and calls [`Recorder`]s.
//!
//! # Usage
//!
//! ```
//! use statewright::{state_machine, Cx, Handler, Runner, Step};
//!
//! #[state_machine]
//! #[derive(Debug, Clone, PartialEq)]
//! enum Door {
//!     #[initial]
//!     #[to(Open)]
//!     Closed,
//!     #[to(Closed)]
//!     Open,
//! }
//!
//! #[derive(Debug)]
//! enum Push { Open, Close }
//!
//! struct Doorman;
//!
//! impl Handler for Doorman {
//!     type State = Door;
//!     type Event = Push;
//!
//!     fn handle(&mut self, _: &Door, event: Push, _: &mut Cx<Self>) -> Step<Door> {
//!         match event {
//!             Push::Open => Step::to(Door::Open),
//!             Push::Close => Step::to(Door::Closed),
//!         }
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let door = Runner::new(Doorman, Door::Closed).spawn();
//! door.send(Push::Open).await.unwrap();
//! assert_eq!(door.snapshot().state, Door::Open);
//! assert!(door.send(Push::Open).await.is_err()); // no edge Open -> Open
//! # }
//! ```
//!
//! ## Ordering
//!
//! Events run **one at a time**, in arrival order, each to completion.
//! Events from [`Cx::send_self`] run **before** the next queued event.
//!
//! ## Checked steps
//!
//! A [`Step::to`] the table forbids is refused: the sender gets
//! [`RunnerError::Illegal`], recorders see `on_rejected`, and the state, the
//! timer and the tasks are untouched. A `Step::to` of the same kind needs a
//! self-edge in the table and re-enters the state. [`Step::update`] changes
//! the current state's data: it keeps the timer and tasks and is published
//! like a transition (with `update: true`); an update of another kind is
//! refused with [`RunnerError::KindChanged`].
//!
//! ## The state timer
//!
//! There is **one** timer ([`Cx::set_timeout`]); setting it replaces the old
//! one, **any** transition cancels it, and a cancelled firing is **never**
//! delivered. Its deadline is in the snapshot and in every transition, the
//! initial state's included (from the moment the run is first polled). A
//! deadline more than 30 years away is cut to 30 years.
//!
//! ## Tasks
//!
//! Tasks from [`Cx::spawn`] belong to the state: they are aborted when it is
//! left, and their output comes back as an event only while it lasts. A
//! panicking task is reported to recorders (`on_task_panic`) **always**,
//! even if its state was left by then; it never ends the run.
//!
//! ## Pause, stop and the end of a run
//!
//! [`RunnerHandle::pause`] holds events, timer firings and task outputs, in
//! order, until [`RunnerHandle::resume`]. Control requests never take a
//! slot in the event queue. [`RunnerHandle::stop`] ends the run with
//! [`Outcome::Stopped`], as does dropping **every** handle; entering a
//! `#[terminal]` state ends it with [`Outcome::Completed`]; a handler panic
//! (in `handle` or `on_enter`) with [`Outcome::Crashed`]; dropping the task
//! or shutting the runtime down with [`Outcome::Aborted`].
//!
//! In **every** case, in this order: each recorder's `on_finish` runs
//! **exactly once**; then the snapshot shows the final [`Status`]; then
//! [`RunnerHandle::join`] returns; then the sender of the event that ended
//! the run gets its reply. Events still queued, and any sent later, fail
//! with [`RunnerError::Finished`]; subscribers receive the last transitions
//! and then `RecvError::Closed`.
//!
//! A run future (from [`Runner::pair`]) dropped before it was ever polled
//! still calls each recorder's `on_start` and then `on_finish(Aborted)`, so
//! a recorder always sees both or, if it was never added, neither.
//!
//! ## Watching
//!
//! The watch snapshot is updated **before** the sender gets its reply, and
//! `seq` rises by exactly one per change. A subscriber that falls behind
//! sees a gap in `seq` (or `RecvError::Lagged`) and resyncs from
//! [`RunnerHandle::snapshot`]: nothing is lost silently. A slow subscriber
//! never slows the runner, and with no subscriber no transition is built.
//! A transition's `event` is the event's `Debug` text; if that `Debug`
//! panics, the text says so and the run goes on.
//!
//! ## Checkpoints
//!
//! [`RunnerHandle::checkpoint`] takes a [`Checkpoint`] between two events,
//! the state timer included; [`Runner::restore`] resumes it after a
//! restart, checked against the table (see [`persist`](crate::persist)).
//!
//! ## Errors
//!
//! Each operation has the error type it can fail with, in [`error`]:
//! [`RunnerError`] for `send`, [`PostError`] and [`TryPostError`] (which
//! give the event back) for `post` and `try_post`, [`FinishedError`] for
//! `pause`, `resume` and `stop`.

mod durable;
pub mod error;
mod handle;
mod state_tasks;
mod task;
mod timer;

use core::fmt::{self, Debug};

pub use crate::handler::{Cx, Handler};
pub use crate::snapshot::{KindChanged, Outcome, Rejection, Step};
pub use error::{FinishedError, PostError, RunnerError, TryPostError};
pub use handle::RunnerHandle;

pub(crate) use crate::handler::Kind;

use crate::persist::{Checkpoint, PendingTimer, RestoreError};
use crate::recorder::Recorder;
use crate::{Fire, StateMachine};
#[cfg(doc)]
use crate::{Snapshot, Status, Transition};

/// What became of an event sent with [`RunnerHandle::send`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Applied<S: StateMachine> {
    /// The state changed (a transition, or an update when `from == to.kind()`).
    Transitioned {
        /// The new `seq`.
        seq: u64,
        /// The kind before.
        from: S::Kind,
        /// The complete new state.
        to: S,
    },
    /// The handler kept the state.
    Stayed,
    /// The handler refused the event.
    Rejected {
        /// The handler's reason.
        reason: String,
    },
    /// The handler ended the run.
    Stopped,
}

/// Builds a runner: `Runner::new(handler, initial).recorder(r).capacity(n).spawn()`.
#[must_use = "a runner does nothing until spawned or run"]
pub struct Runner<H: Handler> {
    handler: H,
    initial: H::State,
    recorders: Vec<Box<dyn Recorder<H>>>,
    capacity: usize,
    resume: Option<Resume<H::Event>>,
    persist: Option<Box<dyn durable::Persist<H::State, H::Event>>>,
}

/// Where a restored run goes on from.
pub(crate) struct Resume<E> {
    pub(crate) seq: u64,
    pub(crate) entered_at: std::time::SystemTime,
    pub(crate) timer: Option<PendingTimer<E>>,
}

impl<H: Handler> Runner<H> {
    /// A runner for `handler`, starting in `initial` (any state of the table,
    /// so a restored machine resumes where it was).
    pub fn new(handler: H, initial: H::State) -> Self {
        Self {
            handler,
            initial,
            recorders: Vec::new(),
            capacity: 64,
            resume: None,
            persist: None,
        }
    }

    /// A runner that resumes the run `checkpoint` was taken from: its state,
    /// its `seq`, its entry time and its state timer, which keeps its
    /// wall-clock deadline (one that passed while stored fires at once,
    /// exactly once). Restoring is not a transition: the run calls
    /// [`Handler::on_restore`] instead of `on_enter`, and each recorder's
    /// [`on_restore`](Recorder::on_restore) instead of `on_start`.
    ///
    /// # Errors
    ///
    /// [`RestoreError::ForeignMachine`] if the checkpoint is another
    /// machine's, [`RestoreError::TableChanged`] if it was taken under
    /// another table (accept it only through [`Checkpoint::migrate`]),
    /// [`RestoreError::Terminal`] if its state is terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Doorman, Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// let saved = serde_json::to_string(&door.checkpoint().await.unwrap()).unwrap();
    /// door.stop().unwrap();
    ///
    /// // Later, perhaps in another process:
    /// let checkpoint = serde_json::from_str(&saved).unwrap();
    /// let door = Runner::restore(Doorman, checkpoint).unwrap().spawn();
    /// assert_eq!((door.snapshot().state, door.snapshot().seq), (Door::Open, 1));
    /// # }
    /// ```
    pub fn restore(
        handler: H,
        checkpoint: Checkpoint<H::State, H::Event>,
    ) -> Result<Self, RestoreError<Kind<H>>> {
        checkpoint.verify()?;
        let mut runner = Self::new(handler, checkpoint.state);
        runner.resume = Some(Resume {
            seq: checkpoint.seq,
            entered_at: checkpoint.entered_at,
            timer: checkpoint.timer,
        });
        Ok(runner)
    }

    /// Adds a recorder; recorders are called in the order they were added.
    pub fn recorder(mut self, recorder: impl Recorder<H>) -> Self {
        self.recorders.push(Box::new(recorder));
        self
    }

    /// Adds a recorder already boxed (a fleet's, made per id).
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    pub(crate) fn boxed_recorder(mut self, recorder: Box<dyn Recorder<H>>) -> Self {
        self.recorders.push(recorder);
        self
    }

    /// The bound of the event queue (default 64, at least 1); `post` waits
    /// and `try_post` fails while it is full.
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// Spawns the run on the current tokio runtime.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime.
    pub fn spawn(self) -> RunnerHandle<H> {
        let (handle, run) = self.pair();
        tokio::spawn(run);
        handle
    }

    /// The handle and the run as a plain future (as tower's `Buffer::pair`),
    /// for your own executor or a deterministic test; the future resolves to
    /// the [`Outcome`] when the run ends. Dropping it before then ends the
    /// run with [`Outcome::Aborted`] (a future dropped before it was ever
    /// polled still calls each recorder's `on_start`, then `on_finish`; the
    /// handler's `on_enter` never runs). It must be polled within a tokio
    /// runtime (it uses tokio's timers and spawns the state's tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::Outcome;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let (door, run) = Runner::new(Doorman, Door::Closed).pair();
    /// let run = tokio::spawn(run);
    /// door.send(Push::Open).await.unwrap();
    /// door.stop().unwrap();
    /// assert_eq!(run.await.unwrap(), Outcome::Stopped(Door::Open));
    /// # }
    /// ```
    pub fn pair(
        self,
    ) -> (
        RunnerHandle<H>,
        impl core::future::Future<Output = Outcome<H::State>> + Send,
    ) {
        task::start(
            self.handler,
            self.initial,
            self.recorders,
            self.capacity,
            self.resume,
            self.persist,
        )
    }
}

impl<H: Handler> fmt::Debug for Runner<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runner")
            .field("machine", &H::State::NAME)
            .field("initial", &self.initial.kind())
            .field("recorders", &self.recorders.len())
            .field("capacity", &self.capacity)
            .field("restored", &self.resume.is_some())
            .field("durable", &self.persist.is_some())
            .finish_non_exhaustive()
    }
}

/// The ready-made handler for a table-only machine: each event is `fire`d.
///
/// An event the current state does not accept is rejected with the
/// `EventError` text; no user code is needed. Build it with [`Runner::fire_events`].
pub struct FireHandler<M>(core::marker::PhantomData<fn() -> M>);

impl<M> fmt::Debug for FireHandler<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FireHandler")
    }
}

impl<M> Handler for FireHandler<M>
where
    M: Fire + Clone + Sync,
    M::Event: Debug,
{
    type State = M;
    type Event = M::Event;

    fn handle(&mut self, state: &M, event: M::Event, _: &mut Cx<Self>) -> Step<M> {
        let mut next = state.clone();
        match next.fire(event) {
            Ok(_) => Step::to(next),
            Err(error) => Step::reject(error.to_string()),
        }
    }
}

impl<M> Runner<FireHandler<M>>
where
    M: Fire + Clone + Sync,
    M::Event: Debug,
{
    /// A runner that `fire`s each event on the machine: no handler to write.
    pub fn fire_events(initial: M) -> Self {
        Self::new(FireHandler(core::marker::PhantomData), initial)
    }
}
