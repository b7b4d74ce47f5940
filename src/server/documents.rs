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
use std::sync::Arc;

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
    pub orders: Vec<Order>,
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
                orders: Vec::new(),
                stale: false,
            });
        }
        return match client.order(order_id).await {
            Ok(fetched) => {
                let owned = belongs_to(&fetched.value, order_id, scope, client.tenant_id());
                Ok(OwnedOrders {
                    orders: owned
                        .then(|| (*fetched.value).clone())
                        .into_iter()
                        .collect(),
                    stale: fetched.stale,
                })
            }
            Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
                Ok(OwnedOrders {
                    orders: Vec::new(),
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
    let mut stale = listed.stale;
    let tenant = client.tenant_id();

    let mut orders: BTreeMap<String, Order> = BTreeMap::new();
    for order in listed.value.iter() {
        if belongs_to(order, &order.order_id, scope, tenant) {
            orders
                .entry(order.order_id.clone())
                .or_insert_with(|| order.clone());
        }
    }

    if let Some(customer) = &customer {
        stale |= customer.stale;
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
    Ok(OwnedOrders { orders, stale })
}

/// The home page: orders, the newest documents and how many there are of each type.
pub async fn overview(client: &Client, scope: &Scope) -> Result<Overview, AppError> {
    let owned = owned_orders(client, scope).await?;
    let (files, files_stale) = visible_files(client, scope, &owned).await?;
    let mut rows: Vec<DocumentRow> = files.iter().map(row).collect();
    sort_rows(&mut rows, Sort::DateDesc);
    let type_counts = type_counts(&rows);
    let total_documents = rows.len();
    rows.truncate(OVERVIEW_LATEST);
    Ok(Overview {
        orders: owned.orders.iter().map(order_summary).collect(),
        latest: rows,
        type_counts,
        total_documents,
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
    let (files, files_stale) = visible_files(client, scope, &owned).await?;
    let all: Vec<DocumentRow> = files.iter().map(row).collect();
    let facets = facets(&all, &owned);
    Ok(page_of(
        all,
        query,
        Vec::new(),
        facets,
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
    let ((files, files_stale), (payments, payments_stale)) = futures::try_join!(
        visible_files(client, scope, &owned),
        visible_payments(client, scope, &owned),
    )?;

    let mut invoices: Vec<DocumentRow> = files
        .iter()
        .map(row)
        .filter(|r| r.doc_type == DocType::Invoice)
        .collect();
    sort_rows(&mut invoices, Sort::DateDesc);

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

/// Checks that a file may be opened by this scope, for the view and download routes. Every
/// refusal is [`AppError::NotFound`], whatever the reason.
pub async fn authorize_file(
    client: &Client,
    scope: &Scope,
    file_id: &str,
) -> Result<VisibleFile, AppError> {
    if !plausible_id(file_id) {
        return Err(AppError::NotFound);
    }
    let file = match client.file(file_id).await {
        Ok(f) => f.value,
        Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
            return Err(AppError::NotFound)
        }
        Err(e) => return Err(upstream_error(e)),
    };
    let tenant = client.tenant_id();
    // Cheap checks first, so a foreign, tenant-level or out-of-scope file costs no order
    // lookups; the full rule runs once the owned orders are known.
    let plausible = file.file_id == file_id
        && file.order_id.is_some()
        && file.tenant_id.as_deref().is_none_or(|t| t == tenant)
        && scope.allows(doc_type(&file.file_type));
    if !plausible {
        return Err(AppError::NotFound);
    }
    let owned = owned_orders(client, scope).await?;
    if !visible(&file, &owned, tenant, scope) {
        return Err(AppError::NotFound);
    }
    Ok(VisibleFile {
        id: file.file_id.clone(),
        name: file.display_name().to_owned(),
        content_type: content_type(&file),
        order_id: file.order_id.clone().unwrap_or_default(),
        doc_type: doc_type(&file.file_type),
    })
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

/// Every file the scope may see, once each, listing the owned orders' files a few at a time.
async fn visible_files(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Result<(Vec<File>, bool), AppError> {
    if owned.orders.len() > MAX_ORDERS_LISTED {
        tracing::warn!(
            orders = owned.orders.len(),
            listed = MAX_ORDERS_LISTED,
            "only the newest orders' files are listed"
        );
    }
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
        .buffer_unordered(CONCURRENT_REQUESTS)
        .try_collect()
        .await?;
    let stale = lists.iter().any(|l| l.stale);
    let tenant = client.tenant_id();
    let mut seen = HashSet::new();
    let files = lists
        .iter()
        .flat_map(|l| l.value.iter())
        .filter(|f| visible(f, owned, tenant, scope))
        .filter(|f| seen.insert(f.file_id.clone()))
        .cloned()
        .collect::<Vec<File>>();
    Ok((files, stale))
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
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
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

/// Applies a query's filters, order and page to every visible row.
fn page_of(
    mut rows: Vec<DocumentRow>,
    mut query: DocumentQuery,
    mut notices: Vec<QueryNotice>,
    facets: DocumentFacets,
    stale: bool,
) -> DocumentList {
    let needle = query.q.as_deref().map(str::to_lowercase);
    rows.retain(|r| {
        query.doc_type.is_none_or(|t| r.doc_type == t)
            && query.order.as_deref().is_none_or(|o| r.order_id == o)
            && query.year.is_none_or(|y| r.year == Some(y))
            && needle
                .as_deref()
                .is_none_or(|n| r.name.to_lowercase().contains(n))
    });
    sort_rows(&mut rows, query.sort);

    let per_page = DocumentQuery::PER_PAGE;
    let total = rows.len();
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
    let rows = rows
        .into_iter()
        .skip(start)
        .take(per_page as usize)
        .collect();
    DocumentList {
        rows,
        total,
        page: query.page,
        page_count,
        per_page,
        query,
        notices,
        facets,
        stale,
    }
}

/// Sorts by the chosen key, then by file id, so equal keys keep one order across pages.
/// Unknown dates and sizes count as the smallest.
fn sort_rows(rows: &mut [DocumentRow], sort: Sort) {
    let by_id = |a: &DocumentRow, b: &DocumentRow| a.id.cmp(&b.id);
    match sort {
        Sort::DateDesc | Sort::DateAsc => {
            rows.sort_by(|a, b| {
                let key = a.created.cmp(&b.created);
                let key = if sort == Sort::DateDesc {
                    key.reverse()
                } else {
                    key
                };
                key.then_with(|| by_id(a, b))
            });
        }
        Sort::SizeAsc | Sort::SizeDesc => {
            rows.sort_by(|a, b| {
                let key = a.size.cmp(&b.size);
                let key = if sort == Sort::SizeDesc {
                    key.reverse()
                } else {
                    key
                };
                key.then_with(|| by_id(a, b))
            });
        }
        Sort::NameAsc | Sort::NameDesc => {
            let keys: HashMap<String, String> = rows
                .iter()
                .map(|r| (r.id.clone(), r.name.to_lowercase()))
                .collect();
            rows.sort_by(|a, b| {
                let key = keys[&a.id].cmp(&keys[&b.id]);
                let key = if sort == Sort::NameDesc {
                    key.reverse()
                } else {
                    key
                };
                key.then_with(|| by_id(a, b))
            });
        }
    }
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
            orders: ids.iter().map(|id| order(id, "cust_a")).collect(),
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

    #[test]
    fn pages_are_clamped_and_stable() {
        let list = page_of(
            rows(60),
            DocumentQuery {
                page: 7,
                ..Default::default()
            },
            Vec::new(),
            DocumentFacets::default(),
            false,
        );
        assert_eq!((list.page, list.page_count, list.rows.len()), (3, 3, 10));
        assert_eq!(list.notices[0].param, "page");
        let again = page_of(
            rows(60),
            DocumentQuery {
                page: 3,
                ..Default::default()
            },
            Vec::new(),
            DocumentFacets::default(),
            false,
        );
        assert_eq!(list.rows, again.rows);
        assert!(again.notices.is_empty());
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
