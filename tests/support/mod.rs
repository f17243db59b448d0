//! Helpers shared by the runner tests.
// Each test binary uses only some of them.
#![allow(dead_code)]

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use statewright::{Handler, Recorder};

/// How long any wait in a test may take. On tokio's paused clock an idle
/// runtime jumps straight to this deadline, so a lost wake-up fails the test
/// at once instead of hanging it.
pub(crate) const LIMIT: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test if it does not finish within [`LIMIT`].
pub(crate) async fn within<F: Future>(future: F) -> F::Output {
    match tokio::time::timeout(LIMIT, future).await {
        Ok(output) => output,
        Err(elapsed) => panic!("{elapsed} after {LIMIT:?}: a wake-up was lost"),
    }
}

/// Polls `future` once: its output if it was ready, `None` if it is pending.
pub(crate) async fn poll_once<F: Future + ?Sized>(mut future: Pin<&mut F>) -> Option<F::Output> {
    poll_fn(move |cx| {
        Poll::Ready(match future.as_mut().poll(cx) {
            Poll::Ready(output) => Some(output),
            Poll::Pending => None,
        })
    })
    .await
}

/// Every line of `expected` appears, whole, in `lines`, in this order.
pub(crate) fn assert_lines_in_order<'a>(
    lines: impl IntoIterator<Item = &'a str>,
    expected: &[&str],
) {
    let lines: Vec<&str> = lines.into_iter().collect();
    let mut rest = lines.iter();
    for line in expected {
        assert!(
            rest.any(|candidate| candidate == line),
            "missing {line:?}, or out of order, in\n{lines:#?}"
        );
    }
}

/// A recorder that forwards task panics to the test.
pub(crate) struct TaskPanics(pub(crate) tokio::sync::mpsc::UnboundedSender<String>);

impl<H: Handler> Recorder<H> for TaskPanics {
    fn on_task_panic(&mut self, message: &str) {
        let _ = self.0.send(message.to_string());
    }
}

/// Lines a handler writes as it runs, shared with the test.
#[derive(Default, Clone)]
pub(crate) struct Log(Arc<Mutex<Vec<String>>>);

impl Log {
    pub(crate) fn push(&self, line: impl Into<String>) {
        self.0.lock().unwrap().push(line.into());
    }

    pub(crate) fn lines(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub(crate) fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|l| *l == line).count()
    }
}
