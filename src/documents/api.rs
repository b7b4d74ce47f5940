//! What the customer pages read. Every function derives the scope from the session on the
//! server: the arguments only ever narrow what that scope allows.

use leptos::prelude::*;

use crate::base::error::AppError;
use crate::documents::model::{
    ArchiveList, DocumentList, InvoiceHistory, OrderDetail, OrderList, Overview,
};

#[cfg(feature = "ssr")]
use crate::base::server::calls as ssr;

/// `/`: the signed-in customer's orders, latest documents and counts.
#[server(endpoint = "get_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    let (state, scope) = ssr::caller()?;
    ssr::fill(crate::documents::server::overview(&ssr::upstream(&state), &scope).await)
}

/// `/documents`: `query` is the page's raw query string (`type=invoice&year=2025&page=2`),
/// read leniently: malformed values fall back to defaults and are reported, never an error.
#[server(endpoint = "list_documents")]
pub async fn list_documents(query: String) -> Result<DocumentList, AppError> {
    use crate::documents::model::DocumentQuery;
    let (state, scope) = ssr::caller()?;
    let (parsed, mut notices) = DocumentQuery::from_query_pairs(ssr::query_pairs(&query));
    let mut list = ssr::fill(
        crate::documents::server::documents(&ssr::upstream(&state), &scope, parsed).await,
    )?;
    notices.append(&mut list.notices);
    list.notices = notices;
    Ok(list)
}

/// `/orders?status=&year=&page=`: `query` is the page's raw query string, read leniently.
#[server(endpoint = "list_orders")]
pub async fn list_orders(query: String) -> Result<OrderList, AppError> {
    use crate::documents::model::OrderQuery;
    let (state, scope) = ssr::caller()?;
    let (parsed, notices) = OrderQuery::from_query_pairs(ssr::query_pairs(&query));
    ssr::fill(
        crate::documents::server::orders(&ssr::upstream(&state), &scope, parsed, notices).await,
    )
}

/// `/orders/{id}`: one of the customer's orders; anyone else's is not found.
#[server(endpoint = "get_order")]
pub async fn get_order(order_id: String) -> Result<OrderDetail, AppError> {
    let (state, scope) = ssr::caller()?;
    ssr::fill(
        crate::documents::server::order_detail(&ssr::upstream(&state), &scope, &order_id).await,
    )
}

/// `/invoices?year=&page=`: invoice documents and billing payments of one year, by month,
/// a page of months at a time.
#[server(endpoint = "get_invoices")]
pub async fn get_invoices(
    year: Option<i32>,
    page: Option<u32>,
) -> Result<InvoiceHistory, AppError> {
    let (state, scope) = ssr::caller()?;
    let page = page.unwrap_or(1);
    ssr::fill(crate::documents::server::invoices(&ssr::upstream(&state), &scope, year, page).await)
}

/// `/archives` (and `/manage/archives`): the caller's archives made in the background, with
/// their progress. A customer's, a link session's or a staff member's own.
#[server(endpoint = "list_archives")]
pub async fn list_archives() -> Result<ArchiveList, AppError> {
    use crate::base::server::principal::{current_principal, request_extension, Staff};
    let principal = current_principal();
    let state = match Staff::of(principal.as_ref()) {
        Some(_) => ssr::staff()?.0,
        None => ssr::caller()?.0,
    };
    let principal = principal.ok_or(AppError::Unauthorized)?;
    let session = request_extension::<tower_sessions::Session>();
    crate::documents::server::background::list(&state, &principal, session.as_ref())
        .await
        .ok_or(AppError::Unavailable)
}
