//! The `folio` server binary.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    folio::server::run().await
}
