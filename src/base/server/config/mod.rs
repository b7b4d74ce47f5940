//! Typed configuration from the environment, validated once at start-up.
//!
//! Every variable is documented on its field and in the README's configuration table. A missing
//! or malformed value is reported as one line naming the variable, and Folio exits.

use std::fmt;
use std::net::SocketAddr;
use std::str::FromStr;

use secrecy::SecretString;

mod answers;
mod parse;

pub use answers::AnswersConfig;

/// Folio's whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `FOLIO_ADDR`: the address to listen on. Default `127.0.0.1:3000`.
    pub addr: SocketAddr,
    /// `FOLIO_PUBLIC_URL`: the address people use to reach Folio, e.g. `https://docs.example.com`.
    /// Decides the origin that state-changing requests must come from and whether cookies are
    /// `Secure`. Default `http://` + `FOLIO_ADDR`.
    pub public_url: PublicUrl,
    /// The tenant's brand.
    pub brand: Brand,
    /// Where the customer data comes from.
    pub upstream: Upstream,
    /// `FLEXPORTAL_RATE_LIMIT_PER_MIN`: upstream requests a minute for the whole tenant. Default
    /// 100 (the Starter tier).
    pub upstream_rate_limit_per_min: u32,
    /// `FLEXPORTAL_TIMEOUT_MS`: how long one upstream request may take. Default 10000.
    pub upstream_timeout_ms: u32,
    /// How answers are kept and refreshed, and how the budget is shared.
    pub answers: AnswersConfig,
    /// `FOLIO_PAGE_CACHE_MB`: memory for rendered customer pages kept while their upstream
    /// answers stay current (`base::server::page_cache`); 0 keeps none. Default 32.
    pub page_cache_mb: u32,
    /// Downloads of many documents at once.
    pub archives: ArchiveConfig,
    /// Logging.
    pub log: LogConfig,
    /// `LEPTOS_SITE_ROOT`: the folder holding the built site (`pkg/` and public assets). Default
    /// `target/site`, where cargo-leptos puts it.
    pub site_root: String,
    /// `DATABASE_URL`: `sqlite://path/to/file.db` (default `sqlite://data/folio.db`, created on
    /// first run) or `postgres://…` for several instances.
    pub database_url: String,
    /// `FOLIO_SESSION_SECRET`: at least 32 characters; keys the hashes of sign-in codes.
    /// Required with a real tenant; in demo mode one is generated and stored on first run.
    pub session_secret: Option<SecretString>,
    /// Mail delivery.
    pub mail: MailConfig,
    /// Sessions and sign-in limits.
    pub auth: AuthConfig,
    /// `FOLIO_METRICS_TOKEN`: when set (at least 16 characters), `/metrics` answers only
    /// requests with `Authorization: Bearer <token>`; when unset, only clients on this machine
    /// that did not come through a proxy.
    pub metrics_token: Option<SecretString>,
}

/// `SMTP_URL` and `MAIL_FROM`.
#[derive(Debug, Clone)]
pub struct MailConfig {
    /// `SMTP_URL`, e.g. `smtps://user:password@mail.example.com` or `smtp://127.0.0.1:2525`.
    /// Required with a real tenant; in demo mode mail goes to the outbox page (and also to
    /// this server when set).
    pub smtp_url: Option<SecretString>,
    /// `MAIL_FROM`, e.g. `Acme Rentals <portal@acme.example>`. Default: the brand name at
    /// `no-reply@localhost`.
    pub from: String,
}

/// How long sessions live and how often sign-in may be asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// `FOLIO_SESSION_IDLE_MINUTES`: a session ends after this long without a request. Default 30.
    pub idle_minutes: u32,
    /// `FOLIO_SESSION_MAX_HOURS`: a session ends this long after sign-in, whatever. Default 12.
    pub max_hours: u32,
    /// `FOLIO_SIGNIN_LIMIT_PER_EMAIL`: sign-in mails per address per 15 minutes. Default 3.
    pub per_email_per_15_min: u32,
    /// `FOLIO_SIGNIN_LIMIT_PER_IP`: sign-in requests (and code tries) per client address per
    /// 15 minutes. Default 20; at three times that, the address gets 429.
    pub per_ip_per_15_min: u32,
    /// `FOLIO_TRUST_X_FORWARDED_FOR` and `FOLIO_TRUSTED_PROXY_HOPS`: how many proxies in front
    /// of Folio append to `X-Forwarded-For`. The client address is then the entry this many
    /// from the right of all its lines read as one list (1: the one the nearest proxy added).
    /// 0, the default, reads no such header: the client is the connection's peer.
    pub trusted_proxy_hops: u32,
}

/// The public address of the portal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    /// `scheme://host[:port]`, as browsers send it in the `Origin` header.
    pub origin: String,
    /// True when the portal is served over https.
    pub https: bool,
}

/// The tenant's brand, shown in the header, the page titles and the mails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand {
    /// `FOLIO_BRAND_NAME`: default `Folio`.
    pub name: String,
    /// `FOLIO_BRAND_COLOR`: `#rgb` or `#rrggbb`, default `#1f5fbf`.
    pub color: String,
    /// `FOLIO_BRAND_LOGO`: an image address (a path on this site or an https URL). Optional.
    pub logo: Option<String>,
}

/// Which FlexPortal Folio talks to.
#[derive(Debug, Clone)]
pub enum Upstream {
    /// No tenant configured: Folio runs the built-in stand-in with a seeded demo tenant.
    Demo,
    /// A real tenant: `FLEXPORTAL_BASE_URL`, `FLEXPORTAL_TENANT_ID` and `FLEXPORTAL_API_KEY`,
    /// all three or none.
    Tenant {
        base_url: String,
        tenant_id: String,
        api_key: SecretString,
    },
}

impl Upstream {
    pub fn is_demo(&self) -> bool {
        matches!(self, Upstream::Demo)
    }
}

/// Limits of `/documents.zip`, which fetches every selected file from FlexPortal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveConfig {
    /// `FOLIO_ARCHIVE_MAX_FILES`: most documents in one archive. Default 1000 (a large
    /// business customer's documents of a year), at most 10000.
    pub max_files: u32,
    /// `FOLIO_ARCHIVE_MAX_MB`: most bytes of documents in one archive, in MiB. Default 2048,
    /// at most 3500 (the archive's format stays within 4 GiB).
    pub max_mb: u32,
    /// `FOLIO_ARCHIVE_STREAM_FILES`: most documents a download may fetch while the reader
    /// waits, since each needs a signed URL from FlexPortal (one request of the budget).
    /// Documents whose URL is still at hand do not count. Default a quarter of the tenant's
    /// per-minute limit (25 on Starter), so that one download cannot spend the minute.
    pub stream_files: u32,
    /// `FOLIO_ARCHIVES_AT_ONCE`: downloads one person may have running at once, per instance,
    /// and background archives one person may have in the making. Default 2.
    pub at_once: u32,
    /// `FOLIO_ARCHIVES_RUNNING`: background archives in the making at once for the whole
    /// tenant, of everyone, on every instance: they share the budget's background share with
    /// the refreshes behind readers. Default 4.
    pub running: u32,
    /// `FOLIO_ARCHIVE_KEEP_MB`: most bytes of finished background archives one person may have
    /// kept at a time, in MiB. Default 4096.
    pub keep_mb: u32,
    /// `FOLIO_ARCHIVE_KEEP_HOURS`: how long a finished background archive is kept. Default 24.
    pub keep_hours: u32,
}

/// How Folio logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// `FOLIO_LOG`: a tracing filter such as `info` or `folio=debug,info`. Default `info`.
    pub filter: String,
    /// `FOLIO_LOG_FORMAT`: `text` (default) or `json`, one object a line.
    pub json: bool,
}

/// A configuration problem: which variable, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.var, self.problem)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup`, which answers a variable's value. Empty values
    /// count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };

        let addr = match get("FOLIO_ADDR") {
            Some(v) => v.parse::<SocketAddr>().map_err(|_| {
                err(
                    "FOLIO_ADDR",
                    format!("expected host:port such as 127.0.0.1:3000, got {v:?}"),
                )
            })?,
            None => SocketAddr::from(([127, 0, 0, 1], 3000)),
        };

        let public_url = match get("FOLIO_PUBLIC_URL") {
            Some(v) => PublicUrl::parse(&v).map_err(|p| err("FOLIO_PUBLIC_URL", p))?,
            None => PublicUrl {
                origin: format!("http://{addr}"),
                https: false,
            },
        };

        let brand = Brand {
            name: match get("FOLIO_BRAND_NAME") {
                Some(v) if v.chars().count() > 80 => {
                    return Err(err("FOLIO_BRAND_NAME", "at most 80 characters".into()));
                }
                Some(v) => v,
                None => "Folio".to_owned(),
            },
            color: match get("FOLIO_BRAND_COLOR") {
                Some(v) if is_hex_color(&v) => v.to_ascii_lowercase(),
                Some(v) => {
                    return Err(err(
                        "FOLIO_BRAND_COLOR",
                        format!("expected a colour like #1f5fbf, got {v:?}"),
                    ));
                }
                None => "#1f5fbf".to_owned(),
            },
            logo: match get("FOLIO_BRAND_LOGO") {
                Some(v) if is_logo_address(&v) => Some(v),
                Some(v) => {
                    return Err(err(
                        "FOLIO_BRAND_LOGO",
                        format!("expected a path starting with / or an https:// URL, got {v:?}"),
                    ));
                }
                None => None,
            },
        };

        let upstream = match (
            get("FLEXPORTAL_BASE_URL"),
            get("FLEXPORTAL_TENANT_ID"),
            get("FLEXPORTAL_API_KEY"),
        ) {
            (None, None, None) => Upstream::Demo,
            (Some(base_url), Some(tenant_id), Some(api_key)) => {
                if !(base_url.starts_with("https://") || base_url.starts_with("http://"))
                    || http::Uri::from_str(&base_url).is_err()
                {
                    return Err(err(
                        "FLEXPORTAL_BASE_URL",
                        format!(
                            "expected a URL such as https://api-eu.flexportal.io, got {base_url:?}"
                        ),
                    ));
                }
                Upstream::Tenant {
                    base_url: base_url.trim_end_matches('/').to_owned(),
                    tenant_id,
                    api_key: SecretString::from(api_key),
                }
            }
            (base, tenant, _) => {
                let missing = if base.is_none() {
                    "FLEXPORTAL_BASE_URL"
                } else if tenant.is_none() {
                    "FLEXPORTAL_TENANT_ID"
                } else {
                    "FLEXPORTAL_API_KEY"
                };
                return Err(err(
                    missing,
                    "missing: set FLEXPORTAL_BASE_URL, FLEXPORTAL_TENANT_ID and FLEXPORTAL_API_KEY \
                     together, or none of them for demo mode"
                        .into(),
                ));
            }
        };

        let upstream_rate_limit_per_min = match get("FLEXPORTAL_RATE_LIMIT_PER_MIN") {
            Some(v) => match v.parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) => n,
                _ => {
                    return Err(err(
                        "FLEXPORTAL_RATE_LIMIT_PER_MIN",
                        format!("expected a whole number from 1 to 100000, got {v:?}"),
                    ));
                }
            },
            None => 100,
        };

        let log = LogConfig {
            filter: get("FOLIO_LOG").unwrap_or_else(|| "info".to_owned()),
            json: match get("FOLIO_LOG_FORMAT").as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(other) => {
                    return Err(err(
                        "FOLIO_LOG_FORMAT",
                        format!("expected text or json, got {other:?}"),
                    ));
                }
            },
        };
        if tracing_subscriber::EnvFilter::try_new(&log.filter).is_err() {
            return Err(err(
                "FOLIO_LOG",
                format!("not a valid log filter: {:?}", log.filter),
            ));
        }

        let database_url =
            get("DATABASE_URL").unwrap_or_else(|| "sqlite://data/folio.db".to_owned());
        let valid_db = ["sqlite://", "postgres://", "postgresql://"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme) && database_url.len() > scheme.len());
        if !valid_db {
            return Err(err(
                "DATABASE_URL",
                "expected sqlite://path/to/file.db or postgres://user@host/database".into(),
            ));
        }

        let session_secret = match get("FOLIO_SESSION_SECRET") {
            Some(v) if v.chars().count() >= 32 => Some(SecretString::from(v)),
            Some(_) => {
                return Err(err(
                    "FOLIO_SESSION_SECRET",
                    "must be at least 32 characters".into(),
                ))
            }
            None if upstream.is_demo() => None,
            None => {
                return Err(err(
                    "FOLIO_SESSION_SECRET",
                    "missing: required with a FlexPortal tenant (at least 32 random characters)"
                        .into(),
                ));
            }
        };

        let smtp_url = match get("SMTP_URL") {
            Some(v) if v.starts_with("smtp://") || v.starts_with("smtps://") => {
                Some(SecretString::from(v))
            }
            Some(_) => {
                return Err(err(
                    "SMTP_URL",
                    "expected smtp://host:port or smtps://user:password@host".into(),
                ))
            }
            None if upstream.is_demo() => None,
            None => {
                return Err(err(
                    "SMTP_URL",
                    "missing: required with a FlexPortal tenant".into(),
                ))
            }
        };
        let from = match get("MAIL_FROM") {
            Some(v) if v.parse::<lettre::message::Mailbox>().is_ok() => v,
            Some(v) => {
                return Err(err(
                    "MAIL_FROM",
                    format!("expected an address like Acme <portal@acme.example>, got {v:?}"),
                ))
            }
            None => format!(
                "{} <no-reply@localhost>",
                brand.name.replace(['<', '>', '"'], "")
            ),
        };

        let whole = |name: &'static str, default: u32, min: u32, max: u32| {
            parse::whole(&get, name, default, min, max).map_err(|(var, problem)| err(var, problem))
        };
        let number = |name: &'static str, default: u32, max: u32| whole(name, default, 1, max);
        let upstream_timeout_ms = number("FLEXPORTAL_TIMEOUT_MS", 10_000, 120_000)?;
        let answers = AnswersConfig::from_lookup(&get, upstream_rate_limit_per_min)
            .map_err(|(var, problem)| err(var, problem))?;
        let page_cache_mb = whole("FOLIO_PAGE_CACHE_MB", 32, 0, 4096)?;
        let archives = ArchiveConfig {
            max_files: number("FOLIO_ARCHIVE_MAX_FILES", 1000, 10_000)?,
            max_mb: number("FOLIO_ARCHIVE_MAX_MB", 2048, 3500)?,
            stream_files: number(
                "FOLIO_ARCHIVE_STREAM_FILES",
                (upstream_rate_limit_per_min / 4).max(1),
                100_000,
            )?,
            at_once: number("FOLIO_ARCHIVES_AT_ONCE", 2, 100)?,
            running: number("FOLIO_ARCHIVES_RUNNING", 4, 1000)?,
            keep_mb: number("FOLIO_ARCHIVE_KEEP_MB", 4096, 1_000_000)?,
            keep_hours: number("FOLIO_ARCHIVE_KEEP_HOURS", 24, 24 * 7)?,
        };
        let auth = AuthConfig {
            idle_minutes: number("FOLIO_SESSION_IDLE_MINUTES", 30, 24 * 60)?,
            max_hours: number("FOLIO_SESSION_MAX_HOURS", 12, 24 * 30)?,
            per_email_per_15_min: number("FOLIO_SIGNIN_LIMIT_PER_EMAIL", 3, 1000)?,
            per_ip_per_15_min: number("FOLIO_SIGNIN_LIMIT_PER_IP", 20, 100_000)?,
            trusted_proxy_hops: match get("FOLIO_TRUST_X_FORWARDED_FOR").as_deref() {
                Some("true") => whole("FOLIO_TRUSTED_PROXY_HOPS", 1, 1, 10)?,
                None | Some("false") if get("FOLIO_TRUSTED_PROXY_HOPS").is_some() => {
                    return Err(err(
                        "FOLIO_TRUSTED_PROXY_HOPS",
                        "set, but FOLIO_TRUST_X_FORWARDED_FOR is not true".into(),
                    ));
                }
                None | Some("false") => 0,
                Some(other) => {
                    return Err(err(
                        "FOLIO_TRUST_X_FORWARDED_FOR",
                        format!("expected true or false, got {other:?}"),
                    ));
                }
            },
        };

        let metrics_token = match get("FOLIO_METRICS_TOKEN") {
            Some(v) if v.len() >= 16 && v.bytes().all(|b| b.is_ascii_graphic()) => {
                Some(SecretString::from(v))
            }
            Some(_) => {
                return Err(err(
                    "FOLIO_METRICS_TOKEN",
                    "expected at least 16 printable characters without spaces".into(),
                ))
            }
            None => None,
        };

        Ok(Config {
            metrics_token,
            database_url,
            session_secret,
            mail: MailConfig { smtp_url, from },
            auth,
            addr,
            public_url,
            brand,
            upstream,
            upstream_rate_limit_per_min,
            upstream_timeout_ms,
            answers,
            page_cache_mb,
            archives,
            log,
            site_root: get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".to_owned()),
        })
    }
}

impl PublicUrl {
    /// Accepts `http(s)://host[:port]` with an optional trailing slash, nothing more: Folio is
    /// served from the root of its host.
    pub fn parse(value: &str) -> Result<Self, String> {
        let problem =
            || format!("expected an origin such as https://docs.example.com, got {value:?}");
        let uri = http::Uri::from_str(value.trim_end_matches('/')).map_err(|_| problem())?;
        let https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(problem()),
        };
        let authority = uri.authority().ok_or_else(problem)?;
        if authority.as_str().contains('@')
            || !matches!(uri.path(), "" | "/")
            || uri.query().is_some()
        {
            return Err(problem());
        }
        Ok(PublicUrl {
            origin: format!(
                "{}://{}",
                if https { "https" } else { "http" },
                authority.as_str().to_ascii_lowercase()
            ),
            https,
        })
    }
}

fn err(var: &'static str, problem: String) -> ConfigError {
    ConfigError { var, problem }
}

fn is_hex_color(v: &str) -> bool {
    let Some(hex) = v.strip_prefix('#') else {
        return false;
    };
    matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit())
}

fn is_logo_address(v: &str) -> bool {
    let safe = v.chars().all(|c| c.is_ascii_graphic()) && !v.contains(['"', '\'', '<', '>', '\\']);
    safe && ((v.starts_with('/') && !v.starts_with("//")) || v.starts_with("https://"))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_give_demo_mode_on_localhost() {
        let c = config(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url.origin, "http://127.0.0.1:3000");
        assert!(c.upstream.is_demo());
        assert_eq!(c.upstream_rate_limit_per_min, 100);
        assert_eq!(c.brand.name, "Folio");
    }

    #[test]
    fn each_bad_value_names_its_variable() {
        for (var, value) in [
            ("FOLIO_ADDR", "localhost"),
            ("FOLIO_PUBLIC_URL", "ftp://example.com"),
            ("FOLIO_PUBLIC_URL", "https://example.com/portal"),
            ("FOLIO_BRAND_COLOR", "red; background: url(x)"),
            ("FOLIO_BRAND_LOGO", "javascript:alert(1)"),
            ("FLEXPORTAL_RATE_LIMIT_PER_MIN", "0"),
            ("FLEXPORTAL_RATE_LIMIT_PER_MIN", "lots"),
            ("FOLIO_LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://db"),
            ("FOLIO_SESSION_SECRET", "short"),
            ("SMTP_URL", "http://mail"),
            ("MAIL_FROM", "not an address"),
            ("FOLIO_SESSION_IDLE_MINUTES", "0"),
            ("FOLIO_TRUST_X_FORWARDED_FOR", "yes"),
        ] {
            let e = config(&[(var, value)]).unwrap_err();
            assert_eq!(e.var, var, "{var}={value} gave {e}");
            assert!(e.to_string().starts_with(var));
        }
    }

    #[test]
    fn a_partial_tenant_names_the_missing_variable() {
        let e = config(&[
            ("FLEXPORTAL_BASE_URL", "https://api-eu.flexportal.io"),
            ("FLEXPORTAL_API_KEY", "k"),
        ])
        .unwrap_err();
        assert_eq!(e.var, "FLEXPORTAL_TENANT_ID");
    }

    #[test]
    fn a_full_tenant_keeps_its_key_secret() {
        let c = config(&[
            ("FLEXPORTAL_BASE_URL", "https://api-eu.flexportal.io/"),
            ("FLEXPORTAL_TENANT_ID", "bu_1"),
            ("FLEXPORTAL_API_KEY", "sk_live_very_secret"),
            ("FOLIO_SESSION_SECRET", "0123456789abcdef0123456789abcdef"),
            ("SMTP_URL", "smtps://portal:pw@mail.example.com"),
        ])
        .unwrap();
        let Upstream::Tenant {
            base_url, api_key, ..
        } = &c.upstream
        else {
            panic!("expected a tenant");
        };
        assert_eq!(base_url, "https://api-eu.flexportal.io");
        assert_eq!(api_key.expose_secret(), "sk_live_very_secret");
        assert!(!format!("{c:?}").contains("sk_live_very_secret"));
    }

    #[test]
    fn a_tenant_needs_a_session_secret_and_mail() {
        let tenant = [
            ("FLEXPORTAL_BASE_URL", "https://api-eu.flexportal.io"),
            ("FLEXPORTAL_TENANT_ID", "bu_1"),
            ("FLEXPORTAL_API_KEY", "k"),
        ];
        assert_eq!(config(&tenant).unwrap_err().var, "FOLIO_SESSION_SECRET");
        let mut with_secret = tenant.to_vec();
        with_secret.push(("FOLIO_SESSION_SECRET", "0123456789abcdef0123456789abcdef"));
        assert_eq!(config(&with_secret).unwrap_err().var, "SMTP_URL");
    }

    #[test]
    fn public_url_decides_https() {
        let c = config(&[("FOLIO_PUBLIC_URL", "https://Docs.Example.com/")]).unwrap();
        assert_eq!(c.public_url.origin, "https://docs.example.com");
        assert!(c.public_url.https);
    }
}
