//! The async half: list the streams, page through each with the SDK
//! paginator (a bounded number at once), and pass the pages over a bounded
//! channel to the synchronous consumer, which [`drive`] runs on the calling
//! thread. Backpressure: a slow consumer stops the fetchers once
//! the channel is full, so memory stays at a few pages per stream in flight.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::sync::mpsc;

use super::client::{
    Connection, NotFound, connect, describe_streams_request, filter_request, map_sdk_error,
    selection_prefix,
};
use super::{CloudWatchError, CloudWatchSource, Event, StreamSelection};

/// Pages buffered between the fetchers and the consumer, per fetcher.
const PAGES_IN_FLIGHT_PER_STREAM: usize = 2;

/// What the fetchers send.
enum Msg {
    /// Events of one page, in the stream's order (never empty).
    Page { stream: usize, events: Vec<Event> },
    /// A stream is finished: fully read, or stopped by `error`.
    Done {
        stream: usize,
        error: Option<CloudWatchError>,
    },
}

/// The synchronous side of a pull. Pages of one stream arrive in order;
/// pages of different streams interleave.
pub(crate) trait PageSink {
    /// Events of `stream` (an index into the sorted stream list).
    fn page(&mut self, stream: usize, events: Vec<Event>) -> Result<(), CloudWatchError>;
    /// `stream` is over; `error` says why it stopped early. An `Err` returned
    /// here stops the whole pull.
    fn done(
        &mut self,
        stream: usize,
        error: Option<CloudWatchError>,
    ) -> Result<(), CloudWatchError>;
}

/// Connect, list the selected streams (sorted by name), build the consumer
/// with `make`, fetch every stream into it, and return it.
///
/// Errors before the first event (credentials, region, a missing group or
/// stream, access denied, an unreachable endpoint) are returned; a stream
/// that fails later is reported to the sink through [`PageSink::done`].
pub(crate) fn drive<K, M>(
    src: &CloudWatchSource,
    progress: bool,
    make: M,
) -> Result<K, CloudWatchError>
where
    K: PageSink,
    M: FnOnce(&[String]) -> Result<K, CloudWatchError>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("privpath-cloudwatch")
        .build()
        .map_err(CloudWatchError::Runtime)?;
    let outcome = run(&rt, src, progress, make);
    // Fetchers still running (the consumer failed) are dropped, not awaited.
    rt.shutdown_background();
    outcome
}

fn run<K, M>(
    rt: &tokio::runtime::Runtime,
    src: &CloudWatchSource,
    progress: bool,
    make: M,
) -> Result<K, CloudWatchError>
where
    K: PageSink,
    M: FnOnce(&[String]) -> Result<K, CloudWatchError>,
{
    let conn = rt.block_on(connect(src))?;
    let streams = rt.block_on(list_streams(&conn, src))?;
    let mut sink = make(&streams)?;

    let fetchers = src.concurrency.clamp(1, streams.len().max(1));
    let (tx, mut rx) = mpsc::channel(fetchers * PAGES_IN_FLIGHT_PER_STREAM);
    let shared = Arc::new(Shared {
        conn,
        src: src.clone(),
        streams,
        next: AtomicUsize::new(0),
    });
    for _ in 0..fetchers {
        rt.spawn(fetch_streams(Arc::clone(&shared), tx.clone()));
    }
    drop(tx);

    let total = shared.streams.len();
    let mut bar = Progress::new(progress, total);
    let mut finished = vec![false; total];
    // Ends when every fetcher has returned (all senders dropped).
    while let Some(msg) = rx.blocking_recv() {
        match msg {
            Msg::Page { stream, events } => {
                bar.page(&events);
                sink.page(stream, events)?;
            }
            Msg::Done { stream, error } => {
                if let Some(f) = finished.get_mut(stream) {
                    *f = true;
                }
                bar.stream_done();
                sink.done(stream, error)?;
            }
        }
    }
    // A fetcher that died (it cannot panic by design, but a runtime can
    // drop tasks) leaves its stream unfinished: say so rather than pass off
    // a partial stream as whole.
    for (i, done) in finished.iter().enumerate() {
        if !done {
            let name = shared.streams.get(i).cloned().unwrap_or_default();
            sink.done(i, Some(CloudWatchError::Interrupted(name)))?;
        }
    }
    bar.finish();
    Ok(sink)
}

/// What every fetcher task shares.
struct Shared {
    conn: Connection,
    src: CloudWatchSource,
    streams: Vec<String>,
    /// The next stream index to take.
    next: AtomicUsize,
}

/// The selected stream names, sorted and unique. A name given explicitly
/// that the group does not have is an error.
async fn list_streams(
    conn: &Connection,
    src: &CloudWatchSource,
) -> Result<Vec<String>, CloudWatchError> {
    let mut names = match &src.streams {
        StreamSelection::Names(wanted) => {
            let mut found = Vec::with_capacity(wanted.len());
            for name in wanted {
                // Exact names are checked with the name as a prefix: one
                // short listing each instead of the whole group.
                let listed = describe_streams(conn, src, Some(name)).await?;
                if !listed.iter().any(|n| n == name) {
                    return Err(CloudWatchError::LogStreamNotFound {
                        group: src.log_group.clone(),
                        stream: name.clone(),
                    });
                }
                found.push(name.clone());
            }
            found
        }
        sel => describe_streams(conn, src, selection_prefix(sel)).await?,
    };
    names.sort_unstable();
    names.dedup();
    Ok(names)
}

async fn describe_streams(
    conn: &Connection,
    src: &CloudWatchSource,
    prefix: Option<&str>,
) -> Result<Vec<String>, CloudWatchError> {
    let mut pages = describe_streams_request(&conn.client, src, prefix)
        .into_paginator()
        .send();
    let mut names = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| map_sdk_error(&e, "DescribeLogStreams", src, conn, NotFound::Group))?;
        names.extend(
            page.log_streams()
                .iter()
                .filter_map(|s| s.log_stream_name())
                .map(str::to_owned),
        );
    }
    Ok(names)
}

/// One fetcher: take the next stream until none is left.
async fn fetch_streams(shared: Arc<Shared>, tx: mpsc::Sender<Msg>) {
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(name) = shared.streams.get(index) else {
            return;
        };
        let Ok(error) = fetch_stream(&shared, index, name, &tx).await else {
            return; // the consumer is gone
        };
        if tx
            .send(Msg::Done {
                stream: index,
                error,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

/// The consumer hung up.
struct Closed;

/// Page through one stream. The SDK paginator goes on while a `nextToken`
/// comes back, also after empty pages (AWS sends those while it searches),
/// and retries throttled or failed requests with backoff.
async fn fetch_stream(
    shared: &Shared,
    index: usize,
    name: &str,
    tx: &mpsc::Sender<Msg>,
) -> Result<Option<CloudWatchError>, Closed> {
    let src = &shared.src;
    let mut pages = filter_request(&shared.conn.client, src, name)
        .into_paginator()
        .page_size(src.page_size.clamp(1, super::DEFAULT_PAGE_SIZE))
        .send();
    while let Some(page) = pages.next().await {
        let out = match page {
            Ok(out) => out,
            Err(e) => {
                let err = map_sdk_error(
                    &e,
                    "FilterLogEvents",
                    src,
                    &shared.conn,
                    NotFound::Stream(name),
                );
                return Ok(Some(err));
            }
        };
        let events: Vec<Event> = out
            .events
            .unwrap_or_default()
            .into_iter()
            .map(|e| Event {
                timestamp: e.timestamp.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
            })
            .collect();
        if events.is_empty() {
            continue;
        }
        if tx
            .send(Msg::Page {
                stream: index,
                events,
            })
            .await
            .is_err()
        {
            return Err(Closed);
        }
    }
    Ok(None)
}

/// Events and bytes fetched, on stderr, when asked for.
struct Progress {
    bar: Option<ProgressBar>,
    events: u64,
    bytes: u64,
    done: usize,
    total: usize,
}

impl Progress {
    fn new(enabled: bool, total: usize) -> Progress {
        let bar = enabled.then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            bar
        });
        let p = Progress {
            bar,
            events: 0,
            bytes: 0,
            done: 0,
            total,
        };
        p.show();
        p
    }

    fn page(&mut self, events: &[Event]) {
        self.events += u64::try_from(events.len()).unwrap_or(u64::MAX);
        let bytes: usize = events.iter().map(|e| e.message.len()).sum();
        self.bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
        self.show();
    }

    fn stream_done(&mut self) {
        self.done += 1;
        self.show();
    }

    fn show(&self) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{} events, {} fetched from {}/{} log streams",
                self.events,
                HumanBytes(self.bytes),
                self.done,
                self.total
            ));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
