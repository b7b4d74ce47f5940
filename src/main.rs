//! The `folio` binary: the server, or `folio staff …` to manage account managers (see
//! `folio --help`).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    folio::server::cli::main().await
}
