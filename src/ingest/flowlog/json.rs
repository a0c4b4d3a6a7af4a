//! JSON around flow-log lines: `{"message": "…"}` lines (Firehose and log
//! forwarders), CloudWatch Logs exports (`aws logs filter-log-events` /
//! `get-log-events`: `events[].message`), subscription payloads
//! (`logEvents[].message`, `CONTROL_MESSAGE` skipped; raw, gzip, or
//! gzip + base64 as in a Lambda event's `awslogs.data`).

use std::borrow::Cow;
use std::io::Read;

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use super::line::LineError;
use super::{FieldPlan, PlanState, Where, warn_unknown};
use crate::flow::{Provenance, SourceId, SourceKind, SourceTally};
use crate::ingest::FlowSink;

#[derive(Deserialize)]
struct MessageLine<'a> {
    #[serde(borrow)]
    message: Option<Cow<'a, str>>,
}

/// The record inside a `{"message": "…"}` line.
pub fn unwrap_message(line: &str) -> Result<Cow<'_, str>, LineError> {
    match serde_json::from_str::<MessageLine<'_>>(line) {
        Ok(MessageLine { message: Some(m) }) => Ok(m),
        Ok(MessageLine { message: None }) => Err(LineError::Json("no \"message\" field".into())),
        Err(e) => Err(LineError::Json(crate::error::sanitize(&e.to_string(), 80))),
    }
}

/// What a JSON input held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonShape {
    /// CloudWatch events or subscription payloads.
    CloudWatch,
    /// `{"message": …}` objects (one or many).
    Messages,
    /// Valid JSON of a shape we do not know (nothing was read).
    Unknown,
    /// Not a JSON document: read it as lines.
    NotJson,
}

/// Read a whole JSON input (one document, or several documents one after
/// another as in JSON Lines). Returns [`JsonShape::NotJson`] without
/// touching `sink`/`tally` when the bytes are not JSON, so the caller can
/// read them as text (`{"message"}` lines are handled there too), and
/// [`JsonShape::Unknown`] for JSON that holds no flow-log events.
pub fn read_json<S: FlowSink>(
    bytes: &[u8],
    name: &str,
    source: SourceId,
    plan: &FieldPlan,
    sink: &mut S,
    tally: &mut SourceTally,
) -> JsonShape {
    let mut docs = Vec::new();
    for v in serde_json::Deserializer::from_slice(bytes).into_iter::<Value>() {
        match v {
            Ok(v) => docs.push(v),
            Err(_) => return JsonShape::NotJson,
        }
    }
    let mut messages = Vec::new();
    let mut shape = JsonShape::Messages;
    for d in &docs {
        match collect(d, &mut messages, tally, name, 0) {
            Some(JsonShape::CloudWatch) => shape = JsonShape::CloudWatch,
            Some(_) => {}
            None => return JsonShape::Unknown,
        }
    }
    warn_unknown(plan, name, tally);
    let mut state = PlanState::following(plan);
    for (i, m) in messages.iter().enumerate() {
        let prov = Provenance {
            source,
            index: i as u64 + 1,
        };
        state.ingest(m, prov, name, Where::Event, tally, sink);
    }
    shape
}

/// Gather the messages of one JSON value, in order. `None`: not a shape we know.
fn collect(
    v: &Value,
    out: &mut Vec<String>,
    tally: &mut SourceTally,
    name: &str,
    depth: u8,
) -> Option<JsonShape> {
    if depth > 4 {
        return None;
    }
    match v {
        Value::Array(items) => {
            let mut shape = JsonShape::Messages;
            for it in items {
                if collect(it, out, tally, name, depth + 1)? == JsonShape::CloudWatch {
                    shape = JsonShape::CloudWatch;
                }
            }
            Some(shape)
        }
        Value::Object(map) => {
            if let Some(Value::Array(events)) = map.get("logEvents") {
                if map.get("messageType").and_then(Value::as_str) == Some("CONTROL_MESSAGE") {
                    return Some(JsonShape::CloudWatch);
                }
                push_events(events, out);
                return Some(JsonShape::CloudWatch);
            }
            if let Some(Value::Array(events)) = map.get("events") {
                push_events(events, out);
                return Some(JsonShape::CloudWatch);
            }
            if let Some(data) = map
                .get("awslogs")
                .and_then(|a| a.get("data"))
                .and_then(Value::as_str)
            {
                return match decode_base64_gzip(data) {
                    Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                        Ok(inner) => collect(&inner, out, tally, name, depth + 1),
                        Err(e) => {
                            tally.skip("invalid json", || {
                                format!("{name}: awslogs.data: invalid json: {e}")
                            });
                            Some(JsonShape::CloudWatch)
                        }
                    },
                    Err(e) => {
                        tally.skip("invalid payload", || format!("{name}: awslogs.data: {e}"));
                        Some(JsonShape::CloudWatch)
                    }
                };
            }
            match map.get("message") {
                Some(Value::String(m)) => {
                    out.push(m.clone());
                    Some(JsonShape::Messages)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

fn push_events(events: &[Value], out: &mut Vec<String>) {
    for e in events {
        if let Some(m) = e.get("message").and_then(Value::as_str) {
            out.push(m.to_owned());
        }
    }
}

/// Base64 text of a gzip stream (a subscription payload as Lambda gets it).
pub fn decode_base64_gzip(text: &str) -> Result<Vec<u8>, String> {
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| format!("invalid base64: {e}"))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| super::text::describe_io(&e))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

/// The kind to report for a JSON input.
pub fn kind_of(shape: JsonShape) -> SourceKind {
    match shape {
        JsonShape::CloudWatch => SourceKind::CloudWatch,
        _ => SourceKind::FlowLogJson,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use crate::flow::Flow;

    fn read(s: &str, plan: &FieldPlan) -> (JsonShape, Vec<Flow>, SourceTally) {
        let mut sink = Vec::new();
        let mut t = SourceTally::default();
        let shape = read_json(s.as_bytes(), "x.json", SourceId(3), plan, &mut sink, &mut t);
        (shape, sink, t)
    }

    const V2: &str = "2 123456789010 eni-1 10.0.0.1 10.0.0.2 1 2 6 20 4249 1 2 ACCEPT OK";

    #[test]
    fn read_json_takes_filter_log_events_output() {
        let doc = format!(
            r#"{{"events":[{{"logStreamName":"eni-1","timestamp":1,"message":"{V2}"}},{{"message":"2 1 eni-1 - - - - - - - 1 2 - NODATA"}}],"searchedLogStreams":[]}}"#
        );
        let (shape, flows, t) = read(&doc, &FieldPlan::default_v2());
        assert_eq!(shape, JsonShape::CloudWatch);
        assert_eq!(flows.len(), 1);
        assert_eq!(flows[0].provenance.index, 1);
        assert_eq!(flows[0].provenance.source, SourceId(3));
        assert_eq!(t.nodata_total(), 1);
    }

    #[test]
    fn read_json_skips_control_messages_and_decodes_awslogs_data() {
        use base64::Engine;
        use std::io::Write;
        let payload = format!(
            r#"{{"messageType":"DATA_MESSAGE","logEvents":[{{"id":"1","timestamp":1,"message":"{V2}"}}]}}"#
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(payload.as_bytes()).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
        let doc = format!(
            r#"[{{"messageType":"CONTROL_MESSAGE","logEvents":[{{"message":"CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}}]}}, {{"awslogs":{{"data":"{b64}"}}}}]"#
        );
        let (shape, flows, t) = read(&doc, &FieldPlan::default_v2());
        assert_eq!(shape, JsonShape::CloudWatch);
        assert_eq!(flows.len(), 1);
        assert_eq!(t.skipped_total(), 0);
    }

    #[test]
    fn read_json_message_lines_and_errors_name_the_event() {
        let doc = format!("{{\"message\":\"{V2}\"}}\n{{\"message\":\"2 x\"}}\n");
        let (shape, flows, t) = read(&doc, &FieldPlan::default_v2());
        assert_eq!(shape, JsonShape::Messages);
        assert_eq!(flows.len(), 1);
        assert_eq!(
            t.examples,
            ["x.json: event 2: too few fields: expected 14, found 2"]
        );
        let (shape, ..) = read("{\"other\": 1}", &FieldPlan::default_v2());
        assert_eq!(shape, JsonShape::Unknown);
        let (shape, ..) = read("{\"message\": 1", &FieldPlan::default_v2());
        assert_eq!(shape, JsonShape::NotJson);
    }
}
