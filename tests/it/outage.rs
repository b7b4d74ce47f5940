//! A database that goes away: a clear 503 page at once (no hang, no panic), nothing lost, and
//! Folio back by itself when the database returns. The database is PostgreSQL behind a TCP
//! relay of the test's own, which the test cuts and restores.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use tokio::net::{TcpListener, TcpStream};

use crate::common::*;

const CLARA: &str = "clara.jensen@example.org";

/// Relays connections to PostgreSQL while up; while down, drops every connection it has and
/// refuses new ones.
struct Relay {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on each cut, so that relayed connections notice and close.
    cuts: Arc<tokio::sync::watch::Sender<u32>>,
}

impl Relay {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let up = Arc::new(AtomicBool::new(true));
        let cuts = Arc::new(tokio::sync::watch::channel(0u32).0);
        let (up2, cuts2) = (up.clone(), cuts.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let mut cut = cuts2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { addr, up, cuts }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cuts.send_modify(|n| *n += 1);
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn a_database_outage_gives_a_clear_503_and_folio_recovers_by_itself() {
    let pg = PgDatabase::create().await;
    let relay = Relay::start().await;
    let url = pg.url().replace("127.0.0.1:5432", &relay.addr.to_string());
    let app = TestApp::new(&[("DATABASE_URL", url.as_str())]).await;
    let mut clara = signed_in(&app, CLARA).await;
    let before = clara.get("/documents").await;
    assert_eq!(before.status, StatusCode::OK);

    relay.cut();
    let mut german = Browser::new(&app);
    german.session = clara.session.clone();
    german.accept_language = "de";
    for (browser, text) in [
        (&mut clara, "Folio cannot reach its database just now"),
        (&mut german, "Folio erreicht seine Datenbank gerade nicht"),
    ] {
        let started = Instant::now();
        let page = browser.get("/documents").await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.text().contains(text), "{}", page.text());
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "answered in {:?}",
            started.elapsed()
        );
        assert!(page.headers.contains_key("retry-after"));
    }
    // Signing in (a form post) says the same; nobody is told to sign in again.
    let answer = Browser::new(&app)
        .post("/login", "email=ben.okafor%40example.com")
        .await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);

    relay.restore();
    let mut after = clara.get("/documents").await;
    for _ in 0..40 {
        if after.status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = clara.get("/documents").await;
    }
    assert_eq!(after.status, StatusCode::OK, "recovered, still signed in");
    assert_eq!(after.without_nonce(), before.without_nonce());
    drop(app);
    pg.drop_it().await;
}
