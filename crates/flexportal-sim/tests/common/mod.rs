//! Shared test helpers: an in-process harness over the router, a tiny HTTP/1.1 client for
//! tests that need a real socket, and the OpenAPI validator.
#![allow(dead_code)]

pub mod schema;

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use flexportal_sim::{router, Counters, Faults, Sim};
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// The sim's router driven in-process, with the demo credentials.
pub struct Harness {
    pub router: Router,
    pub faults: Faults,
    pub counters: Counters,
    pub api_key: String,
    pub tenant_id: String,
}

impl Harness {
    pub fn new() -> Self {
        Self::with(Sim::demo())
    }

    pub fn with(sim: Sim) -> Self {
        let faults = sim.faults();
        let counters = sim.counters();
        let api_key = sim.api_key().to_owned();
        let tenant_id = sim.tenant_id().to_owned();
        Self {
            router: router(sim.into_state()),
            faults,
            counters,
            api_key,
            tenant_id,
        }
    }

    pub async fn send(&self, req: Request<Body>) -> Resp {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        Resp {
            status,
            headers,
            body,
        }
    }

    pub fn request(&self, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("host", "sim.test")
            .header("authorization", format!("Bearer {}", self.api_key))
            .header("tenant-id", &self.tenant_id)
    }

    pub async fn get(&self, uri: &str) -> Resp {
        self.send(self.request(Method::GET, uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn post_json(&self, uri: &str, body: &Value) -> Resp {
        let req = self
            .request(Method::POST, uri)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    /// A request without the API headers (storage links, admin endpoints).
    pub async fn get_anonymous(&self, uri: &str) -> Resp {
        self.send(
            Request::builder()
                .uri(uri)
                .header("host", "sim.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    /// Follows `nextCursor` to the end, returning every item under `key`.
    pub async fn collect_pages(&self, path: &str, key: &str, limit: usize) -> (Vec<Value>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let uri = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&startAfter={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let r = self.get(&uri).await;
            assert_eq!(
                r.status,
                StatusCode::OK,
                "{uri}: {:?}",
                String::from_utf8_lossy(&r.body)
            );
            let v = r.json();
            pages += 1;
            let page = v[key]
                .as_array()
                .unwrap_or_else(|| panic!("{uri}: no array {key}"));
            assert!(page.len() <= limit);
            assert_eq!(v["count"].as_u64(), Some(page.len() as u64));
            items.extend(page.iter().cloned());
            if v["hasMore"] == Value::Bool(false) {
                assert!(v["nextCursor"].is_null());
                break;
            }
            assert_eq!(page.len(), limit, "a page before the last one is full");
            cursor = Some(
                v["nextCursor"]
                    .as_str()
                    .expect("nextCursor when hasMore")
                    .to_owned(),
            );
            assert!(pages < 1000, "pagination does not end");
        }
        (items, pages)
    }
}

/// A minimal HTTP/1.1 exchange over a real socket (`Connection: close`, body read to EOF).
pub async fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    stream.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("header end");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let mut headers = HeaderMap::new();
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            headers.append(
                axum::http::HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                v.trim().parse().unwrap(),
            );
        }
    }
    let mut body = raw[split + 4..].to_vec();
    if headers
        .get("transfer-encoding")
        .is_some_and(|v| v == "chunked")
    {
        body = dechunk(&body);
    }
    Resp {
        status: StatusCode::from_u16(status).unwrap(),
        headers,
        body: Bytes::from(body),
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(pos) = data.windows(2).position(|w| w == b"\r\n") {
        let size =
            usize::from_str_radix(String::from_utf8_lossy(&data[..pos]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[pos + 2..pos + 2 + size]);
        data = &data[pos + 2 + size + 2..];
    }
    out
}

pub async fn api_get(sim: &flexportal_sim::RunningSim, path: &str) -> Resp {
    let auth = format!("Bearer {}", sim.api_key);
    http(
        sim.addr,
        "GET",
        path,
        &[("Authorization", &auth), ("Tenant-ID", &sim.tenant_id)],
        "",
    )
    .await
}

pub async fn within<T>(limit: Duration, f: impl std::future::Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, f).await.ok()
}
