//! How Folio keeps FlexPortal's answers and spends the tenant's budget: the answer store,
//! freshness, the budget's window and shares, and the webhook secret.

use std::time::Duration;

use flexportal::{Allowance, Freshness, Shares};
use secrecy::SecretString;

use super::parse::{self, Problem};

fn err(var: &'static str, problem: String) -> Problem {
    (var, problem)
}

/// `FOLIO_*` settings of the upstream economy (see the README's "Answers, freshness and the
/// budget").
#[derive(Debug, Clone)]
pub struct AnswersConfig {
    /// `FOLIO_ANSWER_STORE`: `database` (default: answers kept in Folio's database, shared by
    /// every instance on it) or `memory` (this process only, gone at restart).
    pub shared_store: bool,
    /// `FOLIO_STALE_WHILE_REVALIDATE`: `true` (default) serves a kept answer past its
    /// freshness at once and refreshes it behind the reader; `false` makes the reader wait.
    pub stale_while_revalidate: bool,
    /// Freshness of each kind of answer (`FLEXPORTAL_CACHE_TTL_SECS`, `FOLIO_FRESH_*`,
    /// `FOLIO_ADAPTIVE_FRESHNESS`). `FOLIO_COMPRESS_TIME` (for benchmarks; default 1) divides
    /// every freshness and the budget's window, so that a day compressed into minutes keeps a
    /// day's proportions.
    pub freshness: Freshness,
    /// The tenant's budget: `FLEXPORTAL_RATE_LIMIT_PER_MIN` requests per
    /// `FOLIO_BUDGET_WINDOW_SECS` (default 61: a minute and a margin), with
    /// `FOLIO_BUDGET_BACKGROUND_PERCENT` (30) and `FOLIO_BUDGET_SIGNIN_PERCENT` (20).
    pub allowance: Allowance,
    /// `FOLIO_ANSWER_RETENTION_DAYS`: kept answers unused this long are dropped. Default 30.
    pub retention_days: u32,
    /// `FOLIO_ANSWER_STORE_MB`: the most the kept answers may take in the database; the least
    /// recently used go first. Default 256.
    pub store_mb: u32,
    /// `FOLIO_COMPRESS_TIME`, as a factor on the client's pauses: 1 except in benchmarks.
    pub time_scale: f64,
    /// `FOLIO_WEBHOOK_SECRET`: at least 24 characters; without it, `/hooks/flexportal` does
    /// not exist.
    pub webhook_secret: Option<SecretString>,
}

impl AnswersConfig {
    pub(super) fn from_lookup(
        get: &dyn Fn(&str) -> Option<String>,
        requests_per_minute: u32,
    ) -> Result<Self, Problem> {
        let whole = |name, default, min, max| parse::whole(get, name, default, min, max);
        let switch = |name: &'static str, default: bool| match get(name).as_deref() {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(err(name, format!("expected true or false, got {other:?}"))),
        };
        let secs = |name, default, max| {
            whole(name, default, 1, max).map(|n| Duration::from_secs(u64::from(n)))
        };
        let shared_store = match get("FOLIO_ANSWER_STORE").as_deref() {
            None | Some("database") => true,
            Some("memory") => false,
            Some(other) => {
                return Err(err(
                    "FOLIO_ANSWER_STORE",
                    format!("expected database or memory, got {other:?}"),
                ))
            }
        };
        let records = secs("FLEXPORTAL_CACHE_TTL_SECS", 120, 86_400)?;
        let adaptive = switch("FOLIO_ADAPTIVE_FRESHNESS", true)?;
        let freshness = if adaptive {
            let files_floor = secs("FOLIO_FRESH_FILES_MIN_SECS", 60, 86_400)?;
            let files_ceiling = secs("FOLIO_FRESH_FILES_MAX_SECS", 3600, 7 * 86_400)?;
            if files_ceiling < files_floor {
                return Err(err(
                    "FOLIO_FRESH_FILES_MAX_SECS",
                    "must not be below FOLIO_FRESH_FILES_MIN_SECS".into(),
                ));
            }
            Freshness {
                records,
                lookups: records.min(Duration::from_secs(60)),
                billing: secs("FOLIO_FRESH_BILLING_SECS", 600, 86_400)?,
                files_floor,
                files_ceiling,
                files_fraction: f64::from(whole("FOLIO_FRESH_FILES_PERCENT", 10, 0, 100)?) / 100.0,
                files_cancelled: secs("FOLIO_FRESH_CANCELLED_SECS", 86_400, 30 * 86_400)?,
                adaptive: true,
            }
        } else {
            Freshness::flat(records)
        };
        // For benchmarks that compress a day into minutes: every freshness and the budget's
        // window run this many times faster.
        let compress = whole("FOLIO_COMPRESS_TIME", 1, 1, 100_000)?;
        let freshness = freshness.scaled(1.0 / f64::from(compress));
        let background = whole("FOLIO_BUDGET_BACKGROUND_PERCENT", 30, 0, 100)?;
        // Without a share for them, nobody could sign in.
        let sign_in = whole("FOLIO_BUDGET_SIGNIN_PERCENT", 20, 1, 100)?;
        if background + sign_in > 100 {
            return Err(err(
                "FOLIO_BUDGET_SIGNIN_PERCENT",
                "with FOLIO_BUDGET_BACKGROUND_PERCENT, more than 100".into(),
            ));
        }
        let allowance = Allowance {
            limit: requests_per_minute,
            window: secs("FOLIO_BUDGET_WINDOW_SECS", 61, 3600)?.div_f64(f64::from(compress)),
            shares: Shares {
                background,
                sign_in,
            },
        };
        let webhook_secret = match get("FOLIO_WEBHOOK_SECRET") {
            Some(v)
                if v.len() >= 24
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.~".contains(&b)) =>
            {
                Some(SecretString::from(v))
            }
            Some(_) => {
                return Err(err(
                    "FOLIO_WEBHOOK_SECRET",
                    "expected at least 24 letters, digits or -_.~ (it may travel in a URL)".into(),
                ))
            }
            None => None,
        };
        Ok(Self {
            shared_store,
            stale_while_revalidate: switch("FOLIO_STALE_WHILE_REVALIDATE", true)?,
            freshness,
            allowance,
            time_scale: 1.0 / f64::from(compress),
            retention_days: whole("FOLIO_ANSWER_RETENTION_DAYS", 30, 1, 3650)?,
            store_mb: whole("FOLIO_ANSWER_STORE_MB", 256, 1, 1_000_000)?,
            webhook_secret,
        })
    }
}
