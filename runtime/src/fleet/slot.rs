//! One id's place in a fleet: its activation, and what keeps the idle
//! collector from passivating it under a sender.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use crate::{Handler, RunnerHandle};

/// An id's place in the fleet's map. A slot holds at most one activation
/// in its life: when that run ends, the slot leaves the map and the next
/// message makes a new one.
pub(crate) struct Slot<H: Handler> {
    /// The machine's id, shared with the map's key and the run's clean-up.
    pub(crate) id: Arc<str>,
    /// Held while the machine is loaded (or inserted): concurrent first
    /// messages wait here and share the one activation.
    pub(crate) loading: tokio::sync::Mutex<()>,
    state: Mutex<State<H>>,
    /// Senders between looking the slot up and their event being queued
    /// (or answered): the idle collector leaves a busy slot alone.
    busy: AtomicU32,
    /// [`OPEN`], [`DECIDING`] (the idle collector looks at `busy`) or
    /// [`PASSIVATING`] (final).
    passivating: AtomicU8,
    /// When a sender last used it: milliseconds since the fleet's start.
    last_used: AtomicU64,
    /// Set when `Fleet::passivate` (or `shutdown`) gives the lease back
    /// itself, after the run ends, so the run's clean-up does not as well.
    pub(crate) released_by_caller: AtomicBool,
}

const OPEN: u8 = 0;
const DECIDING: u8 = 1;
const PASSIVATING: u8 = 2;

enum State<H: Handler> {
    Loading,
    Active(Activation<H>),
    /// Its load failed; it has left the map.
    Dead,
}

/// A running machine of the fleet.
pub(crate) struct Activation<H: Handler> {
    pub(crate) handle: RunnerHandle<H>,
    /// The lease epoch its writes are fenced by.
    pub(crate) epoch: u64,
    /// When it started: milliseconds since the fleet's start. A renewal
    /// that began earlier cannot have seen its lease.
    pub(crate) since: u64,
}

/// What a slot holds, as a sender sees it.
pub(crate) enum Found<H: Handler> {
    /// A live run: use it.
    Live(RunnerHandle<H>),
    /// A run that has ended (or is passivating): wait for it, then look
    /// again.
    Ending(RunnerHandle<H>),
    /// Nothing yet, or a failed load: load it (under `loading`).
    Empty,
    Dead,
}

impl<H: Handler> Slot<H> {
    pub(crate) fn new(id: Arc<str>, now: u64) -> Self {
        Self {
            id,
            loading: tokio::sync::Mutex::new(()),
            state: Mutex::new(State::Loading),
            busy: AtomicU32::new(0),
            passivating: AtomicU8::new(OPEN),
            last_used: AtomicU64::new(now),
            released_by_caller: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<H>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn found(&self) -> Found<H> {
        match &*self.lock() {
            State::Loading => Found::Empty,
            State::Dead => Found::Dead,
            State::Active(activation) => {
                let handle = activation.handle.clone();
                let passivating = self.passivating.load(Ordering::SeqCst) == PASSIVATING;
                if activation.handle.outcome().is_some() || passivating {
                    Found::Ending(handle)
                } else {
                    Found::Live(handle)
                }
            }
        }
    }

    pub(crate) fn activate(&self, activation: Activation<H>) {
        *self.lock() = State::Active(activation);
    }

    pub(crate) fn kill(&self) {
        *self.lock() = State::Dead;
    }

    /// When the live run started (see [`Activation::since`]), if any.
    pub(crate) fn live_since(&self) -> Option<u64> {
        match &*self.lock() {
            State::Active(activation) if activation.handle.outcome().is_none() => {
                Some(activation.since)
            }
            _ => None,
        }
    }

    /// The live run's handle and epoch, if any.
    pub(crate) fn live(&self) -> Option<(RunnerHandle<H>, u64)> {
        match &*self.lock() {
            State::Active(activation) if activation.handle.outcome().is_none() => {
                Some((activation.handle.clone(), activation.epoch))
            }
            _ => None,
        }
    }

    /// Marks a sender at work, unless the slot is being passivated (or
    /// the idle collector is deciding whether to): then `None`, and the
    /// sender looks again.
    pub(crate) fn enter(&self, now: u64) -> Option<Busy<'_, H>> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        if self.passivating.load(Ordering::SeqCst) != OPEN {
            self.busy.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        self.last_used.fetch_max(now, Ordering::Relaxed);
        Some(Busy(self))
    }

    /// Passivates the run if it has been idle since `idle_before`, no
    /// sender is at work, no event is queued and no state task is running
    /// (passivating would cancel it); whether it did.
    pub(crate) fn passivate_if_idle(&self, idle_before: u64) -> bool {
        if self.last_used.load(Ordering::Relaxed) > idle_before {
            return false;
        }
        let Some((handle, _)) = self.live() else {
            return false;
        };
        // Dekker: a sender raises `busy` then reads `passivating`; this
        // raises `passivating` then reads `busy`. One of them sees the other.
        let deciding =
            self.passivating
                .compare_exchange(OPEN, DECIDING, Ordering::SeqCst, Ordering::SeqCst);
        if deciding.is_err() {
            return false;
        }
        let queued = handle.events.max_capacity() - handle.events.capacity();
        let working = queued > 0 || handle.tasks_outstanding();
        if self.busy.load(Ordering::SeqCst) > 0 || working {
            // Unless an explicit passivation came in meanwhile.
            let _ = self.passivating.compare_exchange(
                DECIDING,
                OPEN,
                Ordering::SeqCst,
                Ordering::SeqCst,
            );
            return false;
        }
        let decided = self.passivating.compare_exchange(
            DECIDING,
            PASSIVATING,
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
        decided.is_ok() && handle.passivate().is_ok()
    }

    /// Passivates the run now, busy or not (a sender racing this may get
    /// `Finished`, and queued events are dropped); its handle, to join.
    /// For a run that must not take another step: its lease is gone.
    pub(crate) fn passivate(&self) -> Option<RunnerHandle<H>> {
        let handle = self.close()?;
        let _ = handle.passivate();
        Some(handle)
    }

    /// Passivates the run once the senders at work are answered and its
    /// queue is empty (no new sender gets in meanwhile): nothing accepted
    /// is dropped. Its handle, to join.
    pub(crate) async fn drain_and_passivate(self: Arc<Self>) -> Option<RunnerHandle<H>> {
        let handle = self.close()?;
        self.released_by_caller.store(true, Ordering::SeqCst);
        while self.busy.load(Ordering::SeqCst) > 0
            || handle.events.max_capacity() > handle.events.capacity()
        {
            if handle.outcome().is_some() {
                return Some(handle);
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let _ = handle.passivate();
        Some(handle)
    }

    /// Lets no new sender in; the live run's handle.
    fn close(&self) -> Option<RunnerHandle<H>> {
        let (handle, _) = self.live()?;
        self.passivating.store(PASSIVATING, Ordering::SeqCst);
        Some(handle)
    }
}

/// A sender at work on a slot; dropping it ends the work.
pub(crate) struct Busy<'a, H: Handler>(&'a Slot<H>);

impl<H: Handler> Drop for Busy<'_, H> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::SeqCst);
    }
}
