//! The S3 input source: connect once, select the objects of the given
//! prefixes for a window, then stream them into the ingest path (each object
//! one input named `s3://bucket/key`, parsed exactly as a local file of the
//! same bytes).

use std::io::BufReader;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::client::{Connection, connect};
use super::fetch::{Counters, ObjectReader, for_each_object};
use super::list::list_prefix;
use super::{KeyWindow, S3Error, S3Object, S3Uri};
use crate::flow::SourceId;
use crate::ingest::aws::AwsOptions;
use crate::ingest::{
    FlowSink, IngestError, IngestOptions, Ingested, base_plan, flowlog, join, read_named,
};

/// Read buffer per object being parsed.
const READ_BUFFER: usize = 256 << 10;

/// A connected S3 client with its own small async runtime. The public
/// functions block until their work is over.
pub struct S3Reader {
    rt: tokio::runtime::Runtime,
    conn: Arc<Connection>,
    concurrency: usize,
    counters: Arc<Counters>,
}

/// The objects chosen under the given prefixes.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Prefix by prefix in the order given, each sorted by key.
    pub objects: Vec<S3Object>,
    /// Keys the listings returned (selected or not).
    pub seen: u64,
    /// ListObjectsV2 requests sent.
    pub list_requests: u64,
}

impl Selection {
    /// Bytes of the selected objects, as listed.
    pub fn bytes(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }

    /// One line for the user: what was selected out of what was listed.
    pub fn describe(&self, uris: &[S3Uri], window: &KeyWindow) -> String {
        let names: Vec<String> = uris.iter().map(ToString::to_string).collect();
        let scope = if window.is_open() {
            "every object"
        } else {
            "the objects the time window needs"
        };
        format!(
            "{}: selected {} objects ({}) of {} keys listed in {} ListObjectsV2 requests ({scope})",
            names.join(" "),
            self.objects.len(),
            HumanBytes(self.bytes()),
            self.seen,
            self.list_requests,
        )
    }
}

impl S3Reader {
    /// Load the AWS configuration (see [`crate::ingest::aws::load`]) and
    /// build the client; fetch up to `concurrency` objects at once.
    pub fn connect(aws: &AwsOptions, concurrency: usize) -> Result<S3Reader, S3Error> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("privpath-s3")
            .build()
            .map_err(S3Error::Runtime)?;
        let conn = rt.block_on(connect(aws))?;
        Ok(S3Reader {
            rt,
            conn: Arc::new(conn),
            concurrency: concurrency.max(1),
            counters: Arc::new(Counters::default()),
        })
    }

    /// List every prefix and keep what `window` needs (everything when it
    /// is open). Any listing error (no such bucket, access denied, another
    /// region, throttled after retries) stops here.
    pub fn select(&self, uris: &[S3Uri], window: &KeyWindow) -> Result<Selection, S3Error> {
        let mut sel = Selection::default();
        for uri in uris {
            let listed = self.rt.block_on(list_prefix(&self.conn, uri, window))?;
            sel.objects.extend(listed.objects);
            sel.seen += listed.seen;
            sel.list_requests += listed.requests;
        }
        Ok(sel)
    }

    /// GetObject requests sent so far (first tries and resumes).
    pub fn get_requests(&self) -> u64 {
        self.counters.gets.load(Ordering::Relaxed)
    }

    /// Stream the selected objects into sinks made by `make_sink`, merged in
    /// object order (the result does not depend on timing or thread
    /// count). Source ids start at `first`. An object that cannot be read
    /// keeps what was parsed and has `tally.error` set
    /// (`s3://bucket/key: …`); only a bad `--log-format` fails up front.
    pub fn read<S, F>(
        &self,
        sel: &Selection,
        opts: &IngestOptions,
        first: SourceId,
        make_sink: F,
    ) -> Result<Ingested<S>, IngestError>
    where
        S: FlowSink,
        F: Fn() -> S + Sync,
    {
        self.read_picked(sel, opts, first, &make_sink, |_| true)
    }

    /// [`S3Reader::read`] of the objects `pick` accepts; object `i` of the
    /// selection is still source `first + i` (a run can read its objects in
    /// two parts and keep the ids of one).
    pub fn read_picked<S, F>(
        &self,
        sel: &Selection,
        opts: &IngestOptions,
        first: SourceId,
        make_sink: &F,
        pick: impl Fn(&S3Object) -> bool,
    ) -> Result<Ingested<S>, IngestError>
    where
        S: FlowSink,
        F: Fn() -> S + Sync,
    {
        let plan = base_plan(opts)?;
        let (ids, picked): (Vec<usize>, Vec<S3Object>) = sel
            .objects
            .iter()
            .enumerate()
            .filter(|(_, o)| pick(o))
            .map(|(i, o)| (i, o.clone()))
            .unzip();
        let sel = &Selection {
            objects: picked,
            seen: sel.seen,
            list_requests: sel.list_requests,
        };
        let objects = Arc::new(sel.objects.clone());
        let mut sink = make_sink();
        let mut sources = Vec::with_capacity(objects.len());
        let mut dns = Vec::new();
        let mut api_calls = Vec::new();
        let bar = Progress::new(opts.progress, sel);
        let names = Arc::clone(&objects);
        self.run(
            objects,
            |i, reader| {
                let id = ids
                    .get(i)
                    .and_then(|&i| u32::try_from(i).ok())
                    .and_then(|i| first.0.checked_add(i))
                    .map_or(SourceId(u32::MAX), SourceId);
                let name = names.get(i).map(S3Object::uri).unwrap_or_default();
                read_named(
                    Box::new(BufReader::with_capacity(READ_BUFFER, reader)),
                    name,
                    id,
                    opts,
                    &plan,
                    flowlog::text::CHUNK_BYTES,
                    make_sink,
                )
            },
            |_, (summary, s, ev)| {
                sink.merge(s);
                sources.push(summary);
                join(&mut dns, ev.dns);
                join(&mut api_calls, ev.calls);
                bar.update(&self.counters);
            },
        );
        bar.finish();
        Ok(Ingested {
            sink,
            sources,
            dns,
            api_calls,
            aside: Vec::new(),
        })
    }

    /// Fetch `objects`, `process` each reader in the rayon pool, `merge` the
    /// results in order on this thread.
    pub(crate) fn run<R, P, M>(&self, objects: Arc<Vec<S3Object>>, process: P, merge: M)
    where
        R: Send,
        P: Fn(usize, ObjectReader) -> R + Sync,
        M: FnMut(usize, R),
    {
        for_each_object(
            &self.rt,
            Arc::clone(&self.conn),
            objects,
            self.concurrency,
            Arc::clone(&self.counters),
            process,
            merge,
        );
    }

    pub(crate) fn counters(&self) -> &Counters {
        &self.counters
    }
}

/// Objects and bytes fetched of the selection, on stderr, when asked for.
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    total: usize,
    total_bytes: u64,
}

impl Progress {
    pub(crate) fn new(enabled: bool, sel: &Selection) -> Progress {
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
            total: sel.objects.len(),
            total_bytes: sel.bytes(),
        };
        p.show(0, 0);
        p
    }

    pub(crate) fn update(&self, c: &Counters) {
        self.show(
            c.objects_done.load(Ordering::Relaxed),
            c.bytes.load(Ordering::Relaxed),
        );
    }

    fn show(&self, done: u64, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "{done}/{} objects, {} of {} from S3",
                self.total,
                HumanBytes(bytes),
                HumanBytes(self.total_bytes)
            ));
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
