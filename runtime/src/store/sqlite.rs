//! [`SqliteStore`]: the embedded store.

use core::fmt;
use core::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::StateMachine;
use rusqlite::functions::FunctionFlags;
use rusqlite::{
    params, Connection, ErrorCode, OptionalExtension, Transaction, TransactionBehavior,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::{Notify, Semaphore};

use super::backend::{
    Acquired, Backend, Cas, CasOutcome, LeaseTerms, NewRow, OutboxRow, Rewrite, TimerWrite,
};
use super::error::NewerSchema;
use super::row::{self, Row};
use super::sealed::Backed;
use super::{BackendError, StoreError, StoreResult};

/// The schema this release writes; `statewright_schema` records it, and
/// an earlier one is upgraded on open.
const SCHEMA_VERSION: i64 = 3;

/// The schema of a new database. `left_kind` is the kind a machine left in
/// its last change: the compare-and-set keeps it so that the outbox row
/// can name it without reading the row first. `checksum` is
/// [`checksum`] of the id, kind and state, written with them: a row changed
/// by other means no longer matches it, and is refused instead of read or
/// overwritten.
const SCHEMA: &str = "
CREATE TABLE statewright_machines (
    machine     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    fingerprint INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    left_kind   TEXT,
    checksum    INTEGER NOT NULL,
    timer_at    INTEGER,
    timer_event TEXT,
    PRIMARY KEY (machine, id)
) WITHOUT ROWID;
CREATE INDEX statewright_machines_by_kind
    ON statewright_machines (machine, kind, id);
CREATE INDEX statewright_machines_by_timer
    ON statewright_machines (machine, timer_at) WHERE timer_at IS NOT NULL;
CREATE TABLE statewright_outbox (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    machine     TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    from_kind   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX statewright_outbox_by_machine
    ON statewright_outbox (machine, position);
CREATE INDEX statewright_outbox_by_id
    ON statewright_outbox (machine, id, position);
";

/// Schema 2 to 3: a fleet's leases. `lease_until` is in nanoseconds since
/// the epoch on this host's clock (`statewright_now()`), which every
/// process that opens the file shares; `lease_epoch` rises with each
/// activation, and fences its writes.
const UPGRADE_FROM_2: &str = "
ALTER TABLE statewright_machines ADD COLUMN lease_owner TEXT;
ALTER TABLE statewright_machines ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0;
ALTER TABLE statewright_machines ADD COLUMN lease_until INTEGER;
CREATE INDEX statewright_machines_by_owner
    ON statewright_machines (machine, lease_owner) WHERE lease_owner IS NOT NULL;
";

/// Schema 1 (releases before the single-statement compare-and-set) to 2.
const UPGRADE_FROM_1: &str = "
ALTER TABLE statewright_machines ADD COLUMN left_kind TEXT;
ALTER TABLE statewright_machines ADD COLUMN checksum INTEGER NOT NULL DEFAULT 0;
UPDATE statewright_machines SET checksum = statewright_checksum(id, kind, state);
ALTER TABLE statewright_machines ADD COLUMN timer_at INTEGER;
ALTER TABLE statewright_machines ADD COLUMN timer_event TEXT;
CREATE INDEX statewright_machines_by_timer
    ON statewright_machines (machine, timer_at) WHERE timer_at IS NOT NULL;
CREATE INDEX statewright_outbox_by_id
    ON statewright_outbox (machine, id, position);
";

/// Connections a file store keeps open: readers run side by side (WAL),
/// writers take turns. The pool is a semaphore and a stack of idle
/// connections, not deadpool-sqlite: that would add three crates and a
/// rusqlite version to track for what is forty lines here, and an
/// in-memory store must share one connection, which it cannot express.
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
    backend: SqliteBackend,
    machine: PhantomData<fn() -> M>,
}

/// The pool of connections behind a [`SqliteStore`] and its clones.
#[derive(Debug, Clone)]
pub struct SqliteBackend(Arc<Pool>);

#[derive(Debug)]
struct Pool {
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
            backend: self.backend.clone(),
            machine: PhantomData,
        }
    }
}

impl<M> fmt::Debug for SqliteStore<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.backend.0.location)
            .finish_non_exhaustive()
    }
}

impl<M> SqliteStore<M>
where
    M: StateMachine + Serialize + DeserializeOwned + Clone + Sync,
{
    /// Opens (or creates) the database file at `path` and its schema; a
    /// database of an earlier release is upgraded in one transaction, its
    /// rows kept.
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
        let backend = SqliteBackend(Arc::new(Pool {
            location,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(pool),
            committed: Notify::new(),
        }));
        backend.run(|_| Ok(())).await.map_err(StoreError::Backend)?;
        Ok(Self {
            backend,
            machine: PhantomData,
        })
    }
}

impl<M> Backed for SqliteStore<M> {
    type Machine = M;
    type Backend = SqliteBackend;

    fn backend(&self) -> &SqliteBackend {
        &self.backend
    }
}

impl SqliteBackend {
    /// Runs `work` on a pooled connection, on the blocking pool.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        // The permit goes back with the connection, on the blocking pool:
        // a caller that drops this future while the work runs must not let
        // another caller open a connection beside it (for an in-memory
        // store, that would be a new, empty database).
        self.0.permits.acquire().await?.forget();
        let permit = Permit(Arc::clone(&self.0));
        let result = tokio::task::spawn_blocking(move || {
            let inner = &permit.0;
            let mut connection = match inner.take() {
                Some(connection) => connection,
                None => inner.connect()?,
            };
            let result = work(&mut connection);
            inner.give_back(connection);
            result
        })
        .await?;
        result
    }

    /// Runs `work` in one `BEGIN IMMEDIATE` transaction and commits it if it
    /// succeeds; wakes local subscribers after a commit.
    async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> Result<T, BackendError> + Send + 'static,
    ) -> Result<T, BackendError> {
        let result = self
            .run(|connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let value = work(&transaction)?;
                transaction.commit()?;
                Ok(value)
            })
            .await?;
        self.0.committed.notify_waiters();
        Ok(result)
    }
}

/// A permit of the pool, given back when dropped (after the connection).
struct Permit(Arc<Pool>);

impl Drop for Permit {
    fn drop(&mut self) {
        self.0.permits.add_permits(1);
    }
}

impl Pool {
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
        connection.create_scalar_function(
            "statewright_checksum",
            3,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |context| {
                let text = |index| context.get_raw(index).as_str().unwrap_or_default();
                Ok(checksum(text(0), text(1), text(2)))
            },
        )?;
        // Leases are on this host's clock: every process that opens the
        // file runs here.
        connection.create_scalar_function(
            "statewright_now",
            0,
            FunctionFlags::SQLITE_UTF8,
            |_| Ok(row::nanos(std::time::SystemTime::now())),
        )?;
        create_schema(&connection)?;
        Ok(connection)
    }
}

/// A CRC-32 of a row's id, kind and state (SQL's `statewright_checksum`).
fn checksum(id: &str, kind: &str, state: &str) -> i64 {
    let mut hasher = crc32fast::Hasher::new();
    for part in [id, "\u{1f}", kind, "\u{1f}", state] {
        hasher.update(part.as_bytes());
    }
    i64::from(hasher.finalize())
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

/// Creates the schema if it is missing, or upgrades an earlier one, in
/// one transaction; refuses a newer one.
fn create_schema(connection: &Connection) -> Result<(), BackendError> {
    connection.execute_batch("BEGIN IMMEDIATE")?;
    let created = (|| -> Result<(), BackendError> {
        connection.execute_batch(
            "CREATE TABLE IF NOT EXISTS statewright_schema (version INTEGER NOT NULL)",
        )?;
        let version: Option<i64> =
            connection.query_row("SELECT MAX(version) FROM statewright_schema", [], |row| {
                row.get(0)
            })?;
        // A new database is schema 2's tables, upgraded like any other.
        match version {
            None => connection.execute_batch(&[SCHEMA, UPGRADE_FROM_2].concat())?,
            Some(SCHEMA_VERSION) => return Ok(()),
            Some(1) => connection.execute_batch(&[UPGRADE_FROM_1, UPGRADE_FROM_2].concat())?,
            Some(2) => connection.execute_batch(UPGRADE_FROM_2)?,
            Some(version) => return Err(Box::new(NewerSchema::new(version, SCHEMA_VERSION))),
        }
        connection.execute("DELETE FROM statewright_schema", [])?;
        connection.execute(
            "INSERT INTO statewright_schema (version) VALUES (?1)",
            [SCHEMA_VERSION],
        )?;
        Ok(())
    })();
    match created {
        Ok(()) => Ok(connection.execute_batch("COMMIT")?),
        Err(error) => {
            let _ = connection.execute_batch("ROLLBACK");
            Err(error)
        }
    }
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
        intact: row.get("intact")?,
        timer_at: row.get("timer_at")?,
        timer_event: row.get("timer_event")?,
        lease_epoch: row.get("lease_epoch")?,
    })
}

fn read_row(connection: &Connection, machine: &str, id: &str) -> rusqlite::Result<Option<Row>> {
    connection
        .prepare_cached(
            "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
               FROM statewright_machines WHERE machine = ?1 AND id = ?2",
        )?
        .query_row(params![machine, id], machine_row)
        .optional()
}

/// The row moves if it matches (see [`Cas`]); the old kind is kept in
/// `left_kind` so the outbox row can name it.
const COMPARE_AND_SET: &str = "UPDATE statewright_machines
    SET left_kind = kind, kind = ?3, state = ?4, version = version + 1, updated_at = ?6,
        checksum = statewright_checksum(id, ?3, ?4),
        timer_at = CASE WHEN ?9 THEN timer_at ELSE ?10 END,
        timer_event = CASE WHEN ?9 THEN timer_event ELSE ?11 END
  WHERE machine = ?1 AND id = ?2 AND fingerprint = ?5
    AND checksum = statewright_checksum(id, kind, state)
    AND version = COALESCE(?7, version) AND version < 9223372036854775807
    AND kind IN (SELECT value FROM json_each(?8))
    AND lease_epoch = COALESCE(?12, lease_epoch)
  RETURNING version, left_kind, timer_at, timer_event";

/// A migration's page: rows under one fingerprint, by id.
const STAMPED: &str = "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
   FROM statewright_machines WHERE machine = ?1 AND fingerprint = ?2 AND id > ?3
  ORDER BY id LIMIT ?4";

/// A migrated row: new kind, state, fingerprint and checksum; its version,
/// timer and time kept.
const REWRITE: &str = "UPDATE statewright_machines
    SET kind = ?5, state = ?6, fingerprint = ?7, checksum = statewright_checksum(id, ?5, ?6)
  WHERE machine = ?1 AND id = ?2 AND fingerprint = ?3 AND version = ?4";

/// The timer alone, on a row still at the version the writer knows.
const SET_TIMER: &str = "UPDATE statewright_machines
    SET timer_at = CASE WHEN ?5 THEN timer_at ELSE ?6 END,
        timer_event = CASE WHEN ?5 THEN timer_event ELSE ?7 END
  WHERE machine = ?1 AND id = ?2 AND fingerprint = ?3 AND version = ?4
    AND checksum = statewright_checksum(id, kind, state)
    AND lease_epoch = COALESCE(?8, lease_epoch)";

/// The lease, if nobody else holds it: `?3` owner, `?4` its length in
/// milliseconds.
const ACQUIRE: &str = "UPDATE statewright_machines
    SET lease_owner = ?3, lease_epoch = lease_epoch + 1,
        lease_until = statewright_now() + ?4 * 1000000
  WHERE machine = ?1 AND id = ?2
    AND (lease_owner IS NULL OR lease_owner = ?3 OR lease_until < statewright_now())
  RETURNING lease_epoch";

/// Every lease an owner still holds, extended.
const RENEW: &str = "UPDATE statewright_machines
    SET lease_until = statewright_now() + ?3 * 1000000
  WHERE machine = ?1 AND lease_owner = ?2
  RETURNING id, lease_epoch";

const RELEASE: &str = "UPDATE statewright_machines
    SET lease_owner = NULL, lease_until = NULL
  WHERE machine = ?1 AND id = ?2 AND lease_owner = ?3 AND lease_epoch = ?4";

/// Machines whose timer is due and whose lease is free or expired (and
/// not this owner's: its own are running here), taken earliest first.
const CLAIM_DUE: &str = "UPDATE statewright_machines
    SET lease_owner = ?2, lease_epoch = lease_epoch + 1,
        lease_until = statewright_now() + ?3 * 1000000
  WHERE machine = ?1 AND id IN (
      SELECT id FROM statewright_machines
       WHERE machine = ?1 AND timer_at <= ?4
         AND (lease_owner IS NULL OR (lease_owner <> ?2 AND lease_until < statewright_now()))
       ORDER BY timer_at LIMIT ?5)
  RETURNING id, kind, state, version, fingerprint, updated_at AS at,
            checksum = statewright_checksum(id, kind, state) AS intact,
            timer_at, timer_event, lease_epoch";

impl Backend for SqliteBackend {
    async fn insert(&self, row: NewRow<'_>) -> Result<bool, BackendError> {
        let (machine, id, kind, state) = (
            row.machine,
            row.id.to_owned(),
            row.kind.to_owned(),
            row.state.to_owned(),
        );
        let (fingerprint, at) = (row.fingerprint, row.at);
        let owner = row.lease.map(|terms| terms.owner.to_owned());
        let millis = row.lease.map(|terms| terms.millis);
        self.write(move |transaction| {
            let inserted = transaction.execute(
                "INSERT INTO statewright_machines
                     (machine, id, kind, state, version, fingerprint, updated_at, checksum,
                      lease_owner, lease_epoch, lease_until)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, statewright_checksum(?2, ?3, ?4),
                         ?7, CASE WHEN ?7 IS NULL THEN 0 ELSE 1 END,
                         statewright_now() + ?8 * 1000000)",
                params![machine, id, kind, state, fingerprint, at, owner, millis],
            );
            match inserted {
                Ok(_) => Ok(true),
                Err(rusqlite::Error::SqliteFailure(error, _))
                    if error.code == ErrorCode::ConstraintViolation =>
                {
                    Ok(false)
                }
                Err(error) => Err(error.into()),
            }
        })
        .await
    }

    async fn get(&self, machine: &'static str, id: &str) -> Result<Option<Row>, BackendError> {
        let id = id.to_owned();
        self.run(move |connection| Ok(read_row(connection, machine, &id)?))
            .await
    }

    async fn compare_and_set(&self, cas: Cas<'_>) -> Result<CasOutcome, BackendError> {
        let from_kinds = serde_json::to_string(cas.from_kinds)?;
        let (machine, id, kind, state) = (
            cas.row.machine,
            cas.row.id.to_owned(),
            cas.row.kind.to_owned(),
            cas.row.state.to_owned(),
        );
        let (fingerprint, at, expected) = (cas.row.fingerprint, cas.row.at, cas.expected_version);
        let epoch = cas.epoch;
        let (keep_timer, timer_at, timer_event) = cas.timer.parameters();
        let timer_event = timer_event.map(str::to_owned);
        self.write(move |transaction| {
            let moved = transaction
                .prepare_cached(COMPARE_AND_SET)?
                .query_row(
                    params![
                        machine,
                        id,
                        kind,
                        state,
                        fingerprint,
                        at,
                        expected,
                        from_kinds,
                        keep_timer,
                        timer_at,
                        timer_event,
                        epoch
                    ],
                    |row| {
                        let version: i64 = row.get("version")?;
                        let committed = CasOutcome::Committed {
                            version,
                            timer_at: row.get("timer_at")?,
                            timer_event: row.get("timer_event")?,
                        };
                        Ok((version, row.get::<_, String>("left_kind")?, committed))
                    },
                )
                .optional()?;
            let Some((version, from_kind, committed)) = moved else {
                return Ok(CasOutcome::Missed(read_row(transaction, machine, &id)?));
            };
            transaction
                .prepare_cached(
                    "INSERT INTO statewright_outbox (machine, id, version, from_kind, state, fingerprint, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![
                    machine,
                    id,
                    version,
                    from_kind,
                    state,
                    fingerprint,
                    at
                ])?;
            Ok(committed)
        })
        .await
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
        let (id, event) = (id.to_owned(), event.map(str::to_owned));
        self.write(move |transaction| {
            let written = transaction.prepare_cached(SET_TIMER)?.execute(params![
                machine,
                id,
                fingerprint,
                version,
                keep,
                at,
                event,
                epoch
            ])?;
            if written == 1 {
                Ok(None)
            } else {
                Ok(Some(read_row(transaction, machine, &id)?))
            }
        })
        .await
    }

    async fn stamped(
        &self,
        machine: &'static str,
        fingerprint: i64,
        after: &str,
        limit: usize,
    ) -> Result<Vec<Row>, BackendError> {
        let (after, limit) = (after.to_owned(), i64::try_from(limit).unwrap_or(i64::MAX));
        self.run(move |connection| {
            let mut statement = connection.prepare_cached(STAMPED)?;
            let rows =
                statement.query_map(params![machine, fingerprint, after, limit], machine_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        self.write(move |transaction| {
            let mut statement = transaction.prepare_cached(REWRITE)?;
            let mut skipped = Vec::new();
            for row in rows {
                let written = statement.execute(params![
                    machine,
                    row.id,
                    from,
                    row.version,
                    row.kind,
                    row.state,
                    to
                ])?;
                if written == 0 {
                    skipped.push(row.id);
                }
            }
            Ok(skipped)
        })
        .await
    }

    async fn list(&self, machine: &'static str, kind: &str) -> Result<Vec<Row>, BackendError> {
        let kind = kind.to_owned();
        self.run(move |connection| {
            let mut statement = connection.prepare_cached(
                "SELECT id, kind, state, version, fingerprint, updated_at AS at,
                    checksum = statewright_checksum(id, kind, state) AS intact,
                    timer_at, timer_event, lease_epoch
                       FROM statewright_machines WHERE machine = ?1 AND kind = ?2 ORDER BY id",
            )?;
            let rows = statement.query_map(params![machine, kind], machine_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        let (after, limit) = (
            row::to_i64(position),
            i64::try_from(limit).unwrap_or(i64::MAX),
        );
        let only = only.map(str::to_owned);
        self.run(move |connection| {
            // Two statements, so that each has its index.
            let mut statement = connection.prepare_cached(if only.is_some() {
                "SELECT position, id, from_kind AS kind, state, version, fingerprint, at,
                    TRUE AS intact, NULL AS timer_at, NULL AS timer_event, 0 AS lease_epoch
                       FROM statewright_outbox WHERE machine = ?1 AND id = ?4 AND position > ?2
                      ORDER BY position LIMIT ?3"
            } else {
                "SELECT position, id, from_kind AS kind, state, version, fingerprint, at,
                    TRUE AS intact, NULL AS timer_at, NULL AS timer_event, 0 AS lease_epoch
                       FROM statewright_outbox WHERE machine = ?1 AND position > ?2 AND ?4 IS NULL
                      ORDER BY position LIMIT ?3"
            })?;
            let rows = statement.query_map(params![machine, after, limit, only], |row| {
                Ok(OutboxRow {
                    position: row.get("position")?,
                    row: machine_row(row)?,
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn last_position(&self, machine: &'static str) -> Result<u64, BackendError> {
        self.run(move |connection| {
            let last: i64 = connection.query_row(
                "SELECT COALESCE(MAX(position), 0) FROM statewright_outbox WHERE machine = ?1",
                [machine],
                |row| row.get(0),
            )?;
            Ok(row::to_u64(last))
        })
        .await
    }

    async fn acquire(
        &self,
        machine: &'static str,
        id: &str,
        terms: LeaseTerms<'_>,
    ) -> Result<Acquired, BackendError> {
        let (id, owner, millis) = (id.to_owned(), terms.owner.to_owned(), terms.millis);
        self.write(move |transaction| {
            let epoch = transaction
                .prepare_cached(ACQUIRE)?
                .query_row(params![machine, id, owner, millis], |row| row.get(0))
                .optional()?;
            if let Some(epoch) = epoch {
                return Ok(Acquired::Granted(epoch));
            }
            let held = transaction
                .prepare_cached(
                    "SELECT lease_owner, lease_until FROM statewright_machines
                      WHERE machine = ?1 AND id = ?2",
                )?
                .query_row(params![machine, id], |row| {
                    Ok((
                        row.get::<_, Option<String>>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                    ))
                })
                .optional()?;
            Ok(match held {
                None => Acquired::Missing,
                Some((owner, until)) => Acquired::Held {
                    owner: owner.unwrap_or_default(),
                    until: until.unwrap_or_default(),
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
        let (owner, millis) = (terms.owner.to_owned(), terms.millis);
        self.write(move |transaction| {
            let mut statement = transaction.prepare_cached(RENEW)?;
            let rows = statement.query_map(params![machine, owner, millis], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
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
        let (id, owner) = (id.to_owned(), owner.to_owned());
        self.write(move |transaction| {
            transaction
                .prepare_cached(RELEASE)?
                .execute(params![machine, id, owner, epoch])?;
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
        let (owner, millis) = (terms.owner.to_owned(), terms.millis);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.write(move |transaction| {
            let mut statement = transaction.prepare_cached(CLAIM_DUE)?;
            let rows =
                statement.query_map(params![machine, owner, millis, due, limit], machine_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn wait_for_changes(&self, _machine: &'static str, _position: u64) {
        let _ = tokio::time::timeout(POLL, self.0.committed.notified()).await;
    }
}
