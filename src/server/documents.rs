//! Which documents a principal may see, and the views of them that pages show.
//!
//! FlexPortal cannot filter files by customer, and `GET /v1/orders/{id}` or `/v1/files/{id}`
//! answer whoever asks. So every function here derives ownership itself (design §3, API notes
//! §2.8): the customer's orders are those whose `customer.customerId` is the customer, a file is
//! visible only if its `orderId` is one of them, its tenant is ours and its type is in scope.
//! Anything outside the scope answers [`AppError::NotFound`], exactly like a missing id.
//!
//! Upstream calls per page view: one customer, one order list, one file list per owned order.
//! The client caches and coalesces them, so a second view within the cache's lifetime makes
//! none.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use flexportal::model::{File, FileType, Order, Payment, Timestamp};
use flexportal::{Client, Fetched};
use futures::stream::{self, StreamExt, TryStreamExt};
use rust_decimal::Decimal;

use crate::error::AppError;
use crate::model::{
    DocType, DocumentFacets, DocumentGroup, DocumentList, DocumentQuery, DocumentRow,
    InvoiceHistory, Money, OrderDetail, OrderLine, OrderSummary, Overview, PaymentRow, QueryNotice,
    Sort, TypeCount,
};
use crate::server::rate_limit::RateLimiter;

/// What a principal may see. A customer session sees the whole portal; a share link may be
/// narrowed to one order and/or some document types. Built on the server from the session,
/// never from anything the browser sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scope {
    pub customer_id: String,
    pub order_id: Option<String>,
    pub types: Option<BTreeSet<DocType>>,
}

/// The scope of a signed-in principal: a customer's whole portal, a link's narrower grant,
/// nothing for staff (who see customers only through the staff screens).
pub fn scope_of(principal: &crate::server::auth::Principal) -> Option<Scope> {
    use crate::server::auth::Principal;
    match principal {
        Principal::Customer { customer_id, .. } => Some(Scope::customer(customer_id.clone())),
        Principal::Link {
            customer_id,
            order_id,
            types,
            ..
        } => Some(Scope {
            customer_id: customer_id.clone(),
            order_id: order_id.clone(),
            types: types.as_ref().map(|t| t.iter().copied().collect()),
        }),
        Principal::Staff { .. } => None,
    }
}

impl Scope {
    /// Everything of one customer.
    pub fn customer(customer_id: impl Into<String>) -> Self {
        Self {
            customer_id: customer_id.into(),
            order_id: None,
            types: None,
        }
    }

    /// Whether documents of this type are in scope.
    pub fn allows(&self, doc_type: DocType) -> bool {
        self.types.as_ref().is_none_or(|t| t.contains(&doc_type))
    }
}

/// The orders a scope covers, newest first, each checked to belong to the scope's customer.
#[derive(Clone, Debug)]
pub struct OwnedOrders {
    /// Shared: derived once per set of upstream answers (see [`Derived`]).
    pub orders: Arc<Vec<Order>>,
    /// True when some upstream answer behind this was a stale copy.
    pub stale: bool,
}

impl OwnedOrders {
    pub fn contains(&self, order_id: &str) -> bool {
        self.orders.iter().any(|o| o.order_id == order_id)
    }

    pub fn get(&self, order_id: &str) -> Option<&Order> {
        self.orders.iter().find(|o| o.order_id == order_id)
    }
}

/// What the `/files/{id}/view|download` routes need once a file is known to be visible.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VisibleFile {
    pub id: String,
    pub name: String,
    pub content_type: String,
    pub order_id: String,
    pub doc_type: DocType,
}

/// Orders fetched by id when `customer.orderIds` names one the order list lacks. The list
/// should hold them all; a few stragglers are normal, many mean something is off upstream and
/// must not turn one page view into a burst against the tenant's budget.
const MAX_ORDER_LOOKUPS: usize = 10;
/// Most orders whose files one view lists. The business demo customer has 44; beyond a couple
/// of hundred the tenant's per-minute budget could not serve a cold view anyway.
const MAX_ORDERS_LISTED: usize = 200;
/// Upstream requests one view makes at the same time (file lists, order lookups).
const CONCURRENT_REQUESTS: usize = 4;
/// Documents on the overview.
const OVERVIEW_LATEST: usize = 5;
/// Ids longer than this are not ids.
const MAX_ID_LEN: usize = 200;

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/// The customer's owned orders (API notes §2.8 step 2), narrowed to the scope's order.
pub async fn owned_orders(client: &Client, scope: &Scope) -> Result<OwnedOrders, AppError> {
    if let Some(order_id) = &scope.order_id {
        // One lookup proves or disproves ownership of the one order a link covers.
        if !plausible_id(order_id) {
            return Ok(OwnedOrders {
                orders: Arc::default(),
                stale: false,
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
                    stale: c.stale,
                })
            }
            Err(flexportal::Error::NotFound) => {
                return Ok(OwnedOrders {
                    orders: Arc::default(),
                    stale: false,
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
                    stale: fetched.stale,
                })
            }
            Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
                Ok(OwnedOrders {
                    orders: Arc::default(),
                    stale: false,
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
    let mut stale = listed.stale || customer.as_ref().is_some_and(|c| c.stale);
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
        return Ok(OwnedOrders { orders, stale });
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
                stale |= fetched.stale;
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
    Ok(OwnedOrders { orders, stale })
}

/// The home page: orders, the newest documents and how many there are of each type.
pub async fn overview(client: &Client, scope: &Scope) -> Result<Overview, AppError> {
    let owned = owned_orders(client, scope).await?;
    let (index, files_stale) = visible_documents(client, scope, &owned).await?;
    // Derived from the owned orders, which are shared while their answers are the same.
    let answers = [AnswerId::of(&owned.orders, owned.orders.is_empty())];
    let summaries = SUMMARIES
        .find(client.tenant_id(), scope, &[], &answers)
        .unwrap_or_else(|| {
            let summaries = Arc::new(owned.orders.iter().map(order_summary).collect());
            let held = vec![Held::of(&owned.orders)];
            SUMMARIES.keep(
                client.tenant_id(),
                scope,
                Vec::new(),
                answers.to_vec(),
                held,
                Arc::clone(&summaries),
            );
            summaries
        });
    Ok(Overview {
        orders: (*summaries).clone(),
        // The index is newest first already.
        latest: index.rows.iter().take(OVERVIEW_LATEST).cloned().collect(),
        type_counts: index.facets.types.clone(),
        total_documents: index.rows.len(),
        stale: owned.stale || files_stale,
    })
}

/// One page of the documents the scope may see, filtered and sorted as asked. Filters only
/// narrow: an order or type outside the scope simply matches nothing.
pub async fn documents(
    client: &Client,
    scope: &Scope,
    query: DocumentQuery,
) -> Result<DocumentList, AppError> {
    let owned = owned_orders(client, scope).await?;
    let (index, files_stale) = visible_documents(client, scope, &owned).await?;
    Ok(page_of(
        &index,
        query,
        Vec::new(),
        owned.stale || files_stale,
    ))
}

/// One order with its documents grouped by type. An order that is not the scope's answers
/// [`AppError::NotFound`], like one that does not exist.
pub async fn order_detail(
    client: &Client,
    scope: &Scope,
    order_id: &str,
) -> Result<OrderDetail, AppError> {
    if !plausible_id(order_id) {
        return Err(AppError::NotFound);
    }
    let owned = owned_orders(client, scope).await?;
    let order = owned.get(order_id).ok_or(AppError::NotFound)?;
    let files = client
        .files_of_order(order_id)
        .await
        .or_else(empty_on_not_found)
        .map_err(upstream_error)?;
    let tenant = client.tenant_id();
    let mut rows: Vec<DocumentRow> = files
        .value
        .iter()
        .filter(|f| f.order_id.as_deref() == Some(order_id) && visible(f, &owned, tenant, scope))
        .map(row)
        .collect();
    dedup_rows(&mut rows);
    sort_rows(&mut rows, Sort::DateDesc);
    let documents = DocType::ALL
        .into_iter()
        .map(|doc_type| DocumentGroup {
            doc_type,
            documents: rows
                .iter()
                .filter(|r| r.doc_type == doc_type)
                .cloned()
                .collect(),
        })
        .filter(|g| !g.documents.is_empty())
        .collect();
    let totals = &order.totals;
    Ok(OrderDetail {
        id: order.order_id.clone(),
        status: order.status.as_str().to_owned(),
        items: order
            .items
            .iter()
            .map(|item| OrderLine {
                product: item.product_name.clone(),
                quantity: item.quantity,
                monthly_unit_price: money(item.unit_price, &totals.currency),
                contract_months: item.contract_length,
            })
            .collect(),
        subtotal: money(totals.subtotal, &totals.currency),
        tax: money(totals.tax_amount, &totals.currency),
        total: money(totals.total, &totals.currency),
        created: order.created_at.map(iso_timestamp),
        shipped: order.shipped_at.map(iso_timestamp),
        tracking_number: order.tracking_number.clone(),
        documents,
        stale: owned.stale || files.stale,
    })
}

/// One year's invoice documents and billing payments; without a year, the newest year that
/// has either.
///
/// Payments are billing data, so a scope that excludes invoices sees none. A scope narrowed
/// to one order sees only payments of that order's rentals; a consolidated payment names no
/// rental, so it cannot be tied to one order and is left out.
pub async fn invoices(
    client: &Client,
    scope: &Scope,
    year: Option<i32>,
) -> Result<InvoiceHistory, AppError> {
    if !scope.allows(DocType::Invoice) {
        return Ok(InvoiceHistory {
            year,
            years: Vec::new(),
            invoices: Vec::new(),
            payments: Vec::new(),
            stale: false,
        });
    }
    let owned = owned_orders(client, scope).await?;
    let ((index, files_stale), (payments, payments_stale)) = futures::try_join!(
        visible_documents(client, scope, &owned),
        visible_payments(client, scope, &owned),
    )?;

    // The index is newest first already.
    let mut invoices: Vec<DocumentRow> = index
        .rows
        .iter()
        .filter(|r| r.doc_type == DocType::Invoice)
        .cloned()
        .collect();

    let years: BTreeSet<i32> = invoices
        .iter()
        .filter_map(|r| r.year)
        .chain(payments.iter().filter_map(payment_year))
        .collect();
    let years: Vec<i32> = years.into_iter().rev().collect();
    let year = year.or_else(|| years.first().copied());

    invoices.retain(|r| year.is_some() && r.year == year);
    let mut payments: Vec<&Payment> = payments
        .iter()
        .filter(|p| year.is_some() && payment_year(p) == year)
        .collect();
    payments.sort_by(|a, b| {
        payment_sort_key(b)
            .cmp(&payment_sort_key(a))
            .then_with(|| a.payment_id.cmp(&b.payment_id))
    });

    Ok(InvoiceHistory {
        year,
        years,
        invoices,
        payments: payments.into_iter().map(payment_row).collect(),
        stale: owned.stale || files_stale || payments_stale,
    })
}

/// Who asks the file routes for a file, for the limits on asking FlexPortal about ids that
/// the asker's document index lacks.
pub struct Asker<'a> {
    /// The principal's subject (a customer, a link session, a staff member).
    pub who: &'a str,
    pub lookups: &'a FileLookups,
    /// Unix seconds, from the application's clock.
    pub now: i64,
}

/// How often one principal may make the file routes go to FlexPortal for an id that is not
/// in its document index. Without these bounds, anyone signed in could spend the tenant's
/// budget, which every customer shares, by asking for invented ids.
#[derive(Debug)]
pub struct FileLookups {
    /// How old an index must be before a missing id may rebuild it.
    refresh_after: std::time::Duration,
    /// Rebuilds of an old index: one a minute per principal.
    refreshes: RateLimiter,
    /// Single lookups when the index was cut short by the order cap: 20 per 15 minutes.
    lookups: RateLimiter,
}

/// Single file lookups per principal in a quarter of an hour, for indexes cut short.
const FILE_LOOKUPS_PER_15_MIN: u32 = 20;
/// How old an index must be before a missing id may rebuild it.
const INDEX_REFRESH_AFTER: std::time::Duration = std::time::Duration::from_secs(60);

impl Default for FileLookups {
    fn default() -> Self {
        Self::refreshing_after(INDEX_REFRESH_AFTER)
    }
}

impl FileLookups {
    /// With indexes counted as old after `refresh_after` (a minute by default).
    pub fn refreshing_after(refresh_after: std::time::Duration) -> Self {
        Self {
            refresh_after,
            refreshes: RateLimiter::new(60),
            lookups: RateLimiter::new(15 * 60),
        }
    }
}

/// Checks that a file may be opened by this scope, for the view and download routes. Every
/// refusal is [`AppError::NotFound`], whatever the reason.
///
/// The id is looked up in the scope's document index, built the way the documents page
/// builds it (from cached answers, so usually at no cost): an id that is not there is not
/// found, without asking FlexPortal. Only two cases ask, each bounded per principal by
/// [`FileLookups`]: an index older than a minute may be rebuilt from fresh lists once a
/// minute, and an index cut short by the order cap may look single files up.
pub async fn authorize_file(
    client: &Client,
    scope: &Scope,
    file_id: &str,
    asker: &Asker<'_>,
) -> Result<VisibleFile, AppError> {
    if !plausible_id(file_id) {
        return Err(AppError::NotFound);
    }
    let owned = owned_orders(client, scope).await?;
    let (index, _) = visible_documents(client, scope, &owned).await?;
    if let Some(row) = index.find(file_id) {
        return Ok(VisibleFile::of(row));
    }
    if owned.orders.len() > MAX_ORDERS_LISTED {
        if !asker
            .lookups
            .lookups
            .allows(asker.who, asker.now, FILE_LOOKUPS_PER_15_MIN)
        {
            return Err(AppError::NotFound);
        }
        return look_up_file(client, scope, &owned, file_id).await;
    }
    if index.built.elapsed() >= asker.lookups.refresh_after
        && asker.lookups.refreshes.allows(asker.who, asker.now, 1)
    {
        let order_ids = owned.orders.iter().map(|o| o.order_id.as_str());
        client.forget_order_lists(&scope.customer_id, order_ids);
        let owned = owned_orders(client, scope).await?;
        let (index, _) = visible_documents(client, scope, &owned).await?;
        if let Some(row) = index.find(file_id) {
            return Ok(VisibleFile::of(row));
        }
    }
    Err(AppError::NotFound)
}

/// A file of a scope whose index is incomplete, from its own metadata.
async fn look_up_file(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
    file_id: &str,
) -> Result<VisibleFile, AppError> {
    let file = match client.file(file_id).await {
        Ok(f) => f.value,
        Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
            return Err(AppError::NotFound)
        }
        Err(e) => return Err(upstream_error(e)),
    };
    if file.file_id != file_id || !visible(&file, owned, client.tenant_id(), scope) {
        return Err(AppError::NotFound);
    }
    Ok(VisibleFile::of(&row(&file)))
}

impl VisibleFile {
    fn of(row: &DocumentRow) -> Self {
        Self {
            id: row.id.clone(),
            name: row.name.clone(),
            content_type: row.content_type.clone(),
            order_id: row.order_id.clone(),
            doc_type: row.doc_type,
        }
    }
}

/// FlexPortal's file type as a customer-facing document type.
pub fn doc_type(file_type: &FileType) -> DocType {
    match file_type {
        FileType::Contract => DocType::Contract,
        FileType::Invoice => DocType::Invoice,
        FileType::Document => DocType::Document,
        FileType::Attachment => DocType::Attachment,
        FileType::Other(_) => DocType::Other,
    }
}

// ---------------------------------------------------------------------------------------------
// Ownership
// ---------------------------------------------------------------------------------------------

/// Whether an order is the scope's: it is the order we asked about, its customer is the
/// scope's customer, its tenant (when given) is ours, and it is the scope's order if the
/// scope names one.
fn belongs_to(order: &Order, expected_id: &str, scope: &Scope, tenant: &str) -> bool {
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
fn visible(file: &File, owned: &OwnedOrders, tenant: &str, scope: &Scope) -> bool {
    file.order_id
        .as_deref()
        .is_some_and(|order_id| owned.contains(order_id))
        && file.tenant_id.as_deref().is_none_or(|t| t == tenant)
        && scope.allows(doc_type(&file.file_type))
}

/// Every document the scope may see, once each, listing the owned orders' files a few at a
/// time. The rows are derived once per set of upstream answers (see [`Derived`]); the
/// answers themselves are asked for on every call, so the client's cache decides freshness.
async fn visible_documents(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Result<(Arc<DocumentIndex>, bool), AppError> {
    // Owned ids: the stream must not borrow from here. In the owned orders' order, so that
    // the same answers always give the same rows.
    let order_ids: Vec<String> = owned
        .orders
        .iter()
        .take(MAX_ORDERS_LISTED)
        .map(|o| o.order_id.clone())
        .collect();
    let lists: Vec<Fetched<Vec<File>>> = stream::iter(order_ids)
        .map(|order_id| async move {
            client
                .files_of_order(&order_id)
                .await
                .or_else(empty_on_not_found)
                .map_err(upstream_error)
        })
        .buffered(CONCURRENT_REQUESTS)
        .try_collect()
        .await?;
    let stale = lists.iter().any(|l| l.stale);
    let lists: Vec<Arc<Vec<File>>> = lists.into_iter().map(|l| l.value).collect();
    let tenant = client.tenant_id();
    let answers: Vec<AnswerId> = lists
        .iter()
        .map(|l| AnswerId::of(l, l.is_empty()))
        .collect();
    let order_ids: Vec<&str> = owned.orders.iter().map(|o| o.order_id.as_str()).collect();
    if let Some(index) = INDEXES.find(tenant, scope, &order_ids, &answers) {
        return Ok((index, stale));
    }
    if owned.orders.len() > MAX_ORDERS_LISTED {
        tracing::warn!(
            orders = owned.orders.len(),
            listed = MAX_ORDERS_LISTED,
            "only the newest orders' files are listed"
        );
    }
    let index = Arc::new(build_index(&lists, owned, tenant, scope));
    let order_ids = order_ids.into_iter().map(str::to_owned).collect();
    let held = lists.iter().map(Held::of).collect();
    INDEXES.keep(tenant, scope, order_ids, answers, held, index.clone());
    Ok((index, stale))
}

/// The visible rows of a scope, newest first, with what the filters offer.
fn build_index(
    lists: &[Arc<Vec<File>>],
    owned: &OwnedOrders,
    tenant: &str,
    scope: &Scope,
) -> DocumentIndex {
    let mut seen = HashSet::new();
    let rows: Vec<DocumentRow> = lists
        .iter()
        .flat_map(|l| l.iter())
        .filter(|f| visible(f, owned, tenant, scope))
        .filter(|f| seen.insert(f.file_id.as_str()))
        .map(row)
        .collect();
    let facets = facets(&rows, owned);
    DocumentIndex::new(rows, facets)
}

/// Every document one scope may see, derived from one set of upstream answers.
#[derive(Debug)]
struct DocumentIndex {
    /// Newest first: in [`Sort::DateDesc`] order.
    rows: Vec<DocumentRow>,
    /// Where each file's row is.
    by_id: HashMap<String, usize>,
    /// When it was derived: about when its newest answer was fetched.
    built: std::time::Instant,
    /// Each row's name in lower case, for the search and the name sorts.
    names: Vec<String>,
    facets: DocumentFacets,
}

impl DocumentIndex {
    fn find(&self, file_id: &str) -> Option<&DocumentRow> {
        self.by_id.get(file_id).map(|&i| &self.rows[i])
    }

    fn new(mut rows: Vec<DocumentRow>, facets: DocumentFacets) -> Self {
        sort_rows(&mut rows, Sort::DateDesc);
        let names = rows.iter().map(|r| r.name.to_lowercase()).collect();
        let by_id = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id.clone(), i))
            .collect();
        Self {
            by_id,
            built: std::time::Instant::now(),
            rows,
            names,
            facets,
        }
    }
}

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
struct Derived<V> {
    inner: Mutex<DerivedInner<V>>,
    /// Bounds on the sum of the values' sizes and on the number of entries.
    max_size: usize,
    max_entries: usize,
}

struct DerivedInner<V> {
    /// By customer id, then one entry per scope of that customer (the portal, links).
    entries: HashMap<String, Vec<DerivedEntry<V>>>,
    size: usize,
    count: usize,
    /// Counts uses, so that the least recently used entry goes first.
    clock: u64,
}

struct DerivedEntry<V> {
    tenant: String,
    scope: Scope,
    ids: Vec<String>,
    answers: Vec<AnswerId>,
    /// Keeps the answers' addresses from being reused; does not keep the answers.
    held: Vec<Held>,
    value: Arc<V>,
    used: u64,
}

/// Which upstream answer a value was derived from.
#[derive(Clone, Copy, Debug)]
struct AnswerId {
    address: usize,
    /// An empty list adds nothing to what is derived from it, so any empty answer stands in
    /// for another (a list that does not exist upstream is a new empty one each time).
    empty: bool,
}

impl AnswerId {
    fn of<T>(answer: &Arc<T>, empty: bool) -> Self {
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
struct Held(Weak<dyn std::any::Any + Send + Sync>);

impl Held {
    fn of<T: Send + Sync + 'static>(answer: &Arc<T>) -> Self {
        let answer: Arc<dyn std::any::Any + Send + Sync> = answer.clone();
        Self(Arc::downgrade(&answer))
    }
}

/// How much memory a derived value holds, roughly, in rows.
trait Size {
    fn size(&self) -> usize;
}

impl Size for DocumentIndex {
    fn size(&self) -> usize {
        self.rows.len().max(1)
    }
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

/// A business customer has about a thousand documents; a row is a few hundred bytes.
static INDEXES: LazyLock<Derived<DocumentIndex>> = LazyLock::new(|| Derived::new(200_000, 4_096));
static OWNED: LazyLock<Derived<Vec<Order>>> = LazyLock::new(|| Derived::new(100_000, 4_096));
static SUMMARIES: LazyLock<Derived<Vec<OrderSummary>>> =
    LazyLock::new(|| Derived::new(100_000, 4_096));

/// At most this many scopes of one customer are kept (the portal and a few links).
const DERIVED_PER_CUSTOMER: usize = 8;

impl<V: Size> Derived<V> {
    fn new(max_size: usize, max_entries: usize) -> Self {
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

    fn lock(&self) -> std::sync::MutexGuard<'_, DerivedInner<V>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn find(
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

    fn keep(
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

/// The scope's billing payments: the customer's own, and for a one-order scope only those of
/// that order's rentals.
async fn visible_payments(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Result<(Vec<Payment>, bool), AppError> {
    let payments = client
        .payments_of_customer(&scope.customer_id)
        .await
        .or_else(empty_on_not_found)
        .map_err(upstream_error)?;
    let mut stale = payments.stale;
    let mine = payments
        .value
        .iter()
        .filter(|p| p.customer_id == scope.customer_id);
    let Some(order_id) = &scope.order_id else {
        return Ok((mine.cloned().collect(), stale));
    };
    if !owned.contains(order_id) {
        return Ok((Vec::new(), stale));
    }
    let rentals = client
        .rentals_of_customer(&scope.customer_id)
        .await
        .or_else(empty_on_not_found)
        .map_err(upstream_error)?;
    stale |= rentals.stale;
    let rental_ids: HashSet<&str> = rentals
        .value
        .iter()
        .filter(|r| r.customer_id == scope.customer_id && r.order_id.as_ref() == Some(order_id))
        .map(|r| r.rental_id.as_str())
        .collect();
    let mine = mine
        .filter(|p| {
            p.rental_id
                .as_deref()
                .is_some_and(|r| rental_ids.contains(r))
        })
        .cloned()
        .collect();
    Ok((mine, stale))
}

// ---------------------------------------------------------------------------------------------
// Views
// ---------------------------------------------------------------------------------------------

fn row(file: &File) -> DocumentRow {
    DocumentRow {
        id: file.file_id.clone(),
        name: file.display_name().to_owned(),
        doc_type: doc_type(&file.file_type),
        type_label: file.file_type.as_str().to_owned(),
        order_id: file.order_id.clone().unwrap_or_default(),
        created: file.created_at.map(iso_timestamp),
        year: file.created_at.map(|t| t.year()),
        size: file.file_size,
        content_type: content_type(file),
    }
}

fn content_type(file: &File) -> String {
    file.content_type
        .clone()
        .unwrap_or_else(|| "application/octet-stream".to_owned())
}

pub(crate) fn order_summary(order: &Order) -> OrderSummary {
    OrderSummary {
        id: order.order_id.clone(),
        status: order.status.as_str().to_owned(),
        created: order.created_at.map(iso_timestamp),
        total: money(order.totals.total, &order.totals.currency),
        item_count: order.items.iter().map(|i| i.quantity).sum(),
    }
}

fn payment_row(payment: &Payment) -> PaymentRow {
    PaymentRow {
        billing_period: payment.billing_period.clone(),
        amount: payment
            .amount_due()
            .map(|amount| money(amount, &payment.currency)),
        status: payment.status.as_str().to_owned(),
        due_date: payment.due_date.map(iso_date),
    }
}

/// The year a payment belongs to: its billing period's, else its due date's.
fn payment_year(payment: &Payment) -> Option<i32> {
    payment
        .billing_period
        .as_deref()
        .and_then(|p| p.get(..4))
        .and_then(|y| y.parse().ok())
        .or_else(|| payment.due_date.map(|d| d.year()))
}

fn payment_sort_key(payment: &Payment) -> (Option<&str>, Option<Timestamp>) {
    (payment.billing_period.as_deref(), payment.due_date)
}

fn money(amount: Decimal, currency: &str) -> Money {
    Money {
        amount: format!("{:.2}", amount.round_dp(2)),
        currency: currency.to_owned(),
    }
}

fn iso_timestamp(t: Timestamp) -> String {
    let utc = t.0.to_offset(time::UtcOffset::UTC);
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            year,
            u8::from(utc.month()),
            utc.day(),
            utc.hour(),
            utc.minute(),
            utc.second()
        );
    }
    // By hand: this runs for every file of a customer whenever their documents are derived,
    // and `format!` costs several times as much.
    let mut text = String::with_capacity(20);
    let mut digits = |value: u32, width: u32, then: Option<char>| {
        for place in (0..width).rev() {
            text.push(char::from(b'0' + (value / 10u32.pow(place) % 10) as u8));
        }
        if let Some(c) = then {
            text.push(c);
        }
    };
    digits(year.unsigned_abs(), 4, Some('-'));
    digits(u32::from(u8::from(utc.month())), 2, Some('-'));
    digits(u32::from(utc.day()), 2, Some('T'));
    digits(u32::from(utc.hour()), 2, Some(':'));
    digits(u32::from(utc.minute()), 2, Some(':'));
    digits(u32::from(utc.second()), 2, Some('Z'));
    text
}

fn iso_date(t: Timestamp) -> String {
    iso_timestamp(t)[..10].to_owned()
}

fn type_counts(rows: &[DocumentRow]) -> Vec<TypeCount> {
    DocType::ALL
        .into_iter()
        .map(|doc_type| TypeCount {
            doc_type,
            count: rows.iter().filter(|r| r.doc_type == doc_type).count(),
        })
        .filter(|c| c.count > 0)
        .collect()
}

fn facets(rows: &[DocumentRow], owned: &OwnedOrders) -> DocumentFacets {
    let years: BTreeSet<i32> = rows.iter().filter_map(|r| r.year).collect();
    let with_documents: HashSet<&str> = rows.iter().map(|r| r.order_id.as_str()).collect();
    DocumentFacets {
        years: years.into_iter().rev().collect(),
        orders: owned
            .orders
            .iter()
            .filter(|o| with_documents.contains(o.order_id.as_str()))
            .map(|o| o.order_id.clone())
            .collect(),
        types: type_counts(rows),
    }
}

/// Applies a query's filters, order and page to every visible row. Only the page's rows are
/// copied out of the index.
fn page_of(
    index: &DocumentIndex,
    mut query: DocumentQuery,
    mut notices: Vec<QueryNotice>,
    stale: bool,
) -> DocumentList {
    let needle = query.q.as_deref().map(str::to_lowercase);
    let mut matching: Vec<usize> = (0..index.rows.len())
        .filter(|&i| {
            let r = &index.rows[i];
            query.doc_type.is_none_or(|t| r.doc_type == t)
                && query.order.as_deref().is_none_or(|o| r.order_id == o)
                && query.year.is_none_or(|y| r.year == Some(y))
                && needle.as_deref().is_none_or(|n| index.names[i].contains(n))
        })
        .collect();
    // The index is in `DateDesc` order, and filtering keeps it.
    if query.sort != Sort::DateDesc {
        matching.sort_by(|&a, &b| {
            row_order(
                query.sort,
                (&index.rows[a], &index.names[a]),
                (&index.rows[b], &index.names[b]),
            )
        });
    }

    let per_page = DocumentQuery::PER_PAGE;
    let total = matching.len();
    let page_count = u32::try_from(total.div_ceil(per_page as usize))
        .unwrap_or(u32::MAX)
        .max(1);
    if query.page == 0 {
        query.page = 1;
    } else if query.page > page_count {
        notices.push(QueryNotice {
            param: "page".to_owned(),
            value: query.page.to_string(),
        });
        query.page = page_count;
    }
    let start = (query.page as usize - 1) * per_page as usize;
    let rows = matching
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|&i| index.rows[i].clone())
        .collect();
    DocumentList {
        rows,
        total,
        page: query.page,
        page_count,
        per_page,
        query,
        notices,
        facets: index.facets.clone(),
        stale,
    }
}

/// Sorts by the chosen key, then by file id, so equal keys keep one order across pages.
/// Unknown dates and sizes count as the smallest.
fn sort_rows(rows: &mut Vec<DocumentRow>, sort: Sort) {
    match sort {
        Sort::NameAsc | Sort::NameDesc => {
            let mut keyed: Vec<(String, DocumentRow)> =
                rows.drain(..).map(|r| (r.name.to_lowercase(), r)).collect();
            keyed.sort_by(|(an, a), (bn, b)| row_order(sort, (a, an), (b, bn)));
            rows.extend(keyed.into_iter().map(|(_, r)| r));
        }
        _ => rows.sort_by(|a, b| row_order(sort, (a, ""), (b, ""))),
    }
}

/// The order of two rows, each with its name in lower case (needed by the name sorts only).
fn row_order(
    sort: Sort,
    (a, a_name): (&DocumentRow, &str),
    (b, b_name): (&DocumentRow, &str),
) -> Ordering {
    let key = match sort {
        Sort::DateDesc => b.created.cmp(&a.created),
        Sort::DateAsc => a.created.cmp(&b.created),
        Sort::SizeAsc => a.size.cmp(&b.size),
        Sort::SizeDesc => b.size.cmp(&a.size),
        Sort::NameAsc => a_name.cmp(b_name),
        Sort::NameDesc => b_name.cmp(a_name),
    };
    key.then_with(|| a.id.cmp(&b.id))
}

fn dedup_rows(rows: &mut Vec<DocumentRow>) {
    let mut seen = HashSet::new();
    rows.retain(|r| seen.insert(r.id.clone()));
}

fn newest_order_first(a: &Order, b: &Order) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| a.order_id.cmp(&b.order_id))
}

// ---------------------------------------------------------------------------------------------
// Errors and ids
// ---------------------------------------------------------------------------------------------

/// Maps an upstream failure to what a page may say. Nothing of the upstream's text travels.
pub(crate) fn upstream_error(error: flexportal::Error) -> AppError {
    match error {
        flexportal::Error::NotFound => AppError::NotFound,
        e if e.is_transient() => {
            tracing::warn!(error = %e, "FlexPortal unavailable");
            AppError::Unavailable
        }
        e => {
            if e.is_configuration_problem() {
                tracing::error!(error = %e, "FlexPortal refused Folio's credentials; check the configuration");
            } else {
                tracing::error!(error = %e, "unexpected answer from FlexPortal");
            }
            AppError::Internal {
                request_id: String::new(),
            }
        }
    }
}

/// A list that FlexPortal says does not exist is an empty one.
fn empty_on_not_found<T: Default>(
    error: flexportal::Error,
) -> Result<Fetched<T>, flexportal::Error> {
    match error {
        flexportal::Error::NotFound => Ok(Fetched {
            value: Arc::new(T::default()),
            stale: false,
        }),
        e => Err(e),
    }
}

/// Ids are opaque, but some strings cannot be one: empty, huge, with control characters, or
/// made of dots only (which a URL would resolve as a path step, reaching another endpoint).
pub(crate) fn plausible_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && !id.chars().any(char::is_control)
        && !id.chars().all(|c| c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;
    use flexportal::model::{OrderCustomer, OrderStatus, Totals};

    const TENANT: &str = "bu_ours";

    fn order(id: &str, customer: &str) -> Order {
        Order {
            order_id: id.into(),
            tenant_id: Some(TENANT.into()),
            status: OrderStatus::Fulfilled,
            customer: OrderCustomer {
                customer_id: customer.into(),
                email: String::new(),
                first_name: String::new(),
                last_name: String::new(),
                company: None,
            },
            items: Vec::new(),
            totals: Totals {
                subtotal: Decimal::ZERO,
                tax_amount: Decimal::ZERO,
                total: Decimal::ZERO,
                currency: "EUR".into(),
            },
            created_at: None,
            updated_at: None,
            shipped_at: None,
            tracking_number: None,
        }
    }

    fn file(id: &str, order: Option<&str>, tenant: Option<&str>, kind: &str) -> File {
        File {
            file_id: id.into(),
            tenant_id: tenant.map(Into::into),
            order_id: order.map(Into::into),
            file_type: FileType::from(kind),
            filename: Some(format!("{id}.pdf")),
            original_filename: None,
            content_type: None,
            file_size: None,
            created_at: None,
            updated_at: None,
        }
    }

    fn owned(ids: &[&str]) -> OwnedOrders {
        OwnedOrders {
            orders: Arc::new(ids.iter().map(|id| order(id, "cust_a")).collect()),
            stale: false,
        }
    }

    #[test]
    fn a_file_is_visible_only_through_an_owned_order_of_our_tenant_and_type() {
        let owned = owned(&["ord_1"]);
        let all = Scope::customer("cust_a");
        let invoices = Scope {
            types: Some([DocType::Invoice].into()),
            ..all.clone()
        };
        let check = |f: &File, s: &Scope| visible(f, &owned, TENANT, s);
        assert!(check(
            &file("f", Some("ord_1"), Some(TENANT), "contract"),
            &all
        ));
        assert!(check(&file("f", Some("ord_1"), None, "contract"), &all));
        assert!(!check(
            &file("f", Some("ord_2"), Some(TENANT), "contract"),
            &all
        ));
        assert!(!check(&file("f", None, Some(TENANT), "contract"), &all));
        assert!(!check(
            &file("f", Some("ord_1"), Some("bu_other"), "contract"),
            &all
        ));
        assert!(!check(
            &file("f", Some("ord_1"), Some(TENANT), "contract"),
            &invoices
        ));
        assert!(check(
            &file("f", Some("ord_1"), Some(TENANT), "invoice"),
            &invoices
        ));
        let others = Scope {
            types: Some([DocType::Other].into()),
            ..all
        };
        assert!(check(
            &file("f", Some("ord_1"), None, "delivery_note"),
            &others
        ));
    }

    #[test]
    fn an_order_belongs_to_the_scope_only_when_every_field_agrees() {
        let all = Scope::customer("cust_a");
        let one = Scope {
            order_id: Some("ord_1".into()),
            ..all.clone()
        };
        assert!(belongs_to(&order("ord_1", "cust_a"), "ord_1", &all, TENANT));
        assert!(!belongs_to(
            &order("ord_1", "cust_b"),
            "ord_1",
            &all,
            TENANT
        ));
        assert!(
            !belongs_to(&order("ord_1", "cust_a"), "ord_2", &all, TENANT),
            "an answer for another id than asked"
        );
        let mut foreign = order("ord_1", "cust_a");
        foreign.tenant_id = Some("bu_other".into());
        assert!(!belongs_to(&foreign, "ord_1", &all, TENANT));
        assert!(belongs_to(&order("ord_1", "cust_a"), "ord_1", &one, TENANT));
        assert!(!belongs_to(
            &order("ord_2", "cust_a"),
            "ord_2",
            &one,
            TENANT
        ));
    }

    #[test]
    fn file_types_map_to_document_types() {
        assert_eq!(doc_type(&FileType::Invoice), DocType::Invoice);
        assert_eq!(doc_type(&FileType::from("delivery_note")), DocType::Other);
        assert_eq!(doc_type(&FileType::from("")), DocType::Other);
        for t in DocType::ALL {
            assert_eq!(DocType::parse(t.as_str()), Some(t));
        }
        assert_eq!(DocType::parse("INVOICE"), Some(DocType::Invoice));
        assert_eq!(DocType::parse("invoices"), None);
    }

    #[test]
    fn ids_that_cannot_be_ids_are_refused_before_any_request() {
        for bad in ["", ".", "..", "...", "a\nb", &"x".repeat(201)] {
            assert!(!plausible_id(bad), "{bad:?}");
        }
        for good in ["ord_10001", "file_200001", "a.b", "../x"] {
            assert!(plausible_id(good), "{good:?}");
        }
    }

    #[test]
    fn money_has_two_places_and_dates_are_utc() {
        assert_eq!(money(Decimal::new(89, 0), "EUR").amount, "89.00");
        assert_eq!(money(Decimal::new(10555, 3), "EUR").amount, "10.56");
        let t = Timestamp::parse_text("2025-01-15T11:30:00+01:00").unwrap();
        assert_eq!(iso_timestamp(t), "2025-01-15T10:30:00Z");
        assert_eq!(iso_date(t), "2025-01-15");
    }

    #[test]
    fn derived_values_are_reused_only_for_the_same_scope_and_answers() {
        let memo: Derived<Vec<Order>> = Derived::new(100, 10);
        let a = Scope::customer("cust_a");
        let list = Arc::new(vec![order("ord_1", "cust_a")]);
        let answers = [AnswerId::of(&list, false)];
        let value = Arc::new(vec![order("ord_1", "cust_a")]);
        let keep = |scope: &Scope, value: &Arc<Vec<Order>>| {
            memo.keep(
                TENANT,
                scope,
                Vec::new(),
                answers.to_vec(),
                vec![Held::of(&list)],
                value.clone(),
            )
        };
        keep(&a, &value);
        let found = memo.find(TENANT, &a, &[], &answers);
        assert!(found.is_some_and(|v| Arc::ptr_eq(&v, &value)));
        let b = Scope::customer("cust_b");
        assert!(
            memo.find(TENANT, &b, &[], &answers).is_none(),
            "another customer"
        );
        assert!(
            memo.find("bu_other", &a, &[], &answers).is_none(),
            "another tenant"
        );
        let narrower = Scope {
            types: Some([DocType::Invoice].into()),
            ..a.clone()
        };
        assert!(memo.find(TENANT, &narrower, &[], &answers).is_none());
        let equal_but_new = Arc::new(vec![order("ord_1", "cust_a")]);
        let new_answer = [AnswerId::of(&equal_but_new, false)];
        assert!(
            memo.find(TENANT, &a, &[], &new_answer).is_none(),
            "a new answer"
        );
        assert!(
            memo.find(TENANT, &a, &["ord_1"], &answers).is_none(),
            "other inputs"
        );

        // A value kept again for the same scope replaces the old one.
        let newer = Arc::new(Vec::new());
        keep(&a, &newer);
        let found = memo.find(TENANT, &a, &[], &answers);
        assert!(found.is_some_and(|v| Arc::ptr_eq(&v, &newer)));
        assert_eq!(memo.lock().count, 1);
    }

    #[test]
    fn values_whose_answers_are_gone_are_dropped_first() {
        let memo: Derived<Vec<Order>> = Derived::new(100, 2);
        let lists: Vec<Arc<Vec<Order>>> = (0..3).map(|_| Arc::new(Vec::new())).collect();
        let answers = |i: usize| vec![AnswerId::of(&lists[i], false)];
        let keep = |i: usize| {
            memo.keep(
                TENANT,
                &Scope::customer(format!("cust_{i}")),
                Vec::new(),
                answers(i),
                vec![Held::of(&lists[i])],
                Arc::new(Vec::new()),
            )
        };
        keep(0);
        keep(1);
        let gone = Arc::new(Vec::<Order>::new());
        memo.keep(
            TENANT,
            &Scope::customer("cust_gone"),
            Vec::new(),
            vec![AnswerId::of(&gone, false)],
            vec![Held::of(&gone)],
            Arc::new(Vec::new()),
        );
        drop(gone);
        keep(2);
        let inner = memo.lock();
        assert_eq!(inner.count, 2);
        assert!(!inner.entries.contains_key("cust_gone"));
        assert!(inner.entries.contains_key("cust_2"));
    }

    #[test]
    fn derived_values_stay_within_bounds() {
        let memo: Derived<Vec<Order>> = Derived::new(100, 3);
        let lists: Vec<Arc<Vec<Order>>> = (0..10).map(|_| Arc::new(Vec::new())).collect();
        for (i, list) in lists.iter().enumerate() {
            let scope = Scope::customer(format!("cust_{i}"));
            let answers = vec![AnswerId::of(list, false)];
            let value = Arc::new(vec![order("o", "c"); 30]);
            memo.keep(
                TENANT,
                &scope,
                Vec::new(),
                answers,
                vec![Held::of(list)],
                value,
            );
            let inner = memo.lock();
            assert!(inner.count <= 3 && inner.size <= 100, "{i}");
        }
        // The most recent stays.
        let last = Scope::customer("cust_9");
        assert!(memo
            .find(TENANT, &last, &[], &[AnswerId::of(&lists[9], false)])
            .is_some());
    }

    #[test]
    fn timestamps_are_written_as_format_would() {
        let by_format = |t: Timestamp| {
            let utc = t.0.to_offset(time::UtcOffset::UTC);
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                utc.year(),
                u8::from(utc.month()),
                utc.day(),
                utc.hour(),
                utc.minute(),
                utc.second()
            )
        };
        let start = Timestamp::parse_text("0001-01-01T00:00:00+05:00").unwrap();
        for i in 0..20_000i64 {
            let t = Timestamp(start.0 + time::Duration::seconds(i * 1_234_567 + i * i));
            assert_eq!(iso_timestamp(t), by_format(t));
        }
    }

    fn rows(n: usize) -> Vec<DocumentRow> {
        (0..n)
            .map(|i| DocumentRow {
                id: format!("file_{i:03}"),
                name: format!("Doc {}", i % 7),
                doc_type: DocType::Document,
                type_label: "document".into(),
                order_id: "ord_1".into(),
                created: Some(format!("2025-01-{:02}T00:00:00Z", 1 + i % 3)),
                year: Some(2025),
                size: Some((i % 5) as u64),
                content_type: "application/pdf".into(),
            })
            .collect()
    }

    fn index(rows: Vec<DocumentRow>) -> DocumentIndex {
        DocumentIndex::new(rows, DocumentFacets::default())
    }

    #[test]
    fn pages_are_clamped_and_stable() {
        let list = page_of(
            &index(rows(60)),
            DocumentQuery {
                page: 7,
                ..Default::default()
            },
            Vec::new(),
            false,
        );
        assert_eq!((list.page, list.page_count, list.rows.len()), (3, 3, 10));
        assert_eq!(list.notices[0].param, "page");
        let mut reversed = rows(60);
        reversed.reverse();
        let again = page_of(
            &index(reversed),
            DocumentQuery {
                page: 3,
                ..Default::default()
            },
            Vec::new(),
            false,
        );
        assert_eq!(list.rows, again.rows);
        assert!(again.notices.is_empty());
    }

    #[test]
    fn a_page_is_a_slice_of_the_filtered_and_sorted_rows() {
        let all: Vec<DocumentRow> = rows(60)
            .into_iter()
            .enumerate()
            .map(|(i, mut r)| {
                if i % 3 == 0 {
                    r.doc_type = DocType::Invoice;
                }
                if i % 4 == 0 {
                    r.order_id = "ord_2".into();
                }
                r
            })
            .collect();
        let idx = index(all.clone());
        let queries = [
            DocumentQuery::default(),
            DocumentQuery {
                q: Some("DOC 3".into()),
                ..Default::default()
            },
            DocumentQuery {
                doc_type: Some(DocType::Invoice),
                order: Some("ord_2".into()),
                ..Default::default()
            },
        ];
        for sort in Sort::ALL {
            for base in &queries {
                let mut expected: Vec<DocumentRow> =
                    all.iter()
                        .filter(|r| {
                            base.doc_type.is_none_or(|t| r.doc_type == t)
                                && base.order.as_deref().is_none_or(|o| r.order_id == o)
                                && base.q.as_deref().is_none_or(|q| {
                                    r.name.to_lowercase().contains(&q.to_lowercase())
                                })
                        })
                        .cloned()
                        .collect();
                sort_rows(&mut expected, sort);
                let mut shown = Vec::new();
                for page in 1..=3 {
                    let query = DocumentQuery {
                        sort,
                        page,
                        ..base.clone()
                    };
                    let list = page_of(&idx, query, Vec::new(), false);
                    assert_eq!(list.total, expected.len());
                    if list.page == page {
                        shown.extend(list.rows);
                    }
                }
                assert_eq!(shown, expected, "{sort:?} {base:?}");
            }
        }
    }

    #[test]
    fn equal_keys_fall_back_to_the_file_id() {
        for sort in Sort::ALL {
            let mut a = rows(30);
            let mut b = rows(30);
            b.reverse();
            sort_rows(&mut a, sort);
            sort_rows(&mut b, sort);
            assert_eq!(a, b, "{sort:?}");
        }
    }
}
