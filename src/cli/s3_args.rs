//! `s3://BUCKET/PREFIX` inputs of `audit` and `flows`: telling them from
//! local paths, the S3 options, and the selection step (connect, list, say
//! what was selected) that runs before any file is read.

use std::path::PathBuf;

use anyhow::bail;
use clap::Args;
use privpath::ingest::s3::{S3Uri, is_s3_uri};

/// Options of `s3://` inputs.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "S3")]
pub struct S3Args {
    /// S3 objects fetched at once
    #[arg(long, value_name = "N", default_value_t = 8,
          value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrent_objects: u16,
}

impl Default for S3Args {
    fn default() -> Self {
        S3Args {
            concurrent_objects: 8,
        }
    }
}

/// Split the inputs into local paths and `s3://` URIs (each order kept).
pub fn split_inputs(inputs: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Vec<S3Uri>)> {
    let mut paths = Vec::new();
    let mut uris = Vec::new();
    for p in inputs {
        match p.to_str() {
            Some(s) if is_s3_uri(s) => match S3Uri::parse(s) {
                Ok(u) => uris.push(u),
                Err(e) => bail!("{e}"),
            },
            _ => paths.push(p.clone()),
        }
    }
    Ok((paths, uris))
}

/// Connect and select the objects of `uris` for `opts.key_window`; `None`
/// without URIs. Says on stderr what was selected unless `quiet`.
#[cfg(feature = "aws")]
pub fn select(
    uris: &[S3Uri],
    aws: &super::cloudwatch_args::AwsArgs,
    s3: &S3Args,
    opts: &privpath::ingest::IngestOptions,
    quiet: bool,
) -> anyhow::Result<Option<(privpath::ingest::s3::S3Reader, privpath::ingest::s3::Selection)>> {
    use std::io::Write;

    use privpath::ingest::s3::S3Reader;

    if uris.is_empty() {
        return Ok(None);
    }
    let reader = S3Reader::connect(&aws.to_options(), usize::from(s3.concurrent_objects))?;
    let selection = reader.select(uris, &opts.key_window)?;
    if !quiet {
        let line = selection.describe(uris, &opts.key_window);
        writeln!(
            std::io::stderr().lock(),
            "privpath: {}",
            privpath::error::sanitize(&line, 2_000)
        )?;
    }
    Ok(Some((reader, selection)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_are_told_from_paths() {
        let (paths, uris) = split_inputs(&[
            PathBuf::from("samples/lab"),
            PathBuf::from("s3://logs/AWSLogs/"),
            PathBuf::from("-"),
            PathBuf::from("s3://other"),
        ])
        .unwrap();
        assert_eq!(paths, [PathBuf::from("samples/lab"), PathBuf::from("-")]);
        assert_eq!(
            uris.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["s3://logs/AWSLogs/", "s3://other/"]
        );
        let err = split_inputs(&[PathBuf::from("s3://Bad_Bucket/x")]).unwrap_err();
        assert!(err.to_string().contains("not a valid bucket name"), "{err}");
    }
}
