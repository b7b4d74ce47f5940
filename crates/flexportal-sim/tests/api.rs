//! The documented endpoints: shapes, filters, pagination, header checks and validation errors.

mod common;

use std::collections::HashSet;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::Harness;
use serde_json::{json, Value};

fn ids(items: &[Value], key: &str) -> Vec<String> {
    items
        .iter()
        .map(|i| i[key].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn missing_authorization_is_auth_required() {
    let h = Harness::new();
    let req = Request::builder()
        .uri("/v1/customers")
        .header("tenant-id", &h.tenant_id)
        .body(Body::empty())
        .unwrap();
    let r = h.send(req).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error_code(), "AUTH_REQUIRED");
    assert!(!r.json()["error"]["message"].as_str().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_key_is_invalid_token() {
    let h = Harness::new();
    for auth in ["Bearer not-the-key", "Basic Zm9vOmJhcg==", "Bearer", ""] {
        let req = Request::builder()
            .uri("/v1/orders")
            .header("authorization", auth)
            .header("tenant-id", &h.tenant_id)
            .body(Body::empty())
            .unwrap();
        let r = h.send(req).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(r.error_code(), "INVALID_TOKEN", "{auth:?}");
    }
}

#[tokio::test]
async fn missing_or_wrong_tenant_is_no_tenant_access() {
    let h = Harness::new();
    let auth = format!("Bearer {}", h.api_key);
    for tenant in [None, Some("bu_someone_else"), Some("")] {
        let mut req = Request::builder()
            .uri("/v1/files/file_200001")
            .header("authorization", &auth);
        if let Some(t) = tenant {
            req = req.header("tenant-id", t);
        }
        let r = h.send(req.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{tenant:?}");
        assert_eq!(r.error_code(), "NO_TENANT_ACCESS");
    }
}

#[tokio::test]
async fn a_custom_api_key_replaces_the_demo_key() {
    let h = Harness::with(flexportal_sim::Sim::demo().with_api_key("k_custom"));
    assert_eq!(h.get("/v1/customers").await.status, StatusCode::OK);
    let req = Request::builder()
        .uri("/v1/customers")
        .header(
            "authorization",
            format!("Bearer {}", flexportal_sim::DEMO_API_KEY),
        )
        .header("tenant-id", &h.tenant_id)
        .body(Body::empty())
        .unwrap();
    assert_eq!(h.send(req).await.error_code(), "INVALID_TOKEN");
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let h = Harness::new();
    for uri in [
        "/v1/customers/cust_9999",
        "/v1/orders/ord_0",
        "/v1/files/file_0",
        "/v1/subscriptions/sub_0",
        "/v1/payments/pay_0",
        "/v1/nothing-here",
    ] {
        let r = h.get(uri).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(r.error_code(), "NOT_FOUND", "{uri}");
    }
}

#[tokio::test]
async fn malformed_limits_and_cursors_are_validation_errors() {
    let h = Harness::new();
    for uri in [
        "/v1/customers?limit=abc",
        "/v1/customers?limit=0",
        "/v1/customers?limit=101",
        "/v1/orders?limit=-5",
        "/v1/orders?limit=1e2",
        "/v1/orders?limit=+10",
        "/v1/orders?limit=",
        "/v1/subscriptions?limit=10.0",
        "/v1/payments?limit=%2010",
        "/v1/files?limit=500",
        "/v1/files?offset=x",
        "/v1/orders?startAfter=ord_unknown",
        "/v1/customers?status=deleted",
        "/v1/orders?status=shipped",
    ] {
        let r = h.get(uri).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(r.error_code(), "VALIDATION_ERROR", "{uri}");
    }
    assert_eq!(h.get("/v1/orders?limit=100").await.status, StatusCode::OK);
    assert_eq!(
        h.get("/v1/orders?limit=007").await.json()["limit"],
        json!(7)
    );
}

#[tokio::test]
async fn customers_default_page_and_filters() {
    let h = Harness::new();
    let all = h.get("/v1/customers").await.json();
    assert_eq!(all["limit"], json!(50));
    assert_eq!(all["hasMore"], json!(false));
    assert!(all["nextCursor"].is_null());
    assert_eq!(all["count"], json!(10));

    let inactive = h.get("/v1/customers?status=inactive").await.json();
    assert_eq!(
        ids(inactive["customers"].as_array().unwrap(), "email"),
        ["greta.holm@example.com"]
    );
    let business = h.get("/v1/customers?customerType=business").await.json();
    assert_eq!(business["count"], json!(2));
    assert!(business["customers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["customerType"] == "business"));
}

#[tokio::test]
async fn email_filter_is_an_exact_match() {
    let h = Harness::new();
    let lower = h
        .get("/v1/customers?email=jo.berg@example.com")
        .await
        .json();
    assert_eq!(
        ids(lower["customers"].as_array().unwrap(), "customerId"),
        ["cust_0009"]
    );
    let mixed = h
        .get("/v1/customers?email=Jo.Berg%40example.com")
        .await
        .json();
    assert_eq!(
        ids(mixed["customers"].as_array().unwrap(), "customerId"),
        ["cust_0008"]
    );
    let upper = h
        .get("/v1/customers?email=JO.BERG@EXAMPLE.COM")
        .await
        .json();
    assert_eq!(upper["count"], json!(0));
    assert_eq!(upper["customers"], json!([]));
}

#[tokio::test]
async fn customer_detail_is_a_bare_object_with_internal_fields() {
    let h = Harness::new();
    let c = h.get("/v1/customers/cust_0003").await.json();
    assert_eq!(c["customerId"], "cust_0003");
    assert_eq!(c["email"], "clara.jensen@example.org");
    assert!(c.get("customer").is_none() && c.get("success").is_none());
    for internal in [
        "totalAcquisitionCost",
        "customerMargin",
        "lifetimeCollected",
    ] {
        assert!(c[internal].is_number(), "{internal}");
    }
    assert!(!c["orderIds"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn orders_filter_by_customer_and_status() {
    let h = Harness::new();
    let clara = h.get("/v1/orders?customerId=cust_0003").await.json();
    let orders = clara["orders"].as_array().unwrap();
    assert!(orders.len() >= 3);
    assert!(orders
        .iter()
        .all(|o| o["customer"]["customerId"] == "cust_0003"));
    let created: Vec<&str> = orders
        .iter()
        .map(|o| o["createdAt"].as_str().unwrap())
        .collect();
    let mut sorted = created.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(created, sorted, "newest first");

    let cancelled = h.get("/v1/orders?status=cancelled").await.json();
    assert!(cancelled["orders"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["status"] == "cancelled"));
    assert!(cancelled["count"].as_u64().unwrap() > 0);

    let o = h.get("/v1/orders/ord_10001").await.json();
    assert_eq!(o["orderId"], "ord_10001");
    assert_eq!(o["totals"]["currency"], "EUR");
    let item = &o["items"][0];
    for field in [
        "productName",
        "sku",
        "quantity",
        "unitPrice",
        "contractLength",
    ] {
        assert!(!item[field].is_null(), "{field}");
    }
}

#[tokio::test]
async fn pagination_walks_past_one_hundred_without_gaps() {
    let h = Harness::new();
    let (orders, pages) = h
        .collect_pages("/v1/orders?customerId=cust_0004", "orders", 10)
        .await;
    assert!(orders.len() >= 40);
    assert!(pages >= 5);
    let unique: HashSet<String> = ids(&orders, "orderId").into_iter().collect();
    assert_eq!(unique.len(), orders.len(), "no duplicates across pages");

    let (all_orders, pages) = h.collect_pages("/v1/orders", "orders", 50).await;
    assert!(all_orders.len() > 50 && pages >= 2);
    let (rentals, pages) = h.collect_pages("/v1/subscriptions", "rentals", 100).await;
    assert!(
        rentals.len() > 100 && pages >= 2,
        "{} rentals",
        rentals.len()
    );
    let (payments, pages) = h
        .collect_pages("/v1/payments?customerId=cust_0003", "payments", 100)
        .await;
    assert!(payments.len() > 50);
    assert!(pages >= 1);
    assert!(payments.iter().all(|p| p["customerId"] == "cust_0003"));

    let first = h.get("/v1/orders?limit=2").await.json();
    assert_eq!(first["hasMore"], json!(true));
    assert_eq!(
        first["nextCursor"], first["orders"][1]["orderId"],
        "the cursor is the last item's id"
    );
    let second = h
        .get(&format!(
            "/v1/orders?limit=2&startAfter={}",
            first["nextCursor"].as_str().unwrap()
        ))
        .await
        .json();
    assert_ne!(
        second["orders"][0]["orderId"],
        first["orders"][1]["orderId"]
    );
}

#[tokio::test]
async fn subscriptions_use_the_rentals_key_and_filters() {
    let h = Harness::new();
    let r = h.get("/v1/subscriptions?customerId=cust_0003").await.json();
    assert!(r.get("subscriptions").is_none());
    let rentals = r["rentals"].as_array().unwrap();
    assert!(!rentals.is_empty());
    assert!(rentals
        .iter()
        .all(|x| x["customerId"] == "cust_0003" && x["rentalId"].is_string()));
    let order_id = rentals[0]["orderId"].as_str().unwrap();
    let by_order = h
        .get(&format!("/v1/subscriptions?orderId={order_id}"))
        .await
        .json();
    assert!(by_order["rentals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["orderId"] == order_id));
    let active = h
        .get("/v1/subscriptions?status=active&limit=100")
        .await
        .json();
    assert!(active["rentals"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["status"] == "active"));
    let one = h
        .get(&format!(
            "/v1/subscriptions/{}",
            rentals[0]["rentalId"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(one["rentalId"], rentals[0]["rentalId"]);
}

#[tokio::test]
async fn payments_have_the_success_envelope_without_limit() {
    let h = Harness::new();
    let p = h
        .get("/v1/payments?customerId=cust_0002&limit=5")
        .await
        .json();
    assert_eq!(p["success"], json!(true));
    assert!(p.get("limit").is_none());
    assert_eq!(p["count"], json!(5));
    let first = &p["payments"][0];
    assert!(first["billingPeriod"].as_str().unwrap().len() == 7);
    assert_eq!(first["currency"], "EUR");
    let pending = h.get("/v1/payments?status=pending").await.json();
    assert!(pending["payments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["status"] == "pending"));
    let one = h
        .get(&format!(
            "/v1/payments/{}",
            first["paymentId"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(one["success"], json!(true));
    assert_eq!(one["payment"]["paymentId"], first["paymentId"]);
}

#[tokio::test]
async fn files_list_honours_order_type_limit_and_offset() {
    let h = Harness::new();
    let r = h.get("/v1/files?orderId=ord_10001").await.json();
    assert_eq!(r["limit"], json!(50));
    assert_eq!(r["offset"], json!(0));
    assert_eq!(r["filters"], json!({"orderId": "ord_10001"}));
    assert!(r.get("hasMore").is_none() && r.get("nextCursor").is_none());
    let files = r["files"].as_array().unwrap();
    assert!(!files.is_empty());
    assert!(files
        .iter()
        .all(|f| f["orderId"] == "ord_10001" && f["tenantId"] == h.tenant_id.as_str()));

    let invoices = h.get("/v1/files?type=invoice&limit=100").await.json();
    assert_eq!(invoices["count"], json!(100));
    assert!(invoices["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["type"] == "invoice"));
    assert_eq!(invoices["filters"], json!({"type": "invoice"}));

    let p1 = h.get("/v1/files?limit=100").await.json();
    let p2 = h.get("/v1/files?limit=100&offset=100").await.json();
    assert_eq!(p2["offset"], json!(100));
    let a: HashSet<String> = ids(p1["files"].as_array().unwrap(), "fileId")
        .into_iter()
        .collect();
    let b: HashSet<String> = ids(p2["files"].as_array().unwrap(), "fileId")
        .into_iter()
        .collect();
    assert!(a.is_disjoint(&b));
    let past_end = h.get("/v1/files?limit=100&offset=100000").await.json();
    assert_eq!(past_end["count"], json!(0));
}

#[tokio::test]
async fn files_list_ignores_the_undeclared_customer_filter() {
    let h = Harness::new();
    let unfiltered = h.get("/v1/files?limit=100").await.json();
    let by_customer = h
        .get("/v1/files?customerId=cust_0002&limit=100")
        .await
        .json();
    assert_eq!(
        unfiltered["files"], by_customer["files"],
        "customerId changes nothing by default"
    );
    let foreign = by_customer["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["orderId"] != "ord_10001")
        .count();
    assert!(foreign > 0, "other customers' files come back");
}

#[tokio::test]
async fn a_large_order_needs_offset_paging() {
    let h = Harness::new();
    let sim = flexportal_sim::Sim::demo();
    let (order, count) = sim
        .tenant()
        .orders
        .iter()
        .map(|o| {
            (
                o.order_id.clone(),
                sim.tenant()
                    .files
                    .iter()
                    .filter(|f| f.order_id == o.order_id)
                    .count(),
            )
        })
        .max_by_key(|(_, n)| *n)
        .unwrap();
    assert!(count > 100, "the biggest order has {count} files");
    let p1 = h
        .get(&format!("/v1/files?orderId={order}&limit=100"))
        .await
        .json();
    assert_eq!(p1["count"], json!(100));
    let p2 = h
        .get(&format!("/v1/files?orderId={order}&limit=100&offset=100"))
        .await
        .json();
    assert_eq!(p2["count"].as_u64().unwrap() as usize, count - 100);
}

#[tokio::test]
async fn file_detail_is_metadata_only() {
    let h = Harness::new();
    let f = h.get("/v1/files/file_200001").await.json();
    assert_eq!(f["fileId"], "file_200001");
    assert!(f["storagePath"].as_str().unwrap().contains("file_200001"));
    assert!(f["fileSize"].as_u64().unwrap() > 0);
    assert!(f.get("url").is_none() && f.get("content").is_none());
}

#[tokio::test]
async fn signed_url_requests_are_validated() {
    let h = Harness::new();
    let cases = [
        json!({}),
        json!({"fileId": ""}),
        json!({"fileId": 42}),
        json!({"fileId": "file_200001", "action": "upload"}),
        json!({"fileId": "file_200001", "expiresInMinutes": 0}),
        json!({"fileId": "file_200001", "expiresInMinutes": 1441}),
        json!({"fileId": "file_200001", "expiresInMinutes": "5"}),
        json!(["file_200001"]),
    ];
    for body in cases {
        let r = h.post_json("/v1/files/url", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(r.error_code(), "VALIDATION_ERROR", "{body}");
    }
    let req = h
        .request(Method::POST, "/v1/files/url")
        .body(Body::from("not json"))
        .unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::BAD_REQUEST);
    let r = h
        .post_json(
            "/v1/files/url",
            &json!({"fileId": "file_nope", "action": "download"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.error_code(), "NOT_FOUND");
}

#[tokio::test]
async fn signed_url_response_describes_the_file() {
    let h = Harness::new();
    let meta = h.get("/v1/files/file_200001").await.json();
    let before = flexportal_sim_now();
    let r = h
        .post_json(
            "/v1/files/url",
            &json!({"fileId": "file_200001", "action": "download", "expiresInMinutes": 5}),
        )
        .await
        .json();
    assert_eq!(r["success"], json!(true));
    assert_eq!(r["filename"], meta["filename"]);
    assert_eq!(r["contentType"], meta["contentType"]);
    assert_eq!(r["fileSize"], meta["fileSize"]);
    let expires = r["expiresAt"].as_i64().unwrap();
    assert!(
        (before + 299..=before + 302).contains(&expires),
        "epoch seconds five minutes ahead"
    );
    let url = r["url"].as_str().unwrap();
    assert!(
        url.starts_with("http://sim.test/storage/file_200001?"),
        "{url}"
    );
    assert!(url.contains("action=download") && url.contains("sig="));

    let default = h
        .post_json("/v1/files/url", &json!({"fileId": "file_200001"}))
        .await
        .json();
    assert!(default["url"].as_str().unwrap().contains("action=view"));
    assert!((before + 3599..=before + 3602).contains(&default["expiresAt"].as_i64().unwrap()));
}

fn flexportal_sim_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn admin_endpoints_are_absent_unless_enabled() {
    let h = Harness::new();
    assert_eq!(
        h.get_anonymous("/__sim/faults").await.status,
        StatusCode::NOT_FOUND
    );
    let h = Harness::with(flexportal_sim::Sim::demo().with_admin(true));
    assert_eq!(
        h.get_anonymous("/__sim/faults").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn running_sim_serves_over_loopback() {
    let sim = flexportal_sim::Sim::demo()
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    assert!(sim.base_url.starts_with("http://127.0.0.1:"));
    let r = common::api_get(&sim, "/v1/customers?email=ben.okafor@example.com").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["customers"][0]["customerId"], "cust_0002");
    assert_eq!(sim.counters.get("GET /v1/customers"), 1);
    assert_eq!(sim.accounts.len(), 10);
    let addr = sim.addr;
    sim.shutdown().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "the port is closed after shutdown"
    );
}
