//! GetObject for many objects, a bounded number at once, each handed to
//! the synchronous side as a [`Read`] that yields the body as it arrives.
//!
//! A dispatcher task takes the objects in order; for each it waits for one
//! of `concurrency` permits, starts the download and sends the reader to
//! the caller's thread, which runs `process` on it in the rayon pool. The
//! permit goes back when `process` drops the reader, so at most
//! `concurrency` objects are being downloaded or processed at a time, and
//! each holds at most [`CHUNKS_IN_FLIGHT`] body chunks between the network
//! and the reader: memory does not grow with the number or size of objects.
//! Results come back in object order whatever finished first.
//!
//! A body that breaks off midway is resumed with a ranged GET from the
//! byte reached (`If-Match` the listed ETag, so a replaced object is an
//! error rather than a splice), [`RESUME_ATTEMPTS`] times at most; the
//! reader never sees the break. Request-level retries (throttling, 5xx,
//! dropped connections before the body) are the SDK's.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::client::{Connection, S3Problem, map_sdk_error};
use super::{S3Error, S3Object};

/// Body chunks buffered per object between the download and the reader.
pub(crate) const CHUNKS_IN_FLIGHT: usize = 16;
/// Times a broken-off body is resumed before the object is given up.
pub(crate) const RESUME_ATTEMPTS: u32 = 5;
/// First delay before a resume; doubled each time.
const RESUME_BACKOFF: Duration = Duration::from_millis(200);

/// What a download sends its reader.
enum Piece {
    Data(Bytes),
    /// The whole body was delivered.
    End,
    /// The download gave up.
    Failed(S3Error),
}

/// Why an object's body could not be read (an [`io::Error`]'s payload, so
/// that a caller can tell it from a local I/O error). The text does not
/// repeat the object's name.
#[derive(Debug)]
pub(crate) struct RemoteError(pub String);

impl std::fmt::Display for RemoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RemoteError {}

/// The body of one object as a blocking [`Read`] (for a rayon worker).
pub(crate) struct ObjectReader {
    rx: mpsc::Receiver<Piece>,
    current: Bytes,
    finished: bool,
    /// Holds one of the `concurrency` slots until the reader is dropped.
    _permit: OwnedSemaphorePermit,
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.finished {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Piece::Data(b)) => self.current = b,
                Some(Piece::End) => self.finished = true,
                Some(Piece::Failed(e)) => {
                    self.finished = true;
                    // The reader's owner names the object already.
                    let text = match e {
                        S3Error::At { problem, .. } => problem.to_string(),
                        other => other.to_string(),
                    };
                    return Err(io::Error::other(RemoteError(text)));
                }
                None => {
                    self.finished = true;
                    return Err(io::Error::other(RemoteError(
                        "the download stopped without finishing the object".to_owned(),
                    )));
                }
            }
        }
        let n = buf.len().min(self.current.len());
        let chunk = self.current.split_to(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(&chunk);
        }
        Ok(n)
    }
}

/// Counters the progress line reads while the fetch runs.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub bytes: AtomicU64,
    pub objects_done: AtomicU64,
    /// GetObject requests sent (first tries and resumes).
    pub gets: AtomicU64,
}

/// Fetch every object of `objects` and run `process(index, reader)` on each
/// in the rayon pool, at most `concurrency` at a time; `merge(index,
/// result)` is called on this thread in index order.
pub(crate) fn for_each_object<R, P, M>(
    rt: &tokio::runtime::Runtime,
    conn: Arc<Connection>,
    objects: Arc<Vec<S3Object>>,
    concurrency: usize,
    counters: Arc<Counters>,
    process: P,
    mut merge: M,
) where
    R: Send,
    P: Fn(usize, ObjectReader) -> R + Sync,
    M: FnMut(usize, R),
{
    let concurrency = concurrency.max(1);
    let (ready_tx, mut ready_rx) = mpsc::channel::<(usize, ObjectReader)>(concurrency);
    let dispatcher = rt.spawn(dispatch(
        conn,
        Arc::clone(&objects),
        concurrency,
        Arc::clone(&counters),
        ready_tx,
    ));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<(usize, R)>();
    let mut pending: BTreeMap<usize, R> = BTreeMap::new();
    let mut next = 0usize;
    let flush = |pending: &mut BTreeMap<usize, R>, next: &mut usize, merge: &mut M| {
        while let Some(r) = pending.remove(next) {
            merge(*next, r);
            *next += 1;
        }
    };
    rayon::in_place_scope(|scope| {
        while let Some((i, reader)) = ready_rx.blocking_recv() {
            let done_tx = done_tx.clone();
            let process = &process;
            let counters = &counters;
            scope.spawn(move |_| {
                let r = process(i, reader);
                counters.objects_done.fetch_add(1, Ordering::Relaxed);
                let _ = done_tx.send((i, r));
            });
            pending.extend(done_rx.try_iter());
            flush(&mut pending, &mut next, &mut merge);
        }
    });
    drop(done_tx);
    pending.extend(done_rx.try_iter());
    flush(&mut pending, &mut next, &mut merge);
    dispatcher.abort();
}

/// Start the downloads in order, each once a slot is free.
async fn dispatch(
    conn: Arc<Connection>,
    objects: Arc<Vec<S3Object>>,
    concurrency: usize,
    counters: Arc<Counters>,
    ready: mpsc::Sender<(usize, ObjectReader)>,
) {
    let slots = Arc::new(Semaphore::new(concurrency));
    for i in 0..objects.len() {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
        tokio::spawn(download(
            Arc::clone(&conn),
            Arc::clone(&objects),
            i,
            Arc::clone(&counters),
            tx,
        ));
        let reader = ObjectReader {
            rx,
            current: Bytes::new(),
            finished: false,
            _permit: permit,
        };
        if ready.send((i, reader)).await.is_err() {
            return;
        }
    }
}

/// Download one object into `tx`, resuming a broken body from where it
/// stopped.
async fn download(
    conn: Arc<Connection>,
    objects: Arc<Vec<S3Object>>,
    index: usize,
    counters: Arc<Counters>,
    tx: mpsc::Sender<Piece>,
) {
    let Some(obj) = objects.get(index) else {
        return;
    };
    let piece = match fetch_body(&conn, obj, &counters, &tx).await {
        Ok(()) => Piece::End,
        Err(Stop::Closed) => return,
        Err(Stop::Failed(e)) => Piece::Failed(e),
    };
    let _ = tx.send(piece).await;
}

enum Stop {
    /// The reader is gone.
    Closed,
    Failed(S3Error),
}

async fn fetch_body(
    conn: &Connection,
    obj: &S3Object,
    counters: &Counters,
    tx: &mpsc::Sender<Piece>,
) -> Result<(), Stop> {
    let mut offset: u64 = 0;
    let mut resumes: u32 = 0;
    let mut last_break = String::new();
    loop {
        let mut req = conn.client.get_object().bucket(&obj.bucket).key(&obj.key);
        if offset > 0 {
            req = req.range(format!("bytes={offset}-"));
            if !obj.etag.is_empty() {
                req = req.if_match(&obj.etag);
            }
        }
        counters.gets.fetch_add(1, Ordering::Relaxed);
        let body: ByteStream = match req.send().await {
            Ok(out) => out.body,
            Err(e) => {
                let mut err = map_sdk_error(&e, "GetObject", obj.uri(), &obj.bucket, conn);
                if let S3Error::At {
                    problem: S3Problem::Changed { etag },
                    ..
                } = &mut err
                {
                    etag.clone_from(&obj.etag);
                }
                if offset > 0 && !is_final(&err) && resumes < RESUME_ATTEMPTS {
                    resumes += 1;
                    last_break = err.to_string();
                    tokio::time::sleep(RESUME_BACKOFF * 2u32.saturating_pow(resumes - 1)).await;
                    continue;
                }
                return Err(Stop::Failed(err));
            }
        };
        match pump(body, &mut offset, counters, tx).await {
            Ok(()) => {
                if offset < obj.size && resumes < RESUME_ATTEMPTS {
                    // The connection closed early without an error.
                    resumes += 1;
                    last_break = format!("the body ended after {offset} bytes");
                    continue;
                }
                if offset != obj.size {
                    return Err(Stop::Failed(S3Error::At {
                        uri: obj.uri(),
                        problem: S3Problem::Interrupted {
                            offset,
                            size: obj.size,
                            attempts: resumes + 1,
                            detail: format!("got {offset} bytes, the listing said {}", obj.size),
                        },
                    }));
                }
                return Ok(());
            }
            Err(PumpError::Closed) => return Err(Stop::Closed),
            Err(PumpError::Broken(detail)) => {
                if resumes >= RESUME_ATTEMPTS || offset >= obj.size {
                    return Err(Stop::Failed(S3Error::At {
                        uri: obj.uri(),
                        problem: S3Problem::Interrupted {
                            offset,
                            size: obj.size,
                            attempts: resumes + 1,
                            detail: if detail.is_empty() { last_break } else { detail },
                        },
                    }));
                }
                resumes += 1;
                last_break = detail;
                tokio::time::sleep(RESUME_BACKOFF * 2u32.saturating_pow(resumes - 1)).await;
            }
        }
    }
}

/// Errors a resume cannot cure.
fn is_final(err: &S3Error) -> bool {
    matches!(
        err,
        S3Error::At {
            problem: S3Problem::Changed { .. }
                | S3Problem::NoSuchKey
                | S3Problem::NoSuchBucket { .. }
                | S3Problem::AccessDenied { .. }
                | S3Problem::CredentialsRejected { .. },
            ..
        }
    )
}

enum PumpError {
    Closed,
    Broken(String),
}

/// Pass a body's chunks on until it ends or breaks.
async fn pump(
    mut body: ByteStream,
    offset: &mut u64,
    counters: &Counters,
    tx: &mpsc::Sender<Piece>,
) -> Result<(), PumpError> {
    loop {
        match body.try_next().await {
            Ok(Some(chunk)) => {
                if chunk.is_empty() {
                    continue;
                }
                let n = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
                *offset = offset.saturating_add(n);
                counters.bytes.fetch_add(n, Ordering::Relaxed);
                if tx.send(Piece::Data(chunk)).await.is_err() {
                    return Err(PumpError::Closed);
                }
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                return Err(PumpError::Broken(crate::ingest::aws::innermost_message(&e)));
            }
        }
    }
}
