//! The private contract between the typed store methods and a database:
//! rows in, rows out, one statement (or one short transaction) each. The
//! backends know nothing of machines; [`typed`](super::typed) encodes,
//! decodes and decides.
//!
//! The items are `pub` only so that the sealed [`Store`](super::Store)
//! can name them; this module is private, so no user can.

use core::future::Future;

use super::row::Row;
use super::BackendError;

/// A machine row as written: inserted at version 0, or the new content of
/// a compare-and-set.
#[derive(Debug)]
pub struct NewRow<'a> {
    pub(crate) machine: &'static str,
    pub(crate) id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) state: &'a str,
    pub(crate) fingerprint: i64,
    pub(crate) at: i64,
    /// Inserted already leased (epoch 1), so no other owner can take the
    /// new machine between its insert and its first activation.
    pub(crate) lease: Option<LeaseTerms<'a>>,
}

/// Who takes a lease, and for how long (on the database's clock).
#[derive(Debug, Clone, Copy)]
pub struct LeaseTerms<'a> {
    pub(crate) owner: &'a str,
    pub(crate) millis: i64,
}

/// What taking a machine's lease found.
#[derive(Debug)]
pub enum Acquired {
    /// Taken, at this epoch (one above the last).
    Granted(i64),
    /// Another owner holds it until this time (nanoseconds since the
    /// epoch, on the database's clock).
    Held { owner: String, until: i64 },
    /// No such machine.
    Missing,
}

/// A compare-and-set: the row moves to `kind`/`state` and its version rises
/// by one, if (and only if) it was written under `fingerprint`, is at
/// `expected_version` (when given), is of one of `from_kinds`, and has a
/// version left to take. The outbox row is written with it.
#[derive(Debug)]
pub struct Cas<'a> {
    pub(crate) row: NewRow<'a>,
    pub(crate) expected_version: Option<i64>,
    pub(crate) from_kinds: &'a [String],
    pub(crate) timer: TimerWrite<'a>,
    /// The writer's lease epoch, if it holds one: the row must still be
    /// at it (a fleet's activation; see [`Backend::acquire`]).
    pub(crate) epoch: Option<i64>,
}

/// What a compare-and-set does with the row's state timer.
#[derive(Debug, Clone, Copy)]
pub enum TimerWrite<'a> {
    /// Leaves it as it is (an update).
    Keep,
    /// Removes it (a transition leaves the state it belonged to).
    Clear,
    /// Sets it: the deadline in nanoseconds since the epoch, and the event
    /// as JSON.
    Set { at: i64, event: &'a str },
}

impl<'a> TimerWrite<'a> {
    /// As SQL parameters: whether to keep the timer, else the deadline and
    /// the event to write (both null to clear it).
    pub(crate) fn parameters(self) -> (bool, Option<i64>, Option<&'a str>) {
        match self {
            Self::Keep => (true, None, None),
            Self::Clear => (false, None, None),
            Self::Set { at, event } => (false, Some(at), Some(event)),
        }
    }
}

/// What a compare-and-set did.
#[derive(Debug)]
pub enum CasOutcome {
    /// Written, at this version, with this timer (deadline and event).
    Committed {
        version: i64,
        timer_at: Option<i64>,
        timer_event: Option<String>,
    },
    /// Nothing matched; the row as it is now (read after the statement,
    /// so it only explains the miss), or `None` if there is none.
    Missed(Option<Row>),
}

/// A row a migration rewrites: its new kind and state, if it is still at
/// `version` under the old fingerprint.
#[derive(Debug)]
pub struct Rewrite {
    pub(crate) id: String,
    pub(crate) version: i64,
    pub(crate) kind: String,
    pub(crate) state: String,
}

/// An outbox row: a [`Row`] whose `kind` is the kind it left.
#[derive(Debug)]
pub struct OutboxRow {
    pub(crate) position: i64,
    pub(crate) row: Row,
}

/// What SQLite and PostgreSQL each implement. Every method is one
/// statement, or one short transaction, on the database.
pub trait Backend: Send + Sync + 'static {
    /// Inserts the row; `false` if the id is taken.
    #[doc(hidden)]
    fn insert(&self, row: NewRow<'_>) -> impl Future<Output = Result<bool, BackendError>> + Send;

    /// The row of `machine` under `id`.
    #[doc(hidden)]
    fn get(
        &self,
        machine: &'static str,
        id: &str,
    ) -> impl Future<Output = Result<Option<Row>, BackendError>> + Send;

    /// The compare-and-set and its outbox row, atomically.
    #[doc(hidden)]
    fn compare_and_set(
        &self,
        cas: Cas<'_>,
    ) -> impl Future<Output = Result<CasOutcome, BackendError>> + Send;

    /// Writes the row's timer only, if the row was written under
    /// `fingerprint`, is intact and still at `version` (which stays: a
    /// timer is not a change of state, and no outbox row is written).
    /// The row as it is now when nothing matched.
    #[doc(hidden)]
    fn set_timer(
        &self,
        machine: &'static str,
        id: &str,
        fingerprint: i64,
        version: i64,
        epoch: Option<i64>,
        timer: TimerWrite<'_>,
    ) -> impl Future<Output = Result<Option<Option<Row>>, BackendError>> + Send;

    /// Up to `limit` rows of `machine` written under `fingerprint`, with
    /// ids after `after`, ordered by id.
    #[doc(hidden)]
    fn stamped(
        &self,
        machine: &'static str,
        fingerprint: i64,
        after: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Row>, BackendError>> + Send;

    /// Rewrites `rows` under `to` in one transaction, each only if it is
    /// still at its version under `from`; the ids of those that were not.
    #[doc(hidden)]
    fn rewrite(
        &self,
        machine: &'static str,
        from: i64,
        to: i64,
        rows: Vec<Rewrite>,
    ) -> impl Future<Output = Result<Vec<String>, BackendError>> + Send;

    /// The rows of `machine` of `kind`, ordered by id.
    #[doc(hidden)]
    fn list(
        &self,
        machine: &'static str,
        kind: &str,
    ) -> impl Future<Output = Result<Vec<Row>, BackendError>> + Send;

    /// Up to `limit` outbox rows of `machine` (of id `only`, if given)
    /// after `position`, in position order, none of which a later commit
    /// can precede.
    #[doc(hidden)]
    fn changes(
        &self,
        machine: &'static str,
        position: u64,
        only: Option<&str>,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<OutboxRow>, BackendError>> + Send;

    /// The position after which every change not yet readable will come.
    #[doc(hidden)]
    fn last_position(
        &self,
        machine: &'static str,
    ) -> impl Future<Output = Result<u64, BackendError>> + Send;

    /// Takes the machine's lease for `terms.owner` if nobody else holds
    /// it (free, expired, or already this owner's), raising its epoch.
    #[doc(hidden)]
    fn acquire(
        &self,
        machine: &'static str,
        id: &str,
        terms: LeaseTerms<'_>,
    ) -> impl Future<Output = Result<Acquired, BackendError>> + Send;

    /// Extends every lease `terms.owner` still holds on machines of
    /// `machine`: their ids and epochs.
    #[doc(hidden)]
    fn renew(
        &self,
        machine: &'static str,
        terms: LeaseTerms<'_>,
    ) -> impl Future<Output = Result<Vec<(String, i64)>, BackendError>> + Send;

    /// Gives the lease back, if `owner` still holds it at `epoch`.
    #[doc(hidden)]
    fn release(
        &self,
        machine: &'static str,
        id: &str,
        owner: &str,
        epoch: i64,
    ) -> impl Future<Output = Result<(), BackendError>> + Send;

    /// Takes the leases of up to `limit` machines whose timer is due by
    /// `due` (nanoseconds since the epoch) and that no other owner holds,
    /// earliest first, skipping rows another claimer has locked: their rows,
    /// each with its new epoch (so that an activation needs no second read).
    #[doc(hidden)]
    fn claim_due(
        &self,
        machine: &'static str,
        terms: LeaseTerms<'_>,
        due: i64,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Row>, BackendError>> + Send;

    /// Returns when a change after `position` may be readable (or after a
    /// while): what a [`Changes`](super::Changes) stream sleeps on.
    #[doc(hidden)]
    fn wait_for_changes(
        &self,
        machine: &'static str,
        position: u64,
    ) -> impl Future<Output = ()> + Send;
}
