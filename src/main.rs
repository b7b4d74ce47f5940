//! The `folio` binary: the server, or `folio staff …` to manage account managers.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("staff") => folio::staff::server::command::command(&args[1..]).await,
        _ => folio::server::run().await,
    }
}
