//! What every AWS client of privpath shares (CloudWatch Logs, S3): the
//! standard configuration chain with `--profile`, `--region` and
//! `--endpoint-url` on top, one retry policy, the check that a region and
//! credentials exist before any request, and the one-line rendering of
//! transport errors. Nothing here prints, and no message ever contains
//! credential material.

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;

use crate::error::sanitize;

/// Attempts per request (the first try included) before a transient error
/// (throttling, a dropped connection, a 5xx) is reported.
pub const MAX_ATTEMPTS: u32 = 6;
/// First retry delay; the SDK doubles it per attempt, with jitter.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(300);
/// Longest text taken from a service or transport message.
pub const MESSAGE_MAX: usize = 300;

/// Overrides of the SDK's standard configuration chain; `None` leaves the
/// environment, the shared config files and the defaults in charge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// A profile of `~/.aws/config` / `~/.aws/credentials`.
    pub profile: Option<String>,
    pub region: Option<String>,
    /// Send requests here instead of the service's regional endpoint.
    pub endpoint_url: Option<String>,
}

/// Why no client could be configured. Each renders as one line that names
/// what to fix.
#[derive(Debug, thiserror::Error)]
pub enum AwsConfigError {
    #[error(
        "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or choose a profile with --profile or AWS_PROFILE"
    )]
    NoCredentials,
    #[error(
        "no AWS credentials found for profile '{0}' (is it defined in ~/.aws/config or ~/.aws/credentials?)"
    )]
    NoCredentialsForProfile(String),
    #[error("cannot load AWS credentials: {0}")]
    Credentials(String),
    #[error("no AWS region configured: pass --region or set AWS_REGION")]
    NoRegion,
}

/// A loaded configuration and the region it resolved to.
pub struct Loaded {
    pub conf: SdkConfig,
    pub region: String,
}

/// Load the standard configuration chain (environment, shared config files,
/// SSO, IMDS…) with `aws`'s overrides, and check that it yields a region and
/// credentials before any request is sent.
pub async fn load(aws: &AwsOptions) -> Result<Loaded, AwsConfigError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest()).retry_config(
        RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(INITIAL_BACKOFF),
    );
    if let Some(profile) = &aws.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &aws.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(url) = &aws.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let conf = loader.load().await;
    let region = conf
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or(AwsConfigError::NoRegion)?;
    let provider = conf
        .credentials_provider()
        .ok_or(AwsConfigError::NoCredentials)?;
    provider
        .provide_credentials()
        .await
        .map_err(|e| credentials_error(&e, aws.profile.as_deref()))?;
    Ok(Loaded { conf, region })
}

/// The endpoint requests of one service go to, as far as the configuration
/// says: an explicit URL, then `AWS_ENDPOINT_URL_<SERVICE>` (`service_env`),
/// then `AWS_ENDPOINT_URL` (already folded into the shared config); `None`
/// for the regional default.
pub fn configured_endpoint(
    explicit: Option<&str>,
    shared: Option<&str>,
    service_env: &str,
) -> Option<String> {
    let per_service = std::env::var(service_env).ok();
    explicit
        .map(str::to_owned)
        .or(per_service.filter(|u| !u.is_empty()))
        .or(shared.map(str::to_owned))
}

fn credentials_error(e: &CredentialsError, profile: Option<&str>) -> AwsConfigError {
    match (e, profile) {
        (CredentialsError::CredentialsNotLoaded(_), Some(p)) => {
            AwsConfigError::NoCredentialsForProfile(sanitize(p, 100))
        }
        (CredentialsError::CredentialsNotLoaded(_), None) => AwsConfigError::NoCredentials,
        (other, _) => AwsConfigError::Credentials(innermost_message(other)),
    }
}

/// The last message in an error's source chain ("connection refused (os
/// error 111)"), which is the one a user can act on; sanitised and clipped.
pub fn innermost_message(err: &(dyn StdError + 'static)) -> String {
    let mut last: &(dyn StdError + 'static) = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    let text = if text.is_empty() {
        err.to_string()
    } else {
        text
    };
    sanitize(&text, MESSAGE_MAX)
}

/// Codes by which AWS says the signature or key was not accepted.
pub fn is_credentials_rejected(code: &str) -> bool {
    matches!(
        code,
        "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "IncompleteSignature"
            | "ExpiredTokenException"
            | "ExpiredToken"
            | "InvalidClientTokenId"
            | "InvalidAccessKeyId"
            | "InvalidToken"
            | "SignatureDoesNotMatch"
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn explicit_endpoint_wins_then_the_shared_one() {
        assert_eq!(
            configured_endpoint(
                Some("http://127.0.0.1:5000"),
                Some("http://x"),
                "PRIVPATH_TEST_NO_SUCH_VAR"
            )
            .as_deref(),
            Some("http://127.0.0.1:5000")
        );
        assert_eq!(
            configured_endpoint(None, Some("http://x"), "PRIVPATH_TEST_NO_SUCH_VAR").as_deref(),
            Some("http://x")
        );
        assert_eq!(
            configured_endpoint(None, None, "PRIVPATH_TEST_NO_SUCH_VAR"),
            None
        );
    }

    #[test]
    fn rejected_credential_codes() {
        assert!(is_credentials_rejected("InvalidAccessKeyId"));
        assert!(is_credentials_rejected("SignatureDoesNotMatch"));
        assert!(!is_credentials_rejected("AccessDenied"));
    }
}
