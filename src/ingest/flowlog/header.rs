//! [`FieldPlan`]: the resolved layout of a flow-log record, built once from a
//! header line, a `--log-format` string or the default v2 format, then shared
//! read-only by every parser thread.

use super::fields::{self, FieldId, Resolved};

/// The AWS default format (version 2), as a format string.
pub const DEFAULT_V2_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// What one position of a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Slot {
    Typed(FieldId),
    /// Index into [`FieldPlan::extra_columns`].
    Extra(u16),
}

/// A resolved record layout: one slot per token, in record order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldPlan {
    slots: Vec<Slot>,
    /// Athena column names of the extra (untyped) fields, in record order.
    extra_columns: Vec<String>,
    /// Names we do not know (v9+ or typos), as given: one warning per file.
    unknown: Vec<String>,
    /// The field names as AWS spells them (hyphens), in record order.
    names: Vec<String>,
}

/// Why a format string or header could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    #[error("the format names no field")]
    Empty,
    #[error("'{0}' is not a field name")]
    NotAName(String),
    #[error("field '{0}' appears twice")]
    Duplicate(String),
    #[error("too many fields ({0})")]
    TooMany(usize),
}

impl FieldPlan {
    /// The default v2 layout (14 fields).
    pub fn default_v2() -> FieldPlan {
        // The constant is valid; fall back to an empty plan rather than panic.
        FieldPlan::from_format(DEFAULT_V2_FORMAT).unwrap_or_else(|_| FieldPlan {
            slots: Vec::new(),
            extra_columns: Vec::new(),
            unknown: Vec::new(),
            names: Vec::new(),
        })
    }

    /// Parse an AWS custom format (`${version} ${account-id} …`), a header
    /// line (`version account-id …`) or a list with underscores
    /// (`version account_id …`).
    pub fn from_format(format: &str) -> Result<FieldPlan, FormatError> {
        let mut slots = Vec::new();
        let mut extra_columns = Vec::new();
        let mut unknown = Vec::new();
        let mut names = Vec::new();
        for token in format.split_ascii_whitespace() {
            let resolved =
                fields::resolve(token).ok_or_else(|| FormatError::NotAName(clip(token)))?;
            let slot = match resolved {
                Resolved::Typed(id) => {
                    names.push(id.aws_name().to_owned());
                    Slot::Typed(id)
                }
                Resolved::Documented(col) | Resolved::Unknown(col)
                    if extra_columns.contains(&col) =>
                {
                    return Err(FormatError::Duplicate(col));
                }
                Resolved::Documented(col) => push_extra(&mut extra_columns, &mut names, col)?,
                Resolved::Unknown(col) => {
                    unknown.push(fields::normalize(token).unwrap_or(token).to_owned());
                    push_extra(&mut extra_columns, &mut names, col)?
                }
            };
            if slots.contains(&slot) {
                return Err(FormatError::Duplicate(
                    names.last().cloned().unwrap_or_default(),
                ));
            }
            slots.push(slot);
        }
        if slots.is_empty() {
            return Err(FormatError::Empty);
        }
        Ok(FieldPlan {
            slots,
            extra_columns,
            unknown,
            names,
        })
    }

    /// A header line of an S3-delivered file, or `None` when `line` is a
    /// record. A header has only field-name tokens and starts with a known one.
    pub fn from_header_line(line: &str) -> Option<FieldPlan> {
        if !is_header_line(line) {
            return None;
        }
        FieldPlan::from_format(line).ok()
    }

    pub fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Athena column names of the extra fields, in record order.
    pub fn extra_columns(&self) -> &[String] {
        &self.extra_columns
    }

    /// Field names this build does not know (kept as strings, warn once).
    pub fn unknown_fields(&self) -> &[String] {
        &self.unknown
    }

    /// True when the plan has this typed field.
    pub fn has(&self, id: FieldId) -> bool {
        self.slots.contains(&Slot::Typed(id))
    }

    /// The highest version among the typed fields (what AWS writes in `version`).
    pub fn version(&self) -> u8 {
        self.slots
            .iter()
            .filter_map(|s| match s {
                Slot::Typed(id) => Some(id.version()),
                Slot::Extra(_) => None,
            })
            .max()
            .unwrap_or(2)
    }

    /// The plan as an S3 header line: `version account-id …`.
    pub fn to_header_line(&self) -> String {
        self.names.join(" ")
    }

    /// The plan as an AWS custom format string: `${version} ${account-id} …`.
    pub fn to_format_string(&self) -> String {
        let mut out = String::new();
        for (i, n) in self.names.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            out.push_str("${");
            out.push_str(n);
            out.push('}');
        }
        out
    }
}

fn push_extra(
    extra: &mut Vec<String>,
    names: &mut Vec<String>,
    col: String,
) -> Result<Slot, FormatError> {
    let idx = u16::try_from(extra.len()).map_err(|_| FormatError::TooMany(extra.len()))?;
    names.push(col.replace('_', "-"));
    extra.push(col);
    Ok(Slot::Extra(idx))
}

fn clip(s: &str) -> String {
    crate::error::sanitize(s, 40)
}

/// A header line: every token is a plausible field name and the first one is
/// a documented field (typed or extra). Records never start with one: their
/// first token is a number, an id, an address or an upper-case word.
pub fn is_header_line(line: &str) -> bool {
    let mut tokens = line.split_ascii_whitespace();
    let Some(first) = tokens.next() else {
        return false;
    };
    // Records start with a digit, an id or an upper-case word: cheap reject first.
    if !first
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_lowercase() || *b == b'$')
    {
        return false;
    }
    fields::is_known(first) && tokens.all(|t| fields::normalize(t).is_some())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn default_v2_round_trips_through_header_and_format() {
        let p = FieldPlan::default_v2();
        assert_eq!(p.len(), 14);
        assert_eq!(p.to_format_string(), DEFAULT_V2_FORMAT);
        let h = p.to_header_line();
        assert!(h.starts_with("version account-id interface-id"));
        assert_eq!(FieldPlan::from_header_line(&h), Some(p.clone()));
        assert_eq!(FieldPlan::from_format(&p.to_format_string()), Ok(p));
    }

    #[test]
    fn from_format_keeps_unknown_fields_as_extras() {
        let p = FieldPlan::from_format("${version} ${encryption-status} ${ecs-task-id} ${srcaddr}")
            .unwrap();
        assert_eq!(p.extra_columns(), ["encryption_status", "ecs_task_id"]);
        assert_eq!(p.unknown_fields(), ["encryption-status"]);
        assert_eq!(p.slots()[1], Slot::Extra(0));
        assert_eq!(p.version(), 2);
        assert_eq!(
            p.to_header_line(),
            "version encryption-status ecs-task-id srcaddr"
        );
    }

    #[test]
    fn from_format_rejects_values_duplicates_and_empty() {
        assert_eq!(FieldPlan::from_format("  "), Err(FormatError::Empty));
        assert!(matches!(
            FieldPlan::from_format("version 2"),
            Err(FormatError::NotAName(_))
        ));
        assert!(matches!(
            FieldPlan::from_format("srcaddr ${srcaddr}"),
            Err(FormatError::Duplicate(_))
        ));
    }

    #[test]
    fn header_detection_never_takes_a_record() {
        assert!(is_header_line("version account-id interface-id srcaddr"));
        assert!(is_header_line("account-id action az-id bytes"));
        assert!(!is_header_line(
            "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA"
        ));
        assert!(!is_header_line("eni-1235b8ca123456789 ingress us-east-1"));
        assert!(!is_header_line(""));
    }
}
