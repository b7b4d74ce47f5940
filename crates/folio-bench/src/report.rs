//! The report: one table of figures, each beside its baseline, written to `bench/REPORT.md`
//! and printed.

use std::fmt::Write;

#[derive(Default)]
pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

struct Row {
    figure: String,
    value: String,
    baseline: String,
    target: String,
    /// Whether the figure meets its target; `None` where there is none.
    met: Option<bool>,
}

impl Report {
    /// A figure without a target.
    pub fn row(
        &mut self,
        figure: impl Into<String>,
        value: impl Into<String>,
        baseline: impl Into<String>,
    ) {
        self.rows.push(Row {
            figure: figure.into(),
            value: value.into(),
            baseline: baseline.into(),
            target: String::new(),
            met: None,
        });
        self.echo();
    }

    /// A figure with a target, and whether it meets it.
    pub fn goal(
        &mut self,
        figure: impl Into<String>,
        value: impl Into<String>,
        baseline: impl Into<String>,
        target: impl Into<String>,
        met: bool,
    ) {
        self.rows.push(Row {
            figure: figure.into(),
            value: value.into(),
            baseline: baseline.into(),
            target: target.into(),
            met: Some(met),
        });
        self.echo();
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        println!("  note: {note}");
        self.notes.push(note);
    }

    /// Prints the newest row as it is taken, so a long run shows progress.
    fn echo(&self) {
        if let Some(r) = self.rows.last() {
            println!("  {}: {} (baseline: {})", r.figure, r.value, r.baseline);
        }
    }

    pub fn markdown(&self, title: &str, machine: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# {title}\n\n{machine}\n");
        let _ = writeln!(
            out,
            "| Figure | Folio | Baseline (same run) | Target | Met |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|");
        for r in &self.rows {
            let met = match r.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "",
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                r.figure, r.value, r.baseline, r.target, met
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}

/// The machine and the moment, for the report's head.
pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kb| format!("{:.1} GiB", kb as f64 / 1_048_576.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| k.trim().to_owned())
        .unwrap_or_default();
    let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"]);
    let dirty =
        if command_output("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty() {
            ""
        } else {
            " (with uncommitted changes)"
        };
    format!(
        "Taken {date} at commit {commit}{dirty} on {cores} cores ({cpu}), {memory} memory, Linux {kernel}. \
         Folio, the stand-in FlexPortal, the ceiling server and the load generator (wrk) share \
         this machine, so every figure stands beside a baseline measured in the same run."
    )
}

fn command_output(program: &str, args: &[&str]) -> String {
    std::process::Command::new(program)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// `12 345` style for large counts.
pub fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / 1_048_576.0)
}

pub fn kb(bytes: u64) -> String {
    format!("{:.1} KB", bytes as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(1234567.4), "1,234,567");
        assert_eq!(super::thousands(999.0), "999");
    }
}
