//! The SDK side: configuration chain, request builders and the mapping of SDK
//! errors to one clear line each. Nothing here prints, and no message ever
//! contains credential material.

use std::error::Error as StdError;

use aws_sdk_cloudwatchlogs::Client;
use aws_sdk_cloudwatchlogs::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cloudwatchlogs::operation::describe_log_streams::builders::DescribeLogStreamsFluentBuilder;
use aws_sdk_cloudwatchlogs::operation::filter_log_events::builders::FilterLogEventsFluentBuilder;

use super::{CloudWatchSource, StreamSelection};
use crate::error::sanitize;
use crate::ingest::aws::{
    self, AwsConfigError, MESSAGE_MAX, configured_endpoint, innermost_message,
    is_credentials_rejected,
};

/// Why a CloudWatch pull could not start or a stream could not be read.
/// Each renders as one line that names what to fix.
#[derive(Debug, thiserror::Error)]
pub enum CloudWatchError {
    /// No region or credentials.
    #[error(transparent)]
    Config(#[from] AwsConfigError),
    #[error("log group '{group}' not found in region {region} (check the name and --region)")]
    LogGroupNotFound { group: String, region: String },
    #[error("log stream '{stream}' not found in log group '{group}'")]
    LogStreamNotFound { group: String, stream: String },
    #[error("access denied to {operation} on log group '{group}': {message}")]
    AccessDenied {
        operation: &'static str,
        group: String,
        message: String,
    },
    #[error(
        "AWS rejected the credentials in region {region} ({code}): {message} (check the keys, the profile, and that the region is enabled)"
    )]
    CredentialsRejected {
        region: String,
        code: String,
        message: String,
    },
    #[error(
        "cannot reach CloudWatch Logs at {endpoint}: {detail} (check --region, --endpoint-url and the network)"
    )]
    Unreachable { endpoint: String, detail: String },
    #[error("{operation} on log group '{group}' failed: {code}: {message}")]
    Service {
        operation: &'static str,
        group: String,
        code: String,
        message: String,
    },
    #[error("invalid --log-format: {0}")]
    Format(String),
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the CloudWatch client: {0}")]
    Runtime(std::io::Error),
    #[error("the fetch of log stream '{0}' ended without a result")]
    Interrupted(String),
}

/// A configured client plus what messages need to say where it points.
pub(crate) struct Connection {
    pub client: Client,
    pub region: String,
    pub endpoint: String,
}

/// Load the shared configuration chain (see [`aws::load`]) and build the
/// CloudWatch Logs client.
pub(crate) async fn connect(src: &CloudWatchSource) -> Result<Connection, CloudWatchError> {
    let loaded = aws::load(&src.aws).await?;
    let endpoint = endpoint_for_messages(
        src.aws.endpoint_url.as_deref(),
        loaded.conf.endpoint_url(),
        &loaded.region,
    );
    Ok(Connection {
        client: Client::new(&loaded.conf),
        region: loaded.region,
        endpoint,
    })
}

/// The endpoint requests go to, as far as the configuration says: an explicit
/// URL, then `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, then `AWS_ENDPOINT_URL`
/// (already folded into the shared config), else the regional default.
fn endpoint_for_messages(explicit: Option<&str>, shared: Option<&str>, region: &str) -> String {
    configured_endpoint(explicit, shared, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS")
        .unwrap_or_else(|| format!("https://logs.{region}.amazonaws.com"))
}

/// `DescribeLogStreams` for the selection: the prefix (or an exact name, to
/// check it exists) goes to the service.
pub(crate) fn describe_streams_request(
    client: &Client,
    src: &CloudWatchSource,
    prefix: Option<&str>,
) -> DescribeLogStreamsFluentBuilder {
    client
        .describe_log_streams()
        .log_group_name(&src.log_group)
        .set_log_stream_name_prefix(prefix.map(str::to_owned))
}

/// The prefix sent to `DescribeLogStreams` when listing the whole selection.
pub(crate) fn selection_prefix(sel: &StreamSelection) -> Option<&str> {
    match sel {
        StreamSelection::Prefix(p) => Some(p.as_str()),
        StreamSelection::All | StreamSelection::Names(_) => None,
    }
}

/// `FilterLogEvents` for one stream with the time range and filter pattern.
/// The page size is set by the paginator.
pub(crate) fn filter_request(
    client: &Client,
    src: &CloudWatchSource,
    stream: &str,
) -> FilterLogEventsFluentBuilder {
    client
        .filter_log_events()
        .log_group_name(&src.log_group)
        .log_stream_names(stream)
        .set_start_time(src.start.map(|t| t.as_millisecond()))
        .set_end_time(src.end.map(|t| t.as_millisecond()))
        .set_filter_pattern(src.filter_pattern.clone())
}

/// What a `ResourceNotFoundException` means for the call that got it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NotFound<'a> {
    Group,
    Stream(&'a str),
}

/// One SDK failure as one clear error, by kind: the service's error code for
/// answers, the transport's innermost cause for requests that got none.
pub(crate) fn map_sdk_error<E, R>(
    err: &SdkError<E, R>,
    operation: &'static str,
    src: &CloudWatchSource,
    conn: &Connection,
    not_found: NotFound<'_>,
) -> CloudWatchError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: std::fmt::Debug + 'static,
{
    let group = src.log_group.clone();
    match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("unknown error").to_owned();
            let message = sanitize(e.message().unwrap_or(""), MESSAGE_MAX);
            service_error(code, message, operation, src, conn, not_found)
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => CloudWatchError::Unreachable {
            endpoint: conn.endpoint.clone(),
            detail: innermost_message(err),
        },
        SdkError::ResponseError(_) => CloudWatchError::Service {
            operation,
            group,
            code: "unreadable response".to_owned(),
            message: innermost_message(err),
        },
        _ => CloudWatchError::Service {
            operation,
            group,
            code: "request not sent".to_owned(),
            message: innermost_message(err),
        },
    }
}

fn service_error(
    code: String,
    message: String,
    operation: &'static str,
    src: &CloudWatchSource,
    conn: &Connection,
    not_found: NotFound<'_>,
) -> CloudWatchError {
    let group = src.log_group.clone();
    match code.as_str() {
        "ResourceNotFoundException" => match not_found {
            // The service says which one is missing; a stream query can
            // also find the whole group gone.
            NotFound::Stream(stream) if !message.to_ascii_lowercase().contains("log group") => {
                CloudWatchError::LogStreamNotFound {
                    group,
                    stream: stream.to_owned(),
                }
            }
            _ => CloudWatchError::LogGroupNotFound {
                group,
                region: conn.region.clone(),
            },
        },
        "AccessDeniedException" | "AccessDenied" | "UnauthorizedOperation" => {
            CloudWatchError::AccessDenied {
                operation,
                group,
                message,
            }
        }
        c if is_credentials_rejected(c) => CloudWatchError::CredentialsRejected {
            region: conn.region.clone(),
            code,
            message,
        },
        _ => CloudWatchError::Service {
            operation,
            group,
            code,
            message,
        },
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::ingest::cloudwatch_pull::AwsOptions;

    /// A client that is never sent anything: only its request builders are used.
    fn offline_client() -> Client {
        use aws_config::{BehaviorVersion, Region};
        let conf = aws_sdk_cloudwatchlogs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("ap-northeast-2"))
            .build();
        Client::from_conf(conf)
    }

    fn source() -> CloudWatchSource {
        let mut s = CloudWatchSource::new("/vpc/flowlogs");
        s.aws = AwsOptions {
            region: Some("ap-northeast-2".into()),
            ..AwsOptions::default()
        };
        s
    }

    #[test]
    fn filter_request_carries_pattern_time_range_and_stream() {
        let mut src = source();
        src.filter_pattern = Some("REJECT".into());
        src.start = Some("2026-11-25T10:00:00Z".parse().unwrap());
        src.end = Some("2026-11-25T11:00:00.5Z".parse().unwrap());
        let req = filter_request(&offline_client(), &src, "eni-0a1b-all");
        let input = req.as_input();
        assert_eq!(input.get_log_group_name().as_deref(), Some("/vpc/flowlogs"));
        assert_eq!(input.get_filter_pattern().as_deref(), Some("REJECT"));
        assert_eq!(
            input.get_log_stream_names().as_deref(),
            Some(&["eni-0a1b-all".to_owned()][..])
        );
        assert_eq!(*input.get_start_time(), Some(1_795_600_800_000));
        assert_eq!(*input.get_end_time(), Some(1_795_604_400_500));
        // Names and a prefix together are an error at AWS: never both.
        assert_eq!(*input.get_log_stream_name_prefix(), None);
    }

    #[test]
    fn filter_request_without_options_sends_no_filter() {
        let req = filter_request(&offline_client(), &source(), "s");
        let input = req.as_input();
        assert_eq!(*input.get_filter_pattern(), None);
        assert_eq!(*input.get_start_time(), None);
        assert_eq!(*input.get_end_time(), None);
    }

    #[test]
    fn log_stream_prefix_goes_to_describe_log_streams() {
        let mut src = source();
        src.streams = StreamSelection::Prefix("eni-0abc".into());
        let prefix = selection_prefix(&src.streams);
        let req = describe_streams_request(&offline_client(), &src, prefix);
        let input = req.as_input();
        assert_eq!(
            input.get_log_stream_name_prefix().as_deref(),
            Some("eni-0abc")
        );
        assert_eq!(input.get_log_group_name().as_deref(), Some("/vpc/flowlogs"));
    }

    #[test]
    fn selection_without_prefix_lists_everything() {
        assert_eq!(selection_prefix(&StreamSelection::All), None);
        assert_eq!(
            selection_prefix(&StreamSelection::Names(vec!["a".into()])),
            None
        );
    }

    fn conn() -> Connection {
        Connection {
            client: offline_client(),
            region: "ap-northeast-2".into(),
            endpoint: "http://127.0.0.1:1".into(),
        }
    }

    #[test]
    fn service_codes_map_to_user_errors() {
        let src = source();
        let c = conn();
        let cases: &[(&str, &str, NotFound<'_>, &str)] = &[
            (
                "ResourceNotFoundException",
                "The specified log group does not exist.",
                NotFound::Group,
                "log group '/vpc/flowlogs' not found in region ap-northeast-2 (check the name and --region)",
            ),
            (
                "ResourceNotFoundException",
                "The specified log stream does not exist.",
                NotFound::Stream("eni-1"),
                "log stream 'eni-1' not found in log group '/vpc/flowlogs'",
            ),
            (
                "ResourceNotFoundException",
                "The specified log group does not exist.",
                NotFound::Stream("eni-1"),
                "log group '/vpc/flowlogs' not found in region ap-northeast-2 (check the name and --region)",
            ),
            (
                "AccessDeniedException",
                "User is not authorized to perform logs:FilterLogEvents",
                NotFound::Group,
                "access denied to FilterLogEvents on log group '/vpc/flowlogs': User is not authorized to perform logs:FilterLogEvents",
            ),
            (
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                NotFound::Group,
                "AWS rejected the credentials in region ap-northeast-2 (UnrecognizedClientException): The security token included in the request is invalid. (check the keys, the profile, and that the region is enabled)",
            ),
            (
                "InvalidParameterException",
                "bad\x1b[31m",
                NotFound::Group,
                "FilterLogEvents on log group '/vpc/flowlogs' failed: InvalidParameterException: bad\\u{1b}[31m",
            ),
        ];
        for (code, message, nf, want) in cases {
            let got = service_error(
                (*code).into(),
                sanitize(message, MESSAGE_MAX),
                "FilterLogEvents",
                &src,
                &c,
                *nf,
            );
            assert_eq!(got.to_string(), *want, "case {code} / {message}");
        }
    }

    #[test]
    fn explicit_endpoint_wins_in_messages() {
        assert_eq!(
            endpoint_for_messages(Some("http://127.0.0.1:5000"), Some("http://x"), "eu-west-1"),
            "http://127.0.0.1:5000"
        );
    }
}
