//! Capturing what the interpreter writes to stdout and stderr, with a cap.
//!
//! An import may print without end (a module in a loop, a chatty wrapper script): the
//! output once went to an uncapped file and was then read whole into memory. Now each
//! stream is read from a pipe by its own thread, which keeps the first [`HEAD_BYTES`]
//! and the last [`TAIL_BYTES`] and drops the middle, so disk use is nil and memory is
//! bounded whatever the interpreter writes. The verdict needs only a few lines (the
//! `Fatal Python error` line, CPython's GIL warning, faulthandler's stacks at the end):
//! lines of the dropped middle that contain one of [`NOTABLE`] are kept too, so a
//! flood after the warning does not hide it. A line saying how much was left out
//! marks the gap.

use std::collections::VecDeque;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::verdict::GIL_WARNING;

/// Bytes kept from the start of a stream.
pub(super) const HEAD_BYTES: usize = 64 * 1024;
/// Bytes kept from the end of a stream (faulthandler's stacks are printed last).
pub(super) const TAIL_BYTES: usize = 128 * 1024;
/// Lines of the dropped middle worth keeping: what the verdict looks for.
const NOTABLE: [&str; 2] = ["Fatal Python error", GIL_WARNING];
/// At most this many notable lines, each cut to [`NOTABLE_LINE_BYTES`].
const NOTABLE_LINES: usize = 16;
const NOTABLE_LINE_BYTES: usize = 4096;

/// The kept parts of one output stream.
#[derive(Debug, Default)]
pub(super) struct Capped {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// Bytes dropped between head and tail.
    dropped: u64,
    /// The dropped line being scanned (its first [`NOTABLE_LINE_BYTES`]).
    line: Vec<u8>,
    notable: Vec<Vec<u8>>,
}

impl Capped {
    pub(super) fn push(&mut self, mut chunk: &[u8]) {
        let room = HEAD_BYTES.saturating_sub(self.head.len()).min(chunk.len());
        self.head.extend_from_slice(&chunk[..room]);
        chunk = &chunk[room..];
        self.tail.extend(chunk);
        let excess = self.tail.len().saturating_sub(TAIL_BYTES);
        if excess == 0 {
            return;
        }
        let evicted: Vec<u8> = self.tail.drain(..excess).collect();
        self.dropped += excess as u64;
        self.scan(&evicted);
    }

    /// Keeps the notable lines of bytes that are being dropped (in stream order).
    fn scan(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            let end = bytes.iter().position(|&b| b == b'\n');
            let part = &bytes[..end.unwrap_or(bytes.len())];
            let room = NOTABLE_LINE_BYTES
                .saturating_sub(self.line.len())
                .min(part.len());
            self.line.extend_from_slice(&part[..room]);
            let Some(end) = end else {
                return;
            };
            let line = std::mem::take(&mut self.line);
            if self.notable.len() < NOTABLE_LINES && is_notable(&line) {
                self.notable.push(line);
            }
            bytes = &bytes[end + 1..];
        }
    }

    /// The kept text: head, a note on the gap with the notable lines, tail.
    pub(super) fn text(&self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(&format!(
                "[ftaudit: {} bytes of output left out here]\n",
                self.dropped
            ));
            for line in &self.notable {
                out.push_str(&String::from_utf8_lossy(line));
                out.push('\n');
            }
        }
        let (a, b) = self.tail.as_slices();
        out.push_str(&String::from_utf8_lossy(&[a, b].concat()));
        out
    }

    /// Bytes held, whatever was written.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.head.len()
            + self.tail.len()
            + self.line.len()
            + self.notable.iter().map(Vec::len).sum::<usize>()
    }
}

fn is_notable(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    NOTABLE.iter().any(|n| text.contains(n))
}

/// A stream being read by its own thread into a [`Capped`].
pub(super) struct Capture {
    kept: Arc<Mutex<Capped>>,
    reader: JoinHandle<()>,
}

impl Capture {
    pub(super) fn start(mut stream: impl Read + Send + 'static) -> Capture {
        let kept = Arc::new(Mutex::new(Capped::default()));
        let sink = kept.clone();
        let reader = std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stream.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => sink
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
        });
        Capture { kept, reader }
    }

    /// The text kept so far, after waiting up to `grace` for the end of the stream. A
    /// process that escaped the kill (a new session) may hold the pipe open: its reader
    /// is left to finish on its own, still capped.
    pub(super) fn finish(self, grace: Duration) -> String {
        let start = Instant::now();
        while !self.reader.is_finished() && start.elapsed() < grace {
            std::thread::sleep(Duration::from_millis(5));
        }
        let kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        kept.text()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_head_tail_and_notable_lines_within_the_cap() {
        let mut c = Capped::default();
        c.push(b"first line\n");
        let filler = vec![b'x'; 1000]
            .into_iter()
            .chain([b'\n'])
            .collect::<Vec<u8>>();
        for _ in 0..100 {
            c.push(&filler);
        }
        c.push(b"Fatal Python error: in the middle\n");
        c.push(b"<frozen importlib._bootstrap>:488: RuntimeWarning: The global interpreter lock (GIL) has been enabled to load module 'spam', which\n");
        for _ in 0..300 {
            c.push(&filler);
        }
        c.push(b"last line\n");
        assert!(c.held() <= HEAD_BYTES + TAIL_BYTES + NOTABLE_LINE_BYTES * (NOTABLE_LINES + 1));
        let text = c.text();
        assert!(text.starts_with("first line\n"), "{}", &text[..40]);
        assert!(text.ends_with("last line\n"));
        assert!(text.contains("bytes of output left out here]"));
        assert!(text
            .lines()
            .any(|l| l == "Fatal Python error: in the middle"));
        assert!(text.contains("load module 'spam'"));
        assert!(text.len() < HEAD_BYTES + TAIL_BYTES + 10_000);
    }

    #[test]
    fn a_short_stream_is_kept_whole() {
        let mut c = Capped::default();
        let text = "a\n".repeat(50_000);
        for chunk in text.as_bytes().chunks(777) {
            c.push(chunk);
        }
        assert_eq!(c.text(), text);
    }

    #[test]
    fn a_line_split_across_chunks_is_still_found() {
        let mut c = Capped::default();
        c.push(&vec![b'y'; HEAD_BYTES]);
        c.push(b"abc Fatal Py");
        c.push(b"thon error: split\n");
        c.push(&vec![b'z'; TAIL_BYTES + 100]);
        assert!(c.text().contains("abc Fatal Python error: split\n"));
    }
}
