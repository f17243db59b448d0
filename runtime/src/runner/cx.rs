//! [`Cx`]: what a handler may ask of the runner while it handles an event.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;

use tokio::time::Instant;

use super::Handler;

pub(crate) type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

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
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant::now()
    }

    /// Sets the state timer to deliver `event` after `after`.
    ///
    /// There is **one** state timer: this replaces any earlier one, and any
    /// transition cancels it (a `Step::to` returned together with this call
    /// sets it on the new state). A cancelled timer never delivers.
    pub fn set_timeout(&mut self, after: Duration, event: H::Event) {
        let deadline = Instant::now() + after;
        self.timer = Some(TimerRequest::Set { deadline, event });
    }

    /// Like [`set_timeout`](Self::set_timeout), with an absolute deadline.
    pub fn set_timeout_at(&mut self, deadline: Instant, event: H::Event) {
        self.timer = Some(TimerRequest::Set { deadline, event });
    }

    /// Cancels the state timer, if any.
    pub fn cancel_timeout(&mut self) {
        self.timer = Some(TimerRequest::Cancel);
    }

    /// Runs `task` on the runtime; its output comes back as an event.
    ///
    /// The task belongs to the state: it is aborted when the state is left,
    /// and an output that arrives after that is dropped. A task that panics is
    /// reported to the recorders (`on_task_panic`) and does not end the run.
    pub fn spawn<F>(&mut self, task: F)
    where
        F: Future<Output = H::Event> + Send + 'static,
    {
        self.spawned.push(Box::pin(task));
    }

    /// Queues `event` to be handled right after this one, before any event
    /// already waiting in the runner's queue.
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
