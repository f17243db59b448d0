//! [`PostgresStore`]: machines that several processes or hosts share.

use core::fmt;
use core::marker::PhantomData;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, NoTls};

use super::cas::{self, Decide, Step};
use super::error::{backend, check_id};
use super::row::{self, Row};
use super::{Change, KindOf, Store, StoreError, StoreResult, Stored};
use crate::{Fire, StateMachine};

const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS statewright_schema (version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS statewright_machines (
    machine     TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (machine, id)
);
CREATE INDEX IF NOT EXISTS statewright_machines_by_kind
    ON statewright_machines (machine, kind, id);
CREATE TABLE IF NOT EXISTS statewright_outbox (
    position    BIGSERIAL PRIMARY KEY,
    machine     TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    from_kind   TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    fingerprint BIGINT NOT NULL,
    at          BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS statewright_outbox_by_machine
    ON statewright_outbox (machine, position);
";

/// Advisory lock keys: one serializes schema creation across processes,
/// the other the outbox's tail (see [`PostgresStore`]).
const SCHEMA_LOCK: i64 = 0x7374_7769_7363_6801;
const OUTBOX_LOCK: i64 = 0x7374_7769_6f62_7801;
/// The channel every commit notifies.
const CHANNEL: &str = "statewright_changes";
/// How long a `Changes` stream waits without a notification before it
/// looks at the outbox anyway.
const POLL: Duration = Duration::from_secs(1);
/// The builder's defaults, as DESIGN.md fixes them.
const POOL_SIZE: usize = 16;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(30);
/// TCP keepalive: the first probe after this much silence.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);

/// Machines of type `M` in PostgreSQL, shared by any number of processes
/// and hosts.
///
/// Compare-and-set reads the row `FOR UPDATE` inside the transaction: the
/// row is locked until commit, so concurrent writers of one machine queue
/// instead of failing, and the one that finds another version gets
/// [`StoreError::Stale`] with the exact versions (a conditional `UPDATE ..
/// WHERE version = $n` alone would say only that it missed, and the
/// legality check needs the current state anyway).
///
/// Outbox positions come from a sequence, which hands out numbers in
/// insertion order, not commit order; a reader of "everything after
/// position p" could then miss a change that commits late with a lower
/// number. So each writer takes a transaction-level advisory lock right
/// before it inserts its outbox row: the tail of the outbox is written one
/// commit at a time, and positions rise in commit order.
///
/// `subscribe`/`watch` wake on `LISTEN`/`NOTIFY` (the `NOTIFY` is sent in
/// the writing transaction, so only on commit) and read the outbox; after a
/// dropped connection the listener reconnects and the streams read what
/// they missed from the outbox, so a watcher misses nothing. Every
/// statement is parameterised.
pub struct PostgresStore<M> {
    inner: Arc<Inner>,
    machine: PhantomData<fn() -> M>,
}

struct Inner {
    pool: Pool,
    config: tokio_postgres::Config,
    /// The deadline of every call, pool wait included.
    timeout: Duration,
    /// Woken by every notification, and after each (re)connection.
    changed: Notify,
    listener: Mutex<Option<AbortHandle>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(listener) = self
            .listener
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            listener.abort();
        }
    }
}

impl<M> Clone for PostgresStore<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            machine: PhantomData,
        }
    }
}

impl<M> fmt::Debug for PostgresStore<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("hosts", &self.inner.config.get_hosts())
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
    /// reached the server): read the machine with [`Store::get`] and
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
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                config,
                timeout: self.timeout,
                changed: Notify::new(),
                listener: Mutex::new(None),
            }),
            machine: PhantomData,
        };
        store.deadline(store.create_schema()).await?;
        Ok(store)
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
    /// # include!("../../doc/door.rs");
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

    /// Runs `call` within the store's deadline; past it, the call fails
    /// with [`StoreError::Backend`] and its connection is dropped.
    async fn deadline<T>(
        &self,
        call: impl core::future::Future<Output = StoreResult<T, M>>,
    ) -> StoreResult<T, M> {
        tokio::time::timeout(self.inner.timeout, call)
            .await
            .unwrap_or_else(|_| Err(backend(TimedOut(self.inner.timeout))))
    }

    /// Creates the schema if it is missing. When it exists, no DDL runs:
    /// `CREATE INDEX IF NOT EXISTS` takes a share lock on its table even
    /// when the index is there, and that lock deadlocks with a writer that
    /// holds the outbox and wants the machines table.
    async fn create_schema(&self) -> StoreResult<(), M> {
        let mut client = self.inner.pool.get().await.map_err(backend)?;
        if let Some(version) = schema_version(&client).await? {
            return check_schema_version(version);
        }
        let transaction = client.transaction().await.map_err(backend)?;
        transaction
            .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await
            .map_err(backend)?;
        // Another process may have created it while this one waited.
        if let Some(version) = schema_version(&transaction).await? {
            return check_schema_version(version);
        }
        transaction.batch_execute(SCHEMA).await.map_err(backend)?;
        transaction
            .execute(
                "INSERT INTO statewright_schema (version) VALUES ($1)",
                &[&SCHEMA_VERSION],
            )
            .await
            .map_err(backend)?;
        transaction.commit().await.map_err(backend)
    }

    /// The compare-and-set every change goes through (see the type's docs).
    ///
    /// Two round trips, pipelined: `BEGIN` with the locking read, then the
    /// write with `COMMIT` (a failed write turns the `COMMIT` into a
    /// rollback, so nothing half-done is kept).
    async fn change(&self, id: &str, step: Step, decide: Decide<M>) -> StoreResult<Stored<M>, M> {
        check_id(id)?;
        self.deadline(self.change_now(id, step, decide)).await
    }

    /// [`change`](Self::change) without the deadline.
    async fn change_now(
        &self,
        id: &str,
        step: Step,
        decide: Decide<M>,
    ) -> StoreResult<Stored<M>, M> {
        let pooled = self.inner.pool.get().await.map_err(backend)?;
        let mut open = OpenTransaction(Some(pooled));
        let client = open.client();
        let read = client
            .prepare_cached(READ_FOR_UPDATE)
            .await
            .map_err(backend)?;
        let write = client.prepare_cached(WRITE).await.map_err(backend)?;
        let key: [&(dyn tokio_postgres::types::ToSql + Sync); 2] = [&M::NAME, &id];
        let (begun, found) =
            tokio::join!(client.batch_execute("BEGIN"), client.query_opt(&read, &key));
        begun.map_err(backend)?;
        let decided = found
            .map_err(backend)
            .and_then(|found| {
                found
                    .map(|found| row::decode_machine::<M>(machine_row(&found)))
                    .transpose()
            })
            .and_then(|current| {
                let current = current.ok_or_else(|| StoreError::NotFound { id: id.to_owned() })?;
                let next = decide(&current.state, current.version)?;
                cas::check(step, &current.state, &next)?;
                let version = row::next_version::<M>(id, current.version)?;
                Ok((current, next, version))
            });
        let (current, next, version) = match decided {
            Ok(decided) => decided,
            Err(error) => {
                client.batch_execute("ROLLBACK").await.map_err(backend)?;
                open.release();
                return Err(error);
            }
        };
        let encoded = row::encode(&next, id)?;
        let now = SystemTime::now();
        let (from_name, to_name) = (current.state.kind().to_string(), next.kind().to_string());
        let (version_sql, fingerprint, at) = (
            row::to_i64(version),
            row::fingerprint::<M>(),
            row::nanos(now),
        );
        let parameters: [&(dyn tokio_postgres::types::ToSql + Sync); 10] = [
            &to_name,
            &encoded,
            &version_sql,
            &fingerprint,
            &at,
            &M::NAME,
            &id,
            &OUTBOX_LOCK,
            &CHANNEL,
            &from_name,
        ];
        let (written, committed) = tokio::join!(
            client.execute(&write, &parameters),
            client.batch_execute("COMMIT")
        );
        written.map_err(backend)?;
        committed.map_err(backend)?;
        open.release();
        Ok(Stored {
            id: id.to_owned(),
            state: next,
            version,
            updated_at: now,
        })
    }

    /// Starts the listener once: it wakes the streams on every
    /// notification and after every (re)connection.
    fn ensure_listener(&self) {
        let mut listener = self
            .inner
            .listener
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if listener.is_none() {
            let inner = Arc::downgrade(&self.inner);
            let config = self.inner.config.clone();
            *listener = Some(tokio::spawn(listen(inner, config)).abort_handle());
        }
    }
}

/// The recorded schema version, or `None` if there is no schema yet.
async fn schema_version<K: 'static>(
    client: &impl deadpool_postgres::GenericClient,
) -> Result<Option<i64>, StoreError<K>> {
    let exists: Option<String> = client
        .query_one("SELECT to_regclass('statewright_schema')::text", &[])
        .await
        .map_err(backend)?
        .get(0);
    if exists.is_none() {
        return Ok(None);
    }
    let version: Option<i64> = client
        .query_one("SELECT MAX(version) FROM statewright_schema", &[])
        .await
        .map_err(backend)?
        .get(0);
    Ok(version)
}

fn check_schema_version<K: 'static>(version: i64) -> Result<(), StoreError<K>> {
    if version <= SCHEMA_VERSION {
        Ok(())
    } else {
        Err(StoreError::Backend(
            format!(
                "the database has schema version {version}; this release knows {SCHEMA_VERSION}"
            )
            .into(),
        ))
    }
}

/// Keeps a `LISTEN` connection open, reconnecting after a drop.
async fn listen(inner: Weak<Inner>, config: tokio_postgres::Config) {
    loop {
        if let Ok((client, mut connection)) = config.connect(NoTls).await {
            let weak = inner.clone();
            let driver = tokio::spawn(async move {
                while let Some(Ok(message)) =
                    std::future::poll_fn(|cx| connection.poll_message(cx)).await
                {
                    if let AsyncMessage::Notification(_) = message {
                        match weak.upgrade() {
                            Some(inner) => inner.changed.notify_waiters(),
                            None => return,
                        }
                    }
                }
            });
            if client
                .batch_execute(&format!("LISTEN {CHANNEL}"))
                .await
                .is_ok()
            {
                // Whatever committed while no one listened is in the outbox.
                match inner.upgrade() {
                    Some(inner) => inner.changed.notify_waiters(),
                    None => return,
                }
                let _ = driver.await;
            } else {
                driver.abort();
            }
        }
        if inner.strong_count() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

const READ: &str = "SELECT id, kind, state, version, fingerprint, updated_at AS at
   FROM statewright_machines WHERE machine = $1 AND id = $2";
const READ_FOR_UPDATE: &str = "SELECT id, kind, state, version, fingerprint, updated_at AS at
   FROM statewright_machines WHERE machine = $1 AND id = $2 FOR UPDATE";

/// The row, then (under the outbox lock, so positions rise in commit
/// order) the outbox row and the notification, which is delivered only if
/// the transaction commits: one statement, one round trip.
const WRITE: &str = "WITH updated AS (
     UPDATE statewright_machines
        SET kind = $1, state = $2, version = $3, fingerprint = $4, updated_at = $5
      WHERE machine = $6 AND id = $7
 ),
 locked AS (
     SELECT pg_advisory_xact_lock($8), pg_notify($9, $6)
 )
 INSERT INTO statewright_outbox (machine, id, version, from_kind, state, fingerprint, at)
 SELECT $6, $7, $3, $10, $2, $4, $5 FROM locked";

/// A pooled connection inside a transaction this code opened by hand. If
/// it is dropped before `release` (the caller's future was cancelled, say),
/// the connection is taken out of the pool and closed, so no one else ever
/// runs inside the abandoned transaction.
struct OpenTransaction(Option<deadpool_postgres::Object>);

impl OpenTransaction {
    fn client(&self) -> &deadpool_postgres::Object {
        self.0.as_ref().expect("present until released or dropped")
    }

    /// The transaction is over: the connection goes back to the pool.
    fn release(&mut self) {
        self.0 = None;
    }
}

impl Drop for OpenTransaction {
    fn drop(&mut self) {
        if let Some(connection) = self.0.take() {
            drop(deadpool_postgres::Object::take(connection));
        }
    }
}

/// One machine, read outside any transaction: a single statement is
/// atomic on its own, and `BEGIN`/`ROLLBACK` would add two round trips.
async fn read_machine<M>(
    client: &deadpool_postgres::Object,
    id: &str,
) -> StoreResult<Option<Stored<M>>, M>
where
    M: StateMachine + DeserializeOwned,
{
    let statement = client.prepare_cached(READ).await.map_err(backend)?;
    let found = client
        .query_opt(&statement, &[&M::NAME, &id])
        .await
        .map_err(backend)?;
    found
        .map(|found| row::decode_machine(machine_row(&found)))
        .transpose()
}

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
    }
}

impl<M> Store<M> for PostgresStore<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    async fn insert(&self, id: &str, state: &M) -> StoreResult<Stored<M>, M> {
        self.deadline(async {
            check_id(id)?;
            let encoded = row::encode(state, id)?;
            let now = SystemTime::now();
            let client = self.inner.pool.get().await.map_err(backend)?;
            let (kind, fingerprint, at) = (
                state.kind().to_string(),
                row::fingerprint::<M>(),
                row::nanos(now),
            );
            let inserted = client
                .execute(
                    "INSERT INTO statewright_machines (machine, id, kind, state, version, fingerprint, updated_at)
                     VALUES ($1, $2, $3, $4, 0, $5, $6)",
                    &[&M::NAME, &id, &kind, &encoded, &fingerprint, &at],
                )
                .await;
            match inserted {
                Ok(_) => Ok(Stored {
                    id: id.to_owned(),
                    state: state.clone(),
                    version: 0,
                    updated_at: now,
                }),
                Err(error) if error.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                    Err(StoreError::AlreadyExists { id: id.to_owned() })
                }
                Err(error) => Err(backend(error)),
            }
        })
        .await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<Stored<M>>, M> {
        self.deadline(async {
            check_id(id)?;
            let client = self.inner.pool.get().await.map_err(backend)?;
            read_machine(&client, id).await
        })
        .await
    }

    cas::compare_and_set_methods!();

    async fn list(&self, kind: KindOf<M>) -> StoreResult<Vec<Stored<M>>, M> {
        self.deadline(async {
            let client = self.inner.pool.get().await.map_err(backend)?;
            let kind = kind.to_string();
            let statement = client
                .prepare_cached(
                    "SELECT id, kind, state, version, fingerprint, updated_at AS at
                       FROM statewright_machines WHERE machine = $1 AND kind = $2 ORDER BY id",
                )
                .await
                .map_err(backend)?;
            let rows = client
                .query(&statement, &[&M::NAME, &kind])
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|found| row::decode_machine(machine_row(found)))
                .collect()
        })
        .await
    }

    async fn changes_since(&self, position: u64, limit: usize) -> StoreResult<Vec<Change<M>>, M> {
        self.deadline(async {
            let client = self.inner.pool.get().await.map_err(backend)?;
            let statement = client
                .prepare_cached(
                    "SELECT position, id, from_kind AS kind, state, version, fingerprint, at
                       FROM statewright_outbox WHERE machine = $1 AND position > $2
                      ORDER BY position LIMIT $3",
                )
                .await
                .map_err(backend)?;
            let (after, limit) = (
                row::to_i64(position),
                i64::try_from(limit).unwrap_or(i64::MAX),
            );
            let rows = client
                .query(&statement, &[&M::NAME, &after, &limit])
                .await
                .map_err(backend)?;
            rows.iter()
                .map(|found| row::decode_change(found.get("position"), machine_row(found)))
                .collect()
        })
        .await
    }

    async fn last_position(&self) -> StoreResult<u64, M> {
        self.deadline(async {
            let client = self.inner.pool.get().await.map_err(backend)?;
            let last: i64 = client
                .query_one(
                    "SELECT COALESCE(MAX(position), 0) FROM statewright_outbox WHERE machine = $1",
                    &[&M::NAME],
                )
                .await
                .map_err(backend)?
                .get(0);
            Ok(row::to_u64(last))
        })
        .await
    }

    async fn wait_for_changes(&self, position: u64) {
        self.ensure_listener();
        let notified = self.inner.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // A commit between the caller's read and the line above woke no one.
        if self.last_position().await.is_ok_and(|last| last > position) {
            return;
        }
        let _ = tokio::time::timeout(POLL, notified).await;
    }
}
