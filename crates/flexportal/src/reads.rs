//! How a read is answered: from memory, else from the store, else from FlexPortal; and how
//! kept answers are refreshed behind their readers, once across all instances.

use std::sync::{Arc, Weak};
use std::time::Duration;

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::time::Instant;

use crate::answers::{Ask, FilesHint};
use crate::budget::Priority;
use crate::cache::{Fetched, Hit, Value, FAILURE_SHARED_FOR};
use crate::client::{Client, Inner};
use crate::clock::{ms, now_ms};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::model::{
    Customer, CustomersPage, Order, OrderStatus, OrdersPage, PaymentsPage, RentalsPage,
};
use crate::store::StoredAnswer;

/// How long one instance may hold a refresh's lease: long enough for the slowest refresh
/// (timeouts and retries of every page), short enough that a crashed holder's lease frees
/// itself soon.
const LEASE_FOR: Duration = Duration::from_secs(60);

/// After a refresh that failed, or was someone else's to do, how long before this process
/// tries again.
const REST_AFTER_FAILURE: Duration = Duration::from_secs(5);
const REST_AFTER_SKIP: Duration = Duration::from_secs(1);
/// After a refresh that succeeded: a flood of hints for one answer (webhooks) then costs at
/// most one call a second.
const REST_AFTER_SUCCESS: Duration = Duration::from_secs(1);

/// What an answer's freshness follows beyond the answer: its customer, and a file list's
/// order status.
type Context = (Option<String>, Option<OrderStatus>);

/// Changes are read again from this far back, so that one a slow writer committed late, or an
/// instance whose clock is a little behind, is not missed.
const CHANGES_OVERLAP_MS: i64 = 5_000;

/// Without the store's changes for this long, nothing kept in memory is trusted any more.
const CHANGES_LOST_AFTER: Duration = Duration::from_secs(300);

/// A freshly fetched answer, in both forms.
struct Answer {
    value: Value,
    stored: StoredAnswer,
}

impl Client {
    /// The answer to `ask`. From memory when it is there, else from the store, else from
    /// FlexPortal, once for all concurrent readers of the key. With stale-while-revalidate, a
    /// kept answer past its freshness is returned at once and one refresh starts behind it;
    /// only a read with no kept answer waits for FlexPortal.
    pub(crate) async fn answer<T>(
        &self,
        ask: Ask,
        hint: Option<FilesHint<'_>>,
    ) -> Result<Fetched<T>, Error>
    where
        T: DeserializeOwned + Send + Sync + 'static,
    {
        let inner = &self.inner;
        // A sign-in lookup is made behind the sign-in's answer, where waiting costs nobody,
        // and decides who gets a mail: it is never served past its freshness.
        // Without a share of the budget for background work, no refresh runs behind a reader:
        // the reader then waits for it.
        let swr = inner.config.stale_while_revalidate
            && inner.config.allowance.cap(Priority::Background) > 0
            && !matches!(ask, Ask::CustomersByEmail(_));
        let key = ask.key();
        let context: Option<Context> =
            hint.map(|h| (Some(h.customer_id.to_owned()), Some(h.status.clone())));
        let forgotten = inner.cache.is_bypassed(&key);
        if let Some(mut hit) = inner.cache.lookup(&key).filter(|_| !forgotten) {
            // A file list kept for an order whose status has changed since: its freshness
            // no longer follows the data.
            if let Some((_, Some(status))) = &context {
                if hit
                    .hint
                    .as_deref()
                    .is_some_and(|kept| kept != status.as_str())
                {
                    hit.fresh = false;
                }
            }
            if hit.fresh || swr {
                Metrics::bump(&inner.metrics.cache_hits);
                return self.deliver(&ask, hit, context);
            }
        }

        let flight = inner.cache.flight(&key);
        let mut last_failure = flight.lock().await;
        let result = 'read: {
            // Another reader may have fetched the forgotten answer while this one waited.
            let forgotten = inner.cache.is_bypassed(&key);
            let mut kept = inner.cache.lookup(&key).filter(|_| !forgotten);
            if kept.is_none() && !forgotten {
                kept = self.load(&ask, &key).await;
            }
            if let Some(hit) = kept.take() {
                if hit.fresh || swr {
                    Metrics::bump(&inner.metrics.coalesced);
                    break 'read self.deliver(&ask, hit, context);
                }
            }
            if let Some((_, error)) = last_failure
                .as_ref()
                .filter(|(at, _)| at.elapsed() < FAILURE_SHARED_FOR)
            {
                Metrics::bump(&inner.metrics.coalesced);
                break 'read self.kept_or(&key, error.clone());
            }
            Metrics::bump(&inner.metrics.cache_misses);
            let fetched = self.fetch(&ask, self.priority, context).await;
            // Asked once, as the forgetting asked for, whatever the outcome.
            inner.cache.unbypass(&key);
            match fetched {
                Ok(answer) => {
                    *last_failure = None;
                    self.keep(&ask, answer).await.deliver(self.log.as_deref())
                }
                Err(error) => {
                    // A refusal of this handle's share of the budget is not FlexPortal's
                    // failure: a reader waiting behind background work must try its own.
                    if !matches!(error, Error::BudgetExhausted { .. }) {
                        *last_failure = Some((Instant::now(), error.clone()));
                    }
                    self.kept_or(&key, error)
                }
            }
        };
        drop(last_failure);
        inner.cache.land(&key, flight);
        result
    }

    /// Hands `hit` to the reader, starting a refresh behind it when it is past its freshness.
    fn deliver<T: Send + Sync + 'static>(
        &self,
        ask: &Ask,
        hit: Hit,
        context: Option<Context>,
    ) -> Result<Fetched<T>, Error> {
        if !hit.fresh {
            self.refresh_behind_with(ask.clone(), context);
        }
        hit.deliver(self.log.as_deref())
    }

    /// The kept answer, marked stale, when FlexPortal failed in a way that may pass; the
    /// failure otherwise. A 404 is never papered over.
    fn kept_or<T: Send + Sync + 'static>(
        &self,
        key: &str,
        error: Error,
    ) -> Result<Fetched<T>, Error> {
        if error.is_transient() {
            if let Some(hit) = self.inner.cache.mark_failed(key) {
                Metrics::bump(&self.inner.metrics.stale_served);
                return hit.deliver(self.log.as_deref());
            }
        }
        Err(error)
    }

    /// The answer under `key` in the store, decoded and put in memory.
    async fn load(&self, ask: &Ask, key: &str) -> Option<Hit> {
        let stored = match self.inner.store.load(key).await {
            Ok(stored) => stored?,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read a kept answer; asking FlexPortal");
                return None;
            }
        };
        match decode(ask, &stored.body) {
            Ok(value) => {
                Metrics::bump(&self.inner.metrics.store_loads);
                Some(self.inner.cache.insert(key, value, &stored))
            }
            Err(e) => {
                // Kept by another version of Folio, say: fetched anew and replaced.
                tracing::warn!(key = ask_kind(key), error = %e, "a kept answer no longer reads");
                None
            }
        }
    }

    /// Keeps a fresh answer in the store and in memory. When the store holds a newer one
    /// (asked for after this one, by another instance), that one is kept instead; when the
    /// answer was marked for refresh while it was being fetched, it is kept as past its
    /// freshness.
    async fn keep(&self, ask: &Ask, mut answer: Answer) -> Hit {
        let key = ask.key();
        match self.inner.store.save(&key, &answer.stored).await {
            Ok(Some(fresh_until_ms)) => answer.stored.fresh_until_ms = fresh_until_ms,
            Ok(None) => {
                if let Some(newer) = self.load(ask, &key).await {
                    return newer;
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot keep an answer in the store"),
        }
        self.inner.cache.insert(&key, answer.value, &answer.stored)
    }

    /// Starts one refresh of `ask` behind its readers, unless one runs here already or ran
    /// just now. Across instances, the store's lease lets one of them do it.
    pub(crate) fn refresh_behind(&self, ask: Ask) {
        self.refresh_behind_with(ask, None);
    }

    /// [`Client::refresh_behind`], with what the reader knows of the answer's context (a file
    /// list's order status now), which the refresh then follows.
    fn refresh_behind_with(&self, ask: Ask, context: Option<Context>) {
        let key = ask.key();
        if !self.inner.cache.begin_refresh(&key) {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.inner.cache.end_refresh(&key, Duration::ZERO);
            return;
        };
        // Nobody reads through this handle: it notes nothing for a page.
        let this = Client {
            inner: self.inner.clone(),
            log: None,
            priority: Priority::Background,
        };
        runtime.spawn(async move {
            let rest = this.refresh(&ask, &key, context).await;
            this.inner.cache.end_refresh(&key, rest);
        });
    }

    /// Refreshes `ask` under the store's lease; returns how long not to try again.
    async fn refresh(&self, ask: &Ask, key: &str, given: Option<Context>) -> Duration {
        let inner = &self.inner;
        let now = now_ms();
        match inner
            .store
            .lease(key, &inner.instance, now, now + ms(LEASE_FOR))
            .await
        {
            Ok(true) => {}
            // Another instance refreshes it: its answer arrives with the store's changes.
            Ok(false) => return self.rest(REST_AFTER_SKIP),
            Err(e) => {
                tracing::warn!(error = %e, "cannot take a refresh lease");
                return self.rest(REST_AFTER_FAILURE);
            }
        }
        // What the answer's freshness follows: as the reader knows it now, else as kept with
        // the answer (here, or by another instance).
        let context = match given {
            Some(context) => Some(context),
            None => match inner.cache.context(key) {
                Some(context) => Some(context),
                None => inner
                    .store
                    .load(key)
                    .await
                    .ok()
                    .flatten()
                    .map(|s| (s.owner, s.hint)),
            }
            .map(|(owner, hint)| (owner, hint.as_deref().map(OrderStatus::from))),
        };
        let rest = match self.fetch(ask, Priority::Background, context).await {
            Ok(answer) => {
                Metrics::bump(&inner.metrics.refreshes);
                self.keep(ask, answer).await;
                self.rest(REST_AFTER_SUCCESS)
            }
            Err(Error::NotFound) => {
                // Gone upstream: the next read asks, and learns so.
                inner.cache.invalidate(key);
                if let Err(e) = inner.store.remove(&[key.to_owned()]).await {
                    tracing::warn!(error = %e, "cannot drop an answer FlexPortal no longer has");
                }
                Duration::ZERO
            }
            Err(Error::BudgetExhausted { retry_after }) => {
                retry_after.max(self.rest(REST_AFTER_SKIP))
            }
            Err(error) => {
                Metrics::bump(&inner.metrics.refresh_failures);
                tracing::warn!(key = ask_kind(key), %error, "refresh failed; the kept answer stays");
                inner.cache.mark_failed(key);
                self.rest(REST_AFTER_FAILURE)
            }
        };
        if let Err(e) = inner.store.release(key, &inner.instance).await {
            tracing::warn!(error = %e, "cannot release a refresh lease");
        }
        rest
    }

    /// Asks FlexPortal for `ask` on behalf of `priority`. `context` is the answer's owner and,
    /// for a file list, its order's status, when the caller knows them.
    async fn fetch(
        &self,
        ask: &Ask,
        priority: Priority,
        context: Option<Context>,
    ) -> Result<Answer, Error> {
        let this = self.with_priority(priority);
        // The answer is as old as the moment it was asked for: a change made meanwhile may or
        // may not be in it.
        let asked = now_ms();
        let (owner, status) = context.unwrap_or_default();
        let owner = owner.or_else(|| ask.customer().map(str::to_owned));
        let (value, body, files, owner): (Value, String, _, _) = match ask {
            Ask::CustomersByEmail(email) => {
                let found = this
                    .fetch_all_pages::<CustomersPage>("/customers", vec![("email", email.clone())])
                    .await?;
                let owner = match found.as_slice() {
                    [one] => Some(one.customer_id.clone()),
                    _ => None,
                };
                // The lookup's answers are whole customer records: kept as such too, they
                // spare the customer's first page one call.
                for customer in &found {
                    self.keep_customer(customer.clone()).await?;
                }
                (Arc::new(found.clone()), to_json(&found)?, None, owner)
            }
            Ask::Customer(id) => {
                let path = format!("/customers/{}", crate::client::segment(id));
                let customer: Customer = this.request(Method::GET, &path, &[], None).await?;
                let customer = Arc::new(customer);
                if let Some(watch) = self.inner.customer_watch.get() {
                    watch(customer.clone()).await;
                }
                let body = to_json(&*customer)?;
                (customer, body, None, owner)
            }
            Ask::OrdersOf(id) => {
                let orders = this
                    .fetch_all_pages::<OrdersPage>("/orders", vec![("customerId", id.clone())])
                    .await
                    .or_else(none_is_empty)?;
                (Arc::new(orders.clone()), to_json(&orders)?, None, owner)
            }
            Ask::Order(id) => {
                let path = format!("/orders/{}", crate::client::segment(id));
                let order: Order = this.request(Method::GET, &path, &[], None).await?;
                let owner = Some(order.customer.customer_id.clone());
                (Arc::new(order.clone()), to_json(&order)?, None, owner)
            }
            Ask::FilesOf(id) => {
                let files = this.fetch_files_of_order(id).await.or_else(none_is_empty)?;
                let body = to_json(&files)?;
                (Arc::new(files.clone()), body, Some(files), owner)
            }
            Ask::PaymentsOf(id) => {
                let payments = this
                    .fetch_all_pages::<PaymentsPage>("/payments", vec![("customerId", id.clone())])
                    .await
                    .or_else(none_is_empty)?;
                (Arc::new(payments.clone()), to_json(&payments)?, None, owner)
            }
            Ask::RentalsOf(id) => {
                let rentals = this
                    .fetch_all_pages::<RentalsPage>(
                        "/subscriptions",
                        vec![("customerId", id.clone())],
                    )
                    .await
                    .or_else(none_is_empty)?;
                (Arc::new(rentals.clone()), to_json(&rentals)?, None, owner)
            }
        };
        let fresh_for =
            self.inner
                .config
                .freshness
                .of(ask, files.as_deref(), status.as_ref(), asked);
        Ok(Answer {
            value,
            stored: StoredAnswer {
                body,
                version: new_version(),
                fetched_ms: asked,
                fresh_until_ms: asked.saturating_add(ms(fresh_for)),
                owner,
                hint: status.map(|s| s.as_str().to_owned()),
            },
        })
    }

    /// Keeps a customer record fetched some other way (in a lookup by email) as the answer to
    /// `GET /v1/customers/{id}`, after the watch has seen it, as a fetched record would be.
    async fn keep_customer(&self, customer: Customer) -> Result<(), Error> {
        let ask = Ask::Customer(customer.customer_id.clone());
        let customer = Arc::new(customer);
        if let Some(watch) = self.inner.customer_watch.get() {
            watch(customer.clone()).await;
        }
        let now = now_ms();
        let fresh_for = self.inner.config.freshness.of(&ask, None, None, now);
        let stored = StoredAnswer {
            body: to_json(&*customer)?,
            version: new_version(),
            fetched_ms: now,
            fresh_until_ms: now.saturating_add(ms(fresh_for)),
            owner: Some(customer.customer_id.clone()),
            hint: None,
        };
        self.keep(
            &ask,
            Answer {
                value: customer,
                stored,
            },
        )
        .await;
        Ok(())
    }

    /// A pause between refreshes of one answer, on the client's clock (see
    /// [`crate::ClientConfig::time_scale`]).
    fn rest(&self, pause: Duration) -> Duration {
        pause.mul_f64(self.inner.config.time_scale)
    }

    /// Marks the answers to `asks` for refresh (a webhook's hint): readers keep getting them
    /// while one refresh each runs behind, and pages made from them end. Returns how many
    /// answers were kept.
    pub async fn expire(&self, asks: &[Ask]) -> Result<usize, Error> {
        let keys: Vec<String> = asks.iter().map(Ask::key).collect();
        let kept = self
            .inner
            .store
            .expire(&keys, now_ms())
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        for key in &kept {
            self.inner.cache.invalidate(key);
            if let Some(ask) = Ask::parse(key) {
                self.refresh_behind(ask);
            }
        }
        Ok(kept.len())
    }

    /// The questions whose answers go with `customer_id`, as kept in the store.
    pub async fn kept_for(&self, customer_id: &str) -> Result<Vec<Ask>, Error> {
        let keys = self
            .inner
            .store
            .keys_of(customer_id)
            .await
            .map_err(|e| Error::Unreachable(e.to_string()))?;
        Ok(keys.iter().filter_map(|(k, _)| Ask::parse(k)).collect())
    }

    /// Has the next read of each of `asks` wait for FlexPortal's newest answer, past memory
    /// and the store: for a reader who needs the newest (a file a kept list does not hold
    /// yet) and waits for it.
    pub fn forget(&self, asks: &[Ask]) {
        for ask in asks {
            self.inner.cache.bypass(&ask.key());
        }
    }

    /// Takes one request from the budget for this handle's priority, waiting for room up to
    /// its longest wait; beyond that fails at once with the time to wait.
    pub(crate) async fn acquire(&self) -> Result<(), Error> {
        let inner = &self.inner;
        let deadline = Instant::now() + self.max_wait();
        loop {
            let now = now_ms();
            let ready_ms = match inner.store.grant(self.priority, now).await {
                Ok(None) => {
                    Metrics::bump(match self.priority {
                        Priority::Reader => &inner.metrics.granted_reader,
                        Priority::SignIn => &inner.metrics.granted_sign_in,
                        Priority::Background => &inner.metrics.granted_background,
                    });
                    return Ok(());
                }
                Ok(Some(ready_ms)) => ready_ms,
                Err(e) => return Err(Error::Unreachable(e.to_string())),
            };
            // The store's hint may be early (another instance took the room): ask again at
            // least every 200 ms.
            let wait = Duration::from_millis(u64::try_from(ready_ms - now).unwrap_or(0));
            let ready = Instant::now() + wait;
            inner
                .refused_until
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.priority, ready);
            if ready > deadline {
                return Err(Error::BudgetExhausted { retry_after: wait });
            }
            tokio::time::sleep(wait.clamp(Duration::from_millis(10), Duration::from_millis(200)))
                .await;
        }
    }

    /// The longest this handle's requests wait for room or a retry. Background work does
    /// not wait: it may hold a read that a reader then waits behind, and it is tried again at
    /// the next occasion anyway.
    pub(crate) fn max_wait(&self) -> Duration {
        match self.priority {
            Priority::Background => Duration::ZERO,
            _ => self.inner.config.max_wait,
        }
    }

    /// FlexPortal said 429: every instance holds back for `wait`.
    pub(crate) async fn pause(&self, wait: Duration) {
        if let Err(e) = self.inner.store.pause(now_ms() + ms(wait)).await {
            tracing::warn!(error = %e, "cannot share FlexPortal's pause");
        }
    }

    /// Follows the changes other instances make to the store, for as long as the client
    /// lives: their refreshes and invalidations replace what this process keeps in memory.
    pub(crate) fn follow_changes(&self) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!("no runtime: other instances' changes are not followed");
            return;
        };
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        let every = self.inner.config.sync_every;
        runtime.spawn(async move {
            let mut since = now_ms() - CHANGES_OVERLAP_MS;
            let mut last_ok = Instant::now();
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                let started = now_ms();
                match inner.store.changes_since(since).await {
                    Ok(changes) => {
                        if last_ok.elapsed() > CHANGES_LOST_AFTER {
                            inner.cache.clear();
                        }
                        // Read again from a little way back: only each key's last change counts.
                        let mut latest = std::collections::HashMap::new();
                        for change in &changes {
                            latest.insert(change.key.as_str(), change);
                        }
                        for change in latest.into_values() {
                            inner.cache.apply(change);
                        }
                        since = started - CHANGES_OVERLAP_MS;
                        last_ok = Instant::now();
                        let used = inner.cache.take_used();
                        if !used.is_empty() {
                            if let Err(e) = inner.store.touch(&used, started).await {
                                tracing::warn!(error = %e, "cannot note answers as used");
                            }
                        }
                    }
                    Err(e) => {
                        if last_ok.elapsed() > CHANGES_LOST_AFTER {
                            inner.cache.clear();
                        }
                        tracing::warn!(error = %e, "cannot read the answer store's changes");
                    }
                }
            }
        });
    }
}

/// A list FlexPortal says does not exist is an empty one, kept as any answer is: a page made
/// from it then ends when a refresh finds items.
fn none_is_empty<T>(error: Error) -> Result<Vec<T>, Error> {
    match error {
        Error::NotFound => Ok(Vec::new()),
        other => Err(other),
    }
}

/// The answer kept under a key, decoded into the type its question has.
fn decode(ask: &Ask, body: &str) -> Result<Value, serde_json::Error> {
    fn read<T: DeserializeOwned + Send + Sync + 'static>(
        body: &str,
    ) -> Result<Value, serde_json::Error> {
        Ok(Arc::new(serde_json::from_str::<T>(body)?))
    }
    use crate::model::{File, Payment, Rental};
    match ask {
        Ask::CustomersByEmail(_) => read::<Vec<Customer>>(body),
        Ask::Customer(_) => read::<Customer>(body),
        Ask::OrdersOf(_) => read::<Vec<Order>>(body),
        Ask::Order(_) => read::<Order>(body),
        Ask::FilesOf(_) => read::<Vec<File>>(body),
        Ask::PaymentsOf(_) => read::<Vec<Payment>>(body),
        Ask::RentalsOf(_) => read::<Vec<Rental>>(body),
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Decode {
        endpoint: "keeping an answer".into(),
        path: String::new(),
        message: e.to_string(),
    })
}

/// A version no other answer has: random, positive, never 0 (which means "none").
fn new_version() -> i64 {
    fastrand::i64(1..i64::MAX)
}

/// A key's kind, for logs: the id may be an email.
fn ask_kind(key: &str) -> &str {
    key.split(':').next().unwrap_or("")
}
