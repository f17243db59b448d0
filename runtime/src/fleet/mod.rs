//! Fleets: many machines of one type, kept in a [`Store`], each running as
//! at most one activation, started by its first message and passivated
//! when idle.
//!
//! ```
//! # include!("../../doc/door.rs");
//! use std::time::Duration;
//! use statewright::fleet::Fleet;
//! use statewright::store::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = SqliteStore::<Door>::memory().await?;
//! let fleet = Fleet::new(store, |_id: &str| Doorman)
//!     .idle_after(Duration::from_secs(300)) // passivate: end the task, keep the row
//!     .lease(Duration::from_secs(30))
//!     .start()
//!     .await?; // resumes the machines whose timer is due
//! fleet.insert("front", Door::Closed).await?;
//! fleet.send("front", Push::Open).await?; // activates it if it is not running
//! assert_eq!(fleet.snapshot("front").await?.state, Door::Open);
//! fleet.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # The guarantee
//!
//! Each started fleet is one owner. A machine runs in the fleet that holds
//! its lease (`owner`, `epoch`, `until`, in the store's row, on the
//! database's clock; on SQLite, on the host's clock, which every process
//! opening the file shares). Taking a lease raises its epoch, and every
//! write of an activation is fenced by its epoch as well as by the
//! version, so **at most one writer commits per epoch**: an owner that was
//! paused or cut off past its lease, and wakes to write, fails with
//! [`FleetError::Fenced`] and its run ends. During a takeover a user may
//! see two in-memory copies of a machine, for at most one lease: the old
//! owner stops taking events before its lease ends when it cannot renew
//! it, and only one copy's writes commit. A passivated machine's due
//! timer is claimed by one fleet (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), and the step it causes clears it in the same write, so
//! it fires once across every process.

mod error;
mod registry;
mod slot;
mod upkeep;

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::task::AbortHandle;

use crate::store::{Changes, Store};
use crate::{
    Applied, Handler, Recorder, RunnerError, RunnerHandle, Snapshot, StateMachine, Status,
};
pub use error::FleetError;
use registry::{Origin, RecorderFactory, Registry};

type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;

/// The defaults, as DESIGN.md fixes them.
const IDLE_AFTER: Duration = Duration::from_secs(300);
const LEASE: Duration = Duration::from_secs(30);
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// Configures a [`Fleet`]; made by [`Fleet::new`], ended by
/// [`start`](Self::start).
#[must_use = "a fleet does nothing until started"]
pub struct FleetBuilder<H: Handler, St> {
    store: St,
    factory: registry::Factory<H>,
    recorders: Vec<RecorderFactory<H>>,
    idle_after: Duration,
    lease: Duration,
    sweep_every: Duration,
    owner: Option<String>,
}

/// Many machines of one type in a store, each running as at most one
/// activation: see the [module](self). A cheap `Clone`: every clone is
/// the same fleet (one owner).
pub struct Fleet<H: Handler, St> {
    inner: Arc<Inner<H, St>>,
}

struct Inner<H: Handler, St> {
    registry: Arc<Registry<H, St>>,
    /// The renewal and sweeper tasks.
    upkeep: [AbortHandle; 2],
}

impl<H: Handler, St> Drop for Inner<H, St> {
    fn drop(&mut self) {
        self.upkeep.iter().for_each(AbortHandle::abort);
    }
}

impl<H: Handler, St> Clone for Fleet<H, St> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<H: Handler, St> fmt::Debug for Fleet<H, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fleet")
            .field("owner", &self.inner.registry.owner)
            .finish_non_exhaustive()
    }
}

impl<H: Handler, St> fmt::Debug for FleetBuilder<H, St> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FleetBuilder")
            .field("idle_after", &self.idle_after)
            .field("lease", &self.lease)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

impl<H, St> Fleet<H, St>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    /// A fleet of the machines in `store`, each run by the handler
    /// `factory` makes for its id. Configure it, then
    /// [`start`](FleetBuilder::start) it.
    // `Fleet::new(..)...start()` reads as what it makes, as
    // `PostgresStore::builder` could not: the fleet exists once started.
    #[allow(clippy::new_ret_no_self)]
    pub fn new(
        store: St,
        factory: impl Fn(&str) -> H + Send + Sync + 'static,
    ) -> FleetBuilder<H, St> {
        FleetBuilder {
            store,
            factory: Arc::new(factory),
            recorders: Vec::new(),
            idle_after: IDLE_AFTER,
            lease: LEASE,
            sweep_every: SWEEP_EVERY,
            owner: None,
        }
    }
}

impl<H, St> FleetBuilder<H, St>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    /// Passivates a machine that took no event for this long (default five
    /// minutes), unless its state timer is due sooner: its task ends, its
    /// row (and timer) stays, and its next event or due timer activates it
    /// again.
    pub fn idle_after(mut self, idle_after: Duration) -> Self {
        self.idle_after = idle_after;
        self
    }

    /// How long a lease lasts (default 30 s, at least 3 ms); it is renewed
    /// every third of it. Another fleet takes a machine over when its
    /// owner has not renewed it for this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(3));
        self
    }

    /// How often the store is asked for passivated machines whose timer is
    /// due (default every second); they are activated this far ahead, so
    /// their timers fire on time.
    pub fn sweep_every(mut self, every: Duration) -> Self {
        self.sweep_every = every.max(Duration::from_millis(1));
        self
    }

    /// Names this fleet's owner in the leases it takes (default: a random
    /// name per `start`). Two fleets running at the same time must not
    /// share a name.
    pub fn owner(mut self, owner: impl Into<String>) -> Self {
        self.owner = Some(owner.into());
        self
    }

    /// Adds a recorder to every activation, made by `make` for its id (a
    /// journal per machine, say). A factory that fails leaves the machine
    /// inactive: the call that activated it fails with
    /// [`FleetError::Recorder`].
    pub fn recorder<R, E, F>(mut self, make: F) -> Self
    where
        F: Fn(&str) -> Result<R, E> + Send + Sync + 'static,
        R: Recorder<H>,
        E: fmt::Display,
    {
        self.recorders.push(Arc::new(move |id: &str| {
            make(id)
                .map(|recorder| Box::new(recorder) as Box<dyn Recorder<H>>)
                .map_err(|error| error.to_string())
        }));
        self
    }

    /// Starts the fleet: its background task (leases, idle machines, due
    /// timers), after activating every machine whose timer passed while
    /// no fleet ran it.
    ///
    /// # Errors
    ///
    /// [`FleetError::Store`] if the store cannot be asked for due timers.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: machines activated before the future is dropped
    /// keep their leases until they expire.
    ///
    /// # Panics
    ///
    /// If called outside a tokio runtime.
    pub async fn start(self) -> Result<Fleet<H, St>, FleetError<Kind<H>>> {
        let owner = self.owner.unwrap_or_else(random_owner);
        let registry = Arc::new(Registry::new(
            self.store,
            self.factory,
            self.recorders,
            owner,
            self.lease,
            self.idle_after,
        ));
        upkeep::claim_due(&registry, self.sweep_every).await?;
        let renewals = tokio::spawn(upkeep::renewals(Arc::downgrade(&registry)));
        let sweeps = tokio::spawn(upkeep::sweeps(Arc::downgrade(&registry), self.sweep_every));
        let inner = Inner {
            registry,
            upkeep: [renewals.abort_handle(), sweeps.abort_handle()],
        };
        Ok(Fleet {
            inner: Arc::new(inner),
        })
    }
}

/// A name no other fleet has: the process, the time and a counter.
fn random_owner() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STARTED: AtomicU64 = AtomicU64::new(0);
    let nanos = crate::store::row_nanos(std::time::SystemTime::now());
    let count = STARTED.fetch_add(1, Ordering::Relaxed);
    format!("{}-{nanos:x}-{count}", std::process::id())
}

impl<H, St> Fleet<H, St>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    /// Stores a new machine under `id` (leased to this fleet) and
    /// activates it: a new run, whose initial state's `on_enter` runs.
    /// Returns the new run's snapshot.
    ///
    /// # Errors
    ///
    /// [`FleetError::Store`] with `AlreadyExists` if `id` is taken (or
    /// another store error); [`FleetError::Recorder`];
    /// [`FleetError::ShutDown`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the machine may have been stored (`Store::get`
    /// tells); its next event activates it.
    pub async fn insert(
        &self,
        id: &str,
        state: H::State,
    ) -> Result<Snapshot<H::State>, FleetError<Kind<H>>> {
        let registry = &self.inner.registry;
        let origin = Some(Origin::Insert(state));
        let handle = registry
            .with_run(id, origin, |handle| async move { handle })
            .await?;
        Ok(handle.snapshot())
    }

    /// Sends `event` to machine `id` and waits until it has been handled,
    /// activating the machine first if it is not running here (concurrent
    /// first messages share one load).
    ///
    /// # Errors
    ///
    /// [`FleetError::NotFound`]; [`FleetError::NotOwner`] if another fleet
    /// runs it; [`FleetError::Fenced`] if this fleet's activation was taken
    /// over (the event was not applied); [`FleetError::Runner`] for what
    /// the run refused (see [`RunnerHandle::send`](crate::RunnerHandle::send)),
    /// and `Runner(Finished)` for a machine in a terminal state, or for an
    /// event that was queued when this fleet gave the activation up
    /// because it could not renew the lease (the event was not applied;
    /// the next call activates the machine again, or says who owns it);
    /// [`FleetError::Store`]; [`FleetError::Recorder`];
    /// [`FleetError::ShutDown`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe, as [`RunnerHandle::send`](crate::RunnerHandle::send):
    /// once queued, the event is handled even if this future is dropped.
    pub async fn send(
        &self,
        id: &str,
        event: H::Event,
    ) -> Result<Applied<H::State>, FleetError<Kind<H>>> {
        let registry = &self.inner.registry;
        let sent = registry
            .with_run(id, None, |handle| async move {
                let sent = handle.send_or_give_back(event).await?;
                Ok(answered(&handle, sent))
            })
            .await?;
        match sent {
            Ok(answer) => answer,
            // The run ended before the event reached its queue: the next
            // activation takes it (once).
            Err(event) => {
                registry
                    .with_run(id, None, |handle| async move {
                        answered(&handle, handle.send(event).await)
                    })
                    .await?
            }
        }
    }

    /// Queues `event` for machine `id` without waiting for it to be
    /// handled, activating the machine if it is not running here. A run
    /// that ended just before the event reached its queue gives it back,
    /// and it goes to the machine's next activation (once). No
    /// passivation drops a queued event: the run handles its queue first.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send), except what the handler decides (the
    /// event is not handled yet): `Runner(Finished)` if the machine's run
    /// has ended (a terminal machine).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: an event is lost if the future is dropped while it
    /// waits for room in the queue.
    pub async fn post(&self, id: &str, event: H::Event) -> Result<(), FleetError<Kind<H>>> {
        let registry = &self.inner.registry;
        let posted = registry
            .with_run(id, None, |handle| async move { handle.post(event).await })
            .await?;
        let Err(refused) = posted else {
            return Ok(());
        };
        let again = registry
            .with_run(id, None, |handle| async move {
                handle.post(refused.into_inner()).await
            })
            .await?;
        again.map_err(|_| FleetError::Runner(crate::RunnerError::Finished))
    }

    /// Machine `id` as it is: its run's snapshot if it is active here,
    /// else what the store holds (status [`Status::Passivated`]; `seq` is
    /// its version, `entered_at` when it last changed).
    ///
    /// # Errors
    ///
    /// [`FleetError::NotFound`]; [`FleetError::Store`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn snapshot(&self, id: &str) -> Result<Snapshot<H::State>, FleetError<Kind<H>>> {
        let registry = &self.inner.registry;
        if let Some((handle, _)) = registry.slot(id).and_then(|slot| slot.live()) {
            return Ok(handle.snapshot());
        }
        let stored = registry
            .store
            .get(id)
            .await?
            .ok_or_else(|| FleetError::NotFound { id: id.to_owned() })?;
        Ok(Snapshot {
            kind: stored.state.kind(),
            state: stored.state,
            seq: stored.version,
            entered_at: stored.updated_at,
            timeout_at: stored.timer.map(|timer| timer.at),
            status: Status::Passivated,
        })
    }

    /// Every change of machine `id` committed from now on, read from the
    /// store's outbox: it follows the machine across activations and
    /// across processes.
    ///
    /// # Errors
    ///
    /// [`FleetError::Store`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only reads.
    pub async fn watch(&self, id: &str) -> Result<Changes<H::State, St>, FleetError<Kind<H>>> {
        Ok(self.inner.registry.store.watch(id).await?)
    }

    /// How many machines are active (running) in this fleet.
    #[must_use]
    pub fn active(&self) -> usize {
        let slots = self.inner.registry.all();
        slots
            .iter()
            .filter(|(_, slot)| slot.live().is_some())
            .count()
    }

    /// Passivates machine `id` if it is active here, and waits until its
    /// run has ended and its lease is given back: its recorders'
    /// `on_passivate` has run and the store holds everything it saved.
    /// Returns whether it was active. Events already queued or being sent
    /// are handled first; those sent from now on wait, and go to the
    /// machine's next activation.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the passivation goes on without the future.
    pub async fn passivate(&self, id: &str) -> bool {
        let registry = &self.inner.registry;
        let Some(slot) = registry.slot(id) else {
            return false;
        };
        let Some((_, epoch)) = slot.live() else {
            return false;
        };
        // A task of its own: the slot lets no sender in from now on, so the
        // passivation must go on if this future is dropped.
        let draining = tokio::spawn(Arc::clone(&slot).drain_and_passivate());
        let Ok(Some(handle)) = draining.await else {
            return false;
        };
        handle.join().await;
        registry.release(id, epoch).await;
        registry.forget(id, Arc::as_ptr(&slot));
        true
    }

    /// Passivates every activation and gives its lease back, so another
    /// fleet can take the machines over at once; nothing is lost (each run
    /// ends between events). Later calls on any clone fail with
    /// [`FleetError::ShutDown`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the runs end without the future; only the leases not
    /// yet given back are left to expire.
    pub async fn shutdown(&self) {
        let registry = &self.inner.registry;
        registry.close();
        self.inner.upkeep.iter().for_each(AbortHandle::abort);
        let mut ending = Vec::new();
        for (id, slot) in registry.all() {
            let registry = Arc::clone(registry);
            ending.push(tokio::spawn(async move {
                let Some((_, epoch)) = slot.live() else {
                    return;
                };
                if let Some(handle) = Arc::clone(&slot).drain_and_passivate().await {
                    handle.join().await;
                    registry.release(&id, epoch).await;
                    registry.forget(&id, Arc::as_ptr(&slot));
                }
            }));
        }
        // Tasks of their own, so the passivations go on if this future is
        // dropped.
        for passivation in ending {
            let _ = passivation.await;
        }
    }
}

/// A send's answer as the fleet gives it: an event the run ended before
/// handling is `Fenced` if a fenced write ended the run.
fn answered<H: Handler>(
    handle: &RunnerHandle<H>,
    sent: Result<Applied<H::State>, RunnerError<Kind<H>>>,
) -> Result<Applied<H::State>, FleetError<Kind<H>>> {
    sent.map_err(|error| match error {
        RunnerError::Finished => FleetError::unhandled(handle.lost_by()),
        error => FleetError::from_runner(error),
    })
}
