//! Which folders and keys a `--since S --until U` window needs.
//!
//! Folders: a path segment `YYYY` (or `year=YYYY`) followed by `MM`, `DD`,
//! `HH` (or `month=`, `day=`, `hour=`) gives the span of time the folder
//! covers; a folder is descended into only when that span meets the window
//! widened by the largest slack below. Segments without a date are always
//! descended.
//!
//! Files: AWS names each file with a time, `…_YYYYMMDDTHHmmZ_…`, whose
//! meaning depends on the source (reference: evidence-sources.md §4.2):
//! - flow logs (`_vpcflowlogs_`): the file holds records whose *end* lies in
//!   the 5 minutes after T, and a record lasts at most the 10-minute
//!   aggregation interval, so it can hold records of [S, U] only when
//!   T ∈ [S − 10 min, U + 10 min];
//! - Resolver query logs (`_vpcdnsquerylogs_`): T ∈ [S − 10 min, U + 10 min];
//! - CloudTrail (`_CloudTrail_`, `_CloudTrail-Digest_`): T is the *delivery*
//!   time, records come before it: T ∈ [S, U + 1 h];
//! - any other name with such a time: T ∈ [S − 10 min, U + 1 h].
//!
//! A key without a time in its name is kept when its folder is. Key times
//! only prune: readers still see every record of the files kept.

use jiff::civil::Date;

/// Slack before `since` for files whose records may precede their time.
const BEFORE: i64 = 600;
/// Slack after `until` for files delivered after their records (CloudTrail).
const AFTER_DELIVERY: i64 = 3_600;
/// Slack after `until` for flow-log and Resolver files.
const AFTER: i64 = 600;

/// A window of unix seconds, either end open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyWindow {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

impl KeyWindow {
    /// No bound at all: every key is wanted.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Does the span `[lo, hi)` of a folder meet the window (widened by
    /// the largest slack any file kind needs)?
    pub fn wants_span(&self, lo: i64, hi: i64) -> bool {
        let after_since = self.since.is_none_or(|s| hi > s.saturating_sub(BEFORE));
        let before_until = self
            .until
            .is_none_or(|u| lo <= u.saturating_add(AFTER_DELIVERY));
        after_since && before_until
    }

    /// Is a folder (a prefix ending in `/`, or the folder part of a key)
    /// worth listing?
    pub fn wants_folder(&self, folder: &str) -> bool {
        match folder_span(folder) {
            Some((lo, hi)) => self.wants_span(lo, hi),
            None => true,
        }
    }

    /// Can the object `key` hold records of the window?
    pub fn wants_key(&self, key: &str) -> bool {
        if self.is_open() {
            return true;
        }
        let (folder, name) = match key.rfind('/') {
            Some(i) => (key.get(..=i).unwrap_or_default(), key.get(i + 1..).unwrap_or(key)),
            None => ("", key),
        };
        match name_time(name) {
            Some(t) => {
                let (before, after) = slack(name);
                let ok_since = self.since.is_none_or(|s| t >= s.saturating_sub(before));
                let ok_until = self.until.is_none_or(|u| t <= u.saturating_add(after));
                ok_since && ok_until
            }
            None => self.wants_folder(folder),
        }
    }
}

/// (before, after) slack in seconds for a file name's kind.
fn slack(name: &str) -> (i64, i64) {
    if name.contains("_vpcflowlogs_") || name.contains("_vpcdnsquerylogs_") {
        (BEFORE, AFTER)
    } else if name.contains("_CloudTrail_") || name.contains("_CloudTrail-Digest_") {
        (0, AFTER_DELIVERY)
    } else {
        (BEFORE, AFTER_DELIVERY)
    }
}

/// The time in a file name: the first `_YYYYMMDDTHHmm[ss]Z` (UTC).
pub fn name_time(name: &str) -> Option<i64> {
    let b = name.as_bytes();
    let digits = |from: usize, n: usize| -> Option<i64> {
        let s = b.get(from..from + n)?;
        if !s.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(s).ok()?.parse().ok()
    };
    for (i, _) in name.match_indices('_') {
        let at = i + 1;
        if b.get(at + 8) != Some(&b'T') {
            continue;
        }
        let (Some(ymd), Some(hm)) = (digits(at, 8), digits(at + 9, 4)) else {
            continue;
        };
        let secs = match b.get(at + 13) {
            Some(b'Z') => 0,
            _ => match (digits(at + 13, 2), b.get(at + 15)) {
                (Some(s), Some(b'Z')) => s,
                _ => continue,
            },
        };
        let (y, m, d) = (ymd / 10_000, ymd / 100 % 100, ymd % 100);
        let (h, min) = (hm / 100, hm % 100);
        if h > 23 || min > 59 || secs > 59 {
            continue;
        }
        let Some(day) = day_start(y, m, d) else {
            continue;
        };
        return Some(day + h * 3_600 + min * 60 + secs);
    }
    None
}

/// 00:00 UTC of a date, if it is one.
fn day_start(y: i64, m: i64, d: i64) -> Option<i64> {
    let date = Date::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
    )
    .ok()?;
    let z = date.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok()?;
    Some(z.timestamp().as_second())
}

/// A segment's number, bare or as `name=value` (Hive).
fn level(segment: &str, hive: &str, width: std::ops::RangeInclusive<usize>) -> Option<i64> {
    let v = segment
        .strip_prefix(hive)
        .and_then(|s| s.strip_prefix('='))
        .unwrap_or(segment);
    if !width.contains(&v.len()) || !v.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    v.parse().ok()
}

/// The span `[lo, hi)` (unix seconds) a folder path covers, from its first
/// year segment and the month, day and hour segments right after it. Only
/// complete segments count (those followed by `/`). `None`: no date.
pub fn folder_span(path: &str) -> Option<(i64, i64)> {
    let complete = match path.rfind('/') {
        Some(i) => path.get(..i)?,
        None => return None,
    };
    let segs: Vec<&str> = complete.split('/').collect();
    let start = segs.iter().position(|s| {
        let hive = s.starts_with("year=");
        level(s, "year", if hive { 1..=4 } else { 4..=4 }).is_some_and(|y| (1970..=9999).contains(&y))
    })?;
    let rest = segs.get(start..)?;
    let year = level(rest.first()?, "year", 1..=4)?;
    let month = rest
        .get(1)
        .and_then(|s| level(s, "month", 1..=2))
        .filter(|m| (1..=12).contains(m));
    let Some(month) = month else {
        return Some((day_start(year, 1, 1)?, day_start(year + 1, 1, 1)?));
    };
    let next_month = if month == 12 {
        day_start(year + 1, 1, 1)?
    } else {
        day_start(year, month + 1, 1)?
    };
    let day = rest
        .get(2)
        .and_then(|s| level(s, "day", 1..=2))
        .and_then(|d| day_start(year, month, d));
    let Some(day) = day else {
        return Some((day_start(year, month, 1)?, next_month));
    };
    let hour = rest
        .get(3)
        .and_then(|s| level(s, "hour", 1..=2))
        .filter(|h| (0..=23).contains(h));
    match hour {
        Some(h) => Some((day + h * 3_600, day + (h + 1) * 3_600)),
        None => Some((day, day + 86_400)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ts(s: &str) -> i64 {
        s.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn file_names_give_their_time() {
        assert_eq!(
            name_time("123456789012_vpcflowlogs_ap-northeast-2_fl-0abc_20261125T0005Z_deadbeef.log.gz"),
            Some(ts("2026-11-25T00:05:00Z"))
        );
        assert_eq!(
            name_time("111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20150801T021030Z.json.gz"),
            Some(ts("2015-08-01T02:10:30Z"))
        );
        assert_eq!(name_time("x_20261325T0005Z_a"), None);
        assert_eq!(name_time("x_20261125T2460Z_a"), None);
        assert_eq!(name_time("flows.log.gz"), None);
        assert_eq!(name_time("_20261125T0005"), None);
    }

    #[test]
    fn folders_give_their_span() {
        let day = (ts("2026-11-25T00:00:00Z"), ts("2026-11-26T00:00:00Z"));
        assert_eq!(
            folder_span("AWSLogs/123456789012/vpcflowlogs/ap-northeast-2/2026/11/25/"),
            Some(day)
        );
        assert_eq!(
            folder_span("AWSLogs/aws-account-id=1/aws-service=vpcflowlogs/year=2026/month=11/day=25/"),
            Some(day)
        );
        assert_eq!(
            folder_span("p/year=2026/month=11/day=25/hour=09/"),
            Some((ts("2026-11-25T09:00:00Z"), ts("2026-11-25T10:00:00Z")))
        );
        assert_eq!(
            folder_span("p/2026/12/"),
            Some((ts("2026-12-01T00:00:00Z"), ts("2027-01-01T00:00:00Z")))
        );
        assert_eq!(
            folder_span("p/2026/"),
            Some((ts("2026-01-01T00:00:00Z"), ts("2027-01-01T00:00:00Z")))
        );
        // The last, incomplete segment does not count.
        assert_eq!(
            folder_span("p/2026/11/2"),
            Some((ts("2026-11-01T00:00:00Z"), ts("2026-12-01T00:00:00Z")))
        );
        assert_eq!(folder_span("AWSLogs/123456789012/vpcflowlogs/"), None);
        assert_eq!(folder_span("AWSLogs/1234/"), None);
        assert_eq!(folder_span("2026"), None);
    }

    #[test]
    fn a_window_keeps_only_the_folders_and_files_that_can_hold_it() {
        let w = KeyWindow {
            since: Some(ts("2026-11-25T10:00:00Z")),
            until: Some(ts("2026-11-25T11:00:00Z")),
        };
        let root = "AWSLogs/1/vpcflowlogs/r/";
        assert!(w.wants_folder(root));
        assert!(w.wants_folder("AWSLogs/1/vpcflowlogs/r/2026/"));
        assert!(!w.wants_folder("AWSLogs/1/vpcflowlogs/r/2025/"));
        assert!(w.wants_folder("AWSLogs/1/vpcflowlogs/r/2026/11/25/"));
        assert!(!w.wants_folder("AWSLogs/1/vpcflowlogs/r/2026/11/24/"));
        assert!(!w.wants_folder("AWSLogs/1/vpcflowlogs/r/2026/11/26/"));
        let flow = |t: &str| format!("{root}2026/11/25/1_vpcflowlogs_r_fl-1_{t}_ab.log.gz");
        assert!(w.wants_key(&flow("20261125T0950Z")));
        assert!(!w.wants_key(&flow("20261125T0945Z")));
        assert!(w.wants_key(&flow("20261125T1110Z")));
        assert!(!w.wants_key(&flow("20261125T1115Z")));
        let trail = |t: &str| format!("{root}2026/11/25/1_CloudTrail_r_{t}_abcd.json.gz");
        assert!(!w.wants_key(&trail("20261125T0955Z")));
        assert!(w.wants_key(&trail("20261125T1155Z")));
        assert!(!w.wants_key(&trail("20261125T1205Z")));
        // No time in the name: the folder decides.
        assert!(w.wants_key(&format!("{root}2026/11/25/flows.log")));
        assert!(!w.wants_key(&format!("{root}2026/11/20/flows.log")));
        assert!(w.wants_key("loose-file.log"));
        // Open ends.
        let since_only = KeyWindow { since: w.since, until: None };
        assert!(since_only.wants_folder("p/2030/"));
        assert!(!since_only.wants_folder("p/2026/11/24/"));
        assert!(KeyWindow::default().wants_key(&flow("19990101T0000Z")));
    }

    #[test]
    fn the_next_days_folder_holds_late_cloudtrail_files() {
        let w = KeyWindow {
            since: Some(ts("2026-11-25T23:30:00Z")),
            until: Some(ts("2026-11-25T23:50:00Z")),
        };
        assert!(w.wants_folder("p/2026/11/26/"));
        assert!(!w.wants_folder("p/2026/11/27/"));
        assert!(w.wants_folder("p/2026/11/25/"));
    }
}
