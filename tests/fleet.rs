//! Fleets on SQLite: one activation per id, passivation, due timers,
//! leases and fencing, in one process (the PostgreSQL suite runs the same
//! contract against a real server).

use statewright::store::SqliteStore;

mod durable_contract;
mod fleet_contract;
mod support;

#[tokio::test]
async fn concurrent_first_messages_share_one_activation() {
    fleet_contract::one_activation_per_id(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn idle_machines_passivate_and_come_back_where_they_were() {
    fleet_contract::idle_machines_passivate(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_due_timer_wakes_a_passivated_machine_and_fires_once() {
    fleet_contract::due_timers_wake_passivated_machines(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn start_resumes_the_timers_that_passed_while_nothing_ran() {
    fleet_contract::start_resumes_due_timers(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_lease_no_activation_uses_is_given_back_at_the_next_renewal() {
    fleet_contract::unused_leases_are_given_back(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_running_during_activations_keep_every_activation() {
    fleet_contract::renewals_keep_new_activations(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn passivation_handles_the_queued_events_first() {
    fleet_contract::passivation_drops_nothing_queued(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn refusals_are_runner_errors_and_unknown_ids_not_found() {
    fleet_contract::refusals_are_runner_errors(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_second_owner_waits_for_the_lease_and_a_deposed_one_is_fenced() {
    let file = std::env::temp_dir().join(format!(
        "statewright-fleet-leases-{}.sqlite",
        std::process::id()
    ));
    let store = SqliteStore::open(&file).await.unwrap();
    // The owner stalls past its lease: as its clock would see it, expired.
    let expire = {
        let file = file.clone();
        async move {
            let connection = rusqlite::Connection::open(&file).unwrap();
            connection
                .execute(
                    "UPDATE statewright_machines SET lease_until = 0 WHERE id = 'lamp'",
                    [],
                )
                .unwrap();
        }
    };
    fleet_contract::leases_fence_a_second_owner(store, expire).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_senders_on_many_machines_each_reply_matches_the_outbox() {
    let store = SqliteStore::memory().await.unwrap();
    fleet_contract::many_senders(store, 1000, 10).await;
}

const CHILD: &str = "STATEWRIGHT_FLEET_CHILD";

/// A database file of its own, removed when dropped.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        Self(std::env::temp_dir().join(format!(
            "statewright-fleet-{name}-{}.sqlite",
            std::process::id()
        )))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

/// Run by the tests below in a separate process, sharing their file.
#[tokio::test]
async fn child_process_fleet() {
    let Ok(spec) = std::env::var(CHILD) else {
        return; // only as a child
    };
    let (mode, path) = spec.split_once(' ').unwrap();
    let store = SqliteStore::open(path).await.unwrap();
    fleet_contract::processes::child(store, mode).await;
}

fn child(mode: &str, file: &TempFile) -> std::process::Command {
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([
            "--exact",
            "child_process_fleet",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, format!("{mode} {}", file.0.display()));
    command
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_killed_with_100_activations_is_taken_over_and_each_timer_fires_once() {
    let file = TempFile::new("killed");
    let store = SqliteStore::open(&file.0).await.unwrap();
    fleet_contract::processes::killed_owner_is_taken_over(store, child("hold", &file)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_paused_past_its_real_lease_is_taken_over_and_fenced() {
    let file = TempFile::new("paused");
    let store = SqliteStore::open(&file.0).await.unwrap();
    fleet_contract::processes::paused_owner_is_fenced(store, child("sleep", &file)).await;
}
