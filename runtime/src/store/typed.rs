//! The [`Store`](super::Store) methods over any [`Backend`]: encode,
//! decide, write with one compare-and-set, and, only when it matched
//! nothing, read the row to say why.

use std::time::SystemTime;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::backend::{Backend, Cas, CasOutcome, LeaseTerms, NewRow, Rewrite, TimerWrite};
use super::error::check_id;
use super::row::{self, Row};
use super::{Change, KindOf, Migrated, StoreError, StoreResult, Stored};
use crate::persist::PendingTimer;
use crate::{Fire, StateMachine, TransitionError};

/// How often a compare-and-set on the kind is tried again when the row
/// matched when read but not when written (another writer left the kind
/// and came back in between).
const KIND_RETRIES: usize = 8;

/// What the caller knows of the row it changes.
#[derive(Clone, Copy)]
pub(crate) enum Expect<K> {
    /// Its version (`transition`, `update`, `fire`).
    Version(u64),
    /// Its kind (`transition_from`).
    Kind(K),
}

/// A transition needs an edge of the table; an update keeps the kind.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Transition,
    Update,
}

pub(crate) async fn insert<B, M>(backend: &B, id: &str, state: &M) -> StoreResult<Stored<M>, M>
where
    B: Backend,
    M: StateMachine + Serialize + Clone,
{
    insert_leased(backend, id, state, None).await
}

/// An insert; with `lease`, the row is born leased to its owner, at
/// epoch 1.
pub(crate) async fn insert_leased<B, M>(
    backend: &B,
    id: &str,
    state: &M,
    lease: Option<LeaseTerms<'_>>,
) -> StoreResult<Stored<M>, M>
where
    B: Backend,
    M: StateMachine + Serialize + Clone,
{
    check_id(id)?;
    let encoded = row::encode(state, id)?;
    let now = SystemTime::now();
    let kind = state.kind().to_string();
    let mut row = new_row::<M>(id, &kind, &encoded, now);
    row.lease = lease;
    let inserted = backend.insert(row).await.map_err(StoreError::Backend)?;
    if !inserted {
        return Err(StoreError::AlreadyExists { id: id.to_owned() });
    }
    Ok(Stored {
        id: id.to_owned(),
        state: state.clone(),
        version: 0,
        updated_at: now,
        timer: None,
    })
}

pub(crate) async fn get<B, M>(backend: &B, id: &str) -> StoreResult<Option<Stored<M>>, M>
where
    B: Backend,
    M: StateMachine + DeserializeOwned,
{
    check_id(id)?;
    let found = backend
        .get(M::NAME, id)
        .await
        .map_err(StoreError::Backend)?;
    found.map(row::decode_machine).transpose()
}

/// A row of `M` as this table writes it.
fn new_row<'a, M: StateMachine>(
    id: &'a str,
    kind: &'a str,
    state: &'a str,
    at: SystemTime,
) -> NewRow<'a> {
    NewRow {
        machine: M::NAME,
        id,
        kind,
        state,
        fingerprint: row::fingerprint::<M>(),
        at: row::nanos(at),
        lease: None,
    }
}

/// `fire`: the state is read, the event fired on it, and the result
/// written if the row is still at the version read.
pub(crate) async fn fire<B, M>(
    backend: &B,
    id: &str,
    expected_version: u64,
    event: M::Event,
) -> StoreResult<Stored<M>, M>
where
    B: Backend,
    M: Fire + Serialize + DeserializeOwned,
{
    let current = get::<B, M>(backend, id)
        .await?
        .ok_or_else(|| StoreError::NotFound { id: id.to_owned() })?;
    if current.version != expected_version {
        return Err(StoreError::Stale {
            id: id.to_owned(),
            expected: expected_version,
            actual: current.version,
        });
    }
    let mut next = current.state;
    next.fire(event).map_err(StoreError::NotAccepted)?;
    let expect = Expect::Version(expected_version);
    compare_and_set(
        backend,
        id,
        expect,
        Step::Transition,
        next,
        TimerWrite::Clear,
        None,
    )
    .await
}

/// Every compare-and-set: one statement that checks the fingerprint, the
/// expectation, the edge and the writer's lease `epoch` (if it holds one),
/// and writes the row (its timer as `timer` says) and the outbox.
pub(crate) async fn compare_and_set<B, M>(
    backend: &B,
    id: &str,
    expect: Expect<KindOf<M>>,
    step: Step,
    next: M,
    timer: TimerWrite<'_>,
    epoch: Option<u64>,
) -> StoreResult<Stored<M>, M>
where
    B: Backend,
    M: StateMachine + Serialize + DeserializeOwned,
{
    check_id(id)?;
    let to = next.kind();
    let from_kinds = match (expect, step) {
        (Expect::Kind(expected), _) => {
            legal::<M>(step, expected, to)?;
            vec![expected.to_string()]
        }
        (Expect::Version(_), Step::Update) => vec![to.to_string()],
        (Expect::Version(_), Step::Transition) => M::STATES
            .iter()
            .filter(|&&from| M::can_transition(from, to))
            .map(ToString::to_string)
            .collect(),
    };
    let encoded = row::encode(&next, id)?;
    let kind = to.to_string();
    let now = SystemTime::now();
    for _ in 0..KIND_RETRIES {
        let cas = Cas {
            row: new_row::<M>(id, &kind, &encoded, now),
            expected_version: match expect {
                Expect::Version(version) => Some(row::to_i64(version)),
                Expect::Kind(_) => None,
            },
            from_kinds: &from_kinds,
            timer,
            epoch: epoch.map(row::to_i64),
        };
        match backend
            .compare_and_set(cas)
            .await
            .map_err(StoreError::Backend)?
        {
            CasOutcome::Committed {
                version,
                timer_at,
                timer_event,
            } => {
                return Ok(Stored {
                    id: id.to_owned(),
                    state: next,
                    version: row::to_u64(version),
                    updated_at: now,
                    timer: timer_at
                        .zip(timer_event)
                        .map(|(at, event)| PendingTimer::new(row::time(at), event)),
                })
            }
            CasOutcome::Missed(current) => {
                fenced::<M>(id, epoch, current.as_ref())?;
                explain_miss::<M>(id, expect, step, to, current)?;
            }
        }
    }
    Err(StoreError::Backend(
        format!("`{id}` changed under every one of {KIND_RETRIES} tries").into(),
    ))
}

/// Whether `step` may take a machine of kind `from` to kind `to`.
fn legal<M: StateMachine>(step: Step, from: KindOf<M>, to: KindOf<M>) -> StoreResult<(), M> {
    let allowed = match step {
        Step::Transition => M::can_transition(from, to),
        Step::Update => from == to,
    };
    if allowed {
        Ok(())
    } else {
        Err(StoreError::Illegal(TransitionError::new(from, to)))
    }
}

/// [`StoreError::Fenced`] if the row's lease moved past the writer's
/// `epoch`: another activation owns it now.
fn fenced<M: StateMachine>(
    id: &str,
    epoch: Option<u64>,
    current: Option<&Row>,
) -> StoreResult<(), M> {
    match (epoch, current) {
        (Some(epoch), Some(current)) if row::to_u64(current.lease_epoch) != epoch => {
            Err(StoreError::Fenced {
                id: id.to_owned(),
                epoch,
            })
        }
        _ => Ok(()),
    }
}

/// Why a compare-and-set matched nothing, from the row as it is now; `Ok`
/// if the row now matches (it changed between the write and the read).
fn explain_miss<M>(
    id: &str,
    expect: Expect<KindOf<M>>,
    step: Step,
    to: KindOf<M>,
    current: Option<Row>,
) -> StoreResult<(), M>
where
    M: StateMachine + DeserializeOwned,
{
    let current = current.ok_or_else(|| StoreError::NotFound { id: id.to_owned() })?;
    let current = row::decode_machine::<M>(current)?;
    let from = current.state.kind();
    match expect {
        Expect::Version(expected) if current.version != expected => {
            return Err(StoreError::Stale {
                id: id.to_owned(),
                expected,
                actual: current.version,
            })
        }
        Expect::Kind(expected) if from != expected => {
            return Err(StoreError::WrongState {
                id: id.to_owned(),
                expected,
                actual: from,
            })
        }
        _ => {}
    }
    row::next_version::<M>(id, current.version)?;
    legal::<M>(step, from, to)
}

/// Writes the machine's timer alone, if it is still at `version` (which
/// stays). The durable runner's write for a step that stays.
pub(crate) async fn set_timer<B, M>(
    backend: &B,
    id: &str,
    version: u64,
    timer: TimerWrite<'_>,
    epoch: Option<u64>,
) -> StoreResult<(), M>
where
    B: Backend,
    M: StateMachine + DeserializeOwned,
{
    check_id(id)?;
    let fingerprint = row::fingerprint::<M>();
    let (version_column, epoch_column) = (row::to_i64(version), epoch.map(row::to_i64));
    let missed = backend
        .set_timer(
            M::NAME,
            id,
            fingerprint,
            version_column,
            epoch_column,
            timer,
        )
        .await
        .map_err(StoreError::Backend)?;
    let Some(current) = missed else {
        return Ok(());
    };
    fenced::<M>(id, epoch, current.as_ref())?;
    let current = current.ok_or_else(|| StoreError::NotFound { id: id.to_owned() })?;
    let current = row::decode_machine::<M>(current)?;
    Err(StoreError::Stale {
        id: id.to_owned(),
        expected: version,
        actual: current.version,
    })
}

/// How many rows a migration reads and rewrites per transaction.
const MIGRATION_BATCH: usize = 256;

/// `Store::migrate`: every row stamped `from` goes through `map`, in
/// batches of one transaction each.
pub(crate) async fn migrate<B, M>(
    backend: &B,
    from: u64,
    mut map: impl FnMut(serde_json::Value) -> Result<M, String> + Send,
) -> StoreResult<Migrated, M>
where
    B: Backend,
    M: StateMachine + Serialize,
{
    let (old, new) = (
        i64::from_ne_bytes(from.to_ne_bytes()),
        row::fingerprint::<M>(),
    );
    let mut migrated = Migrated {
        rewritten: 0,
        failed: Vec::new(),
    };
    if old == new {
        return Ok(migrated);
    }
    let mut after = String::new();
    loop {
        let page = backend
            .stamped(M::NAME, old, &after, MIGRATION_BATCH)
            .await
            .map_err(StoreError::Backend)?;
        let Some(last) = page.last() else {
            return Ok(migrated);
        };
        after.clone_from(&last.id);
        let mut batch = Vec::with_capacity(page.len());
        for found in page {
            match rewrite_of(&found, &mut map) {
                Ok(rewrite) => batch.push(rewrite),
                Err(reason) => migrated.failed.push((found.id, reason)),
            }
        }
        let count = batch.len();
        let skipped = backend
            .rewrite(M::NAME, old, new, batch)
            .await
            .map_err(StoreError::Backend)?;
        migrated.rewritten += count - skipped.len();
        migrated.failed.extend(
            skipped
                .into_iter()
                .map(|id| (id, "it changed while it was migrated".to_owned())),
        );
    }
}

/// The migrated row, or why `map` cannot have it.
fn rewrite_of<M: StateMachine + Serialize>(
    found: &Row,
    map: &mut impl FnMut(serde_json::Value) -> Result<M, String>,
) -> Result<Rewrite, String> {
    if !found.intact {
        return Err("it was changed outside the store: its checksum no longer matches".to_owned());
    }
    let old = serde_json::from_str(&found.state)
        .map_err(|error| format!("its state is not JSON: {error}"))?;
    let state = map(old)?;
    let encoded = serde_json::to_string(&state).map_err(|error| error.to_string())?;
    Ok(Rewrite {
        id: found.id.clone(),
        version: found.version,
        kind: state.kind().to_string(),
        state: encoded,
    })
}

pub(crate) async fn list<B, M>(backend: &B, kind: KindOf<M>) -> StoreResult<Vec<Stored<M>>, M>
where
    B: Backend,
    M: StateMachine + DeserializeOwned,
{
    let rows = backend
        .list(M::NAME, &kind.to_string())
        .await
        .map_err(StoreError::Backend)?;
    rows.into_iter().map(row::decode_machine).collect()
}

pub(crate) async fn changes_since<B, M>(
    backend: &B,
    position: u64,
    only: Option<&str>,
    limit: usize,
) -> StoreResult<Vec<Change<M>>, M>
where
    B: Backend,
    M: StateMachine + DeserializeOwned,
{
    let rows = backend
        .changes(M::NAME, position, only, limit)
        .await
        .map_err(StoreError::Backend)?;
    rows.into_iter()
        .map(|change| row::decode_change(change.position, change.row))
        .collect()
}
