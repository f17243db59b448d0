//! Rows as the backends store them, and the checks that turn them back into
//! machines: a row decodes only if it was written under this table.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::StateMachine;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{Change, StoreError, StoreResult, Stored};
use crate::persist::PendingTimer;

/// A machine row, or an outbox row (`kind` is then the kind it left).
#[derive(Debug)]
pub struct Row {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) state: String,
    pub(crate) version: i64,
    pub(crate) fingerprint: i64,
    pub(crate) at: i64,
    /// Whether the row's checksum (over its id, kind and state, computed by
    /// the database on every write through a store) still matches.
    pub(crate) intact: bool,
    /// The state timer's deadline (nanoseconds since the epoch) and event
    /// (JSON), both set or both null; null in an outbox row.
    pub(crate) timer_at: Option<i64>,
    pub(crate) timer_event: Option<String>,
    /// The epoch of the machine's lease (0 if never leased; 0 in an outbox
    /// row): a fleet's writes are fenced by it.
    pub(crate) lease_epoch: i64,
}

/// The state as the backends store it: JSON text.
pub(crate) fn encode<M: StateMachine + Serialize>(state: &M, id: &str) -> StoreResult<String, M> {
    serde_json::to_string(state).map_err(|error| StoreError::Encode {
        id: id.to_owned(),
        message: error.to_string(),
    })
}

/// The table's fingerprint as SQL's signed 64-bit integer (same bits).
pub(crate) fn fingerprint<M: StateMachine>() -> i64 {
    i64::from_ne_bytes(M::FINGERPRINT.to_ne_bytes())
}

/// Nanoseconds since the Unix epoch (0 before it; saturates in 2262).
pub(crate) fn nanos(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_nanos()).unwrap_or(i64::MAX)
}

pub(crate) fn time(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(to_u64(nanos))
}

/// Versions and positions are never negative; SQL stores them signed.
pub(crate) fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The version after `current`: refused (a decode error naming the row)
/// at the largest version a row holds, rather than saturating into a
/// version that repeats, which would let two writers both win it.
pub(crate) fn next_version<M: StateMachine>(id: &str, current: u64) -> StoreResult<u64, M> {
    match current.checked_add(1) {
        Some(next) if i64::try_from(next).is_ok() => Ok(next),
        _ => Err(StoreError::Decode {
            id: id.to_owned(),
            message: format!(
                "version {current} is the largest a row holds: the machine cannot take another step"
            ),
        }),
    }
}

pub(crate) fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

fn kind_named<M: StateMachine>(name: &str) -> Option<M::Kind> {
    M::STATES
        .iter()
        .copied()
        .find(|kind| kind.to_string() == name)
}

/// The state in `row`, if the row was written under this table and its
/// state, its kind and its version agree with it.
fn decode_state<M>(row: &Row, label: &str) -> StoreResult<M, M>
where
    M: StateMachine + DeserializeOwned,
{
    let fail = |message: String| StoreError::Decode {
        id: label.to_owned(),
        message,
    };
    if row.fingerprint != fingerprint::<M>() {
        return Err(fail(format!(
            "written under another table (fingerprint {:#018x}, now {:#018x})",
            u64::from_ne_bytes(row.fingerprint.to_ne_bytes()),
            M::FINGERPRINT
        )));
    }
    if !row.intact {
        return Err(fail(
            "it was changed outside the store: its checksum no longer matches its id, kind and state"
                .to_owned(),
        ));
    }
    if row.version < 0 {
        return Err(fail(format!("negative version {}", row.version)));
    }
    serde_json::from_str(&row.state)
        .map_err(|error| fail(format!("the state does not decode: {error}")))
}

pub(crate) fn decode_machine<M>(row: Row) -> StoreResult<Stored<M>, M>
where
    M: StateMachine + DeserializeOwned,
{
    let state: M = decode_state(&row, &row.id)?;
    let timer = match (row.timer_at, row.timer_event) {
        (Some(at), Some(event)) => Some(PendingTimer::new(time(at), event)),
        (None, None) => None,
        _ => {
            return Err(StoreError::Decode {
                id: row.id,
                message: "its timer has a deadline or an event, not both".to_owned(),
            })
        }
    };
    let kind = state.kind().to_string();
    if kind != row.kind {
        return Err(StoreError::Decode {
            id: row.id,
            message: format!("the kind column says `{}`, the state is `{kind}`", row.kind),
        });
    }
    Ok(Stored {
        id: row.id,
        state,
        version: to_u64(row.version),
        updated_at: time(row.at),
        timer,
    })
}

pub(crate) fn decode_change<M>(position: i64, row: Row) -> StoreResult<Change<M>, M>
where
    M: StateMachine + DeserializeOwned,
{
    let label = format!("{} (outbox position {position})", row.id);
    let to: M = decode_state(&row, &label)?;
    let from = kind_named::<M>(&row.kind).ok_or_else(|| StoreError::Decode {
        id: label.clone(),
        message: format!("`{}` is not a state of the table", row.kind),
    })?;
    Ok(Change {
        position: to_u64(position),
        id: row.id,
        version: to_u64(row.version),
        from,
        to,
        at: time(row.at),
    })
}
