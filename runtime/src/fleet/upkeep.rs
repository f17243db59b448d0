//! The fleet's one background task: it renews the leases, passivates idle
//! machines, and activates passivated ones whose timer is due.

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

use super::registry::{Origin, Registry};
use super::FleetError;
use crate::store::backend::Backend as _;
use crate::store::{row_nanos, row_u64, Store, StoreError};
use crate::{Handler, StateMachine};

type Kind<H> = <<H as Handler>::State as StateMachine>::Kind;

/// How many due machines one claim takes.
const CLAIM_BATCH: usize = 256;

/// Renews the leases every third of their length, until the fleet is
/// dropped (it holds the registry weakly). A task of its own, so that no
/// sweep or slow activation holds a renewal back.
///
/// When no renewal has got through for two thirds of a lease, the leases
/// may end before one does: every activation is passivated then, while
/// the leases are surely still this fleet's. A renewal that hangs (a
/// frozen server) is given only until that moment.
pub(crate) async fn renewals<H, St>(registry: Weak<Registry<H, St>>)
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    let Some(lease) = registry.upgrade().map(|registry| registry.lease) else {
        return;
    };
    let mut renewed = Instant::now();
    loop {
        tokio::time::sleep(lease / 3).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        let (started, deadline) = (Instant::now(), renewed + lease * 2 / 3);
        let left = deadline.saturating_duration_since(started);
        match tokio::time::timeout(left, renew(&registry)).await {
            Ok(true) => renewed = started,
            Ok(false) | Err(_) if Instant::now() >= deadline => passivate_all(&registry),
            Ok(false) | Err(_) => {}
        }
    }
}

/// Claims due timers and passivates idle machines every `sweep_every`,
/// until the fleet is dropped.
pub(crate) async fn sweeps<H, St>(registry: Weak<Registry<H, St>>, sweep_every: Duration)
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    loop {
        tokio::time::sleep(sweep_every).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        if let Err(error) = claim_due(&registry, sweep_every).await {
            tracing::warn!(%error, "a fleet could not claim its due timers");
        }
        passivate_idle(&registry);
    }
}

/// Renews every lease this owner holds, passivates the activations whose
/// lease it no longer holds, and gives back the leases no activation uses
/// (one whose release failed, or one a restarted owner of the same name
/// left): renewed forever, they would keep every other fleet out and the
/// machine's timer unclaimed. Whether the renewal got through.
async fn renew<H, St>(registry: &Registry<H, St>) -> bool
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    let started = registry.now();
    let renewed = registry
        .store
        .backend()
        .renew(H::State::NAME, registry.terms())
        .await;
    let held: HashMap<String, i64> = match renewed {
        Ok(held) => held.into_iter().collect(),
        Err(error) => {
            tracing::warn!(%error, owner = registry.owner, "a fleet could not renew its leases");
            return false;
        }
    };
    for (id, slot) in registry.all() {
        // An activation younger than the renewal took its lease after it.
        if slot.live_since().is_none_or(|since| since >= started) {
            continue;
        }
        if let Some((_, epoch)) = slot.live() {
            if held.get(&*id).map(|&held| row_u64(held)) != Some(epoch) {
                tracing::warn!(
                    id = &*id,
                    epoch,
                    "a fleet lost a lease; the activation ends"
                );
                slot.passivate();
            }
        }
    }
    for (id, epoch) in held {
        // An id with a slot is being loaded, runs or is ending: its lease
        // is in use, or given back by its run's end.
        if registry.slot(&id).is_none() {
            registry.release(&id, row_u64(epoch)).await;
        }
    }
    true
}

fn passivate_all<H: Handler, St>(registry: &Registry<H, St>) {
    for (_, slot) in registry.all() {
        slot.passivate();
    }
}

fn passivate_idle<H: Handler, St>(registry: &Registry<H, St>) {
    let idle_after = registry.idle_after;
    let idle_millis = u64::try_from(idle_after.as_millis()).unwrap_or(u64::MAX);
    let Some(idle_before) = registry.now().checked_sub(idle_millis) else {
        return;
    };
    let soon = SystemTime::now() + idle_after;
    for (_, slot) in registry.all() {
        // A timer due before the machine would count as idle keeps it.
        let timer_soon = slot.live().is_some_and(|(handle, _)| {
            handle
                .snapshot()
                .timeout_at
                .is_some_and(|timeout| timeout <= soon)
        });
        if !timer_soon {
            slot.passivate_if_idle(idle_before);
        }
    }
}

/// Claims the machines whose timer is due within `ahead` and activates
/// them (their runs fire the timers on time); batch after batch while
/// batches come full.
pub(crate) async fn claim_due<H, St>(
    registry: &Arc<Registry<H, St>>,
    ahead: Duration,
) -> Result<usize, FleetError<Kind<H>>>
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    let mut activated = 0;
    loop {
        let due = row_nanos(SystemTime::now() + ahead);
        let claimed = registry
            .store
            .backend()
            .claim_due(H::State::NAME, registry.terms(), due, CLAIM_BATCH)
            .await
            .map_err(StoreError::Backend)?;
        let full = claimed.len() == CLAIM_BATCH;
        let mut activations = tokio::task::JoinSet::new();
        for row in claimed {
            let registry = Arc::clone(registry);
            activations.spawn(async move {
                let id = row.id.clone();
                let origin = Some(Origin::Load { claimed: Some(row) });
                let activated = registry.with_run(&id, origin, |_| async {}).await;
                if let Err(error) = &activated {
                    tracing::warn!(id, %error, "a fleet could not activate a machine with a due timer");
                }
                activated.is_ok()
            });
        }
        while let Some(done) = activations.join_next().await {
            activated += usize::from(done.unwrap_or(false));
        }
        if !full {
            return Ok(activated);
        }
    }
}
