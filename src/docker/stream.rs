//! Tar streams written on a blocking thread and sent to the engine as they are written (image
//! build contexts, files copied into nodes): a few hundred MB never sit in memory at once.

use std::io::Write;
use std::path::PathBuf;

use super::error::{Error, Result};

/// Chunks of a tar stream being written on a blocking thread.
pub(super) type TarChunks = tokio::sync::mpsc::Receiver<std::io::Result<Vec<u8>>>;

/// Runs `write` on a blocking thread and streams what it writes. An error
/// of `write` also ends the stream with an error, so the upload fails.
pub(super) fn spawn_tar<F>(write: F) -> (TarChunks, tokio::task::JoinHandle<Result<()>>)
where
    F: FnOnce(ChannelWriter) -> Result<ChannelWriter> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    let handle = tokio::task::spawn_blocking(move || {
        let result = write(ChannelWriter::new(tx.clone())).and_then(|w| w.finish());
        if let Err(e) = &result {
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
        result
    });
    (rx, handle)
}

/// The outcome of a streamed upload: a failed input (unreadable file)
/// explains a failed upload better than the engine's message can.
pub(super) fn settle(written: Result<()>, sent: Result<()>) -> Result<()> {
    match (written, sent) {
        (Err(e), _) if !is_broken_pipe(&e) => Err(e),
        (_, Err(e)) => Err(e),
        (written, Ok(())) => written,
    }
}

/// The request body for [`TarChunks`] (a macro: bollard's body type and
/// `Bytes` cannot be named here without another dependency).
macro_rules! tar_body {
    ($chunks:expr) => {
        bollard::body_try_stream(futures_util::stream::unfold($chunks, |mut rx| async move {
            let item = rx.recv().await?;
            Some((item.map(Into::into), rx))
        }))
    };
}
pub(super) use tar_body;

/// A `Write` that hands 1 MiB chunks to an async receiver (from a blocking
/// thread). A dropped receiver shows up as `BrokenPipe`.
pub(super) struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    buf: Vec<u8>,
}

const CHUNK: usize = 1 << 20;

impl ChannelWriter {
    fn new(tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }

    /// Sends what is buffered; dropping the writer then ends the stream.
    fn finish(mut self) -> Result<()> {
        self.send().map_err(|source| Error::Io {
            path: PathBuf::from("<build context>"),
            source,
        })
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}
