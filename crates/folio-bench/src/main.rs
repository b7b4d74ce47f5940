//! `folio-bench`: Folio measured against its ceilings (`bench`), and held under faults for a
//! few minutes (`soak`).
//!
//! ```text
//! folio-bench bench [--folio target/release/folio] [--site target/site] [--out bench/REPORT.md]
//! folio-bench soak  [--folio …] [--site …] [--seconds 180]
//! folio-bench signins [--folio …] [--site …] [--count 1000]
//! folio-bench scale [--folio target/debug/folio] [--site …]
//! folio-bench day [--folio …] [--site …]
//! folio-bench zip [--folio …] [--site …]
//! ```
//!
//! Both start the stand-in FlexPortal in this process (the demo tenant plus a crowd of
//! generated customers), an SMTP sink for the sign-in mails, and the release `folio` binary
//! against them, signing sessions in through the real flow. Load comes from wrk. `bench`
//! prints its figures and writes them to the report; it fails only when it cannot measure.
//! `soak` fails only on a correctness failure. `scale` runs two instances on one PostgreSQL
//! behind HAProxy and fails when what scale-out must hold does not (`make test` runs it).

mod bench;
mod day;
mod folio;
mod front;
mod load;
mod report;
mod rig;
mod scale;
mod smtp;
mod soak;
mod upstream;
mod zip;

use std::path::PathBuf;
use std::process::ExitCode;

/// Where things are; defaults fit `make bench` from the project root.
pub struct Paths {
    pub folio: PathBuf,
    pub site: PathBuf,
    pub tools: PathBuf,
    pub out: PathBuf,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let paths = Paths {
        folio: value("--folio")
            .unwrap_or_else(|| "target/release/folio".into())
            .into(),
        site: value("--site")
            .unwrap_or_else(|| "target/site".into())
            .into(),
        tools: value("--tools").unwrap_or_else(|| ".tools".into()).into(),
        out: value("--out")
            .unwrap_or_else(|| "bench/REPORT.md".into())
            .into(),
    };
    let outcome = match args.first().map(String::as_str) {
        Some("bench") => bench::run(&paths).await,
        // Signs in `--count` sessions as the memory figure does, and nothing else.
        Some("signins") => {
            let count = value("--count")
                .and_then(|s| s.parse().ok())
                .unwrap_or(1000);
            bench::sign_ins(&paths, count).await
        }
        Some("scale") => scale::run(&paths).await,
        // Only the compressed day of `bench`, printed.
        Some("day") => {
            let mut report = report::Report::default();
            day::run(&paths, &mut report).await
        }
        // Only the ZIP figures of `bench`, printed.
        Some("zip") => {
            let mut report = report::Report::default();
            zip::run(&paths, &mut report).await
        }
        Some("soak") => {
            let seconds = value("--seconds")
                .and_then(|s| s.parse().ok())
                .unwrap_or(180);
            soak::run(&paths, seconds).await
        }
        _ => {
            eprintln!(
                "usage: folio-bench bench|soak|signins|scale|day|zip [--folio PATH] [--site DIR] [--seconds N] [--count N]"
            );
            return ExitCode::from(2);
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("folio-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
