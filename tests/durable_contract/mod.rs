//! The durable runner's contract, as test bodies generic over the store.
#![allow(dead_code)]

use statewright::store::{Store, StoreError};
use statewright::{
    state_machine, Applied, Cx, Handler, Outcome, Recorder, Runner, RunnerError, Status, Step,
    Transition,
};

use crate::support::{within, Log};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Order {
    #[initial]
    #[to(Paid, Cancelled)]
    Open { items: u32 },
    #[to(Shipped)]
    Paid,
    #[terminal]
    Shipped,
    #[terminal]
    Cancelled,
}

#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(crate) enum Command {
    Add,
    Pay,
    Ship,
}

pub(crate) struct Clerk {
    log: Log,
}

impl Handler for Clerk {
    type State = Order;
    type Event = Command;

    fn handle(&mut self, state: &Order, command: Command, _: &mut Cx<Self>) -> Step<Order> {
        match (state, command) {
            (Order::Open { items }, Command::Add) => Step::update(Order::Open { items: items + 1 }),
            (Order::Open { .. }, Command::Pay) => Step::to(Order::Paid),
            (_, Command::Ship) => Step::to(Order::Shipped),
            _ => Step::reject("not now"),
        }
    }

    fn on_enter(&mut self, state: &Order, _: &mut Cx<Self>) {
        self.log.push(format!("enter {}", state.kind()));
    }

    fn on_restore(&mut self, state: &Order, _: &mut Cx<Self>) {
        self.log.push(format!("restore {}", state.kind()));
    }
}

pub(crate) fn clerk() -> (Clerk, Log) {
    let log = Log::default();
    (Clerk { log: log.clone() }, log)
}

/// Every accepted step is saved before the reply; refused ones are not.
pub(crate) async fn saves_before_the_reply<S: Store<Order>>(store: S) {
    store.insert("o", &Order::Open { items: 0 }).await.unwrap();
    let (handler, log) = clerk();
    let order = Runner::load(handler, store.clone(), "o")
        .await
        .unwrap()
        .spawn();
    let mut transitions = order.subscribe();

    within(order.send(Command::Add)).await.unwrap();
    let saved = store.get("o").await.unwrap().unwrap();
    assert_eq!(
        (saved.state, saved.version),
        (Order::Open { items: 1 }, 1),
        "an update is saved"
    );

    // Refused by the table: nothing is written.
    let error = within(order.send(Command::Ship)).await.unwrap_err();
    assert!(matches!(error, RunnerError::Illegal(_)), "{error}");
    let added = within(order.send(Command::Add)).await.unwrap();
    assert!(matches!(added, Applied::Transitioned { seq: 2, .. }));
    assert_eq!(store.get("o").await.unwrap().unwrap().version, 2);

    let applied = within(order.send(Command::Pay)).await.unwrap();
    assert!(matches!(applied, Applied::Transitioned { seq: 3, .. }));
    let saved = store.get("o").await.unwrap().unwrap();
    assert_eq!((saved.state, saved.version), (Order::Paid, 3));
    assert_eq!(order.snapshot().seq, 3);
    // Refused by the handler: nothing is written either.
    let refused = within(order.send(Command::Add)).await.unwrap();
    assert!(matches!(refused, Applied::Rejected { .. }));
    assert_eq!(store.get("o").await.unwrap().unwrap().version, 3);

    // A subscriber hears of a change only once the store has it.
    for _ in 0..3 {
        let transition = within(transitions.recv()).await.unwrap();
        let stored = store.get("o").await.unwrap().unwrap().version;
        assert!(
            stored >= transition.seq,
            "broadcast #{} before the write",
            transition.seq
        );
    }
    // The outbox holds exactly the three saved steps.
    let changes = store.changes_since(0, 10).await.unwrap();
    let versions: Vec<u64> = changes.iter().map(|change| change.version).collect();
    assert_eq!(versions, [1, 2, 3]);
    // Loading is not an entry.
    assert_eq!(log.lines()[0], "restore Open");
    assert_eq!(log.count("enter Open"), 0);
}

/// A lost race is not applied and ends the run.
pub(crate) async fn lost_race<S: Store<Order>>(store: S) {
    store.insert("o", &Order::Open { items: 0 }).await.unwrap();
    let (handler, _) = clerk();
    let order = Runner::load(handler, store.clone(), "o")
        .await
        .unwrap()
        .spawn();
    // Another writer (another process, say) moves the machine.
    store.transition("o", 0, Order::Cancelled).await.unwrap();

    let error = within(order.send(Command::Pay)).await.unwrap_err();
    match &error {
        RunnerError::NotSaved { message, .. } => assert!(
            message.contains("is at version 1, not 0: another writer moved it first"),
            "{message}"
        ),
        other => panic!("expected NotSaved, got {other}"),
    }
    // The store's own error is behind it, typed.
    let stale = std::error::Error::source(&error)
        .and_then(|source| source.downcast_ref::<StoreError<OrderKind>>());
    assert!(
        matches!(
            stale,
            Some(StoreError::Stale {
                expected: 0,
                actual: 1,
                ..
            })
        ),
        "{stale:?}"
    );
    let outcome = within(order.join()).await;
    assert!(matches!(&outcome, Outcome::Lost { .. }), "{outcome}");
    let snapshot = order.snapshot();
    assert_eq!(snapshot.status, Status::Lost);
    assert_eq!(
        (snapshot.state, snapshot.seq),
        (Order::Open { items: 0 }, 0),
        "not applied"
    );
    // The store keeps the other writer's change.
    assert_eq!(
        store.get("o").await.unwrap().unwrap().state,
        Order::Cancelled
    );
    assert!(matches!(
        within(order.send(Command::Add)).await,
        Err(RunnerError::Finished)
    ));
}

/// Kills the process right after a transition is saved, before its reply.
pub(crate) struct CrashAfterSave;

impl Recorder<Clerk> for CrashAfterSave {
    fn on_transition(&mut self, _: &Transition<Order>) {
        std::process::abort();
    }
}

/// In a child process: loads order `o` and sends `Pay`; the recorder kills
/// the process after the write, before the reply.
pub(crate) async fn crash_after_save<S: Store<Order>>(store: S) {
    let order = Runner::load(clerk().0, store, "o")
        .await
        .unwrap()
        .recorder(CrashAfterSave)
        .spawn();
    let _ = order.send(Command::Pay).await;
    unreachable!("the recorder aborts the process before the reply");
}

/// In the parent, after the child died: the next load sees the write.
pub(crate) async fn after_the_crash<S: Store<Order>>(store: S) {
    let saved = store.get("o").await.unwrap().unwrap();
    assert_eq!((saved.state.clone(), saved.version), (Order::Paid, 1));
    let (handler, log) = clerk();
    let order = Runner::load(handler, store.clone(), "o")
        .await
        .unwrap()
        .spawn();
    assert_eq!(order.snapshot().seq, 1);
    within(order.send(Command::Ship)).await.unwrap();
    assert_eq!(
        within(order.join()).await,
        Outcome::Completed(Order::Shipped)
    );
    assert_eq!(store.get("o").await.unwrap().unwrap().version, 2);
    assert_eq!(log.lines(), ["restore Paid", "enter Shipped"]);
}

/// A lamp that turns itself off: entering `On` sets the state timer, a
/// `Snooze` (a step that stays) sets it again, and `TimeUp` turns it off.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Lamp {
    #[initial]
    #[to(On)]
    Off,
    #[to(Off)]
    On,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Switch {
    Press,
    Snooze,
    TimeUp,
}

/// Keeps the lamp on for `on_for` after it is switched on or snoozed.
pub(crate) struct Lamplighter {
    pub(crate) on_for: std::time::Duration,
}

impl Handler for Lamplighter {
    type State = Lamp;
    type Event = Switch;

    fn handle(&mut self, state: &Lamp, switch: Switch, cx: &mut Cx<Self>) -> Step<Lamp> {
        match (state, switch) {
            (Lamp::Off, Switch::Press) => Step::to(Lamp::On),
            (Lamp::On, Switch::Press | Switch::TimeUp) => Step::to(Lamp::Off),
            (Lamp::On, Switch::Snooze) => {
                cx.set_timeout(self.on_for * 2, Switch::TimeUp);
                Step::stay()
            }
            _ => Step::reject("nothing to do"),
        }
    }

    fn on_enter(&mut self, state: &Lamp, cx: &mut Cx<Self>) {
        if *state == Lamp::On {
            cx.set_timeout(self.on_for, Switch::TimeUp);
        }
    }
}

/// The run's deadline is on tokio's clock; the stored one is that deadline
/// read on the wall clock when it was written, so the two agree to within
/// the time it took to write.
fn assert_close(stored: std::time::SystemTime, run: Option<std::time::SystemTime>) {
    let run = run.expect("a timer in the run");
    let apart = run
        .duration_since(stored)
        .or_else(|_| stored.duration_since(run))
        .unwrap_or_default();
    assert!(
        apart < std::time::Duration::from_secs(1),
        "{stored:?} vs {run:?}"
    );
}

/// The stored timer, as its deadline and its event.
async fn stored_timer<S: Store<Lamp>>(
    store: &S,
    id: &str,
) -> Option<(std::time::SystemTime, String)> {
    let stored = store.get(id).await.unwrap().unwrap();
    stored.timer.map(|timer| (timer.at, timer.event))
}

/// The state timer is saved with the step that set it (the entry of `On`),
/// and alone by a step that stays (`Snooze`), before the reply; a run
/// loaded after a stop re-arms it, it fires once, and the step it causes
/// clears it in the same write.
pub(crate) async fn timers_survive_a_restart<S: Store<Lamp>>(
    store: S,
    on_for: std::time::Duration,
) {
    let lamp = Lamplighter { on_for };
    let handle = Runner::insert(lamp, Lamp::Off, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    within(handle.send(Switch::Press)).await.unwrap();
    let (at, event) = stored_timer(&store, "lamp")
        .await
        .expect("saved with the step");
    assert_eq!(event, "\"TimeUp\"");
    assert_close(at, handle.snapshot().timeout_at);
    // A step that stays and sets the timer writes it, not a version.
    within(handle.send(Switch::Snooze)).await.unwrap();
    let (snoozed, _) = stored_timer(&store, "lamp").await.unwrap();
    assert!(snoozed > at, "{snoozed:?} after {at:?}");
    assert_eq!(store.get("lamp").await.unwrap().unwrap().version, 1);
    handle.stop().unwrap();
    within(handle.join()).await;

    // Loaded elsewhere: the timer is armed again and fires once.
    let lamp = Lamplighter { on_for };
    let handle = Runner::load(lamp, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    assert_close(snoozed, handle.snapshot().timeout_at);
    let off = within(handle.wait_for(|snapshot| snapshot.state == Lamp::Off)).await;
    assert_eq!(off.seq, 2);
    let stored = store.get("lamp").await.unwrap().unwrap();
    assert_eq!(
        (stored.state, stored.version, stored.timer),
        (Lamp::Off, 2, None)
    );
    handle.stop().unwrap();
    within(handle.join()).await;

    let lamp = Lamplighter { on_for };
    let handle = Runner::load(lamp, store.clone(), "lamp")
        .await
        .unwrap()
        .spawn();
    assert_eq!(handle.snapshot().timeout_at, None);
    handle.stop().unwrap();
    within(handle.join()).await;
}
