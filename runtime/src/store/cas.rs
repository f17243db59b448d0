//! The compare-and-set decisions both backends make inside their
//! transaction: given the stored state and version, the next state or the
//! error. Kept here so the backends differ only in how they read and write.

use super::{KindOf, StoreError, StoreResult};
use crate::{Fire, StateMachine, TransitionError};

/// A transition needs an edge of the table; an update keeps the kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Step {
    Transition,
    Update,
}

/// What a change does with the stored state and version.
pub(crate) type Decide<M> = Box<dyn FnOnce(&M, u64) -> StoreResult<M, M> + Send>;

fn expect_version<K>(id: &str, expected: u64, actual: u64) -> Result<(), StoreError<K>> {
    if actual == expected {
        Ok(())
    } else {
        Err(StoreError::Stale {
            id: id.to_owned(),
            expected,
            actual,
        })
    }
}

/// `next`, if the machine is still at `expected` (`transition`, `update`).
pub(crate) fn by_version<M: StateMachine + Send>(id: &str, expected: u64, next: M) -> Decide<M> {
    let id = id.to_owned();
    Box::new(move |_, version| expect_version(&id, expected, version).map(|()| next))
}

/// `next`, if the machine is still of `expected` (`transition_from`).
pub(crate) fn by_kind<M: StateMachine + Send>(id: &str, expected: KindOf<M>, next: M) -> Decide<M> {
    let id = id.to_owned();
    Box::new(move |current, _| {
        let actual = current.kind();
        if actual == expected {
            Ok(next)
        } else {
            Err(StoreError::WrongState {
                id,
                expected,
                actual,
            })
        }
    })
}

/// The state after `event`, if the machine is still at `expected` (`fire`).
pub(crate) fn by_event<M: Fire + Clone>(id: &str, expected: u64, event: M::Event) -> Decide<M> {
    let id = id.to_owned();
    Box::new(move |current, version| {
        expect_version(&id, expected, version)?;
        let mut next = current.clone();
        next.fire(event).map_err(StoreError::NotAccepted)?;
        Ok(next)
    })
}

/// Whether `step` may take the machine from `current` to `next`.
pub(crate) fn check<M: StateMachine>(step: Step, current: &M, next: &M) -> StoreResult<(), M> {
    let (from, to) = (current.kind(), next.kind());
    let allowed = match step {
        Step::Transition => M::can_transition(from, to),
        Step::Update => from == to,
    };
    if allowed {
        Ok(())
    } else {
        Err(StoreError::Illegal(TransitionError::new(from, to)))
    }
}

/// The four compare-and-set methods of [`Store`](super::Store), written once
/// for every backend: each is the backend's `change(id, step, decide)` with
/// its own decision. A backend's `impl Store` invokes it among its methods.
macro_rules! compare_and_set_methods {
    () => {
        async fn transition(
            &self,
            id: &str,
            expected_version: u64,
            next: M,
        ) -> StoreResult<Stored<M>, M> {
            let decide = cas::by_version(id, expected_version, next);
            self.change(id, Step::Transition, decide).await
        }

        async fn update(
            &self,
            id: &str,
            expected_version: u64,
            next: M,
        ) -> StoreResult<Stored<M>, M> {
            let decide = cas::by_version(id, expected_version, next);
            self.change(id, Step::Update, decide).await
        }

        async fn transition_from(
            &self,
            id: &str,
            expected_kind: KindOf<M>,
            next: M,
        ) -> StoreResult<Stored<M>, M> {
            let decide = cas::by_kind(id, expected_kind, next);
            self.change(id, Step::Transition, decide).await
        }

        async fn fire(
            &self,
            id: &str,
            expected_version: u64,
            event: M::Event,
        ) -> StoreResult<Stored<M>, M>
        where
            M: Fire,
        {
            let decide = cas::by_event(id, expected_version, event);
            self.change(id, Step::Transition, decide).await
        }
    };
}
pub(crate) use compare_and_set_methods;
