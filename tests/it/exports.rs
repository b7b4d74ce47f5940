//! Many documents at once: the ZIP (streamed, or made in the background) and the CSV lists,
//! through the whole router, tried the way an attacker would as well: forged and foreign
//! ids, other people's archives, cross-site forms, oversized selections.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use sha2::{Digest, Sha256};

use crate::common::{demo_files, mails_to, signed_in, Answer, Browser, TestApp};

const BEN: &str = "ben.okafor@example.com"; // one order
const CLARA: &str = "clara.jensen@example.org"; // several orders over three years
const DANA: &str = "dana.fischer@example.com"; // business: 44 orders, 836 files

/// The files the stand-in holds for a customer: (file id, type, order id).
pub fn files_of(customer_id: &str) -> Vec<(String, String, String)> {
    demo_files(customer_id)
        .into_iter()
        .map(|f| (f.id, f.file_type, f.order_id))
        .collect()
}

/// The entries of a ZIP archive, (name, bytes), read through its central directory.
pub fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |at: usize| u16::from_le_bytes([zip[at], zip[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(zip[at..at + 4].try_into().unwrap()) as usize;
    let end = zip.len() - 22;
    assert_eq!(
        u32_at(end),
        0x0605_4b50,
        "an end of central directory record"
    );
    let (count, mut at) = (u16_at(end + 10), u32_at(end + 16));
    let mut out = Vec::new();
    for _ in 0..count {
        assert_eq!(u32_at(at), 0x0201_4b50, "a central directory entry");
        let flags = u16_at(at + 8);
        assert_eq!(u16_at(at + 10), 0, "stored, not compressed");
        let size = u32_at(at + 20);
        let (name_len, extra, comment) = (u16_at(at + 28), u16_at(at + 30), u16_at(at + 32));
        let local = u32_at(at + 42);
        let name = String::from_utf8(zip[at + 46..at + 46 + name_len].to_vec()).unwrap();
        assert!(flags & 0x0800 != 0, "names are flagged UTF-8: {name}");
        let data = local + 30 + u16_at(local + 26) + u16_at(local + 28);
        out.push((name, zip[data..data + size].to_vec()));
        at += 46 + name_len + extra + comment;
    }
    out
}

/// The archive's manifest as (name, document id, status) rows, after checking that its
/// checksums hold for every entry.
pub fn checked_manifest(zip: &[u8]) -> Vec<(String, String, String)> {
    let all = entries(zip);
    let text = |name: &str| {
        let (_, bytes) = all.iter().find(|(n, _)| n == name).expect(name);
        String::from_utf8(bytes.clone()).unwrap()
    };
    let sums = text("SHA256SUMS");
    for (name, bytes) in all.iter().filter(|(n, _)| n != "SHA256SUMS") {
        let line = format!("{}  {name}", hex(&Sha256::digest(bytes)));
        assert!(sums.lines().any(|l| l == line), "{line} in SHA256SUMS");
    }
    let manifest = text("manifest.csv");
    let mut lines = manifest.trim_start_matches('\u{feff}').lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("name,document_id,type,order,date,size,sha256,status"));
    lines
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let status = cells.last().unwrap().to_string();
            (
                cells[0].trim_matches('"').to_owned(),
                cells[1].to_owned(),
                status,
            )
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn included(manifest: &[(String, String, String)]) -> BTreeSet<String> {
    manifest
        .iter()
        .filter(|(_, _, status)| status == "included")
        .map(|(_, id, _)| id.clone())
        .collect()
}

pub fn is_zip(answer: &Answer) -> bool {
    answer.status == StatusCode::OK && answer.headers["content-type"] == "application/zip"
}

#[tokio::test]
async fn a_zip_holds_the_customers_documents_with_a_manifest_and_checksums() {
    let app = TestApp::new(&[]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let zip = clara.get("/documents.zip?type=contract").await;
    assert!(is_zip(&zip), "{}: {}", zip.status, zip.body);
    assert_eq!(
        zip.headers["content-disposition"],
        "attachment; filename=\"contracts.zip\"; filename*=UTF-8''contracts.zip"
    );
    let manifest = checked_manifest(&zip.bytes);
    let expected: BTreeSet<String> = files_of("cust_0003")
        .into_iter()
        .filter(|(_, t, _)| t == "contract")
        .map(|(id, _, _)| id)
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(included(&manifest), expected);
    // Entries are in folders per order, and each file in the archive is the one FlexPortal has.
    let names: BTreeSet<String> = entries(&zip.bytes).into_iter().map(|(n, _)| n).collect();
    for (name, _, _) in &manifest {
        assert!(names.contains(name), "{name}");
        assert!(name.starts_with("ord_") && name.ends_with(".pdf"), "{name}");
    }
    for (_, bytes) in entries(&zip.bytes)
        .iter()
        .filter(|(n, _)| n.ends_with(".pdf"))
    {
        assert!(bytes.starts_with(b"%PDF-"));
    }
    // Audited once, with the files it holds.
    let events = app
        .state
        .store
        .audit_recent("archive_downloaded", 10)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(expected
        .iter()
        .all(|id| events[0].subject.as_deref().unwrap().contains(id.as_str())));
}

#[tokio::test]
async fn forged_and_foreign_ids_are_left_out_and_listed() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let own = files_of("cust_0002")[0].0.clone();
    let danas = files_of("cust_0004")[0].0.clone();
    let body = format!("file={own}&file={danas}&file=..%2F..%2Fetc%2Fpasswd&file={own}");
    let zip = ben.post("/documents.zip", &body).await;
    assert!(is_zip(&zip), "{}: {}", zip.status, zip.body);
    let manifest = checked_manifest(&zip.bytes);
    assert_eq!(included(&manifest), BTreeSet::from([own.clone()]));
    let not_included: BTreeSet<&str> = manifest
        .iter()
        .filter(|(_, _, s)| s == "not_included")
        .map(|(_, id, _)| id.as_str())
        .collect();
    assert!(not_included.contains(danas.as_str()));
    // Nothing of the other customer's file is in it: one document, the manifest, the sums.
    assert_eq!(entries(&zip.bytes).len(), 3);
}

#[tokio::test]
async fn an_empty_or_foreign_only_selection_says_so() {
    let app = TestApp::new(&[]).await;
    let mut ben = signed_in(&app, BEN).await;
    let empty = ben.post("/documents.zip", "").await;
    assert_eq!(empty.status, StatusCode::BAD_REQUEST);
    assert!(empty.body.contains("Nothing to download"));
    let danas = files_of("cust_0004")[0].0.clone();
    let foreign = ben.post("/documents.zip", &format!("file={danas}")).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
    let none = ben.get("/documents.zip?type=invoice&year=1999").await;
    assert_eq!(none.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_oversized_form_is_refused_in_words_before_any_upstream_call() {
    let app = TestApp::new(&[("FOLIO_ARCHIVE_MAX_FILES", "3")]).await;
    let mut ben = signed_in(&app, BEN).await;
    let before = app.sim().counters.total();
    let body = (0..5)
        .map(|i| format!("file=file_{i}"))
        .collect::<Vec<_>>()
        .join("&");
    let answer = ben.post("/documents.zip", &body).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.body.contains("5 documents") && answer.body.contains("at most 3"));
    assert_eq!(app.sim().counters.total(), before);
}

#[tokio::test]
async fn a_download_needs_a_session_and_a_same_site_form() {
    let app = TestApp::new(&[]).await;
    for path in [
        "/documents.zip",
        "/documents.csv",
        "/invoices.csv",
        "/archives/x/download",
    ] {
        assert_eq!(
            app.get(path, &[]).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let ben = signed_in(&app, BEN).await;
    let own = files_of("cust_0002")[0].0.clone();
    let cookie = ben.session.clone().unwrap();
    let forged = app
        .post_form(
            "/documents.zip",
            &format!("file={own}"),
            &[("cookie", &cookie), ("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_csv_lists_are_the_customers_own_and_inert_in_a_spreadsheet() {
    let app = TestApp::new(&[]).await;
    let mut dana = signed_in(&app, DANA).await;
    let csv = dana.get("/documents.csv?type=invoice&year=2025").await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(csv.body.starts_with('\u{feff}'), "a BOM for spreadsheets");
    assert!(csv.body.contains("\r\n"));
    let ids: BTreeSet<&str> = csv
        .body
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    let danas: BTreeSet<String> = files_of("cust_0004").into_iter().map(|f| f.0).collect();
    assert!(!ids.is_empty());
    assert!(ids.iter().all(|id| danas.contains(*id)));

    let payments = dana.get("/invoices.csv?year=2025").await;
    assert_eq!(payments.status, StatusCode::OK);
    let mut lines = payments.body.trim_start_matches('\u{feff}').lines();
    assert_eq!(
        lines.next().unwrap(),
        "period,due_date,paid_date,amount,currency,status,invoice_name,invoice_document_id,invoice_url"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 12, "the business pays monthly");
    assert!(rows
        .iter()
        .all(|r| r.starts_with("2025-") && r.contains(",EUR,")));
    // Each list is audited once, under the customer's name.
    for kind in ["documents_exported", "payments_exported"] {
        let events = app.state.store.audit_recent(kind, 5).await.unwrap();
        assert_eq!(events.len(), 1, "{kind}");
        assert_eq!(
            events[0].actor.as_deref(),
            Some("customer:cust_0004"),
            "{kind}"
        );
        assert_eq!(
            events[0].customer_id.as_deref(),
            Some("cust_0004"),
            "{kind}"
        );
    }
}

/// The id of the archive a POST started, from where it sent the browser.
fn archive_id(answer: &Answer) -> String {
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    answer
        .location()
        .strip_prefix("/archives#archive-")
        .expect("to the archives")
        .to_owned()
}

pub async fn archive_state(browser: &mut Browser<'_>, id: &str) -> Option<String> {
    let list = browser.post("/api/list_archives", "").await;
    let list: serde_json::Value = serde_json::from_str(&list.body).ok()?;
    list["archives"]
        .as_array()?
        .iter()
        .find(|a| a["id"] == id)
        .map(|a| a["state"].as_str().unwrap().to_owned())
}

/// The state an archive ends in (`ready` or `failed`), waiting up to 30 s while it runs.
pub async fn finished(browser: &mut Browser<'_>, id: &str) -> Option<String> {
    let mut state = None;
    for _ in 0..300 {
        state = archive_state(browser, id).await;
        if state.as_deref() != Some("running") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    state
}

/// A Folio where any archive of more than two files is made in the background, and the
/// business customer's invoices of one order (more than two): the order and their ids.
pub async fn background_rig() -> (TestApp, String, BTreeSet<String>) {
    let app = TestApp::new(&[
        ("FOLIO_ARCHIVE_STREAM_FILES", "2"),
        ("FLEXPORTAL_RATE_LIMIT_PER_MIN", "6000"),
    ])
    .await;
    let invoices: Vec<(String, String, String)> = files_of("cust_0004")
        .into_iter()
        .filter(|(_, t, _)| t == "invoice")
        .collect();
    let order = invoices[0].2.clone();
    let expected: BTreeSet<String> = invoices
        .iter()
        .filter(|f| f.2 == order)
        .map(|f| f.0.clone())
        .collect();
    assert!(
        expected.len() > 2,
        "more than may be fetched while the reader waits"
    );
    (app, order, expected)
}

#[tokio::test]
async fn a_big_selection_is_made_in_the_background_for_its_owner_alone() {
    let (app, order, expected) = background_rig().await;

    let mut dana = signed_in(&app, DANA).await;
    // A GET starts nothing: it offers the same selection as a form.
    let filters = format!("type=invoice&order={order}");
    let offer = dana.get(&format!("/documents.zip?{filters}")).await;
    assert_eq!(offer.status, StatusCode::OK);
    assert!(offer.body.contains("method=\"post\"") && offer.body.contains(&order));
    assert_eq!(archive_state(&mut dana, "none").await, None);

    let mails = mails_to(&app, DANA).await;
    let id = archive_id(&dana.post("/documents.zip", &filters).await);
    assert_eq!(finished(&mut dana, &id).await.as_deref(), Some("ready"));
    let page = dana.get("/archives").await;
    assert!(page.text().contains("invoices-"), "the page lists it");

    let zip = dana.get(&format!("/archives/{id}/download")).await;
    assert!(is_zip(&zip), "{}", zip.status);
    assert_eq!(zip.headers["content-length"], zip.bytes.len().to_string());
    assert_eq!(included(&checked_manifest(&zip.bytes)), expected);
    assert_eq!(
        mails_to(&app, DANA).await,
        mails + 1,
        "a mail says it is ready"
    );
    let events = app
        .state
        .store
        .audit_recent("archive_prepared", 5)
        .await
        .unwrap();
    assert_eq!(events.len(), 1);

    // Nobody else can see, fetch or delete it, whatever they know of it.
    let mut ben = signed_in(&app, BEN).await;
    assert_eq!(archive_state(&mut ben, &id).await, None);
    assert_eq!(
        ben.get(&format!("/archives/{id}/download")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        ben.post(&format!("/archives/{id}/delete"), "").await.status,
        StatusCode::NOT_FOUND
    );
    assert!(is_zip(&dana.get(&format!("/archives/{id}/download")).await));

    // Its owner can; then it is gone.
    let deleted = dana.post(&format!("/archives/{id}/delete"), "").await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(
        dana.get(&format!("/archives/{id}/download")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn one_person_cannot_run_more_background_archives_than_allowed() {
    let app = TestApp::new(&[
        ("FOLIO_ARCHIVE_STREAM_FILES", "1"),
        ("FOLIO_ARCHIVES_AT_ONCE", "1"),
    ])
    .await;
    let mut dana = signed_in(&app, DANA).await;
    // Many at once, as a script would send them: one starts, the rest are told why not.
    let first = dana.post("/documents.zip", "type=invoice").await;
    archive_id(&first);
    for _ in 0..3 {
        let again = dana.post("/documents.zip", "type=invoice").await;
        assert_eq!(again.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(again.body.contains("at most 1") || again.body.contains("1 downloads"));
    }
}

#[tokio::test]
async fn the_tenant_makes_only_so_many_background_archives_at_once() {
    let app = TestApp::new(&[
        ("FOLIO_ARCHIVE_STREAM_FILES", "1"),
        ("FOLIO_ARCHIVES_RUNNING", "1"),
    ])
    .await;
    // One customer's year of invoices: long in the making within the background share.
    let mut dana = signed_in(&app, DANA).await;
    archive_id(&dana.post("/documents.zip", "type=invoice").await);
    // Someone else, within their own limit, is told to come back, with nothing started.
    let mut clara = signed_in(&app, CLARA).await;
    let refused = clara.post("/documents.zip", "type=invoice").await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.headers["retry-after"], "300");
    assert!(refused.body.contains("try again in a few minutes"));
    let list = clara.post("/api/list_archives", "").await;
    let list: serde_json::Value = serde_json::from_str(&list.body).unwrap();
    assert_eq!(list["archives"].as_array().map(Vec::len), Some(0));
}

/// The archives' table on SQLite and on PostgreSQL: bytes come back as written and in order,
/// a chunk for a deleted archive is refused (which stops its job), an archive past its time
/// is removed and one whose job stopped writing ends as failed.
#[tokio::test]
async fn background_archives_keep_their_bytes_in_order_on_both_engines() {
    use folio::base::server::store::Store;
    use folio::documents::server::archive_store::{
        ArchiveState, StoredArchive, INTERRUPTED_AFTER_MS,
    };

    let dir = std::env::temp_dir().join(format!("folio-archives-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pg = crate::common::PgDatabase::create().await;
    for url in [format!("sqlite://{}/archives.db", dir.display()), pg.url()] {
        let store = Store::connect(&url).await.unwrap();
        let now = 1_800_000_000_000_i64;
        let archive = |id: &str, expires_ms: i64| StoredArchive {
            id: id.to_owned(),
            owner: "customer:cust_0004".to_owned(),
            session_id: None,
            customer_id: "cust_0004".to_owned(),
            name: "invoices-2025.zip".to_owned(),
            state: ArchiveState::Running,
            files_total: 3,
            files_done: 0,
            bytes: 0,
            created_ms: now,
            heartbeat_ms: now,
            expires_ms,
            detail: None,
        };
        store
            .archive_create(&archive("a", now + 1000))
            .await
            .unwrap();
        let chunks: [Vec<u8>; 3] = [vec![0, 1, 2, 0, 255], vec![b'P'; 70_000], vec![0; 3]];
        for (seq, data) in chunks.iter().enumerate() {
            store.archive_append("a", seq as i64, data).await.unwrap();
        }
        store
            .archive_progress("a", 3, 70_008, now + 10)
            .await
            .unwrap();
        store
            .archive_finish("a", ArchiveState::Ready, "3,0,0", now + 1000, now + 20)
            .await
            .unwrap();
        for (seq, data) in chunks.iter().enumerate() {
            assert_eq!(
                store.archive_chunk("a", seq as i64).await.unwrap().as_ref(),
                Some(data)
            );
        }
        assert_eq!(store.archive_chunk("a", 3).await.unwrap(), None);
        let kept = store.archives_of("customer:cust_0004", now).await.unwrap();
        assert_eq!(
            (kept.len(), kept[0].state, kept[0].bytes),
            (1, ArchiveState::Ready, 70_008)
        );
        assert!(store
            .archives_of("customer:cust_0002", now)
            .await
            .unwrap()
            .is_empty());

        // Deleted while its job runs: the job's next chunk is refused.
        store
            .archive_create(&archive("b", now + 1000))
            .await
            .unwrap();
        store.archive_delete("b").await.unwrap();
        assert!(store.archive_append("b", 0, b"late").await.is_err());

        // A job that stopped writing, and an archive past its time.
        store
            .archive_create(&archive("c", now + 10_000_000))
            .await
            .unwrap();
        // In the making while its job writes, of anyone; no longer once it stopped.
        assert_eq!(store.archives_running(now).await.unwrap(), 1);
        let later = now + INTERRUPTED_AFTER_MS + 5_000;
        assert_eq!(store.archives_running(later).await.unwrap(), 0);
        assert_eq!(store.archives_sweep(later).await.unwrap(), (1, 1));
        assert_eq!(store.archive("a").await.unwrap(), None);
        // Its bytes went with it.
        assert_eq!(store.archive_chunk("a", 0).await.unwrap(), None);
        let c = store.archive("c").await.unwrap().unwrap();
        assert_eq!(
            (c.state, c.detail.as_deref()),
            (ArchiveState::Failed, Some("interrupted"))
        );
    }
    pg.drop_it().await;
    let _ = std::fs::remove_dir_all(&dir);
}
