//! The tasks a state spawns with `Cx::spawn`: aborted when the state is
//! left, their outputs handed back to the run as events. Each output is
//! tagged with the entry into the state that spawned it, so one that raced
//! a transition is recognised and dropped.

use core::any::Any;
use std::task::{Context, Poll};

use tokio::sync::mpsc;
use tokio::task::AbortHandle;

use crate::handler::BoxFuture;

/// What a state task ended with.
pub(super) enum TaskOutput<E> {
    Event(E),
    Panicked(String),
}

/// An output, with the entry number of the state that spawned its task.
type Tagged<E> = (u64, TaskOutput<E>);

pub(super) struct StateTasks<E> {
    running: Vec<AbortHandle>,
    /// Created by the first spawn: an idle runner carries no channel.
    results: Option<Results<E>>,
    /// Counts entries into a state; tags tasks.
    entry: u64,
}

struct Results<E> {
    sender: mpsc::UnboundedSender<Tagged<E>>,
    receiver: mpsc::UnboundedReceiver<Tagged<E>>,
}

impl<E: Send + 'static> StateTasks<E> {
    pub(super) fn new() -> Self {
        Self {
            running: Vec::new(),
            results: None,
            entry: 0,
        }
    }

    /// Runs `task` on tokio until the state is left.
    pub(super) fn spawn(&mut self, task: BoxFuture<E>) {
        let inner = tokio::spawn(task);
        self.running.retain(|task| !task.is_finished());
        self.running.push(inner.abort_handle());
        let results = self
            .results
            .get_or_insert_with(|| {
                let (sender, receiver) = mpsc::unbounded_channel();
                Results { sender, receiver }
            })
            .sender
            .clone();
        let entry = self.entry;
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

    /// The state is left: its tasks are aborted, and whatever they were
    /// about to deliver is dropped when it arrives.
    pub(super) fn leave(&mut self) {
        for task in self.running.drain(..) {
            task.abort();
        }
        self.entry += 1;
    }

    /// The next output of the current state's tasks, or a panic of any
    /// task (reported whatever the state is by now).
    pub(super) fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<TaskOutput<E>> {
        let Some(results) = &mut self.results else {
            return Poll::Pending;
        };
        loop {
            match results.receiver.poll_recv(cx) {
                Poll::Ready(Some((entry, TaskOutput::Event(event)))) => {
                    if entry == self.entry {
                        return Poll::Ready(TaskOutput::Event(event));
                    }
                }
                Poll::Ready(Some((_, panicked))) => return Poll::Ready(panicked),
                // The run holds a sender: the channel never closes.
                Poll::Ready(None) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

/// The text of a panic's payload.
pub(super) fn panic_message(panic: &(dyn Any + Send)) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_string()
    }
}
