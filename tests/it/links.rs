//! Account managers and portal links through the whole router: staff sign-in, the staff
//! screens' gate, creating, opening, limiting, revoking and extending links, the register, the
//! audit log and the customer's access page. Ground truth comes from the stand-in's data.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use folio::base::server::upstream::DEMO_MANAGER_EMAIL;
use folio::server::cli::Cli;
use folio::staff::server::command::{run, Failure};

use crate::common::{
    create_link as create, demo_files, form_value, mails_to, open_link as open, signed_in, staff,
    wait_for_mail, Answer, Browser, TestApp,
};

const CLARA: &str = "clara.jensen@example.org"; // several orders over three years
const CLARA_ID: &str = "cust_0003";
const BEN_ID: &str = "cust_0002";

/// Clara's orders, and the ids and types of each one's files, from the stand-in's own data.
struct Truth {
    files: Vec<(String, String, String)>, // (file id, order id, type)
}

impl Truth {
    fn of(customer_id: &str) -> Self {
        Truth {
            files: demo_files(customer_id)
                .into_iter()
                .map(|f| (f.id, f.order_id, f.file_type))
                .collect(),
        }
    }

    /// Two orders that both have an invoice and a contract.
    fn two_orders(&self) -> (String, String) {
        let mut orders: Vec<&str> = self
            .files
            .iter()
            .map(|(_, o, _)| o.as_str())
            .filter(|o| self.has(o, "invoice") && self.has(o, "contract"))
            .collect();
        orders.sort();
        orders.dedup();
        (orders[0].to_owned(), orders[1].to_owned())
    }

    fn has(&self, order: &str, file_type: &str) -> bool {
        self.files
            .iter()
            .any(|(_, o, t)| o == order && t == file_type)
    }

    fn file(&self, order: &str, file_type: &str) -> String {
        self.files
            .iter()
            .find(|(_, o, t)| o == order && t == file_type)
            .map(|(id, _, _)| id.clone())
            .expect("such a file")
    }

    fn ids(&self, order: &str, file_type: &str) -> BTreeSet<String> {
        self.files
            .iter()
            .filter(|(_, o, t)| o == order && t == file_type)
            .map(|(id, _, _)| id.clone())
            .collect()
    }
}

async fn app() -> TestApp {
    TestApp::new(&[("FOLIO_SESSION_MAX_HOURS", "720")]).await
}

/// Every document id a session sees on `/documents`, all pages, through the server function.
async fn listed(browser: &mut Browser<'_>) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for page in 1.. {
        let answer = browser
            .post(
                "/api/list_documents",
                &format!("query={}", form_value(&format!("page={page}"))),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let list: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        for row in list["rows"].as_array().unwrap() {
            ids.insert(row["id"].as_str().unwrap().to_owned());
        }
        if page >= list["page_count"].as_u64().unwrap() {
            break;
        }
    }
    ids
}

/// The kinds of the audit events matching `query`, newest first.
async fn audit(manager: &mut Browser<'_>, query: &str) -> Vec<String> {
    let answer = manager
        .post("/api/staff_audit", &format!("query={}", form_value(query)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let page: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect()
}

async fn opens_of(app: &TestApp, id: &str) -> i64 {
    app.state.store.link_by_id(id).await.unwrap().unwrap().opens
}

#[tokio::test]
async fn an_order_link_for_invoices_reaches_nothing_else_by_any_url_or_function() {
    let app = app().await;
    let truth = Truth::of(CLARA_ID);
    let (shared, other) = truth.two_orders();
    let mut manager = staff(&app).await;
    let (_, token) = create(
        &mut manager,
        CLARA_ID,
        &format!("scope=order&order={shared}&types=invoice&days=7"),
    )
    .await;
    let mut guest = open(&app, &token).await;

    assert_eq!(listed(&mut guest).await, truth.ids(&shared, "invoice"));
    let page = guest.get("/documents").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("shared by Alex Morgan"),
        "the banner says who shared it"
    );

    // The shared order's invoice opens; its contract, and everything of the other order, do
    // not, through the file routes, the pages and the server functions alike.
    let invoice = truth.file(&shared, "invoice");
    let answer = guest.get(&format!("/files/{invoice}/download")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    for file in [
        truth.file(&shared, "contract"),
        truth.file(&other, "invoice"),
        truth.file(&other, "contract"),
    ] {
        for action in ["view", "download"] {
            let answer = guest.get(&format!("/files/{file}/{action}")).await;
            assert_eq!(answer.status, StatusCode::NOT_FOUND, "{file} {action}");
        }
    }
    assert_eq!(
        guest.get(&format!("/orders/{other}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        guest.get(&format!("/orders/{shared}")).await.status,
        StatusCode::OK
    );
    let answer = guest
        .post("/api/get_order", &format!("order_id={other}"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    let widened = guest
        .post(
            "/api/list_documents",
            &format!(
                "query={}",
                form_value(&format!("order={other}&type=contract"))
            ),
        )
        .await;
    let widened: serde_json::Value = serde_json::from_str(&widened.body).unwrap();
    assert_eq!(widened["total"], 0, "filters narrow, never widen");
    let overview = guest.post("/api/get_overview", "").await;
    let overview: serde_json::Value = serde_json::from_str(&overview.body).unwrap();
    let orders: Vec<&str> = overview["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    assert_eq!(orders, vec![shared.as_str()]);
    let invoices = guest.post("/api/get_invoices", "").await;
    let invoices: serde_json::Value = serde_json::from_str(&invoices.body).unwrap();
    let months = invoices["months"].as_array().unwrap();
    assert!(!months.is_empty());
    assert!(months
        .iter()
        .flat_map(|m| m["invoices"].as_array().unwrap())
        .all(|i| i["order_id"] == shared.as_str()));
    // And its exports hold that order's documents only.
    let csv = guest.get("/documents.csv").await;
    assert_eq!(csv.status, StatusCode::OK);
    let rows: Vec<&str> = csv
        .body
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.split(',').nth(3) == Some(shared.as_str())),
        "{rows:?}"
    );

    // A link session is read-only and no customer: the access page and the staff screens are
    // not for it.
    assert_eq!(
        guest.post("/api/get_access", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(guest.get("/manage").await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_get_of_the_link_opens_and_counts_nothing() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all&max_opens=1").await;

    let mut scanner = Browser::new(&app);
    for _ in 0..3 {
        let landing = scanner.get(&format!("/s/{token}")).await;
        assert_eq!(landing.status, StatusCode::OK);
        assert!(landing.text().contains("Open documents"));
        assert!(landing.text().contains("Alex Morgan"));
        assert_eq!(landing.headers["referrer-policy"], "no-referrer");
    }
    assert_eq!(opens_of(&app, &id).await, 0);
    assert_eq!(
        scanner.get("/documents").await.status,
        StatusCode::UNAUTHORIZED,
        "looking at the landing page signs nobody in"
    );

    // Unknown and malformed tokens are simply not found.
    let unknown = "A".repeat(43);
    assert_eq!(
        scanner.get(&format!("/s/{unknown}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(scanner.get("/s/short").await.status, StatusCode::NOT_FOUND);
    let answer = scanner.post(&format!("/s/{unknown}"), "").await;
    assert_eq!(answer.location(), format!("/s/{unknown}"));
    assert_eq!(opens_of(&app, &id).await, 0);
}

#[tokio::test]
async fn the_maximum_number_of_opens_holds_under_a_race() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all&max_opens=2").await;

    let attempts = (0..8).map(|_| {
        let app = &app;
        let token = token.clone();
        async move {
            let mut browser = Browser::new(app);
            let answer = browser.post(&format!("/s/{token}"), "").await;
            (answer.location() == "/documents", browser.session.clone())
        }
    });
    let results = futures::future::join_all(attempts).await;
    let opened: Vec<_> = results.iter().filter(|(ok, _)| *ok).collect();
    assert_eq!(opened.len(), 2, "exactly the allowed number of opens");
    assert_eq!(opens_of(&app, &id).await, 2);

    let landing = Browser::new(&app).get(&format!("/s/{token}")).await;
    assert_eq!(landing.status, StatusCode::GONE);
    assert!(landing.text().contains("opened as many times as it allows"));

    // The sessions it did let in go on until the link ends.
    let mut inside = Browser::new(&app);
    inside.session = opened[0].1.clone();
    assert_eq!(inside.get("/documents").await.status, StatusCode::OK);
}

#[tokio::test]
async fn revocation_ends_open_sessions_at_their_next_request() {
    let app = app().await;
    let truth = Truth::of(CLARA_ID);
    let (order, _) = truth.two_orders();
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all").await;
    let mut guest = open(&app, &token).await;
    let mut second = open(&app, &token).await;
    assert_eq!(guest.get("/documents").await.status, StatusCode::OK);
    let file = truth.file(&order, "invoice");
    let session = guest.session.clone();

    let answer = manager
        .post(&format!("/manage/links/{id}/revoke"), "")
        .await;
    assert_eq!(
        answer.location(),
        format!("/manage/links/{id}?notice=revoked")
    );

    let page = guest.get("/documents").await;
    assert_eq!(page.location(), "/shared/ended?why=revoked");
    let ended = guest.get(page.location()).await;
    assert_eq!(ended.status, StatusCode::GONE);
    assert!(ended.text().contains("revoked"));
    // The same session cookie, replayed, opens nothing any more.
    let mut replay = Browser::new(&app);
    replay.session = session;
    assert_eq!(
        replay.get(&format!("/files/{file}/view")).await.status,
        StatusCode::NOT_FOUND
    );
    // In the browser, the next server function says the link has ended, too.
    assert_eq!(
        second.post("/api/list_documents", "query=").await.status,
        StatusCode::GONE
    );
    let landing = Browser::new(&app).get(&format!("/s/{token}")).await;
    assert_eq!(landing.status, StatusCode::GONE);
    let answer = Browser::new(&app).post(&format!("/s/{token}"), "").await;
    assert_eq!(answer.location(), format!("/s/{token}"), "no new opens");

    // A new link opens at once in the browser whose old one ended.
    let (_, fresh) = create(&mut manager, CLARA_ID, "scope=all").await;
    let mut reused = Browser::new(&app);
    reused.session = second.session.clone();
    assert_eq!(
        reused.get(&format!("/s/{fresh}")).await.status,
        StatusCode::OK
    );
    let answer = reused.post(&format!("/s/{fresh}"), "").await;
    assert_eq!(answer.location(), "/documents");

    // Revocation is final: extending a revoked link changes nothing.
    let answer = manager
        .post(&format!("/manage/links/{id}/extend"), "days=30")
        .await;
    assert!(answer.location().ends_with("notice=already_revoked"));
    assert_eq!(
        Browser::new(&app).get(&format!("/s/{token}")).await.status,
        StatusCode::GONE
    );
}

#[tokio::test]
async fn expiry_ends_open_sessions_and_extending_brings_the_link_back() {
    // Sessions that stay open for a day: idle for at most a day, used every twelve hours.
    let app = TestApp::new(&[
        ("FOLIO_SESSION_MAX_HOURS", "720"),
        ("FOLIO_SESSION_IDLE_MINUTES", "1440"),
    ])
    .await;
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all&days=1").await;
    let mut guest = open(&app, &token).await;
    assert_eq!(guest.get("/").await.status, StatusCode::OK);

    app.state.clock.advance(43_200);
    assert_eq!(guest.get("/").await.status, StatusCode::OK);
    manager.get("/manage").await;
    app.state.clock.advance(43_200);
    let page = guest.get("/").await;
    assert_eq!(page.location(), "/shared/ended?why=expired");
    assert_eq!(
        Browser::new(&app).get(&format!("/s/{token}")).await.status,
        StatusCode::GONE
    );

    let answer = manager
        .post(&format!("/manage/links/{id}/extend"), "days=3")
        .await;
    assert!(answer.location().ends_with("notice=extended"));
    let link = app.state.store.link_by_id(&id).await.unwrap().unwrap();
    assert!((link.expires_at - (app.state.clock.now() + 3 * 86_400)).abs() <= 2);
    let mut again = open(&app, &token).await;
    assert_eq!(again.get("/").await.status, StatusCode::OK);

    // Never past 90 days from now, and only by whole days from 1 to 90.
    manager
        .post(&format!("/manage/links/{id}/extend"), "days=90")
        .await;
    let link = app.state.store.link_by_id(&id).await.unwrap().unwrap();
    assert!((link.expires_at - (app.state.clock.now() + 90 * 86_400)).abs() <= 2);
    for bad in ["days=0", "days=91", "days=many", ""] {
        let answer = manager
            .post(&format!("/manage/links/{id}/extend"), bad)
            .await;
        assert!(answer.location().ends_with("notice=bad_days"), "{bad}");
    }
}

#[tokio::test]
async fn the_register_and_the_audit_log_show_opens_and_filter() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all&label=Tax+advisor").await;
    let (revoked, _) = create(&mut manager, CLARA_ID, "scope=all&label=Old+link").await;
    manager
        .post(&format!("/manage/links/{revoked}/revoke"), "")
        .await;
    let mut guest = open(&app, &token).await;
    guest
        .get(&format!("/files/{}/view", Truth::of(CLARA_ID).files[0].0))
        .await;

    let register = |query: &str| format!("query={}", form_value(query));
    let answer = manager
        .post("/api/staff_links", &register("state=active"))
        .await;
    let active: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(active["total"], 1);
    assert_eq!(active["links"][0]["id"], id.as_str());
    assert_eq!(active["links"][0]["opens"], 1);
    assert!(active["links"][0]["last_opened_at"].is_string());
    assert_eq!(active["links"][0]["created_by"], "Alex Morgan");
    let answer = manager
        .post("/api/staff_links", &register("state=revoked"))
        .await;
    let gone: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(gone["links"][0]["id"], revoked.as_str());
    let answer = manager
        .post(
            "/api/staff_links",
            &format!("query={}", form_value(&format!("customer={BEN_ID}"))),
        )
        .await;
    let none: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(none["total"], 0);
    let page = manager.get("/manage/links").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("Tax advisor"));

    // The audit log, by link, by kind, by staff member and by day.
    assert_eq!(
        audit(&mut manager, &format!("link={id}")).await,
        vec!["file_viewed", "link_opened", "link_created"]
    );
    assert_eq!(
        audit(
            &mut manager,
            &format!("staff={DEMO_MANAGER_EMAIL}&kind=link_revoked")
        )
        .await,
        vec!["link_revoked"]
    );
    assert_eq!(
        audit(&mut manager, &format!("customer={BEN_ID}")).await,
        Vec::<String>::new()
    );
    assert!(audit(&mut manager, "from=2000-01-01&to=2000-01-02")
        .await
        .is_empty());
    let today = folio::base::server::clock::iso_time(app.state.clock.now())[..10].to_owned();
    assert!(audit(
        &mut manager,
        &format!("from={today}&to={today}&kind=link_opened")
    )
    .await
    .contains(&"link_opened".to_owned()));
    let answer = manager
        .post(
            "/api/staff_audit",
            &format!("query={}", form_value("from=yesterday")),
        )
        .await;
    let page: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(
        page["notices"][0]["param"], "from",
        "a bad date is reported"
    );
    assert_eq!(manager.get("/manage/audit").await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_customer_sees_who_opened_links_to_their_documents() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (_, token) = create(&mut manager, CLARA_ID, "scope=all&label=For+my+accountant").await;
    open(&app, &token).await;

    let mut clara = signed_in(&app, CLARA).await;
    let answer = clara.post("/api/get_access", "").await;
    let log: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert_eq!(log["links"][0]["label"], "For my accountant");
    assert_eq!(log["opens"].as_array().unwrap().len(), 1);
    assert_eq!(log["opens"][0]["shared_by"], "Alex Morgan");
    let page = clara.get("/access").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("For my accountant"));
}

#[tokio::test]
async fn creation_checks_every_value_and_sends_the_form_back_whole() {
    let app = app().await;
    let truth = Truth::of(CLARA_ID);
    let bens_order = Truth::of(BEN_ID).files[0].1.clone();
    let mut manager = staff(&app).await;

    for (body, error) in [
        ("scope=all&days=91&label=Keep+me", "days"),
        ("scope=all&max_opens=-1&label=Keep+me", "max_opens"),
        ("scope=all&types=receipts&label=Keep+me", "types"),
        ("scope=all&recipient=nobody&label=Keep+me", "recipient"),
        (
            &*format!("scope=order&order={bens_order}&label=Keep+me"),
            "order",
        ),
        ("scope=order&order=&label=Keep+me", "order"),
    ] {
        let answer = manager
            .post(&format!("/manage/customers/{CLARA_ID}/share"), body)
            .await;
        let back = answer.location();
        assert!(
            back.starts_with(&format!(
                "/manage/customers/{CLARA_ID}/share?error={error}&"
            )),
            "{body}: {back}"
        );
        assert!(
            back.contains("label=Keep+me"),
            "the form keeps its values: {back}"
        );
        let form = manager.get(back).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.text().contains("value=\"Keep me\""));
        assert!(form.text().contains("role=\"alert\""));
    }
    // A customer FlexPortal does not know cannot be shared.
    let answer = manager
        .post("/manage/customers/cust_9999/share", "scope=all")
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.state
            .store
            .links(&Default::default(), 0, 10, 0)
            .await
            .unwrap()
            .1,
        0
    );

    // The token exists only in the page shown once: the database holds its hash.
    let (shared, _) = truth.two_orders();
    let (_, token) = create(
        &mut manager,
        CLARA_ID,
        &format!("scope=order&order={shared}"),
    )
    .await;
    assert_eq!(token.len(), 43, "256 bits");
    let dir = std::path::Path::new(&app.state.config.database_url["sqlite://".len()..])
        .parent()
        .unwrap()
        .to_owned();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(&token),
            "the token is not stored"
        );
    }
}

#[tokio::test]
async fn a_link_can_be_mailed_in_the_recipients_language() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (_, token) = create(
        &mut manager,
        CLARA_ID,
        "scope=all&recipient=steuer%40kanzlei.example&locale=de&label=Steuer+2025",
    )
    .await;
    let outbox = app.state.mailer.outbox().unwrap();
    let mail = outbox
        .iter()
        .find(|m| m.to == "steuer@kanzlei.example")
        .expect("the link was mailed");
    assert!(mail
        .subject
        .contains("Alex Morgan hat Dokumente mit Ihnen geteilt"));
    assert!(mail.text.contains(&format!("/s/{token}")));
    assert!(mail.text.contains(&app.state.config.brand.name));
}

#[tokio::test]
async fn staff_sign_in_is_its_own_and_staff_see_no_customer_pages() {
    let app = app().await;
    // A customer's address is not on the staff: no mail, no way in.
    let mut browser = Browser::new(&app);
    let before = mails_to(&app, CLARA).await;
    let answer = browser
        .post("/manage/login", &format!("email={}", form_value(CLARA)))
        .await;
    assert_eq!(answer.location(), "/manage/login/check");
    assert_eq!(mails_to(&app, CLARA).await, before);

    // A staff code typed on the customer page does not sign anyone in.
    let mut crossed = Browser::new(&app);
    let before = mails_to(&app, DEMO_MANAGER_EMAIL).await;
    crossed
        .post(
            "/manage/login",
            &format!("email={}", form_value(DEMO_MANAGER_EMAIL)),
        )
        .await;
    let (link, code) = wait_for_mail(&app, DEMO_MANAGER_EMAIL, before).await;
    let answer = crossed.post("/login/code", &format!("code={code}")).await;
    assert_eq!(answer.location(), "/login?error=expired");
    let token = link.split("token=").nth(1).unwrap();
    let answer = crossed
        .post("/login/verify", &format!("token={token}"))
        .await;
    assert_eq!(answer.location(), "/login?error=link");

    let mut manager = staff(&app).await;
    assert_eq!(
        manager.get("/documents").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        manager.post("/api/list_documents", "query=").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        manager.post("/api/get_access", "").await.status,
        StatusCode::UNAUTHORIZED
    );
    // Through the staff screens, the customer as they see themselves.
    let page = manager.get(&format!("/manage/customers/{CLARA_ID}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut clara = signed_in(&app, CLARA).await;
    let theirs = clara.post("/api/get_overview", "").await;
    let theirs: serde_json::Value = serde_json::from_str(&theirs.body).unwrap();
    let staff_view = manager
        .post(
            "/api/staff_customer",
            &format!("customer_id={CLARA_ID}&query="),
        )
        .await;
    let staff_view: serde_json::Value = serde_json::from_str(&staff_view.body).unwrap();
    assert_eq!(staff_view["overview"], theirs);
    // And a file, through the staff file route, as that customer.
    let file = &Truth::of(CLARA_ID).files[0].0;
    let answer = manager
        .get(&format!("/manage/customers/{CLARA_ID}/files/{file}/view"))
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let answer = manager
        .get(&format!("/manage/customers/{BEN_ID}/files/{file}/view"))
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND, "not Ben's file");

    // Lookup by email (any case), order id and customer id.
    for (q, expect) in [
        ("CLARA.Jensen@example.org", CLARA_ID),
        (Truth::of(CLARA_ID).files[0].1.as_str(), CLARA_ID),
        (CLARA_ID, CLARA_ID),
    ] {
        let answer = manager
            .post("/api/staff_find_customers", &format!("q={}", form_value(q)))
            .await;
        let found: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
        assert_eq!(found["hits"][0]["id"], expect, "{q}");
    }
    let answer = manager
        .post("/api/staff_find_customers", "q=nobody%40nowhere.example")
        .await;
    let found: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    assert!(found["hits"].as_array().unwrap().is_empty());
}

/// Every staff page, form and server function, as (method, path, body).
fn staff_surface(link_id: &str) -> Vec<(&'static str, String, String)> {
    let file = &Truth::of(CLARA_ID).files[0].0;
    let mut surface: Vec<(&'static str, String, String)> = [
        "/manage".to_owned(),
        "/manage?q=clara.jensen%40example.org".to_owned(),
        "/manage/customers/cust_0003".to_owned(),
        "/manage/customers/cust_0003/share".to_owned(),
        "/manage/links".to_owned(),
        "/manage/audit".to_owned(),
        format!("/manage/customers/cust_0003/files/{file}/view"),
        format!("/manage/customers/cust_0003/files/{file}/download"),
        "/manage/customers/cust_0003/documents.zip?type=contract".to_owned(),
        "/manage/customers/cust_0003/documents.csv".to_owned(),
        "/manage/customers/cust_0003/invoices.csv?year=2025".to_owned(),
        "/manage/archives".to_owned(),
    ]
    .into_iter()
    .map(|p| ("GET", p, String::new()))
    .collect();
    surface.push(("GET", format!("/manage/links/{link_id}"), String::new()));
    for (path, body) in [
        (
            "/manage/customers/cust_0003/share".to_owned(),
            "scope=all".to_owned(),
        ),
        (format!("/manage/links/{link_id}/revoke"), String::new()),
        (
            "/manage/customers/cust_0003/documents.zip".to_owned(),
            "type=contract".to_owned(),
        ),
        (
            format!("/manage/links/{link_id}/extend"),
            "days=5".to_owned(),
        ),
        (
            "/api/staff_find_customers".to_owned(),
            "q=cust_0003".to_owned(),
        ),
        (
            "/api/staff_customer".to_owned(),
            "customer_id=cust_0003&query=".to_owned(),
        ),
        (
            "/api/staff_share_form".to_owned(),
            "customer_id=cust_0003".to_owned(),
        ),
        ("/api/staff_link".to_owned(), format!("link_id={link_id}")),
        ("/api/staff_links".to_owned(), "query=".to_owned()),
        ("/api/staff_audit".to_owned(), "query=".to_owned()),
    ] {
        surface.push(("POST", path, body));
    }
    surface
}

async fn call(browser: &mut Browser<'_>, method: &str, path: &str, body: &str) -> Answer {
    match method {
        "GET" => browser.get(path).await,
        _ => browser.post(path, body).await,
    }
}

#[tokio::test]
async fn customers_links_and_anonymous_visitors_get_404_on_every_staff_route() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (id, token) = create(&mut manager, CLARA_ID, "scope=all").await;
    let mut anonymous = Browser::new(&app);
    let mut customer = signed_in(&app, CLARA).await;
    let mut guest = open(&app, &token).await;

    for (method, path, body) in staff_surface(&id) {
        let other = if method == "GET" { "POST" } else { "GET" };
        for (who, browser) in [
            ("anonymous", &mut anonymous),
            ("customer", &mut customer),
            ("link session", &mut guest),
        ] {
            // With either method: a 405 would tell that the route exists.
            for method in [method, other] {
                let answer = call(browser, method, &path, &body).await;
                assert_eq!(
                    answer.status,
                    StatusCode::NOT_FOUND,
                    "{who}: {method} {path}"
                );
            }
        }
        let answer = call(&mut manager, method, &path, &body).await;
        assert!(
            answer.status.is_success() || answer.status.is_redirection(),
            "staff: {method} {path}: {}",
            answer.status
        );
    }
    // Of all those calls, only the staff member's changed anything.
    let link = app.state.store.link_by_id(&id).await.unwrap().unwrap();
    assert_eq!(link.revoked_by.as_deref(), Some(DEMO_MANAGER_EMAIL));
}

#[tokio::test]
async fn cross_origin_posts_to_staff_routes_are_refused() {
    let app = app().await;
    let mut manager = staff(&app).await;
    let (id, _) = create(&mut manager, CLARA_ID, "scope=all").await;
    let cookie = manager.session.clone().unwrap();
    for (method, path, body) in staff_surface(&id) {
        if method != "POST" {
            continue;
        }
        for origin in [
            ("origin", "https://evil.example"),
            ("sec-fetch-site", "cross-site"),
        ] {
            let answer = app
                .post_form(&path, &body, &[("cookie", &cookie), origin])
                .await;
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{path} {origin:?}");
        }
    }
    let link = app.state.store.link_by_id(&id).await.unwrap().unwrap();
    assert!(link.revoked_at.is_none());
    assert_eq!(
        app.state
            .store
            .links(&Default::default(), 0, 10, 0)
            .await
            .unwrap()
            .1,
        1
    );
}

#[tokio::test]
async fn link_tokens_never_reach_the_logs() {
    use folio::base::server::telemetry::loggable_path;
    let token = "x".repeat(43);
    assert_eq!(loggable_path(&format!("/s/{token}")), "/s/…");
    assert_eq!(loggable_path("/documents"), "/documents");
}

/// `folio staff …` as the command line reads it: the words parsed, then run.
async fn staff_command(
    store: &folio::base::server::store::Store,
    words: &[String],
    out: &mut Vec<u8>,
) -> Result<(), Failure> {
    let command = Cli::staff_command(words).map_err(|e| Failure::Usage(e.to_string()))?;
    run(store, &command, 0, out).await
}

#[tokio::test]
async fn the_staff_command_adds_lists_and_removes_account_managers() {
    let app = app().await;
    let store = &app.state.store;
    let args = |line: &str| line.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let mut out = Vec::new();
    let mut add = args("add Pat.Lee@Example.net --name");
    add.push("Pat Lee".into());
    staff_command(store, &add, &mut out).await.unwrap();
    staff_command(store, &args("list"), &mut out).await.unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(
        text.contains("added pat.lee@example.net (Pat Lee)"),
        "{text}"
    );
    assert!(text.contains("pat.lee@example.net\tPat Lee"), "{text}");

    // Pat signs in, is removed, and their session ends with it.
    let before = mails_to(&app, "pat.lee@example.net").await;
    let mut pat = Browser::new(&app);
    pat.post("/manage/login", "email=PAT.LEE%40example.net")
        .await;
    let (_, code) = wait_for_mail(&app, "pat.lee@example.net", before).await;
    let answer = pat
        .post("/manage/login/code", &format!("code={code}"))
        .await;
    assert_eq!(answer.location(), "/manage");
    assert_eq!(pat.get("/manage/links").await.status, StatusCode::OK);
    staff_command(store, &args("remove pat.lee@example.net"), &mut out)
        .await
        .unwrap();
    assert_eq!(pat.get("/manage/links").await.status, StatusCode::NOT_FOUND);

    for bad in [
        "",
        "add",
        "add someone",
        "add a@b.example --name",
        "remove x@y.example",
        "fly",
    ] {
        assert!(
            matches!(
                staff_command(store, &args(bad), &mut Vec::new()).await,
                Err(Failure::Usage(_))
            ),
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn postgres_links_open_once_per_allowance_and_revoke() {
    let Some(db) = crate::common::PgDatabase::try_create().await else {
        panic!("the PostgreSQL server on 127.0.0.1:5432 answers");
    };
    {
        let app = TestApp::new(&[("DATABASE_URL", &db.url())]).await;
        let mut manager = staff(&app).await;
        let (id, token) = create(
            &mut manager,
            CLARA_ID,
            "scope=all&max_opens=1&types=invoice",
        )
        .await;
        let mut guest = open(&app, &token).await;
        assert_eq!(guest.get("/documents").await.status, StatusCode::OK);
        let answer = Browser::new(&app).post(&format!("/s/{token}"), "").await;
        assert_eq!(answer.location(), format!("/s/{token}"));
        let register = manager
            .post("/api/staff_links", "query=state%3Dused_up")
            .await;
        let register: serde_json::Value = serde_json::from_str(&register.body).unwrap();
        assert_eq!(register["total"], 1);
        manager
            .post(&format!("/manage/links/{id}/revoke"), "")
            .await;
        assert_eq!(
            guest.get("/documents").await.location(),
            "/shared/ended?why=revoked"
        );
    }
    db.drop_it().await;
}
