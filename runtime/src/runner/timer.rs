//! A run's state timer: at most one, armed by a step's request, cleared
//! when its state is left, fired once from the run's loop, and shown on the
//! wall clock to the snapshot and to checkpoints (which persist it).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use tokio::time::{Instant, Sleep};

use crate::handler::{TimerRequest, FAR_FUTURE};
use crate::persist::PendingTimer;

/// The state timer. The `Sleep` is allocated by the first arming and
/// reset after that: an idle runner without a timer carries none.
pub(super) struct StateTimer<E> {
    armed: Option<Armed<E>>,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Counts the times the timer was set, cancelled, cleared or fired: a
    /// durable run compares it with the count it last saved.
    changes: u64,
}

struct Armed<E> {
    deadline: Instant,
    event: E,
}

impl<E> StateTimer<E> {
    /// No timer, or one restored from a checkpoint or a store: its
    /// deadline is on the wall clock, and one that passed while stored
    /// fires at once. It starts counting with [`start`](Self::start).
    pub(super) fn new(restored: Option<PendingTimer<E>>) -> Self {
        Self {
            armed: restored.map(|timer| Armed {
                deadline: instant_of(timer.at),
                event: timer.event,
            }),
            sleep: None,
            changes: 0,
        }
    }

    /// How often the timer has changed (see the field).
    pub(super) fn changes(&self) -> u64 {
        self.changes
    }

    /// The timer as it will be after a step that `leaves` its state (or
    /// not) and makes `requests`, in order: what a durable run saves with
    /// the step, before applying it.
    pub(super) fn after<'a>(
        &'a self,
        leaves: bool,
        requests: &[Option<&'a TimerRequest<E>>],
    ) -> Option<(SystemTime, &'a E)> {
        let mut timer = match &self.armed {
            Some(armed) if !leaves => Some((armed.deadline, &armed.event)),
            _ => None,
        };
        for request in requests.iter().flatten() {
            timer = match request {
                TimerRequest::Set { deadline, event } => Some((*deadline, event)),
                TimerRequest::Cancel => None,
            };
        }
        timer.map(|(deadline, event)| (wall_clock(deadline), event))
    }

    /// Starts the sleep of a restored timer.
    pub(super) fn start(&mut self) {
        if let Some(armed) = &self.armed {
            self.sleep = Some(Box::pin(tokio::time::sleep_until(armed.deadline)));
        }
    }

    /// Applies a step's request; whether there was one.
    pub(super) fn apply(&mut self, request: Option<TimerRequest<E>>) -> bool {
        if request.is_some() {
            self.changes += 1;
        }
        match request {
            Some(TimerRequest::Set { deadline, event }) => {
                match &mut self.sleep {
                    Some(sleep) => sleep.as_mut().reset(deadline),
                    None => self.sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
                }
                self.armed = Some(Armed { deadline, event });
                true
            }
            Some(TimerRequest::Cancel) => {
                self.armed = None;
                true
            }
            None => false,
        }
    }

    /// The state is left: its timer never fires.
    pub(super) fn clear(&mut self) {
        if self.armed.take().is_some() {
            self.changes += 1;
        }
    }

    /// Whether the timer is armed and its deadline has come.
    pub(super) fn is_due(&self) -> bool {
        self.armed
            .as_ref()
            .is_some_and(|armed| armed.deadline <= Instant::now())
    }

    /// The timer's event, once, when its deadline has come.
    pub(super) fn poll_fire(&mut self, cx: &mut Context<'_>) -> Poll<E> {
        if self.armed.is_none() {
            return Poll::Pending;
        }
        let Some(sleep) = &mut self.sleep else {
            return Poll::Pending;
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        match self.armed.take() {
            Some(armed) => {
                self.changes += 1;
                Poll::Ready(armed.event)
            }
            None => Poll::Pending,
        }
    }

    /// When the timer fires, on the wall clock.
    pub(super) fn timeout_at(&self) -> Option<SystemTime> {
        self.armed.as_ref().map(|armed| wall_clock(armed.deadline))
    }

    /// The timer as a checkpoint saves it.
    pub(super) fn pending(&self) -> Option<(SystemTime, &E)> {
        self.armed
            .as_ref()
            .map(|armed| (wall_clock(armed.deadline), &armed.event))
    }
}

/// `deadline` (tokio's clock, which tests pause: it is the run's truth) on
/// the wall clock, as of now.
fn wall_clock(deadline: Instant) -> SystemTime {
    let remaining = deadline.saturating_duration_since(Instant::now());
    let now = SystemTime::now();
    // `Cx` caps deadlines at `FAR_FUTURE`; this only guards the addition.
    now.checked_add(remaining).unwrap_or(now + FAR_FUTURE)
}

/// The tokio instant of a wall-clock deadline: now plus what remains of
/// it, so one that has passed is due at once.
fn instant_of(at: SystemTime) -> Instant {
    let remaining = at
        .duration_since(SystemTime::now())
        .unwrap_or(std::time::Duration::ZERO);
    Instant::now() + remaining.min(FAR_FUTURE)
}
