//! Stores: many machines of one type, kept by id, each with a version,
//! every change written with compare-and-set and published through an
//! outbox. Feature `sqlite`: [`SqliteStore`], embedded (SQLite is compiled
//! in; nothing to install).
//!
//! # The contract
//!
//! - A new machine has version 0; each committed transition adds one.
//! - [`Store::transition`] compares the **version**, not only the kind,
//!   in one statement with the write: machines cycle (`Working -> InReview
//!   -> Working`), so a writer that checked only the kind could overwrite a
//!   change it never saw.
//! - Each committed change is written to the outbox in the same
//!   transaction: a change is published if and only if it was committed,
//!   and [`Store::changes_since`] reads it back in order (see
//!   [`Change::position`]).
//! - Nothing read back is trusted: each row carries the table's
//!   [`FINGERPRINT`](crate::StateMachine::FINGERPRINT) and a checksum of
//!   its id, kind and state, written by the database with them. A row that
//!   no longer decodes, was written under another table, or was changed by
//!   other means than a store is [`StoreError::Decode`], never a wrong
//!   state, and no write overwrites it.
//! - Machines are independent: writers of different machines never wait
//!   for each other (on SQLite, commits to one file take turns, as every
//!   SQLite write does).
//!
//! A database of an earlier release is upgraded when a store opens it, in
//! one transaction, every row kept; one of a later release is refused.
//!
//! # Fleets
//!
//! A [`Fleet`](crate::fleet::Fleet) runs the machines of a store, each as
//! at most one activation, owned through a lease kept in the machine's row
//! (owner, epoch, until; on the database's clock, or the host's for
//! SQLite). Every write of an activation is fenced by its lease epoch as
//! well as its version: **at most one writer commits per epoch**. During a
//! takeover a user may see two in-memory copies of a machine for at most
//! one lease; the old owner's late write fails with [`StoreError::Fenced`]
//! and its run ends. Writes through the store's own methods are not
//! leased: they are checked by version only.

pub(crate) mod backend;
mod changes;
mod error;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
#[cfg(feature = "sqlite")]
mod sqlite;
pub(crate) mod typed;

use core::future::Future;
use std::time::SystemTime;

use crate::persist::PendingTimer;
use crate::{Fire, StateMachine};
use backend::Backend as _;
pub(crate) use backend::TimerWrite;
pub(crate) use error::check_id;
pub(crate) use row::{
    decode_machine, nanos as row_nanos, time as row_time, to_u64 as row_u64, Row,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use typed::{Expect, Step};

pub use changes::Changes;
pub use error::{BackendError, StoreError, MAX_ID_BYTES};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresStore, PostgresStoreBuilder};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

/// The kind of a machine.
pub type KindOf<M> = <M as StateMachine>::Kind;

/// A machine as stored: its id, its state and its version.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Stored<M> {
    /// The machine's id in the store.
    pub id: String,
    /// Its state.
    pub state: M,
    /// 0 when inserted, +1 per committed transition.
    pub version: u64,
    /// When it was inserted or last changed.
    pub updated_at: SystemTime,
    /// Its state timer, if one is pending: when it fires and its event, as
    /// JSON (the store is typed by the machine, not by a handler's event).
    /// A transition clears it with the state it belonged to; an update
    /// keeps it.
    pub timer: Option<PendingTimer<String>>,
}

/// What [`Store::migrate`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Migrated {
    /// How many rows it rewrote under today's table.
    pub rewritten: usize,
    /// The rows it left as they were, by id, with why: the mapping refused
    /// them, they were changed outside the store, or they changed while
    /// being migrated (run the migration again for those).
    pub failed: Vec<(String, String)>,
}

/// One committed change, as the outbox keeps it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Change<M: StateMachine> {
    /// Its place in the outbox. Positions rise with the machine's versions,
    /// and a change that committed before another began has the lower
    /// one. Two changes that commit at the same moment may be in either
    /// order: on SQLite it is commit order; on PostgreSQL the order in
    /// which their transactions began writing. A position is never reused,
    /// and never appears behind one a reader has already passed.
    pub position: u64,
    /// The machine's id.
    pub id: String,
    /// The machine's version after the change.
    pub version: u64,
    /// The kind before the change.
    pub from: M::Kind,
    /// The complete new state.
    pub to: M,
    /// When it was committed.
    pub at: SystemTime,
}

/// The result of a store operation.
pub type StoreResult<T, M> = Result<T, StoreError<KindOf<M>>>;

/// Ties a store to its backend. Private, so [`Store`] is sealed: its
/// methods are written once, over the backend's rows.
pub(crate) mod sealed {
    pub trait Backed {
        /// The machine the store keeps.
        type Machine;
        /// The database's side of the contract.
        type Backend: super::backend::Backend;
        /// The backend this store writes through.
        fn backend(&self) -> &Self::Backend;
    }
}

/// A store of machines of type `M`, kept by id: `SqliteStore` and
/// `PostgresStore` (each behind its feature). Every method is async and
/// never blocks the tokio worker; a store is a cheap `Clone` (a pool).
///
/// The trait is sealed: every method is written once, over the two
/// backends, so that the contract below holds for both.
pub trait Store<M>: sealed::Backed + Clone + Send + Sync + 'static
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    /// Stores a new machine under `id`, at version 0.
    ///
    /// # Errors
    ///
    /// [`StoreError::AlreadyExists`] if `id` is taken;
    /// [`StoreError::InvalidId`] if no row may have it (see
    /// [`MAX_ID_BYTES`]); [`StoreError::Encode`] if `state` does not
    /// serialize; [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. An insert whose future is dropped before it
    /// completes (or that timed out) may still commit, on the blocking pool
    /// or on the server: [`get`](Self::get) the id to find out.
    fn insert(
        &self,
        id: &str,
        state: &M,
    ) -> impl Future<Output = StoreResult<Stored<M>, M>> + Send {
        typed::insert(self.backend(), id, state)
    }

    /// The machine stored under `id`, if any.
    ///
    /// # Errors
    ///
    /// [`StoreError::Decode`] if its row no longer fits the table;
    /// [`StoreError::InvalidId`]; [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read changes nothing.
    fn get(&self, id: &str) -> impl Future<Output = StoreResult<Option<Stored<M>>, M>> + Send {
        typed::get(self.backend(), id)
    }

    /// Moves the machine to `next` if it is still at `expected_version` and
    /// the table has the edge; writes the change to the outbox in the same
    /// transaction.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Stale`] (another writer
    /// moved it first; nothing changed), [`StoreError::Illegal`],
    /// [`StoreError::Decode`], [`StoreError::InvalidId`],
    /// [`StoreError::Encode`], [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. A write whose future is dropped before it completes
    /// (or that timed out) may still commit, on the blocking pool or on the
    /// server: whole (the version rose by one and the outbox holds the
    /// change) or not at all, never in part. [`get`](Self::get) the machine
    /// and compare its version to find out.
    fn transition(
        &self,
        id: &str,
        expected_version: u64,
        next: M,
    ) -> impl Future<Output = StoreResult<Stored<M>, M>> + Send {
        let expect = Expect::Version(expected_version);
        typed::compare_and_set(
            self.backend(),
            id,
            expect,
            Step::Transition,
            next,
            TimerWrite::Clear,
            None,
        )
    }

    /// Replaces the machine's data with `next`, of the same kind, if it is
    /// still at `expected_version`: a `Step::update`, not a transition (no
    /// edge is needed). Written to the outbox like a transition, with
    /// `from` equal to the new state's kind.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::Stale`],
    /// [`StoreError::Illegal`] if `next` is of another kind,
    /// [`StoreError::Decode`], [`StoreError::InvalidId`],
    /// [`StoreError::Encode`], [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. A write whose future is dropped before it completes
    /// (or that timed out) may still commit, on the blocking pool or on the
    /// server: whole (the version rose by one and the outbox holds the
    /// change) or not at all, never in part. [`get`](Self::get) the machine
    /// and compare its version to find out.
    fn update(
        &self,
        id: &str,
        expected_version: u64,
        next: M,
    ) -> impl Future<Output = StoreResult<Stored<M>, M>> + Send {
        let expect = Expect::Version(expected_version);
        typed::compare_and_set(
            self.backend(),
            id,
            expect,
            Step::Update,
            next,
            TimerWrite::Keep,
            None,
        )
    }

    /// Moves the machine to `next` if it is still of `expected_kind` (the
    /// seed's form). Prefer [`transition`](Self::transition): a machine
    /// that cycles (`Working -> InReview -> Working`) is of the expected
    /// kind again after changes this writer never saw, and this check lets
    /// it overwrite them; the version check does not.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotFound`], [`StoreError::WrongState`],
    /// [`StoreError::Illegal`], [`StoreError::Decode`],
    /// [`StoreError::InvalidId`], [`StoreError::Encode`], [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. A write whose future is dropped before it completes
    /// (or that timed out) may still commit, on the blocking pool or on the
    /// server: whole (the version rose by one and the outbox holds the
    /// change) or not at all, never in part. [`get`](Self::get) the machine
    /// and compare its version to find out.
    fn transition_from(
        &self,
        id: &str,
        expected_kind: KindOf<M>,
        next: M,
    ) -> impl Future<Output = StoreResult<Stored<M>, M>> + Send {
        let expect = Expect::Kind(expected_kind);
        typed::compare_and_set(
            self.backend(),
            id,
            expect,
            Step::Transition,
            next,
            TimerWrite::Clear,
            None,
        )
    }

    /// Fires `event` on the machine if it is still at `expected_version`.
    ///
    /// # Errors
    ///
    /// As [`transition`](Self::transition), and [`StoreError::NotAccepted`]
    /// if its state does not accept the event.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe. A write whose future is dropped before it completes
    /// (or that timed out) may still commit, on the blocking pool or on the
    /// server: whole (the version rose by one and the outbox holds the
    /// change) or not at all, never in part. [`get`](Self::get) the machine
    /// and compare its version to find out.
    fn fire(
        &self,
        id: &str,
        expected_version: u64,
        event: M::Event,
    ) -> impl Future<Output = StoreResult<Stored<M>, M>> + Send
    where
        M: Fire,
    {
        typed::fire(self.backend(), id, expected_version, event)
    }

    /// Every machine of `kind` (an index scan), ordered by id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Decode`] for the first row that no longer fits the
    /// table; [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read changes nothing.
    fn list(&self, kind: KindOf<M>) -> impl Future<Output = StoreResult<Vec<Stored<M>>, M>> + Send {
        typed::list(self.backend(), kind)
    }

    /// Up to `limit` changes from the outbox, in position order (see
    /// [`Change::position`]), with positions strictly after `position` (0
    /// reads from the start). On PostgreSQL a change is returned once every
    /// transaction that began writing before it has ended, so one that
    /// comes later never has a lower position.
    ///
    /// # Errors
    ///
    /// [`StoreError::Decode`], [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read changes nothing.
    fn changes_since(
        &self,
        position: u64,
        limit: usize,
    ) -> impl Future<Output = StoreResult<Vec<Change<M>>, M>> + Send {
        typed::changes_since(self.backend(), position, None, limit)
    }

    /// Rewrites every machine stored under the table whose fingerprint is
    /// `from_fingerprint` (an earlier version of this enum) with the state
    /// `map` makes of its old state (as JSON), under today's
    /// [`FINGERPRINT`](crate::StateMachine::FINGERPRINT): the only way a
    /// changed table accepts old rows. Versions and timers are kept; no
    /// change is published. Rows go in batches of one transaction each;
    /// a row `map` refuses (or that another writer changes meanwhile) is
    /// left untouched and reported by id in [`Migrated::failed`].
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`]; a batch that failed is not written, the
    /// batches before it are.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the batches written before the future is dropped
    /// stay written; running the migration again finishes it.
    ///
    /// # Examples
    ///
    /// ```
    /// # include!("../../doc/door.rs");
    /// use statewright::store::{SqliteStore, Store};
    /// use statewright::StateMachine;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let store = SqliteStore::<Door>::memory().await.unwrap();
    /// // Rows of an earlier table (say the door could once be `Ajar`) are
    /// // mapped onto today's states:
    /// let earlier = 0x1234_u64;
    /// let migrated = store
    ///     .migrate(earlier, |old| match old.as_str() {
    ///         Some("Ajar") => Ok(Door::Open),
    ///         _ => serde_json::from_value(old).map_err(|error| error.to_string()),
    ///     })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(migrated.rewritten, 0);
    /// # }
    /// ```
    fn migrate(
        &self,
        from_fingerprint: u64,
        map: impl FnMut(serde_json::Value) -> Result<M, String> + Send,
    ) -> impl Future<Output = StoreResult<Migrated, M>> + Send {
        typed::migrate(self.backend(), from_fingerprint, map)
    }

    /// Every change committed from now on, through this store or any other
    /// on the same database, in position order. The stream reads the outbox,
    /// so it misses nothing however late it is read.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read changes nothing.
    fn subscribe(&self) -> impl Future<Output = StoreResult<Changes<M, Self>, M>> + Send {
        async move {
            let position = self.backend().last_position(M::NAME).await;
            let position = position.map_err(StoreError::Backend)?;
            Ok(Changes::new(self.clone(), position, None))
        }
    }

    /// Every change of machine `id` committed from now on.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidId`], [`StoreError::Backend`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a read changes nothing.
    fn watch(&self, id: &str) -> impl Future<Output = StoreResult<Changes<M, Self>, M>> + Send {
        let id = id.to_owned();
        async move {
            error::check_id(&id)?;
            let position = self.backend().last_position(M::NAME).await;
            let position = position.map_err(StoreError::Backend)?;
            Ok(Changes::new(self.clone(), position, Some(id)))
        }
    }
}

/// Every store is its backend's rows, typed: one implementation of the
/// contract for both.
impl<S> Store<S::Machine> for S
where
    S: sealed::Backed + Clone + Send + Sync + 'static,
    S::Machine: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
}
