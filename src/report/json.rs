//! `-o json`: the `privpath.audit/v1` document (see [`super::wire`]).

use super::{RenderError, Report, wire};

/// Pretty-printed JSON with a trailing newline.
pub fn render_json(report: &Report) -> Result<Vec<u8>, RenderError> {
    let mut out = serde_json::to_vec_pretty(&wire::to_wire(report))?;
    out.push(b'\n');
    Ok(out)
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
    use crate::report::fixture;

    #[test]
    fn render_json_fixture_snapshot() {
        let out = String::from_utf8(render_json(&fixture::report()).unwrap()).unwrap();
        insta::assert_snapshot!(out);
    }

    #[test]
    fn render_json_has_the_documented_top_level_keys() {
        let v: serde_json::Value =
            serde_json::from_slice(&render_json(&fixture::report()).unwrap()).unwrap();
        assert_eq!(v["schema"], "privpath.audit/v1");
        for key in [
            "verdicts",
            "dns",
            "expectations",
            "findings",
            "inputs",
            "endpoints",
            "private_dns",
        ] {
            assert!(v[key].is_array(), "{key}");
        }
        let path = &v["verdicts"][0]["paths"][0];
        for key in [
            "path", "flows", "packets", "bytes", "first", "last", "outcome", "evidence",
        ] {
            assert!(!path[key].is_null(), "paths[].{key}");
        }
        let e = &v["expectations"][0];
        for key in ["expect", "met", "violations"] {
            assert!(!e[key].is_null(), "expectations[].{key}");
        }
    }
}
