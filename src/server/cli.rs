//! The `folio` command line: `folio` (or `folio serve`) serves, `folio staff …` manages the
//! account managers, `folio answers purge` drops kept FlexPortal answers. Parsed by clap, so `--help` and `--version` work everywhere and a wrong
//! argument answers with the usage and exit status 2.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::answers::AnswersCommand;
use crate::staff::server::command::StaffCommand;

/// Folio, the customer document portal for businesses on FlexPortal.
///
/// Configured through the environment (see the README's configuration table); without
/// FLEXPORTAL_API_KEY it runs in demo mode, against a stand-in FlexPortal with a demo tenant.
#[derive(Debug, Parser)]
#[command(name = "folio", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Folio until SIGINT or SIGTERM (what `folio` alone does).
    Serve,
    /// Add, remove and list the account managers, in the configured database.
    Staff {
        #[command(subcommand)]
        command: StaffCommand,
    },
    /// Drop the FlexPortal answers kept in the configured database.
    Answers {
        #[command(subcommand)]
        command: AnswersCommand,
    },
}

impl Cli {
    /// The staff command that `folio staff <words>` names, read exactly as the binary reads
    /// it: for tests, and for anything else that holds the words rather than a process.
    pub fn staff_command(words: &[String]) -> Result<StaffCommand, clap::Error> {
        let line = ["folio", "staff"].into_iter().map(str::to_owned);
        match Cli::try_parse_from(line.chain(words.iter().cloned()))?.command {
            Some(Command::Staff { command }) => Ok(command),
            // `folio staff …` parses as the staff command or not at all.
            _ => Err(clap::Error::new(clap::error::ErrorKind::MissingSubcommand)),
        }
    }
}

/// Parses the process's arguments (exiting with the usage if they are wrong) and runs the
/// command.
pub async fn main() -> ExitCode {
    match Cli::parse().command {
        None | Some(Command::Serve) => super::run().await,
        Some(Command::Staff { command }) => crate::staff::server::command::command(command).await,
        Some(Command::Answers { command }) => super::answers::command(command).await,
    }
}
