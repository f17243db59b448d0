//! The tables a [`PostgresStore`](super::PostgresStore) keeps, created
//! or upgraded on connect.

use crate::store::error::NewerSchema;

use deadpool_postgres::Pool;

use crate::store::BackendError;

/// The schema this release writes; an earlier one is upgraded on connect.
const SCHEMA_VERSION: i64 = 3;

/// The schema of a new database. An outbox row's position is the id of the
/// transaction that wrote it (one change per transaction), so positions
/// need no lock to rise: see [`PostgresStore`](super::PostgresStore). `left_kind` is the kind a
/// machine left in its last change, kept by the compare-and-set so that the
/// outbox row can name it without reading the row first. `checksum`, an MD5
/// of the id, kind and state written with them, lets the compare-and-set
/// refuse a row changed by other means instead of overwriting it (to seal a
/// row edited by hand on purpose: `SET checksum =
/// statewright_checksum(id, kind, state)`).
const SCHEMA: &str = "
CREATE FUNCTION statewright_checksum(id TEXT, kind TEXT, state TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT md5(id || chr(31) || kind || chr(31) || state) $$;
CREATE TABLE statewright_machines (
    machine     TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    kind        TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    left_kind   TEXT,
    checksum    TEXT   NOT NULL,
    timer_at    BIGINT,
    timer_event TEXT,
    PRIMARY KEY (machine, id)
);
CREATE INDEX statewright_machines_by_kind
    ON statewright_machines (machine, kind, id);
CREATE INDEX statewright_machines_by_timer
    ON statewright_machines (machine, timer_at) WHERE timer_at IS NOT NULL;
CREATE TABLE statewright_outbox (
    position    BIGINT NOT NULL,
    machine     TEXT   NOT NULL,
    id          TEXT   NOT NULL,
    version     BIGINT NOT NULL,
    from_kind   TEXT   NOT NULL,
    state       TEXT   NOT NULL,
    fingerprint BIGINT NOT NULL,
    at          BIGINT NOT NULL,
    PRIMARY KEY (machine, position)
);
CREATE INDEX statewright_outbox_by_id
    ON statewright_outbox (machine, id, position);
";

/// Schema 2 to 3: a fleet's leases, on the database's clock
/// (`statewright_now()`, nanoseconds since the epoch), so that hosts whose
/// clocks disagree still agree on who holds a lease. `lease_epoch` rises
/// with each activation, and fences its writes.
const UPGRADE_FROM_2: &str = "
CREATE FUNCTION statewright_now() RETURNS BIGINT
    LANGUAGE sql VOLATILE PARALLEL SAFE
    AS $$ SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::BIGINT * 1000 $$;
ALTER TABLE statewright_machines ADD COLUMN lease_owner TEXT;
ALTER TABLE statewright_machines ADD COLUMN lease_epoch BIGINT NOT NULL DEFAULT 0;
ALTER TABLE statewright_machines ADD COLUMN lease_until BIGINT;
CREATE INDEX statewright_machines_by_owner
    ON statewright_machines (machine, lease_owner) WHERE lease_owner IS NOT NULL;
";

/// Schema 1 (a sequence and a global lock ordered the outbox) to 2. The
/// positions written so far stay below every transaction id to come: each
/// came from a transaction that took a lower id, one row per transaction.
const UPGRADE_FROM_1: &str = "
CREATE FUNCTION statewright_checksum(id TEXT, kind TEXT, state TEXT) RETURNS TEXT
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT md5(id || chr(31) || kind || chr(31) || state) $$;
ALTER TABLE statewright_machines ADD COLUMN left_kind TEXT;
ALTER TABLE statewright_machines ADD COLUMN checksum TEXT;
UPDATE statewright_machines SET checksum = statewright_checksum(id, kind, state);
ALTER TABLE statewright_machines ALTER COLUMN checksum SET NOT NULL;
ALTER TABLE statewright_machines ADD COLUMN timer_at BIGINT;
ALTER TABLE statewright_machines ADD COLUMN timer_event TEXT;
CREATE INDEX statewright_machines_by_timer
    ON statewright_machines (machine, timer_at) WHERE timer_at IS NOT NULL;
ALTER TABLE statewright_outbox ALTER COLUMN position DROP DEFAULT;
DROP SEQUENCE IF EXISTS statewright_outbox_position_seq;
ALTER TABLE statewright_outbox DROP CONSTRAINT statewright_outbox_pkey;
ALTER TABLE statewright_outbox ADD PRIMARY KEY (machine, position);
DROP INDEX statewright_outbox_by_machine;
CREATE INDEX statewright_outbox_by_id
    ON statewright_outbox (machine, id, position);
";

/// The advisory lock key that serializes schema changes across processes.
const SCHEMA_LOCK: i64 = 0x7374_7769_7363_6801;
/// Creates the schema if it is missing, or upgrades an earlier one, in
/// one transaction under an advisory lock; refuses a newer one. When it
/// is current, no DDL runs: `CREATE INDEX IF NOT EXISTS` takes a share
/// lock on its table even when the index is there.
pub(super) async fn create(pool: &Pool) -> Result<(), BackendError> {
    let mut client = pool.get().await?;
    if schema_version(&client).await? == Some(SCHEMA_VERSION) {
        return Ok(());
    }
    let transaction = client.transaction().await?;
    transaction
        .execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .await?;
    // Another process may have created or upgraded it while this one
    // waited.
    match schema_version(&transaction).await? {
        None => {
            transaction
                .batch_execute("CREATE TABLE statewright_schema (version BIGINT NOT NULL)")
                .await?;
            // A new database is schema 2's tables, upgraded like any other.
            transaction.batch_execute(SCHEMA).await?;
            transaction.batch_execute(UPGRADE_FROM_2).await?;
        }
        Some(SCHEMA_VERSION) => return Ok(()),
        Some(1) => {
            transaction.batch_execute(UPGRADE_FROM_1).await?;
            transaction.batch_execute(UPGRADE_FROM_2).await?;
        }
        Some(2) => transaction.batch_execute(UPGRADE_FROM_2).await?,
        Some(version) => return Err(Box::new(NewerSchema::new(version, SCHEMA_VERSION))),
    }
    transaction
        .batch_execute("DELETE FROM statewright_schema")
        .await?;
    transaction
        .execute(
            "INSERT INTO statewright_schema (version) VALUES ($1)",
            &[&SCHEMA_VERSION],
        )
        .await?;
    Ok(transaction.commit().await?)
}

/// The recorded schema version, or `None` if there is no schema yet.
async fn schema_version(
    client: &impl deadpool_postgres::GenericClient,
) -> Result<Option<i64>, BackendError> {
    let exists: Option<String> = client
        .query_one("SELECT to_regclass('statewright_schema')::text", &[])
        .await?
        .get(0);
    if exists.is_none() {
        return Ok(None);
    }
    let version: Option<i64> = client
        .query_one("SELECT MAX(version) FROM statewright_schema", &[])
        .await?
        .get(0);
    Ok(version)
}
