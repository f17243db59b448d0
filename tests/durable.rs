//! The durable runner on SQLite: every accepted step is saved before anyone
//! hears of it; a lost race or a failed write stops the run; a crash
//! between the write and the reply loses nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use statewright::store::{SqliteStore, Store, StoreError};
use statewright::{Outcome, Runner, RunnerError};

mod durable_contract;
mod support;

use durable_contract::{clerk, Order};

#[tokio::test]
async fn every_accepted_step_is_saved_before_the_reply_and_refused_ones_are_not() {
    durable_contract::saves_before_the_reply(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn a_lost_race_is_not_applied_and_ends_the_run() {
    durable_contract::lost_race(SqliteStore::memory().await.unwrap()).await;
}

#[tokio::test]
async fn loading_an_unknown_id_is_not_found() {
    let store = SqliteStore::<Order>::memory().await.unwrap();
    let error = Runner::load(clerk().0, store, "nobody").await.unwrap_err();
    assert!(matches!(error, StoreError::NotFound { id } if id == "nobody"));
}

const CHILD: &str = "STATEWRIGHT_DURABLE_CHILD";

/// A database file of its own, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> Self {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        Self(std::env::temp_dir().join(format!(
            "statewright-durable-{name}-{}-{}.sqlite",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
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

/// Run by the parent below in a separate process, which dies mid-event.
#[tokio::test]
async fn child_process_that_crashes_after_a_save() {
    let Ok(path) = std::env::var(CHILD) else {
        return; // only as a child
    };
    durable_contract::crash_after_save(SqliteStore::open(&path).await.unwrap()).await;
}

#[tokio::test]
async fn a_crash_between_the_write_and_the_reply_loses_nothing() {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let path: PathBuf = std::env::temp_dir().join(format!(
        "statewright-durable-{}-{}.sqlite",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    ));
    let store = SqliteStore::<Order>::open(&path).await.unwrap();
    store.insert("o", &Order::Open { items: 2 }).await.unwrap();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_that_crashes_after_a_save",
            "--nocapture",
        ])
        .env(CHILD, &path)
        .output()
        .unwrap();
    assert!(!child.status.success(), "the child must die mid-event");
    durable_contract::after_the_crash(store).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

#[tokio::test]
async fn a_run_of_a_machine_never_stored_says_so_and_insert_stores_it() {
    let store = SqliteStore::<Order>::memory().await.unwrap();
    // Nothing sent: the run reads the store before its first event.
    let forgot = Runner::new(clerk().0, Order::Open { items: 0 })
        .persist(store.clone(), "o")
        .spawn();
    let outcome = support::within(forgot.join()).await;
    assert!(
        matches!(&outcome, Outcome::Lost { message } if message.contains("`Runner::insert` stores it")),
        "{outcome:?}"
    );
    let error = support::within(forgot.send(durable_contract::Command::Pay))
        .await
        .unwrap_err();
    assert!(matches!(error, RunnerError::Finished), "{error}");

    let order = Runner::insert(clerk().0, Order::Open { items: 0 }, store.clone(), "o")
        .await
        .unwrap()
        .spawn();
    support::within(order.send(durable_contract::Command::Pay))
        .await
        .unwrap();
    assert_eq!(store.get("o").await.unwrap().unwrap().state, Order::Paid);
    let taken = Runner::insert(clerk().0, Order::Open { items: 0 }, store, "o").await;
    assert!(matches!(taken, Err(StoreError::AlreadyExists { .. })));
}

/// `persist` on a machine stored at another version, or as another kind,
/// than the run starts from ends the run at once, saying which.
#[tokio::test]
async fn a_run_that_does_not_start_where_the_store_is_ends_before_its_first_event() {
    let store = SqliteStore::<Order>::memory().await.unwrap();
    store.insert("o", &Order::Open { items: 0 }).await.unwrap();
    let paid = store.transition("o", 0, Order::Paid).await.unwrap();
    let behind = Runner::new(clerk().0, Order::Open { items: 0 })
        .persist(store.clone(), "o")
        .spawn();
    let outcome = support::within(behind.join()).await;
    assert!(
        matches!(&outcome, Outcome::Lost { message } if message.contains("at version 1, not 0")),
        "{outcome:?}"
    );
    store.insert("k", &Order::Open { items: 0 }).await.unwrap();
    let other_kind = Runner::new(clerk().0, Order::Paid)
        .persist(store.clone(), "k")
        .spawn();
    let outcome = support::within(other_kind.join()).await;
    assert!(
        matches!(&outcome, Outcome::Lost { message } if message.contains("is `Open`, not `Paid`")),
        "{outcome:?}"
    );
    // A runner made from the store needs no check, and runs.
    let resumed = support::within(Runner::load(clerk().0, store.clone(), "o"))
        .await
        .unwrap()
        .spawn();
    assert_eq!(resumed.snapshot().seq, paid.version);
    resumed.stop().unwrap();
    support::within(resumed.join()).await;
    assert_eq!(store.get("o").await.unwrap().unwrap(), paid);
}

#[tokio::test(start_paused = true)]
async fn a_state_timer_is_saved_with_its_step_and_fires_once_after_a_restart() {
    let store = SqliteStore::<durable_contract::Lamp>::memory()
        .await
        .unwrap();
    durable_contract::timers_survive_a_restart(store, std::time::Duration::from_secs(5)).await;
}

/// A timer whose deadline passed while nothing ran fires as soon as the
/// machine is loaded, once.
#[tokio::test(start_paused = true)]
async fn a_timer_that_came_due_while_stored_fires_at_once_on_load() {
    use durable_contract::{Lamp, Lamplighter, Switch};
    let db = TempFile::new("due");
    let store = SqliteStore::<Lamp>::open(&db.0).await.unwrap();
    let on_for = std::time::Duration::from_secs(5);
    let handle = Runner::insert(Lamplighter { on_for }, Lamp::Off, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    support::within(handle.send(Switch::Press)).await.unwrap();
    handle.stop().unwrap();
    support::within(handle.join()).await;
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    edit.execute(
        "UPDATE statewright_machines SET timer_at = 1 WHERE id = 'lamp'",
        [],
    )
    .unwrap();
    let handle = Runner::load(Lamplighter { on_for }, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    let off = support::within(handle.wait_for(|snapshot| snapshot.state == Lamp::Off)).await;
    assert_eq!(off.seq, 2);
    handle.stop().unwrap();
    support::within(handle.join()).await;
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.version, stored.timer),
        (Lamp::Off, 2, None)
    );
}

/// A stored timer whose event no longer decodes is a decode error on load,
/// never a timer silently dropped.
#[tokio::test]
async fn a_timer_event_that_no_longer_decodes_fails_the_load() {
    use durable_contract::{Lamp, Lamplighter};
    let db = TempFile::new("undecodable");
    let store = SqliteStore::<Lamp>::open(&db.0).await.unwrap();
    store.insert("lamp", &Lamp::On).await.unwrap();
    let edit = rusqlite::Connection::open(&db.0).unwrap();
    edit.execute(
        "UPDATE statewright_machines SET timer_at = 1, timer_event = '\"Dim\"' WHERE id = 'lamp'",
        [],
    )
    .unwrap();
    let on_for = std::time::Duration::from_secs(5);
    let error = Runner::load(Lamplighter { on_for }, store, "lamp")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Decode { message, .. } if message.contains("timer's event")),
        "{error}"
    );
}

/// Answers the lamp's timer with no transition: a stop, or (when
/// `illegal`) a step the table refuses.
struct OnTimeUp {
    illegal: bool,
}

impl statewright::Handler for OnTimeUp {
    type State = durable_contract::Lamp;
    type Event = durable_contract::Switch;

    fn handle(
        &mut self,
        state: &durable_contract::Lamp,
        switch: durable_contract::Switch,
        cx: &mut statewright::Cx<Self>,
    ) -> statewright::Step<durable_contract::Lamp> {
        use durable_contract::{Lamp, Switch};
        match (state, switch) {
            (Lamp::Off, Switch::Press) => {
                cx.set_timeout(std::time::Duration::from_secs(5), Switch::TimeUp);
                statewright::Step::to(Lamp::On)
            }
            (Lamp::On, Switch::TimeUp) if self.illegal => statewright::Step::to(Lamp::On),
            (Lamp::On, Switch::TimeUp) => statewright::Step::stop(),
            _ => statewright::Step::reject("nothing to do"),
        }
    }
}

/// A timer whose event stops the run is spent all the same: it is saved
/// cleared, and a later load does not fire it again.
#[tokio::test(start_paused = true)]
async fn a_timer_that_stops_the_run_does_not_fire_again_after_a_load() {
    use durable_contract::{Lamp, Switch};
    let store = SqliteStore::<Lamp>::memory().await.unwrap();
    let handle = Runner::insert(
        OnTimeUp { illegal: false },
        Lamp::Off,
        store.clone(),
        "lamp",
    )
    .await
    .unwrap()
    .spawn();
    support::within(handle.send(Switch::Press)).await.unwrap();
    assert!(store.get("lamp").await.unwrap().unwrap().timer.is_some());
    let outcome = support::within(handle.join()).await;
    assert!(matches!(outcome, Outcome::Stopped(Lamp::On)), "{outcome:?}");
    assert_eq!(store.get("lamp").await.unwrap().unwrap().timer, None);
    let again = Runner::load(OnTimeUp { illegal: false }, store, "lamp")
        .await
        .unwrap()
        .spawn();
    assert_eq!(again.snapshot().timeout_at, None);
    again.stop().unwrap();
    support::within(again.join()).await;
}

/// A timer whose event the table refuses is spent as well: saved cleared,
/// while the run goes on.
#[tokio::test(start_paused = true)]
async fn a_timer_that_fires_into_a_refused_step_is_saved_spent() {
    use durable_contract::{Lamp, Switch};
    let store = SqliteStore::<Lamp>::memory().await.unwrap();
    let handle = Runner::insert(OnTimeUp { illegal: true }, Lamp::Off, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    support::within(handle.send(Switch::Press)).await.unwrap();
    assert!(store.get("lamp").await.unwrap().unwrap().timer.is_some());
    let fired = support::within(handle.wait_for(|snapshot| snapshot.timeout_at.is_none())).await;
    assert_eq!((fired.state, fired.seq), (Lamp::On, 1));
    // The run handles the next event only once the write that clears the
    // timer is done.
    support::within(handle.send(Switch::Snooze)).await.unwrap();
    assert_eq!(store.get("lamp").await.unwrap().unwrap().timer, None);
    handle.stop().unwrap();
    support::within(handle.join()).await;
}
