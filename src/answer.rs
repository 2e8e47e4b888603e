//! Reading a vendor's 2xx answer: the body as a JSON object, a token field, a lifetime in
//! seconds, and the session fields a vendor declares. Generic: every provider uses them, none is
//! named here.

use crate::expiry::Timing;
use crate::session::{FieldKind, FieldSpec, FieldValue, SessionMetadata};
use crate::Error;
use secrecy::SecretString;
use serde_json::{Map, Value};

/// Longest token accepted (JWTs are a few hundred bytes to a few KiB).
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The body as a JSON object, or `INVALID_RESPONSE` saying what it was instead.
pub(crate) fn json_object(id: &'static str, body: &[u8]) -> Result<Map<String, Value>, Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(other) => Err(Error::invalid_response(
            id,
            format!("the body is JSON {}, not an object", json_type(&other)),
        )),
        Err(_) if body.is_empty() => Err(Error::invalid_response(id, "the body is empty")),
        Err(e) => Err(Error::invalid_response(
            id,
            format!("the body is not JSON ({} bytes; {e})", body.len()),
        )),
    }
}

/// "a string", "an array"…: the JSON type of `v` for messages (never its value).
pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `obj[field]` as a token: a non-empty string that can travel in an HTTP header.
pub(crate) fn token_field(
    id: &'static str,
    obj: &Map<String, Value>,
    field: &str,
) -> Result<SecretString, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => {
            Err(Error::invalid_response(id, format!("'{field}' is missing")))
        }
        Some(Value::String(s)) if s.is_empty() => {
            Err(Error::invalid_response(id, format!("'{field}' is empty")))
        }
        Some(Value::String(s)) if s.len() > MAX_TOKEN_BYTES => Err(Error::invalid_response(
            id,
            format!("'{field}' is {} bytes long", s.len()),
        )),
        // Visible ASCII only: anything else could not be sent back as a header value (and a CR/LF
        // would be a header injection).
        Some(Value::String(s)) if !s.bytes().all(|b| b.is_ascii_graphic()) => {
            Err(Error::invalid_response(
                id,
                format!("'{field}' has characters not allowed in an HTTP header"),
            ))
        }
        Some(Value::String(s)) => Ok(s.clone().into()),
        Some(other) => Err(Error::invalid_response(
            id,
            format!("'{field}' is {}, not a string", json_type(other)),
        )),
    }
}

/// `obj[field]` as a lifetime in seconds, counted from when the request was sent (the earliest
/// the token's life can have started), on our clock. Absent or null: `None`.
pub(crate) fn lifetime_field(
    id: &'static str,
    obj: &Map<String, Value>,
    field: &str,
    timing: &Timing,
) -> Result<Option<u64>, Error> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs > 0.0 && secs.is_finite() => {
                Ok(Some(timing.sent_at_ms.saturating_add(
                    (secs * 1000.0).min(u64::MAX as f64 / 2.0) as u64,
                )))
            }
            _ => Err(Error::invalid_response(
                id,
                format!("'{field}' must be a positive number of seconds, not {n}"),
            )),
        },
        Some(other) => Err(Error::invalid_response(
            id,
            format!("'{field}' is {}, not a number", json_type(other)),
        )),
    }
}

/// The session fields `fields` declares, read from `obj` by their declared kinds. All optional:
/// an absent or null field is left out; one of another type is `INVALID_RESPONSE`.
pub(crate) fn read_fields(
    id: &'static str,
    fields: &[FieldSpec],
    obj: &Map<String, Value>,
) -> Result<SessionMetadata, Error> {
    let mut metadata = SessionMetadata::default();
    for field in fields {
        let key = field.key;
        let value = match (field.kind, obj.get(key)) {
            (_, None | Some(Value::Null)) => continue,
            (FieldKind::Text | FieldKind::Id, Some(Value::String(s))) => {
                FieldValue::Text(s.clone())
            }
            // Ids are strings in the docs, numbers in some answers: kept as their decimal text.
            (FieldKind::Id, Some(Value::Number(n))) => FieldValue::Text(n.to_string()),
            (FieldKind::List, Some(Value::Array(items))) => FieldValue::List(
                items
                    .iter()
                    .map(|p| p.as_str().map(str::to_owned))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        Error::invalid_response(id, format!("'{key}' holds a non-string"))
                    })?,
            ),
            (kind, Some(other)) => {
                let wanted = match kind {
                    FieldKind::List => "an array",
                    FieldKind::Text | FieldKind::Id => "a string",
                };
                return Err(Error::invalid_response(
                    id,
                    format!("'{key}' is {}, not {wanted}", json_type(other)),
                ));
            }
        };
        metadata.insert(field.name, value);
    }
    Ok(metadata)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    #[test]
    fn token_fields_must_be_header_safe_strings() {
        let obj = |v: Value| {
            serde_json::json!({ "token": v })
                .as_object()
                .unwrap()
                .clone()
        };
        assert!(token_field("x", &obj("abc.def".into()), "token").is_ok());
        for (bad, why) in [
            (Value::Null, "missing"),
            ("".into(), "empty"),
            (42.into(), "a number, not a string"),
            ("a\r\nX-Injected: 1".into(), "characters not allowed"),
        ] {
            let e = token_field("x", &obj(bad), "token").unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidResponse);
            assert!(e.message().contains(why), "{}", e.message());
        }
    }

    #[test]
    fn declared_fields_are_read_by_kind() {
        const FIELDS: &[FieldSpec] = &[
            FieldSpec::text("scope", ""),
            FieldSpec::list("permissions", ""),
            FieldSpec::id("accountId", "").in_answer("account_id"),
        ];
        let obj = serde_json::json!({ "scope": "vendor", "permissions": ["a"], "account_id": 7, "other": 1 });
        let m = read_fields("x", FIELDS, obj.as_object().unwrap()).unwrap();
        assert_eq!(m.text("scope"), Some("vendor"));
        assert_eq!(m.list("permissions"), Some(&["a".to_owned()][..]));
        assert_eq!(m.text("accountId"), Some("7"));
        assert_eq!(m.iter().count(), 3);
        for (body, why) in [
            (
                serde_json::json!({ "permissions": "all" }),
                "'permissions' is a string, not an array",
            ),
            (
                serde_json::json!({ "permissions": [1] }),
                "'permissions' holds a non-string",
            ),
            (
                serde_json::json!({ "scope": 1 }),
                "'scope' is a number, not a string",
            ),
        ] {
            let e = read_fields("x", FIELDS, body.as_object().unwrap()).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidResponse);
            assert!(e.message().contains(why), "{}", e.message());
        }
    }
}
