//! Attacks on Folio, each performed the way an attacker would: many requests at once, forged
//! ids and headers, replays. Every test is named after what it proves.

use std::sync::atomic::Ordering;

use axum::http::StatusCode;

use crate::common::*;

const BEN: &str = "ben.okafor@example.com"; // one order
const CLARA: &str = "clara.jensen@example.org"; // several orders over three years
const DANA: &str = "dana.fischer@example.com"; // business: 44 orders, 836 files

/// The headers a browser with `cookie` sends on a same-origin form post.
fn form_headers(cookie: &str) -> Vec<(&'static str, String)> {
    vec![
        ("sec-fetch-site", "same-origin".to_owned()),
        ("cookie", cookie.to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_wrong_codes_at_once_compare_at_most_five_and_end_the_attempt() {
    let app = TestApp::new(&[("FOLIO_SIGNIN_LIMIT_PER_IP", "100")]).await;
    forty_wrong_codes_at_once(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forty_wrong_codes_at_once_compare_at_most_five_on_postgres_too() {
    let db = PgDatabase::create().await;
    {
        let app = TestApp::new(&[
            ("FOLIO_SIGNIN_LIMIT_PER_IP", "100"),
            ("DATABASE_URL", &db.url()),
        ])
        .await;
        forty_wrong_codes_at_once(&app).await;
    }
    db.drop_it().await;
}

/// Forty wrong codes sent at once on one cookie, then the right one and the mailed link.
async fn forty_wrong_codes_at_once(app: &TestApp) {
    let mut browser = Browser::new(app);
    let before = mails_to(app, BEN).await;
    browser
        .post("/login", &format!("email={}", form_value(BEN)))
        .await;
    let (link, code) = wait_for_mail(app, BEN, before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let cookie = browser.session.clone().expect("a session for the sign-in");

    let tries: Vec<_> = (0..40)
        .map(|_| {
            let router = app.router.clone();
            let headers = form_headers(&cookie);
            let body = format!("code={wrong}");
            tokio::spawn(async move {
                let borrowed: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                send(router, post_form("/login/code", &body, &borrowed)).await
            })
        })
        .collect();
    for answer in futures::future::join_all(tries).await {
        let answer = answer.expect("the try ran");
        assert_ne!(answer.location(), "/", "a wrong code never signs in");
    }
    let compared = metric(app, "folio_sign_in_codes_compared_total");
    assert!(
        compared <= 5,
        "{compared} of 40 concurrent codes were compared"
    );

    // The right code now, in the same session and in a new one: refused.
    let right = browser.post("/login/code", &format!("code={code}")).await;
    assert_ne!(
        right.location(),
        "/",
        "the right code after five wrong ones"
    );
    assert!(right.location().contains("error="), "{}", right.location());
    // Nor does the mailed link sign in any more.
    let token = link.split("token=").nth(1).expect("a token in the link");
    let mut other = Browser::new(app);
    let by_link = other
        .post("/login/verify", &format!("token={}", form_value(token)))
        .await;
    assert_eq!(by_link.location(), "/login?error=link");
    assert!(metric(app, "folio_sign_in_codes_compared_total") <= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_right_code_on_the_fifth_try_still_signs_in() {
    let app = TestApp::new(&[]).await;
    let mut browser = Browser::new(&app);
    let before = mails_to(&app, BEN).await;
    browser
        .post("/login", &format!("email={}", form_value(BEN)))
        .await;
    let (_, code) = wait_for_mail(&app, BEN, before).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        let answer = browser.post("/login/code", &format!("code={wrong}")).await;
        assert_eq!(answer.location(), "/login/check?error=code");
    }
    let answer = browser.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/", "the fifth try is still a try");
}

#[tokio::test]
async fn a_hundred_forged_file_ids_cost_no_upstream_call() {
    let app = TestApp::new(&[]).await;
    let clara_file = clara_file_id(&app).await;
    let mut dana = signed_in(&app, DANA).await;
    // The documents page builds the index the file routes check against.
    assert_eq!(dana.get("/documents").await.status, StatusCode::OK);
    let counters = app.sim().counters.clone();
    counters.reset();
    for i in 0..100 {
        for action in ["view", "download"] {
            let answer = dana
                .get(&format!("/files/file_{}/{action}", 900_000 + i))
                .await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND);
        }
    }
    // Another customer's real file is as unknown as an invented one.
    let answer = dana.get(&format!("/files/{clara_file}/view")).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        counters.total(),
        0,
        "forged ids reached FlexPortal: {:?}",
        counters.snapshot()
    );

    // A file of the index is served without asking FlexPortal for its metadata.
    let page = dana.get("/documents").await;
    let own = first_file_id(&page.body).expect("a file on Dana's documents page");
    let answer = dana.get(&format!("/files/{own}/view")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(counters.get("GET /v1/files/{fileId}"), 0);
}

#[tokio::test]
async fn a_fresh_session_costs_one_index_and_then_nothing_for_forged_ids() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let counters = app.sim().counters.clone();
    // No page seen yet: the first forged id builds the index, as the documents page would.
    assert_eq!(
        ben.get("/files/file_999999/view").await.status,
        StatusCode::NOT_FOUND
    );
    counters.reset();
    for i in 0..50 {
        let answer = ben
            .get(&format!("/files/file_{}/download", 800_000 + i))
            .await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(counters.total(), 0, "{:?}", counters.snapshot());
}

/// The id of one of Clara's files, read from her documents page.
async fn clara_file_id(app: &TestApp) -> String {
    let mut clara = signed_in(app, CLARA).await;
    let page = clara.get("/documents").await;
    first_file_id(&page.body).expect("a file on Clara's documents page")
}

/// The first `/files/{id}/view` link on a page.
fn first_file_id(body: &str) -> Option<String> {
    let start = body.find("/files/")? + "/files/".len();
    let rest = &body[start..];
    Some(rest[..rest.find('/')?].to_owned())
}

#[tokio::test]
async fn a_forged_forwarded_for_line_picks_no_address_behind_a_proxy() {
    let app = TestApp::new(&[
        ("FOLIO_TRUST_X_FORWARDED_FOR", "true"),
        ("FOLIO_SIGNIN_LIMIT_PER_IP", "2"),
    ])
    .await;
    // The client sends a line of its own; HAProxy (`option forwardfor`) adds its own line
    // with the address it saw. At three times the limit, that address is turned away.
    let mut statuses = Vec::new();
    for i in 0..8 {
        let forged = format!("10.9.8.{i}, 10.9.9.{i}");
        let answer = app
            .post_form(
                "/login",
                &format!("email=someone{i}%40example.com"),
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("x-forwarded-for", &forged),
                    ("x-forwarded-for", "198.51.100.4"),
                ],
            )
            .await;
        statuses.push(answer.status);
    }
    assert_eq!(statuses[..6], [StatusCode::SEE_OTHER; 6]);
    assert_eq!(statuses[6..], [StatusCode::TOO_MANY_REQUESTS; 2]);
}

#[tokio::test]
async fn ipv6_addresses_of_one_network_share_one_limit() {
    let app = TestApp::new(&[
        ("FOLIO_TRUST_X_FORWARDED_FOR", "true"),
        ("FOLIO_SIGNIN_LIMIT_PER_IP", "2"),
    ])
    .await;
    let mut last = StatusCode::OK;
    for i in 0..7 {
        let address = format!("2001:db8:7:7:{i:x}::{i:x}");
        let answer = app
            .post_form(
                "/login",
                "email=someone%40example.com",
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("x-forwarded-for", &address),
                ],
            )
            .await;
        last = answer.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "one /64 is one client");
}

/// Every answer with a customer's or staff member's data, and the pages around them.
#[tokio::test]
async fn no_answer_with_customer_or_staff_data_may_be_kept_by_a_cache() {
    let app = TestApp::new(&[]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let page = clara.get("/documents").await;
    let file = first_file_id(&page.body).expect("a file");
    let order = {
        let start = page.body.find("/orders/").expect("an order link") + "/orders/".len();
        let rest = &page.body[start..];
        rest[..rest.find('"').unwrap()].to_owned()
    };
    let customer_gets = [
        "/".to_owned(),
        "/documents".to_owned(),
        "/documents?type=invoice".to_owned(),
        format!("/orders/{order}"),
        "/invoices".to_owned(),
        "/invoices?year=2026&page=2".to_owned(),
        "/orders".to_owned(),
        "/orders?status=fulfilled&page=2".to_owned(),
        "/access".to_owned(),
        "/documents.csv?type=invoice".to_owned(),
        "/invoices.csv?year=2026".to_owned(),
        "/documents.zip?type=contract".to_owned(),
        format!("/files/{file}/view"),
        format!("/files/{file}/download"),
        "/files/file_404/view".to_owned(),
    ];
    for path in &customer_gets {
        // Twice: the second view of a page is a kept copy.
        for _ in 0..2 {
            let answer = clara.get(path).await;
            assert_private(&answer, path);
        }
    }
    for (path, body) in [
        ("/api/get_overview", String::new()),
        ("/api/list_documents", "query=type%3Dinvoice".to_owned()),
        ("/api/get_order", format!("order_id={order}")),
        ("/api/get_invoices", String::new()),
        ("/api/list_orders", "query=status%3Dfulfilled".to_owned()),
        ("/api/get_access", String::new()),
    ] {
        let answer = clara.post(path, &body).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.body);
        assert_private(&answer, path);
    }

    let mut manager = staff(&app).await;
    for path in [
        "/manage",
        "/manage?q=cust_0003",
        "/manage/customers/cust_0003",
        "/manage/customers/cust_0003/share",
        "/manage/links",
        "/manage/audit",
        "/manage/archives",
        "/manage/customers/cust_0003/documents.csv",
        "/manage/customers/cust_0003/invoices.csv?year=2025",
        "/manage/customers/cust_0003/documents.zip?type=contract",
    ] {
        let answer = manager.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}");
        assert_private(&answer, path);
    }
    let answer = manager
        .get(&format!(
            "/manage/customers/cust_0003/files/{file}/download"
        ))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_private(&answer, "staff download");
    let answer = manager
        .post("/api/staff_find_customers", "q=cust_0003")
        .await;
    assert_private(&answer, "/api/staff_find_customers");

    // Signing out tells the browser to drop what it kept.
    let out = clara.post("/logout", "").await;
    assert_eq!(out.headers["clear-site-data"], "\"cache\"");
    let out = manager.post("/logout/everywhere", "").await;
    assert_eq!(out.headers["clear-site-data"], "\"cache\"");

    // The favicon is public and may be kept (its answer carries the header whether or not
    // the site is built yet).
    let favicon = app.get("/favicon.svg", &[]).await;
    assert_eq!(favicon.headers["cache-control"], "public, max-age=86400");
}

/// Changes a customer record in the stand-in, and waits until Folio's copy of it (kept for
/// the test's one-second freshness) is out of date.
async fn change_upstream(app: &TestApp, customer_id: &str, change: flexportal_sim::CustomerChange) {
    app.sim().faults.change_customer(customer_id, change);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
}

/// Whether a page shows someone signed in.
fn is_signed_in(page: &Answer) -> bool {
    page.text().contains("Signed in as")
}

fn assert_private(answer: &Answer, what: &str) {
    assert_eq!(
        answer
            .headers
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("private, no-store"),
        "{what}"
    );
}

#[tokio::test]
async fn an_active_session_slides_and_an_idle_one_ends_on_the_applications_clock() {
    let app = TestApp::new(&[
        ("FOLIO_SESSION_IDLE_MINUTES", "1"),
        ("FOLIO_SESSION_MAX_HOURS", "1"),
    ])
    .await;
    let mut ben = signed_in(&app, BEN).await;
    let mut writes = 0;
    // A request every 5 s for three minutes: three idle limits, and still signed in.
    for _ in 0..36 {
        app.state.clock.advance(5);
        let page = ben.get("/").await;
        assert!(
            page.text().contains("Signed in as Ben Okafor"),
            "signed out while active"
        );
        writes += usize::from(page.set_cookie("folio_session").is_some());
    }
    // The expiry moves once a quarter of the idle time (15 s) has passed, not on every request.
    assert!(
        (10..=13).contains(&writes),
        "{writes} of 36 requests moved the session"
    );
    // Then a minute without a request ends it.
    app.state.clock.advance(61);
    let page = ben.get("/").await;
    assert!(!is_signed_in(&page), "idle, yet signed in");

    // However active, a session ends an hour after sign-in.
    let mut ben = signed_in(&app, BEN).await;
    for _ in 0..(3600 / 30) {
        app.state.clock.advance(30);
        ben.get("/login").await;
    }
    let page = ben.get("/").await;
    assert!(!is_signed_in(&page), "past the absolute limit");
}

#[tokio::test]
async fn a_session_ended_elsewhere_is_not_written_back_by_a_request_in_flight() {
    let app = TestApp::new(&[]).await;
    let mut phone = signed_in(&app, BEN).await;
    let id = phone
        .session
        .clone()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let (data, expires) = app
        .state
        .store
        .session_load(&id, app.state.clock.now())
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .sessions_delete_subject("customer:cust_0002")
        .await
        .unwrap();
    // What a request that loaded the session before the sign-out writes when it ends.
    app.state
        .store
        .session_update(&id, &data, expires, Some("customer:cust_0002"))
        .await
        .unwrap();
    let page = phone.get("/").await;
    assert!(!is_signed_in(&page), "the session came back");
}

#[tokio::test]
async fn a_customer_made_inactive_or_given_another_address_upstream_is_signed_out() {
    use flexportal_sim::CustomerChange;
    let app = TestApp::new(&[("FLEXPORTAL_CACHE_TTL_SECS", "1")]).await;
    let mut ben = signed_in(&app, BEN).await;
    let mut manager = staff(&app).await;
    let (_, token) = create_link(&mut manager, "cust_0002", "scope=all&days=7").await;
    let mut guest = open_link(&app, &token).await;
    assert_eq!(guest.get("/documents").await.status, StatusCode::OK);
    // A link to one order reads no customer list, and must end all the same.
    let (_, order_token) = create_link(
        &mut manager,
        "cust_0002",
        "scope=order&order=ord_10001&days=7",
    )
    .await;
    let mut order_guest = open_link(&app, &order_token).await;
    assert_eq!(order_guest.get("/documents").await.status, StatusCode::OK);

    change_upstream(
        &app,
        "cust_0002",
        CustomerChange {
            status: Some("inactive".into()),
            email: None,
        },
    )
    .await;
    // The next view gets the kept record at once and fetches it again behind; once the new
    // record is in, both sessions are over.
    let mut page = ben.get("/").await;
    for _ in 0..50 {
        if !is_signed_in(&page) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = ben.get("/").await;
    }
    assert!(!is_signed_in(&page), "inactive, yet signed in");
    let page = guest.get("/documents").await;
    assert!(
        !page.text().contains("Ben Okafor") || page.status != StatusCode::OK,
        "the link session of an inactive customer goes on"
    );
    assert_eq!(
        guest.post("/api/get_overview", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    order_guest.get("/documents").await;
    assert_eq!(
        order_guest.post("/api/get_overview", "").await.status,
        StatusCode::UNAUTHORIZED,
        "the order link's session goes on"
    );
    // Nor can the links be opened again.
    let again = Browser::new(&app).post(&format!("/s/{token}"), "").await;
    assert_eq!(again.location(), "/shared/ended?why=revoked");

    // A sign-in mailed before the change does not complete after it.
    let mut late = Browser::new(&app);
    let before = mails_to(&app, CLARA).await;
    late.post("/login", &format!("email={}", form_value(CLARA)))
        .await;
    let (_, code) = wait_for_mail(&app, CLARA, before).await;
    change_upstream(
        &app,
        "cust_0003",
        CustomerChange {
            status: Some("inactive".into()),
            email: None,
        },
    )
    .await;
    let answer = late.post("/login/code", &format!("code={code}")).await;
    assert_eq!(
        answer.location(),
        "/login?error=link",
        "an inactive customer signed in"
    );
    change_upstream(
        &app,
        "cust_0003",
        CustomerChange {
            status: Some("active".into()),
            email: None,
        },
    )
    .await;

    // Clara's address changes upstream (case alone is no change).
    let mut clara = signed_in(&app, CLARA).await;
    change_upstream(
        &app,
        "cust_0003",
        CustomerChange {
            status: None,
            email: Some("Clara.Jensen@Example.org".into()),
        },
    )
    .await;
    clara.get("/").await;
    assert!(is_signed_in(&clara.get("/").await));
    change_upstream(
        &app,
        "cust_0003",
        CustomerChange {
            status: None,
            email: Some("clara@elsewhere.example".into()),
        },
    )
    .await;
    // The view that finds the record past its freshness starts its refresh; once the new
    // record is in, the session is over.
    let mut page = clara.get("/").await;
    for _ in 0..50 {
        if !is_signed_in(&page) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        page = clara.get("/").await;
    }
    assert!(
        !is_signed_in(&page),
        "signed in with an address the customer no longer has"
    );
}

#[tokio::test]
async fn a_request_id_sent_by_the_client_is_replaced() {
    let app = TestApp::new(&[]).await;
    let answer = app
        .get("/login", &[("x-request-id", "forged\u{20}id-in-the-log")])
        .await;
    let id = answer.headers["x-request-id"].to_str().unwrap();
    assert_ne!(id, "forged id-in-the-log");
    assert_eq!(id.len(), 36, "a UUID of Folio's own: {id}");
}

#[tokio::test]
async fn metrics_answer_only_the_operator() {
    use axum::extract::ConnectInfo;
    let local = |xff: Option<&str>| {
        let mut request = axum::http::Request::get("/metrics");
        if let Some(xff) = xff {
            request = request.header("x-forwarded-for", xff);
        }
        let mut request = request.body(axum::body::Body::empty()).unwrap();
        request
            .extensions_mut()
            .insert(ConnectInfo(std::net::SocketAddr::from((
                [127, 0, 0, 1],
                4000,
            ))));
        request
    };
    let open = TestApp::new(&[]).await;
    assert_eq!(
        open.get("/metrics", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(open.send(local(None)).await.status, StatusCode::OK);
    // Through a proxy on this machine, everyone looks local: refused.
    assert_eq!(
        open.send(local(Some("203.0.113.9"))).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(open.get("/healthz", &[]).await.status, StatusCode::OK);

    let guarded = TestApp::new(&[("FOLIO_METRICS_TOKEN", "0123456789abcdef-metrics")]).await;
    assert_eq!(
        guarded.send(local(None)).await.status,
        StatusCode::UNAUTHORIZED,
        "with a token, being local is not enough"
    );
    for wrong in ["Bearer 0123456789abcdef-metric", "Bearer x", "Basic abc"] {
        let answer = guarded.get("/metrics", &[("authorization", wrong)]).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{wrong}");
    }
    let answer = guarded
        .get(
            "/metrics",
            &[("authorization", "Bearer 0123456789abcdef-metrics")],
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK);
}

#[tokio::test]
async fn readiness_asks_flexportal_at_most_every_few_seconds() {
    use std::sync::atomic::AtomicUsize;
    use std::sync::Arc;
    // A stand-in for FlexPortal's host that counts the connections made to it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_connection, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
        }
    });
    let client = flexportal::Client::new(flexportal::ClientConfig::new(
        format!("http://{addr}"),
        "tenant",
        secrecy::SecretString::from("key"),
    ))
    .unwrap();
    let probe = folio::base::server::upstream::UpstreamProbe::default();
    for _ in 0..20 {
        assert!(probe.reachable(&client).await);
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "20 readiness checks, one look"
    );
}

#[tokio::test]
async fn the_session_cookie_is_host_bound_over_https() {
    let app = TestApp::new(&[("FOLIO_PUBLIC_URL", "https://docs.example.com")]).await;
    let answer = app
        .post_form(
            "/login",
            "email=ben.okafor%40example.com",
            &[("origin", "https://docs.example.com")],
        )
        .await;
    let cookie = answer
        .set_cookie("__Host-folio_session")
        .expect("a __Host- session cookie");
    assert!(cookie.contains("Secure"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Domain"), "{cookie}");
}

#[tokio::test]
async fn an_oversized_form_is_refused_with_a_page_and_changes_nothing() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let mails = mails_to(&app, CLARA).await;
    let huge = format!(
        "email={}&padding={}",
        form_value(CLARA),
        "a".repeat(200 * 1024)
    );
    // Without a declared length (read up to the limit), and with one (refused unread).
    let answer = ben.post("/login", &huge).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.body.contains("at most 64 KB"), "{}", answer.body);
    let declared = app
        .post_form(
            "/login",
            &huge,
            &[
                ("sec-fetch-site", "same-origin"),
                ("content-length", &huge.len().to_string()),
                ("accept-language", "de"),
            ],
        )
        .await;
    assert_eq!(declared.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        declared.body.contains("höchstens 64 KB"),
        "{}",
        declared.body
    );
    let answer = ben
        .post(
            "/api/list_documents",
            &format!("query={}", "x".repeat(100_000)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    // Nothing was acted on: no sign-in started, no mail sent, Ben still signed in as before.
    assert_eq!(mails_to(&app, CLARA).await, mails);
    let check = ben.get("/login/check").await;
    assert!(!check.text().contains(CLARA), "a sign-in was started");
    assert!(ben
        .get("/")
        .await
        .text()
        .contains("Signed in as Ben Okafor"));
}

#[tokio::test]
async fn the_sign_in_link_page_says_whose_account_it_opens() {
    let app = TestApp::new(&[]).await;
    let mut browser = Browser::new(&app);
    let before = mails_to(&app, BEN).await;
    browser
        .post("/login", &format!("email={}", form_value(BEN)))
        .await;
    let (link, _) = wait_for_mail(&app, BEN, before).await;
    let mut recipient = Browser::new(&app);
    let page = recipient.get(&path_of(&link)).await;
    assert!(
        page.text()
            .contains("This link signs you in as ben.okafor@example.com."),
        "{}",
        page.text()
    );
    let forged = recipient.get("/login/verify?token=forged").await;
    assert!(!forged.text().contains("signs you in as"));
    assert!(forged
        .text()
        .contains("has been used, has expired or is not known"));
}

/// An upstream with a customer of 201 orders (one more than Folio lists files of), one of
/// two orders whose file list can gain a file, and a count of every file lookup and list.
mod big {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    use std::sync::Arc;

    use axum::extract::{Path, Query, State};
    use axum::http::{header, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::get;
    use axum::Router;

    pub const TENANT: &str = "bu_big";
    pub const ORDERS: usize = 201;

    #[derive(Default)]
    pub struct Upstream {
        /// Whether `ord_small_1` has gained `file_new`.
        pub new_file: AtomicBool,
        pub file_lookups: AtomicUsize,
        pub file_lists: AtomicUsize,
    }

    fn json(body: String) -> Response {
        ([(header::CONTENT_TYPE, "application/json")], body).into_response()
    }

    fn not_found() -> Response {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":{"code":"NOT_FOUND","message":"nope"}}"#,
        )
            .into_response()
    }

    fn order(id: &str, customer: &str, day: usize) -> String {
        format!(
            r#"{{"orderId":"{id}","tenantId":"{TENANT}","status":"fulfilled",
            "customer":{{"customerId":"{customer}","email":"x@example.com"}},
            "createdAt":"2025-01-01T00:00:00Z","updatedAt":"2025-01-01T00:00:00Z",
            "totals":{{"total":1,"currency":"EUR"}},"items":[],"day":{day}}}"#
        )
    }

    fn file(id: &str, order: &str) -> String {
        format!(
            r#"{{"fileId":"{id}","tenantId":"{TENANT}","orderId":"{order}","type":"invoice",
            "filename":"{id}.pdf","contentType":"application/pdf","fileSize":100,
            "createdAt":"2025-03-02T10:00:00Z"}}"#
        )
    }

    /// The orders of `customer`, newest first (the big customer's `ord_big_000` is newest).
    fn orders_of(customer: &str) -> Vec<String> {
        match customer {
            "cust_big" => (0..ORDERS)
                .map(|n| {
                    order(&format!("ord_big_{n:03}"), "cust_big", n).replace(
                        "2025-01-01",
                        &format!("2025-{:02}-{:02}", 12 - n / 28, 28 - n % 28),
                    )
                })
                .collect(),
            "cust_small" => vec![order("ord_small_1", "cust_small", 0)],
            _ => Vec::new(),
        }
    }

    fn files_of(up: &Upstream, order_id: &str) -> Vec<String> {
        let mut files = vec![file(&format!("file_of_{order_id}"), order_id)];
        if order_id == "ord_small_1" && up.new_file.load(Ordering::SeqCst) {
            files.push(file("file_new", order_id));
        }
        files
    }

    pub fn router(up: Arc<Upstream>) -> Router {
        Router::new()
            .route(
                "/v1/customers/{id}",
                get(|Path(id): Path<String>| async move {
                    if id != "cust_big" && id != "cust_small" {
                        return not_found();
                    }
                    json(format!(
                        r#"{{"customerId":"{id}","tenantId":"{TENANT}","email":"{id}@example.com","orderIds":[]}}"#
                    ))
                }),
            )
            .route(
                "/v1/orders",
                get(|Query(q): Query<HashMap<String, String>>| async move {
                    let orders = orders_of(q.get("customerId").map_or("", String::as_str));
                    json(format!(
                        r#"{{"orders":[{}],"count":{},"limit":100,"hasMore":false,"nextCursor":null}}"#,
                        orders.join(","),
                        orders.len()
                    ))
                }),
            )
            .route(
                "/v1/files",
                get(
                    |State(up): State<Arc<Upstream>>,
                     Query(q): Query<HashMap<String, String>>| async move {
                        up.file_lists.fetch_add(1, Ordering::SeqCst);
                        let order = q.get("orderId").cloned().unwrap_or_default();
                        let files = files_of(&up, &order);
                        json(format!(r#"{{"files":[{}],"count":{}}}"#, files.join(","), files.len()))
                    },
                ),
            )
            .route(
                "/v1/files/{id}",
                get(
                    |State(up): State<Arc<Upstream>>, Path(id): Path<String>| async move {
                        up.file_lookups.fetch_add(1, Ordering::SeqCst);
                        let order = id.strip_prefix("file_of_").map(str::to_owned);
                        match order {
                            Some(order) if order.starts_with("ord_") => json(file(&id, &order)),
                            _ => not_found(),
                        }
                    },
                ),
            )
            .with_state(up)
    }
}

/// A client of the `big` upstream, with room in its budget for the 201 lists.
async fn big_upstream() -> (flexportal::Client, std::sync::Arc<big::Upstream>) {
    let up = std::sync::Arc::new(big::Upstream::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = big::router(up.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let mut config = flexportal::ClientConfig::new(
        format!("http://{addr}"),
        big::TENANT,
        secrecy::SecretString::from("key"),
    );
    config.allowance = flexportal::Allowance::per_minute(10_000);
    (flexportal::Client::new(config).unwrap(), up)
}

#[tokio::test]
async fn an_index_cut_short_by_the_order_cap_looks_up_twenty_ids_per_quarter_hour() {
    use folio::base::error::AppError;
    use folio::base::server::principal::Scope;
    use folio::base::server::rate_limit::FileLookups;
    use folio::documents::server::files::{authorize_file, Asker};
    let (client, up) = big_upstream().await;
    let lookups = FileLookups::default();
    let scope = Scope::customer("cust_big");
    let asker = |who, now| Asker {
        who,
        lookups: &lookups,
        now,
    };
    // The oldest order is past the cap: its file is found by looking it up.
    let oldest = format!("file_of_ord_big_{:03}", big::ORDERS - 1);
    let found = authorize_file(&client, &scope, &oldest, &asker("customer:big", 0)).await;
    assert_eq!(found.map(|f| f.id), Ok(oldest.clone()));
    // A listed file costs no lookup.
    let before = up.file_lookups.load(Ordering::SeqCst);
    assert!(authorize_file(
        &client,
        &scope,
        "file_of_ord_big_000",
        &asker("customer:big", 0)
    )
    .await
    .is_ok());
    assert_eq!(up.file_lookups.load(Ordering::SeqCst), before);
    // Forged ids: 19 more lookups, then none until the quarter hour is over.
    for i in 0..40 {
        let forged = format!("file_forged_{i}");
        assert_eq!(
            authorize_file(&client, &scope, &forged, &asker("customer:big", 60)).await,
            Err(AppError::NotFound)
        );
    }
    assert_eq!(up.file_lookups.load(Ordering::SeqCst), 20);
    // Each principal has its own allowance.
    let _ = authorize_file(&client, &scope, "file_forged_x", &asker("link:other", 60)).await;
    assert_eq!(up.file_lookups.load(Ordering::SeqCst), 21);
    let _ = authorize_file(
        &client,
        &scope,
        "file_forged_y",
        &asker("customer:big", 900),
    )
    .await;
    assert_eq!(
        up.file_lookups.load(Ordering::SeqCst),
        22,
        "a new quarter hour"
    );
}

#[tokio::test]
async fn an_old_index_is_rebuilt_for_a_missing_id_at_most_once_a_minute() {
    use folio::base::error::AppError;
    use folio::base::server::principal::Scope;
    use folio::base::server::rate_limit::FileLookups;
    use folio::documents::server::files::{authorize_file, Asker};
    let (client, up) = big_upstream().await;
    // Every index counts as old at once.
    let lookups = FileLookups::refreshing_after(std::time::Duration::ZERO);
    let scope = Scope::customer("cust_small");
    let asker = |now| Asker {
        who: "customer:small",
        lookups: &lookups,
        now,
    };
    assert!(
        authorize_file(&client, &scope, "file_of_ord_small_1", &asker(0))
            .await
            .is_ok()
    );
    let lists = up.file_lists.load(Ordering::SeqCst);
    // A file added upstream after the index was built.
    up.new_file.store(true, Ordering::SeqCst);
    let first = authorize_file(&client, &scope, "file_new", &asker(1)).await;
    assert_eq!(first.map(|f| f.id), Ok("file_new".to_owned()));
    assert_eq!(
        up.file_lists.load(Ordering::SeqCst),
        lists + 1,
        "one rebuild"
    );
    // Within the same minute, missing ids rebuild nothing more.
    for i in 0..20 {
        let forged = format!("file_forged_{i}");
        assert_eq!(
            authorize_file(&client, &scope, &forged, &asker(2)).await,
            Err(AppError::NotFound)
        );
    }
    assert_eq!(up.file_lists.load(Ordering::SeqCst), lists + 1);
    assert_eq!(
        up.file_lookups.load(Ordering::SeqCst),
        0,
        "never a single lookup"
    );
    let _ = authorize_file(&client, &scope, "file_forged_late", &asker(61)).await;
    assert_eq!(
        up.file_lists.load(Ordering::SeqCst),
        lists + 2,
        "a new minute"
    );
}
