//! A step runner (seed 002): each step runs as a task owned by its state,
//! `pause`/`resume` hold the runner between steps, before/after hooks come
//! from a recorder that also writes a checkpoint to a file after each step,
//! and errors carry the state and `seq` they happened at. The last part
//! stops a workflow halfway, as a crash would, and resumes it from the file
//! as a restarted process would.
//!
//! Run with `cargo run --example workflow`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use statewright::{
    state_machine, Checkpoint, Cx, Handler, Outcome, Recorder, Runner, RunnerError, Step,
    Transition,
};

/// A workflow of `total` steps.
#[state_machine]
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub(crate) enum Workflow {
    #[initial]
    #[on(begin => Running)]
    Pending,
    /// Re-entering `Running` starts the next step.
    #[on(advance => Running, finish => Completed, fail => Failed)]
    Running { step: u32 },
    #[terminal]
    Completed { steps: u32 },
    #[terminal]
    Failed { step: u32, error: String },
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
enum Signal {
    Begin,
    Reset,
    StepDone {
        step: u32,
        result: Result<(), String>,
    },
}

/// Runs `total` steps; the step named in `broken` fails.
struct Steps {
    total: u32,
    broken: Option<u32>,
}

impl Handler for Steps {
    type State = Workflow;
    type Event = Signal;

    fn handle(&mut self, state: &Workflow, signal: Signal, _: &mut Cx<Self>) -> Step<Workflow> {
        match (state, signal) {
            (Workflow::Pending, Signal::Begin) => Step::to(Workflow::Running { step: 1 }),
            (Workflow::Running { step }, Signal::StepDone { step: done, result })
                if done == *step =>
            {
                match result {
                    Err(error) => Step::to(Workflow::Failed { step: done, error }),
                    Ok(()) if done == self.total => Step::to(Workflow::Completed { steps: done }),
                    Ok(()) => Step::to(Workflow::Running { step: done + 1 }),
                }
            }
            // The table has no way back to `Pending`: the runner refuses this.
            (_, Signal::Reset) => Step::to(Workflow::Pending),
            (_, signal) => Step::reject(format!("{signal:?} is stale")),
        }
    }

    fn on_enter(&mut self, state: &Workflow, cx: &mut Cx<Self>) {
        self.start_step(state, cx);
    }

    /// A checkpoint holds no tasks: a step that was running when the
    /// process stopped runs again.
    fn on_restore(&mut self, state: &Workflow, cx: &mut Cx<Self>) {
        self.start_step(state, cx);
    }
}

impl Steps {
    fn start_step(&self, state: &Workflow, cx: &mut Cx<Self>) {
        if let Workflow::Running { step } = *state {
            let broken = self.broken == Some(step);
            cx.spawn(async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                let result = if broken {
                    Err(format!("step {step} lost its database connection"))
                } else {
                    Ok(())
                };
                Signal::StepDone { step, result }
            });
        }
    }
}

/// Before/after hooks and checkpoints, as one recorder.
#[derive(Clone, Default)]
struct Hooks {
    log: Arc<Mutex<Vec<String>>>,
    checkpoints: Arc<Mutex<usize>>,
    /// Where each checkpoint is written, if anywhere.
    file: Option<PathBuf>,
}

impl Hooks {
    fn say(&self, line: String) {
        println!("{line}");
        if let Ok(mut log) = self.log.lock() {
            log.push(line);
        }
    }
}

impl Recorder<Steps> for Hooks {
    fn on_event(&mut self, state: &Workflow, signal: &Signal) {
        if let Signal::StepDone { step, .. } = signal {
            self.say(format!("before: step {step} reports ({})", state.kind()));
        }
    }

    fn on_transition(&mut self, transition: &Transition<Workflow>) {
        if let Ok(mut checkpoints) = self.checkpoints.lock() {
            *checkpoints += 1;
        }
        if let Some(file) = &self.file {
            // A workflow sets no state timer, so a transition holds all a
            // checkpoint needs; `RunnerHandle::checkpoint` also takes the timer.
            let checkpoint: Checkpoint<Workflow, Signal> =
                Checkpoint::new(transition.to.clone(), transition.seq, transition.at);
            if let Err(error) = save(file, &checkpoint) {
                self.say(format!("checkpoint not saved: {error}"));
            }
        }
        self.say(format!(
            "after:  checkpoint #{} {:?}",
            transition.seq, transition.to
        ));
    }

    fn on_finish(&mut self, outcome: &Outcome<Workflow>) {
        self.say(format!("finished: {outcome}"));
    }
}

/// A failure with the context to act on it.
#[derive(Debug, PartialEq)]
struct WorkflowError {
    seq: u64,
    state: WorkflowKind,
    message: String,
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "workflow error in `{}` at #{}: {}",
            self.state, self.seq, self.message
        )
    }
}

impl std::error::Error for WorkflowError {}

impl WorkflowError {
    fn from_runner(error: &RunnerError<WorkflowKind>, seq: u64, state: WorkflowKind) -> Self {
        Self {
            seq,
            state,
            message: error.to_string(),
        }
    }
}

/// Runs a workflow to its end, pausing it once to show that nothing moves.
async fn run_workflow(
    total: u32,
    broken: Option<u32>,
    hooks: &Hooks,
) -> Result<u32, WorkflowError> {
    let handle = Runner::new(Steps { total, broken }, Workflow::Pending)
        .recorder(hooks.clone())
        .spawn();
    handle.send(Signal::Begin).await.map_err(|error| {
        let snapshot = handle.snapshot();
        WorkflowError::from_runner(&error, snapshot.seq, snapshot.kind)
    })?;

    let snapshot = handle.snapshot();
    if let Err(error) = handle.send(Signal::Reset).await {
        hooks.say(format!(
            "reset: {}",
            WorkflowError::from_runner(&error, snapshot.seq, snapshot.kind)
        ));
    }

    let mut watch = handle.watch();
    let _ = watch
        .wait_for(|s| s.state == Workflow::Running { step: 2 })
        .await;
    handle.pause().ok();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let paused = handle.snapshot();
    hooks.say(format!(
        "paused for 1 s: still {:?} at #{} ({:?})",
        paused.state, paused.seq, paused.status
    ));
    handle.resume().ok();

    match handle.join().await {
        Outcome::Completed(Workflow::Completed { steps }) => Ok(steps),
        Outcome::Completed(Workflow::Failed { error, .. }) => {
            let snapshot = handle.snapshot();
            Err(WorkflowError {
                seq: snapshot.seq,
                state: snapshot.kind,
                message: error,
            })
        }
        other => Err(WorkflowError {
            seq: handle.snapshot().seq,
            state: handle.snapshot().kind,
            message: other.to_string(),
        }),
    }
}

/// Writes the checkpoint whole: to a temporary file, then renamed over the
/// old one, so a crash mid-write leaves the previous checkpoint.
fn save(file: &Path, checkpoint: &Checkpoint<Workflow, Signal>) -> std::io::Result<()> {
    let partial = file.with_extension("partial");
    std::fs::write(&partial, serde_json::to_vec(checkpoint)?)?;
    std::fs::rename(partial, file)
}

fn load(file: &Path) -> Result<Checkpoint<Workflow, Signal>, Box<dyn std::error::Error>> {
    Ok(serde_json::from_slice(&std::fs::read(file)?)?)
}

/// The first process: runs a workflow with a checkpoint file and stops it
/// (as a crash would) once step 3 has started.
async fn run_until_crash(file: &Path, hooks: &Hooks) {
    let hooks = Hooks {
        file: Some(file.to_path_buf()),
        ..hooks.clone()
    };
    let handle = Runner::new(
        Steps {
            total: 4,
            broken: None,
        },
        Workflow::Pending,
    )
    .recorder(hooks.clone())
    .spawn();
    let _ = handle.send(Signal::Begin).await;
    let mut watch = handle.watch();
    let _ = watch
        .wait_for(|s| s.state == Workflow::Running { step: 3 })
        .await;
    handle.stop().ok();
    handle.join().await;
}

/// The second process: resumes the workflow from the checkpoint file.
async fn resume_after_restart(
    file: &Path,
    hooks: &Hooks,
) -> Result<u32, Box<dyn std::error::Error>> {
    let checkpoint = load(file)?;
    hooks.say(format!(
        "restart: checkpoint #{} {:?} read back",
        checkpoint.seq, checkpoint.state
    ));
    let steps = Steps {
        total: 4,
        broken: None,
    };
    let handle = Runner::restore(steps, checkpoint)?
        .recorder(hooks.clone())
        .spawn();
    match handle.join().await {
        Outcome::Completed(Workflow::Completed { steps }) => Ok(steps),
        other => Err(other.to_string().into()),
    }
}

/// Two workflows: one completes, one fails at step 3; then one stopped
/// halfway and resumed from its checkpoint file. Returns the hooks' log.
pub(crate) async fn demo() -> Vec<String> {
    let hooks = Hooks::default();
    let done = run_workflow(4, None, &hooks).await;
    hooks.say(format!("result: {done:?}"));
    let failed = run_workflow(4, Some(3), &hooks).await;
    match failed {
        Ok(steps) => hooks.say(format!("result: Ok({steps})")),
        Err(error) => hooks.say(format!("result: {error}")),
    }
    let checkpoints = hooks.checkpoints.lock().map(|c| *c).unwrap_or_default();
    hooks.say(format!("checkpoints saved: {checkpoints}"));

    let file =
        std::env::temp_dir().join(format!("statewright-workflow-{}.json", std::process::id()));
    run_until_crash(&file, &hooks).await;
    hooks.say("stopped halfway, as a crash would".to_owned());
    match resume_after_restart(&file, &hooks).await {
        Ok(steps) => hooks.say(format!("resumed: Ok({steps})")),
        Err(error) => hooks.say(format!("resumed: {error}")),
    }
    let _ = std::fs::remove_file(&file);
    let log = hooks.log.lock().map(|log| log.clone()).unwrap_or_default();
    log
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    demo().await;
}
