//! [`Journal`]: a recorder that appends each run's history as JSON lines.

use core::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use crate::handler::{Handler, Kind};
use crate::recorder::Recorder;
use crate::{Outcome, Snapshot, StateMachine, Transition};

/// The value of every header's `journal` key; replay refuses anything else.
pub(super) const MAGIC: &str = "statewright";
/// The line format; a later release that changes it bumps this. Format 2
/// chains the checksums and names the run.
pub(super) const FORMAT: u32 = 2;
/// What separates a line's content from its checksum.
pub(super) const CRC_KEY: &[u8] = b",\"crc\":";

/// A line's checksum: the CRC-32 of its content, continued from the
/// previous line's checksum (0 before a journal's first line), so each line
/// vouches for the one before it.
pub(super) fn chained_crc(previous: u32, content: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new_with_initial(previous);
    hasher.update(content);
    hasher.finalize()
}

/// 128 bits naming a run: from the OS-seeded keys std's `HashMap` uses,
/// the clock and the process (no dependency for what needs only to differ
/// between runs).
fn new_run_id() -> u128 {
    use std::hash::{BuildHasher, Hasher};
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |since| since.as_nanos());
    let half = |salt: u64| {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(salt);
        hasher.write_u128(nanos);
        hasher.write_u32(std::process::id());
        u128::from(hasher.finish())
    };
    half(1) << 64 | half(2)
}

/// A recorder that appends the run to a journal of JSON lines, which
/// [`Journal::replay`] turns back into a validated state.
///
/// The first line of a run is a header (a run id of 128 random bits, the
/// machine, its fingerprint, the run's first state and `seq`); a restored
/// run writes a new header that continues the `seq`, so a journal appended
/// across restarts replays as one history. Then one line per transition:
/// `seq`, `from` (the kind), `to` (the complete state), the event's `Debug`
/// text, `update`, `at`; and when the run ends, a `finished` line with its
/// outcome. Every line ends with `"crc"`, a CRC-32 of everything before it
/// continued from the previous line's `crc`: corruption that still parses
/// as JSON, a line taken from another run, a reordered or a removed line
/// all fail replay at their line.
///
/// ```text
/// {"journal":"statewright","format":2,"run":"9f1c..","machine":"Door","fingerprint":"0x5c1e..","seq":0,"state":"Closed","at":{..},"crc":3921350447}
/// {"seq":1,"from":"Closed","to":"Open","event":"Open","update":false,"at":{..},"crc":1180335713}
/// {"finished":"Stopped(Open)","seq":1,"at":{..},"crc":2087215133}
/// ```
///
/// In a runner, the lines of the events handled in one batch (the events
/// queued when the runner looked, up to 32) are written together (group
/// commit): one `write(2)` for a file, after the batch and before any of
/// its senders gets a reply. So a reply means the line has reached the
/// operating system: it survives the process crashing, and survives a
/// power cut only with [`sync_each_line`](Self::sync_each_line), which
/// `fsync`s each batch. Subscribers and the snapshot may see a transition
/// a moment before its line is written. The `write_*` methods write (and
/// sync) each line at once.
///
/// If a write fails, the error is logged with `tracing` and the journal
/// writes nothing more: a line after a missing one would only make the
/// journal fail replay further on.
///
/// # Examples
///
/// ```
/// # include!("../../doc/door.rs");
/// use statewright::Journal;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let path = std::env::temp_dir().join(format!("door-{}.jsonl", std::process::id()));
/// let door = Runner::new(Doorman, Door::Closed)
///     .recorder(Journal::create(&path).unwrap())
///     .spawn();
/// door.send(Push::Open).await.unwrap();
/// door.send(Push::Close).await.unwrap();
/// door.stop().unwrap();
/// door.join().await;
///
/// let replayed = Journal::replay::<Door>(std::fs::File::open(&path).unwrap()).unwrap();
/// assert_eq!((replayed.state, replayed.seq, replayed.transitions), (Door::Closed, 2, 2));
/// # std::fs::remove_file(&path).unwrap();
/// # }
/// ```
pub struct Journal {
    writer: BufWriter<Box<dyn Write + Send>>,
    /// The file behind the writer, kept to `fsync` it when asked.
    file: Option<File>,
    sync_each_line: bool,
    failed: bool,
    line: Vec<u8>,
    /// The last line's checksum, which the next one continues.
    previous: u32,
    /// The run this journal records, named in its headers (in hex).
    run: u128,
    /// The last `seq` written, for the `finished` line.
    seq: u64,
    /// A runner's lines were buffered since the batch was last written out.
    batch_open: bool,
}

impl Journal {
    /// The longest line replay reads (16 MiB); a longer one is refused
    /// before it is read whole.
    pub const MAX_LINE: usize = 16 << 20;

    /// A journal writing to `writer`, which starts empty (its first line's
    /// checksum continues from 0).
    pub fn new(writer: impl Write + Send + 'static) -> Self {
        Self {
            writer: BufWriter::new(Box::new(writer)),
            file: None,
            sync_each_line: false,
            failed: false,
            line: Vec::with_capacity(256),
            previous: 0,
            run: new_run_id(),
            seq: 0,
            batch_open: false,
        }
    }

    /// A journal in a new file at `path` (an existing one is truncated).
    ///
    /// # Errors
    ///
    /// If the file cannot be created.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        Self::on_file(File::create(path)?)
    }

    /// A journal appended to the file at `path`, created if missing: a
    /// restored run goes on in the journal of the run it resumes, its
    /// header chained to the file's last line.
    ///
    /// # Errors
    ///
    /// If the file cannot be opened for appending, or its last line was cut
    /// short or has no checksum (`ErrorKind::InvalidData`: replay it to see
    /// where).
    pub fn append(path: impl AsRef<Path>) -> io::Result<Self> {
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)?;
        let previous = last_checksum(&mut file)?;
        let mut journal = Self::on_file(file)?;
        journal.previous = previous;
        Ok(journal)
    }

    fn on_file(file: File) -> io::Result<Self> {
        let mut journal = Self::new(file.try_clone()?);
        journal.file = Some(file);
        Ok(journal)
    }

    /// `fsync`s the file (`File::sync_data`) after every write, so a line is
    /// on disk before the sender of its event gets the reply. In a runner
    /// that is once per batch of queued events, not per line; it blocks the
    /// tokio worker thread for the disk's flush. Off by default. No effect
    /// on a journal made with [`Journal::new`].
    #[must_use]
    pub fn sync_each_line(mut self, sync: bool) -> Self {
        self.sync_each_line = sync;
        self
    }

    /// Serializes `record` as one line with its checksum and writes it out
    /// (and `fsync`s it, if asked).
    fn try_write_line(&mut self, record: &impl Serialize) -> io::Result<()> {
        self.buffer_line(record)?;
        self.write_out()
    }

    /// Serializes `record` as one line with its checksum into the buffer.
    fn buffer_line(&mut self, record: &impl Serialize) -> io::Result<()> {
        self.line.clear();
        serde_json::to_writer(&mut self.line, record)?;
        // The record is a JSON object: its checksum goes in before the `}`.
        self.line.pop();
        self.seal_line()
    }

    /// Ends the line in the buffer with its checksum and hands it to the
    /// writer's buffer.
    fn seal_line(&mut self) -> io::Result<()> {
        let crc = chained_crc(self.previous, &self.line);
        self.line.extend_from_slice(CRC_KEY);
        self.line
            .extend_from_slice(itoa::Buffer::new().format(crc).as_bytes());
        self.line.extend_from_slice(b"}\n");
        self.writer.write_all(&self.line)?;
        self.previous = crc;
        Ok(())
    }

    /// Hands the buffered lines to the writer (one `write(2)` for a file)
    /// and `fsync`s them if asked.
    fn write_out(&mut self) -> io::Result<()> {
        self.batch_open = false;
        self.writer.flush()?;
        if self.sync_each_line {
            if let Some(file) = &self.file {
                file.sync_data()?;
            }
        }
        Ok(())
    }

    /// Writes a header line: the machine, its fingerprint, `state` and `seq`.
    /// For code that keeps a machine without a runner (a runner's journal
    /// writes its own); start each run, or each resumption, with one.
    ///
    /// # Errors
    ///
    /// If the state cannot be serialized or the line cannot be written.
    pub fn write_header<S: StateMachine + Serialize>(
        &mut self,
        state: &S,
        seq: u64,
    ) -> io::Result<()> {
        self.seq = seq;
        self.try_write_line(&Header {
            journal: MAGIC,
            format: FORMAT,
            run: &format!("{:032x}", self.run),
            machine: S::NAME,
            fingerprint: S::FINGERPRINT,
            seq,
            state,
            at: SystemTime::now(),
        })
    }

    /// Writes one transition line: `seq` (the previous one plus one), the
    /// kind it left, the complete new state, what caused it, and whether it
    /// was an update of the same kind. For code that keeps a machine
    /// without a runner; [`Journal::replay`] checks the step like any other.
    ///
    /// # Errors
    ///
    /// If the state cannot be serialized or the line cannot be written.
    pub fn write_transition<S>(
        &mut self,
        seq: u64,
        from: S::Kind,
        to: &S,
        event: &str,
        update: bool,
    ) -> io::Result<()>
    where
        S: StateMachine + Serialize,
        S::Kind: Serialize,
    {
        self.write_line(&Line {
            seq,
            from,
            to,
            event,
            update,
            at: SystemTime::now(),
        })
    }

    /// A transition line; its `seq` is the one the `finished` line repeats.
    fn write_line<S: Serialize, K: Serialize>(&mut self, line: &Line<'_, S, K>) -> io::Result<()> {
        self.seq = line.seq;
        self.try_write_line(line)
    }

    /// A runner's transition line: buffered until the runner asks for the
    /// batch to be written ([`Recorder::flush`]), before its replies.
    fn buffer_transition<S: Serialize, K: Serialize>(
        &mut self,
        line: &Line<'_, S, K>,
    ) -> io::Result<()> {
        self.seq = line.seq;
        self.batch_open = true;
        self.line.clear();
        encode_transition(&mut self.line, line)?;
        self.seal_line()
    }

    /// Writes the line that ends a run: its outcome (as text) after the
    /// last `seq` written. [`Replayed::finished`](super::Replayed::finished)
    /// says whether a journal ends with one. A runner's journal writes its
    /// own when the run ends.
    ///
    /// # Errors
    ///
    /// If the line cannot be written.
    pub fn write_finished(&mut self, outcome: &str) -> io::Result<()> {
        self.try_write_line(&FinishedLine {
            finished: outcome,
            seq: self.seq,
            at: SystemTime::now(),
        })
    }

    fn record_header<S: StateMachine + Serialize>(&mut self, snapshot: &Snapshot<S>) {
        if self.failed {
            return;
        }
        if let Err(error) = self.write_header(&snapshot.state, snapshot.seq) {
            self.fail(&error);
        }
    }

    fn fail(&mut self, error: &io::Error) {
        self.failed = true;
        tracing::error!(%error, "journal write failed; the journal stops here");
    }
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal")
            .field("file", &self.file.is_some())
            .field("sync_each_line", &self.sync_each_line)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Header<'a, S> {
    journal: &'static str,
    format: u32,
    run: &'a str,
    machine: &'static str,
    #[serde(with = "super::hex")]
    fingerprint: u64,
    seq: u64,
    state: &'a S,
    at: SystemTime,
}

#[derive(Serialize)]
struct FinishedLine<'a> {
    finished: &'a str,
    seq: u64,
    at: SystemTime,
}

#[derive(Serialize)]
struct Line<'a, S, K> {
    seq: u64,
    from: K,
    to: &'a S,
    event: &'a str,
    update: bool,
    at: SystemTime,
}

impl<H> Recorder<H> for Journal
where
    H: Handler,
    H::State: Serialize,
    Kind<H>: Serialize,
{
    fn on_start(&mut self, snapshot: &Snapshot<H::State>) {
        self.record_header(snapshot);
    }

    fn on_restore(&mut self, snapshot: &Snapshot<H::State>) {
        self.record_header(snapshot);
    }

    fn on_transition(&mut self, transition: &Transition<H::State>) {
        if self.failed {
            return;
        }
        let line = Line {
            seq: transition.seq,
            from: transition.from,
            to: &transition.to,
            event: &transition.event,
            update: transition.update,
            at: transition.at,
        };
        if let Err(error) = self.buffer_transition(&line) {
            self.fail(&error);
        }
    }

    fn flush(&mut self) {
        // Called whenever the runner is about to wait: only lines written
        // since the last flush are written out (and synced).
        if self.failed || !self.batch_open {
            return;
        }
        if let Err(error) = self.write_out() {
            self.fail(&error);
        }
    }

    fn on_finish(&mut self, outcome: &Outcome<H::State>) {
        if self.failed {
            return;
        }
        if let Err(error) = self.write_finished(&outcome.to_string()) {
            self.fail(&error);
        }
    }
}

/// `line` as `serde_json::to_writer` writes it, without the closing `}`:
/// the fixed keys and numbers written directly (a transition line is
/// written per event; serde spends most of its time escaping the keys).
fn encode_transition<S: Serialize, K: Serialize>(
    out: &mut Vec<u8>,
    line: &Line<'_, S, K>,
) -> io::Result<()> {
    let mut number = itoa::Buffer::new();
    out.extend_from_slice(b"{\"seq\":");
    out.extend_from_slice(number.format(line.seq).as_bytes());
    out.extend_from_slice(b",\"from\":");
    serde_json::to_writer(&mut *out, &line.from)?;
    out.extend_from_slice(b",\"to\":");
    serde_json::to_writer(&mut *out, line.to)?;
    out.extend_from_slice(b",\"event\":");
    encode_str(out, line.event)?;
    out.extend_from_slice(if line.update {
        b",\"update\":true"
    } else {
        b",\"update\":false"
    });
    // serde's form of a `SystemTime`, and its error before the epoch.
    let since = line
        .at
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| io::Error::other("SystemTime must be later than UNIX_EPOCH"))?;
    out.extend_from_slice(b",\"at\":{\"secs_since_epoch\":");
    out.extend_from_slice(number.format(since.as_secs()).as_bytes());
    out.extend_from_slice(b",\"nanos_since_epoch\":");
    out.extend_from_slice(number.format(since.subsec_nanos()).as_bytes());
    out.push(b'}');
    Ok(())
}

/// `text` as a JSON string, as serde writes it: copied between quotes when
/// nothing in it needs escaping (an event's `Debug` text rarely does),
/// through serde otherwise.
fn encode_str(out: &mut Vec<u8>, text: &str) -> io::Result<()> {
    if text
        .bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
    {
        return Ok(serde_json::to_writer(out, text)?);
    }
    out.reserve(text.len() + 2);
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
    Ok(())
}

/// The checksum of the last line of `file` (0 when it is empty), which the
/// next line written continues.
fn last_checksum(file: &mut File) -> io::Result<u32> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidData, message);
    let length = file.seek(SeekFrom::End(0))?;
    if length == 0 {
        return Ok(0);
    }
    // The checksum ends the last line: `,"crc":`, at most ten digits, `}`
    // and the line end fit in its last 32 bytes.
    let tail_length = length.min(32);
    file.seek(SeekFrom::Start(length - tail_length))?;
    let mut tail = vec![0; usize::try_from(tail_length).unwrap_or(32)];
    file.read_exact(&mut tail)?;
    let line = tail
        .strip_suffix(b"\n")
        .ok_or_else(|| invalid("the journal's last line was cut short".to_owned()))?;
    split_checksum(line)
        .map(|(_, checksum)| checksum)
        .map_err(|problem| invalid(format!("the journal's last line: {problem}")))
}

/// A line (without its line end) as its content and the checksum written
/// after it, or what is wrong with the checksum.
pub(super) fn split_checksum(line: &[u8]) -> Result<(&[u8], u32), &'static str> {
    let at = line
        .windows(CRC_KEY.len())
        .rposition(|window| window == CRC_KEY)
        .ok_or("no checksum")?;
    let (content, rest) = line.split_at(at);
    let digits = rest[CRC_KEY.len()..]
        .strip_suffix(b"}")
        .ok_or("the line does not end with its checksum")?;
    let checksum = std::str::from_utf8(digits)
        .ok()
        .filter(|digits| !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()))
        .and_then(|digits| digits.parse().ok())
        .ok_or("the checksum is not a number")?;
    Ok((content, checksum))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-written transition line is byte for byte serde's.
    #[test]
    fn a_transition_line_is_written_as_serde_writes_it() {
        let times = [
            SystemTime::UNIX_EPOCH,
            SystemTime::UNIX_EPOCH + std::time::Duration::new(1_796_658_407, 259_271_064),
        ];
        let states = [
            serde_json::json!("Idle"),
            serde_json::json!({"Counting": {"count": 3, "note": "a \"q\" \u{1f} ü"}}),
        ];
        for (at, to) in times.into_iter().zip(&states) {
            let events = [
                ("Add", true),
                ("Coin(\"\\n\")\n", false),
                ("Note { text: \"ü ✓ \u{7f}\" }", true),
                ("Tab(\t)", false),
                ("Path(\\)", true),
                ("Näme(✓, \u{7f})", true),
                ("", false),
            ];
            for (event, update) in events {
                let line = Line {
                    seq: u64::MAX,
                    from: "Counting",
                    to,
                    event,
                    update,
                    at,
                };
                let mut ours = Vec::new();
                encode_transition(&mut ours, &line).unwrap();
                ours.push(b'}');
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    serde_json::to_string(&line).unwrap()
                );
            }
        }
    }
}
