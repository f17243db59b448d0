//! A fleet's contract, as test bodies generic over the store: one
//! activation per id, passivation, due timers, leases and fencing.
#![allow(dead_code)]

pub(crate) mod processes;

use std::time::Duration;

use statewright::fleet::{Fleet, FleetError};
use statewright::store::{Store, Stored};
use statewright::{Applied, Recorder, Snapshot, Status};

use crate::durable_contract::{Lamp, Lamplighter, Switch};
use crate::support::{within, Log};

/// Counts each activation's start and end as the recorders see them.
struct Counter(Log, String);

impl Recorder<Lamplighter> for Counter {
    fn on_start(&mut self, _: &Snapshot<Lamp>) {
        self.0.push(format!("start {}", self.1));
    }
    fn on_restore(&mut self, _: &Snapshot<Lamp>) {
        self.0.push(format!("restore {}", self.1));
    }
    fn on_passivate(&mut self, _: &Snapshot<Lamp>) {
        self.0.push(format!("passivate {}", self.1));
    }
    fn on_finish(&mut self, _: &statewright::Outcome<Lamp>) {
        self.0.push(format!("finish {}", self.1));
    }
}

/// A lamp with a timer long enough that no test waits for it.
fn lamplighter(_: &str) -> Lamplighter {
    Lamplighter {
        on_for: Duration::from_secs(3600),
    }
}

fn counted<S: Store<Lamp>>(
    fleet: statewright::fleet::FleetBuilder<Lamplighter, S>,
    log: &Log,
) -> statewright::fleet::FleetBuilder<Lamplighter, S> {
    let log = log.clone();
    fleet.recorder(move |id: &str| Ok::<_, std::io::Error>(Counter(log.clone(), id.to_owned())))
}

/// Sixteen first messages at once share one load: one `on_restore`, one
/// activation, every event applied.
pub(crate) async fn one_activation_per_id<S: Store<Lamp>>(store: S) {
    store.insert("lamp", &Lamp::Off).await.unwrap();
    let log = Log::default();
    let fleet = within(counted(Fleet::new(store.clone(), lamplighter), &log).start())
        .await
        .unwrap();
    let mut senders = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let fleet = fleet.clone();
        senders.spawn(async move { fleet.send("lamp", Switch::Press).await });
    }
    let mut applied = 0;
    while let Some(sent) = within(senders.join_next()).await {
        sent.unwrap().unwrap();
        applied += 1;
    }
    assert_eq!(applied, 16);
    assert_eq!(
        log.lines(),
        ["restore lamp"],
        "one load for all first messages"
    );
    assert_eq!(fleet.active(), 1);
    assert_eq!(store.get("lamp").await.unwrap().unwrap().version, 16);
    within(fleet.shutdown()).await;
    assert_eq!(log.lines(), ["restore lamp", "passivate lamp"]);
    assert!(matches!(
        fleet.send("lamp", Switch::Press).await,
        Err(FleetError::ShutDown)
    ));
}

/// A machine idle for `idle_after` is passivated (not finished): the row
/// stays, `on_passivate` runs, and the next event activates it again with
/// `on_restore`, its `seq` going on from the store's version.
pub(crate) async fn idle_machines_passivate<S: Store<Lamp>>(store: S) {
    let log = Log::default();
    let fleet = counted(Fleet::new(store.clone(), lamplighter), &log)
        .idle_after(Duration::from_millis(50))
        .sweep_every(Duration::from_millis(10));
    let fleet = within(fleet.start()).await.unwrap();
    within(fleet.insert("lamp", Lamp::Off)).await.unwrap();
    within(fleet.send("lamp", Switch::Press)).await.unwrap();
    within(fleet.send("lamp", Switch::Press)).await.unwrap();
    within(async {
        while fleet.active() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert_eq!(log.lines(), ["start lamp", "passivate lamp"]);
    let snapshot = fleet.snapshot("lamp").await.unwrap();
    assert_eq!(
        (snapshot.state, snapshot.seq, snapshot.status),
        (Lamp::Off, 2, Status::Passivated)
    );
    let applied = within(fleet.send("lamp", Switch::Press)).await.unwrap();
    assert!(
        matches!(applied, Applied::Transitioned { seq: 3, .. }),
        "seq goes on from the stored version: {applied:?}"
    );
    assert_eq!(
        log.lines(),
        ["start lamp", "passivate lamp", "restore lamp"]
    );
    within(fleet.shutdown()).await;
}

/// A passivated machine's due timer activates it, and fires once.
pub(crate) async fn due_timers_wake_passivated_machines<S: Store<Lamp>>(store: S) {
    let on_for = Duration::from_millis(300);
    let fleet = Fleet::new(store.clone(), move |_: &str| Lamplighter { on_for })
        .idle_after(Duration::from_millis(20))
        .sweep_every(Duration::from_millis(20));
    let fleet = within(fleet.start()).await.unwrap();
    within(fleet.insert("lamp", Lamp::Off)).await.unwrap();
    within(fleet.send("lamp", Switch::Press)).await.unwrap();
    // Passivated while its timer waits: the timer is due later than the
    // machine counts as idle.
    within(async {
        while fleet.active() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.timer.is_some()), (Lamp::On, true));
    let off = lamp_off(&store, "lamp").await;
    assert_eq!((off.version, off.timer), (2, None), "fired once, cleared");
    within(fleet.shutdown()).await;
}

/// `start` activates every machine whose timer passed while nothing ran
/// it.
pub(crate) async fn start_resumes_due_timers<S: Store<Lamp>>(store: S) {
    let on_for = Duration::from_millis(100);
    let lamp = Lamplighter { on_for };
    let handle = statewright::Runner::insert(lamp, Lamp::Off, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    within(handle.send(Switch::Press)).await.unwrap();
    handle.stop().unwrap();
    within(handle.join()).await;
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.timer.is_some()), (Lamp::On, true));
    // The deadline passes while nothing runs the machine.
    tokio::time::sleep(on_for * 2).await;

    let fleet = Fleet::new(store.clone(), move |_: &str| Lamplighter { on_for });
    let fleet = within(fleet.start()).await.unwrap();
    let off = lamp_off(&store, "lamp").await;
    assert_eq!((off.version, off.timer), (2, None));
    within(fleet.shutdown()).await;
}

/// Two fleets on one store: a machine runs in one at a time; `shutdown`
/// gives its leases back so the other takes over at once; a write of an
/// activation whose lease was taken over is fenced, and its run ends.
pub(crate) async fn leases_fence_a_second_owner<S, F>(store: S, expire_lamp: F)
where
    S: Store<Lamp>,
    F: std::future::Future<Output = ()>,
{
    let first = within(
        Fleet::new(store.clone(), lamplighter)
            .owner("first")
            .start(),
    )
    .await
    .unwrap();
    let second = within(
        Fleet::new(store.clone(), lamplighter)
            .owner("second")
            .start(),
    )
    .await
    .unwrap();
    within(first.insert("lamp", Lamp::Off)).await.unwrap();
    match within(second.send("lamp", Switch::Press)).await {
        Err(FleetError::NotOwner { owner, .. }) => assert_eq!(owner, "first"),
        other => panic!("expected NotOwner, got {other:?}"),
    }
    within(first.shutdown()).await;
    within(second.send("lamp", Switch::Press)).await.unwrap();

    // The second owner stalls past its lease; a third takes the machine.
    let third = within(
        Fleet::new(store.clone(), lamplighter)
            .owner("third")
            .start(),
    )
    .await
    .unwrap();
    expire_lamp.await;
    within(third.send("lamp", Switch::Press)).await.unwrap();
    match within(second.send("lamp", Switch::Press)).await {
        Err(FleetError::Fenced { id, .. }) => assert_eq!(id, "lamp"),
        other => panic!("expected Fenced, got {other:?}"),
    }
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!((stored.state, stored.version), (Lamp::Off, 2));
    within(third.shutdown()).await;
    within(second.shutdown()).await;
}

/// Events that are not the lamp's: a handler refusing one is a runner
/// error, not a fleet failure.
pub(crate) async fn refusals_are_runner_errors<S: Store<Lamp>>(store: S) {
    let fleet = within(Fleet::new(store, lamplighter).start())
        .await
        .unwrap();
    within(fleet.insert("lamp", Lamp::Off)).await.unwrap();
    let refused = within(fleet.send("lamp", Switch::Snooze)).await.unwrap();
    assert!(matches!(refused, Applied::Rejected { .. }), "{refused:?}");
    assert!(matches!(
        within(fleet.send("nobody", Switch::Press)).await,
        Err(FleetError::NotFound { id }) if id == "nobody"
    ));
    assert_eq!(fleet.active(), 1, "a missing id leaves nothing behind");
    within(fleet.shutdown()).await;
}

/// `ids` machines, `senders` concurrent senders each, while idle machines
/// passivate under them: every send is applied once, the replies' `seq`s
/// of a machine are exactly its versions in the outbox (none repeated or
/// skipped), and a machine never has two activations at a time.
pub(crate) async fn many_senders<S: Store<Lamp>>(store: S, ids: usize, senders: usize) {
    let ids: Vec<String> = (0..ids).map(|n| format!("lamp-{n}")).collect();
    for id in &ids {
        store.insert(id, &Lamp::Off).await.unwrap();
    }
    let log = Log::default();
    let fleet = counted(Fleet::new(store.clone(), lamplighter), &log)
        .idle_after(Duration::from_millis(2))
        .sweep_every(Duration::from_millis(1));
    let fleet = within(fleet.start()).await.unwrap();
    let mut replied = std::collections::HashMap::<String, Vec<u64>>::new();
    // Two rounds, all machines passivated in between: every first message
    // of the second round races the others to activate its machine again.
    for round in [0..senders / 2, senders / 2..senders] {
        let mut sending = tokio::task::JoinSet::new();
        for id in &ids {
            for sender in round.clone() {
                let (fleet, id) = (fleet.clone(), id.clone());
                let delay = Duration::from_micros(100 * sender as u64);
                sending.spawn(async move {
                    tokio::time::sleep(delay).await;
                    let applied = fleet.send(&id, Switch::Press).await;
                    (id, applied)
                });
            }
        }
        while let Some(sent) = within(sending.join_next()).await {
            let (id, applied) = sent.unwrap();
            match applied {
                Ok(Applied::Transitioned { seq, .. }) => replied.entry(id).or_default().push(seq),
                other => panic!("{id}: {other:?}"),
            }
        }
        within(async {
            while fleet.active() > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
    }
    within(fleet.shutdown()).await;
    let activations = log
        .lines()
        .iter()
        .filter(|line| line.starts_with("restore"))
        .count();
    println!("{} sends, {activations} activations", ids.len() * senders);

    let changes = store.changes_since(0, usize::MAX).await.unwrap();
    let expected: Vec<u64> = (1..=senders as u64).collect();
    for id in &ids {
        let mut seqs = replied.remove(id).unwrap_or_default();
        seqs.sort_unstable();
        assert_eq!(seqs, expected, "{id}: one reply per version");
        let versions: Vec<u64> = changes
            .iter()
            .filter(|change| &change.id == id)
            .map(|change| change.version)
            .collect();
        assert_eq!(
            versions, expected,
            "{id}: the outbox in order, none repeated or skipped"
        );
        // Every activation ends before the next begins.
        let mut active = false;
        for line in log.lines() {
            let Some((event, of)) = line.split_once(' ') else {
                continue;
            };
            if of != id {
                continue;
            }
            let starting = matches!(event, "start" | "restore");
            assert_ne!(
                starting,
                active,
                "{id}: {event} while {}",
                if active { "active" } else { "inactive" }
            );
            active = starting;
        }
        assert!(!active, "{id}: shut down");
    }
}

/// A lease no activation uses (here: left by an owner of the same name
/// that died) is given back at the next renewal, instead of renewed
/// forever and keeping every other fleet out.
pub(crate) async fn unused_leases_are_given_back<S: Store<Lamp>>(store: S) {
    let hour = Duration::from_secs(3600);
    let dead = within(
        Fleet::new(store.clone(), lamplighter)
            .owner("same")
            .lease(hour)
            .start(),
    )
    .await
    .unwrap();
    within(dead.insert("lamp", Lamp::Off)).await.unwrap();
    drop(dead); // no shutdown: the lease stays, for an hour
    let other = within(
        Fleet::new(store.clone(), lamplighter)
            .owner("other")
            .start(),
    )
    .await
    .unwrap();
    assert!(matches!(
        within(other.send("lamp", Switch::Press)).await,
        Err(FleetError::NotOwner { .. })
    ));
    let restarted = Fleet::new(store.clone(), lamplighter)
        .owner("same")
        .lease(Duration::from_millis(30));
    let restarted = within(restarted.start()).await.unwrap();
    let applied = within(async {
        loop {
            match other.send("lamp", Switch::Press).await {
                Err(FleetError::NotOwner { .. }) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                applied => return applied,
            }
        }
    })
    .await;
    assert!(
        matches!(applied, Ok(Applied::Transitioned { seq: 1, .. })),
        "{applied:?}"
    );
    within(restarted.shutdown()).await;
    within(other.shutdown()).await;
}

/// Renewals running while 1,000 machines are activated keep every activation:
/// one whose lease was taken after a renewal's statement is not mistaken
/// for one whose lease was lost.
pub(crate) async fn renewals_keep_new_activations<S: Store<Lamp>>(store: S) {
    let ids: Vec<String> = (0..1000).map(|n| format!("lamp-{n}")).collect();
    for id in &ids {
        store.insert(id, &Lamp::Off).await.unwrap();
    }
    // A renewal every 200 ms, each given until 400 ms after the last one
    // got through (a CI machine running PostgreSQL and every other test
    // beside this one took more than 200 ms), several of them while the
    // machines are activated.
    let fleet = Fleet::new(store, lamplighter).lease(Duration::from_millis(600));
    let fleet = within(fleet.start()).await.unwrap();
    for id in &ids {
        within(fleet.send(id, Switch::Press)).await.unwrap();
    }
    // Several renewals later, every machine still runs here.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(fleet.active(), ids.len());
    within(fleet.shutdown()).await;
}

/// `passivate` handles what was queued first: no accepted event is
/// dropped, and the next one goes to a new activation.
pub(crate) async fn passivation_drops_nothing_queued<S: Store<Lamp>>(store: S) {
    let fleet = within(Fleet::new(store.clone(), lamplighter).start())
        .await
        .unwrap();
    within(fleet.insert("lamp", Lamp::Off)).await.unwrap();
    for _ in 0..50 {
        within(fleet.post("lamp", Switch::Press)).await.unwrap();
    }
    assert!(within(fleet.passivate("lamp")).await, "it was active");
    assert_eq!(store.get("lamp").await.unwrap().unwrap().version, 50);
    let applied = within(fleet.send("lamp", Switch::Press)).await.unwrap();
    assert!(
        matches!(applied, Applied::Transitioned { seq: 51, .. }),
        "{applied:?}"
    );
    within(fleet.shutdown()).await;
}

/// The lamp `id` as stored once it is off (its timer has fired), polled.
pub(crate) async fn lamp_off<S: Store<Lamp>>(store: &S, id: &str) -> Stored<Lamp> {
    within(async {
        loop {
            let stored = store.get(id).await.unwrap().unwrap();
            if stored.state == Lamp::Off {
                return stored;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
}
