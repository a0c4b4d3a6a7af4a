//! `s3://BUCKET/PREFIX` as given on the command line.

use std::fmt;

/// A bucket and a key prefix (possibly empty, possibly ending mid-name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub prefix: String,
}

/// True for an argument that names S3 rather than a local path.
pub fn is_s3_uri(arg: &str) -> bool {
    arg.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("s3://"))
}

impl S3Uri {
    /// Parse `s3://bucket[/prefix]`. The bucket must be a valid S3 bucket
    /// name (3-63 of `a-z 0-9 . -`, starting and ending with a letter or
    /// digit); the prefix is taken as is.
    pub fn parse(arg: &str) -> Result<S3Uri, String> {
        if !is_s3_uri(arg) {
            return Err(format!("'{arg}' is not an s3:// URI"));
        }
        let rest = arg.get(5..).unwrap_or_default();
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("'{arg}': no bucket (expected s3://BUCKET/PREFIX)"));
        }
        let ok_chars = bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let ok_ends = bucket.starts_with(|c: char| c.is_ascii_alphanumeric())
            && bucket.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !(3..=63).contains(&bucket.len()) || !ok_chars || !ok_ends {
            return Err(format!(
                "'{arg}': '{bucket}' is not a valid bucket name (3-63 lower-case letters, digits, '.' or '-')"
            ));
        }
        Ok(S3Uri {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
        })
    }

    /// The part of the prefix up to its last `/` (where local copies are
    /// made relative to, as `aws s3 sync` does).
    pub fn folder(&self) -> &str {
        match self.prefix.rfind('/') {
            Some(i) => self.prefix.get(..=i).unwrap_or_default(),
            None => "",
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_prefix() {
        let u = S3Uri::parse("s3://my-logs/AWSLogs/123/vpcflowlogs/").unwrap();
        assert_eq!(u.bucket, "my-logs");
        assert_eq!(u.prefix, "AWSLogs/123/vpcflowlogs/");
        assert_eq!(u.folder(), "AWSLogs/123/vpcflowlogs/");
        assert_eq!(u.to_string(), "s3://my-logs/AWSLogs/123/vpcflowlogs/");
        let u = S3Uri::parse("S3://b.c-d").unwrap();
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("b.c-d", ""));
        assert_eq!(u.folder(), "");
        let u = S3Uri::parse("s3://bkt/a/2026/11/2").unwrap();
        assert_eq!(u.folder(), "a/2026/11/");
    }

    #[test]
    fn rejects_what_is_not_a_bucket() {
        for bad in ["s3://", "s3:///x", "s3://ab", "s3://Upper/x", "s3://-a-/", "/tmp/x"] {
            assert!(S3Uri::parse(bad).is_err(), "{bad}");
        }
        assert!(is_s3_uri("s3://b"));
        assert!(!is_s3_uri("s3:/b"));
        assert!(!is_s3_uri("é"));
    }
}
