//! A durable run's side of the loop: the check before it starts, the
//! write each step (and each timer change) waits for, and what follows a
//! write.

use std::task::{Context, Poll};

use super::{Answered, Run};
use crate::handler::{Cx, Handler};
use crate::runner::durable::{Persist, WriteFuture};
use crate::runner::handle::Reply;
use crate::runner::{Outcome, RunnerError};

/// A durable run's store and its write in flight.
pub(super) struct Durable<H: Handler> {
    pub(super) persist: Box<dyn Persist<H::State, H::Event>>,
    /// The read that checks the store has the machine, before any event.
    pub(super) checking: Option<WriteFuture>,
    pub(super) pending: Option<PendingWrite<H>>,
    /// The timer's change count when the store last got it: the timer is
    /// saved with every step, and on its own when a step that stays (or
    /// the start) changed it.
    pub(super) saved_timer: u64,
}

/// A write waiting for the store, what follows it, and who waits.
pub(super) struct PendingWrite<H: Handler> {
    write: WriteFuture,
    then: AfterWrite<H>,
    reply: Option<Reply<H>>,
}

/// What a saved write lets happen.
enum AfterWrite<H: Handler> {
    /// A checked step, applied once saved. A transition's entry ran
    /// before the write, so that the timer it sets was saved with it; its
    /// requests are applied here.
    Step {
        next: H::State,
        requests: Cx<H>,
        entry: Option<Cx<H>>,
        text: Option<String>,
        update: bool,
    },
    /// Any other outcome of an event (a stay, a refusal, a stop, a crash),
    /// or the start, whose timer change is now saved.
    Done(Answered<H>),
}

impl<H: Handler> Run<H> {
    /// Before a durable run starts: the store must have its machine, at its
    /// `seq` and of its kind. If not, the run starts and ends at once,
    /// `Lost`, without entering its state.
    pub(super) fn poll_check(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(durable) = self.durable.as_mut() else {
            return Poll::Ready(());
        };
        let Some(checking) = durable.checking.as_mut() else {
            return Poll::Ready(());
        };
        let Poll::Ready(checked) = checking.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        durable.checking = None;
        if let Err((message, _)) = checked {
            self.ending = Some(Outcome::Lost { message });
        }
        Poll::Ready(())
    }

    /// Drives a durable run's write in flight; nothing else happens until it
    /// is done. A saved step is applied and answered; one the store refused
    /// is not applied, its sender learns why, and the run ends `Lost`.
    pub(super) fn poll_write(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let Some(pending) = self
            .durable
            .as_mut()
            .and_then(|durable| durable.pending.as_mut())
        else {
            return Poll::Ready(());
        };
        let Poll::Ready(written) = pending.write.as_mut().poll(cx) else {
            return Poll::Pending;
        };
        let Some(pending) = self
            .durable
            .as_mut()
            .and_then(|durable| durable.pending.take())
        else {
            return Poll::Ready(());
        };
        let result = match (written, pending.then) {
            (
                Ok(()),
                AfterWrite::Step {
                    next,
                    requests,
                    entry,
                    text,
                    update,
                },
            ) => {
                let applied = self.transition(next, requests, entry, text, update);
                self.timer_saved();
                applied
            }
            (Ok(()), AfterWrite::Done(result)) => {
                self.timer_saved();
                result
            }
            (Err((message, error)), _) => {
                // The run is lost: nothing more is written.
                self.timer_saved();
                #[cfg(any(feature = "sqlite", feature = "postgres"))]
                let _ = self.shared.lost_by.set(error.clone());
                self.ending = Some(Outcome::Lost {
                    message: message.clone(),
                });
                Err(RunnerError::NotSaved { message, error })
            }
        };
        self.complete(result, pending.reply);
        Poll::Ready(())
    }

    pub(super) fn write_pending(&self) -> bool {
        self.durable
            .as_ref()
            .is_some_and(|durable| durable.pending.is_some())
    }

    /// A checked step of a durable run: saved first, with the timer it
    /// leaves, and applied, published and answered once the store has it
    /// (`poll_write`).
    pub(super) fn save_step(
        &mut self,
        next: H::State,
        cx: Cx<H>,
        text: Option<String>,
        update: bool,
        reply: Option<Reply<H>>,
    ) {
        let entry = if update {
            None
        } else {
            match self.entry_requests(&next) {
                Ok(entry) => Some(entry),
                Err(crashed) => return self.complete(Err(crashed), reply),
            }
        };
        let requests = [
            cx.timer.as_ref(),
            entry.as_ref().and_then(|entry| entry.timer.as_ref()),
        ];
        let timer = self.timer.after(!update, &requests);
        let Some(durable) = &mut self.durable else {
            return;
        };
        let write = durable.persist.write(self.seq, &next, update, timer);
        durable.pending = Some(PendingWrite {
            write,
            then: AfterWrite::Step {
                next,
                requests: cx,
                entry,
                text,
                update,
            },
            reply,
        });
    }

    /// A durable run whose timer changed since the store last got it (an
    /// outcome that was not a saved step, a timer that fired, the start)
    /// saves it before going on: `None` when that write is now pending,
    /// with `result` and the reply waiting for it; else both back.
    pub(super) fn save_timer(
        &mut self,
        result: Answered<H>,
        reply: Option<Reply<H>>,
    ) -> Option<(Answered<H>, Option<Reply<H>>)> {
        let Some(durable) = &mut self.durable else {
            return Some((result, reply));
        };
        if durable.saved_timer == self.timer.changes() {
            return Some((result, reply));
        }
        let write = durable
            .persist
            .write_timer(self.seq, self.timer.after(false, &[]));
        durable.pending = Some(PendingWrite {
            write,
            then: AfterWrite::Done(result),
            reply,
        });
        None
    }

    /// The store has the timer as the run holds it now.
    fn timer_saved(&mut self) {
        let changes = self.timer.changes();
        if let Some(durable) = &mut self.durable {
            durable.saved_timer = changes;
        }
    }
}
