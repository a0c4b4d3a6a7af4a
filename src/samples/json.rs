//! A tiny ordered JSON writer: the AWS CLI prints members in the order of the
//! API model (not sorted), four spaces per level, `", "`-free separators.
//! serde_json's `Value` sorts keys, so the samples use this instead.

/// A JSON value whose objects keep the insertion order of their members.
#[derive(Debug, Clone)]
pub enum J {
    Bool(bool),
    Int(i64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// A string value.
pub fn s(v: impl Into<String>) -> J {
    J::Str(v.into())
}

/// An array value.
pub fn a(items: Vec<J>) -> J {
    J::Arr(items)
}

/// An object value from (member, value) pairs, in order.
pub fn o(members: Vec<(&str, J)>) -> J {
    J::Obj(
        members
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// An array of strings.
pub fn strs(items: &[&str]) -> J {
    J::Arr(items.iter().map(|v| s(*v)).collect())
}

/// `[{"Key": "Name", "Value": name}]`.
pub fn name_tag(name: &str) -> J {
    a(vec![o(vec![("Key", s("Name")), ("Value", s(name))])])
}

impl J {
    /// Pretty-printed like Python's `json.dumps(v, indent=step)` plus a final newline.
    pub fn to_pretty(&self, step: usize) -> String {
        let mut out = String::new();
        self.write(&mut out, 0, step);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, level: usize, step: usize) {
        match self {
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Int(n) => out.push_str(&n.to_string()),
            J::Str(v) => write_str(out, v),
            J::Arr(items) if items.is_empty() => out.push_str("[]"),
            J::Obj(members) if members.is_empty() => out.push_str("{}"),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1, step);
                    item.write(out, level + 1, step);
                }
                newline(out, level, step);
                out.push(']');
            }
            J::Obj(members) => {
                out.push('{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    newline(out, level + 1, step);
                    write_str(out, k);
                    out.push_str(": ");
                    v.write(out, level + 1, step);
                }
                newline(out, level, step);
                out.push('}');
            }
        }
    }
}

fn newline(out: &mut String, level: usize, step: usize) {
    out.push('\n');
    out.extend(std::iter::repeat_n(' ', level * step));
}

fn write_str(out: &mut String, v: &str) {
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn json_pretty_matches_python_indent_and_parses_back() {
        let v = o(vec![
            ("B", a(vec![J::Int(1), s("x\"y\n")])),
            ("A", o(vec![])),
            ("E", a(vec![])),
            ("T", J::Bool(true)),
        ]);
        let text = v.to_pretty(4);
        assert_eq!(
            text,
            "{\n    \"B\": [\n        1,\n        \"x\\\"y\\n\"\n    ],\n    \"A\": {},\n    \"E\": [],\n    \"T\": true\n}\n"
        );
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["B"][1], "x\"y\n");
    }
}
