//! Every response the sim gives for the endpoints Folio uses must match FlexPortal's OpenAPI
//! document, as kept in `tests/data/flexportal-openapi.json`.

mod common;

use axum::http::StatusCode;
use common::schema::Spec;
use common::Harness;
use serde_json::{json, Value};

/// Checks one response and returns its body.
async fn checked(h: &Harness, spec: &Spec, method: &str, spec_path: &str, uri: &str) -> Value {
    let r = if method == "get" {
        h.get(uri).await
    } else {
        unreachable!("use checked_post")
    };
    assert_valid(spec, method, spec_path, uri, r.status, &r.json());
    r.json()
}

fn assert_valid(
    spec: &Spec,
    method: &str,
    spec_path: &str,
    uri: &str,
    status: StatusCode,
    body: &Value,
) {
    let errors = spec.validate_response(method, spec_path, status.as_u16(), body);
    assert!(
        errors.is_empty(),
        "{method} {uri} ({status}) violates the spec:\n{}",
        errors.join("\n")
    );
}

#[tokio::test]
async fn customers_match_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    for uri in [
        "/v1/customers",
        "/v1/customers?limit=3",
        "/v1/customers?status=inactive",
        "/v1/customers?customerType=business",
        "/v1/customers?email=jo.berg@example.com",
        "/v1/customers?email=nobody@example.com",
    ] {
        checked(&h, &spec, "get", "/v1/customers", uri).await;
    }
    let all = checked(&h, &spec, "get", "/v1/customers", "/v1/customers?limit=100").await;
    for c in all["customers"].as_array().unwrap() {
        let id = c["customerId"].as_str().unwrap();
        checked(
            &h,
            &spec,
            "get",
            "/v1/customers/{customerId}",
            &format!("/v1/customers/{id}"),
        )
        .await;
    }
    checked(
        &h,
        &spec,
        "get",
        "/v1/customers/{customerId}",
        "/v1/customers/cust_missing",
    )
    .await;
}

#[tokio::test]
async fn orders_match_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    let mut cursor = String::new();
    let mut seen = 0;
    loop {
        let body = checked(
            &h,
            &spec,
            "get",
            "/v1/orders",
            &format!("/v1/orders?limit=25{cursor}"),
        )
        .await;
        for o in body["orders"].as_array().unwrap() {
            seen += 1;
            let id = o["orderId"].as_str().unwrap();
            checked(
                &h,
                &spec,
                "get",
                "/v1/orders/{orderId}",
                &format!("/v1/orders/{id}"),
            )
            .await;
        }
        match body["nextCursor"].as_str() {
            Some(c) => cursor = format!("&startAfter={c}"),
            None => break,
        }
    }
    assert!(seen > 50);
    checked(
        &h,
        &spec,
        "get",
        "/v1/orders",
        "/v1/orders?customerId=cust_0003&status=fulfilled",
    )
    .await;
    checked(
        &h,
        &spec,
        "get",
        "/v1/orders/{orderId}",
        "/v1/orders/ord_missing",
    )
    .await;
}

#[tokio::test]
async fn subscriptions_and_payments_match_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    let (rentals, _) = h.collect_pages("/v1/subscriptions", "rentals", 100).await;
    assert!(rentals.len() > 100);
    let mut cursor = String::new();
    loop {
        let body = checked(
            &h,
            &spec,
            "get",
            "/v1/subscriptions",
            &format!("/v1/subscriptions?limit=100{cursor}"),
        )
        .await;
        match body["nextCursor"].as_str() {
            Some(c) => cursor = format!("&startAfter={c}"),
            None => break,
        }
    }
    let mut cursor = String::new();
    loop {
        let body = checked(
            &h,
            &spec,
            "get",
            "/v1/payments",
            &format!("/v1/payments?limit=100{cursor}"),
        )
        .await;
        match body["nextCursor"].as_str() {
            Some(c) => cursor = format!("&startAfter={c}"),
            None => break,
        }
    }
    checked(
        &h,
        &spec,
        "get",
        "/v1/subscriptions",
        "/v1/subscriptions?customerId=cust_0003&status=active",
    )
    .await;
    checked(
        &h,
        &spec,
        "get",
        "/v1/payments",
        "/v1/payments?customerId=cust_0004&status=paid",
    )
    .await;
}

#[tokio::test]
async fn every_file_matches_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    let orders = h.collect_pages("/v1/orders", "orders", 100).await.0;
    let mut files = 0;
    for o in &orders {
        let id = o["orderId"].as_str().unwrap();
        let mut offset = 0;
        loop {
            let body = checked(
                &h,
                &spec,
                "get",
                "/v1/files",
                &format!("/v1/files?orderId={id}&limit=100&offset={offset}"),
            )
            .await;
            let page = body["files"].as_array().unwrap();
            for f in page {
                files += 1;
                let fid = f["fileId"].as_str().unwrap();
                checked(
                    &h,
                    &spec,
                    "get",
                    "/v1/files/{fileId}",
                    &format!("/v1/files/{fid}"),
                )
                .await;
            }
            if page.len() < 100 {
                break;
            }
            offset += 100;
        }
    }
    assert!(files > 800);
    checked(&h, &spec, "get", "/v1/files", "/v1/files").await;
    checked(
        &h,
        &spec,
        "get",
        "/v1/files",
        "/v1/files?type=invoice&limit=5",
    )
    .await;
    checked(
        &h,
        &spec,
        "get",
        "/v1/files/{fileId}",
        "/v1/files/file_missing",
    )
    .await;
}

#[tokio::test]
async fn signed_url_responses_match_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    for body in [
        json!({"fileId": "file_200001"}),
        json!({"fileId": "file_200001", "action": "download", "expiresInMinutes": 5}),
        json!({"fileId": "file_200002", "action": "view", "expiresInMinutes": 1440}),
    ] {
        let r = h.post_json("/v1/files/url", &body).await;
        assert_eq!(r.status, StatusCode::OK);
        assert_valid(
            &spec,
            "post",
            "/v1/files/url",
            "/v1/files/url",
            r.status,
            &r.json(),
        );
    }
    let r = h
        .post_json("/v1/files/url", &json!({"fileId": "file_missing"}))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_valid(
        &spec,
        "post",
        "/v1/files/url",
        "/v1/files/url",
        r.status,
        &r.json(),
    );
}

#[tokio::test]
async fn error_bodies_match_the_error_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    let bad = [
        h.get("/v1/customers?limit=abc").await,
        h.get("/v1/orders?startAfter=ord_nope").await,
        h.post_json(
            "/v1/files/url",
            &json!({"fileId": "file_200001", "expiresInMinutes": 0}),
        )
        .await,
        h.get_anonymous("/v1/customers").await,
    ];
    for r in bad {
        assert!(r.status.is_client_error());
        let errors = spec.validate(spec.error(), &r.json(), true);
        assert!(errors.is_empty(), "{errors:?}");
    }
    h.faults.fail_next_with_500(1);
    let r = h.get("/v1/customers").await;
    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(spec.validate(spec.error(), &r.json(), true).is_empty());
}

/// The validator must be able to say no, or the tests above prove nothing.
#[tokio::test]
async fn validator_rejects_broken_bodies() {
    let (h, spec) = (Harness::new(), Spec::load());
    let good = h.get("/v1/customers/cust_0002").await.json();
    let schema = spec
        .response("get", "/v1/customers/{customerId}", 200)
        .unwrap();
    assert!(spec.validate(schema, &good, true).is_empty());

    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("email");
    assert!(spec
        .validate(schema, &missing, true)
        .iter()
        .any(|e| e.contains("email")));

    let mut wrong_enum = good.clone();
    wrong_enum["status"] = json!("suspended");
    assert!(!spec.validate(schema, &wrong_enum, true).is_empty());

    let mut wrong_type = good.clone();
    wrong_type["orderIds"] = json!("ord_1");
    assert!(!spec.validate(schema, &wrong_type, true).is_empty());

    let mut extra = good.clone();
    extra["profitability"] = json!({});
    assert!(spec
        .validate(schema, &extra, true)
        .iter()
        .any(|e| e.contains("undeclared")));
    assert!(spec.validate(schema, &extra, false).is_empty());

    let payments = spec.response("get", "/v1/payments", 200).unwrap();
    let mut p = h.get("/v1/payments?limit=1").await.json();
    assert!(spec.validate(payments, &p, true).is_empty());
    p["payments"][0]["billingPeriod"] = json!("2025-1");
    assert!(spec
        .validate(payments, &p, true)
        .iter()
        .any(|e| e.contains("billingPeriod")));
    p["payments"][0]["billingPeriod"] = json!("2025-01");
    p["payments"][0]["currency"] = json!("EURO");
    assert!(!spec.validate(payments, &p, true).is_empty());

    let url = spec.response("post", "/v1/files/url", 200).unwrap();
    assert!(!spec.validate(url, &json!({"success": false, "url": "x", "filename": "", "contentType": "a", "fileSize": -1, "expiresAt": 1}), true).is_empty());
}

/// Prose mode is meant to break the schema: that is the point of the fault.
#[tokio::test]
async fn prose_mode_deviates_from_the_schema() {
    let (h, spec) = (Harness::new(), Spec::load());
    h.faults.set_prose_mode(true);
    let files = h.get("/v1/files?limit=3").await.json();
    let errors = spec.validate_response("get", "/v1/files", 200, &files);
    assert!(errors.iter().any(|e| e.contains("filename")), "{errors:?}");
    let subs = h.get("/v1/subscriptions?limit=3").await.json();
    assert!(!spec
        .validate_response("get", "/v1/subscriptions", 200, &subs)
        .is_empty());
}
