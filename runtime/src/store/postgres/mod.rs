//! [`PostgresStore`]: machines that several processes or hosts share.

mod notify;
mod schema;

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Statement};

use super::backend::{
    Acquired, Backend, Cas, CasOutcome, LeaseTerms, NewRow, OutboxRow, Rewrite, TimerWrite,
};
use super::error::backend;
use super::row::{self, Row};
use super::sealed::Backed;
use super::{BackendError, StoreError, StoreResult};
use crate::StateMachine;

/// How long a `Changes` stream waits without a notification before it
/// looks at the outbox anyway.
const POLL: Duration = Duration::from_secs(1);
/// How often it looks while a committed change is held back behind a
/// transaction that began writing before it and is still open.
const HELD_BACK_POLL: Duration = Duration::from_millis(20);
/// The builder's defaults, as DESIGN.md fixes them.
const POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);
/// TCP keepalive: the first probe after this much silence.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);

/// Machines of type `M` in PostgreSQL, shared by any number of processes
/// and hosts.
///
/// Every compare-and-set is one prepared statement, one round trip: an
/// `UPDATE .. WHERE` the row was written under this table (its
/// fingerprint), is at the expected version (or kind), and is of a kind the
/// table has an edge from, chained to the `INSERT` of its outbox row. Only
/// when it matches nothing is the row read, to say why ([`StoreError::Stale`]
/// with both versions, [`StoreError::Illegal`], [`StoreError::Decode`], ..).
/// Concurrent writers of one machine queue on its row lock; writers of
/// different machines do not wait for each other.
///
/// The statement writes only over a row whose fingerprint, version and
/// kind are what the writer expects and whose checksum (over its id, kind
/// and state, written by the database with them) still matches: a row
/// changed by other means is reported as [`StoreError::Decode`], never
/// overwritten.
///
/// An outbox row's position is the id of the transaction that wrote it
/// (`pg_current_xact_id()`, PostgreSQL 13 or later). A change that
/// committed before another began has the lower position, and so do all
/// changes of one machine in version order; two changes that committed at
/// the same time are in the order they began writing. A reader takes only
/// positions below the oldest transaction still writing, so no change can
/// later appear before what it has read: a change becomes readable once
/// every transaction that began writing before it has ended (its own
/// commit included), which is at once unless something else holds a write
/// transaction open on the server.
///
/// `subscribe`/`watch` wake on `LISTEN`/`NOTIFY`. PostgreSQL serializes
/// the commits of transactions that notify, so a store notifies at most
/// once per 2 ms: while writes go on, one compare-and-set in that time
/// carries the notification in its own statement; when they stop, a
/// notification of its own follows the last commit within about 4 ms. Watchers
/// in this process are woken at once; after a dropped connection (or a
/// notification lost to a crash) the streams read what they missed from
/// the outbox within a second, so a watcher misses nothing. Every
/// statement is parameterised.
pub struct PostgresStore<M> {
    backend: PostgresBackend,
    machine: PhantomData<fn() -> M>,
}

/// The pool and listener behind a [`PostgresStore`] and its clones.
#[derive(Clone)]
pub struct PostgresBackend(Arc<Inner>);

struct Inner {
    pool: Pool,
    config: tokio_postgres::Config,
    /// The deadline of every call, pool wait included.
    timeout: Duration,
    /// Woken by every notification, and after each (re)connection.
    changed: Arc<Notify>,
    listener: Mutex<Option<AbortHandle>>,
    /// Which commits a notification has covered; the notifier task sends
    /// one for those no statement carried.
    notifications: Arc<notify::Notifications>,
    notifier: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for task in [&mut self.listener, &mut self.notifier] {
            if let Some(task) = task
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                task.abort();
            }
        }
    }
}

impl<M> Clone for PostgresStore<M> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend.clone(),
            machine: PhantomData,
        }
    }
}

impl<M> fmt::Debug for PostgresStore<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("hosts", &self.backend.0.config.get_hosts())
            .finish_non_exhaustive()
    }
}

/// The settings of a [`PostgresStore`] before it connects:
/// [`PostgresStore::builder`].
#[must_use = "a builder connects nothing until `.connect().await`"]
pub struct PostgresStoreBuilder<M> {
    url: String,
    pool_size: usize,
    connect_timeout: Duration,
    timeout: Duration,
    machine: PhantomData<fn() -> M>,
}

// Not derived: the URL may hold a password.
impl<M> fmt::Debug for PostgresStoreBuilder<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStoreBuilder")
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<M> PostgresStoreBuilder<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    /// How many connections the store keeps (default 16; at least 1).
    pub fn pool_size(mut self, connections: usize) -> Self {
        self.pool_size = connections.max(1);
        self
    }

    /// How long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The deadline of every store call, waiting for a pooled connection
    /// included (default 30 s). Past it the call fails with
    /// [`StoreError::Backend`] instead of waiting on a server that froze
    /// or a network that dropped; the server is also told to abort a
    /// statement, a lock wait or an idle transaction that outlives it.
    ///
    /// A write that timed out may still commit (its `COMMIT` may have
    /// reached the server): read the machine with [`Store::get`](super::Store::get) and
    /// compare versions to find out.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Connects and creates the schema if it is missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the URL does not parse, the database
    /// cannot be reached within the connect timeout or does not answer
    /// within the timeout, or its schema is of a newer release.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes leaves at most
    /// a schema that another `connect` would have created.
    pub async fn connect(self) -> StoreResult<PostgresStore<M>, M> {
        let mut config: tokio_postgres::Config = self.url.parse().map_err(backend)?;
        let millis = self.timeout.as_millis();
        let server_side = format!(
            "-c statement_timeout={millis} -c lock_timeout={millis} -c idle_in_transaction_session_timeout={millis}"
        );
        let options = match config.get_options() {
            Some(theirs) => format!("{theirs} {server_side}"),
            None => server_side,
        };
        config
            .options(&options)
            .connect_timeout(self.connect_timeout)
            .keepalives(true)
            .keepalives_idle(KEEPALIVE_IDLE)
            .tcp_user_timeout(self.timeout);
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.pool_size)
            .build()
            .map_err(backend)?;
        let backend = PostgresBackend(Arc::new(Inner {
            pool,
            config,
            timeout: self.timeout,
            changed: Arc::new(Notify::new()),
            listener: Mutex::new(None),
            notifications: Arc::new(notify::Notifications::new()),
            notifier: Mutex::new(None),
        }));
        backend
            .deadline(schema::create(&backend.0.pool))
            .await
            .map_err(StoreError::Backend)?;
        Ok(PostgresStore {
            backend,
            machine: PhantomData,
        })
    }
}

/// A store call that did not finish within the store's timeout.
#[derive(Debug)]
struct TimedOut(Duration);

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "no answer within {:?} (the store's timeout): the server is down, frozen or unreachable; a write may still have committed",
            self.0
        )
    }
}

impl std::error::Error for TimedOut {}

impl<M> PostgresStore<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    /// Connects to the database at `url` (`postgres://user@host:port/db`)
    /// with the defaults of [`builder`](Self::builder), and creates the
    /// schema if it is missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the URL does not parse, the database
    /// cannot be reached within the connect timeout, or its schema is of a
    /// newer release.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future before it completes leaves at most
    /// a schema that another `connect` would have created.
    pub async fn connect(url: &str) -> StoreResult<Self, M> {
        Self::builder(url).connect().await
    }

    /// A store on the database at `url`, with settings to change before
    /// [`connect`](PostgresStoreBuilder::connect): a pool of 16
    /// connections, a connect timeout of 10 s, a deadline of 30 s on every
    /// call (pool wait included), TCP keepalive on.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # include!("../../../doc/door.rs");
    /// use statewright::store::PostgresStore;
    /// use std::time::Duration;
    ///
    /// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = PostgresStore::<Door>::builder("postgres://app@db/app")
    ///     .pool_size(32)
    ///     .timeout(Duration::from_secs(5))
    ///     .connect()
    ///     .await?;
    /// # Ok(())
    /// # }
    /// # fn main() {}
    /// ```
    pub fn builder(url: &str) -> PostgresStoreBuilder<M> {
        PostgresStoreBuilder {
            url: url.to_owned(),
            pool_size: POOL_SIZE,
            connect_timeout: CONNECT_TIMEOUT,
            timeout: TIMEOUT,
            machine: PhantomData,
        }
    }
}

impl<M> Backed for PostgresStore<M> {
    type Machine = M;
    type Backend = PostgresBackend;

    fn backend(&self) -> &PostgresBackend {
        &self.backend
    }
}

impl fmt::Debug for PostgresBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresBackend")
            .field("hosts", &self.0.config.get_hosts())
            .finish_non_exhaustive()
    }
}

impl PostgresBackend {
    /// Runs `call` within the store's deadline; past it, the call fails
    /// and its connection is dropped.
    async fn deadline<T>(
        &self,
        call: impl Future<Output = Result<T, BackendError>>,
    ) -> Result<T, BackendError> {
        tokio::time::timeout(self.0.timeout, call)
            .await
            .unwrap_or_else(|_| Err(Box::new(TimedOut(self.0.timeout))))
    }

    /// A pooled connection, and `statement` prepared on it (once per
    /// connection).
    async fn prepared(&self, statement: &str) -> Result<(Object, Statement), BackendError> {
        let client = self.0.pool.get().await?;
        let statement = client.prepare_cached(statement).await?;
        Ok((client, statement))
    }

    /// Wakes this process's watchers at once, and the notifier task, which
    /// tells the other processes if the statement did not (`carried` is its
    /// claim when it did).
    fn committed(&self, carried: Option<u64>) {
        self.0.changed.notify_waiters();
        let mut notifier = self
            .0
            .notifier
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if notifier.is_none() {
            let notifications = Arc::clone(&self.0.notifications);
            let (pool, timeout) = (self.0.pool.clone(), self.0.timeout);
            let task = notify::notify(pool, notifications, timeout);
            *notifier = Some(tokio::spawn(task).abort_handle());
        }
        self.0.notifications.committed(carried);
    }

    /// Starts the listener once: it wakes the streams on every
    /// notification and after every (re)connection.
    fn ensure_listener(&self) {
        let mut listener = self
            .0
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if listener.is_none() {
            let changed = Arc::downgrade(&self.0.changed);
            let config = self.0.config.clone();
            *listener = Some(tokio::spawn(notify::listen(changed, config)).abort_handle());
        }
    }
}

const SELECT_MACHINE: &str = "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
   FROM statewright_machines WHERE machine = $1 AND id = $2";

/// The compare-and-set, followed by `$tail` (its last `SELECT`).
macro_rules! compare_and_set {
    ($($tail:literal),+) => { concat!("WITH moved AS (
     UPDATE statewright_machines
        SET left_kind = kind, kind = $3, state = $4, version = version + 1, updated_at = $6,
            checksum = statewright_checksum(id, $3, $4),
            timer_at = CASE WHEN $9 THEN timer_at ELSE $10 END,
            timer_event = CASE WHEN $9 THEN timer_event ELSE $11 END
      WHERE machine = $1 AND id = $2 AND fingerprint = $5
        AND checksum = statewright_checksum(id, kind, state)
        AND version = COALESCE($7, version) AND version < 9223372036854775807
        AND kind = ANY($8) AND lease_epoch = COALESCE($12, lease_epoch)
  RETURNING version, left_kind, timer_at, timer_event
 ),
 logged AS (
     INSERT INTO statewright_outbox (position, machine, id, version, from_kind, state, fingerprint, at)
     SELECT pg_current_xact_id()::text::bigint, $1, $2, version, left_kind, $4, $5, $6 FROM moved
 )", $($tail),+) };
}

/// The row moves if it matches (see [`Cas`]), and its outbox row is
/// written with the transaction's id as its position: one statement.
const COMPARE_AND_SET: &str = compare_and_set!(" SELECT version, timer_at, timer_event FROM moved");

/// The same, notifying channel `$13` with its commit. A `SELECT` in a
/// `WITH` runs only when it is read, so the last `SELECT` joins it; a
/// statement whose row did not move may still notify, which costs the
/// watchers a look and loses nothing.
const COMPARE_AND_SET_NOTIFYING: &str = compare_and_set!(
    ", notified AS (SELECT pg_notify($13, ''))",
    " SELECT version, timer_at, timer_event FROM moved, notified"
);

/// A migration's page: rows under one fingerprint, by id.
const STAMPED: &str = "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
   FROM statewright_machines WHERE machine = $1 AND fingerprint = $2 AND id > $3
  ORDER BY id LIMIT $4";

/// A migrated row: new kind, state, fingerprint and checksum; its version,
/// timer and time kept.
const REWRITE: &str = "UPDATE statewright_machines
    SET kind = $5, state = $6, fingerprint = $7, checksum = statewright_checksum(id, $5, $6)
  WHERE machine = $1 AND id = $2 AND fingerprint = $3 AND version = $4";

/// The timer alone, on a row still at the version the writer knows.
const SET_TIMER: &str = "UPDATE statewright_machines
    SET timer_at = CASE WHEN $5 THEN timer_at ELSE $6 END,
        timer_event = CASE WHEN $5 THEN timer_event ELSE $7 END
  WHERE machine = $1 AND id = $2 AND fingerprint = $3 AND version = $4
    AND checksum = statewright_checksum(id, kind, state)
    AND lease_epoch = COALESCE($8, lease_epoch)";

/// The lease, if nobody else holds it: `$3` owner, `$4` its length in
/// milliseconds, on the database's clock.
const ACQUIRE: &str = "UPDATE statewright_machines
    SET lease_owner = $3, lease_epoch = lease_epoch + 1,
        lease_until = statewright_now() + $4::BIGINT * 1000000
  WHERE machine = $1 AND id = $2
    AND (lease_owner IS NULL OR lease_owner = $3 OR lease_until < statewright_now())
  RETURNING lease_epoch";

/// Every lease an owner still holds, extended.
const RENEW: &str = "UPDATE statewright_machines
    SET lease_until = statewright_now() + $3::BIGINT * 1000000
  WHERE machine = $1 AND lease_owner = $2
  RETURNING id, lease_epoch";

const RELEASE: &str = "UPDATE statewright_machines
    SET lease_owner = NULL, lease_until = NULL
  WHERE machine = $1 AND id = $2 AND lease_owner = $3 AND lease_epoch = $4";

/// Machines whose timer is due and whose lease is free or expired (and
/// not this owner's: its own are running here), taken earliest first;
/// rows another process is claiming are skipped, not waited for, so each
/// due timer goes to one claimer.
const CLAIM_DUE: &str = "UPDATE statewright_machines AS taken
    SET lease_owner = $2, lease_epoch = taken.lease_epoch + 1,
        lease_until = statewright_now() + $3::BIGINT * 1000000
   FROM (SELECT machine, id FROM statewright_machines
          WHERE machine = $1 AND timer_at <= $4::BIGINT
            AND (lease_owner IS NULL OR (lease_owner <> $2 AND lease_until < statewright_now()))
          ORDER BY timer_at LIMIT $5::BIGINT
          FOR UPDATE SKIP LOCKED) AS due
  WHERE taken.machine = due.machine AND taken.id = due.id
  RETURNING taken.id, taken.kind, taken.state, taken.version, taken.fingerprint,
            taken.updated_at AS at,
            taken.checksum = statewright_checksum(taken.id, taken.kind, taken.state) AS intact,
            taken.timer_at, taken.timer_event, taken.lease_epoch";

/// Outbox rows no later commit can precede: below the oldest transaction
/// still writing (`$4`: one machine's, or every machine's when null).
const CHANGES: &str = "SELECT position, id, from_kind AS kind, state, version, fingerprint, at,
                    TRUE AS intact, NULL::BIGINT AS timer_at, NULL::TEXT AS timer_event, 0::BIGINT AS lease_epoch
   FROM statewright_outbox
  WHERE machine = $1 AND position > $2 AND ($4::text IS NULL OR id = $4)
    AND position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint
  ORDER BY position LIMIT $3";

/// The newest position after `$2`, if any, and the position below which
/// every row is readable.
const NEWEST: &str = "SELECT (SELECT MAX(position) FROM statewright_outbox
                     WHERE machine = $1 AND position > $2) AS newest,
        pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS horizon";

/// A [`Row`] from the columns named `id, kind, state, version,
/// fingerprint, at`: a machine row, or an outbox row (whose `kind` is the
/// one it left), each query naming its columns so.
fn machine_row(found: &tokio_postgres::Row) -> Row {
    Row {
        id: found.get("id"),
        kind: found.get("kind"),
        state: found.get("state"),
        version: found.get("version"),
        fingerprint: found.get("fingerprint"),
        at: found.get("at"),
        intact: found.get("intact"),
        timer_at: found.get("timer_at"),
        timer_event: found.get("timer_event"),
        lease_epoch: found.get("lease_epoch"),
    }
}

impl Backend for PostgresBackend {
    async fn insert(&self, row: NewRow<'_>) -> Result<bool, BackendError> {
        self.deadline(async {
            let (client, statement) = self
                .prepared(
                    "INSERT INTO statewright_machines
                         (machine, id, kind, state, version, fingerprint, updated_at, checksum,
                          lease_owner, lease_epoch, lease_until)
                     VALUES ($1, $2, $3, $4, 0, $5, $6, statewright_checksum($2, $3, $4),
                             $7, CASE WHEN $7::TEXT IS NULL THEN 0 ELSE 1 END,
                             statewright_now() + $8::BIGINT * 1000000)",
                )
                .await?;
            let owner = row.lease.map(|terms| terms.owner);
            let millis = row.lease.map(|terms| terms.millis);
            let parameters: [&(dyn ToSql + Sync); 8] = [
                &row.machine,
                &row.id,
                &row.kind,
                &row.state,
                &row.fingerprint,
                &row.at,
                &owner,
                &millis,
            ];
            match client.execute(&statement, &parameters).await {
                Ok(_) => Ok(true),
                Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => Ok(false),
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn get(&self, machine: &'static str, id: &str) -> Result<Option<Row>, BackendError> {
        self.deadline(async {
            let (client, statement) = self.prepared(SELECT_MACHINE).await?;
            let found = client.query_opt(&statement, &[&machine, &id]).await?;
            Ok(found.as_ref().map(machine_row))
        })
        .await
    }

    async fn compare_and_set(&self, cas: Cas<'_>) -> Result<CasOutcome, BackendError> {
        let carried = self.0.notifications.claim();
        let outcome = self
            .deadline(async {
                let sql = match carried {
                    Some(_) => COMPARE_AND_SET_NOTIFYING,
                    None => COMPARE_AND_SET,
                };
                let (client, statement) = self.prepared(sql).await?;
                let (keep_timer, timer_at, timer_event) = cas.timer.parameters();
                let parameters: [&(dyn ToSql + Sync); 13] = [
                    &cas.row.machine,
                    &cas.row.id,
                    &cas.row.kind,
                    &cas.row.state,
                    &cas.row.fingerprint,
                    &cas.row.at,
                    &cas.expected_version,
                    &cas.from_kinds,
                    &keep_timer,
                    &timer_at,
                    &timer_event,
                    &cas.epoch,
                    &notify::CHANNEL,
                ];
                // The channel is the notifying statement's parameter only.
                let parameters = &parameters[..statement.params().len()];
                let moved = client.query_opt(&statement, parameters).await?;
                Ok(moved.map(|moved| CasOutcome::Committed {
                    version: moved.get("version"),
                    timer_at: moved.get("timer_at"),
                    timer_event: moved.get("timer_event"),
                }))
            })
            .await?;
        match outcome {
            Some(committed) => {
                self.committed(carried);
                Ok(committed)
            }
            None => Ok(CasOutcome::Missed(
                self.get(cas.row.machine, cas.row.id).await?,
            )),
        }
    }

    async fn set_timer(
        &self,
        machine: &'static str,
        id: &str,
        fingerprint: i64,
        version: i64,
        epoch: Option<i64>,
        timer: TimerWrite<'_>,
    ) -> Result<Option<Option<Row>>, BackendError> {
        let (keep, at, event) = timer.parameters();
        let written = self
            .deadline(async {
                let (client, statement) = self.prepared(SET_TIMER).await?;
                let parameters: [&(dyn ToSql + Sync); 8] = [
                    &machine,
                    &id,
                    &fingerprint,
                    &version,
                    &keep,
                    &at,
                    &event,
                    &epoch,
                ];
                Ok(client.execute(&statement, &parameters).await?)
            })
            .await?;
        if written == 1 {
            Ok(None)
        } else {
            Ok(Some(self.get(machine, id).await?))
        }
    }

    async fn stamped(
        &self,
        machine: &'static str,
        fingerprint: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Row>, BackendError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.deadline(async {
            let (client, statement) = self.prepared(STAMPED).await?;
            let rows = client
                .query(&statement, &[&machine, &fingerprint, &after, &limit])
                .await?;
            Ok(rows.iter().map(machine_row).collect())
        })
        .await
    }

    async fn rewrite(
        &self,
        machine: &'static str,
        from: i64,
        to: i64,
        rows: Vec<Rewrite>,
    ) -> Result<Vec<String>, BackendError> {
        self.deadline(async {
            let mut client = self.0.pool.get().await?;
            let transaction = client.transaction().await?;
            let statement = transaction.prepare_cached(REWRITE).await?;
            let mut skipped = Vec::new();
            for row in rows {
                let parameters: [&(dyn ToSql + Sync); 7] = [
                    &machine,
                    &row.id,
                    &from,
                    &row.version,
                    &row.kind,
                    &row.state,
                    &to,
                ];
                if transaction.execute(&statement, &parameters).await? == 0 {
                    skipped.push(row.id);
                }
            }
            transaction.commit().await?;
            Ok(skipped)
        })
        .await
    }

    async fn list(&self, machine: &'static str, kind: &str) -> Result<Vec<Row>, BackendError> {
        self.deadline(async {
            let (client, statement) = self
                .prepared(
                    "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
                       FROM statewright_machines WHERE machine = $1 AND kind = $2 ORDER BY id",
                )
                .await?;
            let rows = client.query(&statement, &[&machine, &kind]).await?;
            Ok(rows.iter().map(machine_row).collect())
        })
        .await
    }

    async fn changes(
        &self,
        machine: &'static str,
        position: u64,
        only: Option<&str>,
        limit: usize,
    ) -> Result<Vec<OutboxRow>, BackendError> {
        self.deadline(async {
            let (client, statement) = self.prepared(CHANGES).await?;
            let (after, limit) = (
                row::to_i64(position),
                i64::try_from(limit).unwrap_or(i64::MAX),
            );
            let rows = client
                .query(&statement, &[&machine, &after, &limit, &only])
                .await?;
            Ok(rows
                .iter()
                .map(|found| OutboxRow {
                    position: found.get("position"),
                    row: machine_row(found),
                })
                .collect())
        })
        .await
    }

    async fn last_position(&self, _machine: &'static str) -> Result<u64, BackendError> {
        self.deadline(async {
            let client = self.0.pool.get().await?;
            let horizon: i64 = client
                .query_one(
                    "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
                    &[],
                )
                .await?
                .get(0);
            // Every change to come will be at the horizon or after it.
            Ok(row::to_u64(horizon.saturating_sub(1)))
        })
        .await
    }

    async fn acquire(
        &self,
        machine: &'static str,
        id: &str,
        terms: LeaseTerms<'_>,
    ) -> Result<Acquired, BackendError> {
        self.deadline(async {
            let (client, statement) = self.prepared(ACQUIRE).await?;
            let parameters: [&(dyn ToSql + Sync); 4] = [&machine, &id, &terms.owner, &terms.millis];
            if let Some(granted) = client.query_opt(&statement, &parameters).await? {
                return Ok(Acquired::Granted(granted.get(0)));
            }
            let held = client
                .query_opt(
                    "SELECT lease_owner, lease_until FROM statewright_machines
                      WHERE machine = $1 AND id = $2",
                    &[&machine, &id],
                )
                .await?;
            Ok(match held {
                None => Acquired::Missing,
                Some(held) => Acquired::Held {
                    owner: held.get::<_, Option<String>>(0).unwrap_or_default(),
                    until: held.get::<_, Option<i64>>(1).unwrap_or_default(),
                },
            })
        })
        .await
    }

    async fn renew(
        &self,
        machine: &'static str,
        terms: LeaseTerms<'_>,
    ) -> Result<Vec<(String, i64)>, BackendError> {
        self.deadline(async {
            let (client, statement) = self.prepared(RENEW).await?;
            let parameters: [&(dyn ToSql + Sync); 3] = [&machine, &terms.owner, &terms.millis];
            let rows = client.query(&statement, &parameters).await?;
            Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
        })
        .await
    }

    async fn release(
        &self,
        machine: &'static str,
        id: &str,
        owner: &str,
        epoch: i64,
    ) -> Result<(), BackendError> {
        self.deadline(async {
            let (client, statement) = self.prepared(RELEASE).await?;
            let parameters: [&(dyn ToSql + Sync); 4] = [&machine, &id, &owner, &epoch];
            client.execute(&statement, &parameters).await?;
            Ok(())
        })
        .await
    }

    async fn claim_due(
        &self,
        machine: &'static str,
        terms: LeaseTerms<'_>,
        due: i64,
        limit: usize,
    ) -> Result<Vec<Row>, BackendError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.deadline(async {
            let (client, statement) = self.prepared(CLAIM_DUE).await?;
            let parameters: [&(dyn ToSql + Sync); 5] =
                [&machine, &terms.owner, &terms.millis, &due, &limit];
            let rows = client.query(&statement, &parameters).await?;
            Ok(rows.iter().map(machine_row).collect())
        })
        .await
    }

    async fn wait_for_changes(&self, machine: &'static str, position: u64) {
        self.ensure_listener();
        let notified = self.0.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // A commit between the caller's read and the line above woke no
        // one; a change held back is read again soon, since the end of the
        // transaction holding it back sends no notification.
        let newest = self.deadline(async {
            let (client, statement) = self.prepared(NEWEST).await?;
            let found = client
                .query_one(&statement, &[&machine, &row::to_i64(position)])
                .await?;
            Ok((
                found.get::<_, Option<i64>>("newest"),
                found.get::<_, i64>("horizon"),
            ))
        });
        match newest.await {
            Ok((Some(newest), horizon)) if newest < horizon => {}
            Ok((Some(_), _)) => tokio::time::sleep(HELD_BACK_POLL).await,
            _ => {
                let _ = tokio::time::timeout(POLL, notified).await;
            }
        }
    }
}
