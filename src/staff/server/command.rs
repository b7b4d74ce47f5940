//! `folio staff add|remove|list`: account managers are managed from the command line, by the
//! same binary against the same database as the server.

use std::io::Write;
use std::process::ExitCode;

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

/// `folio staff …`.
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
pub enum StaffCommand {
    /// Add an account manager, or rename one.
    Add {
        /// Their email address: they sign in with it at /manage/login.
        email: String,
        /// Their name, as the staff screens and the links they share show it.
        #[arg(long)]
        name: String,
    },
    /// Remove an account manager and end their sessions.
    Remove {
        /// Their email address.
        email: String,
    },
    /// List the account managers.
    List,
}

/// Runs `folio staff …` against the configured database.
pub async fn command(command: StaffCommand) -> ExitCode {
    let (_, store) = match Store::for_command().await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut out = std::io::stdout().lock();
    match run(&store, &command, now, &mut out).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("folio staff: {message}\n\nFor more information, try 'folio staff --help'.");
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

/// The command itself, writing its report to `out`. The arguments are checked here beyond
/// their shape: an address must look like one, a name must be printable.
pub async fn run(
    store: &Store,
    command: &StaffCommand,
    now: i64,
    out: &mut impl Write,
) -> Result<(), Failure> {
    let usage = |m: &str| Failure::Usage(m.to_owned());
    let email = |arg: &str| {
        normalize_email(arg).ok_or_else(|| usage(&format!("not an email address: {arg}")))
    };
    match command {
        StaffCommand::Add {
            email: address,
            name,
        } => {
            let email = email(address)?;
            let name = name.trim();
            if name.is_empty() {
                return Err(usage("the name must not be empty"));
            }
            if name.chars().count() > 100 || name.chars().any(char::is_control) {
                return Err(usage("the name must be at most 100 printable characters"));
            }
            let added = store.staff_upsert(&email, name, now).await?;
            let verb = if added { "added" } else { "updated" };
            let _ = writeln!(out, "{verb} {} ({name})", email.to_lowercase());
        }
        StaffCommand::Remove { email: address } => {
            let email = email(address)?;
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
        StaffCommand::List => {
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
    }
    Ok(())
}
