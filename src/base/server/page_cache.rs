//! Rendered customer pages, kept per session while the upstream answers they were made from
//! stay current.
//!
//! Server rendering is most of what a warm page view costs (bench/FINDINGS.md). A customer page
//! is made from who asks (the session and its principal), what is asked (path and query), the
//! request's language inputs (cookies, `Accept-Language`) and the FlexPortal answers read while
//! rendering. The key holds all but the last; the answers are noted as the page renders
//! ([`flexportal::AnswerLog`]), and the page is served again only while every one of them is
//! still the newest answer under its key (not replaced, not invalidated, on any instance),
//! whatever its age, and none that was fresh when read has aged past its freshness (the page
//! would now say how old its data is). So a kept page is exactly the page a render would make
//! now, except for its CSP nonce: each copy gets a fresh one.
//!
//! The key always includes the session, so a kept page only ever goes back to the browser it
//! was made for; sessions, sign-out and revoked links are checked before this layer runs
//! (`server::principal::load_principal`). Staff screens, sign-in pages and anything but a `200 text/html`
//! answer are never kept.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use flexportal::{AnswerLog, Client};
use futures::StreamExt;
use tower_sessions::session::Id;
use tower_sessions::Session;

use crate::base::server::principal::Principal;

/// Pages larger than this are served as rendered and not kept.
const MAX_PAGE_BYTES: usize = 2 * 1024 * 1024;

/// No page is kept longer than this, whatever its answers: a page may also be made from what
/// FlexPortal did not answer (a customer or an order it does not know), which no kept answer
/// stands for.
const MAX_AGE: std::time::Duration = std::time::Duration::from_secs(3600);

/// Put in the request's extensions while a page renders for keeping: the server functions read
/// FlexPortal through a client that notes their answers here (`base::server::calls::upstream`).
#[derive(Clone, Debug)]
pub struct PageLog(pub Arc<AnswerLog>);

/// Everything a customer page is made from, other than the upstream answers.
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
struct Key {
    session: Id,
    principal: Principal,
    path_and_query: String,
    cookie: Vec<u8>,
    accept_language: Vec<u8>,
}

impl Key {
    /// The key of a request for a customer page by a signed-in customer or link session;
    /// `None` for every other request, which this layer passes on untouched.
    fn of(request: &Request, is_kept_page: fn(&str) -> bool) -> Option<Self> {
        if request.method() != Method::GET || !is_kept_page(request.uri().path()) {
            return None;
        }
        let principal = request.extensions().get::<Principal>()?;
        // Customers and link sessions; staff screens are never kept.
        if matches!(principal, Principal::Staff { .. }) {
            return None;
        }
        let session = request.extensions().get::<Session>()?.id()?;
        let header = |name| {
            request
                .headers()
                .get_all(name)
                .iter()
                .flat_map(|v| [v.as_bytes(), b"\n"])
                .flatten()
                .copied()
                .collect::<Vec<u8>>()
        };
        Some(Key {
            session,
            principal: principal.clone(),
            path_and_query: request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())?,
            cookie: header(header::COOKIE),
            accept_language: header(header::ACCEPT_LANGUAGE),
        })
    }

    fn size(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.principal.text_len()
            + self.path_and_query.len()
            + self.cookie.len()
            + self.accept_language.len()
    }
}

/// A kept page: its headers and body with the render's nonce cut out, to be filled with a new
/// one per copy.
struct Page {
    /// Every header but the CSP, as rendered.
    headers: HeaderMap,
    /// The CSP header around its nonce(s).
    csp: Vec<String>,
    /// The body around its nonce(s).
    body: Vec<Bytes>,
    log: Arc<AnswerLog>,
    kept_at: std::time::Instant,
    order: u64,
    size: usize,
}

impl Page {
    fn response(&self) -> Response {
        let nonce = leptos::nonce::Nonce::new().to_string();
        let mut body = Vec::with_capacity(self.size);
        for (i, part) in self.body.iter().enumerate() {
            if i > 0 {
                body.extend_from_slice(nonce.as_bytes());
            }
            body.extend_from_slice(part);
        }
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = self.headers.clone();
        if let Ok(csp) = HeaderValue::from_str(&self.csp.join(&nonce)) {
            response
                .headers_mut()
                .insert(header::CONTENT_SECURITY_POLICY, csp);
        }
        response
    }
}

#[derive(Default)]
struct Pages {
    by_key: HashMap<Key, Arc<Page>>,
    /// Keys by the order they were kept in: the oldest goes first when room is needed.
    order: BTreeMap<u64, Key>,
    next: u64,
    bytes: usize,
}

impl Pages {
    fn remove(&mut self, key: &Key) {
        if let Some(page) = self.by_key.remove(key) {
            self.order.remove(&page.order);
            self.bytes -= cost(page.size, key);
        }
    }
}

/// The memory a kept page takes: its bytes, and its key twice (in the map, and in the order
/// of eviction).
fn cost(page_size: usize, key: &Key) -> usize {
    page_size + 2 * key.size()
}

/// The kept pages of this instance, bounded in bytes.
pub struct PageCache {
    pages: Mutex<Pages>,
    max_bytes: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for PageCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

/// What the cache holds and how it has done, for `/metrics`.
#[derive(Clone, Copy, Debug, Default)]
pub struct PageCacheStats {
    pub hits: u64,
    pub misses: u64,
    pub pages: usize,
    pub bytes: usize,
}

impl PageCache {
    /// `max_bytes` of pages at most (0 keeps none).
    pub fn new(max_bytes: usize) -> Self {
        Self {
            pages: Mutex::new(Pages::default()),
            max_bytes,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> PageCacheStats {
        let pages = self.lock();
        PageCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            pages: pages.by_key.len(),
            bytes: pages.bytes,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pages> {
        self.pages.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A copy of the page kept under `key`, if it is still what a render would make now.
    fn current(&self, key: &Key, upstream: &Client) -> Option<Response> {
        let page = self.lock().by_key.get(key)?.clone();
        if page.kept_at.elapsed() < MAX_AGE && upstream.answers_current(&page.log) {
            return Some(page.response());
        }
        let mut pages = self.lock();
        // Unless a newer page took its place meanwhile.
        if pages.by_key.get(key).is_some_and(|p| p.order == page.order) {
            pages.remove(key);
        }
        None
    }

    /// Serves `response` and keeps it under `key` when it is a page that may be kept.
    async fn keep(
        &self,
        key: Key,
        response: Response,
        log: Arc<AnswerLog>,
        upstream: &Client,
    ) -> Response {
        let keepable = response.status() == StatusCode::OK
            && response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/html"))
            && !response.headers().contains_key(header::SET_COOKIE);
        let nonce = response
            .headers()
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .and_then(nonce_of)
            .map(str::to_owned);
        let (Some(nonce), true) = (nonce, keepable) else {
            return response;
        };

        let (parts, body) = response.into_parts();
        let mut stream = body.into_data_stream();
        let mut chunks = Vec::new();
        let mut size = 0;
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(chunk) => {
                    size += chunk.len();
                    chunks.push(chunk);
                    if size > MAX_PAGE_BYTES {
                        // Too large to keep: sent on as it comes.
                        let seen = futures::stream::iter(chunks.into_iter().map(Ok));
                        let body = Body::from_stream(seen.chain(stream));
                        return Response::from_parts(parts, body);
                    }
                }
                Err(error) => {
                    // Passed on as it came: the answer breaks off, as it would have unkept.
                    let seen = futures::stream::iter(chunks.into_iter().map(Ok));
                    let failed = futures::stream::once(async move { Err(error) });
                    return Response::from_parts(parts, Body::from_stream(seen.chain(failed)));
                }
            }
        }
        let body: Bytes = chunks.concat().into();
        let mut headers = parts.headers.clone();
        let response = Response::from_parts(parts, Body::from(body.clone()));

        // Pages whose answers changed while they rendered are not kept.
        if !upstream.answers_current(&log) {
            return response;
        }
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(nonce.as_str()).map(str::to_owned).collect())
            .unwrap_or_default();
        headers.remove(header::CONTENT_SECURITY_POLICY);
        headers.remove(header::CONTENT_LENGTH);
        let body = split_at(&body, nonce.as_bytes());
        let page_size = size
            + headers
                .iter()
                .map(|(k, v)| k.as_str().len() + v.len())
                .sum::<usize>();
        if cost(page_size, &key) > self.max_bytes {
            return response;
        }

        let mut pages = self.lock();
        pages.remove(&key);
        let order = pages.next;
        pages.next += 1;
        pages.bytes += cost(page_size, &key);
        pages.order.insert(order, key.clone());
        pages.by_key.insert(
            key,
            Arc::new(Page {
                headers,
                csp,
                body,
                log,
                kept_at: std::time::Instant::now(),
                order,
                size: page_size,
            }),
        );
        while pages.bytes > self.max_bytes {
            let Some((_, oldest)) = pages.order.pop_first() else {
                break;
            };
            pages.remove(&oldest);
        }
        response
    }
}

/// The nonce in a CSP header value (`… 'nonce-abc…' …`).
fn nonce_of(csp: &str) -> Option<&str> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    // A nonce that could be mistaken for other text is not one to cut out.
    (len >= 16).then(|| &csp[start..start + len])
}

/// `body` cut at every occurrence of `needle`.
fn split_at(body: &Bytes, needle: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while let Some(found) = body[at..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| at + i)
    {
        parts.push(body.slice(start..found));
        start = found + needle.len();
        at = start;
    }
    parts.push(body.slice(start..));
    parts
}

impl PageCache {
    /// The middleware's work: serves a kept page when it is current, else renders it (noting
    /// the answers it reads) and keeps it. `is_kept_page` says which paths are pages that may
    /// be kept; the features that render them decide it.
    pub async fn serve(
        &self,
        upstream: &Client,
        is_kept_page: fn(&str) -> bool,
        mut request: Request,
        next: Next,
    ) -> Response {
        let Some(key) = Key::of(&request, is_kept_page) else {
            return next.run(request).await;
        };
        if self.max_bytes == 0 {
            self.misses.fetch_add(1, Ordering::Relaxed);
            return next.run(request).await;
        }
        if let Some(page) = self.current(&key, upstream) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return page;
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let log = Arc::new(AnswerLog::default());
        request.extensions_mut().insert(PageLog(log.clone()));
        let response = next.run(request).await;
        self.keep(key, response, log, upstream).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nonce_is_found_in_the_page_csp() {
        let csp = crate::base::server::security::page_csp("AbCdEfGhIjKlMnOpQrStUv", None);
        assert_eq!(nonce_of(&csp), Some("AbCdEfGhIjKlMnOpQrStUv"));
        assert_eq!(nonce_of("default-src 'self'"), None);
        assert_eq!(nonce_of("script-src 'nonce-short'"), None);
    }

    #[test]
    fn a_body_is_cut_at_every_nonce() {
        let body =
            Bytes::from_static(b"<script nonce=\"N0\">a</script><style nonce=\"N0\"></style>");
        let parts = split_at(&body, b"N0");
        assert_eq!(parts.len(), 3);
        assert_eq!(
            parts.join(&b"XY"[..]),
            b"<script nonce=\"XY\">a</script><style nonce=\"XY\"></style>"
        );
        assert_eq!(split_at(&Bytes::from_static(b"none here"), b"N0").len(), 1);
    }
}
