//! [`Changes`]: a stream of committed changes, read from the outbox.

use std::collections::VecDeque;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::StateMachine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::backend::Backend;
use super::{typed, Change, Store, StoreResult};

/// How many outbox rows one read takes.
const PAGE: usize = 256;

/// What a read or a wait in flight comes back with.
enum Fetched<M: StateMachine> {
    Page(StoreResult<Vec<Change<M>>, M>),
    Woken,
}

type InFlight<M> = Pin<Box<dyn Future<Output = Fetched<M>> + Send>>;

/// Committed changes, in position order, from [`Store::subscribe`] or
/// [`Store::watch`]. It reads the outbox itself (the backend only wakes it
/// up), so a reader that falls behind, or a wake-up that is lost, delays
/// changes but never drops one.
///
/// Read it with [`next`](Self::next), or as a [`Stream`](futures_core::Stream)
/// with any stream combinators. The stream never ends: an error is an item,
/// and reading goes on after it from where it was.
pub struct Changes<M: StateMachine, S> {
    store: S,
    position: u64,
    only: Option<String>,
    ready: VecDeque<Change<M>>,
    /// The outbox read, or the wait for a commit, being polled.
    in_flight: Option<InFlight<M>>,
}

// Nothing is pinned in place: the future in flight is boxed.
impl<M: StateMachine, S> Unpin for Changes<M, S> {}

impl<M: StateMachine, S> fmt::Debug for Changes<M, S> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Changes")
            .field("position", &self.position)
            .field("only", &self.only)
            .field("ready", &self.ready.len())
            .finish_non_exhaustive()
    }
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
            in_flight: None,
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
    /// future completes; a read from the outbox that was under way is kept
    /// and finished by the next call.
    pub async fn next(&mut self) -> StoreResult<Change<M>, M> {
        poll_fn(|cx| self.poll_change(cx)).await
    }

    fn poll_change(&mut self, cx: &mut Context<'_>) -> Poll<StoreResult<Change<M>, M>> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Poll::Ready(Ok(change));
            }
            let (store, position, only) = (&self.store, self.position, &self.only);
            let in_flight = self.in_flight.get_or_insert_with(|| {
                let (store, only) = (store.clone(), only.clone());
                Box::pin(async move {
                    let backend = store.backend();
                    let page = typed::changes_since(backend, position, only.as_deref(), PAGE);
                    Fetched::Page(page.await)
                })
            });
            let fetched = ready!(in_flight.as_mut().poll(cx));
            self.in_flight = None;
            let page = match fetched {
                Fetched::Woken => continue,
                Fetched::Page(page) => page?,
            };
            let Some(last) = page.last() else {
                let store = self.store.clone();
                self.in_flight = Some(Box::pin(async move {
                    store.backend().wait_for_changes(M::NAME, position).await;
                    Fetched::Woken
                }));
                continue;
            };
            self.position = last.position;
            self.ready.extend(page);
        }
    }
}

impl<M, S> futures_core::Stream for Changes<M, S>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
    S: Store<M>,
{
    type Item = StoreResult<Change<M>, M>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_change(cx).map(Some)
    }
}
