//! The client: one pooled HTTP client, the questions it asks, retries and pagination. How
//! answers are kept and refreshed is in `reads`.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use reqwest::{header, Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

use crate::answers::{Ask, FilesHint, Freshness};
use crate::budget::{Allowance, Priority};
use crate::cache::{AnswerLog, Cache, Fetched};
use crate::error::Error;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::model::{
    CursorPage, Customer, ErrorBody, File, FilesPage, Order, Payment, Rental, SignedUrl,
};
use crate::store::{AnswerStore, MemoryStore};

/// How a client talks to one tenant.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://api-eu.flexportal.io`; paths are appended after `path_prefix`.
    pub base_url: String,
    /// Prefix of every path, `/v1` by default.
    pub path_prefix: String,
    pub tenant_id: String,
    pub api_key: SecretString,
    /// The tenant's request budget (Starter tier: 100 a minute) and its shares. With a shared
    /// store, every instance shares it.
    pub allowance: Allowance,
    /// How long answers stay fresh.
    pub freshness: Freshness,
    /// True: a read whose answer is past its freshness gets it at once and one refresh runs
    /// behind it. False: the reader waits for the refresh (and gets the old answer, marked
    /// stale, only when FlexPortal fails).
    pub stale_while_revalidate: bool,
    /// Most answers kept in memory.
    pub cache_entries: usize,
    /// How often the changes other instances made to the shared store are applied here.
    pub sync_every: Duration,
    /// Multiplies the pauses between refreshes of one answer (1 s after a refresh, 5 s after
    /// a failure): below 1 for a benchmark that compresses a day, with the freshness and the
    /// budget's window scaled alike.
    pub time_scale: f64,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries after the first attempt, for reads and requests safe to repeat.
    pub max_retries: u32,
    /// The longest a reader's request waits for room in the budget or for a retry; beyond
    /// that it fails at once so the page can answer (with a kept answer or a clear "try
    /// again"). Background work never waits: it is tried again at the next occasion.
    pub max_wait: Duration,
    /// Most pages followed in one list.
    pub max_pages: usize,
}

impl ClientConfig {
    pub fn new(
        base_url: impl Into<String>,
        tenant_id: impl Into<String>,
        api_key: SecretString,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            path_prefix: "/v1".to_owned(),
            tenant_id: tenant_id.into(),
            api_key,
            allowance: Allowance::per_minute(100),
            freshness: Freshness::default(),
            stale_while_revalidate: true,
            cache_entries: 10_000,
            sync_every: Duration::from_secs(1),
            time_scale: 1.0,
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(10),
            max_retries: 2,
            max_wait: Duration::from_secs(3),
            max_pages: 50,
        }
    }
}

/// `POST /v1/files/url`'s `action`: open in the browser, or save.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileAction {
    View,
    Download,
}

/// The FlexPortal client. Cheap to clone; clones share the connection pool, the store, the
/// cache and the counters.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
    /// Where this handle notes the answers it reads, if anywhere (see [`Client::logging_to`]).
    pub(crate) log: Option<Arc<AnswerLog>>,
    /// Whom this handle's requests are for.
    pub(crate) priority: Priority,
}

pub(crate) struct Inner {
    pub(crate) http: reqwest::Client,
    pub(crate) config: ClientConfig,
    pub(crate) store: Arc<dyn AnswerStore>,
    pub(crate) cache: Cache,
    pub(crate) metrics: Metrics,
    /// Names this process as a lease holder.
    pub(crate) instance: String,
    /// Until when the budget refused each priority last: what [`Client::budget_wait`] tells.
    pub(crate) refused_until: Mutex<HashMap<Priority, Instant>>,
    signed: Mutex<HashMap<(String, FileAction), (SignedUrl, Instant)>>,
    pub(crate) customer_watch: OnceLock<CustomerWatch>,
}

/// Called with every customer record fetched from FlexPortal (not with kept copies), before
/// any reader gets it: see [`Client::watch_customers`].
pub type CustomerWatch =
    Arc<dyn Fn(Arc<Customer>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Signed URLs kept for handing out again; beyond this, expired ones are swept, and if none
/// has expired, all are dropped.
const SIGNED_URLS_KEPT: usize = 10_000;

/// Page size for every list: the documented maximum.
const PAGE_SIZE: usize = 100;

impl Client {
    /// A client whose answers and budget live in this process only.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let store = Arc::new(MemoryStore::new(config.allowance));
        Self::with_store(config, store)
    }

    /// A client that keeps its answers and its budget in `store`. With a shared store, it
    /// follows the changes other instances make (which needs a Tokio runtime).
    pub fn with_store(config: ClientConfig, store: Arc<dyn AnswerStore>) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("folio/", env!("CARGO_PKG_VERSION")))
            // Signed URLs are handed to browsers, never followed here.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        let client = Self {
            inner: Arc::new(Inner {
                http,
                cache: Cache::new(config.cache_entries),
                store,
                metrics: Metrics::default(),
                instance: format!("{:016x}", fastrand::u64(..)),
                refused_until: Mutex::default(),
                signed: Mutex::new(HashMap::new()),
                customer_watch: OnceLock::new(),
                config,
            }),
            log: None,
            priority: Priority::Reader,
        };
        if client.inner.store.shared() {
            client.follow_changes();
        }
        Ok(client)
    }

    /// A handle on the same client that notes in `log` every answer it reads, so that what is
    /// made from them can be kept exactly as long as they stay current
    /// ([`Client::answers_current`]).
    pub fn logging_to(&self, log: Arc<AnswerLog>) -> Self {
        Self {
            log: Some(log),
            ..self.clone()
        }
    }

    /// A handle on the same client whose requests count as `priority`'s in the budget.
    pub fn with_priority(&self, priority: Priority) -> Self {
        Self {
            priority,
            ..self.clone()
        }
    }

    /// True while every answer in `log` is still the newest under its key and none read fresh
    /// has aged past its freshness: what was made from them is what would be made now. When
    /// some are past their freshness, starts their refreshes behind.
    pub fn answers_current(&self, log: &AnswerLog) -> bool {
        if self.inner.config.stale_while_revalidate {
            for key in log.past_fresh() {
                if let Some(ask) = Ask::parse(&key) {
                    self.refresh_behind(ask);
                }
            }
        }
        log.all_current()
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot(self.inner.cache.refreshing())
    }

    /// How long a request of this handle's priority sent now would wait for room in the
    /// tenant's budget: zero when there is room. Asks the store; when it cannot tell, what
    /// this process last learned.
    pub async fn budget_wait(&self) -> Duration {
        let now = crate::clock::now_ms();
        match self.inner.store.room(self.priority, now).await {
            Ok(ready) => Duration::from_millis(u64::try_from(ready - now).unwrap_or(0)),
            Err(_) => self
                .inner
                .refused_until
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&self.priority)
                .map_or(Duration::ZERO, |until| {
                    until.saturating_duration_since(Instant::now())
                }),
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.inner.config.tenant_id
    }

    /// Whether FlexPortal's host accepts a connection within a second. Opens a TCP connection
    /// and nothing more, so it costs none of the request budget: meant for readiness probes.
    pub async fn reachable(&self) -> bool {
        let Ok(url) = reqwest::Url::parse(&self.inner.config.base_url) else {
            return false;
        };
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let connect = tokio::net::TcpStream::connect((host, port));
        matches!(
            tokio::time::timeout(Duration::from_secs(1), connect).await,
            Ok(Ok(_))
        )
    }

    /// `GET /v1/customers?email=`: every customer the upstream matches for this email, all
    /// pages. The upstream's match is "exact"; whether it ignores case is not documented, so
    /// callers compare the answers' emails themselves.
    pub async fn customers_by_email(&self, email: &str) -> Result<Fetched<Vec<Customer>>, Error> {
        self.answer(Ask::CustomersByEmail(email.to_owned()), None)
            .await
    }

    /// `GET /v1/customers/{id}`.
    pub async fn customer(&self, customer_id: &str) -> Result<Fetched<Customer>, Error> {
        self.answer(Ask::Customer(customer_id.to_owned()), None)
            .await
    }

    /// Has `watch` see every customer record fetched from FlexPortal from now on, before any
    /// reader gets it, so that a change upstream (a customer made inactive, a new address)
    /// takes effect as soon as Folio learns of it. Set once; later calls are ignored.
    pub fn watch_customers(&self, watch: CustomerWatch) {
        let _ = self.inner.customer_watch.set(watch);
    }

    /// `GET /v1/orders?customerId=`, all pages. The items still need checking: see
    /// `Order::customer`.
    pub async fn orders_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Fetched<Vec<Order>>, Error> {
        self.answer(Ask::OrdersOf(customer_id.to_owned()), None)
            .await
    }

    /// `GET /v1/orders/{id}`. FlexPortal does not check who asks: compare the order's
    /// customer yourself.
    pub async fn order(&self, order_id: &str) -> Result<Fetched<Order>, Error> {
        self.answer(Ask::Order(order_id.to_owned()), None).await
    }

    /// `GET /v1/subscriptions?customerId=`, all pages.
    pub async fn rentals_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Fetched<Vec<Rental>>, Error> {
        self.answer(Ask::RentalsOf(customer_id.to_owned()), None)
            .await
    }

    /// `GET /v1/payments?customerId=`, all pages.
    pub async fn payments_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Fetched<Vec<Payment>>, Error> {
        self.answer(Ask::PaymentsOf(customer_id.to_owned()), None)
            .await
    }

    /// `GET /v1/files?orderId=`: the order's files, following `offset` while pages come back
    /// full. The upstream may ignore filters; callers must still check each file's `orderId`.
    /// Like every list here, one FlexPortal answers 404 for is kept as an empty list.
    /// `hint` names the order's customer and status: the answer goes with that customer, and
    /// its freshness follows the status.
    pub async fn files_of_order(
        &self,
        order_id: &str,
        hint: FilesHint<'_>,
    ) -> Result<Fetched<Vec<File>>, Error> {
        self.answer(Ask::FilesOf(order_id.to_owned()), Some(hint))
            .await
    }

    /// `GET /v1/files/{id}`: metadata only, asked anew each time (it is asked rarely, for
    /// files a kept list does not hold).
    pub async fn file(&self, file_id: &str) -> Result<Fetched<File>, Error> {
        let path = format!("/files/{}", segment(file_id));
        let file: File = self.request(Method::GET, &path, &[], None).await?;
        Ok(Fetched::made(file))
    }

    /// `POST /v1/files/url`: a signed address of the file's bytes, valid for
    /// `expires_in_minutes` (1–1440). Safe to repeat, so it is retried like a read.
    ///
    /// The URL for the same file and action is handed out again while at least half of its
    /// life is left, so that opening a file again (by anyone the caller has let through) costs
    /// none of the request budget. Whoever receives it still has at least half the asked life.
    pub async fn signed_url(
        &self,
        file_id: &str,
        action: FileAction,
        expires_in_minutes: u32,
    ) -> Result<SignedUrl, Error> {
        let key = (file_id.to_owned(), action);
        let now = Instant::now();
        if let Some((url, until)) = self.signed().get(&key) {
            if now < *until {
                Metrics::bump(&self.inner.metrics.cache_hits);
                return Ok(url.clone());
            }
        }
        let minutes = expires_in_minutes.clamp(1, 1440);
        let url = self.sign(file_id, action, minutes).await?;
        let until = now + Duration::from_secs(u64::from(minutes) * 30);
        let mut signed = self.signed();
        if signed.len() >= SIGNED_URLS_KEPT {
            signed.retain(|_, (_, until)| now < *until);
            if signed.len() >= SIGNED_URLS_KEPT {
                signed.clear();
            }
        }
        signed.insert(key, (url.clone(), until));
        Ok(url)
    }

    /// Whether a signed URL for this file and action is at hand (kept, with at least half its
    /// life left), so that asking for it again costs nothing from the budget.
    pub fn has_signed(&self, file_id: &str, action: FileAction) -> bool {
        let key = (file_id.to_owned(), action);
        self.signed()
            .get(&key)
            .is_some_and(|(_, until)| Instant::now() < *until)
    }

    fn signed(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<(String, FileAction), (SignedUrl, Instant)>> {
        self.inner.signed.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn sign(
        &self,
        file_id: &str,
        action: FileAction,
        expires_in_minutes: u32,
    ) -> Result<SignedUrl, Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Body<'a> {
            file_id: &'a str,
            action: FileAction,
            expires_in_minutes: u32,
        }
        let body = serde_json::to_vec(&Body {
            file_id,
            action,
            expires_in_minutes: expires_in_minutes.clamp(1, 1440),
        })
        .map_err(|e| Error::Unreachable(e.to_string()))?;
        self.request(Method::POST, "/files/url", &[], Some(body))
            .await
    }

    /// Follows `nextCursor` while `hasMore`, up to the page cap, and stops if a cursor comes
    /// back a second time (an upstream that ignores `startAfter` would loop forever).
    pub(crate) async fn fetch_all_pages<P: CursorPage>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Vec<P::Item>, Error> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut seen = HashSet::new();
        for _ in 0..self.inner.config.max_pages {
            let mut page_query = query.clone();
            page_query.push(("limit", PAGE_SIZE.to_string()));
            if let Some(cursor) = &cursor {
                page_query.push(("startAfter", cursor.clone()));
            }
            let page: P = self.request(Method::GET, path, &page_query, None).await?;
            let (page_items, has_more, next) = page.into_parts();
            items.extend(page_items);
            match next {
                Some(next) if has_more => {
                    if !seen.insert(next.clone()) {
                        tracing::warn!(path, "FlexPortal repeated a cursor; stopping this list");
                        return Ok(items);
                    }
                    cursor = Some(next);
                }
                _ => return Ok(items),
            }
        }
        tracing::warn!(
            path,
            pages = self.inner.config.max_pages,
            "list cut at the page cap"
        );
        Ok(items)
    }

    /// The files list has no cursor: it pages by `offset` (not a declared parameter). Asks
    /// for the next page only while pages come back full, and stops when the upstream
    /// ignores `offset` (the same first file twice).
    pub(crate) async fn fetch_files_of_order(&self, order_id: &str) -> Result<Vec<File>, Error> {
        let mut files: Vec<File> = Vec::new();
        let mut seen_ids = HashSet::new();
        let mut first_ids = HashSet::new();
        let mut offset = 0usize;
        for _ in 0..self.inner.config.max_pages {
            let query = vec![
                ("orderId", order_id.to_owned()),
                ("limit", PAGE_SIZE.to_string()),
                ("offset", offset.to_string()),
            ];
            let page: FilesPage = self.request(Method::GET, "/files", &query, None).await?;
            let count = page.files.len();
            if let Some(first) = page.files.first() {
                if !first_ids.insert(first.file_id.clone()) {
                    tracing::warn!("FlexPortal ignored the files offset; keeping the first pages");
                    return Ok(files);
                }
            }
            files.extend(
                page.files
                    .into_iter()
                    .filter(|f| seen_ids.insert(f.file_id.clone())),
            );
            if count < PAGE_SIZE {
                return Ok(files);
            }
            offset += count;
        }
        tracing::warn!("files list cut at the page cap");
        Ok(files)
    }

    /// One request with the budget, retries and error mapping.
    pub(crate) async fn request<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&'static str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<T, Error> {
        let inner = &self.inner;
        let endpoint = format!("{method} {}{path}", inner.config.path_prefix);
        let url = format!(
            "{}{}{}",
            inner.config.base_url, inner.config.path_prefix, path
        );
        let mut attempt = 0;
        loop {
            self.acquire().await?;
            Metrics::bump(&inner.metrics.upstream_requests);
            let mut request = inner
                .http
                .request(method.clone(), &url)
                .query(query)
                .bearer_auth(inner.config.api_key.expose_secret())
                .header("Tenant-ID", &inner.config.tenant_id)
                .header(header::ACCEPT, "application/json");
            if let Some(body) = &body {
                request = request
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
            }
            let outcome = match request.send().await {
                Ok(response) => self.read(response, &endpoint).await,
                Err(e) => Err(transport_error(&e)),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if let Error::RateLimited { retry_after } = &error {
                Metrics::bump(&inner.metrics.rate_limited);
                self.pause(retry_after.unwrap_or(Duration::from_secs(1)))
                    .await;
            }
            let delay = retry_delay(&error, attempt);
            match delay {
                Some(delay) if attempt < inner.config.max_retries && delay <= self.max_wait() => {
                    attempt += 1;
                    Metrics::bump(&inner.metrics.retries);
                    tracing::debug!(%endpoint, attempt, ?delay, %error, "retrying");
                    tokio::time::sleep(delay).await;
                }
                _ => {
                    Metrics::bump(&inner.metrics.failures);
                    tracing::warn!(%endpoint, %error, "FlexPortal request failed");
                    return Err(error);
                }
            }
        }
    }

    async fn read<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        endpoint: &str,
    ) -> Result<T, Error> {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(e) => return Err(transport_error(&e)),
        };
        if status.is_success() {
            let mut de = serde_json::Deserializer::from_slice(&bytes);
            return serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Decode {
                endpoint: endpoint.to_owned(),
                path: e.path().to_string(),
                message: e.inner().to_string(),
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&bytes)
            .ok()
            .map(|b| b.error);
        let code = detail.as_ref().map(|d| d.code.clone()).unwrap_or_default();
        Err(match status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized { code },
            StatusCode::FORBIDDEN => Error::Forbidden { code },
            StatusCode::NOT_FOUND => Error::NotFound,
            StatusCode::TOO_MANY_REQUESTS => Error::RateLimited { retry_after },
            StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => Error::Rejected {
                code,
                message: detail.map(|d| d.message).unwrap_or_default(),
            },
            other => Error::Server {
                status: other.as_u16(),
            },
        })
    }
}

/// Which failures are worth another try, and after how long: 429 after `Retry-After` (or a
/// short backoff), 5xx and connection failures after a jittered exponential backoff.
/// Timeouts are not retried: a slow upstream rarely gets faster, and the user is waiting.
fn retry_delay(error: &Error, attempt: u32) -> Option<Duration> {
    let backoff = || {
        let base = 100u64 << attempt.min(6);
        Duration::from_millis(base + fastrand::u64(0..=base))
    };
    match error {
        Error::RateLimited { retry_after } => Some(retry_after.unwrap_or_else(backoff)),
        Error::Server { .. } | Error::Unreachable(_) => Some(backoff()),
        _ => None,
    }
}

/// `Retry-After` as delta-seconds or as an HTTP-date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A failed transfer: timed out, or unreachable (said without the URL).
pub(crate) fn transport_error(error: &reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout
    } else {
        Error::Unreachable(without_url(error))
    }
}

/// A reqwest error's text without its URL (which could carry query parameters).
pub(crate) fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

/// An id as one path segment: ids are opaque, so anything but unreserved characters is
/// percent-encoded and a forged id cannot reach another path.
pub(crate) fn segment(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_both_forms() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let parsed = parse_retry_after(&httpdate::fmt_http_date(later)).unwrap();
        assert!(parsed > Duration::from_secs(110) && parsed <= Duration::from_secs(120));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn forged_ids_stay_one_segment() {
        assert_eq!(segment("ord_123"), "ord_123");
        assert_eq!(segment("../customers/c1"), "..%2Fcustomers%2Fc1");
        assert_eq!(segment("a?b#c"), "a%3Fb%23c");
    }

    #[test]
    fn timeouts_are_not_retried_but_server_errors_are() {
        assert!(retry_delay(&Error::Timeout, 0).is_none());
        assert!(retry_delay(&Error::NotFound, 0).is_none());
        let d = retry_delay(&Error::Server { status: 502 }, 1).unwrap();
        assert!(d >= Duration::from_millis(200) && d <= Duration::from_millis(400));
        assert_eq!(
            retry_delay(
                &Error::RateLimited {
                    retry_after: Some(Duration::from_secs(2))
                },
                0
            ),
            Some(Duration::from_secs(2))
        );
    }
}
