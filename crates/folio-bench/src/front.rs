//! The front end as a browser gets it: bundle sizes, and Lighthouse in Chromium.

use std::path::{Path, PathBuf};
use std::process::Stdio;

/// One file of the release bundle.
pub struct Asset {
    pub name: String,
    pub raw: u64,
    pub gzip: Option<u64>,
    pub brotli: Option<u64>,
}

/// The `.wasm`, `.js` and `.css` files under `pkg`, with their compressed sizes.
pub async fn assets(pkg: &Path) -> Result<Vec<Asset>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(pkg)
        .map_err(|e| format!("{}: {e} (build the release site first)", pkg.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("wasm" | "js" | "css")
            )
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        out.push(Asset {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            raw: std::fs::metadata(&path).map_err(|e| e.to_string())?.len(),
            gzip: compressed_size("gzip", &["-9", "-c"], &path).await,
            brotli: compressed_size("brotli", &["-c", "-q", "11"], &path).await,
        });
    }
    Ok(out)
}

async fn compressed_size(tool: &str, args: &[&str], path: &Path) -> Option<u64> {
    let out = tokio::process::Command::new(tool)
        .args(args)
        .arg(path)
        .stderr(Stdio::null())
        .output()
        .await
        .ok()?;
    out.status.success().then_some(out.stdout.len() as u64)
}

/// Lighthouse's category scores (0–100) for one page, and the audits that cost points.
pub struct Scores {
    pub performance: u32,
    pub accessibility: u32,
    pub best_practices: u32,
    pub missed: Vec<String>,
}

/// Runs Lighthouse (installed under `tools`) against `url` in Chromium, with its default
/// mobile settings and simulated throttling.
pub async fn lighthouse(tools: &Path, url: &str, cookie: Option<&str>) -> Result<Scores, String> {
    let cli = tools.join("node_modules/lighthouse/cli/index.js");
    if !cli.exists() {
        return Err(format!(
            "{} is missing (make bench installs it)",
            cli.display()
        ));
    }
    let profile = std::env::temp_dir().join(format!("folio-bench-chrome-{}", std::process::id()));
    let flags = format!(
        "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run \
         --disable-background-networking --disable-component-update --disable-sync \
         --user-data-dir={}",
        profile.display()
    );
    let mut command = tokio::process::Command::new("node");
    command
        .arg(&cli)
        .arg(url)
        .arg("--quiet")
        .arg("--output=json")
        .arg("--output-path=stdout")
        .arg("--only-categories=performance,accessibility,best-practices")
        .arg(format!("--chrome-flags={flags}"))
        .env(
            "CHROME_PATH",
            std::env::var("CHROME_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into()),
        );
    if let Some(cookie) = cookie {
        command.arg(format!(
            "--extra-headers={}",
            serde_json::json!({ "Cookie": cookie })
        ));
    }
    let out = command
        .output()
        .await
        .map_err(|e| format!("cannot run Lighthouse: {e}"))?;
    let _ = std::fs::remove_dir_all(&profile);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| {
        format!(
            "Lighthouse gave no report: {}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )
    })?;
    let score = |category: &str| {
        report["categories"][category]["score"]
            .as_f64()
            .map_or(0, |s| (s * 100.0).round() as u32)
    };
    let mut missed = Vec::new();
    for category in ["performance", "accessibility", "best-practices"] {
        let Some(refs) = report["categories"][category]["auditRefs"].as_array() else {
            continue;
        };
        for r in refs {
            if r["weight"].as_f64().unwrap_or(0.0) <= 0.0 {
                continue;
            }
            let id = r["id"].as_str().unwrap_or_default();
            let audit = &report["audits"][id];
            if let Some(s) = audit["score"].as_f64() {
                if s < 0.9 {
                    let shown = audit["displayValue"].as_str().unwrap_or("");
                    // What the browser's console said: the first line of each message.
                    let said: Vec<&str> = audit["details"]["items"]
                        .as_array()
                        .filter(|_| id == "errors-in-console")
                        .into_iter()
                        .flatten()
                        .filter_map(|item| item["description"].as_str())
                        .filter_map(|d| d.lines().next())
                        .collect();
                    let said = if said.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", said.join(" / "))
                    };
                    missed.push(format!("{id} {shown}{said}").trim().to_owned());
                }
            }
        }
    }
    Ok(Scores {
        performance: score("performance"),
        accessibility: score("accessibility"),
        best_practices: score("best-practices"),
        missed,
    })
}
