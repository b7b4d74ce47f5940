//! The client: one pooled HTTP client, the budget, the cache, retries and pagination.

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

use crate::budget::Budget;
use crate::cache::{AnswerLog, Cache, Fetched};
use crate::error::Error;
use crate::metrics::{Metrics, MetricsSnapshot};
use crate::model::{
    CursorPage, Customer, CustomersPage, ErrorBody, File, FilesPage, Order, OrdersPage, Payment,
    PaymentsPage, Rental, RentalsPage, SignedUrl,
};

/// How a client talks to one tenant.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// e.g. `https://api-eu.flexportal.io`; paths are appended after `path_prefix`.
    pub base_url: String,
    /// Prefix of every path, `/v1` by default.
    pub path_prefix: String,
    pub tenant_id: String,
    pub api_key: SecretString,
    /// Requests a minute for the whole process (Starter tier: 100).
    pub requests_per_minute: u32,
    /// How long a read stays fresh.
    pub cache_ttl: Duration,
    /// How long past freshness a read may still be served, marked stale, when FlexPortal fails.
    pub keep_stale_for: Duration,
    /// Most reads kept.
    pub cache_entries: usize,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Retries after the first attempt, for reads and requests safe to repeat.
    pub max_retries: u32,
    /// The longest a request waits for room in the budget or for a retry; beyond that it fails
    /// at once so the page can answer (with stale data or a clear "try again").
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
            requests_per_minute: 100,
            cache_ttl: Duration::from_secs(60),
            keep_stale_for: Duration::from_secs(60 * 60),
            cache_entries: 10_000,
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

/// The FlexPortal client. Cheap to clone; clones share the connection pool, budget, cache and
/// counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Where this handle notes the cached answers it reads, if anywhere (see
    /// [`Client::logging_to`]).
    log: Option<Arc<AnswerLog>>,
}

struct Inner {
    http: reqwest::Client,
    config: ClientConfig,
    budget: Budget,
    cache: Cache,
    metrics: Metrics,
    signed: Mutex<HashMap<(String, FileAction), (SignedUrl, Instant)>>,
    customer_watch: OnceLock<CustomerWatch>,
}

/// Called with every customer record fetched from FlexPortal (not with cached copies), before
/// any reader gets it: see [`Client::watch_customers`].
pub type CustomerWatch =
    Arc<dyn Fn(Arc<Customer>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Signed URLs kept for handing out again; beyond this, expired ones are swept, and if none
/// has expired, all are dropped.
const SIGNED_URLS_KEPT: usize = 10_000;

/// Page size for every list: the documented maximum.
const PAGE_SIZE: usize = 100;

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(concat!("folio/", env!("CARGO_PKG_VERSION")))
            // Signed URLs are handed to browsers, never followed here.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                budget: Budget::new(config.requests_per_minute),
                cache: Cache::new(
                    config.cache_ttl,
                    config.keep_stale_for,
                    config.cache_entries,
                ),
                metrics: Metrics::default(),
                signed: Mutex::new(HashMap::new()),
                customer_watch: OnceLock::new(),
                config,
            }),
            log: None,
        })
    }

    /// A handle on the same client that notes in `log` every cached answer it reads, so that
    /// what is made from them can be kept exactly as long as they stay current
    /// ([`Client::answers_current`]).
    pub fn logging_to(&self, log: Arc<AnswerLog>) -> Self {
        Self {
            inner: self.inner.clone(),
            log: Some(log),
        }
    }

    /// True while every answer in `log` is still the cache's fresh answer and none was an old
    /// one served because FlexPortal failed. False once any has aged past the cache's
    /// freshness or been fetched again: what was made from them may be out of date.
    pub fn answers_current(&self, log: &AnswerLog) -> bool {
        self.inner.cache.all_current(log)
    }

    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// How long a request sent now would wait for room in the budget: zero when there is room.
    pub fn budget_wait(&self) -> Duration {
        self.inner.budget.wait_for_room()
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
        self.cached_list::<CustomersPage>("/customers", vec![("email", email.to_owned())])
            .await
    }

    /// `GET /v1/customers/{id}`.
    pub async fn customer(&self, customer_id: &str) -> Result<Fetched<Customer>, Error> {
        let path = format!("/customers/{}", segment(customer_id));
        let key = cache_key(&path, &[]);
        let this = self.clone();
        self.inner
            .cache
            .get_or_fetch(
                key,
                &self.inner.metrics,
                self.log.as_deref(),
                move || async move {
                    let customer: Customer = this.request(Method::GET, &path, &[], None).await?;
                    if let Some(watch) = this.inner.customer_watch.get() {
                        let customer = Arc::new(customer);
                        watch(customer.clone()).await;
                        return Ok(Arc::unwrap_or_clone(customer));
                    }
                    Ok(customer)
                },
            )
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
        self.cached_list::<OrdersPage>("/orders", vec![("customerId", customer_id.to_owned())])
            .await
    }

    /// `GET /v1/orders/{id}`. FlexPortal does not check who asks: compare the order's
    /// customer yourself.
    pub async fn order(&self, order_id: &str) -> Result<Fetched<Order>, Error> {
        self.cached_get(&format!("/orders/{}", segment(order_id)), vec![])
            .await
    }

    /// `GET /v1/subscriptions?customerId=`, all pages.
    pub async fn rentals_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Fetched<Vec<Rental>>, Error> {
        self.cached_list::<RentalsPage>(
            "/subscriptions",
            vec![("customerId", customer_id.to_owned())],
        )
        .await
    }

    /// `GET /v1/payments?customerId=`, all pages.
    pub async fn payments_of_customer(
        &self,
        customer_id: &str,
    ) -> Result<Fetched<Vec<Payment>>, Error> {
        self.cached_list::<PaymentsPage>("/payments", vec![("customerId", customer_id.to_owned())])
            .await
    }

    /// `GET /v1/files?orderId=`: the order's files, following `offset` while pages come back
    /// full. The upstream may ignore filters; callers must still check each file's `orderId`.
    pub async fn files_of_order(&self, order_id: &str) -> Result<Fetched<Vec<File>>, Error> {
        let key = cache_key("/files", &[("orderId", order_id.to_owned())]);
        let this = self.clone();
        let order_id = order_id.to_owned();
        self.inner
            .cache
            .get_or_fetch(
                key,
                &self.inner.metrics,
                self.log.as_deref(),
                move || async move { this.fetch_files_of_order(&order_id).await },
            )
            .await
    }

    /// Forgets the cached order list of a customer and the file lists of the given orders,
    /// so that their next reads ask FlexPortal again. Pages made from them stop being current.
    pub fn forget_order_lists<'a>(
        &self,
        customer_id: &str,
        order_ids: impl IntoIterator<Item = &'a str>,
    ) {
        let cache = &self.inner.cache;
        cache.invalidate(&cache_key(
            "/orders",
            &[("customerId", customer_id.to_owned())],
        ));
        for order_id in order_ids {
            cache.invalidate(&cache_key("/files", &[("orderId", order_id.to_owned())]));
        }
    }

    /// `GET /v1/files/{id}`: metadata only.
    pub async fn file(&self, file_id: &str) -> Result<Fetched<File>, Error> {
        self.cached_get(&format!("/files/{}", segment(file_id)), vec![])
            .await
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

    async fn cached_get<T>(
        &self,
        path: &str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Fetched<T>, Error>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let key = cache_key(path, &query);
        let this = self.clone();
        let path = path.to_owned();
        self.inner
            .cache
            .get_or_fetch(
                key,
                &self.inner.metrics,
                self.log.as_deref(),
                move || async move { this.request(Method::GET, &path, &query, None).await },
            )
            .await
    }

    async fn cached_list<P>(
        &self,
        path: &'static str,
        query: Vec<(&'static str, String)>,
    ) -> Result<Fetched<Vec<P::Item>>, Error>
    where
        P: CursorPage + Send + 'static,
        P::Item: Send + Sync + 'static,
    {
        let key = cache_key(path, &query);
        let this = self.clone();
        self.inner
            .cache
            .get_or_fetch(
                key,
                &self.inner.metrics,
                self.log.as_deref(),
                move || async move { this.fetch_all_pages::<P>(path, query).await },
            )
            .await
    }

    /// Follows `nextCursor` while `hasMore`, up to the page cap, and stops if a cursor comes
    /// back a second time (an upstream that ignores `startAfter` would loop forever).
    async fn fetch_all_pages<P: CursorPage>(
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
    async fn fetch_files_of_order(&self, order_id: &str) -> Result<Vec<File>, Error> {
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
    async fn request<T: DeserializeOwned>(
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
            inner.budget.acquire(inner.config.max_wait).await?;
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
                Err(e) if e.is_timeout() => Err(Error::Timeout),
                Err(e) => Err(Error::Unreachable(without_url(&e))),
            };
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            if let Error::RateLimited { retry_after } = &error {
                Metrics::bump(&inner.metrics.rate_limited);
                inner
                    .budget
                    .pause_for(retry_after.unwrap_or(Duration::from_secs(1)));
            }
            let delay = retry_delay(&error, attempt);
            match delay {
                Some(delay)
                    if attempt < inner.config.max_retries && delay <= inner.config.max_wait =>
                {
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
            Err(e) if e.is_timeout() => return Err(Error::Timeout),
            Err(e) => return Err(Error::Unreachable(without_url(&e))),
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

/// A reqwest error's text without its URL (which could carry query parameters).
fn without_url(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    if let Some(url) = error.url() {
        text = text.replace(url.as_str(), "<url>");
    }
    text
}

/// An id as one path segment: ids are opaque, so anything but unreserved characters is
/// percent-encoded and a forged id cannot reach another path.
fn segment(id: &str) -> String {
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

fn cache_key(path: &str, query: &[(&'static str, String)]) -> String {
    let mut key = path.to_owned();
    for (name, value) in query {
        key.push('\u{1f}');
        key.push_str(name);
        key.push('=');
        key.push_str(value);
    }
    key
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
