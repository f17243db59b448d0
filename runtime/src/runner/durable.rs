//! The durable runner: each accepted step is saved with compare-and-set
//! before anyone hears of it ([`Runner::persist`], [`Runner::load`]).

use core::future::Future;
use core::pin::Pin;
use std::time::SystemTime;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use serde::{de::DeserializeOwned, Serialize};

#[cfg(any(feature = "sqlite", feature = "postgres"))]
use super::{Handler, Kind, Resume, Runner};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::persist::PendingTimer;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::store::typed::{self, Expect, Step};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::store::{Store, StoreError, TimerWrite};
#[cfg(any(feature = "sqlite", feature = "postgres"))]
use crate::StateMachine;

/// A write in flight: `Err` holds why the store refused or failed it, in
/// words and as the store's error.
pub(crate) type WriteFuture =
    Pin<Box<dyn Future<Output = Result<(), (String, super::error::SaveError)>> + Send>>;

/// A state timer as a durable run saves it: when it fires (wall clock) and
/// its event, or none.
pub(crate) type SavedTimer<'a, E> = Option<(SystemTime, &'a E)>;

/// Saves a durable run's steps and its state timer; the run waits for each
/// write.
pub(crate) trait Persist<S, E>: Send {
    /// Saves `next` and the timer it leaves if the stored machine is still
    /// at `expected_version`.
    fn write(
        &self,
        expected_version: u64,
        next: &S,
        update: bool,
        timer: SavedTimer<'_, E>,
    ) -> WriteFuture;

    /// Saves the timer alone (a step that stayed, or the run's start), if
    /// the stored machine is still at `version`.
    fn write_timer(&self, version: u64, timer: SavedTimer<'_, E>) -> WriteFuture;

    /// Whether the machine is stored at `version`, of `state`'s kind: what
    /// the run checks before its first event, unless the runner was made
    /// from the store (`Runner::insert`, `Runner::load`).
    fn check(&self, version: u64, state: &S) -> Option<WriteFuture>;
}

/// A machine kept by id in a [`Store`].
#[cfg(any(feature = "sqlite", feature = "postgres"))]
struct InStore<St> {
    store: St,
    id: String,
    /// Read from or written to the store by the call that made the runner.
    known: bool,
    /// The lease epoch of a fleet's activation: every write is fenced by it.
    epoch: Option<u64>,
}

/// Why a durable run cannot go on, in words and as the store's error.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn refused<K: crate::StateKind>(error: StoreError<K>) -> (String, super::error::SaveError) {
    let message = match &error {
        StoreError::NotFound { .. } => format!(
            "{error}: a durable run needs its machine in the store first (`Runner::insert` stores it, `Runner::load` resumes it)"
        ),
        error => error.to_string(),
    };
    (message, std::sync::Arc::new(error))
}

/// A timer as the store keeps it: the deadline in nanoseconds since the
/// epoch and the event as JSON.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn encoded_timer<K, E: Serialize>(
    id: &str,
    timer: SavedTimer<'_, E>,
) -> Result<Option<(i64, String)>, StoreError<K>> {
    timer
        .map(|(at, event)| {
            let event = serde_json::to_string(event).map_err(|error| StoreError::Encode {
                id: id.to_owned(),
                message: format!("its timer's event: {error}"),
            })?;
            Ok((crate::store::row_nanos(at), event))
        })
        .transpose()
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn timer_write(timer: Option<&(i64, String)>) -> TimerWrite<'_> {
    match timer {
        Some((at, event)) => TimerWrite::Set { at: *at, event },
        None => TimerWrite::Clear,
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<M, E, St> Persist<M, E> for InStore<St>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
    E: Serialize,
    St: Store<M>,
{
    fn write(
        &self,
        expected_version: u64,
        next: &M,
        update: bool,
        timer: SavedTimer<'_, E>,
    ) -> WriteFuture {
        let (store, id, next) = (self.store.clone(), self.id.clone(), next.clone());
        let epoch = self.epoch;
        let timer = encoded_timer::<M::Kind, E>(&id, timer);
        Box::pin(async move {
            let timer = timer.map_err(refused)?;
            let step = if update {
                Step::Update
            } else {
                Step::Transition
            };
            let expect = Expect::Version(expected_version);
            let written = typed::compare_and_set(
                store.backend(),
                &id,
                expect,
                step,
                next,
                timer_write(timer.as_ref()),
                epoch,
            );
            written.await.map(|_| ()).map_err(refused)
        })
    }

    fn write_timer(&self, version: u64, timer: SavedTimer<'_, E>) -> WriteFuture {
        let (store, id, epoch) = (self.store.clone(), self.id.clone(), self.epoch);
        let timer = encoded_timer::<M::Kind, E>(&id, timer);
        Box::pin(async move {
            let timer = timer.map_err(refused)?;
            let written = typed::set_timer::<_, M>(
                store.backend(),
                &id,
                version,
                timer_write(timer.as_ref()),
                epoch,
            );
            written.await.map_err(refused)
        })
    }

    fn check(&self, version: u64, state: &M) -> Option<WriteFuture> {
        if self.known {
            return None;
        }
        let (store, id, kind) = (self.store.clone(), self.id.clone(), state.kind());
        Some(Box::pin(async move {
            let stored = store
                .get(&id)
                .await
                .map_err(refused)?
                .ok_or_else(|| refused::<M::Kind>(StoreError::NotFound { id: id.clone() }))?;
            if stored.version != version {
                return Err(refused::<M::Kind>(StoreError::Stale {
                    id,
                    expected: version,
                    actual: stored.version,
                }));
            }
            if stored.state.kind() != kind {
                return Err(refused(StoreError::WrongState {
                    id,
                    expected: kind,
                    actual: stored.state.kind(),
                }));
            }
            Ok(())
        }))
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl<H> Runner<H>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
{
    /// Makes the run durable: every accepted step (transition or update)
    /// is written to `store` under `id` with compare-and-set on the version
    /// (the run's `seq`) **before** the snapshot, the sender's reply and
    /// the broadcast. The run waits for each write, so a step costs one
    /// store transaction (see the README's numbers).
    ///
    /// The state timer is saved too, so a run stopped or crashed and then
    /// [loaded](Runner::load) elsewhere fires it once, on time: with each
    /// step, the timer the step leaves (for a transition, the one the new
    /// state's `on_enter` sets: a durable run calls `on_enter` before the
    /// write and applies its requests after it); on its own (the version
    /// stays) when a step that stays or is refused, or the start, changed
    /// it. A step caused by the timer clears it in the same write. The
    /// event is stored as JSON, hence `H::Event: Serialize +
    /// DeserializeOwned`.
    ///
    /// A write that loses the race (another writer moved the machine) or
    /// fails is not applied: the sender gets [`RunnerError::NotSaved`],
    /// recorders see the run end, and it ends with [`Outcome::Lost`], since
    /// another writer owns the machine now.
    ///
    /// The machine must be in the store at the run's `seq` (0 for a new
    /// run: [`Runner::insert`] stores it and persists in one call), of the
    /// run's state's kind; [`Runner::load`] starts from what is stored.
    /// The run reads it before its first event: a machine missing from the
    /// store, or stored at another version or kind, ends the run at once,
    /// [`Outcome::Lost`] with a message that says which, instead of at the
    /// first step.
    ///
    /// [`RunnerError::NotSaved`]: crate::RunnerError::NotSaved
    /// [`Outcome::Lost`]: crate::Outcome::Lost
    pub fn persist<St: Store<H::State>>(self, store: St, id: impl Into<String>) -> Self {
        self.persist_in(store, id.into(), false)
    }

    fn persist_in<St: Store<H::State>>(self, store: St, id: String, known: bool) -> Self {
        self.persist_fenced(store, id, known, None)
    }

    /// A durable run whose writes are fenced by a lease `epoch` (a fleet's
    /// activation) as well as by the version.
    pub(crate) fn persist_fenced<St: Store<H::State>>(
        mut self,
        store: St,
        id: String,
        known: bool,
        epoch: Option<u64>,
    ) -> Self {
        let persist = InStore {
            store,
            id,
            known,
            epoch,
        };
        self.persist = Some(Box::new(persist));
        self
    }

    /// A durable runner for a new machine: stores `initial` under `id` (at
    /// version 0), then runs it as [`persist`](Self::persist) does. The
    /// way to start a durable run of a machine the store does not have
    /// yet; [`Runner::load`] resumes one it has.
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`] if `id` is taken (resume it with
    /// [`Runner::load`]), and what [`Store::insert`] returns.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped before it completes, the
    /// machine may have been stored; [`Store::get`] tells.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::store::{SqliteStore, Store};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let store = SqliteStore::<Door>::memory().await.unwrap();
    /// let door = Runner::insert(Doorman, Door::Closed, store.clone(), "front")
    ///     .await
    ///     .unwrap()
    ///     .spawn();
    /// door.send(Push::Open).await.unwrap();
    /// assert_eq!(store.get("front").await.unwrap().unwrap().version, 1);
    /// # }
    /// ```
    pub async fn insert<St: Store<H::State>>(
        handler: H,
        initial: H::State,
        store: St,
        id: &str,
    ) -> Result<Self, StoreError<Kind<H>>> {
        store.insert(id, &initial).await?;
        Ok(Self::new(handler, initial).persist_in(store, id.to_owned(), true))
    }

    /// A durable runner that resumes the machine stored under `id`: its
    /// state, its version as the run's `seq`, and its state timer, armed
    /// again at its deadline (one that passed while stored fires at once,
    /// once). Like
    /// [`Runner::restore`], it is not an entry: the `on_restore` hooks run
    /// instead of `on_enter` and `on_start`.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`] if nothing is stored under `id`;
    /// [`StoreError::Decode`] if its timer's event no longer decodes as an
    /// `H::Event` (the timer is never dropped silently); and what
    /// [`Store::get`] returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::store::{SqliteStore, Store};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let store = SqliteStore::<Door>::memory().await.unwrap();
    /// store.insert("front", &Door::Closed).await.unwrap();
    /// let door = Runner::load(Doorman, store.clone(), "front").await.unwrap().spawn();
    /// door.send(Push::Open).await.unwrap();
    /// let saved = store.get("front").await.unwrap().unwrap();
    /// assert_eq!((saved.state, saved.version), (Door::Open, 1));
    /// # }
    /// ```
    pub async fn load<St: Store<H::State>>(
        handler: H,
        store: St,
        id: &str,
    ) -> Result<Self, StoreError<Kind<H>>> {
        let stored = store
            .get(id)
            .await?
            .ok_or_else(|| StoreError::NotFound { id: id.to_owned() })?;
        Ok(Self::resume_stored(handler, stored)?.persist_in(store, id.to_owned(), true))
    }

    /// A runner that resumes `stored` (its state, version and timer), not
    /// yet persisting.
    pub(crate) fn resume_stored(
        handler: H,
        stored: crate::store::Stored<H::State>,
    ) -> Result<Self, StoreError<Kind<H>>> {
        let id = stored.id.as_str();
        let timer = stored
            .timer
            .map(|timer| {
                let event =
                    serde_json::from_str(&timer.event).map_err(|error| StoreError::Decode {
                        id: id.to_owned(),
                        message: format!("its timer's event does not decode: {error}"),
                    })?;
                Ok::<_, StoreError<Kind<H>>>(PendingTimer::new(timer.at, event))
            })
            .transpose()?;
        let mut runner = Self::new(handler, stored.state);
        runner.resume = Some(Resume {
            seq: stored.version,
            entered_at: stored.updated_at,
            timer,
        });
        Ok(runner)
    }
}
