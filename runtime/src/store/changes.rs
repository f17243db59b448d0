//! [`Changes`]: a stream of committed changes, read from the outbox.

use std::collections::VecDeque;

use crate::StateMachine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Change, Store, StoreResult};

/// How many outbox rows one read takes.
const PAGE: usize = 256;

/// Committed changes, in commit order, from [`Store::subscribe`] or
/// [`Store::watch`]. It reads the outbox itself (the backend only wakes it
/// up), so a reader that falls behind, or a wake-up that is lost, delays
/// changes but never drops one.
#[derive(Debug)]
pub struct Changes<M: StateMachine, S> {
    store: S,
    position: u64,
    only: Option<String>,
    ready: VecDeque<Change<M>>,
}

impl<M, S> Changes<M, S>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
    S: Store<M>,
{
    pub(crate) fn new(store: S, position: u64, only: Option<String>) -> Self {
        Self {
            store,
            position,
            only,
            ready: VecDeque::new(),
        }
    }

    /// The outbox position of the last change read.
    #[must_use]
    pub fn position(&self) -> u64 {
        self.position
    }

    /// The next committed change; waits for one.
    ///
    /// # Errors
    ///
    /// What [`Store::changes_since`] returns: the stream can be read again
    /// after an error and goes on where it was.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a change is handed out only when the
    /// future completes; one read from the outbox stays queued here.
    pub async fn next(&mut self) -> StoreResult<Change<M>, M> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Ok(change);
            }
            let page = self.store.changes_since(self.position, PAGE).await?;
            let Some(last) = page.last() else {
                self.store.wait_for_changes(self.position).await;
                continue;
            };
            self.position = last.position;
            let only = self.only.as_deref();
            self.ready.extend(
                page.into_iter()
                    .filter(|change| only.is_none_or(|id| change.id == id)),
            );
        }
    }
}
