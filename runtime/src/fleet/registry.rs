//! The fleet's map from id to activation, and how an activation is made:
//! lease, load (or insert), run, and the clean-up when the run ends.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

use super::slot::{Activation, Found, Slot};
use super::FleetError;
use crate::store::backend::{Acquired, Backend as _, LeaseTerms};
use crate::store::{decode_machine, row_time, row_u64, typed, Row, Store, StoreError};
use crate::{Handler, Recorder, Runner, RunnerHandle, StateMachine};

type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;
pub(crate) type Factory<H> = Arc<dyn Fn(&str) -> H + Send + Sync>;
pub(crate) type RecorderFactory<H> =
    Arc<dyn Fn(&str) -> Result<Box<dyn Recorder<H>>, String> + Send + Sync>;

/// What every clone of a fleet shares.
pub(crate) struct Registry<H: Handler, St> {
    pub(crate) store: St,
    factory: Factory<H>,
    recorders: Vec<RecorderFactory<H>>,
    pub(crate) owner: String,
    pub(crate) lease: Duration,
    pub(crate) idle_after: Duration,
    slots: Mutex<HashMap<Arc<str>, Arc<Slot<H>>>>,
    closed: AtomicBool,
    started: Instant,
}

/// How an activation comes to be.
pub(crate) enum Origin<S> {
    /// Loaded from the store, taking the lease; or the row a claim of due
    /// timers already read, leased at its epoch.
    Load { claimed: Option<Row> },
    /// Inserted, born leased.
    Insert(S),
}

/// What needs no store: the map, the clock, the owner's terms.
impl<H: Handler, St> Registry<H, St> {
    pub(crate) fn terms(&self) -> LeaseTerms<'_> {
        LeaseTerms {
            owner: &self.owner,
            millis: i64::try_from(self.lease.as_millis()).unwrap_or(i64::MAX),
        }
    }

    /// Milliseconds since the fleet started (tokio's clock).
    pub(crate) fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<Arc<str>, Arc<Slot<H>>>> {
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn slot(&self, id: &str) -> Option<Arc<Slot<H>>> {
        self.slots().get(id).cloned()
    }

    pub(crate) fn all(&self) -> Vec<(Arc<str>, Arc<Slot<H>>)> {
        let slots = self.slots();
        slots
            .iter()
            .map(|(id, slot)| (Arc::clone(id), Arc::clone(slot)))
            .collect()
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
    }

    /// Removes `slot` from the map, if it is still `id`'s.
    pub(crate) fn forget(&self, id: &str, slot: *const Slot<H>) {
        let mut slots = self.slots();
        if slots
            .get(id)
            .is_some_and(|current| Arc::as_ptr(current) == slot)
        {
            slots.remove(id);
        }
    }
}

impl<H, St> Registry<H, St>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    pub(crate) fn new(
        store: St,
        factory: Factory<H>,
        recorders: Vec<RecorderFactory<H>>,
        owner: String,
        lease: Duration,
        idle_after: Duration,
    ) -> Self {
        Self {
            store,
            factory,
            recorders,
            owner,
            lease,
            idle_after,
            slots: Mutex::new(HashMap::new()),
            closed: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// `id`'s live run, activated (once, however many callers ask at
    /// the same time) if it has none, and `work` done on it while the idle
    /// collector leaves it alone.
    pub(crate) async fn with_run<T, F, Fut>(
        self: &Arc<Self>,
        id: &str,
        mut origin: Option<Origin<H::State>>,
        work: F,
    ) -> Result<T, FleetError<Kind<H>>>
    where
        F: FnOnce(RunnerHandle<H>) -> Fut,
        Fut: core::future::Future<Output = T>,
    {
        loop {
            let slot = {
                if self.closed.load(Ordering::SeqCst) {
                    return Err(FleetError::ShutDown);
                }
                let now = self.now();
                let mut slots = self.slots();
                match slots.get(id) {
                    Some(slot) => Arc::clone(slot),
                    None => {
                        // The map's key and the slot share one copy of the id.
                        let slot = Arc::new(Slot::new(Arc::from(id), now));
                        slots.insert(Arc::clone(&slot.id), Arc::clone(&slot));
                        slot
                    }
                }
            };
            match slot.found() {
                Found::Live(handle) => {
                    if let Some(Origin::Insert(_)) = origin {
                        return Err(StoreError::AlreadyExists { id: id.to_owned() }.into());
                    }
                    let Some(_busy) = slot.enter(self.now()) else {
                        tokio::task::yield_now().await;
                        continue;
                    };
                    return Ok(work(handle).await);
                }
                Found::Ending(handle) => {
                    handle.join().await;
                    self.forget(id, Arc::as_ptr(&slot));
                    continue;
                }
                Found::Dead => continue,
                Found::Empty => {}
            }
            let loading = slot.loading.lock().await;
            if !matches!(slot.found(), Found::Empty) {
                continue;
            }
            let origin = origin.take().unwrap_or(Origin::Load { claimed: None });
            match self.activate(id, &slot, origin).await {
                Ok(()) => drop(loading),
                Err(error) => {
                    slot.kill();
                    self.forget(id, Arc::as_ptr(&slot));
                    return Err(error);
                }
            }
        }
    }

    /// Leases, loads (or inserts) and spawns `id`'s run into `slot`.
    async fn activate(
        self: &Arc<Self>,
        id: &str,
        slot: &Arc<Slot<H>>,
        origin: Origin<H::State>,
    ) -> Result<(), FleetError<Kind<H>>> {
        let backend = self.store.backend();
        let (runner, epoch) = match origin {
            Origin::Insert(state) => {
                typed::insert_leased(backend, id, &state, Some(self.terms())).await?;
                (Runner::new((self.factory)(id), state), 1)
            }
            Origin::Load { claimed } => {
                let epoch = match &claimed {
                    Some(row) => row_u64(row.lease_epoch),
                    None => self.acquire(id).await?,
                };
                match self.load(id, claimed).await {
                    Ok(runner) => (runner, epoch),
                    Err(error) => {
                        self.release(id, epoch).await;
                        return Err(error);
                    }
                }
            }
        };
        let mut runner =
            runner.persist_fenced(self.store.clone(), id.to_owned(), true, Some(epoch));
        for make in &self.recorders {
            match make(id) {
                Ok(recorder) => runner = runner.boxed_recorder(recorder),
                Err(message) => {
                    self.release(id, epoch).await;
                    let id = id.to_owned();
                    return Err(FleetError::Recorder { id, message });
                }
            }
        }
        let (handle, run) = runner.pair();
        let since = self.now();
        slot.activate(Activation {
            handle,
            epoch,
            since,
        });
        let (registry, id, slot) = (
            Arc::downgrade(self),
            Arc::clone(&slot.id),
            Arc::downgrade(slot),
        );
        let clean_up = move || async move { Self::ended(&registry, &id, &slot, epoch).await };
        tokio::spawn(ThenCleanUp {
            run,
            clean_up: CleanUp::Waiting(clean_up),
        });
        Ok(())
    }

    /// After a run ends: its lease goes back, and its slot leaves the map.
    async fn ended(registry: &Weak<Self>, id: &str, slot: &Weak<Slot<H>>, epoch: u64) {
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let by_caller = slot
            .upgrade()
            .is_some_and(|slot| slot.released_by_caller.load(Ordering::SeqCst));
        if !by_caller {
            registry.release(id, epoch).await;
        }
        registry.forget(id, slot.as_ptr());
    }

    async fn acquire(&self, id: &str) -> Result<u64, FleetError<Kind<H>>> {
        crate::store::check_id::<Kind<H>>(id)?;
        let acquired = self
            .store
            .backend()
            .acquire(H::State::NAME, id, self.terms())
            .await
            .map_err(StoreError::Backend)?;
        match acquired {
            Acquired::Granted(epoch) => Ok(crate::store::row_u64(epoch)),
            Acquired::Held { owner, until } => Err(FleetError::NotOwner {
                id: id.to_owned(),
                owner,
                until: row_time(until),
            }),
            Acquired::Missing => Err(FleetError::NotFound { id: id.to_owned() }),
        }
    }

    /// `id`'s runner, from the row a claim read or from the store.
    async fn load(&self, id: &str, claimed: Option<Row>) -> Result<Runner<H>, FleetError<Kind<H>>> {
        let stored = match claimed {
            Some(row) => decode_machine(row)?,
            None => self
                .store
                .get(id)
                .await?
                .ok_or_else(|| FleetError::NotFound { id: id.to_owned() })?,
        };
        if H::State::is_terminal(stored.state.kind()) {
            // Its run is over: nothing to activate.
            return Err(FleetError::Runner(crate::RunnerError::Finished));
        }
        Ok(Runner::resume_stored((self.factory)(id), stored)?)
    }

    /// Gives the lease back; a failure only leaves it to expire.
    pub(crate) async fn release(&self, id: &str, epoch: u64) {
        let epoch = i64::try_from(epoch).unwrap_or(i64::MAX);
        let released = self
            .store
            .backend()
            .release(H::State::NAME, id, &self.owner, epoch)
            .await;
        if let Err(error) = released {
            tracing::warn!(id, %error, "a fleet could not give a lease back; it will expire");
        }
    }
}

/// A fleet's task: the run, then the clean-up after it. Written by hand: an
/// `async` block that awaited the run kept room for it twice, the block's
/// capture and the awaited future (320 bytes more per activation than the
/// run itself).
struct ThenCleanUp<R, F, C> {
    run: R,
    clean_up: CleanUp<F, C>,
}

/// The clean-up: what makes it while the run goes on, then its future,
/// boxed so that its store call is not laid out beside every running run.
enum CleanUp<F, C> {
    Waiting(F),
    Running(Pin<Box<C>>),
    Done,
}

impl<R, F, C> Future for ThenCleanUp<R, F, C>
where
    R: Future + Unpin,
    F: FnOnce() -> C + Unpin,
    C: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match &mut this.clean_up {
                CleanUp::Waiting(_) => {
                    if Pin::new(&mut this.run).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    if let CleanUp::Waiting(make) =
                        std::mem::replace(&mut this.clean_up, CleanUp::Done)
                    {
                        this.clean_up = CleanUp::Running(Box::pin(make()));
                    }
                }
                CleanUp::Running(clean_up) => {
                    ready!(clean_up.as_mut().poll(cx));
                    this.clean_up = CleanUp::Done;
                }
                CleanUp::Done => return Poll::Ready(()),
            }
        }
    }
}

impl<H: Handler, St> Drop for Registry<H, St> {
    /// A fleet dropped without `shutdown` passivates its runs (their leases
    /// then expire).
    fn drop(&mut self) {
        for slot in self
            .slots
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            slot.passivate();
        }
    }
}
