//! What the staff screens read: a customer as they see themselves, the form for a new link, the
//! link register, one link and the audit log.
//!
//! Every function here trusts its caller to have checked the principal (the server functions
//! in `staff::api` do, through [`crate::base::server::principal::Staff`]).

use super::actions::{DEFAULT_DAYS, MAX_DAYS};
use super::customers::customer_hit;
use crate::base::error::AppError;
use crate::base::server::answers::internal;
use crate::base::server::audit::{AuditEvent, AuditFilter};
use crate::base::server::clock::iso_time;
use crate::base::server::principal::Scope;
use crate::base::server::state::AppState;
use crate::documents::model::{DocumentQuery, QueryNotice};
use crate::documents::server::{self as documents, plausible_id};
use crate::links::server as links;
use crate::links::server::store::LinkFilter;
use crate::staff::model::{
    AuditPage, AuditQuery, AuditRow, LinkDetail, LinkQuery, LinkRegister, NewLinkView,
    StaffCustomerView,
};

/// Rows per page of the register and the audit log.
pub const PER_PAGE: u32 = 50;

/// Events listed on a link's page.
const LINK_EVENTS: i64 = 100;

/// The staff screen of a customer: the same overview and document list the customer sees,
/// through the same functions and the same scope, and the links to their documents.
pub async fn customer_view(
    state: &AppState,
    customer_id: &str,
    query: DocumentQuery,
) -> Result<StaffCustomerView, AppError> {
    let client = &state.upstream.client;
    let customer = customer_hit(client, customer_id).await?;
    let scope = Scope::customer(customer.id.clone());
    let (overview, documents) = futures::try_join!(
        documents::overview(client, &scope),
        documents::documents(client, &scope, query),
    )?;
    let filter = LinkFilter {
        customer_id: Some(customer.id.clone()),
        ..LinkFilter::default()
    };
    let now = state.clock.now();
    let (links, _) = state
        .store
        .links(&filter, now, i64::from(PER_PAGE), 0)
        .await
        .map_err(|e| internal(e, "database error"))?;
    Ok(StaffCustomerView {
        customer,
        overview,
        documents,
        links: links.iter().map(|l| links::view(l, now)).collect(),
    })
}

/// What the "new portal link" form needs: the customer and their orders.
pub async fn new_link_form(state: &AppState, customer_id: &str) -> Result<NewLinkView, AppError> {
    let client = &state.upstream.client;
    let customer = customer_hit(client, customer_id).await?;
    let owned = documents::owned_orders(client, &Scope::customer(customer.id.clone())).await?;
    Ok(NewLinkView {
        customer,
        orders: owned.orders.iter().map(documents::order_summary).collect(),
        default_days: DEFAULT_DAYS,
        max_days: MAX_DAYS,
    })
}

/// The link register, filtered by customer and state.
pub async fn register(state: &AppState, query: LinkQuery) -> Result<LinkRegister, AppError> {
    let now = state.clock.now();
    let page = query.page.max(1);
    let filter = LinkFilter {
        customer_id: query.customer.clone(),
        state: query.state,
        created_by: None,
    };
    let offset = i64::from(page - 1) * i64::from(PER_PAGE);
    let (links, total) = state
        .store
        .links(&filter, now, i64::from(PER_PAGE), offset)
        .await
        .map_err(|e| internal(e, "database error"))?;
    let page_count = u32::try_from((total + i64::from(PER_PAGE) - 1) / i64::from(PER_PAGE))
        .unwrap_or(u32::MAX)
        .max(1);
    Ok(LinkRegister {
        links: links.iter().map(|l| links::view(l, now)).collect(),
        total,
        page,
        page_count,
        query: LinkQuery { page, ..query },
    })
}

/// One link with its events; `url` is the address shown once after creation.
pub async fn link_detail(
    state: &AppState,
    link_id: &str,
    url: Option<String>,
) -> Result<LinkDetail, AppError> {
    if !plausible_id(link_id) {
        return Err(AppError::NotFound);
    }
    let link = state
        .store
        .link_by_id(link_id)
        .await
        .map_err(|e| internal(e, "database error"))?
        .ok_or(AppError::NotFound)?;
    let filter = AuditFilter {
        link_id: Some(link.id.clone()),
        ..AuditFilter::default()
    };
    let events = state
        .store
        .audit_events(&filter, LINK_EVENTS, 0)
        .await
        .map_err(|e| internal(e, "database error"))?;
    Ok(LinkDetail {
        sent_to: url.as_ref().and(link.recipient.clone()),
        link: links::view(&link, state.clock.now()),
        url,
        events: events.iter().map(audit_row).collect(),
        max_days: MAX_DAYS,
    })
}

/// The audit log, filtered. Unreadable dates are dropped and reported, never an error.
pub async fn audit_log(state: &AppState, mut query: AuditQuery) -> Result<AuditPage, AppError> {
    let mut notices = Vec::new();
    let mut date = |name: &str, value: &mut Option<String>, end_of_day: bool| {
        let text = value.as_deref()?.trim().to_owned();
        match day_start(&text) {
            Some(start) => Some(if end_of_day { start + 86_400 } else { start }),
            None => {
                notices.push(QueryNotice {
                    param: name.to_owned(),
                    value: text.chars().take(40).collect(),
                });
                *value = None;
                None
            }
        }
    };
    let from = date("from", &mut query.from, false);
    let until = date("to", &mut query.to, true);
    let page = query.page.max(1);
    let filter = AuditFilter {
        customer_id: query.customer.clone(),
        link_id: query.link.clone(),
        actor: query
            .staff
            .as_ref()
            .map(|s| format!("staff:{}", s.to_lowercase())),
        kinds: query.kind.iter().cloned().collect(),
        from,
        until,
    };
    let offset = i64::from(page - 1) * i64::from(PER_PAGE);
    // One more than a page tells whether another page follows.
    let mut events = state
        .store
        .audit_events(&filter, i64::from(PER_PAGE) + 1, offset)
        .await
        .map_err(|e| internal(e, "database error"))?;
    let has_more = events.len() > PER_PAGE as usize;
    events.truncate(PER_PAGE as usize);
    Ok(AuditPage {
        rows: events.iter().map(audit_row).collect(),
        page,
        has_more,
        query: AuditQuery { page, ..query },
        notices,
    })
}

fn audit_row(event: &AuditEvent) -> AuditRow {
    AuditRow {
        at: iso_time(event.at),
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        customer_id: event.customer_id.clone(),
        link_id: event.link_id.clone(),
        subject: event.subject.clone(),
        ip: event.ip.clone(),
    }
}

/// Unix seconds at the start (UTC) of a `YYYY-MM-DD` day.
fn day_start(text: &str) -> Option<i64> {
    let mut parts = text.splitn(3, '-');
    let year: i32 = parts.next()?.parse().ok()?;
    let month: u8 = parts.next()?.parse().ok()?;
    let day: u8 = parts.next()?.parse().ok()?;
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_read_as_utc_midnight() {
        assert_eq!(day_start("1970-01-02"), Some(86_400));
        assert_eq!(day_start("2026-02-30"), None);
        assert_eq!(day_start("2026-13-01"), None);
        assert_eq!(day_start("yesterday"), None);
    }
}
