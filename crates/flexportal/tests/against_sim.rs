//! The client against the stand-in FlexPortal over real HTTP: every endpoint, paging, and every
//! fault mode the sim can inject.

use std::sync::Arc;
use std::time::{Duration, Instant};

use flexportal::model::{FileType, OrderStatus};
use flexportal::{
    Allowance, Client, ClientConfig, Error, FileAction, FilesHint, Freshness, MemoryStore,
};
use flexportal_sim::{RunningSim, Sim};
use secrecy::SecretString;

const BUSINESS: &str = "dana.fischer@example.com";

/// What callers tell of an order whose files they ask for; these tests read any order.
const HINT: FilesHint<'static> = FilesHint {
    customer_id: "cust_0001",
    status: &OrderStatus::Fulfilled,
};

async fn sim() -> RunningSim {
    Sim::demo().spawn("127.0.0.1:0").await.expect("sim starts")
}

fn config(sim: &RunningSim) -> ClientConfig {
    let mut config = ClientConfig::new(
        sim.base_url.clone(),
        sim.tenant_id.clone(),
        SecretString::from(sim.api_key.clone()),
    );
    config.request_timeout = Duration::from_secs(5);
    config
}

fn client(sim: &RunningSim) -> Client {
    Client::new(config(sim)).unwrap()
}

async fn business_customer_id(client: &Client) -> String {
    let found = client.customers_by_email(BUSINESS).await.unwrap();
    assert_eq!(found.value.len(), 1);
    found.value[0].customer_id.clone()
}

#[tokio::test]
async fn customers_orders_and_their_pages() {
    let sim = sim().await;
    let client = client(&sim);

    let found = client.customers_by_email(BUSINESS).await.unwrap();
    let customer = &found.value[0];
    assert_eq!(customer.email, BUSINESS);
    assert!(customer.order_ids.len() >= 40);
    let again = client.customer(&customer.customer_id).await.unwrap();
    assert_eq!(again.value.email, BUSINESS);

    let orders = client
        .orders_of_customer(&customer.customer_id)
        .await
        .unwrap();
    assert_eq!(orders.value.len(), customer.order_ids.len());
    assert!(orders
        .value
        .iter()
        .all(|o| o.customer.customer_id == customer.customer_id));
    let order = client.order(&orders.value[0].order_id).await.unwrap();
    assert_eq!(order.value.order_id, orders.value[0].order_id);
    assert!(!order.value.items.is_empty());
    assert_eq!(order.value.totals.currency.len(), 3);

    // 160 rentals: more than one page of 100.
    let rentals = client
        .rentals_of_customer(&customer.customer_id)
        .await
        .unwrap();
    assert!(rentals.value.len() > 100, "{} rentals", rentals.value.len());
    let mut ids: Vec<_> = rentals.value.iter().map(|r| r.rental_id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        rentals.value.len(),
        "no rental twice across pages"
    );
    assert!(sim.counters.get("GET /v1/subscriptions") >= 2);

    let payments = client
        .payments_of_customer(&customer.customer_id)
        .await
        .unwrap();
    assert!(payments
        .value
        .iter()
        .all(|p| p.customer_id == customer.customer_id));
    assert!(payments.value.iter().all(|p| p.amount_due().is_some()));

    assert_eq!(
        client.customer("cust_nope").await.unwrap_err(),
        Error::NotFound
    );
    assert_eq!(
        client.order("../customers/cust_0001").await.unwrap_err(),
        Error::NotFound
    );
}

#[tokio::test]
async fn files_page_by_offset_past_100() {
    let sim = sim().await;
    let client = client(&sim);
    // ord_10019 holds 149 files: two pages.
    let files = client.files_of_order("ord_10019", HINT).await.unwrap();
    assert_eq!(files.value.len(), 149);
    assert!(files
        .value
        .iter()
        .all(|f| f.order_id.as_deref() == Some("ord_10019")));
    assert_eq!(sim.counters.get("GET /v1/files"), 2);

    let first = &files.value[0];
    let meta = client.file(&first.file_id).await.unwrap();
    assert_eq!(meta.value.file_id, first.file_id);
    assert!(meta.value.file_size.unwrap() > 0);
}

#[tokio::test]
async fn a_files_list_that_ignores_offset_stops() {
    let sim = sim().await;
    sim.faults.set_ignore_files_offset(true);
    let client = client(&sim);
    let files = client.files_of_order("ord_10019", HINT).await.unwrap();
    assert_eq!(files.value.len(), 100, "the first page, once");
    assert_eq!(sim.counters.get("GET /v1/files"), 2);
}

#[tokio::test]
async fn every_file_type_decodes_and_unknown_types_are_kept() {
    let sim = sim().await;
    let client = client(&sim);
    let id = business_customer_id(&client).await;
    let orders = client.orders_of_customer(&id).await.unwrap();
    let mut types = std::collections::BTreeSet::new();
    for order in orders.value.iter() {
        for file in client
            .files_of_order(&order.order_id, HINT)
            .await
            .unwrap()
            .value
            .iter()
        {
            types.insert(file.file_type.clone());
        }
    }
    for known in [
        FileType::Contract,
        FileType::Invoice,
        FileType::Document,
        FileType::Attachment,
    ] {
        assert!(types.contains(&known), "{known} missing");
    }
    assert!(types.iter().any(|t| matches!(t, FileType::Other(_))));
}

#[tokio::test]
async fn signed_urls_serve_the_bytes() {
    let sim = sim().await;
    let client = client(&sim);
    let files = client.files_of_order("ord_10001", HINT).await.unwrap();
    let pdf = files
        .value
        .iter()
        .find(|f| f.content_type.as_deref() == Some("application/pdf"))
        .expect("a PDF");
    let signed = client
        .signed_url(&pdf.file_id, FileAction::Download, 5)
        .await
        .unwrap();
    let expires = signed.expires_at.expect("an expiry").unix_seconds();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    assert!(
        expires > now && expires <= now + 5 * 60 + 5,
        "expires in about 5 minutes"
    );

    let bytes = reqwest::get(&signed.url).await.unwrap();
    assert_eq!(bytes.headers()["content-type"], "application/pdf");
    assert!(bytes.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert!(bytes.bytes().await.unwrap().starts_with(b"%PDF"));

    let err = client
        .signed_url("file_nope", FileAction::View, 5)
        .await
        .unwrap_err();
    assert_eq!(err, Error::NotFound);
}

#[tokio::test]
async fn a_signed_url_is_handed_out_again_for_half_its_life() {
    let sim = sim().await;
    let client = client(&sim);
    let files = client.files_of_order("ord_10001", HINT).await.unwrap();
    let file = &files.value[0].file_id;
    sim.counters.reset();
    let first = client
        .signed_url(file, FileAction::Download, 5)
        .await
        .unwrap();
    let again = client
        .signed_url(file, FileAction::Download, 5)
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(sim.counters.total(), 1, "signed once");
    let view = client.signed_url(file, FileAction::View, 5).await.unwrap();
    assert_ne!(view.url, first.url, "another action is signed anew");
    assert_eq!(sim.counters.total(), 2);
}

#[tokio::test]
async fn the_docs_alternate_field_names_decode() {
    let sim = sim().await;
    sim.faults.set_prose_mode(true);
    let client = client(&sim);
    let files = client.files_of_order("ord_10001", HINT).await.unwrap();
    assert!(!files.value.is_empty());
    for file in files.value.iter() {
        assert!(file.filename.is_some(), "fileName read as filename");
        assert!(file.content_type.is_some(), "mimeType read as contentType");
        assert!(file.file_size.is_some(), "size read as fileSize");
        assert!(
            !matches!(file.file_type, FileType::Other(ref t) if t.is_empty()),
            "fileType read"
        );
    }
    let id = business_customer_id(&client).await;
    let rentals = client.rentals_of_customer(&id).await.unwrap();
    assert!(
        !rentals.value.is_empty(),
        "subscriptions/subscriptionId read as rentals/rentalId"
    );
}

#[tokio::test]
async fn wrong_credentials_are_configuration_problems() {
    let sim = sim().await;
    let mut bad_key = config(&sim);
    bad_key.api_key = SecretString::from("nope".to_owned());
    let err = Client::new(bad_key)
        .unwrap()
        .customer("cust_0001")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { code } if code == "INVALID_TOKEN"),
        "{err:?}"
    );
    assert!(err.is_configuration_problem());
    assert!(!err.to_string().contains("nope"));

    let mut bad_tenant = config(&sim);
    bad_tenant.tenant_id = "bu_other".into();
    let err = Client::new(bad_tenant)
        .unwrap()
        .customer("cust_0001")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Forbidden { code } if code == "NO_TENANT_ACCESS"),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_pauses_the_budget() {
    let sim = sim().await;
    sim.faults.fail_next_with_429(1, 1);
    let client = client(&sim);
    let started = Instant::now();
    let customer = client.customer("cust_0002").await.unwrap();
    assert_eq!(customer.value.customer_id, "cust_0002");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    let m = client.metrics();
    assert_eq!((m.rate_limited, m.retries, m.upstream_requests), (1, 1, 2));
    assert_eq!(sim.counters.total(), 2);
}

#[tokio::test]
async fn a_long_retry_after_is_surfaced_not_waited_for() {
    let sim = sim().await;
    sim.faults.fail_next_with_429(1, 120);
    let client = client(&sim);
    let started = Instant::now();
    let err = client.customer("cust_0002").await.unwrap_err();
    assert_eq!(
        err,
        Error::RateLimited {
            retry_after: Some(Duration::from_secs(120))
        }
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    // The budget now holds every caller back instead of hammering a limiting upstream.
    let err = client.customer("cust_0003").await.unwrap_err();
    assert!(matches!(err, Error::BudgetExhausted { .. }), "{err:?}");
    assert_eq!(sim.counters.total(), 1);
}

#[tokio::test]
async fn server_errors_are_retried_then_surfaced() {
    let sim = sim().await;
    let client = client(&sim);
    sim.faults.fail_next_with_500(2);
    assert!(
        client.customer("cust_0002").await.is_ok(),
        "two 500s, then success"
    );
    assert_eq!(client.metrics().retries, 2);

    sim.faults.fail_next_with_500(10);
    let err = client.customer("cust_0003").await.unwrap_err();
    assert_eq!(err, Error::Server { status: 500 });
    assert_eq!(sim.counters.get("GET /v1/customers/{customerId}"), 3 + 3);
}

#[tokio::test]
async fn a_hanging_upstream_is_cut_off_by_the_timeout() {
    let sim = sim().await;
    sim.faults.hang_next(1);
    let mut config = config(&sim);
    config.request_timeout = Duration::from_millis(300);
    let client = Client::new(config).unwrap();
    let started = Instant::now();
    let err = client.customer("cust_0002").await.unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn the_last_good_answer_is_served_marked_stale_when_the_upstream_fails() {
    let sim = sim().await;
    let mut config = config(&sim);
    // The reader waits for the refresh: it gets the old answer only because the refresh fails.
    config.stale_while_revalidate = false;
    config.freshness = Freshness::flat(Duration::from_millis(50));
    let client = Client::new(config).unwrap();
    let fresh = client.order("ord_10001").await.unwrap();
    assert!(!fresh.stale);
    tokio::time::sleep(Duration::from_millis(80)).await;
    sim.faults.fail_next_with_500(10);
    let stale = client.order("ord_10001").await.unwrap();
    assert!(stale.stale);
    assert_eq!(stale.value.order_id, "ord_10001");
    assert_eq!(client.metrics().stale_served, 1);
}

#[tokio::test]
async fn two_hundred_concurrent_callers_never_exceed_the_budget() {
    let sim = sim().await;
    let mut config = config(&sim);
    config.allowance = Allowance::per_minute(20);
    config.max_wait = Duration::from_millis(200);
    let client = Client::new(config).unwrap();
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            // Distinct keys: the cache cannot absorb them.
            client.order(&format!("ord_{}", 10001 + i % 60)).await
        }));
    }
    let mut ok = 0;
    let mut over_budget = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(Error::BudgetExhausted { .. }) => over_budget += 1,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(
        sim.counters.total(),
        20,
        "exactly the budget reached the upstream"
    );
    assert!(
        ok >= 20 && over_budget > 0,
        "{ok} ok, {over_budget} refused"
    );
}

#[tokio::test]
async fn fifty_identical_concurrent_requests_make_one_upstream_call() {
    let sim = sim().await;
    sim.faults.set_latency(Duration::from_millis(100));
    let client = Arc::new(client(&sim));
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move {
            client.orders_of_customer("cust_0003").await
        }));
    }
    for task in tasks {
        let orders = task.await.unwrap().unwrap();
        assert!(orders
            .value
            .iter()
            .all(|o| o.status != OrderStatus::Other(String::new())));
    }
    assert_eq!(sim.counters.get("GET /v1/orders"), 1);
    assert_eq!(client.metrics().upstream_requests, 1);
}

/// A client on `store` whose answers are fresh for `fresh`.
fn client_on(sim: &RunningSim, store: &Arc<MemoryStore>, fresh: Duration) -> Client {
    let mut config = config(sim);
    config.freshness = Freshness::flat(fresh);
    config.sync_every = Duration::from_millis(50);
    Client::with_store(config, store.clone()).unwrap()
}

/// A store the clients of a test share as instances share a database.
fn store() -> Arc<MemoryStore> {
    Arc::new(MemoryStore::shared(Allowance::per_minute(100)))
}

#[tokio::test]
async fn a_new_client_on_the_same_store_starts_warm() {
    let sim = sim().await;
    let store = store();
    let first = client_on(&sim, &store, Duration::from_secs(60));
    let orders = first.orders_of_customer("cust_0003").await.unwrap();
    let files = first.files_of_order("ord_10001", HINT).await.unwrap();
    let calls = sim.counters.total();

    // A restart, or another instance: nothing in its memory, everything in the store.
    let second = client_on(&sim, &store, Duration::from_secs(60));
    let again = second.orders_of_customer("cust_0003").await.unwrap();
    assert_eq!(again.value, orders.value, "the kept model reads back whole");
    assert_eq!(
        second
            .files_of_order("ord_10001", HINT)
            .await
            .unwrap()
            .value,
        files.value
    );
    assert_eq!(sim.counters.total(), calls, "no upstream call");
    assert_eq!(second.metrics().store_loads, 2);
}

#[tokio::test]
async fn a_reader_with_a_kept_answer_never_waits_for_a_hanging_upstream() {
    let sim = sim().await;
    let store = store();
    let client = client_on(&sim, &store, Duration::from_millis(100));
    let first = client.order("ord_10001").await.unwrap();
    assert!(first.fresh);
    tokio::time::sleep(Duration::from_millis(150)).await;

    sim.faults.hang_next(1);
    let started = Instant::now();
    let old = client.order("ord_10001").await.unwrap();
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
    assert!(
        !old.fresh && !old.stale,
        "past its freshness, not (yet) failed"
    );
    assert_eq!(old.fetched_ms, first.fetched_ms);
    // Readers meanwhile get the same answer at once; the one refresh hangs behind them.
    for _ in 0..20 {
        assert!(!client.order("ord_10001").await.unwrap().fresh);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(client.metrics().upstream_requests, 2, "one refresh");
    // The refresh times out (5 s); the answer is then marked as failed to refresh.
    tokio::time::sleep(Duration::from_millis(5500)).await;
    let failed = client.order("ord_10001").await.unwrap();
    assert!(failed.stale, "pages say FlexPortal could not be reached");
    assert_eq!(client.metrics().refresh_failures, 1);
}

#[tokio::test]
async fn a_refresh_behind_replaces_the_answer_once_for_every_instance() {
    let sim = sim().await;
    let store = store();
    let fresh = Duration::from_secs(60);
    let (a, b) = (
        client_on(&sim, &store, fresh),
        client_on(&sim, &store, fresh),
    );
    let first = a.customer("cust_0002").await.unwrap();
    b.customer("cust_0002").await.unwrap();
    assert_eq!(sim.counters.total(), 1, "b found it in the store");

    // Marked for refresh on a (a webhook's hint): a refreshes under the lease, slowly.
    sim.faults.set_latency(Duration::from_millis(300));
    a.expire(&[flexportal::Ask::Customer("cust_0002".into())])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(120)).await;
    // b has learned of the change, serves the kept answer at once, and leaves the refresh to
    // the lease's holder.
    let started = Instant::now();
    let old = b.customer("cust_0002").await.unwrap();
    assert!(!old.fresh && started.elapsed() < Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sim.counters.total(),
        2,
        "one refresh under the lease, not two"
    );
    for client in [&a, &b] {
        let new = client.customer("cust_0002").await.unwrap();
        assert!(new.fresh && new.fetched_ms > first.fetched_ms);
    }
    assert_eq!(sim.counters.total(), 2);
}

#[tokio::test]
async fn a_log_stays_current_until_an_answer_it_read_is_replaced() {
    let sim = sim().await;
    let store = store();
    let client = client_on(&sim, &store, Duration::from_millis(100));
    let log = Arc::new(flexportal::AnswerLog::default());
    let page = client.logging_to(log.clone());
    page.customer("cust_0002").await.unwrap();
    page.orders_of_customer("cust_0002").await.unwrap();
    assert!(client.answers_current(&log));

    // Past freshness, a page made from fresh answers would now say how old they are.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        !client.answers_current(&log),
        "and the check starts the refreshes"
    );
    let stale_log = Arc::new(flexportal::AnswerLog::default());
    let stale_page = client.logging_to(stale_log.clone());
    stale_page.customer("cust_0002").await.unwrap();
    // Made from an answer already past its freshness: current, whatever its age, until the
    // refresh behind it replaces it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!stale_log_still_current(&client, &stale_log, &sim).await);
}

/// Whether `log` is current once its answer's refresh has landed.
async fn stale_log_still_current(
    client: &Client,
    log: &flexportal::AnswerLog,
    sim: &RunningSim,
) -> bool {
    for _ in 0..50 {
        if sim.counters.get("GET /v1/customers/{customerId}") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    client.answers_current(log)
}

#[tokio::test]
async fn background_work_keeps_to_its_share_and_readers_to_the_rest() {
    let sim = sim().await;
    let mut config = config(&sim);
    config.allowance = Allowance::per_minute(10);
    config.max_wait = Duration::ZERO;
    let client = Client::new(config).unwrap();
    let background = client.with_priority(flexportal::Priority::Background);
    let mut granted = 0;
    for i in 0..10 {
        if background
            .order(&format!("ord_{}", 10001 + i))
            .await
            .is_ok()
        {
            granted += 1;
        }
    }
    assert_eq!(granted, 3, "30 % of 10");
    let mut read = 0;
    for i in 0..10 {
        if client.order(&format!("ord_{}", 10021 + i)).await.is_ok() {
            read += 1;
        }
    }
    assert_eq!(read, 7, "readers get all the rest");
    assert_eq!(sim.counters.total(), 10);
}

#[tokio::test]
async fn expiring_an_answer_refreshes_it_behind_its_readers() {
    let sim = sim().await;
    let store = store();
    let client = client_on(&sim, &store, Duration::from_secs(600));
    let first = client.orders_of_customer("cust_0003").await.unwrap();
    let kept = client
        .expire(&[
            flexportal::Ask::OrdersOf("cust_0003".into()),
            flexportal::Ask::OrdersOf("cust_9999".into()),
        ])
        .await
        .unwrap();
    assert_eq!(kept, 1, "only a kept answer is marked");
    for _ in 0..50 {
        if sim.counters.get("GET /v1/orders") >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let again = client.orders_of_customer("cust_0003").await.unwrap();
    assert!(again.fresh && again.fetched_ms >= first.fetched_ms);
    assert_eq!(sim.counters.get("GET /v1/orders"), 2);
}

#[tokio::test]
async fn a_rate_limiting_upstream_never_holds_a_reader_with_a_kept_answer() {
    let sim = sim().await;
    let store = store();
    let client = client_on(&sim, &store, Duration::from_millis(100));
    client.orders_of_customer("cust_0003").await.unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;

    // FlexPortal limits for two minutes: the refresh behind is refused, every reader is served.
    sim.faults.fail_next_with_429(5, 120);
    for _ in 0..10 {
        let started = Instant::now();
        let kept = client.orders_of_customer("cust_0003").await.unwrap();
        assert!(started.elapsed() < Duration::from_millis(100));
        assert!(!kept.fresh);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        sim.counters.get("GET /v1/orders"),
        2,
        "one refresh tried, then the pause"
    );
    let kept = client.orders_of_customer("cust_0003").await.unwrap();
    assert!(kept.stale, "pages say FlexPortal could not be reached");
    assert_eq!(client.metrics().rate_limited, 1);
}

#[tokio::test]
async fn a_mark_made_while_a_refresh_is_in_flight_is_not_undone_by_it() {
    let sim = sim().await;
    let store = store();
    let client = client_on(&sim, &store, Duration::from_secs(60));
    let orders = flexportal::Ask::OrdersOf("cust_0003".into());
    client.orders_of_customer("cust_0003").await.unwrap();

    // A first hint starts a slow refresh; a second arrives while it is in flight, for a
    // change the refresh may have missed.
    sim.faults.set_latency(Duration::from_millis(300));
    client.expire(std::slice::from_ref(&orders)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    client.expire(std::slice::from_ref(&orders)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        sim.counters.get("GET /v1/orders"),
        2,
        "the first refresh landed"
    );
    let landed = client.orders_of_customer("cust_0003").await.unwrap();
    assert!(
        !landed.fresh,
        "kept as past its freshness: it may predate the second change"
    );

    // So it is fetched once more, after the refresh's rest.
    sim.faults.set_latency(Duration::ZERO);
    for _ in 0..100 {
        let now = client.orders_of_customer("cust_0003").await.unwrap();
        if now.fresh {
            assert!(now.fetched_ms > landed.fetched_ms);
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the answer was not fetched again");
}
