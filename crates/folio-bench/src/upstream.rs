//! The stand-in FlexPortal, served from the driver's process, with every API call's start and
//! end recorded: the time Folio spends waiting for it is measured, not assumed.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::{extract::Request, middleware::Next, response::Response};
use flexportal_sim::{Counters, Faults, Sim, Tenant};
use tokio::net::TcpListener;

/// Generated customers beside the demo ones, for cold views and the budget figure.
pub const CROWD: usize = 400;

pub struct Upstream {
    pub base_url: String,
    pub api_key: String,
    pub tenant_id: String,
    pub faults: Faults,
    pub counters: Counters,
    spans: Spans,
    task: tokio::task::JoinHandle<()>,
}

/// Start and end of each answered API call, and the start of every call (hanging ones too).
#[derive(Clone, Default)]
struct Spans(
    Arc<Mutex<Vec<(Instant, Instant)>>>,
    Arc<Mutex<Vec<Instant>>>,
);

impl Upstream {
    pub async fn start() -> std::io::Result<Self> {
        let sim = Sim::demo().with_tenant(Tenant::demo_with_crowd(CROWD));
        let (api_key, tenant_id) = (sim.api_key().to_owned(), sim.tenant_id().to_owned());
        let (faults, counters) = (sim.faults(), sim.counters());
        let spans = Spans::default();
        let recording = spans.clone();
        let app = flexportal_sim::router(sim.into_state()).layer(axum::middleware::from_fn(
            move |request: Request, next: Next| {
                let spans = recording.clone();
                async move { spans.record(request, next).await }
            },
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            base_url,
            api_key,
            tenant_id,
            faults,
            counters,
            spans,
            task,
        })
    }

    /// Wall time within `from..to` during which at least one API call was open, in seconds.
    pub fn busy_between(&self, from: Instant, to: Instant) -> f64 {
        let mut spans: Vec<(Instant, Instant)> = self
            .spans
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(s, e)| *e > from && *s < to)
            .map(|(s, e)| ((*s).max(from), (*e).min(to)))
            .collect();
        spans.sort();
        let mut busy = 0.0;
        let mut current: Option<(Instant, Instant)> = None;
        for (s, e) in spans {
            current = match current {
                Some((cs, ce)) if s <= ce => Some((cs, ce.max(e))),
                Some((cs, ce)) => {
                    busy += (ce - cs).as_secs_f64();
                    Some((s, e))
                }
                None => Some((s, e)),
            };
        }
        if let Some((cs, ce)) = current {
            busy += (ce - cs).as_secs_f64();
        }
        busy
    }

    /// The most API calls started within any `window` so far.
    pub fn max_calls_in(&self, window: std::time::Duration) -> u64 {
        let mut starts = self
            .spans
            .1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        starts.sort();
        let mut most = 0;
        let mut from = 0;
        for to in 0..starts.len() {
            while starts[to] - starts[from] >= window {
                from += 1;
            }
            most = most.max(to - from + 1);
        }
        most as u64
    }

    pub fn forget_spans(&self) {
        self.spans
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.spans
            .1
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Spans {
    async fn record(&self, request: Request, next: Next) -> Response {
        // Only API calls: signed file URLs are fetched by browsers, not by Folio.
        let api = request.uri().path().starts_with("/v1/");
        let start = Instant::now();
        if api {
            self.1.lock().unwrap_or_else(|e| e.into_inner()).push(start);
        }
        let response = next.run(request).await;
        if api {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((start, Instant::now()));
        }
        response
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}
