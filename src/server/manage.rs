//! What the staff screens read: customer lookup, a customer as they see themselves, the link
//! register and the audit log; and, for customers, who opened links to their documents.
//!
//! Every function here trusts its caller to have checked the principal (the server functions
//! in `api::manage` do, through [`crate::server::links::Staff`]).

use flexportal::model::{Customer, CustomerStatus};
use flexportal::Client;

use crate::error::AppError;
use crate::model::{
    AccessLog, AccessOpen, AuditPage, AuditQuery, AuditRow, CustomerHit, CustomerSearch,
    DocumentQuery, LinkDetail, LinkQuery, LinkRegister, QueryNotice, ShareFormView,
    StaffCustomerView,
};
use crate::server::auth::{iso_time, normalize_email};
use crate::server::documents::{self, plausible_id, upstream_error, Scope};
use crate::server::links::{self, DEFAULT_DAYS, MAX_DAYS};
use crate::server::state::AppState;
use crate::server::store::{AuditEvent, AuditFilter, LinkFilter};

/// Rows per page of the register and the audit log.
pub const PER_PAGE: u32 = 50;
/// Events listed on a link's page.
const LINK_EVENTS: i64 = 100;
/// The longest lookup text.
const MAX_QUERY: usize = 254;

/// Finds customers by email (as FlexPortal matches it, compared here without regard to case),
/// by order id or by customer id.
pub async fn find_customers(client: &Client, query: &str) -> Result<CustomerSearch, AppError> {
    let query: String = query.trim().chars().take(MAX_QUERY).collect();
    let mut search = CustomerSearch {
        query: query.clone(),
        hits: Vec::new(),
        by_order: false,
    };
    if query.is_empty() {
        return Ok(search);
    }
    if let Some(email) = normalize_email(&query) {
        // FlexPortal matches addresses exactly. Most are stored in lower case, so a miss is
        // tried once more that way; matches are then compared here without regard to case.
        let mut spellings = vec![email.clone()];
        if email.to_lowercase() != email {
            spellings.push(email.to_lowercase());
        }
        for spelling in spellings {
            let found = client
                .customers_by_email(&spelling)
                .await
                .map_err(upstream_error)?;
            search.hits = found
                .value
                .iter()
                .filter(|c| c.email.trim().eq_ignore_ascii_case(&email))
                .filter(|c| ours(client, c))
                .map(hit)
                .collect();
            if !search.hits.is_empty() {
                break;
            }
        }
        return Ok(search);
    }
    if !plausible_id(&query) {
        return Ok(search);
    }
    let (order, customer) = futures::join!(client.order(&query), client.customer(&query));
    match order {
        Ok(order)
            if order
                .value
                .tenant_id
                .as_deref()
                .is_none_or(|t| t == client.tenant_id()) =>
        {
            match customer_hit(client, &order.value.customer.customer_id).await {
                Ok(hit) => {
                    search.by_order = true;
                    search.hits.push(hit);
                }
                // An order whose customer FlexPortal does not know is no match.
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {}
        Err(e) => return Err(upstream_error(e)),
    }
    match customer {
        Ok(customer) if ours(client, &customer.value) => {
            if !search
                .hits
                .iter()
                .any(|h| h.id == customer.value.customer_id)
            {
                search.hits.push(hit(&customer.value));
            }
        }
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {}
        Err(e) => return Err(upstream_error(e)),
    }
    Ok(search)
}

/// One customer, as the staff screens name them; not found unless FlexPortal knows them in
/// our tenant.
pub async fn customer_hit(client: &Client, customer_id: &str) -> Result<CustomerHit, AppError> {
    if !plausible_id(customer_id) {
        return Err(AppError::NotFound);
    }
    match client.customer(customer_id).await {
        Ok(c) if c.value.customer_id == customer_id && ours(client, &c.value) => Ok(hit(&c.value)),
        Ok(_) | Err(flexportal::Error::NotFound | flexportal::Error::Rejected { .. }) => {
            Err(AppError::NotFound)
        }
        Err(e) => Err(upstream_error(e)),
    }
}

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
        .map_err(internal)?;
    Ok(StaffCustomerView {
        customer,
        overview,
        documents,
        links: links.iter().map(|l| links::view(l, now)).collect(),
    })
}

/// What the "new portal link" form needs: the customer and their orders.
pub async fn share_form(state: &AppState, customer_id: &str) -> Result<ShareFormView, AppError> {
    let client = &state.upstream.client;
    let customer = customer_hit(client, customer_id).await?;
    let owned = documents::owned_orders(client, &Scope::customer(customer.id.clone())).await?;
    Ok(ShareFormView {
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
        .map_err(internal)?;
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
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    let filter = AuditFilter {
        link_id: Some(link.id.clone()),
        ..AuditFilter::default()
    };
    let events = state
        .store
        .audit_events(&filter, LINK_EVENTS, 0)
        .await
        .map_err(internal)?;
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
        .map_err(internal)?;
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

/// "Access to your documents": every link to the customer's documents, and each open.
pub async fn access_log(state: &AppState, customer_id: &str) -> Result<AccessLog, AppError> {
    let now = state.clock.now();
    let filter = LinkFilter {
        customer_id: Some(customer_id.to_owned()),
        ..LinkFilter::default()
    };
    let (links, _) = state
        .store
        .links(&filter, now, 200, 0)
        .await
        .map_err(internal)?;
    let opened = AuditFilter {
        customer_id: Some(customer_id.to_owned()),
        kinds: vec!["link_opened".to_owned()],
        ..AuditFilter::default()
    };
    let events = state
        .store
        .audit_events(&opened, 200, 0)
        .await
        .map_err(internal)?;
    let opens = events
        .iter()
        .map(|event| {
            let link = links.iter().find(|l| Some(&l.id) == event.link_id.as_ref());
            AccessOpen {
                at: iso_time(event.at),
                link_label: link.map(|l| l.label.clone()).unwrap_or_default(),
                shared_by: link.map(|l| l.created_by_name.clone()).unwrap_or_default(),
                ip: event.ip.clone(),
            }
        })
        .collect();
    Ok(AccessLog {
        links: links.iter().map(|l| links::view(l, now)).collect(),
        opens,
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

fn hit(customer: &Customer) -> CustomerHit {
    let name = format!("{} {}", customer.first_name, customer.last_name)
        .trim()
        .to_owned();
    CustomerHit {
        id: customer.customer_id.clone(),
        name: if name.is_empty() {
            customer.email.clone()
        } else {
            name
        },
        email: customer.email.clone(),
        company: customer.company.clone(),
        active: customer.status == CustomerStatus::Active,
    }
}

/// Whether FlexPortal's customer is in our tenant (when it says).
fn ours(client: &Client, customer: &Customer) -> bool {
    customer
        .tenant_id
        .as_deref()
        .is_none_or(|t| t == client.tenant_id())
}

fn internal(e: sqlx::Error) -> AppError {
    tracing::error!(error = %e, "database error");
    AppError::Internal {
        request_id: String::new(),
    }
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
