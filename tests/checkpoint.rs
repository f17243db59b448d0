//! Checkpoints and restore: timers on tokio's paused clock.

use std::time::{Duration, SystemTime};

use statewright::{
    state_machine, Applied, Checkpoint, Cx, Handler, Outcome, PendingTimer, RestoreError, Runner,
    RunnerError, RunnerHandle, StateMachine, Step, Transcript,
};
use tokio::time::advance;

mod support;

use support::{within, Log};

#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Light {
    #[initial]
    #[to(Green)]
    Red,
    #[to(Yellow)]
    Green { cars: u32 },
    #[to(Red, Off)]
    Yellow,
    #[terminal]
    Off,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
enum Signal {
    Go,
    Car,
    Expire,
    Note,
}

const GREEN_FOR: Duration = Duration::from_secs(30);

struct Controller {
    log: Log,
}

impl Handler for Controller {
    type State = Light;
    type Event = Signal;

    fn handle(&mut self, state: &Light, event: Signal, _: &mut Cx<Self>) -> Step<Light> {
        self.log
            .push(format!("handle {event:?} in {}", state.kind()));
        match (state, event) {
            (Light::Red, Signal::Go) => Step::to(Light::Green { cars: 0 }),
            (Light::Green { cars }, Signal::Car) => Step::update(Light::Green { cars: cars + 1 }),
            (Light::Green { .. }, Signal::Expire) => Step::to(Light::Yellow),
            (_, Signal::Note) => Step::stay(),
            _ => Step::reject("not now"),
        }
    }

    fn on_enter(&mut self, state: &Light, cx: &mut Cx<Self>) {
        self.log.push(format!("enter {}", state.kind()));
        if let Light::Green { .. } = state {
            cx.set_timeout(GREEN_FOR, Signal::Expire);
        }
    }

    fn on_restore(&mut self, state: &Light, _: &mut Cx<Self>) {
        self.log.push(format!("restore {}", state.kind()));
    }
}

fn controller() -> (Controller, Log) {
    let log = Log::default();
    (Controller { log: log.clone() }, log)
}

/// Lets `time` pass, then waits until everything due has been handled.
async fn pass(handle: &RunnerHandle<Controller>, time: Duration) {
    advance(time).await;
    within(handle.send(Signal::Note)).await.unwrap();
}

/// A checkpoint taken 10 s into Green, with two cars counted.
async fn green_checkpoint() -> Checkpoint<Light, Signal> {
    let (handler, _) = controller();
    let handle = Runner::new(handler, Light::Red).spawn();
    within(handle.send(Signal::Go)).await.unwrap();
    within(handle.send(Signal::Car)).await.unwrap();
    within(handle.send(Signal::Car)).await.unwrap();
    advance(Duration::from_secs(10)).await;
    let checkpoint = within(handle.checkpoint()).await.unwrap();
    handle.stop().unwrap();
    checkpoint
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_holds_the_state_seq_and_timer() {
    let before = SystemTime::now();
    let checkpoint = green_checkpoint().await;
    assert_eq!(checkpoint.machine, "Light");
    assert_eq!(checkpoint.fingerprint, Light::FINGERPRINT);
    assert_eq!(checkpoint.state, Light::Green { cars: 2 });
    assert_eq!(checkpoint.seq, 3);
    let timer = checkpoint.timer.expect("Green's timer");
    assert_eq!(timer.event, Signal::Expire);
    // 20 s of the 30 remain (the paused clock moved 10 s; the wall clock did not).
    let remaining = timer.at.duration_since(before).unwrap();
    assert!(
        remaining >= Duration::from_secs(20) && remaining <= Duration::from_secs(21),
        "{remaining:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_restored_run_goes_on_with_its_seq_and_its_timer_at_the_saved_deadline() {
    let checkpoint = green_checkpoint().await;
    let saved_at = checkpoint.timer.as_ref().unwrap().at;
    let (handler, log) = controller();
    let transcript = Transcript::new();
    let handle = Runner::restore(handler, checkpoint)
        .unwrap()
        .recorder(transcript.clone())
        .spawn();
    // The timer shows at once, before the run has handled anything.
    let snapshot = handle.snapshot();
    assert_eq!(
        (snapshot.state.clone(), snapshot.seq),
        (Light::Green { cars: 2 }, 3)
    );
    assert_eq!(snapshot.timeout_at, Some(saved_at));

    let applied = within(handle.send(Signal::Car)).await.unwrap();
    assert!(matches!(applied, Applied::Transitioned { seq: 4, .. }));
    pass(&handle, Duration::from_secs(19)).await;
    assert_eq!(
        handle.snapshot().state,
        Light::Green { cars: 3 },
        "fired early"
    );
    pass(&handle, Duration::from_secs(2)).await;
    assert_eq!(handle.snapshot().state, Light::Yellow);
    assert_eq!(handle.snapshot().seq, 5);
    assert_eq!(log.count("handle Expire in Green"), 1);

    // Restoring is not an entry: no `on_enter` for Green, no `on_start`.
    let lines = log.lines();
    assert_eq!(lines[0], "restore Green");
    assert_eq!(
        lines.iter().filter(|line| *line == "enter Green").count(),
        0
    );
    let recorded = transcript.lines();
    assert_eq!(recorded[0], "restore Green at seq 3");
    assert!(!recorded.iter().any(|line| line.starts_with("start")));
}

#[tokio::test(start_paused = true)]
async fn a_timer_that_passed_while_stored_fires_at_once_exactly_once() {
    let an_hour_ago = SystemTime::now() - Duration::from_secs(3600);
    let checkpoint = Checkpoint::new(Light::Green { cars: 1 }, 9, an_hour_ago)
        .with_timer(PendingTimer::new(an_hour_ago, Signal::Expire));
    let (handler, log) = controller();
    let handle = Runner::restore(handler, checkpoint).unwrap().spawn();
    pass(&handle, Duration::ZERO).await;
    assert_eq!(handle.snapshot().state, Light::Yellow);
    assert_eq!(handle.snapshot().seq, 10);
    pass(&handle, GREEN_FOR * 4).await;
    assert_eq!(log.count("handle Expire in Green"), 1);
    assert_eq!(log.count("handle Expire in Yellow"), 0);
}

#[tokio::test(start_paused = true)]
async fn a_checkpoint_survives_json_and_restores_the_same_run() {
    let checkpoint = green_checkpoint().await;
    let text = serde_json::to_string(&checkpoint).unwrap();
    let back: Checkpoint<Light, Signal> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, checkpoint);
    let (handler, _) = controller();
    let handle = Runner::restore(handler, back).unwrap().spawn();
    assert_eq!(handle.snapshot().seq, 3);
}

#[test]
fn foreign_changed_and_terminal_checkpoints_are_refused_with_clear_errors() {
    let now = SystemTime::now();
    let mut foreign: Checkpoint<Light, Signal> = Checkpoint::new(Light::Red, 1, now);
    foreign.machine = "TrafficLight".into();
    let error = Runner::restore(controller().0, foreign).unwrap_err();
    assert_eq!(
        error,
        RestoreError::ForeignMachine {
            expected: "Light",
            found: "TrafficLight".into()
        }
    );
    assert_eq!(
        error.to_string(),
        "checkpoint of machine `TrafficLight` cannot restore a `Light`"
    );

    let mut changed: Checkpoint<Light, Signal> = Checkpoint::new(Light::Red, 1, now);
    changed.fingerprint ^= 1;
    let error = Runner::restore(controller().0, changed.clone()).unwrap_err();
    assert!(
        matches!(error, RestoreError::TableChanged { saved, current }
        if saved == Light::FINGERPRINT ^ 1 && current == Light::FINGERPRINT)
    );
    assert!(error
        .to_string()
        .contains("migrate it with `Checkpoint::migrate`"));
    // Migrating is the one way to accept it.
    let migrated = changed.migrate(|light: Light| light);
    assert!(Runner::restore(controller().0, migrated).is_ok());

    let terminal: Checkpoint<Light, Signal> = Checkpoint::new(Light::Off, 7, now);
    let error = Runner::restore(controller().0, terminal).unwrap_err();
    assert_eq!(
        error,
        RestoreError::Terminal {
            state: LightKind::Off
        }
    );

    // A `seq` no run reaches: an edit that would soon wrap `seq + 1`.
    for seq in [i64::MAX as u64, u64::MAX] {
        let edited: Checkpoint<Light, Signal> = Checkpoint::new(Light::Red, seq, now);
        let error = Runner::restore(controller().0, edited).unwrap_err();
        assert_eq!(error, RestoreError::SeqExhausted { seq });
        assert!(error.to_string().contains("past the largest a run reaches"));
    }
    let last: Checkpoint<Light, Signal> = Checkpoint::new(Light::Red, i64::MAX as u64 - 1, now);
    assert!(Runner::restore(controller().0, last).is_ok());
}

#[test]
fn a_checkpoint_whose_timer_event_has_the_wrong_shape_does_not_decode() {
    let text = r#"{"machine":"Light","fingerprint":1,"state":"Red","seq":1,
        "entered_at":{"secs_since_epoch":0,"nanos_since_epoch":0},
        "timer":{"at":{"secs_since_epoch":0,"nanos_since_epoch":0},"event":"Explode"}}"#;
    let error = serde_json::from_str::<Checkpoint<Light, Signal>>(text).unwrap_err();
    assert!(
        error.to_string().contains("unknown variant `Explode`"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_paused_run_answers_and_a_finished_one_says_so() {
    let (handler, _) = controller();
    let handle = Runner::new(handler, Light::Red).spawn();
    handle.pause().unwrap();
    handle.post(Signal::Go).await.unwrap();
    let checkpoint = within(handle.checkpoint()).await.unwrap();
    assert_eq!(
        (checkpoint.state, checkpoint.seq),
        (Light::Red, 0),
        "queued, not handled"
    );
    handle.stop().unwrap();
    within(handle.join()).await;
    let error = within(handle.checkpoint()).await.unwrap_err();
    assert_eq!(error, RunnerError::Finished);
}

#[tokio::test(start_paused = true)]
async fn a_restored_run_dropped_before_it_ran_still_pairs_restore_with_finish() {
    let checkpoint = green_checkpoint().await;
    let transcript = Transcript::new();
    let (handle, run) = Runner::restore(controller().0, checkpoint)
        .unwrap()
        .recorder(transcript.clone())
        .pair();
    drop(run);
    assert_eq!(within(handle.join()).await, Outcome::Aborted);
    assert_eq!(
        transcript.lines(),
        ["restore Green at seq 3", "finish Aborted"]
    );
}

#[test]
fn a_checkpoint_writes_its_fingerprint_in_hex_and_reads_the_old_number_too() {
    let checkpoint: Checkpoint<Light, Signal> =
        Checkpoint::new(Light::Red, 3, SystemTime::UNIX_EPOCH);
    let json = serde_json::to_string(&checkpoint).unwrap();
    let hex = format!(r#""fingerprint":"{:#018x}""#, Light::FINGERPRINT);
    assert!(json.contains(&hex), "{json}");
    assert_eq!(
        serde_json::from_str::<Checkpoint<Light, Signal>>(&json).unwrap(),
        checkpoint
    );
    let number = json.replace(&hex, &format!(r#""fingerprint":{}"#, Light::FINGERPRINT));
    assert_eq!(
        serde_json::from_str::<Checkpoint<Light, Signal>>(&number).unwrap(),
        checkpoint
    );
    let garbled = json.replace(&hex, r#""fingerprint":"0xnope""#);
    assert!(serde_json::from_str::<Checkpoint<Light, Signal>>(&garbled).is_err());
}
