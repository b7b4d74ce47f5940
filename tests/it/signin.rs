//! Customer sign-in, sessions and sign-out, through the whole router: the demo outbox stands
//! in for the customer's mailbox. The store-dependent tests run on SQLite and, in
//! `postgres_*` tests, on the PostgreSQL server of the machine.

use std::time::Duration;

use axum::http::StatusCode;

use crate::common::{
    form_value, link_and_code, mails_to, path_of, wait_for_mail, Browser, PgDatabase, TestApp,
};

const BEN: &str = "ben.okafor@example.com";

async fn app() -> TestApp {
    TestApp::new(&[]).await
}

/// Asks for a sign-in as `email` and returns the mail's link and code.
async fn request(browser: &mut Browser<'_>, email: &str) -> (String, String) {
    let before = mails_to(browser.app, email).await;
    let answer = browser
        .post("/login", &format!("email={}", form_value(email)))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/login/check");
    wait_for_mail(browser.app, email, before).await
}

async fn assert_signed_in_as(browser: &mut Browser<'_>, name: &str) {
    let page = browser.get("/").await;
    assert!(
        page.text().contains(&format!("Signed in as {name}")),
        "expected to be signed in as {name}"
    );
}

async fn assert_signed_out(browser: &mut Browser<'_>) {
    let page = browser.get("/").await;
    assert!(!page.text().contains("Signed in as"), "still signed in");
    assert!(page.body.contains("Sign in"));
}

#[tokio::test]
async fn sign_in_with_the_code_rotates_the_session_and_signs_out() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let (_, code) = request(&mut browser, BEN).await;
    let before = browser
        .session
        .clone()
        .expect("an anonymous session holds the pending sign-in");

    let page = browser.get("/login/check").await;
    assert!(
        page.text().contains(BEN),
        "the check page names the address"
    );

    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/");
    let after = browser.session.clone().expect("a session");
    assert_ne!(before, after, "the session id changes at sign-in");
    let set = answer.set_cookie(crate::common::SESSION_COOKIE).unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http in tests");
    assert_signed_in_as(&mut browser, "Ben Okafor").await;

    // The old id is worth nothing now.
    let mut planted = Browser::new(&app);
    planted.session = Some(before);
    assert_signed_out(&mut planted).await;

    let answer = browser.post("/logout", "").await;
    assert_eq!(answer.location(), "/");
    assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn sign_in_with_the_link_needs_the_post_and_works_once() {
    let app = app().await;
    let mut asking = Browser::new(&app);
    let (link, _) = request(&mut asking, BEN).await;
    assert!(link.starts_with("http://127.0.0.1:3000/login/verify?token="));
    let token = link.split("token=").nth(1).unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits");

    // A mail scanner fetches the link: nothing is spent, nobody is signed in.
    let mut scanner = Browser::new(&app);
    let page = scanner.get(&path_of(&link)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Continue"));
    assert_eq!(page.headers["referrer-policy"], "no-referrer");
    assert_eq!(page.headers["cache-control"], "private, no-store");
    assert_signed_out(&mut scanner).await;

    // The customer opens it on another device and continues.
    let mut phone = Browser::new(&app);
    let answer = phone.post("/login/verify", &format!("token={token}")).await;
    assert_eq!(answer.location(), "/");
    assert_signed_in_as(&mut phone, "Ben Okafor").await;

    // Spent: a second use fails, and so does the code from the same mail.
    let mut again = Browser::new(&app);
    let answer = again.post("/login/verify", &format!("token={token}")).await;
    assert_eq!(answer.location(), "/login?error=link");
    assert_signed_out(&mut again).await;
}

#[tokio::test]
async fn the_code_and_the_link_expire_after_15_minutes() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let (link, code) = request(&mut browser, BEN).await;
    app.state.clock.advance(15 * 60);

    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/login/check?error=expired");
    let token = link.split("token=").nth(1).unwrap();
    let answer = browser
        .post("/login/verify", &format!("token={token}"))
        .await;
    assert_eq!(answer.location(), "/login?error=link");
    assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn five_wrong_codes_end_the_attempt() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let (link, code) = request(&mut browser, BEN).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for n in 1..=5 {
        let answer = browser.post("/login/code", &format!("code={wrong}")).await;
        let expected = if n < 5 {
            "/login/check?error=code"
        } else {
            "/login/check?error=tries"
        };
        assert_eq!(answer.location(), expected, "try {n}");
    }
    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(
        answer.location(),
        "/login/check?error=tries",
        "even the right code is refused now"
    );
    let token = link.split("token=").nth(1).unwrap();
    let answer = browser
        .post("/login/verify", &format!("token={token}"))
        .await;
    assert_eq!(
        answer.location(),
        "/login?error=link",
        "the link went with the attempt"
    );
    assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn known_and_unknown_addresses_get_identical_answers() {
    let app = app().await;
    let mut known = Browser::new(&app);
    let mut unknown = Browser::new(&app);
    let a = known
        .post("/login", &format!("email={}", form_value(BEN)))
        .await;
    let b = unknown.post("/login", "email=nobody%40example.com").await;
    assert_eq!(a.status, b.status);
    assert_eq!(a.location(), b.location());
    assert_eq!(a.body, b.body);

    // The check pages differ only in the address they echo (and the per-page nonce).
    let a = known
        .get("/login/check")
        .await
        .without_nonce()
        .replace(BEN, "X");
    let b = unknown
        .get("/login/check")
        .await
        .without_nonce()
        .replace("nobody@example.com", "X");
    assert_eq!(a, b);

    // Codes for an unknown address are simply wrong, five times, like any.
    for _ in 0..4 {
        assert_eq!(
            unknown.post("/login/code", "code=123456").await.location(),
            "/login/check?error=code"
        );
    }
    assert_eq!(
        unknown.post("/login/code", "code=123456").await.location(),
        "/login/check?error=tries"
    );
    assert_eq!(mails_to(&app, "nobody@example.com").await, 0);
}

#[tokio::test]
async fn inactive_ambiguous_and_malformed_addresses_get_no_mail() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    // Inactive customer.
    browser
        .post("/login", "email=greta.holm%40example.com")
        .await;
    assert_eq!(mails_to(&app, "greta.holm@example.com").await, 0);
    // The upstream matches case-insensitively here: two customers answer; neither gets mail.
    app.sim().faults.set_email_case_insensitive(true);
    browser.post("/login", "email=jo.berg%40example.com").await;
    assert_eq!(mails_to(&app, "jo.berg@example.com").await, 0);
    // A malformed address is told so, plainly.
    let answer = browser.post("/login", "email=not-an-address").await;
    assert_eq!(answer.location(), "/login?error=email");
    let page = browser.get("/login?error=email").await;
    assert!(page.body.contains("Please enter a valid email address."));
}

#[tokio::test]
async fn the_address_is_matched_case_insensitively_here() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    // FlexPortal's match is exact: another spelling of the address finds nobody, sends nothing.
    browser
        .post("/login", "email=BEN.OKAFOR%40Example.com")
        .await;
    assert_eq!(mails_to(&app, BEN).await, 0);

    // An upstream that ignores case answers with the stored spelling; Folio compares without
    // case and signs the one customer in.
    app.sim().faults.set_email_case_insensitive(true);
    let (_, code) = request(&mut browser, "Ben.Okafor@Example.COM").await;
    browser.post("/login/code", &format!("code={code}")).await;
    assert_signed_in_as(&mut browser, "Ben Okafor").await;
}

#[tokio::test]
async fn rate_limits_per_address_and_per_client() {
    let app = TestApp::new(&[
        ("FOLIO_SIGNIN_LIMIT_PER_EMAIL", "2"),
        ("FOLIO_SIGNIN_LIMIT_PER_IP", "4"),
    ])
    .await;
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        let answer = browser
            .post("/login", &format!("email={}", form_value(BEN)))
            .await;
        assert_eq!(answer.location(), "/login/check", "the same neutral answer");
    }
    assert_eq!(
        mails_to(&app, BEN).await,
        2,
        "the third request sent nothing"
    );

    // The same client keeps going: neutral answers up to three times its limit, then 429.
    let mut statuses = Vec::new();
    for i in 0..10 {
        let answer = browser
            .post("/login", &format!("email=someone{i}%40example.com"))
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::SEE_OTHER)
            .count(),
        12 - 3
    );
    assert_eq!(*statuses.last().unwrap(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_spent_request_budget_turns_sign_ins_away_instead_of_losing_the_mail() {
    // The whole budget for sign-in lookups, none for background work (warm-ups).
    let app = TestApp::new(&[
        ("FLEXPORTAL_RATE_LIMIT_PER_MIN", "2"),
        ("FOLIO_BUDGET_SIGNIN_PERCENT", "100"),
        ("FOLIO_BUDGET_BACKGROUND_PERCENT", "0"),
    ])
    .await;
    let mut browser = Browser::new(&app);
    // Two lookups fill the budget for the next minute.
    request(&mut browser, BEN).await;
    request(&mut browser, "clara.jensen@example.org").await;
    // Then every address gets the same clear answer at once, and no promise of a mail.
    for email in ["dana.fischer@example.com", "nobody@example.com"] {
        let answer = browser
            .post("/login", &format!("email={}", form_value(email)))
            .await;
        assert_eq!(answer.location(), "/login?error=later", "{email}");
    }
    let page = browser.get("/login?error=later").await;
    assert!(page
        .text()
        .contains("Signing in is not possible for a moment. Please try again in a minute."));
    assert_eq!(mails_to(&app, "dana.fischer@example.com").await, 0);
}

#[tokio::test]
async fn cross_origin_sign_in_posts_are_refused() {
    let app = app().await;
    for path in [
        "/login",
        "/login/code",
        "/login/verify",
        "/logout",
        "/logout/everywhere",
    ] {
        let answer = app
            .post_form(
                path,
                "email=x%40example.com",
                &[("origin", "https://evil.example")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(mails_to(&app, "x@example.com").await, 0);
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session() {
    let app = app().await;
    let mut laptop = Browser::new(&app);
    let (_, code) = request(&mut laptop, BEN).await;
    laptop.post("/login/code", &format!("code={code}")).await;
    let mut phone = Browser::new(&app);
    let (_, code) = request(&mut phone, BEN).await;
    phone.post("/login/code", &format!("code={code}")).await;
    assert_signed_in_as(&mut phone, "Ben Okafor").await;

    laptop.post("/logout/everywhere", "").await;
    assert_signed_out(&mut laptop).await;
    assert_signed_out(&mut phone).await;
}

#[tokio::test]
async fn sessions_end_after_their_absolute_lifetime() {
    let app = TestApp::new(&[("FOLIO_SESSION_MAX_HOURS", "1")]).await;
    let mut browser = Browser::new(&app);
    let (_, code) = request(&mut browser, BEN).await;
    browser.post("/login/code", &format!("code={code}")).await;
    assert_signed_in_as(&mut browser, "Ben Okafor").await;
    app.state.clock.advance(3600);
    assert_signed_out(&mut browser).await;
}

#[tokio::test]
async fn the_outbox_exists_only_in_demo_mode() {
    let app = app().await;
    assert_eq!(app.get("/dev/outbox", &[]).await.status, StatusCode::OK);
    let real = TestApp::new(&[
        ("FLEXPORTAL_BASE_URL", "http://127.0.0.1:9"),
        ("FLEXPORTAL_TENANT_ID", "bu_1"),
        ("FLEXPORTAL_API_KEY", "k"),
        ("FOLIO_SESSION_SECRET", "0123456789abcdef0123456789abcdef"),
        ("SMTP_URL", "smtp://127.0.0.1:9"),
    ])
    .await;
    assert_eq!(
        real.get("/dev/outbox", &[]).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_sign_in_mail_speaks_the_customers_language() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    browser.accept_language = "de-DE";
    request(&mut browser, BEN).await;
    let outbox = app.state.mailer.outbox().unwrap();
    assert!(
        outbox[0].subject.starts_with("Ihr Anmeldelink"),
        "{}",
        outbox[0].subject
    );
    assert!(outbox[0].text.contains("15 Minuten"));
}

// --- PostgreSQL ---------------------------------------------------------------------------

#[tokio::test]
async fn postgres_sign_in_reuse_expiry_and_sign_out_everywhere() {
    let db = PgDatabase::create().await;
    {
        let app = TestApp::new(&[("DATABASE_URL", &db.url())]).await;
        let mut browser = Browser::new(&app);
        let (link, code) = request(&mut browser, BEN).await;
        let before = browser.session.clone();
        browser.post("/login/code", &format!("code={code}")).await;
        assert_ne!(before, browser.session);
        assert_signed_in_as(&mut browser, "Ben Okafor").await;
        let token = link.split("token=").nth(1).unwrap();
        let mut other = Browser::new(&app);
        let answer = other.post("/login/verify", &format!("token={token}")).await;
        assert_eq!(answer.location(), "/login?error=link", "spent by the code");

        let mut late = Browser::new(&app);
        let (_, code) = request(&mut late, BEN).await;
        app.state.clock.advance(15 * 60);
        assert_eq!(
            late.post("/login/code", &format!("code={code}"))
                .await
                .location(),
            "/login/check?error=expired"
        );

        browser.post("/logout/everywhere", "").await;
        assert_signed_out(&mut browser).await;
    }
    db.drop_it().await;
}

#[tokio::test]
async fn postgres_two_instances_share_sessions() {
    let db = PgDatabase::create().await;
    {
        let url = db.url();
        let secret = [
            ("DATABASE_URL", url.as_str()),
            ("FOLIO_SESSION_SECRET", "0123456789abcdef0123456789abcdef"),
        ];
        let first = TestApp::new(&secret).await;
        let second = TestApp::new(&secret).await;
        let mut browser = Browser::new(&first);
        let (_, code) = request(&mut browser, BEN).await;
        browser.post("/login/code", &format!("code={code}")).await;
        assert_signed_in_as(&mut browser, "Ben Okafor").await;

        // The same cookie, the other instance.
        let mut elsewhere = Browser::new(&second);
        elsewhere.session = browser.session.clone();
        assert_signed_in_as(&mut elsewhere, "Ben Okafor").await;
        elsewhere.post("/logout", "").await;
        assert_signed_out(&mut browser).await;
    }
    db.drop_it().await;
}

// --- real SMTP ------------------------------------------------------------------------------

/// aiosmtpd, a real SMTP server, storing what it receives in a Maildir.
struct SmtpServer {
    child: std::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
}

impl SmtpServer {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir =
            std::env::temp_dir().join(format!("folio-smtp-{}-{port}", std::process::id()));
        let child = std::process::Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
                "aiosmtpd.handlers.Mailbox",
            ])
            .arg(&maildir)
            .spawn()
            .expect("python3 with aiosmtpd (scripts/setup.sh installs it)");
        // From here on, dropping the server stops the process.
        let server = SmtpServer {
            child,
            port,
            maildir,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start");
    }

    /// The text of the first message received, waiting up to ten seconds.
    async fn first_message(&self) -> String {
        for _ in 0..100 {
            for sub in ["new", "cur"] {
                if let Ok(entries) = std::fs::read_dir(self.maildir.join(sub)) {
                    if let Some(entry) = entries.flatten().next() {
                        return std::fs::read_to_string(entry.path()).unwrap();
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no mail arrived at the SMTP server");
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.maildir);
    }
}

/// Undoes quoted-printable soft line breaks and `=XX` escapes, enough for ASCII mail.
fn unquote(text: &str) -> String {
    let joined = text.replace("=\r\n", "").replace("=\n", "");
    let mut out = String::new();
    let mut chars = joined.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '=' {
            let hex: String = chars.clone().take(2).collect();
            if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                out.push(byte as char);
                chars.next();
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}

#[tokio::test]
async fn a_real_smtp_server_receives_the_link_and_code() {
    let smtp = SmtpServer::start().await;
    let url = format!("smtp://127.0.0.1:{}", smtp.port);
    let app = TestApp::new(&[
        ("SMTP_URL", &url),
        ("MAIL_FROM", "Folio Demo <portal@example.com>"),
    ])
    .await;
    let mut browser = Browser::new(&app);
    browser
        .post("/login", &format!("email={}", form_value(BEN)))
        .await;

    let raw = unquote(&smtp.first_message().await);
    assert!(raw.contains(&format!("To: {BEN}")), "{raw}");
    assert!(
        raw.contains("From: \"Folio Demo\" <portal@example.com>")
            || raw.contains("From: Folio Demo <portal@example.com>"),
        "{raw}"
    );
    assert!(
        raw.contains("text/plain") && raw.contains("text/html"),
        "text and HTML parts"
    );
    let (link, code) = link_and_code(raw.split("text/plain").nth(1).unwrap());

    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/");
    assert_signed_in_as(&mut browser, "Ben Okafor").await;
    assert!(link.contains("/login/verify?token="));
}
