//! Expectations: the CI contract.
//!
//! - `--expect SERVICE[@SCOPE]=PATH`: SCOPE is an instance id (`i-…`), an ENI
//!   (`eni-…`), a subnet id (`subnet-…`) or an address; PATH is a path name
//!   (`gateway-endpoint`, `internet-gateway`, …), `endpoint` (either kind),
//!   `private` (nothing via the internet gateway or a NAT gateway) or
//!   `blocked` (nothing answered).
//! - `--expect-dns SERVICE=private|public`.
//! - `--since/--until`: RFC 3339 times or unix seconds.
//! - The same in a case folder's `expect.toml`:
//!   `expect = [..]`, `expect-dns = [..]`, `since`, `until`.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use serde::Deserialize;

use super::{Host, Outcome, PathKind};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExpectError {
    #[error("expectation '{text}': {reason}")]
    Syntax { text: String, reason: String },
    #[error("invalid time '{text}': expected RFC 3339 (2026-11-25T10:00:00Z) or unix seconds")]
    Time { text: String },
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("--since {since} is after --until {until}")]
    Window { since: u64, until: u64 },
}

/// Which hosts an expectation covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Instance(String),
    Eni(String),
    Subnet(String),
    Address(IpAddr),
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        if s.starts_with("i-") {
            Some(Scope::Instance(s.to_owned()))
        } else if s.starts_with("eni-") {
            Some(Scope::Eni(s.to_owned()))
        } else if s.starts_with("subnet-") {
            Some(Scope::Subnet(s.to_owned()))
        } else {
            s.parse().ok().map(Scope::Address)
        }
    }

    pub fn matches(&self, host: &Host) -> bool {
        match self {
            Scope::Instance(i) => host.instance_id.as_deref() == Some(i.as_str()),
            // A host is the instance with all its ENIs, subnets and
            // addresses: any of them scopes it.
            Scope::Eni(e) => host.enis.iter().any(|x| x == e),
            Scope::Subnet(s) => host.subnet_ids.iter().any(|x| x == s),
            Scope::Address(a) => host.addresses.contains(a),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Instance(s) | Scope::Eni(s) | Scope::Subnet(s) => f.write_str(s),
            Scope::Address(a) => write!(f, "{a}"),
        }
    }
}

/// What the traffic must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Every flow took exactly this path.
    Path(PathKind),
    /// Every flow took an endpoint of either kind.
    Endpoint,
    /// No flow left through the internet gateway or a NAT gateway.
    Private,
    /// No flow was answered.
    Blocked,
}

impl Want {
    pub fn parse(s: &str) -> Option<Want> {
        match s {
            "endpoint" => Some(Want::Endpoint),
            "private" => Some(Want::Private),
            "blocked" => Some(Want::Blocked),
            other => PathKind::parse(other).map(Want::Path),
        }
    }

    /// Whether "every matching flow" says something about the path (a
    /// path name or `endpoint`): with no matching flow it holds only
    /// vacuously, and the report says so.
    pub fn names_a_path(self) -> bool {
        matches!(self, Want::Path(_) | Want::Endpoint)
    }
}

impl fmt::Display for Want {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Want::Path(p) => f.write_str(p.as_str()),
            Want::Endpoint => f.write_str("endpoint"),
            Want::Private => f.write_str("private"),
            Want::Blocked => f.write_str("blocked"),
        }
    }
}

/// One `--expect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Lower-case service name (`s3`, `cloudformation`, `aws`, `external`).
    pub service: String,
    pub scope: Option<Scope>,
    pub want: Want,
    /// `--expect` or the `expect.toml` path.
    pub origin: String,
}

impl Expectation {
    pub fn parse(text: &str, origin: &str) -> Result<Expectation, ExpectError> {
        let err = |reason: &str| ExpectError::Syntax {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (lhs, rhs) = text
            .split_once('=')
            .ok_or_else(|| err("expected SERVICE[@SCOPE]=PATH"))?;
        let (service, scope) = match lhs.trim().split_once('@') {
            Some((s, scope)) => {
                let scope = Scope::parse(scope.trim()).ok_or_else(|| {
                    err("the scope must be an instance id (i-…), an ENI (eni-…), a subnet id (subnet-…) or an address")
                })?;
                (s.trim(), Some(scope))
            }
            None => (lhs.trim(), None),
        };
        if service.is_empty()
            || !service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(err(
                "the service must be a name such as s3, cloudformation, dynamodb, aws or external",
            ));
        }
        let want = Want::parse(rhs.trim()).ok_or_else(|| {
            err("the path must be a path name (interface-endpoint, gateway-endpoint, internet-gateway, nat-gateway, local, no-route, …), endpoint, private or blocked")
        })?;
        Ok(Expectation {
            service: service.to_ascii_lowercase(),
            scope,
            want,
            origin: origin.to_owned(),
        })
    }

    /// Does a flow of `service` from `host` fall under this expectation?
    pub fn matches(&self, service: &str, host: &Host) -> bool {
        service.eq_ignore_ascii_case(&self.service)
            && self.scope.as_ref().is_none_or(|s| s.matches(host))
    }

    /// Does a matching flow with this path and outcome break it?
    pub fn violated_by(&self, path: PathKind, outcome: Outcome) -> bool {
        match self.want {
            Want::Path(p) => path != p,
            Want::Endpoint => !path.is_endpoint(),
            // A flow rejected at the interface never left it.
            Want::Private => path.is_public() && outcome != Outcome::Rejected,
            // Not shown to be blocked: answered, or sent on a path with an
            // unknown outcome.
            Want::Blocked => {
                outcome == Outcome::Answered
                    || (outcome == Outcome::Unknown && path != PathKind::NoRoute)
            }
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.service)?;
        if let Some(s) = &self.scope {
            write!(f, "@{s}")?;
        }
        write!(f, "={}", self.want)
    }
}

/// `private` or `public` resolution of a service's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsWant {
    Private,
    Public,
}

/// One `--expect-dns`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsExpectation {
    pub service: String,
    pub want: DnsWant,
    pub origin: String,
}

impl DnsExpectation {
    pub fn parse(text: &str, origin: &str) -> Result<DnsExpectation, ExpectError> {
        let err = |reason: &str| ExpectError::Syntax {
            text: text.to_owned(),
            reason: reason.to_owned(),
        };
        let (service, want) = text
            .split_once('=')
            .ok_or_else(|| err("expected SERVICE=private|public"))?;
        let service = service.trim();
        if service.is_empty() || service.contains('@') {
            return Err(err("expected SERVICE=private|public"));
        }
        let want = match want.trim() {
            "private" => DnsWant::Private,
            "public" => DnsWant::Public,
            _ => return Err(err("the resolution must be private or public")),
        };
        Ok(DnsExpectation {
            service: service.to_ascii_lowercase(),
            want,
            origin: origin.to_owned(),
        })
    }
}

impl fmt::Display for DnsExpectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let w = match self.want {
            DnsWant::Private => "private",
            DnsWant::Public => "public",
        };
        write!(f, "dns:{}={w}", self.service)
    }
}

/// Everything a run checks, from the command line and `expect.toml` files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectSet {
    pub flows: Vec<Expectation>,
    pub dns: Vec<DnsExpectation>,
    pub since: Option<u64>,
    pub until: Option<u64>,
}

/// `expect.toml` (our own file: unknown keys are errors).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct ExpectFile {
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    expect_dns: Vec<String>,
    since: Option<TimeValue>,
    until: Option<TimeValue>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum TimeValue {
    Seconds(u64),
    Text(String),
    Date(toml::value::Datetime),
}

impl TimeValue {
    fn resolve(&self, ceil: bool) -> Result<u64, ExpectError> {
        match self {
            TimeValue::Seconds(s) => Ok(*s),
            TimeValue::Text(t) => parse_time_rounded(t, ceil),
            TimeValue::Date(d) => parse_time_rounded(&d.to_string(), ceil),
        }
    }
}

/// RFC 3339 (`2026-11-25T10:00:00Z`) or unix seconds; a fraction of a
/// second rounds down.
pub fn parse_time(text: &str) -> Result<u64, ExpectError> {
    parse_time_rounded(text, false)
}

/// [`parse_time`] rounding a fraction of a second up (for `--since`: a flow
/// logged at 09:10:27 started before 09:10:27.318).
pub fn parse_time_ceil(text: &str) -> Result<u64, ExpectError> {
    parse_time_rounded(text, true)
}

fn parse_time_rounded(text: &str, ceil: bool) -> Result<u64, ExpectError> {
    let t = text.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    let err = || ExpectError::Time {
        text: text.to_owned(),
    };
    let ts: jiff::Timestamp = t.parse().map_err(|_| err())?;
    let up = u64::from(ceil && ts.subsec_nanosecond() > 0);
    u64::try_from(ts.as_second())
        .map_err(|_| err())?
        .checked_add(up)
        .ok_or_else(err)
}

impl ExpectSet {
    /// From `--expect`, `--expect-dns`, `--since`, `--until`.
    pub fn parse_cli(
        expect: &[String],
        expect_dns: &[String],
        since: Option<&str>,
        until: Option<&str>,
    ) -> Result<ExpectSet, ExpectError> {
        let set = ExpectSet {
            flows: expect
                .iter()
                .map(|e| Expectation::parse(e, "--expect"))
                .collect::<Result<_, _>>()?,
            dns: expect_dns
                .iter()
                .map(|e| DnsExpectation::parse(e, "--expect-dns"))
                .collect::<Result<_, _>>()?,
            since: since.map(parse_time_ceil).transpose()?,
            until: until.map(parse_time).transpose()?,
        };
        set.check_window()?;
        Ok(set)
    }

    /// Parse the text of an `expect.toml`; `name` is used in messages.
    pub fn parse_toml(text: &str, name: &str) -> Result<ExpectSet, ExpectError> {
        let file_err = |message: String| ExpectError::File {
            path: name.to_owned(),
            message,
        };
        let file: ExpectFile =
            toml::from_str(text).map_err(|e| file_err(e.message().to_owned()))?;
        let set = ExpectSet {
            flows: file
                .expect
                .iter()
                .map(|e| Expectation::parse(e, name))
                .collect::<Result<_, _>>()
                .map_err(|e| file_err(e.to_string()))?,
            dns: file
                .expect_dns
                .iter()
                .map(|e| DnsExpectation::parse(e, name))
                .collect::<Result<_, _>>()
                .map_err(|e| file_err(e.to_string()))?,
            since: file
                .since
                .as_ref()
                .map(|t| t.resolve(true))
                .transpose()
                .map_err(|e| file_err(e.to_string()))?,
            until: file
                .until
                .as_ref()
                .map(|t| t.resolve(false))
                .transpose()
                .map_err(|e| file_err(e.to_string()))?,
        };
        set.check_window()?;
        Ok(set)
    }

    /// Read an `expect.toml`.
    pub fn load_toml(path: &Path) -> Result<ExpectSet, ExpectError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ExpectError::File {
            path: name.clone(),
            message: e.to_string().to_lowercase(),
        })?;
        ExpectSet::parse_toml(&text, &name)
    }

    /// Add `other`'s expectations after ours. The command line's window
    /// (`self`, merged first) wins over a file's.
    pub fn extend(&mut self, other: ExpectSet) -> Result<(), ExpectError> {
        self.flows.extend(other.flows);
        self.dns.extend(other.dns);
        self.since = self.since.or(other.since);
        self.until = self.until.or(other.until);
        self.check_window()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty() && self.dns.is_empty()
    }

    fn check_window(&self) -> Result<(), ExpectError> {
        match (self.since, self.until) {
            (Some(since), Some(until)) if since > until => {
                Err(ExpectError::Window { since, until })
            }
            _ => Ok(()),
        }
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

    #[test]
    fn expect_parse_accepts_every_scope_and_path_kind() {
        let cases = [
            ("s3=gateway-endpoint", "s3=gateway-endpoint"),
            ("S3 @ i-0abc = endpoint", "s3@i-0abc=endpoint"),
            (
                "cloudformation@subnet-1=interface-endpoint",
                "cloudformation@subnet-1=interface-endpoint",
            ),
            ("s3@eni-9=private", "s3@eni-9=private"),
            ("s3@10.0.1.5=blocked", "s3@10.0.1.5=blocked"),
            (
                "dynamodb@2001:db8::1=no-route",
                "dynamodb@2001:db8::1=no-route",
            ),
        ];
        for (text, canonical) in cases {
            let e = Expectation::parse(text, "--expect").unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(e.to_string(), canonical, "{text}");
        }
    }

    #[test]
    fn expect_parse_rejects_bad_input_with_a_reason() {
        for text in [
            "s3",
            "s3=igw",
            "s3@vpc-1=private",
            "=private",
            "s 3=private",
        ] {
            let err = Expectation::parse(text, "--expect").unwrap_err();
            assert!(
                err.to_string()
                    .starts_with(&format!("expectation '{text}': ")),
                "{err}"
            );
        }
        assert!(DnsExpectation::parse("s3=maybe", "x").is_err());
        assert_eq!(
            DnsExpectation::parse("CloudFormation=private", "x")
                .unwrap()
                .to_string(),
            "dns:cloudformation=private"
        );
    }

    #[test]
    fn expect_violation_rules_follow_the_path_kinds() {
        use Outcome::*;
        use PathKind::*;
        let e = |s: &str| Expectation::parse(s, "t").unwrap();
        let private = e("s3=private");
        assert!(private.violated_by(InternetGateway, Answered));
        assert!(private.violated_by(NatGateway, Unanswered));
        assert!(!private.violated_by(InternetGateway, Rejected));
        assert!(!private.violated_by(NoRoute, Unanswered));
        let endpoint = e("s3=endpoint");
        assert!(!endpoint.violated_by(GatewayEndpoint, Answered));
        assert!(!endpoint.violated_by(InterfaceEndpoint, Unanswered));
        assert!(endpoint.violated_by(Local, Answered));
        let blocked = e("s3=blocked");
        assert!(blocked.violated_by(GatewayEndpoint, Answered));
        assert!(!blocked.violated_by(NoRoute, Unanswered));
        assert!(!blocked.violated_by(NoRoute, Outcome::Unknown));
        assert!(blocked.violated_by(InternetGateway, Outcome::Unknown));
        let gw = e("s3=gateway-endpoint");
        assert!(gw.violated_by(InterfaceEndpoint, Answered));
    }

    #[test]
    fn expect_scope_matches_each_host_field() {
        let host = Host {
            instance_id: Some("i-1".into()),
            enis: std::sync::Arc::from(vec!["eni-1".into(), "eni-2".into()]),
            addresses: std::sync::Arc::from(vec![
                "10.0.0.5".parse().unwrap(),
                "2406:da1c:abc:1200::5".parse().unwrap(),
            ]),
            subnet_ids: std::sync::Arc::from(vec!["subnet-1".into()]),
        };
        // A dual-stack host answers to each of its addresses and ENIs.
        for scope in [
            "i-1",
            "eni-1",
            "eni-2",
            "10.0.0.5",
            "2406:da1c:abc:1200::5",
            "subnet-1",
        ] {
            let e = Expectation::parse(&format!("s3@{scope}=private"), "t").unwrap();
            assert!(e.matches("S3", &host), "{scope}");
            assert!(!e.matches("dynamodb", &host), "{scope}");
        }
        let other = Expectation::parse("s3@i-2=private", "t").unwrap();
        assert!(!other.matches("s3", &host));
    }

    #[test]
    fn expect_toml_reads_every_key_and_rejects_unknown_ones() {
        let text = r#"
expect = ["s3=gateway-endpoint", "cloudformation@i-0abc=interface-endpoint"]
expect-dns = ["cloudformation=private"]
since = "2026-11-25T10:00:00Z"
until = 1795700000
"#;
        let set = ExpectSet::parse_toml(text, "case/expect.toml").unwrap();
        assert_eq!(set.flows.len(), 2);
        assert_eq!(set.flows[1].origin, "case/expect.toml");
        assert_eq!(set.dns.len(), 1);
        assert_eq!(set.since, Some(1_795_600_800));
        assert_eq!(set.until, Some(1_795_700_000));

        let bad = ExpectSet::parse_toml("expectations = []", "e.toml").unwrap_err();
        assert!(
            bad.to_string().starts_with("e.toml: unknown field"),
            "{bad}"
        );
        let bad = ExpectSet::parse_toml("expect = [\"s3=igw\"]", "e.toml").unwrap_err();
        assert!(bad.to_string().contains("expectation 's3=igw'"), "{bad}");
        let date = ExpectSet::parse_toml("since = 2026-11-25T10:00:00Z", "e.toml").unwrap();
        assert_eq!(date.since, Some(1_795_600_800));
    }

    #[test]
    fn expect_window_must_be_ordered() {
        let err = ExpectSet::parse_cli(&[], &[], Some("200"), Some("100")).unwrap_err();
        assert_eq!(err.to_string(), "--since 200 is after --until 100");
        assert!(parse_time("yesterday").is_err());
        assert_eq!(parse_time("2026-11-02T09:10:27.318Z"), Ok(1_793_610_627));
        assert_eq!(
            parse_time_ceil("2026-11-02T09:10:27.318Z"),
            Ok(1_793_610_628)
        );
        assert_eq!(parse_time_ceil("2026-11-02T09:10:27Z"), Ok(1_793_610_627));
    }
}
