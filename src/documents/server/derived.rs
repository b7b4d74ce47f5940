//! A cache of values derived from upstream answers, valid while those very answers are.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use flexportal::model::Order;

use crate::base::server::principal::Scope;
use crate::documents::model::OrderSummary;

/// Values derived from upstream answers, kept while the client's cache hands out exactly
/// those answers again. Deriving a business customer's documents (hundreds of files:
/// ownership, dates, sorting, facets) costs far more than rendering one page of them, and
/// as long as the answers are the same the result cannot differ.
///
/// An entry belongs to one tenant and one exact scope, and is used only when its other
/// inputs (`ids`: the owned order ids) are equal and every answer is the very one it was
/// built from: the same allocation, held weakly, so that its address cannot be reused while
/// the entry lives. A new answer from the upstream therefore derives anew, and nothing
/// derived for one scope is ever shown to another.
pub(super) struct Derived<V> {
    inner: Mutex<DerivedInner<V>>,
    /// Bounds on the sum of the values' sizes and on the number of entries.
    max_size: usize,
    max_entries: usize,
}

pub(super) struct DerivedInner<V> {
    /// By customer id, then one entry per scope of that customer (the portal, links).
    pub(super) entries: HashMap<String, Vec<DerivedEntry<V>>>,
    pub(super) size: usize,
    pub(super) count: usize,
    /// Counts uses, so that the least recently used entry goes first.
    pub(super) clock: u64,
}

pub(super) struct DerivedEntry<V> {
    pub(super) tenant: String,
    pub(super) scope: Scope,
    pub(super) ids: Vec<String>,
    pub(super) answers: Vec<AnswerId>,
    /// Keeps the answers' addresses from being reused; does not keep the answers.
    pub(super) held: Vec<Held>,
    pub(super) value: Arc<V>,
    pub(super) used: u64,
}

/// Which upstream answer a value was derived from.
#[derive(Clone, Copy, Debug)]
pub(super) struct AnswerId {
    address: usize,
    /// An empty list adds nothing to what is derived from it, so any empty answer stands in
    /// for another (a list that does not exist upstream is a new empty one each time).
    empty: bool,
}

impl AnswerId {
    pub(super) fn of<T>(answer: &Arc<T>, empty: bool) -> Self {
        Self {
            address: Arc::as_ptr(answer) as *const () as usize,
            empty,
        }
    }

    fn same(self, other: Self) -> bool {
        self.address == other.address || (self.empty && other.empty)
    }
}

/// A weak reference to an answer.
pub(super) struct Held(Weak<dyn std::any::Any + Send + Sync>);

impl Held {
    pub(super) fn of<T: Send + Sync + 'static>(answer: &Arc<T>) -> Self {
        let answer: Arc<dyn std::any::Any + Send + Sync> = answer.clone();
        Self(Arc::downgrade(&answer))
    }
}

/// How much memory a derived value holds, roughly, in rows.
pub(super) trait Size {
    fn size(&self) -> usize;
}

impl Size for Vec<Order> {
    fn size(&self) -> usize {
        self.len().max(1)
    }
}

impl Size for Vec<OrderSummary> {
    fn size(&self) -> usize {
        self.len().max(1)
    }
}

impl<V> DerivedEntry<V> {
    fn matches(&self, tenant: &str, scope: &Scope, ids: &[&str], answers: &[AnswerId]) -> bool {
        self.tenant == tenant
            && self.scope == *scope
            && self.ids.len() == ids.len()
            && self.ids.iter().zip(ids).all(|(a, b)| a == b)
            && self.answers.len() == answers.len()
            && self.answers.iter().zip(answers).all(|(a, b)| a.same(*b))
    }

    /// Whether the answers may still come back: once one is gone, the entry cannot match.
    fn alive(&self) -> bool {
        self.answers
            .iter()
            .zip(&self.held)
            .all(|(answer, held)| answer.empty || held.0.strong_count() > 0)
    }
}

/// At most this many scopes of one customer are kept (the portal and a few links).
const DERIVED_PER_CUSTOMER: usize = 8;

impl<V: Size> Derived<V> {
    pub(super) fn new(max_size: usize, max_entries: usize) -> Self {
        Self {
            inner: Mutex::new(DerivedInner {
                entries: HashMap::new(),
                size: 0,
                count: 0,
                clock: 0,
            }),
            max_size,
            max_entries,
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, DerivedInner<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn find(
        &self,
        tenant: &str,
        scope: &Scope,
        ids: &[&str],
        answers: &[AnswerId],
    ) -> Option<Arc<V>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner
            .entries
            .get_mut(scope.customer_id.as_str())?
            .iter_mut()
            .find(|e| e.matches(tenant, scope, ids, answers))?;
        entry.used = now;
        Some(entry.value.clone())
    }

    pub(super) fn keep(
        &self,
        tenant: &str,
        scope: &Scope,
        ids: Vec<String>,
        answers: Vec<AnswerId>,
        held: Vec<Held>,
        value: Arc<V>,
    ) {
        let size = value.size();
        if size > self.max_size {
            return;
        }
        let mut inner = self.lock();
        inner.clock += 1;
        let entry = DerivedEntry {
            tenant: tenant.to_owned(),
            scope: scope.clone(),
            ids,
            answers,
            held,
            value,
            used: inner.clock,
        };
        let DerivedInner {
            entries,
            size: total,
            count,
            ..
        } = &mut *inner;
        let mine = entries.entry(scope.customer_id.clone()).or_default();
        // The scope's previous value, and any derived from answers that are gone, are done.
        mine.retain(|e| {
            let keep = e.alive() && !(e.tenant == tenant && e.scope == *scope);
            if !keep {
                *total -= e.value.size();
                *count -= 1;
            }
            keep
        });
        if mine.len() >= DERIVED_PER_CUSTOMER {
            if let Some(oldest) = (0..mine.len()).min_by_key(|&i| mine[i].used) {
                *total -= mine.swap_remove(oldest).value.size();
                *count -= 1;
            }
        }
        mine.push(entry);
        *total += size;
        *count += 1;
        inner.shrink(self.max_size, self.max_entries);
    }
}

impl<V: Size> DerivedInner<V> {
    /// Drops entries whose answers are gone, then the least recently used, until within
    /// bounds. Runs only when a value is added, which happens once per fresh answer.
    fn shrink(&mut self, max_size: usize, max_entries: usize) {
        if self.size <= max_size && self.count <= max_entries {
            return;
        }
        let (size, count) = (&mut self.size, &mut self.count);
        for list in self.entries.values_mut() {
            list.retain(|e| {
                let alive = e.alive();
                if !alive {
                    *size -= e.value.size();
                    *count -= 1;
                }
                alive
            });
        }
        self.entries.retain(|_, list| !list.is_empty());
        while self.size > max_size || self.count > max_entries {
            let Some((customer, i)) = self
                .entries
                .iter()
                .flat_map(|(c, list)| list.iter().enumerate().map(move |(i, e)| (c, i, e.used)))
                .min_by_key(|&(_, _, used)| used)
                .map(|(c, i, _)| (c.clone(), i))
            else {
                break;
            };
            if let Some(list) = self.entries.get_mut(&customer) {
                self.size -= list.swap_remove(i).value.size();
                self.count -= 1;
                if list.is_empty() {
                    self.entries.remove(&customer);
                }
            }
        }
    }
}
