//! A staff member's exports of a customer's documents, from the customer's screen: the same
//! archives and lists the customer gets (`/manage/customers/{id}/documents.zip` and so on),
//! with the customer's scope, under the staff member's name in the audit log. A background
//! archive is the staff member's own, listed on `/manage/archives` and announced to them.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::customers::customer_hit;
use crate::base::error::AppError;
use crate::base::server::answers::{not_found, unavailable};
use crate::base::server::client_ip::ClientIp;
use crate::base::server::locale::request_locale;
use crate::base::server::principal::Staff;
use crate::base::server::state::AppState;
use crate::documents::server::delivery::Exporter;
use crate::documents::server::exports::{self, Later};
use crate::documents::server::lists;

/// `GET /manage/customers/{id}/documents.zip?<filters>`.
pub async fn documents_zip(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    headers: HeaderMap,
    Path(customer): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match exporter(&state, &staff, &customer).await {
        Ok(exporter) => {
            exports::zip_of_query(state, ip, request_locale(&headers), exporter, query).await
        }
        Err(refused) => refused,
    }
}

/// `POST /manage/customers/{id}/documents.zip`: picked files, or filters.
pub async fn selected_zip(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    headers: HeaderMap,
    Path(customer): Path<String>,
    body: Bytes,
) -> Response {
    let exporter = match exporter(&state, &staff, &customer).await {
        Ok(exporter) => exporter,
        Err(refused) => return refused,
    };
    let locale = request_locale(&headers);
    let later = Later {
        session_id: None,
        mail: Some((staff.email.clone(), locale)),
    };
    exports::zip_of_form(state, ip, locale, exporter, &body, later).await
}

/// `GET /manage/customers/{id}/documents.csv?<filters>`.
pub async fn documents_csv(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(customer): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match exporter(&state, &staff, &customer).await {
        Ok(exporter) => lists::documents_list(state, ip, exporter, query).await,
        Err(refused) => refused,
    }
}

/// `GET /manage/customers/{id}/invoices.csv?year=`.
pub async fn invoices_csv(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(customer): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match exporter(&state, &staff, &customer).await {
        Ok(exporter) => lists::payments_list(state, ip, exporter, query).await,
        Err(refused) => refused,
    }
}

/// The staff member exporting the customer `customer_id`'s documents, once FlexPortal knows
/// that customer in our tenant. Anything else is not found, like a missing id.
async fn exporter(
    state: &AppState,
    staff: &Staff,
    customer_id: &str,
) -> Result<Exporter, Response> {
    match customer_hit(&state.upstream.client, customer_id).await {
        Ok(customer) => Ok(Exporter::staff(staff.actor(), customer.id)),
        Err(AppError::NotFound | AppError::Unauthorized) => Err(not_found()),
        Err(_) => Err(unavailable()),
    }
}
