//! The customer pages and file routes through the whole router, signed in through the real
//! flow, against the demo tenant. Ground truth comes from the stand-in's own data.

use axum::http::StatusCode;

use crate::common::{demo_files, signed_in, Browser, TestApp};

const ANNA: &str = "anna.keller@example.com"; // no orders
const BEN: &str = "ben.okafor@example.com"; // one order
const CLARA: &str = "clara.jensen@example.org"; // several orders over three years
const DANA: &str = "dana.fischer@example.com"; // business: 44 orders, 836 files

/// Every (file id, type, year) the stand-in holds for one customer.
fn files_of(customer_id: &str) -> Vec<(String, String, String)> {
    demo_files(customer_id)
        .into_iter()
        .map(|f| (f.id, f.file_type, f.year))
        .collect()
}

fn other_customers_file(customer_id: &str) -> String {
    files_of("cust_0004")
        .into_iter()
        .map(|f| f.0)
        .find(|id| !files_of(customer_id).iter().any(|f| &f.0 == id))
        .unwrap()
}

fn result_count(body: &str) -> usize {
    let text = body.replace("<!>", "");
    let at = text.find("class=\"result-count\"").expect("a result count");
    text[at..]
        .split('>')
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect("a number")
}

#[tokio::test]
async fn anonymous_visitors_are_asked_to_sign_in() {
    let app = TestApp::new(&[]).await;
    for path in ["/documents", "/orders", "/invoices", "/orders/ord_10001"] {
        let page = app.get(path, &[]).await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(page.text().contains("Please sign in"), "{path}");
    }
    let file = app
        .get(
            &format!("/files/{}/download", files_of("cust_0002")[0].0),
            &[],
        )
        .await;
    assert_eq!(
        file.status,
        StatusCode::NOT_FOUND,
        "files of nobody's session do not exist"
    );
}

#[tokio::test]
async fn a_customer_without_orders_sees_an_empty_overview() {
    let app = TestApp::new(&[]).await;
    let mut anna = signed_in(&app, ANNA).await;
    let page = anna.get("/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("You have no orders yet."));
    let docs = anna.get("/documents").await;
    assert_eq!(result_count(&docs.body), 0);
    assert!(docs.text().contains("No documents match these filters."));
    let invoices = anna.get("/invoices").await;
    assert!(invoices
        .text()
        .contains("There are no invoices or payments yet."));
}

#[tokio::test]
async fn a_customer_with_one_order_sees_it_and_its_documents() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let page = ben.get("/").await;
    assert!(page.text().contains("ord_10001"));
    let order = ben.get("/orders/ord_10001").await;
    assert_eq!(order.status, StatusCode::OK);
    let text = order.text();
    assert!(
        text.contains("Order ord_10001")
            && text.contains("Monthly price")
            && text.contains("Total")
    );
    let docs = ben.get("/documents").await;
    assert_eq!(result_count(&docs.body), files_of("cust_0002").len());
    // Merchant-internal data never reaches the page.
    for secret in [
        "storagePath",
        "storage_path",
        "acquisition",
        "margin",
        "internal-margin-report",
    ] {
        assert!(
            !docs.body.contains(secret) && !order.body.contains(secret),
            "{secret} leaked"
        );
    }
}

#[tokio::test]
async fn filters_sort_and_pagination_match_the_demo_data() {
    let app = TestApp::new(&[]).await;
    let mut dana = signed_in(&app, DANA).await;
    let all = files_of("cust_0004");
    assert!(all.len() > 800);
    let docs = dana.get("/documents").await;
    assert_eq!(docs.status, StatusCode::OK);
    assert_eq!(result_count(&docs.body), all.len());
    assert!(docs
        .text()
        .contains(&format!("Page 1 of {}", all.len().div_ceil(25))));

    let invoices_2025 = all
        .iter()
        .filter(|(_, t, y)| t == "invoice" && y == "2025")
        .count();
    let page = dana.get("/documents?type=invoice&year=2025").await;
    assert_eq!(result_count(&page.body), invoices_2025);
    let others = all
        .iter()
        .filter(|(_, t, _)| {
            !["contract", "invoice", "document", "attachment"].contains(&t.as_str())
        })
        .count();
    assert!(others > 0);
    assert_eq!(
        result_count(&dana.get("/documents?type=other").await.body),
        others
    );

    // The last page holds the remainder; past the end clamps to it and says so.
    let pages = all.len().div_ceil(25);
    let last = dana.get(&format!("/documents?page={pages}")).await;
    let past = dana.get("/documents?page=9999").await;
    let rows = |body: &str| body.matches("<td class=\"name\">").count();
    assert_eq!(rows(&last.body), all.len() - (pages - 1) * 25);
    assert_eq!(rows(&past.body), rows(&last.body));
    assert!(past.text().contains(&format!("Page {pages} of {pages}")));
    assert!(past.text().contains("page=9999"), "the clamp is reported");
    // Sorting by name, both ways: the first row of one is the last name of the other.
    let asc = dana.get("/documents?sort=name_asc&type=contract").await;
    let desc = dana.get("/documents?sort=name_desc&type=contract").await;
    let first_name = |body: &str| {
        body.split("<td class=\"name\">")
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap()
            .to_owned()
    };
    assert!(first_name(&asc.body) < first_name(&desc.body));
}

#[tokio::test]
async fn malformed_queries_fall_back_and_say_so() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    for query in [
        "page=abc",
        "year=20x5",
        "type=spreadsheet",
        "sort=sideways",
        "page=-1&year=99999",
        "%ZZ=%%",
    ] {
        let page = ben.get(&format!("/documents?{query}")).await;
        assert_eq!(page.status, StatusCode::OK, "{query}");
        assert_eq!(
            result_count(&page.body),
            files_of("cust_0002").len(),
            "{query}"
        );
    }
    let page = ben.get("/documents?year=20x5").await;
    assert!(page.text().contains("were not understood"));
}

#[tokio::test]
async fn another_customers_order_or_file_is_not_found_by_any_route() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let dana_order = "ord_10019";
    let missing = ben.get("/orders/ord_99999").await;
    let foreign = ben.get(&format!("/orders/{dana_order}")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
    assert_eq!(
        missing.without_nonce().replace("ord_99999", "X"),
        foreign.without_nonce().replace(dana_order, "X"),
        "a foreign order reads exactly like a missing one"
    );
    let forged = ben.get("/orders/..%2Fcustomers%2Fcust_0004").await;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);

    let foreign_file = other_customers_file("cust_0002");
    for action in ["view", "download"] {
        let foreign = ben.get(&format!("/files/{foreign_file}/{action}")).await;
        let missing = ben.get(&format!("/files/file_nope/{action}")).await;
        assert_eq!(foreign.status, StatusCode::NOT_FOUND);
        assert_eq!(foreign.body, missing.body);
        assert!(foreign.headers.get("location").is_none());
    }
    // Filtering by another customer's order shows nothing of it.
    let page = ben.get(&format!("/documents?order={dana_order}")).await;
    assert_eq!(result_count(&page.body), 0);

    // Server functions called directly with forged arguments answer the same.
    let forged = ben
        .post("/api/get_order", &format!("order_id={dana_order}"))
        .await;
    let nope = ben.post("/api/get_order", "order_id=ord_99999").await;
    assert_eq!(forged.status, nope.status);
    assert_eq!(forged.body, nope.body);
    assert!(!forged.body.contains("cust_0004") && !forged.body.contains("Fischer"));
    let listed = ben
        .post(
            "/api/list_documents",
            &format!("query=order%3D{dana_order}"),
        )
        .await;
    assert!(!listed.body.contains(&foreign_file));
}

#[tokio::test]
async fn a_customers_own_file_redirects_to_a_short_lived_signed_url() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let file = &files_of("cust_0002")[0].0;
    let answer = ben.get(&format!("/files/{file}/view")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.headers["cache-control"], "private, no-store");
    assert_eq!(answer.headers["referrer-policy"], "no-referrer");
    let location = answer.location().to_owned();
    assert!(
        location.contains("/storage/") && location.contains("sig="),
        "{location}"
    );
    let bytes = reqwest_get(&location).await;
    assert_eq!(bytes.0, 200);
    assert!(bytes.1.contains("inline"));

    let events = app
        .state
        .store
        .audit_recent("file_viewed", 10)
        .await
        .unwrap();
    assert_eq!(events[0].subject.as_deref(), Some(file.as_str()));
    assert_eq!(events[0].customer_id.as_deref(), Some("cust_0002"));
}

/// Status and Content-Disposition of a GET on a loopback URL.
async fn reqwest_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let head =
        String::from_utf8_lossy(&raw[..raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap()])
            .to_string();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let disposition = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
        .unwrap_or("")
        .to_owned();
    (status, disposition)
}

#[tokio::test]
async fn an_upstream_that_fails_gives_a_clear_503_page() {
    // No background share: nothing is warmed up while the sign-in mail travels, so the pages
    // below have no kept answer to fall back on.
    let app = TestApp::new(&[
        ("FLEXPORTAL_TIMEOUT_MS", "300"),
        ("FOLIO_BUDGET_BACKGROUND_PERCENT", "0"),
    ])
    .await;
    let mut clara = signed_in(&app, CLARA).await;
    let faults = app.sim().faults.clone();

    faults.fail_next_with_500(50);
    let page = clara.get("/documents").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().contains("Temporarily unavailable"));
    assert!(page.text().contains("Try again"));
    faults.reset();

    faults.fail_next_with_429(50, 120);
    let page = clara.get("/invoices?year=2025").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    faults.reset();

    let mut german = Browser::new(&app);
    german.session = clara.session.clone();
    german.accept_language = "de";
    faults.hang_next(50);
    let page = german.get("/orders/ord_10003").await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(page.text().contains("Vorübergehend nicht verfügbar"));
}

#[tokio::test]
async fn the_last_good_data_is_shown_marked_when_the_upstream_fails() {
    let app = TestApp::new(&[("FLEXPORTAL_CACHE_TTL_SECS", "1")]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let fresh = clara.get("/documents").await;
    assert!(!fresh.text().contains("may be out of date"));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.sim().faults.fail_next_with_500(100);
    // Past their freshness, the kept answers are served at once while their refresh fails
    // behind the reader; from then on the page says so.
    let mut stale = clara.get("/documents").await;
    for _ in 0..50 {
        if stale.text().contains("may be out of date") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stale = clara.get("/documents").await;
    }
    assert_eq!(stale.status, StatusCode::OK);
    assert!(stale.text().contains("may be out of date"));
    assert_eq!(result_count(&stale.body), result_count(&fresh.body));
}

#[tokio::test]
async fn a_warm_page_view_costs_no_upstream_calls() {
    let app = TestApp::new(&[]).await;
    let mut dana = signed_in(&app, DANA).await;
    let counters = app.sim().counters.clone();
    counters.reset();
    dana.get("/documents").await;
    let cold = counters.total();
    assert!(cold > 0);
    counters.reset();
    dana.get("/documents?type=invoice").await;
    dana.get("/").await;
    assert_eq!(counters.total(), 0, "warm views are served from the cache");
}

#[tokio::test]
async fn data_past_its_freshness_is_shown_at_once_with_its_time() {
    use std::time::{Duration, Instant};
    let app = TestApp::new(&[("FLEXPORTAL_CACHE_TTL_SECS", "1")]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let fresh = clara.get("/documents").await;
    assert!(!fresh.text().contains("Shown as of"));
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // FlexPortal is slow now: the reader does not wait for it.
    app.sim().faults.set_latency(Duration::from_secs(2));
    let started = Instant::now();
    let old = clara.get("/documents").await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(old.status, StatusCode::OK);
    assert!(old.text().contains("Shown as of"), "{}", old.text());
    assert!(old.text().contains("UTC"));
    assert_eq!(result_count(&old.body), result_count(&fresh.body));
    app.sim().faults.set_latency(Duration::ZERO);

    // Once the refresh behind it is in, the page is current again and says nothing.
    let mut now = clara.get("/documents").await;
    for _ in 0..60 {
        if !now.text().contains("Shown as of") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        now = clara.get("/documents").await;
    }
    assert!(!now.text().contains("Shown as of"));
}
