//! What every run starts with: the stand-in FlexPortal, the mail sink and one Folio against
//! both; and the small readings every run takes of pages and metrics.

use crate::folio::{Folio, Settings};
use crate::smtp::Inbox;
use crate::upstream::Upstream;
use crate::Paths;

/// What every run starts with: the stand-in FlexPortal, the mail sink, and one Folio against
/// both.
pub(crate) struct Rig {
    pub upstream: Upstream,
    pub inbox: Inbox,
    pub smtp_url: String,
    pub folio: Folio,
}

impl Rig {
    /// Folio gets `budget` upstream requests a minute and the `extra` settings; the stand-in
    /// answers 429 beyond `upstream_limit` a minute, if given.
    pub async fn start(
        paths: &Paths,
        budget: u32,
        upstream_limit: Option<u32>,
        extra: Vec<(&'static str, String)>,
    ) -> Result<Self, String> {
        let upstream = Upstream::start().await.map_err(|e| e.to_string())?;
        upstream.faults.set_rate_limit_per_minute(upstream_limit);
        let (inbox, smtp_url) = Inbox::start().await.map_err(|e| e.to_string())?;
        let folio = Folio::start(
            &paths.folio,
            &paths.site,
            &Settings {
                extra,
                ..settings(&upstream, &smtp_url, budget)
            },
        )
        .await?;
        Ok(Self {
            upstream,
            inbox,
            smtp_url,
            folio,
        })
    }
}

pub(crate) fn settings(upstream: &Upstream, smtp_url: &str, budget: u32) -> Settings {
    Settings {
        upstream_url: upstream.base_url.clone(),
        api_key: upstream.api_key.clone(),
        tenant_id: upstream.tenant_id.clone(),
        smtp_url: smtp_url.to_owned(),
        budget_per_min: budget,
        extra: Vec::new(),
        port: None,
    }
}

/// The first `/files/{id}/…` link in a page.
pub(crate) fn first_file_id(html: &[u8]) -> Option<String> {
    let html = std::str::from_utf8(html).ok()?;
    let start = html.find("/files/")? + "/files/".len();
    let id: String = html[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!id.is_empty()).then_some(id)
}

/// A value from Folio's `/metrics`.
pub(crate) fn metric(body: &[u8], name: &str) -> Option<u64> {
    String::from_utf8_lossy(body)
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
}

pub(crate) fn percentile(xs: &mut [f64], p: f64) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[((xs.len() - 1) as f64 * p).round() as usize]
}
