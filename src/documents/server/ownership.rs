//! Which orders are a scope's: FlexPortal cannot filter files by customer, and answers
//! `GET /v1/orders/{id}` for whoever asks, so ownership is derived here on every request.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, LazyLock};

use flexportal::model::{File, Order};
use flexportal::{Client, Fetched};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::derived::{AnswerId, Derived, Held};
use super::rows::newest_order_first;
use super::upstream::{age_of, doc_type, plausible_id, upstream_error};
use crate::base::error::AppError;
use crate::base::server::principal::Scope;
use crate::documents::model::{DataAge, OrderSummary};

/// The orders a scope covers, newest first, each checked to belong to the scope's customer.
#[derive(Clone, Debug)]
pub struct OwnedOrders {
    /// Shared: derived once per set of upstream answers (see [`Derived`]).
    pub orders: Arc<Vec<Order>>,
    /// How current the answers behind this are.
    pub age: DataAge,
}

impl OwnedOrders {
    pub fn contains(&self, order_id: &str) -> bool {
        self.orders.iter().any(|o| o.order_id == order_id)
    }

    pub fn get(&self, order_id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.order_id == order_id)
    }
}

/// Upstream requests one view makes at the same time (file lists, order lookups).
pub(super) const CONCURRENT_REQUESTS: usize = 4;

/// Orders fetched by id when `customer.orderIds` names one the order list lacks. The list
/// should hold them all; a few stragglers are normal, many mean something is off upstream and
/// must not turn one page view into a burst against the tenant's budget.
const MAX_ORDER_LOOKUPS: usize = 10;

/// The customer's owned orders, narrowed to the scope's order: the orders FlexPortal lists for
/// the customer, plus those the customer record names that the list lacks, each checked to
/// belong to the customer (FlexPortal's order list may hold others' orders).
pub async fn owned_orders(client: &Client, scope: &Scope) -> Result<OwnedOrders, AppError> {
    if let Some(order_id) = &scope.order_id {
        // One lookup proves or disproves ownership of the one order a link covers.
        if !plausible_id(order_id) {
            return Ok(OwnedOrders {
                orders: Arc::default(),
                age: DataAge::default(),
            });
        }
        // The customer's record too: it is where FlexPortal says the customer is still
        // active, and reading it lets a change there end the link's sessions.
        let (customer, order) =
            futures::join!(client.customer(&scope.customer_id), client.order(order_id));
        match customer {
            Ok(c) if c.value.status != flexportal::model::CustomerStatus::Active => {
                return Ok(OwnedOrders {
                    orders: Arc::default(),
                    age: age_of(&c),
                })
            }
            Err(flexportal::Error::NotFound) => {
                return Ok(OwnedOrders {
                    orders: Arc::default(),
                    age: DataAge::default(),
                })
            }
            _ => {}
        }
        return match order {
            Ok(fetched) => {
                let owned = belongs_to(&fetched.value, order_id, scope, client.tenant_id());
                Ok(OwnedOrders {
                    orders: Arc::new(
                        owned
                            .then(|| (*fetched.value).clone())
                            .into_iter()
                            .collect(),
                    ),
                    age: age_of(&fetched),
                })
            }
            Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
                Ok(OwnedOrders {
                    orders: Arc::default(),
                    age: DataAge::default(),
                })
            }
            Err(e) => Err(upstream_error(e)),
        };
    }

    let (customer, listed) = futures::try_join!(
        async {
            match client.customer(&scope.customer_id).await {
                Ok(c) => Ok(Some(c)),
                // A customer FlexPortal no longer knows owns nothing.
                Err(flexportal::Error::NotFound) => Ok(None),
                Err(e) => Err(upstream_error(e)),
            }
        },
        async {
            client
                .orders_of_customer(&scope.customer_id)
                .await
                .map_err(upstream_error)
        },
    )?;
    let mut age = age_of(&listed).and(customer.as_ref().map(age_of).unwrap_or_default());
    let tenant = client.tenant_id();
    // The customer's answer and the order list decide the result, unless orders must be
    // looked up one by one as well (which is then done every time, as the lookups' answers
    // are inputs too).
    let mut answers = Vec::with_capacity(2);
    if let Some(customer) = &customer {
        answers.push(AnswerId::of(&customer.value, false));
    }
    answers.push(AnswerId::of(&listed.value, listed.value.is_empty()));
    if let Some(orders) = OWNED.find(tenant, scope, &[], &answers) {
        return Ok(OwnedOrders { orders, age });
    }

    let mut orders: BTreeMap<String, Order> = BTreeMap::new();
    for order in listed.value.iter() {
        if belongs_to(order, &order.order_id, scope, tenant) {
            orders
                .entry(order.order_id.clone())
                .or_insert_with(|| order.clone());
        }
    }

    let mut looked_up = false;
    if let Some(customer) = &customer {
        let customer = &customer.value;
        let same_customer = customer.customer_id == scope.customer_id
            && customer.tenant_id.as_deref().is_none_or(|t| t == tenant);
        // Owned ids: the lookups below run in a stream that must not borrow from here.
        let missing: Vec<String> = if same_customer {
            let mut seen = HashSet::new();
            customer
                .order_ids
                .iter()
                .filter(|id| !orders.contains_key(id.as_str()) && plausible_id(id))
                .filter(|id| seen.insert(id.as_str()))
                .cloned()
                .collect()
        } else {
            tracing::warn!("FlexPortal answered a customer lookup with another customer");
            Vec::new()
        };
        if missing.len() > MAX_ORDER_LOOKUPS {
            tracing::warn!(
                missing = missing.len(),
                looked_up = MAX_ORDER_LOOKUPS,
                "many of the customer's orders are missing from the order list"
            );
        }
        looked_up = !missing.is_empty();
        let found: Vec<Option<(String, Fetched<Order>)>> =
            stream::iter(missing.into_iter().take(MAX_ORDER_LOOKUPS))
                .map(|id| async move {
                    match client.order(&id).await {
                        Ok(o) => Ok(Some((id, o))),
                        Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
                            Ok(None)
                        }
                        Err(e) => Err(upstream_error(e)),
                    }
                })
                .buffer_unordered(CONCURRENT_REQUESTS)
                .try_collect()
                .await?;
        for (asked, fetched) in found.into_iter().flatten() {
            let order = &fetched.value;
            if belongs_to(order, &asked, scope, tenant) {
                age = age.and(age_of(&fetched));
                orders
                    .entry(order.order_id.clone())
                    .or_insert_with(|| (**order).clone());
            }
        }
    }

    let mut orders: Vec<Order> = orders.into_values().collect();
    orders.sort_by(newest_order_first);
    let orders = Arc::new(orders);
    if !looked_up {
        let held = customer
            .iter()
            .map(|c| Held::of(&c.value))
            .chain([Held::of(&listed.value)])
            .collect();
        OWNED.keep(tenant, scope, Vec::new(), answers, held, orders.clone());
    }
    Ok(OwnedOrders { orders, age })
}

static OWNED: LazyLock<Derived<Vec<Order>>> = LazyLock::new(|| Derived::new(100_000, 4_096));

pub(super) static SUMMARIES: LazyLock<Derived<Vec<OrderSummary>>> =
    LazyLock::new(|| Derived::new(100_000, 4_096));

/// Whether an order is the scope's: it is the order we asked about, its customer is the
/// scope's customer, its tenant (when given) is ours, and it is the scope's order if the
/// scope names one.
pub(super) fn belongs_to(order: &Order, expected_id: &str, scope: &Scope, tenant: &str) -> bool {
    order.order_id == expected_id
        && order.customer.customer_id == scope.customer_id
        && order.tenant_id.as_deref().is_none_or(|t| t == tenant)
        && scope
            .order_id
            .as_deref()
            .is_none_or(|only| only == order.order_id)
}

/// The one rule for showing a file: it belongs to an owned order, to our tenant, and to a
/// type in scope. Tenant-level files (no order) never pass.
pub(super) fn visible(file: &File, owned: &OwnedOrders, tenant: &str, scope: &Scope) -> bool {
    file.order_id
        .as_deref()
        .is_some_and(|order_id| owned.contains(order_id))
        && file.tenant_id.as_deref().is_none_or(|t| t == tenant)
        && scope.allows(doc_type(&file.file_type))
}
