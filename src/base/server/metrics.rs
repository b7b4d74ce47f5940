//! Folio's metrics, kept by the `metrics` library and written in Prometheus' text format by its
//! Prometheus exporter, for `/metrics` (see [`super::health::metrics`]).
//!
//! Each app has a recorder of its own, held in its state: none is installed for the whole
//! process, so that apps never share counts (the tests build many in one process). Folio's own
//! events are counted as they happen; what other parts keep (the FlexPortal client's counters,
//! the page cache's, the process's panics) is copied in whenever `/metrics` is read.

use metrics::{Counter, Gauge, Key, KeyName, Label, Level, Metadata, Recorder, SharedString};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

use crate::base::server::page_cache::PageCacheStats;
use crate::base::server::telemetry::PanicCounts;

/// One app's series.
pub struct Metrics {
    handle: PrometheusHandle,
    upstream_requests: Counter,
    upstream_cache_hits: Counter,
    upstream_cache_misses: Counter,
    upstream_coalesced: Counter,
    upstream_stale_served: Counter,
    upstream_rate_limited: Counter,
    upstream_retries: Counter,
    upstream_failures: Counter,
    upstream_store_loads: Counter,
    upstream_refreshes: Counter,
    upstream_refresh_failures: Counter,
    upstream_granted: [Counter; 3],
    upstream_refreshing: Gauge,
    page_cache_hits: Counter,
    page_cache_misses: Counter,
    codes_compared: Counter,
    codes_refused: Counter,
    panics_reactive_disposed: Counter,
    panics_other: Counter,
    page_cache_pages: Gauge,
    page_cache_bytes: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// What the other parts keep, read when `/metrics` is.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sources {
    pub upstream: flexportal::MetricsSnapshot,
    pub pages: PageCacheStats,
    pub panics: PanicCounts,
}

impl Metrics {
    pub fn new() -> Self {
        let recorder = PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        let series = Series(&recorder);
        let [panics_reactive_disposed, panics_other] = series.panics();
        let upstream_granted = series.granted();
        Self {
            handle,
            upstream_requests: series.counter(
                "folio_upstream_requests_total",
                "Requests sent to FlexPortal, retries included.",
            ),
            upstream_cache_hits: series.counter(
                "folio_upstream_cache_hits_total",
                "Upstream reads answered from the cache.",
            ),
            upstream_cache_misses: series.counter(
                "folio_upstream_cache_misses_total",
                "Upstream reads that went to FlexPortal.",
            ),
            upstream_coalesced: series.counter(
                "folio_upstream_coalesced_total",
                "Upstream reads that shared an identical read in flight.",
            ),
            upstream_stale_served: series.counter(
                "folio_upstream_stale_served_total",
                "Reads answered with stale data because FlexPortal failed.",
            ),
            upstream_rate_limited: series.counter(
                "folio_upstream_rate_limited_total",
                "429 answers from FlexPortal.",
            ),
            upstream_retries: series.counter(
                "folio_upstream_retries_total",
                "Requests to FlexPortal sent again after a failure.",
            ),
            upstream_failures: series.counter(
                "folio_upstream_failures_total",
                "Requests to FlexPortal that failed for good.",
            ),
            upstream_store_loads: series.counter(
                "folio_upstream_store_loads_total",
                "Upstream reads answered from the answers kept in the database.",
            ),
            upstream_refreshes: series.counter(
                "folio_upstream_refreshes_total",
                "Kept answers refreshed behind their readers.",
            ),
            upstream_refresh_failures: series.counter(
                "folio_upstream_refresh_failures_total",
                "Refreshes behind readers that FlexPortal failed; the kept answer stayed.",
            ),
            upstream_granted,
            upstream_refreshing: series.gauge(
                "folio_upstream_refreshing",
                "Refreshes behind readers running in this instance.",
            ),
            page_cache_hits: series.counter(
                "folio_page_cache_hits_total",
                "Customer page views answered with a kept page.",
            ),
            page_cache_misses: series.counter(
                "folio_page_cache_misses_total",
                "Customer page views rendered.",
            ),
            codes_compared: series.counter(
                "folio_sign_in_codes_compared_total",
                "Sign-in codes compared with a stored attempt's code.",
            ),
            codes_refused: series.counter(
                "folio_sign_in_codes_refused_total",
                "Sign-in codes refused uncompared: no usable attempt, or its five tries spent.",
            ),
            panics_reactive_disposed,
            panics_other,
            page_cache_pages: series.gauge("folio_page_cache_pages", "Rendered pages kept."),
            page_cache_bytes: series
                .gauge("folio_page_cache_bytes", "Bytes of rendered pages kept."),
        }
    }

    /// Counts one sign-in code try: compared with a stored attempt's code when the database
    /// granted the try, refused uncompared when it did not.
    pub fn code_try(&self, granted: bool) {
        if granted {
            self.codes_compared.increment(1);
        } else {
            self.codes_refused.increment(1);
        }
    }

    /// Every series in Prometheus' text format, with what the other parts keep as of now.
    pub fn render(&self, sources: Sources) -> String {
        let Sources {
            upstream: m,
            pages,
            panics,
        } = sources;
        for (counter, value) in [
            (&self.upstream_requests, m.upstream_requests),
            (&self.upstream_cache_hits, m.cache_hits),
            (&self.upstream_cache_misses, m.cache_misses),
            (&self.upstream_coalesced, m.coalesced),
            (&self.upstream_stale_served, m.stale_served),
            (&self.upstream_rate_limited, m.rate_limited),
            (&self.upstream_retries, m.retries),
            (&self.upstream_failures, m.failures),
            (&self.upstream_store_loads, m.store_loads),
            (&self.upstream_refreshes, m.refreshes),
            (&self.upstream_refresh_failures, m.refresh_failures),
            (&self.upstream_granted[0], m.granted_reader),
            (&self.upstream_granted[1], m.granted_sign_in),
            (&self.upstream_granted[2], m.granted_background),
            (&self.page_cache_hits, pages.hits),
            (&self.page_cache_misses, pages.misses),
            (&self.panics_reactive_disposed, panics.reactive_disposed),
            (&self.panics_other, panics.other),
        ] {
            counter.absolute(value);
        }
        self.upstream_refreshing.set(m.refreshing as f64);
        self.page_cache_pages.set(pages.pages as f64);
        self.page_cache_bytes.set(pages.bytes as f64);
        self.handle.render()
    }
}

/// Registers series on one recorder, each with its help text.
struct Series<'a>(&'a PrometheusRecorder);

impl Series<'_> {
    fn metadata() -> Metadata<'static> {
        Metadata::new(module_path!(), Level::INFO, Some(module_path!()))
    }

    fn describe_counter(&self, name: &'static str, help: &'static str) {
        self.0.describe_counter(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
    }

    fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        self.describe_counter(name, help);
        self.0
            .register_counter(&Key::from_static_name(name), &Self::metadata())
    }

    fn gauge(&self, name: &'static str, help: &'static str) -> Gauge {
        self.0.describe_gauge(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
        self.0
            .register_gauge(&Key::from_static_name(name), &Self::metadata())
    }

    /// `folio_upstream_granted_total`, one series per priority: `reader`, `sign_in` and
    /// `background`.
    fn granted(&self) -> [Counter; 3] {
        const NAME: &str = "folio_upstream_granted_total";
        self.describe_counter(
            NAME,
            "Requests the tenant's budget granted this instance, by whom they were for.",
        );
        ["reader", "sign_in", "background"].map(|priority| {
            let key = Key::from_parts(NAME, vec![Label::from_static_parts("priority", priority)]);
            self.0.register_counter(&key, &Self::metadata())
        })
    }

    /// `folio_panics_total`, one series per kind: `reactive_disposed` and `other`.
    fn panics(&self) -> [Counter; 2] {
        const NAME: &str = "folio_panics_total";
        self.describe_counter(
            NAME,
            "Panics of this process: reactive_disposed are Leptos tasks that outlived their \
             render (no answer affected); other are bugs.",
        );
        ["reactive_disposed", "other"].map(|kind| {
            let key = Key::from_parts(NAME, vec![Label::from_static_parts("kind", kind)]);
            self.0.register_counter(&key, &Self::metadata())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every series with its type and help text, as `/metrics` has always named them.
    const SERIES: [(&str, &str, &str); 20] = [
        ("folio_upstream_requests_total", "counter", "Requests sent to FlexPortal, retries included."),
        ("folio_upstream_cache_hits_total", "counter", "Upstream reads answered from the cache."),
        ("folio_upstream_cache_misses_total", "counter", "Upstream reads that went to FlexPortal."),
        ("folio_upstream_coalesced_total", "counter", "Upstream reads that shared an identical read in flight."),
        ("folio_upstream_stale_served_total", "counter", "Reads answered with stale data because FlexPortal failed."),
        ("folio_upstream_rate_limited_total", "counter", "429 answers from FlexPortal."),
        ("folio_upstream_retries_total", "counter", "Requests to FlexPortal sent again after a failure."),
        ("folio_upstream_failures_total", "counter", "Requests to FlexPortal that failed for good."),
        ("folio_upstream_store_loads_total", "counter", "Upstream reads answered from the answers kept in the database."),
        ("folio_upstream_refreshes_total", "counter", "Kept answers refreshed behind their readers."),
        ("folio_upstream_refresh_failures_total", "counter", "Refreshes behind readers that FlexPortal failed; the kept answer stayed."),
        ("folio_upstream_granted_total", "counter", "Requests the tenant's budget granted this instance, by whom they were for."),
        ("folio_upstream_refreshing", "gauge", "Refreshes behind readers running in this instance."),
        ("folio_page_cache_hits_total", "counter", "Customer page views answered with a kept page."),
        ("folio_page_cache_misses_total", "counter", "Customer page views rendered."),
        ("folio_sign_in_codes_compared_total", "counter", "Sign-in codes compared with a stored attempt's code."),
        ("folio_sign_in_codes_refused_total", "counter", "Sign-in codes refused uncompared: no usable attempt, or its five tries spent."),
        ("folio_panics_total", "counter", "Panics of this process: reactive_disposed are Leptos tasks that outlived their render (no answer affected); other are bugs."),
        ("folio_page_cache_pages", "gauge", "Rendered pages kept."),
        ("folio_page_cache_bytes", "gauge", "Bytes of rendered pages kept."),
    ];

    /// A different value for every source, so that two crossed wires cannot pass.
    fn sources() -> Sources {
        Sources {
            upstream: flexportal::MetricsSnapshot {
                upstream_requests: 101,
                cache_hits: 102,
                cache_misses: 103,
                coalesced: 104,
                stale_served: 105,
                rate_limited: 106,
                retries: 107,
                failures: 108,
                store_loads: 117,
                refreshes: 118,
                refresh_failures: 119,
                refreshing: 120,
                granted_reader: 121,
                granted_sign_in: 122,
                granted_background: 123,
            },
            pages: PageCacheStats {
                hits: 109,
                misses: 110,
                pages: 111,
                bytes: 112,
            },
            panics: PanicCounts {
                reactive_disposed: 113,
                other: 114,
            },
        }
    }

    fn value(text: &str, series: &str) -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|v| v as u64)
    }

    #[test]
    fn every_series_keeps_its_name_type_help_and_source() {
        let metrics = Metrics::new();
        for _ in 0..115 {
            metrics.code_try(true);
        }
        for _ in 0..116 {
            metrics.code_try(false);
        }
        let text = metrics.render(sources());
        for (name, kind, help) in SERIES {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}: {text}"
            );
            assert!(
                text.contains(&format!("# HELP {name} {help}\n")),
                "{name}: {text}"
            );
        }
        for (series, expected) in [
            ("folio_upstream_requests_total", 101),
            ("folio_upstream_cache_hits_total", 102),
            ("folio_upstream_cache_misses_total", 103),
            ("folio_upstream_coalesced_total", 104),
            ("folio_upstream_stale_served_total", 105),
            ("folio_upstream_rate_limited_total", 106),
            ("folio_upstream_retries_total", 107),
            ("folio_upstream_failures_total", 108),
            ("folio_page_cache_hits_total", 109),
            ("folio_page_cache_misses_total", 110),
            ("folio_page_cache_pages", 111),
            ("folio_page_cache_bytes", 112),
            ("folio_panics_total{kind=\"reactive_disposed\"}", 113),
            ("folio_panics_total{kind=\"other\"}", 114),
            ("folio_sign_in_codes_compared_total", 115),
            ("folio_sign_in_codes_refused_total", 116),
            ("folio_upstream_store_loads_total", 117),
            ("folio_upstream_refreshes_total", 118),
            ("folio_upstream_refresh_failures_total", 119),
            ("folio_upstream_refreshing", 120),
            ("folio_upstream_granted_total{priority=\"reader\"}", 121),
            ("folio_upstream_granted_total{priority=\"sign_in\"}", 122),
            ("folio_upstream_granted_total{priority=\"background\"}", 123),
        ] {
            assert_eq!(value(&text, series), Some(expected), "{series}: {text}");
        }
    }

    #[test]
    fn two_apps_in_one_process_keep_their_own_counts() {
        let (one, other) = (Metrics::new(), Metrics::new());
        one.code_try(true);
        one.code_try(false);
        one.code_try(false);
        let one = one.render(sources());
        assert_eq!(value(&one, "folio_sign_in_codes_compared_total"), Some(1));
        assert_eq!(value(&one, "folio_sign_in_codes_refused_total"), Some(2));
        let other = other.render(Sources::default());
        for series in [
            "folio_sign_in_codes_compared_total",
            "folio_sign_in_codes_refused_total",
            "folio_upstream_requests_total",
            "folio_page_cache_bytes",
        ] {
            assert_eq!(value(&other, series), Some(0), "{series}: {other}");
        }
    }
}
