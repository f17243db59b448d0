//! One test per guarantee in the runner's module docs; timers on tokio's paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use statewright::{
    runner::error::FinishedError, state_machine, Applied, Cx, Handler, Outcome, Recorder, Runner,
    RunnerError, RunnerHandle, Status, Step, Transcript,
};
use tokio::time::advance;

mod support;

use support::{poll_once, within, Log, TaskPanics};

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Job {
    #[initial]
    #[to(Running, Failed)]
    Idle,
    #[to(Running, Done, Idle, Failed)]
    Running { step: u32 },
    #[terminal]
    Done,
    #[terminal]
    Failed,
}

// `Note`'s text is read through `Debug`, in the log.
#[allow(dead_code)]
#[derive(Debug)]
enum Ev {
    Start,
    Restart,
    Bump,
    BumpToIdle,
    Rest,
    Finish,
    Skip,
    Note(&'static str),
    Chain,
    Timeout(Duration),
    CancelTimeout,
    Fired,
    Spawn(Duration),
    SpawnPanic,
    TaskDone,
    Refuse,
    Halt,
    Boom,
}

struct Worker {
    log: Log,
}

impl Handler for Worker {
    type State = Job;
    type Event = Ev;

    fn handle(&mut self, state: &Job, event: Ev, cx: &mut Cx<Self>) -> Step<Job> {
        self.log.push(format!("{event:?}"));
        let step = match state {
            Job::Running { step } => *step,
            _ => 0,
        };
        match event {
            Ev::Start | Ev::Restart => Step::to(Job::Running { step: 0 }),
            Ev::Bump => Step::update(Job::Running { step: step + 1 }),
            Ev::BumpToIdle => Step::update(Job::Idle),
            Ev::Rest => Step::to(Job::Idle),
            Ev::Finish => Step::to(Job::Done),
            Ev::Skip => {
                cx.set_timeout(Duration::from_secs(1), Ev::Fired);
                cx.send_self(Ev::Note("never"));
                Step::to(Job::Done)
            }
            Ev::Note(_) | Ev::Fired | Ev::TaskDone => Step::stay(),
            Ev::Chain => {
                cx.send_self(Ev::Note("first"));
                cx.send_self(Ev::Note("second"));
                Step::stay()
            }
            Ev::Timeout(after) => {
                cx.set_timeout(after, Ev::Fired);
                Step::stay()
            }
            Ev::CancelTimeout => {
                cx.cancel_timeout();
                Step::stay()
            }
            Ev::Spawn(after) => {
                cx.spawn(async move {
                    tokio::time::sleep(after).await;
                    Ev::TaskDone
                });
                Step::stay()
            }
            Ev::SpawnPanic => {
                cx.spawn(async { panic!("task fell over") });
                Step::stay()
            }
            Ev::Refuse => {
                cx.set_timeout(Duration::from_secs(1), Ev::Fired);
                Step::reject("not now")
            }
            Ev::Halt => Step::stop(),
            Ev::Boom => panic!("handler fell over"),
        }
    }

    fn on_enter(&mut self, state: &Job, _: &mut Cx<Self>) {
        self.log.push(format!("enter {}", state.kind()));
    }
}

/// Lets `time` pass, then waits until the runner has handled everything that
/// became due (a probe event queues behind it).
async fn pass(handle: &RunnerHandle<Worker>, time: Duration) {
    advance(time).await;
    handle.send(Ev::Note("probe")).await.unwrap();
}

fn new_runner() -> (Runner<Worker>, Log, Transcript) {
    let (log, transcript) = (Log::default(), Transcript::new());
    let runner = Runner::new(Worker { log: log.clone() }, Job::Idle).recorder(transcript.clone());
    (runner, log, transcript)
}

fn finishes(transcript: &Transcript) -> Vec<String> {
    transcript
        .lines()
        .into_iter()
        .filter(|line| line.starts_with("finish"))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn events_run_in_order_and_send_self_goes_first() {
    let (runner, log, _) = new_runner();
    let handle = runner.spawn();
    handle.pause().unwrap();
    handle.post(Ev::Chain).await.unwrap();
    handle.post(Ev::Note("queued")).await.unwrap();
    handle.resume().unwrap();
    handle.send(Ev::Note("last")).await.unwrap();
    assert_eq!(
        log.lines(),
        [
            "enter Idle",
            "Chain",
            "Note(\"first\")",
            "Note(\"second\")",
            "Note(\"queued\")",
            "Note(\"last\")"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn an_illegal_step_is_refused_and_changes_nothing() {
    let (runner, log, transcript) = new_runner();
    let handle = runner.spawn();
    handle
        .send(Ev::Timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    let before = handle.snapshot();

    let error = handle.send(Ev::Skip).await.unwrap_err();
    let RunnerError::Illegal(error) = error else {
        panic!("expected Illegal, got {error:?}")
    };
    assert_eq!((error.from(), error.to()), (JobKind::Idle, JobKind::Done));

    let after = handle.snapshot();
    assert_eq!(after.state, Job::Idle);
    assert_eq!(after.seq, before.seq);
    assert_eq!(after.timeout_at, before.timeout_at, "the old timer is kept");
    assert!(transcript
        .lines()
        .contains(&"rejected in Idle: illegal transition in `Job`: `Idle` -> `Done` (allowed: `Running`, `Failed`)".to_string()));
    pass(&handle, Duration::from_secs(2)).await;
    assert!(!log.lines().contains(&"Note(\"never\")".to_string()));
    assert!(
        !log.lines().contains(&"Fired".to_string()),
        "the refused step's 1 s timer was not set"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_event_applies_no_requests() {
    let (runner, log, transcript) = new_runner();
    let handle = runner.spawn();
    let applied = handle.send(Ev::Refuse).await.unwrap();
    assert_eq!(
        applied,
        Applied::Rejected {
            reason: "not now".into()
        }
    );
    assert_eq!(handle.snapshot().timeout_at, None);
    pass(&handle, Duration::from_secs(5)).await;
    assert!(!log.lines().contains(&"Fired".to_string()));
    assert!(transcript
        .lines()
        .contains(&"rejected in Idle: refused: not now".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_self_edge_reenters_and_an_update_does_not() {
    let (runner, log, _) = new_runner();
    let handle = runner.spawn();
    let mut transitions = handle.subscribe();
    handle.send(Ev::Start).await.unwrap();
    handle
        .send(Ev::Timeout(Duration::from_secs(10)))
        .await
        .unwrap();

    handle.send(Ev::Bump).await.unwrap();
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.state, Job::Running { step: 1 });
    assert!(snapshot.timeout_at.is_some(), "an update keeps the timer");

    handle.send(Ev::Restart).await.unwrap();
    assert_eq!(
        handle.snapshot().timeout_at,
        None,
        "re-entry cancels the timer"
    );
    assert_eq!(log.count("enter Running"), 2);

    let error = handle.send(Ev::BumpToIdle).await.unwrap_err();
    assert!(matches!(error, RunnerError::KindChanged(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "update in `Job` must keep the kind: `Running` -> `Idle` is a transition; return `Step::to`"
    );

    handle.send(Ev::Rest).await.unwrap();
    let error = handle.send(Ev::Rest).await.unwrap_err();
    assert!(
        matches!(error, RunnerError::Illegal(ref e) if e.from() == JobKind::Idle && e.to() == JobKind::Idle),
        "no self-edge on `Idle`, so re-entering it is refused: {error:?}"
    );

    let seen: Vec<_> = [(); 4]
        .iter()
        .map(|()| transitions.try_recv().unwrap())
        .map(|t| (t.seq, t.update, t.to.kind()))
        .collect();
    assert_eq!(
        seen,
        [
            (1, false, JobKind::Running),
            (2, true, JobKind::Running),
            (3, false, JobKind::Running),
            (4, false, JobKind::Idle)
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn one_timer_replaced_by_set_cancelled_by_transitions() {
    let (runner, log, _) = new_runner();
    let handle = runner.spawn();

    handle
        .send(Ev::Timeout(Duration::from_secs(10)))
        .await
        .unwrap();
    let before = SystemTime::now();
    handle
        .send(Ev::Timeout(Duration::from_secs(20)))
        .await
        .unwrap();
    let after = SystemTime::now();
    let deadline = handle
        .snapshot()
        .timeout_at
        .expect("deadline in the snapshot");
    // The paused clock stands still; the wall clock does not, so the
    // deadline is 20 s after some moment during the send.
    let twenty = Duration::from_secs(20);
    assert!(
        before + twenty <= deadline && deadline <= after + twenty,
        "{deadline:?} is not 20 s after the send"
    );
    pass(&handle, Duration::from_secs(15)).await;
    assert_eq!(log.count("Fired"), 0, "the 10 s timer was replaced");
    pass(&handle, Duration::from_secs(6)).await;
    assert_eq!(log.count("Fired"), 1);
    assert_eq!(handle.snapshot().timeout_at, None);

    handle
        .send(Ev::Timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    let mut transitions = handle.subscribe();
    handle.send(Ev::Start).await.unwrap();
    assert_eq!(within(transitions.recv()).await.unwrap().timeout_at, None);
    pass(&handle, Duration::from_secs(10)).await;
    assert_eq!(log.count("Fired"), 1, "the transition cancelled the timer");

    handle
        .send(Ev::Timeout(Duration::from_secs(5)))
        .await
        .unwrap();
    handle.send(Ev::CancelTimeout).await.unwrap();
    pass(&handle, Duration::from_secs(10)).await;
    assert_eq!(log.count("Fired"), 1, "cancel_timeout cancels");
}

#[tokio::test(start_paused = true)]
async fn tasks_report_back_and_die_with_their_state() {
    let (runner, log, _) = new_runner();
    let (panics, mut task_panics) = tokio::sync::mpsc::unbounded_channel();
    let handle = runner.recorder(TaskPanics(panics)).spawn();

    handle
        .send(Ev::Spawn(Duration::from_secs(1)))
        .await
        .unwrap();
    pass(&handle, Duration::from_secs(2)).await;
    assert_eq!(log.count("TaskDone"), 1, "the output came back as an event");

    handle
        .send(Ev::Spawn(Duration::from_secs(5)))
        .await
        .unwrap();
    handle.send(Ev::Start).await.unwrap();
    pass(&handle, Duration::from_secs(10)).await;
    assert_eq!(
        log.count("TaskDone"),
        1,
        "leaving the state aborted the task"
    );

    handle.send(Ev::SpawnPanic).await.unwrap();
    let message = within(task_panics.recv()).await;
    assert_eq!(message.as_deref(), Some("task fell over"));
    assert_eq!(handle.snapshot().status, Status::Running);
}

#[tokio::test(start_paused = true)]
async fn pause_holds_events_and_timers_in_order() {
    let (runner, log, _) = new_runner();
    let handle = runner.spawn();
    handle
        .send(Ev::Timeout(Duration::from_secs(1)))
        .await
        .unwrap();
    handle.pause().unwrap();
    handle.post(Ev::Note("a")).await.unwrap();
    handle.post(Ev::Start).await.unwrap();
    advance(Duration::from_secs(5)).await;
    let mut watch = handle.watch();
    let paused = within(watch.wait_for(|s| s.status == Status::Paused))
        .await
        .unwrap()
        .clone();
    assert_eq!(paused.state, Job::Idle);
    assert!(!log.lines().contains(&"Fired".to_string()));

    handle.resume().unwrap();
    handle.send(Ev::Note("b")).await.unwrap();
    let tail: Vec<_> = log.lines().into_iter().skip(2).collect();
    assert_eq!(
        tail,
        [
            "Fired",
            "Note(\"a\")",
            "Start",
            "enter Running",
            "Note(\"b\")"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn stop_and_terminal_states_end_the_run() {
    let (runner, _, transcript) = new_runner();
    let handle = runner.spawn();
    handle.stop().unwrap();
    assert_eq!(within(handle.join()).await, Outcome::Stopped(Job::Idle));
    assert_eq!(
        handle.send(Ev::Start).await.unwrap_err(),
        RunnerError::Finished
    );
    assert_eq!(handle.pause().unwrap_err(), FinishedError);
    assert_eq!(handle.snapshot().status, Status::Stopped);
    assert_eq!(finishes(&transcript), ["finish Stopped(Idle)"]);

    let (runner, _, transcript) = new_runner();
    let handle = runner.spawn();
    handle.pause().unwrap();
    handle.post(Ev::Start).await.unwrap();
    handle.post(Ev::Finish).await.unwrap();
    let mut late = std::pin::pin!(handle.send(Ev::Note("late")));
    assert!(
        poll_once(late.as_mut()).await.is_none(),
        "queued behind `Finish`, waiting for its reply"
    );
    handle.resume().unwrap();
    assert_eq!(within(handle.join()).await, Outcome::Completed(Job::Done));
    assert_eq!(within(late).await.unwrap_err(), RunnerError::Finished);
    assert_eq!(handle.snapshot().status, Status::Completed);
    assert_eq!(finishes(&transcript), ["finish Completed(Done)"]);

    let (runner, _, _) = new_runner();
    let handle = runner.spawn();
    assert_eq!(handle.send(Ev::Halt).await.unwrap(), Applied::Stopped);
    assert_eq!(within(handle.join()).await, Outcome::Stopped(Job::Idle));
}

#[tokio::test(start_paused = true)]
async fn a_handler_panic_crashes_the_run_and_finishes_once() {
    let (runner, _, transcript) = new_runner();
    let handle = runner.spawn();
    let mut watch = handle.watch();
    let error = handle.send(Ev::Boom).await.unwrap_err();
    assert_eq!(
        error,
        RunnerError::Crashed {
            message: "handler fell over".into()
        }
    );
    let outcome = within(handle.join()).await;
    assert_eq!(
        outcome,
        Outcome::Crashed {
            message: "handler fell over".into()
        }
    );
    let status = within(watch.wait_for(|s| s.status.is_finished()))
        .await
        .unwrap()
        .status;
    assert_eq!(status, Status::Crashed);
    assert_eq!(finishes(&transcript), ["finish Crashed: handler fell over"]);
}

#[test]
fn dropping_the_runtime_aborts_and_finishes_once() {
    let transcript = Transcript::new();
    let handle = {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let handle = runtime.block_on(async {
            let log = Log::default();
            let handle = Runner::new(Worker { log }, Job::Idle)
                .recorder(transcript.clone())
                .spawn();
            handle.send(Ev::Start).await.unwrap();
            handle
        });
        drop(runtime);
        handle
    };
    assert_eq!(finishes(&transcript), ["finish Aborted"]);
    assert_eq!(handle.snapshot().status, Status::Aborted);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_plain_future_aborts() {
    let (runner, _, transcript) = new_runner();
    let (handle, run) = runner.pair();
    let task = tokio::spawn(run);
    handle.send(Ev::Start).await.unwrap();
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    assert_eq!(within(handle.join()).await, Outcome::Aborted);
    assert_eq!(finishes(&transcript), ["finish Aborted"]);
}

struct Explosive;

impl Recorder<Worker> for Explosive {
    fn on_event(&mut self, _: &Job, _: &Ev) {
        panic!("recorder fell over");
    }
}

#[tokio::test(start_paused = true)]
async fn a_panicking_recorder_is_isolated() {
    let transcript = Transcript::new();
    let handle = Runner::new(
        Worker {
            log: Log::default(),
        },
        Job::Idle,
    )
    .recorder(Explosive)
    .recorder(transcript.clone())
    .spawn();
    handle.send(Ev::Start).await.unwrap();
    handle.send(Ev::Finish).await.unwrap();
    assert_eq!(within(handle.join()).await, Outcome::Completed(Job::Done));
    assert_eq!(
        transcript.lines(),
        [
            "start Idle",
            "event Start in Idle",
            "transition #1 Idle -> Running",
            "event Finish in Running",
            "transition #2 Running -> Done",
            "finish Completed(Done)"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_snapshot_is_current_before_the_reply_and_lag_is_visible() {
    let (runner, _, _) = new_runner();
    let handle = runner.capacity(8).spawn();
    let mut lagging = handle.subscribe();
    handle.send(Ev::Start).await.unwrap();
    for expected in 2..=2000 {
        let applied = handle.send(Ev::Bump).await.unwrap();
        assert!(matches!(applied, Applied::Transitioned { seq, .. } if seq == expected));
        assert_eq!(handle.snapshot().seq, expected, "snapshot before reply");
    }
    let error = within(lagging.recv()).await.unwrap_err();
    assert!(matches!(
        error,
        tokio::sync::broadcast::error::RecvError::Lagged(_)
    ));
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.seq, 2000);
    assert_eq!(snapshot.state, Job::Running { step: 1999 });
}

/// Posted events nobody watches live reach the snapshot once per drained
/// batch; the batch must still be written before the run waits again, and a
/// subscriber must never find the snapshot behind what it received.
#[tokio::test(start_paused = true)]
async fn posted_events_reach_the_snapshot_before_the_run_waits() {
    let runner = Runner::new(
        Worker {
            log: Log::default(),
        },
        Job::Idle,
    );
    let handle = runner.capacity(64).spawn();
    let mut watcher = handle.watch();
    handle.post(Ev::Start).await.unwrap();
    for _ in 0..40 {
        handle.post(Ev::Bump).await.unwrap();
    }
    let snapshot = within(watcher.wait_for(|snapshot| snapshot.seq == 41))
        .await
        .expect("the batch reaches the watch channel")
        .clone();
    assert_eq!(snapshot.state, Job::Running { step: 40 });
    assert_eq!(handle.snapshot().seq, 41);
}

/// Reads the snapshot from inside `on_transition`: it must already show
/// the transition being recorded.
struct SnapshotProbe {
    handle: Arc<OnceLock<RunnerHandle<Worker>>>,
    behind: Arc<AtomicUsize>,
}

impl Recorder<Worker> for SnapshotProbe {
    fn on_transition(&mut self, transition: &statewright::Transition<Job>) {
        let handle = self.handle.get().expect("set before the first event");
        if handle.snapshot().seq < transition.seq {
            self.behind.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_recorder_never_finds_the_snapshot_behind() {
    let (slot, behind) = (Arc::new(OnceLock::new()), Arc::new(AtomicUsize::new(0)));
    let probe = SnapshotProbe {
        handle: Arc::clone(&slot),
        behind: Arc::clone(&behind),
    };
    let runner = Runner::new(
        Worker {
            log: Log::default(),
        },
        Job::Idle,
    )
    .recorder(probe);
    let handle = runner.spawn();
    assert!(slot.set(handle.clone()).is_ok());
    handle.post(Ev::Start).await.unwrap();
    for _ in 0..20 {
        handle.post(Ev::Bump).await.unwrap();
    }
    handle.send(Ev::Bump).await.unwrap();
    handle.stop().unwrap();
    assert_eq!(handle.snapshot().seq, 22);
    assert_eq!(
        behind.load(Ordering::Relaxed),
        0,
        "snapshot behind a recorded transition"
    );
}

/// Collects the event text of every transition it records.
struct EventTexts(Arc<std::sync::Mutex<Vec<String>>>);

impl Recorder<Worker> for EventTexts {
    fn on_transition(&mut self, transition: &statewright::Transition<Job>) {
        let mut texts = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        texts.push(transition.event.clone());
    }
}

/// Each transition's text is its own event's, whether recorders alone saw
/// the one before (its buffer is reused) or a subscriber kept it.
#[tokio::test(start_paused = true)]
async fn each_transition_carries_its_own_event_text() {
    let texts = Arc::new(std::sync::Mutex::new(Vec::new()));
    let runner = Runner::new(
        Worker {
            log: Log::default(),
        },
        Job::Idle,
    )
    .recorder(EventTexts(Arc::clone(&texts)));
    let handle = runner.spawn();
    for event in [Ev::Start, Ev::Rest, Ev::Restart, Ev::Bump] {
        handle.send(event).await.unwrap();
    }
    let mut subscriber = handle.subscribe();
    for event in [Ev::Rest, Ev::Restart, Ev::Bump, Ev::Finish] {
        handle.send(event).await.unwrap();
    }
    let mut seen = Vec::new();
    for _ in 0..4 {
        seen.push(within(subscriber.recv()).await.unwrap().event.clone());
    }
    assert_eq!(seen, ["Rest", "Restart", "Bump", "Finish"]);
    let recorded = texts.lock().unwrap().clone();
    assert_eq!(
        recorded,
        ["Start", "Rest", "Restart", "Bump", "Rest", "Restart", "Bump", "Finish"]
    );
}

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Door {
    #[initial]
    #[on(open => Open)]
    Closed,
    #[on(close => Closed, lock => Locked)]
    Open,
    #[terminal]
    Locked,
}

#[tokio::test(start_paused = true)]
async fn a_table_only_machine_runs_without_a_handler() {
    let handle = Runner::fire_events(Door::Closed).spawn();
    let applied = handle.send(DoorEvent::Open).await.unwrap();
    assert!(matches!(
        applied,
        Applied::Transitioned { to: Door::Open, .. }
    ));
    let refused = handle.send(DoorEvent::Open).await.unwrap();
    assert_eq!(
        refused,
        Applied::Rejected {
            reason:
                "event `open` is not accepted in state `Open` of `Door` (accepted: `close`, `lock`)"
                    .into()
        }
    );
    handle.send(DoorEvent::Lock).await.unwrap();
    assert_eq!(
        within(handle.join()).await,
        Outcome::Completed(Door::Locked)
    );
}

/// Handles cross threads and tasks; so do the futures of `send` and `join`.
#[test]
fn handles_and_their_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    let (handle, run) = new_runner().0.pair();
    send_sync(&handle);
    send(&run);
    send(&handle.send(Ev::Start));
    send(&handle.post(Ev::Start));
    send(&handle.join());
    send_sync(&handle.snapshot());
}
