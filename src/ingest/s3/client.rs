//! The S3 client (configured by the shared chain of
//! [`crate::ingest::aws`]) and the mapping of its errors to one line each,
//! naming the bucket and key or prefix.

use std::error::Error as StdError;

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};

use crate::error::sanitize;
use crate::ingest::aws::{
    self, AwsConfigError, AwsOptions, MAX_ATTEMPTS, MESSAGE_MAX, configured_endpoint,
    innermost_message, is_credentials_rejected,
};

/// A failure on one bucket, prefix or object: `"{uri}: {problem}"`.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    #[error(transparent)]
    Config(#[from] AwsConfigError),
    #[error("{uri}: {problem}")]
    At { uri: String, problem: S3Problem },
    #[error("cannot start the S3 client: {0}")]
    Runtime(std::io::Error),
}

/// What went wrong at one URI.
#[derive(Debug, thiserror::Error)]
pub enum S3Problem {
    #[error("no such bucket '{bucket}' (region {region}; check the name and --region)")]
    NoSuchBucket { bucket: String, region: String },
    #[error("no such key (was it deleted after the listing?)")]
    NoSuchKey,
    #[error("access denied to {operation}: {message}")]
    AccessDenied {
        operation: &'static str,
        message: String,
    },
    #[error(
        "the bucket is in region {actual}, not {configured}: pass --region {actual}"
    )]
    WrongRegion { actual: String, configured: String },
    #[error(
        "the bucket is in another region than {configured} ({code}): pass the bucket's region with --region"
    )]
    OtherRegion { configured: String, code: String },
    #[error(
        "AWS rejected the credentials in region {region} ({code}): {message} (check the keys, the profile, and that the region is enabled)"
    )]
    CredentialsRejected {
        region: String,
        code: String,
        message: String,
    },
    #[error("{operation} throttled by S3 ({code}) after {attempts} attempts: {message}")]
    Throttled {
        operation: &'static str,
        code: String,
        attempts: u32,
        message: String,
    },
    #[error("{operation} failed after {attempts} attempts: {code}: {message}")]
    Unavailable {
        operation: &'static str,
        code: String,
        attempts: u32,
        message: String,
    },
    #[error("the download was interrupted at byte {offset} of {size} and could not be resumed after {attempts} attempts: {detail}")]
    Interrupted {
        offset: u64,
        size: u64,
        attempts: u32,
        detail: String,
    },
    #[error("the object changed while it was read (its ETag is no longer {etag})")]
    Changed { etag: String },
    #[error("cannot reach S3 at {endpoint}: {detail} (check --region, --endpoint-url and the network)")]
    Unreachable { endpoint: String, detail: String },
    #[error("{operation} failed: {code}: {message}")]
    Service {
        operation: &'static str,
        code: String,
        message: String,
    },
}

/// A configured client plus what messages need to say where it points.
pub(crate) struct Connection {
    pub client: Client,
    pub region: String,
    pub endpoint: String,
}

/// Load the shared configuration chain and build the S3 client. With an
/// endpoint override (an emulator, a private S3 endpoint URL) requests use
/// path-style addressing, which needs no per-bucket DNS name.
pub(crate) async fn connect(opts: &AwsOptions) -> Result<Connection, S3Error> {
    let loaded = aws::load(opts).await?;
    let configured = configured_endpoint(
        opts.endpoint_url.as_deref(),
        loaded.conf.endpoint_url(),
        "AWS_ENDPOINT_URL_S3",
    );
    let mut builder = aws_sdk_s3::config::Builder::from(&loaded.conf);
    if configured.is_some() {
        builder = builder.force_path_style(true);
    }
    let endpoint = configured.unwrap_or_else(|| format!("https://s3.{}.amazonaws.com", loaded.region));
    Ok(Connection {
        client: Client::from_conf(builder.build()),
        region: loaded.region,
        endpoint,
    })
}

/// One SDK failure at `uri` as one clear error.
pub(crate) fn map_sdk_error<E, R>(
    err: &SdkError<E, R>,
    operation: &'static str,
    uri: String,
    bucket: &str,
    conn: &Connection,
) -> S3Error
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: HttpHeaders + std::fmt::Debug + 'static,
{
    let problem = match err {
        SdkError::ServiceError(se) => {
            let e = se.err();
            let code = e.code().unwrap_or("").to_owned();
            let message = sanitize(e.message().unwrap_or(""), MESSAGE_MAX);
            let raw = se.raw();
            let code = if code.is_empty() {
                status_code_name(raw.status()).to_owned()
            } else {
                code
            };
            service_problem(
                &code,
                message,
                operation,
                bucket,
                conn,
                raw.header("x-amz-bucket-region"),
            )
        }
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => S3Problem::Unreachable {
            endpoint: conn.endpoint.clone(),
            detail: innermost_message(err),
        },
        SdkError::ResponseError(_) => S3Problem::Service {
            operation,
            code: "unreadable response".to_owned(),
            message: innermost_message(err),
        },
        _ => S3Problem::Service {
            operation,
            code: "request not sent".to_owned(),
            message: innermost_message(err),
        },
    };
    S3Error::At { uri, problem }
}

/// The few response parts the mapping reads.
pub(crate) trait HttpHeaders {
    fn status(&self) -> u16;
    fn header(&self, name: &str) -> Option<String>;
}

impl HttpHeaders for aws_sdk_s3::config::http::HttpResponse {
    fn status(&self) -> u16 {
        self.status().as_u16()
    }
    fn header(&self, name: &str) -> Option<String> {
        self.headers().get(name).map(|v| sanitize(v, 40))
    }
}

/// A name for an error answer without a code (a HEAD-style 301 or 403).
fn status_code_name(status: u16) -> &'static str {
    match status {
        301 => "PermanentRedirect",
        403 => "AccessDenied",
        404 => "NotFound",
        412 => "PreconditionFailed",
        503 => "SlowDown",
        _ => "unknown error",
    }
}

/// An error answer by its code.
pub(crate) fn service_problem(
    code: &str,
    message: String,
    operation: &'static str,
    bucket: &str,
    conn: &Connection,
    bucket_region: Option<String>,
) -> S3Problem {
    match code {
        "NoSuchBucket" => S3Problem::NoSuchBucket {
            bucket: bucket.to_owned(),
            region: conn.region.clone(),
        },
        "NoSuchKey" => S3Problem::NoSuchKey,
        "AccessDenied" | "AllAccessDisabled" | "AccountProblem" => {
            S3Problem::AccessDenied { operation, message }
        }
        "PermanentRedirect" | "AuthorizationHeaderMalformed" | "IllegalLocationConstraintException"
        | "Redirect" | "TemporaryRedirect" => match bucket_region {
            Some(actual) if actual != conn.region => S3Problem::WrongRegion {
                actual,
                configured: conn.region.clone(),
            },
            _ => S3Problem::OtherRegion {
                configured: conn.region.clone(),
                code: code.to_owned(),
            },
        },
        "PreconditionFailed" => S3Problem::Changed {
            etag: String::new(),
        },
        "SlowDown" | "Throttling" | "ThrottlingException" | "RequestLimitExceeded"
        | "TooManyRequestsException" | "RequestThrottled" => S3Problem::Throttled {
            operation,
            code: code.to_owned(),
            attempts: MAX_ATTEMPTS,
            message,
        },
        "InternalError" | "ServiceUnavailable" | "RequestTimeout" => S3Problem::Unavailable {
            operation,
            code: code.to_owned(),
            attempts: MAX_ATTEMPTS,
            message,
        },
        c if is_credentials_rejected(c) => S3Problem::CredentialsRejected {
            region: conn.region.clone(),
            code: code.to_owned(),
            message,
        },
        _ => S3Problem::Service {
            operation,
            code: code.to_owned(),
            message,
        },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        use aws_config::{BehaviorVersion, Region};
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("ap-northeast-2"))
            .build();
        Connection {
            client: Client::from_conf(conf),
            region: "ap-northeast-2".into(),
            endpoint: "http://127.0.0.1:1".into(),
        }
    }

    #[test]
    fn error_codes_map_to_one_line_each() {
        let c = conn();
        let line = |code: &str, msg: &str, region: Option<&str>| {
            S3Error::At {
                uri: "s3://logs/AWSLogs/".into(),
                problem: service_problem(
                    code,
                    msg.into(),
                    "ListObjectsV2",
                    "logs",
                    &c,
                    region.map(str::to_owned),
                ),
            }
            .to_string()
        };
        assert_eq!(
            line("NoSuchBucket", "The specified bucket does not exist", None),
            "s3://logs/AWSLogs/: no such bucket 'logs' (region ap-northeast-2; check the name and --region)"
        );
        assert_eq!(
            line("AccessDenied", "Access Denied", None),
            "s3://logs/AWSLogs/: access denied to ListObjectsV2: Access Denied"
        );
        assert_eq!(
            line("PermanentRedirect", "", Some("eu-west-1")),
            "s3://logs/AWSLogs/: the bucket is in region eu-west-1, not ap-northeast-2: pass --region eu-west-1"
        );
        assert_eq!(
            line("AuthorizationHeaderMalformed", "the region is wrong", None),
            "s3://logs/AWSLogs/: the bucket is in another region than ap-northeast-2 (AuthorizationHeaderMalformed): pass the bucket's region with --region"
        );
        assert_eq!(
            line("SlowDown", "Please reduce your request rate.", None),
            "s3://logs/AWSLogs/: ListObjectsV2 throttled by S3 (SlowDown) after 6 attempts: Please reduce your request rate."
        );
        assert!(line("InvalidAccessKeyId", "no such key id", None).contains("AWS rejected the credentials"));
        assert_eq!(
            line("Weird", "odd", None),
            "s3://logs/AWSLogs/: ListObjectsV2 failed: Weird: odd"
        );
        assert_eq!(status_code_name(301), "PermanentRedirect");
    }
}
