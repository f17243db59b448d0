//! [`Cx`]: what a handler may ask of the runner while it handles an event.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;

use tokio::time::Instant;

use super::Handler;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The farthest a state timer is set: "never", in practice, without
/// overflowing `Instant` or `SystemTime` (tokio uses the same bound).
pub(crate) const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The timer request of one handler call; the last call wins.
pub(crate) enum TimerRequest<E> {
    Set { deadline: Instant, event: E },
    Cancel,
}

/// The handler's context: the clock, the state timer, tasks and self-sent events.
///
/// Requests are recorded and take effect only when the step is accepted: if
/// the handler returns `Step::reject`, or a `Step::to` the table refuses, the
/// timer, the tasks and the queue stay exactly as they were.
pub struct Cx<H: Handler> {
    pub(crate) timer: Option<TimerRequest<H::Event>>,
    pub(crate) spawned: Vec<BoxFuture<H::Event>>,
    pub(crate) to_self: Vec<H::Event>,
}

impl<H: Handler> Cx<H> {
    pub(crate) fn new() -> Self {
        Self {
            timer: None,
            spawned: Vec::new(),
            to_self: Vec::new(),
        }
    }

    /// The current time on tokio's clock (so it follows `tokio::time::pause`).
    ///
    /// Read on demand rather than stamped on every event: most events never ask.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use std::time::Duration;
    /// use statewright::Applied;
    /// use tokio::time::Instant;
    ///
    /// /// Opens the door only within a minute of being started.
    /// struct Timed(Instant);
    ///
    /// impl Handler for Timed {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, _: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         if cx.now() - self.0 < Duration::from_secs(60) {
    ///             Step::to(Door::Open)
    ///         } else {
    ///             Step::reject("too late")
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let door = Runner::new(Timed(Instant::now()), Door::Closed).spawn();
    /// tokio::time::advance(Duration::from_secs(61)).await;
    /// let refused = door.send(Push::Open).await.unwrap();
    /// assert_eq!(refused, Applied::Rejected { reason: "too late".into() });
    /// # }
    /// ```
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// Sets the state timer to deliver `event` after `after`.
    ///
    /// There is **one** state timer: this replaces any earlier one, and any
    /// transition cancels it (a `Step::to` returned together with this call
    /// sets it on the new state). A cancelled timer never delivers. A delay
    /// longer than 30 years is cut to 30 years ("never", in practice).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use std::time::Duration;
    ///
    /// /// Closes the door by itself five seconds after it was opened.
    /// struct Closer;
    ///
    /// impl Handler for Closer {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         match push {
    ///             Push::Open => {
    ///                 cx.set_timeout(Duration::from_secs(5), Push::Close);
    ///                 Step::to(Door::Open)
    ///             }
    ///             Push::Close => Step::to(Door::Closed),
    ///             _ => Step::stay(),
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let door = Runner::new(Closer, Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// assert!(door.snapshot().timeout_at.is_some()); // the deadline is public
    /// tokio::time::sleep(Duration::from_secs(6)).await;
    /// assert_eq!(door.snapshot().state, Door::Closed);
    /// # }
    /// ```
    pub fn set_timeout(&mut self, after: Duration, event: H::Event) {
        let deadline = Instant::now() + after.min(FAR_FUTURE);
        self.timer = Some(TimerRequest::Set { deadline, event });
    }

    /// Like [`set_timeout`](Self::set_timeout), with an absolute deadline
    /// (one in the past fires at once; one more than 30 years away is cut
    /// to 30 years).
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use std::time::Duration;
    /// use tokio::time::Instant;
    ///
    /// /// Closes the door at a fixed time, however often it is knocked on.
    /// struct Curfew(Instant);
    ///
    /// impl Handler for Curfew {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         match push {
    ///             Push::Open => {
    ///                 cx.set_timeout_at(self.0, Push::Close);
    ///                 Step::to(Door::Open)
    ///             }
    ///             Push::Close => Step::to(Door::Closed),
    ///             _ => Step::stay(),
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let curfew = Instant::now() + Duration::from_secs(60);
    /// let door = Runner::new(Curfew(curfew), Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// tokio::time::sleep_until(curfew + Duration::from_millis(1)).await;
    /// assert_eq!(door.snapshot().state, Door::Closed);
    /// # }
    /// ```
    pub fn set_timeout_at(&mut self, deadline: Instant, event: H::Event) {
        let deadline = deadline.min(Instant::now() + FAR_FUTURE);
        self.timer = Some(TimerRequest::Set { deadline, event });
    }

    /// Cancels the state timer, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use std::time::Duration;
    ///
    /// /// A knock keeps the door open: it cancels the pending close.
    /// struct Porter;
    ///
    /// impl Handler for Porter {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         match push {
    ///             Push::Open => {
    ///                 cx.set_timeout(Duration::from_secs(5), Push::Close);
    ///                 Step::to(Door::Open)
    ///             }
    ///             Push::Knock => {
    ///                 cx.cancel_timeout();
    ///                 Step::stay()
    ///             }
    ///             _ => Step::to(Door::Closed),
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let door = Runner::new(Porter, Door::Closed).spawn();
    /// door.send(Push::Open).await.unwrap();
    /// door.send(Push::Knock).await.unwrap();
    /// assert_eq!(door.snapshot().timeout_at, None);
    /// # }
    /// ```
    pub fn cancel_timeout(&mut self) {
        self.timer = Some(TimerRequest::Cancel);
    }

    /// Runs `task` on the runtime; its output comes back as an event.
    ///
    /// The task belongs to the state: it is aborted when the state is left,
    /// and an output that arrives after that is dropped. A task that panics
    /// is reported to the recorders (`on_task_panic`), even when its state
    /// was left in the meantime, and does not end the run.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use std::time::Duration;
    ///
    /// /// Asks a (slow) sensor before it opens the door.
    /// struct Sensor;
    ///
    /// impl Handler for Sensor {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         match push {
    ///             Push::Knock => {
    ///                 cx.spawn(async {
    ///                     tokio::time::sleep(Duration::from_millis(100)).await;
    ///                     Push::Open
    ///                 });
    ///                 Step::stay()
    ///             }
    ///             Push::Open => Step::to(Door::Open),
    ///             _ => Step::stay(),
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let door = Runner::new(Sensor, Door::Closed).spawn();
    /// let mut changes = door.subscribe();
    /// door.send(Push::Knock).await.unwrap();
    /// assert_eq!(changes.recv().await.unwrap().to, Door::Open);
    /// # }
    /// ```
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = H::Event> + Send + 'static,
    {
        self.spawned.push(Box::pin(task));
    }

    /// Queues `event` to be handled right after this one, before any event
    /// already waiting in the runner's queue.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// /// A knock opens the door, by way of an `Open` it sends itself.
    /// struct Butler;
    ///
    /// impl Handler for Butler {
    ///     type State = Door;
    ///     type Event = Push;
    ///
    ///     fn handle(&mut self, _: &Door, push: Push, cx: &mut Cx<Self>) -> Step<Door> {
    ///         match push {
    ///             Push::Knock => {
    ///                 cx.send_self(Push::Open);
    ///                 Step::stay()
    ///             }
    ///             Push::Open => Step::to(Door::Open),
    ///             _ => Step::to(Door::Closed),
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let door = Runner::new(Butler, Door::Closed).spawn();
    /// door.post(Push::Knock).await.unwrap();
    /// door.send(Push::Close).await.unwrap(); // after the self-sent `Open`
    /// assert_eq!(door.snapshot().seq, 2);
    /// # }
    /// ```
    pub fn send_self(&mut self, event: H::Event) {
        self.to_self.push(event);
    }
}

impl<H: Handler> fmt::Debug for Cx<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cx")
            .field("timer_requested", &self.timer.is_some())
            .field("spawned", &self.spawned.len())
            .field("to_self", &self.to_self)
            .finish()
    }
}
