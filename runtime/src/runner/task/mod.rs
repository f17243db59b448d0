//! The runner loop (private): owns the state, the timer, the tasks, the
//! channels and the recorders.

use std::any::Any;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::SystemTime;

use core::fmt::Debug;

use tokio::sync::{broadcast, mpsc};

mod saving;

use super::durable::Persist;
use super::handle::{Envelope, Reply, RunnerHandle, Shared};
use super::state_tasks::{panic_message, StateTasks, TaskOutput};
use super::timer::StateTimer;
use super::{Applied, Handler, Kind, Outcome, Rejection, Resume, RunnerError, Step};
use crate::handler::Cx;
use crate::recorder::Recorder;
use crate::snapshot::KindChanged;
use crate::{Snapshot, StateMachine, Status, Transition, TransitionError};
use saving::Durable;

/// Queued events handled per wake-up before the loop looks at timers, tasks
/// and the tokio budget again.
const DRAIN_BATCH: usize = 32;

/// What an event did; becomes an [`Applied`] (or, for an illegal step, a
/// `RunnerError`) only when a sender waits for the reply.
enum Handled<K: 'static> {
    Transitioned { from: K },
    Stayed,
    Rejected(Rejection<K>),
    Stopped,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Origin {
    New,
    Restored,
}

/// What an event came to, before it becomes a sender's answer.
type Answered<H> = Result<Handled<Kind<H>>, RunnerError<Kind<H>>>;

/// What a sender is told.
type Answer<H> = Result<Applied<<H as Handler>::State>, RunnerError<Kind<H>>>;

pub(crate) fn start<H: Handler>(
    handler: H,
    initial: H::State,
    recorders: Vec<Box<dyn Recorder<H>>>,
    capacity: usize,
    resume: Option<Resume<H::Event>>,
    persist: Option<Box<dyn Persist<H::State, H::Event>>>,
) -> (
    RunnerHandle<H>,
    impl core::future::Future<Output = Outcome<H::State>> + Send,
) {
    let (events_tx, events) = mpsc::channel(capacity);
    let origin = if resume.is_some() {
        Origin::Restored
    } else {
        Origin::New
    };
    let (seq, entered_at, timer) = match resume {
        Some(resume) => (resume.seq, resume.entered_at, resume.timer),
        None => (0, SystemTime::now(), None),
    };
    let timeout_at = timer.as_ref().map(|timer| timer.at);
    let timer = StateTimer::new(timer);
    let shared = Arc::new(Shared::new(Snapshot {
        kind: initial.kind(),
        state: initial.clone(),
        seq,
        entered_at,
        timeout_at,
        status: Status::Running,
    }));
    let handle = RunnerHandle {
        events: events_tx,
        shared: Arc::clone(&shared),
    };
    // The run is the future itself: one allocation (tokio's task) holds
    // it, where an `async fn` would add its own state beside a boxed `Run`.
    let checking = persist
        .as_ref()
        .and_then(|persist| persist.check(seq, &initial));
    let run = Run {
        handler,
        state: initial,
        recorders,
        events,
        tasks: StateTasks::new(),
        shared,
        seq,
        entered_at,
        timer,
        own: VecDeque::new(),
        paused: false,
        ending: None,
        started: false,
        origin,
        broadcast: None,
        snapshot_behind: false,
        durable: persist.map(|persist| {
            Box::new(Durable {
                checking,
                persist,
                pending: None,
                saved_timer: 0,
            })
        }),
        unanswered: Vec::new(),
        spare_text: String::new(),
    };
    (handle, run)
}

struct Run<H: Handler> {
    handler: H,
    state: H::State,
    recorders: Vec<Box<dyn Recorder<H>>>,
    events: mpsc::Receiver<Envelope<H>>,
    /// The current state's tasks.
    tasks: StateTasks<H::Event>,
    shared: Arc<Shared<H::State, H::Event>>,
    seq: u64,
    entered_at: SystemTime,
    timer: StateTimer<H::Event>,
    own: VecDeque<H::Event>,
    paused: bool,
    /// Set while an event ends the run; the run is finished before the
    /// event's sender gets its reply.
    ending: Option<Outcome<H::State>>,
    /// Whether `on_start` (or `on_restore`) has been called.
    started: bool,
    /// A restored run calls the `on_restore` hooks instead of `on_start`
    /// and `on_enter`.
    origin: Origin,
    /// Set when a transition nobody watches as it happens has not reached the
    /// shared snapshot yet. Events drained in one batch write it once, before
    /// the run waits, replies, broadcasts or finishes: nobody outside can
    /// tell the difference, and a `post` saves a lock round trip.
    snapshot_behind: bool,
    /// The broadcast sender, taken from `Shared` once the first subscriber came.
    broadcast: Option<broadcast::Sender<Arc<Transition<H::State>>>>,
    /// A durable run's store, and the write in flight.
    durable: Option<Box<Durable<H>>>,
    /// Replies held until the recorders have written their batch.
    unanswered: Vec<(Reply<H>, Answer<H>)>,
    /// The buffer of the last transition's event text, kept for the next
    /// one when nobody took the transition.
    spare_text: String,
}

impl<H: Handler> Run<H> {
    /// One turn of the loop: handles whatever is ready, in priority order
    /// (control requests, the timer, task outputs, queued events), until
    /// nothing is or the run has ended.
    fn poll_run(&mut self, cx: &mut Context<'_>) -> Poll<Outcome<H::State>> {
        if !self.started {
            if self.poll_check(cx).is_pending() {
                return Poll::Pending;
            }
            self.start();
            // A timer the entry (or `on_restore`) set is saved before any
            // event; the loop waits for that write.
            self.complete(Ok(Handled::Stayed), None);
        }
        loop {
            if self.poll_write(cx).is_pending() {
                return Poll::Pending;
            }
            self.conclude();
            self.sync_snapshot();
            if let Some(outcome) = self.shared.outcome.get() {
                return Poll::Ready(outcome.clone());
            }
            if self.take_control_request(cx) {
                self.control();
                continue;
            }
            if self.paused {
                return Poll::Pending;
            }
            if let Some(event) = self.own.pop_front() {
                self.handle(event, None);
                continue;
            }
            if let Poll::Ready(event) = self.timer.poll_fire(cx) {
                self.publish_timer();
                self.handle(event, None);
                continue;
            }
            if let Poll::Ready(output) = self.tasks.poll_output(cx) {
                self.task_output(output);
                continue;
            }
            match self.events.poll_recv(cx) {
                Poll::Ready(Some(envelope)) => {
                    let (event, reply) = envelope.into_parts();
                    self.handle(event, reply);
                    self.drain_queue();
                    self.answer();
                }
                Poll::Ready(None) => self.stop(),
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Whether the run has ended (its outcome is set, once, by `finish`).
    fn finished(&self) -> bool {
        self.shared.outcome.get().is_some()
    }

    /// Whether a control request is pending. The waker is registered before
    /// the flag is read, so a request made in between still wakes the run.
    fn take_control_request(&self, cx: &Context<'_>) -> bool {
        let requested = &self.shared.requested;
        if requested.load(Ordering::Acquire) && requested.swap(false, Ordering::AcqRel) {
            return true;
        }
        self.shared.control.register(cx.waker());
        requested.load(Ordering::Acquire) && requested.swap(false, Ordering::AcqRel)
    }

    /// Records the start and enters the initial state; its timer shows in
    /// the snapshot before any event is handled.
    fn start(&mut self) {
        self.record_start();
        if self.ending.is_some() {
            return;
        }
        if self.origin == Origin::Restored {
            self.restore();
        } else {
            self.enter(None);
        }
        self.publish_timer();
    }

    /// Each recorder's `on_start`, or `on_restore` for a restored run.
    fn record_start(&mut self) {
        self.started = true;
        let (snapshot, origin) = (self.shared.snapshot(), self.origin);
        record(&mut self.recorders, |recorder| {
            if origin == Origin::Restored {
                recorder.on_restore(&snapshot);
            } else {
                recorder.on_start(&snapshot);
            }
        });
    }

    /// Resumes in the restored state: its timer (already set) gets its
    /// sleep, and the handler rebuilds its side; no entry action runs.
    fn restore(&mut self) {
        self.timer.start();
        let mut cx = Cx::new();
        let (handler, state) = (&mut self.handler, &self.state);
        match catch_unwind(AssertUnwindSafe(|| handler.on_restore(state, &mut cx))) {
            Ok(()) => self.apply(cx),
            Err(panic) => {
                self.crash(&*panic);
            }
        }
        // A loaded machine may be terminal already: its run is over.
        if self.ending.is_none() && H::State::is_terminal(self.state.kind()) {
            self.ending = Some(Outcome::Completed(self.state.clone()));
        }
    }

    /// Handles events already queued without going back through `select!`,
    /// a few at a time, while nothing else needs the loop's attention.
    fn drain_queue(&mut self) {
        for _ in 0..DRAIN_BATCH {
            let attention = self.finished()
                || self.write_pending()
                || !self.own.is_empty()
                || self.shared.requested.load(Ordering::Acquire)
                || self.timer.is_due();
            if attention {
                return;
            }
            match self.events.try_recv() {
                Ok(envelope) => {
                    let (event, reply) = envelope.into_parts();
                    self.handle(event, reply);
                }
                Err(_) => return,
            }
        }
    }

    fn control(&mut self) {
        self.serve_checkpoints();
        if self.shared.passivate.load(Ordering::Acquire) {
            self.ending = Some(Outcome::Passivated(self.state.clone()));
            return;
        }
        if self.shared.stop.load(Ordering::Acquire) {
            self.stop();
            return;
        }
        let pause = self.shared.pause.load(Ordering::Acquire);
        if pause != self.paused {
            self.set_paused(pause);
        }
    }

    /// Answers checkpoint requests: between events, so each is consistent.
    fn serve_checkpoints(&mut self) {
        let requests = self.shared.take_checkpoints();
        if requests.is_empty() {
            return;
        }
        for request in requests {
            let timer = self.timer.pending();
            request.answer(&self.state, self.seq, self.entered_at, timer);
        }
    }

    fn stop(&mut self) {
        self.ending = Some(Outcome::Stopped(self.state.clone()));
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        let status = if paused {
            Status::Paused
        } else {
            Status::Running
        };
        self.shared.update(|snapshot| {
            snapshot.status = status;
            true
        });
    }

    fn task_output(&mut self, output: TaskOutput<H::Event>) {
        match output {
            TaskOutput::Event(event) => self.handle(event, None),
            TaskOutput::Panicked(message) => {
                tracing::error!(machine = H::State::NAME, message, "state task panicked");
                record(&mut self.recorders, |recorder| {
                    recorder.on_task_panic(&message);
                });
            }
        }
    }

    /// Handles one event to completion.
    fn handle(&mut self, event: H::Event, reply: Option<Reply<H>>) {
        record(&mut self.recorders, |recorder| {
            recorder.on_event(&self.state, &event);
        });
        // Decided once, before the event moves into the handler: its text is
        // only needed if someone will see the transition.
        let text = self
            .wants_transitions()
            .then(|| event_text(std::mem::take(&mut self.spare_text), &event));
        let mut cx = Cx::new();
        let (handler, state) = (&mut self.handler, &self.state);
        let step = catch_unwind(AssertUnwindSafe(|| handler.handle(state, event, &mut cx)));
        let result = match step {
            Err(panic) => Err(self.crash(&*panic)),
            Ok(Step::Stay) => {
                let timer_requested = cx.timer.is_some();
                self.apply(cx);
                if timer_requested {
                    self.publish_timer();
                }
                Ok(Handled::Stayed)
            }
            Ok(Step::Reject(reason)) => Ok(Handled::Rejected(Rejection::Refused { reason })),
            Ok(Step::Stop) => {
                self.stop();
                Ok(Handled::Stopped)
            }
            Ok(Step::To(next)) => return self.step_to(next, cx, text, false, reply),
            Ok(Step::Update(next)) => return self.step_to(next, cx, text, true, reply),
        };
        self.complete(result, reply);
    }

    /// What follows an event's step: recorders see a rejection, the run
    /// ends if the step ended it, and the sender gets its reply.
    fn complete(&mut self, result: Answered<H>, reply: Option<Reply<H>>) {
        // A durable run's timer changed by this outcome (a timer that fired
        // into a stay, a refusal or a stop is spent too) is saved first;
        // the write completes the event when it is done.
        let Some((result, reply)) = self.save_timer(result, reply) else {
            return;
        };
        if let Ok(Handled::Rejected(rejection)) = &result {
            record(&mut self.recorders, |recorder| {
                recorder.on_rejected(&self.state, rejection);
            });
        }
        // The end of the run is visible before the reply.
        self.conclude();
        // A `post` has nobody to tell: build the reply (a clone of the
        // state, for a transition) only for a `send`.
        if let Some(reply) = reply {
            self.sync_snapshot();
            let answer = result.and_then(|handled| self.reply(handled));
            if self.recorders.is_empty() {
                let _ = reply.send(answer);
            } else {
                // Sent once the recorders have written the batch.
                self.unanswered.push((reply, answer));
            }
        }
    }

    /// Group commit: the recorders write what the events handled since the
    /// last call recorded (one write for the batch), then those events'
    /// senders get their replies.
    #[inline]
    fn answer(&mut self) {
        // Called twice per wake-up: the common case (no recorders) costs a
        // comparison, not a call.
        if !self.recorders.is_empty() {
            self.flush_and_answer();
        }
    }

    fn flush_and_answer(&mut self) {
        record(&mut self.recorders, Recorder::flush);
        for (reply, answer) in self.unanswered.drain(..) {
            let _ = reply.send(answer);
        }
    }

    /// Finishes the run if the last step ended it: at the top of the loop,
    /// and after each event before its reply.
    fn conclude(&mut self) {
        if let Some(outcome) = self.ending.take() {
            self.finish(outcome);
        }
    }

    fn reply(&self, handled: Handled<Kind<H>>) -> Result<Applied<H::State>, RunnerError<Kind<H>>> {
        Ok(match handled {
            Handled::Transitioned { from } => Applied::Transitioned {
                seq: self.seq,
                from,
                to: self.state.clone(),
            },
            Handled::Stayed => Applied::Stayed,
            Handled::Rejected(Rejection::Refused { reason }) => Applied::Rejected { reason },
            Handled::Rejected(Rejection::Illegal(error)) => {
                return Err(RunnerError::Illegal(error))
            }
            Handled::Rejected(Rejection::KindChanged(error)) => {
                return Err(RunnerError::KindChanged(error))
            }
            Handled::Stopped => Applied::Stopped,
        })
    }

    // `transition`, `apply`, `publish`, `wants_transitions` and `subscribers`
    // run once per event: inlined into `handle`, a posted event costs 673
    // instructions instead of 759 (callgrind; the raw tokio actor: 564).
    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn step_to(
        &mut self,
        next: H::State,
        cx: Cx<H>,
        text: Option<String>,
        update: bool,
        reply: Option<Reply<H>>,
    ) {
        let (from, to) = (self.state.kind(), next.kind());
        let result = if update && from != to {
            let error = KindChanged::new(from, to);
            Ok(Handled::Rejected(Rejection::KindChanged(error)))
        } else if !update && !H::State::can_transition(from, to) {
            let error = TransitionError::new(from, to);
            Ok(Handled::Rejected(Rejection::Illegal(error)))
        } else if self.durable.is_some() {
            return self.save_step(next, cx, text, update, reply);
        } else {
            self.transition(next, cx, None, text, update)
        };
        self.complete(result, reply);
    }

    /// Applies a checked step: the state, the timer and tasks, the entry,
    /// then the snapshot and the broadcast.
    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn transition(
        &mut self,
        next: H::State,
        cx: Cx<H>,
        entry: Option<Cx<H>>,
        text: Option<String>,
        update: bool,
    ) -> Result<Handled<Kind<H>>, RunnerError<Kind<H>>> {
        let from = self.state.kind();
        self.state = next;
        if !update {
            self.leave();
            self.entered_at = SystemTime::now();
        }
        self.apply(cx);
        if !update {
            self.enter(entry);
        }
        if let Some(Outcome::Crashed { message }) = &self.ending {
            return Err(RunnerError::Crashed {
                message: message.clone(),
            });
        }
        self.seq += 1;
        self.publish(from, update, text);
        Ok(Handled::Transitioned { from })
    }

    /// Cancels what belongs to the state being left.
    fn leave(&mut self) {
        self.timer.clear();
        self.tasks.leave();
    }

    /// Enters the state: the handler's `on_enter`, or the requests of the
    /// one a durable run called before saving the step.
    fn enter(&mut self, entry: Option<Cx<H>>) {
        let entry = match entry {
            Some(entry) => Ok(entry),
            None => on_enter(&mut self.handler, &self.state),
        };
        match entry {
            Ok(entry) => self.apply(entry),
            Err(panic) => {
                self.crash(&*panic);
            }
        }
        if self.ending.is_none() && H::State::is_terminal(self.state.kind()) {
            self.ending = Some(Outcome::Completed(self.state.clone()));
        }
    }

    /// What the handler's `on_enter` requests for `state`, applied by the
    /// caller; a panic crashes the run.
    fn entry_requests(&mut self, state: &H::State) -> Result<Cx<H>, RunnerError<Kind<H>>> {
        on_enter(&mut self.handler, state).map_err(|panic| self.crash(&*panic))
    }

    fn crash(&mut self, panic: &(dyn Any + Send)) -> RunnerError<Kind<H>> {
        let message = panic_message(panic);
        self.ending = Some(Outcome::Crashed {
            message: message.clone(),
        });
        RunnerError::Crashed { message }
    }

    /// Applies the requests of an accepted step.
    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn apply(&mut self, cx: Cx<H>) {
        self.timer.apply(cx.timer);
        // Most steps request nothing; skip the (measurable) empty iterations.
        if !cx.spawned.is_empty() {
            for task in cx.spawned {
                self.tasks.spawn(task);
                if let Some(outstanding) = self.tasks.outstanding() {
                    let _ = self.shared.outstanding_tasks.set(Arc::clone(outstanding));
                }
            }
        }
        if !cx.to_self.is_empty() {
            self.own.extend(cx.to_self);
        }
    }

    fn timeout_at(&self) -> Option<SystemTime> {
        self.timer.timeout_at()
    }

    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn wants_transitions(&mut self) -> bool {
        !self.recorders.is_empty() || self.subscribers().is_some()
    }

    /// The broadcast sender while someone listens.
    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn subscribers(&mut self) -> Option<&broadcast::Sender<Arc<Transition<H::State>>>> {
        if self.broadcast.is_none() && self.shared.subscribed.load(Ordering::Acquire) {
            self.broadcast = self.shared.broadcast();
        }
        self.broadcast
            .as_ref()
            .filter(|sender| sender.receiver_count() > 0)
    }

    /// While someone watches transitions as they happen: the snapshot first
    /// (neither a recorder nor a subscriber that resyncs finds it behind),
    /// then recorders, then subscribers. Otherwise the snapshot waits for
    /// `sync_snapshot`.
    #[expect(clippy::inline_always, reason = "once per event; measured")]
    #[inline(always)]
    fn publish(&mut self, from: Kind<H>, update: bool, text: Option<String>) {
        self.snapshot_behind = true;
        let Some(event) = text else {
            return;
        };
        let timeout_at = self.timeout_at();
        self.write_snapshot(timeout_at);
        let transition = Transition {
            seq: self.seq,
            from,
            to: self.state.clone(),
            update,
            event,
            at: SystemTime::now(),
            timeout_at,
        };
        record(&mut self.recorders, |recorder| {
            recorder.on_transition(&transition);
        });
        // Shared only when someone subscribed: recorders alone borrow it,
        // and its text's buffer serves the next event.
        match self.subscribers() {
            Some(subscribers) => {
                let _ = subscribers.send(Arc::new(transition));
            }
            None if transition.event.capacity() <= SPARE_TEXT_CAPACITY => {
                self.spare_text = transition.event;
            }
            None => {}
        }
    }

    /// Writes the state, seq and timer into the shared snapshot if a
    /// transition has not reached it yet.
    fn sync_snapshot(&mut self) {
        if self.snapshot_behind {
            self.write_snapshot(self.timeout_at());
        }
    }

    fn write_snapshot(&mut self, timeout_at: Option<SystemTime>) {
        self.snapshot_behind = false;
        let (state, seq, entered_at) = (&self.state, self.seq, self.entered_at);
        self.shared.update(|snapshot| {
            snapshot.state.clone_from(state);
            snapshot.kind = state.kind();
            snapshot.seq = seq;
            snapshot.entered_at = entered_at;
            snapshot.timeout_at = timeout_at;
            true
        });
    }

    fn publish_timer(&mut self) {
        if self.snapshot_behind {
            self.sync_snapshot();
            return;
        }
        let timeout_at = self.timeout_at();
        self.shared.update(|snapshot| {
            let changed = snapshot.timeout_at != timeout_at;
            snapshot.timeout_at = timeout_at;
            changed
        });
    }

    /// Ends the run: the recorders' `on_finish` first, then the outcome and
    /// the final status, then the waiters; last, the queue and the broadcast
    /// close so every sender and subscriber learns of the end.
    fn finish(&mut self, outcome: Outcome<H::State>) {
        self.sync_snapshot();
        self.leave();
        if let Outcome::Passivated(_) = outcome {
            let mut snapshot = self.shared.snapshot();
            snapshot.status = Status::Passivated;
            record(&mut self.recorders, |recorder| {
                recorder.on_passivate(&snapshot);
            });
        } else {
            record(&mut self.recorders, |recorder| recorder.on_finish(&outcome));
        }
        let status = match &outcome {
            Outcome::Completed(_) => Status::Completed,
            Outcome::Stopped(_) => Status::Stopped,
            Outcome::Crashed { .. } => Status::Crashed,
            Outcome::Aborted => Status::Aborted,
            Outcome::Lost { .. } => Status::Lost,
            Outcome::Passivated(_) => Status::Passivated,
        };
        let _ = self.shared.outcome.set(outcome);
        self.shared.update(|snapshot| {
            snapshot.status = status;
            snapshot.timeout_at = None;
            true
        });
        self.shared.finished.notify_waiters();
        // Queued senders learn `Finished` when their envelopes are dropped.
        self.events.close();
        self.broadcast = None;
        self.shared.close();
    }
}

impl<H: Handler> Future for Run<H> {
    type Output = Outcome<H::State>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let run = self.get_mut();
        let poll = run.poll_run(cx);
        // Whatever the run does next (waits, or ends), nobody waits for a
        // reply it already has.
        run.answer();
        poll
    }
}

// Nothing in a `Run` is pinned structurally: the sleep is boxed, and the
// handler and state are only ever used through `&mut`.
impl<H: Handler> Unpin for Run<H> {}

impl<H: Handler> Drop for Run<H> {
    /// A run dropped before it ended is `Aborted`. One dropped before it was
    /// ever polled still pairs `on_start` with `on_finish`, so every
    /// recorder sees a whole run; the handler's `on_enter` never ran.
    fn drop(&mut self) {
        if !self.finished() {
            if !self.started {
                self.record_start();
            }
            self.finish(Outcome::Aborted);
        }
    }
}

/// Calls every recorder, each isolated: a panic is logged, not spread.
fn record<H: Handler>(
    recorders: &mut [Box<dyn Recorder<H>>],
    mut call: impl FnMut(&mut dyn Recorder<H>),
) {
    for recorder in recorders {
        let result = catch_unwind(AssertUnwindSafe(|| call(recorder.as_mut())));
        if let Err(panic) = result {
            tracing::error!(
                machine = H::State::NAME,
                message = panic_message(&*panic),
                "recorder panicked; the runner goes on"
            );
        }
    }
}

/// The requests of the handler's `on_enter` for `state`, or its panic.
fn on_enter<H: Handler>(handler: &mut H, state: &H::State) -> Result<Cx<H>, Box<dyn Any + Send>> {
    let mut cx = Cx::new();
    catch_unwind(AssertUnwindSafe(|| handler.on_enter(state, &mut cx))).map(|()| cx)
}

/// The largest event text buffer a run keeps for the next event: one
/// long text does not hold its memory for the rest of the run.
const SPARE_TEXT_CAPACITY: usize = 1024;

/// The event's `Debug` text for recorders and subscribers. A `Debug` impl
/// that panics must not take the run down: the text then says so.
fn event_text<E: Debug>(mut buffer: String, event: &E) -> String {
    buffer.clear();
    let written = catch_unwind(AssertUnwindSafe(|| {
        let _ = write!(buffer, "{event:?}");
        buffer
    }));
    written.unwrap_or_else(|panic| {
        let message = panic_message(&*panic);
        tracing::error!(message, "the event's `Debug` panicked; the runner goes on");
        format!("<`Debug` panicked: {message}>")
    })
}
