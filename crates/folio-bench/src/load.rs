//! Load from wrk, a separate process, and the ceiling it is compared with: axum handing out
//! the very same answers from memory.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use tokio::net::TcpListener;

use crate::folio::Answer;

/// What wrk measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Load {
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    /// Answers other than 2xx and 3xx.
    pub bad: u64,
    pub socket_errors: u64,
}

/// How to load: the URL and how each request is dressed.
pub struct Target<'a> {
    pub url: &'a str,
    /// One `Cookie` header for every request, or a file of them (one per line), used in turn.
    pub cookie: Cookie<'a>,
    /// Paths used in turn instead of the URL's own (with `Cookie::Rotate`).
    pub paths: &'a [&'a str],
}

pub enum Cookie<'a> {
    None,
    One(&'a str),
    Rotate(&'a Path),
}

/// The Lua that rotates cookies and paths, one per request.
const ROTATE_LUA: &str = r#"
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do cookies[#cookies + 1] = line end
local paths = {}
for p in string.gmatch(os.getenv("BENCH_PATHS") or "", "[^ ]+") do paths[#paths + 1] = p end
local i = math.random(1, 100000)
request = function()
  i = i + 1
  local path = nil
  if #paths > 0 then path = paths[(i % #paths) + 1] end
  return wrk.format("GET", path, { ["Cookie"] = cookies[(i % #cookies) + 1] })
end
"#;

/// Runs wrk with `clients` connections for `seconds`.
pub async fn wrk(target: &Target<'_>, clients: u32, seconds: u32) -> Result<Load, String> {
    let threads = clients.clamp(1, 2);
    let mut command = tokio::process::Command::new("wrk");
    command
        .arg(format!("-t{threads}"))
        .arg(format!("-c{clients}"))
        .arg(format!("-d{seconds}s"))
        .arg("--timeout")
        .arg("30s")
        .arg("--latency");
    let script = std::env::temp_dir().join(format!("folio-bench-{}.lua", std::process::id()));
    match target.cookie {
        Cookie::None => {}
        Cookie::One(cookie) => {
            command.arg("-H").arg(format!("Cookie: {cookie}"));
        }
        Cookie::Rotate(file) => {
            std::fs::write(&script, ROTATE_LUA).map_err(|e| e.to_string())?;
            command
                .arg("-s")
                .arg(&script)
                .env("BENCH_COOKIES", file)
                .env("BENCH_PATHS", target.paths.join(" "));
        }
    }
    let out = command
        .arg(target.url)
        .output()
        .await
        .map_err(|e| format!("cannot run wrk (apt install wrk): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wrk failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

/// Reads wrk's report (`--latency`).
pub fn parse_wrk(report: &str) -> Result<Load, String> {
    let mut load = Load::default();
    for line in report.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => load.rps = n.parse().unwrap_or(0.0),
            ["50%", t] => load.p50_ms = millis(t),
            ["99%", t] => load.p99_ms = millis(t),
            [n, "requests", "in", ..] => load.requests = n.parse().unwrap_or(0),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.bad = n.parse().unwrap_or(0),
            ["Socket", "errors:", rest @ ..] => {
                load.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    if load.requests == 0 {
        return Err(format!("wrk made no requests:\n{report}"));
    }
    Ok(load)
}

/// `1.23ms`, `456.78us`, `1.02s`, `2.00m` in milliseconds.
fn millis(t: &str) -> f64 {
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: f64 = n.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

/// A recorded answer, served again byte for byte.
#[derive(Clone)]
struct Recorded {
    status: StatusCode,
    headers: HeaderMap,
    body: axum::body::Bytes,
}

/// The ceiling: axum serving recorded answers from memory, by path, on its own port.
pub struct Ceiling {
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Ceiling {
    pub async fn serve(pages: Vec<(String, &Answer)>) -> std::io::Result<Self> {
        let mut by_path = HashMap::new();
        for (path, answer) in pages {
            let mut headers = HeaderMap::new();
            for name in ["content-type", "location", "cache-control"] {
                if let Some(v) = answer.headers.get(name) {
                    headers.insert(name, v.clone());
                }
            }
            by_path.insert(
                path,
                Recorded {
                    status: answer.status,
                    headers,
                    body: axum::body::Bytes::from(answer.body.clone()),
                },
            );
        }
        let by_path = Arc::new(by_path);
        let app = axum::Router::new().fallback(move |uri: axum::http::Uri| {
            let by_path = by_path.clone();
            async move {
                let key = uri.path_and_query().map_or("/", |p| p.as_str());
                match by_path.get(key) {
                    Some(r) => {
                        (r.status, r.headers.clone(), Body::from(r.body.clone())).into_response()
                    }
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }
        });
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { base, task })
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_wrk_report() {
        let report = "Running 5s test @ http://127.0.0.1:1/documents
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    12.10ms    3.20ms  40.00ms   80.00%
  Latency Distribution
     50%   11.50ms
     75%   13.00ms
     90%   15.00ms
     99%  512.00us
  25000 requests in 5.00s, 1.20GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:   5000.12
Transfer/sec:    240.00MB
";
        let load = parse_wrk(report).unwrap();
        assert_eq!(load.requests, 25_000);
        assert!((load.rps - 5000.12).abs() < 1e-9);
        assert!((load.p50_ms - 11.5).abs() < 1e-9);
        assert!((load.p99_ms - 0.512).abs() < 1e-9);
        assert_eq!(load.bad, 7);
        assert_eq!(load.socket_errors, 3);
        assert!((millis("1.50s") - 1500.0).abs() < 1e-9);
    }
}
