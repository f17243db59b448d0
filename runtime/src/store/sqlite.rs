//! [`SqliteStore`]: the embedded store.

use core::fmt;
use core::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::{Fire, StateMachine};
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};

use super::cas::{self, Decide, Step};
use super::error::{backend, check_id};
use super::row::{self, Row};
use super::{BackendError, Change, KindOf, Store, StoreError, StoreResult, Stored};

/// The schema this release writes; `statewright_schema` records it so a
/// later release can migrate.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS statewright_schema (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS statewright_machines (
    machine     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (machine, id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS statewright_machines_by_kind
    ON statewright_machines (machine, kind, id);
CREATE TABLE IF NOT EXISTS statewright_outbox (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    machine     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    from_kind   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS statewright_outbox_by_machine
    ON statewright_outbox (machine, position);
";

/// Connections a file store keeps open: readers run side by side (WAL),
/// writers take turns.
const FILE_POOL: usize = 4;
/// How long a writer waits for another one (here or in another process)
/// before it reports the database as busy.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a `Changes` stream looks at the outbox when no commit through
/// this store woke it (commits by other stores on the same file).
const POLL: Duration = Duration::from_millis(50);

/// Machines of type `M` in SQLite: the embedded default (SQLite is compiled
/// in; nothing to install).
///
/// A file store uses WAL mode and a pool of connections; every write is
/// one `BEGIN IMMEDIATE` transaction, so two stores on one file (two
/// processes, say) take turns instead of failing with "database is locked"
/// (a writer waits up to 10 s for the other). Each operation runs on
/// tokio's blocking pool, never on the worker. `synchronous = FULL`: a
/// committed change survives a power cut.
///
/// Several machine types may share one database; each row names its machine.
pub struct SqliteStore<M> {
    inner: Arc<Inner>,
    machine: PhantomData<fn() -> M>,
}

struct Inner {
    location: Location,
    idle: Mutex<Vec<Connection>>,
    permits: Semaphore,
    /// Woken by every commit through this store.
    committed: Notify,
}

#[derive(Debug, Clone)]
enum Location {
    File(PathBuf),
    Memory,
}

impl<M> Clone for SqliteStore<M> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            machine: PhantomData,
        }
    }
}

impl<M> fmt::Debug for SqliteStore<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.inner.location)
            .finish_non_exhaustive()
    }
}

impl<M> SqliteStore<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    /// Opens (or creates) the database file at `path` and its schema.
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if the file cannot be opened or its schema
    /// is of a newer release.
    pub async fn open(path: impl AsRef<Path>) -> StoreResult<Self, M> {
        Self::start(Location::File(path.as_ref().to_path_buf()), FILE_POOL).await
    }

    /// A new in-memory database, private to this store and its clones (one
    /// connection, which every clone shares).
    ///
    /// # Errors
    ///
    /// [`StoreError::Backend`] if SQLite cannot open it.
    pub async fn memory() -> StoreResult<Self, M> {
        Self::start(Location::Memory, 1).await
    }

    async fn start(location: Location, pool: usize) -> StoreResult<Self, M> {
        let inner = Arc::new(Inner {
            location,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(pool),
            committed: Notify::new(),
        });
        let store = Self {
            inner,
            machine: PhantomData,
        };
        store.run(|_| Ok(())).await?;
        Ok(store)
    }

    /// Runs `work` on a pooled connection, on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> StoreResult<T, M> + Send + 'static,
    ) -> StoreResult<T, M> {
        let permit = self.inner.permits.acquire().await.map_err(backend)?;
        let inner = Arc::clone(&self.inner);
        let result = tokio::task::spawn_blocking(move || {
            let mut connection = match inner.take() {
                Some(connection) => connection,
                None => inner.connect().map_err(StoreError::Backend)?,
            };
            let result = work(&mut connection);
            inner.give_back(connection);
            result
        })
        .await
        .map_err(backend)?;
        drop(permit);
        result
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction and commits it if it
    /// succeeds; wakes local subscribers after a commit.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> StoreResult<T, M> + Send + 'static,
    ) -> StoreResult<T, M> {
        let result = self
            .run(|connection| {
                let transaction = connection
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(backend)?;
                let value = work(&transaction)?;
                transaction.commit().map_err(backend)?;
                Ok(value)
            })
            .await?;
        self.inner.committed.notify_waiters();
        Ok(result)
    }

    /// The compare-and-set every transition goes through: reads the row,
    /// lets `decide` pick the next state, checks the edge, writes the row
    /// and the outbox entry.
    async fn change(&self, id: &str, step: Step, decide: Decide<M>) -> StoreResult<Stored<M>, M> {
        check_id(id)?;
        let id = id.to_owned();
        self.write(move |transaction| {
            let current = read_machine::<M>(transaction, &id)?.ok_or_else(|| StoreError::NotFound {
                id: id.clone(),
            })?;
            let next = decide(&current.state, current.version)?;
            cas::check(step, &current.state, &next)?;
            let (from, to) = (current.state.kind(), next.kind());
            let version = row::next_version::<M>(&id, current.version)?;
            let encoded = row::encode(&next, &id)?;
            let now = std::time::SystemTime::now();
            let updated = transaction
                .execute(
                    "UPDATE statewright_machines
                        SET kind = ?1, state = ?2, version = ?3, fingerprint = ?4, updated_at = ?5
                      WHERE machine = ?6 AND id = ?7 AND version = ?8",
                    params![
                        to.to_string(),
                        encoded,
                        row::to_i64(version),
                        row::fingerprint::<M>(),
                        row::nanos(now),
                        M::NAME,
                        id,
                        row::to_i64(current.version),
                    ],
                )
                .map_err(backend)?;
            if updated != 1 {
                return Err(StoreError::Stale {
                    id,
                    expected: current.version,
                    actual: version,
                });
            }
            transaction
                .execute(
                    "INSERT INTO statewright_outbox (machine, id, version, from_kind, state, fingerprint, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        M::NAME,
                        id,
                        row::to_i64(version),
                        from.to_string(),
                        encoded,
                        row::fingerprint::<M>(),
                        row::nanos(now),
                    ],
                )
                .map_err(backend)?;
            Ok(Stored {
                id,
                state: next,
                version,
                updated_at: now,
            })
        })
        .await
    }
}

impl Inner {
    fn take(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn give_back(&self, connection: Connection) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(connection);
    }

    fn connect(&self) -> Result<Connection, BackendError> {
        let connection = match &self.location {
            Location::File(path) => Connection::open(path)?,
            Location::Memory => Connection::open_in_memory()?,
        };
        connection.busy_timeout(BUSY_TIMEOUT)?;
        if matches!(self.location, Location::File(_)) {
            // SQLite does not call the busy handler for this switch, so
            // connections opening a fresh file together retry it here.
            retry_while_busy(|| connection.pragma_update(None, "journal_mode", "WAL"))?;
        }
        connection.pragma_update(None, "synchronous", "FULL")?;
        create_schema(&connection)?;
        Ok(connection)
    }
}

/// Runs `attempt` until it is not refused as busy, for up to
/// [`BUSY_TIMEOUT`], like every other write.
fn retry_while_busy<T>(mut attempt: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    loop {
        match attempt() {
            Err(rusqlite::Error::SqliteFailure(failure, _))
                if failure.code == rusqlite::ErrorCode::DatabaseBusy
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            result => return result,
        }
    }
}

/// A database written by a newer release.
#[derive(Debug)]
struct NewerSchema(i64);

impl fmt::Display for NewerSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the database has schema version {}; this release knows {SCHEMA_VERSION}",
            self.0
        )
    }
}

impl std::error::Error for NewerSchema {}

/// Creates the schema if it is missing (idempotent) and checks its version.
fn create_schema(connection: &Connection) -> Result<(), BackendError> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let created = (|| -> Result<(), BackendError> {
        connection.execute_batch(SCHEMA)?;
        let version: Option<i64> =
            connection.query_row("SELECT MAX(version) FROM statewright_schema", [], |row| {
                row.get(0)
            })?;
        match version {
            None => {
                connection.execute(
                    "INSERT INTO statewright_schema (version) VALUES (?1)",
                    [SCHEMA_VERSION],
                )?;
                Ok(())
            }
            Some(version) if version <= SCHEMA_VERSION => Ok(()),
            Some(version) => Err(Box::new(NewerSchema(version))),
        }
    })();
    match created {
        Ok(()) => Ok(connection.execute_batch("COMMIT")?),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}

fn read_machine<M>(connection: &Connection, id: &str) -> StoreResult<Option<Stored<M>>, M>
where
    M: StateMachine + DeserializeOwned,
{
    let row = connection
        .query_row(
            "SELECT id, kind, state, version, fingerprint, updated_at AS at
               FROM statewright_machines WHERE machine = ?1 AND id = ?2",
            params![M::NAME, id],
            machine_row,
        )
        .optional()
        .map_err(backend)?;
    row.map(row::decode_machine).transpose()
}

/// A [`Row`] from the columns named `id, kind, state, version,
/// fingerprint, at`: a machine row, or an outbox row (whose `kind` is the
/// one it left), each query naming its columns so.
fn machine_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok(Row {
        id: row.get("id")?,
        kind: row.get("kind")?,
        state: row.get("state")?,
        version: row.get("version")?,
        fingerprint: row.get("fingerprint")?,
        at: row.get("at")?,
    })
}

impl<M> Store<M> for SqliteStore<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    async fn insert(&self, id: &str, state: &M) -> StoreResult<Stored<M>, M> {
        check_id(id)?;
        let id = id.to_owned();
        let encoded = row::encode(state, &id)?;
        let (kind, state) = (state.kind().to_string(), state.clone());
        self.write(move |transaction| {
            let now = std::time::SystemTime::now();
            let inserted = transaction.execute(
                "INSERT INTO statewright_machines (machine, id, kind, state, version, fingerprint, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6)",
                params![M::NAME, id, kind, encoded, row::fingerprint::<M>(), row::nanos(now)],
            );
            match inserted {
                Ok(_) => Ok(Stored {
                    id,
                    state,
                    version: 0,
                    updated_at: now,
                }),
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.code == ErrorCode::ConstraintViolation =>
                {
                    Err(StoreError::AlreadyExists { id })
                }
                Err(error) => Err(backend(error)),
            }
        })
        .await
    }

    async fn get(&self, id: &str) -> StoreResult<Option<Stored<M>>, M> {
        check_id(id)?;
        let id = id.to_owned();
        self.run(move |connection| read_machine(connection, &id))
            .await
    }

    cas::compare_and_set_methods!();

    async fn list(&self, kind: KindOf<M>) -> StoreResult<Vec<Stored<M>>, M> {
        let kind = kind.to_string();
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT id, kind, state, version, fingerprint, updated_at AS at
                       FROM statewright_machines WHERE machine = ?1 AND kind = ?2 ORDER BY id",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![M::NAME, kind], machine_row)
                .map_err(backend)?;
            rows.map(|row| row::decode_machine(row.map_err(backend)?))
                .collect()
        })
        .await
    }

    async fn changes_since(&self, position: u64, limit: usize) -> StoreResult<Vec<Change<M>>, M> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.run(move |connection| {
            let mut statement = connection
                .prepare_cached(
                    "SELECT position, id, from_kind AS kind, state, version, fingerprint, at
                       FROM statewright_outbox WHERE machine = ?1 AND position > ?2
                      ORDER BY position LIMIT ?3",
                )
                .map_err(backend)?;
            let rows = statement
                .query_map(params![M::NAME, row::to_i64(position), limit], |row| {
                    Ok((row.get::<_, i64>("position")?, machine_row(row)?))
                })
                .map_err(backend)?;
            rows.map(|row| {
                let (position, row) = row.map_err(backend)?;
                row::decode_change(position, row)
            })
            .collect()
        })
        .await
    }

    async fn last_position(&self) -> StoreResult<u64, M> {
        self.run(|connection| {
            let last: i64 = connection
                .query_row(
                    "SELECT COALESCE(MAX(position), 0) FROM statewright_outbox WHERE machine = ?1",
                    [M::NAME],
                    |row| row.get(0),
                )
                .map_err(backend)?;
            Ok(row::to_u64(last))
        })
        .await
    }

    async fn wait_for_changes(&self, _position: u64) {
        let _ = tokio::time::timeout(POLL, self.inner.committed.notified()).await;
    }
}
