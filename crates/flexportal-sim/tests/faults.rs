//! Each fault mode, switched through the library handle and through the admin endpoints.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{within, Harness};
use flexportal_sim::Sim;
use serde_json::{json, Value};

#[tokio::test]
async fn latency_delays_every_call() {
    let h = Harness::new();
    h.faults.set_latency(Duration::from_millis(150));
    let start = Instant::now();
    assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
    assert!(start.elapsed() >= Duration::from_millis(150));
    h.faults.set_latency(Duration::ZERO);
    let start = Instant::now();
    h.get("/v1/customers").await;
    assert!(start.elapsed() < Duration::from_millis(150));
}

#[tokio::test]
async fn too_many_requests_for_the_next_n_calls() {
    let h = Harness::new();
    h.faults.fail_next_with_429(2, 7);
    for _ in 0..2 {
        let r = h.get("/v1/orders").await;
        assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.error_code(), "RATE_LIMITED");
    }
    assert_eq!(h.get("/v1/orders").await.status, StatusCode::OK);
    assert_eq!(
        h.counters.get("GET /v1/orders"),
        3,
        "refused calls still count as upstream calls"
    );
}

#[tokio::test]
async fn server_errors_for_the_next_n_calls() {
    let h = Harness::new();
    h.faults.fail_next_with_500(3);
    for uri in ["/v1/files/file_200001", "/v1/customers", "/v1/payments"] {
        let r = h.get(uri).await;
        assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR, "{uri}");
        assert_eq!(r.error_code(), "INTERNAL_ERROR");
    }
    assert_eq!(h.get("/v1/files/file_200001").await.status, StatusCode::OK);
}

#[tokio::test]
async fn faults_come_before_the_header_checks() {
    let h = Harness::new();
    h.faults.fail_next_with_500(1);
    let r = h.get_anonymous("/v1/customers").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        h.get_anonymous("/v1/customers").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn hanging_calls_never_answer_in_time() {
    let h = Harness::new();
    h.faults.hang_next(1);
    assert!(
        within(Duration::from_millis(300), h.get("/v1/customers"))
            .await
            .is_none(),
        "the first call hangs"
    );
    let r = within(Duration::from_secs(5), h.get("/v1/customers"))
        .await
        .expect("the second call answers");
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn a_hang_can_be_bounded() {
    let h = Harness::new();
    h.faults.set_hang_duration(Duration::from_millis(200));
    h.faults.hang_next(1);
    let start = Instant::now();
    let r = within(Duration::from_secs(5), h.get("/v1/orders/ord_10001"))
        .await
        .expect("answers after the hang");
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!(r.status, StatusCode::OK);
}

#[tokio::test]
async fn hanging_over_a_real_socket_and_shutdown_still_works() {
    let sim = Sim::demo().spawn("127.0.0.1:0").await.unwrap();
    sim.faults.hang_next(1);
    assert!(within(
        Duration::from_millis(300),
        common::api_get(&sim, "/v1/orders")
    )
    .await
    .is_none());
    let r = within(Duration::from_secs(5), common::api_get(&sim, "/v1/orders"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK);
    within(Duration::from_secs(5), sim.shutdown())
        .await
        .expect("shutdown does not wait for the hung call");
}

#[tokio::test]
async fn prose_mode_renames_file_and_subscription_fields() {
    let h = Harness::new();
    h.faults.set_prose_mode(true);
    let list = h.get("/v1/files?orderId=ord_10001").await.json();
    let f = &list["files"][0];
    for prose in ["fileName", "fileType", "mimeType", "size", "customerId"] {
        assert!(!f[prose].is_null(), "{prose}");
    }
    for schema in ["filename", "type", "contentType", "fileSize"] {
        assert!(f.get(schema).is_none(), "{schema}");
    }
    let one = h.get("/v1/files/file_200001").await.json();
    assert!(one["fileName"].is_string() && one.get("filename").is_none());

    let subs = h.get("/v1/subscriptions?customerId=cust_0003").await.json();
    assert!(subs.get("rentals").is_none());
    let s = &subs["subscriptions"][0];
    assert!(s["subscriptionId"].is_string() && s.get("rentalId").is_none());
    assert!(s["serialNumber"].is_string() && s.get("assetSerialNumber").is_none());

    h.faults.set_prose_mode(false);
    assert!(h.get("/v1/files/file_200001").await.json()["filename"].is_string());
}

#[tokio::test]
async fn the_files_customer_filter_can_be_honoured() {
    let h = Harness::new();
    h.faults.set_honour_files_customer_id(true);
    let r = h
        .get("/v1/files?customerId=cust_0002&limit=100")
        .await
        .json();
    let files = r["files"].as_array().unwrap();
    assert!(!files.is_empty());
    assert!(files.iter().all(|f| f["orderId"] == "ord_10001"));
}

#[tokio::test]
async fn the_files_offset_can_be_ignored() {
    let h = Harness::new();
    h.faults.set_ignore_files_offset(true);
    let p1 = h.get("/v1/files?orderId=ord_10019&limit=100").await.json();
    let p2 = h
        .get("/v1/files?orderId=ord_10019&limit=100&offset=100")
        .await
        .json();
    assert_eq!(
        p1["files"][0]["fileId"], p2["files"][0]["fileId"],
        "the same first id twice"
    );
    assert_eq!(p2["offset"], json!(0));
}

#[tokio::test]
async fn email_lookup_can_turn_ambiguous() {
    let h = Harness::new();
    h.faults.set_email_case_insensitive(true);
    let r = h
        .get("/v1/customers?email=JO.BERG@example.com")
        .await
        .json();
    let ids: HashSet<&str> = r["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, HashSet::from(["cust_0008", "cust_0009"]));
}

#[tokio::test]
async fn rate_limit_refuses_beyond_the_budget() {
    let h = Harness::new();
    h.faults.set_rate_limit_per_minute(Some(5));
    for _ in 0..5 {
        assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
    }
    let r = h.get("/v1/customers").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    h.faults.set_rate_limit_per_minute(None);
    assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
}

#[tokio::test]
async fn counters_are_per_endpoint_template() {
    let h = Harness::new();
    h.get("/v1/files/file_200001").await;
    h.get("/v1/files/file_200002").await;
    h.get("/v1/files?orderId=ord_10001").await;
    h.post_json("/v1/files/url", &json!({"fileId": "file_200001"}))
        .await;
    h.get_anonymous("/v1/orders").await;
    assert_eq!(h.counters.get("GET /v1/files/{fileId}"), 2);
    assert_eq!(h.counters.get("GET /v1/files"), 1);
    assert_eq!(h.counters.get("POST /v1/files/url"), 1);
    assert_eq!(h.counters.get("GET /v1/orders"), 1);
    assert_eq!(h.counters.total(), 5);
    h.counters.reset();
    assert_eq!(h.counters.total(), 0);
}

async fn admin(h: &Harness, method: Method, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json");
    let r = h
        .send(
            req.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
                .unwrap(),
        )
        .await;
    let v = if r.body.is_empty() {
        Value::Null
    } else {
        r.json()
    };
    (r.status, v)
}

#[tokio::test]
async fn admin_endpoints_flip_faults_at_run_time() {
    let h = Harness::with(Sim::demo().with_admin(true));
    let (status, settings) = admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"fail500Next": 1, "proseMode": true, "latencyMs": 5})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["fail500Next"], json!(1));
    assert_eq!(settings["proseMode"], json!(true));
    assert_eq!(
        h.get("/v1/files/file_200001").await.status,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert!(h.get("/v1/files/file_200001").await.json()["fileName"].is_string());

    admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"fail429Next": 1, "retryAfterSecs": 30})),
    )
    .await;
    assert_eq!(h.get("/v1/orders").await.header("retry-after"), Some("30"));

    let (_, counters) = admin(&h, Method::GET, "/__sim/counters", None).await;
    assert_eq!(counters["total"], json!(3));
    assert_eq!(counters["byEndpoint"]["GET /v1/files/{fileId}"], json!(2));

    let (status, _) = admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"noSuchSwitch": true})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (_, reset) = admin(&h, Method::POST, "/__sim/reset", None).await;
    assert_eq!(reset["proseMode"], json!(false));
    assert_eq!(reset["latencyMs"], json!(0));
    assert!(h.get("/v1/files/file_200001").await.json()["filename"].is_string());
    let (_, counters) = admin(&h, Method::GET, "/__sim/counters", None).await;
    assert_eq!(counters["total"], json!(1));
    let (status, _) = admin(&h, Method::DELETE, "/__sim/counters", None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(h.counters.total(), 0);

    let (_, accounts) = admin(&h, Method::GET, "/__sim/accounts", None).await;
    assert_eq!(accounts.as_array().unwrap().len(), 10);
    assert_eq!(accounts[0]["email"], "anna.keller@example.com");
}

#[tokio::test]
async fn admin_can_set_a_rate_limit_and_clear_it() {
    let h = Harness::with(Sim::demo().with_admin(true));
    admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"rateLimitPerMinute": 1})),
    )
    .await;
    assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
    assert_eq!(
        h.get("/v1/customers").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"rateLimitPerMinute": null})),
    )
    .await;
    assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
}

#[tokio::test]
async fn admin_can_advance_the_clock() {
    let h = Harness::with(Sim::demo().with_admin(true));
    let url = h
        .post_json(
            "/v1/files/url",
            &json!({"fileId": "file_200001", "expiresInMinutes": 1}),
        )
        .await
        .json()["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned();
    admin(
        &h,
        Method::POST,
        "/__sim/faults",
        Some(json!({"clockOffsetSecs": 120})),
    )
    .await;
    assert_eq!(h.get_anonymous(&url).await.status, StatusCode::FORBIDDEN);
}
