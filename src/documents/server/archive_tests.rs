use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::*;
use crate::base::who::DocType;
use crate::documents::server::zip::tests::read_back;

fn doc(id: &str, order: &str, name: &str) -> DocumentRow {
    DocumentRow {
        id: id.to_owned(),
        name: name.to_owned(),
        doc_type: DocType::Invoice,
        type_label: "invoice".to_owned(),
        order_id: order.to_owned(),
        created: Some("2026-03-01T09:00:00Z".to_owned()),
        year: Some(2026),
        size: None,
        content_type: "application/pdf".to_owned(),
    }
}

/// How a stand-in file behaves.
#[derive(Clone)]
enum Behaviour {
    /// Delivers these chunks.
    Bytes(Vec<&'static [u8]>),
    /// Cannot be opened (FlexPortal failed to sign it, say).
    Refused,
    /// Delivers its first chunk, then breaks off.
    BreaksAfterFirst(&'static [u8]),
    /// `count` chunks of `size` bytes, made as they are asked for.
    Endless { size: usize, count: usize },
}

#[derive(Clone, Default)]
struct Stand {
    files: HashMap<String, Behaviour>,
    /// Chunks handed out so far, over all files.
    made: Arc<AtomicUsize>,
    /// What the pump said and did, in order: ("ahead", id) and ("open", id).
    events: Arc<std::sync::Mutex<Vec<(&'static str, String)>>>,
}

struct StandChunks {
    behaviour: Behaviour,
    at: usize,
    made: Arc<AtomicUsize>,
}

#[async_trait]
impl Files for Stand {
    fn ahead(&self, next: &[DocumentRow]) {
        let mut events = self.events.lock().unwrap();
        events.extend(next.iter().map(|r| ("ahead", r.id.clone())));
    }

    async fn open(&self, row: &DocumentRow) -> Result<Box<dyn Chunks>, Failure> {
        self.events.lock().unwrap().push(("open", row.id.clone()));
        match self.files.get(&row.id) {
            None | Some(Behaviour::Refused) => Err(Failure("refused".into())),
            Some(b) => Ok(Box::new(StandChunks {
                behaviour: b.clone(),
                at: 0,
                made: self.made.clone(),
            })),
        }
    }
}

#[async_trait]
impl Chunks for StandChunks {
    async fn next(&mut self) -> Result<Option<Bytes>, Failure> {
        let at = self.at;
        self.at += 1;
        let chunk = match &self.behaviour {
            Behaviour::Bytes(chunks) => chunks.get(at).map(|c| Bytes::from_static(c)),
            Behaviour::BreaksAfterFirst(first) if at == 0 => Some(Bytes::from_static(first)),
            Behaviour::BreaksAfterFirst(_) => return Err(Failure("connection reset".into())),
            Behaviour::Endless { size, count } => {
                (at < *count).then(|| Bytes::from(vec![b'x'; *size]))
            }
            Behaviour::Refused => unreachable!(),
        };
        if chunk.is_some() {
            self.made.fetch_add(1, Ordering::SeqCst);
        }
        Ok(chunk)
    }
}

/// A stand-in where every one of `rows` behaves as `behaviour`, and the selection of them all.
fn stand_of(rows: Vec<DocumentRow>, behaviour: Behaviour) -> (Stand, Selection) {
    let mut stand = Stand::default();
    for row in &rows {
        stand.files.insert(row.id.clone(), behaviour.clone());
    }
    let selection = Selection {
        included: rows,
        unknown: Vec::new(),
    };
    (stand, selection)
}

/// One file of `count` chunks of 64 KiB, made as they are asked for.
fn one_big_file(count: usize) -> (Stand, Selection) {
    let big = Behaviour::Endless {
        size: 65_536,
        count,
    };
    stand_of(vec![doc("big", "ord_1", "big.pdf")], big)
}

/// Runs the pump into a channel and collects the whole archive.
async fn archive_of(files: &Stand, selection: &Selection, max_bytes: u64) -> (Vec<u8>, Outcome) {
    let (sink, mut body) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let collect = tokio::spawn(async move {
        let mut all = Vec::new();
        while let Some(chunk) = body.recv().await {
            all.extend_from_slice(&chunk.unwrap());
        }
        all
    });
    let outcome = pump(files, selection, max_bytes, &sink).await.unwrap();
    drop(sink);
    (collect.await.unwrap(), outcome)
}

fn text_of(entries: &[(String, Vec<u8>)], name: &str) -> String {
    let (_, data) = entries.iter().find(|(n, _)| n == name).unwrap();
    String::from_utf8(data.clone()).unwrap()
}

#[test]
fn names_are_safe_unique_and_keep_their_extension() {
    let rows = [
        doc("f1", "ord_1", "Invoice 2026-03.pdf"),
        doc("f2", "ord_1", "invoice 2026-03.PDF"),
        doc("f3", "ord_1", "../../etc/passwd"),
        doc("f4", "ord/../2", "a\\b:c*?.pdf"),
        doc("f5", "ord_1", "CON.pdf"),
        doc("f6", "ord_1", "   "),
        doc("f7", "ord_1", "Rechnung März"),
        doc("f8", "", "manifest.csv"),
        doc("f9", "ord_1", &format!("{}.pdf", "x".repeat(300))),
        doc("f10", "ord_1", "Invoice 2026-03.pdf"),
    ];
    let names = entry_names(&rows);
    assert_eq!(names[0], "ord_1/Invoice 2026-03.pdf");
    assert_eq!(names[1], "ord_1/invoice 2026-03 (2).PDF");
    assert_eq!(names[2], "ord_1/_.._etc_passwd");
    assert_eq!(names[3], "ord_.._2/a_b_c__.pdf");
    assert_eq!(names[4], "ord_1/_CON.pdf");
    assert_eq!(names[5], "ord_1/f6.pdf");
    assert_eq!(names[6], "ord_1/Rechnung März.pdf");
    assert_eq!(names[7], "documents/manifest.csv");
    assert!(
        names[8].ends_with(".pdf") && names[8].chars().count() <= 106,
        "{}",
        names[8]
    );
    assert_eq!(names[9], "ord_1/Invoice 2026-03 (3).pdf");
    for name in &names {
        assert!(
            !name.split('/').any(|p| p == ".." || p.is_empty()),
            "{name}"
        );
        assert!(!name.chars().any(|c| c.is_control() || c == '\\'), "{name}");
    }
}

#[test]
fn a_selection_of_ids_keeps_the_visible_once_and_lists_the_rest() {
    let visible = [doc("f1", "ord_1", "a.pdf"), doc("f2", "ord_1", "b.pdf")];
    let find = |id: &str| visible.iter().find(|r| r.id == id);
    let long = "y".repeat(500);
    let ids = [
        "f2",
        "f1",
        "f2",
        "someone-elses",
        " ",
        "bad\nid",
        long.as_str(),
    ];
    let selection = Selection::of_ids(ids, find);
    let included: Vec<&str> = selection.included.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(included, ["f2", "f1"]);
    assert_eq!(selection.unknown[..2], ["someone-elses", "badid"]);
    assert_eq!(selection.unknown[2].len(), MAX_ID_CHARS);
}

#[tokio::test]
async fn the_archive_holds_the_files_a_manifest_and_checksums_that_check() {
    let mut files = Stand::default();
    files
        .files
        .insert("f1".into(), Behaviour::Bytes(vec![b"%PDF-1.4 ", b"one"]));
    files
        .files
        .insert("f2".into(), Behaviour::Bytes(vec![b"%PDF-1.4 two"]));
    let selection = Selection {
        included: vec![doc("f1", "ord_1", "One.pdf"), doc("f2", "ord_2", "Two.pdf")],
        unknown: vec!["foreign".into()],
    };
    let (archive, outcome) = archive_of(&files, &selection, u64::MAX).await;
    assert_eq!((outcome.included, outcome.missing), (2, 0));
    assert_eq!(outcome.bytes, archive.len() as u64);
    let entries = read_back(&archive);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "ord_1/One.pdf",
            "ord_2/Two.pdf",
            "manifest.csv",
            "SHA256SUMS"
        ]
    );
    assert_eq!(entries[0].1, b"%PDF-1.4 one");

    let sums = text_of(&entries, "SHA256SUMS");
    // Every other entry, the manifest too.
    assert_eq!(sums.lines().count(), 3);
    for (name, data) in &entries[..3] {
        let line = format!(
            "{}  {name}",
            crate::base::server::tokens::hex(&Sha256::digest(data))
        );
        assert!(sums.lines().any(|l| l == line), "{line} in {sums}");
    }
    let manifest = text_of(&entries, "manifest.csv");
    let lines: Vec<&str> = manifest.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "name,document_id,type,order,date,size,sha256,status"
    );
    assert!(
        lines[1].starts_with("ord_1/One.pdf,f1,invoice,ord_1,2026-03-01,12,"),
        "{}",
        lines[1]
    );
    assert!(lines[1].ends_with(",included"));
    assert_eq!(lines[3], ",foreign,,,,,,not_included");
}

#[tokio::test]
async fn a_file_that_fails_is_listed_as_missing_and_the_rest_completes() {
    let mut files = Stand::default();
    files
        .files
        .insert("f1".into(), Behaviour::BreaksAfterFirst(b"%PDF-half"));
    files.files.insert("f2".into(), Behaviour::Refused);
    files
        .files
        .insert("f3".into(), Behaviour::Bytes(vec![b"%PDF-whole"]));
    let selection = Selection {
        included: vec![
            doc("f1", "ord_1", "Broken.pdf"),
            doc("f2", "ord_1", "Unsigned.pdf"),
            doc("f3", "ord_1", "Fine.pdf"),
        ],
        unknown: Vec::new(),
    };
    let (archive, outcome) = archive_of(&files, &selection, u64::MAX).await;
    assert_eq!((outcome.included, outcome.missing), (1, 2));
    let entries = read_back(&archive);
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["ord_1/Fine.pdf", "manifest.csv", "SHA256SUMS"]);
    let manifest = text_of(&entries, "manifest.csv");
    assert!(
        manifest.contains("\r\n,f1,invoice,ord_1,2026-03-01,,,missing\r\n"),
        "{manifest}"
    );
    assert!(manifest.contains("\r\n,f2,invoice,ord_1,2026-03-01,,,missing\r\n"));
    assert_eq!(text_of(&entries, "SHA256SUMS").lines().count(), 2);
}

#[tokio::test]
async fn documents_past_the_size_limit_are_left_out_and_listed() {
    let rows = ["f1", "f2", "f3"].map(|id| doc(id, "ord_1", id)).to_vec();
    let (files, selection) = stand_of(
        rows,
        Behaviour::Endless {
            size: 1000,
            count: 3,
        },
    );
    // Room for one file of 3000 bytes beside the reserve for the manifest.
    let (archive, outcome) = archive_of(&files, &selection, 4096 + 900 + 3100).await;
    assert_eq!((outcome.included, outcome.over_limit), (1, 2));
    let manifest = text_of(&read_back(&archive), "manifest.csv");
    assert_eq!(manifest.matches(",over_limit\r\n").count(), 2, "{manifest}");
}

#[tokio::test]
async fn memory_stays_bounded_by_the_channel_whatever_the_file_size() {
    // 64 MiB in 64 KiB chunks.
    let (files, selection) = one_big_file(1024);
    let made = files.made.clone();
    let (sink, mut body) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let pump = tokio::spawn(async move { pump(&files, &selection, u64::MAX, &sink).await });
    let mut received = 0usize;
    let mut chunks = 0usize;
    let mut most_ahead = 0usize;
    while let Some(chunk) = body.recv().await {
        received += chunk.unwrap().len();
        chunks += 1;
        // Chunks made but not yet taken from the channel: what the archive holds in memory.
        most_ahead = most_ahead.max(made.load(Ordering::SeqCst).saturating_sub(chunks));
        tokio::task::yield_now().await;
    }
    let outcome = pump.await.unwrap().unwrap();
    assert_eq!(outcome.included, 1);
    assert!(received > 64 * 1024 * 1024);
    assert!(most_ahead <= 6, "{most_ahead} chunks were held at once");
}

#[tokio::test]
async fn a_client_that_goes_away_stops_the_fetching() {
    let (files, selection) = one_big_file(100_000);
    let made = files.made.clone();
    let (sink, mut body) = mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    let pump = tokio::spawn(async move { pump(&files, &selection, u64::MAX, &sink).await });
    for _ in 0..3 {
        body.recv().await.unwrap().unwrap();
    }
    drop(body);
    assert_eq!(pump.await.unwrap(), Err(Gone));
    assert!(
        made.load(Ordering::SeqCst) < 20,
        "kept fetching after the client left"
    );
}

/// The next few files are named while one streams, so that a source can get them ready.
#[tokio::test]
async fn the_next_files_are_told_ahead_of_their_turn() {
    let rows: Vec<DocumentRow> = (0..10)
        .map(|i| doc(&format!("f{i}"), "ord_1", &format!("{i}.pdf")))
        .collect();
    let (stand, selection) = stand_of(rows.clone(), Behaviour::Bytes(vec![b"%PDF-1.7"]));
    archive_of(&stand, &selection, 1 << 20).await;
    let events = stand.events.lock().unwrap().clone();
    let position = |kind: &str, id: &str| events.iter().position(|(k, i)| *k == kind && i == id);
    for (at, row) in rows.iter().enumerate() {
        let opened = position("open", &row.id).expect("every file is opened");
        if at > 0 {
            let told = position("ahead", &row.id).expect("told ahead");
            assert!(told < opened, "{} told before it is opened", row.id);
            // Told while at most AHEAD files stand before it.
            let before = events[told..opened]
                .iter()
                .filter(|(k, _)| *k == "open")
                .count();
            assert!(before <= AHEAD, "{}: {before} files between", row.id);
        }
    }
}

/// Files the size limit will leave out are not named ahead: getting them ready (signing
/// their URLs) would spend the budget on files the archive never holds.
#[tokio::test]
async fn files_past_the_size_limit_are_not_told_ahead() {
    static KILOBYTE: [u8; 1000] = [b'x'; 1000];
    let rows: Vec<DocumentRow> = (0..6)
        .map(|i| DocumentRow {
            size: Some(1000),
            ..doc(&format!("f{i}"), "ord_1", &format!("{i}.pdf"))
        })
        .collect();
    let count = rows.len() as u64;
    let (stand, selection) = stand_of(rows, Behaviour::Bytes(vec![&KILOBYTE]));
    // Room for three of the six, beside what the manifest and the directory are kept.
    let reserve = 300 * count + 4096;
    let (_, outcome) = archive_of(&stand, &selection, reserve + 3500).await;
    assert_eq!((outcome.included, outcome.over_limit), (3, 3));
    let events = stand.events.lock().unwrap().clone();
    let told: BTreeSet<&str> = events
        .iter()
        .filter(|(k, _)| *k == "ahead")
        .map(|(_, id)| id.as_str())
        .collect();
    assert_eq!(told, BTreeSet::from(["f1", "f2"]));
}
