//! A staff member's exports of a customer's documents, from the customer's screen: the
//! customer's scope exactly, under the staff member's name, and for staff alone.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use folio::base::server::upstream::DEMO_MANAGER_EMAIL;

use crate::common::{mails_to, signed_in, staff, TestApp};
use crate::exports::{
    archive_state, background_rig, checked_manifest, entries, files_of, finished, included, is_zip,
};

const DANA: &str = "dana.fischer@example.com"; // business: 44 orders, 836 files

#[tokio::test]
async fn staff_take_a_customers_documents_along_under_their_own_name() {
    let app = TestApp::new(&[]).await;
    let mut alex = staff(&app).await;
    let actor = format!("staff:{DEMO_MANAGER_EMAIL}");
    // The business's screen lists a handful of its orders and says how many there are.
    let screen = alex.get("/manage/customers/cust_0004").await.text();
    assert!(screen.contains("of 44 orders"), "{screen}");

    let zip = alex
        .get("/manage/customers/cust_0003/documents.zip?type=contract")
        .await;
    assert!(is_zip(&zip), "{}: {}", zip.status, zip.body);
    assert!(zip.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"cust_0003-contracts.zip\""));
    let contracts: BTreeSet<String> = files_of("cust_0003")
        .into_iter()
        .filter(|(_, t, _)| t == "contract")
        .map(|(id, _, _)| id)
        .collect();
    assert!(!contracts.is_empty());
    assert_eq!(included(&checked_manifest(&zip.bytes)), contracts);
    let events = app
        .state
        .store
        .audit_recent("archive_downloaded", 5)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].actor.as_deref(), Some(actor.as_str()));
    assert_eq!(events[0].customer_id.as_deref(), Some("cust_0003"));

    // Picked files: another customer's id is left out and listed as not included; the
    // archive holds the one document, the manifest and the checksums.
    let bens = files_of("cust_0002")[0].0.clone();
    let danas = files_of("cust_0004")[0].0.clone();
    let picked = alex
        .post(
            "/manage/customers/cust_0002/documents.zip",
            &format!("file={bens}&file={danas}"),
        )
        .await;
    assert!(is_zip(&picked), "{}: {}", picked.status, picked.body);
    let manifest = checked_manifest(&picked.bytes);
    assert_eq!(included(&manifest), BTreeSet::from([bens]));
    assert!(manifest
        .iter()
        .any(|(_, id, status)| *id == danas && status == "not_included"));
    assert_eq!(entries(&picked.bytes).len(), 3);

    // The list points at the staff file routes, which check the staff session again.
    let csv = alex
        .get("/manage/customers/cust_0004/documents.csv?type=invoice&year=2025")
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let danas: BTreeSet<String> = files_of("cust_0004").into_iter().map(|f| f.0).collect();
    let rows: Vec<Vec<&str>> = csv
        .body
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    assert!(!rows.is_empty());
    for row in &rows {
        assert!(danas.contains(row[1]), "{row:?}");
        assert!(
            row[7].contains(&format!(
                "/manage/customers/cust_0004/files/{}/download",
                row[1]
            )),
            "{row:?}"
        );
    }
    let file = rows[0][7].split_once("/manage/").unwrap().1;
    let opened = alex.get(&format!("/manage/{file}")).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "the address works");

    let payments = alex
        .get("/manage/customers/cust_0004/invoices.csv?year=2025")
        .await;
    assert_eq!(payments.status, StatusCode::OK);
    assert!(payments.headers["content-disposition"]
        .to_str()
        .unwrap()
        .contains("cust_0004-payments-2025.csv"));
    assert_eq!(payments.body.lines().count(), 13, "a header and 12 months");
    for kind in ["documents_exported", "payments_exported"] {
        let events = app.state.store.audit_recent(kind, 5).await.unwrap();
        assert_eq!(events.len(), 1, "{kind}");
        assert_eq!(events[0].actor.as_deref(), Some(actor.as_str()), "{kind}");
        assert_eq!(
            events[0].customer_id.as_deref(),
            Some("cust_0004"),
            "{kind}"
        );
    }
}

/// Anonymous visitors, customers, link sessions and cross-site forms are tried on every staff
/// route, these among them, by `links::staff_surface`. Here: a staff member naming a customer
/// the tenant does not have, or a forged id.
#[tokio::test]
async fn staff_exports_are_for_known_customers_only() {
    let app = TestApp::new(&[]).await;
    let mut alex = staff(&app).await;
    for customer in ["cust_9999", "..%2Fcust_0004", "cust_0004%00", "%20"] {
        for export in ["documents.zip", "documents.csv", "invoices.csv"] {
            let path = format!("/manage/customers/{customer}/{export}");
            assert_eq!(
                alex.get(&path).await.status,
                StatusCode::NOT_FOUND,
                "{path}"
            );
        }
    }
    let picked = alex
        .post("/manage/customers/cust_9999/documents.zip", "type=invoice")
        .await;
    assert_eq!(picked.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_staff_members_background_archive_is_theirs_alone() {
    let (app, order, expected) = background_rig().await;
    let mut alex = staff(&app).await;
    let mails = mails_to(&app, DEMO_MANAGER_EMAIL).await;
    let started = alex
        .post(
            "/manage/customers/cust_0004/documents.zip",
            &format!("type=invoice&order={order}"),
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let id = started
        .location()
        .strip_prefix("/manage/archives#archive-")
        .expect("to the staff member's archives")
        .to_owned();
    assert_eq!(finished(&mut alex, &id).await.as_deref(), Some("ready"));
    let page = alex.get("/manage/archives").await;
    assert_eq!(page.status, StatusCode::OK);
    // The customers' page is not theirs.
    assert_eq!(alex.get("/archives").await.status, StatusCode::NOT_FOUND);
    assert!(page
        .text()
        .contains(&format!("cust_0004-invoices-{order}.zip")));
    let zip = alex.get(&format!("/archives/{id}/download")).await;
    assert!(is_zip(&zip), "{}", zip.status);
    assert_eq!(included(&checked_manifest(&zip.bytes)), expected);
    assert_eq!(mails_to(&app, DEMO_MANAGER_EMAIL).await, mails + 1);
    let outbox = app.state.mailer.outbox().unwrap();
    let mail = outbox.iter().find(|m| m.to == DEMO_MANAGER_EMAIL).unwrap();
    assert!(
        mail.text
            .contains(&format!("/manage/archives#archive-{id}")),
        "the mail links to the staff member's archives: {}",
        mail.text
    );

    // The customer whose documents they are cannot see or take the staff member's archive,
    // and the staff list is not the customers' page.
    let mut dana = signed_in(&app, DANA).await;
    assert_eq!(archive_state(&mut dana, &id).await, None);
    assert_eq!(
        dana.get(&format!("/archives/{id}/download")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dana.post(&format!("/archives/{id}/delete"), "")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        dana.get("/manage/archives").await.status,
        StatusCode::NOT_FOUND
    );

    let deleted = alex.post(&format!("/archives/{id}/delete"), "").await;
    assert_eq!(deleted.location(), "/manage/archives");
    assert_eq!(archive_state(&mut alex, &id).await, None);
}
