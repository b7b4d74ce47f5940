//! `folio answers purge [--customer <id>]`: drops kept FlexPortal answers from the database,
//! one customer's or all, for when a customer asks to be forgotten or data must be fetched
//! anew. Running instances follow the change within a second; the next read asks FlexPortal.

use std::process::ExitCode;

use crate::base::server::answer_store::SqlAnswers;
use crate::base::server::store::Store;

/// `folio answers …`.
#[derive(Clone, Debug, PartialEq, Eq, clap::Subcommand)]
pub enum AnswersCommand {
    /// Drop kept answers: one customer's, or (without --customer) all of them.
    Purge {
        /// The FlexPortal customer id (e.g. cust_0004) whose answers go.
        #[arg(long)]
        customer: Option<String>,
    },
}

pub async fn command(command: AnswersCommand) -> ExitCode {
    let (_, store) = match Store::for_command().await {
        Ok(opened) => opened,
        Err(code) => return code,
    };
    let AnswersCommand::Purge { customer } = command;
    match SqlAnswers::purge(&store, customer.as_deref()).await {
        Ok(count) => {
            match &customer {
                Some(id) => println!("dropped {count} kept answers of customer {id}"),
                None => println!("dropped {count} kept answers"),
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("folio answers: database error: {err}");
            ExitCode::FAILURE
        }
    }
}
