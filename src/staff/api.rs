//! What the staff screens read. Every function first checks that a staff member calls; for
//! anyone else it does not exist (404).

use leptos::prelude::*;

use crate::base::error::AppError;
use crate::staff::model::{
    AuditPage, CustomerSearch, LinkDetail, LinkRegister, NewLinkView, StaffCustomerView,
};

#[cfg(feature = "ssr")]
use crate::base::server::calls as ssr;

/// `/manage?q=`: customers by email, order id or customer id.
#[server(endpoint = "staff_find_customers")]
pub async fn staff_find_customers(q: String) -> Result<CustomerSearch, AppError> {
    let (state, _) = ssr::staff()?;
    ssr::fill(crate::staff::server::find_customers(&state.upstream.client, &q).await)
}

/// `/manage/customers/{id}`: the customer as they see themselves, and their links. `query`
/// is the page's query string, read like `/documents`' own.
#[server(endpoint = "staff_customer")]
pub async fn staff_customer(
    customer_id: String,
    query: String,
) -> Result<StaffCustomerView, AppError> {
    use crate::documents::model::DocumentQuery;
    let (state, _) = ssr::staff()?;
    let (parsed, notices) = DocumentQuery::from_query_pairs(ssr::query_pairs(&query));
    let mut view =
        ssr::fill(crate::staff::server::customer_view(&state, &customer_id, parsed).await)?;
    view.documents.notices.splice(0..0, notices);
    Ok(view)
}

/// `/manage/customers/{id}/share`: the customer and their orders, for the new-link form.
#[server(endpoint = "staff_share_form")]
pub async fn staff_new_link(customer_id: String) -> Result<NewLinkView, AppError> {
    let (state, _) = ssr::staff()?;
    ssr::fill(crate::staff::server::new_link_form(&state, &customer_id).await)
}

/// `/manage/links/{id}`: one link and its events. Right after creation, and only then, the
/// answer holds the link's address.
#[server(endpoint = "staff_link")]
pub async fn staff_link(link_id: String) -> Result<LinkDetail, AppError> {
    let (state, _) = ssr::staff()?;
    let headers = use_context::<http::request::Parts>()
        .map(|parts| parts.headers)
        .unwrap_or_default();
    let created = crate::staff::server::actions::take_created_url(&state, &headers, &link_id);
    let url = created.map(|(url, clear)| {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.append_header(http::header::SET_COOKIE, clear);
        }
        url
    });
    ssr::fill(crate::staff::server::link_detail(&state, &link_id, url).await)
}

/// `/manage/links?customer=&state=&page=`: the link register.
#[server(endpoint = "staff_links")]
pub async fn staff_links(query: String) -> Result<LinkRegister, AppError> {
    use crate::staff::model::LinkQuery;
    let (state, _) = ssr::staff()?;
    let parsed = LinkQuery::from_query_pairs(ssr::query_pairs(&query));
    ssr::fill(crate::staff::server::register(&state, parsed).await)
}

/// `/manage/audit?customer=&link=&staff=&kind=&from=&to=&page=`: the audit log.
#[server(endpoint = "staff_audit")]
pub async fn staff_audit(query: String) -> Result<AuditPage, AppError> {
    use crate::staff::model::AuditQuery;
    let (state, _) = ssr::staff()?;
    let parsed = AuditQuery::from_query_pairs(ssr::query_pairs(&query));
    ssr::fill(crate::staff::server::audit_log(&state, parsed).await)
}
