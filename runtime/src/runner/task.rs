//! The runner loop (private): owns the state, the timer, the tasks, the
//! channels and the recorders.

use std::any::Any;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::{Instant, Sleep};

use super::cx::{BoxFuture, Cx, TimerRequest};
use super::handle::{Control, Envelope, Reply, RunnerHandle};
use super::{Applied, Handler, Outcome, Rejection, RunnerError, Step};
use crate::recorder::Recorder;
use crate::{Snapshot, StateMachine, Status, Transition, TransitionError};

/// Broadcast capacity: a subscriber this far behind gets `Lagged`.
const BROADCAST_CAPACITY: usize = 1024;

enum TaskOutput<E> {
    Event(E),
    Panicked(String),
}

/// Task outputs carry the entry number of the state that spawned them, so an
/// output that raced a transition is recognised and dropped.
type Tagged<E> = (u64, TaskOutput<E>);

struct Timer<E> {
    deadline: Instant,
    event: E,
}

pub(crate) fn start<H: Handler>(
    handler: H,
    initial: H::State,
    recorders: Vec<Box<dyn Recorder<H>>>,
    capacity: usize,
) -> (
    RunnerHandle<H>,
    impl core::future::Future<Output = Outcome<H::State>> + Send,
) {
    let (events_tx, events) = mpsc::channel(capacity);
    let (control_tx, control) = mpsc::unbounded_channel();
    let (task_tx, task_rx) = mpsc::unbounded_channel();
    let entered_at = SystemTime::now();
    let (snapshot, snapshot_rx) = watch::channel(Snapshot {
        kind: initial.kind(),
        state: initial.clone(),
        seq: 0,
        entered_at,
        timeout_at: None,
        status: Status::Running,
    });
    let (transitions, _) = broadcast::channel(BROADCAST_CAPACITY);
    let (outcome, outcome_rx) = watch::channel(None);
    let handle = RunnerHandle {
        events: events_tx,
        control: control_tx,
        snapshot: snapshot_rx,
        transitions: transitions.clone(),
        outcome: outcome_rx,
    };
    let run = Run {
        handler,
        state: initial,
        recorders,
        events,
        control,
        task_tx,
        task_rx,
        snapshot,
        transitions,
        outcome,
        seq: 0,
        entry: 0,
        entered_at,
        timer: None,
        sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
        tasks: Vec::new(),
        own: VecDeque::new(),
        paused: false,
        ending: None,
        finished: false,
    };
    (handle, run.run())
}

struct Run<H: Handler> {
    handler: H,
    state: H::State,
    recorders: Vec<Box<dyn Recorder<H>>>,
    events: mpsc::Receiver<Envelope<H>>,
    control: mpsc::UnboundedReceiver<Control>,
    task_tx: mpsc::UnboundedSender<Tagged<H::Event>>,
    task_rx: mpsc::UnboundedReceiver<Tagged<H::Event>>,
    snapshot: watch::Sender<Snapshot<H::State>>,
    transitions: broadcast::Sender<Arc<Transition<H::State>>>,
    outcome: watch::Sender<Option<Outcome<H::State>>>,
    seq: u64,
    /// Counts entries into a state; tags tasks.
    entry: u64,
    entered_at: SystemTime,
    timer: Option<Timer<H::Event>>,
    sleep: Pin<Box<Sleep>>,
    tasks: Vec<AbortHandle>,
    own: VecDeque<H::Event>,
    paused: bool,
    ending: Option<Outcome<H::State>>,
    finished: bool,
}

type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;

impl<H: Handler> Run<H> {
    async fn run(mut self) -> Outcome<H::State> {
        let snapshot = self.snapshot.borrow().clone();
        record(&mut self.recorders, |recorder| recorder.on_start(&snapshot));
        self.enter();
        loop {
            if let Some(outcome) = self.ending.take() {
                return self.finish(outcome);
            }
            if !self.paused {
                if let Some(event) = self.own.pop_front() {
                    self.handle(event, None);
                    continue;
                }
            }
            let (running, timed) = (!self.paused, self.timer.is_some());
            tokio::select! {
                biased;
                control = self.control.recv() => self.control(control),
                () = &mut self.sleep, if running && timed => {
                    if let Some(timer) = self.timer.take() {
                        self.publish_timer();
                        self.handle(timer.event, None);
                    }
                }
                Some((entry, output)) = self.task_rx.recv(), if running => {
                    self.task_output(entry, output);
                }
                envelope = self.events.recv(), if running => match envelope {
                    Some(Envelope { event, reply }) => self.handle(event, reply),
                    None => self.ending = Some(Outcome::Stopped(self.state.clone())),
                },
            }
        }
    }

    fn control(&mut self, control: Option<Control>) {
        match control {
            Some(Control::Pause) => self.set_paused(true),
            Some(Control::Resume) => self.set_paused(false),
            Some(Control::Stop) | None => self.ending = Some(Outcome::Stopped(self.state.clone())),
        }
    }

    fn set_paused(&mut self, paused: bool) {
        self.paused = paused;
        let status = if paused {
            Status::Paused
        } else {
            Status::Running
        };
        self.snapshot
            .send_modify(|snapshot| snapshot.status = status);
    }

    fn task_output(&mut self, entry: u64, output: TaskOutput<H::Event>) {
        if entry != self.entry {
            return;
        }
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
        let text = self.wants_transitions().then(|| format!("{event:?}"));
        let mut cx = Cx::new(Instant::now());
        let (handler, state) = (&mut self.handler, &self.state);
        let step = catch_unwind(AssertUnwindSafe(|| handler.handle(state, event, &mut cx)));
        let result = match step {
            Err(panic) => Err(self.crash(&*panic)),
            Ok(Step::Stay) => {
                self.apply(cx);
                self.publish_timer();
                Ok(Applied::Stayed)
            }
            Ok(Step::Reject(reason)) => {
                let rejection = Rejection::Refused { reason };
                record(&mut self.recorders, |recorder| {
                    recorder.on_rejected(&self.state, &rejection);
                });
                let Rejection::Refused { reason } = rejection else {
                    unreachable!("built as `Refused` above")
                };
                Ok(Applied::Rejected { reason })
            }
            Ok(Step::Stop) => {
                self.ending = Some(Outcome::Stopped(self.state.clone()));
                Ok(Applied::Stopped)
            }
            Ok(Step::To(next)) => self.transition(next, cx, text, false),
            Ok(Step::Update(next)) => self.transition(next, cx, text, true),
        };
        if let Some(reply) = reply {
            let _ = reply.send(result);
        }
    }

    fn transition(
        &mut self,
        next: H::State,
        cx: Cx<H>,
        text: Option<String>,
        update: bool,
    ) -> Result<Applied<H::State>, RunnerError<Kind<H>>> {
        let (from, to) = (self.state.kind(), next.kind());
        let legal = if update {
            from == to
        } else {
            H::State::can_transition(from, to)
        };
        if !legal {
            let error = TransitionError::new(H::State::NAME, from, to, <H::State>::targets(from));
            let rejection = Rejection::Illegal(error);
            record(&mut self.recorders, |recorder| {
                recorder.on_rejected(&self.state, &rejection);
            });
            return Err(RunnerError::Illegal(error));
        }
        self.state = next;
        if !update {
            self.leave();
            self.entered_at = SystemTime::now();
        }
        self.apply(cx);
        if !update {
            self.enter();
        }
        if let Some(Outcome::Crashed { message }) = &self.ending {
            return Err(RunnerError::Crashed {
                message: message.clone(),
            });
        }
        self.seq += 1;
        self.publish(from, update, text.unwrap_or_default());
        if H::State::is_terminal(to) {
            self.ending = Some(Outcome::Completed(self.state.clone()));
        }
        Ok(Applied::Transitioned {
            seq: self.seq,
            from,
            to: self.state.clone(),
        })
    }

    /// Cancels what belongs to the state being left.
    fn leave(&mut self) {
        self.timer = None;
        for task in self.tasks.drain(..) {
            task.abort();
        }
        self.entry += 1;
    }

    fn enter(&mut self) {
        let mut cx = Cx::new(Instant::now());
        let (handler, state) = (&mut self.handler, &self.state);
        match catch_unwind(AssertUnwindSafe(|| handler.on_enter(state, &mut cx))) {
            Ok(()) => self.apply(cx),
            Err(panic) => {
                self.crash(&*panic);
            }
        }
        if self.seq == 0 && H::State::is_terminal(self.state.kind()) {
            self.ending = Some(Outcome::Completed(self.state.clone()));
        }
    }

    fn crash(&mut self, panic: &(dyn Any + Send)) -> RunnerError<Kind<H>> {
        let message = panic_message(panic);
        self.ending = Some(Outcome::Crashed {
            message: message.clone(),
        });
        RunnerError::Crashed { message }
    }

    /// Applies the requests of an accepted step.
    fn apply(&mut self, cx: Cx<H>) {
        match cx.timer {
            Some(TimerRequest::Set { deadline, event }) => {
                self.sleep.as_mut().reset(deadline);
                self.timer = Some(Timer { deadline, event });
            }
            Some(TimerRequest::Cancel) => self.timer = None,
            None => {}
        }
        for task in cx.spawned {
            self.spawn(task);
        }
        self.own.extend(cx.to_self);
    }

    fn spawn(&mut self, task: BoxFuture<H::Event>) {
        let inner = tokio::spawn(task);
        self.tasks.retain(|task| !task.is_finished());
        self.tasks.push(inner.abort_handle());
        let (entry, results) = (self.entry, self.task_tx.clone());
        tokio::spawn(async move {
            let output = match inner.await {
                Ok(event) => TaskOutput::Event(event),
                Err(error) if error.is_panic() => {
                    TaskOutput::Panicked(panic_message(&*error.into_panic()))
                }
                Err(_) => return,
            };
            let _ = results.send((entry, output));
        });
    }

    fn timeout_at(&self) -> Option<SystemTime> {
        self.timer.as_ref().map(|timer| {
            let now = Instant::now();
            SystemTime::now() + timer.deadline.saturating_duration_since(now)
        })
    }

    fn wants_transitions(&self) -> bool {
        !self.recorders.is_empty() || self.transitions.receiver_count() > 0
    }

    /// The snapshot first (so a sender's reply never outruns it), then
    /// recorders, then subscribers.
    fn publish(&mut self, from: Kind<H>, update: bool, event: String) {
        let timeout_at = self.timeout_at();
        let (state, seq, entered_at) = (&self.state, self.seq, self.entered_at);
        self.snapshot.send_modify(|snapshot| {
            snapshot.state.clone_from(state);
            snapshot.kind = state.kind();
            snapshot.seq = seq;
            snapshot.entered_at = entered_at;
            snapshot.timeout_at = timeout_at;
        });
        if !self.wants_transitions() {
            return;
        }
        let transition = Arc::new(Transition {
            seq,
            from,
            to: self.state.clone(),
            update,
            event,
            at: SystemTime::now(),
            timeout_at,
        });
        record(&mut self.recorders, |recorder| {
            recorder.on_transition(&transition);
        });
        if self.transitions.receiver_count() > 0 {
            let _ = self.transitions.send(transition);
        }
    }

    fn publish_timer(&mut self) {
        let timeout_at = self.timeout_at();
        self.snapshot.send_if_modified(|snapshot| {
            let changed = snapshot.timeout_at != timeout_at;
            snapshot.timeout_at = timeout_at;
            changed
        });
    }

    fn finish(&mut self, outcome: Outcome<H::State>) -> Outcome<H::State> {
        self.finished = true;
        self.leave();
        let status = match &outcome {
            Outcome::Completed(_) => Status::Completed,
            Outcome::Stopped(_) => Status::Stopped,
            Outcome::Crashed { .. } => Status::Crashed,
            Outcome::Aborted => Status::Aborted,
        };
        self.snapshot.send_modify(|snapshot| {
            snapshot.status = status;
            snapshot.timeout_at = None;
        });
        record(&mut self.recorders, |recorder| recorder.on_finish(&outcome));
        // Queued senders learn `Finished` when their envelopes are dropped.
        self.events.close();
        self.control.close();
        self.outcome.send_replace(Some(outcome.clone()));
        outcome
    }
}

impl<H: Handler> Drop for Run<H> {
    fn drop(&mut self) {
        if !self.finished {
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

fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
