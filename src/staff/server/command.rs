//! `folio staff add|remove|list`: account managers are managed from the command line, by the
//! same binary against the same database as the server.

use std::io::Write;
use std::process::ExitCode;

use crate::base::server::config::Config;
use crate::base::server::store::Store;
use crate::base::server::tokens::normalize_email;
use crate::base::server::upstream::{DEMO_MANAGER_EMAIL, DEMO_MANAGER_NAME};

/// Puts the demo account manager on the staff, for demo mode.
pub async fn seed_demo(store: &Store) -> Result<(), sqlx::Error> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    store
        .staff_upsert(DEMO_MANAGER_EMAIL, DEMO_MANAGER_NAME, now)
        .await?;
    Ok(())
}

const USAGE: &str = "usage:
  folio staff add <email> --name <name>   add an account manager (or rename one)
  folio staff remove <email>              remove one and end their sessions
  folio staff list                        list the account managers";

/// Runs `folio staff …` (the arguments after `staff`) against the configured database.
pub async fn command(args: &[String]) -> ExitCode {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("folio: configuration error: {err}");
            return ExitCode::from(2);
        }
    };
    let store = match Store::connect(&config.database_url).await {
        Ok(store) => store,
        Err(err) => {
            eprintln!("folio: cannot open the database (DATABASE_URL): {err}");
            return ExitCode::FAILURE;
        }
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut out = std::io::stdout().lock();
    match run(&store, args, now, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("folio staff: {message}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Database(err)) => {
            eprintln!("folio staff: database error: {err}");
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug)]
pub enum Failure {
    Usage(String),
    Database(sqlx::Error),
}

impl From<sqlx::Error> for Failure {
    fn from(err: sqlx::Error) -> Self {
        Failure::Database(err)
    }
}

/// The command itself, writing its report to `out`.
pub async fn run(
    store: &Store,
    args: &[String],
    now: i64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let usage = |m: &str| Failure::Usage(m.to_owned());
    let email = |arg: Option<&String>| {
        let arg = arg.ok_or_else(|| usage("an email address is required"))?;
        normalize_email(arg).ok_or_else(|| usage(&format!("not an email address: {arg}")))
    };
    match args.first().map(String::as_str) {
        Some("add") => {
            let email = email(args.get(1))?;
            let name = match args.get(2..) {
                Some([flag, name]) if flag == "--name" && !name.trim().is_empty() => {
                    name.trim().to_owned()
                }
                _ => return Err(usage("add needs --name <name>")),
            };
            if name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(usage("the name must be at most 100 printable characters"));
            }
            let added = store.staff_upsert(&email, &name, now).await?;
            let verb = if added { "added" } else { "updated" };
            let _ = writeln!(out, "{verb} {} ({name})", email.to_lowercase());
        }
        Some("remove") => {
            let email = email(args.get(1))?;
            if args.len() > 2 {
                return Err(usage("remove takes one address"));
            }
            if store.staff_remove(&email).await? {
                let _ = writeln!(
                    out,
                    "removed {}; their sessions have ended",
                    email.to_lowercase()
                );
            } else {
                return Err(usage(&format!("no staff member {}", email.to_lowercase())));
            }
        }
        Some("list") => {
            let staff = store.staff_list().await?;
            if staff.is_empty() {
                let _ = writeln!(
                    out,
                    "no staff members; add one with: folio staff add <email> --name <name>"
                );
            }
            for member in staff {
                let _ = writeln!(out, "{}\t{}", member.email, member.name);
            }
        }
        Some(other) => return Err(usage(&format!("unknown command: {other}"))),
        None => return Err(usage("a command is required")),
    }
    Ok(())
}
