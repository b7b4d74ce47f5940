//! The HTTP side: FlexPortal's documented routes, signed storage URLs and the admin switches.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha2::Sha256;

use crate::data::{DemoAccount, Tenant};
use crate::faults::{Counters, FaultPatch, Faults, Injected};
use crate::util::{hex, now_epoch_secs, unhex};

/// Everything the handlers share. Cheap to clone.
#[derive(Clone)]
pub struct SimState(Arc<Inner>);

struct Inner {
    tenant: Tenant,
    api_key: String,
    secret: [u8; 32],
    faults: Faults,
    counters: Counters,
    admin: bool,
    public_base_url: Option<String>,
}

impl SimState {
    pub(crate) fn new(
        tenant: Tenant,
        api_key: String,
        faults: Faults,
        counters: Counters,
        admin: bool,
        public_base_url: Option<String>,
    ) -> Self {
        Self(Arc::new(Inner {
            tenant,
            api_key,
            secret: instance_secret(),
            faults,
            counters,
            admin,
            public_base_url,
        }))
    }

    pub fn tenant(&self) -> &Tenant {
        &self.0.tenant
    }

    pub fn faults(&self) -> &Faults {
        &self.0.faults
    }

    pub fn counters(&self) -> &Counters {
        &self.0.counters
    }

    fn now(&self) -> i64 {
        now_epoch_secs() + self.0.faults.clock_offset_secs()
    }

    fn sign(&self, file_id: &str, action: &str, expires: i64) -> String {
        hex(&self.mac(file_id, action, expires).finalize().into_bytes())
    }

    fn mac(&self, file_id: &str, action: &str, expires: i64) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.0.secret).expect("HMAC takes any key length");
        mac.update(format!("{file_id}|{action}|{expires}").as_bytes());
        mac
    }
}

/// A fresh secret per sim instance, so URLs signed by one run are worthless to another.
/// `RandomState` is seeded from the operating system, which is all the randomness needed here.
fn instance_secret() -> [u8; 32] {
    use sha2::Digest;
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = Sha256::new();
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        hasher.update(h.finish().to_le_bytes());
    }
    hasher.update(std::process::id().to_le_bytes());
    hasher.update(now_epoch_secs().to_le_bytes());
    hasher.finalize().into()
}

/// The error body FlexPortal documents: `{"error": {"code", "message"}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            format!("{what} not found"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}

type ApiResult = Result<Response, ApiError>;
type Params = Query<HashMap<String, String>>;

/// The sim's routes. `/__sim/*` exists only when the sim was built with admin endpoints on.
pub fn router(state: SimState) -> Router {
    let api = Router::new()
        .route("/v1/customers", get(list_customers))
        .route("/v1/customers/{customerId}", get(get_customer))
        .route("/v1/orders", get(list_orders))
        .route("/v1/orders/{orderId}", get(get_order))
        .route("/v1/subscriptions", get(list_subscriptions))
        .route("/v1/subscriptions/{subscriptionId}", get(get_subscription))
        .route("/v1/payments", get(list_payments))
        .route("/v1/payments/{paymentId}", get(get_payment))
        .route("/v1/files", get(list_files))
        .route("/v1/files/url", post(file_url))
        .route("/v1/files/{fileId}", get(get_file))
        .layer(middleware::from_fn_with_state(state.clone(), api_guard));
    let mut app = Router::new()
        .merge(api)
        .route("/storage/{fileId}", get(storage))
        .fallback(|| async { ApiError::not_found("Route") });
    if state.0.admin {
        app = app
            .route("/__sim/faults", get(admin_faults).post(admin_set_faults))
            .route("/__sim/reset", post(admin_reset))
            .route(
                "/__sim/counters",
                get(admin_counters).delete(admin_reset_counters),
            )
            .route("/__sim/accounts", get(admin_accounts));
    }
    app.with_state(state)
}

/// Runs before every `/v1` handler: counts the call, applies injected faults, then checks the
/// two headers the way the docs describe.
async fn api_guard(State(state): State<SimState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    state.0.counters.hit(format!("{} {}", req.method(), route));

    let faults = &state.0.faults;
    let latency = faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match faults.on_request() {
        Some(Injected::Hang(d)) => tokio::time::sleep(d).await,
        Some(Injected::TooManyRequests { retry_after_secs }) => {
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "RATE_LIMITED",
                "Too many requests",
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return resp;
        }
        Some(Injected::ServerError) => {
            return ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                "Internal server error",
            )
            .into_response();
        }
        None => {}
    }
    if let Err(e) = authorize(&state, req.headers()) {
        return e.into_response();
    }
    next.run(req).await
}

fn authorize(state: &SimState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "AUTH_REQUIRED",
            "Authorization header is required",
        ));
    };
    let token = auth
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    if token != Some(state.0.api_key.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "INVALID_TOKEN",
            "Invalid or expired API key",
        ));
    }
    let tenant = headers.get("tenant-id").and_then(|v| v.to_str().ok());
    if tenant != Some(state.0.tenant.tenant_id.as_str()) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "NO_TENANT_ACCESS",
            "Tenant-ID is missing or not accessible with this key",
        ));
    }
    Ok(())
}

/// `limit` as the schema declares it: a string holding a plain decimal number.
fn parse_limit(q: &HashMap<String, String>) -> Result<usize, ApiError> {
    match q.get("limit") {
        None => Ok(50),
        Some(s) if !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit()) => {
            let n: usize = s
                .parse()
                .map_err(|_| ApiError::validation("limit must be a number"))?;
            if (1..=100).contains(&n) {
                Ok(n)
            } else {
                Err(ApiError::validation("limit must be between 1 and 100"))
            }
        }
        Some(_) => Err(ApiError::validation("limit must be a plain decimal number")),
    }
}

fn check_enum(q: &HashMap<String, String>, key: &str, allowed: &[&str]) -> Result<(), ApiError> {
    match q.get(key) {
        Some(v) if !allowed.contains(&v.as_str()) => Err(ApiError::validation(format!(
            "{key} must be one of {}",
            allowed.join(", ")
        ))),
        _ => Ok(()),
    }
}

fn matches(q: &HashMap<String, String>, key: &str, value: &str) -> bool {
    q.get(key).is_none_or(|v| v == value)
}

/// One page of a cursor list, newest first.
struct Page {
    items: Vec<Value>,
    limit: usize,
    has_more: bool,
    next_cursor: Option<String>,
}

fn cursor_page<T>(
    mut items: Vec<&T>,
    q: &HashMap<String, String>,
    id: impl Fn(&T) -> &str,
    created: impl Fn(&T) -> &str,
    to_json: impl Fn(&T) -> Value,
) -> Result<Page, ApiError> {
    let limit = parse_limit(q)?;
    items.sort_by(|a, b| created(b).cmp(created(a)).then_with(|| id(b).cmp(id(a))));
    let start = match q.get("startAfter") {
        None => 0,
        Some(cursor) => items
            .iter()
            .position(|i| id(i) == cursor)
            .map(|p| p + 1)
            .ok_or_else(|| ApiError::validation("startAfter is not a valid cursor"))?,
    };
    let rest = &items[start.min(items.len())..];
    let page = &rest[..limit.min(rest.len())];
    let has_more = rest.len() > page.len();
    Ok(Page {
        items: page.iter().map(|i| to_json(i)).collect(),
        limit,
        has_more,
        next_cursor: if has_more {
            page.last().map(|i| id(i).to_owned())
        } else {
            None
        },
    })
}

fn to_value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("plain data serialises")
}

async fn list_customers(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(&q, "status", &["active", "inactive"])?;
    check_enum(&q, "customerType", &["individual", "business"])?;
    let ci = s.0.faults.email_case_insensitive();
    // Filters apply to the records as served now, changes included.
    let served = |c: &crate::data::Customer| customer_value(&s, c);
    let field = |v: &Value, name: &str| v[name].as_str().unwrap_or_default().to_owned();
    let items = s
        .tenant()
        .customers
        .iter()
        .filter(|c| {
            let v = served(c);
            let email = field(&v, "email");
            let email_ok = match q.get("email") {
                None => true,
                Some(e) if ci => email.eq_ignore_ascii_case(e),
                Some(e) => &email == e,
            };
            email_ok
                && matches(&q, "status", &field(&v, "status"))
                && matches(&q, "customerType", &c.customer_type)
        })
        .collect();
    let p = cursor_page(items, &q, |c| &c.customer_id, |c| &c.created_at, served)?;
    Ok(Json(json!({"customers": p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

async fn get_customer(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let c = s
        .tenant()
        .customers
        .iter()
        .find(|c| c.customer_id == id)
        .ok_or_else(|| ApiError::not_found("Customer"))?;
    Ok(Json(customer_value(&s, c)).into_response())
}

/// A customer record as served now: as seeded, with any change made since (see
/// [`crate::Faults::change_customer`]).
fn customer_value(s: &SimState, c: &crate::data::Customer) -> Value {
    let mut value = to_value(c);
    if let Some(change) = s.0.faults.customer_change(&c.customer_id) {
        if let Some(status) = change.status {
            value["status"] = Value::String(status);
        }
        if let Some(email) = change.email {
            value["email"] = Value::String(email);
        }
    }
    value
}

async fn list_orders(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(
        &q,
        "status",
        &["pending", "confirmed", "partial", "fulfilled", "cancelled"],
    )?;
    let items = s
        .tenant()
        .orders
        .iter()
        .filter(|o| {
            matches(&q, "customerId", &o.customer.customer_id) && matches(&q, "status", &o.status)
        })
        .collect();
    let p = cursor_page(items, &q, |o| &o.order_id, |o| &o.created_at, to_value)?;
    Ok(Json(json!({"orders": p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

async fn get_order(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let o = s
        .tenant()
        .orders
        .iter()
        .find(|o| o.order_id == id)
        .ok_or_else(|| ApiError::not_found("Order"))?;
    Ok(Json(to_value(o)).into_response())
}

const RENTAL_STATUSES: &[&str] = &[
    "active",
    "cancelled",
    "ended_completed",
    "ended_buyout",
    "ended_upgrade",
    "ended_early_return",
];

/// Prose mode renames what the subscription pages' prose calls these fields.
fn rental_json(r: &crate::data::Rental, prose: bool) -> Value {
    let mut v = to_value(r);
    if prose {
        let obj = v.as_object_mut().expect("struct serialises to an object");
        rename(obj, "rentalId", "subscriptionId");
        rename(obj, "assetSerialNumber", "serialNumber");
    }
    v
}

fn rename(obj: &mut Map<String, Value>, from: &str, to: &str) {
    if let Some(v) = obj.remove(from) {
        obj.insert(to.to_owned(), v);
    }
}

async fn list_subscriptions(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(&q, "status", RENTAL_STATUSES)?;
    let prose = s.0.faults.prose_mode();
    let items = s
        .tenant()
        .rentals
        .iter()
        .filter(|r| {
            matches(&q, "customerId", &r.customer_id)
                && matches(&q, "orderId", &r.order_id)
                && matches(&q, "status", &r.status)
                && matches(&q, "serialNumber", &r.asset_serial_number)
        })
        .collect();
    let p = cursor_page(
        items,
        &q,
        |r| &r.rental_id,
        |r| &r.created_at,
        |r| rental_json(r, prose),
    )?;
    let key = if prose { "subscriptions" } else { "rentals" };
    Ok(Json(json!({key: p.items, "count": p.items.len(), "limit": p.limit, "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

async fn get_subscription(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let r = s
        .tenant()
        .rentals
        .iter()
        .find(|r| r.rental_id == id)
        .ok_or_else(|| ApiError::not_found("Subscription"))?;
    Ok(Json(rental_json(r, s.0.faults.prose_mode())).into_response())
}

async fn list_payments(State(s): State<SimState>, Query(q): Params) -> ApiResult {
    check_enum(
        &q,
        "status",
        &["pending", "processing", "paid", "failed", "cancelled"],
    )?;
    let items = s
        .tenant()
        .payments
        .iter()
        .filter(|p| {
            matches(&q, "customerId", &p.customer_id)
                && matches(&q, "status", &p.status)
                && q.get("rentalId")
                    .is_none_or(|r| p.rental_id.as_deref() == Some(r.as_str()))
                && q.get("billingGroupId")
                    .is_none_or(|g| p.billing_group_id.as_deref() == Some(g.as_str()))
        })
        .collect();
    let p = cursor_page(items, &q, |p| &p.payment_id, |p| &p.created_at, to_value)?;
    Ok(Json(json!({"success": true, "payments": p.items, "count": p.items.len(), "hasMore": p.has_more, "nextCursor": p.next_cursor})).into_response())
}

async fn get_payment(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let p = s
        .tenant()
        .payments
        .iter()
        .find(|p| p.payment_id == id)
        .ok_or_else(|| ApiError::not_found("Payment"))?;
    Ok(Json(json!({"success": true, "payment": to_value(p)})).into_response())
}

/// Files use limit/offset rather than cursors, and know only `orderId`, `type` and `limit`.
/// `offset` is honoured (unless that fault is on) because clients page with it; `customerId`
/// is ignored unless switched on, as an API that does not declare it would.
async fn list_files(State(s): State<SimState>, Query(q): Params) -> ApiResult {
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

async fn get_file(State(s): State<SimState>, Path(id): Path<String>) -> ApiResult {
    let f = s
        .tenant()
        .file(&id)
        .ok_or_else(|| ApiError::not_found("File"))?;
    Ok(Json(f.to_json(s.0.faults.prose_mode())).into_response())
}

async fn file_url(State(s): State<SimState>, headers: HeaderMap, body: Bytes) -> ApiResult {
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
async fn storage(
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

async fn admin_faults(State(s): State<SimState>) -> Response {
    Json(s.0.faults.settings()).into_response()
}

async fn admin_set_faults(State(s): State<SimState>, body: Bytes) -> Response {
    match serde_json::from_slice::<FaultPatch>(&body) {
        Ok(patch) => {
            s.0.faults.apply(&patch);
            Json(s.0.faults.settings()).into_response()
        }
        Err(e) => ApiError::validation(e.to_string()).into_response(),
    }
}

async fn admin_reset(State(s): State<SimState>) -> Response {
    s.0.faults.reset();
    s.0.counters.reset();
    Json(s.0.faults.settings()).into_response()
}

async fn admin_counters(State(s): State<SimState>) -> Response {
    Json(json!({"total": s.0.counters.total(), "byEndpoint": s.0.counters.snapshot()}))
        .into_response()
}

async fn admin_reset_counters(State(s): State<SimState>) -> StatusCode {
    s.0.counters.reset();
    StatusCode::NO_CONTENT
}

async fn admin_accounts(State(s): State<SimState>) -> Json<Vec<DemoAccount>> {
    Json(s.tenant().demo_accounts())
}
