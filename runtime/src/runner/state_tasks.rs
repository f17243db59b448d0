//! The tasks a state spawns with `Cx::spawn`: aborted when the state is
//! left, their outputs handed back to the run as events. Each output is
//! tagged with the entry into the state that spawned it, so one that raced
//! a transition is recognised and dropped.

use core::any::Any;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
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
    /// Tasks whose output the run has not received yet (aborted ones
    /// count until their end): a fleet passivates no run with one.
    outstanding: Arc<AtomicU32>,
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
        let results = self.results.get_or_insert_with(|| {
            let (sender, receiver) = mpsc::unbounded_channel();
            let outstanding = Arc::new(AtomicU32::new(0));
            Results {
                sender,
                receiver,
                outstanding,
            }
        });
        results.outstanding.fetch_add(1, Ordering::SeqCst);
        let (sender, outstanding) = (results.sender.clone(), Arc::clone(&results.outstanding));
        let entry = self.entry;
        tokio::spawn(async move {
            let output = match inner.await {
                Ok(event) => TaskOutput::Event(event),
                Err(error) if error.is_panic() => {
                    TaskOutput::Panicked(panic_message(&*error.into_panic()))
                }
                Err(_) => {
                    outstanding.fetch_sub(1, Ordering::SeqCst);
                    return;
                }
            };
            if sender.send((entry, output)).is_err() {
                outstanding.fetch_sub(1, Ordering::SeqCst);
            }
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

    /// The count of tasks not yet delivered, once a task was spawned.
    pub(super) fn outstanding(&self) -> Option<&Arc<AtomicU32>> {
        self.results.as_ref().map(|results| &results.outstanding)
    }

    /// The next output of the current state's tasks, or a panic of any
    /// task (reported whatever the state is by now).
    #[inline]
    pub(super) fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<TaskOutput<E>> {
        let Some(results) = &mut self.results else {
            return Poll::Pending;
        };
        loop {
            let received = results.receiver.poll_recv(cx);
            if let Poll::Ready(Some(_)) = &received {
                results.outstanding.fetch_sub(1, Ordering::SeqCst);
            }
            match received {
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
