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
            panics_reactive_disposed: series.panics("reactive_disposed"),
            panics_other: series.panics("other"),
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
            (&self.page_cache_hits, pages.hits),
            (&self.page_cache_misses, pages.misses),
            (&self.panics_reactive_disposed, panics.reactive_disposed),
            (&self.panics_other, panics.other),
        ] {
            counter.absolute(value);
        }
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

    fn counter(&self, name: &'static str, help: &'static str) -> Counter {
        self.0.describe_counter(
            KeyName::from_const_str(name),
            None,
            SharedString::const_str(help),
        );
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

    /// One kind of `folio_panics_total`.
    fn panics(&self, kind: &'static str) -> Counter {
        const NAME: &str = "folio_panics_total";
        self.0.describe_counter(
            KeyName::from_const_str(NAME),
            None,
            SharedString::const_str(
                "Panics of this process: reactive_disposed are Leptos tasks that outlived their \
                 render (no answer affected); other are bugs.",
            ),
        );
        let key = Key::from_parts(NAME, vec![Label::from_static_parts("kind", kind)]);
        self.0.register_counter(&key, &Self::metadata())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(metrics: &Metrics) -> String {
        metrics.render(Sources::default())
    }

    #[test]
    fn every_series_keeps_its_name_type_and_help() {
        let text = rendered(&Metrics::new());
        for (name, kind) in [
            ("folio_upstream_requests_total", "counter"),
            ("folio_upstream_cache_hits_total", "counter"),
            ("folio_upstream_cache_misses_total", "counter"),
            ("folio_upstream_coalesced_total", "counter"),
            ("folio_upstream_stale_served_total", "counter"),
            ("folio_upstream_rate_limited_total", "counter"),
            ("folio_upstream_retries_total", "counter"),
            ("folio_upstream_failures_total", "counter"),
            ("folio_page_cache_hits_total", "counter"),
            ("folio_page_cache_misses_total", "counter"),
            ("folio_sign_in_codes_compared_total", "counter"),
            ("folio_sign_in_codes_refused_total", "counter"),
            ("folio_panics_total", "counter"),
            ("folio_page_cache_pages", "gauge"),
            ("folio_page_cache_bytes", "gauge"),
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}: {text}"
            );
            assert!(text.contains(&format!("# HELP {name} ")), "{name}");
        }
        assert!(
            text.contains("folio_panics_total{kind=\"reactive_disposed\"} 0\n"),
            "{text}"
        );
        assert!(
            text.contains("folio_panics_total{kind=\"other\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn two_apps_in_one_process_keep_their_own_counts() {
        let (one, other) = (Metrics::new(), Metrics::new());
        one.code_try(true);
        one.code_try(false);
        one.code_try(false);
        let pages = PageCacheStats {
            hits: 7,
            misses: 3,
            pages: 2,
            bytes: 4096,
        };
        let one = one.render(Sources {
            upstream: flexportal::MetricsSnapshot {
                upstream_requests: 42,
                ..Default::default()
            },
            pages,
            panics: PanicCounts::default(),
        });
        assert!(
            one.contains("folio_sign_in_codes_compared_total 1\n"),
            "{one}"
        );
        assert!(
            one.contains("folio_sign_in_codes_refused_total 2\n"),
            "{one}"
        );
        assert!(one.contains("folio_upstream_requests_total 42\n"), "{one}");
        assert!(one.contains("folio_page_cache_hits_total 7\n"), "{one}");
        assert!(one.contains("folio_page_cache_bytes 4096\n"), "{one}");
        let other = rendered(&other);
        assert!(
            other.contains("folio_sign_in_codes_compared_total 0\n"),
            "{other}"
        );
        assert!(
            other.contains("folio_upstream_requests_total 0\n"),
            "{other}"
        );
    }
}
