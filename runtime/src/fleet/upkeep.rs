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

/// How often the task wakes: often enough to renew each lease three times
/// in its length and to claim due timers within `sweep_every`.
pub(crate) fn tick(lease: Duration, sweep_every: Duration) -> Duration {
    (lease / 3).min(sweep_every).max(Duration::from_millis(1))
}

/// Runs until the fleet is dropped (it holds the registry weakly).
pub(crate) async fn run<H, St>(registry: Weak<Registry<H, St>>, sweep_every: Duration)
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
    let mut next_renewal = renewed + lease / 3;
    loop {
        tokio::time::sleep(tick(lease, sweep_every)).await;
        let Some(registry) = registry.upgrade() else {
            return;
        };
        if Instant::now() >= next_renewal {
            let started = Instant::now();
            if renew(&registry).await {
                renewed = started;
            } else if started.duration_since(renewed) >= lease * 2 / 3 {
                // The lease may end before a renewal gets through: stop
                // taking events while it is surely still ours.
                passivate_all(&registry);
            }
            next_renewal = started + lease / 3;
        }
        let _ = claim_due(&registry, sweep_every).await;
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
            if held.get(&id).map(|&held| row_u64(held)) != Some(epoch) {
                tracing::warn!(id, epoch, "a fleet lost a lease; the activation ends");
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

fn passivate_all<H, St>(registry: &Registry<H, St>)
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
    for (_, slot) in registry.all() {
        slot.passivate();
    }
}

fn passivate_idle<H, St>(registry: &Registry<H, St>)
where
    H: Handler,
    H::State: Serialize + DeserializeOwned,
    H::Event: Serialize + DeserializeOwned,
    St: Store<H::State>,
{
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
        for (id, epoch) in claimed {
            let registry = Arc::clone(registry);
            activations.spawn(async move {
                let claimed = Some(row_u64(epoch));
                let origin = Some(Origin::Load { claimed });
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
