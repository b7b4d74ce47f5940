//! The signed links behind `POST /v1/files/url`: bytes, headers, and refusal when tampered
//! with or expired.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use common::Harness;
use serde_json::json;

/// The path and query of a freshly signed link.
async fn signed(h: &Harness, file_id: &str, action: &str) -> String {
    let r = h
        .post_json(
            "/v1/files/url",
            &json!({"fileId": file_id, "action": action, "expiresInMinutes": 5}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    r.json()["url"]
        .as_str()
        .unwrap()
        .trim_start_matches("http://sim.test")
        .to_owned()
}

fn first_file_of_type(sim: &flexportal_sim::Sim, file_type: &str, content_type: &str) -> String {
    sim.tenant()
        .files
        .iter()
        .find(|f| f.file_type == file_type && f.content_type == content_type)
        .map(|f| f.file_id.clone())
        .unwrap_or_else(|| panic!("no {file_type} {content_type}"))
}

#[tokio::test]
async fn download_serves_the_pdf_as_attachment() {
    let sim = flexportal_sim::Sim::demo();
    let invoice = first_file_of_type(&sim, "invoice", "application/pdf");
    let h = Harness::with(sim);
    let meta = h.get(&format!("/v1/files/{invoice}")).await.json();
    let r = h
        .get_anonymous(&signed(&h, &invoice, "download").await)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/pdf"));
    let filename = meta["filename"].as_str().unwrap();
    assert_eq!(
        r.header("content-disposition"),
        Some(format!("attachment; filename=\"{filename}\"").as_str())
    );
    assert!(r.body.starts_with(b"%PDF-"));
    assert_eq!(
        r.body.len() as u64,
        meta["fileSize"].as_u64().unwrap(),
        "fileSize is the real byte length"
    );
    let text = String::from_utf8_lossy(&r.body);
    assert!(text.contains("Invoice number: INV-"));
    assert!(text.contains("Billing period: 20"));
    assert!(text.contains("Amount due: EUR "));
}

#[tokio::test]
async fn view_serves_inline_and_contracts_list_the_items() {
    let sim = flexportal_sim::Sim::demo();
    let contract = first_file_of_type(&sim, "contract", "application/pdf");
    let order_id = sim.tenant().file(&contract).unwrap().order_id.clone();
    let product = sim
        .tenant()
        .orders
        .iter()
        .find(|o| o.order_id == order_id)
        .unwrap()
        .items[0]
        .product_name
        .clone();
    let h = Harness::with(sim);
    let r = h.get_anonymous(&signed(&h, &contract, "view").await).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("inline; filename=\"contract-"));
    let text = String::from_utf8_lossy(&r.body);
    assert!(text.contains(&format!("Order: {order_id}")));
    assert!(text.contains(&product));
}

#[tokio::test]
async fn images_are_served_with_their_type() {
    let sim = flexportal_sim::Sim::demo();
    let png = first_file_of_type(&sim, "attachment", "image/png");
    let jpeg = first_file_of_type(&sim, "attachment", "image/jpeg");
    let h = Harness::with(sim);
    let r = h.get_anonymous(&signed(&h, &png, "view").await).await;
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(r.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let r = h.get_anonymous(&signed(&h, &jpeg, "download").await).await;
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert!(r.body.starts_with(&[0xFF, 0xD8]) && r.body.ends_with(&[0xFF, 0xD9]));
}

#[tokio::test]
async fn tampered_links_are_refused() {
    let h = Harness::new();
    let good = signed(&h, "file_200001", "view").await;
    assert_eq!(h.get_anonymous(&good).await.status, StatusCode::OK);

    let (path, query) = good.split_once('?').unwrap();
    let sig = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("sig="))
        .unwrap();
    let flipped_sig = format!(
        "{}{}",
        &sig[..sig.len() - 1],
        if sig.ends_with('0') { '1' } else { '0' }
    );
    let expires = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("expires="))
        .unwrap();
    let later: i64 = expires.parse::<i64>().unwrap() + 3600;
    let tampered = [
        good.replace(sig, &flipped_sig),
        good.replace("file_200001", "file_200002"),
        good.replace("action=view", "action=download"),
        good.replace(&format!("expires={expires}"), &format!("expires={later}")),
        good.replace(&format!("&sig={sig}"), ""),
        format!("{path}?action=view&expires={expires}&sig=zz"),
        path.to_owned(),
    ];
    for uri in tampered {
        let r = h.get_anonymous(&uri).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{uri}");
        assert!(!r.body.starts_with(b"%PDF"));
    }
}

#[tokio::test]
async fn expired_links_are_refused() {
    let h = Harness::new();
    let link = signed(&h, "file_200001", "download").await;
    h.faults.advance_clock(Duration::from_secs(4 * 60));
    assert_eq!(
        h.get_anonymous(&link).await.status,
        StatusCode::OK,
        "still valid after four minutes"
    );
    h.faults.advance_clock(Duration::from_secs(2 * 60));
    let r = h.get_anonymous(&link).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error_code(), "ACCESS_DENIED");
}

#[tokio::test]
async fn links_from_another_instance_are_worthless() {
    let a = Harness::new();
    let b = Harness::new();
    let link = signed(&a, "file_200001", "view").await;
    assert_eq!(b.get_anonymous(&link).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn signed_links_need_no_api_key_over_a_real_socket() {
    let sim = flexportal_sim::Sim::demo()
        .spawn("127.0.0.1:0")
        .await
        .unwrap();
    let auth = format!("Bearer {}", sim.api_key);
    let r = common::http(
        sim.addr,
        "POST",
        "/v1/files/url",
        &[
            ("Authorization", &auth),
            ("Tenant-ID", &sim.tenant_id),
            ("Content-Type", "application/json"),
        ],
        r#"{"fileId":"file_200001","action":"download","expiresInMinutes":1}"#,
    )
    .await;
    let url = r.json()["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/storage/", sim.base_url)),
        "{url}"
    );
    let path = url.trim_start_matches(&sim.base_url).to_owned();
    let r = common::http(sim.addr, "GET", &path, &[], "").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.starts_with(b"%PDF"));
    assert_eq!(sim.counters.get("POST /v1/files/url"), 1);
    assert_eq!(
        sim.counters.total(),
        1,
        "storage downloads are not API calls"
    );
}

#[tokio::test]
async fn public_base_url_overrides_the_host() {
    let h = Harness::with(
        flexportal_sim::Sim::demo().with_public_base_url("https://files.example.org/"),
    );
    let r = h
        .post_json("/v1/files/url", &json!({"fileId": "file_200001"}))
        .await
        .json();
    assert!(r["url"]
        .as_str()
        .unwrap()
        .starts_with("https://files.example.org/storage/file_200001?"));
}
