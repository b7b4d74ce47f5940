//! The views the customer pages show: the overview, the document list, an order, the
//! invoices. Each starts from the scope's owned orders ([`super::ownership`]) and shows only
//! what is visible to the scope.
//!
//! Upstream calls per page view: one customer, one order list, one file list per owned order.
//! The client caches and coalesces them, so a second view within the cache's lifetime makes
//! none.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};

use flexportal::model::{File, OrderStatus, Payment};
use flexportal::{Client, Fetched, FilesHint, Priority};
use futures::stream::{self, StreamExt, TryStreamExt};

use super::derived::{AnswerId, Derived, Held};
use super::index::{build_index, page_of, sort_rows, DocumentIndex};
use super::months::{history_page, paired_invoice, InvoiceYear};
use super::orders::{recent_and_open, summaries};
use super::ownership::{owned_orders, visible, OwnedOrders, CONCURRENT_REQUESTS};
use super::rows::{
    dedup_rows, iso_timestamp, money, payment_row, payment_sort_key, payment_year, row,
};
use super::upstream::{age_of, plausible_id, upstream_error};
use crate::base::error::AppError;
use crate::base::server::principal::Scope;
use crate::base::who::DocType;
use crate::documents::model::{
    DataAge, DocumentGroup, DocumentList, DocumentQuery, DocumentRow, InvoiceHistory, OrderDetail,
    OrderLine, Overview, Sort,
};

/// Most orders whose files one view lists. The business demo customer has 44; beyond a couple
/// of hundred the tenant's per-minute budget could not serve a cold view anyway.
pub(super) const MAX_ORDERS_LISTED: usize = 200;

/// Documents on the overview.
const OVERVIEW_LATEST: usize = 5;

/// The home page: orders, the newest documents and how many there are of each type.
pub async fn overview(client: &Client, scope: &Scope) -> Result<Overview, AppError> {
    let owned = owned_orders(client, scope).await?;
    let (index, files_age) = visible_documents(client, scope, &owned).await?;
    let summaries = summaries(client, scope, &owned);
    Ok(Overview {
        orders: recent_and_open(&summaries),
        order_count: summaries.len(),
        // The index is newest first already.
        latest: index.rows.iter().take(OVERVIEW_LATEST).cloned().collect(),
        type_counts: index.facets.types.clone(),
        total_documents: index.rows.len(),
        age: owned.age.clone().and(files_age),
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
    let (index, files_age) = visible_documents(client, scope, &owned).await?;
    Ok(page_of(&index, query, Vec::new(), owned.age.and(files_age)))
}

/// Fetches at the lowest priority what a customer's first pages read, their orders and each
/// order's files, so that the page after a sign-in mail is usually warm. The answers stay
/// kept; nothing else is done with them. Stops at the first failure: it is only a head start.
pub async fn warm_up(client: &Client, customer_id: &str) {
    let client = client.with_priority(Priority::Background);
    let scope = Scope::customer(customer_id.to_owned());
    let warmed = async {
        let owned = owned_orders(&client, &scope).await?;
        visible_documents(&client, &scope, &owned).await?;
        Ok::<_, AppError>(owned.orders.len())
    };
    match warmed.await {
        Ok(orders) => tracing::debug!(orders, "a signing-in customer's documents are warm"),
        Err(e) => tracing::info!(error = %e, "warming a signing-in customer's documents stopped"),
    }
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
    let hint = FilesHint {
        customer_id: &scope.customer_id,
        status: &order.status,
    };
    let files = client
        .files_of_order(order_id, hint)
        .await
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
        age: owned.age.clone().and(age_of(&files)),
    })
}

/// One year's invoices and billing payments by month, one page of months; without a year,
/// the newest year that has either.
pub async fn invoices(
    client: &Client,
    scope: &Scope,
    year: Option<i32>,
    page: u32,
) -> Result<InvoiceHistory, AppError> {
    Ok(history_page(invoice_year(client, scope, year).await?, page))
}

/// One year's invoice documents and billing payments, each payment paired with its invoice
/// document where one is visible; without a year, the newest year that has either.
///
/// Payments are billing data, so a scope that excludes invoices sees none. A scope narrowed
/// to one order sees only payments of that order's rentals; a consolidated payment names no
/// rental, so it cannot be tied to one order and is left out.
pub async fn invoice_year(
    client: &Client,
    scope: &Scope,
    year: Option<i32>,
) -> Result<InvoiceYear, AppError> {
    if !scope.allows(DocType::Invoice) {
        return Ok(InvoiceYear {
            year,
            ..InvoiceYear::default()
        });
    }
    let owned = owned_orders(client, scope).await?;
    let ((index, files_age), (payments, rental_orders, payments_age)) = futures::try_join!(
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
    let payments = payments
        .into_iter()
        .map(|p| {
            let order = p.rental_id.as_ref().and_then(|r| rental_orders.get(r));
            let mut row = payment_row(p);
            row.invoice = order.and_then(|o| paired_invoice(&row, o, &invoices));
            row
        })
        .collect();
    Ok(InvoiceYear {
        year,
        years,
        invoices,
        payments,
        age: owned.age.clone().and(files_age).and(payments_age),
    })
}

/// Every document the scope may see, once each, listing the owned orders' files a few at a
/// time. The rows are derived once per set of upstream answers (see [`Derived`]); the
/// answers themselves are asked for on every call, so the client's cache decides freshness.
pub(super) async fn visible_documents(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Result<(Arc<DocumentIndex>, DataAge), AppError> {
    // Owned ids: the stream must not borrow from here. In the owned orders' order, so that
    // the same answers always give the same rows.
    let orders: Vec<(String, OrderStatus)> = owned
        .orders
        .iter()
        .take(MAX_ORDERS_LISTED)
        .map(|o| (o.order_id.clone(), o.status.clone()))
        .collect();
    let customer_id = scope.customer_id.as_str();
    let lists: Vec<Fetched<Vec<File>>> = stream::iter(orders)
        .map(|(order_id, status)| async move {
            let hint = FilesHint {
                customer_id,
                status: &status,
            };
            client
                .files_of_order(&order_id, hint)
                .await
                .map_err(upstream_error)
        })
        .buffered(CONCURRENT_REQUESTS)
        .try_collect()
        .await?;
    let age = lists
        .iter()
        .map(age_of)
        .fold(DataAge::default(), DataAge::and);
    let lists: Vec<Arc<Vec<File>>> = lists.into_iter().map(|l| l.value).collect();
    let tenant = client.tenant_id();
    let answers: Vec<AnswerId> = lists
        .iter()
        .map(|l| AnswerId::of(l, l.is_empty()))
        .collect();
    let order_ids: Vec<&str> = owned.orders.iter().map(|o| o.order_id.as_str()).collect();
    if let Some(index) = INDEXES.find(tenant, scope, &order_ids, &answers) {
        return Ok((index, age));
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
    Ok((index, age))
}

/// A business customer has about a thousand documents; a row is a few hundred bytes.
static INDEXES: LazyLock<Derived<DocumentIndex>> = LazyLock::new(|| Derived::new(200_000, 4_096));

/// The scope's billing payments (the customer's own, and for a one-order scope only those of
/// that order's rentals), and the order of each of the customer's rentals, which pairs a
/// payment with its invoice document.
async fn visible_payments(
    client: &Client,
    scope: &Scope,
    owned: &OwnedOrders,
) -> Result<(Vec<Payment>, HashMap<String, String>, DataAge), AppError> {
    let payments = client
        .payments_of_customer(&scope.customer_id)
        .await
        .map_err(upstream_error)?;
    let mut age = age_of(&payments);
    let mine: Vec<&Payment> = payments
        .value
        .iter()
        .filter(|p| p.customer_id == scope.customer_id)
        .collect();
    if mine.is_empty() {
        return Ok((Vec::new(), HashMap::new(), age));
    }
    let rentals = client
        .rentals_of_customer(&scope.customer_id)
        .await
        .map_err(upstream_error)?;
    age = age.and(age_of(&rentals));
    // Only rentals of owned orders: a rental naming someone else's order pairs with nothing.
    let rental_orders: HashMap<String, String> = rentals
        .value
        .iter()
        .filter(|r| r.customer_id == scope.customer_id)
        .filter_map(|r| Some((r.rental_id.clone(), r.order_id.clone()?)))
        .filter(|(_, order)| owned.contains(order))
        .collect();
    let mine = match &scope.order_id {
        None => mine.into_iter().cloned().collect(),
        Some(order_id) => mine
            .into_iter()
            .filter(|p| {
                p.rental_id
                    .as_ref()
                    .and_then(|r| rental_orders.get(r))
                    .is_some_and(|o| o == order_id)
            })
            .cloned()
            .collect(),
    };
    Ok((mine, rental_orders, age))
}
