//! A validator for the subset of JSON Schema that FlexPortal's OpenAPI document uses for the
//! endpoints the sim serves, with `$ref` resolution into the document.
//!
//! Strict mode also reports properties the schema does not declare: the sim should emit only
//! documented fields, so a misspelt field name shows up here instead of in the app.

use regex::Regex;
use serde_json::Value;

pub struct Spec {
    doc: Value,
}

impl Spec {
    /// The part of FlexPortal's OpenAPI document that the sim serves, kept in the repository
    /// (`tests/data/flexportal-openapi.json`, which names its source and the day it was taken).
    pub fn load() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/flexportal-openapi.json"
        );
        let text =
            std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
        Self {
            doc: serde_json::from_str(&text).expect("openapi.json is JSON"),
        }
    }

    /// The declared JSON body schema of one response, if any.
    pub fn response(&self, method: &str, path: &str, status: u16) -> Option<&Value> {
        self.doc["paths"][path][method]["responses"][status.to_string()]["content"]
            ["application/json"]["schema"]
            .as_object()
            .map(|_| {
                &self.doc["paths"][path][method]["responses"][status.to_string()]["content"]
                    ["application/json"]["schema"]
            })
    }

    pub fn error(&self) -> &Value {
        &self.doc["components"]["schemas"]["Error"]
    }

    /// Errors found in `value`, each prefixed with its JSON path; empty when valid.
    pub fn validate(&self, schema: &Value, value: &Value, strict: bool) -> Vec<String> {
        let mut errors = Vec::new();
        self.check(schema, value, "$", strict, &mut errors);
        errors
    }

    /// Validates a body against the declared response, or against `Error` for error statuses
    /// that the operation does not declare (the generic 400/401/403/429/500).
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Vec<String> {
        match self.response(method, path, status) {
            Some(schema) => self.validate(schema, body, true),
            None if status >= 400 => self.validate(self.error(), body, true),
            None => vec![format!("{method} {path} declares no {status} response")],
        }
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r
                    .strip_prefix('#')
                    .unwrap_or_else(|| panic!("external $ref {r}"));
                let target = self
                    .doc
                    .pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"));
                self.resolve(target)
            }
            None => schema,
        }
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        strict: bool,
        errors: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                errors.push(format!("{path}: no value allowed"));
            }
            return;
        };
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, path, false, errors);
            }
        }
        for (key, need) in [("anyOf", 1..=usize::MAX), ("oneOf", 1..=1)] {
            if let Some(options) = s.get(key).and_then(Value::as_array) {
                let ok = options
                    .iter()
                    .filter(|o| self.validate(o, value, strict).is_empty())
                    .count();
                if !need.contains(&ok) {
                    errors.push(format!("{path}: {ok} of the {key} alternatives match"));
                }
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !types.iter().any(|t| type_matches(t, value)) {
                errors.push(format!("{path}: expected {types:?}, got {value}"));
                return;
            }
        }
        if s.get("nullable") == Some(&Value::Bool(true)) && value.is_null() {
            return;
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                errors.push(format!("{path}: {value} is not one of {options:?}"));
            }
        }
        if let Some(c) = s.get("const") {
            if c != value {
                errors.push(format!("{path}: expected constant {c}"));
            }
        }
        match value {
            Value::String(text) => self.check_string(s, text, path, errors),
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                let bound = |k: &str| s.get(k).and_then(Value::as_f64);
                if bound("minimum").is_some_and(|m| x < m)
                    || bound("exclusiveMinimum").is_some_and(|m| x <= m)
                    || bound("maximum").is_some_and(|m| x > m)
                    || bound("exclusiveMaximum").is_some_and(|m| x >= m)
                {
                    errors.push(format!("{path}: {x} is out of range"));
                }
            }
            Value::Array(items) => {
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item_schema, item, &format!("{path}[{i}]"), strict, errors);
                    }
                }
                if s.get("minItems")
                    .and_then(Value::as_u64)
                    .is_some_and(|m| (items.len() as u64) < m)
                {
                    errors.push(format!("{path}: too few items"));
                }
            }
            Value::Object(map) => {
                for req in s
                    .get("required")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                {
                    if !map.contains_key(req) {
                        errors.push(format!("{path}: missing required property {req}"));
                    }
                }
                let props = s.get("properties").and_then(Value::as_object);
                for (k, v) in map {
                    let child = format!("{path}.{k}");
                    match (props.and_then(|p| p.get(k)), s.get("additionalProperties")) {
                        (Some(p), _) => self.check(p, v, &child, strict, errors),
                        (None, Some(Value::Bool(false))) => {
                            errors.push(format!("{child}: property not allowed"))
                        }
                        (None, Some(extra)) if extra.is_object() => {
                            self.check(extra, v, &child, strict, errors)
                        }
                        (None, None) if strict && props.is_some() => {
                            errors.push(format!("{child}: undeclared property"))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn check_string(
        &self,
        s: &serde_json::Map<String, Value>,
        text: &str,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let len = text.chars().count() as u64;
        if s.get("minLength")
            .and_then(Value::as_u64)
            .is_some_and(|m| len < m)
            || s.get("maxLength")
                .and_then(Value::as_u64)
                .is_some_and(|m| len > m)
        {
            errors.push(format!("{path}: length {len} is out of range"));
        }
        if let Some(p) = s.get("pattern").and_then(Value::as_str) {
            if !Regex::new(p).expect("spec patterns compile").is_match(text) {
                errors.push(format!("{path}: {text:?} does not match {p}"));
            }
        }
        let ok = match s.get("format").and_then(Value::as_str) {
            Some("email") => text.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            }),
            Some("uri") => text.split_once("://").is_some_and(|(scheme, rest)| {
                !scheme.is_empty()
                    && scheme.chars().all(|c| c.is_ascii_alphabetic())
                    && !rest.is_empty()
                    && !text.contains(' ')
            }),
            _ => true,
        };
        if !ok {
            errors.push(format!("{path}: {text:?} is not a valid {}", s["format"]));
        }
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "null" => v.is_null(),
        "number" => v.is_number(),
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        _ => false,
    }
}
