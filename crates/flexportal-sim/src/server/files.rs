//! Files: their metadata, signed URLs, and the storage host that serves the bytes.

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use hmac::Mac;
use serde_json::{json, Map, Value};

use super::api::{matches, parse_limit, ApiError, ApiResult, Params};
use super::state::SimState;
use crate::util::unhex;

/// Files use limit/offset rather than cursors, and know only `orderId`, `type` and `limit`.
/// `offset` is honoured (unless that fault is on) because clients page with it; `customerId`
/// is ignored unless switched on, as an API that does not declare it would.
pub(super) async fn list_files(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    let limit = parse_limit(&q)?;
    let faults = &s.0.faults;
    let offset = match q.get("offset") {
        _ if faults.ignore_files_offset() => 0,
        None => 0,
        Some(o) if !o.is_empty() && o.len() <= 9 && o.bytes().all(|b| b.is_ascii_digit()) => o
            .parse::<usize>()
            .map_err(|_| ApiError::validation("offset must be a number"))?,
        Some(_) => Err(ApiError::validation(
            "offset must be a plain decimal number",
        ))?,
    };
    let by_customer = q
        .get("customerId")
        .filter(|_| faults.honour_files_customer_id());
    let mut files: Vec<_> = s
        .tenant()
        .files
        .iter()
        .filter(|f| matches(&q, "orderId", &f.order_id) && matches(&q, "type", &f.file_type))
        .filter(|f| by_customer.is_none_or(|c| f.customer_id.as_deref() == Some(c.as_str())))
        .collect();
    files.sort_by(|a, b| {
        b.created_at
            .cmp(&a.created_at)
            .then_with(|| b.file_id.cmp(&a.file_id))
    });
    let prose = faults.prose_mode();
    let page: Vec<Value> = files
        .iter()
        .skip(offset)
        .take(limit)
        .map(|f| f.to_json(prose))
        .collect();
    let mut filters = Map::new();
    for key in ["orderId", "type"] {
        if let Some(v) = q.get(key) {
            filters.insert(key.to_owned(), json!(v));
        }
    }
    Ok(Json(json!({"files": page, "count": page.len(), "limit": limit, "offset": offset, "filters": filters})).into_response())
}

pub(super) async fn get_file(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let f = s
        .tenant()
        .file(&id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    Ok(Json(f.to_json(s.0.faults.prose_mode())).into_response())
}

pub(super) async fn file_url(
    State(s): State<SimState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let body: Value = serde_json::from_slice(&body)
        .map_err(|_| ApiError::validation("Request body must be a JSON object"))?;
    let body = body
        .as_object()
        .ok_or_else(|| ApiError::validation("Request body must be a JSON object"))?;
    let file_id = match body.get("fileId") {
        Some(Value::String(id)) if !id.is_empty() => id.as_str(),
        _ => return Err(ApiError::validation("fileId is required")),
    };
    let action = match body.get("action") {
        None => "view",
        Some(Value::String(a)) if a == "view" || a == "download" => a.as_str(),
        Some(_) => return Err(ApiError::validation("action must be view or download")),
    };
    let minutes = match body.get("expiresInMinutes") {
        None => 60.0,
        Some(Value::Number(n)) => n
            .as_f64()
            .filter(|m| (1.0..=1440.0).contains(m))
            .ok_or_else(|| ApiError::validation("expiresInMinutes must be between 1 and 1440"))?,
        Some(_) => return Err(ApiError::validation("expiresInMinutes must be a number")),
    };
    let file = s
        .tenant()
        .file(file_id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    let expires = s.now() + (minutes * 60.0).round() as i64;
    let sig = s.sign(file_id, action, expires);
    let base = s.0.public_base_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        format!("http://{host}")
    });
    let url = format!(
        "{}/storage/{file_id}?action={action}&expires={expires}&sig={sig}",
        base.trim_end_matches('/')
    );
    Ok(Json(json!({
        "success": true,
        "url": url,
        "filename": file.filename,
        "contentType": file.content_type,
        "fileSize": file.file_size(),
        "expiresAt": expires,
    }))
    .into_response())
}

/// The bearer links behind `POST /v1/files/url`: no API key, only a valid, unexpired signature.
pub(super) async fn storage(
    State(s): State<SimState>,
    Path(file_id): Path<String>,
    Query(q): Params,
) -> Response {
    let denied =
        |msg: &str| ApiError::new(StatusCode::FORBIDDEN, "ACCESS_DENIED", msg).into_response();
    let (Some(action), Some(expires), Some(sig)) =
        (q.get("action"), q.get("expires"), q.get("sig"))
    else {
        return denied("Missing signature");
    };
    let Ok(expires) = expires.parse::<i64>() else {
        return denied("Invalid signature");
    };
    let Some(sig) = unhex(sig) else {
        return denied("Invalid signature");
    };
    if s.mac(&file_id, action, expires).verify_slice(&sig).is_err() {
        return denied("Invalid signature");
    }
    if s.now() > expires {
        return denied("Link expired");
    }
    let Some(file) = s.tenant().file(&file_id) else {
        return ApiError::not_found("File").into_response();
    };
    let disposition = if action == "download" {
        "attachment"
    } else {
        "inline"
    };
    let safe_name: String = file
        .filename
        .chars()
        .map(|c| {
            if c == '"' || c == '\\' || !c.is_ascii() || c.is_ascii_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let mut resp = Response::new(Body::from(file.bytes().to_vec()));
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&file.content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("{disposition}; filename=\"{safe_name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    resp
}
