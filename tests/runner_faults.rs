//! The runner under faults: every way a run can end, panics in every hook,
//! races between control requests, timers and tasks, and bad arguments.
//! Each case asserts the outcome, the final `Status` and that `on_start`
//! and `on_finish` ran **exactly once**; every wait is under a timeout.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use statewright::runner::error::TryPostError;
use statewright::{
    state_machine, Applied, Cx, Handler, Outcome, Recorder, Runner, RunnerError, RunnerHandle,
    Status, Step, Transcript,
};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;
use tokio::time::{advance, Instant};

mod support;

use support::{within, Log, TaskPanics};

#[state_machine]
#[derive(Debug, Clone, PartialEq)]
enum Job {
    #[initial]
    #[to(Running, Failed)]
    Idle,
    #[to(Done, Idle, Failed)]
    Running,
    #[terminal]
    Done,
    #[terminal]
    Failed,
}

#[derive(Debug)]
enum Ev {
    Start,
    Rest,
    Finish,
    Note,
    Halt,
    Boom,
    Fired,
    Timeout(Duration),
    TimeoutAt(Instant),
    /// A timer that delivers `Start`.
    StartIn(Duration),
    /// Spawns a task that panics once the first `Notify` is notified,
    /// notifying the second just before.
    SpawnPanicLater(Arc<Notify>, Arc<Notify>),
    /// Spawns a task that never finishes; the guard counts its drop.
    SpawnForever(DropGuard),
    Poison(Poisoned),
    Refresh,
}

/// Its `Debug` panics.
struct Poisoned;

impl std::fmt::Debug for Poisoned {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug fell over")
    }
}

/// Tells the test when the future holding it is dropped.
#[derive(Debug)]
struct DropGuard(tokio::sync::mpsc::UnboundedSender<()>);

impl Drop for DropGuard {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// Which hooks of the handler panic.
#[derive(Default, Clone, Copy)]
struct Faults {
    on_initial_enter: bool,
}

struct Worker {
    faults: Faults,
    log: Log,
    /// What `on_enter` asks of the initial state, to check each `Cx` request there.
    initial: fn(&mut Cx<Worker>),
}

impl Worker {
    fn new(log: &Log) -> Self {
        Self {
            faults: Faults::default(),
            log: log.clone(),
            initial: |_| {},
        }
    }
}

impl Handler for Worker {
    type State = Job;
    type Event = Ev;

    fn handle(&mut self, state: &Job, event: Ev, cx: &mut Cx<Self>) -> Step<Job> {
        let line = match &event {
            Ev::Poison(_) => "Poison".to_string(),
            other => format!("{other:?}"),
        };
        self.log.push(format!("{line} in {}", state.kind()));
        match event {
            Ev::Start | Ev::Poison(_) => Step::to(Job::Running),
            Ev::Rest => Step::to(Job::Idle),
            Ev::Finish => Step::to(Job::Done),
            Ev::Note | Ev::Fired => Step::stay(),
            Ev::Halt => Step::stop(),
            Ev::Boom => panic!("handler fell over"),
            Ev::Timeout(after) => {
                cx.set_timeout(after, Ev::Fired);
                Step::stay()
            }
            Ev::TimeoutAt(deadline) => {
                cx.set_timeout_at(deadline, Ev::Fired);
                Step::stay()
            }
            Ev::StartIn(after) => {
                cx.set_timeout(after, Ev::Start);
                Step::stay()
            }
            Ev::SpawnPanicLater(go, panicking) => {
                cx.spawn(async move {
                    go.notified().await;
                    panicking.notify_one();
                    panic!("task fell over")
                });
                Step::stay()
            }
            Ev::SpawnForever(guard) => {
                cx.spawn(async move {
                    let _guard = guard;
                    std::future::pending().await
                });
                Step::stay()
            }
            Ev::Refresh => Step::update(Job::Running),
        }
    }

    fn on_enter(&mut self, state: &Job, cx: &mut Cx<Self>) {
        self.log.push(format!("enter {}", state.kind()));
        if *state == Job::Idle {
            assert!(!self.faults.on_initial_enter, "on_enter fell over");
            (self.initial)(cx);
        }
    }
}

/// Counts `on_start` and `on_finish`, remembers the outcome, and can panic
/// in either hook.
#[derive(Clone, Default)]
struct Counter {
    starts: Arc<AtomicUsize>,
    finishes: Arc<AtomicUsize>,
    outcome: Arc<Mutex<Option<String>>>,
    panic_on_start: bool,
    panic_on_finish: bool,
}

impl Counter {
    fn panicking(on_start: bool, on_finish: bool) -> Self {
        Self {
            panic_on_start: on_start,
            panic_on_finish: on_finish,
            ..Self::default()
        }
    }

    /// Exactly one `on_start`, exactly one `on_finish`, with this outcome.
    #[track_caller]
    fn assert_once(&self, outcome: &str) {
        assert_eq!(self.starts.load(Ordering::SeqCst), 1, "on_start count");
        assert_eq!(self.finishes.load(Ordering::SeqCst), 1, "on_finish count");
        assert_eq!(self.outcome.lock().unwrap().as_deref(), Some(outcome));
    }
}

impl Recorder<Worker> for Counter {
    fn on_start(&mut self, _: &statewright::Snapshot<Job>) {
        self.starts.fetch_add(1, Ordering::SeqCst);
        assert!(!self.panic_on_start, "recorder fell over in on_start");
    }

    fn on_finish(&mut self, outcome: &Outcome<Job>) {
        self.finishes.fetch_add(1, Ordering::SeqCst);
        *self.outcome.lock().unwrap() = Some(outcome.to_string());
        assert!(!self.panic_on_finish, "recorder fell over in on_finish");
    }
}

fn runner(worker: Worker) -> (Runner<Worker>, Counter) {
    let counter = Counter::default();
    (
        Runner::new(worker, Job::Idle).recorder(counter.clone()),
        counter,
    )
}

async fn ended(handle: &RunnerHandle<Worker>) -> (Outcome<Job>, Status) {
    let outcome = within(handle.join()).await;
    (outcome, handle.snapshot().status)
}

#[tokio::test(start_paused = true)]
async fn stop_ends_the_run_once() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    handle.send(Ev::Start).await.unwrap();
    handle.stop().unwrap();
    assert_eq!(
        ended(&handle).await,
        (Outcome::Stopped(Job::Running), Status::Stopped)
    );
    counter.assert_once("Stopped(Running)");
}

#[tokio::test(start_paused = true)]
async fn a_terminal_state_completes_the_run_once() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    handle.send(Ev::Start).await.unwrap();
    handle.send(Ev::Finish).await.unwrap();
    assert_eq!(
        ended(&handle).await,
        (Outcome::Completed(Job::Done), Status::Completed)
    );
    counter.assert_once("Completed(Done)");
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_handle_crashes_the_run_once() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    let crashed = RunnerError::Crashed {
        message: "handler fell over".into(),
    };
    assert_eq!(handle.send(Ev::Boom).await.unwrap_err(), crashed);
    let outcome = Outcome::Crashed {
        message: "handler fell over".into(),
    };
    assert_eq!(ended(&handle).await, (outcome, Status::Crashed));
    counter.assert_once("Crashed: handler fell over");
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_the_initial_on_enter_crashes_the_run_once() {
    let mut worker = Worker::new(&Log::default());
    worker.faults.on_initial_enter = true;
    let (runner, counter) = runner(worker);
    let handle = runner.spawn();
    let outcome = Outcome::Crashed {
        message: "on_enter fell over".into(),
    };
    assert_eq!(ended(&handle).await, (outcome, Status::Crashed));
    assert_eq!(
        handle.send(Ev::Note).await.unwrap_err(),
        RunnerError::Finished
    );
    counter.assert_once("Crashed: on_enter fell over");
}

#[tokio::test(start_paused = true)]
async fn recorders_that_panic_in_on_start_or_on_finish_are_isolated() {
    let (panicky_start, panicky_finish) = (
        Counter::panicking(true, false),
        Counter::panicking(false, true),
    );
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner
        .recorder(panicky_start.clone())
        .recorder(panicky_finish.clone())
        .spawn();
    handle.send(Ev::Start).await.unwrap();
    handle.send(Ev::Finish).await.unwrap();
    assert_eq!(
        ended(&handle).await,
        (Outcome::Completed(Job::Done), Status::Completed)
    );
    for recorder in [&counter, &panicky_start, &panicky_finish] {
        recorder.assert_once("Completed(Done)");
    }
}

#[tokio::test(start_paused = true)]
async fn aborting_the_spawned_run_aborts_once() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let (handle, run) = runner.pair();
    let task = tokio::spawn(run);
    handle.send(Ev::Start).await.unwrap();
    task.abort();
    assert!(within(task).await.unwrap_err().is_cancelled());
    assert_eq!(ended(&handle).await, (Outcome::Aborted, Status::Aborted));
    counter.assert_once("Aborted");
}

#[test]
fn shutting_the_runtime_down_with_events_in_flight_aborts_once() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let handle = runtime.block_on(async {
        let handle = runner.spawn();
        handle.send(Ev::Start).await.unwrap();
        handle.pause().unwrap();
        for _ in 0..10 {
            handle.post(Ev::Note).await.unwrap();
        }
        handle
    });
    let waiting = runtime.spawn({
        let handle = handle.clone();
        async move { handle.send(Ev::Note).await }
    });
    runtime.shutdown_timeout(Duration::from_secs(10));
    drop(waiting);
    assert_eq!(handle.snapshot().status, Status::Aborted);
    counter.assert_once("Aborted");
    assert!(matches!(
        handle.try_post(Ev::Note),
        Err(TryPostError::Finished(Ev::Note))
    ));
}

#[tokio::test(start_paused = true)]
async fn stop_while_paused_ends_the_run_and_drops_what_was_held() {
    let log = Log::default();
    let (runner, counter) = runner(Worker::new(&log));
    let handle = runner.spawn();
    handle.pause().unwrap();
    handle.post(Ev::Start).await.unwrap();
    let held = tokio::spawn({
        let handle = handle.clone();
        async move { handle.send(Ev::Note).await }
    });
    handle.stop().unwrap();
    assert_eq!(
        ended(&handle).await,
        (Outcome::Stopped(Job::Idle), Status::Stopped)
    );
    assert_eq!(
        within(held).await.unwrap().unwrap_err(),
        RunnerError::Finished
    );
    assert_eq!(log.lines(), ["enter Idle"], "nothing held was handled");
    counter.assert_once("Stopped(Idle)");
}

#[tokio::test(start_paused = true)]
async fn dropping_every_handle_while_paused_stops_the_run() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let (handle, run) = runner.pair();
    let run = tokio::spawn(run);
    let watch = handle.watch();
    handle.pause().unwrap();
    handle.post(Ev::Start).await.unwrap();
    drop(handle);
    assert_eq!(within(run).await.unwrap(), Outcome::Stopped(Job::Idle));
    assert_eq!(
        watch.borrow().status,
        Status::Stopped,
        "a watcher outlives the handles"
    );
    counter.assert_once("Stopped(Idle)");
}

/// The timer of `Idle` is due in the very tick `Start` leaves `Idle`: it
/// fires in `Idle` (before `Start`) or not at all, **never** in `Running`.
#[tokio::test(start_paused = true)]
async fn a_timer_due_in_the_tick_of_a_transition_never_fires_in_the_new_state() {
    let log = Log::default();
    let (runner, counter) = runner(Worker::new(&log));
    let handle = runner.spawn();
    handle
        .send(Ev::Timeout(Duration::from_secs(1)))
        .await
        .unwrap();
    handle.pause().unwrap();
    handle.post(Ev::Start).await.unwrap();
    advance(Duration::from_secs(1)).await;
    handle.resume().unwrap();
    handle.send(Ev::Note).await.unwrap();
    advance(Duration::from_secs(5)).await;
    handle.send(Ev::Note).await.unwrap();
    let lines = log.lines();
    assert!(
        !lines.contains(&"Fired in Running".to_string()),
        "{lines:#?}"
    );
    assert_eq!(handle.snapshot().timeout_at, None);
    handle.stop().unwrap();
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    counter.assert_once("Stopped(Running)");
}

#[tokio::test(start_paused = true)]
async fn a_task_that_panics_after_its_state_was_left_is_still_reported() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let (panics, mut reported) = tokio::sync::mpsc::unbounded_channel();
    let handle = runner.recorder(TaskPanics(panics)).spawn();
    let (go, panicking) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let spawn = Ev::SpawnPanicLater(Arc::clone(&go), Arc::clone(&panicking));
    handle.send(spawn).await.unwrap();
    handle
        .send(Ev::StartIn(Duration::from_secs(1)))
        .await
        .unwrap();
    // The timer falls due and the task panics while the run is paused, so
    // the transition that leaves the task's state is handled before the
    // report of its panic.
    handle.pause().unwrap();
    let mut watch = handle.watch();
    within(watch.wait_for(|s| s.status == Status::Paused))
        .await
        .unwrap();
    advance(Duration::from_secs(2)).await;
    go.notify_one();
    within(panicking.notified()).await;
    handle.resume().unwrap();
    handle.send(Ev::Note).await.unwrap();
    assert_eq!(
        within(reported.recv()).await.as_deref(),
        Some("task fell over")
    );
    assert_eq!(handle.snapshot().kind, JobKind::Running);
    handle.stop().unwrap();
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    counter.assert_once("Stopped(Running)");
}

#[tokio::test(start_paused = true)]
async fn a_task_that_never_finishes_is_aborted_when_its_state_is_left() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    let (dropped, mut drops) = tokio::sync::mpsc::unbounded_channel();
    handle
        .send(Ev::SpawnForever(DropGuard(dropped.clone())))
        .await
        .unwrap();
    handle.send(Ev::Start).await.unwrap();
    assert_eq!(
        within(drops.recv()).await,
        Some(()),
        "leaving the state aborted it"
    );
    // A second one, left behind by the end of the run.
    handle
        .send(Ev::SpawnForever(DropGuard(dropped)))
        .await
        .unwrap();
    handle.stop().unwrap();
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    assert_eq!(
        within(drops.recv()).await,
        Some(()),
        "the end of the run aborted it"
    );
    counter.assert_once("Stopped(Running)");
}

#[tokio::test(start_paused = true)]
async fn the_initial_states_timer_tasks_and_own_events_work_and_show() {
    let log = Log::default();
    let mut worker = Worker::new(&log);
    worker.initial = |cx| {
        cx.set_timeout(Duration::from_secs(5), Ev::Fired);
        cx.send_self(Ev::Note);
        cx.spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ev::Note
        });
    };
    let (runner, counter) = runner(worker);
    let before = SystemTime::now();
    let handle = runner.spawn();
    let mut watch = handle.watch();
    let snapshot = within(watch.wait_for(|s| s.timeout_at.is_some()))
        .await
        .unwrap()
        .clone();
    let deadline = snapshot.timeout_at.unwrap();
    assert!(deadline >= before + Duration::from_secs(5), "{deadline:?}");
    handle.post(Ev::Start).await.unwrap();
    handle.send(Ev::Rest).await.unwrap();
    // `Rest` re-entered `Idle`, which set the timer again.
    advance(Duration::from_secs(6)).await;
    handle.send(Ev::Halt).await.unwrap();
    assert_eq!(
        log.lines()[..4],
        [
            "enter Idle",
            "Note in Idle",
            "Start in Idle",
            "enter Running"
        ],
        "the own event runs before the queued one"
    );
    assert!(log.lines().contains(&"Fired in Idle".to_string()));
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    counter.assert_once("Stopped(Idle)");

    // The task from the initial `on_enter` reports back when its state lasts.
    let log = Log::default();
    let mut worker = Worker::new(&log);
    worker.initial = |cx| {
        cx.spawn(async {
            tokio::time::sleep(Duration::from_secs(1)).await;
            Ev::Start
        });
    };
    let handle = Runner::new(worker, Job::Idle).spawn();
    let mut watch = handle.watch();
    within(watch.wait_for(|s| s.kind == JobKind::Running))
        .await
        .unwrap();
    assert_eq!(
        log.lines(),
        ["enter Idle", "Start in Idle", "enter Running"]
    );
}

#[tokio::test(start_paused = true)]
async fn control_requests_never_take_a_queue_slot() {
    let (runner, _) = runner(Worker::new(&Log::default()));
    let handle = runner.capacity(1).spawn();
    handle.pause().unwrap();
    handle.try_post(Ev::Note).unwrap();
    assert!(matches!(
        handle.try_post(Ev::Note),
        Err(TryPostError::Full(Ev::Note))
    ));
    for _ in 0..64 {
        handle.pause().unwrap();
        handle.resume().unwrap();
        handle.pause().unwrap();
    }
    handle.resume().unwrap();
    within(handle.post(Ev::Note)).await.unwrap();
    within(handle.send(Ev::Start)).await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn a_panicking_debug_impl_does_not_take_the_run_down() {
    let transcript = Transcript::new();
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.recorder(transcript.clone()).spawn();
    let mut changes = handle.subscribe();
    let applied = handle.send(Ev::Poison(Poisoned)).await.unwrap();
    assert!(matches!(applied, Applied::Transitioned { seq: 1, .. }));
    let change = within(changes.recv()).await.unwrap();
    assert_eq!(change.event, "<`Debug` panicked: Debug fell over>");
    handle.stop().unwrap();
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    counter.assert_once("Stopped(Running)");
}

/// `join` returns only after every `on_finish` has returned. The joiner
/// runs on a runtime of its own, on another thread, so it can look while
/// the run's thread is still inside `on_finish`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_waits_for_every_on_finish() {
    struct Slow(Arc<AtomicBool>);
    impl Recorder<Worker> for Slow {
        fn on_finish(&mut self, _: &Outcome<Job>) {
            // Long enough for a joiner woken too early to look.
            std::thread::sleep(Duration::from_millis(50));
            self.0.store(true, Ordering::SeqCst);
        }
    }
    for _ in 0..5 {
        let done = Arc::new(AtomicBool::new(false));
        let handle = Runner::new(Worker::new(&Log::default()), Job::Idle)
            .recorder(Slow(Arc::clone(&done)))
            .spawn();
        let joiner = std::thread::spawn({
            let (handle, done) = (handle.clone(), Arc::clone(&done));
            move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .build()
                    .unwrap();
                let outcome = runtime.block_on(within(handle.join()));
                (outcome, done.load(Ordering::SeqCst))
            }
        });
        handle.send(Ev::Halt).await.unwrap();
        let (outcome, done_when_joined) = joiner.join().unwrap();
        assert_eq!(outcome, Outcome::Stopped(Job::Idle));
        assert!(done_when_joined, "joined before on_finish returned");
    }
}

/// The end of a run is in the snapshot before the reply of the event that
/// ended it, on a multi-thread runtime where a reader races the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_of_a_run_is_visible_before_the_reply() {
    for _ in 0..300 {
        let handle = Runner::new(Worker::new(&Log::default()), Job::Idle).spawn();
        assert_eq!(handle.send(Ev::Halt).await.unwrap(), Applied::Stopped);
        assert_eq!(handle.snapshot().status, Status::Stopped);

        let handle = Runner::new(Worker::new(&Log::default()), Job::Idle).spawn();
        handle.send(Ev::Start).await.unwrap();
        handle.send(Ev::Finish).await.unwrap();
        assert_eq!(handle.snapshot().status, Status::Completed);

        let handle = Runner::new(Worker::new(&Log::default()), Job::Idle).spawn();
        handle.send(Ev::Boom).await.unwrap_err();
        assert_eq!(handle.snapshot().status, Status::Crashed);
    }
}

#[tokio::test(start_paused = true)]
async fn a_run_dropped_before_it_was_polled_pairs_on_start_with_on_finish() {
    let transcript = Transcript::new();
    let log = Log::default();
    let (runner, counter) = runner(Worker::new(&log));
    let (handle, run) = runner.recorder(transcript.clone()).pair();
    drop(run);
    counter.assert_once("Aborted");
    assert_eq!(transcript.lines(), ["start Idle", "finish Aborted"]);
    assert!(log.lines().is_empty(), "the handler never ran");
    assert_eq!(ended(&handle).await, (Outcome::Aborted, Status::Aborted));
}

#[tokio::test(start_paused = true)]
async fn subscribers_see_the_channel_close_when_the_run_ends() {
    let (runner, _) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    let mut changes = handle.subscribe();
    handle.send(Ev::Start).await.unwrap();
    handle.send(Ev::Finish).await.unwrap();
    let seqs = [
        within(changes.recv()).await.unwrap().seq,
        within(changes.recv()).await.unwrap().seq,
    ];
    assert_eq!(seqs, [1, 2]);
    assert_eq!(within(changes.recv()).await.unwrap_err(), RecvError::Closed);
    let mut late = handle.subscribe();
    assert_eq!(within(late.recv()).await.unwrap_err(), RecvError::Closed);
}

#[tokio::test(start_paused = true)]
async fn far_deadlines_saturate_instead_of_panicking() {
    let (runner, counter) = runner(Worker::new(&Log::default()));
    let handle = runner.spawn();
    handle.send(Ev::Timeout(Duration::MAX)).await.unwrap();
    let thirty_years = Duration::from_secs(86_400 * 365 * 30);
    let deadline = handle.snapshot().timeout_at.expect("a deadline");
    assert!(deadline >= SystemTime::now() + thirty_years - Duration::from_secs(60));

    // An `Instant` can lie further ahead than any `SystemTime` can.
    let beyond = Duration::from_secs(i64::MAX as u64 - 1_000_000_000);
    let far = Instant::now().checked_add(beyond).expect("a far instant");
    handle.send(Ev::TimeoutAt(far)).await.unwrap();
    let deadline = handle.snapshot().timeout_at.expect("a deadline");
    assert!(deadline <= SystemTime::now() + thirty_years + Duration::from_secs(60));
    assert_eq!(handle.snapshot().status, Status::Running);

    handle.stop().unwrap();
    assert_eq!(ended(&handle).await.1, Status::Stopped);
    counter.assert_once("Stopped(Idle)");
}

#[tokio::test(start_paused = true)]
async fn an_update_of_another_kind_says_an_update_keeps_the_kind() {
    let transcript = Transcript::new();
    let (runner, _) = runner(Worker::new(&Log::default()));
    let handle = runner.recorder(transcript.clone()).spawn();
    let error = handle.send(Ev::Refresh).await.unwrap_err();
    let text = "update in `Job` must keep the kind: `Idle` -> `Running` is a transition; return `Step::to`";
    assert_eq!(error.to_string(), text);
    assert!(transcript
        .lines()
        .contains(&format!("rejected in Idle: {text}")));
    assert_eq!(handle.snapshot().seq, 0);
}
