//! Shared helpers for the router-level tests: a Folio in demo mode on a fresh database,
//! driven without opening a port.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::body::Body;
use axum::http::{header, HeaderMap, Request, StatusCode};
use axum::Router;
use folio::server::{router, AppState, Config};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A Folio with its own SQLite file (or the given `DATABASE_URL`), removed when dropped.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    dir: PathBuf,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "folio-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("a scratch folder");
    dir
}

/// With `FOLIO_TEST_LOG=<filter>` (e.g. `info,tower_http=debug`), logs go to stderr, each line
/// named by the test's thread: run with `--nocapture` to see where a test spends its time.
fn init_test_log() {
    if let Ok(filter) = std::env::var("FOLIO_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_thread_names(true)
            .with_writer(std::io::stderr)
            .try_init();
    }
}

impl TestApp {
    pub async fn new(vars: &[(&str, &str)]) -> Self {
        init_test_log();
        let dir = scratch_dir();
        let mut map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        map.entry("DATABASE_URL".into())
            .or_insert_with(|| format!("sqlite://{}/folio.db", dir.display()));
        let config = Config::from_lookup(|name| map.get(name).cloned()).expect("valid test config");
        let state = folio::server::assemble(config).await.expect("state builds");
        TestApp {
            router: router(state.clone()),
            state,
            dir,
        }
    }

    /// The stand-in FlexPortal this demo-mode app runs: its faults and request counters.
    pub fn sim(&self) -> &flexportal_sim::RunningSim {
        &self
            .state
            .upstream
            .demo
            .as_ref()
            .expect("a demo-mode app")
            .sim
    }

    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Answer {
        let mut request = Request::get(path);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    pub async fn post_form(&self, path: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
        self.send(post_form(path, body, headers)).await
    }

    pub async fn send(&self, request: Request<Body>) -> Answer {
        send(self.router.clone(), request).await
    }
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
    /// The body as it came (an archive is no text).
    pub bytes: Vec<u8>,
}

impl Answer {
    /// The body without Leptos' hydration markers (`<!>`), which split text runs.
    pub fn text(&self) -> String {
        self.body.replace("<!>", "")
    }

    /// The body with this page's CSP nonce blanked out.
    pub fn without_nonce(&self) -> String {
        let nonce = self
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .and_then(|csp| csp.split("'nonce-").nth(1))
            .and_then(|rest| rest.split('\'').next())
            .unwrap_or("");
        if nonce.is_empty() {
            self.body.clone()
        } else {
            self.body.replace(nonce, "NONCE")
        }
    }

    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// `name=value` of the cookie called `name` that this answer sets, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or("").to_owned())
    }

    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

pub fn post_form(path: &str, body: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    request.body(Body::from(body.to_owned())).unwrap()
}

pub async fn send(app: Router, request: Request<Body>) -> Answer {
    let response = app.oneshot(request).await.expect("router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
        bytes: bytes.to_vec(),
    }
}

/// A browser in miniature: keeps Folio's session cookie between requests and sends the
/// same-origin headers a real browser would.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    /// `folio_session=…`, the session cookie.
    pub session: Option<String>,
    /// Other cookies Folio set, `name=value`, sent on every request (paths are not modelled).
    pub others: Vec<String>,
    pub accept_language: &'static str,
}

pub const SESSION_COOKIE: &str = "folio_session";

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            session: None,
            others: Vec::new(),
            accept_language: "en",
        }
    }

    fn headers(&self) -> Vec<(&str, String)> {
        let mut headers = vec![
            ("accept-language", self.accept_language.to_owned()),
            ("sec-fetch-site", "same-origin".to_owned()),
        ];
        let cookies: Vec<&str> = self
            .session
            .iter()
            .chain(self.others.iter())
            .map(String::as_str)
            .collect();
        if !cookies.is_empty() {
            headers.push(("cookie", cookies.join("; ")));
        }
        headers
    }

    fn remember(&mut self, answer: &Answer) {
        for set in answer
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or("").to_owned();
            let name = pair.split('=').next().unwrap_or("").to_owned();
            let expired = set.contains("Max-Age=0") || set.contains("max-age=0");
            let kept = (!expired).then_some(pair);
            if name == SESSION_COOKIE {
                self.session = kept;
            } else {
                self.others.retain(|c| !c.starts_with(&format!("{name}=")));
                self.others.extend(kept);
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let headers = self.headers();
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = self.app.get(path, &borrowed).await;
        self.remember(&answer);
        answer
    }

    pub async fn post(&mut self, path: &str, body: &str) -> Answer {
        let headers = self.headers();
        let borrowed: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = self.app.post_form(path, body, &borrowed).await;
        self.remember(&answer);
        answer
    }
}

/// Percent-encodes a form value, as the app's own links do.
pub use folio::ui::pager::encoded as form_value;

/// The link and code of the newest sign-in mail to `to` in the demo outbox, waiting up to
/// five seconds for it (mail is sent in the background).
pub async fn wait_for_mail(app: &TestApp, to: &str, already: usize) -> (String, String) {
    for _ in 0..100 {
        let outbox = app.state.mailer.outbox().expect("demo mode has an outbox");
        let mails: Vec<_> = outbox
            .iter()
            .filter(|m| m.to.eq_ignore_ascii_case(to))
            .collect();
        if mails.len() > already {
            return link_and_code(&mails[0].text);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no sign-in mail to {to}");
}

/// The number of mails to `to` in the outbox after giving background sends time to finish.
pub async fn mails_to(app: &TestApp, to: &str) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.state
        .mailer
        .outbox()
        .expect("demo mode has an outbox")
        .iter()
        .filter(|m| m.to.eq_ignore_ascii_case(to))
        .count()
}

/// The sign-in link and 6-digit code in a mail's text.
pub fn link_and_code(text: &str) -> (String, String) {
    let link = text
        .split_whitespace()
        .find(|w| w.starts_with("http"))
        .expect("a link in the mail")
        .to_owned();
    let code = text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code in the mail")
        .to_owned();
    (link, code)
}

/// The path and query of a link in a mail.
pub fn path_of(link: &str) -> String {
    let after_scheme = link.split_once("://").map(|(_, rest)| rest).unwrap_or(link);
    after_scheme
        .find('/')
        .map(|i| after_scheme[i..].to_owned())
        .unwrap_or_else(|| "/".into())
}

/// A browser signed in as `email` through the real sign-in flow (mail in the demo outbox,
/// code typed on the check page).
pub async fn signed_in<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let before = mails_to(app, email).await;
    let answer = browser
        .post("/login", &format!("email={}", form_value(email)))
        .await;
    assert_eq!(answer.location(), "/login/check");
    let (_, code) = wait_for_mail(app, email, before).await;
    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/", "signed in as {email}");
    browser
}

/// A fresh database on the machine's PostgreSQL server (trust authentication on
/// 127.0.0.1:5432). Drop it with [`PgDatabase::drop_it`] when done.
pub struct PgDatabase {
    name: String,
}

const PG_ADMIN: &str = "postgres://postgres@127.0.0.1:5432/postgres";

impl PgDatabase {
    pub async fn create() -> Self {
        Self::try_create()
            .await
            .expect("the PostgreSQL server on 127.0.0.1:5432 answers")
    }

    /// `None` when the server cannot be reached within a few seconds.
    pub async fn try_create() -> Option<Self> {
        use sqlx::Connection;
        let name = format!(
            "folio_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let connect = sqlx::PgConnection::connect(PG_ADMIN);
        let mut admin = tokio::time::timeout(std::time::Duration::from_secs(3), connect)
            .await
            .ok()?
            .ok()?;
        // Left over from an interrupted run with the same process id: start clean.
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .ok()?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .ok()?;
        Some(PgDatabase { name })
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    pub async fn drop_it(self) {
        use sqlx::Connection;
        if let Ok(mut admin) = sqlx::PgConnection::connect(PG_ADMIN).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin)
            .await;
        }
    }
}

/// A browser signed in as the demo account manager through the real staff sign-in.
pub async fn staff(app: &TestApp) -> Browser<'_> {
    let mut browser = Browser::new(app);
    let before = mails_to(app, folio::base::server::upstream::DEMO_MANAGER_EMAIL).await;
    let answer = browser
        .post(
            "/manage/login",
            &format!(
                "email={}",
                form_value(folio::base::server::upstream::DEMO_MANAGER_EMAIL)
            ),
        )
        .await;
    assert_eq!(answer.location(), "/manage/login/check");
    let (link, code) = wait_for_mail(
        app,
        folio::base::server::upstream::DEMO_MANAGER_EMAIL,
        before,
    )
    .await;
    assert!(
        link.contains("/manage/login/verify?token="),
        "the staff mail links to the staff page: {link}"
    );
    let answer = browser
        .post("/manage/login/code", &format!("code={code}"))
        .await;
    assert_eq!(answer.location(), "/manage", "staff signed in");
    browser
}

/// Creates a link for `customer` with the form `body`; returns its id and token.
pub async fn create_link(staff: &mut Browser<'_>, customer: &str, body: &str) -> (String, String) {
    let answer = staff
        .post(&format!("/manage/customers/{customer}/share"), body)
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    let page = answer.location().to_owned();
    let id = page
        .strip_prefix("/manage/links/")
        .unwrap_or_else(|| panic!("created: {page}"))
        .to_owned();
    let shown = staff.get(&page).await;
    assert_eq!(shown.status, StatusCode::OK);
    let token = token_in(&shown.text()).expect("the new link's address is shown");
    assert_eq!(shown.headers["cache-control"], "private, no-store");
    let again = staff.get(&page).await;
    assert_eq!(
        token_in(&again.text()),
        None,
        "the address is shown once only"
    );
    (id, token)
}

/// The token of the first `/s/…` address in a page or mail.
pub fn token_in(text: &str) -> Option<String> {
    let start = text.find("/s/")? + 3;
    Some(
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect(),
    )
}

/// A fresh browser that opens the link with its button.
pub async fn open_link<'a>(app: &'a TestApp, token: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    let answer = browser.post(&format!("/s/{token}"), "").await;
    assert_eq!(answer.location(), "/documents", "the link opens");
    browser
}

/// A series' value as the app's `/metrics` shows it.
pub fn metric(app: &TestApp, series: &str) -> u64 {
    let text = app.state.metrics_text();
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|value| value.parse::<f64>().ok())
        .map(|value| value as u64)
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// A file the stand-in's demo tenant holds.
pub struct DemoFile {
    pub id: String,
    pub file_type: String,
    pub order_id: String,
    /// The year it was made, `2025`.
    pub year: String,
}

/// Every file the demo tenant holds for one customer: the ground truth of what they may see.
pub fn demo_files(customer_id: &str) -> Vec<DemoFile> {
    let sim = flexportal_sim::Sim::demo();
    let tenant = sim.tenant();
    let orders: std::collections::BTreeSet<&str> = tenant
        .orders
        .iter()
        .filter(|o| o.customer.customer_id == customer_id)
        .map(|o| o.order_id.as_str())
        .collect();
    tenant
        .files
        .iter()
        .filter(|f| orders.contains(f.order_id.as_str()))
        .map(|f| DemoFile {
            id: f.file_id.clone(),
            file_type: f.file_type.clone(),
            order_id: f.order_id.clone(),
            year: f.created_at[..4].to_owned(),
        })
        .collect()
}
