//! The `folio` command line, run as a user runs it: the binary itself, in a process of its own.

use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

/// The binary with `args`, in demo mode (no FlexPortal key from the environment).
fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_folio"));
    command.args(args).env_remove("FLEXPORTAL_API_KEY");
    command
}

fn folio(args: &[&str]) -> Output {
    command(args).output().expect("folio runs")
}

/// A folder of its own for one test's SQLite file, and the `DATABASE_URL` of that file.
fn database(name: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("folio-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}/folio.db", dir.display());
    (dir, url)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_and_version_print_and_exit_zero() {
    let help = folio(&["--help"]);
    assert_eq!(help.status.code(), Some(0), "{help:?}");
    let out = text(&help.stdout);
    assert!(out.contains("Usage: folio"), "{out}");
    assert!(out.contains("serve") && out.contains("staff"), "{out}");

    let staff = folio(&["staff", "--help"]);
    assert_eq!(staff.status.code(), Some(0), "{staff:?}");
    let out = text(&staff.stdout);
    for command in ["add", "remove", "list"] {
        assert!(out.contains(&format!("\n  {command} ")), "{out}");
    }
    let add = folio(&["staff", "add", "--help"]);
    assert_eq!(add.status.code(), Some(0));
    assert!(text(&add.stdout).contains("--name <NAME>"));

    for args in [&["--version"][..], &["staff", "--version"]] {
        let version = folio(args);
        assert_eq!(version.status.code(), Some(0), "{args:?}: {version:?}");
        assert!(
            text(&version.stdout)
                .trim()
                .ends_with(env!("CARGO_PKG_VERSION")),
            "{args:?}: {}",
            text(&version.stdout)
        );
    }
}

#[test]
fn a_wrong_argument_exits_2_with_the_usage() {
    for args in [
        &["--bogus"][..],
        &["serve", "extra"],
        &["staff"],
        &["staff", "fly"],
        &["staff", "add", "sam@example.net"],
        &["staff", "remove"],
        &["staff", "remove", "a@example.net", "b@example.net"],
    ] {
        let wrong = folio(args);
        assert_eq!(wrong.status.code(), Some(2), "{args:?}: {wrong:?}");
        assert!(
            text(&wrong.stderr).contains("Usage: folio"),
            "{args:?}: {}",
            text(&wrong.stderr)
        );
        assert!(wrong.stdout.is_empty(), "{args:?}");
    }
}

/// A server process, stopped when the test is done with it, whatever the outcome.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `folio serve` and `folio` alone both start the server (in demo mode here).
#[test]
fn serve_and_no_command_both_serve() {
    for args in [&["serve"][..], &[]] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (dir, url) = database(&format!("serve-{port}"));
        let mut server = Server(
            command(args)
                .env("FOLIO_ADDR", format!("127.0.0.1:{port}"))
                .env("DATABASE_URL", url)
                .env("FOLIO_LOG", "error")
                .spawn()
                .expect("folio starts"),
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        let answered = loop {
            if let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) {
                use std::io::{Read, Write};
                let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n");
                let mut answer = String::new();
                let _ = stream.read_to_string(&mut answer);
                break answer;
            }
            let exited = server.0.try_wait().expect("the process can be asked");
            assert!(exited.is_none(), "{args:?}: folio exited: {exited:?}");
            assert!(Instant::now() < deadline, "{args:?}: folio does not listen");
            std::thread::sleep(Duration::from_millis(100));
        };
        drop(server);
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            answered.starts_with("HTTP/1.") && answered.contains(" 200 "),
            "{args:?}: {answered}"
        );
    }
}

#[test]
fn the_staff_command_runs_on_the_configured_database() {
    let (dir, url) = database("staff");
    let staff = |args: &[&str]| {
        command(args)
            .env("DATABASE_URL", &url)
            .output()
            .expect("folio runs")
    };
    let added = staff(&["staff", "add", "sam@example.net", "--name", "Sam Roe"]);
    assert!(added.status.success(), "{added:?}");
    let listed = staff(&["staff", "list"]);
    assert!(text(&listed.stdout).contains("sam@example.net\tSam Roe"));
    let wrong = staff(&["staff", "add", "not-an-address", "--name", "X"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(text(&wrong.stderr).contains("not an email address"));
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn answers_purge_drops_one_customers_kept_answers_or_all() {
    use crate::common::{signed_in, TestApp};
    let (dir, url) = database("answers-purge");
    let app = TestApp::new(&[("DATABASE_URL", url.as_str())]).await;
    let mut clara = signed_in(&app, "clara.jensen@example.org").await;
    assert_eq!(clara.get("/documents").await.status.as_u16(), 200);
    let kept = |owner: &'static str| {
        let url = url.clone();
        async move {
            use sqlx::Connection;
            let mut db = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM answers WHERE owner = $1")
                .bind(owner)
                .fetch_one(&mut db)
                .await
                .unwrap();
            count
        }
    };
    assert!(kept("cust_0003").await > 0);

    let out = command(&["answers", "purge", "--customer", "cust_0003"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert!(
        text(&out.stdout).contains("of customer cust_0003"),
        "{out:?}"
    );
    assert_eq!(kept("cust_0003").await, 0);

    let out = command(&["answers", "purge"])
        .env("DATABASE_URL", &url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let wrong = command(&["answers", "purge", "--everything"])
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
    drop(app);
    let _ = std::fs::remove_dir_all(dir);
}
