//! What the customer pages read. Every function derives the scope from the session on the
//! server: the arguments only ever narrow what that scope allows.

use leptos::prelude::*;

use crate::base::error::AppError;
use crate::documents::model::{DocumentList, InvoiceHistory, OrderDetail, Overview};

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

/// `/orders/{id}`: one of the customer's orders; anyone else's is not found.
#[server(endpoint = "get_order")]
pub async fn get_order(order_id: String) -> Result<OrderDetail, AppError> {
    let (state, scope) = ssr::caller()?;
    ssr::fill(
        crate::documents::server::order_detail(&ssr::upstream(&state), &scope, &order_id).await,
    )
}

/// `/invoices?year=`: invoice documents and billing payments of one year.
#[server(endpoint = "get_invoices")]
pub async fn get_invoices(year: Option<i32>) -> Result<InvoiceHistory, AppError> {
    let (state, scope) = ssr::caller()?;
    ssr::fill(crate::documents::server::invoices(&ssr::upstream(&state), &scope, year).await)
}
