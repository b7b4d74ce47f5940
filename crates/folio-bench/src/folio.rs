//! Folio as a child process (the release binary), configured against the stand-in, and a
//! browser-like HTTP client that signs in through the real flow.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, HeaderValue, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use reqwest::StatusCode;
use tokio::process::{Child, Command};

use crate::smtp::Inbox;

/// What a Folio process is started with besides the upstream and mail settings.
pub struct Settings {
    pub upstream_url: String,
    pub api_key: String,
    pub tenant_id: String,
    pub smtp_url: String,
    /// `FLEXPORTAL_RATE_LIMIT_PER_MIN`
    pub budget_per_min: u32,
    pub extra: Vec<(&'static str, String)>,
    /// The port to listen on; a free one when `None`.
    pub port: Option<u16>,
}

pub struct Folio {
    child: Child,
    pub base: String,
    pub pid: u32,
    /// Where Folio's own log (standard error) goes.
    pub log: PathBuf,
    _data: TempDir,
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Folio {
    /// Starts `binary` on a free port with a fresh SQLite database, and waits until it is ready.
    pub async fn start(binary: &Path, site_root: &Path, s: &Settings) -> Result<Self, String> {
        let port = match s.port {
            Some(port) => port,
            None => free_port()?,
        };
        let base = format!("http://127.0.0.1:{port}");
        let data = std::env::temp_dir().join(format!("folio-bench-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&data).map_err(|e| e.to_string())?;
        // Folio's log goes beside the benchmark's output, kept after the run.
        let log = std::env::temp_dir().join(format!("folio-bench-{port}.log"));
        let log_file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FOLIO_ADDR", format!("127.0.0.1:{port}"))
            .env("FOLIO_PUBLIC_URL", &base)
            .env("LEPTOS_SITE_ROOT", site_root)
            .env("LEPTOS_SITE_PKG_DIR", "pkg")
            .env("LEPTOS_OUTPUT_NAME", "folio")
            .env("LEPTOS_HASH_FILES", "true")
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/folio.db", data.display()),
            )
            .env("FLEXPORTAL_BASE_URL", &s.upstream_url)
            .env("FLEXPORTAL_API_KEY", &s.api_key)
            .env("FLEXPORTAL_TENANT_ID", &s.tenant_id)
            .env(
                "FLEXPORTAL_RATE_LIMIT_PER_MIN",
                s.budget_per_min.to_string(),
            )
            .env(
                "FOLIO_SESSION_SECRET",
                "bench-secret-bench-secret-bench-secret-0",
            )
            .env("SMTP_URL", &s.smtp_url)
            .env("MAIL_FROM", "Folio Bench <portal@bench.example>")
            .env("FOLIO_SIGNIN_LIMIT_PER_EMAIL", "1000")
            .env("FOLIO_SIGNIN_LIMIT_PER_IP", "100000")
            .env("FOLIO_LOG", "warn")
            .env("RUST_BACKTRACE", "1")
            .stdin(Stdio::null())
            // Folio logs to standard output and panics go to standard error: both are kept.
            .stdout(Stdio::from(
                log_file.try_clone().map_err(|e| e.to_string())?,
            ))
            .stderr(Stdio::from(log_file))
            .kill_on_drop(true);
        for (k, v) in &s.extra {
            command.env(k, v);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let pid = child.id().ok_or("Folio exited at once")?;
        let folio = Self {
            child,
            base,
            pid,
            log,
            _data: TempDir(data),
        };
        folio.wait_ready().await?;
        Ok(folio)
    }

    async fn wait_ready(&self) -> Result<(), String> {
        let client = reqwest::Client::new();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = client.get(format!("{}/readyz", self.base)).send().await {
                if r.status() == StatusCode::OK {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err("Folio did not become ready within 30 s".into())
    }

    /// Resident set size now and at its peak, in bytes (`VmRSS`, `VmHWM`).
    pub fn rss(&self) -> (u64, u64) {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .map_or(0, |kb| kb * 1024)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// The panics Folio's log reports: Leptos' disposed-value panics in tasks that outlived
    /// their render (logged as a warning of kind `reactive_disposed`, never in an answer), and
    /// every other one (the standard "panicked at" report), each a bug.
    pub fn panics(&self) -> Panics {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        Panics {
            reactive_disposed: log.matches("reactive_disposed").count(),
            other: log.matches("panicked at").count(),
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Asks Folio to stop as an orchestrator does (SIGTERM) and waits until it has.
    pub async fn terminate(mut self) -> Result<(), String> {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid.to_string()])
            .status()
            .await
            .map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("kill -TERM {} failed", self.pid));
        }
        let _ = self.child.wait().await;
        Ok(())
    }

    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Panics counted in Folio's log, by kind.
#[derive(Clone, Copy, Debug, Default)]
pub struct Panics {
    pub reactive_disposed: usize,
    pub other: usize,
}

pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// An HTTP answer as a load generator sees it: no redirects followed.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// One HTTP client for the driver: keeps connections, never follows redirects, keeps no
/// cookies of its own (each session's cookie is passed explicitly).
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
}

impl Http {
    pub fn new() -> Self {
        Self {
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client"),
        }
    }

    pub async fn get(&self, url: &str, cookie: Option<&str>) -> Result<Answer, String> {
        let mut request = self.client.get(url);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        answer(request.send().await).await
    }

    pub async fn post_form(
        &self,
        base: &str,
        path: &str,
        form: &str,
        cookie: Option<&str>,
    ) -> Result<Answer, String> {
        self.post_form_from(base, base, path, form, cookie).await
    }

    /// A form posted to `base` from a page of `origin` (an instance behind a balancer is
    /// posted to from the balancer's pages).
    pub async fn post_form_from(
        &self,
        origin: &str,
        base: &str,
        path: &str,
        form: &str,
        cookie: Option<&str>,
    ) -> Result<Answer, String> {
        let mut request = self
            .client
            .post(format!("{base}{path}"))
            .header(
                ORIGIN,
                HeaderValue::from_str(origin).map_err(|e| e.to_string())?,
            )
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned());
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        answer(request.send().await).await
    }

    /// Signs `email` in through the real flow: the form, the mail, the code. Returns the
    /// session cookie (`name=value`).
    pub async fn sign_in(&self, base: &str, inbox: &Inbox, email: &str) -> Result<String, String> {
        let before = inbox.count(email);
        let form = format!("email={}", email.replace('@', "%40").replace('+', "%2B"));
        let asked = self.post_form(base, "/login", &form, None).await?;
        if asked.location() != Some("/login/check") {
            return Err(format!(
                "sign-in for {email}: POST /login answered {} to {:?}",
                asked.status,
                asked.location()
            ));
        }
        let pending = asked.cookies();
        // Folio answers at once and looks the address up in the background, waiting up to 60 s
        // for room in the request budget: the mail can take that long and a little more.
        let code = inbox
            .code_after(email, before, Duration::from_secs(75))
            .await
            .ok_or_else(|| match inbox.unreadable(email).last() {
                Some(mail) => format!("a mail to {email} without a readable code:\n{mail}"),
                None => format!("no sign-in mail to {email} within 75 s"),
            })?;
        let verified = self
            .post_form(base, "/login/code", &format!("code={code}"), Some(&pending))
            .await?;
        if verified.location() != Some("/") {
            return Err(format!(
                "sign-in for {email}: the code answered {} to {:?}",
                verified.status,
                verified.location()
            ));
        }
        verified
            .cookie("folio_session")
            .ok_or_else(|| format!("sign-in for {email}: no session cookie"))
    }
}

async fn answer(sent: reqwest::Result<reqwest::Response>) -> Result<Answer, String> {
    let response = sent.map_err(|e| e.to_string())?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.bytes().await.map_err(|e| e.to_string())?.to_vec();
    Ok(Answer {
        status,
        headers,
        body,
    })
}

impl Answer {
    pub fn location(&self) -> Option<&str> {
        self.headers.get(LOCATION).and_then(|v| v.to_str().ok())
    }

    /// Every cookie set, as one `Cookie` header value.
    pub fn cookies(&self) -> String {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The cookie `name`, as `name=value`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}
