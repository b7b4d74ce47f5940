//! Lists to import, for the accountant: `GET /documents.csv?<filters>` (the documents, each
//! with the address that downloads it) and `GET /invoices.csv?year=` (a year's payments, each
//! with its invoice document). Scoped like the pages, and audited once each.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::csv::{Cell, Csv};
use super::delivery::{as_download, Exporter};
use super::exports::{filters, list_name, visible};
use super::files::audit;
use super::index::matching;
use super::views::invoice_year;
use crate::base::error::AppError;
use crate::base::server::answers::{not_found, unavailable};
use crate::base::server::calls::query_pairs;
use crate::base::server::client_ip::ClientIp;
use crate::base::server::principal::Principal;
use crate::base::server::state::AppState;

/// `GET /documents.csv?<the filters of /documents>`: the matching documents as a list, with
/// the address that downloads each (through Folio, which checks the session again).
pub async fn documents_csv(
    State(state): State<AppState>,
    ip: ClientIp,
    principal: Option<axum::Extension<Principal>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(exporter) = Exporter::of(principal.as_deref()) else {
        return not_found();
    };
    documents_list(state, ip, exporter, query).await
}

/// The documents that `query` (the filters of `/documents`) selects, as CSV.
pub async fn documents_list(
    state: AppState,
    ClientIp(ip): ClientIp,
    exporter: Exporter,
    query: Option<String>,
) -> Response {
    let Exporter { who, scope, desk } = exporter;
    let query = filters(query);
    let Ok(index) = visible(&state.upstream.client, &scope).await else {
        return unavailable();
    };
    let origin = &state.config.public_url.origin;
    let mut csv = Csv::with_header(&[
        "name",
        "document_id",
        "type",
        "order",
        "date",
        "size",
        "content_type",
        "download_url",
    ]);
    let rows = matching(&index, &query);
    for &i in &rows {
        let r = &index.rows[i];
        let size = r.size.map(|s| s.to_string()).unwrap_or_default();
        let url = desk.file(origin, &r.id);
        csv.row(&[
            Cell::Text(&r.name),
            Cell::Text(&r.id),
            Cell::Text(r.doc_type.as_str()),
            Cell::Text(&r.order_id),
            Cell::Text(r.created.as_deref().and_then(|c| c.get(..10)).unwrap_or("")),
            Cell::Number(&size),
            Cell::Text(&r.content_type),
            Cell::Text(&url),
        ]);
    }
    let name = list_name(&desk, query);
    let subject = format!("{name}: {} documents", rows.len());
    audit(&state, "documents_exported", who, &scope, subject, ip).await;
    csv_response(csv, &name)
}

/// `GET /invoices.csv?year=`: the year's billing payments, each with its invoice document.
pub async fn invoices_csv(
    State(state): State<AppState>,
    ip: ClientIp,
    principal: Option<axum::Extension<Principal>>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(exporter) = Exporter::of(principal.as_deref()) else {
        return not_found();
    };
    payments_list(state, ip, exporter, query).await
}

/// The billing payments of the year in `query` (`year=`; the newest without), as CSV.
pub async fn payments_list(
    state: AppState,
    ClientIp(ip): ClientIp,
    exporter: Exporter,
    query: Option<String>,
) -> Response {
    let Exporter { who, scope, desk } = exporter;
    let year = query_pairs(query.as_deref().unwrap_or(""))
        .into_iter()
        .rfind(|(k, _)| k == "year")
        .and_then(|(_, v)| v.trim().parse::<i32>().ok());
    let year = match invoice_year(&state.upstream.client, &scope, year).await {
        Ok(year) => year,
        Err(AppError::Unauthorized) => return not_found(),
        Err(_) => return unavailable(),
    };
    let origin = &state.config.public_url.origin;
    let mut csv = Csv::with_header(&[
        "period",
        "due_date",
        "paid_date",
        "amount",
        "currency",
        "status",
        "invoice_name",
        "invoice_document_id",
        "invoice_url",
    ]);
    for p in &year.payments {
        let (amount, currency) = p
            .amount
            .as_ref()
            .map_or(("", ""), |m| (m.amount.as_str(), m.currency.as_str()));
        let invoice = p.invoice.as_ref();
        let url = invoice
            .map(|i| desk.file(origin, &i.id))
            .unwrap_or_default();
        csv.row(&[
            Cell::Text(p.billing_period.as_deref().unwrap_or("")),
            Cell::Text(p.due_date.as_deref().unwrap_or("")),
            Cell::Text(p.paid_date.as_deref().unwrap_or("")),
            Cell::Number(amount),
            Cell::Text(currency),
            Cell::Text(&p.status),
            Cell::Text(invoice.map_or("", |i| i.name.as_str())),
            Cell::Text(invoice.map_or("", |i| i.id.as_str())),
            Cell::Text(&url),
        ]);
    }
    let name = match year.year {
        Some(y) => format!("{}payments-{y}.csv", desk.name_prefix()),
        None => format!("{}payments.csv", desk.name_prefix()),
    };
    let subject = format!("{name}: {} payments", year.payments.len());
    audit(&state, "payments_exported", who, &scope, subject, ip).await;
    csv_response(csv, &name)
}

fn csv_response(csv: Csv, name: &str) -> Response {
    let mut response = (StatusCode::OK, csv.into_bytes()).into_response();
    as_download(
        &mut response,
        "text/csv; charset=utf-8; header=present",
        name,
    );
    response
}
